//! Runtimes: how a software stack executes a graph on a kind of unit. The hardware file says what
//! the silicon can do; a runtime says what one stack (llama.cpp's CUDA backend, Qualcomm QNN,
//! Core ML on the Neural Engine, ...) gets out of it:
//!
//! * **dispatch**: a launch per kernel (`per_op`), or one compiled graph per run (`graph`) with
//!   a small step between the kernels inside it;
//! * **fusion** ([`fusion`]): which op patterns run as one kernel, and whether activations stay
//!   on chip between kernels where they fit (a compiled graph's scheduler) or go to main memory
//!   after every kernel;
//! * **kernel efficiency** by op class and weight format, overriding the unit's generic
//!   fractions where the runtime has an entry;
//! * **quantization conventions**: whether the LM head and the embedding are quantized with the
//!   other weights, and whether products over integer weights take int8-quantized activations
//!   (ggml's q8 dot products) or dequantize to the float dtype;
//! * which unit kinds, workload kinds and weight formats it runs at all: anything else is an
//!   [`Infeasible`] value with its reason.
//!
//! Runtimes are data: one TOML file per runtime in `runtimes/`, embedded at build time, with the
//! same discipline as hardware files (unknown fields are errors, units in field names, a
//! `source` or `estimate` on every figure). The runtime `ideal` is today's behaviour without a
//! runtime: the unit's own figures, no fusion, the default residency.
//!
//! The code that applies a runtime sits at the cost seam ([`apply`]): it derives the unit's
//! figures, wraps the unit's cost model, and rewrites where tensors live; consumers get a
//! [`crate::cost::CostModel`] as before.

pub mod apply;
pub mod fusion;
pub mod raw;
pub mod show;

pub use apply::{GraphPlan, RuntimeModel, RuntimeView, Scales};
pub use fusion::{FusionPlan, Pattern};

use crate::cost::Infeasible;
use crate::hardware::{Figure, Hardware, UnitKind};
use crate::util::text::line_at;
use crate::workload::{DType, GgmlType, Graph, QuantScheme, Storage};
use raw::RawRuntime;
use std::path::Path;

/// The name of the runtime that applies nothing (today's behaviour).
pub const IDEAL: &str = "ideal";

/// Errors loading a runtime.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// The file could not be read.
    #[error("{file}: cannot read: {source}")]
    Io {
        /// File.
        file: String,
        /// Cause.
        source: std::io::Error,
    },
    /// TOML syntax error, unknown field, missing field or wrong type.
    #[error("{file}:{line}: {message}")]
    Parse {
        /// File.
        file: String,
        /// 1-based line (0 when unknown).
        line: usize,
        /// What the parser said.
        message: String,
    },
    /// A value that parses but makes no sense.
    #[error("{file}:{line}: field `{field}`: {message}")]
    Invalid {
        /// File.
        file: String,
        /// 1-based line (0 when unknown).
        line: usize,
        /// Dotted field path.
        field: String,
        /// What was expected.
        message: String,
    },
    /// A device names a default runtime that does not load or cannot run its unit.
    #[error("{file}: unit `{unit}` names `{name}` as its default {kind} runtime, but {reason}")]
    BadDefault {
        /// The device file.
        file: String,
        /// The unit.
        unit: String,
        /// `llm` or `network`.
        kind: &'static str,
        /// The runtime named.
        name: String,
        /// Why it cannot be used.
        reason: String,
    },
    /// No such file or shipped runtime.
    #[error("unknown runtime `{name}`: no such file, and not a shipped runtime; known: {known}")]
    NotFound {
        /// What was asked for.
        name: String,
        /// Shipped runtimes.
        known: String,
    },
}

/// How kernels are launched.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Dispatch {
    /// One launch per kernel, `kernel_s` each.
    PerOp {
        /// Seconds per launch.
        kernel_s: f64,
    },
    /// One compiled graph per run: `graph_s` per run plus `kernel_s` between kernels.
    Graph {
        /// Seconds per run of the graph.
        graph_s: f64,
        /// Seconds per kernel inside it.
        kernel_s: f64,
    },
}

