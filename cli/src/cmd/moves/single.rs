//! `vmctl move GUEST HOST`.

use std::process::ExitCode;
use std::time::Duration;

use vmctl_core::libvirt::{Fleet, GuestRef};
use vmctl_core::migrate::{
    MovePlan, MoveRequest, Resumable, plan_move, plan_resume, remove_stale, run_move,
};

use super::progress::Progress;
use super::{cancel_on_signal, move_failure, plan_failure};
use crate::cmd::fleet::FleetArgs;
use crate::exit::{Exit, Failure};
use crate::output::{self, Output};

/// Move a guest to another host, live by default.
#[derive(Debug, clap::Args)]
pub struct MoveArgs {
    /// The guest: NAME, or NAME@HOST when the name is on several hosts.
    guest: GuestRef,
    /// The destination host (not with --resume).
    #[arg(required_unless_present = "resume")]
    host: Option<String>,
    /// Finish a post-copy move of GUEST that was cut off: resume it, or
    /// wait for it, then remove what it left on the old host.
    #[arg(long, conflicts_with_all = [
        "host", "offline", "copy_storage", "dry_run", "bandwidth", "max_downtime",
        "auto_converge", "postcopy", "postcopy_bandwidth", "parallel_connections",
    ])]
    resume: bool,
    /// Move a shut-off guest (its definition only).
    #[arg(long)]
    offline: bool,
    /// Copy the guest's disks to the destination (no shared storage).
    #[arg(long)]
    copy_storage: bool,
    /// Encrypt the migration stream with QEMU's native TLS.
    #[arg(long)]
    tls: bool,
    /// Bandwidth limit in MiB/s.
    #[arg(long, value_name = "MIB_S", value_parser = clap::value_parser!(u64).range(1..))]
    bandwidth: Option<u64>,
    /// Longest pause of the guest at switch-over, in milliseconds.
    #[arg(long, value_name = "MS", value_parser = clap::value_parser!(u64).range(1..))]
    max_downtime: Option<u64>,
    /// Throttle the guest's vCPUs if memory does not converge.
    #[arg(long)]
    auto_converge: bool,
    /// Switch to post-copy after the first pass over memory.
    #[arg(long)]
    postcopy: bool,
    /// Bandwidth limit in MiB/s once the guest runs on the destination.
    #[arg(long, value_name = "MIB_S", value_parser = clap::value_parser!(u64).range(1..))]
    postcopy_bandwidth: Option<u64>,
    /// Send memory over N connections.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    parallel_connections: Option<u32>,
    /// Abort the move after this many seconds (the guest stays on its source).
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..))]
    timeout: Option<u64>,
    /// Print the plan and the checks passed; move nothing.
    #[arg(long)]
    dry_run: bool,
    #[command(flatten)]
    pub fleet: FleetArgs,
}

impl MoveArgs {
    fn request(&self) -> MoveRequest {
        MoveRequest {
            offline: self.offline,
            copy_storage: self.copy_storage,
            tls: self.tls,
            bandwidth_mib_s: self.bandwidth,
            max_downtime_ms: self.max_downtime,
            auto_converge: self.auto_converge,
            postcopy: self.postcopy,
            postcopy_bandwidth_mib_s: self.postcopy_bandwidth,
            parallel_connections: self.parallel_connections,
            timeout: self.timeout.map(Duration::from_secs),
            ..MoveRequest::new(self.guest.clone(), self.host.as_deref().unwrap_or(""))
        }
    }
}

