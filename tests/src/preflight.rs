//! Whether this machine can run a lab, and what tests do when it cannot.

use std::path::Path;

use crate::error::{LabError, Result};
use crate::host_files::CACHE;
use crate::lab::{Lab, LabSpec};

const TOOLS: &[&str] = &[
    "/usr/sbin/libvirtd",
    "/usr/sbin/sshd",
    "/usr/bin/virsh",
    "/usr/bin/nsenter",
    "/usr/bin/unshare",
    "/usr/bin/ssh-keygen",
    "/usr/bin/qemu-img",
];

/// Checks that the lab can run here; the error says what to do if not.
pub fn check() -> Result<()> {
    if !is_root() {
        return Err(LabError::Unavailable("it needs root".into()));
    }
    let fix = "run `sudo scripts/setup-system.sh`";
    for tool in TOOLS {
        if !Path::new(tool).exists() {
            return Err(LabError::Unavailable(format!("{tool} is missing; {fix}")));
        }
    }
    for file in ["stock/libvirtd.conf", "guest/vmlinuz", "guest/initrd.img"] {
        let path = Path::new(CACHE).join(file);
        if !path.exists() {
            return Err(LabError::Unavailable(format!(
                "{} is missing; {fix}",
                path.display()
            )));
        }
    }
    Ok(())
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .map(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(1).map(|u| u == "0"))
                .unwrap_or(false)
        })
        .unwrap_or(false)
}

/// Starts a lab for a test. Where the lab cannot run, the test is skipped
/// (returns `None`) on a developer's machine, but fails under `CI=true`.
pub fn lab_or_skip(spec: &LabSpec) -> Option<Lab> {
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    if let Err(e) = check() {
        assert!(!ci, "CI=true and {e}");
        #[allow(clippy::print_stderr)] // reason: a skipped test says why on stderr
        {
            eprintln!("skipped: {e}");
        }
        return None;
    }
    match Lab::start(spec) {
        Ok(lab) => Some(lab),
        Err(e) => panic!("lab did not start: {e}"),
    }
}

/// [`lab_or_skip`] with `hosts` hosts, bootstrapped by vmctl: a CA, every
/// host trusted, the TLS links proven.
pub fn trusted_lab_or_skip(hosts: usize) -> Option<Lab> {
    let lab = lab_or_skip(&LabSpec::hosts(hosts))?;
    lab.bootstrap();
    Some(lab)
}
