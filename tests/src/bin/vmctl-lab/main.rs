//! `vmctl-lab`: bring up, show and tear down a lab of real libvirt hosts
//! on this machine. Needs root.
#![allow(clippy::print_stdout, clippy::print_stderr)] // reason: a command-line tool

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use vmctl_lab::{GuestSpec, Lab, LabSpec};

mod demo;

/// A lab of real libvirt/KVM hosts on one machine, for trying vmctl.
#[derive(Debug, Parser)]
#[command(name = "vmctl-lab", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Bring up hosts and keep them until Ctrl-C.
    Up {
        /// Host names.
        #[arg(long, value_delimiter = ',', default_value = "host1,host2")]
        names: Vec<String>,
        /// Also start a busy test guest on the first host.
        #[arg(long)]
        guest: bool,
    },
    /// Tear down labs whose owner has gone (all labs with --all).
    Down {
        #[arg(long)]
        all: bool,
    },
    /// The demo: the main job of vmctl on a lab of host1 and host2.
    Demo {
        /// Keep the lab after the demo until Ctrl-C.
        #[arg(long)]
        hold: bool,
    },
}

fn main() {
    if let Err(e) = run(Cli::parse()) {
        eprintln!("vmctl-lab: {e:#}");
        std::process::exit(1);
    }
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Cmd::Up { names, guest } => up(&names, guest),
        Cmd::Down { all } => {
            let gone = if all {
                vmctl_lab::reap_all()
            } else {
                vmctl_lab::reap_stale()
            };
            println!("tore down {} lab(s)", gone.len());
            Ok(())
        }
        Cmd::Demo { hold } => demo::run(hold, &*interrupted()?),
    }
}

/// A flag that Ctrl-C (or SIGTERM) raises.
pub fn interrupted() -> Result<Arc<AtomicBool>> {
    let flag = Arc::new(AtomicBool::new(false));
    let f = flag.clone();
    ctrlc::set_handler(move || f.store(true, Ordering::SeqCst))
        .context("installing Ctrl-C handler")?;
    Ok(flag)
}

/// Brings up the named hosts for a person at a shell.
pub fn start_lab(names: &[String]) -> Result<Lab> {
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let spec = LabSpec {
        authorize_user_keys: true,
        ..LabSpec::named(&names)
    };
    Lab::start(&spec).context("bringing up the lab")
}

fn up(names: &[String], guest: bool) -> Result<()> {
    let stop = interrupted()?;
    let lab = start_lab(names)?;
    if guest {
        lab.nth(0).create_guest(&GuestSpec::busy("busy1"))?;
    }
    print_hosts(&lab)?;
    let inventory = lab.dir().join("vmctl.toml");
    std::fs::write(&inventory, lab.inventory(&lab.dir().join("pki")))?;
    println!("\ninventory: {}", inventory.display());
    println!(
        "ssh:       ssh -i {} root@{}",
        lab.ssh_key().display(),
        lab.nth(0).name()
    );
    println!("\nPress Ctrl-C to tear the lab down.");
    wait(&stop);
    lab.teardown();
    eprintln!("lab torn down");
    Ok(())
}

/// Waits until the flag is raised.
pub fn wait(stop: &AtomicBool) {
    while !stop.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Prints each host with its address and running guests.
pub fn print_hosts(lab: &Lab) -> Result<()> {
    println!(
        "{:<12} {:<14} {:<10} GUESTS RUNNING",
        "HOST", "ADDRESS", "HOSTNAME"
    );
    for h in lab.hosts() {
        let hostname = h.exec("hostname", &[])?;
        let guests = h.running_guests()?;
        if hostname.trim() != h.name() {
            bail!("host {} reports hostname {}", h.name(), hostname.trim());
        }
        let guests = if guests.is_empty() {
            "-".to_string()
        } else {
            guests.join(",")
        };
        println!(
            "{:<12} {:<14} {:<10} {}",
            h.name(),
            h.address(),
            hostname.trim(),
            guests
        );
    }
    Ok(())
}
