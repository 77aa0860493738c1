//! Mobile inverted-bottleneck (MBConv) networks with squeeze-excitation: MnasNet-A1 and
//! EfficientNet-B0…B7.
//!
//! * MnasNet-A1: Tan et al. 2019, "MnasNet", Figure 7, as in the TF reference
//!   (`tensorflow/tpu` `mnasnet_models.py`, `mnasnet_a1`): ReLU, SE reduced to
//!   `max(1, int(block input · 0.25))` with ReLU and a sigmoid gate, stem `round_filters(32)`,
//!   fixed 1280-channel head.
//! * EfficientNet: Tan & Le 2019, Table 1 and the compound coefficients of the reference
//!   implementation, as in torchvision's `efficientnet_b*`: SiLU, SE reduced to
//!   `max(1, block input / 4)`, channels `_make_divisible(c·width, 8)`, repeats
//!   `ceil(n·depth)`, head `4 ×` the last block width.

use super::net::{ConvSpec, Feat, Net, NetResult, make_divisible};
use crate::workload::graph::{EltOp, TensorId};

/// One MBConv block: optional 1×1 expansion, k×k depthwise, optional SE, 1×1 projection, and a
/// residual add when the stride is 1 and the width is kept (and `skip` allows it).
#[allow(clippy::too_many_arguments)]
fn mbconv(
    net: &mut Net,
    p: &str,
    x: Feat,
    expanded: u64,
    out: u64,
    k: u64,
    stride: u64,
    se_squeeze: Option<u64>,
    act: EltOp,
    skip: bool,
) -> NetResult<Feat> {
    let mut y = x;
    if expanded != x.c {
        y = net.conv(
            &format!("{p}.expand"),
            y,
            ConvSpec::new(expanded, 1).act(act),
        )?;
    }
    y = net.conv(
        &format!("{p}.dwconv"),
        y,
        ConvSpec::new(expanded, k).s(stride).g(expanded).act(act),
    )?;
    if let Some(sq) = se_squeeze {
        y = net.squeeze_excite(&format!("{p}.se"), y, sq, act, EltOp::Sigmoid)?;
    }
    y = net.conv(&format!("{p}.project"), y, ConvSpec::new(out, 1))?;
    Ok(if skip && stride == 1 && x.c == out {
        net.add(&format!("{p}.add"), x, y)
    } else {
        y
    })
}

/// MnasNet-A1 with depth multiplier `alpha`.
pub fn mnasnet_a1(net: &mut Net, res: u64, alpha: f64, classes: u64) -> NetResult<Vec<TensorId>> {
    // (repeats, kernel, first stride, expansion, output filters, SE ratio > 0), from
    // `mnasnet_a1`'s block strings `r1_k3_s11_e1_i32_o16_noskip` … `r1_k3_s11_e6_i160_o320`.
    const BLOCKS: [(u64, u64, u64, u64, u64, bool); 7] = [
        (1, 3, 1, 1, 16, false),
        (2, 3, 2, 6, 24, false),
        (3, 5, 2, 3, 40, true),
        (4, 3, 2, 6, 80, false),
        (2, 3, 1, 6, 112, true),
        (3, 5, 2, 6, 160, true),
        (1, 3, 1, 6, 320, false),
    ];
    let round = |c: u64| make_divisible(c as f64 * alpha, 8);
    let x = net.image(3, res, res);
    net.layer = Some(0);
    let mut x = net.conv("stem", x, ConvSpec::new(round(32), 3).s(2).act(EltOp::Relu))?;
    let mut idx = 0u32;
    for (b, &(n, k, s, e, o, se)) in BLOCKS.iter().enumerate() {
        for i in 0..n {
            net.layer = Some(idx + 1);
            let stride = if i == 0 { s } else { 1 };
            let squeeze = se.then(|| ((x.c as f64 * 0.25) as u64).max(1));
            x = mbconv(
                net,
                &format!("blocks.{idx}"),
                x,
                x.c * e,
                round(o),
                k,
                stride,
                squeeze,
                EltOp::Relu,
                b != 0, // the first block is `noskip`
            )?;
            idx += 1;
        }
    }
    net.layer = Some(idx + 1);
    // The reference keeps the head at 1280 filters whatever the multiplier.
    let x = net.conv("head", x, ConvSpec::new(1280, 1).act(EltOp::Relu))?;
    net.layer = None;
    Ok(vec![net.classifier(x, classes)])
}

/// EfficientNet compound coefficients (width, depth, resolution) of B0…B7 (Tan & Le 2019,
/// reference `efficientnet_builder.py`; torchvision uses the same width and depth).
pub const EFFICIENTNET_COEFFS: [(f64, f64, u64); 8] = [
    (1.0, 1.0, 224),
    (1.0, 1.1, 240),
    (1.1, 1.2, 260),
    (1.2, 1.4, 300),
    (1.4, 1.8, 380),
    (1.6, 2.2, 456),
    (1.8, 2.6, 528),
    (2.0, 3.1, 600),
];

/// EfficientNet with width and depth coefficients.
pub fn efficientnet(
    net: &mut Net,
    res: u64,
    width: f64,
    depth: f64,
    classes: u64,
) -> NetResult<Vec<TensorId>> {
    // (expansion, kernel, first stride, input, output, repeats), Table 1 of the paper.
    const STAGES: [(u64, u64, u64, u64, u64, u64); 7] = [
        (1, 3, 1, 32, 16, 1),
        (6, 3, 2, 16, 24, 2),
        (6, 5, 2, 24, 40, 2),
        (6, 3, 2, 40, 80, 3),
        (6, 5, 1, 80, 112, 3),
        (6, 5, 2, 112, 192, 4),
        (6, 3, 1, 192, 320, 1),
    ];
    let adj = |c: f64| make_divisible(c * width, 8);
    let x = net.image(3, res, res);
    net.layer = Some(0);
    let mut x = net.conv(
        "features.0",
        x,
        ConvSpec::new(adj(32.0), 3).s(2).act(EltOp::Silu),
    )?;
    for (si, &(e, k, s, _, o, n)) in STAGES.iter().enumerate() {
        let repeats = (n as f64 * depth).ceil() as u64;
        for i in 0..repeats {
            net.layer = Some(si as u32 + 1);
            let stride = if i == 0 { s } else { 1 };
            let expanded = make_divisible((x.c * e) as f64, 8);
            x = mbconv(
                net,
                &format!("features.{}.{i}", si + 1),
                x,
                expanded,
                adj(o as f64),
                k,
                stride,
                Some((x.c / 4).max(1)),
                EltOp::Silu,
                true,
            )?;
        }
    }
    net.layer = Some(STAGES.len() as u32 + 1);
    let x = net.conv("features.8", x, ConvSpec::new(4 * x.c, 1).act(EltOp::Silu))?;
    net.layer = None;
    Ok(vec![net.avgpool_linear("classifier.1", x, classes)])
}
