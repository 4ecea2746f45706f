//! One open connection to one host's libvirtd.

use virt::connect::Connect;

use super::{ConnectError, LibvirtError, ensure_event_loop, quiet_libvirt};

/// Seconds between keepalive probes, and how many may go unanswered before
/// libvirt closes the connection.
const KEEPALIVE_INTERVAL: i32 = 5;
const KEEPALIVE_COUNT: u32 = 3;

/// An open connection to one host. Cloning it shares the connection.
#[derive(Debug, Clone)]
pub struct HostConnection {
    host: String,
    uri: String,
    conn: Connect,
}

impl HostConnection {
    /// Opens `uri` for `host`, blocking. With `keepalive`, libvirt's event
    /// loop runs and keepalive is turned on, so a dead host is noticed even
    /// while a call waits; without, the connection costs less but suits
    /// only short calls under a timeout of the caller's.
    pub(crate) fn open_blocking(
        host: &str,
        uri: &str,
        keepalive: bool,
    ) -> Result<Self, ConnectError> {
        quiet_libvirt();
        if keepalive {
            ensure_event_loop().map_err(ConnectError::EventLoop)?;
        }
        let open_error = |source: LibvirtError| ConnectError::Open {
            host: host.to_owned(),
            uri: uri.to_owned(),
            source,
        };
        let conn = Connect::open(Some(uri)).map_err(|e| open_error(e.into()))?;
        if keepalive && let Err(e) = conn.set_keep_alive(KEEPALIVE_INTERVAL, KEEPALIVE_COUNT) {
            tracing::debug!(host, error = %e.message(), "keepalive not enabled");
        }
        tracing::debug!(host, uri, keepalive, "connected");
        Ok(Self {
            host: host.to_owned(),
            uri: uri.to_owned(),
            conn,
        })
    }

    /// The host's name in the inventory.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The URI the connection was opened with.
    pub fn uri(&self) -> &str {
        &self.uri
    }

    /// The libvirt connection itself, for blocking calls.
    pub fn raw(&self) -> &Connect {
        &self.conn
    }

    /// True while libvirt considers the connection open.
    pub fn is_alive(&self) -> bool {
        self.conn.is_alive().unwrap_or(false)
    }

    /// Runs the blocking `f` with this connection on tokio's blocking pool.
    /// A panic in `f` is resumed in the caller.
    pub async fn run<T, F>(&self, f: F) -> T
    where
        F: FnOnce(&HostConnection) -> T + Send + 'static,
        T: Send + 'static,
    {
        self.clone().run_into(f).await
    }

    /// As [`HostConnection::run`], giving this handle up: when it is the
    /// connection's last, the connection is closed on the blocking pool
    /// too, after `f`.
    pub async fn run_into<T, F>(self, f: F) -> T
    where
        F: FnOnce(&HostConnection) -> T + Send + 'static,
        T: Send + 'static,
    {
        match tokio::task::spawn_blocking(move || f(&self)).await {
            Ok(value) => value,
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        }
    }
}
