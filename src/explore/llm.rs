//! The LLM evaluator: prices a point (quantization, prefill unit, decode unit, batch, prompt,
//! context, hardware what-ifs) with the roofline and reports TTFT, time per output token,
//! energy per token and the memory footprint.
//!
//! Work is shared, never repeated: each distinct graph (quantization × batch × phase length) is
//! built and profiled once per run; each distinct (device variant, unit, graph) is priced once
//! per batch of points, over op classes (identical layers priced once); a point then only
//! combines two phase totals and the footprint.

use super::eval::{Evaluator, MetricDef, Outcome, PhaseDetail, price_distinct};
use super::runtimes::{RuntimeSpec, RuntimeTable, rate_band, time_band};
use super::units::{self, ILP_UNIT, Placed, UnitChoice, Variant};
use crate::cost::{
    CostModel, Infeasible, Ledger, Mode, PlacementProfile, evaluate, evaluate_total,
};
use crate::cost_models::model_for;
use crate::hardware::{Hardware, HardwareError};
use crate::runtime::{
    FusionPlan, GraphPlan, Runtime, RuntimeError, RuntimeView, Scales, WorkloadKind,
};
use crate::score::bound_name;
use crate::search::{Direction, Point, Space, Values};
use crate::trust::bands::Band;
use crate::workload::{Graph, LlmConfig, OpId, Phase, QuantScheme};
use rayon::prelude::*;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// Axis names of an LLM space, in order after the hardware axes.
pub const AXES: [&str; 7] = [
    "quant",
    "runtime",
    "prefill_unit",
    "decode_unit",
    "batch",
    "prompt_tokens",
    "context_tokens",
];

/// Quantization schemes of the default sweep: the float baseline, the common weight-only and
/// weight-activation integer schemes of phone runtimes (llama.cpp Q8/Q4 groups, QNN/NNAPI
/// int8, QServe-style W4A8) and an int8 KV cache.
pub const DEFAULT_QUANTS: [&str; 7] = [
    "fp32",
    "fp16",
    "w8a16",
    "w8a8",
    "w4a16-g128",
    "w4a8",
    "w4a16-g128+kv8",
];

/// Default decode contexts: powers of two from 1 Ki to 16 Ki positions, the range of chat and
/// document sessions on a phone.
pub const DEFAULT_CONTEXTS: [u64; 5] = [1024, 2048, 4096, 8192, 16384];

/// Default prompt length (as in `archscope score`).
pub const DEFAULT_PROMPT: u64 = 512;

/// Metric indices, in [`LLM_METRICS`] order.
mod m {
    pub const DECODE_LATENCY: usize = 0;
    pub const DECODE_TPS: usize = 1;
    pub const ENERGY_PER_TOKEN: usize = 2;
    pub const TTFT: usize = 3;
    pub const PREFILL_TPS: usize = 4;
    pub const PREFILL_ENERGY: usize = 5;
    pub const MEMORY: usize = 6;
    pub const WEIGHTS: usize = 7;
    pub const KV: usize = 8;
    pub const ACTIVATIONS: usize = 9;
    pub const CAPACITY: usize = 10;
    pub const PREFILL_THREADS: usize = 11;
    pub const DECODE_THREADS: usize = 12;
    pub const DECODE_LATENCY_LOW: usize = 13;
    pub const DECODE_LATENCY_HIGH: usize = 14;
    pub const DECODE_TPS_LOW: usize = 15;
    pub const DECODE_TPS_HIGH: usize = 16;
    pub const TTFT_LOW: usize = 17;
    pub const TTFT_HIGH: usize = 18;
    pub const PREFILL_TPS_LOW: usize = 19;
    pub const PREFILL_TPS_HIGH: usize = 20;
    pub const N: usize = 21;
}

/// The metrics of an LLM point.
pub const LLM_METRICS: [MetricDef; m::N] = [
    MetricDef {
        name: "decode_latency_s",
        direction: Direction::Minimize,
        label: "decode latency per token (s)",
    },
    MetricDef {
        name: "decode_tokens_per_s",
        direction: Direction::Maximize,
        label: "decode throughput (tokens/s)",
    },
    MetricDef {
        name: "energy_per_token_j",
        direction: Direction::Minimize,
        label: "decode energy per token (J)",
    },
    MetricDef {
        name: "ttft_s",
        direction: Direction::Minimize,
        label: "time to first token (s)",
    },
    MetricDef {
        name: "prefill_tokens_per_s",
        direction: Direction::Maximize,
        label: "prefill throughput (tokens/s)",
    },
    MetricDef {
        name: "prefill_energy_j",
        direction: Direction::Minimize,
        label: "prefill energy (J)",
    },
    MetricDef {
        name: "memory_bytes",
        direction: Direction::Minimize,
        label: "memory footprint (bytes)",
    },
    MetricDef {
        name: "weights_bytes",
        direction: Direction::Minimize,
        label: "weights (bytes)",
    },
    MetricDef {
        name: "kv_cache_bytes",
        direction: Direction::Minimize,
        label: "KV cache (bytes)",
    },
    MetricDef {
        name: "activation_bytes",
        direction: Direction::Minimize,
        label: "peak activations (bytes)",
    },
    MetricDef {
        name: "memory_capacity_bytes",
        direction: Direction::Maximize,
        label: "usable main memory (bytes)",
    },
    MetricDef {
        name: "prefill_threads",
        direction: Direction::Minimize,
        label: "CPU threads (cores) running prefill",
    },
    MetricDef {
        name: "decode_threads",
        direction: Direction::Minimize,
        label: "CPU threads (cores) running decode",
    },
    MetricDef {
        name: "decode_latency_s_low",
        direction: Direction::Minimize,
        label: "decode latency per token, low end of the error band (s)",
    },
    MetricDef {
        name: "decode_latency_s_high",
        direction: Direction::Minimize,
        label: "decode latency per token, high end of the error band (s)",
    },
    MetricDef {
        name: "decode_tokens_per_s_low",
        direction: Direction::Maximize,
        label: "decode throughput, low end of the error band (tokens/s)",
    },
    MetricDef {
        name: "decode_tokens_per_s_high",
        direction: Direction::Maximize,
        label: "decode throughput, high end of the error band (tokens/s)",
    },
    MetricDef {
        name: "ttft_s_low",
        direction: Direction::Minimize,
        label: "time to first token, low end of the error band (s)",
    },
    MetricDef {
        name: "ttft_s_high",
        direction: Direction::Minimize,
        label: "time to first token, high end of the error band (s)",
    },
    MetricDef {
        name: "prefill_tokens_per_s_low",
        direction: Direction::Maximize,
        label: "prefill throughput, low end of the error band (tokens/s)",
    },
    MetricDef {
        name: "prefill_tokens_per_s_high",
        direction: Direction::Maximize,
        label: "prefill throughput, high end of the error band (tokens/s)",
    },
];

