//! Workloads: what runs. A graph of ops and tensors ([`Graph`]), data types and quantization
//! ([`dtype`], [`quant`]), and builders for real models: LLMs ([`llm`]) and vision networks and
//! transformer encoders ([`vision`]), and ONNX import ([`onnx`]). Their errors are in [`error`].
//!
//! Models are named by a short name of a shipped LLM config (`llama-1b`, see [`known_models`]),
//! a path to any Hugging Face `config.json`, a path to a llama.cpp `.gguf` file (its header,
//! see [`gguf`]), a Hugging Face model id found in the local cache (`Qwen/Qwen2.5-1.5B`, see
//! [`hf_cache`]), a built-in network with optional parameters
//! (`mobilenetv2?width=0.75&res=160`, see [`vision::known`]) or a path to an `.onnx` file
//! (optionally with symbolic dimensions, `bert.onnx?sequence=128`); [`load_model`] resolves all
//! of them.

pub mod catalog;
pub mod dtype;
pub mod error;
pub mod ggml;
pub mod gguf;
pub mod graph;
pub mod hf_cache;
pub mod llm;
#[cfg(feature = "onnx")]
pub mod onnx;
pub mod quant;
mod sample;
pub mod vision;

pub use dtype::{DType, DTypeTable, QuantGroup, Storage};
pub use error::{ModelError, OnnxError};
pub use ggml::{GgmlType, GgufMix};
pub use graph::{
    Access, AttnPart, AttnShape, Conv2d, EltOp, Engine, Graph, GraphError, MoveKind, NormKind, Op,
    OpId, OpKind, PoolKind, Role, Tensor, TensorId,
};
pub use llm::{Family, HfConfig, LlmConfig, Phase};
#[cfg(feature = "onnx")]
pub use onnx::OnnxModel;
pub use quant::{QuantError, QuantScheme};
pub use sample::Sample;
pub use vision::VisionModel;

use std::path::Path;

/// Short names of the shipped model configs (file stems in `workloads/`).
pub fn known_models() -> Vec<&'static str> {
    crate::embedded::WORKLOADS
        .iter()
        .map(|(f, _)| f.trim_end_matches(".json"))
        .collect()
}

/// Resolves `--model`: a path to a `.gguf` file, an existing path to a `config.json`, a short
/// name of a shipped config, or a Hugging Face model id in the local cache, each optionally
/// followed by LLM parameters `?key=value&...`. The one parameter is `mla`, how multi-head
/// latent attention is priced: `deepseek-v3?mla=naive` or `?mla=absorbed` (the default; see
/// [`llm::MlaMode`]).
pub fn load_llm(name: &str) -> Result<LlmConfig, ModelError> {
    let path = Path::new(name);
    if gguf::is_gguf(name) {
        return gguf::load(path);
    }
    if path.is_file() {
        return LlmConfig::from_file(path);
    }
    if let Some((base, query)) = name.split_once('?') {
        let mode = llm_params(query).map_err(|message| ModelError::Spec {
            name: name.to_string(),
            message,
        })?;
        let m = load_llm(base).map_err(|e| match e {
            ModelError::NotFound { known, .. } => ModelError::NotFound {
                name: name.to_string(),
                known,
            },
            e => e,
        })?;
        return Ok(match mode {
            Some(mode) => m.with_mla_mode(mode),
            None => m,
        });
    }
    let file = format!("{}.json", name.trim_end_matches(".json"));
    match crate::embedded::WORKLOADS.iter().find(|(f, _)| *f == file) {
        Some((f, text)) => LlmConfig::from_json(text, &format!("workloads/{f}"), name),
        None if path.is_dir() => Err(ModelError::Directory {
            path: name.to_string(),
        }),
        None if hf_cache::is_model_id(name) => {
            let (file, stem, text) = cached_config(name)?;
            LlmConfig::from_json(&text, &file, &stem)
        }
        None => Err(ModelError::NotFound {
            name: name.to_string(),
            known: known_models().join(", "),
        }),
    }
}

/// Parses the `?key=value&...` parameters of an LLM name: only `mla` (`naive` or `absorbed`).
/// The error says which parameter is wrong and what is expected.
fn llm_params(query: &str) -> Result<Option<llm::MlaMode>, String> {
    let mut mode = None;
    for kv in query.split('&').filter(|s| !s.is_empty()) {
        match kv.split_once('=') {
            Some(("mla", v)) => {
                mode = Some(llm::MlaMode::parse(v.trim()).ok_or_else(|| {
                    format!(
                        "`mla={v}`: expected one of {}",
                        llm::MlaMode::NAMES.join(", ")
                    )
                })?);
            }
            _ => {
                return Err(format!(
                    "`{kv}`: an LLM takes one parameter, mla=naive or mla=absorbed"
                ));
            }
        }
    }
    Ok(mode)
}

