//! `vmctl move` and `vmctl evacuate` on real lab hosts: guests change
//! hosts, run on exactly one, and lose nothing.

use std::process::Stdio;
use std::time::Duration;

use vmctl_lab::moving::{assert_guest_works_on, start_guest_with_disk};
use vmctl_lab::{GuestSpec, Lab, trusted_lab_or_skip};

fn running_on(lab: &Lab, guest: &str) -> Vec<String> {
    lab.running_on(guest).unwrap()
}

fn defined_on(lab: &Lab, guest: &str) -> Vec<String> {
    lab.defined_on(guest).unwrap()
}

fn assert_only_on(lab: &Lab, guest: &str, host: &str) {
    assert_eq!(
        running_on(lab, guest),
        vec![host],
        "{guest} should run only on {host}"
    );
    assert_eq!(
        defined_on(lab, guest),
        vec![host],
        "{guest} should be defined only on {host}"
    );
}

fn started_busy(lab: &Lab, host: usize, name: &str) -> String {
    let h = lab.nth(host);
    h.create_guest(&GuestSpec::busy(name)).unwrap();
    assert_guest_works_on(lab, name, h.name());
    h.name().to_string()
}

#[test]
fn busy_guest_moves_live_and_back_with_and_without_tls() {
    let Some(lab) = trusted_lab_or_skip(2) else {
        return;
    };
    let (h1, h2) = (lab.nth(0).name().to_string(), lab.nth(1).name().to_string());
    started_busy(&lab, 0, "mover");

    lab.vmctl_ok(&["move", "mover", &h2]);
    assert_only_on(&lab, "mover", &h2);
    assert_guest_works_on(&lab, "mover", &h2);

    lab.vmctl_ok(&["move", "mover", &h1, "--tls"]);
    assert_only_on(&lab, "mover", &h1);
    assert_guest_works_on(&lab, "mover", &h1);

    // --output json prints one event per line, ending with a finished move.
    let out = lab.vmctl_ok(&["--output", "json", "move", "mover", &h2]);
    let last: serde_json::Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
    assert_eq!(last["event"], "finished");
    assert_eq!(last["ok"], true);
    assert_eq!(last["running_on"], h2.as_str());
    assert_only_on(&lab, "mover", &h2);
}

#[test]
fn refused_and_aborted_moves_leave_the_guest_on_its_source() {
    let Some(lab) = trusted_lab_or_skip(2) else {
        return;
    };
    let h2 = lab.nth(1).name().to_string();
    let h1 = started_busy(&lab, 0, "stay");

    // A guest of the same name on the destination: refused before anything moves.
    lab.nth(1).define_guest(&GuestSpec::idle("stay")).unwrap();
    let out = lab.vmctl(&["move", "stay", &h2]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("name one as stay@HOST"), "{err}");
    let out = lab.vmctl(&["move", &format!("stay@{h1}"), &h2]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains(&format!("{h2} already has a guest named stay")),
        "{err}"
    );
    assert_eq!(running_on(&lab, "stay"), vec![h1.clone()]);
    lab.nth(1).virsh(&["undefine", "stay"]).unwrap();

    // A slow move interrupted half-way: the guest stays on the source.
    let child = lab
        .vmctl_command()
        .args(["move", "stay", &h2, "--bandwidth", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(4));
    let pid = child.id().to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap()
            .success()
    );
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "interrupted move reported success: {err}"
    );
    assert!(err.contains(&format!("stay is running on {h1}")), "{err}");
    assert_only_on(&lab, "stay", &h1);
    assert_guest_works_on(&lab, "stay", &h1);

    // A timeout does the same.
    let out = lab.vmctl(&["move", "stay", &h2, "--bandwidth", "1", "--timeout", "3"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--timeout"));
    assert_only_on(&lab, "stay", &h1);
}

#[test]
fn stopped_guest_moves_offline() {
    let Some(lab) = trusted_lab_or_skip(2) else {
        return;
    };
    let h2 = lab.nth(1).name().to_string();
    lab.nth(0)
        .define_guest(&GuestSpec::idle("sleeper"))
        .unwrap();

    let out = lab.vmctl(&["move", "sleeper", &h2]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--offline"));

    lab.vmctl_ok(&["move", "sleeper", &h2, "--offline"]);
    assert_eq!(defined_on(&lab, "sleeper"), vec![h2.clone()]);
    assert!(running_on(&lab, "sleeper").is_empty());
}

#[test]
fn copy_storage_moves_the_disk_and_its_content() {
    let Some(lab) = trusted_lab_or_skip(2) else {
        return;
    };
    let h2 = lab.nth(1).name().to_string();
    let (path, before) = start_guest_with_disk(&lab, "disky", 32, 8, 0x5a);

    // Without --copy-storage the move is refused and says what to add.
    let out = lab.vmctl(&["move", "disky", &h2]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--copy-storage"));

    lab.vmctl_ok(&["move", "disky", &h2, "--copy-storage"]);
    assert_only_on(&lab, "disky", &h2);
    assert_eq!(
        lab.nth(1).disk_checksum(&path).unwrap(),
        before,
        "disk content changed"
    );
    assert_guest_works_on(&lab, "disky", &h2);
}

#[test]
fn evacuate_drains_a_host_of_four_guests() {
    let Some(lab) = trusted_lab_or_skip(3) else {
        return;
    };
    let h1 = lab.nth(0);
    let guests = ["ev1", "ev2", "ev3", "ev4"];
    for g in guests {
        h1.create_guest(&GuestSpec::idle(g)).unwrap();
    }
    let out = lab.vmctl_ok(&["evacuate", h1.name(), "--dry-run"]);
    assert!(out.contains("would move"), "{out}");
    assert_eq!(
        h1.running_guests().unwrap().len(),
        4,
        "dry run moved something"
    );

    lab.vmctl_ok(&["evacuate", h1.name()]);
    assert!(h1.running_guests().unwrap().is_empty(), "host1 not empty");
    for g in guests {
        let on = running_on(&lab, g);
        assert_eq!(on.len(), 1, "{g} runs on {on:?}");
        assert_ne!(on[0], h1.name());
    }
}

#[test]
fn guest_made_by_vmctl_create_moves_with_its_disk() {
    let Some(lab) = trusted_lab_or_skip(2) else {
        return;
    };
    let (h1, h2) = (lab.nth(0).name().to_string(), lab.nth(1).name().to_string());
    // vmctl's own domain XML: KVM where offered, a CPU model with features,
    // a disk in the host's default pool.
    lab.vmctl_ok(&[
        "create", "made", "--host", &h1, "--memory", "128M", "--disk", "64M",
    ]);
    let plan = lab.vmctl_ok(&["move", "made", &h2, "--copy-storage", "--dry-run"]);
    assert!(plan.contains("will be copied"), "{plan}");

    lab.vmctl_ok(&["move", "made", &h2, "--copy-storage"]);
    assert_only_on(&lab, "made", &h2);
    let vols = lab.nth(1).virsh(&["vol-list", "default"]).unwrap();
    assert!(vols.contains("made"), "no disk on {h2}: {vols}");
    // The original is gone from the source, so a move back finds no stale copy.
    let left = lab.nth(0).virsh(&["vol-list", "default"]).unwrap();
    assert!(!left.contains("made"), "original disk left on {h1}: {left}");
    lab.vmctl_ok(&["move", "made", &h1, "--copy-storage"]);
    assert_only_on(&lab, "made", &h1);
}
