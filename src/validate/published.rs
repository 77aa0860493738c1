//! `validate --published FILE`: compares predictions with a table of published measurements
//! (columns `device, model, quant, framework, metric, value`, optionally `config`, `id`,
//! `source`).
//!
//! Matching rules, so that a row is compared only with what archscope really ships:
//! * device: the row's device text must contain, as consecutive words, the product name that
//!   starts a shipped device's description (`Apple M2 Ultra`, `Google Pixel 8`) or its short
//!   name, not followed by a variant word ([`VARIANT_WORDS`]: a "Pixel 8 Pro" is not a Pixel 8);
//! * model: the row's model text must contain a shipped config's short name or its Hugging Face
//!   name ([`MODEL_ALIASES`]) as consecutive words;
//! * quantization: `F16`/`FP16`, `F32`, `Q8_0`, `Q4_0` and MLC's `q4f16_0`/`q4f16_1` (int4 in
//!   groups of 32 with an f16 scale, as `Q4_0`); other formats (k-quants, 2/3-bit) are skipped;
//! * metric: `prefill_tokens_per_s` (prompt from `ppN` in `config`, else 512) and
//!   `decode_tokens_per_s` (`tgN` in `config` generates N tokens from an empty cache; decode time
//!   is affine in the context, so their mean time is the time at context (N+1)/2; else 128).
//! * unit: the framework text picks the unit kind (Metal/GPU/OpenCL/CUDA → gpu, NPU/NPE/ANE →
//!   npu, CPU → cpu), else the device's default unit.
//!
//! Rows that do not match are skipped with a notice saying why.

use super::cases::{Kind, ggml_storage};
use super::{Outcome, ValidateError};
use crate::cost::Mode;
use crate::hardware::{Hardware, UnitKind, known_devices};
use crate::measure::MeasureError;
use crate::measure::stats::Summary;
use crate::score::{ScoreRequest, score_llm};
use crate::workload::{DType, QuantScheme, known_models, load_llm};
use std::collections::HashMap;
use std::path::Path;

/// Words that make a product a different variant of a shipped device when they follow its
/// name ("Pixel 8 Pro", "iPhone 15 Pro Max", "M2 Max" vs "M2").
pub const VARIANT_WORDS: &[&str] = &["pro", "max", "ultra", "plus", "mini", "lite", "fe", "xl"];

/// Hugging Face names of the shipped model configs (see `workloads/SOURCES.md`).
pub const MODEL_ALIASES: &[(&str, &str)] = &[
    ("llama-1b", "Llama-3.2-1B"),
    ("llama-3b", "Llama-3.2-3B"),
    ("llama-2-7b", "Llama-2-7b"),
    ("llama-3-8b", "Meta-Llama-3-8B"),
    ("tinyllama-1.1b", "TinyLlama-1.1B"),
    ("qwen1.5-1.8b", "Qwen1.5-1.8B"),
    ("mobilellm-125m", "MobileLLM-125M"),
    ("mobilellm-350m", "MobileLLM-350M"),
    ("gemma-2b", "gemma-2b"),
    ("phi-3-mini", "Phi-3-mini"),
    ("mixtral-8x7b", "Mixtral-8x7B"),
];

/// Default prompt of a prefill row without `ppN` (llama-bench's default `-p 512`).
pub const DEFAULT_PROMPT: u64 = 512;
/// Default number of generated tokens of a decode row without `tgN` (llama-bench's `-n 128`).
pub const DEFAULT_GENERATED: u64 = 128;

