//! Placement of a workload's operators on the heterogeneous units of one device (CPU clusters,
//! GPU, NPU, PIM) by mixed-integer programming, with HEFT and single-unit baselines and an
//! independent verifier.
//!
//! # The instance ([`Instance`])
//!
//! * **Op costs.** Every op is priced on every unit by that unit's own cost model
//!   ([`crate::cost_models::model_for`]), for what the unit runs itself
//!   ([`crate::cost::CostModel::own_cost`]: a PIM unit by what its banks run, since its host is
//!   a unit of its own here), with the default residency for that unit. An
//!   [`crate::cost::Infeasible`] answer means the op may not go there (dtype, kind, reach). The
//!   duration is the ledger's latency (kernel overhead included); the energy is its dynamic part
//!   (compute + memory). Static energy is `static W × makespan`, charged once, because units run
//!   concurrently.
//! * **Transfers.** When a producer and a consumer sit on different units `u ≠ v`, the bytes
//!   the producer wrote (the whole activation; only the new rows of a KV append) cross the
//!   innermost memory level both units reach: `bytes / peak bandwidth` seconds plus an optional
//!   per-unit handoff time, and `bytes × pJ/byte`. Units that share no level cannot exchange data
//!   (the pair is forbidden). Transfers use no unit (a DMA/cache-coherent copy), as in HEFT.
//! * **Bandwidth floors.** Units on one SoC share their memory. For every level reached by two
//!   or more units, a window of the schedule lasts at least `Σ bytes its ops move through the
//!   level / the level's shared bandwidth`, the peak times the best `bandwidth_efficiency` of the
//!   units sharing it (the bare peak in ideal mode); so concurrency cannot create bandwidth that
//!   is not there, including the gap between one unit's achievable streaming rate and the peak
//!   (a necessary condition, not a contention model; transfers are not counted in it).
//!
//! # Schedule semantics (what the verifier checks)
//!
//! Units run concurrently, each one op at a time (no preemption); an op starts after each
//! producer has finished and its data has been moved. The schedule is a list of windows run
//! back to back; a window ends when its last op ends, but not before its bandwidth floor. The
//! heuristics and the monolithic MIP use one window for the whole graph. The segment
//! decomposition uses one window per block (the **barrier model**: a block starts when the
//! previous one has ended, and data from an earlier block moves after that barrier).
//!
//! # The MIP of one window (disjunctive, continuous time)
//!
//! Variables: `x[i,u]` binary (op `i` on unit `u`, only where allowed; ops with one choice are
//! constants), `S[i] ≥ 0` start times, `C` the makespan, `T[e] ≥ 0` and `Eₜ[e] ≥ 0` the transfer
//! time and energy of edge `e`, `o[i,j]` binary order of a pair.
//!
//! * `Σ_u x[i,u] = 1`; `D[i] = Σ_u p[i,u]·x[i,u]` is the duration.
//! * Transfers: for every producer unit `u`, `T[e] ≥ Σ_v τ_e(u,v)·x[c,v] − M_u·(1 − x[p,u])` with
//!   `M_u = max_v τ_e(u,v)` (exact at integral points, no product variables); likewise `Eₜ[e]`;
//!   `x[p,u] + x[c,v] ≤ 1` for pairs with no shared memory.
//! * Precedence for every edge `p → c`: `S[c] ≥ S[p] + D[p] + T[e]`.
//! * Unit exclusivity, **disjunctive big-M**: only pairs `i, j` with no path between them (pairs
//!   on a path are already ordered) that may share a unit get an order binary; for each common
//!   unit `u`: `S[j] ≥ S[i] + p[i,u] − M·(3 − o − x[i,u] − x[j,u])` and
//!   `S[i] ≥ S[j] + p[j,u] − M·(2 + o − x[i,u] − x[j,u])`, with `M` the horizon plus the duration.
//! * `C ≥ S[i] + D[i]`; valid inequalities the big-M relaxation lacks: `C ≥ Σ_i p[i,u]·x[i,u]`
//!   per unit (its load) and `C ≥ Σ bytes/bandwidth` per shared level (the floor, a constraint).
//! * Objective: makespan `C`, energy `Σ e[i,u]·x[i,u] + Σ Eₜ + static·C`, or energy plus a price
//!   in J per second of makespan. Budgets: `C ≤ latency budget`; `E ≤ power budget · C`, where
//!   `C` may exceed the last finish: the schedule then holds idle until its average power meets
//!   the budget ([`Budget`]; the reported schedule carries that hold).
//!
//! Why disjunctive rather than time-indexed: durations range from microseconds to milliseconds
//! on different units, so a time grid either misprices short ops or needs thousands of slots per
//! op; and layer-sized blocks have few independent pairs (q/k/v, gate/up, the KV append), so the
//! order binaries are few. Its weak LP relaxation is repaired by the unit-load and floor rows and
//! a horizon taken from the heuristic incumbent for makespan (`M` = HEFT's makespan when it is the
//! best known). Times are scaled to the horizon (about 10³ units) so the big-M is small against
//! HiGHS's tolerances. The solver's schedule is re-timed exactly ([`schedule::retime`]: same
//! placement, same order per unit, earliest starts) before it is reported and verified.
//!
//! # Decomposition: one block per layer, replicated exactly ([`Decompose`])
//!
//! An LLM repeats the same layer many times. Ops are grouped into segments by their `layer` tag
//! (the ops before the first layer, each layer, the ops after the last). Under the barrier model
//! the objective is a sum over blocks (each block's makespan, its dynamic and transfer energy,
//! static power × its length), and a block interacts with the previous one only through the
//! units of the ops whose outputs cross the boundary (for a transformer layer, the one residual
//! add). So: for every placement of the entry producers (pinned zero-cost copies at time 0) and
//! of the exit ops, solve the block's MIP (identical layers give identical models and are solved
//! once); then a dynamic program over the chain picks the best sequence of boundary placements.
//! This is **exact for the barrier model** (every block MIP solved to optimality makes the
//! assembled schedule optimal among schedules whose blocks do not overlap); it loses only overlap
//! across layers (e.g. a prefill KV append running beside the next layer), which the monolithic
//! model and HEFT may use. With 5 units and one boundary op a layer needs 25 small models of
//! about 80 binaries, not one model with thousands. Budgets on the whole schedule are not
//! separable; they go through a Lagrangian search on the block objective (price on latency or
//! energy), which yields feasible schedules and a valid Lagrangian lower bound.

