//! The tiled NPU model (`params.model = "npu-tiled"`): an NPU with `count` cores, each with a MAC
//! array and an on-chip SRAM, fed by DMA with double buffering.
//!
//! **Matrix ops** (seen as `C[b] = A[b]·B[b]` through [`super::gemm_view`]) run as tiles of
//! `Tm × Tn × Tk`, output-stationary: for each output tile the K loop streams A and B tiles in
//! and the finished C tile goes out once. Tiles must fit the SRAM double-buffered:
//! `2·(Tm·Tk·a + Tk·Tn·w) + 2·Tm·Tn·acc ≤ sram_bytes` (`a`, `w` the element bytes of A and B,
//! `acc` the accumulator bytes). With `nm, nn, nk` tiles along each dimension:
//! * ingress: A is read once per column of output tiles and B once per row of them,
//!   `A·nn + B·nm` bytes (an operand that is a single tile stays resident and is read once);
//! * compute: the array is `array_rows` rows by `C_d = macs_per_cycle[d] / array_rows` columns
//!   for dtype `d` (wider MAC arrays per dtype, e.g. int8 at twice fp16), each `Tk`-deep output
//!   block takes `ceil(tm/R)·ceil(tn/C_d)·tk` cycles, summed exactly over ragged edge tiles, and
//!   scaled by the fraction of the rectangle actually computed (causal attention);
//! * egress: C once.
//!
//! Each of the `b·nm·nn·nk` tile steps costs `max(ingress, compute, egress)`, plus a prologue
//! (first tile in and computed) and an epilogue (last tile out): the pipeline of
//! [`super::pipeline`]. Add `tile_overhead_cycles` per step (DMA descriptors, synchronisation)
//! and the array fill `R + C_d − 2` cycles once. Output tiles are spread over the cores; DMA
//! bandwidth is the operand's home memory level at the unit's bandwidth efficiency, capped by
//! `dma_bytes_per_s` when given. The model searches tile sizes (multiples of the array sides and
//! powers of two of K) and keeps the fastest.
//!
//! **Vector ops** stream through half the SRAM per tile (double buffered) on the vector unit
//! (`vector_ops_per_cycle`, default the unit's vector peak), with the same three-stage pipeline.
//!
//! The MAC arrays must agree with the file: `2 · macs_per_cycle[d] · clock · count` within 1 % of
//! `peak_ops_per_s[d]` for every dtype both give. Energy: `flops · pJ/op + Σ_L bytes_L · pJ/B_L`
//! (re-fetched tiles counted) `+ static · time`.

use super::{GemmView, gemm_view, pipeline};
use crate::cost::{
    CostModel, Infeasible, Ledger, Mode, ParamError, Params, TensorHomes, attribute,
    reach_positions, widened,
};
use crate::hardware::{Hardware, MAX_LEVELS};
use crate::workload::{DType, DTypeTable, Graph, Op, OpId, TensorId};

/// The name the registry knows this model by (`params.model = "npu-tiled"`).
pub const NAME: &str = "npu-tiled";

/// Parameters `params.model = "npu-tiled"` accepts.
pub const KEYS: &[&str] = &[
    "sram_bytes",
    "array_rows",
    "macs_per_cycle",
    "vector_ops_per_cycle",
    "dma_bytes_per_s",
    "acc_bytes",
    "tile_overhead_cycles",
];

/// Relative tolerance of the MAC-array versus peak check.
pub const PEAK_TOLERANCE: f64 = 0.01;

/// Accumulator element bytes when `acc_bytes` is not given: 32-bit accumulation, as int8 and
/// fp16 MAC arrays use.
pub const DEFAULT_ACC_BYTES: f64 = 4.0;

/// Smallest K tile tried, in elements.
const MIN_TK: u64 = 8;

/// The tiled NPU model of one unit.
#[derive(Clone, Debug)]
pub struct Npu<'a> {
    hw: &'a Hardware,
    unit: usize,
    mode: Mode,
    sram: f64,
    rows: u64,
    macs: DTypeTable<f64>,
    vec_ops: DTypeTable<f64>,
    dma: Option<f64>,
    acc: f64,
    tile_overhead_cycles: f64,
    pos: [Option<u8>; MAX_LEVELS],
}

/// The chosen tiling of a matrix op.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tiling {
    /// Tile rows of A and C.
    pub tm: u64,
    /// Tile columns of B and C.
    pub tn: u64,
    /// Tile depth along K.
    pub tk: u64,
    /// Tile steps in all (batch · nm · nn · nk).
    pub steps: f64,
    /// Total ingress time, s.
    pub t_in: f64,
    /// Total compute time, s.
    pub t_comp: f64,
    /// Total egress time, s.
    pub t_out: f64,
    /// Pipelined time including prologue, epilogue, per-tile overhead and array fill, s.
    pub time: f64,
    /// Bytes read of A (with re-fetches).
    pub a_read: f64,
    /// Bytes read of B (with re-fetches).
    pub b_read: f64,
}

