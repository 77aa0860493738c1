//! A concrete CNN of the OFA families as a chain of segments, and its lowering to a [`Graph`].
//!
//! A [`Net`] is a sequence of [`Segment`]s, each taking one activation tensor and producing one:
//! a convolution (stems, final expand, the ResNet stem's residual conv), an MBConv block, a
//! ResNet bottleneck, a max pool, and the classifier head. Because only one tensor crosses a
//! segment boundary, a segment's ops can be priced on their own and cached (see
//! [`super::efficiency`]).
//!
//! Lowering follows OFA's modules (`ofa/utils/layers.py`, `ofa/imagenet_classification/networks`):
//! * convolutions use "same" padding `k/2`, so `H_out = (H − 1)/s + 1`;
//! * BatchNorm is folded into the preceding convolution, as inference runtimes (TF-Lite,
//!   XNNPACK, TensorRT) do, and adds no op and no tensor (its per-channel bias is < 0.1 % of the
//!   weight bytes and is left out, matching OFA's "conv + FC, no BN" parameter count);
//! * an MBConv block is expand 1×1 (absent when the expand ratio is 1) → act → depthwise k×k/s →
//!   act → [SE: global average pool → 1×1 (bias) → ReLU → 1×1 (bias) → h-sigmoid → scale] →
//!   project 1×1 → [identity add when stride 1 and c_in = c_out];
//! * a bottleneck is 1×1 → ReLU → 3×3/s → ReLU → 1×1, with an identity shortcut, or for the first
//!   block of a stage `AvgPool(s, ceil)` (omitted at s = 1, where it is the identity) then 1×1;
//!   then add and ReLU;
//! * the head is global average pool, an optional 1×1 feature-mix conv with activation (MBv3:
//!   no BN, no bias), and a Linear classifier with bias.
//!
//! [`Segment::ofa_macs`] counts what OFA's `count_flops_given_config` / `profile` count: conv and
//! FC multiply-accumulates only. The graph additionally carries activations, SE scaling, residual
//! adds and pooling as elementwise and pool ops, so memory-bound devices see them.

use crate::workload::{
    Conv2d, DType, EltOp, Graph, OpKind, PoolKind, QuantScheme, Role, Storage, TensorId,
};
use serde::{Deserialize, Serialize};

/// `make_divisible(v, divisor)` of TF-slim and OFA: round to the nearest multiple of `divisor`
/// (at least `divisor`), and go one step up if that lost more than 10 % of `v`.
pub fn make_divisible(v: f64, divisor: u32) -> u32 {
    let d = divisor as f64;
    let mut new = (((v + d / 2.0).floor() as i64 / divisor as i64) * divisor as i64) as f64;
    new = new.max(d);
    if new < 0.9 * v {
        new += d;
    }
    new as u32
}

/// Python's `round`: to the nearest integer, ties to even.
pub fn py_round(x: f64) -> i64 {
    let f = x.floor();
    let diff = x - f;
    let up = diff > 0.5 || (diff == 0.5 && (f as i64) % 2 != 0);
    (if up { f + 1.0 } else { f }) as i64
}

/// OFA's channel divisor (`MyNetwork.CHANNEL_DIVISIBLE`).
pub const CHANNEL_DIVISIBLE: u32 = 8;

/// The SE reduction of OFA's `SEModule`: `se_mid = make_divisible(mid / 4, 8)`.
pub const SE_REDUCTION: u32 = 4;

/// ImageNet classes, the head of every OFA network.
pub const IMAGENET_CLASSES: u32 = 1000;

/// Activation after a convolution.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Act {
    /// No activation.
    None,
    /// ReLU.
    Relu,
    /// ReLU6.
    Relu6,
    /// h-swish, x·relu6(x+3)/6.
    HSwish,
}

impl Act {
    /// Parses OFA's `act_func` names (`relu`, `relu6`, `h_swish`, null).
    pub fn parse(s: Option<&str>) -> Option<Act> {
        Some(match s {
            None | Some("none") => Act::None,
            Some("relu") => Act::Relu,
            Some("relu6") => Act::Relu6,
            Some("h_swish") => Act::HSwish,
            Some(_) => return None,
        })
    }

    /// The elementwise op, if any.
    pub fn elt(self) -> Option<EltOp> {
        match self {
            Act::None => None,
            Act::Relu => Some(EltOp::Relu),
            Act::Relu6 => Some(EltOp::Relu6),
            Act::HSwish => Some(EltOp::HardSwish),
        }
    }

