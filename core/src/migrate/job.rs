//! Running a planned move: the migration on a blocking thread, its job
//! polled for progress, aborted on request, and the outcome checked.

use std::sync::Arc;
use std::time::Instant;

use virt::domain::Domain;
use virt::sys;

use crate::libvirt::{Fleet, LibvirtError};

use super::error::MoveError;
use super::ffi;
use super::outcome::{Moved, clean_up_failure, placement};
use super::progress::MoveEvent;
use super::storage::prepare_pools;
use super::unattended::{remove_stale, resume_or_wait};
use super::watch::watch;
use super::{Cancel, Mode, MovePlan};

type Emit = Arc<dyn Fn(MoveEvent) + Send + Sync>;

/// Runs `plan`, reporting through `emit`; `cancel` aborts it. Whatever
/// happens, the guest's placement is checked before this returns.
pub async fn run_move(
    fleet: &Fleet,
    plan: &MovePlan,
    emit: Emit,
    cancel: Cancel,
) -> Result<Moved, MoveError> {
    let started = Instant::now();
    let guest = plan.guest.clone();
    emit(MoveEvent::Started {
        guest: guest.clone(),
        source: plan.source.clone(),
        dest: plan.dest.clone(),
    });
    if !plan.copy.is_empty() {
        let copy = plan.copy.clone();
        plan.dest_conn
            .run(move |c| prepare_pools(c, &copy))
            .await
            .map_err(|source| MoveError::Storage {
                guest: guest.clone(),
                dest: plan.dest.clone(),
                source,
            })?;
    }

    let mut migration = spawn_migration(plan, &cancel);
    let (result, aborted) = watch(plan, &emit, &cancel, &mut migration).await;
    finish(fleet, plan, &emit, started, result, aborted).await
}

fn spawn_migration(
    plan: &MovePlan,
    cancel: &Cancel,
) -> tokio::task::JoinHandle<Result<(), LibvirtError>> {
    let domain = plan.domain.clone();
    let uri = plan.dest_uri.clone();
    if plan.request.resume {
        tracing::info!(guest = %plan.guest, source = %plan.source, dest = %plan.dest, "resuming post-copy move");
        let (request, cancel) = (plan.request.clone(), cancel.clone());
        return tokio::task::spawn_blocking(move || {
            resume_or_wait(&domain, &uri, &request, &cancel)
        });
    }
    let disks = plan.copy.iter().map(|d| d.target.clone()).collect();
    let params = plan.request.parameters(disks);
    let flags = plan.request.flags();
    tracing::info!(guest = %plan.guest, source = %plan.source, dest = %plan.dest, flags = ?plan.request.flag_names(), "move started");
    tokio::task::spawn_blocking(move || {
        domain
            .migrate_to_uri3(Some(&uri), params, flags)
            .map_err(LibvirtError::from)
    })
}

