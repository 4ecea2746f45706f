//! Checking TLS links the way a person would: `virsh -c qemu+tls://HOST/system
//! hostname`, from the admin with `?pkipath=<pki.dir>/admin`, and on each
//! host (over SSH, as root) with that host's own client certificate.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinSet;

use super::report::Link;
use crate::ssh::{Session, quote};

/// How long one check may take.
const CHECK_TIMEOUT: Duration = Duration::from_secs(20);

/// libvirt's words when a daemon refuses a client certificate.
const REFUSED_HINT: &str = "Unable to read TLS confirmation";

/// The URI the admin dials for `address`.
pub fn admin_uri(address: &str, admin_dir: &Path) -> String {
    format!(
        "qemu+tls://{}/system?pkipath={}",
        uri_host(address),
        admin_dir.display()
    )
}

fn uri_host(address: &str) -> String {
    if address.contains(':') {
        format!("[{address}]")
    } else {
        address.to_owned()
    }
}

/// Asks `address` for its hostname over TLS with the admin's credentials.
pub(crate) async fn admin_check(address: &str, admin_dir: &Path) -> Result<String, String> {
    let uri = admin_uri(address, admin_dir);
    let run = tokio::process::Command::new("virsh")
        .args(["-q", "-c", &uri, "hostname"])
        .kill_on_drop(true)
        .output();
    match tokio::time::timeout(CHECK_TIMEOUT, run).await {
        Err(_) => Err(format!("{uri}: no answer in {} s", CHECK_TIMEOUT.as_secs())),
        Ok(Err(e)) => Err(format!("could not run virsh: {e}")),
        Ok(Ok(out)) if out.status.success() => {
            Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
        }
        Ok(Ok(out)) => Err(explain(&String::from_utf8_lossy(&out.stderr))),
    }
}

/// Retries [`admin_check`] for up to `patience` while a daemon starts.
pub(crate) async fn admin_check_patiently(
    address: &str,
    admin_dir: &Path,
    patience: Duration,
) -> Result<String, String> {
    let deadline = tokio::time::Instant::now() + patience;
    loop {
        let result = admin_check(address, admin_dir).await;
        if result.is_ok() || tokio::time::Instant::now() >= deadline {
            return result;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// Asks `address` for its hostname from the host behind `session`.
async fn host_check(session: &Session, address: &str) -> Result<String, String> {
    let uri = format!("qemu+tls://{}/system", uri_host(address));
    let script = format!(
        "timeout {} virsh -q -c {} hostname",
        CHECK_TIMEOUT.as_secs(),
        quote(&uri)
    );
    let command = session.as_root(&script);
    match session.exec(&command, None).await {
        Ok(out) if out.success() => Ok(out.stdout_text().trim().to_owned()),
        Ok(out) => Err(explain(&out.stderr_text())),
        Err(e) => Err(super::report::chain(&e).join(": ")),
    }
}

/// Adds the cause libvirt leaves out when a certificate is refused.
fn explain(stderr: &str) -> String {
    let stderr = stderr.trim().replace('\n', " ");
    if stderr.contains(REFUSED_HINT) {
        format!(
            "{stderr} (the daemon refused the client certificate: its DN is not in tls_allowed_dn_list, or it is revoked)"
        )
    } else {
        stderr
    }
}

/// A host to include in the matrix.
pub(crate) struct Member {
    pub name: String,
    pub address: String,
    pub session: Arc<Session>,
}

/// Checks admin → every member and every member → every other member.
pub(crate) async fn matrix(members: &[Member], admin_dir: &Path) -> Vec<Link> {
    let mut checks = JoinSet::new();
    for (i, to) in members.iter().enumerate() {
        let (name, address, dir) = (to.name.clone(), to.address.clone(), admin_dir.to_owned());
        checks.spawn(async move {
            (
                i,
                usize::MAX,
                "admin".to_owned(),
                name,
                admin_check(&address, &dir).await,
            )
        });
        for (j, from) in members.iter().enumerate().filter(|(j, _)| *j != i) {
            let (session, from_name, to_name, address) = (
                from.session.clone(),
                from.name.clone(),
                to.name.clone(),
                to.address.clone(),
            );
            checks.spawn(async move {
                let result = host_check(&session, &address).await;
                (i, j, from_name, to_name, result)
            });
        }
    }
    let mut links = Vec::new();
    while let Some(done) = checks.join_next().await {
        if let Ok(link) = done {
            links.push(link);
        }
    }
    // Admin row first, then hosts in member order.
    links.sort_by_key(|(to, from, ..)| (from.wrapping_add(1), *to));
    links
        .into_iter()
        .map(|(_, _, from, to, result)| Link {
            from,
            to,
            ok: result.is_ok(),
            detail: result.unwrap_or_else(|e| e),
        })
        .collect()
}
