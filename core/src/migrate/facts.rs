//! What a move's checks need to know, read from each host in one blocking
//! call per host.

use virt::domain::Domain;
use virt::sys;

use crate::libvirt::{HostConnection, LibvirtError};

use super::disks::{Disk, disks};
use super::error::PlanError;

/// The guest as its source host sees it.
#[derive(Debug, Clone)]
pub struct GuestFacts {
    pub uuid: String,
    pub active: bool,
    pub memory_mib: u64,
    pub vcpus: u32,
    /// The `<cpu>` element of the migratable XML, when it names a model.
    pub cpu_xml: Option<String>,
    /// `kvm` or `qemu` (TCG).
    pub virt_type: String,
    /// libvirt's CPU comparison on the source itself; when it already says
    /// incompatible there (features a nested host lacks, say), the same
    /// answer on the destination says nothing about the move.
    pub cpu_incompatible_on_source: bool,
    /// The guest's architecture and machine type, from `<os><type>`.
    pub arch: Option<String>,
    pub machine: Option<String>,
    /// A job (another move, a save, a dump) is running on the guest.
    pub job_running: bool,
    pub disks: Vec<Disk>,
}

/// Whether a disk path is on the destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiskPresence {
    /// A storage pool on the destination has a volume at that path.
    Present,
    /// A pool covers the directory and has no such volume.
    Missing,
    /// No pool on the destination covers the directory.
    Unknown,
}

/// The destination's answers.
#[derive(Debug, Clone)]
pub struct DestFacts {
    pub name_taken: bool,
    pub uuid_owner: Option<String>,
    pub free_mib: u64,
    pub cpus: u32,
    /// libvirt's CPU comparison, when the guest names a CPU model.
    pub cpu_incompatible: Option<String>,
    pub disks: Vec<(Disk, DiskPresence)>,
}

fn libvirt(host: &str, what: &'static str) -> impl Fn(virt::error::Error) -> PlanError {
    let host = host.to_owned();
    move |e| PlanError::Libvirt {
        host: host.clone(),
        what,
        source: e.into(),
    }
}

/// Reads the guest's facts on its source host.
pub fn guest_facts(
    conn: &HostConnection,
    guest: &str,
    domain: &Domain,
) -> Result<GuestFacts, PlanError> {
    let err = libvirt(conn.host(), "the guest");
    let info = domain.info().map_err(&err)?;
    let xml = domain
        .xml_desc(sys::VIR_DOMAIN_XML_MIGRATABLE)
        .map_err(&err)?;
    let mut facts = GuestFacts {
        uuid: domain.uuid_string().map_err(&err)?,
        active: domain.is_active().map_err(&err)?,
        memory_mib: info.max_mem / 1024,
        vcpus: info.nr_virt_cpu,
        cpu_xml: cpu_element(&xml),
        virt_type: virt_type(&xml),
        arch: os_type_attr(&xml, "arch"),
        machine: os_type_attr(&xml, "machine"),
        job_running: super::ffi::job_progress(domain, 0)
            .map(|j| j.kind != sys::VIR_DOMAIN_JOB_NONE as i32)
            .unwrap_or(false),
        disks: disks(guest, &xml)?,
        cpu_incompatible_on_source: false,
    };
    if let (Some(cpu), "kvm") = (&facts.cpu_xml, facts.virt_type.as_str()) {
        facts.cpu_incompatible_on_source = compare_cpu(conn, &facts, cpu).is_some();
    }
    Ok(facts)
}

