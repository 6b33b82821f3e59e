#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| adbandit_fuzz::account(data));
