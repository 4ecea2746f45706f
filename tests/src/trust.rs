//! A test fixture that makes lab hosts trust a test CA and the admin
//! without `vmctl bootstrap`: certificates are written straight into each
//! host's private `/etc/pki`, the TLS listener is turned on in its
//! `libvirtd.conf`, and its daemon restarted.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use vmctl_pki::{
    Authority, CaOptions, Layout, LeafKind, LeafRequest, QemuKeyAccess, Reuse, host_install_set,
};

use crate::error::{LabError, Result, io};
use crate::{Host, Lab};

/// Creates a CA in `<lab dir>/pki`, issues every host's server and client
/// certificates and the admin's (installed in `<lab dir>/pki/admin`),
/// installs them on the hosts, restarts their daemons with the TLS listener
/// on, and writes the lab's inventory to `<lab dir>/vmctl.toml`, whose path
/// it returns.
pub fn install(lab: &Lab) -> Result<PathBuf> {
    let layout = Layout::new(lab.dir().join("pki"));
    let ca = Authority::init(&layout, &CaOptions::default(), None).map_err(invalid)?;
    issue(&ca, LeafRequest::new("admin", LeafKind::Client))?;
    ca.install_admin("admin").map_err(invalid)?;
    for host in lab.hosts() {
        let mut server = LeafRequest::new(host.name(), LeafKind::Server);
        server.dns_names = vec![host.name().to_owned()];
        server.ips = vec![host.address().into()];
        issue(&ca, server)?;
        issue(&ca, LeafRequest::new(host.name(), LeafKind::Client))?;
        install_on(host, &layout)?;
    }
    let inventory = lab.dir().join("vmctl.toml");
    let text = lab.inventory(layout.root());
    fs::write(&inventory, text).map_err(io(&inventory))?;
    Ok(inventory)
}

fn issue(ca: &Authority, request: LeafRequest) -> Result<()> {
    ca.issue(&request, Reuse::Never)
        .map(|_| ())
        .map_err(invalid)
}

/// Writes the host's files into its private `/etc/pki`, turns the TLS
/// listener on and restarts its daemon.
fn install_on(host: &Host, layout: &Layout) -> Result<()> {
    let set = host_install_set(layout, host.name(), &QemuKeyAccess::Root).map_err(invalid)?;
    for file in &set.files {
        let path = host.private_path(&file.remote.to_string_lossy());
        write(&path, &file.contents, file.mode)?;
    }
    let conf = host.private_path("/etc/libvirt/libvirtd.conf");
    let mut text = fs::read_to_string(&conf).map_err(io(&conf))?;
    text.push_str("\n# Test trust fixture: TLS listener on.\nlisten_tls = 1\n");
    fs::write(&conf, text).map_err(io(&conf))?;
    host.restart_daemon()?;

    // Check TLS with the host's own client certificate, and warm the
    // daemon up: its first version query probes QEMU, which takes seconds.
    let uri = format!("qemu+tls://{}/system", host.name());
    host.exec("virsh", &["-q", "-c", &uri, "version"])
        .map(|_| ())
}

fn write(path: &Path, contents: &[u8], mode: u32) -> Result<()> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(io(parent))?;
    }
    fs::write(path, contents).map_err(io(path))?;
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).map_err(io(path))
}

fn invalid(e: impl std::fmt::Display) -> LabError {
    LabError::Invalid(format!("test trust: {e}"))
}
