//! How the command line names a guest: `GUEST`, or `GUEST@HOST` when the
//! name alone is ambiguous.

use std::fmt;
use std::str::FromStr;

/// A guest named on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuestRef {
    /// The guest's (domain's) name.
    pub name: String,
    /// The host it must be on, when given.
    pub host: Option<String>,
}

/// Why a guest reference could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GuestRefError {
    /// Nothing before the `@`.
    #[error("{input:?}: the guest name is empty")]
    EmptyName { input: String },
    /// `GUEST@` with nothing after it.
    #[error("{input:?}: the host after '@' is empty")]
    EmptyHost { input: String },
    /// A character libvirt or a file name would choke on.
    #[error("{input:?}: a guest name may not contain {bad:?}")]
    BadCharacter { input: String, bad: char },
}

impl GuestRef {
    /// Checks a new guest's name: not empty, and none of the characters
    /// libvirt refuses (`/`, control characters) nor `@`, which would make
    /// the name impossible to give as `GUEST` or `GUEST@HOST`.
    pub fn check_new_name(name: &str) -> Result<(), GuestRefError> {
        if name.is_empty() {
            return Err(GuestRefError::EmptyName { input: name.into() });
        }
        match name.chars().find(|c| *c == '@' || refused_in_name(*c)) {
            Some(bad) => Err(GuestRefError::BadCharacter {
                input: name.into(),
                bad,
            }),
            None => Ok(()),
        }
    }

    /// A reference to `name` on any host.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            host: None,
        }
    }
}

impl FromStr for GuestRef {
    type Err = GuestRefError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let (name, host) = match input.rsplit_once('@') {
            Some((name, host)) => (name, Some(host)),
            None => (input, None),
        };
        let err_input = || input.to_owned();
        if name.is_empty() {
            return Err(GuestRefError::EmptyName { input: err_input() });
        }
        if host == Some("") {
            return Err(GuestRefError::EmptyHost { input: err_input() });
        }
        if let Some(bad) = name.chars().find(|c| refused_in_name(*c)) {
            return Err(GuestRefError::BadCharacter {
                input: err_input(),
                bad,
            });
        }
        Ok(Self {
            name: name.to_owned(),
            host: host.map(str::to_owned),
        })
    }
}

/// True for a character libvirt refuses in a domain name (or that would
/// break the disk's file name).
fn refused_in_name(c: char) -> bool {
    c == '/' || c.is_control()
}

impl fmt::Display for GuestRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.host {
            Some(host) => write!(f, "{}@{host}", self.name),
            None => f.write_str(&self.name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_alone_and_name_at_host() {
        assert_eq!("web".parse(), Ok(GuestRef::new("web")));
        let r: GuestRef = "web@host2".parse().unwrap();
        assert_eq!((r.name.as_str(), r.host.as_deref()), ("web", Some("host2")));
        assert_eq!(r.to_string(), "web@host2");
    }

    #[test]
    fn new_names_refuse_what_libvirt_refuses_and_at_signs() {
        assert!(GuestRef::check_new_name("web-1.example_x").is_ok());
        for bad in ["", "a/b", "a\nb", "a\u{7f}b", "web@host1"] {
            assert!(GuestRef::check_new_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn empty_parts_and_slashes_are_refused() {
        assert!(matches!(
            "@h".parse::<GuestRef>(),
            Err(GuestRefError::EmptyName { .. })
        ));
        assert!(matches!(
            "g@".parse::<GuestRef>(),
            Err(GuestRefError::EmptyHost { .. })
        ));
        assert!(matches!(
            "a/b".parse::<GuestRef>(),
            Err(GuestRefError::BadCharacter { bad: '/', .. })
        ));
    }
}
