//! The real daemons' half of the bad-certificate table: every defect that
//! `vmctl pki validate` names is shown to a real libvirt, next to a correct
//! credential made the same way, so the test fails if refusals are faked.
//!
//! A client credential meets two witnesses. `virsh` is libvirt's own client,
//! which checks its certificate before sending it. `openssl s_client` sends
//! whatever it is given, so its verdict is the daemon's alone: libvirtd
//! writes the byte 1 after it accepts a client certificate and hangs up
//! after it refuses one.

use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration as Wait;

use rcgen::{BasicConstraints, CertificateParams, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair};
use rcgen::{CustomExtension, SanType};
use time::{Duration, OffsetDateTime};
use vmctl_lab::{Host, Lab, trusted_lab_or_skip};
use vmctl_pki::{
    Authority, CaOptions, KeyAlgorithm, Layout, LeafKind, LeafRequest, Subject, leaf_params,
};

/// The fleet CA, loaded from the lab's PKI directory, and a stranger CA.
struct Signers {
    fleet_pem: String,
    fleet: Issuer<'static, KeyPair>,
    stranger: Issuer<'static, KeyPair>,
}

fn issuer(layout: &Layout) -> Issuer<'static, KeyPair> {
    let key = std::fs::read_to_string(layout.ca_key()).unwrap();
    let cert = std::fs::read_to_string(layout.ca_cert()).unwrap();
    Issuer::from_ca_cert_pem(&cert, KeyPair::from_pem(&key).unwrap()).unwrap()
}

impl Signers {
    fn load(lab: &Lab) -> Self {
        let fleet = Layout::new(lab.pki_dir());
        let stranger = Layout::new(lab.dir().join("stranger-ca"));
        Authority::init(&stranger, &CaOptions::default(), None).unwrap();
        Self {
            fleet_pem: std::fs::read_to_string(fleet.ca_cert()).unwrap(),
            fleet: issuer(&fleet),
            stranger: issuer(&stranger),
        }
    }
}

/// A certificate, its key, and the mode the key file gets.
struct Leaf {
    cert: String,
    key: String,
    key_mode: u32,
}

/// Parameters as vmctl makes them for `name`, with the lab's subject.
fn params(name: &str, kind: LeafKind, ips: Vec<std::net::IpAddr>) -> CertificateParams {
    let request = LeafRequest {
        ips,
        subject: Subject {
            organization: Some("vmctl lab".into()),
            ..Subject::default()
        },
        ..LeafRequest::new(name, kind)
    };
    leaf_params(&request, OffsetDateTime::now_utc()).unwrap()
}

fn sign(params: &CertificateParams, issuer: &Issuer<'_, KeyPair>) -> Leaf {
    let key = KeyAlgorithm::EcdsaP256.generate().unwrap();
    let cert = params.signed_by(&key, issuer).unwrap().pem();
    Leaf {
        cert,
        key: key.serialize_pem(),
        key_mode: 0o600,
    }
}

/// The admin's client certificate after `tweak`, signed by the fleet CA.
fn admin(s: &Signers, tweak: impl FnOnce(&mut CertificateParams)) -> Leaf {
    let mut p = params("admin", LeafKind::Client, Vec::new());
    tweak(&mut p);
    sign(&p, &s.fleet)
}

fn correct(s: &Signers) -> Leaf {
    admin(s, |_| {})
}

fn expired(s: &Signers) -> Leaf {
    let now = OffsetDateTime::now_utc();
    admin(s, |p| {
        (p.not_before, p.not_after) = (now - Duration::days(9), now - Duration::DAY)
    })
}

fn not_yet_valid(s: &Signers) -> Leaf {
    admin(s, |p| {
        p.not_before = OffsetDateTime::now_utc() + Duration::HOUR
    })
}

fn wrong_ca(s: &Signers) -> Leaf {
    sign(&params("admin", LeafKind::Client, Vec::new()), &s.stranger)
}

fn leaf_is_ca(s: &Signers) -> Leaf {
    admin(s, |p| p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained))
}