impl Dispatch {
    /// Seconds per kernel.
    pub fn kernel_s(&self) -> f64 {
        match *self {
            Dispatch::PerOp { kernel_s } | Dispatch::Graph { kernel_s, .. } => kernel_s,
        }
    }

    /// Seconds per run of the whole graph (0 for per-op dispatch).
    pub fn graph_s(&self) -> f64 {
        match *self {
            Dispatch::PerOp { .. } => 0.0,
            Dispatch::Graph { graph_s, .. } => graph_s,
        }
    }
}

/// The op classes an efficiency entry can name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OpClass {
    /// A matrix product with more than one row per weight (prefill, batched).
    Gemm,
    /// A matrix-vector product (decode).
    Gemv,
    /// A non-depthwise convolution.
    Conv,
    /// A depthwise convolution.
    Depthwise,
    /// Attention's products and softmax.
    Attention,
    /// Everything else: elementwise, norms, softmax, data movement, pooling, embedding.
    Elementwise,
}

impl OpClass {
    /// Every class with its name in runtime files.
    pub const ALL: [(OpClass, &'static str); 6] = [
        (OpClass::Gemm, "gemm"),
        (OpClass::Gemv, "gemv"),
        (OpClass::Conv, "conv"),
        (OpClass::Depthwise, "depthwise"),
        (OpClass::Attention, "attention"),
        (OpClass::Elementwise, "elementwise"),
    ];

    /// The class of an op kind.
    pub fn of(kind: &crate::workload::OpKind) -> OpClass {
        use crate::workload::OpKind;
        match kind {
            OpKind::MatMul { m: 1, .. } => OpClass::Gemv,
            OpKind::MatMul { .. } | OpKind::MoeExperts { .. } => OpClass::Gemm,
            OpKind::Conv2d(c) | OpKind::ConvTranspose2d(c) if c.is_depthwise() => {
                OpClass::Depthwise
            }
            OpKind::Conv2d(_) | OpKind::ConvTranspose2d(_) => OpClass::Conv,
            OpKind::Attention { .. } => OpClass::Attention,
            _ => OpClass::Elementwise,
        }
    }
}

/// Which weights an efficiency entry applies to.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum WeightMatch {
    /// Every format.
    Any,
    /// One ggml block type exactly (`q4_0`).
    Ggml(GgmlType),
    /// Any storage with this payload dtype (`int4`, `int8`, `f16`).
    Dtype(DType),
}

impl WeightMatch {
    fn parse(s: &str) -> Option<WeightMatch> {
        match s {
            "any" => Some(WeightMatch::Any),
            "int4" => Some(WeightMatch::Dtype(DType::I4)),
            "int8" => Some(WeightMatch::Dtype(DType::I8)),
            _ => GgmlType::parse(s)
                .filter(|t| t.block() > 1)
                .map(WeightMatch::Ggml)
                .or_else(|| DType::parse(s).map(WeightMatch::Dtype)),
        }
    }

    /// Whether weights stored as `s` match (`None`: the op has no weight, only `Any` matches).
    pub fn matches(&self, s: Option<Storage>) -> bool {
        match (self, s) {
            (WeightMatch::Any, _) => true,
            (WeightMatch::Ggml(t), Some(s)) => t.storage() == s,
            (WeightMatch::Dtype(d), Some(s)) => s.dtype == *d,
            _ => false,
        }
    }

    /// How specific the match is (a ggml type beats a dtype beats any).
    fn rank(&self) -> u8 {
        match self {
            WeightMatch::Any => 0,
            WeightMatch::Dtype(_) => 1,
            WeightMatch::Ggml(_) => 2,
        }
    }
}

