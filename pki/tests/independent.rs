//! Every chain vmctl issues is checked by verifiers that share no code with
//! it: OpenSSL's `openssl verify` and GnuTLS's `certtool --verify`, and the
//! DN string is compared with libvirt's own `virt-pki-query-dn`.
#![allow(clippy::unwrap_used, reason = "test helpers panic on set-up failures")]

use std::path::Path;
use std::process::Command;

use vmctl_pki::{
    Authority, CaOptions, KeyAlgorithm, Layout, LeafKind, LeafRequest, Reuse, Subject,
};

fn run(program: &str, args: &[&str]) -> (bool, String) {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn openssl_verify(ca: &Path, cert: &Path, purpose: &str, crl: Option<&Path>) -> (bool, String) {
    let (ca, cert) = (ca.to_str().unwrap(), cert.to_str().unwrap());
    let mut args = vec!["verify", "-CAfile", ca, "-purpose", purpose];
    if let Some(crl) = crl {
        args.extend(["-crl_check", "-CRLfile", crl.to_str().unwrap()]);
    }
    args.push(cert);
    run("openssl", &args)
}

fn certtool_verify(ca: &Path, cert: &Path) -> (bool, String) {
    run(
        "certtool",
        &[
            "--verify",
            "--load-ca-certificate",
            ca.to_str().unwrap(),
            "--infile",
            cert.to_str().unwrap(),
        ],
    )
}

fn issue_host(ca: &Authority, name: &str) {
    for kind in [LeafKind::Server, LeafKind::Client] {
        let request = LeafRequest {
            dns_names: vec![format!("{name}.example.test"), name.to_owned()],
            ips: vec!["192.0.2.10".parse().unwrap()],
            subject: Subject {
                country: Some("ES".into()),
                organization: Some("Lab".into()),
            },
            ..LeafRequest::new(name, kind)
        };
        ca.issue(&request, Reuse::Never).unwrap();
    }
}

#[test]
fn openssl_and_certtool_accept_every_algorithm() {
    for algorithm in KeyAlgorithm::ALL {
        let dir = tempfile::tempdir().unwrap();
        let options = CaOptions {
            algorithm,
            ..CaOptions::default()
        };
        let ca = Authority::init(&Layout::new(dir.path()), &options, None).unwrap();
        issue_host(&ca, "host1");
        let issued = ca.layout().issued_dir("host1");
        let ca_cert = ca.layout().ca_cert();
        let crl = ca.layout().crl();

        for (file, purpose) in [
            ("servercert.pem", "sslserver"),
            ("clientcert.pem", "sslclient"),
        ] {
            let cert = issued.join(file);
            let (ok, text) = openssl_verify(&ca_cert, &cert, purpose, Some(&crl));
            assert!(ok, "{algorithm} {file} openssl: {text}");
            let (ok, text) = certtool_verify(&ca_cert, &cert);
            assert!(
                ok && text.contains("Verified"),
                "{algorithm} {file} certtool: {text}"
            );
        }
    }
}

#[test]
fn openssl_sees_revocation_and_rejects_wrong_purpose() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Authority::init(&Layout::new(dir.path()), &CaOptions::default(), None).unwrap();
    issue_host(&ca, "host2");
    let cert = ca.layout().issued_dir("host2").join("clientcert.pem");

    let (ok, text) = openssl_verify(&ca.layout().ca_cert(), &cert, "sslserver", None);
    assert!(!ok, "a client certificate passed as a server: {text}");

    ca.revoke("host2").unwrap();
    let (ok, text) = openssl_verify(
        &ca.layout().ca_cert(),
        &cert,
        "sslclient",
        Some(&ca.layout().crl()),
    );
    assert!(!ok && text.contains("revoked"), "{text}");
}

#[test]
fn certtool_rejects_a_chain_from_another_ca() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Authority::init(
        &Layout::new(dir.path().join("a")),
        &CaOptions::default(),
        None,
    )
    .unwrap();
    let other = Authority::init(
        &Layout::new(dir.path().join("b")),
        &CaOptions::default(),
        None,
    )
    .unwrap();
    issue_host(&ca, "host1");
    let cert = ca.layout().issued_dir("host1").join("servercert.pem");
    let (ok, _) = certtool_verify(&other.layout().ca_cert(), &cert);
    assert!(!ok);
}

#[test]
fn dn_string_matches_virt_pki_query_dn() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Authority::init(&Layout::new(dir.path()), &CaOptions::default(), None).unwrap();
    let subjects = [
        Subject {
            country: Some("ES".into()),
            organization: Some("Lab".into()),
        },
        Subject {
            country: None,
            organization: Some("Lab, Inc + Co".into()),
        },
        Subject::default(),
    ];
    for (i, subject) in subjects.into_iter().enumerate() {
        let name = format!("admin{i}");
        let request = LeafRequest {
            subject,
            ..LeafRequest::new(name.clone(), LeafKind::Client)
        };
        ca.issue(&request, Reuse::Never).unwrap();
        let path = ca.layout().issued_dir(&name).join("clientcert.pem");
        let ours = vmctl_pki::gnutls_dn(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let (ok, theirs) = run("virt-pki-query-dn", &[path.to_str().unwrap()]);
        assert!(ok, "{theirs}");
        assert_eq!(ours, theirs.trim_end(), "subject {i}");
    }
    let first = ca.layout().issued_dir("admin0").join("clientcert.pem");
    assert_eq!(
        vmctl_pki::gnutls_dn(&std::fs::read_to_string(first).unwrap()).unwrap(),
        "C=ES,O=Lab,CN=admin0"
    );
}
