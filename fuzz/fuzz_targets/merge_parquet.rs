//! libFuzzer entry of the `merge_parquet` target; the body is [`archscope_fuzz::merge_parquet`].
//! Panics inside polars, which `merge` catches, are let through (see
//! [`archscope_fuzz::let_polars_panics_unwind`]).
#![no_main]
libfuzzer_sys::fuzz_target!(
    init: archscope_fuzz::let_polars_panics_unwind(),
    |data: &[u8]| archscope_fuzz::merge_parquet(data)
);
