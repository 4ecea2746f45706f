//! `vmctl`: the command line. It parses arguments, calls into `vmctl-core`
//! and `vmctl-pki`, and prints results (stdout) and progress (stderr).

mod cmd;
mod exit;
mod logs;
mod output;

use std::process::ExitCode;

use clap::Parser;

/// Run a fleet of libvirt/KVM hosts over mutual TLS.
#[derive(Debug, Parser)]
#[command(name = "vmctl", version, about)]
struct Cli {
    /// Inventory file read after the standard places; it must exist.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<std::path::PathBuf>,
    /// How results are printed on stdout.
    #[arg(long, global = true, value_enum, default_value_t = output::Output::Human)]
    output: output::Output,
    /// More log output on stderr (-v info, -vv debug, -vvv trace).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    #[command(subcommand)]
    command: cmd::Command,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    logs::init(cli.verbose);
    let global = cmd::Global {
        config: cli.config,
        output: cli.output,
    };
    match cmd::run(cli.command, &global) {
        Ok(code) => code,
        Err(failure) => {
            eprint!("{}", failure.render());
            failure.exit.into()
        }
    }
}
