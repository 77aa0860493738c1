//! The COSMA-style ILP (see the module documentation of [`super`] for the
//! formulation): model construction with good_lp, solution by HiGHS with a
//! time limit, status/bound/gap read from HiGHS itself, warm start from a
//! heuristic plan, extraction of a plan with integral addresses.
//!
//! The model is stated over a *window*: a set of operators (all of them for
//! [`plan_ilp`], a slice of the order for divide and conquer) plus a boundary
//! state (tensors resident at entry with fixed offsets, which tensors have an
//! off-chip copy, which are needed after the window).

use std::time::Instant;

use good_lp::{Constraint, Expression, ProblemVariables, SolverModel, Variable, variable};
use highs::HighsModelStatus;
use serde::{Deserialize, Serialize};

use super::heuristics::{AllocMode, Sim, plan_arena_prepared};
use super::plan::{
    ModelStats, Origin, Plan, PlanStatus, Residency, SolvePath, Store, relative_gap,
};
use super::problem::{MemProblem, Prepared, TensorKind};
use super::{MappingError, verify};

/// Which operator orders the ILP may choose from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Schedule {
    /// Any topological order (COSMA's joint scheduling).
    Free,
    /// This order only (COSMA "FS"); it must be a topological permutation.
    Fixed(Vec<usize>),
}

/// Solver settings for [`plan_ilp`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IlpOptions {
    /// Wall-clock limit for HiGHS in seconds.
    pub time_limit_s: f64,
    /// Free or fixed operator order.
    pub schedule: Schedule,
    /// Add the aggregate capacity row per step (a valid inequality that the LP
    /// relaxation of the pairwise big-M rows does not imply).
    pub capacity_cut: bool,
    /// Add `z[a,b,t] <= r[a,t]`, `z[a,b,t] <= r[b,t]`: an ordering binary is
    /// 0 unless both tensors are resident (removes its free copies).
    pub pair_residency_rows: bool,
    /// Fix the mirror symmetry (reflecting all addresses) by ordering the two
    /// largest tensors of the largest working set.
    pub mirror_symmetry: bool,
    /// Hand the best baseline plan to HiGHS as the initial incumbent.
    pub warm_start: bool,
    /// Relative MIP gap at which HiGHS may stop (0 = prove optimality).
    pub mip_rel_gap: f64,
    /// Solve the size-only relaxation (no addresses) first. If its residency
    /// plan can be packed into addresses (greedy orders, then a small packing
    /// ILP over the fixed intervals), that plan is taken — optimal whenever the
    /// relaxation was solved to optimality, since the relaxation's optimum
    /// bounds the full model. Otherwise the relaxation's bound becomes the row
    /// `objective >= bound` of the full model.
    pub size_first: bool,
}

impl Default for IlpOptions {
    fn default() -> Self {
        IlpOptions {
            time_limit_s: 60.0,
            schedule: Schedule::Free,
            capacity_cut: true,
            pair_residency_rows: false,
            mirror_symmetry: false,
            warm_start: true,
            mip_rel_gap: 0.0,
            size_first: true,
        }
    }
}

/// How a window segment became resident.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SegOrigin {
    Created,
    Loaded,
    /// Resident at entry and kept at its entry offset.
    Entry,
}

/// A residency interval in window-local steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Segment {
    pub tensor: usize,
    pub first: usize,
    pub last: usize,
    /// Offset in allocation units.
    pub offset: u64,
    pub origin: SegOrigin,
}

/// A solved (or heuristic) window.
#[derive(Debug, Clone)]
pub(crate) struct WindowSolution {
    /// Global operator ids in local step order.
    pub order: Vec<usize>,
    pub segments: Vec<Segment>,
    /// Activations written back in this window (store variable = 1).
    pub stored: Vec<usize>,
    pub status: PlanStatus,
    /// Non-compulsory bytes incurred in the window.
    pub objective_bytes: u64,
    pub bound_bytes: Option<f64>,
    pub stats: ModelStats,
    pub solve_s: f64,
}

/// The ILP's answer for a window.
pub(crate) enum WindowOutcome {
    Solved(WindowSolution),
    /// Time limit without any incumbent.
    NoIncumbent {
        bound_bytes: Option<f64>,
    },
}

/// A window of operators with its boundary state.
pub(crate) struct Window<'p, 'a> {
    pub prep: &'p Prepared<'a>,
    /// Operators in a reference topological order (also the fixed order when `fixed`).
    pub ops: Vec<usize>,
    /// The first `commit` operators of `ops` run before all others (rolling
    /// horizon: only they are kept); `ops.len()` when there is no overlap.
    pub commit: usize,
    pub fixed: bool,
    /// Tensors resident at entry with their offsets (units).
    pub entry: Vec<(usize, u64)>,
    /// Whether each tensor has an off-chip copy at entry.
    pub offchip: Vec<bool>,
    /// Whether each weight/input was loaded before the window (its loads here are then all non-compulsory).
    pub loaded_before: Vec<bool>,
    /// Whether each tensor is read after the window.
    pub live_out: Vec<bool>,
    /// Charge one future reload for each live-out tensor not left resident
    /// (the objective then exceeds the window's own traffic by that charge,
    /// and so do the reported bounds).
    pub lookahead: bool,
}

#[derive(Debug, Clone, Copy)]
struct V {
    v: Variable,
    c: usize,
}

struct Builder {
    vars: ProblemVariables,
    ncols: usize,
    nbin: usize,
    rows: Vec<Constraint>,
}

impl Builder {
    fn bin(&mut self) -> V {
        let v = self.vars.add(variable().binary());
        self.ncols += 1;
        self.nbin += 1;
        V {
            v,
            c: self.ncols - 1,
        }
    }
    fn cont(&mut self, lo: f64, hi: f64) -> V {
        let v = self.vars.add(variable().min(lo).max(hi));
        self.ncols += 1;
        V {
            v,
            c: self.ncols - 1,
        }
    }
    /// Adds `expr <= 0`.
    fn le0(&mut self, expr: Expression) {
        self.rows.push(expr.leq(0.0));
    }
    /// Adds `expr == 0`.
    fn eq0(&mut self, expr: Expression) {
        self.rows.push(expr.eq(0.0));
    }
}

fn sum(vs: &[V]) -> Expression {
    let mut e = Expression::with_capacity(vs.len());
    for v in vs {
        e.add_mul(1.0, v.v);
    }
    e
}

struct OpVars {
    asap: usize,
    alap: usize,
    x: Vec<V>,
}

impl OpVars {
    fn at(&self, t: usize) -> Option<V> {
        (self.asap <= t && t <= self.alap).then(|| self.x[t - self.asap])
    }
}

