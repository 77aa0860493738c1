//! Convolutions: `Conv` (2-D, grouped and dilated, with explicit or `auto_pad` padding) and
//! `ConvTranspose`, plus the window helpers (pads, strides, dilations) pooling shares.

use super::super::R;
use super::super::attrs::Attrs;
use super::super::importer::{Importer, Use};
use crate::workload::graph::{Conv2d, OpKind};
use tract_onnx::pb;

/// Pads (begin…, end…) from attributes, resolving `auto_pad` for windows `k` with strides
/// `s` and dilations `d` over `spatial` sizes.
pub(super) fn window_pads(
    im: &Importer<'_>,
    a: &Attrs,
    spatial: &[u64],
    k: &[u64],
    s: &[u64],
    d: &[u64],
) -> R<Vec<u64>> {
    let n = spatial.len();
    let auto = a.string("auto_pad").unwrap_or_else(|| "NOTSET".into());
    match auto.as_str() {
        "NOTSET" | "" => {
            let p = a.ints("pads").unwrap_or_else(|| vec![0; 2 * n]);
            if p.len() != 2 * n || p.iter().any(|&x| x < 0) {
                return im.err(format!("pads {p:?} do not fit {n} spatial axes"));
            }
            Ok(p.iter().map(|&x| x as u64).collect())
        }
        "VALID" => Ok(vec![0; 2 * n]),
        "SAME_UPPER" | "SAME_LOWER" => {
            let mut p = vec![0; 2 * n];
            for i in 0..n {
                let out = spatial[i].div_ceil(s[i]);
                let span = d[i] * (k[i] - 1) + 1;
                let total = ((out - 1) * s[i] + span).saturating_sub(spatial[i]);
                let small = total / 2;
                let (b, e) = if auto == "SAME_UPPER" {
                    (small, total - small)
                } else {
                    (total - small, small)
                };
                p[i] = b;
                p[i + n] = e;
            }
            Ok(p)
        }
        other => im.err(format!("unknown auto_pad `{other}`")),
    }
}

/// A per-spatial-axis attribute (strides, dilations) of `n` positive values, or `default`.
pub(super) fn spatial_attr(
    im: &Importer<'_>,
    a: &Attrs,
    name: &str,
    n: usize,
    default: u64,
) -> R<Vec<u64>> {
    match a.ints(name) {
        None => Ok(vec![default; n]),
        Some(v) if v.len() == n && v.iter().all(|&x| x > 0) => {
            Ok(v.iter().map(|&x| x as u64).collect())
        }
        Some(v) => im.err(format!("`{name}` {v:?} does not fit {n} spatial axes")),
    }
}

