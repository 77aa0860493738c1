//! The output of a search: a directory (never overwritten without `force`) holding CSV tables of
//! evaluated subnets, a JSON summary, and a scatter of quality against a cost metric (SVG, and PNG
//! where a system font is available).

use super::NasError;
use super::efficiency::Metric;
use super::evolution::Evaluated;
use crate::util::figure::{self, Chart};
use crate::util::output::{OutputError, StagedDir, atomic_write};
use plotters::prelude::*;
use std::path::{Path, PathBuf};

/// An output directory, written in a staging sibling and renamed into place by
/// [`finish`](OutDir::finish) (see [`StagedDir`]): a search that fails or is killed leaves no
/// half-written report, and `force` replaces an existing one whole.
#[derive(Debug)]
pub struct OutDir {
    staged: StagedDir,
}

impl OutDir {
    /// Checks `path` (an existing path is an error unless `force`; a file is always one) and
    /// starts the staging directory.
    pub fn create(path: &Path, force: bool) -> Result<OutDir, NasError> {
        let p = path.display().to_string();
        let staged = StagedDir::begin(path, force).map_err(|e| match e {
            OutputError::Exists(_) => NasError::invalid(
                &p,
                "output",
                "exists; pass --force to replace it, or choose another --out",
            ),
            OutputError::NotADirectory(_) => {
                NasError::invalid(&p, "output", "exists and is not a directory")
            }
            other => NasError::invalid(&p, "output", other.to_string()),
        })?;
        Ok(OutDir { staged })
    }

    /// Writes a file in the directory (atomically, in the staging directory) and returns the
    /// path it will have once the report is finished.
    pub fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> Result<PathBuf, NasError> {
        let f = self.staged.path().join(name);
        atomic_write(&f, contents.as_ref()).map_err(|e| NasError::Io {
            path: self.shown(name).display().to_string(),
            action: "cannot write",
            source: std::io::Error::other(e.to_string()),
        })?;
        Ok(self.shown(name))
    }

    /// Where a writer of its own puts the file `name` until the report is finished.
    pub fn staging_file(&self, name: &str) -> PathBuf {
        self.staged.path().join(name)
    }

    /// The path the file `name` has once the report is finished.
    pub fn shown(&self, name: &str) -> PathBuf {
        self.staged.target().join(name)
    }

    /// Renames the finished report into place.
    pub fn finish(self) -> Result<PathBuf, NasError> {
        let p = self.staged.target().display().to_string();
        self.staged.commit().map_err(|e| NasError::Io {
            path: p,
            action: "cannot finish",
            source: std::io::Error::other(e.to_string()),
        })
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
        assert_eq!(d.write("a.txt", "x").unwrap(), base.join("a.txt"));
        assert!(!base.exists(), "nothing appears before finish");
        assert_eq!(d.finish().unwrap(), base);
        assert!(base.join("a.txt").is_file());
        let e = OutDir::create(&base, false).unwrap_err().to_string();
        assert!(e.contains("--force"), "{e}");
        let d = OutDir::create(&base, true).unwrap();
        d.write("b.txt", "y").unwrap();
        d.finish().unwrap();
        assert!(
            !base.join("a.txt").exists(),
            "--force replaces the old report whole"
        );
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
