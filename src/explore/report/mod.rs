//! The report of an exploration: tables (Parquet and CSV), plots (SVG and PNG), a terminal
//! summary, and `report.html`, self-contained with the SVGs inline. This module writes the
//! directory and draws the plots; the page itself is built in `html.rs`.
//!
//! Everything written depends only on the inputs (device and model text, space, seed, objectives,
//! limits, command line): no time stamps or timings go into files, rows are sorted by point id and
//! the front by its objectives, so the same run writes the same bytes.

mod html;

use super::eval::PhaseDetail;
use super::files::{atomic_write, slug};
use super::llm::si;
use super::plots::{
    self, BandedScatter, Chart, CurvePanel, Curves, ErrorBar, RoofOp, RooflineChart, Scatter,
    ScatterPoint, StackPanel, Stacked,
};
use super::{Analysis, ExploreError, MetricDef, Results, Session, fmt_num, table};
use crate::hardware::Unit;
use crate::search::{AxisKind, Direction, Values};
use crate::workload::OpKind;
use html::html;
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::path::Path;

/// Most dominated points drawn in a scatter; beyond this every k-th is drawn (the front always
/// is), which keeps the SVG small enough for a browser. The tables keep every point.
pub const MAX_SCATTER_POINTS: usize = 20_000;

/// Most distinct front trade-offs listed in the terminal summary (the HTML lists all).
pub const SUMMARY_FRONT_ROWS: usize = 25;

/// With more scenarios than this, the terminal summary lists only the focus scenario's front.
pub const SUMMARY_SCENARIOS: usize = 6;

/// Most scenarios tabulated in `report.html` (the focus scenario always is); `front.csv` and
/// `points.csv` hold every one.
pub const HTML_SCENARIOS: usize = 60;

/// The scenarios to list, given a cap: all when few, else the focus and the first others.
fn listed(fronts: &[(usize, Vec<Vec<usize>>)], focus: Option<usize>, cap: usize) -> Vec<usize> {
    if fronts.len() <= cap {
        return (0..fronts.len()).collect();
    }
    let mut out: Vec<usize> = (0..fronts.len())
        .filter(|&i| Some(fronts[i].0) == focus)
        .collect();
    out.extend(
        (0..fronts.len())
            .filter(|&i| Some(fronts[i].0) != focus)
            .take(cap.saturating_sub(out.len())),
    );
    out.sort_unstable();
    out
}

/// A rendered chart.
pub struct Plot {
    /// File stem and HTML id.
    pub id: String,
    /// Heading.
    pub title: String,
    /// What it shows.
    pub caption: String,
    /// SVG text.
    pub svg: String,
}

fn render<F: Chart>(
    dir: &Path,
    id: &str,
    title: &str,
    caption: String,
    fig: &F,
) -> Result<Plot, ExploreError> {
    let werr = |path: &Path, message: String| ExploreError::Write {
        path: path.display().to_string(),
        message,
    };
    let svg_path = dir.join(format!("{id}.svg"));
    let svg = plots::to_svg(fig).map_err(|m| werr(&svg_path, m))?;
    atomic_write(&svg_path, svg.as_bytes())?;
    let png_path = dir.join(format!("{id}.png"));
    super::files::atomic_write_with(&png_path, |tmp| plots::to_png(fig, tmp))?;
    Ok(Plot {
        id: id.to_string(),
        title: title.to_string(),
        caption,
        svg,
    })
}

/// The front of each scenario grouped into tie groups: runs of rows with identical objective
/// vectors. Returns (scenario index, groups) for scenarios with a front.
fn tie_groups(results: &Results, a: &Analysis) -> Vec<(usize, Vec<Vec<usize>>)> {
    let mut out = Vec::new();
    for (si, sc) in a.scenarios.iter().enumerate() {
        let mut groups: Vec<Vec<usize>> = Vec::new();
        for &r in &sc.front {
            let same = groups.last().is_some_and(|g| {
                a.objectives
                    .iter()
                    .all(|&k| results.outcomes[g[0]].metrics[k] == results.outcomes[r].metrics[k])
            });
            if same {
                groups.last_mut().expect("non-empty").push(r);
            } else {
                groups.push(vec![r]);
            }
        }
        if !groups.is_empty() {
            out.push((si, groups));
        }
    }
    out
}

