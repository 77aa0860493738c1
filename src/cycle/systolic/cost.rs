//! The systolic array as a [`CostModel`]: GEMM-shaped ops (linear layers, convolutions lowered
//! by im2col, attention products, MoE experts) are timed in cycles by the SCALE-Sim-exact fold
//! model of this module; everything else (elementwise, norms, softmax, gathers) runs on the
//! unit's vector peak through the roofline, and memory traffic at every level comes from the
//! roofline's residency and bandwidths.
//!
//! A unit selects it with `params.model = "systolic"` and describes its arrays:
//!
//! | param | meaning | default |
//! |---|---|---|
//! | `array_rows`, `array_cols` | PEs per array | required |
//! | `arrays` | identical arrays working on independent GEMMs or on slices of N | 1 |
//! | `dataflow` | `os`, `ws` or `is` | required |
//! | `timing` | `scalesim` (serial folds, SCALE-Sim v3) or `pipelined` | `pipelined` |
//! | `group_packing` | `serial` (one group per GEMM, SCALE-Sim's) or `block_diagonal` | `serial` |
//!
//! Time of a GEMM-shaped op: `G` independent GEMMs of `M×N×K` (G = batch × heads, or conv
//! groups) are spread over `A` arrays. When `G ≥ A` each array runs `ceil(G/A)` of them back to
//! back; when `G < A` each GEMM's N is split over `floor(A/G)` arrays. Compute time is
//! `cycles / clock`; the op's latency is `max(compute, memory time at each level) + overhead`,
//! the memory terms being the roofline's. In `--ideal` mode the unit is the plain roofline.
//!
//! Lowering: a conv of `n` images is `groups` GEMMs with `M = n·Ho·Wo`, `K = kh·kw·Cin/groups`,
//! `N = Cout/groups` (a depthwise conv is `Cin` GEMMs with N = 1, which is why arrays run it
//! poorly); with `group_packing = "block_diagonal"` a compiler packs `p` groups into one GEMM
//! whose weights are block-diagonal (`p·K` rows, `p·N` columns, zeros off the diagonal blocks),
//! `p` as many as the array's spatial dimensions hold (weight- and input-stationary arrays put
//! `K` on the rows, weight- and output-stationary ones `N` on the columns): `⌈G/p⌉` GEMMs of
//! `M × p·N × p·K`, the last pack padded with zero weights, whichever of the packed and the
//! serial mapping takes fewer cycles. A depthwise 3×3 conv on a 64×64 weight-stationary array
//! then runs 7 channels per fold instead of 1; MoE experts are `3 · experts touched` GEMMs with `M` the tokens routed to each.
//! Attention products are lowered as every cycle model lowers them, by
//! [`crate::cycle::gemm_view`]: one GEMM per sequence and KV head, the query heads of a GQA group
//! sharing its K (or V) as rows of one product, so QKᵀ is `batch·kv_heads` GEMMs with
//! `M = (q_heads/kv_heads)·q_len`, `K = head_dim` and `N` the mean number of keys a query sees
//! (causal masks skip the rest: `N = ⌈MACs / (GEMMs·M·K)⌉`); AV likewise with `N = head_dim` and
//! `K` the mean keys.

use super::fold::Folding;
use super::model::{Timing, compute_cycles};
use super::{Dataflow, LoweredGemm, SystolicConfig};
use crate::cost::{CostModel, Infeasible, Ledger, Mode, ParamError, Params, TensorHomes};
use crate::cycle::gemm_view;
use crate::hardware::Hardware;
use crate::roofline::Roofline;
use crate::workload::{AttnPart, Graph, Op, OpId, OpKind};

/// The name the registry knows this model by (`params.model = "systolic"`).
pub const NAME: &str = "systolic";

/// A systolic-array unit priced by the fold model.
#[derive(Clone, Debug)]
pub struct SystolicUnit<'a> {
    roofline: Roofline<'a>,
    cfg: SystolicConfig,
    arrays: u64,
    timing: Timing,
    packing: GroupPacking,
    mode: Mode,
}

/// How independent GEMMs of one op (conv groups, a depthwise conv's channels) share the array.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GroupPacking {
    /// One group per GEMM, back to back (SCALE-Sim's lowering of a grouped conv).
    Serial,
    /// Groups packed block-diagonally into one GEMM where that takes fewer cycles (module docs).
    BlockDiagonal,
}

