//! `vmctl evacuate HOST`.

use std::process::ExitCode;

use vmctl_core::libvirt::{Fleet, GuestRef};
use vmctl_core::migrate::{EvacuateRequest, GuestResult, MoveRequest, evacuate, plan_evacuation};

use super::cancel_on_signal;
use super::progress::Progress;
use crate::cmd::fleet::FleetArgs;
use crate::exit::{Exit, Failure};
use crate::output::{self, Output};

/// Move every running guest off a host.
#[derive(Debug, clap::Args)]
pub struct EvacuateArgs {
    /// The host to drain.
    host: String,
    /// Only these destinations (comma-separated); every other host otherwise.
    #[arg(long, value_delimiter = ',')]
    to: Vec<String>,
    /// Moves at once.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=64))]
    parallel: u16,
    /// Copy disks to the destinations (no shared storage).
    #[arg(long)]
    copy_storage: bool,
    /// Encrypt migration streams with QEMU's native TLS.
    #[arg(long)]
    tls: bool,
    /// Print where each guest would go; move nothing.
    #[arg(long)]
    dry_run: bool,
    #[command(flatten)]
    pub fleet: FleetArgs,
}

/// Plans and runs the evacuation, then prints each guest's result.
pub async fn run(args: EvacuateArgs, fleet: &Fleet, out: Output) -> Result<ExitCode, Failure> {
    fleet
        .target(&args.host)
        .map_err(|e| Failure::new(Exit::Usage, e))?;
    for dest in &args.to {
        fleet
            .target(dest)
            .map_err(|e| Failure::new(Exit::Usage, e))?;
    }
    let template = MoveRequest {
        copy_storage: args.copy_storage,
        tls: args.tls,
        ..MoveRequest::new(GuestRef::new(""), "")
    };
    let req = EvacuateRequest {
        host: args.host.clone(),
        to: args.to,
        parallel: usize::from(args.parallel),
        template,
    };
    let unreachable = |e| Failure::new(Exit::Unreachable, e);
    if args.dry_run {
        let plans = plan_evacuation(fleet, &req).await.map_err(unreachable)?;
        let rows = plans
            .into_iter()
            .map(|(guest, p)| match p {
                Ok(p) => (guest, Some(p.dest), "would move".to_owned()),
                Err(why) => (guest, None, why),
            })
            .collect();
        return print_rows(rows, out, &args.host);
    }
    let progress = Progress::new(out);
    let results = evacuate(fleet, &req, progress.emitter(), cancel_on_signal()).await;
    progress.finish();
    let results = results.map_err(unreachable)?;
    let failed = results.iter().any(|r| r.outcome.is_err());
    let code = print_rows(results.into_iter().map(row).collect(), out, &args.host)?;
    if failed {
        return Ok(ExitCode::from(Exit::Failed as u8));
    }
    Ok(code)
}

fn row(r: GuestResult) -> (String, Option<String>, String) {
    let result = match r.outcome {
        Ok(Some(m)) => format!("moved in {:.1} s", m.elapsed.as_secs_f64()),
        Ok(None) => "not moved".to_owned(),
        Err(e) => format!("failed: {e}"),
    };
    (r.guest, r.dest, result)
}

fn print_rows(
    rows: Vec<(String, Option<String>, String)>,
    out: Output,
    host: &str,
) -> Result<ExitCode, Failure> {
    let io = |e| Failure::new(Exit::Failed, e);
    if out == Output::Json {
        let value: Vec<_> = rows
            .iter()
            .map(|(g, d, r)| serde_json::json!({"guest": g, "dest": d, "result": r}))
            .collect();
        output::print_json(&value).map_err(io)?;
        return Ok(ExitCode::SUCCESS);
    }
    if rows.is_empty() {
        output::print(&format!("no running guests on {host}\n")).map_err(io)?;
        return Ok(ExitCode::SUCCESS);
    }
    let width = rows
        .iter()
        .map(|(g, _, _)| g.len())
        .max()
        .unwrap_or(5)
        .max(5);
    let mut text = format!("{:<width$}  {:<12}  RESULT\n", "GUEST", "DEST");
    for (g, d, r) in rows {
        text.push_str(&format!(
            "{g:<width$}  {:<12}  {r}\n",
            d.as_deref().unwrap_or("-")
        ));
    }
    output::print(&text).map_err(io)?;
    Ok(ExitCode::SUCCESS)
}
