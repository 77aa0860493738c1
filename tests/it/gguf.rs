//! GGUF files in (issue 18): small files written by the tests' own writer
//! ([`crate::common::gguf`]), priced tensor by tensor against llama.cpp's type sizes worked out
//! by hand; a Q4_K_M-style mix; truncated and corrupted headers; and `score` end to end.

use crate::common::TempDir;
use crate::common::gguf::{F16, F32, Gguf, Kv, Q4_K, Q6_K, Q8_0, TYPE_SIZES, tensor_bytes};
use archscope::workload::gguf::{GgufError, GgufValue, parse_header};
use archscope::workload::{
    GgmlType, Model, ModelError, Phase, QuantScheme, Role, load_llm, load_model,
};

const H: u64 = 256;
const FFN: u64 = 512;
const VOCAB: u64 = 320;
const KV_DIM: u64 = 128;

/// A 2-layer llama in the style of a Q4_K_M file: q4_k weights, a q6_k output, and q6_k
/// `attn_v` and `ffn_down` in layer 0 (not where llama.cpp's rule for 2 layers would put them,
/// layer 1: so the test sees that the file's types win over the named rule).
fn tiny_llama(with_output: bool) -> Gguf {
    let tokens: Vec<String> = (0..VOCAB).map(|i| format!("t{i}")).collect();
    let mut g = Gguf::new()
        .kv("general.architecture", Kv::Str("llama".into()))
        .kv("general.name", Kv::Str("tiny".into()))
        .kv("general.file_type", Kv::U32(15))
        .kv("llama.block_count", Kv::U32(2))
        .kv("llama.context_length", Kv::U32(2048))
        .kv("llama.embedding_length", Kv::U32(H as u32))
        .kv("llama.feed_forward_length", Kv::U32(FFN as u32))
        .kv("llama.attention.head_count", Kv::U32(4))
        .kv("llama.attention.head_count_kv", Kv::U32(2))
        .kv("llama.rope.freq_base", Kv::F32(500000.0))
        .kv("llama.attention.layer_norm_rms_epsilon", Kv::F32(1e-5))
        .kv("tokenizer.ggml.model", Kv::Str("gpt2".into()))
        .kv("tokenizer.ggml.tokens", Kv::Strs(tokens))
        .kv(
            "tokenizer.ggml.token_type",
            Kv::I32s(vec![1; VOCAB as usize]),
        )
        .kv("test.u8", Kv::U8(200))
        .kv("test.i8", Kv::I8(-5))
        .kv("test.u16", Kv::U16(60000))
        .kv("test.i16", Kv::I16(-300))
        .kv("test.i32", Kv::I32(-70000))
        .kv("test.u64", Kv::U64(1 << 40))
        .kv("test.i64", Kv::I64(-(1 << 40)))
        .kv("test.f64", Kv::F64(0.25))
        .kv("test.bool", Kv::Bool(true))
        .tensor("token_embd.weight", &[H, VOCAB], Q4_K)
        .tensor("output_norm.weight", &[H], F32);
    if with_output {
        g = g.tensor("output.weight", &[H, VOCAB], Q6_K);
    }
    for l in 0..2 {
        let more = if l == 0 { Q6_K } else { Q4_K };
        g = g
            .tensor(&format!("blk.{l}.attn_norm.weight"), &[H], F32)
            .tensor(&format!("blk.{l}.attn_q.weight"), &[H, H], Q4_K)
            .tensor(&format!("blk.{l}.attn_k.weight"), &[H, KV_DIM], Q4_K)
            .tensor(&format!("blk.{l}.attn_v.weight"), &[H, KV_DIM], more)
            .tensor(&format!("blk.{l}.attn_output.weight"), &[H, H], Q4_K)
            .tensor(&format!("blk.{l}.ffn_norm.weight"), &[H], F32)
            .tensor(&format!("blk.{l}.ffn_gate.weight"), &[H, FFN], Q4_K)
            .tensor(&format!("blk.{l}.ffn_up.weight"), &[H, FFN], Q4_K)
            .tensor(&format!("blk.{l}.ffn_down.weight"), &[FFN, H], more);
    }
    g
}

/// The weight bytes of [`tiny_llama`], by hand from llama.cpp's block sizes (q4_k: 144 bytes
/// per 256 weights, q6_k: 210, f32: 4 per weight):
/// * token_embd 320 rows × 144 = 46,080; output 320 × 210 = 67,200; output_norm 1,024;
/// * layer 0: norms 2 × 1,024, attn_q 256 × 144 = 36,864, attn_k 128 × 144 = 18,432,
///   attn_v 128 × 210 = 26,880, attn_output 36,864, ffn_gate and ffn_up 512 × 144 = 73,728
///   each, ffn_down 256 rows × 2 blocks × 210 = 107,520: 376,064;
/// * layer 1: the same with attn_v 18,432 and ffn_down 256 × 2 × 144 = 73,728: 333,824.
const TINY_WEIGHT_BYTES: u64 = 46_080 + 67_200 + 1_024 + 376_064 + 333_824;

