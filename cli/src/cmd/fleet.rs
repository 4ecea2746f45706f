//! What the fleet commands share: the inventory turned into a
//! [`Fleet`], a runtime to drive it, and how core errors become exit codes
//! and hints.

use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

use vmctl_core::guest::Size;
use vmctl_core::inventory::{Environment, Inventory, Sources};
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
    if inventory.hosts.is_empty() {
        return Err(no_hosts(global, &inventory));
    }
    let fleet = Fleet::from_inventory(&inventory)
        .with_timeout(Duration::from_secs(args.connect_timeout.max(1)));
    Ok((inventory, fleet))
}

/// An inventory without hosts: which files were read, and where vmctl
/// looked.
fn no_hosts(global: &Global, inventory: &Inventory) -> Failure {
    let read = match inventory.sources.as_slice() {
        [] => "no inventory file was found".to_owned(),
        files => format!("read {}", paths(files)),
    };
    let sources = Sources::standard(&Environment::from_process(), global.config.clone());
    let searched = paths(&sources.optional);
    Failure::new(
        Exit::Usage,
        anyhow::anyhow!("no hosts are configured ({read})"),
    )
    .hint(format!(
        "add a [hosts.NAME] section to one of {searched}, or pass a file with --config FILE"
    ))
}

/// The files, a relative one shown from the current directory.
fn paths(files: &[PathBuf]) -> String {
    let show = |p: &PathBuf| match p.is_relative() && !p.starts_with(".") {
        true => format!("./{}", p.display()),
        false => p.display().to_string(),
    };
    files.iter().map(show).collect::<Vec<_>>().join(", ")
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::Output;

    #[test]
    fn hosts_without_any_configured_names_the_files_read_and_searched() {
        let global = Global {
            config: Some(PathBuf::from("empty.toml")),
            output: Output::Human,
        };
        let env = Environment {
            home: Some(PathBuf::from("/home/u")),
            ..Environment::default()
        };
        let mut inventory =
            Inventory::from_toml("empty.toml", "", &env).expect("an empty inventory loads");
        inventory.sources = vec![PathBuf::from("empty.toml")];
        let failure = no_hosts(&global, &inventory);
        assert_eq!(failure.exit, Exit::Usage);
        let text = failure.render();
        assert!(
            text.starts_with("error: no hosts are configured (read ./empty.toml)\n"),
            "{text}"
        );
        assert!(text.contains("/etc/vmctl/vmctl.toml"), "{text}");
        assert!(text.contains("./vmctl.toml"), "{text}");
    }
}
