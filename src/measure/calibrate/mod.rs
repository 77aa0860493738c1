//! `archscope calibrate`: describes the host as a hardware file from microbenchmarks.
//!
//! What is measured, each as the median of repeated samples with its spread:
//! * the core clock, from a chain of dependent integer adds (one cycle each);
//! * peak multiply-accumulate throughput per dtype (f32, and int8 where the CPU has dot-product
//!   instructions), on one core and on all cores, with the kernels of [`super::kernels`];
//! * STREAM-style bandwidth (read, copy, triad) with working sets sized to each cache level read
//!   from `/sys/devices/system/cpu/cpu0/cache`, and to DRAM (four times the last-level cache),
//!   on one thread and on all;
//! * of the real backend (candle): the dispatch overhead of a tiny op (`kernel_overhead_s`), the
//!   fraction of the f32 peak a large candle GEMM reaches (`compute_efficiency`), the fraction
//!   of the DRAM read bandwidth a DRAM-sized candle GEMV streams (`bandwidth_efficiency`), and
//!   the rate of candle's `exp` (`special_ops_per_s`), the rate at which a small-M candle GEMM
//!   packs DRAM-resident weights as a fraction of the DRAM read bandwidth
//!   (`pack_bandwidth_efficiency`), and the rate of a serial row reduction
//!   (`serial_reduce_elems_per_s`), and the MAC rate of the backend's depthwise convolution
//!   (`depthwise_macs_per_s`), and the rates of candle's q8_0 and q4_0 matrix products
//!   (`block_quant_ops_per_s`), and per memory level the fraction of its read bandwidth a
//!   candle GEMV of the level's size streams (`level_bandwidth_efficiency`) and the fraction at
//!   which a small-M GEMM packs weights of the level's size (`level_pack_bandwidth_efficiency`),
//!   and the rate at which a GEMV whose input vector fills the first-level cache re-reads it
//!   (`reuse_refetch_bytes_per_s`). Tiny ops, packing GEMMs, the depthwise convolution and the
//!   quantized products run through the measured backend, on the graphs validate runs
//!   ([`super::probe`]).
//!
//! The result is one `cpu` unit using all cores, with the cache levels and DRAM as memory.
//! Energy figures cannot be measured without power counters and are written as estimates.
//! The file is validated with [`Hardware::from_toml_str`](crate::hardware::Hardware::from_toml_str)
//! before it is written, and written atomically (a temporary file, then a link or rename).
//!
//! This module runs the calibration; `host` probes the host, `probes` measures, and `emit`
//! writes the hardware file.

use super::MeasureError;
use super::kernels::{self, Stream, StreamBufs};
use super::timing::{Clock, MeasurePlan, load_average_text};
use crate::util::date::today;
use crate::workload::DType;
use std::path::Path;

mod emit;
mod host;
mod probes;

pub use emit::{CORE_WATTS_ESTIMATE, STATIC_WATTS_PER_CORE_ESTIMATE};
pub use host::{CacheLevel, HostInfo, host_info, parse_cpu_list, parse_size};
pub use probes::{CandleFigures, DEPTHWISE_PROBE, LevelResult, PeakResult, REDUCE_ROW, Rate};

use emit::to_toml;
use host::conflict_stride;
use probes::{
    DEPTH_PROBE_K, GEMV_K, STRIDED_PROBE, candle_figures, clock, level_plan, peak, stream,
};

/// Settings of one calibration.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// Shorter samples and fewer repeats (a few seconds instead of about 30).
    pub quick: bool,
}

