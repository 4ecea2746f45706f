//! Parse, then act: which hosts a bootstrap installs, and which earlier
//! members only get their allowed DN list refreshed so a newcomer joins.

use super::error::BootstrapError;
use crate::inventory::{HostSpec, Inventory, UnknownHost};

/// What a bootstrap does to one host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Certificates, CRL and TLS settings: the host is bootstrapped.
    Install,
    /// Only the allowed DN list of an already bootstrapped member, so that
    /// the hosts being bootstrapped are let in.
    Join,
}

/// The validated plan for one host.
#[derive(Debug, Clone)]
pub struct BootstrapPlan {
    /// The host as the inventory describes it.
    pub host: HostSpec,
    /// What to do there.
    pub role: Role,
}

/// Plans `names` (every host when empty); the inventory's other hosts
/// join. Unknown names are refused with the list of known ones.
pub fn plan(inventory: &Inventory, names: &[String]) -> Result<Vec<BootstrapPlan>, UnknownHost> {
    let selected = inventory.select(names)?;
    let mut plans: Vec<BootstrapPlan> = selected
        .iter()
        .map(|host| BootstrapPlan {
            host: (*host).clone(),
            role: Role::Install,
        })
        .collect();
    for host in inventory.hosts.values() {
        if !plans.iter().any(|p| p.host.name == host.name) {
            plans.push(BootstrapPlan {
                host: host.clone(),
                role: Role::Join,
            });
        }
    }
    Ok(plans)
}

/// Resolves the address of every host to install, before anything is
/// issued or dialled: a name that does not resolve is an inventory
/// mistake, told as such rather than as a failed SSH login later.
pub(crate) async fn resolve(plans: &[BootstrapPlan]) -> Result<(), BootstrapError> {
    for plan in plans.iter().filter(|p| p.role == Role::Install) {
        let host = &plan.host;
        let found = tokio::net::lookup_host((host.address.as_str(), host.ssh_port)).await;
        let empty = || std::io::Error::other("no addresses");
        found
            .and_then(|mut addrs| addrs.next().map(|_| ()).ok_or_else(empty))
            .map_err(|source| BootstrapError::Unresolvable {
                host: host.name.clone(),
                address: host.address.clone(),
                source,
            })?;
    }
    Ok(())
}
