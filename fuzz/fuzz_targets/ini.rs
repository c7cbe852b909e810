//! cargo-fuzz target `ini`: see tests/fuzz/targets.rs, shared with the
//! bounded in-suite run (tests/fuzz.rs).
#![no_main]

#[path = "../../tests/fuzz/targets.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::ini(data));
