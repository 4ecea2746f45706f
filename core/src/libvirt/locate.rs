//! Finding a guest by name across the fleet.

use virt::domain::Domain;

use super::{ConnectError, Fleet, GuestRef, HostConnection, LibvirtError, QueryError};

/// A guest found on exactly one host.
#[derive(Debug, Clone)]
pub struct Located {
    /// The guest's name.
    pub guest: String,
    /// The connection to the host it is on.
    pub conn: HostConnection,
    /// The guest's domain handle.
    pub domain: Domain,
}

/// Why a guest could not be pinned to one host.
#[derive(Debug, thiserror::Error)]
pub enum LocateError {
    /// `GUEST@HOST` named a host that is not in the inventory, or it could
    /// not be reached.
    #[error(transparent)]
    Connect(#[from] ConnectError),
    /// No reachable host has the guest.
    #[error("no guest {guest} on any reachable host{}", unreachable_note(.unreachable))]
    NotFound {
        guest: String,
        unreachable: Vec<String>,
    },
    /// `GUEST@HOST` and the host has no such guest.
    #[error("no guest {guest} on {host}")]
    NotOnHost { guest: String, host: String },
    /// The name is defined on several hosts.
    #[error("guest {guest} is defined on {}; name one as {guest}@HOST", .hosts.join(" and "))]
    Ambiguous { guest: String, hosts: Vec<String> },
    /// Looking the guest up failed.
    #[error("could not look up {guest} on {host}")]
    Lookup {
        guest: String,
        host: String,
        #[source]
        source: LibvirtError,
    },
}

fn unreachable_note(hosts: &[String]) -> String {
    if hosts.is_empty() {
        String::new()
    } else {
        format!(" (unreachable: {})", hosts.join(", "))
    }
}

impl Fleet {
    /// Finds the guest `guest` names: on its host when given, otherwise on
    /// the one host of the fleet that defines it.
    pub async fn locate(&self, guest: &GuestRef) -> Result<Located, LocateError> {
        if let Some(host) = &guest.host {
            return self.locate_on(&guest.name, host).await;
        }
        let name = guest.name.clone();
        let outcomes = self
            .query_all(move |c| lookup(c, &name).map(|d| d.is_some()))
            .await;
        let mut found = Vec::new();
        let mut unreachable = Vec::new();
        for outcome in outcomes {
            match outcome.result {
                Ok(true) => found.push(outcome.host),
                Ok(false) => {}
                Err(QueryError::Connect(_)) => unreachable.push(outcome.host),
                Err(QueryError::Query { host, source, .. }) => {
                    return Err(LocateError::Lookup {
                        guest: guest.name.clone(),
                        host,
                        source,
                    });
                }
            }
        }
        match found.as_slice() {
            [] => Err(LocateError::NotFound {
                guest: guest.name.clone(),
                unreachable,
            }),
            [host] => self.locate_on(&guest.name, host).await,
            _ => Err(LocateError::Ambiguous {
                guest: guest.name.clone(),
                hosts: found,
            }),
        }
    }

    /// The guest `name` on host `host`.
    pub async fn locate_on(&self, name: &str, host: &str) -> Result<Located, LocateError> {
        let conn = self.connect(host).await?;
        let owned = name.to_owned();
        let domain = conn.run(move |c| lookup(c, &owned)).await;
        let lookup_error = |source| LocateError::Lookup {
            guest: name.to_owned(),
            host: host.to_owned(),
            source,
        };
        match domain.map_err(lookup_error)? {
            Some(domain) => Ok(Located {
                guest: name.to_owned(),
                conn,
                domain,
            }),
            None => Err(LocateError::NotOnHost {
                guest: name.to_owned(),
                host: host.to_owned(),
            }),
        }
    }
}

/// The domain `name` on `conn`, or `None` when it is not defined there.
pub(crate) fn lookup(conn: &HostConnection, name: &str) -> Result<Option<Domain>, LibvirtError> {
    match conn.raw().lookup_domain_by_name(name) {
        Ok(d) => Ok(Some(d)),
        Err(e) => {
            let e = LibvirtError::from(e);
            if e.is_not_found() { Ok(None) } else { Err(e) }
        }
    }
}
