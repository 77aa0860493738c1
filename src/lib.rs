//! archscope: an analytical performance modeler and design-space explorer for ML workloads.
//!
//! Data flows one way: a [`workload`] (what runs) and a [`hardware`] description (where) go into
//! cost models ([`roofline`] and the [`cycle`] models, behind the [`cost::CostModel`] trait), which
//! produce per-op [`cost::Ledger`]s that add up to a [`score`]. [`search`] proposes design points
//! without seeing any device; [`explore`] prices them, finds the Pareto front and writes the report.

pub mod cost;
pub mod cost_models;
pub mod cycle;
pub mod explore;
pub mod hardware;
pub mod mapping;
pub mod measure;
pub mod nas;
pub mod placement;
pub mod roofline;
pub mod score;
pub mod search;
pub mod validate;
pub mod workload;

/// The systolic-array model, at its former path: it lives in [`cycle::systolic`], and this
/// module only re-exports it (with its timing convention also under its former name, `Mode`)
/// so that existing callers keep compiling.
pub mod systolic {
    pub use crate::cycle::systolic::Timing as Mode;
    pub use crate::cycle::systolic::*;
}

/// Files embedded at build time from `hardware-db/` and `workloads/`.
pub mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded.rs"));
}
