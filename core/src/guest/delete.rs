//! Deleting a guest: power it off, undefine it (with its NVRAM, managed
//! save image and snapshot and checkpoint metadata) and remove its volumes
//! unless asked to keep them.

use serde::Serialize;
use virt::sys;

use super::storage::delete_volume;
use super::xml::parse_facts;
use crate::libvirt::{Fleet, GuestRef, LibvirtError, LocateError, Located};

/// What a delete did.
#[derive(Debug, Clone, Serialize)]
pub struct DeleteOutcome {
    /// The guest.
    pub guest: String,
    /// Its host.
    pub host: String,
    /// It was running and was powered off.
    pub was_running: bool,
    /// Volumes removed.
    pub removed: Vec<String>,
    /// Disks left in place: kept on request, or not in any storage pool.
    pub kept: Vec<String>,
}

/// Why a delete failed part-way.
#[derive(Debug, thiserror::Error)]
pub enum DeleteError {
    /// The guest could not be found.
    #[error(transparent)]
    Locate(#[from] LocateError),
    /// A step failed: reading, powering off or undefining.
    #[error("could not {step} {guest} on {host}")]
    Step {
        step: &'static str,
        guest: String,
        host: String,
        #[source]
        source: LibvirtError,
    },
    /// The guest is gone but a volume could not be removed.
    #[error("{guest} is deleted but its volume {path} on {host} could not be removed")]
    Volume {
        guest: String,
        host: String,
        path: String,
        #[source]
        source: LibvirtError,
    },
}

/// Deletes `guest`, and its volumes unless `keep_storage`.
pub async fn delete(
    fleet: &Fleet,
    guest: &GuestRef,
    keep_storage: bool,
) -> Result<DeleteOutcome, DeleteError> {
    let located = fleet.locate(guest).await?;
    let conn = located.conn.clone();
    conn.run(move |_| delete_blocking(&located, keep_storage))
        .await
}

fn delete_blocking(l: &Located, keep_storage: bool) -> Result<DeleteOutcome, DeleteError> {
    let step = |step: &'static str| {
        move |e: virt::error::Error| DeleteError::Step {
            step,
            guest: l.guest.clone(),
            host: l.conn.host().to_owned(),
            source: e.into(),
        }
    };
    let xml = l.domain.xml_desc(0).map_err(step("read"))?;
    let disks = parse_facts(&xml).map(|f| f.disks).unwrap_or_default();

    let was_running = l.domain.is_active().map_err(step("check"))?;
    if was_running {
        l.domain.destroy().map_err(step("power off"))?;
    }
    if l.domain.is_persistent().map_err(step("check"))? {
        l.domain
            .undefine_flags(undefine_flags())
            .map_err(step("undefine"))?;
    }
    tracing::info!(guest = %l.guest, host = %l.conn.host(), "undefined");

    let mut outcome = DeleteOutcome {
        guest: l.guest.clone(),
        host: l.conn.host().to_owned(),
        was_running,
        removed: Vec::new(),
        kept: Vec::new(),
    };
    for path in disks {
        let removed = !keep_storage && remove(l, &path)?;
        let list = if removed {
            &mut outcome.removed
        } else {
            &mut outcome.kept
        };
        list.push(path);
    }
    Ok(outcome)
}

// TODO(#5): a disk in no storage pool (made by hand) is left in place with
// a warning; deleting arbitrary paths on a host is not vmctl's to do.
fn remove(l: &Located, path: &str) -> Result<bool, DeleteError> {
    let removed = delete_volume(l.conn.raw(), path).map_err(|source| DeleteError::Volume {
        guest: l.guest.clone(),
        host: l.conn.host().to_owned(),
        path: path.to_owned(),
        source,
    })?;
    if !removed {
        tracing::warn!(guest = %l.guest, path, "disk is in no storage pool; left in place");
    }
    Ok(removed)
}

fn undefine_flags() -> u32 {
    sys::VIR_DOMAIN_UNDEFINE_NVRAM
        | sys::VIR_DOMAIN_UNDEFINE_MANAGED_SAVE
        | sys::VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA
        | sys::VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA
}
