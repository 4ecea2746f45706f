//! `vmctl bootstrap`: make every host and the admin trust each other over
//! mutual TLS, over SSH.
//!
//! Parse, then act: [`plan()`] turns the inventory and the named hosts into
//! a [`BootstrapPlan`] per host; [`bootstrap`] prepares the CA and the
//! certificates on the admin side, then works on every host in parallel:
//! it installs the CA certificate, CRL and the host's server and client
//! certificates where libvirt and QEMU read them, sets the TLS settings in
//! the daemon config in place, restarts libvirt and checks that TLS
//! answers, restoring the previous files if not. Hosts of the inventory
//! that were not named but were bootstrapped before only get their allowed
//! DN list refreshed, so that newcomers join. Last, every link is checked:
//! admin → each host and each host → each other host.
//!
//! A second run finds nothing to change, writes nothing and restarts
//! nothing. A dry run does the admin-side work in a scratch copy of the
//! PKI directory and only reads from hosts.

mod apply;
mod certs;
pub mod conf;
mod error;
mod host;
mod plan;
mod probe;
mod report;
mod verify;

use std::sync::Arc;

use tokio::task::JoinSet;
use vmctl_pki::Passphrase;

pub use certs::ADMIN_NAME;
pub use error::{ActivationError, BootstrapError, HostError};
pub use host::MAX_CLOCK_BEHIND;
pub use plan::{BootstrapPlan, Role, plan};
pub use probe::RestartMethod;
pub use report::{BootstrapReport, HostReport, Link, Outcome, chain};
pub use verify::admin_uri;

use crate::inventory::Inventory;
use crate::ssh::SshOptions;

/// What the caller asked for.
#[derive(Debug, Default)]
pub struct BootstrapOptions {
    /// Hosts to bootstrap; every host when empty.
    pub hosts: Vec<String>,
    /// Record the keys of hosts not in known_hosts yet.
    pub accept_new_host_key: bool,
    /// Show what would change; touch nothing.
    pub dry_run: bool,
    /// The CA key's passphrase, when it is encrypted.
    pub passphrase: Option<Passphrase>,
}

/// Bootstraps the hosts `options` names (see the module docs).
pub async fn bootstrap(
    inventory: &Inventory,
    options: &BootstrapOptions,
) -> Result<BootstrapReport, BootstrapError> {
    let plans = plan::plan(inventory, &options.hosts)?;
    plan::resolve(&plans).await?;
    let selected: Vec<_> = plans
        .iter()
        .filter(|p| p.role == Role::Install)
        .map(|p| &p.host)
        .collect();
    let credentials = certs::prepare(
        inventory,
        &selected,
        options.dry_run,
        options.passphrase.as_ref(),
    )?;
    let shared = Arc::new(host::Shared {
        ssh: ssh_options(inventory, options),
        pki: credentials.layout.clone(),
        admin_dir: credentials.admin_dir.clone(),
        settings: conf::TlsSettings {
            allowed_dns: credentials.allowed_dns.clone(),
            crl_file: "/etc/pki/CA/cacrl.pem".into(),
        },
        dry_run: options.dry_run,
    });

    let (hosts, members) = run_hosts(plans, &shared).await;
    let links = if options.dry_run {
        Vec::new()
    } else {
        verify::matrix(&members, &credentials.admin_dir).await
    };
    for member in members {
        if let Ok(session) = Arc::try_unwrap(member.session) {
            session.close().await;
        }
    }
    Ok(BootstrapReport {
        dry_run: options.dry_run,
        created_ca: credentials.created_ca,
        issued: credentials.issued.clone(),
        admin_dir: inventory.pki.dir.join("admin"),
        hosts,
        links,
    })
}

fn ssh_options(inventory: &Inventory, options: &BootstrapOptions) -> SshOptions {
    SshOptions {
        user: inventory.ssh.user.clone(),
        identity: inventory.ssh.identity.clone(),
        known_hosts: inventory.ssh.known_hosts.clone(),
        accept_new_host_key: options.accept_new_host_key,
        port: 22,
    }
}

/// Runs every host's job at once; returns the reports in plan order and
/// the hosts that take part in the link checks.
async fn run_hosts(
    plans: Vec<BootstrapPlan>,
    shared: &Arc<host::Shared>,
) -> (Vec<HostReport>, Vec<verify::Member>) {
    let mut jobs = JoinSet::new();
    for (i, plan) in plans.into_iter().enumerate() {
        let shared = shared.clone();
        let address = plan.host.address.clone();
        jobs.spawn(async move { (i, address, host::run(plan, shared).await) });
    }
    let mut done = Vec::new();
    while let Some(joined) = jobs.join_next().await {
        if let Ok(result) = joined {
            done.push(result);
        }
    }
    done.sort_by_key(|(i, ..)| *i);

    let mut reports = Vec::new();
    let mut members = Vec::new();
    for (_, address, (report, session)) in done {
        let takes_part = matches!(report.outcome, Outcome::Changed | Outcome::Unchanged);
        if let (true, Some(session)) = (takes_part, session) {
            members.push(verify::Member {
                name: report.host.clone(),
                address,
                session: Arc::new(session),
            });
        }
        reports.push(report);
    }
    (reports, members)
}
