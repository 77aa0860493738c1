//! The traffic mapper as a command: parse a scratchpad size, build the
//! problem from a graph, run the chosen planner and both baselines, verify
//! every plan, and render the result as a table or JSON (what `archscope map
//! --objective traffic` prints).

use std::fmt::Write as _;

use serde::Serialize;

use super::{
    AdaptOptions, Adapted, Budgets, MappingError, MemProblem, Origin, Plan, PlanStatus, TensorKind,
    Traffic, budgets, min_working_set, plan_arena, plan_default, plan_with,
    problem_from_graph_unchecked, verify,
};
use crate::workload::Graph;

/// A scratchpad size: bytes, or one of the COSMA budgets of the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Capacity {
    /// A fixed number of bytes.
    Bytes(u64),
    /// `M_R`, the largest single-op working set.
    MinWorkingSet,
    /// `M_H = (M_R + M_P) / 2`.
    Halfway,
    /// `M_P`, the minimum peak footprint over schedules.
    MinPeak,
}

impl std::fmt::Display for Capacity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Capacity::Bytes(b) => write!(f, "{}", human_bytes(*b)),
            Capacity::MinWorkingSet => f.write_str("M_R"),
            Capacity::Halfway => f.write_str("M_H"),
            Capacity::MinPeak => f.write_str("M_P"),
        }
    }
}

/// Parses a scratchpad size: a byte count (`65536`), a number with a unit
/// (`512KiB`, `1MiB`, `1.5MB`, `64kB`, `2GiB`; `B`, `KB`/`kB` = 1000,
/// `KiB` = 1024, `MB`, `MiB`, `GB`, `GiB`, case-insensitive), or a budget
/// name `mr`, `mh`, `mp` (also `M_R`, ...). Fractions are allowed when the
/// result is a whole number of bytes.
pub fn parse_capacity(text: &str) -> Result<Capacity, MappingError> {
    let bad = |why: String| MappingError::invalid(format!("scratchpad `{text}`"), why);
    let t = text.trim();
    let squashed: String = t
        .chars()
        .filter(|c| *c != '_')
        .flat_map(char::to_lowercase)
        .collect();
    match squashed.as_str() {
        "mr" => return Ok(Capacity::MinWorkingSet),
        "mh" => return Ok(Capacity::Halfway),
        "mp" => return Ok(Capacity::MinPeak),
        _ => {}
    }
    crate::util::size::parse_whole_bytes(t)
        .map(Capacity::Bytes)
        .map_err(|e| bad(e.to_string()))
}

pub use crate::util::size::{grouped, human_bytes};

/// Which planner the command runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Solver {
    /// One ILP over the whole graph ([`plan_ilp`]).
    Ilp,
    /// The better of the two baselines ([`plan_default`], [`plan_arena`]).
    Heuristic,
    /// Divide and conquer ([`plan_divide_and_conquer`]).
    DivideAndConquer,
    /// The framework default baseline alone ([`plan_default`]).
    Default,
    /// The TFLite arena baseline alone ([`plan_arena`]).
    Arena,
}

/// Settings of [`map_traffic`].
#[derive(Debug, Clone, PartialEq)]
pub struct TrafficRequest {
    /// The scratchpad.
    pub capacity: Capacity,
    /// The planner.
    pub solver: Solver,
    /// Wall-clock limit of the ILP (whole ILP, or per window for divide and conquer).
    pub time_limit_s: f64,
    /// How the graph becomes a problem.
    pub adapt: AdaptOptions,
}

/// One baseline's outcome.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Baseline {
    /// `default` (graph order, first-fit, Belady) or `arena` (TFLite greedy by size).
    pub method: String,
    /// The verified plan, if the heuristic found one.
    pub plan: Option<Plan>,
    /// Why not, otherwise.
    pub error: Option<String>,
}

