//! Fuzz target: see `vmctl_fuzz::pem`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| vmctl_fuzz::pem(data));
