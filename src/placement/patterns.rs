//! LLM deployment patterns expressed as placement problems:
//!
//! * **Sub-batch pipelining** ([`sub_batches`]): the batch is split into `k` independent
//!   sub-batches whose graphs are merged layer by layer (weights shared), so that within a layer
//!   block one sub-batch's attention can run on one unit while another's projections run on
//!   another (NeuPIMs' sub-batch interleaving of PIM attention and NPU GEMMs).
//! * **Prefill on one unit, decode on another** ([`phase_split`]): both phases are placed, and
//!   the KV cache each layer's prefill wrote is moved to where that layer's decode attention runs.
//! * Attention on PIM and FFN on the NPU, and int8 ops on the NPU with fp16 ops on the CPU or
//!   GPU (mllm-NPU), need no special code: the per-unit costs and dtype support make the MIP
//!   choose them (see the tests and `archscope map`).

use super::problem::Instance;
use super::schedule::{Objective, Placement};
use super::{Limits, PlaceError, place_instance};
use crate::hardware::Hardware;
use crate::workload::{Graph, LlmConfig, Phase, QuantScheme, Role, TensorId};
use std::collections::HashMap;

/// The graph of `phase` at `batch` split into `k` sub-batches of `batch / k` sequences, merged
/// so that each layer holds the ops of every sub-batch (`sb0.`, `sb1.`, ... prefixes); weights
/// are shared, activations and KV caches are per sub-batch.
pub fn sub_batches(
    cfg: &LlmConfig,
    quant: &QuantScheme,
    phase: Phase,
    batch: u64,
    k: u64,
) -> Result<Graph, PlaceError> {
    if k == 0 || batch % k != 0 {
        return Err(PlaceError::Options(format!(
            "batch {batch} cannot be split into {k} equal sub-batches"
        )));
    }
    cfg.check_phase(phase, batch / k)?;
    let parts: Vec<Graph> = (0..k).map(|_| cfg.build(quant, phase, batch / k)).collect();
    merge(
        &parts,
        &format!("{} in {k} sub-batches of {}", cfg.name, batch / k),
    )
}

/// Merges independent graphs layer by layer (see [`sub_batches`]); weight tensors with the same
/// name are shared.
pub fn merge(parts: &[Graph], name: &str) -> Result<Graph, PlaceError> {
    let mut g = Graph::new(name);
    let mut weights: HashMap<String, TensorId> = HashMap::new();
    let mut maps: Vec<Vec<TensorId>> = Vec::new();
    for (j, p) in parts.iter().enumerate() {
        let mut map = Vec::with_capacity(p.tensors.len());
        for t in &p.tensors {
            let id = if t.role == Role::Weight {
                *weights
                    .entry(t.name.clone())
                    .or_insert_with(|| g.add_tensor(t.name.clone(), &t.shape, t.storage, t.role))
            } else {
                g.add_tensor(format!("sb{j}.{}", t.name), &t.shape, t.storage, t.role)
            };
            map.push(id);
        }
        maps.push(map);
    }
    let segs: Vec<Vec<usize>> = parts.iter().map(super::segments_of).collect();
    let nseg = segs
        .iter()
        .map(|s| s.last().map_or(0, |x| x + 1))
        .max()
        .unwrap_or(0);
    for s in 0..nseg {
        for (j, p) in parts.iter().enumerate() {
            for (i, op) in p.ops.iter().enumerate() {
                if segs[j][i] != s {
                    continue;
                }
                let ins: Vec<TensorId> = op.inputs.iter().map(|t| maps[j][t.0 as usize]).collect();
                let outs: Vec<TensorId> =
                    op.outputs.iter().map(|t| maps[j][t.0 as usize]).collect();
                g.add_op(
                    format!("sb{j}.{}", op.name),
                    op.kind,
                    &ins,
                    &outs,
                    op.compute,
                    op.layer,
                );
            }
        }
    }
    g.validate()
        .map_err(|e| PlaceError::Internal(format!("merged graph: {e}")))?;
    Ok(g)
}

