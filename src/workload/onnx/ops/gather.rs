//! `Gather`: folded over constants, a window copy for fixed indices, and an embedding lookup
//! for row gathers from a 2-D weight table with run-time indices.

use super::super::R;
use super::super::attrs::Attrs;
use super::super::fold::{self, axis, numel};
use super::super::importer::{Importer, Use, Val};
use crate::workload::graph::OpKind;
use tract_onnx::pb;

/// `Gather` along `axis`.
pub(super) fn gather(im: &mut Importer<'_>, node: &pb::NodeProto, a: &Attrs) -> R<()> {
    let data = im.val(node, 0)?;
    let idx = im.val(node, 1)?;
    let ds = data.shape().to_vec();
    let is = idx.shape().to_vec();
    let Some(ax) = axis(a.int("axis")?.unwrap_or(0), ds.len()) else {
        return im.err("axis out of range");
    };
    let mut out = ds[..ax].to_vec();
    out.extend_from_slice(&is);
    out.extend_from_slice(&ds[ax + 1..]);
    let idx_const = im.const_of(&idx);
    if let (Val::Const { data: d, int, .. }, Some(ix)) = (&data, &idx_const) {
        let v = match fold::gather(d, &ds, ix, &is, ax, &out) {
            Ok(v) => v,
            Err(j) => return im.err(format!("index {j} out of range")),
        };
        let int = *int;
        return im.set_const(node, out, v, int);
    }
    if idx_const.is_some() {
        // Fixed indices: a window copy (e.g. the class token `x[:, 0]`, position embeddings
        // for a fixed length).
        return im.copy_window(node, &data, out, 0);
    }
    if let Val::Weight { .. } = data {
        if ax != 0 || ds.len() != 2 {
            return im.err("only row gathers from 2-D tables are supported");
        }
        let ii = im.required(&idx, Use::Plain)?;
        let table = im.required(&data, Use::Table)?;
        return im.op(
            node,
            OpKind::Embedding {
                tokens: numel(&is),
                dim: ds[1],
            },
            vec![ii, table],
            out,
            false,
        );
    }
    im.err("gathering from a run-time tensor with run-time indices is not supported")
}
