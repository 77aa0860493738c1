//! The measurement set against archscope: every usable row priced three ways, and the errors
//! per class and per (device, runtime, phase).
//!
//! * `ideal`: the shipped device files alone, no runtime (the behaviour before runtimes);
//! * `runtime`: the shipped device files with the row's shipped runtime, no fit;
//! * `calibrated`: for each (device, runtime) pair, fitted on its `train` rows ([`fit`]) and
//!   priced on its `test` rows; a test row whose pair has no train row keeps its uncalibrated
//!   prediction and is counted as such.
//!
//! Rows that cannot be modelled are listed with their reason; a row that can is kept with its
//! error, however large.

use super::bands;
use super::dataset::{Cache, ErrorStats, Metric, Prediction, Prepared, Row, Split, prepare};
#[cfg(feature = "calibration")]
use super::fit::{self, Fit};
use crate::runtime::{Runtime, Scales};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// A pair's calibration in the study.
#[derive(Clone, Debug)]
pub struct PairFit {
    /// Device.
    pub hw: String,
    /// Runtime.
    pub runtime: String,
    /// Train rows fitted.
    pub n_train: usize,
    /// The fitted corrections.
    pub scales: Scales,
    /// Which of compute, bandwidth, dispatch the rows constrain.
    pub constrained: [bool; 3],
}

/// The study of a measurement set.
#[derive(Clone, Debug, Default)]
pub struct Study {
    /// The file.
    pub file: String,
    /// Rows in the file.
    pub rows: usize,
    /// Rows priced with their runtime.
    pub runtime: Vec<Prediction>,
    /// The same rows priced with no runtime, classed by unit kind.
    pub ideal: Vec<Prediction>,
    /// Test rows priced under their pair's fit (or uncalibrated when the pair has no train
    /// row: see `uncalibrated_test`).
    pub calibrated: Vec<Prediction>,
    /// Ids of test rows whose pair had no train row.
    pub uncalibrated_test: Vec<String>,
    /// The fits.
    pub fits: Vec<PairFit>,
    /// `(line, id, reason)` of every row not priced.
    pub skipped: Vec<(usize, String, String)>,
}

/// Prices every row of `rows` (read from `file`).
pub fn study(rows: &[Row], file: &str) -> Study {
    let mut cache = Cache::default();
    let mut out = Study {
        file: file.to_string(),
        rows: rows.len(),
        ..Study::default()
    };
    let mut prepared: Vec<Prepared> = Vec::new();
    for r in rows {
        match prepare(r, &mut cache).and_then(|p| p.price(Scales::default()).map(|x| (p, x))) {
            Ok((p, x)) => {
                prepared.push(p);
                out.runtime.push(x);
            }
            Err(why) => out.skipped.push((r.line, r.id.clone(), why)),
        }
    }
    for p in &prepared {
        let mut ideal = p.clone();
        ideal.req.runtime = Runtime::ideal();
        let kind = match p.metric {
            Metric::Forward => crate::runtime::WorkloadKind::Network,
            _ => crate::runtime::WorkloadKind::Llm,
        };
        let Some(class) = bands::ideal_class(&p.hw, p.unit, kind) else {
            continue;
        };
        ideal.class = class;
        // A row whose runtime sets the threads keeps them; the quantization conventions of
        // the runtime do not apply.
        if let Ok(x) = ideal.price(Scales::default()) {
            out.ideal.push(x);
        }
    }
    calibrate(&prepared, &mut out);
    out
}

#[cfg(feature = "calibration")]
fn calibrate(prepared: &[Prepared], out: &mut Study) {
    let mut pairs: BTreeMap<(String, String), Vec<&Prepared>> = BTreeMap::new();
    for p in prepared {
        pairs
            .entry((p.row.hw.clone(), p.req.runtime.name.clone()))
            .or_default()
            .push(p);
    }
    for ((hw, rt), rows) in pairs {
        let train: Vec<Prepared> = rows
            .iter()
            .filter(|p| p.row.split == Split::Train)
            .map(|p| (*p).clone())
            .collect();
        let f: Option<Fit> = if train.is_empty() {
            None
        } else {
            fit::fit(&train).ok()
        };
        if let Some(f) = &f {
            out.fits.push(PairFit {
                hw: hw.clone(),
                runtime: rt.clone(),
                n_train: train.len(),
                scales: f.scales,
                constrained: f.constrained,
            });
        }
        for p in rows.iter().filter(|p| p.row.split == Split::Test) {
            let scales = f.as_ref().map_or(Scales::default(), |f| f.scales);
            if f.is_none() {
                out.uncalibrated_test.push(p.row.id.clone());
            }
            if let Ok(x) = p.price(scales) {
                out.calibrated.push(x);
            }
        }
    }
}

