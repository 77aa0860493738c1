//! The cases `validate` sweeps: GEMM and GEMV over a grid of shapes including LLM-shaped ones,
//! convolutions from real networks (ResNet-18, MobileNetV2), attention at several context
//! lengths, q8_0/q4_0 quantized matmuls, norms, softmax and elementwise ops, and whole models
//! (an LLM decode step and prefill built by [`LlmConfig::build`], ResNet-18 and MobileNetV2
//! forward passes built by [`VisionModel::build`]).
//!
//! Every case is an archscope graph. Single-op graphs take their operands as activations that
//! no op produces (the backend feeds them random values); weights are weights.

use crate::measure::backend::GGML_BLOCK;
pub use crate::measure::probe::{conv_graph, matmul_graph, op_graph};
use crate::workload::{
    AttnPart, AttnShape, Conv2d, DType, EltOp, Graph, NormKind, OpKind, Phase, QuantGroup,
    QuantScheme, Role, Storage, VisionModel, load_llm,
};
use serde::Serialize;

/// What a case exercises; error figures are reported per kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Dense matmul with M > 1 rows (f32).
    Gemm,
    /// Matrix-vector product, M = 1 (f32).
    Gemv,
    /// Dense (non-depthwise) 2-D convolution.
    Conv,
    /// Depthwise convolution.
    DwConv,
    /// q8_0 / q4_0 quantized matmul (any M).
    QMatMul,
    /// Prefill attention (QKᵀ, masked softmax, PV).
    AttnPrefill,
    /// Decode attention over a KV cache.
    AttnDecode,
    /// RMSNorm / LayerNorm.
    Norm,
    /// Softmax.
    Softmax,
    /// Elementwise and activation ops.
    Eltwise,
    /// An LLM decode step, end to end.
    LlmDecode,
    /// An LLM prefill, end to end.
    LlmPrefill,
    /// A CNN forward pass (ResNet-18, MobileNetV2), end to end.
    CnnForward,
}

impl Kind {
    /// Short name for tables.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Gemm => "gemm",
            Kind::Gemv => "gemv",
            Kind::Conv => "conv",
            Kind::DwConv => "dwconv",
            Kind::QMatMul => "qmatmul",
            Kind::AttnPrefill => "attn-prefill",
            Kind::AttnDecode => "attn-decode",
            Kind::Norm => "norm",
            Kind::Softmax => "softmax",
            Kind::Eltwise => "eltwise",
            Kind::LlmDecode => "llm-decode",
            Kind::LlmPrefill => "llm-prefill",
            Kind::CnnForward => "cnn-forward",
        }
    }

    /// True for whole-model cases.
    pub fn end_to_end(self) -> bool {
        matches!(self, Kind::LlmDecode | Kind::LlmPrefill | Kind::CnnForward)
    }
}

/// One validation case.
#[derive(Clone, Debug)]
pub struct Case {
    /// What it exercises.
    pub kind: Kind,
    /// Readable name, e.g. `gemv 1x4096x4096 f32`.
    pub name: String,
    /// The graph predicted and measured.
    pub graph: Graph,
}

fn q_group() -> QuantGroup {
    QuantGroup {
        size: GGML_BLOCK,
        scale_bits: 16,
        zero_bits: 0,
    }
}

/// The storage of ggml's q8_0 (`I8`) or q4_0 (`I4`) blocks: 32 weights sharing an f16 scale.
pub fn ggml_storage(dtype: DType) -> Storage {
    Storage {
        dtype,
        group: Some(q_group()),
    }
}

/// The scheme candle runs for q8_0 or q4_0 models: block-quantized linear weights, f32
/// activations, KV cache, embedding and head; linear layers compute in int8 (candle quantizes
/// the activations to q8_0 blocks and takes integer dot products, as llama.cpp does).
pub fn ggml_scheme(dtype: DType) -> QuantScheme {
    let name = match dtype {
        DType::I4 => "q4_0",
        _ => "q8_0",
    };
    QuantScheme {
        name: name.into(),
        weights: ggml_storage(dtype),
        linear_compute: DType::I8,
        ..QuantScheme::float(DType::F32)
    }
}

