//! The network-building toolkit shared by the vision and encoder builders: convolutions with
//! batch norm folded or kept, activations, pools, squeeze-excitation, concatenation, crops,
//! up-sampling and linear layers, each adding real ops and tensors to a [`Graph`].
//!
//! Conventions (they decide parameter counts and bytes, so they are stated once here):
//! * activations are NCHW (`[N, C, H, W]`) or token matrices (`[N·T, D]`), stored in the
//!   scheme's activation dtype;
//! * convolution weights are stored as the im2col matrix `[C_out, C_in/groups · kh · kw]`, one row
//!   per output channel, so per-channel quantization scales count once per output channel;
//!   linear weights are `[out, in]`; both use the scheme's weight storage and compute in its
//!   linear dtype;
//! * biases, batch-norm and layer-norm parameters, class tokens and position embeddings stay in
//!   the scheme's float dtype, and everything that is not a convolution or a linear layer
//!   computes in it;
//! * batch norm is, by default, folded into the convolution before it (inference): the
//!   convolution gains a bias of `C_out` and no norm op runs. With [`BnMode::Separate`] it is an
//!   explicit per-channel scale-and-shift op whose `[2, C]` parameters are the γ and β that
//!   PyTorch counts as parameters (running statistics are buffers, folded into them);
//! * dropout is the identity at inference and adds no op; flattening a `[N, C, 1, 1]` map into a
//!   `[N, C]` matrix is a view and adds no op.

use crate::workload::dtype::Storage;
use crate::workload::graph::{
    Conv2d, EltOp, Graph, MoveKind, NormKind, OpKind, PoolKind, Role, TensorId,
};
use crate::workload::quant::QuantScheme;
use serde::Serialize;

/// How batch normalization appears in the graph.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BnMode {
    /// Folded into the preceding convolution's weights and bias (what inference runtimes do).
    Folded,
    /// An explicit scale-and-shift op after each convolution (PyTorch's module structure).
    Separate,
}

/// A feature map: tensor and its channels, height and width (the batch is the net's).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Feat {
    /// The tensor.
    pub t: TensorId,
    /// Channels.
    pub c: u64,
    /// Height.
    pub h: u64,
    /// Width.
    pub w: u64,
}

/// One convolution's hyper-parameters, "same" padding `(k − 1)/2` unless set.
#[derive(Clone, Copy, Debug)]
pub struct ConvSpec {
    c_out: u64,
    k: (u64, u64),
    stride: u64,
    pad: (u64, u64),
    groups: u64,
    bias: bool,
    bn: bool,
    act: Option<EltOp>,
}

impl ConvSpec {
    /// A `k × k` convolution to `c_out` channels, stride 1, same padding, followed by batch norm,
    /// no bias, no activation.
    pub fn new(c_out: u64, k: u64) -> Self {
        Self::rect(c_out, k, k)
    }
    /// A `kh × kw` convolution (Inception's 1×7 and 7×1), same padding.
    pub fn rect(c_out: u64, kh: u64, kw: u64) -> Self {
        ConvSpec {
            c_out,
            k: (kh, kw),
            stride: 1,
            pad: ((kh - 1) / 2, (kw - 1) / 2),
            groups: 1,
            bias: false,
            bn: true,
            act: None,
        }
    }
    /// Stride in both directions.
    pub fn s(mut self, stride: u64) -> Self {
        self.stride = stride;
        self
    }
    /// Explicit zero padding (height, width).
    pub fn pad(mut self, ph: u64, pw: u64) -> Self {
        self.pad = (ph, pw);
        self
    }
    /// Groups (`groups == c_in` is depthwise).
    pub fn g(mut self, groups: u64) -> Self {
        self.groups = groups;
        self
    }
    /// Followed by an activation.
    pub fn act(mut self, op: EltOp) -> Self {
        self.act = Some(op);
        self
    }
    /// Same, when the activation is optional.
    pub fn maybe_act(mut self, op: Option<EltOp>) -> Self {
        self.act = op;
        self
    }
    /// A plain convolution with a bias and no batch norm.
    pub fn plain(mut self) -> Self {
        self.bias = true;
        self.bn = false;
        self
    }
}

/// Why a network cannot be built at the requested size.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("layer `{layer}`: {message}")]
pub struct ShapeError {
    /// Op name.
    pub layer: String,
    /// What went wrong.
    pub message: String,
}

