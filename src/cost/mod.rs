//! The cost seam: the interface every cost model implements and the toolkit they share.
//!
//! * [`CostModel`], one small trait returning a [`Ledger`] per op or an [`Infeasible`] value and
//!   answering what consumers ask about a model (its name, [`Ceilings`], thread count), and
//!   the graph-level evaluation that sums ledgers ([`evaluate`], [`evaluate_total`]);
//! * how a model is built ([`Build`], [`SelectError`]) and which one a unit declares
//!   ([`declared_model`]);
//! * the pricing [`Mode`] (calibrated or ideal);
//! * where tensors live ([`TensorHomes`]) and the default placement policy ([`residency`],
//!   [`PlacementProfile`]);
//! * traffic and its attribution to memory levels ([`traffic`], [`attribute`]);
//! * typed reading of a unit's `params` table ([`Params`], [`ParamError`]) and per-dtype rate
//!   lookup ([`widened`]).
//!
//! The models themselves (the roofline, the cycle models) sit above this module and import it;
//! it imports none of them. The registry that picks a unit's model by name,
//! [`crate::cost_models`], sits above the models.

/// The accessors of a cost model that keeps `hw`, `unit` and `mode` fields and a module-level
/// `NAME`: `hardware`, `unit`, `name` and `mode` of [`CostModel`], written once.
macro_rules! unit_accessors {
    () => {
        fn hardware(&self) -> &crate::hardware::Hardware {
            self.hw
        }

        fn unit(&self) -> usize {
            self.unit
        }

        fn name(&self) -> &'static str {
            NAME
        }

        fn mode(&self) -> crate::cost::Mode {
            self.mode
        }
    };
}
pub(crate) use unit_accessors;

mod homes;
mod ledger;
mod mode;
pub mod params;
mod traffic;

pub use homes::{PlacementProfile, residency};
pub use ledger::{Bound, Ledger};
pub use mode::Mode;
pub use params::{ParamError, Params};
pub(crate) use traffic::traffic_at;
pub use traffic::{attribute, reach_positions, traffic};

use crate::hardware::{Hardware, Unit};
use crate::workload::{DType, DTypeTable, Graph, Op, OpId};
use serde::Serialize;

/// Why an op cannot run on a unit. A value, not an error: sweeps keep such points and show why.
#[derive(Clone, Debug, PartialEq, Serialize, thiserror::Error)]
#[error("infeasible: {reason}")]
pub struct Infeasible {
    /// Readable reason, e.g. "unit `tpu` has no f16 or wider compute".
    pub reason: String,
}

impl Infeasible {
    /// Unit `unit` of `hw` has no `engine` (e.g. `compute`) of `op`'s compute type or a wider
    /// one.
    pub fn no_wider(hw: &Hardware, unit: usize, op: &Op, engine: &str) -> Infeasible {
        Infeasible {
            reason: format!(
                "unit `{}` of `{}` has no {} or wider {engine} for op `{}`",
                hw.units[unit].name, hw.name, op.compute, op.name
            ),
        }
    }
}

/// Where each tensor lives: an index into [`Hardware::memories`] per tensor, chosen by a
/// placement policy (the default one, [`residency`], or a mapper's plan).
#[derive(Clone, Debug, PartialEq)]
pub struct TensorHomes {
    /// Home memory level of each tensor, by tensor index.
    pub home: Vec<usize>,
}

/// Errors building a unit's cost model.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SelectError {
    /// A cost model's parameters are missing, mistyped or inconsistent.
    #[error(transparent)]
    Params(#[from] ParamError),
    /// `params.model` names a model the registry does not have.
    #[error(
        "{file}: unit `{unit}`: params.model = `{model}` is not a known cost model; expected one of: {known}"
    )]
    UnknownModel {
        /// Hardware file.
        file: String,
        /// Unit name.
        unit: String,
        /// The value given.
        model: String,
        /// Known models.
        known: String,
    },
}

/// How a cost model is built for unit `unit` of a device: reads and checks the unit's `params`,
/// then constructs the model. The registry ([`crate::cost_models`]) holds one per model; a
/// model that prices part of its work on another unit (PIM on its host) is handed one to build
/// that unit's model with.
pub type Build =
    for<'a> fn(&'a Hardware, usize, Mode) -> Result<Box<dyn CostModel + 'a>, SelectError>;