fn f32s() -> Storage {
    Storage::plain(DType::F32)
}

/// The three attention ops of one layer, as the LLM builder emits them: prefill attends to
/// fresh K/V activations, decode to a KV cache of `kv_len` positions.
pub fn attention_graph(heads: u64, kv_heads: u64, head_dim: u64, q_len: u64, kv_len: u64) -> Graph {
    let shape = AttnShape {
        batch: 1,
        q_heads: heads,
        kv_heads,
        q_len,
        kv_len,
        head_dim,
        causal: true,
        window: None,
    };
    let mut g = Graph::new("attention");
    let q = g.add_tensor("q", &[q_len, heads * head_dim], f32s(), Role::Activation);
    let (k, v) = if q_len == kv_len {
        (
            g.add_tensor(
                "k",
                &[kv_len, kv_heads * head_dim],
                f32s(),
                Role::Activation,
            ),
            g.add_tensor(
                "v",
                &[kv_len, kv_heads * head_dim],
                f32s(),
                Role::Activation,
            ),
        )
    } else {
        let cache = [1, kv_heads, kv_len, head_dim];
        (
            g.add_tensor("k_cache", &cache, f32s(), Role::KvCache),
            g.add_tensor("v_cache", &cache, f32s(), Role::KvCache),
        )
    };
    let elems = shape.pairs() as u64 * heads;
    let s = g.add_tensor("scores", &[elems], f32s(), Role::Activation);
    let p = g.add_tensor("probs", &[elems], f32s(), Role::Activation);
    let o = g.add_tensor(
        "context",
        &[q_len, heads * head_dim],
        f32s(),
        Role::Activation,
    );
    for (part, ins, out, name) in [
        (AttnPart::Scores, vec![q, k], s, "qk"),
        (AttnPart::Softmax, vec![s], p, "softmax"),
        (AttnPart::Values, vec![p, v], o, "av"),
    ] {
        g.add_op(
            name,
            OpKind::Attention { part, shape },
            &ins,
            &[out],
            DType::F32,
            None,
        );
    }
    g
}

fn conv(c_in: u64, c_out: u64, hw: u64, k: u64, stride: u64, groups: u64) -> Conv2d {
    Conv2d {
        n: 1,
        c_in,
        h: hw,
        w: hw,
        c_out,
        kh: k,
        kw: k,
        stride: (stride, stride),
        pad: (k / 2, k / 2),
        dilation: (1, 1),
        groups,
    }
}

/// Convolutions of ResNet-18 and MobileNetV2 at 224×224, batch 1: (network, layer, conv).
/// Layer shapes from He et al. 2016 (Table 1) and Sandler et al. 2018 (Table 2).
pub fn real_convs() -> Vec<(&'static str, &'static str, Conv2d)> {
    vec![
        (
            "resnet18",
            "conv1 7x7/2 3->64 @224",
            conv(3, 64, 224, 7, 2, 1),
        ),
        (
            "resnet18",
            "layer1 3x3 64->64 @56",
            conv(64, 64, 56, 3, 1, 1),
        ),
        (
            "resnet18",
            "layer2.0 3x3/2 64->128 @56",
            conv(64, 128, 56, 3, 2, 1),
        ),
        (
            "resnet18",
            "layer2.0 downsample 1x1/2 64->128 @56",
            conv(64, 128, 56, 1, 2, 1),
        ),
        (
            "resnet18",
            "layer2 3x3 128->128 @28",
            conv(128, 128, 28, 3, 1, 1),
        ),
        (
            "resnet18",
            "layer3 3x3 256->256 @14",
            conv(256, 256, 14, 3, 1, 1),
        ),
        (
            "resnet18",
            "layer4 3x3 512->512 @7",
            conv(512, 512, 7, 3, 1, 1),
        ),
        (
            "mobilenetv2",
            "stem 3x3/2 3->32 @224",
            conv(3, 32, 224, 3, 2, 1),
        ),
        (
            "mobilenetv2",
            "block1 project 1x1 32->16 @112",
            conv(32, 16, 112, 1, 1, 1),
        ),
        (
            "mobilenetv2",
            "block2 expand 1x1 16->96 @112",
            conv(16, 96, 112, 1, 1, 1),
        ),
        (
            "mobilenetv2",
            "block3 expand 1x1 24->144 @56",
            conv(24, 144, 56, 1, 1, 1),
        ),
        (
            "mobilenetv2",
            "block3 project 1x1 144->24 @56",
            conv(144, 24, 56, 1, 1, 1),
        ),
        (
            "mobilenetv2",
            "block8 expand 1x1 64->384 @14",
            conv(64, 384, 14, 1, 1, 1),
        ),
        (
            "mobilenetv2",
            "block15 expand 1x1 160->960 @7",
            conv(160, 960, 7, 1, 1, 1),
        ),
        (
            "mobilenetv2",
            "head 1x1 320->1280 @7",
            conv(320, 1280, 7, 1, 1, 1),
        ),
        (
            "mobilenetv2",
            "block1 dw 3x3 32 @112",
            conv(32, 32, 112, 3, 1, 32),
        ),
        (
            "mobilenetv2",
            "block2 dw 3x3/2 96 @112",
            conv(96, 96, 112, 3, 2, 96),
        ),
        (
            "mobilenetv2",
            "block3 dw 3x3 144 @56",
            conv(144, 144, 56, 3, 1, 144),
        ),
        (
            "mobilenetv2",
            "block8 dw 3x3 384 @14",
            conv(384, 384, 14, 3, 1, 384),
        ),
        (
            "mobilenetv2",
            "block15 dw 3x3 960 @7",
            conv(960, 960, 7, 3, 1, 960),
        ),
    ]
}

