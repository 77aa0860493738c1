//! The hardware file as written: serde structs that mirror the TOML, with units in field names
//! and a provenance note on every figure. Nothing here is validated; see [`super::Hardware`].

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use toml::Spanned;

/// A number with its provenance: exactly one of `source` (where it was published or measured) or
/// `estimate` (how it was derived) must be given.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Figure {
    /// The value, in the unit named by the field.
    pub value: Spanned<f64>,
    /// Where the figure comes from (datasheet, paper, measurement).
    #[serde(default)]
    pub source: Option<String>,
    /// How the figure was estimated, when no source publishes it.
    #[serde(default)]
    pub estimate: Option<String>,
}

/// Compute unit kinds: what the unit is. The kind does not pick the cost model; `params.model`
/// does, through the registry in `crate::cost_models` (the roofline when it names none).
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "lowercase")]
pub enum UnitKind {
    /// CPU cores (one cluster).
    Cpu,
    /// GPU.
    Gpu,
    /// Neural processing unit / DSP.
    Npu,
    /// Systolic array accelerator.
    Systolic,
    /// Processing in memory.
    Pim,
    /// FPGA fabric.
    Fpga,
}

/// `[device]`: identity of the device.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawDevice {
    /// Short name, e.g. `pixel8`.
    pub name: Spanned<String>,
    /// One-line description.
    pub description: String,
    /// Unit used when none is asked for.
    #[serde(default)]
    pub default_unit: Option<Spanned<String>>,
    /// General notes (references used throughout the file).
    #[serde(default)]
    pub notes: Option<String>,
}

/// `[[unit]]`: one compute unit (a CPU cluster, a GPU, an NPU, ...).
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawUnit {
    /// Unique name within the device, e.g. `cpu-big`.
    pub name: Spanned<String>,
    /// Which kind of unit.
    pub kind: UnitKind,
    /// Cores, SMs, PEs or banks, as the kind counts them.
    pub count: Figure,
    /// Clock in Hz.
    pub clock_hz: Figure,
    /// Peak operations per second of the matrix engine, by dtype (`f32`, `f16`, `bf16`, `fp8`,
    /// `i8`, `i4`); a MAC counts as 2 operations.
    pub peak_ops_per_s: BTreeMap<String, Figure>,
    /// Peak operations per second for elementwise and reduction work, by dtype; defaults to
    /// `peak_ops_per_s` where absent.
    #[serde(default)]
    pub vector_ops_per_s: BTreeMap<String, Figure>,
    /// Sustained transcendental evaluations (`exp`, `tanh`) per second, by dtype: the
    /// special-function units of a GPU, or a CPU math library's routine. Optional; where absent,
    /// transcendentals cost only their FLOPs.
    #[serde(default)]
    pub special_ops_per_s: BTreeMap<String, Figure>,
    /// Achievable fraction (0, 1] of peak bandwidth per memory level, by level name, where it
    /// differs from `bandwidth_efficiency` (a runtime's streaming kernels reach more of a
    /// cache's bandwidth than of DRAM's, or less). Optional; levels not named use
    /// `bandwidth_efficiency`.
    #[serde(default)]
    pub level_bandwidth_efficiency: BTreeMap<String, Figure>,
    /// Fraction (0, 1] of a memory level's `bytes_per_s` at which a GEMM kernel packs the
    /// operand it reuses across rows (CPU BLAS-style panel packing, a serial pass before the
    /// micro-kernel runs). Optional; where absent, packing costs nothing extra.
    #[serde(default)]
    pub pack_bandwidth_efficiency: Option<Figure>,
    /// Packing efficiency per memory level, by level name, where it differs from
    /// `pack_bandwidth_efficiency` for operands whose home is that level (packing a cache-resident
    /// operand is bound by the gather loop, not by the level's bandwidth, so its fraction of the
    /// level's `bytes_per_s` differs from DRAM's). Optional; levels not named use
    /// `pack_bandwidth_efficiency`.
    #[serde(default)]
    pub level_pack_bandwidth_efficiency: BTreeMap<String, Figure>,
    /// Row stride, bytes, at which the rows a packing kernel gathers together map to the same
    /// sets of the first-level cache (its capacity over its ways, e.g. 32 KiB / 8 = 4 KiB): an
    /// operand whose rows are a multiple of it long packs at the `conflict` efficiencies.
    /// Optional; where absent, every operand packs at the same efficiency.
    #[serde(default)]
    pub pack_conflict_stride_bytes: Option<Figure>,
    /// Packing efficiency per memory level, by level name, of an operand whose rows are a
    /// multiple of `pack_conflict_stride_bytes` long (power-of-two hidden sizes: LLM weights).
    /// Optional; levels not named use `level_pack_bandwidth_efficiency`.
    #[serde(default)]
    pub level_pack_conflict_bandwidth_efficiency: BTreeMap<String, Figure>,
    /// Bytes per second at which a matrix-vector product re-reads its input vector from the
    /// unit's second memory level, when the vector and one weight row do not fit together in
    /// the first (one core's share of it): a dot-product GEMV over `[out, in]` weights reads
    /// the vector once per output, and those re-reads run in series with the weight stream.
    /// Optional; where absent, the vector is read once.
    #[serde(default)]
    pub reuse_refetch_bytes_per_s: Option<Figure>,
    /// Depth, in multiply-accumulates per output, that each pass of a GEMM micro-kernel costs
    /// beyond its own (loading and storing its accumulator tile, setting up the pass): a product
    /// of depth `K` (a matmul's `k`, a convolution's `c_in/groups·kh·kw`, attention's head
    /// dimension) computes at `K / (K + this)` of the compute rate. Optional; where absent,
    /// depth costs nothing.
    #[serde(default)]
    pub gemm_depth_overhead: Option<Figure>,
    /// Elements per second a runtime gathers from a strided view (a strided convolution's
    /// input read with the stride as its innermost step, one element at a time): the im2col
    /// matrix of a strided GEMM-lowered convolution. Optional; where absent, strided gathers
    /// cost what contiguous packing does.
    #[serde(default)]
    pub strided_gather_elems_per_s: Option<Figure>,
    /// Elements per second a row reduction whose accumulator is one serial chain consumes
    /// (the floating-point add or max latency bound of a scalar loop, as runtimes without
    /// vectorised reductions run norms and softmax maxima). Optional; where absent, reductions
    /// cost only their FLOPs.
    #[serde(default)]
    pub serial_reduce_elems_per_s: Option<Figure>,
    /// Sustained multiply-accumulates per second of a depthwise convolution (each channel its
    /// own group), for units whose runtime runs it apart from the GEMM path (CPU runtimes
    /// without a depthwise kernel, GPU kernels bound by their per-channel windows). Optional;
    /// where absent, depthwise convolutions run at the vector peak.
    #[serde(default)]
    pub depthwise_macs_per_s: Option<Figure>,
    /// Sustained operations per second (a MAC is 2) of matrix products over weights stored in
    /// quantized blocks with a scale per block (ggml's q8_0/q4_0), by weight dtype (`i8`,
    /// `i4`): block-dot kernels that unpack and rescale as they go, which need not run at the
    /// integer peak. Optional; where absent, such products run at the peak of their compute
    /// dtype.
    #[serde(default)]
    pub block_quant_ops_per_s: BTreeMap<String, Figure>,
    /// Dynamic energy per operation, by dtype.
    pub pj_per_op: BTreeMap<String, Figure>,
    /// Memory levels this unit reaches, innermost first.
    pub memory: Vec<Spanned<String>>,
    /// Achievable fraction of peak compute in practice (0, 1].
    pub compute_efficiency: Figure,
    /// Achievable fraction of peak bandwidth in practice (0, 1].
    pub bandwidth_efficiency: Figure,
    /// Fixed cost per kernel launch or dispatch, in seconds.
    pub kernel_overhead_s: Figure,
    /// Kind-specific parameters for cycle models (array shape, dataflow, SIMD width, ...).
    #[serde(default)]
    pub params: Option<toml::Table>,
    /// The software stack that runs each kind of workload on this unit by default (a runtime
    /// in `runtimes/`), with where that choice comes from. Optional; without it the unit is
    /// priced by its own figures alone (the `ideal` runtime).
    #[serde(default)]
    pub runtimes: Option<RawUnitRuntimes>,
}

