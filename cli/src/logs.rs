//! Where log lines go: standard error, around any progress bars on it.
//!
//! While bars are drawn, a log line written straight to the terminal would
//! land inside a bar's frame and leave it stale; lines are written with
//! the bars hidden instead, and the bars redrawn below them.

use std::io::Write;
use std::sync::{Mutex, OnceLock};

use indicatif::MultiProgress;

/// The bars on standard error, once a command has shown some.
static BARS: OnceLock<Mutex<Option<MultiProgress>>> = OnceLock::new();

fn slot() -> &'static Mutex<Option<MultiProgress>> {
    BARS.get_or_init(|| Mutex::new(None))
}

/// Makes `bars` the bars log lines are written around (`None`: no more).
pub fn set_bars(bars: Option<MultiProgress>) {
    *slot().lock().unwrap_or_else(|p| p.into_inner()) = bars;
}

/// Logs go to stderr; warnings by default, `-v` raises, `RUST_LOG` overrides.
pub fn init(verbose: u8) {
    let level = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(|| LogWriter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
}

/// Standard error, written around the bars: for lines that are not logs.
pub fn stderr() -> impl Write {
    LogWriter
}

/// Standard error, with the bars (if any) hidden while a line is written.
struct LogWriter;

impl Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let bars = slot().lock().unwrap_or_else(|p| p.into_inner()).clone();
        match bars {
            Some(bars) => bars.suspend(|| std::io::stderr().write_all(buf))?,
            None => std::io::stderr().write_all(buf)?,
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}
