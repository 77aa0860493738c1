//! Adapter from a workload [`Graph`] to a [`MemProblem`], with the map back
//! from problem indices to graph op and tensor ids (so that a plan's traffic
//! can be charged to graph ops), and the COSMA scratchpad budgets `M_R`,
//! `M_P` and `M_H` of a problem.
//!
//! # What becomes what
//!
//! | graph tensor role | activation-only mode (default) | `include_weights` |
//! |---|---|---|
//! | [`Role::Weight`] | not in the problem: *streamed* (read from off-chip memory by the op that uses it, compulsory, never occupies the scratchpad) | [`TensorKind::Weight`] |
//! | [`Role::KvCache`] | streamed like a weight | [`TensorKind::Weight`] when read; writes go off-chip (streamed) |
//! | [`Role::Input`] | [`TensorKind::Input`] | same |
//! | [`Role::Activation`] | [`TensorKind::Activation`] | same |
//! | [`Role::Output`] | [`TensorKind::Output`] | same |
//!
//! This matches the COSMA paper's main setting ("activation only", weights
//! streamed) and its `M_Rp`/`M_Hp`/`M_Pp` setting where parameters are
//! ordinary tensors of the problem.
//!
//! Sizes are the graph's storage bytes ([`crate::workload::Tensor::bytes`],
//! quantization metadata included), rounded up to whole bytes.
//!
//! # Robustness rules
//!
//! * An op that reads a tensor twice reads it once (the problem's working set
//!   counts each tensor once).
//! * An op is atomic: a data-move op that copies only part of its input (a
//!   slice) still needs the whole input resident.
//! * An op that writes a tensor that is already produced, or that it reads
//!   itself (an in-place update), writes a new *version* of it: a fresh
//!   problem tensor named `name@op`; later readers read the newest version.
//! * Persistent tensors (weights, KV caches) written by an op are written
//!   straight to off-chip memory (streamed), so they are not outputs of the
//!   problem's op.
//! * An op that touches no tensor of the problem (e.g. it only reads weights
//!   in activation-only mode and writes nothing on-chip) is left out and listed
//!   in [`Adapted::skipped_ops`]; its streamed bytes are still counted.
//! * Graph inputs that no op reads, and zero-byte tensors, are left out.
//!
//! # Budgets (COSMA §III-D/E)
//!
//! * `M_R` ([`min_working_set`]): the largest single-op working set; below it
//!   no plan exists.
//! * `M_P` ([`min_peak_footprint`]): the smallest peak of live bytes over all
//!   topological orders with no spill (Eq. 13–15, solved as an ILP with
//!   ASAP/ALAP windows; with the time limit hit the best order found, or the
//!   listed order, gives an upper bound and the status says so).
//! * `M_H = (M_R + M_P) / 2`, rounded up to the granularity.

use std::collections::HashMap;
use std::time::Instant;

use crate::util::lp::highs_model;
use good_lp::{Constraint, Expression, ProblemVariables, Variable, variable};
use highs::HighsModelStatus;
use serde::{Deserialize, Serialize};

use super::{MappingError, MemProblem, OpSpec, Plan, Prepared, TensorKind, TensorSpec};
use crate::workload::{Graph, OpId, Role, TensorId};

/// Default allocation granularity: TensorFlow Lite's arena planner aligns
/// every tensor to 64 bytes (`kDefaultTensorAlignment` in
/// `tensorflow/lite/core/subgraph.h`), which is also one cache line / AXI
/// burst of 64 bytes on common accelerators.
pub const DEFAULT_GRANULARITY_BYTES: u64 = 64;

/// Options of [`problem_from_graph`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdaptOptions {
    /// Put parameters (weights, KV caches) into the problem as
    /// [`TensorKind::Weight`] tensors that occupy the scratchpad (COSMA's
    /// `M_Rp`/`M_Hp`/`M_Pp` setting). Default `false`: they are streamed.
    pub include_weights: bool,
    /// Allocation granularity in bytes (alignment and size rounding); at least 1.
    pub granularity_bytes: u64,
    /// Fuse an activation function or inference batch norm into the op that
    /// produces its only input when that op's output has no other reader, as
    /// TensorFlow Lite (`fused_activation_function`), XNNPACK and NPU
    /// compilers do: the intermediate tensor is never materialised. Default
    /// `true`; `false` keeps every graph op as a step of its own.
    pub fuse_activations: bool,
}

impl Default for AdaptOptions {
    fn default() -> Self {
        AdaptOptions {
            include_weights: false,
            granularity_bytes: DEFAULT_GRANULARITY_BYTES,
            fuse_activations: true,
        }
    }
}

/// A [`MemProblem`] built from a graph, with the way back to the graph.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Adapted {
    /// Name of the graph it came from.
    pub graph_name: String,
    /// The mapping problem (ops in graph order).
    pub problem: MemProblem,
    /// Graph op of each problem op (the first of its fused group).
    pub op_ids: Vec<OpId>,
    /// All graph ops of each problem op: the op itself and the activations
    /// fused into it ([`AdaptOptions::fuse_activations`]), in graph order.
    pub fused_ops: Vec<Vec<OpId>>,
    /// Graph tensor of each problem tensor (several problem tensors map to one
    /// graph tensor when it is updated in place; see the module docs).
    pub tensor_ids: Vec<TensorId>,
    /// Graph ops left out because they touch no problem tensor.
    pub skipped_ops: Vec<OpId>,
    /// Bytes each graph op streams from or to off-chip memory outside the
    /// scratchpad (parameters in activation-only mode, persistent writes),
    /// indexed by graph op id. This traffic is compulsory and not part of the
    /// problem's objective.
    pub streamed_bytes: Vec<u64>,
    /// Whether parameters are tensors of the problem.
    pub include_weights: bool,
}