fn write(dir: &TempDir, name: &str, g: &Gguf) -> String {
    let p = dir.join(name);
    std::fs::write(&p, g.bytes()).unwrap();
    p.display().to_string()
}

fn weight_bytes(g: &archscope::workload::Graph) -> f64 {
    g.tensors
        .iter()
        .filter(|t| t.role == Role::Weight)
        .map(|t| t.bytes())
        .sum()
}

#[test]
fn bytes_per_tensor_match_llama_cpp_type_sizes() {
    // One [256, 2] tensor of each type: 2 rows of 256 weights. By hand: f32 2 × 1,024 = 2,048;
    // f16 and bf16 1,024; q4_0 2 × 8 blocks × 18 = 288; q4_1 320; q5_0 352; q5_1 384;
    // q8_0 544; q2_k 2 × 84 = 168; q3_k 220; q4_k 288; q5_k 352; q6_k 420; iq4_nl 288.
    let expect = [
        (0, 2048),
        (1, 1024),
        (2, 288),
        (3, 320),
        (6, 352),
        (7, 384),
        (8, 544),
        (10, 168),
        (11, 220),
        (12, 288),
        (13, 352),
        (14, 420),
        (20, 288),
        (30, 1024),
    ];
    assert_eq!(expect.len(), TYPE_SIZES.len());
    let mut g = Gguf::new().kv("general.architecture", Kv::Str("llama".into()));
    for (id, _) in expect {
        g = g.tensor(&format!("t{id}"), &[256, 2], id);
    }
    let h = parse_header(&g.bytes()).unwrap();
    for (t, (id, bytes)) in h.tensors.iter().zip(expect) {
        assert_eq!(t.ggml.id(), id);
        assert_eq!(t.bytes(), bytes, "{}", t.name);
        assert_eq!(tensor_bytes(&t.dims, id), bytes, "{}", t.name);
        // The storage the LLM builder prices a weight of this type with: the same bytes.
        assert_eq!(
            t.ggml.storage().bytes(&[2, 256]),
            bytes as f64,
            "{}",
            t.name
        );
    }
}

#[test]
fn a_q4_k_m_file_is_priced_with_its_own_mix() {
    let dir = TempDir::new("gguf-mix");
    let path = write(&dir, "tiny.gguf", &tiny_llama(true));
    let Model::Llm(m) = load_model(&path).unwrap() else {
        panic!("an LLM")
    };
    assert_eq!(
        (m.hidden, m.ffn, m.layers, m.heads, m.kv_heads, m.head_dim),
        (256, 512, 2, 4, 2, 64)
    );
    assert_eq!((m.vocab, m.tied, m.name.as_str()), (320, false, "tiny"));
    assert_eq!(m.raw.max_position_embeddings, Some(2048));
    assert_eq!(archscope::workload::gguf::file_scheme(&m), Some("q4_k_m"));
    let q = QuantScheme::parse("q4_k_m").unwrap();
    for phase in [Phase::Decode { context: 64 }, Phase::Prefill { prompt: 16 }] {
        let g = m.try_build(&q, phase, 1).unwrap();
        assert_eq!(weight_bytes(&g), TINY_WEIGHT_BYTES as f64);
        let bytes = |n: &str| g.tensors.iter().find(|t| t.name == n).unwrap().bytes();
        assert_eq!(bytes("layers.0.attn.v_proj.weight"), 26_880.0);
        assert_eq!(bytes("layers.1.attn.v_proj.weight"), 18_432.0);
        assert_eq!(bytes("layers.0.mlp.down_proj.weight"), 107_520.0);
        assert_eq!(bytes("layers.1.mlp.down_proj.weight"), 73_728.0);
        assert_eq!(bytes("lm_head.weight"), 67_200.0);
        assert_eq!(bytes("layers.0.input_norm.weight"), 1_024.0);
    }
    // A KV modifier keeps the file's weights; another scheme re-prices the shapes by its rules:
    // q8_0 everywhere (34 bytes per 32 weights) but norms in the scheme's f16.
    let g = m
        .try_build(
            &QuantScheme::parse("q4_k_m+kv8").unwrap(),
            Phase::Decode { context: 64 },
            1,
        )
        .unwrap();
    assert_eq!(weight_bytes(&g), TINY_WEIGHT_BYTES as f64);
    let g = m
        .try_build(
            &QuantScheme::parse("q8_0").unwrap(),
            Phase::Decode { context: 64 },
            1,
        )
        .unwrap();
    // Matrices: 2 × 320 × 256 + 2 × (2 × 65,536 + 2 × 32,768 + 3 × 131,072) = 1,343,488
    // weights × 34/32 = 1,427,456 bytes; norms 5 × 256 × 2 bytes = 2,560.
    assert_eq!(weight_bytes(&g), 1_427_456.0 + 2_560.0);
}

