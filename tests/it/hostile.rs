//! Hostile inputs (found by a bad-input probe): sizes past every published model, products that
//! wrap 64 bits, non-finite numbers, corrupt metadata. Each must end in a clear error naming the
//! file, line or field (or, where the input is valid, a correct result), never a panic, a hang,
//! a huge allocation or a wrapped number printed with exit status 0. The inputs are generated
//! here or are small copies under `tests/data/hostile/`.

use crate::common::{TempDir, archscope};
use archscope::cost::Mode;
use archscope::hardware::Hardware;
use archscope::score::{ScoreRequest, score_llm};
use archscope::workload::llm::{
    MAX_BATCH, MAX_EXPERTS, MAX_HEAD_DIM, MAX_HEADS, MAX_HIDDEN, MAX_INTERMEDIATE, MAX_LAYERS,
    MAX_TOKENS, MAX_VOCAB,
};
use archscope::workload::{LlmConfig, ModelError, Phase, QuantScheme, load_llm};

/// A small llama config with `field` set to `value` (added when absent).
fn llama_with(field: &str, value: u64) -> String {
    let mut v = serde_json::json!({
        "model_type": "llama", "hidden_size": 64, "intermediate_size": 128,
        "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
        "vocab_size": 100
    });
    v[field] = serde_json::json!(value);
    v.to_string()
}

#[test]
fn llm_sizes_past_the_limits_are_refused_naming_file_and_field() {
    for (field, limit) in [
        ("num_hidden_layers", MAX_LAYERS),
        ("hidden_size", MAX_HIDDEN),
        ("intermediate_size", MAX_INTERMEDIATE),
        ("vocab_size", MAX_VOCAB),
        ("num_attention_heads", MAX_HEADS),
        ("num_key_value_heads", MAX_HEADS),
        ("head_dim", MAX_HEAD_DIM),
        ("max_position_embeddings", MAX_TOKENS),
    ] {
        let e = LlmConfig::from_json(&llama_with(field, limit + 1), "big.json", "big")
            .expect_err(field);
        let s = e.to_string();
        assert!(matches!(e, ModelError::Invalid { .. }), "{s}");
        assert!(
            s.starts_with(&format!("big.json: field `{field}`: ")),
            "{s}"
        );
        assert!(s.contains(&format!("limit of {limit}")), "{s}");
    }
    let moe = |experts: u64| {
        let mut v: serde_json::Value =
            serde_json::from_str(&llama_with("vocab_size", 100)).unwrap();
        v["model_type"] = "mixtral".into();
        v["num_local_experts"] = experts.into();
        v["num_experts_per_tok"] = 2.into();
        LlmConfig::from_json(&v.to_string(), "moe.json", "moe")
    };
    let s = moe(MAX_EXPERTS + 1).unwrap_err().to_string();
    assert!(s.contains("field `num_local_experts`"), "{s}");
    assert!(moe(MAX_EXPERTS).is_ok());
    // Every shipped model is far below every limit.
    for m in archscope::workload::known_models() {
        let c = load_llm(m).unwrap();
        assert!(
            c.layers * 8 <= MAX_LAYERS && c.hidden * 3 <= MAX_HIDDEN,
            "{m}"
        );
    }
}

