//! Why a move could not be planned, or did not complete.

use crate::libvirt::{ConnectError, LibvirtError, LocateError};

use super::disks::DiskXmlError;

/// A check that failed before anything moved. Each names the guest and the
/// host it is about; `hint` says what would make the move possible.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// The guest could not be found exactly once.
    #[error(transparent)]
    Locate(#[from] LocateError),
    /// The destination could not be reached.
    #[error("destination unreachable")]
    Dest(#[source] ConnectError),
    /// The guest is already on the destination.
    #[error("{guest} is already on {host}")]
    SameHost { guest: String, host: String },
    /// `--resume` while libvirt still runs the post-copy move.
    #[error(
        "{guest}'s post-copy move from {source_host} is still under way (libvirt has not given up on it); wait for it to end or fail, then run --resume again if it failed"
    )]
    StillMoving { guest: String, source_host: String },
    /// `--resume` found one half of a post-copy move, or none, and some
    /// host could not be asked.
    #[error(
        "{guest}: no failed post-copy move found on the hosts that answered, but {unreachable} could not be reached; run --resume again once it answers"
    )]
    ResumeUnreachable { guest: String, unreachable: String },
    /// `--resume` and no failed post-copy move of the guest was found.
    #[error(
        "{guest} is not paused in a failed post-copy move on any reachable host; nothing to resume"
    )]
    NothingToResume { guest: String },
    /// Another job, most likely another move, is running on the guest.
    #[error(
        "{guest} on {host} has a job running (another move?); wait for it, or abort it with `virsh domjobabort {guest}` on {host}"
    )]
    JobRunning { guest: String, host: String },
    /// The destination has a guest of that name.
    #[error("{dest} already has a guest named {guest}")]
    NameTaken { guest: String, dest: String },
    /// The destination has a guest with the same UUID.
    #[error("{dest} already has guest {other} with {guest}'s UUID {uuid}")]
    UuidTaken {
        guest: String,
        dest: String,
        other: String,
        uuid: String,
    },
    /// Not enough free memory on the destination.
    #[error("{dest} has {free_mib} MiB free, {guest} needs {need_mib} MiB")]
    Memory {
        guest: String,
        dest: String,
        need_mib: u64,
        free_mib: u64,
    },
    /// Fewer CPUs on the destination than the guest has vCPUs.
    #[error("{dest} has {cpus} CPUs, {guest} has {vcpus} vCPUs")]
    Cpus {
        guest: String,
        dest: String,
        vcpus: u32,
        cpus: u32,
    },
    /// The guest's CPU model cannot run on the destination.
    #[error("{guest}'s CPU cannot run on {dest}: {detail}")]
    Cpu {
        guest: String,
        dest: String,
        detail: String,
    },
    /// A live move of a guest that is not running.
    #[error("{guest} is not running; move it with --offline")]
    NotRunning { guest: String },
    /// An offline move of a running guest.
    #[error("{guest} is running; move it live (without --offline) or stop it first")]
    Running { guest: String },
    /// A disk is not on the destination and will not be copied.
    #[error("disk {target} of {guest} ({path}) is not on {dest}; add --copy-storage")]
    DiskMissing {
        guest: String,
        dest: String,
        target: String,
        path: String,
    },
    /// `--copy-storage` and the destination already has the disk's path.
    #[error(
        "disk {target} of {guest} ({path}) already exists on {dest}; if storage is shared, drop --copy-storage, else remove the stale copy"
    )]
    DiskExists {
        guest: String,
        dest: String,
        target: String,
        path: String,
    },
    /// A read-only disk (an ISO) is not on the destination.
    #[error(
        "read-only disk {target} of {guest} ({path}) is not on {dest}; copy it there or eject it"
    )]
    ReadonlyDiskMissing {
        guest: String,
        dest: String,
        target: String,
        path: String,
    },
    /// Offline moves cannot copy storage.
    #[error("{guest} is shut off and has local disks; libvirt copies disks only in a live move")]
    OfflineWithDisks { guest: String },
    /// The domain XML could not be read.
    #[error(transparent)]
    Xml(#[from] DiskXmlError),
    /// A libvirt call made by a check failed.
    #[error("checking {what} on {host}")]
    Libvirt {
        host: String,
        what: &'static str,
        #[source]
        source: LibvirtError,
    },
}

/// A move that started but did not complete. The guest's state after it
/// is checked and stated.
#[derive(Debug, thiserror::Error)]
pub enum MoveError {
    /// libvirt failed the migration (or vmctl aborted it).
    #[error("moving {guest} from {source_host} to {dest} failed; {state}")]
    Failed {
        guest: String,
        source_host: String,
        dest: String,
        /// Where the guest runs now, checked after the failure.
        state: String,
        #[source]
        source: LibvirtError,
    },
    /// The move was aborted on request (Ctrl-C or `--timeout`).
    #[error("move of {guest} aborted ({reason}); {state}")]
    Aborted {
        guest: String,
        reason: String,
        state: String,
    },
    /// A move in post-copy did not complete (its link failed, a resume was
    /// interrupted or stuck): the guest is split between the two hosts.
    #[error(
        "{guest} is split between {source_host} and {dest}: it runs on {dest} but part of its memory is still on {source_host} (paused there), so neither host can run it alone; once they reach each other, run `vmctl move --resume {guest}`{originals}"
    )]
    PostcopyStalled {
        guest: String,
        source_host: String,
        dest: String,
        /// What to do about disks the move copied, if it copied any.
        originals: String,
        #[source]
        source: LibvirtError,
    },
    /// The destination could not be prepared for the disks.
    #[error("preparing storage for {guest} on {dest}")]
    Storage {
        guest: String,
        dest: String,
        #[source]
        source: LibvirtError,
    },
    /// After the move, the guest was not running exactly once.
    #[error("after moving {guest}: {state}")]
    Invariant { guest: String, state: String },
}

impl MoveError {
    /// What the user can do, where libvirt's wording says it.
    pub fn hint(&self) -> Option<&'static str> {
        if let MoveError::PostcopyStalled { source, .. } = self {
            let m = source.message.as_str();
            if m.contains("no progress") || m.contains("another thread") || m.contains("lock") {
                return Some(
                    "nothing was removed. If the destination's libvirt stays stuck, the guest's running state is lost: `virsh destroy` it on both hosts, `virsh undefine --keep-nvram` it on one, and start it on the other",
                );
            }
            return Some("nothing was removed: the guest needs both halves to run again");
        }
        let MoveError::Failed { source, .. } = self else {
            return None;
        };
        let m = source.message.as_str();
        if m.contains("shared storage") || m.contains("Unsafe migration") {
            return Some(
                "the guest's disks are not on storage both hosts share; add --copy-storage",
            );
        }
        if m.contains("TLS") || m.contains("certificate") {
            return Some(
                "check both hosts' certificates with `vmctl bootstrap` (QEMU's live under /etc/pki/qemu)",
            );
        }
        if m.contains("Storage pool not found") {
            return Some("create a storage pool on the destination for the disk's directory");
        }
        None
    }
}
