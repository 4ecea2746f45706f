//! The index of issued certificates (`ca/index.json`): what `list` shows,
//! what `renew` reissues and what the CRL is made from.

use std::net::IpAddr;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::fsio::{self, PUBLIC_FILE};
use crate::{Layout, LeafKind, Subject};

/// One certificate the CA issued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexEntry {
    /// The fleet member's name (CN).
    pub name: String,
    /// Server or client.
    pub kind: LeafKind,
    /// Serial number, lowercase hex.
    pub serial: String,
    /// C and O of the subject.
    pub subject: Subject,
    /// DNS names in SANs.
    pub dns_names: Vec<String>,
    /// IP addresses in SANs.
    pub ips: Vec<IpAddr>,
    /// Start of validity.
    #[serde(with = "time::serde::rfc3339")]
    pub not_before: OffsetDateTime,
    /// End of validity.
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
    /// When it was revoked, if it was.
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub revoked_at: Option<OffsetDateTime>,
}

/// Every certificate the CA issued, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Index {
    /// The number of the last CRL written.
    pub crl_number: u64,
    /// The issued certificates.
    pub certificates: Vec<IndexEntry>,
}

/// Why the index could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// Reading or writing failed.
    #[error("could not access the index {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The file is not a valid index.
    #[error("the index {path} is not valid")]
    Parse {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
}

impl Index {
    /// Reads the index under `layout`; a missing index is an empty one.
    pub fn read(layout: &Layout) -> Result<Self, IndexError> {
        let path = layout.index();
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(source) => return Err(IndexError::Io { path, source }),
        };
        serde_json::from_str(&text).map_err(|source| IndexError::Parse { path, source })
    }

    /// Writes the index under `layout` atomically.
    pub fn write(&self, layout: &Layout) -> Result<(), IndexError> {
        let path = layout.index();
        let text = serde_json::to_vec_pretty(self).map_err(|source| IndexError::Parse {
            path: path.clone(),
            source,
        })?;
        fsio::write_atomic(&path, &text, PUBLIC_FILE)
            .map_err(|source| IndexError::Io { path, source })
    }

    /// The newest unrevoked certificate of `name` and `kind`.
    pub fn current(&self, name: &str, kind: LeafKind) -> Option<&IndexEntry> {
        self.certificates
            .iter()
            .rev()
            .find(|e| e.name == name && e.kind == kind && e.revoked_at.is_none())
    }

    /// The newest certificate of `name` and `kind`, revoked or not.
    pub fn latest(&self, name: &str, kind: LeafKind) -> Option<&IndexEntry> {
        self.certificates
            .iter()
            .rev()
            .find(|e| e.name == name && e.kind == kind)
    }

    /// The names of every member with a certificate, sorted, once each.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.certificates.iter().map(|e| e.name.clone()).collect();
        names.sort();
        names.dedup();
        names
    }

    /// Every revoked certificate.
    pub fn revoked(&self) -> impl Iterator<Item = &IndexEntry> {
        self.certificates.iter().filter(|e| e.revoked_at.is_some())
    }
}
