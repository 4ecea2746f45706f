//! A lab of real libvirt hosts on one machine, for vmctl's tests, its demo
//! and its developers.
//!
//! Each host is a network namespace on a private bridge with its own mount
//! and UTS namespace: its own hostname, `/etc/libvirt`, `/etc/pki`,
//! `/run/libvirt`, `/var/lib/libvirt`, its own libvirtd and its own sshd.
//! The root namespace plays the admin machine. A host starts as a freshly
//! installed one: Debian's stock `libvirtd.conf`, TLS off, no certificates,
//! libvirtd on its unix socket only.
//!
//! Labs never collide: each claims its own index (bridge `vmlabN`, subnet
//! 198.18.N.0/24, namespaces `vmlabN-*`), and [`Lab::start`] first reaps
//! labs whose owning process has died. Dropping a [`Lab`] tears it down.
#![deny(clippy::print_stdout)]

mod cmd;
mod error;
mod guest;
mod host;
mod host_files;
mod hosts_file;
mod lab;
pub mod moving;
mod net;
mod preflight;
mod reap;
pub mod trust;
mod vmctl;

pub use error::{LabError, Result};
pub use guest::{GuestSpec, Workload, virt_type};
pub use host::Host;
pub use lab::{Lab, LabSpec};
pub use preflight::{check as preflight, lab_or_skip, trusted_lab_or_skip};
pub use reap::{reap_all, reap_stale};
pub use vmctl::vmctl_bin;

/// Waits up to `secs` for `ok` to hold, asking twice a second; panics
/// naming `what` otherwise. For tests.
pub fn eventually(what: &str, secs: u64, mut ok: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    while std::time::Instant::now() < deadline {
        if ok() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    panic!("timed out after {secs} s waiting for {what}");
}
