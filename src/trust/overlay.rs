//! A calibration overlay: the fitted corrections of one (device, runtime) pair, with their
//! provenance (the rows, the fit's residuals, the date) and the cross-validated error that the
//! error bands of a calibrated prediction come from. Written by `archscope calibrate --from`,
//! read by `--calibration FILE`; an overlay for another device or runtime is an error.

use super::TrustError;
use crate::runtime::Scales;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// `[calibration]`: what the overlay is for and where it comes from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Identity {
    /// Device name.
    pub device: String,
    /// Runtime name.
    pub runtime: String,
    /// Date of the fit (YYYY-MM-DD).
    pub date: String,
    /// The measurement file the rows came from.
    pub source: String,
    /// Ids of the rows fitted.
    pub rows: Vec<String>,
}

/// `[scales]`: the fitted corrections and which the rows constrain.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FittedScales {
    /// Factor on compute efficiencies.
    pub compute: f64,
    /// Factor on bandwidth efficiencies.
    pub bandwidth: f64,
    /// Factor on dispatch costs.
    pub dispatch: f64,
    /// Parameters the rows do not constrain (kept at the shipped files' values).
    pub unconstrained: Vec<String>,
}

/// `[cv]`: the out-of-sample error of the fit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CrossValidation {
    /// Folds (the row count for leave-one-out).
    pub folds: usize,
    /// Rows held out.
    pub n: usize,
    /// Median |predicted / measured − 1| of the held-out rows.
    pub median_abs: f64,
    /// 10th percentile of the held-out errors.
    pub p10: f64,
    /// 90th percentile of the held-out errors.
    pub p90: f64,
}

/// A whole overlay.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Overlay {
    /// What it is for.
    pub calibration: Identity,
    /// The corrections.
    pub scales: FittedScales,
    /// The fit's log residual per row (`ln(predicted / measured)`), by row id.
    pub residuals: std::collections::BTreeMap<String, f64>,
    /// The out-of-sample error, when there were at least two rows.
    pub cv: Option<CrossValidation>,
}

/// The folder where `calibrate --from` writes overlays by default and where `score` looks for
/// one when none is given (relative to the working directory).
pub const CALIBRATIONS_DIR: &str = "calibrations";

/// The default overlay path of a (device, runtime) pair: `calibrations/DEVICE.RUNTIME.toml`.
pub fn default_path(device: &str, runtime: &str) -> std::path::PathBuf {
    Path::new(CALIBRATIONS_DIR).join(format!("{device}.{runtime}.toml"))
}

/// The overlay of the pair in [`CALIBRATIONS_DIR`], if there is a file for it: its path, its
/// text and its contents (an error when the file is there but broken or for another pair).
pub fn find_for(
    device: &str,
    runtime: &str,
) -> Result<Option<(std::path::PathBuf, String, Overlay)>, TrustError> {
    let path = default_path(device, runtime);
    if !path.is_file() {
        return Ok(None);
    }
    let file = path.display().to_string();
    let text = read_text(&path)?;
    let o = Overlay::parse(&text, &file)?;
    o.check_for(device, runtime, &file)?;
    Ok(Some((path, text, o)))
}

fn read_text(path: &Path) -> Result<String, TrustError> {
    std::fs::read_to_string(path).map_err(|e| TrustError::File {
        path: path.display().to_string(),
        message: e.to_string(),
    })
}

impl Overlay {
    /// The corrections to apply.
    pub fn scales(&self) -> Scales {
        Scales {
            compute: self.scales.compute,
            bandwidth: self.scales.bandwidth,
            dispatch: self.scales.dispatch,
        }
    }

    /// Reads an overlay.
    pub fn read(path: &Path) -> Result<Overlay, TrustError> {
        Self::parse(&read_text(path)?, &path.display().to_string())
    }

    /// Parses overlay text; `file` names it in errors.
    pub fn parse(text: &str, file: &str) -> Result<Overlay, TrustError> {
        let o: Overlay = toml::from_str(text).map_err(|e| TrustError::Table {
            path: file.to_string(),
            line: crate::util::text::toml_error_line(text, &e),
            message: e.message().to_string(),
        })?;
        for (name, v) in [
            ("scales.compute", o.scales.compute),
            ("scales.bandwidth", o.scales.bandwidth),
            ("scales.dispatch", o.scales.dispatch),
        ] {
            if !(v.is_finite() && v > 0.0) {
                return Err(TrustError::Table {
                    path: file.to_string(),
                    line: 0,
                    message: format!(
                        "field `{name}`: expected a finite positive factor, found {v}"
                    ),
                });
            }
        }
        Ok(o)
    }

    /// Checks that the overlay is for `device` and `runtime`.
    pub fn check_for(&self, device: &str, runtime: &str, file: &str) -> Result<(), TrustError> {
        let c = &self.calibration;
        if c.device != device || c.runtime != runtime {
            return Err(TrustError::Mismatch(format!(
                "{file}: this calibration is for device `{}` with runtime `{}`, not `{device}` with `{runtime}`",
                c.device, c.runtime
            )));
        }
        Ok(())
    }

    /// The overlay as TOML text, with a header saying how it was made.
    pub fn to_toml(&self) -> String {
        let body = toml::to_string(self).expect("an overlay serializes");
        format!(
            "# archscope calibration of `{}` with runtime `{}`, fitted {} from {} rows of {}.\n\
             # Corrections multiply the shipped files' efficiencies and dispatch costs.\n{body}",
            self.calibration.device,
            self.calibration.runtime,
            self.calibration.date,
            self.calibration.rows.len(),
            self.calibration.source
        )
    }
}