    /// OFA's name.
    pub fn name(self) -> &'static str {
        match self {
            Act::None => "none",
            Act::Relu => "relu",
            Act::Relu6 => "relu6",
            Act::HSwish => "h_swish",
        }
    }
}

/// A k×k convolution with folded BN and an activation; optionally `act(conv(x)) + x`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ConvSeg {
    /// Input height = width.
    pub h: u32,
    /// Input channels.
    pub c_in: u32,
    /// Output channels.
    pub c_out: u32,
    /// Kernel size.
    pub k: u8,
    /// Stride.
    pub stride: u8,
    /// Activation.
    pub act: Act,
    /// Identity shortcut around the conv and its activation (OFA `ResidualBlock`).
    pub residual: bool,
}

/// An MBConv (inverted residual) block.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MbConvSeg {
    /// Input height = width.
    pub h: u32,
    /// Input channels.
    pub c_in: u32,
    /// Output channels.
    pub c_out: u32,
    /// Channels of the depthwise conv.
    pub mid: u32,
    /// The block has an expand 1×1 (expand ratio ≠ 1).
    pub expand: bool,
    /// Depthwise kernel size.
    pub k: u8,
    /// Depthwise stride.
    pub stride: u8,
    /// Squeeze-and-excitation after the depthwise conv.
    pub se: bool,
    /// Activation of the expand and depthwise convs.
    pub act: Act,
    /// Identity shortcut.
    pub skip: bool,
}

impl MbConvSeg {
    /// SE hidden width: `make_divisible(mid / 4, 8)` (integer division first, as OFA).
    pub fn se_mid(&self) -> u32 {
        make_divisible((self.mid / SE_REDUCTION) as f64, CHANNEL_DIVISIBLE)
    }
}

/// A ResNet bottleneck block (stride in the 3×3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BottleneckSeg {
    /// Input height = width.
    pub h: u32,
    /// Input channels.
    pub c_in: u32,
    /// Output channels.
    pub c_out: u32,
    /// Width of the 3×3.
    pub mid: u32,
    /// Stride of the 3×3 (and of the shortcut pool).
    pub stride: u8,
    /// Projection shortcut (`AvgPool(s) → 1×1`) instead of the identity.
    pub downsample: bool,
}

/// A max pool with square window.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MaxPoolSeg {
    /// Input height = width.
    pub h: u32,
    /// Channels.
    pub c: u32,
    /// Window.
    pub k: u8,
    /// Stride.
    pub stride: u8,
    /// Padding on each side.
    pub pad: u8,
}

/// The classifier head: global average pool, optional 1×1 feature mix with activation, Linear.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ClassifierSeg {
    /// Input height = width (pooled away).
    pub h: u32,
    /// Input channels.
    pub c_in: u32,
    /// Feature-mix width and activation (MBv3), applied after the pool.
    pub mix: Option<(u32, Act)>,
    /// The feature mix has a bias (MobileNetV3's "NBN" conv does; OFA's has neither BN nor bias).
    pub mix_bias: bool,
    /// Classes.
    pub classes: u32,
}

/// One link of the chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Segment {
    /// Convolution (+ activation, + optional identity).
    Conv(ConvSeg),
    /// MBConv block.
    MbConv(MbConvSeg),
    /// ResNet bottleneck.
    Bottleneck(BottleneckSeg),
    /// Max pool.
    MaxPool(MaxPoolSeg),
    /// Classifier head.
    Classifier(ClassifierSeg),
}

fn conv_out(h: u32, k: u32, s: u32, pad: u32) -> u32 {
    (h + 2 * pad - k) / s + 1
}

impl Segment {
    /// Input (channels, height).
    pub fn input(&self) -> (u32, u32) {
        match *self {
            Segment::Conv(c) => (c.c_in, c.h),
            Segment::MbConv(b) => (b.c_in, b.h),
            Segment::Bottleneck(b) => (b.c_in, b.h),
            Segment::MaxPool(p) => (p.c, p.h),
            Segment::Classifier(c) => (c.c_in, c.h),
        }
    }

