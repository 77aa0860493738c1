//! The files `calibrate --from` reads, recognised by their content (never by their extension),
//! each turned into measurement rows ([`Row`]) for [`super::fit::calibrate_pair`]:
//!
//! - the project's measurement CSV ([`super::dataset`]: a header naming `hw`, `model_ref` and
//!   `runtime`), read as it is;
//! - llama-bench output (llama.cpp `tools/llama-bench/llama-bench.cpp`, earlier
//!   `examples/llama-bench/`): `-o csv` (a header line of field names, every value quoted),
//!   `-o json` (an array of objects) and `-o jsonl` (one object a line). A test with
//!   `n_prompt > 0, n_gen = 0` is a prefill (`avg_ts` prompt tokens/s), one with
//!   `n_gen > 0, n_prompt = 0` a decode (`avg_ts` generated tokens/s, from a context of
//!   `n_depth` tokens where the field is there, else an empty one). `avg_ts` is llama-bench's
//!   mean over the repetitions of `(n_prompt + n_gen) / time`;
//! - a Qualcomm AI Hub `perf.yaml` (quic/ai-hub-models, `qai_hub_models/models/*/perf.yaml`):
//!   the layout before v0.28 (`models:` → `performance_metrics:` a list of runs, each with
//!   `reference_device_info` and one block per runtime path holding `inference_time` in
//!   microseconds: the files' `throughput` is `1e6 / inference_time`) and the layout from v0.28
//!   (`precisions:` → precision → `components:` → name → `performance_metrics:` → device name →
//!   runtime path → `inference_time_milliseconds`). Each (device, runtime path) of the device
//!   and runtime asked for is a forward-latency row; the others are skipped and counted.
//!
//! llama-bench and AI Hub files name no model archscope ships, so the caller names it
//! ([`Context::model`]); every row gets the device and runtime asked for, `split = train`,
//! `include = yes`, `source = FILE:LINE` and a unique id. A bad row is an error naming the
//! file, the line (JSON: the line of the object), the field and what was expected. A file is
//! read only up to [`MAX_FILE_BYTES`].

use super::TrustError;
use super::dataset::{self, Row, Split};
use crate::hardware::UnitKind;
use std::collections::BTreeMap;
use std::path::Path;

/// The largest file read, bytes. Far above real inputs (the largest `perf.yaml` in
/// ai-hub-models v0.46 is 74 kB; a llama-bench JSON object with its samples is under 2 kB, so
/// this is thousands of tests) and small enough that parsing it cannot exhaust memory.
pub const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// The deepest nesting of YAML blocks read. An AI Hub `perf.yaml` nests at most 8 deep.
pub const MAX_YAML_DEPTH: usize = 32;

/// llama-bench backends that run on the CPU: a test whose backends are only these ran its layers
/// on the CPU whatever `n_gpu_layers` says (llama-bench's markdown printer treats the same
/// three names as CPU backends).
pub const CPU_BACKENDS: [&str; 3] = ["CPU", "BLAS", "ZenDNN"];

/// llama.cpp's names of GGUF file types as they end llama-bench's `model_type` (`llama 7B
/// Q4_K - Medium`; `llama_model_ftype_name` in llama.cpp's model loader), with the scheme
/// names archscope prices them as ([`crate::workload::QuantScheme::parse`]). A file type not
/// listed is kept as written, lower case, and the fit skips its rows with the reason.
pub const GGUF_FILE_TYPES: [(&str, &str); 13] = [
    ("all F32", "f32"),
    ("F16", "f16"),
    ("BF16", "bf16"),
    ("Q4_0", "q4_0"),
    ("Q4_1", "q4_1"),
    ("Q5_0", "q5_0"),
    ("Q5_1", "q5_1"),
    ("Q8_0", "q8_0"),
    ("Q4_K - Small", "q4_k_s"),
    ("Q4_K - Medium", "q4_k_m"),
    ("Q5_K - Small", "q5_k_s"),
    ("Q5_K - Medium", "q5_k_m"),
    ("Q6_K", "q6_k"),
];

/// AI Hub device names (the `performance_metrics` keys from v0.28, `reference_device_info.name`
/// before) and the shipped device each is. Only the phone the device file describes: other
/// phones with the same chip differ in memory and cooling. Add a line to read another device.
pub const AIHUB_DEVICES: [(&str, &str); 1] = [("Samsung Galaxy S24", "galaxy-s24")];

/// AI Hub runtime paths with the unit that ran them (`primary_compute_unit`, lower case) and the
/// shipped runtime that describes them. Before v0.28 the paths were `torchscript_onnx_tflite`,
/// `torchscript_onnx_qnn` and `torchscript_onnx` (or `torchscript_onnx_ort`); from v0.28
/// `tflite`, `qnn` then `qnn_dlc`, `qnn_context_binary`, `onnx` and `precompiled_qnn_onnx`.
/// A TFLite model runs on the NPU through the QNN delegate, on the GPU through the GPU delegate
/// and on the CPU through XNNPACK; ONNX models run through ONNX Runtime's QNN execution
/// provider. The shipped `qnn` and `onnxruntime-qnn` describe the NPU (HTP) only, so their paths
/// on another unit, like any (path, unit) not listed, are skipped with the reason.
pub const AIHUB_RUNTIMES: [(&str, &str, &str); 14] = [
    ("torchscript_onnx_tflite", "npu", "litert-npu"),
    ("torchscript_onnx_tflite", "gpu", "litert-gpu"),
    ("torchscript_onnx_tflite", "cpu", "litert-xnnpack"),
    ("tflite", "npu", "litert-npu"),
    ("tflite", "gpu", "litert-gpu"),
    ("tflite", "cpu", "litert-xnnpack"),
    ("torchscript_onnx_qnn", "npu", "qnn"),
    ("qnn", "npu", "qnn"),
    ("qnn_dlc", "npu", "qnn"),
    ("qnn_context_binary", "npu", "qnn"),
    ("torchscript_onnx", "npu", "onnxruntime-qnn"),
    ("torchscript_onnx_ort", "npu", "onnxruntime-qnn"),
    ("onnx", "npu", "onnxruntime-qnn"),
    ("precompiled_qnn_onnx", "npu", "onnxruntime-qnn"),
];

/// AI Hub precisions and the schemes archscope prices them as, as the measurement set does:
/// `float` models run at FP16 on the NPU and the GPU (FP32 on the CPU, see [`aihub_quant`]);
/// before v0.28 each run states `fp16`, `fp32` or `int8` (the int8 models are the w8a8 ones of
/// later files). A `*_mixed_*` precision (a few layers kept at 16 bits) is priced as its base.
/// Other names are kept as written, and the fit skips their rows with the reason.
pub const AIHUB_PRECISIONS: [(&str, &str); 7] = [
    ("float", "f16"),
    ("fp16", "f16"),
    ("fp32", "f32"),
    ("int8", "w8a8"),
    ("w8a8", "w8a8"),
    ("w8a16", "w8a16"),
    ("w4a16", "w4a16"),
];

