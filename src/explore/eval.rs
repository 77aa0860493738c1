//! The evaluator side of exploration: what an evaluator reports for each point, and the detail
//! of one point that the report plots (per-op ledgers of each phase on its unit).
//!
//! An evaluator owns the device and the workload; the search never sees them. A workload kind
//! plugs in by implementing [`Evaluator`]: the LLM evaluator ([`super::llm`], prefill and decode)
//! and the CNN evaluator ([`super::cnn`], one inference phase over units × precisions × batch).

use crate::cost::Ledger;
use crate::hardware::Hardware;
use crate::search::{Direction, Point};
use crate::workload::Graph;
use rayon::prelude::*;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Arc;

/// A metric an evaluator reports for every point; its name is the table column and carries the
/// unit (`_s`, `_j`, `_bytes`, `_per_s`).
#[derive(Clone, Debug, PartialEq)]
pub struct MetricDef {
    /// Column name, e.g. `decode_latency_s`.
    pub name: &'static str,
    /// Which way is better.
    pub direction: Direction,
    /// Short description for plot axes and the report, with the unit.
    pub label: &'static str,
}

/// What an evaluator says about one point.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    /// One value per [`Evaluator::metrics`] entry; `None` where it could not be computed (for
    /// example, a phase whose dtype the unit cannot run).
    pub metrics: Vec<Option<f64>>,
    /// One value per [`Evaluator::labels`] entry (e.g. what bounds each phase).
    pub labels: Vec<String>,
    /// Why the point cannot run (dtype, memory, invalid what-if device); `None` if it can.
    pub infeasible: Option<String>,
}

impl Outcome {
    /// An outcome from metrics, labels and the reasons the point cannot run (none: feasible).
    /// A metric that is not a finite number (a device figure that divides by zero) is dropped
    /// and makes the point infeasible, saying so.
    pub fn new(mut metrics: Vec<Option<f64>>, labels: Vec<String>, mut why: Vec<String>) -> Self {
        if metrics.iter().flatten().any(|v| !v.is_finite()) {
            why.push("a metric is not a finite number (check the device figures)".into());
            for v in metrics.iter_mut() {
                if v.is_some_and(|x| !x.is_finite()) {
                    *v = None;
                }
            }
        }
        Outcome {
            metrics,
            labels,
            infeasible: (!why.is_empty()).then(|| why.join("; ")),
        }
    }
}

/// One priced phase of one point, for the roofline and per-layer plots.
#[derive(Clone, Debug)]
pub struct PhaseDetail {
    /// Phase name (`prefill`, `decode`, or `inference`).
    pub phase: String,
    /// The device variant the point ran on.
    pub hw: Arc<Hardware>,
    /// Unit index in `hw`.
    pub unit: usize,
    /// The phase graph.
    pub graph: Arc<Graph>,
    /// One ledger per op of `graph`.
    pub per_op: Vec<Ledger>,
    /// Calibrated (efficiencies applied) or ideal roofline.
    pub calibrated: bool,
    /// How the phase ran when not on `unit` alone (an ILP placement: each op's ledger is on the
    /// unit the placement chose, and `unit` is the busiest one); empty for one unit.
    pub note: String,
}

impl PhaseDetail {
    /// The unit's compute ceilings and bandwidth slopes as its cost model sees them, in the
    /// phase's mode (a CPU-model unit running fewer threads than cores has the ceilings of the
    /// running threads); the unit's own figures where the model cannot be built.
    pub fn ceilings(&self) -> crate::cost::Ceilings {
        let mode = if self.calibrated {
            crate::cost::Mode::Calibrated
        } else {
            crate::cost::Mode::Ideal
        };
        match crate::cost_models::model_for(&self.hw, self.unit, mode) {
            Ok(m) => m.ceilings(),
            Err(_) => crate::cost::Ceilings::of_unit(&self.hw, self.unit, mode),
        }
    }
}