#[test]
fn metadata_of_every_value_type_is_read() {
    let h = parse_header(&tiny_llama(true).bytes()).unwrap();
    assert_eq!(h.version, 3);
    assert_eq!((h.alignment, h.tensors.len()), (32, 21));
    let int = |k: &str| match h.get(k) {
        Some(GgufValue::Int(i)) => *i,
        other => panic!("{k}: {other:?}"),
    };
    assert_eq!(int("test.u8"), 200);
    assert_eq!(int("test.i8"), -5);
    assert_eq!(int("test.u16"), 60000);
    assert_eq!(int("test.i16"), -300);
    assert_eq!(int("test.i32"), -70000);
    assert_eq!(int("test.u64"), 1 << 40);
    assert_eq!(int("test.i64"), -(1 << 40));
    assert_eq!(h.get("test.f64"), Some(&GgufValue::Float(0.25)));
    assert_eq!(h.get("test.bool"), Some(&GgufValue::Bool(true)));
    match h.get("tokenizer.ggml.tokens") {
        Some(GgufValue::Array(a)) => assert_eq!((a.elem_type, a.len), (8, VOCAB)),
        other => panic!("{other:?}"),
    }
    let t = h.tensor("blk.1.ffn_down.weight").unwrap();
    assert_eq!((t.dims.as_slice(), t.ggml), (&[FFN, H][..], GgmlType::Q4K));
}

#[test]
fn no_output_tensor_means_tied_embeddings() {
    let dir = TempDir::new("gguf-tied");
    let path = write(&dir, "tied.gguf", &tiny_llama(false));
    let m = load_llm(&path).unwrap();
    assert!(m.tied);
    let g = m
        .try_build(
            &QuantScheme::parse("q4_k_m").unwrap(),
            Phase::Decode { context: 8 },
            1,
        )
        .unwrap();
    // The embedding table is the head, counted once: the file's bytes without output.weight.
    assert_eq!(weight_bytes(&g), (TINY_WEIGHT_BYTES - 67_200) as f64);
}

#[test]
fn an_f16_file_and_a_mixtral_style_moe() {
    let dir = TempDir::new("gguf-moe");
    let mut g = Gguf::new()
        .kv("general.architecture", Kv::Str("llama".into()))
        .kv("llama.block_count", Kv::U32(1))
        .kv("llama.embedding_length", Kv::U32(64))
        .kv("llama.feed_forward_length", Kv::U32(128))
        .kv("llama.attention.head_count", Kv::U32(4))
        .kv("llama.expert_count", Kv::U32(4))
        .kv("llama.expert_used_count", Kv::U32(2))
        .tensor("token_embd.weight", &[64, 100], F16)
        .tensor("output_norm.weight", &[64], F32)
        .tensor("output.weight", &[64, 100], F16)
        .tensor("blk.0.attn_norm.weight", &[64], F32)
        .tensor("blk.0.ffn_norm.weight", &[64], F32)
        .tensor("blk.0.ffn_gate_inp.weight", &[64, 4], F32);
    for t in ["attn_q", "attn_k", "attn_v", "attn_output"] {
        g = g.tensor(&format!("blk.0.{t}.weight"), &[64, 64], F16);
    }
    for t in ["ffn_gate_exps", "ffn_up_exps"] {
        g = g.tensor(&format!("blk.0.{t}.weight"), &[64, 128, 4], Q8_0);
    }
    g = g.tensor("blk.0.ffn_down_exps.weight", &[128, 64, 4], Q8_0);
    let path = write(&dir, "moe.gguf", &g);
    let m = load_llm(&path).unwrap();
    assert_eq!(m.family, archscope::workload::Family::Mixtral);
    assert_eq!(m.moe, Some((4, 2)));
    assert_eq!(archscope::workload::gguf::file_scheme(&m), Some("q8_0"));
    let graph = m
        .try_build(
            &QuantScheme::parse("q8_0").unwrap(),
            Phase::Decode { context: 8 },
            1,
        )
        .unwrap();
    // f16: embd and output 2 × 6,400 × 2 = 25,600, attention 4 × 4,096 × 2 = 32,768; f32: norms
    // 3 × 64 × 4 = 768, router 256 × 4 = 1,024; q8_0: experts 3 × 32,768 weights × 34/32
    // = 104,448. (The q8_0 experts hold the most weights, so the file's scheme is q8_0.)
    assert_eq!(
        weight_bytes(&graph),
        (25_600 + 32_768 + 768 + 1_024 + 104_448) as f64
    );
}

