//! Changing a guest's vCPUs and memory: live where the running guest can
//! take it, persistently in its definition, or both.

use serde::Serialize;
use virt::sys;

use super::Size;
use super::xml::{DomainFacts, parse_facts};
use crate::libvirt::{Fleet, GuestRef, LibvirtError, LocateError, Located};

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

/// What was changed.
#[derive(Debug, Clone, Serialize)]
pub struct ReconfigureOutcome {
    /// The guest.
    pub guest: String,
    /// Its host.
    pub host: String,
    /// Changed in the running guest.
    pub live: bool,
    /// Changed in the persistent definition.
    pub config: bool,
    /// The running guest afterwards (or the definition, when not running).
    pub now: DomainFacts,
}

/// Why a change was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum ReconfigureError {
    /// The guest could not be found.
    #[error(transparent)]
    Locate(#[from] LocateError),
    /// Nothing to change.
    #[error("nothing to change: give --vcpus, --memory, --max-vcpus or --max-memory")]
    Nothing,
    /// `--live` for a guest that is not running.
    #[error("{guest} on {host} is not running, so there is nothing to change live")]
    NotRunning { guest: String, host: String },
    /// A ceiling asked to change live.
    #[error("the maximum {what} of {guest} cannot change while it runs")]
    CeilingLive { guest: String, what: &'static str },
    /// Above the guest's ceiling.
    #[error("{guest} allows at most {max} {what}{where_}, {asked} asked")]
    AboveMaximum {
        guest: String,
        what: &'static str,
        max: String,
        asked: String,
        where_: &'static str,
        raise: &'static str,
    },
    /// libvirt refused the change.
    #[error("could not change {what} of {guest} on {host}")]
    Apply {
        guest: String,
        host: String,
        what: &'static str,
        live: bool,
        #[source]
        source: LibvirtError,
    },
}

impl ReconfigureError {
    /// What would make the change possible.
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::NotRunning { guest, .. } => Some(format!(
                "start it first, or change only its definition with `vmctl reconfigure {guest} --persistent ...`"
            )),
            Self::CeilingLive { .. } => {
                Some("drop --live: the new maximum is written to the definition and applies at the next start".into())
            }
            Self::AboveMaximum { guest, raise, .. } => Some(format!(
                "raise it with `vmctl reconfigure {guest} {raise} N` (needs a restart), then change it live"
            )),
            Self::Apply { guest, live: true, .. } => Some(format!(
                "the running guest cannot take this change; use `vmctl reconfigure {guest} --persistent ...` and restart it"
            )),
            _ => None,
        }
    }
}

/// Applies `request` to `guest`.
pub async fn reconfigure(
    fleet: &Fleet,
    guest: &GuestRef,
    request: ReconfigureRequest,
) -> Result<ReconfigureOutcome, ReconfigureError> {
    if request.vcpus.is_none()
        && request.memory.is_none()
        && request.max_vcpus.is_none()
        && request.max_memory.is_none()
    {
        return Err(ReconfigureError::Nothing);
    }
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
    let config_facts = facts(l, sys::VIR_DOMAIN_XML_INACTIVE)?;
    let live_facts = facts(l, 0)?;
    check(l, request, scope, &live_facts, &config_facts)?;

    // Ceilings first, so that the values below may use the new room.
    if let Some(max) = request.max_vcpus {
        set_vcpus(l, max, sys::VIR_DOMAIN_VCPU_MAXIMUM | config_flag())?;
    }
    if let Some(max) = request.max_memory {
        set_memory(
            l,
            max.kib(),
            sys::VIR_DOMAIN_MEM_MAXIMUM | config_flag(),
            false,
        )?;
    }
    let flags = scope_flags(scope);
    if let Some(vcpus) = request.vcpus {
        set_vcpus(l, vcpus, flags)?;
    }
    if let Some(memory) = request.memory {
        set_memory(l, memory.kib(), flags, scope.live)?;
    }
    tracing::info!(guest = %l.guest, host = %l.conn.host(), live = scope.live, config = scope.config, "reconfigured");
    Ok(ReconfigureOutcome {
        guest: l.guest.clone(),
        host: l.conn.host().to_owned(),
        live: scope.live,
        config: scope.config,
        now: facts(l, 0)?,
    })
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
