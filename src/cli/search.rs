//! `archscope search`: neural architecture search, OFA subnets and LLM shapes priced by
//! archscope's models, and the fitting of accuracy predictors.

use super::mode;
use anyhow::{Context, Result};
use archscope::nas::net::Precision;
use archscope::nas::study::{CostSource, LlmRequest, ObjectiveKind, OfaRequest};
use clap::{Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Clone, Copy, ValueEnum, PartialEq)]
pub enum AlgorithmArg {
    Evolution,
    Random,
}

#[derive(Clone, Copy, ValueEnum, PartialEq)]
pub enum ObjectiveArg {
    Constrained,
    MnasSoft,
    MnasHard,
    Pareto,
}

#[derive(Clone, Copy, ValueEnum, PartialEq)]
pub enum FitArg {
    Ridge,
    Mlp,
}

/// Evolution settings shared by the search commands.
#[derive(clap::Args)]
pub struct EvoArgs {
    /// Hyperparameter preset: ofa (library defaults), tutorial (OFA notebook), hat.
    #[arg(long, default_value = "ofa")]
    preset: String,
    /// Override the seed population size.
    #[arg(long)]
    population: Option<usize>,
    /// Override the number of generations.
    #[arg(long)]
    generations: Option<usize>,
    /// evolution, or random search with the same number of scored subnets.
    #[arg(long, value_enum, default_value = "evolution")]
    algorithm: AlgorithmArg,
    /// Random seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Overwrite a non-empty output directory.
    #[arg(long)]
    force: bool,
}

impl EvoArgs {
    fn params(&self) -> Result<archscope::nas::evolution::EvolutionParams> {
        let mut p = archscope::nas::study::preset(&self.preset).with_context(|| {
            format!("--preset `{}`: expected ofa, tutorial or hat", self.preset)
        })?;
        if let Some(n) = self.population {
            p.population = n;
        }
        if let Some(g) = self.generations {
            p.generations = g;
        }
        Ok(p)
    }
    fn algorithm(&self) -> archscope::nas::study::Algorithm {
        match self.algorithm {
            AlgorithmArg::Evolution => archscope::nas::study::Algorithm::Evolution,
            AlgorithmArg::Random => archscope::nas::study::Algorithm::Random,
        }
    }
}

#[derive(Subcommand)]
pub enum Cmd {
    /// Once-for-all subnet search (MBv3 w1.0/w1.2, ProxylessNAS w1.3, ResNet50).
    Ofa(OfaArgs),
    /// LLM shape + quantization search around a base config.json.
    Llm(LlmArgs),
    /// Fit an accuracy predictor from a CSV of (arch, top1|accuracy); prints the held-out error.
    Fit(FitArgs),
}

/// Arguments of `search ofa`.
#[derive(clap::Args)]
pub struct OfaArgs {
    /// Device to price subnets on (not needed with --lut or --macs-only).
    #[arg(long)]
    hw: Option<String>,
    /// Compute unit (default: the device's default unit).
    #[arg(long)]
    unit: Option<String>,
    /// Textbook roofline: bare peaks, efficiency 1, no overhead.
    #[arg(long)]
    ideal: bool,
    /// Numeric precision of the CNN: f32, f16 or i8.
    #[arg(long, default_value = "f32")]
    precision: String,
    /// Software stack subnets are priced under: `ideal` (none), a shipped runtime (see
    /// `runtimes list`) or a runtime TOML (default: the one the device names for networks on
    /// the unit, `ideal` where none or with --ideal).
    #[arg(long)]
    runtime: Option<String>,
    /// CPU threads (default: all the unit's cores).
    #[arg(long)]
    threads: Option<u64>,
    /// OFA latency look-up tables (YAML files, one per resolution, or a directory holding only
    /// tables of one family) instead of a device.
    #[arg(long, num_args = 1..)]
    lut: Vec<String>,
    /// Price by MACs only (no device, no table).
    #[arg(long)]
    macs_only: bool,
    /// mbv3-w1.0, mbv3-w1.2, proxyless or resnet50.
    #[arg(long, default_value = "mbv3-w1.2")]
    space: String,
    /// Resolutions to search (default: the space's; with --lut, those the tables cover).
    #[arg(long, value_delimiter = ',')]
    resolutions: Option<Vec<u32>>,
    /// Latency budgets in ms, comma separated: one search each.
    #[arg(long, value_delimiter = ',')]
    max_latency_ms: Vec<f64>,
    /// Energy limit per inference, mJ.
    #[arg(long)]
    max_energy_mj: Option<f64>,
    /// Memory limit (weights + peak activations), e.g. 64MiB.
    #[arg(long)]
    max_memory: Option<String>,
    /// MAC limit, millions.
    #[arg(long)]
    max_macs_m: Option<f64>,
    /// constrained (OFA), mnas-soft / mnas-hard (MnasNet reward, target = each budget), pareto.
    #[arg(long, value_enum, default_value = "constrained")]
    objective: ObjectiveArg,
    /// Accuracy predictor (safetensors; OFA's acc_predictor.safetensors or one from `search fit`).
    /// Without it the search ranks by a labelled proxy, not accuracy.
    #[arg(long)]
    acc_predictor: Option<String>,
    /// Output directory.
    #[arg(long, default_value = "search-ofa")]
    out: String,
    #[command(flatten)]
    evo: EvoArgs,
}

