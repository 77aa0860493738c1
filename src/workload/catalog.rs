//! Views of the models archscope knows, for `archscope models`: one line per shipped LLM config
//! and per built-in network family, and the shape of one model as JSON.

use super::vision::{self, VisionModel};
use super::{DType, Model, ModelError, QuantScheme, known_models, load_llm, load_model};
use std::fmt::Write as _;

/// One line per shipped LLM (family, parameters, active parameters of a MoE, layers, hidden
/// size) and per built-in network
/// family (parameters, MACs per sample at fp32, the parameters its spec takes); an entry that
/// fails to build says why instead.
pub fn list() -> String {
    let mut s = String::new();
    for name in known_models() {
        let _ = match load_llm(name) {
            Ok(m) => {
                let active = match m.moe {
                    Some(_) => format!(" ({:.3} B active)", m.active_param_count() as f64 / 1e9),
                    None => String::new(),
                };
                writeln!(
                    s,
                    "{:<20} {:<8} {:>8.3} B params{active}, {} layers, hidden {}",
                    name,
                    m.family.name(),
                    m.param_count() as f64 / 1e9,
                    m.layers,
                    m.hidden
                )
            }
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

/// The shape and parameter count of any model `--model` accepts, as JSON. An LLM gives its
/// total parameters (`params`) and the parameters one token uses (`active_params`: all but
/// the routed experts it is not sent to; equal to `params` for a dense model), also without
/// the input embedding table (`active_params_without_embedding`, as DeepSeek counts them); the
/// sliding window and which layers use it; multi-head latent attention and how it is priced;
/// and the MoE layout.
pub fn describe(name: &str) -> Result<serde_json::Value, ModelError> {
    Ok(match load_model(name)? {
        Model::Llm(m) => serde_json::json!({
            "name": m.name, "family": m.family, "params": m.param_count(),
            "hidden": m.hidden, "ffn": m.ffn, "layers": m.layers, "heads": m.heads,
            "kv_heads": m.kv_heads, "head_dim": m.head_dim, "vocab": m.vocab,
            "tied_embeddings": m.tied, "sliding_window": m.window,
            "experts": m.moe.map(|(e, _)| e), "experts_per_token": m.moe.map(|(_, k)| k),
            "active_params": m.active_param_count(),
            "active_params_without_embedding": m.active_params_without_embedding(),
            "local_layers": m.window.map(|_| m.local_layer_count()),
            "qk_norm": m.qk_norm, "post_norms": m.sandwich_norm,
            "attn_softcap": m.attn_softcap, "final_softcap": m.final_softcap,
            "mla": m.mla, "moe_layout": m.moe.map(|_| m.moe_layout),
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
