//! Running the system commands the lab is built from.

use std::process::{Command, Output, Stdio};

use crate::error::{LabError, Result};

/// Runs `program args...`, returning stdout on success.
pub fn run(program: &str, args: &[&str]) -> Result<String> {
    let output = output(Command::new(program).args(args))?;
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Runs a prepared command and fails unless it exits 0.
pub fn output(command: &mut Command) -> Result<Output> {
    let shown = describe(command);
    tracing::debug!(command = %shown, "lab: run");
    let output = command
        .stdin(Stdio::null())
        .output()
        .map_err(|e| LabError::Command {
            command: shown.clone(),
            status: "not started".into(),
            stderr: e.to_string(),
        })?;
    if !output.status.success() {
        return Err(LabError::Command {
            command: shown,
            status: output.status.to_string(),
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_string(),
        });
    }
    Ok(output)
}

/// Runs a command and reports only whether it succeeded.
pub fn succeeds(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

fn describe(command: &Command) -> String {
    let mut parts = vec![command.get_program().to_string_lossy().into_owned()];
    parts.extend(command.get_args().map(|a| a.to_string_lossy().into_owned()));
    parts.join(" ")
}
