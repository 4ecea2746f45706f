//! What a running move reports.

use std::time::Duration;

/// Where a move is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// Copying disks (with `--copy-storage`).
    Storage,
    /// Copying memory while the guest runs.
    Memory,
    /// The guest runs on the destination; the rest of memory follows.
    Postcopy,
}

/// One thing a move reports, in order.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum MoveEvent {
    /// The move started.
    Started {
        guest: String,
        source: String,
        dest: String,
    },
    /// The job's statistics, polled about twice a second.
    Progress {
        guest: String,
        phase: Phase,
        /// Bytes of memory and disk sent so far.
        processed: u64,
        /// Bytes still to send (memory grows back as the guest dirties it).
        remaining: u64,
        /// Bytes to send in all, as libvirt counts now.
        total: u64,
        /// Bytes per second, as QEMU measures it.
        rate: u64,
        /// The pass over memory (1 = first copy).
        iteration: u64,
    },
    /// The guest switched to post-copy.
    PostcopyStarted { guest: String },
    /// The guest dirties memory faster than it is sent.
    NotConverging {
        guest: String,
        iteration: u64,
        hint: String,
    },
    /// The move is being aborted.
    Aborting { guest: String, reason: String },
    /// The move ended; `ok` says how.
    Finished {
        guest: String,
        ok: bool,
        running_on: Option<String>,
        #[serde(serialize_with = "millis")]
        elapsed: Duration,
        downtime_ms: Option<u64>,
    },
}

fn millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(d.as_millis() as u64)
}
