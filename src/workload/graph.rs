//! The workload graph: an arena of tensors and ops, ids as indices, ops in a valid topological order.
//!
//! An op is plain data from the closed [`OpKind`] enum. It counts its own work (FLOPs and MACs in
//! its compute dtype) and the bytes it reads and writes per tensor, and knows nothing of hardware.

use super::dtype::{DType, Storage};
use serde::Serialize;
use std::collections::HashMap;

/// Index of a tensor in [`Graph::tensors`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct TensorId(pub u32);

/// Index of an op in [`Graph::ops`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct OpId(pub u32);

/// What a tensor is for; decides where it lives and what counts as compulsory traffic.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Model parameters, persistent across runs.
    Weight,
    /// Intermediate values produced and consumed inside one run.
    Activation,
    /// The attention key/value cache, persistent across decode steps.
    KvCache,
    /// Data fed in from outside (token ids, an image).
    Input,
    /// Results handed back (logits, class scores).
    Output,
}

impl Role {
    /// Weights and KV cache outlive a single run.
    pub fn is_persistent(self) -> bool {
        matches!(self, Role::Weight | Role::KvCache)
    }
}

/// A tensor: shape, storage and role.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Tensor {
    /// Unique, readable name such as `layers.3.mlp.up.weight`.
    pub name: String,
    /// Dimensions, outermost first.
    pub shape: Vec<u64>,
    /// Element type and quantization metadata.
    pub storage: Storage,
    /// What the tensor is for.
    pub role: Role,
}

impl Tensor {
    /// Number of elements.
    pub fn numel(&self) -> u64 {
        self.shape.iter().product()
    }
    /// Bytes in memory, quantization metadata included.
    pub fn bytes(&self) -> f64 {
        self.storage.bytes(&self.shape)
    }
}

/// Elementwise operations and activations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EltOp {
    /// a + b (residual adds).
    Add,
    /// a × b.
    Mul,
    /// max(x, 0).
    Relu,
    /// min(max(x, 0), 6).
    Relu6,
    /// x·σ(x).
    Silu,
    /// GELU, tanh approximation.
    Gelu,
    /// σ(x).
    Sigmoid,
    /// x·relu6(x+3)/6.
    HardSwish,
    /// relu6(x+3)/6.
    HardSigmoid,
    /// silu(gate) × up, the SwiGLU gate.
    SwiGlu,
    /// gelu(gate) × up, the GeGLU gate.
    GeGlu,
    /// Multiply by a constant (e.g. Gemma's √hidden embedding scale).
    Scale,
    /// a − b.
    Sub,
    /// a ÷ b.
    Div,
    /// max(x, αx) for 0 < α < 1 (YOLO's leaky ReLU).
    LeakyRelu,
    /// min(max(x, lo), hi) with bounds other than ReLU6's.
    Clip,
    /// One elementary function per element: tanh, erf, exp, log, sqrt, reciprocal, pow, neg, abs,
    /// or a type conversion.
    Unary,
    /// A comparison or a select (`==`, `<`, `where`).
    Compare,
    /// Soft-capping `cap·tanh(x/cap)` (Gemma 2's attention scores and final logits).
    SoftCap,
}

impl EltOp {
    /// FLOPs per output element, counting each elementary arithmetic operation once.
    ///
    /// These are counting conventions, stated so that every figure can be checked by hand:
    /// * add, mul, scale, relu (a compare-select): 1;
    /// * relu6: 2 (max, min); sigmoid 1/(1+e^-x): 4 (neg, exp, add, div);
    /// * silu x·σ(x): 5; hard-sigmoid relu6(x+3)/6: 4 (add, max, min, div); hard-swish: 5;
    /// * gelu (tanh form) 0.5x(1+tanh(√(2/π)(x+0.044715x³))): 9 (x³ = 2 mul, ×c, add, ×√(2/π),
    ///   tanh, add 1, ×x, ×0.5);
    /// * swiglu silu(g)·u: 6; geglu gelu(g)·u: 10;
    /// * soft-capping cap·tanh(x/cap): 3 (divide, tanh, multiply);
    /// * sub, div, compare or select: 1; leaky relu (multiply, max): 2; clip (max, min): 2;
    ///   a unary elementary function (tanh, erf, exp, sqrt, ...): 1, as the exp inside sigmoid
    ///   and the tanh inside gelu are counted above.
    pub fn flops_per_elem(self) -> f64 {
        match self {
            EltOp::Add | EltOp::Mul | EltOp::Relu | EltOp::Scale => 1.0,
            EltOp::Sub | EltOp::Div | EltOp::Unary | EltOp::Compare => 1.0,
            EltOp::Relu6 | EltOp::LeakyRelu | EltOp::Clip => 2.0,
            EltOp::SoftCap => 3.0,
            EltOp::Sigmoid | EltOp::HardSigmoid => 4.0,
            EltOp::Silu | EltOp::HardSwish => 5.0,
            EltOp::SwiGlu => 6.0,
            EltOp::Gelu => 9.0,
            EltOp::GeGlu => 10.0,
        }
    }

