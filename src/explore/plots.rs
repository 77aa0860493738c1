//! Charts for the report, drawn with plotters. Each chart is plain data implementing [`Chart`];
//! the same drawing code renders it to SVG text (embedded in `report.html`), to a PNG file, or to
//! an RGB buffer (used by tests to check that text really renders).
//!
//! Charts: a Pareto scatter ([`Scatter`]), a roofline of one unit with each op placed by
//! arithmetic intensity and attained performance ([`RooflineChart`]), stacked per-layer
//! breakdowns ([`Stacked`]) and curves against a swept hardware field ([`Curves`]).
//! Axes spanning more than [`LOG_SPAN`] use a log scale.

use plotters::coord::Shift;
use plotters::coord::ranged1d::{Ranged, SegmentValue, ValueFormatter};
use plotters::prelude::*;

/// Font family for every text; resolved by fontconfig for PNG, by the browser for SVG.
pub const FONT: &str = "sans-serif";

/// An axis spanning more than this ratio (max/min, all values positive) is drawn in log scale.
pub const LOG_SPAN: f64 = 20.0;

/// Tableau 10 (Tableau Software's 2016 categorical palette, also matplotlib's `tab10` order),
/// chosen because neighbouring colours stay distinguishable.
pub const PALETTE: [RGBColor; 10] = [
    RGBColor(0x4E, 0x79, 0xA7),
    RGBColor(0xF2, 0x8E, 0x2B),
    RGBColor(0xE1, 0x57, 0x59),
    RGBColor(0x76, 0xB7, 0xB2),
    RGBColor(0x59, 0xA1, 0x4F),
    RGBColor(0xED, 0xC9, 0x48),
    RGBColor(0xB0, 0x7A, 0xA1),
    RGBColor(0xFF, 0x9D, 0xA7),
    RGBColor(0x9C, 0x75, 0x5F),
    RGBColor(0xBA, 0xB0, 0xAC),
];

/// Colour of category `i` (cycles after ten).
pub fn color(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

const GREY: RGBColor = RGBColor(0xA0, 0xA0, 0xA0);

pub use crate::util::figure::{Chart, to_png, to_rgb, to_svg};

fn err<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

/// A compact engineering tick label: 3 significant digits and an SI prefix (`12.5m`, `2G`).
pub fn eng(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let (s, p) = crate::util::size::si_prefix(v);
    let x = v / s;
    let t = format!("{x:.3}");
    let digits = if x.abs() >= 100.0 {
        0
    } else if x.abs() >= 10.0 {
        1
    } else {
        2
    };
    let t = if t.contains('.') {
        format!("{x:.digits$}")
    } else {
        t
    };
    let t = if t.contains('.') {
        t.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        t
    };
    format!("{t}{p}")
}

/// Axis range with padding: multiplicative on log axes, additive on linear ones.
fn padded(lo: f64, hi: f64, log: bool) -> (f64, f64) {
    if log {
        (lo / 1.4, hi * 1.4)
    } else if hi > lo {
        let pad = (hi - lo) * 0.06;
        (lo - pad, hi + pad)
    } else {
        let pad = if lo == 0.0 { 1.0 } else { lo.abs() * 0.1 };
        (lo - pad, hi + pad)
    }
}

/// True when `values` are all positive and span more than [`LOG_SPAN`].
pub fn wants_log(values: impl IntoIterator<Item = f64>) -> bool {
    let (mut lo, mut hi) = (f64::INFINITY, 0.0f64);
    for v in values {
        if v <= 0.0 {
            return false;
        }
        lo = lo.min(v);
        hi = hi.max(v);
    }
    lo.is_finite() && hi / lo > LOG_SPAN
}

fn min_max(values: impl IntoIterator<Item = f64>) -> Option<(f64, f64)> {
    let mut it = values.into_iter().filter(|v| v.is_finite()).peekable();
    it.peek()?;
    Some(it.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
        (a.min(v), b.max(v))
    }))
}

