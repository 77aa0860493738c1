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
//! The file is validated with [`Hardware::from_toml_str`] before it is written, and written
//! atomically (a temporary file, then a link or rename).

use super::MeasureError;
use super::kernels::{self, PeakKernel, Stream, StreamBufs};
use super::probe;
use super::stats::Summary;
use super::timing::{Clock, Plan, bench, load_average_text};
use crate::hardware::Hardware;
use crate::workload::{DType, OpKind};
use candle_core::{Device, Tensor};
use std::fmt::Write as _;
use std::path::Path;
use std::sync::Barrier;

/// Settings of one calibration.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// Shorter samples and fewer repeats (a few seconds instead of about 30).
    pub quick: bool,
}

impl Options {
    fn plan(&self) -> Plan {
        if self.quick {
            Plan {
                warmup: 1,
                repeats: 3,
                min_sample_s: 0.01,
                clock: Clock::ThreadCpu,
            }
        } else {
            Plan {
                warmup: 1,
                repeats: 7,
                min_sample_s: 0.08,
                clock: Clock::ThreadCpu,
            }
        }
    }
}

/// One data or unified cache level, as `/sys` describes it for cpu0.
#[derive(Clone, Debug, PartialEq)]
pub struct CacheLevel {
    /// 1, 2, 3, ...
    pub level: u32,
    /// Bytes of one instance.
    pub size_bytes: u64,
    /// Logical CPUs sharing one instance.
    pub shared_cpus: usize,
    /// Ways of associativity (`ways_of_associativity`), where `/sys` gives it.
    pub ways: Option<u64>,
}

/// What the host says about itself.
#[derive(Clone, Debug)]
pub struct HostInfo {
    /// CPU model name from `/proc/cpuinfo`.
    pub model: String,
    /// Logical CPUs this process may use.
    pub cpus: usize,
    /// Data and unified caches, innermost first.
    pub caches: Vec<CacheLevel>,
    /// `MemTotal`, bytes.
    pub mem_total: Option<u64>,
    /// `MemAvailable`, bytes.
    pub mem_available: Option<u64>,
    /// `cpu MHz` of the first CPU in `/proc/cpuinfo`.
    pub cpuinfo_mhz: Option<f64>,
}

/// Parses a `/sys` cache size such as `32K`, `1024K` or `32M`.
pub fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let (num, mult) = match s.chars().last()? {
        'K' | 'k' => (&s[..s.len() - 1], 1024),
        'M' | 'm' => (&s[..s.len() - 1], 1024 * 1024),
        'G' | 'g' => (&s[..s.len() - 1], 1024 * 1024 * 1024),
        _ => (s, 1),
    };
    num.trim().parse::<u64>().ok().map(|n| n * mult)
}

/// Counts the CPUs of a `/sys` CPU list such as `0-3,8,10-11`.
pub fn parse_cpu_list(s: &str) -> Option<usize> {
    let mut n = 0;
    for part in s.trim().split(',').filter(|p| !p.is_empty()) {
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (a.parse::<usize>().ok()?, b.parse::<usize>().ok()?);
                if b < a {
                    return None;
                }
                n += b - a + 1;
            }
            None => {
                part.parse::<usize>().ok()?;
                n += 1;
            }
        }
    }
    (n > 0).then_some(n)
}

fn read(path: &str) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

fn meminfo(field: &str) -> Option<u64> {
    let text = read("/proc/meminfo")?;
    let line = text.lines().find(|l| l.starts_with(field))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Reads the host description from `/proc` and `/sys` (empty fields where they are absent).
pub fn host_info() -> HostInfo {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let cpuinfo = read("/proc/cpuinfo").unwrap_or_default();
    let field = |name: &str| {
        cpuinfo
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_once(':'))
            .map(|(_, v)| v.trim().to_string())
    };
    let model = field("model name")
        .or_else(|| field("Model"))
        .or_else(|| field("CPU part").map(|p| format!("CPU part {p}")))
        .unwrap_or_else(|| std::env::consts::ARCH.to_string());
    let mut caches = Vec::new();
    for i in 0..16 {
        let dir = format!("/sys/devices/system/cpu/cpu0/cache/index{i}");
        let Some(kind) = read(&format!("{dir}/type")) else {
            continue;
        };
        if kind.trim() == "Instruction" {
            continue;
        }
        let level = read(&format!("{dir}/level")).and_then(|s| s.trim().parse().ok());
        let size = read(&format!("{dir}/size")).and_then(|s| parse_size(&s));
        let ways = read(&format!("{dir}/ways_of_associativity"))
            .and_then(|s| s.trim().parse().ok())
            .filter(|&w| w > 0);
        let shared = read(&format!("{dir}/shared_cpu_list"))
            .and_then(|s| parse_cpu_list(&s))
            .unwrap_or(1);
        if let (Some(level), Some(size_bytes)) = (level, size) {
            caches.push(CacheLevel {
                level,
                size_bytes,
                shared_cpus: shared,
                ways,
            });
        }
    }
    caches.sort_by_key(|c| c.level);
    HostInfo {
        model,
        cpus,
        caches,
        mem_total: meminfo("MemTotal:"),
        mem_available: meminfo("MemAvailable:"),
        cpuinfo_mhz: field("cpu MHz").and_then(|s| s.parse().ok()),
    }
}

