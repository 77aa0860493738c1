//! Analytical cycle model of a systolic array (TPU-style grid of `R × C` multiply-accumulate
//! PEs) running convolution and GEMM layers in one of three stationary dataflows, with a
//! closed-form model of its SRAMs and DRAM interface.
//!
//! It reads SCALE-Sim's own inputs (`.cfg` files, conv and GEMM topology CSVs) and, in
//! [`Timing::ScaleSim`], reproduces SCALE-Sim v3.0.0's compute cycles, utilisation, mapping
//! efficiency and SRAM access counts exactly (checked against the real simulator by
//! `tests/it/systolic_scalesim.rs` on the fixtures in `tests/data/scalesim/`). Evaluating a layer
//! is O(1): no trace is built.
//!
//! # Usage
//! ```
//! use archscope::cycle::systolic::{Dataflow, Layer, Timing, SystolicConfig, simulate_layer};
//! let cfg = SystolicConfig::new(32, 32, Dataflow::OutputStationary);
//! let layer = Layer::gemm("gemm", 64, 256, 128)?;
//! let r = simulate_layer(&cfg, &layer, Timing::ScaleSim)?;
//! assert_eq!(r.compute_cycles, 3039); // SCALE-Sim v3.0.0 reports 3039 for this layer
//! # Ok::<(), archscope::cycle::systolic::SystolicError>(())
//! ```
//!
//! # Lowering and folding
//! A conv layer (ifmap `H × W × Cin`, `N` filters of `Fh × Fw`, stride `S`, no padding) is
//! lowered by im2col to a GEMM with `M = Eh·Ew` ofmap pixels, `K = Fh·Fw·Cin` window size and
//! `N` filters, where `Eh = ceil((H − Fh + S)/S)` (SCALE-Sim's convention). A GEMM layer
//! `(M, N, K)` is used as is. The dataflow decides which dimensions map to the array rows
//! (`Sr`), the array columns (`Sc`) and time (`T`):
//!
//! | dataflow | `Sr` | `Sc` | `T` | stationary in the PEs |
//! |---|---|---|---|---|
//! | OS | M | N | K | outputs |
//! | WS | K | N | M | filter tile |
//! | IS | K | M | N | ifmap tile |
//!
//! The operand is cut into `Fr = ceil(Sr/R)` row folds and `Fc = ceil(Sc/C)` column folds,
//! `F = Fr·Fc` in all, visited column fold outer, row fold inner (SCALE-Sim's order).
//!
//! # Compute cycles
//! Let `L = R` for WS/IS (the stationary tile enters one row per cycle) and `L = 0` for OS.
//! A fold streams `T` operand vectors; the skew of the array adds `R − 1` cycles to fill the
//! rows and `C − 1` to drain the columns.
//!
//! * [`Timing::ScaleSim`] (every fold is serial: load, stream, fill and drain):
//!   `cycles = F · (L + T + R + C − 2) − 1`.
//!   The `− 1` is SCALE-Sim's: it reports the index of the last cycle. (The ISPASS'20 paper
//!   gives `2R + C + T − 2` per fold; the code uses that for WS/IS and `T + R + C − 2` for OS.)
//! * [`Timing::Pipelined`] (weight loads double-buffered, fill/drain overlapped across folds):
//!   `cycles = L + (F − 1) · max(T, R) + T + R + C − 2`.
//!   Fold `i + 1` starts streaming `max(T, R)` cycles after fold `i`: its stationary tile
//!   (WS/IS) was shifted into the shadow registers while fold `i` streamed, which takes `R`
//!   cycles, and for OS the `R` rows of finished outputs of fold `i` shift out of a shadow
//!   accumulator while fold `i + 1` computes. Only the first load `L` and one fill + drain
//!   (`R + C − 2` after the last operand enters) are exposed. With `F = 1` this is
//!   SCALE-Sim's per-fold time (without its `− 1`). This mode counts cycles, not the last
//!   index.
//!
//! # Utilisation
//! * mapping efficiency = mean over folds of mapped PEs / `R·C` = `Sr·Sc / (R·C·F)`;
//! * utilization = `MACs / (R·C·total_cycles)` (SCALE-Sim's "Overall Util %");
//! * compute utilization (`scalesim`) = SCALE-Sim's mean over folds of
//!   `mapped·T / (R·C·cycles_fold)` with `cycles_fold = T + R + C − 2` (OS) and
//!   `T + 2R + 2C − 3` (WS/IS: SCALE-Sim measures the filter/ifmap demand matrix, one
//!   `C − 1` longer than the fold) = `Sr·Sc·T / (R·C·F·cycles_fold)`;
//!   (`pipelined`) = `MACs / (R·C·compute_cycles)`.
//!
//! # SRAM accesses (words, array side)
//! | dataflow | ifmap reads | filter reads | ofmap writes | ofmap reads (psums) |
//! |---|---|---|---|---|
//! | OS | `T·Sr·Fc` | `T·Sc·Fr` | `Sr·Sc` (+ `F·(R+C)` in `scalesim`) | 0 |
//! | WS | `T·Sr·Fc` | `Sr·Sc` | `T·Sc·Fr` | `T·Sc·(Fr−1)` in `pipelined`, 0 in `scalesim` |
//! | IS | `Sr·Sc` | `T·Sr·Fc` | `T·Sc·Fr` | as WS |
//!
//! The OS `F·(R+C)` term reproduces a double count in SCALE-Sim's `systolic_compute_os.py`;
//! SCALE-Sim does not count partial-sum reads. `pipelined` mode reports physical counts.
//!
//! # DRAM traffic (closed form, both modes)
//! Each SRAM of `S` words (`KiB·1024 / word_bytes`) is double-buffered: an active half of
//! `a = ceil(S/2)` words feeds the array while the other half prefetches (SCALE-Sim's
//! `active_buf_frac = 0.5`). With `U_if` the distinct ifmap words touched by some window,
//! `U_fl = K·N`, `U_of = M·N`, `x⁺ = max(x, 0)`, and `Σ_fc` a sum over column folds of a tile
//! `T × cols(fc)`:
//!
//! * an operand indexed by the row fold only (OS/WS ifmap, IS filter) is streamed again for
//!   every column fold, keeping `a` words resident: `U + (Fc − 1)·(U − a)⁺`;
//! * the OS filter tile `K × cols(fc)` is reused by the `Fr` row folds of its column fold:
//!   `U_fl + (Fr − 1)·Σ_fc (K·cols(fc) − a_fl)⁺`;
//! * operands used by exactly one fold (WS filter, IS ifmap) are read once: `U`;
//! * WS/IS partial-sum tiles `T × cols(fc)` accumulate over the `Fr` row folds; the overflow
//!   `spill = (Fr − 1)·Σ_fc (T·cols(fc) − a_of)⁺` is written out and read back:
//!   ofmap DRAM writes `U_of + spill`, reads `spill`; OS writes `U_of`.
//!
//! SCALE-Sim's own DRAM counts come from a trace through set-based prefetch buffers and are
//! not reproduced: they can exceed the SRAM demand, and for WS/IS every partial sum written to
//! the ofmap SRAM is also written to DRAM (no accumulation in SRAM). On the 783 cross-check
//! layers the ifmap and filter DRAM reads here have a median ratio of 1.00 to SCALE-Sim's.
//!
//! # Memory stalls (closed form, MAESTRO-style)
//! With DRAM bandwidth `BW` words/cycle shared by all operands ([`DramBandwidth`]), `D` all
//! DRAM words, `P` the prologue (the first fold's input tiles, each capped at its active
//! buffer: they must arrive before compute starts) and `E` the epilogue (the last fold's
//! output tile, capped at the active ofmap buffer: written after compute ends):
//!
//! `stall = ceil(P/BW) + ceil(E/BW) + (ceil((D − P − E)/BW) − compute_cycles)⁺`
//!
//! i.e. double buffering overlaps the steady-state transfers with compute, which is
//! Timeloop's `cycles = compute / min(1, BW / demand)` for the overlapped part, and the
//! prologue/epilogue are exposed. `total_cycles = compute_cycles + stall`. With
//! [`DramBandwidth::Unlimited`] (SCALE-Sim's `CALC` mode) the stall is 0, as in SCALE-Sim.
//! SRAM port bandwidth is assumed sufficient (as in SCALE-Sim).

mod config;
pub mod cost;
mod error;
pub mod fold;
pub mod memory;
pub mod model;
pub mod output;
mod topology;

pub use config::{
    Dataflow, DramBandwidth, MAX_ARRAY_DIM, MAX_WORD_BYTES, SCALESIM_DEFAULT_SRAM_KB,
    SCALESIM_WORD_BYTES, SystolicConfig,
};
pub use cost::{GemmWork, NAME, SystolicUnit, lower};
pub use error::SystolicError;
pub use fold::Folding;
pub use model::{
    LayerReport, OperandTraffic, Timing, compute_cycles, simulate_layer, simulate_network,
};
pub use topology::{
    ConvShape, GemmShape, Layer, LayerShape, LoweredGemm, MAX_DP_CHANNELS, MAX_LAYER_MACS,
    MAX_TOPOLOGY_LAYERS, TopologyFormat, parse_conv_topology, parse_gemm_topology, parse_topology,
    read_conv_topology, read_gemm_topology, read_topology,
};
