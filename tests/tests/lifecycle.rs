//! Guest lifecycle end to end: the real `vmctl` binary against lab hosts
//! trusted by the test fixture, outcomes checked with each host's own
//! libvirt.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use vmctl_lab::{GuestSpec, Host, LabSpec, lab_or_skip, trust, virt_type, vmctl_bin};

/// `vmctl --config <lab inventory>`.
struct Vmctl {
    config: PathBuf,
}

impl Vmctl {
    fn new(config: &Path) -> Vmctl {
        Vmctl {
            config: config.to_path_buf(),
        }
    }

    fn command(&self) -> Command {
        let mut c = Command::new(vmctl_bin());
        c.arg("--config").arg(&self.config);
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command().args(args).output().expect("vmctl runs")
    }

    /// Runs vmctl, asserting success; returns stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "vmctl {args:?} failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            stderr(&out)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Runs vmctl expecting failure with `code`; returns the first stderr line.
fn refused(vmctl: &Vmctl, args: &[&str], code: i32) -> String {
    let out = vmctl.run(args);
    assert_eq!(
        out.status.code(),
        Some(code),
        "vmctl {args:?}: {}",
        stderr(&out)
    );
    stderr(&out).lines().next().unwrap_or_default().to_owned()
}

fn domstate(host: &Host, guest: &str) -> String {
    host.virsh(&["domstate", guest])
        .expect("virsh domstate")
        .trim()
        .to_owned()
}

fn volumes(host: &Host) -> String {
    host.virsh(&["vol-list", "default"]).unwrap_or_default()
}

#[test]
fn guest_is_created_listed_reconfigured_stopped_started_and_deleted() {
    let Some(lab) = lab_or_skip(&LabSpec::hosts(2)) else {
        return;
    };
    let vmctl = Vmctl::new(&trust::install(&lab).unwrap());
    let (h1, h2) = (lab.nth(0), lab.nth(1));
    let virt = virt_type();

    // Create on host1 with room to grow; the host's libvirt has it running.
    vmctl.ok(&[
        "create",
        "g1",
        "--host",
        h1.name(),
        "--vcpus",
        "1",
        "--max-vcpus",
        "2",
        "--memory",
        "128M",
        "--max-memory",
        "256M",
        "--disk",
        "64M",
        "--virt-type",
        &virt,
    ]);
    assert_eq!(domstate(h1, "g1"), "running");
    assert!(
        volumes(h1).contains("g1.qcow2"),
        "no volume: {}",
        volumes(h1)
    );

    // Listed, on its host.
    let listed = vmctl.ok(&["list"]);
    let line = listed
        .lines()
        .find(|l| l.starts_with("g1 "))
        .unwrap_or_default();
    assert!(
        line.contains(h1.name()) && line.contains("running"),
        "{listed}"
    );
    let json = vmctl.ok(&["--output", "json", "list", "--all"]);
    assert!(
        json.contains("\"name\": \"g1\"") && json.contains("g1.qcow2"),
        "{json}"
    );

    // vCPUs live, memory in the definition only.
    vmctl.ok(&["reconfigure", "g1", "--vcpus", "2", "--live"]);
    let live = h1
        .virsh(&["vcpucount", "g1", "--live", "--active"])
        .unwrap();
    assert_eq!(live.trim(), "2");
    vmctl.ok(&["reconfigure", "g1", "--memory", "192M", "--persistent"]);
    let inactive = h1.virsh(&["dumpxml", "g1", "--inactive"]).unwrap();
    assert!(
        inactive.contains("<currentMemory unit='KiB'>196608</currentMemory>"),
        "{inactive}"
    );

    // Bad input: each one clear line and a non-zero exit.
    let line = refused(&vmctl, &["reconfigure", "g1", "--vcpus", "8"], 2);
    assert!(line.contains("at most 2 vCPUs"), "{line}");
    let line = refused(&vmctl, &["start", "nosuch"], 2);
    assert!(line.contains("no guest nosuch"), "{line}");
    let line = refused(&vmctl, &["create", "g9", "--host", "nohost"], 2);
    assert!(line.contains("unknown host nohost"), "{line}");
    let line = refused(
        &vmctl,
        &["create", "g9", "--host", h1.name(), "--memory", "12Q"],
        2,
    );
    assert!(
        line.contains("unknown unit \\\"Q\\\"") || line.contains("unknown unit"),
        "{line}"
    );
    let line = refused(
        &vmctl,
        &["create", "g1", "--host", h2.name(), "--virt-type", &virt],
        2,
    );
    assert!(line.contains("already exists on"), "{line}");
    assert!(h2.defined_guests().unwrap().is_empty());

    // A name defined on two hosts is flagged, and needs GUEST@HOST.
    h2.define_guest(&GuestSpec::idle("g1")).unwrap();
    let listed = vmctl.ok(&["list", "--all"]);
    assert_eq!(listed.matches("duplicate name").count(), 2, "{listed}");
    let line = refused(&vmctl, &["stop", "g1"], 2);
    assert!(line.contains("name one as g1@HOST"), "{line}");
    vmctl.ok(&["destroy", &format!("g1@{}", h2.name())]);
    h2.virsh(&["undefine", "g1"]).unwrap();

    // Stop (the firmware-only guest ignores ACPI, so it is forced), start.
    vmctl.ok(&["stop", "g1", "--timeout", "2", "--force"]);
    assert_eq!(domstate(h1, "g1"), "shut off");
    vmctl.ok(&["start", &format!("g1@{}", h1.name())]);
    assert_eq!(domstate(h1, "g1"), "running");

    // Delete refuses without --yes off a terminal, then removes guest and volume.
    let out = vmctl
        .command()
        .args(["delete", "g1"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    vmctl.ok(&["delete", "g1", "--yes"]);
    assert!(h1.defined_guests().unwrap().is_empty());
    assert!(!volumes(h1).contains("g1.qcow2"), "{}", volumes(h1));

    // --keep-storage leaves the volume.
    vmctl.ok(&[
        "create",
        "g2",
        "--host",
        h2.name(),
        "--disk",
        "16M",
        "--no-start",
        "--virt-type",
        &virt,
    ]);
    vmctl.ok(&["delete", "g2", "--yes", "--keep-storage"]);
    assert!(h2.defined_guests().unwrap().is_empty());
    assert!(volumes(h2).contains("g2.qcow2"), "{}", volumes(h2));
}

/// Runs vmctl, killing it if it has not returned after `limit` (a hang
/// guard, not a timing check).
fn vmctl_guarded(vmctl: &Vmctl, args: &[&str], limit: Duration) -> Output {
    let mut child = vmctl
        .command()
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("vmctl runs");
    let deadline = Instant::now() + limit;
    while child.try_wait().expect("wait for vmctl").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("vmctl {args:?} did not return");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    child.wait_with_output().expect("vmctl output")
}

#[test]
fn hosts_reports_a_stopped_daemon_and_a_silent_host_without_stalling() {
    let Some(lab) = lab_or_skip(&LabSpec::hosts(3)) else {
        return;
    };
    let vmctl = Vmctl::new(&trust::install(&lab).unwrap());
    let (h1, h2, h3) = (lab.nth(0), lab.nth(1), lab.nth(2));
    h2.stop_daemon().unwrap();
    h3.set_link(false).unwrap();

    let args = ["hosts", "--connect-timeout", "3"];
    let out = vmctl_guarded(&vmctl, &args, Duration::from_secs(60));
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    let row = |h: &Host| {
        text.lines()
            .find(|l| l.starts_with(h.name()))
            .unwrap_or_default()
            .to_owned()
    };
    assert!(
        row(h1).contains(" ok ") && row(h1).contains("QEMU"),
        "{text}"
    );
    assert!(row(h2).contains("unreachable"), "{text}");
    assert!(row(h3).contains("unreachable"), "{text}");
    assert!(text.contains("did not answer within 3s"), "{text}");
    assert!(text.contains(&format!("{}: ", h2.name())), "{text}");

    let mut json_args = vec!["--output", "json"];
    json_args.extend(args);
    let out = vmctl_guarded(&vmctl, &json_args, Duration::from_secs(60));
    let json = String::from_utf8_lossy(&out.stdout);
    assert_eq!(json.matches("\"reachable\": false").count(), 2, "{json}");
    assert!(json.contains("\"reason\""), "{json}");
    h3.set_link(true).unwrap();
}

#[test]
fn refused_client_certificate_is_explained() {
    let Some(lab) = lab_or_skip(&LabSpec::hosts(1)) else {
        return;
    };
    let vmctl = Vmctl::new(&trust::install(&lab).unwrap());
    let h1 = lab.nth(0);
    // Only a DN nobody has is allowed: the daemon refuses the admin.
    let conf = h1.private_path("/etc/libvirt/libvirtd.conf");
    let mut text = std::fs::read_to_string(&conf).unwrap();
    text.push_str("tls_allowed_dn_list = [\"CN=nobody\"]\n");
    std::fs::write(&conf, text).unwrap();
    h1.restart_daemon().unwrap();

    let out = vmctl.run(&["hosts"]);
    assert_eq!(out.status.code(), Some(3));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!("run `vmctl bootstrap {}`", h1.name())),
        "{text}"
    );
}
