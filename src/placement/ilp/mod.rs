//! The placement MIP of one window (the whole graph, or one segment with its boundary pinned),
//! built with good_lp and solved by HiGHS with a time limit; status, dual bound and gap are read
//! from HiGHS itself, a heuristic schedule is handed over as the initial incumbent, and the
//! answer is re-timed exactly by [`retime`] before anyone sees it. The formulation is documented
//! in the module docs of [`super`].
//!
//! This module solves the model and reads the schedule back; `model` builds it, one function
//! per constraint family, and `graph` holds the dependency structure it is built on.

use super::PlaceError;
use super::problem::Instance;
use super::schedule::{Schedule, Status, retime};
use crate::util::lp::highs_model;
use highs::HighsModelStatus;
use std::time::Instant;

mod graph;
mod model;

pub(crate) use graph::count_binaries;
use graph::order_by_start;
use model::X;

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

/// Builds and solves the MIP of `req.inst` as one window.
pub(crate) fn solve(req: &IlpRequest) -> Result<IlpResult, PlaceError> {
    let t0 = Instant::now();
    let inst = req.inst;
    let feas: Vec<Vec<usize>> = inst.ops.iter().map(|o| o.feasible()).collect();
    let hz = model::horizon(req, &feas);
    let built = model::build(req, &feas, &hz)?;
    let os = hz.os;
    let obj_const = built.obj_const;
    let binaries = built.binaries;
    let nrows = built.rows.len();
    let options = [
        ("time_limit", req.time_limit_s.max(0.0)),
        ("mip_rel_gap", req.mip_rel_gap.max(0.0)),
    ];
    let mut model = highs_model(
        built.vars,
        built.obj,
        built.rows,
        &options,
        PlaceError::Solver,
    )?;
    if let Some(cv) = &built.warm_cols {
        debug_assert_eq!(cv.len(), built.ncols);
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
        Some(read_schedule(inst, &built.x, built.s_base, sol.columns())?)
    } else if let (true, Some(w)) = (hz.warm_ok, req.warm) {
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

/// The schedule of a solution: each op on its unit of largest assignment value, in the order
/// of the start times (columns `s_base..`), re-timed exactly.
fn read_schedule(
    inst: &Instance,
    x: &[Vec<(usize, X)>],
    s_base: usize,
    val: &[f64],
) -> Result<Schedule, PlaceError> {
    let n = inst.ops.len();
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
    retime(inst, &unit_of, &order, &vec![0; n])
}
