//! The lab's network: one bridge in the admin's (root) namespace per lab,
//! one network namespace per host joined to it by a veth pair.
//!
//! Addresses come from 198.18.0.0/15, the range set aside for benchmarking
//! (RFC 2544): never routed, so lab traffic cannot leave the machine. A lab
//! claims index N by creating the bridge `vmlabN`; the kernel refuses a
//! second link of that name, which makes the claim atomic across processes.

use std::net::Ipv4Addr;

use crate::cmd::{run, succeeds};
use crate::error::{LabError, Result};

/// Highest lab index; each lab owns subnet 198.18.N.0/24.
const MAX_LABS: u8 = 250;

/// The bridge name of lab `index`.
pub fn bridge_name(index: u8) -> String {
    format!("vmlab{index}")
}

/// The admin's address on lab `index`'s bridge.
pub fn admin_address(index: u8) -> Ipv4Addr {
    Ipv4Addr::new(198, 18, index, 1)
}

/// The address of host number `slot` (1-based) in lab `index`.
pub fn host_address(index: u8, slot: usize) -> Ipv4Addr {
    Ipv4Addr::new(198, 18, index, (slot + 1) as u8)
}

/// Claims a free lab index by creating its bridge, and brings it up.
pub fn claim_bridge() -> Result<u8> {
    for index in 1..=MAX_LABS {
        let bridge = bridge_name(index);
        if !succeeds("ip", &["link", "add", &bridge, "type", "bridge"]) {
            continue;
        }
        let cidr = format!("{}/24", admin_address(index));
        run("ip", &["addr", "add", &cidr, "dev", &bridge])?;
        run("ip", &["link", "set", &bridge, "up"])?;
        return Ok(index);
    }
    Err(LabError::Unavailable(format!(
        "all {MAX_LABS} lab bridges are taken; run `vmctl-lab down --all`"
    )))
}

/// Creates network namespace `netns` with a veth into `bridge` and `address`.
pub fn add_host_netns(netns: &str, bridge: &str, veth: &str, address: Ipv4Addr) -> Result<()> {
    run("ip", &["netns", "add", netns])?;
    let peer = format!("{veth}p");
    // A namespace dies asynchronously; a peer of an earlier lab with this
    // index may linger. The index is ours, so the name is too.
    let _ = run("ip", &["link", "del", &peer]);
    run(
        "ip",
        &["link", "add", veth, "type", "veth", "peer", "name", &peer],
    )?;
    run("ip", &["link", "set", &peer, "master", bridge, "up"])?;
    run("ip", &["link", "set", veth, "netns", netns])?;
    let cidr = format!("{address}/24");
    run("ip", &["-n", netns, "addr", "add", &cidr, "dev", veth])?;
    run("ip", &["-n", netns, "link", "set", veth, "up"])?;
    run("ip", &["-n", netns, "link", "set", "lo", "up"])?;
    Ok(())
}

/// Sets a host's link up or down, to cut it off from the others.
pub fn set_link(netns: &str, veth: &str, up: bool) -> Result<()> {
    let state = if up { "up" } else { "down" };
    run("ip", &["-n", netns, "link", "set", veth, state]).map(|_| ())
}

/// Process ids inside network namespace `netns`.
pub fn netns_pids(netns: &str) -> Vec<u32> {
    run("ip", &["netns", "pids", netns])
        .map(|out| {
            out.split_whitespace()
                .filter_map(|p| p.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// Removes a network namespace (its veth goes with it).
pub fn delete_netns(netns: &str) {
    let _ = run("ip", &["netns", "del", netns]);
}

/// Removes the admin-side ends of lab `index`'s veth pairs (deleting one
/// end removes both at once, without waiting for the namespace to die).
pub fn delete_links(index: u8) {
    let prefix = format!("vl{index}h");
    let links = run("ip", &["-o", "link", "show"]).unwrap_or_default();
    for line in links.lines() {
        let Some(name) = line
            .split(':')
            .nth(1)
            .map(|n| n.trim().split('@').next().unwrap_or(""))
        else {
            continue;
        };
        let ours = name.strip_prefix(&prefix).and_then(|r| r.strip_suffix('p'));
        if ours.is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit())) {
            let _ = run("ip", &["link", "del", name]);
        }
    }
}

/// Removes lab `index`'s bridge.
pub fn delete_bridge(index: u8) {
    let _ = run("ip", &["link", "del", &bridge_name(index)]);
}

/// Names of the network namespaces that belong to lab `index`.
pub fn lab_netns(index: u8) -> Vec<String> {
    let prefix = format!("vmlab{index}-");
    run("ip", &["netns", "list"])
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|n| n.starts_with(&prefix))
        .map(str::to_string)
        .collect()
}
