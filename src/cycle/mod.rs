//! Cycle models: cost models that price an op from the microarchitecture of a unit rather than
//! from its peak numbers alone. Each sits behind the same [`crate::cost::CostModel`] trait as the
//! roofline and is chosen by the unit's `params.model` in the hardware file (see
//! [`crate::cost_models::model_for`]):
//!
//! | `params.model` | module | what it models |
//! |---|---|---|
//! | `pim` | [`pim`] | DRAM processing-in-memory: bank-parallel GEMV with row timing, refresh, vector broadcast, readout and host reduction; other work falls back to a host unit |
//! | `fpga` | [`fpga`] | spatial dataflow on FPGA fabric: hls4ml dense/conv layers (reuse factor) or FINN matrix-vector units (PE, SIMD), with DSP/BRAM/LUT budgets |
//! | `npu-tiled` | [`npu`] | an NPU with on-chip SRAM and double-buffered DMA: tiles sized to the SRAM, per tile max(ingress, compute, egress) |
//! | `cpu` | [`cpu`] | CPU cores: cores × SIMD lanes × FMA pipes × clock per dtype, cache levels as a hierarchical roofline, a thread count |
//! | `systolic` | [`systolic`] | a TPU-style grid of MAC PEs in a stationary dataflow, timed in folds (SCALE-Sim exact); vector work and memory terms as the roofline |
//!
//! Parameters are read with [`crate::cost::Params`]; shared shape logic is [`gemm_view`].

pub mod cpu;
pub mod fpga;
pub mod npu;
pub mod pim;
pub mod systolic;

use crate::workload::{AttnPart, Graph, Op, OpKind, Role, TensorId};

/// An op seen as a (batched) matrix product `C[b] = A[b]·B[b]`, A of m×k, B of k×n.
///
/// This is the shape cycle models tile or stream. Batches and rows are real numbers because an
/// MoE layer touches an expected, not integral, number of experts.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GemmView {
    /// Independent products.
    pub batch: f64,
    /// Rows of A (for a GEMV, the number of vectors).
    pub m: f64,
    /// Columns of B and C (outputs per row of A).
    pub n: u64,
    /// Reduction length.
    pub k: u64,
    /// Multiply-accumulates actually computed (causal attention computes fewer than b·m·n·k).
    pub macs: f64,
    /// Bytes read of A and of any other small input (bias, routing).
    pub a_bytes: f64,
    /// Bytes read of the matrix operand(s) B.
    pub b_bytes: f64,
    /// Bytes written of C.
    pub c_bytes: f64,
    /// The (first) tensor of the matrix operand B.
    pub b_tensor: TensorId,
    /// The same B serves every product of the batch (a weight), rather than one B per product
    /// (the K/V of each sequence and head).
    pub b_shared: bool,
}

impl GemmView {
    /// Role of the matrix operand.
    pub fn b_role(&self, graph: &Graph) -> Role {
        graph.tensor(self.b_tensor).role
    }

    /// The full rectangle b·m·n·k, of which [`GemmView::macs`] are computed.
    pub fn rect_macs(&self) -> f64 {
        self.batch * self.m * self.n as f64 * self.k as f64
    }
}

/// The matrix-product view of `op`, or `None` for ops that are not matrix products on a matrix
/// engine (elementwise, norms, softmax, gathers, depthwise convolution).
///
/// * `MatMul{batch,m,n,k}`: as written; B is input 1.
/// * `Conv2d` (not depthwise) by im2col: b = groups, m = N·Ho·Wo, n = Cout/groups,
///   k = (Cin/groups)·kh·kw; A is the input feature map (read once, not im2col-expanded).
/// * Attention scores S = Q·Kᵀ: b = batch·kv_heads, m = (q_heads/kv_heads)·q_len (the query heads
///   sharing a K), n = keys attended, k = head_dim; B = K.
/// * Attention values O = P·V: b = batch·kv_heads, m as above, n = head_dim, k = keys; B = V.
/// * MoE router: m = tokens, n = experts, k = hidden.
/// * MoE experts: b = matrices × experts touched, m = tokens·top_k / experts touched,
///   n = ffn, k = hidden (gate, up and down all have ffn·hidden elements).
pub fn gemm_view(graph: &Graph, op: &Op) -> Option<GemmView> {
    let (mut a, mut b, mut c) = (0.0, 0.0, 0.0);
    let matrix_input = match op.kind {
        OpKind::MoeExperts { .. } => None,
        _ => Some(*op.inputs.get(1)?),
    };
    op.for_each_access(graph, |x| {
        if x.write {
            c += x.bytes;
        } else {
            let is_b = match matrix_input {
                Some(t) => x.tensor == t,
                None => graph.tensor(x.tensor).role == Role::Weight,
            };
            if is_b {
                b += x.bytes;
            } else {
                a += x.bytes;
            }
        }
    });
    let b_tensor = *op.inputs.get(1)?;
    let view = |batch: f64, m: f64, n: u64, k: u64, shared: bool| GemmView {
        batch,
        m,
        n,
        k,
        macs: op.kind.macs(),
        a_bytes: a,
        b_bytes: b,
        c_bytes: c,
        b_tensor,
        b_shared: shared,
    };
    match op.kind {
        OpKind::MatMul { batch, m, n, k } => {
            let shared = batch == 1 || graph.tensor(b_tensor).numel() == n * k;
            Some(view(batch as f64, m as f64, n, k, shared))
        }
        OpKind::Conv2d(cv) if !cv.is_depthwise() => Some(view(
            cv.groups as f64,
            (cv.n * cv.out_h() * cv.out_w()) as f64,
            cv.c_out / cv.groups,
            cv.c_in / cv.groups * cv.kh * cv.kw,
            true,
        )),
        OpKind::Attention { part, shape } => {
            let keys = shape.visible_keys();
            let group = shape.q_heads / shape.kv_heads.max(1);
            let batch = (shape.batch * shape.kv_heads) as f64;
            let m = (group * shape.q_len) as f64;
            match part {
                AttnPart::Scores => Some(view(batch, m, keys, shape.head_dim, false)),
                AttnPart::Values => Some(view(batch, m, shape.head_dim, keys, false)),
                AttnPart::Softmax => None,
            }
        }
        OpKind::MoeRouter {
            tokens,
            dim,
            experts,
            ..
        } => Some(view(1.0, tokens as f64, experts, dim, true)),
        OpKind::MoeExperts {
            tokens,
            dim,
            ffn,
            experts,
            top_k,
            gated,
        } => {
            let touched = OpKind::experts_touched(tokens, experts, top_k);
            let mats = if gated { 3.0 } else { 2.0 };
            let m = (tokens * top_k) as f64 / touched;
            Some(view(mats * touched, m, ffn, dim, false))
        }
        _ => None,
    }
}