/// Off-chip traffic of one graph op under a plan: the loads issued just
/// before it runs and the stores issued while it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct OpTraffic {
    /// The graph op.
    pub op: OpId,
    /// Step of the plan at which it runs.
    pub step: usize,
    /// Compulsory bytes charged to it (first loads of inputs/weights, the
    /// store of an output).
    pub compulsory_bytes: u64,
    /// Non-compulsory bytes charged to it (reloads and spill stores).
    pub non_compulsory_bytes: u64,
    /// Bytes streamed outside the scratchpad ([`Adapted::streamed_bytes`]).
    pub streamed_bytes: u64,
}

impl Adapted {
    /// Name of problem op `o`.
    pub fn op_name(&self, o: usize) -> &str {
        &self.problem.ops[o].name
    }

    /// Total streamed bytes of all graph ops.
    pub fn total_streamed_bytes(&self) -> u64 {
        self.streamed_bytes.iter().sum()
    }

    /// Charges a plan's loads and stores to the graph ops: a load to the op
    /// that runs at the step the tensor becomes resident, a store to the op
    /// running at its step. Compulsory means the first load of each weight or
    /// input and the first store of each output, in step order (as in
    /// [`super::verify`]). One row per plan step, in execution order; skipped
    /// ops are not listed.
    pub fn op_traffic(&self, plan: &Plan) -> Result<Vec<OpTraffic>, MappingError> {
        let n = self.problem.ops.len();
        if plan.order.len() != n {
            return Err(MappingError::invalid(
                "plan.order",
                format!("has {} steps but the problem has {n} ops", plan.order.len()),
            ));
        }
        let nt = self.problem.tensors.len();
        let mut rows: Vec<OpTraffic> = plan
            .order
            .iter()
            .enumerate()
            .map(|(t, &o)| {
                let op = self.op_ids[o];
                OpTraffic {
                    op,
                    step: t,
                    compulsory_bytes: 0,
                    non_compulsory_bytes: 0,
                    streamed_bytes: self.streamed_bytes[op.0 as usize],
                }
            })
            .collect();
        // Events in step order: loads (at residency start) and stores.
        let mut events: Vec<(usize, bool, usize)> = Vec::new();
        for r in &plan.residencies {
            if r.origin == super::Origin::Loaded {
                events.push((r.first_step, false, r.tensor));
            }
        }
        for s in &plan.stores {
            events.push((s.step, true, s.tensor));
        }
        events.sort_unstable();
        let mut seen_load = vec![false; nt];
        let mut seen_store = vec![false; nt];
        for (step, store, a) in events {
            if step >= n || a >= nt {
                return Err(MappingError::invalid(
                    "plan",
                    format!("refers to step {step} or tensor {a} out of range"),
                ));
            }
            let t = &self.problem.tensors[a];
            let compulsory = if store {
                let first = !seen_store[a];
                seen_store[a] = true;
                first && t.kind == TensorKind::Output
            } else {
                let first = !seen_load[a];
                seen_load[a] = true;
                first && matches!(t.kind, TensorKind::Weight | TensorKind::Input)
            };
            if compulsory {
                rows[step].compulsory_bytes += t.bytes;
            } else {
                rows[step].non_compulsory_bytes += t.bytes;
            }
        }
        Ok(rows)
    }
}

fn tensor_bytes(graph: &Graph, id: TensorId) -> u64 {
    let b = graph.tensor(id).bytes();
    if b.is_finite() && b > 0.0 {
        b.ceil() as u64
    } else {
        0
    }
}

/// Builds the scratchpad-mapping problem of `graph` for a scratchpad of
/// `capacity_bytes` (see the module documentation for the rules).
///
/// Errors: a zero granularity, an op that refers to a tensor id the graph
/// does not have, an activation read before any op produces it, an empty
/// problem (no op touches a scratchpad tensor), and a scratchpad smaller than
/// `M_R` ([`MappingError::Infeasible`], naming the op whose working set does
/// not fit).
pub fn problem_from_graph(
    graph: &Graph,
    capacity_bytes: u64,
    opts: &AdaptOptions,
) -> Result<Adapted, MappingError> {
    let adapted = build_problem(graph, capacity_bytes, opts)?;
    // Report the op with the largest working set (M_R), not merely the first
    // one that does not fit.
    let ws = min_working_set(&adapted.problem)?;
    let g = opts.granularity_bytes;
    if ws.bytes > capacity_bytes / g * g {
        return Err(MappingError::Infeasible {
            op: ws.op_name,
            needed_bytes: ws.bytes,
            capacity_bytes: capacity_bytes / g * g,
        });
    }
    // Full validation (cycles, producers, working sets against the capacity).
    Prepared::new(&adapted.problem)?;
    Ok(adapted)
}

/// Like [`problem_from_graph`] but without checking the working sets against
/// the capacity (use it to compute the budgets before choosing a capacity).
/// Malformed graphs are still rejected. The returned problem has
/// `capacity_bytes = 0`: set it before planning.
pub fn problem_from_graph_unchecked(
    graph: &Graph,
    opts: &AdaptOptions,
) -> Result<Adapted, MappingError> {
    let mut adapted = build_problem(graph, u64::MAX, opts)?;
    Prepared::new(&adapted.problem)?;
    adapted.problem.capacity_bytes = 0;
    Ok(adapted)
}

