//! `archscope explore`: sweep a design space, find the Pareto front, and write a report.
//!
//! The pipeline: an [`ExploreRequest`] (the command line) resolves into an [`ExploreSpec`]
//! (every input made explicit, the device and model text included, so a run can be repeated and
//! shards merged); a [`Session`] builds the [`Space`] and an [`Evaluator`] from the spec and runs
//! the ask/tell loop; [`analyze`] applies constraints and computes the front; [`report`] writes
//! tables, plots and `report.html`. With `--shard I/N` a run writes only its part
//! ([`table::write_part`]); [`merge`] rebuilds the results from the parts.

pub mod cnn;
pub mod eval;
pub mod files;
pub mod llm;
pub mod plots;
pub mod report;
pub mod table;
pub mod units;

pub use cnn::CnnEvaluator;
pub use eval::{Evaluator, MetricDef, Outcome, PhaseDetail};
pub use llm::LlmEvaluator;

use crate::cost::Mode;
use crate::hardware::{Hardware, HardwareError};
use crate::mapping::{AdaptOptions, MappingRequest, report::Solver};
use crate::search::{
    Axis, AxisKind, Direction, Grid, Point, RandomSample, Shard, Sharded, Space, SpaceError,
    Strategy, Sweep, SweepError, Values, pareto_front,
};
use crate::workload::{LlmConfig, Model, ModelError, load_model};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Errors of exploration.
#[derive(Debug, thiserror::Error)]
pub enum ExploreError {
    /// Bad device.
    #[error(transparent)]
    Hardware(#[from] HardwareError),
    /// Bad model.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// Bad sweep.
    #[error(transparent)]
    Sweep(#[from] SweepError),
    /// Bad space or shard.
    #[error(transparent)]
    Space(#[from] SpaceError),
    /// Evaluator set-up failed.
    #[error(transparent)]
    Setup(#[from] llm::LlmSetupError),
    /// A request that makes no sense (unknown objective, bad limit, ...).
    #[error("{0}")]
    Request(String),
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Cause.
        source: std::io::Error,
    },
    /// Writing a table, plot or page failed.
    #[error("{path}: cannot write: {message}")]
    Write {
        /// The file.
        path: String,
        /// Cause.
        message: String,
    },
    /// A table could not be built or read.
    #[error("table: {0}")]
    Table(String),
    /// The output directory exists.
    #[error("{0} already exists; pass --force to write over it, or --out to choose another")]
    Exists(String),
    /// Parts that do not belong together.
    #[error("merge: {0}")]
    Merge(String),
}

/// A limit on a metric: points that break it are infeasible.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Constraint {
    /// Metric column.
    pub metric: String,
    /// `true`: the metric must be at most `bound`; `false`: at least.
    pub at_most: bool,
    /// The bound, in the metric's unit.
    pub bound: f64,
    /// The flag that set it, for messages.
    pub flag: String,
}

/// The workload part of a spec; new workload kinds (CNNs) add variants.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum WorkloadSpec {
    /// A decoder-only LLM.
    Llm {
        /// Name in reports.
        model: String,
        /// Where the config came from.
        model_file: String,
        /// The `config.json` text.
        model_text: String,
        /// Quantization schemes.
        quants: Vec<String>,
        /// Units that may run prefill.
        prefill_units: Vec<String>,
        /// Units that may run decode.
        decode_units: Vec<String>,
        /// Batch sizes.
        batches: Vec<u64>,
        /// Prompt lengths.
        prompts: Vec<u64>,
        /// Decode context lengths.
        contexts: Vec<u64>,
    },
    /// A vision network or encoder with one forward phase (built-in CNNs, ViT, BERT, ONNX).
    Cnn {
        /// Name in reports (the canonical name, e.g. `mobilenetv2`, or the ONNX model's).
        model: String,
        /// What `--model` said: a built-in name with parameters, or an ONNX path (with
        /// `?dim=value` settings).
        model_file: String,
        /// The model's identity: the canonical name of a built-in network, or `onnx <path>
        /// sha256 <hash>` of an imported file (checked again when a run is merged).
        model_text: String,
        /// Precisions (quantization schemes).
        quants: Vec<String>,
        /// Units (with `UNIT@T` thread variants and `ilp`).
        units: Vec<String>,
        /// Batch sizes.
        batches: Vec<u64>,
    },
}

/// Everything a run depends on, explicit: the input texts, the space, the search, objectives and
/// limits. Stored in every part and in the report, so runs repeat and parts can be merged.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExploreSpec {
    /// archscope version that ran it.
    pub version: String,
    /// The command line.
    pub command: String,
    /// `--hw` as given.
    pub hw_name: String,
    /// Where the device file came from.
    pub hw_file: String,
    /// The device file text.
    pub hw_text: String,
    /// The workload and its knobs.
    pub workload: WorkloadSpec,
    /// Hardware what-if sweeps.
    pub sweeps: Vec<Sweep>,
    /// Random sample size (`None`: every point).
    pub samples: Option<u64>,
    /// Sample seed.
    pub seed: u64,
    /// Objective metric names.
    pub objectives: Vec<String>,
    /// Axes whose values split the points into scenarios, each with its own front (conditions
    /// and hardware what-ifs by default; empty: one front over everything).
    pub front_by: Vec<String>,
    /// Limits.
    pub constraints: Vec<Constraint>,
    /// Ideal roofline instead of calibrated.
    pub ideal: bool,
    /// Time limit of one ILP placement (unit value `ilp`), seconds.
    #[serde(default = "default_placement_time")]
    pub placement_time_s: f64,
    /// Networks only: take the scratchpad traffic of units with a software-managed level from
    /// a mapper's plan (`--mapping`), so a sweep of its capacity shows what each byte buys.
    #[serde(default)]
    pub mapping: Option<MappingSpec>,
    /// The slice of the run.
    pub shard: Shard,
}

