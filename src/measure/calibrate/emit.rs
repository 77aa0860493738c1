//! The hardware file of a calibration: TOML emission of the units (one figure per key, each
//! with how it was measured or estimated), their memory levels and the power section, checked
//! by parsing it back before it is returned.

use super::Calibration;
use super::host::conflict_stride;
use super::host::level_name;
use super::probes::{
    CandleFigures, DEPTH_PROBE_K, GEMV_K, PeakResult, REDUCE_ROW, REDUCE_ROWS, Rate, STRIDED_PROBE,
};
use super::{MeasureError, Options};
use crate::hardware::Hardware;
use crate::measure::kernels::{self, Stream};
use crate::measure::stats::Summary;
use crate::workload::DType;
use std::fmt::Write as _;

/// A TOML basic string.
fn toml_str(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 2);
    o.push('"');
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                let _ = write!(o, "\\u{:04X}", c as u32);
            }
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

/// An inline table `{ value = ..., <kind> = "<note>" }` (`kind`: `source` or `estimate`).
fn fig(value: f64, kind: &str, note: &str) -> String {
    format!("{{ value = {value:e}, {kind} = {} }}", toml_str(note))
}

/// Estimated dynamic power of one core at full SIMD load, watts. AMD EPYC 9654 (Zen 4): 360 W
/// TDP over 96 cores ≈ 3.75 W per core, about what one core of a current desktop or server
/// x86 or Arm big core draws under AVX2/NEON load (2–5 W). Used only for energy estimates.
pub const CORE_WATTS_ESTIMATE: f64 = 3.75;

/// Estimated static power per core, watts: package idle and uncore share plus DRAM background
/// (desktop-x86 estimates 12 W for 24 cores and two DIMMs; about 2 W per core on a server part).
pub const STATIC_WATTS_PER_CORE_ESTIMATE: f64 = 2.0;

/// Estimated access energy by memory level name, pJ/byte, with the derivation.
fn pj_per_byte(name: &str) -> (f64, &'static str) {
    match name {
        "l1d" => (
            0.3,
            "small SRAM read at 5-7 nm: Horowitz (ISSCC 2014) gives 10 pJ per 64-bit read of an 8 KB SRAM at 45 nm (1.25 pJ/B), about 4x less after scaling",
        ),
        "l2" => (
            0.8,
            "private L2 SRAM read at 5-7 nm, as the shipped desktop-x86 file estimates",
        ),
        "dram" => (
            120.0,
            "DDR4/DDR5 DIMM access including controller, PHY and termination of about 15 pJ/bit (Horowitz ISSCC 2014: 20-40 pJ/bit for DDR3, scaled by voltage), as desktop-x86 estimates",
        ),
        _ => (
            2.5,
            "shared last-level cache slice read plus on-chip fabric, as desktop-x86 estimates",
        ),
    }
}

/// One compute unit of the generated file: `threads` CPUs and the memory levels they see.
struct UnitSpec<'a> {
    name: &'a str,
    threads: usize,
    /// Suffix of this unit's memory level names ("" or "-1t").
    suffix: &'a str,
    candle: &'a CandleFigures,
}

fn best_peaks(cal: &Calibration, one: bool) -> Vec<(&PeakResult, Rate)> {
    let mut best: Vec<(&PeakResult, Rate)> = Vec::new();
    for p in &cal.peaks {
        let r = if one { p.one } else { p.all };
        match best.iter_mut().find(|b| b.0.kernel.dtype == p.kernel.dtype) {
            Some(b) if b.1.value >= r.value => {}
            Some(b) => *b = (p, r),
            None => best.push((p, r)),
        }
    }
    best
}

/// The STREAM-style read rate of level `name`, on one thread or on all.
fn level_read(cal: &Calibration, name: &str, one_thread: bool) -> Option<Rate> {
    let (r1, rn) = cal
        .levels
        .iter()
        .find(|l| l.name == name)
        .and_then(|l| l.rate(Stream::Read))?;
    Some(if one_thread { r1 } else { rn })
}

