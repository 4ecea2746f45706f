//! The sets of files validation looks at: a host's libvirt or QEMU
//! directory, a `?pkipath=` directory, or a member's files in the PKI dir.

use std::path::{Path, PathBuf};

use crate::layout::MemberFiles;
use crate::{Layout, LeafKind};

/// Which private key modes are acceptable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyModes {
    /// Only the owner may read keys (0600 or stricter).
    OwnerOnly,
    /// The group may read keys too (0640), as QEMU running unprivileged needs.
    GroupReadable,
}

/// A certificate and its key, in a role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeafFiles {
    /// Server or client.
    pub role: LeafKind,
    /// The certificate.
    pub cert: PathBuf,
    /// Its private key.
    pub key: PathBuf,
}

/// A CA certificate, an optional CRL and the leaves to check against them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileSet {
    /// The CA certificate.
    pub ca_cert: PathBuf,
    /// The CRL; a missing file is skipped, as libvirt does.
    pub crl: Option<PathBuf>,
    /// The leaves.
    pub leaves: Vec<LeafFiles>,
    /// Acceptable key modes.
    pub key_modes: KeyModes,
}

impl FileSet {
    /// libvirt's files under `root` (`/` on a host): `etc/pki/CA`, `etc/pki/libvirt`.
    pub fn libvirt(root: &Path) -> Self {
        let pki = root.join("etc/pki");
        let libvirt = pki.join("libvirt");
        Self {
            ca_cert: pki.join("CA/cacert.pem"),
            crl: Some(pki.join("CA/cacrl.pem")),
            leaves: vec![
                leaf(
                    LeafKind::Server,
                    libvirt.join("servercert.pem"),
                    libvirt.join("private/serverkey.pem"),
                ),
                leaf(
                    LeafKind::Client,
                    libvirt.join("clientcert.pem"),
                    libvirt.join("private/clientkey.pem"),
                ),
            ],
            key_modes: KeyModes::OwnerOnly,
        }
    }

    /// QEMU's files in `dir` (`/etc/pki/qemu` on a host).
    pub fn qemu(dir: &Path) -> Self {
        Self {
            ca_cert: dir.join("ca-cert.pem"),
            crl: Some(dir.join("ca-crl.pem")),
            leaves: vec![
                leaf(
                    LeafKind::Server,
                    dir.join("server-cert.pem"),
                    dir.join("server-key.pem"),
                ),
                leaf(
                    LeafKind::Client,
                    dir.join("client-cert.pem"),
                    dir.join("client-key.pem"),
                ),
            ],
            key_modes: KeyModes::GroupReadable,
        }
    }

    /// A `?pkipath=` directory: the client files, server files if present,
    /// and the CRL beside them when there is one.
    pub fn pkipath(dir: &Path) -> Self {
        let mut leaves = vec![leaf(
            LeafKind::Client,
            dir.join("clientcert.pem"),
            dir.join("clientkey.pem"),
        )];
        if dir.join("servercert.pem").exists() {
            leaves.push(leaf(
                LeafKind::Server,
                dir.join("servercert.pem"),
                dir.join("serverkey.pem"),
            ));
        }
        Self {
            ca_cert: dir.join("cacert.pem"),
            crl: Some(dir.join("cacrl.pem")),
            leaves,
            key_modes: KeyModes::OwnerOnly,
        }
    }

    /// The CA certificate and CRL of the PKI directory, no leaves.
    pub fn authority(layout: &Layout) -> Self {
        Self {
            ca_cert: layout.ca_cert(),
            crl: Some(layout.crl()),
            leaves: Vec::new(),
            key_modes: KeyModes::OwnerOnly,
        }
    }

    /// Member `name`'s issued files in the PKI directory, with the CA's CRL.
    pub fn member(layout: &Layout, name: &str) -> Self {
        let files = MemberFiles::in_dir(&layout.issued_dir(name));
        let leaves = [
            leaf(LeafKind::Server, files.server_cert, files.server_key),
            leaf(LeafKind::Client, files.client_cert, files.client_key),
        ]
        .into_iter()
        .filter(|l| l.cert.exists() || l.key.exists())
        .collect();
        Self {
            ca_cert: layout.ca_cert(),
            crl: Some(layout.crl()),
            leaves,
            key_modes: KeyModes::OwnerOnly,
        }
    }

    /// Guesses the layout of `dir`: QEMU's, a root holding `etc/pki`, or
    /// a `?pkipath=` directory.
    pub fn detect(dir: &Path) -> Self {
        if dir.join("ca-cert.pem").exists() {
            Self::qemu(dir)
        } else if dir.join("etc/pki").is_dir() {
            Self::libvirt(dir)
        } else {
            Self::pkipath(dir)
        }
    }
}

fn leaf(role: LeafKind, cert: PathBuf, key: PathBuf) -> LeafFiles {
    LeafFiles { role, cert, key }
}
