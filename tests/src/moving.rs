//! Helpers for suites that disturb moves: a `vmctl move` run in the
//! background, its end awaited with a deadline, and the guest's placement
//! asserted afterwards.

use std::process::{Child, Output, Stdio};
use std::time::{Duration, Instant};

use crate::{GuestSpec, Host, Lab, eventually, trusted_lab_or_skip};

/// How long a background move may take before it is killed.
const MOVE_DEADLINE: Duration = Duration::from_secs(240);

/// A trusted two-host lab with a busy guest running on the first host.
pub fn lab_with_guest(guest: &str) -> Option<Lab> {
    let lab = trusted_lab_or_skip(2)?;
    lab.nth(0).create_guest(&GuestSpec::busy(guest)).unwrap();
    Some(lab)
}

/// The names of the lab's first two hosts.
pub fn names(lab: &Lab) -> (String, String) {
    (lab.nth(0).name().to_string(), lab.nth(1).name().to_string())
}

/// `vmctl move ARGS` running in the background.
pub fn spawn_move(lab: &Lab, args: &[&str]) -> Child {
    let mut c = lab.vmctl_command();
    c.arg("move")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c.spawn().unwrap()
}

/// Waits for a background vmctl (killing it after [`MOVE_DEADLINE`]):
/// whether it succeeded, and its standard error.
pub fn finish(child: Child) -> (bool, String) {
    let pid = child.id();
    let waiter = std::thread::spawn(move || child.wait_with_output().unwrap());
    let deadline = Instant::now() + MOVE_DEADLINE;
    while !waiter.is_finished() {
        if Instant::now() > deadline {
            let _ = std::process::Command::new("kill")
                .args(["-9", &pid.to_string()])
                .status();
            panic!("vmctl move did not end within {MOVE_DEADLINE:?}");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let out: Output = waiter.join().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Waits until a migration job runs on `host` for `guest`.
pub fn wait_for_job(host: &Host, guest: &str) {
    eventually("the migration job", 60, || {
        host.virsh(&["domjobinfo", guest])
            .is_ok_and(|o| o.contains("Unbounded"))
    });
    std::thread::sleep(Duration::from_millis(500));
}

/// Hosts running `guest`; empty while a host does not answer.
pub fn running_on(lab: &Lab, guest: &str) -> Vec<String> {
    lab.running_on(guest).unwrap_or_default()
}

/// Hosts defining `guest`; empty while a host does not answer.
pub fn defined_on(lab: &Lab, guest: &str) -> Vec<String> {
    lab.defined_on(guest).unwrap_or_default()
}

/// The guest runs on `host` only and nothing of it is defined elsewhere.
pub fn assert_only_on(lab: &Lab, guest: &str, host: &str) {
    eventually(&format!("{guest} only on {host}"), 90, || {
        running_on(lab, guest) == [host] && defined_on(lab, guest) == [host]
    });
}

/// Waits until the guest's console on `host` shows a pass it had not shown.
pub fn assert_guest_works_on(lab: &Lab, guest: &str, host: &str) {
    let h = lab.host(host);
    let before = h.guest_console(guest).matches("pass").count();
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline {
        if h.guest_console(guest).matches("pass").count() > before {
            return;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    let console = h.guest_console(guest);
    let tail: Vec<&str> = console.lines().rev().take(15).collect();
    panic!(
        "{guest} makes no progress on {host}; its console ends:\n{}",
        tail.into_iter().rev().collect::<Vec<_>>().join("\n")
    );
}

/// Starts on the lab's first host a busy guest `name` with a `disk_mib`
/// MiB disk whose first `written_mib` MiB hold the byte `pattern`;
/// returns the disk's path and checksum.
pub fn start_guest_with_disk(
    lab: &Lab,
    name: &str,
    disk_mib: u32,
    written_mib: u32,
    pattern: u8,
) -> (String, String) {
    let spec = GuestSpec::busy(name).with_disk(disk_mib);
    let path = spec.disk_path();
    let host = lab.nth(0);
    host.define_guest(&spec).unwrap();
    let write = format!("write -P {pattern:#04x} 0 {written_mib}M");
    host.exec("qemu-io", &["-f", "qcow2", "-c", &write, &path])
        .unwrap();
    let checksum = host.disk_checksum(&path).unwrap();
    host.virsh(&["start", name]).unwrap();
    (path, checksum)
}
