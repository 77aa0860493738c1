//! Schedules and placements: the unit and start time of every op, the windows (segments run one
//! after another), and the totals. [`retime`] turns a placement plus a priority order into the
//! earliest schedule that respects dependencies, transfers, unit exclusivity, windows and
//! bandwidth floors; every solver reports schedules made by it (or by HEFT's own insertion).

use super::PlaceError;
use super::problem::Instance;
use serde::Serialize;

/// What to minimise.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Objective {
    /// End-to-end latency (the makespan).
    Makespan,
    /// Total energy: dynamic energy of the ops, transfer energy, static power × makespan.
    Energy,
    /// Energy plus `j_per_s` joules for every second of makespan (a price on latency).
    Weighted {
        /// Joules charged per second of makespan.
        j_per_s: f64,
    },
}

impl Objective {
    /// The objective as `(per second of makespan, per joule of energy)` weights.
    pub fn weights(&self) -> (f64, f64) {
        match *self {
            Objective::Makespan => (1.0, 0.0),
            Objective::Energy => (0.0, 1.0),
            Objective::Weighted { j_per_s } => (j_per_s, 1.0),
        }
    }

    /// Value of the objective for a makespan and a total energy.
    pub fn value(&self, makespan_s: f64, energy_j: f64) -> f64 {
        let (wc, we) = self.weights();
        wc * makespan_s + we * energy_j
    }

    /// Short name.
    pub fn name(&self) -> String {
        match self {
            Objective::Makespan => "makespan".into(),
            Objective::Energy => "energy".into(),
            Objective::Weighted { j_per_s } => format!("energy + {j_per_s} J/s x makespan"),
        }
    }

    /// Unit of the objective's value.
    pub fn unit(&self) -> &'static str {
        match self {
            Objective::Makespan => "s",
            _ => "J",
        }
    }
}

/// How far a placement's objective is known to be from the optimum.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// HiGHS proved every model optimal (to the relative gap asked for).
    Optimal,
    /// Valid, not proven optimal (a restricted search, or a solver stop other than the limit).
    Feasible,
    /// A time limit was hit; the best incumbent is reported with its bound.
    TimedOut,
    /// Produced by a heuristic; no bound.
    Heuristic,
}

/// A time window of the schedule: the ops of one segment (or of the whole graph).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Window {
    /// Start, seconds.
    pub start_s: f64,
    /// End, seconds.
    pub end_s: f64,
}

/// The bare schedule: unit, start and window of every op, and the windows.
#[derive(Clone, Debug, PartialEq)]
pub struct Schedule {
    /// Unit of each op (index into [`Instance::units`]).
    pub unit_of: Vec<usize>,
    /// Start of each op, seconds.
    pub start_s: Vec<f64>,
    /// Window of each op.
    pub window_of: Vec<usize>,
    /// The windows, back to back from 0.
    pub windows: Vec<Window>,
    /// Idle time after the last window that brings the average power down to the power budget
    /// (see [`Budget`]); 0 without one.
    pub hold_s: f64,
}

/// Budgets a placement must meet.
///
/// The power budget is on average power over the makespan: `energy ≤ P · makespan`. A schedule
/// that finishes its work sooner holds idle (paying static power) until the average comes down,
/// so its makespan is at least `(dynamic + transfer energy) / (P − static power)`: throughput
/// under a sustained power cap.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Budget {
    /// Makespan budget, seconds.
    pub latency_s: Option<f64>,
    /// Average power budget, watts.
    pub power_w: Option<f64>,
}

/// Totals of a schedule.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Totals {
    /// End of the last window, seconds.
    pub makespan_s: f64,
    /// Dynamic + transfer + static energy, joules.
    pub energy_j: f64,
    /// Dynamic energy of the ops.
    pub dynamic_j: f64,
    /// Energy of cross-unit transfers.
    pub transfer_j: f64,
    /// Static power × makespan.
    pub static_j: f64,
    /// Bytes moved between units.
    pub transfer_bytes: f64,
    /// Number of cross-unit edges.
    pub transfers: usize,
    /// Value of the objective.
    pub objective: f64,
}

/// One placed op, for reports.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PlacedOp {
    /// Op name.
    pub name: String,
    /// Kind name.
    pub kind: String,
    /// Compute dtype.
    pub dtype: String,
    /// Unit index.
    pub unit: usize,
    /// Start, seconds.
    pub start_s: f64,
    /// Finish, seconds.
    pub finish_s: f64,
    /// Dynamic energy, joules.
    pub energy_j: f64,
    /// Window index.
    pub window: usize,
}

/// Size of the optimisation models behind a placement.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct SolveStats {
    /// How the graph was solved (`monolithic`, `segments: ...`, `heuristic`).
    pub decomposition: String,
    /// MIP models solved.
    pub models: usize,
    /// Distinct blocks (segments with different content) among the segments.
    pub distinct_blocks: usize,
    /// Binary columns of the largest model.
    pub max_binaries: usize,
    /// Rows of the largest model.
    pub max_rows: usize,
    /// Models that hit their time limit.
    pub timed_out_models: usize,
}

