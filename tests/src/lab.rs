//! A lab: a set of hosts on one private bridge, and the admin's side of it
//! (SSH key, known_hosts, name entries).

use std::fs;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use crate::cmd::run;
use crate::error::{LabError, Result, io};
use crate::host::{Host, HostPlan};
use crate::{hosts_file, net, reap};

/// What lab to bring up.
#[derive(Debug, Clone, Default)]
pub struct LabSpec {
    /// How many hosts.
    pub hosts: usize,
    /// Host names; default `hostI-lN`, unique to the lab so labs never collide.
    pub names: Option<Vec<String>>,
    /// For a person at a shell (the demo, `vmctl-lab up`): also authorize
    /// their own `~/.ssh/id_*.pub` keys, and add an ssh client config for
    /// the lab's hosts (its key and known_hosts) so that a plain
    /// `ssh root@host1` works; teardown removes it.
    pub authorize_user_keys: bool,
}

impl LabSpec {
    /// `n` hosts with names unique to the lab.
    pub fn hosts(n: usize) -> LabSpec {
        LabSpec {
            hosts: n,
            ..LabSpec::default()
        }
    }

    /// Hosts with the given names.
    pub fn named(names: &[&str]) -> LabSpec {
        LabSpec {
            hosts: names.len(),
            names: Some(names.iter().map(|n| n.to_string()).collect()),
            authorize_user_keys: false,
        }
    }
}

/// The longest host name: it becomes part of namespace and file names.
const MAX_NAME_LEN: usize = 40;

/// Checks host names one at a time (characters, then length) and then
/// together (count, duplicates), each with its own message.
fn check_host_names(names: &[String]) -> Result<()> {
    let invalid = |message: String| Err(LabError::Invalid(message));
    for name in names {
        let chars_ok = name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        if name.is_empty() || !chars_ok || name.starts_with('-') {
            return invalid(format!(
                "host name {name:?}: use letters, digits and '-' (not first) only"
            ));
        }
        if name.len() > MAX_NAME_LEN {
            return invalid(format!(
                "host name {name:?} has {} characters; at most {MAX_NAME_LEN}",
                name.len()
            ));
        }
    }
    if names.is_empty() || names.len() > 200 {
        return invalid("a lab has 1 to 200 hosts".into());
    }
    let mut seen = std::collections::BTreeSet::new();
    if let Some(twice) = names.iter().find(|n| !seen.insert(n.to_ascii_lowercase())) {
        return invalid(format!("host name {twice:?} is given twice"));
    }
    Ok(())
}

/// A running lab. Dropping it tears everything down.
#[derive(Debug)]
pub struct Lab {
    index: u8,
    dir: PathBuf,
    hosts: Vec<Host>,
    done: bool,
}

impl Lab {
    /// Brings up a lab; on failure, removes whatever it had made.
    pub fn start(spec: &LabSpec) -> Result<Lab> {
        crate::preflight::check()?;
        reap::reap_stale();
        let index = net::claim_bridge()?;
        let mut lab = Lab {
            index,
            dir: reap::lab_dir(index),
            hosts: Vec::new(),
            done: false,
        };
        // On error `lab` drops here and tears down what was made.
        lab.build(spec)?;
        Ok(lab)
    }

