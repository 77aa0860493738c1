//! The DRAM processing-in-memory model (`params.model = "pim"`): matrix-vector products run
//! inside the DRAM, every bank-level unit streaming its own slice of the matrix through its MAC
//! lanes; everything else runs on a host unit of the same device, priced by that unit's own
//! cost model.
//!
//! **What PIM runs.** A GEMV-shaped op: a matrix product ([`super::gemm_view`]) whose matrix is
//! persistent data resident in the PIM memory (weights, KV cache) stored plainly in a dtype the
//! units compute (`macs_per_cycle` has it): linear layers, the LM head, MoE router and experts,
//! and the attention products Q·Kᵀ and P·V of decode (V is assumed stored transposed per head,
//! as AttAcc does, so each output streams one DRAM row). Per-channel scales are applied to the
//! results by the host. Convolutions, weights quantized in groups within a row,
//! activation×activation products and all vector work go to the `host` unit. With
//! `offload = "auto"` (default) an op PIM can run goes to whichever of PIM and host is faster, so
//! large-batch GEMMs return to the host; `offload = "gemv"` always uses PIM when it can (the
//! static split of AttAcc and NeuPIMs).
//!
//! **NPU + PIM devices** (NeuPIMs, AttAcc) are one PIM unit whose host is the NPU, rather than two
//! units: `score` prices a graph on one unit, so the PIM unit's model acts as the device's
//! scheduler, sending each op to the engine that runs it faster. Decode attention (one KV cache
//! per request: GEMVs) lands on PIM and batched linear layers (GEMMs) on the NPU without a
//! hard-wired rule; the NPU stays a unit of its own for the NPU-only baseline. NPU and PIM work
//! is not overlapped (NeuPIMs' sub-batch interleaving is not modelled).
//!
//! **Partitioning.** `U = channels · units_per_channel` units. The `R` output rows (over all
//! matrices) of length `K` are spread over the units; when `R < U` each row is also split along
//! K into `k_split = min(⌊U/R⌋, ⌈K·e/column_bytes⌉)` slices (dma: `min(⌊U/R⌋, K)`) whose
//! partial sums the host adds.
//! A unit holds `S_u = ⌈R·k_split/U⌉ · ⌈K/k_split⌉ · e` bytes (`e` bytes per element), laid out
//! row-contiguously. The `v` vectors of each matrix (the batch of tokens, or the query heads of
//! a GQA group) go `max_vectors` per pass; each pass streams the whole matrix once.
//!
//! **DRAM interface** (`interface = "dram"`: HBM-PIM, AiM, Newton-style): all units of a channel
//! work in lockstep on all-bank commands. Per pass and unit:
//! * a column access of `column_bytes` feeds `v_p·⌈(column_bytes/e)/macs_per_cycle⌉` MAC cycles,
//!   so one column takes `t_col = max(t_ccd, v_p·⌈..⌉/f)` (compute-bound when larger than t_ccd);
//! * a row of `row_bytes` has `n_col = row_bytes/column_bytes` columns and takes
//!   `t_row = max(t_ras, t_rcd + n_col·t_col) + t_rp` (or `n_col·t_col` with `row_overlap`,
//!   when the next row is activated in the other bank of a pair during the MACs);
//! * activating a row in every unit of a channel needs `⌈units_per_channel/banks_per_act⌉` ACT
//!   commands, at most `acts_per_faw` per `t_faw`: `t_act = ⌈..⌉·t_faw/acts_per_faw`;
//! * streaming: `Σ_rows max(t_row, t_act)` over the `⌈S_u/row_bytes⌉` rows (the last one partial);
//! * refresh steals `t_rfc` of every `t_refi`: divide by `1 − t_rfc/t_refi`.
//!
//! **DMA interface** (`interface = "dma"`: UPMEM): each unit is a processor that DMAs its bank
//! into a scratchpad in transfers of `dma_bytes`, each costing `α + β·bytes` cycles (PrIM's
//! model), overlapped with its compute: `max(Σ(α + β·b)/f, MACs/(macs_per_cycle·f))`.
//!
//! **Host side**, per pass: the vectors are written to every channel's buffer (dram: copies per
//! channel; dma: per unit), `⌈bytes/buffer_bytes⌉` chunks each paying `mode_switch_ns`; results
//! (`partials_per_output · k_split` partial sums of `result_bytes` per output and vector) are read
//! back at `readout_bytes_per_s`, and the host adds the partial sums at its vector rate.
//! `T = Σ_passes (t_bank + t_in + t_out + t_reduce) + chunks·t_switch (+ kernel overhead)`.
//!
//! Why a naive "banks × column bandwidth" roofline is too optimistic: it counts only
//! `n_col·t_ccd` per row, while the row cycle adds `t_rcd + t_rp` (or `t_ras`) and refresh
//! takes its share; see the HBM-PIM test, where 4× becomes about 2.9×.
//!
//! Energy: MACs at the unit's `pJ/op`; matrix bytes read inside the banks at
//! `internal_pj_per_byte`; vector and result bytes over the interface at the memory level's
//! `pJ/B`; host additions at the host's `pJ/op`; static power over the time.

