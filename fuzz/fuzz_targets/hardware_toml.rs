//! libFuzzer entry of the `hardware_toml` target; the body is [`archscope_fuzz::hardware_toml`].
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| archscope_fuzz::hardware_toml(data));