/// A placement with its schedule, totals and how good it is known to be.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Placement {
    /// `ilp`, `heft`, `single-unit <name>`, `min-energy greedy`.
    pub method: String,
    /// The objective it was made for (heuristics report their value under it too).
    pub objective: Objective,
    /// Device.
    pub device: String,
    /// Workload.
    pub workload: String,
    /// Unit names.
    pub units: Vec<String>,
    /// Every op.
    pub ops: Vec<PlacedOp>,
    /// The windows.
    pub windows: Vec<Window>,
    /// Totals.
    pub totals: Totals,
    /// Optimality status.
    pub status: Status,
    /// Lower bound on the objective, when a solver gave one.
    pub bound: Option<f64>,
    /// Relative gap (objective − bound) / objective.
    pub gap: Option<f64>,
    /// The budgets it was made for.
    pub budget: Budget,
    /// Idle time held after the last window to meet the power budget, seconds.
    pub hold_s: f64,
    /// Wall time spent, seconds.
    pub solve_s: f64,
    /// Model sizes.
    pub stats: SolveStats,
    /// Remarks (decomposition exactness, restrictions, time limits).
    pub notes: Vec<String>,
}

impl Placement {
    /// Makespan, seconds.
    pub fn latency_s(&self) -> f64 {
        self.totals.makespan_s
    }

    /// Total energy, joules.
    pub fn energy_j(&self) -> f64 {
        self.totals.energy_j
    }

    /// The bare schedule back (unit, start, window of each op).
    pub fn schedule(&self) -> Schedule {
        Schedule {
            unit_of: self.ops.iter().map(|o| o.unit).collect(),
            start_s: self.ops.iter().map(|o| o.start_s).collect(),
            window_of: self.ops.iter().map(|o| o.window).collect(),
            windows: self.windows.clone(),
            hold_s: self.hold_s,
        }
    }

    /// Busy seconds of each unit.
    pub fn busy_s(&self) -> Vec<f64> {
        let mut b = vec![0.0; self.units.len()];
        for o in &self.ops {
            b[o.unit] += o.finish_s - o.start_s;
        }
        b
    }
}

/// Totals of `s` on `inst` under `objective`.
pub fn totals(inst: &Instance, s: &Schedule, objective: &Objective) -> Totals {
    let makespan = s.windows.last().map_or(0.0, |w| w.end_s) + s.hold_s;
    let dynamic: f64 = inst
        .ops
        .iter()
        .enumerate()
        .map(|(i, o)| o.costs[s.unit_of[i]].as_ref().map_or(0.0, |c| c.energy_j))
        .sum();
    let (mut tj, mut tb, mut n) = (0.0, 0.0, 0);
    for e in &inst.edges {
        let (u, v) = (s.unit_of[e.from], s.unit_of[e.to]);
        if u != v {
            if let Some((_, j)) = inst.transfer(e, u, v) {
                tj += j;
            }
            tb += e.bytes;
            n += 1;
        }
    }
    let st = inst.static_w * makespan;
    let energy = dynamic + tj + st;
    Totals {
        makespan_s: makespan,
        energy_j: energy,
        dynamic_j: dynamic,
        transfer_j: tj,
        static_j: st,
        transfer_bytes: tb,
        transfers: n,
        objective: objective.value(makespan, energy),
    }
}

/// The idle time `s` must hold after its last window to meet `power_w` (see [`Budget`]);
/// `None` when the budget does not exceed the static power, which no schedule can meet.
pub fn hold_for(inst: &Instance, s: &Schedule, power_w: Option<f64>) -> Option<f64> {
    let Some(p) = power_w else {
        return Some(0.0);
    };
    if p <= inst.static_w {
        return None;
    }
    let mut t = totals(inst, s, &Objective::Makespan);
    t.makespan_s -= s.hold_s;
    let work = t.dynamic_j + t.transfer_j;
    Some((work / (p - inst.static_w) - t.makespan_s).max(0.0))
}

/// `s` with the hold its power budget needs.
pub fn with_hold(
    inst: &Instance,
    s: Schedule,
    power_w: Option<f64>,
) -> Result<Schedule, PlaceError> {
    let hold = hold_for(inst, &s, power_w).ok_or_else(|| {
        PlaceError::Budget(format!(
            "a power budget of {} W does not exceed the static power of {} W",
            power_w.unwrap_or(0.0),
            inst.static_w
        ))
    })?;
    Ok(Schedule { hold_s: hold, ..s })
}

