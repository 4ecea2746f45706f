//! The lab's error type.

use std::path::PathBuf;

/// What went wrong while running the lab.
#[derive(Debug, thiserror::Error)]
pub enum LabError {
    /// A command the lab runs failed.
    #[error("`{command}` failed ({status}): {stderr}")]
    Command {
        command: String,
        status: String,
        stderr: String,
    },
    /// A file or directory of the lab could not be read or written.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The machine lacks something the lab needs.
    #[error("the lab cannot run here: {0}")]
    Unavailable(String),
    /// Waited too long for a host to reach a state.
    #[error("host {host}: timed out waiting for {what}")]
    Timeout { host: String, what: String },
    /// A name or argument given to the lab is wrong.
    #[error("{0}")]
    Invalid(String),
}

/// The lab's result type.
pub type Result<T> = std::result::Result<T, LabError>;

/// Wraps an I/O error with the path it is about.
pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> LabError {
    let path = path.into();
    move |source| LabError::Io { path, source }
}
