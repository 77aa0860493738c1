//! `archscope explore`: sweep a design space, find the Pareto front, and write a report.
//!
//! The pipeline: an [`ExploreRequest`] (the command line) resolves into an [`ExploreSpec`]
//! (every input made explicit, the device and model text included, so a run can be repeated and
//! shards merged; [`request`]); a [`Session`] builds the [`Space`](crate::search::Space) and an
//! [`Evaluator`] from the spec and runs the ask/tell loop ([`session`]); [`analyze`] applies
//! constraints and computes the fronts ([`analysis`]); [`report`] writes tables, plots and
//! `report.html`. A run streams: points are priced, tallied and written chunk by chunk
//! ([`stream`]), so memory does not grow with the point count. With `--shard I/N` a run writes
//! only its part ([`table::ParquetStream`]);
//! [`merge()`](merge::merge) rebuilds the results from the parts ([`mod@merge`]).
//!
//! Every item is re-exported here, so `archscope::explore::X` names it whatever file holds it.

pub mod analysis;
pub mod cnn;
pub mod eval;
pub mod files;
pub mod llm;
pub mod merge;
pub mod parallel;
pub mod plots;
pub mod report;
pub mod request;
pub mod runtimes;
pub mod session;
pub mod stream;
pub mod table;
pub mod units;

pub use analysis::{Analysis, Scenario, analyze, direction_of, fmt_num, reason_kind};
pub use cnn::CnnEvaluator;
pub use eval::{Evaluator, MetricDef, Outcome, PhaseDetail};
pub use llm::LlmEvaluator;
pub use merge::{merge, merge_parts};
pub use parallel::ParallelEvaluator;
pub use request::{
    Constraint, DEFAULT_MAPPING_TIME_S, ExploreRequest, ExploreSpec, MappingSpec, NodeSpec,
    WorkloadSpec, parse_bytes,
};
pub use runtimes::{DEFAULT_RUNTIME, RuntimeSpec};
pub use session::{
    CHUNK, Feed, Finished, OutputOptions, PROGRESS_MIN_POINTS, Results, Session, build_space,
    explore, finish, finish_stream,
};
pub use stream::{Counts, Judge, Source, Spill, Tally};

use crate::hardware::HardwareError;
use crate::search::{SpaceError, SweepError};
use crate::workload::ModelError;

/// Errors of exploration.
#[derive(Debug, thiserror::Error)]
pub enum ExploreError {
    /// Bad device.
    #[error(transparent)]
    Hardware(#[from] HardwareError),
    /// Bad model.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// Bad sweep.
    #[error(transparent)]
    Sweep(#[from] SweepError),
    /// Bad space or shard.
    #[error(transparent)]
    Space(#[from] SpaceError),
    /// Evaluator set-up failed.
    #[error(transparent)]
    Setup(#[from] llm::LlmSetupError),
    /// A request that makes no sense (unknown objective, bad limit, ...).
    #[error("{0}")]
    Request(String),
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Cause.
        source: std::io::Error,
    },
    /// Writing a table, plot or page failed.
    #[error("{path}: cannot write: {message}")]
    Write {
        /// The file.
        path: String,
        /// Cause.
        message: String,
    },
    /// A table could not be built or read.
    #[error("table: {0}")]
    Table(String),
    /// The output directory exists.
    #[error("{0} already exists; pass --force to write over it, or --out to choose another")]
    Exists(String),
    /// Parts that do not belong together.
    #[error("merge: {0}")]
    Merge(String),
}