    /// Transcendental evaluations per output element (counted once more in
    /// [`OpKind::special_ops`], on top of the FLOPs above): one `exp` for sigmoid, SiLU and
    /// SwiGLU, one `tanh` for GELU, GeGLU and soft-capping, one for a [`EltOp::Unary`] function (the class
    /// stands for tanh, erf, exp, log, sqrt, reciprocal and pow, which CPUs evaluate as math
    /// routines and GPUs on special-function units; the cheap members it also covers, negation,
    /// absolute value and casts, are priced as one of them); none for the piecewise-linear and
    /// arithmetic ones.
    pub fn specials_per_elem(self) -> f64 {
        match self {
            EltOp::Sigmoid | EltOp::Silu | EltOp::SwiGlu | EltOp::Gelu | EltOp::GeGlu => 1.0,
            EltOp::Unary | EltOp::SoftCap => 1.0,
            _ => 0.0,
        }
    }
}

/// Normalization kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NormKind {
    /// LayerNorm: mean and variance, normalise, scale and shift.
    LayerNorm,
    /// RMSNorm: root mean square, normalise, scale.
    RmsNorm,
    /// Inference-time BatchNorm (a per-channel scale and shift).
    BatchNorm,
}

impl NormKind {
    /// FLOPs per element: LayerNorm 7 (sum for mean, subtract, square, sum, ×rstd, ×γ, +β);
    /// RMSNorm 4 (square, sum, ×rstd, ×γ); BatchNorm folded to 2 (×scale, +shift).
    /// Per-row reductions (rsqrt, divide by n) are O(rows) and left out.
    pub fn flops_per_elem(self) -> f64 {
        match self {
            NormKind::LayerNorm => 7.0,
            NormKind::RmsNorm => 4.0,
            NormKind::BatchNorm => 2.0,
        }
    }
}

/// Pooling kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PoolKind {
    /// Max over the window (one compare per window element).
    Max,
    /// Average over the window (one add per window element, one divide per output).
    Avg,
    /// Sum over the window (one add per window element), e.g. ONNX `ReduceSum`.
    Sum,
}

/// A 2-D convolution in NCHW terms (one image shape, `n` images).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Conv2d {
    /// Batch.
    pub n: u64,
    /// Input channels.
    pub c_in: u64,
    /// Input height.
    pub h: u64,
    /// Input width.
    pub w: u64,
    /// Output channels.
    pub c_out: u64,
    /// Kernel height.
    pub kh: u64,
    /// Kernel width.
    pub kw: u64,
    /// Stride (height, width).
    pub stride: (u64, u64),
    /// Zero padding (top+bottom counted as 2×pad.0, likewise left/right).
    pub pad: (u64, u64),
    /// Dilation (height, width).
    pub dilation: (u64, u64),
    /// Groups; `groups == c_in == c_out` is depthwise.
    pub groups: u64,
}

impl Conv2d {
    /// One image (`n = 1`) through a square `k`×`k` kernel with the same `stride` and `pad` on
    /// both axes, no dilation and one group: the common layer, written in one line.
    pub const fn square(
        c_in: u64,
        h: u64,
        w: u64,
        c_out: u64,
        k: u64,
        stride: u64,
        pad: u64,
    ) -> Self {
        Conv2d {
            n: 1,
            c_in,
            h,
            w,
            c_out,
            kh: k,
            kw: k,
            stride: (stride, stride),
            pad: (pad, pad),
            dilation: (1, 1),
            groups: 1,
        }
    }

    /// The same convolution split into `groups` groups (`groups == c_in == c_out`: depthwise).
    pub const fn grouped(self, groups: u64) -> Self {
        Conv2d { groups, ..self }
    }

    /// Output height.
    pub fn out_h(&self) -> u64 {
        (self.h + 2 * self.pad.0 - self.dilation.0 * (self.kh - 1) - 1) / self.stride.0 + 1
    }
    /// Output width.
    pub fn out_w(&self) -> u64 {
        (self.w + 2 * self.pad.1 - self.dilation.1 * (self.kw - 1) - 1) / self.stride.1 + 1
    }
    /// Multiply-accumulates: N·Cout·Ho·Wo·(Cin/groups)·kh·kw.
    pub fn macs(&self) -> f64 {
        (self.n * self.c_out * self.out_h() * self.out_w() * (self.c_in / self.groups)) as f64
            * (self.kh * self.kw) as f64
    }
    /// True when every input channel is its own group.
    pub fn is_depthwise(&self) -> bool {
        self.groups > 1 && self.groups == self.c_in
    }
    /// Output height of the transposed convolution with these fields (`h`, `w` are its input):
    /// (h − 1)·stride − 2·pad + dilation·(kh − 1) + 1, as PyTorch and ONNX define it with no
    /// output padding. `None` when the padding eats the whole output.
    pub fn transposed_out_h(&self) -> Option<u64> {
        ((self.h - 1) * self.stride.0 + self.dilation.0 * (self.kh - 1) + 1)
            .checked_sub(2 * self.pad.0)
            .filter(|&x| x > 0)
    }
    /// Output width of the transposed convolution (see [`Conv2d::transposed_out_h`]).
    pub fn transposed_out_w(&self) -> Option<u64> {
        ((self.w - 1) * self.stride.1 + self.dilation.1 * (self.kw - 1) + 1)
            .checked_sub(2 * self.pad.1)
            .filter(|&x| x > 0)
    }
    /// Multiply-accumulates of the transposed convolution: every input pixel is scattered through
    /// the whole kernel, N·Cin·H·W·(Cout/groups)·kh·kw (zero insertion between inputs is not
    /// counted, as cuDNN and im2col-free implementations skip it).
    pub fn transposed_macs(&self) -> f64 {
        (self.n * self.c_in * self.h * self.w * (self.c_out / self.groups)) as f64
            * (self.kh * self.kw) as f64
    }
}