/// Labels of an LLM point: the bounds, memory levels and placements, the runtime each phase
/// was priced under, and the label of each phase's error band.
pub const LLM_LABELS: [&str; 9] = [
    "decode_bound",
    "prefill_bound",
    "memory_level",
    "prefill_placement",
    "decode_placement",
    "prefill_runtime",
    "decode_runtime",
    "prefill_band",
    "decode_band",
];

/// Label indices, in [`LLM_LABELS`] order.
mod lab {
    pub const DECODE_BOUND: usize = 0;
    pub const PREFILL_BOUND: usize = 1;
    pub const MEMORY_LEVEL: usize = 2;
    pub const PREFILL_PLACEMENT: usize = 3;
    pub const DECODE_PLACEMENT: usize = 4;
    pub const PREFILL_RUNTIME: usize = 5;
    pub const DECODE_RUNTIME: usize = 6;
    pub const PREFILL_BAND: usize = 7;
    pub const DECODE_BAND: usize = 8;
}

/// The default objectives of an LLM exploration.
pub const DEFAULT_OBJECTIVES: [&str; 3] =
    ["decode_latency_s", "energy_per_token_j", "memory_bytes"];

/// A graph built once per run with what pricing and footprints need.
pub(super) struct GraphEntry {
    pub(super) graph: Arc<Graph>,
    classes: Vec<(OpId, u32)>,
    /// Op classes under each runtime of the evaluator (by index), refined by the fusion plan.
    rt_classes: Vec<OnceLock<(GraphPlan, Vec<(OpId, u32)>)>>,
    /// Tensors touched by the class representatives (the only homes pricing needs).
    touched: Vec<u32>,
    profile: PlacementProfile,
    pub(super) weights: f64,
    pub(super) kv: f64,
    pub(super) act: f64,
    /// Peak activations over the best schedule ([`crate::score::scheduled_activation_peak`]),
    /// computed on first use: what must fit the SRAM of a unit whose weights stay in flash.
    scheduled_act: OnceLock<f64>,
}

/// Where each knob axis sits in the space.
#[derive(Clone, Debug)]
struct AxisIdx {
    hw: Vec<usize>,
    quant: usize,
    runtime: usize,
    prefill_unit: usize,
    decode_unit: usize,
    batch: usize,
    prompt: usize,
    context: usize,
}

