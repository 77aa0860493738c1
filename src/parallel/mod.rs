//! Multi-GPU inference of one LLM on one node ([`Node`]): tensor parallelism over `tp` GPUs
//! (Megatron-LM's split, Shoeybi et al. 2019), pipeline parallelism over `pp` stages (GPipe,
//! Huang et al. 2019), or both (`tp · pp` GPUs).
//!
//! **Tensor parallel (`--tp N`).** Each GPU holds 1/N of every layer: the q/k/v, gate and up
//! projections are split by columns (output features: N_q/N query heads, N_kv/N KV heads, F/N
//! MLP columns), o_proj and down_proj by rows (their input features), so attention runs on the
//! GPU's own heads and the MLP activation on its own columns without communication, and o_proj
//! and down_proj each leave a partial sum that an all-reduce completes: two all-reduces per
//! layer, of the activation `t · H · b` bytes (`t` tokens of the micro-batch, width `H`,
//! `b` bytes per activation element). The KV cache splits with the KV heads (each GPU caches
//! its own), so per-GPU KV bytes are 1/N. Norms, residual adds and the router of a MoE layer
//! are replicated (every GPU computes them on the full activation). Embedding and LM head are
//! vocabulary-parallel (Megatron's `VocabParallelEmbedding` and column-parallel head): each GPU
//! holds ⌈V/N⌉ rows of each table; the embedding lookup ends in one more all-reduce of
//! `t · H · b`, and the head's logits (`rows · ⌈V/N⌉` per GPU in the float type) are
//! all-gathered. A ring moves them in
//!
//! ```text
//! all-reduce of S bytes:          t_AR = 2(N-1)/N · S / B  +  2(N-1) · α
//! all-gather of S bytes in all:   t_AG =  (N-1)/N · S / B  +   (N-1) · α
//! ```
//!
//! with `B` the link's bytes per second each way per GPU and `α` its latency per ring step
//! (Patarasuk and Yuan 2009; NCCL's ring). Communication is not overlapped with compute (as in
//! TensorRT-LLM and vLLM decode without custom fused kernels). The query heads and the KV heads
//! must both divide by N, or the split is infeasible and says so; MLP and vocabulary widths
//! that do not divide are padded up (⌈F/N⌉, ⌈V/N⌉), as Megatron pads the vocabulary.
//!
//! **Pipeline parallel (`--pp M`).** The layers split into M contiguous stages of ⌊L/M⌋ or
//! ⌈L/M⌉ layers (the first L mod M stages take one more); the embedding runs on the first, the
//! final norm and LM head on the last (with tied embeddings, both hold the table). Between
//! stages the activation `t · H · b` goes over the link once per TP rank: `t_send = S / B + α`.
//! The batch splits into `m` micro-batches (`--microbatches`, dividing the batch); a stage's
//! time for one micro-batch is `t_s = compute_s + all-reduces_s + send_s`, and
//!
//! ```text
//! prefill (GPipe):  TTFT = (m + M - 1) · max_s t_s                 bubble = (M-1)/(m+M-1)
//! decode:           TPOT = max(m, M) · max_s t_s                   bubble = 1 - m/max(m, M)
//! ```
//!
//! Decode is modelled as the steady state of in-flight micro-batches: each of the m groups of
//! sequences has one token in the pipe at a time and must leave the last stage before its next
//! token enters the first, so a round that gives every sequence one token takes the longer of
//! the m stage slots the busiest stage needs and the M stages one token crosses. With m = 1 a
//! token crosses all stages alone (pipeline parallelism adds memory, not speed, to decode).
//!
//! **Memory** is checked per GPU, stage by stage: the stage's weight tensors (1/N of each split
//! matrix, the replicated norms), the KV cache of its layers for all m micro-batches, and the
//! activation peak of one micro-batch, against the device's main memory.
//!
//! **Energy** over a phase: every GPU's op energy for each micro-batch it runs, the static power
//! of all `tp · pp` GPUs over the rest of the phase (bubbles and communication), and the link's
//! energy per byte over every byte sent (`2(N-1) · S` per all-reduce, `(N-1) · S` per all-gather,
//! `N · S` per stage boundary). With `tp = pp = m = 1` every term beyond the single-device score
//! is zero, and the figures equal [`crate::score::score_llm`]'s exactly.

pub mod node;
mod report;

pub use node::{GpuLink, LinkKind, Node, NodeError};

use crate::cost::{Evaluation, Ledger};
use crate::score::{ScoreError, ScoreRequest, score_graph_under};
use crate::workload::{Graph, LlmConfig, ModelError, Phase, QuantScheme, Role, Storage};
use serde::Serialize;
use std::ops::Range;

