//! Constant folding: the shape arithmetic of an ONNX graph (`Shape`, `Gather`, `Concat`,
//! `Slice`, `Reshape` of shape tensors, …) evaluated at import, as an inference runtime folds
//! it. Holds the index helpers (broadcasting, strides), the evaluation of each foldable op over
//! known values, and the importer's access to constant inputs.

use super::importer::{Importer, Val};
use super::{MAX_CONST_ELEMS, R};
use tract_onnx::pb;

/// Number of elements of a shape, saturating at `u64::MAX` (every shape that reaches the graph
/// is checked against [`MAX_ELEMS`](super::MAX_ELEMS) first, so only a shape about to be
/// rejected saturates).
pub(super) fn numel(s: &[u64]) -> u64 {
    s.iter().fold(1u64, |a, &d| a.saturating_mul(d))
}

/// Number of elements of a shape, or `None` when it overflows `u64`.
pub(super) fn checked_numel(s: &[u64]) -> Option<u64> {
    s.iter().try_fold(1u64, |a, &d| a.checked_mul(d))
}

/// The numpy broadcast of two shapes, or `None` when they do not broadcast.
pub(super) fn broadcast(a: &[u64], b: &[u64]) -> Option<Vec<u64>> {
    let n = a.len().max(b.len());
    let mut out = vec![0; n];
    for i in 0..n {
        let x = if i + a.len() >= n {
            a[i + a.len() - n]
        } else {
            1
        };
        let y = if i + b.len() >= n {
            b[i + b.len() - n]
        } else {
            1
        };
        out[i] = match (x, y) {
            (x, y) if x == y => x,
            (1, y) => y,
            (x, 1) => x,
            _ => return None,
        };
    }
    Some(out)
}

/// Row-major strides.
pub(super) fn strides(s: &[u64]) -> Vec<u64> {
    let mut st = vec![1; s.len()];
    for i in (0..s.len().saturating_sub(1)).rev() {
        st[i] = st[i + 1] * s[i + 1];
    }
    st
}

/// Reads element `idx` (multi-index in the output's broadcast shape) of a tensor of shape `s`.
pub(super) fn bcast_get(data: &[f64], s: &[u64], out_idx: &[u64]) -> f64 {
    let st = strides(s);
    let off = out_idx.len() - s.len();
    let mut flat = 0;
    for (i, &d) in s.iter().enumerate() {
        let x = if d == 1 { 0 } else { out_idx[off + i] };
        flat += x * st[i];
    }
    data[flat as usize]
}

/// Multi-index of row-major position `flat` in shape `s`.
pub(super) fn unravel(mut flat: u64, s: &[u64]) -> Vec<u64> {
    let mut idx = vec![0; s.len()];
    for i in (0..s.len()).rev() {
        idx[i] = flat % s[i].max(1);
        flat /= s[i].max(1);
    }
    idx
}

/// An ONNX axis (negative counts from the end) as an index below `rank`.
pub(super) fn axis(a: i64, rank: usize) -> Option<usize> {
    let r = rank as i64;
    let x = if a < 0 { a + r } else { a };
    (0..r).contains(&x).then_some(x as usize)
}

/// A unary op over known values (`to_int`: a `Cast` to an integer type); `None` for ops that are
/// not folded.
pub(super) fn unary(op: &str, to_int: bool, data: &[f64]) -> Option<Vec<f64>> {
    let f = |v: f64| -> Option<f64> {
        Some(match op {
            "Cast" if to_int => v.trunc(),
            "Cast" | "Identity" => v,
            "Neg" => -v,
            "Abs" => v.abs(),
            "Sqrt" => v.sqrt(),
            "Reciprocal" => 1.0 / v,
            "Exp" => v.exp(),
            "Log" => v.ln(),
            "Relu" => v.max(0.0),
            "Not" => (v == 0.0) as u8 as f64,
            _ => return None,
        })
    };
    data.iter().map(|&v| f(v)).collect()
}

/// A broadcasting binary op (or `Where`, with three inputs) over known values, each given with
/// its shape, into `shape`; `int` selects integer division.
pub(super) fn binary(op: &str, int: bool, ins: &[(&[f64], &[u64])], shape: &[u64]) -> Vec<f64> {
    let mut out = Vec::with_capacity(numel(shape) as usize);
    for flat in 0..numel(shape) {
        let idx = unravel(flat, shape);
        let x: Vec<f64> = ins.iter().map(|(d, s)| bcast_get(d, s, &idx)).collect();
        out.push(match op {
            "Add" => x[0] + x[1],
            "Sub" => x[0] - x[1],
            "Mul" => x[0] * x[1],
            "Div" if int => (x[0] / x[1]).trunc(),
            "Div" => x[0] / x[1],
            "Pow" => x[0].powf(x[1]),
            "Max" => x[0].max(x[1]),
            "Min" => x[0].min(x[1]),
            "Equal" => (x[0] == x[1]) as u8 as f64,
            "Less" => (x[0] < x[1]) as u8 as f64,
            "Greater" => (x[0] > x[1]) as u8 as f64,
            _ => {
                if x[0] != 0.0 {
                    x[1]
                } else {
                    x[2]
                }
            }
        });
    }
    out
}

