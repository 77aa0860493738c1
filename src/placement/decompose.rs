//! Segment decomposition: the graph's repeated blocks (transformer layers, plus the ops before
//! and after them) run one after another, each block is solved as its own small MIP for every
//! placement of the ops at its boundaries, identical blocks share their solutions, and a dynamic
//! program over the chain of blocks picks the best combination. Exact under the barrier model
//! (see the module docs of [`super`]); budgets on the whole schedule go through a Lagrangian
//! search over the block objectives.

use super::heuristics::{heft, min_energy, single_unit};
use super::ilp::{IlpRequest, solve};
use super::problem::{Edge, Instance, OpCost, PlaceOp};
use super::schedule::{Objective, Schedule, SolveStats, Status, retime, totals};
use super::{Limits, PlaceError};
use std::collections::HashMap;
use std::time::Instant;

/// Groups of consecutive segments such that every edge between groups joins neighbours.
pub(crate) fn groups(inst: &Instance) -> Vec<usize> {
    let ns = inst.segments.max(1);
    // cut[s]: the boundary between segment s-1 and s is kept.
    let mut cut = vec![true; ns];
    cut[0] = false;
    for e in &inst.edges {
        let (a, c) = (inst.ops[e.from].segment, inst.ops[e.to].segment);
        for b in (a + 2)..=c {
            cut[b] = false;
        }
    }
    let mut g_of_seg = vec![0usize; ns];
    let mut g = 0;
    for s in 0..ns {
        if cut[s] {
            g += 1;
        }
        g_of_seg[s] = g;
    }
    inst.ops.iter().map(|o| g_of_seg[o.segment]).collect()
}

/// One block solve.
#[derive(Clone)]
struct Sub {
    /// Objective value under the weights (∞ when infeasible).
    value: f64,
    /// Lower bound.
    bound: f64,
    schedule: Option<Schedule>,
    status: Status,
}

/// The result of one decomposed solve.
pub(crate) struct DpResult {
    pub schedule: Schedule,
    pub status: Status,
    /// Lower bound on `weights · (makespan, energy)`, when valid.
    pub bound: Option<f64>,
    pub stats: SolveStats,
    pub notes: Vec<String>,
}

/// Cartesian product of unit choices.
fn product(choices: &[Vec<usize>]) -> Vec<Vec<usize>> {
    let mut out = vec![Vec::new()];
    for c in choices {
        let mut next = Vec::with_capacity(out.len() * c.len());
        for p in &out {
            for &u in c {
                let mut q = p.clone();
                q.push(u);
                next.push(q);
            }
        }
        out = next;
    }
    out
}

fn key_of(sub: &Instance) -> Vec<u64> {
    let mut k = vec![sub.ops.len() as u64];
    for o in &sub.ops {
        k.push(o.pin.map_or(u64::MAX, |p| p as u64));
        for c in &o.costs {
            match c {
                None => k.push(u64::MAX - 1),
                Some(c) => {
                    k.push(c.time_s.to_bits());
                    k.push(c.energy_j.to_bits());
                    k.extend(c.floor_bytes.iter().map(|b| b.to_bits()));
                }
            }
        }
    }
    for e in &sub.edges {
        k.extend([e.from as u64, e.to as u64, e.bytes.to_bits()]);
    }
    k
}

/// The block instance of group `ops` with its entry producers pinned to `s_in` (as zero-cost
/// boundary ops starting the window) and its exit ops pinned to `s_out`.
fn block(
    inst: &Instance,
    ops: &[usize],
    entry: &[usize],
    s_in: &[usize],
    exit: &[usize],
    s_out: &[usize],
) -> Instance {
    let nu = inst.units.len();
    let nb = entry.len();
    let mut local: HashMap<usize, usize> = HashMap::new();
    let mut sub_ops = Vec::with_capacity(nb + ops.len());
    for (k, &b) in entry.iter().enumerate() {
        let mut costs = vec![None; nu];
        costs[s_in[k]] = Some(OpCost {
            time_s: 0.0,
            energy_j: 0.0,
            floor_bytes: vec![0.0; inst.floors.len()],
        });
        sub_ops.push(PlaceOp {
            name: format!("(from) {}", inst.ops[b].name),
            kind: "boundary".into(),
            dtype: inst.ops[b].dtype.clone(),
            costs,
            why_not: vec![String::new(); nu],
            segment: 0,
            pin: Some(s_in[k]),
        });
        local.insert(b, k);
    }
    for &i in ops {
        let mut o = inst.ops[i].clone();
        o.segment = 0;
        if let Some(m) = exit.iter().position(|&x| x == i) {
            o.pin = Some(s_out[m]);
        }
        local.insert(i, sub_ops.len());
        sub_ops.push(o);
    }
    let set: std::collections::HashSet<usize> = ops.iter().copied().collect();
    let edges = inst
        .edges
        .iter()
        .filter(|e| set.contains(&e.to) && local.contains_key(&e.from))
        .map(|e| Edge {
            from: local[&e.from],
            to: local[&e.to],
            bytes: e.bytes,
        })
        .collect();
    Instance {
        name: inst.name.clone(),
        device: inst.device.clone(),
        units: inst.units.clone(),
        ops: sub_ops,
        edges,
        links: inst.links.clone(),
        floors: inst.floors.clone(),
        static_w: inst.static_w,
        segments: 1,
    }
}

