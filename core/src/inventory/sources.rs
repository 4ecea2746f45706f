//! Where config files are looked for, and the bits of the process
//! environment that decide it, kept in a value so tests can fake them.

use std::path::{Path, PathBuf};

/// The environment the inventory depends on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Environment {
    /// `$HOME`.
    pub home: Option<PathBuf>,
    /// `$XDG_CONFIG_HOME`.
    pub xdg_config_home: Option<PathBuf>,
    /// `$XDG_DATA_HOME`.
    pub xdg_data_home: Option<PathBuf>,
}

impl Environment {
    /// Reads the variables of this process; empty values count as unset.
    pub fn from_process() -> Self {
        let var = |name: &str| {
            std::env::var_os(name)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        Self {
            home: var("HOME"),
            xdg_config_home: var("XDG_CONFIG_HOME"),
            xdg_data_home: var("XDG_DATA_HOME"),
        }
    }

    /// The user's config directory for vmctl.
    pub fn config_dir(&self) -> Option<PathBuf> {
        let base = self
            .xdg_config_home
            .clone()
            .or_else(|| Some(self.home.as_ref()?.join(".config")))?;
        Some(base.join("vmctl"))
    }

    /// The default PKI directory: `$XDG_DATA_HOME/vmctl/pki` or
    /// `~/.local/share/vmctl/pki`.
    pub fn default_pki_dir(&self) -> Option<PathBuf> {
        let base = self
            .xdg_data_home
            .clone()
            .or_else(|| Some(self.home.as_ref()?.join(".local/share")))?;
        Some(base.join("vmctl/pki"))
    }

    /// Expands a leading `~/` (or a lone `~`) to the home directory.
    pub fn expand(&self, path: &str) -> Option<PathBuf> {
        match path.strip_prefix('~') {
            Some("") => self.home.clone(),
            Some(rest) if rest.starts_with('/') => Some(self.home.as_ref()?.join(&rest[1..])),
            _ => Some(PathBuf::from(path)),
        }
    }
}

/// The config files to read, lowest priority first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sources {
    /// Files read if they exist.
    pub optional: Vec<PathBuf>,
    /// `--config FILE`: read last, and must exist.
    pub explicit: Option<PathBuf>,
    /// Prefix of the environment variables that override files; `None`
    /// reads no variables.
    pub env_prefix: Option<String>,
}

impl Sources {
    /// The standard places: system, user, current directory, `--config`, `VMCTL_*`.
    pub fn standard(env: &Environment, explicit: Option<PathBuf>) -> Self {
        let mut optional = vec![PathBuf::from("/etc/vmctl/vmctl.toml")];
        optional.extend(env.config_dir().map(|d| d.join("vmctl.toml")));
        optional.push(Path::new("vmctl.toml").to_owned());
        Self {
            optional,
            explicit,
            env_prefix: Some("VMCTL_".into()),
        }
    }

    /// Only the given files, no environment: for tests and tools.
    pub fn files(optional: Vec<PathBuf>, explicit: Option<PathBuf>) -> Self {
        Self {
            optional,
            explicit,
            env_prefix: None,
        }
    }
}
