//! The vector ops of the candle backend beyond the LLM set: every [`EltOp`], `Sum` pooling and
//! every [`MoveKind`] of data movement, as the vision builders and the ONNX importer emit them.
//!
//! Each op runs as the candle kernel that computes it, or, where candle has no kernel, as the
//! shortest composition of candle kernels that computes the op's definition (the measured time
//! is then that of the composition, which is what the backend really does):
//!
//! | archscope op | candle execution | passes |
//! |---|---|---|
//! | `Add`, `Sub`, `Mul`, `Div` | `broadcast_add`/`_sub`/`_mul`/`_div`; with one operand (the other a folded constant) `affine` | 1 |
//! | `LeakyRelu` max(x, αx) | `affine(α, 0)` then `maximum` (candle-nn's `leaky_relu` takes five passes) | 2 |
//! | `Clip` | one operand: `clamp` (`maximum` then `minimum`); two (ONNX `Max`/`Min`): `broadcast_maximum` | 2 / 1 |
//! | `Unary` | one operand: `tanh` (a transcendental representative of the class); two (ONNX `Pow`): `broadcast_pow` | 1 |
//! | `SoftCap` cap·tanh(x/cap) | `affine(1/cap, 0)`, `tanh`, `affine(cap, 0)` | 3 |
//! | `Compare` | `broadcast_lt` (`eq 0` for a lone operand) to a `u8` mask, converted to the graph's float output; `where_cond` with three operands | 2 / 1 |
//! | `Pool` `Sum` | global: `sum_keepdim` over H, W; windowed: `avg_pool2d` then `affine` by the window; other layouts: `sum_keepdim` over the contiguous window | 1 / 2 / 1 |
//! | `Concat` | `Tensor::cat` along the axis whose sizes add up | 1 |
//! | `Slice` | `narrow` on every axis to the output (a centred window, as U-Net's crop), `contiguous` | 1 |
//! | `Pad` | `pad_with_zeros` on every axis that grows | 1 per axis |
//! | `Transpose` | `permute` to the output shape, `contiguous` | 1 |
//! | `UpsampleNearest` | `upsample_nearest2d` | 1 |
//! | `ResizeLinear` | `upsample_bilinear2d` (no corner alignment) | 1 |
//! | `Broadcast` | `broadcast_as`, `contiguous` | 1 |
//!
//! Operand shapes follow the graph: an operand whose element count equals the output's is
//! reshaped to it; a smaller one broadcasts against it (numpy rules, and a per-channel vector
//! `[C]` against NCHW along the channel axis).

use super::MeasureError;
use crate::workload::{EltOp, MoveKind};
use candle_core::{DType, Tensor};

/// Slope of the negative side of `LeakyRelu`: 0.1, darknet's `leaky` activation (YOLO). The
/// value does not change the timing.
pub const LEAKY_SLOPE: f64 = 0.1;
/// Bounds of a `Clip` with one operand (the graph does not keep them; they do not change the
/// timing).
pub const CLIP_BOUNDS: (f32, f32) = (-1.0, 1.0);
/// Constant standing for an operand folded away by the importer (a scalar); it does not change
/// the timing.
const FOLDED_CONSTANT: f64 = 0.5;

fn err(op: &str, why: impl Into<String>) -> MeasureError {
    MeasureError::Unsupported {
        op: op.to_string(),
        why: why.into(),
    }
}

/// `x` in a shape that broadcasts against `out`: itself when it does, reshaped to `out` when it
/// has as many elements, or a per-channel vector `[C]` laid along axis 1 of an NCHW-like `out`.
pub fn fit(name: &str, x: &Tensor, out: &[usize]) -> Result<Tensor, MeasureError> {
    let n: usize = out.iter().product();
    if x.dims() == out {
        return Ok(x.clone());
    }
    if x.elem_count() == n && x.is_contiguous() {
        return Ok(x.reshape(out)?);
    }
    if x.broadcast_as(out).is_ok() {
        return Ok(x.clone());
    }
    if out.len() >= 2 && x.elem_count() == out[1] {
        let mut s = vec![1usize; out.len()];
        s[1] = out[1];
        return Ok(x.reshape(s)?);
    }
    Err(err(
        name,
        format!(
            "an operand of shape {:?} does not broadcast to {out:?}",
            x.dims()
        ),
    ))
}

