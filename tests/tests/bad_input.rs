//! Bad input to the real `vmctl` binary: each mistake is told in one line
//! that names what to fix, with a non-zero exit, before any host is
//! touched. No lab needed: these run in a scratch directory.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use vmctl_lab::vmctl_bin;

/// A scratch directory removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(test: &str) -> Scratch {
        let dir =
            std::env::temp_dir().join(format!("vmctl-bad-input-{}-{test}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    /// Writes `name` in the scratch dir and returns its path.
    fn file(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    /// An inventory with the PKI in the scratch dir and `hosts` appended.
    fn inventory(&self, hosts: &str) -> PathBuf {
        let text = format!(
            "[pki]\ndir = \"{}\"\n\n{hosts}",
            self.0.join("pki").display()
        );
        self.file("vmctl.toml", &text)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const ONE_HOST: &str = "[hosts.h1]\naddress = \"192.0.2.1\"\n";

fn vmctl(config: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(vmctl_bin());
    command.arg("--config").arg(config).args(args);
    command.env_remove("VMCTL_CA_PASSPHRASE");
    command.envs(env.iter().copied());
    command.output().unwrap()
}

/// Asserts exit `code` and one error line holding every `needle`; a hint
/// may follow on its own line. Returns the error line.
fn one_line_error(out: &Output, code: i32, needles: &[&str]) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "{stderr}");
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| !l.trim_start().starts_with("hint:"))
        .collect();
    assert_eq!(lines.len(), 1, "not one line:\n{stderr}");
    let line = lines[0];
    assert!(line.starts_with("error: "), "{stderr}");
    for needle in needles {
        assert!(line.contains(needle), "{needle:?} missing from {line:?}");
    }
    line.to_owned()
}

#[test]
fn malformed_toml_is_placed_by_line_and_column() {
    let dir = Scratch::new("toml");
    let config = dir.file(
        "vmctl.toml",
        "[pki]\ndir = \"/x\"\n[hosts.h1\naddress = \"a\"\n",
    );
    let out = vmctl(&config, &["pki", "list"], &[]);
    one_line_error(
        &out,
        2,
        &["vmctl.toml", "line 3, column 10", "invalid table header"],
    );
}

#[test]
fn an_unknown_key_is_named_with_the_nearest_valid_one() {
    let dir = Scratch::new("key");
    let config = dir.inventory("[hosts.h1]\nadress = \"192.0.2.1\"\n");
    let out = vmctl(&config, &["pki", "list"], &[]);
    one_line_error(
        &out,
        2,
        &["unknown key `hosts.h1.adress`", "did you mean `address`?"],
    );

    let config = dir.inventory("[ssh]\ncolour = \"blue\"\n");
    let out = vmctl(&config, &["pki", "list"], &[]);
    one_line_error(
        &out,
        2,
        &[
            "`ssh.colour`",
            "valid keys here: user, identity, known_hosts",
        ],
    );
}

#[test]
fn an_address_that_is_no_name_is_refused_by_the_inventory() {
    let dir = Scratch::new("syntax");
    let config = dir.inventory("[hosts.h1]\naddress = \"host..one\"\n");
    let out = vmctl(&config, &["pki", "list"], &[]);
    one_line_error(
        &out,
        2,
        &[
            "hosts.h1.address",
            "`host..one` is not a DNS name or IP address",
        ],
    );
}

#[test]
fn an_address_that_does_not_resolve_stops_bootstrap_before_any_certificate() {
    let dir = Scratch::new("resolve");
    let config = dir.inventory("[hosts.h1]\naddress = \"nosuch.invalid\"\n");
    // In a network namespace of its own the lookup reaches no resolver.
    let out = Command::new("unshare")
        .args(["--net", "--"])
        .arg(vmctl_bin())
        .arg("--config")
        .arg(&config)
        .arg("bootstrap")
        .output()
        .unwrap();
    one_line_error(
        &out,
        2,
        &["`nosuch.invalid`", "host h1", "does not resolve"],
    );
    assert!(!dir.0.join("pki").exists(), "certificates were issued");
}

#[test]
fn a_guest_name_libvirt_refuses_is_refused_before_dialling() {
    let dir = Scratch::new("name");
    let config = dir.inventory(ONE_HOST);
    for (name, bad) in [("web/1", "'/'"), ("web\n1", "'\\n'"), ("web@h1", "'@'")] {
        let out = vmctl(&config, &["create", name, "--host", "h1"], &[]);
        one_line_error(&out, 2, &["a guest name may not contain", bad]);
    }
}

#[test]
fn a_domain_xml_file_that_is_not_xml_is_named() {
    let dir = Scratch::new("xml");
    let config = dir.inventory(ONE_HOST);
    let xml = dir.file("web.xml", "name: web\nmemory: 1G\n");
    let out = vmctl(
        &config,
        &[
            "create",
            "web",
            "--host",
            "h1",
            "--xml",
            &xml.to_string_lossy(),
        ],
        &[],
    );
    one_line_error(&out, 2, &["web.xml", "the domain XML is not valid"]);
}

/// `dir/` with a CA certificate, and a client certificate and key swapped.
fn swapped_credentials(dir: &Scratch, config: &Path) -> PathBuf {
    assert!(vmctl(config, &["pki", "init"], &[]).status.success());
    let admin_issue = ["pki", "issue", "ops", "--client"];
    assert!(vmctl(config, &admin_issue, &[]).status.success());
    let issued = dir.0.join("pki/issued/ops");
    let check = dir.0.join("check");
    std::fs::create_dir_all(&check).unwrap();
    std::fs::copy(dir.0.join("pki/ca/cacert.pem"), check.join("cacert.pem")).unwrap();
    std::fs::copy(issued.join("clientkey.pem"), check.join("clientcert.pem")).unwrap();
    std::fs::copy(issued.join("clientcert.pem"), check.join("clientkey.pem")).unwrap();
    let owner_only = std::os::unix::fs::PermissionsExt::from_mode(0o600);
    std::fs::set_permissions(check.join("clientkey.pem"), owner_only).unwrap();
    check
}

#[test]
fn a_key_given_as_certificate_and_a_certificate_given_as_key_are_told_apart() {
    let dir = Scratch::new("pem");
    let config = dir.inventory(ONE_HOST);
    let check = swapped_credentials(&dir, &config);
    let out = vmctl(
        &config,
        &["pki", "validate", "--dir", &check.to_string_lossy()],
        &[],
    );
    assert_eq!(out.status.code(), Some(4));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let errors: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("error: "))
        .collect();
    assert_eq!(errors.len(), 2, "{stdout}");
    assert!(
        errors[0].contains("clientcert.pem")
            && errors[0].contains("holds a PRIVATE KEY, not a CERTIFICATE")
    );
    assert!(
        errors[1].contains("clientkey.pem")
            && errors[1].contains("holds a CERTIFICATE, not a PRIVATE KEY")
    );

    // Not PEM at all.
    std::fs::write(check.join("clientcert.pem"), "hello\n").unwrap();
    let out = vmctl(
        &config,
        &["pki", "validate", "--dir", &check.to_string_lossy()],
        &[],
    );
    assert_eq!(out.status.code(), Some(4));
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("clientcert.pem: Parse: not a PEM CERTIFICATE")
    );
}