/// Tick values for a log axis over `lo..hi`: 1, 2 and 5 × 10^k when that gives at most ten,
/// else the powers of ten (thinned to at most ten), so labels never crowd.
pub fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    if !(lo > 0.0 && hi > lo) {
        return Vec::new();
    }
    let within = |mults: &[f64], step: i32| -> Vec<f64> {
        let (k0, k1) = (lo.log10().floor() as i32, hi.log10().ceil() as i32);
        (k0..=k1)
            .filter(|k| (k - k0) % step == 0)
            .flat_map(|k| mults.iter().map(move |m| m * 10f64.powi(k)))
            .filter(|&v| v >= lo && v <= hi)
            .collect()
    };
    let fine = within(&[1.0, 2.0, 5.0], 1);
    if fine.len() <= 10 {
        return fine;
    }
    let mut step = 1;
    loop {
        let coarse = within(&[1.0], step);
        if coarse.len() <= 10 {
            return coarse;
        }
        step += 1;
    }
}

/// A log coordinate over `r` with [`log_ticks`] as its labelled points.
fn log_axis(r: std::ops::Range<f64>) -> plotters::coord::combinators::WithKeyPoints<LogCoord<f64>> {
    let ticks = log_ticks(r.start, r.end);
    r.log_scale().with_key_points(ticks)
}

/// Builds a cartesian chart with each axis linear or log, then calls a generic body on it.
macro_rules! cartesian {
    ($builder:expr, $xlog:expr, $x:expr, $ylog:expr, $y:expr, $body:ident ( $($arg:expr),* )) => {{
        let (x, y) = ($x, $y);
        match ($xlog, $ylog) {
            (false, false) => $body($builder.build_cartesian_2d(x, y).map_err(err)?, $($arg),*),
            (true, false) => $body($builder.build_cartesian_2d(log_axis(x), y).map_err(err)?, $($arg),*),
            (false, true) => $body($builder.build_cartesian_2d(x, log_axis(y)).map_err(err)?, $($arg),*),
            (true, true) => $body(
                $builder.build_cartesian_2d(log_axis(x), log_axis(y)).map_err(err)?,
                $($arg),*
            ),
        }
    }};
}

/// Fills `root` white, writes a title and an optional smaller subtitle (cut to fit the width)
/// at the top, and returns the area below them.
fn titled<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    subtitle: &str,
) -> Result<DrawingArea<DB, Shift>, String> {
    use plotters::style::text_anchor::{HPos, Pos, VPos};
    root.fill(&WHITE).map_err(err)?;
    let (w, _) = root.dim_in_pixel();
    let center = Pos::new(HPos::Center, VPos::Top);
    root.draw(&Text::new(
        title.to_string(),
        (w as i32 / 2, 8),
        (FONT, 20).into_font().color(&BLACK).pos(center),
    ))
    .map_err(err)?;
    if subtitle.is_empty() {
        return Ok(root.margin(36, 0, 0, 0));
    }
    // About 7 px per character at 13 px: keep the subtitle inside the image.
    let max = (w as usize / 7).max(10);
    let sub: String = if subtitle.chars().count() > max {
        let cut: String = subtitle.chars().take(max - 1).collect();
        format!("{cut}…")
    } else {
        subtitle.to_string()
    };
    root.draw(&Text::new(
        sub,
        (w as i32 / 2, 34),
        (FONT, 13)
            .into_font()
            .color(&RGBColor(0x55, 0x55, 0x55))
            .pos(center),
    ))
    .map_err(err)?;
    Ok(root.margin(56, 0, 0, 0))
}

/// One point of a scatter.
#[derive(Clone, Debug, PartialEq)]
pub struct ScatterPoint {
    /// x value.
    pub x: f64,
    /// y value.
    pub y: f64,
    /// Category index (colour and legend).
    pub group: usize,
    /// On the Pareto front.
    pub front: bool,
    /// Feasible (infeasible points are grey crosses).
    pub feasible: bool,
}

/// A Pareto scatter: every point coloured by category, the front drawn large with a black rim.
#[derive(Clone, Debug, PartialEq)]
pub struct Scatter {
    /// Title.
    pub title: String,
    /// Smaller second line (the point shown, the scenario); may be empty.
    pub subtitle: String,
    /// x axis description, with unit.
    pub x_label: String,
    /// y axis description, with unit.
    pub y_label: String,
    /// Category names, by index.
    pub groups: Vec<String>,
    /// Points.
    pub points: Vec<ScatterPoint>,
}

impl Chart for Scatter {
    fn size(&self) -> (u32, u32) {
        (900, 600)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        draw_scatter(self, &[], root, &mut Vec::new())
    }
}

