//! Solving one window model with HiGHS: the warm start handed to it, the
//! options, the status, bound and gap read back from it, and the residency
//! segments read from its columns.

use crate::util::lp::highs_model;
use highs::HighsModelStatus;

use super::super::MappingError;
use super::super::plan::{ModelStats, PlanStatus, SolvePath};
use super::model::{Built, V, build};
use super::{IlpOptions, SegOrigin, Segment, Window, WindowSolution};

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

/// A solution read back from one model solve (addresses not yet integral).
pub(super) struct RawSolution {
    pub(super) order: Vec<usize>,
    pub(super) segments: Vec<Segment>,
    /// LP address of each segment (0 in the size-only model).
    pub(super) lp: Vec<f64>,
    pub(super) stored: Vec<usize>,
    /// Objective including the look-ahead charge.
    pub(super) objective_units: f64,
    /// The look-ahead part of `objective_units`.
    pub(super) lookahead_units: f64,
}

/// Result of one model solve.
pub(super) struct RunResult {
    pub(super) status: PlanStatus,
    pub(super) bound_units: Option<f64>,
    pub(super) sol: Option<RawSolution>,
    pub(super) stats: ModelStats,
    pub(super) scale: f64,
}

/// Builds and solves one model (size-only or full) with HiGHS.
pub(super) fn run_model(
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
    // The scaled objective takes integer values, so an absolute gap below 1 proves optimality.
    let options = [
        ("time_limit", time_limit_s.max(0.0)),
        ("mip_rel_gap", opts.mip_rel_gap.max(0.0)),
        ("mip_abs_gap", 1.0 - 1e-6),
    ];
    let mut model = highs_model(b.vars, obj, b.rows, &options, MappingError::Solver)?;
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
    let objective_units = (solved.objective_value() + built.obj_const)
        .round()
        .max(0.0);
    out.sol = Some(read_solution(&built, w, sol.columns(), objective_units)?);
    Ok(out)
}

/// Reads the order, the residency segments (with their LP addresses) and the
/// stores from the column values `val` of a solved model.
fn read_solution(
    built: &Built,
    w: &Window,
    val: &[f64],
    objective_units: f64,
) -> Result<RawSolution, MappingError> {
    let on = |v: V| val[v.c] > 0.5;
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
    Ok(RawSolution {
        order,
        segments: segs,
        lp,
        stored,
        objective_units,
        lookahead_units,
    })
}
