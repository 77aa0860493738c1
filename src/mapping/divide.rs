//! Divide and conquer for graphs too large for one ILP: cut the default
//! topological order into windows at narrow points, solve each window's ILP
//! (free order inside the window) from the boundary state the previous window
//! left, and stitch the window solutions into one plan.
//!
//! **Cut rule.** The crossing weight of a cut after position `i` is the bytes
//! of all tensors defined at or before `i` (produced, or first read for
//! weights/inputs) and read after `i`. Starting from the previous cut, the next
//! cut is the position within `[min_window_ops, max_window_ops]` operators with
//! the smallest crossing weight (the later one on ties). A graph articulation
//! point, where a single tensor connects the two sides, is exactly such a
//! narrow place, so on CNN-like graphs the cuts fall on block boundaries.
//!
//! **Boundary state.** A window starts with the tensors the previous window
//! left resident (at their offsets, which the ILP may keep — then they stay
//! put — or give up), knows which tensors already have an off-chip copy and
//! which weights were already loaded once, and must leave every tensor that a
//! later window reads either resident or written back.
//!
//! **Look-ahead (optional).** A window's own traffic ignores what its exit
//! state costs later; with [`DivideOptions::lookahead`] each tensor that a
//! later window reads and that this window does not leave resident is charged
//! one reload (it will need at least one). The reported per-window traffic
//! excludes the charge. Measured on the generated graphs it helps as often
//! as it hurts (unet-48 at the halfway budget: 303104 vs 344064 bytes;
//! random-40 at `M_R`: 1056768 vs 598016 bytes; 10 s per window), so it is
//! off by default.
//!
//! **Rolling horizon.** With [`DivideOptions::overlap_ops`] `= k` each
//! window's ILP also schedules the next `k` operators (constrained to run after
//! the window's own) and only the window's own steps are kept; the next window
//! starts from the state at the last kept step. Write-backs of tensors still
//! resident there are left to the next window; all others are kept. Measured
//! (10 s per window, windows of 12–24 operators, non-compulsory bytes, overlap
//! 6 vs none): resnet-120 at `M_R` 524288 vs 589824 (the whole-graph optimum
//! is 524288), inception-100 at `M_R` 196608 vs 245760 (whole-graph optimum
//! 196608), random-40 (seed 2) at the halfway budget 466944 vs 638976,
//! unet-48 halfway 327680 vs 344064; unet-100 halfway 376832 vs 352256 is the
//! one loss in nine instances (four ties). On by default with `k = 6`.
//!
//! **Backup.** Each window is warm-started with the first-fit/Belady simulator
//! run from the same boundary state; if HiGHS returns no incumbent in the time
//! limit, that simulation is used for the window (its part is then reported
//! with status `heuristic`).
//!
//! The stitched plan is not globally optimal (window boundaries fix the set of
//! operators per window, and each window is optimal only given its entry
//! state), so it carries status [`PlanStatus::Feasible`] and no bound.

use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::heuristics::{AllocMode, Sim};
use super::ilp::{
    IlpOptions, SegOrigin, Segment, Window, WindowOutcome, WindowSolution, solve_window,
};
use super::plan::{ModelStats, Origin, PartReport, Plan, PlanStatus, Residency, SolvePath, Store};
use super::problem::{MemProblem, Prepared, TensorKind};
use super::{MappingError, verify};

/// Settings for [`plan_divide_and_conquer`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DivideOptions {
    /// Largest number of operators per window.
    pub max_window_ops: usize,
    /// Smallest number of operators per window (except the last).
    pub min_window_ops: usize,
    /// ILP settings per window (`time_limit_s` is per window; `schedule` is
    /// ignored: `free_within_window` decides).
    pub ilp: IlpOptions,
    /// Let the ILP reorder operators inside each window.
    pub free_within_window: bool,
    /// Charge each window one reload for every tensor it leaves non-resident
    /// that a later window reads (see the module documentation).
    pub lookahead: bool,
    /// Rolling horizon: each window's ILP also sees the next `overlap_ops`
    /// operators (scheduled after the window's own), and only the window's
    /// own steps are kept.
    pub overlap_ops: usize,
}