/// The result of [`map_traffic`]: the problem, the budgets, the chosen plan
/// and the baselines, every plan verified.
#[derive(Debug, Clone, Serialize)]
pub struct TrafficReport {
    /// The adapted problem (with the capacity used).
    pub adapted: Adapted,
    /// The COSMA budgets of the problem.
    pub budgets: Budgets,
    /// What was asked for.
    pub capacity: Capacity,
    /// The capacity used, bytes.
    pub capacity_bytes: u64,
    /// The planner's verified plan.
    pub plan: Plan,
    /// What the verifier recomputed for `plan`.
    #[serde(skip)]
    pub traffic: Traffic,
    /// The two baselines, each verified.
    pub baselines: Vec<Baseline>,
}

/// Time limit of the `M_P` ILP computed for every report (a tuning choice:
/// on the built-in CNNs it solves in well under a second).
pub const BUDGET_TIME_LIMIT_S: f64 = 20.0;

/// Builds the problem from `graph`, resolves the capacity, runs the planner
/// and both baselines, and verifies every plan. A capacity below `M_R` is a
/// [`MappingError::Infeasible`] naming the op with the largest working set.
pub fn map_traffic(graph: &Graph, req: &TrafficRequest) -> Result<TrafficReport, MappingError> {
    if !(req.time_limit_s.is_finite() && req.time_limit_s > 0.0) {
        return Err(MappingError::invalid(
            "time limit",
            format!(
                "must be a positive number of seconds, got {}",
                req.time_limit_s
            ),
        ));
    }
    let mut adapted = problem_from_graph_unchecked(graph, &req.adapt)?;
    let b = budgets(
        &adapted.problem,
        BUDGET_TIME_LIMIT_S.min(req.time_limit_s.max(1.0)),
    )?;
    let cap = match req.capacity {
        Capacity::Bytes(x) => x,
        Capacity::MinWorkingSet => b.m_r.bytes,
        Capacity::Halfway => b.m_h_bytes,
        Capacity::MinPeak => b.m_p.bytes,
    };
    let g = adapted.problem.granularity_bytes;
    if b.m_r.bytes > cap / g * g {
        return Err(MappingError::Infeasible {
            op: b.m_r.op_name.clone(),
            needed_bytes: b.m_r.bytes,
            capacity_bytes: cap / g * g,
        });
    }
    adapted.problem.capacity_bytes = cap;
    let p = &adapted.problem;
    let mut baselines = Vec::new();
    for (method, r) in [("default", plan_default(p)), ("arena", plan_arena(p))] {
        let r = r.and_then(|plan| {
            verify(p, &plan)?;
            Ok(plan)
        });
        baselines.push(match r {
            Ok(plan) => Baseline {
                method: method.into(),
                plan: Some(plan),
                error: None,
            },
            Err(e) => Baseline {
                method: method.into(),
                plan: None,
                error: Some(e.to_string()),
            },
        });
    }
    let plan = match req.solver {
        Solver::Ilp | Solver::DivideAndConquer => plan_with(p, req.solver, req.time_limit_s)?,
        Solver::Default | Solver::Arena => {
            let name = if req.solver == Solver::Default {
                "default"
            } else {
                "arena"
            };
            let b = baselines
                .iter()
                .find(|b| b.method == name)
                .ok_or_else(|| MappingError::Internal(format!("no {name} baseline")))?;
            b.plan
                .clone()
                .ok_or_else(|| MappingError::HeuristicFailed(b.error.clone().unwrap_or_default()))?
        }
        Solver::Heuristic => baselines
            .iter()
            .filter_map(|b| b.plan.clone())
            .min_by_key(|p| p.non_compulsory_bytes)
            .ok_or_else(|| {
                MappingError::HeuristicFailed(
                    baselines
                        .iter()
                        .filter_map(|b| b.error.clone())
                        .collect::<Vec<_>>()
                        .join("; "),
                )
            })?,
    };
    let traffic = verify(p, &plan)?;
    Ok(TrafficReport {
        budgets: b,
        capacity: req.capacity,
        capacity_bytes: cap,
        plan,
        traffic,
        baselines,
        adapted,
    })
}

