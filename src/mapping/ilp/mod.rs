//! The COSMA-style ILP (see the module documentation of [`super`] for the
//! formulation): model construction with good_lp, solution by HiGHS with a
//! time limit, status/bound/gap read from HiGHS itself, warm start from a
//! heuristic plan, extraction of a plan with integral addresses.
//!
//! The model is stated over a *window*: a set of operators (all of them for
//! [`plan_ilp`], a slice of the order for divide and conquer) plus a boundary
//! state (tensors resident at entry with fixed offsets, which tensors have an
//! off-chip copy, which are needed after the window).
//!
//! This module holds the options, the window types and the solve strategy
//! (size-only relaxation first, then the full model); `model` builds the
//! window model, one function per constraint family; `run` solves one model
//! with HiGHS and reads it back; `packing` gives a residency plan fixed in
//! time its addresses.

use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::heuristics::{AllocMode, Sim, plan_arena_prepared};
use super::plan::{
    ModelStats, Origin, Plan, PlanStatus, Residency, SolvePath, Store, relative_gap,
};
use super::problem::{MemProblem, Prepared, TensorKind};
use super::{MappingError, verify};

mod model;
mod packing;
mod run;

use packing::{greedy_pack, packing_ilp, snap_addresses};
use run::{RawSolution, run_model};

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

impl<'p, 'a> Window<'p, 'a> {
    /// The whole problem as one window, in the order `opts.schedule` gives (a topological
    /// order when free): nothing resident at entry, every input and weight off chip.
    fn whole(prep: &'p Prepared<'a>, opts: &IlpOptions) -> Result<Self, MappingError> {
        let (ops, fixed) = match &opts.schedule {
            Schedule::Free => (
                prep.topological_order()
                    .ok_or_else(|| MappingError::Internal("cycle after validation".into()))?,
                false,
            ),
            Schedule::Fixed(order) => {
                check_order(prep, order)?;
                (order.clone(), true)
            }
        };
        let nt = prep.num_tensors();
        Ok(Window {
            prep,
            commit: ops.len(),
            ops,
            fixed,
            entry: Vec::new(),
            offchip: (0..nt).map(|a| !prep.kind(a).is_produced()).collect(),
            loaded_before: vec![false; nt],
            live_out: vec![false; nt],
            lookahead: false,
        })
    }
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
    let w = Window::whole(&prep, opts)?;
    let warm = if opts.warm_start {
        best_baseline(&prep, &w.ops).map(|p| plan_to_window(&p, &prep))
    } else {
        None
    };
    let method = if w.fixed { "ilp_fixed_order" } else { "ilp" };
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
    let w = Window::whole(&prep, opts)?;
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
        let t = TensorSpec::new;
        let op = OpSpec::new;
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
