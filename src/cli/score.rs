//! `archscope score`: one model on one device, per op.

use super::{PhaseArg, TrafficSolver, mode, print};
use anyhow::Result;
use archscope::hardware::Hardware;
use archscope::parallel::{Node, ParallelError, ParallelRequest, score_parallel};
use archscope::render::{Format, OnDevice};
use archscope::score::{ScoreRequest, score_llm, score_vision_mapped};
use archscope::speculative::{Acceptance, SpeculativeError, SpeculativeRequest, score_speculative};
use archscope::workload::{Model, QuantScheme, default_quant, load_model};

/// `--quant` when none is given (for a model not read from a GGUF file).
const DEFAULT_QUANT: &str = "fp16";

#[derive(clap::Args)]
pub struct Args {
    /// Device: a path, a file in hardware-db/, or a short name.
    #[arg(long, required_unless_present = "node", conflicts_with = "node")]
    hw: Option<String>,
    /// Multi-GPU node (LLMs): a path, a file in nodes/, or a shipped node (dgx-a100,
    /// dgx-h100); its device stands for --hw, and --tp/--pp split the model over its GPUs.
    #[arg(long)]
    node: Option<String>,
    /// Tensor-parallel degree: GPUs that split every layer (column/row splits, two
    /// all-reduces per layer over the node's link).
    #[arg(long, requires = "node", default_value_t = 1)]
    tp: u64,
    /// Pipeline-parallel degree: stages of contiguous layers, each on its own TP group.
    #[arg(long, requires = "node", default_value_t = 1)]
    pp: u64,
    /// Micro-batches the batch splits into for the pipeline (must divide --batch).
    #[arg(long, requires = "node", default_value_t = 1)]
    microbatches: u64,
    /// Model: a short LLM name or built-in network (see `models list`; networks take
    /// parameters, e.g. `mobilenetv2?width=0.75&res=160`), a path to a Hugging Face
    /// config.json, a path to a llama.cpp .gguf file (its header), a Hugging Face model id in the
    /// local cache (`Qwen/Qwen2.5-1.5B-Instruct`), or a path to an .onnx file (`model.onnx?sequence=128` sets symbolic
    /// dimensions).
    #[arg(long)]
    model: String,
    /// Phase to score (LLMs; vision networks and encoders have one forward phase).
    #[arg(long, value_enum, default_value = "both")]
    phase: PhaseArg,
    /// Sequences per step (LLMs), images or sequences per forward pass (networks).
    #[arg(long, default_value_t = 1)]
    batch: u64,
    /// Prompt tokens (prefill).
    #[arg(long, default_value_t = 512)]
    prompt: u64,
    /// KV-cache length (decode).
    #[arg(long, default_value_t = 1024)]
    context: u64,
    /// Quantization scheme, e.g. fp16, w8a8, w4a16-g128+kv8, q4_k_m (default: fp16; for a .gguf
    /// model, the file's own tensor types, e.g. q4_k_m; another scheme re-prices its shapes).
    #[arg(long)]
    quant: Option<String>,
    /// Compute unit (default: the device's default unit).
    #[arg(long)]
    unit: Option<String>,
    /// Textbook roofline: bare peaks, efficiency 1, no overhead.
    #[arg(long)]
    ideal: bool,
    /// Take the unit's scratchpad traffic from a mapper's plan (networks only; the unit must
    /// reach a level marked `managed = "software"`).
    #[arg(long, value_enum)]
    mapping: Option<TrafficSolver>,
    /// Time limit of the mapping ILP in seconds (per window with `dc`).
    #[arg(long, default_value_t = 30.0)]
    mapping_time_limit: f64,
    /// Put the weights into the mapping problem instead of streaming them past the scratchpad.
    #[arg(long)]
    mapping_weights: bool,
    /// Software stack that runs the model: `ideal` (none), a shipped runtime (see `runtimes
    /// list`) or a path to a runtime TOML (default: the runtime the device names for the unit
    /// and the kind of model, `ideal` where it names none or with --ideal).
    #[arg(long)]
    runtime: Option<String>,
    /// CPU threads (default: all the unit's cores).
    #[arg(long)]
    threads: Option<u64>,
    /// A calibration overlay for this device and runtime (written by `calibrate --from`): its
    /// corrections apply, and its cross-validated error gives the error band. Default: the
    /// pair's file in calibrations/ (DEVICE.RUNTIME.toml) when there is one.
    #[arg(long)]
    calibration: Option<std::path::PathBuf>,
    /// Do not pick up the pair's overlay from calibrations/.
    #[arg(long, conflicts_with = "calibration")]
    no_calibration: bool,
    /// Speculative decoding (LLMs): the draft model, named as --model takes it; it must have
    /// the target's vocabulary. Prints the speculative decode metrics next to plain decode.
    #[arg(long)]
    draft: Option<String>,
    /// Draft tokens per speculative step, k (1 to 16).
    #[arg(long, requires = "draft", default_value_t = 4)]
    draft_tokens: u64,
    /// Probability that the target accepts each draft token, a in [0, 1]: a step yields
    /// (1 - a^(k+1)) / (1 - a) tokens.
    #[arg(long, requires = "draft", conflicts_with = "accepted_length")]
    accept_rate: Option<f64>,
    /// Mean tokens per speculative step, L in [1, k+1] (a measured acceptance length, the
    /// target's own token included), instead of --accept-rate.
    #[arg(long, requires = "draft")]
    accepted_length: Option<f64>,
    /// Unit that runs the draft (default: the target's unit).
    #[arg(long, requires = "draft")]
    draft_unit: Option<String>,
    /// Quantization of the draft (default: the target's --quant).
    #[arg(long, requires = "draft")]
    draft_quant: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
}

