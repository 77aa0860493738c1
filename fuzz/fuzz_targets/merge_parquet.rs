//! libFuzzer entry of the `merge_parquet` target; the body is [`archscope_fuzz::merge_parquet`].
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| archscope_fuzz::merge_parquet(data));
