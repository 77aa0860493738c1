//! Normalizations: `BatchNormalization`, `LayerNormalization`, and `Softmax` /
//! `LogSoftmax` (a normalization along an axis).

use super::super::R;
use super::super::attrs::Attrs;
use super::super::fold::{axis, numel};
use super::super::importer::{Importer, Use};
use crate::workload::graph::{NormKind, OpKind};
use tract_onnx::pb;

/// `BatchNormalization` in inference mode (scale, bias, mean and variance as inputs).
pub(super) fn batch_norm(im: &mut Importer<'_>, node: &pb::NodeProto, _: &Attrs) -> R<()> {
    if node.output.iter().skip(1).any(|s| !s.is_empty()) {
        return im.err("running-statistics outputs are a training feature");
    }
    let x = im.act_input(node, 0)?;
    let s = x.shape().to_vec();
    if s.len() < 2 {
        return im.err("expects [N, C, ...]");
    }
    let mut ins = vec![im.required(&x, Use::Plain)?];
    for i in 1..5 {
        let v = im.val(node, i)?;
        ins.extend(im.tensor_for(&v, Use::Plain));
    }
    im.op(
        node,
        OpKind::Norm {
            kind: NormKind::BatchNorm,
            rows: s[0] * s[1],
            cols: numel(&s[2..]),
        },
        ins,
        s,
        false,
    )
}

/// `LayerNormalization` over the axes from `axis` on.
pub(super) fn layer_norm(im: &mut Importer<'_>, node: &pb::NodeProto, a: &Attrs) -> R<()> {
    if node.output.iter().skip(1).any(|s| !s.is_empty()) {
        return im.err("mean and inverse-std outputs are a training feature");
    }
    let x = im.act_input(node, 0)?;
    let s = x.shape().to_vec();
    let Some(ax) = axis(a.int("axis")?.unwrap_or(-1), s.len()) else {
        return im.err("axis out of range");
    };
    let cols = numel(&s[ax..]);
    let mut ins = vec![im.required(&x, Use::Plain)?];
    for i in 1..3 {
        if let Some(v) = im.opt_val(node, i)? {
            ins.extend(im.tensor_for(&v, Use::Plain));
        }
    }
    im.op(
        node,
        OpKind::Norm {
            kind: NormKind::LayerNorm,
            rows: numel(&s) / cols.max(1),
            cols,
        },
        ins,
        s,
        false,
    )
}

/// `Softmax` and `LogSoftmax`: opset < 13 coerces to 2-D at the axis; 13+ normalises along the
/// axis only.
pub(super) fn softmax(im: &mut Importer<'_>, node: &pb::NodeProto, a: &Attrs) -> R<()> {
    let x = im.act_input(node, 0)?;
    let s = x.shape().to_vec();
    let default = if im.m.opset >= 13 { -1 } else { 1 };
    let Some(ax) = axis(a.int("axis")?.unwrap_or(default), s.len()) else {
        return im.err("axis out of range");
    };
    let cols = if im.m.opset >= 13 {
        s[ax]
    } else {
        numel(&s[ax..])
    };
    im.unary_op(
        node,
        &x,
        OpKind::Softmax {
            rows: numel(&s) / cols.max(1),
            cols,
        },
        s,
    )
}