/// Errors setting up an evaluator (the LLM one, and the CNN one, which shares them).
#[derive(Debug, thiserror::Error)]
pub enum LlmSetupError {
    /// The space lacks an LLM axis or has one of the wrong type.
    #[error("the design space needs a `{0}` axis of {1}")]
    Axis(&'static str, &'static str),
    /// Bad quantization name.
    #[error(transparent)]
    Quant(#[from] crate::workload::QuantError),
    /// Bad hardware file, unit name or what-if path.
    #[error(transparent)]
    Hardware(#[from] HardwareError),
    /// Bad unit-axis value (`UNIT@T`).
    #[error(transparent)]
    Unit(#[from] units::UnitError),
    /// A runtime of the axis (or a device default) that cannot be loaded.
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
}

/// Prices LLM design points on a device (with what-if variants).
pub struct LlmEvaluator {
    model: LlmConfig,
    quants: Vec<QuantScheme>,
    /// The runtimes of the runtime axis.
    rts: RuntimeTable,
    /// Distinct graph conventions: a scheme under a runtime's conventions, and the runtime (by
    /// index) whose [`Runtime::prepare`] builds it.
    convs: Vec<(QuantScheme, u32)>,
    /// Convention of each (runtime, quant): `conv_of[rt][q]`.
    conv_of: Vec<Vec<u32>>,
    /// Units of the device before the thread variants were appended.
    n_base_units: usize,
    batches: Vec<u64>,
    prompts: Vec<u64>,
    contexts: Vec<u64>,
    hw_file: String,
    base: toml::Table,
    base_hw: Arc<Hardware>,
    space: Space,
    ax: AxisIdx,
    /// Unit of each value of the prefill and decode unit axes (indices in the device augmented
    /// with the thread variants, or the ILP).
    prefill_units: Vec<UnitChoice>,
    decode_units: Vec<UnitChoice>,
    /// Thread variants appended to every device variant.
    variants: Vec<Variant>,
    /// Base units the ILP may place on.
    ilp_units: Vec<String>,
    /// Time limit of one placement solve, seconds.
    placement_time_s: f64,
    /// ILP placements, per (device variant, graph), solved once per run.
    placed: Mutex<HashMap<(u64, u32), Arc<Result<Placed, String>>>>,
    mode: Mode,
    graphs: Vec<OnceLock<GraphEntry>>,
    knob_total: u64,
}

/// [`PhaseKey::unit`] of an ILP placement.
const ILP_KEY: u32 = u32::MAX;

/// One priced phase: its totals and what the tables say about how it ran.
#[derive(Clone, Debug)]
struct PhaseOut {
    ledger: Ledger,
    /// Bound of a single unit, or `placement` for the ILP.
    bound: String,
    /// Main memory levels the phase's units use.
    levels: Vec<usize>,
    threads: Option<f64>,
    /// ILP status, empty for single units.
    placement: String,
    /// The runtime it was priced under.
    runtime: String,
    /// Its error band (none for the ILP).
    band: Option<Band>,
}

/// Key of one priced phase.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct PhaseKey {
    hw: u64,
    unit: u32,
    graph: u32,
    /// Value index on the runtime axis.
    rv: u32,
    /// Quantization index (what the runtime is asked to run).
    quant: u32,
}

fn names<'a>(
    space: &'a Space,
    i: usize,
    what: &'static str,
) -> Result<&'a [String], LlmSetupError> {
    match &space.axes[i].values {
        Values::Names(v) => Ok(v),
        _ => Err(LlmSetupError::Axis(what, "names")),
    }
}

fn ints(space: &Space, i: usize, what: &'static str) -> Result<Vec<u64>, LlmSetupError> {
    match &space.axes[i].values {
        Values::Ints(v) if v.iter().all(|&x| x > 0) => Ok(v.clone()),
        _ => Err(LlmSetupError::Axis(what, "whole numbers of at least 1")),
    }
}

impl LlmEvaluator {
    /// An evaluator for `model` on the device in `hw_text` (named `hw_file` in errors), over
    /// `space` (hardware axes named by field path, then the [`AXES`]).
    pub fn new(
        model: LlmConfig,
        hw_text: &str,
        hw_file: &str,
        space: &Space,
        mode: Mode,
        placement_time_s: f64,
        runtimes: &[RuntimeSpec],
        calibrations: &[crate::trust::overlay::Overlay],
    ) -> Result<LlmEvaluator, LlmSetupError> {
        let find = |n: &'static str| space.axis(n).ok_or(LlmSetupError::Axis(n, "values"));
        let ax = AxisIdx {
            hw: (0..space.hardware_axes()).collect(),
            quant: find("quant")?,
            runtime: find(super::runtimes::AXIS)?,
            prefill_unit: find("prefill_unit")?,
            decode_unit: find("decode_unit")?,
            batch: find("batch")?,
            prompt: find("prompt_tokens")?,
            context: find("context_tokens")?,
        };
        let quants = names(space, ax.quant, "quant")?
            .iter()
            .map(|q| QuantScheme::parse(q))
            .collect::<Result<Vec<_>, _>>()?;
        let base: toml::Table = text_table(hw_text, hw_file)?;
        let base_hw = Arc::new(Hardware::from_toml_str(hw_text, hw_file)?);
        let pn = names(space, ax.prefill_unit, "prefill_unit")?;
        let dn = names(space, ax.decode_unit, "decode_unit")?;
        let all: Vec<String> = pn.iter().chain(dn).cloned().collect();
        let (_, variants) = units::resolve(&base_hw, &all)?;
        let pick = |list: &[String]| -> Result<Vec<UnitChoice>, LlmSetupError> {
            list.iter()
                .map(|u| {
                    if u == ILP_UNIT {
                        return Ok(UnitChoice::Ilp);
                    }
                    match variants.iter().position(|v| &v.name == u) {
                        Some(i) => Ok(UnitChoice::Unit(base_hw.units.len() + i)),
                        None => Ok(UnitChoice::Unit(base_hw.unit_index(Some(u))?)),
                    }
                })
                .collect()
        };
        let prefill_units = pick(pn)?;
        let decode_units = pick(dn)?;
        let ilp_units = units::ilp_units(&base_hw, &all);
        let n_base_units = base_hw.units.len();
        let base_hw = Arc::new(units::augment(&base_hw, &variants));
        if names(space, ax.runtime, "runtime")?.len() != runtimes.len() {
            return Err(LlmSetupError::Axis("runtime", "the runtimes of the spec"));
        }
        let rts = RuntimeTable::new(runtimes, &base_hw, WorkloadKind::Llm, calibrations)?;
        let (convs, conv_of) = conventions(&rts, &quants);
        let batches = ints(space, ax.batch, "batch")?;
        let prompts = ints(space, ax.prompt, "prompt_tokens")?;
        let contexts = ints(space, ax.context, "context_tokens")?;
        // Every swept path must exist: try the first and last value of each hardware axis.
        for &h in &ax.hw {
            if let Values::Reals(v) = &space.axes[h].values {
                for x in [v[0], v[v.len() - 1]] {
                    let mut t = base.clone();
                    crate::hardware::set_field(&mut t, hw_file, &space.axes[h].name, x)?;
                }
            } else {
                return Err(LlmSetupError::Axis("hardware", "real numbers"));
            }
        }
        let n_graphs = convs.len() * batches.len() * (prompts.len() + contexts.len());
        let h = space.hardware_axes();
        let knob_total = space.axes[h..]
            .iter()
            .map(|a| a.values.len() as u64)
            .product();
        Ok(LlmEvaluator {
            model,
            quants,
            rts,
            convs,
            conv_of,
            n_base_units,
            batches,
            prompts,
            contexts,
            hw_file: hw_file.to_string(),
            base,
            base_hw,
            space: space.clone(),
            ax,
            prefill_units,
            decode_units,
            variants,
            ilp_units,
            placement_time_s,
            placed: Mutex::new(HashMap::new()),
            mode,
            graphs: (0..n_graphs).map(|_| OnceLock::new()).collect(),
            knob_total,
        })
    }