#![warn(missing_docs)]
mod decompose;
mod heuristics;
mod ilp;
mod problem;
mod schedule;
mod verify;

pub use heuristics::{heft, min_energy, single_unit};
pub use problem::{
    BuildOptions, Edge, Floor, Instance, Link, OpCost, PlaceOp, PlaceUnit, RuntimeChoice,
    segments_of,
};
pub use schedule::{
    Budget, Objective, PlacedOp, Placement, Schedule, SolveStats, Status, Totals, Window, hold_for,
    retime, to_placement, totals, with_hold,
};
pub use verify::{PlacementVerifyError, REL_TOL, verify};

use crate::hardware::{Hardware, HardwareError};
use crate::workload::Graph;
use serde::Serialize;
use std::time::{Duration, Instant};

/// Errors of placement.
#[derive(Debug, thiserror::Error)]
pub enum PlaceError {
    /// A unit name that the device does not have.
    #[error(transparent)]
    Hardware(#[from] HardwareError),
    /// A unit's cost model could not be built.
    #[error(transparent)]
    Model(#[from] crate::cost::SelectError),
    /// The workload cannot be built as asked (a batch, prompt or context out of range).
    #[error(transparent)]
    Workload(#[from] crate::workload::ModelError),
    /// No unit can run an op.
    #[error("no unit can run op `{op}`: {reasons}")]
    NoUnit {
        /// Op.
        op: String,
        /// Why each unit refused.
        reasons: String,
    },
    /// Two units must exchange data but share no memory level.
    #[error("units `{from}` and `{to}` share no memory level, so data cannot move between them")]
    NoLink {
        /// Producer unit.
        from: String,
        /// Consumer unit.
        to: String,
    },
    /// Options that make no sense.
    #[error("placement options: {0}")]
    Options(String),
    /// The runtime asked for cannot be read.
    #[error(transparent)]
    Runtime(#[from] crate::runtime::RuntimeError),
    /// The runtime asked for does not run the quantization asked for.
    #[error("--runtime {runtime} --quant {scheme}: {reason}")]
    Format {
        /// The runtime's name.
        runtime: String,
        /// The scheme.
        scheme: String,
        /// Why it does not run it.
        reason: String,
    },
    /// The model is larger than allowed.
    #[error(
        "the placement model would have {binaries} binaries (limit {max}); use the segment decomposition or raise the limit"
    )]
    TooLarge {
        /// Binaries needed.
        binaries: usize,
        /// Limit.
        max: usize,
    },
    /// A budget cannot be met.
    #[error("no placement meets the budget: {0}")]
    Budget(String),
    /// HiGHS failed.
    #[error("solver error: {0}")]
    Solver(String),
    /// The time limit passed before any solution was found.
    #[error("no solution within the {time_limit_s} s time limit")]
    NoIncumbent {
        /// The limit.
        time_limit_s: f64,
    },
    /// A heuristic could not place the graph.
    #[error("{method}: {why}")]
    Heuristic {
        /// Which heuristic.
        method: String,
        /// Why.
        why: String,
    },
    /// A placement failed the independent check (a bug; reported, never hidden).
    #[error("placement failed verification: {0}")]
    Verification(#[from] PlacementVerifyError),
    /// The Gantt chart could not be drawn.
    #[error("gantt chart: {0}")]
    Render(String),
    /// An internal consistency check failed.
    #[error("internal error: {0}")]
    Internal(String),
}

/// How to solve.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Decompose {
    /// Segments when the graph has more than one, else monolithic.
    Auto,
    /// One block per segment (barrier model), dynamic program over the chain.
    Segments,
    /// One model for the whole graph (no barriers); refused above `max_binaries`.
    Monolithic,
}

/// Solver limits, budgets and instance options.
#[derive(Clone, Debug, PartialEq)]
pub struct Limits {
    /// Wall-clock budget for all MIP solves together, seconds.
    pub time_limit_s: f64,
    /// Smallest time limit given to one block model, seconds.
    pub min_model_time_s: f64,
    /// Relative MIP gap at which HiGHS may stop (optimality is proven up to this).
    pub mip_rel_gap: f64,
    /// Makespan budget, seconds.
    pub latency_budget_s: Option<f64>,
    /// Average power budget (energy / makespan), watts.
    pub power_budget_w: Option<f64>,
    /// Decomposition.
    pub decompose: Decompose,
    /// Largest number of binaries one model may have.
    pub max_binaries: usize,
    /// Largest number of distinct block models the decomposition may solve before it pins the
    /// boundary ops to their fastest units.
    pub max_models: usize,
    /// In the decomposition, return HEFT's or the least-energy schedule instead when it beats
    /// the barrier-model ILP (with a note); off to see the ILP's own answer.
    pub keep_better_heuristic: bool,
    /// How the instance is built.
    pub build: BuildOptions,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            time_limit_s: 60.0,
            min_model_time_s: 0.2,
            mip_rel_gap: 1e-6,
            latency_budget_s: None,
            power_budget_w: None,
            decompose: Decompose::Auto,
            max_binaries: 4000,
            max_models: 200,
            keep_better_heuristic: true,
            build: BuildOptions::default(),
        }
    }
}