/// The best heuristic one-window schedule of `inst` under `weights`, to warm-start its MIP.
pub(crate) fn best_heuristic(inst: &Instance, weights: (f64, f64)) -> Option<Schedule> {
    let obj = Objective::Weighted { j_per_s: 0.0 };
    let value = |s: &Schedule| {
        let t = totals(inst, s, &obj);
        weights.0 * t.makespan_s + weights.1 * t.energy_j
    };
    let mut cands: Vec<Schedule> = Vec::new();
    if let Ok(s) = heft(inst) {
        cands.push(s);
    }
    if let Some(s) = min_energy(inst) {
        cands.push(s);
    }
    for u in 0..inst.units.len() {
        if let Some(s) = single_unit(inst, u) {
            cands.push(s);
        }
    }
    cands
        .into_iter()
        .min_by(|a, b| value(a).total_cmp(&value(b)))
}

/// Solves `inst` by segments under `weights` (per second, per joule).
pub(crate) fn solve_segments(
    inst: &Instance,
    weights: (f64, f64),
    limits: &Limits,
    deadline: Instant,
) -> Result<DpResult, PlaceError> {
    let inst = inst.clone();
    let group = groups(&inst);
    let ng = group.iter().copied().max().map_or(0, |g| g + 1);
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); ng];
    for (i, &g) in group.iter().enumerate() {
        members[g].push(i);
    }
    // Entry producers of each group, in op order.
    let mut entry: Vec<Vec<usize>> = vec![Vec::new(); ng + 1];
    for e in &inst.edges {
        let (ga, gb) = (group[e.from], group[e.to]);
        if ga != gb && !entry[gb].contains(&e.from) {
            entry[gb].push(e.from);
        }
    }
    for v in &mut entry {
        v.sort_unstable();
    }
    let mut notes = Vec::new();
    // Units each boundary op may take, fastest first; cut to the k fastest when the number of
    // distinct block models would exceed the limit.
    let ranked: Vec<Vec<usize>> = (0..inst.ops.len())
        .map(|i| {
            let o = &inst.ops[i];
            let mut f = o.feasible();
            f.sort_by(|&x, &y| {
                o.costs[x]
                    .as_ref()
                    .unwrap()
                    .time_s
                    .total_cmp(&o.costs[y].as_ref().unwrap().time_s)
            });
            f
        })
        .collect();
    let kmax = entry
        .iter()
        .flatten()
        .map(|&b| ranked[b].len())
        .max()
        .unwrap_or(1);
    let mut k = kmax;
    loop {
        let states: Vec<Vec<Vec<usize>>> = (0..=ng)
            .map(|g| {
                let ch: Vec<Vec<usize>> = entry[g]
                    .iter()
                    .map(|&b| ranked[b].iter().copied().take(k).collect())
                    .collect();
                product(&ch)
            })
            .collect();
        let mut keys: HashMap<Vec<u64>, ()> = HashMap::new();
        for g in 0..ng {
            for si in &states[g] {
                for so in &states[g + 1] {
                    let b = block(&inst, &members[g], &entry[g], si, &entry[g + 1], so);
                    keys.insert(key_of(&b), ());
                }
            }
        }
        if keys.len() > limits.max_models && k > 1 {
            k -= 1;
            continue;
        }
        let restricted = k < kmax;
        if restricted {
            notes.push(format!(
                "the boundary ops were limited to their {k} fastest unit(s) to keep to {} block models (limit {}), so the result is optimal only for that restriction",
                keys.len(),
                limits.max_models
            ));
        }
        return run_dp(
            &inst, weights, limits, deadline, &members, &entry, &states, restricted, notes,
        );
    }
}

