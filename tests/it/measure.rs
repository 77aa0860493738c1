//! The measured backend computes what the graph says: small cases against hand-computed values,
//! the lowered convolution against candle's own, quantized matmuls against f32, and whole LLM
//! graphs end to end. No timing is asserted.

use archscope::measure::backend::ConvImpl;
use archscope::measure::{CandleBackend, Env};
use archscope::validate::cases::{attention_graph, conv_graph, ggml_storage, matmul_graph};
use archscope::workload::{
    Conv2d, DType, EltOp, Graph, LlmConfig, MoveKind, NormKind, OpId, OpKind, Phase, PoolKind,
    QuantScheme, Role, Storage, TensorId,
};
use candle_core::{Device, Tensor};

fn backend() -> CandleBackend {
    CandleBackend::new(1).unwrap()
}

fn t(data: &[f32], shape: &[usize]) -> Tensor {
    Tensor::from_vec(data.to_vec(), shape, &Device::Cpu).unwrap()
}

fn values(x: &Tensor) -> Vec<f32> {
    x.flatten_all().unwrap().to_vec1::<f32>().unwrap()
}

fn close(a: &[f32], b: &[f32], tol: f32) {
    assert_eq!(a.len(), b.len(), "{a:?} vs {b:?}");
    for (x, y) in a.iter().zip(b) {
        assert!((x - y).abs() <= tol * (1.0 + y.abs()), "{a:?} vs {b:?}");
    }
}

/// Runs `g` with the given inputs set by hand and returns the value of `out`.
fn run_with(b: &CandleBackend, g: &Graph, inputs: &[(u32, Tensor)], out: u32) -> Vec<f32> {
    let mut env: Env = b.prepare(g).unwrap();
    for (id, v) in inputs {
        env.set(TensorId(*id), v.clone());
    }
    b.run(g, &mut env).unwrap();
    values(env.get(TensorId(out)).expect("output computed"))
}

#[test]
fn linear_layer_is_x_times_w_transposed() {
    // x = [[1,2,3],[4,5,6]], W = [[1,0,1],[0,1,0]] (out, in): y = [[4,2],[10,5]]
    let g = matmul_graph(2, 2, 3, Storage::plain(DType::F32), DType::F32);
    let y = run_with(
        &backend(),
        &g,
        &[
            (0, t(&[1., 2., 3., 4., 5., 6.], &[2, 3])),
            (1, t(&[1., 0., 1., 0., 1., 0.], &[2, 3])),
        ],
        2,
    );
    assert_eq!(y, vec![4., 2., 10., 5.]);
}

fn conv(c_in: u64, c_out: u64, hw: u64, k: u64, stride: u64, groups: u64) -> Conv2d {
    Conv2d::square(c_in, hw, hw, c_out, k, stride, k / 2).grouped(groups)
}

#[test]
fn conv_by_hand() {
    // 3x3 input 1..9, 3x3 kernel of ones, padding 1: each output is the sum of its
    // neighbourhood. Stride 1: corner 1+2+4+5 = 12, centre 45. Stride 2: 12, 16, 24, 28.
    let x = t(&[1., 2., 3., 4., 5., 6., 7., 8., 9.], &[1, 1, 3, 3]);
    let w = t(&[1.; 9], &[1, 1, 3, 3]);
    for imp in [ConvImpl::Lowered, ConvImpl::Native] {
        let b = backend().with_conv(imp);
        let y = run_with(
            &b,
            &conv_graph(conv(1, 1, 3, 3, 1, 1)),
            &[(0, x.clone()), (1, w.clone())],
            2,
        );
        assert_eq!(
            y,
            vec![12., 21., 16., 27., 45., 33., 24., 39., 28.],
            "{imp:?}"
        );
        let y = run_with(
            &b,
            &conv_graph(conv(1, 1, 3, 3, 2, 1)),
            &[(0, x.clone()), (1, w.clone())],
            2,
        );
        assert_eq!(y, vec![12., 16., 24., 28.], "{imp:?}");
    }
}

