//! Editing libvirt's daemon config (`libvirtd.conf`, `virtproxyd.conf`) in
//! place: only the settings vmctl owns change, every comment and unrelated
//! line stays where it was. A setting already set is replaced where it
//! stands; one that is only there as a commented default is set right
//! below that comment; anything else is appended.

/// The TLS settings vmctl owns, rendered as config assignments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsSettings {
    /// DN strings (as GnuTLS prints them) of every client allowed in.
    pub allowed_dns: Vec<String>,
    /// Path of the CRL on the host.
    pub crl_file: String,
}

/// Why the settings cannot be written.
#[derive(Debug, thiserror::Error)]
pub enum ConfError {
    /// libvirt's config strings have no escape for `"`.
    #[error("the DN `{dn}` holds a double quote, which libvirt's config cannot express")]
    QuoteInDn { dn: String },
}

impl TlsSettings {
    /// `(key, rendered assignment)` for each setting, in file order.
    pub fn assignments(&self) -> Result<Vec<(&'static str, String)>, ConfError> {
        let mut list = String::from("tls_allowed_dn_list = [\n");
        for dn in &self.allowed_dns {
            if dn.contains('"') {
                return Err(ConfError::QuoteInDn { dn: dn.clone() });
            }
            list.push_str(&format!("    \"{}\",\n", glob_escape(dn)));
        }
        list.push(']');
        Ok(vec![
            ("listen_tls", "listen_tls = 1".to_owned()),
            ("tls_allowed_dn_list", list),
            ("crl_file", format!("crl_file = \"{}\"", self.crl_file)),
        ])
    }
}

/// libvirt matches the list with fnmatch: a literal `\ * ? [` needs a `\`.
fn glob_escape(dn: &str) -> String {
    let mut out = String::with_capacity(dn.len());
    for c in dn.chars() {
        if matches!(c, '\\' | '*' | '?' | '[') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `text` with every assignment set, comments and other lines untouched.
pub fn apply(text: &str, assignments: &[(&str, String)]) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    for (key, rendered) in assignments {
        set(&mut lines, key, rendered);
    }
    let mut out = lines.join("\n");
    out.push('\n');
    out
}

/// True when `text` turns the TLS listener on (vmctl has been here).
pub fn listens_tls(text: &str) -> bool {
    let lines: Vec<String> = text.lines().map(str::to_owned).collect();
    active_spans(&lines, "listen_tls")
        .last()
        .is_some_and(|&(start, _)| value_of(&lines[start]) == "1")
}

/// The lines of `new` that `old` lacks: what a dry run shows.
pub fn added_lines(old: &str, new: &str) -> Vec<String> {
    let before: std::collections::HashSet<&str> = old.lines().collect();
    new.lines()
        .filter(|l| !before.contains(l))
        .map(str::to_owned)
        .collect()
}

fn set(lines: &mut Vec<String>, key: &str, rendered: &str) {
    let new: Vec<String> = rendered.lines().map(str::to_owned).collect();
    let spans = active_spans(lines, key);
    if let Some(&(start, end)) = spans.first() {
        // Later duplicates would override ours: drop them, last first.
        for &(s, e) in spans.iter().skip(1).rev() {
            lines.drain(s..e);
        }
        lines.splice(start..end, new);
    } else if let Some(end) = commented_span_end(lines, key) {
        lines.splice(end..end, new);
    } else {
        lines.push(String::new());
        lines.extend(new);
    }
}

/// `[start, end)` line ranges of active `key = value` assignments.
fn active_spans(lines: &[String], key: &str) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if assigns(&lines[i], key) {
            let end = value_end(lines, i, |l| l);
            spans.push((i, end));
            i = end;
        } else {
            i += 1;
        }
    }
    spans
}

/// The line after the commented default `#key = ...`, if there is one.
fn commented_span_end(lines: &[String], key: &str) -> Option<usize> {
    let uncomment = |l: &str| l.trim_start().trim_start_matches('#').to_owned();
    let start = lines
        .iter()
        .position(|l| l.trim_start().starts_with('#') && assigns(&uncomment(l), key))?;
    Some(value_end(lines, start, |l| {
        l.trim_start().trim_start_matches('#')
    }))
}

