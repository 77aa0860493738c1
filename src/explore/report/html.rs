//! `report.html`: one self-contained page with the run, the best points, the fronts, the plots
//! (SVGs inline), the infeasible points and the files of the report directory. The page reads
//! fully without JavaScript; the inline data block and script of [`super::interact`] add tooltips,
//! the per-op ledger of a clicked point, and sorting and filtering of the front tables.

use super::interact::{SCRIPT, STYLE};
use super::{
    HTML_SCENARIOS, MAX_SCATTER_FRONT, MAX_SCATTER_POINTS, Plot, describe_knobs, esc, hw_short,
    infeasible_counts, listed, scatter_strides, scenario_phrase, show_metric, space_line,
};
use crate::explore::files::sha256_hex;
use crate::explore::{Analysis, MetricDef, Results, Session, plots};
use crate::search::AxisKind;
use std::fmt::Write as _;

/// The page `report.html`: run, best points, fronts, plots (inline SVG), infeasible points, files;
/// `data` is the JSON block the script reads (see [`super::interact::data`]).
pub(super) fn html(
    session: &Session,
    results: &Results,
    a: &Analysis,
    fronts: &[(usize, Vec<Vec<usize>>)],
    plots: &[Plot],
    summary: &str,
    data: &str,
) -> String {
    let metrics = session.metrics();
    let labels = session.evaluator.labels();
    let mut h = String::new();
    head(&mut h, session, a, fronts, metrics);

    run_table(&mut h, session);

    // Best per objective, per scenario.
    let bound = labels.iter().position(|l| l.ends_with("bound"));
    let knob_axes: Vec<usize> = (0..session.space.axes.len())
        .filter(|i| !a.group_axes.contains(i))
        .collect();
    best_table(&mut h, session, results, a, metrics, bound);

    front_tables(
        &mut h, session, results, a, fronts, metrics, labels, knob_axes,
    );

    // Plots.
    let _ = writeln!(h, "<h2 id=\"plots\">Plots</h2>");
    // Shown by the script only: without it the page has no such behaviour to describe.
    let _ = writeln!(
        h,
        "<p class=\"as-hint\" hidden>Hover a point of a Pareto chart for its configuration and metrics; click a ringed front point for its per-op ledger and roofline position. Click a front-table header to sort by it.</p>"
    );
    if a.chosen.is_none() {
        let _ = writeln!(
            h,
            "<p>No feasible point, so there is no chosen point for the roofline, per-layer and what-if plots.</p>"
        );
    }
    for p in plots {
        let _ = writeln!(
            h,
            "<figure class=\"plot\" id=\"plot-{id}\"><h3>{t}</h3>\n{svg}\n<figcaption>{c} Files: <a href=\"{id}.svg\">{id}.svg</a>, <a href=\"{id}.png\">{id}.png</a>.</figcaption></figure>",
            id = esc(&p.id),
            t = esc(&p.title),
            svg = strip_xml_decl(&p.svg),
            c = esc(&p.caption)
        );
    }

    // Infeasible.
    let _ = writeln!(h, "<h2 id=\"infeasible\">Infeasible points</h2>");
    let counts = infeasible_counts(a);
    if counts.is_empty() {
        let _ = writeln!(
            h,
            "<p>None: every point runs, fits and meets the limits.</p>"
        );
    } else {
        let _ = writeln!(
            h,
            "<p>Infeasible points stay in the tables with <code>feasible = false</code> and the reason in <code>infeasible_reason</code>.</p><table><tr><th>reason</th><th>points</th><th>example</th></tr>"
        );
        for (k, v) in &counts {
            let example = a.counts.reasons.get(k).map_or("", |e| e.1.as_str());
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td class=\"num\">{v}</td><td>{}</td></tr>",
                esc(k),
                esc(example)
            );
        }
        let _ = writeln!(h, "</table>");
    }

    // Files.
    let _ = writeln!(
        h,
        "<h2 id=\"files\">Files</h2><ul><li><a href=\"points.parquet\">points.parquet</a>, <a href=\"points.csv\">points.csv</a>: every point</li><li><a href=\"front.parquet\">front.parquet</a>, <a href=\"front.csv\">front.csv</a>: the Pareto front, best first</li><li><a href=\"spec.json\">spec.json</a>: the full run spec (device and model text included)</li><li><a href=\"summary.txt\">summary.txt</a>: the terminal summary</li></ul>"
    );
    let _ = writeln!(
        h,
        "<details><summary>Terminal summary</summary><pre>{}</pre></details>",
        esc(summary)
    );
    let _ = writeln!(
        h,
        "<script type=\"application/json\" id=\"archscope-data\">{data}</script>\n{SCRIPT}"
    );
    let _ = writeln!(h, "</body></html>");
    h
}