#[test]
fn lowered_conv_matches_candle_conv() {
    for c in [
        conv(3, 8, 9, 3, 2, 1),  // stem-like, stride 2
        conv(8, 16, 7, 1, 1, 1), // pointwise
        conv(8, 16, 8, 1, 2, 1), // strided pointwise (downsample)
        conv(6, 6, 7, 3, 1, 6),  // depthwise
        conv(6, 6, 8, 3, 2, 6),  // strided depthwise
        conv(4, 8, 6, 3, 1, 2),  // grouped
        conv(4, 4, 9, 7, 2, 1),  // 7x7/2
    ] {
        let g = conv_graph(c);
        let x = Tensor::randn(
            0f32,
            1.0,
            (1, c.c_in as usize, c.h as usize, c.w as usize),
            &Device::Cpu,
        )
        .unwrap();
        let w = Tensor::randn(
            0f32,
            1.0,
            (
                c.c_out as usize,
                (c.c_in / c.groups) as usize,
                c.kh as usize,
                c.kw as usize,
            ),
            &Device::Cpu,
        )
        .unwrap();
        let ins = [(0, x), (1, w)];
        let a = run_with(&backend().with_conv(ConvImpl::Lowered), &g, &ins, 2);
        let b = run_with(&backend().with_conv(ConvImpl::Native), &g, &ins, 2);
        assert_eq!(a.len() as u64, c.c_out * c.out_h() * c.out_w());
        close(&a, &b, 1e-4);
    }
}

#[test]
fn decode_attention_by_hand() {
    // One head of width 2 over 2 cached positions: q = [1, 0], K = [[1,0],[0,1]],
    // V = [[1,2],[3,4]]. Scores [1/√2, 0]; p = softmax; out = p0·[1,2] + p1·[3,4].
    let g = attention_graph(1, 1, 2, 1, 2);
    let s = 1.0f64 / 2f64.sqrt();
    let p0 = s.exp() / (s.exp() + 1.0);
    let p1 = 1.0 - p0;
    let want = [(p0 + 3.0 * p1) as f32, (2.0 * p0 + 4.0 * p1) as f32];
    let y = run_with(
        &backend(),
        &g,
        &[
            (0, t(&[1., 0.], &[1, 2])),
            (1, t(&[1., 0., 0., 1.], &[1, 1, 2, 2])),
            (2, t(&[1., 2., 3., 4.], &[1, 1, 2, 2])),
        ],
        5,
    );
    close(&y, &want, 1e-5);
}

#[test]
fn prefill_attention_is_causal_and_grouped() {
    // Two query heads share one KV head (GQA); the first query sees only the first key, so its
    // output is V[0] for both heads whatever the scores.
    let g = attention_graph(2, 1, 2, 2, 2);
    let q = t(&[0.3, -1.0, 2.0, 0.5, 1.0, 1.0, -0.5, 0.25], &[2, 4]);
    let k = t(&[1., 0., 0., 1.], &[2, 2]);
    let v = t(&[1., 2., 3., 4.], &[2, 2]);
    let y = run_with(&backend(), &g, &[(0, q), (1, k), (2, v)], 5);
    // rows: token 0 (head 0, head 1), token 1 (head 0, head 1)
    assert_eq!(&y[..4], &[1., 2., 1., 2.]);
    // token 1, head 0: q = [1, 1] → equal scores → mean of V rows = [2, 3]
    close(&y[4..6], &[2., 3.], 1e-6);
}

fn one_op(kind: OpKind, shapes: &[&[u64]], out: &[u64]) -> Graph {
    let mut g = Graph::new("op");
    let mut ins = Vec::new();
    for (i, s) in shapes.iter().enumerate() {
        ins.push(g.add_tensor(format!("in{i}"), s, Storage::plain(DType::F32), Role::Input));
    }
    let y = g.add_tensor("y", out, Storage::plain(DType::F32), Role::Output);
    g.add_op("op", kind, &ins, &[y], DType::F32, None);
    g
}