fn assigns(line: &str, key: &str) -> bool {
    line.trim_start()
        .strip_prefix(key)
        .is_some_and(|rest| rest.trim_start().starts_with('='))
}

/// The end of a value starting on line `start`: a list runs to its `]`.
fn value_end(lines: &[String], start: usize, view: impl Fn(&str) -> &str) -> usize {
    let first = view(&lines[start]);
    let opens = first.matches('[').count();
    if opens <= first.matches(']').count() {
        return start + 1;
    }
    (start + 1..lines.len())
        .find(|&i| view(&lines[i]).contains(']'))
        .map_or(lines.len(), |i| i + 1)
}

fn value_of(line: &str) -> &str {
    line.split_once('=').map_or("", |(_, v)| v.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    const STOCK: &str = "# Master libvirt daemon configuration file\n\
#\n\
#listen_tls = 0\n\
#listen_tcp = 1\n\
\n\
# A list of allowed x509 Distinguished Names\n\
#tls_allowed_dn_list = [\"DN1\", \"DN2\"]\n\
\n\
#crl_file = \"/etc/pki/CA/crl.pem\"\n\
host_uuid = \"1b2c\"\n";

    fn settings() -> TlsSettings {
        TlsSettings {
            allowed_dns: vec!["O=vmctl,CN=admin".into(), "O=Lab\\, Inc,CN=host1".into()],
            crl_file: "/etc/pki/CA/cacrl.pem".into(),
        }
    }

    fn edited(text: &str) -> String {
        apply(text, &settings().assignments().unwrap())
    }

    #[test]
    fn stock_file_gets_settings_below_their_comments() {
        let out = edited(STOCK);
        assert!(out.contains("#listen_tls = 0\nlisten_tls = 1\n#listen_tcp = 1"));
        assert!(
            out.contains("#tls_allowed_dn_list = [\"DN1\", \"DN2\"]\ntls_allowed_dn_list = [\n")
        );
        assert!(out.contains("    \"O=Lab\\\\, Inc,CN=host1\",\n]"));
        assert!(out.contains("crl_file = \"/etc/pki/CA/cacrl.pem\"\nhost_uuid"));
        assert!(out.starts_with("# Master libvirt daemon configuration file\n#\n"));
        assert!(listens_tls(&out));
        assert!(!listens_tls(STOCK));
    }

    #[test]
    fn second_edit_changes_nothing() {
        let once = edited(STOCK);
        assert_eq!(edited(&once), once);
    }

    #[test]
    fn existing_multiline_list_is_replaced_and_duplicates_dropped() {
        let text = "tls_allowed_dn_list = [\n  \"CN=old\",\n  \"CN=older\"\n]\nlisten_tls = 0\nkeep = 1\nlisten_tls = 0\n";
        let out = edited(text);
        assert!(!out.contains("CN=old"));
        assert_eq!(out.matches("listen_tls").count(), 1);
        assert!(out.contains("keep = 1"));
    }

    #[test]
    fn missing_settings_are_appended() {
        let out = edited("log_level = 3\n");
        assert!(out.starts_with("log_level = 3\n\nlisten_tls = 1\n"));
    }

    #[test]
    fn glob_characters_and_quotes() {
        assert_eq!(glob_escape("CN=a*b?[c]\\"), "CN=a\\*b\\?\\[c]\\\\");
        let bad = TlsSettings {
            allowed_dns: vec!["CN=\"x\"".into()],
            crl_file: String::new(),
        };
        assert!(bad.assignments().is_err());
    }

    #[test]
    fn added_lines_for_dry_run() {
        let new = edited(STOCK);
        let added = added_lines(STOCK, &new);
        assert!(added.contains(&"listen_tls = 1".to_owned()));
        assert!(!added.iter().any(|l| l.starts_with('#')));
    }
}