/// Result of a building step.
pub type NetResult<T> = Result<T, ShapeError>;

/// A graph under construction at batch `n` under quantization scheme `q`.
pub struct Net<'a> {
    /// The graph built so far.
    pub g: Graph,
    /// Quantization scheme.
    pub q: &'a QuantScheme,
    /// Batch.
    pub n: u64,
    /// Batch-norm handling.
    pub bn: BnMode,
    /// Block index given to the ops added next.
    pub layer: Option<u32>,
}

fn out_len(name: &str, len: u64, k: u64, s: u64, p: u64, d: u64, ceil: bool) -> NetResult<u64> {
    let span = d * (k - 1) + 1;
    let padded = len + 2 * p;
    if padded < span || s == 0 {
        return Err(ShapeError {
            layer: name.to_string(),
            message: format!(
                "input of size {len} (padding {p}) is smaller than the window {span}; the input resolution is too small"
            ),
        });
    }
    let q = padded - span;
    let mut o = if ceil { q.div_ceil(s) } else { q / s } + 1;
    // PyTorch's ceil mode: the last window must start inside the input or left padding.
    if ceil && (o - 1) * s >= len + p {
        o -= 1;
    }
    Ok(o)
}

impl<'a> Net<'a> {
    /// An empty network.
    pub fn new(name: impl Into<String>, q: &'a QuantScheme, n: u64, bn: BnMode) -> Self {
        Net {
            g: Graph::new(name),
            q,
            n,
            bn,
            layer: None,
        }
    }

    fn act_storage(&self) -> Storage {
        Storage::plain(self.q.acts)
    }

    /// A new activation tensor.
    pub fn tensor(&mut self, name: String, shape: &[u64]) -> TensorId {
        let s = self.act_storage();
        self.g.add_tensor(name, shape, s, Role::Activation)
    }

    /// A weight in the scheme's float dtype (biases, norms, tokens, position embeddings).
    pub fn float_weight(&mut self, name: String, shape: &[u64]) -> TensorId {
        let s = Storage::plain(self.q.float);
        self.g.add_tensor(name, shape, s, Role::Weight)
    }

    /// The image input `[N, c, h, w]`.
    pub fn image(&mut self, c: u64, h: u64, w: u64) -> Feat {
        let s = self.act_storage();
        let t = self
            .g
            .add_tensor("image", &[self.n, c, h, w], s, Role::Input);
        Feat { t, c, h, w }
    }

    /// Elements of a feature map over the batch.
    pub fn elems(&self, x: Feat) -> u64 {
        self.n * x.c * x.h * x.w
    }

    fn feat(&mut self, name: &str, c: u64, h: u64, w: u64) -> Feat {
        let t = self.tensor(format!("{name}.out"), &[self.n, c, h, w]);
        Feat { t, c, h, w }
    }

    fn push(
        &mut self,
        name: &str,
        kind: OpKind,
        ins: &[TensorId],
        outs: &[TensorId],
        linear: bool,
    ) {
        let compute = if linear {
            self.q.linear_compute
        } else {
            self.q.float
        };
        self.g.add_op(name, kind, ins, outs, compute, self.layer);
    }

    /// Convolution, then batch norm (folded or separate) when the spec has one, then the
    /// activation if any. Returns the last feature map.
    pub fn conv(&mut self, name: &str, x: Feat, s: ConvSpec) -> NetResult<Feat> {
        if s.groups == 0 || x.c % s.groups != 0 || s.c_out % s.groups != 0 {
            return Err(ShapeError {
                layer: name.into(),
                message: format!(
                    "{} groups do not divide {} input and {} output channels",
                    s.groups, x.c, s.c_out
                ),
            });
        }
        let c = Conv2d {
            n: self.n,
            c_in: x.c,
            h: x.h,
            w: x.w,
            c_out: s.c_out,
            kh: s.k.0,
            kw: s.k.1,
            stride: (s.stride, s.stride),
            pad: s.pad,
            dilation: (1, 1),
            groups: s.groups,
        };
        let ho = out_len(name, x.h, s.k.0, s.stride, s.pad.0, 1, false)?;
        let wo = out_len(name, x.w, s.k.1, s.stride, s.pad.1, 1, false)?;
        let w = self.g.add_tensor(
            format!("{name}.weight"),
            &[s.c_out, x.c / s.groups * s.k.0 * s.k.1],
            self.q.weights,
            Role::Weight,
        );
        let mut ins = vec![x.t, w];
        let folded = s.bn && self.bn == BnMode::Folded;
        if s.bias || folded {
            ins.push(self.float_weight(format!("{name}.bias"), &[s.c_out]));
        }
        let mut y = self.feat(name, s.c_out, ho, wo);
        self.push(name, OpKind::Conv2d(c), &ins, &[y.t], true);
        if s.bn && self.bn == BnMode::Separate {
            y = self.batch_norm(&format!("{name}.bn"), y);
        }
        if let Some(op) = s.act {
            y = self.act(&format!("{name}.act"), y, op);
        }
        Ok(y)
    }

