//! The checks themselves. Each function looks at one property and pushes
//! findings; none stops early, so one run reports every problem.

use std::net::IpAddr;
use std::path::Path;

use rcgen::KeyPair;
use x509_parser::prelude::{FromDer, GeneralName, X509Certificate};

use super::{Check, FileSet, Finding, KeyModes, LeafFiles, Severity, ValidateOptions};
use crate::verify::{self, first_pem_block};
use crate::{LeafKind, fsio};

/// Collects findings for one run.
struct Report<'a> {
    options: &'a ValidateOptions,
    findings: Vec<Finding>,
}

impl Report<'_> {
    fn push(
        &mut self,
        file: &Path,
        check: Check,
        severity: Severity,
        message: String,
        fix: String,
    ) {
        self.findings.push(Finding {
            file: file.to_owned(),
            check,
            severity,
            message,
            fix,
        });
    }

    fn error(
        &mut self,
        file: &Path,
        check: Check,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) {
        self.push(file, check, Severity::Error, message.into(), fix.into());
    }
}

/// Checks every file of `set` and returns what is wrong; empty when all is well.
pub fn validate(set: &FileSet, options: &ValidateOptions) -> Vec<Finding> {
    let mut report = Report {
        options,
        findings: Vec::new(),
    };
    let ca_der = read_der(&mut report, &set.ca_cert, "CERTIFICATE");
    let ca = ca_der
        .as_deref()
        .and_then(|der| parse_cert(&mut report, &set.ca_cert, der));
    if let Some(ca) = &ca {
        check_ca(&mut report, &set.ca_cert, ca);
    }
    let revoked = set
        .crl
        .as_deref()
        .map(|crl| read_crl(&mut report, crl, ca.as_ref()))
        .unwrap_or_default();
    for leaf in &set.leaves {
        check_leaf_files(&mut report, set, leaf, ca.as_ref(), &revoked);
    }
    report.findings
}

fn check_leaf_files(
    report: &mut Report<'_>,
    set: &FileSet,
    leaf: &LeafFiles,
    ca: Option<&X509Certificate<'_>>,
    revoked: &[Vec<u8>],
) {
    let der = read_der(report, &leaf.cert, "CERTIFICATE");
    let cert = der
        .as_deref()
        .and_then(|der| parse_cert(report, &leaf.cert, der));
    if let Some(cert) = &cert {
        check_leaf(report, &leaf.cert, cert, leaf.role, ca);
        if revoked.iter().any(|s| s.as_slice() == cert.raw_serial()) {
            report.error(
                &leaf.cert,
                Check::Revoked,
                "the certificate is revoked by the CRL",
                reissue(cert),
            );
        }
    }
    check_key(report, &leaf.key, set.key_modes, cert.as_ref());
}

fn check_ca(report: &mut Report<'_>, path: &Path, ca: &X509Certificate<'_>) {
    check_validity(
        report,
        path,
        ca,
        "create a new CA with `vmctl pki init --force`",
    );
    let is_ca = matches!(ca.basic_constraints(), Ok(Some(bc)) if bc.value.ca);
    if !is_ca {
        report.error(
            path,
            Check::CaConstraints,
            "the CA certificate lacks basic constraints CA:TRUE",
            "use a CA made by `vmctl pki init`",
        );
    }
    let signs = matches!(ca.key_usage(), Ok(Some(ku)) if ku.value.key_cert_sign());
    if !signs {
        report.error(
            path,
            Check::CaConstraints,
            "the CA certificate lacks key usage keyCertSign",
            "use a CA made by `vmctl pki init`",
        );
    }
}

fn check_leaf(
    report: &mut Report<'_>,
    path: &Path,
    cert: &X509Certificate<'_>,
    role: LeafKind,
    ca: Option<&X509Certificate<'_>>,
) {
    check_validity(report, path, cert, &reissue(cert));
    if ca.is_some_and(|ca| !verify::signed_by(cert, ca)) {
        report.error(
            path,
            Check::Chain,
            "the certificate is not signed by the CA certificate beside it",
            "install the CA certificate that signed it, or reissue it from this CA",
        );
    }
    if matches!(cert.basic_constraints(), Ok(Some(bc)) if bc.value.ca) {
        report.error(
            path,
            Check::LeafConstraints,
            "a leaf certificate has basic constraints CA:TRUE",
            reissue(cert),
        );
    }
    check_key_usage(report, path, cert);
    check_purpose(report, path, cert, role);
    if role == LeafKind::Server {
        check_names(report, path, cert);
    }
}