/// Writes the `[[unit]]` table of `u`: its keys, then its sub-tables.
fn write_unit(
    s: &mut String,
    cal: &Calibration,
    u: &UnitSpec,
    when: &str,
) -> Result<(), MeasureError> {
    write_unit_head(s, cal, u, when)?;
    let best = best_peaks(cal, u.threads == 1);
    write_efficiencies(s, cal, u, when, &best)?;
    write_reuse_terms(s, cal, u, when);
    write_kernel_terms(s, u, when);
    write_peak_tables(s, cal, u, when, &best);
    write_level_bandwidth(s, cal, u, when);
    write_level_pack(s, cal, u, when);
    write_block_quant(s, u, when);
    write_pj_per_op(s, &best);
    let _ = writeln!(s, "\n[unit.params]\nthreads = {}", u.threads);
    Ok(())
}

/// The unit's name, kind, count, clock and memory levels.
fn write_unit_head(
    s: &mut String,
    cal: &Calibration,
    u: &UnitSpec,
    when: &str,
) -> Result<(), MeasureError> {
    let h = &cal.host;
    let one = u.threads == 1;

    let _ = writeln!(s, "\n[[unit]]\nname = \"{}\"\nkind = \"cpu\"", u.name);
    let _ = writeln!(
        s,
        "count = {}",
        fig(
            u.threads as f64,
            "source",
            &if one {
                "one core of this host (benchmarks run on a single thread)".to_string()
            } else {
                format!(
                    "std::thread::available_parallelism() on this host: {} logical CPUs",
                    h.cpus
                )
            }
        )
    );
    let clock_hz = match (cal.clock, h.cpuinfo_mhz) {
        (Some(c), mhz) => fig(
            c.value,
            "source",
            &format!(
                "{when}: a chain of dependent 64-bit integer adds (1 cycle each) on one core, thread CPU time, {}{}",
                c.stats(),
                mhz.map(|m| format!("; /proc/cpuinfo reports {m:.0} MHz"))
                    .unwrap_or_default()
            ),
        ),
        (None, Some(mhz)) => fig(
            mhz * 1e6,
            "source",
            "/proc/cpuinfo `cpu MHz` (no add-chain kernel on this architecture)",
        ),
        (None, None) => {
            return Err(MeasureError::Calibration(
                "cannot measure the clock on this architecture and /proc/cpuinfo gives none".into(),
            ));
        }
    };
    let _ = writeln!(s, "clock_hz = {clock_hz}");
    let mem: Vec<String> = cal
        .levels
        .iter()
        .map(|l| toml_str(&format!("{}{}", l.name, u.suffix)))
        .collect();
    let _ = writeln!(s, "memory = [{}]", mem.join(", "));
    Ok(())
}