/// Today's date (UTC) as `YYYY-MM-DD`, from the system clock.
pub fn today() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    civil_date((secs / 86_400) as i64)
}

/// Days since 1970-01-01 to `YYYY-MM-DD` (proleptic Gregorian; H. Hinnant's algorithm).
pub fn civil_date(days: i64) -> String {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Runs `f` on one thread per item, all released together; returns the longest thread time
/// as read by `clock` inside each thread.
fn timed_threads<T: Send>(items: &mut [T], clock: Clock, f: impl Fn(&mut T) + Sync) -> f64 {
    let barrier = Barrier::new(items.len());
    std::thread::scope(|s| {
        let handles: Vec<_> = items
            .iter_mut()
            .map(|it| {
                let (barrier, f) = (&barrier, &f);
                s.spawn(move || {
                    barrier.wait();
                    let t = clock.now();
                    f(it);
                    clock.now() - t
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("benchmark thread panicked"))
            .fold(0.0, f64::max)
    })
}

/// A measured rate (ops/s or bytes/s) with the statistics of its samples.
#[derive(Clone, Copy, Debug)]
pub struct Rate {
    /// Median rate.
    pub value: f64,
    /// Statistics of the per-sample rates.
    pub summary: Summary,
}

impl Rate {
    fn from_samples(rates: &[f64]) -> Result<Rate, MeasureError> {
        let summary = Summary::of(rates).ok_or_else(|| {
            MeasureError::Calibration("a benchmark produced no finite sample".into())
        })?;
        Ok(Rate {
            value: summary.median,
            summary,
        })
    }

    fn stats(&self) -> String {
        format!(
            "median of {} samples, spread (max-min)/median {:.1}%",
            self.summary.n,
            100.0 * self.summary.spread()
        )
    }
}

/// Peak of one kernel on one core and on all cores.
#[derive(Clone, Debug)]
pub struct PeakResult {
    /// The kernel.
    pub kernel: PeakKernel,
    /// One thread.
    pub one: Rate,
    /// One thread per logical CPU.
    pub all: Rate,
}

/// Bandwidth of one memory level.
#[derive(Clone, Debug)]
pub struct LevelResult {
    /// Name in the hardware file (`l1d`, `l2`, `l3`, `dram`).
    pub name: String,
    /// Capacity reachable by all CPUs (all instances), bytes.
    pub capacity_bytes: u64,
    /// Capacity reachable by one CPU (one instance), bytes.
    pub capacity_one_bytes: u64,
    /// Working set per thread, bytes.
    pub working_set_bytes: u64,
    /// (kernel, one thread, all threads).
    pub rates: Vec<(Stream, Rate, Rate)>,
}

impl LevelResult {
    /// The (one-thread, all-thread) rates of a kernel.
    pub fn rate(&self, k: Stream) -> Option<(Rate, Rate)> {
        self.rates.iter().find(|r| r.0 == k).map(|r| (r.1, r.2))
    }
}

/// Figures of the real backend (candle) with a given number of threads.
#[derive(Clone, Debug)]
pub struct CandleFigures {
    /// Threads of the rayon pool the ops ran in.
    pub threads: usize,
    /// Clock read.
    pub clock: Clock,
    /// Tiny ops: (name, seconds per call).
    pub overheads: Vec<(String, Summary)>,
    /// The kernel overhead written (median of the tiny ops), seconds.
    pub overhead_s: f64,
    /// m = n = k of the GEMM used for the compute efficiency.
    pub gemm_n: usize,
    /// Seconds per GEMM.
    pub gemm: Summary,
    /// Seconds per GEMM of the same side and depth [`DEPTH_PROBE_K`].
    pub shallow: Summary,
    /// Seconds per contiguous copy of the stride-2 view of [`STRIDED_PROBE`].
    pub strided: Summary,
    /// (n, k) of the DRAM-sized f32 GEMV used for the bandwidth efficiency.
    pub gemv_nk: (usize, usize),
    /// Seconds per GEMV.
    pub gemv: Summary,
    /// Elements of the `exp` used for the transcendental rate.
    pub exp_elems: usize,
    /// Seconds per `exp`.
    pub exp: Summary,
    /// Rows of the small-M GEMM over the GEMV's weights that gives the packing efficiency.
    pub pack_m: usize,
    /// Seconds per small-M GEMM.
    pub pack_gemm: Summary,
    /// Elements of the serial row reduction (rows of [`REDUCE_ROW`]).
    pub reduce_elems: usize,
    /// Seconds per serial row reduction.
    pub reduce: Summary,
    /// Per memory level: its name, the `[n, k]` f32 GEMV whose weights fill the level's
    /// working set, and its seconds per call.
    pub level_gemv: Vec<(String, (usize, usize), Summary)>,
    /// Per memory level: its name, the `[n, k]` f32 weights (rows a power of two long) of a
    /// [`PACK_M`]-row GEMM that fill the level's working set, and its seconds per call.
    pub level_pack: Vec<(String, (usize, usize), Summary)>,
    /// The same with rows a multiple of the first level's set stride long (levels that hold
    /// enough such rows).
    pub level_pack_conflict: Vec<(String, (usize, usize), Summary)>,
    /// The `[n, k]` of a DRAM-sized f32 GEMV as large as the bandwidth one whose input vector
    /// alone fills a core's first-level cache, and its seconds per call.
    pub refetch_gemv: ((usize, usize), Summary),
    /// Seconds that GEMV took beyond the bandwidth GEMV, sample by sample: the two alternate,
    /// one sample each in turn, so that a shared machine's drifting DRAM bandwidth cancels.
    pub refetch_extra: Summary,
    /// Seconds per 1 x 2048 x 2048 product (Llama-3.2-1B's hidden size) over q8_0 and q4_0
    /// weights, by weight dtype.
    pub block_quant: Vec<(DType, Summary)>,
    /// The depthwise convolution timed on the backend.
    pub depthwise: crate::workload::Conv2d,
    /// Seconds per depthwise convolution.
    pub depthwise_s: Summary,
}

impl CandleFigures {
    /// Seconds the small-M GEMM spends beyond its FLOPs at the large GEMM's rate: the time
    /// of packing its `[n, k]` weights (at least 1 % of the run, so the ratio stays finite).
    pub fn pack_s(&self) -> f64 {
        let (n, k) = self.gemv_nk;
        let flops = 2.0 * (self.pack_m * n * k) as f64;
        (self.pack_gemm.median - flops / self.gemm_flops()).max(0.01 * self.pack_gemm.median)
    }

    /// Weight bytes per second the small-M GEMM packs.
    pub fn pack_bytes_per_s(&self) -> f64 {
        (4 * self.gemv_nk.0 * self.gemv_nk.1) as f64 / self.pack_s()
    }

    /// Per level: name, shape, and the bytes per second its GEMM packs the weights at (time
    /// beyond its FLOPs at the large GEMM's rate and the kernel overhead, at least 1 % of it).
    pub fn level_pack_bytes_per_s(
        &self,
        conflict: bool,
    ) -> Vec<(&str, (usize, usize), &Summary, f64)> {
        match conflict {
            true => &self.level_pack_conflict,
            false => &self.level_pack,
        }
        .iter()
        .map(|(name, (n, k), t)| {
            let flops = 2.0 * (self.pack_m * n * k) as f64;
            let s = (t.median - flops / self.gemm_flops() - self.overhead_s).max(0.01 * t.median);
            (name.as_str(), (*n, *k), t, (4 * n * k) as f64 / s)
        })
        .collect()
    }

    /// Bytes per second at which the long-row GEMV re-reads its input vector: the vector
    /// bytes it reads once per output (`n · k · 4`) over its time beyond the bandwidth GEMV's
    /// (same weight bytes, a vector that stays in the first level). `None` when it took no
    /// longer.
    pub fn refetch_bytes_per_s(&self) -> Option<f64> {
        let ((n, k), _) = &self.refetch_gemv;
        let extra = self.refetch_extra.median;
        (extra > 0.0).then(|| (4 * n * k) as f64 / extra)
    }

    /// MACs per second of the depthwise convolution.
    pub fn depthwise_macs_per_s(&self) -> f64 {
        self.depthwise.macs() / self.depthwise_s.median
    }

    /// Elements per second of the serial row reduction.
    pub fn reduce_elems_per_s(&self) -> f64 {
        self.reduce_elems as f64 / self.reduce.median
    }

    /// The depth overhead of a GEMM pass, in multiply-accumulates per output: the shallow
    /// GEMM runs at `K / (K + K0)` of the deep one's rate, so `K0 = K · (rate / shallow − 1)`.
    /// `None` when it ran no slower.
    pub fn depth_overhead(&self) -> Option<f64> {
        let shallow =
            2.0 * (self.gemm_n * self.gemm_n * DEPTH_PROBE_K) as f64 / self.shallow.median;
        let k0 = DEPTH_PROBE_K as f64 * (self.gemm_flops() / shallow - 1.0);
        (k0 > 0.0).then_some(k0)
    }

    /// Elements per second of the strided gather (the stride-2 view's elements over its copy
    /// time beyond the kernel overhead).
    pub fn strided_elems_per_s(&self) -> f64 {
        let (c, h) = STRIDED_PROBE;
        let t = (self.strided.median - self.overhead_s).max(0.5 * self.strided.median);
        (c * (h / 2) * (h / 2)) as f64 / t
    }

    /// FLOP/s of the GEMM.
    pub fn gemm_flops(&self) -> f64 {
        2.0 * (self.gemm_n as f64).powi(3) / self.gemm.median
    }

    /// Bytes per second the GEMV streams (weights, input and output, f32).
    pub fn gemv_bytes_per_s(&self) -> f64 {
        let (n, k) = self.gemv_nk;
        4.0 * (n * k + n + k) as f64 / self.gemv.median
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

fn peak(k: &PeakKernel, threads: usize, plan: Plan) -> Result<Rate, MeasureError> {
    // Size one sample from a short single-thread run.
    let probe = 20_000u64;
    let t = Clock::ThreadCpu.now();
    std::hint::black_box((k.run)(probe));
    let per_iter = (Clock::ThreadCpu.now() - t).max(1e-9) / probe as f64;
    let iters = ((plan.min_sample_s / per_iter).ceil() as u64).max(probe);
    let mut rates = Vec::new();
    for i in 0..plan.warmup + plan.repeats {
        let mut items = vec![0.0f64; threads];
        let run = k.run;
        let dt = timed_threads(&mut items, Clock::ThreadCpu, |x| {
            *x = std::hint::black_box(run(iters))
        });
        if i >= plan.warmup {
            rates.push(threads as f64 * iters as f64 * k.ops_per_iter / dt);
        }
    }
    Rate::from_samples(&rates)
}

fn stream(bufs: &mut [StreamBufs], k: Stream, plan: Plan) -> Result<Rate, MeasureError> {
    let t = Clock::ThreadCpu.now();
    std::hint::black_box(bufs[0].pass(k));
    let per_pass = (Clock::ThreadCpu.now() - t).max(1e-9);
    let passes = ((plan.min_sample_s / per_pass).ceil() as usize).max(1);
    let bytes = bufs.len() as f64 * passes as f64 * bufs[0].len() as f64 * k.bytes_per_elem();
    let mut rates = Vec::new();
    for i in 0..plan.warmup + plan.repeats {
        let dt = timed_threads(bufs, Clock::ThreadCpu, |b| {
            for _ in 0..passes {
                std::hint::black_box(b.pass(k));
            }
        });
        if i >= plan.warmup {
            rates.push(bytes / dt);
        }
    }
    Rate::from_samples(&rates)
}

fn clock(plan: Plan) -> Option<Rate> {
    let c = Clock::ThreadCpu;
    let probe = 100_000u64;
    let t = c.now();
    std::hint::black_box(kernels::add_chain(probe)?);
    let per = (c.now() - t).max(1e-9) / probe as f64;
    let n = ((plan.min_sample_s / per).ceil() as u64).max(probe);
    let mut rates = Vec::new();
    for i in 0..plan.warmup + plan.repeats {
        let t = c.now();
        std::hint::black_box(kernels::add_chain(n)?);
        let dt = c.now() - t;
        if i >= plan.warmup {
            rates.push((n * kernels::ADDS_PER_BLOCK) as f64 / dt);
        }
    }
    Rate::from_samples(&rates).ok()
}

/// One memory level to measure.
struct LevelPlan {
    name: String,
    capacity_all: u64,
    capacity_one: u64,
    working_set: u64,
}

/// Memory levels: each data/unified cache (capacity summed over the instances all CPUs use, and
/// one instance for one CPU), then DRAM. Working sets per thread are half of a thread's share of
/// the level; DRAM's is four times the last-level cache in total, at least 64 MiB.
fn level_plan(host: &HostInfo) -> Vec<LevelPlan> {
    let n = host.cpus as u64;
    let mut out = Vec::new();
    let mut prev_share = 0u64;
    for c in &host.caches {
        let instances = n.div_ceil(c.shared_cpus.max(1) as u64).max(1);
        let capacity = c.size_bytes * instances;
        let share = capacity / n;
        let ws = share / 2;
        if ws <= prev_share {
            continue; // not distinguishable from the level inside it
        }
        prev_share = share;
        out.push(LevelPlan {
            name: level_name(c.level),
            capacity_all: capacity,
            capacity_one: c.size_bytes,
            working_set: ws,
        });
    }
    let last = host.caches.last().map_or(8 << 20, |c| c.size_bytes);
    let mem = host.mem_total.unwrap_or(0);
    out.push(LevelPlan {
        name: "dram".into(),
        capacity_all: mem,
        capacity_one: mem,
        working_set: (4 * last).max(64 << 20) / n,
    });
    out
}

fn level_name(level: u32) -> String {
    if level == 1 {
        "l1d".into()
    } else {
        format!("l{level}")
    }
}

/// Channels and side of the input whose stride-2 view `strided_gather_elems_per_s` copies:
/// MobileNetV2 block 2's depthwise convolution, 96 channels at 112×112 with stride 2 (Sandler
/// et al. 2018, Table 2).
const STRIDED_PROBE: (usize, usize) = (96, 112);
/// Depth of the shallow GEMM that gives `gemm_depth_overhead`: 16, the input channels of
/// MobileNetV2's narrowest 1×1 convolution (block 2's expansion, 16 → 96; Sandler et al. 2018,
/// Table 2).
const DEPTH_PROBE_K: usize = 16;
/// Smallest side of the GEMM whose throughput gives `compute_efficiency`.
const GEMM_N_QUICK: usize = 512;
/// Side of the GEMM whose throughput gives `compute_efficiency` (2.1 GFLOP, about 10-100 ms on
/// one core: large enough to reach the kernel's steady state).
const GEMM_N: usize = 1024;
/// Smallest multiple of the last-level cache the GEMV of `bandwidth_efficiency` streams, so that
/// its weights come from DRAM on every call.
const GEMV_LLC_MULTIPLE: usize = 4;
/// Elements of the candle `exp` whose rate gives `special_ops_per_s` (4 MiB of f32: an L3-sized
/// operand, so the rate is that of the math routine, not of DRAM).
const EXP_ELEMS: usize = 1 << 20;
/// The depthwise convolution whose rate gives `depthwise_macs_per_s`: MobileNetV2's block 3
/// (3×3, 144 channels at 56×56, stride 1; Sandler et al. 2018, Table 2), a mid-network layer
/// of the most common depthwise network, run by the backend as the measured CNNs run it.
pub const DEPTHWISE_PROBE: crate::workload::Conv2d = crate::workload::Conv2d {
    n: 1,
    c_in: 144,
    h: 56,
    w: 56,
    c_out: 144,
    kh: 3,
    kw: 3,
    stride: (1, 1),
    pad: (1, 1),
    dilation: (1, 1),
    groups: 144,
};
/// Rows of the GEMM that measures weight packing: few enough that packing the DRAM-sized
/// weights dominates (an LLM prefill chunk or a small batch), more than one so that the
/// kernel packs (a GEMV streams its weights instead).
const PACK_M: usize = 8;
/// Row length of the serial reduction benchmark: 2048, Llama-3.2-1B's hidden size, the rows
/// its RMSNorms reduce.
pub const REDUCE_ROW: usize = 2048;
/// Rows of the serial reduction benchmark (64 × 2048 f32 = 512 KiB, L2-sized: the rate is that
/// of the accumulator chain, not of memory).
const REDUCE_ROWS: usize = 64;
/// Row length of that GEMV: 2048, the hidden size of Llama-3.2-1B and TinyLlama, whose
/// q/k/v/gate/up projections are GEMVs over rows of this length in decode.
const GEMV_K: usize = 2048;

/// Shape `[n, k]` of an f32 GEMV weight of about `bytes`: rows of at most [`GEMV_K`], about
/// square below that, a multiple of 16 long.
fn gemv_shape(bytes: usize) -> (usize, usize) {
    let elems = (bytes / 4).max(256);
    let k = (((elems as f64).sqrt() as usize) / 16 * 16).clamp(16, GEMV_K);
    (elems / k, k)
}

/// Rows a conflicting packing probe needs at least: a few of the kernel's row panels, so that
/// it is timed packing, not setting up.
const PACK_CONFLICT_MIN_ROWS: usize = 64;

/// Shape `[n, k]` of the f32 weights of about `bytes` that the packing GEMM multiplies: about
/// square, rows at most [`GEMV_K`], a multiple of 16 long and not a multiple of the conflict
/// `stride` (bytes) long, so that the rows of a panel spread over the first level's sets.
fn pack_shape(bytes: usize, stride: Option<usize>) -> (usize, usize) {
    let elems = (bytes / 4).max(256);
    let mut k = (((elems as f64).sqrt() as usize) / 16 * 16).clamp(32, GEMV_K);
    if stride.is_some_and(|s| (4 * k).is_multiple_of(s)) {
        k -= 16;
    }
    (elems / k, k)
}

/// Shape `[n, k]` of the f32 weights of about `bytes` whose rows conflict: [`GEMV_K`] (the
/// hidden size of Llama-3.2-1B and TinyLlama) rounded up to a multiple of the conflict
/// stride, as long as the level holds [`PACK_CONFLICT_MIN_ROWS`] such rows.
fn pack_conflict_shape(bytes: usize, stride: usize) -> Option<(usize, usize)> {
    let k = (4 * GEMV_K).div_ceil(stride) * stride / 4;
    let n = bytes / (4 * k);
    (k > 0 && n >= PACK_CONFLICT_MIN_ROWS).then_some((n, k))
}

/// The first-level cache's set stride, bytes (its capacity over its ways), where `/sys` gives
/// both: rows that many bytes apart share its sets.
fn conflict_stride(host: &HostInfo) -> Option<usize> {
    let l1 = host.caches.first()?;
    Some((l1.size_bytes / l1.ways?) as usize).filter(|&s| s > 0)
}

fn summary(samples: &[f64]) -> Result<Summary, MeasureError> {
    Summary::of(samples).ok_or_else(|| MeasureError::Calibration("no finite samples".into()))
}

fn candle_figures(
    threads: usize,
    plan: Plan,
    quick: bool,
    llc_bytes: usize,
    l1_bytes: usize,
    conflict_stride: Option<usize>,
    levels: &[(String, usize)],
) -> Result<CandleFigures, MeasureError> {
    let clock = if threads == 1 {
        Clock::ProcessCpu
    } else {
        Clock::Wall
    };
    let plan = plan.with_clock(clock);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| MeasureError::Calibration(format!("cannot start {threads} threads: {e}")))?;
    // A side whose rows are not a multiple of the L1 set stride: the compute efficiency is the
    // micro-kernel's, and rows that conflict are priced apart (level_pack_conflict_*).
    let gemm_n = match (if quick { GEMM_N_QUICK } else { GEMM_N }, conflict_stride) {
        (n, Some(s)) if (4 * n).is_multiple_of(s) => n + 16,
        (n, _) => n,
    };
    pool.install(|| -> Result<CandleFigures, MeasureError> {
        let dev = Device::Cpu;
        // The dispatch cost of a tiny op as the backend runs validate's graphs (candle's own
        // per-call cost plus the backend's bookkeeping of operands and results).
        let backend = super::backend::CandleBackend::new(threads)?;
        let tiny = Plan {
            min_sample_s: plan.min_sample_s / 4.0,
            ..plan
        };
        let f32s = crate::workload::Storage::plain(DType::F32);
        let tiny_ops = [
            (
                "add 1x1",
                probe::op_graph(
                    OpKind::Elementwise {
                        op: crate::workload::EltOp::Add,
                        elems: 1,
                    },
                    &[1, 1],
                    &[],
                    2,
                ),
            ),
            (
                "matmul 1x1x1",
                probe::matmul_graph(1, 1, 1, f32s, DType::F32),
            ),
            (
                "softmax 1x1",
                probe::op_graph(OpKind::Softmax { rows: 1, cols: 1 }, &[1, 1], &[], 1),
            ),
            (
                "rms_norm 1x1",
                probe::op_graph(
                    OpKind::Norm {
                        kind: crate::workload::NormKind::RmsNorm,
                        rows: 1,
                        cols: 1,
                    },
                    &[1, 1],
                    &[&[1]],
                    1,
                ),
            ),
        ];
        let mut overheads = Vec::new();
        for (name, g) in &tiny_ops {
            overheads.push((name.to_string(), backend.measure(g, tiny, false)?.total));
        }
        let overhead_s = crate::measure::stats::median(
            &overheads.iter().map(|(_, s)| s.median).collect::<Vec<_>>(),
        )
        .unwrap_or(0.0);
        let x = Tensor::randn(0f32, 1.0, (gemm_n, gemm_n), &dev)?;
        let w = Tensor::randn(0f32, 1.0, (gemm_n, gemm_n), &dev)?;
        let gemm = bench(plan, || x.matmul(&w.t()?).map(|_| ()))?;
        drop((x, w));
        // The same GEMM with a short depth: its slowdown gives the cost of a kernel pass.
        let xs = Tensor::randn(0f32, 1.0, (gemm_n, DEPTH_PROBE_K), &dev)?;
        let ws = Tensor::randn(0f32, 1.0, (gemm_n, DEPTH_PROBE_K), &dev)?;
        let shallow = bench(plan, || xs.matmul(&ws.t()?).map(|_| ()))?;
        drop((xs, ws));
        // GEMV over an [n, k] f32 weight of at least GEMV_LLC_MULTIPLE x the LLC, with rows
        // as long as an LLM's hidden size (GEMV_K).
        let k = GEMV_K;
        let n = (GEMV_LLC_MULTIPLE * llc_bytes / (4 * k)).clamp(1024, 65_536);
        let v = Tensor::randn(0f32, 1.0, (1, k), &dev)?;
        let w = Tensor::randn(0f32, 1.0, (n, k), &dev)?;
        let gemv = bench(plan, || v.matmul(&w.t()?).map(|_| ()))?;
        // A GEMV whose weights fill each level's benchmark working set (per thread).
        let mut level_gemv = Vec::new();
        for (name, ws) in levels {
            let (ln, lk) = gemv_shape(ws * threads);
            let lv = Tensor::randn(0f32, 1.0, (1, lk), &dev)?;
            let lw = Tensor::randn(0f32, 1.0, (ln, lk), &dev)?;
            let t_l = bench(plan, || lv.matmul(&lw.t()?).map(|_| ()))?;
            level_gemv.push((name.clone(), (ln, lk), t_l));
        }
        // A small-M GEMM whose weights fill each level's working set: its packing rate from
        // that level.
        let mut level_pack = Vec::new();
        let mut level_pack_conflict = Vec::new();
        for (name, ws) in levels {
            let pack = |(pn, pk): (usize, usize)| -> Result<Summary, MeasureError> {
                let g = probe::matmul_graph(PACK_M as u64, pn as u64, pk as u64, f32s, DType::F32);
                Ok(backend.measure(&g, plan, false)?.total)
            };
            let shape = pack_shape(ws * threads, conflict_stride);
            level_pack.push((name.clone(), shape, pack(shape)?));
            if let Some(shape) = conflict_stride.and_then(|s| pack_conflict_shape(ws * threads, s))
            {
                level_pack_conflict.push((name.clone(), shape, pack(shape)?));
            }
        }
        // The bandwidth GEMV's weight bytes in rows whose input vector alone fills a core's
        // first-level cache: the vector is re-read for every output.
        // The two alternate, one sample each, and the difference is taken sample by sample.
        let rk = (l1_bytes / 4).next_power_of_two().max(2 * GEMV_K);
        let rn = (n * k / rk).max(1);
        let rv = Tensor::randn(0f32, 1.0, (1, rk), &dev)?;
        let rw = Tensor::randn(0f32, 1.0, (rn, rk), &dev)?;
        let one = Plan { repeats: 1, ..plan };
        let (mut long, mut extra) = (Vec::new(), Vec::new());
        for _ in 0..plan.repeats.max(1) {
            let t_long = bench(one, || rv.matmul(&rw.t()?).map(|_| ()))?.median;
            let t_short = bench(one, || v.matmul(&w.t()?).map(|_| ()))?.median;
            long.push(t_long);
            extra.push(t_long - t_short * (rn * rk) as f64 / (n * k) as f64);
        }
        let refetch_gemv = ((rn, rk), summary(&long)?);
        let refetch_extra = summary(&extra)?;
        drop((rv, rw));
        let xs = Tensor::randn(0f32, 1.0, (PACK_M, k), &dev)?;
        let pack_gemm = bench(plan, || xs.matmul(&w.t()?).map(|_| ()))?;
        drop((v, w, xs));
        // Row sums of squares with one accumulator per row, rows spread over the pool's
        // threads: the loop candle-nn's RMSNorm runs (Rust does not reassociate float sums, so
        // each row is one chain of dependent adds).
        let rows: Vec<f32> = (0..REDUCE_ROWS * REDUCE_ROW)
            .map(|i| (i % 7) as f32 * 0.25)
            .collect();
        let reduce = bench(plan, || -> Result<(), MeasureError> {
            use rayon::prelude::*;
            let s: f32 = rows
                .par_chunks(REDUCE_ROW)
                .map(kernels::serial_sum_of_squares)
                .sum();
            std::hint::black_box(s);
            Ok(())
        })?;
        let depthwise_s = backend
            .measure(&probe::conv_graph(DEPTHWISE_PROBE), plan, false)?
            .total;
        // Decode-shaped products over q8_0 and q4_0 weights, run by the backend as validate
        // runs them (candle's QMatMul; its speed has been seen to depend on where the kernel
        // is instantiated, so it is measured through the same code).
        let mut block_quant = Vec::new();
        for dt in [DType::I8, DType::I4] {
            let wq = crate::workload::Storage {
                dtype: dt,
                group: Some(crate::workload::QuantGroup {
                    size: super::backend::GGML_BLOCK,
                    scale_bits: 16,
                    zero_bits: 0,
                }),
            };
            let kk = GEMV_K as u64;
            let g = probe::matmul_graph(1, kk, kk, wq, DType::I8);
            block_quant.push((dt, backend.measure(&g, plan, false)?.total));
        }
        // A stride-2 view of MobileNetV2 block 2's depthwise input, made contiguous: the gather
        // a strided convolution's lowering does.
        let (sc, sh) = STRIDED_PROBE;
        let sx = Tensor::randn(0f32, 1.0, (1, sc, sh, sh), &dev)?;
        let strided = bench(plan, || {
            sx.reshape((1, sc, sh / 2, 2, sh / 2, 2))?
                .narrow(3, 0, 1)?
                .narrow(5, 0, 1)?
                .squeeze(5)?
                .squeeze(3)?
                .contiguous()
                .map(|_| ())
        })?;
        drop(sx);
        let e = Tensor::randn(0f32, 1.0, EXP_ELEMS, &dev)?;
        let exp = bench(plan, || e.exp().map(|_| ()))?;
        Ok(CandleFigures {
            exp_elems: EXP_ELEMS,
            exp,
            threads,
            clock,
            overheads,
            overhead_s,
            gemm_n,
            gemm,
            shallow,
            strided,
            gemv_nk: (n, k),
            gemv,
            pack_m: PACK_M,
            pack_gemm,
            reduce_elems: REDUCE_ROWS * REDUCE_ROW,
            reduce,
            depthwise: DEPTHWISE_PROBE,
            depthwise_s,
            block_quant,
            level_gemv,
            level_pack,
            level_pack_conflict,
            refetch_gemv,
            refetch_extra,
        })
    })
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
    let mut levels = Vec::new();
    for lp in level_plan(&host) {
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
        let c = candle_figures(t, plan, opts.quick, llc, l1, conflict_stride(&host), &ws)?;
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
        candle.push(c);
    }
    // SAFETY: as above.
    unsafe {
        match saved {
            Some(v) => std::env::set_var("RAYON_NUM_THREADS", v),
            None => std::env::remove_var("RAYON_NUM_THREADS"),
        }
    }
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

fn write_unit(
    s: &mut String,
    cal: &Calibration,
    u: &UnitSpec,
    when: &str,
) -> Result<(), MeasureError> {
    let h = &cal.host;
    let one = u.threads == 1;
    let one_thread = one;
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
    let best = best_peaks(cal, one);
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
    let _ = writeln!(s, "\n[unit.peak_ops_per_s]");
    for (p, r) in &best {
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
    let _ = writeln!(s, "\n[unit.pj_per_op]");
    for (p, _) in &best {
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
    let _ = writeln!(s, "\n[unit.params]\nthreads = {}", u.threads);
    Ok(())
}

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

fn to_toml(cal: &Calibration, opts: Options) -> Result<String, MeasureError> {
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

/// Writes `text` to `path` atomically: into a temporary file in the same directory first, then
/// linked into place (never replacing an existing file) or, with `force`, renamed over it.
pub fn write_file(path: &Path, text: &str, force: bool) -> Result<(), MeasureError> {
    let io = |source: std::io::Error| MeasureError::Io {
        path: path.display().to_string(),
        source,
    };
    if !force && path.exists() {
        return Err(MeasureError::Exists {
            path: path.display().to_string(),
        });
    }
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(io)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "host.toml".into());
    let tmp = dir.join(format!(".{name}.tmp.{}", std::process::id()));
    let result = (|| {
        std::fs::write(&tmp, text)?;
        if force {
            std::fs::rename(&tmp, path)
        } else {
            // hard_link fails if the destination appeared meanwhile: no clobbering.
            std::fs::hard_link(&tmp, path).and_then(|_| std::fs::remove_file(&tmp))
        }
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            return Err(MeasureError::Exists {
                path: path.display().to_string(),
            });
        }
        return Err(io(e));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sys_formats() {
        assert_eq!(parse_size("32K\n"), Some(32 * 1024));
        assert_eq!(parse_size("32M"), Some(32 << 20));
        assert_eq!(parse_size("512"), Some(512));
        assert_eq!(parse_size("x"), None);
        assert_eq!(parse_cpu_list("0-1\n"), Some(2));
        assert_eq!(parse_cpu_list("0-3,8,10-11"), Some(7));
        assert_eq!(parse_cpu_list("3-1"), None);
    }

    #[test]
    fn civil_dates_by_hand() {
        assert_eq!(civil_date(0), "1970-01-01");
        // 2000-03-01 is day 11017; 2024-02-29 is day 19782
        assert_eq!(civil_date(11_017), "2000-03-01");
        assert_eq!(civil_date(19_782), "2024-02-29");
    }

    #[test]
    fn toml_strings_escape() {
        assert_eq!(toml_str("a\"b\\c"), "\"a\\\"b\\\\c\"");
        assert_eq!(toml_str("x\ny"), "\"x\\u000Ay\"");
    }

    #[test]
    fn levels_from_caches() {
        let host = HostInfo {
            model: "test".into(),
            cpus: 2,
            caches: vec![
                CacheLevel {
                    level: 1,
                    size_bytes: 32 << 10,
                    shared_cpus: 1,
                    ways: Some(8),
                },
                CacheLevel {
                    level: 2,
                    size_bytes: 1 << 20,
                    shared_cpus: 1,
                    ways: Some(8),
                },
                CacheLevel {
                    level: 3,
                    size_bytes: 32 << 20,
                    shared_cpus: 2,
                    ways: Some(8),
                },
            ],
            mem_total: Some(1 << 34),
            mem_available: None,
            cpuinfo_mhz: None,
        };
        let p = level_plan(&host);
        let names: Vec<&str> = p.iter().map(|x| x.name.as_str()).collect();
        assert_eq!(names, ["l1d", "l2", "l3", "dram"]);
        // two private L1s: 64 KiB for both CPUs, 32 KiB for one, 16 KiB working set per thread
        assert_eq!(
            (p[0].capacity_all, p[0].capacity_one, p[0].working_set),
            (64 << 10, 32 << 10, 16 << 10)
        );
        // one shared L3: 32 MiB for one or both CPUs, 8 MiB per thread
        assert_eq!(
            (p[2].capacity_all, p[2].capacity_one, p[2].working_set),
            (32 << 20, 32 << 20, 8 << 20)
        );
        // DRAM: 4 x 32 MiB over 2 threads
        assert_eq!(p[3].working_set, 64 << 20);
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
