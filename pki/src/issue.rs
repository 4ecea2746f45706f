//! Issuing on disk: writes a member's certificate and key under
//! `issued/NAME/`, records it in the index, reuses a still-good
//! certificate when asked to, renews, and installs the admin's credentials.

use std::fs;
use std::path::{Path, PathBuf};

use time::{Duration, OffsetDateTime};

use crate::fsio::{self, PRIVATE_FILE, PUBLIC_FILE};
use crate::index::{Index, IndexEntry, IndexError};
use crate::layout::MemberFiles;
use crate::{Authority, LeafKind, LeafRequest, SignedLeaf, serial, verify};

/// Whether an existing certificate may be kept instead of issuing anew.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reuse {
    /// Always issue a new certificate and key.
    Never,
    /// Keep the current certificate when it has the requested names and
    /// subject, chains to this CA, matches its key, is not revoked and stays
    /// valid for at least this long.
    IfValidFor(Duration),
}

/// What `issue` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IssueOutcome {
    /// A new certificate was written.
    Issued(IndexEntry),
    /// The existing certificate was kept.
    Reused(IndexEntry),
}

impl IssueOutcome {
    /// The certificate now in place.
    pub fn entry(&self) -> &IndexEntry {
        match self {
            Self::Issued(entry) | Self::Reused(entry) => entry,
        }
    }
}

/// Why `issue`, `renew` or `install_admin` failed.
#[derive(Debug, thiserror::Error)]
pub enum IssueError {
    /// The name cannot be a CN and a directory name.
    #[error("invalid member name `{name}`: use letters, digits, `.`, `-` and `_`")]
    InvalidName { name: String },
    /// A validity of less than a day or more than a century.
    #[error("a validity of {days} days is out of range: give 1 to {max} days", max = crate::MAX_VALIDITY_DAYS)]
    Validity { days: i64 },
    /// A SAN that is not a DNS name.
    #[error(
        "{name:?} is not a DNS name: use letters, digits and `-` in dot-separated labels, optionally after `*.`"
    )]
    DnsName { name: String },
    /// Key generation or signing failed.
    #[error("could not sign the {kind} certificate of {name}")]
    Sign {
        name: String,
        kind: &'static str,
        #[source]
        source: rcgen::Error,
    },
    /// Nothing was issued to this name, so there is nothing to renew.
    #[error("no certificate was issued to {name}")]
    NotIssued { name: String },
    /// Writing or reading a member's files failed.
    #[error("could not access {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The index could not be read or written.
    #[error("could not update the index")]
    Index(#[from] IndexError),
}

/// Checks that `name` is safe as a CN and as a directory name.
pub fn check_member_name(name: &str) -> Result<(), IssueError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
    if ok {
        Ok(())
    } else {
        Err(IssueError::InvalidName {
            name: name.to_owned(),
        })
    }
}

/// Checks what `request` asks for before anything is signed: the member's
/// name, its extra DNS names and the validity.
pub fn check_request(request: &LeafRequest) -> Result<(), IssueError> {
    check_member_name(&request.name)?;
    if let Some(bad) = request.dns_names.iter().find(|n| !crate::is_dns_name(n)) {
        return Err(IssueError::DnsName { name: bad.clone() });
    }
    if !crate::validity_in_range(request.validity) {
        return Err(IssueError::Validity {
            days: request.validity.whole_days(),
        });
    }
    Ok(())
}

impl Authority {
    /// Issues (or, per `reuse`, keeps) the certificate `request` describes.
    pub fn issue(&self, request: &LeafRequest, reuse: Reuse) -> Result<IssueOutcome, IssueError> {
        check_request(request)?;
        let mut index = Index::read(self.layout())?;
        let kept = match reuse {
            Reuse::IfValidFor(horizon) => self.reusable(&index, request, horizon),
            Reuse::Never => None,
        };
        if let Some(entry) = kept {
            tracing::debug!(name = %request.name, kind = request.kind.name(), "kept the current certificate");
            return Ok(IssueOutcome::Reused(entry));
        }

        let leaf = self.sign_leaf(request).map_err(|source| IssueError::Sign {
            name: request.name.clone(),
            kind: request.kind.name(),
            source,
        })?;
        self.write_member_files(request, &leaf)?;
        let entry = index_entry(request, &leaf);
        index.certificates.push(entry.clone());
        index.write(self.layout())?;
        tracing::info!(name = %request.name, kind = request.kind.name(), serial = %entry.serial, "issued certificate");
        Ok(IssueOutcome::Issued(entry))
    }