impl Default for DivideOptions {
    fn default() -> Self {
        DivideOptions {
            max_window_ops: 24,
            min_window_ops: 12,
            ilp: IlpOptions {
                time_limit_s: 10.0,
                ..IlpOptions::default()
            },
            free_within_window: true,
            lookahead: false,
            overlap_ops: 6,
        }
    }
}

/// Window boundaries `[start, end]` (inclusive positions in `order`).
pub(crate) fn cut_windows(
    prep: &Prepared,
    order: &[usize],
    min: usize,
    max: usize,
) -> Vec<(usize, usize)> {
    let n = order.len();
    let max = max.max(1);
    let min = min.clamp(1, max);
    let mut pos = vec![0usize; prep.num_ops()];
    for (t, &o) in order.iter().enumerate() {
        pos[o] = t;
    }
    // crossing[i] = bytes live across the cut between i and i+1.
    let mut diff = vec![0i128; n + 1];
    for a in 0..prep.num_tensors() {
        let reads: Vec<usize> = prep.consumers[a].iter().map(|&c| pos[c]).collect();
        let Some(&last) = reads.iter().max() else {
            continue;
        };
        let def = match prep.producer[a] {
            Some(p) => pos[p],
            None => *reads.iter().min().unwrap_or(&last),
        };
        if def < last {
            diff[def] += prep.bytes(a) as i128;
            diff[last] -= prep.bytes(a) as i128;
        }
    }
    let mut crossing = vec![0i128; n];
    let mut acc = 0i128;
    for i in 0..n {
        acc += diff[i];
        crossing[i] = acc;
    }
    let mut out = Vec::new();
    let mut s = 0usize;
    while s < n {
        if n - s <= max {
            out.push((s, n - 1));
            break;
        }
        let lo = s + min - 1;
        let hi = s + max - 1;
        let cut = (lo..=hi)
            .min_by_key(|&i| (crossing[i], std::cmp::Reverse(i)))
            .unwrap_or(hi);
        out.push((s, cut));
        s = cut + 1;
    }
    out
}

/// A residency still open at a window boundary: its first step, offset (in granules) and
/// origin.
#[derive(Debug, Clone, Copy)]
struct OpenSeg {
    first: usize,
    offset: u64,
    origin: Origin,
}

impl OpenSeg {
    /// The residency of `tensor` this segment becomes when it ends at `last_step`, with
    /// granules of `granularity` bytes.
    fn close(self, tensor: usize, last_step: usize, granularity: u64) -> Residency {
        Residency {
            tensor,
            first_step: self.first,
            last_step,
            offset_bytes: self.offset * granularity,
            origin: self.origin,
        }
    }
}

/// Non-compulsory bytes of a window solution: loads beyond each weight/input's
/// first ever load, plus write-backs of activations.
fn window_traffic(
    prep: &Prepared,
    segments: &[Segment],
    stored: &[usize],
    loaded_before: &[bool],
) -> u64 {
    let mut bytes = 0u64;
    let mut first_load_seen = loaded_before.to_vec();
    let mut loads: Vec<&Segment> = segments
        .iter()
        .filter(|x| x.origin == SegOrigin::Loaded)
        .collect();
    loads.sort_by_key(|x| x.first);
    for x in loads {
        let a = x.tensor;
        if !prep.kind(a).is_produced() && !first_load_seen[a] {
            first_load_seen[a] = true;
        } else {
            bytes += prep.bytes(a);
        }
    }
    bytes + stored.iter().map(|&a| prep.bytes(a)).sum::<u64>()
}

