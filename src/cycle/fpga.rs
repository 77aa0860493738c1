//! The FPGA model (`params.model = "fpga"`): a spatial dataflow design in which every layer of
//! the graph has its own engine in the fabric, as hls4ml and FINN generate them. The engines of
//! all layers share one device, so resources are summed over the graph and checked against the
//! device's DSP, BRAM and LUT budgets; a design over budget is [`Infeasible`], naming the
//! resource. The latency of one pass through the graph is the sum of the layers' latencies; the
//! dataflow accepts a new input every `max(layer cycles)` ([`Fpga::interval_cycles`]).
//!
//! Bit widths: weights `W` and activations `A` are the storage widths of the tensors (a float
//! dtype stands for fixed point of the same width, as hls4ml's `ap_fixed<16,6>`), or
//! `weight_bits`/`act_bits` when given (FINN's 1- and 2-bit networks).
//!
//! **hls4ml** (`style = "hls4ml"`), for every matrix layer (dense, conv, attention products,
//! MoE) with `n_in` = reduction length and `n_out` = outputs:
//! * the reuse factor is snapped to the closest valid one, as hls4ml does: `rf` divides
//!   `n_in·n_out`; `rf % n_in == 0` or `rf < n_in`; and `ceil(n_in·n_out/min(n_in, rf))` is a
//!   multiple of `n_out` or `rf ≥ n_in` (ties go to the smaller);
//! * multipliers `= ceil(n_in·n_out / rf)` per engine, II `= rf`;
//! * dense latency for `s` samples: `s·rf + ceil(log2 n_in) + 3` cycles (one adder-tree level
//!   per cycle plus the DSP48E2's three pipeline registers); a streaming conv processes each of
//!   the `N·H·W` input pixels at II = rf (`nnet_conv2d_stream.h`);
//! * `strategy = "latency"` keeps weights in registers (no BRAM) and fully unrolls the layer,
//!   which Vivado HLS refuses beyond `unroll_limit` (4096) multiplications per loop (hls4ml issue
//!   #1013); `strategy = "resource"` stores weights in BRAM, `rf` deep and
//!   `multipliers · W` bits wide per engine;
//! * a multiplier of at most `dsp_min_bits` (10) bits per operand is built from LUTs,
//!   `(2·ceil((W+A)/6) − 1)·(W+A)` of them (the FINN-R LUT-multiplier cost); wider ones take
//!   `ceil(max/27)·ceil(min/18)` DSP48E2 slices (27×18 multipliers); every multiplier also has an
//!   accumulating adder of `W + A + ceil(log2 n_in)` LUTs.
//!
//! **FINN** (`style = "finn"`), every matrix layer is a matrix-vector unit (MVAU) with `MW` =
//! reduction, `MH` = outputs and `N` input vectors; a depthwise conv is a VVAU:
//! * cycles `= (MH/PE)·(MW/SIMD)·N` (VVAU: `(C/PE)·(k²/SIMD)·N`);
//! * folding follows FINN's `SetFolding` for `target_cycles` per frame: SIMD climbs the divisors
//!   of MW until the layer is under target or the weight stream `SIMD·W` would exceed
//!   `mvau_wwidth_max` (36 bits), then PE climbs the divisors of MH until under target; if the
//!   slowest layer still misses the target, a second pass folds every layer for that layer's
//!   cycles;
//! * BRAM18 for the `MW·MH/(PE·SIMD)`-deep, `PE·SIMD·W`-wide weight memory in SDP mode (UG573):
//!   width 1: ⌈d/16384⌉; 2: ⌈d/8192⌉; ≤4: ⌈d/4096⌉·⌈w/4⌉; ≤9: ⌈d/2048⌉·⌈w/9⌉; ≤18 or d>512:
//!   ⌈d/1024⌉·⌈w/18⌉; else ⌈d/512⌉·⌈w/36⌉ (FINN's `bram_estimation`, after FINN-R);
//! * LUTs `300 + 1.1·PE·(mult + adder tree + accumulator)` with mult
//!   `SIMD·(2·ceil((W+A)/6) − 1)·(W+A)` (0 with `res_type = "dsp"`), adder tree
//!   `(W+A)·(2·SIMD − 1)` and accumulator bits `min(32, ceil(α + log2(1 + 2^−α) + 1))`,
//!   `α = log2 MW + W + A − 1 − signed` (FINN-R's fitted constants; the accumulator bound of
//!   arXiv 2301.13376); DSPs `PE·SIMD·ceil((W+A)/48)` with `res_type = "dsp"`. Thresholds are
//!   separate layers here (activations are graph ops), so MVAUs carry none.
//!
//! **Other layers** (activations, pooling, norms, data movement) stream `lanes` elements per
//! cycle: hls4ml default one sample (all elements after the outermost dimension) per cycle, as
//! its II = 1 activation layers; FINN folds them like its PE-parallel layers, over the divisors
//! of the element count, for `target_cycles`; `vector_lanes` overrides both. Each lane costs
//! `A` LUTs (one adder or comparator per bit).
//!
//! Time of an op: `cycles / clock`, or the time to move its off-chip tensors when longer (the
//! roofline's traffic, [`crate::cost::traffic`]), plus the kernel overhead in calibrated
//! mode. Energy: `flops · pJ/op + Σ bytes · pJ/B + static · time`.

