//! libFuzzer entry of the `hf_config` target; the body is [`archscope_fuzz::hf_config`].
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| archscope_fuzz::hf_config(data));
