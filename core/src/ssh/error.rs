//! Errors of the SSH client, one enum per operation.

use std::path::PathBuf;

/// Why a session to a host could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// TCP or the SSH handshake failed.
    #[error("could not connect to {host}:{port}")]
    Unreachable {
        host: String,
        port: u16,
        #[source]
        source: Box<russh::Error>,
    },
    /// The host did not finish the handshake in time.
    #[error("{host}:{port} did not answer in time")]
    Timeout { host: String, port: u16 },
    /// The host's key is not recorded and recording was not allowed.
    #[error("the host key of {host} ({fingerprint}) is not in {path}")]
    UnknownHostKey {
        host: String,
        fingerprint: String,
        path: PathBuf,
    },
    /// Another key is recorded for the host: refused, always.
    #[error(
        "the host key of {host} has changed: it is now {fingerprint}, but line {line} of {path} records another key"
    )]
    ChangedHostKey {
        host: String,
        fingerprint: String,
        path: PathBuf,
        line: usize,
    },
    /// The host's key is marked `@revoked`.
    #[error("the host key of {host} ({fingerprint}) is revoked on line {line} of {path}")]
    RevokedHostKey {
        host: String,
        fingerprint: String,
        path: PathBuf,
        line: usize,
    },
    /// The host offered a certificate instead of a plain key.
    #[error("{host} offered a host certificate, which vmctl does not accept")]
    HostCertificate { host: String },
    /// The known_hosts file could not be read or written.
    #[error("could not use the known_hosts file {path}")]
    KnownHosts {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The identity file could not be loaded.
    #[error("could not load the SSH identity {path}")]
    Identity {
        path: PathBuf,
        #[source]
        source: russh::keys::Error,
    },
    /// No identity file is configured and no agent answers.
    #[error("no SSH identity configured and no SSH agent reachable")]
    Agent {
        #[source]
        source: russh::keys::Error,
    },
    /// The agent could not sign.
    #[error("the SSH agent failed while authenticating to {host}")]
    AgentSign {
        host: String,
        #[source]
        source: russh::AgentAuthError,
    },
    /// Authentication itself failed at the protocol level.
    #[error("authentication to {host} failed")]
    Auth {
        host: String,
        #[source]
        source: Box<russh::Error>,
    },
    /// The host refused every key offered.
    #[error("{user}@{host} refused every key offered")]
    Denied { host: String, user: String },
}

/// Why a command on a host could not run or failed.
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    /// The connection dropped before the command ended.
    #[error("the SSH connection to {host} was lost")]
    Lost { host: String },
    /// The channel could not be opened or used.
    #[error("could not run `{}` on {host}", short(.command))]
    Channel {
        host: String,
        command: String,
        #[source]
        source: Box<russh::Error>,
    },
    /// The command exited non-zero (or without a status).
    #[error("`{command}` failed on {host} ({status}): {stderr}")]
    Failed {
        host: String,
        command: String,
        status: String,
        stderr: String,
    },
}

impl ExecError {
    /// True when the connection itself is gone.
    pub fn is_lost(&self) -> bool {
        matches!(self, Self::Lost { .. })
    }
}

/// The first line of a command, cut short: scripts are long.
fn short(command: &str) -> String {
    let first = command.lines().next().unwrap_or_default();
    match first.char_indices().nth(60) {
        Some((cut, _)) => format!("{}...", &first[..cut]),
        None if command.contains('\n') => format!("{first}..."),
        None => first.to_owned(),
    }
}

/// Why a file could not be written on a host.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    /// The atomic write (temporary file, owner, mode, rename) failed.
    #[error("could not write {path} on {host}")]
    Write {
        host: String,
        path: PathBuf,
        #[source]
        source: ExecError,
    },
}

impl UploadError {
    /// True when the connection dropped during the write.
    pub fn is_lost(&self) -> bool {
        match self {
            Self::Write { source, .. } => source.is_lost(),
        }
    }
}