fn ceil_div(a: u64, b: u64) -> u64 {
    a.div_ceil(b.max(1))
}

/// Σ over the tiles of one dimension (size `d`, tile `t`) of `ceil(tile / side)`.
fn blocks(d: u64, t: u64, side: u64) -> u64 {
    let full = d / t;
    let rem = d % t;
    full * ceil_div(t, side) + if rem > 0 { ceil_div(rem, side) } else { 0 }
}

fn candidates(dim: u64, base: u64) -> Vec<u64> {
    let mut v = Vec::new();
    let mut t = base.max(1);
    while t < dim {
        v.push(t);
        t *= 2;
    }
    v.push(dim.max(1));
    v
}

impl<'a> Npu<'a> {
    /// Reads and checks the parameters of unit `unit`.
    pub fn new(hw: &'a Hardware, unit: usize, mode: Mode) -> Result<Self, ParamError> {
        let u = &hw.units[unit];
        let p = Params::of(u, &hw.file);
        p.check_known(NAME, KEYS)?;
        let sram = p.pos("sram_bytes")?;
        let rows = p.count("array_rows", None)?;
        let macs = p.dtype_table("macs_per_cycle")?;
        if macs.iter().next().is_none() {
            return Err(p.error(
                "macs_per_cycle",
                "missing; give MACs per cycle per core by dtype, e.g. { i8 = 4096, f16 = 2048 }",
            ));
        }
        for (d, m) in macs.iter() {
            if m < rows as f64 {
                return Err(p.error(
                    &format!("macs_per_cycle.{d}"),
                    format!("{m} MACs per cycle is fewer than one per array row ({rows} rows)"),
                ));
            }
            if let Some(file) = u.peak.get(d) {
                let ours = 2.0 * m * u.clock_hz * u.count;
                if ((ours - file) / file).abs() > PEAK_TOLERANCE {
                    return Err(p.error(
                        &format!("macs_per_cycle.{d}"),
                        format!(
                            "2 × {m} MACs × {:.4e} Hz × {} cores = {ours:.4e} ops/s, but peak_ops_per_s.{d} is {file:.4e}",
                            u.clock_hz, u.count
                        ),
                    ));
                }
            }
        }
        let mut vec_ops = p.dtype_table("vector_ops_per_cycle")?;
        if vec_ops.iter().next().is_none() {
            for (d, v) in u.vector_peak.iter() {
                vec_ops.set(d, v / (u.clock_hz * u.count));
            }
        }
        Ok(Npu {
            hw,
            unit,
            mode,
            sram,
            rows,
            macs,
            vec_ops,
            dma: p.opt_pos("dma_bytes_per_s")?,
            acc: p.pos_or("acc_bytes", DEFAULT_ACC_BYTES)?,
            tile_overhead_cycles: p.nonneg_or("tile_overhead_cycles", 0.0)?,
            pos: reach_positions(hw, unit),
        })
    }

    fn e_b(&self) -> f64 {
        self.mode
            .efficiency(self.hw.units[self.unit].bandwidth_efficiency)
    }

    /// DMA bandwidth to and from memory level `lvl`, bytes/s.
    pub fn dma_bandwidth(&self, lvl: usize) -> f64 {
        let bw = self.hw.memories[lvl].bytes_per_s * self.e_b();
        self.dma.map_or(bw, |d| d.min(bw))
    }

    fn home_bw(&self, residency: &TensorHomes, t: TensorId) -> f64 {
        self.dma_bandwidth(residency.home[t.0 as usize])
    }

