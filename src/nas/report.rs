//! The output of a search: a directory (never overwritten without `force`) holding CSV tables of
//! evaluated subnets, a JSON summary, and a scatter of quality against a cost metric (SVG, and PNG
//! where a system font is available).

use super::NasError;
use super::efficiency::Metric;
use super::evolution::Evaluated;
use crate::util::figure::{self, Chart};
use plotters::prelude::*;
use std::path::{Path, PathBuf};

/// An output directory.
#[derive(Clone, Debug)]
pub struct OutDir {
    path: PathBuf,
}

impl OutDir {
    /// Creates `path`, or reuses it when it is empty; a non-empty directory (or a file) is an
    /// error unless `force`.
    pub fn create(path: &Path, force: bool) -> Result<OutDir, NasError> {
        let p = path.display().to_string();
        if path.exists() {
            if !path.is_dir() {
                return Err(NasError::invalid(
                    &p,
                    "output",
                    "exists and is not a directory",
                ));
            }
            let non_empty = std::fs::read_dir(path)
                .map_err(|source| NasError::Io {
                    path: p.clone(),
                    action: "cannot list",
                    source,
                })?
                .next()
                .is_some();
            if non_empty && !force {
                return Err(NasError::invalid(
                    &p,
                    "output",
                    "directory exists and is not empty; pass --force to overwrite, or choose another --out",
                ));
            }
        }
        std::fs::create_dir_all(path).map_err(|source| NasError::Io {
            path: p,
            action: "cannot create",
            source,
        })?;
        Ok(OutDir {
            path: path.to_path_buf(),
        })
    }

    /// Writes a file in the directory and returns its path.
    pub fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> Result<PathBuf, NasError> {
        let f = self.path.join(name);
        std::fs::write(&f, contents).map_err(|source| NasError::Io {
            path: f.display().to_string(),
            action: "cannot write",
            source,
        })?;
        Ok(f)
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// CSV of evaluated subnets: `run, generation, <quality column>, latency_ms, energy_mj,
/// memory_mib, macs_m, params_m, on_front, arch` (empty cells for metrics not computed).
pub fn evaluated_csv<A>(
    rows: &[(String, &Evaluated<A>, bool)],
    quality_column: &str,
    arch_json: impl Fn(&A) -> serde_json::Value,
) -> Result<String, NasError> {
    let err = |e: csv::Error| NasError::invalid("csv", "write", e.to_string());
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "run",
        "generation",
        quality_column,
        "latency_ms",
        "energy_mj",
        "memory_mib",
        "macs_m",
        "params_m",
        "on_front",
        "arch",
    ])
    .map_err(err)?;
    let opt = |v: Option<f64>| v.map(|x| format!("{x:.6}")).unwrap_or_default();
    for (run, e, front) in rows {
        w.write_record([
            run.clone(),
            e.generation.to_string(),
            format!("{:.6}", e.quality),
            opt(e.cost.latency_ms),
            opt(e.cost.energy_mj),
            opt(e.cost.memory_mib),
            format!("{:.4}", e.cost.macs_m),
            format!("{:.4}", e.cost.params_m),
            front.to_string(),
            arch_json(&e.arch).to_string(),
        ])
        .map_err(err)?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| NasError::invalid("csv", "write", e.to_string()))?;
    Ok(String::from_utf8(bytes).expect("csv writes UTF-8"))
}

/// One series of a scatter plot.
#[derive(Clone, Debug)]
pub struct Series {
    /// Legend label (none when empty).
    pub label: String,
    /// (x, y) points.
    pub points: Vec<(f64, f64)>,
    /// Palette index.
    pub color: usize,
    /// Marker radius in pixels.
    pub size: u32,
    /// Join points with a line (sorted by x).
    pub line: bool,
}

/// Vertical lines (e.g. latency budgets) drawn dashed-looking in light grey.
pub type Budgets = Vec<f64>;

/// The scatter of one search, as a [`Chart`].
struct Scatter<'a> {
    title: &'a str,
    x: Metric,
    y_label: &'a str,
    series: &'a [Series],
    budgets: &'a [f64],
    note: &'a str,
}

impl Chart for Scatter<'_> {
    fn size(&self) -> (u32, u32) {
        PLOT_SIZE
    }
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, plotters::coord::Shift>,
    ) -> Result<(), String>
    where
        DB::ErrorType: 'static,
    {
        let s = self;
        draw(root, s.title, s.x, s.y_label, s.series, s.budgets, s.note).map_err(|e| match e {
            NasError::Invalid { message, .. } => message,
            other => other.to_string(),
        })
    }
}

/// An SVG scatter plot of the series, with budgets as vertical lines and a caption note.
pub fn scatter_svg(
    title: &str,
    x: Metric,
    y_label: &str,
    series: &[Series],
    budgets: &[f64],
    note: &str,
) -> Result<String, NasError> {
    let fig = Scatter {
        title,
        x,
        y_label,
        series,
        budgets,
        note,
    };
    figure::to_svg(&fig).map_err(|m| NasError::invalid("plot", title, m))
}