impl Options {
    fn plan(&self) -> MeasurePlan {
        if self.quick {
            MeasurePlan {
                warmup: 1,
                repeats: 3,
                min_sample_s: 0.01,
                clock: Clock::ThreadCpu,
            }
        } else {
            MeasurePlan {
                warmup: 1,
                repeats: 7,
                min_sample_s: 0.08,
                clock: Clock::ThreadCpu,
            }
        }
    }
}
/// Everything a calibration measured, and the hardware file written from it.
#[derive(Clone, Debug)]
pub struct Calibration {
    /// Host description.
    pub host: HostInfo,
    /// Date of the run.
    pub date: String,
    /// Clock, Hz (None when the add chain is unavailable on this architecture).
    pub clock: Option<Rate>,
    /// Peak kernels.
    pub peaks: Vec<PeakResult>,
    /// Memory levels, innermost first.
    pub levels: Vec<LevelResult>,
    /// Candle figures on one thread, then on all (when there is more than one CPU).
    pub candle: Vec<CandleFigures>,
    /// The hardware file.
    pub toml: String,
    /// Load average at the start and at the end.
    pub load: (String, String),
}

/// Runs every benchmark and builds the hardware file. `log` receives one line per result.
pub fn run(opts: Options, log: &mut dyn FnMut(String)) -> Result<Calibration, MeasureError> {
    let plan = opts.plan();
    let load_start = load_average_text();
    let host = host_info();
    let date = today();
    log(format!(
        "host: {}, {} logical CPUs, {}; microbenchmarks read thread CPU time",
        host.model, host.cpus, load_start
    ));
    let clock = clock(plan);
    if let Some(c) = clock {
        log(format!("clock: {:.3} GHz ({})", c.value / 1e9, c.stats()));
    }
    let peaks = measure_peaks(&host, plan, log)?;
    let levels = measure_levels(&host, plan, log)?;
    let candle = measure_candle(&host, &levels, opts, plan, log)?;
    let load_end = load_average_text();
    let mut cal = Calibration {
        host,
        date,
        clock,
        peaks,
        levels,
        candle,
        toml: String::new(),
        load: (load_start, load_end),
    };
    cal.toml = to_toml(&cal, opts)?;
    Ok(cal)
}

/// Peak kernels on one core and on all.
fn measure_peaks(
    host: &HostInfo,
    plan: MeasurePlan,
    log: &mut dyn FnMut(String),
) -> Result<Vec<PeakResult>, MeasureError> {
    let mut peaks = Vec::new();
    for k in kernels::peak_kernels() {
        let one = peak(&k, 1, plan)?;
        let all = peak(&k, host.cpus, plan)?;
        log(format!(
            "peak {} [{}]: 1 core {:.1} G/s, {} cores {:.1} G/s ({})",
            k.dtype,
            k.isa,
            one.value / 1e9,
            host.cpus,
            all.value / 1e9,
            all.stats()
        ));
        peaks.push(PeakResult {
            kernel: k,
            one,
            all,
        });
    }
    Ok(peaks)
}

/// STREAM-style bandwidths of each memory level, on one thread and on all.
fn measure_levels(
    host: &HostInfo,
    plan: MeasurePlan,
    log: &mut dyn FnMut(String),
) -> Result<Vec<LevelResult>, MeasureError> {
    let mut levels = Vec::new();
    for lp in level_plan(host) {
        let mut rates = Vec::new();
        for k in Stream::ALL {
            let n = (lp.working_set as usize / (4 * k.arrays())).max(64);
            let mut one = vec![StreamBufs::new(n)];
            let r1 = stream(&mut one, k, plan)?;
            drop(one);
            let mut all: Vec<StreamBufs> = (0..host.cpus).map(|_| StreamBufs::new(n)).collect();
            let rn = stream(&mut all, k, plan)?;
            log(format!(
                "bandwidth {} ({} KiB per thread) {}: 1 thread {:.1} GB/s, {} threads {:.1} GB/s ({})",
                lp.name,
                lp.working_set / 1024,
                k.name(),
                r1.value / 1e9,
                host.cpus,
                rn.value / 1e9,
                rn.stats()
            ));
            rates.push((k, r1, rn));
        }
        levels.push(LevelResult {
            name: lp.name,
            capacity_bytes: lp.capacity_all,
            capacity_one_bytes: lp.capacity_one,
            working_set_bytes: lp.working_set,
            rates,
        });
    }
    Ok(levels)
}

