//! The pricing mode every cost model takes: calibrated (the achievable fractions and overheads
//! of the hardware file) or ideal (bare peaks, the textbook roofline).

use serde::Serialize;

/// Calibrated (achievable fractions and overheads from the hardware file) or ideal (bare peaks).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Efficiencies and per-kernel overhead applied.
    Calibrated,
    /// Bare peaks, efficiency 1, no overhead.
    Ideal,
}

impl Mode {
    /// The fraction of a peak this mode reaches: the hardware file's `calibrated` efficiency in
    /// calibrated mode, 1 in ideal mode.
    pub fn efficiency(self, calibrated: f64) -> f64 {
        match self {
            Mode::Calibrated => calibrated,
            Mode::Ideal => 1.0,
        }
    }

    /// The fixed cost this mode charges: `calibrated` (a per-kernel or per-run overhead, in
    /// seconds) in calibrated mode, none in ideal mode.
    pub fn overhead(self, calibrated: f64) -> f64 {
        match self {
            Mode::Calibrated => calibrated,
            Mode::Ideal => 0.0,
        }
    }
}
