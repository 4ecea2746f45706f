//! The fleet as the connection layer sees it: host names, the addresses
//! TLS URIs dial, the admin's credentials and a per-host timeout.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::task::JoinSet;

use super::{ConnectError, HostConnection, LibvirtError, QueryError};

/// How long one host may take to connect and answer before it is reported
/// unreachable.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// One host: its inventory name and the address its TLS URI dials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostTarget {
    /// The name the inventory and the command line use.
    pub name: String,
    /// What `qemu+tls://` dials; must be in the host's server certificate.
    pub address: String,
}

/// What one host answered, or why it did not.
#[derive(Debug)]
pub struct HostOutcome<T> {
    /// The host's inventory name.
    pub host: String,
    /// Its answer.
    pub result: Result<T, QueryError>,
}

/// The hosts vmctl manages and how to reach them. Connections are opened on
/// first use, with keepalive, and shared by clones of the fleet (see
/// [`Fleet::one_shot`] for the exception).
#[derive(Debug, Clone)]
pub struct Fleet {
    hosts: Vec<HostTarget>,
    pki_path: PathBuf,
    timeout: Duration,
    keepalive: bool,
    open: Arc<Mutex<HashMap<String, HostConnection>>>,
}

impl Fleet {
    /// A fleet of `hosts` reached with the admin credentials in `pki_path`
    /// (`cacert.pem`, `clientcert.pem`, `clientkey.pem`).
    pub fn new(hosts: Vec<HostTarget>, pki_path: impl Into<PathBuf>) -> Self {
        Self {
            hosts,
            pki_path: pki_path.into(),
            timeout: DEFAULT_TIMEOUT,
            keepalive: true,
            open: Arc::default(),
        }
    }

    /// The same hosts for a command that asks each host one short question
    /// and is done (`vmctl list`): its connections run without libvirt's
    /// event loop and keepalive, which cost wakeups and a round trip per
    /// host, are kept by no one, and close as soon as their host answered,
    /// each in its own task. Connections open in `self` are not shared.
    pub fn one_shot(mut self) -> Self {
        self.keepalive = false;
        self.open = Arc::default();
        self
    }

    /// The same fleet with another per-host timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The per-host timeout.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The admin's credentials directory.
    pub fn pki_path(&self) -> &Path {
        &self.pki_path
    }

    /// The hosts, in inventory order.
    pub fn hosts(&self) -> &[HostTarget] {
        &self.hosts
    }

    /// The host named `name`, or an error listing the known ones.
    pub fn target(&self, name: &str) -> Result<&HostTarget, ConnectError> {
        self.hosts
            .iter()
            .find(|h| h.name == name)
            .ok_or_else(|| ConnectError::UnknownHost {
                host: name.to_owned(),
                known: self.names().join(", "),
            })
    }

    /// The inventory names of every host.
    pub fn names(&self) -> Vec<String> {
        self.hosts.iter().map(|h| h.name.clone()).collect()
    }

    /// The libvirt URI for `target`; the credentials' path is
    /// percent-encoded, so any directory name survives the query string.
    pub fn uri(&self, target: &HostTarget) -> String {
        format!(
            "qemu+tls://{}/system?pkipath={}",
            target.address,
            percent_encode(&self.pki_path)
        )
    }

    /// The connection to host `name`, opened (within the timeout) if it is
    /// not open yet.
    pub async fn connect(&self, name: &str) -> Result<HostConnection, ConnectError> {
        let target = self.target(name)?.clone();
        if let Some(conn) = self.cached(&target.name) {
            return Ok(conn);
        }
        let uri = self.uri(&target);
        let (host, uri2, keepalive) = (target.name.clone(), uri.clone(), self.keepalive);
        let opening = tokio::task::spawn_blocking(move || {
            HostConnection::open_blocking(&host, &uri2, keepalive)
        });
        let conn = match tokio::time::timeout(self.timeout, opening).await {
            Ok(Ok(result)) => result?,
            Ok(Err(_)) => return Err(ConnectError::Task { host: target.name }),
            Err(_) => return Err(self.timed_out(&target, uri)),
        };
        if self.keepalive {
            self.remember(&conn);
        }
        Ok(conn)
    }

