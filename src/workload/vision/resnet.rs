//! ResNet-18/34/50/101/152 (He et al. 2016, Table 1), as in torchvision's `resnet*`: basic
//! blocks for 18 and 34, bottlenecks with the stride on the 3×3 convolution ("ResNet v1.5") for
//! 50 and deeper, 1×1 projection shortcuts where the shape changes.

use super::net::{ConvSpec, Feat, Net, NetResult};
use crate::workload::graph::{EltOp, PoolKind, TensorId};

/// Blocks per stage for each supported depth, and whether the blocks are bottlenecks.
pub fn stages(depth: u32) -> Option<([u64; 4], bool)> {
    Some(match depth {
        18 => ([2, 2, 2, 2], false),
        34 => ([3, 4, 6, 3], false),
        50 => ([3, 4, 6, 3], true),
        101 => ([3, 4, 23, 3], true),
        152 => ([3, 8, 36, 3], true),
        _ => return None,
    })
}

/// ResNet of the given depth (one of [`stages`]).
pub fn resnet(net: &mut Net, depth: u32, res: u64, classes: u64) -> NetResult<Vec<TensorId>> {
    let (blocks, bottleneck) = stages(depth).expect("depth checked by the caller");
    let x = net.image(3, res, res);
    net.layer = Some(0);
    let x = net.conv("conv1", x, ConvSpec::new(64, 7).s(2).act(EltOp::Relu))?;
    let mut x = net.pool("maxpool", x, PoolKind::Max, 3, 2, 1, false)?;
    let mut idx = 1;
    for (stage, &n) in blocks.iter().enumerate() {
        let planes = 64u64 << stage;
        for b in 0..n {
            net.layer = Some(idx);
            idx += 1;
            let stride = if stage > 0 && b == 0 { 2 } else { 1 };
            let p = format!("layer{}.{b}", stage + 1);
            x = if bottleneck {
                bottleneck_block(net, &p, x, planes, stride)?
            } else {
                basic_block(net, &p, x, planes, stride)?
            };
        }
    }
    net.layer = None;
    Ok(vec![net.classifier(x, classes)])
}

fn shortcut(net: &mut Net, p: &str, x: Feat, out: u64, stride: u64) -> NetResult<Feat> {
    if stride != 1 || x.c != out {
        net.conv(
            &format!("{p}.downsample"),
            x,
            ConvSpec::new(out, 1).s(stride),
        )
    } else {
        Ok(x)
    }
}

fn basic_block(net: &mut Net, p: &str, x: Feat, planes: u64, stride: u64) -> NetResult<Feat> {
    let y = net.conv(
        &format!("{p}.conv1"),
        x,
        ConvSpec::new(planes, 3).s(stride).act(EltOp::Relu),
    )?;
    let y = net.conv(&format!("{p}.conv2"), y, ConvSpec::new(planes, 3))?;
    let id = shortcut(net, p, x, planes, stride)?;
    let s = net.add(&format!("{p}.add"), y, id);
    Ok(net.act(&format!("{p}.relu"), s, EltOp::Relu))
}

fn bottleneck_block(net: &mut Net, p: &str, x: Feat, planes: u64, stride: u64) -> NetResult<Feat> {
    let out = 4 * planes;
    let y = net.conv(
        &format!("{p}.conv1"),
        x,
        ConvSpec::new(planes, 1).act(EltOp::Relu),
    )?;
    let y = net.conv(
        &format!("{p}.conv2"),
        y,
        ConvSpec::new(planes, 3).s(stride).act(EltOp::Relu),
    )?;
    let y = net.conv(&format!("{p}.conv3"), y, ConvSpec::new(out, 1))?;
    let id = shortcut(net, p, x, out, stride)?;
    let s = net.add(&format!("{p}.add"), y, id);
    Ok(net.act(&format!("{p}.relu"), s, EltOp::Relu))
}