/// Keeps the first `k` steps of a window solution (rolling horizon): segments
/// are cut at step `k-1`; a write-back is kept if the tensor is reloaded in
/// the kept steps or is not resident at step `k-1` (it is read later, so it
/// needs the copy); for a tensor still resident the next window decides.
fn commit_prefix(
    prep: &Prepared,
    sol: WindowSolution,
    k: usize,
    loaded_before: &[bool],
    entry_resident: &[bool],
) -> WindowSolution {
    if k >= sol.order.len() {
        return sol;
    }
    let segments: Vec<Segment> = sol
        .segments
        .iter()
        .filter(|x| x.first < k)
        .map(|x| Segment {
            last: x.last.min(k - 1),
            ..*x
        })
        .collect();
    let resident_at_end = |a: usize| segments.iter().any(|x| x.tensor == a && x.last == k - 1);
    let created_here = |a: usize| prep.producer[a].is_some_and(|p| sol.order[..k].contains(&p));
    let entry = |a: usize| entry_resident[a];
    let reloaded = |a: usize| {
        segments
            .iter()
            .any(|x| x.tensor == a && x.origin == SegOrigin::Loaded)
    };
    let stored: Vec<usize> = sol
        .stored
        .iter()
        .copied()
        .filter(|&a| (created_here(a) || entry(a)) && (!resident_at_end(a) || reloaded(a)))
        .collect();
    let objective_bytes = window_traffic(prep, &segments, &stored, loaded_before);
    WindowSolution {
        order: sol.order[..k].to_vec(),
        segments,
        stored,
        objective_bytes,
        bound_bytes: None,
        ..sol
    }
}

/// Simulates the window from the boundary state (warm start and backup).
#[allow(clippy::too_many_arguments)]
fn simulate_window(
    prep: &Prepared,
    order: &[usize],
    s: usize,
    e: usize,
    open: &[Option<OpenSeg>],
    offchip: &[bool],
    loaded_before: &[bool],
) -> Result<WindowSolution, MappingError> {
    let mut sim = Sim::new(prep, order, AllocMode::FirstFit);
    sim.offchip = offchip.to_vec();
    for (a, o) in open.iter().enumerate() {
        if let Some(o) = o {
            sim.preload(a, o.offset, s - 1);
        }
    }
    for t in s..=e {
        sim.step(t)?;
    }
    let g = prep.problem.granularity_bytes;
    let mut segments = Vec::new();
    let ends: Vec<(usize, u64, usize, usize, Origin)> = sim
        .residencies
        .iter()
        .map(|r| {
            (
                r.tensor,
                r.offset_bytes / g,
                r.first_step,
                r.last_step,
                r.origin,
            )
        })
        .chain(
            sim.resident()
                .into_iter()
                .map(|(a, off, first, origin)| (a, off, first, e, origin)),
        )
        .collect();
    for (a, off, first, last, origin) in ends {
        if last < s {
            continue;
        }
        let (lf, o) = if first < s {
            (0, SegOrigin::Entry)
        } else if origin == Origin::Created {
            (first - s, SegOrigin::Created)
        } else {
            (first - s, SegOrigin::Loaded)
        };
        segments.push(Segment {
            tensor: a,
            first: lf,
            last: last - s,
            offset: off,
            origin: o,
        });
    }
    let mut stored: Vec<usize> = sim
        .stores
        .iter()
        .map(|st| st.tensor)
        .filter(|&a| prep.kind(a) == TensorKind::Activation)
        .collect();
    stored.sort_unstable();
    stored.dedup();
    let bytes = window_traffic(prep, &segments, &stored, loaded_before);
    Ok(WindowSolution {
        order: order[s..=e].to_vec(),
        segments,
        stored,
        status: PlanStatus::Heuristic,
        objective_bytes: bytes,
        bound_bytes: None,
        stats: ModelStats {
            path: SolvePath::None,
            ..ModelStats::default()
        },
        solve_s: 0.0,
    })
}

/// What the windows committed so far leave behind: the segments still open at the boundary,
/// which tensors have an off-chip copy or were loaded, and the plan's residencies and stores.
struct Stitched {
    open: Vec<Option<OpenSeg>>,
    offchip: Vec<bool>,
    loaded_before: Vec<bool>,
    residencies: Vec<Residency>,
    stores: Vec<Store>,
}

