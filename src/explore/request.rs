//! The request of an exploration and its resolution: [`ExploreRequest`] (the command line) is
//! checked and resolved into an [`ExploreSpec`], every input made explicit (the device and model
//! text included) so that a run can be repeated and shards merged.

use super::runtimes::{self, RuntimeSpec};
use super::{ExploreError, cnn, files, llm, units};
use crate::hardware::Hardware;
use crate::mapping::{AdaptOptions, MappingRequest, report::Solver};
use crate::runtime::WorkloadKind;
use crate::search::{Shard, Sweep};
use crate::workload::{LlmConfig, Model, ModelError, Phase, VisionModel, load_model};
use serde::{Deserialize, Serialize};
use std::path::Path;

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
    /// Values of the `runtime` axis (see [`super::runtimes`]); empty in a spec written before
    /// the axis existed, read as the device defaults.
    #[serde(default)]
    pub runtimes: Vec<RuntimeSpec>,
    /// Calibration overlays of the runtimes in play, picked up from `calibrations/` when the
    /// spec was resolved (see [`runtimes::find_calibrations`]); empty in an older spec.
    #[serde(default)]
    pub calibrations: Vec<runtimes::CalibrationSpec>,
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
    /// Values of the runtime axis ([`RuntimeSpec::device_default`] alone when none are given).
    pub fn runtime_specs(&self) -> Vec<RuntimeSpec> {
        if self.runtimes.is_empty() {
            vec![RuntimeSpec::device_default()]
        } else {
            self.runtimes.clone()
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
    pub(super) fn run_identity(&self) -> ExploreSpec {
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
    /// Model: an LLM (short name, config.json or .gguf path, or a Hugging Face model id in the
    /// local cache; a .gguf model's default --quant is the file's own types), or a vision
    /// network or encoder as `score` takes it (`mobilenetv2`, `resnet50?res=160`, `model.onnx`); see `models list`.
    #[cfg_attr(feature = "cli", arg(long))]
    pub model: String,
    /// Quantization schemes (precisions), comma-separated. Default on an LLM: fp32, fp16,
    /// w8a16, w8a8, w4a16-g128, w4a8, w4a16-g128+kv8; on a network: fp32, fp16, w8a8; each
    /// kept when a runtime in play runs it (a runtime without a format list runs all), plus the
    /// formats common under the runtimes that restrict theirs, where they run them: f16, q8_0,
    /// q4_0, q4_k_m (llama.cpp), q4f16_1 (MLC-LLM), and the formats of a runtime that runs
    /// none of those (int8 for the Edge TPU and X-CUBE-AI). The runtimes in play are those of
    /// --runtime, or the device defaults of the listed units.
    #[cfg_attr(feature = "cli", arg(long = "quant", value_delimiter = ','))]
    pub quants: Vec<String>,
    /// Runtimes (software stacks) to price each point under, comma-separated: an axis of the
    /// space. `default` (each unit's runtime as its device names it for the workload, `ideal`
    /// where none), `ideal` (no runtime), a shipped runtime (see `runtimes list`) or a runtime
    /// file. Default: `default`, or `ideal` with --ideal or --mapping. A runtime that cannot run
    /// a point's unit, workload or precision makes the point infeasible.
    #[cfg_attr(
        feature = "cli",
        arg(long = "runtime", visible_alias = "runtimes", value_delimiter = ',')
    )]
    pub runtimes: Vec<String>,
    /// Do not pick up the calibration overlays in calibrations/ (DEVICE.RUNTIME.toml, written
    /// by `calibrate --from`); by default a runtime with one there is priced with its
    /// corrections and takes its error band from it.
    #[cfg_attr(feature = "cli", arg(long))]
    pub no_calibration: bool,
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
    if let Some(source) = crate::workload::llm_source(name)? {
        return Ok(source);
    }
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

/// What [`ExploreRequest::resolve_workload`] resolves: (is a network with one forward pass,
/// workload, default objectives, metric names, knob axes).
type ResolvedWorkload = (
    bool,
    WorkloadSpec,
    Vec<String>,
    Vec<&'static str>,
    Vec<&'static str>,
);

/// `given` deduplicated, or `default` when nothing is given.
fn or_default(given: &[u64], default: &[u64]) -> Vec<u64> {
    if given.is_empty() {
        default.to_vec()
    } else {
        dedup(given)
    }
}

/// The quantizations to sweep: `given` deduplicated, or else those of `default` that a runtime
/// in play on `units` supports; each checked to parse.
fn parse_quants(
    specs: &[RuntimeSpec],
    hw: &Hardware,
    given: &[String],
    default: &[&str],
    units: &[String],
    kind: WorkloadKind,
) -> Result<Vec<String>, ExploreError> {
    let q: Vec<String> = if given.is_empty() {
        let rts = runtimes::in_play(specs, hw, units, kind)?;
        runtimes::default_quants(default, &rts)
    } else {
        dedup(given)
    };
    for x in &q {
        crate::workload::QuantScheme::parse(x).map_err(llm::LlmSetupError::from)?;
    }
    Ok(q)
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

    /// The values of the runtime axis: those of `--runtime` (checked, deduplicated, a file's
    /// text read), else the device defaults, or `ideal` with `--ideal` or `--mapping` (which
    /// price without a runtime).
    fn runtime_specs(&self) -> Result<Vec<RuntimeSpec>, ExploreError> {
        if self.runtimes.is_empty() {
            return Ok(vec![if self.ideal || self.mapping.is_some() {
                RuntimeSpec::from_name(crate::runtime::IDEAL)?
            } else {
                RuntimeSpec::device_default()
            }]);
        }
        dedup(&self.runtimes)
            .iter()
            .map(|n| RuntimeSpec::from_name(n))
            .collect()
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

    /// The workload of [`Self::resolve`]: reads the model, checks the flags that apply to its
    /// kind, and resolves its knobs; returns whether it is a network with one forward pass (not
    /// an LLM), the workload, its default objectives, its metric names and its knob axes.
    fn resolve_workload(
        &self,
        hw: &Hardware,
        specs: &[RuntimeSpec],
    ) -> Result<ResolvedWorkload, ExploreError> {
        let all_units: Vec<String> = hw.units.iter().map(|u| u.name.clone()).collect();
        match load_model(&self.model)? {
            Model::Llm(_) => self.resolve_llm(hw, specs, all_units),
            Model::Vision(v) => self.resolve_vision(hw, specs, &v, all_units),
        }
    }

    /// [`Self::resolve_workload`] for an LLM: its prefill and decode units, quantizations,
    /// batches, prompt and context lengths (each phase checked against the model).
    fn resolve_llm(
        &self,
        hw: &Hardware,
        specs: &[RuntimeSpec],
        all_units: Vec<String>,
    ) -> Result<ResolvedWorkload, ExploreError> {
        let (model_file, model, text) = model_text(&self.model)?;
        let cfg = LlmConfig::from_json(&text, &model_file, &model)?;
        let pick = |specific: &[String]| -> Vec<String> {
            if !specific.is_empty() {
                dedup(specific)
            } else if !self.units.is_empty() {
                dedup(&self.units)
            } else {
                all_units.clone()
            }
        };
        let prefill_units = self.unit_list(hw, pick(&self.prefill_units))?;
        let decode_units = self.unit_list(hw, pick(&self.decode_units))?;
        let both: Vec<String> = prefill_units.iter().chain(&decode_units).cloned().collect();
        // A GGUF model is priced in its file's own types unless --quant says otherwise.
        let quants = match crate::workload::gguf::file_scheme(&cfg) {
            Some(own) if self.quants.is_empty() => {
                parse_quants(specs, hw, &[own.to_string()], &[], &both, WorkloadKind::Llm)?
            }
            _ => parse_quants(
                specs,
                hw,
                &self.quants,
                &llm::DEFAULT_QUANTS,
                &both,
                WorkloadKind::Llm,
            )?,
        };
        let batches = or_default(&self.batches, &[1]);
        let prompts = or_default(&self.prompts, &[llm::DEFAULT_PROMPT]);
        let contexts = or_default(&self.contexts, &llm::DEFAULT_CONTEXTS);
        check_positive("--batch", &batches)?;
        check_positive("--prompt", &prompts)?;
        check_positive("--context", &contexts)?;
        for &b in &batches {
            for &prompt in &prompts {
                cfg.check_phase(Phase::Prefill { prompt }, b)?;
            }
            for &context in &contexts {
                cfg.check_phase(Phase::Decode { context }, b)?;
            }
        }
        Ok((
            false,
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
        ))
    }

    /// [`Self::resolve_workload`] for a network with one forward pass: rejects the LLM-only
    /// flags, then resolves its units, quantizations and batches.
    fn resolve_vision(
        &self,
        hw: &Hardware,
        specs: &[RuntimeSpec],
        v: &VisionModel,
        all_units: Vec<String>,
    ) -> Result<ResolvedWorkload, ExploreError> {
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
            hw,
            if self.units.is_empty() {
                all_units.clone()
            } else {
                dedup(&self.units)
            },
        )?;
        let quants = parse_quants(
            specs,
            hw,
            &self.quants,
            &cnn::DEFAULT_QUANTS,
            &units,
            WorkloadKind::Network,
        )?;
        let batches = or_default(&self.batches, &cnn::DEFAULT_BATCHES);
        check_positive("--batch", &batches)?;
        let (base, _) = self.model.split_once('?').unwrap_or((&self.model, ""));
        let model_text = if base.to_ascii_lowercase().ends_with(".onnx") {
            onnx_identity(base)?
        } else {
            v.name.clone()
        };
        Ok((
            true,
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
        ))
    }

    /// `--front-by` resolved: by default the swept fields (and, on an LLM, the prompt and
    /// context lengths); `none` for one front; else the named axes, checked.
    fn front_by_axes(
        &self,
        sweeps: &[Sweep],
        knob_axes: &[&str],
        is_cnn: bool,
    ) -> Result<Vec<String>, ExploreError> {
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
        Ok(front_by)
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
        let runtimes = self.runtime_specs()?;
        let calibrations = if self.no_calibration || self.ideal {
            Vec::new()
        } else {
            runtimes::find_calibrations(&runtimes, &hw)?
        };
        let (is_cnn, workload, default_objectives, metric_names, knob_axes) =
            self.resolve_workload(&hw, &runtimes)?;
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
        let front_by = self.front_by_axes(&sweeps, &knob_axes, is_cnn)?;
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
            runtimes,
            calibrations,
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
pub(super) fn onnx_identity(path: &str) -> Result<String, ExploreError> {
    let bytes = std::fs::read(path).map_err(|e| ExploreError::Io {
        path: path.to_string(),
        source: e,
    })?;
    Ok(format!("onnx {path} sha256 {}", files::sha256_hex(&bytes)))
}
