//! Inter-operator scratchpad mapping in the style of COSMA (Li, Gupta, Malik,
//! "Combined Scheduling, Memory Allocation and Tensor Replacement for
//! Minimizing Off-Chip Data Accesses of DNN Accelerators", arXiv:2311.18246):
//! choose an operator order, the scratchpad residency and address of every
//! tensor at every step, and the spills/reloads between steps, so that
//! off-chip traffic beyond the compulsory part is minimal.
//!
//! The input is the self-contained [`MemProblem`] (tensors with sizes and
//! kinds, operators with input/output tensor lists, capacity, allocation
//! granularity); [`problem_from_graph`] (module [`adapt`]) builds one from a
//! workload graph and computes the budgets `M_R`, `M_P`, `M_H`. Planners:
//!
//! | planner | order | allocation | replacement |
//! |---|---|---|---|
//! | [`plan_default`] | listed | first-fit when needed | Belady |
//! | [`plan_arena`] | listed | TFLite greedy-by-size over intervals | Belady against a byte budget |
//! | [`plan_ilp`] | free (or fixed) | ILP | ILP |
//! | [`plan_divide_and_conquer`] | free within windows | ILP per window | ILP per window |
//!
//! Every planner returns a [`Plan`] that has passed the independent checker
//! [`verify`]; no solver status is trusted without it.
//!
//! # Execution semantics (what the verifier checks)
//!
//! * Steps `0..n`; step `t` runs operator `order[t]`; the order is topological.
//! * Operators are atomic (no tiling): every input and output of the running
//!   operator is resident during its step.
//! * A tensor occupies `ceil(bytes / granularity)` blocks at a block-aligned
//!   offset; resident tensors never overlap and lie within the capacity.
//! * A tensor stays at one address from the step it becomes resident until it
//!   leaves; it may come back later at another address (only through a reload:
//!   there is no on-chip move).
//! * Weights and inputs live off-chip; each residency of one is a *load*.
//!   Activations and outputs are *created* on-chip by their producer; a later
//!   residency is a *load* and needs an earlier *store* (write-back). Tensors are
//!   immutable, so one store suffices forever.
//! * Traffic = bytes of all loads and stores. Compulsory = first load of every
//!   weight/input that is read + one store of every output. The objective is the
//!   rest: reloads of weights/inputs, spill stores and reloads of activations,
//!   reloads of outputs.
//!
//! # The ILP (time-indexed, one operator per step)
//!
//! Sizes `u_a` and capacity `M` are in allocation blocks (the granularity plays
//! the role of COSMA's GCD scaling and keeps the big-M small). Steps are
//! `t = 0..n-1`. ASAP/ALAP windows: `asap(o)` = number of ancestors,
//! `alap(o) = n-1-#descendants`; a tensor's window `W(a)` runs from its
//! producer's ASAP (or its first reader's ASAP for weights/inputs) to its last
//! reader's ALAP. Variables exist only inside windows.
//!
//! **Variables**
//!
//! | variable | type | meaning |
//! |---|---|---|
//! | `x[o,t]`, `t ∈ [asap(o), alap(o)]` | binary | operator `o` runs at step `t` |
//! | `p[a,t]`, `t ∈ W(a)` | binary | `a` is kept (preserved) from `t-1` to `t` at the same address |
//! | `ld[a,t]` | binary | `a` is loaded just before step `t`; created only at steps where a reader of `a` may run |
//! | `s[a]` | binary | activation `a` is written back (once, at creation: same bytes as a write-back on eviction, and the tensor is resident then anyway) |
//! | `L[a,t]` | continuous in `[0, M-u_a]` | address of `a` at `t` (bound = COSMA Eq. 9) |
//! | `z[a,b,t]` | binary | for pairs that can be co-resident: `a` lies above `b` |
//!
//! Residency is the expression `r[a,t] = x[prod(a),t] + p[a,t] + ld[a,t]`
//! (created, kept or loaded). Outputs are written back at creation (the
//! compulsory store) and then count as having an off-chip copy.
//!
//! **Constraints**
//!
//! * (A) `Σ_t x[o,t] = 1`; (B) `Σ_o x[o,t] = 1` (one operator per step).
//! * (C) precedence, time-indexed (strong) form, per edge `p → c` and step:
//!   `Σ_{t'≤t} x[c,t'] ≤ Σ_{t'<t} x[p,t']`.
//! * (D) `r[a,t] ≤ 1`.
//! * (E) `p[a,t] ≤ r[a,t-1]`; at a tensor's first window step `p` does not exist
//!   (COSMA's missing base case), except for tensors resident at a window's entry.
//! * (F) reader residency: `x[c,t] ≤ p[a,t] + ld[a,t]` for every input `a` of `c`.
//! * (G) load only when used: `ld[a,t] ≤ Σ_{c reads a} x[c,t]` — a dominance
//!   rule: a load can always be delayed to the next read without extra bytes or
//!   space, so this removes no optimum but removes most `ld` columns.
//! * (H) `ld[a,t] ≤ s[a]` for activations (no reload without a write-back).
//! * (I) (windows only) an activation read after the window: `r[a,last] + s[a] ≥ 1`.
//! * (J) kept ⇒ same address: `|L[a,t] - L[a,t-1]| ≤ (M-u_a)(1 - p[a,t])`
//!   (COSMA Eq. 11 with `V = P`).
//! * (K) non-overlap when both resident, one binary per pair and step:
//!   `L_a ≥ L_b + u_b - M(1-z) - M(2 - r_a - r_b)` and
//!   `L_b ≥ L_a + u_a - M z - M(2 - r_a - r_b)`; pairs with `u_a + u_b > M` get
//!   `r_a + r_b ≤ 1` instead.
//!
//! **Objective**: `min Σ bytes_a · (Σ_t ld[a,t] + s[a])` minus the constant
//! first load of each weight/input (so it equals the non-compulsory bytes),
//! scaled by the GCD of tensor sizes so that it is integral; HiGHS may stop at an
//! absolute gap below one unit, which still proves optimality.
//!
//! **Valid inequalities and symmetry breaking**
//!
//! * (L) aggregate capacity cut `Σ_a u_a r[a,t] ≤ M` per step — implied by (K)
//!   for integral points but not by its LP relaxation, whose bound is
//!   otherwise near 0. On by default: it is the row that pays off most.
//! * Optional [`IlpOptions::pair_residency_rows`]: `z[a,b,t] ≤ r[a,t]`,
//!   `z[a,b,t] ≤ r[b,t]` (an ordering binary is 0 unless both tensors are
//!   resident, removing its free copies).
//! * Optional [`IlpOptions::mirror_symmetry`]: reflecting every address
//!   (`L → M - u - L`) maps plans to plans; without pinned entry addresses the
//!   two largest tensors of the largest working set are ordered,
//!   `z[a,b,t] ≥ x[o*,t]`.
//! * The best baseline plan is handed to HiGHS as the initial incumbent, so a
//!   timed-out ILP is never worse than the baselines.
//!
//! Measured effect (CPU seconds of the full model, HiGHS 1.15 single thread,
//! generated graphs of `examples/mapping_scaling.rs`, 16–24 operators, at the
//! smallest budget `M_R` and a halfway budget; shared 2-core machine, so
//! differences below ~1.5× are noise):
//!
//! | instance | full model | without (L) | + pair rows | + mirror | size-first (default) |
//! |---|---|---|---|---|---|
//! | inception 24, M_R | 3.06 | time limit (60 s wall), bound 0 | 1.57 | 3.66 | 0.46 |
//! | inception 24, M_H | 0.31 | 0.13 | 0.94 | 0.31 | 0.09 |
//! | inception 20, M_R | 1.45 | time limit, bound 0 | 1.46 | 1.74 | 0.44 |
//! | inception 20, M_H | 2.17 | 2.34 | 0.81 | 2.38 | 0.23 |
//! | unet 20, M_R | 0.57 | time limit, bound 49 % | 0.52 | 0.51 | 0.13 |
//! | unet 20, M_H | 0.51 | time limit, bound 53 % | 0.67 | 0.41 | 0.72 |
//! | unet 16, M_R | 0.47 | time limit, bound 55 % | 0.22 | 0.46 | 0.08 |
//! | inception 24 (seed 2), M_R | 0.67 | 8.57 | 2.05 | 1.38 | 0.09 |
//!
//! So: the capacity cut is essential; solving the size-only relaxation first
//! is 3–10× faster on most instances; the two symmetry-breaking families do not
//! pay off consistently and are off by default (both are exercised by the
//! tests, which check that the optimum is unchanged).
//!
//! **Solve procedure** ([`IlpOptions::size_first`], on by default).
//! 1. Solve the *size-only relaxation*: the model without `L`, `z`, (J), (K)
//!    (capacity is then only the row (L)); COSMA's allocation-free variant
//!    with spills. It is far smaller (no pair binaries) and its optimum is a
//!    lower bound for the full model.
//! 2. Try to *pack* its residency intervals (fixed in time) into addresses:
//!    greedy lowest-fit in three orders (size, start, length), then an exact
//!    packing ILP with one ordering binary per pair of time-overlapping
//!    intervals. If that succeeds the plan is feasible with the relaxation's
//!    objective, hence optimal when the relaxation was solved to optimality.
//! 3. Otherwise (fragmentation matters) solve the full model with the extra
//!    valid row `objective ≥ bound of step 1`.
//!
//! Step 1 gets 85 % of the time limit. With the time limit hit and no
//! incumbent, the warm start (best baseline) is returned, marked timed out.
//!
//! **Entry tensors** of a divide-and-conquer window that cannot be reloaded
//! in the window (not read in it) keep a constant address whenever resident,
//! so they get no `L` column and their pair rows need a binary only when the
//! other tensor fits both below and above them.
//!
//! **Addresses.** `L` is continuous: once the binaries are fixed, the `L` rows
//! are difference constraints with integer data, so an integral solution
//! exists; it is recovered by a longest-path pass over the "below" relation
//! of the LP addresses (each segment right above the highest co-resident
//! segment below it), which never moves a segment up.
//!
//! **Fixed schedule** ([`Schedule::Fixed`], COSMA "FS") collapses every
//! operator window to one step, removing all scheduling freedom and
//! precedence rows.
//!
//! # Divide and conquer ([`plan_divide_and_conquer`])
//!
//! For graphs of hundreds of operators: cut the listed topological order into
//! windows of [`DivideOptions::min_window_ops`]..=[`DivideOptions::max_window_ops`]
//! operators at the positions with the fewest bytes live across the cut (graph
//! articulation points are such positions), solve each window's ILP with the
//! operator order free inside the window, starting from the state the previous
//! window left (resident tensors pinned at their offsets unless given up,
//! which tensors have an off-chip copy, which weights were loaded before), and
//! requiring every tensor read later to be resident or written back at the
//! window's end (optionally, [`DivideOptions::lookahead`], charging one reload
//! for each such tensor left non-resident). By default each window's ILP
//! also sees the next [`DivideOptions::overlap_ops`] operators and only its
//! own steps are kept (rolling horizon). Each window is warm-started (and backed up, if HiGHS
//! finds nothing in time) by the first-fit/Belady simulator run from the same
//! state. Window plans are stitched into one plan, which is verified; it has
//! status `feasible` and no bound (each window is optimal only given its
//! entry state and cut).
//!
//! # Time-indexed vs. order-based formulations (why this one)
//!
//! * *Time-indexed* (this module, COSMA, Checkmate, MODeL): binaries per
//!   (operator, step) and (tensor, step), addresses per (tensor, step),
//!   ordering binaries per (co-residable pair, step). Size is
//!   `O(n·|A|)` state binaries plus `O(n·pairs)` ordering binaries — large, but
//!   the LP relaxation is informative: residency, capacity and precedence are
//!   all linear in the step binaries, the capacity cut gives a real bound, and
//!   ASAP/ALAP windows prune most columns. Reloads at new addresses (the way
//!   fragmentation is repaired) are natural: the address is per step.
//! * *Order-based* (continuous start times or positions `π_o`, tensor
//!   lifetimes as intervals, disjunctive big-M pairs "a before b or b before a"
//!   in time and "a below b or b below a" in space): `O(|O|²+|A|²)` binaries,
//!   much more compact, but every coupling is a big-M disjunction whose LP
//!   relaxation is ~0, so the bound is useless and branching explodes; spills
//!   split a lifetime into an unknown number of intervals, which an order-based
//!   model must pre-allocate (k copies per tensor), losing most of its
//!   compactness. A constraint-programming solver (MOCCASIN) handles that form
//!   better than MIP does.
//! * Therefore: time-indexed with windows and cuts for up to a few dozen
//!   operators per model, and divide and conquer beyond that.

