//! Convolutions: `Conv` (2-D, grouped and dilated, with explicit or `auto_pad` padding) and
//! `ConvTranspose`, plus the window helpers (kernel, pads, strides, dilations) pooling shares.
//! Window sizes are bounded by [`MAX_WINDOW`], so the window arithmetic cannot overflow.

use super::super::attrs::Attrs;
use super::super::importer::{Importer, Use};
use super::super::{MAX_WINDOW, R};
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
    let auto = a.string("auto_pad")?.unwrap_or_else(|| "NOTSET".into());
    match auto.as_str() {
        "NOTSET" | "" => {
            let p = a.ints("pads")?.unwrap_or_else(|| vec![0; 2 * n]);
            if p.len() != 2 * n || p.iter().any(|&x| x < 0) {
                return im.err(format!("pads {p:?} do not fit {n} spatial axes"));
            }
            if p.iter().any(|&x| x as u64 > MAX_WINDOW) {
                return a.attr_err(
                    "pads",
                    format!("{} values from 0 to 2^24", 2 * n),
                    format!("{p:?}"),
                );
            }
            Ok(p.iter().map(|&x| x as u64).collect())
        }
        "VALID" => Ok(vec![0; 2 * n]),
        "SAME_UPPER" | "SAME_LOWER" => {
            let mut p = vec![0; 2 * n];
            for i in 0..n {
                let out = spatial[i].div_ceil(s[i]);
                let span = d[i] * (k[i] - 1) + 1;
                let total = (out.saturating_sub(1) * s[i] + span).saturating_sub(spatial[i]);
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

/// A per-spatial-axis attribute (strides, dilations) of `n` values from 1 to [`MAX_WINDOW`],
/// or `default`.
pub(super) fn spatial_attr(
    im: &Importer<'_>,
    a: &Attrs,
    name: &str,
    n: usize,
    default: u64,
) -> R<Vec<u64>> {
    match a.ints(name)? {
        None => Ok(vec![default; n]),
        Some(v) if v.len() == n && v.iter().all(|&x| x > 0 && x as u64 <= MAX_WINDOW) => {
            Ok(v.iter().map(|&x| x as u64).collect())
        }
        Some(v) if v.len() == n && v.iter().all(|&x| x > 0) => {
            a.attr_err(name, format!("{n} values from 1 to 2^24"), format!("{v:?}"))
        }
        Some(v) => im.err(format!("`{name}` {v:?} does not fit {n} spatial axes")),
    }
}

/// Checks window sizes `k` (from `field`): `n` values from 1 to [`MAX_WINDOW`].
pub(super) fn check_kernel(a: &Attrs, field: &str, k: &[i64], n: usize) -> R<Vec<u64>> {
    if k.len() != n || k.iter().any(|&v| v < 1 || v as u64 > MAX_WINDOW) {
        return a.field_err(
            field,
            format!("{n} window sizes from 1 to 2^24, one per spatial axis"),
            format!("{k:?}"),
        );
    }
    Ok(k.iter().map(|&v| v as u64).collect())
}

/// The `group` attribute: a positive integer, 1 when absent.
fn group(a: &Attrs) -> R<u64> {
    match a.int("group")?.unwrap_or(1) {
        g if g >= 1 => Ok(g as u64),
        g => a.attr_err("group", "a positive number of groups", g.to_string()),
    }
}

/// Checks that the multiply-accumulates of a convolution with output `out`, the product of
/// `factors`, fit in 64 bits.
fn checked_macs(a: &Attrs, out: &str, factors: &[u64]) -> R<()> {
    match factors.iter().try_fold(1u64, |m, &f| m.checked_mul(f)) {
        Some(_) => Ok(()),
        None => a.field_err(
            format!("output `{out}`"),
            "a convolution whose multiply-accumulate count fits in 64 bits",
            format!("the product of {factors:?}"),
        ),
    }
}

/// The kernel of a convolution with weight shape `ws`: the weight's spatial dimensions, which
/// `kernel_shape` must repeat when given.
fn conv_kernel(a: &Attrs, ws: &[u64]) -> R<Vec<u64>> {
    let from_weight: Vec<i64> = ws[2..]
        .iter()
        .map(|&d| d.min(i64::MAX as u64) as i64)
        .collect();
    match a.ints("kernel_shape")? {
        Some(k) if k != from_weight => a.attr_err(
            "kernel_shape",
            format!("the weight's spatial dimensions {:?}", &ws[2..]),
            format!("{k:?}"),
        ),
        Some(k) => check_kernel(a, "attribute `kernel_shape`", &k, 2),
        None => check_kernel(a, "input #1 (weight) spatial dimensions", &from_weight, 2),
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
    let group = group(a)?;
    let k = conv_kernel(a, &ws)?;
    let s = spatial_attr(im, a, "strides", 2, 1)?;
    let d = spatial_attr(im, a, "dilations", 2, 1)?;
    let p = window_pads(im, a, &xs[2..], &k, &s, &d)?;
    if ws[1].checked_mul(group) != Some(xs[1]) || ws[0] % group != 0 {
        return im.err(format!(
            "input has {} channels but the weight {ws:?} with {group} groups expects {}",
            xs[1],
            ws[1].saturating_mul(group)
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
    im.check_shape(im.out_name(node, 0)?, &out)?;
    checked_macs(
        a,
        im.out_name(node, 0)?,
        &[out[0], out[1], out[2], out[3], xs[1] / group, k[0], k[1]],
    )?;
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

/// Output length of a transposed convolution along one axis, `(h − 1)·s + d·(k − 1) + 1 − 2p`,
/// or `None` when it is empty or overflows.
fn transposed_len(h: u64, s: u64, d: u64, k: u64, p: u64) -> Option<u64> {
    h.checked_sub(1)?
        .checked_mul(s)?
        .checked_add(d * (k - 1) + 1)?
        .checked_sub(2 * p)
        .filter(|&x| x > 0)
}

/// `ConvTranspose`: a 2-D transposed convolution with symmetric padding.
pub(super) fn conv_transpose(im: &mut Importer<'_>, node: &pb::NodeProto, a: &Attrs) -> R<()> {
    let x = im.act_input(node, 0)?;
    let w = im.val(node, 1)?;
    let (xs, ws) = (x.shape().to_vec(), w.shape().to_vec());
    if xs.len() != 4 || ws.len() != 4 {
        return im.err("only 2-D transposed convolutions are modelled");
    }
    if a.has("output_shape")
        || a.ints("output_padding")?
            .is_some_and(|v| v.iter().any(|&x| x != 0))
        || a.string("auto_pad")?.is_some_and(|s| s != "NOTSET")
    {
        return im.err("output_shape, output_padding and auto_pad are not supported");
    }
    let group = group(a)?;
    if xs[1] != ws[0] {
        return im.err(format!(
            "input has {} channels, weight {ws:?} expects {}",
            xs[1], ws[0]
        ));
    }
    if xs[1] % group != 0 {
        return a.attr_err(
            "group",
            format!("a divisor of the {} input channels", xs[1]),
            group.to_string(),
        );
    }
    let k = conv_kernel(a, &ws)?;
    let s = spatial_attr(im, a, "strides", 2, 1)?;
    let d = spatial_attr(im, a, "dilations", 2, 1)?;
    let p = a.ints("pads")?.unwrap_or_else(|| vec![0; 4]);
    if p.len() != 4 || p[0] != p[2] || p[1] != p[3] || p.iter().any(|&v| v < 0) {
        return im.err(format!("pads {p:?}: only symmetric padding is supported"));
    }
    if p.iter().any(|&v| v as u64 > MAX_WINDOW) {
        return a.attr_err("pads", "4 values from 0 to 2^24", format!("{p:?}"));
    }
    let p: Vec<u64> = p.iter().map(|&v| v as u64).collect();
    let c_out = ws[1] * group;
    let (Some(ho), Some(wo)) = (
        transposed_len(xs[2], s[0], d[0], k[0], p[0]),
        transposed_len(xs[3], s[1], d[1], k[1], p[1]),
    ) else {
        return im.err("empty output");
    };
    let out = vec![xs[0], c_out, ho, wo];
    im.check_shape(im.out_name(node, 0)?, &out)?;
    checked_macs(
        a,
        im.out_name(node, 0)?,
        &[xs[0], xs[1], xs[2], xs[3], c_out / group, k[0], k[1]],
    )?;
    let c = Conv2d {
        n: xs[0],
        c_in: xs[1],
        h: xs[2],
        w: xs[3],
        c_out,
        kh: k[0],
        kw: k[1],
        stride: (s[0], s[1]),
        pad: (p[0], p[1]),
        dilation: (d[0], d[1]),
        groups: group,
    };
    debug_assert_eq!(
        (c.transposed_out_h(), c.transposed_out_w()),
        (Some(ho), Some(wo))
    );
    let mut ins = vec![im.required(&x, Use::Plain)?];
    ins.extend(im.tensor_for(&w, Use::Linear { out: c.c_out }));
    if let Some(b) = im.opt_val(node, 2)? {
        ins.extend(im.tensor_for(&b, Use::Plain));
    }
    im.op(node, OpKind::ConvTranspose2d(c), ins, out, true)
}