/// Pure data-movement ops: no arithmetic (except bilinear resizing), but real copies in memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MoveKind {
    /// Concatenate the inputs along one axis (Inception branches, U-Net skips, YOLO routes).
    Concat,
    /// Copy a window of the input (U-Net's centre crop, ONNX `Slice`, `Split`, `Gather` of
    /// activations): only the `elems` copied are read.
    Slice,
    /// Zero-pad the input.
    Pad,
    /// Permute the axes (a full copy).
    Transpose,
    /// Nearest-neighbour upsampling (each output element copies one input element).
    UpsampleNearest,
    /// Bilinear resizing: 4 products and 3 sums per output element with precomputed weights.
    ResizeLinear,
    /// Replicate the input along broadcast axes (ONNX `Expand`, `Tile`).
    Broadcast,
}

impl MoveKind {
    /// FLOPs per output element: 0 for copies, 7 for bilinear resizing (4 mul + 3 add).
    pub fn flops_per_elem(self) -> f64 {
        match self {
            MoveKind::ResizeLinear => 7.0,
            _ => 0.0,
        }
    }
}

/// Which part of attention an op is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AttnPart {
    /// S = Q·Kᵀ.
    Scores,
    /// P = softmax(mask(S)).
    Softmax,
    /// O = P·V.
    Values,
}

/// Shape of one attention computation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct AttnShape {
    /// Sequences.
    pub batch: u64,
    /// Query heads.
    pub q_heads: u64,
    /// Key/value heads (GQA: fewer than query heads).
    pub kv_heads: u64,
    /// New query positions in this step.
    pub q_len: u64,
    /// Key positions visible in total (past + new).
    pub kv_len: u64,
    /// Dimension per head.
    pub head_dim: u64,
    /// Causal mask: query i sees keys up to its own position.
    pub causal: bool,
    /// Sliding-window length, if the model restricts attention to recent keys.
    pub window: Option<u64>,
}

impl AttnShape {
    /// Key positions one query can see at most: `kv_len`, capped by the sliding window.
    pub fn visible_keys(&self) -> u64 {
        self.window.map_or(self.kv_len, |w| w.min(self.kv_len))
    }

    /// Number of (query, key) pairs actually computed per head and sequence.
    ///
    /// Queries sit at the last `q_len` positions of `kv_len`. With a causal mask query `i`
    /// (0-based among the new ones) sees `past + i + 1` keys, capped by the window.
    pub fn pairs(&self) -> f64 {
        let past = self.kv_len.saturating_sub(self.q_len);
        if !self.causal {
            let k = self.visible_keys();
            return (self.q_len * k) as f64;
        }
        // Σ_{x=past+1}^{past+q_len} min(x, W)
        let a = past + 1;
        let b = past + self.q_len;
        let w = self.window.unwrap_or(u64::MAX);
        let tri = |lo: u64, hi: u64| -> f64 {
            if hi < lo {
                0.0
            } else {
                (lo + hi) as f64 * (hi - lo + 1) as f64 / 2.0
            }
        };
        if w >= b {
            tri(a, b)
        } else if w < a {
            (w * self.q_len) as f64
        } else {
            tri(a, w) + ((b - w) * w) as f64
        }
    }
}

/// FLOPs per element of a softmax: max, subtract, exp, sum, divide.
pub const SOFTMAX_FLOPS_PER_ELEM: f64 = 5.0;
/// FLOPs per element of rotary position embedding: x·cos + rot(x)·sin.
pub const ROPE_FLOPS_PER_ELEM: f64 = 3.0;
/// FLOPs per multiply-accumulate.
pub const FLOPS_PER_MAC: f64 = 2.0;

