//! The hierarchical, per-dtype roofline.
//!
//! Time of an op on a unit:
//! `max(flops / (peak[dtype] · e_c), max_L bytes_L / (bw_L · e_b)) + overhead`,
//! where `peak` is the unit's matrix or vector peak for the op's compute dtype (widened to the
//! next supported dtype when the unit lacks it, e.g. int4 run as int8), `bytes_L` is the traffic
//! through memory level `L`, and `e_c`, `e_b`, `overhead` are the unit's achievable fractions and
//! per-kernel overhead (1, 1 and 0 in [`Mode::Ideal`], the textbook roofline); `e_b` is per level
//! where the unit gives `level_bandwidth_efficiency`. In calibrated mode the compute term is at
//! least `special_ops / special_ops_per_s[dtype]` where the unit gives a sustained transcendental rate (exp, tanh), since those do not run at the FMA rate,
//! plus `reduced_elems / serial_reduce_elems_per_s` where the unit gives the rate of a serial
//! row reduction (norms, softmax maxima on runtimes that reduce with one accumulator), and
//! at least `macs / depthwise_macs_per_s` for a depthwise convolution and
//! `flops / block_quant_ops_per_s[weight dtype]` for a product over block-quantized weights
//! where the unit gives those rates.
//!
//! Operand repacking (calibrated mode, where the unit gives `pack_bandwidth_efficiency`): a GEMM
//! that reads a reused operand transposed (a linear layer's `[out, in]` weight, attention's
//! keys) packs it into panels first, and a GEMM-lowered k×k convolution gathers its im2col
//! matrix: a serial pass of `bytes / (bw_home · e_pack)` added to the op's time
//! ([`packed_operand`]), with `e_pack` per home level where the unit gives
//! `level_pack_bandwidth_efficiency`, and per home level for operands whose rows are a multiple
//! of `pack_conflict_stride_bytes` (rows that share first-level sets) where the unit gives
//! `level_pack_conflict_bandwidth_efficiency`.
//!
//! Short products (calibrated mode, where the unit gives `gemm_depth_overhead` `K0`): an op that
//! runs as a GEMM of depth `K` ([`gemm_depth`]) computes at `K / (K + K0)` of the compute rate,
//! each micro-kernel pass paying the fixed cost of its accumulator tile.
//!
//! Strided gathers (calibrated mode, where the unit gives `strided_gather_elems_per_s`): a
//! GEMM-lowered convolution with stride > 1 gathers its input with the stride as the innermost step, one
//! element at a time: `elems / rate` added to the op's time ([`strided_gather`]), in place of
//! the im2col packing pass it replaces.
//!
//! Vector re-reads (calibrated mode, where the unit gives `reuse_refetch_bytes_per_s`): a GEMV
//! whose input vector and one weight row overflow a core's share of the first level re-reads
//! the vector from the second level for every output, a serial `n · k · elem / rate` added to
//! the op's time ([`refetched_vector`]).
//!
//! Traffic through each level comes from where tensors live ([`crate::cost::residency`]): a tensor whose home
//! is level `L` crosses `L` and every level inside it on the way to the unit, so its bytes count
//! at each of them. The bound is whichever term is largest.
//!
//! Energy: `flops · pJ/op[dtype] + Σ_L bytes_L · pJ/byte_L + static W · time`.

use crate::cost::{
    CostModel, Infeasible, Ledger, TensorHomes, reach_positions, traffic_at, widened,
};
use crate::hardware::{Hardware, MAX_LEVELS};
use crate::workload::{Engine, Graph, Op, OpId, Role};

use crate::cost::Mode;

/// The name the registry knows the roofline by, and the model of units that name none.
pub const NAME: &str = "roofline";

/// The roofline model of one unit of a device.
#[derive(Clone, Debug)]
pub struct Roofline<'a> {
    hw: &'a Hardware,
    unit: usize,
    mode: Mode,
    /// Position of each memory level in the unit's reach list (innermost = 0).
    pos: [Option<u8>; MAX_LEVELS],
}