pub mod adapt;
pub mod chart;
mod divide;
mod heuristics;
mod ilp;
mod plan;
mod priced;
mod problem;
pub mod report;
pub mod traffic;
mod verify;

pub use adapt::{
    AdaptOptions, Adapted, Budgets, OpTraffic, PeakFootprint, WorkingSet, budgets,
    min_peak_footprint, min_working_set, peak_footprint_of_order, problem_from_graph,
    problem_from_graph_unchecked,
};
pub use divide::{DivideOptions, plan_divide_and_conquer};
pub use heuristics::{plan_arena, plan_default};
pub use ilp::{IlpOptions, Schedule, plan_ilp, relaxation_bound};
pub use plan::{ModelStats, Origin, PartReport, Plan, PlanStatus, Residency, SolvePath, Store};
pub use priced::{
    Mapped, MappedError, MappingRequest, UnitMapping, evaluate_mapped, map_unit, mapped_residency,
    plan_with, planned_tensors, scratchpad_of,
};
pub use problem::{MemProblem, OpSpec, Prepared, TensorKind, TensorSpec};
pub use verify::{PlanVerifyError, Traffic, verify};

/// Errors of the mapping planners.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MappingError {
    /// The problem is malformed.
    #[error("invalid mapping problem: {field}: {message}")]
    InvalidProblem {
        /// Which field (with index and name where applicable).
        field: String,
        /// What was expected.
        message: String,
    },
    /// An operator's working set exceeds the scratchpad: no plan exists.
    #[error(
        "infeasible: op {op} needs {needed_bytes} bytes resident at once (its inputs plus outputs, rounded to the allocation granularity) but the scratchpad holds {capacity_bytes}; no plan exists below that working set"
    )]
    Infeasible {
        /// Operator name.
        op: String,
        /// Its working set (rounded to the granularity).
        needed_bytes: u64,
        /// Usable capacity (rounded down to the granularity).
        capacity_bytes: u64,
    },
    /// The unit has no software-managed memory level to map onto, or nowhere to spill from it.
    #[error("no scratchpad to map onto: {0}")]
    NoScratchpad(String),
    /// A heuristic could not produce a plan (e.g. the arena never fits).
    #[error("heuristic failed: {0}")]
    HeuristicFailed(String),
    /// HiGHS reported an error.
    #[error("solver error: {0}")]
    Solver(String),
    /// The time limit passed before HiGHS found any solution.
    #[error(
        "no solution within the {time_limit_s} s time limit (lower bound {bound_bytes:?} bytes)"
    )]
    NoIncumbent {
        /// The limit used.
        time_limit_s: f64,
        /// Best lower bound on the non-compulsory bytes, if any.
        bound_bytes: Option<f64>,
    },
    /// A produced plan failed the independent check (a bug; reported, never hidden).
    #[error("plan failed verification: {0}")]
    Verification(#[from] PlanVerifyError),
    /// A chart could not be drawn or written.
    #[error("memory chart: {0}")]
    Chart(String),
    /// An internal consistency check failed.
    #[error("internal error: {0}")]
    Internal(String),
}

impl MappingError {
    pub(crate) fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        MappingError::InvalidProblem {
            field: field.into(),
            message: message.into(),
        }
    }
}
