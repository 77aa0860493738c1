//! The cost seam: the interface every cost model implements and the toolkit they share.
//!
//! * [`CostModel`], one small trait returning a [`Ledger`] per op or an [`Infeasible`] value, and
//!   the graph-level evaluation that sums ledgers ([`evaluate`], [`evaluate_total`]);
//! * the pricing [`Mode`] (calibrated or ideal);
//! * where tensors live ([`TensorHomes`]) and the default placement policy ([`residency`],
//!   [`PlacementProfile`]);
//! * traffic and its attribution to memory levels ([`traffic`], [`attribute`]);
//! * typed reading of a unit's `params` table ([`Params`], [`ParamError`]) and per-dtype rate
//!   lookup ([`widened`]).
//!
//! The models themselves (the roofline, the cycle models) sit above this module and import it;
//! it imports none of them.

mod homes;
mod ledger;
mod mode;
pub mod params;
mod select;
mod traffic;

pub use homes::{PlacementProfile, residency};
pub use ledger::{Bound, Ledger};
pub use mode::Mode;
pub use params::{ParamError, Params};
pub use select::{MODELS, SelectError, model_for};
pub(crate) use traffic::traffic_at;
pub use traffic::{attribute, reach_positions, traffic};

use crate::hardware::Hardware;
use crate::workload::{DType, DTypeTable, Graph, OpId};
use serde::Serialize;

/// Why an op cannot run on a unit. A value, not an error: sweeps keep such points and show why.
#[derive(Clone, Debug, PartialEq, Serialize, thiserror::Error)]
#[error("infeasible: {reason}")]
pub struct Infeasible {
    /// Readable reason, e.g. "unit `tpu` has no f16 or wider compute".
    pub reason: String,
}

/// Where each tensor lives: an index into [`Hardware::memories`] per tensor, chosen by a
/// placement policy (the default one, [`residency`], or a mapper's plan).
#[derive(Clone, Debug, PartialEq)]
pub struct TensorHomes {
    /// Home memory level of each tensor, by tensor index.
    pub home: Vec<usize>,
}

/// A cost model: prices one op of a graph on the unit it was built for.
pub trait CostModel: Sync {
    /// The ledger of `op`, given where tensors live.
    fn cost(&self, graph: &Graph, residency: &TensorHomes, op: OpId) -> Result<Ledger, Infeasible>;

    /// The device this model prices for.
    fn hardware(&self) -> &Hardware;

    /// The unit index this model prices for.
    fn unit(&self) -> usize;
}

/// Per-op ledgers of a whole graph and their sum.
#[derive(Clone, Debug)]
pub struct Evaluation {
    /// One ledger per op, in graph order.
    pub per_op: Vec<Ledger>,
    /// Their sum.
    pub total: Ledger,
}

/// Prices every op; the first infeasible op makes the graph infeasible.
pub fn evaluate(
    model: &dyn CostModel,
    graph: &Graph,
    residency: &TensorHomes,
) -> Result<Evaluation, Infeasible> {
    let per_op = (0..graph.ops.len())
        .map(|i| model.cost(graph, residency, OpId(i as u32)))
        .collect::<Result<Vec<_>, _>>()?;
    let total = per_op.iter().copied().sum();
    Ok(Evaluation { per_op, total })
}

/// The total only, pricing each class of ops once and scaling by its multiplicity.
///
/// Exact (up to floating-point summation order) when every op of a class has the same ledger
/// under `residency`: use [`PlacementProfile::classes`], which also splits ops
/// whose tensors can live in different memory levels. [`Graph::op_classes`] ignores where
/// tensors live; at layer boundaries it can merge ops whose activations land in different
/// levels, so its totals are only approximate when activations spill.
pub fn evaluate_total(
    model: &dyn CostModel,
    graph: &Graph,
    residency: &TensorHomes,
    classes: &[(OpId, u32)],
) -> Result<Ledger, Infeasible> {
    let mut total = Ledger::zero();
    for &(op, n) in classes {
        total = total + model.cost(graph, residency, op)? * n as f64;
    }
    Ok(total)
}

/// The rate of `dtype` in a per-dtype table, widening the dtype (e.g. int4 run as int8) until the
/// table has it; returns the dtype actually used and its rate, or `None` when no wider dtype is
/// in the table.
pub fn widened(table: &DTypeTable<f64>, dtype: DType) -> Option<(DType, f64)> {
    let mut d = dtype;
    loop {
        if let Some(v) = table.get(d) {
            return Some((d, v));
        }
        d = d.widen()?;
    }
}
