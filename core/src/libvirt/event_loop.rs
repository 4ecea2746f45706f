//! libvirt's process-wide set-up: its default event loop, registered once
//! before the first connection and run on a thread of its own (without it
//! keepalive is off and idle connections are dropped), and its error
//! callback cleared so libvirt never prints over the terminal.

use std::sync::OnceLock;
use std::thread;
use std::time::Duration;

use super::LibvirtError;

static EVENT_LOOP: OnceLock<Result<(), LibvirtError>> = OnceLock::new();
static QUIET: OnceLock<()> = OnceLock::new();

/// Clears libvirt's error callback, once per process, so that libvirt
/// never prints over the terminal; errors still reach vmctl.
pub(crate) fn quiet_libvirt() {
    QUIET.get_or_init(virt::error::clear_error_callback);
}

/// Registers libvirt's default event loop and starts its thread, once per
/// process. Every call after the first returns the first call's outcome.
pub fn ensure_event_loop() -> Result<(), LibvirtError> {
    EVENT_LOOP.get_or_init(start).clone()
}

fn start() -> Result<(), LibvirtError> {
    quiet_libvirt();
    virt::event::event_register_default_impl()?;
    let spawned = thread::Builder::new()
        .name("libvirt-events".into())
        .spawn(run_forever);
    if let Err(e) = spawned {
        return Err(LibvirtError::local(format!(
            "could not start libvirt's event thread: {e}"
        )));
    }
    Ok(())
}

fn run_forever() {
    loop {
        if let Err(e) = virt::event::event_run_default_impl() {
            tracing::debug!(error = %e.message(), "libvirt event loop iteration failed");
            thread::sleep(Duration::from_millis(100));
        }
    }
}
