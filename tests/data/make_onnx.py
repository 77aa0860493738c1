#!/usr/bin/env python3
"""Writes the small ONNX models that tests/onnx_import.rs reads.

Run from the repository root with the `onnx` and `numpy` packages installed
(`pip install onnx numpy`); the outputs are committed, so CI needs neither.

* tests/data/mobilenet_block.onnx: a MobileNetV2-style network on 32x32 RGB with a symbolic
  batch: conv-BN-ReLU6 stem, one inverted residual (1x1 expand, 3x3 depthwise, 1x1 project,
  residual add), a squeeze-excitation gate (hard-sigmoid), max pool, global average pool, a
  flatten written as PyTorch exports it (Shape -> Gather -> Unsqueeze -> Concat -> Reshape) and
  a Gemm classifier. No value_info: archscope must infer every shape.
* tests/data/encoder_block.onnx: a BERT-style encoder layer on int64 token ids with symbolic
  `batch` and `sequence`: embedding Gather, LayerNormalization, q/k/v MatMul + bias, heads split
  by Reshape/Transpose with shapes computed from Shape, QK^T, scaling Div, Softmax, PV, output
  projection, residual, LayerNormalization, an erf-GELU MLP and a residual.

Weights are random (seeded); only shapes matter to archscope.
"""

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

rng = np.random.default_rng(0)


def w(name, *shape):
    return numpy_helper.from_array(rng.standard_normal(shape).astype(np.float32), name)


def i64(name, values):
    return numpy_helper.from_array(np.array(values, dtype=np.int64), name)


def f32(name, value):
    return numpy_helper.from_array(np.array(value, dtype=np.float32), name)


def mobilenet_block():
    n = helper.make_node
    inits = [
        w("stem.w", 16, 3, 3, 3),
        w("bn.scale", 16), w("bn.bias", 16), w("bn.mean", 16), w("bn.var", 16),
        w("expand.w", 64, 16, 1, 1), w("expand.b", 64),
        w("dw.w", 64, 1, 3, 3), w("dw.b", 64),
        w("project.w", 16, 64, 1, 1), w("project.b", 16),
        w("se.fc1.w", 8, 16, 1, 1), w("se.fc1.b", 8),
        w("se.fc2.w", 16, 8, 1, 1), w("se.fc2.b", 16),
        w("fc.w", 10, 16), w("fc.b", 10),
        f32("zero", 0.0), f32("six", 6.0),
        i64("idx0", 0), i64("axes0", [0]), i64("minus1", [-1]),
    ]
    nodes = [
        n("Conv", ["image", "stem.w"], ["stem"], name="stem",
          kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]),
        n("BatchNormalization", ["stem", "bn.scale", "bn.bias", "bn.mean", "bn.var"], ["stem.bn"],
          name="stem.bn"),
        n("Clip", ["stem.bn", "zero", "six"], ["stem.act"], name="stem.relu6"),
        n("Conv", ["stem.act", "expand.w", "expand.b"], ["expand"], name="block.expand",
          kernel_shape=[1, 1]),
        n("Clip", ["expand", "zero", "six"], ["expand.act"], name="block.expand.relu6"),
        n("Conv", ["expand.act", "dw.w", "dw.b"], ["dw"], name="block.dw",
          kernel_shape=[3, 3], pads=[1, 1, 1, 1], group=64),
        n("Clip", ["dw", "zero", "six"], ["dw.act"], name="block.dw.relu6"),
        n("Conv", ["dw.act", "project.w", "project.b"], ["project"], name="block.project",
          kernel_shape=[1, 1]),
        n("Add", ["stem.act", "project"], ["block"], name="block.add"),
        n("GlobalAveragePool", ["block"], ["se.pool"], name="se.pool"),
        n("Conv", ["se.pool", "se.fc1.w", "se.fc1.b"], ["se.fc1"], name="se.fc1",
          kernel_shape=[1, 1]),
        n("Relu", ["se.fc1"], ["se.fc1.act"], name="se.relu"),
        n("Conv", ["se.fc1.act", "se.fc2.w", "se.fc2.b"], ["se.fc2"], name="se.fc2",
          kernel_shape=[1, 1]),
        n("HardSigmoid", ["se.fc2"], ["se.gate"], name="se.gate", alpha=1.0 / 6, beta=0.5),
        n("Mul", ["block", "se.gate"], ["se.out"], name="se.scale"),
        n("MaxPool", ["se.out"], ["pool"], name="pool", kernel_shape=[2, 2], strides=[2, 2]),
        n("GlobalAveragePool", ["pool"], ["gap"], name="gap"),
        n("Shape", ["gap"], ["gap.shape"], name="flatten.shape"),
        n("Gather", ["gap.shape", "idx0"], ["gap.n"], name="flatten.n", axis=0),
        n("Unsqueeze", ["gap.n", "axes0"], ["gap.n1"], name="flatten.unsqueeze"),
        n("Concat", ["gap.n1", "minus1"], ["flat.shape"], name="flatten.concat", axis=0),
        n("Reshape", ["gap", "flat.shape"], ["flat"], name="flatten"),
        n("Gemm", ["flat", "fc.w", "fc.b"], ["logits"], name="fc", transB=1),
    ]
    graph = helper.make_graph(
        nodes, "mobilenet_block",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 3, 32, 32])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 10])],
        inits,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                             producer_name="archscope tests/data/make_onnx.py")


