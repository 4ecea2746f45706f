//! What `vmctl hosts` reports about each host.

use serde::Serialize;

use crate::libvirt::{Fleet, HostConnection, HostOutcome, LibvirtError};

/// One reachable host's facts.
#[derive(Debug, Clone, Serialize)]
pub struct HostReport {
    /// The hypervisor and its version, e.g. `QEMU 7.2.0`.
    pub hypervisor: String,
    /// The daemon's libvirt version.
    pub libvirt: String,
    /// The host CPU's model as libvirt names it, with its vendor
    /// (`AMD EPYC-Rome`); node info's model (the architecture) when the
    /// capabilities name none.
    pub cpu_model: String,
    /// Active CPUs.
    pub cpus: u32,
    /// Memory, KiB.
    pub memory_total_kib: u64,
    /// Free memory, KiB.
    pub memory_free_kib: u64,
    /// Guests running.
    pub guests_running: u32,
    /// Guests defined or running.
    pub guests_defined: u32,
}

/// Asks every host for its report, in parallel.
pub async fn reports(fleet: &Fleet) -> Vec<HostOutcome<HostReport>> {
    fleet.query_all(report).await
}

fn report(conn: &HostConnection) -> Result<HostReport, LibvirtError> {
    let c = conn.raw();
    let node = c.node_info()?;
    let running = c.num_of_domains()?;
    let inactive = c.num_of_defined_domains()?;
    Ok(HostReport {
        hypervisor: format!("{} {}", c.driver_type()?, version(c.hyp_version()?)),
        libvirt: version(c.lib_version()?),
        cpu_model: c
            .capabilities()
            .ok()
            .and_then(|xml| cpu_model(&xml))
            .unwrap_or(node.model),
        cpus: node.cpus,
        memory_total_kib: node.memory,
        memory_free_kib: c.free_memory()? / 1024,
        guests_running: running,
        guests_defined: running + inactive,
    })
}

/// `<host><cpu>`'s vendor and model from capabilities XML, if it has a model.
fn cpu_model(capabilities: &str) -> Option<String> {
    let doc = roxmltree::Document::parse(capabilities).ok()?;
    let cpu = doc
        .root_element()
        .children()
        .find(|n| n.has_tag_name("host"))?
        .children()
        .find(|n| n.has_tag_name("cpu"))?;
    let text = |tag: &str| {
        cpu.children()
            .find(|n| n.has_tag_name(tag))
            .and_then(|n| n.text())
            .map(str::trim)
            .filter(|t| !t.is_empty())
    };
    let model = text("model")?;
    Some(match text("vendor") {
        Some(vendor) => format!("{vendor} {model}"),
        None => model.to_owned(),
    })
}

/// libvirt's packed version number as `major.minor.release`.
fn version(packed: u32) -> String {
    format!(
        "{}.{}.{}",
        packed / 1_000_000,
        packed / 1000 % 1000,
        packed % 1000
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn cpu_column_is_the_capabilities_model_not_the_architecture() {
        let caps = "<capabilities><host><cpu><arch>x86_64</arch><model>EPYC-Rome</model>\
                    <vendor>AMD</vendor></cpu></host><guest><arch name='x86_64'/></guest>\
                    </capabilities>";
        assert_eq!(super::cpu_model(caps).as_deref(), Some("AMD EPYC-Rome"));
        let no_vendor =
            "<capabilities><host><cpu><model>Skylake</model></cpu></host></capabilities>";
        assert_eq!(super::cpu_model(no_vendor).as_deref(), Some("Skylake"));
        let no_model = "<capabilities><host><cpu><arch>x86_64</arch></cpu></host></capabilities>";
        assert_eq!(super::cpu_model(no_model), None);
    }

    #[test]
    fn packed_versions_unpack() {
        assert_eq!(super::version(9_000_000), "9.0.0");
        assert_eq!(super::version(7_002_001), "7.2.1");
    }
}
