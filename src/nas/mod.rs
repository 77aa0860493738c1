//! Neural architecture search driven by archscope's cost models: the once-for-all (OFA) CNN
//! spaces and an elastic LLM shape space.
//!
//! * [`space`]: the OFA MobileNetV3 (w1.0, w1.2), ProxylessNAS (w1.3) and ResNet50 spaces and
//!   their arch dicts, read and written as OFA's own JSON;
//! * [`net`]: a concrete network as a chain of segments (conv, MBConv, bottleneck, pool, head)
//!   that lowers to an archscope [`Graph`](crate::workload::Graph) with exact shapes, and counts
//!   MACs and parameters the way OFA does;
//! * [`netconfig`]: OFA's released `net.config` files;
//! * [`lut`]: OFA's latency look-up tables (YAML);
//! * [`efficiency`]: cost of an arch, from a LUT or from any archscope device and unit, with
//!   per-segment caching so that a search can price tens of thousands of subnets;
//! * [`predictor`]: OFA's accuracy predictors, labelled proxies, and predictors fitted to a
//!   user's (arch, accuracy) CSV;
//! * [`evolution`]: OFA's evolution finder and random search behind an ask/tell interface that
//!   never sees the hardware;
//! * [`pareto`]: non-dominated sorting for Pareto searches;
//! * [`report`]: the output directory (CSV, JSON, SVG scatter);
//! * [`llm`]: elastic LLM shapes jointly with quantization, scored by a scaling-law proxy;
//! * [`study`]: whole searches as the command line runs them, and their report directory.

#![warn(missing_docs)]

pub mod efficiency;
pub mod evolution;
pub mod llm;
pub mod lut;
pub mod net;
pub mod netconfig;
pub mod pareto;
pub mod predictor;
pub mod report;
pub mod space;
pub mod study;

/// Errors of the NAS module. Every variant names the file (or input) and what was expected.
#[derive(Debug, thiserror::Error)]
pub enum NasError {
    /// A file could not be read or written.
    #[error("{path}: {action}: {source}")]
    Io {
        /// File path.
        path: String,
        /// `cannot read`, `cannot write`, ...
        action: &'static str,
        /// Cause.
        source: std::io::Error,
    },
    /// Malformed JSON (arch dicts, net.config).
    #[error("{path}:{line}:{column}: {message}")]
    Json {
        /// File path (or `<arch>` for inline text).
        path: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What the parser said.
        message: String,
    },
    /// A value that parses but is not valid for its purpose.
    #[error("{path}: {field}: {message}")]
    Invalid {
        /// File path, or a description of the input.
        path: String,
        /// Field (dotted path) or entry.
        field: String,
        /// What was expected.
        message: String,
    },
    /// Pricing a subnet on a device failed (unknown unit, infeasible op, bad cost model).
    #[error(transparent)]
    Score(#[from] crate::score::ScoreError),
    /// A search that cannot proceed (e.g. a constraint no subnet meets).
    #[error("search: {0}")]
    Search(String),
}

impl NasError {
    /// A shorthand for [`NasError::Invalid`].
    pub fn invalid(
        path: impl Into<String>,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        NasError::Invalid {
            path: path.into(),
            field: field.into(),
            message: message.into(),
        }
    }

    /// A [`NasError::Json`] from a serde_json error.
    pub fn json(path: impl Into<String>, e: &serde_json::Error) -> Self {
        NasError::Json {
            path: path.into(),
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        }
    }

    /// Reads a whole file as text.
    pub fn read(path: &std::path::Path) -> Result<String, NasError> {
        std::fs::read_to_string(path).map_err(|source| NasError::Io {
            path: path.display().to_string(),
            action: "cannot read",
            source,
        })
    }
}
