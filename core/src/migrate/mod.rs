//! Moving guests between hosts.
//!
//! A move is planned before anything moves ([`plan_move`] runs every check
//! and returns a [`MovePlan`] or the first reason it cannot go), then run
//! ([`run_move`]) as a peer-to-peer libvirt migration: the source daemon
//! dials the destination with its own client certificate. While it runs,
//! [`MoveEvent`]s report progress; a [`Cancel`] aborts it. Whatever the
//! outcome, the run ends by checking the invariant (exactly one running
//! copy of the guest) and removing what the move created on the
//! destination if it failed. [`evacuate`] drains a host.

mod cancel;
mod checks;
mod disks;
mod error;
mod evacuate;
mod facts;
mod ffi;
mod job;
mod outcome;
mod progress;
mod request;
mod resume;
mod storage;
mod unattended;
mod watch;

pub use cancel::Cancel;
pub use checks::{MovePlan, plan_move};
pub use disks::{Disk, DiskXmlError, disks};
pub use error::{MoveError, PlanError};
pub use evacuate::{EvacuateRequest, GuestResult, evacuate, plan_evacuation};
pub use job::run_move;
pub use outcome::{Moved, Placement};
pub use progress::{MoveEvent, Phase};
pub use request::{Mode, MoveRequest};
pub use resume::{Resumable, plan_resume};
pub use unattended::remove_stale;