    /// Output (channels, height); the classifier gives (classes, 1).
    pub fn output(&self) -> (u32, u32) {
        match *self {
            Segment::Conv(c) => (
                c.c_out,
                conv_out(c.h, c.k as u32, c.stride as u32, c.k as u32 / 2),
            ),
            Segment::MbConv(b) => (
                b.c_out,
                conv_out(b.h, b.k as u32, b.stride as u32, b.k as u32 / 2),
            ),
            Segment::Bottleneck(b) => (b.c_out, conv_out(b.h, 3, b.stride as u32, 1)),
            Segment::MaxPool(p) => (
                p.c,
                conv_out(p.h, p.k as u32, p.stride as u32, p.pad as u32),
            ),
            Segment::Classifier(c) => (c.classes, 1),
        }
    }

    /// Conv and FC multiply-accumulates, as OFA counts them.
    pub fn ofa_macs(&self) -> u64 {
        let sq = |x: u32| (x as u64) * (x as u64);
        match *self {
            Segment::Conv(c) => {
                let ho = self.output().1;
                sq(ho) * (c.c_in as u64) * (c.c_out as u64) * sq(c.k as u32)
            }
            Segment::MbConv(b) => {
                let ho = self.output().1;
                let mut m = 0;
                if b.expand {
                    m += sq(b.h) * b.c_in as u64 * b.mid as u64;
                }
                m += sq(ho) * b.mid as u64 * sq(b.k as u32);
                if b.se {
                    m += 2 * b.mid as u64 * b.se_mid() as u64;
                }
                m + sq(ho) * b.mid as u64 * b.c_out as u64
            }
            Segment::Bottleneck(b) => {
                let ho = self.output().1;
                let mut m = sq(b.h) * b.c_in as u64 * b.mid as u64
                    + sq(ho) * sq(b.mid) * 9
                    + sq(ho) * b.mid as u64 * b.c_out as u64;
                if b.downsample {
                    m += sq(ho) * b.c_in as u64 * b.c_out as u64;
                }
                m
            }
            Segment::MaxPool(_) => 0,
            Segment::Classifier(c) => match c.mix {
                Some((mix, _)) => c.c_in as u64 * mix as u64 + mix as u64 * c.classes as u64,
                None => c.c_in as u64 * c.classes as u64,
            },
        }
    }

    /// Conv and FC weights and biases (BN excluded), as OFA counts parameters.
    pub fn params(&self) -> u64 {
        let sq = |x: u32| (x as u64) * (x as u64);
        match *self {
            Segment::Conv(c) => c.c_in as u64 * c.c_out as u64 * sq(c.k as u32),
            Segment::MbConv(b) => {
                let mut p = 0;
                if b.expand {
                    p += b.c_in as u64 * b.mid as u64;
                }
                p += b.mid as u64 * sq(b.k as u32);
                if b.se {
                    let s = b.se_mid() as u64;
                    p += 2 * b.mid as u64 * s + s + b.mid as u64;
                }
                p + b.mid as u64 * b.c_out as u64
            }
            Segment::Bottleneck(b) => {
                let mut p =
                    b.c_in as u64 * b.mid as u64 + sq(b.mid) * 9 + b.mid as u64 * b.c_out as u64;
                if b.downsample {
                    p += b.c_in as u64 * b.c_out as u64;
                }
                p
            }
            Segment::MaxPool(_) => 0,
            Segment::Classifier(c) => {
                let (feat, mix) = match c.mix {
                    Some((m, _)) => (
                        m as u64,
                        c.c_in as u64 * m as u64 + if c.mix_bias { m as u64 } else { 0 },
                    ),
                    None => (c.c_in as u64, 0),
                };
                mix + feat * c.classes as u64 + c.classes as u64
            }
        }
    }