/// Arguments of `search llm`.
#[derive(clap::Args)]
pub struct LlmArgs {
    /// Device.
    #[arg(long)]
    hw: String,
    /// Compute unit.
    #[arg(long)]
    unit: Option<String>,
    /// Textbook roofline.
    #[arg(long)]
    ideal: bool,
    /// Software stack subnets are priced under: `ideal` (none), a shipped runtime (see
    /// `runtimes list`) or a runtime TOML (default: the one the device names for LLMs on the
    /// unit, `ideal` where none or with --ideal).
    #[arg(long)]
    runtime: Option<String>,
    /// CPU threads (default: all the unit's cores).
    #[arg(long)]
    threads: Option<u64>,
    /// Base model: a shipped short name, a path to a config.json or .gguf file, or a Hugging
    /// Face model id in the local cache.
    #[arg(long)]
    base: String,
    /// Memory limit (weights + KV cache + activations), e.g. 2GiB.
    #[arg(long)]
    max_memory: Option<String>,
    /// Decode latency limit per token, ms.
    #[arg(long)]
    max_tpot_ms: Option<f64>,
    /// Decode energy limit per token, mJ.
    #[arg(long)]
    max_energy_mj: Option<f64>,
    /// Decode context length.
    #[arg(long, default_value_t = 1024)]
    context: u64,
    /// Quantization schemes searched jointly with the shape, comma separated (default: fp16,
    /// w8a16, w8a8, w4a16-g128, w4a8 and their +kv8 forms; under a runtime that names its
    /// formats, those of them with a published quality penalty, e.g. llama.cpp's q8_0 ...
    /// q4_0).
    #[arg(long, value_delimiter = ',')]
    quants: Vec<String>,
    /// Loss penalty of a scheme in nats/token, SCHEME=NATS (repeatable); overrides the defaults.
    #[arg(long)]
    quant_penalty: Vec<String>,
    /// Training tokens D of the scaling-law proxy.
    #[arg(long, default_value_t = archscope::nas::study::LLM_DEFAULT_TRAIN_TOKENS)]
    train_tokens: f64,
    /// A predictor fitted with `search fit --space llm` instead of the proxy.
    #[arg(long)]
    predictor: Option<String>,
    /// Pareto front of quality vs TPOT vs memory.
    #[arg(long)]
    pareto: bool,
    /// Output directory.
    #[arg(long, default_value = "search-llm")]
    out: String,
    #[command(flatten)]
    evo: EvoArgs,
}

/// Arguments of `search fit`.
#[derive(clap::Args)]
pub struct FitArgs {
    /// mbv3-w1.0, mbv3-w1.2, proxyless, resnet50, or llm (with --base).
    #[arg(long)]
    space: String,
    /// Base model for --space llm.
    #[arg(long)]
    base: Option<String>,
    /// CSV with an `arch` column (arch-dict JSON) and `top1` (%) or `accuracy` (fraction).
    #[arg(long)]
    csv: String,
    /// ridge or mlp.
    #[arg(long, value_enum, default_value = "ridge")]
    model: FitArg,
    /// Output safetensors file.
    #[arg(long)]
    out: String,
    /// Split and initialisation seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Overwrite the output file.
    #[arg(long)]
    force: bool,
}

pub fn run(cmd: Cmd) -> Result<()> {
    match cmd {
        Cmd::Ofa(a) => ofa(a),
        Cmd::Llm(a) => llm(a),
        Cmd::Fit(a) => fit(a),
    }
}

/// A byte-size flag, parsed.
fn bytes(flag: &str, v: &Option<String>) -> Result<Option<f64>> {
    v.as_ref()
        .map(|s| {
            archscope::nas::llm::parse_bytes(s).with_context(|| {
                format!("{flag} `{s}`: expected a size such as 2GiB, 512MiB or 1.5GB")
            })
        })
        .transpose()
}