/// Runs elementwise `e` over `ins` (the operands the graph keeps) to an output of shape `out`.
pub fn elementwise(
    name: &str,
    e: EltOp,
    ins: &[&Tensor],
    out: &[usize],
) -> Result<Tensor, MeasureError> {
    let x: Vec<Tensor> = ins
        .iter()
        .map(|t| fit(name, t, out))
        .collect::<Result<_, _>>()?;
    let first = x
        .first()
        .ok_or_else(|| err(name, "an elementwise op needs at least one operand"))?;
    let a = first;
    let two = |f: fn(&Tensor, &Tensor) -> candle_core::Result<Tensor>,
               one: fn(&Tensor) -> candle_core::Result<Tensor>|
     -> Result<Tensor, MeasureError> {
        Ok(match x.get(1) {
            Some(b) => f(a, b)?,
            None => one(a)?,
        })
    };
    let y = match e {
        EltOp::Add => two(Tensor::broadcast_add, |a| a.affine(1.0, FOLDED_CONSTANT))?,
        EltOp::Sub => two(Tensor::broadcast_sub, |a| a.affine(1.0, -FOLDED_CONSTANT))?,
        EltOp::Mul => two(Tensor::broadcast_mul, |a| a.affine(FOLDED_CONSTANT, 0.0))?,
        EltOp::Div => two(Tensor::broadcast_div, |a| {
            a.affine(1.0 / FOLDED_CONSTANT, 0.0)
        })?,
        EltOp::Relu => a.relu()?,
        EltOp::Relu6 => a.clamp(0f32, 6f32)?,
        EltOp::Silu => a.silu()?,
        EltOp::Gelu => a.gelu()?,
        EltOp::Sigmoid => candle_nn::ops::sigmoid(a)?,
        EltOp::HardSigmoid => candle_nn::ops::hard_sigmoid(a)?,
        EltOp::HardSwish => a.mul(&candle_nn::ops::hard_sigmoid(a)?)?,
        EltOp::SwiGlu | EltOp::GeGlu => {
            let up = x
                .get(1)
                .ok_or_else(|| err(name, "a gated activation needs gate and up operands"))?;
            let act = if e == EltOp::SwiGlu {
                a.silu()?
            } else {
                a.gelu()?
            };
            act.broadcast_mul(up)?
        }
        EltOp::Scale => a.affine(2.0, 0.0)?,
        EltOp::SoftCap => a
            .affine(1.0 / FOLDED_CONSTANT, 0.0)?
            .tanh()?
            .affine(FOLDED_CONSTANT, 0.0)?,
        EltOp::LeakyRelu => a.maximum(&a.affine(LEAKY_SLOPE, 0.0)?)?,
        EltOp::Clip => match x.get(1) {
            Some(b) => a.broadcast_maximum(b)?,
            None => a.clamp(CLIP_BOUNDS.0, CLIP_BOUNDS.1)?,
        },
        EltOp::Unary => match x.get(1) {
            Some(b) => a.broadcast_pow(b)?,
            None => a.tanh()?,
        },
        EltOp::Compare => match (x.get(1), x.get(2)) {
            (Some(t), Some(f)) => {
                let pred = if a.dtype().is_float() {
                    a.ne(0f32)?
                } else {
                    a.clone()
                };
                pred.broadcast_as(out)?
                    .where_cond(&t.broadcast_as(out)?, &f.broadcast_as(out)?)?
            }
            (Some(b), None) => a.broadcast_lt(b)?.to_dtype(mask_dtype(a))?,
            _ => a.eq(0f32)?.to_dtype(mask_dtype(a))?,
        },
    };
    expect_elems(name, y, out)
}

/// Sum pooling of `x` to `out_elems` outputs of `window` inputs each, output shape `out`.
pub fn sum_pool(
    name: &str,
    x: &Tensor,
    window: usize,
    out: &[usize],
) -> Result<Tensor, MeasureError> {
    let out_elems: usize = out.iter().product();
    if let Ok((n, c, h, w)) = x.dims4() {
        if h * w == window && out_elems == n * c {
            return Ok(x.sum_keepdim((2, 3))?);
        }
        if out.len() == 4 && out[0] == n && out[1] == c {
            let (ho, wo) = (out[2], out[3]);
            let k = (window as f64).sqrt().round() as usize;
            if k * k == window && ho > 0 && wo > 0 {
                // stride s such that (h - k)/s + 1 = ho, no padding
                if let Some(s) = (1..=k)
                    .find(|&s| h >= k && (h - k) / s + 1 == ho && w >= k && (w - k) / s + 1 == wo)
                {
                    return Ok(x.avg_pool2d_with_stride(k, s)?.affine(window as f64, 0.0)?);
                }
            }
        }
    }
    if x.elem_count() == out_elems * window && x.is_contiguous() {
        return Ok(x.reshape((out_elems, window))?.sum_keepdim(1)?);
    }
    Err(err(
        name,
        format!(
            "no sum pooling maps {:?} to {out:?} with {window} elements per window",
            x.dims()
        ),
    ))
}

