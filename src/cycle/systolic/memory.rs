//! Closed-form memory model: DRAM traffic of each operand given finite double-buffered SRAMs,
//! and the stall cycles a finite DRAM bandwidth adds (a MAESTRO-style bound: exposed prologue,
//! steady state `max(compute, transfer)`, exposed epilogue). See the formulas in
//! [the module docs](super).

use super::config::{Dataflow, DramBandwidth, SystolicConfig};
use super::fold::Folding;
use super::topology::LoweredGemm;

/// Each SRAM is split into an active half (being read by the array) and a prefetch half
/// (being filled from DRAM): SCALE-Sim v3.0.0 `single_layer_sim.run`, `active_buf_frac = 0.5`.
/// The active capacity is `ceil(words / ACTIVE_BUFFER_DIVISOR)`, as SCALE-Sim's
/// `int(math.ceil(total_size_elems * active_buf_frac))`.
pub const ACTIVE_BUFFER_DIVISOR: u64 = 2;

/// DRAM words moved for one operand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DramWords {
    /// Words read from DRAM into the SRAM (fills; for the ofmap, spilled partial sums read back).
    pub reads: u64,
    /// Words written from the SRAM to DRAM (outputs and spilled partial sums).
    pub writes: u64,
}

/// DRAM traffic of a layer plus the words that cannot overlap with compute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DramTraffic {
    /// Ifmap operand.
    pub ifmap: DramWords,
    /// Filter operand.
    pub filter: DramWords,
    /// Ofmap operand.
    pub ofmap: DramWords,
    /// Words that must be in SRAM before the first fold can start (first fold's stationary
    /// and streaming tiles, each capped by its active buffer).
    pub prologue_words: u64,
    /// Words written back after the last fold ends (its output tile, capped by the active
    /// ofmap buffer).
    pub epilogue_words: u64,
}

impl DramTraffic {
    /// All DRAM words moved, reads plus writes.
    pub fn total_words(&self) -> u64 {
        [self.ifmap, self.filter, self.ofmap]
            .iter()
            .map(|d| d.reads + d.writes)
            .sum()
    }
}

/// Words of `tile` that do not fit in an active buffer of `cap` words.
fn excess(tile: u64, cap: u64) -> u64 {
    tile.saturating_sub(cap)
}

/// DRAM traffic for the fold order SCALE-Sim uses (column folds outer, row folds inner).
pub fn dram_traffic(cfg: &SystolicConfig, f: &Folding, g: &LoweredGemm) -> DramTraffic {
    let (if_words, fl_words, of_words) = cfg.sram_words();
    let a_if = if_words.div_ceil(ACTIVE_BUFFER_DIVISOR);
    let a_fl = fl_words.div_ceil(ACTIVE_BUFFER_DIVISOR);
    let a_of = of_words.div_ceil(ACTIVE_BUFFER_DIVISOR);
    let (u_if, u_fl, u_of) = (g.ifmap_words, g.filter_words(), g.ofmap_words());
    let c = cfg.cols as u64;

    // Sum over column folds of the part of a `T × cols(fc)` tile that overflows `cap`.
    let col_tiles_excess = |cap: u64| {
        f.col_folds.saturating_sub(1) * excess(f.t * c, cap) + excess(f.t * f.last_cols, cap)
    };
    // Operand indexed by the row fold only: streamed again for every column fold, keeping
    // at most its active capacity resident between passes.
    let restreamed =
        |unique: u64, cap: u64| unique + f.col_folds.saturating_sub(1) * excess(unique, cap);

    let (ifmap, filter, ofmap) = match cfg.dataflow {
        Dataflow::OutputStationary => (
            DramWords {
                reads: restreamed(u_if, a_if),
                writes: 0,
            },
            // Filter tile K × cols(fc) is reused by every row fold of the column fold.
            DramWords {
                reads: u_fl + f.row_folds.saturating_sub(1) * col_tiles_excess(a_fl),
                writes: 0,
            },
            DramWords {
                reads: 0,
                writes: u_of,
            },
        ),
        Dataflow::WeightStationary | Dataflow::InputStationary => {
            // Partial-sum tile T × cols(fc) accumulates over the row folds; what does not fit
            // is written out and read back once per extra row fold.
            let spill = f.row_folds.saturating_sub(1) * col_tiles_excess(a_of);
            let ofmap = DramWords {
                reads: spill,
                writes: u_of + spill,
            };
            if cfg.dataflow == Dataflow::WeightStationary {
                (
                    DramWords {
                        reads: restreamed(u_if, a_if),
                        writes: 0,
                    },
                    DramWords {
                        reads: u_fl,
                        writes: 0,
                    },
                    ofmap,
                )
            } else {
                (
                    DramWords {
                        reads: u_if,
                        writes: 0,
                    },
                    DramWords {
                        reads: restreamed(u_fl, a_fl),
                        writes: 0,
                    },
                    ofmap,
                )
            }
        }
    };

    let r0 = f.sr.min(cfg.rows as u64);
    let c0 = f.sc.min(c);
    let (first_if, first_fl) = match cfg.dataflow {
        Dataflow::OutputStationary => ((r0 * f.t).min(u_if), f.t * c0),
        Dataflow::WeightStationary => ((f.t * r0).min(u_if), r0 * c0),
        Dataflow::InputStationary => ((r0 * c0).min(u_if), f.t * r0),
    };
    let prologue_words = first_if.min(a_if) + first_fl.min(a_fl);
    let last_out = match cfg.dataflow {
        Dataflow::OutputStationary => f.last_rows * f.last_cols,
        _ => f.t * f.last_cols,
    };
    let epilogue_words = last_out.min(a_of);

    DramTraffic {
        ifmap,
        filter,
        ofmap,
        prologue_words,
        epilogue_words,
    }
}

/// Cycles to move `words` at `bw` words/cycle, rounded up.
fn transfer_cycles(words: u64, bw: f64) -> u64 {
    (words as f64 / bw).ceil() as u64
}

/// Stall cycles added to `compute_cycles` by the DRAM bandwidth limit:
/// `ceil(P/BW) + ceil(E/BW) + max(0, ceil((D − P − E)/BW) − compute)`.
pub fn stall_cycles(cfg: &SystolicConfig, compute_cycles: u64, t: &DramTraffic) -> u64 {
    match cfg.dram_bandwidth {
        DramBandwidth::Unlimited => 0,
        DramBandwidth::WordsPerCycle(bw) => {
            let body = t
                .total_words()
                .saturating_sub(t.prologue_words + t.epilogue_words);
            transfer_cycles(t.prologue_words, bw)
                + transfer_cycles(t.epilogue_words, bw)
                + transfer_cycles(body, bw).saturating_sub(compute_cycles)
        }
    }
}
