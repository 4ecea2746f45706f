//! OpenSSH `known_hosts` files: checking a host's key against them and
//! recording a newly accepted key.
//!
//! Plain and hashed (`|1|salt|hash`) host patterns, comma-separated lists,
//! `*`/`?` wildcards, negated patterns and `[host]:port` are understood.
//! `@revoked` lines refuse a key; `@cert-authority` lines are skipped
//! (host certificates are not accepted). Line numbers count every line of
//! the file, comments included, so a message can point at the right one.

use std::io::Write;
use std::path::{Path, PathBuf};

use data_encoding::BASE64;
use hmac::{Hmac, KeyInit, Mac};
use russh::keys::PublicKey;
use sha1::Sha1;

/// What a known_hosts file says about a host's key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostKeyVerdict {
    /// The key is recorded for this host.
    Known,
    /// Nothing is recorded for this host.
    Unknown,
    /// Another key is recorded for this host on `line`.
    Changed { path: PathBuf, line: usize },
    /// The key is marked `@revoked` on `line`.
    Revoked { path: PathBuf, line: usize },
}

/// The name a known_hosts file records for `host` on `port`.
pub fn host_pattern(host: &str, port: u16) -> String {
    if port == 22 {
        host.to_owned()
    } else {
        format!("[{host}]:{port}")
    }
}

/// Checks `key` for `host`:`port` against the file at `path` (a missing
/// file knows nothing).
pub fn check(
    path: &Path,
    host: &str,
    port: u16,
    key: &PublicKey,
) -> std::io::Result<HostKeyVerdict> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e),
    };
    Ok(check_text(&text, path, &host_pattern(host, port), key))
}

fn check_text(text: &str, path: &Path, name: &str, key: &PublicKey) -> HostKeyVerdict {
    let mut changed = None;
    for (i, line) in text.lines().enumerate() {
        let Some(entry) = Entry::parse(line) else {
            continue;
        };
        if !entry.matches(name) {
            continue;
        }
        let same = entry.key.as_ref() == Some(key);
        match entry.marker {
            Marker::Revoked if same => {
                return HostKeyVerdict::Revoked {
                    path: path.to_owned(),
                    line: i + 1,
                };
            }
            Marker::None if same => return HostKeyVerdict::Known,
            Marker::None => changed = changed.or(Some(i + 1)),
            _ => {}
        }
    }
    match changed {
        Some(line) => HostKeyVerdict::Changed {
            path: path.to_owned(),
            line,
        },
        None => HostKeyVerdict::Unknown,
    }
}

/// Appends `key` for `host`:`port` to the file at `path`, creating it.
pub fn record(path: &Path, host: &str, port: u16, key: &PublicKey) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let line = format!(
        "{} {}\n",
        host_pattern(host, port),
        key.to_openssh().map_err(std::io::Error::other)?
    );
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    // Start on a line of our own if the file lacks a final newline.
    let ends_clean = std::fs::read(path).map(|b| b.last().is_none_or(|c| *c == b'\n'))?;
    if !ends_clean {
        file.write_all(b"\n")?;
    }
    file.write_all(line.as_bytes())
}

#[derive(Debug, PartialEq, Eq)]
enum Marker {
    None,
    Revoked,
    CertAuthority,
}

struct Entry<'a> {
    marker: Marker,
    patterns: &'a str,
    key: Option<PublicKey>,
}

impl<'a> Entry<'a> {
    fn parse(line: &'a str) -> Option<Self> {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            return None;
        }
        let mut fields = line.split_whitespace();
        let mut first = fields.next()?;
        let marker = match first {
            "@revoked" => Marker::Revoked,
            "@cert-authority" => Marker::CertAuthority,
            _ => Marker::None,
        };
        if marker != Marker::None {
            first = fields.next()?;
        }
        let algorithm = fields.next()?;
        let base64 = fields.next()?;
        let key = PublicKey::from_openssh(&format!("{algorithm} {base64}")).ok();
        Some(Self {
            marker,
            patterns: first,
            key,
        })
    }

    /// OpenSSH semantics: a negated match wins; else any positive match.
    fn matches(&self, name: &str) -> bool {
        let mut positive = false;
        for pattern in self.patterns.split(',') {
            if let Some(negated) = pattern.strip_prefix('!') {
                if glob(negated, name) {
                    return false;
                }
            } else if pattern.starts_with("|1|") {
                positive |= hashed_matches(pattern, name);
            } else {
                positive |= glob(pattern, name);
            }
        }
        positive
    }
}

