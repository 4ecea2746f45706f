//! Faults injected into live moves on real lab hosts. After each: the guest
//! runs on exactly one host, no leftover definition remains on the other,
//! vmctl's exit status and message say what happened, and running the same
//! command again either completes or says why not.

use vmctl_lab::moving::{
    assert_only_on, defined_on, finish, lab_with_guest, names, running_on, spawn_move,
    start_guest_with_disk, wait_for_job,
};
use vmctl_lab::{Host, Lab, eventually, trusted_lab_or_skip};

/// No job runs on `guest` on `host` (or the guest has left the host).
fn no_job(host: &Host, guest: &str) -> bool {
    let here = host
        .defined_guests()
        .is_ok_and(|g| g.iter().any(|n| n == guest));
    !here
        || host
            .virsh(&["domjobinfo", guest])
            .is_ok_and(|o| !o.contains("Unbounded"))
}

/// A slow move of a busy guest from the first host to the second, hit by
/// `inject` half-way and healed by `heal` once vmctl has ended: vmctl fails
/// and says the guest runs on the source, it does, only there, and the same
/// move run again completes.
fn fault_mid_move(guest: &str, inject: impl FnOnce(&Lab), heal: impl FnOnce(&Lab)) {
    let Some(lab) = lab_with_guest(guest) else {
        return;
    };
    let (h1, h2) = names(&lab);
    let child = spawn_move(&lab, &[guest, &h2, "--bandwidth", "4"]);
    wait_for_job(lab.nth(0), guest);
    inject(&lab);

    let (ok, err) = finish(child);
    heal(&lab);
    assert!(!ok, "move reported success: {err}");
    assert!(
        err.contains(&format!("{guest} is running on {h1}")),
        "{err}"
    );
    assert_only_on(&lab, guest, &h1);

    lab.vmctl_ok(&["move", guest, &h2]);
    assert_only_on(&lab, guest, &h2);
}

#[test]
fn destination_daemon_killed_mid_move() {
    fault_mid_move(
        "f1",
        |lab| lab.nth(1).kill_daemon().unwrap(),
        |lab| lab.nth(1).restart_daemon().unwrap(),
    );
}

#[test]
fn link_down_mid_move_then_back() {
    fault_mid_move(
        "f2",
        |lab| lab.nth(1).set_link(false).unwrap(),
        |lab| lab.nth(1).set_link(true).unwrap(),
    );
}

#[test]
fn source_daemon_restarted_mid_move() {
    fault_mid_move("f3", |lab| lab.nth(0).restart_daemon().unwrap(), |_| {});
}

#[test]
fn vmctl_killed_mid_move_then_run_again() {
    let Some(lab) = lab_with_guest("f4") else {
        return;
    };
    let (h1, h2) = names(&lab);
    let mut child = spawn_move(&lab, &["f4", &h2]);
    wait_for_job(lab.nth(0), "f4");
    child.kill().unwrap(); // SIGKILL: no chance to abort or clean up
    child.wait().unwrap();

    // The peer-to-peer job belongs to the source daemon; it ends by itself.
    eventually("the orphaned job to end", 120, || no_job(lab.nth(0), "f4"));
    let on = running_on(&lab, "f4");
    assert_eq!(on.len(), 1, "f4 runs on {on:?}");
    assert_eq!(defined_on(&lab, "f4"), on);

    // Again: it completes, or says the guest is already there.
    let out = lab.vmctl(&["move", "f4", &h2]);
    let err = String::from_utf8_lossy(&out.stderr);
    if on[0] == h1 {
        assert!(out.status.success(), "{err}");
    } else {
        assert!(!out.status.success());
        assert!(err.contains(&format!("f4 is already on {h2}")), "{err}");
    }
    assert_only_on(&lab, "f4", &h2);
}

#[test]
fn same_guest_moved_by_two_vmctl_at_once() {
    let Some(lab) = lab_with_guest("f6") else {
        return;
    };
    let (_, h2) = names(&lab);
    let first = spawn_move(&lab, &["f6", &h2]);
    let second = spawn_move(&lab, &["f6", &h2]);
    let (a, ea) = finish(first);
    let (b, eb) = finish(second);
    assert!(
        a ^ b,
        "exactly one move should win: first {a} ({ea}), second {b} ({eb})"
    );
    let loser = if a { eb } else { ea };
    assert!(
        loser.contains("job running") || loser.contains(&format!("f6 is running on {h2}")),
        "the losing move does not say why: {loser}"
    );
    assert_only_on(&lab, "f6", &h2);
}

#[test]
fn destination_storage_fills_during_copy() {
    let Some(lab) = trusted_lab_or_skip(2) else {
        return;
    };
    let (h1, h2) = names(&lab);
    let (path, before) = start_guest_with_disk(&lab, "f5", 64, 40, 0x3c);
    let src = lab.nth(0);
    // Only 16 MiB of room where the copy goes.
    let dst = lab.nth(1);
    dst.exec(
        "mount",
        &[
            "-t",
            "tmpfs",
            "-o",
            "size=16m",
            "tmpfs",
            "/var/lib/libvirt/images",
        ],
    )
    .unwrap();

    let out = lab.vmctl(&["move", "f5", &h2, "--copy-storage"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "move reported success: {err}");
    assert!(err.contains(&format!("f5 is running on {h1}")), "{err}");
    assert_only_on(&lab, "f5", &h1);
    assert!(
        dst.exec("test", &["-e", &path]).is_err(),
        "partial copy left on {h2}"
    );
    assert_eq!(
        src.disk_checksum(&path).unwrap(),
        before,
        "source disk changed"
    );

    // Again: it fails the same way and says so; nothing is lost.
    let out = lab.vmctl(&["move", "f5", &h2, "--copy-storage"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains(&format!("f5 is running on {h1}")));
    assert_only_on(&lab, "f5", &h1);
}
