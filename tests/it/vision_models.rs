//! Built-in vision networks and encoders against published figures.
//!
//! Convention: `Graph::macs()` counts the multiply-accumulates of convolutions, linear layers and
//! attention products (QKᵀ and PV) only. That is what the published "MACs", "Mult-Adds" and
//! torchvision "GFLOPS" columns count (torchvision's and fvcore's FLOP counters count one MAC as
//! one "FLOP"), so those figures are compared with `macs()`; batch norm, activations, SE
//! scaling, pooling, residual adds, softmax and layer norm are left out of every published count
//! used here. Parameter counts use `bn=separate`, where each batch norm contributes its γ and β
//! (2 per channel) exactly as PyTorch counts parameters; the default folded graphs replace them
//! by one bias per channel.

use archscope::cost::Mode;
use archscope::hardware::Hardware;
use archscope::score::{ScoreRequest, score_vision};
use archscope::workload::{
    DType, EltOp, Graph, Model, OpKind, QuantScheme, Role, Sample, VisionModel, load_model,
};

fn fp32() -> QuantScheme {
    QuantScheme::float(DType::F32)
}

fn build(name: &str) -> Graph {
    VisionModel::parse(name)
        .unwrap_or_else(|e| panic!("{name}: {e}"))
        .build(&fp32(), 1)
        .unwrap()
}

fn params(name: &str) -> u64 {
    build(name).param_count()
}

fn macs(name: &str) -> f64 {
    build(name).macs()
}

fn assert_close(what: &str, got: f64, published: f64, rel: f64) {
    let err = (got - published).abs() / published;
    assert!(
        err <= rel,
        "{what}: computed {got:.4e}, published {published:.4e}, off by {:.2}% (allowed {:.2}%)",
        err * 100.0,
        rel * 100.0
    );
}

#[test]
fn torchvision_parameter_counts_exactly() {
    // `sum(p.numel() for p in model.parameters())` of torchvision's constructors, as listed in
    // the torchvision model documentation ("Params" of each weights entry).
    for (name, published) in [
        ("resnet18", 11_689_512u64),
        ("resnet34", 21_797_672),
        ("resnet50", 25_557_032),
        ("resnet101", 44_549_160),
        ("resnet152", 60_192_808),
        ("mobilenetv2", 3_504_872),
        ("mobilenetv3-large", 5_483_032),
        ("mobilenetv3-small", 2_542_856),
        ("efficientnet-b0", 5_288_548),
        ("efficientnet-b1", 7_794_184),
        ("efficientnet-b2", 9_109_994),
        ("efficientnet-b3", 12_233_232),
        ("efficientnet-b4", 19_341_616),
        ("efficientnet-b5", 30_389_784),
        ("efficientnet-b6", 43_040_704),
        ("efficientnet-b7", 66_347_960),
    ] {
        assert_eq!(params(&format!("{name}?bn=separate")), published, "{name}");
    }
    // Networks without batch norm.
    for (name, published) in [
        ("squeezenet1.1", 1_235_496u64),
        ("vit-b16", 86_567_656),
        ("vit-b32", 88_224_232),
        ("vit-l16", 304_326_632),
    ] {
        assert_eq!(params(name), published, "{name}");
    }
}

#[test]
fn torchvision_gflops_table() {
    // The "GFLOPS" column of the torchvision model documentation (MACs of conv and linear
    // layers, rounded to two decimals) at each model's evaluation size. EfficientNet-B2 is left
    // out: torchvision evaluates it at 288 rather than the paper's 260.
    for (name, published) in [
        ("resnet18", 1.81),
        ("resnet34", 3.66),
        ("resnet50", 4.09),
        ("resnet101", 7.80),
        ("resnet152", 11.51),
        ("mobilenetv2", 0.30),
        ("mobilenetv3-large", 0.22),
        ("mobilenetv3-small", 0.06),
        ("efficientnet-b0", 0.39),
        ("efficientnet-b1", 0.69),
        ("efficientnet-b3", 1.83),
        ("efficientnet-b4", 4.39),
        ("efficientnet-b5", 10.27),
        ("efficientnet-b6", 19.07),
        ("efficientnet-b7", 37.75),
        ("squeezenet1.1", 0.35),
        ("inception-v3", 5.71),
        ("vit-b16", 17.56),
        ("vit-b32", 4.41),
        ("vit-l16", 61.55),
    ] {
        let got = macs(name) / 1e9;
        assert!(
            (got - published).abs() <= 0.0051,
            "{name}: computed {got:.4} GMAC, torchvision lists {published}"
        );
    }
}