/// A file format `calibrate --from` reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// The project's measurement CSV.
    Dataset,
    /// `llama-bench -o csv`.
    LlamaBenchCsv,
    /// `llama-bench -o json`.
    LlamaBenchJson,
    /// `llama-bench -o jsonl`.
    LlamaBenchJsonl,
    /// An AI Hub `perf.yaml`.
    AiHubPerfYaml,
}

impl Format {
    /// Its name in messages.
    pub fn name(self) -> &'static str {
        match self {
            Format::Dataset => "measurement CSV",
            Format::LlamaBenchCsv => "llama-bench CSV",
            Format::LlamaBenchJson => "llama-bench JSON",
            Format::LlamaBenchJsonl => "llama-bench JSONL",
            Format::AiHubPerfYaml => "AI Hub perf.yaml",
        }
    }
}

/// The formats accepted, for the message of a file that is none of them.
pub const ACCEPTED: &str = "the measurement CSV (a header naming hw, model_ref and runtime), \
llama-bench output (-o csv, -o json or -o jsonl: fields such as model_type, n_prompt, n_gen and \
avg_ts) or an \
AI Hub perf.yaml (with models: or precisions: and performance_metrics)";

/// What the rows of a file are measurements of, where the file does not say.
#[derive(Clone, Copy, Debug)]
pub struct Context<'a> {
    /// The shipped device the rows ran on (`--hw`).
    pub hw: &'a str,
    /// The shipped runtime that ran them (`--runtime`).
    pub runtime: &'a str,
    /// The shipped model measured (`--model`); required by llama-bench and AI Hub files.
    pub model: Option<&'a str>,
}

/// A record of the file that gave no row, with why.
#[derive(Clone, Debug, PartialEq)]
pub struct Skipped {
    /// Its line.
    pub line: usize,
    /// Why it gave no row.
    pub reason: String,
}

/// The rows read from a file.
#[derive(Clone, Debug)]
pub struct Rows {
    /// The format recognised.
    pub format: Format,
    /// The rows.
    pub rows: Vec<Row>,
    /// Records that gave no row.
    pub skipped: Vec<Skipped>,
}

impl Rows {
    /// The skip reasons with how many records each, most frequent first.
    pub fn skip_summary(&self) -> Vec<(String, usize)> {
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for s in &self.skipped {
            *counts.entry(s.reason.as_str()).or_default() += 1;
        }
        let mut v: Vec<(String, usize)> = counts
            .into_iter()
            .map(|(r, n)| (r.to_string(), n))
            .collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        v
    }
}

/// Reads `path` (at most [`MAX_FILE_BYTES`], UTF-8) and parses it with [`parse_rows`].
pub fn read_rows(path: &Path, ctx: &Context) -> Result<Rows, TrustError> {
    let file = path.display().to_string();
    let fail = |message: String| TrustError::File {
        path: file.clone(),
        message,
    };
    let meta = std::fs::metadata(path).map_err(|e| fail(e.to_string()))?;
    if meta.is_dir() {
        return Err(fail("is a directory; expected a file".into()));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(fail(format!(
            "{} bytes; calibrate reads files of at most {MAX_FILE_BYTES} bytes",
            meta.len()
        )));
    }
    let mut bytes = Vec::new();
    use std::io::Read;
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes))
        .map_err(|e| fail(e.to_string()))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(fail(format!(
            "more than {MAX_FILE_BYTES} bytes; calibrate reads files of at most that"
        )));
    }
    let text = crate::util::text::utf8(bytes).map_err(|e| fail(e.to_string()))?;
    parse_rows(&text, &file, ctx)
}

/// The format of `text`, from its content; `None` when it is none [`read_rows`] reads.
pub fn detect(text: &str) -> Option<Format> {
    let body = text.trim_start_matches('\u{feff}');
    let first = body.trim_start();
    // Two of llama-bench's fields: a file missing one (avg_ts, say) is still told apart, and
    // its error names what is missing.
    let marks = |has: &dyn Fn(&str) -> bool| LB_MARKERS.iter().filter(|k| has(k)).count() >= 2;
    let json_key = |k: &str| first.contains(&format!("\"{k}\""));
    if first.starts_with('[') && marks(&json_key) {
        return Some(Format::LlamaBenchJson);
    }
    if first.starts_with('{') && marks(&json_key) {
        return Some(Format::LlamaBenchJsonl);
    }
    if dataset::is_dataset_header(body) {
        return Some(Format::Dataset);
    }
    let header: Vec<String> = body
        .lines()
        .next()
        .unwrap_or("")
        .split(',')
        .map(|c| c.trim().trim_matches('"').to_string())
        .collect();
    if marks(&|k: &str| header.iter().any(|h| h == k)) {
        return Some(Format::LlamaBenchCsv);
    }
    let top_key = |k: &str| body.lines().any(|l| l.trim_end() == k);
    if (top_key("models:") || top_key("precisions:"))
        && body
            .lines()
            .any(|l| l.trim_start().starts_with("performance_metrics:"))
    {
        return Some(Format::AiHubPerfYaml);
    }
    None
}

/// Parses `text` in the format [`detect`] finds; `file` names it in errors and sources.
pub fn parse_rows(text: &str, file: &str, ctx: &Context) -> Result<Rows, TrustError> {
    let format = detect(text).ok_or_else(|| TrustError::Unrecognized {
        path: file.to_string(),
        message: format!("not a format calibrate reads; expected {ACCEPTED}"),
    })?;
    if format == Format::Dataset {
        if ctx.model.is_some() {
            return Err(TrustError::Mismatch(format!(
                "{file}: --model is for llama-bench and AI Hub files; the measurement CSV names \
                 the model of each row (column model_ref)"
            )));
        }
        return Ok(Rows {
            format,
            rows: dataset::parse(text, file)?,
            skipped: Vec::new(),
        });
    }
    let model = ctx.model.ok_or_else(|| TrustError::NeedsModel {
        path: file.to_string(),
        format: format.name().to_string(),
    })?;
    let is_llm = match crate::workload::load_model(model) {
        Ok(m) => matches!(m, crate::workload::Model::Llm(_)),
        Err(e) => return Err(TrustError::Mismatch(format!("--model `{model}`: {e}"))),
    };
    let text = text.trim_start_matches('\u{feff}');
    let out = Out {
        file,
        name: Path::new(file)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| file.to_string()),
        ctx,
        model,
    };
    match format {
        Format::AiHubPerfYaml => {
            if is_llm {
                return Err(TrustError::Mismatch(format!(
                    "{file}: --model `{model}` is an LLM; an AI Hub perf.yaml measures the \
                     forward latency of a network (give a network, e.g. mobilenetv2)"
                )));
            }
            aihub(text, &out)
        }
        _ => {
            if !is_llm {
                return Err(TrustError::Mismatch(format!(
                    "{file}: --model `{model}` is a network; llama-bench measures LLMs (give \
                     one, e.g. llama-2-7b)"
                )));
            }
            let unit_kinds = crate::runtime::Runtime::load(ctx.runtime)
                .map(|r| r.units)
                .unwrap_or_default();
            let mut lb = LlamaBench {
                out: &out,
                unit_kinds,
                n_params: None,
                rows: Rows {
                    format,
                    rows: Vec::new(),
                    skipped: Vec::new(),
                },
            };
            match format {
                Format::LlamaBenchCsv => lb.csv(text)?,
                Format::LlamaBenchJson => lb.json(text)?,
                _ => lb.jsonl(text)?,
            }
            Ok(lb.rows)
        }
    }
}