/// An error bar of one scatter point: the band of its x or y value (see
/// [`super::runtimes`]), drawn as a thin segment in the point's colour.
#[derive(Clone, Debug, PartialEq)]
pub struct ErrorBar {
    /// Index of the point in [`Scatter::points`].
    pub point: usize,
    /// Low and high x (the point's x when the x value has no band).
    pub x: (f64, f64),
    /// Low and high y (the point's y when the y value has no band).
    pub y: (f64, f64),
}

/// A Pareto scatter with error bars on the points whose time or rate has an error band.
#[derive(Clone, Debug, PartialEq)]
pub struct BandedScatter {
    /// The scatter.
    pub scatter: Scatter,
    /// Its error bars (the axes' ranges include them).
    pub bars: Vec<ErrorBar>,
}

impl Chart for BandedScatter {
    fn size(&self) -> (u32, u32) {
        self.scatter.size()
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        draw_scatter(&self.scatter, &self.bars, root, &mut Vec::new())
    }
}

/// Where each point of `fig` lands in its SVG (pixels from the top left of the image, as
/// [`to_svg`] draws it), in the order of [`Scatter::points`]; `None` for a point not drawn
/// (a value that is not finite). `report.html` puts its hover and click targets there.
pub fn scatter_coords(fig: &BandedScatter) -> Result<Vec<Option<(i32, i32)>>, String> {
    let mut coords = Vec::new();
    let mut sink = String::new();
    {
        let root = SVGBackend::with_string(&mut sink, fig.size()).into_drawing_area();
        draw_scatter(&fig.scatter, &fig.bars, &root, &mut coords)?;
    }
    Ok(coords)
}

/// A bar as drawn: group, the point, its x range and its y range.
type Bar = (usize, (f64, f64), (f64, f64), (f64, f64));

/// Draws `fig` with its error bars on `root`, and fills `coords` with where each point landed
/// (see [`scatter_coords`]).
fn draw_scatter<DB: DrawingBackend>(
    fig: &Scatter,
    bars: &[ErrorBar],
    root: &DrawingArea<DB, Shift>,
    coords: &mut Vec<Option<(i32, i32)>>,
) -> Result<(), String> {
    {
        let area = titled(root, &fig.title, &fig.subtitle)?;
        let pts: Vec<&ScatterPoint> = fig
            .points
            .iter()
            .filter(|p| p.x.is_finite() && p.y.is_finite())
            .collect();
        let finite = |v: f64| v.is_finite() && v > 0.0;
        let bars: Vec<Bar> = bars
            .iter()
            .filter(|b| {
                fig.points
                    .get(b.point)
                    .is_some_and(|p| p.x.is_finite() && p.y.is_finite())
                    && [b.x.0, b.x.1, b.y.0, b.y.1].iter().all(|&v| finite(v))
            })
            .map(|b| {
                let p = &fig.points[b.point];
                (p.group, (p.x, p.y), b.x, b.y)
            })
            .collect();
        let xs = pts
            .iter()
            .map(|p| p.x)
            .chain(bars.iter().flat_map(|b| [b.2.0, b.2.1]));
        let ys = pts
            .iter()
            .map(|p| p.y)
            .chain(bars.iter().flat_map(|b| [b.3.0, b.3.1]));
        let (x0, x1) = min_max(xs).unwrap_or((1.0, 10.0));
        let (y0, y1) = min_max(ys).unwrap_or((1.0, 10.0));
        let xlog = wants_log(pts.iter().map(|p| p.x));
        let ylog = wants_log(pts.iter().map(|p| p.y));
        let (x0, x1) = padded(x0, x1, xlog);
        let (y0, y1) = padded(y0, y1, ylog);
        let mut b = ChartBuilder::on(&area);
        b.margin(12).x_label_area_size(48).y_label_area_size(72);
        cartesian!(
            b,
            xlog,
            x0..x1,
            ylog,
            y0..y1,
            scatter_body(fig, &pts, &bars, coords)
        )
    }
}

