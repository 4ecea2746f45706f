//! Draining a host: every running guest moves to the host with the most
//! free memory that passes the move checks, a few at a time.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::libvirt::{Fleet, GuestRef, HostConnection, LibvirtError, QueryError};

use super::Cancel;
use super::checks::{MovePlan, plan_move};
use super::job::run_move;
use super::outcome::Moved;
use super::progress::MoveEvent;
use super::request::MoveRequest;

/// What to drain and how.
#[derive(Debug, Clone)]
pub struct EvacuateRequest {
    /// The host to empty.
    pub host: String,
    /// Candidate destinations; every other host when empty.
    pub to: Vec<String>,
    /// Moves at once.
    pub parallel: usize,
    /// Options every move uses (its guest and destination are ignored).
    pub template: MoveRequest,
}

/// What happened to one guest.
#[derive(Debug)]
pub struct GuestResult {
    pub guest: String,
    /// Where it was placed, if a destination passed the checks.
    pub dest: Option<String>,
    /// The move's outcome, or why it could not be planned or run.
    pub outcome: Result<Option<Moved>, String>,
}

/// Plans a destination for every running guest of the host; `Err` when the
/// host cannot be asked.
pub async fn plan_evacuation(
    fleet: &Fleet,
    req: &EvacuateRequest,
) -> Result<Vec<(String, Result<MovePlan, String>)>, QueryError> {
    let guests = running_guests(fleet, &req.host).await?;
    let candidates: Vec<String> = if req.to.is_empty() {
        fleet
            .names()
            .into_iter()
            .filter(|h| h != &req.host)
            .collect()
    } else {
        req.to.clone()
    };
    let mut reserved: HashMap<String, u64> = HashMap::new();
    let mut plans = Vec::new();
    for guest in guests {
        let plan = place(fleet, req, &guest, &candidates, &reserved).await;
        if let Ok(p) = &plan {
            *reserved.entry(p.dest.clone()).or_default() += p.memory_mib;
        }
        plans.push((guest, plan));
    }
    Ok(plans)
}

async fn place(
    fleet: &Fleet,
    req: &EvacuateRequest,
    guest: &str,
    candidates: &[String],
    reserved: &HashMap<String, u64>,
) -> Result<MovePlan, String> {
    let mut best: Option<(u64, MovePlan)> = None;
    let mut reasons = Vec::new();
    for dest in candidates {
        let mut r = req.template.clone();
        r.guest = GuestRef {
            name: guest.to_owned(),
            host: Some(req.host.clone()),
        };
        r.dest = dest.clone();
        match plan_move(fleet, &r).await {
            Ok(plan) => {
                let free = plan
                    .dest_free_mib
                    .saturating_sub(reserved.get(dest).copied().unwrap_or(0));
                if free >= plan.memory_mib && best.as_ref().is_none_or(|(f, _)| free > *f) {
                    best = Some((free, plan));
                } else if free < plan.memory_mib {
                    reasons.push(format!(
                        "{dest}: memory taken by other guests of this evacuation"
                    ));
                }
            }
            Err(e) => reasons.push(format!("{dest}: {e}")),
        }
    }
    best.map(|(_, p)| p)
        .ok_or_else(|| format!("no destination passed the checks ({})", reasons.join("; ")))
}

async fn running_guests(fleet: &Fleet, host: &str) -> Result<Vec<String>, QueryError> {
    let names = [host.to_owned()];
    let mut outcome = fleet.query(&names, list_running).await;
    outcome.remove(0).result
}

fn list_running(conn: &HostConnection) -> Result<Vec<String>, LibvirtError> {
    let domains = conn
        .raw()
        .list_all_domains(virt::sys::VIR_CONNECT_LIST_DOMAINS_ACTIVE)?;
    let mut names = Vec::new();
    for d in domains {
        names.push(d.name()?);
    }
    names.sort();
    Ok(names)
}

/// Drains the host: plans every guest, then runs the moves `parallel` at a
/// time. One guest failing does not stop the others.
pub async fn evacuate(
    fleet: &Fleet,
    req: &EvacuateRequest,
    emit: Arc<dyn Fn(MoveEvent) + Send + Sync>,
    cancel: Cancel,
) -> Result<Vec<GuestResult>, QueryError> {
    let plans = plan_evacuation(fleet, req).await?;
    let gate = Arc::new(Semaphore::new(req.parallel.max(1)));
    let mut tasks = JoinSet::new();
    let mut results = Vec::new();
    for (i, (guest, plan)) in plans.into_iter().enumerate() {
        let plan = match plan {
            Ok(p) => p,
            Err(why) => {
                results.push((
                    i,
                    GuestResult {
                        guest,
                        dest: None,
                        outcome: Err(why),
                    },
                ));
                continue;
            }
        };
        let (fleet, emit, cancel, gate) =
            (fleet.clone(), emit.clone(), cancel.clone(), gate.clone());
        tasks.spawn(async move {
            let _permit = gate.acquire_owned().await;
            let dest = Some(plan.dest.clone());
            let outcome = if cancel.is_cancelled() {
                Err("not started: interrupted".to_owned())
            } else {
                run_move(&fleet, &plan, emit, cancel)
                    .await
                    .map(Some)
                    .map_err(|e| error_chain(&e))
            };
            (
                i,
                GuestResult {
                    guest,
                    dest,
                    outcome,
                },
            )
        });
    }
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(r) => results.push(r),
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        }
    }
    results.sort_by_key(|(i, _)| *i);
    Ok(results.into_iter().map(|(_, r)| r).collect())
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}