struct TVars {
    a: usize,
    start: usize,
    end: usize,
    prod: Option<usize>,
    cons: Vec<usize>,
    entry: Option<u64>,
    p: Vec<Option<V>>,
    ld: Vec<Option<V>>,
    l: Vec<Option<V>>,
    s: Option<V>,
    /// Constant address (units) of an entry tensor that cannot be reloaded in
    /// the window: whenever resident it is still in its entry segment.
    fixed_addr: Option<u64>,
}

impl TVars {
    fn in_win(&self, t: usize) -> bool {
        self.start <= t && t <= self.end
    }
}

/// Everything needed to read a solution back.
struct Built {
    n: usize,
    ops: Vec<OpVars>,
    ts: Vec<TVars>,
    /// Tensor index -> local tensor index.
    local: Vec<Option<usize>>,
    /// Pair ordering binaries: (i, j, t) -> z (i above j), i < j.
    z: std::collections::HashMap<(usize, usize, usize), V>,
    /// Mirror fix: local tensors (i above j) at op `k`'s step.
    mirror: Option<(usize, usize, usize)>,
    obj_scale: f64,
    obj_const: f64,
    /// Look-ahead terms: (local tensor, cost units) charged when the tensor is
    /// not resident at the window's last step.
    lookahead: Vec<(usize, f64)>,
    m: u64,
}

impl Built {
    fn r_terms(&self, ti: usize, t: usize) -> Vec<V> {
        let tv = &self.ts[ti];
        let mut out = Vec::with_capacity(3);
        if !tv.in_win(t) {
            return out;
        }
        if let Some(pi) = tv.prod {
            if let Some(x) = self.ops[pi].at(t) {
                out.push(x);
            }
        }
        let k = t - tv.start;
        if let Some(p) = tv.p[k] {
            out.push(p);
        }
        if let Some(l) = tv.ld[k] {
            out.push(l);
        }
        out
    }
}

/// Bitset transitive closure: for each local op, the set of local ancestors.
fn ancestors(n: usize, preds: &[Vec<usize>]) -> Vec<Vec<u64>> {
    let words = n.div_ceil(64);
    let mut anc = vec![vec![0u64; words]; n];
    for i in 0..n {
        // preds are earlier in the reference order, so already complete.
        for &p in &preds[i] {
            let (head, tail) = anc.split_at_mut(i);
            let ai = &mut tail[0];
            for (w, pw) in ai.iter_mut().zip(head[p].iter()) {
                *w |= *pw;
            }
            ai[p / 64] |= 1 << (p % 64);
        }
    }
    anc
}