/// The baselines of an instance, each verified.
#[derive(Clone, Debug)]
pub struct Baselines {
    /// All ops on one unit, for every unit that can run them all.
    pub single: Vec<Placement>,
    /// HEFT.
    pub heft: Placement,
    /// Every op on its least-energy unit.
    pub min_energy: Option<Placement>,
}

impl Baselines {
    /// The best single-unit placement under the objective.
    pub fn best_single(&self) -> Option<&Placement> {
        self.single
            .iter()
            .min_by(|a, b| a.totals.objective.total_cmp(&b.totals.objective))
    }
}

fn heuristic_placement(
    inst: &Instance,
    s: &Schedule,
    objective: &Objective,
    method: &str,
    budget: Budget,
) -> Result<Placement, PlaceError> {
    let s = with_hold(inst, s.clone(), budget.power_w)?;
    let p = to_placement(
        inst,
        &s,
        budget,
        objective,
        method,
        Status::Heuristic,
        None,
        0.0,
        SolveStats {
            decomposition: "heuristic".into(),
            ..Default::default()
        },
        Vec::new(),
    );
    verify(inst, &p)?;
    Ok(p)
}

/// Single-unit, HEFT and least-energy baselines of `inst`, verified.
pub fn baselines(inst: &Instance, objective: &Objective) -> Result<Baselines, PlaceError> {
    baselines_within(inst, objective, Budget::default())
}

