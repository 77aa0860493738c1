//! ONNX import: models built here through the protobuf types, and the two real ONNX files in
//! `tests/data/` written with the `onnx` Python package by `tests/data/make_onnx.py` (checked
//! there with `onnx.checker`). Expected counts are worked out by hand in each test.

use archscope::workload::onnx::{OnnxError, OnnxModel};
use archscope::workload::{
    DType, EltOp, Graph, Model, MoveKind, OpKind, QuantScheme, Role, Sample, load_model,
};
use prost::Message;
use std::path::Path;
use tract_onnx::pb;
use tract_onnx::pb::attribute_proto::AttributeType;
use tract_onnx::pb::tensor_proto::DataType;
use tract_onnx::pb::tensor_shape_proto::{Dimension, dimension::Value as DimValue};

fn fp32() -> QuantScheme {
    QuantScheme::float(DType::F32)
}

fn attr_ints(name: &str, v: &[i64]) -> pb::AttributeProto {
    pb::AttributeProto {
        name: name.into(),
        r#type: AttributeType::Ints as i32,
        ints: v.to_vec(),
        ..Default::default()
    }
}

fn attr_int(name: &str, v: i64) -> pb::AttributeProto {
    pb::AttributeProto {
        name: name.into(),
        r#type: AttributeType::Int as i32,
        i: v,
        ..Default::default()
    }
}

fn attr_str(name: &str, v: &str) -> pb::AttributeProto {
    pb::AttributeProto {
        name: name.into(),
        r#type: AttributeType::String as i32,
        s: v.as_bytes().to_vec(),
        ..Default::default()
    }
}

fn node(
    op: &str,
    name: &str,
    ins: &[&str],
    outs: &[&str],
    attrs: Vec<pb::AttributeProto>,
) -> pb::NodeProto {
    pb::NodeProto {
        input: ins.iter().map(|s| s.to_string()).collect(),
        output: outs.iter().map(|s| s.to_string()).collect(),
        name: name.into(),
        op_type: op.into(),
        attribute: attrs,
        ..Default::default()
    }
}

/// A float initializer of zeros.
fn weight(name: &str, dims: &[i64]) -> pb::TensorProto {
    pb::TensorProto {
        name: name.into(),
        dims: dims.to_vec(),
        data_type: DataType::Float as i32,
        float_data: vec![0.0; dims.iter().product::<i64>() as usize],
        ..Default::default()
    }
}

fn floats(name: &str, dims: &[i64], v: &[f32]) -> pb::TensorProto {
    pb::TensorProto {
        float_data: v.to_vec(),
        ..weight(name, dims)
    }
}

fn ints(name: &str, v: &[i64]) -> pb::TensorProto {
    pb::TensorProto {
        name: name.into(),
        dims: vec![v.len() as i64],
        data_type: DataType::Int64 as i32,
        int64_data: v.to_vec(),
        ..Default::default()
    }
}

