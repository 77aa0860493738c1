//! The project's measurement set (`data/measurements/measurements.csv`): published runs of
//! LLMs and networks on real devices, each with the device and model archscope ships, the
//! runtime that ran it, its settings, the measured value, its source, a fixed `split`
//! (`train` rows may be fitted, `test` rows never are) and `include` (with a reason for a row
//! left out).
//!
//! [`read`] parses the file strictly: a bad row is an error naming the file, the line, the column
//! and what was expected. [`predict`] prices a row as archscope would be asked to: the row's
//! device, model, quantization, runtime, unit kind, threads, batch, prompt and generated tokens.
//! A row archscope cannot model (a device or model it does not ship, a runtime or a format it
//! has no description of, a metric it does not predict) is skipped with its reason; a row it
//! can model is kept with its error, however large.
//!
//! Times compared: seconds per prompt for prefill (prompt tokens over the prefill rate),
//! seconds per token for decode (at the mean context of the generated tokens: decode time is
//! affine in the context), seconds per forward pass for a network. The error is
//! `predicted / measured − 1`: positive when archscope predicts a slower run.

use super::TrustError;
use crate::cost::Mode;
use crate::hardware::{Hardware, UnitKind};
use crate::runtime::{Runtime, Scales, WorkloadKind};
use crate::score::{ScoreRequest, score_llm, score_vision};
use crate::workload::{Model, QuantScheme, load_model};
use serde::Serialize;
use std::collections::HashMap;
use std::path::Path;

/// The columns the file must have, in any order.
pub const COLUMNS: [&str; 22] = [
    "id",
    "device",
    "hw",
    "model",
    "model_ref",
    "kind",
    "quant",
    "runtime",
    "runtime_version",
    "unit_kind",
    "threads",
    "batch",
    "prompt",
    "generated",
    "context",
    "metric",
    "value",
    "unit",
    "source",
    "split",
    "include",
    "note",
];

/// Prompt of a prefill row that states none (llama-bench's default `-p 512`).
pub const DEFAULT_PROMPT: u64 = 512;
/// Generated tokens of a decode row that states none (llama-bench's default `-n 128`).
pub const DEFAULT_GENERATED: u64 = 128;

/// Whether a row may be fitted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Split {
    /// May be used to fit a calibration.
    Train,
    /// Never fitted; scores the calibration.
    Test,
}

/// What a row measured, as a time archscope predicts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// LLM prefill rate.
    Prefill,
    /// LLM decode rate.
    Decode,
    /// One forward pass of a network.
    Forward,
}

impl Metric {
    /// Its name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Metric::Prefill => "prefill",
            Metric::Decode => "decode",
            Metric::Forward => "forward",
        }
    }
}

/// One row of the measurement set.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Row {
    /// Line in the file (1-based, the header is line 1).
    pub line: usize,
    /// Unique id.
    pub id: String,
    /// The device as the source names it.
    pub device: String,
    /// The shipped device name, empty when none.
    pub hw: String,
    /// The shipped model name (with parameters), empty when none.
    pub model_ref: String,
    /// `llm` or `network`.
    pub kind: String,
    /// Quantization, lower case.
    pub quant: String,
    /// Runtime name.
    pub runtime: String,
    /// `cpu`, `gpu`, `npu` or empty.
    pub unit_kind: String,
    /// CPU threads, where stated.
    pub threads: Option<u64>,
    /// Batch.
    pub batch: u64,
    /// Prompt tokens (prefill).
    pub prompt: Option<u64>,
    /// Generated tokens (decode).
    pub generated: Option<u64>,
    /// KV context at the start of decode.
    pub context: Option<u64>,
    /// Metric name as written.
    pub metric: String,
    /// Measured value in the metric's unit.
    pub value: f64,
    /// Where it comes from.
    pub source: String,
    /// Train or test.
    pub split: Split,
    /// Whether the row is used at all.
    pub include: bool,
}

/// Reads and checks the measurement set.
pub fn read(path: &Path) -> Result<Vec<Row>, TrustError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| TrustError::File {
        path: file.clone(),
        message: e.to_string(),
    })?;
    parse(&text, &file)
}

/// Whether a CSV header is the measurement set's (it names `hw`, `model_ref` and `runtime`).
pub fn is_dataset_header(text: &str) -> bool {
    let first = text.lines().next().unwrap_or("");
    let cols: Vec<&str> = first.split(',').map(str::trim).collect();
    ["hw", "model_ref", "runtime"]
        .iter()
        .all(|c| cols.contains(c))
}