/// How `--mapping` plans scratchpads.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MappingSpec {
    /// The planner.
    pub solver: Solver,
    /// Time limit of the mapping ILP (per window with divide and conquer), seconds.
    pub time_limit_s: f64,
    /// Put the weights into the problem instead of streaming them.
    pub include_weights: bool,
}

impl MappingSpec {
    /// The request the cost model takes.
    pub fn request(&self) -> MappingRequest {
        MappingRequest {
            solver: self.solver,
            time_limit_s: self.time_limit_s,
            adapt: AdaptOptions {
                include_weights: self.include_weights,
                ..AdaptOptions::default()
            },
        }
    }
}

fn default_placement_time() -> f64 {
    units::DEFAULT_PLACEMENT_TIME_S
}

impl ExploreSpec {
    /// Model name.
    pub fn model_name(&self) -> &str {
        match &self.workload {
            WorkloadSpec::Llm { model, .. } | WorkloadSpec::Cnn { model, .. } => model,
        }
    }
    /// Model config text (an LLM's config.json; a network's identity).
    pub fn model_text(&self) -> &str {
        match &self.workload {
            WorkloadSpec::Llm { model_text, .. } | WorkloadSpec::Cnn { model_text, .. } => {
                model_text
            }
        }
    }
    /// Model config origin.
    pub fn model_file(&self) -> &str {
        match &self.workload {
            WorkloadSpec::Llm { model_file, .. } | WorkloadSpec::Cnn { model_file, .. } => {
                model_file
            }
        }
    }
    /// The spec with shard and command cleared: equal for parts of one run.
    fn run_identity(&self) -> ExploreSpec {
        ExploreSpec {
            command: String::new(),
            shard: Shard::ALL,
            ..self.clone()
        }
    }
}

/// What the command line asks for; empty lists mean "the default". With the `cli` feature it is
/// also the clap argument set of `archscope explore`, so the doc of each field is its help text.
#[derive(Clone, Debug, Default)]
#[cfg_attr(feature = "cli", derive(clap::Args))]
pub struct ExploreRequest {
    /// Device: a path, a file in hardware-db/, or a short name.
    #[cfg_attr(feature = "cli", arg(long))]
    pub hw: String,
    /// Model: an LLM (short name or config.json path), or a vision network or encoder as
    /// `score` takes it (`mobilenetv2`, `resnet50?res=160`, `model.onnx`); see `models list`.
    #[cfg_attr(feature = "cli", arg(long))]
    pub model: String,
    /// Quantization schemes (precisions), comma-separated (default on an LLM: fp32, fp16,
    /// w8a16, w8a8, w4a16-g128, w4a8, w4a16-g128+kv8; on a network: fp32, fp16, w8a8).
    #[cfg_attr(feature = "cli", arg(long = "quant", value_delimiter = ','))]
    pub quants: Vec<String>,
    /// Units, comma-separated (for both LLM phases; default: every unit of the device). A
    /// CPU-model unit also gets thread variants `UNIT@T` (see --threads); `ilp` is the placement
    /// ILP over the listed units.
    #[cfg_attr(feature = "cli", arg(long, value_delimiter = ','))]
    pub units: Vec<String>,
    /// Units that may run prefill (overrides --units for prefill).
    #[cfg_attr(feature = "cli", arg(long, value_delimiter = ','))]
    pub prefill_units: Vec<String>,
    /// Units that may run decode (overrides --units for decode).
    #[cfg_attr(feature = "cli", arg(long, value_delimiter = ','))]
    pub decode_units: Vec<String>,
    /// Batch sizes (default 1 on an LLM; 1, 2, 4, 8, 16, 32 on a network).
    #[cfg_attr(feature = "cli", arg(long = "batch", value_delimiter = ','))]
    pub batches: Vec<u64>,
    /// Prompt lengths (default 512).
    #[cfg_attr(feature = "cli", arg(long = "prompt", value_delimiter = ','))]
    pub prompts: Vec<u64>,
    /// Decode context lengths (default 1024, 2048, 4096, 8192, 16384).
    #[cfg_attr(feature = "cli", arg(long = "context", value_delimiter = ','))]
    pub contexts: Vec<u64>,
    /// Hardware what-if: FIELD=START..END:STEPS[:log|:lin] or FIELD=V1,V2,..., e.g.
    /// 'memory[dram].bytes_per_s=25e9..200e9:8:log'. Repeat to combine (cartesian product).
    #[cfg_attr(feature = "cli", arg(long = "sweep"))]
    pub sweeps: Vec<String>,
    /// Evaluate a seeded random sample of this many points instead of every point.
    #[cfg_attr(feature = "cli", arg(long))]
    pub samples: Option<u64>,
    /// Seed of --samples.
    #[cfg_attr(feature = "cli", arg(long, default_value_t = 0))]
    pub seed: u64,
    /// Objectives, comma-separated (default on an LLM: decode_latency_s, energy_per_token_j,
    /// memory_bytes; on a network: batch_latency_s, energy_per_image_j, memory_bytes).
    #[cfg_attr(feature = "cli", arg(long, value_delimiter = ','))]
    pub objectives: Vec<String>,
    /// Axes that split points into scenarios with a front each (default: prompt, context and
    /// every swept field); `none` for one front over everything.
    #[cfg_attr(feature = "cli", arg(long, value_delimiter = ','))]
    pub front_by: Vec<String>,
    /// Largest memory footprint allowed, e.g. 3GB, 2.5GiB, 4e9.
    #[cfg_attr(feature = "cli", arg(long))]
    pub max_memory: Option<String>,
    /// Lowest decode throughput allowed, tokens/s.
    #[cfg_attr(feature = "cli", arg(long))]
    pub min_tokens_per_s: Option<f64>,
    /// Highest decode latency per token (LLM) or latency per batch (network) allowed, seconds.
    #[cfg_attr(feature = "cli", arg(long = "max-latency"))]
    pub max_latency_s: Option<f64>,
    /// Textbook roofline: bare peaks, efficiency 1, no overhead.
    #[cfg_attr(feature = "cli", arg(long))]
    pub ideal: bool,
    /// Thread counts of CPU-model units, comma-separated, `all` for every core (default: 1, 2,
    /// 4, ... below the core count, and all).
    #[cfg_attr(feature = "cli", arg(long, value_delimiter = ','))]
    pub threads: Vec<String>,
    /// Add the ILP placement over the device's units (`ilp`) to the unit lists; one solve per
    /// distinct graph and device variant, so slower than the single-unit sweep.
    #[cfg_attr(feature = "cli", arg(long))]
    pub ilp: bool,
    /// Time limit of one ILP placement, seconds (default 5; HEFT is used if the ILP is worse).
    #[cfg_attr(feature = "cli", arg(long = "placement-time"))]
    pub placement_time_s: Option<f64>,
    /// The scratchpad planner for networks (`--mapping`; the command line parses it).
    #[cfg_attr(feature = "cli", arg(skip))]
    pub mapping: Option<Solver>,
    /// Time limit of one mapping ILP (per window with `dc`), seconds (default 10).
    #[cfg_attr(feature = "cli", arg(long = "mapping-time-limit"))]
    pub mapping_time_s: Option<f64>,
    /// Put the weights into the mapping problem instead of streaming them.
    #[cfg_attr(feature = "cli", arg(long))]
    pub mapping_weights: bool,
    /// Run only slice I of N (e.g. 0/4) and write its part for `archscope merge`.
    #[cfg_attr(feature = "cli", arg(long))]
    pub shard: Option<String>,
    /// The command line, for the report.
    #[cfg_attr(feature = "cli", arg(skip))]
    pub command: String,
}

