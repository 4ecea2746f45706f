//! Changing a guest's vCPUs and memory: live where the running guest can
//! take it, persistently in its definition, or both. Every outcome is
//! read back from libvirt: a live change the guest did not take is an
//! error, not a success.

mod error;
mod readback;

use serde::Serialize;
use virt::sys;

use super::Size;
use super::xml::{DomainFacts, parse_facts};
use crate::libvirt::{Fleet, GuestRef, LibvirtError, Located};
pub use error::ReconfigureError;
use readback::{Patience, reached, wait_for_memory};

/// Where a change applies.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Scope {
    /// `--live`: the running guest.
    pub live: bool,
    /// `--persistent`: the persistent definition.
    pub config: bool,
}

/// What to change; `None` leaves a value as it is.
#[derive(Debug, Clone, Default)]
pub struct ReconfigureRequest {
    /// vCPUs.
    pub vcpus: Option<u32>,
    /// Memory.
    pub memory: Option<Size>,
    /// The vCPU ceiling (definition only: applies at the next start).
    pub max_vcpus: Option<u32>,
    /// The memory ceiling (definition only: applies at the next start).
    pub max_memory: Option<Size>,
    /// Where; neither flag means live and persistent when running,
    /// persistent otherwise.
    pub scope: Scope,
}

impl ReconfigureRequest {
    /// Checks the request before any host is touched.
    pub fn validate(&self) -> Result<(), ReconfigureError> {
        if self.vcpus.is_none()
            && self.memory.is_none()
            && self.max_vcpus.is_none()
            && self.max_memory.is_none()
        {
            return Err(ReconfigureError::Nothing);
        }
        for (flag, value) in [("--vcpus", self.vcpus), ("--max-vcpus", self.max_vcpus)] {
            if value == Some(0) {
                return Err(ReconfigureError::ZeroVcpus { flag });
            }
        }
        Ok(())
    }

    fn changes_values(&self) -> bool {
        self.vcpus.is_some() || self.memory.is_some()
    }
}

/// What was changed, as read back from libvirt afterwards.
#[derive(Debug, Clone, Serialize)]
pub struct ReconfigureOutcome {
    /// The guest.
    pub guest: String,
    /// Its host.
    pub host: String,
    /// The running guest was changed.
    pub live: bool,
    /// The persistent definition was changed.
    pub config: bool,
    /// The running guest afterwards (or the definition, when not running).
    pub now: DomainFacts,
    /// The definition afterwards: what the guest gets at its next start.
    pub next_start: DomainFacts,
}

impl ReconfigureOutcome {
    /// True when the next start brings values other than those in effect now.
    pub fn differs_at_next_start(&self) -> bool {
        let key = |f: &DomainFacts| (f.vcpus, f.max_vcpus, f.memory_kib, f.max_memory_kib);
        key(&self.now) != key(&self.next_start)
    }
}

/// Applies `request` to `guest`.
pub async fn reconfigure(
    fleet: &Fleet,
    guest: &GuestRef,
    request: ReconfigureRequest,
) -> Result<ReconfigureOutcome, ReconfigureError> {
    request.validate()?;
    let located = fleet.locate(guest).await?;
    let conn = located.conn.clone();
    conn.run(move |_| apply(&located, &request)).await
}

fn apply(
    l: &Located,
    request: &ReconfigureRequest,
) -> Result<ReconfigureOutcome, ReconfigureError> {
    let running = l
        .domain
        .is_active()
        .map_err(|e| apply_error(l, "state", false, e))?;
    let scope = resolve_scope(l, request, running)?;
    let config_before = facts(l, sys::VIR_DOMAIN_XML_INACTIVE)?;
    let live_before = facts(l, 0)?;
    check(l, request, scope, &live_before, &config_before)?;

    // Ceilings first, so that the values below may use the new room.
    set_ceilings(l, request)?;
    let flags = scope_flags(scope);
    if let Some(vcpus) = request.vcpus {
        set_vcpus(l, vcpus, flags)?;
    }
    if let Some(memory) = request.memory {
        set_memory(l, memory.kib(), flags, scope.live)?;
    }
    if scope.live {
        confirm_live(l, request, scope, &live_before)?;
    }
    tracing::info!(guest = %l.guest, host = %l.conn.host(), live = scope.live, config = scope.config, "reconfigured");

    let next_start = facts(l, sys::VIR_DOMAIN_XML_INACTIVE)?;
    Ok(ReconfigureOutcome {
        guest: l.guest.clone(),
        host: l.conn.host().to_owned(),
        live: scope.live && request.changes_values(),
        config: scope.config,
        now: if running {
            facts(l, 0)?
        } else {
            next_start.clone()
        },
        next_start,
    })
}

