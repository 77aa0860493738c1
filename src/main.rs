//! The `archscope` command line: a thin clap layer over the library.

use anyhow::{Context, Result};
use archscope::explore::{self, ExploreRequest, OutputOptions, files::shell_join};
use archscope::hardware::{Hardware, known_devices};
use archscope::roofline::Mode;
use archscope::score::{ScoreRequest, score_llm, score_vision_mapped};
use archscope::workload::{
    Model, QuantScheme, VisionModel, known_models, load_llm, load_model, vision,
};
use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(
    name = "archscope",
    version,
    about = "Analytical performance modeler and design-space explorer for ML workloads"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Clone, Copy, ValueEnum, PartialEq)]
enum PhaseArg {
    Prefill,
    Decode,
    Both,
}

#[derive(Clone, Copy, ValueEnum, PartialEq)]
enum MapObjective {
    /// Operator placement on the device's units (ILP with HEFT and single-unit baselines).
    Placement,
    /// Scratchpad traffic (the COSMA mapper, with --scratchpad).
    Traffic,
}

#[derive(Clone, Copy, ValueEnum, PartialEq)]
enum TrafficSolver {
    /// One ILP over the whole graph (HiGHS), warm-started by the baselines.
    Ilp,
    /// The better of the framework default (first-fit + Belady) and the TFLite arena.
    Heuristic,
    /// Divide and conquer: ILP windows with a rolling horizon (large graphs).
    Dc,
    /// The framework default alone: graph order, first-fit, Belady.
    Default,
    /// The TFLite-style greedy arena alone.
    Arena,
}

impl TrafficSolver {
    fn solver(self) -> archscope::mapping::report::Solver {
        use archscope::mapping::report::Solver;
        match self {
            TrafficSolver::Ilp => Solver::Ilp,
            TrafficSolver::Heuristic => Solver::Heuristic,
            TrafficSolver::Dc => Solver::DivideAndConquer,
            TrafficSolver::Default => Solver::Default,
            TrafficSolver::Arena => Solver::Arena,
        }
    }
}

#[derive(Clone, Copy, ValueEnum, PartialEq)]
enum Minimize {
    Makespan,
    Energy,
    /// Energy plus --j-per-s joules per second of makespan.
    Weighted,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Table,
    Json,
    Csv,
}