/// The closed set of operations archscope models.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum OpKind {
    /// C[b,m,n] = A[b,m,k]·B[b,k,n] (+ bias). Linear layers are `batch = 1` with a weight B.
    MatMul {
        /// Independent products.
        batch: u64,
        /// Rows of A and C.
        m: u64,
        /// Columns of B and C.
        n: u64,
        /// Reduction length.
        k: u64,
    },
    /// 2-D convolution (grouped and depthwise included).
    Conv2d(Conv2d),
    /// 2-D transposed convolution ("up-convolution"); `h`, `w` are its input size, see
    /// [`Conv2d::transposed_out_h`] and [`Conv2d::transposed_macs`].
    ConvTranspose2d(Conv2d),
    /// Data movement of `elems` output elements (concat, crop, pad, transpose, upsample).
    DataMove {
        /// Which copy.
        kind: MoveKind,
        /// Output elements written.
        elems: u64,
    },
    /// Window pooling; a global pool has the window equal to the input.
    Pool {
        /// Max or average.
        kind: PoolKind,
        /// Output elements.
        out_elems: u64,
        /// Window elements per output.
        window: u64,
    },
    /// Elementwise operation or activation over `elems` output elements.
    Elementwise {
        /// Which operation.
        op: EltOp,
        /// Output elements.
        elems: u64,
    },
    /// Normalization over `rows` rows of `cols` elements.
    Norm {
        /// LayerNorm, RMSNorm or BatchNorm.
        kind: NormKind,
        /// Rows normalised independently.
        rows: u64,
        /// Elements per row.
        cols: u64,
    },
    /// A plain softmax over `rows` rows of `cols` elements.
    Softmax {
        /// Rows.
        rows: u64,
        /// Elements per row.
        cols: u64,
    },
    /// Rotary position embedding applied to `elems` elements of Q and K.
    Rope {
        /// Elements rotated.
        elems: u64,
    },
    /// One piece of attention (QKᵀ, mask + softmax, or AV), GQA and causal aware.
    Attention {
        /// Which piece.
        part: AttnPart,
        /// The shape.
        shape: AttnShape,
    },
    /// Embedding lookup: `tokens` rows of `dim` gathered from the table (input 1).
    Embedding {
        /// Rows gathered.
        tokens: u64,
        /// Row length.
        dim: u64,
    },
    /// Select `rows` rows of length `cols` (e.g. the last token of each sequence before the LM head).
    SelectRows {
        /// Rows kept.
        rows: u64,
        /// Row length.
        cols: u64,
    },
    /// Append `tokens` new key and value rows to the KV cache (outputs are the caches).
    KvAppend {
        /// New positions times sequences.
        tokens: u64,
        /// KV heads.
        kv_heads: u64,
        /// Dimension per head.
        head_dim: u64,
    },
    /// MoE gate: logits over experts, softmax and top-k.
    MoeRouter {
        /// Tokens routed.
        tokens: u64,
        /// Hidden size.
        dim: u64,
        /// Experts.
        experts: u64,
        /// Experts chosen per token.
        top_k: u64,
    },
    /// The routed expert FFNs of one MoE layer (inputs: x, gate/up/down weights of all experts).
    MoeExperts {
        /// Tokens routed.
        tokens: u64,
        /// Hidden size.
        dim: u64,
        /// Expert FFN intermediate size.
        ffn: u64,
        /// Experts.
        experts: u64,
        /// Experts per token.
        top_k: u64,
        /// Gated (SwiGLU) experts with three matrices; else two.
        gated: bool,
    },
}

/// The execution engine an op mainly needs: a matrix engine (tensor cores, MXU, systolic array)
/// or vector/SIMD lanes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Engine {
    /// Dense matrix multiplication.
    Matrix,
    /// Elementwise, reductions, gathers, depthwise convolution.
    Vector,
}

