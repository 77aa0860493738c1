//! Baseline planners that keep the operator order fixed:
//!
//! * [`plan_default`]: what a framework runtime does by default — graph order,
//!   first-fit allocation at the moment a tensor is needed, Belady eviction
//!   (evict the resident tensor whose next read is furthest away), write-back of
//!   dirty activations only when they are evicted while still needed.
//! * [`plan_arena`]: a TFLite-style arena planner — Belady replacement against
//!   a byte budget, then offsets assigned offline by greedy-by-size placement
//!   over the residency intervals (largest first, lowest non-colliding offset),
//!   shrinking the budget until the arena fits the scratchpad.
//!
//! The step simulator here is also used to warm-start and back up the ILP
//! windows of the divide-and-conquer planner, so it can start from a given
//! resident set.

use std::time::Instant;

use super::plan::{Origin, Plan, PlanStatus, Residency, Store};
use super::problem::{MemProblem, Prepared, TensorKind};
use super::{MappingError, verify};

/// How the simulator decides whether a tensor fits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AllocMode {
    /// Contiguous first-fit in the live address space (fragmentation is real).
    FirstFit,
    /// Only the sum of resident sizes is limited (offsets are assigned later).
    BySize {
        /// Budget in allocation units.
        budget: u64,
    },
}

#[derive(Debug, Clone, Copy)]
struct Open {
    offset: u64,
    first: usize,
    origin: Origin,
}

/// Step-by-step execution of a fixed order with Belady eviction.
pub(crate) struct Sim<'p, 'a> {
    prep: &'p Prepared<'a>,
    /// Read positions of each tensor in the global order, ascending.
    reads: Vec<Vec<usize>>,
    order: &'p [usize],
    mode: AllocMode,
    open: Vec<Option<Open>>,
    used_units: u64,
    /// Whether an off-chip copy of each tensor exists.
    pub offchip: Vec<bool>,
    /// Closed residency intervals.
    pub residencies: Vec<Residency>,
    /// Write-backs.
    pub stores: Vec<Store>,
}

impl<'p, 'a> Sim<'p, 'a> {
    /// A simulator over `order` (a full topological order) with an empty scratchpad.
    pub fn new(prep: &'p Prepared<'a>, order: &'p [usize], mode: AllocMode) -> Self {
        let nt = prep.num_tensors();
        let mut reads = vec![Vec::new(); nt];
        for (pos, &o) in order.iter().enumerate() {
            for &a in &prep.op_inputs[o] {
                reads[a].push(pos);
            }
        }
        let offchip = (0..nt).map(|a| !prep.kind(a).is_produced()).collect();
        Sim {
            prep,
            reads,
            order,
            mode,
            open: vec![None; nt],
            used_units: 0,
            offchip,
            residencies: Vec::new(),
            stores: Vec::new(),
        }
    }

    /// Makes `a` resident at `offset` (units) since step `first` (used for the
    /// entry state of a window; `first` is the step before the window).
    pub fn preload(&mut self, a: usize, offset: u64, first: usize) {
        self.open[a] = Some(Open {
            offset,
            first,
            origin: Origin::Loaded,
        });
        self.used_units += self.prep.units[a];
    }

    /// The open (resident) tensors with their offsets, first steps and origins.
    pub fn resident(&self) -> Vec<(usize, u64, usize, Origin)> {
        self.open
            .iter()
            .enumerate()
            .filter_map(|(a, o)| o.map(|o| (a, o.offset, o.first, o.origin)))
            .collect()
    }

    fn next_read_after(&self, a: usize, t: usize) -> Option<usize> {
        let r = &self.reads[a];
        let i = r.partition_point(|&p| p <= t);
        r.get(i).copied()
    }

    fn close(&mut self, a: usize, last: usize) {
        if let Some(o) = self.open[a].take() {
            self.used_units -= self.prep.units[a];
            if last >= o.first {
                self.residencies.push(Residency {
                    tensor: a,
                    first_step: o.first,
                    last_step: last,
                    offset_bytes: o.offset * self.prep.problem.granularity_bytes,
                    origin: o.origin,
                });
            }
        }
    }

    /// Evicts `a` before step `t`, writing it back first if it is a produced
    /// tensor without an off-chip copy that is read at `t` or later.
    fn evict(&mut self, a: usize, t: usize) {
        let Some(o) = self.open[a] else { return };
        if o.first >= t {
            // Placed during this very step: undo without cost.
            self.open[a] = None;
            self.used_units -= self.prep.units[a];
            return;
        }
        let needed = t > 0 && self.next_read_after(a, t - 1).is_some();
        if self.prep.kind(a).is_produced() && !self.offchip[a] && needed {
            self.stores.push(Store {
                tensor: a,
                step: t - 1,
            });
            self.offchip[a] = true;
        }
        self.close(a, t - 1);
    }

