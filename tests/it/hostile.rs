//! Hostile inputs (found by a bad-input probe): sizes past every published model, products that
//! wrap 64 bits, non-finite numbers, corrupt metadata. Each must end in a clear error naming the
//! file, line or field (or, where the input is valid, a correct result), never a panic, a hang,
//! a huge allocation or a wrapped number printed with exit status 0. The inputs are generated
//! here or are small copies under `tests/data/hostile/`.

use crate::common::{TempDir, archscope, archscope_paths, words};
use archscope::cost::Mode;
use archscope::cycle::systolic::{MAX_DP_CHANNELS, MAX_TOPOLOGY_LAYERS, parse_conv_topology};
use archscope::explore::units::default_thread_counts;
use archscope::hardware::{Hardware, MAX_UNIT_COUNT, MIN_BYTES_PER_S, MIN_OPS_PER_S};
use archscope::score::{ScoreError, ScoreRequest, score_llm};
use archscope::validate::published::compare;
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
        ..ScoreRequest::default()
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
    let (ok, out, err) = archscope(&words(
        "score --hw pixel8 --model llama-1b --phase prefill --batch 4294967296 --prompt 4294967296 --format json",
    ));
    assert!(!ok, "{out}");
    assert!(
        err.contains("batch 4294967296: expected 1 to 65536"),
        "{err}"
    );
}

#[test]
fn map_rejects_a_zero_batch_and_a_bad_switch_time() {
    let (ok, out, err) = archscope(&words(
        "map --hw pixel8 --model llama-1b --batch 0 --time-limit 5",
    ));
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

/// The shipped pixel8 file with one figure replaced (`from` must occur once).
fn pixel8_with(from: &str, to: &str) -> String {
    let (_, text) = Hardware::find_text("pixel8").unwrap();
    assert_eq!(text.matches(from).count(), 1, "{from}");
    text.replace(from, to)
}

fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|l| l.contains(needle)).unwrap() + 1
}

/// The core count of pixel8's cpu-mid (4 Cortex-A715).
const A715_COUNT: &str = "count = { value = 4, source = \"[S] Tensor G3 CPU: 4x Cortex-A715";

#[test]
fn a_core_count_of_1e19_is_refused_and_the_thread_list_is_bounded() {
    // The probe's file made explore's default thread list (powers of two below the count)
    // double past 64 bits and grow without end.
    let text = pixel8_with(A715_COUNT, &A715_COUNT.replace("4,", "1e19,"));
    let e = Hardware::from_toml_str(&text, "hw.toml")
        .unwrap_err()
        .to_string();
    let line = line_of(&text, "value = 1e19");
    assert!(
        e.starts_with(&format!("hw.toml:{line}: field `unit[cpu-mid].count`")),
        "{e}"
    );
    assert!(e.contains(&format!("at most {}", MAX_UNIT_COUNT)), "{e}");
    let ok = pixel8_with(A715_COUNT, &A715_COUNT.replace("4,", "1e7,"));
    assert!(Hardware::from_toml_str(&ok, "hw.toml").is_ok());
    // Powers of two below the count, then the count: 2^0..2^23 and 10^7.
    assert_eq!(default_thread_counts(MAX_UNIT_COUNT as u64).len(), 25);
    assert_eq!(default_thread_counts(4), vec![1, 2, 4]);
    // Even unvalidated, the doubling stops at 2^63: 64 powers and the count.
    assert_eq!(default_thread_counts(u64::MAX).len(), 65);
    let dir = TempDir::new("count-1e19");
    let path = dir.join("hw.toml");
    std::fs::write(&path, &text).unwrap();
    let out = dir.join("e1");
    let (ok, _, err) = archscope_paths(
        "explore --model llama-1b",
        &[("--hw", &path), ("--out", &out)],
    );
    assert!(!ok);
    assert!(err.contains("unit[cpu-mid].count"), "{err}");
}