impl OpKind {
    /// Short kind name for tables.
    pub fn name(&self) -> &'static str {
        match self {
            OpKind::MatMul { .. } => "matmul",
            OpKind::Conv2d(c) if c.is_depthwise() => "dwconv2d",
            OpKind::Conv2d(_) => "conv2d",
            OpKind::ConvTranspose2d(_) => "convtranspose2d",
            OpKind::DataMove { kind, .. } => match kind {
                MoveKind::Concat => "concat",
                MoveKind::Slice => "slice",
                MoveKind::Pad => "pad",
                MoveKind::Transpose => "transpose",
                MoveKind::UpsampleNearest => "upsample",
                MoveKind::ResizeLinear => "resize",
                MoveKind::Broadcast => "broadcast",
            },
            OpKind::Pool { .. } => "pool",
            OpKind::Elementwise { .. } => "elementwise",
            OpKind::Norm { .. } => "norm",
            OpKind::Softmax { .. } => "softmax",
            OpKind::Rope { .. } => "rope",
            OpKind::Attention {
                part: AttnPart::Scores,
                ..
            } => "attn_qk",
            OpKind::Attention {
                part: AttnPart::Softmax,
                ..
            } => "attn_softmax",
            OpKind::Attention {
                part: AttnPart::Values,
                ..
            } => "attn_av",
            OpKind::Embedding { .. } => "embedding",
            OpKind::SelectRows { .. } => "select_rows",
            OpKind::KvAppend { .. } => "kv_append",
            OpKind::MoeRouter { .. } => "moe_router",
            OpKind::MoeExperts { .. } => "moe_experts",
        }
    }

    /// Multiply-accumulates (0 for ops that are not products).
    pub fn macs(&self) -> f64 {
        match *self {
            OpKind::MatMul { batch, m, n, k } => (batch * m) as f64 * (n * k) as f64,
            OpKind::Conv2d(c) => c.macs(),
            OpKind::ConvTranspose2d(c) => c.transposed_macs(),
            OpKind::Attention { part, shape } => match part {
                AttnPart::Scores | AttnPart::Values => {
                    shape.pairs() * (shape.batch * shape.q_heads * shape.head_dim) as f64
                }
                AttnPart::Softmax => 0.0,
            },
            OpKind::MoeRouter {
                tokens,
                dim,
                experts,
                ..
            } => (tokens * dim * experts) as f64,
            OpKind::MoeExperts {
                tokens,
                dim,
                ffn,
                top_k,
                gated,
                ..
            } => {
                let mats = if gated { 3.0 } else { 2.0 };
                (tokens * top_k) as f64 * mats * (dim * ffn) as f64
            }
            _ => 0.0,
        }
    }

    /// Transcendental function evaluations (`exp`, `tanh`): one per element of a softmax
    /// (attention's included) and of the exponential activations. The FLOP counts above count
    /// each as one operation, but hardware evaluates them on special-function units (GPU SFUs)
    /// or as math-library routines of tens of instructions (CPU `expf`), so cost models may
    /// price them apart. Per-row square roots of norms are left out, as in the FLOP counts.
    pub fn special_ops(&self) -> f64 {
        match *self {
            OpKind::Elementwise { op, elems } => op.specials_per_elem() * elems as f64,
            OpKind::Softmax { rows, cols } => (rows * cols) as f64,
            OpKind::Attention {
                part: AttnPart::Softmax,
                shape,
            } => shape.pairs() * (shape.batch * shape.q_heads) as f64,
            OpKind::MoeRouter {
                tokens, experts, ..
            } => (tokens * experts) as f64,
            OpKind::MoeExperts {
                tokens,
                ffn,
                top_k,
                gated,
                ..
            } => {
                let act = if gated { EltOp::SwiGlu } else { EltOp::Gelu };
                act.specials_per_elem() * (tokens * top_k * ffn) as f64
            }
            _ => 0.0,
        }
    }

    /// Elements that enter a per-row reduction (a sum or a maximum along the row): RMSNorm's
    /// sum of squares, LayerNorm's mean and variance (accumulated in the same pass, so each
    /// element is counted once), a softmax's row maximum (attention's included). Runtimes that
    /// reduce with one serial accumulator are bound by its add or max latency, which cost
    /// models may price apart. BatchNorm (folded to a scale and shift) reduces nothing.
    pub fn reduced_elems(&self) -> f64 {
        match *self {
            OpKind::Norm {
                kind: NormKind::RmsNorm | NormKind::LayerNorm,
                rows,
                cols,
            } => (rows * cols) as f64,
            OpKind::Softmax { rows, cols } => (rows * cols) as f64,
            OpKind::Attention {
                part: AttnPart::Softmax,
                shape,
            } => shape.pairs() * (shape.batch * shape.q_heads) as f64,
            _ => 0.0,
        }
    }

    /// Floating-point (or integer) operations, with a MAC counted as 2.
    pub fn flops(&self) -> f64 {
        let mac_flops = FLOPS_PER_MAC * self.macs();
        match *self {
            OpKind::MatMul { .. } | OpKind::Conv2d(_) | OpKind::ConvTranspose2d(_) => mac_flops,
            OpKind::Pool {
                kind,
                out_elems,
                window,
            } => match kind {
                PoolKind::Max | PoolKind::Sum => (out_elems * window) as f64,
                PoolKind::Avg => (out_elems * (window + 1)) as f64,
            },
            OpKind::DataMove { kind, elems } => kind.flops_per_elem() * elems as f64,
            OpKind::Elementwise { op, elems } => op.flops_per_elem() * elems as f64,
            OpKind::Norm { kind, rows, cols } => kind.flops_per_elem() * (rows * cols) as f64,
            OpKind::Softmax { rows, cols } => SOFTMAX_FLOPS_PER_ELEM * (rows * cols) as f64,
            OpKind::Rope { elems } => ROPE_FLOPS_PER_ELEM * elems as f64,
            OpKind::Attention { part, shape } => match part {
                AttnPart::Softmax => {
                    SOFTMAX_FLOPS_PER_ELEM * shape.pairs() * (shape.batch * shape.q_heads) as f64
                }
                _ => mac_flops,
            },
            OpKind::Embedding { .. } | OpKind::SelectRows { .. } | OpKind::KvAppend { .. } => 0.0,
            OpKind::MoeRouter {
                tokens, experts, ..
            } => mac_flops + SOFTMAX_FLOPS_PER_ELEM * (tokens * experts) as f64,
            OpKind::MoeExperts {
                tokens,
                ffn,
                top_k,
                gated,
                ..
            } => {
                let act = if gated { EltOp::SwiGlu } else { EltOp::Gelu };
                mac_flops + act.flops_per_elem() * (tokens * top_k * ffn) as f64
            }
        }
    }

    /// Which engine the op needs.
    pub fn engine(&self) -> Engine {
        match self {
            OpKind::MatMul { .. } | OpKind::MoeRouter { .. } | OpKind::MoeExperts { .. } => {
                Engine::Matrix
            }
            OpKind::Conv2d(c) | OpKind::ConvTranspose2d(c) if !c.is_depthwise() => Engine::Matrix,
            OpKind::Attention {
                part: AttnPart::Scores | AttnPart::Values,
                ..
            } => Engine::Matrix,
            _ => Engine::Vector,
        }
    }

    /// Expected number of distinct experts touched when `tokens` tokens each pick `top_k` of
    /// `experts` uniformly at random: E·(1 − (1 − k/E)^T).
    pub fn experts_touched(tokens: u64, experts: u64, top_k: u64) -> f64 {
        let e = experts as f64;
        e * (1.0 - (1.0 - top_k as f64 / e).powf(tokens as f64))
    }
}