impl Stitched {
    /// Adds the committed solution `sol` of the window of `wn` ops starting at step `s`: closes
    /// the entry segments it does not keep, records its write-backs and output stores, and
    /// opens (tensors live after the window, per `live_out`) or closes its segments.
    fn commit(
        &mut self,
        prep: &Prepared,
        sol: &WindowSolution,
        (s, wn): (usize, usize),
        live_out: &[bool],
    ) -> Result<(), MappingError> {
        let mut step_of = std::collections::HashMap::new();
        for (t, &o) in sol.order.iter().enumerate() {
            step_of.insert(o, s + t);
        }
        // Entry tensors not kept at step 0 end at the boundary.
        let kept: Vec<usize> = sol
            .segments
            .iter()
            .filter(|x| x.origin == SegOrigin::Entry)
            .map(|x| x.tensor)
            .collect();
        for (a, slot) in self.open.iter_mut().enumerate() {
            if let Some(o) = slot {
                if !kept.contains(&a) {
                    let g = prep.problem.granularity_bytes;
                    self.residencies.push(o.close(a, s - 1, g));
                    *slot = None;
                }
            }
        }
        // Write-backs.
        for &a in &sol.stored {
            let step = match prep.producer[a].and_then(|p| step_of.get(&p)) {
                Some(&t) => t,
                None => s - 1,
            };
            self.stores.push(Store { tensor: a, step });
            self.offchip[a] = true;
        }
        for &o in &sol.order {
            for &a in &prep.op_outputs[o] {
                if prep.kind(a) == TensorKind::Output {
                    self.stores.push(Store {
                        tensor: a,
                        step: step_of[&o],
                    });
                    self.offchip[a] = true;
                }
            }
        }
        // Segments.
        for seg in &sol.segments {
            let a = seg.tensor;
            let open = match seg.origin {
                SegOrigin::Entry => self.open[a].ok_or_else(|| {
                    MappingError::Internal("kept entry tensor has no open segment".into())
                })?,
                SegOrigin::Created => OpenSeg {
                    first: s + seg.first,
                    offset: seg.offset,
                    origin: Origin::Created,
                },
                SegOrigin::Loaded => {
                    self.loaded_before[a] = true;
                    OpenSeg {
                        first: s + seg.first,
                        offset: seg.offset,
                        origin: Origin::Loaded,
                    }
                }
            };
            if seg.last == wn - 1 && live_out[a] {
                self.open[a] = Some(open);
            } else {
                self.open[a] = None;
                let g = prep.problem.granularity_bytes;
                self.residencies.push(open.close(a, s + seg.last, g));
            }
        }
        Ok(())
    }
}

