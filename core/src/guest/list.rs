//! Guests across the fleet: what `vmctl list` shows.

use serde::Serialize;
use virt::domain::Domain;
use virt::sys;

use super::xml::{DomainFacts, parse_facts};
use crate::libvirt::{Fleet, HostConnection, HostOutcome, LibvirtError};

/// One guest on one host.
#[derive(Debug, Clone, Serialize)]
pub struct GuestSummary {
    /// The host it is defined (or running) on.
    pub host: String,
    /// Its state: running, paused, shut off, ...
    pub state: String,
    /// Defined persistently (not only running).
    pub persistent: bool,
    /// The same name exists on another host too.
    pub duplicate: bool,
    /// Sizes, vCPUs and disks.
    #[serde(flatten)]
    pub facts: DomainFacts,
}

/// The guests of each host asked, or why a host did not answer.
#[derive(Debug)]
pub struct FleetListing {
    /// Per host, in inventory order.
    pub hosts: Vec<HostOutcome<Vec<GuestSummary>>>,
}

impl FleetListing {
    /// Every guest found, in host order, duplicates flagged.
    pub fn guests(&self) -> Vec<&GuestSummary> {
        self.hosts
            .iter()
            .filter_map(|h| h.result.as_ref().ok())
            .flatten()
            .collect()
    }
}

/// Lists guests on `hosts` (all when empty); inactive ones too when `all`.
pub async fn list(fleet: &Fleet, hosts: &[String], all: bool) -> FleetListing {
    let names = if hosts.is_empty() {
        fleet.names()
    } else {
        hosts.to_vec()
    };
    let mut outcomes = fleet.query(&names, move |c| host_guests(c, all)).await;
    flag_duplicates(&mut outcomes);
    FleetListing { hosts: outcomes }
}

/// Every guest on one host (running only unless `all`).
pub(crate) fn host_guests(
    conn: &HostConnection,
    all: bool,
) -> Result<Vec<GuestSummary>, LibvirtError> {
    let flags = if all {
        0
    } else {
        sys::VIR_CONNECT_LIST_DOMAINS_ACTIVE
    };
    let domains = conn.raw().list_all_domains(flags)?;
    let mut guests = domains
        .iter()
        .map(|d| summarize(conn.host(), d))
        .collect::<Result<Vec<_>, _>>()?;
    guests.sort_by(|a, b| a.facts.name.cmp(&b.facts.name));
    Ok(guests)
}

fn summarize(host: &str, domain: &Domain) -> Result<GuestSummary, LibvirtError> {
    let xml = domain.xml_desc(0)?;
    let facts = parse_facts(&xml).map_err(|e| LibvirtError::local(e.to_string()))?;
    let (state, _) = domain.state()?;
    Ok(GuestSummary {
        host: host.to_owned(),
        state: state_name(state.to_raw()).to_owned(),
        persistent: domain.is_persistent()?,
        duplicate: false,
        facts,
    })
}

/// libvirt's state as `virsh` words it.
pub fn state_name(raw: sys::virDomainState) -> &'static str {
    match raw {
        sys::VIR_DOMAIN_RUNNING => "running",
        sys::VIR_DOMAIN_BLOCKED => "idle",
        sys::VIR_DOMAIN_PAUSED => "paused",
        sys::VIR_DOMAIN_SHUTDOWN => "in shutdown",
        sys::VIR_DOMAIN_SHUTOFF => "shut off",
        sys::VIR_DOMAIN_CRASHED => "crashed",
        sys::VIR_DOMAIN_PMSUSPENDED => "pmsuspended",
        _ => "no state",
    }
}

fn flag_duplicates(outcomes: &mut [HostOutcome<Vec<GuestSummary>>]) {
    let mut seen = std::collections::HashMap::<String, usize>::new();
    for g in outcomes
        .iter()
        .filter_map(|o| o.result.as_ref().ok())
        .flatten()
    {
        *seen.entry(g.facts.name.clone()).or_default() += 1;
    }
    for o in outcomes.iter_mut() {
        if let Ok(guests) = o.result.as_mut() {
            for g in guests {
                g.duplicate = seen.get(&g.facts.name).is_some_and(|n| *n > 1);
            }
        }
    }
}
