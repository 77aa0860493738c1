//! Resampling: `Resize` (scales or sizes, nearest or linear) and the older `Upsample`, as data
//! movement whose output size is known at import. Scales must be finite and positive and sizes
//! positive integers; an output that would lose an axis entirely is an error.

use super::super::R;
use super::super::attrs::Attrs;
use super::super::importer::{Importer, Use};
use crate::workload::graph::MoveKind;
use tract_onnx::pb;

/// `Resize` and `Upsample`.
pub(super) fn resize(im: &mut Importer<'_>, node: &pb::NodeProto, a: &Attrs) -> R<()> {
    let x = im.act_input(node, 0)?;
    let s = x.shape().to_vec();
    let mode = a.string("mode")?.unwrap_or_else(|| "nearest".into());
    let kind = match mode.as_str() {
        "nearest" => MoveKind::UpsampleNearest,
        "linear" | "bilinear" => MoveKind::ResizeLinear,
        other => return im.err(format!("resize mode `{other}` is not supported")),
    };
    // Upsample and Resize-10: (X, scales); Resize-11+: (X, roi, scales, sizes).
    let (scales_i, sizes_i) = if node.op_type == "Upsample" || im.m.opset < 11 {
        (1, None)
    } else {
        (2, Some(3))
    };
    let out = match sizes(im, node, a, sizes_i, &s)? {
        Some(out) => out,
        None => scaled(im, node, a, scales_i, &s)?,
    };
    let ins = vec![im.required(&x, Use::Plain)?];
    im.data_move(node, kind, ins, out)
}

/// The output shape given by the `sizes` input (Resize-11+), when it is given and not empty.
fn sizes(
    im: &Importer<'_>,
    node: &pb::NodeProto,
    a: &Attrs,
    sizes_i: Option<usize>,
    s: &[u64],
) -> R<Option<Vec<u64>>> {
    let Some(si) = sizes_i else {
        return Ok(None);
    };
    let Some(v) = im.opt_val(node, si)? else {
        return Ok(None);
    };
    match im.const_of(&v) {
        Some(sz) if sz.len() == s.len() => {
            if sz.iter().any(|&d| !(d >= 1.0 && d.fract() == 0.0)) {
                return a.field_err(
                    format!("input #{si} (sizes)"),
                    "positive integer sizes, one per axis",
                    format!("{sz:?}"),
                );
            }
            // A size past u64 saturates, and the output's size check rejects it.
            Ok(Some(sz.iter().map(|&d| d as u64).collect()))
        }
        Some(sz) if !sz.is_empty() => im.err(format!("sizes {sz:?} do not fit {s:?}")),
        Some(_) => Ok(None),
        None => im.err("sizes must be a constant"),
    }
}

/// The output shape given by the scales (the input at `scales_i`, or the attribute of
/// Upsample before opset 9): each axis scaled and rounded down.
fn scaled(
    im: &Importer<'_>,
    node: &pb::NodeProto,
    a: &Attrs,
    scales_i: usize,
    s: &[u64],
) -> R<Vec<u64>> {
    let (sc, field): (Vec<f64>, String) = match a.floats("scales")? {
        Some(f) if node.op_type == "Upsample" && im.m.opset < 9 => (
            f.iter().map(|&f| f as f64).collect(),
            "attribute `scales`".to_string(),
        ),
        _ => (
            im.const_input(node, scales_i, "scales")?,
            format!("input #{scales_i} (scales)"),
        ),
    };
    if sc.len() != s.len() {
        return im.err(format!("scales {sc:?} do not fit {s:?}"));
    }
    if sc.iter().any(|&f| !(f.is_finite() && f > 0.0)) {
        return a.field_err(
            field,
            "finite positive scale factors, one per axis",
            format!("{sc:?}"),
        );
    }
    // A product past u64 saturates, and the output's size check rejects it.
    let out: Vec<u64> = s
        .iter()
        .zip(&sc)
        .map(|(&d, &f)| (d as f64 * f).floor() as u64)
        .collect();
    if let Some(i) = (0..s.len()).find(|&i| out[i] == 0 && s[i] > 0) {
        return a.field_err(
            field,
            format!("scale factors that keep at least one element on every axis (axis {i} of {s:?} becomes 0)"),
            format!("{sc:?}"),
        );
    }
    Ok(out)
}