/// How to spread the model over the node.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct ParallelRequest {
    /// Tensor-parallel degree N (GPUs per stage).
    pub tp: u64,
    /// Pipeline stages M.
    pub pp: u64,
    /// Micro-batches m the batch splits into (1 to the batch, dividing it).
    pub microbatches: u64,
}

/// Why a parallel score cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum ParallelError {
    /// The split cannot be made (heads that do not divide, more stages than layers, more GPUs
    /// than the node has, micro-batches that do not divide the batch).
    #[error("infeasible split (--tp {tp} --pp {pp}): {reason}")]
    Split {
        /// TP degree asked.
        tp: u64,
        /// PP degree asked.
        pp: u64,
        /// Why.
        reason: String,
    },
    /// Scoring a GPU's graph failed.
    #[error(transparent)]
    Score(#[from] ScoreError),
    /// The graph cannot be built at this size.
    #[error(transparent)]
    Model(#[from] ModelError),
}

/// Ring all-reduce of `bytes` over `n` GPUs: `2(n-1)/n · bytes / B + 2(n-1) · α` (0 for one GPU).
pub fn all_reduce_s(bytes: f64, n: u64, link: &GpuLink) -> f64 {
    if n <= 1 {
        return 0.0;
    }
    let k = (n - 1) as f64;
    2.0 * k / n as f64 * bytes / link.bytes_per_s + 2.0 * k * link.latency_s
}

/// Ring all-gather of `bytes` in all over `n` GPUs: `(n-1)/n · bytes / B + (n-1) · α`.
pub fn all_gather_s(bytes: f64, n: u64, link: &GpuLink) -> f64 {
    if n <= 1 {
        return 0.0;
    }
    let k = (n - 1) as f64;
    k / n as f64 * bytes / link.bytes_per_s + k * link.latency_s
}

/// One point-to-point send of `bytes`: `bytes / B + α`.
pub fn send_s(bytes: f64, link: &GpuLink) -> f64 {
    bytes / link.bytes_per_s + link.latency_s
}

/// GPipe's prefill time of `m` micro-batches through `stages` stages whose slowest takes
/// `t_stage` per micro-batch: `(m + M - 1) · t_stage`.
pub fn gpipe_s(m: u64, stages: u64, t_stage: f64) -> f64 {
    (m + stages - 1) as f64 * t_stage
}

/// A decode round (one token for every sequence) of `m` micro-batches through `stages`
/// stages: `max(m, M) · t_stage`.
pub fn decode_round_s(m: u64, stages: u64, t_stage: f64) -> f64 {
    m.max(stages) as f64 * t_stage
}

/// The layers of each of `pp` stages: contiguous, the first `layers mod pp` one longer.
pub fn stage_layers(layers: u64, pp: u64) -> Vec<Range<u64>> {
    let (base, extra) = (layers / pp, layers % pp);
    let mut start = 0;
    (0..pp)
        .map(|s| {
            let len = base + u64::from(s < extra);
            let r = start..start + len;
            start += len;
            r
        })
        .collect()
}

/// The model as one GPU of a `tp`-way split holds it: query and KV heads, MLP widths (dense,
/// expert and shared) and vocabulary divided by `tp` (widths rounded up), or the reason the
/// heads do not split.
pub fn shard(c: &LlmConfig, tp: u64) -> Result<LlmConfig, String> {
    if tp == 0 {
        return Err("the TP degree must be at least 1".into());
    }
    if !c.heads.is_multiple_of(tp) || !c.kv_heads.is_multiple_of(tp) {
        return Err(format!(
            "{} has {} query heads and {} KV heads; a TP degree must divide both (each GPU computes whole heads)",
            c.name, c.heads, c.kv_heads
        ));
    }
    let mut s = c.clone();
    s.heads /= tp;
    s.kv_heads /= tp;
    s.ffn = c.ffn.div_ceil(tp);
    s.vocab = c.vocab.div_ceil(tp);
    s.moe_layout.expert_ffn = c.moe_layout.expert_ffn.map(|f| f.div_ceil(tp));
    s.moe_layout.shared_ffn = c.moe_layout.shared_ffn.div_ceil(tp);
    Ok(s)
}

/// The transformer layer a tensor or op name belongs to (`layers.12.attn.k_cache` → 12).
fn layer_of_name(name: &str) -> Option<u64> {
    name.strip_prefix("layers.")?
        .split('.')
        .next()?
        .parse()
        .ok()
}

/// One pipeline stage of one priced phase, per GPU and per micro-batch.
#[derive(Clone, Debug, Serialize)]
pub struct Stage {
    /// Its layers.
    pub layers: Range<u64>,
    /// Its ops' ledgers summed (one GPU, one micro-batch).
    #[serde(skip)]
    pub compute: Ledger,
    /// Its ops' time, seconds.
    pub compute_s: f64,
    /// Its all-reduces (and, on the last stage, the logits all-gather), seconds.
    pub collective_s: f64,
    /// Bytes each GPU of the stage sends in its collectives.
    pub collective_bytes: f64,
    /// Sending the activation to the next stage (0 on the last), seconds.
    pub send_s: f64,
    /// Bytes each GPU sends to the next stage.
    pub send_bytes: f64,
    /// `compute_s + collective_s + send_s`.
    pub time_s: f64,
}

/// One priced phase over the node.
#[derive(Clone, Debug)]
pub struct ParallelPhase {
    /// Which phase.
    pub phase: Phase,
    /// One GPU's graph (its shard, one micro-batch).
    pub graph: Graph,
    /// That graph priced.
    pub eval: Evaluation,
    /// The stages.
    pub stages: Vec<Stage>,
    /// Tokens over the whole batch (prompt tokens for prefill, one per sequence for decode).
    pub tokens: f64,
    /// TTFT (prefill) or TPOT (decode), seconds.
    pub latency_s: f64,
    /// Energy of all GPUs and the link over the phase, joules.
    pub energy_j: f64,
    /// Of which the link, joules.
    pub link_j: f64,
    /// Fraction of stage time idle in the pipeline's bubble.
    pub bubble: f64,
}

impl ParallelPhase {
    /// Tokens per second over the node.
    pub fn tokens_per_s(&self) -> f64 {
        self.tokens / self.latency_s
    }
    /// Joules per token over the node.
    pub fn j_per_token(&self) -> f64 {
        self.energy_j / self.tokens
    }
    /// The slowest stage's time per micro-batch.
    pub fn stage_max_s(&self) -> f64 {
        self.stages.iter().map(|s| s.time_s).fold(0.0, f64::max)
    }
}

/// One GPU's memory in one stage.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct StageMemory {
    /// The stage's layers.
    pub layers: Range<u64>,
    /// Weights on the GPU.
    pub weights_bytes: f64,
    /// KV cache on the GPU (all micro-batches).
    pub kv_cache_bytes: f64,
    /// Peak activations of one micro-batch.
    pub activation_peak_bytes: f64,
    /// The sum.
    pub total_bytes: f64,
    /// Whether it fits the device's usable main memory.
    pub fits: bool,
}

