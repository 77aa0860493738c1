//! The output of every planner: an operator order, the residency intervals
//! (tensor, steps, scratchpad offset) and the write-backs, plus the reported
//! traffic and solver statistics. Serialises to JSON.

use serde::{Deserialize, Serialize};

/// How trustworthy a plan's objective is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanStatus {
    /// The ILP proved this plan optimal (bound equals objective).
    Optimal,
    /// A valid plan without an optimality proof; the solver stopped for a reason
    /// other than the time limit (for example a user-set gap tolerance), or the
    /// plan was stitched from several ILP solutions (divide and conquer).
    Feasible,
    /// The ILP hit its time limit; the plan is the best incumbent found
    /// (possibly the heuristic warm start) and `bound_bytes`/`gap` say how far
    /// from optimal it may be.
    TimedOut,
    /// Produced by a heuristic; no bound.
    Heuristic,
}

/// Why a tensor became resident at the start of a residency interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// Written by its producer, which runs at the interval's first step.
    Created,
    /// Loaded from off-chip memory just before the interval's first step
    /// (costs the tensor's bytes).
    Loaded,
}

/// One contiguous stay of a tensor in the scratchpad at a fixed address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Residency {
    /// Tensor index.
    pub tensor: usize,
    /// First step (position in `order`) at which the tensor is resident.
    pub first_step: usize,
    /// Last step at which the tensor is resident (inclusive).
    pub last_step: usize,
    /// Byte offset in the scratchpad (a multiple of the granularity).
    pub offset_bytes: u64,
    /// Created by its producer or loaded from off-chip memory.
    pub origin: Origin,
}

/// A write-back of a produced tensor to off-chip memory, issued while the
/// tensor is resident at `step` (costs the tensor's bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Store {
    /// Tensor index.
    pub tensor: usize,
    /// Step at which the tensor is resident and written back.
    pub step: usize,
}

/// Which model produced an ILP plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SolvePath {
    /// The size-only relaxation; its residency plan was packed greedily.
    RelaxationGreedyPacking,
    /// The size-only relaxation; its residency plan was packed by the packing ILP.
    RelaxationPackingIlp,
    /// The full model with addresses.
    #[default]
    FullModel,
    /// No model (heuristic).
    None,
}

/// Size of the ILP that produced a plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ModelStats {
    /// Binary columns.
    pub binaries: usize,
    /// Continuous columns.
    pub continuous: usize,
    /// Constraint rows.
    pub rows: usize,
    /// Which model the plan came from.
    pub path: SolvePath,
}

/// Report on one window of a divide-and-conquer plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PartReport {
    /// First step of the window.
    pub first_step: usize,
    /// Number of operators in the window.
    pub ops: usize,
    /// Status of the window's ILP.
    pub status: PlanStatus,
    /// Non-compulsory bytes incurred in the window.
    pub non_compulsory_bytes: u64,
    /// Wall-clock seconds spent on the window.
    pub solve_s: f64,
    /// Model size of the window's ILP.
    pub model: ModelStats,
}

/// A complete mapping: order, residencies, write-backs and reported traffic.
/// Check it with [`super::verify`] before trusting it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// Which planner produced it (e.g. `"ilp"`, `"default"`, `"arena"`, `"divide_and_conquer"`).
    pub method: String,
    /// Optimality status.
    pub status: PlanStatus,
    /// Operator indices in execution order; step `t` runs `order[t]`.
    pub order: Vec<usize>,
    /// Scratchpad residency intervals.
    pub residencies: Vec<Residency>,
    /// Write-backs to off-chip memory.
    pub stores: Vec<Store>,
    /// Compulsory off-chip bytes (first load of each read weight/input, one store per output).
    pub compulsory_bytes: u64,
    /// Off-chip bytes beyond the compulsory ones (spill stores and reloads); the objective.
    pub non_compulsory_bytes: u64,
    /// Proven lower bound on the non-compulsory bytes, when a solver supplied one.
    pub bound_bytes: Option<f64>,
    /// Relative gap `(objective - bound) / objective` (0 when both are 0), when a bound exists.
    pub gap: Option<f64>,
    /// Wall-clock seconds spent building and solving.
    pub solve_s: f64,
    /// Size of the ILP, for ILP plans.
    pub model: Option<ModelStats>,
    /// Per-window reports, for divide-and-conquer plans.
    pub parts: Vec<PartReport>,
}

impl Plan {
    /// Total off-chip bytes (compulsory plus non-compulsory).
    pub fn total_bytes(&self) -> u64 {
        self.compulsory_bytes + self.non_compulsory_bytes
    }

    /// Serialises the plan to pretty-printed JSON.
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string_pretty(self)
    }
}

/// Relative gap between an objective and a lower bound, 0 when both are 0.
pub(crate) fn relative_gap(objective: f64, bound: f64) -> f64 {
    let diff = (objective - bound).max(0.0);
    if diff == 0.0 {
        0.0
    } else {
        diff / objective.abs().max(f64::MIN_POSITIVE)
    }
}
