//! The `archscope` command line: a thin clap layer over the library.

use anyhow::{Context, Result};
use archscope::hardware::{Hardware, known_devices};
use archscope::roofline::Mode;
use archscope::score::{ScoreRequest, score_llm, score_vision};
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
        /// Output format.
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
    },
    /// Hardware descriptions.
    Hw {
        #[command(subcommand)]
        cmd: HwCmd,
    },
    /// Shipped LLM configs and built-in networks.
    Models {
        #[command(subcommand)]
        cmd: ModelsCmd,
    },
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

fn main() -> Result<()> {
    match Cli::parse().cmd {
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
            let model = load_model(&model)?;
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
                    let score = score_vision(&hw, &model, &quant, &req)?;
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
    }
    Ok(())
}