/// GEMMs an op lowers to: `count` independent products of `m × n × k`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GemmWork {
    /// Independent GEMMs.
    pub count: u64,
    /// Rows of the output.
    pub m: u64,
    /// Columns of the output.
    pub n: u64,
    /// Reduction length.
    pub k: u64,
}

/// The GEMMs op `op` of `graph` runs on the arrays, or `None` for vector work: attention
/// products by [`gemm_view`] (see the module docs), every other op by [`lower_kind`].
pub fn lower(graph: &Graph, op: &Op) -> Option<GemmWork> {
    let OpKind::Attention { part, .. } = op.kind else {
        return lower_kind(&op.kind);
    };
    let v = gemm_view(graph, op)?;
    // Attention views are integral: batch·kv_heads products of (q_heads/kv_heads)·q_len rows.
    let (count, m) = (v.batch as u64, v.m as u64);
    match part {
        AttnPart::Scores => {
            let keys = (v.macs / (v.batch * v.m * v.k as f64)).ceil() as u64;
            Some(GemmWork {
                count,
                m,
                n: keys,
                k: v.k,
            })
        }
        AttnPart::Values => {
            let keys = (v.macs / (v.batch * v.m * v.n as f64)).ceil() as u64;
            Some(GemmWork {
                count,
                m,
                n: v.n,
                k: keys,
            })
        }
        AttnPart::Softmax => None,
    }
}

/// The GEMMs an op of this kind runs on a matrix engine, or `None` for vector work and for
/// attention, which needs its graph ([`lower`]).
pub fn lower_kind(kind: &OpKind) -> Option<GemmWork> {
    let g = |count, m, n, k| Some(GemmWork { count, m, n, k });
    match *kind {
        OpKind::MatMul { batch, m, n, k } => g(batch, m, n, k),
        OpKind::Conv2d(c) => g(
            c.groups,
            c.n * c.out_h() * c.out_w(),
            c.c_out / c.groups,
            c.kh * c.kw * (c.c_in / c.groups),
        ),
        OpKind::MoeRouter {
            tokens,
            dim,
            experts,
            ..
        } => g(1, tokens, experts, dim),
        OpKind::MoeExperts {
            tokens,
            dim,
            ffn,
            experts,
            top_k,
            gated,
        } => {
            let touched = OpKind::experts_touched(tokens, experts, top_k)
                .ceil()
                .max(1.0) as u64;
            let mats = if gated { 3 } else { 2 };
            g(touched * mats, (tokens * top_k).div_ceil(touched), ffn, dim)
        }
        _ => None,
    }
}

impl<'a> SystolicUnit<'a> {
    /// Reads the unit's `params` (see the module docs). Other keys are allowed: files keep
    /// descriptive figures beside the array (`sram_bytes`, `mxus`).
    pub fn new(hw: &'a Hardware, unit: usize, mode: Mode) -> Result<Self, ParamError> {
        let p = Params::of(&hw.units[unit], &hw.file);
        let dim = |field: &str, default: Option<u64>| -> Result<u64, ParamError> {
            let x = p.count(field, default)?;
            if x > u32::MAX as u64 {
                return Err(p.error(field, format!("expected at most {}, found {x}", u32::MAX)));
            }
            Ok(x)
        };
        let rows = dim("array_rows", None)? as u32;
        let cols = dim("array_cols", None)? as u32;
        let arrays = dim("arrays", Some(1))?;
        let dataflow = match p.opt_str("dataflow")? {
            Some("os") => Dataflow::OutputStationary,
            Some("ws") => Dataflow::WeightStationary,
            Some("is") => Dataflow::InputStationary,
            Some(other) => {
                return Err(p.error(
                    "dataflow",
                    format!("expected \"os\", \"ws\" or \"is\", found \"{other}\""),
                ));
            }
            None => return Err(p.error("dataflow", "missing; this cost model needs it")),
        };
        let timing = match p.choice("timing", &["scalesim", "pipelined"], "pipelined")? {
            "scalesim" => Timing::ScaleSim,
            _ => Timing::Pipelined,
        };
        let packing = match p.choice("group_packing", &["serial", "block_diagonal"], "serial")? {
            "block_diagonal" => GroupPacking::BlockDiagonal,
            _ => GroupPacking::Serial,
        };
        Ok(SystolicUnit {
            roofline: Roofline::new(hw, unit, mode),
            cfg: SystolicConfig::new(rows, cols, dataflow),
            arrays,
            timing,
            packing,
            mode,
        })
    }