#[derive(Subcommand)]
enum Cmd {
    /// Score a model on a device: latency, energy, bound and footprint, per op.
    Score {
        /// Device: a path, a file in hardware-db/, or a short name.
        #[arg(long)]
        hw: String,
        /// Model: a short LLM name or built-in network (see `models list`; networks take
        /// parameters, e.g. `mobilenetv2?width=0.75&res=160`), a path to a Hugging Face
        /// config.json, or a path to an .onnx file (`model.onnx?sequence=128` sets symbolic
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
        /// Quantization scheme, e.g. fp16, w8a8, w4a16-g128+kv8.
        #[arg(long, default_value = "fp16")]
        quant: String,
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
        /// Output format.
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
    },
    /// Map a model onto a device: operator placement on its units, or scratchpad traffic.
    Map {
        /// What to map: `placement` (ops onto units) or `traffic` (scratchpad, COSMA).
        /// Default: traffic when --scratchpad is given without --hw, else placement.
        #[arg(long, value_enum)]
        objective: Option<MapObjective>,
        /// Device: a path, a file in hardware-db/, or a short name (needed for placement).
        #[arg(long)]
        hw: Option<String>,
        /// Model: a short name (see `models list`; networks take parameters, e.g.
        /// `mobilenetv2?width=0.75`) or a path to a Hugging Face config.json.
        #[arg(long)]
        model: String,
        /// Phase to place.
        #[arg(long, value_enum, default_value = "prefill")]
        phase: PhaseArg,
        /// Sequences per step.
        #[arg(long, default_value_t = 1)]
        batch: u64,
        /// Prompt tokens (prefill).
        #[arg(long, default_value_t = 512)]
        prompt: u64,
        /// KV-cache length (decode).
        #[arg(long, default_value_t = 1024)]
        context: u64,
        /// Quantization scheme, e.g. fp16, w8a8, w4a16-g128+kv8 (default: fp16 for
        /// placement, w8a8 for traffic: 8-bit data as in the COSMA evaluation).
        #[arg(long)]
        quant: Option<String>,
        /// What the placement minimises.
        #[arg(long, value_enum, default_value = "makespan")]
        minimize: Minimize,
        /// Joules charged per second of makespan with --minimize weighted.
        #[arg(long, default_value_t = 0.0)]
        j_per_s: f64,
        /// Makespan budget, milliseconds.
        #[arg(long)]
        latency_budget_ms: Option<f64>,
        /// Average power budget, watts.
        #[arg(long)]
        power_budget_w: Option<f64>,
        /// Wall-clock limit for the solver, seconds.
        #[arg(long, default_value_t = 60.0)]
        time_limit: f64,
        /// Units to place on, comma-separated (default: all of the device's).
        #[arg(long, value_delimiter = ',')]
        units: Vec<String>,
        /// Split the batch into this many sub-batches pipelined across units.
        #[arg(long)]
        sub_batches: Option<u64>,
        /// One model for the whole graph instead of one per layer block.
        #[arg(long)]
        monolithic: bool,
        /// Handoff time per cross-unit transfer, microseconds.
        #[arg(long, default_value_t = 0.0)]
        switch_us: f64,
        /// Do not bound windows by the shared memory levels' bandwidth.
        #[arg(long)]
        no_bandwidth_floor: bool,
        /// Write a Gantt chart (.svg or .png).
        #[arg(long)]
        gantt: Option<String>,
        /// Textbook roofline: bare peaks, efficiency 1, no overhead.
        #[arg(long)]
        ideal: bool,
        /// Scratchpad size for --objective traffic: bytes (65536), with a unit (512KiB,
        /// 1MiB, 1.5MB), or a budget of the model: mr (largest op working set), mp
        /// (minimum peak footprint over schedules) or mh (halfway).
        #[arg(long)]
        scratchpad: Option<String>,
        /// Traffic planner: one ILP, the better baseline, divide and conquer, or one
        /// baseline alone (default, arena).
        #[arg(long, value_enum, default_value = "ilp")]
        solver: TrafficSolver,
        /// Input resolution of a vision network for traffic (default: the network's own).
        #[arg(long)]
        resolution: Option<u64>,
        /// Put weights into the scratchpad as tensors (COSMA's M_Rp setting); by
        /// default they are streamed and only activations are mapped.
        #[arg(long)]
        include_weights: bool,
        /// Allocation granularity in bytes for traffic (alignment and size rounding).
        #[arg(long, default_value_t = archscope::mapping::adapt::DEFAULT_GRANULARITY_BYTES)]
        granularity: u64,
        /// Keep activation functions as ops of their own instead of fusing them into
        /// their producer.
        #[arg(long)]
        no_fuse: bool,
        /// Draw memory over time (.svg or .png) for traffic.
        #[arg(long)]
        chart: Option<String>,
        /// Output format (table or json).
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
    },
    /// SCALE-Sim-compatible systolic-array model on SCALE-Sim's own inputs.
    Systolic {
        /// SCALE-Sim `.cfg` file.
        #[arg(long)]
        config: String,
        /// SCALE-Sim topology CSV.
        #[arg(long)]
        topology: String,
        /// The topology is in SCALE-Sim's `-i gemm` format (name, M, N, K).
        #[arg(long)]
        gemm: bool,
        /// `scalesim` (SCALE-Sim v3 cycles) or `pipelined` (fill/drain and weight loads overlapped).
        #[arg(long, default_value = "scalesim")]
        mode: String,
        /// Output format.
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
    },
    /// Sweep a design space (quantization × units × batch × prompt × context × hardware
    /// what-ifs), find the Pareto front and write a report (HTML, plots, Parquet, CSV).
    Explore(Box<ExploreArgs>),
    /// Merge the parts of a sharded `explore` into one front and report.
    Merge {
        /// Part files (`part-I-of-N.parquet`).
        #[arg(required = true)]
        parts: Vec<std::path::PathBuf>,
        /// Report directory.
        #[arg(long)]
        out: std::path::PathBuf,
        /// Write over an existing directory.
        #[arg(long)]
        force: bool,
    },
    /// Hardware descriptions.
    Hw {
        #[command(subcommand)]
        cmd: HwCmd,
    },
    /// Describe this machine as a hardware file from microbenchmarks (about 30 s).
    Calibrate {
        /// Output file.
        #[arg(long, default_value = "hardware-db/host.toml")]
        out: std::path::PathBuf,
        /// Overwrite the output file if it exists.
        #[arg(long)]
        force: bool,
        /// Shorter run (a few seconds), noisier figures.
        #[arg(long)]
        quick: bool,
    },
    /// Predict and measure the same graphs on this machine (candle CPU backend) and report the
    /// error per op kind; or, with --published, compare predictions with published figures.
    Validate {
        /// Hardware file of this host, written by `calibrate`.
        #[arg(long, default_value = "hardware-db/host.toml")]
        hw: String,
        /// Unit to predict with (default: the CPU unit with --threads cores).
        #[arg(long)]
        unit: Option<String>,
        /// Threads candle runs on. One thread is timed with process CPU time, which other
        /// processes on a shared machine do not disturb; several are timed with wall time.
        #[arg(long, default_value_t = 1)]
        threads: usize,
        /// A short sweep (under two minutes) for CI.
        #[arg(long)]
        quick: bool,
        /// Only cases whose name contains this text.
        #[arg(long)]
        filter: Option<String>,
        /// Measure each case once. By default every case is measured a second time after all
        /// have run, and the report gives the difference as the noise floor per kind.
        #[arg(long)]
        once: bool,
        /// Directory for the report (table, CSV, scatter plot).
        #[arg(long, default_value = "reports/validate")]
        out: std::path::PathBuf,
        /// Compare predictions with a table of published measurements instead of measuring.
        #[arg(long)]
        published: Option<std::path::PathBuf>,
    },
    /// Shipped LLM configs and built-in networks.
    Models {
        #[command(subcommand)]
        cmd: ModelsCmd,
    },
    /// Neural architecture search: OFA subnets and LLM shapes priced by archscope's models.
    Search {
        #[command(subcommand)]
        cmd: SearchCmd,
    },
}

#[derive(Clone, Copy, ValueEnum, PartialEq)]
enum AlgorithmArg {
    Evolution,
    Random,
}

#[derive(Clone, Copy, ValueEnum, PartialEq)]
enum ObjectiveArg {
    Constrained,
    MnasSoft,
    MnasHard,
    Pareto,
}

#[derive(Clone, Copy, ValueEnum, PartialEq)]
enum FitArg {
    Ridge,
    Mlp,
}