#[test]
fn keras_mobilenet_v1_trainable_parameters() {
    // keras.applications.MobileNet(alpha=1.0) summary: 4,231,976 trainable parameters (conv
    // weights, BN γ and β, the 1×1 logits conv with bias); its 21,888 non-trainable ones are the
    // BN running statistics.
    assert_eq!(params("mobilenetv1?bn=separate"), 4_231_976);
}

#[test]
fn real_structure_branches_residuals_and_gates() {
    let fan_out = |g: &Graph, t: archscope::workload::TensorId| {
        g.ops.iter().filter(|o| o.inputs.contains(&t)).count()
    };
    // Inception-v3 Mixed_5b: four branches read the module input and are concatenated.
    let g = build("inception-v3");
    let cat = g.ops.iter().find(|o| o.name == "Mixed_5b.cat").unwrap();
    assert_eq!(cat.inputs.len(), 4);
    let first = g
        .ops
        .iter()
        .find(|o| o.name == "Mixed_5b.branch1x1")
        .unwrap();
    assert_eq!(fan_out(&g, first.inputs[0]), 4);
    assert_eq!(g.tensor(cat.outputs[0]).shape, vec![1, 256, 35, 35]);
    // Residual adds: 16 bottlenecks in ResNet-50; 10 in MobileNetV2 (one per repeated block).
    let adds = |name: &str| {
        build(name)
            .ops
            .iter()
            .filter(|o| o.name.ends_with(".add"))
            .count()
    };
    assert_eq!(adds("resnet50"), 16);
    assert_eq!(adds("mobilenetv2"), 10);
    // Squeeze-excitation gates: EfficientNet-B0 has SE in all 16 MBConv blocks, MnasNet-A1 in
    // the 3 + 2 + 3 blocks of its SE stages; each gate multiplies the block's feature map.
    let gates = |name: &str| {
        build(name)
            .ops
            .iter()
            .filter(|o| {
                matches!(
                    o.kind,
                    OpKind::Elementwise {
                        op: EltOp::Sigmoid,
                        ..
                    }
                )
            })
            .count()
    };
    assert_eq!(gates("efficientnet-b0"), 16);
    assert_eq!(gates("mnasnet-a1"), 8);
    // MobileNetV3 uses h-swish in its later blocks and head.
    let g = build("mobilenetv3-large");
    assert!(g.ops.iter().any(|o| matches!(
        o.kind,
        OpKind::Elementwise {
            op: EltOp::HardSwish,
            ..
        }
    )));
    // U-Net's long skips: the first level's output is read by its pool and, 20-odd ops
    // later, by the crop of the last up level.
    let g = build("unet");
    let skip = g
        .ops
        .iter()
        .find(|o| o.name == "down0.conv2.act")
        .unwrap()
        .outputs[0];
    let readers: Vec<&str> = g
        .ops
        .iter()
        .filter(|o| o.inputs.contains(&skip))
        .map(|o| o.name.as_str())
        .collect();
    assert_eq!(readers, vec!["down0.pool", "up0.crop"]);
}

#[test]
fn inception_v3_without_the_auxiliary_head() {
    // torchvision inception_v3: 27,161,264 parameters including the auxiliary classifier used
    // in training. That head (by hand): conv 768→128 1×1 (98,304) + BN (256), conv 128→768 5×5
    // (2,457,600) + BN (1,536), fc 768→1000 (768,000 + 1,000) = 3,326,696. The inference graph
    // has no auxiliary head.
    assert_eq!(params("inception-v3?bn=separate"), 27_161_264 - 3_326_696);
    // torchvision lists 5.71 GFLOPS (MACs) at 299×299.
    assert_close("inception-v3 MACs", macs("inception-v3"), 5.71e9, 0.01);
}

#[test]
fn timm_and_hugging_face_parameter_counts() {
    // timm deit_tiny_patch16_224: 5,717,416; deit_small_patch16_224: 22,050,664.
    assert_eq!(params("deit-tiny"), 5_717_416);
    assert_eq!(params("deit-small"), 22_050_664);
    // Hugging Face BertModel (with pooler) of bert-base-uncased: 109,482,240; bert-large:
    // 335,141,888. By hand for base: embeddings 30522·768 + 512·768 + 2·768 + LN 1,536 =
    // 23,837,184; per layer 4·(768² + 768) + 2·(768·3072) + 3072 + 768 + 2 LN·1,536 = 7,087,872,
    // ×12 = 85,054,464; pooler 768² + 768 = 590,592.
    assert_eq!(params("bert-base"), 23_837_184 + 85_054_464 + 590_592);
    assert_eq!(params("bert-base"), 109_482_240);
    assert_eq!(params("bert-large"), 335_141_888);
}

