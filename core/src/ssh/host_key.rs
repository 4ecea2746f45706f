//! The client handler that checks a host's key against known_hosts before
//! anything is sent: known keys pass, unknown ones only when the caller
//! allowed recording them, changed or revoked ones never.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use russh::keys::{HashAlg, PublicKey, PublicKeyOrCertificate};

use super::error::ConnectError;
use super::known_hosts::{self, HostKeyVerdict};

/// Why the handler refused a key, kept for the error after the handshake.
pub(crate) type Refusal = Arc<Mutex<Option<ConnectError>>>;

/// Checks the host key during the handshake.
pub(crate) struct HostKeyCheck {
    pub host: String,
    pub port: u16,
    pub known_hosts: PathBuf,
    pub accept_new: bool,
    pub refusal: Refusal,
}

impl russh::client::Handler for HostKeyCheck {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        offered: &PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        let outcome = match offered {
            PublicKeyOrCertificate::PublicKey { key, .. } => self.judge(key),
            PublicKeyOrCertificate::Certificate(_) => Err(ConnectError::HostCertificate {
                host: self.host.clone(),
            }),
        };
        match outcome {
            Ok(()) => Ok(true),
            Err(refused) => {
                if let Ok(mut slot) = self.refusal.lock() {
                    *slot = Some(refused);
                }
                Ok(false)
            }
        }
    }
}

impl HostKeyCheck {
    fn judge(&self, key: &PublicKey) -> Result<(), ConnectError> {
        let fingerprint = key.fingerprint(HashAlg::Sha256).to_string();
        let verdict = known_hosts::check(&self.known_hosts, &self.host, self.port, key)
            .map_err(|source| self.file_error(source))?;
        match verdict {
            HostKeyVerdict::Known => Ok(()),
            HostKeyVerdict::Unknown if self.accept_new => {
                known_hosts::record(&self.known_hosts, &self.host, self.port, key)
                    .map_err(|source| self.file_error(source))?;
                tracing::info!(host = %self.host, %fingerprint, path = %self.known_hosts.display(), "recorded new host key");
                Ok(())
            }
            HostKeyVerdict::Unknown => Err(ConnectError::UnknownHostKey {
                host: self.host.clone(),
                fingerprint,
                path: self.known_hosts.clone(),
            }),
            HostKeyVerdict::Changed { path, line } => Err(ConnectError::ChangedHostKey {
                host: self.host.clone(),
                fingerprint,
                path,
                line,
            }),
            HostKeyVerdict::Revoked { path, line } => Err(ConnectError::RevokedHostKey {
                host: self.host.clone(),
                fingerprint,
                path,
                line,
            }),
        }
    }

    fn file_error(&self, source: std::io::Error) -> ConnectError {
        ConnectError::KnownHosts {
            path: self.known_hosts.clone(),
            source,
        }
    }
}