/// The largest resolution in `lo..=hi` (a multiple of `step`) whose `M_R`,
/// as returned by `m_r_at`, fits in `capacity_bytes`; `None` if none does.
/// `m_r_at` returns `None` for a resolution the network cannot be built at.
/// `M_R` grows with the resolution, so the scan goes down from `hi`.
pub fn largest_feasible_resolution(
    capacity_bytes: u64,
    lo: u64,
    hi: u64,
    step: u64,
    m_r_at: impl Fn(u64) -> Option<u64>,
) -> Option<u64> {
    let step = step.max(1);
    let mut r = hi / step * step;
    while r >= lo.max(1) {
        if m_r_at(r).is_some_and(|m| m <= capacity_bytes) {
            return Some(r);
        }
        if r < step {
            break;
        }
        r -= step;
    }
    None
}

/// `M_R` of a graph under `opts`, with its op (`None` if the graph cannot
/// be adapted).
pub fn graph_m_r(graph: &Graph, opts: &AdaptOptions) -> Option<super::WorkingSet> {
    let a = problem_from_graph_unchecked(graph, opts).ok()?;
    min_working_set(&a.problem).ok()
}

/// What a smaller input resolution would do, for [`infeasible_message`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResolutionHint {
    /// `res` is the largest resolution (scanning down) whose `M_R`, `m_r`, fits.
    Fits {
        /// The resolution.
        res: u64,
        /// Its `M_R`, bytes.
        m_r: u64,
    },
    /// Not even `res`, the lowest tried, fits: its `M_R` is `m_r` in op `op`
    /// (typically a weight-bound op when weights are included).
    NoneFits {
        /// The lowest resolution tried.
        res: u64,
        /// Its `M_R`, bytes.
        m_r: u64,
        /// The op with that working set.
        op: String,
    },
}

/// The message for a scratchpad below `M_R`: the numbers, the op, and what
/// would work (a scratchpad of at least `M_R`, and, for a network with an
/// input resolution `(current, hint)`, a smaller resolution or why none helps).
pub fn infeasible_message(
    model: &str,
    op: &str,
    needed_bytes: u64,
    capacity_bytes: u64,
    resolution: Option<(u64, ResolutionHint)>,
) -> String {
    let at = resolution
        .as_ref()
        .map_or(String::new(), |(r, _)| format!(" at {r}x{r}"));
    let mut s = format!(
        "{model}{at} does not fit a {} ({} B) scratchpad: op `{op}` needs {} B ({}) resident at once \
         (its inputs plus outputs; this is M_R, the smallest scratchpad any schedule can use). \
         Use --scratchpad {needed_bytes} or more (or --scratchpad mr)",
        human_bytes(capacity_bytes),
        grouped(capacity_bytes),
        grouped(needed_bytes),
        human_bytes(needed_bytes),
    );
    match resolution {
        Some((_, ResolutionHint::Fits { res, m_r })) => {
            s += &format!(
                ", or --resolution {res} or lower (M_R at {res}x{res} is {} B = {}, which fits)",
                grouped(m_r),
                human_bytes(m_r)
            )
        }
        Some((_, ResolutionHint::NoneFits { res, m_r, op })) => {
            s += &format!(
                "; a lower resolution does not help: even at {res}x{res} op `{op}` needs {} B",
                grouped(m_r)
            )
        }
        None => {}
    }
    s.push('.');
    s
}

fn status_name(s: PlanStatus) -> &'static str {
    match s {
        PlanStatus::Optimal => "optimal",
        PlanStatus::Feasible => "feasible",
        PlanStatus::TimedOut => "timed out",
        PlanStatus::Heuristic => "heuristic",
    }
}

/// Share of `base`'s non-compulsory bytes that `plan` removes, in percent
/// (`None` when the baseline has none).
pub fn reduction_pct(base: u64, plan: u64) -> Option<f64> {
    (base > 0).then(|| 100.0 * (base as f64 - plan as f64) / base as f64)
}

impl TrafficReport {
    fn tname(&self, a: usize) -> &str {
        &self.adapted.problem.tensors[a].name
    }

