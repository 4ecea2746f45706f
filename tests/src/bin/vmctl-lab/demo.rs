//! The demo: vmctl's main job on a fresh lab of `host1` and `host2`.
//!
//! For now it brings up the lab and shows both hosts with a busy guest
//! running on host1. TODO(#6): bootstrap trust and move the guest to host2.

use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Result;
use vmctl_lab::GuestSpec;

use crate::{print_hosts, start_lab, wait};

/// Runs the demo; tears the lab down at the end, on error or on Ctrl-C.
pub fn run(hold: bool, stop: &AtomicBool) -> Result<()> {
    eprintln!("==> bringing up lab hosts host1 and host2");
    let lab = start_lab(&["host1".into(), "host2".into()])?;
    if stop.load(Ordering::SeqCst) {
        return Ok(());
    }

    eprintln!("==> starting a busy guest on host1");
    lab.host("host1").create_guest(&GuestSpec::busy("demo1"))?;
    print_hosts(&lab)?;

    if hold {
        eprintln!("\nThe lab stays up; try `ssh root@host1 hostname`. Ctrl-C tears it down.");
        wait(stop);
    }
    eprintln!("==> tearing the lab down");
    Ok(())
}
