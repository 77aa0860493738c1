//! Calibration of one (device, runtime) pair to measured rows.
//!
//! The free parameters are the three [`Scales`] of the pair: a factor on every compute
//! efficiency, one on every bandwidth efficiency and one on every dispatch cost. Their logs
//! `θ = (ln s_c, ln s_b, ln s_d)` minimise, by Levenberg–Marquardt (nalgebra),
//!
//! `Σ_rows ρ(ln t_pred(θ) − ln t_meas) + Σ_j (θ_j / σ)²`
//!
//! where `ρ` is the Huber loss with threshold [`HUBER`] (a row off by more counts linearly, so
//! one broken measurement cannot drag the fit), solved by iteratively reweighted least squares,
//! and the second sum is the prior: the shipped files' figures (`θ = 0`) with a log-normal
//! spread [`PRIOR_SIGMA`]. A parameter whose rows barely move the prediction (a pair with no
//! compute-bound row says nothing about compute) keeps its prior and is reported as
//! unconstrained.
//!
//! [`cross_validate`] gives the out-of-sample error: k-fold (leave-one-out below `k` rows), each
//! fold fitted on the others and priced with that fit.

use super::dataset::{Metric, Prepared};
use crate::runtime::Scales;
use nalgebra::{DMatrix, DVector, Matrix3, Vector3};

/// Huber threshold on a row's log residual: ln 1.3, a 30 % miss.
pub const HUBER: f64 = 0.262_364_264_467_491;
/// Prior spread of each log scale: ln 10, a factor of ten at one sigma. The shipped figures
/// are estimates (dispatch costs are known to an order of magnitude), so a handful of rows
/// must be able to move them; the prior only keeps a parameter that the rows barely touch
/// from running away.
pub const PRIOR_SIGMA: f64 = std::f64::consts::LN_10;
/// Step of the numerical derivative, in log scale.
const STEP: f64 = 1e-3;
/// Relative sensitivity below which a parameter counts as unconstrained: the rows' residuals
/// move by less than this per unit of log scale, summed in quadrature.
const MIN_SENSITIVITY: f64 = 0.05;
/// Most Levenberg–Marquardt iterations.
const MAX_ITER: usize = 40;

/// The names of the three parameters, in order.
pub const PARAMS: [&str; 3] = ["compute", "bandwidth", "dispatch"];

/// A fit of one pair.
#[derive(Clone, Debug, PartialEq)]
pub struct Fit {
    /// The fitted corrections.
    pub scales: Scales,
    /// Which of [`PARAMS`] the rows constrain.
    pub constrained: [bool; 3],
    /// Each row's log residual `ln(t_pred / t_meas)` under the fit, by row id.
    pub residuals: Vec<(String, f64)>,
    /// Iterations taken.
    pub iterations: usize,
}

fn scales_of(theta: &Vector3<f64>) -> Scales {
    Scales {
        compute: theta[0].exp(),
        bandwidth: theta[1].exp(),
        dispatch: theta[2].exp(),
    }
}

/// Log residuals of `rows` under `theta`; a row that cannot be priced is an error.
fn residuals(rows: &[Prepared], theta: &Vector3<f64>) -> Result<DVector<f64>, String> {
    let s = scales_of(theta);
    let mut r = DVector::zeros(rows.len());
    for (i, p) in rows.iter().enumerate() {
        let pred = p.price(s)?;
        r[i] = (pred.predicted_s / pred.measured_s).ln();
    }
    Ok(r)
}

fn huber_weight(r: f64) -> f64 {
    if r.abs() <= HUBER {
        1.0
    } else {
        HUBER / r.abs()
    }
}

/// Fits `rows` (all of one device and runtime).
pub fn fit(rows: &[Prepared]) -> Result<Fit, String> {
    if rows.is_empty() {
        return Err("no rows to fit".into());
    }
    let mut theta = Vector3::zeros();
    let mut lambda = 1e-2;
    let mut r = residuals(rows, &theta)?;
    let cost = |r: &DVector<f64>, theta: &Vector3<f64>| -> f64 {
        let data: f64 = r
            .iter()
            .map(|&x| {
                if x.abs() <= HUBER {
                    x * x
                } else {
                    2.0 * HUBER * x.abs() - HUBER * HUBER
                }
            })
            .sum();
        data + (theta / PRIOR_SIGMA).norm_squared()
    };
    let mut iterations = 0;
    let mut jac = DMatrix::zeros(rows.len(), 3);
    for it in 0..MAX_ITER {
        iterations = it + 1;
        for j in 0..3 {
            let mut t = theta;
            t[j] += STEP;
            let rj = residuals(rows, &t)?;
            jac.set_column(j, &((rj - &r) / STEP));
        }
        let w = DVector::from_iterator(rows.len(), r.iter().map(|&x| huber_weight(x)));
        let jw = DMatrix::from_fn(rows.len(), 3, |i, j| jac[(i, j)] * w[i]);
        let prior = Matrix3::identity() / (PRIOR_SIGMA * PRIOR_SIGMA);
        let jtj: Matrix3<f64> = (jw.transpose() * &jac)
            .fixed_view::<3, 3>(0, 0)
            .into_owned();
        let g: Vector3<f64> =
            (jw.transpose() * &r).fixed_view::<3, 1>(0, 0).into_owned() + prior * theta;
        let h = jtj + prior;
        let mut improved = false;
        for _ in 0..10 {
            let damped = h + Matrix3::from_diagonal(&h.diagonal()) * lambda;
            let Some(step) = damped.lu().solve(&(-g)) else {
                lambda *= 10.0;
                continue;
            };
            let cand = theta + step;
            let rc = residuals(rows, &cand)?;
            if cost(&rc, &cand) < cost(&r, &theta) {
                theta = cand;
                r = rc;
                lambda = (lambda / 3.0).max(1e-9);
                improved = true;
                if step.norm() < 1e-6 {
                    return Ok(finish(rows, theta, r, &jac, iterations));
                }
                break;
            }
            lambda *= 10.0;
        }
        if !improved {
            break;
        }
    }
    Ok(finish(rows, theta, r, &jac, iterations))
}

