//! The runtime file as written: serde structs that mirror the TOML, with units in field names
//! and a provenance note on every figure. Nothing here is validated; see [`super::Runtime`].

use crate::hardware::{Figure, UnitKind};
use serde::Deserialize;
use toml::Spanned;

/// A whole runtime file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRuntime {
    /// `[runtime]`: identity and what it runs.
    pub runtime: RawIdentity,
    /// `[dispatch]`: how kernels are launched. Absent: the unit's own per-kernel overhead
    /// applies (a backend whose dispatch the device file itself measures, as `calibrate` does
    /// for the host).
    #[serde(default)]
    pub dispatch: Option<RawDispatch>,
    /// `[fusion]`: which op patterns run as one kernel.
    #[serde(default)]
    pub fusion: RawFusion,
    /// `[quant]`: quantization conventions.
    #[serde(default)]
    pub quant: RawQuant,
    /// `[attention]`: how attention kernels compute.
    #[serde(default)]
    pub attention: RawAttention,
    /// `[[efficiency]]`: kernel efficiencies by op class and weight format.
    #[serde(default)]
    pub efficiency: Vec<RawEfficiency>,
}

/// `[attention]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAttention {
    /// Whether a causal attention computes the full score square and masks it (instead of
    /// skipping the masked half).
    #[serde(default)]
    pub full_scores: bool,
    /// Where that comes from.
    #[serde(default)]
    pub source: Option<String>,
}

/// `[runtime]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawIdentity {
    /// Short name, e.g. `llama.cpp-cuda`.
    pub name: Spanned<String>,
    /// One-line description.
    pub description: String,
    /// The version or build the figures describe.
    pub version: String,
    /// Unit kinds it runs on.
    pub units: Vec<UnitKind>,
    /// Workload kinds it runs: `llm`, `network`.
    pub workloads: Vec<Spanned<String>>,
    /// Scheme bases it can run (`fp16`, `q4_0`, `q4_k_m`, `w4a16-g32`, `int8`); every scheme
    /// when absent.
    #[serde(default)]
    pub formats: Option<Vec<Spanned<String>>>,
    /// The error class its predictions are judged in: `cpu`, `gpu`, `accelerator` or `apple`.
    pub class: Spanned<String>,
    /// Notes on sources used throughout the file.
    #[serde(default)]
    pub notes: Option<String>,
}

/// `[dispatch]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDispatch {
    /// `per_op` (one launch per kernel) or `graph` (one compiled graph per run).
    pub mode: Spanned<String>,
    /// Seconds per kernel: a launch in `per_op` mode, the step between two kernels inside the
    /// compiled graph in `graph` mode.
    pub kernel_s: Figure,
    /// Seconds per run of the compiled graph (`graph` mode only).
    #[serde(default)]
    pub graph_s: Option<Figure>,
}

/// `[fusion]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFusion {
    /// Pattern names (see [`super::fusion::Pattern`]).
    #[serde(default)]
    pub patterns: Vec<Spanned<String>>,
    /// Whether activations stay on chip between kernels where they fit (a compiled graph's
    /// scheduler); otherwise each kernel's output goes to main memory.
    #[serde(default)]
    pub on_chip_activations: bool,
    /// Where the patterns and the residency come from.
    #[serde(default)]
    pub source: Option<String>,
}

/// `[quant]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawQuant {
    /// Whether the LM head is quantized like the other weights (`weights`) or kept in the
    /// float dtype (`float`, the default).
    #[serde(default)]
    pub head: Option<Spanned<String>>,
    /// The same for the token embedding.
    #[serde(default)]
    pub embed: Option<Spanned<String>>,
    /// The activations of products over integer weights: `int8` (the activations are
    /// quantized to int8 blocks and the product runs in integer dot products) or `float` (the
    /// default: weights are dequantized and the product runs in the float dtype).
    #[serde(default)]
    pub quantized_product: Option<Spanned<String>>,
    /// Where the conventions come from.
    #[serde(default)]
    pub source: Option<String>,
}

/// `[[efficiency]]`: the achievable fractions of one op class (and optionally one weight
/// format), overriding the unit's generic ones.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEfficiency {
    /// Op class: `gemm`, `gemv`, `conv`, `depthwise`, `attention`, `elementwise` or `any`.
    pub op: Spanned<String>,
    /// Weight format (`q4_0`, `q4_k`, `int4`, `int8`, `f16`, `f32`, `bf16`); every format when
    /// absent.
    #[serde(default)]
    pub weights: Option<Spanned<String>>,
    /// Fraction of the compute peak.
    #[serde(default)]
    pub compute: Option<Figure>,
    /// Fraction of the memory bandwidth.
    #[serde(default)]
    pub bandwidth: Option<Figure>,
    /// Most bytes the kernel moves per clock cycle of each of the unit's cores (a GPU's SMs):
    /// a kernel that keeps too few loads in flight cannot use a wide memory however fast it is.
    #[serde(default)]
    pub bytes_per_core_cycle: Option<Figure>,
}