use super::{GemmView, gemm_view};
use crate::cost::{
    CostModel, Infeasible, Ledger, Mode, ParamError, Params, TensorHomes, traffic, widened,
};
use crate::hardware::Hardware;
use crate::workload::{Graph, Op, OpId, OpKind, Role};
use std::sync::{Arc, Mutex};

/// The name the registry knows this model by (`params.model = "fpga"`).
pub const NAME: &str = "fpga";

/// Parameters `params.model = "fpga"` accepts.
pub const KEYS: &[&str] = &[
    "style",
    "dsp",
    "bram18",
    "lut",
    "weight_bits",
    "act_bits",
    "act_signed",
    "vector_lanes",
    "reuse_factor",
    "strategy",
    "unroll_limit",
    "dsp_min_bits",
    "target_cycles",
    "mvau_wwidth_max",
    "res_type",
];

/// Vivado HLS's limit on multiplications in one fully unrolled loop, which hls4ml's latency
/// strategy hits (maintainer comment in fastmachinelearning/hls4ml issue #1013: "the limit is
/// 4,096").
pub const VIVADO_UNROLL_LIMIT: f64 = 4096.0;

/// Operand width up to which Vivado builds a multiplier from LUTs rather than a DSP slice
/// (Vivado typically maps products of up to about 10 bits to LUTs; `dsp_min_bits` overrides it).
pub const DEFAULT_DSP_MIN_BITS: f64 = 10.0;

/// Pipeline registers of a DSP48E2 multiply (A/B input, M and P registers; UG579).
pub const DSP_PIPELINE_CYCLES: f64 = 3.0;

/// DSP48E2 multiplier operand widths (UG579: a 27×18 two's-complement multiplier).
pub const DSP48_A_BITS: f64 = 27.0;
/// See [`DSP48_A_BITS`].
pub const DSP48_B_BITS: f64 = 18.0;

/// FINN's default bound on the MVAU weight-stream width per PE when folding (`SetFolding`,
/// `mvau_wwidth_max=36`).
pub const FINN_WWIDTH_MAX: f64 = 36.0;

/// FINN-R LUT model constants (Blott et al. 2018, as used by FINN's `lut_estimation`): fixed
/// cost and scale.
pub const FINN_LUT_C0: f64 = 300.0;
/// See [`FINN_LUT_C0`].
pub const FINN_LUT_C1: f64 = 1.1;

/// FINN's default accumulator type width (INT32), the cap of the accumulator bound.
pub const FINN_ACC_MAX_BITS: f64 = 32.0;

/// FPGA resources.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Resources {
    /// DSP slices.
    pub dsp: f64,
    /// 18 Kb block RAMs.
    pub bram18: f64,
    /// Lookup tables.
    pub lut: f64,
}

impl std::ops::Add for Resources {
    type Output = Resources;
    fn add(self, o: Resources) -> Resources {
        Resources {
            dsp: self.dsp + o.dsp,
            bram18: self.bram18 + o.bram18,
            lut: self.lut + o.lut,
        }
    }
}

