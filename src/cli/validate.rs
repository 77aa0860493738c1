//! `archscope validate`: predicted against measured on this host, or against published figures.

use super::out;
use anyhow::Result;
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
    /// Compare predictions with a table of published measurements instead of measuring.
    #[arg(long)]
    published: Option<std::path::PathBuf>,
}

pub fn run(a: Args) -> Result<()> {
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
            };
            (
                "validate",
                host::run_on_host(&opts, &mut |line| eprintln!("{line}"))?,
            )
        }
    };
    let written = host::write_report(&a.out, stem, &v)?;
    out(&written.table)?;
    out(&format!("\n{}\n", written.files_line()))
}