#[test]
fn ten_million_layers_is_an_error_not_an_abort() {
    // The probe's file: a llama-1b shape with 10^7 blocks, which used to abort `score` and
    // `search llm` on allocation.
    let dir = TempDir::new("layers-1e7");
    let path = dir.join("llm_layers_1e7.json");
    std::fs::write(&path, llama_with("num_hidden_layers", 10_000_000)).unwrap();
    let p = path.to_str().unwrap();
    let (ok, _, err) = archscope(&["score", "--hw", "pixel8", "--model", p]);
    assert!(!ok);
    assert!(
        err.contains(p) && err.contains("field `num_hidden_layers`"),
        "{err}"
    );
    assert!(
        err.contains("10000000") && !err.contains("panicked"),
        "{err}"
    );
    let out = dir.join("search");
    let (ok, _, err) = archscope(&[
        "search",
        "llm",
        "--hw",
        "pixel8",
        "--base",
        p,
        "--max-memory",
        "2GiB",
        "--generations",
        "1",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(!ok);
    assert!(err.contains("field `num_hidden_layers`"), "{err}");
}

#[test]
fn a_parameter_count_past_64_bits_is_an_error_naming_the_field() {
    // The probe's `intermediate_size` 2^62 printed a wrapped count of 430,508,032.
    let dir = TempDir::new("ffn-2p62");
    let path = dir.join("llm_ffn_2p62.json");
    std::fs::write(&path, llama_with("intermediate_size", 1 << 62)).unwrap();
    let (ok, out, err) = archscope(&["models", "show", path.to_str().unwrap()]);
    assert!(!ok, "{out}");
    assert!(err.contains("field `intermediate_size`"), "{err}");
    // The checked count itself, on a config whose fields were changed past the limits.
    let mut c = LlmConfig::from_json(&llama_with("vocab_size", 100), "m.json", "m").unwrap();
    // By hand: embed 100·64 + 2 layers × (attn 64·64 + 2·64·32 + 64·64 = 12288, MLP 3·64·128 =
    // 24576, norms 128) + final norm 64 + LM head 6400 (untied).
    assert_eq!(
        c.try_param_count(),
        Ok(6400 + 2 * (12288 + 24576 + 128) + 64 + 6400)
    );
    c.ffn = 1 << 62;
    assert_eq!(c.try_param_count(), Err("intermediate_size"));
    assert_eq!(c.param_count(), u64::MAX);
    c.ffn = 128;
    c.layers = u64::MAX / 1000;
    assert_eq!(c.try_param_count(), Err("num_hidden_layers"));
    // At every limit at once (a MoE with the most experts) the count still fits.
    let v = serde_json::json!({
        "model_type": "mixtral", "hidden_size": MAX_HIDDEN, "intermediate_size": MAX_INTERMEDIATE,
        "num_hidden_layers": MAX_LAYERS, "num_attention_heads": MAX_HEADS,
        "head_dim": MAX_HEAD_DIM, "vocab_size": MAX_VOCAB,
        "num_local_experts": MAX_EXPERTS, "num_experts_per_tok": 2
    });
    let big = LlmConfig::from_json(&v.to_string(), "max.json", "max").unwrap();
    let experts = MAX_LAYERS * MAX_EXPERTS * 3 * MAX_HIDDEN * MAX_INTERMEDIATE;
    assert!(big.try_param_count().unwrap() > experts);
}

fn pixel8() -> Hardware {
    Hardware::load("pixel8").unwrap()
}

fn request(batch: u64, prompt: u64, context: u64) -> ScoreRequest {
    ScoreRequest {
        batch,
        prompt,
        context,
        prefill: true,
        decode: true,
        unit: None,
        mode: Mode::Calibrated,
    }
}

#[test]
fn batch_times_prompt_past_64_bits_is_an_error_not_zero_tokens_per_s() {
    let m = load_llm("llama-1b").unwrap();
    let q = QuantScheme::parse("fp16").unwrap();
    let hw = pixel8();
    // 2^32 × 2^32 wrapped to 0 tokens.
    let e = score_llm(&hw, &m, &q, &request(1 << 32, 1 << 32, 1024))
        .err()
        .expect("rejected");
    assert!(e.to_string().contains("batch 4294967296"), "{e}");
    let e = score_llm(&hw, &m, &q, &request(1, MAX_TOKENS + 1, 1024))
        .err()
        .expect("rejected");
    assert!(e.to_string().contains("prompt 134217729"), "{e}");
    let e = score_llm(&hw, &m, &q, &request(1, 16, MAX_TOKENS + 1))
        .err()
        .expect("rejected");
    assert!(e.to_string().contains("context 134217729"), "{e}");
    // Within the limits one at a time, but the attention scores of the whole batch would have
    // 2^16 · 32 heads · ~2^53 pairs > 2^64 elements: refused, not saturated.
    let e = m
        .check_phase(Phase::Prefill { prompt: MAX_TOKENS }, MAX_BATCH)
        .unwrap_err();
    assert!(e.to_string().contains("more than 2^64 elements"), "{e}");
    assert!(
        m.check_phase(
            Phase::Decode {
                context: MAX_TOKENS
            },
            MAX_BATCH
        )
        .is_ok()
    );
    // A valid request still scores, and the tokens are batch × prompt.
    let s = score_llm(&hw, &m, &q, &request(4, 64, 128)).unwrap();
    assert_eq!(s.phases[0].tokens, 256.0);
    assert!(s.phases[0].tokens_per_s() > 0.0);
    let (ok, out, err) = archscope(&[
        "score",
        "--hw",
        "pixel8",
        "--model",
        "llama-1b",
        "--phase",
        "prefill",
        "--batch",
        "4294967296",
        "--prompt",
        "4294967296",
        "--format",
        "json",
    ]);
    assert!(!ok, "{out}");
    assert!(
        err.contains("batch 4294967296: expected 1 to 65536"),
        "{err}"
    );
}

#[test]
fn map_rejects_a_zero_batch_and_a_bad_switch_time() {
    let (ok, out, err) = archscope(&[
        "map",
        "--hw",
        "pixel8",
        "--model",
        "llama-1b",
        "--batch",
        "0",
        "--time-limit",
        "5",
    ]);
    assert!(!ok, "{out}");
    assert!(err.contains("batch 0: expected 1 to"), "{err}");
    for v in ["nan", "-1", "inf"] {
        let flag = format!("--switch-us={v}");
        let (ok, out, err) = archscope(&[
            "map",
            "--hw",
            "pixel8",
            "--model",
            "llama-1b",
            &flag,
            "--time-limit",
            "5",
        ]);
        assert!(!ok, "{v}: {out}");
        assert!(
            err.contains("--switch-us") && err.contains("expected a finite"),
            "{err}"
        );
        assert!(!err.contains("internal error"), "{err}");
    }
}