/// A model scored over a node.
#[derive(Clone, Debug)]
pub struct ParallelScore {
    /// Node name.
    pub node: String,
    /// The link's name.
    pub link: String,
    /// Device of each GPU.
    pub hardware: String,
    /// Unit name.
    pub unit: String,
    /// Model name.
    pub model: String,
    /// Quantization.
    pub quant: String,
    /// Runtime name.
    pub runtime: String,
    /// Sequences over the node.
    pub batch: u64,
    /// The split.
    pub split: ParallelRequest,
    /// Priced phases.
    pub phases: Vec<ParallelPhase>,
    /// Per-GPU memory of each stage.
    pub memory: Vec<StageMemory>,
    /// Usable bytes of one GPU's main memory.
    pub capacity_bytes: f64,
    /// Name of that memory level.
    pub level: String,
}

impl ParallelScore {
    /// GPUs used: `tp · pp`.
    pub fn gpus(&self) -> u64 {
        self.split.tp * self.split.pp
    }
    /// The fullest GPU's memory.
    pub fn max_memory(&self) -> &StageMemory {
        (self.memory.iter())
            .max_by(|a, b| a.total_bytes.total_cmp(&b.total_bytes))
            .expect("at least one stage")
    }
    /// Whether every GPU's memory fits.
    pub fn fits(&self) -> bool {
        self.memory.iter().all(|m| m.fits)
    }
    /// The phase of this kind, if priced.
    pub fn phase(&self, decode: bool) -> Option<&ParallelPhase> {
        (self.phases.iter()).find(|p| matches!(p.phase, Phase::Decode { .. }) == decode)
    }
}