    /// An explicit inference batch norm: y = x·scale + shift per channel.
    pub fn batch_norm(&mut self, name: &str, x: Feat) -> Feat {
        let p = self.float_weight(format!("{name}.weight"), &[2, x.c]);
        let y = self.feat(name, x.c, x.h, x.w);
        self.push(
            name,
            OpKind::Norm {
                kind: NormKind::BatchNorm,
                rows: self.n * x.c,
                cols: x.h * x.w,
            },
            &[x.t, p],
            &[y.t],
            false,
        );
        y
    }

    /// A 2×2-style transposed convolution with bias and no norm (U-Net's up-convolution).
    pub fn conv_transpose(
        &mut self,
        name: &str,
        x: Feat,
        c_out: u64,
        k: u64,
        stride: u64,
    ) -> NetResult<Feat> {
        let c = Conv2d {
            n: self.n,
            c_in: x.c,
            h: x.h,
            w: x.w,
            c_out,
            kh: k,
            kw: k,
            stride: (stride, stride),
            pad: (0, 0),
            dilation: (1, 1),
            groups: 1,
        };
        let (ho, wo) = match (c.transposed_out_h(), c.transposed_out_w()) {
            (Some(h), Some(w)) => (h, w),
            _ => {
                return Err(ShapeError {
                    layer: name.into(),
                    message: "empty output".into(),
                });
            }
        };
        // PyTorch stores transposed weights [C_in, C_out, k, k]; one row per output channel here.
        let w = self.g.add_tensor(
            format!("{name}.weight"),
            &[c_out, x.c * k * k],
            self.q.weights,
            Role::Weight,
        );
        let b = self.float_weight(format!("{name}.bias"), &[c_out]);
        let y = self.feat(name, c_out, ho, wo);
        self.push(name, OpKind::ConvTranspose2d(c), &[x.t, w, b], &[y.t], true);
        Ok(y)
    }

    /// An elementwise activation over a feature map.
    pub fn act(&mut self, name: &str, x: Feat, op: EltOp) -> Feat {
        let y = self.feat(name, x.c, x.h, x.w);
        let elems = self.elems(x);
        self.push(
            name,
            OpKind::Elementwise { op, elems },
            &[x.t],
            &[y.t],
            false,
        );
        y
    }

    /// `a + b` (a residual add).
    pub fn add(&mut self, name: &str, a: Feat, b: Feat) -> Feat {
        debug_assert_eq!((a.c, a.h, a.w), (b.c, b.h, b.w));
        let y = self.feat(name, a.c, a.h, a.w);
        let elems = self.elems(a);
        self.push(
            name,
            OpKind::Elementwise {
                op: EltOp::Add,
                elems,
            },
            &[a.t, b.t],
            &[y.t],
            false,
        );
        y
    }

    /// Window pooling with PyTorch's output-size rule (`ceil` for `ceil_mode=True`); average
    /// pools count padded zeros in the window (`count_include_pad=True`).
    #[allow(clippy::too_many_arguments)]
    pub fn pool(
        &mut self,
        name: &str,
        x: Feat,
        kind: PoolKind,
        k: u64,
        s: u64,
        p: u64,
        ceil: bool,
    ) -> NetResult<Feat> {
        let ho = out_len(name, x.h, k, s, p, 1, ceil)?;
        let wo = out_len(name, x.w, k, s, p, 1, ceil)?;
        Ok(self.pool_to(name, x, kind, k * k, ho, wo))
    }

