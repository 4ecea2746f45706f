//! `vmctl list`: guests across the fleet, with host, state, vCPUs, memory
//! and disks; a name defined on two hosts is flagged.

use std::process::ExitCode;

use serde::Serialize;
use vmctl_core::guest::{GuestSummary, list};

use super::Global;
use super::fleet::{FleetArgs, block_on, fleet, kib};
use super::table::Table;
use crate::exit::{Classify, Exit, Failure};
use crate::output::{self, Output};

/// `vmctl list` arguments.
#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// Only this host (repeat for more).
    #[arg(long = "host", value_name = "HOST")]
    hosts: Vec<String>,
    /// Also guests that are defined but not running.
    #[arg(long)]
    all: bool,
    #[command(flatten)]
    fleet: FleetArgs,
}

#[derive(Debug, Serialize)]
struct Unreachable {
    host: String,
    reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    hint: Option<String>,
}

/// Runs `vmctl list`.
pub fn run(args: ListArgs, global: &Global) -> Result<ExitCode, Failure> {
    let (_, fleet) = fleet(global, &args.fleet)?;
    let fleet = fleet.one_shot();
    for host in &args.hosts {
        fleet.target(host).map_err(super::fleet::connect_failure)?;
    }
    let listing = block_on(list(&fleet, &args.hosts, args.all))?;
    let unreachable: Vec<Unreachable> = listing
        .hosts
        .iter()
        .filter_map(|o| o.result.as_ref().err().map(|e| (o, e)))
        .map(|(o, e)| Unreachable {
            host: o.host.clone(),
            reason: e.reason(),
            hint: e.hint(),
        })
        .collect();
    let guests = listing.guests();
    match global.output {
        Output::Json => output::print_json(&serde_json::json!({
            "guests": guests,
            "unreachable": unreachable,
        })),
        Output::Human => output::print(&render(&guests)),
    }
    .or_exit(Exit::Failed)?;
    for u in &unreachable {
        eprintln!("warning: {} unreachable: {}", u.host, u.reason);
    }
    Ok(if unreachable.is_empty() {
        ExitCode::SUCCESS
    } else {
        Exit::Unreachable.into()
    })
}

fn render(guests: &[&GuestSummary]) -> String {
    let mut table = Table::new(&["GUEST", "HOST", "STATE", "VCPUS", "MEMORY", "DISKS", ""]);
    for g in guests {
        let f = &g.facts;
        table.row(vec![
            f.name.clone(),
            g.host.clone(),
            g.state.clone(),
            format!("{}/{}", f.vcpus, f.max_vcpus),
            format!("{}/{}", kib(f.memory_kib), kib(f.max_memory_kib)),
            if f.disks.is_empty() {
                "-".into()
            } else {
                f.disks.join(",")
            },
            if g.duplicate {
                "duplicate name".into()
            } else {
                String::new()
            },
        ]);
    }
    table.render()
}
