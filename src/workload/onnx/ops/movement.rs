//! Data movement: `Concat`, `Transpose`, `Slice`, `Split`, `Pad`, `Expand` and `Tile`. Each
//! becomes a zero-FLOP copy, a view when it keeps the element order, or a folded constant.

use super::super::attrs::Attrs;
use super::super::fold::{self, axis, broadcast, numel};
use super::super::importer::{Importer, Use, Val};
use super::super::{MAX_CONST_ELEMS, MAX_ELEMS, R};
use crate::workload::graph::MoveKind;
use tract_onnx::pb;

/// `Concat`; folded when every input is a constant.
pub(super) fn concat(im: &mut Importer<'_>, node: &pb::NodeProto, a: &Attrs) -> R<()> {
    let mut vals = Vec::new();
    for i in 0..node.input.len() {
        if let Some(v) = im.opt_val(node, i)? {
            vals.push(v);
        }
    }
    if vals.is_empty() {
        return im.err("no inputs");
    }
    let rank = vals[0].shape().len();
    let Some(ax) = axis(a.int("axis")?.unwrap_or(0), rank) else {
        return im.err("axis out of range");
    };
    let mut out = vals[0].shape().to_vec();
    out[ax] = 0;
    for v in &vals {
        let s = v.shape();
        if s.len() != rank
            || s.iter()
                .zip(&vals[0].shape().to_vec())
                .enumerate()
                .any(|(i, (x, y))| i != ax && x != y)
        {
            return im.err(format!(
                "cannot concatenate {:?} with {s:?}",
                vals[0].shape()
            ));
        }
        out[ax] = out[ax].saturating_add(s[ax]);
    }
    let consts: Option<Vec<Vec<f64>>> = vals.iter().map(|v| im.const_of(v)).collect();
    if let Some(cs) = consts.filter(|_| vals.iter().all(|v| matches!(v, Val::Const { .. }))) {
        let ins: Vec<(&[f64], &[u64])> = cs
            .iter()
            .zip(&vals)
            .map(|(d, v)| (d.as_slice(), v.shape()))
            .collect();
        let data = fold::concat(&ins, ax, &out);
        let int = vals
            .iter()
            .all(|v| matches!(v, Val::Const { int: true, .. }));
        return im.set_const(node, out, data, int);
    }
    let mut ins = Vec::new();
    for v in &vals {
        ins.extend(im.tensor_for(v, Use::Plain));
    }
    im.data_move(node, MoveKind::Concat, ins, out)
}

/// `Transpose`: a view when the non-unit axes keep their order, a copy otherwise.
pub(super) fn transpose(im: &mut Importer<'_>, node: &pb::NodeProto, a: &Attrs) -> R<()> {
    let v = im.val(node, 0)?;
    let s = v.shape().to_vec();
    let perm: Vec<usize> = match a.ints("perm")? {
        Some(p) => p.iter().map(|&x| x as usize).collect(),
        None => (0..s.len()).rev().collect(),
    };
    let mut seen = vec![false; s.len()];
    if perm.len() != s.len()
        || perm
            .iter()
            .any(|&p| p >= s.len() || std::mem::replace(&mut seen[p], true))
    {
        return im.err(format!(
            "perm {perm:?} is not a permutation of {} axes",
            s.len()
        ));
    }
    let out: Vec<u64> = perm.iter().map(|&p| s[p]).collect();
    if let Val::Const { data, int, .. } = &v {
        let d = fold::transpose(data, &s, &perm, &out);
        let int = *int;
        return im.set_const(node, out, d, int);
    }
    // Weights are re-laid out once, offline; a permutation that keeps the order of the
    // non-unit axes is a view.
    let moved: Vec<usize> = perm.iter().copied().filter(|&p| s[p] != 1).collect();
    if !v.is_act() || moved.windows(2).all(|w| w[0] < w[1]) {
        return im.alias(node, &v, out);
    }
    let ins = vec![im.required(&v, Use::Plain)?];
    im.data_move(node, MoveKind::Transpose, ins, out)
}

