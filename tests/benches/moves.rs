//! `vmctl move` against `virsh migrate`, and `vmctl evacuate` against a
//! sequential `virsh migrate` loop, on real lab hosts, printed side by side.
//! Run with `cargo bench -p vmctl-lab --bench moves` (as root).
//!
//! Moves alternate direction and tool (vmctl there, virsh back, ...) so
//! both see the same guest and the same noise; medians are compared.

use std::process::Command;
use std::time::{Duration, Instant};

use vmctl_lab::{GuestSpec, Lab, trusted_lab_or_skip};

const ROUNDS: usize = 5;

fn virsh_migrate(lab: &Lab, guest: &str, from: &str, to: &str) -> Duration {
    let pki = lab.pki_dir().join("admin");
    let src = format!("qemu+tls://{from}/system?pkipath={}", pki.display());
    let dst = format!("qemu+tls://{to}/system");
    let start = Instant::now();
    let out = Command::new("virsh")
        .args([
            "-q",
            "-c",
            &src,
            "migrate",
            "--live",
            "--p2p",
            "--persistent",
        ])
        .args(["--undefinesource", guest, &dst])
        .output()
        .expect("run virsh");
    let took = start.elapsed();
    assert!(
        out.status.success(),
        "virsh: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    took
}

fn vmctl_move(lab: &Lab, guest: &str, to: &str) -> Duration {
    let start = Instant::now();
    lab.vmctl_ok(&["move", guest, to]);
    start.elapsed()
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

fn bench_move() {
    let Some(lab) = trusted_lab_or_skip(2) else {
        return;
    };
    let (h1, h2) = (lab.nth(0).name().to_owned(), lab.nth(1).name().to_owned());
    lab.nth(0)
        .create_guest(&GuestSpec::busy("bench"))
        .expect("guest");
    std::thread::sleep(Duration::from_secs(5));
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        ours.push(vmctl_move(&lab, "bench", &h2));
        theirs.push(virsh_migrate(&lab, "bench", &h2, &h1));
    }
    let (a, b) = (median(ours.clone()), median(theirs.clone()));
    println!("move of a busy 256 MiB guest, live p2p, {ROUNDS} rounds each, alternating:");
    println!(
        "  vmctl move     median {:>6.2} s  all {:?}",
        secs(a),
        ours.iter()
            .map(|d| format!("{:.2}", secs(*d)))
            .collect::<Vec<_>>()
    );
    println!(
        "  virsh migrate  median {:>6.2} s  all {:?}",
        secs(b),
        theirs
            .iter()
            .map(|d| format!("{:.2}", secs(*d)))
            .collect::<Vec<_>>()
    );
    let ratio = secs(a) / secs(b);
    println!(
        "  vmctl/virsh {ratio:.2} (target <= 1.10) {}",
        if ratio <= 1.10 { "ok" } else { "MISSED" }
    );
}

fn bench_evacuate() {
    let Some(lab) = trusted_lab_or_skip(3) else {
        return;
    };
    let names: Vec<String> = lab.hosts().iter().map(|h| h.name().to_owned()).collect();
    let guests = ["ev1", "ev2", "ev3", "ev4"];
    for g in guests {
        lab.nth(0).create_guest(&GuestSpec::busy(g)).expect("guest");
    }
    std::thread::sleep(Duration::from_secs(5));

    // virsh: one after the other, alternating destinations.
    let start = Instant::now();
    for (i, g) in guests.iter().enumerate() {
        virsh_migrate(&lab, g, &names[0], &names[1 + i % 2]);
    }
    let sequential = start.elapsed();

    // Back to host1, then vmctl evacuate (2 at a time, its default).
    for (i, g) in guests.iter().enumerate() {
        virsh_migrate(&lab, g, &names[1 + i % 2], &names[0]);
    }
    let start = Instant::now();
    lab.vmctl_ok(&["evacuate", &names[0]]);
    let ours = start.elapsed();
    assert!(lab.nth(0).running_guests().expect("list").is_empty());

    println!("drain a host of 4 busy guests onto 2 others:");
    println!("  virsh migrate loop  {:>6.2} s", secs(sequential));
    println!("  vmctl evacuate      {:>6.2} s", secs(ours));
    let ratio = secs(ours) / secs(sequential);
    println!(
        "  vmctl/virsh {ratio:.2} (target <= 0.60) {}",
        if ratio <= 0.60 { "ok" } else { "MISSED" }
    );
}

fn main() {
    // `cargo test --benches` runs this without --bench: skip the labs.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    bench_move();
    bench_evacuate();
}