def encoder_block():
    n = helper.make_node
    d, heads, ffn, vocab = 32, 2, 64, 100
    hd = d // heads
    inits = [
        w("embed", vocab, d),
        w("ln0.g", d), w("ln0.b", d),
        w("q.w", d, d), w("q.b", d), w("k.w", d, d), w("k.b", d), w("v.w", d, d), w("v.b", d),
        w("o.w", d, d), w("o.b", d),
        w("ln1.g", d), w("ln1.b", d),
        w("fc1.w", d, ffn), w("fc1.b", ffn), w("fc2.w", ffn, d), w("fc2.b", d),
        w("ln2.g", d), w("ln2.b", d),
        i64("i0", 0), i64("i1", 1), i64("ax0", [0]),
        i64("heads_hd", [heads, hd]), i64("d_only", [d]),
        f32("sqrt_hd", float(np.sqrt(hd))), f32("sqrt2", float(np.sqrt(2.0))),
        f32("one", 1.0), f32("half", 0.5),
    ]
    nodes = [
        n("Gather", ["embed", "input_ids"], ["x0"], name="embed", axis=0),
        n("LayerNormalization", ["x0", "ln0.g", "ln0.b"], ["x"], name="ln0", axis=-1),
        # [B, S] from the input shape, then [B, S, heads, hd] and [B, S, d]
        n("Shape", ["x"], ["xs"], name="shape"),
        n("Gather", ["xs", "i0"], ["b"], name="shape.b", axis=0),
        n("Gather", ["xs", "i1"], ["s"], name="shape.s", axis=0),
        n("Unsqueeze", ["b", "ax0"], ["b1"], name="shape.b1"),
        n("Unsqueeze", ["s", "ax0"], ["s1"], name="shape.s1"),
        n("Concat", ["b1", "s1", "heads_hd"], ["split_shape"], name="shape.split", axis=0),
        n("Concat", ["b1", "s1", "d_only"], ["merge_shape"], name="shape.merge", axis=0),
    ]
    for p in "qkv":
        nodes += [
            n("MatMul", ["x", f"{p}.w"], [f"{p}.mm"], name=f"{p}_proj"),
            n("Add", [f"{p}.mm", f"{p}.b"], [f"{p}.lin"], name=f"{p}_proj.bias"),
            n("Reshape", [f"{p}.lin", "split_shape"], [f"{p}.r"], name=f"{p}.reshape"),
        ]
    nodes += [
        n("Transpose", ["q.r"], ["q.t"], name="q.transpose", perm=[0, 2, 1, 3]),
        n("Transpose", ["k.r"], ["k.t"], name="k.transpose", perm=[0, 2, 3, 1]),
        n("Transpose", ["v.r"], ["v.t"], name="v.transpose", perm=[0, 2, 1, 3]),
        n("MatMul", ["q.t", "k.t"], ["scores"], name="qk"),
        n("Div", ["scores", "sqrt_hd"], ["scaled"], name="scale"),
        n("Softmax", ["scaled"], ["probs"], name="softmax", axis=-1),
        n("MatMul", ["probs", "v.t"], ["ctx"], name="av"),
        n("Transpose", ["ctx"], ["ctx.t"], name="ctx.transpose", perm=[0, 2, 1, 3]),
        n("Reshape", ["ctx.t", "merge_shape"], ["ctx.r"], name="ctx.reshape"),
        n("MatMul", ["ctx.r", "o.w"], ["o.mm"], name="o_proj"),
        n("Add", ["o.mm", "o.b"], ["o.lin"], name="o_proj.bias"),
        n("Add", ["x", "o.lin"], ["res1"], name="residual1"),
        n("LayerNormalization", ["res1", "ln1.g", "ln1.b"], ["h"], name="ln1", axis=-1),
        n("MatMul", ["h", "fc1.w"], ["fc1.mm"], name="fc1"),
        n("Add", ["fc1.mm", "fc1.b"], ["fc1.lin"], name="fc1.bias"),
        n("Div", ["fc1.lin", "sqrt2"], ["g.div"], name="gelu.div"),
        n("Erf", ["g.div"], ["g.erf"], name="gelu.erf"),
        n("Add", ["g.erf", "one"], ["g.add"], name="gelu.add"),
        n("Mul", ["fc1.lin", "g.add"], ["g.mul"], name="gelu.mul"),
        n("Mul", ["g.mul", "half"], ["gelu"], name="gelu.half"),
        n("MatMul", ["gelu", "fc2.w"], ["fc2.mm"], name="fc2"),
        n("Add", ["fc2.mm", "fc2.b"], ["fc2.lin"], name="fc2.bias"),
        n("Add", ["h", "fc2.lin"], ["res2"], name="residual2"),
        n("LayerNormalization", ["res2", "ln2.g", "ln2.b"], ["out"], name="ln2", axis=-1),
    ]
    graph = helper.make_graph(
        nodes, "encoder_block",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "sequence"])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, ["batch", "sequence", d])],
        inits,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                             producer_name="archscope tests/data/make_onnx.py")


for name, model in [("mobilenet_block", mobilenet_block()), ("encoder_block", encoder_block())]:
    onnx.checker.check_model(model, full_check=True)
    inferred = onnx.shape_inference.infer_shapes(model)
    print(name)
    for vi in inferred.graph.value_info:
        dims = [x.dim_value or x.dim_param for x in vi.type.tensor_type.shape.dim]
        print(f"  {vi.name}: {dims}")
    onnx.save(model, f"tests/data/{name}.onnx")