#[allow(clippy::too_many_arguments)]
fn run_dp(
    inst: &Instance,
    weights: (f64, f64),
    limits: &Limits,
    deadline: Instant,
    members: &[Vec<usize>],
    entry: &[Vec<usize>],
    states: &[Vec<Vec<usize>>],
    restricted: bool,
    mut notes: Vec<String>,
) -> Result<DpResult, PlaceError> {
    let ng = members.len();
    let mut stats = SolveStats {
        decomposition: format!("segments: {ng} blocks run one after another"),
        ..Default::default()
    };
    let blocks = BlockModels::of(inst, members, entry, states);
    // Pass 1: every model with a fair share of the time left. Pass 2: the models that hit their
    // limit again, warm-started from their incumbent, sharing what is left.
    let subs = solve_blocks(&blocks.models, weights, limits, deadline, &mut stats)?;
    stats.timed_out_models = subs.iter().filter(|s| s.status == Status::TimedOut).count();
    let f: Vec<Vec<Vec<Sub>>> = blocks
        .fi
        .iter()
        .map(|fg| {
            fg.iter()
                .map(|row| row.iter().map(|&k| subs[k].clone()).collect())
                .collect()
        })
        .collect();
    stats.distinct_blocks = blocks.distinct;

    // Dynamic program over the chain (values and, separately, bounds).
    let (best, arg) = chain_dp(states, &f, &|s: &Sub| s.value);
    let value = best[ng][0];
    if !value.is_finite() {
        return Err(PlaceError::Internal(
            "no combination of block placements is feasible".into(),
        ));
    }
    let (lbest, _) = chain_dp(states, &f, &|s: &Sub| s.bound);
    // Path back.
    let mut chosen = vec![(0usize, 0usize); ng];
    let mut so = 0usize;
    for g in (0..ng).rev() {
        let si = arg[g + 1][so];
        chosen[g] = (si, so);
        so = si;
    }
    let (unit_of, window_of, priority, mut status) = assemble(inst, members, entry, &f, &chosen);
    // The blocks' own schedules already follow the priority order per unit; re-timing the whole
    // graph reproduces their sum.
    let schedule = retime(inst, &unit_of, &priority, &window_of)?;
    let t = totals(inst, &schedule, &Objective::Makespan);
    let assembled = weights.0 * t.makespan_s + weights.1 * t.energy_j;
    if assembled > value * (1.0 + 1e-6) + 1e-15 {
        return Err(PlaceError::Internal(format!(
            "assembled schedule ({assembled}) is worse than the sum of its blocks ({value})"
        )));
    }
    if restricted && status == Status::Optimal {
        status = Status::Feasible;
    }
    let bound = if restricted {
        None
    } else {
        Some(lbest[ng][0].min(assembled))
    };
    notes.push(format!(
        "{} segments in {} groups; {} distinct block models solved (identical layers share one solution set)",
        inst.segments,
        ng,
        stats.models
    ));
    Ok(DpResult {
        schedule,
        status,
        bound,
        stats,
        notes,
    })
}

/// The distinct block models of a chain of groups, with which model prices each group under
/// each pair of boundary states.
struct BlockModels {
    /// Distinct block models.
    models: Vec<Instance>,
    /// `fi[g][si][so]`: the index in `models` of group `g` entered in state `si` and left in
    /// state `so`.
    fi: Vec<Vec<Vec<usize>>>,
    /// The number of distinct blocks without boundary ops.
    distinct: usize,
}

