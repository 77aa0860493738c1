//! Speculative decoding (issue 19, part 4): the expected-tokens formula by hand, a step
//! assembled by hand from the two models' priced graphs, the verify graph's shape, monotonicity,
//! the bad inputs, and a published llama.cpp speed-up.

use crate::common::{archscope, words};
use archscope::cost::Mode;
use archscope::hardware::Hardware;
use archscope::runtime::Runtime;
use archscope::score::{ScoreRequest, score_graph};
use archscope::speculative::{
    Acceptance, MAX_DRAFT_TOKENS, SpeculativeError, SpeculativeRequest, SpeculativeScore,
    expected_tokens, score_speculative,
};
use archscope::workload::{AttnPart, LlmConfig, OpKind, Phase, QuantScheme, load_llm};

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * b.abs()
}

fn spec(k: u64, acceptance: Acceptance) -> SpeculativeRequest {
    SpeculativeRequest {
        draft_tokens: k,
        acceptance,
        draft_unit: None,
        draft_quant: None,
    }
}

fn decode_req(context: u64) -> ScoreRequest {
    ScoreRequest {
        context,
        prefill: false,
        runtime: Runtime::ideal(),
        ..ScoreRequest::default()
    }
}

/// A target and a draft model (shipped names) on the A100 80GB, in one quantization.
struct OnA100 {
    hw: Hardware,
    target: LlmConfig,
    draft: LlmConfig,
    q: QuantScheme,
}

impl OnA100 {
    fn new(target: &str, draft: &str, quant: &str) -> OnA100 {
        OnA100 {
            hw: Hardware::load("a100-80gb").unwrap(),
            target: load_llm(target).unwrap(),
            draft: load_llm(draft).unwrap(),
            q: QuantScheme::parse(quant).unwrap(),
        }
    }

    /// Speculative decoding at context `c` with `k` draft tokens accepted as `acceptance`,
    /// the ideal runtime.
    fn score(
        &self,
        c: u64,
        k: u64,
        acceptance: Acceptance,
    ) -> Result<SpeculativeScore, SpeculativeError> {
        score_speculative(
            &self.hw,
            &self.target,
            &self.draft,
            &self.q,
            &decode_req(c),
            &spec(k, acceptance),
        )
    }
}

#[test]
fn spec_expected_tokens_by_hand() {
    // (1 - 0.8^5) / (1 - 0.8) = (1 - 0.32768) / 0.2 = 3.3616
    assert!(close(expected_tokens(0.8, 4), 3.3616, 1e-12));
    // a = 0.5, k = 1: 1 + 0.5 = 1.5; a = 0: the target's token alone; a = 1: every draft
    assert!(close(expected_tokens(0.5, 1), 1.5, 1e-12));
    assert_eq!(expected_tokens(0.0, 7), 1.0);
    assert_eq!(expected_tokens(1.0, 4), 5.0);
    // k = 3, a = 0.6: 1 + 0.6 + 0.36 + 0.216 = 2.176
    assert!(close(expected_tokens(0.6, 3), 2.176, 1e-12));
}

#[test]
fn spec_verify_graph_has_k_plus_one_queries_and_logits() {
    let m = load_llm("llama-1b").unwrap();
    let q = QuantScheme::parse("fp16").unwrap();
    let g = m.try_build_verify(&q, 100, 5, 1).unwrap();
    let head = g.ops.iter().find(|o| o.name == "lm_head").unwrap();
    // Logits at all 5 positions: a 5 × 128256 × 2048 product.
    assert_eq!(
        head.kind,
        OpKind::MatMul {
            batch: 1,
            m: 5,
            n: 128_256,
            k: 2048
        }
    );
    assert!(g.ops.iter().all(|o| o.name != "select_last"));
    let q_proj = g
        .ops
        .iter()
        .find(|o| o.name == "layers.0.attn.q_proj")
        .unwrap();
    assert!(matches!(q_proj.kind, OpKind::MatMul { m: 5, .. }));
    // Causal over the cache: queries at positions 96..100 see 96, 97, ..., 100 keys: 490 pairs.
    let scores = g
        .ops
        .iter()
        .find(|o| {
            o.layer == Some(0)
                && matches!(
                    o.kind,
                    OpKind::Attention {
                        part: AttnPart::Scores,
                        ..
                    }
                )
        })
        .unwrap();
    let OpKind::Attention { shape, .. } = &scores.kind else {
        unreachable!()
    };
    assert_eq!((shape.q_len, shape.kv_len), (5, 100));
    assert_eq!(shape.pairs(), 490.0);
    // One query token is the decode graph, op for op.
    let one = m.build_verify(&q, 100, 1, 1);
    let dec = m.build(&q, Phase::Decode { context: 100 }, 1);
    assert_eq!(one.ops.len(), dec.ops.len());
    assert_eq!(one.flops(), dec.flops());
}

