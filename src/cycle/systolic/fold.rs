//! Folding: how a lowered GEMM is cut into array-sized tiles for a dataflow (SCALE-Sim's `Sr`,
//! `Sc`, `T` and the row and column folds). Both the cycle count ([`super::model`]) and the
//! memory model ([`super::memory`]) start from it.

use super::config::{Dataflow, SystolicConfig};
use super::topology::LoweredGemm;

/// How the lowered GEMM is cut into array-sized folds (SCALE-Sim's `Sr`, `Sc`, `T`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Folding {
    /// Spatial extent mapped on the array rows.
    pub sr: u64,
    /// Spatial extent mapped on the array columns.
    pub sc: u64,
    /// Temporal extent streamed through the array per fold.
    pub t: u64,
    /// `ceil(Sr / rows)`.
    pub row_folds: u64,
    /// `ceil(Sc / cols)`.
    pub col_folds: u64,
    /// Rows used by the last row fold (`Sr − (row_folds − 1)·rows`).
    pub last_rows: u64,
    /// Columns used by the last column fold.
    pub last_cols: u64,
}

impl Folding {
    /// Folds the lowered GEMM for the configured array and dataflow:
    /// OS `(Sr, Sc, T) = (M, N, K)`, WS `(K, N, M)`, IS `(K, M, N)`.
    /// Meaningful for a validated configuration and layer; never panics on others.
    pub fn new(cfg: &SystolicConfig, g: &LoweredGemm) -> Self {
        let (sr, sc, t) = match cfg.dataflow {
            Dataflow::OutputStationary => (g.m, g.n, g.k),
            Dataflow::WeightStationary => (g.k, g.n, g.m),
            Dataflow::InputStationary => (g.k, g.m, g.n),
        };
        let (r, c) = (cfg.rows.max(1) as u64, cfg.cols.max(1) as u64);
        let row_folds = sr.div_ceil(r);
        let col_folds = sc.div_ceil(c);
        Folding {
            sr,
            sc,
            t,
            row_folds,
            col_folds,
            last_rows: sr.saturating_sub(row_folds.saturating_sub(1) * r),
            last_cols: sc.saturating_sub(col_folds.saturating_sub(1) * c),
        }
    }

    /// Total folds `row_folds · col_folds`.
    pub fn folds(&self) -> u64 {
        self.row_folds * self.col_folds
    }
}