fn check_validity(report: &mut Report<'_>, path: &Path, cert: &X509Certificate<'_>, fix: &str) {
    let now = report.options.now;
    let (from, until) = (
        cert.validity().not_before.to_datetime(),
        cert.validity().not_after.to_datetime(),
    );
    if now < from {
        report.error(
            path,
            Check::Validity,
            format!("not valid before {from}; daemons allow no clock skew"),
            format!("check the clock of this machine and the CA's, or {fix}"),
        );
    } else if now > until {
        report.error(path, Check::Validity, format!("expired at {until}"), fix);
    } else if now + report.options.horizon > until {
        report.push(
            path,
            Check::Expiry,
            Severity::Warning,
            format!("expires at {until}, within the horizon"),
            fix.to_owned(),
        );
    }
}

fn check_key_usage(report: &mut Report<'_>, path: &Path, cert: &X509Certificate<'_>) {
    let Ok(Some(ku)) = cert.key_usage() else {
        return;
    };
    if ku.value.digital_signature() && ku.value.key_encipherment() {
        return;
    }
    let message =
        "key usage lacks digitalSignature or keyEncipherment, which libvirt and QEMU require";
    let severity = if ku.critical {
        Severity::Error
    } else {
        Severity::Warning
    };
    report.push(
        path,
        Check::KeyUsage,
        severity,
        message.into(),
        reissue(cert),
    );
}

fn check_purpose(report: &mut Report<'_>, path: &Path, cert: &X509Certificate<'_>, role: LeafKind) {
    let Ok(Some(eku)) = cert.extended_key_usage() else {
        return;
    };
    let (ok, purpose) = match role {
        LeafKind::Server => (eku.value.server_auth, "serverAuth"),
        LeafKind::Client => (eku.value.client_auth, "clientAuth"),
    };
    if !(ok || eku.value.any) {
        report.error(
            path,
            Check::ExtendedKeyUsage,
            format!(
                "extended key usage lacks {purpose}, needed for a {} certificate",
                role.name()
            ),
            reissue(cert),
        );
    }
}

fn check_names(report: &mut Report<'_>, path: &Path, cert: &X509Certificate<'_>) {
    let sans: Vec<GeneralName<'_>> = match cert.subject_alternative_name() {
        Ok(Some(san)) => san.value.general_names.clone(),
        _ => Vec::new(),
    };
    for name in &report.options.server_names.clone() {
        if !names_cover(&sans, cert, name) {
            report.error(
                path,
                Check::SubjectAltName,
                format!("the certificate does not name `{name}`, which clients dial"),
                format!(
                    "add `{name}` to the host's names or ips and run `vmctl pki renew {}`",
                    common_name(cert)
                ),
            );
        }
    }
}