/// A strided slice of `data` (shape `s`) into `out`, starting at `first` with `step` per axis.
pub(super) fn slice(data: &[f64], s: &[u64], out: &[u64], first: &[i64], step: &[i64]) -> Vec<f64> {
    let st = strides(s);
    let mut d = Vec::with_capacity(numel(out) as usize);
    for flat in 0..numel(out) {
        let idx = unravel(flat, out);
        let src: i64 = idx
            .iter()
            .enumerate()
            .map(|(k, &i)| (first[k] + i as i64 * step[k]) * st[k] as i64)
            .sum();
        d.push(data[src as usize]);
    }
    d
}

/// `Gather` along `ax` of `data` (shape `ds`) with indices `ix` (shape `is`) into `out`; `Err`
/// gives an index out of range.
pub(super) fn gather(
    data: &[f64],
    ds: &[u64],
    ix: &[f64],
    is: &[u64],
    ax: usize,
    out: &[u64],
) -> Result<Vec<f64>, i64> {
    let st = strides(ds);
    let dim = ds[ax] as i64;
    let mut v = Vec::with_capacity(numel(out) as usize);
    let ist = strides(is);
    for flat in 0..numel(out) {
        let o = unravel(flat, out);
        let iflat: u64 = o[ax..ax + is.len()]
            .iter()
            .zip(&ist)
            .map(|(&x, &s)| x * s)
            .sum();
        let mut j = ix[iflat as usize] as i64;
        if j < 0 {
            j += dim;
        }
        if !(0..dim).contains(&j) {
            return Err(j);
        }
        let mut src = 0u64;
        for (k, &stk) in st.iter().enumerate() {
            let x = if k < ax {
                o[k]
            } else if k == ax {
                j as u64
            } else {
                o[k - 1 + is.len()]
            };
            src += x * stk;
        }
        v.push(data[src as usize]);
    }
    Ok(v)
}

/// `data` (shape `s`) permuted by `perm` into `out`.
pub(super) fn transpose(data: &[f64], s: &[u64], perm: &[usize], out: &[u64]) -> Vec<f64> {
    let st = strides(s);
    let mut d = Vec::with_capacity(data.len());
    for flat in 0..numel(out) {
        let idx = unravel(flat, out);
        let src: u64 = idx.iter().zip(perm).map(|(&i, &p)| i * st[p]).sum();
        d.push(data[src as usize]);
    }
    d
}

/// Known tensors, each with its shape, joined along `ax` into `out`.
pub(super) fn concat(ins: &[(&[f64], &[u64])], ax: usize, out: &[u64]) -> Vec<f64> {
    let outer = numel(&out[..ax]);
    let mut data = Vec::with_capacity(numel(out) as usize);
    for o in 0..outer {
        for (d, s) in ins {
            let chunk = numel(&s[ax..]) as usize;
            data.extend_from_slice(&d[o as usize * chunk..(o as usize + 1) * chunk]);
        }
    }
    data
}

/// `data` (shape `s`) broadcast to `out`.
pub(super) fn expand(data: &[f64], s: &[u64], out: &[u64]) -> Vec<f64> {
    (0..numel(out))
        .map(|f| bcast_get(data, s, &unravel(f, out)))
        .collect()
}

impl Importer<'_> {
    /// Values of a constant input (shape tensors, scales, pads).
    pub(super) fn const_of(&self, v: &Val) -> Option<Vec<f64>> {
        match v {
            Val::Const { data, .. } => Some(data.clone()),
            Val::Weight { w, .. } => self.weights[*w].data.clone(),
            Val::Act { .. } => None,
        }
    }

    /// Values of input `i`, which must be known at import (`what` names it in the error).
    pub(super) fn const_input(&self, node: &pb::NodeProto, i: usize, what: &str) -> R<Vec<f64>> {
        let v = self.val(node, i)?;
        match self.const_of(&v) {
            Some(d) => Ok(d),
            None => self.err(format!(
                "input #{i} ({what}) must be a constant known at import; it is computed at run time"
            )),
        }
    }

    /// Like [`Self::const_input`], as integers.
    pub(super) fn const_ints(&self, node: &pb::NodeProto, i: usize, what: &str) -> R<Vec<i64>> {
        Ok(self
            .const_input(node, i, what)?
            .into_iter()
            .map(|x| x as i64)
            .collect())
    }

    /// Binds the node's first output to a known constant.
    pub(super) fn set_const(
        &mut self,
        node: &pb::NodeProto,
        shape: Vec<u64>,
        data: Vec<f64>,
        int: bool,
    ) -> R<()> {
        if numel(&shape) > MAX_CONST_ELEMS || data.len() as u64 != numel(&shape) {
            return self.err("constant too large or inconsistent to evaluate at import");
        }
        let out = self.out_name(node, 0)?.to_string();
        self.set(&out, Val::Const { shape, data, int });
        Ok(())
    }
}
