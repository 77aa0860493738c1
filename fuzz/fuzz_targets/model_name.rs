//! libFuzzer entry of the `model_name` target; the body is [`archscope_fuzz::model_name`].
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| archscope_fuzz::model_name(data));
