//! Independent plan checker. It re-derives everything it needs from the raw
//! [`MemProblem`] (it does not use the planners' derived data) and checks a
//! [`Plan`] against the execution semantics; it recomputes the off-chip traffic
//! and compares it with the numbers the plan reports. No planner output,
//! whatever its solver status, should be used without passing this check.

use super::plan::{Origin, Plan};
use super::problem::{MemProblem, TensorKind};

/// Why a plan was rejected. Each variant names the step/tensor/operator involved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanVerifyError {
    /// The problem itself is malformed (same rules as planning).
    #[error("problem is invalid: {0}")]
    BadProblem(String),
    /// `order` is not a permutation of the operators.
    #[error("order is not a permutation of the {ops} operators: {detail}")]
    NotPermutation {
        /// Number of operators.
        ops: usize,
        /// What is wrong.
        detail: String,
    },
    /// An operator runs before the producer of one of its inputs.
    #[error(
        "order is not topological: op {op} (step {step}) reads tensor {tensor} whose producer {producer} runs at step {producer_step}"
    )]
    NotTopological {
        /// Consumer operator.
        op: String,
        /// Its step.
        step: usize,
        /// The tensor read.
        tensor: String,
        /// Producer operator.
        producer: String,
        /// Producer's step.
        producer_step: usize,
    },
    /// A residency record is malformed (bad index, step range, alignment or bounds).
    #[error("residency #{index} of tensor {tensor}: {detail}")]
    BadResidency {
        /// Index in `plan.residencies`.
        index: usize,
        /// Tensor name (or index if out of range).
        tensor: String,
        /// What is wrong.
        detail: String,
    },
    /// Two residencies of the same tensor overlap in time.
    #[error("tensor {tensor} has two residencies covering step {step}")]
    DoubleResidency {
        /// Tensor name.
        tensor: String,
        /// A step covered twice.
        step: usize,
    },
    /// A produced tensor's creation is not recorded correctly.
    #[error("tensor {tensor}: {detail}")]
    BadCreation {
        /// Tensor name.
        tensor: String,
        /// What is wrong.
        detail: String,
    },
    /// A tensor is loaded while no off-chip copy of it exists.
    #[error(
        "tensor {tensor} is loaded at step {step} but has no off-chip copy yet (no earlier store)"
    )]
    LoadWithoutCopy {
        /// Tensor name.
        tensor: String,
        /// Load step.
        step: usize,
    },
    /// A store record is malformed or stores a tensor that is not resident.
    #[error("store #{index} of tensor {tensor} at step {step}: {detail}")]
    BadStore {
        /// Index in `plan.stores`.
        index: usize,
        /// Tensor name (or index if out of range).
        tensor: String,
        /// Step of the store.
        step: usize,
        /// What is wrong.
        detail: String,
    },
    /// An output tensor is never written back.
    #[error("output tensor {tensor} is never stored off-chip")]
    OutputNotStored {
        /// Tensor name.
        tensor: String,
    },
    /// An operator runs while one of its tensors is not resident.
    #[error("op {op} at step {step} needs tensor {tensor}, which is not resident")]
    MissingResidency {
        /// Operator name.
        op: String,
        /// Step.
        step: usize,
        /// Tensor name.
        tensor: String,
    },
    /// Two resident tensors share scratchpad bytes.
    #[error("step {step}: tensors {a} [{a_lo}, {a_hi}) and {b} [{b_lo}, {b_hi}) overlap")]
    Overlap {
        /// Step.
        step: usize,
        /// First tensor.
        a: String,
        /// Its byte range start.
        a_lo: u64,
        /// Its byte range end.
        a_hi: u64,
        /// Second tensor.
        b: String,
        /// Its byte range start.
        b_lo: u64,
        /// Its byte range end.
        b_hi: u64,
    },
    /// The reported traffic differs from the traffic recomputed from the plan.
    #[error("reported {what} = {reported} bytes, recomputed {recomputed} bytes")]
    WrongTraffic {
        /// Which figure.
        what: &'static str,
        /// Value in the plan.
        reported: u64,
        /// Value recomputed from the plan.
        recomputed: u64,
    },
}