    /// Appends this segment's ops to `g`, reading activation `x` and returning its output.
    pub fn emit(
        &self,
        g: &mut Graph,
        prefix: &str,
        x: TensorId,
        prec: Precision,
        layer: Option<u32>,
    ) -> TensorId {
        let mut e = Emitter {
            g,
            prec,
            prefix,
            layer,
        };
        match *self {
            Segment::Conv(c) => {
                let (y, ho) = e.conv("conv", x, c.c_in, c.h, c.c_out, c.k, c.stride, 1, false);
                let y = e.act("act", c.act, y, c.c_out, ho);
                if c.residual {
                    e.elt("add", EltOp::Add, &[y, x], c.c_out, ho)
                } else {
                    y
                }
            }
            Segment::MbConv(b) => {
                let mut t = x;
                if b.expand {
                    let (y, _) = e.conv("expand", t, b.c_in, b.h, b.mid, 1, 1, 1, false);
                    t = e.act("expand_act", b.act, y, b.mid, b.h);
                }
                let (y, ho) = e.conv("dw", t, b.mid, b.h, b.mid, b.k, b.stride, b.mid, false);
                t = e.act("dw_act", b.act, y, b.mid, ho);
                if b.se {
                    let s = b.se_mid();
                    let p = e.gap("se_pool", t, b.mid, ho);
                    let (r, _) = e.conv("se_reduce", p, b.mid, 1, s, 1, 1, 1, true);
                    let r = e.elt("se_relu", EltOp::Relu, &[r], s, 1);
                    let (x2, _) = e.conv("se_expand", r, s, 1, b.mid, 1, 1, 1, true);
                    let gate = e.elt("se_gate", EltOp::HardSigmoid, &[x2], b.mid, 1);
                    t = e.elt("se_scale", EltOp::Mul, &[t, gate], b.mid, ho);
                }
                let (y, _) = e.conv("project", t, b.mid, ho, b.c_out, 1, 1, 1, false);
                if b.skip {
                    e.elt("add", EltOp::Add, &[y, x], b.c_out, ho)
                } else {
                    y
                }
            }
            Segment::Bottleneck(b) => {
                let (y, _) = e.conv("conv1", x, b.c_in, b.h, b.mid, 1, 1, 1, false);
                let y = e.act("act1", Act::Relu, y, b.mid, b.h);
                let (y, ho) = e.conv("conv2", y, b.mid, b.h, b.mid, 3, b.stride, 1, false);
                let y = e.act("act2", Act::Relu, y, b.mid, ho);
                let (y, _) = e.conv("conv3", y, b.mid, ho, b.c_out, 1, 1, 1, false);
                let short = if b.downsample {
                    let mut s = x;
                    if b.stride > 1 {
                        s = e.pool(
                            "down_pool",
                            PoolKind::Avg,
                            s,
                            b.c_in,
                            b.h,
                            b.stride,
                            b.stride,
                            0,
                            true,
                        );
                    }
                    e.conv("down_conv", s, b.c_in, ho, b.c_out, 1, 1, 1, false)
                        .0
                } else {
                    x
                };
                let y = e.elt("add", EltOp::Add, &[y, short], b.c_out, ho);
                e.act("act3", Act::Relu, y, b.c_out, ho)
            }
            Segment::MaxPool(p) => e.pool(
                "maxpool",
                PoolKind::Max,
                x,
                p.c,
                p.h,
                p.k,
                p.stride,
                p.pad,
                false,
            ),
            Segment::Classifier(c) => {
                let mut t = e.gap("pool", x, c.c_in, c.h);
                let mut feat = c.c_in;
                if let Some((mix, act)) = c.mix {
                    t = e
                        .conv("feature_mix", t, c.c_in, 1, mix, 1, 1, 1, c.mix_bias)
                        .0;
                    t = e.act("feature_mix_act", act, t, mix, 1);
                    feat = mix;
                }
                e.linear("classifier", t, feat, c.classes)
            }
        }
    }
}

/// Numeric precision of a CNN graph.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    /// fp32 weights, activations and arithmetic (TF-Lite float, as OFA's phone latencies).
    F32,
    /// fp16 throughout.
    F16,
    /// int8 weights and activations, int8 arithmetic (a per-tensor scale, negligible bytes).
    I8,
}

impl Precision {
    /// Parses `f32`, `fp32`, `f16`, `fp16`, `i8`, `int8`.
    pub fn parse(s: &str) -> Option<Precision> {
        match DType::parse(s)? {
            DType::F32 => Some(Precision::F32),
            DType::F16 => Some(Precision::F16),
            DType::I8 => Some(Precision::I8),
            _ => None,
        }
    }

    /// The dtype of weights, activations and arithmetic.
    pub fn dtype(self) -> DType {
        match self {
            Precision::F32 => DType::F32,
            Precision::F16 => DType::F16,
            Precision::I8 => DType::I8,
        }
    }