/// Checks the split against the node and model: GPUs available, stages at most the layers,
/// micro-batches dividing the batch, and the heads dividing by `tp`; returns the GPU's shard.
fn check_split(
    node: &Node,
    model: &LlmConfig,
    batch: u64,
    par: &ParallelRequest,
) -> Result<LlmConfig, ParallelError> {
    let fail = |reason: String| ParallelError::Split {
        tp: par.tp,
        pp: par.pp,
        reason,
    };
    if par.tp == 0 || par.pp == 0 || par.microbatches == 0 {
        return Err(fail(
            "--tp, --pp and --microbatches must be at least 1".into(),
        ));
    }
    let gpus = par.tp.saturating_mul(par.pp);
    if gpus > node.gpus {
        return Err(fail(format!(
            "{gpus} GPUs (tp × pp) but {} has {}",
            node.name, node.gpus
        )));
    }
    if par.pp > model.layers {
        return Err(fail(format!(
            "{} stages but {} has {} layers; each stage needs at least one",
            par.pp, model.name, model.layers
        )));
    }
    if par.microbatches > batch || !batch.is_multiple_of(par.microbatches) {
        return Err(fail(format!(
            "--microbatches {} must divide the batch of {batch}",
            par.microbatches
        )));
    }
    shard(model, par.tp).map_err(fail)
}

/// The stage of every op of a GPU's graph: by its layer, and for the ops outside layers, the
/// first stage before the first layer (embedding) and the last after (final norm, LM head).
fn op_stages(graph: &Graph, ranges: &[Range<u64>]) -> Vec<usize> {
    let stage_of = |l: u64| ranges.iter().position(|r| r.contains(&l)).unwrap_or(0);
    let mut seen_layer = false;
    (graph.ops.iter())
        .map(|op| match op.layer {
            Some(l) => {
                seen_layer = true;
                stage_of(u64::from(l))
            }
            None if seen_layer => ranges.len() - 1,
            None => 0,
        })
        .collect()
}

/// Prices one phase: one GPU's graph at the micro-batch, split into stages, with the
/// collectives and sends of each (see the module docs).
fn price_phase(
    node: &Node,
    unit: usize,
    shard_cfg: &LlmConfig,
    quant: &QuantScheme,
    req: &ScoreRequest,
    par: &ParallelRequest,
    phase: Phase,
) -> Result<ParallelPhase, ParallelError> {
    let (hw, link, n) = (&node.hw, &node.link, par.tp);
    let m = par.microbatches;
    let mb = req.batch / m;
    let graph = shard_cfg.try_build(quant, phase, mb)?;
    let (graph, eval) = score_graph_under(hw, unit, req, graph)?;
    crate::score::check_finite(phase.name(), &eval)?;
    let (t, tokens) = match phase {
        Phase::Prefill { prompt } => (mb * prompt, (req.batch * prompt) as f64),
        Phase::Decode { .. } => (mb, req.batch as f64),
    };
    let act = Storage::plain(quant.acts).bytes(&[t, shard_cfg.hidden]);
    let logits = Storage::plain(quant.float).bytes(&[mb, shard_cfg.vocab]) * n as f64;
    let ranges = stage_layers(shard_cfg.layers, par.pp);
    let mut stages: Vec<Stage> = (ranges.iter().cloned())
        .map(|layers| Stage {
            layers,
            compute: Ledger::zero(),
            compute_s: 0.0,
            collective_s: 0.0,
            collective_bytes: 0.0,
            send_s: 0.0,
            send_bytes: 0.0,
            time_s: 0.0,
        })
        .collect();
    for (s, l) in op_stages(&graph, &ranges).into_iter().zip(&eval.per_op) {
        stages[s].compute = stages[s].compute + *l;
    }
    let nf = n as f64;
    let ar_bytes = if n > 1 {
        2.0 * (nf - 1.0) / nf * act
    } else {
        0.0
    };
    let last = stages.len() - 1;
    let mut link_bytes = 0.0;
    for (i, s) in stages.iter_mut().enumerate() {
        // Two all-reduces per layer, one after the embedding on the first stage.
        let count = 2 * (s.layers.end - s.layers.start) + u64::from(i == 0);
        s.collective_s = count as f64 * all_reduce_s(act, n, link);
        s.collective_bytes = count as f64 * ar_bytes;
        if i == last {
            s.collective_s += all_gather_s(logits, n, link);
            s.collective_bytes += if n > 1 { (nf - 1.0) / nf * logits } else { 0.0 };
        } else {
            s.send_s = send_s(act, link);
            s.send_bytes = act;
        }
        s.compute_s = s.compute.latency_s;
        s.time_s = s.compute_s + s.collective_s + s.send_s;
        link_bytes += nf * (s.collective_bytes + s.send_bytes);
    }
    let t_max = stages.iter().map(|s| s.time_s).fold(0.0, f64::max);
    let (latency_s, bubble) = match phase {
        Phase::Prefill { .. } => (
            gpipe_s(m, par.pp, t_max),
            (par.pp - 1) as f64 / (m + par.pp - 1) as f64,
        ),
        Phase::Decode { .. } => (
            decode_round_s(m, par.pp, t_max),
            1.0 - m as f64 / m.max(par.pp) as f64,
        ),
    };
    let runs = nf * m as f64;
    let op_j: f64 = stages.iter().map(|s| s.compute.energy_j()).sum();
    let busy_s: f64 = stages.iter().map(|s| s.compute_s).sum();
    let idle_s = nf * par.pp as f64 * latency_s - runs * busy_s;
    let link_j = link_bytes * m as f64 * link.j_per_byte;
    let energy_j = runs * op_j + hw.static_w * idle_s + link_j;
    Ok(ParallelPhase {
        phase,
        graph,
        eval,
        stages,
        tokens,
        latency_s,
        energy_j,
        link_j,
        bubble,
    })
}

