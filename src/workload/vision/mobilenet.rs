//! MobileNetV1, MobileNetV2 and MobileNetV3 (Large and Small).
//!
//! * V1: Howard et al. 2017, "MobileNets", Table 1, as in the TF-slim reference
//!   (`mobilenet_v1.py`): ReLU6, channels `max(int(c·α), 8)`, a 1×1 logits layer (a linear
//!   layer here) after global average pooling.
//! * V2: Sandler et al. 2018, Table 2, as in torchvision's `mobilenet_v2`: channels
//!   `_make_divisible(c·α, 8)`, hidden width `round(c_in·t)`, last layer `1280·max(1, α)`.
//! * V3: Howard et al. 2019, Tables 1 and 2, as in torchvision's `mobilenet_v3_large/small`:
//!   squeeze-excitation to `_make_divisible(expanded/4, 8)` with a hard-sigmoid gate, h-swish,
//!   a 1×1 conv to 6× the last block width, then linear → h-swish → linear.

use super::net::{ConvSpec, Feat, Net, NetResult, make_divisible};
use crate::workload::graph::{EltOp, TensorId};

/// MobileNetV1 with width multiplier `alpha`.
pub fn v1(net: &mut Net, res: u64, alpha: f64, classes: u64) -> NetResult<Vec<TensorId>> {
    // TF-slim's `depth(d) = max(int(d·α), min_depth)` with min_depth 8.
    let depth = |d: u64| ((d as f64 * alpha) as u64).max(8);
    let x = net.image(3, res, res);
    net.layer = Some(0);
    let mut x = net.conv(
        "conv0",
        x,
        ConvSpec::new(depth(32), 3).s(2).act(EltOp::Relu6),
    )?;
    // (output channels, stride) of the 13 depthwise-separable layers, Table 1.
    const LAYERS: [(u64, u64); 13] = [
        (64, 1),
        (128, 2),
        (128, 1),
        (256, 2),
        (256, 1),
        (512, 2),
        (512, 1),
        (512, 1),
        (512, 1),
        (512, 1),
        (512, 1),
        (1024, 2),
        (1024, 1),
    ];
    for (i, &(c, s)) in LAYERS.iter().enumerate() {
        net.layer = Some(i as u32 + 1);
        let p = format!("conv{}", i + 1);
        x = net.conv(
            &format!("{p}.dw"),
            x,
            ConvSpec::new(x.c, 3).s(s).g(x.c).act(EltOp::Relu6),
        )?;
        x = net.conv(
            &format!("{p}.pw"),
            x,
            ConvSpec::new(depth(c), 1).act(EltOp::Relu6),
        )?;
    }
    net.layer = None;
    Ok(vec![net.classifier(x, classes)])
}

/// MobileNetV2 with width multiplier `alpha`.
pub fn v2(net: &mut Net, res: u64, alpha: f64, classes: u64) -> NetResult<Vec<TensorId>> {
    // (expansion t, channels c, repeats n, first stride s), Table 2.
    const SETTINGS: [(u64, u64, u64, u64); 7] = [
        (1, 16, 1, 1),
        (6, 24, 2, 2),
        (6, 32, 3, 2),
        (6, 64, 4, 2),
        (6, 96, 3, 1),
        (6, 160, 3, 2),
        (6, 320, 1, 1),
    ];
    let x = net.image(3, res, res);
    net.layer = Some(0);
    let mut x = net.conv(
        "features.0",
        x,
        ConvSpec::new(make_divisible(32.0 * alpha, 8), 3)
            .s(2)
            .act(EltOp::Relu6),
    )?;
    let mut idx = 1;
    for &(t, c, n, s) in &SETTINGS {
        let out = make_divisible(c as f64 * alpha, 8);
        for i in 0..n {
            net.layer = Some(idx);
            let stride = if i == 0 { s } else { 1 };
            x = inverted_residual_v2(net, &format!("features.{idx}"), x, out, stride, t, 3)?;
            idx += 1;
        }
    }
    net.layer = Some(idx);
    let last = make_divisible(1280.0 * alpha.max(1.0), 8);
    let x = net.conv(
        &format!("features.{idx}"),
        x,
        ConvSpec::new(last, 1).act(EltOp::Relu6),
    )?;
    net.layer = None;
    Ok(vec![net.avgpool_linear("classifier.1", x, classes)])
}

/// MobileNetV2's inverted residual: a 1×1 expansion by `t` (none when `t` is 1), a `k`×`k`
/// depthwise convolution with `stride`, a linear 1×1 projection to `out`, and the identity added
/// when the shape is kept.
pub(super) fn inverted_residual_v2(
    net: &mut Net,
    p: &str,
    x: Feat,
    out: u64,
    stride: u64,
    t: u64,
    k: u64,
) -> NetResult<Feat> {
    // torchvision: hidden_dim = int(round(inp * expand_ratio)).
    let hidden = x.c * t;
    let mut y = x;
    let mut j = 0;
    if t != 1 {
        y = net.conv(
            &format!("{p}.conv.{j}"),
            y,
            ConvSpec::new(hidden, 1).act(EltOp::Relu6),
        )?;
        j += 1;
    }
    y = net.conv(
        &format!("{p}.conv.{j}"),
        y,
        ConvSpec::new(hidden, k)
            .s(stride)
            .g(hidden)
            .act(EltOp::Relu6),
    )?;
    y = net.conv(&format!("{p}.conv.{}", j + 1), y, ConvSpec::new(out, 1))?;
    Ok(if stride == 1 && x.c == out {
        net.add(&format!("{p}.add"), x, y)
    } else {
        y
    })
}

