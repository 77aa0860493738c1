//! The multi-GPU LLM evaluator (`explore --node`): prices a point (quantization, runtime,
//! batch, TP degree, PP degree, micro-batches, prompt, context) over a node with
//! [`crate::parallel::score_parallel`] and reports the node's TTFT, time per output token,
//! throughput and energy per token, and the fullest GPU's memory. A split the model or node
//! cannot take (heads that do not divide, more GPUs than the node has, micro-batches that do
//! not divide the batch) is an infeasible point with the reason.

use super::eval::{Evaluator, MetricDef, Outcome, PhaseDetail};
use super::llm::LlmSetupError;
use super::runtimes::RuntimeSpec;
use crate::cost::Mode;
use crate::hardware::Hardware;
use crate::parallel::{Node, ParallelError, ParallelRequest, ParallelScore, score_parallel};
use crate::runtime::{Runtime, WorkloadKind};
use crate::score::ScoreRequest;
use crate::search::{Direction, Point, Space, Values};
use crate::trust::overlay::Overlay;
use crate::workload::{LlmConfig, QuantScheme};
use rayon::prelude::*;
use std::sync::Arc;

/// Axis names of a node's space, in order (no hardware axes).
pub const AXES: [&str; 8] = [
    "quant",
    "runtime",
    "batch",
    "tp",
    "pp",
    "microbatches",
    "prompt_tokens",
    "context_tokens",
];

/// The metrics of a point over a node.
pub const METRICS: [MetricDef; 13] = [
    MetricDef {
        name: "decode_latency_s",
        direction: Direction::Minimize,
        label: "decode latency per token, node (s)",
    },
    MetricDef {
        name: "decode_tokens_per_s",
        direction: Direction::Maximize,
        label: "decode throughput, node (tokens/s)",
    },
    MetricDef {
        name: "energy_per_token_j",
        direction: Direction::Minimize,
        label: "decode energy per token, all GPUs and the link (J)",
    },
    MetricDef {
        name: "ttft_s",
        direction: Direction::Minimize,
        label: "time to first token (s)",
    },
    MetricDef {
        name: "prefill_tokens_per_s",
        direction: Direction::Maximize,
        label: "prefill throughput, node (tokens/s)",
    },
    MetricDef {
        name: "prefill_energy_j",
        direction: Direction::Minimize,
        label: "prefill energy, all GPUs and the link (J)",
    },
    MetricDef {
        name: "memory_bytes",
        direction: Direction::Minimize,
        label: "memory of the fullest GPU (bytes)",
    },
    MetricDef {
        name: "weights_bytes",
        direction: Direction::Minimize,
        label: "weights on the fullest GPU (bytes)",
    },
    MetricDef {
        name: "kv_cache_bytes",
        direction: Direction::Minimize,
        label: "KV cache on the fullest GPU (bytes)",
    },
    MetricDef {
        name: "gpus",
        direction: Direction::Minimize,
        label: "GPUs used (tp × pp)",
    },
    MetricDef {
        name: "decode_tokens_per_s_per_gpu",
        direction: Direction::Maximize,
        label: "decode throughput per GPU (tokens/s)",
    },
    MetricDef {
        name: "decode_collective_s",
        direction: Direction::Minimize,
        label: "all-reduce and all-gather time per decode step, slowest stage (s)",
    },
    MetricDef {
        name: "decode_bubble",
        direction: Direction::Minimize,
        label: "decode pipeline bubble (fraction)",
    },
];

/// The labels of a point.
pub const LABELS: [&str; 1] = ["split"];

/// Default quantization of a node sweep: the 16-bit baseline that multi-GPU serving tables
/// quote (TensorRT-LLM, vLLM); `--quant` adds others.
pub const DEFAULT_QUANTS: [&str; 1] = ["fp16"];

/// Default objectives of a node sweep.
pub const DEFAULT_OBJECTIVES: [&str; 3] = ["decode_latency_s", "decode_tokens_per_s", "gpus"];

/// Prices LLM points over a node.
pub struct ParallelEvaluator {
    model: LlmConfig,
    node: Node,
    hw: Arc<Hardware>,
    quants: Vec<QuantScheme>,
    /// The runtime of each runtime-axis value on the node's default unit.
    runtimes: Vec<Runtime>,
    /// The calibration overlay of each runtime on the node's device, where the spec has one.
    overlays: Vec<Option<Overlay>>,
    /// Values of the integer axes, in [`AXES`] order from `batch`.
    ints: [Vec<u64>; 6],
    /// Axis index of each of [`AXES`].
    ax: [usize; 8],
    mode: Mode,
}

