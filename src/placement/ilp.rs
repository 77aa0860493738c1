//! The placement MIP of one window (the whole graph, or one segment with its boundary pinned),
//! built with good_lp and solved by HiGHS with a time limit; status, dual bound and gap are read
//! from HiGHS itself, a heuristic schedule is handed over as the initial incumbent, and the
//! answer is re-timed exactly by [`retime`] before anyone sees it. The formulation is documented
//! in the module docs of [`super`].

use super::PlaceError;
use super::problem::Instance;
use super::schedule::{Schedule, Status, retime};
use good_lp::{Expression, ProblemVariables, SolverModel, Variable, variable};
use highs::HighsModelStatus;
use std::collections::BinaryHeap;
use std::time::Instant;

/// Scaled horizon: times are expressed in units of horizon / `SCALE` so that the big-M
/// coefficients are about 10³ and HiGHS's absolute tolerances (10⁻⁶ to 10⁻⁹) are relative ones.
const SCALE: f64 = 1000.0;

/// What to solve.
pub(crate) struct IlpRequest<'a> {
    pub inst: &'a Instance,
    /// Objective weights: per second of makespan, per joule of energy.
    pub weights: (f64, f64),
    pub latency_budget_s: Option<f64>,
    pub power_budget_w: Option<f64>,
    /// A valid one-window schedule of `inst` to start from.
    pub warm: Option<&'a Schedule>,
    pub time_limit_s: f64,
    pub mip_rel_gap: f64,
    /// Refuse models with more binaries than this.
    pub max_binaries: usize,
}

/// What came back.
pub(crate) struct IlpResult {
    /// The re-timed schedule, `None` when the model is infeasible.
    pub schedule: Option<Schedule>,
    pub status: Status,
    /// Lower bound on `weights · (makespan, energy)`.
    pub bound: Option<f64>,
    pub binaries: usize,
    pub rows: usize,
    pub solve_s: f64,
}

#[derive(Clone, Copy)]
enum X {
    One,
    Var(Variable, usize),
}

/// How to fill one column from a warm-start schedule.
enum Warm {
    X(usize, usize),
    S(usize),
    C,
    T(usize),
    ET(usize),
    O(usize, usize),
}

struct Cols {
    vars: ProblemVariables,
    warm: Vec<Warm>,
    binaries: usize,
}

impl Cols {
    fn bin(&mut self, w: Warm) -> (Variable, usize) {
        let v = self.vars.add(variable().binary());
        self.warm.push(w);
        self.binaries += 1;
        (v, self.warm.len() - 1)
    }
    fn cont(&mut self, lo: f64, hi: f64, w: Warm) -> Variable {
        let v = self.vars.add(variable().min(lo).max(hi));
        self.warm.push(w);
        v
    }
}

/// Descendant bitsets: `desc[i]` has bit `j` when `j` depends on `i` (transitively).
pub(crate) fn descendants(inst: &Instance) -> Vec<Vec<u64>> {
    let n = inst.ops.len();
    let words = n.div_ceil(64);
    let succs = inst.succs();
    let mut desc = vec![vec![0u64; words]; n];
    for i in (0..n).rev() {
        let mut d = vec![0u64; words];
        for &k in &succs[i] {
            let j = inst.edges[k].to;
            d[j / 64] |= 1 << (j % 64);
            for (a, b) in d.iter_mut().zip(&desc[j]) {
                *a |= b;
            }
        }
        desc[i] = d;
    }
    desc
}

fn related(desc: &[Vec<u64>], i: usize, j: usize) -> bool {
    desc[i][j / 64] >> (j % 64) & 1 == 1 || desc[j][i / 64] >> (i % 64) & 1 == 1
}