/// How one layer is built.
#[derive(Clone, Debug, PartialEq)]
pub struct Layer {
    /// Cycles for the op's whole input (all samples or vectors).
    pub cycles: f64,
    /// Resources of its engine(s).
    pub res: Resources,
    /// Readable configuration, e.g. `rf 4, 256 mult` or `PE 16 SIMD 49`.
    pub config: String,
    /// Folding knob values (hls4ml: reuse factor and multipliers; FINN: PE and SIMD).
    pub knobs: (f64, f64),
}

/// The plan of a whole graph: one layer per op and the resource total.
#[derive(Clone, Debug, PartialEq)]
pub struct FabricPlan {
    /// One entry per op, in graph order.
    pub layers: Vec<Layer>,
    /// Sum over layers.
    pub total: Resources,
}

/// The design style.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Style {
    /// hls4ml dense/conv layers with a reuse factor.
    Hls4ml {
        /// Requested reuse factor.
        reuse: f64,
        /// Weights in BRAM (`resource`) or registers (`latency`).
        resource: bool,
        /// Unroll limit of the latency strategy.
        unroll_limit: f64,
        /// LUT-multiplier width limit.
        dsp_min_bits: f64,
    },
    /// FINN matrix-vector units folded for a target.
    Finn {
        /// Target cycles per frame.
        target: f64,
        /// Weight-stream width bound when raising SIMD.
        wwidth_max: f64,
        /// Multipliers on DSPs rather than LUTs.
        dsp: bool,
    },
}

/// Identifies a graph's content for the plan cache: a hash of every op (kind, dtype, tensors)
/// and every tensor (shape, storage, role), so a new graph at a reused address is not mistaken
/// for the previous one.
type GraphKey = u64;

fn graph_key(graph: &Graph) -> GraphKey {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    graph.name.hash(&mut h);
    for op in &graph.ops {
        op.kind.hash(&mut h);
        op.compute.hash(&mut h);
        op.inputs.hash(&mut h);
        op.outputs.hash(&mut h);
    }
    for t in &graph.tensors {
        t.shape.hash(&mut h);
        t.storage.hash(&mut h);
        t.role.hash(&mut h);
    }
    h.finish()
}

/// The last plan computed, keyed by the graph it was computed for.
type FabricPlanCache = Mutex<Option<(GraphKey, Arc<Result<FabricPlan, Infeasible>>)>>;

/// The FPGA model of one unit.
pub struct Fpga<'a> {
    hw: &'a Hardware,
    unit: usize,
    mode: Mode,
    style: Style,
    budget: Resources,
    weight_bits: Option<f64>,
    act_bits: Option<f64>,
    act_signed: bool,
    vector_lanes: Option<f64>,
    cache: FabricPlanCache,
}

impl std::fmt::Debug for Fpga<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fpga")
            .field("unit", &self.hw.units[self.unit].name)
            .field("style", &self.style)
            .field("budget", &self.budget)
            .finish()
    }
}

fn divisors(n: u64) -> Vec<u64> {
    let mut small = Vec::new();
    let mut large = Vec::new();
    let mut i = 1u64;
    while i * i <= n {
        if n.is_multiple_of(i) {
            small.push(i);
            if i != n / i {
                large.push(n / i);
            }
        }
        i += 1;
    }
    small.extend(large.into_iter().rev());
    small
}

