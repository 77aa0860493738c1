//! Hand-checked FLOPs, bytes and parameter counts of the LLM builder, and the A100 ideal-roofline
//! decode check of issue 2.

use archscope::cost::{Bound, CostModel, Mode, evaluate, evaluate_total};
use archscope::hardware::Hardware;
use archscope::roofline::Roofline;
use archscope::score::{ScoreRequest, score_llm};
use archscope::workload::{AttnPart, Graph, OpKind, Phase, QuantScheme, Role, load_llm};

fn fp16() -> QuantScheme {
    QuantScheme::parse("fp16").unwrap()
}

fn op<'a>(g: &'a Graph, name: &str) -> &'a archscope::workload::Op {
    g.ops
        .iter()
        .find(|o| o.name == name)
        .unwrap_or_else(|| panic!("no op {name}"))
}

#[test]
fn llama_1b_parameter_count_matches_published() {
    // Llama-3.2-1B with tied embeddings: 1,235,814,400 parameters (Meta's model card: 1.23 B;
    // the safetensors checkpoint holds exactly this many elements).
    // embed 128256*2048 = 262,668,288; per layer: q 2048*2048 + k,v 2*2048*512 + o 2048*2048
    // = 10,485,760, MLP 3*2048*8192 = 50,331,648, norms 2*2048 → 60,821,504; x16 = 973,144,064;
    // final norm 2048.
    let m = load_llm("llama-1b").unwrap();
    assert_eq!(m.param_count(), 262_668_288 + 16 * 60_821_504 + 2048);
    assert_eq!(m.param_count(), 1_235_814_400);
    // The graph holds exactly those weights: the tied table appears once.
    let g = m.build(&fp16(), Phase::Decode { context: 1024 }, 1);
    assert_eq!(g.param_count(), 1_235_814_400);
    assert_eq!(g.weight_bytes(), 2.0 * 1_235_814_400.0);
}

#[test]
fn published_parameter_counts_of_shipped_models() {
    // Element counts of the published checkpoints (Hugging Face safetensors metadata, as listed
    // in workloads/SOURCES.md).
    for (name, published) in [
        ("llama-2-7b", 6_738_415_616u64),
        ("llama-3-8b", 8_030_261_248),
        ("llama-3b", 3_212_749_824),
        ("tinyllama-1.1b", 1_100_048_384),
        ("mixtral-8x7b", 46_702_792_704),
        ("gemma-2b", 2_506_172_416),
        ("phi-3-mini", 3_821_079_552),
        // MobileLLM-125M model card: 124.6 M with the embedding shared with the head.
        ("mobilellm-125m", 124_635_456),
    ] {
        let m = load_llm(name).unwrap();
        assert_eq!(m.param_count(), published, "{name}");
        let g = m.build(&fp16(), Phase::Decode { context: 16 }, 1);
        assert_eq!(g.param_count(), published, "{name} graph");
    }
}

