//! The LLM evaluator: prices a point (quantization, prefill unit, decode unit, batch, prompt,
//! context, hardware what-ifs) with the roofline and reports TTFT, time per output token,
//! energy per token and the memory footprint.
//!
//! Work is shared, never repeated: each distinct graph (quantization × batch × phase length) is
//! built and profiled once per run; each distinct (device variant, unit, graph) is priced once
//! per batch of points, over op classes (identical layers priced once); a point then only
//! combines two phase totals and the footprint.

use super::eval::{Evaluator, MetricDef, Outcome, PhaseDetail};
use crate::cost::{Infeasible, Ledger, evaluate, evaluate_total, model_for};
use crate::hardware::{Hardware, HardwareError};
use crate::roofline::{Mode, PlacementProfile};
use crate::score::bound_name;
use crate::search::{Direction, Point, Space, Values};
use crate::workload::{Graph, LlmConfig, OpId, Phase, QuantScheme};
use rayon::prelude::*;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

/// Axis names of an LLM space, in order after the hardware axes.
pub const AXES: [&str; 6] = [
    "quant",
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
    pub const N: usize = 11;
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
];

/// Labels of an LLM point.
pub const LLM_LABELS: [&str; 3] = ["decode_bound", "prefill_bound", "memory_level"];

/// The default objectives of an LLM exploration.
pub const DEFAULT_OBJECTIVES: [&str; 3] =
    ["decode_latency_s", "energy_per_token_j", "memory_bytes"];

/// A graph built once per run with what pricing and footprints need.
struct GraphEntry {
    graph: Arc<Graph>,
    classes: Vec<(OpId, u32)>,
    /// Tensors touched by the class representatives (the only homes pricing needs).
    touched: Vec<u32>,
    profile: PlacementProfile,
    weights: f64,
    kv: f64,
    act: f64,
}

/// Where each knob axis sits in the space.
#[derive(Clone, Debug)]
struct AxisIdx {
    hw: Vec<usize>,
    quant: usize,
    prefill_unit: usize,
    decode_unit: usize,
    batch: usize,
    prompt: usize,
    context: usize,
}

/// Errors setting up an LLM evaluator.
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
}

/// Prices LLM design points on a device (with what-if variants).
pub struct LlmEvaluator {
    model: LlmConfig,
    quants: Vec<QuantScheme>,
    batches: Vec<u64>,
    prompts: Vec<u64>,
    contexts: Vec<u64>,
    hw_file: String,
    base: toml::Table,
    base_hw: Arc<Hardware>,
    space: Space,
    ax: AxisIdx,
    /// Unit index in the device of each value of the prefill and decode unit axes.
    prefill_units: Vec<usize>,
    decode_units: Vec<usize>,
    mode: Mode,
    graphs: Vec<OnceLock<GraphEntry>>,
    knob_total: u64,
}

