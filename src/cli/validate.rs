//! `archscope validate`: predicted against measured on this host, or against published figures.

use super::out;
use anyhow::Result;
use archscope::trust::{dataset, study};
use archscope::util::output::{StagedDir, atomic_write, refuse_existing, write_new};
use archscope::validate::host::{self, HostOptions};

#[derive(clap::Args)]
pub struct Args {
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
    /// Compare predictions with a table of published measurements instead of measuring: the
    /// project's measurement set (`data/measurements/measurements.csv`, priced with no runtime,
    /// with each row's runtime, and calibrated on its train rows) or a free-form table.
    #[arg(long)]
    published: Option<std::path::PathBuf>,
    /// With the measurement set: write the per-class error bands that predictions carry to
    /// this file (the project's is `data/measurements/bands.csv`).
    #[arg(long)]
    write_bands: Option<std::path::PathBuf>,
    /// Replace an existing report directory (whole) and write over an existing bands file.
    #[arg(long)]
    force: bool,
}

/// `validate --published` on the project's measurement set.
fn study(a: &Args, path: &std::path::Path, text: &str) -> Result<()> {
    let file = path.display().to_string();
    let rows = dataset::parse(text, &file)?;
    let st = study::study(&rows, &file);
    if let Some(b) = &a.write_bands {
        refuse_existing(b, a.force)?;
    }
    let staged = StagedDir::begin(&a.out, a.force)?;
    let table = st.to_table();
    atomic_write(&staged.path().join("measurements.txt"), table.as_bytes())?;
    atomic_write(
        &staged.path().join("measurements.csv"),
        st.to_csv().as_bytes(),
    )?;
    staged.commit()?;
    let txt = a.out.join("measurements.txt");
    let csv = a.out.join("measurements.csv");
    out(&table)?;
    let mut files = format!("\nreport: {}, {}", txt.display(), csv.display());
    if let Some(b) = &a.write_bands {
        write_new(b, st.bands().as_bytes(), a.force)?;
        files.push_str(&format!("\nbands: {}", b.display()));
    }
    out(&format!("{files}\n"))
}

pub fn run(a: Args) -> Result<()> {
    if let Some(path) = &a.published {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        if dataset::is_dataset_header(&text) {
            return study(&a, path, &text);
        }
        if a.write_bands.is_some() {
            anyhow::bail!(
                "--write-bands needs the measurement set (columns hw, model_ref, runtime, ...)"
            );
        }
    }
    let (stem, v) = match &a.published {
        Some(path) => {
            let v = host::compare_published(path)?;
            for s in &v.skipped {
                eprintln!("notice: {s}");
            }
            ("published", v)
        }
        None => {
            let threads = a.threads.max(1);
            // SAFETY: no other thread has been started yet.
            unsafe { archscope::measure::backend::set_candle_threads(threads) };
            let opts = HostOptions {
                hw: a.hw,
                unit: a.unit,
                threads,
                quick: a.quick,
                once: a.once,
                filter: a.filter,
                // Refused once the host file is read, not after minutes of measuring.
                out: Some((a.out.clone(), a.force)),
            };
            (
                "validate",
                host::run_on_host(&opts, &mut |line| eprintln!("{line}"))?,
            )
        }
    };
    let written = host::write_report(&a.out, stem, &v, a.force)?;
    out(&written.table)?;
    out(&format!("\n{}\n", written.files_line()))
}