fn build_problem(
    graph: &Graph,
    capacity_bytes: u64,
    opts: &AdaptOptions,
) -> Result<Adapted, MappingError> {
    if opts.granularity_bytes == 0 {
        return Err(MappingError::invalid(
            "granularity_bytes",
            "must be at least 1 byte",
        ));
    }
    let nt = graph.tensors.len();
    let fused = if opts.fuse_activations {
        fusion_plan(graph)
    } else {
        vec![None; graph.ops.len()]
    };
    // Tensors that fusion removes (the fused activation's input).
    let mut internal = vec![false; nt];
    for (e, f) in fused.iter().enumerate() {
        if f.is_some() {
            internal[graph.ops[e].inputs[0].0 as usize] = true;
        }
    }
    // Problem op of each graph op (for fused ops, that of the group's root).
    let mut problem_op: Vec<Option<usize>> = vec![None; graph.ops.len()];
    let mut table = TensorTable::default();
    let mut ops: Vec<OpSpec> = Vec::new();
    let mut op_ids = Vec::new();
    let mut fused_ops: Vec<Vec<OpId>> = Vec::new();
    let mut skipped = Vec::new();
    let mut streamed = vec![0u64; graph.ops.len()];
    for (oi, op) in graph.ops.iter().enumerate() {
        let inputs = table.op_inputs(graph, oi, &internal, opts, &mut streamed[oi])?;
        let outputs = table.op_outputs(graph, oi, &internal, &inputs, &mut streamed[oi])?;
        if let Some(root) = fused[oi]
            && let Some(po) = problem_op[root]
        {
            // Merge into the producer's step: its extra inputs (weights when
            // included) and its outputs.
            for a in inputs {
                if !ops[po].inputs.contains(&a) {
                    ops[po].inputs.push(a);
                }
            }
            ops[po].outputs.extend(outputs);
            ops[po].name = format!("{}+{}", ops[po].name, short_name(&op.name));
            fused_ops[po].push(OpId(oi as u32));
            problem_op[oi] = Some(po);
            continue;
        }
        if inputs.is_empty() && outputs.is_empty() {
            skipped.push(OpId(oi as u32));
            continue;
        }
        ops.push(OpSpec {
            name: op.name.clone(),
            inputs,
            outputs,
        });
        op_ids.push(OpId(oi as u32));
        fused_ops.push(vec![OpId(oi as u32)]);
        problem_op[oi] = Some(ops.len() - 1);
    }
    if ops.is_empty() {
        return Err(MappingError::invalid(
            "graph",
            format!(
                "`{}` has no op that touches a scratchpad tensor{}",
                graph.name,
                if opts.include_weights {
                    ""
                } else {
                    " (with weights streamed)"
                }
            ),
        ));
    }
    Ok(Adapted {
        graph_name: graph.name.clone(),
        problem: MemProblem {
            tensors: table.tensors,
            ops,
            capacity_bytes,
            granularity_bytes: opts.granularity_bytes,
        },
        op_ids,
        fused_ops,
        tensor_ids: table.tensor_ids,
        skipped_ops: skipped,
        streamed_bytes: streamed,
        include_weights: opts.include_weights,
    })
}

/// The scratchpad tensors of the problem being built by [`build_problem`], in
/// creation order, with the graph tensor behind each.
#[derive(Default)]
struct TensorTable {
    tensors: Vec<TensorSpec>,
    tensor_ids: Vec<TensorId>,
    /// Current problem version of each graph tensor.
    current: HashMap<u32, usize>,
    /// Whether each problem tensor was written by an op (not read from memory).
    produced: Vec<bool>,
}

/// Rejects a tensor id that is out of range for `graph` (named after op `oi`).
fn check_tensor(graph: &Graph, oi: usize, id: TensorId) -> Result<(), MappingError> {
    let nt = graph.tensors.len();
    if id.0 as usize >= nt {
        Err(MappingError::invalid(
            format!("graph op {oi} ({})", graph.ops[oi].name),
            format!("refers to tensor #{} but the graph has {nt} tensors", id.0),
        ))
    } else {
        Ok(())
    }
}

impl TensorTable {
    /// The scratchpad inputs of graph op `oi`, creating the problem tensors of
    /// weights and graph inputs on first read; streamed weights are added to
    /// `streamed` and fusion-internal tensors left out.
    fn op_inputs(
        &mut self,
        graph: &Graph,
        oi: usize,
        internal: &[bool],
        opts: &AdaptOptions,
        streamed: &mut u64,
    ) -> Result<Vec<usize>, MappingError> {
        let op = &graph.ops[oi];
        let mut inputs: Vec<usize> = Vec::new();
        for &id in &op.inputs {
            check_tensor(graph, oi, id)?;
            let t = graph.tensor(id);
            let bytes = tensor_bytes(graph, id);
            if bytes == 0 {
                continue;
            }
            let param = t.role.is_persistent();
            if param && !opts.include_weights {
                *streamed += bytes;
                continue;
            }
            if internal[id.0 as usize] {
                continue;
            }
            let idx = match self.current.get(&id.0) {
                Some(&i) => i,
                None => {
                    let kind = match t.role {
                        Role::Weight | Role::KvCache => TensorKind::Weight,
                        Role::Input => TensorKind::Input,
                        Role::Activation | Role::Output => {
                            return Err(MappingError::invalid(
                                format!("graph op {oi} ({})", op.name),
                                format!("reads `{}` before any op produced it", t.name),
                            ));
                        }
                    };
                    self.tensors.push(TensorSpec {
                        name: t.name.clone(),
                        bytes,
                        kind,
                    });
                    self.tensor_ids.push(id);
                    self.produced.push(false);
                    self.current.insert(id.0, self.tensors.len() - 1);
                    self.tensors.len() - 1
                }
            };
            if !inputs.contains(&idx) {
                inputs.push(idx);
            }
        }
        Ok(inputs)
    }

