//! The per-family reading of a Hugging Face `config.json`: which `model_type` maps to which
//! [`Family`], which layers of a family use its sliding window, and how a multimodal `gemma3`
//! config yields its text model (`text_config`, completed with transformers' defaults).

use super::{Family, HfConfig, LocalLayers};
use serde::Deserialize;

/// Every `model_type` archscope builds, as an unknown one's error lists them.
pub const SUPPORTED_MODEL_TYPES: &[&str] = &[
    "llama",
    "mobilellm",
    "qwen2",
    "qwen3",
    "qwen3_moe",
    "mistral",
    "mixtral",
    "gemma",
    "gemma2",
    "gemma3",
    "gemma3_text",
    "phi3",
    "deepseek_v2",
    "deepseek_v3",
];

/// transformers' `Qwen2Config` default of `max_window_layers` (the first layer that uses the
/// sliding window when `use_sliding_window` is set), used when a config leaves it out.
const QWEN2_DEFAULT_MAX_WINDOW_LAYERS: u64 = 28;

/// transformers' `Gemma3TextConfig` default of `sliding_window_pattern`: one global layer in
/// six.
const GEMMA3_DEFAULT_PATTERN: u64 = 6;

/// Gemma 2 alternates local and global layers (`Gemma2DecoderLayer`: `is_sliding = not
/// bool(layer_idx % 2)`), one global layer in two.
const GEMMA2_PATTERN: u64 = 2;

/// The family of a `model_type` (`gemma3` is read as `gemma3_text`), or `None` when it is not
/// one of [`SUPPORTED_MODEL_TYPES`].
pub fn family_of(model_type: &str) -> Option<Family> {
    Some(match model_type {
        "llama" | "mobilellm" => Family::Llama,
        "qwen2" => Family::Qwen2,
        "qwen3" => Family::Qwen3,
        "qwen3_moe" => Family::Qwen3Moe,
        "mistral" => Family::Mistral,
        "mixtral" => Family::Mixtral,
        "gemma" => Family::Gemma,
        "gemma2" => Family::Gemma2,
        "gemma3" | "gemma3_text" => Family::Gemma3,
        "phi3" => Family::Phi3,
        "deepseek_v2" | "deepseek_v3" => Family::DeepSeek,
        _ => return None,
    })
}

/// The sliding window of a family and the layers that use it, as the family's transformers
/// code applies it:
/// * mistral, mixtral, phi3: every layer, when `sliding_window` is set (Phi-3-mini-4k: 2047;
///   Phi-3.5-mini: 262,144, above its context, so it never binds);
/// * qwen2, qwen3, qwen3_moe: only with `use_sliding_window` (false on every published
///   checkpoint), from layer `max_window_layers` on;
/// * gemma2: layers 0, 2, 4, … local, 1, 3, 5, … global;
/// * gemma3: layer `l` global when `l + 1` is a multiple of `sliding_window_pattern`;
/// * llama, gemma, deepseek: none.
///
/// The error is the field at fault and what is wrong with it.
pub(super) fn sliding_window(
    family: Family,
    raw: &HfConfig,
) -> Result<(Option<u64>, LocalLayers), (&'static str, String)> {
    if raw.sliding_window == Some(0) {
        return Err((
            "sliding_window",
            "must be positive (or null for none)".into(),
        ));
    }
    let w = raw.sliding_window;
    Ok(match family {
        Family::Mistral | Family::Mixtral | Family::Phi3 => (w, LocalLayers::All),
        Family::Qwen2 | Family::Qwen3 | Family::Qwen3Moe => {
            if raw.use_sliding_window == Some(true) {
                let first = raw
                    .max_window_layers
                    .unwrap_or(QWEN2_DEFAULT_MAX_WINDOW_LAYERS);
                (w, LocalLayers::From(first))
            } else {
                (None, LocalLayers::All)
            }
        }
        Family::Gemma2 => (w, LocalLayers::GlobalEvery(GEMMA2_PATTERN)),
        Family::Gemma3 => {
            let p = raw.sliding_window_pattern.unwrap_or(GEMMA3_DEFAULT_PATTERN);
            if p == 0 {
                return Err(("sliding_window_pattern", "must be positive".into()));
            }
            (w, LocalLayers::GlobalEvery(p))
        }
        Family::Llama | Family::Gemma | Family::DeepSeek => (None, LocalLayers::All),
    })
}

/// Only the `model_type` of a config, to tell a `gemma3` wrapper from a text config.
#[derive(Deserialize)]
struct Probe {
    #[serde(default)]
    model_type: Option<String>,
}

/// Whether the config text is a multimodal `gemma3` config (its text model in `text_config`).
/// Text that does not parse is not: the ordinary reading then reports where it fails.
pub(super) fn is_gemma3_wrapper(text: &str) -> bool {
    serde_json::from_str::<Probe>(text)
        .ok()
        .and_then(|p| p.model_type)
        .is_some_and(|t| t == "gemma3")
}

/// transformers' `Gemma3TextConfig` defaults (`models/gemma3/configuration_gemma3.py`) for the
/// fields archscope reads. A `gemma3` checkpoint's `text_config` lists only what differs from
/// them: google/gemma-3-4b-pt gives hidden_size, intermediate_size, num_hidden_layers,
/// rope_scaling and sliding_window, and takes its heads, head_dim and vocabulary from here.
fn gemma3_text_defaults() -> serde_json::Map<String, serde_json::Value> {
    let v = serde_json::json!({
        "model_type": "gemma3_text",
        "vocab_size": 262_208,
        "hidden_size": 2304,
        "intermediate_size": 9216,
        "num_hidden_layers": 26,
        "num_attention_heads": 8,
        "num_key_value_heads": 4,
        "head_dim": 256,
        "hidden_activation": "gelu_pytorch_tanh",
        "max_position_embeddings": 131_072,
        "sliding_window": 4096,
        "sliding_window_pattern": 6,
        "tie_word_embeddings": true,
        "attention_bias": false
    });
    match v {
        serde_json::Value::Object(m) => m,
        _ => serde_json::Map::new(),
    }
}

/// The text model of a multimodal `gemma3` config `v`: its `text_config` over
/// [`gemma3_text_defaults`], as `Gemma3ForConditionalGeneration` builds its language model. The
/// error says what is wrong with `text_config`.
pub(super) fn gemma3_text_config(v: &serde_json::Value) -> Result<HfConfig, String> {
    let Some(serde_json::Value::Object(tc)) = v.get("text_config") else {
        return Err("a gemma3 config needs a text_config object (the text model's config)".into());
    };
    let mut merged = gemma3_text_defaults();
    for (k, val) in tc {
        merged.insert(k.clone(), val.clone());
    }
    merged.insert("model_type".into(), "gemma3_text".into());
    HfConfig::deserialize(serde_json::Value::Object(merged)).map_err(|e| e.to_string())
}