impl<'a> Roofline<'a> {
    /// A roofline for unit `unit` of `hw`.
    pub fn new(hw: &'a Hardware, unit: usize, mode: Mode) -> Self {
        Roofline {
            hw,
            unit,
            mode,
            pos: reach_positions(hw, unit),
        }
    }

    /// The mode.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// The longest transfer time over the unit's memory levels for the bytes in `l`, and the
    /// level it belongs to (`None` when nothing moves).
    pub fn memory_time(&self, l: &Ledger) -> (f64, Option<usize>) {
        let unit = &self.hw.units[self.unit];
        let mut best = (0.0, None);
        for &lvl in &unit.reach {
            let e_b = self.mode.efficiency(
                unit.level_bandwidth_efficiency[lvl].unwrap_or(unit.bandwidth_efficiency),
            );
            let t = l.bytes[lvl] / (self.hw.memories[lvl].bytes_per_s * e_b);
            if t > best.0 {
                best = (t, Some(lvl));
            }
        }
        best
    }

    /// Where tensors live, by the default placement policy (see [`crate::cost::residency`]).
    pub fn residency(&self, graph: &Graph) -> TensorHomes {
        crate::cost::residency(self.hw, self.unit, graph)
    }
}

/// The depth `K` (multiply-accumulates per output) of an op that runs as a GEMM: a matmul's
/// `k`, a non-depthwise convolution's `c_in/groups·kh·kw`, attention scores' head dimension
/// and attention values' visible keys. `None` for every other op.
pub fn gemm_depth(kind: crate::workload::OpKind) -> Option<u64> {
    use crate::workload::{AttnPart, OpKind};
    match kind {
        OpKind::MatMul { k, .. } => Some(k),
        OpKind::Conv2d(c) if !c.is_depthwise() => Some(c.c_in / c.groups.max(1) * c.kh * c.kw),
        OpKind::Attention {
            part: AttnPart::Scores,
            shape,
        } => Some(shape.head_dim),
        OpKind::Attention {
            part: AttnPart::Values,
            shape,
        } => Some(shape.visible_keys()),
        _ => None,
    }
}

/// An operand a GEMM kernel packs before multiplying ([`packed_operand`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PackedOperand {
    /// The tensor packed.
    pub tensor: crate::workload::TensorId,
    /// Bytes packed.
    pub bytes: f64,
    /// Bytes of one row as the kernel gathers it (a weight's `in` dimension, a key's head
    /// dimension, an im2col matrix row of `n·ho·wo` output positions): where it is a multiple
    /// of the unit's `pack_conflict_stride_bytes`, the rows of a panel share first-level sets.
    pub row_bytes: f64,
}

/// The operand a GEMM kernel repacks for op `op_id` before multiplying: a copy
/// into the layout the micro-kernel reads, which BLAS-style CPU kernels make when the operand
/// is reused across several rows of the product (a matrix-vector product streams its operand
/// as it lies):
/// * `MatMul` with `m > 1` and a weight as second input: weights are stored `[out, in]`, so
///   the product reads them transposed and packs them into panels (not when stored in
///   quantized blocks, which block-dot kernels read as they lie);
/// * attention scores with more than one query row per KV head (GQA group times new
///   positions): the keys, read transposed from their `[positions, head_dim]` rows;
/// * a non-depthwise convolution other than 1×1 with stride 1, lowered to a GEMM over its
///   im2col matrix of `(c_in/groups)·kh·kw × n·ho·wo` elements gathered from the input: that
///   matrix (a 1×1 stride-1 convolution multiplies the input as it lies).
///
/// `None` for every other op.
pub fn packed_operand(graph: &Graph, op_id: OpId) -> Option<PackedOperand> {
    use crate::workload::{AttnPart, OpKind};
    let op = graph.op(op_id);
    match op.kind {
        OpKind::MatMul { m, .. } if m > 1 => {
            let &w = op.inputs.get(1)?;
            let t = graph.tensor(w);
            let row = *t.shape.last()?;
            (t.role == Role::Weight && t.storage.group.is_none()).then(|| PackedOperand {
                tensor: w,
                bytes: t.bytes(),
                row_bytes: t.storage.bytes(&[row]),
            })
        }
        OpKind::Attention {
            part: AttnPart::Scores,
            shape,
        } if shape.q_len * (shape.q_heads / shape.kv_heads.max(1)) > 1 => {
            let &k = op.inputs.get(1)?;
            let keys = shape.visible_keys();
            let elems = shape.batch * shape.kv_heads * keys * shape.head_dim;
            let s = graph.tensor(k).storage;
            Some(PackedOperand {
                tensor: k,
                bytes: s.bytes(&[elems]),
                row_bytes: s.bytes(&[shape.head_dim]),
            })
        }
        OpKind::Conv2d(c)
            if !c.is_depthwise() && (c.kh * c.kw > 1 || c.stride != (1, 1) || c.pad != (0, 0)) =>
        {
            let &x = op.inputs.first()?;
            let t = graph.tensor(x);
            let elems = (c.c_in / c.groups) * c.kh * c.kw * c.n * c.out_h() * c.out_w();
            Some(PackedOperand {
                tensor: x,
                bytes: t.storage.bytes(&[elems]),
                row_bytes: t.storage.bytes(&[c.n * c.out_h() * c.out_w()]),
            })
        }
        _ => None,
    }
}

