//! libFuzzer entry of the `onnx_bytes` target; the body is [`archscope_fuzz::onnx_bytes`].
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| archscope_fuzz::onnx_bytes(data));
