//! The integration tests, one crate (one binary to compile and link) with a module per area.
//! Shared helpers live in [`common`]: the command-line runner, scratch directories, the test
//! data paths, the optional `../shared` reference data and the device-file builder.

mod common;

mod calibrate_validate;
mod calibrated_terms;
mod cli;
mod cycle_models;
mod explore;
mod explore_stream;
mod fuzz_smoke;
mod gguf;
mod hardware_errors;
mod hf_cache;
mod hostile;
mod llm_families;
mod llm_ledger;
mod mapping;
mod mapping_cnn;
mod mapping_priced;
mod mcu;
mod measure;
mod nas_cli;
mod nas_ofa;
mod offload;
mod onnx_import;
mod parallel;
mod pareto_props;
mod placement;
mod report_interact;
mod report_render;
mod runtime;
mod serving;
mod slurm;
mod special_ops;
mod speculative;
mod systolic_cost;
mod systolic_scalesim;
mod trust;
mod vision_models;