/// The candle figures on one thread, then on all (when there is more than one CPU), with
/// candle's thread count set for each and restored afterwards.
fn measure_candle(
    host: &HostInfo,
    levels: &[LevelResult],
    opts: Options,
    plan: MeasurePlan,
    log: &mut dyn FnMut(String),
) -> Result<Vec<CandleFigures>, MeasureError> {
    let mut candle = Vec::new();
    let mut thread_counts = vec![1];
    if host.cpus > 1 {
        thread_counts.push(host.cpus);
    }
    let saved = std::env::var("RAYON_NUM_THREADS").ok();
    for t in thread_counts {
        // SAFETY: every benchmark thread above has been joined; the only other threads are
        // idle rayon workers, which do not touch the environment between jobs.
        unsafe { crate::measure::backend::set_candle_threads(t) };
        let llc = host
            .caches
            .last()
            .map_or(8 << 20, |c| c.size_bytes as usize);
        let ws: Vec<(String, usize)> = levels
            .iter()
            .map(|l: &LevelResult| (l.name.clone(), l.working_set_bytes as usize))
            .collect();
        let l1 = host
            .caches
            .first()
            .map_or(32 << 10, |c| c.size_bytes as usize);
        let c = candle_figures(t, plan, opts.quick, llc, l1, conflict_stride(host), &ws)?;
        log_candle(&c, t, log);
        candle.push(c);
    }
    // SAFETY: as above.
    unsafe {
        match saved {
            Some(v) => std::env::set_var("RAYON_NUM_THREADS", v),
            None => std::env::remove_var("RAYON_NUM_THREADS"),
        }
    }
    Ok(candle)
}

