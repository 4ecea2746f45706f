//! Fault 7: a post-copy move loses its link after the switch. vmctl says
//! the guest is split between the hosts and removes nothing; once the
//! link is back, `vmctl move --resume GUEST` finishes the move, whether
//! QEMU's transfer is still stalled or has meanwhile ended by itself. Each
//! test ends with the guest running on the destination only and working.
//!
//! TODO(#7): the other recovery, a transfer whose connection broke so that
//! both QEMUs wait in "postcopy-paused", is resumed with libvirt's
//! post-copy resume; it worked by hand here once, but is not in the suite:
//! under TCG the destination's vCPU can fault on a missing page while
//! holding QEMU's big lock, and then the destination's monitor never
//! answers libvirt's resume (vmctl gives up after 3 minutes). KVM vCPUs
//! fault without that lock.

use vmctl_lab::moving::{
    assert_guest_works_on, assert_only_on, defined_on, finish, lab_with_guest, names, spawn_move,
    start_guest_with_disk, wait_for_job,
};
use vmctl_lab::{Lab, eventually, trusted_lab_or_skip};

/// Starts a post-copy move (with `extra` options) of `guest` from the
/// first host to the second,
/// cuts the second host's link once the guest runs there, and checks what
/// vmctl says, which it returns. The link is still down on return.
fn stall(lab: &Lab, guest: &str, extra: &[&str]) -> String {
    let (h1, h2) = names(lab);
    let mut args = vec![
        guest,
        &h2,
        "--postcopy",
        "--bandwidth",
        "8",
        "--postcopy-bandwidth",
        "4",
    ];
    args.extend_from_slice(extra);
    let child = spawn_move(lab, &args);
    wait_for_job(lab.nth(0), guest);
    // Switch now, as an admin may, so that most memory is still on the
    // source when the link fails.
    eventually("the switch to post-copy", 60, || {
        lab.nth(0).virsh(&["migrate-postcopy", guest]).is_ok()
    });
    eventually("the guest to run on the destination", 60, || {
        state(lab, 1, guest).contains("running")
    });
    lab.nth(1).set_link(false).unwrap();
    // Too early: libvirt has not given up on the move yet (for 30 s).
    let early = lab.vmctl(&["move", "--resume", guest]);
    let said = String::from_utf8_lossy(&early.stderr);
    assert!(!early.status.success(), "an early --resume succeeded");
    assert!(said.contains("still under way"), "{said}");

    let (ok, err) = finish(child);
    assert!(!ok, "move reported success: {err}");
    assert!(
        err.contains(&format!("part of its memory is still on {h1}")),
        "{err}"
    );
    assert!(err.contains("move not completed"), "{err}");
    assert!(
        err.contains(&format!("vmctl move --resume {guest}")),
        "{err}"
    );
    // Both halves are kept: nothing was undefined or removed.
    assert_eq!(defined_on(lab, guest), [h1, h2]);
    err
}

/// Brings the second host's link up and waits until vmctl reaches it (a
/// link just back may refuse connections for a moment, as vmctl says).
fn link_back(lab: &Lab) {
    lab.nth(1).set_link(true).unwrap();
    let h2 = lab.nth(1).name();
    eventually("vmctl to reach the host again", 60, || {
        lab.vmctl(&["list", "--host", h2]).status.success()
    });
}

/// `virsh domstate --reason` of `guest` on the lab's `nth` host.
fn state(lab: &Lab, nth: usize, guest: &str) -> String {
    lab.nth(nth)
        .virsh(&["domstate", "--reason", guest])
        .unwrap_or_default()
}

/// `vmctl move --resume` said `said`; the guest now runs on the second
/// host only, and works; a second `--resume` has nothing left to do.
fn assert_finished(lab: &Lab, guest: &str, said: &str) {
    let (_, h2) = names(lab);
    assert_only_on(lab, guest, &h2);
    assert_guest_works_on(lab, guest, &h2);
    let again = lab.vmctl(&["move", "--resume", guest]);
    let err = String::from_utf8_lossy(&again.stderr);
    assert!(!again.status.success(), "a second --resume succeeded");
    assert!(err.contains("nothing to resume"), "{err}");
    assert!(said.contains(&h2), "{said}");
}

#[test]
fn link_back_then_resume_waits_for_the_transfer() {
    let Some(lab) = trusted_lab_or_skip(2) else {
        return;
    };
    // A guest with a disk of known content, copied along with the move.
    let (disk, before) = start_guest_with_disk(&lab, "p1", 16, 8, 0x5a);

    let err = stall(&lab, "p1", &["--copy-storage"]);
    // The copy's originals stay on the source: vmctl names them.
    assert!(
        err.contains(&format!("`virsh vol-delete PATH` there: {disk}")),
        "{err}"
    );
    // While the destination cannot be reached, --resume says so.
    let out = lab.vmctl(&["move", "--resume", "p1"]);
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{said}");
    assert!(said.contains("could not be reached"), "{said}");
    assert_eq!(defined_on(&lab, "p1").len(), 2);
    link_back(&lab);
    // QEMU never noticed the outage: its transfer goes on, and --resume
    // waits for it, then removes the definition libvirt left on the source.
    let said = lab.vmctl_ok(&["move", "--resume", "p1"]);
    assert!(said.contains("p1 is running on"), "{said}");
    assert_finished(&lab, "p1", &said);
    assert_eq!(
        lab.nth(1).disk_checksum(&disk).unwrap(),
        before,
        "the disk's content changed"
    );
}

#[test]
fn move_that_ended_by_itself_is_tidied_by_resume() {
    let Some(lab) = lab_with_guest("p3") else {
        return;
    };
    let err = stall(&lab, "p3", &[]);
    assert!(!err.contains("vol-delete"), "{err}");
    link_back(&lab);
    eventually("the transfer to end by itself", 180, || {
        state(&lab, 0, "p3").contains("migrated")
    });
    // libvirt left the source's definition behind, shut off.
    assert_eq!(defined_on(&lab, "p3").len(), 2);
    let said = lab.vmctl_ok(&["move", "--resume", "p3"]);
    assert!(said.contains("had finished moving by itself"), "{said}");
    assert!(
        said.contains(&format!(
            "removed its old definition on {}",
            lab.nth(0).name()
        )),
        "{said}"
    );
    assert_finished(&lab, "p3", &said);
}
