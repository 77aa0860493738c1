//! The placement MIP of one window: its scales (horizon, energy and objective units), its
//! columns (unit assignment, start times, makespan, transfer times and energies, ordering
//! binaries) and one function per constraint family, plus the warm start's column values.
//!
//! Columns and rows are created in a fixed order, so that an instance always gives HiGHS the
//! same model.

use super::super::PlaceError;
use super::super::problem::{Edge, Instance};
use super::super::schedule::{Schedule, hold_for};
use super::graph::{common_units, descendants, identical_components, related};
use super::{IlpRequest, SCALE};
use good_lp::{Constraint, Expression, ProblemVariables, Variable, variable};

/// An assignment term: fixed (the op has one feasible unit) or a binary column.
#[derive(Clone, Copy)]
pub(super) enum X {
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

/// The columns in creation order, with how to warm-start each.
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

/// The horizon and the units the model is stated in.
pub(super) struct Horizon {
    /// Seconds by which every schedule of interest ends.
    pub h: f64,
    /// Seconds per time unit (`h / SCALE`).
    pub ts: f64,
    /// Joules per energy unit.
    pub es: f64,
    /// Objective per objective unit.
    pub os: f64,
    /// The horizon in time units (`SCALE`).
    pub hs: f64,
    /// Whether the model prices energy (an energy weight or a power budget).
    pub need_e: bool,
    /// The warm start's makespan, its power hold included.
    pub warm_makespan: Option<f64>,
    /// Whether the warm start is an incumbent (it meets the latency budget).
    pub warm_ok: bool,
}

/// Seconds op `i` takes on unit `u` (a feasible one).
fn time(inst: &Instance, i: usize, u: usize) -> f64 {
    inst.ops[i].costs[u].as_ref().unwrap().time_s
}

fn energy(inst: &Instance, i: usize, u: usize) -> f64 {
    inst.ops[i].costs[u].as_ref().unwrap().energy_j
}

fn allowed(inst: &Instance, k: usize, u: usize, v: usize) -> Option<(f64, f64)> {
    inst.transfer(&inst.edges[k], u, v)
}

/// The horizon: a serial schedule of any placement ends by then (and so does the floors'
/// traffic, the power hold and, for pure makespan, the warm start), capped by the latency
/// budget; with the energy and objective scales derived from it.
pub(super) fn horizon(req: &IlpRequest, feas: &[Vec<usize>]) -> Horizon {
    let inst = req.inst;
    let n = inst.ops.len();
    let (wc, we) = req.weights;
    // Horizon: a serial schedule of any placement ends by then.
    let mut h: f64 = (0..n)
        .map(|i| {
            feas[i]
                .iter()
                .map(|&u| time(inst, i, u))
                .fold(0.0, f64::max)
        })
        .sum();
    let mut e_ub: f64 = (0..n)
        .map(|i| {
            feas[i]
                .iter()
                .map(|&u| energy(inst, i, u))
                .fold(0.0, f64::max)
        })
        .sum();
    for (k, e) in inst.edges.iter().enumerate() {
        let (mut mt, mut me) = (0.0f64, 0.0f64);
        for &u in &feas[e.from] {
            for &v in &feas[e.to] {
                if let Some((t, j)) = allowed(inst, k, u, v) {
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
        hold_for(inst, w, req.power_budget_w).map(|hold| end + hold)
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
    Horizon {
        h,
        ts,
        es,
        os,
        hs,
        need_e,
        warm_makespan,
        warm_ok,
    }
}

/// A built model, with what the solve and the read-back need.
pub(super) struct Built {
    pub vars: ProblemVariables,
    pub rows: Vec<Constraint>,
    pub obj: Expression,
    pub obj_const: f64,
    /// The warm start's column values, when it is an incumbent.
    pub warm_cols: Option<Vec<f64>>,
    pub ncols: usize,
    pub binaries: usize,
    /// Assignment terms per op.
    pub x: Vec<Vec<(usize, X)>>,
    /// Column of the first start time (op `i` starts at column `s_base + i`).
    pub s_base: usize,
}

/// The assignment terms and the duration of an op, in time units.
struct Terms<'a> {
    inst: &'a Instance,
    feas: &'a [Vec<usize>],
    x: &'a [Vec<(usize, X)>],
    ts: f64,
}

impl Terms<'_> {
    /// Adds `coef · x[i, u]` to `e`.
    fn xe(&self, i: usize, u: usize, coef: f64, e: &mut Expression) {
        for &(uu, xv) in &self.x[i] {
            if uu == u {
                match xv {
                    X::One => *e += coef,
                    X::Var(v, _) => *e += coef * v,
                }
            }
        }
    }

    /// The duration of op `i` on the unit it is assigned.
    fn dur(&self, i: usize) -> Expression {
        let mut e = Expression::from(0.0);
        for &(u, _) in &self.x[i] {
            self.xe(i, u, time(self.inst, i, u) / self.ts, &mut e);
        }
        e
    }
}

/// Builds the model of `req.inst` as one window; fails when it has more binaries than
/// `req.max_binaries`.
pub(super) fn build(
    req: &IlpRequest,
    feas: &[Vec<usize>],
    hz: &Horizon,
) -> Result<Built, PlaceError> {
    let inst = req.inst;
    let n = inst.ops.len();
    let (wc, we) = req.weights;
    let mut cols = Cols {
        vars: ProblemVariables::new(),
        warm: Vec::new(),
        binaries: 0,
    };
    let mut rows: Vec<Constraint> = Vec::new();
    let mut obj = Expression::from(0.0);
    let mut obj_const = 0.0f64;

    let x = assignment(&mut cols, &mut rows, feas);
    let terms = Terms {
        inst,
        feas,
        x: &x,
        ts: hz.ts,
    };
    let s_base = cols.warm.len();
    let (pmin, head, tail) = heads_and_tails(inst, feas);
    let s: Vec<Variable> = (0..n)
        .map(|i| {
            let hi = ((hz.h - pmin[i] - tail[i]) / hz.ts).max(0.0);
            cols.cont((head[i] / hz.ts).min(hi), hi, Warm::S(i))
        })
        .collect();
    let c = cols.cont(0.0, hz.hs, Warm::C);
    // Dynamic energy in the objective.
    let mut energy_expr = Expression::from(0.0);
    let mut energy_const = 0.0f64;
    for (i, xs) in x.iter().enumerate() {
        for &(u, xv) in xs {
            let ej = energy(inst, i, u) / hz.es;
            match xv {
                X::One => energy_const += ej,
                X::Var(v, _) => energy_expr += ej * v,
            }
        }
    }
    let mut energy = EnergyTerms {
        expr: energy_expr,
        constant: energy_const,
    };
    for k in 0..inst.edges.len() {
        edge_rows(&mut cols, &mut rows, &terms, hz, &s, k, &mut energy);
    }
    makespan_rows(&mut rows, &terms, &s, c, &tail);
    exclusivity_rows(&mut cols, &mut rows, &terms, &s, hz.hs);
    let sym = identical_components(inst);
    symmetry_rows(&mut rows, &sym, &s, &pmin);
    if cols.binaries > req.max_binaries {
        return Err(PlaceError::TooLarge {
            binaries: cols.binaries,
            max: req.max_binaries,
        });
    }
    let (energy_expr, energy_const) = (energy.expr, energy.constant);
    // Power budget: E ≤ P·C.
    if let Some(p) = req.power_budget_w {
        let r = energy_expr.clone() + energy_const + (inst.static_w - p) * hz.ts / hz.es * c;
        rows.push(r.leq(0.0));
    }
    // Objective: (w_c + w_e·static)·C + w_e·(dynamic + transfer energy), scaled by os.
    obj += ((wc + we * inst.static_w) * hz.ts / hz.os) * c;
    obj += (we * hz.es / hz.os) * energy_expr;
    obj_const += we * hz.es / hz.os * energy_const;

    let ncols = cols.warm.len();
    let warm_cols = if hz.warm_ok {
        let w = warm_sorted(req, &sym, &pmin).unwrap();
        Some(warm_columns(inst, &cols.warm, &w, hz))
    } else {
        None
    };
    Ok(Built {
        vars: cols.vars,
        rows,
        obj,
        obj_const,
        warm_cols,
        ncols,
        binaries: cols.binaries,
        x,
        s_base,
    })
}

/// Assignment: one binary per feasible unit of each op with a choice, and the row
/// `Σ_u x[i, u] = 1`.
fn assignment(
    cols: &mut Cols,
    rows: &mut Vec<Constraint>,
    feas: &[Vec<usize>],
) -> Vec<Vec<(usize, X)>> {
    let mut x: Vec<Vec<(usize, X)>> = Vec::with_capacity(feas.len());
    for (i, f) in feas.iter().enumerate() {
        if f.len() == 1 {
            x.push(vec![(f[0], X::One)]);
        } else {
            let v: Vec<(usize, X)> = f
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
    x
}

/// Heads and tails: the longest chain of shortest durations before and after each op (valid
/// for every placement since transfers only add time). They strengthen the big-M relaxation.
/// Returns `(shortest duration, head, tail)` per op, in seconds.
fn heads_and_tails(inst: &Instance, feas: &[Vec<usize>]) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let n = inst.ops.len();
    let pmin: Vec<f64> = (0..n)
        .map(|i| {
            feas[i]
                .iter()
                .map(|&u| time(inst, i, u))
                .fold(f64::INFINITY, f64::min)
        })
        .collect();
    let mut head = vec![0.0f64; n];
    let mut tail = vec![0.0f64; n];
    let mut by_to: Vec<&Edge> = inst.edges.iter().collect();
    by_to.sort_by_key(|e| (e.to, e.from));
    for e in &by_to {
        head[e.to] = head[e.to].max(head[e.from] + pmin[e.from]);
    }
    for e in by_to.iter().rev() {
        tail[e.from] = tail[e.from].max(tail[e.to] + pmin[e.to]);
    }
    (pmin, head, tail)
}

/// The energy of the model, in energy units: column terms and a constant.
struct EnergyTerms {
    expr: Expression,
    constant: f64,
}

/// Edge `k`: its forbidden unit pairs, its transfer time and energy, and its precedence
/// `s_b ≥ s_a + D_a + T`.
fn edge_rows(
    cols: &mut Cols,
    rows: &mut Vec<Constraint>,
    t: &Terms,
    hz: &Horizon,
    s: &[Variable],
    k: usize,
    energy: &mut EnergyTerms,
) {
    let e = &t.inst.edges[k];
    let (a, b) = (e.from, e.to);
    let (max_t, max_j) = forbidden_pairs(rows, t, k);
    let fixed = t.feas[a].len() == 1 && t.feas[b].len() == 1;
    let mut t_expr = Expression::from(0.0);
    if max_t > 0.0 {
        if fixed {
            t_expr += allowed(t.inst, k, t.feas[a][0], t.feas[b][0]).map_or(0.0, |x| x.0) / hz.ts;
        } else {
            let tv = cols.cont(0.0, max_t / hz.ts, Warm::T(k));
            transfer_rows(rows, t, k, tv, hz.ts, |x| x.0);
            t_expr += tv;
        }
    }
    if hz.need_e && max_j > 0.0 {
        if fixed {
            energy.constant +=
                allowed(t.inst, k, t.feas[a][0], t.feas[b][0]).map_or(0.0, |x| x.1) / hz.es;
        } else {
            let et = cols.cont(0.0, max_j / hz.es, Warm::ET(k));
            transfer_rows(rows, t, k, et, hz.es, |x| x.1);
            energy.expr += et;
        }
    }
    // s_b ≥ s_a + D_a + T
    let r = Expression::from(0.0) + s[b] - s[a] - t.dur(a) - t_expr;
    rows.push(r.geq(0.0));
}

/// Forbids the unit pairs edge `k` cannot cross (`x[a,u] + x[b,v] ≤ 1`); returns the
/// longest transfer time and energy over the allowed ones.
fn forbidden_pairs(rows: &mut Vec<Constraint>, t: &Terms, k: usize) -> (f64, f64) {
    let e = &t.inst.edges[k];
    let (a, b) = (e.from, e.to);
    let mut max_t = 0.0f64;
    let mut max_j = 0.0f64;
    for &u in &t.feas[a] {
        for &v in &t.feas[b] {
            match allowed(t.inst, k, u, v) {
                Some((tt, j)) => {
                    max_t = max_t.max(tt);
                    max_j = max_j.max(j);
                }
                None => {
                    let mut r = Expression::from(0.0);
                    t.xe(a, u, 1.0, &mut r);
                    t.xe(b, v, 1.0, &mut r);
                    rows.push(r.leq(1.0));
                }
            }
        }
    }
    (max_t, max_j)
}

/// Lower bounds on the transfer column `col` of edge `k` (time or energy, as `pick` takes
/// from the link's `(seconds, joules)`, in units of `unit`), per producer unit `u`:
/// `col ≥ Σ_v cost(u,v)·x[b,v] − M_u·(1 − x[a,u])`.
fn transfer_rows(
    rows: &mut Vec<Constraint>,
    t: &Terms,
    k: usize,
    col: Variable,
    unit: f64,
    pick: impl Fn((f64, f64)) -> f64,
) {
    let e = &t.inst.edges[k];
    let (a, b) = (e.from, e.to);
    for &u in &t.feas[a] {
        let m_u = t.feas[b]
            .iter()
            .filter_map(|&v| allowed(t.inst, k, u, v).map(&pick))
            .fold(0.0, f64::max)
            / unit;
        if m_u == 0.0 {
            continue;
        }
        let mut r = Expression::from(0.0) + col;
        for &v in &t.feas[b] {
            if let Some(x) = allowed(t.inst, k, u, v) {
                t.xe(b, v, -pick(x) / unit, &mut r);
            }
        }
        r += m_u;
        t.xe(a, u, -m_u, &mut r);
        rows.push(r.geq(0.0));
    }
}

/// Completion, unit load and floors bound the makespan `c` from below.
fn makespan_rows(rows: &mut Vec<Constraint>, t: &Terms, s: &[Variable], c: Variable, tail: &[f64]) {
    let inst = t.inst;
    let n = inst.ops.len();
    for i in 0..n {
        rows.push((Expression::from(0.0) + c - s[i] - t.dur(i)).geq(tail[i] / t.ts));
    }
    for u in 0..inst.units.len() {
        let mut r = Expression::from(0.0) + c;
        let mut any = false;
        for i in 0..n {
            if t.feas[i].contains(&u) {
                t.xe(i, u, -time(inst, i, u) / t.ts, &mut r);
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
            for &u in &t.feas[i] {
                let b = inst.ops[i].costs[u].as_ref().unwrap().floor_bytes[l];
                if b > 0.0 {
                    t.xe(i, u, -b / f.bytes_per_s / t.ts, &mut r);
                }
            }
        }
        rows.push(r.geq(0.0));
    }
}

/// Unit exclusivity: one ordering binary per pair of independent ops sharing a unit.
fn exclusivity_rows(
    cols: &mut Cols,
    rows: &mut Vec<Constraint>,
    t: &Terms,
    s: &[Variable],
    hs: f64,
) {
    let inst = t.inst;
    let n = inst.ops.len();
    let desc = descendants(inst);
    for i in 0..n {
        for j in i + 1..n {
            if related(&desc, i, j) {
                continue;
            }
            let k = common_units(inst, t.feas, i, j);
            if k.is_empty() {
                continue;
            }
            let (o, _) = cols.bin(Warm::O(i, j));
            for u in k {
                let (pi, pj) = (time(inst, i, u) / t.ts, time(inst, j, u) / t.ts);
                // o = 1: i before j on u when both are there.
                let m = hs + pi;
                let mut r = Expression::from(0.0) + s[j] - s[i] - pi + 3.0 * m - m * o;
                t.xe(i, u, -m, &mut r);
                t.xe(j, u, -m, &mut r);
                rows.push(r.geq(0.0));
                let m = hs + pj;
                let mut r = Expression::from(0.0) + s[i] - s[j] - pj + 2.0 * m + m * o;
                t.xe(i, u, -m, &mut r);
                t.xe(j, u, -m, &mut r);
                rows.push(r.geq(0.0));
            }
        }
    }
}

/// The op of a component whose start orders interchangeable components: its first op that
/// takes time.
fn rep(c: &[usize], pmin: &[f64]) -> usize {
    c.iter().position(|&i| pmin[i] > 0.0).unwrap_or(0)
}

/// Symmetry: among interchangeable components, the first op that takes time starts in order.
fn symmetry_rows(
    rows: &mut Vec<Constraint>,
    sym: &[Vec<Vec<usize>>],
    s: &[Variable],
    pmin: &[f64],
) {
    for class in sym {
        let r = rep(&class[0], pmin);
        for w in class.windows(2) {
            rows.push((Expression::from(0.0) + s[w[1][r]] - s[w[0][r]]).geq(0.0));
        }
    }
}

/// The warm start, with interchangeable components relabelled to respect the symmetry rows.
fn warm_sorted(req: &IlpRequest, sym: &[Vec<Vec<usize>>], pmin: &[f64]) -> Option<Schedule> {
    req.warm.map(|w| {
        let mut w = w.clone();
        for class in sym {
            let r = rep(&class[0], pmin);
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
    })
}

/// The column values of the warm schedule `w`.
fn warm_columns(inst: &Instance, warm: &[Warm], w: &Schedule, hz: &Horizon) -> Vec<f64> {
    let mk = hz.warm_makespan.unwrap();
    let (ts, es) = (hz.ts, hz.es);
    warm.iter()
        .map(|wv| match *wv {
            Warm::X(i, u) => f64::from(u8::from(w.unit_of[i] == u)),
            Warm::S(i) => w.start_s[i] / ts,
            Warm::C => (mk / ts).min(hz.hs),
            Warm::T(k) => {
                let e = &inst.edges[k];
                allowed(inst, k, w.unit_of[e.from], w.unit_of[e.to]).map_or(0.0, |x| x.0) / ts
            }
            Warm::ET(k) => {
                let e = &inst.edges[k];
                allowed(inst, k, w.unit_of[e.from], w.unit_of[e.to]).map_or(0.0, |x| x.1) / es
            }
            Warm::O(i, j) => f64::from(u8::from(w.start_s[i] <= w.start_s[j])),
        })
        .collect()
}
