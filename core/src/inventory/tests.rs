//! Tests of loading and validating inventories from real files.

use std::fs;
use std::path::{Path, PathBuf};

use super::*;

fn env(home: &Path) -> Environment {
    Environment {
        home: Some(home.to_owned()),
        ..Environment::default()
    }
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    fs::write(&path, text).unwrap();
    path
}

const FLEET: &str = r#"
[pki]
organization = "Lab"
country = "ES"

[ssh]
user = "admin"
identity = "~/.ssh/id_ed25519"

[hosts.host1]
address = "host1.example.test"
names = ["host1"]
ips = ["192.0.2.1"]

[hosts.host2]
address = "192.0.2.2"
ssh_port = 2222
restart_command = "sv restart libvirtd"
"#;

#[test]
fn a_fleet_file_becomes_typed_values() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "vmctl.toml", FLEET);
    let inv =
        Inventory::load_from(&Sources::files(vec![file.clone()], None), &env(dir.path())).unwrap();

    assert_eq!(inv.sources, vec![file]);
    assert_eq!(inv.pki.dir, dir.path().join(".local/share/vmctl/pki"));
    assert_eq!(inv.pki.country.as_deref(), Some("ES"));
    assert_eq!(inv.ssh.identity, Some(dir.path().join(".ssh/id_ed25519")));
    assert_eq!(inv.ssh.known_hosts, dir.path().join(".ssh/known_hosts"));

    let host1 = inv.host("host1").unwrap();
    assert_eq!(host1.ssh_port, 22);
    assert_eq!(
        host1.certificate_dns_names(),
        vec!["host1.example.test", "host1"]
    );
    let host2 = inv.host("host2").unwrap();
    assert_eq!(host2.certificate_dns_names(), vec!["host2"]);
    assert_eq!(
        host2.certificate_ips(),
        vec!["192.0.2.2".parse::<std::net::IpAddr>().unwrap()]
    );
}

#[test]
fn later_files_override_and_missing_ones_are_not_listed() {
    let dir = tempfile::tempdir().unwrap();
    let base = write(dir.path(), "base.toml", FLEET);
    let over = write(dir.path(), "over.toml", "[pki]\ndir = \"/srv/pki\"\n");
    let missing = dir.path().join("absent.toml");
    let sources = Sources::files(vec![base.clone(), missing], Some(over.clone()));
    let inv = Inventory::load_from(&sources, &env(dir.path())).unwrap();
    assert_eq!(inv.pki.dir, PathBuf::from("/srv/pki"));
    assert_eq!(inv.pki.organization, "Lab");
    assert_eq!(inv.sources, vec![base, over]);
}

#[test]
fn explicit_config_must_exist() {
    let dir = tempfile::tempdir().unwrap();
    let absent = dir.path().join("nope.toml");
    let err = Inventory::load_from(
        &Sources::files(vec![], Some(absent.clone())),
        &env(dir.path()),
    )
    .unwrap_err();
    assert!(matches!(err, InventoryError::MissingConfig { path } if path == absent));
}

#[test]
fn errors_name_file_key_and_expectation() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "[hosts.h1]\naddress = \"a\"\nssh_port = \"x\"\n",
            "hosts.h1.ssh_port",
            None,
        ),
        ("[hosts.h1]\nadress = \"a\"\n", "hosts.h1", Some("address")),
        ("[pki]\ndri = \"/x\"\n", "pki", Some("dir")),
        ("[hosts.h1]\nnames = []\n", "hosts.h1", None),
    ];
    for (text, key, suggestion) in cases {
        let file = write(dir.path(), "bad.toml", text);
        let err = Inventory::load_from(&Sources::files(vec![file.clone()], None), &env(dir.path()))
            .unwrap_err();
        let InventoryError::Invalid {
            origin,
            key: got,
            suggestion: s,
            ..
        } = &err
        else {
            panic!("{err:?}")
        };
        assert_eq!(origin, &file.display().to_string(), "{text}");
        assert!(got.starts_with(key), "{text}: {got}");
        assert_eq!(s.as_deref(), suggestion, "{text}");
        assert!(err.to_string().contains("bad.toml"), "{err}");
    }
}

