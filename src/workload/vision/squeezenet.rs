//! SqueezeNet 1.1 (Iandola et al. 2016; the 1.1 variant of the reference repository
//! `forresti/SqueezeNet`), as in torchvision's `squeezenet1_1`: biased convolutions without batch
//! norm, Fire modules (1×1 squeeze, then 1×1 and 3×3 expands concatenated), ceil-mode max pools,
//! and a 1×1 convolution classifier followed by ReLU and global average pooling.

use super::net::{ConvSpec, Feat, Net, NetResult};
use crate::workload::graph::{EltOp, PoolKind, TensorId};

fn fire(net: &mut Net, p: &str, x: Feat, squeeze: u64, expand: u64) -> NetResult<Feat> {
    let s = net.conv(
        &format!("{p}.squeeze"),
        x,
        ConvSpec::new(squeeze, 1).plain().act(EltOp::Relu),
    )?;
    let e1 = net.conv(
        &format!("{p}.expand1x1"),
        s,
        ConvSpec::new(expand, 1).plain().act(EltOp::Relu),
    )?;
    let e3 = net.conv(
        &format!("{p}.expand3x3"),
        s,
        ConvSpec::new(expand, 3).plain().act(EltOp::Relu),
    )?;
    net.concat(&format!("{p}.cat"), &[e1, e3])
}

/// SqueezeNet 1.1.
pub fn squeezenet11(net: &mut Net, res: u64, classes: u64) -> NetResult<Vec<TensorId>> {
    let x = net.image(3, res, res);
    net.layer = Some(0);
    let x = net.conv(
        "features.0",
        x,
        ConvSpec::new(64, 3).s(2).pad(0, 0).plain().act(EltOp::Relu),
    )?;
    let mut x = net.pool("features.2", x, PoolKind::Max, 3, 2, 0, true)?;
    // (features index, squeeze, expand); a ceil-mode max pool precedes indices 6 and 9.
    const FIRES: [(u32, u64, u64); 8] = [
        (3, 16, 64),
        (4, 16, 64),
        (6, 32, 128),
        (7, 32, 128),
        (9, 48, 192),
        (10, 48, 192),
        (11, 64, 256),
        (12, 64, 256),
    ];
    for (i, &(idx, sq, ex)) in FIRES.iter().enumerate() {
        if idx == 6 || idx == 9 {
            net.layer = None;
            x = net.pool(
                &format!("features.{}", idx - 1),
                x,
                PoolKind::Max,
                3,
                2,
                0,
                true,
            )?;
        }
        net.layer = Some(i as u32 + 1);
        x = fire(net, &format!("features.{idx}"), x, sq, ex)?;
    }
    net.layer = None;
    // Dropout, then the 1×1 classifier convolution with ReLU, then global average pooling.
    let x = net.conv(
        "classifier.1",
        x,
        ConvSpec::new(classes, 1).plain().act(EltOp::Relu),
    )?;
    let p = net.global_avg("classifier.3", x);
    Ok(vec![p.t])
}
