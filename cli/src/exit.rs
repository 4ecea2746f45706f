//! The exit codes of `vmctl`, in one place, and the error type commands
//! return so that `main` can print a cause chain and pick the code.
//!
//! | code | meaning |
//! | ---- | ------- |
//! | 0 | success (also when stdout is closed early, e.g. piped into `head`) |
//! | 1 | an operation failed (a file could not be written, signing failed, ...) |
//! | 2 | bad input: usage error, invalid config or inventory, unknown host |
//! | 3 | a host was unreachable or refused the connection |
//! | 4 | validation found problems (`vmctl pki validate` and future checks) |
//!
//! Bad input (exit 2) is told in one line, the causes folded into it, so
//! that a person sees at once which file, key or name to fix; a hint, when
//! there is one, follows on its own line. Other failures print the chain
//! one cause a line.

use std::fmt::Write as _;
use std::process::ExitCode;

/// Why vmctl stops with a non-zero status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 1: an operation failed.
    Failed = 1,
    /// 2: bad input, usage or config.
    Usage = 2,
    /// 3: a host was unreachable or refused.
    Unreachable = 3,
    /// 4: validation found problems.
    Invalid = 4,
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> Self {
        ExitCode::from(exit as u8)
    }
}

/// A failed command: the error chain, its exit class, and a hint.
#[derive(Debug)]
pub struct Failure {
    pub error: anyhow::Error,
    pub exit: Exit,
    pub hint: Option<String>,
}

impl Failure {
    /// A failure of `exit` class.
    pub fn new(exit: Exit, error: impl Into<anyhow::Error>) -> Self {
        Self {
            error: error.into(),
            exit,
            hint: None,
        }
    }

    /// Adds a hint telling the user what they can do.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// The text printed on stderr: the error and its causes (on one line
    /// for bad input, else one cause a line), then the hint.
    pub fn render(&self) -> String {
        let mut text = if self.exit == Exit::Usage {
            format!("error: {}\n", one_line(&self.error))
        } else {
            self.chain_lines()
        };
        if let Some(hint) = &self.hint {
            let _ = writeln!(text, "  hint: {}", flatten(hint));
        }
        text
    }

    fn chain_lines(&self) -> String {
        let mut text = format!("error: {}\n", self.error);
        for cause in self.error.chain().skip(1) {
            let _ = writeln!(text, "  caused by: {cause}");
        }
        text
    }
}

/// The error and its causes joined by `: `, each on one line, skipping a
/// cause that its parent's message already repeats.
fn one_line(error: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in error.chain() {
        let message = flatten(&cause.to_string());
        if message.is_empty() || text.contains(&message) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&message);
    }
    text
}

/// `text` with its lines joined by `; `, blank lines dropped.
fn flatten(text: &str) -> String {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    lines.join("; ")
}

/// Attaches an exit class to any error.
pub trait Classify<T> {
    /// Marks the error as belonging to `exit`.
    fn or_exit(self, exit: Exit) -> Result<T, Failure>;
}

impl<T, E: Into<anyhow::Error>> Classify<T> for Result<T, E> {
    fn or_exit(self, exit: Exit) -> Result<T, Failure> {
        self.map_err(|e| Failure::new(exit, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_prints_one_cause_per_line_and_the_hint() {
        let inner = std::io::Error::other("disk full");
        let error = anyhow::Error::new(inner).context("could not write /x");
        let text = Failure::new(Exit::Failed, error)
            .hint("free some space")
            .render();
        assert_eq!(
            text,
            "error: could not write /x\n  caused by: disk full\n  hint: free some space\n"
        );
    }

    #[test]
    fn bad_input_is_one_line_with_its_causes() {
        let inner = std::io::Error::other("no such host\nat line 2");
        let error = anyhow::Error::new(inner).context("host h1 does not resolve");
        let text = Failure::new(Exit::Usage, error).hint("fix it").render();
        assert_eq!(
            text,
            "error: host h1 does not resolve: no such host; at line 2\n  hint: fix it\n"
        );
    }

    #[test]
    fn a_cause_repeated_by_its_parent_is_said_once() {
        let inner = std::io::Error::other("disk full");
        let error = anyhow::Error::new(inner).context("could not write /x: disk full");
        let text = Failure::new(Exit::Usage, error).render();
        assert_eq!(text, "error: could not write /x: disk full\n");
    }
}
