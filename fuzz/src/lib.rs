//! What each fuzz target checks, as plain functions over bytes, so that a
//! crash found by the fuzzer can be replayed by a test.
//!
//! Beyond "never panics", each checks a promise the CLI relies on: errors
//! are one line (bad input is told in one line), and a size prints back
//! into itself.

use std::path::PathBuf;
use std::str::FromStr;

use vmctl_core::guest::{Size, parse_facts};
use vmctl_core::inventory::{Environment, Inventory};
use vmctl_core::migrate::disks;
use vmctl_pki::validate::{FileSet, ValidateOptions, validate};

/// An inventory file: parsed and validated, or refused in one line.
pub fn inventory(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let env = Environment {
        home: Some(PathBuf::from("/home/fuzz")),
        ..Environment::default()
    };
    if let Err(e) = Inventory::from_toml("fuzz.toml", text, &env) {
        let shown = e.to_string();
        assert!(!shown.contains('\n'), "a multi-line error: {shown:?}");
    }
}

/// A size argument: refused, or a positive size whose exact printing
/// parses back to itself.
pub fn size(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(size) = Size::from_str(text) else {
        return;
    };
    assert!(size.bytes() > 0);
    let shown = size.to_string();
    if !shown.contains('.') {
        assert_eq!(
            Size::from_str(&shown),
            Ok(size),
            "{text:?} printed as {shown}"
        );
    }
}

/// Domain XML as libvirt hands it back: facts and disks, or an error.
pub fn guest_xml(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = parse_facts(text);
    let _ = disks("fuzz", text);
}

/// Certificate and key files as `vmctl pki validate --dir` reads them:
/// the input, split at `\0`, becomes the CA certificate, the client
/// certificate and the client key. Every finding is one line.
pub fn pem(data: &[u8]) {
    let dir = std::env::temp_dir().join(format!("vmctl-fuzz-pem-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let mut parts = data.splitn(3, |b| *b == 0);
    for name in ["cacert.pem", "clientcert.pem", "clientkey.pem"] {
        let part = parts.next().unwrap_or_default();
        if std::fs::write(dir.join(name), part).is_err() {
            return;
        }
    }
    for finding in validate(&FileSet::detect(&dir), &ValidateOptions::default()) {
        let shown = &finding.message;
        assert!(!shown.contains('\n'), "a multi-line finding: {shown:?}");
    }
}
