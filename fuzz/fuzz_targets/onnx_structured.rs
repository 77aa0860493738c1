//! libFuzzer entry of the `onnx_structured` target; the body is [`archscope_fuzz::onnx_structured`].
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| archscope_fuzz::onnx_structured(data));
