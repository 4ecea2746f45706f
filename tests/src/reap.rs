//! Tearing down labs by index: the owner's own teardown, labs whose owner
//! died (killed tests), and `vmctl-lab down --all`.

use std::fs;
use std::path::{Path, PathBuf};

use crate::host::stop_netns;
use crate::{hosts_file, net};

/// Where labs keep their files: one directory per lab index.
pub const LABS_DIR: &str = "/var/tmp/vmctl-lab";

/// The directory of lab `index`.
pub fn lab_dir(index: u8) -> PathBuf {
    Path::new(LABS_DIR).join(index.to_string())
}

/// Removes everything lab `index` made: processes, namespaces, bridge,
/// name entries and files. The bridge is the lab's claim on its index, so
/// it goes last: another lab may take the index only once nothing of this
/// one is left to remove.
pub fn teardown(index: u8) {
    for netns in net::lab_netns(index) {
        stop_netns(&netns);
    }
    let _ = hosts_file::remove(index);
    let _ = fs::remove_file(ssh_config_path(index));
    let _ = fs::remove_dir_all(lab_dir(index));
    net::delete_links(index);
    net::delete_bridge(index);
}

/// The ssh client config a lab for people adds for its hosts.
pub fn ssh_config_path(index: u8) -> PathBuf {
    PathBuf::from(format!("/etc/ssh/ssh_config.d/vmctl-lab-{index}.conf"))
}

/// Records the calling process as the owner of lab `index`.
pub fn write_owner(index: u8) -> std::io::Result<()> {
    let pid = std::process::id();
    fs::write(
        lab_dir(index).join("owner"),
        format!("{pid} {}", start_time(pid)),
    )
}

fn start_time(pid: u32) -> String {
    fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            let after = s.rsplit_once(')')?.1.to_string();
            after.split_whitespace().nth(19).map(str::to_string)
        })
        .unwrap_or_default()
}

fn owner_alive(index: u8) -> bool {
    let Ok(owner) = fs::read_to_string(lab_dir(index).join("owner")) else {
        return true; // being set up right now, or not ours to judge
    };
    let mut parts = owner.split_whitespace();
    let pid: u32 = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    let started = parts.next().unwrap_or("");
    pid != 0 && start_time(pid) == started
}

fn lab_indexes() -> Vec<u8> {
    fs::read_dir(LABS_DIR)
        .map(|d| {
            d.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// Tears down labs whose owning process is gone; returns their indexes.
pub fn reap_stale() -> Vec<u8> {
    let stale: Vec<u8> = lab_indexes()
        .into_iter()
        .filter(|i| !owner_alive(*i))
        .collect();
    for index in &stale {
        teardown(*index);
    }
    stale
}

/// Tears down every lab, running or not; returns their indexes.
pub fn reap_all() -> Vec<u8> {
    let all = lab_indexes();
    for index in &all {
        teardown(*index);
    }
    all
}
