//! Memory-over-time picture of a plan, drawn with plotters as SVG or PNG:
//! steps (operators in execution order) on x, scratchpad addresses on y, one
//! rectangle per residency interval of a tensor (filled by tensor kind,
//! outlined so that neighbours stay apart), a red cross where a tensor is
//! spilled (non-compulsory store), a green triangle where it is reloaded, a
//! dashed line at the capacity, and a legend.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::util::figure::{self, Chart};

use super::report::spills_and_reloads;
use super::{MappingError, MemProblem, Plan, Residency, TensorKind};

/// Chart width, pixels.
pub const WIDTH: u32 = 1400;
/// Chart height, pixels.
pub const HEIGHT: u32 = 760;
/// Fill of activation residencies.
pub const ACTIVATION_FILL: RGBColor = RGBColor(0x1F, 0x77, 0xB4);
/// Fill of graph-output residencies.
pub const OUTPUT_FILL: RGBColor = RGBColor(0x94, 0x67, 0xBD);
/// Fill of graph-input residencies.
pub const INPUT_FILL: RGBColor = RGBColor(0xFF, 0x7F, 0x0E);
/// Fill of weight residencies.
pub const WEIGHT_FILL: RGBColor = RGBColor(0x8C, 0x56, 0x4B);
/// Colour of the spill markers (crosses).
pub const SPILL_COLOR: RGBColor = RGBColor(0xD6, 0x27, 0x28);
/// Colour of the reload markers (triangles).
pub const RELOAD_COLOR: RGBColor = RGBColor(0x2C, 0xA0, 0x2C);

const MARGIN_PX: u32 = 12;
const LEGEND_PX: u32 = 36;

/// Fill colour of a tensor kind.
pub fn kind_fill(kind: TensorKind) -> RGBColor {
    match kind {
        TensorKind::Activation => ACTIVATION_FILL,
        TensorKind::Output => OUTPUT_FILL,
        TensorKind::Input => INPUT_FILL,
        TensorKind::Weight => WEIGHT_FILL,
    }
}

fn err<E: std::fmt::Debug>(e: E) -> MappingError {
    MappingError::Chart(format!("{e:?}"))
}

/// Address unit of the y axis: KiB above 16 KiB of capacity, else bytes.
fn y_unit(capacity: u64) -> (f64, &'static str) {
    if capacity >= 16 << 10 {
        (1024.0, "KiB")
    } else {
        (1.0, "B")
    }
}

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    problem: &MemProblem,
    plan: &Plan,
    title: &str,
) -> Result<(), MappingError>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(err)?;
    let n = plan.order.len().max(1) as f64;
    let g = problem.granularity_bytes.max(1);
    let cap = problem.capacity_bytes.max(1);
    let (div, unit) = y_unit(cap);
    let y_max = cap as f64 / div;
    let (upper, legend) = root.split_vertically(HEIGHT - LEGEND_PX - MARGIN_PX);
    let mut chart = ChartBuilder::on(&upper)
        .caption(title, ("sans-serif", 16))
        .margin(MARGIN_PX)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(0f64..n, 0f64..y_max * 1.02)
        .map_err(err)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .light_line_style(TRANSPARENT)
        .x_desc("step (operator in execution order)")
        .y_desc(format!("scratchpad address ({unit})"))
        .draw()
        .map_err(err)?;
    let size = |a: usize| problem.tensors[a].bytes.div_ceil(g) * g;
    let kind = |a: usize| problem.tensors[a].kind;
    // The corners of a residency's rectangle: (first step, offset) and (after its last step,
    // its end).
    let corners = |r: &Residency| {
        let y0 = r.offset_bytes as f64 / div;
        let y1 = (r.offset_bytes + size(r.tensor)) as f64 / div;
        [(r.first_step as f64, y0), (r.last_step as f64 + 1.0, y1)]
    };
    // One filled rectangle per residency, then its outline.
    chart
        .draw_series(
            plan.residencies
                .iter()
                .map(|r| Rectangle::new(corners(r), kind_fill(kind(r.tensor)).mix(0.75).filled())),
        )
        .map_err(err)?;
    chart
        .draw_series(
            plan.residencies
                .iter()
                .map(|r| Rectangle::new(corners(r), BLACK.mix(0.6).stroke_width(1))),
        )
        .map_err(err)?;
    // Names inside rectangles large enough to hold them.
    let px = |x: f64, y: f64| chart.backend_coord(&(x, y));
    let mut labels = Vec::new();
    for r in &plan.residencies {
        let [(x0, y0), (x1, y1)] = corners(r);
        let (ax, ay) = px(x0, y1);
        let (bx, by) = px(x1, y0);
        let name = &problem.tensors[r.tensor].name;
        if (by - ay) >= 14 && (bx - ax) as usize >= 7 * name.len().min(24) + 6 {
            let short: String = name.chars().take(24).collect();
            labels.push(Text::new(
                short,
                (x0, y1),
                ("sans-serif", 11).into_font().color(&WHITE),
            ));
        }
    }
    chart.draw_series(labels).map_err(err)?;
    // Capacity line.
    chart
        .draw_series(DashedLineSeries::new(
            [(0.0, cap as f64 / div), (n, cap as f64 / div)],
            6,
            4,
            BLACK.stroke_width(1),
        ))
        .map_err(err)?;
    // Spill and reload markers at the middle of the tensor's rectangle.
    let mid = |a: usize, t: usize| -> Option<f64> {
        plan.residencies
            .iter()
            .find(|r| r.tensor == a && r.first_step <= t && t <= r.last_step)
            .map(|r| (r.offset_bytes as f64 + size(a) as f64 / 2.0) / div)
    };
    let events = spills_and_reloads(problem, plan);
    let spills: Vec<(f64, f64)> = events
        .iter()
        .filter(|e| e.2)
        .filter_map(|&(t, a, _)| mid(a, t).map(|y| (t as f64 + 0.5, y)))
        .collect();
    let reloads: Vec<(f64, f64)> = events
        .iter()
        .filter(|e| !e.2)
        .filter_map(|&(t, a, _)| mid(a, t).map(|y| (t as f64 + 0.15, y)))
        .collect();
    chart
        .draw_series(
            spills
                .iter()
                .map(|&p| Cross::new(p, 6, SPILL_COLOR.stroke_width(3))),
        )
        .map_err(err)?;
    chart
        .draw_series(
            reloads
                .iter()
                .map(|&p| TriangleMarker::new(p, 7, RELOAD_COLOR.filled())),
        )
        .map_err(err)?;
    // Legend.
    let mut kinds: Vec<TensorKind> = Vec::new();
    for r in &plan.residencies {
        if !kinds.contains(&kind(r.tensor)) {
            kinds.push(kind(r.tensor));
        }
    }
    kinds.sort_by_key(|k| *k as u8);
    let capacity = (cap as f64 / div * 10.0).round() / 10.0;
    draw_legend(
        &legend,
        &kinds,
        (spills.len(), reloads.len()),
        capacity,
        unit,
    )
}