#[cfg(not(feature = "calibration"))]
fn calibrate(prepared: &[Prepared], out: &mut Study) {
    for p in prepared.iter().filter(|p| p.row.split == Split::Test) {
        out.uncalibrated_test.push(p.row.id.clone());
        if let Ok(x) = p.price(Scales::default()) {
            out.calibrated.push(x);
        }
    }
}

fn stats_line(s: &mut String, label: &str, who: &str, rows: &[&Prediction]) {
    let e: Vec<f64> = rows.iter().map(|p| p.error()).collect();
    let st = ErrorStats::of(&e);
    let _ = writeln!(
        s,
        "{label:<26} {who:<22} {:>4} {:>9.1}% {:>9.0}% {:>+8.1}%",
        st.n,
        st.median_abs * 100.0,
        st.within_30 * 100.0,
        st.median * 100.0
    );
}

impl Study {
    /// The per-class statistics of one pricing.
    pub fn by_class<'a>(rows: &'a [Prediction]) -> BTreeMap<String, Vec<&'a Prediction>> {
        let mut m: BTreeMap<String, Vec<&Prediction>> = BTreeMap::new();
        for p in rows {
            m.entry(p.class.clone()).or_default().push(p);
        }
        m
    }

    /// The bands file of this study (see [`bands`]).
    pub fn bands(&self) -> String {
        bands::compute(&self.runtime, &self.ideal)
    }

    /// The report: per class, per (device, runtime, phase), the fits, the worst rows and the
    /// skipped rows' reasons.
    pub fn to_table(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "measurement set {}: {} rows, {} priced, {} not modelled",
            self.file,
            self.rows,
            self.runtime.len(),
            self.skipped.len()
        );
        let _ = writeln!(
            s,
            "error = predicted / measured - 1 on the time (positive: archscope predicts a slower run)\n"
        );
        self.write_classes(&mut s);
        self.write_groups(&mut s);
        self.write_fits(&mut s);
        self.write_worst(&mut s);
        self.write_skipped(&mut s);
        s
    }

    /// Per class, then over all rows: each pricing's fit on its rows.
    fn write_classes(&self, s: &mut String) {
        let _ = writeln!(
            s,
            "{:<26} {:<22} {:>4} {:>10} {:>10} {:>9}",
            "class", "pricing", "n", "median|e|", "in ±30%", "bias"
        );
        let ideal = Self::by_class(&self.ideal);
        let runtime = Self::by_class(&self.runtime);
        let cal = Self::by_class(&self.calibrated);
        let test: Vec<Prediction> = self
            .runtime
            .iter()
            .filter(|p| p.split == Split::Test)
            .cloned()
            .collect();
        let test_by = Self::by_class(&test);
        let mut classes: Vec<&String> = runtime.keys().chain(ideal.keys()).collect();
        classes.sort();
        classes.dedup();
        for c in classes {
            let none = Vec::new();
            stats_line(s, c, "no runtime, all rows", ideal.get(c).unwrap_or(&none));
            stats_line(s, "", "runtime, all rows", runtime.get(c).unwrap_or(&none));
            stats_line(s, "", "runtime, test rows", test_by.get(c).unwrap_or(&none));
            stats_line(s, "", "calibrated, test rows", cal.get(c).unwrap_or(&none));
        }
        let all_i: Vec<&Prediction> = self.ideal.iter().collect();
        let all_r: Vec<&Prediction> = self.runtime.iter().collect();
        let all_t: Vec<&Prediction> = test.iter().collect();
        let all_c: Vec<&Prediction> = self.calibrated.iter().collect();
        stats_line(s, "all", "no runtime, all rows", &all_i);
        stats_line(s, "", "runtime, all rows", &all_r);
        stats_line(s, "", "runtime, test rows", &all_t);
        stats_line(s, "", "calibrated, test rows", &all_c);
        if !self.uncalibrated_test.is_empty() {
            let _ = writeln!(
                s,
                "({} test rows have no train row in their (device, runtime) pair and keep their uncalibrated prediction)",
                self.uncalibrated_test.len()
            );
        }
    }

    /// Per (device, runtime, phase), runtime pricing, all rows.
    fn write_groups(&self, s: &mut String) {
        let _ = writeln!(
            s,
            "\nper (device, runtime, phase), runtime pricing, all rows:"
        );
        let _ = writeln!(
            s,
            "{:<36} {:<22} {:>4} {:>10} {:>10} {:>9}",
            "device / runtime / phase", "", "n", "median|e|", "in ±30%", "bias"
        );
        let mut groups: BTreeMap<String, Vec<&Prediction>> = BTreeMap::new();
        for p in &self.runtime {
            groups
                .entry(format!("{} / {} / {}", p.hw, p.runtime, p.metric.name()))
                .or_default()
                .push(p);
        }
        for (g, rows) in &groups {
            let e: Vec<f64> = rows.iter().map(|p| p.error()).collect();
            let st = ErrorStats::of(&e);
            let _ = writeln!(
                s,
                "{g:<36} {:<22} {:>4} {:>9.1}% {:>9.0}% {:>+8.1}%",
                "",
                st.n,
                st.median_abs * 100.0,
                st.within_30 * 100.0,
                st.median * 100.0
            );
        }
    }

    /// The fitted factors of each (device, runtime) pair, where there are any.
    fn write_fits(&self, s: &mut String) {
        if !self.fits.is_empty() {
            let _ = writeln!(
                s,
                "\nfits on the train rows (factors on the shipped figures; * = not constrained, kept at 1):"
            );
            for f in &self.fits {
                let mark = |i: usize| if f.constrained[i] { "" } else { "*" };
                let _ = writeln!(
                    s,
                    "  {:<16} {:<20} {:>3} rows: compute x{:.3}{}, bandwidth x{:.3}{}, dispatch x{:.3}{}",
                    f.hw,
                    f.runtime,
                    f.n_train,
                    f.scales.compute,
                    mark(0),
                    f.scales.bandwidth,
                    mark(1),
                    f.scales.dispatch,
                    mark(2)
                );
            }
        }
    }

    /// The 15 rows with the largest errors under runtime pricing.
    fn write_worst(&self, s: &mut String) {
        let mut worst: Vec<&Prediction> = self.runtime.iter().collect();
        worst.sort_by(|a, b| b.error().abs().total_cmp(&a.error().abs()));
        let _ = writeln!(s, "\nworst rows (runtime pricing):");
        for p in worst.iter().take(15) {
            let _ = writeln!(
                s,
                "  line {:>4} {:<44} {}/{} {} {} {}: predicted {:.4} s, measured {:.4} s ({:+.0}%), bound {}",
                p.line,
                p.id,
                p.hw,
                p.unit,
                p.runtime,
                p.model,
                p.quant,
                p.predicted_s,
                p.measured_s,
                p.error() * 100.0,
                p.bound
            );
        }
    }

    /// The rows not modelled, counted by reason (reasons that differ only in a name count
    /// together).
    fn write_skipped(&self, s: &mut String) {
        let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
        for (_, _, why) in &self.skipped {
            // Reasons that name a device or a format count together: `device `…` is not shipped`.
            let key = why
                .split(':')
                .next()
                .unwrap_or(why)
                .split('`')
                .enumerate()
                .map(|(i, part)| if i % 2 == 1 { "…" } else { part })
                .collect::<Vec<_>>()
                .join("`");
            *reasons.entry(key).or_default() += 1;
        }
        let _ = writeln!(s, "\nrows not modelled, by reason:");
        let mut r: Vec<(String, usize)> = reasons.into_iter().collect();
        r.sort_by(|a, b| b.1.cmp(&a.1));
        for (why, n) in r {
            let _ = writeln!(s, "  {n:>4}  {why}");
        }
    }

    /// Every priced row as CSV: pricing, id, line, class, device, unit, runtime, model, quant,
    /// metric, split, predicted and measured seconds, error, bound.
    pub fn to_csv(&self) -> String {
        let mut w = csv::Writer::from_writer(Vec::new());
        let _ = w.write_record([
            "pricing",
            "id",
            "line",
            "class",
            "hw",
            "unit",
            "runtime",
            "model",
            "quant",
            "metric",
            "split",
            "predicted_s",
            "measured_s",
            "error",
            "bound",
        ]);
        for (pricing, rows) in [
            ("ideal", &self.ideal),
            ("runtime", &self.runtime),
            ("calibrated", &self.calibrated),
        ] {
            for p in rows {
                let _ = w.write_record([
                    pricing.to_string(),
                    p.id.clone(),
                    p.line.to_string(),
                    p.class.clone(),
                    p.hw.clone(),
                    p.unit.clone(),
                    p.runtime.clone(),
                    p.model.clone(),
                    p.quant.clone(),
                    p.metric.name().to_string(),
                    format!("{:?}", p.split).to_lowercase(),
                    format!("{:e}", p.predicted_s),
                    format!("{:e}", p.measured_s),
                    format!("{:.4}", p.error()),
                    p.bound.clone(),
                ]);
            }
        }
        String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
    }
}