#[test]
fn decode_layer_flops_and_bytes_by_hand() {
    // Llama-3.2-1B, decode of one token at context 1024, batch 1, fp16 (2 bytes everywhere).
    let m = load_llm("llama-1b").unwrap();
    let g = m.build(&fp16(), Phase::Decode { context: 1024 }, 1);
    let q = op(&g, "layers.0.attn.q_proj");
    assert_eq!(q.kind.flops(), 2.0 * 2048.0 * 2048.0);
    // read x (2048*2) + W (2048*2048*2), write q (2048*2)
    assert_eq!(q.bytes(&g), (4096.0 + 8_388_608.0, 4096.0));
    let k = op(&g, "layers.0.attn.k_proj");
    assert_eq!(k.kind.flops(), 2.0 * 2048.0 * 512.0);
    assert_eq!(k.bytes(&g), (4096.0 + 2_097_152.0, 1024.0));

    // QKᵀ reads the K cache with the 8 KV heads at the current length: 8*1024*64*2 = 1 MiB,
    // not 32 heads' worth; FLOPs 2 * 1024 keys * 32 heads * 64.
    let qk = op(&g, "layers.0.attn.qk");
    assert_eq!(qk.kind.flops(), 2.0 * 1024.0 * 32.0 * 64.0);
    assert_eq!(qk.bytes(&g), (4096.0 + 1_048_576.0, 1024.0 * 32.0 * 2.0));
    let av = op(&g, "layers.0.attn.av");
    assert_eq!(av.kind.flops(), 2.0 * 1024.0 * 32.0 * 64.0);
    assert_eq!(av.bytes(&g), (65_536.0 + 1_048_576.0, 4096.0));
    let sm = op(&g, "layers.0.attn.softmax");
    assert_eq!(sm.kind.flops(), 5.0 * 1024.0 * 32.0);
    // Appending one token writes 8 heads * 64 * 2 bytes to each of K and V.
    let app = op(&g, "layers.0.attn.kv_append");
    assert_eq!(app.bytes(&g), (1024.0 + 1024.0, 2048.0));

    // The MLP activation runs over the intermediate size (8192), not the hidden size.
    let act = op(&g, "layers.0.mlp.act");
    assert_eq!(act.kind.flops(), 6.0 * 8192.0);
    assert_eq!(act.bytes(&g), (2.0 * 8192.0 * 2.0, 8192.0 * 2.0));

    // Whole layer FLOPs: projections 2*(2048*2048*2 + 2048*512*2) + MLP 3*2*2048*8192
    // + attention 2 * 2*1024*32*64 + softmax 5*1024*32 + rope 3*(2048+512)
    // + norms 2*4*2048 + residual adds 2*2048 + SwiGLU 6*8192.
    let expected = 2.0 * (2.0 * 2048.0 * 2048.0 + 2.0 * 2048.0 * 512.0)
        + 3.0 * 2.0 * 2048.0 * 8192.0
        + 2.0 * (2.0 * 1024.0 * 32.0 * 64.0)
        + 5.0 * 1024.0 * 32.0
        + 3.0 * (2048.0 + 512.0)
        + 2.0 * 4.0 * 2048.0
        + 2.0 * 2048.0
        + 6.0 * 8192.0;
    let layer0: f64 = g
        .ops
        .iter()
        .filter(|o| o.layer == Some(0))
        .map(|o| o.kind.flops())
        .sum();
    assert_eq!(layer0, expected);

    // The LM head is a real matmul over the tied table: 2 FLOPs per MAC, 128256*2048*2 bytes.
    let head = op(&g, "lm_head");
    assert_eq!(head.kind.flops(), 2.0 * 2048.0 * 128_256.0);
    assert_eq!(head.bytes(&g).0, 4096.0 + 128_256.0 * 2048.0 * 2.0);
    // The embedding gather reads one row, not the table.
    let emb = op(&g, "embed_tokens");
    assert_eq!(emb.bytes(&g).0, 4.0 + 4096.0);
}

#[test]
fn prefill_layer_flops_by_hand() {
    // Prefill of 512 tokens: causal attention sees 1+2+...+512 = 131,328 (query, key) pairs.
    let m = load_llm("llama-1b").unwrap();
    let g = m.build(&fp16(), Phase::Prefill { prompt: 512 }, 1);
    let q = op(&g, "layers.0.attn.q_proj");
    assert_eq!(q.kind.flops(), 2.0 * 512.0 * 2048.0 * 2048.0);
    assert_eq!(q.bytes(&g), (512.0 * 4096.0 + 8_388_608.0, 512.0 * 4096.0));
    let qk = op(&g, "layers.0.attn.qk");
    let pairs = 512.0 * 513.0 / 2.0;
    assert_eq!(qk.kind.flops(), 2.0 * pairs * 32.0 * 64.0);
    // Q (512*2048*2) and the fresh K activation (512*512*2) in, causal scores out.
    assert_eq!(
        qk.bytes(&g),
        (512.0 * 4096.0 + 512.0 * 1024.0, pairs * 32.0 * 2.0)
    );
    if let OpKind::Attention { part, shape } = qk.kind {
        assert_eq!(part, AttnPart::Scores);
        assert_eq!(shape.kv_heads, 8);
    } else {
        panic!("qk is not attention");
    }
    // The KV append writes all 512 positions into the cache: 512*8*64*2 bytes for K and V each.
    let app = op(&g, "layers.0.attn.kv_append");
    assert_eq!(app.bytes(&g).1, 2.0 * 512.0 * 512.0 * 2.0);
    // Only the last token reaches the LM head.
    let head = op(&g, "lm_head");
    assert_eq!(head.kind.flops(), 2.0 * 2048.0 * 128_256.0);
    // The MLP of one layer: 3 matmuls of 2*512*2048*8192.
    let mlp: f64 = ["gate_proj", "up_proj", "down_proj"]
        .iter()
        .map(|n| op(&g, &format!("layers.0.mlp.{n}")).kind.flops())
        .sum();
    assert_eq!(mlp, 3.0 * 2.0 * 512.0 * 2048.0 * 8192.0);
}

