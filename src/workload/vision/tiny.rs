//! The MLPerf Tiny reference networks (Banbury et al. 2021, "MLPerf Tiny Benchmark"; the
//! reference models of `mlcommons/tiny`, `benchmark/training`), sized for microcontrollers:
//! * image classification: the EEMBC ResNet-8 for CIFAR-10 (32×32×3; three stacks of two 3×3
//!   convolutions with 16, 32 and 64 filters, a 1×1 strided projection on the identity path of
//!   the second and third, average pooling over the 8×8 map, one dense layer to 10 classes);
//! * keyword spotting: DS-CNN (Zhang et al. 2017, "Hello Edge", the small model): a 10×4
//!   convolution with stride 2 over the 49×10 MFCC map to 64 channels, four depthwise-separable
//!   blocks (3×3 depthwise, 1×1 to 64), average pooling over the 25×5 map, one dense layer to 12;
//! * anomaly detection: the DCASE 2020 dense autoencoder (640 inputs: 5 frames of 128 log-mel
//!   bins; four 128-unit layers, an 8-unit bottleneck, four 128-unit layers, 640 outputs).
//!
//! The visual-wake-words model is MobileNetV1 with width 0.25 at 96×96 and 2 classes, built by
//! `mobilenetv1?width=0.25&res=96&classes=2`. Batch norm follows each convolution and dense layer
//! as in the Keras models (folded by default, as the int8 TFLite files have it).

use super::net::{ConvSpec, Feat, Net, NetResult};
use crate::workload::graph::{EltOp, PoolKind, TensorId};

/// One residual stack of the EEMBC ResNet-8: two 3×3 convolutions, the first with `stride`; a
/// 1×1 convolution with `stride` on the identity path when the shape changes; add, ReLU.
fn stack(net: &mut Net, p: &str, x: Feat, filters: u64, stride: u64) -> NetResult<Feat> {
    let y = net.conv(
        &format!("{p}.conv1"),
        x,
        ConvSpec::new(filters, 3).s(stride).act(EltOp::Relu),
    )?;
    let y = net.conv(&format!("{p}.conv2"), y, ConvSpec::new(filters, 3))?;
    let id = if stride == 1 && x.c == filters {
        x
    } else {
        net.conv(
            &format!("{p}.proj"),
            x,
            ConvSpec::new(filters, 1).s(stride).plain(),
        )?
    };
    let s = net.add(&format!("{p}.add"), id, y);
    Ok(net.act(&format!("{p}.relu"), s, EltOp::Relu))
}

/// The EEMBC ResNet-8 of MLPerf Tiny image classification, at `res`×`res` (32 for CIFAR-10).
pub fn resnet8(net: &mut Net, res: u64, classes: u64) -> NetResult<Vec<TensorId>> {
    let x = net.image(3, res, res);
    net.layer = Some(0);
    let mut x = net.conv("conv0", x, ConvSpec::new(16, 3).act(EltOp::Relu))?;
    for (i, &(filters, stride)) in [(16, 1), (32, 2), (64, 2)].iter().enumerate() {
        net.layer = Some(i as u32 + 1);
        x = stack(net, &format!("stack{}", i + 1), x, filters, stride)?;
    }
    net.layer = None;
    Ok(vec![net.avgpool_linear("dense", x, classes)])
}

/// DS-CNN (small) of MLPerf Tiny keyword spotting over a 49×10 MFCC map.
pub fn ds_cnn(net: &mut Net, classes: u64) -> NetResult<Vec<TensorId>> {
    let x = net.image(1, 49, 10);
    net.layer = Some(0);
    // Keras `padding='same'` with stride 2 over 49×10: output 25×5 (ceil(49/2), ceil(10/2));
    // the 10×4 window pads 4 rows above and 5 below, 1 column left and 2 right. Symmetric
    // padding of 5 rows and 1 column gives the same 25×5 map, hence the same MACs.
    let mut x = net.conv(
        "conv0",
        x,
        ConvSpec::rect(64, 10, 4).s(2).pad(5, 1).act(EltOp::Relu),
    )?;
    for i in 1..=4 {
        net.layer = Some(i);
        x = net.conv(
            &format!("ds{i}.dw"),
            x,
            ConvSpec::new(x.c, 3).g(x.c).act(EltOp::Relu),
        )?;
        x = net.conv(
            &format!("ds{i}.pw"),
            x,
            ConvSpec::new(64, 1).act(EltOp::Relu),
        )?;
    }
    net.layer = None;
    let p = net.pool_to("avgpool", x, PoolKind::Avg, x.h * x.w, 1, 1);
    Ok(vec![net.linear("dense", p.t, net.n, p.c, classes, true)])
}

/// The DCASE 2020 dense autoencoder of MLPerf Tiny anomaly detection (640 → 128 ×4 → 8 →
/// 128 ×4 → 640; batch norm and ReLU after every layer but the last).
pub fn fc_autoencoder(net: &mut Net) -> NetResult<Vec<TensorId>> {
    const WIDTHS: [u64; 10] = [640, 128, 128, 128, 128, 8, 128, 128, 128, 128];
    let x = net.image(640, 1, 1);
    let mut t = x.t;
    for (i, w) in WIDTHS.windows(2).enumerate() {
        net.layer = Some(i as u32);
        let y = net.linear(&format!("dense{i}"), t, net.n, w[0], w[1], true);
        t = net.eltwise(&format!("relu{i}"), EltOp::Relu, &[y], &[net.n, w[1]]);
    }
    net.layer = None;
    Ok(vec![net.linear("dense9", t, net.n, 128, 640, true)])
}
