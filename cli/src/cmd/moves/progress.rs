//! Showing moves as they run: a progress bar per guest on a terminal, one
//! JSON event per line with `--output json`, a few plain lines otherwise.
//! Log lines (`-v`) are written around the bars (see [`crate::logs`]).

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::{Arc, Mutex};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use vmctl_core::migrate::{MoveEvent, Phase};

use super::Emit;
use crate::output::{self, Output};

/// The display of one or more moves.
#[derive(Clone)]
pub struct Progress {
    out: Output,
    bars: Option<MultiProgress>,
    by_guest: Arc<Mutex<HashMap<String, ProgressBar>>>,
}

impl Progress {
    /// Bars only for people at a terminal, never with `--output json`.
    pub fn new(out: Output) -> Progress {
        let terminal = std::io::stderr().is_terminal() && out == Output::Human;
        let bars = terminal.then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
        crate::logs::set_bars(bars.clone());
        Progress {
            out,
            bars,
            by_guest: Arc::default(),
        }
    }

    /// The callback moves report through.
    pub fn emitter(&self) -> Emit {
        let this = self.clone();
        Arc::new(move |event| this.show(event))
    }

    /// Clears the bars.
    pub fn finish(&self) {
        let bars = self.by_guest.lock().unwrap_or_else(|p| p.into_inner());
        for bar in bars.values() {
            bar.finish_and_clear();
        }
        crate::logs::set_bars(None);
    }

    fn show(&self, event: MoveEvent) {
        if self.out == Output::Json {
            if let Ok(line) = serde_json::to_string(&event) {
                let _ = output::print(&format!("{line}\n"));
            }
            return;
        }
        match &self.bars {
            Some(bars) => self.draw(bars, event),
            None => plain(&event),
        }
    }

    fn draw(&self, bars: &MultiProgress, event: MoveEvent) {
        let mut map = self.by_guest.lock().unwrap_or_else(|p| p.into_inner());
        match event {
            MoveEvent::Started { guest, dest, .. } => {
                let bar = bars.add(ProgressBar::new_spinner().with_style(waiting_style()));
                bar.set_prefix(format!("{guest} → {dest}"));
                bar.set_message("starting the guest on the destination");
                bar.enable_steady_tick(std::time::Duration::from_millis(120));
                map.insert(guest, bar);
            }
            MoveEvent::Progress {
                guest,
                phase,
                processed,
                remaining,
                rate,
                iteration,
                ..
            } => {
                if let Some(bar) = map.get(&guest).filter(|_| processed + remaining > 0) {
                    if bar.length().is_none() {
                        bar.disable_steady_tick();
                        bar.set_style(style());
                    }
                    bar.set_length(processed + remaining);
                    bar.set_position(processed);
                    bar.set_message(format!(
                        "{} {}/s pass {iteration}",
                        phase_name(phase),
                        mib(rate)
                    ));
                }
            }
            other => {
                let line = describe(&other);
                let _ = bars.println(line);
            }
        }
    }
}

fn style() -> ProgressStyle {
    ProgressStyle::with_template("{prefix:>20} [{bar:30}] {bytes}/{total_bytes} {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ")
}

fn waiting_style() -> ProgressStyle {
    ProgressStyle::with_template("{prefix:>20} {spinner} {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_spinner())
}

fn plain(event: &MoveEvent) {
    if !matches!(event, MoveEvent::Progress { .. }) {
        eprintln!("{}", describe(event));
    }
}

fn describe(event: &MoveEvent) -> String {
    match event {
        MoveEvent::Started {
            guest,
            source,
            dest,
        } => format!("{guest}: moving from {source} to {dest}"),
        MoveEvent::Progress {
            guest,
            processed,
            remaining,
            ..
        } => {
            format!(
                "{guest}: {} sent, {} left",
                mib(*processed),
                mib(*remaining)
            )
        }
        MoveEvent::PostcopyStarted { guest } => format!("{guest}: switched to post-copy"),
        MoveEvent::NotConverging {
            guest,
            iteration,
            hint,
        } => {
            format!("{guest}: not converging after {iteration} passes: {hint}")
        }
        MoveEvent::Aborting { guest, reason } => format!("{guest}: aborting ({reason})"),
        MoveEvent::Finished {
            guest,
            ok,
            running_on,
            elapsed,
            downtime_ms,
        } => {
            let how = match (ok, running_on) {
                (true, _) => "moved",
                (false, Some(_)) => "not moved",
                (false, None) => "move not completed",
            };
            let place = match (running_on, ok) {
                (Some(host), _) => format!(", running on {host}"),
                (None, true) => " (shut off)".to_owned(),
                (None, false) => String::new(),
            };
            let downtime = downtime_ms
                .map(|d| format!(", downtime {d} ms"))
                .unwrap_or_default();
            format!(
                "{guest}: {how} in {:.1} s{place}{downtime}",
                elapsed.as_secs_f64()
            )
        }
    }
}

fn phase_name(phase: Phase) -> &'static str {
    match phase {
        Phase::Storage => "disks",
        Phase::Memory => "memory",
        Phase::Postcopy => "post-copy",
    }
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}