    /// The fastest tiling of a matrix product of the given shape, or `None` when not even the
    /// smallest tile fits the SRAM. `efficiency` scales the MAC rate; `a_e`, `w_e` are element bytes of A and B; `bw_a`, `bw_b`,
    /// `bw_c` the DMA bandwidths of the operands' homes.
    #[allow(clippy::too_many_arguments)]
    pub fn best_tiling(
        &self,
        macs_per_cycle: f64,
        efficiency: f64,
        g: &super::GemmView,
        a_e: f64,
        w_e: f64,
        bw_a: f64,
        bw_b: f64,
        bw_c: f64,
    ) -> Option<Tiling> {
        let u = &self.hw.units[self.unit];
        let r = self.rows;
        let c_d = (macs_per_cycle / r as f64).floor().max(1.0) as u64;
        let m = g.m.ceil().max(1.0) as u64;
        let (n, k) = (g.n.max(1), g.k.max(1));
        let frac = if g.rect_macs() > 0.0 {
            g.macs / g.rect_macs()
        } else {
            0.0
        };
        let cycle = 1.0 / u.clock_hz;
        let mut best: Option<Tiling> = None;
        for &tm in &candidates(m, r) {
            for &tn in &candidates(n, c_d) {
                for &tk in &candidates(k, MIN_TK) {
                    let need = 2.0 * (tm as f64 * tk as f64 * a_e + tk as f64 * tn as f64 * w_e)
                        + 2.0 * (tm * tn) as f64 * self.acc;
                    if need > self.sram {
                        continue;
                    }
                    let (nm, nn, nk) = (ceil_div(m, tm), ceil_div(n, tn), ceil_div(k, tk));
                    let a_read = if nm * nk == 1 {
                        g.a_bytes
                    } else {
                        g.a_bytes * nn as f64
                    };
                    let b_read = if nn * nk == 1 {
                        g.b_bytes
                    } else {
                        g.b_bytes * nm as f64
                    };
                    let out_tiles = g.batch * (nm * nn) as f64;
                    let cores = u.count.min(out_tiles).max(1.0);
                    let cycles =
                        g.batch * (blocks(m, tm, r) * blocks(n, tn, c_d)) as f64 * k as f64 * frac;
                    let t_comp = cycles * cycle / (cores * efficiency);
                    let t_in = a_read / bw_a + b_read / bw_b;
                    let t_out = g.c_bytes / bw_c;
                    let steps = out_tiles * nk as f64;
                    let time = pipeline(steps, t_in, t_comp, t_out)
                        + (steps * self.tile_overhead_cycles + (r + c_d - 2) as f64) * cycle;
                    if best.is_none_or(|b| time < b.time) {
                        best = Some(Tiling {
                            tm,
                            tn,
                            tk,
                            steps,
                            t_in,
                            t_comp,
                            t_out,
                            time,
                            a_read,
                            b_read,
                        });
                    }
                }
            }
        }
        best
    }
}

fn elem_bytes(graph: &Graph, t: TensorId) -> f64 {
    graph.tensor(t).storage.dtype.bits() as f64 / 8.0
}

impl CostModel for Npu<'_> {
    fn cost(
        &self,
        graph: &Graph,
        residency: &TensorHomes,
        op_id: OpId,
    ) -> Result<Ledger, Infeasible> {
        let u = &self.hw.units[self.unit];
        let op = graph.op(op_id);
        let overhead = self.mode.overhead(u.kernel_overhead_s);
        let e_c = self.mode.efficiency(u.compute_efficiency);
        let mut l = Ledger::zero();
        l.flops = op.kind.flops();
        let out_home = op
            .outputs
            .first()
            .map_or(*u.reach.last().expect("validated"), |t| {
                residency.home[t.0 as usize]
            });
        let at = OpAt {
            graph,
            residency,
            op,
            e_c,
            out_home,
        };
        let Body {
            dtype,
            time: t_body,
            bound_in,
            t_in,
            t_comp,
            t_out,
        } = match gemm_view(graph, op) {
            Some(g) => self.gemm_body(at, &g, &mut l)?,
            None => self.vector_body(at, &mut l)?,
        };
        if t_comp >= t_in && t_comp >= t_out {
            l.compute_bound_s = t_body;
        } else if t_in >= t_out {
            l.memory_bound_s[bound_in] = t_body;
        } else {
            l.memory_bound_s[out_home] = t_body;
        }
        for &lvl in &u.reach {
            l.memory_j += l.bytes[lvl] * self.hw.memories[lvl].j_per_byte;
        }
        l.overhead_s = overhead;
        l.latency_s = t_body + overhead;
        l.compute_j = l.flops * u.j_per_op.get(dtype).unwrap_or(0.0);
        l.close_static(self.hw);
        Ok(l)
    }

    crate::cost::unit_accessors!();
}

/// How one op's body runs on the NPU: its compute dtype, its time, and the times of its
/// input, compute and output phases, with the home level of the input that binds.
struct Body {
    dtype: DType,
    time: f64,
    bound_in: usize,
    t_in: f64,
    t_comp: f64,
    t_out: f64,
}

/// The op being priced, where it reads and writes, the compute efficiency and the home of
/// its output.
#[derive(Clone, Copy)]
struct OpAt<'g> {
    graph: &'g Graph,
    residency: &'g TensorHomes,
    op: &'g Op,
    e_c: f64,
    out_home: usize,
}

