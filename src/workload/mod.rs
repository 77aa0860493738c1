//! Workloads: what runs. A graph of ops and tensors ([`Graph`]), data types and quantization
//! ([`dtype`], [`quant`]), and builders for real models ([`llm`]).
//!
//! Models are named by a short name of a shipped config (`llama-1b`, see [`known_models`]) or by
//! a path to any Hugging Face `config.json`.

pub mod dtype;
pub mod graph;
pub mod llm;
pub mod quant;

pub use dtype::{DType, DTypeTable, QuantGroup, Storage};
pub use graph::{
    Access, AttnPart, AttnShape, Conv2d, EltOp, Engine, Graph, GraphError, NormKind, Op, OpId,
    OpKind, PoolKind, Role, Tensor, TensorId,
};
pub use llm::{Family, HfConfig, LlmConfig, ModelError, Phase};
pub use quant::{QuantError, QuantScheme};

use std::path::Path;

/// Short names of the shipped model configs (file stems in `workloads/`).
pub fn known_models() -> Vec<&'static str> {
    crate::embedded::WORKLOADS
        .iter()
        .map(|(f, _)| f.trim_end_matches(".json"))
        .collect()
}

/// Resolves `--model`: an existing path to a `config.json`, or a short name of a shipped config.
pub fn load_llm(name: &str) -> Result<LlmConfig, ModelError> {
    let path = Path::new(name);
    if path.is_file() {
        return LlmConfig::from_file(path);
    }
    let file = format!("{}.json", name.trim_end_matches(".json"));
    match crate::embedded::WORKLOADS.iter().find(|(f, _)| *f == file) {
        Some((f, text)) => LlmConfig::from_json(text, &format!("workloads/{f}"), name),
        None => Err(ModelError::NotFound {
            name: name.to_string(),
            known: known_models().join(", "),
        }),
    }
}