    /// The scratchpad outputs of graph op `oi` (a new problem tensor each, named
    /// `tensor@op` when it rewrites an existing one); outputs written straight
    /// to off-chip memory are added to `streamed`.
    fn op_outputs(
        &mut self,
        graph: &Graph,
        oi: usize,
        internal: &[bool],
        inputs: &[usize],
        streamed: &mut u64,
    ) -> Result<Vec<usize>, MappingError> {
        let op = &graph.ops[oi];
        let mut outputs: Vec<usize> = Vec::new();
        for &id in &op.outputs {
            check_tensor(graph, oi, id)?;
            let t = graph.tensor(id);
            let bytes = tensor_bytes(graph, id);
            if bytes == 0 {
                continue;
            }
            if t.role.is_persistent() || t.role == Role::Input {
                // Written straight to off-chip memory.
                *streamed += bytes;
                continue;
            }
            if internal[id.0 as usize] {
                continue;
            }
            let kind = if t.role == Role::Output {
                TensorKind::Output
            } else {
                TensorKind::Activation
            };
            let prev = self.current.get(&id.0).copied();
            if let Some(p) = prev
                && outputs.contains(&p)
            {
                continue; // listed twice as an output of this op
            }
            let name = match prev {
                Some(p) if self.produced[p] || inputs.contains(&p) => {
                    format!("{}@{}", t.name, op.name)
                }
                _ => t.name.clone(),
            };
            self.tensors.push(TensorSpec { name, bytes, kind });
            self.tensor_ids.push(id);
            self.produced.push(true);
            let idx = self.tensors.len() - 1;
            self.current.insert(id.0, idx);
            outputs.push(idx);
        }
        Ok(outputs)
    }
}

/// The last component of a dotted op name (`features.2.conv.0.act` → `act`).
fn short_name(name: &str) -> &str {
    name.rsplit('.').next().unwrap_or(name)
}

/// For each graph op, the root op it fuses into (see
/// [`AdaptOptions::fuse_activations`]): an activation function or batch norm
/// whose only scratchpad input is an activation that only it reads, produced
/// by an op that is not itself a graph input writer. Chains (conv → bn → relu)
/// fuse into the first op.
fn fusion_plan(graph: &Graph) -> Vec<Option<usize>> {
    use crate::workload::{EltOp, NormKind, OpKind};
    let nt = graph.tensors.len();
    let mut producer: Vec<Option<usize>> = vec![None; nt];
    let mut readers = vec![0usize; nt];
    for (oi, op) in graph.ops.iter().enumerate() {
        let mut seen: Vec<TensorId> = Vec::new();
        for &id in &op.inputs {
            if (id.0 as usize) < nt && !seen.contains(&id) {
                seen.push(id);
                readers[id.0 as usize] += 1;
            }
        }
        for &id in &op.outputs {
            if (id.0 as usize) < nt && producer[id.0 as usize].is_none() {
                producer[id.0 as usize] = Some(oi);
            }
        }
    }
    let mut root: Vec<Option<usize>> = vec![None; graph.ops.len()];
    for (oi, op) in graph.ops.iter().enumerate() {
        let fusable_kind = match op.kind {
            OpKind::Elementwise { op: e, .. } => matches!(
                e,
                EltOp::Relu
                    | EltOp::Relu6
                    | EltOp::Silu
                    | EltOp::Gelu
                    | EltOp::Sigmoid
                    | EltOp::HardSwish
                    | EltOp::HardSigmoid
                    | EltOp::LeakyRelu
                    | EltOp::Clip
            ),
            OpKind::Norm {
                kind: NormKind::BatchNorm,
                ..
            } => true,
            _ => false,
        };
        if !fusable_kind || op.inputs.is_empty() || op.outputs.is_empty() {
            continue;
        }
        let first = op.inputs[0];
        if first.0 as usize >= nt {
            continue;
        }
        // Every other input must be a parameter (streamed or a weight tensor).
        let others_params = op.inputs[1..]
            .iter()
            .all(|&i| (i.0 as usize) < nt && (graph.tensor(i).role.is_persistent() || i == first));
        let t = graph.tensor(first);
        let outputs_ok = op.outputs.iter().all(|&o| {
            (o.0 as usize) < nt
                && matches!(graph.tensor(o).role, Role::Activation | Role::Output)
                && o != first
        });
        if !others_params || !outputs_ok || t.role != Role::Activation {
            continue;
        }
        if readers[first.0 as usize] != 1 {
            continue;
        }
        let Some(p) = producer[first.0 as usize] else {
            continue;
        };
        if p >= oi || graph.ops[p].outputs.len() != 1 {
            continue;
        }
        root[oi] = Some(root[p].unwrap_or(p));
    }
    root
}

/// `M_R`: the largest single-op working set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkingSet {
    /// Bytes (each tensor rounded up to the granularity).
    pub bytes: u64,
    /// Index of the op in the problem.
    pub op: usize,
    /// Its name.
    pub op_name: String,
}

