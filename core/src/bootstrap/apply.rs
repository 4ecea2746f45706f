//! Making a host's changes take effect, or undoing them: every file about
//! to change is backed up on the host (`PATH.vmctl-backup-STAMP`), the new
//! ones are written atomically, libvirt restarts, and the admin checks that
//! TLS answers. If anything fails on the way, the backups go back (files
//! that did not exist are removed), libvirt restarts again, and the host is
//! as reachable as it was before. If the connection itself drops, nothing
//! can be undone from here; every file is then either the previous one or
//! the complete new one (atomic writes), the daemon runs as it did, and a
//! rerun finishes the job.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::error::{ActivationError, HostError};
use super::probe::RestartMethod;
use super::verify;
use crate::ssh::{ExecError, RemoteFile, Session, quote};

/// How long libvirt may take to answer over TLS after a restart.
const TLS_PATIENCE: Duration = Duration::from_secs(15);

/// Everything to change on one host.
pub(crate) struct Change<'a> {
    /// Files to write (certificates, keys, CRL, the daemon config).
    pub files: Vec<RemoteFile<'a>>,
    /// How to restart libvirt.
    pub method: &'a RestartMethod,
    /// What the admin dials, and with which credentials.
    pub address: &'a str,
    pub admin_dir: &'a Path,
}

/// Backs up, writes, restarts and checks; restores on any failure.
pub(crate) async fn activate(session: &Session, change: &Change<'_>) -> Result<(), HostError> {
    let host = session.host().to_owned();
    let paths: Vec<PathBuf> = change.files.iter().map(|f| f.path.to_owned()).collect();
    let stamp = time::OffsetDateTime::now_utc().unix_timestamp();
    let backed_up = backup(session, &paths, stamp)
        .await
        .map_err(|source| HostError::Remote {
            host: host.clone(),
            action: "back up the current files",
            source: Box::new(source),
        })?;
    let restore = Restore {
        paths: &paths,
        backed_up: &backed_up,
        stamp,
    };

    for file in &change.files {
        if let Err(source) = session.upload(file).await {
            if source.is_lost() {
                return Err(HostError::ConnectionLost {
                    host,
                    during: "installing files",
                });
            }
            restore
                .run(session, None)
                .await
                .map_err(|source| restore_failed(&host, source))?;
            return Err(HostError::Upload {
                host,
                source: Box::new(source),
            });
        }
    }
    tracing::info!(host = %host, files = paths.len(), "installed files");

    let Err(failure) = restart_and_check(session, change).await else {
        return Ok(());
    };
    tracing::warn!(host = %host, error = %failure, "libvirt did not come back with TLS; restoring");
    restore
        .run(session, Some(change.method))
        .await
        .map_err(|source| restore_failed(&host, source))?;
    Err(HostError::RolledBack {
        host,
        source: Box::new(failure),
    })
}

async fn restart_and_check(session: &Session, change: &Change<'_>) -> Result<(), ActivationError> {
    session
        .run_as_root("restart libvirt", &change.method.script(), None)
        .await
        .map_err(ActivationError::Restart)?;
    verify::admin_check_patiently(change.address, change.admin_dir, TLS_PATIENCE)
        .await
        .map(|_| ())
        .map_err(|stderr| ActivationError::Tls {
            uri: verify::admin_uri(change.address, change.admin_dir),
            stderr,
        })
}

fn restore_failed(host: &str, source: ExecError) -> HostError {
    HostError::RestoreFailed {
        host: host.to_owned(),
        source: Box::new(source),
    }
}

fn backup_path(path: &Path, stamp: i64) -> String {
    format!("{}.vmctl-backup-{stamp}", path.display())
}

/// Copies each existing file aside; returns the ones that existed.
async fn backup(
    session: &Session,
    paths: &[PathBuf],
    stamp: i64,
) -> Result<Vec<PathBuf>, ExecError> {
    let mut script = String::from("set -e\n");
    for path in paths {
        let (p, b) = (
            quote(&path.to_string_lossy()),
            quote(&backup_path(path, stamp)),
        );
        script.push_str(&format!(
            "if [ -e {p} ]; then cp -p {p} {b}; echo {p}; fi\n"
        ));
    }
    let output = session.run_as_root("back up files", &script, None).await?;
    Ok(output.stdout_text().lines().map(PathBuf::from).collect())
}

/// What to put back if the change does not take.
struct Restore<'a> {
    paths: &'a [PathBuf],
    backed_up: &'a [PathBuf],
    stamp: i64,
}

impl Restore<'_> {
    /// Puts the previous files back and restarts with `method`, if given.
    async fn run(
        &self,
        session: &Session,
        method: Option<&RestartMethod>,
    ) -> Result<(), ExecError> {
        let mut script = String::from("set -e\n");
        for path in self.paths {
            let p = quote(&path.to_string_lossy());
            if self.backed_up.contains(path) {
                let b = quote(&backup_path(path, self.stamp));
                script.push_str(&format!("cp -p {b} {p}\n"));
            } else {
                script.push_str(&format!("rm -f {p}\n"));
            }
        }
        session
            .run_as_root("restore previous files", &script, None)
            .await?;
        if let Some(method) = method {
            session
                .run_as_root("restart libvirt", &method.script(), None)
                .await?;
        }
        tracing::info!(host = %session.host(), "previous files restored");
        Ok(())
    }
}