/// Parses the text of a measurement set; `file` names it in errors.
pub fn parse(text: &str, file: &str) -> Result<Vec<Row>, TrustError> {
    let mut rdr = csv::ReaderBuilder::new().from_reader(text.as_bytes());
    let bad = |line: usize, message: String| TrustError::Table {
        path: file.to_string(),
        line,
        message,
    };
    let headers = rdr.headers().map_err(|e| bad(1, e.to_string()))?.clone();
    let mut idx = HashMap::new();
    for c in COLUMNS {
        let i = headers.iter().position(|h| h.trim() == c).ok_or_else(|| {
            bad(
                1,
                format!(
                    "missing column `{c}`; expected the columns {}",
                    COLUMNS.join(", ")
                ),
            )
        })?;
        idx.insert(c, i);
    }
    let mut rows = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let line = i + 2;
        let rec = rec.map_err(|e| bad(line, e.to_string()))?;
        let get = |c: &str| rec.get(idx[c]).unwrap_or("").trim().to_string();
        let col_err = |c: &str, want: &str| {
            bad(
                line,
                format!("column `{c}`: expected {want}, found `{}`", get(c)),
            )
        };
        let count = |c: &str| -> Result<Option<u64>, TrustError> {
            let v = get(c);
            if v.is_empty() {
                return Ok(None);
            }
            v.parse::<u64>()
                .ok()
                .filter(|&n| n > 0)
                .map(Some)
                .ok_or_else(|| col_err(c, "a whole number of at least 1, or nothing"))
        };
        let value: f64 = get("value")
            .parse()
            .ok()
            .filter(|v: &f64| v.is_finite() && *v > 0.0)
            .ok_or_else(|| col_err("value", "a finite positive number"))?;
        let split = match get("split").as_str() {
            "train" => Split::Train,
            "test" => Split::Test,
            _ => return Err(col_err("split", "`train` or `test`")),
        };
        let include = match get("include").as_str() {
            "yes" => true,
            "no" => false,
            _ => return Err(col_err("include", "`yes` or `no`")),
        };
        if !include && get("note").is_empty() {
            return Err(col_err("note", "a reason for a row with include = no"));
        }
        let id = get("id");
        if id.is_empty() {
            return Err(col_err("id", "a unique id"));
        }
        rows.push(Row {
            line,
            id,
            device: get("device"),
            hw: get("hw"),
            model_ref: get("model_ref"),
            kind: get("kind"),
            quant: get("quant").to_ascii_lowercase(),
            runtime: get("runtime"),
            unit_kind: get("unit_kind"),
            threads: count("threads")?,
            batch: count("batch")?.unwrap_or(1),
            prompt: count("prompt")?,
            generated: count("generated")?,
            context: match get("context").as_str() {
                "" => None,
                v => Some(
                    v.parse()
                        .map_err(|_| col_err("context", "a whole number, or nothing"))?,
                ),
            },
            metric: get("metric"),
            value,
            source: get("source"),
            split,
            include,
        });
    }
    let mut seen = HashMap::new();
    for r in &rows {
        if let Some(first) = seen.insert(r.id.clone(), r.line) {
            return Err(bad(
                r.line,
                format!("column `id`: `{}` repeats line {first}", r.id),
            ));
        }
    }
    Ok(rows)
}

/// One row priced.
#[derive(Clone, Debug, Serialize)]
pub struct Prediction {
    /// The row's id.
    pub id: String,
    /// Its line.
    pub line: usize,
    /// Shipped device.
    pub hw: String,
    /// Unit priced.
    pub unit: String,
    /// Runtime.
    pub runtime: String,
    /// Model (with parameters).
    pub model: String,
    /// Quantization.
    pub quant: String,
    /// What was measured.
    pub metric: Metric,
    /// The error class ([`error_class`]).
    pub class: String,
    /// Train or test.
    pub split: Split,
    /// Predicted seconds.
    pub predicted_s: f64,
    /// Measured seconds.
    pub measured_s: f64,
    /// What limits the prediction.
    pub bound: String,
}

impl Prediction {
    /// `predicted / measured − 1`.
    pub fn error(&self) -> f64 {
        self.predicted_s / self.measured_s - 1.0
    }
}

/// The class a prediction's error is judged in: `Apple` for Apple devices (their runtimes
/// share a memory system and a software stack), else by the runtime's class and the workload:
/// `phone-accelerator CNNs` (accelerators running networks: phone NPUs and GPU delegates, the
/// Edge TPU), `CPU LLMs`, `GPU LLMs`, `microcontroller networks` (a device whose weights stay in
/// a read-only flash), and `<class> <kind>` otherwise.
pub fn error_class(hw: &Hardware, runtime: &Runtime, kind: WorkloadKind) -> String {
    if hw.description.starts_with("Apple") {
        return "Apple".into();
    }
    if hw.memories.iter().any(|m| m.read_only) && kind == WorkloadKind::Network {
        return "microcontroller networks".into();
    }
    match (runtime.class.as_str(), kind) {
        ("accelerator", WorkloadKind::Network) => "phone-accelerator CNNs".into(),
        ("cpu", WorkloadKind::Llm) => "CPU LLMs".into(),
        ("gpu", WorkloadKind::Llm) => "GPU LLMs".into(),
        (c, k) => format!("{c} {}", k.name()),
    }
}