    /// Non-compulsory bytes of the `default` baseline's plan, when it has one.
    fn default_non_compulsory(&self) -> Option<u64> {
        self.baselines
            .iter()
            .find(|b| b.method == "default")
            .and_then(|b| b.plan.as_ref())
            .map(|p| p.non_compulsory_bytes)
    }

    /// Spills (stores of activations beyond the compulsory output stores)
    /// and reloads (loads after the first) of the plan, in step order:
    /// `(step, tensor, is_store)`.
    pub fn spills_and_reloads(&self) -> Vec<(usize, usize, bool)> {
        spills_and_reloads(&self.adapted.problem, &self.plan)
    }

    /// Title for [`super::chart`]: model, scratchpad, method and traffic.
    pub fn chart_title(&self) -> String {
        format!(
            "{}: {} scratchpad, {} ({}), non-compulsory {} B, compulsory {} B",
            self.adapted.graph_name,
            human_bytes(self.capacity_bytes),
            self.plan.method,
            status_name(self.plan.status),
            grouped(self.plan.non_compulsory_bytes),
            grouped(self.plan.compulsory_bytes)
        )
    }

    /// The human-readable report: summary first, then order, allocation
    /// and spills/reloads.
    pub fn to_table(&self) -> String {
        let p = &self.plan;
        let pr = &self.adapted.problem;
        let mut s = String::new();
        let _ = writeln!(s, "map traffic: {}", self.adapted.graph_name);
        let _ = writeln!(
            s,
            "scratchpad {} B ({}{}), granularity {} B, {} ops, {} tensors, {}",
            grouped(self.capacity_bytes),
            human_bytes(self.capacity_bytes),
            match self.capacity {
                Capacity::Bytes(_) => String::new(),
                c => format!(" = {c}"),
            },
            pr.granularity_bytes,
            pr.ops.len(),
            pr.tensors.len(),
            if self.adapted.include_weights {
                "weights in the scratchpad".to_string()
            } else {
                format!(
                    "activation only (weights streamed: {} B)",
                    grouped(self.adapted.total_streamed_bytes())
                )
            }
        );
        let b = &self.budgets;
        let _ = writeln!(
            s,
            "budgets: M_R {} B (op {}), M_H {} B, M_P {} B ({}; graph order {} B)",
            grouped(b.m_r.bytes),
            b.m_r.op_name,
            grouped(b.m_h_bytes),
            grouped(b.m_p.bytes),
            if b.m_p.optimal {
                "optimal".to_string()
            } else {
                format!("bound {} B", grouped(b.m_p.bound_bytes))
            },
            grouped(b.m_p.listed_order_bytes)
        );
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "solver {}: status {}, objective {} B, bound {}, gap {}, solve {:.3} s",
            p.method,
            status_name(p.status),
            grouped(p.non_compulsory_bytes),
            p.bound_bytes.map_or("-".to_string(), |v| format!(
                "{} B",
                grouped(v.round() as u64)
            )),
            p.gap
                .map_or("-".to_string(), |g| format!("{:.2} %", 100.0 * g)),
            p.solve_s
        );
        let _ = writeln!(
            s,
            "compulsory {} B, non-compulsory {} B, total {} B",
            grouped(p.compulsory_bytes),
            grouped(p.non_compulsory_bytes),
            grouped(p.total_bytes())
        );
        let default_nc = self.default_non_compulsory();
        for base in &self.baselines {
            match &base.plan {
                Some(bp) => {
                    let _ = writeln!(
                        s,
                        "baseline {:<8} non-compulsory {} B{}{}",
                        base.method,
                        grouped(bp.non_compulsory_bytes),
                        default_nc
                            .filter(|_| base.method != "default")
                            .and_then(|d| reduction_pct(d, bp.non_compulsory_bytes))
                            .map_or(String::new(), |r| format!(" ({r:.1} % less than default)")),
                        reduction_pct(bp.non_compulsory_bytes, p.non_compulsory_bytes).map_or(
                            String::new(),
                            |r| format!("; {} removes {r:.1} %", p.method)
                        )
                    );
                }
                None => {
                    let _ = writeln!(
                        s,
                        "baseline {:<8} failed: {}",
                        base.method,
                        base.error.as_deref().unwrap_or("")
                    );
                }
            }
        }
        let _ = writeln!(
            s,
            "verifier: pass (recomputed loads {} B, stores {} B, peak {} B)",
            grouped(self.traffic.load_bytes),
            grouped(self.traffic.store_bytes),
            grouped(self.traffic.peak_bytes)
        );
        let _ = writeln!(s);
        let _ = writeln!(s, "order:");
        for (t, &o) in p.order.iter().enumerate() {
            let _ = writeln!(s, "  {t:>4}  {}", pr.ops[o].name);
        }
        let _ = writeln!(s);
        let _ = writeln!(s, "allocation (tensor, steps, offset, bytes, origin):");
        let mut res = p.residencies.clone();
        res.sort_by_key(|r| (r.first_step, r.offset_bytes));
        for r in &res {
            let _ = writeln!(
                s,
                "  {:<40} {:>4}..{:<4} @ {:>10}  {:>10}  {}",
                self.tname(r.tensor),
                r.first_step,
                r.last_step,
                grouped(r.offset_bytes),
                grouped(pr.tensors[r.tensor].bytes),
                match r.origin {
                    Origin::Created => "created",
                    Origin::Loaded => "loaded",
                }
            );
        }
        let _ = writeln!(s);
        let sr = self.spills_and_reloads();
        if sr.is_empty() {
            let _ = writeln!(s, "spills and reloads: none");
        } else {
            let _ = writeln!(s, "spills and reloads:");
            for (t, a, store) in sr {
                let _ = writeln!(
                    s,
                    "  step {t:>4}  {:<6} {:<40} {} B",
                    if store { "spill" } else { "reload" },
                    self.tname(a),
                    grouped(pr.tensors[a].bytes)
                );
            }
        }
        s
    }

    /// The JSON report: `status`, `compulsory_bytes`, `non_compulsory_bytes`,
    /// `solve_s`, `order` (op names) and more, plus the baselines and the
    /// full plan.
    pub fn to_json(&self) -> serde_json::Value {
        let p = &self.plan;
        let pr = &self.adapted.problem;
        let default_nc = self.default_non_compulsory();
        serde_json::json!({
            "model": self.adapted.graph_name,
            "capacity": self.capacity,
            "capacity_bytes": self.capacity_bytes,
            "granularity_bytes": pr.granularity_bytes,
            "include_weights": self.adapted.include_weights,
            "streamed_bytes": self.adapted.total_streamed_bytes(),
            "budgets": {
                "m_r_bytes": self.budgets.m_r.bytes,
                "m_r_op": self.budgets.m_r.op_name,
                "m_h_bytes": self.budgets.m_h_bytes,
                "m_p_bytes": self.budgets.m_p.bytes,
                "m_p_optimal": self.budgets.m_p.optimal,
                "m_p_bound_bytes": self.budgets.m_p.bound_bytes,
            },
            "method": p.method,
            "status": p.status,
            "objective_bytes": p.non_compulsory_bytes,
            "bound_bytes": p.bound_bytes,
            "gap": p.gap,
            "compulsory_bytes": p.compulsory_bytes,
            "non_compulsory_bytes": p.non_compulsory_bytes,
            "solve_s": p.solve_s,
            "order": p.order.iter().map(|&o| pr.ops[o].name.clone()).collect::<Vec<_>>(),
            "verifier": {
                "pass": true,
                "load_bytes": self.traffic.load_bytes,
                "store_bytes": self.traffic.store_bytes,
                "peak_bytes": self.traffic.peak_bytes,
            },
            "baselines": self.baselines.iter().map(|b| serde_json::json!({
                "method": b.method,
                "compulsory_bytes": b.plan.as_ref().map(|p| p.compulsory_bytes),
                "non_compulsory_bytes": b.plan.as_ref().map(|p| p.non_compulsory_bytes),
                "reduction_vs_default_pct": b.plan.as_ref().and_then(|bp| default_nc.and_then(|d| reduction_pct(d, bp.non_compulsory_bytes))),
                "error": b.error,
            })).collect::<Vec<_>>(),
            "reduction_vs_default_pct": default_nc.and_then(|d| reduction_pct(d, p.non_compulsory_bytes)),
            "spills_and_reloads": self.spills_and_reloads().into_iter().map(|(t, a, st)| serde_json::json!({
                "step": t, "tensor": pr.tensors[a].name, "kind": if st { "spill" } else { "reload" }, "bytes": pr.tensors[a].bytes,
            })).collect::<Vec<_>>(),
            "tensors": pr.tensors,
            "ops": pr.ops.iter().map(|o| o.name.clone()).collect::<Vec<_>>(),
            "plan": p,
        })
    }
}