    /// Dense graph index: convention (quant under a runtime), batch, then prompts followed by
    /// contexts.
    fn graph_index(&self, conv: u32, b: u32, phase_slot: usize) -> u32 {
        let slots = self.prompts.len() + self.contexts.len();
        ((conv as usize * self.batches.len() + b as usize) * slots + phase_slot) as u32
    }

    /// Threads of unit `u` of the augmented device when it is a thread variant (`UNIT@T`).
    fn variant_threads(&self, u: usize) -> Option<u64> {
        u.checked_sub(self.n_base_units)
            .map(|i| self.variants[i].threads)
    }

    fn graph(&self, idx: u32) -> &GraphEntry {
        self.graphs[idx as usize].get_or_init(|| {
            let slots = self.prompts.len() + self.contexts.len();
            let i = idx as usize;
            let slot = i % slots;
            let b = (i / slots) % self.batches.len();
            let c = i / slots / self.batches.len();
            let phase = if slot < self.prompts.len() {
                Phase::Prefill {
                    prompt: self.prompts[slot],
                }
            } else {
                Phase::Decode {
                    context: self.contexts[slot - self.prompts.len()],
                }
            };
            let (scheme, rt) = &self.convs[c];
            let g = self.model.build(scheme, phase, self.batches[b]);
            let g = match self.rts.get(*rt).prepare(&g) {
                std::borrow::Cow::Borrowed(_) => g,
                std::borrow::Cow::Owned(p) => p,
            };
            GraphEntry::new(g, self.rts.len())
        })
    }
}

impl GraphEntry {
    /// Profiles a graph for pricing: op classes, touched tensors and the footprint.
    pub(super) fn new(graph: Graph, n_runtimes: usize) -> GraphEntry {
        {
            let profile = PlacementProfile::of(&graph);
            let classes = profile.classes(&graph);
            let touched = PlacementProfile::touched(&graph, &classes);
            GraphEntry {
                classes,
                rt_classes: (0..n_runtimes).map(|_| OnceLock::new()).collect(),
                touched,
                profile,
                weights: graph.weight_bytes(),
                kv: graph.kv_cache_bytes(),
                act: graph.peak_activation_bytes(),
                scheduled_act: OnceLock::new(),
                graph: Arc::new(graph),
            }
        }
    }

    /// Peak activation bytes over the best schedule (computed once).
    pub(super) fn scheduled_act(&self) -> f64 {
        *(self.scheduled_act).get_or_init(|| crate::score::scheduled_activation_peak(&self.graph))
    }

    /// Prices the graph on one unit: placement, then the total over op classes, with the
    /// unit's own cost model (roofline or cycle model), as `score` does. Also gives the threads
    /// the model runs on ([`crate::cost::CostModel::thread_count`]), from the same model.
    pub(super) fn price(
        &self,
        hw: &Hardware,
        unit: usize,
        mode: Mode,
    ) -> Result<(Ledger, Option<f64>), Infeasible> {
        let model = model_for(hw, unit, mode).map_err(|e| Infeasible {
            reason: format!("no usable cost model: {e}"),
        })?;
        let res = self.profile.place_only(hw, unit, &self.touched);
        let ledger = evaluate_total(model.as_ref(), &self.graph, &res, &self.classes)?;
        Ok((ledger, model.thread_count()))
    }

