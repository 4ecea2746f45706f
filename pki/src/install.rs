//! What a host must receive so that libvirt and QEMU trust the fleet: each
//! file's contents, its path on the host, its mode, owner and group. The
//! bootstrap code copies an [`InstallSet`] over SSH; nothing here connects.

use std::fmt;
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use crate::Layout;
use crate::layout::MemberFiles;

/// Who may read QEMU's private keys on the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QemuKeyAccess {
    /// QEMU runs as an unprivileged user: keys 0640 `root:GROUP`.
    Group(String),
    /// QEMU runs as root: keys 0600 `root:root`.
    Root,
}

impl Default for QemuKeyAccess {
    fn default() -> Self {
        Self::Group("libvirt-qemu".into())
    }
}

/// One file to place on a host.
pub struct InstallFile {
    /// The file's contents (a key is wiped from memory when dropped).
    pub contents: Zeroizing<Vec<u8>>,
    /// Absolute path on the host.
    pub remote: PathBuf,
    /// Permission bits.
    pub mode: u32,
    /// Owning user.
    pub owner: String,
    /// Owning group.
    pub group: String,
    /// True for private keys: never print the contents.
    pub secret: bool,
}

impl fmt::Debug for InstallFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InstallFile")
            .field("remote", &self.remote)
            .field("mode", &format_args!("{:o}", self.mode))
            .field("owner", &self.owner)
            .field("group", &self.group)
            .field("bytes", &self.contents.len())
            .finish()
    }
}

/// Every file one host needs, for libvirt and for QEMU.
#[derive(Debug)]
pub struct InstallSet {
    /// The host's member name.
    pub host: String,
    /// The files, in the order they should be written (CA first).
    pub files: Vec<InstallFile>,
}

/// Why an install set could not be assembled.
#[derive(Debug, thiserror::Error)]
pub enum InstallSetError {
    /// A local file is missing or unreadable (not issued yet?).
    #[error("could not read {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Where each source goes, for libvirt and QEMU: (libvirt path, QEMU path, is key).
const TARGETS: [(Source, &str, &str, bool); 6] = [
    (
        Source::CaCert,
        "/etc/pki/CA/cacert.pem",
        "/etc/pki/qemu/ca-cert.pem",
        false,
    ),
    (
        Source::Crl,
        "/etc/pki/CA/cacrl.pem",
        "/etc/pki/qemu/ca-crl.pem",
        false,
    ),
    (
        Source::ServerCert,
        "/etc/pki/libvirt/servercert.pem",
        "/etc/pki/qemu/server-cert.pem",
        false,
    ),
    (
        Source::ServerKey,
        "/etc/pki/libvirt/private/serverkey.pem",
        "/etc/pki/qemu/server-key.pem",
        true,
    ),
    (
        Source::ClientCert,
        "/etc/pki/libvirt/clientcert.pem",
        "/etc/pki/qemu/client-cert.pem",
        false,
    ),
    (
        Source::ClientKey,
        "/etc/pki/libvirt/private/clientkey.pem",
        "/etc/pki/qemu/client-key.pem",
        true,
    ),
];

#[derive(Clone, Copy)]
enum Source {
    CaCert,
    Crl,
    ServerCert,
    ServerKey,
    ClientCert,
    ClientKey,
}

/// The files host `name` needs: CA certificate, CRL, its server and client
/// certificates and keys, each at libvirt's and at QEMU's path.
pub fn host_install_set(
    layout: &Layout,
    name: &str,
    qemu: &QemuKeyAccess,
) -> Result<InstallSet, InstallSetError> {
    let member = MemberFiles::in_dir(&layout.issued_dir(name));
    let mut files = Vec::new();
    for (source, libvirt_path, qemu_path, secret) in TARGETS {
        let contents = read(&source_path(layout, &member, source))?;
        files.push(libvirt_file(contents.clone(), libvirt_path, secret));
        files.push(qemu_file(contents, qemu_path, secret, qemu));
    }
    Ok(InstallSet {
        host: name.to_owned(),
        files,
    })
}

fn source_path(layout: &Layout, member: &MemberFiles, source: Source) -> PathBuf {
    match source {
        Source::CaCert => layout.ca_cert(),
        Source::Crl => layout.crl(),
        Source::ServerCert => member.server_cert.clone(),
        Source::ServerKey => member.server_key.clone(),
        Source::ClientCert => member.client_cert.clone(),
        Source::ClientKey => member.client_key.clone(),
    }
}

fn libvirt_file(contents: Zeroizing<Vec<u8>>, path: &str, secret: bool) -> InstallFile {
    let mode = if secret { 0o600 } else { 0o644 };
    InstallFile {
        contents,
        remote: path.into(),
        mode,
        owner: "root".into(),
        group: "root".into(),
        secret,
    }
}

fn qemu_file(
    contents: Zeroizing<Vec<u8>>,
    path: &str,
    secret: bool,
    qemu: &QemuKeyAccess,
) -> InstallFile {
    let (mode, group) = match (secret, qemu) {
        (false, _) => (0o644, "root".to_owned()),
        (true, QemuKeyAccess::Group(group)) => (0o640, group.clone()),
        (true, QemuKeyAccess::Root) => (0o600, "root".to_owned()),
    };
    InstallFile {
        contents,
        remote: path.into(),
        mode,
        owner: "root".into(),
        group,
        secret,
    }
}

fn read(path: &Path) -> Result<Zeroizing<Vec<u8>>, InstallSetError> {
    std::fs::read(path)
        .map(Zeroizing::new)
        .map_err(|source| InstallSetError::Read {
            path: path.to_owned(),
            source,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Authority, CaOptions, LeafKind, LeafRequest, Reuse};

    #[test]
    fn host_gets_both_halves_at_libvirt_and_qemu_paths() {
        let dir = tempfile::tempdir().unwrap();
        let ca = Authority::init(&Layout::new(dir.path()), &CaOptions::default(), None).unwrap();
        for kind in [LeafKind::Server, LeafKind::Client] {
            ca.issue(&LeafRequest::new("host1", kind), Reuse::Never)
                .unwrap();
        }
        let set = host_install_set(ca.layout(), "host1", &QemuKeyAccess::default()).unwrap();
        assert_eq!(set.files.len(), 12);

        let find = |p: &str| set.files.iter().find(|f| f.remote == Path::new(p)).unwrap();
        assert_eq!(find("/etc/pki/libvirt/private/serverkey.pem").mode, 0o600);
        let qemu_key = find("/etc/pki/qemu/client-key.pem");
        assert_eq!(
            (qemu_key.mode, qemu_key.group.as_str()),
            (0o640, "libvirt-qemu")
        );
        assert_eq!(find("/etc/pki/CA/cacrl.pem").mode, 0o644);
        assert!(!format!("{qemu_key:?}").contains("PRIVATE"));
    }

    #[test]
    fn root_qemu_keys_are_owner_only() {
        let file = qemu_file(Zeroizing::new(vec![]), "/k", true, &QemuKeyAccess::Root);
        assert_eq!((file.mode, file.group.as_str()), (0o600, "root"));
    }
}
