//! The files a lab host is made of: its private `/etc/libvirt`, `/etc/pki`
//! and friends, its init and restart scripts, its sshd configuration.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::error::{Result, io};

/// Where set-up (`scripts/setup-system.sh`) leaves the stock config and
/// the test guest's kernel and initramfs.
pub const CACHE: &str = "/var/cache/vmctl-lab";

/// Private directories of a host: (directory under the host's dir, mount point).
pub const PRIVATE_DIRS: &[(&str, &str)] = &[
    ("etc-libvirt", "/etc/libvirt"),
    ("etc-pki", "/etc/pki"),
    ("etc-sudoers.d", "/etc/sudoers.d"),
    ("run-libvirt", "/run/libvirt"),
    ("var-lib-libvirt", "/var/lib/libvirt"),
    ("var-cache-libvirt", "/var/cache/libvirt"),
    ("var-log-libvirt", "/var/log/libvirt"),
];

/// Private files of a host: copies of the admin's, bind-mounted over them.
pub const PRIVATE_FILES: &[&str] = &["hosts", "passwd", "group", "shadow", "gshadow"];

/// Where the host's libvirtd writes its pid (inside the private /run/libvirt).
pub const LIBVIRTD_PID: &str = "/run/libvirt/libvirtd-lab.pid";

/// The QEMU settings that run guests without systemd, cgroups or virtlogd.
const QEMU_CONF: &str = r#"# Lab host: guests run as root without cgroups, virtlogd or a security driver.
user = "root"
group = "root"
dynamic_ownership = 0
security_driver = "none"
cgroup_controllers = [ ]
stdio_handler = "file"
"#;

/// Writes a file with a mode.
pub fn write(path: &Path, contents: &str, mode: u32) -> Result<()> {
    fs::write(path, contents).map_err(io(path))?;
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).map_err(io(path))
}

/// Lays out the private directories and the libvirt configuration of a
/// fresh host: Debian's stock `libvirtd.conf` (TLS off), plus the lab's
/// own host UUID and log file.
pub fn lay_out(dir: &Path, uuid: &str, hosts: &str) -> Result<()> {
    for (sub, _) in PRIVATE_DIRS {
        fs::create_dir_all(dir.join(sub)).map_err(io(dir.join(sub)))?;
    }
    for sub in [
        "var-log-libvirt/qemu",
        "var-lib-libvirt/images",
        "ssh/authorized_keys",
        "home",
    ] {
        fs::create_dir_all(dir.join(sub)).map_err(io(dir.join(sub)))?;
    }
    fs::set_permissions(dir.join("etc-sudoers.d"), fs::Permissions::from_mode(0o750))
        .map_err(io(dir.join("etc-sudoers.d")))?;

    let stock = Path::new(CACHE).join("stock/libvirtd.conf");
    let mut conf = fs::read_to_string(&stock).map_err(io(&stock))?;
    conf.push_str(&format!(
        "\n# Lab host: its own identity and log.\nhost_uuid = \"{uuid}\"\n\
         log_outputs = \"3:file:/var/log/libvirt/libvirtd.log\"\n"
    ));
    let etc = dir.join("etc-libvirt");
    write(&etc.join("libvirtd.conf"), &conf, 0o644)?;
    write(&etc.join("qemu.conf"), QEMU_CONF, 0o600)?;
    for name in ["libvirt.conf", "libvirt-admin.conf"] {
        let src = Path::new("/etc/libvirt").join(name);
        if src.exists() {
            fs::copy(&src, etc.join(name)).map_err(io(&src))?;
        }
    }

    for name in PRIVATE_FILES {
        let src = Path::new("/etc").join(name);
        let text = fs::read_to_string(&src).unwrap_or_default();
        let text = if *name == "hosts" {
            format!("{text}{hosts}")
        } else {
            text
        };
        let mode = if name.ends_with("shadow") {
            0o640
        } else {
            0o644
        };
        write(&dir.join(name), &text, mode)?;
    }
    Ok(())
}

/// The script that restarts the host's libvirtd the way an init system
/// would: stop it, start it again (with `--listen` when the config turns a
/// listener on) and wait until it answers. Exits non-zero if it does not.
pub fn restart_script() -> String {
    format!(
        r#"#!/bin/sh
# Restarts this lab host's libvirtd (there is no systemd in the lab).
pidfile={LIBVIRTD_PID}
conf=/etc/libvirt/libvirtd.conf
if [ -s "$pidfile" ]; then
  pid=$(cat "$pidfile")
  kill "$pid" 2>/dev/null
  i=0
  while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
  kill -9 "$pid" 2>/dev/null
  rm -f "$pidfile"
fi
args="--daemon --pid-file $pidfile"
if grep -Eq '^[[:space:]]*listen_(tls|tcp)[[:space:]]*=[[:space:]]*1' "$conf"; then
  args="$args --listen"
fi
/usr/sbin/libvirtd $args || {{ echo "libvirtd failed to start" >&2; exit 1; }}
i=0
while [ $i -lt 150 ]; do
  virsh -q -c qemu:///system uri >/dev/null 2>&1 && exit 0
  sleep 0.1; i=$((i+1))
done
echo "libvirtd did not answer on its socket" >&2
exit 1
"#
    )
}

/// The script that becomes the host: it enters private mounts and a
/// hostname, starts libvirtd and sshd, and then holds the namespaces.
pub fn init_script(dir: &Path, name: &str) -> String {
    let d = dir.display();
    let mut s = format!("#!/bin/sh\nset -e\nhostname {name}\n");
    for (sub, target) in PRIVATE_DIRS {
        s.push_str(&format!(
            "mkdir -p {target}\nmount --bind {d}/{sub} {target}\n"
        ));
    }
    for file in PRIVATE_FILES {
        s.push_str(&format!(
            "[ -e /etc/{file} ] && mount --bind {d}/{file} /etc/{file}\n"
        ));
    }
    s.push_str(&format!(
        "echo $$ > {d}/holder.pid\n\
         {d}/restart-libvirtd\n\
         /usr/sbin/sshd -f {d}/ssh/sshd_config -E {d}/ssh/sshd.log\n\
         touch {d}/ready\n\
         exec sleep infinity\n"
    ));
    s
}

/// sshd's configuration: the host's own key, keys authorized per user
/// from the host's dir, listening on the host's address only.
pub fn sshd_config(dir: &Path, address: &str) -> String {
    let d = dir.display();
    format!(
        "ListenAddress {address}\n\
         HostKey {d}/ssh/ssh_host_ed25519_key\n\
         PidFile {d}/ssh/sshd.pid\n\
         AuthorizedKeysFile {d}/ssh/authorized_keys/%u\n\
         PermitRootLogin prohibit-password\n\
         PasswordAuthentication no\n\
         KbdInteractiveAuthentication no\n\
         UsePAM no\n\
         StrictModes no\n\
         Subsystem sftp internal-sftp\n"
    )
}