impl BlockModels {
    /// The models of groups `members` with entry producers `entry` and boundary states
    /// `states`.
    fn of(
        inst: &Instance,
        members: &[Vec<usize>],
        entry: &[Vec<usize>],
        states: &[Vec<Vec<usize>>],
    ) -> BlockModels {
        let ng = members.len();
        let mut distinct_blocks: HashMap<Vec<u64>, ()> = HashMap::new();
        let mut index: HashMap<Vec<u64>, usize> = HashMap::new();
        let mut models: Vec<Instance> = Vec::new();
        let mut fi: Vec<Vec<Vec<usize>>> = Vec::with_capacity(ng);
        for g in 0..ng {
            let bare = block(inst, &members[g], &[], &[], &[], &[]);
            distinct_blocks.insert(key_of(&bare), ());
            let mut fg = Vec::with_capacity(states[g].len());
            for si in &states[g] {
                let mut row = Vec::with_capacity(states[g + 1].len());
                for so in &states[g + 1] {
                    let b = block(inst, &members[g], &entry[g], si, &entry[g + 1], so);
                    let key = key_of(&b);
                    let k = *index.entry(key).or_insert_with(|| {
                        models.push(b);
                        models.len() - 1
                    });
                    row.push(k);
                }
                fg.push(row);
            }
            fi.push(fg);
        }
        BlockModels {
            models,
            fi,
            distinct: distinct_blocks.len(),
        }
    }
}

/// One block model solved by the ILP within `per` seconds, warm-started from `warm`: its value
/// under the weights, bound, schedule and status, with the ILP's binaries and rows.
fn solve_block(
    b: &Instance,
    weights: (f64, f64),
    limits: &Limits,
    warm: Option<&Schedule>,
    per: f64,
) -> Result<(Sub, usize, usize), PlaceError> {
    let r = solve(&IlpRequest {
        inst: b,
        weights,
        latency_budget_s: None,
        power_budget_w: None,
        warm,
        time_limit_s: per,
        mip_rel_gap: limits.mip_rel_gap,
        max_binaries: limits.max_binaries,
    })?;
    let sub = match r.schedule {
        None => Sub {
            value: f64::INFINITY,
            bound: f64::INFINITY,
            schedule: None,
            status: Status::Optimal,
        },
        Some(s) => {
            let t = totals(b, &s, &Objective::Makespan);
            let v = weights.0 * t.makespan_s + weights.1 * t.energy_j;
            Sub {
                value: v,
                bound: r.bound.unwrap_or(0.0).min(v),
                schedule: Some(s),
                status: r.status,
            }
        }
    };
    Ok((sub, r.binaries, r.rows))
}

/// Every block model solved, in two passes: each with a fair share of the time left, then
/// those that timed out again, warm-started from their incumbent, sharing what is left.
fn solve_blocks(
    models: &[Instance],
    weights: (f64, f64),
    limits: &Limits,
    deadline: Instant,
    stats: &mut SolveStats,
) -> Result<Vec<Sub>, PlaceError> {
    let mut subs: Vec<Sub> = Vec::with_capacity(models.len());
    let left = || {
        deadline
            .saturating_duration_since(Instant::now())
            .as_secs_f64()
    };
    for (k, b) in models.iter().enumerate() {
        let per = (left() / (models.len() - k) as f64).max(limits.min_model_time_s);
        let warm = best_heuristic(b, weights);
        let (sub, nb, nr) = solve_block(b, weights, limits, warm.as_ref(), per)?;
        stats.models += 1;
        stats.max_binaries = stats.max_binaries.max(nb);
        stats.max_rows = stats.max_rows.max(nr);
        subs.push(sub);
    }
    let again: Vec<usize> = (0..subs.len())
        .filter(|&k| subs[k].status == Status::TimedOut)
        .collect();
    for (j, &k) in again.iter().enumerate() {
        let per = left() / (again.len() - j) as f64;
        if per < limits.min_model_time_s {
            break;
        }
        let warm = subs[k].schedule.clone();
        let (sub, _, _) = solve_block(&models[k], weights, limits, warm.as_ref(), per)?;
        let old = &mut subs[k];
        let bound = old.bound.max(sub.bound);
        if sub.value < old.value {
            *old = sub;
        }
        old.bound = bound.min(old.value);
        if old.bound >= old.value * (1.0 - limits.mip_rel_gap) {
            old.status = Status::Optimal;
        }
    }
    Ok(subs)
}

/// The dynamic program over the chain of groups: `best[g][s]`, the least sum of `pick` over
/// groups before `g` that enters group `g` in state `s`, and `arg[g][s]`, the state of group
/// `g - 1` it came from.
fn chain_dp(
    states: &[Vec<Vec<usize>>],
    f: &[Vec<Vec<Sub>>],
    pick: &dyn Fn(&Sub) -> f64,
) -> (Vec<Vec<f64>>, Vec<Vec<usize>>) {
    let ng = f.len();
    let mut best: Vec<Vec<f64>> = vec![vec![0.0]];
    let mut arg: Vec<Vec<usize>> = vec![vec![0]];
    for g in 0..ng {
        let nout = states[g + 1].len();
        let mut b = vec![f64::INFINITY; nout];
        let mut a = vec![0usize; nout];
        for (si, prev) in best[g].iter().enumerate() {
            for so in 0..nout {
                let v = prev + pick(&f[g][si][so]);
                if v < b[so] {
                    b[so] = v;
                    a[so] = si;
                }
            }
        }
        best.push(b);
        arg.push(a);
    }
    (best, arg)
}