use super::gemm_view;
use crate::cost::{
    Build, CostModel, Infeasible, Ledger, Mode, ParamError, Params, SelectError, TensorHomes,
    declared_model, widened,
};
use crate::hardware::Hardware;
use crate::workload::{DType, DTypeTable, Graph, OpId, OpKind, Role};

/// The name the registry knows this model by (`params.model = "pim"`).
pub const NAME: &str = "pim";

/// Parameters `params.model = "pim"` accepts.
pub const KEYS: &[&str] = &[
    "host",
    "offload",
    "interface",
    "channels",
    "units_per_channel",
    "macs_per_cycle",
    "column_bytes",
    "row_bytes",
    "t_ccd_ns",
    "t_rcd_ns",
    "t_ras_ns",
    "t_rp_ns",
    "t_faw_ns",
    "acts_per_faw",
    "banks_per_act",
    "t_rfc_ns",
    "t_refi_ns",
    "row_overlap",
    "dma_alpha_cycles",
    "dma_beta_cycles_per_byte",
    "dma_bytes",
    "buffer_bytes",
    "max_vectors",
    "broadcast_bytes_per_s",
    "readout_bytes_per_s",
    "result_bytes",
    "partials_per_output",
    "mode_switch_ns",
    "internal_pj_per_byte",
];

/// ACT commands allowed in one tFAW window: four, by the JEDEC definition of the four-activate
/// window (DDR4/HBM2/GDDR6).
pub const JEDEC_ACTS_PER_FAW: f64 = 4.0;

/// Relative tolerance of the lanes-versus-peak check.
pub const PEAK_TOLERANCE: f64 = 0.01;

const NS: f64 = 1e-9;

/// Relative margin under which MAC time and column spacing count as equal (so a design matched
/// to tCCD, with the clock period rounded in the file, is not labelled compute-bound).
const TIE: f64 = 1e-3;

/// DRAM row and column timing of the lockstep (all-bank) interface, in seconds and bytes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DramTiming {
    /// Bytes per column access per unit.
    pub column_bytes: f64,
    /// Bytes per row (page) per unit.
    pub row_bytes: f64,
    /// Column-to-column spacing of PIM commands.
    pub t_ccd: f64,
    /// ACT to column command.
    pub t_rcd: f64,
    /// ACT to PRE.
    pub t_ras: f64,
    /// PRE to ACT.
    pub t_rp: f64,
    /// Four-activate window.
    pub t_faw: f64,
    /// ACT commands allowed per `t_faw`.
    pub acts_per_faw: f64,
    /// Units one ACT command opens a row in.
    pub banks_per_act: f64,
    /// Refresh cycle time.
    pub t_rfc: f64,
    /// Refresh interval.
    pub t_refi: f64,
    /// Next row activated in the paired bank during the MACs (hides tRCD and tRP).
    pub row_overlap: bool,
}

/// DMA timing of processor-style PIM (UPMEM): a transfer of `b` bytes costs `α + β·b` cycles.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DmaTiming {
    /// Fixed cycles per transfer.
    pub alpha: f64,
    /// Cycles per byte.
    pub beta: f64,
    /// Bytes per transfer.
    pub bytes: f64,
}

/// How the units reach their banks.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Interface {
    /// Lockstep all-bank DRAM commands.
    Dram(DramTiming),
    /// Per-unit DMA into a scratchpad.
    Dma(DmaTiming),
}

