//! How far a number can be trusted: the measurement set archscope is checked against
//! ([`dataset`]) and the other files a calibration reads ([`formats`]: llama-bench output, AI
//! Hub `perf.yaml`), calibrations fitted to measured rows ([`fit`], [`overlay`]), and the error
//! bands every prediction carries ([`bands`]).
//!
//! The flow: [`dataset::read`] parses the measurement set; [`dataset::predict`] prices each row
//! as a user would ask for it; [`fit::fit`] fits the free parameters of one (device, runtime)
//! pair to its `train` rows in log space with priors from the shipped files; an [`overlay`]
//! writes the fit, its rows, residuals and date to a TOML that `score --calibration` reads; the
//! [`bands`] are the spread of the errors, per class when uncalibrated and from the
//! cross-validated residuals of the pair when calibrated.

pub mod bands;
pub mod dataset;
#[cfg(feature = "calibration")]
pub mod fit;
pub mod formats;
pub mod overlay;
pub mod study;

/// Errors reading measurements and calibrations.
#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    /// A file could not be read or written.
    #[error("{path}: {message}")]
    File {
        /// File.
        path: String,
        /// What went wrong.
        message: String,
    },
    /// A bad row or field in a table or an overlay.
    #[error("{path}:{line}: {message}")]
    Table {
        /// File.
        path: String,
        /// 1-based line (0 when unknown).
        line: usize,
        /// What was expected.
        message: String,
    },
    /// A file that is none of the formats `calibrate --from` reads ([`formats::ACCEPTED`]).
    #[error("{path}: {message}")]
    Unrecognized {
        /// File.
        path: String,
        /// What was found and what is accepted.
        message: String,
    },
    /// A file whose rows name no model archscope ships, read without `--model`.
    #[error(
        "{path}: a {format} file names no model archscope ships; give the model measured with \
         --model (a shipped name such as llama-2-7b, tinyllama-1.1b or mobilenetv2; see \
         `archscope models list`)"
    )]
    NeedsModel {
        /// File.
        path: String,
        /// Its format.
        format: String,
    },
    /// A calibration that does not apply to what it is used for.
    #[error("{0}")]
    Mismatch(String),
    /// Nothing to fit or compare.
    #[error("{0}")]
    Empty(String),
    /// Writing refused or failed (an existing file without `--force`).
    #[error(transparent)]
    Output(#[from] crate::util::output::OutputError),
}