/// Key of one priced phase.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct PhaseKey {
    hw: u64,
    unit: u32,
    graph: u32,
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
    ) -> Result<LlmEvaluator, LlmSetupError> {
        let find = |n: &'static str| space.axis(n).ok_or(LlmSetupError::Axis(n, "values"));
        let ax = AxisIdx {
            hw: (0..space.hardware_axes()).collect(),
            quant: find("quant")?,
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
        let prefill_units = names(space, ax.prefill_unit, "prefill_unit")?
            .iter()
            .map(|u| base_hw.unit_index(Some(u)))
            .collect::<Result<Vec<_>, _>>()?;
        let decode_units = names(space, ax.decode_unit, "decode_unit")?
            .iter()
            .map(|u| base_hw.unit_index(Some(u)))
            .collect::<Result<Vec<_>, _>>()?;
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
        let n_graphs = quants.len() * batches.len() * (prompts.len() + contexts.len());
        let h = space.hardware_axes();
        let knob_total = space.axes[h..]
            .iter()
            .map(|a| a.values.len() as u64)
            .product();
        Ok(LlmEvaluator {
            model,
            quants,
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
            mode,
            graphs: (0..n_graphs).map(|_| OnceLock::new()).collect(),
            knob_total,
        })
    }

    /// Dense graph index: quant, batch, then prompts followed by contexts.
    fn graph_index(&self, q: u32, b: u32, phase_slot: usize) -> u32 {
        let slots = self.prompts.len() + self.contexts.len();
        ((q as usize * self.batches.len() + b as usize) * slots + phase_slot) as u32
    }

    fn graph(&self, idx: u32) -> &GraphEntry {
        self.graphs[idx as usize].get_or_init(|| {
            let slots = self.prompts.len() + self.contexts.len();
            let i = idx as usize;
            let slot = i % slots;
            let b = (i / slots) % self.batches.len();
            let q = i / slots / self.batches.len();
            let phase = if slot < self.prompts.len() {
                Phase::Prefill {
                    prompt: self.prompts[slot],
                }
            } else {
                Phase::Decode {
                    context: self.contexts[slot - self.prompts.len()],
                }
            };
            let graph = self.model.build(&self.quants[q], phase, self.batches[b]);
            let profile = PlacementProfile::of(&graph);
            let classes = profile.classes(&graph);
            let mut touched: Vec<u32> = classes
                .iter()
                .flat_map(|&(op, _)| {
                    let o = graph.op(op);
                    o.inputs
                        .iter()
                        .chain(&o.outputs)
                        .map(|t| t.0)
                        .collect::<Vec<_>>()
                })
                .collect();
            touched.sort_unstable();
            touched.dedup();
            GraphEntry {
                classes,
                touched,
                profile,
                weights: graph.weight_bytes(),
                kv: graph.kv_cache_bytes(),
                act: graph.peak_activation_bytes(),
                graph: Arc::new(graph),
            }
        })
    }

    /// The device variant of hardware combination `combo` (the high digits of a point id).
    fn hardware(&self, combo: u64) -> Result<Arc<Hardware>, String> {
        if self.ax.hw.is_empty() {
            return Ok(self.base_hw.clone());
        }
        let digits = self.space.decode(combo * self.knob_total);
        let fields: Vec<(&str, f64)> = self
            .ax
            .hw
            .iter()
            .map(|&h| {
                let a = &self.space.axes[h];
                (
                    a.name.as_str(),
                    a.values.number(digits[h] as usize).unwrap_or(f64::NAN),
                )
            })
            .collect();
        let mut t = self.base.clone();
        Hardware::from_table_with_fields(&mut t, &self.hw_file, &fields)
            .map(Arc::new)
            .map_err(|e| format!("what-if device is invalid: {e}"))
    }

    /// Prices one phase graph on one unit: placement, then the total over op classes.
    fn price(&self, hw: &Hardware, unit: usize, graph: u32) -> Result<Ledger, Infeasible> {
        let g = self.graph(graph);
        // The unit's own cost model (roofline or cycle model), as `score` uses.
        let model = model_for(hw, unit, self.mode).map_err(|e| Infeasible {
            reason: format!("no usable cost model: {e}"),
        })?;
        let res = g.profile.place_only(hw, unit, &g.touched);
        evaluate_total(model.as_ref(), &g.graph, &res, &g.classes)
    }

    fn keys(&self, p: &Point) -> (u64, PhaseKey, PhaseKey) {
        let d = &p.digits;
        let combo = p.id / self.knob_total;
        let (q, b) = (d[self.ax.quant], d[self.ax.batch]);
        let pre = PhaseKey {
            hw: combo,
            unit: self.prefill_units[d[self.ax.prefill_unit] as usize] as u32,
            graph: self.graph_index(q, b, d[self.ax.prompt] as usize),
        };
        let dec = PhaseKey {
            hw: combo,
            unit: self.decode_units[d[self.ax.decode_unit] as usize] as u32,
            graph: self.graph_index(q, b, self.prompts.len() + d[self.ax.context] as usize),
        };
        (combo, pre, dec)
    }

    fn combine(
        &self,
        p: &Point,
        hw: &Result<Arc<Hardware>, String>,
        pre: Option<&Result<Ledger, Infeasible>>,
        dec: Option<&Result<Ledger, Infeasible>>,
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
                let mut levels = vec![
                    hw.units[kp.unit as usize].reach[hw.units[kp.unit as usize].reach.len() - 1],
                ];
                let dl = *hw.units[kd.unit as usize].reach.last().expect("validated");
                if dl != levels[0] {
                    levels.push(dl);
                }
                metrics[m::MEMORY] = Some(total * levels.len() as f64);
                let cap = levels
                    .iter()
                    .map(|&l| hw.memories[l].usable_bytes)
                    .fold(f64::INFINITY, f64::min);
                metrics[m::CAPACITY] = Some(cap);
                labels[2] = levels
                    .iter()
                    .map(|&l| hw.memories[l].name.as_str())
                    .collect::<Vec<_>>()
                    .join("+");
                for &l in &levels {
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
                let unit_name = |u: u32| hw.units[u as usize].name.as_str();
                match pre {
                    Some(Ok(l)) => {
                        metrics[m::TTFT] = Some(l.latency_s);
                        metrics[m::PREFILL_TPS] = Some(batch * prompt as f64 / l.latency_s);
                        metrics[m::PREFILL_ENERGY] = Some(l.energy_j());
                        labels[1] = bound_name(hw, l.bound());
                    }
                    Some(Err(e)) => why.push(format!("prefill on {}: {e}", unit_name(kp.unit))),
                    None => {}
                }
                match dec {
                    Some(Ok(l)) => {
                        metrics[m::DECODE_LATENCY] = Some(l.latency_s);
                        metrics[m::DECODE_TPS] = Some(batch / l.latency_s);
                        metrics[m::ENERGY_PER_TOKEN] = Some(l.energy_j() / batch);
                        labels[0] = bound_name(hw, l.bound());
                    }
                    Some(Err(e)) => why.push(format!("decode on {}: {e}", unit_name(kd.unit))),
                    None => {}
                }
            }
        }
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

    /// Total number of distinct graphs this evaluator may build.
    pub fn graph_count(&self) -> usize {
        self.graphs.len()
    }
}