/// Everything the PIM timing model needs, read from the parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct PimConfig {
    /// Channels (pseudo-channels, or DIMM ranks for UPMEM).
    pub channels: f64,
    /// PIM units per channel.
    pub units_per_channel: f64,
    /// MACs per unit per cycle, by dtype.
    pub macs: DTypeTable<f64>,
    /// Unit clock, Hz.
    pub clock_hz: f64,
    /// Bank interface.
    pub interface: Interface,
    /// Vector buffer bytes per channel (dram) or unit (dma).
    pub buffer_bytes: f64,
    /// Vectors processed per pass over the matrix.
    pub max_vectors: f64,
    /// Host-to-PIM bandwidth for the vectors, bytes/s (all channels together).
    pub broadcast_bw: f64,
    /// PIM-to-host bandwidth for the results, bytes/s.
    pub readout_bw: f64,
    /// Bytes per partial result read back.
    pub result_bytes: f64,
    /// Partial sums per output the host must add (SIMD lanes not reduced in memory).
    pub partials: f64,
    /// Cost of entering and leaving PIM mode around each buffer fill, s.
    pub mode_switch_s: f64,
    /// Energy per byte read inside the banks, J.
    pub internal_j_per_byte: f64,
}

impl PimConfig {
    /// Total PIM units.
    pub fn units(&self) -> f64 {
        self.channels * self.units_per_channel
    }
}

/// A GEMV workload for the PIM timing model.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GemvShape {
    /// Distinct matrices (1 for a weight; batch · kv_heads for attention).
    pub matrices: f64,
    /// Output rows per matrix.
    pub rows: f64,
    /// Reduction length.
    pub k: f64,
    /// Vectors per matrix.
    pub vectors: f64,
    /// Bytes per matrix element.
    pub elem_bytes: f64,
    /// Bytes per vector element.
    pub in_bytes: f64,
    /// MAC dtype.
    pub dtype: DType,
}

/// The timing breakdown of one GEMV on PIM.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GemvCost {
    /// Passes over the matrix.
    pub passes: f64,
    /// Slices each output row is split into along K.
    pub k_split: f64,
    /// Matrix bytes per unit.
    pub bytes_per_unit: f64,
    /// Column command time with the vectors of a full pass (dram), s.
    pub t_col: f64,
    /// Full-row time (dram), s.
    pub t_row: f64,
    /// Streaming time of all passes before refresh, s.
    pub t_stream: f64,
    /// Streaming time of all passes with refresh, s.
    pub t_bank: f64,
    /// Vector broadcast time of all passes, s.
    pub t_in: f64,
    /// Result readout time of all passes, s.
    pub t_out: f64,
    /// Host reduction time of all passes, s.
    pub t_reduce: f64,
    /// Mode switches around buffer fills, s.
    pub t_switch: f64,
    /// The units' MACs, not the row timing, set the streaming time.
    pub compute_limited: bool,
    /// Bytes read inside the banks.
    pub internal_bytes: f64,
    /// Bytes over the host interface (vectors in, results out).
    pub external_bytes: f64,
    /// Host additions.
    pub adds: f64,
}

impl GemvCost {
    /// Total time, s.
    pub fn total(&self) -> f64 {
        self.t_bank + self.t_in + self.t_out + self.t_reduce + self.t_switch
    }
}

/// Which ops go to PIM when both can run them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Offload {
    /// The faster of PIM and host.
    Auto,
    /// PIM whenever it can.
    Gemv,
}

/// The PIM model of one unit, with its host fallback.
pub struct Pim<'a> {
    hw: &'a Hardware,
    unit: usize,
    mode: Mode,
    cfg: PimConfig,
    offload: Offload,
    host: Option<(usize, Box<dyn CostModel + 'a>)>,
    /// The PIM memory level (the unit's main memory).
    main: usize,
}

impl std::fmt::Debug for Pim<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pim")
            .field("unit", &self.hw.units[self.unit].name)
            .field("cfg", &self.cfg)
            .field("offload", &self.offload)
            .field(
                "host",
                &self.host.as_ref().map(|h| &self.hw.units[h.0].name),
            )
            .finish()
    }
}