/// A 1-layer file of `arch` (`qwen3` or `gemma2`): width 64, 4 heads of 32 (`key_length`, so
/// q is 128 wide), 2 KV heads, MLP 128, vocabulary 100; matrices q8_0, norms f32, plus `extra`
/// per-layer norms of width `w` in f32. Under the file's scheme (q8_0, which holds the most
/// weights) the builder's default for a norm is f16, so only the file's table gives f32.
fn tiny_family(arch: &str, extra: &[(&str, u64)], with_output: bool) -> Gguf {
    let k = |s: &str| format!("{arch}.{s}");
    let mut g = Gguf::new()
        .kv("general.architecture", Kv::Str(arch.into()))
        .kv(&k("block_count"), Kv::U32(1))
        .kv(&k("context_length"), Kv::U32(256))
        .kv(&k("embedding_length"), Kv::U32(64))
        .kv(&k("feed_forward_length"), Kv::U32(128))
        .kv(&k("attention.head_count"), Kv::U32(4))
        .kv(&k("attention.head_count_kv"), Kv::U32(2))
        .kv(&k("attention.key_length"), Kv::U32(32))
        .kv(&k("attention.value_length"), Kv::U32(32))
        .tensor("token_embd.weight", &[64, 100], Q8_0)
        .tensor("output_norm.weight", &[64], F32)
        .tensor("blk.0.attn_norm.weight", &[64], F32)
        .tensor("blk.0.attn_q.weight", &[64, 128], Q8_0)
        .tensor("blk.0.attn_k.weight", &[64, 64], Q8_0)
        .tensor("blk.0.attn_v.weight", &[64, 64], Q8_0)
        .tensor("blk.0.attn_output.weight", &[128, 64], Q8_0)
        .tensor("blk.0.ffn_norm.weight", &[64], F32)
        .tensor("blk.0.ffn_gate.weight", &[64, 128], Q8_0)
        .tensor("blk.0.ffn_up.weight", &[64, 128], Q8_0)
        .tensor("blk.0.ffn_down.weight", &[128, 64], Q8_0);
    if with_output {
        g = g.tensor("output.weight", &[64, 100], Q8_0);
    }
    for (name, w) in extra {
        g = g.tensor(&format!("blk.0.{name}.weight"), &[*w], F32);
    }
    g
}

#[test]
fn qwen3_and_gemma2_extra_norms_are_priced_in_the_files_types() {
    let dir = TempDir::new("gguf-families");
    let q8 = QuantScheme::parse("q8_0").unwrap();
    // By hand, q8_0 is 34 bytes per 32 weights: token_embd and output 100 rows × 2 blocks × 34
    // = 6,800 each; attn_q, attn_output, ffn_gate, ffn_up, ffn_down 256 blocks × 34 = 8,704
    // each; attn_k, attn_v 128 × 34 = 4,352 each; f32 norms of 64: 256 bytes each.
    // Shared part, untied: 2 × 6,800 + 256 (output_norm) + 2 × 256 (attn_norm, ffn_norm)
    // + 5 × 8,704 + 2 × 4,352 = 66,592.
    let cases = [
        // Qwen3: per-head q and k norms of head_dim 32 in f32, 128 bytes each (f16 would be
        // 64); untied: 66,592 + 2 × 128 = 66,848.
        (
            "qwen3",
            vec![("attn_q_norm", 32), ("attn_k_norm", 32)],
            true,
            vec![
                ("layers.0.attn.q_norm.weight", 128.0),
                ("layers.0.attn.k_norm.weight", 128.0),
            ],
            66_848u64,
        ),
        // Gemma 2: post-attention and post-feed-forward norms of 64 in f32, 256 bytes each;
        // tied (no output.weight): 66,592 − 6,800 + 2 × 256 = 60,304.
        (
            "gemma2",
            vec![("post_attention_norm", 64), ("post_ffw_norm", 64)],
            false,
            vec![
                ("layers.0.attn.post_norm.weight", 256.0),
                ("layers.0.mlp.post_norm.weight", 256.0),
            ],
            60_304,
        ),
    ];
    for (arch, extra, with_output, per_tensor, total) in cases {
        let g = tiny_family(arch, &extra, with_output);
        let header = parse_header(&g.bytes()).unwrap();
        let file_bytes: u64 = header.tensors.iter().map(|t| t.bytes()).sum();
        assert_eq!(file_bytes, total, "{arch}: the file's own tensor bytes");
        let path = write(&dir, &format!("{arch}.gguf"), &g);
        let m = load_llm(&path).unwrap();
        assert_eq!(archscope::workload::gguf::file_scheme(&m), Some("q8_0"));
        assert_eq!((m.head_dim, m.tied), (32, !with_output), "{arch}");
        for phase in [Phase::Decode { context: 8 }, Phase::Prefill { prompt: 4 }] {
            let graph = m.try_build(&q8, phase, 1).unwrap();
            let bytes = |n: &str| {
                graph
                    .tensors
                    .iter()
                    .find(|t| t.name == n)
                    .map(|t| t.bytes())
            };
            for (name, b) in &per_tensor {
                assert_eq!(bytes(name), Some(*b), "{arch}: {name}");
            }
            assert_eq!(weight_bytes(&graph), total as f64, "{arch}");
        }
    }
}