    /// Groups of `w` one block-diagonal GEMM holds on this array: as many `K`-slices as the
    /// rows hold (weight- and input-stationary) and `N`-slices as the columns hold (weight- and
    /// output-stationary), at least 1 and at most `w.count`.
    pub fn groups_per_pack(&self, w: GemmWork) -> u64 {
        let (rows, cols) = (self.cfg.rows as u64, self.cfg.cols as u64);
        let p = match self.cfg.dataflow {
            Dataflow::WeightStationary => (rows / w.k.max(1)).min(cols / w.n.max(1)),
            Dataflow::InputStationary => rows / w.k.max(1),
            Dataflow::OutputStationary => cols / w.n.max(1),
        };
        p.clamp(1, w.count.max(1))
    }

    /// Cycles of `w` on this unit's arrays, groups packed as the unit's `group_packing` says.
    pub fn cycles(&self, w: GemmWork) -> Option<u64> {
        let serial = self.serial_cycles(w)?;
        let p = self.groups_per_pack(w);
        if self.packing == GroupPacking::Serial || p <= 1 {
            return Some(serial);
        }
        let packed = self.serial_cycles(GemmWork {
            count: w.count.div_ceil(p),
            m: w.m,
            n: w.n * p,
            k: w.k * p,
        })?;
        Some(serial.min(packed))
    }

    /// Cycles of `w` with every GEMM on its own (no packing).
    fn serial_cycles(&self, w: GemmWork) -> Option<u64> {
        let a = self.arrays;
        let (per_array, n) = if w.count >= a {
            (w.count.div_ceil(a), w.n)
        } else {
            let split = (a / w.count).max(1);
            (1, w.n.div_ceil(split))
        };
        let gemm = LoweredGemm {
            m: w.m,
            n,
            k: w.k,
            ifmap_words: w.m * w.k,
        };
        let f = Folding::new(&self.cfg, &gemm);
        compute_cycles(&self.cfg, &f, self.timing)?.checked_mul(per_array)
    }
}

