//! The original U-Net (Ronneberger, Fischer & Brox 2015, "U-Net: Convolutional Networks for
//! Biomedical Image Segmentation", Figure 1): unpadded 3×3 convolutions with bias and ReLU, no
//! batch norm, 2×2 max pools, 64 → 1024 channels over four levels, 2×2 up-convolutions
//! (transposed, stride 2) halving the channels, centre-cropped skip connections concatenated with
//! the up-sampled maps, and a final 1×1 convolution to the classes (572×572×1 → 388×388×2).
//! The per-pixel softmax of the paper's energy function is part of the loss and is left out, as
//! is the dropout at the end of the contracting path (the identity at inference).

use super::net::{ConvSpec, Feat, Net, NetResult, ShapeError};
use crate::workload::graph::{EltOp, PoolKind, TensorId};

/// Channels of the first level; each level below doubles them (64, 128, 256, 512, 1024).
const BASE_CHANNELS: u64 = 64;
/// Pooling steps between the top level and the bottom.
const LEVELS: usize = 4;

fn double_conv(net: &mut Net, p: &str, x: Feat, c: u64) -> NetResult<Feat> {
    let x = net.conv(
        &format!("{p}.conv1"),
        x,
        ConvSpec::new(c, 3).pad(0, 0).plain().act(EltOp::Relu),
    )?;
    net.conv(
        &format!("{p}.conv2"),
        x,
        ConvSpec::new(c, 3).pad(0, 0).plain().act(EltOp::Relu),
    )
}

/// U-Net on `in_ch`-channel `res × res` tiles with `classes` output maps.
pub fn unet(net: &mut Net, res: u64, in_ch: u64, classes: u64) -> NetResult<Vec<TensorId>> {
    let mut x = net.image(in_ch, res, res);
    let mut skips = Vec::with_capacity(LEVELS);
    for l in 0..LEVELS {
        net.layer = Some(l as u32);
        let c = BASE_CHANNELS << l;
        let y = double_conv(net, &format!("down{l}"), x, c)?;
        if y.h % 2 != 0 {
            return Err(ShapeError {
                layer: format!("down{l}.pool"),
                message: format!(
                    "a {}×{} map cannot be max-pooled 2×2 without loss; U-Net needs a tile size with (size − 12) divisible by 16, such as 572",
                    y.h, y.w
                ),
            });
        }
        skips.push(y);
        x = net.pool(&format!("down{l}.pool"), y, PoolKind::Max, 2, 2, 0, false)?;
    }
    net.layer = Some(LEVELS as u32);
    x = double_conv(net, "bottom", x, BASE_CHANNELS << LEVELS)?;
    for l in (0..LEVELS).rev() {
        net.layer = Some(2 * LEVELS as u32 - l as u32);
        let c = BASE_CHANNELS << l;
        let up = net.conv_transpose(&format!("up{l}.upconv"), x, c, 2, 2)?;
        let skip = skips[l];
        let (dh, dw) = (skip.h - up.h, skip.w - up.w);
        let cropped = if dh == 0 && dw == 0 {
            skip
        } else {
            net.crop(&format!("up{l}.crop"), skip, up.h, up.w)
        };
        let cat = net.concat(&format!("up{l}.cat"), &[cropped, up])?;
        x = double_conv(net, &format!("up{l}"), cat, c)?;
    }
    net.layer = None;
    let y = net.conv("head", x, ConvSpec::new(classes, 1).plain())?;
    Ok(vec![y.t])
}