/// Networks whose forward pass both sweeps run end to end (each well under a second per run on
/// one core).
pub const CNN_FORWARD: [&str; 2] = ["resnet18", "mobilenetv2"];

/// Layers in the quick sweep (small and fast, one of each regime).
const QUICK_CONVS: [&str; 4] = [
    "layer3 3x3 256->256 @14",
    "block3 project 1x1 144->24 @56",
    "block8 expand 1x1 64->384 @14",
    "block8 dw 3x3 384 @14",
];

/// The sweep: a short one for CI (`quick`, well under two minutes in total) or the full one.
pub fn sweep(quick: bool) -> Vec<Case> {
    let mut v = gemm_cases(quick);
    v.extend(gemv_cases(quick));
    v.extend(conv_cases(quick));
    v.extend(qmatmul_cases(quick));
    v.extend(attention_cases(quick));
    v.extend(row_op_cases(quick));
    v.extend(cnn_forward_cases());
    v.extend(llm_cases(quick));
    v
}

/// GEMM: M > 1, square and LLM-shaped (llama-1b: 2048/8192; mobilellm-125m: 576/1536).
fn gemm_cases(quick: bool) -> Vec<Case> {
    let mut v = Vec::new();
    let gemm: Vec<(u64, u64, u64)> = if quick {
        vec![
            (16, 512, 512),
            (64, 1024, 1024),
            (64, 1536, 576),
            (128, 576, 1536),
        ]
    } else {
        let mut s = Vec::new();
        for m in [8, 32, 128, 512] {
            for (n, k) in [(512, 512), (2048, 2048), (8192, 2048), (2048, 8192)] {
                s.push((m, n, k));
            }
        }
        s.extend([
            (128, 576, 576),
            (128, 192, 576),
            (128, 1536, 576),
            (128, 576, 1536),
        ]);
        s.extend([(64, 512, 2048), (256, 2048, 2048)]);
        s
    };
    for (m, n, k) in gemm {
        v.push(Case {
            kind: Kind::Gemm,
            name: format!("gemm {m}x{n}x{k} f32"),
            graph: matmul_graph(m, n, k, f32s(), DType::F32),
        });
    }
    v
}