#[test]
fn a_deepseek2_file_with_mla_and_shared_experts_loads_and_prices_every_tensor() {
    // A tiny DeepSeek-V2-style file: hidden 64, 2 layers (the first dense), 4 heads, q_lora 32,
    // kv_lora 16, rope 8 + nope 8 per head, v 8, 4 routed experts (2 active) of 32 and one
    // shared expert, vocab 64, untied; weights f16 (2 B), norms and router f32 (4 B).
    // f16 elements by hand: token_embd and output 64 × 64 = 4,096 each; per layer attn_q_a
    // 32 × 64 = 2,048, attn_q_b 64 × 32 = 2,048, attn_kv_a_mqa 24 × 64 = 1,536, attn_kv_b
    // 64 × 16 = 1,024, attn_output 64 × 32 = 2,048 (8,704 × 2 layers = 17,408); dense FFN
    // 3 × 96 × 64 = 18,432; routed experts 3 × 4 × 32 × 64 = 24,576; shared 3 × 32 × 64 =
    // 6,144: 74,752 × 2 B = 149,504. f32: per layer norms 64 + 32 + 16 + 64 = 176 (× 2 = 352),
    // router 4 × 64 = 256, output_norm 64: 672 × 4 B = 2,688. Total 152,192 bytes.
    let a = |s: &str| format!("deepseek2.{s}");
    let mut g = Gguf::new()
        .kv("general.architecture", Kv::Str("deepseek2".into()))
        .kv(&a("block_count"), Kv::U32(2))
        .kv(&a("context_length"), Kv::U32(512))
        .kv(&a("embedding_length"), Kv::U32(64))
        .kv(&a("feed_forward_length"), Kv::U32(96))
        .kv(&a("attention.head_count"), Kv::U32(4))
        .kv(&a("attention.head_count_kv"), Kv::U32(4))
        .kv(&a("attention.q_lora_rank"), Kv::U32(32))
        .kv(&a("attention.kv_lora_rank"), Kv::U32(16))
        .kv(&a("attention.key_length"), Kv::U32(16))
        .kv(&a("attention.value_length"), Kv::U32(8))
        .kv(&a("rope.dimension_count"), Kv::U32(8))
        .kv(&a("expert_count"), Kv::U32(4))
        .kv(&a("expert_used_count"), Kv::U32(2))
        .kv(&a("expert_shared_count"), Kv::U32(1))
        .kv(&a("leading_dense_block_count"), Kv::U32(1))
        .kv(&a("expert_feed_forward_length"), Kv::U32(32))
        .tensor("token_embd.weight", &[64, 64], F16);
    for i in 0..2 {
        let b = |n: &str| format!("blk.{i}.{n}.weight");
        g = g
            .tensor(&b("attn_norm"), &[64], F32)
            .tensor(&b("attn_q_a"), &[64, 32], F16)
            .tensor(&b("attn_q_a_norm"), &[32], F32)
            .tensor(&b("attn_q_b"), &[32, 64], F16)
            .tensor(&b("attn_kv_a_mqa"), &[64, 24], F16)
            .tensor(&b("attn_kv_a_norm"), &[16], F32)
            .tensor(&b("attn_kv_b"), &[16, 64], F16)
            .tensor(&b("attn_output"), &[32, 64], F16)
            .tensor(&b("ffn_norm"), &[64], F32);
        g = if i == 0 {
            g.tensor(&b("ffn_gate"), &[64, 96], F16)
                .tensor(&b("ffn_up"), &[64, 96], F16)
                .tensor(&b("ffn_down"), &[96, 64], F16)
        } else {
            g.tensor(&b("ffn_gate_inp"), &[64, 4], F32)
                .tensor(&b("ffn_gate_exps"), &[64, 32, 4], F16)
                .tensor(&b("ffn_up_exps"), &[64, 32, 4], F16)
                .tensor(&b("ffn_down_exps"), &[32, 64, 4], F16)
                .tensor(&b("ffn_gate_shexp"), &[64, 32], F16)
                .tensor(&b("ffn_up_shexp"), &[64, 32], F16)
                .tensor(&b("ffn_down_shexp"), &[32, 64], F16)
        };
    }
    g = g
        .tensor("output_norm.weight", &[64], F32)
        .tensor("output.weight", &[64, 64], F16);
    let header = parse_header(&g.bytes()).unwrap();
    let file_bytes: u64 = header.tensors.iter().map(|t| t.bytes()).sum();
    assert_eq!(file_bytes, 152_192, "the file's own tensor bytes");
    let dir = TempDir::new("gguf-deepseek2");
    let path = write(&dir, "tiny-deepseek2.gguf", &g);
    let m = load_llm(&path).unwrap();
    let q = QuantScheme::parse(archscope::workload::gguf::file_scheme(&m).unwrap()).unwrap();
    for phase in [Phase::Decode { context: 8 }, Phase::Prefill { prompt: 4 }] {
        let graph = m.try_build(&q, phase, 1).unwrap();
        assert_eq!(weight_bytes(&graph), 152_192.0, "{phase:?}");
    }
}