#[test]
fn spec_step_assembled_by_hand_from_the_two_graphs() {
    let pair = OnA100::new("llama-3.1-8b", "llama-1b", "fp16");
    let (hw, target, draft, q) = (&pair.hw, &pair.target, &pair.draft, &pair.q);
    let (k, c) = (4, 1024);
    let s = pair.score(c, k, Acceptance::Rate(0.8)).unwrap();
    // Price the two passes directly.
    let unit = hw.unit_index(None).unwrap();
    let price =
        |g: &archscope::workload::Graph| score_graph(hw, unit, Mode::Calibrated, g).unwrap().total;
    let dg = draft.build(q, Phase::Decode { context: c }, 1);
    let tg = target.build(q, Phase::Decode { context: c }, 1);
    let d = price(&dg);
    let v = price(&target.build_verify(q, c, k + 1, 1));
    let t = price(&tg);
    let step = 4.0 * d.latency_s + v.latency_s;
    let energy = 4.0 * d.energy_j() + v.energy_j();
    assert!(close(s.step_latency_s(), step, 1e-12));
    assert!(close(s.step_energy_j(), energy, 1e-12));
    assert!(close(s.tokens_per_s(), 3.3616 / step, 1e-12));
    assert!(close(s.j_per_token(), energy / 3.3616, 1e-12));
    assert!(close(s.speedup(), 3.3616 * t.latency_s / step, 1e-12));
    // Memory: both models' weights and both caches at the context.
    assert!(close(
        s.memory.weights_bytes,
        tg.weight_bytes() + dg.weight_bytes(),
        1e-12
    ));
    assert!(close(
        s.memory.kv_cache_bytes,
        tg.kv_cache_bytes() + dg.kv_cache_bytes(),
        1e-12
    ));
}

#[test]
fn spec_monotone_in_acceptance() {
    let pair = OnA100::new("llama-3.1-8b", "llama-1b", "fp16");
    let run = |k, a| pair.score(1024, k, Acceptance::Rate(a)).unwrap();
    // a = 0: one token per step that costs a plain decode and more, so slower than plain.
    let zero = run(4, 0.0);
    assert!(zero.tokens_per_s() < zero.plain_decode().tokens_per_s());
    assert!(zero.speedup() < 1.0);
    // a = 1: k + 1 tokens every step.
    let one = run(4, 1.0);
    assert_eq!(one.expected_tokens, 5.0);
    assert!(close(one.tokens_per_s(), 5.0 / one.step_latency_s(), 1e-12));
    let mut last = 0.0;
    for a in [0.0, 0.2, 0.4, 0.6, 0.8, 1.0] {
        let s = run(4, a).tokens_per_s();
        assert!(s > last, "tokens/s must grow with the acceptance rate");
        last = s;
    }
    // A mean accepted length equal to the formula's value gives the same score.
    let l = run(4, 0.8);
    let by_length = pair.score(1024, 4, Acceptance::MeanLength(3.3616)).unwrap();
    assert!(close(by_length.tokens_per_s(), l.tokens_per_s(), 1e-12));
}

#[test]
fn spec_bad_inputs_name_the_flag() {
    let pair = OnA100::new("llama-3.1-8b", "llama-1b", "fp16");
    let err = |k, a, c| pair.score(c, k, a).unwrap_err().to_string();
    assert!(err(0, Acceptance::Rate(0.5), 1024).contains("--draft-tokens 0"));
    let over = err(MAX_DRAFT_TOKENS + 1, Acceptance::Rate(0.5), 1024);
    assert!(over.contains("--draft-tokens 17") && over.contains("1 to 16"));
    assert!(err(4, Acceptance::Rate(1.5), 1024).contains("--accept-rate 1.5"));
    assert!(err(4, Acceptance::Rate(-0.1), 1024).contains("--accept-rate -0.1"));
    assert!(err(4, Acceptance::Rate(f64::NAN), 1024).contains("--accept-rate NaN"));
    let long = err(4, Acceptance::MeanLength(5.5), 1024);
    assert!(long.contains("--accepted-length 5.5") && long.contains("1 to 5"));
    assert!(err(4, Acceptance::MeanLength(0.5), 1024).contains("--accepted-length 0.5"));
    assert!(err(4, Acceptance::Rate(0.5), 3).contains("--context 3"));
}

