//! `archscope serve`: a continuous-batching serving simulation of one LLM on one unit, or the
//! highest request rate that meets latency targets.

use super::{mode, print};
use anyhow::Result;
use archscope::hardware::Hardware;
use archscope::render::Format;
use archscope::runtime::WorkloadKind;
use archscope::score::ScoreRequest;
use archscope::serving::report::ServeReport;
use archscope::serving::{Lengths, ServeConfig, Server, Targets, max_rate, poisson, read_trace};
use archscope::workload::{Model, QuantScheme, default_quant, load_model};

#[derive(clap::Args)]
pub struct Args {
    /// Device: a path, a file in hardware-db/, or a short name.
    #[arg(long)]
    hw: String,
    /// LLM, named as `score --model` takes it.
    #[arg(long)]
    model: String,
    /// Quantization scheme (default: fp16, or a .gguf file's own types).
    #[arg(long)]
    quant: Option<String>,
    /// Compute unit (default: the device's default unit).
    #[arg(long)]
    unit: Option<String>,
    /// Software stack (as for `score`; default: the device's runtime for the unit).
    #[arg(long)]
    runtime: Option<String>,
    /// Textbook roofline: bare peaks, efficiency 1, no overhead.
    #[arg(long)]
    ideal: bool,
    /// Poisson arrival rate, requests per second (the start of the search with
    /// --find-max-rate).
    #[arg(long, default_value_t = 1.0, conflicts_with = "trace")]
    rate: f64,
    /// Requests to simulate.
    #[arg(long, default_value_t = 1000, conflicts_with = "trace")]
    requests: u64,
    /// Prompt tokens per request: N, or LO..HI drawn uniformly.
    #[arg(long, default_value = "512", conflicts_with = "trace")]
    prompt: String,
    /// Output tokens per request: N, or LO..HI drawn uniformly.
    #[arg(long, default_value = "128", conflicts_with = "trace")]
    output: String,
    /// Seed of the arrivals and lengths.
    #[arg(long, default_value_t = 0, conflicts_with = "trace")]
    seed: u64,
    /// A trace CSV instead of Poisson arrivals: header arrival_s,prompt_tokens,output_tokens.
    #[arg(long)]
    trace: Option<std::path::PathBuf>,
    /// Most requests running at once.
    #[arg(long, default_value_t = 64)]
    max_batch: u64,
    /// Tokens per step, decodes and prompt chunks together (chunked prefill).
    #[arg(long, default_value_t = 512)]
    chunk: u64,
    /// Search the highest Poisson rate meeting --ttft-p99 / --tpot-p99.
    #[arg(long, conflicts_with = "trace")]
    find_max_rate: bool,
    /// TTFT target for --find-max-rate, seconds (99th percentile).
    #[arg(long, requires = "find_max_rate")]
    ttft_p99: Option<f64>,
    /// TPOT target for --find-max-rate, seconds (99th percentile).
    #[arg(long, requires = "find_max_rate")]
    tpot_p99: Option<f64>,
    /// Output format (table or json).
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
}

pub fn run(a: Args) -> Result<()> {
    let hw = Hardware::load(&a.hw)?;
    let Model::Llm(model) = load_model(&a.model)? else {
        anyhow::bail!(
            "--model {}: serving simulates LLMs; this is a network",
            a.model
        );
    };
    let whole = Model::Llm(model.clone());
    let quant = QuantScheme::parse(a.quant.as_deref().unwrap_or(default_quant(&whole, "fp16")))?;
    let unit = hw.unit_index(a.unit.as_deref())?;
    let runtime = archscope::runtime::resolve_flag(
        a.runtime.as_deref(),
        a.ideal,
        &hw,
        unit,
        WorkloadKind::Llm,
    )?;
    let req = ScoreRequest {
        unit: a.unit.clone(),
        mode: mode(a.ideal),
        runtime,
        ..ScoreRequest::default()
    };
    let config = ServeConfig {
        max_batch: a.max_batch,
        chunk: a.chunk,
    };
    let mut server = Server::new(&hw, &model, &quant, &req, config)?;
    let (prompt, output) = (
        Lengths::parse(&a.prompt, "--prompt")?,
        Lengths::parse(&a.output, "--output")?,
    );
    let words = |rate: f64| {
        format!(
            "Poisson {rate:.4} requests/s, {} requests, prompt {}, output {}, seed {}",
            a.requests, a.prompt, a.output, a.seed
        )
    };
    let (rate, workload, metrics, series, search) = if let Some(path) = &a.trace {
        let reqs = read_trace(path)?;
        let (m, s) = server.run(&reqs)?;
        let w = format!("trace {} ({} requests)", path.display(), reqs.len());
        (None, w, m, s, None)
    } else if a.find_max_rate {
        let targets = Targets {
            ttft_p99_s: a.ttft_p99,
            tpot_p99_s: a.tpot_p99,
        };
        let (rate, m, s, tried) = max_rate(
            |r| server.run(&poisson(r, a.requests, prompt, output, a.seed)?),
            targets,
            a.rate,
        )?;
        (Some(rate), words(rate), m, s, Some((targets, tried)))
    } else {
        let reqs = poisson(a.rate, a.requests, prompt, output, a.seed)?;
        let (m, s) = server.run(&reqs)?;
        (Some(a.rate), words(a.rate), m, s, None)
    };
    let report = ServeReport {
        hardware: hw.name.clone(),
        unit: hw.units[unit].name.clone(),
        model: model.name.clone(),
        quant: quant.name.clone(),
        runtime: req.runtime.name.clone(),
        config,
        workload,
        rate,
        memory: server.memory.clone(),
        metrics,
        series,
        graphs_priced: server.graphs_priced(),
        search,
    };
    print(&report, a.format)
}
