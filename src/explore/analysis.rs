//! Analysis of a run: feasibility under the spec's limits, the scenarios that `front_by`
//! splits the points into, and the Pareto front and best points of each.

use super::stream::{Counts, Judge};
use super::{ExploreError, MetricDef, Outcome, Results, Session, plots};
use crate::search::{Direction, Values, pareto_front};

/// The minimised objective vector of a physically feasible outcome with every objective present.
pub(super) fn objective_vector(
    metrics: &[MetricDef],
    objectives: &[usize],
    o: &Outcome,
) -> Option<Vec<f64>> {
    if o.infeasible.is_some() {
        return None;
    }
    objectives
        .iter()
        .map(|&i| {
            o.metrics[i]
                .filter(|v| v.is_finite())
                .map(|v| metrics[i].direction.key(v))
        })
        .collect()
}

/// One scenario: the points sharing values on the `front_by` axes, with their own front.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// Value index on each `front_by` axis ([`Analysis::group_axes`]).
    pub key: Vec<u32>,
    /// Rows of the scenario (of a streamed run's analysis: its kept rows, the front and the
    /// best points).
    pub rows: Vec<usize>,
    /// Its front, best first: by the objectives in order, then the other metrics, then id.
    pub front: Vec<usize>,
    /// Best feasible row on each objective (same tie-breaking), `None` if nothing is feasible.
    pub best: Vec<Option<usize>>,
}

/// Feasibility, constraint violations and the Pareto fronts of a run. From [`analyze`] its rows
/// are every point of the results; from a streamed run
/// ([`Tally::finish`](super::stream::Tally::finish)) they are the kept points only.
#[derive(Clone, Debug)]
pub struct Analysis {
    /// Metric indices of the objectives.
    pub objectives: Vec<usize>,
    /// Axis indices that split points into scenarios.
    pub group_axes: Vec<usize>,
    /// Feasible: runs, fits, and meets every limit.
    pub feasible: Vec<bool>,
    /// Why each infeasible point is infeasible.
    pub reasons: Vec<Option<String>>,
    /// On the Pareto front of the feasible points of its scenario.
    pub on_front: Vec<bool>,
    /// Every front row: scenario by scenario, each front best first.
    pub front: Vec<usize>,
    /// Scenarios in key order.
    pub scenarios: Vec<Scenario>,
    /// The scenario the detail plots show: the one nearest the middle value of each `front_by`
    /// axis (e.g. the middle context length) that has a feasible point.
    pub focus: Option<usize>,
    /// The point the detail plots show: the first front row of the focus scenario.
    pub chosen: Option<usize>,
    /// Points, feasible points and reasons of the whole run (also where the rows above are only
    /// the kept ones).
    pub counts: Counts,
}

