//! `archscope systolic`: the SCALE-Sim-compatible array model on SCALE-Sim's own inputs.

use super::print;
use anyhow::Result;
use archscope::cycle::systolic::{
    SystolicConfig, Timing, TopologyFormat, read_topology, simulate_network,
};
use archscope::render::{Format, SystolicRun};

#[derive(clap::Args)]
pub struct Args {
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
}

pub fn run(a: Args) -> Result<()> {
    let cfg = SystolicConfig::from_cfg_file(&a.config)?;
    let fmt = if a.gemm {
        TopologyFormat::Gemm
    } else {
        TopologyFormat::Conv
    };
    let layers = read_topology(&a.topology, fmt)?;
    let timing = match a.mode.as_str() {
        "scalesim" => Timing::ScaleSim,
        "pipelined" => Timing::Pipelined,
        other => anyhow::bail!("--mode `{other}`: expected scalesim or pipelined"),
    };
    let reports = simulate_network(&cfg, &layers, timing)?;
    print(
        &SystolicRun {
            config: &cfg,
            layers: &reports,
        },
        a.format,
    )
}