fn hashed_matches(pattern: &str, name: &str) -> bool {
    let mut parts = pattern.split('|').skip(2);
    let (Some(salt), Some(hash)) = (parts.next(), parts.next()) else {
        return false;
    };
    let (Ok(salt), Ok(hash)) = (
        BASE64.decode(salt.as_bytes()),
        BASE64.decode(hash.as_bytes()),
    ) else {
        return false;
    };
    let Ok(mac) = Hmac::<Sha1>::new_from_slice(&salt) else {
        return false;
    };
    mac.chain_update(name.as_bytes())
        .verify_slice(&hash)
        .is_ok()
}

/// Case-insensitive glob with `*` and `?`, as OpenSSH matches host names.
fn glob(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.to_ascii_lowercase().chars().collect();
    let n: Vec<char> = name.to_ascii_lowercase().chars().collect();
    glob_at(&p, &n)
}

fn glob_at(p: &[char], n: &[char]) -> bool {
    match p.split_first() {
        None => n.is_empty(),
        Some(('*', rest)) => (0..=n.len()).any(|i| glob_at(rest, &n[i..])),
        Some(('?', rest)) => !n.is_empty() && glob_at(rest, &n[1..]),
        Some((c, rest)) => n.first() == Some(c) && glob_at(rest, &n[1..]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY_A: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJcwTAx1r48rArXsGV/NHudFGvVg97Qm3nyXPYgknnQ9";
    const KEY_B: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGx6Hptzek4yQoRBgyyyx6DRHy43S+YfABMEpolUU0Jy";

    fn key(s: &str) -> PublicKey {
        PublicKey::from_openssh(s).unwrap()
    }

    fn verdict(text: &str, name: &str, k: &str) -> HostKeyVerdict {
        check_text(text, Path::new("/kh"), name, &key(k))
    }

    #[test]
    fn plain_list_and_port_entries_match() {
        let text = format!("# comment\nhost1,198.18.1.1 {KEY_A}\n[host2]:2222 {KEY_B}\n");
        assert_eq!(verdict(&text, "198.18.1.1", KEY_A), HostKeyVerdict::Known);
        assert_eq!(verdict(&text, "[host2]:2222", KEY_B), HostKeyVerdict::Known);
        assert_eq!(verdict(&text, "host2", KEY_B), HostKeyVerdict::Unknown);
    }

    #[test]
    fn changed_key_names_the_line_counting_comments() {
        let text = format!("# one\n\n# two\nhost1 {KEY_A}\n");
        assert_eq!(
            verdict(&text, "host1", KEY_B),
            HostKeyVerdict::Changed {
                path: "/kh".into(),
                line: 4
            }
        );
    }

    #[test]
    fn hashed_entries_match() {
        // `ssh-keygen -H` style: HMAC-SHA1 of the name keyed by the salt.
        let salt = [7u8; 20];
        let mac = Hmac::<Sha1>::new_from_slice(&salt)
            .unwrap()
            .chain_update(b"host1")
            .finalize()
            .into_bytes();
        let text = format!(
            "|1|{}|{} {KEY_A}\n",
            BASE64.encode(&salt),
            BASE64.encode(&mac)
        );
        assert_eq!(verdict(&text, "host1", KEY_A), HostKeyVerdict::Known);
        assert_eq!(verdict(&text, "host2", KEY_A), HostKeyVerdict::Unknown);
        assert!(matches!(
            verdict(&text, "host1", KEY_B),
            HostKeyVerdict::Changed { .. }
        ));
    }

    #[test]
    fn wildcards_negation_and_markers() {
        let text =
            format!("*.lab,!bad.lab {KEY_A}\n@revoked * {KEY_B}\n@cert-authority * {KEY_A}\n");
        assert_eq!(verdict(&text, "h1.lab", KEY_A), HostKeyVerdict::Known);
        assert_eq!(verdict(&text, "bad.lab", KEY_A), HostKeyVerdict::Unknown);
        assert!(matches!(
            verdict(&text, "x", KEY_B),
            HostKeyVerdict::Revoked { line: 2, .. }
        ));
    }

    #[test]
    fn record_then_known() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/known_hosts");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, format!("other {KEY_B}")).unwrap();
        record(&path, "host1", 2222, &key(KEY_A)).unwrap();
        assert_eq!(
            check(&path, "host1", 2222, &key(KEY_A)).unwrap(),
            HostKeyVerdict::Known
        );
        assert_eq!(
            check(&path, "other", 22, &key(KEY_B)).unwrap(),
            HostKeyVerdict::Known
        );
    }
}