fn read_config(
    p: &Params,
    hw: &Hardware,
    unit: usize,
    mode: Mode,
) -> Result<PimConfig, ParamError> {
    let u = &hw.units[unit];
    let channels = p.count("channels", None)? as f64;
    let units_per_channel = p.count("units_per_channel", None)? as f64;
    if ((channels * units_per_channel) - u.count).abs() > 0.5 {
        return Err(p.error(
            "units_per_channel",
            format!(
                "channels × units_per_channel = {} but the unit's count is {}",
                channels * units_per_channel,
                u.count
            ),
        ));
    }
    let macs = p.dtype_table("macs_per_cycle")?;
    if macs.iter().next().is_none() {
        return Err(p.error(
            "macs_per_cycle",
            "missing; give MACs per unit per cycle by dtype, e.g. { f16 = 16 }",
        ));
    }
    for (d, m) in macs.iter() {
        if let Some(file) = u.peak.get(d) {
            let ours = 2.0 * m * u.clock_hz * u.count;
            if ((ours - file) / file).abs() > PEAK_TOLERANCE {
                return Err(p.error(
                    &format!("macs_per_cycle.{d}"),
                    format!(
                        "2 × {m} MACs × {:.4e} Hz × {} units = {ours:.4e} ops/s, but peak_ops_per_s.{d} is {file:.4e}",
                        u.clock_hz, u.count
                    ),
                ));
            }
        }
    }
    let interface = match p.choice("interface", &["dram", "dma"], "dram")? {
        "dram" => {
            let column_bytes = p.pos("column_bytes")?;
            let row_bytes = p.pos("row_bytes")?;
            if row_bytes < column_bytes {
                return Err(p.error("row_bytes", "a row must hold at least one column access"));
            }
            let t_refi = p.pos("t_refi_ns")? * NS;
            let t_rfc = p.nonneg_or("t_rfc_ns", 0.0)? * NS;
            if t_rfc >= t_refi {
                return Err(p.error("t_rfc_ns", "refresh cannot take the whole refresh interval"));
            }
            Interface::Dram(DramTiming {
                column_bytes,
                row_bytes,
                t_ccd: p.pos("t_ccd_ns")? * NS,
                t_rcd: p.pos("t_rcd_ns")? * NS,
                t_ras: p.pos("t_ras_ns")? * NS,
                t_rp: p.pos("t_rp_ns")? * NS,
                t_faw: p.nonneg_or("t_faw_ns", 0.0)? * NS,
                acts_per_faw: p.pos_or("acts_per_faw", JEDEC_ACTS_PER_FAW)?,
                banks_per_act: p.pos_or("banks_per_act", units_per_channel)?,
                t_rfc,
                t_refi,
                row_overlap: p.flag("row_overlap", false)?,
            })
        }
        _ => Interface::Dma(DmaTiming {
            alpha: p.nonneg_or("dma_alpha_cycles", 0.0)?,
            beta: p.pos("dma_beta_cycles_per_byte")?,
            bytes: p.pos("dma_bytes")?,
        }),
    };
    let main = &hw.memories[*u.reach.last().expect("validated: units reach memory")];
    let e_b = mode.efficiency(u.bandwidth_efficiency);
    Ok(PimConfig {
        channels,
        units_per_channel,
        macs,
        clock_hz: u.clock_hz,
        interface,
        buffer_bytes: p.pos("buffer_bytes")?,
        max_vectors: p.count("max_vectors", Some(1))? as f64,
        broadcast_bw: p.pos_or("broadcast_bytes_per_s", main.bytes_per_s)? * e_b,
        readout_bw: p.pos_or("readout_bytes_per_s", main.bytes_per_s)? * e_b,
        result_bytes: p.pos("result_bytes")?,
        partials: p.count("partials_per_output", Some(1))? as f64,
        mode_switch_s: p.nonneg_or("mode_switch_ns", 0.0)? * NS,
        internal_j_per_byte: p.nonneg_or("internal_pj_per_byte", 0.0)? * 1e-12,
    })
}

