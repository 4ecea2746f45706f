//! `vmctl bootstrap` when things break on the way: the SSH connection is
//! cut while a key is being written, the daemon does not come back with
//! the new files, the host's clock is two hours behind. Each test checks
//! the end state on the host (which files are there, what they hold, who
//! gets in over TLS) and that a rerun completes.
//!
//! Faults are real: sshd's session is killed, the restart command fails,
//! the host's `date` answers two hours behind. Timing comes from commands
//! shadowed in the host's own `/usr/local/bin` (first in an SSH session's
//! PATH), bind-mounted inside the host only.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use vmctl_lab::{Host, Lab, LabSpec, lab_or_skip};

/// Every file under the host's `/etc/pki`, with its contents.
fn pki_files(host: &Host) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    collect(&host.private_path("/etc/pki"), &mut files);
    files
}

fn collect(dir: &Path, files: &mut BTreeMap<PathBuf, Vec<u8>>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(&path, files);
        } else {
            files.insert(path.clone(), std::fs::read(&path).unwrap());
        }
    }
}

/// Puts `scripts` (name, text) first in the host's PATH, inside the host only.
fn shadow_commands(host: &Host, scripts: &[(&str, &str)]) {
    let dir = host.dir().join("shadow-bin");
    std::fs::create_dir_all(&dir).unwrap();
    for (name, text) in scripts {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        let mode = std::os::unix::fs::PermissionsExt::from_mode(0o755);
        std::fs::set_permissions(&path, mode).unwrap();
    }
    let dir = dir.to_string_lossy();
    host.exec("mount", &["--bind", &dir, "/usr/local/bin"])
        .unwrap();
}

