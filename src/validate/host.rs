//! A whole `archscope validate` run as library calls: measure the case sweep on this host (or
//! compare with a table of published measurements), then write the report files atomically: the
//! table (`STEM.txt`), the CSV (`STEM.csv`) and the scatter plot (`STEM.svg`, `STEM.png`).

use super::{Outcome, ValidateError, published, report, run, summarize, sweep};
use crate::hardware::{Hardware, HardwareError, UnitKind};
use crate::measure::backend::CandleBackend;
use crate::measure::timing::{MeasurePlan, load_average_text};
use crate::util::output::{StagedDir, atomic_write, refuse_existing};
use std::path::{Path, PathBuf};

/// What `validate` measures on this host.
#[derive(Clone, Debug)]
pub struct HostOptions {
    /// The hardware file of this host (written by `calibrate`).
    pub hw: String,
    /// The unit to predict with; default: the CPU unit with `threads` cores, else the default.
    pub unit: Option<String>,
    /// Threads candle runs on (at least one).
    pub threads: usize,
    /// The short sweep.
    pub quick: bool,
    /// Measure each case once (no second round, no noise floor).
    pub once: bool,
    /// Only cases whose name contains this text.
    pub filter: Option<String>,
    /// The report directory and whether it may be replaced: checked once the inputs are read
    /// and before anything is measured, so that an existing report is refused at once.
    pub out: Option<(PathBuf, bool)>,
}

/// Outcomes with the words that head their report.
#[derive(Clone, Debug)]
pub struct Validation {
    /// The table's header: what was compared, where, and the machine's load.
    pub header: String,
    /// The plot's title.
    pub title: String,
    /// One outcome per case or row.
    pub outcomes: Vec<Outcome>,
    /// Rows or cases left out, one line each, with the reason.
    pub skipped: Vec<String>,
}

/// The files a report wrote, and its table.
#[derive(Clone, Debug)]
pub struct WrittenReport {
    /// The terminal table (also in the `.txt` file).
    pub table: String,
    /// The table file.
    pub txt: PathBuf,
    /// The CSV file.
    pub csv: PathBuf,
    /// One entry per plot format: the file written, or why it was not (e.g. no system font).
    pub plots: Vec<String>,
}

impl WrittenReport {
    /// The line that lists the files.
    pub fn files_line(&self) -> String {
        format!(
            "report: {}, {}, {}",
            self.txt.display(),
            self.csv.display(),
            self.plots.join(", ")
        )
    }
}

/// Measures the case sweep on this host with candle and predicts it with the host's hardware
/// file; `progress` receives one line as the run starts and one per measured case.
pub fn run_on_host(
    opts: &HostOptions,
    progress: &mut dyn FnMut(&str),
) -> Result<Validation, ValidateError> {
    let threads = opts.threads.max(1);
    let hw = Hardware::load(&opts.hw).map_err(|e| match e {
        HardwareError::NotFound { .. } => ValidateError::NoHost(format!(
            "{e}\nhint: describe this machine first with `archscope calibrate` (writes hardware-db/host.toml)"
        )),
        e => ValidateError::Score(e.into()),
    })?;
    let unit = match &opts.unit {
        Some(u) => hw
            .unit_index(Some(u))
            .map_err(|e| ValidateError::Score(e.into()))?,
        None => hw
            .units
            .iter()
            .position(|u| u.kind == UnitKind::Cpu && u.count == threads as f64)
            .unwrap_or(hw.default_unit),
    };
    let mut cases = sweep(opts.quick);
    if let Some(f) = &opts.filter {
        cases.retain(|c| c.name.contains(f.as_str()));
    }
    if cases.is_empty() {
        return Err(ValidateError::Empty("no case matches the filter".into()));
    }
    if let Some((out, force)) = &opts.out {
        refuse_existing(out, *force).map_err(|e| ValidateError::File {
            path: out.display().to_string(),
            message: e.to_string(),
        })?;
    }
    let backend = CandleBackend::new(threads)?;
    let plan = if opts.quick {
        MeasurePlan::QUICK
    } else {
        MeasurePlan::STANDARD
    };
    let start = load_average_text();
    let (hw_name, unit_name) = (hw.name.clone(), hw.units[unit].name.clone());
    progress(&format!(
        "validating {} cases on {hw_name} / {unit_name} with {threads} thread(s) ({}), {start}",
        cases.len(),
        backend.clock().name(),
    ));
    let total = cases.len() * if opts.once { 1 } else { 2 };
    let mut done = 0;
    let outcomes = run(&hw, unit, &backend, &cases, plan, !opts.once, &mut |o| {
        done += 1;
        progress(&format!(
            "[{done}/{total}] {:<46} predicted {:>11} measured {:>11} ({:+.1}%) {}",
            o.name,
            report::fmt_time(o.predicted_s),
            report::fmt_time(o.measured.median),
            100.0 * o.signed_error(),
            o.load
        ));
    })?;
    let header = format!(
        "archscope validate{} on {hw_name} / {unit_name} ({threads} thread(s), candle CPU, {}); {start} at start, {} at end",
        if opts.quick { " --quick" } else { "" },
        backend.clock().name(),
        load_average_text()
    );
    let title = format!(
        "candle CPU on {hw_name} / {unit_name}, {threads} thread(s): predicted vs measured ({})",
        load_average_text()
    );
    Ok(Validation {
        header,
        title,
        outcomes,
        skipped: Vec::new(),
    })
}