/// Traffic recomputed from a plan by [`verify`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Traffic {
    /// Bytes loaded from off-chip memory.
    pub load_bytes: u64,
    /// Bytes stored to off-chip memory.
    pub store_bytes: u64,
    /// Compulsory part of the total.
    pub compulsory_bytes: u64,
    /// Total minus compulsory.
    pub non_compulsory_bytes: u64,
    /// Largest number of scratchpad bytes occupied at any step.
    pub peak_bytes: u64,
}

/// Checks `plan` against `problem`:
///
/// * `order` is a permutation of the operators and topological;
/// * every residency is well formed: valid tensor, `first_step <= last_step <
///   steps`, offset a multiple of the granularity, `offset + size` (size rounded
///   up to the granularity) within the capacity;
/// * no tensor has two residencies covering the same step;
/// * every produced tensor has exactly one `Created` residency, starting at its
///   producer's step, and no residency or store before it; weights and inputs
///   have none;
/// * every `Loaded` residency of a produced tensor starts after a store of it;
/// * every store is of a produced tensor resident at the store's step; every
///   output is stored at least once;
/// * every tensor an operator reads or writes is resident at the operator's step;
/// * at every step the resident byte ranges are pairwise disjoint;
/// * recomputed compulsory and non-compulsory traffic equal the reported figures.
pub fn verify(problem: &MemProblem, plan: &Plan) -> Result<Traffic, PlanVerifyError> {
    let nt = problem.tensors.len();
    let g = problem.granularity_bytes;
    if g == 0 {
        return Err(PlanVerifyError::BadProblem("granularity_bytes is 0".into()));
    }
    let (producer, consumed) = producers(problem)?;
    let step_of = check_order(problem, plan, &producer)?;
    let mut per_tensor = residencies_by_tensor(problem, plan)?;
    let store_steps = store_steps(problem, plan, &producer, &per_tensor)?;
    let load_bytes = check_tensor_residencies(
        problem,
        plan,
        &producer,
        &step_of,
        &mut per_tensor,
        &store_steps,
    )?;
    check_touched_resident(problem, plan, &per_tensor)?;
    let peak = check_disjoint(problem, plan)?;

    // Traffic.
    let store_bytes: u64 = plan
        .stores
        .iter()
        .map(|s| problem.tensors[s.tensor].bytes)
        .sum();
    let compulsory: u64 = (0..nt)
        .map(|a| {
            let t = &problem.tensors[a];
            match t.kind {
                TensorKind::Weight | TensorKind::Input if consumed[a] => t.bytes,
                TensorKind::Output => t.bytes,
                _ => 0,
            }
        })
        .sum();
    let total = load_bytes + store_bytes;
    // Every read weight/input is loaded at least once and every output stored
    // at least once (checked above), so total >= compulsory.
    let non_compulsory = total - compulsory;
    if plan.compulsory_bytes != compulsory {
        return Err(PlanVerifyError::WrongTraffic {
            what: "compulsory_bytes",
            reported: plan.compulsory_bytes,
            recomputed: compulsory,
        });
    }
    if plan.non_compulsory_bytes != non_compulsory {
        return Err(PlanVerifyError::WrongTraffic {
            what: "non_compulsory_bytes",
            reported: plan.non_compulsory_bytes,
            recomputed: non_compulsory,
        });
    }
    Ok(Traffic {
        load_bytes,
        store_bytes,
        compulsory_bytes: compulsory,
        non_compulsory_bytes: non_compulsory,
        peak_bytes: peak,
    })
}

/// Name of tensor `a`, or `#a` when out of range.
fn tensor_name(problem: &MemProblem, a: usize) -> String {
    problem
        .tensors
        .get(a)
        .map(|t| t.name.clone())
        .unwrap_or_else(|| format!("#{a}"))
}

