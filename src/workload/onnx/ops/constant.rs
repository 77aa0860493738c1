//! Constants: `Constant`, `ConstantOfShape` and `Range`, evaluated at import (large float
//! constants become weights).

use super::super::attrs::Attrs;
use super::super::fold::numel;
use super::super::importer::{Importer, Init, Val};
use super::super::load::{is_float_type, shape_of_dims, tensor_values};
use super::super::{KEEP_DATA_LIMIT, MAX_CONST_ELEMS, R};
use tract_onnx::pb;

/// `Constant`, from any of its value attributes.
pub(super) fn constant(im: &mut Importer<'_>, node: &pb::NodeProto, a: &Attrs) -> R<()> {
    let out = im.out_name(node, 0)?.to_string();
    if let Some(t) = a.tensor("value")? {
        let Some(shape) = shape_of_dims(&t.dims) else {
            return im.err("negative dimension");
        };
        im.check_shape(&out, &shape)?;
        let float = is_float_type(t.data_type);
        let data = tensor_values(t);
        if float && numel(&shape) > 1 {
            im.weights.push(Init {
                name: out.clone(),
                shape: shape.clone(),
                data: data.filter(|_| numel(&shape) <= KEEP_DATA_LIMIT),
                id: None,
            });
            let w = im.weights.len() - 1;
            im.set(&out, Val::Weight { w, shape });
            return Ok(());
        }
        let Some(data) = data else {
            return im.err("constant of an unsupported element type");
        };
        return im.set_const(node, shape, data, !float);
    }
    if let Some(f) = a.float("value_float")? {
        return im.set_const(node, vec![], vec![f as f64], false);
    }
    if let Some(i) = a.int("value_int")? {
        return im.set_const(node, vec![], vec![i as f64], true);
    }
    if let Some(v) = a.ints("value_ints")? {
        let d: Vec<f64> = v.iter().map(|&x| x as f64).collect();
        return im.set_const(node, vec![d.len() as u64], d, true);
    }
    if let Some(v) = a.floats("value_floats")? {
        let d: Vec<f64> = v.iter().map(|&x| x as f64).collect();
        return im.set_const(node, vec![d.len() as u64], d, false);
    }
    im.err("constant without a supported value attribute")
}

/// `ConstantOfShape`: a constant filled with `value` (0 by default).
pub(super) fn constant_of_shape(im: &mut Importer<'_>, node: &pb::NodeProto, a: &Attrs) -> R<()> {
    let s = im.const_ints(node, 0, "shape")?;
    let shape: Vec<u64> = s.iter().map(|&d| d.max(0) as u64).collect();
    let (value, int) = match a.tensor("value")? {
        Some(t) => (
            tensor_values(t)
                .and_then(|v| v.first().copied())
                .unwrap_or(0.0),
            !is_float_type(t.data_type),
        ),
        None => (0.0, false),
    };
    let n = numel(&shape);
    if n > MAX_CONST_ELEMS {
        return im.err("constant too large to evaluate at import");
    }
    im.set_const(node, shape, vec![value; n as usize], int)
}

/// `Range`: `start, start + delta, …` below `limit`, as a constant.
pub(super) fn range(im: &mut Importer<'_>, node: &pb::NodeProto, _: &Attrs) -> R<()> {
    let s = im.const_input(node, 0, "start")?;
    let l = im.const_input(node, 1, "limit")?;
    let d = im.const_input(node, 2, "delta")?;
    let int = matches!(im.val(node, 0)?, Val::Const { int: true, .. });
    let (s, l, d) = (s[0], l[0], d[0]);
    if d == 0.0 {
        return im.err("delta is zero");
    }
    let n = ((l - s) / d).ceil().max(0.0) as u64;
    if n > MAX_CONST_ELEMS {
        return im.err("range too long");
    }
    let data = (0..n).map(|i| s + i as f64 * d).collect();
    im.set_const(node, vec![n], data, int)
}
