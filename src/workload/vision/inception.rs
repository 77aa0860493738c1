//! Inception-v3 (Szegedy et al. 2016, "Rethinking the Inception Architecture", Table 1 and
//! Figures 5–7), as in torchvision's `inception_v3` at inference: every convolution is
//! conv → batch norm → ReLU without bias, the branches of each Inception module run from the
//! same input and are concatenated, average pools count padding, and the auxiliary classifier
//! (a training-time head) is left out.

use super::net::{ConvSpec, Feat, Net, NetResult};
use crate::workload::graph::{EltOp, PoolKind, TensorId};

/// conv + BN + ReLU, `kh × kw`, same padding unless given.
fn bc(net: &mut Net, p: &str, x: Feat, c: u64, kh: u64, kw: u64) -> NetResult<Feat> {
    net.conv(p, x, ConvSpec::rect(c, kh, kw).act(EltOp::Relu))
}

fn bc_s2(net: &mut Net, p: &str, x: Feat, c: u64) -> NetResult<Feat> {
    net.conv(p, x, ConvSpec::new(c, 3).s(2).pad(0, 0).act(EltOp::Relu))
}

fn avg3(net: &mut Net, p: &str, x: Feat) -> NetResult<Feat> {
    net.pool(p, x, PoolKind::Avg, 3, 1, 1, false)
}

fn inception_a(net: &mut Net, p: &str, x: Feat, pool_features: u64) -> NetResult<Feat> {
    let b1 = bc(net, &format!("{p}.branch1x1"), x, 64, 1, 1)?;
    let b5 = bc(net, &format!("{p}.branch5x5_1"), x, 48, 1, 1)?;
    let b5 = bc(net, &format!("{p}.branch5x5_2"), b5, 64, 5, 5)?;
    let b3 = bc(net, &format!("{p}.branch3x3dbl_1"), x, 64, 1, 1)?;
    let b3 = bc(net, &format!("{p}.branch3x3dbl_2"), b3, 96, 3, 3)?;
    let b3 = bc(net, &format!("{p}.branch3x3dbl_3"), b3, 96, 3, 3)?;
    let bp = avg3(net, &format!("{p}.branch_pool.avg"), x)?;
    let bp = bc(net, &format!("{p}.branch_pool"), bp, pool_features, 1, 1)?;
    net.concat(&format!("{p}.cat"), &[b1, b5, b3, bp])
}

fn inception_b(net: &mut Net, p: &str, x: Feat) -> NetResult<Feat> {
    let b3 = bc_s2(net, &format!("{p}.branch3x3"), x, 384)?;
    let bd = bc(net, &format!("{p}.branch3x3dbl_1"), x, 64, 1, 1)?;
    let bd = bc(net, &format!("{p}.branch3x3dbl_2"), bd, 96, 3, 3)?;
    let bd = bc_s2(net, &format!("{p}.branch3x3dbl_3"), bd, 96)?;
    let bp = net.pool(
        &format!("{p}.branch_pool"),
        x,
        PoolKind::Max,
        3,
        2,
        0,
        false,
    )?;
    net.concat(&format!("{p}.cat"), &[b3, bd, bp])
}

fn inception_c(net: &mut Net, p: &str, x: Feat, c7: u64) -> NetResult<Feat> {
    let b1 = bc(net, &format!("{p}.branch1x1"), x, 192, 1, 1)?;
    let b7 = bc(net, &format!("{p}.branch7x7_1"), x, c7, 1, 1)?;
    let b7 = bc(net, &format!("{p}.branch7x7_2"), b7, c7, 1, 7)?;
    let b7 = bc(net, &format!("{p}.branch7x7_3"), b7, 192, 7, 1)?;
    let bd = bc(net, &format!("{p}.branch7x7dbl_1"), x, c7, 1, 1)?;
    let bd = bc(net, &format!("{p}.branch7x7dbl_2"), bd, c7, 7, 1)?;
    let bd = bc(net, &format!("{p}.branch7x7dbl_3"), bd, c7, 1, 7)?;
    let bd = bc(net, &format!("{p}.branch7x7dbl_4"), bd, c7, 7, 1)?;
    let bd = bc(net, &format!("{p}.branch7x7dbl_5"), bd, 192, 1, 7)?;
    let bp = avg3(net, &format!("{p}.branch_pool.avg"), x)?;
    let bp = bc(net, &format!("{p}.branch_pool"), bp, 192, 1, 1)?;
    net.concat(&format!("{p}.cat"), &[b1, b7, bd, bp])
}