/// Decode latency at context 1024 of llama-1b fp16 on pixel8's cpu-mid with its core count set
/// to `count` by a what-if, running `threads` threads (all of them when `None`).
fn cpu_mid_decode_s(count: f64, threads: Option<i64>) -> f64 {
    let (_, text) = Hardware::find_text("pixel8").unwrap();
    let mut hw = Hardware::with_fields(&text, "pixel8", &[("unit[cpu-mid].count", count)]).unwrap();
    let i = hw.unit_index(Some("cpu-mid")).unwrap();
    if let Some(t) = threads {
        hw.units[i].params.insert("threads".into(), t.into());
    }
    let m = load_llm("llama-1b").unwrap();
    let q = QuantScheme::parse("fp16").unwrap();
    let req = ScoreRequest {
        prefill: false,
        unit: Some("cpu-mid".into()),
        ..request(1, 16, 1024)
    };
    let s = score_llm(&hw, &m, &q, &req).unwrap();
    s.phases[0].eval.total.latency_s
}

#[test]
fn one_threads_latency_does_not_grow_with_the_core_count() {
    // The probe: one thread's decode took 0.27 s with 4 cores, 0.54 s with 8 and 66,757 s with
    // 10^6, because each memory level's sustained bandwidth was split among `count` cores. The
    // figures describe the file's 4 cores, and a what-if holds that (as it holds the ops per
    // cycle per core): one thread draws a quarter of each level and computes at one core's
    // rate whatever the count, so its latency is the same number.
    let base = cpu_mid_decode_s(4.0, Some(1));
    for count in [8.0, 1e6] {
        let t = cpu_mid_decode_s(count, Some(1));
        assert!((t - base).abs() <= 1e-12 * base, "{count}: {t} vs {base}");
    }
    // All the cores together: never slower with more of them; the memory-bound decode is at the
    // levels' sustained peak from 4 cores on, so it barely changes (only compute-bound ops gain).
    let mut last = f64::INFINITY;
    for count in [4.0, 8.0, 1e6] {
        let t = cpu_mid_decode_s(count, None);
        assert!(t <= last && t > 0.9 * base / 4.0, "{count}: {t}");
        last = t;
    }
    // The one-thread decode is memory bound: four threads draw four shares, so the all-core
    // latency at 4 cores is close to a quarter of one thread's.
    let all = cpu_mid_decode_s(4.0, None);
    assert!((all / base - 0.25).abs() < 0.01, "{all} vs {base}");
}

#[test]
fn a_subnormal_bandwidth_is_refused_and_a_non_finite_score_is_an_error() {
    let text = pixel8_with("value = 68.26e9", "value = 5e-324");
    let e = Hardware::from_toml_str(&text, "hw.toml")
        .unwrap_err()
        .to_string();
    let line = line_of(&text, "value = 5e-324");
    assert!(
        e.starts_with(&format!("hw.toml:{line}: field `memory[dram].bytes_per_s`")),
        "{e}"
    );
    assert!(
        e.contains(&format!("expected at least {MIN_BYTES_PER_S:e}")),
        "{e}"
    );
    let big = pixel8_with("value = 68.26e9", "value = 1e30");
    let e = Hardware::from_toml_str(&big, "hw.toml")
        .unwrap_err()
        .to_string();
    assert!(e.contains("memory[dram].bytes_per_s"), "{e}");
    let peak = pixel8_with("f32 = { value = 93.1e9", "f32 = { value = 1e-300");
    let e = Hardware::from_toml_str(&peak, "hw.toml")
        .unwrap_err()
        .to_string();
    assert!(e.contains("unit[cpu-big].peak_ops_per_s.f32"), "{e}");
    assert!(e.contains(&format!("at least {MIN_OPS_PER_S:e}")), "{e}");
    // A device edited past validation: the score is an error, not null TTFT/TPOT.
    let mut hw = pixel8();
    let dram = hw.memories.iter().position(|m| m.name == "dram").unwrap();
    hw.memories[dram].bytes_per_s = 5e-324;
    let m = load_llm("llama-1b").unwrap();
    let q = QuantScheme::parse("fp16").unwrap();
    let e = score_llm(&hw, &m, &q, &request(1, 16, 64))
        .err()
        .expect("rejected");
    assert!(matches!(e, ScoreError::NotFinite { .. }), "{e}");
    assert!(
        e.to_string().starts_with("prefill: the latency is inf"),
        "{e}"
    );
}

const CONV_HEADER: &str = "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\n";