impl PimConfig {
    /// Streaming time of one pass with `vp` vectors over `s_u` bytes per unit, before refresh,
    /// and whether compute limits it. `rows_u`, `k_u` are the unit's rows and row length.
    fn stream(
        &self,
        g: &GemvShape,
        s_u: f64,
        rows_u: f64,
        k_u: f64,
        vp: f64,
        mpc: f64,
    ) -> (f64, f64, f64, bool) {
        match self.interface {
            Interface::Dram(t) => {
                let elems = t.column_bytes / g.elem_bytes;
                let mac_t = vp * (elems / mpc).ceil() / self.clock_hz;
                let t_col = t.t_ccd.max(mac_t);
                let row_time = |cols: f64| {
                    let body = cols * t_col;
                    let row = if t.row_overlap {
                        body
                    } else {
                        t.t_ras.max(t.t_rcd + body) + t.t_rp
                    };
                    let acts = (self.units_per_channel / t.banks_per_act).ceil();
                    row.max(acts * t.t_faw / t.acts_per_faw)
                };
                let n_col = (t.row_bytes / t.column_bytes).floor();
                let full = (s_u / t.row_bytes).floor();
                let rem_cols = ((s_u - full * t.row_bytes) / t.column_bytes).ceil();
                let mut time = full * row_time(n_col);
                if rem_cols > 0.0 {
                    time += row_time(rem_cols);
                }
                (time, t_col, row_time(n_col), mac_t > t.t_ccd * (1.0 + TIE))
            }
            Interface::Dma(d) => {
                let xfers = (s_u / d.bytes).ceil();
                let t_dma = (xfers * d.alpha + s_u * d.beta) / self.clock_hz;
                let t_mac = rows_u * k_u * vp / (mpc * self.clock_hz);
                (t_dma.max(t_mac), 0.0, 0.0, t_mac > t_dma)
            }
        }
    }

    /// Times one GEMV on PIM; `host_add_rate` is the host's additions per second (needed only
    /// when partial sums must be added).
    pub fn gemv(&self, g: &GemvShape, host_add_rate: Option<f64>) -> Result<GemvCost, String> {
        let mpc = self
            .macs
            .get(g.dtype)
            .ok_or_else(|| format!("the PIM units have no {} MACs", g.dtype))?;
        let units = self.units();
        let rows_total = g.matrices * g.rows;
        let max_split = match self.interface {
            Interface::Dram(t) => (g.k * g.elem_bytes / t.column_bytes).ceil(),
            Interface::Dma(_) => g.k,
        }
        .max(1.0);
        let k_split = if rows_total >= units {
            1.0
        } else {
            (units / rows_total).floor().min(max_split).max(1.0)
        };
        let rows_u = (rows_total * k_split / units).ceil();
        let k_u = (g.k / k_split).ceil();
        let s_u = rows_u * k_u * g.elem_bytes;
        let v = g.vectors.ceil().max(1.0);
        let vp_full = self.max_vectors.min(v);
        let full_passes = (v / vp_full).floor();
        let rem = v - full_passes * vp_full;
        let copies = match self.interface {
            Interface::Dram(_) => self.channels,
            Interface::Dma(_) => units,
        };
        let partials = self.partials * k_split;
        let reduce_rate = if partials > 1.0 {
            Some(host_add_rate.ok_or_else(|| {
                format!("{partials} partial sums per output need a host unit to add them")
            })?)
        } else {
            None
        };
        let mut c = GemvCost {
            passes: full_passes + if rem > 0.0 { 1.0 } else { 0.0 },
            k_split,
            bytes_per_unit: s_u,
            t_col: 0.0,
            t_row: 0.0,
            t_stream: 0.0,
            t_bank: 0.0,
            t_in: 0.0,
            t_out: 0.0,
            t_reduce: 0.0,
            t_switch: 0.0,
            compute_limited: false,
            internal_bytes: 0.0,
            external_bytes: 0.0,
            adds: 0.0,
        };
        let refresh = match self.interface {
            Interface::Dram(t) => 1.0 / (1.0 - t.t_rfc / t.t_refi),
            Interface::Dma(_) => 1.0,
        };
        for (count, vp) in [(full_passes, vp_full), (1.0, rem)] {
            if count == 0.0 || vp == 0.0 {
                continue;
            }
            let (t_s, t_col, t_row, limited) = self.stream(g, s_u, rows_u, k_u, vp, mpc);
            if vp == vp_full {
                c.t_col = t_col;
                c.t_row = t_row;
                c.compute_limited = limited;
            }
            c.t_stream += count * t_s;
            c.t_bank += count * t_s * refresh;
            // Vectors of each matrix; a channel (or unit) needs those of the matrices it holds.
            let vec_bytes = g.matrices * vp * g.k * g.in_bytes;
            let per_copy = vec_bytes / g.matrices.min(copies);
            c.t_in += count * copies * per_copy / self.broadcast_bw;
            let chunks = (per_copy / self.buffer_bytes).ceil();
            c.t_switch += count * chunks * self.mode_switch_s;
            let results = rows_total * vp * partials;
            c.t_out += count * results * self.result_bytes / self.readout_bw;
            let adds = rows_total * vp * (partials - 1.0);
            c.adds += count * adds;
            if let Some(r) = reduce_rate {
                c.t_reduce += count * adds / r;
            }
            c.external_bytes += count * (copies * per_copy + results * self.result_bytes);
            c.internal_bytes += count * rows_total * g.k * g.elem_bytes;
        }
        Ok(c)
    }
}