/// Logs the candle figures measured on `t` threads, one line per figure.
fn log_candle(c: &CandleFigures, t: usize, log: &mut dyn FnMut(String)) {
    for (name, (n, k), t_l) in &c.level_gemv {
        log(format!(
            "candle f32 gemv 1x{n}x{k} ({name}-sized) on {t} thread(s): {:.2} µs = {:.1} GB/s ({})",
            t_l.median * 1e6,
            4.0 * (n * k) as f64 / t_l.median / 1e9,
            c.clock.name()
        ));
    }
    for (name, (n, k), t_p, rate) in c
        .level_pack_bytes_per_s(false)
        .into_iter()
        .chain(c.level_pack_bytes_per_s(true))
    {
        log(format!(
            "candle backend f32 matmul {}x{n}x{k} ({name}-sized weights, rows of {} B) on {t} thread(s): {:.3} ms, weights packed at {:.2} GB/s ({})",
            c.pack_m,
            4 * k,
            t_p.median * 1e3,
            rate / 1e9,
            c.clock.name()
        ));
    }
    {
        let ((n, k), t_r) = &c.refetch_gemv;
        log(format!(
            "candle f32 gemv 1x{n}x{k} (input vector {} KiB, as large as the first-level cache) on {t} thread(s): {:.3} ms; vector re-reads {} ({})",
            4 * k / 1024,
            t_r.median * 1e3,
            match c.refetch_bytes_per_s() {
                Some(r) => format!("at {:.1} GB/s", r / 1e9),
                None => "cost nothing measurable".to_string(),
            },
            c.clock.name()
        ));
    }
    for (n, s) in &c.overheads {
        log(format!(
            "candle {n} on {t} thread(s): {:.2} µs ({})",
            s.median * 1e6,
            c.clock.name()
        ));
    }
    log(format!(
        "candle f32 matmul {n}^3 on {t} thread(s): {:.3} ms = {:.1} GFLOP/s ({})",
        c.gemm.median * 1e3,
        c.gemm_flops() / 1e9,
        c.clock.name(),
        n = c.gemm_n
    ));
    log(format!(
        "candle f32 matmul {n}x{n}x{DEPTH_PROBE_K} on {t} thread(s): {:.3} ms = {:.1} GFLOP/s; depth overhead {} ({})",
        c.shallow.median * 1e3,
        2.0 * (c.gemm_n * c.gemm_n * DEPTH_PROBE_K) as f64 / c.shallow.median / 1e9,
        c.depth_overhead()
            .map_or("none measurable".to_string(), |k0| format!(
                "{k0:.1} MACs per output"
            )),
        c.clock.name(),
        n = c.gemm_n
    ));
    log(format!(
        "candle strided gather (stride-2 view of {}x{}x{} made contiguous) on {t} thread(s): {:.3} ms = {:.2} G elements/s ({})",
        STRIDED_PROBE.0,
        STRIDED_PROBE.1,
        STRIDED_PROBE.1,
        c.strided.median * 1e3,
        c.strided_elems_per_s() / 1e9,
        c.clock.name()
    ));
    log(format!(
        "candle f32 gemv 1x{}x{} on {t} thread(s): {:.3} ms = {:.1} GB/s ({})",
        c.gemv_nk.0,
        c.gemv_nk.1,
        c.gemv.median * 1e3,
        c.gemv_bytes_per_s() / 1e9,
        c.clock.name()
    ));
    log(format!(
        "candle f32 matmul {}x{}x{} on {t} thread(s): {:.3} ms, of which weight packing {:.3} ms = {:.1} GB/s ({})",
        c.pack_m,
        c.gemv_nk.0,
        c.gemv_nk.1,
        c.pack_gemm.median * 1e3,
        c.pack_s() * 1e3,
        c.pack_bytes_per_s() / 1e9,
        c.clock.name()
    ));
    log(format!(
        "candle backend depthwise 3x3 {}ch @{} on {t} thread(s): {:.3} ms = {:.2} G MAC/s ({})",
        c.depthwise.c_in,
        c.depthwise.h,
        c.depthwise_s.median * 1e3,
        c.depthwise_macs_per_s() / 1e9,
        c.clock.name()
    ));
    for (dt, t_q) in &c.block_quant {
        log(format!(
            "candle {} matmul 1x{GEMV_K}x{GEMV_K} on {t} thread(s): {:.3} ms = {:.1} G ops/s ({})",
            if *dt == DType::I4 { "q4_0" } else { "q8_0" },
            t_q.median * 1e3,
            2.0 * (GEMV_K * GEMV_K) as f64 / t_q.median / 1e9,
            c.clock.name()
        ));
    }
    log(format!(
        "serial row reduction of {} elements on {t} thread(s): {:.3} ms = {:.2} G elements/s ({})",
        c.reduce_elems,
        c.reduce.median * 1e3,
        c.reduce_elems_per_s() / 1e9,
        c.clock.name()
    ));
    log(format!(
        "candle f32 exp of {} elements on {t} thread(s): {:.3} ms = {:.2} G/s ({})",
        c.exp_elems,
        c.exp.median * 1e3,
        c.exp_elems as f64 / c.exp.median / 1e9,
        c.clock.name()
    ));
}

/// Writes `text` to `path` atomically, never replacing an existing file without `force` (see
/// [`crate::util::output::write_new`]).
pub fn write_file(path: &Path, text: &str, force: bool) -> Result<(), MeasureError> {
    use crate::util::output::OutputError;
    crate::util::output::write_new(path, text.as_bytes(), force).map_err(|e| match e {
        OutputError::Exists(path) => MeasureError::Exists { path },
        OutputError::Io { path, source } => MeasureError::Io { path, source },
        other => MeasureError::Calibration(other.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::date::civil_date;

    #[test]
    fn civil_dates_by_hand() {
        assert_eq!(civil_date(0), "1970-01-01");
        // 2000-03-01 is day 11017; 2024-02-29 is day 19782
        assert_eq!(civil_date(11_017), "2000-03-01");
        assert_eq!(civil_date(19_782), "2024-02-29");
    }

    #[test]
    fn write_file_refuses_to_clobber() {
        let dir = std::env::temp_dir().join(format!("archscope-cal-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let f = dir.join("host.toml");
        write_file(&f, "a", false).unwrap();
        assert!(matches!(
            write_file(&f, "b", false),
            Err(MeasureError::Exists { .. })
        ));
        assert_eq!(std::fs::read_to_string(&f).unwrap(), "a");
        write_file(&f, "c", true).unwrap();
        assert_eq!(std::fs::read_to_string(&f).unwrap(), "c");
        // no temporary files left behind
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