#[test]
fn a_depthwise_row_of_ten_million_channels_is_an_error_not_an_abort() {
    // The probe's row: SCALE-Sim expands a DP row into one layer per channel, and 10^7 of them
    // aborted on allocation.
    let text = format!("{CONV_HEADER}DP_x, 4, 4, 3, 3, 10000000, 1, 1,\n");
    let e = parse_conv_topology(&text, "dp.csv")
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("dp.csv:2:"), "{e}");
    assert!(e.contains("field `Channels`"), "{e}");
    assert!(
        e.contains(&format!(
            "at most {MAX_DP_CHANNELS} channels, found 10000000"
        )),
        "{e}"
    );
    // At the limit the row expands, one layer of one channel each.
    let text = format!("{CONV_HEADER}DP_x, 4, 4, 3, 3, {MAX_DP_CHANNELS}, 1, 1,\n");
    let layers = parse_conv_topology(&text, "dp.csv").unwrap();
    assert_eq!(layers.len() as u64, MAX_DP_CHANNELS);
    assert_eq!(layers[5].name, "DP_xChannel_5");
    // Rows that each fit but together pass the file's limit.
    let rows = MAX_TOPOLOGY_LAYERS as u64 / MAX_DP_CHANNELS + 1;
    let mut text = CONV_HEADER.to_string();
    for i in 0..rows {
        text += &format!("DP_{i}, 4, 4, 3, 3, {MAX_DP_CHANNELS}, 1, 1,\n");
    }
    let e = parse_conv_topology(&text, "dp.csv")
        .unwrap_err()
        .to_string();
    assert!(e.starts_with(&format!("dp.csv:{}:", rows + 1)), "{e}");
    assert!(
        e.contains(&format!("more than {MAX_TOPOLOGY_LAYERS} layers")),
        "{e}"
    );
    let dir = TempDir::new("dp-1e7");
    let path = dir.join("dp.csv");
    std::fs::write(
        &path,
        format!("{CONV_HEADER}DP_x, 4, 4, 3, 3, 10000000, 1, 1,\n"),
    )
    .unwrap();
    let cfg = crate::common::data_path("scalesim/configs/a16x16_os.cfg");
    let (ok, _, err) = archscope_paths("systolic", &[("--config", &cfg), ("--topology", &path)]);
    assert!(!ok);
    assert!(
        err.contains("field `Channels`") && !err.contains("panicked"),
        "{err}"
    );
}

#[test]
fn a_non_finite_or_non_positive_published_value_names_file_line_and_column() {
    // The probe's row: `1e999` parses as +inf, and the report showed "+inf %".
    let dir = TempDir::new("published-1e999");
    let table = dir.join("published.csv");
    let head = "id,device,model,quant,framework,config,metric,value,unit\n";
    let row = |v: &str| {
        format!(
            "A1,\"Apple M2 Ultra, 76-core GPU (800 GB/s)\",LLaMA-2 7B,F16,llama.cpp (Metal),pp512,prefill_tokens_per_s,{v},tokens/s\n"
        )
    };
    // A good row first, so the bad one is on line 3; `1e-320` is positive and finite but 512
    // tokens over it take an infinite time.
    for v in ["1e999", "inf", "NaN", "0", "-3", "1e-320"] {
        std::fs::write(&table, format!("{head}{}{}", row("1401.85"), row(v))).unwrap();
        let e = compare(&table).err().expect(v).to_string();
        let want = format!(
            "{}:3: column 8 (`value`): expected a finite positive token rate",
            table.display()
        );
        assert!(e.starts_with(&want), "{v}: {e}");
        assert!(e.ends_with(&format!("found `{v}`")), "{v}: {e}");
    }
    std::fs::write(&table, format!("{head}{}", row("1401.85"))).unwrap();
    let c = compare(&table).unwrap();
    // 512 prompt tokens at 1401.85 tokens/s.
    assert!((c.outcomes[0].measured.median - 512.0 / 1401.85).abs() < 1e-12);
    let (ok, out, err) = archscope(&[
        "validate",
        "--published",
        table.to_str().unwrap(),
        "--out",
        dir.join("pub").to_str().unwrap(),
    ]);
    assert!(ok && !out.contains("inf"), "{out}{err}");
}
