//! Elementwise ops: unary activations and math (`Relu`, `Sigmoid`, `Gelu`, `Cast`, …), `Clip`,
//! and the broadcasting binary ops (`Add`, `Mul`, comparisons, `Where`). Ops over known values
//! are folded.

use super::super::attrs::Attrs;
use super::super::fold::{self, broadcast, numel};
use super::super::importer::{Importer, Use, Val};
use super::super::load::is_float_type;
use super::super::{MAX_CONST_ELEMS, R};
use crate::workload::graph::{EltOp, OpKind, TensorId};
use tract_onnx::pb;

/// Unary ops; folded when the input is a known constant and the op is foldable.
pub(super) fn unary(im: &mut Importer<'_>, node: &pb::NodeProto, a: &Attrs) -> R<()> {
    let x = im.val(node, 0)?;
    let op = node.op_type.as_str();
    if let Val::Const { shape, data, int } = &x {
        let to_int = op == "Cast" && !is_float_type(a.int("to")?.unwrap_or(1) as i32);
        let vals = fold::unary(op, to_int, data);
        if let Some(vals) = vals {
            let int = if op == "Cast" { to_int } else { *int };
            return im.set_const(node, shape.clone(), vals, int);
        }
    }
    let s = x.shape().to_vec();
    if op == "Cast" && !x.is_act() {
        return im.alias(node, &x, s);
    }
    let elt = match op {
        "Relu" => EltOp::Relu,
        "Sigmoid" => EltOp::Sigmoid,
        "HardSigmoid" => EltOp::HardSigmoid,
        "HardSwish" => EltOp::HardSwish,
        "LeakyRelu" => EltOp::LeakyRelu,
        "Gelu" => EltOp::Gelu,
        "Not" => EltOp::Compare,
        _ => EltOp::Unary,
    };
    let ins: Vec<TensorId> = im.tensor_for(&x, Use::Plain).into_iter().collect();
    im.op(
        node,
        OpKind::Elementwise {
            op: elt,
            elems: numel(&s),
        },
        ins,
        s,
        false,
    )
}

/// `Clip`; bounds `[0, 6]` make a ReLU6 and `[0, ∞)` a ReLU.
pub(super) fn clip(im: &mut Importer<'_>, node: &pb::NodeProto, a: &Attrs) -> R<()> {
    let x = im.act_input(node, 0)?;
    let (lo, hi) = if im.m.opset < 11 {
        (
            a.float("min")?.map(|v| v as f64),
            a.float("max")?.map(|v| v as f64),
        )
    } else {
        let lo = match im.opt_val(node, 1)? {
            Some(v) => Some(im.const_of(&v).and_then(|d| d.first().copied()).ok_or(())),
            None => None,
        };
        let hi = match im.opt_val(node, 2)? {
            Some(v) => Some(im.const_of(&v).and_then(|d| d.first().copied()).ok_or(())),
            None => None,
        };
        match (lo.transpose(), hi.transpose()) {
            (Ok(l), Ok(h)) => (l, h),
            _ => return im.err("clip bounds must be constants"),
        }
    };
    let op = match (lo, hi) {
        (Some(l), Some(h)) if l == 0.0 && h == 6.0 => EltOp::Relu6,
        (Some(l), None) if l == 0.0 => EltOp::Relu,
        _ => EltOp::Clip,
    };
    let s = x.shape().to_vec();
    im.unary_op(
        node,
        &x,
        OpKind::Elementwise {
            op,
            elems: numel(&s),
        },
        s,
    )
}

/// Broadcasting binary ops and `Where`; folded when every input is known.
pub(super) fn binary(im: &mut Importer<'_>, node: &pb::NodeProto, _: &Attrs) -> R<()> {
    let n_in = if node.op_type == "Where" { 3 } else { 2 };
    let mut vals = Vec::with_capacity(n_in);
    for i in 0..n_in {
        vals.push(im.val(node, i)?);
    }
    let mut shape = vals[0].shape().to_vec();
    for v in &vals[1..] {
        shape = match broadcast(&shape, v.shape()) {
            Some(s) => s,
            None => {
                return im.err(format!(
                    "shapes {:?} do not broadcast",
                    vals.iter().map(|v| v.shape().to_vec()).collect::<Vec<_>>()
                ));
            }
        };
    }
    let op = node.op_type.as_str();
    // All inputs known: evaluate.
    let consts: Option<Vec<Vec<f64>>> = vals.iter().map(|v| im.const_of(v)).collect();
    if let Some(cs) = consts
        && numel(&shape) <= MAX_CONST_ELEMS
    {
        let int = vals
            .iter()
            .skip(if op == "Where" { 1 } else { 0 })
            .all(|v| matches!(v, Val::Const { int: true, .. }));
        let compare = matches!(op, "Equal" | "Less" | "Greater");
        let ins: Vec<(&[f64], &[u64])> = cs
            .iter()
            .zip(&vals)
            .map(|(d, v)| (d.as_slice(), v.shape()))
            .collect();
        let out = fold::binary(op, int, &ins, &shape);
        return im.set_const(node, shape, out, int || compare);
    }
    let elt = match op {
        "Add" => EltOp::Add,
        "Sub" => EltOp::Sub,
        "Mul" => EltOp::Mul,
        "Div" => EltOp::Div,
        "Pow" => EltOp::Unary,
        "Max" | "Min" => EltOp::Clip,
        _ => EltOp::Compare,
    };
    let mut ins = Vec::new();
    for v in &vals {
        ins.extend(im.tensor_for(v, Use::Plain));
    }
    im.op(
        node,
        OpKind::Elementwise {
            op: elt,
            elems: numel(&shape),
        },
        ins,
        shape,
        false,
    )
}