impl ParallelEvaluator {
    /// An evaluator for `model` over `node`, on `space` (the [`AXES`]), pricing under the
    /// `runtimes` of the runtime axis, each with its overlay among `calibrations` (as `score`
    /// picks one up for the device and runtime).
    pub fn new(
        model: LlmConfig,
        node: Node,
        space: &Space,
        mode: Mode,
        runtimes: &[RuntimeSpec],
        calibrations: &[Overlay],
    ) -> Result<ParallelEvaluator, LlmSetupError> {
        let mut ax = [0; 8];
        for (i, n) in AXES.iter().enumerate() {
            ax[i] = space.axis(n).ok_or(LlmSetupError::Axis(n, "values"))?;
        }
        let Values::Names(q) = &space.axes[ax[0]].values else {
            return Err(LlmSetupError::Axis("quant", "names"));
        };
        let quants = (q.iter().map(|q| QuantScheme::parse(q))).collect::<Result<Vec<_>, _>>()?;
        let hw = Arc::new(node.hw.clone());
        let unit = hw.unit_index(None)?;
        let runtimes = (runtimes.iter())
            .map(|r| match r.load()? {
                Some(rt) => Ok(rt),
                None => crate::runtime::resolve_flag(None, false, &hw, unit, WorkloadKind::Llm),
            })
            .collect::<Result<Vec<_>, _>>()?;
        let overlays = (runtimes.iter())
            .map(|rt| {
                (calibrations.iter())
                    .find(|o| o.check_for(&hw.name, &rt.name, "").is_ok())
                    .cloned()
            })
            .collect();
        let mut ints: [Vec<u64>; 6] = Default::default();
        for (k, slot) in ints.iter_mut().enumerate() {
            match &space.axes[ax[k + 2]].values {
                Values::Ints(v) if v.iter().all(|&x| x > 0) => *slot = v.clone(),
                _ => {
                    return Err(LlmSetupError::Axis(
                        AXES[k + 2],
                        "whole numbers of at least 1",
                    ));
                }
            }
        }
        Ok(ParallelEvaluator {
            model,
            node,
            hw,
            quants,
            runtimes,
            overlays,
            ints,
            ax,
            mode,
        })
    }

    /// The value of integer axis `k` (0: batch, then tp, pp, microbatches, prompt, context).
    fn int(&self, p: &Point, k: usize) -> u64 {
        self.ints[k][p.digits[self.ax[k + 2]] as usize]
    }

    fn score(&self, p: &Point) -> Result<ParallelScore, ParallelError> {
        let rv = p.digits[self.ax[1]] as usize;
        let req = ScoreRequest {
            batch: self.int(p, 0),
            prompt: self.int(p, 4),
            context: self.int(p, 5),
            mode: self.mode,
            runtime: self.runtimes[rv].clone(),
            calibration: self.overlays[rv].clone(),
            ..ScoreRequest::default()
        };
        let split = ParallelRequest {
            tp: self.int(p, 1),
            pp: self.int(p, 2),
            microbatches: self.int(p, 3),
        };
        let q = &self.quants[p.digits[self.ax[0]] as usize];
        score_parallel(&self.node, &self.model, q, &req, &split)
    }

    fn outcome(&self, p: &Point) -> Outcome {
        let label = format!(
            "TP{}×PP{} m{}",
            self.int(p, 1),
            self.int(p, 2),
            self.int(p, 3)
        );
        let s = match self.score(p) {
            Ok(s) => s,
            Err(e) => {
                return Outcome::new(vec![None; METRICS.len()], vec![label], vec![e.to_string()]);
            }
        };
        let (pre, dec) = (s.phase(false), s.phase(true));
        let mem = s.max_memory();
        let gpus = s.gpus() as f64;
        let metrics = vec![
            dec.map(|d| d.latency_s),
            dec.map(|d| d.tokens_per_s()),
            dec.map(|d| d.j_per_token()),
            pre.map(|d| d.latency_s),
            pre.map(|d| d.tokens_per_s()),
            pre.map(|d| d.energy_j),
            Some(mem.total_bytes),
            Some(mem.weights_bytes),
            Some(mem.kv_cache_bytes),
            Some(gpus),
            dec.map(|d| d.tokens_per_s() / gpus),
            dec.map(|d| {
                (d.stages.iter())
                    .map(|x| x.collective_s)
                    .fold(0.0, f64::max)
            }),
            dec.map(|d| d.bubble),
        ];
        let mut why = Vec::new();
        if !s.fits() {
            why.push(format!(
                "does not fit: {:.1} GB on the fullest GPU of {:.1} GB usable {}",
                mem.total_bytes / 1e9,
                s.capacity_bytes / 1e9,
                s.level
            ));
        }
        Outcome::new(metrics, vec![label], why)
    }
}

impl Evaluator for ParallelEvaluator {
    fn metrics(&self) -> &[MetricDef] {
        &METRICS
    }
    fn labels(&self) -> &[&'static str] {
        &LABELS
    }
    fn evaluate(&self, points: &[Point]) -> Vec<Outcome> {
        points.par_iter().map(|p| self.outcome(p)).collect()
    }
    fn detail(&self, p: &Point) -> Vec<PhaseDetail> {
        let Ok(s) = self.score(p) else {
            return Vec::new();
        };
        let unit = self.hw.unit_index(Some(&s.unit)).unwrap_or(0);
        (s.phases.into_iter())
            .map(|ph| PhaseDetail {
                phase: ph.phase.name().to_string(),
                hw: self.hw.clone(),
                unit,
                graph: Arc::new(ph.graph),
                per_op: ph.eval.per_op,
                calibrated: self.mode == Mode::Calibrated,
                note: format!(
                    "one GPU's share of one micro-batch under TP {} × PP {} (all stages' ops)",
                    s.split.tp, s.split.pp
                ),
            })
            .collect()
    }
    fn curve_metrics(&self) -> &[&'static str] {
        &["decode_latency_s", "decode_tokens_per_s", "ttft_s"]
    }
    fn table_metrics(&self) -> &[&'static str] {
        &["decode_tokens_per_s", "ttft_s", "gpus", "memory_bytes"]
    }
    fn layer_label(&self) -> &'static str {
        "layer"
    }
}