/// What every row of a file shares.
struct Out<'a> {
    file: &'a str,
    name: String,
    ctx: &'a Context<'a>,
    model: &'a str,
}

impl Out<'_> {
    fn bad(&self, line: usize, message: String) -> TrustError {
        TrustError::Table {
            path: self.file.to_string(),
            line,
            message,
        }
    }

    /// A row with the context's device, runtime and model at `line`.
    fn row(&self, line: usize, kind: &str, metric: &str, value: f64) -> Row {
        Row {
            line,
            id: format!("{}:{line}", self.name),
            device: String::new(),
            hw: self.ctx.hw.to_string(),
            model_ref: self.model.to_string(),
            kind: kind.into(),
            quant: String::new(),
            runtime: self.ctx.runtime.to_string(),
            unit_kind: String::new(),
            threads: None,
            batch: 1,
            prompt: None,
            generated: None,
            context: None,
            metric: metric.into(),
            value,
            source: format!("{}:{line}", self.file),
            split: Split::Train,
            include: true,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// llama-bench

/// Fields that mark llama-bench output: a file with two of them is read as llama-bench's.
const LB_MARKERS: [&str; 5] = ["build_commit", "model_type", "n_prompt", "n_gen", "avg_ts"];

/// The llama-bench fields read (all others are ignored).
const LB_REQUIRED: [&str; 4] = ["model_type", "n_prompt", "n_gen", "avg_ts"];

/// One llama-bench test as read: a CSV record or a JSON object.
enum Record<'a> {
    Csv(&'a csv::StringRecord, &'a [String]),
    Json(&'a serde_json::Map<String, serde_json::Value>),
}

/// A field value: its text and whether a JSON number or a JSON boolean (CSV: always text).
enum Field {
    Text(String),
    Number(String),
    Other(String),
}

impl Record<'_> {
    /// `key`'s value; `None` when the record has no such field.
    fn get(&self, key: &str) -> Option<Field> {
        match self {
            Record::Csv(rec, header) => header
                .iter()
                .position(|h| h == key)
                .map(|i| Field::Text(rec.get(i).unwrap_or("").trim().to_string())),
            Record::Json(map) => map.get(key).map(|v| match v {
                serde_json::Value::String(s) => Field::Text(s.clone()),
                serde_json::Value::Number(n) => Field::Number(n.to_string()),
                other => Field::Other(other.to_string()),
            }),
        }
    }

    /// How a field is named in messages.
    fn label(&self, key: &str) -> String {
        match self {
            Record::Csv(..) => format!("column `{key}`"),
            Record::Json(_) => format!("key `{key}`"),
        }
    }
}

struct LlamaBench<'a> {
    out: &'a Out<'a>,
    /// Unit kinds the runtime runs on (empty: any, or it did not load).
    unit_kinds: Vec<UnitKind>,
    /// The first test's model parameters and line: every test must be of that model.
    n_params: Option<(u64, usize)>,
    rows: Rows,
}