impl Analysis {
    /// The scenario `sc`, as `axis=value` text (empty when there is one scenario).
    pub fn scenario_text(&self, session: &Session, sc: &Scenario) -> String {
        self.group_axes
            .iter()
            .zip(&sc.key)
            .filter(|&(&a, _)| session.space.axes[a].values.len() > 1)
            .map(|(&a, &d)| {
                let ax = &session.space.axes[a];
                let v = match &ax.values {
                    Values::Reals(v) => plots::eng(v[d as usize]),
                    other => other.text(d as usize),
                };
                format!("{}={v}", ax.name)
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Axis indices of the spec's `front_by` axes.
pub(super) fn group_axes(session: &Session) -> Result<Vec<usize>, ExploreError> {
    session
        .spec
        .front_by
        .iter()
        .map(|n| {
            session
                .space
                .axis(n)
                .ok_or_else(|| ExploreError::Request(format!("--front-by `{n}` is not an axis")))
        })
        .collect()
}

/// Orders two points best first: by the metrics of `first` in order, then by every other
/// metric in column order (a missing value last), then by id.
pub(super) fn rank_cmp(
    metrics: &[MetricDef],
    first: &[usize],
    a: (&Outcome, u64),
    b: (&Outcome, u64),
) -> std::cmp::Ordering {
    let key = |o: &Outcome, k: usize| {
        o.metrics[k]
            .map(|v| metrics[k].direction.key(v))
            .unwrap_or(f64::INFINITY)
    };
    first
        .iter()
        .copied()
        .chain((0..metrics.len()).filter(|k| !first.contains(k)))
        .map(|k| key(a.0, k).total_cmp(&key(b.0, k)))
        .find(|o| o.is_ne())
        .unwrap_or(std::cmp::Ordering::Equal)
        .then(a.1.cmp(&b.1))
}

/// The scenario the detail plots show: the one nearest the middle value of each `front_by`
/// axis that has a front.
pub(super) fn focus_of(
    session: &Session,
    group_axes: &[usize],
    scenarios: &[Scenario],
) -> Option<usize> {
    let mid: Vec<i64> = group_axes
        .iter()
        .map(|&a| ((session.space.axes[a].values.len() - 1) / 2) as i64)
        .collect();
    (0..scenarios.len())
        .filter(|&s| !scenarios[s].front.is_empty())
        .min_by_key(|&s| {
            scenarios[s]
                .key
                .iter()
                .zip(&mid)
                .map(|(&d, &c)| (d as i64 - c).abs())
                .sum::<i64>()
        })
}

/// Reason categories for the infeasibility summary.
pub fn reason_kind(clause: &str) -> &'static str {
    // A runtime's refusal reads "runtime `X` does not run ...; it runs: ..." (two clauses).
    if clause.contains("runtime `") || clause.starts_with("it runs:") {
        "the runtime does not run it"
    } else if clause.contains("usable") {
        "does not fit in memory"
    } else if clause.contains("compute for op") {
        "a unit lacks the dtype"
    } else if clause.contains("what-if device") {
        "what-if device is invalid"
    } else if clause.contains("trained context") {
        "context beyond the model's"
    } else if clause.starts_with("infeasible split") {
        "the model or node cannot take the split"
    } else if clause.contains(" --") {
        "breaks a limit"
    } else {
        "other"
    }
}

/// Applies the spec's limits and computes the front of each scenario, over results held in
/// memory (every row). Large runs go through [`Tally`](super::stream::Tally) instead, which
/// keeps only the fronts and best points.
pub fn analyze(session: &Session, results: &Results) -> Result<Analysis, ExploreError> {
    let metrics = session.metrics();
    let objectives = session.objective_indices()?;
    let group_axes = group_axes(session)?;
    let judge = Judge::new(session)?;
    let n = results.points.len();
    let mut feasible = vec![false; n];
    let mut reasons = vec![None; n];
    let mut counts = Counts::default();
    let m = objectives.len();
    let mut vectors = vec![f64::NAN; n * m];
    for (i, o) in results.outcomes.iter().enumerate() {
        match judge.judge(o) {
            Ok(v) => {
                feasible[i] = true;
                vectors[i * m..(i + 1) * m].copy_from_slice(&v);
                counts.add(None);
            }
            Err(why) => {
                counts.add(Some(&why));
                reasons[i] = Some(why);
            }
        }
    }
    let order = |rows: &mut Vec<usize>, first: &[usize]| {
        rows.sort_by(|&a, &b| {
            rank_cmp(
                metrics,
                first,
                (&results.outcomes[a], results.points[a].id),
                (&results.outcomes[b], results.points[b].id),
            )
        });
    };
    let mut groups: std::collections::BTreeMap<Vec<u32>, Vec<usize>> = Default::default();
    for (i, p) in results.points.iter().enumerate() {
        let key = group_axes.iter().map(|&a| p.digits[a]).collect();
        groups.entry(key).or_default().push(i);
    }
    let mut on_front = vec![false; n];
    let mut scenarios = Vec::with_capacity(groups.len());
    for (key, rows) in groups {
        let table: Vec<f64> = rows
            .iter()
            .flat_map(|&i| vectors[i * m..(i + 1) * m].iter().copied())
            .collect();
        let mut front: Vec<usize> = pareto_front(&table, m)
            .into_iter()
            .zip(&rows)
            .filter(|(on, _)| *on)
            .map(|(_, &i)| i)
            .collect();
        for &i in &front {
            on_front[i] = true;
        }
        order(&mut front, &objectives);
        let feasible_rows: Vec<usize> = rows.iter().copied().filter(|&i| feasible[i]).collect();
        let best = objectives
            .iter()
            .map(|&k| {
                let mut r = feasible_rows.clone();
                order(&mut r, &[k]);
                r.first().copied()
            })
            .collect();
        scenarios.push(Scenario {
            key,
            rows,
            front,
            best,
        });
    }
    let focus = focus_of(session, &group_axes, &scenarios);
    Ok(Analysis {
        chosen: focus.map(|s| scenarios[s].front[0]),
        front: scenarios.iter().flat_map(|s| s.front.clone()).collect(),
        objectives,
        group_axes,
        feasible,
        reasons,
        on_front,
        scenarios,
        focus,
        counts,
    })
}

/// A number in short scientific or plain notation for messages.
pub fn fmt_num(v: f64) -> String {
    if v != 0.0 && (v.abs() >= 1e5 || v.abs() < 1e-3) {
        format!("{v:.3e}")
    } else {
        format!("{}", (v * 1e4).round() / 1e4)
    }
}

/// Direction of a metric by name, for callers that only have names.
pub fn direction_of(metrics: &[MetricDef], name: &str) -> Option<Direction> {
    metrics.iter().find(|m| m.name == name).map(|m| m.direction)
}