fn no_client_auth(s: &Signers) -> Leaf {
    admin(s, |p| {
        p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth]
    })
}

/// Extended key usage holding only `purpose` (last OID arc: 1 serverAuth,
/// 2 clientAuth), marked critical, which rcgen cannot do by itself.
fn critical_purpose(p: &mut CertificateParams, purpose: u8) {
    let der = vec![0x30, 10, 6, 8, 0x2b, 6, 1, 5, 5, 7, 3, purpose];
    let mut ext = CustomExtension::from_oid_content(&[2, 5, 29, 37], der);
    ext.set_criticality(true);
    p.extended_key_usages.clear();
    p.custom_extensions.push(ext);
}

fn no_client_auth_critical(s: &Signers) -> Leaf {
    admin(s, |p| critical_purpose(p, 1))
}

fn key_not_matching(s: &Signers) -> Leaf {
    let other = KeyAlgorithm::EcdsaP256.generate().unwrap().serialize_pem();
    Leaf {
        key: other,
        ..correct(s)
    }
}

fn key_mode_0644(s: &Signers) -> Leaf {
    Leaf {
        key_mode: 0o644,
        ..correct(s)
    }
}

/// Writes a `?pkipath=` directory: the fleet CA, `client`, and `server`.
fn pkipath(lab: &Lab, name: &str, ca: &str, client: &Leaf, server: Option<&Leaf>) -> PathBuf {
    let dir = lab.dir().join("bad-certs").join(name.replace(' ', "-"));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("cacert.pem"), ca).unwrap();
    let leaves = [("client", Some(client)), ("server", server)];
    for (role, leaf) in leaves.into_iter().filter_map(|(r, l)| Some((r, l?))) {
        std::fs::write(dir.join(format!("{role}cert.pem")), &leaf.cert).unwrap();
        let key = dir.join(format!("{role}key.pem"));
        std::fs::write(&key, &leaf.key).unwrap();
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(leaf.key_mode)).unwrap();
    }
    dir
}

/// Runs `program args`: whether it worked, and its stdout (else stderr).
fn run(program: &str, args: &[&str]) -> (bool, String) {
    let out = Command::new(program).args(args).output().unwrap();
    let ok = out.status.success();
    let text = if ok { out.stdout } else { out.stderr };
    (ok, String::from_utf8_lossy(&text).trim().to_owned())
}

/// Whether `virsh -c qemu+tls://HOST/system?pkipath=DIR hostname` works.
fn virsh_gets_in(host: &Host, dir: &Path) -> (bool, String) {
    let (name, path) = (host.name(), dir.display());
    run(
        "virsh",
        &[
            "-c",
            &format!("qemu+tls://{name}/system?pkipath={path}"),
            "hostname",
        ],
    )
}

/// Whether the daemon itself accepts the client certificate in `dir`.
fn daemon_accepts(host: &Host, dir: &Path) -> bool {
    let file = |f: &str| dir.join(f).display().to_string();
    let mut child = Command::new("openssl")
        .args(["s_client", "-quiet", "-verify_return_error"])
        .args(["-connect", &format!("{}:16514", host.address())])
        .args(["-CAfile", &file("cacert.pem")])
        .args(["-cert", &file("clientcert.pem")])
        .args(["-key", &file("clientkey.pem")])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut byte = [0u8; 1];
        let _ = tx.send(stdout.read(&mut byte).is_ok_and(|n| n == 1) && byte[0] == 1);
    });
    let accepted = rx.recv_timeout(Wait::from_secs(15)).unwrap_or(false);
    child.kill().unwrap();
    child.wait().unwrap();
    accepted
}

/// Asserts `vmctl pki validate ARGS` finds exactly the error `cause`.
fn assert_cause(lab: &Lab, name: &str, args: &[&str], cause: Option<&str>) {
    let out = lab.vmctl(&[&["--output", "json", "pki", "validate"], args].concat());
    let findings: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let mut checks: Vec<&str> = findings
        .iter()
        .filter(|f| f["severity"] == "error")
        .map(|f| f["check"].as_str().unwrap())
        .collect();
    checks.dedup();
    assert_eq!(
        checks,
        Vec::from_iter(cause),
        "{name}: vmctl pki validate {args:?}"
    );
    let code = if cause.is_some() { 4 } else { 0 };
    assert_eq!(out.status.code(), Some(code), "{name}");
}