/// `Slice` (attributes before opset 10, constant inputs after); folded for constants.
pub(super) fn slice(im: &mut Importer<'_>, node: &pb::NodeProto, a: &Attrs) -> R<()> {
    let v = im.val(node, 0)?;
    let s = v.shape().to_vec();
    let (starts, ends, axes, steps) = if im.m.opset < 10 {
        (
            a.ints("starts")?.unwrap_or_default(),
            a.ints("ends")?.unwrap_or_default(),
            a.ints("axes")?,
            None,
        )
    } else {
        let st = im.const_ints(node, 1, "starts")?;
        let en = im.const_ints(node, 2, "ends")?;
        let ax = match im.opt_val(node, 3)? {
            Some(_) => Some(im.const_ints(node, 3, "axes")?),
            None => None,
        };
        let sp = match im.opt_val(node, 4)? {
            Some(_) => Some(im.const_ints(node, 4, "steps")?),
            None => None,
        };
        (st, en, ax, sp)
    };
    let axes: Vec<i64> = axes.unwrap_or_else(|| (0..starts.len() as i64).collect());
    let steps = steps.unwrap_or_else(|| vec![1; starts.len()]);
    if ends.len() != starts.len() || axes.len() != starts.len() || steps.len() != starts.len() {
        return im.err("starts, ends, axes and steps differ in length");
    }
    let mut out = s.clone();
    let mut first = vec![0i64; s.len()];
    let mut step = vec![1i64; s.len()];
    for i in 0..starts.len() {
        let Some(ax) = axis(axes[i], s.len()) else {
            return im.err(format!("axis {} out of range", axes[i]));
        };
        let dim = s[ax] as i64;
        let st = steps[i];
        if st == 0 {
            return im.err("step 0");
        }
        let norm = |x: i64| if x < 0 { x + dim } else { x };
        let (b, n) = if st > 0 {
            let b = norm(starts[i]).clamp(0, dim);
            let e = norm(ends[i]).clamp(0, dim);
            (b, if e > b { (e - b + st - 1) / st } else { 0 })
        } else {
            let b = norm(starts[i]).clamp(-1, dim - 1);
            let e = norm(ends[i]).clamp(-1, dim - 1);
            (b, if b > e { (b - e - st - 1) / -st } else { 0 })
        };
        out[ax] = n as u64;
        first[ax] = b;
        step[ax] = st;
    }
    if let Val::Const { data, int, .. } = &v {
        let d = fold::slice(data, &s, &out, &first, &step);
        let int = *int;
        return im.set_const(node, out, d, int);
    }
    im.copy_window(node, &v, out, 0)
}

/// `Split` of a run-time tensor into window copies.
pub(super) fn split(im: &mut Importer<'_>, node: &pb::NodeProto, a: &Attrs) -> R<()> {
    let v = im.val(node, 0)?;
    let s = v.shape().to_vec();
    let Some(ax) = axis(a.int("axis")?.unwrap_or(0), s.len()) else {
        return im.err("axis out of range");
    };
    let outs = node.output.len() as u64;
    let sizes: Vec<u64> = if let Some(sp) = a.ints("split")? {
        sp.iter().map(|&x| x.max(0) as u64).collect()
    } else if im.opt_val(node, 1)?.is_some() {
        im.const_ints(node, 1, "split")?
            .iter()
            .map(|&x| x.max(0) as u64)
            .collect()
    } else {
        let k = match a.int("num_outputs")? {
            None => outs.max(1),
            Some(x) if x >= 1 && x as u64 == outs => outs,
            Some(x) => {
                return a.attr_err(
                    "num_outputs",
                    format!("the node's output count, {outs}"),
                    x.to_string(),
                );
            }
        };
        let chunk = s[ax].div_ceil(k);
        (0..k)
            .map(|i| chunk.min(s[ax].saturating_sub(i * chunk)))
            .collect()
    };
    if sizes.len() as u64 != outs
        || sizes.iter().try_fold(0u64, |t, &x| t.checked_add(x)) != Some(s[ax])
    {
        return im.err(format!(
            "split sizes {sizes:?} do not cover axis {ax} of {s:?}"
        ));
    }
    if matches!(v, Val::Const { .. }) {
        return im.err("splitting constants is not supported");
    }
    for (i, &sz) in sizes.iter().enumerate() {
        let mut o = s.clone();
        o[ax] = sz;
        im.copy_window(node, &v, o, i)?;
    }
    Ok(())
}