#[test]
fn folded_batch_norm_keeps_one_bias_per_channel() {
    // ResNet-50 has batch norms over 26,560 channels: stem 64, per bottleneck 6·width
    // (width, width, 4·width) over stages of width 64/128/256/512 with 3/4/6/3 blocks =
    // 6·(192 + 512 + 1536 + 1536) = 22,656, and the four projection shortcuts 4·(64 + 128 +
    // 256 + 512) = 3,840. Folding replaces 2 parameters per channel by one bias.
    assert_eq!(params("resnet50"), 25_557_032 - 26_560);
    let sep = build("resnet50?bn=separate");
    let bn_ops = sep
        .ops
        .iter()
        .filter(|o| matches!(o.kind, OpKind::Norm { .. }))
        .count();
    assert_eq!(bn_ops, 1 + 3 * (3 + 4 + 6 + 3) + 4);
    assert_eq!(sep.macs(), macs("resnet50"));
}

#[test]
fn resnet_macs_match_published() {
    // torchvision: resnet18 1.81 GFLOPS, resnet50 4.09 GFLOPS (MACs, conv + fc). He et al.
    // Table 1 gives 3.8 G for ResNet-50 v1 (stride on the first 1×1); torchvision's v1.5 moves
    // it to the 3×3 and costs 4.1 G.
    assert_close("resnet18", macs("resnet18"), 1.81e9, 0.005);
    assert_close("resnet50", macs("resnet50"), 4.09e9, 0.005);
    // The stem by hand: 112·112·64·3·7·7 = 118,013,952 MACs.
    let g = build("resnet50");
    assert_eq!(g.ops[0].kind.macs(), 118_013_952.0);
}

#[test]
fn mobilenet_v2_matches_paper_and_slim_table() {
    // Sandler et al. 2018, Table 4: MobileNetV2 1.0/224: 300 M multiply-adds, 3.4 M parameters
    // (torchvision's exact count, 3,504,872, is asserted above).
    assert_close("mobilenetv2 MACs", macs("mobilenetv2"), 300e6, 0.01);
    // TF-slim MobileNetV2 README table (MACs in millions) for other widths and resolutions.
    for (name, published) in [
        ("mobilenetv2?width=1.4", 582e6),
        ("mobilenetv2?width=0.75", 209e6),
        ("mobilenetv2?width=0.5", 97e6),
        ("mobilenetv2?width=0.35", 59e6),
        ("mobilenetv2?res=192", 221e6),
        ("mobilenetv2?res=160", 154e6),
        ("mobilenetv2?res=128", 99e6),
        ("mobilenetv2?res=96", 56e6),
    ] {
        assert_close(name, macs(name), published, 0.02);
    }
}

#[test]
fn mobilenet_v1_matches_paper() {
    // Howard et al. 2017, Table 8: 1.0 MobileNet-224: 569 M Mult-Adds, 4.2 M parameters;
    // Table 6 (width 0.75/0.5/0.25: 325/149/41 M) and Table 7 (resolution 192/160/128:
    // 418/290/186 M). The paper counts conv and fc multiply-adds.
    assert_close("v1 MACs", macs("mobilenetv1"), 569e6, 0.01);
    assert_close(
        "v1 params",
        params("mobilenetv1?bn=separate") as f64,
        4.2e6,
        0.02,
    );
    for (name, published, tol) in [
        ("mobilenetv1?width=0.75", 325e6, 0.03),
        ("mobilenetv1?width=0.5", 149e6, 0.02),
        ("mobilenetv1?width=0.25", 41e6, 0.02),
        ("mobilenetv1?res=192", 418e6, 0.01),
        ("mobilenetv1?res=160", 290e6, 0.01),
        ("mobilenetv1?res=128", 186e6, 0.01),
    ] {
        assert_close(name, macs(name), published, tol);
    }
}

