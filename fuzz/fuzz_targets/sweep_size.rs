//! libFuzzer entry of the `sweep_size` target; the body is [`archscope_fuzz::sweep_size`].
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| archscope_fuzz::sweep_size(data));
