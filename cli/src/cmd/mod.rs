//! The command groups. Each lives in its own module with its own clap
//! arguments; add a group by adding a variant and a match arm here.

mod bootstrap;
mod edit;
mod fleet;
mod guest;
mod hosts;
mod list;
mod moves;
mod pki;
mod table;

use std::process::ExitCode;

use vmctl_core::guest::PowerAction;
use vmctl_core::inventory::Inventory;

use crate::exit::{Exit, Failure};
use crate::output::Output;

/// What is shared by every command.
#[derive(Debug)]
pub struct Global {
    /// `--config FILE`.
    pub config: Option<std::path::PathBuf>,
    /// `--output`.
    pub output: Output,
}

impl Global {
    /// Loads the inventory; a bad one is a usage error with a hint.
    pub fn inventory(&self) -> Result<Inventory, Failure> {
        Inventory::load(self.config.clone()).map_err(|e| {
            Failure::new(Exit::Usage, e)
                .hint("fix the inventory file, or pass another with --config FILE")
        })
    }
}

/// The top-level commands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Manage the fleet's certificate authority and certificates.
    #[command(subcommand)]
    Pki(pki::PkiCommand),
    /// Make every host and the admin trust each other over mutual TLS.
    Bootstrap(bootstrap::BootstrapArgs),
    /// Move a guest to another host (live, peer-to-peer, over TLS).
    Move(moves::MoveArgs),
    /// Move every running guest off a host.
    Evacuate(moves::EvacuateArgs),
    /// Show each host: reachable or why not, hypervisor, CPUs, memory, guests.
    Hosts(hosts::HostsArgs),
    /// List guests across the fleet.
    List(list::ListArgs),
    /// Create a guest on a host: disk, definition, start.
    Create(guest::CreateArgs),
    /// Start a guest.
    Start(guest::PowerArgs),
    /// Shut a guest down gracefully (ACPI), optionally forcing it off.
    Stop(guest::StopArgs),
    /// Reboot a guest.
    Reboot(guest::PowerArgs),
    /// Power a guest off at once.
    Destroy(guest::PowerArgs),
    /// Change a guest's vCPUs or memory, live and/or in its definition.
    Reconfigure(edit::ReconfigureArgs),
    /// Delete a guest and, unless --keep-storage, its volumes.
    Delete(edit::DeleteArgs),
}

/// Runs `command`.
pub fn run(command: Command, global: &Global) -> Result<ExitCode, Failure> {
    match command {
        Command::Pki(command) => pki::run(command, global),
        Command::Hosts(args) => hosts::run(args, global),
        Command::List(args) => list::run(args, global),
        Command::Create(args) => guest::run_create(args, global),
        Command::Start(args) => guest::run_power(args, PowerAction::Start, global),
        Command::Stop(args) => guest::run_stop(args, global),
        Command::Reboot(args) => guest::run_power(args, PowerAction::Reboot, global),
        Command::Destroy(args) => guest::run_power(args, PowerAction::Destroy, global),
        Command::Reconfigure(args) => edit::run_reconfigure(args, global),
        Command::Delete(args) => edit::run_delete(args, global),
        Command::Move(args) => moves::run_move(args, global),
        Command::Evacuate(args) => moves::run_evacuate(args, global),
        Command::Bootstrap(args) => bootstrap::run(args, global),
    }
}
