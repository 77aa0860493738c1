//! Applying a runtime at the cost seam.
//!
//! [`RuntimeView`] derives, from a device and one of its units, the figures the runtime gets out
//! of that unit: its per-kernel dispatch in place of the unit's `kernel_overhead_s`, the thread
//! count asked for, and one variant of the unit per efficiency entry with that entry's compute
//! and bandwidth fractions in place of the unit's generic ones (a bandwidth entry replaces the
//! per-level fractions too). [`RuntimeView::model`] builds the unit's own cost model on each
//! variant (through the registry, so every cost model honours a runtime the same way) and
//! wraps them in a [`RuntimeModel`] for one graph, which:
//! * prices each op with the variant of its efficiency entry ([`Runtime::efficiency_for`]);
//! * charges dispatch per kernel, not per op: an op fused into the kernel before it
//!   ([`FusionPlan`]) pays no overhead (the overhead is additive in every model's ledger);
//! * charges a compiled graph's per-run cost once, on the graph's first op.
//!
//! [`RuntimeView::homes`] says where tensors live under the runtime: the default residency
//! when activations stay on chip where they fit, otherwise every activation in main memory;
//! then each fused intermediate in the unit's innermost level.
//!

use super::{FusionPlan, OpClass, Runtime};
use crate::cost::{
    Ceilings, CostModel, Infeasible, Ledger, Mode, SelectError, TensorHomes, declared_model,
};
use crate::cost_models::model_for;
use crate::hardware::Hardware;
use crate::workload::{Graph, OpId, Role};
use std::borrow::Cow;

/// Multiplicative corrections a calibration fits to a (device, runtime) pair: every compute
/// fraction, every bandwidth fraction (each capped at 1) and every dispatch cost of the unit
/// under the runtime are scaled by these. All 1 when uncalibrated.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Scales {
    /// Factor on compute efficiencies.
    pub compute: f64,
    /// Factor on bandwidth efficiencies.
    pub bandwidth: f64,
    /// Factor on per-kernel and per-graph dispatch costs.
    pub dispatch: f64,
}

impl Default for Scales {
    fn default() -> Self {
        Scales {
            compute: 1.0,
            bandwidth: 1.0,
            dispatch: 1.0,
        }
    }
}

impl Scales {
    /// Whether these are all 1.
    pub fn is_identity(&self) -> bool {
        *self == Scales::default()
    }
}

/// A unit of a device as a runtime sees it.
#[derive(Clone, Debug)]
pub struct RuntimeView<'r> {
    /// The runtime.
    pub runtime: &'r Runtime,
    /// The unit.
    pub unit: usize,
    /// The device with the runtime's dispatch and threads applied (variant 0), then one
    /// variant per efficiency entry.
    variants: Vec<Hardware>,
    /// The calibration's corrections.
    scales: Scales,
}

/// Errors applying a runtime to a unit that are not infeasibility.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// The unit's cost model cannot be built.
    #[error(transparent)]
    CostModel(#[from] SelectError),
    /// A thread count the unit cannot take.
    #[error("{0}")]
    Threads(String),
}

