//! `vmctl-pki`: the fleet's certificate authority and everything about
//! certificates: issuing, validating, revoking, and which files a host needs.
//!
//! The CA lives on the admin machine in a PKI directory ([`Layout`]).
//! [`Authority::init`] creates it, [`Authority::load`] opens it, and a
//! loaded authority issues ([`Authority::issue`]), renews, and revokes
//! leaf certificates. [`validate()`] checks any set of files the way libvirt
//! and QEMU will; [`host_install_set`] says what a host must receive;
//! [`gnutls_dn`] gives the DN string libvirt's allowed-DN list matches.
#![deny(clippy::print_stdout, clippy::print_stderr)]

mod algorithm;
mod ca;
mod dn;
pub mod fsio;
mod index;
mod install;
mod issue;
mod keyfile;
mod layout;
mod leaf;
mod names;
mod revoke;
mod serial;
pub mod validate;
mod verify;

pub use algorithm::{KeyAlgorithm, UnknownAlgorithm};
pub use ca::{Authority, CaOptions, InitError, LoadError, ca_key_is_encrypted};
pub use dn::{DnError, gnutls_dn};
pub use index::{Index, IndexEntry, IndexError};
pub use install::{InstallFile, InstallSet, InstallSetError, QemuKeyAccess, host_install_set};
pub use issue::{IssueError, IssueOutcome, Reuse, check_member_name, member_paths};
pub use keyfile::{KeyFileError, Passphrase};
pub use layout::{Layout, MemberFiles};
pub use leaf::{CLOCK_SKEW, LeafKind, LeafRequest, SignedLeaf, Subject, leaf_params};
pub use names::{MAX_VALIDITY_DAYS, is_dns_name, validity_in_range};
pub use revoke::{CRL_LIFETIME, RevokeError};
pub use validate::{Check, FileSet, Finding, Severity, ValidateOptions, validate};
