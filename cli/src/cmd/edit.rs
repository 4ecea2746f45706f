//! `vmctl reconfigure` and `vmctl delete`: changing and removing a guest.

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use vmctl_core::guest::{
    DeleteError, DomainFacts, ReconfigureError, ReconfigureOutcome, ReconfigureRequest, Scope,
    Size, delete, reconfigure,
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
    request.validate().map_err(reconfigure_failure)?;
    let (_, fleet) = fleet(global, &args.fleet)?;
    let o = block_on(reconfigure(&fleet, &args.guest, request))?.map_err(reconfigure_failure)?;
    match global.output {
        Output::Json => output::print_json(&o),
        Output::Human => output::print(&describe(&o)),
    }
    .or_exit(Exit::Failed)?;
    Ok(ExitCode::SUCCESS)
}

/// One line: where the change went, the values in effect now and, when
/// they differ, the values of the next start; all as read back.
fn describe(o: &ReconfigureOutcome) -> String {
    let applied = match (o.live, o.config) {
        (true, true) => "live and in its definition",
        (true, false) => "live only (until it stops)",
        _ => "in its definition only (applies at the next start)",
    };
    let mut line = format!(
        "{} on {}: changed {applied}; now {}",
        o.guest,
        o.host,
        values(&o.now)
    );
    if o.differs_at_next_start() {
        line.push_str(&format!("; from the next start {}", values(&o.next_start)));
    }
    line.push('\n');
    line
}

fn values(f: &DomainFacts) -> String {
    format!(
        "{} vCPUs (max {}), {} (max {})",
        f.vcpus,
        f.max_vcpus,
        kib(f.memory_kib),
        kib(f.max_memory_kib)
    )
}

fn reconfigure_failure(e: ReconfigureError) -> Failure {
    let hint = e.hint();
    let exit = match e {
        ReconfigureError::Locate(e) => return locate_failure(e),
        ReconfigureError::Apply { .. } | ReconfigureError::NotTaken { .. } => Exit::Failed,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(vcpus: u32, max_vcpus: u32) -> DomainFacts {
        DomainFacts {
            vcpus,
            max_vcpus,
            memory_kib: 262_144,
            max_memory_kib: 262_144,
            ..DomainFacts::default()
        }
    }

    #[test]
    fn a_ceiling_raised_on_a_running_guest_is_said_to_wait_for_the_next_start() {
        let o = ReconfigureOutcome {
            guest: "g2".into(),
            host: "h1".into(),
            live: false,
            config: true,
            now: facts(1, 1),
            next_start: facts(1, 2),
        };
        assert_eq!(
            describe(&o),
            "g2 on h1: changed in its definition only (applies at the next start); \
             now 1 vCPUs (max 1), 256MiB (max 256MiB); \
             from the next start 1 vCPUs (max 2), 256MiB (max 256MiB)\n"
        );
    }

    #[test]
    fn a_live_and_persistent_change_shows_one_set_of_values() {
        let o = ReconfigureOutcome {
            guest: "g1".into(),
            host: "h1".into(),
            live: true,
            config: true,
            now: facts(2, 2),
            next_start: facts(2, 2),
        };
        assert_eq!(
            describe(&o),
            "g1 on h1: changed live and in its definition; now 2 vCPUs (max 2), 256MiB (max 256MiB)\n"
        );
    }
}
