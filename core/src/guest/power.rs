//! Starting and stopping guests: start, graceful stop with a timeout and an
//! optional forced fallback, reboot, destroy (power off).

use std::time::{Duration, Instant};

use serde::Serialize;

use crate::libvirt::{Fleet, GuestRef, LibvirtError, LocateError, Located};

/// A change of power state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PowerAction {
    /// Boot a defined guest.
    Start,
    /// Ask the guest to shut down (ACPI).
    Stop,
    /// Ask the guest to reboot.
    Reboot,
    /// Power it off at once.
    Destroy,
}

impl PowerAction {
    /// The verb, for messages.
    pub fn verb(self) -> &'static str {
        match self {
            Self::Start => "start",
            Self::Stop => "stop",
            Self::Reboot => "reboot",
            Self::Destroy => "destroy",
        }
    }
}

/// How a stop waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StopOptions {
    /// How long the guest gets to shut down.
    pub timeout: Duration,
    /// Power it off when it has not shut down in time.
    pub force: bool,
}

/// What a power action did.
#[derive(Debug, Clone, Serialize)]
pub struct PowerOutcome {
    /// The guest.
    pub guest: String,
    /// Its host.
    pub host: String,
    /// What was asked.
    pub action: PowerAction,
    /// True when a stop ended in a forced power-off.
    pub forced: bool,
    /// True when nothing needed doing (already in the asked state).
    pub unchanged: bool,
}

/// Why a power action failed.
#[derive(Debug, thiserror::Error)]
pub enum PowerError {
    /// The guest could not be found.
    #[error(transparent)]
    Locate(#[from] LocateError),
    /// libvirt refused the action.
    #[error("could not {} {guest} on {host}", action.verb())]
    Action {
        action: PowerAction,
        guest: String,
        host: String,
        #[source]
        source: LibvirtError,
    },
    /// The guest did not shut down in time and `force` was not set.
    #[error("{guest} on {host} did not shut down within {}s", timeout.as_secs())]
    StopTimeout {
        guest: String,
        host: String,
        timeout: Duration,
    },
    /// The action needs a running guest.
    #[error("{guest} on {host} is not running")]
    NotRunning { guest: String, host: String },
}

impl PowerError {
    /// What the user can do about it.
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::StopTimeout { guest, .. } => Some(format!(
                "the guest may not react to ACPI; add --force, or `vmctl destroy {guest}`"
            )),
            _ => None,
        }
    }
}

/// Starts, reboots or destroys `guest`; use [`stop`] for a graceful stop.
pub async fn power(
    fleet: &Fleet,
    guest: &GuestRef,
    action: PowerAction,
) -> Result<PowerOutcome, PowerError> {
    let located = fleet.locate(guest).await?;
    let conn = located.conn.clone();
    conn.run(move |_| act(&located, action)).await
}

fn act(l: &Located, action: PowerAction) -> Result<PowerOutcome, PowerError> {
    let failed = |source: virt::error::Error| action_error(l, action, source.into());
    let active = l.domain.is_active().map_err(failed)?;
    let unchanged = match (action, active) {
        (PowerAction::Start, true) | (PowerAction::Destroy | PowerAction::Stop, false) => true,
        (PowerAction::Reboot, false) => return Err(not_running(l)),
        (PowerAction::Start, false) => l.domain.create().map(|_| false).map_err(failed)?,
        (PowerAction::Reboot, true) => l.domain.reboot(0).map(|_| false).map_err(failed)?,
        (PowerAction::Destroy | PowerAction::Stop, true) => {
            l.domain.destroy().map(|_| false).map_err(failed)?
        }
    };
    tracing::info!(guest = %l.guest, host = %l.conn.host(), action = action.verb(), unchanged, "power action");
    Ok(outcome(l, action, false, unchanged))
}

/// Shuts `guest` down gracefully, waiting up to `options.timeout`; powers
/// it off after that when `options.force`.
pub async fn stop(
    fleet: &Fleet,
    guest: &GuestRef,
    options: StopOptions,
) -> Result<PowerOutcome, PowerError> {
    let located = fleet.locate(guest).await?;
    let conn = located.conn.clone();
    conn.run(move |_| stop_blocking(&located, options)).await
}

fn stop_blocking(l: &Located, options: StopOptions) -> Result<PowerOutcome, PowerError> {
    let failed = |source: virt::error::Error| action_error(l, PowerAction::Stop, source.into());
    if !l.domain.is_active().map_err(failed)? {
        return Ok(outcome(l, PowerAction::Stop, false, true));
    }
    l.domain.shutdown().map_err(failed)?;

    // Wait for the guest to go; a guest that ignores ACPI never does.
    let deadline = Instant::now() + options.timeout;
    while Instant::now() < deadline {
        if !l.domain.is_active().map_err(failed)? {
            return Ok(outcome(l, PowerAction::Stop, false, false));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    if !options.force {
        return Err(PowerError::StopTimeout {
            guest: l.guest.clone(),
            host: l.conn.host().to_owned(),
            timeout: options.timeout,
        });
    }
    tracing::warn!(guest = %l.guest, "did not shut down in time; powering off");
    l.domain.destroy().map_err(failed)?;
    Ok(outcome(l, PowerAction::Stop, true, false))
}

fn outcome(l: &Located, action: PowerAction, forced: bool, unchanged: bool) -> PowerOutcome {
    PowerOutcome {
        guest: l.guest.clone(),
        host: l.conn.host().to_owned(),
        action,
        forced,
        unchanged,
    }
}

fn action_error(l: &Located, action: PowerAction, source: LibvirtError) -> PowerError {
    PowerError::Action {
        action,
        guest: l.guest.clone(),
        host: l.conn.host().to_owned(),
        source,
    }
}

fn not_running(l: &Located) -> PowerError {
    PowerError::NotRunning {
        guest: l.guest.clone(),
        host: l.conn.host().to_owned(),
    }
}