/// The input a strided GEMM-lowered convolution gathers with its stride as the innermost step,
/// and how many elements it gathers: its im2col matrix of `(c_in/groups)·kh·kw·n·ho·wo`
/// elements. `None` for stride 1, for depthwise convolutions (which runtimes do not lower to a
/// GEMM; their strided taps are read by the products themselves, not copied) and for other ops.
pub fn strided_gather(graph: &Graph, op_id: OpId) -> Option<(crate::workload::TensorId, f64)> {
    use crate::workload::OpKind;
    let op = graph.op(op_id);
    let OpKind::Conv2d(c) = op.kind else {
        return None;
    };
    if c.stride == (1, 1) || c.is_depthwise() {
        return None;
    }
    let &x = op.inputs.first()?;
    let elems = c.c_in / c.groups.max(1) * c.kh * c.kw * c.n * c.out_h() * c.out_w();
    Some((x, elems as f64))
}

/// The input-vector re-reads of a matrix-vector product, and the level they come from.
///
/// A GEMV over a linear layer's `[out, in]` weights (`MatMul` with `m = 1`, the weight dense,
/// not in quantized blocks, which block-dot kernels read through a quantized copy of the vector)
/// takes one dot product per output: it reads each weight row once and the input vector once per
/// output. Between two reads of the vector a whole weight row streams through the first level,
/// so with LRU replacement the vector stays there only while the vector and one row fit together
/// in one core's share of the first level (its capacity over the unit's count). When they do not,
/// every output re-reads the vector from the unit's second level: `batch · n · k` elements of the
/// vector's dtype. Returns that level and those bytes, or `None` when the vector stays, the op is
/// not such a GEMV, or the unit reaches one level only.
pub fn refetched_vector(
    hw: &Hardware,
    unit: usize,
    graph: &Graph,
    op_id: OpId,
) -> Option<(usize, f64)> {
    use crate::workload::OpKind;
    let op = graph.op(op_id);
    let OpKind::MatMul { batch, m: 1, n, k } = op.kind else {
        return None;
    };
    let x = graph.tensor(*op.inputs.first()?);
    let w = graph.tensor(*op.inputs.get(1)?);
    if w.role != Role::Weight || w.storage.group.is_some() {
        return None;
    }
    let u = &hw.units[unit];
    let (&first, &second) = (u.reach.first()?, u.reach.get(1)?);
    let share = hw.memories[first].capacity_bytes / u.count.max(1.0);
    let vector = x.storage.bytes(&[k]);
    let row = w.storage.bytes(&[k]);
    (vector + row > share).then_some((second, batch as f64 * n as f64 * vector))
}

