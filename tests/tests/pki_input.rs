//! `vmctl pki` refuses what would make a useless or wrong certificate, and
//! `vmctl pki validate` never calls missing files valid. No lab needed.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use vmctl_lab::vmctl_bin;

/// A scratch PKI and inventory, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(test: &str) -> Scratch {
        let name = format!("vmctl-pki-input-{}-{test}", std::process::id());
        let dir = std::env::temp_dir().join(name);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let text = format!("[pki]\ndir = \"{}\"\n", dir.join("pki").display());
        std::fs::write(dir.join("vmctl.toml"), text).unwrap();
        Scratch(dir)
    }

    fn vmctl(&self, args: &[&str]) -> Output {
        let mut command = Command::new(vmctl_bin());
        command.arg("--config").arg(self.0.join("vmctl.toml"));
        command.env_remove("VMCTL_CA_PASSPHRASE");
        command.args(args).output().unwrap()
    }

    fn path(&self, inside: &str) -> PathBuf {
        self.0.join(inside)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Asserts exit `code` and an error naming `needle` on the first line.
fn refused(out: &Output, code: i32, needle: &str) {
    let text = stderr(out);
    assert_eq!(out.status.code(), Some(code), "{text}");
    let first = text.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("error: ") && first.contains(needle),
        "{text}"
    );
}

fn sans(cert: &Path) -> String {
    let out = Command::new("openssl")
        .args(["x509", "-noout", "-ext", "subjectAltName", "-in"])
        .arg(cert)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn issue_refuses_validities_out_of_range_and_names_that_are_not_dns() {
    let s = Scratch::new("issue");
    assert!(s.vmctl(&["pki", "init"]).status.success());
    for days in ["99999999999", "0", "-5"] {
        let flag = format!("--validity-days={days}");
        let out = s.vmctl(&["pki", "issue", "z2", "--server", &flag]);
        refused(&out, 2, "--validity-days");
    }
    for bad in ["", "bad name!"] {
        let out = s.vmctl(&["pki", "issue", "z3", "--server", "--dns", bad]);
        refused(&out, 2, "is not a DNS name");
    }
    assert!(!s.path("pki/issued/z2").exists() && !s.path("pki/issued/z3").exists());
}

#[test]
fn server_certificate_keeps_its_own_name_beside_extra_dns_names() {
    let s = Scratch::new("sans");
    assert!(s.vmctl(&["pki", "init"]).status.success());
    let args = [
        "pki",
        "issue",
        "web1",
        "--server",
        "--dns",
        "web1.example.test",
    ];
    assert!(s.vmctl(&args).status.success());
    let sans = sans(&s.path("pki/issued/web1/servercert.pem"));
    assert!(sans.contains("DNS:web1,"), "{sans}");
    assert!(sans.contains("DNS:web1.example.test"), "{sans}");
}

#[test]
fn validate_without_a_ca_or_for_an_unknown_member_is_an_error() {
    let s = Scratch::new("validate");
    let out = s.vmctl(&["pki", "validate"]);
    refused(&out, 4, "no CA in");
    assert!(!String::from_utf8_lossy(&out.stdout).contains("valid"));

    assert!(s.vmctl(&["pki", "init"]).status.success());
    assert!(s.vmctl(&["pki", "validate"]).status.success());
    let out = s.vmctl(&["pki", "validate", "--host", "nosuch"]);
    refused(&out, 2, "no certificates were issued to nosuch");
}
