//! Watching a running migration: its statistics polled for progress, the
//! job aborted on Ctrl-C or `--timeout`, post-copy started when asked, and
//! a move that does not converge reported with what to try.

use std::sync::Arc;
use std::time::{Duration, Instant};

use virt::sys;

use crate::libvirt::LibvirtError;

use super::MovePlan;
use super::cancel::Cancel;
use super::ffi::{self, JobProgress};
use super::progress::{MoveEvent, Phase};

/// How often the job's statistics are read.
const POLL: Duration = Duration::from_millis(500);
/// Passes over memory after which a move that is not shrinking is reported.
const SLOW_ITERATION: u64 = 8;
/// How long a resumed post-copy move may show no progress before vmctl
/// stops waiting for libvirt, which may never answer: a destination QEMU
/// whose main loop waits for memory still on the source cannot reply.
const RESUME_STUCK: Duration = Duration::from_secs(180);

type Emit = Arc<dyn Fn(MoveEvent) + Send + Sync>;

/// Polls the job until the migration ends; aborts it on cancel or
/// timeout, and returns the reason if it did.
pub(super) async fn watch(
    plan: &MovePlan,
    emit: &Emit,
    cancel: &Cancel,
    migration: &mut tokio::task::JoinHandle<Result<(), LibvirtError>>,
) -> (Result<(), LibvirtError>, Option<String>) {
    let deadline = plan.request.timeout.map(|t| Instant::now() + t);
    let mut state = WatchState::default();
    loop {
        // The migration's end is noticed at once, not at the next poll.
        tokio::select! {
            joined = &mut *migration => {
                let result = joined.unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));
                return (result, state.aborted);
            }
            () = tokio::time::sleep(POLL) => {}
        }
        let reason = if cancel.is_cancelled() {
            Some("interrupted".to_owned())
        } else if deadline.is_some_and(|d| Instant::now() > d) {
            Some(format!(
                "--timeout {}s reached",
                plan.request.timeout.unwrap_or_default().as_secs()
            ))
        } else {
            None
        };
        if plan.request.resume {
            // Post-copy cannot be aborted: give up waiting instead.
            if let Some(why) = reason.or_else(|| state.resume_stuck()) {
                return (Err(LibvirtError::local(why)), None);
            }
        } else if let (Some(reason), None) = (reason, &state.aborted) {
            abort(plan, emit, &reason).await;
            state.aborted = Some(reason);
        }
        let domain = plan.domain.clone();
        let stats = tokio::task::spawn_blocking(move || ffi::job_progress(&domain, 0)).await;
        if let Ok(Ok(stats)) = stats {
            state.observe(plan, emit, &stats).await;
        }
    }
}

async fn abort(plan: &MovePlan, emit: &Emit, reason: &str) {
    emit(MoveEvent::Aborting {
        guest: plan.guest.clone(),
        reason: reason.to_owned(),
    });
    tracing::warn!(guest = %plan.guest, reason, "aborting move");
    let domain = plan.domain.clone();
    let r = tokio::task::spawn_blocking(move || ffi::abort_job(&domain)).await;
    if let Ok(Err(e)) = r {
        tracing::warn!(guest = %plan.guest, error = %e, "abort request failed");
    }
}

struct WatchState {
    aborted: Option<String>,
    downtime_set: bool,
    postcopy: bool,
    warned_slow: bool,
    best_remaining: Option<u64>,
    /// The last remaining amount seen, and since when.
    last_remaining: (Option<u64>, Instant),
}

impl Default for WatchState {
    fn default() -> Self {
        Self {
            aborted: None,
            downtime_set: false,
            postcopy: false,
            warned_slow: false,
            best_remaining: None,
            last_remaining: (None, Instant::now()),
        }
    }
}

impl WatchState {
    /// Why a resumed move is given up on, once it has shown no progress
    /// for [`RESUME_STUCK`].
    fn resume_stuck(&self) -> Option<String> {
        (self.last_remaining.1.elapsed() > RESUME_STUCK).then(|| {
            format!(
                "the resumed transfer showed no progress for {} s; the destination's QEMU may be blocked waiting for memory still on the source",
                RESUME_STUCK.as_secs()
            )
        })
    }

    async fn observe(&mut self, plan: &MovePlan, emit: &Emit, s: &JobProgress) {
        if s.remaining != self.last_remaining.0 {
            self.last_remaining = (s.remaining, Instant::now());
        }
        if s.kind == sys::VIR_DOMAIN_JOB_NONE as i32 {
            return;
        }
        let iteration = s.iteration.unwrap_or(0);
        let remaining = s.remaining.unwrap_or(0);
        let phase = if self.postcopy || plan.request.resume {
            Phase::Postcopy
        } else if s.disk_remaining.unwrap_or(0) > 0 && iteration == 0 {
            Phase::Storage
        } else {
            Phase::Memory
        };
        emit(MoveEvent::Progress {
            guest: plan.guest.clone(),
            phase,
            processed: s.processed.unwrap_or(0),
            remaining,
            total: s.total.unwrap_or(0),
            rate: s.memory_bps.unwrap_or(0).max(s.disk_bps.unwrap_or(0)),
            iteration,
        });
        self.tune(plan, emit, iteration, remaining).await;
    }

    async fn tune(&mut self, plan: &MovePlan, emit: &Emit, iteration: u64, remaining: u64) {
        let domain = plan.domain.clone();
        if let (Some(ms), false) = (plan.request.max_downtime_ms, self.downtime_set) {
            self.downtime_set = true;
            let d = domain.clone();
            let _ = tokio::task::spawn_blocking(move || d.migrate_set_max_downtime(ms, 0)).await;
        }
        // A resumed move is in post-copy already.
        let switch = plan.request.postcopy && !plan.request.resume;
        if switch && !self.postcopy && iteration >= 2 {
            self.postcopy = true;
            if let Ok(Ok(())) =
                tokio::task::spawn_blocking(move || ffi::start_postcopy(&domain)).await
            {
                emit(MoveEvent::PostcopyStarted {
                    guest: plan.guest.clone(),
                });
            }
        }
        let shrinking = self.best_remaining.is_none_or(|b| remaining < b);
        if shrinking {
            self.best_remaining = Some(remaining);
        }
        if iteration >= SLOW_ITERATION && !shrinking && !self.warned_slow {
            self.warned_slow = true;
            emit(MoveEvent::NotConverging {
                guest: plan.guest.clone(),
                iteration,
                hint: slow_hint(plan),
            });
        }
    }
}

fn slow_hint(plan: &MovePlan) -> String {
    let r = &plan.request;
    let mut tips = Vec::new();
    if !r.auto_converge {
        tips.push("--auto-converge");
    }
    if !r.postcopy {
        tips.push("--postcopy");
    }
    if r.max_downtime_ms.is_none() {
        tips.push("a larger --max-downtime");
    }
    if r.bandwidth_mib_s.is_some() {
        tips.push("a higher --bandwidth");
    }
    format!(
        "the guest dirties memory faster than it is sent; try {}",
        tips.join(", ")
    )
}