/// Reads the destination's facts for `guest`.
pub fn dest_facts(
    conn: &HostConnection,
    guest: &str,
    facts: &GuestFacts,
) -> Result<DestFacts, PlanError> {
    let c = conn.raw();
    let err = libvirt(conn.host(), "the destination");
    let name_taken = exists(c.lookup_domain_by_name(guest)).map_err(&err)?;
    let uuid_owner = match c.lookup_domain_by_uuid_string(&facts.uuid) {
        Ok(d) => Some(d.name().map_err(&err)?),
        Err(e) if LibvirtError::from(e.clone()).is_not_found() => None,
        Err(e) => return Err(err(e)),
    };
    let node = c.node_info().map_err(&err)?;
    let free_mib = c.free_memory().map_err(&err)? / (1024 * 1024);
    let cpu_incompatible = match (&facts.cpu_xml, facts.virt_type.as_str()) {
        (Some(cpu), "kvm") if !facts.cpu_incompatible_on_source => compare_cpu(conn, facts, cpu),
        _ => None,
    };
    let disks = facts
        .disks
        .iter()
        .map(|d| (d.clone(), presence(conn, &d.path)))
        .collect();
    Ok(DestFacts {
        name_taken,
        uuid_owner,
        free_mib,
        cpus: node.cpus,
        cpu_incompatible,
        disks,
    })
}

fn exists(r: Result<Domain, virt::error::Error>) -> Result<bool, virt::error::Error> {
    match r {
        Ok(_) => Ok(true),
        Err(e) if LibvirtError::from(e.clone()).is_not_found() => Ok(false),
        Err(e) => Err(e),
    }
}

fn compare_cpu(conn: &HostConnection, facts: &GuestFacts, cpu: &str) -> Option<String> {
    let (arch, machine) = (facts.arch.as_deref(), facts.machine.as_deref());
    match super::ffi::hypervisor_cpu_incompatible(conn.raw(), arch, machine, &facts.virt_type, cpu)
    {
        Some(true) => Some("libvirt's hypervisor CPU comparison says incompatible".into()),
        Some(false) => None,
        None => {
            tracing::debug!(host = conn.host(), "CPU comparison not possible");
            None
        }
    }
}

/// Whether `path` is a volume of a pool on the host.
pub fn presence(conn: &HostConnection, path: &str) -> DiskPresence {
    let c = conn.raw();
    let dir = parent(path);
    if let Ok(pool) = c.lookup_storage_pool_by_target_path(&dir) {
        let _ = pool.refresh(0);
    }
    if c.lookup_storage_vol_by_path(path).is_ok() {
        return DiskPresence::Present;
    }
    if c.lookup_storage_pool_by_target_path(&dir).is_ok() {
        DiskPresence::Missing
    } else {
        DiskPresence::Unknown
    }
}

/// The directory part of a path.
pub fn parent(path: &str) -> String {
    match path.rsplit_once('/') {
        Some(("", _)) => "/".into(),
        Some((dir, _)) => dir.into(),
        None => ".".into(),
    }
}

fn cpu_element(xml: &str) -> Option<String> {
    let start = xml.find("<cpu ")?;
    let end = xml[start..].find("</cpu>")? + start + "</cpu>".len();
    let cpu = &xml[start..end];
    cpu.contains("<model").then(|| cpu.to_owned())
}

fn os_type_attr(xml: &str, attr: &str) -> Option<String> {
    let doc = roxmltree::Document::parse(xml).ok()?;
    let os_type = doc
        .descendants()
        .find(|n| n.has_tag_name("type") && n.parent().is_some_and(|p| p.has_tag_name("os")))?;
    os_type.attribute(attr).map(str::to_owned)
}

fn virt_type(xml: &str) -> String {
    roxmltree::Document::parse(xml)
        .ok()
        .and_then(|d| d.root_element().attribute("type").map(str::to_owned))
        .unwrap_or_else(|| "kvm".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parent_of_paths() {
        assert_eq!(
            parent("/var/lib/libvirt/images/a.qcow2"),
            "/var/lib/libvirt/images"
        );
        assert_eq!(parent("/a"), "/");
    }

    #[test]
    fn cpu_element_only_when_it_names_a_model() {
        let with = "<domain><cpu mode='custom'><model>Nehalem</model></cpu></domain>";
        assert!(cpu_element(with).unwrap().contains("Nehalem"));
        assert!(cpu_element("<domain><cpu mode='host-passthrough'></cpu></domain>").is_none());
    }
}