impl CostModel for Roofline<'_> {
    fn cost(
        &self,
        graph: &Graph,
        residency: &TensorHomes,
        op_id: OpId,
    ) -> Result<Ledger, Infeasible> {
        let unit = &self.hw.units[self.unit];
        let op = graph.op(op_id);
        let table = match op.kind.engine() {
            Engine::Matrix => &unit.peak,
            Engine::Vector => &unit.vector_peak,
        };
        let (dtype, peak) = widened(table, op.compute)
            .ok_or_else(|| Infeasible::no_wider(self.hw, self.unit, op, "compute"))?;
        let e_c = self.mode.efficiency(unit.compute_efficiency);
        let overhead = self.mode.overhead(unit.kernel_overhead_s);
        let mut l = Ledger::zero();
        l.flops = op.kind.flops();
        let t_compute = self.compute_time(graph, op, (peak, e_c), l.flops);
        l.bytes = traffic_at(self.hw, self.unit, &self.pos, graph, residency, op_id)?;
        for &lvl in &unit.reach {
            l.memory_j += l.bytes[lvl] * self.hw.memories[lvl].j_per_byte;
        }
        let (t_mem, level) = self.memory_time(&l);
        let t = if t_compute >= t_mem {
            l.compute_bound_s = t_compute;
            t_compute
        } else {
            l.memory_bound_s[level.expect("memory time > 0 has a level")] = t_mem;
            t_mem
        };
        // A strided convolution gathers its input one element at a time, where the unit gives
        // that rate; for a GEMM-lowered one that gather is its im2col, so it is not also packed.
        let strided = self.strided_time(graph, residency, op_id, &mut l);
        let t_strided = strided.unwrap_or(0.0);
        let t_pack = self.pack_time(graph, residency, op_id, strided, &mut l);
        let t_refetch = self.refetch_time(graph, op_id, &mut l);
        l.overhead_s = overhead;
        l.latency_s = t + t_strided + t_pack + t_refetch + overhead;
        l.compute_j = l.flops * unit.j_per_op.get(dtype).unwrap_or(0.0);
        l.close_static(self.hw);
        Ok(l)
    }

    crate::cost::unit_accessors!();
}

