//! archscope: an analytical performance modeler and design-space explorer for ML workloads.
//!
//! Data flows one way: a [`workload`] (what runs) and a [`hardware`] description (where) go into
//! cost models (the [`roofline`] and the [`cycle`] models, behind the [`cost::CostModel`] trait),
//! which produce per-op [`cost::Ledger`]s that add up to a [`score`](mod@score). [`search`]
//! proposes design points without seeing any device; [`explore`] prices them, finds the Pareto
//! front and writes the report. [`mapping`] plans a scratchpad, [`placement`] spreads a graph
//! over several units, [`nas`] searches architectures, and [`measure`] and [`validate`] run the
//! same graphs on a real backend.
//!
//! The common types are re-exported here, and one call scores a model:
//!
//! ```
//! use archscope::{Hardware, QuantScheme, ScoreRequest, Format, load_model, render};
//!
//! let hw = Hardware::load("pixel8")?;
//! let model = load_model("llama-1b")?;
//! let quant = QuantScheme::parse("w4a16-g128")?;
//! let report = archscope::score(&hw, &model, &quant, &ScoreRequest::default())?;
//! let archscope::Report::Llm(s) = &report else { unreachable!("llama-1b is an LLM") };
//! let decode = s.phases.iter().find(|p| p.phase.name() == "decode").expect("both phases");
//! assert!(decode.tokens_per_s() > 0.0);
//! println!("{}", render(report.on(&hw).as_ref(), Format::Table)?);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![warn(missing_docs)]

mod api;
pub mod render;

pub use api::{Report, score};
#[cfg(all(feature = "tables", feature = "plots", feature = "solver"))]
pub use explore::{ExploreRequest, OutputOptions, explore};
pub use hardware::{Hardware, HardwareError};
pub use render::{Format, Render, render};
pub use score::{ScoreError, ScoreRequest};
pub use workload::{Graph, LlmConfig, Model, ModelError, QuantScheme, VisionModel, load_model};

pub mod cost;
pub mod cost_models;
pub mod cycle;
#[cfg(all(feature = "solver", feature = "nas"))]
pub mod experiments;
#[cfg(all(feature = "tables", feature = "plots", feature = "solver"))]
pub mod explore;
pub mod hardware;
#[cfg(feature = "solver")]
pub mod mapping;
#[cfg(feature = "measure")]
pub mod measure;
#[cfg(feature = "nas")]
pub mod nas;
pub mod offload;
pub mod parallel;
#[cfg(feature = "solver")]
pub mod placement;
pub mod roofline;
pub mod runtime;
pub mod score;
pub mod search;
pub mod serving;
pub mod speculative;
pub mod trust;
pub mod util;
#[cfg(feature = "measure")]
pub mod validate;
pub mod workload;

/// Files embedded at build time from `hardware-db/`, `runtimes/`, `workloads/`, `links/` and
/// `nodes/`.
pub mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded.rs"));
}