/// GEMV: M = 1, from L1-resident to DRAM-resident weights.
fn gemv_cases(quick: bool) -> Vec<Case> {
    let mut v = Vec::new();
    let gemv: Vec<(u64, u64)> = if quick {
        vec![
            (256, 256),
            (1024, 1024),
            (4096, 4096),
            (1536, 576),
            (8192, 2048),
        ]
    } else {
        vec![
            (64, 64),
            (256, 256),
            (512, 512),
            (1024, 1024),
            (2048, 2048),
            (4096, 4096),
            (8192, 8192),
            (192, 576),
            (576, 576),
            (1536, 576),
            (576, 1536),
            (512, 2048),
            (8192, 2048),
            (2048, 8192),
            (32000, 2048),
        ]
    };
    for (n, k) in gemv {
        v.push(Case {
            kind: Kind::Gemv,
            name: format!("gemv 1x{n}x{k} f32"),
            graph: matmul_graph(1, n, k, f32s(), DType::F32),
        });
    }
    v
}

/// Convolutions from real networks.
fn conv_cases(quick: bool) -> Vec<Case> {
    let mut v = Vec::new();
    for (net, layer, c) in real_convs() {
        if quick && !QUICK_CONVS.contains(&layer) {
            continue;
        }
        v.push(Case {
            kind: if c.is_depthwise() {
                Kind::DwConv
            } else {
                Kind::Conv
            },
            name: format!("{net} {layer}"),
            graph: conv_graph(c),
        });
    }
    v
}

/// Quantized matmuls (q8_0, q4_0), decode- and prefill-shaped.
fn qmatmul_cases(quick: bool) -> Vec<Case> {
    let mut v = Vec::new();
    let qm: Vec<(u64, u64, u64)> = if quick {
        vec![(1, 2048, 2048)]
    } else {
        vec![
            (1, 2048, 2048),
            (1, 8192, 2048),
            (1, 2048, 8192),
            (32, 2048, 2048),
        ]
    };
    for (dt, label) in [(DType::I8, "q8_0"), (DType::I4, "q4_0")] {
        for &(m, n, k) in &qm {
            v.push(Case {
                kind: Kind::QMatMul,
                name: format!("{label} {m}x{n}x{k}"),
                graph: matmul_graph(m, n, k, ggml_storage(dt), DType::I8),
            });
        }
    }
    v
}

/// Attention: llama-1b heads (32 query, 8 KV, 64 wide) and mobilellm-125m (9, 3, 64).
fn attention_cases(quick: bool) -> Vec<Case> {
    let mut v = Vec::new();
    let (decode, prefill): (Vec<u64>, Vec<u64>) = if quick {
        (vec![512, 2048], vec![128])
    } else {
        (vec![128, 512, 2048, 8192], vec![64, 128, 512])
    };
    for (model, h, kvh, hd) in [("llama-1b", 32, 8, 64), ("mobilellm-125m", 9, 3, 64)] {
        if quick && model != "llama-1b" {
            continue;
        }
        for &l in &decode {
            v.push(Case {
                kind: Kind::AttnDecode,
                name: format!("attn decode {model} L{l}"),
                graph: attention_graph(h, kvh, hd, 1, l),
            });
        }
        for &p in &prefill {
            v.push(Case {
                kind: Kind::AttnPrefill,
                name: format!("attn prefill {model} P{p}"),
                graph: attention_graph(h, kvh, hd, p, p),
            });
        }
    }
    v
}

/// Norms, softmax, elementwise.
fn row_op_cases(quick: bool) -> Vec<Case> {
    let mut v = Vec::new();
    let rows: Vec<u64> = if quick {
        vec![1, 128]
    } else {
        vec![1, 32, 128, 512]
    };
    for &r in &rows {
        v.push(Case {
            kind: Kind::Norm,
            name: format!("rms_norm {r}x2048"),
            graph: op_graph(
                OpKind::Norm {
                    kind: NormKind::RmsNorm,
                    rows: r,
                    cols: 2048,
                },
                &[r, 2048],
                &[&[2048]],
                1,
            ),
        });
        // Softmax over attention-like rows: 32 heads x r queries, r.max(64) keys.
        let (sr, sc) = (32 * r, r.max(64));
        v.push(Case {
            kind: Kind::Softmax,
            name: format!("softmax {sr}x{sc}"),
            graph: op_graph(OpKind::Softmax { rows: sr, cols: sc }, &[sr, sc], &[], 1),
        });
        for (op, inputs, width) in [
            (EltOp::Add, 2, 2048),
            (EltOp::SwiGlu, 2, 8192),
            (EltOp::Silu, 1, 8192),
        ] {
            let elems = r * width;
            v.push(Case {
                kind: Kind::Eltwise,
                name: format!("{op:?} {r}x{width}").to_lowercase(),
                graph: op_graph(OpKind::Elementwise { op, elems }, &[r, width], &[], inputs),
            });
        }
    }
    v
}

