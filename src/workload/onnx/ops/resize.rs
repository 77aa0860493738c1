//! Resampling: `Resize` (scales or sizes, nearest or linear) and the older `Upsample`, as data
//! movement whose output size is known at import.

use super::super::R;
use super::super::attrs::Attrs;
use super::super::importer::{Importer, Use};
use crate::workload::graph::MoveKind;
use tract_onnx::pb;

/// `Resize` and `Upsample`.
pub(super) fn resize(im: &mut Importer<'_>, node: &pb::NodeProto, a: &Attrs) -> R<()> {
    let x = im.act_input(node, 0)?;
    let s = x.shape().to_vec();
    let mode = a.string("mode").unwrap_or_else(|| "nearest".into());
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
    let mut out = None;
    if let Some(si) = sizes_i
        && let Some(v) = im.opt_val(node, si)?
    {
        let sz = im.const_of(&v);
        match sz {
            Some(sz) if sz.len() == s.len() => {
                out = Some(sz.iter().map(|&d| d as u64).collect::<Vec<u64>>())
            }
            Some(sz) if !sz.is_empty() => {
                return im.err(format!("sizes {sz:?} do not fit {s:?}"));
            }
            Some(_) => {}
            None => return im.err("sizes must be a constant"),
        }
    }
    if out.is_none() {
        let sc: Vec<f64> = match a.get("scales") {
            Some(at) if node.op_type == "Upsample" && im.m.opset < 9 => {
                at.floats.iter().map(|&f| f as f64).collect()
            }
            _ => im.const_input(node, scales_i, "scales")?,
        };
        if sc.len() != s.len() {
            return im.err(format!("scales {sc:?} do not fit {s:?}"));
        }
        out = Some(
            s.iter()
                .zip(&sc)
                .map(|(&d, &f)| (d as f64 * f).floor() as u64)
                .collect(),
        );
    }
    let out = out.unwrap_or_default();
    let ins = vec![im.required(&x, Use::Plain)?];
    im.data_move(node, kind, ins, out)
}