impl<'r> RuntimeView<'r> {
    /// The view of `runtime` on unit `unit` of `hw`, with `threads` CPU threads where given.
    ///
    /// `threads` needs a CPU unit and at most its cores. The CPU model takes it as its thread
    /// count; a CPU priced by the roofline runs on `threads` of its cores, each with its share of
    /// the peaks and of the bandwidth.
    pub fn new(
        hw: &Hardware,
        unit: usize,
        runtime: &'r Runtime,
        threads: Option<u64>,
    ) -> Result<RuntimeView<'r>, ApplyError> {
        Self::scaled(hw, unit, runtime, threads, Scales::default())
    }

    /// [`RuntimeView::new`] with a calibration's corrections applied.
    pub fn scaled(
        hw: &Hardware,
        unit: usize,
        runtime: &'r Runtime,
        threads: Option<u64>,
        scales: Scales,
    ) -> Result<RuntimeView<'r>, ApplyError> {
        // The figures only: the provenance notes are for display and the view never shows them,
        // and a sweep builds a view per point.
        let mut base = Hardware {
            name: hw.name.clone(),
            description: String::new(),
            units: hw.units.clone(),
            memories: hw.memories.clone(),
            static_w: hw.static_w,
            default_unit: hw.default_unit,
            file: hw.file.clone(),
            provenance: Vec::new(),
        };
        let u = &mut base.units[unit];
        if let Some(d) = runtime.dispatch {
            u.kernel_overhead_s = d.kernel_s();
        }
        if let Some(t) = threads {
            if u.kind != crate::hardware::UnitKind::Cpu {
                return Err(ApplyError::Threads(format!(
                    "--threads {t}: unit `{}` of `{}` is not a CPU; threads apply to CPU units",
                    u.name, hw.name
                )));
            }
            if t == 0 || t as f64 > u.count {
                return Err(ApplyError::Threads(format!(
                    "--threads {t}: unit `{}` of `{}` has {} cores; expected 1 to {}",
                    u.name, hw.name, u.count, u.count
                )));
            }
            if declared_model(u) == Some(crate::cycle::cpu::NAME) {
                u.params
                    .insert("threads".into(), toml::Value::Integer(t as i64));
            } else {
                // A CPU priced by the roofline: `t` of its `count` cores, each with its share of
                // the peaks and of the bandwidth (the CPU model's rule where a level gives no
                // per-core bandwidth: peak x e_b x threads / count).
                let share = t as f64 / u.count;
                for table in [&mut u.peak, &mut u.vector_peak, &mut u.special] {
                    for d in crate::workload::DType::ALL {
                        if let Some(v) = table.get(d) {
                            table.set(d, v * share);
                        }
                    }
                }
                u.bandwidth_efficiency *= share;
                for e in u.level_bandwidth_efficiency.iter_mut().flatten() {
                    *e *= share;
                }
                u.count = t as f64;
            }
        }
        let mut variants = Vec::with_capacity(runtime.efficiency.len() + 1);
        let issue = issue_width(&base.units[unit]);
        for e in &runtime.efficiency {
            let mut v = base.clone();
            let u = &mut v.units[unit];
            if let Some(c) = e.compute {
                u.compute_efficiency = (c * issue).min(1.0);
            }
            if let Some(b) = e.bandwidth {
                u.bandwidth_efficiency = b;
                u.level_bandwidth_efficiency = [None; crate::hardware::MAX_LEVELS];
            }
            if let Some(c) = e.bytes_per_core_cycle {
                cap_by_core_rate(&mut v, unit, c);
            }
            variants.push(v);
        }
        variants.insert(0, base);
        if !scales.is_identity() {
            for v in &mut variants {
                let u = &mut v.units[unit];
                u.compute_efficiency = (u.compute_efficiency * scales.compute).min(1.0);
                u.bandwidth_efficiency = (u.bandwidth_efficiency * scales.bandwidth).min(1.0);
                for e in u.level_bandwidth_efficiency.iter_mut().flatten() {
                    *e = (*e * scales.bandwidth).min(1.0);
                }
                u.kernel_overhead_s *= scales.dispatch;
            }
        }
        Ok(RuntimeView {
            runtime,
            unit,
            variants,
            scales,
        })
    }

    /// The runtime applied.
    pub fn runtime(&self) -> &Runtime {
        self.runtime
    }

    /// The device with the runtime's dispatch and threads applied.
    pub fn hardware(&self) -> &Hardware {
        &self.variants[0]
    }

    /// The runtime's cost model of the unit for `graph`.
    pub fn model(&self, mode: Mode, graph: &Graph) -> Result<RuntimeModel<'_>, SelectError> {
        let GraphPlan { plan, pick } = GraphPlan::of(self.runtime, graph);
        self.build_model(mode, Cow::Owned(plan), Cow::Owned(pick))
    }

    /// [`RuntimeView::model`] from the runtime's plan of the graph, made once by the caller
    /// ([`GraphPlan::of`]; a sweep prices one graph on many device variants).
    pub fn model_planned<'a>(
        &'a self,
        mode: Mode,
        plan: &'a GraphPlan,
    ) -> Result<RuntimeModel<'a>, SelectError> {
        self.build_model(mode, Cow::Borrowed(&plan.plan), Cow::Borrowed(&plan.pick))
    }

    fn build_model<'a>(
        &'a self,
        mode: Mode,
        plan: Cow<'a, FusionPlan>,
        pick: Cow<'a, [usize]>,
    ) -> Result<RuntimeModel<'a>, SelectError> {
        let models = self
            .variants
            .iter()
            .map(|hw| model_for(hw, self.unit, mode))
            .collect::<Result<Vec<_>, _>>()?;
        let graph_s = mode
            .overhead(self.runtime.dispatch.map_or(0.0, |d| d.graph_s()) * self.scales.dispatch);
        Ok(RuntimeModel {
            models,
            pick,
            plan,
            graph_s,
        })
    }

    /// Where `graph`'s tensors live under the runtime, given the fusion `plan` of its model.
    pub fn homes(&self, graph: &Graph, plan: &FusionPlan) -> TensorHomes {
        self.homes_from(
            crate::cost::residency(self.hardware(), self.unit, graph),
            graph,
            plan,
        )
    }

    /// [`RuntimeView::homes`] from the default residency `homes` of `graph` on the view's
    /// hardware, computed by the caller (a sweep keeps the graph's
    /// [`crate::cost::PlacementProfile`] and places it without profiling the graph again).
    pub fn homes_from(
        &self,
        mut homes: TensorHomes,
        graph: &Graph,
        plan: &FusionPlan,
    ) -> TensorHomes {
        let hw = self.hardware();
        let reach = &hw.units[self.unit].reach;
        if !self.runtime.on_chip_activations {
            let main = hw.main_level(self.unit);
            for (i, t) in graph.tensors.iter().enumerate() {
                if t.role == Role::Activation {
                    homes.home[i] = main;
                }
            }
        }
        let inner = reach[0];
        for t in &plan.fused_intermediates {
            homes.home[t.0 as usize] = inner;
        }
        homes
    }
}