/// Wraps a schedule into a [`Placement`].
#[allow(clippy::too_many_arguments)]
pub fn to_placement(
    inst: &Instance,
    s: &Schedule,
    budget: Budget,
    objective: &Objective,
    method: &str,
    status: Status,
    bound: Option<f64>,
    solve_s: f64,
    stats: SolveStats,
    notes: Vec<String>,
) -> Placement {
    let t = totals(inst, s, objective);
    let ops = inst
        .ops
        .iter()
        .enumerate()
        .map(|(i, o)| {
            let c = o.costs[s.unit_of[i]].as_ref();
            let d = c.map_or(0.0, |c| c.time_s);
            PlacedOp {
                name: o.name.clone(),
                kind: o.kind.clone(),
                dtype: o.dtype.clone(),
                unit: s.unit_of[i],
                start_s: s.start_s[i],
                finish_s: s.start_s[i] + d,
                energy_j: c.map_or(0.0, |c| c.energy_j),
                window: s.window_of[i],
            }
        })
        .collect();
    let gap = bound.map(|b| {
        if t.objective > 0.0 {
            ((t.objective - b) / t.objective).max(0.0)
        } else {
            0.0
        }
    });
    Placement {
        method: method.into(),
        objective: *objective,
        device: inst.device.clone(),
        workload: inst.name.clone(),
        units: inst.units.iter().map(|u| u.name.clone()).collect(),
        ops,
        windows: s.windows.clone(),
        totals: t,
        status,
        bound,
        gap,
        budget,
        hold_s: s.hold_s,
        solve_s,
        stats,
        notes,
    }
}

/// The earliest schedule of a placement: ops are started in `priority` order (which must list
/// each op once, windows in order and producers before consumers), each as soon as
///
/// * its window has started (windows run back to back; `window_of` gives each op's window),
/// * every producer in the same window has finished and its data has been moved
///   ([`Instance::transfer`]); data from an earlier window moves after that window's end
///   (the barrier), so it arrives at `window start + transfer`,
/// * its unit has finished the previous op in priority order on that unit.
///
/// A window ends when its last op finishes, but not before its start plus its bandwidth floor
/// (the bytes its ops move through each shared level over that level's peak bandwidth).
pub fn retime(
    inst: &Instance,
    unit_of: &[usize],
    priority: &[usize],
    window_of: &[usize],
) -> Result<Schedule, PlaceError> {
    let n = inst.ops.len();
    let internal = |m: String| PlaceError::Internal(m);
    if unit_of.len() != n || priority.len() != n || window_of.len() != n {
        return Err(internal("retime: lengths differ from the op count".into()));
    }
    let nw = window_of.iter().copied().max().map_or(0, |w| w + 1);
    let preds = inst.preds();
    let mut start = vec![f64::NAN; n];
    let mut finish = vec![f64::NAN; n];
    let mut unit_free = vec![0.0f64; inst.units.len()];
    let mut windows = Vec::with_capacity(nw);
    let mut floor_bytes = vec![vec![0.0; inst.floors.len()]; nw];
    let mut w_start = 0.0;
    let mut w_max = 0.0f64;
    let mut cur = 0usize;
    let close = |w_start: f64, w_max: f64, fb: &[f64]| Window {
        start_s: w_start,
        end_s: w_max.max(w_start + inst.floor_time(fb)),
    };
    for &i in priority {
        let w = window_of[i];
        if w < cur {
            return Err(internal(format!(
                "retime: op #{i} is in window {w} after window {cur} began"
            )));
        }
        while cur < w {
            let win = close(w_start, w_max, &floor_bytes[cur]);
            windows.push(win);
            w_start = win.end_s;
            w_max = w_start;
            cur += 1;
        }
        let u = unit_of[i];
        let cost = inst.ops[i].costs[u].as_ref().ok_or_else(|| {
            internal(format!(
                "op `{}` placed on `{}`, which cannot run it",
                inst.ops[i].name, inst.units[u].name
            ))
        })?;
        let mut ready = w_start;
        for &k in &preds[i] {
            let e = &inst.edges[k];
            let p = e.from;
            if finish[p].is_nan() {
                return Err(internal(format!(
                    "retime: `{}` is listed before its producer `{}`",
                    inst.ops[i].name, inst.ops[p].name
                )));
            }
            let (t, _) = inst
                .transfer(e, unit_of[p], u)
                .ok_or_else(|| PlaceError::NoLink {
                    from: inst.units[unit_of[p]].name.clone(),
                    to: inst.units[u].name.clone(),
                })?;
            let base = if window_of[p] == w {
                finish[p]
            } else {
                w_start
            };
            ready = ready.max(base + t);
        }
        let s = ready.max(unit_free[u]);
        start[i] = s;
        finish[i] = s + cost.time_s;
        unit_free[u] = finish[i];
        w_max = w_max.max(finish[i]);
        for (acc, b) in floor_bytes[w].iter_mut().zip(&cost.floor_bytes) {
            *acc += b;
        }
    }
    while cur < nw {
        let win = close(w_start, w_max, &floor_bytes[cur]);
        windows.push(win);
        w_start = win.end_s;
        w_max = w_start;
        cur += 1;
    }
    if start.iter().any(|s| s.is_nan()) {
        return Err(internal("retime: the priority order misses ops".into()));
    }
    Ok(Schedule {
        unit_of: unit_of.to_vec(),
        start_s: start,
        window_of: window_of.to_vec(),
        windows,
        hold_s: 0.0,
    })
}