/// Evolution settings shared by the search commands.
#[derive(clap::Args)]
struct EvoArgs {
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
enum SearchCmd {
    /// Once-for-all subnet search (MBv3 w1.0/w1.2, ProxylessNAS w1.3, ResNet50).
    Ofa {
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
    },
    /// LLM shape + quantization search around a base config.json.
    Llm {
        /// Device.
        #[arg(long)]
        hw: String,
        /// Compute unit.
        #[arg(long)]
        unit: Option<String>,
        /// Textbook roofline.
        #[arg(long)]
        ideal: bool,
        /// Base model: a shipped short name or a path to a config.json.
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
        /// Quantization schemes searched jointly with the shape, comma separated.
        #[arg(long, value_delimiter = ',', default_values_t = archscope::nas::llm::DEFAULT_QUANTS.iter().map(|s| s.to_string()).collect::<Vec<_>>())]
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
    },
    /// Fit an accuracy predictor from a CSV of (arch, top1|accuracy); prints the held-out error.
    Fit {
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
    },
}

#[derive(clap::Args)]
struct ExploreArgs {
    /// Device: a path, a file in hardware-db/, or a short name.
    #[arg(long)]
    hw: String,
    /// Model: an LLM (short name or config.json path), or a vision network or encoder as
    /// `score` takes it (`mobilenetv2`, `resnet50?res=160`, `model.onnx`); see `models list`.
    #[arg(long)]
    model: String,
    /// Quantization schemes (precisions), comma-separated (default on an LLM: fp32, fp16,
    /// w8a16, w8a8, w4a16-g128, w4a8, w4a16-g128+kv8; on a network: fp32, fp16, w8a8).
    #[arg(long = "quant", value_delimiter = ',')]
    quants: Vec<String>,
    /// Units, comma-separated (for both LLM phases; default: every unit of the device). A
    /// CPU-model unit also gets thread variants `UNIT@T` (see --threads); `ilp` is the placement
    /// ILP over the listed units.
    #[arg(long, value_delimiter = ',')]
    units: Vec<String>,
    /// Thread counts of CPU-model units (params.model = "cpu"), comma-separated, `all` for
    /// every core (default: 1, 2, 4, ... below the core count, and all).
    #[arg(long, value_delimiter = ',')]
    threads: Vec<String>,
    /// Add the ILP placement over the device's units (`ilp`) to the unit lists; one solve per
    /// distinct graph and device variant, so slower than the single-unit sweep.
    #[arg(long)]
    ilp: bool,
    /// Time limit of one ILP placement, seconds (default 5; HEFT is used if the ILP is worse).
    #[arg(long = "placement-time")]
    placement_time: Option<f64>,
    /// Networks: take the scratchpad traffic of units that reach a `managed = "software"` level
    /// from a mapper's plan (sweep `memory[NAME].capacity_bytes` to see what each byte buys).
    #[arg(long, value_enum)]
    mapping: Option<TrafficSolver>,
    /// Time limit of one mapping ILP (per window with `dc`), seconds (default 10).
    #[arg(long)]
    mapping_time_limit: Option<f64>,
    /// Put the weights into the mapping problem instead of streaming them.
    #[arg(long)]
    mapping_weights: bool,
    /// Units that may run prefill (overrides --units for prefill).
    #[arg(long, value_delimiter = ',')]
    prefill_units: Vec<String>,
    /// Units that may run decode (overrides --units for decode).
    #[arg(long, value_delimiter = ',')]
    decode_units: Vec<String>,
    /// Batch sizes (default 1 on an LLM; 1, 2, 4, 8, 16, 32 on a network).
    #[arg(long = "batch", value_delimiter = ',')]
    batches: Vec<u64>,
    /// Prompt lengths (default 512).
    #[arg(long = "prompt", value_delimiter = ',')]
    prompts: Vec<u64>,
    /// Decode context lengths (default 1024, 2048, 4096, 8192, 16384).
    #[arg(long = "context", value_delimiter = ',')]
    contexts: Vec<u64>,
    /// Hardware what-if: FIELD=START..END:STEPS[:log|:lin] or FIELD=V1,V2,..., e.g.
    /// 'memory[dram].bytes_per_s=25e9..200e9:8:log'. Repeat to combine (cartesian product).
    #[arg(long = "sweep")]
    sweeps: Vec<String>,
    /// Evaluate a seeded random sample of this many points instead of every point.
    #[arg(long)]
    samples: Option<u64>,
    /// Seed of --samples.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Objectives, comma-separated (default on an LLM: decode_latency_s, energy_per_token_j,
    /// memory_bytes; on a network: batch_latency_s, energy_per_image_j, memory_bytes).
    #[arg(long, value_delimiter = ',')]
    objectives: Vec<String>,
    /// Axes that split points into scenarios with a front each (default: prompt, context and
    /// every swept field); `none` for one front over everything.
    #[arg(long, value_delimiter = ',')]
    front_by: Vec<String>,
    /// Largest memory footprint allowed, e.g. 3GB, 2.5GiB, 4e9.
    #[arg(long)]
    max_memory: Option<String>,
    /// Lowest decode throughput allowed, tokens/s.
    #[arg(long)]
    min_tokens_per_s: Option<f64>,
    /// Highest decode latency per token (LLM) or latency per batch (network) allowed, seconds.
    #[arg(long)]
    max_latency: Option<f64>,
    /// Textbook roofline: bare peaks, efficiency 1, no overhead.
    #[arg(long)]
    ideal: bool,
    /// Run only slice I of N (e.g. 0/4) and write its part for `archscope merge`.
    #[arg(long)]
    shard: Option<String>,
    /// Output directory (default reports/<model>-<hw>-<UTC time>/).
    #[arg(long)]
    out: Option<std::path::PathBuf>,
    /// Write over an existing output directory or part.
    #[arg(long)]
    force: bool,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
}

#[derive(Subcommand)]
enum HwCmd {
    /// List shipped devices.
    List,
    /// Show a device with the provenance of every figure.
    Show { name: String },
    /// Validate a hardware file.
    Check { file: String },
}

#[derive(Subcommand)]
enum ModelsCmd {
    /// List shipped LLMs and built-in networks.
    List,
    /// Show a model's shape and parameter count (any name `--model` accepts).
    Show { name: String },
}

fn main() -> std::process::ExitCode {
    match run(Cli::parse()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // `{:#}` prints the cause chain on one line, without a backtrace.
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    match cli.cmd {
        Cmd::Score {
            hw,
            model,
            phase,
            batch,
            prompt,
            context,
            quant,
            unit,
            ideal,
            mapping,
            mapping_time_limit,
            mapping_weights,
            format,
        } => {
            let hw = Hardware::load(&hw)?;
            let model = load_model(&model)?;
            let mapping = match mapping {
                None => None,
                Some(m) => Some(archscope::mapping::MappingRequest {
                    solver: m.solver(),
                    time_limit_s: mapping_time_limit,
                    adapt: archscope::mapping::AdaptOptions {
                        include_weights: mapping_weights,
                        ..Default::default()
                    },
                }),
            };
            let quant = QuantScheme::parse(&quant)?;
            let req = ScoreRequest {
                batch,
                prompt,
                context,
                prefill: phase != PhaseArg::Decode,
                decode: phase != PhaseArg::Prefill,
                unit,
                mode: if ideal { Mode::Ideal } else { Mode::Calibrated },
            };
            match model {
                Model::Llm(model) => {
                    if mapping.is_some() {
                        anyhow::bail!(
                            "--mapping applies to networks (CNNs, encoders); LLM phases are \
                             priced with the roofline's residency"
                        );
                    }
                    let score = score_llm(&hw, &model, &quant, &req)?;
                    match format {
                        Format::Table => print!("{}", score.to_table(&hw)),
                        Format::Json => {
                            println!("{}", serde_json::to_string_pretty(&score.to_json(&hw))?)
                        }
                        Format::Csv => print!("{}", score.to_csv(&hw).context("writing CSV")?),
                    }
                }
                Model::Vision(model) => {
                    let score = score_vision_mapped(&hw, &model, &quant, &req, mapping.as_ref())?;
                    match format {
                        Format::Table => print!("{}", score.to_table(&hw)),
                        Format::Json => {
                            println!("{}", serde_json::to_string_pretty(&score.to_json(&hw))?)
                        }
                        Format::Csv => print!("{}", score.to_csv(&hw).context("writing CSV")?),
                    }
                }
            }
        }
        Cmd::Map {
            objective,
            hw,
            model,
            phase,
            batch,
            prompt,
            context,
            quant,
            minimize,
            j_per_s,
            latency_budget_ms,
            power_budget_w,
            time_limit,
            units,
            sub_batches,
            monolithic,
            switch_us,
            no_bandwidth_floor,
            gantt,
            ideal,
            scratchpad,
            solver,
            resolution,
            include_weights,
            granularity,
            no_fuse,
            chart: traffic_chart,
            format,
        } => {
            let objective = objective.unwrap_or(if scratchpad.is_some() && hw.is_none() {
                MapObjective::Traffic
            } else {
                MapObjective::Placement
            });
            if objective == MapObjective::Traffic {
                let scratchpad = scratchpad.ok_or_else(|| {
                    anyhow::anyhow!(
                        "--objective traffic needs --scratchpad (e.g. 512KiB, 1MiB or mr)"
                    )
                })?;
                return map_traffic_cmd(TrafficArgs {
                    model,
                    phase,
                    batch,
                    prompt,
                    context,
                    quant: quant.unwrap_or_else(|| "w8a8".into()),
                    scratchpad,
                    solver,
                    time_limit,
                    resolution,
                    include_weights,
                    granularity,
                    fuse: !no_fuse,
                    chart: traffic_chart,
                    format,
                });
            }
            let hw = hw.ok_or_else(|| {
                anyhow::anyhow!("--objective placement needs --hw (a device); for scratchpad traffic give --scratchpad")
            })?;
            let quant = quant.unwrap_or_else(|| "fp16".into());
            use archscope::placement::{
                Budget, Decompose, Instance, Limits, Objective, baselines_within, gantt as chart,
                patterns, place_instance, report,
            };
            use archscope::workload::Phase;
            let hw = Hardware::load(&hw)?;
            let cfg = load_llm(&model)?;
            let quant = QuantScheme::parse(&quant)?;
            let objective = match minimize {
                Minimize::Makespan => Objective::Makespan,
                Minimize::Energy => Objective::Energy,
                Minimize::Weighted => Objective::Weighted { j_per_s },
            };
            let mut limits = Limits {
                time_limit_s: time_limit,
                latency_budget_s: latency_budget_ms.map(|m| m * 1e-3),
                power_budget_w,
                decompose: if monolithic {
                    Decompose::Monolithic
                } else {
                    Decompose::Auto
                },
                ..Limits::default()
            };
            limits.build.mode = if ideal { Mode::Ideal } else { Mode::Calibrated };
            limits.build.units = (!units.is_empty()).then_some(units);
            limits.build.bandwidth_floor = !no_bandwidth_floor;
            if switch_us != 0.0 {
                limits.build.switch_s.insert("*".into(), switch_us * 1e-6);
            }
            let phases: Vec<Phase> = match phase {
                PhaseArg::Prefill => vec![Phase::Prefill { prompt }],
                PhaseArg::Decode => vec![Phase::Decode { context }],
                PhaseArg::Both => vec![Phase::Prefill { prompt }, Phase::Decode { context }],
            };
            let mut json = Vec::new();
            for (k, ph) in phases.into_iter().enumerate() {
                let graph = match sub_batches {
                    Some(n) => patterns::sub_batches(&cfg, &quant, ph, batch, n)?,
                    None => cfg.build(&quant, ph, batch),
                };
                let inst = Instance::from_graph(&hw, &graph, &limits.build)?;
                let budget = Budget {
                    latency_s: limits.latency_budget_s,
                    power_w: limits.power_budget_w,
                };
                let base = baselines_within(&inst, &objective, budget)?;
                let p = place_instance(&inst, objective, &limits)?;
                if let Some(path) = &gantt {
                    let path = if k == 0 {
                        std::path::PathBuf::from(path)
                    } else {
                        let p = std::path::Path::new(path);
                        let stem = p.file_stem().and_then(|s| s.to_str()).unwrap_or("gantt");
                        let ext = p.extension().and_then(|s| s.to_str()).unwrap_or("svg");
                        p.with_file_name(format!("{stem}-{}.{ext}", ph.name()))
                    };
                    chart::write(&p, &path)?;
                    eprintln!("gantt chart written to {}", path.display());
                }
                match format {
                    Format::Table => {
                        if k > 0 {
                            println!();
                        }
                        print!("{}", report::to_table(&p, Some(&base)));
                    }
                    Format::Json => json.push(serde_json::json!({
                        "phase": ph.name(),
                        "placement": p,
                        "baselines": {
                            "heft": base.heft.totals,
                            "single": base.single.iter().map(|s| serde_json::json!({"method": s.method, "totals": s.totals})).collect::<Vec<_>>(),
                        },
                    })),
                    Format::Csv => anyhow::bail!("--format csv is not available for map; use table or json"),
                }
            }
            if matches!(format, Format::Json) {
                println!("{}", serde_json::to_string_pretty(&json)?);
            }
        }
        Cmd::Systolic {
            config,
            topology,
            gemm,
            mode,
            format,
        } => {
            use archscope::systolic::{
                Mode as Timing, SystolicConfig, TopologyFormat, output, read_topology,
                simulate_network,
            };
            let cfg = SystolicConfig::from_cfg_file(&config)?;
            let fmt = if gemm {
                TopologyFormat::Gemm
            } else {
                TopologyFormat::Conv
            };
            let layers = read_topology(&topology, fmt)?;
            let timing = match mode.as_str() {
                "scalesim" => Timing::ScaleSim,
                "pipelined" => Timing::Pipelined,
                other => anyhow::bail!("--mode `{other}`: expected scalesim or pipelined"),
            };
            let reports = simulate_network(&cfg, &layers, timing)?;
            match format {
                Format::Table => print!("{}", output::to_table(&cfg, &reports)),
                Format::Json => println!(
                    "{}",
                    serde_json::to_string_pretty(&output::to_json(&cfg, &reports))?
                ),
                Format::Csv => print!("{}", output::to_csv(&reports)?),
            }
        }
        Cmd::Explore(a) => {
            let req = ExploreRequest {
                hw: a.hw,
                model: a.model,
                quants: a.quants,
                units: a.units,
                prefill_units: a.prefill_units,
                decode_units: a.decode_units,
                batches: a.batches,
                prompts: a.prompts,
                contexts: a.contexts,
                sweeps: a.sweeps,
                samples: a.samples,
                seed: a.seed,
                objectives: a.objectives,
                front_by: a.front_by,
                max_memory: a.max_memory,
                min_tokens_per_s: a.min_tokens_per_s,
                max_latency_s: a.max_latency,
                ideal: a.ideal,
                threads: a.threads,
                ilp: a.ilp,
                placement_time_s: a.placement_time,
                mapping: a.mapping.map(TrafficSolver::solver),
                mapping_time_s: a.mapping_time_limit,
                mapping_weights: a.mapping_weights,
                shard: a.shard,
                command: shell_join(&std::env::args().collect::<Vec<_>>()),
            };
            let opts = OutputOptions {
                out: a.out,
                force: a.force,
                progress: !a.quiet,
            };
            print!("{}", explore::explore(&req, &opts)?.summary);
        }
        Cmd::Merge { parts, out, force } => {
            print!("{}", explore::merge(&parts, &out, force)?.summary);
        }
        Cmd::Hw { cmd } => match cmd {
            HwCmd::List => {
                for name in known_devices() {
                    match Hardware::load(name) {
                        Ok(h) => println!("{:<18} {}", name, h.description),
                        Err(e) => println!("{name:<18} (invalid: {e})"),
                    }
                }
            }
            HwCmd::Show { name } => {
                let h = Hardware::load(&name)?;
                println!("{} — {}\nfile: {}", h.name, h.description, h.file);
                for (i, u) in h.units.iter().enumerate() {
                    let reach: Vec<&str> = u
                        .reach
                        .iter()
                        .map(|&l| h.memories[l].name.as_str())
                        .collect();
                    let peaks: Vec<String> = u
                        .peak
                        .iter()
                        .map(|(d, v)| format!("{d} {:.3e}", v))
                        .collect();
                    println!(
                        "unit {}{}: {:?} ×{} @ {:.2} GHz, peak ops/s [{}], reaches {}",
                        u.name,
                        if i == h.default_unit {
                            " (default)"
                        } else {
                            ""
                        },
                        u.kind,
                        u.count,
                        u.clock_hz / 1e9,
                        peaks.join(", "),
                        reach.join(" → ")
                    );
                }
                for m in &h.memories {
                    println!(
                        "memory {}: {:.3e} B (usable {:.3e}), {:.3e} B/s, {:.2} pJ/B",
                        m.name,
                        m.capacity_bytes,
                        m.usable_bytes,
                        m.bytes_per_s,
                        m.j_per_byte * 1e12
                    );
                }
                println!("static power {} W\n\nprovenance:", h.static_w);
                for p in &h.provenance {
                    println!("  {:<40} {:>12.4e}  {}", p.field, p.value, p.note);
                }
            }
            HwCmd::Check { file } => {
                let h = Hardware::load(&file)?;
                archscope::cost_models::check_cost_models(&h)?;
                println!(
                    "{}: ok ({} units, {} memory levels, {} figures with provenance)",
                    h.file,
                    h.units.len(),
                    h.memories.len(),
                    h.provenance.len()
                );
            }
        },
        Cmd::Validate {
            hw,
            unit,
            threads,
            quick,
            filter,
            once,
            out,
            published,
        } => match published {
            Some(path) => validate_published(&path, &out)?,
            None => validate(hw, unit, threads, quick, once, filter, out)?,
        },
        Cmd::Calibrate { out, force, quick } => {
            if !force && out.exists() {
                anyhow::bail!(
                    "{} already exists; pass --force to overwrite it",
                    out.display()
                );
            }
            let cal = archscope::measure::calibrate::run(
                archscope::measure::calibrate::Options { quick },
                &mut |line| eprintln!("{line}"),
            )?;
            archscope::measure::calibrate::write_file(&out, &cal.toml, force)?;
            println!("wrote {} ({})", out.display(), cal.load.1);
        }
        Cmd::Models { cmd } => match cmd {
            ModelsCmd::List => {
                for name in known_models() {
                    match load_llm(name) {
                        Ok(m) => println!(
                            "{:<20} {:<8} {:>8.3} B params, {} layers, hidden {}",
                            name,
                            format!("{:?}", m.family).to_lowercase(),
                            m.param_count() as f64 / 1e9,
                            m.layers,
                            m.hidden
                        ),
                        Err(e) => println!("{name:<20} (invalid: {e})"),
                    }
                }
                for f in vision::FAMILIES {
                    let line = VisionModel::parse(f.name).and_then(|m| {
                        let g = m.build(&QuantScheme::float(archscope::workload::DType::F32), 1)?;
                        Ok(format!(
                            "{:<20} {:<8} {:>8.3} M params, {:>8.3} GMAC/{}, params: {}",
                            f.name,
                            m.sample().singular(),
                            g.param_count() as f64 / 1e6,
                            g.macs() / 1e9,
                            m.sample().singular(),
                            f.keys.join(",")
                        ))
                    });
                    match line {
                        Ok(l) => println!("{l}"),
                        Err(e) => println!("{:<20} (invalid: {e})", f.name),
                    }
                }
            }
            ModelsCmd::Show { name } => match load_model(&name)? {
                Model::Llm(m) => println!(
                    "{}",
                    serde_json::to_string_pretty(&serde_json::json!({
                        "name": m.name, "family": m.family, "params": m.param_count(),
                        "hidden": m.hidden, "ffn": m.ffn, "layers": m.layers, "heads": m.heads,
                        "kv_heads": m.kv_heads, "head_dim": m.head_dim, "vocab": m.vocab,
                        "tied_embeddings": m.tied, "sliding_window": m.window,
                        "experts": m.moe.map(|(e, _)| e), "experts_per_token": m.moe.map(|(_, k)| k),
                    }))?
                ),
                Model::Vision(m) => println!("{}", serde_json::to_string_pretty(&m.describe()?)?),
            },
        },
        Cmd::Search { cmd } => run_search(cmd)?,
    }
    Ok(())
}

/// Arguments of `map --objective traffic`.
struct TrafficArgs {
    model: String,
    phase: PhaseArg,
    batch: u64,
    prompt: u64,
    context: u64,
    quant: String,
    scratchpad: String,
    solver: TrafficSolver,
    time_limit: f64,
    resolution: Option<u64>,
    include_weights: bool,
    granularity: u64,
    fuse: bool,
    chart: Option<String>,
    format: Format,
}

fn map_traffic_cmd(a: TrafficArgs) -> Result<()> {
    use archscope::mapping::{
        AdaptOptions, MappingError,
        report::{self, TrafficRequest},
    };
    use archscope::workload::Phase;
    let quant = QuantScheme::parse(&a.quant)?;
    let capacity = report::parse_capacity(&a.scratchpad)?;
    let adapt = AdaptOptions {
        include_weights: a.include_weights,
        granularity_bytes: a.granularity,
        fuse_activations: a.fuse,
    };
    // The network spec with the resolution applied, and the resolution in use.
    let with_res = |r: u64| {
        let sep = if a.model.contains('?') { '&' } else { '?' };
        format!("{}{sep}res={r}", a.model)
    };
    let spec = match a.resolution {
        Some(r) => {
            if a.model.to_ascii_lowercase().contains("res=") {
                anyhow::bail!(
                    "give the resolution either in --model (res=) or with --resolution, not both"
                );
            }
            with_res(r)
        }
        None => a.model.clone(),
    };
    let (graph, current_res) = match load_model(&spec)? {
        Model::Vision(m) => {
            let res = vision::is_builtin(&spec).then(|| {
                spec.split_once('?')
                    .and_then(|(_, q)| {
                        q.split('&')
                            .find_map(|kv| kv.strip_prefix("res="))
                            .and_then(|v| v.parse::<u64>().ok())
                    })
                    .or_else(|| vision::family(spec.split('?').next().unwrap_or("")).map(|f| f.res))
            });
            (m.build(&quant, a.batch)?, res.flatten())
        }
        Model::Llm(cfg) => {
            if a.resolution.is_some() {
                anyhow::bail!(
                    "--resolution applies to vision networks, not to LLM `{}`",
                    a.model
                );
            }
            let phase = match a.phase {
                PhaseArg::Decode => Phase::Decode { context: a.context },
                _ => Phase::Prefill { prompt: a.prompt },
            };
            (cfg.build(&quant, phase, a.batch), None)
        }
    };
    let req = TrafficRequest {
        capacity,
        solver: a.solver.solver(),
        time_limit_s: a.time_limit,
        adapt: adapt.clone(),
    };
    let rep = match report::map_traffic(&graph, &req) {
        Ok(r) => r,
        Err(MappingError::Infeasible {
            op,
            needed_bytes,
            capacity_bytes,
        }) => {
            let m_r_at = |r: u64| {
                let Model::Vision(m) = load_model(&with_res(r)).ok()? else {
                    return None;
                };
                report::graph_m_r(&m.build(&quant, a.batch).ok()?, &adapt)
            };
            let hint = current_res.and_then(|res| {
                let lowest = 32.min(res);
                let found =
                    report::largest_feasible_resolution(capacity_bytes, lowest, res, 8, |r| {
                        m_r_at(r).map(|w| w.bytes)
                    });
                let h = match found {
                    Some(r) => report::ResolutionHint::Fits {
                        res: r,
                        m_r: m_r_at(r)?.bytes,
                    },
                    None => {
                        let w = m_r_at(lowest)?;
                        report::ResolutionHint::NoneFits {
                            res: lowest,
                            m_r: w.bytes,
                            op: w.op_name,
                        }
                    }
                };
                Some((res, h))
            });
            anyhow::bail!(
                "{}",
                report::infeasible_message(&graph.name, &op, needed_bytes, capacity_bytes, hint)
            );
        }
        Err(e) => return Err(e.into()),
    };
    if let Some(path) = &a.chart {
        archscope::mapping::chart::write(
            &rep.adapted.problem,
            &rep.plan,
            &rep.chart_title(),
            std::path::Path::new(path),
        )?;
        eprintln!("memory chart written to {path}");
    }
    match a.format {
        Format::Table => print!("{}", rep.to_table()),
        Format::Json => println!("{}", serde_json::to_string_pretty(&rep.to_json())?),
        Format::Csv => anyhow::bail!("--format csv is not available for map; use table or json"),
    }
    Ok(())
}

fn run_search(cmd: SearchCmd) -> Result<()> {
    use archscope::nas::llm::parse_bytes;
    use archscope::nas::net::Precision;
    use archscope::nas::study::{CostSource, LlmRequest, ObjectiveKind, OfaRequest};
    use std::path::PathBuf;
    let mode = |ideal: bool| if ideal { Mode::Ideal } else { Mode::Calibrated };
    let bytes = |flag: &str, v: &Option<String>| -> Result<Option<f64>> {
        v.as_ref()
            .map(|s| {
                parse_bytes(s).with_context(|| {
                    format!("{flag} `{s}`: expected a size such as 2GiB, 512MiB or 1.5GB")
                })
            })
            .transpose()
    };
    match cmd {
        SearchCmd::Ofa {
            hw,
            unit,
            ideal,
            precision,
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
        } => {
            let cost = match (hw, lut.is_empty(), macs_only) {
                (_, _, true) => CostSource::Macs,
                (_, false, false) => CostSource::Lut(lut.iter().map(PathBuf::from).collect()),
                (Some(hw), true, false) => CostSource::Archscope {
                    hw,
                    unit,
                    mode: mode(ideal),
                    precision: Precision::parse(&precision).with_context(|| {
                        format!("--precision `{precision}`: expected f32, f16 or i8")
                    })?,
                },
                (None, true, false) => {
                    anyhow::bail!("give --hw DEVICE, --lut TABLES or --macs-only")
                }
            };
            let req = OfaRequest {
                space,
                resolutions,
                cost,
                acc_predictor: acc_predictor.map(PathBuf::from),
                latency_budgets: max_latency_ms,
                max_energy_mj,
                max_memory_mib: bytes("--max-memory", &max_memory)?
                    .map(|b| b / (1u64 << 20) as f64),
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
            print!("{}", archscope::nas::study::search_ofa(&req)?);
        }
        SearchCmd::Llm {
            hw,
            unit,
            ideal,
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
        } => {
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
            print!("{}", archscope::nas::study::search_llm(&req)?);
        }
        SearchCmd::Fit {
            space,
            base,
            csv,
            model,
            out,
            seed,
            force,
        } => {
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
                archscope::nas::study::fit_predictor(
                    &space,
                    csv.as_ref(),
                    kind,
                    seed,
                    out.as_ref(),
                    force,
                )?
            };
            print!("{s}");
        }
    }
    Ok(())
}

fn write_report(
    out: &std::path::Path,
    stem: &str,
    header: &str,
    title: &str,
    outcomes: &[archscope::validate::Outcome],
) -> Result<()> {
    use archscope::validate::{report, summarize};
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let stats = summarize(outcomes);
    let table = report::table(header, outcomes, &stats, 8);
    print!("{table}");
    let txt = out.join(format!("{stem}.txt"));
    std::fs::write(&txt, &table).with_context(|| format!("writing {}", txt.display()))?;
    let csv_path = out.join(format!("{stem}.csv"));
    std::fs::write(&csv_path, report::csv(outcomes).context("writing CSV")?)
        .with_context(|| format!("writing {}", csv_path.display()))?;
    let mut plots = Vec::new();
    for ext in ["svg", "png"] {
        let path = out.join(format!("{stem}.{ext}"));
        plots.push(match report::plot(outcomes, &path, title, 0.15) {
            Ok(()) => path.display().to_string(),
            Err(e) => format!("no {ext} plot ({e})"),
        });
    }
    let plotted = plots.join(", ");
    println!(
        "\nreport: {}, {}, {}",
        txt.display(),
        csv_path.display(),
        plotted
    );
    Ok(())
}

#[allow(clippy::too_many_arguments)]
/// `validate --published`: compares predictions with a table of published measurements.
fn validate_published(path: &std::path::Path, out: &std::path::Path) -> Result<()> {
    use archscope::validate::published::compare;
    let cmp = compare(path)?;
    for s in &cmp.skipped {
        eprintln!("notice: {s}");
    }
    if cmp.outcomes.is_empty() {
        anyhow::bail!(
            "{}: no row matches a shipped device, model and quantization",
            path.display()
        );
    }
    let header = format!(
        "published measurements ({}) vs archscope predictions: {} rows compared, {} skipped\n\
         (times are seconds per generated token for decode and per prompt for prefill)",
        path.display(),
        cmp.outcomes.len(),
        cmp.skipped.len()
    );
    write_report(
        out,
        "published",
        &header,
        "published measurements vs archscope predictions",
        &cmp.outcomes,
    )
}

fn validate(
    hw: String,
    unit: Option<String>,
    threads: usize,
    quick: bool,
    once: bool,
    filter: Option<String>,
    out: std::path::PathBuf,
) -> Result<()> {
    use archscope::measure::{CandleBackend, Plan, timing::load_average_text};
    use archscope::validate::{run, sweep};
    let threads = threads.max(1);
    // SAFETY: no other thread has been started yet.
    unsafe { archscope::measure::backend::set_candle_threads(threads) };
    let hw = Hardware::load(&hw).map_err(|e| match e {
        archscope::hardware::HardwareError::NotFound { .. } => anyhow::anyhow!(
            "{e}\nhint: describe this machine first with `archscope calibrate` (writes hardware-db/host.toml)"
        ),
        e => e.into(),
    })?;
    let unit = match unit {
        Some(u) => hw.unit_index(Some(&u))?,
        None => hw
            .units
            .iter()
            .position(|u| u.kind == archscope::hardware::UnitKind::Cpu && u.count == threads as f64)
            .unwrap_or(hw.default_unit),
    };
    let mut cases = sweep(quick);
    if let Some(f) = &filter {
        cases.retain(|c| c.name.contains(f.as_str()));
    }
    if cases.is_empty() {
        anyhow::bail!("no case matches the filter");
    }
    let backend = CandleBackend::new(threads)?;
    let plan = if quick { Plan::QUICK } else { Plan::STANDARD };
    let start = load_average_text();
    eprintln!(
        "validating {} cases on {} / {} with {} thread(s) ({}), {}",
        cases.len(),
        hw.name,
        hw.units[unit].name,
        threads,
        backend.clock().name(),
        start
    );
    let total = cases.len() * if once { 1 } else { 2 };
    let mut done = 0;
    let outcomes = run(&hw, unit, &backend, &cases, plan, !once, &mut |o| {
        done += 1;
        eprintln!(
            "[{done}/{total}] {:<46} predicted {:>11} measured {:>11} ({:+.1}%) {}",
            o.name,
            archscope::validate::report::fmt_time(o.predicted_s),
            archscope::validate::report::fmt_time(o.measured.median),
            100.0 * o.signed_error(),
            o.load
        );
    })?;
    let header = format!(
        "archscope validate{} on {} / {} ({} thread(s), candle CPU, {}); {} at start, {} at end",
        if quick { " --quick" } else { "" },
        hw.name,
        hw.units[unit].name,
        threads,
        backend.clock().name(),
        start,
        load_average_text()
    );
    let title = format!(
        "candle CPU on {} / {}, {} thread(s): predicted vs measured ({})",
        hw.name,
        hw.units[unit].name,
        threads,
        load_average_text()
    );
    write_report(&out, "validate", &header, &title, &outcomes)
}