/// The page head: title, style, the lead paragraph and the navigation.
fn head(
    h: &mut String,
    session: &Session,
    a: &Analysis,
    fronts: &[(usize, Vec<Vec<usize>>)],
    metrics: &[MetricDef],
) {
    let spec = &session.spec;
    let title = format!(
        "archscope explore: {} on {}",
        spec.model_name(),
        hw_short(session)
    );
    let _ = write!(
        h,
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{t}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1240px; padding: 0 1em; color: #222; }}
h1 {{ font-size: 1.6em; margin-bottom: 0.2em; }}
h2 {{ border-bottom: 1px solid #ccc; padding-bottom: 0.2em; margin-top: 1.6em; }}
table {{ border-collapse: collapse; font-size: 0.88em; margin: 0.5em 0; }}
th, td {{ border: 1px solid #ddd; padding: 0.25em 0.5em; text-align: left; vertical-align: top; }}
th {{ background: #f4f4f4; }}
div.wide {{ overflow-x: auto; }}
th.scenario {{ background: #e6eef7; text-align: left; font-size: 1.05em; }}
td.num {{ text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }}
code, pre {{ font-family: ui-monospace, monospace; font-size: 0.9em; }}
pre {{ background: #f7f7f7; padding: 0.7em; overflow-x: auto; white-space: pre-wrap; }}
figure.plot {{ margin: 1.5em 0; }}
figure.plot svg {{ max-width: 100%; height: auto; display: block; border: 1px solid #eee; }}
figcaption {{ font-size: 0.9em; color: #555; margin-top: 0.4em; }}
.lead {{ font-size: 1.05em; }}
{STYLE}</style></head><body>
<h1>{t}</h1>
"#,
        t = esc(&title)
    );
    let _ = writeln!(
        h,
        "<p class=\"lead\">{} points evaluated, {} feasible; the Pareto fronts over <b>{}</b>{} hold {} points ({} distinct trade-offs).</p>",
        a.counts.points,
        a.counts.feasible,
        esc(&a
            .objectives
            .iter()
            .map(|&k| format!("{} {}", metrics[k].name, metrics[k].direction.arrow()))
            .collect::<Vec<_>>()
            .join(", ")),
        esc(&scenario_phrase(session, a)),
        a.front.len(),
        fronts.iter().map(|f| f.1.len()).sum::<usize>()
    );
    let (stride, front_stride) = scatter_strides(a);
    if stride > 1 || front_stride > 1 {
        let _ = writeln!(
            h,
            "<p>The Pareto charts draw a sample of the {} points: one in every {stride} dominated points (at most {MAX_SCATTER_POINTS} of {}) and one in every {front_stride} front points (at most {MAX_SCATTER_FRONT} of {}). The tables list the fronts of at most {HTML_SCENARIOS} scenarios; points.csv and front.csv hold every point.</p>",
            a.counts.points,
            a.counts.points - a.front.len(),
            a.front.len()
        );
    }
    let _ = writeln!(
        h,
        "<nav>{}</nav>",
        ["run", "best", "front", "plots", "infeasible", "files"]
            .iter()
            .map(|s| format!("<a href=\"#{s}\">{s}</a>"))
            .collect::<Vec<_>>()
            .join(" · ")
    );
}

/// The run table: command, versions, inputs and their hashes, space and search.
fn run_table(h: &mut String, session: &Session) {
    let spec = &session.spec;
    // Run.
    let _ = writeln!(h, "<h2 id=\"run\">Run</h2><table>");
    let row = |h: &mut String, k: &str, v: String| {
        let _ = writeln!(h, "<tr><th>{}</th><td>{}</td></tr>", esc(k), v);
    };
    row(h, "command", format!("<code>{}</code>", esc(&spec.command)));
    row(h, "archscope", esc(&spec.version));
    row(
        h,
        "device",
        format!(
            "<code>{}</code> sha256 <code>{}</code>",
            esc(&spec.hw_file),
            sha256_hex(spec.hw_text.as_bytes())
        ),
    );
    row(
        h,
        "model",
        format!(
            "<code>{}</code> sha256 <code>{}</code>",
            esc(spec.model_file()),
            sha256_hex(spec.model_text().as_bytes())
        ),
    );
    row(
        h,
        "cost model",
        if spec.ideal {
            "ideal roofline (bare peaks)".into()
        } else {
            "calibrated roofline (achievable fractions and per-kernel overhead from the device file)".into()
        },
    );
    row(h, "space", esc(&space_line(session)));
    let axes_html: Vec<String> = session
        .space
        .axes
        .iter()
        .map(|ax| {
            let vals: Vec<String> = (0..ax.values.len()).map(|i| ax.values.text(i)).collect();
            format!("<code>{}</code>: {}", esc(&ax.name), esc(&vals.join(", ")))
        })
        .collect();
    row(h, "axes", axes_html.join("<br>"));
    row(
        h,
        "search",
        match spec.samples {
            Some(k) => format!("random sample of {k} points, seed {}", spec.seed),
            None => "every valid point (grid)".into(),
        },
    );
    if !spec.constraints.is_empty() {
        row(
            h,
            "limits",
            esc(&spec
                .constraints
                .iter()
                .map(|c| {
                    format!(
                        "{} {} {} ({})",
                        c.metric,
                        if c.at_most { "≤" } else { "≥" },
                        show_metric(&c.metric, Some(c.bound)),
                        c.flag
                    )
                })
                .collect::<Vec<_>>()
                .join("; ")),
        );
    }
    let _ = writeln!(h, "</table>");
}

/// The scenarios of the best table: all when at most [`HTML_SCENARIOS`], else the focus one and
/// the first others.
fn best_listed(a: &Analysis) -> Vec<usize> {
    let n = a.scenarios.len();
    if n <= HTML_SCENARIOS {
        return (0..n).collect();
    }
    let mut out: Vec<usize> = a.focus.into_iter().collect();
    out.extend(
        (0..n)
            .filter(|&i| Some(i) != a.focus)
            .take(HTML_SCENARIOS - out.len()),
    );
    out.sort_unstable();
    out
}

/// The best point on each objective, per scenario.
fn best_table(
    h: &mut String,
    session: &Session,
    results: &Results,
    a: &Analysis,
    metrics: &[MetricDef],
    bound: Option<usize>,
) {
    let _ = writeln!(
        h,
        "<h2 id=\"best\">Best per objective</h2><table><tr><th>scenario</th><th>objective</th><th>value</th><th>point</th><th>bound</th></tr>"
    );
    let shown = best_listed(a);
    if shown.len() < a.scenarios.len() {
        let _ = writeln!(
            h,
            "<tr><td colspan=\"5\">{} of {} scenarios are listed (the focus scenario and the first others); front.csv has the front of every one.</td></tr>",
            shown.len(),
            a.scenarios.len()
        );
    }
    for (si, sc) in shown.into_iter().map(|i| (i, &a.scenarios[i])) {
        let title = a.scenario_text(session, sc);
        let title = if title.is_empty() {
            "all".to_string()
        } else {
            title
        };
        let focus = if Some(si) == a.focus { " (focus)" } else { "" };
        for (j, &k) in a.objectives.iter().enumerate() {
            let lead = if j == 0 {
                format!(
                    "<td rowspan=\"{}\">{}{}</td>",
                    a.objectives.len(),
                    esc(&title),
                    focus
                )
            } else {
                String::new()
            };
            match sc.best[j] {
                Some(r) => {
                    let _ = writeln!(
                        h,
                        "<tr>{lead}<td>{} {}</td><td class=\"num\">{}</td><td>{}</td><td>{}</td></tr>",
                        esc(metrics[k].name),
                        metrics[k].direction.arrow(),
                        esc(&show_metric(
                            metrics[k].name,
                            results.outcomes[r].metrics[k]
                        )),
                        esc(&describe_knobs(session, results, r)),
                        esc(&bound
                            .map(|b| results.outcomes[r].labels[b].clone())
                            .unwrap_or_default())
                    );
                }
                None => {
                    let _ = writeln!(
                        h,
                        "<tr>{lead}<td>{}</td><td colspan=\"3\">no feasible point</td></tr>",
                        esc(metrics[k].name)
                    );
                }
            }
        }
    }
    let _ = writeln!(h, "</table>");
}

/// The front of each listed scenario, one row per distinct trade-off.
#[allow(clippy::too_many_arguments)]
fn front_tables(
    h: &mut String,
    session: &Session,
    results: &Results,
    a: &Analysis,
    fronts: &[(usize, Vec<Vec<usize>>)],
    metrics: &[MetricDef],
    labels: &[&'static str],
    knob_axes: Vec<usize>,
) {
    // Front tables, per scenario.
    let _ = writeln!(
        h,
        "<h2 id=\"front\">Pareto front</h2><p>The front of each scenario{}, one row per distinct trade-off, best first by {}; <i>tied</i> counts points with the same objective values that differ only in knobs that move no objective (the row shows the best of them on the other metrics). Every front point is in <a href=\"front.csv\">front.csv</a>.</p>",
        esc(&scenario_phrase(session, a)),
        esc(metrics[a.objectives[0]].name)
    );
    let mut extra: Vec<usize> = Vec::new();
    for &name in session.evaluator.table_metrics() {
        if let Ok(k) = session.metric_index(name)
            && !a.objectives.contains(&k)
        {
            extra.push(k);
        }
    }
    let mut head = String::from("<tr class=\"colhead\"><th>#</th>");
    for &ai in &knob_axes {
        let _ = write!(head, "<th>{}</th>", esc(&session.space.axes[ai].name));
    }
    for &k in a.objectives.iter().chain(&extra) {
        let star = if a.objectives.contains(&k) {
            format!(" {}", metrics[k].direction.arrow())
        } else {
            String::new()
        };
        let _ = write!(head, "<th>{}{}</th>", esc(metrics[k].name), star);
    }
    for l in labels {
        let _ = write!(head, "<th>{}</th>", esc(l));
    }
    head.push_str("<th>tied</th></tr>");
    let cols = 2 + knob_axes.len() + a.objectives.len() + extra.len() + labels.len();
    let shown = listed(fronts, a.focus, HTML_SCENARIOS);
    if shown.len() < fronts.len() {
        let _ = writeln!(
            h,
            "<p>{} of {} scenarios are listed (the focus scenario and the first others); front.csv has all.</p>",
            shown.len(),
            fronts.len()
        );
    }
    let _ = writeln!(h, "<div class=\"wide\"><table class=\"front\">");
    for (si, groups) in shown.iter().map(|&i| (&fronts[i].0, &fronts[i].1)) {
        // One body per scenario: the script sorts rows within it.
        let _ = writeln!(h, "<tbody>");
        let title = a.scenario_text(session, &a.scenarios[*si]);
        if !title.is_empty() {
            let _ = writeln!(
                h,
                "<tr><th colspan=\"{cols}\" class=\"scenario\">{}{}</th></tr>",
                esc(&title),
                if Some(*si) == a.focus { " (focus)" } else { "" }
            );
        }
        let _ = writeln!(h, "{head}");
        for (i, g) in groups.iter().enumerate() {
            let r = g[0];
            let p = &results.points[r];
            let _ = write!(
                h,
                "<tr data-id=\"{}\"><td class=\"num\" data-v=\"{}\">{}</td>",
                p.id,
                i + 1,
                i + 1
            );
            for &ai in &knob_axes {
                let ax = &session.space.axes[ai];
                let v = match ax.kind {
                    AxisKind::Hardware => {
                        plots::eng(ax.values.number(p.digits[ai] as usize).unwrap_or(f64::NAN))
                    }
                    _ => session.space.text(p, ai),
                };
                let _ = write!(h, "<td>{}</td>", esc(&v));
            }
            for &k in a.objectives.iter().chain(&extra) {
                let _ = write!(
                    h,
                    "<td class=\"num\" data-v=\"{}\">{}</td>",
                    results.outcomes[r].metrics[k].map_or(String::new(), |v| v.to_string()),
                    esc(&show_metric(
                        metrics[k].name,
                        results.outcomes[r].metrics[k]
                    ))
                );
            }
            for l in &results.outcomes[r].labels {
                let _ = write!(h, "<td>{}</td>", esc(l));
            }
            let _ = writeln!(h, "<td class=\"num\">{}</td></tr>", g.len() - 1);
        }
        let _ = writeln!(h, "</tbody>");
    }
    let _ = writeln!(h, "</table></div>");
}

fn strip_xml_decl(svg: &str) -> &str {
    match svg.find("<svg") {
        Some(i) => &svg[i..],
        None => svg,
    }
}