/// The baselines with a power budget's hold applied and the budgets recorded (a baseline over
/// the latency budget is still returned; compare its makespan with the budget).
pub fn baselines_within(
    inst: &Instance,
    objective: &Objective,
    budget: Budget,
) -> Result<Baselines, PlaceError> {
    let budget_shown = Budget {
        latency_s: None,
        ..budget
    };
    let mut single = Vec::new();
    for (u, unit) in inst.units.iter().enumerate() {
        if let Some(s) = single_unit(inst, u) {
            single.push(heuristic_placement(
                inst,
                &s,
                objective,
                &format!("single-unit {}", unit.name),
                budget_shown,
            )?);
        }
    }
    let t = Instant::now();
    let h = heft(inst)?;
    let mut heft = heuristic_placement(inst, &h, objective, "heft", budget_shown)?;
    heft.solve_s = t.elapsed().as_secs_f64();
    let min_energy = match min_energy(inst) {
        Some(s) => Some(heuristic_placement(
            inst,
            &s,
            objective,
            "min-energy greedy",
            budget_shown,
        )?),
        None => None,
    };
    Ok(Baselines {
        single,
        heft,
        min_energy,
    })
}

/// Places `graph` on the units of `hw` and returns the verified placement with its latency and
/// energy totals. The entry point for `explore` and `archscope map --objective placement`.
///
/// By segments (the default for layered graphs) the answer is the ILP's unless HEFT or the
/// least-energy greedy does better, in which case that schedule is returned with its method
/// saying so (see [`Limits::keep_better_heuristic`]); the answer is never worse than HEFT.
pub fn place(
    hw: &Hardware,
    graph: &Graph,
    objective: Objective,
    limits: &Limits,
) -> Result<Placement, PlaceError> {
    let inst = Instance::from_graph(hw, graph, &limits.build)?;
    place_instance(&inst, objective, limits)
}

fn check_limits(objective: &Objective, limits: &Limits) -> Result<(), PlaceError> {
    let bad = |m: &str| Err(PlaceError::Options(m.into()));
    if !(limits.time_limit_s >= 0.0) || !(limits.min_model_time_s >= 0.0) {
        return bad("time limits must be zero or more seconds");
    }
    if !(0.0..1.0).contains(&limits.mip_rel_gap) {
        return bad("the MIP gap must be in [0, 1)");
    }
    if limits
        .latency_budget_s
        .is_some_and(|b| !(b > 0.0 && b.is_finite()))
    {
        return bad("the latency budget must be a positive number of seconds");
    }
    if limits
        .power_budget_w
        .is_some_and(|b| !(b > 0.0 && b.is_finite()))
    {
        return bad("the power budget must be a positive number of watts");
    }
    if let Objective::Weighted { j_per_s } = objective {
        if !(*j_per_s >= 0.0 && j_per_s.is_finite()) {
            return bad("the latency price must be zero or more joules per second");
        }
    }
    Ok(())
}

