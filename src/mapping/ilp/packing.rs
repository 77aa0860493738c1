//! Giving a residency plan fixed in time integral, non-overlapping addresses:
//! snapping LP addresses, greedy first-fit orders, and the small packing ILP
//! over the fixed intervals.

use crate::util::lp::highs_model;
use good_lp::Expression;

use super::super::MappingError;
use super::model::{Builder, V};
use super::{SegOrigin, Segment};

/// Integral addresses from the LP addresses: process segments by LP address
/// and put each right above the highest co-resident segment below it (a
/// longest path in the "below" relation); pinned (entry) segments keep theirs.
pub(super) fn snap_addresses(
    segs: &mut [Segment],
    lp: &[f64],
    units: &dyn Fn(usize) -> u64,
    m: u64,
) -> Result<(), MappingError> {
    const TOL: f64 = 1e-4;
    let mut idx: Vec<usize> = (0..segs.len()).collect();
    idx.sort_by(|&x, &y| lp[x].total_cmp(&lp[y]));
    let mut done: Vec<usize> = Vec::new();
    let mut addr = vec![0u64; segs.len()];
    for &s in &idx {
        let seg = segs[s];
        let mut need = 0u64;
        for &b in &done {
            let sb = segs[b];
            if sb.first <= seg.last && seg.first <= sb.last {
                let ub = units(sb.tensor);
                if lp[b] + ub as f64 > lp[s] + TOL {
                    return Err(MappingError::Internal(format!(
                        "address snap: LP addresses of tensors {} and {} overlap",
                        sb.tensor, seg.tensor
                    )));
                }
                need = need.max(addr[b] + ub);
            }
        }
        addr[s] = if seg.origin == SegOrigin::Entry {
            if seg.offset < need {
                return Err(MappingError::Internal(
                    "address snap: pinned entry overlaps".into(),
                ));
            }
            seg.offset
        } else {
            need
        };
        if addr[s] + units(seg.tensor) > m {
            return Err(MappingError::Internal(
                "address snap exceeds capacity".into(),
            ));
        }
        done.push(s);
    }
    for (s, a) in segs.iter_mut().zip(addr) {
        s.offset = a;
    }
    Ok(())
}

/// Lowest offset at which a segment of `size` units fits among `busy`
/// (sorted `(lo, hi)` ranges), if below `m`.
fn lowest_fit(busy: &mut [(u64, u64)], size: u64, m: u64) -> Option<u64> {
    busy.sort_unstable();
    let mut cursor = 0u64;
    for &(lo, hi) in busy.iter() {
        if lo >= cursor + size {
            break;
        }
        cursor = cursor.max(hi);
    }
    (cursor + size <= m).then_some(cursor)
}

/// Tries to give the segments (fixed in time) non-overlapping offsets:
/// entry segments keep theirs; the others are placed at the lowest free
/// offset in one of several greedy orders. Writes the offsets on success.
pub(super) fn greedy_pack(segs: &mut [Segment], units: &dyn Fn(usize) -> u64, m: u64) -> bool {
    let free: Vec<usize> = (0..segs.len())
        .filter(|&i| segs[i].origin != SegOrigin::Entry)
        .collect();
    let mut orders: Vec<Vec<usize>> = Vec::new();
    let mut by_size = free.clone();
    by_size.sort_by_key(|&i| (std::cmp::Reverse(units(segs[i].tensor)), segs[i].first));
    orders.push(by_size);
    let mut by_start = free.clone();
    by_start.sort_by_key(|&i| (segs[i].first, std::cmp::Reverse(units(segs[i].tensor))));
    orders.push(by_start);
    let mut by_len = free.clone();
    by_len.sort_by_key(|&i| {
        (
            std::cmp::Reverse(segs[i].last - segs[i].first),
            std::cmp::Reverse(units(segs[i].tensor)),
        )
    });
    orders.push(by_len);
    'order: for ord in orders {
        let mut placed: Vec<usize> = (0..segs.len())
            .filter(|&i| segs[i].origin == SegOrigin::Entry)
            .collect();
        let mut off: Vec<u64> = segs.iter().map(|s| s.offset).collect();
        for &i in &ord {
            let s = segs[i];
            let mut busy: Vec<(u64, u64)> = placed
                .iter()
                .filter(|&&j| segs[j].first <= s.last && s.first <= segs[j].last)
                .map(|&j| (off[j], off[j] + units(segs[j].tensor)))
                .collect();
            match lowest_fit(&mut busy, units(s.tensor), m) {
                Some(o) => off[i] = o,
                None => continue 'order,
            }
            placed.push(i);
        }
        for (s, o) in segs.iter_mut().zip(off) {
            s.offset = o;
        }
        return true;
    }
    false
}

/// Exact packing of segments fixed in time: continuous offsets, one ordering
/// binary per pair of time-overlapping segments. `Ok(false)` if HiGHS proves
/// that no packing exists or finds none in time.
pub(super) fn packing_ilp(
    segs: &mut [Segment],
    units: &dyn Fn(usize) -> u64,
    m: u64,
    time_limit_s: f64,
) -> Result<bool, MappingError> {
    let mut b = Builder::new();
    let mf = m as f64;
    let ls: Vec<V> = segs
        .iter()
        .map(|s| {
            if s.origin == SegOrigin::Entry {
                b.cont(s.offset as f64, s.offset as f64)
            } else {
                b.cont(0.0, (m - units(s.tensor)) as f64)
            }
        })
        .collect();
    for i in 0..segs.len() {
        for j in (i + 1)..segs.len() {
            let (si, sj) = (segs[i], segs[j]);
            if si.first > sj.last || sj.first > si.last {
                continue;
            }
            let z = b.bin();
            // z = 1: i above j.
            let mut e = Expression::default();
            e.add_mul(-1.0, ls[i].v);
            e.add_mul(1.0, ls[j].v);
            e.add_mul(mf, z.v);
            e += units(sj.tensor) as f64 - mf;
            b.le0(e);
            let mut e = Expression::default();
            e.add_mul(-1.0, ls[j].v);
            e.add_mul(1.0, ls[i].v);
            e.add_mul(-mf, z.v);
            e += units(si.tensor) as f64;
            b.le0(e);
        }
    }
    let options = [("time_limit", time_limit_s.max(0.0))];
    let model = highs_model(
        b.vars,
        Expression::default(),
        b.rows,
        &options,
        MappingError::Solver,
    )?;
    let solved = model
        .try_solve()
        .map_err(|e| MappingError::Solver(format!("{e:?}")))?;
    if solved.primal_solution_status() != highs::HighsSolutionStatus::Feasible {
        return Ok(false);
    }
    let sol = solved.get_solution();
    let lp: Vec<f64> = ls.iter().map(|v| sol.columns()[v.c]).collect();
    snap_addresses(segs, &lp, units, m)?;
    Ok(true)
}
