//! The report of an exploration: tables (Parquet and CSV), plots (SVG and PNG), a terminal
//! summary, and `report.html`, self-contained with the SVGs inline. This module writes the
//! directory and draws the plots; the page itself is built in `html.rs`.
//!
//! Everything written depends only on the inputs (device and model text, space, seed, objectives,
//! limits, command line): no time stamps or timings go into files, rows are sorted by point id and
//! the front by its objectives, so the same run writes the same bytes.

mod html;
mod interact;

use super::eval::PhaseDetail;
use super::files::{atomic_write, slug};
use super::llm::si;
use super::plots::{
    self, BandedScatter, Chart, CurvePanel, Curves, ErrorBar, RoofOp, RooflineChart, Scatter,
    ScatterPoint, StackPanel, Stacked,
};
use super::stream::{Judge, Source};
use super::{Analysis, ExploreError, MetricDef, Results, Session, fmt_num, table};
use crate::hardware::Unit;
use crate::search::{AxisKind, Direction, Values};
use crate::workload::OpKind;
use html::html;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;
use std::path::Path;

/// Most dominated points drawn in a scatter; beyond this every k-th is drawn, which keeps the
/// SVG small enough for a browser. The tables keep every point.
pub const MAX_SCATTER_POINTS: usize = 20_000;

/// Most front points drawn in a scatter; beyond this every k-th is drawn. A run of many
/// scenarios (every value of a swept field is one) has a front in each, and drawing them all
/// made pages of hundreds of megabytes; `front.csv` keeps every front point.
pub const MAX_SCATTER_FRONT: usize = 20_000;

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
    /// The points drawn, for the page's hover and click targets: (point id, x, y), in pixels
    /// of the SVG; empty for a chart that does not draw points of the run.
    pub marks: Vec<(u64, i32, i32)>,
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
        marks: Vec::new(),
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
    describe_axes(session, results, row, &[])
}

/// The knobs of a point that are not scenario axes, e.g. `w4a8, prefill gpu, decode tpu`.
fn describe_knobs(session: &Session, results: &Results, row: usize) -> String {
    let group: Vec<usize> = (session.spec.front_by.iter())
        .filter_map(|n| session.space.axis(n))
        .collect();
    describe_axes(session, results, row, &group)
}