/// End to end: CNN forward passes at 224×224, batch 1, BatchNorm folded into the
/// convolutions (as inference runtimes run them), graphs from the vision builders.
fn cnn_forward_cases() -> Vec<Case> {
    let mut v = Vec::new();
    for net in CNN_FORWARD {
        let m = VisionModel::parse(net).expect("built-in network");
        let g = m
            .build(&QuantScheme::float(DType::F32), 1)
            .expect("built-in network builds");
        v.push(Case {
            kind: Kind::CnnForward,
            name: g.name.clone(),
            graph: g,
        });
    }
    v
}

/// End to end: LLM decode steps and prefills, graphs from the model configs.
fn llm_cases(quick: bool) -> Vec<Case> {
    let mut v = Vec::new();
    let e2e: Vec<(&str, QuantScheme, Phase)> = if quick {
        vec![(
            "mobilellm-125m",
            QuantScheme::float(DType::F32),
            Phase::Decode { context: 256 },
        )]
    } else {
        vec![
            (
                "mobilellm-125m",
                QuantScheme::float(DType::F32),
                Phase::Decode { context: 512 },
            ),
            (
                "mobilellm-125m",
                ggml_scheme(DType::I8),
                Phase::Decode { context: 512 },
            ),
            (
                "mobilellm-125m",
                QuantScheme::float(DType::F32),
                Phase::Prefill { prompt: 128 },
            ),
            (
                "llama-1b",
                QuantScheme::float(DType::F32),
                Phase::Decode { context: 512 },
            ),
            (
                "llama-1b",
                ggml_scheme(DType::I8),
                Phase::Decode { context: 512 },
            ),
            (
                "llama-1b",
                ggml_scheme(DType::I4),
                Phase::Decode { context: 512 },
            ),
            (
                "llama-1b",
                QuantScheme::float(DType::F32),
                Phase::Prefill { prompt: 64 },
            ),
        ]
    };
    for (model, quant, phase) in e2e {
        let cfg = load_llm(model).expect("shipped model config");
        let g = cfg.build(&quant, phase, 1);
        v.push(Case {
            kind: match phase {
                Phase::Decode { .. } => Kind::LlmDecode,
                Phase::Prefill { .. } => Kind::LlmPrefill,
            },
            name: g.name.clone(),
            graph: g,
        });
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sweeps_build_and_name_uniquely() {
        for quick in [true, false] {
            let s = sweep(quick);
            let mut names: Vec<&str> = s.iter().map(|c| c.name.as_str()).collect();
            names.sort();
            let n = names.len();
            names.dedup();
            assert_eq!(names.len(), n, "duplicate case names");
            for k in [
                Kind::Gemm,
                Kind::Gemv,
                Kind::Conv,
                Kind::AttnDecode,
                Kind::LlmDecode,
                Kind::CnnForward,
            ] {
                assert!(
                    s.iter().any(|c| c.kind == k),
                    "{k:?} missing (quick {quick})"
                );
            }
        }
    }

    #[test]
    fn ggml_storage_bits() {
        // q8_0: 32 int8 + one f16 scale = 34 bytes per block = 8.5 bits per weight
        assert_eq!(ggml_storage(DType::I8).bits_per_elem(2048), 8.5);
        // q4_0: 16 bytes + 2 = 18 bytes per block = 4.5 bits
        assert_eq!(ggml_storage(DType::I4).bits_per_elem(2048), 4.5);
    }

    #[test]
    fn real_conv_shapes() {
        for (_, layer, c) in real_convs() {
            // stride-2 layers halve the side, others keep it
            let expect = c.h.div_ceil(c.stride.0);
            assert_eq!(c.out_h(), expect, "{layer}");
        }
    }
}
