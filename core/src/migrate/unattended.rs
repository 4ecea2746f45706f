//! A post-copy transfer that carries on without libvirt's attention.
//!
//! When the link between two hosts fails after a move switched to
//! post-copy, libvirt gives up on the move ("post-copy failed") but QEMU
//! may not notice at all: its TCP connection only stalls. Once the link is
//! back, the transfer goes on and ends by itself, and libvirt leaves the
//! source's definition behind, shut off ("migrated"). Resuming is then
//! refused ("migration is still running"); what is left to do is to wait
//! for the transfer and to remove that stale definition.

use std::time::{Duration, Instant};

use virt::domain::Domain;
use virt::sys;

use crate::libvirt::{Fleet, HostConnection, LibvirtError};

use super::cancel::Cancel;
use super::ffi;
use super::request::MoveRequest;

/// How long a transfer may show no progress before resuming it is tried
/// again (its connection may have broken after all).
const STALL: Duration = Duration::from_secs(30);
/// How often the source's job is read while waiting.
const POLL: Duration = Duration::from_secs(1);
/// How long the guest may take to settle on one host after a transfer.
const SETTLE: Duration = Duration::from_secs(30);
/// Resume attempts before a transfer that neither resumes nor progresses
/// is given up on.
const ATTEMPTS: usize = 3;

/// Resumes the post-copy move of `domain` (the source's half) to `uri`,
/// or, while QEMU still holds the transfer's connection, waits for the
/// transfer to end. Blocks; returns once the guest has left the source.
pub(super) fn resume_or_wait(
    domain: &Domain,
    uri: &str,
    request: &MoveRequest,
    cancel: &Cancel,
) -> Result<(), LibvirtError> {
    let mut refused = None;
    for _ in 0..ATTEMPTS {
        let params = request.parameters(Vec::new());
        match domain.migrate_to_uri3(Some(uri), params, request.flags()) {
            Ok(()) => return Ok(()),
            Err(e) => {
                let e = LibvirtError::from(e);
                if !still_running(&e) {
                    return Err(e);
                }
                tracing::info!("the post-copy transfer still runs in QEMU; waiting for it to end");
                if wait_for_transfer(domain, cancel)? {
                    return Ok(());
                }
                refused = Some(e);
            }
        }
    }
    let e = refused.unwrap_or_else(|| LibvirtError::local(String::new()));
    Err(LibvirtError::local(format!(
        "the post-copy transfer makes no progress and QEMU still holds its connection ({}); check the link between the hosts and run --resume again",
        e.message
    )))
}

/// libvirt's refusal to resume a transfer QEMU has not given up on.
fn still_running(e: &LibvirtError) -> bool {
    e.code == sys::VIR_ERR_OPERATION_INVALID as i32 && e.message.contains("still running")
}

/// Waits while the source's half is in post-copy and its transfer
/// progresses: true once it has ended, false when it stalled.
fn wait_for_transfer(domain: &Domain, cancel: &Cancel) -> Result<bool, LibvirtError> {
    let (mut last, mut since) = (None, Instant::now());
    loop {
        if cancel.is_cancelled() {
            return Err(LibvirtError::local(
                "interrupted while waiting; the transfer goes on by itself".to_owned(),
            ));
        }
        match ffi::state(domain) {
            Err(e) if e.is_not_found() => return Ok(true),
            Err(e) => return Err(e),
            Ok(_) if !ffi::in_postcopy(domain) => return Ok(true),
            Ok(_) => {}
        }
        let remaining = ffi::job_progress(domain, 0).ok().and_then(|j| j.remaining);
        if remaining != last {
            (last, since) = (remaining, Instant::now());
        } else if since.elapsed() > STALL {
            return Ok(false);
        }
        std::thread::sleep(POLL);
    }
}

/// One host's copy of a guest, as far as stale definitions matter.
struct Copy {
    host: String,
    uuid: String,
    active: bool,
    persistent: bool,
    /// Shut off because it migrated away.
    migrated: bool,
}

fn copy_on(conn: &HostConnection, guest: &str) -> Result<Option<Copy>, LibvirtError> {
    let Some(d) = crate::libvirt::lookup(conn, guest)? else {
        return Ok(None);
    };
    let (state, reason) = ffi::state(&d)?;
    Ok(Some(Copy {
        host: conn.host().to_owned(),
        uuid: d.uuid_string()?,
        active: d.is_active()?,
        persistent: d.is_persistent()?,
        migrated: state == sys::VIR_DOMAIN_SHUTOFF as i32
            && reason == sys::VIR_DOMAIN_SHUTOFF_MIGRATED as i32,
    }))
}

/// Where a move that ended by itself left `guest`: the host it runs on
/// and the hosts holding a stale, shut-off ("migrated") definition of it.
pub async fn stale_copies(fleet: &Fleet, guest: &str) -> Option<(String, Vec<String>)> {
    let name = guest.to_owned();
    let copies: Vec<Copy> = fleet
        .query_all(move |c| copy_on(c, &name))
        .await
        .into_iter()
        .filter_map(|o| o.result.ok().flatten())
        .collect();
    let [live] = copies.iter().filter(|c| c.active).collect::<Vec<_>>()[..] else {
        return None;
    };
    // Only a persistent running copy makes the old definition redundant.
    if !live.persistent {
        return None;
    }
    let stale = copies
        .iter()
        .filter(|c| !c.active && c.migrated && c.uuid == live.uuid)
        .map(|c| c.host.clone())
        .collect();
    Some((live.host.clone(), stale))
}

/// Removes the stale definitions of `guest` that [`stale_copies`] finds
/// (never a disk, and never NVRAM, which the running copy may share);
/// returns the hosts cleaned.
pub async fn remove_stale(fleet: &Fleet, guest: &str) -> Vec<String> {
    // Right after a transfer ends the destination may not yet have made its
    // copy persistent: give it a moment before deciding nothing is stale.
    let deadline = tokio::time::Instant::now() + SETTLE;
    let stale = loop {
        match stale_copies(fleet, guest).await {
            Some((_, stale)) => break stale,
            None if tokio::time::Instant::now() >= deadline => return Vec::new(),
            None => tokio::time::sleep(Duration::from_secs(1)).await,
        }
    };
    let mut removed = Vec::new();
    for host in stale {
        let Ok(conn) = fleet.connect(&host).await else {
            continue;
        };
        let name = guest.to_owned();
        let done = conn.run(move |c| undefine_stale(c, &name)).await;
        match done {
            Ok(()) => removed.push(host),
            // Another vmctl (a second --resume) removed it first.
            Err(e) if e.is_not_found() => {}
            Err(e) => {
                tracing::warn!(host, guest, error = %e.message, "could not remove the stale definition")
            }
        }
    }
    removed
}

fn undefine_stale(conn: &HostConnection, guest: &str) -> Result<(), LibvirtError> {
    let Some(d) = crate::libvirt::lookup(conn, guest)? else {
        return Ok(());
    };
    // Checked again here: it must still be the shut-off copy left behind.
    let (state, reason) = ffi::state(&d)?;
    if (state, reason)
        != (
            sys::VIR_DOMAIN_SHUTOFF as i32,
            sys::VIR_DOMAIN_SHUTOFF_MIGRATED as i32,
        )
    {
        return Err(LibvirtError::local(
            "it is no longer the shut-off copy the move left".to_owned(),
        ));
    }
    let flags = sys::VIR_DOMAIN_UNDEFINE_KEEP_NVRAM | sys::VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA;
    d.undefine_flags(flags)?;
    tracing::info!(
        host = conn.host(),
        guest,
        "removed the definition the move left behind"
    );
    Ok(())
}
