//! The CPU cycle model (`params.model = "cpu"`): throughput from the core's SIMD datapath, the
//! cache levels as a hierarchical roofline, and a thread count.
//!
//! **Compute.** Per core and cycle, by dtype (`L = simd_bits / 32` fp32 lanes, `P` FMA pipes):
//! * f32: `L · P · 2` FLOP (an FMA is 2);
//! * f16 with `fp16_fma = true` (Armv8.2 FP16, AVX512-FP16): `2L · P · 2`;
//! * i8 with a dot-product instruction (`dot_factor` int8 MACs per 32-bit lane: 4 for Arm
//!   SDOT/UDOT and x86 VNNI): `L · dot_factor · P · 2`.
//!
//! `P` is `fma_pipes`, or `fma_pipes_per_pair / 2` where two cores share one vector unit (Arm
//! Cortex-A510/A520 complexes). Elementwise and reduction work does no FMA: one op per lane and
//! pipe (`L · P` for f32, `2L · P` for f16 and `4L · P` for i8). The unit's peak is
//! `count · per-core · clock`, and must agree within 1 % with the `peak_ops_per_s` of the file for
//! every dtype both give (a mismatch is a parameter error naming both numbers); dtypes the file
//! lists but the parameters do not derive keep the file's peak.
//!
//! **Threads.** `threads` (default: all `count` cores) sets how many cores run the op. Compute
//! scales linearly with `min(threads, count)`. A memory level named in `core_bytes_per_s`
//! (bytes/s one thread can draw from it, e.g. single-core STREAM) is shared: its bandwidth is
//! `min(threads · per-thread, peak · e_b)`, so it saturates at the shared limit. Levels not
//! named there are split evenly among the cores the unit's bandwidth figures describe
//! (`bandwidth_cores`, default `count`): `peak · e_b · min(threads / bandwidth_cores, 1)`, so one
//! thread draws one core's share. A what-if on the core count holds `bandwidth_cores` at the
//! file's count ([`crate::hardware::what_if`]), as it holds the ops per cycle per core: one
//! thread's bandwidth, and so its latency, does not change when cores are added, and all the
//! cores together never draw more than the level's sustained peak.
//!
//! **Issue width.** `issue_width` (default 1) is the instructions the core issues per cycle
//! where that bounds a runtime's kernels: a runtime's compute fraction is the share of one issue
//! slot its inner loop spends on multiply-accumulates (the rest loads and widens operands), and a
//! core issuing `issue_width` a cycle overlaps that work with the MACs, so the runtime's fraction
//! scales by it, capped at 1 ([`crate::runtime`] applies it). In-order Cortex-M cores differ
//! exactly so: the M4 and M33 issue one instruction a cycle, the M7 two.
//!
//! **Time** of an op: `max(flops / rate[dtype], max_L bytes_L / bw_L) + overhead`, where
//! `bytes_L` is the traffic through level `L` computed exactly as the roofline does
//! ([`crate::cost::traffic`]), `rate = threads · per-core · clock · e_c`, and `e_c`, `e_b`,
//! overhead are the unit's calibrated fractions (1, 1, 0 in ideal mode). Heterogeneous clusters
//! (big/mid/little) are separate units, each with its own parameters and model.
//!
//! Energy is as in the roofline: `flops · pJ/op + Σ_L bytes_L · pJ/B_L + static · time`.

use crate::cost::{
    Ceilings, CostModel, Infeasible, Ledger, Mode, ParamError, Params, TensorHomes, traffic,
    widened,
};
use crate::hardware::{Hardware, MAX_LEVELS};
use crate::workload::{DType, DTypeTable, Engine, Graph, OpId};

/// The name the registry knows this model by (`params.model = "cpu"`).
pub const NAME: &str = "cpu";

/// Parameters `params.model = "cpu"` accepts (`sme_*` describe an SME unit that this model does
/// not use yet; they are accepted so files can carry them).
pub const KEYS: &[&str] = &[
    "simd_bits",
    "fma_pipes",
    "fma_pipes_per_pair",
    "fp16_fma",
    "dot_factor",
    "threads",
    "bandwidth_cores",
    "core_bytes_per_s",
    "sme_vector_bits",
    "sme_units",
    "issue_width",
];