fn finish(
    rows: &[Prepared],
    theta: Vector3<f64>,
    r: DVector<f64>,
    jac: &DMatrix<f64>,
    iterations: usize,
) -> Fit {
    let constrained = std::array::from_fn(|j| jac.column(j).norm() >= MIN_SENSITIVITY);
    // A parameter the rows do not constrain keeps its prior exactly.
    let mut theta = theta;
    for j in 0..3 {
        if !constrained[j] {
            theta[j] = 0.0;
        }
    }
    Fit {
        scales: scales_of(&theta),
        constrained,
        residuals: rows
            .iter()
            .zip(r.iter())
            .map(|(p, &x)| (p.row.id.clone(), x))
            .collect(),
        iterations,
    }
}

/// One row's out-of-sample residual.
#[derive(Clone, Debug, PartialEq)]
pub struct Held {
    /// Row id.
    pub id: String,
    /// Its metric.
    pub metric: Metric,
    /// `predicted / measured − 1` under the fit of the other folds.
    pub error: f64,
}

/// Out-of-sample errors of `rows` by `k`-fold cross-validation (leave-one-out when there are
/// fewer than `k` rows; a single row has none). Folds are taken in row order, every `k`-th row.
pub fn cross_validate(rows: &[Prepared], k: usize) -> Result<Vec<Held>, String> {
    let n = rows.len();
    if n < 2 {
        return Ok(Vec::new());
    }
    let k = k.min(n).max(2);
    let mut out = Vec::new();
    for fold in 0..k {
        let train: Vec<Prepared> = rows
            .iter()
            .enumerate()
            .filter(|(i, _)| i % k != fold)
            .map(|(_, p)| p.clone())
            .collect();
        let f = fit(&train)?;
        for (_, p) in rows.iter().enumerate().filter(|(i, _)| i % k == fold) {
            let pred = p.price(f.scales)?;
            out.push(Held {
                id: p.row.id.clone(),
                metric: p.metric,
                error: pred.predicted_s / pred.measured_s - 1.0,
            });
        }
    }
    Ok(out)
}

/// Folds of the cross-validation [`calibrate_pair`] reports.
pub const FOLDS: usize = 5;

/// Fits the (device `hw`, runtime `runtime`) pair to its `train` rows of `rows` (read from
/// `source`) and returns the overlay: the corrections, the rows, the residuals, today's date
/// and the [`FOLDS`]-fold cross-validated error.
pub fn calibrate_pair(
    rows: &[super::dataset::Row],
    hw: &str,
    runtime: &str,
    source: &str,
) -> Result<super::overlay::Overlay, super::TrustError> {
    use super::overlay::{CrossValidation, FittedScales, Identity, Overlay};
    let mut cache = super::dataset::Cache::default();
    let mut prepared = Vec::new();
    let mut reasons = Vec::new();
    for r in rows
        .iter()
        .filter(|r| r.hw == hw && r.runtime == runtime && r.split == super::dataset::Split::Train)
    {
        match super::dataset::prepare(r, &mut cache) {
            Ok(p) => prepared.push(p),
            Err(why) => reasons.push(format!("line {} ({}): {why}", r.line, r.id)),
        }
    }
    if prepared.is_empty() {
        return Err(super::TrustError::Empty(format!(
            "{source}: no train row of device `{hw}` with runtime `{runtime}` can be priced{}",
            if reasons.is_empty() {
                String::new()
            } else {
                format!(":\n  {}", reasons.join("\n  "))
            }
        )));
    }
    let f = fit(&prepared).map_err(super::TrustError::Empty)?;
    let held = cross_validate(&prepared, FOLDS).map_err(super::TrustError::Empty)?;
    let cv = (!held.is_empty()).then(|| {
        let mut e: Vec<f64> = held.iter().map(|h| h.error).collect();
        let stats = super::dataset::ErrorStats::of(&e);
        CrossValidation {
            folds: FOLDS.min(held.len()),
            n: held.len(),
            median_abs: stats.median_abs,
            p10: super::bands::quantile(&mut e, 0.1),
            p90: super::bands::quantile(&mut e, 0.9),
        }
    });
    Ok(Overlay {
        calibration: Identity {
            device: hw.to_string(),
            runtime: runtime.to_string(),
            date: crate::util::date::today(),
            source: source.to_string(),
            rows: prepared.iter().map(|p| p.row.id.clone()).collect(),
        },
        scales: FittedScales {
            compute: f.scales.compute,
            bandwidth: f.scales.bandwidth,
            dispatch: f.scales.dispatch,
            unconstrained: PARAMS
                .iter()
                .zip(f.constrained)
                .filter(|(_, c)| !c)
                .map(|(p, _)| p.to_string())
                .collect(),
        },
        residuals: f.residuals.into_iter().collect(),
        cv,
    })
}