/// Plans, then (unless `--dry-run`) runs the move.
pub async fn run(args: MoveArgs, fleet: &Fleet, out: Output) -> Result<ExitCode, Failure> {
    let plan = if args.resume {
        match plan_resume(fleet, &args.guest, args.tls)
            .await
            .map_err(plan_failure)?
        {
            Resumable::Halves(plan) => *plan,
            Resumable::Finished { host, stale } => {
                return finished_by_itself(fleet, &args.guest.name, &host, &stale, out).await;
            }
        }
    } else {
        plan_move(fleet, &args.request())
            .await
            .map_err(plan_failure)?
    };
    if args.dry_run {
        print_plan(&plan, out).map_err(|e| Failure::new(Exit::Failed, e))?;
        return Ok(ExitCode::SUCCESS);
    }
    if out == Output::Human {
        eprintln!(
            "moving {} from {} to {} ({})",
            plan.guest,
            plan.source,
            plan.dest,
            plan.request.flag_names().join(", ")
        );
    }
    let progress = Progress::new(out);
    let moved = run_move(fleet, &plan, progress.emitter(), cancel_on_signal()).await;
    progress.finish();
    let moved = moved.map_err(move_failure)?;
    if out == Output::Human {
        let downtime = moved
            .downtime_ms
            .map(|d| format!(", downtime {d} ms"))
            .unwrap_or_default();
        let state = if plan.request.offline {
            "defined (shut off)"
        } else {
            "running"
        };
        let text = format!(
            "{} is {state} on {} (moved in {:.1} s{downtime})\n",
            moved.guest,
            moved.dest,
            moved.elapsed.as_secs_f64()
        );
        output::print(&text).map_err(|e| Failure::new(Exit::Failed, e))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// `--resume` after the move ended by itself: only the stale definitions
/// on the old host are left to remove.
async fn finished_by_itself(
    fleet: &Fleet,
    guest: &str,
    host: &str,
    stale: &[String],
    out: Output,
) -> Result<ExitCode, Failure> {
    let removed = remove_stale(fleet, guest).await;
    let left: Vec<&String> = stale.iter().filter(|h| !removed.contains(h)).collect();
    if out == Output::Json {
        let value = serde_json::json!({
            "guest": guest,
            "running_on": host,
            "finished_by_itself": true,
            "removed_stale_definition_on": removed,
            "stale_definition_left_on": left,
        });
        output::print_json(&value).map_err(|e| Failure::new(Exit::Failed, e))?;
    } else {
        let mut text = format!("{guest} had finished moving by itself and is running on {host}");
        if !removed.is_empty() {
            text.push_str(&format!(
                "; removed its old definition on {}",
                removed.join(", ")
            ));
        }
        text.push('\n');
        output::print(&text).map_err(|e| Failure::new(Exit::Failed, e))?;
    }
    if left.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    let hosts: Vec<&str> = left.iter().map(|h| h.as_str()).collect();
    Err(Failure::new(
        Exit::Failed,
        anyhow::anyhow!(
            "could not remove {guest}'s old, shut-off definition on {}; remove it with `virsh undefine {guest} --keep-nvram` there (its disks are in use on {host})",
            hosts.join(", ")
        ),
    ))
}

fn print_plan(plan: &MovePlan, out: Output) -> std::io::Result<()> {
    if out == Output::Json {
        let value = serde_json::json!({
            "guest": plan.guest,
            "source": plan.source,
            "dest": plan.dest,
            "dest_uri": plan.dest_uri,
            "mode": plan.request.mode(),
            "flags": plan.request.flag_names(),
            "checks": plan.checks,
            "copy": plan.copy,
        });
        return output::print_json(&value);
    }
    let mut text = format!(
        "plan: move {} from {} to {} ({})\n  flags: {}\n  checks passed:\n",
        plan.guest,
        plan.source,
        plan.dest,
        plan.dest_uri,
        plan.request.flag_names().join(", ")
    );
    for check in &plan.checks {
        text.push_str(&format!("    ok  {check}\n"));
    }
    if plan.copy.is_empty() {
        text.push_str("  disks to copy: none\n");
    }
    for disk in &plan.copy {
        text.push_str(&format!(
            "  disk to copy: {} ({})\n",
            disk.target, disk.path
        ));
    }
    text.push_str("dry run: nothing was moved\n");
    output::print(&text)
}