fn words(s: &str) -> Vec<String> {
    s.to_lowercase()
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// Position after the first occurrence of `needle` as consecutive words of `hay`.
fn find_words(hay: &[String], needle: &[String]) -> Option<usize> {
    if needle.is_empty() || needle.len() > hay.len() {
        return None;
    }
    (0..=hay.len() - needle.len())
        .find(|&i| hay[i..i + needle.len()] == *needle)
        .map(|i| i + needle.len())
}

fn product_name(description: &str) -> &str {
    description
        .split([',', ':', '('])
        .next()
        .unwrap_or(description)
        .trim()
}

/// The shipped device a published device text names, if any.
pub fn match_device(text: &str, devices: &[(String, String)]) -> Option<String> {
    let hay = words(text);
    for (name, description) in devices {
        for candidate in [product_name(description), name.as_str()] {
            let needle = words(candidate);
            if let Some(end) = find_words(&hay, &needle) {
                let variant = hay
                    .get(end)
                    .is_some_and(|w| VARIANT_WORDS.contains(&w.as_str()));
                if !variant {
                    return Some(name.clone());
                }
            }
        }
    }
    None
}

/// The shipped model a published model text names, if any (longest match wins).
pub fn match_model(text: &str) -> Option<String> {
    let hay = words(text);
    let mut best: Option<(usize, String)> = None;
    for short in known_models() {
        let mut names = vec![short.to_string()];
        names.extend(
            MODEL_ALIASES
                .iter()
                .filter(|(s, _)| *s == short)
                .map(|(_, hf)| hf.to_string()),
        );
        for n in names {
            let needle = words(&n);
            if find_words(&hay, &needle).is_some()
                && best.as_ref().is_none_or(|b| needle.len() > b.0)
            {
                best = Some((needle.len(), short.to_string()));
            }
        }
    }
    best.map(|b| b.1)
}

/// The scheme of a published quantization name; `int_compute` when the unit computes
/// quantized matmuls in int8 (CPU llama.cpp quantizes activations to q8).
pub fn match_quant(text: &str, int_compute: bool) -> Option<QuantScheme> {
    let first = text.split_whitespace().next()?.to_ascii_lowercase();
    let block = |dt: DType| QuantScheme {
        name: first.clone(),
        weights: ggml_storage(dt),
        linear_compute: if int_compute { DType::I8 } else { DType::F16 },
        ..QuantScheme::float(DType::F16)
    };
    match first.as_str() {
        "f16" | "fp16" => Some(QuantScheme::float(DType::F16)),
        "f32" | "fp32" => Some(QuantScheme::float(DType::F32)),
        "bf16" => Some(QuantScheme::float(DType::Bf16)),
        "q8_0" => Some(block(DType::I8)),
        "q4_0" | "q4f16_0" | "q4f16_1" => Some(block(DType::I4)),
        _ => None,
    }
}

fn number_after(config: &str, prefix: &str) -> Option<u64> {
    words(config)
        .iter()
        .find_map(|w| w.strip_prefix(prefix).and_then(|n| n.parse().ok()))
}

fn unit_for(hw: &Hardware, framework: &str) -> usize {
    let f = framework.to_lowercase();
    let want = if ["metal", "gpu", "opencl", "cuda", "vulkan", "mps"]
        .iter()
        .any(|k| f.contains(k))
    {
        Some(UnitKind::Gpu)
    } else if ["npu", "npe", "ane", "neural"]
        .iter()
        .any(|k| f.contains(k))
    {
        Some(UnitKind::Npu)
    } else if f.contains("cpu") {
        Some(UnitKind::Cpu)
    } else {
        None
    };
    match want {
        Some(k) if hw.units[hw.default_unit].kind == k => hw.default_unit,
        Some(k) => hw
            .units
            .iter()
            .position(|u| u.kind == k)
            .unwrap_or(hw.default_unit),
        None => hw.default_unit,
    }
}

/// Result of comparing a published table.
#[derive(Clone, Debug)]
pub struct Comparison {
    /// Rows compared, as outcomes (time per token or per prompt, from the published rate).
    pub outcomes: Vec<Outcome>,
    /// One line per skipped row.
    pub skipped: Vec<String>,
}

/// Reads `path` and predicts every row archscope can model.
pub fn compare(path: &Path) -> Result<Comparison, ValidateError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| ValidateError::File {
        path: file.clone(),
        message: e.to_string(),
    })?;
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers = rdr
        .headers()
        .map_err(|e| ValidateError::Table {
            path: file.clone(),
            line: 1,
            message: e.to_string(),
        })?
        .clone();
    let col = |name: &str| headers.iter().position(|h| h.trim() == name);
    let idx = required_columns(&col, &file)?;
    let (config_i, id_i) = (col("config"), col("id"));
    let devices: Vec<(String, String)> = known_devices()
        .into_iter()
        .filter_map(|d| {
            Hardware::load(d)
                .ok()
                .map(|h| (d.to_string(), h.description))
        })
        .collect();
    let mut loaded: HashMap<String, Hardware> = HashMap::new();
    let mut outcomes = Vec::new();
    let mut skipped = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let line = i + 2;
        let rec = rec.map_err(|e| ValidateError::Table {
            path: file.clone(),
            line,
            message: e.to_string(),
        })?;
        let get = |n: &str| rec.get(idx[n]).unwrap_or("").trim().to_string();
        let (device, model, quant, framework, metric) = (
            get("device"),
            get("model"),
            get("quant"),
            get("framework"),
            get("metric"),
        );
        let config = config_i.and_then(|c| rec.get(c)).unwrap_or("").to_string();
        let id = id_i.and_then(|c| rec.get(c)).unwrap_or("").to_string();
        let skip = |why: String| format!("{file}:{line} ({id}): skipped: {why}");
        let kind = match metric.as_str() {
            "prefill_tokens_per_s" => Kind::LlmPrefill,
            "decode_tokens_per_s" => Kind::LlmDecode,
            _ => {
                skipped.push(skip(format!(
                    "metric `{metric}` is not a token rate archscope predicts"
                )));
                continue;
            }
        };
        let bad_value = |why: &str| ValidateError::Table {
            path: file.clone(),
            line,
            message: format!(
                "column {} (`value`): expected a finite positive token rate{why}, found `{}`",
                idx["value"] + 1,
                get("value")
            ),
        };
        let value: f64 = match get("value").parse::<f64>() {
            Ok(v) if v.is_finite() && v > 0.0 => v,
            _ => return Err(bad_value("")),
        };
        let Some(dev) = match_device(&device, &devices) else {
            skipped.push(skip(format!("device `{device}` is not in hardware-db")));
            continue;
        };
        let Some(short) = match_model(&model) else {
            skipped.push(skip(format!("model `{model}` is not a shipped config")));
            continue;
        };
        if !loaded.contains_key(&dev) {
            let hw = Hardware::load(&dev).map_err(MeasureError::from)?;
            loaded.insert(dev.clone(), hw);
        }
        let hw = &loaded[&dev];
        let unit = unit_for(hw, &framework);
        let int_compute = hw.units[unit].kind == UnitKind::Cpu;
        let Some(q) = match_quant(&quant, int_compute) else {
            skipped.push(skip(format!("quantization `{quant}` is not modelled")));
            continue;
        };
        let cfg = load_llm(&short).map_err(|e| ValidateError::Empty(e.to_string()))?;
        let (req, tokens) = step_request(kind, &config, &hw.units[unit].name);
        let score = match score_llm(hw, &cfg, &q, &req) {
            Ok(s) => s,
            Err(e) => {
                skipped.push(skip(format!("cannot predict: {e}")));
                continue;
            }
        };
        let predicted_s = score.phases[0].eval.total.latency_s;
        let measured = tokens / value;
        if !(measured.is_finite() && measured > 0.0) {
            return Err(bad_value(&format!(
                " whose time for {tokens} tokens is a finite positive number"
            )));
        }
        outcomes.push(Outcome {
            kind,
            name: format!(
                "{dev}/{} {short} {} {} ({id})",
                hw.units[unit].name, q.name, framework
            ),
            predicted_s,
            measured: Summary {
                median: measured,
                min: measured,
                max: measured,
                n: 1,
            },
            bound: crate::score::bound_name(hw, score.phases[0].eval.total.bound()),
            flops: score.phases[0].eval.total.flops,
            bytes: score.phases[0].eval.total.total_bytes(),
            load: String::new(),
            repeat: None,
        });
    }
    Ok(Comparison { outcomes, skipped })
}