    /// Reissues the newest certificate of each kind of `name` (revoked or
    /// not) with the same names and subject and a new key.
    pub fn renew(&self, name: &str, validity: Duration) -> Result<Vec<IndexEntry>, IssueError> {
        let index = Index::read(self.layout())?;
        let requests: Vec<LeafRequest> = [LeafKind::Server, LeafKind::Client]
            .into_iter()
            .filter_map(|kind| index.latest(name, kind))
            .map(|entry| request_from_entry(entry, validity))
            .collect();
        if requests.is_empty() {
            return Err(IssueError::NotIssued {
                name: name.to_owned(),
            });
        }
        requests
            .iter()
            .map(|r| self.issue(r, Reuse::Never).map(|o| o.entry().clone()))
            .collect()
    }

    /// Copies the CA certificate and `name`'s client certificate and key to
    /// `admin/`, the layout libvirt's `?pkipath=` reads. Returns that dir.
    pub fn install_admin(&self, name: &str) -> Result<PathBuf, IssueError> {
        check_member_name(name)?;
        let files = MemberFiles::in_dir(&self.layout().issued_dir(name));
        let dir = self.layout().admin_dir();
        ensure_dir(&dir)?;
        let cert = read(&files.client_cert)?;
        let key = zeroize::Zeroizing::new(read(&files.client_key)?);
        write(
            &dir.join("cacert.pem"),
            self.cert_pem().as_bytes(),
            PUBLIC_FILE,
        )?;
        write(&dir.join("clientcert.pem"), &cert, PUBLIC_FILE)?;
        write(&dir.join("clientkey.pem"), &key, PRIVATE_FILE)?;
        Ok(dir)
    }

    fn reusable(
        &self,
        index: &Index,
        request: &LeafRequest,
        horizon: Duration,
    ) -> Option<IndexEntry> {
        let entry = index.current(&request.name, request.kind)?;
        let wanted = request_from_entry(entry, request.validity);
        let same = sorted(wanted.san_dns_names()) == sorted(request.san_dns_names())
            && sorted(wanted.san_ips()) == sorted(request.san_ips())
            && entry.subject == request.subject;
        let fresh = entry.not_after > OffsetDateTime::now_utc() + horizon;
        if !(same && fresh) {
            return None;
        }

        // The files on disk must still be that certificate and its key.
        let files = MemberFiles::in_dir(&self.layout().issued_dir(&request.name));
        let (cert, key) = member_paths(&files, request.kind);
        let cert_pem = fs::read_to_string(cert).ok()?;
        let key_pem = zeroize::Zeroizing::new(fs::read_to_string(key).ok()?);
        let ok = verify::leaf_matches(self.cert_der(), &cert_pem, &key_pem, &entry.serial);
        ok.then(|| entry.clone())
    }

    fn write_member_files(
        &self,
        request: &LeafRequest,
        leaf: &SignedLeaf,
    ) -> Result<(), IssueError> {
        let dir = self.layout().issued_dir(&request.name);
        ensure_dir(&dir)?;
        let files = MemberFiles::in_dir(&dir);
        let (cert, key) = member_paths(&files, request.kind);
        write(key, leaf.key_pem.as_bytes(), PRIVATE_FILE)?;
        write(cert, leaf.cert_pem.as_bytes(), PUBLIC_FILE)
    }
}

/// The certificate and key path of `kind` among a member's files.
pub fn member_paths(files: &MemberFiles, kind: LeafKind) -> (&Path, &Path) {
    match kind {
        LeafKind::Server => (&files.server_cert, &files.server_key),
        LeafKind::Client => (&files.client_cert, &files.client_key),
    }
}

fn index_entry(request: &LeafRequest, leaf: &SignedLeaf) -> IndexEntry {
    IndexEntry {
        name: request.name.clone(),
        kind: request.kind,
        serial: serial::serial_hex(&leaf.serial),
        subject: request.subject.clone(),
        dns_names: request.san_dns_names(),
        ips: request.san_ips(),
        not_before: leaf.not_before,
        not_after: leaf.not_after,
        revoked_at: None,
    }
}

fn request_from_entry(entry: &IndexEntry, validity: Duration) -> LeafRequest {
    LeafRequest {
        dns_names: entry.dns_names.clone(),
        ips: entry.ips.clone(),
        subject: entry.subject.clone(),
        validity,
        ..LeafRequest::new(entry.name.clone(), entry.kind)
    }
}

fn sorted<T: Ord>(mut v: Vec<T>) -> Vec<T> {
    v.sort();
    v.dedup();
    v
}