impl LlamaBench<'_> {
    fn csv(&mut self, text: &str) -> Result<(), TrustError> {
        let mut rdr = csv::ReaderBuilder::new()
            .flexible(false)
            .from_reader(text.as_bytes());
        let header: Vec<String> = rdr
            .headers()
            .map_err(|e| self.out.bad(1, e.to_string()))?
            .iter()
            .map(|h| h.trim().to_string())
            .collect();
        for c in LB_REQUIRED {
            if !header.iter().any(|h| h == c) {
                return Err(self.out.bad(
                    1,
                    format!(
                        "missing column `{c}`; llama-bench -o csv prints it (expected the \
                         columns {} among the others)",
                        LB_REQUIRED.join(", ")
                    ),
                ));
            }
        }
        let mut rec = csv::StringRecord::new();
        loop {
            let line = rdr.position().line() as usize;
            match rdr.read_record(&mut rec) {
                Ok(false) => break,
                Ok(true) => {
                    let line = rec.position().map(|p| p.line() as usize).unwrap_or(line);
                    self.test(&Record::Csv(&rec, &header), line)?;
                }
                Err(e) => {
                    let line = e.position().map(|p| p.line() as usize).unwrap_or(line);
                    return Err(self.out.bad(line, format!("not a CSV record: {e}")));
                }
            }
        }
        Ok(())
    }

    fn json(&mut self, text: &str) -> Result<(), TrustError> {
        let items: Vec<serde_json::Value> = serde_json::from_str(text).map_err(|e| {
            self.out.bad(
                e.line(),
                format!(
                    "column {}: not the JSON array llama-bench -o json prints: {e}",
                    e.column()
                ),
            )
        })?;
        let lines = element_lines(text);
        for (i, item) in items.iter().enumerate() {
            let line = lines.get(i).copied().unwrap_or(0);
            let map = item.as_object().ok_or_else(|| {
                self.out.bad(
                    line,
                    format!("element {i}: expected an object, found {item}"),
                )
            })?;
            self.test(&Record::Json(map), line)?;
        }
        Ok(())
    }

    fn jsonl(&mut self, text: &str) -> Result<(), TrustError> {
        for (i, l) in text.lines().enumerate() {
            let line = i + 1;
            if l.trim().is_empty() {
                continue;
            }
            let v: serde_json::Value = serde_json::from_str(l).map_err(|e| {
                self.out.bad(
                    line,
                    format!(
                        "column {}: not a JSON object as llama-bench -o jsonl prints: {e}",
                        e.column()
                    ),
                )
            })?;
            let map = v
                .as_object()
                .ok_or_else(|| self.out.bad(line, format!("expected an object, found {v}")))?;
            self.test(&Record::Json(map), line)?;
        }
        Ok(())
    }

    /// One test: a row, a skip, or an error.
    fn test(&mut self, r: &Record, line: usize) -> Result<(), TrustError> {
        let out = self.out;
        let f = TestFields { out, r, line };
        let n_prompt = f.count("n_prompt")?.ok_or_else(|| f.missing("n_prompt"))?;
        let n_gen = f.count("n_gen")?.ok_or_else(|| f.missing("n_gen"))?;
        let n_depth = f.count("n_depth")?;
        let avg_ts = f.tokens_per_s()?;
        let model_type = f
            .text("model_type")?
            .ok_or_else(|| f.missing("model_type"))?;
        let quant = gguf_quant(&model_type).ok_or_else(|| {
            f.expected(
                "model_type",
                "`ARCH SIZE FILE-TYPE` as llama-bench writes it (e.g. `llama 7B Q4_0`)",
                &model_type,
            )
        })?;
        self.same_model(&f)?;
        let threads = f.count("n_threads")?.filter(|&t| t > 0);
        let gpu = self.on_gpu(&f)?;
        let (metric, skip) = test_phase(&f, n_prompt, n_gen, n_depth)?;
        if let Some(reason) = skip {
            self.rows.skipped.push(Skipped {
                line,
                reason: reason.into(),
            });
            return Ok(());
        }
        let mut row = out.row(line, "llm", metric, avg_ts);
        row.device = f
            .text(if gpu { "gpu_info" } else { "cpu_info" })?
            .unwrap_or_default();
        row.quant = quant;
        row.unit_kind = if gpu { "gpu" } else { "cpu" }.into();
        row.threads = threads;
        if n_gen == 0 {
            row.prompt = Some(n_prompt);
        } else {
            row.generated = Some(n_gen);
            row.context = Some(n_depth.unwrap_or(0));
        }
        self.rows.rows.push(row);
        Ok(())
    }

    /// Every test must be of the first test's model (by `model_n_params`, where given).
    fn same_model(&mut self, f: &TestFields) -> Result<(), TrustError> {
        if let Some(n) = f.count("model_n_params")? {
            match self.n_params {
                None => self.n_params = Some((n, f.line)),
                Some((first, at)) if first != n => {
                    return Err(f.out.bad(
                        f.line,
                        format!(
                            "{}: {n} parameters, but line {at} tested a model of {first}; \
                             --model names one model: give each model's tests in its own file",
                            f.r.label("model_n_params")
                        ),
                    ));
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Whether the test ran on the GPU (from `n_gpu_layers` and `backends`), which must be a
    /// unit kind the runtime runs on.
    fn on_gpu(&self, f: &TestFields) -> Result<bool, TrustError> {
        let (out, r, line) = (f.out, f.r, f.line);
        let ngl = f.count("n_gpu_layers")?;
        let backends = f.text("backends")?;
        let offloaded = ngl.is_some_and(|n| n > 0);
        Ok(match &backends {
            // Layers offloaded to a backend that is not a CPU one ran on the GPU.
            Some(b) => {
                let gpu = offloaded
                    && b.split(',')
                        .map(str::trim)
                        .any(|b| !b.is_empty() && !CPU_BACKENDS.contains(&b));
                let unit = if gpu { UnitKind::Gpu } else { UnitKind::Cpu };
                if !self.unit_kinds.is_empty() && !self.unit_kinds.contains(&unit) {
                    return Err(out.bad(
                        line,
                        format!(
                            "{} {} with backends `{b}`: the test ran on the {}, which runtime \
                             `{}` does not run on (give the runtime of that backend with \
                             --runtime)",
                            r.label("n_gpu_layers"),
                            ngl.unwrap_or(0),
                            if gpu { "GPU" } else { "CPU" },
                            out.ctx.runtime
                        ),
                    ));
                }
                gpu
            }
            // Older llama-bench names no backends (and defaults n_gpu_layers to 99 even in a
            // CPU build): the runtime's unit decides when it runs on one kind.
            None => match self.unit_kinds.as_slice() {
                [UnitKind::Cpu] => false,
                [UnitKind::Gpu] => true,
                _ => offloaded,
            },
        })
    }
}

/// The metric a llama-bench test measures (prefill or decode tokens per second), or why it is
/// skipped (prefill after a context; prompt and generation in one test).
fn test_phase(
    f: &TestFields,
    n_prompt: u64,
    n_gen: u64,
    n_depth: Option<u64>,
) -> Result<(&'static str, Option<&'static str>), TrustError> {
    Ok(match (n_prompt, n_gen) {
        (0, 0) => {
            return Err(f.out.bad(
                f.line,
                "n_prompt and n_gen are both 0; expected a prompt or a generation test".into(),
            ));
        }
        (_, 0) if n_depth.is_some_and(|d| d > 0) => (
            "",
            Some(
                "prefill after a context (n_depth > 0): archscope prices prefill from an \
                 empty context",
            ),
        ),
        (_, 0) => ("prefill_tokens_per_s", None),
        (0, _) => ("decode_tokens_per_s", None),
        _ => (
            "",
            Some(
                "prompt and generation in one test (-pg): its rate mixes both phases, \
                 which archscope predicts apart",
            ),
        ),
    })
}

/// The fields of one llama-bench test (a CSV record or a JSON object at `line`), read with
/// the errors that name them.
struct TestFields<'a> {
    out: &'a Out<'a>,
    r: &'a Record<'a>,
    line: usize,
}

impl TestFields<'_> {
    /// The error for a field the test lacks.
    fn missing(&self, key: &str) -> TrustError {
        self.out.bad(
            self.line,
            format!(
                "missing {}; llama-bench writes it for every test",
                self.r.label(key)
            ),
        )
    }

    /// The error for a field that is not what it should be.
    fn expected(&self, key: &str, want: &str, found: &str) -> TrustError {
        self.out.bad(
            self.line,
            format!("{}: expected {want}, found `{found}`", self.r.label(key)),
        )
    }

    /// A whole-number field (`None` when absent).
    fn count(&self, key: &str) -> Result<Option<u64>, TrustError> {
        let r = self.r;
        match r.get(key) {
            None => Ok(None),
            Some(Field::Text(t)) if matches!(r, Record::Csv(..)) => t
                .parse::<u64>()
                .map(Some)
                .map_err(|_| self.expected(key, "a whole number", &t)),
            Some(Field::Number(t)) => t
                .parse::<u64>()
                .map(Some)
                .map_err(|_| self.expected(key, "a whole number", &t)),
            Some(Field::Text(t)) => Err(self.expected(key, "a whole number", &format!("\"{t}\""))),
            Some(Field::Other(t)) => Err(self.expected(key, "a whole number", &t)),
        }
    }

    /// A string field (`None` when absent).
    fn text(&self, key: &str) -> Result<Option<String>, TrustError> {
        match self.r.get(key) {
            None => Ok(None),
            Some(Field::Text(t)) => Ok(Some(t)),
            Some(Field::Number(t)) | Some(Field::Other(t)) => {
                Err(self.expected(key, "a string", &t))
            }
        }
    }

    /// `avg_ts`: the test's tokens per second, finite and positive.
    fn tokens_per_s(&self) -> Result<f64, TrustError> {
        let r = self.r;
        match r.get("avg_ts") {
            None => return Err(self.missing("avg_ts")),
            Some(Field::Number(t)) => t.parse::<f64>().ok(),
            Some(Field::Text(t)) if matches!(r, Record::Csv(..)) => t.parse::<f64>().ok(),
            _ => None,
        }
        .filter(|v| v.is_finite() && *v > 0.0)
        .ok_or_else(|| {
            let found = match r.get("avg_ts") {
                Some(Field::Text(t)) if matches!(r, Record::Json(_)) => format!("\"{t}\""),
                Some(Field::Text(t) | Field::Number(t) | Field::Other(t)) => t,
                None => String::new(),
            };
            self.expected(
                "avg_ts",
                "a finite positive number of tokens per second",
                &found,
            )
        })
    }
}

/// The scheme of llama-bench's `model_type` (`ARCH SIZE FILE-TYPE`, maybe ending in
/// ` (guessed)`): one of [`GGUF_FILE_TYPES`], else the file type as written in lower case.
/// `None` when there is no file type (fewer than three words).
fn gguf_quant(model_type: &str) -> Option<String> {
    let t = model_type.trim();
    let t = t.strip_suffix("(guessed)").unwrap_or(t).trim_end();
    let mut words = t.splitn(3, ' ');
    let (_arch, _size, ftype) = (words.next()?, words.next()?, words.next()?);
    let ftype = ftype.trim();
    if ftype.is_empty() {
        return None;
    }
    // The whole file type, so that `Q4_K - Medium` is not read as `Medium`.
    let known = GGUF_FILE_TYPES
        .iter()
        .filter(|(name, _)| ftype == *name)
        .map(|(_, s)| s.to_string())
        .next();
    Some(known.unwrap_or_else(|| ftype.to_ascii_lowercase()))
}

/// The 1-based line where each element of the top-level JSON array `text` starts (`text` is
/// valid JSON).
fn element_lines(text: &str) -> Vec<usize> {
    let (mut lines, mut line, mut depth) = (Vec::new(), 1, 0usize);
    let (mut in_str, mut escaped, mut expect) = (false, false, false);
    for c in text.chars() {
        if c == '\n' {
            line += 1;
        }
        if in_str {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_str = false;
            }
            continue;
        }
        if depth == 1 && expect && !c.is_whitespace() && c != ']' {
            lines.push(line);
            expect = false;
        }
        match c {
            '"' => in_str = true,
            '[' | '{' => {
                depth += 1;
                if depth == 1 {
                    expect = true;
                }
            }
            ']' | '}' => depth = depth.saturating_sub(1),
            ',' if depth == 1 => expect = true,
            _ => {}
        }
    }
    lines
}

