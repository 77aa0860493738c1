//! libFuzzer entry of the `gguf_header` target; the body is [`archscope_fuzz::gguf_header`].
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| archscope_fuzz::gguf_header(data));
