//! The raw inventory as written in TOML, read strictly through figment, and
//! its validation into the typed values of the parent module.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Toml};
use serde::Deserialize;

use super::{Environment, HostSpec, Inventory, InventoryError, PkiSettings, Sources, SshSettings};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInventory {
    #[serde(default)]
    pki: RawPki,
    #[serde(default)]
    ssh: RawSsh,
    #[serde(default)]
    hosts: BTreeMap<String, RawHost>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPki {
    dir: Option<String>,
    organization: Option<String>,
    country: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSsh {
    user: Option<String>,
    identity: Option<String>,
    known_hosts: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHost {
    address: String,
    #[serde(default)]
    names: Vec<String>,
    #[serde(default)]
    ips: Vec<IpAddr>,
    restart_command: Option<String>,
    ssh_port: Option<u16>,
}

/// Reads every source, then validates.
pub(super) fn load(sources: &Sources, env: &Environment) -> Result<Inventory, InventoryError> {
    let mut figment = Figment::new();
    let mut read = Vec::new();
    for path in &sources.optional {
        if path.is_file() {
            check_syntax(path)?;
            figment = figment.merge(Toml::file_exact(path));
            read.push(path.clone());
        }
    }
    if let Some(path) = &sources.explicit {
        if path.is_dir() {
            return Err(InventoryError::ConfigIsDirectory { path: path.clone() });
        }
        if !path.is_file() {
            return Err(InventoryError::MissingConfig { path: path.clone() });
        }
        check_syntax(path)?;
        figment = figment.merge(Toml::file_exact(path));
        read.push(path.clone());
    }
    if let Some(prefix) = &sources.env_prefix {
        // Only nested keys: `VMCTL_CA_PASSPHRASE` and friends are not config.
        let vars = Env::prefixed(prefix)
            .filter(|key| key.as_str().contains("__"))
            .split("__");
        figment = figment.merge(vars);
    }

    let raw: RawInventory = figment.extract().map_err(figment_error)?;
    tracing::debug!(files = ?read, "read inventory");
    validate(raw, env, read)
}

/// Reads one inventory from text, then validates.
pub(super) fn load_text(
    origin: &str,
    text: &str,
    env: &Environment,
) -> Result<Inventory, InventoryError> {
    super::syntax::check(Path::new(origin), text)?;
    let figment = Figment::new().merge(Toml::string(text));
    let raw: RawInventory = figment.extract().map_err(figment_error)?;
    validate(raw, env, Vec::new())
}

/// Reports a file that is not TOML with its line and column; an
/// unreadable file is left to figment, which names it.
fn check_syntax(path: &Path) -> Result<(), InventoryError> {
    match std::fs::read_to_string(path) {
        Ok(text) => super::syntax::check(path, &text),
        Err(_) => Ok(()),
    }
}

fn validate(
    raw: RawInventory,
    env: &Environment,
    sources: Vec<PathBuf>,
) -> Result<Inventory, InventoryError> {
    let hosts = raw
        .hosts
        .into_iter()
        .map(|(name, host)| Ok((name.clone(), host_spec(name, host)?)))
        .collect::<Result<_, InventoryError>>()?;
    Ok(Inventory {
        pki: pki_settings(raw.pki, env)?,
        ssh: ssh_settings(raw.ssh, env)?,
        hosts,
        sources,
    })
}

fn pki_settings(raw: RawPki, env: &Environment) -> Result<PkiSettings, InventoryError> {
    let dir = match raw.dir {
        Some(dir) => expand(env, non_empty("pki.dir", &dir)?)?,
        None => env.default_pki_dir().ok_or(InventoryError::NoHome)?,
    };
    if let Some(country) = &raw.country
        && (country.len() != 2 || !country.bytes().all(|b| b.is_ascii_uppercase()))
    {
        return Err(rejected(
            "pki.country",
            format!("`{country}` is not a two-letter country code such as `DE`"),
        ));
    }
    let organization = raw.organization.unwrap_or_else(|| "vmctl".into());
    Ok(PkiSettings {
        dir,
        organization,
        country: raw.country,
    })
}

fn ssh_settings(raw: RawSsh, env: &Environment) -> Result<SshSettings, InventoryError> {
    let identity = raw
        .identity
        .map(|p| expand(env, non_empty("ssh.identity", &p)?))
        .transpose()?;
    let known_hosts = raw.known_hosts.as_deref().unwrap_or("~/.ssh/known_hosts");
    let known_hosts = expand(env, non_empty("ssh.known_hosts", known_hosts)?)?;
    if let Some(user) = &raw.user {
        non_empty("ssh.user", user)?;
    }
    Ok(SshSettings {
        user: raw.user.unwrap_or_else(|| "root".into()),
        identity,
        known_hosts,
    })
}

fn host_spec(name: String, raw: RawHost) -> Result<HostSpec, InventoryError> {
    let key = |field: &str| format!("hosts.{name}.{field}");
    if !is_host_name(&name) {
        return Err(rejected(
            &format!("hosts.{name}"),
            "a host name is letters, digits, `.`, `-` and `_`".into(),
        ));
    }
    if !is_address(&raw.address) {
        return Err(rejected(
            &key("address"),
            format!("`{}` is not a DNS name or IP address", raw.address),
        ));
    }
    if let Some(bad) = raw.names.iter().find(|n| !is_dns_name(n)) {
        return Err(rejected(
            &key("names"),
            format!("`{bad}` is not a DNS name"),
        ));
    }
    if raw.ssh_port == Some(0) {
        return Err(rejected(
            &key("ssh_port"),
            "the port must be between 1 and 65535".into(),
        ));
    }
    Ok(HostSpec {
        name,
        address: raw.address,
        names: raw.names,
        ips: raw.ips,
        restart_command: raw.restart_command,
        ssh_port: raw.ssh_port.unwrap_or(22),
    })
}

fn is_host_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
}

/// An IP address, or a DNS name without wildcards and empty labels.
fn is_address(address: &str) -> bool {
    if address.parse::<IpAddr>().is_ok() {
        return true;
    }
    is_dns_name(address)
        && !address.contains('*')
        && address
            .trim_end_matches('.')
            .split('.')
            .all(|label| !label.is_empty() && label.len() <= 63)
}

fn is_dns_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '*'))
}