    /// Prices the graph on one unit under runtime `rt` (index `rt_index` of the evaluator's
    /// runtimes), as `score --runtime` does ([`crate::score::score_graph_under`]): the
    /// runtime's view of the unit at `threads` CPU threads (the unit's own when `None`), its
    /// cost model (dispatch per kernel, fusion, efficiencies) and residency, summed over op
    /// classes refined by the fusion plan (cached per runtime). Also gives the thread count.
    pub(super) fn price_under(
        &self,
        hw: &Hardware,
        unit: usize,
        rt_index: u32,
        rt: &Runtime,
        threads: Option<u64>,
        scales: Scales,
        mode: Mode,
    ) -> Result<(Ledger, Option<f64>), Infeasible> {
        let infeasible = |reason: String| Infeasible { reason };
        let view = RuntimeView::scaled(hw, unit, rt, threads, scales)
            .map_err(|e| infeasible(e.to_string()))?;
        let (plan, classes) = self.rt_classes[rt_index as usize].get_or_init(|| {
            let plan = GraphPlan::of(rt, &self.graph);
            let classes = fused_classes(&self.profile, &self.graph, &plan.plan);
            (plan, classes)
        });
        let model = view
            .model_planned(mode, plan)
            .map_err(|e| infeasible(format!("no usable cost model: {e}")))?;
        let homes = view.homes_from(
            self.profile.place(view.hardware(), unit),
            &self.graph,
            &model.plan,
        );
        let ledger = evaluate_total(&model, &self.graph, &homes, classes)?;
        Ok((ledger, model.thread_count()))
    }

    /// The per-op detail of the graph on one unit under a runtime that is not `ideal` (`None`
    /// if it cannot run there).
    pub(super) fn detail_under(
        &self,
        phase: &str,
        hw: &Arc<Hardware>,
        unit: usize,
        rt: &Runtime,
        threads: Option<u64>,
        scales: Scales,
        mode: Mode,
    ) -> Option<PhaseDetail> {
        let view = RuntimeView::scaled(hw, unit, rt, threads, scales).ok()?;
        let model = view.model(mode, &self.graph).ok()?;
        let homes = view.homes(&self.graph, &model.plan);
        let e = evaluate(&model, &self.graph, &homes).ok()?;
        Some(PhaseDetail {
            phase: phase.to_string(),
            hw: Arc::new(view.hardware().clone()),
            unit,
            graph: self.graph.clone(),
            per_op: e.per_op,
            calibrated: mode == Mode::Calibrated,
            note: format!("priced under runtime `{}`", rt.name),
        })
    }

    /// The per-op detail of the graph on one unit under the runtime that value `rv` of the
    /// runtime axis picks there: [`Self::detail_under`] for a runtime other than `ideal`, else
    /// [`Self::detail`] (`None` if it cannot run there).
    pub(super) fn detail_picked(
        &self,
        phase: &str,
        hw: &Arc<Hardware>,
        unit: usize,
        (rts, rv): (&RuntimeTable, usize),
        threads: Option<u64>,
        mode: Mode,
    ) -> Option<PhaseDetail> {
        match rts.pick(rv, unit).map(|r| (rts.get(r), rts.scales(r))) {
            Ok((rt, scales)) if !rt.is_ideal() => {
                self.detail_under(phase, hw, unit, rt, threads, scales, mode)
            }
            _ => self.detail(phase, hw, unit, mode),
        }
    }

    /// The per-op detail of the graph on one unit (`None` if it cannot run there).
    pub(super) fn detail(
        &self,
        phase: &str,
        hw: &Arc<Hardware>,
        unit: usize,
        mode: Mode,
    ) -> Option<PhaseDetail> {
        let model = model_for(hw, unit, mode).ok()?;
        let res = self.profile.place(hw, unit);
        let e = evaluate(model.as_ref(), &self.graph, &res).ok()?;
        Some(PhaseDetail {
            phase: phase.to_string(),
            hw: hw.clone(),
            unit,
            graph: self.graph.clone(),
            per_op: e.per_op,
            calibrated: mode == Mode::Calibrated,
            note: String::new(),
        })
    }
}

/// Op classes of `graph` under a runtime whose fusion is `plan`: the placement-aware classes
/// ([`PlacementProfile::classes`]) split further by whether the op starts a kernel (a fused op
/// pays no dispatch), whether it is the graph's first op (which pays a compiled graph's
/// per-run cost) and which of its tensors are fused intermediates (kept in the innermost
/// level), so every op of a class has the same ledger under the runtime.
pub(super) fn fused_classes(
    profile: &PlacementProfile,
    graph: &Graph,
    plan: &FusionPlan,
) -> Vec<(OpId, u32)> {
    let mut fused = vec![false; graph.tensors.len()];
    for t in &plan.fused_intermediates {
        fused[t.0 as usize] = true;
    }
    profile.classes_with(graph, |i| {
        let op = &graph.ops[i];
        let starts = plan.starts_kernel.get(i).copied().unwrap_or(true);
        let mut key = u64::from(starts) | u64::from(i == 0) << 1;
        for (b, t) in op.inputs.iter().chain(&op.outputs).enumerate() {
            if fused[t.0 as usize] {
                // Ops have a handful of tensors; past 62 the bits wrap, which only merges
                // classes that the tensor shapes and roles already keep apart in practice.
                key |= 1 << (2 + b % 62);
            }
        }
        key
    })
}

/// The distinct graph conventions of `quants` under each runtime of `rts`: the scheme as the
/// runtime computes it ([`Runtime::scheme`]) and whether it computes full attention scores
/// ([`Runtime::prepare`]). Returns the conventions (each with a runtime that builds it) and
/// the convention of each (runtime, quant).
pub(super) fn conventions(
    rts: &RuntimeTable,
    quants: &[QuantScheme],
) -> (Vec<(QuantScheme, u32)>, Vec<Vec<u32>>) {
    let mut convs: Vec<(QuantScheme, u32)> = Vec::new();
    let conv_of = (0..rts.len() as u32)
        .map(|r| {
            let rt = rts.get(r);
            quants
                .iter()
                .map(|q| {
                    let s = rt.scheme(q);
                    let found = convs.iter().position(|(cs, cr)| {
                        *cs == s && rts.get(*cr).full_scores == rt.full_scores
                    });
                    match found {
                        Some(i) => i as u32,
                        None => {
                            convs.push((s, r));
                            (convs.len() - 1) as u32
                        }
                    }
                })
                .collect()
        })
        .collect();
    (convs, conv_of)
}

