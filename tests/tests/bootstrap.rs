//! `vmctl bootstrap` against real lab hosts: the real `vmctl` binary, real
//! daemons, and outcomes checked from the daemons' side (who gets in over
//! TLS, which files are where, which config is in force).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use vmctl_lab::{GuestSpec, Host, Lab, LabSpec, lab_or_skip, vmctl_bin};

/// Writes the lab's inventory (with `edit` applied) and returns its path.
fn inventory(lab: &Lab, edit: impl Fn(String) -> String) -> PathBuf {
    let path = lab.dir().join("bootstrap-test.toml");
    let text = edit(lab.inventory(&lab.dir().join("pki")));
    std::fs::write(&path, text).unwrap();
    path
}

fn vmctl(config: &Path, args: &[&str]) -> Output {
    let out = Command::new(vmctl_bin())
        .arg("--config")
        .arg(config)
        .args(args)
        .output()
        .unwrap();
    eprintln!(
        "vmctl {args:?}: {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// `virsh -c qemu+tls://HOST/system?pkipath=DIR hostname` from the admin.
fn admin_hostname(host: &Host, pkipath: &Path) -> Result<String, String> {
    let uri = format!(
        "qemu+tls://{}/system?pkipath={}",
        host.name(),
        pkipath.display()
    );
    let out = Command::new("virsh")
        .args(["-q", "-c", &uri, "hostname"])
        .output()
        .unwrap();
    if out.status.success() {
        Ok(stdout(&out).trim().to_owned())
    } else {
        Err(stderr(&out))
    }
}

fn conf(host: &Host) -> String {
    host.exec("cat", &["/etc/libvirt/libvirtd.conf"]).unwrap()
}

fn libvirtd_pid(host: &Host) -> String {
    std::fs::read_to_string(host.private_path("/run/libvirt/libvirtd-lab.pid")).unwrap()
}

#[test]
fn one_bootstrap_trusts_the_fleet_and_nobody_else() {
    let Some(lab) = lab_or_skip(&LabSpec::hosts(2)) else {
        return;
    };
    let (h1, h2) = (lab.nth(0), lab.nth(1));
    let config = inventory(&lab, |s| s);
    let admin = lab.dir().join("pki/admin");
    let stock = conf(h1);

    // A dry run says what it would do and touches nothing.
    let dry = vmctl(&config, &["bootstrap", "--dry-run"]);
    assert!(dry.status.success());
    assert!(stdout(&dry).contains("+ listen_tls = 1"));
    assert!(stdout(&dry).contains("/etc/pki/libvirt/private/serverkey.pem"));
    assert!(!lab.dir().join("pki").exists(), "dry run wrote the PKI dir");
    assert_eq!(conf(h1), stock);

    let first = vmctl(&config, &["bootstrap"]);
    assert!(first.status.success());

    // Admin → each host, and each host → the other with its own certificate.
    assert_eq!(admin_hostname(h1, &admin).unwrap(), h1.name());
    assert_eq!(admin_hostname(h2, &admin).unwrap(), h2.name());
    for (from, to) in [(h1, h2), (h2, h1)] {
        let uri = format!("qemu+tls://{}/system", to.name());
        let name = from.exec("virsh", &["-q", "-c", &uri, "hostname"]).unwrap();
        assert_eq!(name.trim(), to.name());
    }

    // Comments and unrelated settings survive; DNs are as the daemon prints them.
    let edited = conf(h1);
    assert!(edited.contains("#listen_tls = 0\nlisten_tls = 1\n"));
    assert!(edited.contains("host_uuid = "));
    let dn = h1
        .exec("virt-pki-query-dn", &["/etc/pki/libvirt/clientcert.pem"])
        .unwrap();
    assert!(
        edited.contains(&format!("\"{}\"", dn.trim())),
        "{dn} not in the list"
    );
    assert!(
        h1.exec(
            "sh",
            &["-c", "ls /etc/libvirt/libvirtd.conf.vmctl-backup-*"]
        )
        .is_ok()
    );

    // Keys are owner-only; certificates readable.
    for (path, mode) in [
        ("/etc/pki/libvirt/private/serverkey.pem", "600"),
        ("/etc/pki/libvirt/private/clientkey.pem", "600"),
        ("/etc/pki/qemu/server-key.pem", "600"),
        ("/etc/pki/qemu/client-key.pem", "600"),
        ("/etc/pki/CA/cacert.pem", "644"),
        ("/etc/pki/qemu/ca-cert.pem", "644"),
    ] {
        let got = h2.exec("stat", &["-c", "%a", path]).unwrap();
        assert_eq!(got.trim(), mode, "{path}");
    }

    a_certificate_not_issued_to_a_member_is_refused(&lab, &config, &admin);
    a_busy_guest_moves_live_peer_to_peer_over_tls(h1, h2);

    // A second run changes nothing and restarts nothing.
    let pids = (libvirtd_pid(h1), libvirtd_pid(h2));
    let (conf1, conf2) = (conf(h1), conf(h2));
    let second = vmctl(&config, &["bootstrap", "--output", "json"]);
    assert!(second.status.success());
    let report: serde_json::Value = serde_json::from_slice(&second.stdout).unwrap();
    for host in report["hosts"].as_array().unwrap() {
        assert_eq!(host["outcome"], "unchanged", "{host}");
    }
    assert!(
        report["links"]
            .as_array()
            .unwrap()
            .iter()
            .all(|l| l["ok"] == true)
    );
    assert_eq!((libvirtd_pid(h1), libvirtd_pid(h2)), pids);
    assert_eq!((conf(h1), conf(h2)), (conf1, conf2));
    let human = vmctl(&config, &["bootstrap"]);
    assert!(stdout(&human).contains("nothing to change"));
}

fn a_certificate_not_issued_to_a_member_is_refused(lab: &Lab, config: &Path, admin: &Path) {
    let issued = vmctl(config, &["pki", "issue", "intruder", "--client"]);
    assert!(issued.status.success());
    let dir = lab.dir().join("intruder");
    std::fs::create_dir_all(&dir).unwrap();
    let from = lab.dir().join("pki/issued/intruder");
    std::fs::copy(admin.join("cacert.pem"), dir.join("cacert.pem")).unwrap();
    std::fs::copy(from.join("clientcert.pem"), dir.join("clientcert.pem")).unwrap();
    std::fs::copy(from.join("clientkey.pem"), dir.join("clientkey.pem")).unwrap();
    let refused = admin_hostname(lab.nth(0), &dir);
    assert!(refused.is_err(), "a non-member got in: {refused:?}");
    assert!(admin_hostname(lab.nth(0), admin).is_ok());
}

fn a_busy_guest_moves_live_peer_to_peer_over_tls(h1: &Host, h2: &Host) {
    h1.create_guest(&GuestSpec::busy("busy1")).unwrap();
    let dest = format!("qemu+tls://{}/system", h2.name());
    h1.virsh(&["migrate", "--live", "--p2p", "--tls", "busy1", &dest])
        .unwrap();
    assert_eq!(h2.running_guests().unwrap(), vec!["busy1"]);
    assert!(h1.running_guests().unwrap().is_empty());
}

#[test]
fn unknown_and_changed_ssh_host_keys_are_refused() {
    let Some(lab) = lab_or_skip(&LabSpec::hosts(1)) else {
        return;
    };
    let host = lab.nth(0);
    let known_hosts = lab.dir().join("admin/empty_known_hosts");
    std::fs::write(&known_hosts, "# nothing known yet\n").unwrap();
    let real = lab.known_hosts().display().to_string();
    let config = inventory(&lab, |s| {
        s.replace(&real, &known_hosts.display().to_string())
    });

    // Unknown: refused, nothing installed.
    let unknown = vmctl(&config, &["bootstrap"]);
    assert!(!unknown.status.success());
    assert!(
        stderr(&unknown).contains("is not in"),
        "{}",
        stderr(&unknown)
    );
    assert!(host.exec("ls", &["/etc/pki/CA/cacert.pem"]).is_err());

    // Accepted when asked, and recorded.
    let accepted = vmctl(
        &config,
        &["bootstrap", "--accept-new-host-key", "--dry-run"],
    );
    assert!(accepted.status.success());
    let recorded = std::fs::read_to_string(&known_hosts).unwrap();
    assert!(recorded.contains(host.name()));

    // Changed: refused even with --accept-new-host-key, naming file and line.
    let other = lab.dir().join("other_key");
    let keygen = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&other)
        .status()
        .unwrap();
    assert!(keygen.success());
    let pubkey = std::fs::read_to_string(other.with_extension("pub")).unwrap();
    let fake: Vec<&str> = pubkey.split_whitespace().take(2).collect();
    std::fs::write(
        &known_hosts,
        format!("# header\n{} {}\n", host.name(), fake.join(" ")),
    )
    .unwrap();
    let changed = vmctl(&config, &["bootstrap", "--accept-new-host-key"]);
    assert!(!changed.status.success());
    let err = stderr(&changed);
    assert!(
        err.contains("has changed") && err.contains("line 2"),
        "{err}"
    );
    assert!(host.exec("ls", &["/etc/pki/CA/cacert.pem"]).is_err());
}

#[test]
fn a_failing_restart_leaves_the_previous_config_and_the_host_reachable() {
    let Some(lab) = lab_or_skip(&LabSpec::hosts(1)) else {
        return;
    };
    let host = lab.nth(0);
    let restart = host.restart_command();
    // A restart that fails whenever the new TLS config is in place.
    let failing =
        format!("grep -q '^listen_tls = 1' /etc/libvirt/libvirtd.conf && exit 1; {restart}");
    let config = inventory(&lab, |s| s.replace(&restart, &failing));
    let before = conf(host);

    let out = vmctl(&config, &["bootstrap"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("previous files restored"),
        "{}",
        stderr(&out)
    );
    assert_eq!(conf(host), before);
    assert!(
        host.exec("ls", &["/etc/pki/libvirt/private/serverkey.pem"])
            .is_err()
    );
    assert_eq!(host.virsh(&["hostname"]).unwrap().trim(), host.name());
}

#[test]
fn a_non_root_user_with_sudo_bootstraps() {
    let Some(lab) = lab_or_skip(&LabSpec::hosts(1)) else {
        return;
    };
    let host = lab.nth(0);
    let pubkey = std::fs::read_to_string(lab.ssh_key().with_extension("pub")).unwrap();
    host.add_user("ops", &pubkey, true).unwrap();
    let config = inventory(&lab, |s| s.replace("user = \"root\"", "user = \"ops\""));

    let out = vmctl(&config, &["bootstrap"]);
    assert!(out.status.success());
    let admin = lab.dir().join("pki/admin");
    assert_eq!(admin_hostname(host, &admin).unwrap(), host.name());
    let owner = host
        .exec(
            "stat",
            &["-c", "%U:%G %a", "/etc/pki/libvirt/private/serverkey.pem"],
        )
        .unwrap();
    assert_eq!(owner.trim(), "root:root 600");
}

#[test]
fn a_host_bootstrapped_later_joins_the_fleet() {
    let Some(lab) = lab_or_skip(&LabSpec::hosts(2)) else {
        return;
    };
    let (h1, h2) = (lab.nth(0), lab.nth(1));
    // First the inventory knows host1 only.
    let only_first = inventory(&lab, |s| {
        let cut = s.find(&format!("[hosts.{}]", h2.name())).unwrap();
        s[..cut].to_owned()
    });
    assert!(vmctl(&only_first, &["bootstrap"]).status.success());

    // host2 is added and bootstrapped alone: host1's list takes it in.
    let full = inventory(&lab, |s| s);
    let out = vmctl(&full, &["bootstrap", h2.name(), "--output", "json"]);
    assert!(out.status.success());
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let joined = &report["hosts"][1];
    assert_eq!(
        (joined["role"].as_str(), joined["outcome"].as_str()),
        (Some("join"), Some("changed"))
    );
    let uri = format!("qemu+tls://{}/system", h1.name());
    assert_eq!(
        h2.exec("virsh", &["-q", "-c", &uri, "hostname"])
            .unwrap()
            .trim(),
        h1.name()
    );
}
