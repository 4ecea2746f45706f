//! Name resolution for lab hosts: lines in the admin's `/etc/hosts`, marked
//! with the lab's index so teardown removes exactly what the lab added.
//! Edits hold an exclusive lock and rewrite the file in place (it may be a
//! bind mount, which a rename would fail on).

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::net::Ipv4Addr;
use std::path::Path;

use crate::error::{LabError, Result, io};

const HOSTS: &str = "/etc/hosts";

/// The marker that ends every line lab `index` adds.
fn marker(index: u8) -> String {
    format!("# vmctl-lab {index}")
}

/// The lines lab `index` adds for `entries` (address, names).
pub fn lines(index: u8, entries: &[(Ipv4Addr, Vec<String>)]) -> String {
    entries
        .iter()
        .map(|(addr, names)| format!("{addr} {} {}\n", names.join(" "), marker(index)))
        .collect()
}

/// Adds lab `index`'s entries to `/etc/hosts`, refusing names already there.
pub fn add(index: u8, entries: &[(Ipv4Addr, Vec<String>)]) -> Result<()> {
    edit(Path::new(HOSTS), |text| {
        for name in entries.iter().flat_map(|(_, names)| names) {
            if resolves_in(text, name) {
                return Err(LabError::Invalid(format!(
                    "{name} is already in {HOSTS}: another lab uses it; pick other \
                     host names (`vmctl-lab up --names ...`), or remove a lab whose \
                     process was killed with `vmctl-lab down`"
                )));
            }
        }
        Ok(appended(text, &lines(index, entries)))
    })
}

/// Removes every line lab `index` added.
pub fn remove(index: u8) -> Result<()> {
    let mark = marker(index);
    edit(Path::new(HOSTS), |text| {
        Ok(text
            .split('\n')
            .filter(|l| !l.ends_with(&mark))
            .collect::<Vec<_>>()
            .join("\n"))
    })
}

/// Appends `lines` (each ending in a newline) so that removing them
/// restores `text` byte for byte, even without a final newline.
fn appended(text: &str, lines: &str) -> String {
    if text.is_empty() || text.ends_with('\n') {
        format!("{text}{lines}")
    } else {
        format!("{text}\n{}", lines.trim_end_matches('\n'))
    }
}

fn resolves_in(text: &str, name: &str) -> bool {
    text.lines()
        .map(|l| l.split('#').next().unwrap_or(""))
        .any(|l| l.split_whitespace().skip(1).any(|n| n == name))
}

fn edit(path: &Path, change: impl FnOnce(&str) -> Result<String>) -> Result<()> {
    let mut file: File = OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .map_err(io(path))?;
    file.lock().map_err(io(path))?;
    let mut text = String::new();
    file.read_to_string(&mut text).map_err(io(path))?;
    let new = change(&text)?;
    if new != text {
        file.seek(SeekFrom::Start(0)).map_err(io(path))?;
        file.set_len(0).map_err(io(path))?;
        file.write_all(new.as_bytes()).map_err(io(path))?;
        file.sync_all().map_err(io(path))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_after_a_comment_do_not_count_as_resolving() {
        let text = "127.0.0.1 localhost # host1\n198.18.1.2 host2\n";
        assert!(!resolves_in(text, "host1"));
        assert!(resolves_in(text, "host2"));
    }

    #[test]
    fn removing_restores_the_file_byte_for_byte() {
        let entry = [(Ipv4Addr::new(198, 18, 3, 2), vec!["h".into()])];
        let mark = marker(3);
        for original in ["a\nb", "a\nb\n", ""] {
            let added = appended(original, &lines(3, &entry));
            let removed: Vec<&str> = added.split('\n').filter(|l| !l.ends_with(&mark)).collect();
            assert_eq!(removed.join("\n"), original);
        }
    }

    #[test]
    fn lines_carry_the_lab_marker() {
        let l = lines(7, &[(Ipv4Addr::new(198, 18, 7, 2), vec!["host1".into()])]);
        assert_eq!(l, "198.18.7.2 host1 # vmctl-lab 7\n");
    }
}
