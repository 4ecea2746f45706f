//! Table-driven tests: each bad certificate is reported with its cause.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use rcgen::{BasicConstraints, ExtendedKeyUsagePurpose, IsCa};
use time::{Duration, OffsetDateTime};

use super::*;
use crate::{Authority, CaOptions, Layout, LeafKind, LeafRequest, Reuse, leaf_params};

struct Fixture {
    _dir: tempfile::TempDir,
    ca: Authority,
    other_ca: Authority,
    out: std::path::PathBuf,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let ca = Authority::init(
        &Layout::new(dir.path().join("pki")),
        &CaOptions::default(),
        None,
    )
    .unwrap();
    let other_ca = Authority::init(
        &Layout::new(dir.path().join("other")),
        &CaOptions::default(),
        None,
    )
    .unwrap();
    let out = dir.path().join("set");
    fs::create_dir(&out).unwrap();
    Fixture {
        _dir: dir,
        ca,
        other_ca,
        out,
    }
}

fn request(role: LeafKind) -> LeafRequest {
    LeafRequest {
        dns_names: vec!["host1.example.test".into(), "host1".into()],
        ..LeafRequest::new("host1", role)
    }
}

/// Signs a leaf for `role` after `tweak` changed its parameters, and writes
/// a pkipath-like set (CA, CRL, cert, key) for it.
fn write_set(
    fx: &Fixture,
    role: LeafKind,
    signer: &Authority,
    tweak: impl Fn(&mut rcgen::CertificateParams),
) -> FileSet {
    let mut params = leaf_params(&request(role), OffsetDateTime::now_utc()).unwrap();
    tweak(&mut params);
    let key = crate::KeyAlgorithm::EcdsaP256.generate().unwrap();
    let leaf = signer.sign_params(&params, &key).unwrap();
    install(fx, role, &leaf.cert_pem, &leaf.key_pem)
}

fn install(fx: &Fixture, role: LeafKind, cert: &str, key: &str) -> FileSet {
    let (cert_path, key_path) = (fx.out.join("cert.pem"), fx.out.join("key.pem"));
    fs::write(fx.out.join("cacert.pem"), fx.ca.cert_pem()).unwrap();
    fs::copy(fx.ca.layout().crl(), fx.out.join("crl.pem")).unwrap();
    fs::write(&cert_path, cert).unwrap();
    fs::write(&key_path, key).unwrap();
    fs::set_permissions(&key_path, fs::Permissions::from_mode(0o600)).unwrap();
    FileSet {
        ca_cert: fx.out.join("cacert.pem"),
        crl: Some(fx.out.join("crl.pem")),
        leaves: vec![LeafFiles {
            role,
            cert: cert_path,
            key: key_path,
        }],
        key_modes: KeyModes::OwnerOnly,
    }
}

fn good(fx: &Fixture, role: LeafKind) -> FileSet {
    write_set(fx, role, &fx.ca, |_| {})
}

fn expired(fx: &Fixture) -> FileSet {
    let now = OffsetDateTime::now_utc();
    write_set(fx, LeafKind::Server, &fx.ca, |p| {
        (p.not_before, p.not_after) = (now - Duration::days(10), now - Duration::days(1))
    })
}

fn not_yet_valid(fx: &Fixture) -> FileSet {
    let now = OffsetDateTime::now_utc();
    write_set(fx, LeafKind::Client, &fx.ca, |p| {
        p.not_before = now + Duration::minutes(10)
    })
}

fn wrong_ca(fx: &Fixture) -> FileSet {
    write_set(fx, LeafKind::Server, &fx.other_ca, |_| {})
}

fn leaf_is_ca(fx: &Fixture) -> FileSet {
    write_set(fx, LeafKind::Server, &fx.ca, |p| {
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained)
    })
}

fn no_client_auth(fx: &Fixture) -> FileSet {
    write_set(fx, LeafKind::Client, &fx.ca, |p| {
        p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth]
    })
}

fn no_server_auth(fx: &Fixture) -> FileSet {
    write_set(fx, LeafKind::Server, &fx.ca, |p| {
        p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth]
    })
}

fn san_without_dialled_name(fx: &Fixture) -> FileSet {
    write_set(fx, LeafKind::Server, &fx.ca, |p| {
        p.subject_alt_names.truncate(1)
    })
}

fn key_not_matching(fx: &Fixture) -> FileSet {
    let set = good(fx, LeafKind::Client);
    let other = crate::KeyAlgorithm::EcdsaP256.generate().unwrap();
    fs::write(&set.leaves[0].key, other.serialize_pem()).unwrap();
    set
}

fn revoked(fx: &Fixture) -> FileSet {
    fx.ca
        .issue(&request(LeafKind::Client), Reuse::Never)
        .unwrap();
    fx.ca.revoke("host1").unwrap();
    let dir = fx.ca.layout().issued_dir("host1");
    let cert = fs::read_to_string(dir.join("clientcert.pem")).unwrap();
    let key = fs::read_to_string(dir.join("clientkey.pem")).unwrap();
    install(fx, LeafKind::Client, &cert, &key)
}