/// What a runtime makes of one graph whatever the device: its fusion plan and the efficiency
/// entry each op takes (0: the unit's own figures, `i + 1`: entry `i`).
#[derive(Clone, Debug)]
pub struct GraphPlan {
    /// The fusion of the graph.
    pub plan: FusionPlan,
    pick: Vec<usize>,
}

impl GraphPlan {
    /// The plan of `graph` under `runtime`.
    pub fn of(runtime: &Runtime, graph: &Graph) -> GraphPlan {
        let pick = graph
            .ops
            .iter()
            .map(|op| {
                let weights = op
                    .inputs
                    .get(1)
                    .map(|&w| graph.tensor(w))
                    .filter(|t| t.role == Role::Weight)
                    .map(|t| t.storage);
                runtime
                    .efficiency_for(OpClass::of(&op.kind), weights)
                    .map_or(0, |(i, _)| i + 1)
            })
            .collect();
        GraphPlan {
            plan: FusionPlan::of(graph, &runtime.patterns),
            pick,
        }
    }
}

/// A unit's cost model under a runtime, for one graph (see the module docs).
pub struct RuntimeModel<'a> {
    models: Vec<Box<dyn CostModel + 'a>>,
    pick: Cow<'a, [usize]>,
    /// The fusion of the graph.
    pub plan: Cow<'a, FusionPlan>,
    graph_s: f64,
}

impl RuntimeModel<'_> {
    /// Takes the per-graph launch off the first op and returns it (seconds), for a caller
    /// that charges it per partition instead (a placement splitting the graph across units).
    pub fn take_graph_launch(&mut self) -> f64 {
        std::mem::take(&mut self.graph_s)
    }

    fn adjust(&self, op: OpId, mut l: Ledger) -> Ledger {
        let i = op.0 as usize;
        if !self.plan.starts_kernel.get(i).copied().unwrap_or(true) {
            l.latency_s -= l.overhead_s;
            l.overhead_s = 0.0;
        }
        if i == 0 && self.graph_s > 0.0 {
            l.latency_s += self.graph_s;
            l.overhead_s += self.graph_s;
        }
        l.close_static(self.models[0].hardware());
        l
    }

    fn inner(&self, op: OpId) -> &dyn CostModel {
        let i = self.pick.get(op.0 as usize).copied().unwrap_or(0);
        self.models[i].as_ref()
    }
}

impl CostModel for RuntimeModel<'_> {
    fn cost(&self, graph: &Graph, residency: &TensorHomes, op: OpId) -> Result<Ledger, Infeasible> {
        let l = self.inner(op).cost(graph, residency, op)?;
        Ok(self.adjust(op, l))
    }

    fn own_cost(
        &self,
        graph: &Graph,
        residency: &TensorHomes,
        op: OpId,
    ) -> Result<Ledger, Infeasible> {
        let l = self.inner(op).own_cost(graph, residency, op)?;
        Ok(self.adjust(op, l))
    }

    fn hardware(&self) -> &Hardware {
        self.models[0].hardware()
    }

    fn unit(&self) -> usize {
        self.models[0].unit()
    }

    fn name(&self) -> &'static str {
        self.models[0].name()
    }

    fn mode(&self) -> Mode {
        self.models[0].mode()
    }

    fn ceilings(&self) -> Ceilings {
        self.models[0].ceilings()
    }

    fn thread_count(&self) -> Option<f64> {
        self.models[0].thread_count()
    }
}

/// Caps unit `unit`'s bandwidth fraction at every level it reaches by the rate its cores can
/// issue: `count x clock_hz x bytes_per_core_cycle` bytes/s, as a fraction of the level's peak.
/// A kernel with few loads in flight per core (a batch-1 GEMV) is limited by this where the
/// Instructions a CPU unit issues per cycle where that limits a runtime's kernels (the cpu
/// model's `issue_width` parameter; 1 when absent). A runtime's compute fraction counts the
/// share of one issue slot per cycle that its inner loop spends on multiply-accumulates (the
/// rest loads operands and widens them); a core that issues `issue_width` instructions a cycle
/// overlaps those with the MACs, so the fraction scales by it, up to 1. In-order Cortex-M cores
/// differ exactly so: the Cortex-M4 and M33 issue one instruction a cycle, the Cortex-M7 two.
fn issue_width(u: &crate::hardware::Unit) -> f64 {
    match u.params.get("issue_width") {
        Some(toml::Value::Integer(i)) => *i as f64,
        Some(toml::Value::Float(f)) => *f,
        _ => 1.0,
    }
}

/// memory is wide, and by the memory where it is narrow.
fn cap_by_core_rate(hw: &mut Hardware, unit: usize, bytes_per_core_cycle: f64) {
    let memories = &hw.memories;
    let u = &mut hw.units[unit];
    let rate = u.count * u.clock_hz * bytes_per_core_cycle;
    for &lvl in &u.reach {
        let now = u.level_bandwidth_efficiency[lvl].unwrap_or(u.bandwidth_efficiency);
        u.level_bandwidth_efficiency[lvl] = Some(now.min(rate / memories[lvl].bytes_per_s));
    }
}