/// Spills and reloads of `plan` in step order, `(step, tensor, is_store)`:
/// every store except the compulsory first store of an output, and every
/// load except the compulsory first load of a weight or input.
pub fn spills_and_reloads(pr: &MemProblem, plan: &Plan) -> Vec<(usize, usize, bool)> {
    let mut ev: Vec<(usize, usize, bool)> = plan
        .residencies
        .iter()
        .filter(|r| r.origin == Origin::Loaded)
        .map(|r| (r.first_step, r.tensor, false))
        .chain(plan.stores.iter().map(|s| (s.step, s.tensor, true)))
        .collect();
    ev.sort_unstable();
    let nt = pr.tensors.len();
    let (mut loaded, mut stored) = (vec![false; nt], vec![false; nt]);
    ev.into_iter()
        .filter(|&(_, a, st)| {
            let kind = pr.tensors.get(a).map(|t| t.kind);
            if st {
                let first = !std::mem::replace(&mut stored[a], true);
                !(first && kind == Some(TensorKind::Output))
            } else {
                let first = !std::mem::replace(&mut loaded[a], true);
                !(first && matches!(kind, Some(TensorKind::Weight | TensorKind::Input)))
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capacities_parse_with_units_fractions_and_budget_names() {
        let b = |s: &str| parse_capacity(s).unwrap();
        assert_eq!(b("512KiB"), Capacity::Bytes(524_288));
        assert_eq!(b("1MiB"), Capacity::Bytes(1_048_576));
        assert_eq!(b("1.5MB"), Capacity::Bytes(1_500_000));
        assert_eq!(b("1.5 KiB"), Capacity::Bytes(1536));
        assert_eq!(b("65536"), Capacity::Bytes(65_536));
        assert_eq!(b("64kB"), Capacity::Bytes(64_000));
        assert_eq!(b("mr"), Capacity::MinWorkingSet);
        assert_eq!(b("M_H"), Capacity::Halfway);
        assert_eq!(b("MP"), Capacity::MinPeak);
        for bad in [
            "",
            "12XB",
            "1.5.2MB",
            "0",
            "0.3B",
            "KiB",
            "99999999999999GiB",
        ] {
            assert!(parse_capacity(bad).is_err(), "{bad} should not parse");
        }
        let e = parse_capacity("1.0001KB").unwrap_err().to_string();
        assert!(e.contains("whole number of bytes"), "{e}");
    }

    #[test]
    fn byte_formatting() {
        assert_eq!(grouped(1_505_280), "1,505,280");
        assert_eq!(grouped(999), "999");
        assert_eq!(human_bytes(524_288), "512.00 KiB");
        assert_eq!(human_bytes(1_505_280), "1.44 MiB");
    }

    #[test]
    fn resolution_scan_picks_largest_fitting_multiple() {
        // M_R = 30 r² bytes: 512 KiB fits r ≤ 132.
        let r = largest_feasible_resolution(524_288, 32, 224, 8, |r| Some(30 * r * r));
        assert_eq!(r, Some(128));
        assert_eq!(
            largest_feasible_resolution(100, 32, 224, 8, |r| Some(30 * r * r)),
            None
        );
    }
}