/// Divisors of `a·b` in increasing order, from the divisors of `a` and of `b`.
fn divisors_of_product(a: u64, b: u64) -> Vec<u64> {
    let mut v: Vec<u64> = divisors(a)
        .iter()
        .flat_map(|&x| divisors(b).into_iter().map(move |y| x * y))
        .collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// hls4ml's validity rule for a reuse factor of a dense layer.
pub fn valid_reuse(n_in: u64, n_out: u64, rf: u64) -> bool {
    let total = n_in * n_out;
    let mult_limit = total.div_ceil(n_in.min(rf));
    (mult_limit.is_multiple_of(n_out) || rf >= n_in)
        && (rf.is_multiple_of(n_in) || rf < n_in)
        && total.is_multiple_of(rf)
}

/// The valid reuse factor closest to `chosen` (ties to the smaller), as hls4ml snaps it.
pub fn closest_reuse(n_in: u64, n_out: u64, chosen: u64) -> u64 {
    let valid: Vec<u64> = divisors_of_product(n_in, n_out)
        .into_iter()
        .filter(|&rf| valid_reuse(n_in, n_out, rf))
        .collect();
    let pos = valid.partition_point(|&x| x < chosen);
    if pos == 0 {
        return valid[0];
    }
    if pos == valid.len() {
        return valid[pos - 1];
    }
    let (before, after) = (valid[pos - 1], valid[pos]);
    if after - chosen < chosen - before {
        after
    } else {
        before
    }
}

/// FINN's BRAM18 count of a `depth`-deep, `width`-bit memory in SDP mode.
pub fn finn_bram18(depth: f64, width: f64) -> f64 {
    let c = |x: f64| x.ceil();
    if width <= 1.0 {
        c(depth / 16384.0)
    } else if width <= 2.0 {
        c(depth / 8192.0)
    } else if width <= 4.0 {
        c(depth / 4096.0) * c(width / 4.0)
    } else if width <= 9.0 {
        c(depth / 2048.0) * c(width / 9.0)
    } else if width <= 18.0 || depth > 512.0 {
        c(depth / 1024.0) * c(width / 18.0)
    } else {
        c(depth / 512.0) * c(width / 36.0)
    }
}

/// LUTs of one LUT-built multiplier of `w`×`a` bits (FINN-R).
pub fn lut_multiplier(w: f64, a: f64) -> f64 {
    (2.0 * ((w + a) / 6.0).ceil() - 1.0) * (w + a)
}

/// FINN's accumulator width bound for a dot product of `mw` terms.
pub fn finn_acc_bits(mw: f64, w: f64, a: f64, signed: bool) -> f64 {
    let alpha = mw.log2() + w + a - 1.0 - if signed { 1.0 } else { 0.0 };
    FINN_ACC_MAX_BITS.min((alpha + (1.0 + 2f64.powf(-alpha)).log2() + 1.0).ceil())
}

/// A FINN MVAU (or VVAU) folding and its cost.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Mvau {
    /// Output parallelism.
    pub pe: u64,
    /// Input parallelism.
    pub simd: u64,
    /// Cycles for all input vectors.
    pub cycles: f64,
}

/// FINN `SetFolding` for an MVAU of `mw`×`mh` over `vectors` input vectors, weights of `w` bits.
pub fn finn_fold(mw: u64, mh: u64, vectors: f64, w: f64, target: f64, wwidth_max: f64) -> Mvau {
    let cycles = |pe: u64, simd: u64| (mh / pe) as f64 * (mw / simd) as f64 * vectors;
    let mut simd = 1;
    for s in divisors(mw) {
        let prev = simd;
        simd = s;
        if cycles(1, simd) < target {
            break;
        }
        if w * simd as f64 > wwidth_max {
            simd = prev;
            break;
        }
    }
    let pe = fold_to(mh, target, |pe| cycles(pe, simd));
    Mvau {
        pe,
        simd,
        cycles: cycles(pe, simd),
    }
}

/// The first divisor of `n`, in [`divisors`] order, at which `cycles` falls below `target`; the
/// last divisor when none does (1 when `n` has none).
fn fold_to(n: u64, target: f64, cycles: impl Fn(u64) -> f64) -> u64 {
    let mut fold = 1;
    for d in divisors(n) {
        fold = d;
        if cycles(d) < target {
            break;
        }
    }
    fold
}

/// FINN folding of a depthwise VVAU: PE over the channels first, then SIMD over the kernel.
pub fn finn_fold_vvau(channels: u64, kernel: u64, vectors: f64, target: f64) -> Mvau {
    let cycles = |pe: u64, simd: u64| (channels / pe) as f64 * (kernel / simd) as f64 * vectors;
    let pe = fold_to(channels, target, |pe| cycles(pe, 1));
    let mut simd = 1;
    if pe == channels && cycles(pe, 1) > target {
        simd = fold_to(kernel, target, |simd| cycles(pe, simd));
    }
    Mvau {
        pe,
        simd,
        cycles: cycles(pe, simd),
    }
}

/// Elements of an op's (first) output and its outermost dimension.
fn out_elems(graph: &Graph, op: &Op) -> (f64, f64) {
    match op.outputs.first() {
        Some(&t) => {
            let x = graph.tensor(t);
            let outer = x.shape.first().copied().unwrap_or(1).max(1) as f64;
            (x.numel() as f64, outer)
        }
        None => (1.0, 1.0),
    }
}

