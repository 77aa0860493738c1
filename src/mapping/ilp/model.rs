//! The window model: its columns (operator steps, tensor residency, addresses
//! and pair orderings) and one function per constraint family, (A) to (M) of
//! the formulation in the module documentation of [`crate::mapping`].
//!
//! Columns and rows are created in a fixed order, so that a window always
//! gives HiGHS the same model.

use good_lp::{Constraint, Expression, ProblemVariables, Variable, variable};

use super::super::MappingError;
use super::super::problem::TensorKind;
use super::{IlpOptions, Window};

/// A model column: the good_lp variable and its column index in HiGHS.
#[derive(Debug, Clone, Copy)]
pub(super) struct V {
    pub(super) v: Variable,
    pub(super) c: usize,
}

/// Columns and rows of a model under construction, in creation order.
pub(super) struct Builder {
    pub(super) vars: ProblemVariables,
    pub(super) ncols: usize,
    pub(super) nbin: usize,
    pub(super) rows: Vec<Constraint>,
}

impl Builder {
    /// An empty model.
    pub(super) fn new() -> Builder {
        Builder {
            vars: ProblemVariables::new(),
            ncols: 0,
            nbin: 0,
            rows: Vec::new(),
        }
    }
    /// Adds a binary column.
    pub(super) fn bin(&mut self) -> V {
        let v = self.vars.add(variable().binary());
        self.ncols += 1;
        self.nbin += 1;
        V {
            v,
            c: self.ncols - 1,
        }
    }
    /// Adds a continuous column in `[lo, hi]`.
    pub(super) fn cont(&mut self, lo: f64, hi: f64) -> V {
        let v = self.vars.add(variable().min(lo).max(hi));
        self.ncols += 1;
        V {
            v,
            c: self.ncols - 1,
        }
    }
    /// Adds `expr <= 0`.
    pub(super) fn le0(&mut self, expr: Expression) {
        self.rows.push(expr.leq(0.0));
    }
    /// Adds `expr == 0`.
    pub(super) fn eq0(&mut self, expr: Expression) {
        self.rows.push(expr.eq(0.0));
    }
}

/// The sum of the columns `vs`.
pub(super) fn sum(vs: &[V]) -> Expression {
    let mut e = Expression::with_capacity(vs.len());
    for v in vs {
        e.add_mul(1.0, v.v);
    }
    e
}

/// The step binaries `x[i, t]` of one operator, for `t` in `asap..=alap`.
pub(super) struct OpVars {
    pub(super) asap: usize,
    pub(super) alap: usize,
    pub(super) x: Vec<V>,
}

impl OpVars {
    /// The binary of step `t`, if the operator may run then.
    pub(super) fn at(&self, t: usize) -> Option<V> {
        (self.asap <= t && t <= self.alap).then(|| self.x[t - self.asap])
    }
}

/// The columns of one local tensor over its window steps `start..=end`:
/// preserve `p`, load `ld`, address `L` per step, and its store `s`.
pub(super) struct TVars {
    pub(super) a: usize,
    pub(super) start: usize,
    pub(super) end: usize,
    pub(super) prod: Option<usize>,
    pub(super) cons: Vec<usize>,
    pub(super) entry: Option<u64>,
    pub(super) p: Vec<Option<V>>,
    pub(super) ld: Vec<Option<V>>,
    pub(super) l: Vec<Option<V>>,
    pub(super) s: Option<V>,
    /// Constant address (units) of an entry tensor that cannot be reloaded in
    /// the window: whenever resident it is still in its entry segment.
    pub(super) fixed_addr: Option<u64>,
}

impl TVars {
    /// Whether step `t` lies in the tensor's window.
    pub(super) fn in_win(&self, t: usize) -> bool {
        self.start <= t && t <= self.end
    }
}

/// Everything needed to read a solution back.
pub(super) struct Built {
    pub(super) n: usize,
    pub(super) ops: Vec<OpVars>,
    pub(super) ts: Vec<TVars>,
    /// Tensor index -> local tensor index.
    pub(super) local: Vec<Option<usize>>,
    /// Pair ordering binaries: (i, j, t) -> z (i above j), i < j.
    pub(super) z: std::collections::HashMap<(usize, usize, usize), V>,
    /// Mirror fix: local tensors (i above j) at op `k`'s step.
    pub(super) mirror: Option<(usize, usize, usize)>,
    pub(super) obj_scale: f64,
    pub(super) obj_const: f64,
    /// Look-ahead terms: (local tensor, cost units) charged when the tensor is
    /// not resident at the window's last step.
    pub(super) lookahead: Vec<(usize, f64)>,
    pub(super) m: u64,
}