/// The memory levels a point's model lives in (each holds a full copy of its `total` bytes):
/// their smallest usable capacity, their names joined by `+`, and one reason in `why` for each
/// level the model does not fit.
pub(super) fn fit_levels(
    hw: &Hardware,
    levels: &[usize],
    total: f64,
    why: &mut Vec<String>,
) -> (f64, String) {
    for &l in levels {
        let mem = &hw.memories[l];
        if total > mem.usable_bytes {
            why.push(format!(
                "needs {} in {}, which has {} usable",
                si(total, "B"),
                mem.name,
                si(mem.usable_bytes, "B")
            ));
        }
    }
    let cap = levels
        .iter()
        .map(|&l| hw.memories[l].usable_bytes)
        .fold(f64::INFINITY, f64::min);
    let names = levels
        .iter()
        .map(|&l| hw.memories[l].name.as_str())
        .collect::<Vec<_>>()
        .join("+");
    (cap, names)
}

/// The device variant of hardware combination `combo` of `space` (its hardware axes are the
/// first `n_hw`), built from the parsed base file and augmented with the thread variants.
pub(super) fn variant_hardware(
    space: &Space,
    n_hw: usize,
    knob_total: u64,
    base: &toml::Table,
    hw_file: &str,
    variants: &[Variant],
    combo: u64,
) -> Result<Arc<Hardware>, String> {
    let digits = space.decode(combo * knob_total);
    let fields: Vec<(&str, f64)> = (0..n_hw)
        .map(|h| {
            let a = &space.axes[h];
            (
                a.name.as_str(),
                a.values.number(digits[h] as usize).unwrap_or(f64::NAN),
            )
        })
        .collect();
    let mut t = base.clone();
    Hardware::from_table_with_fields(&mut t, hw_file, &fields)
        .map(|h| Arc::new(units::augment(&h, variants)))
        .map_err(|e| format!("what-if device is invalid: {e}"))
}

impl LlmEvaluator {
    /// The device variant of hardware combination `combo` (the high digits of a point id).
    fn hardware(&self, combo: u64) -> Result<Arc<Hardware>, String> {
        if self.ax.hw.is_empty() {
            return Ok(self.base_hw.clone());
        }
        variant_hardware(
            &self.space,
            self.ax.hw.len(),
            self.knob_total,
            &self.base,
            &self.hw_file,
            &self.variants,
            combo,
        )
    }

    /// The ILP placement of graph `graph` on device variant `combo`, solved once per run.
    fn placed(&self, hw: &Hardware, combo: u64, graph: u32) -> Arc<Result<Placed, String>> {
        if let Some(p) = self
            .placed
            .lock()
            .expect("not poisoned")
            .get(&(combo, graph))
        {
            return p.clone();
        }
        let g = self.graph(graph);
        let p = Arc::new(units::place_graph(
            hw,
            &g.graph,
            &self.ilp_units,
            self.mode,
            self.placement_time_s,
        ));
        self.placed
            .lock()
            .expect("not poisoned")
            .entry((combo, graph))
            .or_insert(p)
            .clone()
    }

    /// Prices one phase: one unit, or the ILP placement, under the runtime of the point.
    fn price_phase(&self, hw: &Hardware, k: PhaseKey) -> Result<PhaseOut, String> {
        if k.unit == ILP_KEY {
            let rt = self.rts.pick_ilp(k.rv as usize)?;
            let p = self.placed(hw, k.hw, k.graph);
            let p = p
                .as_ref()
                .as_ref()
                .map_err(|e| format!("ILP placement: {e}"))?;
            let levels = p.levels(hw);
            return Ok(PhaseOut {
                ledger: p.ledger,
                bound: "placement".into(),
                levels,
                threads: None,
                placement: p.status.clone(),
                runtime: self.rts.get(rt).name.clone(),
                band: None,
            });
        }
        let u = k.unit as usize;
        let rt = self.rts.pick(k.rv as usize, u)?;
        let (l, threads) = self.price(hw, u, k.graph, rt, k.quant)?;
        Ok(PhaseOut {
            bound: bound_name(hw, l.bound()),
            ledger: l,
            levels: vec![hw.main_level(u)],
            threads,
            placement: String::new(),
            runtime: self.rts.get(rt).name.clone(),
            band: self.rts.band(rt, u).cloned(),
        })
    }

    /// Prices one phase graph on one unit under runtime `rt` (the ledger and the model's
    /// thread count): infeasible when the runtime cannot run the unit or the quantization;
    /// the fast path of the ideal runtime as before runtimes existed.
    fn price(
        &self,
        hw: &Hardware,
        unit: usize,
        graph: u32,
        rt: u32,
        quant: u32,
    ) -> Result<(Ledger, Option<f64>), String> {
        let runtime = self.rts.get(rt);
        let g = self.graph(graph);
        if runtime.is_ideal() {
            return g.price(hw, unit, self.mode).map_err(|e| e.to_string());
        }
        let u = &hw.units[unit];
        runtime
            .check_runs(
                u.kind,
                &u.name,
                WorkloadKind::Llm,
                &self.quants[quant as usize].name,
            )
            .map_err(|e| e.to_string())?;
        g.price_under(
            hw,
            unit,
            rt,
            runtime,
            self.variant_threads(unit),
            self.rts.scales(rt),
            self.mode,
        )
        .map_err(|e| e.to_string())
    }