fn set_ceilings(l: &Located, request: &ReconfigureRequest) -> Result<(), ReconfigureError> {
    if let Some(max) = request.max_vcpus {
        set_vcpus(l, max, sys::VIR_DOMAIN_VCPU_MAXIMUM | config_flag())?;
    }
    if let Some(max) = request.max_memory {
        let flags = sys::VIR_DOMAIN_MEM_MAXIMUM | config_flag();
        set_memory(l, max.kib(), flags, false)?;
    }
    Ok(())
}

/// Reads the running guest back; a value it did not take is an error, and
/// a balloon target it ignores is put back where the guest still is.
fn confirm_live(
    l: &Located,
    request: &ReconfigureRequest,
    scope: Scope,
    before: &DomainFacts,
) -> Result<(), ReconfigureError> {
    if let Some(memory) = request.memory {
        let read = || facts(l, 0).map(|f| f.memory_kib);
        let now = wait_for_memory(memory.kib(), Patience::BALLOON, read)?;
        if !reached(now, memory.kib()) {
            restore_balloon(l, before.memory_kib);
            return Err(not_taken(l, "memory", memory.to_string(), kib(now), scope));
        }
    }
    if let Some(vcpus) = request.vcpus {
        let now = facts(l, 0)?.vcpus;
        if now != vcpus {
            return Err(not_taken(
                l,
                "vCPUs",
                vcpus.to_string(),
                now.to_string(),
                scope,
            ));
        }
    }
    Ok(())
}

fn restore_balloon(l: &Located, kib: u64) {
    if let Err(e) = l.domain.set_memory_flags(kib, sys::VIR_DOMAIN_AFFECT_LIVE) {
        tracing::warn!(guest = %l.guest, host = %l.conn.host(), error = %e, "could not put the balloon target back");
    }
}

fn not_taken(
    l: &Located,
    what: &'static str,
    asked: String,
    now: String,
    scope: Scope,
) -> ReconfigureError {
    ReconfigureError::NotTaken {
        guest: l.guest.clone(),
        host: l.conn.host().to_owned(),
        what,
        asked,
        now,
        config: scope.config,
    }
}

fn kib(kib: u64) -> String {
    Size::from_kib(kib).to_string()
}

fn resolve_scope(
    l: &Located,
    request: &ReconfigureRequest,
    running: bool,
) -> Result<Scope, ReconfigureError> {
    let asked = request.scope;
    if asked.live && !running {
        return Err(ReconfigureError::NotRunning {
            guest: l.guest.clone(),
            host: l.conn.host().to_owned(),
        });
    }
    if asked.live && !asked.config && (request.max_vcpus.is_some() || request.max_memory.is_some())
    {
        let what = if request.max_vcpus.is_some() {
            "vCPUs"
        } else {
            "memory"
        };
        return Err(ReconfigureError::CeilingLive {
            guest: l.guest.clone(),
            what,
        });
    }
    Ok(match (asked.live, asked.config) {
        (false, false) => Scope {
            live: running,
            config: true,
        },
        _ => asked,
    })
}

fn check(
    l: &Located,
    request: &ReconfigureRequest,
    scope: Scope,
    live: &DomainFacts,
    config: &DomainFacts,
) -> Result<(), ReconfigureError> {
    let above = |what, max: String, asked: String, where_, raise| ReconfigureError::AboveMaximum {
        guest: l.guest.clone(),
        what,
        max,
        asked,
        where_,
        raise,
    };
    let config_max_vcpus = request.max_vcpus.unwrap_or(config.max_vcpus);
    let config_max_kib = request.max_memory.map_or(config.max_memory_kib, Size::kib);
    if let Some(v) = request.vcpus {
        if scope.live && v > live.max_vcpus {
            return Err(above(
                "vCPUs",
                live.max_vcpus.to_string(),
                v.to_string(),
                " while running",
                "--max-vcpus",
            ));
        }
        if scope.config && v > config_max_vcpus {
            return Err(above(
                "vCPUs",
                config_max_vcpus.to_string(),
                v.to_string(),
                "",
                "--max-vcpus",
            ));
        }
    }
    if let Some(m) = request.memory {
        let show = |kib| Size::from_kib(kib).to_string();
        if scope.live && m.kib() > live.max_memory_kib {
            return Err(above(
                "memory",
                show(live.max_memory_kib),
                m.to_string(),
                " while running",
                "--max-memory",
            ));
        }
        if scope.config && m.kib() > config_max_kib {
            return Err(above(
                "memory",
                show(config_max_kib),
                m.to_string(),
                "",
                "--max-memory",
            ));
        }
    }
    Ok(())
}