impl<'a> Fpga<'a> {
    /// Reads and checks the parameters of unit `unit`.
    pub fn new(hw: &'a Hardware, unit: usize, mode: Mode) -> Result<Self, ParamError> {
        let u = &hw.units[unit];
        let p = Params::of(u, &hw.file);
        p.check_known(NAME, KEYS)?;
        let style = match p.choice("style", &["hls4ml", "finn"], "hls4ml")? {
            "hls4ml" => Style::Hls4ml {
                reuse: p.count("reuse_factor", Some(1))? as f64,
                resource: p.choice("strategy", &["latency", "resource"], "latency")? == "resource",
                unroll_limit: p.pos_or("unroll_limit", VIVADO_UNROLL_LIMIT)?,
                dsp_min_bits: p.pos_or("dsp_min_bits", DEFAULT_DSP_MIN_BITS)?,
            },
            _ => Style::Finn {
                target: p.pos("target_cycles")?,
                wwidth_max: p.pos_or("mvau_wwidth_max", FINN_WWIDTH_MAX)?,
                dsp: p.choice("res_type", &["lut", "dsp"], "lut")? == "dsp",
            },
        };
        let bits = |f: &str| -> Result<Option<f64>, ParamError> {
            match p.opt_pos(f)? {
                Some(b) if b.fract() != 0.0 => {
                    Err(p.error(f, format!("expected a whole number of bits, found {b}")))
                }
                x => Ok(x),
            }
        };
        Ok(Fpga {
            hw,
            unit,
            mode,
            style,
            budget: Resources {
                dsp: p.pos("dsp")?,
                bram18: p.pos("bram18")?,
                lut: p.pos("lut")?,
            },
            weight_bits: bits("weight_bits")?,
            act_bits: bits("act_bits")?,
            act_signed: p.flag("act_signed", true)?,
            vector_lanes: p.opt_pos("vector_lanes")?,
            cache: Mutex::new(None),
        })
    }

    /// The device's resource budget.
    pub fn budget(&self) -> Resources {
        self.budget
    }

    fn bits(&self, graph: &Graph, op: &Op, g: Option<&GemmView>) -> (f64, f64) {
        let a = self.act_bits.unwrap_or_else(|| {
            op.inputs
                .first()
                .map_or(op.compute.bits(), |&t| graph.tensor(t).storage.dtype.bits())
                as f64
        });
        let w = self.weight_bits.unwrap_or_else(|| {
            g.map_or(a, |g| graph.tensor(g.b_tensor).storage.dtype.bits() as f64)
        });
        (w, a)
    }

    /// Engines (distinct weight matrices) and samples through each for a matrix op.
    fn engines_and_samples(op: &Op, g: &GemmView) -> (f64, f64) {
        match op.kind {
            OpKind::Conv2d(c) => (c.groups as f64, (c.n * c.h * c.w) as f64),
            OpKind::MoeExperts { experts, gated, .. } => {
                let mats = if gated { 3.0 } else { 2.0 };
                (mats * experts as f64, g.batch * g.m / mats)
            }
            _ => (1.0, g.batch * g.m),
        }
    }

