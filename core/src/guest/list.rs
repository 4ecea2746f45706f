//! Guests across the fleet: what `vmctl list` shows.

use serde::Serialize;
use virt::sys;

use super::stats::{GuestStats, guest_stats};
use super::xml::DomainFacts;
use crate::libvirt::{Fleet, HostConnection, HostOutcome, LibvirtError};

/// One guest on one host.
#[derive(Debug, Clone, Serialize)]
pub struct GuestSummary {
    /// The host it is defined (or running) on.
    pub host: String,
    /// Its state: running, paused, shut off, ...
    pub state: String,
    /// Defined persistently (not only running).
    pub persistent: bool,
    /// The same name exists on another host too.
    pub duplicate: bool,
    /// Sizes, vCPUs and disks, from libvirt's statistics: memory now is
    /// what the balloon gives (all of it for a guest without a balloon),
    /// and the disks include a CD-ROM's inserted image.
    #[serde(flatten)]
    pub facts: DomainFacts,
}

/// The guests of each host asked, or why a host did not answer.
#[derive(Debug)]
pub struct FleetListing {
    /// Per host, in inventory order.
    pub hosts: Vec<HostOutcome<Vec<GuestSummary>>>,
}

impl FleetListing {
    /// Every guest found, in host order, duplicates flagged.
    pub fn guests(&self) -> Vec<&GuestSummary> {
        self.hosts
            .iter()
            .filter_map(|h| h.result.as_ref().ok())
            .flatten()
            .collect()
    }
}

/// Lists guests on `hosts` (all when empty); inactive ones too when `all`.
pub async fn list(fleet: &Fleet, hosts: &[String], all: bool) -> FleetListing {
    let names = if hosts.is_empty() {
        fleet.names()
    } else {
        hosts.to_vec()
    };
    let mut outcomes = fleet.query(&names, move |c| host_guests(c, all)).await;
    flag_duplicates(&mut outcomes);
    FleetListing { hosts: outcomes }
}

/// Every guest on one host (running only unless `all`), sorted by name.
///
/// Two round trips whatever the number of guests: the statistics of the
/// persistent guests, then of the transient ones (which libvirt's
/// statistics otherwise do not tell apart).
pub(crate) fn host_guests(
    conn: &HostConnection,
    all: bool,
) -> Result<Vec<GuestSummary>, LibvirtError> {
    let active = if all {
        0
    } else {
        sys::VIR_CONNECT_GET_ALL_DOMAINS_STATS_ACTIVE
    };
    let persistent = guest_stats(
        conn.raw(),
        active | sys::VIR_CONNECT_GET_ALL_DOMAINS_STATS_PERSISTENT,
    )?;
    let transient = guest_stats(
        conn.raw(),
        active | sys::VIR_CONNECT_GET_ALL_DOMAINS_STATS_TRANSIENT,
    )?;
    let host = conn.host();
    let mut guests: Vec<GuestSummary> = persistent
        .into_iter()
        .map(|g| summarize(host, g, true))
        .chain(transient.into_iter().map(|g| summarize(host, g, false)))
        .collect();
    guests.sort_by(|a, b| a.facts.name.cmp(&b.facts.name));
    Ok(guests)
}

fn summarize(host: &str, guest: GuestStats, persistent: bool) -> GuestSummary {
    GuestSummary {
        host: host.to_owned(),
        state: state_name(guest.state).to_owned(),
        persistent,
        duplicate: false,
        facts: guest.facts,
    }
}

/// libvirt's state as `virsh` words it.
pub fn state_name(raw: sys::virDomainState) -> &'static str {
    match raw {
        sys::VIR_DOMAIN_RUNNING => "running",
        sys::VIR_DOMAIN_BLOCKED => "idle",
        sys::VIR_DOMAIN_PAUSED => "paused",
        sys::VIR_DOMAIN_SHUTDOWN => "in shutdown",
        sys::VIR_DOMAIN_SHUTOFF => "shut off",
        sys::VIR_DOMAIN_CRASHED => "crashed",
        sys::VIR_DOMAIN_PMSUSPENDED => "pmsuspended",
        _ => "no state",
    }
}

fn flag_duplicates(outcomes: &mut [HostOutcome<Vec<GuestSummary>>]) {
    let mut seen = std::collections::HashMap::<String, usize>::new();
    for g in outcomes
        .iter()
        .filter_map(|o| o.result.as_ref().ok())
        .flatten()
    {
        *seen.entry(g.facts.name.clone()).or_default() += 1;
    }
    for o in outcomes.iter_mut() {
        if let Ok(guests) = o.result.as_mut() {
            for g in guests {
                g.duplicate = seen.get(&g.facts.name).is_some_and(|n| *n > 1);
            }
        }
    }
}
