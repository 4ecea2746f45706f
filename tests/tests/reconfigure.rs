//! `vmctl create` and `vmctl reconfigure` say what libvirt holds after
//! the change, read back from the host, never what was asked.

use std::process::Output;

use vmctl_lab::{GuestSpec, Host, Lab, trusted_lab_or_skip, virt_type};

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// `virsh dumpxml` of `guest` on `host`, live or its definition.
fn dumpxml(host: &Host, guest: &str, inactive: bool) -> String {
    let mut args = vec!["dumpxml", guest];
    if inactive {
        args.push("--inactive");
    }
    host.virsh(&args).expect("virsh dumpxml")
}

fn current_memory(kib: u64) -> String {
    format!("<currentMemory unit='KiB'>{kib}</currentMemory>")
}

/// Creates an idle guest (no OS, so no balloon driver) with room to grow.
fn create_idle(lab: &Lab, guest: &str, extra: &[&str]) -> String {
    let virt = virt_type();
    let mut args = vec!["create", guest, "--host", lab.nth(0).name()];
    args.extend(["--disk", "16M", "--virt-type", &virt]);
    args.extend(extra);
    lab.vmctl_ok(&args)
}

#[test]
fn create_reports_the_defined_memory_and_the_disks_of_its_xml() {
    let Some(lab) = trusted_lab_or_skip(1) else {
        return;
    };
    let h1 = lab.nth(0);

    // --memory below --max-memory is the definition's current memory.
    let out = create_idle(&lab, "g1", &["--memory", "128M", "--max-memory", "256M"]);
    assert!(out.contains("128MiB (max 256MiB)"), "{out}");
    let defined = dumpxml(h1, "g1", true);
    assert!(defined.contains(&current_memory(131_072)), "{defined}");

    // An --xml guest's disk is reported from its definition.
    let spec = GuestSpec::idle("gx").with_disk(16);
    let path = lab.dir().join("gx.xml");
    std::fs::write(&path, spec.xml(&virt_type())).unwrap();
    let xml = path.to_string_lossy();
    let host = h1.name();
    let out = lab.vmctl_ok(&["create", "gx", "--host", host, "--xml", &xml, "--no-start"]);
    assert!(out.contains(&format!("disk {}", spec.disk_path())), "{out}");
}

#[test]
fn reconfigure_reports_only_the_changes_the_guest_really_took() {
    let Some(lab) = trusted_lab_or_skip(1) else {
        return;
    };
    let h1 = lab.nth(0);
    create_idle(&lab, "g1", &["--memory", "256M", "--max-memory", "256M"]);

    // Memory live needs a balloon driver the idle guest lacks: an error
    // saying so, the running guest untouched, the definition changed.
    let out = lab.vmctl(&["reconfigure", "g1", "--memory", "128M"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("did not take 128MiB"),
        "{}",
        stderr(&out)
    );
    assert!(dumpxml(h1, "g1", false).contains(&current_memory(262_144)));
    assert!(dumpxml(h1, "g1", true).contains(&current_memory(131_072)));

    // A new ceiling on a running guest waits for its next start.
    let out = lab.vmctl_ok(&["reconfigure", "g1", "--max-vcpus", "2"]);
    assert!(out.contains("in its definition only"), "{out}");
    assert!(out.contains("now 1 vCPUs (max 1)"), "{out}");
    assert!(out.contains("from the next start 1 vCPUs (max 2)"), "{out}");
    let live_max = h1.virsh(&["vcpucount", "g1", "--live", "--maximum"]);
    assert_eq!(live_max.unwrap().trim(), "1");

    // Zero vCPUs never reach libvirt.
    let out = lab.vmctl(&["reconfigure", "g1", "--vcpus", "0"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(stderr(&out).trim(), "error: --vcpus must be at least 1");
}
