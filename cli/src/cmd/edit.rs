//! `vmctl reconfigure` and `vmctl delete`: changing and removing a guest.

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use vmctl_core::guest::{
    DeleteError, ReconfigureError, ReconfigureRequest, Scope, Size, delete, reconfigure,
};
use vmctl_core::libvirt::GuestRef;

use super::Global;
use super::fleet::{FleetArgs, block_on, fleet, kib, locate_failure, with_hint};
use crate::exit::{Classify, Exit, Failure};
use crate::output::{self, Output};

/// `vmctl reconfigure` arguments.
#[derive(Debug, clap::Args)]
pub struct ReconfigureArgs {
    /// GUEST, or GUEST@HOST.
    guest: GuestRef,
    /// New number of vCPUs.
    #[arg(long)]
    vcpus: Option<u32>,
    /// New memory size (512M, 2G, 1GiB).
    #[arg(long, value_name = "SIZE")]
    memory: Option<Size>,
    /// New vCPU ceiling, in the definition (applies at the next start).
    #[arg(long, value_name = "N")]
    max_vcpus: Option<u32>,
    /// New memory ceiling, in the definition (applies at the next start).
    #[arg(long, value_name = "SIZE")]
    max_memory: Option<Size>,
    /// Change the running guest.
    #[arg(long)]
    live: bool,
    /// Change the persistent definition (libvirt's `--config`; that name
    /// is vmctl's inventory option).
    #[arg(long)]
    persistent: bool,
    #[command(flatten)]
    fleet: FleetArgs,
}

/// `vmctl delete` arguments.
#[derive(Debug, clap::Args)]
pub struct DeleteArgs {
    /// GUEST, or GUEST@HOST.
    guest: GuestRef,
    /// Leave its disk volumes in place.
    #[arg(long)]
    keep_storage: bool,
    /// Do not ask for confirmation (needed when stdin is not a terminal).
    #[arg(long)]
    yes: bool,
    #[command(flatten)]
    fleet: FleetArgs,
}

/// Runs `vmctl reconfigure`.
pub fn run_reconfigure(args: ReconfigureArgs, global: &Global) -> Result<ExitCode, Failure> {
    let request = ReconfigureRequest {
        vcpus: args.vcpus,
        memory: args.memory,
        max_vcpus: args.max_vcpus,
        max_memory: args.max_memory,
        scope: Scope {
            live: args.live,
            config: args.persistent,
        },
    };
    let (_, fleet) = fleet(global, &args.fleet)?;
    let o = block_on(reconfigure(&fleet, &args.guest, request))?.map_err(reconfigure_failure)?;
    let applied = match (o.live, o.config) {
        (true, true) => "live and in its definition",
        (true, false) => "live only (until it stops)",
        _ => "in its definition (applies at the next start)",
    };
    match global.output {
        Output::Json => output::print_json(&o),
        Output::Human => output::print(&format!(
            "{} on {}: changed {applied}; now {} vCPUs (max {}), {} (max {})\n",
            o.guest,
            o.host,
            o.now.vcpus,
            o.now.max_vcpus,
            kib(o.now.memory_kib),
            kib(o.now.max_memory_kib)
        )),
    }
    .or_exit(Exit::Failed)?;
    Ok(ExitCode::SUCCESS)
}

fn reconfigure_failure(e: ReconfigureError) -> Failure {
    let hint = e.hint();
    let exit = match e {
        ReconfigureError::Locate(e) => return locate_failure(e),
        ReconfigureError::Apply { .. } => Exit::Failed,
        _ => Exit::Usage,
    };
    with_hint(Failure::new(exit, e), hint)
}

/// Runs `vmctl delete`.
pub fn run_delete(args: DeleteArgs, global: &Global) -> Result<ExitCode, Failure> {
    if !args.yes {
        confirm(&args)?;
    }
    let (_, fleet) = fleet(global, &args.fleet)?;
    let o = block_on(delete(&fleet, &args.guest, args.keep_storage))?.map_err(delete_failure)?;
    match global.output {
        Output::Json => output::print_json(&o),
        Output::Human => {
            let mut text = format!("deleted {} on {}\n", o.guest, o.host);
            for path in &o.removed {
                text.push_str(&format!("  removed {path}\n"));
            }
            for path in &o.kept {
                text.push_str(&format!("  kept {path}\n"));
            }
            output::print(&text)
        }
    }
    .or_exit(Exit::Failed)?;
    Ok(ExitCode::SUCCESS)
}

/// Asks on the terminal; refuses when there is none to ask on.
fn confirm(args: &DeleteArgs) -> Result<(), Failure> {
    let refuse = |why: &str| Failure::new(Exit::Usage, anyhow::anyhow!("{why}"));
    if !std::io::stdin().is_terminal() {
        return Err(refuse(
            "refusing to delete without --yes: stdin is not a terminal",
        ));
    }
    let storage = if args.keep_storage {
        ""
    } else {
        " and its disk volumes"
    };
    eprint!("delete guest {}{storage}? [y/N] ", args.guest);
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .or_exit(Exit::Failed)?;
    match answer.trim() {
        "y" | "Y" | "yes" => Ok(()),
        _ => Err(refuse("not deleted")),
    }
}

fn delete_failure(e: DeleteError) -> Failure {
    match e {
        DeleteError::Locate(e) => locate_failure(e),
        _ => Failure::new(Exit::Failed, e),
    }
}
