//! Running the real `vmctl` binary against a lab, as a person would.

use std::path::PathBuf;
use std::process::{Command, Output};

use crate::lab::Lab;

/// The `vmctl` binary: `$VMCTL_BIN`, or `target/<profile>/vmctl` beside the
/// running test (scripts/test.sh builds it before the tests).
pub fn vmctl_bin() -> PathBuf {
    if let Some(bin) = std::env::var_os("VMCTL_BIN") {
        return PathBuf::from(bin);
    }
    let exe = std::env::current_exe().unwrap_or_default();
    // target/debug/deps/test-binary or target/debug/vmctl-lab
    for dir in exe.ancestors().skip(1).take(2) {
        let candidate = dir.join("vmctl");
        if candidate.is_file() {
            return candidate;
        }
    }
    // A bench built in release next to a debug build of vmctl.
    let debug = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/debug/vmctl");
    if debug.is_file() {
        return debug;
    }
    PathBuf::from("vmctl")
}

impl Lab {
    /// Writes the lab's vmctl inventory (PKI under the lab's dir) and
    /// returns its path.
    pub fn write_inventory(&self) -> PathBuf {
        let path = self.dir().join("vmctl.toml");
        let text = self.inventory(&self.pki_dir());
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        path
    }

    /// The PKI directory the lab's inventory names.
    pub fn pki_dir(&self) -> PathBuf {
        self.dir().join("pki")
    }

    /// A `vmctl --config <lab inventory>` command.
    pub fn vmctl_command(&self) -> Command {
        let mut c = Command::new(vmctl_bin());
        c.arg("--config").arg(self.dir().join("vmctl.toml"));
        c
    }

    /// Runs `vmctl --config <lab inventory> ARGS...`.
    pub fn vmctl(&self, args: &[&str]) -> Output {
        let out = self.vmctl_command().args(args).output();
        out.unwrap_or_else(|e| panic!("running {}: {e}", vmctl_bin().display()))
    }

    /// Runs vmctl and panics unless it succeeds; returns stdout.
    pub fn vmctl_ok(&self, args: &[&str]) -> String {
        let out = self.vmctl(args);
        assert!(
            out.status.success(),
            "vmctl {} failed ({}):\n{}{}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Makes the whole lab trust itself the way a user does: write the
    /// inventory, `vmctl pki init`, `vmctl bootstrap`.
    pub fn bootstrap(&self) -> PathBuf {
        let inventory = self.write_inventory();
        self.vmctl_ok(&["pki", "init"]);
        self.vmctl_ok(&["bootstrap"]);
        inventory
    }
}
