//! `vmctl move` and `vmctl evacuate`: guests change hosts.

mod evacuate;
mod progress;
mod single;

pub use evacuate::EvacuateArgs;
pub use single::MoveArgs;

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;

use vmctl_core::migrate::{Cancel, MoveError, PlanError};

use crate::cmd::Global;
use crate::cmd::fleet::{block_on, connect_failure, fleet, locate_failure};
use crate::exit::{Exit, Failure};

/// Runs `vmctl move`.
pub fn run_move(args: MoveArgs, global: &Global) -> Result<ExitCode, Failure> {
    let (_, fleet) = fleet(global, &args.fleet)?;
    block_on(single::run(args, &fleet, global.output))?
}

/// Runs `vmctl evacuate`.
pub fn run_evacuate(args: EvacuateArgs, global: &Global) -> Result<ExitCode, Failure> {
    let (_, fleet) = fleet(global, &args.fleet)?;
    block_on(evacuate::run(args, &fleet, global.output))?
}

/// A cancel flag raised by Ctrl-C (or SIGTERM), with a note on stderr.
fn cancel_on_signal() -> Cancel {
    let cancel = Cancel::new();
    let flag = cancel.clone();
    tokio::spawn(async move {
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        let terminated = async {
            match term.as_mut() {
                Some(t) => t.recv().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = terminated => {}
        }
        let _ = writeln!(
            crate::logs::stderr(),
            "interrupted: vmctl stops; where the guest is follows"
        );
        flag.cancel();
    });
    cancel
}

/// The exit class and hint of a refused plan.
fn plan_failure(e: PlanError) -> Failure {
    match e {
        PlanError::Locate(e) => locate_failure(e),
        PlanError::Dest(e) => connect_failure(e),
        e @ PlanError::ResumeUnreachable { .. } => {
            Failure::new(Exit::Unreachable, e).hint("nothing was changed")
        }
        e @ (PlanError::StillMoving { .. } | PlanError::NothingToResume { .. }) => {
            Failure::new(Exit::Failed, e).hint("nothing was changed")
        }
        e => Failure::new(Exit::Failed, e).hint("nothing was moved"),
    }
}

/// The exit class of a failed move; the message already states where the
/// guest runs.
fn move_failure(e: MoveError) -> Failure {
    let hint = match &e {
        MoveError::Invariant { .. } => "check the guest with `vmctl list --all` before acting",
        other => other
            .hint()
            .unwrap_or("the guest was checked after the failure; see where it runs above"),
    };
    Failure::new(Exit::Failed, e).hint(hint)
}

type Emit = Arc<dyn Fn(vmctl_core::migrate::MoveEvent) + Send + Sync>;
