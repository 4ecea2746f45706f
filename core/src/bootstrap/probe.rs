//! What a host looks like before vmctl changes it: its clock, how libvirt
//! is started there, which group QEMU runs in, the config text, and a
//! checksum of each file vmctl may install. One script, read-only.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::error::HostError;
use crate::ssh::{Session, quote};

/// How libvirt is (re)started on a host.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind", content = "command")]
pub enum RestartMethod {
    /// Monolithic `libvirtd` with systemd socket units (`libvirtd-tls.socket`).
    SystemdMonolithic,
    /// Modular daemons: remote access through `virtproxyd-tls.socket`.
    SystemdModular,
    /// The inventory's `restart_command`.
    Command(String),
}

impl RestartMethod {
    /// The daemon config holding the TLS settings for this method.
    pub fn config_path(&self) -> &'static str {
        match self {
            Self::SystemdModular => "/etc/libvirt/virtproxyd.conf",
            _ => "/etc/libvirt/libvirtd.conf",
        }
    }

    /// The shell script that turns the TLS listener on and restarts.
    pub fn script(&self) -> String {
        let systemd = |daemon: &str| {
            format!(
                "systemctl stop {daemon}.service; systemctl enable {daemon}-tls.socket && \
                 systemctl restart {daemon}.socket {daemon}-tls.socket && \
                 systemctl start {daemon}.service"
            )
        };
        match self {
            // TODO(#4): the systemd paths are not exercised by the lab,
            // which has no systemd; they follow libvirt's documented units.
            Self::SystemdMonolithic => systemd("libvirtd"),
            Self::SystemdModular => systemd("virtproxyd"),
            Self::Command(command) => command.clone(),
        }
    }
}

/// The state of a host as probed.
#[derive(Debug, Clone)]
pub(crate) struct Probe {
    /// The host's clock, seconds since the epoch.
    pub now: i64,
    /// `systemd-modular`, `systemd-monolithic` or `none`.
    pub systemd: String,
    /// The group QEMU runs as, when it exists on the host and is not root.
    pub qemu_group: Option<String>,
    /// SHA-256 (hex) of each probed file; `None` when absent.
    pub sums: BTreeMap<PathBuf, Option<String>>,
}

/// Probes the host over `session`, checksumming `paths`.
pub(crate) async fn probe(session: &Session, paths: &[PathBuf]) -> Result<Probe, HostError> {
    let script = probe_script(paths);
    let output = session
        .run_as_root("probe", &script, None)
        .await
        .map_err(|source| remote(session, "probe the host", source))?;
    parse(session.host(), &output.stdout_text())
}

/// The text of the daemon config at `path` (empty when absent).
pub(crate) async fn read_config(session: &Session, path: &str) -> Result<String, HostError> {
    let cat = format!("cat {} 2>/dev/null || true", quote(path));
    let output = session
        .run_as_root("read the daemon config", &cat, None)
        .await
        .map_err(|source| remote(session, "read the daemon config", source))?;
    Ok(output.stdout_text())
}

fn remote(session: &Session, action: &'static str, source: crate::ssh::ExecError) -> HostError {
    HostError::Remote {
        host: session.host().to_owned(),
        action,
        source: Box::new(source),
    }
}

fn probe_script(paths: &[PathBuf]) -> String {
    let mut s = String::from(
        "echo now=$(date -u +%s)\n\
         s=none\n\
         if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then\n\
           if systemctl is-enabled virtqemud.socket >/dev/null 2>&1; then s=systemd-modular\n\
           elif systemctl cat libvirtd-tls.socket >/dev/null 2>&1; then s=systemd-monolithic; fi\n\
         fi\n\
         echo systemd=$s\n\
         g=$(sed -n 's/^[[:space:]]*group[[:space:]]*=[[:space:]]*\"\\([^\"]*\\)\".*/\\1/p' /etc/libvirt/qemu.conf 2>/dev/null | tail -n 1)\n\
         g=${g:-libvirt-qemu}\n\
         if [ \"$g\" != root ] && getent group \"$g\" >/dev/null 2>&1; then echo qemu_group=$g; fi\n",
    );
    for path in paths {
        let p = quote(&path.to_string_lossy());
        s.push_str(&format!(
            "if [ -f {p} ]; then echo \"sum=$(sha256sum < {p} | cut -d' ' -f1) \"{p}; else echo sum=- {p}; fi\n"
        ));
    }
    s
}

fn parse(host: &str, text: &str) -> Result<Probe, HostError> {
    let bad = |detail: &str| HostError::Probe {
        host: host.to_owned(),
        detail: detail.to_owned(),
    };
    let mut probe = Probe {
        now: 0,
        systemd: String::new(),
        qemu_group: None,
        sums: BTreeMap::new(),
    };
    for line in text.lines() {
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        match key {
            "now" => probe.now = value.trim().parse().map_err(|_| bad(line))?,
            "systemd" => probe.systemd = value.trim().to_owned(),
            "qemu_group" => probe.qemu_group = Some(value.trim().to_owned()),
            "sum" => {
                let (sum, path) = value.split_once(' ').ok_or_else(|| bad(line))?;
                let sum = (sum != "-").then(|| sum.to_owned());
                probe.sums.insert(PathBuf::from(path), sum);
            }
            _ => {}
        }
    }
    if probe.now == 0 {
        return Err(bad("no clock reading"));
    }
    Ok(probe)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_probe_output() {
        let text = "now=1700000000\nsystemd=none\nqemu_group=libvirt-qemu\n\
                    sum=abc /etc/pki/CA/cacert.pem\nsum=- /etc/pki/CA/cacrl.pem\n";
        let probe = parse("h", text).unwrap();
        assert_eq!(probe.now, 1_700_000_000);
        assert_eq!(probe.qemu_group.as_deref(), Some("libvirt-qemu"));
        assert_eq!(
            probe.sums[&PathBuf::from("/etc/pki/CA/cacert.pem")].as_deref(),
            Some("abc")
        );
        assert_eq!(probe.sums[&PathBuf::from("/etc/pki/CA/cacrl.pem")], None);
        assert!(parse("h", "systemd=none\n").is_err());
    }

    #[test]
    fn modular_hosts_keep_tls_settings_in_virtproxyd_conf() {
        assert_eq!(
            RestartMethod::SystemdModular.config_path(),
            "/etc/libvirt/virtproxyd.conf"
        );
        assert!(
            RestartMethod::SystemdMonolithic
                .script()
                .contains("libvirtd-tls.socket")
        );
    }
}