/// `[unit.runtimes]`: the default runtime of a unit per workload kind.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawUnitRuntimes {
    /// Runtime for LLMs (prefill and decode).
    #[serde(default)]
    pub llm: Option<Spanned<String>>,
    /// Runtime for networks (CNNs, ViTs, encoders).
    #[serde(default)]
    pub network: Option<Spanned<String>>,
    /// Where the choice is documented (a vendor's deployment guide, a benchmark's stack).
    #[serde(default)]
    pub source: Option<String>,
    /// Why the choice is made, when no source states it.
    #[serde(default)]
    pub estimate: Option<String>,
}

/// `[[memory]]`: one level of the memory hierarchy.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawMemory {
    /// Unique name within the device, e.g. `dram`, `l2`, `slc`.
    pub name: Spanned<String>,
    /// Capacity in bytes.
    pub capacity_bytes: Figure,
    /// Bytes a workload may use (e.g. phone RAM minus the OS); defaults to the capacity.
    #[serde(default)]
    pub usable_bytes: Option<Figure>,
    /// Peak bandwidth in bytes per second.
    pub bytes_per_s: Figure,
    /// Access energy per byte, in picojoules.
    pub pj_per_byte: Figure,
    /// Who decides what the level holds: `"hardware"` (a cache; the default) or `"software"` (a
    /// scratchpad or global buffer that a compiler or mapper fills explicitly, e.g. a systolic
    /// array's SRAM). Only software-managed levels can take a scratchpad mapper's plan.
    #[serde(default)]
    pub managed: Option<Spanned<Managed>>,
    /// True for storage the unit only reads while it runs (a microcontroller's on-chip flash,
    /// executed in place): the model's weights live there and are read from it, and nothing
    /// else (activations, inputs, outputs, KV cache) may. Default `false`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub read_only: bool,
}

/// Who manages a memory level's contents.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Managed {
    /// A cache: the hardware chooses what stays.
    #[default]
    Hardware,
    /// A scratchpad: software places and evicts tensors explicitly.
    Software,
}

/// `[power]`: device-level power.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawPower {
    /// Static (leakage and idle) power while the workload runs, in watts.
    pub static_w: Figure,
}

/// A whole hardware file.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawHardware {
    /// Identity.
    pub device: RawDevice,
    /// Compute units.
    pub unit: Vec<RawUnit>,
    /// Memory levels.
    pub memory: Vec<RawMemory>,
    /// Power.
    pub power: RawPower,
}