fn facts(l: &Located, flags: u32) -> Result<DomainFacts, ReconfigureError> {
    let xml = l
        .domain
        .xml_desc(flags)
        .map_err(|e| apply_error(l, "settings", false, e))?;
    parse_facts(&xml).map_err(|e| ReconfigureError::Apply {
        guest: l.guest.clone(),
        host: l.conn.host().to_owned(),
        what: "settings",
        live: false,
        source: LibvirtError::local(e.to_string()),
    })
}

fn set_vcpus(l: &Located, n: u32, flags: u32) -> Result<(), ReconfigureError> {
    let live = flags & sys::VIR_DOMAIN_AFFECT_LIVE != 0;
    l.domain
        .set_vcpus_flags(n, flags)
        .map_err(|e| apply_error(l, "the vCPUs", live, e))
}

fn set_memory(l: &Located, kib: u64, flags: u32, live: bool) -> Result<(), ReconfigureError> {
    l.domain
        .set_memory_flags(kib, flags)
        .map_err(|e| apply_error(l, "the memory", live, e))
}

fn config_flag() -> u32 {
    sys::VIR_DOMAIN_AFFECT_CONFIG
}

fn scope_flags(scope: Scope) -> u32 {
    let mut flags = 0;
    if scope.live {
        flags |= sys::VIR_DOMAIN_AFFECT_LIVE;
    }
    if scope.config {
        flags |= sys::VIR_DOMAIN_AFFECT_CONFIG;
    }
    flags
}

fn apply_error(
    l: &Located,
    what: &'static str,
    live: bool,
    e: virt::error::Error,
) -> ReconfigureError {
    ReconfigureError::Apply {
        guest: l.guest.clone(),
        host: l.conn.host().to_owned(),
        what,
        live,
        source: e.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_vcpus_are_refused_before_any_host_is_asked() {
        let request = ReconfigureRequest {
            vcpus: Some(0),
            ..ReconfigureRequest::default()
        };
        let e = request.validate().unwrap_err();
        assert_eq!(e.to_string(), "--vcpus must be at least 1");
        let request = ReconfigureRequest {
            max_vcpus: Some(0),
            ..ReconfigureRequest::default()
        };
        assert!(
            request
                .validate()
                .unwrap_err()
                .to_string()
                .contains("--max-vcpus")
        );
        assert!(matches!(
            ReconfigureRequest::default().validate(),
            Err(ReconfigureError::Nothing)
        ));
    }

    #[test]
    fn a_new_ceiling_shows_as_different_at_the_next_start() {
        let now = DomainFacts {
            vcpus: 1,
            max_vcpus: 1,
            ..DomainFacts::default()
        };
        let mut outcome = ReconfigureOutcome {
            guest: "g".into(),
            host: "h".into(),
            live: false,
            config: true,
            now: now.clone(),
            next_start: now,
        };
        assert!(!outcome.differs_at_next_start());
        outcome.next_start.max_vcpus = 2;
        assert!(outcome.differs_at_next_start());
    }

    #[test]
    fn a_memory_change_the_guest_ignored_says_where_it_still_applies() {
        let e = ReconfigureError::NotTaken {
            guest: "g1".into(),
            host: "h1".into(),
            what: "memory",
            asked: "128MiB".into(),
            now: "256MiB".into(),
            config: true,
        };
        assert_eq!(
            e.to_string(),
            "the running g1 on h1 did not take 128MiB of memory: it still has 256MiB; \
             its definition has the new value from the next start"
        );
        assert!(e.hint().unwrap().contains("balloon"));
    }
}