#[test]
fn mobilenet_v3_matches_paper() {
    // Howard et al. 2019, Table 3: Large 1.0: 219 M MAdds, 5.4 M params; Small 1.0: 56 M,
    // 2.5 M. torchvision lists 0.22 and 0.06 GFLOPS. The paper's count includes the SE 1×1
    // convolutions (tiny) but not h-swish, the SE scaling or batch norm.
    assert_close("v3-large MACs", macs("mobilenetv3-large"), 219e6, 0.015);
    assert_close("v3-small MACs", macs("mobilenetv3-small"), 56e6, 0.02);
    // Structure: 8 SE blocks in Large (Table 1), 9 in Small (Table 2), gated by hard-sigmoid.
    let count_gates = |g: &Graph| {
        g.ops
            .iter()
            .filter(|o| {
                matches!(
                    o.kind,
                    OpKind::Elementwise {
                        op: EltOp::HardSigmoid,
                        ..
                    }
                )
            })
            .count()
    };
    assert_eq!(count_gates(&build("mobilenetv3-large")), 8);
    assert_eq!(count_gates(&build("mobilenetv3-small")), 9);
}

#[test]
fn mnasnet_and_efficientnet_match_papers() {
    // Tan et al. 2019 (MnasNet), Table 1: MnasNet-A1: 312 M multiply-adds, 3.9 M parameters.
    assert_close("mnasnet-a1 MACs", macs("mnasnet-a1"), 312e6, 0.01);
    assert_close(
        "mnasnet-a1 params",
        params("mnasnet-a1?bn=separate") as f64,
        3.9e6,
        0.02,
    );
    // Tan & Le 2019 (EfficientNet), Table 2: B0 0.39 B FLOPs (multiply-adds), 5.3 M params.
    assert_close(
        "efficientnet-b0 MACs",
        macs("efficientnet-b0"),
        0.39e9,
        0.02,
    );
}

#[test]
fn squeezenet_matches_torchvision() {
    // torchvision squeezenet1_1: 0.35 GFLOPS (MACs).
    assert_close("squeezenet1.1 MACs", macs("squeezenet1.1"), 0.35e9, 0.02);
    // No batch norm: bn does not apply.
    assert!(VisionModel::parse("squeezenet1.1?bn=separate").is_err());
}

#[test]
fn vit_macs_by_hand_and_published() {
    // ViT-B/16 at 224: 197 tokens of 768. Per block: q, k, v, out 4·197·768² = 464,781,312;
    // MLP 2·197·768·3072 = 929,562,624; QKᵀ and PV 2·197²·768 = 59,610,624 → 1,453,954,560;
    // ×12 = 17,447,454,720. Patch embedding 196·768·(3·16·16) = 115,605,504; head 768·1000.
    let expected = 17_447_454_720.0 + 115_605_504.0 + 768_000.0;
    assert_eq!(macs("vit-b16"), expected);
    // torchvision vit_b_16: 17.56 GFLOPS, counting a MAC as one FLOP (fvcore convention); the
    // often quoted 17.6 G is the same figure rounded. Softmax, LayerNorm, GELU and the adds are
    // not in it.
    assert_close("vit-b16 MACs", expected, 17.56e9, 0.001);
    // DeiT-Ti: 1.3 G (e.g. the PVT paper's Table 2 lists DeiT-Ti/16 at 5.7 M params, 1.3 GFLOPs).
    assert_close("deit-tiny MACs", macs("deit-tiny"), 1.3e9, 0.05);
}

#[test]
fn bert_macs_by_hand() {
    // seq 128: per layer 128·(4·768² + 2·768·3072) + 2·128²·768 = 931,135,488; ×12; pooler 768².
    assert_eq!(macs("bert-base"), 12.0 * 931_135_488.0 + 768.0 * 768.0);
    // Attention products grow with the square of the sequence: seq 512.
    let per_layer = 512.0 * 7_077_888.0 + 2.0 * 512.0 * 512.0 * 768.0;
    assert_eq!(macs("bert-base?seq=512"), 12.0 * per_layer + 768.0 * 768.0);
}

#[test]
fn yolov3_tiny_matches_darknet() {
    // darknet (pjreddie.com/darknet/yolo): YOLOv3-tiny at 416: 5.56 Bn FLOPS, darknet counting
    // 2 FLOPs per multiply-add of its convolutions.
    let g = build("yolov3-tiny");
    assert_close("yolov3-tiny", 2.0 * g.macs(), 5.56e9, 0.005);
    // By hand, conv MACs layer by layer (see yolov3-tiny.cfg): 2,782,480,896.
    assert_eq!(g.macs(), 2_782_480_896.0);
    // Parameters with batch norm as γ, β: conv weights 8,845,488 + two head biases 2·255
    // + BN 2·(16+32+64+128+256+512+1024+256+512+128+256) = 6,368.
    assert_eq!(params("yolov3-tiny?bn=separate"), 8_845_488 + 510 + 6_368);
    let outs: Vec<&[u64]> = g
        .tensors
        .iter()
        .filter(|t| t.role == Role::Output)
        .map(|t| t.shape.as_slice())
        .collect();
    assert_eq!(outs, vec![&[1, 255, 13, 13][..], &[1, 255, 26, 26][..]]);
}

