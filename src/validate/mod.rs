//! `archscope validate`: predicted versus measured. Each case is an archscope [`Graph`] — a
//! single op from a shape sweep, or a whole model — that the calibrated roofline prices
//! ([`crate::score::score_graph_under`] under the backend's runtime) and the candle backend runs ([`CandleBackend`]); the same graph both ways.
//!
//! Per op kind the report gives the mean absolute percentage error (MAPE), the worst case and
//! Spearman's rank correlation of predicted and measured times ([`summarize`]); [`report`]
//! writes the table, the CSV and a log-log scatter plot. [`published`] compares predictions
//! with published measurements of other devices instead.
//!
//! Single-op cases feed their operands as activations (as if the previous layer had just
//! produced them), so the roofline keeps small operands in cache, as the repeated measurement
//! does; weights are weights and live where the roofline's placement puts them.

pub mod cases;
pub mod host;
pub mod published;
pub mod report;

pub use cases::{Case, Kind, sweep};

use crate::cost::{Ledger, Mode};
use crate::hardware::Hardware;
use crate::measure::MeasureError;
use crate::measure::backend::CandleBackend;
use crate::measure::stats::{self, Summary};
use crate::measure::timing::{MeasurePlan, load_average_text};
use crate::score::{ScoreError, bound_name};
use crate::workload::Graph;
use serde::Serialize;