/// `Conv`: a 2-D convolution; asymmetric padding is folded into the input size.
pub(super) fn conv(im: &mut Importer<'_>, node: &pb::NodeProto, a: &Attrs) -> R<()> {
    let x = im.act_input(node, 0)?;
    let w = im.val(node, 1)?;
    let (xs, ws) = (x.shape().to_vec(), w.shape().to_vec());
    if xs.len() != 4 || ws.len() != 4 {
        return im.err(format!(
            "only 2-D convolutions are modelled (input {xs:?}, weight {ws:?})"
        ));
    }
    let group = a.int("group").unwrap_or(1).max(1) as u64;
    let k = match a.ints("kernel_shape") {
        Some(k) => k.iter().map(|&v| v.max(1) as u64).collect(),
        None => ws[2..].to_vec(),
    };
    let s = spatial_attr(im, a, "strides", 2, 1)?;
    let d = spatial_attr(im, a, "dilations", 2, 1)?;
    let p = window_pads(im, a, &xs[2..], &k, &s, &d)?;
    if xs[1] != ws[1] * group || ws[0] % group != 0 {
        return im.err(format!(
            "input has {} channels but the weight {ws:?} with {group} groups expects {}",
            xs[1],
            ws[1] * group
        ));
    }
    let mut out = vec![xs[0], ws[0]];
    for i in 0..2 {
        let span = d[i] * (k[i] - 1) + 1;
        let padded = xs[2 + i] + p[i] + p[i + 2];
        if padded < span {
            return im.err("the window is larger than the padded input");
        }
        out.push((padded - span) / s[i] + 1);
    }
    // Symmetric padding is kept as such; asymmetric padding (TF "SAME") is folded into the
    // input size so that the MAC formula sees the right output size.
    let sym = p[0] == p[2] && p[1] == p[3];
    let c = Conv2d {
        n: xs[0],
        c_in: xs[1],
        h: if sym { xs[2] } else { xs[2] + p[0] + p[2] },
        w: if sym { xs[3] } else { xs[3] + p[1] + p[3] },
        c_out: ws[0],
        kh: k[0],
        kw: k[1],
        stride: (s[0], s[1]),
        pad: if sym { (p[0], p[1]) } else { (0, 0) },
        dilation: (d[0], d[1]),
        groups: group,
    };
    debug_assert_eq!((c.out_h(), c.out_w()), (out[2], out[3]));
    let mut ins = vec![im.required(&x, Use::Plain)?];
    ins.extend(im.tensor_for(&w, Use::Linear { out: ws[0] }));
    if let Some(b) = im.opt_val(node, 2)? {
        ins.extend(im.tensor_for(&b, Use::Plain));
    }
    im.op(node, OpKind::Conv2d(c), ins, out, true)
}

/// `ConvTranspose`: a 2-D transposed convolution with symmetric padding.
pub(super) fn conv_transpose(im: &mut Importer<'_>, node: &pb::NodeProto, a: &Attrs) -> R<()> {
    let x = im.act_input(node, 0)?;
    let w = im.val(node, 1)?;
    let (xs, ws) = (x.shape().to_vec(), w.shape().to_vec());
    if xs.len() != 4 || ws.len() != 4 {
        return im.err("only 2-D transposed convolutions are modelled");
    }
    if a.get("output_shape").is_some()
        || a.ints("output_padding")
            .is_some_and(|v| v.iter().any(|&x| x != 0))
        || a.string("auto_pad").is_some_and(|s| s != "NOTSET")
    {
        return im.err("output_shape, output_padding and auto_pad are not supported");
    }
    let group = a.int("group").unwrap_or(1).max(1) as u64;
    if xs[1] != ws[0] {
        return im.err(format!(
            "input has {} channels, weight {ws:?} expects {}",
            xs[1], ws[0]
        ));
    }
    let s = spatial_attr(im, a, "strides", 2, 1)?;
    let d = spatial_attr(im, a, "dilations", 2, 1)?;
    let p = a.ints("pads").unwrap_or_else(|| vec![0; 4]);
    if p.len() != 4 || p[0] != p[2] || p[1] != p[3] || p.iter().any(|&v| v < 0) {
        return im.err(format!("pads {p:?}: only symmetric padding is supported"));
    }
    let c = Conv2d {
        n: xs[0],
        c_in: xs[1],
        h: xs[2],
        w: xs[3],
        c_out: ws[1] * group,
        kh: ws[2],
        kw: ws[3],
        stride: (s[0], s[1]),
        pad: (p[0] as u64, p[1] as u64),
        dilation: (d[0], d[1]),
        groups: group,
    };
    let (Some(ho), Some(wo)) = (c.transposed_out_h(), c.transposed_out_w()) else {
        return im.err("empty output");
    };
    let mut ins = vec![im.required(&x, Use::Plain)?];
    ins.extend(im.tensor_for(&w, Use::Linear { out: c.c_out }));
    if let Some(b) = im.opt_val(node, 2)? {
        ins.extend(im.tensor_for(&b, Use::Plain));
    }
    im.op(
        node,
        OpKind::ConvTranspose2d(c),
        ins,
        vec![xs[0], c.c_out, ho, wo],
        true,
    )
}
