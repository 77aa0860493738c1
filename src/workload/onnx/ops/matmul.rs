//! Matrix products: `Gemm` and `MatMul` (a linear layer when the right operand is a 2-D
//! weight, a batched matmul otherwise).

use super::super::R;
use super::super::attrs::Attrs;
use super::super::fold::{broadcast, numel};
use super::super::importer::{Importer, Use, Val};
use crate::workload::graph::OpKind;
use tract_onnx::pb;

/// `Gemm`: `A·B (+ C)` with optional transposes.
pub(super) fn gemm(im: &mut Importer<'_>, node: &pb::NodeProto, a: &Attrs) -> R<()> {
    let x = im.act_input(node, 0)?;
    let w = im.val(node, 1)?;
    let (xs, ws) = (x.shape().to_vec(), w.shape().to_vec());
    if xs.len() != 2 || ws.len() != 2 {
        return im.err(format!("expects 2-D operands, got {xs:?} and {ws:?}"));
    }
    let (m, k) = if a.int("transA")?.unwrap_or(0) == 1 {
        (xs[1], xs[0])
    } else {
        (xs[0], xs[1])
    };
    let (kb, n) = if a.int("transB")?.unwrap_or(0) == 1 {
        (ws[1], ws[0])
    } else {
        (ws[0], ws[1])
    };
    if k != kb {
        return im.err(format!("inner dimensions differ: {xs:?} × {ws:?}"));
    }
    let mut ins = vec![im.required(&x, Use::Plain)?];
    ins.extend(im.tensor_for(&w, Use::Linear { out: n }));
    if let Some(c) = im.opt_val(node, 2)? {
        ins.extend(im.tensor_for(&c, Use::Plain));
    }
    im.op(
        node,
        OpKind::MatMul { batch: 1, m, n, k },
        ins,
        vec![m, n],
        true,
    )
}

/// `MatMul` with numpy broadcasting of the batch dimensions.
pub(super) fn matmul(im: &mut Importer<'_>, node: &pb::NodeProto, _: &Attrs) -> R<()> {
    let x = im.val(node, 0)?;
    let w = im.val(node, 1)?;
    let (mut xs, mut ws) = (x.shape().to_vec(), w.shape().to_vec());
    let (x1, w1) = (xs.len() == 1, ws.len() == 1);
    if xs.is_empty() || ws.is_empty() {
        return im.err("scalar operands");
    }
    if x1 {
        xs.insert(0, 1);
    }
    if w1 {
        ws.push(1);
    }
    let (m, k) = (xs[xs.len() - 2], xs[xs.len() - 1]);
    let (kb, n) = (ws[ws.len() - 2], ws[ws.len() - 1]);
    if k != kb {
        return im.err(format!("inner dimensions differ: {xs:?} × {ws:?}"));
    }
    let Some(batch) = broadcast(&xs[..xs.len() - 2], &ws[..ws.len() - 2]) else {
        return im.err(format!(
            "batch dimensions of {xs:?} and {ws:?} do not broadcast"
        ));
    };
    let mut out = batch.clone();
    if !x1 {
        out.push(m);
    }
    if !w1 {
        out.push(n);
    }
    let weight_rhs = matches!(w, Val::Weight { .. }) && ws.len() == 2;
    let (kind, ins) = if weight_rhs && x.is_act() {
        // A linear layer: fold the batch dimensions of x into the rows.
        let rows = numel(&xs[..xs.len() - 1]);
        let xi = im.required(&x, Use::Plain)?;
        let wi = im.required(&w, Use::Linear { out: n })?;
        (
            OpKind::MatMul {
                batch: 1,
                m: rows,
                n,
                k,
            },
            vec![xi, wi],
        )
    } else {
        let mut ins = Vec::new();
        ins.extend(im.tensor_for(&x, Use::Plain));
        ins.extend(im.tensor_for(&w, Use::Plain));
        (
            OpKind::MatMul {
                batch: numel(&batch),
                m,
                n,
                k,
            },
            ins,
        )
    };
    im.op(node, kind, ins, out, true)
}