fn ofa(a: OfaArgs) -> Result<()> {
    let OfaArgs {
        hw,
        unit,
        ideal,
        precision,
        runtime,
        threads,
        lut,
        macs_only,
        space,
        resolutions,
        max_latency_ms,
        max_energy_mj,
        max_memory,
        max_macs_m,
        objective,
        acc_predictor,
        out,
        evo,
    } = a;
    let runtime_asked = runtime.is_some() || threads.is_some();
    let cost = match (hw, lut.is_empty(), macs_only) {
        (_, _, true) => CostSource::Macs,
        (_, false, false) => CostSource::Lut(lut.iter().map(PathBuf::from).collect()),
        (Some(hw), true, false) => CostSource::Archscope {
            hw,
            unit,
            mode: mode(ideal),
            precision: Precision::parse(&precision)
                .with_context(|| format!("--precision `{precision}`: expected f32, f16 or i8"))?,
            runtime,
            threads,
        },
        (None, true, false) => {
            anyhow::bail!("give --hw DEVICE, --lut TABLES or --macs-only")
        }
    };
    if !matches!(cost, CostSource::Archscope { .. }) && runtime_asked {
        anyhow::bail!(
            "--runtime and --threads price subnets on a device: give --hw, not --lut or --macs-only"
        );
    }
    let req = OfaRequest {
        space,
        resolutions,
        cost,
        acc_predictor: acc_predictor.map(PathBuf::from),
        latency_budgets: max_latency_ms,
        max_energy_mj,
        max_memory_mib: bytes("--max-memory", &max_memory)?.map(|b| b / (1u64 << 20) as f64),
        max_macs_m,
        objective: match objective {
            ObjectiveArg::Constrained => ObjectiveKind::Constrained,
            ObjectiveArg::MnasSoft => ObjectiveKind::MnasSoft,
            ObjectiveArg::MnasHard => ObjectiveKind::MnasHard,
            ObjectiveArg::Pareto => ObjectiveKind::Pareto,
        },
        algorithm: evo.algorithm(),
        params: evo.params()?,
        seed: evo.seed,
        out: PathBuf::from(out),
        force: evo.force,
    };
    super::out(&archscope::nas::study::search_ofa(&req)?)?;
    Ok(())
}

fn llm(a: LlmArgs) -> Result<()> {
    let LlmArgs {
        hw,
        unit,
        ideal,
        runtime,
        threads,
        base,
        max_memory,
        max_tpot_ms,
        max_energy_mj,
        context,
        quants,
        quant_penalty,
        train_tokens,
        predictor,
        pareto,
        out,
        evo,
    } = a;
    let penalties = quant_penalty
        .iter()
        .map(|s| {
            let (k, v) = s
                .split_once('=')
                .with_context(|| format!("--quant-penalty `{s}`: expected SCHEME=NATS"))?;
            let v: f64 = v
                .parse()
                .ok()
                .filter(|x: &f64| x.is_finite())
                .with_context(|| format!("--quant-penalty `{s}`: `{v}` is not a number"))?;
            Ok((k.to_string(), v))
        })
        .collect::<Result<Vec<_>>>()?;
    let mut params = evo.params()?;
    if evo.generations.is_none() {
        // the LLM space is small (thousands of subnets): 50 generations suffice
        params.generations = params.generations.min(50);
    }
    let req = LlmRequest {
        base,
        hw,
        unit,
        mode: mode(ideal),
        runtime,
        threads,
        max_memory_bytes: bytes("--max-memory", &max_memory)?,
        max_tpot_ms,
        max_energy_mj,
        context,
        quants,
        penalties,
        train_tokens,
        predictor: predictor.map(PathBuf::from),
        pareto,
        algorithm: evo.algorithm(),
        params,
        seed: evo.seed,
        out: PathBuf::from(out),
        force: evo.force,
    };
    super::out(&archscope::nas::study::search_llm(&req)?)?;
    Ok(())
}

fn fit(a: FitArgs) -> Result<()> {
    let FitArgs {
        space,
        base,
        csv,
        model,
        out,
        seed,
        force,
    } = a;
    let kind = match model {
        FitArg::Ridge => archscope::nas::predictor::FitKind::Ridge,
        FitArg::Mlp => archscope::nas::predictor::FitKind::Mlp,
    };
    let s = if space == "llm" {
        let base = base.context("--space llm needs --base MODEL")?;
        let quants: Vec<String> = archscope::nas::llm::DEFAULT_QUANTS
            .iter()
            .map(|s| s.to_string())
            .collect();
        archscope::nas::study::fit_llm_predictor(
            &base,
            &quants,
            csv.as_ref(),
            kind,
            seed,
            out.as_ref(),
            force,
        )?
    } else {
        archscope::nas::study::fit_predictor(&space, csv.as_ref(), kind, seed, out.as_ref(), force)?
    };
    super::out(&s)?;
    Ok(())
}
