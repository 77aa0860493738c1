//! `archscope explore` and `archscope merge`: the design-space sweep and the merge of its shards.

use super::{TrafficSolver, out};
use anyhow::Result;
use archscope::explore::{self, ExploreRequest, OutputOptions, files::shell_join};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    req: ExploreRequest,
    /// Networks: take the scratchpad traffic of units that reach a `managed = "software"` level
    /// from a mapper's plan (sweep `memory[NAME].capacity_bytes` to see what each byte buys).
    #[arg(long, value_enum)]
    mapping: Option<TrafficSolver>,
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

#[derive(clap::Args)]
pub struct MergeArgs {
    /// Part files (`part-I-of-N.parquet`).
    #[arg(required = true)]
    parts: Vec<std::path::PathBuf>,
    /// Report directory.
    #[arg(long)]
    out: std::path::PathBuf,
    /// Write over an existing directory.
    #[arg(long)]
    force: bool,
}

pub fn run(a: Args) -> Result<()> {
    let req = ExploreRequest {
        mapping: a.mapping.map(TrafficSolver::solver),
        command: shell_join(&std::env::args().collect::<Vec<_>>()),
        ..a.req
    };
    let opts = OutputOptions {
        out: a.out,
        force: a.force,
        progress: !a.quiet,
        chunk: None,
    };
    out(&explore::explore(&req, &opts)?.summary)?;
    Ok(())
}

pub fn merge(a: MergeArgs) -> Result<()> {
    out(&explore::merge(&a.parts, &a.out, a.force)?.summary)?;
    Ok(())
}