/// The three-stage software pipeline of double-buffered execution: `n` equal tiles, each read
/// in (total `t_in`), computed (total `t_comp`) and written out (total `t_out`), with the stages
/// of different tiles overlapping. The first tile passes through all three stages (prologue and
/// epilogue); every further tile adds the slowest stage:
/// `T = (a + c + o) + (n − 1)·max(a, c, o)` with `a = t_in/n`, `c = t_comp/n`, `o = t_out/n`.
pub fn pipeline(n: f64, t_in: f64, t_comp: f64, t_out: f64) -> f64 {
    let n = n.max(1.0);
    let (a, c, o) = (t_in / n, t_comp / n, t_out / n);
    a + c + o + (n - 1.0) * a.max(c).max(o)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::{Conv2d, DType, Phase, QuantScheme, Storage, load_llm};

    #[test]
    fn gemm_views_of_llm_and_conv_ops_by_hand() {
        // llama-1b: 32 query heads, 8 KV heads (groups of 4), head_dim 64, hidden 2048.
        let m = load_llm("llama-1b").unwrap();
        let q = QuantScheme::parse("fp16").unwrap();
        let g = m.build(&q, Phase::Decode { context: 100 }, 2);
        let view = |name: &str| {
            let op = g.ops.iter().find(|o| o.name == name).unwrap();
            gemm_view(&g, op)
        };
        // q_proj: 2 tokens through one shared 2048 x 2048 fp16 weight (8 MiB).
        let v = view("layers.0.attn.q_proj").unwrap();
        assert_eq!(
            (v.batch, v.m, v.n, v.k, v.b_shared),
            (1.0, 2.0, 2048, 2048, true)
        );
        assert_eq!(v.b_bytes, 2048.0 * 2048.0 * 2.0);
        // Q·Kᵀ: one K per (sequence, KV head) = 16 products; the 4 query heads of a group share
        // it; 100 keys of 64. The K cache is 2 x 8 x 100 x 64 fp16 = 204,800 B.
        let v = view("layers.0.attn.qk").unwrap();
        assert_eq!(
            (v.batch, v.m, v.n, v.k, v.b_shared),
            (16.0, 4.0, 100, 64, false)
        );
        assert_eq!(v.b_bytes, 204_800.0);
        assert_eq!(v.macs, v.rect_macs());
        // P·V: 64 outputs per query over 100 keys.
        let v = view("layers.0.attn.av").unwrap();
        assert_eq!((v.batch, v.m, v.n, v.k), (16.0, 4.0, 64, 100));
        assert!(view("layers.0.attn.softmax").is_none());
        assert!(view("layers.0.input_norm").is_none());
        // ResNet stem 7x7/2 on 224² x 3 → 112² x 64 by im2col: m = 12544, n = 64, k = 147.
        let mut c = Graph::new("stem");
        let x = c.add_tensor(
            "x",
            &[1, 3, 224, 224],
            Storage::plain(DType::F16),
            Role::Input,
        );
        let w = c.add_tensor(
            "w",
            &[64, 3, 7, 7],
            Storage::plain(DType::F16),
            Role::Weight,
        );
        let y = c.add_tensor(
            "y",
            &[1, 64, 112, 112],
            Storage::plain(DType::F16),
            Role::Output,
        );
        let conv = Conv2d::square(3, 224, 224, 64, 7, 2, 3);
        c.add_op(
            "stem",
            OpKind::Conv2d(conv),
            &[x, w],
            &[y],
            DType::F16,
            None,
        );
        let v = gemm_view(&c, &c.ops[0]).unwrap();
        assert_eq!((v.batch, v.m, v.n, v.k), (1.0, 12544.0, 64, 147));
        // A reads the feature map once (3·224²·2 B), not the 12544 x 147 im2col matrix.
        assert_eq!(v.a_bytes, 3.0 * 224.0 * 224.0 * 2.0);
    }

    #[test]
    fn pipeline_by_hand() {
        // One tile: the stages run back to back.
        assert_eq!(pipeline(1.0, 2.0, 3.0, 1.0), 6.0);
        // Four tiles, compute-bound: 0.5 + 0.75 + 0.25 + 3 × 0.75 = 3.75.
        assert_eq!(pipeline(4.0, 2.0, 3.0, 1.0), 3.75);
        // Many tiles converge on the slowest stage's total.
        let t = pipeline(1e6, 2.0, 3.0, 1.0);
        assert!((t - 3.0).abs() < 1e-5, "{t}");
    }
}