/// `M_R` of `problem`: the largest working set (inputs plus outputs, each
/// rounded up to the granularity) of any op, and that op. The capacity of
/// `problem` is ignored.
pub fn min_working_set(problem: &MemProblem) -> Result<WorkingSet, MappingError> {
    let mut p = problem.clone();
    p.capacity_bytes = u64::MAX;
    let prep = Prepared::new(&p)?;
    let (op, units) = (0..prep.num_ops())
        .map(|o| (o, prep.working_set_units(o)))
        .max_by_key(|&(o, u)| (u, std::cmp::Reverse(o)))
        .ok_or_else(|| MappingError::invalid("ops", "the problem has no operators"))?;
    Ok(WorkingSet {
        bytes: units * problem.granularity_bytes,
        op,
        op_name: problem.ops[op].name.clone(),
    })
}

/// Peak of live bytes when the ops run in `order` with no spill: a produced
/// tensor is live from its producer through its last reader, a weight or
/// input from its first through its last reader (sizes rounded up to the
/// granularity). `order` must be a permutation of the ops.
pub fn peak_footprint_of_order(problem: &MemProblem, order: &[usize]) -> Result<u64, MappingError> {
    let mut p = problem.clone();
    p.capacity_bytes = u64::MAX;
    let prep = Prepared::new(&p)?;
    super::ilp::check_order(&prep, order)?;
    let n = order.len();
    let mut pos = vec![0usize; n];
    for (t, &o) in order.iter().enumerate() {
        pos[o] = t;
    }
    let mut delta = vec![0i128; n + 1];
    for a in 0..prep.num_tensors() {
        let steps = prep.producer[a]
            .iter()
            .chain(prep.consumers[a].iter())
            .map(|&o| pos[o]);
        let (lo, hi) = steps.fold((usize::MAX, 0), |(l, h), s| (l.min(s), h.max(s)));
        if lo == usize::MAX {
            continue;
        }
        delta[lo] += prep.units[a] as i128;
        delta[hi + 1] -= prep.units[a] as i128;
    }
    let (mut live, mut peak) = (0i128, 0i128);
    for d in &delta[..n] {
        live += d;
        peak = peak.max(live);
    }
    Ok(peak as u64 * problem.granularity_bytes)
}

/// `M_P`: the minimum peak footprint over schedules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeakFootprint {
    /// Best peak found, bytes (granularity-rounded tensor sizes).
    pub bytes: u64,
    /// Proven lower bound on the minimum peak, bytes.
    pub bound_bytes: u64,
    /// True when `bytes` is proven minimal.
    pub optimal: bool,
    /// An order reaching `bytes`.
    pub order: Vec<usize>,
    /// Peak of the listed (graph) order, bytes.
    pub listed_order_bytes: u64,
    /// Wall-clock seconds spent.
    pub solve_s: f64,
}

/// Ancestor and descendant counts of every op (for ASAP/ALAP windows).
fn asap_alap(prep: &Prepared) -> (Vec<usize>, Vec<usize>) {
    let n = prep.num_ops();
    let words = n.div_ceil(64);
    let topo = prep.topological_order().unwrap_or_else(|| (0..n).collect());
    let mut anc = vec![vec![0u64; words]; n];
    for &o in &topo {
        for &p in &prep.preds[o] {
            let (a, b) = if p < o {
                let (l, r) = anc.split_at_mut(o);
                (&l[p], &mut r[0])
            } else {
                let (l, r) = anc.split_at_mut(p);
                (&r[0], &mut l[o])
            };
            for (x, y) in b.iter_mut().zip(a.iter()) {
                *x |= *y;
            }
            b[p / 64] |= 1 << (p % 64);
        }
    }
    let mut desc = vec![0usize; n];
    let asap: Vec<usize> = anc
        .iter()
        .map(|v| v.iter().map(|w| w.count_ones() as usize).sum())
        .collect();
    for (o, v) in anc.iter().enumerate() {
        let _ = o;
        for (w, &bits) in v.iter().enumerate() {
            let mut b = bits;
            while b != 0 {
                let i = b.trailing_zeros() as usize;
                desc[w * 64 + i] += 1;
                b &= b - 1;
            }
        }
    }
    let alap = desc.iter().map(|&d| n - 1 - d).collect();
    (asap, alap)
}

