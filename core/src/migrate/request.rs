//! What the user asked a move to do, before any check.

use std::time::Duration;

use virt::domain::MigrateParameters;
use virt::sys;

use crate::libvirt::GuestRef;

/// Whether the guest runs while it moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// The guest keeps running; memory is copied while it does.
    Live,
    /// The guest is shut off; only its definition moves.
    Offline,
}

/// A move as asked for on the command line.
#[derive(Debug, Clone)]
pub struct MoveRequest {
    /// The guest, `NAME` or `NAME@HOST`.
    pub guest: GuestRef,
    /// The destination host's inventory name.
    pub dest: String,
    /// Move a shut-off guest's definition (and nothing else).
    pub offline: bool,
    /// Copy the guest's disks to the destination while it runs.
    pub copy_storage: bool,
    /// Encrypt the migration stream with QEMU's native TLS.
    pub tls: bool,
    /// Limit the migration's bandwidth, in MiB/s.
    pub bandwidth_mib_s: Option<u64>,
    /// The longest pause of the guest at switch-over, in milliseconds.
    pub max_downtime_ms: Option<u64>,
    /// Slow the guest's vCPUs down when memory is dirtied faster than sent.
    pub auto_converge: bool,
    /// Switch to post-copy after the first pass over memory.
    pub postcopy: bool,
    /// Limit the post-copy phase's bandwidth, in MiB/s.
    pub postcopy_bandwidth_mib_s: Option<u64>,
    /// Resume a post-copy move that lost its connection.
    pub resume: bool,
    /// Send memory over this many connections.
    pub parallel_connections: Option<u32>,
    /// Abort the move when it takes longer.
    pub timeout: Option<Duration>,
}

impl MoveRequest {
    /// A live move of `guest` to `dest` with libvirt's defaults otherwise.
    pub fn new(guest: GuestRef, dest: &str) -> MoveRequest {
        MoveRequest {
            guest,
            dest: dest.to_owned(),
            offline: false,
            copy_storage: false,
            tls: false,
            bandwidth_mib_s: None,
            max_downtime_ms: None,
            auto_converge: false,
            postcopy: false,
            postcopy_bandwidth_mib_s: None,
            resume: false,
            parallel_connections: None,
            timeout: None,
        }
    }

    /// The mode asked for.
    pub fn mode(&self) -> Mode {
        if self.offline {
            Mode::Offline
        } else {
            Mode::Live
        }
    }

    /// libvirt's migration flags for this request.
    pub fn flags(&self) -> u32 {
        let mut flags = sys::VIR_MIGRATE_PEER2PEER
            | sys::VIR_MIGRATE_PERSIST_DEST
            | sys::VIR_MIGRATE_UNDEFINE_SOURCE;
        if self.offline {
            return flags | sys::VIR_MIGRATE_OFFLINE;
        }
        flags |= sys::VIR_MIGRATE_LIVE | sys::VIR_MIGRATE_ABORT_ON_ERROR;
        let optional = [
            (self.copy_storage, sys::VIR_MIGRATE_NON_SHARED_DISK),
            (self.tls, sys::VIR_MIGRATE_TLS),
            (self.auto_converge, sys::VIR_MIGRATE_AUTO_CONVERGE),
            (self.postcopy || self.resume, sys::VIR_MIGRATE_POSTCOPY),
            (self.resume, sys::VIR_MIGRATE_POSTCOPY_RESUME),
            (
                self.parallel_connections.is_some(),
                sys::VIR_MIGRATE_PARALLEL,
            ),
        ];
        for (on, flag) in optional {
            if on {
                flags |= flag;
            }
        }
        flags
    }

    /// libvirt's typed migration parameters for this request.
    pub fn parameters(&self, migrate_disks: Vec<String>) -> MigrateParameters {
        MigrateParameters {
            bandwidth: self.bandwidth_mib_s,
            bandwidth_postcopy: self.postcopy_bandwidth_mib_s,
            parallel_connections: self.parallel_connections.map(|n| n as i32),
            migrate_disks,
            ..MigrateParameters::default()
        }
    }

    /// The names of the flags set, for `--dry-run` and logs.
    pub fn flag_names(&self) -> Vec<&'static str> {
        let flags = self.flags();
        FLAG_NAMES
            .iter()
            .filter(|(bit, _)| flags & bit != 0)
            .map(|(_, name)| *name)
            .collect()
    }
}

const FLAG_NAMES: &[(u32, &str)] = &[
    (sys::VIR_MIGRATE_LIVE, "live"),
    (sys::VIR_MIGRATE_OFFLINE, "offline"),
    (sys::VIR_MIGRATE_PEER2PEER, "p2p"),
    (sys::VIR_MIGRATE_PERSIST_DEST, "persistent"),
    (sys::VIR_MIGRATE_UNDEFINE_SOURCE, "undefinesource"),
    (sys::VIR_MIGRATE_NON_SHARED_DISK, "copy-storage-all"),
    (sys::VIR_MIGRATE_TLS, "tls"),
    (sys::VIR_MIGRATE_AUTO_CONVERGE, "auto-converge"),
    (sys::VIR_MIGRATE_POSTCOPY, "postcopy"),
    (sys::VIR_MIGRATE_POSTCOPY_RESUME, "postcopy-resume"),
    (sys::VIR_MIGRATE_PARALLEL, "parallel"),
    (sys::VIR_MIGRATE_ABORT_ON_ERROR, "abort-on-error"),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> MoveRequest {
        MoveRequest::new(
            GuestRef {
                name: "g".into(),
                host: None,
            },
            "host2",
        )
    }

    #[test]
    fn live_move_is_peer_to_peer_persistent_and_undefines_the_source() {
        let names = request().flag_names();
        for flag in ["live", "p2p", "persistent", "undefinesource"] {
            assert!(names.contains(&flag), "{flag} missing from {names:?}");
        }
        assert!(!names.contains(&"tls"));
    }

    #[test]
    fn offline_move_ignores_live_only_options() {
        let r = MoveRequest {
            offline: true,
            tls: true,
            copy_storage: true,
            ..request()
        };
        assert_eq!(
            r.flag_names(),
            ["offline", "p2p", "persistent", "undefinesource"]
        );
    }

    #[test]
    fn options_become_flags() {
        let r = MoveRequest {
            tls: true,
            copy_storage: true,
            parallel_connections: Some(4),
            ..request()
        };
        let names = r.flag_names();
        assert!(names.contains(&"tls") && names.contains(&"copy-storage-all"));
        assert!(names.contains(&"parallel"));
        assert_eq!(r.parameters(vec![]).parallel_connections, Some(4));
    }
}
