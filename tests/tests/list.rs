//! `vmctl list` against real lab hosts: each guest's state, vCPUs, memory,
//! disks, persistence and duplicate flag are what its host holds, for
//! shut-off, running and transient guests alike.

use serde_json::Value;
use vmctl_lab::{GuestSpec, Host, Lab, LabSpec, lab_or_skip, trust, virt_type};

const QUIET_DISK: &str = "/var/lib/libvirt/images/quiet.qcow2";

/// A shut-off guest with room to grow: 1 of 3 vCPUs, 96 of 128 MiB behind
/// a virtio balloon, a qcow2 disk and an empty CD-ROM drive.
fn quiet_xml() -> String {
    format!(
        "<domain type='{}'><name>quiet</name>\
         <memory unit='MiB'>128</memory><currentMemory unit='MiB'>96</currentMemory>\
         <vcpu current='1'>3</vcpu>\
         <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os><devices>\
         <disk type='file' device='disk'><driver name='qemu' type='qcow2'/>\
         <source file='{QUIET_DISK}'/><target dev='vda' bus='virtio'/></disk>\
         <disk type='file' device='cdrom'><target dev='hdc' bus='ide'/><readonly/></disk>\
         <memballoon model='virtio'/></devices></domain>",
        virt_type()
    )
}

/// Runs `virsh VERB <file holding xml>` on `host`.
fn virsh_with_file(host: &Host, verb: &str, name: &str, xml: &str) {
    let path = host.dir().join(format!("{name}.xml"));
    std::fs::write(&path, xml).unwrap();
    host.virsh(&[verb, &path.to_string_lossy()]).unwrap();
}

/// The guests of `vmctl --output json list ARGS`, none unreachable.
fn listed(lab: &Lab, args: &[&str]) -> Vec<Value> {
    let out = lab.vmctl_ok(&[&["--output", "json", "list"], args].concat());
    let json: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["unreachable"], Value::Array(vec![]), "{out}");
    json["guests"].as_array().unwrap().clone()
}

fn find<'a>(guests: &'a [Value], name: &str, host: &str) -> &'a Value {
    guests
        .iter()
        .find(|g| g["name"] == name && g["host"] == host)
        .unwrap_or_else(|| panic!("{name} on {host} not listed: {guests:?}"))
}

/// What a listing says of one guest.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Row {
    state: String,
    /// Now, and at most.
    vcpus: (u64, u64),
    /// KiB now, and at most.
    memory_kib: (u64, u64),
    disks: Vec<String>,
    persistent: bool,
    duplicate: bool,
}

fn row(g: &Value) -> Row {
    let number = |key: &str| g[key].as_u64().unwrap();
    let disks = g["disks"].as_array().unwrap().iter();
    Row {
        state: g["state"].as_str().unwrap().to_owned(),
        vcpus: (number("vcpus"), number("max_vcpus")),
        memory_kib: (number("memory_kib"), number("max_memory_kib")),
        disks: disks.map(|d| d.as_str().unwrap().to_owned()).collect(),
        persistent: g["persistent"].as_bool().unwrap(),
        duplicate: g["duplicate"].as_bool().unwrap(),
    }
}

/// A 1-vCPU, 64 MiB test guest without disks.
fn idle_row(state: &str, persistent: bool, duplicate: bool) -> Row {
    Row {
        state: state.to_owned(),
        vcpus: (1, 1),
        memory_kib: (65_536, 65_536),
        disks: vec![],
        persistent,
        duplicate,
    }
}

#[test]
fn list_shows_what_each_host_holds_for_shut_off_running_and_transient_guests() {
    let Some(lab) = lab_or_skip(&LabSpec::hosts(2)) else {
        return;
    };
    trust::install(&lab).unwrap();
    let (h1, h2) = (lab.nth(0), lab.nth(1));
    h1.exec(
        "qemu-img",
        &["create", "-q", "-f", "qcow2", QUIET_DISK, "16M"],
    )
    .unwrap();
    virsh_with_file(h1, "define", "quiet", &quiet_xml());
    h1.create_guest(&GuestSpec::idle("up1")).unwrap();
    let fleeting = GuestSpec::idle("fleeting").xml(&virt_type());
    virsh_with_file(h2, "create", "fleeting", &fleeting);
    for host in [h1, h2] {
        host.define_guest(&GuestSpec::idle("twin")).unwrap();
    }

    // Every guest, as defined or running; the CD-ROM drive holds nothing.
    let all = listed(&lab, &["--all"]);
    assert_eq!(all.len(), 5, "{all:?}");
    let quiet = Row {
        state: "shut off".into(),
        vcpus: (1, 3),
        memory_kib: (98_304, 131_072),
        disks: vec![QUIET_DISK.into()],
        persistent: true,
        duplicate: false,
    };
    assert_eq!(row(find(&all, "quiet", h1.name())), quiet);
    let up1 = idle_row("running", true, false);
    assert_eq!(row(find(&all, "up1", h1.name())), up1);
    let fleeting = idle_row("running", false, false);
    assert_eq!(row(find(&all, "fleeting", h2.name())), fleeting);
    let twin = idle_row("shut off", true, true);
    assert_eq!(row(find(&all, "twin", h1.name())), twin);
    assert_eq!(row(find(&all, "twin", h2.name())), twin);

    // Without --all, only the running ones, persistent or not.
    let running = listed(&lab, &[]);
    let mut names: Vec<&str> = running.iter().filter_map(|g| g["name"].as_str()).collect();
    names.sort();
    assert_eq!(names, ["fleeting", "up1"], "{running:?}");
    assert_eq!(row(find(&running, "fleeting", h2.name())), fleeting);
    assert_eq!(row(find(&running, "up1", h1.name())), up1);
}