/// One operation in the graph.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Op {
    /// Unique, readable name such as `layers.3.attn.q_proj`.
    pub name: String,
    /// What it computes.
    pub kind: OpKind,
    /// Tensors read, in kind-specific order (activation first, then weights).
    pub inputs: Vec<TensorId>,
    /// Tensors written.
    pub outputs: Vec<TensorId>,
    /// The dtype its arithmetic runs in.
    pub compute: DType,
    /// The repeated block (transformer layer, CNN stage) it belongs to, if any.
    pub layer: Option<u32>,
}

/// Bytes one op moves for one tensor.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Access {
    /// The tensor.
    pub tensor: TensorId,
    /// Bytes read or written.
    pub bytes: f64,
    /// True for a write.
    pub write: bool,
}

impl Op {
    /// The bytes this op reads and writes, per tensor.
    ///
    /// Every input is read once in full and every output written once in full (the compulsory
    /// traffic of the op), except where the op touches only part of a tensor: an embedding
    /// gather reads `tokens` rows of its table, a KV append writes only the new rows, and MoE
    /// experts read only the weights of the experts that tokens are routed to, and a slice reads
    /// only the window it copies.
    pub fn for_each_access(&self, g: &Graph, mut f: impl FnMut(Access)) {
        let full = |id: TensorId| g.tensor(id).bytes();
        match self.kind {
            OpKind::Embedding { tokens, dim } => {
                let table = g.tensor(self.inputs[1]);
                f(Access {
                    tensor: self.inputs[0],
                    bytes: full(self.inputs[0]),
                    write: false,
                });
                f(Access {
                    tensor: self.inputs[1],
                    bytes: table.storage.bytes_rows(tokens, dim),
                    write: false,
                });
            }
            OpKind::DataMove {
                kind: MoveKind::Slice,
                elems,
            } => {
                let src = g.tensor(self.inputs[0]);
                f(Access {
                    tensor: self.inputs[0],
                    bytes: src.storage.bytes_rows(1, elems),
                    write: false,
                });
            }
            OpKind::SelectRows { rows, cols } => {
                let src = g.tensor(self.inputs[0]);
                f(Access {
                    tensor: self.inputs[0],
                    bytes: src.storage.bytes_rows(rows, cols),
                    write: false,
                });
            }
            OpKind::KvAppend {
                tokens,
                kv_heads,
                head_dim,
            } => {
                for &i in &self.inputs {
                    f(Access {
                        tensor: i,
                        bytes: full(i),
                        write: false,
                    });
                }
                for &o in &self.outputs {
                    let cache = g.tensor(o);
                    f(Access {
                        tensor: o,
                        bytes: cache.storage.bytes_rows(tokens * kv_heads, head_dim),
                        write: true,
                    });
                }
                return;
            }
            OpKind::MoeExperts {
                tokens,
                experts,
                top_k,
                ..
            } => {
                let frac = OpKind::experts_touched(tokens, experts, top_k) / experts as f64;
                for (pos, &i) in self.inputs.iter().enumerate() {
                    let w = g.tensor(i).role == Role::Weight;
                    let b = full(i) * if w && pos > 0 { frac } else { 1.0 };
                    f(Access {
                        tensor: i,
                        bytes: b,
                        write: false,
                    });
                }
            }
            _ => {
                for &i in &self.inputs {
                    f(Access {
                        tensor: i,
                        bytes: full(i),
                        write: false,
                    });
                }
            }
        }
        for &o in &self.outputs {
            f(Access {
                tensor: o,
                bytes: full(o),
                write: true,
            });
        }
    }

    /// Total bytes read and written.
    pub fn bytes(&self, g: &Graph) -> (f64, f64) {
        let (mut r, mut w) = (0.0, 0.0);
        self.for_each_access(g, |a| if a.write { w += a.bytes } else { r += a.bytes });
        (r, w)
    }
}

/// Errors found while assembling a graph (these are builder bugs or malformed imports).
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum GraphError {
    /// An op refers to a tensor id that does not exist.
    #[error("op `{op}` refers to tensor #{id}, but the graph has {count} tensors")]
    UnknownTensor {
        /// Op name.
        op: String,
        /// The bad id.
        id: u32,
        /// Tensors in the graph.
        count: usize,
    },
    /// An activation or output is read before any op produced it.
    #[error("op `{op}` reads `{tensor}` before any op produced it")]
    ReadBeforeWrite {
        /// Op name.
        op: String,
        /// Tensor name.
        tensor: String,
    },
    /// Two ops produce the same activation.
    #[error("tensor `{tensor}` is produced by both `{first}` and `{second}`")]
    TwoProducers {
        /// Tensor name.
        tensor: String,
        /// First producer.
        first: String,
        /// Second producer.
        second: String,
    },
}