fn expand(env: &Environment, path: &str) -> Result<PathBuf, InventoryError> {
    env.expand(path).ok_or(InventoryError::NoHome)
}

/// `value`, unless it is empty or only blanks.
fn non_empty<'a>(key: &str, value: &'a str) -> Result<&'a str, InventoryError> {
    if value.trim().is_empty() {
        Err(rejected(key, "must not be empty".into()))
    } else {
        Ok(value)
    }
}

fn rejected(key: &str, message: String) -> InventoryError {
    InventoryError::Rejected {
        key: key.to_owned(),
        message,
    }
}

/// Turns figment's error into one naming the file, the key and what was expected.
fn figment_error(error: figment::Error) -> InventoryError {
    let origin = match error.metadata.as_ref() {
        Some(meta) => match &meta.source {
            Some(figment::Source::File(path)) => path.display().to_string(),
            _ => meta.name.to_string(),
        },
        None => "inventory".to_owned(),
    };
    let key = error.path.join(".");
    let (message, suggestion) = match &error.kind {
        figment::error::Kind::UnknownField(field, expected) => unknown_key(&key, field, expected),
        kind if key.is_empty() => (kind.to_string(), None),
        kind => (format!("key `{key}`: {kind}"), None),
    };
    InventoryError::Invalid {
        origin,
        key,
        message,
        suggestion,
    }
}

/// "unknown key `hosts.h1.adress`; did you mean `address`?", or the list
/// of valid keys when none is close; and the suggestion.
fn unknown_key(path: &str, field: &str, expected: &[&str]) -> (String, Option<String>) {
    let path = if path.is_empty() { field } else { path };
    let suggestion = nearest(field, expected);
    let advice = match &suggestion {
        Some(s) => format!("did you mean `{s}`?"),
        None => format!("valid keys here: {}", expected.join(", ")),
    };
    (format!("unknown key `{path}`; {advice}"), suggestion)
}

/// The expected key closest to `field`, if it is close enough to be a typo.
fn nearest(field: &str, expected: &[&str]) -> Option<String> {
    expected
        .iter()
        .map(|candidate| (edit_distance(field, candidate), candidate))
        .filter(|(distance, candidate)| *distance <= candidate.len().max(3) / 3 + 1)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| (*candidate).to_owned())
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            let next = (row[j + 1] + 1).min(row[j] + 1).min(prev + cost);
            prev = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_names_or_ips() {
        for good in ["host1", "host1.example.test.", "192.0.2.1", "2001:db8::1"] {
            assert!(is_address(good), "{good}");
        }
        for bad in [
            "",
            "a b",
            "a..b",
            "*.example.test",
            "host_1",
            &"x".repeat(64),
        ] {
            assert!(!is_address(bad), "{bad}");
        }
    }

    #[test]
    fn nearest_key_finds_typos_only() {
        let keys = ["address", "names", "ips", "restart_command", "ssh_port"];
        assert_eq!(nearest("adress", &keys).as_deref(), Some("address"));
        assert_eq!(nearest("sshport", &keys).as_deref(), Some("ssh_port"));
        assert_eq!(nearest("colour", &keys), None);
    }
}
