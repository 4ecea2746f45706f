//! Who the fleet lets in, and what never leaks: checked from the daemons'
//! side (which TLS clients are refused) and on disk and in vmctl's output.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use vmctl_lab::{GuestSpec, Host, Lab, LabSpec, lab_or_skip, trusted_lab_or_skip};

/// `virsh -c qemu+tls://TO/system?pkipath=DIR hostname`, run from the
/// admin machine or, with `from`, inside that host.
fn tls_hostname(from: Option<&Host>, to: &Host, pkipath: &Path) -> Result<String, String> {
    let uri = format!(
        "qemu+tls://{}/system?pkipath={}",
        to.name(),
        pkipath.display()
    );
    let args = ["-q", "-c", &uri, "hostname"];
    let out = match from {
        Some(host) => host.command("virsh").args(args).output().unwrap(),
        None => Command::new("virsh").args(args).output().unwrap(),
    };
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// A `?pkipath=` directory: our CA certificate (so the client trusts the
/// hosts) with the client certificate and key found in `client_dir`.
fn pkipath(lab: &Lab, name: &str, client_dir: &Path) -> PathBuf {
    let dir = lab.dir().join("creds").join(name);
    std::fs::create_dir_all(&dir).unwrap();
    let ca = lab.pki_dir().join("admin/cacert.pem");
    std::fs::copy(ca, dir.join("cacert.pem")).unwrap();
    for file in ["clientcert.pem", "clientkey.pem"] {
        std::fs::copy(client_dir.join(file), dir.join(file)).unwrap();
    }
    dir
}

/// `vmctl` with another inventory: the lab's, its PKI in `pki_dir`.
fn vmctl_with_pki(lab: &Lab, pki_dir: &Path, args: &[&str]) -> Output {
    let config = lab.dir().join("other-ca.toml");
    std::fs::write(&config, lab.inventory(pki_dir)).unwrap();
    let out = Command::new(vmctl_lab::vmctl_bin())
        .arg("--config")
        .arg(&config)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

#[test]
fn clients_of_another_ca_or_outside_the_fleet_are_refused_by_every_host() {
    let Some(lab) = trusted_lab_or_skip(2) else {
        return;
    };

    // Another CA, same organization, a client with the admin's very DN.
    let other = lab.dir().join("other-pki");
    vmctl_with_pki(&lab, &other, &["pki", "init"]);
    vmctl_with_pki(&lab, &other, &["pki", "issue", "admin", "--client"]);
    let foreign = pkipath(&lab, "foreign", &other.join("issued/admin"));

    // Our CA, a name that is no member of the fleet.
    lab.vmctl_ok(&["pki", "issue", "stranger", "--client"]);
    let stranger = pkipath(&lab, "stranger", &lab.pki_dir().join("issued/stranger"));

    let admin = lab.pki_dir().join("admin");
    for host in lab.hosts() {
        assert_eq!(tls_hostname(None, host, &admin).unwrap(), host.name());
        let refused = tls_hostname(None, host, &foreign);
        assert!(
            refused.is_err(),
            "{}: another CA's client got in",
            host.name()
        );
        let refused = tls_hostname(None, host, &stranger);
        assert!(refused.is_err(), "{}: a non-member got in", host.name());
    }
}

#[test]
fn a_revoked_host_certificate_is_refused_after_the_next_bootstrap() {
    let Some(lab) = trusted_lab_or_skip(2) else {
        return;
    };
    let (h1, h2) = (lab.nth(0), lab.nth(1));

    // host2's client credentials as they are now, kept inside host2.
    let old = h2.dir().join("old-client");
    std::fs::create_dir_all(&old).unwrap();
    for (from, to) in [
        ("/etc/pki/CA/cacert.pem", "cacert.pem"),
        ("/etc/pki/libvirt/clientcert.pem", "clientcert.pem"),
        ("/etc/pki/libvirt/private/clientkey.pem", "clientkey.pem"),
    ] {
        std::fs::copy(h2.private_path(from), old.join(to)).unwrap();
    }
    assert_eq!(tls_hostname(Some(h2), h1, &old).unwrap(), h1.name());

    lab.vmctl_ok(&["pki", "revoke", h2.name()]);
    lab.vmctl_ok(&["bootstrap"]);

    let refused = tls_hostname(Some(h2), h1, &old);
    assert!(
        refused.is_err(),
        "host1 still lets the revoked certificate in"
    );
    let uri = format!("qemu+tls://{}/system", h1.name());
    let renewed = h2.exec("virsh", &["-q", "-c", &uri, "hostname"]).unwrap();
    assert_eq!(
        renewed.trim(),
        h1.name(),
        "host2's new certificate is refused"
    );
}

/// Files under `dir` (recursively) that hold a private key.
fn key_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(key_files(&path));
        } else if std::fs::read_to_string(&path).is_ok_and(|t| t.contains("PRIVATE KEY-----")) {
            found.push(path);
        }
    }
    found
}

fn assert_not_world_readable(keys: &[PathBuf]) {
    for key in keys {
        let mode = std::fs::metadata(key).unwrap().permissions().mode();
        assert_eq!(mode & 0o007, 0, "{} has mode {mode:o}", key.display());
    }
}

/// The base64 lines of every private key under `dirs`.
fn key_material(dirs: &[PathBuf]) -> Vec<String> {
    let mut lines = Vec::new();
    for key in dirs.iter().flat_map(|d| key_files(d)) {
        let text = std::fs::read_to_string(&key).unwrap();
        lines.extend(
            text.lines()
                .filter(|l| !l.starts_with("-----") && l.len() >= 16)
                .map(str::to_owned),
        );
    }
    lines
}

#[test]
fn keys_are_never_world_readable_nor_printed_at_the_highest_verbosity() {
    let Some(lab) = lab_or_skip(&LabSpec::hosts(2)) else {
        return;
    };
    let (h1, h2) = (lab.nth(0), lab.nth(1));
    lab.write_inventory();
    let mut printed = Vec::new();
    let mut run = |args: &[&str]| {
        let out = lab.vmctl(&[&["-vvv"], args].concat());
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        printed.extend(out.stdout);
        printed.extend(out.stderr);
    };
    run(&["pki", "init"]);
    run(&["bootstrap"]);
    h1.create_guest(&GuestSpec::idle("quiet")).unwrap();
    run(&["list"]);
    run(&["move", "quiet", h2.name()]);

    let hosts_pki: Vec<PathBuf> = lab
        .hosts()
        .iter()
        .map(|h| h.private_path("/etc/pki"))
        .collect();
    assert_not_world_readable(&key_files(&lab.pki_dir()));
    for dir in &hosts_pki {
        let keys = key_files(dir);
        assert!(keys.len() >= 4, "{}: only {keys:?}", dir.display());
        assert_not_world_readable(&keys);
    }

    let dirs: Vec<PathBuf> = [lab.pki_dir()].into_iter().chain(hosts_pki).collect();
    let material = key_material(&dirs);
    assert!(
        material.len() > 10,
        "too few key lines found: {}",
        material.len()
    );
    let printed = String::from_utf8_lossy(&printed);
    assert!(printed.contains("TRACE"), "-vvv printed no trace lines");
    for line in &material {
        assert!(
            !printed.contains(line.as_str()),
            "key material printed: {line}"
        );
    }
}
