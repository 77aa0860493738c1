//! Gantt chart of a placement, drawn with plotters as SVG or PNG: one lane per unit (a rectangle
//! filled with [`LANE_FILL`]), one rectangle per op inside its unit's lane, coloured by op kind,
//! thin lines at window (segment) boundaries, and a colour legend below the lanes.

use super::PlaceError;
use super::schedule::Placement;
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::util::figure::{self, Chart};
use std::path::Path;

/// Fill of the lane rectangles (one per unit); op rectangles never use it.
pub const LANE_FILL: RGBColor = RGBColor(0xEE, 0xEE, 0xEE);
/// Chart width, pixels.
pub const WIDTH: u32 = 1400;
/// Height of one lane, pixels.
pub const LANE_PX: u32 = 44;
/// Narrowest op rectangle, pixels, so that short ops stay visible.
pub const MIN_OP_PX: f64 = 1.0;

const TOP_PX: u32 = 50;
const AXIS_PX: u32 = 40;
const LEGEND_PX: u32 = 36;
const LABEL_PX: u32 = 120;
const MARGIN_PX: u32 = 12;

/// Colour of an op kind (matrix work blue, attention warm, vector work green/violet, data
/// movement grey).
pub fn kind_color(kind: &str) -> RGBColor {
    match kind {
        "matmul" | "conv2d" | "moe_experts" | "moe_router" => RGBColor(0x1F, 0x77, 0xB4),
        "attn_qk" => RGBColor(0xFF, 0x7F, 0x0E),
        "attn_av" => RGBColor(0xD6, 0x27, 0x28),
        "attn_softmax" | "softmax" => RGBColor(0xE3, 0x77, 0xC2),
        "norm" => RGBColor(0x2C, 0xA0, 0x2C),
        "elementwise" | "pool" | "dwconv2d" => RGBColor(0x94, 0x67, 0xBD),
        "rope" => RGBColor(0x8C, 0x56, 0x4B),
        "kv_append" => RGBColor(0xBC, 0xBD, 0x22),
        _ => RGBColor(0x7F, 0x7F, 0x7F),
    }
}

/// Height of the chart for `lanes` units.
pub fn height(lanes: usize) -> u32 {
    TOP_PX + AXIS_PX + LEGEND_PX + 2 * MARGIN_PX + LANE_PX * lanes.max(1) as u32
}

fn err<E: std::fmt::Debug>(e: E) -> PlaceError {
    PlaceError::Render(format!("{e:?}"))
}

fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, p: &Placement) -> Result<(), PlaceError>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(err)?;
    let lanes = p.units.len().max(1);
    let makespan_ms = (p.totals.makespan_s * 1e3).max(1e-9);
    let title = format!(
        "{} on {}: {} ({}), makespan {:.3} ms, energy {:.3} mJ",
        p.workload,
        p.device,
        p.method,
        p.objective.name(),
        p.totals.makespan_s * 1e3,
        p.totals.energy_j * 1e3
    );
    let (upper, legend) = root.split_vertically(height(lanes) - LEGEND_PX - MARGIN_PX);
    let mut chart = ChartBuilder::on(&upper)
        .caption(title, ("sans-serif", 16))
        .margin(MARGIN_PX)
        .x_label_area_size(AXIS_PX)
        .y_label_area_size(LABEL_PX)
        .build_cartesian_2d(0f64..makespan_ms, 0f64..lanes as f64)
        .map_err(err)?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .disable_x_mesh()
        .y_labels(0)
        .x_desc("time (ms)")
        .draw()
        .map_err(err)?;
    // Lane k (unit k) is drawn top to bottom.
    let lane_y = |k: usize| (lanes - 1 - k) as f64;
    let px_per_ms = {
        let (x0, _) = chart.backend_coord(&(0.0, 0.0));
        let (x1, _) = chart.backend_coord(&(makespan_ms, 0.0));
        (x1 - x0) as f64 / makespan_ms
    };
    chart
        .draw_series((0..p.units.len()).map(|k| {
            let y = lane_y(k);
            Rectangle::new(
                [(0.0, y + 0.06), (makespan_ms, y + 0.94)],
                LANE_FILL.filled(),
            )
        }))
        .map_err(err)?;
    if p.windows.len() > 1 {
        for w in &p.windows[..p.windows.len() - 1] {
            let x = w.end_s * 1e3;
            chart
                .draw_series(LineSeries::new(
                    [(x, 0.0), (x, lanes as f64)],
                    RGBColor(0xBB, 0xBB, 0xBB).stroke_width(1),
                ))
                .map_err(err)?;
        }
    }
    let min_ms = MIN_OP_PX / px_per_ms.max(1e-30);
    chart
        .draw_series(p.ops.iter().map(|o| {
            let y = lane_y(o.unit);
            let x0 = o.start_s * 1e3;
            let x1 = (o.finish_s * 1e3).max(x0 + min_ms);
            Rectangle::new([(x0, y + 0.2), (x1, y + 0.8)], kind_color(&o.kind).filled())
        }))
        .map_err(err)?;
    for (k, name) in p.units.iter().enumerate() {
        let (_, py) = chart.backend_coord(&(0.0, lane_y(k) + 0.5));
        let (px, _) = chart.backend_coord(&(0.0, 0.0));
        upper
            .draw(&Text::new(
                name.clone(),
                (px - LABEL_PX as i32 + 8, py - 7),
                ("sans-serif", 14).into_font(),
            ))
            .map_err(err)?;
    }
    // Legend: the kinds present, in order of first appearance.
    let mut kinds: Vec<&str> = Vec::new();
    for o in &p.ops {
        if !kinds.contains(&o.kind.as_str()) {
            kinds.push(&o.kind);
        }
    }
    let mut x = (MARGIN_PX + LABEL_PX) as i32;
    for k in kinds {
        legend
            .draw(&Rectangle::new(
                [(x, 8), (x + 14, 22)],
                kind_color(k).filled(),
            ))
            .map_err(err)?;
        legend
            .draw(&Text::new(
                k.to_string(),
                (x + 18, 8),
                ("sans-serif", 13).into_font(),
            ))
            .map_err(err)?;
        x += 28 + 8 * k.len() as i32;
    }
    Ok(())
}

/// The Gantt chart of one placement, as a [`Chart`].
struct Gantt<'a>(&'a Placement);

impl Chart for Gantt<'_> {
    fn size(&self) -> (u32, u32) {
        (WIDTH, height(self.0.units.len()))
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String>
    where
        DB::ErrorType: 'static,
    {
        draw(root, self.0).map_err(|e| match e {
            PlaceError::Render(m) => m,
            other => other.to_string(),
        })
    }
}

/// The chart as SVG text.
pub fn to_svg(p: &Placement) -> Result<String, PlaceError> {
    figure::to_svg(&Gantt(p)).map_err(PlaceError::Render)
}

/// Writes the chart to `path`: SVG for `.svg`, PNG for `.png`; an existing file only with
/// `force`.
pub fn write(p: &Placement, path: &Path, force: bool) -> Result<(), PlaceError> {
    figure::write(&Gantt(p), path, force).map_err(PlaceError::Render)
}