fn mesh<DB, X, Y>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<X, Y>>,
    x_label: &str,
    y_label: &str,
) -> Result<(), String>
where
    DB: DrawingBackend,
    X: Ranged<ValueType = f64> + ValueFormatter<f64>,
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    chart
        .configure_mesh()
        .x_desc(x_label)
        .y_desc(y_label)
        .x_labels(8)
        .y_labels(8)
        .x_label_formatter(&|v| eng(*v))
        .y_label_formatter(&|v| eng(*v))
        .label_style((FONT, 13))
        .axis_desc_style((FONT, 15))
        .light_line_style(RGBColor(0xEE, 0xEE, 0xEE))
        .bold_line_style(RGBColor(0xDD, 0xDD, 0xDD))
        .draw()
        .map_err(err)
}

fn legend<'a, DB, X, Y>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<X, Y>>,
    pos: SeriesLabelPosition,
) -> Result<(), String>
where
    DB: DrawingBackend + 'a,
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    chart
        .configure_series_labels()
        .position(pos)
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(0x99, 0x99, 0x99))
        .label_font((FONT, 13))
        .draw()
        .map_err(err)
}

fn scatter_body<'a, DB, X, Y>(
    mut chart: ChartContext<'a, DB, Cartesian2d<X, Y>>,
    fig: &Scatter,
    pts: &[&ScatterPoint],
    bars: &[Bar],
    coords: &mut Vec<Option<(i32, i32)>>,
) -> Result<(), String>
where
    DB: DrawingBackend + 'a,
    X: Ranged<ValueType = f64> + ValueFormatter<f64>,
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    mesh(&mut chart, &fig.x_label, &fig.y_label)?;
    if !bars.is_empty() {
        // Under the points: a segment across each banded axis, in the point's colour.
        let segments = bars.iter().flat_map(|&(g, (xm, ym), (xl, xh), (yl, yh))| {
            let style = color(g).mix(0.45).stroke_width(1);
            let mut v = Vec::with_capacity(2);
            if xl < xh {
                v.push(PathElement::new(vec![(xl, ym), (xh, ym)], style));
            }
            if yl < yh {
                v.push(PathElement::new(vec![(xm, yl), (xm, yh)], style));
            }
            v
        });
        chart
            .draw_series(segments)
            .map_err(err)?
            .label("error band (p10-p90)")
            .legend(|(x, y)| PathElement::new(vec![(x - 6, y), (x + 6, y)], GREY.stroke_width(1)));
    }
    let infeasible: Vec<(f64, f64)> = pts
        .iter()
        .filter(|p| !p.feasible)
        .map(|p| (p.x, p.y))
        .collect();
    if !infeasible.is_empty() {
        chart
            .draw_series(
                infeasible
                    .iter()
                    .map(|&c| Cross::new(c, 3, GREY.stroke_width(1))),
            )
            .map_err(err)?
            .label("infeasible")
            .legend(|(x, y)| Cross::new((x, y), 3, GREY.stroke_width(1)));
    }
    for (g, name) in fig.groups.iter().enumerate() {
        let c = color(g);
        let mine: Vec<(f64, f64)> = pts
            .iter()
            .filter(|p| p.feasible && p.group == g && !p.front)
            .map(|p| (p.x, p.y))
            .collect();
        let any = pts.iter().any(|p| p.feasible && p.group == g);
        if !any {
            continue;
        }
        chart
            .draw_series(
                mine.iter()
                    .map(|&xy| Circle::new(xy, 3, c.mix(0.55).filled())),
            )
            .map_err(err)?
            .label(name.as_str())
            // The legend draws the marker the points are drawn with.
            .legend(move |(x, y)| Circle::new((x, y), 3, c.mix(0.55).filled()));
    }
    let front: Vec<&&ScatterPoint> = pts.iter().filter(|p| p.front).collect();
    chart
        .draw_series(
            front
                .iter()
                .map(|p| Circle::new((p.x, p.y), 6, color(p.group).filled())),
        )
        .map_err(err)?;
    chart
        .draw_series(
            front
                .iter()
                .map(|p| Circle::new((p.x, p.y), 6, BLACK.stroke_width(2))),
        )
        .map_err(err)?
        .label("Pareto front")
        .legend(|(x, y)| Circle::new((x, y), 6, BLACK.stroke_width(2)));
    coords.clear();
    coords.extend(
        fig.points.iter().map(|p| {
            (p.x.is_finite() && p.y.is_finite()).then(|| chart.backend_coord(&(p.x, p.y)))
        }),
    );
    legend(&mut chart, SeriesLabelPosition::UpperRight)
}