/// The unit a row runs on: of the row's unit kind (the device's default unit when it is of that
/// kind or the row names none); for CPU rows with a thread count, the cluster with the most
/// peak that has that many cores. `None` when the device has no unit of that kind.
pub fn unit_for(hw: &Hardware, kind: &str, threads: Option<u64>) -> Option<usize> {
    let want = match kind {
        "cpu" => UnitKind::Cpu,
        "gpu" => UnitKind::Gpu,
        "npu" => UnitKind::Npu,
        _ => return Some(hw.default_unit),
    };
    let peak = |i: usize| {
        hw.units[i]
            .peak
            .iter()
            .map(|(_, v)| v)
            .fold(0.0f64, f64::max)
    };
    let of_kind: Vec<usize> = (0..hw.units.len())
        .filter(|&i| hw.units[i].kind == want)
        .collect();
    if want != UnitKind::Cpu || threads.is_none() {
        if hw.units[hw.default_unit].kind == want {
            return Some(hw.default_unit);
        }
        if want == UnitKind::Npu && of_kind.is_empty() {
            // An accelerator that the device file calls systolic (the Edge TPU).
            return Some(hw.default_unit).filter(|&u| hw.units[u].kind != UnitKind::Cpu);
        }
        return of_kind
            .iter()
            .copied()
            .max_by(|&a, &b| peak(a).total_cmp(&peak(b)));
    }
    let t = threads.unwrap_or(1) as f64;
    of_kind
        .iter()
        .copied()
        .filter(|&i| hw.units[i].count >= t)
        .max_by(|&a, &b| peak(a).total_cmp(&peak(b)))
        .or_else(|| {
            of_kind
                .iter()
                .copied()
                .max_by(|&a, &b| hw.units[a].count.total_cmp(&hw.units[b].count))
        })
}

/// Loaded devices and runtimes, so that a set of rows loads each once.
#[derive(Default)]
pub struct Cache {
    devices: HashMap<String, Option<Hardware>>,
    runtimes: HashMap<String, Option<Runtime>>,
}

impl Cache {
    fn device(&mut self, name: &str) -> Option<&Hardware> {
        self.devices
            .entry(name.to_string())
            .or_insert_with(|| Hardware::load(name).ok())
            .as_ref()
    }

    fn runtime(&mut self, name: &str) -> Option<&Runtime> {
        self.runtimes
            .entry(name.to_string())
            .or_insert_with(|| {
                // Only shipped runtimes: a row's runtime is a name, never a path.
                crate::runtime::known_runtimes()
                    .contains(&name.to_string())
                    .then(|| Runtime::load(name).ok())
                    .flatten()
            })
            .as_ref()
    }
}

/// A row ready to price: its device, runtime, unit, model and request resolved once, so that a
/// fit can price it many times under different corrections.
#[derive(Clone, Debug)]
pub struct Prepared {
    /// The row.
    pub row: Row,
    /// What it measured.
    pub metric: Metric,
    /// The device.
    pub hw: Hardware,
    /// The unit priced.
    pub unit: usize,
    /// The model.
    pub model: Model,
    /// The quantization.
    pub quant: QuantScheme,
    /// The request (runtime, threads, prompt or context; identity corrections).
    pub req: ScoreRequest,
    /// Tokens (or images) per measured run, to turn the rate into a time.
    tokens: f64,
    /// The error class.
    pub class: String,
}