/// The DN as libvirt's allowed-DN list sees it.
fn dn(cert: &Path) -> String {
    run("virt-pki-query-dn", &[cert.to_str().unwrap()]).1
}

/// How libvirt treats a client credential.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Client {
    /// virsh gets in, and the daemon accepts the certificate.
    Admitted,
    /// virsh refuses to send it, and the daemon refuses it when sent.
    Refused,
    /// virsh refuses it; no TLS client can present a certificate without
    /// its key, so the daemon is never asked.
    NoHandshake,
}
use Client::{Admitted, NoHandshake, Refused};

/// A client credential, how to make it, the check `vmctl pki validate`
/// names, and what libvirt does with it.
#[rustfmt::skip]
type ClientCase = (&'static str, fn(&Signers) -> Leaf, Option<&'static str>, Client);

/// libvirt does not reject a missing clientAuth when the extended key usage
/// is not critical (as vmctl, rcgen and most CAs write it), nor a private
/// key readable by everyone: only `vmctl pki validate` reports those.
#[rustfmt::skip]
const CLIENT_CASES: [ClientCase; 9] = [
    ("correct",                 correct,                 None,                     Admitted),
    ("expired",                 expired,                 Some("validity"),         Refused),
    ("not yet valid",           not_yet_valid,           Some("validity"),         Refused),
    ("wrong ca",                wrong_ca,                Some("chain"),            Refused),
    ("leaf is a ca",            leaf_is_ca,              Some("leaf-constraints"), Refused),
    ("no clientAuth",           no_client_auth,          Some(EKU),                Admitted),
    ("no clientAuth, critical", no_client_auth_critical, Some(EKU),                Refused),
    ("key not matching",        key_not_matching,        Some("key-match"),        NoHandshake),
    ("key mode 0644",           key_mode_0644,           Some("file-mode"),        Admitted),
];

const EKU: &str = "extended-key-usage";

/// What virsh and the daemon make of the client credential in `dir`.
fn client_verdict(host: &Host, dir: &Path, expected: Client) -> Client {
    let (got_in, said) = virsh_gets_in(host, dir);
    eprintln!("{}: virsh got in: {got_in}: {said}", dir.display());
    match (got_in, expected) {
        (false, NoHandshake) => NoHandshake,
        (_, _) if got_in != daemon_accepts(host, dir) => panic!("virsh and daemon disagree"),
        (true, _) => Admitted,
        (false, _) => Refused,
    }
}

#[test]
fn bad_client_certificates_are_named_by_validate_and_refused_by_libvirt() {
    let Some(lab) = trusted_lab_or_skip(1) else {
        return;
    };
    let (host, signers) = (lab.nth(0), Signers::load(&lab));
    let admin_dn = dn(&lab.pki_dir().join("admin/clientcert.pem"));

    for (name, make, cause, expected) in CLIENT_CASES {
        let dir = pkipath(&lab, name, &signers.fleet_pem, &make(&signers), None);
        assert_eq!(
            dn(&dir.join("clientcert.pem")),
            admin_dn,
            "{name}: DN differs"
        );
        assert_cause(&lab, name, &["--dir", dir.to_str().unwrap()], cause);
        assert_eq!(client_verdict(host, &dir, expected), expected, "{name}");
    }

    // Revoked: the admin's own credential, once the host has the new CRL.
    let old = pkipath(&lab, "revoked", &signers.fleet_pem, &read_admin(&lab), None);
    lab.vmctl_ok(&["pki", "revoke", "admin"]);
    assert_cause(&lab, "revoked", &["--host", "admin"], Some("revoked"));
    let crl = Layout::new(lab.pki_dir()).crl();
    std::fs::copy(crl, host.private_path("/etc/pki/CA/cacrl.pem")).unwrap();
    host.restart_daemon().unwrap();
    assert_eq!(client_verdict(host, &old, Refused), Refused, "revoked");

    // The daemon is up again, and the CRL shuts out only what it lists.
    let fresh = pkipath(&lab, "fresh", &signers.fleet_pem, &correct(&signers), None);
    assert_eq!(client_verdict(host, &fresh, Admitted), Admitted, "fresh");
}

