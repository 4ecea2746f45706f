//! `vmctl-pki`: the fleet's certificate authority and everything about
//! certificates: issuing, validating, revoking, and which files a host needs.
#![deny(clippy::print_stdout, clippy::print_stderr)]
