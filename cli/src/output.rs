//! Printing results on stdout: human text or JSON. A closed stdout (for
//! example `vmctl pki list | head -1`) is not an error.

use std::io::{self, Write};

use serde::Serialize;

/// The output format chosen with `--output`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Output {
    /// Aligned text for people.
    Human,
    /// JSON for programs.
    Json,
}

/// Writes `text` to stdout, treating a broken pipe as success.
pub fn print(text: &str) -> io::Result<()> {
    let mut out = io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// Writes `value` as pretty JSON and a newline.
pub fn print_json(value: &impl Serialize) -> io::Result<()> {
    let text = serde_json::to_string_pretty(value).map_err(io::Error::other)?;
    print(&format!("{text}\n"))
}