    /// The runtime index and graph convention of a phase on `unit` (`None` for the ILP) with
    /// runtime-axis value `rv` and quant `q`; convention 0 when no runtime resolves (the phase
    /// then reports why).
    fn conv(&self, rv: u32, unit: Option<usize>, q: u32) -> u32 {
        let rt = match unit {
            Some(u) => self.rts.pick(rv as usize, u),
            None => self.rts.pick_ilp(rv as usize),
        };
        rt.map_or(0, |r| self.conv_of[r as usize][q as usize])
    }

    fn keys(&self, p: &Point) -> (u64, PhaseKey, PhaseKey) {
        let d = &p.digits;
        let combo = p.id / self.knob_total;
        let (q, b, rv) = (d[self.ax.quant], d[self.ax.batch], d[self.ax.runtime]);
        let key = |c: &UnitChoice| match c {
            UnitChoice::Unit(u) => (*u as u32, Some(*u)),
            UnitChoice::Ilp => (ILP_KEY, None),
        };
        let (pu, pi) = key(&self.prefill_units[d[self.ax.prefill_unit] as usize]);
        let (du, di) = key(&self.decode_units[d[self.ax.decode_unit] as usize]);
        let pre = PhaseKey {
            hw: combo,
            unit: pu,
            graph: self.graph_index(self.conv(rv, pi, q), b, d[self.ax.prompt] as usize),
            rv,
            quant: q,
        };
        let dec = PhaseKey {
            hw: combo,
            unit: du,
            graph: self.graph_index(
                self.conv(rv, di, q),
                b,
                self.prompts.len() + d[self.ax.context] as usize,
            ),
            rv,
            quant: q,
        };
        (combo, pre, dec)
    }

    fn combine(
        &self,
        p: &Point,
        hw: &Result<Arc<Hardware>, String>,
        pre: Option<&Result<PhaseOut, String>>,
        dec: Option<&Result<PhaseOut, String>>,
        kp: PhaseKey,
        kd: PhaseKey,
    ) -> Outcome {
        let d = &p.digits;
        let batch = self.batches[d[self.ax.batch] as usize] as f64;
        let prompt = self.prompts[d[self.ax.prompt] as usize];
        let context = self.contexts[d[self.ax.context] as usize];
        let mut metrics = vec![None; m::N];
        let mut labels = vec![String::new(); LLM_LABELS.len()];
        let mut why: Vec<String> = Vec::new();
        let (gp, gd) = (self.graph(kp.graph), self.graph(kd.graph));
        let weights = gp.weights.max(gd.weights);
        let kv = gp.kv.max(gd.kv);
        let act = gp.act.max(gd.act);
        let total = weights + kv + act;
        metrics[m::WEIGHTS] = Some(weights);
        metrics[m::KV] = Some(kv);
        metrics[m::ACTIVATIONS] = Some(act);
        if let Some(max) = self.model.raw.max_position_embeddings
            && context > max
        {
            why.push(format!(
                "context {context} exceeds the model's trained context of {max}"
            ));
        }
        match hw {
            Err(e) => why.push(e.clone()),
            Ok(hw) => {
                // Each distinct main memory holds its own copy of weights, KV cache and
                // activations (on a phone both phases share DRAM: one copy).
                let mut levels: Vec<usize> = Vec::new();
                for (k, ph) in [(kp, pre), (kd, dec)] {
                    let here = if k.unit == ILP_KEY {
                        match ph {
                            Some(Ok(ph)) => ph.levels.clone(),
                            _ => Vec::new(),
                        }
                    } else {
                        vec![hw.main_level(k.unit as usize)]
                    };
                    for l in here {
                        if !levels.contains(&l) {
                            levels.push(l);
                        }
                    }
                }
                metrics[m::MEMORY] = Some(total * levels.len() as f64);
                let (cap, names) = fit_levels(hw, &levels, total, &mut why);
                metrics[m::CAPACITY] = Some(cap);
                labels[lab::MEMORY_LEVEL] = names;
                let unit_name = |u: u32| {
                    if u == ILP_KEY {
                        ILP_UNIT
                    } else {
                        hw.units[u as usize].name.as_str()
                    }
                };
                match pre {
                    Some(Ok(ph)) => {
                        let l = &ph.ledger;
                        metrics[m::TTFT] = Some(l.latency_s);
                        metrics[m::PREFILL_TPS] = Some(batch * prompt as f64 / l.latency_s);
                        metrics[m::PREFILL_ENERGY] = Some(l.energy_j());
                        metrics[m::PREFILL_THREADS] = ph.threads;
                        let band = ph.band.as_ref();
                        (metrics[m::TTFT_LOW], metrics[m::TTFT_HIGH]) =
                            time_band(band, metrics[m::TTFT]);
                        (metrics[m::PREFILL_TPS_LOW], metrics[m::PREFILL_TPS_HIGH]) =
                            rate_band(band, metrics[m::PREFILL_TPS]);
                        labels[lab::PREFILL_BOUND] = ph.bound.clone();
                        labels[lab::PREFILL_PLACEMENT] = ph.placement.clone();
                        labels[lab::PREFILL_RUNTIME] = ph.runtime.clone();
                        labels[lab::PREFILL_BAND] =
                            band.map(|b| b.label.clone()).unwrap_or_default();
                    }
                    Some(Err(e)) => why.push(format!("prefill on {}: {e}", unit_name(kp.unit))),
                    None => {}
                }
                match dec {
                    Some(Ok(ph)) => {
                        let l = &ph.ledger;
                        metrics[m::DECODE_LATENCY] = Some(l.latency_s);
                        metrics[m::DECODE_TPS] = Some(batch / l.latency_s);
                        metrics[m::ENERGY_PER_TOKEN] = Some(l.energy_j() / batch);
                        metrics[m::DECODE_THREADS] = ph.threads;
                        let band = ph.band.as_ref();
                        (
                            metrics[m::DECODE_LATENCY_LOW],
                            metrics[m::DECODE_LATENCY_HIGH],
                        ) = time_band(band, metrics[m::DECODE_LATENCY]);
                        (metrics[m::DECODE_TPS_LOW], metrics[m::DECODE_TPS_HIGH]) =
                            rate_band(band, metrics[m::DECODE_TPS]);
                        labels[lab::DECODE_BOUND] = ph.bound.clone();
                        labels[lab::DECODE_PLACEMENT] = ph.placement.clone();
                        labels[lab::DECODE_RUNTIME] = ph.runtime.clone();
                        labels[lab::DECODE_BAND] =
                            band.map(|b| b.label.clone()).unwrap_or_default();
                    }
                    Some(Err(e)) => why.push(format!("decode on {}: {e}", unit_name(kd.unit))),
                    None => {}
                }
            }
        }
        Outcome::new(metrics, labels, why)
    }

