//! Traffic and its attribution, shared by every cost model: which memory levels a unit reaches
//! and in what order, and the bytes an op moves through each level given where its tensors live.
//! A tensor whose home is level `L` crosses `L` and every level inside it on the way to the unit,
//! so its bytes count at each of them.

use super::{Infeasible, TensorHomes};
use crate::hardware::{Hardware, MAX_LEVELS};
use crate::workload::{Graph, OpId};

/// Position of each memory level in unit `unit`'s reach list (innermost = 0), `None` for levels
/// the unit does not reach.
pub fn reach_positions(hw: &Hardware, unit: usize) -> [Option<u8>; MAX_LEVELS] {
    let mut pos = [None; MAX_LEVELS];
    for (p, &l) in hw.units[unit].reach.iter().enumerate() {
        pos[l] = Some(p as u8);
    }
    pos
}

/// Adds `bytes` of a tensor whose home is level `home` to the traffic of every level it crosses
/// on its way to unit `unit`: the home level and every level inside it on the unit's reach list.
/// Returns the home level as the error when the unit does not reach it.
pub fn attribute(
    hw: &Hardware,
    unit: usize,
    pos: &[Option<u8>; MAX_LEVELS],
    home: usize,
    bytes: f64,
    traffic: &mut [f64; MAX_LEVELS],
) -> Result<(), usize> {
    match pos[home] {
        Some(p) => {
            for &lvl in &hw.units[unit].reach[..=p as usize] {
                traffic[lvl] += bytes;
            }
            Ok(())
        }
        None => Err(home),
    }
}

/// The compulsory traffic of `op` through each memory level unit `unit` reaches, given where
/// tensors live: every access ([`crate::workload::Op::for_each_access`]) counts at the tensor's
/// home level and at every level inside it. Shared by the roofline and the cycle models.
pub fn traffic(
    hw: &Hardware,
    unit: usize,
    graph: &Graph,
    residency: &TensorHomes,
    op_id: OpId,
) -> Result<[f64; MAX_LEVELS], Infeasible> {
    traffic_at(
        hw,
        unit,
        &reach_positions(hw, unit),
        graph,
        residency,
        op_id,
    )
}

pub(crate) fn traffic_at(
    hw: &Hardware,
    unit: usize,
    pos: &[Option<u8>; MAX_LEVELS],
    graph: &Graph,
    residency: &TensorHomes,
    op_id: OpId,
) -> Result<[f64; MAX_LEVELS], Infeasible> {
    let op = graph.op(op_id);
    let mut bytes = [0.0; MAX_LEVELS];
    let mut unreachable = None;
    op.for_each_access(graph, |a| {
        let home = residency.home[a.tensor.0 as usize];
        if let Err(h) = attribute(hw, unit, pos, home, a.bytes, &mut bytes) {
            unreachable = Some(h);
        }
    });
    match unreachable {
        None => Ok(bytes),
        Some(h) => Err(Infeasible {
            reason: format!(
                "op `{}` touches a tensor in `{}`, which unit `{}` does not reach",
                op.name, hw.memories[h].name, hw.units[unit].name
            ),
        }),
    }
}
