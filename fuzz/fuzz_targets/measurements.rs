//! libFuzzer entry of the `measurements` target; the body is [`archscope_fuzz::measurements`].
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| archscope_fuzz::measurements(data));