/// `compute_efficiency`, `bandwidth_efficiency` and `pack_bandwidth_efficiency`: candle's GEMM,
/// GEMV and packing rates over the measured peak and DRAM read.
fn write_efficiencies(
    s: &mut String,
    cal: &Calibration,
    u: &UnitSpec,
    when: &str,
    best: &[(&PeakResult, Rate)],
) -> Result<(), MeasureError> {
    let one_thread = u.threads == 1;

    let f32_peak = best
        .iter()
        .find(|p| p.0.kernel.dtype == DType::F32)
        .ok_or_else(|| MeasureError::Calibration("no f32 peak kernel ran".into()))?
        .1;
    let c = u.candle;
    let eff = (c.gemm_flops() / f32_peak.value).clamp(1e-3, 1.0);
    let _ = writeln!(
        s,
        "compute_efficiency = {}",
        fig(
            eff,
            "source",
            &format!(
                "{when}: candle f32 matmul {n}x{n}x{n} (rows of {} B, not a multiple of the L1 set stride: packing conflicts are priced apart) on {} thread(s) ran at {:.1} GFLOP/s ({}, median of {} samples, spread {:.1}%) over the measured f32 peak of {:.1} GFLOP/s",
                4 * c.gemm_n,
                c.threads,
                c.gemm_flops() / 1e9,
                c.clock.name(),
                c.gemm.n,
                100.0 * c.gemm.spread(),
                f32_peak.value / 1e9,
                n = c.gemm_n
            )
        )
    );
    let dram = cal
        .levels
        .iter()
        .find(|l| l.name == "dram")
        .and_then(|l| l.rate(Stream::Read))
        .map(|(one, all)| if one_thread { one } else { all })
        .ok_or_else(|| MeasureError::Calibration("no DRAM read bandwidth".into()))?;
    let beff = (c.gemv_bytes_per_s() / dram.value).clamp(1e-3, 1.0);
    let _ = writeln!(
        s,
        "bandwidth_efficiency = {}",
        fig(
            beff,
            "source",
            &format!(
                "{when}: candle f32 GEMV 1x{}x{} (weights {} MiB, from DRAM at every call) on {} thread(s) streamed {:.1} GB/s ({}, median of {} samples, spread {:.1}%) over the STREAM-style DRAM read of {:.1} GB/s",
                c.gemv_nk.0,
                c.gemv_nk.1,
                (4 * c.gemv_nk.0 * c.gemv_nk.1) >> 20,
                c.threads,
                c.gemv_bytes_per_s() / 1e9,
                c.clock.name(),
                c.gemv.n,
                100.0 * c.gemv.spread(),
                dram.value / 1e9
            )
        )
    );
    let peff = (c.pack_bytes_per_s() / dram.value).clamp(1e-3, 1.0);
    let _ = writeln!(
        s,
        "pack_bandwidth_efficiency = {}",
        fig(
            peff,
            "source",
            &format!(
                "{when}: candle f32 matmul {m}x{}x{} on {} thread(s) took {:.3} ms ({}, median of {} samples, spread {:.1}%); beyond its FLOPs at the {n}^3 GEMM's rate, its {} MiB of weights (from DRAM) were packed at {:.2} GB/s, over the STREAM-style DRAM read of {:.1} GB/s",
                c.gemv_nk.0,
                c.gemv_nk.1,
                c.threads,
                c.pack_gemm.median * 1e3,
                c.clock.name(),
                c.pack_gemm.n,
                100.0 * c.pack_gemm.spread(),
                (4 * c.gemv_nk.0 * c.gemv_nk.1) >> 20,
                c.pack_bytes_per_s() / 1e9,
                dram.value / 1e9,
                m = c.pack_m,
                n = c.gemm_n
            )
        )
    );
    Ok(())
}

/// `reuse_refetch_bytes_per_s`, `pack_conflict_stride_bytes` and `strided_gather_elems_per_s`.
fn write_reuse_terms(s: &mut String, cal: &Calibration, u: &UnitSpec, when: &str) {
    let h = &cal.host;
    let c = u.candle;

    if let Some(rate) = c.refetch_bytes_per_s() {
        let ((n, k), t_r) = &c.refetch_gemv;
        let _ = writeln!(
            s,
            "reuse_refetch_bytes_per_s = {}",
            fig(
                rate,
                "source",
                &format!(
                    "{when}: candle f32 GEMV 1x{n}x{k} (input vector {} KiB, as large as a core's L1, so it is re-read for every output) on {} thread(s) took {:.3} ms ({}, median of {} samples, spread {:.1}%), {:.3} ms more than the bandwidth GEMV over as many weight bytes in rows of {} (vector resident; the two alternated sample by sample, median of the differences); its {} MiB of vector re-reads over that difference",
                    4 * k / 1024,
                    c.threads,
                    t_r.median * 1e3,
                    c.clock.name(),
                    t_r.n,
                    100.0 * t_r.spread(),
                    c.refetch_extra.median * 1e3,
                    c.gemv_nk.1,
                    (4 * n * k) >> 20
                )
            )
        );
    }
    if let (Some(st), Some(l1)) = (conflict_stride(h), h.caches.first()) {
        let _ = writeln!(
            s,
            "pack_conflict_stride_bytes = {}",
            fig(
                st as f64,
                "source",
                &format!(
                    "/sys/devices/system/cpu/cpu0/cache: L1 {} KiB, {}-way: rows a multiple of {st} B apart map to the same L1 sets",
                    l1.size_bytes / 1024,
                    l1.ways.unwrap_or(0)
                )
            )
        );
    }
    let _ = writeln!(
        s,
        "strided_gather_elems_per_s = {}",
        fig(
            c.strided_elems_per_s(),
            "source",
            &format!(
                "{when}: candle's contiguous copy of the stride-2 view of a {}x{}x{} f32 tensor (MobileNetV2 block 2's depthwise input), {} elements, on {} thread(s) took {:.3} ms ({}, median of {} samples, spread {:.1}%), beyond the kernel overhead",
                STRIDED_PROBE.0,
                STRIDED_PROBE.1,
                STRIDED_PROBE.1,
                STRIDED_PROBE.0 * (STRIDED_PROBE.1 / 2) * (STRIDED_PROBE.1 / 2),
                c.threads,
                c.strided.median * 1e3,
                c.clock.name(),
                c.strided.n,
                100.0 * c.strided.spread()
            )
        )
    );
}

