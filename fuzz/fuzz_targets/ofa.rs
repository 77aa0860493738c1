//! libFuzzer entry of the `ofa` target; the body is [`archscope_fuzz::ofa`].
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| archscope_fuzz::ofa(data));
