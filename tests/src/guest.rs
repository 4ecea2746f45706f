//! Test guests: an idle one (firmware only, waits forever) and a busy one
//! (Debian's kernel with a busybox initramfs that keeps dirtying memory).

use std::fs;
use std::path::Path;

use crate::error::{Result, io};
use crate::host::Host;
use crate::host_files::CACHE;

/// What a test guest does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workload {
    /// No operating system: the firmware finds nothing to boot and waits.
    Idle,
    /// Linux whose init rewrites `dirty_mib` of tmpfs in a loop, resting
    /// `pause_ms` between passes.
    Busy { dirty_mib: u32, pause_ms: u32 },
}

/// A test guest to define on a lab host.
#[derive(Debug, Clone)]
pub struct GuestSpec {
    pub name: String,
    pub memory_mib: u32,
    pub vcpus: u32,
    pub workload: Workload,
    /// Size of a qcow2 disk in the host's images directory, if any.
    pub disk_mib: Option<u32>,
}

impl GuestSpec {
    /// An idle guest with 64 MiB.
    pub fn idle(name: &str) -> GuestSpec {
        GuestSpec {
            name: name.into(),
            memory_mib: 64,
            vcpus: 1,
            workload: Workload::Idle,
            disk_mib: None,
        }
    }

    /// A busy guest with 256 MiB, rewriting 32 MiB about three times a
    /// second. (Under TCG, QEMU 7.2 sometimes loses pages written during a
    /// live migration when a guest rewrites memory flat out; the guest then
    /// oopses on its new host. With short rests it moved cleanly every time.)
    pub fn busy(name: &str) -> GuestSpec {
        GuestSpec {
            name: name.into(),
            memory_mib: 256,
            vcpus: 1,
            workload: Workload::Busy {
                dirty_mib: 32,
                pause_ms: 300,
            },
            disk_mib: None,
        }
    }

    /// Adds a disk of `mib` MiB.
    pub fn with_disk(mut self, mib: u32) -> GuestSpec {
        self.disk_mib = Some(mib);
        self
    }

    /// The path of the guest's disk inside the host.
    pub fn disk_path(&self) -> String {
        format!("/var/lib/libvirt/images/{}.qcow2", self.name)
    }

    /// The domain XML.
    pub fn xml(&self, virt_type: &str) -> String {
        let name = &self.name;
        let os = match self.workload {
            Workload::Idle => "<type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/>".into(),
            Workload::Busy {
                dirty_mib,
                pause_ms,
            } => format!(
                "<type arch='x86_64' machine='pc'>hvm</type>\
                 <kernel>{CACHE}/guest/vmlinuz</kernel>\
                 <initrd>{CACHE}/guest/initrd.img</initrd>\
                 <cmdline>console=ttyS0 vmctl_dirty_mb={dirty_mib} vmctl_pause={}.{:03}</cmdline>",
                pause_ms / 1000,
                pause_ms % 1000
            ),
        };
        let disk = match self.disk_mib {
            Some(_) => format!(
                "<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>\
                 <source file='{}'/><target dev='vda' bus='virtio'/></disk>",
                self.disk_path()
            ),
            None => String::new(),
        };
        format!(
            "<domain type='{virt_type}'>\n  <name>{name}</name>\n\
             <memory unit='MiB'>{mem}</memory>\n  <vcpu>{vcpus}</vcpu>\n\
             <os>{os}</os>\n  <devices>{disk}\
             <serial type='file'><source path='/var/log/libvirt/qemu/{name}-serial.log'/>\
             <target port='0'/></serial><memballoon model='none'/></devices>\n</domain>\n",
            mem = self.memory_mib,
            vcpus = self.vcpus,
        )
    }
}

/// The domain type lab guests use: `kvm` where set-up found that KVM boots
/// the test guest, `qemu` (TCG) otherwise; `VMCTL_LAB_VIRT_TYPE` overrides.
pub fn virt_type() -> String {
    if let Ok(v) = std::env::var("VMCTL_LAB_VIRT_TYPE") {
        return v;
    }
    fs::read_to_string(Path::new(CACHE).join("guest/virt-type"))
        .map(|s| s.trim().to_string())
        .ok()
        .filter(|s| s == "kvm")
        .unwrap_or_else(|| "qemu".into())
}

impl Host {
    /// Defines a persistent test guest on this host and starts it.
    pub fn create_guest(&self, spec: &GuestSpec) -> Result<()> {
        self.define_guest(spec)?;
        self.virsh(&["start", &spec.name]).map(|_| ())
    }

    /// Defines a persistent test guest (and its disk) without starting it.
    pub fn define_guest(&self, spec: &GuestSpec) -> Result<()> {
        if let Some(mib) = spec.disk_mib {
            let size = format!("{mib}M");
            self.exec(
                "qemu-img",
                &["create", "-q", "-f", "qcow2", &spec.disk_path(), &size],
            )?;
        }
        let path = self.dir().join(format!("{}.xml", spec.name));
        fs::write(&path, spec.xml(&virt_type())).map_err(io(&path))?;
        self.virsh(&["define", &path.to_string_lossy()]).map(|_| ())
    }

    /// sha256 of a disk's guest-visible content, read on this host (also
    /// while a guest runs from it).
    pub fn disk_checksum(&self, path: &str) -> Result<String> {
        let script = format!("qemu-img convert -U -O raw {path} /dev/stdout | sha256sum");
        let out = self.exec("sh", &["-c", &script])?;
        Ok(out
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_string())
    }

    /// What the guest wrote to its serial console on this host.
    pub fn guest_console(&self, guest: &str) -> String {
        let path = self.private_path(&format!("/var/log/libvirt/qemu/{guest}-serial.log"));
        fs::read_to_string(path).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busy_guest_boots_the_test_kernel_with_its_dirty_size() {
        let xml = GuestSpec::busy("g1").xml("qemu");
        assert!(xml.contains("<domain type='qemu'>"));
        assert!(xml.contains("vmctl_dirty_mb=32 vmctl_pause=0.300"));
        assert!(xml.contains("<memory unit='MiB'>256</memory>"));
    }

    #[test]
    fn idle_guest_has_no_kernel() {
        let xml = GuestSpec::idle("g2").with_disk(16).xml("kvm");
        assert!(!xml.contains("<kernel>"));
        assert!(xml.contains("/var/lib/libvirt/images/g2.qcow2"));
    }
}