/// The legend strip under the plan chart: a swatch per tensor kind present (`kinds`, in
/// order), the spill and reload markers with their counts, and the capacity (in `unit`).
fn draw_legend<DB: DrawingBackend>(
    legend: &DrawingArea<DB, Shift>,
    kinds: &[TensorKind],
    (spills, reloads): (usize, usize),
    capacity: f64,
    unit: &str,
) -> Result<(), MappingError>
where
    DB::ErrorType: 'static,
{
    let label_at = |text: String, x: i32| {
        legend
            .draw(&Text::new(text, (x, 8), ("sans-serif", 13).into_font()))
            .map_err(err)
    };
    let mut x = (MARGIN_PX + 70) as i32;
    for &k in kinds {
        let label = match k {
            TensorKind::Activation => "activation",
            TensorKind::Output => "output",
            TensorKind::Input => "input",
            TensorKind::Weight => "weight",
        };
        legend
            .draw(&Rectangle::new(
                [(x, 8), (x + 14, 22)],
                kind_fill(k).mix(0.75).filled(),
            ))
            .map_err(err)?;
        label_at(label.to_string(), x + 18)?;
        x += 30 + 8 * label.len() as i32;
    }
    legend
        .draw(&Cross::new((x + 7, 15), 6, SPILL_COLOR.stroke_width(3)))
        .map_err(err)?;
    label_at(format!("spill (store), {spills}"), x + 18)?;
    x += 160;
    legend
        .draw(&TriangleMarker::new((x + 7, 15), 7, RELOAD_COLOR.filled()))
        .map_err(err)?;
    label_at(format!("reload (load), {reloads}"), x + 18)?;
    x += 160;
    label_at(format!("dashed: capacity {capacity} {unit}"), x)
}

/// The chart of one plan, as a [`Chart`].
struct PlanChart<'a> {
    problem: &'a MemProblem,
    plan: &'a Plan,
    title: &'a str,
}

impl Chart for PlanChart<'_> {
    fn size(&self) -> (u32, u32) {
        (WIDTH, HEIGHT)
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String>
    where
        DB::ErrorType: 'static,
    {
        draw(root, self.problem, self.plan, self.title).map_err(|e| match e {
            MappingError::Chart(m) => m,
            other => other.to_string(),
        })
    }
}

/// The chart of `plan` for `problem` as SVG text.
pub fn to_svg(problem: &MemProblem, plan: &Plan, title: &str) -> Result<String, MappingError> {
    let chart = PlanChart {
        problem,
        plan,
        title,
    };
    figure::to_svg(&chart).map_err(MappingError::Chart)
}

/// Writes the chart to `path`: SVG for `.svg`, PNG for `.png`; an existing file only with
/// `force`.
pub fn write(
    problem: &MemProblem,
    plan: &Plan,
    title: &str,
    path: &Path,
    force: bool,
) -> Result<(), MappingError> {
    let chart = PlanChart {
        problem,
        plan,
        title,
    };
    figure::write(&chart, path, force).map_err(MappingError::Chart)
}
