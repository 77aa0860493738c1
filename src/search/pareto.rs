//! Pareto dominance and the non-dominated front, for any number of objectives.
//!
//! Vectors are compared as "smaller is better" on every coordinate; callers negate objectives to
//! maximise. `a` dominates `b` when `a` is no worse everywhere and strictly better somewhere, so
//! equal vectors (ties) never dominate each other and all of them stay on the front.

use serde::{Deserialize, Serialize};

/// Whether an objective is minimised or maximised.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Smaller is better (latency, energy, memory).
    Minimize,
    /// Larger is better (throughput).
    Maximize,
}

impl Direction {
    /// The value to minimise: `v` or `-v`.
    pub fn key(self, v: f64) -> f64 {
        match self {
            Direction::Minimize => v,
            Direction::Maximize => -v,
        }
    }
    /// An arrow for tables: ↓ or ↑.
    pub fn arrow(self) -> &'static str {
        match self {
            Direction::Minimize => "↓",
            Direction::Maximize => "↑",
        }
    }
}

/// True when `a` dominates `b` (both minimised): `a ≤ b` everywhere and `a < b` somewhere.
pub fn dominates(a: &[f64], b: &[f64]) -> bool {
    let mut strict = false;
    for (x, y) in a.iter().zip(b) {
        if x > y {
            return false;
        }
        if x < y {
            strict = true;
        }
    }
    strict
}

/// The non-dominated rows of `values`, a row-major table of `m` objectives per row (minimised).
/// Rows with a non-finite value are never on the front.
///
/// Rows are visited in lexicographic order: a dominator is lexicographically smaller than what it
/// dominates, and every dominated row is dominated by some front row (dominance is transitive and
/// the set is finite), so checking each row against the front found so far is exact. Cost
/// O(n log n + n·f·m) for a front of f rows.
pub fn pareto_front(values: &[f64], m: usize) -> Vec<bool> {
    assert!(m > 0, "at least one objective");
    let n = values.len() / m;
    let row = |i: usize| &values[i * m..(i + 1) * m];
    let mut order: Vec<usize> = (0..n)
        .filter(|&i| row(i).iter().all(|v| v.is_finite()))
        .collect();
    order.sort_by(|&a, &b| {
        row(a)
            .iter()
            .zip(row(b))
            .map(|(x, y)| x.total_cmp(y))
            .find(|o| o.is_ne())
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(a.cmp(&b))
    });
    let mut front: Vec<usize> = Vec::new();
    let mut on = vec![false; n];
    for i in order {
        if !front.iter().any(|&f| dominates(row(f), row(i))) {
            front.push(i);
            on[i] = true;
        }
    }
    on
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dominance_by_hand() {
        assert!(dominates(&[1.0, 2.0], &[1.0, 3.0]));
        assert!(!dominates(&[1.0, 2.0], &[1.0, 2.0]), "ties do not dominate");
        assert!(!dominates(&[1.0, 4.0], &[2.0, 3.0]), "a trade-off");
    }

    #[test]
    fn front_by_hand_with_ties_and_nan() {
        // (1,5) (2,2) (2,2) (3,1) are the front; (3,3) is dominated by (2,2); (4,6) by all;
        // (NaN,0) is left out.
        let v = [
            3.0,
            3.0,
            1.0,
            5.0,
            2.0,
            2.0,
            4.0,
            6.0,
            2.0,
            2.0,
            3.0,
            1.0,
            f64::NAN,
            0.0,
        ];
        assert_eq!(
            pareto_front(&v, 2),
            vec![false, true, true, false, true, true, false]
        );
    }

    #[test]
    fn maximising_negates() {
        assert_eq!(Direction::Maximize.key(3.0), -3.0);
        assert_eq!(Direction::Minimize.key(3.0), 3.0);
    }
}
