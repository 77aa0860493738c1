//! Single-op graphs the measured backend runs: the probes of [`super::calibrate`] and the
//! cases of `validate` are built from the same helpers, so that a rate calibrate measures and
//! a case validate predicts come from the same graph shape. Operands are f32 activations that
//! no op produces (the backend feeds them random values); weights are weights.

use crate::workload::{Conv2d, DType, Graph, OpKind, Role, Storage};

fn f32s() -> Storage {
    Storage::plain(DType::F32)
}

/// y[m, n] = x[m, k] · Wᵀ with W stored `[n, k]` in `w`.
pub fn matmul_graph(m: u64, n: u64, k: u64, w: Storage, compute: DType) -> Graph {
    let mut g = Graph::new(format!("matmul {m}x{n}x{k} {w}"));
    let x = g.add_tensor("x", &[m, k], f32s(), Role::Activation);
    let wt = g.add_tensor("w", &[n, k], w, Role::Weight);
    let y = g.add_tensor("y", &[m, n], f32s(), Role::Activation);
    g.add_op(
        "matmul",
        OpKind::MatMul { batch: 1, m, n, k },
        &[x, wt],
        &[y],
        compute,
        None,
    );
    g
}

/// One convolution with an f32 NCHW input and `[c_out, c_in/groups, kh, kw]` weights.
pub fn conv_graph(c: Conv2d) -> Graph {
    let mut g = Graph::new("conv");
    let x = g.add_tensor("x", &[c.n, c.c_in, c.h, c.w], f32s(), Role::Activation);
    let w = g.add_tensor(
        "w",
        &[c.c_out, c.c_in / c.groups, c.kh, c.kw],
        f32s(),
        Role::Weight,
    );
    let y = g.add_tensor(
        "y",
        &[c.n, c.c_out, c.out_h(), c.out_w()],
        f32s(),
        Role::Activation,
    );
    g.add_op("conv", OpKind::Conv2d(c), &[x, w], &[y], DType::F32, None);
    g
}

/// One op `kind` over `inputs` f32 activations of `shape` and one f32 weight per entry of
/// `params` (its shape), writing one f32 activation of `shape`.
pub fn op_graph(kind: OpKind, shape: &[u64], params: &[&[u64]], inputs: usize) -> Graph {
    let mut g = Graph::new(kind.name());
    let mut ins = Vec::new();
    for i in 0..inputs {
        ins.push(g.add_tensor(format!("x{i}"), shape, f32s(), Role::Activation));
    }
    for (i, p) in params.iter().enumerate() {
        ins.push(g.add_tensor(format!("p{i}"), p, f32s(), Role::Weight));
    }
    let y = g.add_tensor("y", shape, f32s(), Role::Activation);
    g.add_op(kind.name(), kind, &ins, &[y], DType::F32, None);
    g
}
