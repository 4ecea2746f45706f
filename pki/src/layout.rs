//! Where the CA keeps its files under the PKI directory.
//!
//! ```text
//! ca/cacert.pem ca/cakey.pem ca/crl.pem ca/index.json
//! issued/NAME/{servercert,serverkey,clientcert,clientkey}.pem
//! admin/{cacert,clientcert,clientkey}.pem   (libvirt's `?pkipath=` layout)
//! ```

use std::path::{Path, PathBuf};

/// The paths of one PKI directory. Pure path arithmetic: nothing is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    root: PathBuf,
}

impl Layout {
    /// The layout rooted at `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The PKI directory itself.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The directory holding the CA's own files.
    pub fn ca_dir(&self) -> PathBuf {
        self.root.join("ca")
    }

    /// The CA certificate.
    pub fn ca_cert(&self) -> PathBuf {
        self.ca_dir().join("cacert.pem")
    }

    /// The CA private key (PKCS#8, possibly encrypted).
    pub fn ca_key(&self) -> PathBuf {
        self.ca_dir().join("cakey.pem")
    }

    /// The CA's current certificate revocation list.
    pub fn crl(&self) -> PathBuf {
        self.ca_dir().join("crl.pem")
    }

    /// The index of issued certificates.
    pub fn index(&self) -> PathBuf {
        self.ca_dir().join("index.json")
    }

    /// The directory of one fleet member's certificates and keys.
    pub fn issued_dir(&self, name: &str) -> PathBuf {
        self.root.join("issued").join(name)
    }

    /// The admin's client credentials, usable as libvirt's `?pkipath=`.
    pub fn admin_dir(&self) -> PathBuf {
        self.root.join("admin")
    }
}

/// The files of one member in its `issued/NAME` directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberFiles {
    /// The server certificate.
    pub server_cert: PathBuf,
    /// The server private key.
    pub server_key: PathBuf,
    /// The client certificate.
    pub client_cert: PathBuf,
    /// The client private key.
    pub client_key: PathBuf,
}

impl MemberFiles {
    /// The files under `dir`.
    pub fn in_dir(dir: &Path) -> Self {
        Self {
            server_cert: dir.join("servercert.pem"),
            server_key: dir.join("serverkey.pem"),
            client_cert: dir.join("clientcert.pem"),
            client_key: dir.join("clientkey.pem"),
        }
    }
}