/// The detail of a phase placed by the ILP: each op priced on the unit the placement gave it
/// (that unit's cost model and residency), drawn against the busiest unit's roofline.
pub fn placed_detail(
    phase: &str,
    hw: &Arc<Hardware>,
    graph: &Arc<Graph>,
    placed: &super::units::Placed,
    mode: crate::cost::Mode,
) -> Option<PhaseDetail> {
    let p = &placed.placement;
    if p.ops.len() != graph.ops.len() {
        return None;
    }
    let dev: Vec<usize> = p
        .units
        .iter()
        .map(|n| hw.unit_index(Some(n)).ok())
        .collect::<Option<Vec<_>>>()?;
    let mut busy = vec![0.0f64; dev.len()];
    let mut per_op = vec![Ledger::zero(); graph.ops.len()];
    for (u, &d) in dev.iter().enumerate() {
        let ops: Vec<usize> = (0..graph.ops.len())
            .filter(|&i| p.ops[i].unit == u)
            .collect();
        if ops.is_empty() {
            continue;
        }
        let model = crate::cost_models::model_for(hw, d, mode).ok()?;
        let res = crate::cost::residency(hw, d, graph);
        for i in ops {
            let l = model
                .cost(graph, &res, crate::workload::OpId(i as u32))
                .ok()?;
            busy[u] += l.latency_s;
            per_op[i] = l;
        }
    }
    let top = (0..dev.len()).max_by(|&a, &b| busy[a].total_cmp(&busy[b]))?;
    Some(PhaseDetail {
        phase: phase.to_string(),
        hw: hw.clone(),
        unit: dev[top],
        graph: graph.clone(),
        per_op,
        calibrated: mode == crate::cost::Mode::Calibrated,
        note: format!(
            "ILP placement ({}): each op is drawn as priced on the unit the placement gave it; the ceilings are those of {}, the busiest unit.",
            placed.status, p.units[top]
        ),
    })
}

/// Prices design points. Implementations evaluate a slice of points in parallel and return one
/// outcome per point, in order; they must be deterministic.
pub trait Evaluator: Sync {
    /// The metrics reported, in column order.
    fn metrics(&self) -> &[MetricDef];
    /// Names of the text labels reported (e.g. `decode_bound`).
    fn labels(&self) -> &[&'static str];
    /// Evaluates points.
    fn evaluate(&self, points: &[Point]) -> Vec<Outcome>;
    /// The per-op detail of one point's phases (empty when a phase cannot run).
    fn detail(&self, point: &Point) -> Vec<PhaseDetail>;
    /// Metrics drawn against each swept hardware field, in panel order.
    fn curve_metrics(&self) -> &[&'static str];
    /// Metrics shown in the front tables of `report.html` beside the objectives.
    fn table_metrics(&self) -> &[&'static str];
    /// X-axis label of the per-layer breakdown.
    fn layer_label(&self) -> &'static str;
}

/// Device variants and priced keys of a batch of points.
pub(super) type Priced<K, V> = (HashMap<u64, Result<Arc<Hardware>, String>>, HashMap<K, V>);

/// The sharing both evaluators rely on: builds each distinct device variant (`hw_of(key)`) once
/// and prices each distinct key once, in parallel; keys whose variant cannot be built are not
/// priced (their points report the variant's error).
pub(super) fn price_distinct<K, V>(
    mut keys: Vec<K>,
    hw_of: impl Fn(&K) -> u64 + Sync,
    hardware: impl Fn(u64) -> Result<Arc<Hardware>, String> + Sync,
    price: impl Fn(&Hardware, K) -> V + Sync,
) -> Priced<K, V>
where
    K: Copy + Ord + Hash + Send + Sync,
    V: Send,
{
    let mut combos: Vec<u64> = keys.iter().map(&hw_of).collect();
    combos.sort_unstable();
    combos.dedup();
    let hws: HashMap<u64, Result<Arc<Hardware>, String>> =
        combos.par_iter().map(|&c| (c, hardware(c))).collect();
    keys.retain(|k| hws[&hw_of(k)].is_ok());
    keys.sort_unstable();
    keys.dedup();
    let priced = keys
        .par_iter()
        .map(|&k| {
            let hw = hws[&hw_of(&k)].as_ref().expect("filtered");
            (k, price(hw, k))
        })
        .collect();
    (hws, priced)
}
