//! The validation report: a terminal table (per case, per kind, worst outliers), a CSV with one
//! row per case, and a predicted-versus-measured scatter plot on log axes (SVG, or PNG when the
//! file name ends in `.png`).

use super::{KindStats, Outcome, outliers};
use crate::util::figure::{self, Chart};
use plotters::prelude::*;
use std::fmt::Write as _;
use std::path::Path;

/// A duration with a readable unit.
pub fn fmt_time(s: f64) -> String {
    if s >= 1.0 {
        format!("{s:.3} s")
    } else if s >= 1e-3 {
        format!("{:.3} ms", s * 1e3)
    } else {
        format!("{:.2} µs", s * 1e6)
    }
}

/// The table for people: every case, then the figures per kind, then the worst outliers.
pub fn table(header: &str, outcomes: &[Outcome], stats: &[KindStats], n_outliers: usize) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "{header}");
    let _ = writeln!(
        s,
        "{:<13} {:<46} {:>11} {:>11} {:>7} {:>8}  {}",
        "kind", "case", "predicted", "measured", "spread", "error", "bound"
    );
    for o in outcomes {
        let _ = writeln!(
            s,
            "{:<13} {:<46} {:>11} {:>11} {:>6.1}% {:>+7.1}%  {}",
            o.kind.name(),
            o.name,
            fmt_time(o.predicted_s),
            fmt_time(o.measured.median),
            100.0 * o.measured.spread(),
            100.0 * o.signed_error(),
            o.bound
        );
    }
    let pct = |x: Option<f64>| x.map_or("n/a".to_string(), |x| format!("{:.1}%", 100.0 * x));
    let _ = writeln!(
        s,
        "\n{:<13} {:>4} {:>8} {:>8} {:>9} {:>8}  worst case",
        "per kind", "n", "MAPE", "bias", "Spearman", "noise"
    );
    for k in stats {
        let _ = writeln!(
            s,
            "{:<13} {:>4} {:>7.1}% {:>+7.1}% {:>9} {:>8}  {} ({:.1}%)",
            k.kind.name(),
            k.n,
            100.0 * k.mape,
            100.0 * k.bias,
            k.spearman.map_or("n/a".to_string(), |r| format!("{r:.3}")),
            pct(k.noise),
            k.worst.0,
            100.0 * k.worst.1
        );
    }
    let all: Vec<(f64, f64)> = outcomes
        .iter()
        .map(|o| (o.predicted_s, o.measured.median))
        .collect();
    let p: Vec<f64> = all.iter().map(|x| x.0).collect();
    let m: Vec<f64> = all.iter().map(|x| x.1).collect();
    if let Some(mape) = crate::measure::stats::mape(&all) {
        let _ = writeln!(
            s,
            "{:<13} {:>4} {:>7.1}% {:>8} {:>9} {:>8}",
            "all",
            all.len(),
            100.0 * mape,
            "",
            crate::measure::stats::spearman(&p, &m)
                .map_or("n/a".to_string(), |r| format!("{r:.3}")),
            pct(super::noise(&outcomes.iter().collect::<Vec<_>>()))
        );
    }
    if stats.iter().any(|k| k.noise.is_some()) {
        let _ = writeln!(
            s,
            "(noise: mean difference between two measurements of each case, the second round run \
             after every case had run once; a model error near it is as close as this machine can tell)"
        );
    }
    let e2e: Vec<&Outcome> = outcomes.iter().filter(|o| o.kind.end_to_end()).collect();
    if !e2e.is_empty() {
        let _ = writeln!(s, "\nend to end:");
        for o in e2e {
            let _ = writeln!(
                s,
                "  {:<44} predicted {:>11}, measured {:>11}: error {:+.1}%",
                o.name,
                fmt_time(o.predicted_s),
                fmt_time(o.measured.median),
                100.0 * o.signed_error()
            );
        }
    }
    let _ = writeln!(s, "\nworst outliers:");
    for (i, o) in outliers(outcomes, n_outliers).into_iter().enumerate() {
        let _ = writeln!(
            s,
            "  {}. {} [{}]: predicted {}, measured {} ({:+.1}%), bound {}",
            i + 1,
            o.name,
            o.kind.name(),
            fmt_time(o.predicted_s),
            fmt_time(o.measured.median),
            100.0 * o.signed_error(),
            o.bound
        );
    }
    s
}