/// Short form of a metric value with its unit, from the column name's suffix.
pub fn show_metric(name: &str, v: Option<f64>) -> String {
    let Some(v) = v else {
        return "—".into();
    };
    if name.ends_with("_per_s") {
        if name.contains("tokens") {
            return format!("{} tok/s", three(v));
        }
        return si(v, "/s");
    }
    if name.ends_with("_bytes") {
        return si(v, "B");
    }
    if name.ends_with("_j") {
        return si(v, "J");
    }
    if name.ends_with("_s") {
        return si(v, "s");
    }
    fmt_num(v)
}

fn three(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// A short description of a point's knobs, e.g. `w4a8, prefill gpu, decode tpu, ctx 4096`.
fn describe(session: &Session, results: &Results, row: usize) -> String {
    let p = &results.points[row];
    session
        .space
        .axes
        .iter()
        .enumerate()
        .filter(|(_, a)| a.values.len() > 1 || a.name == "quant" || a.name.ends_with("unit"))
        .map(|(i, a)| {
            let v = session.space.text(p, i);
            match a.name.as_str() {
                "quant" => v,
                "prefill_unit" => format!("prefill {v}"),
                "decode_unit" => format!("decode {v}"),
                "unit" => format!("on {v}"),
                "batch" => format!("batch {v}"),
                "prompt_tokens" => format!("prompt {v}"),
                "context_tokens" => format!("ctx {v}"),
                _ if a.kind == AxisKind::Hardware => {
                    format!(
                        "{}={}",
                        a.name,
                        plots::eng(a.values.number(p.digits[i] as usize).unwrap_or(f64::NAN))
                    )
                }
                _ => format!("{}={v}", a.name),
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The knobs of a point that are not scenario axes, e.g. `w4a8, prefill gpu, decode tpu`.
fn describe_knobs(session: &Session, results: &Results, row: usize) -> String {
    let p = &results.points[row];
    let group: Vec<usize> = session
        .spec
        .front_by
        .iter()
        .filter_map(|n| session.space.axis(n))
        .collect();
    session
        .space
        .axes
        .iter()
        .enumerate()
        .filter(|(i, a)| {
            !group.contains(i)
                && (a.values.len() > 1 || a.name == "quant" || a.name.ends_with("unit"))
        })
        .map(|(i, a)| {
            let v = session.space.text(p, i);
            match a.name.as_str() {
                "quant" => v,
                "prefill_unit" => format!("prefill {v}"),
                "decode_unit" => format!("decode {v}"),
                "unit" => format!("on {v}"),
                "batch" => format!("batch {v}"),
                "prompt_tokens" => format!("prompt {v}"),
                "context_tokens" => format!("ctx {v}"),
                _ if a.kind == AxisKind::Hardware => format!(
                    "{}={}",
                    a.name,
                    plots::eng(a.values.number(p.digits[i] as usize).unwrap_or(f64::NAN))
                ),
                _ => format!("{}={v}", a.name),
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// " within each context_tokens" or "" when there is one scenario.
fn scenario_phrase(session: &Session, a: &Analysis) -> String {
    let names: Vec<&str> = a
        .group_axes
        .iter()
        .filter(|&&g| session.space.axes[g].values.len() > 1)
        .map(|&g| session.space.axes[g].name.as_str())
        .collect();
    if names.is_empty() {
        String::new()
    } else {
        format!(
            " within each {} ({} scenarios)",
            names.join(" × "),
            a.scenarios.len()
        )
    }
}

/// Reason categories for the infeasibility summary.
fn reason_kind(clause: &str) -> &'static str {
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
    } else if clause.contains(" --") {
        "breaks a limit"
    } else {
        "other"
    }
}

/// "N points", or, on a grid that leaves out combinations its constraints rule out (a prompt
/// longer than the context), "N of M points (K skipped: A above B)".
fn evaluated_clause(session: &Session, n: usize) -> String {
    let space = &session.space;
    let total = space.total().unwrap_or(0);
    if session.spec.samples.is_some() || total <= n as u64 || space.le.is_empty() {
        return format!("{n} points");
    }
    let rules = space
        .le
        .iter()
        .map(|&(x, y)| format!("{} above {}", space.axes[x].name, space.axes[y].name))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "{n} of {total} points ({} skipped: {rules})",
        total - n as u64
    )
}

fn infeasible_counts(a: &Analysis) -> BTreeMap<&'static str, usize> {
    let mut counts = BTreeMap::new();
    for r in a.reasons.iter().flatten() {
        let mut kinds: Vec<&str> = r.split("; ").map(reason_kind).collect();
        kinds.sort_unstable();
        kinds.dedup();
        for k in kinds {
            *counts.entry(k).or_insert(0) += 1;
        }
    }
    counts
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The category a point is coloured by: the quantization axis if there is one, else the first
/// axis of names.
fn colour_axis(session: &Session) -> Option<usize> {
    session.space.axis("quant").or_else(|| {
        session
            .space
            .axes
            .iter()
            .position(|a| matches!(a.values, Values::Names(_)))
    })
}

fn pareto_plots(
    session: &Session,
    results: &Results,
    a: &Analysis,
    dir: &Path,
) -> Result<Vec<Plot>, ExploreError> {
    let metrics = session.metrics();
    let mut pairs: Vec<(usize, usize)> = a.objectives[1..]
        .iter()
        .map(|&k| (a.objectives[0], k))
        .collect();
    if pairs.is_empty() {
        let o = a.objectives[0];
        let other = session
            .metric_index("memory_bytes")
            .ok()
            .filter(|&k| k != o)
            .unwrap_or(if o == 0 { 1 } else { 0 });
        pairs.push((o, other));
    }
    let caxis = colour_axis(session);
    let groups: Vec<String> = match caxis {
        Some(c) => (0..session.space.axes[c].values.len())
            .map(|i| session.space.axes[c].values.text(i))
            .collect(),
        None => vec!["points".into()],
    };
    let dominated = (0..results.points.len())
        .filter(|&i| !a.on_front[i])
        .count();
    let stride = dominated.div_ceil(MAX_SCATTER_POINTS).max(1);
    let mut out = Vec::new();
    // The band columns of a metric (`NAME_low`, `NAME_high`), where it has them.
    let band_of = |k: usize| {
        let name = metrics[k].name;
        let lo = session.metric_index(&format!("{name}_low")).ok()?;
        let hi = session.metric_index(&format!("{name}_high")).ok()?;
        Some((lo, hi))
    };
    let band_labels: Vec<usize> = session
        .evaluator
        .labels()
        .iter()
        .enumerate()
        .filter(|(_, l)| l.ends_with("band"))
        .map(|(k, _)| k)
        .collect();
    for (x, y) in pairs {
        let mut seen = 0usize;
        let mut points = Vec::new();
        let mut bars = Vec::new();
        let mut labels: Vec<String> = Vec::new();
        let (xb, yb) = (band_of(x), band_of(y));
        for (i, o) in results.outcomes.iter().enumerate() {
            let (Some(xv), Some(yv)) = (o.metrics[x], o.metrics[y]) else {
                continue;
            };
            if !a.on_front[i] {
                seen += 1;
                if !(seen - 1).is_multiple_of(stride) {
                    continue;
                }
            }
            let range = |b: Option<(usize, usize)>, v: f64| match b {
                Some((lo, hi)) => match (o.metrics[lo], o.metrics[hi]) {
                    (Some(l), Some(h)) => Some((l, h)),
                    _ => None,
                },
                None => Some((v, v)),
            };
            if (xb.is_some() || yb.is_some())
                && let (Some(xr), Some(yr)) = (range(xb, xv), range(yb, yv))
            {
                bars.push(ErrorBar {
                    point: points.len(),
                    x: xr,
                    y: yr,
                });
                for &k in &band_labels {
                    let l = &o.labels[k];
                    if !l.is_empty() && !labels.contains(l) {
                        labels.push(l.clone());
                    }
                }
            }
            points.push(ScatterPoint {
                x: xv,
                y: yv,
                group: caxis.map_or(0, |c| results.points[i].digits[c] as usize),
                front: a.on_front[i],
                feasible: a.feasible[i],
            });
        }
        let (mx, my) = (&metrics[x], &metrics[y]);
        let fig = Scatter {
            title: format!(
                "{} on {}: {} vs {}",
                session.spec.model_name(),
                hw_short(session),
                my.name,
                mx.name
            ),
            subtitle: format!(
                "front within each scenario ringed; {} points{}",
                results.points.len(),
                if stride > 1 {
                    ", dominated points thinned"
                } else {
                    ""
                }
            ),
            x_label: mx.label.to_string(),
            y_label: my.label.to_string(),
            groups: groups.clone(),
            points,
        };
        let fig = BandedScatter { scatter: fig, bars };
        let banded = if labels.is_empty() {
            String::new()
        } else {
            labels.sort();
            format!(
                " Error bars on {}: the p10-p90 band of the measured value, from the errors of the prediction's class on the measurement set ({}).",
                [xb.map(|_| mx.name), yb.map(|_| my.name)]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" and "),
                labels.join("; ")
            )
        };
        let id = format!("pareto-{}-vs-{}", slug(my.name), slug(mx.name));
        let thinned = if stride > 1 {
            format!(" Every {stride}th dominated point is drawn; the tables hold all.")
        } else {
            String::new()
        };
        out.push(render(
            dir,
            &id,
            &format!("Pareto front: {} vs {}", my.name, mx.name),
            format!(
                "Every evaluated point, coloured by {}; the Pareto front over all objectives ({}) is ringed in black, infeasible points are grey crosses.{}",
                caxis.map_or("nothing", |c| session.space.axes[c].name.as_str()),
                a.objectives
                    .iter()
                    .map(|&k| format!("{} {}", metrics[k].name, metrics[k].direction.arrow()))
                    .collect::<Vec<_>>()
                    .join(", "),
                thinned
            ) + &banded,
            &fig,
        )?);
    }
    Ok(out)
}

fn hw_short(session: &Session) -> String {
    Path::new(&session.spec.hw_file)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| session.spec.hw_name.clone())
}

fn op_category(kind: &OpKind) -> &'static str {
    match kind {
        OpKind::MatMul { .. } | OpKind::MoeExperts { .. } | OpKind::MoeRouter { .. } => "linear",
        OpKind::Conv2d(_) => "conv",
        OpKind::Attention { .. } | OpKind::Rope { .. } | OpKind::KvAppend { .. } => "attention",
        OpKind::Norm { .. } => "norm",
        _ => "other",
    }
}

const CATEGORIES: [&str; 5] = ["linear", "conv", "attention", "norm", "other"];

/// Picks a unit prefix for values up to `max`: (divisor, prefix).
fn scale_for(max: f64) -> (f64, &'static str) {
    [
        (1.0, ""),
        (1e-3, "m"),
        (1e-6, "µ"),
        (1e-9, "n"),
        (1e-12, "p"),
    ]
    .into_iter()
    .find(|&(s, _)| max >= s)
    .unwrap_or((1e-12, "p"))
}

fn detail_plots(
    session: &Session,
    results: &Results,
    row: usize,
    details: &[PhaseDetail],
    dir: &Path,
) -> Result<Vec<Plot>, ExploreError> {
    let who = describe(session, results, row);
    let mut out = Vec::new();
    for d in details {
        let unit = &d.hw.units[d.unit];
        roofline_plot(&mut out, d, unit, &who, dir)?;
        layer_plot(&mut out, session, d, unit, &who, dir)?;
    }
    Ok(out)
}

/// The roofline of one phase of the chosen point on its unit.
fn roofline_plot(
    out: &mut Vec<Plot>,
    d: &PhaseDetail,
    unit: &Unit,
    who: &str,
    dir: &Path,
) -> Result<(), ExploreError> {
    // The ceilings as the unit's cost model sees them: a CPU-model unit running fewer
    // threads than cores has the ceilings and slopes of the running threads.
    let mode = if d.calibrated {
        crate::cost::Mode::Calibrated
    } else {
        crate::cost::Mode::Ideal
    };
    let crate::cost::Ceilings {
        compute: ceilings,
        bandwidth: slopes,
    } = match crate::cost_models::model_for(&d.hw, d.unit, mode) {
        Ok(m) => m.ceilings(),
        Err(_) => crate::cost::Ceilings::of_unit(&d.hw, d.unit, mode),
    };
    let inner = unit.reach[0];
    let mut kinds: Vec<String> = Vec::new();
    let mut ops = Vec::new();
    let mut skipped = 0usize;
    for (op, _) in d.graph.op_classes() {
        let i = op.0 as usize;
        let l = &d.per_op[i];
        let bytes = l.bytes[inner];
        if l.flops <= 0.0 || bytes <= 0.0 || l.latency_s <= 0.0 {
            skipped += 1;
            continue;
        }
        let kind = d.graph.ops[i].kind.name().to_string();
        let k = match kinds.iter().position(|x| *x == kind) {
            Some(k) => k,
            None => {
                kinds.push(kind);
                kinds.len() - 1
            }
        };
        ops.push(RoofOp {
            kind: k,
            intensity: l.flops / bytes,
            perf: l.flops / l.latency_s,
        });
    }
    let fig = RooflineChart {
        title: format!("{} roofline on {}", d.phase, unit.name),
        subtitle: who.to_string(),
        ceilings,
        slopes,
        kinds,
        ops,
        x_label: format!(
            "arithmetic intensity (FLOP per byte through {})",
            d.hw.memories[inner].name
        ),
    };
    out.push(render(
        dir,
        &format!("roofline-{}", d.phase),
        &format!("Roofline of {} on {}", d.phase, unit.name),
        format!(
            "{} of the chosen point ({who}) on {}: compute ceilings per dtype and bandwidth slopes per memory level ({}), each distinct op placed by FLOPs per byte and attained FLOP/s (latency includes the per-kernel overhead). {skipped} op classes without arithmetic (gathers, copies) are not drawn.{}",
            d.phase,
            unit.name,
            if d.calibrated {
                "achievable fractions applied"
            } else {
                "ideal peaks"
            },
            if d.note.is_empty() {
                String::new()
            } else {
                format!(" {}", d.note)
            }
        ),
        &fig,
    )?);

    Ok(())
}

/// The per-layer latency and energy of one phase of the chosen point.
fn layer_plot(
    out: &mut Vec<Plot>,
    session: &Session,
    d: &PhaseDetail,
    unit: &Unit,
    who: &str,
    dir: &Path,
) -> Result<(), ExploreError> {
    // Per-layer breakdown.
    let mut groups: Vec<String> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut seen_layer = false;
    let mut lat: Vec<[f64; 5]> = Vec::new();
    let mut en: Vec<[f64; 3]> = Vec::new();
    for (op, l) in d.graph.ops.iter().zip(&d.per_op) {
        let g = match op.layer {
            Some(n) => {
                seen_layer = true;
                n.to_string()
            }
            None if !seen_layer => "in".into(),
            None => "out".into(),
        };
        let gi = *index.entry(g.clone()).or_insert_with(|| {
            groups.push(g);
            lat.push([0.0; 5]);
            en.push([0.0; 3]);
            groups.len() - 1
        });
        let c = CATEGORIES
            .iter()
            .position(|x| *x == op_category(&op.kind))
            .expect("known category");
        lat[gi][c] += l.latency_s;
        en[gi][0] += l.compute_j;
        en[gi][1] += l.memory_j;
        en[gi][2] += l.static_j;
    }
    let lmax = lat
        .iter()
        .map(|r| r.iter().sum::<f64>())
        .fold(0.0, f64::max);
    let emax = en.iter().map(|r| r.iter().sum::<f64>()).fold(0.0, f64::max);
    let (ls, lp) = scale_for(lmax);
    let (es, ep) = scale_for(emax);
    let lat_series: Vec<(String, Vec<f64>)> = CATEGORIES
        .iter()
        .enumerate()
        .filter(|(c, _)| lat.iter().any(|r| r[*c] > 0.0))
        .map(|(c, name)| (name.to_string(), lat.iter().map(|r| r[c] / ls).collect()))
        .collect();
    let en_series: Vec<(String, Vec<f64>)> = ["compute", "memory", "static"]
        .iter()
        .enumerate()
        .map(|(c, name)| (name.to_string(), en.iter().map(|r| r[c] / es).collect()))
        .collect();
    let fig = Stacked {
        title: format!("{} per layer on {}", d.phase, unit.name),
        subtitle: who.to_string(),
        groups,
        x_label: session.evaluator.layer_label().into(),
        panels: vec![
            StackPanel {
                y_label: format!("latency ({lp}s)"),
                series: lat_series,
            },
            StackPanel {
                y_label: format!("energy ({ep}J)"),
                series: en_series,
            },
        ],
    };
    out.push(render(
        dir,
        &format!("layers-{}", d.phase),
        &format!("Per-layer {} latency and energy", d.phase),
        format!(
            "Latency of each layer split by op category, and energy split into compute, memory traffic and static power, for {} of the chosen point ({who}).",
            d.phase
        ),
        &fig,
    )?);
    Ok(())
}

fn curve_plots(
    session: &Session,
    results: &Results,
    a: &Analysis,
    dir: &Path,
) -> Result<Vec<Plot>, ExploreError> {
    let Some(chosen) = a.chosen else {
        return Ok(Vec::new());
    };
    let by_id: HashMap<u64, usize> = results
        .points
        .iter()
        .enumerate()
        .map(|(i, p)| (p.id, i))
        .collect();
    let metrics = session.metrics();
    let curve_metrics: Vec<usize> = session
        .evaluator
        .curve_metrics()
        .iter()
        .filter_map(|n| session.metric_index(n).ok())
        .collect();
    let who = describe(session, results, chosen);
    let mut out = Vec::new();
    for (h, axis) in session.space.axes.iter().enumerate() {
        if axis.kind != AxisKind::Hardware || axis.values.len() < 2 {
            continue;
        }
        let xs: Vec<f64> = (0..axis.values.len())
            .map(|v| axis.values.number(v).unwrap_or(f64::NAN))
            .collect();
        let mut panels = Vec::new();
        for &k in &curve_metrics {
            let md = &metrics[k];
            let mut mine = Vec::new();
            let mut best: Vec<Option<f64>> = vec![None; xs.len()];
            let mut digits = results.points[chosen].digits.to_vec();
            for (v, &x) in xs.iter().enumerate() {
                digits[h] = v as u32;
                let id = session.space.encode(&digits);
                if let Some(&r) = by_id.get(&id)
                    && let Some(y) = results.outcomes[r].metrics[k]
                {
                    mine.push((x, y));
                }
            }
            let here = &results.points[chosen].digits;
            for (i, p) in results.points.iter().enumerate() {
                let same_scenario = a
                    .group_axes
                    .iter()
                    .all(|&g| g == h || p.digits[g] == here[g]);
                if !a.feasible[i] || !same_scenario {
                    continue;
                }
                if let Some(y) = results.outcomes[i].metrics[k] {
                    let b = &mut best[p.digits[h] as usize];
                    let better = match (*b, md.direction) {
                        (None, _) => true,
                        (Some(c), Direction::Minimize) => y < c,
                        (Some(c), Direction::Maximize) => y > c,
                    };
                    if better {
                        *b = Some(y);
                    }
                }
            }
            let best: Vec<(f64, f64)> = xs
                .iter()
                .zip(&best)
                .filter_map(|(&x, b)| b.map(|y| (x, y)))
                .collect();
            panels.push(CurvePanel {
                y_label: md.label.to_string(),
                series: vec![
                    ("best feasible deployment".to_string(), best),
                    ("chosen deployment".to_string(), mine),
                ],
            });
        }
        let fig = Curves {
            title: format!("{} vs {}", session.spec.model_name(), axis.name),
            subtitle: format!("chosen: {who}"),
            x_label: axis.name.clone(),
            x_log: axis.log || plots::wants_log(xs.iter().copied()),
            panels,
        };
        out.push(render(
            dir,
            &format!("sweep-{}", slug(&axis.name)),
            &format!("What-if: {}", axis.name),
            format!(
                "Metrics as {} varies: the chosen deployment ({who}) with every other knob and field held, and the best feasible deployment of the same scenario at each value.",
                axis.name
            ),
            &fig,
        )?);
    }
    Ok(out)
}

fn space_line(session: &Session) -> String {
    let s = &session.space;
    let parts: Vec<String> = s
        .axes
        .iter()
        .map(|a| format!("{} {}", a.values.len(), a.name))
        .collect();
    format!("{} = {} points", parts.join(" × "), s.total().unwrap_or(0))
}

/// Writes tables, plots, `summary.txt` and `report.html` into `dir` (which must exist); returns
/// the terminal summary.
pub fn write(
    session: &Session,
    results: &Results,
    a: &Analysis,
    dir: &Path,
) -> Result<String, ExploreError> {
    let metrics = session.metrics();
    let spec = &session.spec;
    let n = results.points.len();
    // Tables.
    let all: Vec<usize> = (0..n).collect();
    let mut points = table::frame(session, results, Some(a), &all)?;
    table::write_parquet(&dir.join("points.parquet"), &mut points, Some(spec))?;
    table::write_csv(&dir.join("points.csv"), &mut points)?;
    let mut front = table::frame(session, results, Some(a), &a.front)?;
    table::write_parquet(&dir.join("front.parquet"), &mut front, Some(spec))?;
    table::write_csv(&dir.join("front.csv"), &mut front)?;
    let spec_json = serde_json::to_string_pretty(spec).map_err(|e| ExploreError::Write {
        path: dir.join("spec.json").display().to_string(),
        message: e.to_string(),
    })?;
    atomic_write(&dir.join("spec.json"), spec_json.as_bytes())?;

    // Plots.
    let mut plots = pareto_plots(session, results, a, dir)?;
    let details = a
        .chosen
        .map(|c| session.evaluator.detail(&results.points[c]))
        .unwrap_or_default();
    if let Some(c) = a.chosen {
        plots.extend(detail_plots(session, results, c, &details, dir)?);
    }
    plots.extend(curve_plots(session, results, a, dir)?);

    // Summary.
    let fronts = tie_groups(results, a);
    let distinct: usize = fronts.iter().map(|f| f.1.len()).sum();
    let feasible = a.feasible.iter().filter(|&&f| f).count();
    let mut s = String::new();
    summary_head(&mut s, session, a, metrics, n, feasible, distinct);
    let bound_label = session
        .evaluator
        .labels()
        .iter()
        .position(|l| l.ends_with("bound"));
    summary_fronts(&mut s, session, results, a, &fronts, metrics, bound_label);
    summary_best(&mut s, session, results, a, metrics, bound_label);
    atomic_write(&dir.join("summary.txt"), s.as_bytes())?;

    // HTML.
    let html = html(session, results, a, &fronts, &plots, &s);
    atomic_write(&dir.join("report.html"), html.as_bytes())?;
    Ok(s)
}

/// The head of the summary: the run, the space, feasibility, objectives, limits and the size of
/// the fronts.
fn summary_head(
    s: &mut String,
    session: &Session,
    a: &Analysis,
    metrics: &[MetricDef],
    n: usize,
    feasible: usize,
    distinct: usize,
) {
    let spec = &session.spec;
    let _ = writeln!(
        s,
        "archscope explore: {} on {} ({}), {} roofline",
        spec.model_name(),
        hw_short(session),
        spec.hw_file,
        if spec.ideal { "ideal" } else { "calibrated" }
    );
    let _ = writeln!(s, "space: {}", space_line(session));
    if let Some(k) = spec.samples {
        let _ = writeln!(s, "sampled {k} points with seed {}", spec.seed);
    }
    let infeasible = n - feasible;
    let _ = writeln!(
        s,
        "evaluated {}: {feasible} feasible, {infeasible} infeasible{}",
        evaluated_clause(session, n),
        {
            let c = infeasible_counts(a);
            if c.is_empty() {
                String::new()
            } else {
                // A point can break several rules; then the counts add up to more than the
                // infeasible points, and the line says so.
                let several = if c.values().sum::<usize>() > infeasible {
                    "; a point can have several reasons"
                } else {
                    ""
                };
                format!(
                    " ({}{several})",
                    c.iter()
                        .map(|(k, v)| format!("{k}: {v}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
        }
    );
    let obj_line = a
        .objectives
        .iter()
        .map(|&k| format!("{} {}", metrics[k].name, metrics[k].direction.arrow()))
        .collect::<Vec<_>>()
        .join(", ");
    let _ = writeln!(s, "objectives: {obj_line}");
    for c in &spec.constraints {
        let _ = writeln!(
            s,
            "limit: {} {} {}",
            c.metric,
            if c.at_most { "≤" } else { "≥" },
            show_metric(&c.metric, Some(c.bound))
        );
    }
    let _ = writeln!(
        s,
        "\nPareto fronts{}: {} points, {} distinct trade-offs{}",
        scenario_phrase(session, a),
        a.front.len(),
        distinct,
        if distinct < a.front.len() {
            " (ties differ only in knobs that move no objective, e.g. the prefill unit; the best of a tie on the other metrics is shown)"
        } else {
            ""
        }
    );
}

/// The fronts in the summary: every scenario when few, else the focus one; at most
/// [`SUMMARY_FRONT_ROWS`] rows.
fn summary_fronts(
    s: &mut String,
    session: &Session,
    results: &Results,
    a: &Analysis,
    fronts: &[(usize, Vec<Vec<usize>>)],
    metrics: &[MetricDef],
    bound_label: Option<usize>,
) {
    let mut shown = 0usize;
    let few = fronts.len() <= SUMMARY_SCENARIOS;
    if !few {
        let _ = writeln!(
            s,
            "  ({} scenarios: only the focus scenario is listed here; report.html and front.csv have all)",
            fronts.len()
        );
    }
    for (si, groups) in fronts {
        if !few && Some(*si) != a.focus {
            continue;
        }
        if shown >= SUMMARY_FRONT_ROWS {
            let _ = writeln!(s, "  … more scenarios in report.html and front.csv");
            break;
        }
        let sc = &a.scenarios[*si];
        let title = a.scenario_text(session, results, sc.rows[0]);
        if !title.is_empty() {
            let _ = writeln!(
                s,
                "  {title}{}",
                if Some(*si) == a.focus {
                    "  (focus)"
                } else {
                    ""
                }
            );
        }
        for (i, g) in groups.iter().enumerate() {
            if shown >= SUMMARY_FRONT_ROWS {
                let _ = writeln!(s, "     … {} more", groups.len() - i);
                break;
            }
            shown += 1;
            let r = g[0];
            let vals: Vec<String> = a
                .objectives
                .iter()
                .map(|&k| {
                    format!(
                        "{:>9}",
                        show_metric(metrics[k].name, results.outcomes[r].metrics[k])
                    )
                })
                .collect();
            let _ = writeln!(
                s,
                "  {:>3}. {:<44} {}{}{}",
                i + 1,
                describe_knobs(session, results, r),
                vals.join(" "),
                bound_label
                    .map(|b| format!("  {}", results.outcomes[r].labels[b]))
                    .unwrap_or_default(),
                if g.len() > 1 {
                    format!("  (+{} tied)", g.len() - 1)
                } else {
                    String::new()
                }
            );
        }
    }
}

/// The best point on each objective in the focus scenario, or why there is none.
fn summary_best(
    s: &mut String,
    session: &Session,
    results: &Results,
    a: &Analysis,
    metrics: &[MetricDef],
    bound_label: Option<usize>,
) {
    if let Some(f) = a.focus {
        let sc = &a.scenarios[f];
        let title = a.scenario_text(session, results, sc.rows[0]);
        let _ = writeln!(
            s,
            "\nbest per objective{}:",
            if title.is_empty() {
                String::new()
            } else {
                format!(" at {title}")
            }
        );
        for (j, &k) in a.objectives.iter().enumerate() {
            match sc.best[j] {
                Some(r) => {
                    let _ = writeln!(
                        s,
                        "  {:<20} {:>10}  {}{}",
                        metrics[k].name,
                        show_metric(metrics[k].name, results.outcomes[r].metrics[k]),
                        describe_knobs(session, results, r),
                        bound_label
                            .map(|b| format!("  ({}-bound)", results.outcomes[r].labels[b]))
                            .unwrap_or_default()
                    );
                }
                None => {
                    let _ = writeln!(s, "  {:<20} no feasible point", metrics[k].name);
                }
            }
        }
    } else {
        let _ = writeln!(
            s,
            "\nno feasible point: see the reasons above and in points.csv"
        );
    }
}
