//! Pooling and reductions: `MaxPool`, `AveragePool`, `GlobalAveragePool`, `GlobalMaxPool`,
//! and `ReduceMean`, `ReduceSum`, `ReduceMax` (a pool over the reduced axes).

use super::super::R;
use super::super::attrs::Attrs;
use super::super::fold::{axis, numel};
use super::super::importer::{Importer, Val};
use super::conv::{check_kernel, spatial_attr, window_pads};
use crate::workload::graph::{OpKind, PoolKind};
use tract_onnx::pb;

/// `MaxPool` and `AveragePool` over the spatial axes (with `ceil_mode`).
pub(super) fn pool(im: &mut Importer<'_>, node: &pb::NodeProto, a: &Attrs) -> R<()> {
    if node.output.get(1).is_some_and(|s| !s.is_empty()) {
        return im.err("the max-pool indices output is not supported");
    }
    let x = im.act_input(node, 0)?;
    let xs = x.shape().to_vec();
    if xs.len() < 3 {
        return im.err("expects [N, C, spatial...]");
    }
    let n = xs.len() - 2;
    let Some(k) = a.ints("kernel_shape")? else {
        return im.err("missing kernel_shape");
    };
    if k.len() != n || k.iter().any(|&v| v <= 0) {
        return im.err(format!("kernel_shape {k:?} does not fit {n} spatial axes"));
    }
    let k = check_kernel(a, "attribute `kernel_shape`", &k, n)?;
    let s = spatial_attr(im, a, "strides", n, 1)?;
    let d = spatial_attr(im, a, "dilations", n, 1)?;
    let p = window_pads(im, a, &xs[2..], &k, &s, &d)?;
    let ceil = a.int("ceil_mode")?.unwrap_or(0) == 1;
    let mut out = xs[..2].to_vec();
    for i in 0..n {
        let span = d[i] * (k[i] - 1) + 1;
        let padded = xs[2 + i] + p[i] + p[i + n];
        if padded < span {
            return im.err("the window is larger than the padded input");
        }
        let q = padded - span;
        let mut o = if ceil { q.div_ceil(s[i]) } else { q / s[i] } + 1;
        if ceil && (o - 1) * s[i] >= xs[2 + i] + p[i] {
            o -= 1;
        }
        out.push(o);
    }
    let kind = max_or_avg(&node.op_type);
    pool_op(im, node, &x, (kind, numel(&k)), out)
}

/// `ReduceMean`, `ReduceSum` and `ReduceMax`.
pub(super) fn reduce(im: &mut Importer<'_>, node: &pb::NodeProto, a: &Attrs) -> R<()> {
    let x = im.act_input(node, 0)?;
    let s = x.shape().to_vec();
    let axes = im.axes_arg(node, a, 1)?;
    let keep = a.int("keepdims")?.unwrap_or(1) == 1;
    let red: Vec<usize> = match axes {
        Some(ax) if !ax.is_empty() => {
            let mut r = Vec::new();
            for v in ax {
                match axis(v, s.len()) {
                    Some(i) => r.push(i),
                    None => return im.err(format!("axis {v} out of range")),
                }
            }
            r
        }
        _ if a.int("noop_with_empty_axes")?.unwrap_or(0) == 1 => {
            return im.alias(node, &x, s);
        }
        _ => (0..s.len()).collect(),
    };
    let window: u64 = red.iter().map(|&i| s[i]).product();
    let out: Vec<u64> = s
        .iter()
        .enumerate()
        .filter_map(|(i, &d)| {
            if red.contains(&i) {
                keep.then_some(1)
            } else {
                Some(d)
            }
        })
        .collect();
    let kind = match node.op_type.as_str() {
        "ReduceMean" => PoolKind::Avg,
        "ReduceSum" => PoolKind::Sum,
        _ => PoolKind::Max,
    };
    pool_op(im, node, &x, (kind, window), out)
}

/// `GlobalAveragePool` and `GlobalMaxPool`: one window over all spatial axes.
pub(super) fn global_pool(im: &mut Importer<'_>, node: &pb::NodeProto, _: &Attrs) -> R<()> {
    let x = im.act_input(node, 0)?;
    let s = x.shape().to_vec();
    if s.len() < 3 {
        return im.err("expects [N, C, spatial...]");
    }
    let window = numel(&s[2..]);
    let mut out = s[..2].to_vec();
    out.extend(std::iter::repeat_n(1, s.len() - 2));
    let kind = max_or_avg(&node.op_type);
    pool_op(im, node, &x, (kind, window), out)
}

/// Adds the pooling op of `node`: `kind` over windows of `window` elements of `x`, giving a
/// tensor of shape `out`.
fn pool_op(
    im: &mut Importer<'_>,
    node: &pb::NodeProto,
    x: &Val,
    (kind, window): (PoolKind, u64),
    out: Vec<u64>,
) -> R<()> {
    im.unary_op(
        node,
        x,
        OpKind::Pool {
            kind,
            out_elems: numel(&out),
            window,
        },
        out,
    )
}

/// The pooling of a `MaxPool`/`GlobalMaxPool` (max) or `AveragePool`/`GlobalAveragePool` (mean).
fn max_or_avg(op_type: &str) -> PoolKind {
    if op_type.ends_with("MaxPool") {
        PoolKind::Max
    } else {
        PoolKind::Avg
    }
}