    /// A pool of `window` elements per output producing an `ho × wo` map (for pools whose
    /// padding follows another framework's rule, e.g. darknet's stride-1 max pool).
    pub fn pool_to(
        &mut self,
        name: &str,
        x: Feat,
        kind: PoolKind,
        window: u64,
        ho: u64,
        wo: u64,
    ) -> Feat {
        let y = self.feat(name, x.c, ho, wo);
        let out_elems = self.n * x.c * ho * wo;
        self.push(
            name,
            OpKind::Pool {
                kind,
                out_elems,
                window,
            },
            &[x.t],
            &[y.t],
            false,
        );
        y
    }

    /// Global average pool to `[N, C, 1, 1]`.
    pub fn global_avg(&mut self, name: &str, x: Feat) -> Feat {
        self.pool_to(name, x, PoolKind::Avg, x.h * x.w, 1, 1)
    }

    /// The usual classifier head: global average pooling (`avgpool`) and one linear layer with
    /// bias, `fc`, to `classes` logits; returns the logits.
    pub fn avgpool_linear(&mut self, fc: &str, x: Feat, classes: u64) -> TensorId {
        let p = self.global_avg("avgpool", x);
        self.linear(fc, p.t, self.n, p.c, classes, true)
    }

    /// Squeeze-and-excitation: global average pool, 1×1 conv to `squeeze` channels with bias,
    /// `inner` activation, 1×1 conv back with bias, `gate` activation, channel-wise multiply.
    pub fn squeeze_excite(
        &mut self,
        name: &str,
        x: Feat,
        squeeze: u64,
        inner: EltOp,
        gate: EltOp,
    ) -> NetResult<Feat> {
        let s = self.global_avg(&format!("{name}.avgpool"), x);
        let s = self.conv(
            &format!("{name}.fc1"),
            s,
            ConvSpec::new(squeeze, 1).plain().act(inner),
        )?;
        let s = self.conv(
            &format!("{name}.fc2"),
            s,
            ConvSpec::new(x.c, 1).plain().act(gate),
        )?;
        let y = self.feat(&format!("{name}.scale"), x.c, x.h, x.w);
        let elems = self.elems(x);
        self.push(
            &format!("{name}.scale"),
            OpKind::Elementwise {
                op: EltOp::Mul,
                elems,
            },
            &[x.t, s.t],
            &[y.t],
            false,
        );
        Ok(y)
    }

    /// Concatenation along channels; all inputs share height and width.
    pub fn concat(&mut self, name: &str, xs: &[Feat]) -> NetResult<Feat> {
        let (h, w) = (xs[0].h, xs[0].w);
        if let Some(bad) = xs.iter().find(|x| (x.h, x.w) != (h, w)) {
            return Err(ShapeError {
                layer: name.into(),
                message: format!(
                    "cannot concatenate {}×{} with {}×{} maps",
                    h, w, bad.h, bad.w
                ),
            });
        }
        let c = xs.iter().map(|x| x.c).sum();
        let y = self.feat(name, c, h, w);
        let ins: Vec<TensorId> = xs.iter().map(|x| x.t).collect();
        let elems = self.n * c * h * w;
        self.push(
            name,
            OpKind::DataMove {
                kind: MoveKind::Concat,
                elems,
            },
            &ins,
            &[y.t],
            false,
        );
        Ok(y)
    }

    /// Centre crop to `h × w` (U-Net's skip connections).
    pub fn crop(&mut self, name: &str, x: Feat, h: u64, w: u64) -> Feat {
        let y = self.feat(name, x.c, h, w);
        let elems = self.n * x.c * h * w;
        self.push(
            name,
            OpKind::DataMove {
                kind: MoveKind::Slice,
                elems,
            },
            &[x.t],
            &[y.t],
            false,
        );
        y
    }

    /// Nearest-neighbour up-sampling by an integer factor.
    pub fn upsample(&mut self, name: &str, x: Feat, factor: u64) -> Feat {
        let y = self.feat(name, x.c, x.h * factor, x.w * factor);
        let elems = self.elems(y);
        self.push(
            name,
            OpKind::DataMove {
                kind: MoveKind::UpsampleNearest,
                elems,
            },
            &[x.t],
            &[y.t],
            false,
        );
        y
    }