    fn first_fit(&self, units: u64) -> Option<u64> {
        let mut occ: Vec<(u64, u64)> = self
            .open
            .iter()
            .enumerate()
            .filter_map(|(a, o)| o.map(|o| (o.offset, o.offset + self.prep.units[a])))
            .collect();
        occ.sort_unstable();
        let mut cursor = 0u64;
        for (lo, hi) in occ {
            if lo >= cursor + units {
                return Some(cursor);
            }
            cursor = cursor.max(hi);
        }
        (cursor + units <= self.prep.capacity_units).then_some(cursor)
    }

    fn try_place(&mut self, a: usize, t: usize, origin: Origin) -> bool {
        let units = self.prep.units[a];
        let offset = match self.mode {
            AllocMode::FirstFit => self.first_fit(units),
            AllocMode::BySize { budget } => (self.used_units + units <= budget).then_some(0),
        };
        match offset {
            Some(offset) => {
                self.open[a] = Some(Open {
                    offset,
                    first: t,
                    origin,
                });
                self.used_units += units;
                true
            }
            None => false,
        }
    }

    /// Resident tensor not touched by `op` whose next read is furthest away.
    fn belady_victim(&self, op: usize, t: usize) -> Option<usize> {
        let touched: Vec<usize> = self.prep.touched(op).collect();
        self.open
            .iter()
            .enumerate()
            .filter(|(a, o)| o.is_some() && !touched.contains(a))
            .map(|(a, _)| (self.next_read_after(a, t).unwrap_or(usize::MAX), a))
            .max()
            .map(|(_, a)| a)
    }

    /// Drops resident tensors that are never read after step `t`, closing
    /// them at `last` (the step they were last resident).
    pub fn drop_dead(&mut self, t: usize, last: usize) {
        for a in 0..self.open.len() {
            if self.open[a].is_some() && self.next_read_after(a, t).is_none() {
                self.close(a, last);
            }
        }
    }

    /// Executes the operator at position `t` of the order.
    pub fn step(&mut self, t: usize) -> Result<(), MappingError> {
        let o = self.order[t];
        let prep = self.prep;
        let mut wanted: Vec<(usize, Origin)> = Vec::new();
        let mut ins: Vec<usize> = prep.op_inputs[o].clone();
        ins.sort_by_key(|&a| std::cmp::Reverse(prep.units[a]));
        wanted.extend(ins.into_iter().map(|a| (a, Origin::Loaded)));
        let mut outs: Vec<usize> = prep.op_outputs[o].clone();
        outs.sort_by_key(|&a| std::cmp::Reverse(prep.units[a]));
        wanted.extend(outs.into_iter().map(|a| (a, Origin::Created)));
        let mut repacked = false;
        for &(a, origin) in &wanted {
            if self.open[a].is_some() {
                continue;
            }
            if origin == Origin::Loaded && !self.offchip[a] {
                return Err(MappingError::Internal(format!(
                    "simulator: tensor {} is needed at step {t} but was dropped without a copy",
                    prep.problem.tensors[a].name
                )));
            }
            loop {
                if self.try_place(a, t, origin) {
                    break;
                }
                match self.belady_victim(o, t) {
                    Some(v) => self.evict(v, t),
                    None => {
                        repacked = true;
                        break;
                    }
                }
            }
            if repacked {
                break;
            }
        }
        if repacked {
            // Fragmentation by this operator's own tensors: evict them all
            // and pack the working set from offset 0.
            for &(a, _) in &wanted {
                self.evict(a, t);
            }
            for &(a, origin) in &wanted {
                if !self.try_place(a, t, origin) {
                    return Err(MappingError::Internal(format!(
                        "simulator: working set of op {} does not fit an empty scratchpad",
                        prep.problem.ops[o].name
                    )));
                }
            }
        }
        for &a in &prep.op_outputs[o] {
            if prep.kind(a) == TensorKind::Output {
                self.stores.push(Store { tensor: a, step: t });
                self.offchip[a] = true;
            }
        }
        self.drop_dead(t, t);
        Ok(())
    }

    /// Closes every open residency at step `last`.
    pub fn finish(&mut self, last: usize) {
        for a in 0..self.open.len() {
            self.close(a, last);
        }
    }
}

fn traffic_of(prep: &Prepared, residencies: &[Residency], stores: &[Store]) -> (u64, u64) {
    let loads: u64 = residencies
        .iter()
        .filter(|r| r.origin == Origin::Loaded)
        .map(|r| prep.bytes(r.tensor))
        .sum();
    let st: u64 = stores.iter().map(|s| prep.bytes(s.tensor)).sum();
    let compulsory = prep.compulsory_bytes();
    (compulsory, loads + st - compulsory)
}

