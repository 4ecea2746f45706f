//! One host's bootstrap: log in, probe, check the clock, work out what
//! differs from what it should be, and (unless a dry run) make it so.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use sha2::{Digest, Sha256};
use tracing::Instrument;
use vmctl_pki::{InstallFile, QemuKeyAccess, host_install_set};

use super::apply::{self, Change};
use super::conf::{self, TlsSettings};
use super::error::HostError;
use super::plan::{BootstrapPlan, Role};
use super::probe::{self, Probe, RestartMethod};
use super::report::{HostReport, Outcome};
use crate::ssh::{RemoteFile, Session, SshOptions};

/// A host's clock may be this far behind the admin's (seconds).
pub const MAX_CLOCK_BEHIND: i64 = 300;

/// What every host job shares.
pub(crate) struct Shared {
    pub ssh: SshOptions,
    pub pki: vmctl_pki::Layout,
    pub admin_dir: PathBuf,
    pub settings: TlsSettings,
    pub dry_run: bool,
}

/// Runs one host's job; the session stays open for the link checks.
pub(crate) async fn run(plan: BootstrapPlan, shared: Arc<Shared>) -> (HostReport, Option<Session>) {
    let mut report = HostReport::new(&plan.host.name, plan.role);
    let ssh = SshOptions {
        port: plan.host.ssh_port,
        ..shared.ssh.clone()
    };
    let session = match Session::connect(&plan.host.address, &ssh).await {
        Ok(session) => session,
        Err(source) => {
            let error = HostError::Connect {
                host: plan.host.name.clone(),
                source: Box::new(source),
            };
            return (report.fail(&error), None);
        }
    };
    let span = tracing::info_span!("bootstrap", host = %plan.host.name);
    let converged = converge(&plan, &shared, &session, &mut report)
        .instrument(span)
        .await;
    match converged {
        Ok(()) => (report, Some(session)),
        Err(error) => (report.fail(&error), Some(session)),
    }
}

async fn converge(
    plan: &BootstrapPlan,
    shared: &Shared,
    session: &Session,
    report: &mut HostReport,
) -> Result<(), HostError> {
    let name = plan.host.name.as_str();
    let install = plan.role == Role::Install;
    let paths = if install {
        install_paths(shared, name)?
    } else {
        Vec::new()
    };
    let probe = probe::probe(session, &paths).await?;
    if install {
        check_clock(name, &probe)?;
    }
    let method = restart_method(plan, &probe);
    let config_path = method
        .as_ref()
        .map_or("/etc/libvirt/libvirtd.conf", |m| m.config_path());
    let config = probe::read_config(session, config_path).await?;
    if !install && !conf::listens_tls(&config) {
        report.outcome = Outcome::Skipped;
        return Ok(());
    }

    // Work out what differs.
    let files = if install {
        changed_files(shared, name, &probe)?
    } else {
        Vec::new()
    };
    let assignments = shared
        .settings
        .assignments()
        .map_err(|source| HostError::Conf {
            host: name.to_owned(),
            source: Box::new(source),
        })?;
    let new_config = conf::apply(&config, &assignments);
    report.files = files.iter().map(|f| f.remote.clone()).collect();
    if new_config != config {
        report.config_path = Some(config_path.to_owned());
        report.config_lines = conf::added_lines(&config, &new_config);
        report.files.push(config_path.into());
    }
    report.restart = method.clone();
    if report.files.is_empty() {
        return Ok(());
    }
    if shared.dry_run {
        report.outcome = Outcome::WouldChange;
        return Ok(());
    }

    let method = method.ok_or_else(|| HostError::NoRestart {
        host: name.to_owned(),
    })?;
    let mut uploads: Vec<RemoteFile<'_>> = files.iter().map(remote_file).collect();
    if report.config_path.is_some() {
        uploads.push(config_file(config_path, &new_config));
    }
    let change = Change {
        files: uploads,
        method: &method,
        address: &plan.host.address,
        admin_dir: &shared.admin_dir,
    };
    apply::activate(session, &change).await?;
    report.outcome = Outcome::Changed;
    Ok(())
}

/// The inventory's command wins; else what systemd offers.
fn restart_method(plan: &BootstrapPlan, probe: &Probe) -> Option<RestartMethod> {
    if let Some(command) = &plan.host.restart_command {
        return Some(RestartMethod::Command(command.clone()));
    }
    match probe.systemd.as_str() {
        "systemd-modular" => Some(RestartMethod::SystemdModular),
        "systemd-monolithic" => Some(RestartMethod::SystemdMonolithic),
        _ => None,
    }
}

fn check_clock(host: &str, probe: &Probe) -> Result<(), HostError> {
    let admin_now = time::OffsetDateTime::now_utc().unix_timestamp();
    clock_verdict(host, admin_now, probe.now)
}

fn clock_verdict(host: &str, admin_now: i64, host_now: i64) -> Result<(), HostError> {
    let behind_secs = admin_now - host_now;
    if behind_secs > MAX_CLOCK_BEHIND {
        return Err(HostError::ClockBehind {
            host: host.to_owned(),
            behind_secs,
        });
    }
    Ok(())
}

fn install_set(
    shared: &Shared,
    host: &str,
    qemu: &QemuKeyAccess,
) -> Result<Vec<InstallFile>, HostError> {
    host_install_set(&shared.pki, host, qemu)
        .map(|set| set.files)
        .map_err(|source| HostError::InstallSet {
            host: host.to_owned(),
            source: Box::new(source),
        })
}

fn install_paths(shared: &Shared, host: &str) -> Result<Vec<PathBuf>, HostError> {
    let files = install_set(shared, host, &QemuKeyAccess::Root)?;
    Ok(files.into_iter().map(|f| f.remote).collect())
}

/// The install set files whose contents differ from the host's.
fn changed_files(
    shared: &Shared,
    host: &str,
    probe: &Probe,
) -> Result<Vec<InstallFile>, HostError> {
    let qemu = match &probe.qemu_group {
        Some(group) => QemuKeyAccess::Group(group.clone()),
        None => QemuKeyAccess::Root,
    };
    let files = install_set(shared, host, &qemu)?;
    Ok(files
        .into_iter()
        .filter(|f| probe.sums.get(&f.remote).cloned().flatten() != Some(sha256_hex(&f.contents)))
        .collect())
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn remote_file(file: &InstallFile) -> RemoteFile<'_> {
    RemoteFile {
        path: &file.remote,
        contents: &file.contents,
        mode: file.mode,
        owner: &file.owner,
        group: &file.group,
    }
}

fn config_file<'a>(path: &'a str, text: &'a str) -> RemoteFile<'a> {
    RemoteFile {
        path: Path::new(path),
        contents: text.as_bytes(),
        mode: 0o644,
        owner: "root",
        group: "root",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clock_two_hours_behind_is_refused() {
        let now = 1_700_000_000;
        assert!(clock_verdict("h", now, now - 60).is_ok());
        assert!(clock_verdict("h", now, now + 3600).is_ok());
        let err = clock_verdict("h", now, now - 7200).unwrap_err();
        assert!(matches!(
            err,
            HostError::ClockBehind {
                behind_secs: 7200,
                ..
            }
        ));
        assert!(err.to_string().contains("7200 s behind"));
    }

    #[test]
    fn sha256_is_hex() {
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
