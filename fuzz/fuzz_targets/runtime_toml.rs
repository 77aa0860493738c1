//! libFuzzer entry of the `runtime_toml` target; the body is [`archscope_fuzz::runtime_toml`].
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| archscope_fuzz::runtime_toml(data));