/// Runs the simulator over the whole order.
fn simulate(
    prep: &Prepared,
    order: &[usize],
    mode: AllocMode,
) -> Result<(Vec<Residency>, Vec<Store>), MappingError> {
    let mut sim = Sim::new(prep, order, mode);
    for t in 0..order.len() {
        sim.step(t)?;
    }
    sim.finish(order.len().saturating_sub(1));
    Ok((sim.residencies, sim.stores))
}

pub(crate) fn heuristic_plan(
    prep: &Prepared,
    method: &str,
    order: Vec<usize>,
    residencies: Vec<Residency>,
    stores: Vec<Store>,
    solve_s: f64,
) -> Result<Plan, MappingError> {
    let (compulsory_bytes, non_compulsory_bytes) = traffic_of(prep, &residencies, &stores);
    let plan = Plan {
        method: method.into(),
        status: PlanStatus::Heuristic,
        order,
        residencies,
        stores,
        compulsory_bytes,
        non_compulsory_bytes,
        bound_bytes: None,
        gap: None,
        solve_s,
        model: None,
        parts: Vec::new(),
    };
    verify(prep.problem, &plan)?;
    Ok(plan)
}

/// Framework-default baseline: listed (topological) order, first-fit
/// allocation, Belady eviction. Always succeeds on a valid problem.
pub fn plan_default(problem: &MemProblem) -> Result<Plan, MappingError> {
    let prep = Prepared::new(problem)?;
    plan_default_prepared(&prep)
}

pub(crate) fn plan_default_prepared(prep: &Prepared) -> Result<Plan, MappingError> {
    let start = Instant::now();
    let order = prep
        .topological_order()
        .ok_or_else(|| MappingError::Internal("cycle after validation".into()))?;
    let (res, st) = simulate(prep, &order, AllocMode::FirstFit)?;
    heuristic_plan(
        prep,
        "default",
        order,
        res,
        st,
        start.elapsed().as_secs_f64(),
    )
}

/// Greedy-by-size offset assignment (TFLite arena style) over residency
/// intervals; returns offsets in units and the arena size in units.
fn greedy_by_size(prep: &Prepared, res: &[Residency]) -> (Vec<u64>, u64) {
    let mut idx: Vec<usize> = (0..res.len()).collect();
    idx.sort_by_key(|&i| {
        (
            std::cmp::Reverse(prep.units[res[i].tensor]),
            res[i].first_step,
            res[i].tensor,
        )
    });
    let mut offsets = vec![0u64; res.len()];
    let mut placed: Vec<usize> = Vec::new();
    let mut arena = 0u64;
    for &i in &idx {
        let r = &res[i];
        let size = prep.units[r.tensor];
        let mut busy: Vec<(u64, u64)> = placed
            .iter()
            .filter(|&&j| res[j].first_step <= r.last_step && r.first_step <= res[j].last_step)
            .map(|&j| (offsets[j], offsets[j] + prep.units[res[j].tensor]))
            .collect();
        busy.sort_unstable();
        let mut cursor = 0u64;
        for (lo, hi) in busy {
            if lo >= cursor + size {
                break;
            }
            cursor = cursor.max(hi);
        }
        offsets[i] = cursor;
        arena = arena.max(cursor + size);
        placed.push(i);
    }
    (offsets, arena)
}

/// TFLite-style arena baseline: listed (topological) order; Belady
/// replacement against a byte budget, then greedy-by-size offsets. If the
/// arena exceeds the scratchpad, the budget shrinks by the overflow (at least
/// one allocation unit) and the plan is redone. Fails with
/// [`MappingError::HeuristicFailed`] when the budget falls below the largest
/// operator working set before an arena fits.
pub fn plan_arena(problem: &MemProblem) -> Result<Plan, MappingError> {
    let prep = Prepared::new(problem)?;
    plan_arena_prepared(&prep)
}

pub(crate) fn plan_arena_prepared(prep: &Prepared) -> Result<Plan, MappingError> {
    let start = Instant::now();
    let order = prep
        .topological_order()
        .ok_or_else(|| MappingError::Internal("cycle after validation".into()))?;
    let g = prep.problem.granularity_bytes;
    let floor = prep.min_capacity_bytes() / g;
    let mut budget = prep.capacity_units;
    loop {
        let (mut res, st) = simulate(prep, &order, AllocMode::BySize { budget })?;
        let (offsets, arena) = greedy_by_size(prep, &res);
        if arena <= prep.capacity_units {
            for (r, off) in res.iter_mut().zip(offsets) {
                r.offset_bytes = off * g;
            }
            return heuristic_plan(prep, "arena", order, res, st, start.elapsed().as_secs_f64());
        }
        let shrink = (arena - prep.capacity_units).max(1);
        if budget < floor + shrink {
            return Err(MappingError::HeuristicFailed(format!(
                "arena planner: no budget down to {} bytes gives an arena within {} bytes",
                floor * g,
                prep.capacity_units * g
            )));
        }
        budget -= shrink;
    }
}