impl Roofline<'_> {
    /// The compute time of `op` (`flops` of them) at `peak` ops/s times efficiency `e_c`:
    /// the busiest of the matrix or vector pipeline (stretched for short products), the
    /// transcendental and serial-reduction passes, the depthwise rate and the block-dot rate.
    fn compute_time(&self, graph: &Graph, op: &Op, (peak, e_c): (f64, f64), flops: f64) -> f64 {
        let unit = &self.hw.units[self.unit];
        // Transcendentals at the unit's sustained special-function rate, where it has one; the
        // compute time is whichever of the two pipelines is busier.
        let specials = op.kind.special_ops();
        let t_special = match widened(&unit.special, op.compute) {
            Some((_, rate)) if specials > 0.0 && self.mode == Mode::Calibrated => specials / rate,
            _ => 0.0,
        };
        // Row reductions with one serial accumulator, where the unit gives their rate; they
        // run in passes of their own, in sequence with the transcendental ones.
        let t_reduce = match unit.kernel.serial_reduce_elems_per_s {
            Some(rate) if self.mode == Mode::Calibrated => op.kind.reduced_elems() / rate,
            _ => 0.0,
        };
        // Depthwise convolutions at the unit's depthwise rate, where it has one.
        let t_depthwise = match (self.mode, unit.kernel.depthwise_macs_per_s, op.kind) {
            (Mode::Calibrated, Some(rate), crate::workload::OpKind::Conv2d(c))
                if c.is_depthwise() =>
            {
                c.macs() / rate
            }
            _ => 0.0,
        };
        // Products over block-quantized weights at the unit's block-dot rate for the weight
        // dtype, where it has one.
        let t_block = match (self.mode, op.kind, op.inputs.get(1)) {
            (Mode::Calibrated, crate::workload::OpKind::MatMul { .. }, Some(&w)) => {
                let s = graph.tensor(w).storage;
                match (s.group, widened(&unit.kernel.block_quant, s.dtype)) {
                    (Some(_), Some((_, rate))) => flops / rate,
                    _ => 0.0,
                }
            }
            _ => 0.0,
        };
        // Short products pay each micro-kernel pass's fixed cost: K / (K + depth overhead).
        let depth = match (self.mode, unit.kernel.gemm_depth_overhead) {
            (Mode::Calibrated, Some(k0)) => gemm_depth(op.kind)
                .filter(|&k| k > 0)
                .map_or(1.0, |k| (k as f64 + k0) / k as f64),
            _ => 1.0,
        };
        (flops * depth / (peak * e_c))
            .max(t_special + t_reduce)
            .max(t_depthwise)
            .max(t_block)
    }

    /// The strided gather of a strided convolution's input (calibrated, where the unit gives
    /// its rate), charged to the input's home level in `l`; `None` when there is none.
    fn strided_time(
        &self,
        graph: &Graph,
        residency: &TensorHomes,
        op_id: OpId,
        l: &mut Ledger,
    ) -> Option<f64> {
        let unit = &self.hw.units[self.unit];
        match (self.mode, unit.kernel.strided_gather_elems_per_s) {
            (Mode::Calibrated, Some(rate)) => strided_gather(graph, op_id).map(|(x, elems)| {
                let home = residency.home[x.0 as usize];
                let s = elems / rate;
                l.memory_bound_s[home] += s;
                s
            }),
            _ => None,
        }
    }

    /// Operand packing: a serial pass before the product, at a fraction of the bandwidth of
    /// the level the packed operand comes from. Returns its time, charged to the packed
    /// operand's home level in `l` (0 when no operand is packed, or a strided gather already
    /// stands for it).
    fn pack_time(
        &self,
        graph: &Graph,
        residency: &TensorHomes,
        op_id: OpId,
        strided: Option<f64>,
        l: &mut Ledger,
    ) -> f64 {
        let unit = &self.hw.units[self.unit];
        // (Only units with a packing figure look for a packed operand: most files have none,
        // and explore prices millions of ops.)
        let packs = unit.kernel.pack_bandwidth_efficiency.is_some()
            || unit
                .kernel
                .level_pack_bandwidth_efficiency
                .iter()
                .any(Option::is_some)
            || unit
                .kernel
                .level_pack_conflict_bandwidth_efficiency
                .iter()
                .any(Option::is_some);
        let packed = match (self.mode, packs, strided) {
            (Mode::Calibrated, true, None) => packed_operand(graph, op_id),
            _ => None,
        };
        match packed {
            Some(p) => {
                let home = residency.home[p.tensor.0 as usize];
                let conflict = unit
                    .kernel
                    .pack_conflict_stride_bytes
                    .is_some_and(|s| p.row_bytes >= s && (p.row_bytes / s).fract() == 0.0);
                let level = match conflict {
                    true => unit.kernel.level_pack_conflict_bandwidth_efficiency[home]
                        .or(unit.kernel.level_pack_bandwidth_efficiency[home]),
                    false => unit.kernel.level_pack_bandwidth_efficiency[home],
                };
                match level.or(unit.kernel.pack_bandwidth_efficiency) {
                    Some(e) => {
                        let s = p.bytes / (self.hw.memories[home].bytes_per_s * e);
                        l.memory_bound_s[home] += s;
                        s
                    }
                    None => 0.0,
                }
            }
            _ => 0.0,
        }
    }

    /// Input-vector re-reads of a GEMV whose vector and weight row overflow a core's share
    /// of the first level: from the second level, in series with the weight stream.
    /// Returns their time; their bytes and energy are added to `l`.
    fn refetch_time(&self, graph: &Graph, op_id: OpId, l: &mut Ledger) -> f64 {
        let unit = &self.hw.units[self.unit];
        match (self.mode, unit.kernel.reuse_refetch_bytes_per_s) {
            (Mode::Calibrated, Some(rate)) => {
                match refetched_vector(self.hw, self.unit, graph, op_id) {
                    Some((level, bytes)) => {
                        l.bytes[level] += bytes;
                        l.memory_j += bytes * self.hw.memories[level].j_per_byte;
                        let s = bytes / rate;
                        l.memory_bound_s[level] += s;
                        s
                    }
                    None => 0.0,
                }
            }
            _ => 0.0,
        }
    }
}