/// The same plot as a PNG file (needs a system sans-serif font for the text).
pub fn scatter_png(
    path: &Path,
    title: &str,
    x: Metric,
    y_label: &str,
    series: &[Series],
    budgets: &[f64],
    note: &str,
) -> Result<(), NasError> {
    let fig = Scatter {
        title,
        x,
        y_label,
        series,
        budgets,
        note,
    };
    figure::to_png(&fig, path).map_err(|m| NasError::invalid("plot", title, m))
}

/// Plot size in pixels.
const PLOT_SIZE: (u32, u32) = (900, 620);

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, plotters::coord::Shift>,
    title: &str,
    x: Metric,
    y_label: &str,
    series: &[Series],
    budgets: &[f64],
    note: &str,
) -> Result<(), NasError> {
    let all: Vec<(f64, f64)> = series
        .iter()
        .flat_map(|s| s.points.iter().copied())
        .filter(|(a, b)| a.is_finite() && b.is_finite())
        .collect();
    if all.is_empty() {
        return Err(NasError::invalid("plot", title, "no finite points to plot"));
    }
    let (mut x0, mut x1, mut y0, mut y1) = all.iter().fold(
        (
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ),
        |(a, b, c, d), &(x, y)| (a.min(x), b.max(x), c.min(y), d.max(y)),
    );
    for &b in budgets {
        x0 = x0.min(b);
        x1 = x1.max(b);
    }
    let pad = |lo: f64, hi: f64| {
        let d = if hi > lo {
            (hi - lo) * 0.05
        } else {
            lo.abs().max(1.0) * 0.05
        };
        (lo - d, hi + d)
    };
    (x0, x1) = pad(x0, x1);
    (y0, y1) = pad(y0, y1);
    let e = |m: String| NasError::invalid("plot", title, m);
    root.fill(&WHITE).map_err(|x| e(x.to_string()))?;
    let (plot, foot) = root.split_vertically(PLOT_SIZE.1 - 40);
    let mut chart = ChartBuilder::on(&plot)
        .caption(title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(|x| e(x.to_string()))?;
    chart
        .configure_mesh()
        .x_desc(x.label())
        .y_desc(y_label)
        .light_line_style(WHITE.mix(0.0))
        .draw()
        .map_err(|x| e(x.to_string()))?;
    for &b in budgets {
        chart
            .draw_series(LineSeries::new(
                vec![(b, y0), (b, y1)],
                BLACK.mix(0.25).stroke_width(1),
            ))
            .map_err(|x| e(x.to_string()))?;
    }
    for s in series {
        let color = Palette99::pick(s.color).to_rgba();
        let pts: Vec<(f64, f64)> = s
            .points
            .iter()
            .copied()
            .filter(|(a, b)| a.is_finite() && b.is_finite())
            .collect();
        if s.line && pts.len() > 1 {
            let mut l = pts.clone();
            l.sort_by(|a, b| a.0.total_cmp(&b.0));
            chart
                .draw_series(LineSeries::new(l, color.stroke_width(2)))
                .map_err(|x| e(x.to_string()))?;
        }
        let drawn = chart
            .draw_series(pts.iter().map(|&p| Circle::new(p, s.size, color.filled())))
            .map_err(|x| e(x.to_string()))?;
        if !s.label.is_empty() {
            drawn
                .label(s.label.clone())
                .legend(move |(a, b)| Circle::new((a + 8, b), 4, color.filled()));
        }
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.3))
        .position(SeriesLabelPosition::LowerRight)
        .draw()
        .map_err(|x| e(x.to_string()))?;
    foot.draw(&Text::new(
        note.to_string(),
        (12, 12),
        ("sans-serif", 13).into_font(),
    ))
    .map_err(|x| e(x.to_string()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_dir_is_never_overwritten_without_force() {
        let base = std::env::temp_dir().join(format!("archscope-nas-out-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        let d = OutDir::create(&base, false).unwrap();
        d.write("a.txt", "x").unwrap();
        let e = OutDir::create(&base, false).unwrap_err().to_string();
        assert!(e.contains("--force"), "{e}");
        assert!(OutDir::create(&base, true).is_ok());
        std::fs::remove_dir_all(&base).unwrap();
    }

    #[test]
    fn svg_has_the_series_and_note() {
        let s = vec![Series {
            label: "front".into(),
            points: vec![(10.0, 70.0), (20.0, 75.0)],
            color: 0,
            size: 3,
            line: true,
        }];
        let svg =
            scatter_svg("t", Metric::Latency, "top-1 (%)", &s, &[15.0], "PROXY note").unwrap();
        assert!(svg.starts_with("<svg") && svg.contains("front") && svg.contains("PROXY note"));
        assert!(svg.contains("latency (ms)"));
    }
}
