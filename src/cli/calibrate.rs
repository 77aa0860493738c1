//! `archscope calibrate`: describe this machine as a hardware file from microbenchmarks.

use super::out;
use anyhow::Result;
use archscope::measure::calibrate;

#[derive(clap::Args)]
pub struct Args {
    /// Output file.
    #[arg(long, default_value = "hardware-db/host.toml")]
    out: std::path::PathBuf,
    /// Overwrite the output file if it exists.
    #[arg(long)]
    force: bool,
    /// Shorter run (a few seconds), noisier figures.
    #[arg(long)]
    quick: bool,
}

pub fn run(a: Args) -> Result<()> {
    // Refuse before measuring for half a minute, not after.
    archscope::util::output::refuse_existing(&a.out, a.force)?;
    let cal = calibrate::run(calibrate::Options { quick: a.quick }, &mut |line| {
        eprintln!("{line}")
    })?;
    calibrate::write_file(&a.out, &cal.toml, a.force)?;
    out(&format!("wrote {} ({})\n", a.out.display(), cal.load.1))
}