/// The point's value on each axis that varies (and always its quantization and units), except
/// the axes in `skip`, as short phrases joined by commas.
fn describe_axes(session: &Session, results: &Results, row: usize, skip: &[usize]) -> String {
    let p = &results.points[row];
    (session.space.axes.iter().enumerate())
        .filter(|(i, a)| {
            !skip.contains(i)
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
    a.counts.reasons.iter().map(|(k, v)| (*k, v.0)).collect()
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

/// Strides of the Pareto scatters: every `dominated`-th dominated point and every `front`-th
/// front point is drawn, keeping at most [`MAX_SCATTER_POINTS`] dominated and
/// [`MAX_SCATTER_FRONT`] front points (both 1 on runs that small).
pub fn scatter_strides(a: &Analysis) -> (usize, usize) {
    let dominated = a.counts.points - a.front.len();
    (
        dominated.div_ceil(MAX_SCATTER_POINTS).max(1),
        a.front.len().div_ceil(MAX_SCATTER_FRONT).max(1),
    )
}

/// One Pareto scatter (`y` against `x`) being sampled.
struct ScatterPair {
    x: usize,
    y: usize,
    /// Band columns (`NAME_low`, `NAME_high`) of `x` and `y`, where they have them.
    xb: Option<(usize, usize)>,
    yb: Option<(usize, usize)>,
    /// Dominated and front points with both metrics seen so far.
    seen: usize,
    seen_front: usize,
    points: Vec<ScatterPoint>,
    /// The id of each of `points`.
    ids: Vec<u64>,
    bars: Vec<ErrorBar>,
    labels: Vec<String>,
}

/// The Pareto scatters of a run, sampled as the points stream by in id order: the front points
/// (every k-th beyond [`MAX_SCATTER_FRONT`]) and every k-th dominated point (at most
/// [`MAX_SCATTER_POINTS`]), so a chart stays small whatever the point count.
struct ScatterSample {
    pairs: Vec<ScatterPair>,
    caxis: Option<usize>,
    band_labels: Vec<usize>,
    stride: usize,
    front_stride: usize,
    /// What the page shows on hovering each drawn point.
    info: interact::PointInfos,
}

impl ScatterSample {
    fn new(session: &Session, a: &Analysis) -> ScatterSample {
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
        let band_of = |k: usize| {
            let name = metrics[k].name;
            let lo = session.metric_index(&format!("{name}_low")).ok()?;
            let hi = session.metric_index(&format!("{name}_high")).ok()?;
            Some((lo, hi))
        };
        let (stride, front_stride) = scatter_strides(a);
        ScatterSample {
            pairs: pairs
                .into_iter()
                .map(|(x, y)| ScatterPair {
                    x,
                    y,
                    xb: band_of(x),
                    yb: band_of(y),
                    seen: 0,
                    seen_front: 0,
                    points: Vec::new(),
                    ids: Vec::new(),
                    bars: Vec::new(),
                    labels: Vec::new(),
                })
                .collect(),
            caxis: colour_axis(session),
            band_labels: session
                .evaluator
                .labels()
                .iter()
                .enumerate()
                .filter(|(_, l)| l.ends_with("band"))
                .map(|(k, _)| k)
                .collect(),
            stride,
            front_stride,
            info: interact::PointInfos::new(session, a),
        }
    }

    /// Samples a chunk; `verdicts` holds each point's (reason if infeasible, on the front).
    fn add(&mut self, session: &Session, r: &Results, verdicts: &[(Option<String>, bool)]) {
        for pair in &mut self.pairs {
            for (i, o) in r.outcomes.iter().enumerate() {
                let (Some(xv), Some(yv)) = (o.metrics[pair.x], o.metrics[pair.y]) else {
                    continue;
                };
                let front = verdicts[i].1;
                let (seen, stride) = if front {
                    (&mut pair.seen_front, self.front_stride)
                } else {
                    (&mut pair.seen, self.stride)
                };
                *seen += 1;
                if !(*seen - 1).is_multiple_of(stride) {
                    continue;
                }
                let range = |b: Option<(usize, usize)>, v: f64| match b {
                    Some((lo, hi)) => match (o.metrics[lo], o.metrics[hi]) {
                        (Some(l), Some(h)) => Some((l, h)),
                        _ => None,
                    },
                    None => Some((v, v)),
                };
                if (pair.xb.is_some() || pair.yb.is_some())
                    && let (Some(xr), Some(yr)) = (range(pair.xb, xv), range(pair.yb, yv))
                {
                    pair.bars.push(ErrorBar {
                        point: pair.points.len(),
                        x: xr,
                        y: yr,
                    });
                    for &k in &self.band_labels {
                        let l = &o.labels[k];
                        if !l.is_empty() && !pair.labels.contains(l) {
                            pair.labels.push(l.clone());
                        }
                    }
                }
                pair.points.push(ScatterPoint {
                    x: xv,
                    y: yv,
                    group: self.caxis.map_or(0, |c| r.points[i].digits[c] as usize),
                    front,
                    feasible: verdicts[i].0.is_none(),
                });
                pair.ids.push(r.points[i].id);
                self.info.add(session, r, i, &verdicts[i]);
            }
        }
    }

    /// Draws the scatters; returns them with what the page shows on hovering their points.
    fn render(
        self,
        session: &Session,
        a: &Analysis,
        dir: &Path,
    ) -> Result<(Vec<Plot>, interact::PointInfos), ExploreError> {
        let metrics = session.metrics();
        let caxis = self.caxis;
        let groups: Vec<String> = match caxis {
            Some(c) => (0..session.space.axes[c].values.len())
                .map(|i| session.space.axes[c].values.text(i))
                .collect(),
            None => vec!["points".into()],
        };
        let (stride, front_stride) = (self.stride, self.front_stride);
        let mut out = Vec::new();
        for mut pair in self.pairs {
            let (x, y) = (pair.x, pair.y);
            let drawn_front = pair.points.iter().filter(|p| p.front).count();
            let drawn = pair.points.len() - drawn_front;
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
                    a.counts.points,
                    match (stride > 1, front_stride > 1) {
                        (_, true) => ", front and dominated points thinned",
                        (true, false) => ", dominated points thinned",
                        (false, false) => "",
                    }
                ),
                x_label: mx.label.to_string(),
                y_label: my.label.to_string(),
                groups: groups.clone(),
                points: pair.points,
            };
            let fig = BandedScatter {
                scatter: fig,
                bars: pair.bars,
            };
            let marks: Vec<(u64, i32, i32)> = plots::scatter_coords(&fig)
                .map_err(|message| ExploreError::Write {
                    path: dir.display().to_string(),
                    message,
                })?
                .into_iter()
                .zip(&pair.ids)
                .filter_map(|(c, &id)| c.map(|(x, y)| (id, x, y)))
                .collect();
            let banded = if pair.labels.is_empty() {
                String::new()
            } else {
                pair.labels.sort();
                format!(
                    " Error bars on {}: the p10-p90 band of the measured value, from the errors of the prediction's class on the measurement set ({}).",
                    [pair.xb.map(|_| mx.name), pair.yb.map(|_| my.name)]
                        .into_iter()
                        .flatten()
                        .collect::<Vec<_>>()
                        .join(" and "),
                    pair.labels.join("; ")
                )
            };
            let id = format!("pareto-{}-vs-{}", slug(my.name), slug(mx.name));
            let mut thinned = String::new();
            if stride > 1 {
                thinned.push_str(&format!(
                    " A sample of the dominated points is drawn: one in every {stride}, {drawn} of {}; the tables hold all.",
                    pair.seen
                ));
            }
            if front_stride > 1 {
                thinned.push_str(&format!(
                    " A sample of the front is drawn: one in every {front_stride} front points, {drawn_front} of {}; front.csv holds all.",
                    pair.seen_front
                ));
            }
            let mut plot = render(
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
            )?;
            plot.marks = marks;
            out.push(plot);
        }
        Ok((out, self.info))
    }
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
    let crate::cost::Ceilings {
        compute: ceilings,
        bandwidth: slopes,
    } = d.ceilings();
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

/// One hardware axis of the what-if curves: per curve metric and axis value, the chosen
/// deployment's value and the best feasible value of its scenario.
struct CurveAxis {
    axis: usize,
    mine: Vec<Vec<Option<f64>>>,
    best: Vec<Vec<Option<f64>>>,
}

/// The what-if curves of a run, gathered as the points stream by: the chosen point with one
/// hardware field moved (those points' ids are known once the fronts are), and the best
/// feasible value of the same scenario at each value of the field.
struct CurveData {
    here: Vec<u32>,
    group_axes: Vec<usize>,
    metrics: Vec<usize>,
    axes: Vec<CurveAxis>,
    /// Point id → (slot in `axes`, value index) of the chosen point's neighbours.
    targets: HashMap<u64, Vec<(usize, usize)>>,
}

impl CurveData {
    fn new(session: &Session, kept: &Results, a: &Analysis) -> CurveData {
        let here = a
            .chosen
            .map(|c| kept.points[c].digits.to_vec())
            .unwrap_or_default();
        let metrics: Vec<usize> = session
            .evaluator
            .curve_metrics()
            .iter()
            .filter_map(|n| session.metric_index(n).ok())
            .collect();
        let mut axes = Vec::new();
        let mut targets: HashMap<u64, Vec<(usize, usize)>> = HashMap::new();
        if a.chosen.is_some() {
            for (h, axis) in session.space.axes.iter().enumerate() {
                if axis.kind != AxisKind::Hardware || axis.values.len() < 2 {
                    continue;
                }
                let n = axis.values.len();
                let mut digits = here.clone();
                for v in 0..n {
                    digits[h] = v as u32;
                    targets
                        .entry(session.space.encode(&digits))
                        .or_default()
                        .push((axes.len(), v));
                }
                axes.push(CurveAxis {
                    axis: h,
                    mine: vec![vec![None; n]; metrics.len()],
                    best: vec![vec![None; n]; metrics.len()],
                });
            }
        }
        CurveData {
            here,
            group_axes: a.group_axes.clone(),
            metrics,
            axes,
            targets,
        }
    }

    /// Takes in a chunk; `verdicts` holds each point's (reason if infeasible, on the front).
    fn add(&mut self, session: &Session, r: &Results, verdicts: &[(Option<String>, bool)]) {
        if self.axes.is_empty() {
            return;
        }
        let dirs: Vec<Direction> = self
            .metrics
            .iter()
            .map(|&k| session.metrics()[k].direction)
            .collect();
        for (i, (p, o)) in r.points.iter().zip(&r.outcomes).enumerate() {
            if let Some(slots) = self.targets.get(&p.id) {
                for &(s, v) in slots {
                    for (m, &k) in self.metrics.iter().enumerate() {
                        self.axes[s].mine[m][v] = o.metrics[k];
                    }
                }
            }
            if verdicts[i].0.is_some() {
                continue;
            }
            for ax in &mut self.axes {
                let h = ax.axis;
                let same_scenario = self
                    .group_axes
                    .iter()
                    .all(|&g| g == h || p.digits[g] == self.here[g]);
                if !same_scenario {
                    continue;
                }
                for (m, &k) in self.metrics.iter().enumerate() {
                    let Some(y) = o.metrics[k] else { continue };
                    let b = &mut ax.best[m][p.digits[h] as usize];
                    let better = match (*b, dirs[m]) {
                        (None, _) => true,
                        (Some(c), Direction::Minimize) => y < c,
                        (Some(c), Direction::Maximize) => y > c,
                    };
                    if better {
                        *b = Some(y);
                    }
                }
            }
        }
    }

    /// Draws one chart per swept hardware field.
    fn render(
        self,
        session: &Session,
        kept: &Results,
        a: &Analysis,
        dir: &Path,
    ) -> Result<Vec<Plot>, ExploreError> {
        let Some(chosen) = a.chosen else {
            return Ok(Vec::new());
        };
        let metrics = session.metrics();
        let who = describe(session, kept, chosen);
        let mut out = Vec::new();
        for ax in self.axes {
            let axis = &session.space.axes[ax.axis];
            let xs: Vec<f64> = (0..axis.values.len())
                .map(|v| axis.values.number(v).unwrap_or(f64::NAN))
                .collect();
            let series = |vals: &[Option<f64>]| -> Vec<(f64, f64)> {
                xs.iter()
                    .zip(vals)
                    .filter_map(|(&x, b)| b.map(|y| (x, y)))
                    .collect()
            };
            let panels = self
                .metrics
                .iter()
                .enumerate()
                .map(|(m, &k)| CurvePanel {
                    y_label: metrics[k].label.to_string(),
                    series: vec![
                        ("best feasible deployment".to_string(), series(&ax.best[m])),
                        ("chosen deployment".to_string(), series(&ax.mine[m])),
                    ],
                })
                .collect();
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
/// the terminal summary. `kept` and `a` come from pass one ([`Tally`](super::stream::Tally)):
/// the fronts and best points, and the counts of the run; pass two reads every point from
/// `source`, `chunk` at a time, for the points tables and the charts' sample.
pub fn write(
    session: &Session,
    kept: &Results,
    a: &Analysis,
    source: &Source,
    chunk: usize,
    dir: &Path,
) -> Result<String, ExploreError> {
    let metrics = session.metrics();
    let spec = &session.spec;
    let (scatter, curves) = point_pass(session, kept, a, source, chunk, dir)?;
    let results = kept;
    let mut front = table::frame(session, results, Some(a), &a.front)?;
    table::write_parquet(&dir.join("front.parquet"), &mut front, Some(spec))?;
    table::write_csv(&dir.join("front.csv"), &mut front)?;
    let spec_json = serde_json::to_string_pretty(spec).map_err(|e| ExploreError::Write {
        path: dir.join("spec.json").display().to_string(),
        message: e.to_string(),
    })?;
    atomic_write(&dir.join("spec.json"), spec_json.as_bytes())?;

    // Plots.
    let (mut plots, infos) = scatter.render(session, a, dir)?;
    let details = a
        .chosen
        .map(|c| session.evaluator.detail(&results.points[c]))
        .unwrap_or_default();
    if let Some(c) = a.chosen {
        plots.extend(detail_plots(session, results, c, &details, dir)?);
    }
    plots.extend(curves.render(session, results, a, dir)?);

    // Summary.
    let fronts = tie_groups(results, a);
    let distinct: usize = fronts.iter().map(|f| f.1.len()).sum();
    let mut s = String::new();
    summary_head(
        &mut s,
        session,
        a,
        metrics,
        a.counts.points,
        a.counts.feasible,
        distinct,
    );
    let bound_label = session
        .evaluator
        .labels()
        .iter()
        .position(|l| l.ends_with("bound"));
    summary_fronts(&mut s, session, results, a, &fronts, metrics, bound_label);
    summary_best(&mut s, session, results, a, metrics, bound_label);
    atomic_write(&dir.join("summary.txt"), s.as_bytes())?;

    // HTML.
    let data = interact::data(session, results, a, &plots, infos);
    let html = html(session, results, a, &fronts, &plots, &s, &data);
    atomic_write(&dir.join("report.html"), html.as_bytes())?;
    Ok(s)
}

/// Pass two: every point from `source`, judged again against the limits and marked on or off
/// the front, written to `points.csv` and `points.parquet` chunk by chunk and sampled for the
/// charts.
fn point_pass(
    session: &Session,
    kept: &Results,
    a: &Analysis,
    source: &Source,
    chunk: usize,
    dir: &Path,
) -> Result<(ScatterSample, CurveData), ExploreError> {
    let judge = Judge::new(session)?;
    let front_ids: HashSet<u64> = a.front.iter().map(|&r| kept.points[r].id).collect();
    let mut csv = table::CsvStream::create(&dir.join("points.csv"));
    let mut parquet =
        table::ParquetStream::create(&dir.join("points.parquet"), Some(&session.spec))?;
    let mut scatter = ScatterSample::new(session, a);
    let mut curves = CurveData::new(session, kept, a);
    source.for_each(session, chunk, &mut |r| {
        let verdicts: Vec<(Option<String>, bool)> = r
            .points
            .iter()
            .zip(&r.outcomes)
            .map(|(p, o)| (judge.judge(o).err(), front_ids.contains(&p.id)))
            .collect();
        let v = |j: usize| {
            let (why, front) = &verdicts[j];
            (why.is_none(), why.as_deref(), *front)
        };
        let mut df = table::frame_of(
            session,
            r.points.len(),
            |j| &r.points[j],
            |j| &r.outcomes[j],
            Some(&v),
        )?;
        csv.add(&mut df)?;
        parquet.add(df)?;
        scatter.add(session, r, &verdicts);
        curves.add(session, r, &verdicts);
        Ok(())
    })?;
    let empty = table::frame(session, kept, Some(a), &[])?;
    csv.finish(empty.clone())?;
    parquet.finish(empty)?;
    Ok((scatter, curves))
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
        let title = a.scenario_text(session, sc);
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
        let title = a.scenario_text(session, sc);
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