/// Errors of `validate`.
#[derive(Debug, thiserror::Error)]
pub enum ValidateError {
    /// Measuring failed.
    #[error(transparent)]
    Measure(#[from] MeasureError),
    /// Predicting failed.
    #[error(transparent)]
    Score(#[from] ScoreError),
    /// A file could not be written or read.
    #[error("{path}: {message}")]
    File {
        /// File.
        path: String,
        /// What went wrong.
        message: String,
    },
    /// A bad row in a published-measurements table.
    #[error("{path}:{line}: {message}")]
    Table {
        /// File.
        path: String,
        /// 1-based line.
        line: usize,
        /// What was expected.
        message: String,
    },
    /// Nothing to compare.
    #[error("{0}")]
    Empty(String),
    /// This host has no usable description to predict with (the message says what to run).
    #[error("{0}")]
    NoHost(String),
}

/// One case, predicted and measured.
#[derive(Clone, Debug, Serialize)]
pub struct Outcome {
    /// Op kind or end-to-end workload.
    pub kind: Kind,
    /// Case name.
    pub name: String,
    /// Roofline latency, seconds.
    pub predicted_s: f64,
    /// Measured seconds per run.
    pub measured: Summary,
    /// What limits the prediction.
    pub bound: String,
    /// FLOPs of the graph.
    pub flops: f64,
    /// Bytes the ops read and write (compulsory traffic).
    pub bytes: f64,
    /// Load average when the case finished.
    pub load: String,
    /// The same case measured again in a second round, after every case had run once (`None`
    /// when validate ran one round): how far two measurements of one kernel on this machine
    /// stand apart, minutes apart.
    pub repeat: Option<Summary>,
}

impl Outcome {
    /// Absolute percentage error of the prediction, as a fraction of the measurement.
    pub fn ape(&self) -> f64 {
        stats::ape(self.predicted_s, self.measured.median)
    }

    /// Signed error (predicted − measured) / measured.
    pub fn signed_error(&self) -> f64 {
        (self.predicted_s - self.measured.median) / self.measured.median
    }

    /// Absolute percentage difference of the second round's measurement from the first, where
    /// there is one: the error a model that predicted the second round exactly would have.
    pub fn repeat_ape(&self) -> Option<f64> {
        self.repeat
            .map(|r| stats::ape(r.median, self.measured.median))
    }
}

/// Error figures of one kind of case.
#[derive(Clone, Debug, Serialize)]
pub struct KindStats {
    /// The kind.
    pub kind: Kind,
    /// Cases.
    pub n: usize,
    /// Mean absolute percentage error, fraction.
    pub mape: f64,
    /// Mean signed error, fraction (negative: the model predicts too fast).
    pub bias: f64,
    /// The worst case and its absolute percentage error.
    pub worst: (String, f64),
    /// Spearman's rank correlation of predicted and measured times (None below 2 cases or
    /// for constant series).
    pub spearman: Option<f64>,
    /// Noise floor: the mean absolute percentage difference between the two rounds'
    /// measurements of the cases (None when validate ran one round). A model error near it is
    /// as good as this machine can tell.
    pub noise: Option<f64>,
}

/// The runtime of the measured backend: `candle-cpu` (eager op-by-op kernels, the full causal
/// score square, the host file's own measured dispatch).
pub const BACKEND_RUNTIME: &str = "candle-cpu";

/// Predicts `graph` on `unit` of `hw` with the calibrated model under the backend's runtime
/// ([`BACKEND_RUNTIME`]), as `score --runtime candle-cpu` would; returns the total ledger.
pub fn predict(hw: &Hardware, unit: usize, graph: &Graph) -> Result<Ledger, ValidateError> {
    static REQUEST: std::sync::OnceLock<Result<crate::score::ScoreRequest, String>> =
        std::sync::OnceLock::new();
    let req = REQUEST
        .get_or_init(|| {
            let runtime =
                crate::runtime::Runtime::load(BACKEND_RUNTIME).map_err(|e| e.to_string())?;
            Ok(crate::score::ScoreRequest {
                mode: Mode::Calibrated,
                runtime,
                ..crate::score::ScoreRequest::default()
            })
        })
        .as_ref()
        .map_err(|e| ScoreError::Request(e.clone()))?;
    Ok(
        crate::score::score_graph_under(hw, unit, req, graph.clone())?
            .1
            .total,
    )
}

/// Predicts and measures every case; with `repeat`, measures every case a second time once all
/// have run (the noise floor, [`KindStats::noise`]). `progress` receives each outcome as it is
/// measured, again after its second measurement.
pub fn run(
    hw: &Hardware,
    unit: usize,
    backend: &CandleBackend,
    cases: &[Case],
    plan: MeasurePlan,
    repeat: bool,
    progress: &mut dyn FnMut(&Outcome),
) -> Result<Vec<Outcome>, ValidateError> {
    let mut out = Vec::with_capacity(cases.len());
    for c in cases {
        let ledger = predict(hw, unit, &c.graph)?;
        let timing = backend.measure(&c.graph, plan, false)?;
        let bytes: f64 = c
            .graph
            .ops
            .iter()
            .map(|o| {
                let (r, w) = o.bytes(&c.graph);
                r + w
            })
            .sum();
        let o = Outcome {
            kind: c.kind,
            name: c.name.clone(),
            predicted_s: ledger.latency_s,
            measured: timing.total,
            bound: bound_name(hw, ledger.bound()),
            flops: ledger.flops,
            bytes,
            load: load_average_text(),
            repeat: None,
        };
        progress(&o);
        out.push(o);
    }
    if repeat {
        for (c, o) in cases.iter().zip(out.iter_mut()) {
            o.repeat = Some(backend.measure(&c.graph, plan, false)?.total);
            o.load = load_average_text();
            progress(o);
        }
    }
    Ok(out)
}

/// Error figures per kind, in the order kinds first appear.
pub fn summarize(outcomes: &[Outcome]) -> Vec<KindStats> {
    let mut kinds: Vec<Kind> = Vec::new();
    for o in outcomes {
        if !kinds.contains(&o.kind) {
            kinds.push(o.kind);
        }
    }
    kinds
        .into_iter()
        .map(|k| {
            let sel: Vec<&Outcome> = outcomes.iter().filter(|o| o.kind == k).collect();
            let pairs: Vec<(f64, f64)> = sel
                .iter()
                .map(|o| (o.predicted_s, o.measured.median))
                .collect();
            let worst = sel
                .iter()
                .max_by(|a, b| a.ape().total_cmp(&b.ape()))
                .map(|o| (o.name.clone(), o.ape()))
                .unwrap_or_default();
            let p: Vec<f64> = pairs.iter().map(|x| x.0).collect();
            let m: Vec<f64> = pairs.iter().map(|x| x.1).collect();
            KindStats {
                kind: k,
                n: sel.len(),
                mape: stats::mape(&pairs).unwrap_or(0.0),
                bias: sel.iter().map(|o| o.signed_error()).sum::<f64>() / sel.len() as f64,
                worst,
                spearman: stats::spearman(&p, &m),
                noise: noise(&sel),
            }
        })
        .collect()
}

/// Mean absolute percentage difference between the two rounds over `outcomes` (`None` unless
/// every one was measured twice).
pub fn noise(outcomes: &[&Outcome]) -> Option<f64> {
    let d: Option<Vec<f64>> = outcomes.iter().map(|o| o.repeat_ape()).collect();
    d.filter(|d| !d.is_empty())
        .map(|d| d.iter().sum::<f64>() / d.len() as f64)
}

/// The `n` cases with the largest absolute percentage error, worst first.
pub fn outliers(outcomes: &[Outcome], n: usize) -> Vec<&Outcome> {
    let mut v: Vec<&Outcome> = outcomes.iter().collect();
    v.sort_by(|a, b| b.ape().total_cmp(&a.ape()));
    v.truncate(n);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(kind: Kind, predicted_s: f64, measured: f64, repeat: Option<f64>) -> Outcome {
        let one = |m: f64| Summary {
            median: m,
            min: m,
            max: m,
            n: 1,
        };
        Outcome {
            kind,
            name: format!("{predicted_s} {measured}"),
            predicted_s,
            measured: one(measured),
            bound: "compute".into(),
            flops: 0.0,
            bytes: 0.0,
            load: String::new(),
            repeat: repeat.map(one),
        }
    }

    #[test]
    fn noise_is_the_mean_difference_between_rounds() {
        // Rounds 1.0 vs 1.1 (10 %) and 2.0 vs 1.6 (20 %): noise 15 %; the model's errors
        // 1.2 vs 1.0 (20 %) and 2.0 vs 2.0 (0 %): MAPE 10 %, bias +10 %.
        let o = [
            outcome(Kind::Gemm, 1.2, 1.0, Some(1.1)),
            outcome(Kind::Gemm, 2.0, 2.0, Some(1.6)),
        ];
        let k = &summarize(&o)[0];
        assert!((k.noise.unwrap() - 0.15).abs() < 1e-12, "{k:?}");
        assert!((k.mape - 0.10).abs() < 1e-12 && (k.bias - 0.10).abs() < 1e-12);
        // One round: no noise figure, not a zero.
        let o = [outcome(Kind::Gemm, 1.2, 1.0, None)];
        assert_eq!(summarize(&o)[0].noise, None);
    }
}
