//! How long `vmctl bootstrap` takes on 1 and on 4 fresh lab hosts. Hosts
//! are worked on in parallel, so 4 should take less than twice as long
//! as 1. Run with `cargo bench -p vmctl-lab --bench bootstrap` (as root).

use std::process::Command;
use std::time::{Duration, Instant};

use vmctl_lab::{LabSpec, lab_or_skip, vmctl_bin};

/// Bootstraps a fresh lab of `hosts` hosts; `None` when the lab is unavailable.
fn time_bootstrap(hosts: usize) -> Option<Duration> {
    let lab = lab_or_skip(&LabSpec::hosts(hosts))?;
    let config = lab.dir().join("bench.toml");
    std::fs::write(&config, lab.inventory(&lab.dir().join("pki"))).expect("write inventory");
    let start = Instant::now();
    let out = Command::new(vmctl_bin())
        .arg("--config")
        .arg(&config)
        .args(["bootstrap", "--output", "json"])
        .output()
        .expect("run vmctl");
    let took = start.elapsed();
    assert!(
        out.status.success(),
        "bootstrap failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(took)
}

fn main() {
    // `cargo test --benches` runs this with --bench absent: skip the labs.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let (Some(one), Some(four)) = (time_bootstrap(1), time_bootstrap(4)) else {
        println!("bootstrap bench: lab unavailable, skipped");
        return;
    };
    let ratio = four.as_secs_f64() / one.as_secs_f64();
    println!("bootstrap 1 host:  {:>6.2} s", one.as_secs_f64());
    println!("bootstrap 4 hosts: {:>6.2} s", four.as_secs_f64());
    println!(
        "ratio 4/1: {ratio:.2} (target < 2.00) {}",
        if ratio < 2.0 { "ok" } else { "MISSED" }
    );
}
