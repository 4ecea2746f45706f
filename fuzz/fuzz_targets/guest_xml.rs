//! Fuzz target: see `vmctl_fuzz::guest_xml`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| vmctl_fuzz::guest_xml(data));