/// Divide-and-conquer planner (see the module documentation). Returns a
/// verified plan with one [`PartReport`] per window.
pub fn plan_divide_and_conquer(
    problem: &MemProblem,
    opts: &DivideOptions,
) -> Result<Plan, MappingError> {
    let prep = Prepared::new(problem)?;
    let start = Instant::now();
    let order = prep
        .topological_order()
        .ok_or_else(|| MappingError::Internal("cycle after validation".into()))?;
    let n = order.len();
    let nt = prep.num_tensors();
    let mut pos = vec![0usize; n];
    for (t, &o) in order.iter().enumerate() {
        pos[o] = t;
    }
    let last_read: Vec<Option<usize>> = (0..nt)
        .map(|a| prep.consumers[a].iter().map(|&c| pos[c]).max())
        .collect();
    let windows = cut_windows(&prep, &order, opts.min_window_ops, opts.max_window_ops);

    let mut st = Stitched {
        open: vec![None; nt],
        offchip: (0..nt).map(|a| !prep.kind(a).is_produced()).collect(),
        loaded_before: vec![false; nt],
        residencies: Vec::new(),
        stores: Vec::new(),
    };
    let mut full_order: Vec<usize> = Vec::with_capacity(n);
    let mut parts = Vec::new();
    let mut non_compulsory = 0u64;
    let ilp_opts = IlpOptions {
        schedule: super::ilp::Schedule::Free,
        ..opts.ilp.clone()
    };

    for &(s, e) in &windows {
        let wstart = Instant::now();
        let live_out: Vec<bool> = last_read
            .iter()
            .map(|lr| lr.is_some_and(|l| l > e))
            .collect();
        let entry: Vec<(usize, u64)> = st
            .open
            .iter()
            .enumerate()
            .filter_map(|(a, o)| o.map(|o| (a, o.offset)))
            .collect();
        let ext = (e + opts.overlap_ops).min(n - 1);
        let backup = simulate_window(
            &prep,
            &order,
            s,
            ext,
            &st.open,
            &st.offchip,
            &st.loaded_before,
        )?;
        let ext_live_out: Vec<bool> = last_read
            .iter()
            .map(|lr| lr.is_some_and(|l| l > ext))
            .collect();
        let w = Window {
            prep: &prep,
            ops: order[s..=ext].to_vec(),
            commit: e - s + 1,
            fixed: !opts.free_within_window,
            entry,
            offchip: st.offchip.clone(),
            loaded_before: st.loaded_before.clone(),
            live_out: ext_live_out,
            lookahead: opts.lookahead,
        };
        let sol = match solve_window(&w, &ilp_opts, Some(&backup))? {
            WindowOutcome::Solved(sol) => sol,
            WindowOutcome::NoIncumbent { .. } => backup,
        };
        let entry_resident: Vec<bool> = st.open.iter().map(Option::is_some).collect();
        let sol = commit_prefix(&prep, sol, e - s + 1, &st.loaded_before, &entry_resident);
        let wn = e - s + 1;
        st.commit(&prep, &sol, (s, wn), &live_out)?;
        full_order.extend_from_slice(&sol.order);
        non_compulsory += sol.objective_bytes;
        parts.push(PartReport {
            first_step: s,
            ops: wn,
            status: sol.status,
            non_compulsory_bytes: sol.objective_bytes,
            solve_s: wstart.elapsed().as_secs_f64(),
            model: sol.stats,
        });
    }
    for (a, slot) in st.open.iter_mut().enumerate() {
        if let Some(o) = slot.take() {
            st.residencies
                .push(o.close(a, n - 1, prep.problem.granularity_bytes));
        }
    }
    let plan = Plan {
        method: "divide_and_conquer".into(),
        status: PlanStatus::Feasible,
        order: full_order,
        residencies: st.residencies,
        stores: st.stores,
        compulsory_bytes: prep.compulsory_bytes(),
        non_compulsory_bytes: non_compulsory,
        bound_bytes: None,
        gap: None,
        solve_s: start.elapsed().as_secs_f64(),
        model: None,
        parts,
    };
    verify(problem, &plan)?;
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::{OpSpec, TensorSpec};

    /// Three residual blocks joined by single tensors: after each block's
    /// add only the block output (2 bytes) is live, elsewhere the skip
    /// (2 bytes) plus the branch tensor (4 bytes) are.
    fn blocks(n_blocks: usize) -> MemProblem {
        let mut tensors = vec![TensorSpec {
            name: "x".into(),
            bytes: 2,
            kind: TensorKind::Input,
        }];
        let mut ops = Vec::new();
        let mut h = 0;
        for b in 0..n_blocks {
            for (k, bytes) in [4u64, 4, 2].into_iter().enumerate() {
                tensors.push(TensorSpec {
                    name: format!("b{b}_{k}"),
                    bytes,
                    kind: TensorKind::Activation,
                });
                let out = tensors.len() - 1;
                let inputs = match k {
                    0 => vec![h],
                    1 => vec![out - 1],
                    _ => vec![out - 1, h],
                };
                ops.push(OpSpec {
                    name: format!("op{b}_{k}"),
                    inputs,
                    outputs: vec![out],
                });
            }
            h = tensors.len() - 1;
        }
        tensors[h].kind = TensorKind::Output;
        MemProblem {
            tensors,
            ops,
            capacity_bytes: 64,
            granularity_bytes: 1,
        }
    }

    /// A long skip h (op0 -> op5) must leave while op2 holds two 4-byte
    /// tensors (capacity 8): store 2 + reload 2 = 4 bytes. With windows of two
    /// operators and an overlap of two, h is evicted in the kept steps of the
    /// second window and reloaded only in its look-ahead steps: the write-back
    /// must still be kept.
    #[test]
    fn rolling_horizon_keeps_needed_write_backs() {
        let t = TensorSpec::new;
        let op = OpSpec::new;
        let p = MemProblem {
            tensors: vec![
                t("x", 1, TensorKind::Input),
                t("h", 2, TensorKind::Activation),
                t("c1", 4, TensorKind::Activation),
                t("c2", 4, TensorKind::Activation),
                t("c3", 1, TensorKind::Activation),
                t("c4", 1, TensorKind::Activation),
                t("y", 1, TensorKind::Output),
            ],
            ops: vec![
                op("op0", vec![0], vec![1]),
                op("op1", vec![1], vec![2]),
                op("op2", vec![2], vec![3]),
                op("op3", vec![3], vec![4]),
                op("op4", vec![4], vec![5]),
                op("op5", vec![5, 1], vec![6]),
            ],
            capacity_bytes: 8,
            granularity_bytes: 1,
        };
        for overlap_ops in [0, 1, 2, 4] {
            let plan = plan_divide_and_conquer(
                &p,
                &DivideOptions {
                    max_window_ops: 2,
                    min_window_ops: 2,
                    overlap_ops,
                    ..DivideOptions::default()
                },
            )
            .unwrap();
            verify(&p, &plan).unwrap();
            assert_eq!(plan.non_compulsory_bytes, 4, "overlap {overlap_ops}");
            assert_eq!(plan.parts.len(), 3);
        }
    }

    #[test]
    fn cuts_fall_on_block_boundaries() {
        let p = blocks(3);
        let prep = Prepared::new(&p).unwrap();
        let order = prep.topological_order().unwrap();
        // Windows of 2..=4 ops: the narrow points are after ops 2 and 5.
        let w = cut_windows(&prep, &order, 2, 4);
        assert_eq!(w, vec![(0, 2), (3, 5), (6, 8)]);
        // A window limit of 1 cuts after every op.
        let w = cut_windows(&prep, &order, 1, 1);
        assert_eq!(w.len(), 9);
    }

    #[test]
    fn stitched_plan_verifies_and_reports_every_window() {
        let mut p = blocks(4);
        p.capacity_bytes = 8; // the block's widest op: 4 + 4 (or 4 + 2 + 2)
        let plan = plan_divide_and_conquer(
            &p,
            &DivideOptions {
                max_window_ops: 3,
                min_window_ops: 3,
                ..DivideOptions::default()
            },
        )
        .unwrap();
        assert_eq!(plan.parts.len(), 4);
        assert!(plan.parts.iter().all(|w| w.status == PlanStatus::Optimal));
        verify(&p, &plan).unwrap();
        // Inside a block the skip (2) must make room for the two 4-byte
        // tensors (8 = capacity): block 0 reloads the input x (2), the other
        // blocks spill and reload their input (2 + 2 each).
        assert_eq!(plan.non_compulsory_bytes, 2 + 3 * 4);
        // Rolling horizon: each window also sees the next block; same optimum.
        let rolled = plan_divide_and_conquer(
            &p,
            &DivideOptions {
                max_window_ops: 3,
                min_window_ops: 3,
                overlap_ops: 3,
                ..DivideOptions::default()
            },
        )
        .unwrap();
        verify(&p, &rolled).unwrap();
        assert_eq!(rolled.non_compulsory_bytes, 14);
        assert_eq!(rolled.order.len(), 12);
    }
}
