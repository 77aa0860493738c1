//! YOLOv3-tiny (Redmon & Farhadi 2018), layer for layer from darknet's `cfg/yolov3-tiny.cfg`:
//! 3×3 convolutions with batch norm and leaky ReLU (slope 0.1), max pools (the sixth with stride
//! 1, padded by darknet to keep 13×13), two detection heads of 1×1 biased linear convolutions to
//! 3·(classes + 5) maps, a route back to layer 13, a 1×1 convolution, 2× nearest up-sampling and
//! a route concatenating it with layer 8. The `[yolo]` layers only decode boxes (sigmoid and
//! exponential on the head maps, then NMS): that post-processing is left out, so the outputs
//! are the two raw head maps.

use super::net::{ConvSpec, Feat, Net, NetResult, ShapeError};
use crate::workload::graph::{EltOp, PoolKind, TensorId};

/// Anchor boxes per detection scale in `yolov3-tiny.cfg` (`num=6` split over two masks).
const ANCHORS_PER_SCALE: u64 = 3;

fn cbl(net: &mut Net, i: u32, x: Feat, c: u64, k: u64) -> NetResult<Feat> {
    net.layer = Some(i);
    net.conv(
        &format!("layers.{i}"),
        x,
        ConvSpec::new(c, k).act(EltOp::LeakyRelu),
    )
}

/// YOLOv3-tiny at a `res × res` input (a multiple of 32) for `classes` classes.
pub fn yolov3_tiny(net: &mut Net, res: u64, classes: u64) -> NetResult<Vec<TensorId>> {
    if res % 32 != 0 {
        return Err(ShapeError {
            layer: "input".into(),
            message: format!("YOLOv3-tiny needs a multiple of 32 as resolution, not {res}"),
        });
    }
    let head = ANCHORS_PER_SCALE * (classes + 5);
    let x = net.image(3, res, res);
    let mut x = x;
    let mut layer8 = None;
    // Layers 0–10: conv (16 << i) then a 2×2/2 max pool, five times, then conv 512.
    for i in 0..6u32 {
        x = cbl(net, 2 * i, x, 16 << i, 3)?;
        if i == 4 {
            layer8 = Some(x);
        }
        if i < 5 {
            net.layer = Some(2 * i + 1);
            x = net.pool(
                &format!("layers.{}", 2 * i + 1),
                x,
                PoolKind::Max,
                2,
                2,
                0,
                false,
            )?;
        }
    }
    // Layer 11: 2×2 max pool with stride 1; darknet pads by size − 1 so the map stays the same.
    net.layer = Some(11);
    x = net.pool_to("layers.11", x, PoolKind::Max, 4, x.h, x.w);
    x = cbl(net, 12, x, 1024, 3)?;
    let l13 = cbl(net, 13, x, 256, 1)?;
    let l14 = cbl(net, 14, l13, 512, 3)?;
    net.layer = Some(15);
    let out1 = net.conv("layers.15", l14, ConvSpec::new(head, 1).plain())?;
    // Layer 17 routes back to 13.
    let l18 = cbl(net, 18, l13, 128, 1)?;
    net.layer = Some(19);
    let l19 = net.upsample("layers.19", l18, 2);
    net.layer = Some(20);
    let l8 = layer8.expect("layer 8 is built in the loop");
    let l20 = net.concat("layers.20", &[l19, l8])?;
    let l21 = cbl(net, 21, l20, 256, 3)?;
    net.layer = Some(22);
    let out2 = net.conv("layers.22", l21, ConvSpec::new(head, 1).plain())?;
    net.layer = None;
    Ok(vec![out1.t, out2.t])
}
