//! Errors of the connection layer. A [`LibvirtError`] keeps libvirt's own
//! wording; the variants around it say which host and URI it is about.

use std::time::Duration;

/// What libvirt reported, as libvirt worded it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct LibvirtError {
    /// libvirt's error number (`virErrorNumber`), 0 for errors raised by vmctl.
    pub code: i32,
    /// libvirt's message.
    pub message: String,
}

impl LibvirtError {
    /// An error raised on our side of the library.
    pub(crate) fn local(message: String) -> Self {
        Self { code: 0, message }
    }

    /// True when libvirt says the object looked up does not exist.
    pub fn is_not_found(&self) -> bool {
        use virt::sys;
        [
            sys::VIR_ERR_NO_DOMAIN,
            sys::VIR_ERR_NO_STORAGE_POOL,
            sys::VIR_ERR_NO_STORAGE_VOL,
        ]
        .iter()
        .any(|c| *c as i32 == self.code)
    }

    /// What vmctl knows about an opaque libvirt message, for `host`.
    pub fn hint(&self, host: &str) -> Option<String> {
        if self.message.contains("Unable to read TLS confirmation") {
            return Some(format!(
                "the host refused our client certificate; run `vmctl bootstrap {host}`"
            ));
        }
        if self.message.contains("Connection refused") {
            return Some(format!(
                "nothing listens for TLS on {host}; is libvirtd running with its TLS listener on? (`vmctl bootstrap {host}`)"
            ));
        }
        if self.message.contains("Cannot read CA certificate")
            || self.message.contains("Cannot access CA certificate")
        {
            return Some(
                "the admin credentials are missing; run `vmctl pki init` and `vmctl bootstrap`"
                    .into(),
            );
        }
        None
    }
}

impl From<virt::error::Error> for LibvirtError {
    fn from(e: virt::error::Error) -> Self {
        Self {
            code: e.code().to_raw() as i32,
            message: e.message().to_owned(),
        }
    }
}

/// Why a connection to a host could not be opened.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ConnectError {
    /// The host is not in the inventory.
    #[error("unknown host {host} (known: {known})")]
    UnknownHost { host: String, known: String },
    /// libvirt could not open the URI.
    #[error("could not connect to {host} at {uri}")]
    Open {
        host: String,
        uri: String,
        #[source]
        source: LibvirtError,
    },
    /// The host did not answer in time.
    #[error("{host} did not answer within {}s at {uri}", timeout.as_secs_f32())]
    Timeout {
        host: String,
        uri: String,
        timeout: Duration,
    },
    /// The event loop could not be started.
    #[error("could not start libvirt's event loop")]
    EventLoop(#[source] LibvirtError),
    /// The blocking task running the call panicked or was cancelled.
    #[error("the connection task for {host} failed")]
    Task { host: String },
}

impl ConnectError {
    /// vmctl's explanation, where the user can act on it.
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::Open { host, source, .. } => source.hint(host),
            Self::Timeout { host, .. } => Some(format!(
                "check that {host} is up and reachable, or raise the timeout"
            )),
            _ => None,
        }
    }

    /// The libvirt error, if libvirt reported one.
    pub fn libvirt(&self) -> Option<&LibvirtError> {
        match self {
            Self::Open { source, .. } | Self::EventLoop(source) => Some(source),
            _ => None,
        }
    }
}

/// Why a question asked of one host got no answer.
#[derive(Debug, Clone, thiserror::Error)]
pub enum QueryError {
    /// The host could not be reached.
    #[error(transparent)]
    Connect(#[from] ConnectError),
    /// The host was reached but the question failed.
    #[error("query failed on {host} ({uri})")]
    Query {
        host: String,
        uri: String,
        #[source]
        source: LibvirtError,
    },
}

impl QueryError {
    /// A one-line reason: libvirt's words, or the timeout.
    pub fn reason(&self) -> String {
        match self {
            Self::Connect(e) => e.libvirt().map_or_else(|| e.to_string(), |l| l.to_string()),
            Self::Query { source, .. } => source.to_string(),
        }
    }

    /// vmctl's explanation, where the user can act on it.
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::Connect(e) => e.hint(),
            Self::Query { host, source, .. } => source.hint(host),
        }
    }
}