/// `M_P` of `problem` (COSMA Eq. 13–15): the smallest peak of live bytes over
/// all topological orders with no spill, by an ILP with one binary per
/// (op, step) inside the op's ASAP/ALAP window, cumulative "done by step t"
/// expressions, liveness `live[a,t] ≥ done(first toucher, t) − done(last
/// reader, t−1)` and `peak ≥ Σ_a u_a live[a,t]`. The listed order's peak is
/// the fallback when HiGHS finds nothing better within `time_limit_s`
/// (then `optimal` is false and `bound_bytes` says how far off it may be).
/// The capacity of `problem` is ignored.
pub fn min_peak_footprint(
    problem: &MemProblem,
    time_limit_s: f64,
) -> Result<PeakFootprint, MappingError> {
    let start = Instant::now();
    let mut p = problem.clone();
    p.capacity_bytes = u64::MAX;
    let prep = Prepared::new(&p)?;
    let g = problem.granularity_bytes;
    let n = prep.num_ops();
    let listed = prep
        .topological_order()
        .ok_or_else(|| MappingError::Internal("cycle after validation".into()))?;
    let listed_bytes = peak_footprint_of_order(problem, &listed)?;
    let mr = min_working_set(problem)?.bytes;
    let (asap, alap) = asap_alap(&prep);
    let mut vars = ProblemVariables::new();
    // Columns are numbered in the order variables are added; the x columns come first.
    let mut col = 0usize;
    let mut x_col: Vec<Vec<usize>> = Vec::with_capacity(n);
    let x: Vec<Vec<Variable>> = (0..n)
        .map(|o| {
            let mut cols = Vec::new();
            let v = (asap[o]..=alap[o])
                .map(|_| {
                    cols.push(col);
                    col += 1;
                    vars.add(variable().binary())
                })
                .collect();
            x_col.push(cols);
            v
        })
        .collect();
    // done(o, t) = Σ_{t' ≤ t} x[o,t'] as an expression (constant outside the window).
    let done = |o: usize, t: isize| -> Expression {
        let mut e = Expression::default();
        if t < asap[o] as isize {
            return e;
        }
        if t >= alap[o] as isize {
            return e + 1.0;
        }
        for k in asap[o]..=(t as usize) {
            e.add_mul(1.0, x[o][k - asap[o]]);
        }
        e
    };
    let peak = vars.add(
        variable()
            .min((mr / g) as f64)
            .max((listed_bytes / g) as f64),
    );
    let mut rows = Vec::new();
    for xo in &x {
        let mut e = Expression::default();
        for &v in xo {
            e.add_mul(1.0, v);
        }
        rows.push(e.eq(1.0));
    }
    for t in 0..n {
        let mut e = Expression::default();
        for o in 0..n {
            if (asap[o]..=alap[o]).contains(&t) {
                e.add_mul(1.0, x[o][t - asap[o]]);
            }
        }
        rows.push(e.eq(1.0));
    }
    // Precedence: c done by t ⇒ p done by t−1.
    for c in 0..n {
        for &pr in &prep.preds[c] {
            for t in asap[c]..=alap[c] {
                let lhs = done(c, t as isize);
                let rhs = done(pr, t as isize - 1);
                rows.push((lhs - rhs).leq(0.0));
            }
        }
    }
    // Liveness and peak.
    let load = liveness_load(&prep, (&asap, &alap), &mut vars, &mut rows, &done);
    for e in load {
        rows.push((e - peak).leq(0.0));
    }
    let options = [
        ("time_limit", time_limit_s.max(0.0)),
        ("mip_abs_gap", 1.0 - 1e-6),
    ];
    let inner = highs_model(vars, peak, rows, &options, MappingError::Solver)?;
    let solved = inner
        .try_solve()
        .map_err(|e| MappingError::Solver(format!("{e:?}")))?;
    let bound_units = solved
        .double_info_value(c"mip_dual_bound")
        .ok()
        .filter(|b| b.is_finite())
        .map(|b| (b - 1e-6).ceil().max(0.0) as u64)
        .unwrap_or(mr / g)
        .max(mr / g);
    let mut best = (listed_bytes, listed.clone());
    if solved.primal_solution_status() == highs::HighsSolutionStatus::Feasible {
        let sol = solved.get_solution();
        let val = sol.columns();
        let order = decode_order(val, (&asap, &alap), &x_col);
        if order.len() == n
            && let Ok(bytes) = peak_footprint_of_order(problem, &order)
            && bytes < best.0
        {
            best = (bytes, order);
        }
    }
    let bound_bytes = (bound_units * g).min(best.0);
    let optimal = solved.status() == HighsModelStatus::Optimal || bound_bytes >= best.0;
    Ok(PeakFootprint {
        bytes: best.0,
        bound_bytes,
        optimal: optimal && bound_bytes >= best.0,
        order: best.1,
        listed_order_bytes: listed_bytes,
        solve_s: start.elapsed().as_secs_f64(),
    })
}

/// The scratchpad load of each step of the [`min_peak_footprint`] model: for each tensor and
/// each step of its possible lifetime, a liveness variable (added to `vars`, its rows to `rows`)
/// weighted by the tensor's units. `done(o, t)` is 1 once op `o` has run by step `t`.
fn liveness_load(
    prep: &Prepared,
    (asap, alap): (&[usize], &[usize]),
    vars: &mut ProblemVariables,
    rows: &mut Vec<Constraint>,
    done: &dyn Fn(usize, isize) -> Expression,
) -> Vec<Expression> {
    let n = prep.num_ops();
    let mut load: Vec<Expression> = (0..n).map(|_| Expression::default()).collect();
    for a in 0..prep.num_tensors() {
        let firsts: Vec<usize> = match prep.producer[a] {
            Some(pr) => vec![pr],
            None => prep.consumers[a].clone(),
        };
        let lasts: Vec<usize> = if prep.consumers[a].is_empty() {
            firsts.clone()
        } else {
            prep.consumers[a].clone()
        };
        if firsts.is_empty() {
            continue;
        }
        let lo = firsts.iter().map(|&o| asap[o]).min().unwrap_or(0);
        let hi = lasts.iter().map(|&o| alap[o]).max().unwrap_or(0);
        for (t, step_load) in load.iter_mut().enumerate().take(hi + 1).skip(lo) {
            let live = vars.add(variable().min(0.0).max(1.0));
            for &f in &firsts {
                for &l in &lasts {
                    // live ≥ done(f, t) − done(l, t−1)
                    let e = done(f, t as isize) - done(l, t as isize - 1) - live;
                    rows.push(e.leq(0.0));
                }
            }
            step_load.add_mul(prep.units[a] as f64, live);
        }
    }
    load
}

/// The op order of a solved [`min_peak_footprint`] model: at each step, the op whose `x`
/// column (`x_col[o][t - asap[o]]`) is set; steps with none are skipped.
fn decode_order(
    val: &[f64],
    (asap, alap): (&[usize], &[usize]),
    x_col: &[Vec<usize>],
) -> Vec<usize> {
    let n = x_col.len();
    let mut order = Vec::with_capacity(n);
    for t in 0..n {
        if let Some(o) =
            (0..n).find(|&o| (asap[o]..=alap[o]).contains(&t) && val[x_col[o][t - asap[o]]] > 0.5)
        {
            order.push(o);
        }
    }
    order
}