#[test]
fn spec_draft_with_another_vocabulary_is_an_error() {
    let e = OnA100::new("llama-3.1-8b", "qwen2.5-0.5b", "fp16")
        .score(1024, 4, Acceptance::Rate(0.8))
        .unwrap_err();
    assert!(matches!(e, SpeculativeError::Vocabulary { .. }));
    let msg = e.to_string();
    assert!(msg.contains("151936") && msg.contains("128256"), "{msg}");
    // Qwen2.5-7B pads its embedding to 152,064 rows, Qwen2.5-0.5B to 151,936: one tokenizer,
    // 128 apart, which llama.cpp accepts too.
    assert!(
        OnA100::new("qwen2.5-7b", "qwen2.5-0.5b", "fp16")
            .score(1024, 4, Acceptance::Rate(0.8))
            .is_ok()
    );
    // From the command line too.
    let (ok, _, stderr) = archscope(&words(
        "score --hw a100-80gb --model llama-3.1-8b --draft qwen2.5-0.5b --accept-rate 0.8",
    ));
    assert!(!ok);
    assert!(
        stderr.contains("vocabulary") && stderr.contains("151936"),
        "{stderr}"
    );
}

#[test]
fn spec_cli_prints_speculative_next_to_plain() {
    let args = [
        "score",
        "--hw",
        "a100-80gb",
        "--model",
        "llama-3.1-8b",
        "--draft",
        "llama-1b",
        "--draft-tokens",
        "4",
        "--accept-rate",
        "0.8",
        "--phase",
        "decode",
    ];
    let (ok, out, err) = archscope(&args);
    assert!(ok, "{err}");
    assert!(
        out.contains("== speculative decode (draft llama-1b"),
        "{out}"
    );
    assert!(out.contains("3.3616 expected tokens") && out.contains("speed-up"));
    let mut json = args.to_vec();
    json.extend(["--format", "json"]);
    let (ok, out, err) = archscope(&json);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let s = &v["speculative"];
    assert_eq!(s["draft_tokens"], 4);
    assert!(close(
        s["expected_tokens_per_step"].as_f64().unwrap(),
        3.3616,
        1e-12
    ));
    let (tps, plain) = (
        s["tokens_per_s"].as_f64().unwrap(),
        s["plain_tokens_per_s"].as_f64().unwrap(),
    );
    assert!(close(s["speedup"].as_f64().unwrap(), tps / plain, 1e-12));
    assert_eq!(v["metrics"]["speculative_tokens_per_s"], s["tokens_per_s"]);
    // The k flag checks its range from the command line.
    let mut bad = args.to_vec();
    bad[8] = "0";
    let (ok, _, err) = archscope(&bad);
    assert!(!ok && err.contains("--draft-tokens 0"), "{err}");
}

/// Published: llama.cpp's `llama-speculative` on one RTX 3060 12 GB, Llama-3.1-8B-Instruct
/// Q8_0 target (all layers on the GPU) with a Llama-3.2-1B-Instruct Q8_0 draft (all layers on
/// the GPU), 14-token prompt, `n_draft = 5`: plain `llama-cli` decode 32.49 tokens/s,
/// speculative 55.473 tokens/s (673 tokens in 12.132 s), so a speed-up of 55.473 / 32.49 =
/// 1.707; `n_predict = 673`, `n_drafted = 730`, `n_accept = 526` (72.055 %). Source:
/// <https://github.com/ggml-org/llama.cpp/issues/5877>, comment of 2024-11-19 by oxfighterjet.
///
/// The setting here: every step yields the accepted drafts plus one target token, so there
/// were 673 - 526 = 147 steps and L = 673 / 147 = 4.578 tokens per step (730 / 147 = 4.97
/// drafts per step: k = 5 nearly always). The mean context over the run is the prompt plus half
/// the output, 14 + 673 / 2 ≈ 350. archscope ships no RTX 3060; the A100 is the shipped GPU of
/// the same (Ampere) generation, priced with no runtime, Q8_0 on both models. The speed-up
/// (a ratio) must fall within ±30 % of 1.707.
#[test]
fn spec_published_llama_cpp_speedup_llama31_8b_with_llama32_1b() {
    let published = 55.473 / 32.49;
    let l = 673.0 / (673.0 - 526.0);
    let s = OnA100::new("llama-3.1-8b", "llama-1b", "q8_0")
        .score(350, 5, Acceptance::MeanLength(l))
        .unwrap();
    let predicted = s.speedup();
    eprintln!("speculative speed-up: predicted {predicted:.3}, published {published:.3}");
    assert!(
        close(predicted, published, 0.30),
        "predicted {predicted:.3}× vs published {published:.3}× (±30 %)"
    );
}