#[test]
fn an_expired_ca_issues_nothing() {
    let dir = Scratch::new("expired");
    let config = dir.inventory(ONE_HOST);
    assert!(vmctl(&config, &["pki", "init"], &[]).status.success());
    // vmctl makes no expired CA: GnuTLS re-signs ours with dates long past.
    let ca = dir.0.join("pki/ca");
    let template = dir.file(
        "expired.tmpl",
        "cn = \"vmctl expired CA\"\nca\ncert_signing_key\n\
         activation_date = \"2020-01-01 00:00:00 UTC\"\n\
         expiration_date = \"2021-01-01 00:00:00 UTC\"\n",
    );
    let made = Command::new("certtool")
        .arg("--generate-self-signed")
        .arg("--load-privkey")
        .arg(ca.join("cakey.pem"))
        .arg("--template")
        .arg(&template)
        .arg("--outfile")
        .arg(ca.join("cacert.pem"))
        .output()
        .unwrap();
    assert!(made.status.success(), "{made:?}");
    let out = vmctl(&config, &["pki", "issue", "ops", "--client"], &[]);
    one_line_error(&out, 2, &["the CA certificate", "expired on 2021-01-01"]);
    assert!(!dir.0.join("pki/issued/ops").exists());
}

#[test]
fn a_ca_of_no_days_is_refused() {
    let dir = Scratch::new("zero-days");
    let config = dir.inventory(ONE_HOST);
    let out = vmctl(&config, &["pki", "init", "--validity-days", "0"], &[]);
    one_line_error(&out, 2, &["validity"]);
    assert!(!dir.0.join("pki/ca/cacert.pem").exists());
}

#[test]
fn a_wrong_ca_passphrase_is_said_to_be_wrong() {
    let dir = Scratch::new("passphrase");
    let config = dir.inventory(ONE_HOST);
    let right = [("VMCTL_CA_PASSPHRASE", "correct horse")];
    assert!(
        vmctl(&config, &["pki", "init", "--encrypt"], &right)
            .status
            .success()
    );
    let wrong = [("VMCTL_CA_PASSPHRASE", "battery staple")];
    let out = vmctl(&config, &["pki", "issue", "ops", "--client"], &wrong);
    one_line_error(
        &out,
        2,
        &["cakey.pem", "the passphrase does not decrypt the key"],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("battery"), "the passphrase was echoed");
    assert!(
        vmctl(&config, &["pki", "issue", "ops", "--client"], &right)
            .status
            .success()
    );
}