/// The three COSMA budgets of a problem.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Budgets {
    /// `M_R`: the largest single-op working set (the smallest feasible scratchpad).
    pub m_r: WorkingSet,
    /// `M_P`: the minimum peak footprint over schedules (no spill needed at it).
    pub m_p: PeakFootprint,
    /// `M_H = (M_R + M_P) / 2`, rounded up to the granularity.
    pub m_h_bytes: u64,
}

/// Computes `M_R`, `M_P` (with `time_limit_s` for its ILP) and `M_H` of `problem`.
pub fn budgets(problem: &MemProblem, time_limit_s: f64) -> Result<Budgets, MappingError> {
    let m_r = min_working_set(problem)?;
    let m_p = min_peak_footprint(problem, time_limit_s)?;
    let g = problem.granularity_bytes;
    let m_h_bytes = (m_r.bytes + m_p.bytes).div_ceil(2).div_ceil(g) * g;
    Ok(Budgets {
        m_r,
        m_p,
        m_h_bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::{DType, EltOp, OpKind, Storage};

    fn elt(n: u64) -> OpKind {
        OpKind::Elementwise {
            op: EltOp::Add,
            elems: n,
        }
    }

    /// in -> a (reads w) -> b -> out, plus an in-place op and a double read.
    fn small_graph() -> Graph {
        let mut g = Graph::new("small");
        let s = Storage::plain(DType::I8);
        let x = g.add_tensor("x", &[100], s, Role::Input);
        let w = g.add_tensor("w", &[50], s, Role::Weight);
        let a = g.add_tensor("a", &[200], s, Role::Activation);
        let b = g.add_tensor("b", &[300], s, Role::Activation);
        let y = g.add_tensor("y", &[10], s, Role::Output);
        g.add_op("conv", elt(200), &[x, w], &[a], DType::I8, None);
        g.add_op("relu_inplace", elt(200), &[a], &[a], DType::I8, None);
        g.add_op("square", elt(300), &[a, a], &[b], DType::I8, None);
        g.add_op("head", elt(10), &[b, a], &[y], DType::I8, None);
        g
    }

    #[test]
    fn roles_sizes_versions_and_streaming() {
        let g = small_graph();
        let ad = problem_from_graph(&g, 4096, &AdaptOptions::default()).unwrap();
        let p = &ad.problem;
        let names: Vec<&str> = p.tensors.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["x", "a", "a@relu_inplace", "b", "y"]);
        let kinds: Vec<TensorKind> = p.tensors.iter().map(|t| t.kind).collect();
        use TensorKind::*;
        assert_eq!(kinds, [Input, Activation, Activation, Activation, Output]);
        assert_eq!(p.tensors[0].bytes, 100);
        // The double read collapses; the in-place op reads version 1 and writes 2.
        assert_eq!(p.ops[2].inputs, vec![2]);
        assert_eq!(p.ops[1].inputs, vec![1]);
        assert_eq!(p.ops[1].outputs, vec![2]);
        assert_eq!(ad.streamed_bytes, vec![50, 0, 0, 0]);
        assert_eq!(ad.tensor_ids[2], TensorId(2));
        // M_R: head reads b (300 -> 320) and a (200 -> 256) and writes y (64).
        let mr = min_working_set(p).unwrap();
        assert_eq!((mr.bytes, mr.op_name.as_str()), (320 + 256 + 64, "head"));
        let with_w = problem_from_graph(
            &g,
            4096,
            &AdaptOptions {
                include_weights: true,
                granularity_bytes: 1,
                ..AdaptOptions::default()
            },
        )
        .unwrap();
        assert_eq!(with_w.problem.tensors[1].kind, TensorKind::Weight);
        assert_eq!(with_w.total_streamed_bytes(), 0);
    }

    #[test]
    fn activation_fuses_into_its_producer_unless_shared() {
        let mut g = Graph::new("fuse");
        let s = Storage::plain(DType::I8);
        let x = g.add_tensor("x", &[100], s, Role::Input);
        let a = g.add_tensor("a", &[400], s, Role::Activation);
        let b = g.add_tensor("b", &[400], s, Role::Activation);
        let c = g.add_tensor("c", &[400], s, Role::Activation);
        let y = g.add_tensor("y", &[400], s, Role::Output);
        let relu = OpKind::Elementwise {
            op: EltOp::Relu,
            elems: 400,
        };
        g.add_op("l1.conv", elt(400), &[x], &[a], DType::I8, None);
        g.add_op("l1.act", relu, &[a], &[b], DType::I8, None);
        g.add_op("l2.conv", elt(400), &[b], &[c], DType::I8, None);
        g.add_op("l2.act", relu, &[c], &[y], DType::I8, None);
        g.add_op("l2.side", elt(400), &[c], &[], DType::I8, None);
        let opts = AdaptOptions {
            granularity_bytes: 1,
            ..AdaptOptions::default()
        };
        let ad = problem_from_graph(&g, 10_000, &opts).unwrap();
        let names: Vec<&str> = ad.problem.ops.iter().map(|o| o.name.as_str()).collect();
        // `c` has a second reader, so l2.act stays separate.
        assert_eq!(names, ["l1.conv+act", "l2.conv", "l2.act", "l2.side"]);
        assert_eq!(ad.fused_ops[0], vec![OpId(0), OpId(1)]);
        assert_eq!(ad.op_ids[1], OpId(2));
        // M_R: l2.act reads c and writes y: 800 bytes; l1.conv+act 100 + 400.
        assert_eq!(min_working_set(&ad.problem).unwrap().bytes, 800);
        let unfused = problem_from_graph(
            &g,
            10_000,
            &AdaptOptions {
                fuse_activations: false,
                ..opts
            },
        )
        .unwrap();
        assert_eq!(unfused.problem.ops.len(), 5);
    }

    /// A chain whose first activation is read again at the end: at M_R it
    /// must be spilled; the per-op rows add up to the plan's totals.
    #[test]
    fn op_traffic_adds_up_to_the_plan() {
        let mut g = Graph::new("skip");
        let s = Storage::plain(DType::I8);
        let x = g.add_tensor("x", &[64], s, Role::Input);
        let w = g.add_tensor("w", &[640], s, Role::Weight);
        let a = g.add_tensor("a", &[256], s, Role::Activation);
        let c = g.add_tensor("c", &[384], s, Role::Activation);
        let d = g.add_tensor("d", &[384], s, Role::Activation);
        let y = g.add_tensor("y", &[64], s, Role::Output);
        g.add_op("A", elt(256), &[x], &[a], DType::I8, None);
        g.add_op("B", elt(384), &[a, w], &[c], DType::I8, None);
        g.add_op("C", elt(384), &[c], &[d], DType::I8, None);
        g.add_op("D", elt(64), &[a, d], &[y], DType::I8, None);
        let ad = problem_from_graph(&g, 768, &AdaptOptions::default()).unwrap();
        let plan = crate::mapping::plan_ilp(&ad.problem, &Default::default()).unwrap();
        // C's working set (c + d = 768) fills the scratchpad, so `a` is
        // spilled (256) and reloaded (256).
        assert_eq!(plan.non_compulsory_bytes, 512);
        let rows = ad.op_traffic(&plan).unwrap();
        assert_eq!(rows.len(), 4);
        let comp: u64 = rows.iter().map(|r| r.compulsory_bytes).sum();
        let nc: u64 = rows.iter().map(|r| r.non_compulsory_bytes).sum();
        assert_eq!((comp, nc), (plan.compulsory_bytes, 512));
        assert_eq!(comp, 64 + 64);
        // The reload is charged to D, the weight stream to B.
        let d_row = rows.iter().find(|r| r.op == OpId(3)).unwrap();
        assert!(d_row.non_compulsory_bytes >= 256);
        let b_row = rows.iter().find(|r| r.op == OpId(1)).unwrap();
        assert_eq!(b_row.streamed_bytes, 640);
    }

    #[test]
    fn too_small_scratchpad_names_the_op_and_numbers() {
        let g = small_graph();
        let e = problem_from_graph(&g, 600, &AdaptOptions::default()).unwrap_err();
        match e {
            MappingError::Infeasible {
                op,
                needed_bytes,
                capacity_bytes,
            } => {
                assert_eq!(op, "head");
                assert_eq!(needed_bytes, 640);
                assert_eq!(capacity_bytes, 576);
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    /// Two independent branches from one input: running a branch to its end
    /// before starting the other keeps the peak lower than interleaving.
    #[test]
    fn min_peak_beats_interleaved_listed_order() {
        let mut p = MemProblem {
            tensors: vec![],
            ops: vec![],
            capacity_bytes: 0,
            granularity_bytes: 1,
        };
        let t = |p: &mut MemProblem, name: &str, bytes, kind| {
            p.tensors.push(TensorSpec {
                name: name.into(),
                bytes,
                kind,
            });
            p.tensors.len() - 1
        };
        let x = t(&mut p, "x", 1, TensorKind::Input);
        let a1 = t(&mut p, "a1", 10, TensorKind::Activation);
        let b1 = t(&mut p, "b1", 10, TensorKind::Activation);
        let a2 = t(&mut p, "a2", 1, TensorKind::Activation);
        let b2 = t(&mut p, "b2", 1, TensorKind::Activation);
        let y = t(&mut p, "y", 1, TensorKind::Output);
        let op = |p: &mut MemProblem, name: &str, i: Vec<usize>, o: Vec<usize>| {
            p.ops.push(OpSpec {
                name: name.into(),
                inputs: i,
                outputs: o,
            })
        };
        op(&mut p, "A1", vec![x], vec![a1]);
        op(&mut p, "B1", vec![x], vec![b1]);
        op(&mut p, "A2", vec![a1], vec![a2]);
        op(&mut p, "B2", vec![b1], vec![b2]);
        op(&mut p, "join", vec![a2, b2], vec![y]);
        // Listed order: A1 B1 | A2: x done, live a1 b1 a2 = 21 at A2.
        let listed = peak_footprint_of_order(&p, &[0, 1, 2, 3, 4]).unwrap();
        assert_eq!(listed, 21);
        // Best: A1 A2 B1 B2 join: peak at A2 (x 1 + a1 10 + a2 1 = 12) and at
        // B1 (x 1 + a2 1 + b1 10 = 12).
        let mp = min_peak_footprint(&p, 10.0).unwrap();
        assert_eq!(mp.bytes, 12);
        assert!(mp.optimal);
        assert_eq!(mp.listed_order_bytes, 21);
        assert_eq!(peak_footprint_of_order(&p, &mp.order).unwrap(), 12);
        let b = budgets(&p, 10.0).unwrap();
        assert_eq!(b.m_r.bytes, 11); // every op but the join touches 10 + 1
        assert_eq!(b.m_h_bytes, 12);
    }
}