impl<'a> Pim<'a> {
    /// Reads and checks the parameters of unit `unit` and builds its host's model with `host`
    /// (the registry's [`crate::cost_models::model_for`], which knows every model).
    pub fn new(
        hw: &'a Hardware,
        unit: usize,
        mode: Mode,
        host: Build,
    ) -> Result<Self, SelectError> {
        let build_host = host;
        let u = &hw.units[unit];
        let p = Params::of(u, &hw.file);
        p.check_known(NAME, KEYS)?;
        let cfg = read_config(&p, hw, unit, mode)?;
        let offload = match p.choice("offload", &["auto", "gemv"], "auto")? {
            "auto" => Offload::Auto,
            _ => Offload::Gemv,
        };
        let host = match p.opt_str("host")? {
            None => None,
            Some(name) => {
                let h = hw
                    .units
                    .iter()
                    .position(|x| x.name == name)
                    .ok_or_else(|| {
                        p.error(
                            "host",
                            format!(
                                "no unit `{name}` in this device; it has: {}",
                                hw.units
                                    .iter()
                                    .map(|x| x.name.as_str())
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ),
                        )
                    })?;
                if h == unit || declared_model(&hw.units[h]) == Some(NAME) {
                    return Err(p
                        .error("host", format!("the host `{name}` must be a non-PIM unit"))
                        .into());
                }
                Some((h, build_host(hw, h, mode)?))
            }
        };
        if cfg.partials > 1.0 && host.is_none() {
            return Err(p
                .error(
                    "partials_per_output",
                    "partial sums must be added by a host; name one in params.host",
                )
                .into());
        }
        Ok(Pim {
            hw,
            unit,
            mode,
            cfg,
            offload,
            host,
            main: *u.reach.last().expect("validated: units reach memory"),
        })
    }

    /// The timing configuration.
    pub fn config(&self) -> &PimConfig {
        &self.cfg
    }

    /// The host unit's index, if any.
    pub fn host_unit(&self) -> Option<usize> {
        self.host.as_ref().map(|h| h.0)
    }

    /// The host's additions per second for partial sums: its f32 vector rate, or its fastest
    /// vector dtype when it has no f32.
    fn host_add_rate(&self) -> Option<(DType, f64)> {
        let (h, _) = self.host.as_ref()?;
        let hu = &self.hw.units[*h];
        widened(&hu.vector_peak, DType::F32)
            .or_else(|| hu.vector_peak.iter().max_by(|a, b| a.1.total_cmp(&b.1)))
    }