/// Places an instance (see [`place`]).
pub fn place_instance(
    inst: &Instance,
    objective: Objective,
    limits: &Limits,
) -> Result<Placement, PlaceError> {
    check_limits(&objective, limits)?;
    inst.check()?;
    let t0 = Instant::now();
    let deadline = t0 + Duration::from_secs_f64(limits.time_limit_s.min(1e6));
    let weights = objective.weights();
    let segments = match limits.decompose {
        Decompose::Auto => inst.segments > 1,
        Decompose::Segments => true,
        Decompose::Monolithic => false,
    };
    let mut p = if segments {
        place_segments(inst, &objective, weights, limits, deadline)?
    } else {
        place_monolithic(inst, &objective, weights, limits)?
    };
    verify(inst, &p)?;
    if segments && limits.keep_better_heuristic {
        // The barrier model can lose against a whole-graph heuristic (cross-layer overlap, or a
        // restricted or timed-out block). Never hand back the worse answer: keep the better
        // heuristic, say so, and drop the bound, which holds for barrier schedules only.
        let budget = Budget {
            latency_s: limits.latency_budget_s,
            power_w: limits.power_budget_w,
        };
        let within = |q: &Placement| {
            budget
                .latency_s
                .is_none_or(|b| q.totals.makespan_s <= b * (1.0 + 1e-12))
        };
        let mut cands = Vec::new();
        if let Ok(s) = heft(inst) {
            cands.push(heuristic_placement(inst, &s, &objective, "heft", budget)?);
        }
        if let Some(s) = min_energy(inst) {
            cands.push(heuristic_placement(
                inst,
                &s,
                &objective,
                "min-energy greedy",
                budget,
            )?);
        }
        if let Some(best) = cands
            .into_iter()
            .filter(within)
            .min_by(|a, b| a.totals.objective.total_cmp(&b.totals.objective))
        {
            if best.totals.objective < p.totals.objective * (1.0 - 1e-9) {
                let mut notes = p.notes.clone();
                notes.push(format!(
                    "the ILP by segments (barrier model) reached {:.6e} {}, {} is better and is returned; the ILP's bound holds for barrier schedules only",
                    p.totals.objective,
                    objective.unit(),
                    best.method
                ));
                let stats = p.stats.clone();
                p = best;
                p.method = format!("{} (better than the ILP by segments)", p.method);
                p.notes = notes;
                p.stats = stats;
            }
        }
    }
    p.solve_s = t0.elapsed().as_secs_f64();
    if let Some(note) = over_limit_note(p.solve_s, limits) {
        p.notes.push(note);
    }
    Ok(p)
}

/// The note a placement carries when it took longer than `--time-limit`: each block model gets
/// at least `min_model_time_s` of solver time, and building and verifying the models is not
/// bounded by the solver's limit.
fn over_limit_note(solve_s: f64, limits: &Limits) -> Option<String> {
    (solve_s > limits.time_limit_s).then(|| {
        format!(
            "solved in {solve_s:.2} s: over the {} s time limit by {:.2} s (each block model is given at least {} s, and building and checking the models is outside the solver's limit)",
            limits.time_limit_s,
            solve_s - limits.time_limit_s,
            limits.min_model_time_s
        )
    })
}