/// Size of tensor `a` rounded up to the granularity.
fn padded_bytes(problem: &MemProblem, a: usize) -> u64 {
    let g = problem.granularity_bytes;
    problem.tensors[a].bytes.div_ceil(g) * g
}

/// Producers and consumed flags of the tensors, re-derived; checks the tensor kinds.
#[allow(clippy::type_complexity)]
fn producers(problem: &MemProblem) -> Result<(Vec<Option<usize>>, Vec<bool>), PlanVerifyError> {
    let nt = problem.tensors.len();
    let tname = |a: usize| tensor_name(problem, a);
    // Producers, re-derived.
    let mut producer: Vec<Option<usize>> = vec![None; nt];
    let mut consumed = vec![false; nt];
    for (o, op) in problem.ops.iter().enumerate() {
        for &a in op.outputs.iter().chain(op.inputs.iter()) {
            if a >= nt {
                return Err(PlanVerifyError::BadProblem(format!(
                    "op {} references tensor {a}",
                    op.name
                )));
            }
        }
        for &a in &op.outputs {
            if producer[a].replace(o).is_some_and(|p| p != o) {
                return Err(PlanVerifyError::BadProblem(format!(
                    "tensor {} has two producers",
                    tname(a)
                )));
            }
        }
        for &a in &op.inputs {
            consumed[a] = true;
        }
    }
    for (a, t) in problem.tensors.iter().enumerate() {
        let produced = matches!(t.kind, TensorKind::Activation | TensorKind::Output);
        if produced != producer[a].is_some() {
            return Err(PlanVerifyError::BadProblem(format!(
                "tensor {} is a {:?} but has {} producer",
                t.name,
                t.kind,
                if producer[a].is_some() { "a" } else { "no" }
            )));
        }
    }

    Ok((producer, consumed))
}

/// Checks the order is a topological permutation; returns each operator's step.
fn check_order(
    problem: &MemProblem,
    plan: &Plan,
    producer: &[Option<usize>],
) -> Result<Vec<usize>, PlanVerifyError> {
    let n = problem.ops.len();
    let tname = |a: usize| tensor_name(problem, a);
    // Order: permutation and topological.
    if plan.order.len() != n {
        return Err(PlanVerifyError::NotPermutation {
            ops: n,
            detail: format!("order has {} entries", plan.order.len()),
        });
    }
    let mut step_of = vec![usize::MAX; n];
    for (t, &o) in plan.order.iter().enumerate() {
        if o >= n {
            return Err(PlanVerifyError::NotPermutation {
                ops: n,
                detail: format!("step {t} names operator {o}"),
            });
        }
        if step_of[o] != usize::MAX {
            return Err(PlanVerifyError::NotPermutation {
                ops: n,
                detail: format!("operator {} appears twice", problem.ops[o].name),
            });
        }
        step_of[o] = t;
    }
    for (t, &o) in plan.order.iter().enumerate() {
        for &a in &problem.ops[o].inputs {
            if let Some(p) = producer[a] {
                if step_of[p] >= t {
                    return Err(PlanVerifyError::NotTopological {
                        op: problem.ops[o].name.clone(),
                        step: t,
                        tensor: tname(a),
                        producer: problem.ops[p].name.clone(),
                        producer_step: step_of[p],
                    });
                }
            }
        }
    }

    Ok(step_of)
}