    /// The quantization scheme of this precision (`fp32`, `fp16`, `int8`): what a runtime's
    /// formats and quantization conventions are checked and applied against.
    pub fn scheme(self) -> QuantScheme {
        let name = match self {
            Precision::F32 => "fp32",
            Precision::F16 => "fp16",
            Precision::I8 => "int8",
        };
        QuantScheme::parse(name).expect("fp32, fp16 and int8 are schemes archscope parses")
    }

    /// The precision a CNN computes in under `scheme`: its products' dtype, where that is one
    /// of the three precisions.
    pub fn of_scheme(scheme: &QuantScheme) -> Option<Precision> {
        match scheme.linear_compute {
            DType::F32 => Some(Precision::F32),
            DType::F16 => Some(Precision::F16),
            DType::I8 => Some(Precision::I8),
            _ => None,
        }
    }
}

struct Emitter<'a> {
    g: &'a mut Graph,
    prec: Precision,
    prefix: &'a str,
    layer: Option<u32>,
}

impl Emitter<'_> {
    fn name(&self, n: &str) -> String {
        if self.prefix.is_empty() {
            n.to_string()
        } else {
            format!("{}.{n}", self.prefix)
        }
    }

    fn act_tensor(&mut self, n: &str, c: u32, h: u32) -> TensorId {
        let name = self.name(n);
        self.g.add_tensor(
            name,
            &[1, c as u64, h as u64, h as u64],
            Storage::plain(self.prec.dtype()),
            Role::Activation,
        )
    }

    fn weight(&mut self, n: &str, shape: &[u64]) -> TensorId {
        let name = self.name(n);
        self.g
            .add_tensor(name, shape, Storage::plain(self.prec.dtype()), Role::Weight)
    }

    #[allow(clippy::too_many_arguments)]
    fn conv(
        &mut self,
        n: &str,
        x: TensorId,
        c_in: u32,
        h: u32,
        c_out: u32,
        k: u8,
        s: u8,
        groups: u32,
        bias: bool,
    ) -> (TensorId, u32) {
        let conv = Conv2d::square(
            c_in as u64,
            h as u64,
            h as u64,
            c_out as u64,
            k as u64,
            s as u64,
            k as u64 / 2,
        )
        .grouped(groups as u64);
        let ho = conv.out_h() as u32;
        let w = self.weight(
            &format!("{n}.weight"),
            &[c_out as u64, (c_in / groups) as u64, k as u64, k as u64],
        );
        let mut inputs = vec![x, w];
        if bias {
            inputs.push(self.weight(&format!("{n}.bias"), &[c_out as u64]));
        }
        let y = self.act_tensor(n, c_out, ho);
        let op = self.name(n);
        self.g.add_op(
            op,
            OpKind::Conv2d(conv),
            &inputs,
            &[y],
            self.prec.dtype(),
            self.layer,
        );
        (y, ho)
    }

    fn elt(&mut self, n: &str, op: EltOp, inputs: &[TensorId], c: u32, h: u32) -> TensorId {
        let y = self.act_tensor(n, c, h);
        let name = self.name(n);
        let elems = c as u64 * h as u64 * h as u64;
        self.g.add_op(
            name,
            OpKind::Elementwise { op, elems },
            inputs,
            &[y],
            self.prec.dtype(),
            self.layer,
        );
        y
    }

    fn act(&mut self, n: &str, act: Act, x: TensorId, c: u32, h: u32) -> TensorId {
        match act.elt() {
            Some(op) => self.elt(n, op, &[x], c, h),
            None => x,
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn pool(
        &mut self,
        n: &str,
        kind: PoolKind,
        x: TensorId,
        c: u32,
        h: u32,
        k: u8,
        s: u8,
        pad: u8,
        ceil: bool,
    ) -> TensorId {
        let ho = if ceil {
            h.div_ceil(s as u32)
        } else {
            conv_out(h, k as u32, s as u32, pad as u32)
        };
        let y = self.act_tensor(n, c, ho);
        let name = self.name(n);
        self.g.add_op(
            name,
            OpKind::Pool {
                kind,
                out_elems: c as u64 * ho as u64 * ho as u64,
                window: k as u64 * k as u64,
            },
            &[x],
            &[y],
            self.prec.dtype(),
            self.layer,
        );
        y
    }

    fn gap(&mut self, n: &str, x: TensorId, c: u32, h: u32) -> TensorId {
        let y = self.act_tensor(n, c, 1);
        let name = self.name(n);
        self.g.add_op(
            name,
            OpKind::Pool {
                kind: PoolKind::Avg,
                out_elems: c as u64,
                window: h as u64 * h as u64,
            },
            &[x],
            &[y],
            self.prec.dtype(),
            self.layer,
        );
        y
    }

    fn linear(&mut self, n: &str, x: TensorId, k: u32, classes: u32) -> TensorId {
        let w = self.weight(&format!("{n}.weight"), &[classes as u64, k as u64]);
        let b = self.weight(&format!("{n}.bias"), &[classes as u64]);
        let name = self.name(n);
        let y = self.g.add_tensor(
            name.clone(),
            &[1, classes as u64],
            Storage::plain(self.prec.dtype()),
            Role::Activation,
        );
        self.g.add_op(
            name,
            OpKind::MatMul {
                batch: 1,
                m: 1,
                n: classes as u64,
                k: k as u64,
            },
            &[x, w, b],
            &[y],
            self.prec.dtype(),
            self.layer,
        );
        y
    }
}

/// A concrete network: input resolution and a chain of named segments.
#[derive(Clone, Debug, PartialEq)]
pub struct Net {
    /// Name shown in graphs and reports.
    pub name: String,
    /// Input image height = width.
    pub resolution: u32,
    /// The chain.
    pub segments: Vec<Segment>,
    /// One name per segment (`first_conv`, `blocks.3`, `classifier`, ...).
    pub names: Vec<String>,
}

impl Net {
    /// An empty net for an RGB input of `resolution`².
    pub fn new(name: impl Into<String>, resolution: u32) -> Net {
        Net {
            name: name.into(),
            resolution,
            segments: Vec::new(),
            names: Vec::new(),
        }
    }

    /// Appends a segment.
    pub fn push(&mut self, name: impl Into<String>, s: Segment) {
        self.segments.push(s);
        self.names.push(name.into());
    }

    /// Checks that each segment's input is the previous one's output (and 3 × r² first).
    pub fn check(&self) -> Result<(), String> {
        let mut cur = (3, self.resolution);
        for (s, n) in self.segments.iter().zip(&self.names) {
            if s.input() != cur {
                return Err(format!(
                    "segment `{n}` expects {}×{}² but receives {}×{}²",
                    s.input().0,
                    s.input().1,
                    cur.0,
                    cur.1
                ));
            }
            cur = s.output();
        }
        Ok(())
    }

    /// Conv + FC MACs (OFA's count).
    pub fn ofa_macs(&self) -> u64 {
        self.segments.iter().map(Segment::ofa_macs).sum()
    }

    /// Conv + FC parameters, biases included, BN excluded.
    pub fn params(&self) -> u64 {
        self.segments.iter().map(Segment::params).sum()
    }

    /// The archscope graph: image input, every segment's ops in order, logits output.
    /// Each op's `layer` is its segment index.
    pub fn graph(&self, prec: Precision) -> Graph {
        let mut g =
            Graph::new(format!("{} r{} {:?}", self.name, self.resolution, prec).to_lowercase());
        let r = self.resolution as u64;
        let mut x = g.add_tensor(
            "image",
            &[1, 3, r, r],
            Storage::plain(prec.dtype()),
            Role::Input,
        );
        for (i, (s, n)) in self.segments.iter().zip(&self.names).enumerate() {
            x = s.emit(&mut g, n, x, prec, Some(i as u32));
        }
        g.tensors[x.0 as usize].role = Role::Output;
        g
    }
}

/// MobileNetV3-Large 1.0 (Howard et al. 2019, Table 1; TF-slim `mobilenet_v3.py` V3_LARGE):
/// `(k, expansion width, out, SE, activation, stride)` per bneck, after a 3×3/2 16-channel
/// h-swish stem, then 1×1 960 (h-swish), pool, 1×1 1280 (h-swish, no BN, with bias), 1000-way
/// classifier.
pub const MOBILENET_V3_LARGE: [(u8, u32, u32, bool, Act, u8); 15] = [
    (3, 16, 16, false, Act::Relu, 1),
    (3, 64, 24, false, Act::Relu, 2),
    (3, 72, 24, false, Act::Relu, 1),
    (5, 72, 40, true, Act::Relu, 2),
    (5, 120, 40, true, Act::Relu, 1),
    (5, 120, 40, true, Act::Relu, 1),
    (3, 240, 80, false, Act::HSwish, 2),
    (3, 200, 80, false, Act::HSwish, 1),
    (3, 184, 80, false, Act::HSwish, 1),
    (3, 184, 80, false, Act::HSwish, 1),
    (3, 480, 112, true, Act::HSwish, 1),
    (3, 672, 112, true, Act::HSwish, 1),
    (5, 672, 160, true, Act::HSwish, 2),
    (5, 960, 160, true, Act::HSwish, 1),
    (5, 960, 160, true, Act::HSwish, 1),
];

/// MobileNetV3-Large 1.0 at `resolution` as a [`Net`] (the published network, not an OFA subnet:
/// its expansion widths 200 and 184 are outside the OFA space).
pub fn mobilenet_v3_large(resolution: u32) -> Net {
    let mut net = Net::new("mobilenetv3-large-1.0", resolution);
    let stem = 16;
    net.push(
        "first_conv",
        Segment::Conv(ConvSeg {
            h: resolution,
            c_in: 3,
            c_out: stem,
            k: 3,
            stride: 2,
            act: Act::HSwish,
            residual: false,
        }),
    );
    let (mut c, mut h) = (stem, net.segments[0].output().1);
    for (i, &(k, mid, out, se, act, s)) in MOBILENET_V3_LARGE.iter().enumerate() {
        let b = MbConvSeg {
            h,
            c_in: c,
            c_out: out,
            mid,
            expand: mid != c,
            k,
            stride: s,
            se,
            act,
            skip: s == 1 && c == out,
        };
        net.push(format!("blocks.{i}"), Segment::MbConv(b));
        c = out;
        h = net.segments.last().unwrap().output().1;
    }
    net.push(
        "final_expand_layer",
        Segment::Conv(ConvSeg {
            h,
            c_in: c,
            c_out: 960,
            k: 1,
            stride: 1,
            act: Act::HSwish,
            residual: false,
        }),
    );
    net.push(
        "classifier",
        Segment::Classifier(ClassifierSeg {
            h,
            c_in: 960,
            mix: Some((1280, Act::HSwish)),
            mix_bias: true,
            classes: IMAGENET_CLASSES,
        }),
    );
    net
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn make_divisible_matches_tf_slim() {
        // 16·1.2 = 19.2 → 16 is < 0.9·19.2 → 24; 112·1.2 = 134.4 → 136; 18 → 24 (SE of 72)
        assert_eq!(make_divisible(19.2, 8), 24);
        assert_eq!(make_divisible(134.4, 8), 136);
        assert_eq!(make_divisible(18.0, 8), 24);
        assert_eq!(make_divisible(30.0, 8), 32);
        assert_eq!(make_divisible(3.0, 8), 8);
        assert_eq!(make_divisible(249.6, 8), 248);
    }

    #[test]
    fn python_round_ties_to_even() {
        assert_eq!(py_round(2.5), 2);
        assert_eq!(py_round(3.5), 4);
        assert_eq!(py_round(89.6), 90);
        assert_eq!(py_round(142.8), 143);
    }

    #[test]
    fn mobilenet_v3_large_is_as_published() {
        // The OFA-released subnet: 216,589,760 MACs and 5,458,632 conv+FC weights and biases.
        let net = mobilenet_v3_large(224);
        net.check().unwrap();
        assert_eq!(net.ofa_macs(), 216_589_760);
        assert_eq!(net.params(), 5_458_632);
        let g = net.graph(Precision::F32);
        g.validate().unwrap();
        assert_eq!(g.macs(), 216_589_760.0);
        assert_eq!(g.param_count(), 5_458_632);
    }

    #[test]
    fn graph_has_single_producers_and_topological_order() {
        let g = mobilenet_v3_large(224).graph(Precision::I8);
        g.validate().unwrap();
        // every activation is read only after it is produced, and every op's output is new
        let mut produced = std::collections::HashSet::new();
        for op in &g.ops {
            for o in &op.outputs {
                assert!(produced.insert(*o), "{} produced twice", g.tensor(*o).name);
            }
        }
        // one output (the logits), one input (the image)
        assert_eq!(
            g.tensors.iter().filter(|t| t.role == Role::Output).count(),
            1
        );
        assert_eq!(
            g.tensors.iter().filter(|t| t.role == Role::Input).count(),
            1
        );
    }
}