/// `gemm_depth_overhead`, `serial_reduce_elems_per_s`, `depthwise_macs_per_s` and
/// `kernel_overhead_s`.
fn write_kernel_terms(s: &mut String, u: &UnitSpec, when: &str) {
    let c = u.candle;

    if let Some(k0) = c.depth_overhead() {
        let _ = writeln!(
            s,
            "gemm_depth_overhead = {}",
            fig(
                k0,
                "source",
                &format!(
                    "{when}: candle f32 matmul {n}x{n}x{DEPTH_PROBE_K} on {} thread(s) ran at {:.1} GFLOP/s ({}, median of {} samples, spread {:.1}%) against {:.1} GFLOP/s at depth {n}: a product of depth K runs at K / (K + K0) of the rate, K0 = {DEPTH_PROBE_K} x ({:.1} / {:.1} - 1)",
                    c.threads,
                    2.0 * (c.gemm_n * c.gemm_n * DEPTH_PROBE_K) as f64 / c.shallow.median / 1e9,
                    c.clock.name(),
                    c.shallow.n,
                    100.0 * c.shallow.spread(),
                    c.gemm_flops() / 1e9,
                    c.gemm_flops() / 1e9,
                    2.0 * (c.gemm_n * c.gemm_n * DEPTH_PROBE_K) as f64 / c.shallow.median / 1e9,
                    n = c.gemm_n
                )
            )
        );
    }
    let _ = writeln!(
        s,
        "serial_reduce_elems_per_s = {}",
        fig(
            c.reduce_elems_per_s(),
            "source",
            &format!(
                "{when}: sums of squares of {REDUCE_ROWS} rows of {REDUCE_ROW} f32 (L2-resident), one serial accumulator per row as candle-nn's RMSNorm loop, rows over {} thread(s) ({}, median of {} samples, spread {:.1}%)",
                c.threads,
                c.clock.name(),
                c.reduce.n,
                100.0 * c.reduce.spread()
            )
        )
    );
    let _ = writeln!(
        s,
        "depthwise_macs_per_s = {}",
        fig(
            c.depthwise_macs_per_s(),
            "source",
            &format!(
                "{when}: the candle backend's depthwise convolution (no candle depthwise kernel: one multiply and one add pass per tap, src/measure/backend.rs) of MobileNetV2 block 3, 3x3 {} channels at {}x{}, {:.1} M MACs, on {} thread(s) ({}, median of {} samples, spread {:.1}%)",
                c.depthwise.c_in,
                c.depthwise.h,
                c.depthwise.w,
                c.depthwise.macs() / 1e6,
                c.threads,
                c.clock.name(),
                c.depthwise_s.n,
                100.0 * c.depthwise_s.spread()
            )
        )
    );
    let ov: Vec<String> = c
        .overheads
        .iter()
        .map(|(k, v)| {
            format!(
                "{k} {:.2} us (spread {:.0}%)",
                v.median * 1e6,
                100.0 * v.spread()
            )
        })
        .collect();
    let _ = writeln!(
        s,
        "kernel_overhead_s = {}",
        fig(
            c.overhead_s,
            "source",
            &format!(
                "{when}: median over tiny single-op graphs run by the measured backend (candle CPU ops and the backend's bookkeeping, as validate runs them) on {} thread(s) of the time per call ({}), each the median of {} samples: {}",
                c.threads,
                c.clock.name(),
                c.overheads.first().map_or(0, |o| o.1.n),
                ov.join(", ")
            )
        )
    );
}

