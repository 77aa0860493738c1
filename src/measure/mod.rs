//! Measurement on the machine archscope runs on: microbenchmarks that describe the host as a
//! hardware file ([`calibrate`]), and a real backend that executes archscope graphs
//! ([`backend`]) so that `validate` can compare the roofline's predictions with measured times.
//!
//! # Choice of backend
//!
//! The measured backend is candle (candle-core with candle-nn's fused CPU kernels), used on its
//! CPU device:
//! * it is a real inference runtime with a CPU path that Hugging Face models run on, and it is
//!   already a dependency, so no C++ toolchain or Python is needed and `cargo test` exercises it;
//! * its float GEMM is the `gemm` crate (packed AVX2/FMA and NEON micro-kernels, multi-threaded
//!   with rayon) and its quantized matmul runs ggml's q8_0/q4_0 blocks with llama.cpp-style
//!   integer dot products, so both compute-bound and bandwidth-bound regimes are exercised;
//! * candle-nn adds fused softmax, RMSNorm, LayerNorm and RoPE kernels; without them each would
//!   be four to six separate passes over memory, which no serious runtime does.
//!
//! Alternatives considered: llama.cpp or ONNX Runtime through FFI (faster kernels, but a C/C++
//! build in CI and no per-op control from Rust), and hand-written kernels (not a real backend).
//!
//! Timing is around eager candle calls: warm-up runs, then repeated samples whose median is
//! reported with its spread ([`timing`], [`stats`]). One-thread runs read the process CPU time,
//! so that other processes on a shared machine do not count; several threads read wall time.
//! Microbenchmarks of [`calibrate`] read each thread's CPU time.

pub mod backend;
pub mod calibrate;
pub mod compose;
pub mod kernels;
pub mod probe;
pub mod stats;
pub mod timing;

pub use backend::{CandleBackend, Env, GraphTiming};
pub use stats::Summary;
pub use timing::MeasurePlan;

/// Errors of measurement, calibration and validation.
#[derive(Debug, thiserror::Error)]
pub enum MeasureError {
    /// A candle operation failed.
    #[error("candle: {0}")]
    Candle(#[from] candle_core::Error),
    /// An op or tensor that the candle backend cannot run.
    #[error("`{op}` cannot run on the candle backend: {why}")]
    Unsupported {
        /// Op or tensor name.
        op: String,
        /// Why.
        why: String,
    },
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// File.
        path: String,
        /// Cause.
        source: std::io::Error,
    },
    /// The output file exists and `--force` was not given.
    #[error("{path} already exists; pass --force to overwrite it")]
    Exists {
        /// File.
        path: String,
    },
    /// The host could not be described (e.g. no usable timer result).
    #[error("calibration: {0}")]
    Calibration(String),
    /// A generated hardware file failed validation (a bug in calibrate).
    #[error(transparent)]
    Hardware(#[from] crate::hardware::HardwareError),
}