/// The config of model id `id` from the local Hugging Face cache: its path, the model's name
/// (the part after `org/`) and its text.
fn cached_config(id: &str) -> Result<(String, String, String), ModelError> {
    let p = hf_cache::find_config(id)?;
    let file = p.display().to_string();
    let text = crate::util::text::read_utf8(&p).map_err(|cause| ModelError::Io {
        path: file.clone(),
        cause,
    })?;
    let stem = id.rsplit('/').next().unwrap_or(id).to_string();
    Ok((file, stem, text))
}

/// For an LLM `--model` whose config is not a text file as given (a `.gguf` file, or a model
/// id in the local Hugging Face cache): where it came from, the model's name and the config
/// text it builds from (for a GGUF file, the config [`gguf`] makes of its header, with the
/// file's tensor types). `None` for every other name.
pub fn llm_source(name: &str) -> Result<Option<(String, String, String)>, ModelError> {
    let path = Path::new(name);
    if gguf::is_gguf(name) {
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        return Ok(Some((name.to_string(), stem, gguf::config_text(path)?)));
    }
    let shipped = format!("{}.json", name.trim_end_matches(".json"));
    if path.exists()
        || crate::embedded::WORKLOADS
            .iter()
            .any(|(f, _)| *f == shipped)
        || !hf_cache::is_model_id(name)
    {
        return Ok(None);
    }
    cached_config(name).map(Some)
}

/// The `--quant` a command uses for `model` when none is given: the file's own scheme for a
/// model read from a GGUF file (e.g. `q4_k_m`), else `default`.
pub fn default_quant<'a>(model: &'a Model, default: &'a str) -> &'a str {
    match model {
        Model::Llm(c) => gguf::file_scheme(c).unwrap_or(default),
        Model::Vision(_) => default,
    }
}

/// Any model archscope can score.
#[derive(Clone, Debug)]
pub enum Model {
    /// A decoder-only LLM (prefill and decode phases).
    Llm(LlmConfig),
    /// A vision network or transformer encoder (one forward pass).
    Vision(VisionModel),
}

impl Model {
    /// Name shown in reports.
    pub fn name(&self) -> &str {
        match self {
            Model::Llm(m) => &m.name,
            Model::Vision(m) => &m.name,
        }
    }
}

/// Parses `key=value&...` dimension values given after an ONNX path.
fn onnx_dims(name: &str, query: &str) -> Result<Vec<(String, u64)>, ModelError> {
    query
        .split('&')
        .filter(|s| !s.is_empty())
        .map(|kv| {
            kv.split_once('=')
                .and_then(|(k, v)| Some((k.trim().to_string(), v.trim().parse().ok()?)))
                .filter(|(k, v)| !k.is_empty() && *v > 0)
                .ok_or_else(|| ModelError::Spec {
                    name: name.to_string(),
                    message: format!(
                        "`{kv}`: expected dimension=positive integer, e.g. sequence=128"
                    ),
                })
        })
        .collect()
}

/// Resolves `--model`: an `.onnx` path (with optional `?dim=value&...`), a built-in vision or
/// encoder network (with optional parameters), a path to an LLM `config.json`, or a short name
/// of a shipped LLM config.
pub fn load_model(name: &str) -> Result<Model, ModelError> {
    let (base, query) = name.split_once('?').unwrap_or((name, ""));
    if base.to_ascii_lowercase().ends_with(".onnx") {
        if Path::new(base).is_dir() {
            return Err(ModelError::Directory {
                path: base.to_string(),
            });
        }
        let dims = onnx_dims(name, query)?;
        return VisionModel::from_onnx_file(Path::new(base), &dims).map(Model::Vision);
    }
    if Path::new(name).is_file() || Path::new(base).is_file() {
        return load_llm(name).map(Model::Llm);
    }
    if vision::is_builtin(name) {
        return VisionModel::parse(name).map(Model::Vision);
    }
    match load_llm(name) {
        Ok(m) => Ok(Model::Llm(m)),
        Err(ModelError::NotFound { name, known }) => Err(ModelError::NotFound {
            name,
            known: format!("{known}, {}", vision::known().join(", ")),
        }),
        Err(e) => Err(e),
    }
}