/// One CSV row per case.
pub fn csv(outcomes: &[Outcome]) -> Result<String, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "kind",
        "case",
        "predicted_s",
        "measured_s",
        "measured_min_s",
        "measured_max_s",
        "samples",
        "error",
        "abs_error",
        "bound",
        "flops",
        "bytes",
        "load",
        "repeat_s",
    ])?;
    for o in outcomes {
        w.write_record([
            o.kind.name().to_string(),
            o.name.clone(),
            format!("{:e}", o.predicted_s),
            format!("{:e}", o.measured.median),
            format!("{:e}", o.measured.min),
            format!("{:e}", o.measured.max),
            o.measured.n.to_string(),
            format!("{:.4}", o.signed_error()),
            format!("{:.4}", o.ape()),
            o.bound.clone(),
            format!("{}", o.flops),
            format!("{}", o.bytes),
            o.load.clone(),
            o.repeat
                .map_or(String::new(), |r| format!("{:e}", r.median)),
        ])?;
    }
    let bytes = w.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8(bytes).expect("csv writes UTF-8"))
}

/// Scatter plot of predicted against measured time on log axes, one colour per kind, with the
/// diagonal and a ±`band` band, written as SVG or PNG by the file's extension
/// ([`figure::write`]). Errors are returned as text (fonts, file system).
pub fn plot(outcomes: &[Outcome], path: &Path, title: &str, band: f64) -> Result<(), String> {
    let fig = Scatter {
        outcomes,
        title,
        band,
    };
    figure::write(&fig, path, false)
}

/// The predicted-versus-measured scatter, as a [`Chart`].
struct Scatter<'a> {
    outcomes: &'a [Outcome],
    title: &'a str,
    band: f64,
}

impl Chart for Scatter<'_> {
    fn size(&self) -> (u32, u32) {
        (1000, 760)
    }
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, plotters::coord::Shift>,
    ) -> Result<(), String>
    where
        DB::ErrorType: 'static,
    {
        draw(root, self.outcomes, self.title, self.band)
    }
}

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, plotters::coord::Shift>,
    outcomes: &[Outcome],
    title: &str,
    band: f64,
) -> Result<(), String>
where
    DB::ErrorType: 'static,
{
    let e = |x: &dyn std::fmt::Display| x.to_string();
    let vals = outcomes
        .iter()
        .flat_map(|o| [o.predicted_s, o.measured.median])
        .filter(|v| *v > 0.0 && v.is_finite());
    let (lo, hi) = vals.fold((f64::INFINITY, 0.0f64), |(a, b), v| (a.min(v), b.max(v)));
    if !(lo.is_finite() && hi > 0.0) {
        return Err("nothing to plot".into());
    }
    let (lo, hi) = (lo / 2.0, hi * 2.0);
    root.fill(&WHITE).map_err(|x| e(&x))?;
    let mut chart = ChartBuilder::on(root)
        .caption(title, ("sans-serif", 20))
        .margin(15)
        .x_label_area_size(50)
        .y_label_area_size(80)
        .build_cartesian_2d((lo..hi).log_scale(), (lo..hi).log_scale())
        .map_err(|x| e(&x))?;
    chart
        .configure_mesh()
        .x_desc("measured time per run (s)")
        .y_desc("predicted time (s)")
        .x_label_formatter(&|v| format!("{v:.0e}"))
        .y_label_formatter(&|v| format!("{v:.0e}"))
        .draw()
        .map_err(|x| e(&x))?;
    chart
        .draw_series(LineSeries::new([(lo, lo), (hi, hi)], BLACK.stroke_width(1)))
        .map_err(|x| e(&x))?
        .label("predicted = measured")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], BLACK));
    for f in [1.0 + band, 1.0 - band] {
        chart
            .draw_series(LineSeries::new(
                [(lo, lo * f), (hi, hi * f)],
                BLACK.mix(0.3).stroke_width(1),
            ))
            .map_err(|x| e(&x))?;
    }
    let mut kinds = Vec::new();
    for o in outcomes {
        if !kinds.contains(&o.kind) {
            kinds.push(o.kind);
        }
    }
    for (i, k) in kinds.iter().enumerate() {
        let color = Palette99::pick(i).to_rgba();
        chart
            .draw_series(
                outcomes
                    .iter()
                    .filter(|o| o.kind == *k)
                    .map(|o| Circle::new((o.measured.median, o.predicted_s), 4, color.filled())),
            )
            .map_err(|x| e(&x))?
            .label(k.name())
            .legend(move |(x, y)| Circle::new((x + 10, y), 4, color.filled()));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(|x| e(&x))?;
    Ok(())
}
