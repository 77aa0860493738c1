//! Error bands: how far a prediction can be trusted, computed from data, never typed in.
//!
//! * Calibrated (a `--calibration` overlay for the device and runtime): the 10th and 90th
//!   percentiles of the overlay's cross-validated errors.
//! * Uncalibrated: the 10th and 90th percentiles of the errors of the prediction's class on the
//!   measurement set (every usable row, shipped files and runtimes, no fit), labelled
//!   "uncalibrated: typical ±X %" with X the class's median |error|. The classes are those of
//!   [`error_class`]; a prediction with no runtime (`ideal`) is judged against the same rows
//!   priced with no runtime, classed by the kind of unit they ran on ([`ideal_class`]).
//!
//! The per-class figures are a generated file, `data/measurements/bands.csv`, written by
//! `archscope validate --published data/measurements/measurements.csv --write-bands` and
//! embedded at build time; a test recomputes it from the measurement set and requires it to be
//! current.
//!
//! An error `e = predicted / measured − 1` means the measured time is `t / (1 + e)`, so the band
//! of a predicted time `t` is `[t / (1 + p90), t / (1 + p10)]`.

use super::dataset::{ErrorStats, Prediction, error_class};
use super::overlay::Overlay;
use crate::hardware::{Hardware, UnitKind};
use crate::runtime::{Runtime, WorkloadKind};
use serde::Serialize;

/// The shipped per-class figures (see the module docs).
pub const SHIPPED: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/data/measurements/bands.csv"
));

/// Header of the bands file.
pub const HEADER: &str = "pricing,class,n,median_abs,p10,p90";

/// The spread of one class's errors.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ClassBand {
    /// `runtime` (rows priced with their runtime) or `ideal` (priced with none).
    pub pricing: String,
    /// The class.
    pub class: String,
    /// Rows.
    pub n: usize,
    /// Median |error|.
    pub median_abs: f64,
    /// 10th percentile of the errors.
    pub p10: f64,
    /// 90th percentile of the errors.
    pub p90: f64,
}

/// The band of one prediction.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Band {
    /// 10th percentile of the errors behind it.
    pub p10: f64,
    /// 90th percentile.
    pub p90: f64,
    /// Median |error|.
    pub typical: f64,
    /// Rows behind it.
    pub n: usize,
    /// Where it comes from, e.g. `uncalibrated: typical ±41% (GPU LLMs, 62 rows)`.
    pub label: String,
}

impl Band {
    /// The band of a predicted time: `(low, high)` seconds.
    pub fn time(&self, t: f64) -> (f64, f64) {
        (t / (1.0 + self.p90), t / (1.0 + self.p10))
    }

    /// The band of a predicted rate (tokens or images per second): `(low, high)`.
    pub fn rate(&self, r: f64) -> (f64, f64) {
        (r * (1.0 + self.p10), r * (1.0 + self.p90))
    }
}

/// Linear-interpolated quantile `q` in `[0, 1]` of `v` (sorted in place).
pub fn quantile(v: &mut [f64], q: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let pos = q * (v.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    v[lo] + (v[hi] - v[lo]) * (pos - lo as f64)
}

/// The class of a prediction made with no runtime: by the kind of unit (CPU, GPU, or an
/// accelerator: NPU, systolic), with Apple devices in their own class as in [`error_class`].
/// `None` for kinds the measurement set has no rows of (PIM, FPGA).
pub fn ideal_class(hw: &Hardware, unit: usize, kind: WorkloadKind) -> Option<String> {
    let class = match hw.units[unit].kind {
        UnitKind::Cpu => "cpu",
        UnitKind::Gpu => "gpu",
        UnitKind::Npu | UnitKind::Systolic => "accelerator",
        UnitKind::Pim | UnitKind::Fpga => return None,
    };
    let pseudo = Runtime {
        class: class.into(),
        ..Runtime::ideal()
    };
    Some(error_class(hw, &pseudo, kind))
}

/// The per-class bands of `runtime_rows` (rows priced with their runtime) and `ideal_rows`
/// (the same rows priced with none, their `class` set by [`ideal_class`]), as the bands file's
/// text.
pub fn compute(runtime_rows: &[Prediction], ideal_rows: &[Prediction]) -> String {
    let mut out = format!("{HEADER}\n");
    for (pricing, rows) in [("runtime", runtime_rows), ("ideal", ideal_rows)] {
        let mut classes: Vec<&str> = rows.iter().map(|p| p.class.as_str()).collect();
        classes.sort_unstable();
        classes.dedup();
        for c in classes {
            let mut e: Vec<f64> = rows
                .iter()
                .filter(|p| p.class == c)
                .map(Prediction::error)
                .collect();
            let s = ErrorStats::of(&e);
            let p10 = quantile(&mut e, 0.1);
            let p90 = quantile(&mut e, 0.9);
            out.push_str(&format!(
                "{pricing},{c},{},{:.4},{:.4},{:.4}\n",
                s.n, s.median_abs, p10, p90
            ));
        }
    }
    out
}

/// The shipped per-class bands.
pub fn shipped() -> Vec<ClassBand> {
    parse(SHIPPED)
}

/// Parses a bands file (the generated file; a malformed line is skipped).
pub fn parse(text: &str) -> Vec<ClassBand> {
    text.lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f.len() == 6).then_some(())?;
            Some(ClassBand {
                pricing: f[0].into(),
                class: f[1].into(),
                n: f[2].parse().ok()?,
                median_abs: f[3].parse().ok()?,
                p10: f[4].parse().ok()?,
                p90: f[5].parse().ok()?,
            })
        })
        .collect()
}

/// The band of a prediction on unit `unit` of `hw` with `runtime` for a `kind` workload:
/// from `calibration`'s cross-validated errors when given, else from the class's errors on the
/// measurement set. `None` when there is no data behind one.
pub fn band(
    hw: &Hardware,
    unit: usize,
    runtime: &Runtime,
    kind: WorkloadKind,
    calibration: Option<&Overlay>,
) -> Option<Band> {
    if let Some(cv) = calibration.and_then(|o| o.cv.as_ref()) {
        return Some(Band {
            p10: cv.p10,
            p90: cv.p90,
            typical: cv.median_abs,
            n: cv.n,
            label: format!(
                "calibrated: cross-validated ±{:.0}% ({} rows)",
                cv.median_abs * 100.0,
                cv.n
            ),
        });
    }
    let (pricing, class) = if runtime.is_ideal() {
        ("ideal", ideal_class(hw, unit, kind)?)
    } else {
        ("runtime", error_class(hw, runtime, kind))
    };
    let b = shipped()
        .into_iter()
        .find(|b| b.pricing == pricing && b.class == class)?;
    Some(Band {
        p10: b.p10,
        p90: b.p90,
        typical: b.median_abs,
        n: b.n,
        label: format!(
            "uncalibrated: typical ±{:.0}% ({}, {} rows)",
            b.median_abs * 100.0,
            b.class,
            b.n
        ),
    })
}