/// Per-GPU memory of each stage over the priced phases: weights of the stage's tensors, the KV
/// cache of its layers for all micro-batches, and the larger activation peak of one micro-batch.
fn stage_memory(
    phases: &[ParallelPhase],
    ranges: &[Range<u64>],
    microbatches: u64,
    capacity: f64,
) -> Vec<StageMemory> {
    let last = ranges.len() - 1;
    let stage_of = |name: &str| match layer_of_name(name) {
        Some(l) => vec![ranges.iter().position(|r| r.contains(&l)).unwrap_or(0)],
        // A tied table serves the head on the last stage as well as the embedding.
        None if name.starts_with("embed_tokens") => {
            let tied = !phases[0]
                .graph
                .tensors
                .iter()
                .any(|t| t.name == "lm_head.weight");
            if tied { vec![0, last] } else { vec![0] }
        }
        None => vec![last],
    };
    let mut weights = vec![0.0; ranges.len()];
    let mut kv = vec![0.0f64; ranges.len()];
    for t in &phases[0].graph.tensors {
        if t.role == Role::Weight {
            let mut owners = stage_of(&t.name);
            owners.dedup();
            for s in owners {
                weights[s] += t.bytes();
            }
        }
    }
    for p in phases {
        let mut per = vec![0.0; ranges.len()];
        for t in p.graph.tensors.iter().filter(|t| t.role == Role::KvCache) {
            per[stage_of(&t.name)[0]] += t.bytes();
        }
        for (k, v) in kv.iter_mut().zip(per) {
            *k = k.max(v * microbatches as f64);
        }
    }
    let act = (phases.iter())
        .map(|p| p.graph.peak_activation_bytes())
        .fold(0.0, f64::max);
    (ranges.iter().enumerate())
        .map(|(s, r)| {
            let total = weights[s] + kv[s] + act;
            StageMemory {
                layers: r.clone(),
                weights_bytes: weights[s],
                kv_cache_bytes: kv[s],
                activation_peak_bytes: act,
                total_bytes: total,
                fits: total <= capacity,
            }
        })
        .collect()
}

/// Scores `model` over `node` split as `par` (see the module docs): the request's batch is the
/// node's, its unit, runtime and mode apply to every GPU.
pub fn score_parallel(
    node: &Node,
    model: &LlmConfig,
    quant: &QuantScheme,
    req: &ScoreRequest,
    par: &ParallelRequest,
) -> Result<ParallelScore, ParallelError> {
    let hw = &node.hw;
    let unit = crate::score::llm_unit(hw, quant, req)?;
    let shard_cfg = check_split(node, model, req.batch, par)?;
    let quant = &req.runtime.scheme(quant);
    let mut phases = Vec::new();
    for (want, phase) in [
        (req.prefill, Phase::Prefill { prompt: req.prompt }),
        (
            req.decode,
            Phase::Decode {
                context: req.context,
            },
        ),
    ] {
        if want {
            phases.push(price_phase(node, unit, &shard_cfg, quant, req, par, phase)?);
        }
    }
    let main = hw.main_memory(unit);
    let ranges = stage_layers(shard_cfg.layers, par.pp);
    let memory = stage_memory(&phases, &ranges, par.microbatches, main.usable_bytes);
    Ok(ParallelScore {
        node: node.name.clone(),
        link: node.link.name.clone(),
        hardware: hw.name.clone(),
        unit: hw.units[unit].name.clone(),
        model: model.name.clone(),
        quant: quant.name.clone(),
        runtime: req.runtime.name.clone(),
        batch: req.batch,
        split: *par,
        phases,
        memory,
        capacity_bytes: main.usable_bytes,
        level: main.name.clone(),
    })
}