/// The whole graph's placement from the chosen block of each group (`chosen[g]`: its entry and
/// exit states): each op's unit and group, the ops in order of their start within their block,
/// and the worst status of the chosen blocks.
fn assemble(
    inst: &Instance,
    members: &[Vec<usize>],
    entry: &[Vec<usize>],
    f: &[Vec<Vec<Sub>>],
    chosen: &[(usize, usize)],
) -> (Vec<usize>, Vec<usize>, Vec<usize>, Status) {
    let ng = members.len();
    let n = inst.ops.len();
    let mut unit_of = vec![0usize; n];
    let mut window_of = vec![0usize; n];
    let mut priority = Vec::with_capacity(n);
    let mut status = Status::Optimal;
    for g in 0..ng {
        let (si, so) = chosen[g];
        let sub = &f[g][si][so];
        let s = sub.schedule.as_ref().expect("finite value has a schedule");
        let nb = entry[g].len();
        let mut local: Vec<(f64, usize, usize)> = members[g]
            .iter()
            .enumerate()
            .map(|(k, &i)| (s.start_s[nb + k], i, s.unit_of[nb + k]))
            .collect();
        local.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        for (_, i, u) in local {
            unit_of[i] = u;
            window_of[i] = g;
            priority.push(i);
        }
        status = match (status, sub.status) {
            (Status::TimedOut, _) | (_, Status::TimedOut) => Status::TimedOut,
            (Status::Feasible, _) | (_, Status::Feasible) => Status::Feasible,
            _ => Status::Optimal,
        };
    }
    (unit_of, window_of, priority, status)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hardware::UnitKind;
    use crate::placement::problem::PlaceUnit;

    fn chain(segments: &[usize], extra: &[(usize, usize)]) -> Instance {
        let n = segments.len();
        let op = |i: usize| PlaceOp {
            name: format!("op{i}"),
            kind: "matmul".into(),
            dtype: "f16".into(),
            costs: vec![Some(OpCost {
                time_s: 1.0,
                energy_j: 1.0,
                floor_bytes: vec![],
            })],
            why_not: vec![String::new()],
            segment: segments[i],
            pin: None,
        };
        let mut edges: Vec<Edge> = (1..n)
            .map(|i| Edge {
                from: i - 1,
                to: i,
                bytes: 1.0,
            })
            .collect();
        edges.extend(extra.iter().map(|&(from, to)| Edge {
            from,
            to,
            bytes: 1.0,
        }));
        Instance {
            name: "chain".into(),
            device: "test".into(),
            units: vec![PlaceUnit {
                name: "u".into(),
                kind: UnitKind::Cpu,
                hw_index: 0,
            }],
            ops: (0..n).map(op).collect(),
            edges,
            links: vec![vec![None]],
            floors: vec![],
            static_w: 0.0,
            segments: segments.last().map_or(0, |s| s + 1),
        }
    }

    #[test]
    fn neighbouring_segments_stay_apart() {
        let inst = chain(&[0, 1, 1, 2, 3], &[]);
        assert_eq!(groups(&inst), vec![0, 1, 1, 2, 3]);
    }

    #[test]
    fn an_edge_skipping_segments_merges_what_it_skips_over() {
        // op0 (segment 0) feeds op3 (segment 3): segments 1, 2 and 3 become one group, so the
        // edge crosses only the boundary after segment 0.
        let inst = chain(&[0, 1, 2, 3, 4], &[(0, 3)]);
        assert_eq!(groups(&inst), vec![0, 1, 1, 1, 2]);
    }

    #[test]
    fn cartesian_product_of_choices() {
        assert_eq!(product(&[]), vec![Vec::<usize>::new()]);
        assert_eq!(
            product(&[vec![0, 1], vec![2]]),
            vec![vec![0, 2], vec![1, 2]]
        );
    }
}
