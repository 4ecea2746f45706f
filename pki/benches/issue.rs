//! Leaf issue rate of vmctl against a `certtool` loop doing the same work:
//! a fresh ECDSA P-256 key, a server certificate signed by the CA, PEM out.
//!
//! Run with `cargo bench -p vmctl-pki --bench issue`.
#![allow(
    clippy::print_stdout,
    clippy::unwrap_used,
    reason = "a benchmark binary prints its figures and panics on set-up failures"
)]

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use vmctl_pki::{Authority, CaOptions, Layout, LeafKind, LeafRequest};

const VMCTL_ROUNDS: u32 = 2000;
const CERTTOOL_ROUNDS: u32 = 50;

const TEMPLATE: &str = "cn = \"host1\"\n\
organization = \"vmctl\"\n\
dns_name = \"host1.example.test\"\n\
dns_name = \"host1\"\n\
expiration_days = 365\n\
tls_www_server\n\
signing_key\n\
encryption_key\n";

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Authority::init(&Layout::new(dir.path()), &CaOptions::default(), None).unwrap();

    let vmctl = rate(VMCTL_ROUNDS, time_vmctl(&ca));
    let certtool = rate(CERTTOOL_ROUNDS, time_certtool(ca.layout(), dir.path()));
    let ratio = vmctl / certtool;

    println!("leaf issue rate, ECDSA P-256 (key generation + signing + PEM)");
    println!("  vmctl     {vmctl:>10.1} certificates/s  ({VMCTL_ROUNDS} rounds)");
    println!("  certtool  {certtool:>10.1} certificates/s  ({CERTTOOL_ROUNDS} rounds)");
    let verdict = if ratio >= 10.0 { "met" } else { "NOT met" };
    println!("  ratio     {ratio:>10.1}x  (target 10x: {verdict})");
}

fn rate(rounds: u32, elapsed: Duration) -> f64 {
    f64::from(rounds) / elapsed.as_secs_f64()
}

fn time_vmctl(ca: &Authority) -> Duration {
    let request = LeafRequest {
        dns_names: vec!["host1.example.test".into(), "host1".into()],
        ..LeafRequest::new("host1", LeafKind::Server)
    };
    let start = Instant::now();
    for _ in 0..VMCTL_ROUNDS {
        let leaf = ca.sign_leaf(&request).unwrap();
        std::hint::black_box((&leaf.cert_pem, &leaf.key_pem));
    }
    start.elapsed()
}

fn time_certtool(layout: &Layout, dir: &Path) -> Duration {
    let template = dir.join("template.cfg");
    std::fs::write(&template, TEMPLATE).unwrap();
    let (key, cert) = (dir.join("leafkey.pem"), dir.join("leafcert.pem"));
    let start = Instant::now();
    for _ in 0..CERTTOOL_ROUNDS {
        certtool(&[
            "--generate-privkey",
            "--key-type",
            "ecdsa",
            "--curve",
            "secp256r1",
            "--outfile",
            s(&key),
        ]);
        certtool(&[
            "--generate-certificate",
            "--load-privkey",
            s(&key),
            "--load-ca-certificate",
            s(&layout.ca_cert()),
            "--load-ca-privkey",
            s(&layout.ca_key()),
            "--template",
            s(&template),
            "--outfile",
            s(&cert),
        ]);
    }
    start.elapsed()
}

fn certtool(args: &[&str]) {
    let out = Command::new("certtool").args(args).output().unwrap();
    assert!(
        out.status.success(),
        "certtool failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}