/// A permutation `p` with `out[i] = input[p[i]]`, preferring one that moves data (when equal
/// sizes make the identity possible, the last two equal axes are swapped).
fn permutation(input: &[usize], out: &[usize]) -> Option<Vec<usize>> {
    if input.len() != out.len() {
        return None;
    }
    let mut used = vec![false; input.len()];
    let mut p = Vec::with_capacity(out.len());
    for &d in out {
        let j = (0..input.len()).find(|&j| !used[j] && input[j] == d)?;
        used[j] = true;
        p.push(j);
    }
    if p.iter().enumerate().all(|(i, &j)| i == j) {
        // Identity: swap two equal axes, innermost first, so the copy is a real transpose.
        'outer: for a in (0..p.len()).rev() {
            for b in (0..a).rev() {
                if input[a] == input[b] {
                    p.swap(a, b);
                    break 'outer;
                }
            }
        }
    }
    Some(p)
}

/// Data movement `kind` of `ins` to an output of shape `out`.
pub fn data_move(
    name: &str,
    kind: MoveKind,
    ins: &[&Tensor],
    out: &[usize],
) -> Result<Tensor, MeasureError> {
    let x = *ins
        .first()
        .ok_or_else(|| err(name, "a data movement needs an operand"))?;
    let y = match kind {
        MoveKind::Concat => {
            // The axis along which the operands' sizes add up to the output's.
            let ranks_match = ins.iter().all(|t| t.rank() == out.len());
            let axis = (0..out.len()).find(|&a| {
                ranks_match
                    && ins.iter().map(|t| t.dims()[a]).sum::<usize>() == out[a]
                    && ins.iter().all(|t| {
                        t.dims()
                            .iter()
                            .zip(out)
                            .enumerate()
                            .all(|(i, (d, o))| i == a || d == o)
                    })
            });
            match axis {
                Some(a) => Tensor::cat(ins, a)?,
                None => {
                    // Operands in other layouts: concatenate their elements (the same copy).
                    let flat: Vec<Tensor> = ins
                        .iter()
                        .map(|t| t.flatten_all())
                        .collect::<Result<_, _>>()?;
                    Tensor::cat(&flat, 0)?
                }
            }
        }
        MoveKind::Slice => {
            if x.rank() == out.len() && x.dims().iter().zip(out).all(|(d, o)| o <= d) {
                let mut y = x.clone();
                for (a, (&d, &o)) in x.dims().iter().zip(out).enumerate() {
                    if o < d {
                        y = y.narrow(a, (d - o) / 2, o)?;
                    }
                }
                y.contiguous()?
            } else {
                let n: usize = out.iter().product();
                if n > x.elem_count() {
                    return Err(err(name, "a slice larger than its input"));
                }
                x.flatten_all()?.narrow(0, 0, n)?.contiguous()?
            }
        }
        MoveKind::Pad => {
            if x.rank() != out.len() || x.dims().iter().zip(out).any(|(d, o)| o < d) {
                return Err(err(name, format!("cannot pad {:?} to {out:?}", x.dims())));
            }
            let mut y = x.clone();
            for (a, (&d, &o)) in x.dims().iter().zip(out).enumerate() {
                if o > d {
                    let lo = (o - d) / 2;
                    y = y.pad_with_zeros(a, lo, o - d - lo)?;
                }
            }
            y
        }
        MoveKind::Transpose => match permutation(x.dims(), out) {
            Some(p) => x.permute(p)?.contiguous()?,
            None => {
                return Err(err(
                    name,
                    format!("{:?} is no permutation of {out:?}", x.dims()),
                ));
            }
        },
        MoveKind::UpsampleNearest | MoveKind::ResizeLinear => {
            let (ho, wo) = match out {
                [_, _, h, w] if x.rank() == 4 => (*h, *w),
                _ => return Err(err(name, "resizing needs NCHW input and output")),
            };
            if kind == MoveKind::UpsampleNearest {
                x.upsample_nearest2d(ho, wo)?
            } else {
                x.upsample_bilinear2d(ho, wo, false)?
            }
        }
        MoveKind::Broadcast => fit(name, x, out)?.broadcast_as(out)?.contiguous()?,
    };
    expect_elems(name, y, out)
}

/// `y`, when it holds as many elements as the graph's shape `out`; an error naming the op
/// otherwise.
fn expect_elems(name: &str, y: Tensor, out: &[usize]) -> Result<Tensor, MeasureError> {
    let n: usize = out.iter().product();
    if y.elem_count() != n {
        return Err(err(
            name,
            format!("computed {:?}, the graph expects {out:?}", y.dims()),
        ));
    }
    Ok(y)
}

/// The dtype a comparison mask is converted to (the float type of the graph's tensors).
fn mask_dtype(x: &Tensor) -> DType {
    if x.dtype().is_float() {
        x.dtype()
    } else {
        DType::F32
    }
}
