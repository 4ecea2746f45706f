//! Recovering a post-copy move that lost its connection.
//!
//! Once a move has switched to post-copy the guest runs on the destination
//! while part of its memory is still on the source; if the link between
//! them fails then, neither host can run it alone. libvirt keeps both
//! halves ("post-copy failed"); `vmctl move --resume GUEST` finds them and
//! restarts the transfer where it stopped, or waits for a transfer QEMU
//! never gave up on (see [`super::unattended`]). A move that has ended by
//! itself meanwhile only needs the source's stale definition removed.

use crate::libvirt::{Fleet, GuestRef, HostConnection, LibvirtError, QueryError};

use super::checks::MovePlan;
use super::error::PlanError;
use super::ffi;
use super::request::MoveRequest;

/// What `vmctl move --resume` found.
pub enum Resumable {
    /// Both halves of a failed post-copy move: run the plan.
    Halves(Box<MovePlan>),
    /// The move has ended by itself: the guest runs on `host`, and `stale`
    /// hosts still hold its shut-off definition (remove it with
    /// [`remove_stale`](super::remove_stale)).
    Finished { host: String, stale: Vec<String> },
}

/// Finds the two halves of `guest`'s failed post-copy move and plans its
/// resumption, or finds that the move has ended by itself.
pub async fn plan_resume(
    fleet: &Fleet,
    guest: &GuestRef,
    tls: bool,
) -> Result<Resumable, PlanError> {
    let name = guest.name.clone();
    let outcomes = fleet.query_all(move |c| side(c, &name)).await;
    let (mut source, mut dest, mut unreachable) = (None, None, Vec::new());
    for o in outcomes {
        match o.result {
            Ok(Some(Side::Out { failed: true })) => source = Some(o.host),
            Ok(Some(Side::Out { failed: false })) => {
                return Err(PlanError::StillMoving {
                    guest: guest.name.clone(),
                    source_host: o.host,
                });
            }
            Ok(Some(Side::In)) => dest = Some(o.host),
            Ok(None) => {}
            Err(QueryError::Connect(_)) => unreachable.push(o.host),
            Err(QueryError::Query { host, source, .. }) => {
                return Err(PlanError::Libvirt {
                    host,
                    what: "the guest",
                    source,
                });
            }
        }
    }
    let (Some(source), Some(dest)) = (source, dest) else {
        if !unreachable.is_empty() {
            return Err(PlanError::ResumeUnreachable {
                guest: guest.name.clone(),
                unreachable: unreachable.join(", "),
            });
        }
        return match super::unattended::stale_copies(fleet, &guest.name).await {
            Some((host, stale)) if !stale.is_empty() => Ok(Resumable::Finished { host, stale }),
            _ => Err(PlanError::NothingToResume {
                guest: guest.name.clone(),
            }),
        };
    };
    let located = fleet.locate_on(&guest.name, &source).await?;
    let dest_conn = fleet.connect(&dest).await.map_err(PlanError::Dest)?;
    let address = fleet
        .target(&dest)
        .map_err(PlanError::Dest)?
        .address
        .clone();
    let request = MoveRequest {
        tls,
        postcopy: true,
        resume: true,
        ..MoveRequest::new(guest.clone(), &dest)
    };
    Ok(Resumable::Halves(Box::new(MovePlan {
        request,
        guest: guest.name.clone(),
        source: source.clone(),
        dest: dest.clone(),
        dest_uri: format!("qemu+tls://{address}/system"),
        memory_mib: 0,
        vcpus: 0,
        dest_free_mib: 0,
        copy: Vec::new(),
        checks: vec![format!(
            "{} is paused in a failed post-copy move from {source} to {dest}",
            guest.name
        )],
        dest_conn,
        domain: located.domain,
    })))
}

enum Side {
    /// The source: it has the outgoing job; `failed` once libvirt has
    /// given up on the move ("post-copy failed").
    Out {
        failed: bool,
    },
    In,
}

/// Which half of a post-copy move this host holds, if any: the source has
/// the outgoing job; the destination runs (or is paused) in post-copy.
fn side(conn: &HostConnection, guest: &str) -> Result<Option<Side>, LibvirtError> {
    let Some(domain) = crate::libvirt::lookup(conn, guest)? else {
        return Ok(None);
    };
    if !ffi::in_postcopy(&domain) {
        return Ok(None);
    }
    let outgoing = ffi::job_progress(&domain, 0)
        .ok()
        .and_then(|j| j.operation)
        .is_some_and(|op| op == virt::sys::VIR_DOMAIN_JOB_OPERATION_MIGRATION_OUT as i32);
    Ok(Some(if outgoing {
        Side::Out {
            failed: ffi::postcopy_failed(&domain),
        }
    } else {
        Side::In
    }))
}
