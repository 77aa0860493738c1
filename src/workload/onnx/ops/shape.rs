//! Views and shape arithmetic: `Identity`, `Dropout`, `Shape`, `Size`, `Reshape`, `Flatten`,
//! `Squeeze` and `Unsqueeze`. Views alias their input and add no op; `Shape` and `Size` give
//! constants.

use super::super::R;
use super::super::attrs::Attrs;
use super::super::fold::{axis, numel};
use super::super::importer::Importer;
use tract_onnx::pb;

/// `Identity` and inference-mode `Dropout`: views.
pub(super) fn identity(im: &mut Importer<'_>, node: &pb::NodeProto, _: &Attrs) -> R<()> {
    if node.op_type == "Dropout" && node.output.get(1).is_some_and(|s| !s.is_empty()) {
        return im.err("the dropout mask output is a training feature");
    }
    let v = im.val(node, 0)?;
    let s = v.shape().to_vec();
    im.alias(node, &v, s)
}

/// `Shape`: the input's dimensions (from `start` to `end`) as a constant.
pub(super) fn shape(im: &mut Importer<'_>, node: &pb::NodeProto, a: &Attrs) -> R<()> {
    let v = im.val(node, 0)?;
    let s = v.shape();
    let r = s.len() as i64;
    let clampi = |x: i64| (if x < 0 { x + r } else { x }).clamp(0, r) as usize;
    let start = clampi(a.int("start")?.unwrap_or(0));
    let end = clampi(a.int("end")?.unwrap_or(r));
    let data: Vec<f64> = s[start..end.max(start)].iter().map(|&d| d as f64).collect();
    im.set_const(node, vec![data.len() as u64], data, true)
}

/// `Size`: the input's element count as a constant.
pub(super) fn size(im: &mut Importer<'_>, node: &pb::NodeProto, _: &Attrs) -> R<()> {
    let v = im.val(node, 0)?;
    let n = numel(v.shape()) as f64;
    im.set_const(node, vec![], vec![n], true)
}

/// `Reshape` to a constant target shape: a view.
pub(super) fn reshape(im: &mut Importer<'_>, node: &pb::NodeProto, a: &Attrs) -> R<()> {
    let v = im.val(node, 0)?;
    let target = im.const_ints(node, 1, "shape")?;
    let allowzero = a.int("allowzero")?.unwrap_or(0) == 1;
    let s = reshape_target(im, v.shape(), &target, allowzero)?;
    im.alias(node, &v, s)
}

/// `Flatten` to 2-D at `axis`: a view.
pub(super) fn flatten(im: &mut Importer<'_>, node: &pb::NodeProto, a: &Attrs) -> R<()> {
    let v = im.val(node, 0)?;
    let s = v.shape().to_vec();
    let Some(ax) = axis(a.int("axis")?.unwrap_or(1), s.len() + 1) else {
        return im.err("axis out of range");
    };
    let out = vec![numel(&s[..ax]), numel(&s[ax..])];
    im.alias(node, &v, out)
}

/// The target shape of a `Reshape` (`-1` inferred, `0` copied unless `allowzero`).
fn reshape_target(
    im: &Importer<'_>,
    input: &[u64],
    target: &[i64],
    allowzero: bool,
) -> R<Vec<u64>> {
    let mut out = Vec::with_capacity(target.len());
    let mut infer = None;
    for (i, &t) in target.iter().enumerate() {
        match t {
            -1 if infer.is_none() => {
                infer = Some(i);
                out.push(1);
            }
            0 if !allowzero => match input.get(i) {
                Some(&d) => out.push(d),
                None => return im.err(format!("shape {target:?} copies a missing axis {i}")),
            },
            t if t >= 0 => out.push(t as u64),
            _ => return im.err(format!("bad target shape {target:?}")),
        }
    }
    let total = numel(input);
    if let Some(i) = infer {
        let rest = numel(&out);
        if rest == 0 || total % rest != 0 {
            return im.err(format!("cannot reshape {input:?} to {target:?}"));
        }
        out[i] = total / rest;
    }
    if numel(&out) != total {
        return im.err(format!(
            "cannot reshape {input:?} ({total} elements) to {target:?}"
        ));
    }
    Ok(out)
}

/// `Squeeze` and `Unsqueeze`: views.
pub(super) fn squeeze(im: &mut Importer<'_>, node: &pb::NodeProto, a: &Attrs) -> R<()> {
    let v = im.val(node, 0)?;
    let s = v.shape().to_vec();
    let axes = im.axes_arg(node, a, 1)?;
    let out = if node.op_type == "Squeeze" {
        match axes {
            None => s.iter().copied().filter(|&d| d != 1).collect(),
            Some(ax) => {
                let mut drop = Vec::new();
                for x in ax {
                    match axis(x, s.len()) {
                        Some(i) if s[i] == 1 => drop.push(i),
                        _ => return im.err(format!("cannot squeeze axis {x} of {s:?}")),
                    }
                }
                s.iter()
                    .enumerate()
                    .filter(|(i, _)| !drop.contains(i))
                    .map(|(_, &d)| d)
                    .collect()
            }
        }
    } else {
        let Some(ax) = axes else {
            return im.err("missing axes");
        };
        let r = s.len() + ax.len();
        let mut ins: Vec<usize> = Vec::new();
        for x in &ax {
            match axis(*x, r) {
                Some(i) => ins.push(i),
                None => return im.err(format!("axis {x} out of range")),
            }
        }
        let mut out = Vec::with_capacity(r);
        let mut it = s.iter();
        for i in 0..r {
            if ins.contains(&i) {
                out.push(1);
            } else {
                out.push(*it.next().unwrap_or(&1));
            }
        }
        out
    };
    im.alias(node, &v, out)
}
