//! What a bootstrap did, per host and per link, for people and for
//! `--output json`.

use std::path::PathBuf;

use serde::Serialize;

use super::plan::Role;
use super::probe::RestartMethod;

/// How one host ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// Already as wanted: nothing written, nothing restarted.
    Unchanged,
    /// Files written and the daemon restarted with TLS answering.
    Changed,
    /// Dry run: these changes would be made.
    WouldChange,
    /// A member that was never bootstrapped: left alone.
    Skipped,
    /// Failed; see the error. The host is as reachable as before.
    Failed,
}

/// The result for one host.
#[derive(Debug, Clone, Serialize)]
pub struct HostReport {
    /// Inventory name.
    pub host: String,
    /// Install or join.
    pub role: Role,
    /// How it ended.
    pub outcome: Outcome,
    /// How libvirt was (or would be) restarted.
    pub restart: Option<RestartMethod>,
    /// Files written (or that a dry run would write).
    pub files: Vec<PathBuf>,
    /// The daemon config file, when it changed.
    pub config_path: Option<String>,
    /// Config lines added or replaced.
    pub config_lines: Vec<String>,
    /// The error and its causes, one per entry, when it failed.
    pub error: Vec<String>,
    /// The kind of failure ([`super::HostError::kind`]).
    pub error_kind: Option<&'static str>,
}

impl HostReport {
    pub(crate) fn new(host: &str, role: Role) -> Self {
        Self {
            host: host.to_owned(),
            role,
            outcome: Outcome::Unchanged,
            restart: None,
            files: Vec::new(),
            config_path: None,
            config_lines: Vec::new(),
            error: Vec::new(),
            error_kind: None,
        }
    }

    pub(crate) fn fail(mut self, error: &super::HostError) -> Self {
        self.outcome = Outcome::Failed;
        self.error = chain(error);
        self.error_kind = Some(error.kind());
        self
    }
}

/// One checked TLS link: `from` connected to `to` with its own client
/// certificate (the admin with `<pki.dir>/admin`).
#[derive(Debug, Clone, Serialize)]
pub struct Link {
    /// `admin` or a host name.
    pub from: String,
    /// A host name.
    pub to: String,
    /// True when `virsh ... hostname` answered.
    pub ok: bool,
    /// The hostname answered, or why it failed.
    pub detail: String,
}

/// The whole run.
#[derive(Debug, Clone, Serialize)]
pub struct BootstrapReport {
    /// Nothing was touched.
    pub dry_run: bool,
    /// This run created the CA.
    pub created_ca: bool,
    /// Certificates issued (`NAME server|client`); reused ones are not listed.
    pub issued: Vec<String>,
    /// The admin's `?pkipath=` directory.
    pub admin_dir: PathBuf,
    /// Per host, inventory order with bootstrapped hosts first.
    pub hosts: Vec<HostReport>,
    /// The verified links.
    pub links: Vec<Link>,
}

impl BootstrapReport {
    /// True when no host failed and every link answered.
    pub fn success(&self) -> bool {
        self.hosts.iter().all(|h| h.outcome != Outcome::Failed) && self.links.iter().all(|l| l.ok)
    }

    /// True when no file was written and no daemon restarted.
    pub fn changed_nothing(&self) -> bool {
        self.hosts
            .iter()
            .all(|h| matches!(h.outcome, Outcome::Unchanged | Outcome::Skipped))
    }
}

/// `error` and its sources, one message each.
pub fn chain(error: &dyn std::error::Error) -> Vec<String> {
    let mut out = vec![error.to_string()];
    let mut source = error.source();
    while let Some(cause) = source {
        out.push(cause.to_string());
        source = cause.source();
    }
    out
}