impl Built {
    /// The binaries whose sum says whether local tensor `ti` is resident at step `t`.
    pub(super) fn r_terms(&self, ti: usize, t: usize) -> Vec<V> {
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
///
/// Columns and rows are created in a fixed order (operator steps, tensor
/// steps, then the pair binaries of (K)), so the same window always gives
/// HiGHS the same model.
pub(super) fn build(
    w: &Window,
    opts: &IlpOptions,
    addresses: bool,
    lower_bound: Option<f64>,
) -> Result<(Builder, Built, Expression), MappingError> {
    let prep = w.prep;
    let n = w.ops.len();
    let (lop, lpreds) = local_precedence(w)?;
    let mut b = Builder::new();
    let ops = op_vars(&mut b, w, &lpreds);
    let ts = local_tensors(w, &lop, &ops)?;
    let mut local_of = vec![None; prep.num_tensors()];
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
        m: prep.capacity_units,
    };
    tensor_vars(&mut b, &mut built, w, addresses);
    let obj = objective(&mut built, w);
    assignment_rows(&mut b, &built);
    if !w.fixed {
        precedence_rows(&mut b, &built, &lpreds);
    }
    for ti in 0..built.ts.len() {
        residency_rows(&mut b, &built, w, ti, addresses)?;
    }
    if addresses {
        overlap_rows(&mut b, &mut built, w, opts);
    }
    if opts.capacity_cut || !addresses {
        capacity_rows(&mut b, &built, w);
    }
    if addresses && opts.mirror_symmetry && w.entry.is_empty() {
        mirror_rows(&mut b, &mut built, w);
    }
    if let Some(lb) = lower_bound {
        let mut e = obj.clone();
        e += built.obj_const - lb;
        b.rows.push(e.geq(0.0));
    }
    Ok((b, built, obj))
}

/// The local index of each operator of the problem (`usize::MAX` outside the
/// window) and the local predecessors of each window operator; fails unless
/// the window's reference order is topological.
fn local_precedence(w: &Window) -> Result<(Vec<usize>, Vec<Vec<usize>>), MappingError> {
    let prep = w.prep;
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
    Ok((lop, lpreds))
}

/// The step binaries of every operator, over the steps its ancestors and
/// descendants (and the committed prefix) leave it.
fn op_vars(b: &mut Builder, w: &Window, lpreds: &[Vec<usize>]) -> Vec<OpVars> {
    let n = w.ops.len();
    let anc = ancestors(n, lpreds);
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
    (0..n)
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
        .collect()
}

/// The tensors the window touches (or keeps live from its entry state), each
/// with the steps it may be resident in; no columns yet.
fn local_tensors(w: &Window, lop: &[usize], ops: &[OpVars]) -> Result<Vec<TVars>, MappingError> {
    let prep = w.prep;
    let n = w.ops.len();
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
    Ok(ts)
}

/// Per-tensor step columns, tensor by tensor: preserve and load binaries step
/// by step, then the addresses (full model only), then the store binary.
fn tensor_vars(b: &mut Builder, built: &mut Built, w: &Window, addresses: bool) {
    let prep = w.prep;
    let m = built.m;
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
}

/// The objective (scaled by the gcd of tensor sizes); sets its constant and,
/// with look-ahead, the reload charge of live-out tensors.
fn objective(built: &mut Built, w: &Window) -> Expression {
    let prep = w.prep;
    let n = built.n;
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
    obj
}

/// (A) every operator once, (B) one operator per step.
fn assignment_rows(b: &mut Builder, built: &Built) {
    for ov in &built.ops {
        let mut e = sum(&ov.x);
        e += -1.0;
        b.eq0(e);
    }
    for t in 0..built.n {
        let xs: Vec<V> = built.ops.iter().filter_map(|ov| ov.at(t)).collect();
        let mut e = sum(&xs);
        e += -1.0;
        b.eq0(e);
    }
}

/// (C) time-indexed precedence: sum_{t'<=t} x[c,t'] <= sum_{t'<t} x[p,t'].
fn precedence_rows(b: &mut Builder, built: &Built, lpreds: &[Vec<usize>]) {
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

/// The residency rows of local tensor `ti`: per step (D), (E), (J), (G) and
/// (H), then (F) per consumer step, then (I).
fn residency_rows(
    b: &mut Builder,
    built: &Built,
    w: &Window,
    ti: usize,
    addresses: bool,
) -> Result<(), MappingError> {
    let prep = w.prep;
    let (start, end) = (built.ts[ti].start, built.ts[ti].end);
    let a = built.ts[ti].a;
    for t in start..=end {
        let r = built.r_terms(ti, t);
        // (D) at most one way of being resident.
        if r.len() >= 2 {
            let mut e = sum(&r);
            e += -1.0;
            b.le0(e);
        }
        preserve_rows(b, built, w, ti, t, addresses);
        load_rows(b, built, w, ti, t)?;
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
        let mut e = sum(&built.r_terms(ti, built.n - 1));
        if let Some(s) = tv.s {
            e.add_mul(1.0, s.v);
        }
        b.rows.push(e.geq(1.0));
    }
    Ok(())
}

/// (E) preserve only if resident before; (J) preserve keeps the address
/// (full model, tensors whose address is not fixed).
fn preserve_rows(b: &mut Builder, built: &Built, w: &Window, ti: usize, t: usize, addresses: bool) {
    let tv = &built.ts[ti];
    let start = tv.start;
    let k = t - start;
    let big = (built.m - w.prep.units[tv.a]) as f64;
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
}

/// (G) load only at a step where a consumer runs; (H) load of an activation
/// without off-chip copy needs its write-back.
fn load_rows(
    b: &mut Builder,
    built: &Built,
    w: &Window,
    ti: usize,
    t: usize,
) -> Result<(), MappingError> {
    let tv = &built.ts[ti];
    let a = tv.a;
    let Some(ld) = tv.ld[t - tv.start] else {
        return Ok(());
    };
    let mut e = Expression::default();
    e.add_mul(1.0, ld.v);
    for &c in &tv.cons {
        if let Some(x) = built.ops[c].at(t) {
            e.add_mul(-1.0, x.v);
        }
    }
    b.le0(e);
    if w.prep.kind(a) == TensorKind::Activation && !w.offchip[a] {
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
    Ok(())
}

/// (K) pairwise non-overlap where both tensors can be resident (full model
/// only): for each pair of local tensors and each step both may be resident.
fn overlap_rows(b: &mut Builder, built: &mut Built, w: &Window, opts: &IlpOptions) {
    let nts = built.ts.len();
    for i in 0..nts {
        for j in (i + 1)..nts {
            let lo = built.ts[i].start.max(built.ts[j].start);
            let hi = built.ts[i].end.min(built.ts[j].end);
            if lo > hi {
                continue;
            }
            for t in lo..=hi {
                if let Some(z) = pair_rows(b, built, w, opts, (i, j), t) {
                    built.z.insert((i, j, t), z);
                }
            }
        }
    }
}

/// The (K) rows of local tensors `i < j` at step `t`; returns the ordering
/// binary when both orders are possible.
fn pair_rows(
    b: &mut Builder,
    built: &Built,
    w: &Window,
    opts: &IlpOptions,
    (i, j): (usize, usize),
    t: usize,
) -> Option<V> {
    let m = built.m;
    let mf = m as f64;
    let (ui, uj) = (w.prep.units[built.ts[i].a], w.prep.units[built.ts[j].a]);
    let ri = built.r_terms(i, t);
    let rj = built.r_terms(j, t);
    if ri.is_empty() || rj.is_empty() {
        return None;
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
        return None;
    }
    if !i_above && !j_above {
        let mut e = sum(&ri);
        e += sum(&rj);
        e += -1.0;
        b.le0(e);
        return None;
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
            row(b, (li, ci), (lj, cj), uj, None);
        } else {
            row(b, (lj, cj), (li, ci), ui, None);
        }
        return None;
    }
    let z = b.bin();
    // z = 1: i above j; z = 0: j above i.
    row(b, (li, ci), (lj, cj), uj, Some((z, true)));
    row(b, (lj, cj), (li, ci), ui, Some((z, false)));
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
    Some(z)
}

/// (L) aggregate capacity cut (the capacity constraint itself without addresses).
fn capacity_rows(b: &mut Builder, built: &Built, w: &Window) {
    let mf = built.m as f64;
    for t in 0..built.n {
        let mut e = Expression::default();
        let mut any = false;
        for ti in 0..built.ts.len() {
            let u = w.prep.units[built.ts[ti].a] as f64;
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

/// (M) mirror symmetry: reflecting every address is a bijection on plans
/// when no address is pinned by the entry state; fix the relative position
/// of the two largest tensors of the largest working set.
fn mirror_rows(b: &mut Builder, built: &mut Built, w: &Window) {
    let prep = w.prep;
    let best = (0..built.n)
        .filter(|&i| prep.touched(w.ops[i]).count() >= 2)
        .max_by_key(|&i| (prep.working_set_units(w.ops[i]), std::cmp::Reverse(i)));
    let Some(k) = best else {
        return;
    };
    let mut tt: Vec<usize> = prep.touched(w.ops[k]).collect();
    tt.sort_by_key(|&a| (std::cmp::Reverse(prep.units[a]), a));
    let (la, lb) = (
        built.local[tt[0]].expect("touched is local"),
        built.local[tt[1]].expect("touched is local"),
    );
    let (i, j) = (la.min(lb), la.max(lb));
    let ok = (built.ops[k].asap..=built.ops[k].alap).all(|t| built.z.contains_key(&(i, j, t)));
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