    /// The GEMV shape of `op` if PIM can run it, else why not.
    pub fn gemv_shape(
        &self,
        graph: &Graph,
        residency: &TensorHomes,
        op_id: OpId,
    ) -> Result<GemvShape, String> {
        let op = graph.op(op_id);
        if matches!(op.kind, OpKind::Conv2d(_)) {
            return Err("convolutions need im2col, which the banks cannot do".into());
        }
        let g = gemm_view(graph, op).ok_or("not a matrix product")?;
        let b = graph.tensor(g.b_tensor);
        if !matches!(b.role, Role::Weight | Role::KvCache) {
            return Err("the matrix is not persistent data stored in the PIM memory".into());
        }
        if residency.home[g.b_tensor.0 as usize] != self.main {
            return Err(format!(
                "the matrix lives in `{}`, not in the PIM memory `{}`",
                self.hw.memories[residency.home[g.b_tensor.0 as usize]].name,
                self.hw.memories[self.main].name
            ));
        }
        // One scale per output row (per-channel) is applied by the host to the results; groups
        // inside a row would need dequantizing in the bank, which the units cannot do.
        if b.storage
            .group
            .is_some_and(|q| q.size > 0 && (q.size as u64) < g.k)
        {
            return Err(format!(
                "group-quantized {} weights need dequantizing first",
                b.storage
            ));
        }
        let dtype = b.storage.dtype;
        if self.cfg.macs.get(dtype).is_none() {
            return Err(format!("the PIM units have no {dtype} MACs"));
        }
        if op.compute != dtype && self.cfg.macs.get(op.compute).is_none() {
            return Err(format!(
                "the op computes in {} and the PIM units have no {} MACs",
                op.compute, op.compute
            ));
        }
        let (matrices, vectors) = if g.b_shared {
            (1.0, g.batch * g.m)
        } else {
            (g.batch, g.m)
        };
        let a = graph.tensor(op.inputs[0]);
        Ok(GemvShape {
            matrices,
            rows: g.n as f64,
            k: g.k as f64,
            vectors,
            elem_bytes: b.storage.bits_per_elem(g.k.max(1)) / 8.0,
            in_bytes: a.storage.dtype.bits() as f64 / 8.0,
            dtype,
        })
    }

    /// The ledger of `op` on the PIM units, or why PIM cannot run it.
    pub fn pim_cost(
        &self,
        graph: &Graph,
        residency: &TensorHomes,
        op_id: OpId,
    ) -> Result<Ledger, String> {
        let op = graph.op(op_id);
        let u = &self.hw.units[self.unit];
        let shape = self.gemv_shape(graph, residency, op_id)?;
        let add = self.host_add_rate();
        let c = self.cfg.gemv(&shape, add.map(|x| x.1))?;
        let overhead = self.mode.overhead(u.kernel_overhead_s);
        let mut l = Ledger::zero();
        l.flops = op.kind.flops();
        l.bytes[self.main] = c.external_bytes;
        if c.compute_limited {
            l.compute_bound_s += c.t_bank;
        } else {
            l.memory_bound_s[self.main] += c.t_bank;
        }
        l.memory_bound_s[self.main] += c.t_in + c.t_out;
        l.compute_bound_s += c.t_reduce;
        l.overhead_s = c.t_switch + overhead;
        l.latency_s = c.total() + overhead;
        let mem = &self.hw.memories[self.main];
        l.memory_j =
            c.internal_bytes * self.cfg.internal_j_per_byte + c.external_bytes * mem.j_per_byte;
        l.compute_j = l.flops * u.j_per_op.get(shape.dtype).unwrap_or(0.0);
        if let (Some((h, _)), Some((d, _))) = (&self.host, add) {
            l.compute_j += c.adds * self.hw.units[*h].j_per_op.get(d).unwrap_or(0.0);
        }
        l.close_static(self.hw);
        Ok(l)
    }
}

impl CostModel for Pim<'_> {
    fn cost(
        &self,
        graph: &Graph,
        residency: &TensorHomes,
        op_id: OpId,
    ) -> Result<Ledger, Infeasible> {
        let pim = self.pim_cost(graph, residency, op_id);
        let host = self
            .host
            .as_ref()
            .map(|(_, m)| m.cost(graph, residency, op_id));
        match (pim, host) {
            (Ok(p), Some(Ok(h))) => Ok(match self.offload {
                Offload::Gemv => p,
                Offload::Auto => {
                    if h.latency_s < p.latency_s {
                        h
                    } else {
                        p
                    }
                }
            }),
            (Ok(p), _) => Ok(p),
            (Err(_), Some(h)) => h,
            (Err(why), None) => Err(Infeasible {
                reason: format!(
                    "op `{}` cannot run on PIM unit `{}` ({why}) and the unit names no host",
                    graph.op(op_id).name,
                    self.hw.units[self.unit].name
                ),
            }),
        }
    }

    crate::cost::unit_accessors!();

    /// What the PIM banks run themselves ([`Pim::pim_cost`]); ops only the host runs are
    /// infeasible here.
    fn own_cost(
        &self,
        graph: &Graph,
        residency: &TensorHomes,
        op: OpId,
    ) -> Result<Ledger, Infeasible> {
        self.pim_cost(graph, residency, op)
            .map_err(|reason| Infeasible { reason })
    }
}