    /// Total number of distinct graphs this evaluator may build.
    pub fn graph_count(&self) -> usize {
        self.graphs.len()
    }
}

fn text_table(text: &str, file: &str) -> Result<toml::Table, HardwareError> {
    text.parse()
        .map_err(|e| HardwareError::parse(file, text, &e))
}

/// A number with an SI prefix and a unit, 3 significant digits: `si(2.5e9, "B")` = "2.50 GB".
pub fn si(v: f64, unit: &str) -> String {
    if !v.is_finite() {
        return format!("{v} {unit}");
    }
    if v == 0.0 {
        return format!("0 {unit}");
    }
    let (scale, p) = crate::util::size::si_prefix(v);
    let x = v / scale;
    let digits = if x.abs() >= 99.95 {
        0
    } else if x.abs() >= 9.995 {
        1
    } else {
        2
    };
    format!("{x:.digits$} {p}{unit}")
}

impl Evaluator for LlmEvaluator {
    fn metrics(&self) -> &[MetricDef] {
        &LLM_METRICS
    }

    fn labels(&self) -> &[&'static str] {
        &LLM_LABELS
    }

    fn curve_metrics(&self) -> &[&'static str] {
        &["decode_tokens_per_s", "energy_per_token_j", "ttft_s"]
    }

    fn table_metrics(&self) -> &[&'static str] {
        &[
            "decode_tokens_per_s",
            "ttft_s",
            "energy_per_token_j",
            "decode_latency_s",
            "memory_bytes",
        ]
    }

    fn layer_label(&self) -> &'static str {
        "layer (in: embedding, out: final norm and LM head)"
    }

    fn evaluate(&self, points: &[Point]) -> Vec<Outcome> {
        let keys: Vec<(u64, PhaseKey, PhaseKey)> = points.iter().map(|p| self.keys(p)).collect();
        let (hws, phases) = price_distinct(
            keys.iter().flat_map(|k| [k.1, k.2]).collect(),
            |k| k.hw,
            |c| self.hardware(c),
            |hw, k| self.price_phase(hw, k),
        );
        points
            .par_iter()
            .zip(&keys)
            .map(|(p, &(c, kp, kd))| {
                self.combine(p, &hws[&c], phases.get(&kp), phases.get(&kd), kp, kd)
            })
            .collect()
    }

    fn detail(&self, p: &Point) -> Vec<PhaseDetail> {
        let (combo, kp, kd) = self.keys(p);
        let Ok(hw) = self.hardware(combo) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (name, k) in [("prefill", kp), ("decode", kd)] {
            let g = self.graph(k.graph);
            if k.unit == ILP_KEY {
                let p = self.placed(&hw, k.hw, k.graph);
                if let Ok(p) = p.as_ref() {
                    out.extend(super::eval::placed_detail(
                        name, &hw, &g.graph, p, self.mode,
                    ));
                }
                continue;
            }
            let u = k.unit as usize;
            let threads = self.variant_threads(u);
            out.extend(g.detail_picked(
                name,
                &hw,
                u,
                (&self.rts, k.rv as usize),
                threads,
                self.mode,
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn si_prefixes() {
        assert_eq!(si(2.5e9, "B"), "2.50 GB");
        assert_eq!(si(0.0123, "s"), "12.3 ms");
        assert_eq!(si(123.4, "J"), "123 J");
        assert_eq!(si(9.9996e-4, "s"), "1.00 ms");
        assert_eq!(si(0.0, "B"), "0 B");
    }
}