/// Units both ops may use where both take time (zero-length intervals never conflict).
fn common_units(inst: &Instance, feas: &[Vec<usize>], i: usize, j: usize) -> Vec<usize> {
    feas[i]
        .iter()
        .copied()
        .filter(|u| feas[j].contains(u))
        .filter(|&u| {
            inst.ops[i].costs[u].as_ref().unwrap().time_s > 0.0
                && inst.ops[j].costs[u].as_ref().unwrap().time_s > 0.0
        })
        .collect()
}

/// Binaries the model of `inst` would have (assignment plus ordering), for size guards.
pub(crate) fn count_binaries(inst: &Instance) -> usize {
    let feas: Vec<Vec<usize>> = inst.ops.iter().map(|o| o.feasible()).collect();
    let desc = descendants(inst);
    let mut b: usize = feas.iter().filter(|f| f.len() > 1).map(Vec::len).sum();
    for i in 0..inst.ops.len() {
        for j in i + 1..inst.ops.len() {
            if !related(&desc, i, j) && !common_units(inst, &feas, i, j).is_empty() {
                b += 1;
            }
        }
    }
    b
}

/// A topological order that follows the solver's start times (Kahn's algorithm taking the ready
/// op with the smallest start first), robust to start times that tie within tolerance.
fn order_by_start(inst: &Instance, start: &[f64]) -> Vec<usize> {
    #[derive(PartialEq)]
    struct Key(f64, usize);
    impl Eq for Key {}
    impl PartialOrd for Key {
        fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
            Some(self.cmp(o))
        }
    }
    impl Ord for Key {
        fn cmp(&self, o: &Self) -> std::cmp::Ordering {
            // reversed: BinaryHeap is a max-heap
            o.0.total_cmp(&self.0).then(o.1.cmp(&self.1))
        }
    }
    let n = inst.ops.len();
    let succs = inst.succs();
    let mut missing: Vec<usize> = inst.preds().iter().map(Vec::len).collect();
    let mut heap: BinaryHeap<Key> = (0..n)
        .filter(|&i| missing[i] == 0)
        .map(|i| Key(start[i], i))
        .collect();
    let mut order = Vec::with_capacity(n);
    while let Some(Key(_, i)) = heap.pop() {
        order.push(i);
        for &k in &succs[i] {
            let j = inst.edges[k].to;
            missing[j] -= 1;
            if missing[j] == 0 {
                heap.push(Key(start[j], j));
            }
        }
    }
    order
}

/// Classes of interchangeable components: weakly connected components of the op graph that are
/// identical op by op (costs, pins) and edge by edge (relative endpoints, bytes). Swapping two of
/// them maps every schedule to one with the same objective, so their order may be fixed. Each
/// class lists its components (op indices in order).
pub(crate) fn identical_components(inst: &Instance) -> Vec<Vec<Vec<usize>>> {
    let n = inst.ops.len();
    let mut parent: Vec<usize> = (0..n).collect();
    fn find(p: &mut [usize], x: usize) -> usize {
        let mut r = x;
        while p[r] != r {
            r = p[r];
        }
        let mut y = x;
        while p[y] != r {
            let next = p[y];
            p[y] = r;
            y = next;
        }
        r
    }
    for e in &inst.edges {
        let (a, b) = (find(&mut parent, e.from), find(&mut parent, e.to));
        if a != b {
            parent[a.max(b)] = a.min(b);
        }
    }
    let mut comps: Vec<Vec<usize>> = Vec::new();
    let mut slot: std::collections::HashMap<usize, usize> = std::collections::HashMap::new();
    for i in 0..n {
        let r = find(&mut parent, i);
        let k = *slot.entry(r).or_insert_with(|| {
            comps.push(Vec::new());
            comps.len() - 1
        });
        comps[k].push(i);
    }
    let key = |c: &[usize]| -> Vec<u64> {
        let pos: std::collections::HashMap<usize, usize> =
            c.iter().enumerate().map(|(k, &i)| (i, k)).collect();
        let mut k = vec![c.len() as u64];
        for &i in c {
            let o = &inst.ops[i];
            k.push(o.pin.map_or(u64::MAX, |p| p as u64));
            for cost in &o.costs {
                match cost {
                    None => k.push(u64::MAX - 1),
                    Some(x) => {
                        k.push(x.time_s.to_bits());
                        k.push(x.energy_j.to_bits());
                        k.extend(x.floor_bytes.iter().map(|b| b.to_bits()));
                    }
                }
            }
        }
        let mut es: Vec<(usize, usize, u64)> = inst
            .edges
            .iter()
            .filter(|e| pos.contains_key(&e.to))
            .map(|e| (pos[&e.from], pos[&e.to], e.bytes.to_bits()))
            .collect();
        es.sort_unstable();
        for (a, b, x) in es {
            k.extend([a as u64, b as u64, x]);
        }
        k
    };
    let mut classes: std::collections::HashMap<Vec<u64>, Vec<Vec<usize>>> =
        std::collections::HashMap::new();
    for c in comps {
        classes.entry(key(&c)).or_default().push(c);
    }
    let mut out: Vec<Vec<Vec<usize>>> = classes.into_values().filter(|v| v.len() > 1).collect();
    out.sort_by_key(|v| v[0][0]);
    out
}

