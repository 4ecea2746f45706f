//! Errors of a bootstrap: [`BootstrapError`] stops the whole run before
//! any host is touched; [`HostError`] ends the work on one host only.

use std::path::PathBuf;

use crate::inventory::UnknownHost;
use crate::ssh::{ConnectError, ExecError, UploadError};

/// Why a bootstrap could not start.
#[derive(Debug, thiserror::Error)]
pub enum BootstrapError {
    /// A host named on the command line is not in the inventory.
    #[error(transparent)]
    UnknownHost(#[from] UnknownHost),
    /// A host's address does not resolve.
    #[error("the address `{address}` of host {host} does not resolve")]
    Unresolvable {
        host: String,
        address: String,
        #[source]
        source: std::io::Error,
    },
    /// The CA could not be created.
    #[error("could not create the CA in {dir}")]
    InitCa {
        dir: PathBuf,
        #[source]
        source: vmctl_pki::InitError,
    },
    /// The CA could not be loaded.
    #[error("could not load the CA in {dir}")]
    LoadCa {
        dir: PathBuf,
        #[source]
        source: vmctl_pki::LoadError,
    },
    /// A certificate could not be issued.
    #[error("could not issue the {kind} certificate of {name}")]
    Issue {
        name: String,
        kind: &'static str,
        #[source]
        source: vmctl_pki::IssueError,
    },
    /// A client certificate's DN could not be read.
    #[error("could not read the DN of {name}'s client certificate")]
    Dn {
        name: String,
        #[source]
        source: vmctl_pki::DnError,
    },
    /// The scratch copy of the PKI directory for a dry run failed.
    #[error("could not copy {dir} for the dry run")]
    Scratch {
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Why one host could not be bootstrapped (or joined).
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    /// SSH failed: unreachable, host key refused, login refused.
    #[error("could not log in to {host}")]
    Connect {
        host: String,
        #[source]
        source: Box<ConnectError>,
    },
    /// A command on the host failed.
    #[error("could not {action} on {host}")]
    Remote {
        host: String,
        action: &'static str,
        #[source]
        source: Box<ExecError>,
    },
    /// The host's clock is behind: new certificates would not be valid yet.
    #[error(
        "the clock of {host} is {behind_secs} s behind the admin's; certificates would not be active yet there (fix its time, e.g. with NTP)"
    )]
    ClockBehind { host: String, behind_secs: i64 },
    /// The probe printed something unexpected.
    #[error("unexpected answer from {host} while probing: {detail}")]
    Probe { host: String, detail: String },
    /// The host's install set could not be assembled on the admin.
    #[error("could not assemble the files for {host}")]
    InstallSet {
        host: String,
        #[source]
        source: Box<vmctl_pki::InstallSetError>,
    },
    /// The config cannot express the allowed DNs.
    #[error("could not render the config for {host}")]
    Conf {
        host: String,
        #[source]
        source: Box<super::conf::ConfError>,
    },
    /// Nothing restarts libvirt on this host.
    #[error(
        "no way to restart libvirt on {host}: no systemd socket units found and no restart_command in the inventory"
    )]
    NoRestart { host: String },
    /// Writing a file failed; what was written is restored.
    #[error("could not install files on {host}; previous files restored")]
    Upload {
        host: String,
        #[source]
        source: Box<UploadError>,
    },
    /// The SSH connection dropped half-way; nothing could be undone.
    #[error(
        "the SSH connection to {host} was lost while {during}; each file there is the previous one or the complete new one, and libvirt was not restarted"
    )]
    ConnectionLost { host: String, during: &'static str },
    /// The daemon did not come back or TLS did not answer; restored.
    #[error(
        "libvirt on {host} did not come back with TLS; previous files restored and daemon restarted"
    )]
    RolledBack {
        host: String,
        #[source]
        source: Box<ActivationError>,
    },
    /// Even the restore failed: the host needs a person.
    #[error("libvirt on {host} did not come back, and restoring the previous files failed too")]
    RestoreFailed {
        host: String,
        #[source]
        source: Box<ExecError>,
    },
}

/// Why the new configuration did not take.
#[derive(Debug, thiserror::Error)]
pub enum ActivationError {
    /// The restart command failed.
    #[error("restart failed")]
    Restart(#[source] ExecError),
    /// The daemon runs but TLS does not answer the admin.
    #[error("TLS check {uri} failed: {stderr}")]
    Tls { uri: String, stderr: String },
}

impl HostError {
    /// A stable name for the kind of failure, for hints and JSON.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Connect { source, .. } => match **source {
                ConnectError::UnknownHostKey { .. } => "unknown-host-key",
                ConnectError::ChangedHostKey { .. } => "changed-host-key",
                ConnectError::RevokedHostKey { .. } => "revoked-host-key",
                ConnectError::Denied { .. } => "login-refused",
                _ => "unreachable",
            },
            Self::ClockBehind { .. } => "clock-behind",
            Self::NoRestart { .. } => "no-restart",
            Self::RolledBack { .. } => "rolled-back",
            Self::RestoreFailed { .. } => "restore-failed",
            Self::ConnectionLost { .. } => "connection-lost",
            _ => "failed",
        }
    }

    /// The host the error is about.
    pub fn host(&self) -> &str {
        match self {
            Self::Connect { host, .. }
            | Self::Remote { host, .. }
            | Self::ClockBehind { host, .. }
            | Self::Probe { host, .. }
            | Self::InstallSet { host, .. }
            | Self::Conf { host, .. }
            | Self::NoRestart { host }
            | Self::Upload { host, .. }
            | Self::RolledBack { host, .. }
            | Self::RestoreFailed { host, .. }
            | Self::ConnectionLost { host, .. } => host,
        }
    }
}