pub fn run(a: Args) -> Result<()> {
    let node = a.node.as_deref().map(Node::load).transpose()?;
    let hw = match (&node, &a.hw) {
        (Some(n), _) => n.hw.clone(),
        (None, Some(h)) => Hardware::load(h)?,
        (None, None) => anyhow::bail!("give --hw DEVICE or --node NODE"),
    };
    let model = load_model(&a.model)?;
    let mapping = a.mapping.map(|m| archscope::mapping::MappingRequest {
        solver: m.solver(),
        time_limit_s: a.mapping_time_limit,
        adapt: archscope::mapping::AdaptOptions {
            include_weights: a.mapping_weights,
            ..Default::default()
        },
    });
    let quant = QuantScheme::parse(
        a.quant
            .as_deref()
            .unwrap_or(default_quant(&model, DEFAULT_QUANT)),
    )?;
    let kind = model.workload_kind();
    let unit = hw.unit_index(a.unit.as_deref())?;
    let defaulted = a.runtime.is_none() && !a.ideal;
    let runtime = archscope::runtime::resolve_flag(a.runtime.as_deref(), a.ideal, &hw, unit, kind)?;
    let calibration = match (&a.calibration, a.no_calibration) {
        (Some(path), _) => Some(archscope::trust::overlay::Overlay::read(path)?),
        (None, true) => None,
        (None, false) => {
            archscope::trust::overlay::find_for(&hw.name, &runtime.name)?.map(|(path, _, o)| {
                eprintln!(
                    "calibration: {} (picked up; --no-calibration to ignore)",
                    path.display()
                );
                o
            })
        }
    };
    let req = ScoreRequest {
        batch: a.batch,
        prompt: a.prompt,
        context: a.context,
        prefill: a.phase != PhaseArg::Decode,
        decode: a.phase != PhaseArg::Prefill,
        unit: a.unit,
        mode: mode(a.ideal),
        runtime,
        threads: a.threads,
        calibration,
        ..ScoreRequest::default()
    };
    match model {
        Model::Llm(model) => {
            if mapping.is_some() {
                anyhow::bail!(
                    "--mapping applies to networks (CNNs, encoders); LLM phases are \
                     priced with the roofline's residency"
                );
            }
            if let Some(node) = &node {
                if a.draft.is_some() {
                    anyhow::bail!("--draft and --node cannot be combined yet");
                }
                let par = ParallelRequest {
                    tp: a.tp,
                    pp: a.pp,
                    microbatches: a.microbatches,
                };
                let score =
                    score_parallel(node, &model, &quant, &req, &par).map_err(|e| match e {
                        ParallelError::Score(e) => hint(e, defaulted),
                        e => e.into(),
                    })?;
                return print(&score, a.format);
            }
            if let Some(draft) = &a.draft {
                let Model::Llm(draft_model) = load_model(draft)? else {
                    anyhow::bail!("--draft {draft}: expected an LLM, found a network");
                };
                let acceptance = match (a.accept_rate, a.accepted_length) {
                    (_, Some(l)) => Acceptance::MeanLength(l),
                    (Some(r), None) => Acceptance::Rate(r),
                    (None, None) => {
                        anyhow::bail!("--draft needs --accept-rate or --accepted-length")
                    }
                };
                let spec = SpeculativeRequest {
                    draft_tokens: a.draft_tokens,
                    acceptance,
                    draft_unit: a.draft_unit.clone(),
                    draft_quant: a
                        .draft_quant
                        .as_deref()
                        .map(QuantScheme::parse)
                        .transpose()?,
                };
                let score = score_speculative(&hw, &model, &draft_model, &quant, &req, &spec)
                    .map_err(|e| match e {
                        SpeculativeError::Score(e) => hint(e, defaulted),
                        e => e.into(),
                    })?;
                return print(
                    &OnDevice {
                        score: &score,
                        hw: &hw,
                    },
                    a.format,
                );
            }
            let score = score_llm(&hw, &model, &quant, &req).map_err(|e| hint(e, defaulted))?;
            print(
                &OnDevice {
                    score: &score,
                    hw: &hw,
                },
                a.format,
            )
        }
        Model::Vision(model) => {
            if node.is_some() {
                anyhow::bail!("--node applies to LLMs; `{}` is a network", model.name);
            }
            if a.draft.is_some() {
                anyhow::bail!("--draft applies to LLMs; `{}` is a network", model.name);
            }
            let score = score_vision_mapped(&hw, &model, &quant, &req, mapping.as_ref())
                .map_err(|e| hint(e, defaulted))?;
            print(
                &OnDevice {
                    score: &score,
                    hw: &hw,
                },
                a.format,
            )
        }
    }
}

/// An infeasible score under the runtime the device names by default says where that runtime
/// came from and how to price otherwise.
fn hint(e: archscope::score::ScoreError, defaulted: bool) -> anyhow::Error {
    if defaulted && matches!(e, archscope::score::ScoreError::Infeasible(_)) {
        anyhow::anyhow!(
            "{e}\n(the runtime is the device's default for this unit; --runtime ideal prices the unit alone, `archscope runtimes list` shows the others)"
        )
    } else {
        e.into()
    }
}
