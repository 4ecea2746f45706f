//! What the fleet commands share: the inventory turned into a
//! [`Fleet`], a runtime to drive it, and how core errors become exit codes
//! and hints.

use std::future::Future;
use std::time::Duration;

use vmctl_core::guest::Size;
use vmctl_core::inventory::Inventory;
use vmctl_core::libvirt::{ConnectError, Fleet, LocateError};

use super::Global;
use crate::exit::{Exit, Failure};

/// Options every command that talks to hosts takes.
#[derive(Debug, Clone, clap::Args)]
pub struct FleetArgs {
    /// Seconds a host gets to connect and answer before it is reported
    /// unreachable.
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = 10,
        env = "VMCTL_CONNECT_TIMEOUT"
    )]
    pub connect_timeout: u64,
}

/// The fleet of the inventory, reached with `<pki.dir>/admin`.
pub fn fleet(global: &Global, args: &FleetArgs) -> Result<(Inventory, Fleet), Failure> {
    let inventory = global.inventory()?;
    let fleet = Fleet::from_inventory(&inventory)
        .with_timeout(Duration::from_secs(args.connect_timeout.max(1)));
    Ok((inventory, fleet))
}

/// Runs `work` on a runtime of its own. Blocking calls still stuck on a
/// host that never answered are abandoned rather than waited for.
pub fn block_on<T>(work: impl Future<Output = T>) -> Result<T, Failure> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            Failure::new(
                Exit::Failed,
                anyhow::Error::new(e).context("could not start the async runtime"),
            )
        })?;
    let value = runtime.block_on(work);
    runtime.shutdown_timeout(Duration::from_millis(100));
    Ok(value)
}

/// The exit class and hint of a connection error.
pub fn connect_failure(e: ConnectError) -> Failure {
    let exit = match e {
        ConnectError::UnknownHost { .. } => Exit::Usage,
        _ => Exit::Unreachable,
    };
    let hint = e.hint();
    with_hint(Failure::new(exit, e), hint)
}

/// The exit class and hint of a failed guest lookup.
pub fn locate_failure(e: LocateError) -> Failure {
    match e {
        LocateError::Connect(e) => connect_failure(e),
        LocateError::Lookup { .. } => Failure::new(Exit::Failed, e),
        LocateError::NotFound { .. } => {
            Failure::new(Exit::Usage, e).hint("`vmctl list --all` shows every guest")
        }
        LocateError::NotOnHost { .. } | LocateError::Ambiguous { .. } => {
            Failure::new(Exit::Usage, e)
        }
    }
}

/// Adds `hint` when there is one.
pub fn with_hint(failure: Failure, hint: Option<String>) -> Failure {
    match hint {
        Some(h) => failure.hint(h),
        None => failure,
    }
}

/// KiB as a short binary size.
pub fn kib(kib: u64) -> String {
    Size::from_kib(kib).to_string()
}