/// The index of each required column (`col` finds a column by name); an error naming the
/// columns when one is missing.
fn required_columns(
    col: &dyn Fn(&str) -> Option<usize>,
    file: &str,
) -> Result<HashMap<&'static str, usize>, ValidateError> {
    let need = ["device", "model", "quant", "framework", "metric", "value"];
    let mut idx = HashMap::new();
    for n in need {
        let i = col(n).ok_or_else(|| ValidateError::Table {
            path: file.to_string(),
            line: 1,
            message: format!(
                "missing column `{n}`; expected columns {} (and optionally id, config, unit, source)",
                need.join(", ")
            ),
        })?;
        idx.insert(n, i);
    }
    Ok(idx)
}

/// The score request of one row's step on unit `unit` (a prompt of `pp` tokens from the
/// row's config for prefill; for decode, the mean context of a `tg`-token generation), with
/// the tokens it produces.
fn step_request(kind: Kind, config: &str, unit: &str) -> (ScoreRequest, f64) {
    let (prompt, context, tokens) = match kind {
        Kind::LlmPrefill => {
            let p = number_after(config, "pp").unwrap_or(DEFAULT_PROMPT);
            (p, 1, p as f64)
        }
        _ => {
            let n = number_after(config, "tg").unwrap_or(DEFAULT_GENERATED);
            (1, n.div_ceil(2).max(1), 1.0)
        }
    };
    let req = ScoreRequest {
        batch: 1,
        prompt,
        context,
        prefill: kind == Kind::LlmPrefill,
        decode: kind == Kind::LlmDecode,
        unit: Some(unit.to_string()),
        mode: Mode::Calibrated,
        ..ScoreRequest::default()
    };
    (req, tokens)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn devs() -> Vec<(String, String)> {
        vec![
            ("m2-ultra".into(), "Apple M2 Ultra: 16 P + 8 E cores".into()),
            ("pixel8".into(), "Google Pixel 8, Tensor G3: ...".into()),
            (
                "iphone15pro".into(),
                "Apple iPhone 15 Pro, A17 Pro: ...".into(),
            ),
        ]
    }

    #[test]
    fn devices_match_on_product_names_not_variants() {
        let d = devs();
        assert_eq!(
            match_device("Apple M2 Ultra, 76-core GPU (800 GB/s)", &d).as_deref(),
            Some("m2-ultra")
        );
        assert_eq!(
            match_device("Mac Studio, Apple M2 Ultra, 192 GB", &d).as_deref(),
            Some("m2-ultra")
        );
        assert_eq!(
            match_device("Apple iPhone 15 Pro (A17 Pro)", &d).as_deref(),
            Some("iphone15pro")
        );
        assert_eq!(match_device("Google Pixel 8 Pro (Tensor G3)", &d), None);
        assert_eq!(match_device("Apple M1 Max, 32-core GPU", &d), None);
    }

    #[test]
    fn models_match_short_and_hf_names() {
        assert_eq!(match_model("LLaMA-2 7B").as_deref(), Some("llama-2-7b"));
        assert_eq!(
            match_model("Llama-2-7b-chat").as_deref(),
            Some("llama-2-7b")
        );
        assert_eq!(
            match_model("Llama-3.2-3B-Instruct").as_deref(),
            Some("llama-3b")
        );
        assert_eq!(
            match_model("TinyLlama-1.1B").as_deref(),
            Some("tinyllama-1.1b")
        );
        assert_eq!(
            match_model("MobileLLM-125M (30 layers)").as_deref(),
            Some("mobilellm-125m")
        );
        assert_eq!(match_model("MobileLLM-LS-125M (layer-shared)"), None);
        assert_eq!(match_model("CodeLlama-7B-Instruct"), None);
    }

    #[test]
    fn quant_names() {
        let q = match_quant("Q4_0 (3.56 GiB)", false).unwrap();
        assert_eq!(q.weights.bits_per_elem(4096), 4.5);
        assert_eq!(q.linear_compute, DType::F16);
        assert_eq!(match_quant("Q8_0", true).unwrap().linear_compute, DType::I8);
        assert_eq!(match_quant("F16 (12.55 GiB)", false).unwrap().name, "fp16");
        assert!(match_quant("Q4_K_M (636 MiB)", false).is_none());
        assert!(match_quant("2-bit", false).is_none());
    }

    #[test]
    fn llama_bench_configs() {
        assert_eq!(number_after("all layers on GPU; pp512", "pp"), Some(512));
        assert_eq!(number_after("16 threads; tg128", "tg"), Some(128));
        assert_eq!(number_after("approximate", "tg"), None);
    }
}