/// Largest `bytes_per_core_cycle` a runtime file may give: 4 KiB per core and cycle, far above
/// any core's load path (a GPU SM moves at most a few hundred bytes a cycle from its L1).
pub const MAX_BYTES_PER_CORE_CYCLE: f64 = 4096.0;

/// One `[[efficiency]]` entry.
#[derive(Clone, Debug, PartialEq)]
pub struct KernelEfficiency {
    /// Op class, `None` for `any`.
    pub op: Option<OpClass>,
    /// Weights it applies to.
    pub weights: WeightMatch,
    /// Fraction of the compute peak, where given.
    pub compute: Option<f64>,
    /// Fraction of the bandwidth, where given.
    pub bandwidth: Option<f64>,
    /// Most bytes moved per clock cycle of each core of the unit, where given: the bandwidth
    /// fraction at a memory level is at most `count x clock_hz x this / bytes_per_s`.
    pub bytes_per_core_cycle: Option<f64>,
}

/// Workload kinds a runtime can run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WorkloadKind {
    /// A decoder LLM (prefill and decode).
    Llm,
    /// A network run as one forward pass (CNN, ViT, encoder, ONNX graph).
    Network,
}

impl WorkloadKind {
    /// Its name in runtime files.
    pub fn name(self) -> &'static str {
        match self {
            WorkloadKind::Llm => "llm",
            WorkloadKind::Network => "network",
        }
    }
}

/// A validated runtime.
#[derive(Clone, Debug, PartialEq)]
pub struct Runtime {
    /// Short name.
    pub name: String,
    /// One-line description.
    pub description: String,
    /// Version or build the figures describe.
    pub version: String,
    /// Unit kinds it runs on (empty for `ideal`: every kind).
    pub units: Vec<UnitKind>,
    /// Workload kinds it runs (empty for `ideal`: every kind).
    pub workloads: Vec<WorkloadKind>,
    /// Scheme bases it runs; `None`: every scheme.
    pub formats: Option<Vec<String>>,
    /// Error class: `cpu`, `gpu`, `accelerator`, `apple` (`ideal` for the ideal runtime).
    pub class: String,
    /// Dispatch; `None` for `ideal` (the unit's own per-kernel overhead).
    pub dispatch: Option<Dispatch>,
    /// Fusion patterns.
    pub patterns: Vec<Pattern>,
    /// Whether activations stay on chip where they fit (`true` for `ideal`: the default
    /// residency).
    pub on_chip_activations: bool,
    /// LM head quantized with the weights.
    pub quantize_head: bool,
    /// Embedding quantized with the weights.
    pub quantize_embed: bool,
    /// Products over integer weights take int8 activations.
    pub int8_products: bool,
    /// Causal attention computes the full score square and masks it.
    pub full_scores: bool,
    /// Efficiency entries, in file order.
    pub efficiency: Vec<KernelEfficiency>,
    /// Where it was loaded from.
    pub file: String,
}

/// The runtime device `hw` names for `kind` workloads on unit `unit` (its `[unit.runtimes]`),
/// or [`Runtime::ideal`] when it names none. An error when the name is not a runtime, or names
/// one that does not run that unit or that kind of workload.
pub fn default_for(
    hw: &Hardware,
    unit: usize,
    kind: WorkloadKind,
) -> Result<Runtime, RuntimeError> {
    let u = &hw.units[unit];
    let name = match kind {
        WorkloadKind::Llm => &u.runtimes.llm,
        WorkloadKind::Network => &u.runtimes.network,
    };
    let Some(name) = name else {
        return Ok(Runtime::ideal());
    };
    let bad = |reason: String| RuntimeError::BadDefault {
        file: hw.file.clone(),
        unit: u.name.clone(),
        kind: kind.name(),
        name: name.clone(),
        reason,
    };
    let rt = Runtime::load(name).map_err(|e| bad(e.to_string()))?;
    rt.check_unit(u.kind, &u.name, kind)
        .map_err(|e| bad(e.reason))?;
    Ok(rt)
}

