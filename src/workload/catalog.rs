//! Views of the models archscope knows, for `archscope models`: one line per shipped LLM config
//! and per built-in network family, and the shape of one model as JSON.

use super::vision::{self, VisionModel};
use super::{DType, Model, ModelError, QuantScheme, known_models, load_llm, load_model};
use std::fmt::Write as _;

/// One line per shipped LLM (family, parameters, layers, hidden size) and per built-in network
/// family (parameters, MACs per sample at fp32, the parameters its spec takes); an entry that
/// fails to build says why instead.
pub fn list() -> String {
    let mut s = String::new();
    for name in known_models() {
        let _ = match load_llm(name) {
            Ok(m) => writeln!(
                s,
                "{:<20} {:<8} {:>8.3} B params, {} layers, hidden {}",
                name,
                format!("{:?}", m.family).to_lowercase(),
                m.param_count() as f64 / 1e9,
                m.layers,
                m.hidden
            ),
            Err(e) => writeln!(s, "{name:<20} (invalid: {e})"),
        };
    }
    for f in vision::FAMILIES {
        let line = VisionModel::parse(f.name).and_then(|m| {
            let g = m.build(&QuantScheme::float(DType::F32), 1)?;
            Ok(format!(
                "{:<20} {:<8} {:>8.3} M params, {:>8.3} GMAC/{}, params: {}",
                f.name,
                m.sample().singular(),
                g.param_count() as f64 / 1e6,
                g.macs() / 1e9,
                m.sample().singular(),
                f.keys.join(",")
            ))
        });
        let _ = match line {
            Ok(l) => writeln!(s, "{l}"),
            Err(e) => writeln!(s, "{:<20} (invalid: {e})", f.name),
        };
    }
    s
}

/// The shape and parameter count of any model `--model` accepts, as JSON.
pub fn describe(name: &str) -> Result<serde_json::Value, ModelError> {
    Ok(match load_model(name)? {
        Model::Llm(m) => serde_json::json!({
            "name": m.name, "family": m.family, "params": m.param_count(),
            "hidden": m.hidden, "ffn": m.ffn, "layers": m.layers, "heads": m.heads,
            "kv_heads": m.kv_heads, "head_dim": m.head_dim, "vocab": m.vocab,
            "tied_embeddings": m.tied, "sliding_window": m.window,
            "experts": m.moe.map(|(e, _)| e), "experts_per_token": m.moe.map(|(_, k)| k),
        }),
        Model::Vision(m) => m.describe()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_model_and_family_is_listed_and_valid() {
        let l = list();
        assert_eq!(
            l.lines().count(),
            known_models().len() + vision::FAMILIES.len()
        );
        assert!(!l.contains("(invalid"), "{l}");
        let d = describe("llama-1b").unwrap();
        assert_eq!(d["layers"], 16);
        assert_eq!(d["hidden"], 2048);
    }
}