/// `[unit.peak_ops_per_s]` (the best kernel per dtype) and `[unit.special_ops_per_s]`.
fn write_peak_tables(
    s: &mut String,
    cal: &Calibration,
    u: &UnitSpec,
    when: &str,
    best: &[(&PeakResult, Rate)],
) {
    let one = u.threads == 1;
    let c = u.candle;

    let _ = writeln!(s, "\n[unit.peak_ops_per_s]");
    for (p, r) in best {
        let others: Vec<String> = cal
            .peaks
            .iter()
            .filter(|q| q.kernel.dtype == p.kernel.dtype && q.kernel.isa != p.kernel.isa)
            .map(|q| {
                let v = if one { q.one } else { q.all };
                format!("{}: {:.1} G/s", q.kernel.isa, v.value / 1e9)
            })
            .collect();
        let _ = writeln!(
            s,
            "{} = {}",
            p.kernel.dtype,
            fig(
                r.value,
                "source",
                &format!(
                    "{when}: {} with {} independent accumulators on {} thread(s), thread CPU time, {}{}",
                    p.kernel.isa,
                    kernels::ACCUMULATORS,
                    u.threads,
                    r.stats(),
                    if others.is_empty() {
                        String::new()
                    } else {
                        format!("; other kernels: {}", others.join(", "))
                    }
                )
            )
        );
    }
    let _ = writeln!(s, "\n[unit.special_ops_per_s]");
    let _ = writeln!(
        s,
        "f32 = {}",
        fig(
            c.exp_elems as f64 / c.exp.median,
            "source",
            &format!(
                "{when}: candle f32 `exp` over {} elements on {} thread(s) ({}, median of {} samples, spread {:.1}%)",
                c.exp_elems,
                c.threads,
                c.clock.name(),
                c.exp.n,
                100.0 * c.exp.spread()
            )
        )
    );
}

/// `[unit.level_bandwidth_efficiency]`: per memory level, the fastest GEMV stream from it or
/// an outer level over its read bandwidth.
fn write_level_bandwidth(s: &mut String, cal: &Calibration, u: &UnitSpec, when: &str) {
    let one_thread = u.threads == 1;
    let c = u.candle;

    let _ = writeln!(s, "\n[unit.level_bandwidth_efficiency]");
    // GEMV stream rate per level, innermost first (the per-call dispatch overhead is priced
    // apart, as kernel_overhead_s).
    let rates: Vec<(&str, (usize, usize), &Summary, f64)> = c
        .level_gemv
        .iter()
        .map(|(name, (n, k), t_l)| {
            let t = (t_l.median - c.overhead_s).max(0.5 * t_l.median);
            (name.as_str(), (*n, *k), t_l, 4.0 * (n * k) as f64 / t)
        })
        .collect();
    for (i, &(name, (n, k), t_l, bw)) in rates.iter().enumerate() {
        let Some(read) = level_read(cal, name, one_thread) else {
            continue;
        };
        // Data streamed from an outer level passes through this one, so this level sustains
        // at least the fastest stream measured from it or from any level outside it (a small
        // inner-level GEMV is bound by its loop overheads, not by the level).
        let (best, from) = rates[i..]
            .iter()
            .map(|r| (r.3, r.0))
            .fold((0.0, name), |a, b| if b.0 > a.0 { b } else { a });
        let _ = writeln!(
            s,
            "{}{} = {}",
            name,
            u.suffix,
            fig(
                (best / read.value).clamp(1e-3, 1.0),
                "source",
                &format!(
                    "{when}: the fastest candle f32 GEMV stream from this level or one outside it ({from}: {:.1} GB/s) over this level's STREAM-style read of {:.1} GB/s (capped at 1); GEMVs sized to each level's working set on {} thread(s), {}, beyond the kernel overhead; this level's own, 1x{n}x{k} ({} KiB): {:.1} GB/s, median of {} samples, spread {:.1}%",
                    best / 1e9,
                    read.value / 1e9,
                    c.threads,
                    c.clock.name(),
                    4 * n * k / 1024,
                    bw / 1e9,
                    t_l.n,
                    100.0 * t_l.spread()
                )
            )
        );
    }
}