fn err(bytes: &[u8]) -> GgufError {
    parse_header(bytes).expect_err("a bad file")
}

#[test]
fn truncated_files_name_the_offset_at_every_cut() {
    let layout = tiny_llama(true).layout();
    let b = &layout.bytes;
    // Every cut inside the header, then every 61st byte through the data section.
    let cuts = (0..layout.data_at + 64).chain((layout.data_at + 64..b.len()).step_by(61));
    for n in cuts {
        let e = err(&b[..n]);
        let msg = e.to_string();
        assert!(msg.starts_with("byte "), "cut at {n}: {msg}");
        match e {
            GgufError::Truncated { offset, end, .. } => {
                assert_eq!(end, n as u64, "cut at {n}");
                assert!(
                    offset <= n as u64 || msg.contains("the data of tensor"),
                    "cut at {n}: {msg}"
                );
            }
            // A count that no longer fits in what is left of the file.
            GgufError::Invalid { offset, .. } => assert!(offset <= n as u64, "cut at {n}: {msg}"),
            GgufError::Metadata { .. } => panic!("cut at {n}: {msg}"),
        }
    }
    // A cut in the data section names the tensor whose data is missing.
    let msg = err(&b[..b.len() - 1]).to_string();
    assert!(
        msg.contains("the data of tensor `blk.1.ffn_down.weight`"),
        "{msg}"
    );
}

fn patch(b: &mut [u8], at: usize, v: &[u8]) {
    b[at..at + v.len()].copy_from_slice(v);
}

#[test]
fn counts_and_offsets_beyond_the_file_are_errors() {
    let layout = tiny_llama(true).layout();
    let invalid_at = |b: &[u8], at: u64, needle: &str| match err(b) {
        GgufError::Invalid {
            offset, expected, ..
        } => {
            assert_eq!(offset, at, "{expected}");
            assert!(expected.contains(needle), "{expected}");
        }
        other => panic!("{other}"),
    };
    // Tensor count: past the limit, then within it but past what the file can hold.
    let mut b = layout.bytes.clone();
    patch(&mut b, 8, &u64::MAX.to_le_bytes());
    invalid_at(&b, 8, "tensor count of at most 65536");
    patch(&mut b, 8, &60_000u64.to_le_bytes());
    invalid_at(&b, layout.infos_at as u64, "tensor count that fits");
    // Key-value count.
    let mut b = layout.bytes.clone();
    patch(&mut b, 16, &(1u64 << 40).to_le_bytes());
    invalid_at(&b, 16, "key-value count of at most");
    // The first key's length.
    let mut b = layout.bytes.clone();
    patch(&mut b, layout.kvs_at, &(1u64 << 62).to_le_bytes());
    invalid_at(&b, layout.kvs_at as u64, "key #0 (at most 65535 bytes)");
    // The tokens array's length: find it after its key and type (u32 8 then u64 len).
    let key = b"tokenizer.ggml.tokens";
    let at = layout
        .bytes
        .windows(key.len())
        .position(|w| w == key)
        .unwrap()
        + key.len()
        + 4
        + 4;
    let mut b = layout.bytes.clone();
    patch(&mut b, at, &(1u64 << 50).to_le_bytes());
    invalid_at(&b, at as u64, "length of `tokenizer.ggml.tokens` that fits");
    // The last tensor's data offset (after its name, dimension count, two dimensions and
    // type): past the end of the file, then misaligned.
    let name = b"blk.1.ffn_down.weight";
    let off_at = (layout.infos_at..layout.data_at)
        .rev()
        .find(|&i| layout.bytes[i..].starts_with(name))
        .unwrap()
        + name.len()
        + 4
        + 16
        + 4;
    let mut b = layout.bytes.clone();
    patch(&mut b, off_at, &(1u64 << 40).to_le_bytes());
    assert!(matches!(err(&b), GgufError::Truncated { .. }));
    assert!(err(&b).to_string().contains("blk.1.ffn_down.weight"));
    patch(&mut b, off_at, &u64::MAX.to_le_bytes());
    assert!(matches!(
        err(&b),
        GgufError::Invalid { .. } | GgufError::Truncated { .. }
    ));
    let mut b = layout.bytes.clone();
    let off = u64::from_le_bytes(b[off_at..off_at + 8].try_into().unwrap());
    patch(&mut b, off_at, &(off + 1).to_le_bytes());
    invalid_at(&b, layout.data_at as u64, "multiple of the alignment 32");
    // Overlapping data: the last tensor placed on the one before it.
    let mut b = layout.bytes.clone();
    patch(&mut b, off_at, &(off - 32).to_le_bytes());
    assert!(err(&b).to_string().contains("overlap"), "{}", err(&b));
}