/// Builds and solves the MIP of `req.inst` as one window.
pub(crate) fn solve(req: &IlpRequest) -> Result<IlpResult, PlaceError> {
    let t0 = Instant::now();
    let inst = req.inst;
    let n = inst.ops.len();
    let nu = inst.units.len();
    let (wc, we) = req.weights;
    let feas: Vec<Vec<usize>> = inst.ops.iter().map(|o| o.feasible()).collect();
    let time = |i: usize, u: usize| inst.ops[i].costs[u].as_ref().unwrap().time_s;
    let energy = |i: usize, u: usize| inst.ops[i].costs[u].as_ref().unwrap().energy_j;
    let allowed = |k: usize, u: usize, v: usize| inst.transfer(&inst.edges[k], u, v);

    // Horizon: a serial schedule of any placement ends by then.
    let mut h: f64 = (0..n)
        .map(|i| feas[i].iter().map(|&u| time(i, u)).fold(0.0, f64::max))
        .sum();
    let mut e_ub: f64 = (0..n)
        .map(|i| feas[i].iter().map(|&u| energy(i, u)).fold(0.0, f64::max))
        .sum();
    for (k, e) in inst.edges.iter().enumerate() {
        let (mut mt, mut me) = (0.0f64, 0.0f64);
        for &u in &feas[e.from] {
            for &v in &feas[e.to] {
                if let Some((t, j)) = allowed(k, u, v) {
                    mt = mt.max(t);
                    me = me.max(j);
                }
            }
        }
        h += mt;
        e_ub += me;
    }
    let floor_max = inst
        .floors
        .iter()
        .enumerate()
        .map(|(l, f)| {
            (0..n)
                .map(|i| {
                    feas[i]
                        .iter()
                        .map(|&u| inst.ops[i].costs[u].as_ref().unwrap().floor_bytes[l])
                        .fold(0.0, f64::max)
                })
                .sum::<f64>()
                / f.bytes_per_s
        })
        .fold(0.0, f64::max);
    h = h.max(floor_max);
    // With a power budget the makespan may have to stretch (hold) to (work energy)/(P − static).
    if let Some(p) = req.power_budget_w {
        if p > inst.static_w {
            h = h.max(e_ub / (p - inst.static_w));
        }
    }
    // The warm start's makespan, its power hold included.
    let warm_makespan = req.warm.and_then(|w| {
        let end = w.windows.last().map_or(0.0, |x| x.end_s);
        super::schedule::hold_for(inst, w, req.power_budget_w).map(|hold| end + hold)
    });
    let warm_ok = warm_makespan.is_some_and(|m| req.latency_budget_s.is_none_or(|b| m <= b));
    if we == 0.0 && warm_ok {
        // Pure makespan: the optimum is no longer than the incumbent.
        h = h.min(warm_makespan.unwrap());
    }
    if let Some(b) = req.latency_budget_s {
        h = h.min(b);
    }
    h = h * (1.0 + 1e-9) + 1e-15;
    let ts = h / SCALE;
    e_ub += inst.static_w * h;
    let es = if e_ub > 0.0 { e_ub / SCALE } else { 1.0 };
    let os = {
        let o = (wc * h + we * e_ub) / SCALE;
        if o > 0.0 { o } else { 1.0 }
    };
    let hs = h / ts; // = SCALE
    let need_e = we > 0.0 || req.power_budget_w.is_some();

    let mut cols = Cols {
        vars: ProblemVariables::new(),
        warm: Vec::new(),
        binaries: 0,
    };
    let mut rows: Vec<good_lp::Constraint> = Vec::new();
    let mut obj = Expression::from(0.0);
    let mut obj_const = 0.0f64;

    // Assignment.
    let mut x: Vec<Vec<(usize, X)>> = Vec::with_capacity(n);
    for i in 0..n {
        if feas[i].len() == 1 {
            x.push(vec![(feas[i][0], X::One)]);
        } else {
            let v: Vec<(usize, X)> = feas[i]
                .iter()
                .map(|&u| {
                    let (var, c) = cols.bin(Warm::X(i, u));
                    (u, X::Var(var, c))
                })
                .collect();
            let mut s = Expression::from(0.0);
            for (_, xv) in &v {
                if let X::Var(var, _) = xv {
                    s += *var;
                }
            }
            rows.push(s.eq(1.0));
            x.push(v);
        }
    }
    let xe = |i: usize, u: usize, coef: f64, e: &mut Expression| {
        for &(uu, xv) in &x[i] {
            if uu == u {
                match xv {
                    X::One => *e += coef,
                    X::Var(v, _) => *e += coef * v,
                }
            }
        }
    };
    let dur = |i: usize| {
        let mut e = Expression::from(0.0);
        for &(u, _) in &x[i] {
            xe(i, u, time(i, u) / ts, &mut e);
        }
        e
    };
    let s_base = cols.warm.len();
    // Heads and tails: the longest chain of shortest durations before and after each op (valid
    // for every placement since transfers only add time). They strengthen the big-M relaxation.
    let pmin: Vec<f64> = (0..n)
        .map(|i| {
            feas[i]
                .iter()
                .map(|&u| time(i, u))
                .fold(f64::INFINITY, f64::min)
        })
        .collect();
    let mut head = vec![0.0f64; n];
    let mut tail = vec![0.0f64; n];
    let mut by_to: Vec<&super::problem::Edge> = inst.edges.iter().collect();
    by_to.sort_by_key(|e| (e.to, e.from));
    for e in &by_to {
        head[e.to] = head[e.to].max(head[e.from] + pmin[e.from]);
    }
    for e in by_to.iter().rev() {
        tail[e.from] = tail[e.from].max(tail[e.to] + pmin[e.to]);
    }
    let s: Vec<Variable> = (0..n)
        .map(|i| {
            let hi = ((h - pmin[i] - tail[i]) / ts).max(0.0);
            cols.cont((head[i] / ts).min(hi), hi, Warm::S(i))
        })
        .collect();
    let c = cols.cont(0.0, hs, Warm::C);
    // Dynamic energy in the objective.
    let mut energy_expr = Expression::from(0.0);
    let mut energy_const = 0.0f64;
    for i in 0..n {
        for &(u, xv) in &x[i] {
            let ej = energy(i, u) / es;
            match xv {
                X::One => energy_const += ej,
                X::Var(v, _) => energy_expr += ej * v,
            }
        }
    }

    // Edges: forbidden pairs, transfer time and energy, precedence.
    for (k, e) in inst.edges.iter().enumerate() {
        let (a, b) = (e.from, e.to);
        let mut max_t = 0.0f64;
        let mut max_j = 0.0f64;
        for &u in &feas[a] {
            for &v in &feas[b] {
                match allowed(k, u, v) {
                    Some((t, j)) => {
                        max_t = max_t.max(t);
                        max_j = max_j.max(j);
                    }
                    None => {
                        let mut r = Expression::from(0.0);
                        xe(a, u, 1.0, &mut r);
                        xe(b, v, 1.0, &mut r);
                        rows.push(r.leq(1.0));
                    }
                }
            }
        }
        let fixed = feas[a].len() == 1 && feas[b].len() == 1;
        let mut t_expr = Expression::from(0.0);
        if max_t > 0.0 {
            if fixed {
                t_expr += allowed(k, feas[a][0], feas[b][0]).map_or(0.0, |x| x.0) / ts;
            } else {
                let t = cols.cont(0.0, max_t / ts, Warm::T(k));
                for &u in &feas[a] {
                    let m_u = feas[b]
                        .iter()
                        .filter_map(|&v| allowed(k, u, v).map(|x| x.0))
                        .fold(0.0, f64::max)
                        / ts;
                    if m_u == 0.0 {
                        continue;
                    }
                    // t ≥ Σ_v τ(u,v)·x[b,v] − M_u·(1 − x[a,u])
                    let mut r = Expression::from(0.0) + t;
                    for &v in &feas[b] {
                        if let Some((tv, _)) = allowed(k, u, v) {
                            xe(b, v, -tv / ts, &mut r);
                        }
                    }
                    r += m_u;
                    xe(a, u, -m_u, &mut r);
                    rows.push(r.geq(0.0));
                }
                t_expr += t;
            }
        }
        if need_e && max_j > 0.0 {
            if fixed {
                energy_const += allowed(k, feas[a][0], feas[b][0]).map_or(0.0, |x| x.1) / es;
            } else {
                let et = cols.cont(0.0, max_j / es, Warm::ET(k));
                for &u in &feas[a] {
                    let m_u = feas[b]
                        .iter()
                        .filter_map(|&v| allowed(k, u, v).map(|x| x.1))
                        .fold(0.0, f64::max)
                        / es;
                    if m_u == 0.0 {
                        continue;
                    }
                    let mut r = Expression::from(0.0) + et;
                    for &v in &feas[b] {
                        if let Some((_, jv)) = allowed(k, u, v) {
                            xe(b, v, -jv / es, &mut r);
                        }
                    }
                    r += m_u;
                    xe(a, u, -m_u, &mut r);
                    rows.push(r.geq(0.0));
                }
                energy_expr += et;
            }
        }
        // s_b ≥ s_a + D_a + T
        let r = Expression::from(0.0) + s[b] - s[a] - dur(a) - t_expr;
        rows.push(r.geq(0.0));
    }

    // Completion, unit load and floors bound the makespan from below.
    for i in 0..n {
        rows.push((Expression::from(0.0) + c - s[i] - dur(i)).geq(tail[i] / ts));
    }
    for u in 0..nu {
        let mut r = Expression::from(0.0) + c;
        let mut any = false;
        for i in 0..n {
            if feas[i].contains(&u) {
                xe(i, u, -time(i, u) / ts, &mut r);
                any = true;
            }
        }
        if any {
            rows.push(r.geq(0.0));
        }
    }
    for (l, f) in inst.floors.iter().enumerate() {
        let mut r = Expression::from(0.0) + c;
        for i in 0..n {
            for &u in &feas[i] {
                let b = inst.ops[i].costs[u].as_ref().unwrap().floor_bytes[l];
                if b > 0.0 {
                    xe(i, u, -b / f.bytes_per_s / ts, &mut r);
                }
            }
        }
        rows.push(r.geq(0.0));
    }

    // Unit exclusivity: one ordering binary per pair of independent ops sharing a unit.
    let desc = descendants(inst);
    for i in 0..n {
        for j in i + 1..n {
            if related(&desc, i, j) {
                continue;
            }
            let k = common_units(inst, &feas, i, j);
            if k.is_empty() {
                continue;
            }
            let (o, _) = cols.bin(Warm::O(i, j));
            for u in k {
                let (pi, pj) = (time(i, u) / ts, time(j, u) / ts);
                // o = 1: i before j on u when both are there.
                let m = hs + pi;
                let mut r = Expression::from(0.0) + s[j] - s[i] - pi + 3.0 * m - m * o;
                xe(i, u, -m, &mut r);
                xe(j, u, -m, &mut r);
                rows.push(r.geq(0.0));
                let m = hs + pj;
                let mut r = Expression::from(0.0) + s[i] - s[j] - pj + 2.0 * m + m * o;
                xe(i, u, -m, &mut r);
                xe(j, u, -m, &mut r);
                rows.push(r.geq(0.0));
            }
        }
    }
    // Symmetry: among interchangeable components, the first op that takes time starts in order.
    let sym = identical_components(inst);
    let rep = |c: &[usize]| c.iter().position(|&i| pmin[i] > 0.0).unwrap_or(0);
    for class in &sym {
        let r = rep(&class[0]);
        for w in class.windows(2) {
            rows.push((Expression::from(0.0) + s[w[1][r]] - s[w[0][r]]).geq(0.0));
        }
    }
    if cols.binaries > req.max_binaries {
        return Err(PlaceError::TooLarge {
            binaries: cols.binaries,
            max: req.max_binaries,
        });
    }

    // Power budget: E ≤ P·C.
    if let Some(p) = req.power_budget_w {
        let r = energy_expr.clone() + energy_const + (inst.static_w - p) * ts / es * c;
        rows.push(r.leq(0.0));
    }
    // Objective: (w_c + w_e·static)·C + w_e·(dynamic + transfer energy), scaled by os.
    obj += ((wc + we * inst.static_w) * ts / os) * c;
    obj += (we * es / os) * energy_expr;
    obj_const += we * es / os * energy_const;

    let ncols = cols.warm.len();
    // The warm start, with interchangeable components relabelled to respect the symmetry rows.
    let warm_sorted: Option<Schedule> = req.warm.map(|w| {
        let mut w = w.clone();
        for class in &sym {
            let r = rep(&class[0]);
            let mut by_start: Vec<usize> = (0..class.len()).collect();
            by_start.sort_by(|&a, &b| w.start_s[class[a][r]].total_cmp(&w.start_s[class[b][r]]));
            let old = w.clone();
            for (k, &src) in by_start.iter().enumerate() {
                for (pos, &i) in class[k].iter().enumerate() {
                    let j = class[src][pos];
                    w.unit_of[i] = old.unit_of[j];
                    w.start_s[i] = old.start_s[j];
                }
            }
        }
        w
    });
    let warm_cols: Option<Vec<f64>> = if warm_ok {
        let w = warm_sorted.as_ref().unwrap();
        let mk = warm_makespan.unwrap();
        Some(
            cols.warm
                .iter()
                .map(|wv| match *wv {
                    Warm::X(i, u) => f64::from(u8::from(w.unit_of[i] == u)),
                    Warm::S(i) => w.start_s[i] / ts,
                    Warm::C => (mk / ts).min(hs),
                    Warm::T(k) => {
                        let e = &inst.edges[k];
                        allowed(k, w.unit_of[e.from], w.unit_of[e.to]).map_or(0.0, |x| x.0) / ts
                    }
                    Warm::ET(k) => {
                        let e = &inst.edges[k];
                        allowed(k, w.unit_of[e.from], w.unit_of[e.to]).map_or(0.0, |x| x.1) / es
                    }
                    Warm::O(i, j) => f64::from(u8::from(w.start_s[i] <= w.start_s[j])),
                })
                .collect(),
        )
    } else {
        None
    };
    let binaries = cols.binaries;
    let nrows = rows.len();
    let mut problem = cols
        .vars
        .minimise(obj)
        .using(good_lp::solvers::highs::highs);
    for r in rows {
        problem.add_constraint(r);
    }
    let mut model = problem
        .try_into_inner()
        .map_err(|e| PlaceError::Solver(e.to_string()))?;
    let set = |model: &mut highs::Model, k: &str, v: f64| {
        model
            .try_set_option(k, v)
            .map_err(|_| PlaceError::Solver(format!("HiGHS rejected option {k}")))
    };
    set(&mut model, "time_limit", req.time_limit_s.max(0.0))?;
    set(&mut model, "mip_rel_gap", req.mip_rel_gap.max(0.0))?;
    if let Some(cv) = &warm_cols {
        debug_assert_eq!(cv.len(), ncols);
        // An infeasible start (rounding) is ignored by HiGHS, which is what we want.
        let _ = model.try_set_solution(Some(cv), None, None, None);
    }
    let solved = model
        .try_solve()
        .map_err(|e| PlaceError::Solver(format!("{e:?}")))?;
    let bound = solved
        .double_info_value(c"mip_dual_bound")
        .ok()
        .filter(|b| b.is_finite())
        .map(|b| b * os + obj_const * os);
    let status = match solved.status() {
        HighsModelStatus::Optimal => Status::Optimal,
        HighsModelStatus::ReachedTimeLimit => Status::TimedOut,
        HighsModelStatus::Infeasible => {
            return Ok(IlpResult {
                schedule: None,
                status: Status::Optimal,
                bound: None,
                binaries,
                rows: nrows,
                solve_s: t0.elapsed().as_secs_f64(),
            });
        }
        HighsModelStatus::ReachedSolutionLimit
        | HighsModelStatus::ReachedInterrupt
        | HighsModelStatus::ReachedIterationLimit
        | HighsModelStatus::ReachedMemoryLimit
        | HighsModelStatus::ObjectiveBound
        | HighsModelStatus::ObjectiveTarget => Status::Feasible,
        other => return Err(PlaceError::Solver(format!("HiGHS status {other:?}"))),
    };
    // With no binaries HiGHS solves an LP and reports no MIP bound: the optimum is the bound.
    let bound = match (status, bound) {
        (Status::Optimal, _) if binaries == 0 => {
            Some(solved.objective_value() * os + obj_const * os)
        }
        (Status::Optimal, None) => Some(solved.objective_value() * os + obj_const * os),
        (_, b) => b,
    };
    let has_sol = solved.primal_solution_status() == highs::HighsSolutionStatus::Feasible;
    let schedule = if has_sol {
        let sol = solved.get_solution();
        let val = sol.columns();
        let unit_of: Vec<usize> = x
            .iter()
            .map(|xs| {
                xs.iter()
                    .max_by(|a, b| {
                        let va = match a.1 {
                            X::One => 1.0,
                            X::Var(_, c) => val[c],
                        };
                        let vb = match b.1 {
                            X::One => 1.0,
                            X::Var(_, c) => val[c],
                        };
                        va.total_cmp(&vb)
                    })
                    .unwrap()
                    .0
            })
            .collect();
        let starts: Vec<f64> = (0..n).map(|i| val[s_base + i]).collect();
        let order = order_by_start(inst, &starts);
        Some(retime(inst, &unit_of, &order, &vec![0; n])?)
    } else if let (true, Some(w)) = (warm_ok, req.warm) {
        Some(w.clone())
    } else {
        return Err(PlaceError::NoIncumbent {
            time_limit_s: req.time_limit_s,
        });
    };
    Ok(IlpResult {
        schedule,
        status,
        bound,
        binaries,
        rows: nrows,
        solve_s: t0.elapsed().as_secs_f64(),
    })
}