    /// Asks every host `ask` in parallel; see [`Fleet::query`].
    pub async fn query_all<T, F>(&self, ask: F) -> Vec<HostOutcome<T>>
    where
        F: Fn(&HostConnection) -> Result<T, LibvirtError> + Send + Sync + 'static,
        T: Send + 'static,
    {
        let names = self.names();
        self.query(&names, ask).await
    }

    /// Connects to each host in `names` and runs the blocking `ask` on it,
    /// all in parallel; each host gets [`Fleet::timeout`] for both. The
    /// outcomes come back in the order of `names`.
    pub async fn query<T, F>(&self, names: &[String], ask: F) -> Vec<HostOutcome<T>>
    where
        F: Fn(&HostConnection) -> Result<T, LibvirtError> + Send + Sync + 'static,
        T: Send + 'static,
    {
        let ask = Arc::new(ask);
        let mut tasks = JoinSet::new();
        for (i, name) in names.iter().enumerate() {
            let (fleet, ask, name) = (self.clone(), ask.clone(), name.clone());
            tasks.spawn(async move {
                let result = fleet.ask_one(&name, ask).await;
                (i, HostOutcome { host: name, result })
            });
        }
        let mut outcomes: Vec<(usize, HostOutcome<T>)> = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Ok(outcome) => outcomes.push(outcome),
                Err(e) => std::panic::resume_unwind(e.into_panic()),
            }
        }
        outcomes.sort_by_key(|(i, _)| *i);
        outcomes.into_iter().map(|(_, o)| o).collect()
    }

    async fn ask_one<T, F>(&self, name: &str, ask: Arc<F>) -> Result<T, QueryError>
    where
        F: Fn(&HostConnection) -> Result<T, LibvirtError> + Send + Sync + 'static,
        T: Send + 'static,
    {
        let target = self.target(name)?.clone();
        let work = async {
            let conn = self.connect(name).await?;
            let (host, uri) = (conn.host().to_owned(), conn.uri().to_owned());
            conn.run_into(move |c| ask(c))
                .await
                .map_err(|source| QueryError::Query { host, uri, source })
        };
        match tokio::time::timeout(self.timeout, work).await {
            Ok(result) => result,
            Err(_) => Err(self.timed_out(&target, self.uri(&target)).into()),
        }
    }

    fn timed_out(&self, target: &HostTarget, uri: String) -> ConnectError {
        ConnectError::Timeout {
            host: target.name.clone(),
            uri,
            timeout: self.timeout,
        }
    }

    fn cached(&self, name: &str) -> Option<HostConnection> {
        let open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        open.get(name).filter(|c| c.is_alive()).cloned()
    }

    fn remember(&self, conn: &HostConnection) {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        open.insert(conn.host().to_owned(), conn.clone());
    }
}

/// `path` with every byte but unreserved ones and `/` as `%XX`, which
/// libvirt decodes in a URI's query parameters.
fn percent_encode(path: &Path) -> String {
    use std::fmt::Write;
    use std::os::unix::ffi::OsStrExt;
    let mut out = String::new();
    for &b in path.as_os_str().as_bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fleet() -> Fleet {
        let host = |n: &str| HostTarget {
            name: n.into(),
            address: format!("{n}.example.test"),
        };
        Fleet::new(vec![host("host1"), host("host2")], "/srv/pki/admin")
    }

    #[test]
    fn uri_dials_the_address_with_the_admin_pkipath() {
        let f = fleet();
        assert_eq!(
            f.uri(&f.hosts()[1]),
            "qemu+tls://host2.example.test/system?pkipath=/srv/pki/admin"
        );
    }

    #[test]
    fn uri_percent_encodes_the_pkipath() {
        let host = HostTarget {
            name: "host1".into(),
            address: "host1".into(),
        };
        let f = Fleet::new(vec![host], "/srv/my pki&co/é=+%");
        assert_eq!(
            f.uri(&f.hosts()[0]),
            "qemu+tls://host1/system?pkipath=/srv/my%20pki%26co/%C3%A9%3D%2B%25"
        );
    }

    #[test]
    fn unknown_host_lists_the_known_ones() {
        let err = fleet().target("host9").unwrap_err();
        assert_eq!(err.to_string(), "unknown host host9 (known: host1, host2)");
    }
}
