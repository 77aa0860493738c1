//! The unit dimension of a design space, shared by the LLM and CNN evaluators.
//!
//! A value of a unit axis is one of:
//! * a unit of the device, by name (`gpu`, `cpu-mid`): every op on that unit, priced by its own
//!   cost model ([`crate::cost_models::model_for`]);
//! * `UNIT@T` (`cpu-mid@2`): a unit priced by the CPU cycle model (`params.model = "cpu"`)
//!   running on `T` of its cores. The evaluator prices it as an extra unit of the device, a copy
//!   of `UNIT` with `params.threads = T` (the cycle model scales compute and private-cache
//!   bandwidth with the threads and caps shared levels at their peak, see
//!   [`crate::cycle::cpu`]);
//! * [`ILP_UNIT`] (`ilp`): every op placed on the device's units by the placement ILP
//!   ([`crate::placement::place`], makespan objective, a time limit per distinct graph), the
//!   heterogeneous deployment beside the single-unit ones.

use crate::cost::{Ledger, Mode};
use crate::cost_models::model_for;
use crate::hardware::Hardware;
use crate::placement::{self, Instance, Limits, Objective, Placement, Status};
use crate::workload::Graph;

/// The unit-axis value that asks for an ILP placement over the device's units.
pub const ILP_UNIT: &str = "ilp";

/// Default time limit of one placement solve in explore, seconds: a few seconds per distinct
/// graph keeps a sweep of tens of graphs within minutes, and the placement ILP of issue 8 proves
/// most single-graph placements optimal within 0.2-16 s (HEFT is the fallback when it cannot).
pub const DEFAULT_PLACEMENT_TIME_S: f64 = 5.0;

/// Separator between a unit name and its thread count.
pub const THREAD_SEP: char = '@';

/// What one value of a unit axis means.
#[derive(Clone, Debug, PartialEq)]
pub enum UnitChoice {
    /// A unit of the device, or a thread variant appended to it ([`augment`]): its index in the
    /// augmented device.
    Unit(usize),
    /// The placement ILP over the base units listed.
    Ilp,
}

/// A thread variant: a copy of a CPU unit running `threads` of its cores.
#[derive(Clone, Debug, PartialEq)]
pub struct Variant {
    /// `UNIT@T`.
    pub name: String,
    /// Index of `UNIT` in the device.
    pub base: usize,
    /// Threads.
    pub threads: u64,
}

/// Threads of a point's unit, as its cost model reports them
/// ([`crate::cost::CostModel::thread_count`]): `None` for units whose model has no thread count
/// (or cannot be built) and for the ILP.
pub fn threads_of(hw: &Hardware, unit: usize) -> Option<f64> {
    model_for(hw, unit, Mode::Calibrated)
        .ok()
        .and_then(|m| m.thread_count())
}

/// True when the unit's cost model has a thread count (the CPU cycle model).
pub fn has_thread_count(hw: &Hardware, unit: usize) -> bool {
    threads_of(hw, unit).is_some()
}

/// Errors reading unit-axis values.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum UnitError {
    /// A malformed or impossible `UNIT@T`.
    #[error("unit `{0}`: {1}")]
    Bad(String, String),
}

/// Splits `UNIT@T` into the base unit index and the thread count, checking both.
pub fn parse_variant(hw: &Hardware, value: &str) -> Result<Option<Variant>, UnitError> {
    let Some((base, t)) = value.split_once(THREAD_SEP) else {
        return Ok(None);
    };
    let bad = |m: String| UnitError::Bad(value.to_string(), m);
    let b = hw.unit_index(Some(base)).map_err(|e| bad(e.to_string()))?;
    if !has_thread_count(hw, b) {
        return Err(bad(format!(
            "`{base}` is not priced by the CPU cycle model (params.model = \"cpu\"), so it has no thread count"
        )));
    }
    let count = hw.units[b].count.round() as u64;
    let threads: u64 = t
        .parse()
        .ok()
        .filter(|&x| (1..=count).contains(&x))
        .ok_or_else(|| {
            bad(format!(
                "`{t}` is not a thread count from 1 to the {count} cores of `{base}`"
            ))
        })?;
    Ok(Some(Variant {
        name: value.to_string(),
        base: b,
        threads,
    }))
}

/// Thread counts swept by default on a CPU-model unit that runs `all` threads: powers of two
/// below `all` (1, 2, 4, ...), plus `all` itself (the plain unit name). At most 65 counts, since
/// the doubling stops before it would pass 64 bits (and hardware validation caps a unit's cores
/// at [`crate::hardware::MAX_UNIT_COUNT`], so a real list has at most 25).
pub fn default_thread_counts(all: u64) -> Vec<u64> {
    let mut v: Vec<u64> = std::iter::successors(Some(1u64), |t| t.checked_mul(2))
        .take_while(|&t| t < all)
        .collect();
    v.push(all);
    v
}