/// One op class on a roofline chart.
#[derive(Clone, Debug, PartialEq)]
pub struct RoofOp {
    /// Category index in [`RooflineChart::kinds`].
    pub kind: usize,
    /// FLOPs per byte of traffic.
    pub intensity: f64,
    /// Attained FLOP/s (FLOPs over the op's latency).
    pub perf: f64,
}

/// A roofline: compute ceilings, bandwidth slopes, and ops placed on them.
#[derive(Clone, Debug, PartialEq)]
pub struct RooflineChart {
    /// Title.
    pub title: String,
    /// Smaller second line (the point shown, the scenario); may be empty.
    pub subtitle: String,
    /// Compute ceilings: (label, ops/s).
    pub ceilings: Vec<(String, f64)>,
    /// Bandwidth slopes: (label, bytes/s).
    pub slopes: Vec<(String, f64)>,
    /// Op kind names, by index.
    pub kinds: Vec<String>,
    /// The ops.
    pub ops: Vec<RoofOp>,
    /// x axis description.
    pub x_label: String,
}

impl Chart for RooflineChart {
    fn size(&self) -> (u32, u32) {
        (900, 600)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let area = titled(root, &self.title, &self.subtitle)?;
        let top = self.ceilings.iter().map(|c| c.1).fold(0.0f64, f64::max);
        let ridges = self
            .slopes
            .iter()
            .flat_map(|s| self.ceilings.iter().map(move |c| c.1 / s.1));
        let (x0, x1) = min_max(
            self.ops
                .iter()
                .map(|o| o.intensity)
                .chain(ridges)
                .filter(|v| *v > 0.0),
        )
        .unwrap_or((0.1, 100.0));
        let (x0, x1) = (x0 / 3.0, x1 * 3.0);
        let slowest = self
            .slopes
            .iter()
            .map(|s| s.1)
            .fold(f64::INFINITY, f64::min);
        let (y0, _) = min_max(
            self.ops
                .iter()
                .map(|o| o.perf)
                .chain(std::iter::once(slowest * x0))
                .filter(|v| *v > 0.0),
        )
        .unwrap_or((top / 1e4, top));
        let mut b = ChartBuilder::on(&area);
        b.margin(12).x_label_area_size(48).y_label_area_size(72);
        let chart = b
            .build_cartesian_2d(log_axis(x0..x1), log_axis((y0 / 2.0)..(top * 3.0)))
            .map_err(err)?;
        roofline_body(chart, self, x0, x1)
    }
}

fn roofline_body<'a, DB, X, Y>(
    mut chart: ChartContext<'a, DB, Cartesian2d<X, Y>>,
    fig: &RooflineChart,
    x0: f64,
    x1: f64,
) -> Result<(), String>
where
    DB: DrawingBackend + 'a,
    X: Ranged<ValueType = f64> + ValueFormatter<f64>,
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    mesh(&mut chart, &fig.x_label, "attained performance (FLOP/s)")?;
    let top = fig.ceilings.iter().map(|c| c.1).fold(0.0f64, f64::max);
    let dark = RGBColor(0x33, 0x33, 0x33);
    for (label, peak) in &fig.ceilings {
        chart
            .draw_series(LineSeries::new(
                [(x0, *peak), (x1, *peak)],
                dark.stroke_width(2),
            ))
            .map_err(err)?;
        chart
            .draw_series(std::iter::once(Text::new(
                format!("{label} peak {}OP/s", eng(*peak)),
                (x0 * 1.15, *peak * 1.3),
                (FONT, 13).into_font().color(&dark),
            )))
            .map_err(err)?;
    }
    for (label, bw) in &fig.slopes {
        let ridge = (top / bw).min(x1);
        chart
            .draw_series(LineSeries::new(
                [(x0, bw * x0), (ridge, bw * ridge)],
                RGBColor(0x66, 0x66, 0x66).stroke_width(2),
            ))
            .map_err(err)?;
        let xt = (x0 * ridge).sqrt();
        chart
            .draw_series(std::iter::once(Text::new(
                format!("{label} {}B/s", eng(*bw)),
                (xt, bw * xt * 2.4),
                (FONT, 13).into_font().color(&RGBColor(0x44, 0x44, 0x44)),
            )))
            .map_err(err)?;
    }
    for (k, name) in fig.kinds.iter().enumerate() {
        let c = color(k);
        let mine: Vec<(f64, f64)> = fig
            .ops
            .iter()
            .filter(|o| o.kind == k && o.intensity > 0.0 && o.perf > 0.0)
            .map(|o| (o.intensity, o.perf))
            .collect();
        if mine.is_empty() {
            continue;
        }
        chart
            .draw_series(mine.iter().map(|&xy| Circle::new(xy, 5, c.filled())))
            .map_err(err)?
            .label(name.as_str())
            .legend(move |(x, y)| Circle::new((x, y), 5, c.filled()));
    }
    legend(&mut chart, SeriesLabelPosition::LowerRight)
}