/// The runtime asked for by name, or, with none, the device's default for the unit and the
/// workload kind ([`default_for`]).
pub fn resolve(
    name: Option<&str>,
    hw: &Hardware,
    unit: usize,
    kind: WorkloadKind,
) -> Result<Runtime, RuntimeError> {
    match name {
        Some(n) => Runtime::load(n),
        None => default_for(hw, unit, kind),
    }
}

/// The runtime of a command's `--runtime NAME` and `--ideal` flags: the named one; with no
/// name, `ideal` in the textbook mode (`ideal`), else the device's default for the unit and the
/// workload kind ([`resolve`]).
pub fn resolve_flag(
    name: Option<&str>,
    ideal: bool,
    hw: &Hardware,
    unit: usize,
    kind: WorkloadKind,
) -> Result<Runtime, RuntimeError> {
    match (name, ideal) {
        (None, true) => Ok(Runtime::ideal()),
        (name, _) => resolve(name, hw, unit, kind),
    }
}

/// The class names a runtime file may give.
pub const CLASSES: [&str; 4] = ["cpu", "gpu", "accelerator", "apple"];

impl Runtime {
    /// The runtime that applies nothing: the unit's own figures and overheads, no fusion, the
    /// default residency.
    pub fn ideal() -> Runtime {
        Runtime {
            name: IDEAL.into(),
            description: "no runtime: the unit's own figures, no fusion, the default residency"
                .into(),
            version: String::new(),
            units: Vec::new(),
            workloads: Vec::new(),
            formats: None,
            class: IDEAL.into(),
            dispatch: None,
            patterns: Vec::new(),
            on_chip_activations: true,
            quantize_head: false,
            quantize_embed: false,
            int8_products: false,
            full_scores: false,
            efficiency: Vec::new(),
            file: String::new(),
        }
    }