/// Expands a unit list with thread variants: each CPU-model unit named without `@` gets
/// `UNIT@T` for every `T` of `threads` (or of [`default_thread_counts`] when `threads` is `None`)
/// other than its default thread count, which is the plain name. Other values pass through.
pub fn expand_threads(
    hw: &Hardware,
    units: &[String],
    threads: Option<&[u64]>,
) -> Result<Vec<String>, UnitError> {
    let mut out: Vec<String> = Vec::new();
    let push = |s: String, out: &mut Vec<String>| {
        if !out.contains(&s) {
            out.push(s);
        }
    };
    for u in units {
        if u == ILP_UNIT || u.contains(THREAD_SEP) {
            parse_variant(hw, u)?;
            push(u.clone(), &mut out);
            continue;
        }
        let Ok(i) = hw.unit_index(Some(u)) else {
            push(u.clone(), &mut out);
            continue;
        };
        let Some(all) = threads_of(hw, i) else {
            push(u.clone(), &mut out);
            continue;
        };
        let all = all.round().max(1.0) as u64;
        let count = hw.units[i].count.round() as u64;
        let ts: Vec<u64> = match threads {
            Some(t) => t.iter().map(|&x| if x == 0 { all } else { x }).collect(),
            None => default_thread_counts(all),
        };
        for t in ts {
            if t == all {
                push(u.clone(), &mut out);
            } else if t <= count {
                push(format!("{u}{THREAD_SEP}{t}"), &mut out);
            }
        }
    }
    Ok(out)
}

/// The device with each thread variant appended as a unit of its own (a copy of its base unit
/// with `params.threads` set), so that costs, residency and bounds work by unit index.
pub fn augment(hw: &Hardware, variants: &[Variant]) -> Hardware {
    let mut h = hw.clone();
    for v in variants {
        let mut u = hw.units[v.base].clone();
        u.name = v.name.clone();
        u.params
            .insert("threads".into(), toml::Value::Integer(v.threads as i64));
        h.units.push(u);
    }
    h
}

/// Reads the values of a unit axis: the choices (indices into the device augmented with the
/// returned variants) and the variants.
pub fn resolve(
    hw: &Hardware,
    values: &[String],
) -> Result<(Vec<UnitChoice>, Vec<Variant>), UnitError> {
    let mut variants: Vec<Variant> = Vec::new();
    let mut choices = Vec::new();
    for v in values {
        if v == ILP_UNIT {
            choices.push(UnitChoice::Ilp);
        } else if let Some(var) = parse_variant(hw, v)? {
            let i = match variants.iter().position(|x| x.name == var.name) {
                Some(i) => i,
                None => {
                    variants.push(var);
                    variants.len() - 1
                }
            };
            choices.push(UnitChoice::Unit(hw.units.len() + i));
        } else {
            let i = hw
                .unit_index(Some(v))
                .map_err(|e| UnitError::Bad(v.clone(), e.to_string()))?;
            choices.push(UnitChoice::Unit(i));
        }
    }
    Ok((choices, variants))
}

/// Names of the base units an ILP placement may use: the plain units and the bases of the
/// thread variants listed (a variant's cluster is placed with all its threads), or every unit of
/// the device when the list names none.
pub fn ilp_units(hw: &Hardware, values: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for v in values {
        if v == ILP_UNIT {
            continue;
        }
        let base = v.split(THREAD_SEP).next().unwrap_or(v);
        if hw.unit_index(Some(base)).is_ok() && !out.iter().any(|x| x == base) {
            out.push(base.to_string());
        }
    }
    if out.is_empty() {
        out = hw.units.iter().map(|u| u.name.clone()).collect();
    }
    out
}

/// A phase placed by the ILP: totals as a ledger, and what the report shows about it.
#[derive(Clone, Debug)]
pub struct Placed {
    /// Makespan as `latency_s`; dynamic energy as `compute_j`, transfer energy as `memory_j`,
    /// static energy as `static_j`.
    pub ledger: Ledger,
    /// `optimal`, `feasible`, `timed out, gap X %`, `heft fallback`, with the units used.
    pub status: String,
    /// Indices (in the device) of the units that run at least one op.
    pub units_used: Vec<usize>,
    /// The placement.
    pub placement: Placement,
}