/// A panel of stacked bars.
#[derive(Clone, Debug, PartialEq)]
pub struct StackPanel {
    /// y axis description, with unit.
    pub y_label: String,
    /// Stacks: (name, one value per group), drawn bottom to top.
    pub series: Vec<(String, Vec<f64>)>,
}

/// Stacked bars per group (e.g. per layer), one or more panels side by side.
#[derive(Clone, Debug, PartialEq)]
pub struct Stacked {
    /// Title.
    pub title: String,
    /// Smaller second line (the point shown, the scenario); may be empty.
    pub subtitle: String,
    /// Group labels along x.
    pub groups: Vec<String>,
    /// x axis description.
    pub x_label: String,
    /// Panels.
    pub panels: Vec<StackPanel>,
}

impl Chart for Stacked {
    fn size(&self) -> (u32, u32) {
        (1100, 480)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let area = titled(root, &self.title, &self.subtitle)?;
        let n = self.groups.len().max(1);
        let panels = area.split_evenly((1, self.panels.len().max(1)));
        for (panel, p) in panels.iter().zip(&self.panels) {
            let top = (0..self.groups.len())
                .map(|g| p.series.iter().map(|s| s.1[g]).sum::<f64>())
                .fold(0.0f64, f64::max);
            let top = if top > 0.0 { top * 1.08 } else { 1.0 };
            let mut chart = ChartBuilder::on(panel)
                .margin(10)
                .x_label_area_size(40)
                .y_label_area_size(64)
                .build_cartesian_2d((0..n).into_segmented(), 0.0..top)
                .map_err(err)?;
            let labels = &self.groups;
            let step = n.div_ceil(12).max(1);
            chart
                .configure_mesh()
                .disable_x_mesh()
                .x_desc(self.x_label.as_str())
                .y_desc(p.y_label.as_str())
                .x_labels(n.min(24))
                .x_label_formatter(&|v| match v {
                    SegmentValue::CenterOf(i)
                        if *i < labels.len() && (i % step == 0 || *i + 1 == labels.len()) =>
                    {
                        labels[*i].clone()
                    }
                    _ => String::new(),
                })
                .y_label_formatter(&|v| eng(*v))
                .label_style((FONT, 12))
                .axis_desc_style((FONT, 14))
                .light_line_style(RGBColor(0xEE, 0xEE, 0xEE))
                .bold_line_style(RGBColor(0xDD, 0xDD, 0xDD))
                .draw()
                .map_err(err)?;
            let mut base = vec![0.0f64; n];
            for (k, (name, vals)) in p.series.iter().enumerate() {
                let c = color(k);
                let bars: Vec<Rectangle<(SegmentValue<usize>, f64)>> = vals
                    .iter()
                    .enumerate()
                    .map(|(g, &v)| {
                        let r = Rectangle::new(
                            [
                                (SegmentValue::Exact(g), base[g]),
                                (SegmentValue::Exact(g + 1), base[g] + v),
                            ],
                            c.filled(),
                        );
                        base[g] += v;
                        let mut r = r;
                        r.set_margin(0, 0, 2, 2);
                        r
                    })
                    .collect();
                chart
                    .draw_series(bars)
                    .map_err(err)?
                    .label(name.as_str())
                    .legend(move |(x, y)| {
                        Rectangle::new([(x, y - 5), (x + 10, y + 5)], c.filled())
                    });
            }
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperRight)
                .background_style(WHITE.mix(0.85))
                .border_style(RGBColor(0x99, 0x99, 0x99))
                .label_font((FONT, 12))
                .draw()
                .map_err(err)?;
        }
        Ok(())
    }
}

