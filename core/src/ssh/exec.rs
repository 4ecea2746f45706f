//! Running one command over a session channel and collecting its stdout,
//! stderr and exit status. Output can arrive after the exit status, so
//! collection goes on until the channel closes.

use russh::ChannelMsg;
use russh::client::Handle;

use super::error::ExecError;
use super::host_key::HostKeyCheck;

/// What a command printed and how it ended.
#[derive(Debug, Clone, Default)]
pub struct Output {
    /// Everything written to stdout.
    pub stdout: Vec<u8>,
    /// Everything written to stderr.
    pub stderr: Vec<u8>,
    /// The exit status; `None` when the command died without one.
    pub status: Option<u32>,
}

impl Output {
    /// True when the command exited with status 0.
    pub fn success(&self) -> bool {
        self.status == Some(0)
    }

    /// Stdout as text (lossy).
    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    /// Stderr as text (lossy), trimmed.
    pub fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr).trim().to_owned()
    }
}

/// Runs `command`, feeding it `stdin` (then end-of-file) when given.
pub(crate) async fn exec(
    handle: &Handle<HostKeyCheck>,
    host: &str,
    command: &str,
    stdin: Option<&[u8]>,
) -> Result<Output, ExecError> {
    let lost = || ExecError::Lost {
        host: host.to_owned(),
    };
    let channel_error = |source| {
        if handle.is_closed() {
            return lost();
        }
        ExecError::Channel {
            host: host.to_owned(),
            command: command.to_owned(),
            source: Box::new(source),
        }
    };
    if handle.is_closed() {
        return Err(lost());
    }
    let mut channel = handle.channel_open_session().await.map_err(channel_error)?;
    channel.exec(true, command).await.map_err(channel_error)?;
    if let Some(bytes) = stdin {
        channel.data(bytes).await.map_err(channel_error)?;
    }
    channel.eof().await.map_err(channel_error)?;

    let mut output = Output::default();
    let mut ended = false;
    while let Some(message) = channel.wait().await {
        match message {
            ChannelMsg::Data { data } => output.stdout.extend_from_slice(&data),
            ChannelMsg::ExtendedData { data, ext: 1 } => output.stderr.extend_from_slice(&data),
            ChannelMsg::ExitStatus { exit_status } => {
                output.status = Some(exit_status);
                ended = true;
            }
            ChannelMsg::ExitSignal { .. } => ended = true,
            _ => {}
        }
    }
    // No exit status and the session gone: the connection dropped.
    if !ended && handle.is_closed() {
        return Err(lost());
    }
    Ok(output)
}

/// Turns a non-zero exit into an error.
pub(crate) fn checked(host: &str, command: &str, output: Output) -> Result<Output, ExecError> {
    if output.success() {
        return Ok(output);
    }
    Err(ExecError::Failed {
        host: host.to_owned(),
        command: command.to_owned(),
        status: output
            .status
            .map_or("no exit status".to_owned(), |s| format!("exit status {s}")),
        stderr: output.stderr_text(),
    })
}