#[test]
fn vector_ops_by_hand() {
    let b = backend();
    // RMSNorm of [3, 4]: rms = √12.5 → [3, 4]/3.5355
    let g = one_op(
        OpKind::Norm {
            kind: NormKind::RmsNorm,
            rows: 1,
            cols: 2,
        },
        &[&[1, 2], &[2]],
        &[1, 2],
    );
    let y = run_with(
        &b,
        &g,
        &[(0, t(&[3., 4.], &[1, 2])), (1, t(&[1., 1.], &[2]))],
        2,
    );
    close(&y, &[3.0 / 12.5f32.sqrt(), 4.0 / 12.5f32.sqrt()], 1e-4);
    // softmax of [0, ln 3] = [1/4, 3/4]
    let g = one_op(OpKind::Softmax { rows: 1, cols: 2 }, &[&[1, 2]], &[1, 2]);
    let y = run_with(&b, &g, &[(0, t(&[0., 3f32.ln()], &[1, 2]))], 1);
    close(&y, &[0.25, 0.75], 1e-6);
    // SwiGLU: silu(g)·u with silu(1) = 1/(1+e^-1)
    let g = one_op(
        OpKind::Elementwise {
            op: EltOp::SwiGlu,
            elems: 2,
        },
        &[&[2], &[2]],
        &[2],
    );
    let y = run_with(
        &b,
        &g,
        &[(0, t(&[1., 0.], &[2])), (1, t(&[2., 5.], &[2]))],
        2,
    );
    close(&y, &[2.0 / (1.0 + (-1f32).exp()), 0.0], 1e-6);
    // max pool 2x2/2 of a 4x4 ramp 0..15 → 5, 7, 13, 15
    let g = one_op(
        OpKind::Pool {
            kind: PoolKind::Max,
            out_elems: 4,
            window: 4,
        },
        &[&[1, 1, 4, 4]],
        &[1, 1, 2, 2],
    );
    let ramp: Vec<f32> = (0..16).map(|i| i as f32).collect();
    let y = run_with(&b, &g, &[(0, t(&ramp, &[1, 1, 4, 4]))], 1);
    assert_eq!(y, vec![5., 7., 13., 15.]);
    // global average pool of the ramp: 7.5
    let g = one_op(
        OpKind::Pool {
            kind: PoolKind::Avg,
            out_elems: 1,
            window: 16,
        },
        &[&[1, 1, 4, 4]],
        &[1, 1],
    );
    let y = run_with(&b, &g, &[(0, t(&ramp, &[1, 1, 4, 4]))], 1);
    assert_eq!(y, vec![7.5]);
}

#[test]
fn quantized_matmul_is_close_to_f32() {
    // q8_0 keeps about 2-3 significant digits, q4_0 about one: compare with the f32 product.
    let (m, n, k) = (3u64, 8u64, 64u64);
    let x = Tensor::randn(0f32, 1.0, (m as usize, k as usize), &Device::Cpu).unwrap();
    let w = Tensor::randn(0f32, 1.0, (n as usize, k as usize), &Device::Cpu).unwrap();
    let exact = values(&x.matmul(&w.t().unwrap()).unwrap());
    let norm = exact.iter().map(|v| v.abs()).fold(0.0f32, f32::max);
    for (dt, tol) in [(DType::I8, 0.02), (DType::I4, 0.25)] {
        let g = matmul_graph(m, n, k, ggml_storage(dt), DType::I8);
        // The backend quantizes weights itself; feed it ours through a dense run and compare.
        let b = backend();
        let mut env = b.prepare(&g).unwrap();
        env.set(TensorId(0), x.clone());
        // replace the random quantized weight by ours
        let q = candle_core::quantized::QTensor::quantize(
            &w,
            archscope::measure::backend::ggml_type(&ggml_storage(dt)).unwrap(),
        )
        .unwrap();
        env.set_quantized(
            TensorId(1),
            candle_core::quantized::QMatMul::from_qtensor(q).unwrap(),
        );
        b.run(&g, &mut env).unwrap();
        let y = values(env.get(TensorId(2)).unwrap());
        for (a, e) in y.iter().zip(&exact) {
            assert!(
                (a - e).abs() <= tol * norm,
                "{dt:?}: {a} vs {e} (max |y| {norm})"
            );
        }
    }
}

fn tiny_llama() -> LlmConfig {
    let json = r#"{"model_type": "llama", "hidden_size": 64, "intermediate_size": 128,
        "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
        "vocab_size": 100, "tie_word_embeddings": true}"#;
    LlmConfig::from_json(json, "tiny.json", "tiny").unwrap()
}