    /// Linear layer `y[rows, out] = x[rows, inp] · Wᵀ (+ b)`.
    pub fn linear(
        &mut self,
        name: &str,
        x: TensorId,
        rows: u64,
        inp: u64,
        out: u64,
        bias: bool,
    ) -> TensorId {
        let w = self.g.add_tensor(
            format!("{name}.weight"),
            &[out, inp],
            self.q.weights,
            Role::Weight,
        );
        let mut ins = vec![x, w];
        if bias {
            ins.push(self.float_weight(format!("{name}.bias"), &[out]));
        }
        let y = self.tensor(format!("{name}.out"), &[rows, out]);
        self.push(
            name,
            OpKind::MatMul {
                batch: 1,
                m: rows,
                n: out,
                k: inp,
            },
            &ins,
            &[y],
            true,
        );
        y
    }

    /// An elementwise op over a `shape`d activation.
    pub fn eltwise(&mut self, name: &str, op: EltOp, ins: &[TensorId], shape: &[u64]) -> TensorId {
        let y = self.tensor(format!("{name}.out"), shape);
        let elems = shape.iter().product();
        self.push(name, OpKind::Elementwise { op, elems }, ins, &[y], false);
        y
    }

    /// LayerNorm over `rows` rows of `cols`, with γ and β.
    pub fn layer_norm(&mut self, name: &str, x: TensorId, rows: u64, cols: u64) -> TensorId {
        let p = self.float_weight(format!("{name}.weight"), &[2, cols]);
        let y = self.tensor(format!("{name}.out"), &[rows, cols]);
        self.push(
            name,
            OpKind::Norm {
                kind: NormKind::LayerNorm,
                rows,
                cols,
            },
            &[x, p],
            &[y],
            false,
        );
        y
    }

    /// The classifier head: global average pool, flatten (a view), linear to `classes`.
    pub fn classifier(&mut self, x: Feat, classes: u64) -> TensorId {
        self.avgpool_linear("fc", x, classes)
    }

    /// Marks `outputs` as the graph's outputs, checks the graph and returns it.
    pub fn finish(mut self, outputs: &[TensorId]) -> Graph {
        for &o in outputs {
            self.g.tensors[o.0 as usize].role = Role::Output;
        }
        debug_assert_eq!(self.g.validate(), Ok(()));
        self.g
    }
}

/// torchvision's and the TF reference's `_make_divisible`: round `v` to the nearest multiple of
/// `divisor` (at least `divisor`), but never more than 10 % below `v`.
pub fn make_divisible(v: f64, divisor: u64) -> u64 {
    let d = divisor as f64;
    let mut new_v = ((v + d / 2.0) / d).floor() * d;
    new_v = new_v.max(d);
    if new_v < 0.9 * v {
        new_v += d;
    }
    new_v as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn make_divisible_matches_torchvision() {
        // By hand with torchvision's rule new = max(8, int(v + 4) // 8 · 8), plus 8 if new < 0.9·v:
        // 24 → 24; 12 → 16; 18 → 16 < 16.2 → 24; 72 → 72; 448 → 448; 1792 → 1792; 56 → 56;
        // 8.4 → 8 (≥ 7.56); 11 → 8 < 9.9 → 16.
        assert_eq!(make_divisible(24.0, 8), 24);
        assert_eq!(make_divisible(12.0, 8), 16);
        assert_eq!(make_divisible(18.0, 8), 24);
        assert_eq!(make_divisible(72.0, 8), 72);
        assert_eq!(make_divisible(448.0, 8), 448);
        assert_eq!(make_divisible(1792.0, 8), 1792);
        assert_eq!(make_divisible(56.0, 8), 56);
        assert_eq!(make_divisible(8.4, 8), 8);
        assert_eq!(make_divisible(11.0, 8), 16);
    }

    #[test]
    fn pool_ceil_mode_follows_pytorch() {
        // SqueezeNet 1.1: 111 → max pool 3/2 ceil → 55; 55 → 27; 27 → 13.
        assert_eq!(out_len("p", 111, 3, 2, 0, 1, true).unwrap(), 55);
        assert_eq!(out_len("p", 55, 3, 2, 0, 1, true).unwrap(), 27);
        assert_eq!(out_len("p", 27, 3, 2, 0, 1, true).unwrap(), 13);
        // floor mode, ResNet stem pool: 112 pad 1 → 56.
        assert_eq!(out_len("p", 112, 3, 2, 1, 1, false).unwrap(), 56);
        // ceil mode where the last window would start in the padding: 4, k 2, s 2, p 1 → 3.
        assert_eq!(out_len("p", 4, 2, 2, 1, 1, true).unwrap(), 3);
        assert!(out_len("p", 2, 3, 1, 0, 1, false).is_err());
    }
}
