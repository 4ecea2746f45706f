//! Making the destination ready for copied disks, and undoing it.
//!
//! libvirt creates a copied disk's volume on the destination itself, but
//! only inside a storage pool whose directory holds the disk's path ("Storage
//! pool not found" otherwise). vmctl makes sure such a pool exists and runs,
//! and after a failed move deletes the volumes the move created.

use std::collections::BTreeSet;

use crate::libvirt::{HostConnection, LibvirtError};

use super::disks::Disk;
use super::facts::parent;

/// Ensures every directory of `disks` is the target of an active pool on the
/// destination; returns the names of pools it created.
pub fn prepare_pools(dest: &HostConnection, disks: &[Disk]) -> Result<Vec<String>, LibvirtError> {
    let dirs: BTreeSet<String> = disks.iter().map(|d| parent(&d.path)).collect();
    let mut created = Vec::new();
    for dir in dirs {
        if let Ok(pool) = dest.raw().lookup_storage_pool_by_target_path(&dir) {
            if !pool.is_active().unwrap_or(false) {
                pool.create(0)?;
            }
            continue;
        }
        created.push(define_pool(dest, &dir)?);
    }
    Ok(created)
}

fn define_pool(dest: &HostConnection, dir: &str) -> Result<String, LibvirtError> {
    // The standard images directory gets the standard name, as on a host
    // set up by hand or by `vmctl create`.
    let default_free = dest.raw().lookup_storage_pool_by_name("default").is_err();
    let name = if dir == "/var/lib/libvirt/images" && default_free {
        "default".to_owned()
    } else {
        pool_name(dir)
    };
    let xml = format!(
        "<pool type='dir'><name>{name}</name><target><path>{}</path></target></pool>",
        xml_escape(dir)
    );
    let pool = dest.raw().define_storage_pool_xml(&xml, 0)?;
    pool.build(0)?;
    pool.create(0)?;
    pool.set_autostart(true)?;
    tracing::info!(host = dest.host(), pool = %name, dir, "created storage pool for copied disks");
    Ok(name)
}

/// Deletes the host's volumes at the paths of `disks`: the destination's
/// partial copies after a failed move (the plan refused to copy onto
/// volumes that existed), or the source's originals once the guest runs
/// from its copies.
pub fn remove_volumes(host: &HostConnection, disks: &[Disk], what: &str) {
    for disk in disks {
        let Ok(vol) = host.raw().lookup_storage_vol_by_path(&disk.path) else {
            // TODO(#6): a disk outside any storage pool is left in place.
            tracing::debug!(host = host.host(), path = %disk.path, "no volume at this path; {what} not removed");
            continue;
        };
        match vol.delete(0) {
            Ok(()) => tracing::info!(host = host.host(), path = %disk.path, "removed {what}"),
            Err(e) => {
                tracing::warn!(host = host.host(), path = %disk.path, error = %e.message(), "could not remove {what}")
            }
        }
    }
}

/// A pool name for a directory: `vmctl-` and the path's parts.
fn pool_name(dir: &str) -> String {
    let parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
    let joined: String = parts
        .join("-")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("vmctl-{joined}")
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('\'', "&apos;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_names_come_from_the_directory() {
        assert_eq!(
            pool_name("/var/lib/libvirt/images"),
            "vmctl-var-lib-libvirt-images"
        );
        assert_eq!(pool_name("/srv/vm disks"), "vmctl-srv-vm_disks");
    }
}