#[test]
fn unet_by_hand() {
    // Ronneberger et al. 2015, Figure 1: 572×572×1 → 388×388×2.
    let g = build("unet");
    let out: Vec<&[u64]> = g
        .tensors
        .iter()
        .filter(|t| t.role == Role::Output)
        .map(|t| t.shape.as_slice())
        .collect();
    assert_eq!(out, vec![&[1, 2, 388, 388][..]]);
    // Parameters with biases: contracting path 3×3 convs 1→64→64, 64→128→128, …, 512→1024→1024
    // = 18,842,048; expanding path up-convs 2×2 (1024→512, 512→256, 256→128, 128→64) with
    // biases and 3×3 convs = 12,188,480; 1×1 head 64·2 + 2 = 130.
    assert_eq!(g.param_count(), 18_842_048 + 12_188_480 + 130);
    // Four crops (skip connections are wider than the up-sampled maps) and four concats.
    let n = |name: &str| g.ops.iter().filter(|o| o.kind.name() == name).count();
    assert_eq!((n("slice"), n("concat"), n("convtranspose2d")), (4, 4, 4));
    // First up-convolution by hand: 28·28·1024 inputs, each through 2·2·512 weights.
    let up = g.ops.iter().find(|o| o.name == "up3.upconv").unwrap();
    assert_eq!(up.kind.macs(), (28 * 28 * 1024 * 4 * 512) as f64);
    // A tile size the 2×2 pools cannot split is an error, not a panic.
    assert!(VisionModel::parse("unet?res=564").is_err());
}

/// Every activation is produced by exactly one op and read by a later op, except outputs.
fn check_liveness(name: &str, g: &Graph) {
    g.validate().unwrap_or_else(|e| panic!("{name}: {e}"));
    let mut produced = vec![0u32; g.tensors.len()];
    let mut read_after = vec![false; g.tensors.len()];
    for op in &g.ops {
        for &t in &op.inputs {
            let i = t.0 as usize;
            if matches!(g.tensors[i].role, Role::Activation | Role::Output) {
                assert_eq!(
                    produced[i], 1,
                    "{name}: {} read before written",
                    g.tensors[i].name
                );
            }
            read_after[i] = true;
        }
        for &t in &op.outputs {
            produced[t.0 as usize] += 1;
        }
    }
    for (i, t) in g.tensors.iter().enumerate() {
        match t.role {
            Role::Activation => {
                assert_eq!(
                    produced[i], 1,
                    "{name}: {} produced {} times",
                    t.name, produced[i]
                );
                assert!(read_after[i], "{name}: activation {} is never read", t.name);
            }
            Role::Output => assert_eq!(produced[i], 1, "{name}: output {}", t.name),
            Role::Weight | Role::Input => {
                assert!(read_after[i], "{name}: {} is never read", t.name)
            }
            Role::KvCache => panic!("{name}: no KV cache in a forward pass"),
        }
    }
}

#[test]
fn every_family_builds_a_valid_graph_that_scales_with_batch() {
    for f in archscope::workload::vision::FAMILIES {
        let m = VisionModel::parse(f.name).unwrap();
        let g1 = m.build(&fp32(), 1).unwrap();
        let g4 = m.build(&fp32(), 4).unwrap();
        check_liveness(f.name, &g1);
        check_liveness(f.name, &g4);
        assert_eq!(g4.macs(), 4.0 * g1.macs(), "{}", f.name);
        assert_eq!(g4.param_count(), g1.param_count(), "{}", f.name);
        assert!(
            g1.flops() > 2.0 * g1.macs(),
            "{}: non-MAC work counted",
            f.name
        );
    }
}

