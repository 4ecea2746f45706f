//! Name resolution for lab hosts: lines in the admin's `/etc/hosts`, marked
//! with the lab's index so teardown removes exactly what the lab added.
//! Edits hold an exclusive lock and replace the file by a rename, so that a
//! resolver never sees it half-written.

use std::fs::{File, OpenOptions};
use std::io::{Seek, SeekFrom, Write};
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

/// Serialises every lab's edits of `/etc/hosts` (the file itself cannot be
/// locked: it is replaced by a rename).
const LOCK: &str = "/var/tmp/vmctl-lab/hosts.lock";

fn edit(path: &Path, change: impl FnOnce(&str) -> Result<String>) -> Result<()> {
    std::fs::create_dir_all(crate::reap::LABS_DIR).map_err(io(crate::reap::LABS_DIR))?;
    let lock: File = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(LOCK)
        .map_err(io(LOCK))?;
    lock.lock().map_err(io(LOCK))?;
    let text = std::fs::read_to_string(path).map_err(io(path))?;
    let new = change(&text)?;
    if new != text {
        replace(path, &new)?;
    }
    Ok(())
}

/// Replaces the file at once (a temporary file renamed over it), so that a
/// resolver never reads it half-written; where it cannot be renamed over
/// (a bind mount), rewrites it in place.
fn replace(path: &Path, text: &str) -> Result<()> {
    let tmp = path.with_extension("vmctl-lab.tmp");
    std::fs::write(&tmp, text).map_err(io(&tmp))?;
    let mode = std::fs::metadata(path).map_err(io(path))?.permissions();
    std::fs::set_permissions(&tmp, mode).map_err(io(&tmp))?;
    if std::fs::rename(&tmp, path).is_ok() {
        return Ok(());
    }
    let _ = std::fs::remove_file(&tmp);
    let mut file = OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(io(path))?;
    file.set_len(0).map_err(io(path))?;
    file.seek(SeekFrom::Start(0)).map_err(io(path))?;
    file.write_all(text.as_bytes()).map_err(io(path))?;
    file.sync_all().map_err(io(path))
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