    /// `graph` as this runtime computes it: where causal attention computes the full score
    /// square and masks it, every attention op priced without the causal skip.
    pub fn prepare<'g>(&self, graph: &'g Graph) -> std::borrow::Cow<'g, Graph> {
        use crate::workload::OpKind;
        if !self.full_scores
            || !graph
                .ops
                .iter()
                .any(|o| matches!(o.kind, OpKind::Attention { shape, .. } if shape.causal))
        {
            return std::borrow::Cow::Borrowed(graph);
        }
        let mut g = graph.clone();
        for op in &mut g.ops {
            if let OpKind::Attention { shape, .. } = &mut op.kind {
                shape.causal = false;
            }
        }
        std::borrow::Cow::Owned(g)
    }

    /// `scheme` under this runtime's quantization conventions: the LM head and the embedding
    /// take the weights' storage where the runtime quantizes them (not under a llama.cpp file
    /// type, whose mix decides), and products over integer weights compute in int8 where the
    /// runtime quantizes their activations, unless the scheme names its activations' width
    /// ([`QuantScheme::names_activation_width`]): a `w8a16` graph keeps 16-bit activations and
    /// its products run at the 16-bit rate (Qualcomm AI Hub's w8a16 models on the HTP).
    pub fn scheme(&self, scheme: &QuantScheme) -> QuantScheme {
        let mut s = scheme.clone();
        let int_weights = !s.weights.dtype.is_float();
        if int_weights && s.ggml.is_none() {
            if self.quantize_head && s.head.dtype.is_float() {
                s.head = s.weights;
            }
            if self.quantize_embed && s.embed.dtype.is_float() {
                s.embed = s.weights;
            }
        }
        if int_weights && self.int8_products && !s.names_activation_width() {
            s.linear_compute = DType::I8;
        }
        s
    }

    /// Whether this is the ideal runtime.
    pub fn is_ideal(&self) -> bool {
        self.name == IDEAL
    }

    /// Resolves `--runtime`: `ideal`, a path, a file name in `runtimes/`, or a shipped name.
    pub fn load(name: &str) -> Result<Runtime, RuntimeError> {
        if name == IDEAL {
            return Ok(Runtime::ideal());
        }
        let (file, text) = Runtime::find_text(name)?;
        Runtime::from_toml_str(&text, &file)
    }

    /// The file name and text of runtime `name` (not `ideal`, which has no file): a path to a
    /// runtime file, `runtimes/NAME.toml` in the working directory, or a shipped runtime.
    pub fn find_text(name: &str) -> Result<(String, String), RuntimeError> {
        let file = format!("{}.toml", name.trim_end_matches(".toml"));
        // A path first; then a `runtimes/` folder in the working directory, which overrides the
        // shipped files as a `hardware-db/` folder does for devices (an edited copy is tried
        // without a rebuild); then the shipped file.
        let local = Path::new("runtimes").join(&file);
        if let Some(path) = [Path::new(name), local.as_path()]
            .into_iter()
            .find(|p| p.is_file())
        {
            let label = path.display().to_string();
            let text = std::fs::read_to_string(path).map_err(|source| RuntimeError::Io {
                file: label.clone(),
                source,
            })?;
            return Ok((label, text));
        }
        match crate::embedded::RUNTIMES.iter().find(|(f, _)| *f == file) {
            Some((f, text)) => Ok((format!("runtimes/{f}"), text.to_string())),
            None => Err(RuntimeError::NotFound {
                name: name.to_string(),
                known: known_runtimes().join(", "),
            }),
        }
    }

    /// Parses and validates runtime text; `file` names it in errors.
    pub fn from_toml_str(text: &str, file: &str) -> Result<Runtime, RuntimeError> {
        let raw: RawRuntime = toml::from_str(text).map_err(|e| RuntimeError::Parse {
            file: file.to_string(),
            line: crate::util::text::toml_error_line(text, &e),
            message: e.message().to_string(),
        })?;
        Checker { file, text }.runtime(raw)
    }

    /// Infeasible unless this runtime runs `kind` workloads on a unit of kind `unit` (named
    /// `unit_name`) with scheme `scheme`.
    pub fn check_runs(
        &self,
        unit: UnitKind,
        unit_name: &str,
        kind: WorkloadKind,
        scheme: &str,
    ) -> Result<(), Infeasible> {
        self.check_unit(unit, unit_name, kind)?;
        self.check_format(scheme)
    }

    /// Infeasible unless this runtime runs `kind` workloads on a unit of kind `unit` (named
    /// `unit_name`), whatever the scheme.
    pub fn check_unit(
        &self,
        unit: UnitKind,
        unit_name: &str,
        kind: WorkloadKind,
    ) -> Result<(), Infeasible> {
        let unit_kind = format!("{unit:?}").to_lowercase();
        if !self.units.is_empty() && !self.units.contains(&unit) {
            return Err(Infeasible {
                reason: format!(
                    "runtime `{}` does not run on {unit_kind} units (unit `{unit_name}`); it runs on: {}",
                    self.name,
                    self.units
                        .iter()
                        .map(|u| format!("{u:?}").to_lowercase())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            });
        }
        if !self.workloads.is_empty() && !self.workloads.contains(&kind) {
            return Err(Infeasible {
                reason: format!(
                    "runtime `{}` does not run {} workloads",
                    self.name,
                    kind.name()
                ),
            });
        }
        Ok(())
    }

    /// Infeasible unless this runtime runs weights in quantization scheme `scheme`.
    pub fn check_format(&self, scheme: &str) -> Result<(), Infeasible> {
        let base = canonical_base(scheme);
        if let Some(formats) = &self.formats {
            if !formats.iter().any(|f| canonical_base(f) == base) {
                return Err(Infeasible {
                    reason: format!(
                        "runtime `{}` does not run weights in `{base}`; it runs: {}",
                        self.name,
                        formats.join(", ")
                    ),
                });
            }
        }
        Ok(())
    }

    /// The efficiency entry for an op of class `class` with weights `weights`: the most specific
    /// entry that names the class (or `any`) and matches the weights; later entries win ties.
    pub fn efficiency_for(
        &self,
        class: OpClass,
        weights: Option<Storage>,
    ) -> Option<(usize, &KernelEfficiency)> {
        self.efficiency
            .iter()
            .enumerate()
            .filter(|(_, e)| e.op.is_none_or(|c| c == class) && e.weights.matches(weights))
            .max_by_key(|(i, e)| (e.op.is_some() as u8, e.weights.rank(), *i))
    }
}