fn read_admin(lab: &Lab) -> Leaf {
    let dir = lab.pki_dir().join("admin");
    Leaf {
        cert: std::fs::read_to_string(dir.join("clientcert.pem")).unwrap(),
        key: std::fs::read_to_string(dir.join("clientkey.pem")).unwrap(),
        key_mode: 0o600,
    }
}

/// host1's server certificate after `tweak`, signed by the fleet CA.
fn server(s: &Signers, host: &Host, tweak: fn(&mut CertificateParams)) -> Leaf {
    let mut p = params(host.name(), LeafKind::Server, vec![host.address().into()]);
    tweak(&mut p);
    sign(&p, &s.fleet)
}

/// How libvirt treats a server certificate.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Server {
    /// The daemon starts and the admin's client gets in.
    Serves,
    /// The daemon checks its own certificate and does not start.
    WontStart,
    /// The daemon starts; the client refuses the certificate.
    ClientRefuses,
}
use Server::{ClientRefuses, Serves, WontStart};

/// A server certificate defect, the check `vmctl pki validate` names, and
/// what libvirt does. As for clients, a missing serverAuth is not rejected
/// unless the extended key usage is critical.
#[rustfmt::skip]
type ServerCase = (&'static str, fn(&mut CertificateParams), Option<&'static str>, Server);

#[rustfmt::skip]
const SERVER_CASES: [ServerCase; 4] = [
    ("correct server",          |_| {},                   None,                     Serves),
    ("no serverAuth",           no_server_auth,           Some(EKU),                Serves),
    ("no serverAuth, critical", no_server_auth_critical,  Some(EKU),                WontStart),
    ("san without dialled name", other_name,              Some("subject-alt-name"), ClientRefuses),
];

fn no_server_auth(p: &mut CertificateParams) {
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
}

fn no_server_auth_critical(p: &mut CertificateParams) {
    critical_purpose(p, 2);
}

/// The address and another DNS name, but not the host name clients dial
/// (with a DNS SAN present, the CN, which holds that name, is ignored).
fn other_name(p: &mut CertificateParams) {
    p.subject_alt_names
        .retain(|s| matches!(s, SanType::IpAddress(_)));
    let elsewhere = "elsewhere".try_into().unwrap();
    p.subject_alt_names.push(SanType::DnsName(elsewhere));
}

#[test]
fn bad_server_certificates_are_named_by_validate_and_refused_by_libvirt() {
    let Some(lab) = trusted_lab_or_skip(1) else {
        return;
    };
    let (host, signers) = (lab.nth(0), Signers::load(&lab));
    let cert_path = host.private_path("/etc/pki/libvirt/servercert.pem");
    let key_path = host.private_path("/etc/pki/libvirt/private/serverkey.pem");

    for (name, tweak, cause, expected) in SERVER_CASES {
        let leaf = server(&signers, host, tweak);
        let admin = read_admin(&lab);
        let dir = pkipath(&lab, name, &signers.fleet_pem, &admin, Some(&leaf));
        let args = ["--dir", dir.to_str().unwrap(), "--server-name", host.name()];
        assert_cause(&lab, name, &args, cause);

        std::fs::write(&cert_path, &leaf.cert).unwrap();
        std::fs::write(&key_path, &leaf.key).unwrap();
        let started = host.restart_daemon();
        let (got_in, said) = virsh_gets_in(host, &lab.pki_dir().join("admin"));
        eprintln!("{name}: daemon started: {started:?}; virsh got in: {got_in}: {said}");
        let verdict = match (started.is_ok(), got_in) {
            (false, _) => WontStart,
            (true, true) => Serves,
            (true, false) => ClientRefuses,
        };
        assert_eq!(verdict, expected, "{name}");
    }
}