/// `[unit.level_pack_bandwidth_efficiency]` and its `_conflict` variant: per memory level, the
/// packing rate of a small-M GEMM over the level's read bandwidth.
fn write_level_pack(s: &mut String, cal: &Calibration, u: &UnitSpec, when: &str) {
    let h = &cal.host;
    let one_thread = u.threads == 1;
    let c = u.candle;

    for conflict in [false, true] {
        let rates = c.level_pack_bytes_per_s(conflict);
        if rates.is_empty() {
            continue;
        }
        let _ = writeln!(
            s,
            "\n[unit.level_pack{}_bandwidth_efficiency]",
            if conflict { "_conflict" } else { "" }
        );
        for (name, (n, k), t_p, rate) in rates {
            let Some(read) = level_read(cal, name, one_thread) else {
                continue;
            };
            let rows = match (conflict, conflict_stride(h)) {
                (true, Some(st)) => format!(
                    "rows of {} B, a multiple of the {st} B L1 set stride",
                    4 * k
                ),
                (_, Some(st)) => format!(
                    "rows of {} B, not a multiple of the {st} B L1 set stride",
                    4 * k
                ),
                _ => format!("rows of {} B", 4 * k),
            };
            let _ = writeln!(
                s,
                "{}{} = {}",
                name,
                u.suffix,
                fig(
                    (rate / read.value).clamp(1e-3, 1.0),
                    "source",
                    &format!(
                        "{when}: the measured backend's f32 matmul {m}x{n}x{k} ({} KiB of weights, about this level's working set; {rows}) on {} thread(s) took {:.3} ms ({}, median of {} samples, spread {:.1}%); beyond its FLOPs at the {g}^3 GEMM's rate and the kernel overhead, the weights were packed at {:.2} GB/s, over this level's STREAM-style read of {:.1} GB/s (capped at 1)",
                        4 * n * k / 1024,
                        c.threads,
                        t_p.median * 1e3,
                        c.clock.name(),
                        t_p.n,
                        100.0 * t_p.spread(),
                        rate / 1e9,
                        read.value / 1e9,
                        m = c.pack_m,
                        g = c.gemm_n
                    )
                )
            );
        }
    }
}

/// `[unit.block_quant_ops_per_s]`: candle's q8_0 and q4_0 products.
fn write_block_quant(s: &mut String, u: &UnitSpec, when: &str) {
    let c = u.candle;

    let _ = writeln!(s, "\n[unit.block_quant_ops_per_s]");
    for (dt, t_q) in &c.block_quant {
        let _ = writeln!(
            s,
            "{dt} = {}",
            fig(
                2.0 * (GEMV_K * GEMV_K) as f64 / t_q.median,
                "source",
                &format!(
                    "{when}: candle QMatMul 1x{GEMV_K}x{GEMV_K} over {} weights ({} MiB, cache-resident), run by the measured backend, on {} thread(s), 2 ops per MAC ({}, median of {} samples, spread {:.1}%)",
                    if *dt == DType::I4 { "q4_0" } else { "q8_0" },
                    (GEMV_K * GEMV_K) as f64 * if *dt == DType::I4 { 18.0 } else { 34.0 }
                        / 32.0
                        / (1u64 << 20) as f64,
                    c.threads,
                    c.clock.name(),
                    t_q.n,
                    100.0 * t_q.spread()
                )
            )
        );
    }
}