/// Compares predictions with the table of published measurements at `path`.
pub fn compare_published(path: &Path) -> Result<Validation, ValidateError> {
    let cmp = published::compare(path)?;
    if cmp.outcomes.is_empty() {
        return Err(ValidateError::Empty(format!(
            "{}: no row matches a shipped device, model and quantization",
            path.display()
        )));
    }
    let header = format!(
        "published measurements ({}) vs archscope predictions: {} rows compared, {} skipped\n\
         (times are seconds per generated token for decode and per prompt for prefill)",
        path.display(),
        cmp.outcomes.len(),
        cmp.skipped.len()
    );
    Ok(Validation {
        header,
        title: "published measurements vs archscope predictions".into(),
        outcomes: cmp.outcomes,
        skipped: cmp.skipped,
    })
}

/// Writes the report of `v` as the directory `out`, holding `STEM.txt`, `STEM.csv`, `STEM.svg`
/// and `STEM.png`: written in a staging sibling and renamed into place when complete; an
/// existing `out` is an error unless `force`, which replaces it whole. A plot that cannot be
/// drawn (no system font for the PNG) is noted, not an error.
pub fn write_report(
    out: &Path,
    stem: &str,
    v: &Validation,
    force: bool,
) -> Result<WrittenReport, ValidateError> {
    let file_err = |path: &Path, e: &dyn std::fmt::Display| ValidateError::File {
        path: path.display().to_string(),
        message: e.to_string(),
    };
    let staged = StagedDir::begin(out, force).map_err(|e| file_err(out, &e))?;
    let stats = summarize(&v.outcomes);
    let table = report::table(&v.header, &v.outcomes, &stats, 8);
    let txt = out.join(format!("{stem}.txt"));
    atomic_write(&staged.path().join(format!("{stem}.txt")), table.as_bytes())
        .map_err(|e| file_err(&txt, &e))?;
    let csv = out.join(format!("{stem}.csv"));
    let csv_text = report::csv(&v.outcomes).map_err(|e| file_err(&csv, &e))?;
    atomic_write(
        &staged.path().join(format!("{stem}.csv")),
        csv_text.as_bytes(),
    )
    .map_err(|e| file_err(&csv, &e))?;
    let mut plots = Vec::new();
    for ext in ["svg", "png"] {
        let name = format!("{stem}.{ext}");
        plots.push(
            match report::plot(&v.outcomes, &staged.path().join(&name), &v.title, 0.15) {
                Ok(()) => out.join(&name).display().to_string(),
                Err(e) => format!("no {ext} plot ({e})"),
            },
        );
    }
    staged.commit().map_err(|e| file_err(out, &e))?;
    Ok(WrittenReport {
        table,
        txt,
        csv,
        plots,
    })
}
