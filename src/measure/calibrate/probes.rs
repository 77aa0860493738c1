//! The measurements of a calibration: the core clock, peak kernels and STREAM-style
//! bandwidths timed on one thread and on all, and the figures of the real backend (candle),
//! each as the statistics of repeated samples.

use super::MeasureError;
use super::host::HostInfo;
use super::host::level_name;
use crate::measure::backend::CandleBackend;
use crate::measure::kernels::{self, PeakKernel, Stream, StreamBufs};
use crate::measure::probe;
use crate::measure::stats::Summary;
use crate::measure::timing::{Clock, MeasurePlan, bench};
use crate::workload::{DType, OpKind};
use candle_core::{Device, Tensor};
use std::sync::Barrier;

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
    pub(super) fn from_samples(rates: &[f64]) -> Result<Rate, MeasureError> {
        let summary = Summary::of(rates).ok_or_else(|| {
            MeasureError::Calibration("a benchmark produced no finite sample".into())
        })?;
        Ok(Rate {
            value: summary.median,
            summary,
        })
    }

    /// How the rate was sampled: the sample count and the spread.
    pub(super) fn stats(&self) -> String {
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

/// The rate of peak kernel `k` on `threads` threads (all its iterations, over the longest
/// thread's CPU time).
pub(super) fn peak(
    k: &PeakKernel,
    threads: usize,
    plan: MeasurePlan,
) -> Result<Rate, MeasureError> {
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

/// The bandwidth of STREAM kernel `k` over one buffer set per thread.
pub(super) fn stream(
    bufs: &mut [StreamBufs],
    k: Stream,
    plan: MeasurePlan,
) -> Result<Rate, MeasureError> {
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

/// The core clock from a chain of dependent adds; `None` where there is no such kernel.
pub(super) fn clock(plan: MeasurePlan) -> Option<Rate> {
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
pub(super) struct LevelPlan {
    pub name: String,
    pub capacity_all: u64,
    pub capacity_one: u64,
    pub working_set: u64,
}

/// Memory levels: each data/unified cache (capacity summed over the instances all CPUs use, and
/// one instance for one CPU), then DRAM. Working sets per thread are half of a thread's share of
/// the level; DRAM's is four times the last-level cache in total, at least 64 MiB.
pub(super) fn level_plan(host: &HostInfo) -> Vec<LevelPlan> {
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

/// Channels and side of the input whose stride-2 view `strided_gather_elems_per_s` copies:
/// MobileNetV2 block 2's depthwise convolution, 96 channels at 112×112 with stride 2 (Sandler
/// et al. 2018, Table 2).
pub(super) const STRIDED_PROBE: (usize, usize) = (96, 112);
/// Depth of the shallow GEMM that gives `gemm_depth_overhead`: 16, the input channels of
/// MobileNetV2's narrowest 1×1 convolution (block 2's expansion, 16 → 96; Sandler et al. 2018,
/// Table 2).
pub(super) const DEPTH_PROBE_K: usize = 16;
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
pub const DEPTHWISE_PROBE: crate::workload::Conv2d =
    crate::workload::Conv2d::square(144, 56, 56, 144, 3, 1, 1).grouped(144);
/// Rows of the GEMM that measures weight packing: few enough that packing the DRAM-sized
/// weights dominates (an LLM prefill chunk or a small batch), more than one so that the
/// kernel packs (a GEMV streams its weights instead).
const PACK_M: usize = 8;
/// Row length of the serial reduction benchmark: 2048, Llama-3.2-1B's hidden size, the rows
/// its RMSNorms reduce.
pub const REDUCE_ROW: usize = 2048;
/// Rows of the serial reduction benchmark (64 × 2048 f32 = 512 KiB, L2-sized: the rate is that
/// of the accumulator chain, not of memory).
pub(super) const REDUCE_ROWS: usize = 64;
/// Row length of that GEMV: 2048, the hidden size of Llama-3.2-1B and TinyLlama, whose
/// q/k/v/gate/up projections are GEMVs over rows of this length in decode.
pub(super) const GEMV_K: usize = 2048;

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

/// The statistics of `samples`, an error when none is finite.
fn summary(samples: &[f64]) -> Result<Summary, MeasureError> {
    Summary::of(samples).ok_or_else(|| MeasureError::Calibration("no finite samples".into()))
}

/// The candle figures on `threads` threads, in a rayon pool of that size: process CPU time on
/// one thread, wall time on several.
pub(super) fn candle_figures(
    threads: usize,
    plan: MeasurePlan,
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
    let run = CandleRun {
        threads,
        clock,
        plan,
        gemm_n,
        llc_bytes,
        l1_bytes,
        conflict_stride,
    };
    pool.install(|| run.figures(levels))
}

/// Per memory level: its name, an `[n, k]` shape and its seconds per call.
type LevelTimes = Vec<(String, (usize, usize), Summary)>;

/// An `[n, k]` shape and its seconds per call.
type ShapeTime = ((usize, usize), Summary);

/// The settings of one candle run.
struct CandleRun {
    threads: usize,
    clock: Clock,
    plan: MeasurePlan,
    gemm_n: usize,
    llc_bytes: usize,
    l1_bytes: usize,
    conflict_stride: Option<usize>,
}

impl CandleRun {
    /// Every candle figure, in the order they are measured.
    fn figures(&self, levels: &[(String, usize)]) -> Result<CandleFigures, MeasureError> {
        let (threads, plan, gemm_n) = (self.threads, self.plan, self.gemm_n);
        let dev = Device::Cpu;
        // The dispatch cost of a tiny op as the backend runs validate's graphs (candle's own
        // per-call cost plus the backend's bookkeeping of operands and results).
        let backend = CandleBackend::new(threads)?;
        let (overheads, overhead_s) = self.tiny_overheads(&backend)?;
        let (gemm, shallow) = self.gemms(&dev)?;
        // GEMV over an [n, k] f32 weight of at least GEMV_LLC_MULTIPLE x the LLC, with rows
        // as long as an LLM's hidden size (GEMV_K).
        let k = GEMV_K;
        let n = (GEMV_LLC_MULTIPLE * self.llc_bytes / (4 * k)).clamp(1024, 65_536);
        let v = Tensor::randn(0f32, 1.0, (1, k), &dev)?;
        let w = Tensor::randn(0f32, 1.0, (n, k), &dev)?;
        let gemv = bench(plan, || v.matmul(&w.t()?).map(|_| ()))?;
        let level_gemv = self.level_gemvs(&dev, levels)?;
        let (level_pack, level_pack_conflict) = self.level_packs(&backend, levels)?;
        let (refetch_gemv, refetch_extra) = self.refetch(&dev, (&v, &w), (n, k))?;
        let xs = Tensor::randn(0f32, 1.0, (PACK_M, k), &dev)?;
        let pack_gemm = bench(plan, || xs.matmul(&w.t()?).map(|_| ()))?;
        drop((v, w, xs));
        let reduce = self.reduce()?;
        let depthwise_s = backend
            .measure(&probe::conv_graph(DEPTHWISE_PROBE), plan, false)?
            .total;
        let block_quant = self.block_quant(&backend)?;
        let strided = self.strided(&dev)?;
        let e = Tensor::randn(0f32, 1.0, EXP_ELEMS, &dev)?;
        let exp = bench(plan, || e.exp().map(|_| ()))?;
        Ok(CandleFigures {
            exp_elems: EXP_ELEMS,
            exp,
            threads,
            clock: self.clock,
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
    }

    /// Seconds per call of tiny single-op graphs on the backend, and their median.
    fn tiny_overheads(
        &self,
        backend: &CandleBackend,
    ) -> Result<(Vec<(String, Summary)>, f64), MeasureError> {
        let plan = self.plan;
        let tiny = MeasurePlan {
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
        Ok((overheads, overhead_s))
    }

    /// Seconds per `gemm_n`-sided GEMM, and per GEMM of the same side and depth
    /// [`DEPTH_PROBE_K`].
    fn gemms(&self, dev: &Device) -> Result<(Summary, Summary), MeasureError> {
        let (plan, gemm_n) = (self.plan, self.gemm_n);
        let x = Tensor::randn(0f32, 1.0, (gemm_n, gemm_n), dev)?;
        let w = Tensor::randn(0f32, 1.0, (gemm_n, gemm_n), dev)?;
        let gemm = bench(plan, || x.matmul(&w.t()?).map(|_| ()))?;
        drop((x, w));
        // The same GEMM with a short depth: its slowdown gives the cost of a kernel pass.
        let xs = Tensor::randn(0f32, 1.0, (gemm_n, DEPTH_PROBE_K), dev)?;
        let ws = Tensor::randn(0f32, 1.0, (gemm_n, DEPTH_PROBE_K), dev)?;
        let shallow = bench(plan, || xs.matmul(&ws.t()?).map(|_| ()))?;
        drop((xs, ws));
        Ok((gemm, shallow))
    }

    /// A GEMV whose weights fill each level's benchmark working set (per thread).
    fn level_gemvs(
        &self,
        dev: &Device,
        levels: &[(String, usize)],
    ) -> Result<LevelTimes, MeasureError> {
        let (threads, plan) = (self.threads, self.plan);
        let mut level_gemv = Vec::new();
        for (name, ws) in levels {
            let (ln, lk) = gemv_shape(ws * threads);
            let lv = Tensor::randn(0f32, 1.0, (1, lk), dev)?;
            let lw = Tensor::randn(0f32, 1.0, (ln, lk), dev)?;
            let t_l = bench(plan, || lv.matmul(&lw.t()?).map(|_| ()))?;
            level_gemv.push((name.clone(), (ln, lk), t_l));
        }
        Ok(level_gemv)
    }

    /// A small-M GEMM whose weights fill each level's working set: its packing rate from that
    /// level, with rows spread over the first level's sets and, where the level holds enough
    /// of them, with rows that conflict.
    fn level_packs(
        &self,
        backend: &CandleBackend,
        levels: &[(String, usize)],
    ) -> Result<(LevelTimes, LevelTimes), MeasureError> {
        let (threads, plan, conflict_stride) = (self.threads, self.plan, self.conflict_stride);
        let f32s = crate::workload::Storage::plain(DType::F32);
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
        Ok((level_pack, level_pack_conflict))
    }

    /// The bandwidth GEMV's weight bytes (`[n, k]` weights `w`, input `v`) in rows whose input
    /// vector alone fills a core's first-level cache: the vector is re-read for every output.
    /// The two alternate, one sample each, and the difference is taken sample by sample.
    fn refetch(
        &self,
        dev: &Device,
        (v, w): (&Tensor, &Tensor),
        (n, k): (usize, usize),
    ) -> Result<(ShapeTime, Summary), MeasureError> {
        let plan = self.plan;
        let l1_bytes = self.l1_bytes;
        let rk = (l1_bytes / 4).next_power_of_two().max(2 * GEMV_K);
        let rn = (n * k / rk).max(1);
        let rv = Tensor::randn(0f32, 1.0, (1, rk), dev)?;
        let rw = Tensor::randn(0f32, 1.0, (rn, rk), dev)?;
        let one = MeasurePlan { repeats: 1, ..plan };
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
        Ok((refetch_gemv, refetch_extra))
    }

    /// Row sums of squares with one accumulator per row, rows spread over the pool's threads:
    /// the loop candle-nn's RMSNorm runs (Rust does not reassociate float sums, so each row is
    /// one chain of dependent adds).
    fn reduce(&self) -> Result<Summary, MeasureError> {
        let plan = self.plan;
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
        Ok(reduce)
    }

    /// Decode-shaped products over q8_0 and q4_0 weights, run by the backend as validate runs
    /// them (candle's QMatMul; its speed has been seen to depend on where the kernel is
    /// instantiated, so it is measured through the same code).
    fn block_quant(&self, backend: &CandleBackend) -> Result<Vec<(DType, Summary)>, MeasureError> {
        let plan = self.plan;
        let mut block_quant = Vec::new();
        for dt in [DType::I8, DType::I4] {
            let wq = crate::workload::Storage {
                dtype: dt,
                group: Some(crate::workload::QuantGroup {
                    size: crate::measure::backend::GGML_BLOCK,
                    scale_bits: 16,
                    zero_bits: 0,
                }),
            };
            let kk = GEMV_K as u64;
            let g = probe::matmul_graph(1, kk, kk, wq, DType::I8);
            block_quant.push((dt, backend.measure(&g, plan, false)?.total));
        }
        Ok(block_quant)
    }

    /// A stride-2 view of MobileNetV2 block 2's depthwise input, made contiguous: the gather a
    /// strided convolution's lowering does.
    fn strided(&self, dev: &Device) -> Result<Summary, MeasureError> {
        let plan = self.plan;
        let (sc, sh) = STRIDED_PROBE;
        let sx = Tensor::randn(0f32, 1.0, (1, sc, sh, sh), dev)?;
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
        Ok(strided)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::calibrate::CacheLevel;

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
}