/// Resolves `row` for pricing. `Err` says why the row cannot be modelled.
pub fn prepare(row: &Row, cache: &mut Cache) -> Result<Prepared, String> {
    if !row.include {
        return Err("include = no".into());
    }
    let metric = match row.metric.as_str() {
        "prefill_tokens_per_s" => Metric::Prefill,
        "decode_tokens_per_s" => Metric::Decode,
        "latency_ms" => Metric::Forward,
        m => return Err(format!("metric `{m}` is not one archscope predicts")),
    };
    if row.hw.is_empty() {
        return Err(format!("device `{}` is not shipped", row.device));
    }
    if row.model_ref.is_empty() {
        return Err("model is not shipped".into());
    }
    let quant = QuantScheme::parse(&row.quant)
        .map_err(|_| format!("quantization `{}` is not modelled", row.quant))?;
    let runtime = cache
        .runtime(&row.runtime)
        .cloned()
        .ok_or_else(|| format!("runtime `{}` has no description", row.runtime))?;
    let hw = cache
        .device(&row.hw)
        .cloned()
        .ok_or_else(|| format!("device `{}` does not load", row.hw))?;
    let unit = unit_for(&hw, &row.unit_kind, row.threads)
        .ok_or_else(|| format!("`{}` has no {} unit", row.hw, row.unit_kind))?;
    let model = load_model(&row.model_ref).map_err(|e| format!("model: {e}"))?;
    // A thread count applies to a CPU unit, at most its cores.
    let threads = row
        .threads
        .filter(|_| hw.units[unit].kind == UnitKind::Cpu)
        .map(|t| t.min(hw.units[unit].count as u64));
    let mut req = ScoreRequest {
        batch: row.batch,
        unit: Some(hw.units[unit].name.clone()),
        mode: Mode::Calibrated,
        runtime,
        threads,
        ..ScoreRequest::default()
    };
    let (kind, tokens) = match (&model, metric) {
        (Model::Llm(_), Metric::Prefill) => {
            let p = row.prompt.unwrap_or(DEFAULT_PROMPT);
            req.prompt = p;
            req.decode = false;
            (WorkloadKind::Llm, (p * row.batch) as f64)
        }
        (Model::Llm(_), Metric::Decode) => {
            let n = row.generated.unwrap_or(DEFAULT_GENERATED);
            req.context = row.context.unwrap_or(0) + n.div_ceil(2).max(1);
            req.prefill = false;
            (WorkloadKind::Llm, row.batch as f64)
        }
        (Model::Vision(_), Metric::Forward) => (WorkloadKind::Network, 1.0),
        _ => {
            return Err(format!(
                "metric `{}` does not apply to `{}`",
                row.metric, row.model_ref
            ));
        }
    };
    let class = error_class(&hw, &req.runtime, kind);
    Ok(Prepared {
        row: row.clone(),
        metric,
        hw,
        unit,
        model,
        quant,
        req,
        tokens,
        class,
    })
}

impl Prepared {
    /// The measured time, seconds.
    pub fn measured_s(&self) -> f64 {
        match self.metric {
            Metric::Forward => self.row.value / 1e3,
            _ => self.tokens / self.row.value,
        }
    }

    /// Prices the row with `scales` on its (device, runtime) pair.
    pub fn price(&self, scales: Scales) -> Result<Prediction, String> {
        let mut req = self.req.clone();
        req.scales = scales;
        let t = match &self.model {
            Model::Llm(cfg) => {
                let s = score_llm(&self.hw, cfg, &self.quant, &req)
                    .map_err(|e| format!("cannot predict: {e}"))?;
                s.phases[0].eval.total
            }
            Model::Vision(v) => {
                score_vision(&self.hw, v, &self.quant, &req)
                    .map_err(|e| format!("cannot predict: {e}"))?
                    .eval
                    .total
            }
        };
        if !(t.latency_s.is_finite() && t.latency_s > 0.0) {
            return Err(format!(
                "the prediction is not a positive time ({})",
                t.latency_s
            ));
        }
        Ok(Prediction {
            id: self.row.id.clone(),
            line: self.row.line,
            hw: self.row.hw.clone(),
            unit: self.hw.units[self.unit].name.clone(),
            runtime: self.req.runtime.name.clone(),
            model: self.row.model_ref.clone(),
            quant: self.quant.name.clone(),
            metric: self.metric,
            class: self.class.clone(),
            split: self.row.split,
            predicted_s: t.latency_s,
            measured_s: self.measured_s(),
            bound: crate::score::bound_name(&self.hw, t.bound()),
        })
    }
}

/// Prices `row` with `scales` applied to its (device, runtime) pair. `Err` says why the row
/// cannot be modelled.
pub fn predict(row: &Row, scales: Scales, cache: &mut Cache) -> Result<Prediction, String> {
    prepare(row, cache)?.price(scales)
}

/// Error statistics of a set of predictions.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ErrorStats {
    /// Rows.
    pub n: usize,
    /// Median of |error|.
    pub median_abs: f64,
    /// Share of rows within ±30 %.
    pub within_30: f64,
    /// Median signed error (the bias).
    pub median: f64,
}

fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

impl ErrorStats {
    /// The statistics of `errors` (each `predicted / measured − 1`).
    pub fn of(errors: &[f64]) -> ErrorStats {
        ErrorStats {
            n: errors.len(),
            median_abs: median(errors.iter().map(|e| e.abs()).collect()),
            within_30: errors.iter().filter(|e| e.abs() <= 0.3).count() as f64
                / errors.len().max(1) as f64,
            median: median(errors.to_vec()),
        }
    }
}