/// A workload: tensors and ops, ops stored in a valid execution order.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Graph {
    /// Name of the workload, e.g. `llama-1b decode b1 L1024 fp16`.
    pub name: String,
    /// All tensors.
    pub tensors: Vec<Tensor>,
    /// All ops, in execution order.
    pub ops: Vec<Op>,
}

impl Graph {
    /// An empty graph.
    pub fn new(name: impl Into<String>) -> Self {
        Graph {
            name: name.into(),
            ..Default::default()
        }
    }

    /// Adds a tensor and returns its id.
    pub fn add_tensor(
        &mut self,
        name: impl Into<String>,
        shape: &[u64],
        storage: Storage,
        role: Role,
    ) -> TensorId {
        self.tensors.push(Tensor {
            name: name.into(),
            shape: shape.to_vec(),
            storage,
            role,
        });
        TensorId(self.tensors.len() as u32 - 1)
    }

    /// Appends an op and returns its id.
    pub fn add_op(
        &mut self,
        name: impl Into<String>,
        kind: OpKind,
        inputs: &[TensorId],
        outputs: &[TensorId],
        compute: DType,
        layer: Option<u32>,
    ) -> OpId {
        self.ops.push(Op {
            name: name.into(),
            kind,
            inputs: inputs.to_vec(),
            outputs: outputs.to_vec(),
            compute,
            layer,
        });
        OpId(self.ops.len() as u32 - 1)
    }

    /// The tensor with this id.
    pub fn tensor(&self, id: TensorId) -> &Tensor {
        &self.tensors[id.0 as usize]
    }

    /// The op with this id.
    pub fn op(&self, id: OpId) -> &Op {
        &self.ops[id.0 as usize]
    }

    /// Checks ids, single producers, and that ops are in a valid order.
    pub fn validate(&self) -> Result<(), GraphError> {
        let mut producer: Vec<Option<usize>> = vec![None; self.tensors.len()];
        for (oi, op) in self.ops.iter().enumerate() {
            for &t in op.inputs.iter().chain(&op.outputs) {
                if t.0 as usize >= self.tensors.len() {
                    return Err(GraphError::UnknownTensor {
                        op: op.name.clone(),
                        id: t.0,
                        count: self.tensors.len(),
                    });
                }
            }
            for &t in &op.inputs {
                let tensor = self.tensor(t);
                let external = matches!(tensor.role, Role::Weight | Role::Input | Role::KvCache);
                if !external && producer[t.0 as usize].is_none() {
                    return Err(GraphError::ReadBeforeWrite {
                        op: op.name.clone(),
                        tensor: tensor.name.clone(),
                    });
                }
            }
            for &t in &op.outputs {
                if self.tensor(t).role == Role::KvCache {
                    continue; // caches are updated in place, by one append per step
                }
                if let Some(p) = producer[t.0 as usize] {
                    return Err(GraphError::TwoProducers {
                        tensor: self.tensor(t).name.clone(),
                        first: self.ops[p].name.clone(),
                        second: op.name.clone(),
                    });
                }
                producer[t.0 as usize] = Some(oi);
            }
        }
        Ok(())
    }

    /// Total FLOPs.
    pub fn flops(&self) -> f64 {
        self.ops.iter().map(|o| o.kind.flops()).sum()
    }

    /// Total MACs.
    pub fn macs(&self) -> f64 {
        self.ops.iter().map(|o| o.kind.macs()).sum()
    }

    /// Elements in all weight tensors (the parameter count).
    pub fn param_count(&self) -> u64 {
        self.tensors
            .iter()
            .filter(|t| t.role == Role::Weight)
            .map(Tensor::numel)
            .sum()
    }

    /// Bytes of all weight tensors.
    pub fn weight_bytes(&self) -> f64 {
        self.role_bytes(Role::Weight)
    }

    /// Bytes of all KV-cache tensors.
    pub fn kv_cache_bytes(&self) -> f64 {
        self.role_bytes(Role::KvCache)
    }

    fn role_bytes(&self, role: Role) -> f64 {
        self.tensors
            .iter()
            .filter(|t| t.role == role)
            .map(Tensor::bytes)
            .sum()
    }

