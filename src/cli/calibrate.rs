//! `archscope calibrate`: describe this machine as a hardware file from microbenchmarks, or, with
//! `--from`, fit a (device, runtime) pair to measured rows and write a calibration overlay.

use super::out;
use anyhow::Result;
use archscope::measure::calibrate;

#[derive(clap::Args)]
pub struct Args {
    /// Output file (default: hardware-db/host.toml, or with --from
    /// calibrations/DEVICE.RUNTIME.toml).
    #[arg(long)]
    out: Option<std::path::PathBuf>,
    /// Overwrite the output file if it exists.
    #[arg(long)]
    force: bool,
    /// Shorter run (a few seconds), noisier figures.
    #[arg(long)]
    quick: bool,
    /// Fit to measured rows instead of measuring this machine: a measurement CSV in the
    /// project's format (its train rows of --hw with --runtime are fitted), llama-bench output
    /// (-o csv, json or jsonl) or an AI Hub perf.yaml (both need --model), told apart by content.
    #[arg(long, requires_all = ["hw", "runtime"])]
    from: Option<std::path::PathBuf>,
    /// With --from: the device to calibrate.
    #[arg(long)]
    hw: Option<String>,
    /// With --from: the runtime to calibrate.
    #[arg(long)]
    runtime: Option<String>,
    /// With --from a llama-bench or AI Hub file: the shipped model it measured (e.g. llama-2-7b,
    /// mobilenetv2; see `archscope models list`).
    #[arg(long, requires = "from")]
    model: Option<String>,
}

/// `calibrate --from`: fit the pair and write its overlay.
fn from_rows(a: &Args, path: &std::path::Path) -> Result<()> {
    let (hw, runtime) = (
        a.hw.as_deref().unwrap_or(""),
        a.runtime.as_deref().unwrap_or(""),
    );
    // Names that do not load are errors now, with the known names.
    archscope::hardware::Hardware::load(hw)?;
    archscope::runtime::Runtime::load(runtime)?;
    let out_path = a
        .out
        .clone()
        .unwrap_or_else(|| archscope::trust::overlay::default_path(hw, runtime));
    archscope::util::output::refuse_existing(&out_path, a.force)?;
    let source = path.display().to_string();
    let ctx = archscope::trust::formats::Context {
        hw,
        runtime,
        model: a.model.as_deref(),
    };
    let read = archscope::trust::formats::read_rows(path, &ctx)?;
    let mut text = format!(
        "read {} rows from {source} ({})\n",
        read.rows.len(),
        read.format.name()
    );
    for (reason, n) in read.skip_summary() {
        text.push_str(&format!("skipped {n}: {reason}\n"));
    }
    let overlay = archscope::trust::fit::calibrate_pair(&read.rows, hw, runtime, &source)?;
    if let Some(dir) = out_path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))?;
    }
    archscope::util::output::write_new(&out_path, overlay.to_toml().as_bytes(), a.force)?;
    let s = &overlay.scales;
    text.push_str(&format!(
        "fitted {} train rows of `{hw}` with `{runtime}`: compute x{:.3}, bandwidth x{:.3}, dispatch x{:.3}\n",
        overlay.calibration.rows.len(),
        s.compute,
        s.bandwidth,
        s.dispatch
    ));
    if !s.unconstrained.is_empty() {
        text.push_str(&format!(
            "not constrained by these rows (kept at the shipped figures): {}\n",
            s.unconstrained.join(", ")
        ));
    }
    match &overlay.cv {
        Some(cv) => text.push_str(&format!(
            "{}-fold cross-validated error over {} rows: median |e| {:.1}%, p10 {:+.1}%, p90 {:+.1}%\n",
            cv.folds,
            cv.n,
            cv.median_abs * 100.0,
            cv.p10 * 100.0,
            cv.p90 * 100.0
        )),
        None => text.push_str("one row: no cross-validated error\n"),
    }
    text.push_str(&format!("wrote {}\n", out_path.display()));
    out(&text)
}

pub fn run(a: Args) -> Result<()> {
    if let Some(path) = a.from.clone() {
        return from_rows(&a, &path);
    }
    let out_path = a
        .out
        .clone()
        .unwrap_or_else(|| std::path::PathBuf::from("hardware-db/host.toml"));
    // Refuse before measuring for half a minute, not after.
    archscope::util::output::refuse_existing(&out_path, a.force)?;
    let cal = calibrate::run(calibrate::Options { quick: a.quick }, &mut |line| {
        eprintln!("{line}")
    })?;
    calibrate::write_file(&out_path, &cal.toml, a.force)?;
    out(&format!("wrote {} ({})\n", out_path.display(), cal.load.1))
}