/// Whether SANs (or, without DNS SANs, the CN) cover `name` as GnuTLS checks it.
fn names_cover(sans: &[GeneralName<'_>], cert: &X509Certificate<'_>, name: &str) -> bool {
    if let Ok(ip) = name.parse::<IpAddr>() {
        return sans
            .iter()
            .any(|san| matches!(san, GeneralName::IPAddress(raw) if ip_bytes(ip) == *raw));
    }
    let dns: Vec<&str> = sans
        .iter()
        .filter_map(|san| match san {
            GeneralName::DNSName(d) => Some(*d),
            _ => None,
        })
        .collect();
    if dns.is_empty() {
        return common_name(cert).eq_ignore_ascii_case(name);
    }
    dns.iter().any(|pattern| dns_matches(pattern, name))
}

fn dns_matches(pattern: &str, name: &str) -> bool {
    match pattern.strip_prefix("*.") {
        Some(suffix) => name
            .split_once('.')
            .is_some_and(|(_, rest)| rest.eq_ignore_ascii_case(suffix)),
        None => pattern.eq_ignore_ascii_case(name),
    }
}

fn ip_bytes(ip: IpAddr) -> Vec<u8> {
    match ip {
        IpAddr::V4(v4) => v4.octets().to_vec(),
        IpAddr::V6(v6) => v6.octets().to_vec(),
    }
}

fn check_key(
    report: &mut Report<'_>,
    path: &Path,
    modes: KeyModes,
    cert: Option<&X509Certificate<'_>>,
) {
    let Some(text) = read_text(report, path) else {
        return;
    };
    check_mode(report, path, modes);
    let key = match parse_key(&text) {
        Ok(key) => key,
        Err(message) => {
            report.error(
                path,
                Check::Parse,
                message,
                "install the key issued with the certificate",
            );
            return;
        }
    };
    if cert.is_some_and(|cert| !verify::key_fits(cert, &key)) {
        report.error(
            path,
            Check::KeyMatch,
            "the private key does not belong to the certificate",
            "install the key issued with the certificate, or reissue both",
        );
    }
}

/// The key in `text`, or what the file holds instead.
fn parse_key(text: &str) -> Result<KeyPair, String> {
    let Some(block) = first_pem_block(text.as_bytes()) else {
        return Err("not a PEM private key".into());
    };
    if block.label.starts_with("ENCRYPTED") {
        return Err("the private key is encrypted; libvirt and QEMU need it unencrypted".into());
    }
    if !block.label.ends_with("PRIVATE KEY") {
        return Err(format!("holds a {}, not a PRIVATE KEY", block.label));
    }
    KeyPair::from_pem(text).map_err(|_| format!("its {} block is not a usable key", block.label))
}

fn check_mode(report: &mut Report<'_>, path: &Path, modes: KeyModes) {
    let Ok(mode) = fsio::mode_of(path) else {
        return;
    };
    let allowed = match modes {
        KeyModes::OwnerOnly => 0o600,
        KeyModes::GroupReadable => 0o640,
    };
    if mode & !allowed & 0o777 != 0 {
        report.error(
            path,
            Check::FileMode,
            format!("private key mode is {mode:04o}, readable by too many users"),
            format!("chmod {allowed:04o} {}", path.display()),
        );
    }
}

/// Reads the serials the CRL lists; reports an unreadable or forged CRL.
fn read_crl(
    report: &mut Report<'_>,
    path: &Path,
    ca: Option<&X509Certificate<'_>>,
) -> Vec<Vec<u8>> {
    if !path.exists() {
        return Vec::new();
    }
    let Some(der) = read_der(report, path, "X509 CRL") else {
        return Vec::new();
    };
    let Ok((_, crl)) = x509_parser::parse_x509_crl(&der) else {
        report.error(
            path,
            Check::Parse,
            "not a DER CRL inside the PEM; the daemon will not start",
            "install the CA's `ca/crl.pem`",
        );
        return Vec::new();
    };
    if ca.is_some_and(|ca| crl.verify_signature(ca.public_key()).is_err()) {
        report.error(
            path,
            Check::Chain,
            "the CRL is not signed by the CA certificate beside it",
            "install the CRL of this CA",
        );
    }
    crl.iter_revoked_certificates()
        .map(|r| r.raw_serial().to_vec())
        .collect()
}

/// Reads a PEM file and returns the DER of its first block labelled `label`.
fn read_der(report: &mut Report<'_>, path: &Path, label: &str) -> Option<Vec<u8>> {
    let text = read_text(report, path)?;
    match first_pem_block(text.as_bytes()) {
        Some(block) if block.label == label => Some(block.der),
        Some(block) => {
            report.error(
                path,
                Check::Parse,
                format!("holds a {}, not a {label}", block.label),
                "put the right file in this place",
            );
            None
        }
        None => {
            report.error(
                path,
                Check::Parse,
                format!("not a PEM {label}"),
                "put the right file in this place",
            );
            None
        }
    }
}

fn read_text(report: &mut Report<'_>, path: &Path) -> Option<String> {
    match std::fs::read_to_string(path) {
        Ok(text) => Some(text),
        Err(e) => {
            report.error(
                path,
                Check::Read,
                format!("cannot be read: {e}"),
                "issue and install it with `vmctl pki issue` or `vmctl bootstrap`",
            );
            None
        }
    }
}

fn parse_cert<'a>(
    report: &mut Report<'_>,
    path: &Path,
    der: &'a [u8],
) -> Option<X509Certificate<'a>> {
    match X509Certificate::from_der(der) {
        Ok((_, cert)) => Some(cert),
        Err(_) => {
            report.error(
                path,
                Check::Parse,
                "the PEM block is not a valid X.509 certificate",
                "put the right file in this place",
            );
            None
        }
    }
}

fn common_name(cert: &X509Certificate<'_>) -> String {
    cert.subject()
        .iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok())
        .unwrap_or("NAME")
        .to_owned()
}

fn reissue(cert: &X509Certificate<'_>) -> String {
    format!("reissue it with `vmctl pki renew {}`", common_name(cert))
}