#[test]
fn quantization_applies_to_conv_and_linear_only() {
    let m = VisionModel::parse("mobilenetv3-large").unwrap();
    let g = m.build(&QuantScheme::parse("w8a8").unwrap(), 1).unwrap();
    for op in &g.ops {
        let linear = matches!(op.kind, OpKind::Conv2d(_) | OpKind::MatMul { .. });
        let want = if linear { DType::I8 } else { DType::F16 };
        assert_eq!(op.compute, want, "{}", op.name);
    }
    // Weights: int8 with one fp16 scale per output channel (a conv weight is one row per
    // output channel); biases fp16. Activations are int8.
    let fp16 = m.build(&QuantScheme::parse("fp16").unwrap(), 1).unwrap();
    assert_eq!(fp16.weight_bytes(), 2.0 * fp16.param_count() as f64);
    let mut expected = 0.0;
    for t in g.tensors.iter().filter(|t| t.role == Role::Weight) {
        expected += if t.shape.len() == 2 {
            (t.shape[0] * t.shape[1]) as f64 + 2.0 * t.shape[0] as f64
        } else {
            2.0 * t.numel() as f64
        };
    }
    assert_eq!(g.weight_bytes(), expected);
    let act = g
        .tensors
        .iter()
        .find(|t| t.role == Role::Activation)
        .unwrap();
    assert_eq!(act.storage.dtype, DType::I8);
}

#[test]
fn names_parse_and_errors_are_clear() {
    let m = VisionModel::parse("MobileNet_V2?width=0.75&res=160").unwrap();
    assert_eq!(m.name, "mobilenetv2?width=0.75&res=160");
    let g = m.build(&fp32(), 1).unwrap();
    assert_eq!(g.tensors[0].shape, vec![1, 3, 160, 160]);
    for (bad, needle) in [
        ("mobilenetv2?depth=2", "no parameter `depth`"),
        ("mobilenetv2?width=-1", "width=-1"),
        ("mobilenetv2?res=abc", "res=abc"),
        ("resnet50?width=0.5", "no parameter `width`"),
        ("vit-b16?res=200", "multiple of the 16-pixel patch"),
        ("squeezenet1.1?res=2", "too small"),
        ("bert-base?seq=1024", "seq=1024"),
        ("mobilenetv2?res", "not key=value"),
    ] {
        let e = VisionModel::parse(bad).unwrap_err().to_string();
        assert!(e.contains(needle), "{bad}: {e}");
    }
    // load_model routes networks and keeps LLM names working.
    assert!(matches!(load_model("resnet18").unwrap(), Model::Vision(_)));
    assert!(matches!(load_model("llama-1b").unwrap(), Model::Llm(_)));
    let e = load_model("resnet19").unwrap_err().to_string();
    assert!(e.contains("resnet18") && e.contains("llama-1b"), "{e}");
}

#[test]
fn score_vision_reports_images_and_sequences_per_second() {
    let hw = Hardware::load("a100-80gb").unwrap();
    let req = ScoreRequest {
        batch: 8,
        prompt: 1,
        context: 1,
        prefill: true,
        decode: true,
        unit: None,
        mode: Mode::Ideal,
        ..ScoreRequest::default()
    };
    let q = QuantScheme::parse("fp16").unwrap();
    let m = VisionModel::parse("resnet50").unwrap();
    let s = score_vision(&hw, &m, &q, &req).unwrap();
    let j = s.to_json(&hw);
    assert_eq!(j["phases"][0]["phase"], "forward");
    assert_eq!(j["phases"][0]["images"], 8);
    let lat = j["phases"][0]["latency_s"].as_f64().unwrap();
    let ips = j["metrics"]["images_per_s"].as_f64().unwrap();
    assert!((ips - 8.0 / lat).abs() < 1e-9 * ips);
    assert_eq!(
        j["phases"][0]["ops"].as_array().unwrap().len(),
        s.graph.ops.len()
    );
    // The ledger totals are the sum of the per-op rows.
    let sum: f64 = s.eval.per_op.iter().map(|l| l.latency_s).sum();
    assert!((sum - lat).abs() < 1e-12 + 1e-9 * lat);
    assert!(s.to_table(&hw).contains("images/s"));
    assert_eq!(
        s.to_csv(&hw).unwrap().lines().count(),
        1 + s.graph.ops.len()
    );

    let bert = VisionModel::parse("bert-base").unwrap();
    assert_eq!(bert.sample(), Sample::Sequence);
    let s = score_vision(&hw, &bert, &q, &req).unwrap();
    let j = s.to_json(&hw);
    assert!(j["metrics"]["sequences_per_s"].as_f64().unwrap() > 0.0);
    assert!(j["phases"][0]["j_per_sequence"].as_f64().unwrap() > 0.0);
}