#[test]
fn llm_graphs_run_end_to_end() {
    let cfg = tiny_llama();
    let b = backend();
    for quant in [
        QuantScheme::float(DType::F32),
        archscope::validate::cases::ggml_scheme(DType::I8),
        archscope::validate::cases::ggml_scheme(DType::I4),
    ] {
        for phase in [Phase::Prefill { prompt: 5 }, Phase::Decode { context: 7 }] {
            let g = cfg.build(&quant, phase, 1);
            let mut env = b.prepare(&g).unwrap();
            b.run(&g, &mut env).unwrap();
            let logits = g.tensors.iter().position(|x| x.name == "logits").unwrap();
            let v = values(env.get(TensorId(logits as u32)).unwrap());
            assert_eq!(v.len(), 100, "{}", g.name);
            assert!(v.iter().all(|x| x.is_finite()), "{}", g.name);
        }
    }
}

#[test]
fn kv_append_writes_only_the_new_row() {
    let cfg = tiny_llama();
    let g = cfg.build(
        &QuantScheme::float(DType::F32),
        Phase::Decode { context: 3 },
        1,
    );
    let b = backend();
    let mut env = b.prepare(&g).unwrap();
    let cache = g
        .tensors
        .iter()
        .position(|x| x.name == "layers.0.k_cache")
        .unwrap() as u32;
    let before = values(env.get(TensorId(cache)).unwrap());
    let append = g
        .ops
        .iter()
        .position(|o| o.name == "layers.0.attn.kv_append")
        .unwrap();
    for i in 0..append {
        b.install(|| b.run_op(&g, &mut env, OpId(i as u32)))
            .unwrap();
    }
    let kr = g
        .tensors
        .iter()
        .position(|x| x.name == "layers.0.attn.rope.k")
        .unwrap() as u32;
    let key = values(env.get(TensorId(kr)).unwrap());
    b.install(|| b.run_op(&g, &mut env, OpId(append as u32)))
        .unwrap();
    let after = values(env.get(TensorId(cache)).unwrap());
    // cache [1, 2 kv heads, 3 positions, 16]: positions 0 and 1 of each head unchanged,
    // position 2 equals the rotated key computed before the append
    for h in 0..2 {
        let base = h * 3 * 16;
        assert_eq!(&after[base..base + 32], &before[base..base + 32]);
        assert_eq!(&after[base + 32..base + 48], &key[h * 16..h * 16 + 16]);
    }
}

fn elt(op: EltOp, shapes: &[&[u64]], out: &[u64]) -> Graph {
    let elems = out.iter().product();
    one_op(OpKind::Elementwise { op, elems }, shapes, out)
}

#[test]
fn vision_elementwise_ops_by_hand() {
    let b = backend();
    let two = |op: EltOp, a: &[f32], c: &[f32]| {
        let n = a.len() as u64;
        let g = elt(op, &[&[n], &[c.len() as u64]], &[n]);
        run_with(&b, &g, &[(0, t(a, &[a.len()])), (1, t(c, &[c.len()]))], 2)
    };
    assert_eq!(two(EltOp::Sub, &[5., 7.], &[2., 3.]), vec![3., 4.]);
    assert_eq!(two(EltOp::Div, &[6., 8.], &[2., 4.]), vec![3., 2.]);
    // ONNX Max of two tensors is a Clip with two operands: elementwise max.
    assert_eq!(two(EltOp::Clip, &[1., 5.], &[3., 2.]), vec![3., 5.]);
    // Less: 1 where a < b.
    assert_eq!(two(EltOp::Compare, &[1., 5.], &[3., 2.]), vec![1., 0.]);
    // A scalar broadcast against a vector: [4, 6] - [1] = [3, 5].
    assert_eq!(two(EltOp::Sub, &[4., 6.], &[1.]), vec![3., 5.]);
    let one = |op: EltOp, a: &[f32]| {
        let n = a.len() as u64;
        run_with(&b, &elt(op, &[&[n]], &[n]), &[(0, t(a, &[a.len()]))], 1)
    };
    // LeakyRelu with slope 0.1: max(x, 0.1x).
    close(&one(EltOp::LeakyRelu, &[-10., 5.]), &[-1., 5.], 1e-6);
    // Clip with one operand clamps to the documented bounds [-1, 1].
    assert_eq!(one(EltOp::Clip, &[-3., 0.5, 3.]), vec![-1., 0.5, 1.]);
    // Unary runs tanh: tanh(ln 2) = (2 - 1/2)/(2 + 1/2) = 0.6.
    close(&one(EltOp::Unary, &[0., 2f32.ln()]), &[0., 0.6], 1e-6);
    // A [C] operand that does not broadcast by numpy rules against NCHW (W = 3) lies along
    // the channel axis: [[1,2,3],[4,5,6]] - [10, 20].
    let g = elt(EltOp::Sub, &[&[1, 2, 1, 3], &[2]], &[1, 2, 1, 3]);
    let y = run_with(
        &b,
        &g,
        &[
            (0, t(&[1., 2., 3., 4., 5., 6.], &[1, 2, 1, 3])),
            (1, t(&[10., 20.], &[2])),
        ],
        2,
    );
    assert_eq!(y, vec![-9., -8., -7., -16., -15., -14.]);
}

