//! Statistics of measurements and of prediction errors: the median and spread of repeated
//! timings ([`Summary`]), and the error figures `validate` reports — absolute percentage error,
//! its mean (MAPE), and Spearman's rank correlation with average ranks for ties.

use serde::Serialize;

/// Median, extremes and count of repeated samples (e.g. seconds per run).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Summary {
    /// Median sample.
    pub median: f64,
    /// Smallest sample.
    pub min: f64,
    /// Largest sample.
    pub max: f64,
    /// Number of samples.
    pub n: usize,
}

impl Summary {
    /// Summary of `samples`; `None` when empty or when a sample is not finite.
    pub fn of(samples: &[f64]) -> Option<Summary> {
        if samples.is_empty() || samples.iter().any(|x| !x.is_finite()) {
            return None;
        }
        let mut s = samples.to_vec();
        s.sort_by(f64::total_cmp);
        Some(Summary {
            median: median_sorted(&s),
            min: s[0],
            max: s[s.len() - 1],
            n: s.len(),
        })
    }

    /// Relative spread (max − min) / median, the figure printed next to each measurement.
    pub fn spread(&self) -> f64 {
        if self.median > 0.0 {
            (self.max - self.min) / self.median
        } else {
            0.0
        }
    }
}

fn median_sorted(s: &[f64]) -> f64 {
    let n = s.len();
    if n % 2 == 1 {
        s[n / 2]
    } else {
        0.5 * (s[n / 2 - 1] + s[n / 2])
    }
}

/// Median of `xs` (mean of the two middle values for an even count); `None` when empty.
pub fn median(xs: &[f64]) -> Option<f64> {
    Summary::of(xs).map(|s| s.median)
}

/// Absolute percentage error of a prediction, as a fraction: |pred − meas| / meas.
pub fn ape(predicted: f64, measured: f64) -> f64 {
    (predicted - measured).abs() / measured
}

/// Mean absolute percentage error over (predicted, measured) pairs, as a fraction;
/// `None` when there are no pairs.
pub fn mape(pairs: &[(f64, f64)]) -> Option<f64> {
    if pairs.is_empty() {
        return None;
    }
    Some(pairs.iter().map(|&(p, m)| ape(p, m)).sum::<f64>() / pairs.len() as f64)
}

/// 1-based ranks of `xs`, tied values sharing the average of their ranks.
pub fn ranks(xs: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..xs.len()).collect();
    idx.sort_by(|&a, &b| xs[a].total_cmp(&xs[b]));
    let mut r = vec![0.0; xs.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && xs[idx[j + 1]] == xs[idx[i]] {
            j += 1;
        }
        // positions i..=j (0-based) share ranks i+1..=j+1
        let avg = (i + j) as f64 / 2.0 + 1.0;
        for &k in &idx[i..=j] {
            r[k] = avg;
        }
        i = j + 1;
    }
    r
}

fn pearson(x: &[f64], y: &[f64]) -> Option<f64> {
    let n = x.len() as f64;
    let mx = x.iter().sum::<f64>() / n;
    let my = y.iter().sum::<f64>() / n;
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx) * (a - mx);
        syy += (b - my) * (b - my);
    }
    if sxx == 0.0 || syy == 0.0 {
        return None;
    }
    Some(sxy / (sxx * syy).sqrt())
}

/// Spearman's rank correlation: the Pearson correlation of the (tie-averaged) ranks.
/// `None` with fewer than two pairs, different lengths, or a constant series.
pub fn spearman(x: &[f64], y: &[f64]) -> Option<f64> {
    if x.len() != y.len() || x.len() < 2 {
        return None;
    }
    pearson(&ranks(x), &ranks(y))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_by_hand() {
        let s = Summary::of(&[3.0, 1.0, 2.0, 10.0]).unwrap();
        assert_eq!((s.median, s.min, s.max, s.n), (2.5, 1.0, 10.0, 4));
        assert_eq!(s.spread(), 9.0 / 2.5);
        assert_eq!(median(&[5.0, 1.0, 3.0]), Some(3.0));
        assert_eq!(Summary::of(&[]), None);
        assert_eq!(Summary::of(&[1.0, f64::NAN]), None);
    }

    #[test]
    fn mape_by_hand() {
        // |110-100|/100 = 0.10, |45-50|/50 = 0.10, |2-1|/1 = 1.0 → mean 0.4
        let m = mape(&[(110.0, 100.0), (45.0, 50.0), (2.0, 1.0)]).unwrap();
        assert!((m - 0.4).abs() < 1e-12);
        assert_eq!(mape(&[]), None);
    }

    #[test]
    fn ranks_average_ties() {
        assert_eq!(ranks(&[10.0, 20.0, 20.0, 5.0]), vec![2.0, 3.5, 3.5, 1.0]);
    }

    #[test]
    fn spearman_by_hand() {
        // monotone → 1, reversed → -1
        assert_eq!(
            spearman(&[1.0, 2.0, 3.0], &[10.0, 100.0, 1000.0]),
            Some(1.0)
        );
        assert_eq!(spearman(&[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0]), Some(-1.0));
        // x ranks 1..5, y ranks 2,1,4,3,5: d² = 1+1+1+1+0 = 4; ρ = 1 − 6·4/(5·24) = 0.8
        let r = spearman(&[1.0, 2.0, 3.0, 4.0, 5.0], &[2.0, 1.0, 4.0, 3.0, 5.0]).unwrap();
        assert!((r - 0.8).abs() < 1e-12, "{r}");
        assert_eq!(spearman(&[1.0], &[1.0]), None);
        assert_eq!(spearman(&[1.0, 2.0], &[3.0, 3.0]), None);
    }
}
