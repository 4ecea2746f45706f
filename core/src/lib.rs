//! `vmctl-core`: hosts, guests and how they move. Knows libvirt and SSH;
//! knows nothing about terminals.
#![deny(clippy::print_stdout, clippy::print_stderr)]

pub mod inventory;

pub mod guest;
pub mod libvirt;
pub mod migrate;

pub mod bootstrap;
pub mod ssh;
