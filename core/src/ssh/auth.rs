//! Authenticating a session: with the configured identity file, or with
//! the keys an SSH agent holds. Key material never leaves this module.

use std::path::Path;
use std::sync::Arc;

use russh::client::Handle;
use russh::keys::agent::AgentIdentity;
use russh::keys::agent::client::AgentClient;
use russh::keys::{PrivateKeyWithHashAlg, load_secret_key};

use super::error::ConnectError;

/// Authenticates `user` on `handle` with `identity`, or the agent's keys.
pub(crate) async fn authenticate<H: russh::client::Handler>(
    handle: &mut Handle<H>,
    host: &str,
    user: &str,
    identity: Option<&Path>,
) -> Result<(), ConnectError> {
    let accepted = match identity {
        Some(path) => with_key_file(handle, host, user, path).await?,
        None => with_agent(handle, host, user).await?,
    };
    if accepted {
        Ok(())
    } else {
        Err(ConnectError::Denied {
            host: host.to_owned(),
            user: user.to_owned(),
        })
    }
}

async fn with_key_file<H: russh::client::Handler>(
    handle: &mut Handle<H>,
    host: &str,
    user: &str,
    path: &Path,
) -> Result<bool, ConnectError> {
    // TODO(#4): passphrase-protected identity files are refused; load them
    // into ssh-agent and leave `[ssh] identity` unset instead.
    let key = load_secret_key(path, None).map_err(|source| ConnectError::Identity {
        path: path.to_owned(),
        source,
    })?;
    let hash = rsa_hash(handle).await;
    let key = PrivateKeyWithHashAlg::new(Arc::new(key), hash);
    let result = handle
        .authenticate_publickey(user, key)
        .await
        .map_err(|source| auth_error(host, source))?;
    Ok(result.success())
}

async fn with_agent<H: russh::client::Handler>(
    handle: &mut Handle<H>,
    host: &str,
    user: &str,
) -> Result<bool, ConnectError> {
    let mut agent = AgentClient::connect_env()
        .await
        .map_err(|source| ConnectError::Agent { source })?;
    let identities = agent
        .request_identities()
        .await
        .map_err(|source| ConnectError::Agent { source })?;
    let hash = rsa_hash(handle).await;
    for identity in identities {
        let AgentIdentity::PublicKey { key, .. } = identity else {
            continue;
        };
        let result = handle
            .authenticate_publickey_with(user, key, hash, &mut agent)
            .await
            .map_err(|source| ConnectError::AgentSign {
                host: host.to_owned(),
                source,
            })?;
        if result.success() {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The SHA-2 hash to sign with for RSA keys (current OpenSSH refuses SHA-1).
async fn rsa_hash<H: russh::client::Handler>(handle: &Handle<H>) -> Option<russh::keys::HashAlg> {
    match handle.best_supported_rsa_hash().await {
        Ok(Some(hash)) => hash,
        _ => Some(russh::keys::HashAlg::Sha256),
    }
}

fn auth_error(host: &str, source: russh::Error) -> ConnectError {
    ConnectError::Auth {
        host: host.to_owned(),
        source: Box::new(source),
    }
}
