//! Fuzz target: see `vmctl_fuzz::size`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| vmctl_fuzz::size(data));
