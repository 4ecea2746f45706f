//! The lab itself: real hosts with their own names, files, daemons and
//! guests, and nothing left behind.

use std::process::Command;

use vmctl_lab::{GuestSpec, LabSpec, eventually, lab_or_skip};

#[test]
fn two_hosts_run_a_busy_guest_and_leave_nothing_behind() {
    let Some(lab) = lab_or_skip(&LabSpec::hosts(2)) else {
        return;
    };
    let (h1, h2) = (lab.nth(0), lab.nth(1));
    let index = lab.index();

    // Each host has its own hostname and its own /etc/pki.
    assert_eq!(h1.exec("hostname", &[]).unwrap().trim(), h1.name());
    assert_eq!(h2.exec("hostname", &[]).unwrap().trim(), h2.name());
    h1.exec("sh", &["-c", "echo only-on-host1 > /etc/pki/x"])
        .unwrap();
    assert!(
        h2.exec("cat", &["/etc/pki/x"]).is_err(),
        "host2 sees host1's /etc/pki"
    );

    // A fresh host: stock config with TLS off, listening on its socket only.
    let conf = h1.exec("cat", &["/etc/libvirt/libvirtd.conf"]).unwrap();
    assert!(conf.contains("#listen_tls = 0"));
    assert!(
        !conf
            .lines()
            .any(|l| l.trim_start().starts_with("listen_tls"))
    );
    let listening = h1.exec("ss", &["-Htln"]).unwrap();
    assert!(
        !listening.contains(":16514"),
        "TLS port open on a fresh host"
    );

    // SSH from the admin reaches the right host, by name.
    let out = Command::new("ssh")
        .args(["-i", &lab.ssh_key().to_string_lossy()])
        .args([
            "-o",
            &format!("UserKnownHostsFile={}", lab.known_hosts().display()),
        ])
        .args(["-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes"])
        .arg(format!("root@{}", h1.name()))
        .args(["cat", "/etc/pki/x"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "ssh failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "only-on-host1");

    // A busy guest runs on host1 only and keeps dirtying memory.
    h1.create_guest(&GuestSpec::busy("busy1")).unwrap();
    assert_eq!(h1.running_guests().unwrap(), vec!["busy1"]);
    assert!(h2.running_guests().unwrap().is_empty());
    eventually("the guest's second pass", 120, || {
        h1.guest_console("busy1").contains("pass 2")
    });

    // Teardown leaves no namespace, bridge, daemon or name entry.
    let netns_prefix = format!("vmlab{index}-");
    let dir = lab.dir().to_path_buf();
    lab.teardown();
    let netns = String::from_utf8(
        Command::new("ip")
            .args(["netns", "list"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    assert!(!netns.contains(&netns_prefix), "namespaces left: {netns}");
    let bridge = Command::new("ip")
        .args(["link", "show", &format!("vmlab{index}")])
        .output()
        .unwrap();
    assert!(!bridge.status.success(), "bridge left behind");
    let hosts = std::fs::read_to_string("/etc/hosts").unwrap();
    assert!(
        !hosts.contains(&format!("# vmctl-lab {index}")),
        "/etc/hosts lines left"
    );
    assert!(!dir.exists(), "lab directory left");
}