/// One MobileNetV3 bottleneck row of Tables 1 and 2 (torchvision's `InvertedResidualConfig`
/// before width scaling): input, kernel, expanded, output channels, SE, h-swish, stride.
type V3Row = (u64, u64, u64, u64, bool, bool, u64);

/// MobileNetV3-Large, Table 1.
const V3_LARGE: [V3Row; 15] = [
    (16, 3, 16, 16, false, false, 1),
    (16, 3, 64, 24, false, false, 2),
    (24, 3, 72, 24, false, false, 1),
    (24, 5, 72, 40, true, false, 2),
    (40, 5, 120, 40, true, false, 1),
    (40, 5, 120, 40, true, false, 1),
    (40, 3, 240, 80, false, true, 2),
    (80, 3, 200, 80, false, true, 1),
    (80, 3, 184, 80, false, true, 1),
    (80, 3, 184, 80, false, true, 1),
    (80, 3, 480, 112, true, true, 1),
    (112, 3, 672, 112, true, true, 1),
    (112, 5, 672, 160, true, true, 2),
    (160, 5, 960, 160, true, true, 1),
    (160, 5, 960, 160, true, true, 1),
];

/// MobileNetV3-Small, Table 2.
const V3_SMALL: [V3Row; 11] = [
    (16, 3, 16, 16, true, false, 2),
    (16, 3, 72, 24, false, false, 2),
    (24, 3, 88, 24, false, false, 1),
    (24, 5, 96, 40, true, true, 2),
    (40, 5, 240, 40, true, true, 1),
    (40, 5, 240, 40, true, true, 1),
    (40, 5, 120, 48, true, true, 1),
    (48, 5, 144, 48, true, true, 1),
    (48, 5, 288, 96, true, true, 2),
    (96, 5, 576, 96, true, true, 1),
    (96, 5, 576, 96, true, true, 1),
];

/// MobileNetV3-Large (`large`) or -Small with width multiplier `alpha`.
pub fn v3(
    net: &mut Net,
    large: bool,
    res: u64,
    alpha: f64,
    classes: u64,
) -> NetResult<Vec<TensorId>> {
    let adj = |c: u64| make_divisible(c as f64 * alpha, 8);
    let rows: &[V3Row] = if large { &V3_LARGE } else { &V3_SMALL };
    let x = net.image(3, res, res);
    net.layer = Some(0);
    let mut x = net.conv(
        "features.0",
        x,
        ConvSpec::new(adj(rows[0].0), 3).s(2).act(EltOp::HardSwish),
    )?;
    for (i, &(_, k, exp, out, se, hs, s)) in rows.iter().enumerate() {
        let idx = i as u32 + 1;
        net.layer = Some(idx);
        let p = format!("features.{idx}.block");
        let act = if hs { EltOp::HardSwish } else { EltOp::Relu };
        let (exp, out) = (adj(exp), adj(out));
        let mut y = x;
        let mut j = 0;
        if exp != x.c {
            y = net.conv(&format!("{p}.{j}"), y, ConvSpec::new(exp, 1).act(act))?;
            j += 1;
        }
        y = net.conv(
            &format!("{p}.{j}"),
            y,
            ConvSpec::new(exp, k).s(s).g(exp).act(act),
        )?;
        j += 1;
        if se {
            y = net.squeeze_excite(
                &format!("{p}.{j}"),
                y,
                make_divisible((exp / 4) as f64, 8),
                EltOp::Relu,
                EltOp::HardSigmoid,
            )?;
            j += 1;
        }
        y = net.conv(&format!("{p}.{j}"), y, ConvSpec::new(out, 1))?;
        x = if s == 1 && x.c == out {
            net.add(&format!("features.{idx}.add"), x, y)
        } else {
            y
        };
    }
    let idx = rows.len() as u32 + 1;
    net.layer = Some(idx);
    let x = net.conv(
        &format!("features.{idx}"),
        x,
        ConvSpec::new(6 * x.c, 1).act(EltOp::HardSwish),
    )?;
    net.layer = None;
    let last = adj(if large { 1280 } else { 1024 });
    let p = net.global_avg("avgpool", x);
    let h = net.linear("classifier.0", p.t, net.n, p.c, last, true);
    let h = net.eltwise("classifier.1", EltOp::HardSwish, &[h], &[net.n, last]);
    Ok(vec![net.linear(
        "classifier.3",
        h,
        net.n,
        last,
        classes,
        true,
    )])
}