impl Placed {
    /// The outermost memory level each used unit reaches, sorted, once each: the levels a
    /// placed point's footprint is checked against.
    pub fn levels(&self, hw: &Hardware) -> Vec<usize> {
        let mut levels: Vec<usize> = (self.units_used.iter())
            .map(|&u| hw.main_level(u))
            .collect();
        levels.sort_unstable();
        levels.dedup();
        levels
    }
}

/// Places `graph` on `units` of `hw` with the ILP (makespan objective) within `time_limit_s`;
/// HEFT, the min-energy greedy or a single unit when one of them is faster than what the ILP
/// found in time (the status says which).
pub fn place_graph(
    hw: &Hardware,
    graph: &Graph,
    units: &[String],
    mode: Mode,
    time_limit_s: f64,
) -> Result<Placed, String> {
    let mut limits = Limits {
        time_limit_s,
        ..Limits::default()
    };
    limits.build.mode = mode;
    limits.build.units = Some(units.to_vec());
    let inst = Instance::from_graph(hw, graph, &limits.build).map_err(|e| e.to_string())?;
    let mut p = placement::place_instance(&inst, Objective::Makespan, &limits)
        .map_err(|e| e.to_string())?;
    // A time-limited solve (or HEFT) can lose to one unit alone; the single-unit schedules of
    // the same instance are checked too, so the ILP point is never slower than every one of them.
    if let Ok(b) = placement::baselines(&inst, &Objective::Makespan)
        && let Some(s) = b.best_single()
        && s.totals.objective < p.totals.objective * (1.0 - 1e-9)
    {
        p = s.clone();
    }
    let mut used: Vec<usize> = p.ops.iter().map(|o| o.unit).collect();
    used.sort_unstable();
    used.dedup();
    let used_names: Vec<&str> = used.iter().map(|&u| p.units[u].as_str()).collect();
    let units_used: Vec<usize> = used_names
        .iter()
        .filter_map(|n| hw.unit_index(Some(n)).ok())
        .collect();
    let how = if p.method.starts_with("heft")
        || p.method.contains("greedy")
        || p.method.starts_with("single-unit")
    {
        format!("{} fallback", p.method)
    } else {
        match (p.status, p.gap) {
            (Status::Optimal, _) => "optimal".to_string(),
            (Status::TimedOut, Some(g)) => format!("timed out, gap {:.1} %", g * 100.0),
            (Status::TimedOut, None) => "timed out".to_string(),
            (Status::Feasible, Some(g)) => format!("feasible, gap {:.1} %", g * 100.0),
            (Status::Feasible, None) => "feasible".to_string(),
            (Status::Heuristic, _) => format!("{} (heuristic)", p.method),
        }
    };
    let mut ledger = Ledger::zero();
    ledger.latency_s = p.totals.makespan_s;
    ledger.compute_j = p.totals.dynamic_j;
    ledger.memory_j = p.totals.transfer_j;
    ledger.static_j = p.totals.static_j;
    ledger.flops = graph.ops.iter().map(|o| o.kind.flops()).sum();
    Ok(Placed {
        ledger,
        status: format!("{how} on {}", used_names.join("+")),
        units_used,
        placement: p,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thread_counts_are_powers_of_two_and_all() {
        assert_eq!(default_thread_counts(1), vec![1]);
        assert_eq!(default_thread_counts(4), vec![1, 2, 4]);
        assert_eq!(default_thread_counts(6), vec![1, 2, 4, 6]);
    }

    #[test]
    fn pixel8_cpu_clusters_get_thread_variants() {
        let hw = Hardware::load("pixel8").unwrap();
        let all: Vec<String> = hw.units.iter().map(|u| u.name.clone()).collect();
        let v = expand_threads(&hw, &all, None).unwrap();
        // cpu-big has one X3 core: no variant; the 4-core A715 and A510 clusters get 1 and 2.
        assert_eq!(
            v,
            [
                "cpu-big",
                "cpu-mid@1",
                "cpu-mid@2",
                "cpu-mid",
                "cpu-little@1",
                "cpu-little@2",
                "cpu-little",
                "gpu",
                "tpu"
            ]
        );
        let (choices, vars) = resolve(&hw, &v).unwrap();
        assert_eq!(vars.len(), 4);
        let aug = augment(&hw, &vars);
        let UnitChoice::Unit(i) = choices[2] else {
            panic!()
        };
        assert_eq!(aug.units[i].name, "cpu-mid@2");
        assert_eq!(threads_of(&aug, i), Some(2.0));
        assert!(parse_variant(&hw, "gpu@2").is_err());
        assert!(parse_variant(&hw, "cpu-mid@5").is_err());
        assert!(parse_variant(&hw, "cpu-mid@x").is_err());
    }
}