fn unshadow_commands(host: &Host) {
    host.exec("umount", &["/usr/local/bin"]).unwrap();
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `virsh -c qemu+tls://HOST/system hostname` with the admin's credentials.
fn admin_reaches(lab: &Lab, host: &Host) -> bool {
    let uri = format!(
        "qemu+tls://{}/system?pkipath={}",
        host.name(),
        lab.pki_dir().join("admin").display()
    );
    let out = Command::new("virsh")
        .args(["-q", "-c", &uri, "hostname"])
        .output()
        .unwrap();
    out.status.success() && String::from_utf8_lossy(&out.stdout).trim() == host.name()
}

/// Kills, by id, the per-connection sshd processes of `host` (children of
/// its listening sshd): every SSH connection to the host drops at once.
fn cut_ssh_sessions(host: &Host) {
    let listener = std::fs::read_to_string(host.dir().join("ssh/sshd.pid")).unwrap();
    let out = Command::new("pgrep")
        .args(["-P", listener.trim()])
        .output()
        .unwrap();
    let pids = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(!pids.trim().is_empty(), "no SSH session to cut");
    for pid in pids.split_whitespace() {
        Command::new("kill").args(["-KILL", pid]).status().unwrap();
    }
}

/// A `cat` that, the first time it writes a temporary file under a
/// `private/` key directory, tells the test (`stalled`) and waits for it
/// (`go`) before copying its input.
fn stalling_cat(stalled: &Path, go: &Path) -> String {
    format!(
        "#!/bin/sh\n\
         case \"$(readlink /proc/$$/fd/1)\" in\n\
         */private/.vmctl-upload.*)\n\
           if [ ! -e {stalled} ]; then\n\
             touch {stalled}\n\
             while [ ! -e {go} ]; do sleep 0.05; done\n\
           fi ;;\n\
         esac\n\
         exec /bin/cat \"$@\"\n",
        stalled = stalled.display(),
        go = go.display()
    )
}

#[test]
fn a_connection_cut_while_a_key_is_written_leaves_no_partial_file_and_a_rerun_completes() {
    let Some(lab) = lab_or_skip(&LabSpec::hosts(1)) else {
        return;
    };
    let host = lab.nth(0);
    lab.write_inventory();
    lab.vmctl_ok(&["pki", "init"]);
    let (stalled, go) = (host.dir().join("stalled"), host.dir().join("go"));
    shadow_commands(host, &[("cat", &stalling_cat(&stalled, &go))]);

    // The upload of the first key stalls on the host; the connection is cut there.
    let running: Child = lab
        .vmctl_command()
        .arg("bootstrap")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for("the key upload to stall", || stalled.exists());
    cut_ssh_sessions(host);
    std::fs::write(&go, "").unwrap();
    let out = running.wait_with_output().unwrap();
    eprintln!("cut run: {}\n{}", out.status, stderr(&out));
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let told = format!(
        "the SSH connection to {} was lost while installing files",
        host.name()
    );
    assert!(stderr(&out).contains(&told), "{}", stderr(&out));

    // Whatever is in place is whole: absent, or exactly what was issued.
    wait_for("the orphaned upload to end", || {
        host.exec("pgrep", &["-f", "vmctl-upload"]).is_err()
    });
    assert_whole_or_absent(&lab, host);

    // A rerun completes and the host answers over TLS.
    unshadow_commands(host);
    lab.vmctl_ok(&["bootstrap"]);
    assert!(admin_reaches(&lab, host));
    assert_whole_or_absent(&lab, host);
}

/// Every certificate or key on the host is byte for byte the issued one,
/// and no temporary upload file is left.
fn assert_whole_or_absent(lab: &Lab, host: &Host) {
    let issued = lab.pki_dir().join("issued").join(host.name());
    let pairs = [
        ("/etc/pki/libvirt/servercert.pem", "servercert.pem"),
        ("/etc/pki/libvirt/private/serverkey.pem", "serverkey.pem"),
        ("/etc/pki/libvirt/clientcert.pem", "clientcert.pem"),
        ("/etc/pki/libvirt/private/clientkey.pem", "clientkey.pem"),
        ("/etc/pki/qemu/server-key.pem", "serverkey.pem"),
        ("/etc/pki/qemu/client-key.pem", "clientkey.pem"),
    ];
    for (remote, local) in pairs {
        let Ok(installed) = std::fs::read(host.private_path(remote)) else {
            continue;
        };
        let expected = std::fs::read(issued.join(local)).unwrap();
        assert_eq!(installed, expected, "{remote} is not the issued file");
    }
    let leftovers: Vec<_> = pki_files(host)
        .into_keys()
        .filter(|p| p.to_string_lossy().contains(".vmctl-upload."))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}

#[test]
fn a_renewal_the_daemon_refuses_restores_the_working_files() {
    let Some(lab) = lab_or_skip(&LabSpec::hosts(1)) else {
        return;
    };
    let host = lab.nth(0);
    lab.bootstrap();
    let before = pki_files(host);
    let conf_before = host.exec("cat", &["/etc/libvirt/libvirtd.conf"]).unwrap();

    // The restart fails whenever the server certificate is not the first one.
    let first = host.dir().join("first-servercert.pem");
    std::fs::copy(host.private_path("/etc/pki/libvirt/servercert.pem"), &first).unwrap();
    let restart = host.restart_command();
    let failing = format!(
        "cmp -s /etc/pki/libvirt/servercert.pem {} || exit 1; {restart}",
        first.display()
    );
    let inventory = lab.dir().join("vmctl.toml");
    let text = std::fs::read_to_string(&inventory).unwrap();
    std::fs::write(&inventory, text.replace(&restart, &failing)).unwrap();

    lab.vmctl_ok(&["pki", "renew", host.name()]);
    let out = lab.vmctl(&["bootstrap"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("previous files restored"),
        "{}",
        stderr(&out)
    );

    // The previous certificates and config are back, and in force.
    let after: BTreeMap<_, _> = pki_files(host)
        .into_iter()
        .filter(|(p, _)| !p.to_string_lossy().contains(".vmctl-backup-"))
        .collect();
    assert_eq!(after, before);
    let conf_after = host.exec("cat", &["/etc/libvirt/libvirtd.conf"]).unwrap();
    assert_eq!(conf_after, conf_before);
    assert!(
        admin_reaches(&lab, host),
        "the host is not reachable as before"
    );
}

#[test]
fn a_clock_two_hours_behind_is_reported_before_anything_is_installed() {
    let Some(lab) = lab_or_skip(&LabSpec::hosts(1)) else {
        return;
    };
    let host = lab.nth(0);
    lab.write_inventory();
    lab.vmctl_ok(&["pki", "init"]);
    let late = "#!/bin/sh\n# This host's clock runs two hours behind.\n\
                exec /bin/date -d \"@$(( $(/bin/date +%s) - 7200 ))\" \"$@\"\n";
    shadow_commands(host, &[("date", late)]);
    let pki_before = pki_files(host);
    let conf_before = host.exec("cat", &["/etc/libvirt/libvirtd.conf"]).unwrap();

    let out = lab.vmctl(&["bootstrap"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains(host.name()) && err.contains("s behind the admin's"),
        "{err}"
    );
    assert_eq!(pki_files(host), pki_before, "/etc/pki changed");
    let conf_after = host.exec("cat", &["/etc/libvirt/libvirtd.conf"]).unwrap();
    assert_eq!(conf_after, conf_before);

    // With the clock right again, the same command completes.
    unshadow_commands(host);
    lab.vmctl_ok(&["bootstrap"]);
    assert!(admin_reaches(&lab, host));
}
