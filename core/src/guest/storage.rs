//! Disk volumes for guests: the host's storage pool (a directory pool at
//! the standard images path is made when the host has none), volumes made
//! and removed in it.

use virt::connect::Connect;
use virt::storage_pool::StoragePool;
use virt::storage_vol::StorageVol;

use super::Size;
use super::xml::escape;
use crate::libvirt::LibvirtError;

/// Where libvirt keeps disk images by convention.
pub const IMAGES_DIR: &str = "/var/lib/libvirt/images";

/// The pool vmctl uses, and creates when missing.
pub const POOL_NAME: &str = "default";

/// The host's `default` pool, or the pool at [`IMAGES_DIR`], started; a
/// directory pool `default` there when the host has neither.
pub fn ensure_pool(conn: &Connect) -> Result<StoragePool, LibvirtError> {
    let existing = not_found_is_none(conn.lookup_storage_pool_by_name(POOL_NAME))?;
    let existing = match existing {
        Some(pool) => Some(pool),
        None => not_found_is_none(conn.lookup_storage_pool_by_target_path(IMAGES_DIR))?,
    };
    let pool = match existing {
        Some(pool) => pool,
        None => define_pool(conn)?,
    };
    if !pool.is_active()? {
        pool.create(0)?;
    }
    pool.refresh(0)?;
    Ok(pool)
}

fn define_pool(conn: &Connect) -> Result<StoragePool, LibvirtError> {
    let xml = format!(
        "<pool type='dir'><name>{POOL_NAME}</name><target><path>{IMAGES_DIR}</path></target></pool>"
    );
    let pool = conn.define_storage_pool_xml(&xml, 0)?;
    pool.build(0)?;
    pool.set_autostart(true)?;
    tracing::info!(
        pool = POOL_NAME,
        path = IMAGES_DIR,
        "defined a storage pool"
    );
    Ok(pool)
}

/// Creates a qcow2 volume `NAME.qcow2` of `size` in `pool`; refuses when
/// one of that name exists.
pub fn create_volume(
    pool: &StoragePool,
    name: &str,
    size: Size,
) -> Result<StorageVol, LibvirtError> {
    let file = volume_name(name);
    if not_found_is_none(pool.lookup_storage_vol_by_name(&file))?.is_some() {
        return Err(LibvirtError::local(format!(
            "a volume {file} already exists in pool {}",
            pool.name().unwrap_or_default()
        )));
    }
    let xml = format!(
        "<volume><name>{}</name><capacity unit='bytes'>{}</capacity>\
         <target><format type='qcow2'/></target></volume>",
        escape(&file),
        size.bytes()
    );
    Ok(StorageVol::create_xml(pool, &xml, 0)?)
}

/// The volume file name for a guest's disk.
pub fn volume_name(guest: &str) -> String {
    format!("{guest}.qcow2")
}

/// Deletes the volume at `path`. `Ok(false)` when no pool knows the path,
/// which leaves the file alone.
pub fn delete_volume(conn: &Connect, path: &str) -> Result<bool, LibvirtError> {
    match not_found_is_none(conn.lookup_storage_vol_by_path(path))? {
        Some(vol) => {
            vol.delete(0)?;
            Ok(true)
        }
        None => Ok(false),
    }
}

fn not_found_is_none<T>(result: Result<T, virt::error::Error>) -> Result<Option<T>, LibvirtError> {
    match result {
        Ok(v) => Ok(Some(v)),
        Err(e) => {
            let e = LibvirtError::from(e);
            if e.is_not_found() { Ok(None) } else { Err(e) }
        }
    }
}