/// Builds the window model. With `addresses == false` it is the size-only
/// relaxation (no `L`, `z`, (J), (K), mirror rows; the capacity row is then
/// the capacity constraint). `lower_bound` (objective units, constant
/// included) adds the valid row `objective >= lower_bound`.
fn build(
    w: &Window,
    opts: &IlpOptions,
    addresses: bool,
    lower_bound: Option<f64>,
) -> Result<(Builder, Built, Expression), MappingError> {
    let prep = w.prep;
    let n = w.ops.len();
    let m = prep.capacity_units;
    let mf = m as f64;
    let mut lop = vec![usize::MAX; prep.num_ops()];
    for (i, &o) in w.ops.iter().enumerate() {
        lop[o] = i;
    }
    // Local precedence (reference order is topological).
    let lpreds: Vec<Vec<usize>> = w
        .ops
        .iter()
        .map(|&o| {
            prep.preds[o]
                .iter()
                .filter(|&&p| lop[p] != usize::MAX)
                .map(|&p| lop[p])
                .collect()
        })
        .collect();
    for (i, ps) in lpreds.iter().enumerate() {
        if ps.iter().any(|&p| p >= i) {
            return Err(MappingError::Internal(
                "window reference order is not topological".into(),
            ));
        }
    }
    let anc = ancestors(n, &lpreds);
    let mut ndesc = vec![0usize; n];
    let mut nanc = vec![0usize; n];
    for i in 0..n {
        for j in 0..n {
            if anc[i][j / 64] >> (j % 64) & 1 == 1 {
                nanc[i] += 1;
                ndesc[j] += 1;
            }
        }
    }
    let mut b = Builder {
        vars: ProblemVariables::new(),
        ncols: 0,
        nbin: 0,
        rows: Vec::new(),
    };
    let ops: Vec<OpVars> = (0..n)
        .map(|i| {
            let (asap, alap) = if w.fixed {
                (i, i)
            } else if i < w.commit {
                (nanc[i], (n - 1 - ndesc[i]).min(w.commit - 1))
            } else {
                (nanc[i].max(w.commit), n - 1 - ndesc[i])
            };
            let x = (asap..=alap).map(|_| b.bin()).collect();
            OpVars { asap, alap, x }
        })
        .collect();

    // Local tensors.
    let nt = prep.num_tensors();
    let mut entry_off: Vec<Option<u64>> = vec![None; nt];
    for &(a, off) in &w.entry {
        entry_off[a] = Some(off);
    }
    let mut is_local = vec![false; nt];
    for &o in &w.ops {
        for a in prep.touched(o) {
            is_local[a] = true;
        }
    }
    for &(a, _) in &w.entry {
        if w.live_out[a] {
            is_local[a] = true;
        }
    }
    let mut ts: Vec<TVars> = Vec::new();
    for a in 0..nt {
        if !is_local[a] {
            continue;
        }
        let prod = prep.producer[a].and_then(|p| (lop[p] != usize::MAX).then_some(lop[p]));
        let cons: Vec<usize> = prep.consumers[a]
            .iter()
            .filter(|&&c| lop[c] != usize::MAX)
            .map(|&c| lop[c])
            .collect();
        let entry = entry_off[a];
        let start = if entry.is_some() {
            0
        } else if let Some(pi) = prod {
            ops[pi].asap
        } else {
            cons.iter().map(|&c| ops[c].asap).min().unwrap_or(0)
        };
        let end = if w.live_out[a] {
            n - 1
        } else {
            cons.iter()
                .map(|&c| ops[c].alap)
                .chain(prod.map(|pi| ops[pi].alap))
                .max()
                .unwrap_or(start)
        };
        if prod.is_none() && entry.is_none() && prep.kind(a).is_produced() && !w.offchip[a] {
            return Err(MappingError::Internal(format!(
                "window: tensor {} is needed but neither resident nor off-chip",
                prep.problem.tensors[a].name
            )));
        }
        let len = end - start + 1;
        ts.push(TVars {
            a,
            start,
            end,
            prod,
            cons,
            entry,
            p: vec![None; len],
            ld: vec![None; len],
            l: vec![None; len],
            s: None,
            fixed_addr: None,
        });
    }
    let mut local_of = vec![None; nt];
    for (ti, tv) in ts.iter().enumerate() {
        local_of[tv.a] = Some(ti);
    }
    let mut built = Built {
        n,
        ops,
        ts,
        local: local_of,
        z: Default::default(),
        mirror: None,
        obj_scale: prep.bytes_gcd() as f64,
        obj_const: 0.0,
        lookahead: Vec::new(),
        m,
    };

    // Per-tensor step variables.
    for ti in 0..built.ts.len() {
        let (a, start, end) = (built.ts[ti].a, built.ts[ti].start, built.ts[ti].end);
        let kind = prep.kind(a);
        let needs_s = kind == TensorKind::Activation
            && !w.offchip[a]
            && (built.ts[ti].prod.is_some() || built.ts[ti].entry.is_some());
        for t in start..=end {
            let k = t - start;
            let tv = &built.ts[ti];
            let has_p = (t == 0 && tv.entry.is_some())
                || (t > start && !built.r_terms(ti, t - 1).is_empty());
            let consumed_now = tv
                .cons
                .iter()
                .any(|&c| built.ops[c].asap <= t && t <= built.ops[c].alap);
            let loadable = match tv.prod {
                Some(pi) => t > built.ops[pi].asap,
                None => true,
            };
            let has_ld = consumed_now && loadable;
            if has_p {
                let v = b.bin();
                built.ts[ti].p[k] = Some(v);
            }
            if has_ld {
                let v = b.bin();
                built.ts[ti].ld[k] = Some(v);
            }
        }
        let no_reload = built.ts[ti].ld.iter().all(Option::is_none);
        if addresses && no_reload && built.ts[ti].entry.is_some() {
            built.ts[ti].fixed_addr = built.ts[ti].entry;
        } else if addresses {
            for t in start..=end {
                if !built.r_terms(ti, t).is_empty() {
                    let hi = (m - prep.units[a]) as f64;
                    let v = b.cont(0.0, hi);
                    built.ts[ti].l[t - start] = Some(v);
                }
            }
        }
        let tv = &built.ts[ti];
        if needs_s && (tv.ld.iter().any(Option::is_some) || w.live_out[a]) {
            let v = b.bin();
            built.ts[ti].s = Some(v);
        }
    }

    // Objective (scaled by the gcd of tensor sizes) and its constant.
    let scale = built.obj_scale;
    let mut obj = Expression::default();
    for tv in &built.ts {
        let c = prep.bytes(tv.a) as f64 / scale;
        for v in tv.ld.iter().flatten() {
            obj.add_mul(c, v.v);
        }
        if let Some(s) = tv.s {
            obj.add_mul(c, s.v);
        }
        let kind = prep.kind(tv.a);
        if matches!(kind, TensorKind::Weight | TensorKind::Input)
            && !tv.cons.is_empty()
            && !w.loaded_before[tv.a]
        {
            built.obj_const -= c;
        }
    }
    // Look-ahead (windows): a tensor read after the window that is not left
    // resident costs at least one later reload; charge it here so the window
    // does not evict what the next window needs for free.
    if w.lookahead {
        for ti in 0..built.ts.len() {
            let a = built.ts[ti].a;
            if !w.live_out[a] {
                continue;
            }
            let c = prep.bytes(a) as f64 / scale;
            built.obj_const += c;
            for v in built.r_terms(ti, n - 1) {
                obj.add_mul(-c, v.v);
            }
            built.lookahead.push((ti, c));
        }
    }

    // (A) every operator once, (B) one operator per step.
    for ov in &built.ops {
        let mut e = sum(&ov.x);
        e += -1.0;
        b.eq0(e);
    }
    for t in 0..n {
        let xs: Vec<V> = built.ops.iter().filter_map(|ov| ov.at(t)).collect();
        let mut e = sum(&xs);
        e += -1.0;
        b.eq0(e);
    }
    // (C) time-indexed precedence: sum_{t'<=t} x[c,t'] <= sum_{t'<t} x[p,t'].
    if !w.fixed {
        for (c, ps) in lpreds.iter().enumerate() {
            for &p in ps {
                let (oc, op) = (&built.ops[c], &built.ops[p]);
                for t in oc.asap..=op.alap.min(oc.alap) {
                    let mut e = Expression::default();
                    for tt in oc.asap..=t {
                        e.add_mul(1.0, oc.x[tt - oc.asap].v);
                    }
                    for tt in op.asap..t.min(op.alap + 1) {
                        e.add_mul(-1.0, op.x[tt - op.asap].v);
                    }
                    b.le0(e);
                }
            }
        }
    }
    for ti in 0..built.ts.len() {
        let (start, end) = (built.ts[ti].start, built.ts[ti].end);
        let a = built.ts[ti].a;
        let big = (m - prep.units[a]) as f64;
        for t in start..=end {
            let k = t - start;
            let r = built.r_terms(ti, t);
            // (D) at most one way of being resident.
            if r.len() >= 2 {
                let mut e = sum(&r);
                e += -1.0;
                b.le0(e);
            }
            let tv = &built.ts[ti];
            // (E) preserve only if resident before; (J) preserve keeps the address.
            if let Some(p) = tv.p[k] {
                if t > start {
                    let mut e = sum(&built.r_terms(ti, t - 1));
                    e.add_mul(-1.0, p.v);
                    b.rows.push(e.geq(0.0));
                }
            }
            if let (Some(p), true, None) = (tv.p[k], addresses, tv.fixed_addr) {
                let l_now = tv.l[k].expect("L exists where p exists");
                if t > start {
                    let l_prev = tv.l[k - 1].expect("L exists where resident");
                    for sign in [1.0, -1.0] {
                        let mut e = Expression::default();
                        e.add_mul(sign, l_now.v);
                        e.add_mul(-sign, l_prev.v);
                        e.add_mul(big, p.v);
                        e += -big;
                        b.le0(e);
                    }
                } else {
                    let off = tv.entry.expect("p at step 0 only for entry tensors") as f64;
                    for sign in [1.0, -1.0] {
                        let mut e = Expression::default();
                        e.add_mul(sign, l_now.v);
                        e += -sign * off;
                        e.add_mul(big, p.v);
                        e += -big;
                        b.le0(e);
                    }
                }
            }
            // (G) load only at a step where a consumer runs; (H) load of an
            // activation without off-chip copy needs its write-back.
            if let Some(ld) = tv.ld[k] {
                let mut e = Expression::default();
                e.add_mul(1.0, ld.v);
                for &c in &tv.cons {
                    if let Some(x) = built.ops[c].at(t) {
                        e.add_mul(-1.0, x.v);
                    }
                }
                b.le0(e);
                if prep.kind(a) == TensorKind::Activation && !w.offchip[a] {
                    match tv.s {
                        Some(s) => {
                            let mut e = Expression::default();
                            e.add_mul(1.0, ld.v);
                            e.add_mul(-1.0, s.v);
                            b.le0(e);
                        }
                        None => {
                            return Err(MappingError::Internal(
                                "load of an activation without a store variable".into(),
                            ));
                        }
                    }
                }
            }
        }
        // (F) inputs resident when their consumer runs.
        let tv = &built.ts[ti];
        for &c in &tv.cons {
            let oc = &built.ops[c];
            for t in oc.asap..=oc.alap {
                let k = t - tv.start;
                let mut e = Expression::default();
                e.add_mul(1.0, oc.x[t - oc.asap].v);
                if let Some(p) = tv.p[k] {
                    e.add_mul(-1.0, p.v);
                }
                if let Some(ld) = tv.ld[k] {
                    e.add_mul(-1.0, ld.v);
                }
                b.le0(e);
            }
        }
        // (I) live-out activation without copy: resident at the end or written back.
        if w.live_out[a] && prep.kind(a) == TensorKind::Activation && !w.offchip[a] {
            let mut e = sum(&built.r_terms(ti, n - 1));
            if let Some(s) = tv.s {
                e.add_mul(1.0, s.v);
            }
            b.rows.push(e.geq(1.0));
        }
    }

    // (K) pairwise non-overlap where both tensors can be resident.
    let nts = built.ts.len();
    for i in 0..nts {
        if !addresses {
            break;
        }
        for j in (i + 1)..nts {
            let lo = built.ts[i].start.max(built.ts[j].start);
            let hi = built.ts[i].end.min(built.ts[j].end);
            if lo > hi {
                continue;
            }
            let (ui, uj) = (prep.units[built.ts[i].a], prep.units[built.ts[j].a]);
            for t in lo..=hi {
                let ri = built.r_terms(i, t);
                let rj = built.r_terms(j, t);
                if ri.is_empty() || rj.is_empty() {
                    continue;
                }
                // Address of each side: a column or a constant.
                let addr = |x: usize| -> (Option<V>, f64) {
                    let tv = &built.ts[x];
                    match tv.fixed_addr {
                        Some(off) => (None, off as f64),
                        None => (Some(tv.l[t - tv.start].expect("L where resident")), 0.0),
                    }
                };
                let (li, ci) = addr(i);
                let (lj, cj) = addr(j);
                let (fi, fj) = (built.ts[i].fixed_addr, built.ts[j].fixed_addr);
                // Can i lie above j / j above i at all?
                let i_above = match (fi, fj) {
                    (Some(oi), Some(oj)) => oi >= oj + uj,
                    (Some(oi), None) => oi >= uj,
                    (None, Some(oj)) => oj + uj + ui <= m,
                    (None, None) => ui + uj <= m,
                };
                let j_above = match (fi, fj) {
                    (Some(oi), Some(oj)) => oj >= oi + ui,
                    (None, Some(oj)) => oj >= ui,
                    (Some(oi), None) => oi + ui + uj <= m,
                    (None, None) => ui + uj <= m,
                };
                if fi.is_some() && fj.is_some() && (i_above || j_above) {
                    continue;
                }
                if !i_above && !j_above {
                    let mut e = sum(&ri);
                    e += sum(&rj);
                    e += -1.0;
                    b.le0(e);
                    continue;
                }
                // Row "hi above lo": L_hi >= L_lo + u_lo - M(2 - r_i - r_j) [- M(1-z) or - M z].
                let row = |b: &mut Builder,
                           hi: (Option<V>, f64),
                           lo: (Option<V>, f64),
                           u_lo: u64,
                           z: Option<(V, bool)>| {
                    let mut e = Expression::default();
                    if let Some(v) = hi.0 {
                        e.add_mul(-1.0, v.v);
                    }
                    e += -hi.1;
                    if let Some(v) = lo.0 {
                        e.add_mul(1.0, v.v);
                    }
                    e += lo.1 + u_lo as f64;
                    e += -2.0 * mf;
                    for v in ri.iter().chain(rj.iter()) {
                        e.add_mul(mf, v.v);
                    }
                    match z {
                        Some((z, true)) => {
                            // active when z = 1
                            e += -mf;
                            e.add_mul(mf, z.v);
                        }
                        Some((z, false)) => e.add_mul(-mf, z.v),
                        None => {}
                    }
                    b.le0(e);
                };
                if !(i_above && j_above) {
                    if i_above {
                        row(&mut b, (li, ci), (lj, cj), uj, None);
                    } else {
                        row(&mut b, (lj, cj), (li, ci), ui, None);
                    }
                    continue;
                }
                let z = b.bin();
                // z = 1: i above j; z = 0: j above i.
                row(&mut b, (li, ci), (lj, cj), uj, Some((z, true)));
                row(&mut b, (lj, cj), (li, ci), ui, Some((z, false)));
                if opts.pair_residency_rows {
                    // z only where both are resident (removes free copies of z).
                    for r in [&ri, &rj] {
                        let mut e = Expression::default();
                        e.add_mul(1.0, z.v);
                        for v in r.iter() {
                            e.add_mul(-1.0, v.v);
                        }
                        b.le0(e);
                    }
                }
                built.z.insert((i, j, t), z);
            }
        }
    }

    // (L) aggregate capacity cut (the capacity constraint itself without addresses).
    if opts.capacity_cut || !addresses {
        for t in 0..n {
            let mut e = Expression::default();
            let mut any = false;
            for ti in 0..nts {
                let u = prep.units[built.ts[ti].a] as f64;
                for v in built.r_terms(ti, t) {
                    e.add_mul(u, v.v);
                    any = true;
                }
            }
            if any {
                e += -mf;
                b.le0(e);
            }
        }
    }

    // (M) mirror symmetry: reflecting every address is a bijection on plans
    // when no address is pinned by the entry state; fix the relative position
    // of the two largest tensors of the largest working set.
    if addresses && opts.mirror_symmetry && w.entry.is_empty() {
        let best = (0..n)
            .filter(|&i| prep.touched(w.ops[i]).count() >= 2)
            .max_by_key(|&i| (prep.working_set_units(w.ops[i]), std::cmp::Reverse(i)));
        if let Some(k) = best {
            let mut tt: Vec<usize> = prep.touched(w.ops[k]).collect();
            tt.sort_by_key(|&a| (std::cmp::Reverse(prep.units[a]), a));
            let (la, lb) = (
                built.local[tt[0]].expect("touched is local"),
                built.local[tt[1]].expect("touched is local"),
            );
            let (i, j) = (la.min(lb), la.max(lb));
            let ok =
                (built.ops[k].asap..=built.ops[k].alap).all(|t| built.z.contains_key(&(i, j, t)));
            if ok {
                for t in built.ops[k].asap..=built.ops[k].alap {
                    let mut e = Expression::default();
                    e.add_mul(1.0, built.ops[k].x[t - built.ops[k].asap].v);
                    e.add_mul(-1.0, built.z[&(i, j, t)].v);
                    b.le0(e);
                }
                built.mirror = Some((i, j, k));
            }
        }
    }
    if let Some(lb) = lower_bound {
        let mut e = obj.clone();
        e += built.obj_const - lb;
        b.rows.push(e.geq(0.0));
    }
    Ok((b, built, obj))
}