/// Parses a byte count: a number with an optional SI (`k`, `M`, `G`, `T`, powers of 1000) or IEC
/// (`Ki`, `Mi`, `Gi`, `Ti`, powers of 1024) prefix and an optional `B`: `4e9`, `4GB`, `3.5GiB`
/// (see [`crate::util::size::parse_bytes`]).
pub fn parse_bytes(s: &str) -> Result<f64, ExploreError> {
    crate::util::size::parse_bytes(s).map_err(|e| ExploreError::Request(e.to_string()))
}

/// Finds the text of a model config by path or shipped short name: (origin, name, text).
fn model_text(name: &str) -> Result<(String, String, String), ExploreError> {
    let path = Path::new(name);
    if path.is_file() {
        let text = std::fs::read_to_string(path).map_err(|e| ExploreError::Io {
            path: name.to_string(),
            source: e,
        })?;
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        return Ok((name.to_string(), stem, text));
    }
    let file = format!("{}.json", name.trim_end_matches(".json"));
    match crate::embedded::WORKLOADS.iter().find(|(f, _)| *f == file) {
        Some((f, text)) => Ok((
            format!("workloads/{f}"),
            name.trim_end_matches(".json").to_string(),
            text.to_string(),
        )),
        None => Err(ModelError::NotFound {
            name: name.to_string(),
            known: crate::workload::known_models().join(", "),
        }
        .into()),
    }
}

fn check_positive(what: &str, v: &[u64]) -> Result<(), ExploreError> {
    if v.contains(&0) {
        return Err(ExploreError::Request(format!(
            "{what} values must be at least 1"
        )));
    }
    Ok(())
}

fn dedup<T: PartialEq + Clone>(v: &[T]) -> Vec<T> {
    let mut out: Vec<T> = Vec::new();
    for x in v {
        if !out.contains(x) {
            out.push(x.clone());
        }
    }
    out
}