// ---------------------------------------------------------------------------------------------
// YAML: the subset an AI Hub perf.yaml is written in.

/// A YAML node with the line it starts on.
#[derive(Clone, Debug, PartialEq)]
enum Node {
    /// A scalar: its text and whether it was quoted.
    Scalar(String, bool, usize),
    /// A block mapping, in file order (keys unique).
    Map(Vec<(String, usize, Node)>),
    /// A block sequence.
    Seq(Vec<Node>),
    /// No value (`key:` with nothing under it, `~`, `null`, `{}`, `[]`).
    Empty(usize),
}

impl Node {
    /// The line it starts on (0 for an empty sequence or mapping, which has none).
    fn line(&self) -> usize {
        match self {
            Node::Scalar(_, _, l) | Node::Empty(l) => *l,
            Node::Map(e) => e.first().map(|e| e.1).unwrap_or(0),
            Node::Seq(v) => v.first().map(Node::line).unwrap_or(0),
        }
    }

    fn get(&self, key: &str) -> Option<&Node> {
        match self {
            Node::Map(entries) => entries.iter().find(|(k, _, _)| k == key).map(|e| &e.2),
            _ => None,
        }
    }
}

struct YamlLine<'a> {
    no: usize,
    indent: usize,
    text: &'a str,
}

/// A strict reader of block YAML: mappings, sequences (indented or not), plain, single- and
/// double-quoted scalars, comments, empty `{}` and `[]`. Anchors, aliases, tags, block scalars,
/// flow collections with content, multi-line scalars, directives and several documents are
/// errors naming the line.
struct Yaml<'a> {
    file: &'a str,
    lines: Vec<YamlLine<'a>>,
    at: usize,
}