/// Checks every residency is well formed; returns the residencies of each tensor.
fn residencies_by_tensor(
    problem: &MemProblem,
    plan: &Plan,
) -> Result<Vec<Vec<usize>>, PlanVerifyError> {
    let nt = problem.tensors.len();
    let n = problem.ops.len();
    let g = problem.granularity_bytes;
    let tname = |a: usize| tensor_name(problem, a);
    let padded = |a: usize| padded_bytes(problem, a);
    // Residencies: well formed.
    let mut per_tensor: Vec<Vec<usize>> = vec![Vec::new(); nt];
    for (i, r) in plan.residencies.iter().enumerate() {
        let bad = |detail: String| PlanVerifyError::BadResidency {
            index: i,
            tensor: tname(r.tensor),
            detail,
        };
        if r.tensor >= nt {
            return Err(bad("tensor index out of range".into()));
        }
        if r.first_step > r.last_step || r.last_step >= n {
            return Err(bad(format!(
                "steps {}..={} are not a valid range of the {n} steps",
                r.first_step, r.last_step
            )));
        }
        if r.offset_bytes % g != 0 {
            return Err(bad(format!(
                "offset {} is not a multiple of the granularity {g}",
                r.offset_bytes
            )));
        }
        if r.offset_bytes + padded(r.tensor) > problem.capacity_bytes {
            return Err(bad(format!(
                "[{}, {}) exceeds the capacity of {} bytes",
                r.offset_bytes,
                r.offset_bytes + padded(r.tensor),
                problem.capacity_bytes
            )));
        }
        per_tensor[r.tensor].push(i);
    }
    Ok(per_tensor)
}

/// Checks every store is well formed; returns the store steps of each tensor.
fn store_steps(
    problem: &MemProblem,
    plan: &Plan,
    producer: &[Option<usize>],
    per_tensor: &[Vec<usize>],
) -> Result<Vec<Vec<usize>>, PlanVerifyError> {
    let nt = problem.tensors.len();
    let tname = |a: usize| tensor_name(problem, a);
    // Stores: well formed, grouped by tensor.
    let mut store_steps: Vec<Vec<usize>> = vec![Vec::new(); nt];
    for (i, s) in plan.stores.iter().enumerate() {
        let bad = |detail: &str| PlanVerifyError::BadStore {
            index: i,
            tensor: tname(s.tensor),
            step: s.step,
            detail: detail.into(),
        };
        if s.tensor >= nt {
            return Err(bad("tensor index out of range"));
        }
        if producer[s.tensor].is_none() {
            return Err(bad("weights and inputs are read-only and already off-chip"));
        }
        let covered = per_tensor[s.tensor].iter().any(|&ri| {
            let r = &plan.residencies[ri];
            r.first_step <= s.step && s.step <= r.last_step
        });
        if !covered {
            return Err(bad("the tensor is not resident at that step"));
        }
        store_steps[s.tensor].push(s.step);
    }

    Ok(store_steps)
}

