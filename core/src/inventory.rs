//! The inventory: which hosts form the fleet, how to reach them over SSH,
//! and where the PKI lives.
//!
//! Read through figment, later sources overriding earlier ones: defaults,
//! `/etc/vmctl/vmctl.toml`, the user's config dir, `./vmctl.toml`,
//! `--config FILE` (which must exist), then `VMCTL_*` variables with `__`
//! between key parts (`VMCTL_PKI__DIR`). Missing files are skipped, and
//! [`Inventory::sources`] says which files were really read. The raw TOML
//! is parsed strictly (unknown keys are errors) and then validated into
//! typed values such as [`HostSpec`].

mod raw;
mod sources;
mod syntax;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::PathBuf;

pub use sources::{Environment, Sources};

/// The validated inventory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inventory {
    /// PKI settings.
    pub pki: PkiSettings,
    /// SSH settings shared by every host.
    pub ssh: SshSettings,
    /// The hosts, by name.
    pub hosts: BTreeMap<String, HostSpec>,
    /// The config files that were read, in order.
    pub sources: Vec<PathBuf>,
}

/// Where the CA lives and what goes in certificate subjects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PkiSettings {
    /// The PKI directory.
    pub dir: PathBuf,
    /// O of certificate subjects.
    pub organization: String,
    /// C of certificate subjects, two letters.
    pub country: Option<String>,
}

/// How to log in to hosts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshSettings {
    /// Remote user; not root means commands run through sudo.
    pub user: String,
    /// Private key file; the agent is used when absent.
    pub identity: Option<PathBuf>,
    /// known_hosts file that host keys are checked against.
    pub known_hosts: PathBuf,
}

/// One host of the fleet, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostSpec {
    /// The inventory name (certificate CN).
    pub name: String,
    /// What TLS URIs and SSH dial.
    pub address: String,
    /// More DNS names for the server certificate.
    pub names: Vec<String>,
    /// IP addresses for the server certificate.
    pub ips: Vec<IpAddr>,
    /// How to restart libvirt where there is no systemd.
    pub restart_command: Option<String>,
    /// SSH port.
    pub ssh_port: u16,
}

impl HostSpec {
    /// Every DNS name the server certificate must carry: the address (when
    /// it is a name), the inventory name and the extra names, once each.
    pub fn certificate_dns_names(&self) -> Vec<String> {
        let mut names = Vec::new();
        let address_is_ip = self.address.parse::<IpAddr>().is_ok();
        let candidates = (!address_is_ip).then_some(&self.address).into_iter();
        for name in candidates.chain([&self.name]).chain(&self.names) {
            if !names.iter().any(|n: &String| n.eq_ignore_ascii_case(name)) {
                names.push(name.clone());
            }
        }
        names
    }

    /// Every IP the server certificate must carry, the address included
    /// when it is one.
    pub fn certificate_ips(&self) -> Vec<IpAddr> {
        let mut ips = self.ips.clone();
        if let Ok(ip) = self.address.parse::<IpAddr>()
            && !ips.contains(&ip)
        {
            ips.insert(0, ip);
        }
        ips
    }
}

/// Why the inventory could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    /// `--config FILE` names a file that does not exist.
    #[error("config file {path} does not exist")]
    MissingConfig { path: PathBuf },
    /// `--config FILE` names a directory.
    #[error("config file {path} is a directory, not a file")]
    ConfigIsDirectory { path: PathBuf },
    /// A config file is not TOML.
    #[error("{}: line {line}, column {column}: {message}", .path.display())]
    Syntax {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    /// A value has the wrong type or a key is unknown.
    #[error("{origin}: {message}")]
    Invalid {
        /// The file (or environment) the value came from.
        origin: String,
        /// The key path, e.g. `hosts.host1.ssh_port`.
        key: String,
        /// What was found and what was expected.
        message: String,
        /// The nearest valid key, for a misspelt one.
        suggestion: Option<String>,
    },
    /// A value parsed but makes no sense, e.g. an empty address.
    #[error("key `{key}`: {message}")]
    Rejected { key: String, message: String },
    /// No home directory to put default paths under.
    #[error("HOME is not set, so default paths cannot be found")]
    NoHome,
}

/// A host name that is not in the inventory.
#[derive(Debug, thiserror::Error)]
#[error("unknown host `{name}`; known hosts: {}", known_list(.known))]
pub struct UnknownHost {
    /// The name asked for.
    pub name: String,
    /// The names the inventory has.
    pub known: Vec<String>,
}

fn known_list(known: &[String]) -> String {
    if known.is_empty() {
        "none (add [hosts.NAME] to the inventory)".into()
    } else {
        known.join(", ")
    }
}

impl Inventory {
    /// Loads the inventory from the standard places and the process environment.
    pub fn load(explicit: Option<PathBuf>) -> Result<Self, InventoryError> {
        let env = Environment::from_process();
        let sources = Sources::standard(&env, explicit);
        raw::load(&sources, &env)
    }

    /// Loads from given sources, with `env` for defaults and `~` expansion.
    pub fn load_from(sources: &Sources, env: &Environment) -> Result<Self, InventoryError> {
        raw::load(sources, env)
    }

    /// Parses one inventory given as TOML text (named `origin` in errors),
    /// with no other file and no environment variables.
    pub fn from_toml(origin: &str, text: &str, env: &Environment) -> Result<Self, InventoryError> {
        raw::load_text(origin, text, env)
    }

    /// The host called `name`, or an error listing the known ones.
    pub fn host(&self, name: &str) -> Result<&HostSpec, UnknownHost> {
        self.hosts.get(name).ok_or_else(|| UnknownHost {
            name: name.to_owned(),
            known: self.hosts.keys().cloned().collect(),
        })
    }

    /// The named hosts, or every host when `names` is empty.
    pub fn select(&self, names: &[String]) -> Result<Vec<&HostSpec>, UnknownHost> {
        if names.is_empty() {
            return Ok(self.hosts.values().collect());
        }
        names.iter().map(|n| self.host(n)).collect()
    }
}
