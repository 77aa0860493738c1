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
