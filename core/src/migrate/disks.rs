//! The disks of a guest, read from its domain XML.

/// One disk of a guest that has a source on the host.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Disk {
    /// The guest-side name (`vda`).
    pub target: String,
    /// The host-side path of the file or block device.
    pub path: String,
    /// The image format (`qcow2`, `raw`), when the XML says.
    pub format: Option<String>,
    /// Read-only disks (CD-ROMs, shared images) are never copied.
    pub readonly: bool,
}

/// Why disks could not be read from a domain XML.
#[derive(Debug, thiserror::Error)]
#[error("domain XML of {guest} is not readable XML")]
pub struct DiskXmlError {
    pub guest: String,
    #[source]
    pub source: roxmltree::Error,
}

/// The disks of `guest` with a file or block source, in XML order.
pub fn disks(guest: &str, xml: &str) -> Result<Vec<Disk>, DiskXmlError> {
    let doc = roxmltree::Document::parse(xml).map_err(|source| DiskXmlError {
        guest: guest.to_owned(),
        source,
    })?;
    let devices = doc
        .descendants()
        .filter(|n| n.has_tag_name("devices"))
        .flat_map(|d| d.children())
        .filter(|n| n.has_tag_name("disk"));
    Ok(devices.filter_map(disk).collect())
}

fn disk(node: roxmltree::Node) -> Option<Disk> {
    let child = |name: &str| node.children().find(|c| c.has_tag_name(name));
    let source = child("source")?;
    let path = source
        .attribute("file")
        .or_else(|| source.attribute("dev"))?;
    let device = node.attribute("device").unwrap_or("disk");
    Some(Disk {
        target: child("target")?.attribute("dev")?.to_owned(),
        path: path.to_owned(),
        format: child("driver")
            .and_then(|d| d.attribute("type"))
            .map(str::to_owned),
        readonly: child("readonly").is_some() || device == "cdrom" || device == "floppy",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const XML: &str = "<domain><name>g</name><devices>\
        <disk type='file' device='disk'><driver name='qemu' type='qcow2'/>\
        <source file='/var/lib/libvirt/images/g.qcow2'/><target dev='vda' bus='virtio'/></disk>\
        <disk type='file' device='cdrom'><source file='/iso/x.iso'/><target dev='sda'/></disk>\
        <disk type='network' device='disk'><source protocol='nbd'/><target dev='vdb'/></disk>\
        </devices></domain>";

    #[test]
    fn file_disks_are_read_with_format_and_cdroms_are_readonly() {
        let d = disks("g", XML).unwrap();
        assert_eq!(d.len(), 2, "network disk has no host path");
        assert_eq!(d[0].path, "/var/lib/libvirt/images/g.qcow2");
        assert_eq!(d[0].format.as_deref(), Some("qcow2"));
        assert!(!d[0].readonly);
        assert!(d[1].readonly);
    }

    #[test]
    fn xml_that_is_not_xml_is_an_error_naming_the_guest() {
        let e = disks("g", "<domain>").unwrap_err();
        assert!(e.to_string().contains("g"));
    }
}