impl Npu<'_> {
    /// The widest rate in `table` for `op`'s compute dtype (`engine` names the table in the
    /// error when there is none).
    fn widest(
        &self,
        table: &DTypeTable<f64>,
        op: &Op,
        engine: &str,
    ) -> Result<(DType, f64), Infeasible> {
        widened(table, op.compute)
            .ok_or_else(|| Infeasible::no_wider(self.hw, self.unit, op, engine))
    }

    /// The error for an op touching a tensor in level `h`, which the unit does not reach.
    fn unreachable(&self, op: &Op, h: usize) -> Infeasible {
        let u = &self.hw.units[self.unit];
        Infeasible {
            reason: format!(
                "op `{}` touches a tensor in `{}`, which unit `{}` does not reach",
                op.name, self.hw.memories[h].name, u.name
            ),
        }
    }

    /// A GEMM-shaped op on the MAC array at its best tiling, at efficiency `e_c`, its output
    /// going to `out_home`; its traffic is attributed to `l`.
    fn gemm_body(&self, at: OpAt, g: &GemmView, l: &mut Ledger) -> Result<Body, Infeasible> {
        let (graph, residency, op) = (at.graph, at.residency, at.op);
        let u = &self.hw.units[self.unit];
        let (d, mpc) = self.widest(&self.macs, op, "MAC array")?;
        let a = op.inputs[0];
        let bw_a = self.home_bw(residency, a);
        let bw_b = self.home_bw(residency, g.b_tensor);
        let bw_c = self.dma_bandwidth(at.out_home);
        let t = self
            .best_tiling(
                mpc,
                at.e_c,
                g,
                elem_bytes(graph, a),
                elem_bytes(graph, g.b_tensor),
                bw_a,
                bw_b,
                bw_c,
            )
            .ok_or_else(|| Infeasible {
                reason: format!(
                    "op `{}`: not even the smallest tile ({}×{}×{}) fits the {} B SRAM of unit `{}`",
                    op.name,
                    self.rows,
                    (mpc / self.rows as f64).floor(),
                    MIN_TK,
                    self.sram,
                    u.name
                ),
            })?;
        // A and B as the tiling re-reads them, C written once, each to the level it lives in.
        for (home, bytes) in [
            (residency.home[a.0 as usize], t.a_read),
            (residency.home[g.b_tensor.0 as usize], t.b_read),
            (at.out_home, g.c_bytes),
        ] {
            attribute(self.hw, self.unit, &self.pos, home, bytes, &mut l.bytes)
                .map_err(|h| self.unreachable(op, h))?;
        }
        let bound_in = if t.a_read / bw_a >= t.b_read / bw_b {
            residency.home[a.0 as usize]
        } else {
            residency.home[g.b_tensor.0 as usize]
        };
        Ok(Body {
            dtype: d,
            time: t.time,
            bound_in,
            t_in: t.t_in,
            t_comp: t.t_comp,
            t_out: t.t_out,
        })
    }

    /// Any other op on the vector unit, streamed through half the SRAM in tiles, at efficiency
    /// `e_c`, its output going to `out_home`; its traffic is attributed to `l`.
    fn vector_body(&self, at: OpAt, l: &mut Ledger) -> Result<Body, Infeasible> {
        let (graph, residency, op) = (at.graph, at.residency, at.op);
        let u = &self.hw.units[self.unit];
        let (d, ops) = self.widest(&self.vec_ops, op, "vector unit")?;
        let (mut t_in, mut t_out, mut bytes) = (0.0, 0.0, 0.0);
        let mut in_home = at.out_home;
        let mut worst_in = 0.0;
        let mut bad = None;
        op.for_each_access(graph, |x| {
            let home = residency.home[x.tensor.0 as usize];
            if let Err(h) = attribute(self.hw, self.unit, &self.pos, home, x.bytes, &mut l.bytes) {
                bad = Some(h);
            }
            let t = x.bytes / self.dma_bandwidth(home);
            bytes += x.bytes;
            if x.write {
                t_out += t;
            } else {
                t_in += t;
                if t > worst_in {
                    worst_in = t;
                    in_home = home;
                }
            }
        });
        if let Some(h) = bad {
            return Err(self.unreachable(op, h));
        }
        let t_comp = l.flops / (ops * at.e_c * u.clock_hz * u.count);
        let tiles = (bytes / (self.sram / 2.0)).ceil().max(1.0);
        let time =
            pipeline(tiles, t_in, t_comp, t_out) + tiles * self.tile_overhead_cycles / u.clock_hz;
        Ok(Body {
            dtype: d,
            time,
            bound_in: in_home,
            t_in,
            t_comp,
            t_out,
        })
    }
}