    /// Peak bytes of activations alive at once, executing ops in graph order: a tensor is alive
    /// from its producer through its last consumer (graph inputs and outputs included).
    pub fn peak_activation_bytes(&self) -> f64 {
        let n = self.ops.len();
        let mut first = vec![usize::MAX; self.tensors.len()];
        let mut last = vec![0usize; self.tensors.len()];
        for (i, op) in self.ops.iter().enumerate() {
            for &t in op.inputs.iter().chain(&op.outputs) {
                let t = t.0 as usize;
                first[t] = first[t].min(i);
                last[t] = last[t].max(i);
            }
        }
        let mut delta = vec![0.0f64; n + 1];
        for (t, tensor) in self.tensors.iter().enumerate() {
            if tensor.role.is_persistent() || first[t] == usize::MAX {
                continue;
            }
            let b = tensor.bytes();
            delta[first[t]] += b;
            delta[last[t] + 1] -= b;
        }
        let (mut live, mut peak) = (0.0f64, 0.0f64);
        for d in &delta[..n] {
            live += d;
            peak = peak.max(live);
        }
        peak
    }

    /// Groups ops that are identical for costing (same kind, compute dtype and tensor shapes,
    /// storages and roles), returning one representative and the multiplicity of each group,
    /// in order of first appearance. A transformer's repeated layers collapse to one group each.
    /// This looks at the graph alone; for exact totals under a placement use
    /// [`crate::cost::PlacementProfile::classes`], which also separates ops whose tensors
    /// live in different memory levels.
    pub fn op_classes(&self) -> Vec<(OpId, u32)> {
        self.op_classes_with(|_| (), |_| ())
    }

    /// [`Self::op_classes`] refined: ops are grouped only when `tensor_extra` agrees on each of
    /// their tensors (in order) and `op_extra` on the op index too.
    pub fn op_classes_with<T: std::hash::Hash + Eq, O: std::hash::Hash + Eq>(
        &self,
        tensor_extra: impl Fn(TensorId) -> T,
        op_extra: impl Fn(usize) -> O,
    ) -> Vec<(OpId, u32)> {
        #[derive(Hash, PartialEq, Eq)]
        struct Key<'a, T, O> {
            kind: OpKind,
            compute: DType,
            tensors: Vec<(&'a [u64], Storage, Role, bool, T)>,
            extra: O,
        }
        let mut index: HashMap<Key<T, O>, usize> = HashMap::new();
        let mut classes: Vec<(OpId, u32)> = Vec::new();
        for (i, op) in self.ops.iter().enumerate() {
            let tensors = op
                .inputs
                .iter()
                .map(|&t| (t, false))
                .chain(op.outputs.iter().map(|&t| (t, true)))
                .map(|(t, w)| {
                    let x = self.tensor(t);
                    (x.shape.as_slice(), x.storage, x.role, w, tensor_extra(t))
                })
                .collect();
            let key = Key {
                kind: op.kind,
                compute: op.compute,
                tensors,
                extra: op_extra(i),
            };
            match index.get(&key) {
                Some(&c) => classes[c].1 += 1,
                None => {
                    index.insert(key, classes.len());
                    classes.push((OpId(i as u32), 1));
                }
            }
        }
        classes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(q_len: u64, kv_len: u64, causal: bool, window: Option<u64>) -> AttnShape {
        AttnShape {
            batch: 1,
            q_heads: 1,
            kv_heads: 1,
            q_len,
            kv_len,
            head_dim: 1,
            causal,
            window,
        }
    }

    #[test]
    fn causal_pairs_by_hand() {
        // prefill of 4 tokens: 1+2+3+4 = 10 pairs
        assert_eq!(shape(4, 4, true, None).pairs(), 10.0);
        // decode at context 1024: one query sees all 1024 keys
        assert_eq!(shape(1, 1024, true, None).pairs(), 1024.0);
        // 2 new tokens after 3 cached: 4 + 5
        assert_eq!(shape(2, 5, true, None).pairs(), 9.0);
        // window 3 over a 5-token prefill: 1,2,3,3,3
        assert_eq!(shape(5, 5, true, Some(3)).pairs(), 12.0);
        // non-causal 4x4
        assert_eq!(shape(4, 4, false, None).pairs(), 16.0);
    }

    #[test]
    fn conv_output_shape_and_macs() {
        // ResNet stem: 224x224x3 → 7x7/2 pad 3 → 112x112x64; MACs = 112*112*64*3*49 = 118,013,952
        let c = Conv2d::square(3, 224, 224, 64, 7, 2, 3);
        assert_eq!((c.out_h(), c.out_w()), (112, 112));
        assert_eq!(c.macs(), 118_013_952.0);
    }

    #[test]
    fn experts_touched_limits() {
        // one token touches exactly top_k experts
        assert!((OpKind::experts_touched(1, 8, 2) - 2.0).abs() < 1e-12);
        // many tokens touch nearly all
        assert!(OpKind::experts_touched(4096, 8, 2) > 7.999);
    }

    #[test]
    fn validate_catches_read_before_write() {
        let mut g = Graph::new("bad");
        let a = g.add_tensor("a", &[4], Storage::plain(DType::F16), Role::Activation);
        let b = g.add_tensor("b", &[4], Storage::plain(DType::F16), Role::Activation);
        g.add_op(
            "relu",
            OpKind::Elementwise {
                op: EltOp::Relu,
                elems: 4,
            },
            &[a],
            &[b],
            DType::F16,
            None,
        );
        assert!(matches!(
            g.validate(),
            Err(GraphError::ReadBeforeWrite { .. })
        ));
    }
}
