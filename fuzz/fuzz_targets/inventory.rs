//! Fuzz target: see `vmctl_fuzz::inventory`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| vmctl_fuzz::inventory(data));