    fn layer(&self, graph: &Graph, op: &Op, finn_target: f64) -> Result<Layer, Infeasible> {
        let g = gemm_view(graph, op);
        let (w, a) = self.bits(graph, op, g.as_ref());
        let weights_on_chip = g
            .as_ref()
            .is_some_and(|g| graph.tensor(g.b_tensor).role == Role::Weight);
        match (self.style, g) {
            (
                Style::Hls4ml {
                    reuse,
                    resource,
                    unroll_limit,
                    dsp_min_bits,
                },
                Some(g),
            ) => {
                let (n_in, n_out) = (g.k.max(1), g.n.max(1));
                let (engines, samples) = Self::engines_and_samples(op, &g);
                let rf = closest_reuse(n_in, n_out, reuse as u64) as f64;
                let mults = ((n_in * n_out) as f64 / rf).ceil();
                if !resource && mults > unroll_limit {
                    return Err(Infeasible {
                        reason: format!(
                            "layer `{}` ({n_in}×{n_out}) at reuse factor {rf} unrolls {mults} multiplications in one loop; Vivado HLS stops at {unroll_limit} (hls4ml latency strategy): use a reuse factor of at least {} or the resource strategy",
                            op.name,
                            ((n_in * n_out) as f64 / unroll_limit).ceil()
                        ),
                    });
                }
                let (wide, narrow) = (w.max(a), w.min(a));
                let (dsp_per, lut_per) = if wide <= dsp_min_bits {
                    (0.0, lut_multiplier(w, a))
                } else {
                    (
                        (wide / DSP48_A_BITS).ceil() * (narrow / DSP48_B_BITS).ceil(),
                        0.0,
                    )
                };
                let acc = w + a + (n_in as f64).log2().ceil();
                let bram = if resource && weights_on_chip {
                    finn_bram18(rf, mults * w)
                } else {
                    0.0
                };
                let depth = (n_in as f64).log2().ceil() + DSP_PIPELINE_CYCLES;
                Ok(Layer {
                    cycles: samples * rf + depth,
                    res: Resources {
                        dsp: engines * mults * dsp_per,
                        bram18: engines * bram,
                        lut: engines * mults * (lut_per + acc),
                    },
                    config: format!("reuse factor {rf}, {mults} multipliers × {engines} engines"),
                    knobs: (rf, mults),
                })
            }
            (
                Style::Finn {
                    wwidth_max, dsp, ..
                },
                Some(g),
            ) => {
                let (engines, samples) = Self::engines_and_samples(op, &g);
                let (mw, mh) = (g.k.max(1), g.n.max(1));
                let f = finn_fold(mw, mh, samples, w, finn_target, wwidth_max);
                Ok(self.finn_layer(f, mw as f64, mh as f64, w, a, engines, dsp, weights_on_chip))
            }
            (Style::Finn { dsp, .. }, None) if matches!(op.kind, OpKind::Conv2d(c) if c.is_depthwise()) =>
            {
                let OpKind::Conv2d(c) = op.kind else {
                    unreachable!("matched above")
                };
                let kernel = c.kh * c.kw;
                let vectors = (c.n * c.out_h() * c.out_w()) as f64;
                let f = finn_fold_vvau(c.c_in, kernel, vectors, finn_target);
                let dw_on_chip = op
                    .inputs
                    .get(1)
                    .is_some_and(|&t| graph.tensor(t).role == Role::Weight);
                let mut l =
                    self.finn_layer(f, kernel as f64, c.c_in as f64, w, a, 1.0, dsp, dw_on_chip);
                l.config = format!("VVAU PE {} SIMD {}", f.pe, f.simd);
                Ok(l)
            }
            (style, None) => {
                let (elems, outer) = out_elems(graph, op);
                let elems = elems.max(1.0);
                let lanes = match (self.vector_lanes, style) {
                    (Some(l), _) => l,
                    (None, Style::Hls4ml { .. }) => (elems / outer).max(1.0),
                    (None, Style::Finn { .. }) => {
                        let n = elems as u64;
                        divisors(n)
                            .into_iter()
                            .find(|&d| (n / d) as f64 <= finn_target)
                            .unwrap_or(n) as f64
                    }
                };
                Ok(Layer {
                    cycles: (elems / lanes).ceil(),
                    res: Resources {
                        lut: lanes * a,
                        ..Resources::default()
                    },
                    config: format!("{lanes} lanes"),
                    knobs: (lanes, 0.0),
                })
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn finn_layer(
        &self,
        f: Mvau,
        mw: f64,
        mh: f64,
        w: f64,
        a: f64,
        engines: f64,
        dsp: bool,
        weights_on_chip: bool,
    ) -> Layer {
        let (p, q) = (f.pe as f64, f.simd as f64);
        let mult = if dsp { 0.0 } else { q * lut_multiplier(w, a) };
        let adder = (w + a) * (2.0 * q - 1.0);
        let acc = finn_acc_bits(mw, w, a, self.act_signed);
        let lut = FINN_LUT_C0 + FINN_LUT_C1 * p * (mult + adder + acc);
        let bram = if weights_on_chip {
            finn_bram18(mw * mh / (p * q), p * q * w)
        } else {
            0.0
        };
        let dsps = if dsp {
            p * q * ((w + a) / 48.0).ceil()
        } else {
            0.0
        };
        Layer {
            cycles: f.cycles,
            res: Resources {
                dsp: engines * dsps,
                bram18: engines * bram,
                lut: engines * lut,
            },
            config: format!("PE {} SIMD {}", f.pe, f.simd),
            knobs: (p, q),
        }
    }

    /// The plan of `graph`: every layer's configuration, cycles and resources, checked against
    /// the budget.
    pub fn plan(&self, graph: &Graph) -> Result<FabricPlan, Infeasible> {
        let target = match self.style {
            Style::Finn { target, .. } => target,
            Style::Hls4ml { .. } => f64::INFINITY,
        };
        let build = |t: f64| -> Result<Vec<Layer>, Infeasible> {
            graph
                .ops
                .iter()
                .map(|op| self.layer(graph, op, t))
                .collect()
        };
        let mut layers = build(target)?;
        if let Style::Finn { .. } = self.style {
            let worst = layers.iter().map(|l| l.cycles).fold(0.0, f64::max);
            if worst > target {
                // FINN's two-pass relaxation: balance every layer to the bottleneck.
                layers = build(worst)?;
            }
        }
        let total = layers
            .iter()
            .fold(Resources::default(), |acc, l| acc + l.res);
        let u = &self.hw.units[self.unit];
        let b = self.budget;
        for (name, need, have) in [
            ("DSP", total.dsp, b.dsp),
            ("BRAM18", total.bram18, b.bram18),
            ("LUT", total.lut, b.lut),
        ] {
            if need > have {
                let how = match self.style {
                    Style::Hls4ml {
                        reuse, resource, ..
                    } => format!(
                        "hls4ml, reuse factor {reuse}, {} strategy",
                        if resource { "resource" } else { "latency" }
                    ),
                    Style::Finn { target, .. } => format!("FINN, target {target} cycles"),
                };
                return Err(Infeasible {
                    reason: format!(
                        "`{}` needs {need:.0} {name} but unit `{}` of `{}` has {have:.0} ({how})",
                        graph.name, u.name, self.hw.name
                    ),
                });
            }
        }
        Ok(FabricPlan { layers, total })
    }

    fn cached_plan(&self, graph: &Graph) -> Arc<Result<FabricPlan, Infeasible>> {
        let key = graph_key(graph);
        let mut c = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((k, p)) = c.as_ref()
            && *k == key
        {
            return p.clone();
        }
        let p = Arc::new(self.plan(graph));
        *c = Some((key, p.clone()));
        p
    }

    /// Cycles between successive inputs of the dataflow: its slowest layer.
    pub fn interval_cycles(&self, graph: &Graph) -> Result<f64, Infeasible> {
        match self.cached_plan(graph).as_ref() {
            Ok(p) => Ok(p.layers.iter().map(|l| l.cycles).fold(0.0, f64::max)),
            Err(e) => Err(e.clone()),
        }
    }
}

impl CostModel for Fpga<'_> {
    fn cost(
        &self,
        graph: &Graph,
        residency: &TensorHomes,
        op_id: OpId,
    ) -> Result<Ledger, Infeasible> {
        let plan = self.cached_plan(graph);
        let plan = plan.as_ref().as_ref().map_err(Clone::clone)?;
        let u = &self.hw.units[self.unit];
        let op = graph.op(op_id);
        let layer = &plan.layers[op_id.0 as usize];
        let e_b = self.mode.efficiency(u.bandwidth_efficiency);
        let overhead = self.mode.overhead(u.kernel_overhead_s);
        let mut l = Ledger::zero();
        l.flops = op.kind.flops();
        l.bytes = traffic(self.hw, self.unit, graph, residency, op_id)?;
        let mut t = layer.cycles / u.clock_hz;
        let mut limit = None;
        for &lvl in &u.reach {
            let m = &self.hw.memories[lvl];
            let tl = l.bytes[lvl] / (m.bytes_per_s * e_b);
            if tl > t {
                t = tl;
                limit = Some(lvl);
            }
            l.memory_j += l.bytes[lvl] * m.j_per_byte;
        }
        match limit {
            None => l.compute_bound_s = t,
            Some(lvl) => l.memory_bound_s[lvl] = t,
        }
        l.overhead_s = overhead;
        l.latency_s = t + overhead;
        let pj = widened(&u.j_per_op, op.compute).map_or(0.0, |x| x.1);
        l.compute_j = l.flops * pj;
        l.close_static(self.hw);
        Ok(l)
    }

    crate::cost::unit_accessors!();
}
