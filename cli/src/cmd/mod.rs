//! The command groups. Each lives in its own module with its own clap
//! arguments; add a group by adding a variant and a match arm here.

mod bootstrap;
mod pki;

use std::process::ExitCode;

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
}

/// Runs `command`.
pub fn run(command: Command, global: &Global) -> Result<ExitCode, Failure> {
    match command {
        Command::Pki(command) => pki::run(command, global),
        Command::Bootstrap(args) => bootstrap::run(args, global),
    }
}