fn ensure_dir(dir: &Path) -> Result<(), IssueError> {
    fsio::ensure_private_dir(dir).map_err(|source| IssueError::Io {
        path: dir.to_owned(),
        source,
    })
}

fn read(path: &Path) -> Result<Vec<u8>, IssueError> {
    fs::read(path).map_err(|source| IssueError::Io {
        path: path.to_owned(),
        source,
    })
}

fn write(path: &Path, contents: &[u8], mode: u32) -> Result<(), IssueError> {
    fsio::write_atomic(path, contents, mode).map_err(|source| IssueError::Io {
        path: path.to_owned(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CaOptions, Layout};

    fn authority() -> (tempfile::TempDir, Authority) {
        let dir = tempfile::tempdir().unwrap();
        let ca = Authority::init(&Layout::new(dir.path()), &CaOptions::default(), None).unwrap();
        (dir, ca)
    }

    fn server(name: &str) -> LeafRequest {
        LeafRequest {
            dns_names: vec![format!("{name}.example.test")],
            ..LeafRequest::new(name, LeafKind::Server)
        }
    }

    #[test]
    fn validity_out_of_range_is_refused_not_a_panic() {
        let (_dir, ca) = authority();
        for days in [0, -1, 99_999_999_999] {
            let request = LeafRequest {
                validity: Duration::days(days),
                ..server("z2")
            };
            let e = ca.issue(&request, Reuse::Never).unwrap_err();
            assert!(matches!(e, IssueError::Validity { .. }), "{days}: {e}");
        }
    }

    #[test]
    fn san_that_is_no_dns_name_is_refused() {
        let (_dir, ca) = authority();
        for bad in ["", "bad name!"] {
            let request = LeafRequest {
                dns_names: vec![bad.into()],
                ..server("web1")
            };
            let e = ca.issue(&request, Reuse::Never).unwrap_err();
            assert_eq!(
                e.to_string(),
                format!(
                    "{bad:?} is not a DNS name: use letters, digits and `-` in dot-separated labels, optionally after `*.`"
                )
            );
        }
    }

    #[test]
    fn reuse_keeps_a_good_certificate_and_reissues_on_new_names() {
        let (_dir, ca) = authority();
        let first = ca
            .issue(&server("host1"), Reuse::IfValidFor(Duration::days(30)))
            .unwrap();
        let again = ca
            .issue(&server("host1"), Reuse::IfValidFor(Duration::days(30)))
            .unwrap();
        assert_eq!(again, IssueOutcome::Reused(first.entry().clone()));

        let mut more = server("host1");
        more.dns_names.push("host1.other.test".into());
        let changed = ca
            .issue(&more, Reuse::IfValidFor(Duration::days(30)))
            .unwrap();
        assert!(matches!(changed, IssueOutcome::Issued(_)));

        let too_long = ca
            .issue(&more, Reuse::IfValidFor(Duration::days(400)))
            .unwrap();
        assert!(matches!(too_long, IssueOutcome::Issued(_)));
    }

    #[test]
    fn renew_keeps_names_and_changes_serial_and_key() {
        let (_dir, ca) = authority();
        let old = ca.issue(&server("host1"), Reuse::Never).unwrap();
        let key_path = ca.layout().issued_dir("host1").join("serverkey.pem");
        let old_key = fs::read(&key_path).unwrap();
        let renewed = ca.renew("host1", Duration::days(365)).unwrap();
        assert_eq!(renewed.len(), 1);
        assert_eq!(renewed[0].dns_names, old.entry().dns_names);
        assert_ne!(renewed[0].serial, old.entry().serial);
        assert_ne!(fs::read(&key_path).unwrap(), old_key);
        assert!(matches!(
            ca.renew("nobody", Duration::days(1)),
            Err(IssueError::NotIssued { .. })
        ));
    }

    #[test]
    fn bad_names_are_refused() {
        for name in ["", "../x", "a/b", ".hidden", "a b"] {
            assert!(check_member_name(name).is_err(), "{name}");
        }
        check_member_name("host-1.lab_a").unwrap();
    }

    #[test]
    fn admin_credentials_land_in_pkipath_layout() {
        let (_dir, ca) = authority();
        ca.issue(&LeafRequest::new("admin", LeafKind::Client), Reuse::Never)
            .unwrap();
        let dir = ca.install_admin("admin").unwrap();
        for file in ["cacert.pem", "clientcert.pem", "clientkey.pem"] {
            assert!(dir.join(file).exists(), "{file}");
        }
        assert_eq!(fsio::mode_of(&dir.join("clientkey.pem")).unwrap(), 0o600);
    }
}