/// The cost model a unit declares in its `params.model`, `None` when it names none (the
/// registry's default then applies).
pub fn declared_model(unit: &Unit) -> Option<&str> {
    unit.params.get("model").and_then(|v| v.as_str())
}

/// A unit's ceilings for a roofline plot: compute ceilings per dtype and bandwidth slopes per
/// memory level, as its cost model sees them.
#[derive(Clone, Debug, PartialEq)]
pub struct Ceilings {
    /// `(label, ops/s)`: the matrix peak of each dtype (`f16`), then the vector peak of each
    /// dtype where it differs (`f16 vector`).
    pub compute: Vec<(String, f64)>,
    /// `(memory level name, bytes/s)` for each level the unit reaches, innermost first.
    pub bandwidth: Vec<(String, f64)>,
}

impl Ceilings {
    /// The unit's peaks and bandwidths from the hardware file, times its compute and bandwidth
    /// efficiencies in calibrated mode (bare in ideal mode): the roofline's ceilings.
    pub fn of_unit(hw: &Hardware, unit: usize, mode: Mode) -> Ceilings {
        let eb = mode.efficiency(hw.units[unit].bandwidth_efficiency);
        Ceilings::scaled(hw, unit, mode, 1.0, |l| hw.memories[l].bytes_per_s * eb)
    }

    /// The unit's peaks times its compute efficiency (calibrated mode) and `share` (the
    /// fraction of the unit that runs an op, e.g. threads over cores), and `bandwidth(level)`
    /// for each level it reaches.
    pub fn scaled(
        hw: &Hardware,
        unit: usize,
        mode: Mode,
        share: f64,
        bandwidth: impl Fn(usize) -> f64,
    ) -> Ceilings {
        let u = &hw.units[unit];
        let ec = mode.efficiency(u.compute_efficiency);
        let mut compute: Vec<(String, f64)> = u
            .peak
            .iter()
            .map(|(dt, v)| (format!("{dt}"), v * ec * share))
            .collect();
        for (dt, v) in u.vector_peak.iter() {
            if u.peak.get(dt) != Some(v) {
                compute.push((format!("{dt} vector"), v * ec * share));
            }
        }
        let bandwidth = u
            .reach
            .iter()
            .map(|&l| (hw.memories[l].name.clone(), bandwidth(l)))
            .collect();
        Ceilings { compute, bandwidth }
    }
}

/// A cost model: prices one op of a graph on the unit it was built for, and answers what
/// consumers need to know about it (its name, mode, ceilings and thread count) so that none of
/// them reads the unit's `params` to find out.
pub trait CostModel: Sync {
    /// The ledger of `op`, given where tensors live.
    fn cost(&self, graph: &Graph, residency: &TensorHomes, op: OpId) -> Result<Ledger, Infeasible>;

    /// The device this model prices for.
    fn hardware(&self) -> &Hardware;

    /// The unit index this model prices for.
    fn unit(&self) -> usize;

    /// The name the registry knows this model by (the value of `params.model`).
    fn name(&self) -> &'static str;

    /// Calibrated or ideal.
    fn mode(&self) -> Mode;

    /// The unit's ceilings for a roofline plot; by default its peaks and bandwidths
    /// ([`Ceilings::of_unit`]).
    fn ceilings(&self) -> Ceilings {
        Ceilings::of_unit(self.hardware(), self.unit(), self.mode())
    }

    /// How many threads run an op, for models that have a thread count (the CPU model);
    /// `None` for the others.
    fn thread_count(&self) -> Option<f64> {
        None
    }

    /// The ledger of `op` on this unit's own engines only. The same as [`CostModel::cost`]
    /// except for a model that hands ops to another unit (PIM to its host), where an op this
    /// unit cannot run itself is infeasible. Placement prices with it, since there the other
    /// unit is placeable in its own right.
    fn own_cost(
        &self,
        graph: &Graph,
        residency: &TensorHomes,
        op: OpId,
    ) -> Result<Ledger, Infeasible> {
        self.cost(graph, residency, op)
    }
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
