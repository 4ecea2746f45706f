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
    /// The CPU model.
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
        cpu_model: node.model,
        cpus: node.cpus,
        memory_total_kib: node.memory,
        memory_free_kib: c.free_memory()? / 1024,
        guests_running: running,
        guests_defined: running + inactive,
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
    fn packed_versions_unpack() {
        assert_eq!(super::version(9_000_000), "9.0.0");
        assert_eq!(super::version(7_002_001), "7.2.1");
    }
}
