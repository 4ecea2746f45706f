//! Checking a set of certificate files the way libvirt and QEMU will,
//! before a daemon refuses them with an unhelpful message.
//!
//! Every problem becomes one [`Finding`]: the file, the [`Check`] that
//! failed, what is wrong and how to fix it. Errors are what a daemon
//! rejects; warnings are what will soon be rejected.

mod checks;
mod fileset;
#[cfg(test)]
mod tests;

use std::path::PathBuf;

use serde::Serialize;
use time::{Duration, OffsetDateTime};

pub use checks::validate;
pub use fileset::{FileSet, KeyModes, LeafFiles};

/// Which property of the files a finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Check {
    /// The file is missing or unreadable.
    Read,
    /// The file is not the PEM certificate, key or CRL it should be.
    Parse,
    /// The certificate is not signed by the CA.
    Chain,
    /// Not valid now (expired or not yet valid).
    Validity,
    /// Valid now but not for the whole horizon.
    Expiry,
    /// The CA lacks CA:TRUE or keyCertSign.
    CaConstraints,
    /// A leaf claims to be a CA.
    LeafConstraints,
    /// Key usage lacks digitalSignature or keyEncipherment.
    KeyUsage,
    /// Extended key usage lacks serverAuth or clientAuth.
    ExtendedKeyUsage,
    /// The private key is not the certificate's key.
    KeyMatch,
    /// The server certificate does not name the host clients dial.
    SubjectAltName,
    /// A private key is readable by too many users.
    FileMode,
    /// The certificate is listed in the CRL.
    Revoked,
}

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The daemon will refuse the files.
    Error,
    /// Works now, will not for long.
    Warning,
}

/// One problem with one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The file the problem is in.
    pub file: PathBuf,
    /// The check that failed.
    pub check: Check,
    /// Error or warning.
    pub severity: Severity,
    /// What is wrong, lowercase, one line.
    pub message: String,
    /// What to do about it.
    pub fix: String,
}

/// What to validate against.
#[derive(Debug, Clone)]
pub struct ValidateOptions {
    /// The time "now" (a parameter so tests can move it).
    pub now: OffsetDateTime,
    /// Certificates expiring within this horizon get a warning.
    pub horizon: Duration,
    /// Names and addresses clients dial the server by; each must be in SANs.
    pub server_names: Vec<String>,
}

impl Default for ValidateOptions {
    fn default() -> Self {
        Self {
            now: OffsetDateTime::now_utc(),
            horizon: Duration::days(30),
            server_names: Vec::new(),
        }
    }
}

/// True when any finding is an error.
pub fn has_errors(findings: &[Finding]) -> bool {
    findings.iter().any(|f| f.severity == Severity::Error)
}
