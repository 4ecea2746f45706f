//! `vmctl`: the command line. It parses arguments, calls into `vmctl-core`
//! and `vmctl-pki`, and prints results (stdout) and progress (stderr).

use clap::Parser;

/// Run a fleet of libvirt/KVM hosts over mutual TLS.
#[derive(Debug, Parser)]
#[command(name = "vmctl", version, about)]
struct Cli {
    /// More log output on stderr (-v info, -vv debug, -vvv trace).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
}

fn main() {
    let _cli = Cli::parse();
}
