//! Creating a guest on one host: its disk volume, its persistent
//! definition (vmctl's XML or the user's), and starting it.

use serde::Serialize;
use virt::connect::Connect;
use virt::sys;

use super::Size;
use super::storage::{create_volume, delete_volume, ensure_pool};
use super::xml::{DomainFacts, DomainSpec, VirtType, parse_facts};
use crate::libvirt::{ConnectError, Fleet, GuestRef, HostConnection, LibvirtError, QueryError};

/// A guest to create, as validated by [`CreateRequest::validate`].
#[derive(Debug, Clone)]
pub struct CreateRequest {
    /// The guest's name.
    pub name: String,
    /// The host to create it on.
    pub host: String,
    /// vCPUs at start.
    pub vcpus: u32,
    /// vCPU ceiling; defaults to `vcpus`.
    pub max_vcpus: Option<u32>,
    /// Memory at start.
    pub memory: Size,
    /// Memory ceiling; defaults to `memory`.
    pub max_memory: Option<Size>,
    /// Size of a new qcow2 disk, if any.
    pub disk: Option<Size>,
    /// The user's own domain XML instead of vmctl's.
    pub xml: Option<String>,
    /// KVM or TCG; `None` picks KVM when the host offers it.
    pub virt_type: Option<VirtType>,
    /// Start the guest once defined.
    pub start: bool,
}

/// What was created.
#[derive(Debug, Clone, Serialize)]
pub struct CreateOutcome {
    /// The guest.
    pub guest: String,
    /// Its host.
    pub host: String,
    /// The disk volume's path, if one was made.
    pub volume: Option<String>,
    /// True when it was started.
    pub started: bool,
    /// Its definition as libvirt took it (disks included, from the XML).
    pub facts: DomainFacts,
    /// The memory the running guest has now, KiB, when it is not the
    /// definition's: a guest starts with its maximum and gives the rest
    /// back only through its balloon driver.
    pub live_memory_kib: Option<u64>,
}

/// Why a guest was not created.
#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    /// The request contradicts itself.
    #[error("{reason}")]
    Invalid { reason: String },
    /// The name is taken somewhere in the fleet.
    #[error("a guest named {guest} already exists on {host}")]
    NameTaken { guest: String, host: String },
    /// Some hosts could not be asked whether the name is taken.
    #[error("could not check that {guest} is unused: {} unreachable", .hosts.join(", "))]
    Unchecked { guest: String, hosts: Vec<String> },
    /// The target host could not be reached.
    #[error(transparent)]
    Connect(#[from] ConnectError),
    /// A host failed to answer whether the name is taken.
    #[error(transparent)]
    Query(QueryError),
    /// The disk could not be made.
    #[error("could not create the disk of {guest} on {host}")]
    Storage {
        guest: String,
        host: String,
        #[source]
        source: LibvirtError,
    },
    /// libvirt refused the definition.
    #[error("could not define {guest} on {host}")]
    Define {
        guest: String,
        host: String,
        #[source]
        source: LibvirtError,
    },
    /// Defined, but it did not start.
    #[error("{guest} is defined on {host} but did not start")]
    Start {
        guest: String,
        host: String,
        #[source]
        source: LibvirtError,
    },
}

impl CreateRequest {
    /// Checks the request before any host is touched.
    pub fn validate(&self) -> Result<(), CreateError> {
        let invalid = |reason: String| Err(CreateError::Invalid { reason });
        if let Err(e) = GuestRef::check_new_name(&self.name) {
            return invalid(e.to_string());
        }
        if self.vcpus == 0 {
            return invalid("--vcpus must be at least 1".into());
        }
        if self.max_vcpus.is_some_and(|m| m < self.vcpus) {
            return invalid(format!("--max-vcpus is below --vcpus {}", self.vcpus));
        }
        if self.max_memory.is_some_and(|m| m < self.memory) {
            return invalid(format!("--max-memory is below --memory {}", self.memory));
        }
        if let Some(xml) = &self.xml {
            let facts = parse_facts(xml).map_err(|e| CreateError::Invalid {
                reason: e.to_string(),
            })?;
            if facts.name != self.name {
                return invalid(format!(
                    "the XML names the guest {:?}, not {:?}",
                    facts.name, self.name
                ));
            }
        }
        Ok(())
    }
}

/// Creates the guest `request` describes, refusing a name used anywhere in
/// the fleet.
pub async fn create(fleet: &Fleet, request: CreateRequest) -> Result<CreateOutcome, CreateError> {
    request.validate()?;
    fleet.target(&request.host)?;
    ensure_unused(fleet, &request.name).await?;
    let conn = fleet.connect(&request.host).await?;
    conn.run(move |c| create_blocking(c, &request)).await
}