/// A placed prefill and decode, with the KV-cache handoff between them.
#[derive(Clone, Debug)]
pub struct PhaseSplit {
    /// Prefill placement.
    pub prefill: Placement,
    /// One decode step's placement.
    pub decode: Placement,
    /// Generated tokens the decode step stands for.
    pub tokens: u64,
    /// KV bytes that must move because a layer's prefill KV append and its decode attention run
    /// on different units.
    pub handoff_bytes: f64,
    /// Time of that move (at the shared level's peak bandwidth), seconds.
    pub handoff_s: f64,
    /// Energy of that move, joules.
    pub handoff_j: f64,
}

impl PhaseSplit {
    /// Prefill + handoff + `tokens` decode steps, seconds.
    pub fn latency_s(&self) -> f64 {
        self.prefill.totals.makespan_s
            + self.handoff_s
            + self.tokens as f64 * self.decode.totals.makespan_s
    }
    /// Energy of the same, joules.
    pub fn energy_j(&self) -> f64 {
        self.prefill.totals.energy_j
            + self.handoff_j
            + self.tokens as f64 * self.decode.totals.energy_j
    }
}

/// What [`phase_split`] places.
#[derive(Clone, Debug, PartialEq)]
pub struct PhaseRequest {
    /// Sequences.
    pub batch: u64,
    /// Prompt tokens.
    pub prompt: u64,
    /// Generated tokens; the decode step is placed at the mean context `prompt + tokens / 2`.
    pub tokens: u64,
    /// Units the prefill may use (all when `None`): one unit pins the phase to it.
    pub prefill_units: Option<Vec<String>>,
    /// Units the decode may use (all when `None`).
    pub decode_units: Option<Vec<String>>,
}

/// Places the prefill and one decode step (each on its own unit set, with `limits`) and prices
/// the KV handoff: for every layer whose prefill KV append ran on a unit other than its decode
/// attention (Q·Kᵀ), the layer's cache crosses the units' shared memory level.
pub fn phase_split(
    hw: &Hardware,
    cfg: &LlmConfig,
    quant: &QuantScheme,
    req: &PhaseRequest,
    objective: Objective,
    limits: &Limits,
) -> Result<PhaseSplit, PlaceError> {
    let (batch, prompt, tokens) = (req.batch, req.prompt, req.tokens);
    let pg = cfg.try_build(quant, Phase::Prefill { prompt }, batch)?;
    let dg = cfg.try_build(
        quant,
        Phase::Decode {
            context: prompt.saturating_add(tokens / 2),
        },
        batch,
    )?;
    let mut pb = limits.build.clone();
    pb.units = req.prefill_units.clone();
    let mut db = limits.build.clone();
    db.units = req.decode_units.clone();
    let pi = Instance::from_graph(hw, &pg, &pb)?;
    let di = Instance::from_graph(hw, &dg, &db)?;
    let prefill = place_instance(&pi, objective, limits)?;
    let decode = place_instance(&di, objective, limits)?;
    let unit_of = |p: &Placement, name: &str| {
        p.ops
            .iter()
            .find(|o| o.name == name)
            .map(|o| p.units[o.unit].clone())
    };
    let (mut bytes, mut secs, mut joules) = (0.0, 0.0, 0.0);
    let layer_kv = cfg.kv_cache_bytes(quant, batch, prompt) / cfg.layers as f64;
    for l in 0..cfg.layers {
        let (Some(a), Some(b)) = (
            unit_of(&prefill, &format!("layers.{l}.attn.kv_append")),
            unit_of(&decode, &format!("layers.{l}.attn.qk")),
        ) else {
            continue;
        };
        if a != b {
            let (ua, ub) = (hw.unit_index(Some(&a))?, hw.unit_index(Some(&b))?);
            let level = hw.units[ua]
                .reach
                .iter()
                .copied()
                .find(|x| hw.units[ub].reach.contains(x))
                .ok_or(PlaceError::NoLink {
                    from: a,
                    to: b.clone(),
                })?;
            let m = &hw.memories[level];
            let fixed = limits
                .build
                .switch_s
                .get(&b)
                .or_else(|| limits.build.switch_s.get("*"))
                .copied()
                .unwrap_or(0.0);
            bytes += layer_kv;
            secs += layer_kv / m.bytes_per_s + fixed;
            joules += layer_kv * m.j_per_byte;
        }
    }
    Ok(PhaseSplit {
        prefill,
        decode,
        tokens,
        handoff_bytes: bytes,
        handoff_s: secs,
        handoff_j: joules,
    })
}