/// Column values of a window solution (for the HiGHS warm start), or `None`
/// if the solution is not representable in this model.
fn warm_columns(built: &Built, w: &Window, sol: &WindowSolution, ncols: usize) -> Option<Vec<f64>> {
    let prep = w.prep;
    let n = built.n;
    let mut cols = vec![0.0; ncols];
    let mut lop = std::collections::HashMap::new();
    for (i, &o) in w.ops.iter().enumerate() {
        lop.insert(o, i);
    }
    if sol.order.len() != n {
        return None;
    }
    for (t, o) in sol.order.iter().enumerate() {
        let i = *lop.get(o)?;
        cols[built.ops[i].at(t)?.c] = 1.0;
    }
    let m = built.m;
    // Offsets per local tensor per step, optionally mirrored.
    let mut res: Vec<Vec<Option<u64>>> = vec![vec![None; n]; built.ts.len()];
    for s in &sol.segments {
        let ti = built.local[s.tensor]?;
        for t in s.first..=s.last {
            res[ti][t] = Some(s.offset);
        }
    }
    if let Some((i, j, k)) = built.mirror {
        let t = sol.order.iter().position(|&o| o == w.ops[k])?;
        let (oi, oj) = (res[i][t]?, res[j][t]?);
        if oi < oj {
            if !w.entry.is_empty() {
                return None;
            }
            for (ti, row) in res.iter_mut().enumerate() {
                let u = prep.units[built.ts[ti].a];
                for off in row.iter_mut().flatten() {
                    *off = m - u - *off;
                }
            }
        }
    }
    for s in &sol.segments {
        let ti = built.local[s.tensor]?;
        let tv = &built.ts[ti];
        if s.first < tv.start || s.last > tv.end {
            return None;
        }
        for t in s.first..=s.last {
            let k = t - tv.start;
            if let Some(l) = tv.l[k] {
                cols[l.c] = res[ti][t]? as f64;
            }
            let first = t == s.first;
            match (first, s.origin) {
                (true, SegOrigin::Created) => {
                    let pi = tv.prod?;
                    if cols[built.ops[pi].at(t)?.c] != 1.0 {
                        return None;
                    }
                }
                (true, SegOrigin::Loaded) => cols[tv.ld[k]?.c] = 1.0,
                _ => cols[tv.p[k]?.c] = 1.0,
            }
        }
    }
    for &a in &sol.stored {
        let ti = built.local[a]?;
        cols[built.ts[ti].s?.c] = 1.0;
    }
    for (&(i, j, t), z) in &built.z {
        if let (Some(oi), Some(oj)) = (res[i][t], res[j][t]) {
            if oi > oj {
                cols[z.c] = 1.0;
            }
        }
    }
    Some(cols)
}