fn place_monolithic(
    inst: &Instance,
    objective: &Objective,
    weights: (f64, f64),
    limits: &Limits,
) -> Result<Placement, PlaceError> {
    let nb = ilp::count_binaries(inst);
    if nb > limits.max_binaries {
        return Err(PlaceError::TooLarge {
            binaries: nb,
            max: limits.max_binaries,
        });
    }
    let warm = decompose::best_heuristic(inst, weights);
    let r = ilp::solve(&ilp::IlpRequest {
        inst,
        weights,
        latency_budget_s: limits.latency_budget_s,
        power_budget_w: limits.power_budget_w,
        warm: warm.as_ref(),
        time_limit_s: limits.time_limit_s,
        mip_rel_gap: limits.mip_rel_gap,
        max_binaries: limits.max_binaries,
    })?;
    let s = r.schedule.ok_or_else(|| {
        PlaceError::Budget(format!(
            "HiGHS proves the model infeasible (latency budget {:?} s, power budget {:?} W)",
            limits.latency_budget_s, limits.power_budget_w
        ))
    })?;
    let budget = Budget {
        latency_s: limits.latency_budget_s,
        power_w: limits.power_budget_w,
    };
    // Re-timing can only shorten the solver's schedule; the power budget's hold restores it.
    let s = with_hold(inst, s, budget.power_w)?;
    let stats = SolveStats {
        decomposition: "monolithic: one model, one window".into(),
        models: 1,
        distinct_blocks: 1,
        max_binaries: r.binaries,
        max_rows: r.rows,
        timed_out_models: usize::from(r.status == Status::TimedOut),
    };
    let mut p = to_placement(
        inst,
        &s,
        budget,
        objective,
        "ilp",
        r.status,
        None,
        r.solve_s,
        stats,
        Vec::new(),
    );
    // The bound is on weights·(C, E), which is the objective.
    p.bound = r.bound.map(|b| b.min(p.totals.objective));
    p.gap = p.bound.map(|b| gap(p.totals.objective, b));
    Ok(p)
}

fn gap(obj: f64, bound: f64) -> f64 {
    if obj > 0.0 {
        ((obj - bound) / obj).max(0.0)
    } else {
        0.0
    }
}

/// Iterations of the Lagrangian search (doubling, then bisection).
const LAGRANGE_DOUBLINGS: usize = 12;
const LAGRANGE_BISECTIONS: usize = 6;
/// Solves the time budget is planned for when a budget needs more than one decomposed solve
/// (the first solve and each later one get an equal share of what is left).
const BUDGET_SOLVES_PLANNED: f64 = 8.0;
/// Blends between the makespan and the energy weights tried for a power budget.
const POWER_BLENDS: [f64; 5] = [0.0, 0.25, 0.5, 0.75, 1.0];