    fn build(&mut self, spec: &LabSpec) -> Result<()> {
        fs::create_dir_all(self.dir.join("admin")).map_err(io(&self.dir))?;
        reap::write_owner(self.index).map_err(io(&self.dir))?;
        let names = self.host_names(spec)?;
        let key = self.ssh_key();
        let key_arg = key.to_string_lossy();
        run(
            "ssh-keygen",
            &[
                "-q",
                "-t",
                "ed25519",
                "-N",
                "",
                "-C",
                "vmctl-lab-admin",
                "-f",
                &key_arg,
            ],
        )?;
        let authorized = authorized_keys(&key, spec.authorize_user_keys)?;

        let entries: Vec<(Ipv4Addr, Vec<String>)> = names
            .iter()
            .enumerate()
            .map(|(i, n)| (net::host_address(self.index, i + 1), vec![n.clone()]))
            .collect();
        hosts_file::add(self.index, &entries)?;
        let lines = hosts_file::lines(self.index, &entries);

        let plans: Vec<HostPlan> = names
            .iter()
            .enumerate()
            .map(|(i, name)| HostPlan {
                name,
                lab_index: self.index,
                slot: i + 1,
                dir: self.dir.join(name),
                hosts_lines: &lines,
                authorized_keys: &authorized,
            })
            .collect();
        let started: Vec<Result<Host>> = std::thread::scope(|s| {
            let handles: Vec<_> = plans.iter().map(|p| s.spawn(|| Host::start(p))).collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|_| Err(panicked())))
                .collect()
        });
        for host in started {
            self.hosts.push(host?);
        }
        self.write_known_hosts()?;
        if spec.authorize_user_keys {
            self.write_ssh_config()?;
        }
        Ok(())
    }

    fn write_ssh_config(&self) -> Result<()> {
        let names: Vec<&str> = self.hosts.iter().map(Host::name).collect();
        let text = format!(
            "# vmctl lab {}: removed when the lab is torn down
Host {}
  IdentityFile {}
  UserKnownHostsFile {}
",
            self.index,
            names.join(" "),
            self.ssh_key().display(),
            self.known_hosts().display()
        );
        let path = reap::ssh_config_path(self.index);
        match path.parent() {
            Some(dir) if dir.is_dir() => fs::write(&path, text).map_err(io(&path)),
            _ => Ok(()), // no ssh_config.d: people pass -i themselves
        }
    }

    fn host_names(&self, spec: &LabSpec) -> Result<Vec<String>> {
        let names = match &spec.names {
            Some(names) => names.clone(),
            None => (1..=spec.hosts)
                .map(|i| format!("host{i}-l{}", self.index))
                .collect(),
        };
        check_host_names(&names)?;
        Ok(names)
    }

    fn write_known_hosts(&self) -> Result<()> {
        let mut text = String::new();
        for host in &self.hosts {
            let pubkey = host.dir().join("ssh/ssh_host_ed25519_key.pub");
            let key = fs::read_to_string(&pubkey).map_err(io(&pubkey))?;
            let key: Vec<&str> = key.split_whitespace().take(2).collect();
            text.push_str(&format!(
                "{},{} {}\n",
                host.name(),
                host.address(),
                key.join(" ")
            ));
        }
        fs::write(self.known_hosts(), text).map_err(io(self.known_hosts()))
    }

    /// The lab's index (its bridge is `vmlabN`, its subnet 198.18.N.0/24).
    pub fn index(&self) -> u8 {
        self.index
    }

    /// The lab's directory on the admin machine.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The hosts, in order.
    pub fn hosts(&self) -> &[Host] {
        &self.hosts
    }

    /// The host named `name`.
    pub fn host(&self, name: &str) -> &Host {
        self.hosts
            .iter()
            .find(|h| h.name() == name)
            .unwrap_or_else(|| panic!("lab has no host {name}"))
    }

    /// Host number `i` (0-based).
    pub fn nth(&self, i: usize) -> &Host {
        &self.hosts[i]
    }

    /// Hosts where `guest` runs, as each host's own libvirtd says.
    pub fn running_on(&self, guest: &str) -> Result<Vec<String>> {
        self.hosts_with(guest, Host::running_guests)
    }

    /// Hosts where `guest` is defined, running or not.
    pub fn defined_on(&self, guest: &str) -> Result<Vec<String>> {
        self.hosts_with(guest, Host::defined_guests)
    }

    fn hosts_with(
        &self,
        guest: &str,
        list: fn(&Host) -> Result<Vec<String>>,
    ) -> Result<Vec<String>> {
        let mut names = Vec::new();
        for host in &self.hosts {
            if list(host)?.iter().any(|g| g == guest) {
                names.push(host.name().to_string());
            }
        }
        Ok(names)
    }

    /// The admin's private SSH key, authorized for root on every host.
    pub fn ssh_key(&self) -> PathBuf {
        self.dir.join("admin/id_ed25519")
    }

    /// A known_hosts file with every host's key.
    pub fn known_hosts(&self) -> PathBuf {
        self.dir.join("admin/known_hosts")
    }

    /// The admin's address on the lab's bridge.
    pub fn admin_address(&self) -> Ipv4Addr {
        net::admin_address(self.index)
    }

    /// A vmctl inventory for this lab, its PKI under `pki_dir`.
    pub fn inventory(&self, pki_dir: &Path) -> String {
        let mut s = format!(
            "# vmctl inventory for lab {}\n[pki]\ndir = \"{}\"\norganization = \"vmctl lab\"\n\n\
             [ssh]\nuser = \"root\"\nidentity = \"{}\"\nknown_hosts = \"{}\"\n",
            self.index,
            pki_dir.display(),
            self.ssh_key().display(),
            self.known_hosts().display()
        );
        for h in &self.hosts {
            s.push_str(&format!(
                "\n[hosts.{name}]\naddress = \"{name}\"\nips = [\"{ip}\"]\nrestart_command = \"{cmd}\"\n",
                name = h.name(),
                ip = h.address(),
                cmd = h.restart_command()
            ));
        }
        s
    }

    /// Tears the lab down now (dropping it does the same).
    pub fn teardown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        if self.done {
            return;
        }
        self.done = true;
        for host in &mut self.hosts {
            host.stop();
        }
        reap::teardown(self.index);
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        self.stop();
    }
}

fn panicked() -> LabError {
    LabError::Invalid("a host's start-up thread panicked".into())
}

fn authorized_keys(key: &Path, user_keys: bool) -> Result<String> {
    let pubkey = key.with_extension("pub");
    let mut keys = fs::read_to_string(&pubkey).map_err(io(&pubkey))?;
    if user_keys {
        let home = std::env::var("HOME").unwrap_or_else(|_| "/root".into());
        for kind in ["id_ed25519", "id_ecdsa", "id_rsa"] {
            let path = Path::new(&home).join(".ssh").join(format!("{kind}.pub"));
            if let Ok(k) = fs::read_to_string(&path) {
                keys.push_str(&k);
            }
        }
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(names: &[&str]) -> String {
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        match check_host_names(&names) {
            Ok(()) => "ok".into(),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn duplicate_and_overlong_host_names_are_told_apart() {
        assert_eq!(check(&["a1", "a2"]), "ok");
        assert!(check(&["a1", "a1"]).contains("\"a1\" is given twice"));
        assert!(check(&["a1", "A1"]).contains("given twice"));
        let long = "a".repeat(70);
        assert!(check(&[&long]).contains("has 70 characters; at most 40"));
        assert!(check(&["bad_name"]).contains("use letters, digits"));
        assert!(check(&["-a"]).contains("use letters, digits"));
        assert!(check(&[]).contains("1 to 200 hosts"));
    }
}
