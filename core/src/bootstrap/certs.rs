//! The admin side of a bootstrap: the CA (created if there is none yet),
//! each bootstrapped host's server and client certificates (reused while
//! still good), the admin's own client credentials in `<pki.dir>/admin/`,
//! and the allowed DN list every host gets. A dry run does all of it in a
//! scratch copy of the PKI directory, so the real one is never touched.

use std::fs;
use std::path::{Path, PathBuf};

use time::Duration;
use vmctl_pki::{Authority, CaOptions, Layout, LeafKind, LeafRequest, Passphrase, Reuse, Subject};

use super::error::BootstrapError;
use crate::inventory::{HostSpec, Inventory};

/// The CN of the admin's client certificate.
pub const ADMIN_NAME: &str = "admin";

/// A certificate stays in use while it is valid for at least this long.
const REUSE_HORIZON: Duration = Duration::days(30);

/// What the admin side prepared for the hosts.
#[derive(Debug)]
pub(crate) struct Credentials {
    /// The PKI directory the install sets are read from.
    pub layout: Layout,
    /// The admin's `?pkipath=` directory.
    pub admin_dir: PathBuf,
    /// DN strings of the admin and every fleet member's client certificate.
    pub allowed_dns: Vec<String>,
    /// What was issued (`NAME server`, ...), for the report.
    pub issued: Vec<String>,
    /// True when this run created the CA.
    pub created_ca: bool,
    _scratch: Option<tempfile::TempDir>,
}

/// Prepares the CA and certificates for `selected`, in a scratch copy of
/// the PKI directory when `dry_run`.
pub(crate) fn prepare(
    inventory: &Inventory,
    selected: &[&HostSpec],
    dry_run: bool,
    passphrase: Option<&Passphrase>,
) -> Result<Credentials, BootstrapError> {
    let real = Layout::new(&inventory.pki.dir);
    let scratch = dry_run.then(|| scratch_copy(real.root())).transpose()?;
    let layout = scratch
        .as_ref()
        .map_or(real, |dir| Layout::new(dir.path().join("pki")));

    let (ca, created_ca) = open_ca(&layout, inventory, passphrase)?;
    let subject = Subject {
        country: inventory.pki.country.clone(),
        organization: Some(inventory.pki.organization.clone()),
    };
    let mut issued = Vec::new();
    for host in selected {
        issue(&ca, &server_request(host, &subject), &mut issued)?;
        issue(&ca, &client_request(&host.name, &subject), &mut issued)?;
    }
    issue(&ca, &client_request(ADMIN_NAME, &subject), &mut issued)?;
    let admin_dir = ca
        .install_admin(ADMIN_NAME)
        .map_err(|source| BootstrapError::Issue {
            name: ADMIN_NAME.to_owned(),
            kind: "client",
            source,
        })?;

    let members = std::iter::once(ADMIN_NAME).chain(inventory.hosts.keys().map(String::as_str));
    let allowed_dns = members
        .map(|name| client_dn(&ca, name, &subject))
        .collect::<Result<_, _>>()?;
    Ok(Credentials {
        layout: ca.layout().clone(),
        admin_dir,
        allowed_dns,
        issued,
        created_ca,
        _scratch: scratch,
    })
}

fn open_ca(
    layout: &Layout,
    inventory: &Inventory,
    passphrase: Option<&Passphrase>,
) -> Result<(Authority, bool), BootstrapError> {
    let dir = layout.root().to_owned();
    if layout.ca_cert().exists() {
        let ca = Authority::load(layout, passphrase)
            .map_err(|source| BootstrapError::LoadCa { dir, source })?;
        return Ok((ca, false));
    }
    let options = CaOptions {
        organization: inventory.pki.organization.clone(),
        ..CaOptions::default()
    };
    let ca = Authority::init(layout, &options, passphrase)
        .map_err(|source| BootstrapError::InitCa { dir, source })?;
    Ok((ca, true))
}

fn server_request(host: &HostSpec, subject: &Subject) -> LeafRequest {
    LeafRequest {
        dns_names: host.certificate_dns_names(),
        ips: host.certificate_ips(),
        subject: subject.clone(),
        ..LeafRequest::new(host.name.clone(), LeafKind::Server)
    }
}

fn client_request(name: &str, subject: &Subject) -> LeafRequest {
    LeafRequest {
        subject: subject.clone(),
        ..LeafRequest::new(name, LeafKind::Client)
    }
}

fn issue(
    ca: &Authority,
    request: &LeafRequest,
    issued: &mut Vec<String>,
) -> Result<(), BootstrapError> {
    let outcome = ca
        .issue(request, Reuse::IfValidFor(REUSE_HORIZON))
        .map_err(|source| BootstrapError::Issue {
            name: request.name.clone(),
            kind: request.kind.name(),
            source,
        })?;
    if matches!(outcome, vmctl_pki::IssueOutcome::Issued(_)) {
        issued.push(format!("{} {}", request.name, request.kind.name()));
    }
    Ok(())
}

/// The DN `name`'s client certificate carries, as GnuTLS prints it. The DN
/// depends only on the subject, so a throwaway certificate signed in memory
/// gives it for members not issued yet.
fn client_dn(ca: &Authority, name: &str, subject: &Subject) -> Result<String, BootstrapError> {
    let dn_error = |source| BootstrapError::Dn {
        name: name.to_owned(),
        source,
    };
    let request = client_request(name, subject);
    let leaf = ca
        .sign_leaf(&request)
        .map_err(|source| BootstrapError::Issue {
            name: name.to_owned(),
            kind: "client",
            source: vmctl_pki::IssueError::Sign {
                name: name.to_owned(),
                kind: "client",
                source,
            },
        })?;
    vmctl_pki::gnutls_dn(&leaf.cert_pem).map_err(dn_error)
}

/// A private temporary copy of the PKI directory `dir` (empty if absent).
fn scratch_copy(dir: &Path) -> Result<tempfile::TempDir, BootstrapError> {
    let scratch_error = |source| BootstrapError::Scratch {
        dir: dir.to_owned(),
        source,
    };
    let scratch = tempfile::tempdir().map_err(scratch_error)?;
    if dir.exists() {
        copy_tree(dir, &scratch.path().join("pki")).map_err(scratch_error)?;
    }
    Ok(scratch)
}

fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    fs::create_dir_all(to)?;
    fs::set_permissions(to, fs::metadata(from)?.permissions())?;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else {
            fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}