enum D {
    V(i64),
    P(&'static str),
}

fn value(name: &str, elem: DataType, dims: &[D]) -> pb::ValueInfoProto {
    pb::ValueInfoProto {
        name: name.into(),
        r#type: Some(pb::TypeProto {
            value: Some(pb::type_proto::Value::TensorType(pb::type_proto::Tensor {
                elem_type: elem as i32,
                shape: Some(pb::TensorShapeProto {
                    dim: dims
                        .iter()
                        .map(|d| Dimension {
                            value: Some(match d {
                                D::V(v) => DimValue::DimValue(*v),
                                D::P(p) => DimValue::DimParam(p.to_string()),
                            }),
                            ..Default::default()
                        })
                        .collect(),
                }),
            })),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn model(
    nodes: Vec<pb::NodeProto>,
    inputs: Vec<pb::ValueInfoProto>,
    outputs: &[&str],
    inits: Vec<pb::TensorProto>,
    opset: i64,
) -> pb::ModelProto {
    pb::ModelProto {
        ir_version: 8,
        opset_import: vec![pb::OperatorSetIdProto {
            domain: String::new(),
            version: opset,
        }],
        graph: Some(pb::GraphProto {
            node: nodes,
            name: "test".into(),
            initializer: inits,
            input: inputs,
            output: outputs
                .iter()
                .map(|o| pb::ValueInfoProto {
                    name: o.to_string(),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// Encodes and decodes, as reading a file does.
fn load(m: pb::ModelProto) -> Result<OnnxModel, OnnxError> {
    OnnxModel::from_bytes(&m.encode_to_vec(), "test.onnx", "test", &[])
}

/// Checks the graph and that every activation has one producer and at least one reader.
fn check_liveness(g: &Graph) {
    g.validate().unwrap();
    for (i, t) in g.tensors.iter().enumerate() {
        let id = archscope::workload::TensorId(i as u32);
        let producers = g.ops.iter().filter(|o| o.outputs.contains(&id)).count();
        let readers = g.ops.iter().filter(|o| o.inputs.contains(&id)).count();
        match t.role {
            Role::Activation => assert!(producers == 1 && readers > 0, "{}", t.name),
            Role::Output => assert_eq!(producers, 1, "{}", t.name),
            _ => assert!(readers > 0, "{}", t.name),
        }
    }
}

fn count(g: &Graph, kind: &str) -> usize {
    g.ops.iter().filter(|o| o.kind.name() == kind).count()
}

fn image(c: i64, h: i64) -> pb::ValueInfoProto {
    value(
        "x",
        DataType::Float,
        &[D::P("N"), D::V(c), D::V(h), D::V(h)],
    )
}

#[test]
fn real_file_mobilenet_block() {
    let m = load_model("tests/data/mobilenet_block.onnx").unwrap();
    let Model::Vision(m) = m else {
        panic!("not a vision model")
    };
    assert_eq!(m.sample(), Sample::Image);
    let g = m.build(&fp32(), 1).unwrap();
    check_liveness(&g);
    // Initializer elements, the two scalar clip bounds folded away: stem 16·3·3·3 = 432,
    // BN 4·16 = 64, expand 64·16 + 64, depthwise 64·9 + 64, project 16·64 + 16, SE 8·16 + 8 and
    // 16·8 + 16, classifier 10·16 + 10.
    assert_eq!(
        g.param_count(),
        432 + 64 + 1088 + 640 + 1040 + 136 + 144 + 170
    );
    // MACs over the 16×16 map after the stride-2 stem: stem 256·16·27, expand 256·64·16,
    // depthwise 256·64·9, project 256·16·64, SE 2·128, classifier 160.
    let macs = 256.0 * 16.0 * 27.0
        + 256.0 * 64.0 * 16.0
        + 256.0 * 64.0 * 9.0
        + 256.0 * 16.0 * 64.0
        + 256.0
        + 160.0;
    assert_eq!(g.macs(), macs);
    // 18 compute nodes; the five shape-arithmetic nodes of the exported flatten fold away.
    assert_eq!(g.ops.len(), 18);
    assert_eq!(count(&g, "dwconv2d"), 1);
    assert_eq!(count(&g, "conv2d"), 5);
    let relu6 = g
        .ops
        .iter()
        .filter(|o| {
            matches!(
                o.kind,
                OpKind::Elementwise {
                    op: EltOp::Relu6,
                    ..
                }
            )
        })
        .count();
    assert_eq!(relu6, 3, "Clip(0, 6) is ReLU6");
    let out: Vec<&Vec<u64>> = g
        .tensors
        .iter()
        .filter(|t| t.role == Role::Output)
        .map(|t| &t.shape)
        .collect();
    assert_eq!(out, vec![&vec![1, 10]]);
    // The symbolic batch follows --batch.
    let g8 = m.build(&fp32(), 8).unwrap();
    assert_eq!(g8.macs(), 8.0 * macs);
    assert_eq!(g8.tensors[0].shape, vec![8, 3, 32, 32]);
    // Conv weights are [out, in·kh·kw] matrices so int8 scales count per output channel.
    let w8 = m.build(&QuantScheme::parse("w8a8").unwrap(), 1).unwrap();
    let stem_w = w8.tensors.iter().find(|t| t.name == "stem.w").unwrap();
    assert_eq!(stem_w.shape, vec![16, 27]);
    assert_eq!(stem_w.bytes(), 432.0 + 16.0 * 2.0);
}

#[test]
fn real_file_encoder_block() {
    let e = load_model("tests/data/encoder_block.onnx")
        .unwrap_err()
        .to_string();
    assert!(e.contains("sequence") && e.contains("?sequence=128"), "{e}");
    let Model::Vision(m) = load_model("tests/data/encoder_block.onnx?sequence=16").unwrap() else {
        panic!("not a vision model")
    };
    assert_eq!(m.name, "encoder_block?sequence=16");
    assert_eq!(m.sample(), Sample::Sequence);
    let g = m.build(&fp32(), 1).unwrap();
    check_liveness(&g);
    // embed 100·32, three LayerNorms 3·64, q/k/v/o 4·(32·32 + 32), MLP 32·64 + 64 + 64·32 + 32.
    assert_eq!(g.param_count(), 3200 + 192 + 4224 + 2112 + 2080);
    // 16 tokens: projections 4·16·32·32, QKᵀ and PV 2 heads · 16·16·16 each, MLP 2·16·32·64.
    assert_eq!(
        g.macs(),
        4.0 * 16.0 * 1024.0 + 2.0 * 2.0 * 4096.0 + 2.0 * 16.0 * 2048.0
    );
    assert_eq!(count(&g, "matmul"), 8);
    assert_eq!(
        count(&g, "transpose"),
        4,
        "head split/merge permutes are copies"
    );
    assert_eq!(count(&g, "embedding"), 1);
    assert_eq!(count(&g, "softmax"), 1);
    assert_eq!(count(&g, "norm"), 3);
    // QKᵀ is a batched product of two activations: 2 heads of 16×16×16.
    let qk = g.ops.iter().find(|o| o.name == "qk").unwrap();
    assert_eq!(
        qk.kind,
        OpKind::MatMul {
            batch: 2,
            m: 16,
            n: 16,
            k: 16
        }
    );
    // The embedding gather reads 16 rows of the table, not all 100.
    let emb = g.ops.iter().find(|o| o.name == "embed").unwrap();
    assert_eq!(emb.bytes(&g).0, 16.0 * 4.0 + 16.0 * 32.0 * 4.0);
    let g4 = m.build(&fp32(), 4).unwrap();
    assert_eq!(g4.macs(), 4.0 * g.macs());
}

#[test]
fn unsupported_ops_name_the_op_and_node() {
    let m = model(
        vec![node("NonMaxSuppression", "nms_1", &["x"], &["y"], vec![])],
        vec![image(3, 8)],
        &["y"],
        vec![],
        17,
    );
    let e = load(m).unwrap_err();
    assert!(matches!(e, OnnxError::Unsupported { .. }));
    let s = e.to_string();
    assert!(
        s.contains("`NonMaxSuppression`") && s.contains("`nms_1`"),
        "{s}"
    );
    let mut custom = node("Relu", "r", &["x"], &["y"], vec![]);
    custom.domain = "com.microsoft".into();
    let s = load(model(vec![custom], vec![image(3, 8)], &["y"], vec![], 17))
        .unwrap_err()
        .to_string();
    assert!(s.contains("com.microsoft"), "{s}");
}

#[test]
fn bad_files_are_errors() {
    let e = OnnxModel::from_bytes(b"not a protobuf \xff\xff", "x.onnx", "x", &[]).unwrap_err();
    assert!(matches!(e, OnnxError::Decode { .. }), "{e}");
    let e = OnnxModel::from_file(Path::new("tests/data/missing.onnx"), &[]).unwrap_err();
    assert!(e.to_string().contains("missing.onnx"));
    // A node reading a value nobody produces.
    let m = model(
        vec![node("Relu", "r", &["nothing"], &["y"], vec![])],
        vec![image(3, 8)],
        &["y"],
        vec![],
        17,
    );
    assert!(load(m).unwrap_err().to_string().contains("`nothing`"));
    // A cycle.
    let m = model(
        vec![
            node("Add", "a", &["x", "b_out"], &["a_out"], vec![]),
            node("Relu", "b", &["a_out"], &["b_out"], vec![]),
        ],
        vec![image(3, 8)],
        &["b_out"],
        vec![],
        17,
    );
    assert!(load(m).unwrap_err().to_string().contains("cycle"));
    // Wrong channel count for the weight.
    let m = model(
        vec![node("Conv", "c", &["x", "w"], &["y"], vec![])],
        vec![image(4, 8)],
        &["y"],
        vec![weight("w", &[8, 3, 3, 3])],
        17,
    );
    let s = load(m).unwrap_err().to_string();
    assert!(s.contains("`c`") && s.contains("channels"), "{s}");
}

#[test]
fn fixed_batch_and_value_info_are_checked() {
    let fixed = value("x", DataType::Float, &[D::V(1), D::V(3), D::V(8), D::V(8)]);
    let m = load(model(
        vec![node("Relu", "r", &["x"], &["y"], vec![])],
        vec![fixed],
        &["y"],
        vec![],
        17,
    ))
    .unwrap();
    assert_eq!(m.fixed_batch(), Some(1));
    assert!(m.build(&fp32(), 1).is_ok());
    let e = m.build(&fp32(), 2).unwrap_err().to_string();
    assert!(e.contains("fixed batch of 1"), "{e}");
    // A model exported at batch 8 loads (it is checked at its own batch).
    let fixed8 = value("x", DataType::Float, &[D::V(8), D::V(3), D::V(8), D::V(8)]);
    let m = load(model(
        vec![node("Relu", "r", &["x"], &["y"], vec![])],
        vec![fixed8],
        &["y"],
        vec![],
        17,
    ))
    .unwrap();
    assert_eq!(m.fixed_batch(), Some(8));
    assert_eq!(
        m.build(&fp32(), 8).unwrap().ops[0].kind.flops(),
        8.0 * 192.0
    );
    // value_info that disagrees with the inferred shape.
    let mut bad = model(
        vec![node("Conv", "c", &["x", "w"], &["y"], vec![])],
        vec![image(3, 8)],
        &["y"],
        vec![weight("w", &[8, 3, 3, 3])],
        17,
    );
    bad.graph.as_mut().unwrap().value_info = vec![value(
        "y",
        DataType::Float,
        &[D::P("N"), D::V(8), D::V(8), D::V(8)],
    )];
    let e = load(bad).unwrap_err().to_string();
    assert!(e.contains("disagrees") && e.contains("[1, 8, 6, 6]"), "{e}");
}

#[test]
fn same_padding_strides_and_pools() {
    // 7×7 input, 3×3 stride-2 SAME_UPPER: output ceil(7/2) = 4; total padding
    // (4−1)·2 + 3 − 7 = 2, split 1/1. Then a ceil-mode 2×2/2 max pool: 4 → 2; then 3×3/1 average
    // pool with pads 1 keeps 2×2.
    let m = model(
        vec![
            node(
                "Conv",
                "c",
                &["x", "w", "b"],
                &["y"],
                vec![
                    attr_str("auto_pad", "SAME_UPPER"),
                    attr_ints("strides", &[2, 2]),
                ],
            ),
            node(
                "MaxPool",
                "p",
                &["y"],
                &["z"],
                vec![
                    attr_ints("kernel_shape", &[2, 2]),
                    attr_ints("strides", &[2, 2]),
                    attr_int("ceil_mode", 1),
                ],
            ),
            node(
                "AveragePool",
                "a",
                &["z"],
                &["o"],
                vec![
                    attr_ints("kernel_shape", &[3, 3]),
                    attr_ints("pads", &[1, 1, 1, 1]),
                ],
            ),
        ],
        vec![image(3, 7)],
        &["o"],
        vec![weight("w", &[8, 3, 3, 3]), weight("b", &[8])],
        17,
    );
    let g = load(m).unwrap().build(&fp32(), 2).unwrap();
    assert_eq!(g.ops[0].kind.macs(), (2 * 4 * 4 * 8 * 27) as f64);
    let shapes: Vec<&Vec<u64>> = g
        .ops
        .iter()
        .map(|o| &g.tensor(o.outputs[0]).shape)
        .collect();
    assert_eq!(
        shapes,
        vec![&vec![2, 8, 4, 4], &vec![2, 8, 2, 2], &vec![2, 8, 2, 2]]
    );
    // Asymmetric TF padding (0 before, 1 after) on an even input: 8 → 4 with stride 2.
    let m = model(
        vec![node(
            "Conv",
            "c",
            &["x", "w"],
            &["y"],
            vec![
                attr_ints("strides", &[2, 2]),
                attr_ints("pads", &[0, 0, 1, 1]),
            ],
        )],
        vec![image(3, 8)],
        &["y"],
        vec![weight("w", &[4, 3, 3, 3])],
        17,
    );
    let g = load(m).unwrap().build(&fp32(), 1).unwrap();
    assert_eq!(g.tensor(g.ops[0].outputs[0]).shape, vec![1, 4, 4, 4]);
    assert_eq!(g.macs(), (4 * 4 * 4 * 27) as f64);
}

#[test]
fn unet_style_ops() {
    // ConvTranspose 2×2/2 (8→4 channels, 6×6 → 12×12), nearest Resize ×2 of a 6×6 map, Concat,
    // Slice of the centre 8×8, Pad by 1, Split into two, ReduceMean over the spatial axes.
    let m = model(
        vec![
            node(
                "ConvTranspose",
                "up",
                &["x", "wt", "bt"],
                &["u"],
                vec![attr_ints("strides", &[2, 2])],
            ),
            node(
                "Resize",
                "rs",
                &["x", "", "scales"],
                &["r"],
                vec![attr_str("mode", "nearest")],
            ),
            node(
                "Concat",
                "cat",
                &["u", "r"],
                &["c"],
                vec![attr_int("axis", 1)],
            ),
            node("Slice", "crop", &["c", "st", "en", "ax"], &["s"], vec![]),
            node("Pad", "pad", &["s", "pads"], &["p"], vec![]),
            node(
                "Split",
                "split",
                &["p", "halves"],
                &["p0", "p1"],
                vec![attr_int("axis", 1)],
            ),
            node(
                "ReduceMean",
                "mean",
                &["p1"],
                &["m"],
                vec![attr_ints("axes", &[2, 3]), attr_int("keepdims", 0)],
            ),
        ],
        vec![image(8, 6)],
        &["p0", "m"],
        vec![
            weight("wt", &[8, 4, 2, 2]),
            weight("bt", &[4]),
            floats("scales", &[4], &[1.0, 1.0, 2.0, 2.0]),
            ints("st", &[2, 2]),
            ints("en", &[10, 10]),
            ints("ax", &[2, 3]),
            ints("pads", &[0, 0, 1, 1, 0, 0, 1, 1]),
            ints("halves", &[4, 8]),
        ],
        17,
    );
    let g = load(m).unwrap().build(&fp32(), 1).unwrap();
    let shape = |name: &str| {
        g.tensors
            .iter()
            .find(|t| t.name == name)
            .unwrap_or_else(|| panic!("{name}"))
            .shape
            .clone()
    };
    assert_eq!(shape("u"), vec![1, 4, 12, 12]);
    assert_eq!(shape("r"), vec![1, 8, 12, 12]);
    assert_eq!(shape("c"), vec![1, 12, 12, 12]);
    assert_eq!(shape("s"), vec![1, 12, 8, 8]);
    assert_eq!(shape("p"), vec![1, 12, 10, 10]);
    assert_eq!(shape("p0"), vec![1, 4, 10, 10]);
    assert_eq!(shape("m"), vec![1, 8]);
    // Transposed conv MACs: every one of 6·6·8 inputs through 2·2·4 weights.
    assert_eq!(g.ops[0].kind.macs(), (36 * 8 * 16) as f64);
    // The crop reads only the 12·8·8 window it copies (fp32).
    let crop = g.ops.iter().find(|o| o.name == "crop").unwrap();
    assert_eq!(crop.bytes(&g), (12.0 * 64.0 * 4.0, 12.0 * 64.0 * 4.0));
    assert!(matches!(
        crop.kind,
        OpKind::DataMove {
            kind: MoveKind::Slice,
            ..
        }
    ));
    // Mean over 10·10 per channel: 100 adds + 1 divide per output.
    let mean = g.ops.iter().find(|o| o.name == "mean").unwrap();
    assert_eq!(mean.kind.flops(), 8.0 * 101.0);
    let outs = g.tensors.iter().filter(|t| t.role == Role::Output).count();
    assert_eq!(outs, 2);
}

#[test]
fn opset_11_softmax_flattens_from_the_axis() {
    // Before opset 13, Softmax(axis=1) on [N, 4, 5] normalises rows of 4·5 = 20.
    let x = value("x", DataType::Float, &[D::P("N"), D::V(4), D::V(5)]);
    let m = model(
        vec![node(
            "Softmax",
            "sm",
            &["x"],
            &["y"],
            vec![attr_int("axis", 1)],
        )],
        vec![x],
        &["y"],
        vec![],
        11,
    );
    let g = load(m).unwrap().build(&fp32(), 3).unwrap();
    assert_eq!(g.ops[0].kind, OpKind::Softmax { rows: 3, cols: 20 });
}

#[test]
fn exported_embedding_and_mask_arithmetic_folds() {
    // The pattern PyTorch exports for BERT-style inputs: position ids from Range over the
    // sequence length read off the input shape, a gather of the position table with them, and
    // an additive attention mask (1 − mask)·(−10000) broadcast over heads with Expand.
    let ids = value("ids", DataType::Int64, &[D::P("batch"), D::P("seq")]);
    let mask = value("mask", DataType::Int64, &[D::P("batch"), D::P("seq")]);
    let m = model(
        vec![
            node("Shape", "shape", &["ids"], &["s"], vec![]),
            node(
                "Gather",
                "len",
                &["s", "one_i"],
                &["len"],
                vec![attr_int("axis", 0)],
            ),
            node(
                "Range",
                "range",
                &["zero_i", "len", "one_i"],
                &["pos"],
                vec![],
            ),
            node("Unsqueeze", "pos2", &["pos", "ax0"], &["pos_ids"], vec![]),
            node(
                "Gather",
                "pos_embed",
                &["pos_table", "pos_ids"],
                &["p"],
                vec![],
            ),
            node(
                "Gather",
                "word_embed",
                &["word_table", "ids"],
                &["w"],
                vec![],
            ),
            node("Add", "sum", &["w", "p"], &["x"], vec![]),
            node("Unsqueeze", "m4", &["mask", "ax12"], &["m4"], vec![]),
            node("Cast", "mf", &["m4"], &["mf"], vec![attr_int("to", 1)]),
            node("Sub", "inv", &["one_f", "mf"], &["inv"], vec![]),
            node("Mul", "neg", &["inv", "big"], &["bias"], vec![]),
            node(
                "Concat",
                "bshape",
                &["b1", "heads", "s1", "s1"],
                &["bshape"],
                vec![attr_int("axis", 0)],
            ),
            node(
                "Gather",
                "b",
                &["s", "zero_i"],
                &["b0"],
                vec![attr_int("axis", 0)],
            ),
            node("Unsqueeze", "b1", &["b0", "ax0"], &["b1"], vec![]),
            node("Unsqueeze", "s1", &["len", "ax0"], &["s1"], vec![]),
            node("Expand", "expand", &["bias", "bshape"], &["bias4"], vec![]),
        ],
        vec![ids, mask],
        &["x", "bias4"],
        vec![
            weight("pos_table", &[64, 8]),
            weight("word_table", &[50, 8]),
            pb::TensorProto {
                dims: vec![],
                ..ints("zero_i", &[0])
            },
            pb::TensorProto {
                dims: vec![],
                ..ints("one_i", &[1])
            },
            ints("ax0", &[0]),
            ints("ax12", &[1, 2]),
            ints("heads", &[4]),
            floats("one_f", &[], &[1.0]),
            floats("big", &[], &[-10000.0]),
        ],
        17,
    );
    // The nodes are not in execution order (bshape reads b1 and s1 defined later): the import
    // sorts them.
    let m = OnnxModel::from_bytes(
        &m.encode_to_vec(),
        "t.onnx",
        "t",
        &[("seq".to_string(), 10)],
    )
    .unwrap();
    assert_eq!(m.sample(), Sample::Sequence);
    let g = m.build(&fp32(), 2).unwrap();
    check_liveness(&g);
    // Shape, Gather, Range, Unsqueeze and Concat fold: the ops are the two gathers, the add,
    // the cast, sub, mul and the broadcast.
    let names: Vec<&str> = g.ops.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(
        names,
        vec![
            "pos_embed",
            "word_embed",
            "sum",
            "mf",
            "inv",
            "neg",
            "expand"
        ]
    );
    // Fixed position ids: a copy of the first 10 rows of the table (10·8 fp32), not a gather.
    let pos = &g.ops[0];
    assert!(matches!(
        pos.kind,
        OpKind::DataMove {
            kind: MoveKind::Slice,
            elems: 80
        }
    ));
    assert_eq!(pos.bytes(&g).0, 320.0);
    // Token ids: a real gather of 2·10 rows.
    assert_eq!(g.ops[1].kind, OpKind::Embedding { tokens: 20, dim: 8 });
    let shape = |name: &str| {
        g.tensors
            .iter()
            .find(|t| t.name == name)
            .unwrap()
            .shape
            .clone()
    };
    assert_eq!(shape("x"), vec![2, 10, 8]);
    assert_eq!(shape("bias4"), vec![2, 4, 10, 10]);
    // Scalars (1.0 and −10000) are folded into their ops: Sub reads only the mask.
    assert_eq!(g.ops[4].inputs.len(), 1);
    assert!(matches!(
        g.ops[6].kind,
        OpKind::DataMove {
            kind: MoveKind::Broadcast,
            elems: 800
        }
    ));
}

// ---- hostile input: typed errors naming the file, node and field ----------------------------

/// The parts of a field error: file, node, field and what was expected.
fn field_error(e: OnnxError) -> (String, String, String, String) {
    match e {
        OnnxError::Field {
            path,
            node,
            field,
            expected,
            ..
        } => (path, node, field, expected),
        other => panic!("expected a field error, got: {other}"),
    }
}

fn out_shape(g: &Graph, name: &str) -> Vec<u64> {
    g.tensors
        .iter()
        .find(|t| t.name == name)
        .unwrap()
        .shape
        .clone()
}

#[test]
fn attribute_of_the_wrong_type_is_a_field_error() {
    let conv = |attrs: Vec<pb::AttributeProto>| {
        model(
            vec![node("Conv", "c", &["x", "w"], &["y"], attrs)],
            vec![image(1, 4)],
            &["y"],
            vec![weight("w", &[1, 1, 3, 3])],
            13,
        )
    };
    // kernel_shape given as the string "3" (the importer used to index an empty list).
    let e = load(conv(vec![attr_str("kernel_shape", "3")])).unwrap_err();
    let s = e.to_string();
    let (path, node, field, expected) = field_error(e);
    assert_eq!(
        (path.as_str(), node.as_str(), field.as_str()),
        ("test.onnx", "c", "attribute `kernel_shape`")
    );
    assert!(
        expected.contains("INTS") && s.contains("got a string (STRING)"),
        "{s}"
    );
    // A list that disagrees with the 3×3 weight.
    let (_, _, field, expected) =
        field_error(load(conv(vec![attr_ints("kernel_shape", &[5, 5])])).unwrap_err());
    assert_eq!(field, "attribute `kernel_shape`");
    assert!(expected.contains("[3, 3]"), "{expected}");
    // The matching list: 4 − 3 + 1 = 2.
    let g = load(conv(vec![attr_ints("kernel_shape", &[3, 3])]))
        .unwrap()
        .build(&fp32(), 1)
        .unwrap();
    assert_eq!(out_shape(&g, "y"), vec![1, 1, 2, 2]);
}

#[test]
fn shapes_past_the_element_limit_are_errors() {
    let relu = |c: i64, h: i64| {
        let x = value(
            "x",
            DataType::Float,
            &[D::P("N"), D::V(c), D::V(h), D::V(h)],
        );
        model(
            vec![node("Relu", "r", &["x"], &["y"], vec![])],
            vec![x],
            &["y"],
            vec![],
            13,
        )
    };
    // 2^31 · 2^31 · 2^31 elements wrap u64 (the Relu used to be priced at a few µs).
    let e = load(relu(1 << 31, 1 << 31)).unwrap_err();
    assert!(matches!(e, OnnxError::Model { .. }), "{e}");
    let s = e.to_string();
    assert!(
        s.starts_with("test.onnx:") && s.contains("graph input `x`") && s.contains("2^48"),
        "{s}"
    );
    // 2^15 · 2^16 · 2^16 = 2^47 elements per sample: batch 2 reaches the limit of 2^48
    // exactly, batch 4 passes it.
    let m = load(relu(1 << 15, 1 << 16)).unwrap();
    let g = m.build(&fp32(), 2).unwrap();
    assert_eq!(
        g.ops[0].kind,
        OpKind::Elementwise {
            op: EltOp::Relu,
            elems: 1 << 48
        }
    );
    let s = m.build(&fp32(), 4).unwrap_err().to_string();
    assert!(s.contains("graph input `x`") && s.contains("2^48"), "{s}");
    // An intermediate past the limit: a MatMul of [N, 2^24, 1] by [1, 2^24] gives 2^48 per
    // sample, over the limit at batch 2.
    let x = value("x", DataType::Float, &[D::P("N"), D::V(1 << 24), D::V(1)]);
    let m = load(model(
        vec![node("MatMul", "outer", &["x", "w"], &["y"], vec![])],
        vec![x],
        &["y"],
        vec![weight("w", &[1, 1 << 24])],
        13,
    ))
    .unwrap();
    let (_, node, field, expected) = field_error(m.build(&fp32(), 2).unwrap_err());
    assert_eq!((node.as_str(), field.as_str()), ("outer", "output `y`"));
    assert!(expected.contains("2^48"), "{expected}");
    // The shipped encoder at 2^32 tokens: its attention scores, 2 heads of 2^32 × 2^32, overflow
    // u64 (softmax used to get 0 FLOPs).
    let s = load_model("tests/data/encoder_block.onnx?sequence=4294967296")
        .unwrap_err()
        .to_string();
    assert!(
        s.contains("encoder_block.onnx: node `qk` (MatMul): output `scores`")
            && s.contains("more than 2^64 elements"),
        "{s}"
    );
}

#[test]
fn resize_scales_must_be_finite_and_positive() {
    let resize = |sc: &[f32]| {
        model(
            vec![node("Resize", "up", &["x", "", "sc"], &["y"], vec![])],
            vec![image(3, 8)],
            &["y"],
            vec![floats("sc", &[4], sc)],
            13,
        )
    };
    // Scale 2 on the 8×8 map: 16×16.
    let g = load(resize(&[1.0, 1.0, 2.0, 2.0]))
        .unwrap()
        .build(&fp32(), 1)
        .unwrap();
    assert_eq!(out_shape(&g, "y"), vec![1, 3, 16, 16]);
    for bad in [
        [1.0, 1.0, 0.0, 0.0],
        [1.0, 1.0, -2.0, 2.0],
        [1.0, 1.0, f32::NAN, 2.0],
        [1.0, 1.0, f32::INFINITY, 1.0],
    ] {
        let (path, node, field, expected) = field_error(load(resize(&bad)).unwrap_err());
        assert_eq!(
            (path.as_str(), node.as_str(), field.as_str()),
            ("test.onnx", "up", "input #2 (scales)")
        );
        assert!(expected.contains("finite positive"), "{expected}");
    }
    // A positive scale that leaves nothing: 8 · 0.1 = 0.8 rounds down to 0.
    let (_, _, field, expected) = field_error(load(resize(&[1.0, 1.0, 0.1, 1.0])).unwrap_err());
    assert_eq!(field, "input #2 (scales)");
    assert!(expected.contains("axis 2"), "{expected}");
}

#[test]
fn convolution_groups_must_be_positive() {
    let conv = |op: &str, group: i64| {
        model(
            vec![node(
                op,
                "c",
                &["x", "w"],
                &["y"],
                vec![attr_int("group", group)],
            )],
            vec![image(4, 8)],
            &["y"],
            vec![weight("w", &[4, 4, 3, 3])],
            13,
        )
    };
    // One group: 8 − 3 + 1 = 6, and 4·6·6 outputs of 4·3·3 MACs each.
    let g = load(conv("Conv", 1)).unwrap().build(&fp32(), 1).unwrap();
    assert_eq!(out_shape(&g, "y"), vec![1, 4, 6, 6]);
    assert_eq!(g.macs(), 144.0 * 36.0);
    // Groups of 0 used to be read as 1.
    for (op, bad) in [("Conv", 0), ("Conv", -2), ("ConvTranspose", 0)] {
        let e = load(conv(op, bad)).unwrap_err();
        let s = e.to_string();
        let (_, node, field, expected) = field_error(e);
        assert_eq!(
            (node.as_str(), field.as_str()),
            ("c", "attribute `group`"),
            "{s}"
        );
        assert!(
            expected.contains("positive") && s.ends_with(&format!("got {bad}")),
            "{s}"
        );
    }
}

#[test]
fn tile_repeats_must_be_non_negative_and_fit() {
    let tile = |r: &[i64]| {
        model(
            vec![node("Tile", "t", &["x", "r"], &["y"], vec![])],
            vec![image(3, 8)],
            &["y"],
            vec![ints("r", r)],
            13,
        )
    };
    // [1, 3, 8, 8] tiled (1, 2, 1, 1): [1, 6, 8, 8].
    let g = load(tile(&[1, 2, 1, 1]))
        .unwrap()
        .build(&fp32(), 1)
        .unwrap();
    assert_eq!(out_shape(&g, "y"), vec![1, 6, 8, 8]);
    // A negative repeat used to give an empty axis.
    let (_, node, field, expected) = field_error(load(tile(&[1, -1, 1, 1])).unwrap_err());
    assert_eq!((node.as_str(), field.as_str()), ("t", "input #1 (repeats)"));
    assert!(expected.contains("non-negative"), "{expected}");
    // 2^30 on every axis: 3·2^30 · (8·2^30)² overflows u64.
    let (_, _, field, expected) = field_error(load(tile(&[1 << 30; 4])).unwrap_err());
    assert_eq!(field, "output `y`");
    assert!(expected.contains("2^48"), "{expected}");
}

#[test]
fn huge_pads_are_errors() {
    let conv = |p: i64| {
        model(
            vec![node(
                "Conv",
                "c",
                &["x", "w"],
                &["y"],
                vec![attr_ints("pads", &[p; 4])],
            )],
            vec![image(3, 8)],
            &["y"],
            vec![weight("w", &[8, 3, 3, 3])],
            13,
        )
    };
    // Pads of 1 keep 8×8: 8 + 2 − 3 + 1.
    let g = load(conv(1)).unwrap().build(&fp32(), 1).unwrap();
    assert_eq!(out_shape(&g, "y"), vec![1, 8, 8, 8]);
    // Pads of 2^62 used to be priced as the unpadded convolution.
    let e = load(conv(1 << 62)).unwrap_err();
    let s = e.to_string();
    let (_, at, field, expected) = field_error(e);
    assert_eq!((at.as_str(), field.as_str()), ("c", "attribute `pads`"));
    assert!(
        expected.contains("2^24") && s.contains("4611686018427387904"),
        "{s}"
    );
    // The Pad op: 8 + 2·2^62 overflows i64.
    let pad = |p: i64| {
        model(
            vec![node("Pad", "p", &["x", "pads"], &["y"], vec![])],
            vec![image(3, 8)],
            &["y"],
            vec![ints("pads", &[0, 0, p, p, 0, 0, p, p])],
            13,
        )
    };
    let g = load(pad(2)).unwrap().build(&fp32(), 1).unwrap();
    assert_eq!(out_shape(&g, "y"), vec![1, 3, 12, 12]);
    let (_, at, field, _) = field_error(load(pad(1 << 62)).unwrap_err());
    assert_eq!((at.as_str(), field.as_str()), ("p", "input #1 (pads)"));
}

#[test]
fn a_graph_without_operators_is_an_error() {
    // No nodes at all (it used to score a latency of 0).
    let e = load(model(vec![], vec![], &[], vec![], 13)).unwrap_err();
    assert!(matches!(e, OnnxError::Empty { .. }), "{e}");
    let s = e.to_string();
    assert!(s.starts_with("test.onnx:") && s.contains("no nodes"), "{s}");
    // One Reshape: a view, which adds no op.
    let m = model(
        vec![node("Reshape", "r", &["x", "s"], &["y"], vec![])],
        vec![image(3, 8)],
        &["y"],
        vec![ints("s", &[1, -1])],
        13,
    );
    let e = load(m).unwrap_err();
    assert!(matches!(e, OnnxError::Empty { .. }), "{e}");
    assert!(e.to_string().contains("one node"), "{e}");
}

/// The hostile files of the bad-input probe, read from the shared folder next to the checkout
/// when there is one (the tests above build the same cases in memory).
#[test]
fn shared_repro_files_are_clean_errors() {
    let dir = Path::new("../shared/repro");
    if !dir.is_dir() {
        eprintln!("skipping: {} is absent", dir.display());
        return;
    }
    for (file, what) in [
        (
            "onnx_conv_kernel_shape_string.onnx",
            "attribute `kernel_shape`",
        ),
        ("onnx_conv_pads_2p62.onnx", "attribute `pads`"),
        ("onnx_empty_graph.onnx", "no operators"),
        ("onnx_relu_2p31_cubed.onnx", "2^48"),
        ("onnx_resize_scale_zero.onnx", "input #2 (scales)"),
        ("onnx_tile_huge.onnx", "2^48"),
    ] {
        let path = dir.join(file);
        if !path.is_file() {
            eprintln!("skipping: {} is absent", path.display());
            continue;
        }
        let e = OnnxModel::from_file(&path, &[]).unwrap_err().to_string();
        eprintln!("{e}");
        assert!(e.contains(file) && e.contains(what), "{file}: {e}");
    }
}