/// Checks each tensor's residencies (no overlap in time, creation, loads after a
/// store, outputs stored); sorts them by first step and returns the loaded bytes.
fn check_tensor_residencies(
    problem: &MemProblem,
    plan: &Plan,
    producer: &[Option<usize>],
    step_of: &[usize],
    per_tensor: &mut [Vec<usize>],
    store_steps: &[Vec<usize>],
) -> Result<u64, PlanVerifyError> {
    let nt = problem.tensors.len();
    let tname = |a: usize| tensor_name(problem, a);
    let mut load_bytes = 0u64;
    for a in 0..nt {
        let list = &mut per_tensor[a];
        list.sort_by_key(|&ri| plan.residencies[ri].first_step);
        for w in list.windows(2) {
            let (x, y) = (&plan.residencies[w[0]], &plan.residencies[w[1]]);
            if y.first_step <= x.last_step {
                return Err(PlanVerifyError::DoubleResidency {
                    tensor: tname(a),
                    step: y.first_step,
                });
            }
        }
        let created: Vec<usize> = list
            .iter()
            .copied()
            .filter(|&ri| plan.residencies[ri].origin == Origin::Created)
            .collect();
        match producer[a] {
            None => {
                if !created.is_empty() {
                    return Err(PlanVerifyError::BadCreation {
                        tensor: tname(a),
                        detail: "weights and inputs cannot be created on-chip".into(),
                    });
                }
            }
            Some(p) => {
                if created.len() != 1 {
                    return Err(PlanVerifyError::BadCreation {
                        tensor: tname(a),
                        detail: format!("has {} created residencies, expected 1", created.len()),
                    });
                }
                let c = &plan.residencies[created[0]];
                if c.first_step != step_of[p] {
                    return Err(PlanVerifyError::BadCreation {
                        tensor: tname(a),
                        detail: format!(
                            "created residency starts at step {} but producer {} runs at step {}",
                            c.first_step, problem.ops[p].name, step_of[p]
                        ),
                    });
                }
                if list
                    .first()
                    .is_some_and(|&ri| plan.residencies[ri].first_step < step_of[p])
                {
                    return Err(PlanVerifyError::BadCreation {
                        tensor: tname(a),
                        detail: "resident before its producer runs".into(),
                    });
                }
            }
        }
        for &ri in list.iter() {
            let r = &plan.residencies[ri];
            if r.origin == Origin::Loaded {
                if producer[a].is_some() && !store_steps[a].iter().any(|&s| s < r.first_step) {
                    return Err(PlanVerifyError::LoadWithoutCopy {
                        tensor: tname(a),
                        step: r.first_step,
                    });
                }
                load_bytes += problem.tensors[a].bytes;
            }
        }
        if problem.tensors[a].kind == TensorKind::Output && store_steps[a].is_empty() {
            return Err(PlanVerifyError::OutputNotStored { tensor: tname(a) });
        }
    }

    Ok(load_bytes)
}

/// Checks every tensor an operator touches is resident at the operator's step.
fn check_touched_resident(
    problem: &MemProblem,
    plan: &Plan,
    per_tensor: &[Vec<usize>],
) -> Result<(), PlanVerifyError> {
    let tname = |a: usize| tensor_name(problem, a);
    // Residency of every touched tensor at its operator's step.
    for (t, &o) in plan.order.iter().enumerate() {
        let op = &problem.ops[o];
        for &a in op.inputs.iter().chain(op.outputs.iter()) {
            let ok = per_tensor[a].iter().any(|&ri| {
                let r = &plan.residencies[ri];
                r.first_step <= t && t <= r.last_step
            });
            if !ok {
                return Err(PlanVerifyError::MissingResidency {
                    op: op.name.clone(),
                    step: t,
                    tensor: tname(a),
                });
            }
        }
    }

    Ok(())
}

/// Checks the resident byte ranges are disjoint at every step; returns the peak bytes.
fn check_disjoint(problem: &MemProblem, plan: &Plan) -> Result<u64, PlanVerifyError> {
    let n = problem.ops.len();
    let tname = |a: usize| tensor_name(problem, a);
    let padded = |a: usize| padded_bytes(problem, a);
    // Pairwise disjointness at every step (sweep over steps, sort by offset).
    let mut starts: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (i, r) in plan.residencies.iter().enumerate() {
        starts[r.first_step].push(i);
    }
    let mut live: Vec<usize> = Vec::new();
    let mut peak = 0u64;
    for t in 0..n {
        live.retain(|&i| plan.residencies[i].last_step >= t);
        live.extend(starts[t].iter().copied());
        let mut ranges: Vec<(u64, u64, usize)> = live
            .iter()
            .map(|&i| {
                let r = &plan.residencies[i];
                (r.offset_bytes, r.offset_bytes + padded(r.tensor), r.tensor)
            })
            .collect();
        ranges.sort_unstable();
        for w in ranges.windows(2) {
            if w[1].0 < w[0].1 {
                return Err(PlanVerifyError::Overlap {
                    step: t,
                    a: tname(w[0].2),
                    a_lo: w[0].0,
                    a_hi: w[0].1,
                    b: tname(w[1].2),
                    b_lo: w[1].0,
                    b_hi: w[1].1,
                });
            }
        }
        peak = peak.max(ranges.iter().map(|r| r.1 - r.0).sum());
    }

    Ok(peak)
}