fn text_table(text: &str, file: &str) -> Result<toml::Table, HardwareError> {
    text.parse()
        .map_err(|e: toml::de::Error| HardwareError::Parse {
            file: file.to_string(),
            line: e.span().map_or(0, |s| {
                text[..s.start.min(text.len())].matches('\n').count() + 1
            }),
            message: e.message().to_string(),
        })
}

/// A number with an SI prefix and a unit, 3 significant digits: `si(2.5e9, "B")` = "2.50 GB".
pub fn si(v: f64, unit: &str) -> String {
    if !v.is_finite() {
        return format!("{v} {unit}");
    }
    if v == 0.0 {
        return format!("0 {unit}");
    }
    const PREFIXES: [(f64, &str); 9] = [
        (1e12, "T"),
        (1e9, "G"),
        (1e6, "M"),
        (1e3, "k"),
        (1.0, ""),
        (1e-3, "m"),
        (1e-6, "µ"),
        (1e-9, "n"),
        (1e-12, "p"),
    ];
    let a = v.abs();
    let (scale, p) = PREFIXES
        .iter()
        .copied()
        .find(|&(s, _)| a >= s * 0.9995)
        .unwrap_or((1e-12, "p"));
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

    fn evaluate(&self, points: &[Point]) -> Vec<Outcome> {
        let keys: Vec<(u64, PhaseKey, PhaseKey)> = points.iter().map(|p| self.keys(p)).collect();
        let mut combos: Vec<u64> = keys.iter().map(|k| k.0).collect();
        combos.sort_unstable();
        combos.dedup();
        let hws: HashMap<u64, Result<Arc<Hardware>, String>> =
            combos.par_iter().map(|&c| (c, self.hardware(c))).collect();
        let mut phase_keys: Vec<PhaseKey> = keys
            .iter()
            .flat_map(|k| [k.1, k.2])
            .filter(|k| hws[&k.hw].is_ok())
            .collect();
        phase_keys.sort_unstable();
        phase_keys.dedup();
        let phases: HashMap<PhaseKey, Result<Ledger, Infeasible>> = phase_keys
            .par_iter()
            .map(|&k| {
                let hw = hws[&k.hw].as_ref().expect("filtered");
                (k, self.price(hw, k.unit as usize, k.graph))
            })
            .collect();
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
            let Ok(model) = model_for(&hw, k.unit as usize, self.mode) else {
                continue;
            };
            let res = g.profile.place(&hw, k.unit as usize);
            if let Ok(e) = evaluate(model.as_ref(), &g.graph, &res) {
                out.push(PhaseDetail {
                    phase: name.to_string(),
                    hw: hw.clone(),
                    unit: k.unit as usize,
                    graph: g.graph.clone(),
                    per_op: e.per_op,
                    calibrated: self.mode == Mode::Calibrated,
                });
            }
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