/// One panel of curves sharing an x axis.
#[derive(Clone, Debug, PartialEq)]
pub struct CurvePanel {
    /// y axis description, with unit.
    pub y_label: String,
    /// Series: (name, points sorted by x).
    pub series: Vec<(String, Vec<(f64, f64)>)>,
}

/// Curves against one swept field, one panel per metric.
#[derive(Clone, Debug, PartialEq)]
pub struct Curves {
    /// Title.
    pub title: String,
    /// Smaller second line (the point shown, the scenario); may be empty.
    pub subtitle: String,
    /// x axis description, with unit.
    pub x_label: String,
    /// The sweep was logarithmic.
    pub x_log: bool,
    /// Panels side by side.
    pub panels: Vec<CurvePanel>,
}

impl Chart for Curves {
    fn size(&self) -> (u32, u32) {
        (1200, 440)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let area = titled(root, &self.title, &self.subtitle)?;
        let panels = area.split_evenly((1, self.panels.len().max(1)));
        for (panel, p) in panels.iter().zip(&self.panels) {
            let all: Vec<(f64, f64)> = p.series.iter().flat_map(|s| s.1.clone()).collect();
            let (x0, x1) = min_max(all.iter().map(|a| a.0)).unwrap_or((1.0, 10.0));
            let (y0, y1) = min_max(all.iter().map(|a| a.1)).unwrap_or((1.0, 10.0));
            let xlog = self.x_log && x0 > 0.0 && x1 / x0 > LOG_SPAN;
            let ylog = wants_log(all.iter().map(|a| a.1));
            let (x0, x1) = padded(x0, x1, xlog);
            let (y0, y1) = padded(y0, y1, ylog);
            let mut b = ChartBuilder::on(panel);
            b.margin(10).x_label_area_size(44).y_label_area_size(64);
            cartesian!(b, xlog, x0..x1, ylog, y0..y1, curve_body(&self.x_label, p))?;
        }
        Ok(())
    }
}

fn curve_body<'a, DB, X, Y>(
    mut chart: ChartContext<'a, DB, Cartesian2d<X, Y>>,
    x_label: &str,
    p: &CurvePanel,
) -> Result<(), String>
where
    DB: DrawingBackend + 'a,
    X: Ranged<ValueType = f64> + ValueFormatter<f64>,
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    mesh(&mut chart, x_label, &p.y_label)?;
    for (k, (name, pts)) in p.series.iter().enumerate() {
        let c = color(k);
        // The first series is drawn wide and light so that later ones stay visible on top.
        let width = if k == 0 && p.series.len() > 1 { 6 } else { 2 };
        chart
            .draw_series(LineSeries::new(
                pts.iter().copied(),
                c.mix(if width > 2 { 0.6 } else { 1.0 }).stroke_width(width),
            ))
            .map_err(err)?
            .label(name.as_str())
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 16, y)], c.stroke_width(2)));
        chart
            .draw_series(pts.iter().map(|&xy| Circle::new(xy, 3, c.filled())))
            .map_err(err)?;
    }
    legend(&mut chart, SeriesLabelPosition::UpperLeft)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engineering_ticks() {
        assert_eq!(eng(0.0125), "12.5m");
        assert_eq!(eng(2e9), "2G");
        assert_eq!(eng(68.26e9), "68.3G");
        assert_eq!(eng(1.0), "1");
        assert_eq!(eng(250e-6), "250µ");
    }

    #[test]
    fn log_ticks_stay_readable() {
        assert_eq!(log_ticks(0.012, 0.3), vec![0.02, 0.05, 0.1, 0.2]);
        assert_eq!(log_ticks(3.0, 3e6), vec![10.0, 100.0, 1e3, 1e4, 1e5, 1e6]);
        let wide = log_ticks(1e-3, 1e20);
        assert!(wide.len() <= 10 && wide.len() >= 5, "{wide:?}");
    }

    #[test]
    fn log_only_for_wide_positive_spans() {
        assert!(wants_log([1.0, 100.0]));
        assert!(!wants_log([1.0, 10.0]));
        assert!(!wants_log([0.0, 100.0]));
    }
}
