//! `vmctl hosts`: each host reachable or why not, its hypervisor, CPUs,
//! memory, guests, and the days until its certificates expire.

use std::process::ExitCode;

use serde::Serialize;
use time::OffsetDateTime;
use vmctl_core::guest::{HostReport, reports};
use vmctl_pki::{Index, Layout, LeafKind};

use super::Global;
use super::fleet::{FleetArgs, block_on, fleet, kib};
use super::table::Table;
use crate::exit::{Classify, Exit, Failure};
use crate::output::{self, Output};

/// `vmctl hosts` arguments.
#[derive(Debug, clap::Args)]
pub struct HostsArgs {
    #[command(flatten)]
    fleet: FleetArgs,
}

/// One line of the report.
#[derive(Debug, Serialize)]
struct HostLine {
    host: String,
    address: String,
    reachable: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    hint: Option<String>,
    #[serde(flatten)]
    report: Option<HostReport>,
    /// Days until the first of its certificates expires (from the CA's index).
    cert_days: Option<i64>,
}

/// Runs `vmctl hosts`.
pub fn run(args: HostsArgs, global: &Global) -> Result<ExitCode, Failure> {
    let (inventory, fleet) = fleet(global, &args.fleet)?;
    let outcomes = block_on(reports(&fleet))?;
    let index = Index::read(&Layout::new(&inventory.pki.dir)).ok();
    let lines: Vec<HostLine> = outcomes
        .into_iter()
        .zip(fleet.hosts())
        .map(|(o, target)| HostLine {
            cert_days: index.as_ref().and_then(|i| cert_days(i, &o.host)),
            address: target.address.clone(),
            reachable: o.result.is_ok(),
            reason: o.result.as_ref().err().map(|e| e.reason()),
            hint: o.result.as_ref().err().and_then(|e| e.hint()),
            report: o.result.ok(),
            host: o.host,
        })
        .collect();
    match global.output {
        Output::Json => output::print_json(&serde_json::json!({ "hosts": lines })),
        Output::Human => output::print(&render(&lines)),
    }
    .or_exit(Exit::Failed)?;
    let all_reachable = lines.iter().all(|l| l.reachable);
    Ok(if all_reachable {
        ExitCode::SUCCESS
    } else {
        Exit::Unreachable.into()
    })
}

fn cert_days(index: &Index, host: &str) -> Option<i64> {
    [LeafKind::Server, LeafKind::Client]
        .into_iter()
        .filter_map(|kind| index.current(host, kind))
        .map(|e| (e.not_after - OffsetDateTime::now_utc()).whole_days())
        .min()
}

fn render(lines: &[HostLine]) -> String {
    let mut table = Table::new(&[
        "HOST",
        "STATUS",
        "HYPERVISOR",
        "LIBVIRT",
        "CPU",
        "CPUS",
        "MEMORY",
        "FREE",
        "RUNNING",
        "DEFINED",
        "CERT DAYS",
    ]);
    let mut notes = String::new();
    for line in lines {
        let days = line.cert_days.map_or("-".into(), |d| d.to_string());
        match &line.report {
            Some(r) => table.row(vec![
                line.host.clone(),
                "ok".into(),
                r.hypervisor.clone(),
                r.libvirt.clone(),
                r.cpu_model.clone(),
                r.cpus.to_string(),
                kib(r.memory_total_kib),
                kib(r.memory_free_kib),
                r.guests_running.to_string(),
                r.guests_defined.to_string(),
                days,
            ]),
            None => {
                let mut row = vec![line.host.clone(), "unreachable".into()];
                row.extend(std::iter::repeat_n("-".to_string(), 8));
                row.push(days);
                table.row(row);
                notes.push_str(&format!(
                    "{}: {}\n",
                    line.host,
                    line.reason.as_deref().unwrap_or("")
                ));
                if let Some(hint) = &line.hint {
                    notes.push_str(&format!("  hint: {hint}\n"));
                }
            }
        }
    }
    let mut text = table.render();
    if !notes.is_empty() {
        text.push('\n');
        text.push_str(&notes);
    }
    text
}