impl<'a> Yaml<'a> {
    fn parse(text: &'a str, file: &'a str) -> Result<Node, TrustError> {
        let mut lines = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let no = i + 1;
            let body = raw.trim_start_matches(' ');
            if body.starts_with('\t') {
                return Err(yaml_err(
                    file,
                    no,
                    "a tab in the indentation; YAML indents with spaces",
                ));
            }
            let body = body.trim_end();
            if body.is_empty() || body.starts_with('#') {
                continue;
            }
            if raw.len() - raw.trim_start_matches(' ').len() == 0
                && (body.starts_with("---") || body.starts_with("...") || body.starts_with('%'))
            {
                return Err(yaml_err(
                    file,
                    no,
                    "document markers and directives are not read; expected one YAML document",
                ));
            }
            lines.push(YamlLine {
                no,
                indent: raw.len() - raw.trim_start_matches(' ').len(),
                text: body,
            });
        }
        let mut y = Yaml { file, lines, at: 0 };
        if y.lines.is_empty() {
            return Ok(Node::Empty(1));
        }
        let first = y.lines[0].indent;
        let root = y.block(first, 0)?;
        if let Some(l) = y.lines.get(y.at) {
            return Err(yaml_err(
                file,
                l.no,
                "the indentation matches no enclosing block",
            ));
        }
        Ok(root)
    }

    fn is_item(text: &str) -> bool {
        text == "-" || text.starts_with("- ")
    }

    /// The block at `indent` starting at the current line.
    fn block(&mut self, indent: usize, depth: usize) -> Result<Node, TrustError> {
        let l = &self.lines[self.at];
        if depth > MAX_YAML_DEPTH {
            return Err(yaml_err(
                self.file,
                l.no,
                &format!("nested deeper than {MAX_YAML_DEPTH} blocks"),
            ));
        }
        if Self::is_item(l.text) {
            self.seq(indent, depth)
        } else {
            self.map(indent, depth)
        }
    }

    fn seq(&mut self, indent: usize, depth: usize) -> Result<Node, TrustError> {
        let mut items = Vec::new();
        while let Some(l) = self.lines.get(self.at) {
            if l.indent != indent || !Self::is_item(l.text) {
                break;
            }
            let no = l.no;
            let rest = l.text[1..].trim_start_matches(' ');
            if rest.is_empty() {
                self.at += 1;
                items.push(self.nested(indent, no, depth)?);
            } else if key_split(rest).is_some() {
                // `- key: value` opens a mapping at the column of `key`.
                let col = indent + (l.text.len() - rest.len());
                self.lines[self.at] = YamlLine {
                    no,
                    indent: col,
                    text: rest,
                };
                items.push(self.map(col, depth + 1)?);
            } else {
                self.at += 1;
                items.push(scalar(self.file, rest, no)?);
                self.no_deeper(indent)?;
            }
        }
        Ok(Node::Seq(items))
    }

    fn map(&mut self, indent: usize, depth: usize) -> Result<Node, TrustError> {
        let mut entries: Vec<(String, usize, Node)> = Vec::new();
        while let Some(l) = self.lines.get(self.at) {
            if l.indent != indent || Self::is_item(l.text) {
                break;
            }
            let no = l.no;
            let (key, rest) = key_split(l.text).ok_or_else(|| {
                yaml_err(
                    self.file,
                    no,
                    "expected `key: value` or `key:` (a scalar on its own line, or one that \
                     continues the line above, is not read)",
                )
            })?;
            let key = unquote_key(self.file, key, no)?;
            if let Some((_, first, _)) = entries.iter().find(|(k, _, _)| *k == key) {
                return Err(yaml_err(
                    self.file,
                    no,
                    &format!("key `{key}` repeats line {first}"),
                ));
            }
            self.at += 1;
            let value = if rest.is_empty() {
                match self.lines.get(self.at) {
                    // An indentless sequence: `key:` then `- item` at the key's column.
                    Some(n) if n.indent == indent && Self::is_item(n.text) => {
                        self.seq(indent, depth + 1)?
                    }
                    _ => self.nested(indent, no, depth)?,
                }
            } else {
                let v = scalar(self.file, rest, no)?;
                self.no_deeper(indent)?;
                v
            };
            entries.push((key, no, value));
        }
        Ok(Node::Map(entries))
    }

    /// The block under a line at `indent` (ending in `:` or `-`), or nothing.
    fn nested(&mut self, indent: usize, no: usize, depth: usize) -> Result<Node, TrustError> {
        match self.lines.get(self.at) {
            Some(n) if n.indent > indent => {
                let i = n.indent;
                self.block(i, depth + 1)
            }
            _ => Ok(Node::Empty(no)),
        }
    }

    /// After a scalar value, the next line must not be indented deeper.
    fn no_deeper(&self, indent: usize) -> Result<(), TrustError> {
        match self.lines.get(self.at) {
            Some(n) if n.indent > indent => Err(yaml_err(
                self.file,
                n.no,
                "indented under a key that already has a value (multi-line scalars are not read)",
            )),
            _ => Ok(()),
        }
    }
}

fn yaml_err(file: &str, line: usize, message: &str) -> TrustError {
    TrustError::Table {
        path: file.to_string(),
        line,
        message: format!("YAML: {message}"),
    }
}

/// `key: rest` or `key:` split at the first `: ` (or a final `:`) outside quotes.
fn key_split(text: &str) -> Option<(&str, &str)> {
    let bytes = text.as_bytes();
    let mut quote = None;
    for (i, &b) in bytes.iter().enumerate() {
        match quote {
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None if (b == b'\'' || b == b'"') && i == 0 => quote = Some(b),
            None if b == b':' && (i + 1 == bytes.len() || bytes[i + 1] == b' ') => {
                return Some((&text[..i], text[i + 1..].trim_start_matches(' ')));
            }
            None => {}
        }
    }
    None
}

fn unquote_key(file: &str, key: &str, line: usize) -> Result<String, TrustError> {
    match scalar(file, key, line)? {
        Node::Scalar(s, _, _) if !s.is_empty() => Ok(s),
        _ => Err(yaml_err(file, line, "expected a scalar key")),
    }
}

/// A scalar value (plain, quoted, or an empty flow collection), its trailing comment removed.
fn scalar(file: &str, text: &str, line: usize) -> Result<Node, TrustError> {
    let unsupported = |what: &str| {
        yaml_err(
            file,
            line,
            &format!("{what} is not read; expected a plain or quoted scalar"),
        )
    };
    let first = text.chars().next().unwrap_or(' ');
    match first {
        '\'' => {
            let mut out = String::new();
            let mut chars = text[1..].char_indices().peekable();
            while let Some((i, c)) = chars.next() {
                if c == '\'' {
                    if chars.peek().map(|p| p.1) == Some('\'') {
                        chars.next();
                        out.push('\'');
                        continue;
                    }
                    return trailing(file, &text[i + 2..], line)
                        .map(|_| Node::Scalar(out, true, line));
                }
                out.push(c);
            }
            Err(yaml_err(
                file,
                line,
                "a single-quoted scalar is not closed on its line",
            ))
        }
        '"' => {
            let mut out = String::new();
            let mut chars = text[1..].char_indices();
            while let Some((i, c)) = chars.next() {
                match c {
                    '"' => {
                        return trailing(file, &text[i + 2..], line)
                            .map(|_| Node::Scalar(out, true, line));
                    }
                    '\\' => match chars.next().map(|p| p.1) {
                        Some('"') => out.push('"'),
                        Some('\\') => out.push('\\'),
                        Some('/') => out.push('/'),
                        Some('n') => out.push('\n'),
                        Some('t') => out.push('\t'),
                        Some(e) => {
                            return Err(unsupported(&format!("the escape `\\{e}`")));
                        }
                        None => break,
                    },
                    c => out.push(c),
                }
            }
            Err(yaml_err(
                file,
                line,
                "a double-quoted scalar is not closed on its line",
            ))
        }
        '{' | '[' => {
            let t = strip_comment(text);
            if t == "{}" || t == "[]" {
                Ok(Node::Empty(line))
            } else {
                Err(unsupported("a flow collection with content"))
            }
        }
        '&' => Err(unsupported("an anchor")),
        '*' => Err(unsupported("an alias")),
        '!' => Err(unsupported("a tag")),
        '|' | '>' => Err(unsupported("a block scalar")),
        '@' | '`' | '%' => Err(unsupported(&format!("a scalar starting with `{first}`"))),
        _ => {
            let t = strip_comment(text);
            if t == "~" || t == "null" {
                Ok(Node::Empty(line))
            } else {
                Ok(Node::Scalar(t.to_string(), false, line))
            }
        }
    }
}

/// The text before a ` #` comment.
fn strip_comment(text: &str) -> &str {
    match text.find(" #") {
        Some(i) => text[..i].trim_end(),
        None => text.trim_end(),
    }
}

/// What follows a closing quote: nothing or a comment.
fn trailing(file: &str, rest: &str, line: usize) -> Result<(), TrustError> {
    let r = rest.trim();
    if r.is_empty() || r.starts_with('#') {
        Ok(())
    } else {
        Err(yaml_err(
            file,
            line,
            &format!("`{r}` after a quoted scalar; expected the end of the line"),
        ))
    }
}