fn key_mode_0644(fx: &Fixture) -> FileSet {
    let set = good(fx, LeafKind::Server);
    fs::set_permissions(&set.leaves[0].key, fs::Permissions::from_mode(0o644)).unwrap();
    set
}

fn cert_is_a_key(fx: &Fixture) -> FileSet {
    let set = good(fx, LeafKind::Client);
    fs::copy(&set.leaves[0].key, &set.leaves[0].cert).unwrap();
    set
}

fn key_is_a_cert(fx: &Fixture) -> FileSet {
    let set = good(fx, LeafKind::Client);
    fs::copy(&set.leaves[0].cert, &set.leaves[0].key).unwrap();
    fs::set_permissions(&set.leaves[0].key, fs::Permissions::from_mode(0o600)).unwrap();
    set
}

/// A bad-certificate case: its name, how to make it, the check that catches it.
type Case = (&'static str, fn(&Fixture) -> FileSet, Check);

fn error_checks(findings: &[Finding]) -> Vec<Check> {
    let mut checks: Vec<Check> = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .map(|f| f.check)
        .collect();
    checks.dedup();
    checks
}

fn options() -> ValidateOptions {
    ValidateOptions {
        server_names: vec!["host1".into(), "host1.example.test".into()],
        ..ValidateOptions::default()
    }
}

#[test]
fn each_bad_certificate_is_reported_with_its_cause() {
    let cases: [Case; 12] = [
        ("expired", expired, Check::Validity),
        ("not yet valid", not_yet_valid, Check::Validity),
        ("wrong ca", wrong_ca, Check::Chain),
        ("leaf with ca:true", leaf_is_ca, Check::LeafConstraints),
        (
            "missing clientAuth",
            no_client_auth,
            Check::ExtendedKeyUsage,
        ),
        (
            "missing serverAuth",
            no_server_auth,
            Check::ExtendedKeyUsage,
        ),
        (
            "san without dialled name",
            san_without_dialled_name,
            Check::SubjectAltName,
        ),
        ("key not matching", key_not_matching, Check::KeyMatch),
        ("revoked", revoked, Check::Revoked),
        ("key mode 0644", key_mode_0644, Check::FileMode),
        ("pem that is not a certificate", cert_is_a_key, Check::Parse),
        ("key that is not a key", key_is_a_cert, Check::Parse),
    ];
    for (name, make, expected) in cases {
        let fx = fixture();
        let findings = validate(&make(&fx), &options());
        assert_eq!(
            error_checks(&findings),
            vec![expected],
            "{name}: {findings:#?}"
        );
        assert!(findings.iter().all(|f| !f.fix.is_empty()), "{name}");
    }
}

#[test]
fn good_sets_have_no_findings() {
    for role in [LeafKind::Server, LeafKind::Client] {
        let fx = fixture();
        let findings = validate(&good(&fx, role), &options());
        assert!(findings.is_empty(), "{findings:#?}");
    }
}

#[test]
fn expiring_within_horizon_is_a_warning() {
    let fx = fixture();
    let now = OffsetDateTime::now_utc();
    let set = write_set(&fx, LeafKind::Client, &fx.ca, |p| {
        p.not_after = now + Duration::days(3)
    });
    let findings = validate(&set, &options());
    assert_eq!(findings.len(), 1);
    assert_eq!(
        (findings[0].check, findings[0].severity),
        (Check::Expiry, Severity::Warning)
    );
}

#[test]
fn qemu_group_readable_key_is_accepted_only_for_qemu() {
    let fx = fixture();
    let mut set = good(&fx, LeafKind::Server);
    fs::set_permissions(&set.leaves[0].key, fs::Permissions::from_mode(0o640)).unwrap();
    assert_eq!(
        error_checks(&validate(&set, &options())),
        vec![Check::FileMode]
    );
    set.key_modes = KeyModes::GroupReadable;
    assert!(validate(&set, &options()).is_empty());
}

#[test]
fn ip_names_are_matched_against_ip_sans() {
    let fx = fixture();
    let set = write_set(&fx, LeafKind::Server, &fx.ca, |p| {
        p.subject_alt_names
            .push(rcgen::SanType::IpAddress("192.0.2.7".parse().unwrap()))
    });
    let mut opts = options();
    opts.server_names.push("192.0.2.7".into());
    assert!(validate(&set, &opts).is_empty());
    opts.server_names.push("192.0.2.8".into());
    assert_eq!(
        error_checks(&validate(&set, &opts)),
        vec![Check::SubjectAltName]
    );
    assert!(Path::new(&set.ca_cert).exists());
}

#[test]
fn pkipath_dir_checks_the_crl_beside_it() {
    let fx = fixture();
    revoked(&fx);
    let dir = &fx.out;
    fs::rename(dir.join("cert.pem"), dir.join("clientcert.pem")).unwrap();
    fs::rename(dir.join("key.pem"), dir.join("clientkey.pem")).unwrap();
    fs::rename(dir.join("crl.pem"), dir.join("cacrl.pem")).unwrap();
    let set = FileSet::detect(dir);
    assert_eq!(set.crl.as_deref(), Some(dir.join("cacrl.pem").as_path()));
    let findings = validate(&set, &options());
    assert_eq!(error_checks(&findings), vec![Check::Revoked]);
}