impl ExploreRequest {
    /// `--threads` as counts (`0` for all cores), `None` for the default.
    fn thread_counts(&self) -> Result<Option<Vec<u64>>, ExploreError> {
        if self.threads.is_empty() {
            return Ok(None);
        }
        self.threads
            .iter()
            .map(|t| {
                let t = t.trim();
                if t == "all" {
                    Ok(0)
                } else {
                    t.parse::<u64>().ok().filter(|&x| x > 0).ok_or_else(|| {
                        ExploreError::Request(format!(
                            "--threads `{t}`: expected a whole number of at least 1, or `all`"
                        ))
                    })
                }
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }

    /// A unit list with thread variants expanded and `ilp` added with `--ilp`; checks names.
    fn unit_list(&self, hw: &Hardware, given: Vec<String>) -> Result<Vec<String>, ExploreError> {
        let threads = self.thread_counts()?;
        for u in &given {
            if u != units::ILP_UNIT && !u.contains(units::THREAD_SEP) {
                hw.unit_index(Some(u))?;
            }
        }
        let mut list = units::expand_threads(hw, &given, threads.as_deref())
            .map_err(|e| ExploreError::Request(e.to_string()))?;
        if self.ilp && !list.iter().any(|u| u == units::ILP_UNIT) {
            list.push(units::ILP_UNIT.to_string());
        }
        Ok(list)
    }

    /// Resolves defaults and reads the inputs into a spec. The defaults on an LLM: quantizations
    /// [`llm::DEFAULT_QUANTS`], every unit of the device (with thread variants of CPU-model
    /// units) for prefill and for decode, batch 1, prompt [`llm::DEFAULT_PROMPT`], contexts
    /// [`llm::DEFAULT_CONTEXTS`], objectives [`llm::DEFAULT_OBJECTIVES`]. On a vision network
    /// or encoder: precisions [`cnn::DEFAULT_QUANTS`], every unit (with thread variants),
    /// batches [`cnn::DEFAULT_BATCHES`], objectives [`cnn::default_objectives`].
    pub fn resolve(&self) -> Result<ExploreSpec, ExploreError> {
        let (hw_file, hw_text) = Hardware::find_text(&self.hw)?;
        let hw = Hardware::from_toml_str(&hw_text, &hw_file)?;
        let all_units: Vec<String> = hw.units.iter().map(|u| u.name.clone()).collect();
        let or = |v: &[u64], d: &[u64]| if v.is_empty() { d.to_vec() } else { dedup(v) };
        let parse_quants =
            |given: &[String], default: &[&str]| -> Result<Vec<String>, ExploreError> {
                let q: Vec<String> = if given.is_empty() {
                    default.iter().map(|s| s.to_string()).collect()
                } else {
                    dedup(given)
                };
                for x in &q {
                    crate::workload::QuantScheme::parse(x).map_err(llm::LlmSetupError::from)?;
                }
                Ok(q)
            };
        let is_cnn;
        let (workload, default_objectives, metric_names, knob_axes): (
            WorkloadSpec,
            Vec<String>,
            Vec<&'static str>,
            Vec<&'static str>,
        ) = match load_model(&self.model)? {
            Model::Llm(_) => {
                is_cnn = false;
                let (model_file, model, text) = model_text(&self.model)?;
                LlmConfig::from_json(&text, &model_file, &model)?;
                let pick = |specific: &[String]| -> Vec<String> {
                    if !specific.is_empty() {
                        dedup(specific)
                    } else if !self.units.is_empty() {
                        dedup(&self.units)
                    } else {
                        all_units.clone()
                    }
                };
                let prefill_units = self.unit_list(&hw, pick(&self.prefill_units))?;
                let decode_units = self.unit_list(&hw, pick(&self.decode_units))?;
                let quants = parse_quants(&self.quants, &llm::DEFAULT_QUANTS)?;
                let batches = or(&self.batches, &[1]);
                let prompts = or(&self.prompts, &[llm::DEFAULT_PROMPT]);
                let contexts = or(&self.contexts, &llm::DEFAULT_CONTEXTS);
                check_positive("--batch", &batches)?;
                check_positive("--prompt", &prompts)?;
                check_positive("--context", &contexts)?;
                (
                    WorkloadSpec::Llm {
                        model,
                        model_file,
                        model_text: text,
                        quants,
                        prefill_units,
                        decode_units,
                        batches,
                        prompts,
                        contexts,
                    },
                    llm::DEFAULT_OBJECTIVES
                        .iter()
                        .map(|s| s.to_string())
                        .collect(),
                    llm::LLM_METRICS.iter().map(|m| m.name).collect(),
                    llm::AXES.to_vec(),
                )
            }
            Model::Vision(v) => {
                is_cnn = true;
                for (flag, given) in [
                    ("--prefill-units", !self.prefill_units.is_empty()),
                    ("--decode-units", !self.decode_units.is_empty()),
                    ("--prompt", !self.prompts.is_empty()),
                    ("--context", !self.contexts.is_empty()),
                    ("--min-tokens-per-s", self.min_tokens_per_s.is_some()),
                ] {
                    if given {
                        return Err(ExploreError::Request(format!(
                            "{flag} applies to LLMs; `{}` is a network with one forward pass (use --units, --quant, --batch, --max-latency)",
                            v.name
                        )));
                    }
                }
                let units = self.unit_list(
                    &hw,
                    if self.units.is_empty() {
                        all_units.clone()
                    } else {
                        dedup(&self.units)
                    },
                )?;
                let quants = parse_quants(&self.quants, &cnn::DEFAULT_QUANTS)?;
                let batches = or(&self.batches, &cnn::DEFAULT_BATCHES);
                check_positive("--batch", &batches)?;
                let (base, _) = self.model.split_once('?').unwrap_or((&self.model, ""));
                let model_text = if base.to_ascii_lowercase().ends_with(".onnx") {
                    onnx_identity(base)?
                } else {
                    v.name.clone()
                };
                (
                    WorkloadSpec::Cnn {
                        model: v.name.clone(),
                        model_file: self.model.clone(),
                        model_text,
                        quants,
                        units,
                        batches,
                    },
                    cnn::default_objectives(v.sample())
                        .iter()
                        .map(|s| s.to_string())
                        .collect(),
                    cnn::metrics_for(v.sample())
                        .iter()
                        .map(|m| m.name)
                        .collect(),
                    cnn::AXES.to_vec(),
                )
            }
        };
        let sweeps = self
            .sweeps
            .iter()
            .map(|s| Sweep::parse(s))
            .collect::<Result<Vec<_>, _>>()?;
        let mut fields: Vec<&str> = sweeps.iter().map(|s| s.field.as_str()).collect();
        fields.sort_unstable();
        if let Some(w) = fields.windows(2).find(|w| w[0] == w[1]) {
            return Err(ExploreError::Request(format!(
                "--sweep {} given twice; give one sweep per field",
                w[0]
            )));
        }
        let objectives = if self.objectives.is_empty() {
            default_objectives
        } else {
            dedup(&self.objectives)
        };
        for o in &objectives {
            if !metric_names.contains(&o.as_str()) {
                return Err(ExploreError::Request(format!(
                    "unknown objective `{o}`; choose from: {}",
                    metric_names.join(", ")
                )));
            }
        }
        let front_by: Vec<String> = if self.front_by.is_empty() {
            let conditions: &[&str] = if is_cnn {
                &[]
            } else {
                &["prompt_tokens", "context_tokens"]
            };
            sweeps
                .iter()
                .map(|s| s.field.clone())
                .chain(conditions.iter().map(|c| c.to_string()))
                .collect()
        } else if self.front_by.len() == 1 && self.front_by[0] == "none" {
            Vec::new()
        } else {
            let axes: Vec<String> = sweeps
                .iter()
                .map(|s| s.field.clone())
                .chain(knob_axes.iter().map(|a| a.to_string()))
                .collect();
            for f in &self.front_by {
                if !axes.contains(f) {
                    return Err(ExploreError::Request(format!(
                        "--front-by `{f}` is not an axis; choose from: none, {}",
                        axes.join(", ")
                    )));
                }
            }
            dedup(&self.front_by)
        };
        let mut constraints = Vec::new();
        if let Some(m) = &self.max_memory {
            constraints.push(Constraint {
                metric: "memory_bytes".into(),
                at_most: true,
                bound: parse_bytes(m)?,
                flag: "--max-memory".into(),
            });
        }
        let positive = |flag: &str, v: f64| {
            if v.is_finite() && v > 0.0 {
                Ok(v)
            } else {
                Err(ExploreError::Request(format!(
                    "{flag} must be a positive number, found {v}"
                )))
            }
        };
        if let Some(v) = self.min_tokens_per_s {
            constraints.push(Constraint {
                metric: "decode_tokens_per_s".into(),
                at_most: false,
                bound: positive("--min-tokens-per-s", v)?,
                flag: "--min-tokens-per-s".into(),
            });
        }
        if let Some(v) = self.max_latency_s {
            constraints.push(Constraint {
                metric: if is_cnn {
                    "batch_latency_s"
                } else {
                    "decode_latency_s"
                }
                .into(),
                at_most: true,
                bound: positive("--max-latency", v)?,
                flag: "--max-latency".into(),
            });
        }
        if self.samples == Some(0) {
            return Err(ExploreError::Request("--samples must be at least 1".into()));
        }
        let placement_time_s = match self.placement_time_s {
            Some(t) => positive("--placement-time", t)?,
            None => units::DEFAULT_PLACEMENT_TIME_S,
        };
        let shard = match &self.shard {
            Some(s) => Shard::parse(s)?,
            None => Shard::ALL,
        };
        let mapping = match self.mapping {
            None if self.mapping_time_s.is_some() || self.mapping_weights => {
                return Err(ExploreError::Request(
                    "--mapping-time-limit and --mapping-weights need --mapping".into(),
                ));
            }
            None => None,
            Some(_) if !is_cnn => {
                return Err(ExploreError::Request(
                    "--mapping applies to networks (CNNs, encoders); LLM phases are priced \
                     with the roofline's residency"
                        .into(),
                ));
            }
            Some(solver) => Some(MappingSpec {
                solver,
                time_limit_s: positive(
                    "--mapping-time-limit",
                    self.mapping_time_s.unwrap_or(DEFAULT_MAPPING_TIME_S),
                )?,
                include_weights: self.mapping_weights,
            }),
        };
        Ok(ExploreSpec {
            version: env!("CARGO_PKG_VERSION").to_string(),
            command: self.command.clone(),
            hw_name: self.hw.clone(),
            hw_file,
            hw_text,
            workload,
            sweeps,
            samples: self.samples,
            seed: self.seed,
            objectives,
            front_by,
            constraints,
            ideal: self.ideal,
            placement_time_s,
            mapping,
            shard,
        })
    }
}

/// Default time limit of one mapping ILP in explore, seconds: every distinct (device variant,
/// unit, graph) is planned once, so a sweep stays interactive; `--mapping-time-limit` raises it.
pub const DEFAULT_MAPPING_TIME_S: f64 = 10.0;

/// The identity of an ONNX file: `onnx <path> sha256 <hash of its bytes>`.
fn onnx_identity(path: &str) -> Result<String, ExploreError> {
    let bytes = std::fs::read(path).map_err(|e| ExploreError::Io {
        path: path.to_string(),
        source: e,
    })?;
    Ok(format!("onnx {path} sha256 {}", files::sha256_hex(&bytes)))
}

/// The space of a spec: hardware sweeps first, then the workload's knobs.
pub fn build_space(spec: &ExploreSpec) -> Result<Space, ExploreError> {
    let mut axes: Vec<Axis> = spec.sweeps.iter().map(Sweep::axis).collect();
    let knob = |name: &str, values: Values| Axis {
        name: name.to_string(),
        kind: AxisKind::Knob,
        values,
        log: false,
    };
    match &spec.workload {
        WorkloadSpec::Llm {
            quants,
            prefill_units,
            decode_units,
            batches,
            prompts,
            contexts,
            ..
        } => {
            axes.push(knob("quant", Values::Names(quants.clone())));
            axes.push(knob("prefill_unit", Values::Names(prefill_units.clone())));
            axes.push(knob("decode_unit", Values::Names(decode_units.clone())));
            axes.push(knob("batch", Values::Ints(batches.clone())));
            let mut prompt = knob("prompt_tokens", Values::Ints(prompts.clone()));
            prompt.kind = AxisKind::Condition;
            axes.push(prompt);
            let mut ctx = knob("context_tokens", Values::Ints(contexts.clone()));
            ctx.kind = AxisKind::Condition;
            ctx.log = contexts.len() > 2;
            axes.push(ctx);
            Ok(Space::new(axes, &[("prompt_tokens", "context_tokens")])?)
        }
        WorkloadSpec::Cnn {
            quants,
            units,
            batches,
            ..
        } => {
            axes.push(knob("quant", Values::Names(quants.clone())));
            axes.push(knob("unit", Values::Names(units.clone())));
            let mut b = knob("batch", Values::Ints(batches.clone()));
            b.log = batches.len() > 2;
            axes.push(b);
            Ok(Space::new(axes, &[])?)
        }
    }
}

/// Points evaluated per ask/tell round: large enough to share hardware variants and phase
/// prices across points and keep both cores busy, small enough to show progress.
pub const CHUNK: usize = 16_384;

/// Runs with at least this many points show a progress bar (smaller ones finish in a blink).
pub const PROGRESS_MIN_POINTS: u64 = 50_000;

/// A space and an evaluator built from a spec.
pub struct Session {
    /// The spec.
    pub spec: ExploreSpec,
    /// Its space.
    pub space: Space,
    /// Its evaluator.
    pub evaluator: Box<dyn Evaluator>,
}

/// The points of a run and what the evaluator said about each, sorted by point id.
pub struct Results {
    /// Evaluated points, ascending id.
    pub points: Vec<Point>,
    /// One outcome per point.
    pub outcomes: Vec<Outcome>,
}

impl Session {
    /// Builds the space and evaluator of `spec`.
    pub fn new(spec: ExploreSpec) -> Result<Session, ExploreError> {
        let space = build_space(&spec)?;
        let mode = if spec.ideal {
            Mode::Ideal
        } else {
            Mode::Calibrated
        };
        let evaluator: Box<dyn Evaluator> = match &spec.workload {
            WorkloadSpec::Llm {
                model,
                model_file,
                model_text,
                ..
            } => {
                let cfg = LlmConfig::from_json(model_text, model_file, model)?;
                Box::new(LlmEvaluator::new(
                    cfg,
                    &spec.hw_text,
                    &spec.hw_file,
                    &space,
                    mode,
                    spec.placement_time_s,
                )?)
            }
            WorkloadSpec::Cnn {
                model_file,
                model_text,
                ..
            } => {
                let Model::Vision(v) = load_model(model_file)? else {
                    return Err(ExploreError::Request(format!(
                        "`{model_file}` is no longer a vision network or encoder"
                    )));
                };
                if model_text.starts_with("onnx ") {
                    let (base, _) = model_file.split_once('?').unwrap_or((model_file, ""));
                    if onnx_identity(base)? != *model_text {
                        return Err(ExploreError::Request(format!(
                            "{base} changed since the run was specified ({model_text})"
                        )));
                    }
                }
                Box::new(CnnEvaluator::new(
                    v,
                    &spec.hw_text,
                    &spec.hw_file,
                    &space,
                    mode,
                    spec.placement_time_s,
                    spec.mapping.as_ref().map(MappingSpec::request),
                )?)
            }
        };
        Ok(Session {
            spec,
            space,
            evaluator,
        })
    }

    /// The points this run (or shard) will evaluate.
    pub fn planned(&self) -> Result<u64, ExploreError> {
        Ok(self.strategy()?.planned().unwrap_or(0))
    }

    fn strategy(&self) -> Result<Sharded<Box<dyn Strategy>>, ExploreError> {
        let inner: Box<dyn Strategy> = match self.spec.samples {
            Some(n) => Box::new(RandomSample::new(&self.space, n, self.spec.seed)?),
            None => Box::new(Grid::new(&self.space)?),
        };
        Ok(Sharded::new(inner, self.spec.shard))
    }

    /// Runs the ask/tell loop over this run's slice, in parallel, with a progress bar on large
    /// runs when `progress`.
    pub fn run(&self, progress: bool) -> Result<Results, ExploreError> {
        let mut strategy = self.strategy()?;
        let planned = strategy.planned().unwrap_or(0);
        let bar = (progress && planned >= PROGRESS_MIN_POINTS).then(|| {
            let b = indicatif::ProgressBar::new(planned);
            b.set_style(
                indicatif::ProgressStyle::with_template(
                    "{spinner} evaluating {pos}/{len} points [{bar:40}] {per_sec} eta {eta}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            b
        });
        let objectives = self.objective_indices()?;
        let mut points = Vec::with_capacity(planned as usize);
        let mut outcomes = Vec::with_capacity(planned as usize);
        loop {
            let asked = strategy.ask(CHUNK);
            if asked.is_empty() {
                break;
            }
            let got = self.evaluator.evaluate(&asked);
            let told: Vec<(Point, Option<Vec<f64>>)> = asked
                .iter()
                .zip(&got)
                .map(|(p, o)| (p.clone(), objective_vector(self.metrics(), &objectives, o)))
                .collect();
            strategy.tell(&told);
            if let Some(b) = &bar {
                b.inc(asked.len() as u64);
            }
            points.extend(asked);
            outcomes.extend(got);
        }
        if let Some(b) = bar {
            b.finish_and_clear();
        }
        Ok(sorted(points, outcomes))
    }

    /// The evaluator's metrics.
    pub fn metrics(&self) -> &[MetricDef] {
        self.evaluator.metrics()
    }

    /// Metric indices of the spec's objectives.
    pub fn objective_indices(&self) -> Result<Vec<usize>, ExploreError> {
        self.spec
            .objectives
            .iter()
            .map(|o| self.metric_index(o))
            .collect()
    }

    /// Index of the metric named `name`.
    pub fn metric_index(&self, name: &str) -> Result<usize, ExploreError> {
        self.metrics()
            .iter()
            .position(|m| m.name == name)
            .ok_or_else(|| {
                ExploreError::Request(format!(
                    "unknown metric `{name}`; this workload reports: {}",
                    self.metrics()
                        .iter()
                        .map(|m| m.name)
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })
    }
}

fn sorted(points: Vec<Point>, outcomes: Vec<Outcome>) -> Results {
    let mut rows: Vec<(Point, Outcome)> = points.into_iter().zip(outcomes).collect();
    rows.sort_by_key(|r| r.0.id);
    let (points, outcomes) = rows.into_iter().unzip();
    Results { points, outcomes }
}

/// The minimised objective vector of a physically feasible outcome with every objective present.
fn objective_vector(metrics: &[MetricDef], objectives: &[usize], o: &Outcome) -> Option<Vec<f64>> {
    if o.infeasible.is_some() {
        return None;
    }
    objectives
        .iter()
        .map(|&i| {
            o.metrics[i]
                .filter(|v| v.is_finite())
                .map(|v| metrics[i].direction.key(v))
        })
        .collect()
}

/// One scenario: the points sharing values on the `front_by` axes, with their own front.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// Value index on each `front_by` axis ([`Analysis::group_axes`]).
    pub key: Vec<u32>,
    /// Rows of the scenario.
    pub rows: Vec<usize>,
    /// Its front, best first: by the objectives in order, then the other metrics, then id.
    pub front: Vec<usize>,
    /// Best feasible row on each objective (same tie-breaking), `None` if nothing is feasible.
    pub best: Vec<Option<usize>>,
}

/// Feasibility, constraint violations and the Pareto fronts of a run.
#[derive(Clone, Debug)]
pub struct Analysis {
    /// Metric indices of the objectives.
    pub objectives: Vec<usize>,
    /// Axis indices that split points into scenarios.
    pub group_axes: Vec<usize>,
    /// Feasible: runs, fits, and meets every limit.
    pub feasible: Vec<bool>,
    /// Why each infeasible point is infeasible.
    pub reasons: Vec<Option<String>>,
    /// On the Pareto front of the feasible points of its scenario.
    pub on_front: Vec<bool>,
    /// Every front row: scenario by scenario, each front best first.
    pub front: Vec<usize>,
    /// Scenarios in key order.
    pub scenarios: Vec<Scenario>,
    /// The scenario the detail plots show: the one nearest the middle value of each `front_by`
    /// axis (e.g. the middle context length) that has a feasible point.
    pub focus: Option<usize>,
    /// The point the detail plots show: the first front row of the focus scenario.
    pub chosen: Option<usize>,
}

impl Analysis {
    /// The scenario of a row, as `axis=value` text (empty when there is one scenario).
    pub fn scenario_text(&self, session: &Session, results: &Results, row: usize) -> String {
        self.group_axes
            .iter()
            .filter(|&&a| session.space.axes[a].values.len() > 1)
            .map(|&a| {
                let ax = &session.space.axes[a];
                let d = results.points[row].digits[a] as usize;
                let v = match &ax.values {
                    Values::Reals(v) => plots::eng(v[d]),
                    other => other.text(d),
                };
                format!("{}={v}", ax.name)
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Applies the spec's limits and computes the front of each scenario.
pub fn analyze(session: &Session, results: &Results) -> Result<Analysis, ExploreError> {
    let metrics = session.metrics();
    let objectives = session.objective_indices()?;
    let group_axes: Vec<usize> = session
        .spec
        .front_by
        .iter()
        .map(|n| {
            session
                .space
                .axis(n)
                .ok_or_else(|| ExploreError::Request(format!("--front-by `{n}` is not an axis")))
        })
        .collect::<Result<_, _>>()?;
    let limits: Vec<(usize, &Constraint)> = session
        .spec
        .constraints
        .iter()
        .map(|c| Ok((session.metric_index(&c.metric)?, c)))
        .collect::<Result<_, ExploreError>>()?;
    let n = results.points.len();
    let mut feasible = vec![false; n];
    let mut reasons = vec![None; n];
    let m = objectives.len();
    let mut vectors = vec![f64::NAN; n * m];
    for (i, o) in results.outcomes.iter().enumerate() {
        let mut why: Vec<String> = o.infeasible.iter().cloned().collect();
        for &(k, c) in &limits {
            match o.metrics[k] {
                Some(v) if c.at_most && v > c.bound => why.push(format!(
                    "{} {} > {} {}",
                    c.metric,
                    fmt_num(v),
                    c.flag,
                    fmt_num(c.bound)
                )),
                Some(v) if !c.at_most && v < c.bound => why.push(format!(
                    "{} {} < {} {}",
                    c.metric,
                    fmt_num(v),
                    c.flag,
                    fmt_num(c.bound)
                )),
                _ => {}
            }
        }
        let vec = objective_vector(metrics, &objectives, o);
        if why.is_empty() && vec.is_none() {
            why.push("an objective could not be computed".into());
        }
        if why.is_empty() {
            feasible[i] = true;
            vectors[i * m..(i + 1) * m].copy_from_slice(&vec.expect("checked"));
        } else {
            reasons[i] = Some(why.join("; "));
        }
    }
    let order = |rows: &mut Vec<usize>, first: &[usize]| {
        let mut keys: Vec<usize> = first.to_vec();
        keys.extend((0..metrics.len()).filter(|k| !first.contains(k)));
        let key = |i: usize, k: usize| {
            results.outcomes[i].metrics[k]
                .map(|v| metrics[k].direction.key(v))
                .unwrap_or(f64::INFINITY)
        };
        rows.sort_by(|&a, &b| {
            keys.iter()
                .map(|&k| key(a, k).total_cmp(&key(b, k)))
                .find(|o| o.is_ne())
                .unwrap_or(std::cmp::Ordering::Equal)
                .then(results.points[a].id.cmp(&results.points[b].id))
        });
    };
    let mut groups: std::collections::BTreeMap<Vec<u32>, Vec<usize>> = Default::default();
    for (i, p) in results.points.iter().enumerate() {
        let key = group_axes.iter().map(|&a| p.digits[a]).collect();
        groups.entry(key).or_default().push(i);
    }
    let mut on_front = vec![false; n];
    let mut scenarios = Vec::with_capacity(groups.len());
    for (key, rows) in groups {
        let table: Vec<f64> = rows
            .iter()
            .flat_map(|&i| vectors[i * m..(i + 1) * m].iter().copied())
            .collect();
        let mut front: Vec<usize> = pareto_front(&table, m)
            .into_iter()
            .zip(&rows)
            .filter(|(on, _)| *on)
            .map(|(_, &i)| i)
            .collect();
        for &i in &front {
            on_front[i] = true;
        }
        order(&mut front, &objectives);
        let feasible_rows: Vec<usize> = rows.iter().copied().filter(|&i| feasible[i]).collect();
        let best = objectives
            .iter()
            .map(|&k| {
                let mut r = feasible_rows.clone();
                order(&mut r, &[k]);
                r.first().copied()
            })
            .collect();
        scenarios.push(Scenario {
            key,
            rows,
            front,
            best,
        });
    }
    let mid: Vec<i64> = group_axes
        .iter()
        .map(|&a| ((session.space.axes[a].values.len() - 1) / 2) as i64)
        .collect();
    let focus = (0..scenarios.len())
        .filter(|&s| !scenarios[s].front.is_empty())
        .min_by_key(|&s| {
            scenarios[s]
                .key
                .iter()
                .zip(&mid)
                .map(|(&d, &c)| (d as i64 - c).abs())
                .sum::<i64>()
        });
    Ok(Analysis {
        chosen: focus.map(|s| scenarios[s].front[0]),
        front: scenarios.iter().flat_map(|s| s.front.clone()).collect(),
        objectives,
        group_axes,
        feasible,
        reasons,
        on_front,
        scenarios,
        focus,
    })
}

/// A number in short scientific or plain notation for messages.
pub fn fmt_num(v: f64) -> String {
    if v != 0.0 && (v.abs() >= 1e5 || v.abs() < 1e-3) {
        format!("{v:.3e}")
    } else {
        format!("{}", (v * 1e4).round() / 1e4)
    }
}

/// Options of `explore` and `merge` that only affect output.
#[derive(Clone, Debug, Default)]
pub struct OutputOptions {
    /// Output directory; `reports/<model>-<hw>-<UTC time>/` when `None`.
    pub out: Option<PathBuf>,
    /// Write over an existing directory or part.
    pub force: bool,
    /// Show a progress bar on long runs.
    pub progress: bool,
}

/// What a finished command produced, for the terminal.
pub struct Finished {
    /// The terminal summary.
    pub summary: String,
    /// The report directory, or the part file of a shard.
    pub path: PathBuf,
}

fn default_dir(spec: &ExploreSpec) -> PathBuf {
    let hw = Path::new(&spec.hw_file)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| spec.hw_name.clone());
    PathBuf::from("reports").join(format!(
        "{}-{}-{}",
        files::slug(spec.model_name()),
        files::slug(&hw),
        files::now_stamp()
    ))
}

/// `archscope explore`: resolve, run, then write either this shard's part or the full report.
pub fn explore(req: &ExploreRequest, opts: &OutputOptions) -> Result<Finished, ExploreError> {
    let spec = req.resolve()?;
    let session = Session::new(spec)?;
    let start = std::time::Instant::now();
    let results = session.run(opts.progress)?;
    let eval_s = start.elapsed().as_secs_f64();
    if session.spec.shard != Shard::ALL {
        let dir = opts
            .out
            .clone()
            .unwrap_or_else(|| default_dir(&session.spec).with_extension("parts"));
        std::fs::create_dir_all(&dir).map_err(|e| ExploreError::Io {
            path: dir.display().to_string(),
            source: e,
        })?;
        let path = table::write_part(&session, &results, &dir, opts.force)?;
        let s = session.spec.shard;
        return Ok(Finished {
            summary: format!(
                "shard {}/{}: {} points evaluated in {:.2} s → {}\nmerge all {} parts with: archscope merge {}/part-*-of-{}.parquet --out DIR\n",
                s.index,
                s.count,
                results.points.len(),
                eval_s,
                path.display(),
                s.count,
                dir.display(),
                s.count
            ),
            path,
        });
    }
    let dir = opts
        .out
        .clone()
        .unwrap_or_else(|| default_dir(&session.spec));
    finish(&session, &results, &dir, opts.force, Some(eval_s))
}

/// Analyses results and writes the report to `dir`.
pub fn finish(
    session: &Session,
    results: &Results,
    dir: &Path,
    force: bool,
    eval_s: Option<f64>,
) -> Result<Finished, ExploreError> {
    let analysis = analyze(session, results)?;
    files::prepare_dir(dir, force)?;
    let summary = report::write(session, results, &analysis, dir)?;
    let mut text = summary;
    if let Some(t) = eval_s {
        text.push_str(&format!(
            "evaluated {} points in {:.3} s ({:.0} points/s)\n",
            results.points.len(),
            t,
            results.points.len() as f64 / t.max(1e-9)
        ));
    }
    text.push_str(&format!("report: {}\n", dir.join("report.html").display()));
    Ok(Finished {
        summary: text,
        path: dir.to_path_buf(),
    })
}

/// Reads parts into one session and result set: every part must come from the same run (same
/// spec apart from the shard and command line) and every shard of it must be present once.
pub fn merge_parts(parts: &[PathBuf]) -> Result<(Session, Results), ExploreError> {
    if parts.is_empty() {
        return Err(ExploreError::Merge("no parts given".into()));
    }
    let mut loaded = Vec::new();
    for p in parts {
        loaded.push(table::read_part(p)?);
    }
    let first = loaded[0].0.clone();
    let count = first.shard.count;
    let mut seen = vec![None::<&Path>; count as usize];
    for ((spec, _), path) in loaded.iter().zip(parts) {
        if spec.run_identity() != first.run_identity() {
            return Err(ExploreError::Merge(format!(
                "{} comes from a different run than {} (device, model, space, search, objectives or limits differ)",
                path.display(),
                parts[0].display()
            )));
        }
        if spec.shard.count != count {
            return Err(ExploreError::Merge(format!(
                "{} is shard {}/{}, but {} is one of {count}",
                path.display(),
                spec.shard.index,
                spec.shard.count,
                parts[0].display()
            )));
        }
        if let Some(other) = seen[spec.shard.index as usize] {
            return Err(ExploreError::Merge(format!(
                "shard {}/{count} given twice: {} and {}",
                spec.shard.index,
                other.display(),
                path.display()
            )));
        }
        seen[spec.shard.index as usize] = Some(path);
    }
    let missing: Vec<String> = seen
        .iter()
        .enumerate()
        .filter(|(_, s)| s.is_none())
        .map(|(i, _)| format!("{i}/{count}"))
        .collect();
    if !missing.is_empty() {
        return Err(ExploreError::Merge(format!(
            "missing shard(s) {}",
            missing.join(", ")
        )));
    }
    let mut spec = first.run_identity();
    spec.command = first.command.clone();
    let session = Session::new(spec)?;
    let mut points = Vec::new();
    let mut outcomes = Vec::new();
    for (_, frame) in &loaded {
        let (p, o) = table::outcomes_from_part(&session, frame)?;
        points.extend(p);
        outcomes.extend(o);
    }
    let results = sorted(points, outcomes);
    if results.points.windows(2).any(|w| w[0].id == w[1].id) {
        return Err(ExploreError::Merge("a point appears in two parts".into()));
    }
    Ok((session, results))
}

/// `archscope merge`: builds the front and the report from shard parts.
pub fn merge(parts: &[PathBuf], out: &Path, force: bool) -> Result<Finished, ExploreError> {
    let (session, results) = merge_parts(parts)?;
    finish(&session, &results, out, force, None)
}

/// Direction of a metric by name, for callers that only have names.
pub fn direction_of(metrics: &[MetricDef], name: &str) -> Option<Direction> {
    metrics.iter().find(|m| m.name == name).map(|m| m.direction)
}