/// The base of a scheme name (before any `+` modifier), lower case, with the float aliases
/// folded (`f16` is `fp16`, `f32` is `fp32`).
pub fn canonical_base(scheme: &str) -> String {
    let base = scheme
        .split('+')
        .next()
        .unwrap_or(scheme)
        .trim()
        .to_ascii_lowercase();
    match base.as_str() {
        "f16" => "fp16".into(),
        "f32" => "fp32".into(),
        _ => base,
    }
}

/// The names of the shipped runtimes, `ideal` first.
pub fn known_runtimes() -> Vec<String> {
    std::iter::once(IDEAL.to_string())
        .chain(
            crate::embedded::RUNTIMES
                .iter()
                .map(|(f, _)| f.trim_end_matches(".toml").to_string()),
        )
        .collect()
}

struct Checker<'a> {
    file: &'a str,
    text: &'a str,
}

impl Checker<'_> {
    fn invalid(
        &self,
        span: Option<std::ops::Range<usize>>,
        field: &str,
        message: String,
    ) -> RuntimeError {
        RuntimeError::Invalid {
            file: self.file.to_string(),
            line: span.map_or(0, |s| line_at(self.text.as_bytes(), s.start)),
            field: field.to_string(),
            message,
        }
    }

    /// A figure with provenance in `(0, max]` (`allow_zero`: `[0, max]`).
    fn figure(
        &self,
        f: &Figure,
        field: &str,
        max: f64,
        allow_zero: bool,
    ) -> Result<f64, RuntimeError> {
        let v = *f.value.get_ref();
        let span = Some(f.value.span());
        let ok = v.is_finite() && v <= max && (v > 0.0 || (allow_zero && v == 0.0));
        if !ok {
            let low = if allow_zero { "[0" } else { "(0" };
            return Err(self.invalid(
                span,
                field,
                format!("expected a number in {low}, {max}], found {v}"),
            ));
        }
        match (&f.source, &f.estimate) {
            (Some(s), None) if !s.trim().is_empty() => Ok(v),
            (None, Some(e)) if !e.trim().is_empty() => Ok(v),
            (Some(_), Some(_)) => Err(self.invalid(
                span,
                field,
                "give either `source` or `estimate`, not both".into(),
            )),
            _ => Err(self.invalid(
                span,
                field,
                "every figure needs a non-empty `source` or `estimate`".into(),
            )),
        }
    }

    fn runtime(&self, raw: RawRuntime) -> Result<Runtime, RuntimeError> {
        let id = &raw.runtime;
        let name = id.name.get_ref().clone();
        if name.trim().is_empty() || name == IDEAL {
            return Err(self.invalid(
                Some(id.name.span()),
                "runtime.name",
                format!("expected a name other than `{IDEAL}`, found `{name}`"),
            ));
        }
        if id.units.is_empty() {
            return Err(self.invalid(None, "runtime.units", "name at least one unit kind".into()));
        }
        let workloads = self.workloads(&id.workloads)?;
        let formats = self.formats(id.formats.as_deref())?;
        let class = id.class.get_ref().clone();
        if !CLASSES.contains(&class.as_str()) {
            return Err(self.invalid(
                Some(id.class.span()),
                "runtime.class",
                format!(
                    "unknown class `{class}`; expected one of {}",
                    CLASSES.join(", ")
                ),
            ));
        }
        let dispatch = raw
            .dispatch
            .as_ref()
            .map(|d| self.dispatch(d))
            .transpose()?;
        let patterns = self.patterns(&raw.fusion.patterns)?;
        let q = &raw.quant;
        let quantize_head = self.choice(&q.head, "quant.head", "weights", "float")?;
        let quantize_embed = self.choice(&q.embed, "quant.embed", "weights", "float")?;
        let int8_products = self.choice(
            &q.quantized_product,
            "quant.quantized_product",
            "int8",
            "float",
        )?;
        let mut efficiency = Vec::new();
        for (i, e) in raw.efficiency.iter().enumerate() {
            efficiency.push(self.efficiency(i, e)?);
        }
        Ok(Runtime {
            name,
            description: id.description.clone(),
            version: id.version.clone(),
            units: id.units.clone(),
            workloads,
            formats,
            class,
            dispatch,
            patterns,
            on_chip_activations: raw.fusion.on_chip_activations,
            quantize_head,
            quantize_embed,
            int8_products,
            full_scores: raw.attention.full_scores,
            efficiency,
            file: self.file.to_string(),
        })
    }

    /// `runtime.workloads`: at least one known workload kind.
    fn workloads(&self, list: &[toml::Spanned<String>]) -> Result<Vec<WorkloadKind>, RuntimeError> {
        let mut workloads = Vec::new();
        for w in list {
            let k = match w.get_ref().as_str() {
                "llm" => WorkloadKind::Llm,
                "network" => WorkloadKind::Network,
                other => {
                    return Err(self.invalid(
                        Some(w.span()),
                        "runtime.workloads",
                        format!("unknown workload kind `{other}`; expected llm or network"),
                    ));
                }
            };
            workloads.push(k);
        }
        if workloads.is_empty() {
            return Err(self.invalid(
                None,
                "runtime.workloads",
                "name at least one of llm, network".into(),
            ));
        }
        Ok(workloads)
    }

    /// `runtime.formats`: each a quantization scheme archscope knows, in lower case (`None`:
    /// the runtime runs every scheme).
    fn formats(
        &self,
        list: Option<&[toml::Spanned<String>]>,
    ) -> Result<Option<Vec<String>>, RuntimeError> {
        Ok(match list {
            None => None,
            Some(list) => {
                let mut out = Vec::new();
                for f in list {
                    let s = f.get_ref().to_ascii_lowercase();
                    if crate::workload::QuantScheme::parse(&s).is_err() {
                        return Err(self.invalid(
                            Some(f.span()),
                            "runtime.formats",
                            format!("`{s}` is not a quantization scheme archscope knows"),
                        ));
                    }
                    out.push(s);
                }
                Some(out)
            }
        })
    }

    /// `[dispatch]`: a per-op or a graph dispatch, with its costs.
    fn dispatch(&self, d: &raw::RawDispatch) -> Result<Dispatch, RuntimeError> {
        let kernel_s = self.figure(&d.kernel_s, "dispatch.kernel_s", 1.0, true)?;
        Ok(match d.mode.get_ref().as_str() {
            "per_op" => {
                if let Some(g) = &d.graph_s {
                    return Err(self.invalid(
                        Some(g.value.span()),
                        "dispatch.graph_s",
                        "only a `graph` dispatch has a per-graph cost".into(),
                    ));
                }
                Dispatch::PerOp { kernel_s }
            }
            "graph" => {
                let g = d.graph_s.as_ref().ok_or_else(|| {
                    self.invalid(
                        Some(d.mode.span()),
                        "dispatch.graph_s",
                        "a `graph` dispatch needs `graph_s`".into(),
                    )
                })?;
                Dispatch::Graph {
                    graph_s: self.figure(g, "dispatch.graph_s", 10.0, true)?,
                    kernel_s,
                }
            }
            other => {
                return Err(self.invalid(
                    Some(d.mode.span()),
                    "dispatch.mode",
                    format!("unknown mode `{other}`; expected per_op or graph"),
                ));
            }
        })
    }

    /// `fusion.patterns`: each a known fusion pattern.
    fn patterns(&self, list: &[toml::Spanned<String>]) -> Result<Vec<Pattern>, RuntimeError> {
        let mut patterns = Vec::new();
        for p in list {
            let pat = Pattern::parse(p.get_ref()).ok_or_else(|| {
                self.invalid(
                    Some(p.span()),
                    "fusion.patterns",
                    format!(
                        "unknown pattern `{}`; expected one of {}",
                        p.get_ref(),
                        Pattern::ALL.map(|(_, n)| n).join(", ")
                    ),
                )
            })?;
            patterns.push(pat);
        }
        Ok(patterns)
    }

    /// A two-way choice: `true` for `yes`, `false` for `no` or when absent.
    fn choice(
        &self,
        v: &Option<toml::Spanned<String>>,
        field: &str,
        yes: &str,
        no: &str,
    ) -> Result<bool, RuntimeError> {
        match v {
            None => Ok(false),
            Some(s) if s.get_ref() == yes => Ok(true),
            Some(s) if s.get_ref() == no => Ok(false),
            Some(s) => Err(self.invalid(
                Some(s.span()),
                field,
                format!("expected `{yes}` or `{no}`, found `{}`", s.get_ref()),
            )),
        }
    }

    /// Entry `i` of `[[efficiency]]`: an op class (or any), a weight format, and a compute or
    /// a bandwidth efficiency (or both).
    fn efficiency(
        &self,
        i: usize,
        e: &raw::RawEfficiency,
    ) -> Result<KernelEfficiency, RuntimeError> {
        let field = format!("efficiency[{i}]");
        let op = match e.op.get_ref().as_str() {
            "any" => None,
            s => Some(
                OpClass::ALL
                    .iter()
                    .find(|(_, n)| *n == s)
                    .map(|(c, _)| *c)
                    .ok_or_else(|| {
                        self.invalid(
                            Some(e.op.span()),
                            &format!("{field}.op"),
                            format!(
                                "unknown op class `{s}`; expected any or one of {}",
                                OpClass::ALL.map(|(_, n)| n).join(", ")
                            ),
                        )
                    })?,
            ),
        };
        let weights = match &e.weights {
            None => WeightMatch::Any,
            Some(w) => WeightMatch::parse(&w.get_ref().to_ascii_lowercase()).ok_or_else(|| {
                self.invalid(Some(w.span()), &format!("{field}.weights"), format!("unknown weight format `{}`; expected a ggml type (q4_0, q8_0, q4_k, ...), int4, int8, f32, f16 or bf16", w.get_ref()))
            })?,
        };
        let compute = e
            .compute
            .as_ref()
            .map(|f| self.figure(f, &format!("{field}.compute"), 1.0, false))
            .transpose()?;
        let bandwidth = e
            .bandwidth
            .as_ref()
            .map(|f| self.figure(f, &format!("{field}.bandwidth"), 1.0, false))
            .transpose()?;
        let bytes_per_core_cycle = e
            .bytes_per_core_cycle
            .as_ref()
            .map(|f| {
                self.figure(
                    f,
                    &format!("{field}.bytes_per_core_cycle"),
                    MAX_BYTES_PER_CORE_CYCLE,
                    false,
                )
            })
            .transpose()?;
        if compute.is_none() && bandwidth.is_none() && bytes_per_core_cycle.is_none() {
            return Err(self.invalid(
                Some(e.op.span()),
                &field,
                "an efficiency entry needs `compute`, `bandwidth` or `bytes_per_core_cycle`".into(),
            ));
        }
        Ok(KernelEfficiency {
            op,
            weights,
            compute,
            bandwidth,
            bytes_per_core_cycle,
        })
    }
}
