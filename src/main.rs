//! The `archscope` command line: a thin clap layer over the library.

use anyhow::{Context, Result};
use archscope::explore::{self, ExploreRequest, OutputOptions, files::shell_join};
use archscope::hardware::{Hardware, known_devices};
use archscope::roofline::Mode;
use archscope::score::{ScoreRequest, score_llm};
use archscope::workload::{QuantScheme, known_models, load_llm};
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
        /// Model: a short name (see `models list`) or a path to a Hugging Face config.json.
        #[arg(long)]
        model: String,
        /// Phase to score.
        #[arg(long, value_enum, default_value = "both")]
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
        /// Quantization scheme, e.g. fp16, w8a8, w4a16-g128+kv8.
        #[arg(long, default_value = "fp16")]
        quant: String,
        /// Compute unit (default: the device's default unit).
        #[arg(long)]
        unit: Option<String>,
        /// Textbook roofline: bare peaks, efficiency 1, no overhead.
        #[arg(long)]
        ideal: bool,
        /// Output format.
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
    },
    /// Map a model onto a device: operator placement on its units, or scratchpad traffic.
    Map {
        /// What to map: `placement` (ops onto units) or `traffic` (scratchpad, COSMA).
        #[arg(long, value_enum, default_value = "placement")]
        objective: MapObjective,
        /// Device: a path, a file in hardware-db/, or a short name.
        #[arg(long)]
        hw: String,
        /// Model: a short name (see `models list`) or a path to a Hugging Face config.json.
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
        /// Quantization scheme, e.g. fp16, w8a8, w4a16-g128+kv8.
        #[arg(long, default_value = "fp16")]
        quant: String,
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
        /// Scratchpad description for --objective traffic.
        #[arg(long)]
        scratchpad: Option<String>,
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
    /// Shipped model configs.
    Models {
        #[command(subcommand)]
        cmd: ModelsCmd,
    },
}

#[derive(clap::Args)]
struct ExploreArgs {
    /// Device: a path, a file in hardware-db/, or a short name.
    #[arg(long)]
    hw: String,
    /// Model: a short name (see `models list`) or a path to a Hugging Face config.json.
    #[arg(long)]
    model: String,
    /// Quantization schemes, comma-separated (default: fp32, fp16, w8a16, w8a8, w4a16-g128, w4a8, w4a16-g128+kv8).
    #[arg(long = "quant", value_delimiter = ',')]
    quants: Vec<String>,
    /// Units for both phases, comma-separated (default: every unit of the device).
    #[arg(long, value_delimiter = ',')]
    units: Vec<String>,
    /// Units that may run prefill (overrides --units for prefill).
    #[arg(long, value_delimiter = ',')]
    prefill_units: Vec<String>,
    /// Units that may run decode (overrides --units for decode).
    #[arg(long, value_delimiter = ',')]
    decode_units: Vec<String>,
    /// Batch sizes (default 1).
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
    /// Objectives, comma-separated (default: decode_latency_s, energy_per_token_j, memory_bytes).
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
    /// Highest decode latency per token allowed, seconds.
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
    /// List shipped models.
    List,
    /// Show a model's shape and parameter count.
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
            format,
        } => {
            let hw = Hardware::load(&hw)?;
            let model = load_llm(&model)?;
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
            let score = score_llm(&hw, &model, &quant, &req)?;
            match format {
                Format::Table => print!("{}", score.to_table(&hw)),
                Format::Json => println!("{}", serde_json::to_string_pretty(&score.to_json(&hw))?),
                Format::Csv => print!("{}", score.to_csv(&hw).context("writing CSV")?),
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
            format,
        } => {
            use archscope::placement::{
                Budget, Decompose, Instance, Limits, Objective, baselines_within, gantt as chart,
                patterns, place_instance, report,
            };
            use archscope::workload::Phase;
            if objective == MapObjective::Traffic {
                anyhow::bail!(
                    "--objective traffic (the COSMA scratchpad mapper{}) is provided by the mapping module, which this build does not include",
                    scratchpad.map_or(String::new(), |s| format!(", --scratchpad {s}"))
                );
            }
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
                println!(
                    "{}: ok ({} units, {} memory levels, {} figures with provenance)",
                    h.file,
                    h.units.len(),
                    h.memories.len(),
                    h.provenance.len()
                );
            }
        },
        Cmd::Models { cmd } => match cmd {
            ModelsCmd::List => {
                for name in known_models() {
                    match load_llm(name) {
                        Ok(m) => println!(
                            "{:<16} {:<8} {:>8.3} B params, {} layers, hidden {}",
                            name,
                            format!("{:?}", m.family).to_lowercase(),
                            m.param_count() as f64 / 1e9,
                            m.layers,
                            m.hidden
                        ),
                        Err(e) => println!("{name:<16} (invalid: {e})"),
                    }
                }
            }
            ModelsCmd::Show { name } => {
                let m = load_llm(&name)?;
                println!(
                    "{}",
                    serde_json::to_string_pretty(&serde_json::json!({
                        "name": m.name, "family": m.family, "params": m.param_count(),
                        "hidden": m.hidden, "ffn": m.ffn, "layers": m.layers, "heads": m.heads,
                        "kv_heads": m.kv_heads, "head_dim": m.head_dim, "vocab": m.vocab,
                        "tied_embeddings": m.tied, "sliding_window": m.window,
                        "experts": m.moe.map(|(e, _)| e), "experts_per_token": m.moe.map(|(_, k)| k),
                    }))?
                );
            }
        },
    }
    Ok(())
}
