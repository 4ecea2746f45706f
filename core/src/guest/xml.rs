//! The domain XML vmctl writes for a new guest, and what vmctl reads back
//! from a guest's XML (sizes, vCPUs, disks).

use serde::Serialize;

/// The hypervisor a guest runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum VirtType {
    /// Hardware virtualization.
    Kvm,
    /// QEMU's emulator (TCG): slower, runs anywhere.
    Qemu,
}

impl VirtType {
    /// The name libvirt uses in `<domain type=...>`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Kvm => "kvm",
            Self::Qemu => "qemu",
        }
    }
}

/// What vmctl puts in a new guest's definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainSpec {
    /// The guest's name.
    pub name: String,
    /// KVM or TCG.
    pub virt_type: VirtType,
    /// vCPUs at start.
    pub vcpus: u32,
    /// vCPUs the guest can grow to while running.
    pub max_vcpus: u32,
    /// Memory at start, KiB.
    pub memory_kib: u64,
    /// Memory the guest can grow to while running (balloon), KiB.
    pub max_memory_kib: u64,
    /// The qcow2 disk's path on the host, if any.
    pub disk: Option<String>,
}

impl DomainSpec {
    /// The domain XML: `<memory>` is the ceiling and `<currentMemory>` what
    /// the balloon gives at start, so memory can change live up to the
    /// ceiling; `<vcpu current>` below the maximum leaves vCPUs to plug in.
    // TODO(#5): no network interface yet: which libvirt network or bridge
    // a guest joins is a fleet-wide choice the inventory does not make.
    // TODO(#5): live memory growth is balloon-only, so it needs the guest's
    // virtio-balloon driver; DIMM hotplug (`<maxMemory slots>`) would not,
    // but needs a NUMA topology in every guest.
    pub fn to_xml(&self) -> String {
        let disk = self.disk.as_deref().map_or_else(String::new, disk_xml);
        format!(
            "<domain type='{virt}'>
  <name>{name}</name>
  <memory unit='KiB'>{max_mem}</memory>
  <currentMemory unit='KiB'>{mem}</currentMemory>
  <vcpu placement='static' current='{vcpus}'>{max_vcpus}</vcpu>
  <os><type>hvm</type><boot dev='hd'/></os>
  <features><acpi/><apic/></features>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
{disk}    <serial type='pty'><target port='0'/></serial>
    <console type='pty'><target type='serial' port='0'/></console>
    <memballoon model='virtio'/>
  </devices>
</domain>
",
            virt = self.virt_type.as_str(),
            name = escape(&self.name),
            max_mem = self.max_memory_kib,
            mem = self.memory_kib,
            vcpus = self.vcpus,
            max_vcpus = self.max_vcpus,
        )
    }
}

fn disk_xml(path: &str) -> String {
    format!(
        "    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='{}'/>
      <target dev='vda' bus='virtio'/>
    </disk>
",
        escape(path)
    )
}

/// Escapes text for an XML attribute or element.
pub(crate) fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('\'', "&apos;")
        .replace('"', "&quot;")
}

/// What vmctl reads from a guest's XML.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DomainFacts {
    /// The guest's name.
    pub name: String,
    /// vCPUs now.
    pub vcpus: u32,
    /// The most vCPUs it can have without a restart.
    pub max_vcpus: u32,
    /// Memory now, KiB.
    pub memory_kib: u64,
    /// The most memory it can have without a restart, KiB.
    pub max_memory_kib: u64,
    /// Its disks' source paths (files or block devices).
    pub disks: Vec<String>,
}

/// Why a guest's XML could not be read.
#[derive(Debug, Clone, thiserror::Error)]
#[error("the domain XML is not valid: {reason}")]
pub struct XmlError {
    /// What was wrong.
    pub reason: String,
}

/// Reads the facts vmctl needs from domain XML.
pub fn parse_facts(xml: &str) -> Result<DomainFacts, XmlError> {
    let doc = roxmltree::Document::parse(xml).map_err(|e| XmlError {
        reason: e.to_string(),
    })?;
    let root = doc.root_element();
    let child = |tag: &str| root.children().find(|n| n.has_tag_name(tag));
    let number = |tag: &str| {
        child(tag)
            .and_then(|n| n.text())
            .and_then(|t| t.trim().parse::<u64>().ok())
    };
    let vcpu = child("vcpu");
    let max_vcpus = number("vcpu").unwrap_or(1) as u32;
    let vcpus = vcpu
        .and_then(|n| n.attribute("current"))
        .and_then(|c| c.parse().ok())
        .unwrap_or(max_vcpus);
    let max_memory_kib = number("memory").unwrap_or(0) * unit_kib(child("memory"));
    let memory_kib =
        number("currentMemory").map_or(max_memory_kib, |m| m * unit_kib(child("currentMemory")));
    Ok(DomainFacts {
        name: child("name")
            .and_then(|n| n.text())
            .unwrap_or_default()
            .to_owned(),
        vcpus,
        max_vcpus,
        memory_kib,
        max_memory_kib,
        disks: disk_sources(&root),
    })
}

fn unit_kib(node: Option<roxmltree::Node>) -> u64 {
    match node.and_then(|n| n.attribute("unit")).unwrap_or("KiB") {
        "MiB" | "M" => 1024,
        "GiB" | "G" => 1024 * 1024,
        _ => 1,
    }
}

fn disk_sources(root: &roxmltree::Node) -> Vec<String> {
    root.descendants()
        .filter(|n| n.has_tag_name("disk") && n.attribute("device") != Some("cdrom"))
        .filter_map(|d| d.children().find(|n| n.has_tag_name("source")))
        .filter_map(|s| s.attribute("file").or_else(|| s.attribute("dev")))
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> DomainSpec {
        DomainSpec {
            name: "web<1>".into(),
            virt_type: VirtType::Qemu,
            vcpus: 1,
            max_vcpus: 4,
            memory_kib: 262_144,
            max_memory_kib: 524_288,
            disk: Some("/var/lib/libvirt/images/web.qcow2".into()),
        }
    }

    #[test]
    fn written_xml_reads_back_with_room_to_grow() {
        let xml = spec().to_xml();
        assert!(xml.contains("<domain type='qemu'>"));
        assert!(xml.contains("<name>web&lt;1&gt;</name>"));
        let facts = parse_facts(&xml).unwrap();
        assert_eq!(facts.name, "web<1>");
        assert_eq!((facts.vcpus, facts.max_vcpus), (1, 4));
        assert_eq!((facts.memory_kib, facts.max_memory_kib), (262_144, 524_288));
        assert_eq!(facts.disks, vec!["/var/lib/libvirt/images/web.qcow2"]);
    }

    #[test]
    fn units_and_missing_current_values() {
        let xml = "<domain><name>g</name><memory unit='MiB'>64</memory><vcpu>2</vcpu></domain>";
        let facts = parse_facts(xml).unwrap();
        assert_eq!((facts.vcpus, facts.max_vcpus), (2, 2));
        assert_eq!((facts.memory_kib, facts.max_memory_kib), (65_536, 65_536));
        assert!(facts.disks.is_empty());
    }

    #[test]
    fn broken_xml_is_an_error() {
        assert!(parse_facts("<domain>").is_err());
    }
}