/// `Pad` (attribute before opset 11, constant inputs after).
pub(super) fn pad(im: &mut Importer<'_>, node: &pb::NodeProto, a: &Attrs) -> R<()> {
    let x = im.act_input(node, 0)?;
    let s = x.shape().to_vec();
    let pads: Vec<i64> = if im.m.opset < 11 {
        a.ints("pads")?.unwrap_or_default()
    } else {
        im.const_ints(node, 1, "pads")?
    };
    let axes: Vec<usize> = match im.opt_val(node, 3)? {
        Some(_) => {
            let ax = im.const_ints(node, 3, "axes")?;
            let mut out = Vec::new();
            for x in ax {
                match axis(x, s.len()) {
                    Some(i) => out.push(i),
                    None => return im.err(format!("axis {x} out of range")),
                }
            }
            out
        }
        None => (0..s.len()).collect(),
    };
    if pads.len() != 2 * axes.len() {
        return im.err(format!("pads {pads:?} do not fit {} axes", axes.len()));
    }
    let mut out = s.clone();
    for (i, &ax) in axes.iter().enumerate() {
        let d = s[ax] as i128 + pads[i] as i128 + pads[i + axes.len()] as i128;
        if d <= 0 {
            return im.err("padding removes the whole axis");
        }
        if d > MAX_ELEMS as i128 {
            let field = if im.m.opset < 11 {
                "attribute `pads`"
            } else {
                "input #1 (pads)"
            };
            return a.field_err(
                field,
                "pads that leave every axis at most 2^48 long",
                format!("{pads:?}"),
            );
        }
        out[ax] = d as u64;
    }
    let ins = vec![im.required(&x, Use::Plain)?];
    im.data_move(node, MoveKind::Pad, ins, out)
}

/// `Expand` (numpy broadcast to a constant shape) and `Tile`.
pub(super) fn expand(im: &mut Importer<'_>, node: &pb::NodeProto, a: &Attrs) -> R<()> {
    let v = im.val(node, 0)?;
    let s = v.shape().to_vec();
    let arg = im.const_ints(
        node,
        1,
        if node.op_type == "Tile" {
            "repeats"
        } else {
            "shape"
        },
    )?;
    let out = if node.op_type == "Tile" {
        if arg.len() != s.len() {
            return im.err("repeats do not fit the rank");
        }
        if arg.iter().any(|&r| r < 0) {
            return a.field_err(
                "input #1 (repeats)",
                "non-negative repeat counts, one per axis",
                format!("{arg:?}"),
            );
        }
        // An overflowing product saturates, and the output's size check rejects it.
        s.iter()
            .zip(&arg)
            .map(|(&d, &r)| d.saturating_mul(r as u64))
            .collect()
    } else {
        if arg.iter().any(|&d| d < 0) {
            return a.field_err(
                "input #1 (shape)",
                "non-negative dimensions",
                format!("{arg:?}"),
            );
        }
        let target: Vec<u64> = arg.iter().map(|&d| d as u64).collect();
        match broadcast(&s, &target) {
            Some(o) => o,
            None => return im.err(format!("cannot expand {s:?} to {arg:?}")),
        }
    };
    if let Val::Const { data, int, .. } = &v {
        if node.op_type == "Tile" {
            return im.err("tiling constants is not supported");
        }
        if numel(&out) > MAX_CONST_ELEMS {
            return im.err("constant too large to evaluate at import");
        }
        let d = fold::expand(data, &s, &out);
        let int = *int;
        return im.set_const(node, out, d, int);
    }
    if out == s {
        return im.alias(node, &v, out);
    }
    let ins = vec![im.required(&v, Use::Plain)?];
    im.data_move(node, MoveKind::Broadcast, ins, out)
}
