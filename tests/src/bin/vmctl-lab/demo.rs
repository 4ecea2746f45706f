//! The demo: vmctl's main job on a fresh lab of `host1` and `host2`.
//!
//! It brings up two hosts as freshly installed ones look, makes them trust
//! each other and the admin (`vmctl pki init`, `vmctl bootstrap`), creates
//! a busy guest on host1 with `vmctl create --xml`, moves it live to host2
//! with `vmctl move` (progress bar on a terminal) and shows where it runs.
//! Every step is the real `vmctl` binary, printed before it runs.

use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, Result, bail};
use vmctl_lab::{GuestSpec, Lab, virt_type, vmctl_bin};

use crate::{print_hosts, start_lab, wait};

/// Runs the demo; tears the lab down at the end, on error or on Ctrl-C.
pub fn run(hold: bool, stop: &AtomicBool) -> Result<()> {
    step("bringing up lab hosts host1 and host2 (fresh: TLS off, no certificates)");
    let lab = start_lab(&["host1".into(), "host2".into()])?;
    print_hosts(&lab)?;
    let inventory = lab.write_inventory();
    let xml = lab.dir().join("demo1.xml");
    std::fs::write(&xml, GuestSpec::busy("demo1").xml(&virt_type()))?;
    let xml = xml.display().to_string();

    let steps: [(&str, Vec<&str>); 7] = [
        ("create the certificate authority", vec!["pki", "init"]),
        (
            "bootstrap mutual TLS on every host, over SSH",
            vec!["bootstrap"],
        ),
        (
            "create a busy guest on host1",
            vec!["create", "demo1", "--host", "host1", "--xml", &xml],
        ),
        ("the fleet's guests", vec!["list"]),
        ("move it live to host2", vec!["move", "demo1", "host2"]),
        ("the fleet's guests", vec!["list"]),
        ("the hosts", vec!["hosts"]),
    ];
    for (what, args) in steps {
        if stop.load(Ordering::SeqCst) {
            bail!("interrupted");
        }
        step(what);
        vmctl(&lab, &inventory.display().to_string(), &args)?;
    }
    check_guest_on(&lab, "host2")?;

    if hold {
        eprintln!("\nThe lab stays up; try `ssh root@host1 hostname` or");
        eprintln!(
            "`vmctl --config {} list`. Ctrl-C tears it down.",
            inventory.display()
        );
        wait(stop);
    }
    step("tearing the lab down");
    Ok(())
}

fn step(what: &str) {
    eprintln!("\n==> {what}");
}

fn vmctl(_lab: &Lab, inventory: &str, args: &[&str]) -> Result<()> {
    eprintln!("$ vmctl --config {inventory} {}", args.join(" "));
    let status = Command::new(vmctl_bin())
        .arg("--config")
        .arg(inventory)
        .args(args)
        .status()
        .with_context(|| format!("running {}", vmctl_bin().display()))?;
    if !status.success() {
        bail!("vmctl {} failed ({status})", args.join(" "));
    }
    Ok(())
}

/// Confirms from host2's own libvirtd that the guest runs there, and that
/// host1 no longer has it.
fn check_guest_on(lab: &Lab, host: &str) -> Result<()> {
    let there = lab.host(host).running_guests()?;
    let left = lab.host("host1").defined_guests()?;
    if !there.iter().any(|g| g == "demo1") || left.iter().any(|g| g == "demo1") {
        bail!("demo1 is not where vmctl said: {host} runs {there:?}, host1 has {left:?}");
    }
    eprintln!("\n{host}'s own libvirtd confirms: demo1 runs there, and host1 has no copy.");
    Ok(())
}