#[test]
fn bad_magic_version_dims_and_types_are_errors() {
    let good = tiny_llama(true).bytes();
    let mut b = good.clone();
    b[0] = b'X';
    assert!(
        err(&b)
            .to_string()
            .starts_with("byte 0: expected the magic `GGUF`")
    );
    for (v, hint) in [
        (1u32, "version 1"),
        (4, "got 4"),
        (3u32.swap_bytes(), "big-endian"),
    ] {
        let mut b = good.clone();
        patch(&mut b, 4, &v.to_le_bytes());
        let msg = err(&b).to_string();
        assert!(msg.starts_with("byte 4: expected version 2 or 3"), "{msg}");
        assert!(msg.contains(hint), "{msg}");
    }
    let one = |dims: &[u64], ty: u32| {
        Gguf::new()
            .kv("general.architecture", Kv::Str("llama".into()))
            .tensor("w", dims, ty)
    };
    // Absurd dimensions: a size past 2^64 bytes, a zero, a fifth dimension, a row that is not a
    // whole number of q4_k blocks.
    for (dims, ty, needle) in [
        (vec![1u64 << 62, 1 << 62], F32, "within 2^64 bytes"),
        (vec![1u64 << 20, 1 << 20], F32, "the data of tensor `w`"),
        (vec![256, 0], F32, "dimension 1 (1 to 2^63 - 1)"),
        (vec![1, 1, 1, 1, 1], F32, "dimension count (1 to 4)"),
        (vec![100, 2], Q4_K, "multiple of q4_k's block of 256"),
    ] {
        // Header only: the writer cannot lay out data past 2^64 bytes.
        let b = header_only(&one(&dims, ty));
        let msg = err(&b).to_string();
        assert!(msg.contains(needle), "{dims:?}: {msg}");
    }
    // A ggml type archscope does not price (iq4_xs, 23) lists the ones it does.
    let msg = err(&header_only(&one(&[256, 1], 23))).to_string();
    assert!(msg.contains("got 23") && msg.contains("q4_k = 12"), "{msg}");
}

/// The header of `g` alone (no data section), for tensors the writer cannot lay out.
fn header_only(g: &Gguf) -> Vec<u8> {
    let mut bytes = b"GGUF".to_vec();
    bytes.extend(3u32.to_le_bytes());
    bytes.extend((g.tensors.len() as u64).to_le_bytes());
    bytes.extend(0u64.to_le_bytes());
    for (name, dims, ty) in &g.tensors {
        bytes.extend((name.len() as u64).to_le_bytes());
        bytes.extend(name.as_bytes());
        bytes.extend((dims.len() as u32).to_le_bytes());
        for d in dims {
            bytes.extend(d.to_le_bytes());
        }
        bytes.extend(ty.to_le_bytes());
        bytes.extend(0u64.to_le_bytes());
    }
    bytes
}

#[test]
fn unsupported_architectures_and_missing_keys_are_clear_errors() {
    let dir = TempDir::new("gguf-arch");
    let mut g = tiny_llama(true);
    g.kvs[0].1 = Kv::Str("falcon".into());
    for (k, _) in g.kvs.iter_mut() {
        if let Some(rest) = k.strip_prefix("llama.") {
            *k = format!("falcon.{rest}");
        }
    }
    let path = write(&dir, "falcon.gguf", &g);
    let e = load_llm(&path).unwrap_err();
    assert!(
        matches!(
            &e,
            ModelError::Invalid {
                field: "model_type",
                ..
            }
        ),
        "{e}"
    );
    let msg = e.to_string();
    assert!(
        msg.contains("general.architecture `falcon`") && msg.contains("expected one of llama"),
        "{msg}"
    );
    // No block count.
    let mut g = tiny_llama(true);
    g.kvs.retain(|(k, _)| k != "llama.block_count");
    let path = write(&dir, "noblocks.gguf", &g);
    let msg = load_llm(&path).unwrap_err().to_string();
    assert!(
        msg.contains("metadata `llama.block_count`: missing"),
        "{msg}"
    );
    // Nested arrays and a repeated key.
    let mut b = Gguf::new().kv("a", Kv::U8(1)).kv("a", Kv::U8(2)).bytes();
    assert!(err(&b).to_string().contains("`a` again"));
    b = Gguf::new().kv("arr", Kv::I32s(vec![1])).bytes();
    let at = 24 + 8 + 3 + 4;
    patch(&mut b, at, &9u32.to_le_bytes());
    assert!(err(&b).to_string().contains("nested arrays are not read"));
    // Not a GGUF at all, through the loader: the path and the offset.
    let p = dir.join("empty.gguf");
    std::fs::write(&p, b"").unwrap();
    let msg = load_llm(&p.display().to_string()).unwrap_err().to_string();
    assert!(
        msg.contains("not a usable GGUF file: byte 0: expected the magic"),
        "{msg}"
    );
}