fn place_segments(
    inst: &Instance,
    objective: &Objective,
    weights: (f64, f64),
    limits: &Limits,
    deadline: Instant,
) -> Result<Placement, PlaceError> {
    let budget = Budget {
        latency_s: limits.latency_budget_s,
        power_w: limits.power_budget_w,
    };
    if budget.latency_s.is_some() && budget.power_w.is_some() {
        return Err(PlaceError::Options(
            "a latency and a power budget together need the monolithic model".into(),
        ));
    }
    let budgeted = budget.latency_s.is_some() || budget.power_w.is_some();
    let share = || {
        let left = deadline.saturating_duration_since(Instant::now());
        Instant::now() + left.div_f64(if budgeted { BUDGET_SOLVES_PLANNED } else { 1.0 })
    };
    // A decomposed solve under some weights, with the hold its power budget needs.
    let run = |w: (f64, f64)| -> Result<(decompose::DpResult, Totals), PlaceError> {
        let mut r = decompose::solve_segments(inst, w, limits, share())?;
        r.schedule = with_hold(inst, r.schedule, budget.power_w)?;
        let t = totals(inst, &r.schedule, objective);
        Ok((r, t))
    };
    let finish = |r: decompose::DpResult, bound: Option<f64>, extra: Vec<String>| {
        let mut notes = r.notes;
        notes.extend(extra);
        let mut p = to_placement(
            inst,
            &r.schedule,
            budget,
            objective,
            "ilp",
            r.status,
            None,
            0.0,
            r.stats,
            notes,
        );
        p.bound = bound.map(|b| b.min(p.totals.objective));
        p.gap = p.bound.map(|b| gap(p.totals.objective, b));
        if p.status == Status::Optimal && p.gap.is_some_and(|g| g > limits.mip_rel_gap) {
            p.status = Status::Feasible;
        }
        p
    };
    let (base, t0) = run(weights)?;
    let within_latency = |t: &Totals| {
        budget
            .latency_s
            .is_none_or(|l| t.makespan_s <= l * (1.0 + 1e-12))
    };
    // The hold only adds to every objective, so the unbudgeted bound stays valid.
    let base_bound = base.bound;
    if base.schedule.hold_s == 0.0 && within_latency(&t0) {
        return Ok(finish(base, base_bound, Vec::new()));
    }
    if budget.power_w.is_some() {
        // Every placement meets a power budget by holding; search placements that do more work
        // per joule by blending the objective with the energy weight, keep the best.
        let (c0, e0) = (t0.makespan_s.max(1e-30), t0.energy_j.max(1e-30));
        let mut best = (t0.objective, base);
        for a in POWER_BLENDS {
            let w = ((1.0 - a) / c0, a / e0);
            let (r, t) = run(w)?;
            if t.objective < best.0 {
                best = (t.objective, r);
            }
        }
        let note = "power budget met by holding idle after the last block; placements from blends of the makespan and energy weights, the best kept".to_string();
        let mut r = best.1;
        if r.status == Status::Optimal {
            r.status = Status::Feasible;
        }
        return Ok(finish(r, base_bound, vec![note]));
    }
    // Latency budget: Lagrangian search, pricing latency at μ J/s on top of the objective.
    let l = budget.latency_s.expect("one budget is set");
    if weights.1 == 0.0 {
        // Pure makespan: the optimum already violates the budget.
        let lb = base_bound.map_or(String::new(), |x| {
            format!("; no schedule by segments is shorter than {x:.6e} s")
        });
        return Err(PlaceError::Budget(format!(
            "the shortest schedule found takes {:.6e} s, over the {l:.6e} s budget{lb}",
            t0.makespan_s
        )));
    }
    let mut best: Option<(f64, decompose::DpResult)> = None;
    let mut lower = base_bound;
    let mut consider = |mu: f64, r: decompose::DpResult, t: Totals| -> bool {
        if let Some(lb) = r.bound {
            // min_x f + μ·(C − L) ≤ f* for every μ ≥ 0.
            let v = lb - mu * l;
            lower = Some(lower.map_or(v, |x: f64| x.max(v)));
        }
        let ok = within_latency(&t);
        if ok && best.as_ref().is_none_or(|(bv, _)| t.objective < *bv) {
            best = Some((t.objective, r));
        }
        ok
    };
    let mut lo = 0.0;
    let mut mu = (t0.objective / t0.makespan_s.max(1e-30)).max(1e-12);
    let mut hi = None;
    for _ in 0..LAGRANGE_DOUBLINGS {
        let (r, t) = run((weights.0 + mu, weights.1))?;
        if consider(mu, r, t) {
            hi = Some(mu);
            break;
        }
        lo = mu;
        mu *= 2.0;
    }
    let Some(mut hi) = hi else {
        return Err(PlaceError::Budget(format!(
            "no placement found within {l:.6e} s after pricing latency up to {mu:.3e} J/s"
        )));
    };
    for _ in 0..LAGRANGE_BISECTIONS {
        let mid = 0.5 * (lo + hi);
        let (r, t) = run((weights.0 + mid, weights.1))?;
        if consider(mid, r, t) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    let (_, r) = best.expect("a feasible point was found");
    let note = "latency budget met by a Lagrangian search over the block objective; the bound is the best Lagrangian bound".to_string();
    Ok(finish(r, lower, vec![note]))
}

pub mod gantt;
pub mod patterns;
pub mod report;
pub mod session;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_placement_over_its_time_limit_says_by_how_much() {
        let limits = Limits {
            time_limit_s: 1.0,
            ..Limits::default()
        };
        assert_eq!(over_limit_note(0.9, &limits), None);
        let n = over_limit_note(2.6, &limits).unwrap();
        assert!(
            n.starts_with("solved in 2.60 s: over the 1 s time limit by 1.60 s"),
            "{n}"
        );
    }
}