/// `[unit.pj_per_op]`: estimated from the core power over the one-core peak.
fn write_pj_per_op(s: &mut String, best: &[(&PeakResult, Rate)]) {
    let _ = writeln!(s, "\n[unit.pj_per_op]");
    for (p, _) in best {
        let per_core = p.one.value;
        let _ = writeln!(
            s,
            "{} = {}",
            p.kernel.dtype,
            fig(
                CORE_WATTS_ESTIMATE / per_core * 1e12,
                "estimate",
                &format!(
                    "no power counters here: about {CORE_WATTS_ESTIMATE} W per core at full SIMD load (EPYC 9654: 360 W / 96 cores) over the measured one-core peak of {:.1} G/s",
                    per_core / 1e9
                )
            )
        );
    }
}

/// Writes the `[[memory]]` tables of the levels `u` sees.
fn write_levels(
    s: &mut String,
    cal: &Calibration,
    u: &UnitSpec,
    when: &str,
) -> Result<(), MeasureError> {
    let h = &cal.host;
    let one = u.threads == 1;
    for l in &cal.levels {
        let _ = writeln!(
            s,
            "\n[[memory]]\nname = {}",
            toml_str(&format!("{}{}", l.name, u.suffix))
        );
        let cap = if one {
            l.capacity_one_bytes
        } else {
            l.capacity_bytes
        };
        let cap_note = if l.name == "dram" {
            "/proc/meminfo MemTotal".to_string()
        } else {
            match h.caches.iter().find(|c| level_name(c.level) == l.name) {
                Some(c) => format!(
                    "/sys/devices/system/cpu/cpu0/cache: L{} {} KiB per instance shared by {} CPU(s); {}",
                    c.level,
                    c.size_bytes / 1024,
                    c.shared_cpus,
                    if one {
                        "one instance as seen from one core".to_string()
                    } else {
                        format!(
                            "{} instance(s) for {} CPUs",
                            cap / c.size_bytes.max(1),
                            h.cpus
                        )
                    }
                ),
                None => "/sys/devices/system/cpu/cpu0/cache".into(),
            }
        };
        if cap == 0 {
            return Err(MeasureError::Calibration(format!(
                "capacity of `{}` unknown (no /proc/meminfo?)",
                l.name
            )));
        }
        let _ = writeln!(
            s,
            "capacity_bytes = {}",
            fig(cap as f64, "source", &cap_note)
        );
        if l.name == "dram" {
            if let Some(av) = h.mem_available {
                let _ = writeln!(
                    s,
                    "usable_bytes = {}",
                    fig(
                        (av as f64).min(cap as f64),
                        "source",
                        &format!(
                            "/proc/meminfo MemAvailable at calibration time ({})",
                            cal.date
                        )
                    )
                );
            }
        }
        let (r1, rn) = l
            .rate(Stream::Read)
            .ok_or_else(|| MeasureError::Calibration("read bandwidth missing".into()))?;
        let read = if one { r1 } else { rn };
        let kernels_note: Vec<String> = l
            .rates
            .iter()
            .map(|(k, a, b)| {
                let r = if one { a } else { b };
                format!(
                    "{} {:.1} GB/s (spread {:.1}%)",
                    k.name(),
                    r.value / 1e9,
                    100.0 * r.summary.spread()
                )
            })
            .collect();
        let _ = writeln!(
            s,
            "bytes_per_s = {}",
            fig(
                read.value,
                "source",
                &format!(
                    "{when}: STREAM-style read (four concurrent streams) of {} KiB per thread on {} thread(s) (AVX2 loads where available), thread CPU time, {}. All kernels (STREAM byte counts): {}",
                    l.working_set_bytes / 1024,
                    u.threads,
                    read.stats(),
                    kernels_note.join("; ")
                )
            )
        );
        let (pj, why) = pj_per_byte(&l.name);
        let _ = writeln!(s, "pj_per_byte = {}", fig(pj, "estimate", why));
    }
    Ok(())
}

