//! After a move: where the guest runs, stated and checked, and what a
//! failed move left on the destination removed.

use std::time::Duration;

use virt::sys;

use crate::libvirt::{Fleet, HostConnection};

use super::MovePlan;
use super::storage::remove_volumes;

/// Where a guest is, on the hosts a move touched.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Placement {
    /// Hosts where the guest is active (running or paused).
    pub active_on: Vec<String>,
    /// Hosts where it is defined but shut off.
    pub inactive_on: Vec<String>,
    /// Hosts that could not be asked.
    pub unknown: Vec<String>,
}

impl Placement {
    /// The one host the guest is active on, if exactly one.
    pub fn single(&self) -> Option<&str> {
        match (self.active_on.as_slice(), self.unknown.is_empty()) {
            ([host], true) => Some(host),
            _ => None,
        }
    }

    /// A sentence for the user.
    pub fn describe(&self, guest: &str) -> String {
        let mut s = match self.active_on.as_slice() {
            [] => format!("{guest} is not running on any host checked"),
            [host] => format!("{guest} is running on {host}"),
            many => format!(
                "{guest} is active on {} at once: act now",
                many.join(" and ")
            ),
        };
        if !self.inactive_on.is_empty() {
            s.push_str(&format!(
                "; defined but shut off on {}",
                self.inactive_on.join(" and ")
            ));
        }
        if !self.unknown.is_empty() {
            s.push_str(&format!(
                " ({} could not be checked)",
                self.unknown.join(", ")
            ));
        }
        s
    }
}

/// A completed move.
#[derive(Debug, Clone)]
pub struct Moved {
    pub guest: String,
    pub source: String,
    pub dest: String,
    pub elapsed: Duration,
    /// The guest's pause at switch-over, when libvirt reports it.
    pub downtime_ms: Option<u64>,
}

/// How long a host that cannot be asked (its daemon restarting, its link
/// down) is retried before it is reported as unknown.
const SETTLE: Duration = Duration::from_secs(30);

/// Asks `hosts` where `guest` is, retrying hosts that do not answer for up
/// to [`SETTLE`].
pub async fn placement(fleet: &Fleet, guest: &str, hosts: &[&str]) -> Placement {
    let deadline = tokio::time::Instant::now() + SETTLE;
    loop {
        let p = placement_once(fleet, guest, hosts).await;
        if p.unknown.is_empty() || tokio::time::Instant::now() >= deadline {
            return p;
        }
        tracing::debug!(guest, unknown = ?p.unknown, "hosts did not answer; asking again");
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

async fn placement_once(fleet: &Fleet, guest: &str, hosts: &[&str]) -> Placement {
    let mut p = Placement::default();
    for host in hosts {
        let name = guest.to_owned();
        let state = match fleet.connect(host).await {
            Ok(conn) => conn.run(move |c| domain_state(c, &name)).await,
            Err(_) => None,
        };
        match state {
            Some(Some(true)) => p.active_on.push(host.to_string()),
            Some(Some(false)) => p.inactive_on.push(host.to_string()),
            Some(None) => {}
            None => p.unknown.push(host.to_string()),
        }
    }
    p
}

/// `Some(Some(active))` if defined, `Some(None)` if not, `None` if unknown.
fn domain_state(conn: &HostConnection, guest: &str) -> Option<Option<bool>> {
    match crate::libvirt::lookup(conn, guest) {
        Ok(Some(d)) => d.is_active().ok().map(Some),
        Ok(None) => Some(None),
        Err(_) => None,
    }
}

/// After a failed move: removes an inactive definition the move left on the
/// destination (the plan checked there was none before) and partial disk
/// copies, then reports where the guest is.
pub async fn clean_up_failure(fleet: &Fleet, plan: &MovePlan) -> Placement {
    settle_job(fleet, plan).await;
    let names = fleet.names();
    let hosts: Vec<&str> = names.iter().map(String::as_str).collect();
    let p = placement(fleet, &plan.guest, &hosts).await;
    let dest_has_leftover = p.inactive_on.contains(&plan.dest);
    let dest_active = p.active_on.contains(&plan.dest);
    if !dest_active && (dest_has_leftover || !plan.copy.is_empty()) {
        if let Ok(conn) = fleet.connect(&plan.dest).await {
            let (guest, copy) = (plan.guest.clone(), plan.copy.clone());
            let source_active = p.active_on.contains(&plan.source);
            conn.run(move |c| {
                if dest_has_leftover {
                    undefine_leftover(c, &guest);
                }
                if source_active {
                    remove_volumes(c, &copy, "partial disk copy");
                }
            })
            .await;
        }
        return placement(fleet, &plan.guest, &hosts).await;
    }
    p
}

/// How long a failed move waits for a job still running on the guest
/// (another vmctl's move) to end before it reports where the guest is.
const JOB_WAIT: Duration = Duration::from_secs(300);

/// Waits until no job runs on the guest on its source host, so that the
/// placement reported is not a snapshot of someone else's move half-way.
async fn settle_job(fleet: &Fleet, plan: &MovePlan) {
    let deadline = tokio::time::Instant::now() + JOB_WAIT;
    while tokio::time::Instant::now() < deadline {
        let Ok(conn) = fleet.connect(&plan.source).await else {
            return;
        };
        let guest = plan.guest.clone();
        let busy = conn
            .run(move |c| {
                let d = crate::libvirt::lookup(c, &guest).ok()??;
                let job = super::ffi::job_progress(&d, 0).ok()?;
                Some(job.kind != sys::VIR_DOMAIN_JOB_NONE as i32)
            })
            .await;
        if busy != Some(true) {
            return;
        }
        tracing::info!(guest = %plan.guest, "another job runs on the guest; waiting for it to end");
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

fn undefine_leftover(conn: &HostConnection, guest: &str) {
    let Ok(Some(d)) = crate::libvirt::lookup(conn, guest) else {
        return;
    };
    let flags = sys::VIR_DOMAIN_UNDEFINE_NVRAM | sys::VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA;
    match d.undefine_flags(flags) {
        Ok(()) => tracing::info!(
            host = conn.host(),
            guest,
            "removed the inactive leftover of the failed move"
        ),
        Err(e) => {
            tracing::warn!(host = conn.host(), guest, error = %e.message(), "could not remove leftover definition")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_needs_exactly_one_active_and_no_unknown() {
        let mut p = Placement {
            active_on: vec!["h1".into()],
            ..Placement::default()
        };
        assert_eq!(p.single(), Some("h1"));
        p.unknown.push("h2".into());
        assert_eq!(p.single(), None);
        assert!(p.describe("g").contains("h2 could not be checked"));
    }

    #[test]
    fn two_active_copies_are_called_out() {
        let p = Placement {
            active_on: vec!["h1".into(), "h2".into()],
            ..Placement::default()
        };
        assert!(p.describe("g").contains("at once"));
    }
}
