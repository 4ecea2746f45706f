//! An SSH client for reaching fleet hosts (russh): the host key is checked
//! against known_hosts before anything is sent, the user authenticates with
//! a key file or the SSH agent, and commands run with their stdout, stderr
//! and exit status collected. Commands that need root go through
//! `sudo -n` when the SSH user is not root. Files are written atomically.

mod auth;
mod error;
mod exec;
mod host_key;
pub mod known_hosts;
mod upload;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use russh::client::{self, Handle};

pub use error::{ConnectError, ExecError, UploadError};
pub use exec::Output;
use host_key::HostKeyCheck;
pub use upload::{RemoteFile, quote};

/// How long the TCP connect and handshake may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(20);

/// How to reach and log in to hosts.
#[derive(Debug, Clone)]
pub struct SshOptions {
    /// The login user; anyone but root needs passwordless sudo.
    pub user: String,
    /// A private key file; the SSH agent's keys when `None`.
    pub identity: Option<PathBuf>,
    /// The known_hosts file to check host keys against.
    pub known_hosts: PathBuf,
    /// Record the key of a host that is not in known_hosts yet. A changed
    /// key is refused regardless.
    pub accept_new_host_key: bool,
    /// The SSH port.
    pub port: u16,
}

/// An authenticated SSH session to one host.
pub struct Session {
    host: String,
    user: String,
    handle: Handle<HostKeyCheck>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("host", &self.host)
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

impl Session {
    /// Connects to `host`, checks its key and logs in.
    pub async fn connect(host: &str, options: &SshOptions) -> Result<Self, ConnectError> {
        let refusal = Arc::new(Mutex::new(None));
        let check = HostKeyCheck {
            host: host.to_owned(),
            port: options.port,
            known_hosts: options.known_hosts.clone(),
            accept_new: options.accept_new_host_key,
            refusal: refusal.clone(),
        };
        let config = Arc::new(client::Config {
            inactivity_timeout: Some(Duration::from_secs(300)),
            ..client::Config::default()
        });
        let connecting = client::connect(config, (host, options.port), check);
        let connected = tokio::time::timeout(CONNECT_TIMEOUT, connecting)
            .await
            .map_err(|_| ConnectError::Timeout {
                host: host.to_owned(),
                port: options.port,
            })?;
        let mut handle = match connected {
            Ok(handle) => handle,
            Err(source) => {
                return Err(refused(&refusal).unwrap_or(ConnectError::Unreachable {
                    host: host.to_owned(),
                    port: options.port,
                    source: Box::new(source),
                }));
            }
        };
        auth::authenticate(
            &mut handle,
            host,
            &options.user,
            options.identity.as_deref(),
        )
        .await?;
        tracing::debug!(host, user = %options.user, "ssh session open");
        Ok(Self {
            host: host.to_owned(),
            user: options.user.clone(),
            handle,
        })
    }

    /// The host this session is connected to.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// True when the login user is root (no sudo needed).
    pub fn is_root(&self) -> bool {
        self.user == "root"
    }

    /// Runs `command` as the login user; a non-zero exit is not an error.
    pub async fn exec(&self, command: &str, stdin: Option<&[u8]>) -> Result<Output, ExecError> {
        tracing::trace!(host = %self.host, command, "exec");
        exec::exec(&self.handle, &self.host, command, stdin).await
    }

    /// Runs `command` as the login user; a non-zero exit is an error.
    pub async fn run(&self, command: &str) -> Result<Output, ExecError> {
        let output = self.exec(command, None).await?;
        exec::checked(&self.host, command, output)
    }

    /// Runs the shell `script` as root (`sudo -n` for other users); a
    /// non-zero exit is an error labelled `what`.
    pub async fn run_as_root(
        &self,
        what: &str,
        script: &str,
        stdin: Option<&[u8]>,
    ) -> Result<Output, ExecError> {
        let command = self.as_root(script);
        let output = self.exec(&command, stdin).await?;
        exec::checked(&self.host, what, output)
    }

    /// `script` wrapped to run as root from this session's user.
    pub fn as_root(&self, script: &str) -> String {
        if self.is_root() {
            format!("sh -c {}", quote(script))
        } else {
            format!("sudo -n -- sh -c {}", quote(script))
        }
    }

    /// Closes the session politely.
    pub async fn close(self) {
        let _ = self
            .handle
            .disconnect(russh::Disconnect::ByApplication, "", "en")
            .await;
    }
}

fn refused(refusal: &Mutex<Option<ConnectError>>) -> Option<ConnectError> {
    refusal.lock().ok().and_then(|mut slot| slot.take())
}