fn inception_d(net: &mut Net, p: &str, x: Feat) -> NetResult<Feat> {
    let b3 = bc(net, &format!("{p}.branch3x3_1"), x, 192, 1, 1)?;
    let b3 = bc_s2(net, &format!("{p}.branch3x3_2"), b3, 320)?;
    let b7 = bc(net, &format!("{p}.branch7x7x3_1"), x, 192, 1, 1)?;
    let b7 = bc(net, &format!("{p}.branch7x7x3_2"), b7, 192, 1, 7)?;
    let b7 = bc(net, &format!("{p}.branch7x7x3_3"), b7, 192, 7, 1)?;
    let b7 = bc_s2(net, &format!("{p}.branch7x7x3_4"), b7, 192)?;
    let bp = net.pool(
        &format!("{p}.branch_pool"),
        x,
        PoolKind::Max,
        3,
        2,
        0,
        false,
    )?;
    net.concat(&format!("{p}.cat"), &[b3, b7, bp])
}

fn inception_e(net: &mut Net, p: &str, x: Feat) -> NetResult<Feat> {
    let b1 = bc(net, &format!("{p}.branch1x1"), x, 320, 1, 1)?;
    let b3 = bc(net, &format!("{p}.branch3x3_1"), x, 384, 1, 1)?;
    let b3a = bc(net, &format!("{p}.branch3x3_2a"), b3, 384, 1, 3)?;
    let b3b = bc(net, &format!("{p}.branch3x3_2b"), b3, 384, 3, 1)?;
    let b3 = net.concat(&format!("{p}.branch3x3.cat"), &[b3a, b3b])?;
    let bd = bc(net, &format!("{p}.branch3x3dbl_1"), x, 448, 1, 1)?;
    let bd = bc(net, &format!("{p}.branch3x3dbl_2"), bd, 384, 3, 3)?;
    let bda = bc(net, &format!("{p}.branch3x3dbl_3a"), bd, 384, 1, 3)?;
    let bdb = bc(net, &format!("{p}.branch3x3dbl_3b"), bd, 384, 3, 1)?;
    let bd = net.concat(&format!("{p}.branch3x3dbl.cat"), &[bda, bdb])?;
    let bp = avg3(net, &format!("{p}.branch_pool.avg"), x)?;
    let bp = bc(net, &format!("{p}.branch_pool"), bp, 192, 1, 1)?;
    net.concat(&format!("{p}.cat"), &[b1, b3, bd, bp])
}

/// Inception-v3 without the auxiliary classifier.
pub fn inception_v3(net: &mut Net, res: u64, classes: u64) -> NetResult<Vec<TensorId>> {
    let x = net.image(3, res, res);
    net.layer = Some(0);
    let x = bc_s2(net, "Conv2d_1a_3x3", x, 32)?;
    let x = net.conv(
        "Conv2d_2a_3x3",
        x,
        ConvSpec::new(32, 3).pad(0, 0).act(EltOp::Relu),
    )?;
    let x = bc(net, "Conv2d_2b_3x3", x, 64, 3, 3)?;
    let x = net.pool("maxpool1", x, PoolKind::Max, 3, 2, 0, false)?;
    let x = bc(net, "Conv2d_3b_1x1", x, 80, 1, 1)?;
    let x = net.conv(
        "Conv2d_4a_3x3",
        x,
        ConvSpec::new(192, 3).pad(0, 0).act(EltOp::Relu),
    )?;
    let x = net.pool("maxpool2", x, PoolKind::Max, 3, 2, 0, false)?;
    net.layer = Some(1);
    let x = inception_a(net, "Mixed_5b", x, 32)?;
    net.layer = Some(2);
    let x = inception_a(net, "Mixed_5c", x, 64)?;
    net.layer = Some(3);
    let x = inception_a(net, "Mixed_5d", x, 64)?;
    net.layer = Some(4);
    let x = inception_b(net, "Mixed_6a", x)?;
    let mut x = x;
    for (i, (name, c7)) in [
        ("Mixed_6b", 128),
        ("Mixed_6c", 160),
        ("Mixed_6d", 160),
        ("Mixed_6e", 192),
    ]
    .into_iter()
    .enumerate()
    {
        net.layer = Some(5 + i as u32);
        x = inception_c(net, name, x, c7)?;
    }
    net.layer = Some(9);
    let x = inception_d(net, "Mixed_7a", x)?;
    net.layer = Some(10);
    let x = inception_e(net, "Mixed_7b", x)?;
    net.layer = Some(11);
    let x = inception_e(net, "Mixed_7c", x)?;
    net.layer = None;
    Ok(vec![net.classifier(x, classes)])
}