#[test]
fn a100_ideal_decode_is_bytes_over_bandwidth() {
    // Issue 2: `score --ideal` for llama-1b decode (batch 1, context 1024, fp16) on a100-80gb
    // equals bytes moved ÷ bandwidth, and the per-op ledger sums to the totals.
    let hw = Hardware::load("a100-80gb").unwrap();
    let m = load_llm("llama-1b").unwrap();
    let g = m.build(&fp16(), Phase::Decode { context: 1024 }, 1);
    let unit = hw.unit_index(None).unwrap();
    let model = Roofline::new(&hw, unit, Mode::Ideal);
    let res = model.residency(&g);
    let eval = evaluate(&model as &dyn CostModel, &g, &res).unwrap();
    let hbm = hw.memories.iter().position(|m| m.name == "hbm").unwrap();
    let bw = hw.memories[hbm].bytes_per_s;

    // HBM traffic by hand: every weight once (2 x 1,235,814,400 B), one more embedding row
    // (the gather; the LM head reads the whole tied table), the K and V caches of 16 layers
    // (16 x 2 x 8 x 1024 x 64 x 2 B), the appended K/V rows (16 x 2 x 1024 B), the token id (4 B)
    // and the logits (128256 x 2 B). Activations stay in the 40 MB L2.
    let hand = 2.0 * 1_235_814_400.0
        + 4096.0
        + 16.0 * 2.0 * 1_048_576.0
        + 16.0 * 2.0 * 1024.0
        + 4.0
        + 128_256.0 * 2.0;
    assert_eq!(eval.total.bytes[hbm], hand);

    // Every op that touches HBM is bound by it; its time is its HBM bytes over the bandwidth.
    let mut rest = 0.0;
    for (o, l) in g.ops.iter().zip(&eval.per_op) {
        if l.bytes[hbm] > 0.0 {
            assert_eq!(l.bound(), Bound::Memory(hbm), "{}", o.name);
            assert!(
                (l.latency_s - l.bytes[hbm] / bw).abs() <= 1e-15,
                "{}",
                o.name
            );
        } else {
            rest += l.latency_s;
        }
    }
    let total = eval.total.latency_s;
    assert!((total - (hand / bw + rest)).abs() / total < 1e-12);
    // On-chip-only ops (norms, rope, softmax, adds) add well under 1%.
    assert!(rest / total < 0.01, "on-chip share {}", rest / total);
    // ≈ 1.229 ms/token, the roofline worked by hand.
    assert!((hand / bw * 1e3 - 1.2288).abs() < 1e-3);

    // The per-op ledger sums to the totals.
    let sum_lat: f64 = eval.per_op.iter().map(|l| l.latency_s).sum();
    let sum_e: f64 = eval.per_op.iter().map(|l| l.energy_j()).sum();
    let sum_f: f64 = eval.per_op.iter().map(|l| l.flops).sum();
    assert!((sum_lat - total).abs() <= 1e-12 * total);
    assert!((sum_e - eval.total.energy_j()).abs() <= 1e-12 * sum_e);
    assert_eq!(sum_f, g.flops());
    // Pricing each class of identical ops once gives the same totals.
    let classes = archscope::cost::PlacementProfile::of(&g).classes(&g);
    assert!(classes.len() < g.ops.len() / 8, "{} classes", classes.len());
    let fast = evaluate_total(&model as &dyn CostModel, &g, &res, &classes).unwrap();
    assert!((fast.latency_s - total).abs() <= 1e-9 * total);
    assert!((fast.energy_j() - eval.total.energy_j()).abs() <= 1e-9 * sum_e);
}

#[test]
fn score_reports_metrics_and_footprint() {
    let hw = Hardware::load("a100-80gb").unwrap();
    let m = load_llm("llama-1b").unwrap();
    let req = ScoreRequest {
        batch: 4,
        prompt: 256,
        context: 2048,
        prefill: true,
        decode: true,
        unit: None,
        mode: Mode::Calibrated,
        ..ScoreRequest::default()
    };
    let s = score_llm(&hw, &m, &fp16(), &req).unwrap();
    assert_eq!(s.phases.len(), 2);
    // KV cache at context 2048, batch 4: 16 layers x 2 x 4 x 8 heads x 2048 x 64 x 2 B.
    assert_eq!(
        s.memory.kv_cache_bytes,
        16.0 * 2.0 * 4.0 * 8.0 * 2048.0 * 64.0 * 2.0
    );
    assert_eq!(s.memory.weights_bytes, 2.0 * 1_235_814_400.0);
    assert!(s.memory.fits);
    let dec = &s.phases[1];
    assert_eq!(dec.tokens, 4.0);
    assert!((dec.tokens_per_s() - 4.0 / dec.eval.total.latency_s).abs() < 1e-9);
    let j = s.to_json(&hw);
    for k in ["hardware", "model", "quant", "phases", "memory"] {
        assert!(j.get(k).is_some(), "json lacks {k}");
    }
    for k in ["phase", "latency_s", "energy_j", "tokens_per_s", "ops"] {
        assert!(j["phases"][0].get(k).is_some(), "phase lacks {k}");
    }
    for k in [
        "name",
        "kind",
        "flops",
        "bytes",
        "latency_s",
        "bound",
        "unit",
    ] {
        assert!(j["phases"][1]["ops"][0].get(k).is_some(), "op lacks {k}");
    }
    for k in ["weights_bytes", "kv_cache_bytes", "fits"] {
        assert!(j["memory"].get(k).is_some(), "memory lacks {k}");
    }
    // Calibrated is slower than ideal: efficiencies below 1 and kernel overheads.
    let ideal = score_llm(
        &hw,
        &m,
        &fp16(),
        &ScoreRequest {
            mode: Mode::Ideal,
            ..req
        },
    )
    .unwrap();
    assert!(ideal.phases[1].eval.total.latency_s < dec.eval.total.latency_s);
}