async fn finish(
    fleet: &Fleet,
    plan: &MovePlan,
    emit: &Emit,
    started: Instant,
    result: Result<(), LibvirtError>,
    aborted: Option<String>,
) -> Result<Moved, MoveError> {
    let guest = plan.guest.clone();
    let elapsed = started.elapsed();
    if let (Err(source), true) = (&result, stalled_in_postcopy(fleet, plan).await) {
        emit(MoveEvent::Finished {
            guest: guest.clone(),
            ok: false,
            running_on: None,
            elapsed,
            downtime_ms: None,
        });
        return Err(MoveError::PostcopyStalled {
            guest,
            source_host: plan.source.clone(),
            dest: plan.dest.clone(),
            originals: originals_note(plan),
            source: source.clone(),
        });
    }
    let placement = match &result {
        Ok(()) => {
            if plan.request.resume {
                remove_stale(fleet, &guest).await;
            }
            let names = fleet.names();
            let hosts: Vec<&str> = names.iter().map(String::as_str).collect();
            placement(fleet, &guest, &hosts).await
        }
        Err(_) => clean_up_failure(fleet, plan).await,
    };
    let running_on = placement.single().map(str::to_owned);
    let downtime_ms = match (&result, &running_on) {
        (Ok(()), Some(host)) if host == &plan.dest => downtime(fleet, plan).await,
        _ => None,
    };
    let landed = match plan.request.mode() {
        Mode::Live => running_on.as_deref() == Some(plan.dest.as_str()),
        Mode::Offline => {
            placement.active_on.is_empty() && placement.inactive_on == [plan.dest.clone()]
        }
    };
    let ok = result.is_ok() && landed;
    if ok && !plan.copy.is_empty() {
        remove_originals(fleet, plan).await;
    }
    emit(MoveEvent::Finished {
        guest: guest.clone(),
        ok,
        running_on,
        elapsed,
        downtime_ms,
    });
    let state = placement.describe(&guest);
    match (result, aborted) {
        (Ok(()), _) if ok => {
            tracing::info!(guest = %guest, dest = %plan.dest, ?elapsed, "move completed");
            Ok(Moved {
                guest,
                source: plan.source.clone(),
                dest: plan.dest.clone(),
                elapsed,
                downtime_ms,
            })
        }
        (Ok(()), _) => Err(MoveError::Invariant { guest, state }),
        (Err(_), Some(reason)) => Err(MoveError::Aborted {
            guest,
            reason,
            state,
        }),
        (Err(source), None) => Err(MoveError::Failed {
            guest,
            source_host: plan.source.clone(),
            dest: plan.dest.clone(),
            state,
            source,
        }),
    }
}

/// Deletes the source's disks once the guest runs from their copies, so
/// that the host holds no stale image (and a move back finds none in the way).
async fn remove_originals(fleet: &Fleet, plan: &MovePlan) {
    let Ok(conn) = fleet.connect(&plan.source).await else {
        tracing::warn!(host = %plan.source, "could not reach the source to remove the original disks");
        return;
    };
    let copy = plan.copy.clone();
    conn.run(move |c| super::storage::remove_volumes(c, &copy, "original disk"))
        .await;
}

/// For a split move that copied disks: the originals stay on the source,
/// and `--resume` cannot tell them from shared storage, so it leaves them.
fn originals_note(plan: &MovePlan) -> String {
    if plan.copy.is_empty() {
        return String::new();
    }
    let paths: Vec<&str> = plan.copy.iter().map(|d| d.path.as_str()).collect();
    format!(
        "; then delete the original disks it leaves on {} with `virsh vol-delete PATH` there: {}",
        plan.source,
        paths.join(", ")
    )
}

/// True when a failed post-copy move left the guest paused in halves; then
/// nothing may be cleaned up or undefined, only resumed.
async fn stalled_in_postcopy(fleet: &Fleet, plan: &MovePlan) -> bool {
    if !plan.request.postcopy && !plan.request.resume {
        return false;
    }
    for host in [&plan.source, &plan.dest] {
        let Ok(conn) = fleet.connect(host).await else {
            continue;
        };
        let guest = plan.guest.clone();
        let failed = conn
            .run(move |c| {
                let d = crate::libvirt::lookup(c, &guest).ok()??;
                Some(ffi::postcopy_failed(&d))
            })
            .await;
        if failed == Some(true) {
            return true;
        }
    }
    false
}

/// The completed job's downtime, as the destination recorded it.
async fn downtime(fleet: &Fleet, plan: &MovePlan) -> Option<u64> {
    let conn = fleet.connect(&plan.dest).await.ok()?;
    let guest = plan.guest.clone();
    conn.run(move |c| {
        let d: Domain = crate::libvirt::lookup(c, &guest).ok()??;
        ffi::job_progress(&d, sys::VIR_DOMAIN_JOB_STATS_COMPLETED)
            .ok()?
            .downtime
    })
    .await
}