// TODO(#5): an unreachable host makes create refuse (its guests' names
// cannot be checked); a `--danger-skip-unreachable` may be wanted.
async fn ensure_unused(fleet: &Fleet, name: &str) -> Result<(), CreateError> {
    let owned = name.to_owned();
    let outcomes = fleet
        .query_all(move |c| Ok(c.raw().lookup_domain_by_name(&owned).is_ok()))
        .await;
    let mut unreachable = Vec::new();
    for outcome in outcomes {
        match outcome.result {
            Ok(true) => {
                return Err(CreateError::NameTaken {
                    guest: name.to_owned(),
                    host: outcome.host,
                });
            }
            Ok(false) => {}
            Err(QueryError::Connect(_)) => unreachable.push(outcome.host),
            Err(e) => return Err(CreateError::Query(e)),
        }
    }
    if unreachable.is_empty() {
        Ok(())
    } else {
        Err(CreateError::Unchecked {
            guest: name.to_owned(),
            hosts: unreachable,
        })
    }
}

fn create_blocking(conn: &HostConnection, r: &CreateRequest) -> Result<CreateOutcome, CreateError> {
    let c = conn.raw();
    let err = |make: fn(String, String, LibvirtError) -> CreateError| {
        move |e: LibvirtError| make(r.name.clone(), conn.host().to_owned(), e)
    };

    // The disk first, so that the definition can point at it.
    let volume = match r.disk {
        Some(size) => Some(make_disk(c, r, size).map_err(err(|guest, host, source| {
            CreateError::Storage {
                guest,
                host,
                source,
            }
        }))?),
        None => None,
    };
    let xml = match &r.xml {
        Some(xml) => xml.clone(),
        None => spec(c, r, volume.clone()).to_xml(),
    };
    let domain = match c.define_domain_xml(&xml) {
        Ok(d) => d,
        Err(e) => {
            if let Some(path) = &volume {
                let _ = delete_volume(c, path);
            }
            return Err(CreateError::Define {
                guest: r.name.clone(),
                host: conn.host().to_owned(),
                source: e.into(),
            });
        }
    };
    tracing::info!(guest = %r.name, host = %conn.host(), "defined");
    if r.start {
        domain.create().map_err(|e| CreateError::Start {
            guest: r.name.clone(),
            host: conn.host().to_owned(),
            source: e.into(),
        })?;
        tracing::info!(guest = %r.name, host = %conn.host(), "started");
    }
    let read = |flags| {
        domain
            .xml_desc(flags)
            .map_err(LibvirtError::from)
            .and_then(|x| parse_facts(&x).map_err(|e| LibvirtError::local(e.to_string())))
            .map_err(err(|guest, host, source| CreateError::Define {
                guest,
                host,
                source,
            }))
    };
    let facts = read(sys::VIR_DOMAIN_XML_INACTIVE)?;
    let live = if r.start { Some(read(0)?) } else { None };
    Ok(CreateOutcome {
        guest: r.name.clone(),
        host: conn.host().to_owned(),
        volume,
        started: r.start,
        live_memory_kib: live
            .map(|l| l.memory_kib)
            .filter(|kib| *kib != facts.memory_kib),
        facts,
    })
}

fn make_disk(c: &Connect, r: &CreateRequest, size: Size) -> Result<String, LibvirtError> {
    let pool = ensure_pool(c)?;
    let vol = create_volume(&pool, &r.name, size)?;
    Ok(vol.path()?)
}

fn spec(c: &Connect, r: &CreateRequest, disk: Option<String>) -> DomainSpec {
    DomainSpec {
        name: r.name.clone(),
        virt_type: r.virt_type.unwrap_or_else(|| host_virt_type(c)),
        vcpus: r.vcpus,
        max_vcpus: r.max_vcpus.unwrap_or(r.vcpus),
        memory_kib: r.memory.kib(),
        max_memory_kib: r.max_memory.unwrap_or(r.memory).kib(),
        disk,
    }
}

/// KVM when the host's domain capabilities offer it, TCG otherwise.
pub fn host_virt_type(c: &Connect) -> VirtType {
    match c.domain_capabilities(None, None, None, Some("kvm"), 0) {
        Ok(_) => VirtType::Kvm,
        Err(_) => VirtType::Qemu,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> CreateRequest {
        CreateRequest {
            name: "web".into(),
            host: "host1".into(),
            vcpus: 2,
            max_vcpus: None,
            memory: "512M".parse().unwrap(),
            max_memory: None,
            disk: None,
            xml: None,
            virt_type: None,
            start: true,
        }
    }

    #[test]
    fn ceilings_below_the_start_values_are_refused() {
        let r = CreateRequest {
            max_vcpus: Some(1),
            ..request()
        };
        assert_eq!(
            r.validate().unwrap_err().to_string(),
            "--max-vcpus is below --vcpus 2"
        );
        let r = CreateRequest {
            max_memory: Some("256M".parse().unwrap()),
            ..request()
        };
        assert!(r.validate().is_err());
        assert!(request().validate().is_ok());
    }

    #[test]
    fn xml_must_name_the_same_guest() {
        let r = CreateRequest {
            xml: Some("<domain><name>other</name></domain>".into()),
            ..request()
        };
        assert!(r.validate().unwrap_err().to_string().contains("\"other\""));
    }
}