/// Relative tolerance when checking the derived peak against the file's `peak_ops_per_s`
/// (hardware files round peaks to about three significant figures).
pub const PEAK_TOLERANCE: f64 = 0.01;

/// The CPU model of one unit.
#[derive(Clone, Debug)]
pub struct Cpu<'a> {
    hw: &'a Hardware,
    unit: usize,
    mode: Mode,
    /// Cores running the op, `min(threads, count)`.
    active: f64,
    /// Matrix (FMA) ops per cycle per core, by dtype.
    fma_per_core: DTypeTable<f64>,
    /// Elementwise ops per cycle per core, by dtype.
    vec_per_core: DTypeTable<f64>,
    /// Per-thread bandwidth of shared levels (bytes/s), by level index.
    core_bw: [Option<f64>; MAX_LEVELS],
    /// Cores among which the other levels' sustained bandwidth is split (`bandwidth_cores`).
    bw_cores: f64,
}

impl<'a> Cpu<'a> {
    /// Reads and checks the parameters of unit `unit`.
    pub fn new(hw: &'a Hardware, unit: usize, mode: Mode) -> Result<Self, ParamError> {
        let u = &hw.units[unit];
        let p = Params::of(u, &hw.file);
        p.check_known(NAME, KEYS)?;
        let simd_bits = p.count("simd_bits", None)?;
        if simd_bits % 32 != 0 {
            return Err(p.error(
                "simd_bits",
                format!("expected a multiple of 32, found {simd_bits}"),
            ));
        }
        let lanes = (simd_bits / 32) as f64;
        let pipes = match (p.opt_pos("fma_pipes")?, p.opt_pos("fma_pipes_per_pair")?) {
            (Some(x), None) => x,
            (None, Some(x)) => x / 2.0,
            (Some(_), Some(_)) => {
                return Err(p.error(
                    "fma_pipes",
                    "give either fma_pipes (per core) or fma_pipes_per_pair (shared by two cores), not both",
                ));
            }
            (None, None) => return Err(p.error("fma_pipes", "missing; this cost model needs it")),
        };
        let mut fma = DTypeTable::empty();
        let mut vec = DTypeTable::empty();
        fma.set(DType::F32, lanes * pipes * 2.0);
        vec.set(DType::F32, lanes * pipes);
        if p.flag("fp16_fma", false)? {
            fma.set(DType::F16, 2.0 * lanes * pipes * 2.0);
            vec.set(DType::F16, 2.0 * lanes * pipes);
        }
        if let Some(dot) = p.opt_pos("dot_factor")? {
            fma.set(DType::I8, lanes * dot * pipes * 2.0);
            vec.set(DType::I8, 4.0 * lanes * pipes);
        }
        // Check the derived peaks against the file; keep the file's peak for other dtypes.
        let per_core_s = u.count * u.clock_hz;
        for (d, derived) in fma.iter() {
            if let Some(file) = u.peak.get(d) {
                let ours = derived * per_core_s;
                if ((ours - file) / file).abs() > PEAK_TOLERANCE {
                    return Err(p.error(
                        "simd_bits",
                        format!(
                            "the parameters give a {d} peak of {:.4e} ops/s ({} cores × {derived} ops/cycle × {:.4e} Hz) but peak_ops_per_s.{d} is {file:.4e}",
                            ours, u.count, u.clock_hz
                        ),
                    ));
                }
            }
        }
        for (d, file) in u.peak.iter() {
            if fma.get(d).is_none() {
                fma.set(d, file / per_core_s);
            }
        }
        for (d, file) in u.vector_peak.iter() {
            if vec.get(d).is_none() {
                vec.set(d, file / per_core_s);
            }
        }
        let threads = p.pos_or("threads", u.count)?;
        if threads.fract() != 0.0 || threads < 1.0 {
            return Err(p.error(
                "threads",
                format!("expected a whole number ≥ 1, found {threads}"),
            ));
        }
        let issue = p.pos_or("issue_width", 1.0)?;
        if issue.fract() != 0.0 {
            return Err(p.error(
                "issue_width",
                format!("expected a whole number of instructions per cycle ≥ 1, found {issue}"),
            ));
        }
        let bw_cores = p.pos_or("bandwidth_cores", u.count)?;
        let mut core_bw = [None; MAX_LEVELS];
        for (name, bw) in p.named_table("core_bytes_per_s")? {
            let field = format!("core_bytes_per_s.{name}");
            let lvl = u
                .reach
                .iter()
                .copied()
                .find(|&l| hw.memories[l].name == name)
                .ok_or_else(|| {
                    p.error(
                        &field,
                        format!(
                            "unit `{}` reaches no memory level `{name}`; it reaches: {}",
                            u.name,
                            u.reach
                                .iter()
                                .map(|&l| hw.memories[l].name.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    )
                })?;
            core_bw[lvl] = Some(bw);
        }
        Ok(Cpu {
            hw,
            unit,
            mode,
            active: threads.min(u.count),
            fma_per_core: fma,
            vec_per_core: vec,
            core_bw,
            bw_cores,
        })
    }

    /// Ops per second of the running threads for `dtype` (after widening) on the matrix (FMA) or
    /// vector datapath, before the efficiency factor; returns the dtype used and the rate.
    pub fn rate(&self, engine: Engine, dtype: DType) -> Option<(DType, f64)> {
        let table = match engine {
            Engine::Matrix => &self.fma_per_core,
            Engine::Vector => &self.vec_per_core,
        };
        let u = &self.hw.units[self.unit];
        widened(table, dtype).map(|(d, x)| (d, x * self.active * u.clock_hz))
    }

    /// Achievable bandwidth of memory level `lvl` with the running threads, bytes/s.
    pub fn bandwidth(&self, lvl: usize) -> f64 {
        let u = &self.hw.units[self.unit];
        let e_b = self.mode.efficiency(u.bandwidth_efficiency);
        let peak = self.hw.memories[lvl].bytes_per_s * e_b;
        match self.core_bw[lvl] {
            Some(per_thread) => (self.active * per_thread).min(peak),
            None => peak * (self.active / self.bw_cores).min(1.0),
        }
    }

    /// Cores running an op.
    pub fn threads(&self) -> f64 {
        self.active
    }
}

impl CostModel for Cpu<'_> {
    fn cost(
        &self,
        graph: &Graph,
        residency: &TensorHomes,
        op_id: OpId,
    ) -> Result<Ledger, Infeasible> {
        let u = &self.hw.units[self.unit];
        let op = graph.op(op_id);
        let (dtype, rate) = self
            .rate(op.kind.engine(), op.compute)
            .ok_or_else(|| Infeasible::no_wider(self.hw, self.unit, op, "compute"))?;
        let e_c = self.mode.efficiency(u.compute_efficiency);
        let overhead = self.mode.overhead(u.kernel_overhead_s);
        let mut l = Ledger::zero();
        l.flops = op.kind.flops();
        l.bytes = traffic(self.hw, self.unit, graph, residency, op_id)?;
        let mut t = l.flops / (rate * e_c);
        let mut limit = None;
        for &lvl in &u.reach {
            let tl = l.bytes[lvl] / self.bandwidth(lvl);
            if tl > t {
                t = tl;
                limit = Some(lvl);
            }
            l.memory_j += l.bytes[lvl] * self.hw.memories[lvl].j_per_byte;
        }
        match limit {
            None => l.compute_bound_s = t,
            Some(lvl) => l.memory_bound_s[lvl] = t,
        }
        l.overhead_s = overhead;
        l.latency_s = t + overhead;
        l.compute_j = l.flops * u.j_per_op.get(dtype).unwrap_or(0.0);
        l.close_static(self.hw);
        Ok(l)
    }

    crate::cost::unit_accessors!();

    /// The ceilings of the running threads: compute scaled by threads over cores, and each
    /// level's bandwidth as [`Cpu::bandwidth`] gives it.
    fn ceilings(&self) -> Ceilings {
        let share = self.active / self.hw.units[self.unit].count;
        Ceilings::scaled(self.hw, self.unit, self.mode, share, |l| self.bandwidth(l))
    }

    fn thread_count(&self) -> Option<f64> {
        Some(self.active)
    }
}