// ---------------------------------------------------------------------------------------------
// AI Hub perf.yaml

/// The scheme of an AI Hub precision run on `unit` (see [`AIHUB_PRECISIONS`]).
pub fn aihub_quant(precision: &str, unit: &str) -> String {
    let p = precision.trim().to_ascii_lowercase();
    let base = p.split("_mixed").next().unwrap_or(&p);
    if base == "float" && unit == "cpu" {
        return "f32".into();
    }
    AIHUB_PRECISIONS
        .iter()
        .find(|(k, _)| *k == base)
        .map(|(_, s)| s.to_string())
        .unwrap_or(p)
}

/// One runtime-path block: (precision, device name, path, its node, the path key's line).
struct Run<'a> {
    precision: Option<&'a str>,
    device: String,
    path: &'a str,
    node: &'a Node,
    line: usize,
}

fn aihub(text: &str, out: &Out) -> Result<Rows, TrustError> {
    let root = Yaml::parse(text, out.file)?;
    let runs = aihub_runs(&root, out)?;
    let mut rows = Rows {
        format: Format::AiHubPerfYaml,
        rows: Vec::new(),
        skipped: Vec::new(),
    };
    for run in runs {
        match aihub_row(&run, out)? {
            Outcome::Kept(row) => rows.rows.push(row),
            Outcome::Skipped(reason) => rows.skipped.push(Skipped {
                line: run.line,
                reason,
            }),
        }
    }
    Ok(rows)
}

/// What becomes of one runtime-path block of an AI Hub file.
enum Outcome {
    /// It measures the context's device and runtime: its row.
    Kept(Row),
    /// It measures something else: why it is skipped.
    Skipped(String),
}

/// The components an AI Hub file measures, with the line of each first mention: `--model`
/// names one network, so a file may measure one component.
#[derive(Default)]
struct Components(Vec<(String, usize)>);

impl Components {
    /// Notes component `name` (mentioned at `line`); an error once a second one is named.
    fn note(&mut self, name: &str, line: usize, out: &Out) -> Result<(), TrustError> {
        let components = &mut self.0;
        if !components.iter().any(|(c, _)| c == name) {
            components.push((name.to_string(), line));
        }
        if components.len() > 1 {
            return Err(out.bad(
                line,
                format!(
                    "the file measures more than one component ({}); --model names one network: \
                     keep one component's entries",
                    components
                        .iter()
                        .map(|(c, l)| format!("`{c}` line {l}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        Ok(())
    }
}

/// Every runtime-path block of an AI Hub file, in file order, in either layout.
fn aihub_runs<'a>(root: &'a Node, out: &Out) -> Result<Vec<Run<'a>>, TrustError> {
    if let Some(models) = root.get("models") {
        aihub_runs_by_model(models, out)
    } else if let Some(precisions) = root.get("precisions") {
        aihub_runs_by_precision(precisions, out)
    } else {
        Err(out.bad(
            1,
            "expected `models:` (AI Hub before v0.28) or `precisions:` (from v0.28) at the top"
                .into(),
        ))
    }
}

/// The runs of a file before v0.28: models → list of { name, performance_metrics: list of
/// runs }. A list of models, or (in the LLM files) one model.
fn aihub_runs_by_model<'a>(models: &'a Node, out: &Out) -> Result<Vec<Run<'a>>, TrustError> {
    let bad = |line: usize, m: String| out.bad(line, m);
    let map_of = |n: &Node, what: &str, line: usize| -> Result<(), TrustError> {
        match n {
            Node::Map(_) => Ok(()),
            _ => Err(bad(line, format!("`{what}`: expected a mapping"))),
        }
    };
    let mut runs: Vec<Run> = Vec::new();
    let mut components = Components::default();
    let items = match models {
        Node::Seq(items) => items.as_slice(),
        Node::Map(_) => std::slice::from_ref(models),
        _ => {
            return Err(bad(
                Node::line(models),
                "`models`: expected a list of models or one model".into(),
            ));
        }
    };
    for m in items {
        map_of(m, "models", Node::line(m))?;
        let name = match m.get("name") {
            Some(Node::Scalar(s, _, l)) => (s.clone(), *l),
            _ => return Err(bad(Node::line(m), "a model: missing `name`".into())),
        };
        components.note(&name.0, name.1, out)?;
        let Some(perf) = m.get("performance_metrics") else {
            continue;
        };
        let perf_items = match perf {
            Node::Seq(v) => v.as_slice(),
            Node::Empty(_) => &[],
            _ => {
                return Err(bad(
                    name.1,
                    "`performance_metrics`: expected a list of runs".into(),
                ));
            }
        };
        for run in perf_items {
            map_of(run, "performance_metrics", Node::line(run))?;
            let info = run.get("reference_device_info").ok_or_else(|| {
                bad(
                    Node::line(run),
                    "a run: missing `reference_device_info` (the device it ran on)".into(),
                )
            })?;
            let device = match info.get("name") {
                Some(Node::Scalar(s, _, _)) => s.clone(),
                _ => {
                    return Err(bad(
                        Node::line(info),
                        "`reference_device_info`: missing `name`".into(),
                    ));
                }
            };
            if let Node::Map(e) = run {
                for (k, l, v) in e {
                    if k == "reference_device_info" || k == "timestamp" {
                        continue;
                    }
                    if matches!(v, Node::Map(_)) {
                        runs.push(Run {
                            precision: None,
                            device: device.clone(),
                            path: k,
                            node: v,
                            line: *l,
                        });
                    }
                }
            }
        }
    }
    Ok(runs)
}

/// The runs of a file from v0.28: precisions → precision → components → name →
/// performance_metrics → device → runtime path.
fn aihub_runs_by_precision<'a>(
    precisions: &'a Node,
    out: &Out,
) -> Result<Vec<Run<'a>>, TrustError> {
    let bad = |line: usize, m: String| out.bad(line, m);
    let mut runs: Vec<Run> = Vec::new();
    let mut components = Components::default();
    let Node::Map(precs) = precisions else {
        return Err(bad(
            Node::line(precisions),
            "`precisions`: expected a mapping".into(),
        ));
    };
    for (prec, pl, pnode) in precs {
        let Some(Node::Map(comps)) = pnode.get("components") else {
            return Err(bad(
                *pl,
                format!("precision `{prec}`: expected a mapping `components`"),
            ));
        };
        for (cname, cl, cnode) in comps {
            components.note(cname, *cl, out)?;
            let devices = match cnode.get("performance_metrics") {
                None | Some(Node::Empty(_)) => continue,
                Some(Node::Map(d)) => d,
                Some(_) => {
                    return Err(bad(
                        *cl,
                        format!("`{cname}.performance_metrics`: expected a mapping"),
                    ));
                }
            };
            for (device, dl, dnode) in devices {
                let Node::Map(paths) = dnode else {
                    return Err(bad(*dl, format!("`{device}`: expected a mapping")));
                };
                for (k, l, v) in paths {
                    runs.push(Run {
                        precision: Some(prec),
                        device: device.clone(),
                        path: k,
                        node: v,
                        line: *l,
                    });
                }
            }
        }
    }
    Ok(runs)
}