/// The hardware file of a calibration, checked by parsing it back.
pub(super) fn to_toml(cal: &Calibration, opts: Options) -> Result<String, MeasureError> {
    let h = &cal.host;
    let n = h.cpus;
    let when = format!(
        "measured by `archscope calibrate{}` on {}",
        if opts.quick { " --quick" } else { "" },
        cal.date
    );
    let mut s = String::new();
    let _ = writeln!(
        s,
        "# This host, described by `archscope calibrate` on {} from microbenchmarks.\n\
         # Every figure carries how it was measured (kernel, threads, clock, median of N samples\n\
         # and their spread) or, for energy, how it was estimated. Generated: do not edit by\n\
         # hand; run `archscope calibrate --force` again instead.\n\
         # Load average at start: {}; at end: {} (on a shared machine, timings vary with it).",
        cal.date, cal.load.0, cal.load.1
    );
    let caches: Vec<String> = h
        .caches
        .iter()
        .map(|c| {
            format!(
                "L{} {} KiB/{} CPUs",
                c.level,
                c.size_bytes / 1024,
                c.shared_cpus
            )
        })
        .collect();
    let _ = writeln!(s, "\n[device]\nname = \"host\"");
    let _ = writeln!(
        s,
        "description = {}",
        toml_str(&format!(
            "This machine: {}, {} logical CPUs, caches {}, {:.1} GiB RAM (calibrated {})",
            h.model,
            n,
            caches.join(", "),
            h.mem_total.unwrap_or(0) as f64 / (1u64 << 30) as f64,
            cal.date
        ))
    );
    let _ = writeln!(s, "default_unit = \"cpu\"");
    let _ = writeln!(
        s,
        "notes = {}",
        toml_str(&format!(
            "Unit `cpu` is all {n} logical CPUs (candle's default: one rayon thread per core); unit `core` is one CPU, with its own view of the memory levels (names ending in -1t: one instance of each private cache, single-thread bandwidths). Microbenchmarks read thread CPU time so that other processes on a shared machine do not count; candle figures read process CPU time on one thread and wall time on several. Load average {} at start, {} at end.",
            cal.load.0, cal.load.1
        ))
    );
    let mut units = Vec::new();
    let all = cal.candle.iter().find(|c| c.threads == n);
    let single = cal
        .candle
        .iter()
        .find(|c| c.threads == 1)
        .ok_or_else(|| MeasureError::Calibration("no one-thread candle figures".into()))?;
    match all {
        Some(c) if n > 1 => {
            units.push(UnitSpec {
                name: "cpu",
                threads: n,
                suffix: "",
                candle: c,
            });
            units.push(UnitSpec {
                name: "core",
                threads: 1,
                suffix: "-1t",
                candle: single,
            });
        }
        _ => units.push(UnitSpec {
            name: "cpu",
            threads: 1,
            suffix: "",
            candle: single,
        }),
    }
    for u in &units {
        write_unit(&mut s, cal, u, &when)?;
    }
    for u in &units {
        write_levels(&mut s, cal, u, &when)?;
    }
    let _ = writeln!(
        s,
        "\n[power]\nstatic_w = {}",
        fig(
            STATIC_WATTS_PER_CORE_ESTIMATE * n as f64,
            "estimate",
            &format!(
                "no power counters here: about {STATIC_WATTS_PER_CORE_ESTIMATE} W per core of package idle and uncore share plus DRAM background"
            )
        )
    );
    // Validate what we wrote.
    Hardware::from_toml_str(&s, "host.toml (generated)")?;
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_strings_escape() {
        assert_eq!(toml_str("a\"b\\c"), "\"a\\\"b\\\\c\"");
        assert_eq!(toml_str("x\ny"), "\"x\\u000Ay\"");
    }
}
