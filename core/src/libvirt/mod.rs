//! The libvirt connection layer: one TLS connection per host, opened with
//! the admin's credentials, with libvirt's event loop running so keepalive
//! works, and blocking libvirt calls kept off the async runtime.
//!
//! [`Fleet`] knows the hosts and how to reach them. [`Fleet::connect`] opens
//! one host; [`Fleet::query_all`] asks every host the same question in
//! parallel, each under a bounded timeout, so one unreachable host is
//! reported without stalling the others. [`Fleet::locate`] finds a guest by
//! name ([`GuestRef`]) across the fleet.

mod connection;
mod error;
mod event_loop;
mod fleet;
mod from_inventory;
mod guest_ref;
mod locate;

pub use connection::HostConnection;
pub use error::{ConnectError, LibvirtError, QueryError};
pub use event_loop::ensure_event_loop;
use event_loop::quiet_libvirt;
pub use fleet::{DEFAULT_TIMEOUT, Fleet, HostOutcome, HostTarget};
pub use guest_ref::{GuestRef, GuestRefError};
pub(crate) use locate::lookup;
pub use locate::{LocateError, Located};