/// The row of one runtime-path block, or why it is skipped: another device, an LLM token
/// rate, a failed job, a runtime path with no shipped runtime or another runtime.
fn aihub_row(run: &Run, out: &Out) -> Result<Outcome, TrustError> {
    let bad = |line: usize, m: String| out.bad(line, m);
    let hw = AIHUB_DEVICES
        .iter()
        .find(|(d, _)| *d == run.device)
        .map(|(_, h)| *h);
    if hw != Some(out.ctx.hw) {
        return Ok(Outcome::Skipped(format!(
            "another device than `{}` (devices are matched by AIHUB_DEVICES)",
            out.ctx.hw
        )));
    }
    if run.path == "genie" || run.node.get("llm_metrics").is_some() {
        return Ok(Outcome::Skipped(format!(
            "runtime path `{}` measures LLM token rates (llm_metrics), not a forward \
                 latency",
            run.path
        )));
    }
    let field = |k: &str| run.node.get(k);
    let at = |k: &str| field(k).map(Node::line).unwrap_or(run.line);
    let text_of = |k: &str| -> Result<Option<String>, TrustError> {
        match field(k) {
            None | Some(Node::Empty(_)) => Ok(None),
            Some(Node::Scalar(s, _, _)) => Ok(Some(s.clone())),
            Some(_) => Err(bad(at(k), format!("`{}.{k}`: expected a scalar", run.path))),
        }
    };
    if let Some(status) = text_of("job_status")?
        && status != "Passed"
    {
        return Ok(Outcome::Skipped(format!("job_status `{status}`")));
    }
    let (key, scale) = if run.precision.is_some() {
        ("inference_time_milliseconds", 1.0)
    } else {
        // Microseconds before v0.28.
        ("inference_time", 1e-3)
    };
    let raw = text_of(key)?.ok_or_else(|| {
        bad(
            run.line,
            format!("runtime path `{}`: missing `{key}`", run.path),
        )
    })?;
    let ms = raw
        .parse::<f64>()
        .ok()
        .map(|v| v * scale)
        .filter(|v| v.is_finite() && *v > 0.0)
        .ok_or_else(|| {
            bad(
                at(key),
                format!(
                    "`{}.{key}`: expected a finite positive number, found `{raw}`",
                    run.path
                ),
            )
        })?;
    let unit = text_of("primary_compute_unit")?
        .ok_or_else(|| {
            bad(
                run.line,
                format!(
                    "runtime path `{}`: missing `primary_compute_unit`",
                    run.path
                ),
            )
        })?
        .to_ascii_lowercase();
    if !["npu", "gpu", "cpu"].contains(&unit.as_str()) {
        return Err(bad(
            at("primary_compute_unit"),
            format!(
                "`{}.primary_compute_unit`: expected NPU, GPU or CPU, found `{unit}`",
                run.path
            ),
        ));
    }
    let Some(runtime) = AIHUB_RUNTIMES
        .iter()
        .find(|(p, u, _)| *p == run.path && *u == unit)
        .map(|(_, _, r)| *r)
    else {
        return Ok(Outcome::Skipped(format!(
            "runtime path `{}` on the {unit}: no shipped runtime",
            run.path
        )));
    };
    if runtime != out.ctx.runtime {
        return Ok(Outcome::Skipped(format!(
            "runtime path `{}` is `{runtime}`, not `{}`",
            run.path, out.ctx.runtime
        )));
    }
    let precision = match run.precision {
        Some(p) => p.to_string(),
        None => text_of("precision")?.ok_or_else(|| {
            bad(
                run.line,
                format!("runtime path `{}`: missing `precision`", run.path),
            )
        })?,
    };
    let mut row = out.row(run.line, "network", "latency_ms", ms);
    row.device = run.device.clone();
    row.quant = aihub_quant(&precision, &unit);
    row.unit_kind = unit;
    Ok(Outcome::Kept(row))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gguf_file_types() {
        assert_eq!(gguf_quant("llama 7B Q4_0").unwrap(), "q4_0");
        assert_eq!(gguf_quant("llama 7B Q4_K - Medium").unwrap(), "q4_k_m");
        assert_eq!(gguf_quant("llama 1B all F32").unwrap(), "f32");
        assert_eq!(gguf_quant("llama 7B F16 (guessed)").unwrap(), "f16");
        assert_eq!(
            gguf_quant("llama 7B IQ2_XS - 2.3125 bpw").unwrap(),
            "iq2_xs - 2.3125 bpw"
        );
        assert_eq!(gguf_quant("llama 7B"), None);
    }

    #[test]
    fn yaml_subset() {
        let t = "a:\n- x\n- 'y''s'\nb:\n  c: 1 # note\n  d: {}\n  e:\n  - f: 2\n    g: \"h\"\n";
        let n = Yaml::parse(t, "t.yaml").unwrap();
        assert_eq!(
            n.get("a"),
            Some(&Node::Seq(vec![
                Node::Scalar("x".into(), false, 2),
                Node::Scalar("y's".into(), true, 3)
            ]))
        );
        let b = n.get("b").unwrap();
        assert_eq!(b.get("c"), Some(&Node::Scalar("1".into(), false, 5)));
        assert_eq!(b.get("d"), Some(&Node::Empty(6)));
        let Some(Node::Seq(e)) = b.get("e") else {
            panic!("{b:?}")
        };
        assert_eq!(e[0].get("g"), Some(&Node::Scalar("h".into(), true, 9)));
        for (bad, want) in [
            ("a: &x 1\n", "t.yaml:1: YAML: an anchor"),
            ("a: 1\nb: |\n  x\n", "t.yaml:2: YAML: a block scalar"),
            ("a: 1\na: 2\n", "t.yaml:2: YAML: key `a` repeats line 1"),
            ("a:\n    b: 1\n  c: 2\n", "t.yaml:3: YAML: the indentation"),
            ("a: 1\n  b: 2\n", "t.yaml:2: YAML: indented under a key"),
            ("a: [1, 2]\n", "a flow collection"),
            ("a:\n\tb: 1\n", "t.yaml:2: YAML: a tab"),
        ] {
            let e = Yaml::parse(bad, "t.yaml").unwrap_err().to_string();
            assert!(e.contains(want), "{bad:?}: {e}");
        }
    }

    #[test]
    fn json_element_lines() {
        let t = "[\n  {\n    \"a\": \"]{\\\"\",\n    \"b\": [1, 2]\n  },\n  {\n  }\n]\n";
        assert_eq!(element_lines(t), vec![2, 6]);
    }
}
