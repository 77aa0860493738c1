//! libFuzzer entry of the `scalesim` target; the body is [`archscope_fuzz::scalesim`].
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| archscope_fuzz::scalesim(data));