impl CostModel for SystolicUnit<'_> {
    fn cost(&self, graph: &Graph, residency: &TensorHomes, op: OpId) -> Result<Ledger, Infeasible> {
        let base = self.roofline.cost(graph, residency, op)?;
        let work = match (self.mode, lower(graph, graph.op(op))) {
            (Mode::Calibrated, Some(w)) if w.m > 0 && w.n > 0 && w.k > 0 && w.count > 0 => w,
            _ => return Ok(base),
        };
        let hw = self.roofline.hardware();
        let unit = &hw.units[self.roofline.unit()];
        let cycles = self.cycles(work).ok_or_else(|| Infeasible {
            reason: format!("op `{}`: cycle count overflows", graph.op(op).name),
        })?;
        let compute_s = cycles as f64 / unit.clock_hz;
        let (mem_s, level) = self.roofline.memory_time(&base);
        let mut l = base;
        l.compute_bound_s = 0.0;
        l.memory_bound_s = [0.0; crate::hardware::MAX_LEVELS];
        let t = if compute_s >= mem_s {
            l.compute_bound_s = compute_s;
            compute_s
        } else {
            l.memory_bound_s[level.expect("memory time > 0 has a level")] = mem_s;
            mem_s
        };
        l.latency_s = t + l.overhead_s;
        l.close_static(hw);
        Ok(l)
    }

    fn hardware(&self) -> &Hardware {
        self.roofline.hardware()
    }

    fn unit(&self) -> usize {
        self.roofline.unit()
    }

    fn name(&self) -> &'static str {
        NAME
    }

    fn mode(&self) -> Mode {
        self.mode
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::{Conv2d, Phase, QuantScheme, load_llm};

    #[test]
    fn attention_lowers_as_gemm_view_groups_it() {
        // llama-1b: 32 query heads, 8 KV heads (groups of 4), head_dim 64; batch 2.
        let m = load_llm("llama-1b").unwrap();
        let q = QuantScheme::parse("fp16").unwrap();
        let lowered = |phase: Phase| {
            let g = m.build(&q, phase, 2);
            ["layers.0.attn.qk", "layers.0.attn.av"].map(|name| {
                let op = g.ops.iter().find(|o| o.name == name).unwrap();
                (gemm_view(&g, op).unwrap(), lower(&g, op).unwrap())
            })
        };
        // Decode with 100 cached positions: one product per (sequence, KV head) = 16, the 4
        // query heads of a group as its M = 4 rows; QKᵀ has N = 100 keys of K = 64, AV N = 64
        // outputs over K = 100 keys. (Grouping by query heads gave 64 products of M = 1.)
        let [(vs, ws), (va, wa)] = lowered(Phase::Decode { context: 100 });
        let gemm = |count, m, n, k| GemmWork { count, m, n, k };
        assert_eq!(ws, gemm(16, 4, 100, 64));
        assert_eq!(wa, gemm(16, 4, 64, 100));
        for (v, w) in [(vs, ws), (va, wa)] {
            assert_eq!(
                (w.count as f64, w.m as f64, w.n, w.k),
                (v.batch, v.m, v.n, v.k)
            );
            assert_eq!((w.count * w.m * w.n * w.k) as f64, v.macs);
        }
        // Causal prefill of 8 tokens: the same 16 products, now of M = 4 × 8 = 32 rows; the
        // 8 queries see 1 + 2 + … + 8 = 36 keys, 4.5 on average, so the key dimension is
        // ⌈4.5⌉ = 5 where gemm_view's rectangle has 8 (its MACs count the 36).
        let [(vs, ws), (va, wa)] = lowered(Phase::Prefill { prompt: 8 });
        assert_eq!(ws, gemm(16, 32, 5, 64));
        assert_eq!(wa, gemm(16, 32, 64, 5));
        assert_eq!((vs.batch, vs.m, vs.n, vs.k), (16.0, 32.0, 8, 64));
        assert_eq!((va.batch, va.m, va.n, va.k), (16.0, 32.0, 64, 8));
        assert_eq!(vs.macs, 16.0 * 32.0 * 4.5 * 64.0);
    }

    #[test]
    fn depthwise_channels_pack_block_diagonally() {
        // coral-edgetpu: a 64 x 64 weight-stationary array with group_packing = block_diagonal.
        // A 3x3 depthwise conv of 32 channels on 112 x 112 is 32 GEMMs of 12544 x 1 x 9; the
        // array's 64 rows hold floor(64 / 9) = 7 channels' taps and its 64 columns 64 outputs,
        // so 7 channels share a fold: ceil(32 / 7) = 5 GEMMs of 12544 x 7 x 63.
        let hw = Hardware::load("coral-edgetpu").unwrap();
        let u = SystolicUnit::new(&hw, 0, Mode::Calibrated).unwrap();
        assert_eq!(u.packing, GroupPacking::BlockDiagonal);
        let dw = GemmWork {
            count: 32,
            m: 12544,
            n: 1,
            k: 9,
        };
        assert_eq!(u.groups_per_pack(dw), 7);
        let pack = GemmWork {
            count: 5,
            m: 12544,
            n: 7,
            k: 63,
        };
        assert_eq!(u.cycles(dw), u.serial_cycles(pack));
        // One fold per channel takes 32 folds where the packing takes 5.
        let (serial, packed) = (u.serial_cycles(dw).unwrap(), u.cycles(dw).unwrap());
        assert!(serial > 6 * packed, "{serial} vs {packed}");
        // A dense GEMM has one group: packing changes nothing.
        let dense = GemmWork { count: 1, ..pack };
        assert_eq!(u.groups_per_pack(dense), 1);
        assert_eq!(u.cycles(dense), u.serial_cycles(dense));
    }

    #[test]
    fn lowering_by_hand() {
        // 3x3 conv, 32→64 channels, 56x56, stride 1 pad 1, one image:
        // M = 56*56 = 3136, N = 64, K = 9*32 = 288.
        let c = Conv2d::square(32, 56, 56, 64, 3, 1, 1);
        assert_eq!(
            lower_kind(&OpKind::Conv2d(c)),
            Some(GemmWork {
                count: 1,
                m: 3136,
                n: 64,
                k: 288
            })
        );
        // depthwise: 32 GEMMs of N = 1, K = 9
        let dw = Conv2d {
            c_out: 32,
            groups: 32,
            ..c
        };
        assert_eq!(
            lower_kind(&OpKind::Conv2d(dw)),
            Some(GemmWork {
                count: 32,
                m: 3136,
                n: 1,
                k: 9
            })
        );
    }
}
