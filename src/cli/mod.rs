//! The subcommands of `archscope`: one file each, holding its clap types and one call into the
//! library. Nothing here computes; it parses, calls, and prints what the library returns.

use anyhow::Result;
use archscope::render::{Format, Render, render};
use clap::{Parser, Subcommand, ValueEnum};

mod calibrate;
mod explore;
mod hw;
mod map;
mod models;
mod score;
mod search;
mod serve;
mod systolic;
mod validate;

/// The command line.
#[derive(Parser)]
#[command(
    name = "archscope",
    version,
    about = "Analytical performance modeler and design-space explorer for ML workloads"
)]
pub struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Score a model on a device: latency, energy, bound and footprint, per op.
    Score(score::Args),
    /// Simulate serving an LLM: Poisson or trace arrivals, continuous batching with chunked
    /// prefill, TTFT/TPOT percentiles, throughput and KV memory over time; or the highest
    /// request rate meeting latency targets.
    Serve(Box<serve::Args>),
    /// Map a model onto a device: operator placement on its units, or scratchpad traffic.
    Map(Box<map::Args>),
    /// SCALE-Sim-compatible systolic-array model on SCALE-Sim's own inputs.
    Systolic(systolic::Args),
    /// Sweep a design space (quantization × units × batch × prompt × context × hardware
    /// what-ifs), find the Pareto front and write a report (HTML, plots, Parquet, CSV).
    Explore(Box<explore::Args>),
    /// Merge the parts of a sharded `explore` into one front and report.
    Merge(explore::MergeArgs),
    /// Hardware descriptions.
    Hw {
        #[command(subcommand)]
        cmd: hw::Cmd,
    },
    /// Runtimes: the software stacks a unit can be priced under.
    Runtimes {
        #[command(subcommand)]
        cmd: RuntimesCmd,
    },
    /// Describe this machine as a hardware file from microbenchmarks (about 30 s).
    Calibrate(calibrate::Args),
    /// Predict and measure the same graphs on this machine (candle CPU backend) and report the
    /// error per op kind; or, with --published, compare predictions with published figures.
    Validate(validate::Args),
    /// Shipped LLM configs and built-in networks.
    Models {
        #[command(subcommand)]
        cmd: models::Cmd,
    },
    /// Neural architecture search: OFA subnets and LLM shapes priced by archscope's models.
    Search {
        #[command(subcommand)]
        cmd: search::Cmd,
    },
}

/// `archscope runtimes`.
#[derive(Subcommand)]
enum RuntimesCmd {
    /// List the shipped runtimes: class, unit kinds, workload kinds.
    List,
    /// Show a runtime's file, every figure with its source or estimate.
    Show { name: String },
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Result<()> {
    match cli.cmd {
        Cmd::Score(a) => score::run(a),
        Cmd::Serve(a) => serve::run(*a),
        Cmd::Map(a) => map::run(*a),
        Cmd::Systolic(a) => systolic::run(a),
        Cmd::Explore(a) => explore::run(*a),
        Cmd::Merge(a) => explore::merge(a),
        Cmd::Hw { cmd } => hw::run(cmd),
        Cmd::Runtimes { cmd } => match cmd {
            RuntimesCmd::List => out(&archscope::runtime::show::list()?),
            RuntimesCmd::Show { name } => out(&archscope::runtime::show::text(&name)?),
        },
        Cmd::Calibrate(a) => calibrate::run(a),
        Cmd::Validate(a) => validate::run(a),
        Cmd::Models { cmd } => models::run(cmd),
        Cmd::Search { cmd } => search::run(cmd),
    }
}

/// Writes `text` to standard output. A closed pipe (`archscope models list | head`) ends the
/// program quietly with status 0, as ripgrep does; any other write error is an error.
fn out(text: &str) -> Result<()> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        r => Ok(r?),
    }
}

/// Prints `r` in `format` on standard output.
fn print(r: &dyn Render, format: Format) -> Result<()> {
    out(&render(r, format)?)?;
    Ok(())
}

/// The phase(s) of an LLM to score or map.
#[derive(Clone, Copy, ValueEnum, PartialEq)]
enum PhaseArg {
    Prefill,
    Decode,
    Both,
}

/// The scratchpad planner, by its command-line name.
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

/// The calibrated roofline, or the textbook one with `--ideal`.
fn mode(ideal: bool) -> archscope::cost::Mode {
    use archscope::cost::Mode;
    if ideal { Mode::Ideal } else { Mode::Calibrated }
}