#[test]
fn nonsense_values_are_rejected_with_their_key() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("[pki]\ncountry = \"Spain\"\n", "pki.country"),
        ("[hosts.h1]\naddress = \"\"\n", "hosts.h1.address"),
        (
            "[hosts.h1]\naddress = \"a\"\nnames = [\"bad name\"]\n",
            "hosts.h1.names",
        ),
        (
            "[hosts.h1]\naddress = \"a\"\nssh_port = 0\n",
            "hosts.h1.ssh_port",
        ),
    ];
    for (text, key) in cases {
        let file = write(dir.path(), "bad.toml", text);
        let err =
            Inventory::load_from(&Sources::files(vec![file], None), &env(dir.path())).unwrap_err();
        assert!(
            matches!(&err, InventoryError::Rejected { key: k, .. } if k == key),
            "{text}: {err:?}"
        );
    }
}

#[test]
fn unknown_host_lists_the_known_ones() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "vmctl.toml", FLEET);
    let inv = Inventory::load_from(&Sources::files(vec![file], None), &env(dir.path())).unwrap();
    let err = inv.host("host3").unwrap_err();
    assert_eq!(
        err.to_string(),
        "unknown host `host3`; known hosts: host1, host2"
    );
    assert_eq!(inv.select(&[]).unwrap().len(), 2);
    assert!(inv.select(&["host1".into(), "nope".into()]).is_err());
}

#[test]
#[allow(
    clippy::result_large_err,
    reason = "figment::Jail fixes the closure's error type"
)]
fn environment_overrides_files_and_ignores_flat_variables() {
    figment::Jail::expect_with(|jail| {
        jail.create_file("vmctl.toml", FLEET)?;
        jail.set_env("VMCTL_PKI__DIR", "/from/env");
        jail.set_env("VMCTL_HOSTS__HOST1__SSH_PORT", "2200");
        jail.set_env("VMCTL_CA_PASSPHRASE", "not config");
        let home = jail.directory().to_owned();
        let sources = Sources {
            env_prefix: Some("VMCTL_".into()),
            ..Sources::files(vec!["vmctl.toml".into()], None)
        };
        let inv = Inventory::load_from(&sources, &env(&home)).unwrap();
        assert_eq!(inv.pki.dir, PathBuf::from("/from/env"));
        assert_eq!(inv.host("host1").unwrap().ssh_port, 2200);
        Ok(())
    });
}

#[test]
fn tilde_expansion() {
    let e = env(Path::new("/home/u"));
    assert_eq!(e.expand("~/x").unwrap(), PathBuf::from("/home/u/x"));
    assert_eq!(e.expand("~").unwrap(), PathBuf::from("/home/u"));
    assert_eq!(e.expand("/abs").unwrap(), PathBuf::from("/abs"));
    assert_eq!(Environment::default().expand("~/x"), None);
}

#[test]
fn an_inventory_given_as_text_is_read_like_a_file() {
    let home = Path::new("/home/u");
    let inv = Inventory::from_toml("fleet.toml", FLEET, &env(home)).unwrap();
    assert_eq!(inv.hosts.len(), 2);
    assert!(inv.sources.is_empty());
    let err = Inventory::from_toml("fleet.toml", "[hosts.h1\n", &env(home)).unwrap_err();
    assert!(
        err.to_string().starts_with("fleet.toml: line 1, column 10"),
        "{err}"
    );
}

#[test]
fn explicit_config_that_is_a_directory_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let sources = Sources::files(vec![], Some(dir.path().to_owned()));
    let err = Inventory::load_from(&sources, &env(dir.path())).unwrap_err();
    assert!(matches!(err, InventoryError::ConfigIsDirectory { .. }));
    assert!(
        err.to_string().ends_with("is a directory, not a file"),
        "{err}"
    );
}

#[test]
fn empty_pki_dir_and_ssh_settings_are_rejected_by_key() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("[pki]\ndir = \"\"\n", "pki.dir"),
        ("[ssh]\nuser = \"\"\n", "ssh.user"),
        ("[ssh]\nuser = \" \"\n", "ssh.user"),
        ("[ssh]\nidentity = \"\"\n", "ssh.identity"),
        ("[ssh]\nknown_hosts = \"\"\n", "ssh.known_hosts"),
    ];
    for (text, key) in cases {
        let path = write(dir.path(), "vmctl.toml", text);
        let sources = Sources::files(vec![], Some(path));
        let err = Inventory::load_from(&sources, &env(dir.path())).unwrap_err();
        assert_eq!(err.to_string(), format!("key `{key}`: must not be empty"));
    }
}
