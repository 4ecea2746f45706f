//! Why a change to a guest's vCPUs or memory was refused or did not take.

use crate::libvirt::{LibvirtError, LocateError};

/// Why a change was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum ReconfigureError {
    /// The guest could not be found.
    #[error(transparent)]
    Locate(#[from] LocateError),
    /// Nothing to change.
    #[error("nothing to change: give --vcpus, --memory, --max-vcpus or --max-memory")]
    Nothing,
    /// A vCPU count of zero.
    #[error("{flag} must be at least 1")]
    ZeroVcpus { flag: &'static str },
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
    /// libvirt took the live change but the running guest did not follow
    /// (memory needs the guest's balloon driver).
    #[error(
        "the running {guest} on {host} did not take {asked} of {what}: it still has {now}{}",
        if *.config { "; its definition has the new value from the next start" } else { "" }
    )]
    NotTaken {
        guest: String,
        host: String,
        what: &'static str,
        asked: String,
        now: String,
        /// The definition was changed all the same.
        config: bool,
    },
}

impl ReconfigureError {
    /// What would make the change possible.
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::NotRunning { guest, .. } => Some(format!(
                "start it first, or change only its definition with `vmctl reconfigure {guest} --persistent ...`"
            )),
            Self::CeilingLive { .. } => Some(
                "drop --live: the new maximum is written to the definition and applies at the next start"
                    .into(),
            ),
            Self::AboveMaximum { guest, raise, .. } => Some(format!(
                "raise it with `vmctl reconfigure {guest} {raise} N` (needs a restart), then change it live"
            )),
            Self::Apply {
                guest, live: true, ..
            } => Some(format!(
                "the running guest cannot take this change; use `vmctl reconfigure {guest} --persistent ...` and restart it"
            )),
            Self::NotTaken { config: true, .. } => Some(
                "memory changes live only through the guest's virtio-balloon driver; restart the guest to run with the new value"
                    .into(),
            ),
            Self::NotTaken { guest, .. } => Some(format!(
                "memory changes live only through the guest's virtio-balloon driver; use `vmctl reconfigure {guest} --persistent ...` and restart it"
            )),
            _ => None,
        }
    }
}