#[test]
fn score_prices_a_gguf_file_end_to_end() {
    let dir = TempDir::new("gguf-score");
    let path = write(&dir, "tiny.gguf", &tiny_llama(true));
    let (ok, out, err) = crate::common::archscope_paths(
        "score --hw a100-80gb.toml --phase decode --context 64 --ideal --format json",
        &[("--model", &path)],
    );
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["quant"], "q4_k_m");
    assert_eq!(v["memory"]["weights_bytes"], TINY_WEIGHT_BYTES as f64);
    // `models show` reads the same file.
    let (ok, out, err) = crate::common::archscope(&["models", "show", &path]);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (v["hidden"].as_u64(), v["vocab"].as_u64()),
        (Some(256), Some(320))
    );
    // A corrupted file is one clean error line naming the file and the offset.
    let bad = dir.join("bad.gguf");
    std::fs::write(&bad, &tiny_llama(true).bytes()[..100]).unwrap();
    let (ok, _, err) = crate::common::archscope(&[
        "score",
        "--hw",
        "a100-80gb.toml",
        "--model",
        &bad.display().to_string(),
    ]);
    assert!(!ok);
    assert!(
        err.contains("bad.gguf: not a usable GGUF file: byte "),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn explore_map_and_search_take_a_gguf_file() {
    let dir = TempDir::new("gguf-explore");
    let path = write(&dir, "tiny.gguf", &tiny_llama(true));
    let out = dir.join("x");
    let (ok, _, err) = crate::common::archscope(&[
        "explore",
        "--hw",
        "a100-80gb.toml",
        "--model",
        &path,
        "--batch",
        "1",
        "--prompt",
        "16",
        "--context",
        "64",
        "--ideal",
        "--out",
        &out.display().to_string(),
    ]);
    assert!(ok, "{err}");
    let text = std::fs::read_to_string(out.join("points.csv")).unwrap();
    let mut rows = csv::Reader::from_reader(text.as_bytes());
    let header = rows.headers().unwrap().clone();
    let quant = header.iter().position(|h| h == "quant").unwrap();
    let quants: Vec<String> = rows
        .records()
        .map(|r| r.unwrap()[quant].to_string())
        .collect();
    assert!(
        !quants.is_empty() && quants.iter().all(|q| q == "q4_k_m"),
        "{quants:?}"
    );
    let (ok, out, err) = crate::common::archscope_paths(
        "map --objective placement --hw a100-80gb.toml --phase decode --context 64 --time-limit 10 --format json",
        &[("--model", &path)],
    );
    assert!(ok, "{err}");
    assert!(out.contains("q4_k_m"), "{out}");
    let found = dir.join("search");
    let (ok, _, err) = crate::common::archscope(&[
        "search",
        "llm",
        "--hw",
        "pixel8.toml",
        "--base",
        &path,
        "--generations",
        "2",
        "--max-memory",
        "1GiB",
        "--out",
        &found.display().to_string(),
    ]);
    assert!(ok, "{err}");
    let best = std::fs::read_to_string(found.join("best_0_config.json")).unwrap();
    assert!(!best.contains("gguf"), "{best}");
}

/// A small file for the mutation property: a 1-layer model with tiny tensors.
fn small_file() -> &'static [u8] {
    static FILE: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    FILE.get_or_init(|| {
        Gguf::new()
            .kv("general.architecture", Kv::Str("llama".into()))
            .kv("llama.block_count", Kv::U32(1))
            .kv(
                "tokenizer.ggml.tokens",
                Kv::Strs(vec!["a".into(), "b".into()]),
            )
            .kv("llama.rope.freq_base", Kv::F32(1e4))
            .tensor("token_embd.weight", &[32, 2], Q8_0)
            .tensor("blk.0.attn_q.weight", &[32, 32], F16)
            .bytes()
    })
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4000))]
    /// Any byte changed to any value (up to 8 of them) and any cut: an error or a header, never
    /// a panic (the header reader's fuzz property).
    #[test]
    fn corrupted_headers_never_panic(
        edits in proptest::collection::vec((0usize..2048, proptest::prelude::any::<u8>()), 0..8),
        cut in 0usize..4096,
    ) {
        let mut b = small_file().to_vec();
        for (at, v) in edits {
            let n = b.len();
            b[at % n] = v;
        }
        b.truncate(cut.min(b.len()));
        if let Ok(h) = parse_header(&b) {
            let _ = h.hf_config();
        }
    }
}
