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
//!
//! Time of a GEMM-shaped op: `G` independent GEMMs of `M×N×K` (G = batch × heads, or conv
//! groups) are spread over `A` arrays. When `G ≥ A` each array runs `ceil(G/A)` of them back to
//! back; when `G < A` each GEMM's N is split over `floor(A/G)` arrays. Compute time is
//! `cycles / clock`; the op's latency is `max(compute, memory time at each level) + overhead`,
//! the memory terms being the roofline's. In `--ideal` mode the unit is the plain roofline.
//!
//! Lowering: a conv of `n` images is `groups` GEMMs with `M = n·Ho·Wo`, `K = kh·kw·Cin/groups`,
//! `N = Cout/groups` (a depthwise conv is `Cin` GEMMs with N = 1, which is why arrays run it
//! poorly); QKᵀ is `batch·q_heads` GEMMs with `M = q_len`, `K = head_dim` and `N` the mean
//! number of keys a query sees (causal masks skip the rest); AV likewise with `N = head_dim`;
//! MoE experts are `3 · experts touched` GEMMs with `M` the tokens routed to each.

use super::model::{Folding, Mode as Timing, compute_cycles};
use super::{Dataflow, LoweredGemm, SystolicConfig};
use crate::cost::{CostModel, Infeasible, Ledger, Mode, TensorHomes};
use crate::hardware::Hardware;
use crate::roofline::Roofline;
use crate::workload::{AttnPart, Graph, OpId, OpKind};

/// The name the registry knows this model by (`params.model = "systolic"`).
pub const NAME: &str = "systolic";

/// A systolic-array unit priced by the fold model.
#[derive(Clone, Debug)]
pub struct SystolicUnit<'a> {
    roofline: Roofline<'a>,
    cfg: SystolicConfig,
    arrays: u64,
    timing: Timing,
    mode: Mode,
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

/// The GEMMs an op runs on a matrix engine, or `None` for vector work.
pub fn lower(kind: &OpKind) -> Option<GemmWork> {
    let g = |count, m, n, k| Some(GemmWork { count, m, n, k });
    match *kind {
        OpKind::MatMul { batch, m, n, k } => g(batch, m, n, k),
        OpKind::Conv2d(c) => g(
            c.groups,
            c.n * c.out_h() * c.out_w(),
            c.c_out / c.groups,
            c.kh * c.kw * (c.c_in / c.groups),
        ),
        OpKind::Attention { part, shape } => {
            let heads = shape.batch * shape.q_heads;
            let keys = (shape.pairs() / shape.q_len as f64).ceil() as u64;
            match part {
                AttnPart::Scores => g(heads, shape.q_len, keys, shape.head_dim),
                AttnPart::Values => g(heads, shape.q_len, shape.head_dim, keys),
                AttnPart::Softmax => None,
            }
        }
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

/// Reasons a unit's systolic parameters are unusable.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("params.{field}: {message}")]
pub struct ParamError {
    /// The parameter.
    pub field: &'static str,
    /// What was expected.
    pub message: String,
}

fn int_param(
    p: &toml::Table,
    field: &'static str,
    default: Option<u64>,
) -> Result<u64, ParamError> {
    match p.get(field) {
        None => default.ok_or(ParamError {
            field,
            message: "required by model = \"systolic\"".into(),
        }),
        Some(toml::Value::Integer(v)) if *v > 0 && *v <= u32::MAX as i64 => Ok(*v as u64),
        Some(v) => Err(ParamError {
            field,
            message: format!("expected a positive integer, found {v}"),
        }),
    }
}

impl<'a> SystolicUnit<'a> {
    /// Reads the unit's `params` (see the module docs).
    pub fn new(hw: &'a Hardware, unit: usize, mode: Mode) -> Result<Self, ParamError> {
        let p = &hw.units[unit].params;
        let rows = int_param(p, "array_rows", None)? as u32;
        let cols = int_param(p, "array_cols", None)? as u32;
        let arrays = int_param(p, "arrays", Some(1))?;
        let dataflow = match p.get("dataflow").and_then(|v| v.as_str()) {
            Some("os") => Dataflow::OutputStationary,
            Some("ws") => Dataflow::WeightStationary,
            Some("is") => Dataflow::InputStationary,
            other => {
                return Err(ParamError {
                    field: "dataflow",
                    message: format!("expected \"os\", \"ws\" or \"is\", found {other:?}"),
                });
            }
        };
        let timing = match p.get("timing").and_then(|v| v.as_str()) {
            None | Some("pipelined") => Timing::Pipelined,
            Some("scalesim") => Timing::ScaleSim,
            Some(other) => {
                return Err(ParamError {
                    field: "timing",
                    message: format!("expected \"scalesim\" or \"pipelined\", found \"{other}\""),
                });
            }
        };
        Ok(SystolicUnit {
            roofline: Roofline::new(hw, unit, mode),
            cfg: SystolicConfig::new(rows, cols, dataflow),
            arrays,
            timing,
            mode,
        })
    }

    /// Cycles of `w` on this unit's arrays.
    pub fn cycles(&self, w: GemmWork) -> Option<u64> {
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
        let kind = &graph.op(op).kind;
        let work = match (self.mode, lower(kind)) {
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
        l.static_j = hw.static_w * l.latency_s;
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
    use crate::workload::Conv2d;

    #[test]
    fn lowering_by_hand() {
        // 3x3 conv, 32→64 channels, 56x56, stride 1 pad 1, one image:
        // M = 56*56 = 3136, N = 64, K = 9*32 = 288.
        let c = Conv2d {
            n: 1,
            c_in: 32,
            h: 56,
            w: 56,
            c_out: 64,
            kh: 3,
            kw: 3,
            stride: (1, 1),
            pad: (1, 1),
            dilation: (1, 1),
            groups: 1,
        };
        assert_eq!(
            lower(&OpKind::Conv2d(c)),
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
            lower(&OpKind::Conv2d(dw)),
            Some(GemmWork {
                count: 32,
                m: 3136,
                n: 1,
                k: 9
            })
        );
    }
}