#[test]
fn sum_pooling_by_hand() {
    let b = backend();
    let ramp: Vec<f32> = (0..16).map(|i| i as f32).collect();
    // Global sum of 0..15 = 120.
    let g = one_op(
        OpKind::Pool {
            kind: PoolKind::Sum,
            out_elems: 1,
            window: 16,
        },
        &[&[1, 1, 4, 4]],
        &[1, 1, 1, 1],
    );
    assert_eq!(
        run_with(&b, &g, &[(0, t(&ramp, &[1, 1, 4, 4]))], 1),
        vec![120.]
    );
    // 2x2/2 windows of the 4x4 ramp: 0+1+4+5, 2+3+6+7, 8+9+12+13, 10+11+14+15.
    let g = one_op(
        OpKind::Pool {
            kind: PoolKind::Sum,
            out_elems: 4,
            window: 4,
        },
        &[&[1, 1, 4, 4]],
        &[1, 1, 2, 2],
    );
    let y = run_with(&b, &g, &[(0, t(&ramp, &[1, 1, 4, 4]))], 1);
    close(&y, &[10., 18., 42., 50.], 1e-6);
    // A reduction over the last axis of [2, 3] (ONNX ReduceSum): 0+1+2, 3+4+5.
    let g = one_op(
        OpKind::Pool {
            kind: PoolKind::Sum,
            out_elems: 2,
            window: 3,
        },
        &[&[2, 3]],
        &[2, 1],
    );
    let y = run_with(&b, &g, &[(0, t(&[0., 1., 2., 3., 4., 5.], &[2, 3]))], 1);
    assert_eq!(y, vec![3., 12.]);
}

fn mv(kind: MoveKind, shapes: &[&[u64]], out: &[u64]) -> Graph {
    let elems = out.iter().product();
    one_op(OpKind::DataMove { kind, elems }, shapes, out)
}

#[test]
fn data_movement_by_hand() {
    let b = backend();
    let ramp: Vec<f32> = (0..16).map(|i| i as f32).collect();
    // Concat along channels: [1,1,2] ++ [1,2,2].
    let g = mv(MoveKind::Concat, &[&[1, 1, 2], &[1, 2, 2]], &[1, 3, 2]);
    let y = run_with(
        &b,
        &g,
        &[
            (0, t(&[1., 2.], &[1, 1, 2])),
            (1, t(&[3., 4., 5., 6.], &[1, 2, 2])),
        ],
        2,
    );
    assert_eq!(y, vec![1., 2., 3., 4., 5., 6.]);
    // Centre crop of the 4x4 ramp to 2x2: rows 1-2, columns 1-2.
    let g = mv(MoveKind::Slice, &[&[1, 1, 4, 4]], &[1, 1, 2, 2]);
    let y = run_with(&b, &g, &[(0, t(&ramp, &[1, 1, 4, 4]))], 1);
    assert_eq!(y, vec![5., 6., 9., 10.]);
    // Zero padding of [[1, 2]] to 3x4: one row and one column each side.
    let g = mv(MoveKind::Pad, &[&[1, 1, 1, 2]], &[1, 1, 3, 4]);
    let y = run_with(&b, &g, &[(0, t(&[1., 2.], &[1, 1, 1, 2]))], 1);
    let mut want = vec![0f32; 12];
    want[5] = 1.;
    want[6] = 2.;
    assert_eq!(y, want);
    // Transpose [2, 3] → [3, 2].
    let g = mv(MoveKind::Transpose, &[&[2, 3]], &[3, 2]);
    let y = run_with(&b, &g, &[(0, t(&[0., 1., 2., 3., 4., 5.], &[2, 3]))], 1);
    assert_eq!(y, vec![0., 3., 1., 4., 2., 5.]);
    // A square transpose must still move data: [[0,1],[2,3]] → [[0,2],[1,3]].
    let g = mv(MoveKind::Transpose, &[&[2, 2]], &[2, 2]);
    let y = run_with(&b, &g, &[(0, t(&[0., 1., 2., 3.], &[2, 2]))], 1);
    assert_eq!(y, vec![0., 2., 1., 3.]);
    // Nearest ×2 of [1, 2].
    let g = mv(MoveKind::UpsampleNearest, &[&[1, 1, 1, 2]], &[1, 1, 2, 4]);
    let y = run_with(&b, &g, &[(0, t(&[1., 2.], &[1, 1, 1, 2]))], 1);
    assert_eq!(y, vec![1., 1., 2., 2., 1., 1., 2., 2.]);
    // Bilinear resize of a constant stays constant.
    let g = mv(MoveKind::ResizeLinear, &[&[1, 1, 2, 2]], &[1, 1, 4, 4]);
    let y = run_with(&b, &g, &[(0, t(&[3.; 4], &[1, 1, 2, 2]))], 1);
    close(&y, &[3.; 16], 1e-6);
    // Broadcast [1, 3] → [2, 3].
    let g = mv(MoveKind::Broadcast, &[&[1, 3]], &[2, 3]);
    let y = run_with(&b, &g, &[(0, t(&[1., 2., 3.], &[1, 3]))], 1);
    assert_eq!(y, vec![1., 2., 3., 1., 2., 3.]);
}