/// Integral addresses from the LP addresses: process segments by LP address
/// and put each right above the highest co-resident segment below it (a
/// longest path in the "below" relation); pinned (entry) segments keep theirs.
fn snap_addresses(
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

/// A solution read back from one model solve (addresses not yet integral).
struct RawSolution {
    order: Vec<usize>,
    segments: Vec<Segment>,
    /// LP address of each segment (0 in the size-only model).
    lp: Vec<f64>,
    stored: Vec<usize>,
    /// Objective including the look-ahead charge.
    objective_units: f64,
    /// The look-ahead part of `objective_units`.
    lookahead_units: f64,
}

/// Result of one model solve.
struct RunResult {
    status: PlanStatus,
    bound_units: Option<f64>,
    sol: Option<RawSolution>,
    stats: ModelStats,
    scale: f64,
}

/// Builds and solves one model (size-only or full) with HiGHS.
fn run_model(
    w: &Window,
    opts: &IlpOptions,
    addresses: bool,
    lower_bound: Option<f64>,
    warm: Option<&WindowSolution>,
    time_limit_s: f64,
) -> Result<RunResult, MappingError> {
    let (b, built, obj) = build(w, opts, addresses, lower_bound)?;
    let stats = ModelStats {
        binaries: b.nbin,
        continuous: b.ncols - b.nbin,
        rows: b.rows.len(),
        path: if addresses {
            SolvePath::FullModel
        } else {
            SolvePath::RelaxationGreedyPacking
        },
    };
    let warm_cols = if opts.warm_start {
        warm.and_then(|s| warm_columns(&built, w, s, b.ncols))
    } else {
        None
    };
    let mut problem = b.vars.minimise(obj).using(good_lp::solvers::highs::highs);
    for r in b.rows {
        problem.add_constraint(r);
    }
    let mut model = problem
        .try_into_inner()
        .map_err(|e| MappingError::Solver(e.to_string()))?;
    let set = |model: &mut highs::Model, k: &str, v: f64| {
        model
            .try_set_option(k, v)
            .map_err(|_| MappingError::Solver(format!("HiGHS rejected option {k}")))
    };
    set(&mut model, "time_limit", time_limit_s.max(0.0))?;
    set(&mut model, "mip_rel_gap", opts.mip_rel_gap.max(0.0))?;
    // The scaled objective takes integer values, so a gap below 1 proves optimality.
    set(&mut model, "mip_abs_gap", 1.0 - 1e-6)?;
    if let Some(cols) = &warm_cols {
        // An infeasible start is ignored by HiGHS, which is what we want.
        let _ = model.try_set_solution(Some(cols), None, None, None);
    }
    let solved = model
        .try_solve()
        .map_err(|e| MappingError::Solver(format!("{e:?}")))?;
    let has_sol = solved.primal_solution_status() == highs::HighsSolutionStatus::Feasible;
    let bound_units = solved
        .double_info_value(c"mip_dual_bound")
        .ok()
        .filter(|b| b.is_finite())
        .map(|b| ((b + built.obj_const) - 1e-6).ceil().max(0.0));
    let status = match solved.status() {
        HighsModelStatus::Optimal => PlanStatus::Optimal,
        HighsModelStatus::ReachedTimeLimit => PlanStatus::TimedOut,
        HighsModelStatus::Infeasible | HighsModelStatus::UnboundedOrInfeasible => {
            return Err(MappingError::Internal(format!(
                "HiGHS reports the window {} model infeasible",
                if addresses { "full" } else { "size-only" }
            )));
        }
        HighsModelStatus::ReachedSolutionLimit
        | HighsModelStatus::ReachedInterrupt
        | HighsModelStatus::ReachedIterationLimit
        | HighsModelStatus::ReachedMemoryLimit
        | HighsModelStatus::ObjectiveBound
        | HighsModelStatus::ObjectiveTarget => PlanStatus::Feasible,
        other => return Err(MappingError::Solver(format!("HiGHS status {other:?}"))),
    };
    let mut out = RunResult {
        status,
        bound_units,
        sol: None,
        stats,
        scale: built.obj_scale,
    };
    if !has_sol {
        return Ok(out);
    }
    let sol = solved.get_solution();
    let val = sol.columns();
    let on = |v: V| val[v.c] > 0.5;
    let objective_units = (solved.objective_value() + built.obj_const)
        .round()
        .max(0.0);

    let n = built.n;
    let mut order = Vec::with_capacity(n);
    for t in 0..n {
        let i = (0..n)
            .find(|&i| built.ops[i].at(t).is_some_and(on))
            .ok_or_else(|| MappingError::Internal(format!("ILP: no operator at step {t}")))?;
        order.push(w.ops[i]);
    }
    let mut segs = Vec::new();
    let mut lp = Vec::new();
    for (ti, tv) in built.ts.iter().enumerate() {
        let mut cur: Option<usize> = None;
        for t in tv.start..=tv.end {
            let k = t - tv.start;
            let resident = built.r_terms(ti, t).into_iter().any(on);
            if !resident {
                cur = None;
                continue;
            }
            let kept = tv.p[k].is_some_and(on);
            match cur {
                Some(si) if kept => {
                    let s: &mut Segment = &mut segs[si];
                    s.last = t;
                }
                _ => {
                    let origin = if kept && t == 0 && tv.entry.is_some() {
                        SegOrigin::Entry
                    } else if tv.prod.and_then(|pi| built.ops[pi].at(t)).is_some_and(on) {
                        SegOrigin::Created
                    } else if tv.ld[k].is_some_and(on) {
                        SegOrigin::Loaded
                    } else {
                        return Err(MappingError::Internal(format!(
                            "ILP: tensor {} resident at step {t} without a cause",
                            tv.a
                        )));
                    };
                    let l = tv.l[k]
                        .map(|v| val[v.c])
                        .or(tv.fixed_addr.map(|o| o as f64))
                        .unwrap_or(0.0);
                    segs.push(Segment {
                        tensor: tv.a,
                        first: t,
                        last: t,
                        offset: tv.entry.filter(|_| origin == SegOrigin::Entry).unwrap_or(0),
                        origin,
                    });
                    lp.push(l);
                    cur = Some(segs.len() - 1);
                }
            }
        }
    }
    let stored = built
        .ts
        .iter()
        .filter(|tv| tv.s.is_some_and(on))
        .map(|tv| tv.a)
        .collect();
    let lookahead_units = built
        .lookahead
        .iter()
        .filter(|&&(ti, _)| !built.r_terms(ti, n - 1).into_iter().any(on))
        .map(|&(_, c)| c)
        .sum::<f64>()
        .round();
    out.sol = Some(RawSolution {
        order,
        segments: segs,
        lp,
        stored,
        objective_units,
        lookahead_units,
    });
    Ok(out)
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
fn greedy_pack(segs: &mut [Segment], units: &dyn Fn(usize) -> u64, m: u64) -> bool {
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
fn packing_ilp(
    segs: &mut [Segment],
    units: &dyn Fn(usize) -> u64,
    m: u64,
    time_limit_s: f64,
) -> Result<bool, MappingError> {
    let mut b = Builder {
        vars: ProblemVariables::new(),
        ncols: 0,
        nbin: 0,
        rows: Vec::new(),
    };
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
    let mut problem = b
        .vars
        .minimise(Expression::default())
        .using(good_lp::solvers::highs::highs);
    for r in b.rows {
        problem.add_constraint(r);
    }
    let mut model = problem
        .try_into_inner()
        .map_err(|e| MappingError::Solver(e.to_string()))?;
    model
        .try_set_option("time_limit", time_limit_s.max(0.0))
        .map_err(|_| MappingError::Solver("HiGHS rejected option time_limit".into()))?;
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

/// Share of the time limit the size-only relaxation may use, so that the full
/// model keeps time when the relaxation's plan cannot be packed (a tuning
/// choice, not a measured optimum).
const SIZE_PHASE_SHARE: f64 = 0.85;

/// Solves a window: optionally the size-only relaxation first (accepted if
/// its residency plan can be packed), then the full model (with the
/// relaxation's bound as a row). Falls back to the warm start, marked
/// [`PlanStatus::TimedOut`], when the time limit leaves no incumbent.
pub(crate) fn solve_window(
    w: &Window,
    opts: &IlpOptions,
    warm: Option<&WindowSolution>,
) -> Result<WindowOutcome, MappingError> {
    let start = Instant::now();
    let prep = w.prep;
    let left = || (opts.time_limit_s - start.elapsed().as_secs_f64()).max(0.0);
    let units = |a: usize| prep.units[a];
    let m = prep.capacity_units;
    let mut lb: Option<f64> = None;
    let mut scale = prep.bytes_gcd() as f64;
    let finish = |raw: RawSolution,
                  run_status: PlanStatus,
                  bound: Option<f64>,
                  stats: ModelStats,
                  scale: f64|
     -> WindowOutcome {
        let status = match (run_status, bound) {
            (_, Some(bu)) if bu >= raw.objective_units => PlanStatus::Optimal,
            (PlanStatus::Optimal, _) => PlanStatus::Feasible,
            (s, _) => s,
        };
        WindowOutcome::Solved(WindowSolution {
            order: raw.order,
            segments: raw.segments,
            stored: raw.stored,
            status,
            objective_bytes: ((raw.objective_units - raw.lookahead_units).max(0.0) * scale) as u64,
            bound_bytes: bound.map(|b| b * scale),
            stats,
            solve_s: start.elapsed().as_secs_f64(),
        })
    };
    if opts.size_first {
        let r = run_model(w, opts, false, None, warm, SIZE_PHASE_SHARE * left())?;
        scale = r.scale;
        lb = r.bound_units;
        if let Some(mut raw) = r.sol {
            let mut stats = r.stats;
            let packed = if greedy_pack(&mut raw.segments, &units, m) {
                true
            } else if packing_ilp(&mut raw.segments, &units, m, left())? {
                stats.path = SolvePath::RelaxationPackingIlp;
                true
            } else {
                false
            };
            if packed {
                return Ok(finish(raw, r.status, lb, stats, scale));
            }
        }
    }
    let r = run_model(w, opts, true, lb, warm, left())?;
    let bound = match (lb, r.bound_units) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    };
    match r.sol {
        Some(mut raw) => {
            snap_addresses(&mut raw.segments, &raw.lp, &units, m)?;
            Ok(finish(raw, r.status, bound, r.stats, r.scale))
        }
        None => match warm {
            Some(ws) => Ok(WindowOutcome::Solved(WindowSolution {
                status: PlanStatus::TimedOut,
                bound_bytes: bound.map(|b| b * scale),
                stats: r.stats,
                solve_s: start.elapsed().as_secs_f64(),
                ..ws.clone()
            })),
            None => Ok(WindowOutcome::NoIncumbent {
                bound_bytes: bound.map(|b| b * scale),
            }),
        },
    }
}

/// Converts a whole-problem plan (single window, no entry state) to window form.
pub(crate) fn plan_to_window(plan: &Plan, prep: &Prepared) -> WindowSolution {
    let g = prep.problem.granularity_bytes;
    let mut stored: Vec<usize> = plan
        .stores
        .iter()
        .map(|s| s.tensor)
        .filter(|&a| prep.kind(a) == TensorKind::Activation)
        .collect();
    stored.sort_unstable();
    stored.dedup();
    WindowSolution {
        order: plan.order.clone(),
        segments: plan
            .residencies
            .iter()
            .map(|r| Segment {
                tensor: r.tensor,
                first: r.first_step,
                last: r.last_step,
                offset: r.offset_bytes / g,
                origin: match r.origin {
                    Origin::Created => SegOrigin::Created,
                    Origin::Loaded => SegOrigin::Loaded,
                },
            })
            .collect(),
        stored,
        status: plan.status,
        objective_bytes: plan.non_compulsory_bytes,
        bound_bytes: plan.bound_bytes,
        stats: ModelStats {
            path: SolvePath::None,
            ..ModelStats::default()
        },
        solve_s: plan.solve_s,
    }
}

/// Converts a single-window solution (no entry state) to a plan (unverified).
pub(crate) fn window_to_plan(prep: &Prepared, sol: &WindowSolution, method: &str) -> Plan {
    let g = prep.problem.granularity_bytes;
    let mut step_of = vec![0usize; prep.num_ops()];
    for (t, &o) in sol.order.iter().enumerate() {
        step_of[o] = t;
    }
    let mut stores: Vec<Store> = Vec::new();
    for a in 0..prep.num_tensors() {
        if let Some(p) = prep.producer[a] {
            if prep.kind(a) == TensorKind::Output || sol.stored.contains(&a) {
                stores.push(Store {
                    tensor: a,
                    step: step_of[p],
                });
            }
        }
    }
    let residencies = sol
        .segments
        .iter()
        .map(|s| Residency {
            tensor: s.tensor,
            first_step: s.first,
            last_step: s.last,
            offset_bytes: s.offset * g,
            origin: if s.origin == SegOrigin::Created {
                Origin::Created
            } else {
                Origin::Loaded
            },
        })
        .collect();
    let gap = sol
        .bound_bytes
        .map(|b| relative_gap(sol.objective_bytes as f64, b));
    Plan {
        method: method.into(),
        status: sol.status,
        order: sol.order.clone(),
        residencies,
        stores,
        compulsory_bytes: prep.compulsory_bytes(),
        non_compulsory_bytes: sol.objective_bytes,
        bound_bytes: sol.bound_bytes,
        gap,
        solve_s: sol.solve_s,
        model: Some(sol.stats),
        parts: Vec::new(),
    }
}

/// Best verified baseline plan for `order` (first-fit Belady, and the arena
/// planner when the order is the listed one).
fn best_baseline(prep: &Prepared, order: &[usize]) -> Option<Plan> {
    let mut sim = Sim::new(prep, order, AllocMode::FirstFit);
    let mut ok = true;
    for t in 0..order.len() {
        if sim.step(t).is_err() {
            ok = false;
            break;
        }
    }
    let mut best: Option<Plan> = None;
    if ok {
        sim.finish(order.len().saturating_sub(1));
        best = super::heuristics::heuristic_plan(
            prep,
            "default",
            order.to_vec(),
            sim.residencies,
            sim.stores,
            0.0,
        )
        .ok();
    }
    if prep.topological_order().as_deref() == Some(order) {
        if let Ok(p) = plan_arena_prepared(prep) {
            if best
                .as_ref()
                .is_none_or(|b| p.non_compulsory_bytes < b.non_compulsory_bytes)
            {
                best = Some(p);
            }
        }
    }
    best
}

/// Solves the whole problem as one ILP and returns a verified plan.
///
/// The status says whether optimality was proven ([`PlanStatus::Optimal`]),
/// the time limit was hit with an incumbent ([`PlanStatus::TimedOut`], with
/// bound and gap), or HiGHS stopped early otherwise ([`PlanStatus::Feasible`]).
/// With `warm_start` the best baseline is the initial incumbent, so a timed-out
/// plan is never worse than the baselines. Without any incumbent the result is
/// [`MappingError::NoIncumbent`].
pub fn plan_ilp(problem: &MemProblem, opts: &IlpOptions) -> Result<Plan, MappingError> {
    let prep = Prepared::new(problem)?;
    let start = Instant::now();
    let (ops, fixed) = match &opts.schedule {
        Schedule::Free => (
            prep.topological_order()
                .ok_or_else(|| MappingError::Internal("cycle after validation".into()))?,
            false,
        ),
        Schedule::Fixed(order) => {
            check_order(&prep, order)?;
            (order.clone(), true)
        }
    };
    let warm = if opts.warm_start {
        best_baseline(&prep, &ops).map(|p| plan_to_window(&p, &prep))
    } else {
        None
    };
    let nt = prep.num_tensors();
    let n_ops = ops.len();
    let w = Window {
        prep: &prep,
        ops,
        commit: n_ops,
        fixed,
        entry: Vec::new(),
        offchip: (0..nt).map(|a| !prep.kind(a).is_produced()).collect(),
        loaded_before: vec![false; nt],
        live_out: vec![false; nt],
        lookahead: false,
    };
    let method = if fixed { "ilp_fixed_order" } else { "ilp" };
    match solve_window(&w, opts, warm.as_ref())? {
        WindowOutcome::Solved(sol) => {
            let mut plan = window_to_plan(&prep, &sol, method);
            plan.solve_s = start.elapsed().as_secs_f64();
            verify(problem, &plan)?;
            if plan.non_compulsory_bytes == 0 && plan.status != PlanStatus::Optimal {
                // No plan has negative non-compulsory traffic: 0 is optimal
                // whatever stopped the solver.
                plan.status = PlanStatus::Optimal;
                plan.bound_bytes = Some(0.0);
                plan.gap = Some(0.0);
            }
            Ok(plan)
        }
        WindowOutcome::NoIncumbent { bound_bytes } => Err(MappingError::NoIncumbent {
            time_limit_s: opts.time_limit_s,
            bound_bytes,
        }),
    }
}

/// Lower bound on the non-compulsory bytes from the size-only relaxation
/// (capacity as a sum of sizes, no addresses, so no fragmentation) over the
/// whole problem with the schedule of `opts`. Returns `(bound_bytes,
/// proven_optimal_for_relaxation)`; the bound is valid even when the time
/// limit stops the relaxation early.
pub fn relaxation_bound(
    problem: &MemProblem,
    opts: &IlpOptions,
) -> Result<(f64, bool), MappingError> {
    let prep = Prepared::new(problem)?;
    let (ops, fixed) = match &opts.schedule {
        Schedule::Free => (
            prep.topological_order()
                .ok_or_else(|| MappingError::Internal("cycle after validation".into()))?,
            false,
        ),
        Schedule::Fixed(order) => {
            check_order(&prep, order)?;
            (order.clone(), true)
        }
    };
    let nt = prep.num_tensors();
    let n_ops = ops.len();
    let w = Window {
        prep: &prep,
        ops,
        commit: n_ops,
        fixed,
        entry: Vec::new(),
        offchip: (0..nt).map(|a| !prep.kind(a).is_produced()).collect(),
        loaded_before: vec![false; nt],
        live_out: vec![false; nt],
        lookahead: false,
    };
    let r = run_model(&w, opts, false, None, None, opts.time_limit_s)?;
    let optimal = r.status == PlanStatus::Optimal
        && r.sol
            .as_ref()
            .zip(r.bound_units)
            .is_some_and(|(s, b)| b >= s.objective_units);
    Ok((r.bound_units.unwrap_or(0.0) * r.scale, optimal))
}

/// Checks that `order` is a topological permutation of the operators.
pub(crate) fn check_order(prep: &Prepared, order: &[usize]) -> Result<(), MappingError> {
    let n = prep.num_ops();
    let mut pos = vec![usize::MAX; n];
    if order.len() != n {
        return Err(MappingError::invalid(
            "schedule",
            format!("fixed order has {} entries, expected {n}", order.len()),
        ));
    }
    for (t, &o) in order.iter().enumerate() {
        if o >= n || pos[o] != usize::MAX {
            return Err(MappingError::invalid(
                "schedule",
                format!("entry {t} ({o}) is out of range or repeated"),
            ));
        }
        pos[o] = t;
    }
    for o in 0..n {
        for &p in &prep.preds[o] {
            if pos[p] > pos[o] {
                return Err(MappingError::invalid(
                    "schedule",
                    format!(
                        "op {} runs before its predecessor {}",
                        prep.problem.ops[o].name, prep.problem.ops[p].name
                    ),
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::{OpSpec, TensorSpec};

    /// x -> op0 -> a ... op2 reads a; op1 creates the 3-block output l.
    /// Capacity 4 blocks.
    fn problem() -> MemProblem {
        let t = |name: &str, bytes, kind| TensorSpec {
            name: name.into(),
            bytes,
            kind,
        };
        let op = |name: &str, inputs: Vec<usize>, outputs: Vec<usize>| OpSpec {
            name: name.into(),
            inputs,
            outputs,
        };
        MemProblem {
            tensors: vec![
                t("x", 1, TensorKind::Input),
                t("a", 1, TensorKind::Activation),
                t("l", 3, TensorKind::Output),
                t("y", 1, TensorKind::Output),
            ],
            ops: vec![
                op("op0", vec![0], vec![1]),
                op("op1", vec![], vec![2]),
                op("op2", vec![1], vec![3]),
            ],
            capacity_bytes: 4,
            granularity_bytes: 1,
        }
    }

    /// A window holding only op1, entered with `a` pinned at block 1. By size,
    /// a (1) and l (3) fit together, but l needs 3 contiguous blocks, which
    /// only exist if a leaves: a must be written back (1 byte, it is read
    /// after the window). The size relaxation says 0; its plan cannot be
    /// packed, so the full model must run and prove 1.
    #[test]
    fn fragmentation_forces_full_model() {
        let p = problem();
        let prep = Prepared::new(&p).unwrap();
        let w = Window {
            prep: &prep,
            ops: vec![1],
            commit: 1,
            fixed: false,
            entry: vec![(1, 1)],
            offchip: vec![true, false, false, false],
            loaded_before: vec![true, false, false, false],
            live_out: vec![false, true, false, false],
            lookahead: false,
        };
        let opts = IlpOptions::default();
        let WindowOutcome::Solved(sol) = solve_window(&w, &opts, None).unwrap() else {
            panic!("no solution");
        };
        assert_eq!(sol.objective_bytes, 1);
        assert_eq!(sol.status, PlanStatus::Optimal);
        assert_eq!(sol.stats.path, SolvePath::FullModel);
        assert_eq!(sol.stored, vec![1]);
        // l sits in 3 contiguous blocks.
        let l = sol.segments.iter().find(|s| s.tensor == 2).unwrap();
        assert!(l.offset <= 1);
        // Same entry offset at block 0 leaves blocks 1..4 free: no cost, and
        // the relaxation's plan packs.
        let w0 = Window {
            entry: vec![(1, 0)],
            ..w
        };
        let WindowOutcome::Solved(sol) = solve_window(&w0, &opts, None).unwrap() else {
            panic!("no solution");
        };
        assert_eq!(sol.objective_bytes, 0);
        assert_eq!(sol.stats.path, SolvePath::RelaxationGreedyPacking);
    }

    #[test]
    fn greedy_pack_respects_pins_and_time_overlap() {
        let seg = |tensor, first, last, offset, origin| Segment {
            tensor,
            first,
            last,
            offset,
            origin,
        };
        let units = |a: usize| [1u64, 2, 2][a];
        // Pinned 1-block tensor at block 1 during steps 0..=1; a 2-block
        // tensor at step 0 and another at steps 1..=2. With 4 blocks the only
        // 2-block hole beside the pin is [2, 4), so both go to block 2.
        let mut segs = vec![
            seg(0, 0, 1, 1, SegOrigin::Entry),
            seg(1, 0, 0, 0, SegOrigin::Created),
            seg(2, 1, 2, 0, SegOrigin::Created),
        ];
        assert!(greedy_pack(&mut segs, &units, 4));
        assert_eq!(segs[0].offset, 1);
        assert_eq!(segs[1].offset, 2);
        assert_eq!(segs[2].offset, 2);
        // With capacity 3 no 2-block hole exists beside the pin.
        assert!(!greedy_pack(&mut segs, &units, 3));
        assert!(!packing_ilp(&mut segs, &units, 3, 10.0).unwrap());
    }
}