#[test]
fn quantization_shrinks_weights_as_counted() {
    // w4a16-g128: each linear weight costs 4 bits + (16-bit scale + 4-bit zero)/128 per element;
    // embedding (tied with the head) and norms stay fp16.
    let m = load_llm("llama-1b").unwrap();
    let q = QuantScheme::parse("w4a16-g128+kv8").unwrap();
    let g = m.build(&q, Phase::Decode { context: 1024 }, 1);
    let linear_params = 16.0 * (10_485_760.0 + 50_331_648.0);
    let expected = linear_params * (4.0 + 20.0 / 128.0) / 8.0
        + 262_668_288.0 * 2.0
        + (16.0 * 2.0 * 2048.0 + 2048.0) * 2.0;
    assert!((g.weight_bytes() - expected).abs() < 1e-3);
    // kv8: int8 per token and head plus one fp16 scale per 64-element row.
    let rows = 16.0 * 2.0 * 8.0 * 1024.0;
    assert_eq!(g.kv_cache_bytes(), rows * (64.0 + 2.0));
    assert!(g.tensors.iter().filter(|t| t.role == Role::KvCache).count() == 32);
}

#[test]
fn moe_decode_reads_only_routed_experts() {
    // Mixtral decode at batch 1: 2 of 8 experts are read per layer.
    let m = load_llm("mixtral-8x7b").unwrap();
    let g = m.build(&fp16(), Phase::Decode { context: 512 }, 1);
    let e = op(&g, "layers.0.moe.experts");
    let per_expert = 3.0 * 4096.0 * 14336.0 * 2.0;
    let (r, _) = e.bytes(&g);
    assert!(
        (r - (2.0 * per_expert + 4096.0 * 2.0 + 8.0 * 2.0)).abs() < 1.0,
        "{r}"
    );
    assert_eq!(
        e.kind.flops(),
        2.0 * 2.0 * 3.0 * 4096.0 * 14336.0 + 6.0 * 2.0 * 14336.0
    );
}

#[test]
fn sliding_window_caps_the_cache() {
    // A mistral-style config with a 4096 window reads at most 4096 positions.
    let text = r#"{"model_type":"mistral","hidden_size":4096,"intermediate_size":14336,
        "num_hidden_layers":2,"num_attention_heads":32,"num_key_value_heads":8,
        "vocab_size":32000,"sliding_window":4096}"#;
    let m = archscope::workload::LlmConfig::from_json(text, "inline", "mistral-test").unwrap();
    let g = m.build(&fp16(), Phase::Decode { context: 10_000 }, 1);
    assert_eq!(g.kv_cache_bytes(), 2.0 * 2.0 * 8.0 * 4096.0 * 128.0 * 2.0);
    let qk = op(&g, "layers.0.attn.qk");
    assert_eq!(qk.kind.flops(), 2.0 * 4096.0 * 32.0 * 128.0);
}

#[test]
fn class_totals_are_exact_when_activations_spill() {
    // Prefill of 512 tokens on pixel8's big core: large activations spill out of the 1 MB L2,
    // so ops that look alike can read from different levels. Placement-aware classes must still
    // reproduce the per-op total exactly.
    use archscope::cost::{PlacementProfile, residency};
    use archscope::cost_models::model_for;
    let hw = Hardware::load("pixel8").unwrap();
    let m = load_llm("llama-1b").unwrap();
    let g = m.build(&fp16(), Phase::Prefill { prompt: 512 }, 1);
    for unit in 0..hw.units.len() {
        let model = model_for(&hw, unit, Mode::Calibrated).unwrap();
        let res = residency(&hw, unit, &g);
        let Ok(full) = evaluate(model.as_ref(), &g, &res) else {
            continue;
        };
        let classes = PlacementProfile::of(&g).classes(&g);
        let fast = evaluate_total(model.as_ref(), &g, &res, &classes).unwrap();
        let t = full.total.latency_s;
        assert!(
            (fast.latency_s - t).abs() <= 1e-9 * t,
            "unit {unit}: {} vs {t}",
            fast.latency_s
        );
    }
}