#[test]
fn transposed_conv_and_stacked_norm_parameters_by_hand() {
    let b = backend();
    // A 2x2 stride-2 transposed convolution with an all-ones kernel copies each input pixel
    // into a 2x2 block; bias 1 is added.
    let c = Conv2d::square(1, 2, 2, 1, 2, 2, 0);
    let g = one_op(
        OpKind::ConvTranspose2d(c),
        &[&[1, 1, 2, 2], &[1, 4], &[1]],
        &[1, 1, 4, 4],
    );
    let y = run_with(
        &b,
        &g,
        &[
            (0, t(&[1., 2., 3., 4.], &[1, 1, 2, 2])),
            (1, t(&[1.; 4], &[1, 4])),
            (2, t(&[1.], &[1])),
        ],
        3,
    );
    let want = [
        2., 2., 3., 3., 2., 2., 3., 3., 4., 4., 5., 5., 4., 4., 5., 5.,
    ];
    assert_eq!(y, want.to_vec());
    // BatchNorm with scale and shift stacked [2, C] (the vision builders' separate BN):
    // channel 0 ×2 + 1, channel 1 ×3 − 1.
    let g = one_op(
        OpKind::Norm {
            kind: NormKind::BatchNorm,
            rows: 2,
            cols: 1,
        },
        &[&[1, 2, 1, 1], &[2, 2]],
        &[1, 2, 1, 1],
    );
    let y = run_with(
        &b,
        &g,
        &[
            (0, t(&[1., 1.], &[1, 2, 1, 1])),
            (1, t(&[2., 3., 1., -1.], &[2, 2])),
        ],
        2,
    );
    assert_eq!(y, vec![3., 2.]);
}

#[test]
fn every_vision_architecture_runs() {
    // One network of each built-in architecture at a small input (BN kept separate in one of
    // them): the backend runs every op the builders emit.
    let b = backend();
    for spec in [
        "mobilenetv1?res=32",
        "mobilenetv2?res=32",
        "mobilenetv3-small?res=32",
        "mnasnet-a1?res=32",
        "efficientnet-b0?res=32",
        "resnet18?res=32&bn=separate",
        "resnet50?res=32",
        "squeezenet1.1?res=64",
        "inception-v3?res=75",
        "unet?res=188",
        "yolov3-tiny?res=64",
        "deit-tiny?res=32",
        "bert-base?seq=8",
    ] {
        let m = match archscope::workload::vision::VisionModel::parse(spec) {
            Ok(m) => m,
            Err(e) => panic!("{spec}: {e}"),
        };
        let g = m.build(&QuantScheme::float(DType::F32), 1).unwrap();
        let mut env = b.prepare(&g).unwrap();
        if let Err(e) = b.run(&g, &mut env) {
            panic!("{spec}: {e}");
        }
    }
}
