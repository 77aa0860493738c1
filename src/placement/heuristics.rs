//! Baselines: everything on one unit, HEFT (Topcuoglu, Hariri and Wu, IEEE TPDS 2002: upward
//! rank by mean costs, then each op to the unit where it finishes earliest, inserted into the
//! first idle gap that fits), and a greedy minimum-energy placement. They schedule the whole
//! graph in one window (no segment barriers) and also warm-start the ILP.

use super::PlaceError;
use super::problem::Instance;
use super::schedule::{Schedule, Window, retime};

/// All ops on unit `u`, in graph order; `None` when some op cannot run there.
pub fn single_unit(inst: &Instance, u: usize) -> Option<Schedule> {
    if inst.ops.iter().any(|o| !o.feasible().contains(&u)) {
        return None;
    }
    let n = inst.ops.len();
    let order: Vec<usize> = (0..n).collect();
    retime(inst, &vec![u; n], &order, &vec![0; n]).ok()
}

/// Each op on the unit where its dynamic energy is least (ties: faster), scheduled in graph
/// order; `None` when two consecutive choices share no memory level.
pub fn min_energy(inst: &Instance) -> Option<Schedule> {
    let n = inst.ops.len();
    let unit_of: Vec<usize> = inst
        .ops
        .iter()
        .map(|o| {
            o.feasible()
                .into_iter()
                .min_by(|&a, &b| {
                    let (ca, cb) = (o.costs[a].as_ref().unwrap(), o.costs[b].as_ref().unwrap());
                    ca.energy_j
                        .total_cmp(&cb.energy_j)
                        .then(ca.time_s.total_cmp(&cb.time_s))
                })
                .expect("checked: every op has a unit")
        })
        .collect();
    let order: Vec<usize> = (0..n).collect();
    retime(inst, &unit_of, &order, &vec![0; n]).ok()
}

/// Mean of the finite values, 0 when none.
fn mean(v: impl Iterator<Item = f64>) -> f64 {
    let (s, n) = v.fold((0.0, 0usize), |(s, n), x| (s + x, n + 1));
    if n == 0 { 0.0 } else { s / n as f64 }
}

/// Earliest start ≥ `ready` of an interval of length `d` among the busy intervals (sorted by
/// start) of a unit: the first idle gap that fits, else after the last interval.
fn insertion_start(busy: &[(f64, f64)], ready: f64, d: f64) -> f64 {
    let mut t = ready;
    for &(s, f) in busy {
        if t + d <= s {
            return t;
        }
        t = t.max(f);
    }
    t
}

/// HEFT over the whole graph in one window.
pub fn heft(inst: &Instance) -> Result<Schedule, PlaceError> {
    let n = inst.ops.len();
    let preds = inst.preds();
    let succs = inst.succs();
    let feas: Vec<Vec<usize>> = inst.ops.iter().map(|o| o.feasible()).collect();
    let w: Vec<f64> = (0..n)
        .map(|i| {
            mean(
                feas[i]
                    .iter()
                    .map(|&u| inst.ops[i].costs[u].as_ref().unwrap().time_s),
            )
        })
        .collect();
    let c: Vec<f64> = inst
        .edges
        .iter()
        .map(|e| {
            let mut v = Vec::new();
            for &a in &feas[e.from] {
                for &b in &feas[e.to] {
                    if a != b {
                        if let Some((t, _)) = inst.transfer(e, a, b) {
                            v.push(t);
                        }
                    }
                }
            }
            mean(v.into_iter())
        })
        .collect();
    // Upward rank, computed in reverse topological (index) order.
    let mut rank = vec![0.0f64; n];
    for i in (0..n).rev() {
        let tail = succs[i]
            .iter()
            .map(|&k| c[k] + rank[inst.edges[k].to])
            .fold(0.0, f64::max);
        rank[i] = w[i] + tail;
    }
    let mut unit_of = vec![usize::MAX; n];
    let mut start = vec![0.0f64; n];
    let mut finish = vec![0.0f64; n];
    let mut busy: Vec<Vec<(f64, f64)>> = vec![Vec::new(); inst.units.len()];
    let mut missing: Vec<usize> = preds.iter().map(Vec::len).collect();
    let mut ready: Vec<usize> = (0..n).filter(|&i| missing[i] == 0).collect();
    let mut floor_bytes = vec![0.0; inst.floors.len()];
    while !ready.is_empty() {
        // Highest upward rank first; ties to the earlier op.
        let (pos, &i) = ready
            .iter()
            .enumerate()
            .max_by(|a, b| rank[*a.1].total_cmp(&rank[*b.1]).then(b.1.cmp(a.1)))
            .unwrap();
        ready.swap_remove(pos);
        let mut best: Option<(f64, f64, f64, usize)> = None; // (finish, energy, start, unit)
        'units: for &u in &feas[i] {
            let cost = inst.ops[i].costs[u].as_ref().unwrap();
            let mut r = 0.0f64;
            for &k in &preds[i] {
                let e = &inst.edges[k];
                match inst.transfer(e, unit_of[e.from], u) {
                    Some((t, _)) => r = r.max(finish[e.from] + t),
                    None => continue 'units,
                }
            }
            let s = insertion_start(&busy[u], r, cost.time_s);
            let f = s + cost.time_s;
            let better = match best {
                None => true,
                Some((bf, be, _, _)) => f < bf || (f == bf && cost.energy_j < be),
            };
            if better {
                best = Some((f, cost.energy_j, s, u));
            }
        }
        let (f, _, s, u) = best.ok_or_else(|| PlaceError::Heuristic {
            method: "heft".into(),
            why: format!(
                "no unit can run `{}` and receive its inputs from where its producers ran",
                inst.ops[i].name
            ),
        })?;
        unit_of[i] = u;
        start[i] = s;
        finish[i] = f;
        let b = &mut busy[u];
        let at = b.partition_point(|&(bs, _)| bs <= s);
        b.insert(at, (s, f));
        for (acc, x) in floor_bytes
            .iter_mut()
            .zip(&inst.ops[i].costs[u].as_ref().unwrap().floor_bytes)
        {
            *acc += x;
        }
        for &k in &succs[i] {
            let t = inst.edges[k].to;
            missing[t] -= 1;
            if missing[t] == 0 {
                ready.push(t);
            }
        }
    }
    let last = finish.iter().copied().fold(0.0, f64::max);
    Ok(Schedule {
        unit_of,
        start_s: start,
        window_of: vec![0; n],
        windows: vec![Window {
            start_s: 0.0,
            end_s: last.max(inst.floor_time(&floor_bytes)),
        }],
        hold_s: 0.0,
    })
}

#[cfg(test)]
mod tests {
    use super::insertion_start;

    #[test]
    fn insertion_takes_the_first_gap_that_fits() {
        let busy = [(0.0, 1.0), (3.0, 4.0), (4.5, 6.0)];
        // A 2 s op ready at 0 fits in the gap 1..3.
        assert_eq!(insertion_start(&busy, 0.0, 2.0), 1.0);
        // A 2.5 s op does not; the gap 4..4.5 is too short as well: after the last interval.
        assert_eq!(insertion_start(&busy, 0.0, 2.5), 6.0);
        // Ready inside a gap: starts when ready if it still fits.
        assert_eq!(insertion_start(&busy, 1.5, 1.5), 1.5);
        assert_eq!(insertion_start(&busy, 0.0, 0.5), 1.0);
        assert_eq!(insertion_start(&[], 2.0, 1.0), 2.0);
    }
}
