//! The model families of issue 18 (Qwen2.5, Qwen3, Qwen3-MoE, Gemma 2 and 3, DeepSeek-V2/V3,
//! Llama 3.1, SmolLM2, Phi-3.5): parameter counts against the published figures, worked out by
//! hand from each config; one decode ledger per family checked by hand; sliding windows in
//! prefill and decode; MoE experts touched at batch > 1; and the errors of bad configs.

use archscope::workload::llm::{MAX_EXPERTS, MAX_LORA_RANK, MlaMode, SUPPORTED_MODEL_TYPES};
use archscope::workload::{Graph, LlmConfig, ModelError, Op, Phase, QuantScheme, load_llm};

fn fp16() -> QuantScheme {
    QuantScheme::parse("fp16").unwrap()
}

fn op<'a>(g: &'a Graph, name: &str) -> &'a Op {
    g.ops
        .iter()
        .find(|o| o.name == name)
        .unwrap_or_else(|| panic!("no op {name}"))
}

fn decode(name: &str, context: u64, batch: u64) -> Graph {
    load_llm(name)
        .unwrap()
        .build(&fp16(), Phase::Decode { context }, batch)
}

/// Asserts the count from the config and the graph's weights both equal `expected`.
fn params(name: &str, expected: u64) {
    let m = load_llm(name).unwrap();
    assert_eq!(m.param_count(), expected, "{name}");
    let g = m.build(&fp16(), Phase::Decode { context: 16 }, 1);
    assert_eq!(g.param_count(), expected, "{name} graph");
}

#[test]
fn qwen2_5_parameter_counts_match_published() {
    // Qwen/Qwen2.5-0.5B (card: 0.49 B; safetensors 494,032,768): H 896, 14 heads of 64, 2 KV
    // heads, I 4864, 24 layers, V 151936, tied. q/k/v carry biases, o does not.
    // attn: q 896·896 + 896 = 803,712; k, v 896·128 + 128 = 114,816 each; o 802,816 →
    // 1,836,160. MLP 3·896·4864 = 13,074,432. norms 1,792. layer 14,912,384; ×24 =
    // 357,897,216. embed 151936·896 = 136,134,656; final norm 896.
    assert_eq!(
        136_134_656 + 24 * (1_836_160 + 13_074_432 + 1_792) + 896,
        494_032_768u64
    );
    params("qwen2.5-0.5b", 494_032_768);
    // Qwen/Qwen2.5-1.5B (1,543,714,304): H 1536, 12 heads of 128, 2 KV heads, I 8960, 28
    // layers, tied. attn: q 1536² + 1536 = 2,360,832; k, v 1536·256 + 256 = 393,472 each; o
    // 2,359,296 → 5,507,072. MLP 3·1536·8960 = 41,287,680. norms 3,072 → 46,797,824; ×28 =
    // 1,310,339,072. embed 151936·1536 = 233,373,696; final norm 1,536.
    assert_eq!(
        233_373_696 + 28 * (5_507_072 + 41_287_680 + 3_072) + 1_536,
        1_543_714_304u64
    );
    params("qwen2.5-1.5b", 1_543_714_304);
    // Qwen/Qwen2.5-7B (7,615,616,512): H 3584, 28 heads of 128, 4 KV heads, I 18944, 28
    // layers, V 152064, untied. attn: q 3584² + 3584 = 12,848,640; k, v 3584·512 + 512 =
    // 1,835,520 each; o 12,845,056 → 29,364,736. MLP 3·3584·18944 = 203,685,888. norms 7,168
    // → 233,057,792; ×28 = 6,525,618,176. embed and head 2·152064·3584 = 1,089,994,752.
    assert_eq!(
        1_089_994_752 + 28 * (29_364_736 + 203_685_888 + 7_168) + 3_584,
        7_615_616_512u64
    );
    params("qwen2.5-7b", 7_615_616_512);
}

#[test]
fn qwen3_parameter_counts_match_published() {
    // Qwen3 model cards: 0.6 B (0.44 B non-embedding), 1.7 B (1.4 B), 4.0 B (3.6 B), 8.2 B
    // (6.95 B). 16 or 32 query heads and 8 KV heads of 128, no biases, q_norm and k_norm of 128
    // each per layer (256), V 151936.
    // 0.6B: H 1024, I 3072, 28 layers, tied. attn q 1024·2048 = 2,097,152, k, v 1024·1024
    // each, o 2,097,152 → 6,291,456 + 256. MLP 3·1024·3072 = 9,437,184. norms 2,048 → layer
    // 15,730,944; ×28 = 440,466,432. embed 151936·1024 = 155,582,464; final norm 1,024.
    assert_eq!(
        155_582_464 + 28 * (6_291_456 + 256 + 9_437_184 + 2_048) + 1_024,
        596_049_920u64
    );
    params("qwen3-0.6b", 596_049_920);
    // 1.7B: H 2048, I 6144, 16 heads, 28 layers, tied. attn 4·2048·2048·… : q 2048·2048 =
    // 4,194,304, k + v 2·2048·1024 = 4,194,304, o 4,194,304 → 12,582,912 + 256. MLP 3·2048·6144
    // = 37,748,736. norms 4,096 → 50,336,000; ×28 = 1,409,408,000. embed 151936·2048 =
    // 311,164,928. (Hugging Face lists 2.03 B: the checkpoint also stores the tied head.)
    assert_eq!(
        311_164_928 + 28 * (12_582_912 + 256 + 37_748_736 + 4_096) + 2_048,
        1_720_574_976u64
    );
    params("qwen3-1.7b", 1_720_574_976);
    // 4B: H 2560, I 9728, 32 heads, 36 layers, tied. attn q 2560·4096 = 10,485,760, k + v
    // 2·2560·1024 = 5,242,880, o 10,485,760 → 26,214,400 + 256. MLP 3·2560·9728 = 74,711,040.
    // norms 5,120 → 100,930,816; ×36 = 3,633,509,376. embed 151936·2560 = 388,956,160.
    assert_eq!(
        388_956_160 + 36 * (26_214_400 + 256 + 74_711_040 + 5_120) + 2_560,
        4_022_468_096u64
    );
    params("qwen3-4b", 4_022_468_096);
    // 8B: H 4096, I 12288, 32 heads, 36 layers, untied. attn q 4096·4096 = 16,777,216, k + v
    // 2·4096·1024 = 8,388,608, o 16,777,216 → 41,943,040 + 256. MLP 3·4096·12288 =
    // 150,994,944. norms 8,192 → 192,946,432; ×36 = 6,946,071,552. embed and head
    // 2·151936·4096 = 1,244,659,712.
    assert_eq!(
        1_244_659_712 + 36 * (41_943_040 + 256 + 150_994_944 + 8_192) + 4_096,
        8_190_735_360u64
    );
    params("qwen3-8b", 8_190_735_360);
}

#[test]
fn moe_parameter_counts_total_and_active_match_published() {
    // Qwen/Qwen3-30B-A3B (card: 30.5 B total, 3.3 B activated): H 2048, 32 heads and 4 KV
    // heads of 128, 48 layers, 128 experts of width 768, 8 per token, no shared expert, V
    // 151936, untied.
    // attn q 2048·4096 = 8,388,608, k + v 2·2048·512 = 2,097,152, o 8,388,608 → 18,874,368,
    // + q/k norms 256. experts 128·3·2048·768 = 603,979,776; router 128·2048 = 262,144. norms
    // 4,096. layer 623,120,640; ×48 = 29,909,790,720. embed and head 2·151936·2048 =
    // 622,329,856; final norm 2,048.
    let layer = 18_874_368 + 256 + 603_979_776 + 262_144 + 4_096;
    assert_eq!(layer, 623_120_640u64);
    assert_eq!(48 * layer + 622_329_856 + 2_048, 30_532_122_624);
    params("qwen3-30b-a3b", 30_532_122_624);
    // Active: 120 idle experts of 3·2048·768 = 4,718,592 in each of 48 layers.
    let m = load_llm("qwen3-30b-a3b").unwrap();
    assert_eq!(
        m.active_param_count(),
        30_532_122_624 - 48 * 120 * 4_718_592
    );
    assert_eq!(m.active_param_count(), 3_353_032_704); // 3.3 B
    // deepseek-ai/DeepSeek-V2-Lite (paper and card: 15.7 B total, 2.4 B activated): H 2048,
    // 16 heads, q_lora_rank null, kv_lora_rank 512, nope 128, rope 64, v 128; 27 layers, the
    // first dense (I 10944), the others 64 routed experts (6 per token) and 2 shared, width
    // 1408; V 102400, untied.
    // attn: q_proj 2048·16·192 = 6,291,456; kv_a 2048·576 = 1,179,648 + norm 512; kv_b
    // 512·16·256 = 2,097,152; o 16·128·2048 = 4,194,304 → 13,763,072.
    // dense layer: + MLP 3·2048·10944 = 67,239,936 + norms 4,096 → 81,007,104.
    // MoE layer: + experts 64·3·2048·1408 = 553,648,128, shared 3·2048·2816 = 17,301,504,
    // router 64·2048 = 131,072, norms 4,096 → 584,847,872; ×26 = 15,206,044,672.
    // embed and head 2·102400·2048 = 419,430,400; final norm 2,048.
    assert_eq!(
        81_007_104 + 26 * 584_847_872 + 419_430_400 + 2_048,
        15_706_484_224u64
    );
    params("deepseek-v2-lite", 15_706_484_224);
    let m = load_llm("deepseek-v2-lite").unwrap();
    // 58 idle experts of 3·2048·1408 = 8,650,752 in 26 layers; DeepSeek counts activated
    // parameters without the input embedding (102400·2048 = 209,715,200): 2.45 B ("2.4B").
    assert_eq!(m.active_param_count(), 15_706_484_224 - 26 * 58 * 8_650_752);
    assert_eq!(m.active_params_without_embedding(), 2_451_435_008);
    // deepseek-ai/DeepSeek-V3 (671 B total, 37 B activated; the checkpoint's 685 B include the
    // 14 B multi-token-prediction module, which is not part of the model that generates): H
    // 7168, 128 heads, q_lora_rank 1536, kv_lora_rank 512, nope 128, rope 64, v 128; 61
    // layers, 3 dense (I 18432), 58 with 256 routed experts (8 per token) and 1 shared, width
    // 2048; the router has a 256-entry score-correction bias (noaux_tc); V 129280, untied.
    // attn: q_a 7168·1536 = 11,010,048 + norm 1,536; q_b 1536·128·192 = 37,748,736; kv_a
    // 7168·576 = 4,128,768 + norm 512; kv_b 512·128·256 = 16,777,216; o 128·128·7168 =
    // 117,440,512 → 187,107,328.
    // dense layer: + 3·7168·18432 = 396,361,728 + norms 14,336 → 583,483,392; ×3.
    // MoE layer: + experts 256·3·7168·2048 = 11,274,289,152, shared 3·7168·2048 = 44,040,192,
    // router 256·7168 = 1,835,008 + bias 256, norms 14,336 → 11,507,286,272; ×58.
    // embed and head 2·129280·7168 = 1,853,358,080; final norm 7,168.
    assert_eq!(
        3 * 583_483_392 + 58 * 11_507_286_272 + 1_853_358_080 + 7_168,
        671_026_419_200u64
    );
    params("deepseek-v3", 671_026_419_200);
    let m = load_llm("deepseek-v3").unwrap();
    // 248 idle experts of 3·7168·2048 = 44,040,192 in 58 layers; without the embedding
    // (129280·7168 = 926,679,040): 36.6 B ("37B").
    assert_eq!(
        m.active_param_count(),
        671_026_419_200 - 58 * 248 * 44_040_192
    );
    assert_eq!(m.active_params_without_embedding(), 36_625_618_432);
    // Mixtral 8x7B keeps its count, and its active count is the published 12.9 B: 6 idle
    // experts of 3·4096·14336 = 176,160,768 in 32 layers.
    let m = load_llm("mixtral-8x7b").unwrap();
    assert_eq!(
        m.active_param_count(),
        46_702_792_704 - 32 * 6 * 176_160_768
    );
    assert_eq!(m.active_param_count(), 12_879_925_248);
}

#[test]
fn gemma_llama_phi_parameter_counts_match_published() {
    // google/gemma-2-2b (2,614,341,888): H 2304, 8 heads and 4 KV heads of 256, I 9216, 26
    // layers, V 256000, tied; four norms per layer (pre and post attention, pre and post MLP).
    // attn q 2304·2048 = 4,718,592, k + v 2·2304·1024 = 4,718,592, o 4,718,592 → 14,155,776.
    // MLP 3·2304·9216 = 63,700,992. norms 4·2304 = 9,216. layer 77,865,984; ×26 =
    // 2,024,515,584. embed 256000·2304 = 589,824,000; final norm 2,304.
    assert_eq!(
        589_824_000 + 26 * (14_155_776 + 63_700_992 + 9_216) + 2_304,
        2_614_341_888u64
    );
    params("gemma-2-2b", 2_614_341_888);
    // google/gemma-3-1b-pt (999,885,952, "1B"): H 1152, 4 heads and 1 KV head of 256, I 6912,
    // 26 layers, V 262144, tied, q/k norms of 256 each. attn q 1152·1024 = 1,179,648, k + v
    // 2·1152·256 = 589,824, o 1,179,648 → 2,949,120 + 512. MLP 3·1152·6912 = 23,887,872. norms
    // 4·1152 = 4,608 → 26,842,112; ×26 = 697,894,912. embed 262144·1152 = 301,989,888.
    assert_eq!(
        301_989_888 + 26 * (2_949_120 + 512 + 23_887_872 + 4_608) + 1_152,
        999_885_952u64
    );
    params("gemma-3-1b", 999_885_952);
    // google/gemma-3-4b-pt, text model (the `gemma3` config's text_config with transformers'
    // Gemma3TextConfig defaults: 8 heads, 4 KV heads of 256, V 262208): H 2560, I 10240, 34
    // layers. attn q 2560·2048 = 5,242,880, k + v 2·2560·1024 = 5,242,880, o 5,242,880 →
    // 15,728,640 + 512. MLP 3·2560·10240 = 78,643,200. norms 10,240 → 94,382,592; ×34 =
    // 3,209,008,128. embed 262208·2560 = 671,252,480; final norm 2,560.
    let text = 671_252_480 + 34 * (15_728_640 + 512 + 78_643_200 + 10_240) + 2_560;
    assert_eq!(text, 3_880_263_168u64);
    params("gemma-3-4b", text);
    // The published total of the multimodal checkpoint, 4,300,079,472, is this plus the
    // SigLIP tower (896 px, patch 14, 27 layers of 1152, MLP 4304) and the projector:
    // patch conv 3·14·14·1152 + 1152 = 678,528; positions 64²·1152 = 4,718,592; per layer
    // q/k/v/o 4·(1152² + 1152) = 5,313,024, MLP 2·1152·4304 + 4304 + 1152 = 9,921,872, two
    // LayerNorms 4,608 → 15,239,504, ×27 = 411,466,608; post LayerNorm 2,304 → 416,866,032.
    // Projector 1152·2560 + soft-embedding norm 1152 = 2,950,272.
    let vision = 678_528 + 4_718_592 + 27 * (5_313_024 + 9_921_872 + 4_608) + 2_304;
    assert_eq!(text + vision + 2_950_272, 4_300_079_472);
    // meta-llama/Llama-3.1-8B (8,030,261,248): the Llama 3 8B shape; rope scaling adds none.
    // attn 4096² ·2 + 2·4096·1024 = 41,943,040; MLP 3·4096·14336 = 176,160,768; norms 8,192
    // → 218,112,000; ×32 = 6,979,584,000; embed and head 2·128256·4096 = 1,050,673,152.
    assert_eq!(32 * 218_112_000 + 1_050_673_152 + 4_096, 8_030_261_248u64);
    params("llama-3.1-8b", 8_030_261_248);
    // HuggingFaceTB/SmolLM2-1.7B (1,711,376,384): H 2048, 32 heads, 32 KV heads, I 8192, 24
    // layers, V 49152, tied. attn 4·2048² = 16,777,216; MLP 3·2048·8192 = 50,331,648; norms
    // 4,096 → 67,112,960; ×24 = 1,610,711,040. embed 49152·2048 = 100,663,296.
    assert_eq!(100_663_296 + 24 * 67_112_960 + 2_048, 1_711_376_384u64);
    params("smollm2-1.7b", 1_711_376_384);
    // microsoft/Phi-3.5-mini-instruct (3,821,079,552, the Phi-3-mini shape): H 3072, 32
    // heads, I 8192, 32 layers, V 32064, untied. attn 4·3072² = 37,748,736; MLP 3·3072·8192 =
    // 75,497,472; norms 6,144 → 113,252,352; ×32 = 3,624,075,264; embed and head
    // 2·32064·3072 = 197,001,216; final norm 3,072.
    assert_eq!(3_624_075_264 + 197_001_216 + 3_072, 3_821_079_552u64);
    params("phi-3.5-mini", 3_821_079_552);
}

#[test]
fn qwen_decode_ledgers_by_hand() {
    // Qwen2.5-0.5B, decode at context 1024, batch 1, fp16 (2 bytes everywhere).
    let g = decode("qwen2.5-0.5b", 1024, 1);
    let q = op(&g, "layers.0.attn.q_proj");
    assert_eq!(q.kind.flops(), 2.0 * 896.0 * 896.0);
    // read x (896·2) + W (896·896·2) + bias (896·2); write q (896·2)
    assert_eq!(q.bytes(&g), (1_792.0 + 1_605_632.0 + 1_792.0, 1_792.0));
    let k = op(&g, "layers.0.attn.k_proj");
    assert_eq!(k.kind.flops(), 2.0 * 896.0 * 128.0);
    assert_eq!(k.bytes(&g), (1_792.0 + 229_376.0 + 256.0, 256.0));
    // o has no bias: read ctx 1,792 + W 1,605,632.
    assert_eq!(
        op(&g, "layers.0.attn.o_proj").bytes(&g),
        (1_792.0 + 1_605_632.0, 1_792.0)
    );
    // QKᵀ: 14 query heads over 2 KV heads of 64 at 1024 positions: FLOPs 2·1024·14·64; reads
    // q 1,792 and the K cache 2·1024·64·2 = 262,144; writes 1024·14 scores of 2 bytes.
    let qk = op(&g, "layers.0.attn.qk");
    assert_eq!(qk.kind.flops(), 2.0 * 1024.0 * 14.0 * 64.0);
    assert_eq!(qk.bytes(&g), (1_792.0 + 262_144.0, 28_672.0));

    // Qwen3-0.6B: per-head q_norm over 16 heads of 128 (4 FLOPs per element), before RoPE.
    let g = decode("qwen3-0.6b", 1024, 1);
    let qn = op(&g, "layers.0.attn.q_norm");
    assert_eq!(qn.kind.flops(), 4.0 * 16.0 * 128.0);
    // reads q 2048·2 and the 128-wide weight; writes 2048·2.
    assert_eq!(qn.bytes(&g), (4_096.0 + 256.0, 4_096.0));
    let kn = op(&g, "layers.0.attn.k_norm");
    assert_eq!(kn.kind.flops(), 4.0 * 8.0 * 128.0);
    assert_eq!(
        op(&g, "layers.0.attn.q_proj").kind.flops(),
        2.0 * 1024.0 * 2048.0
    );
    // QKᵀ: 16 heads of 128 at 1024 keys; the K cache of 8 KV heads is 8·1024·128·2 bytes.
    let qk = op(&g, "layers.0.attn.qk");
    assert_eq!(qk.kind.flops(), 2.0 * 1024.0 * 16.0 * 128.0);
    assert_eq!(qk.bytes(&g), (4_096.0 + 2_097_152.0, 32_768.0));

    // Qwen3-30B-A3B at batch 1: 8 of 128 experts of width 768.
    let g = decode("qwen3-30b-a3b", 1024, 1);
    let e = op(&g, "layers.0.moe.experts");
    // 2 FLOPs · 8 experts · 3 matrices · 2048 · 768, plus SwiGLU 6 FLOPs · 8 · 768.
    assert_eq!(
        e.kind.flops(),
        2.0 * 8.0 * 3.0 * 2048.0 * 768.0 + 6.0 * 8.0 * 768.0
    );
    // reads x 4,096, 8/128 of each 128·768·2048·2 = 402,653,184-byte matrix, routing 128·2.
    let (r, w) = e.bytes(&g);
    assert!(
        (r - (4_096.0 + 3.0 * 402_653_184.0 / 16.0 + 256.0)).abs() < 1e-3,
        "{r}"
    );
    assert_eq!(w, 4_096.0);
    let router = op(&g, "layers.0.moe.router");
    assert_eq!(router.kind.flops(), 2.0 * 2048.0 * 128.0 + 5.0 * 128.0);
}

#[test]
fn moe_at_batch_above_one_reads_the_expected_distinct_experts() {
    // Mixtral 8x7B decode at batch 4: each token picks 2 of 8, so 8·(1 − (6/8)⁴) = 8·(1 −
    // 81/256) = 5.46875 distinct experts are read on average, not 2 and not 4·2 = 8.
    let g = decode("mixtral-8x7b", 512, 4);
    let e = op(&g, "layers.0.moe.experts");
    let per_expert = 3.0 * 4096.0 * 14336.0 * 2.0;
    let (r, _) = e.bytes(&g);
    // x: 4·4096·2; routing 4·8·2.
    let expected = 5.468_75 * per_expert + 32_768.0 + 64.0;
    assert!((r - expected).abs() < 1.0, "{r} vs {expected}");
    // FLOPs follow the tokens: 4 tokens · 2 experts each.
    assert_eq!(
        e.kind.flops(),
        2.0 * 8.0 * 3.0 * 4096.0 * 14336.0 + 6.0 * 8.0 * 14336.0
    );
    // Qwen3-30B-A3B at batch 4: 128·(1 − (15/16)⁴) = 128·14911/65536 = 29.123046875.
    let g = decode("qwen3-30b-a3b", 1024, 4);
    let (r, _) = op(&g, "layers.0.moe.experts").bytes(&g);
    let per_expert = 3.0 * 768.0 * 2048.0 * 2.0;
    let expected = 29.123_046_875 * per_expert + 4.0 * 4_096.0 + 4.0 * 256.0;
    assert!((r - expected).abs() < 1.0, "{r} vs {expected}");
    // Prefill touches every expert: Mixtral at 64 prompt tokens reads all 8 to within
    // 8·0.75⁶⁴ ≈ 8·10⁻⁸ of an expert.
    let m = load_llm("mixtral-8x7b").unwrap();
    let g = m.build(&fp16(), Phase::Prefill { prompt: 64 }, 1);
    let (r, _) = op(&g, "layers.0.moe.experts").bytes(&g);
    let per_expert = 3.0 * 4096.0 * 14336.0 * 2.0;
    // All 8 experts, x 64·4096·2 = 524,288 and routing 64·8·2 = 1,024; short by
    // 8·0.75⁶⁴·per_expert ≈ 28.5 bytes.
    let all = 8.0 * per_expert + 524_288.0 + 1_024.0;
    let missing = 8.0 * 0.75f64.powi(64) * per_expert;
    assert!((all - r - missing).abs() < 1e-3, "{r} vs {all}");
    assert!(missing < 30.0);
}

#[test]
fn gemma_local_and_global_layers_by_hand() {
    // Gemma-2-2B decode at context 8192, beyond its 4096 window: layer 0 is local, layer 1
    // global. 8 query heads, 4 KV heads of 256.
    let g = decode("gemma-2-2b", 8192, 1);
    let qk0 = op(&g, "layers.0.attn.qk");
    assert_eq!(qk0.kind.flops(), 2.0 * 4096.0 * 8.0 * 256.0);
    // reads q 2048·2 and the local K cache 4·4096·256·2 = 8,388,608.
    assert_eq!(qk0.bytes(&g), (4_096.0 + 8_388_608.0, 4096.0 * 8.0 * 2.0));
    let qk1 = op(&g, "layers.1.attn.qk");
    assert_eq!(qk1.kind.flops(), 2.0 * 8192.0 * 8.0 * 256.0);
    assert_eq!(qk1.bytes(&g).0, 4_096.0 + 16_777_216.0);
    // Soft-capping of the scores: 3 FLOPs (÷, tanh, ×) on each of 4096·8 scores, read and
    // written at 2 bytes.
    let sc = op(&g, "layers.0.attn.softcap");
    assert_eq!(sc.kind.flops(), 3.0 * 4096.0 * 8.0);
    assert_eq!(sc.bytes(&g), (65_536.0, 65_536.0));
    // And of the logits: 3 · 256000.
    assert_eq!(op(&g, "final_softcap").kind.flops(), 3.0 * 256_000.0);
    // Post-attention norm over the width 2304.
    assert_eq!(op(&g, "layers.0.attn.post_norm").kind.flops(), 4.0 * 2304.0);
    assert_eq!(op(&g, "layers.0.mlp.post_norm").kind.flops(), 4.0 * 2304.0);
    // GeGLU over 9216: 10 FLOPs per element.
    assert_eq!(op(&g, "layers.0.mlp.act").kind.flops(), 10.0 * 9216.0);
    // KV cache: 13 local layers of 2·4·4096·256·2 = 16,777,216 bytes and 13 global of
    // 2·4·8192·256·2 = 33,554,432.
    let expected = 13.0 * 16_777_216.0 + 13.0 * 33_554_432.0;
    assert_eq!(g.kv_cache_bytes(), expected);
    let m = load_llm("gemma-2-2b").unwrap();
    assert_eq!(m.kv_cache_bytes(&fp16(), 1, 8192), expected);

    // Gemma-3-1B decode at context 4096: window 512, layers 5, 11, 17, 23 global (pattern 6).
    let m = load_llm("gemma-3-1b").unwrap();
    assert_eq!(m.layer_window(0), Some(512));
    assert_eq!(m.layer_window(5), None);
    assert_eq!(m.local_layer_count(), 22);
    let g = m.build(&fp16(), Phase::Decode { context: 4096 }, 1);
    // 22 local layers of 2·1·512·256·2 = 524,288 bytes, 4 global of 2·1·4096·256·2 =
    // 4,194,304.
    let expected = 22.0 * 524_288.0 + 4.0 * 4_194_304.0;
    assert_eq!(g.kv_cache_bytes(), expected);
    assert_eq!(m.kv_cache_bytes(&fp16(), 1, 4096), expected);
    let qk = op(&g, "layers.0.attn.qk");
    assert_eq!(qk.kind.flops(), 2.0 * 512.0 * 4.0 * 256.0);
    assert_eq!(
        op(&g, "layers.5.attn.qk").kind.flops(),
        2.0 * 4096.0 * 4.0 * 256.0
    );
    // q_norm over 4 heads of 256.
    assert_eq!(
        op(&g, "layers.0.attn.q_norm").kind.flops(),
        4.0 * 4.0 * 256.0
    );
    // Gemma 3 has no soft-capping.
    assert!(!g.ops.iter().any(|o| o.name.contains("softcap")));

    // Prefill of 1024 tokens on local layer 0: query x sees min(x, 512) keys, so the pairs
    // are 1+…+512 + 512·512 = 131,328 + 262,144 = 393,472; the append stores the last 512
    // positions only, K and V: 2 · 512 · 256 · 2 bytes.
    let g = m.build(&fp16(), Phase::Prefill { prompt: 1024 }, 1);
    let qk = op(&g, "layers.0.attn.qk");
    assert_eq!(qk.kind.flops(), 2.0 * 393_472.0 * 4.0 * 256.0);
    assert_eq!(
        op(&g, "layers.0.attn.kv_append").bytes(&g).1,
        2.0 * 512.0 * 256.0 * 2.0
    );
    // The global layer 5 sees the causal triangle 1024·1025/2 = 524,800 pairs and stores all.
    assert_eq!(
        op(&g, "layers.5.attn.qk").kind.flops(),
        2.0 * 524_800.0 * 4.0 * 256.0
    );
    assert_eq!(
        op(&g, "layers.5.attn.kv_append").bytes(&g).1,
        2.0 * 1024.0 * 256.0 * 2.0
    );
}

#[test]
fn deepseek_mla_decode_ledger_by_hand() {
    // DeepSeek-V2-Lite decode at context 1024, batch 1, fp16. 16 heads, q_proj (no q lora),
    // kv_lora_rank 512, nope 128, rope 64, v 128. Default: absorbed.
    let g = decode("deepseek-v2-lite", 1024, 1);
    let l = "layers.1.attn";
    assert_eq!(
        op(&g, &format!("{l}.q_proj")).kind.flops(),
        2.0 * 2048.0 * 3072.0
    );
    assert_eq!(
        op(&g, &format!("{l}.kv_a_proj")).kind.flops(),
        2.0 * 2048.0 * 576.0
    );
    // q_nope · W_UK per head: 16 × (1×128 · 128×512): reads q 3072·2 and the key half of
    // kv_b 16·128·512·2; writes 16·512·2.
    let qa = op(&g, &format!("{l}.q_absorb"));
    assert_eq!(qa.kind.flops(), 2.0 * 16.0 * 512.0 * 128.0);
    assert_eq!(qa.bytes(&g), (6_144.0 + 2_097_152.0, 16_384.0));
    // Scores against the cache as it lies: 16 heads of 512 + 64 over 1024 positions; reads
    // the absorbed query 16,384, q 6,144, the latent cache 1024·512·2 = 1,048,576 and the
    // rope cache 1024·64·2 = 131,072; writes 1024·16 scores.
    let qk = op(&g, &format!("{l}.qk"));
    assert_eq!(qk.kind.flops(), 2.0 * 1024.0 * 16.0 * 576.0);
    assert_eq!(
        qk.bytes(&g),
        (16_384.0 + 6_144.0 + 1_048_576.0 + 131_072.0, 32_768.0)
    );
    // Values are the latents: 16 heads of 512.
    let av = op(&g, &format!("{l}.av"));
    assert_eq!(av.kind.flops(), 2.0 * 1024.0 * 16.0 * 512.0);
    assert_eq!(av.bytes(&g), (32_768.0 + 1_048_576.0, 16_384.0));
    let va = op(&g, &format!("{l}.v_absorb"));
    assert_eq!(va.kind.flops(), 2.0 * 16.0 * 128.0 * 512.0);
    assert_eq!(
        op(&g, &format!("{l}.o_proj")).kind.flops(),
        2.0 * 2048.0 * 2048.0
    );
    // The cache holds latent + rope per token and layer: 27 · 1024 · 576 · 2 bytes.
    assert_eq!(g.kv_cache_bytes(), 27.0 * 1024.0 * 576.0 * 2.0);
    // MoE in layer 1 (layer 0 is dense): 6 experts of 1408 and two shared (one MLP of 2816).
    let e = op(&g, "layers.1.moe.experts");
    assert_eq!(
        e.kind.flops(),
        2.0 * 6.0 * 3.0 * 2048.0 * 1408.0 + 6.0 * 6.0 * 1408.0
    );
    assert_eq!(
        op(&g, "layers.1.mlp.shared.gate_proj").kind.flops(),
        2.0 * 2048.0 * 2816.0
    );
    assert_eq!(
        op(&g, "layers.0.mlp.gate_proj").kind.flops(),
        2.0 * 2048.0 * 10944.0
    );
    assert!(!g.ops.iter().any(|o| o.name == "layers.0.moe.experts"));

    // Naive: decompress the 1024 cached latents to keys (16·128) and values (16·128), then
    // attend per head with 192-wide keys and 128-wide values.
    let m = load_llm("deepseek-v2-lite?mla=naive").unwrap();
    assert_eq!(m.mla.unwrap().mode, MlaMode::Naive);
    let g = m.build(&fp16(), Phase::Decode { context: 1024 }, 1);
    let kb = op(&g, &format!("{l}.k_b_proj"));
    assert_eq!(kb.kind.flops(), 2.0 * 1024.0 * 512.0 * 2048.0);
    // reads the latent cache and W_UK (2048·512·2); writes 1024·2048·2.
    assert_eq!(kb.bytes(&g), (1_048_576.0 + 2_097_152.0, 4_194_304.0));
    assert_eq!(
        op(&g, &format!("{l}.qk")).kind.flops(),
        2.0 * 1024.0 * 16.0 * 192.0
    );
    assert_eq!(
        op(&g, &format!("{l}.av")).kind.flops(),
        2.0 * 1024.0 * 16.0 * 128.0
    );
    // Same cache, same parameters in both modes.
    assert_eq!(g.kv_cache_bytes(), 27.0 * 1024.0 * 576.0 * 2.0);
    assert_eq!(g.param_count(), 15_706_484_224);

    // DeepSeek-V3: compressed queries (1536) and the router's correction bias.
    let g = decode("deepseek-v3", 512, 1);
    assert_eq!(
        op(&g, "layers.3.attn.q_a_proj").kind.flops(),
        2.0 * 7168.0 * 1536.0
    );
    assert_eq!(op(&g, "layers.3.attn.q_a_norm").kind.flops(), 4.0 * 1536.0);
    assert_eq!(
        op(&g, "layers.3.attn.q_b_proj").kind.flops(),
        2.0 * 1536.0 * 128.0 * 192.0
    );
    // Router reads x 7168·2, its weight 256·7168·2 and bias 256·2; writes 256·2.
    let r = op(&g, "layers.3.moe.router");
    assert_eq!(r.bytes(&g), (14_336.0 + 3_670_016.0 + 512.0, 512.0));
}

#[test]
fn llama_3_1_and_phi_windows_by_hand() {
    // Rope scaling changes no cost: Llama 3.1 8B decodes exactly as Llama 3 8B.
    let a = decode("llama-3.1-8b", 4096, 2);
    let b = decode("llama-3-8b", 4096, 2);
    assert_eq!(a.flops(), b.flops());
    assert_eq!(a.kv_cache_bytes(), b.kv_cache_bytes());
    assert_eq!(a.weight_bytes(), b.weight_bytes());
    // Phi-3-mini's 2047 window: decode at 4096 reads 2047 positions of 32 heads of 96.
    let g = decode("phi-3-mini", 4096, 1);
    let qk = op(&g, "layers.0.attn.qk");
    assert_eq!(qk.kind.flops(), 2.0 * 2047.0 * 32.0 * 96.0);
    assert_eq!(g.kv_cache_bytes(), 32.0 * 2.0 * 32.0 * 2047.0 * 96.0 * 2.0);
    // Phi-3.5-mini's window (262,144) is above the context: nothing is capped.
    let g = decode("phi-3.5-mini", 4096, 1);
    assert_eq!(
        op(&g, "layers.0.attn.qk").kind.flops(),
        2.0 * 4096.0 * 32.0 * 96.0
    );
    // SmolLM2 is plain multi-head attention: 32 KV heads of 64.
    let g = decode("smollm2-1.7b", 1000, 1);
    assert_eq!(g.kv_cache_bytes(), 24.0 * 2.0 * 32.0 * 1000.0 * 64.0 * 2.0);
}

/// A small deepseek_v2 config with `edit` applied.
fn deepseek_with(edit: impl FnOnce(&mut serde_json::Value)) -> Result<LlmConfig, Box<ModelError>> {
    let mut v = serde_json::json!({
        "model_type": "deepseek_v2", "hidden_size": 64, "intermediate_size": 128,
        "moe_intermediate_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4,
        "num_key_value_heads": 4, "vocab_size": 100, "q_lora_rank": null,
        "kv_lora_rank": 16, "qk_rope_head_dim": 8, "qk_nope_head_dim": 16, "v_head_dim": 16,
        "n_routed_experts": 8, "num_experts_per_tok": 2, "n_shared_experts": 1,
        "first_k_dense_replace": 1
    });
    edit(&mut v);
    LlmConfig::from_json(&v.to_string(), "ds.json", "ds").map_err(Box::new)
}

fn field_of(e: &ModelError) -> &'static str {
    match e {
        ModelError::Invalid { field, .. } => field,
        other => panic!("not a field error: {other}"),
    }
}

#[test]
fn bad_configs_name_the_field() {
    // An unknown model_type lists the supported ones.
    let e = LlmConfig::from_json(
        r#"{"model_type":"gpt_oss","hidden_size":64,"intermediate_size":128,
        "num_hidden_layers":2,"num_attention_heads":4,"vocab_size":100}"#,
        "x.json",
        "x",
    )
    .unwrap_err();
    let s = e.to_string();
    assert_eq!(field_of(&e), "model_type");
    for t in SUPPORTED_MODEL_TYPES {
        assert!(s.contains(t), "{s}");
    }
    assert!(
        s.contains("gemma3_text") && s.contains("deepseek_v3"),
        "{s}"
    );
    // Heads that do not divide the width, with no head_dim.
    let e = LlmConfig::from_json(
        r#"{"model_type":"qwen3","hidden_size":100,"intermediate_size":128,
        "num_hidden_layers":2,"num_attention_heads":3,"num_key_value_heads":3,"vocab_size":100}"#,
        "x.json",
        "x",
    )
    .unwrap_err();
    assert_eq!(field_of(&e), "num_attention_heads");
    assert!(
        e.to_string().contains("does not divide hidden_size (100)"),
        "{e}"
    );
    // KV heads that do not divide the heads.
    let e = LlmConfig::from_json(
        r#"{"model_type":"gemma2","hidden_size":64,"intermediate_size":128,
        "num_hidden_layers":2,"num_attention_heads":4,"num_key_value_heads":3,"vocab_size":100}"#,
        "x.json",
        "x",
    )
    .unwrap_err();
    assert_eq!(field_of(&e), "num_key_value_heads");
    // MLA without kv_lora_rank.
    let good = deepseek_with(|_| {}).unwrap();
    assert!(good.mla.is_some() && good.moe == Some((8, 2)));
    let e = deepseek_with(|v| {
        v.as_object_mut().unwrap().remove("kv_lora_rank");
    })
    .unwrap_err();
    assert_eq!(field_of(&e), "kv_lora_rank");
    assert!(e.to_string().contains("multi-head latent attention"), "{e}");
    let e = deepseek_with(|v| v["qk_rope_head_dim"] = 0.into()).unwrap_err();
    assert_eq!(field_of(&e), "qk_rope_head_dim");
    // More experts per token than experts.
    let e = deepseek_with(|v| v["num_experts_per_tok"] = 9.into()).unwrap_err();
    assert_eq!(field_of(&e), "num_experts_per_tok");
    assert!(
        e.to_string().contains("9 is more than the 8 experts"),
        "{e}"
    );
    let e = LlmConfig::from_json(
        r#"{"model_type":"qwen3_moe","hidden_size":64,"intermediate_size":128,
        "moe_intermediate_size":32,"num_hidden_layers":2,"num_attention_heads":4,
        "vocab_size":100,"num_experts":4,"num_experts_per_tok":5}"#,
        "x.json",
        "x",
    )
    .unwrap_err();
    assert_eq!(field_of(&e), "num_experts_per_tok");
    // A MoE family without its expert width.
    let e = deepseek_with(|v| {
        v.as_object_mut().unwrap().remove("moe_intermediate_size");
    })
    .unwrap_err();
    assert_eq!(field_of(&e), "moe_intermediate_size");
    // More dense layers than layers.
    let e = deepseek_with(|v| v["first_k_dense_replace"] = 3.into()).unwrap_err();
    assert_eq!(field_of(&e), "first_k_dense_replace");
    // A gemma3 wrapper without a text model; a zero window pattern; a non-positive soft-cap.
    let e = LlmConfig::from_json(r#"{"model_type":"gemma3"}"#, "x.json", "x").unwrap_err();
    assert_eq!(field_of(&e), "text_config");
    let e = LlmConfig::from_json(
        r#"{"model_type":"gemma3","text_config":{"sliding_window_pattern":0}}"#,
        "x.json",
        "x",
    )
    .unwrap_err();
    assert_eq!(field_of(&e), "sliding_window_pattern");
    let e = LlmConfig::from_json(
        r#"{"model_type":"gemma2","hidden_size":64,"intermediate_size":128,
        "num_hidden_layers":2,"num_attention_heads":4,"vocab_size":100,
        "final_logit_softcapping":-1.0}"#,
        "x.json",
        "x",
    )
    .unwrap_err();
    assert_eq!(field_of(&e), "final_logit_softcapping");
    // A bad mla parameter.
    let e = load_llm("deepseek-v2-lite?mla=fast").unwrap_err();
    assert!(e.to_string().contains("naive, absorbed"), "{e}");
    let e = load_llm("deepseek-v2-lite?heads=3").unwrap_err();
    assert!(matches!(e, ModelError::Spec { .. }), "{e}");
}

#[test]
fn absurd_sizes_of_the_new_fields_are_refused_before_allocation() {
    for (field, limit) in [
        ("kv_lora_rank", MAX_LORA_RANK),
        ("q_lora_rank", MAX_LORA_RANK),
        ("n_routed_experts", MAX_EXPERTS),
        ("n_shared_experts", MAX_EXPERTS),
        (
            "moe_intermediate_size",
            archscope::workload::llm::MAX_INTERMEDIATE,
        ),
        ("qk_rope_head_dim", archscope::workload::llm::MAX_HEAD_DIM),
        ("v_head_dim", archscope::workload::llm::MAX_HEAD_DIM),
        (
            "first_k_dense_replace",
            archscope::workload::llm::MAX_LAYERS,
        ),
    ] {
        let e = deepseek_with(|v| v[field] = (limit + 1).into()).unwrap_err();
        assert_eq!(field_of(&e), field);
        assert!(e.to_string().contains(&format!("limit of {limit}")), "{e}");
    }
    let e = LlmConfig::from_json(
        r#"{"model_type":"gemma3","text_config":{"hidden_size":1000000000}}"#,
        "x.json",
        "x",
    )
    .unwrap_err();
    assert_eq!(field_of(&e), "hidden_size");
    // A DeepSeek config at every limit at once still counts within 64 bits, and a graph of
    // it at the largest sizes is refused, not built.
    let big = deepseek_with(|v| {
        for (f, x) in [
            ("hidden_size", archscope::workload::llm::MAX_HIDDEN),
            ("num_attention_heads", archscope::workload::llm::MAX_HEADS),
            ("num_key_value_heads", archscope::workload::llm::MAX_HEADS),
            ("kv_lora_rank", MAX_LORA_RANK),
            ("q_lora_rank", MAX_LORA_RANK),
            ("n_routed_experts", MAX_EXPERTS),
            ("num_experts_per_tok", MAX_EXPERTS),
        ] {
            v[f] = x.into();
        }
    })
    .unwrap();
    assert!(big.try_param_count().is_ok());
    let e = big
        .check_phase(
            Phase::Prefill {
                prompt: archscope::workload::llm::MAX_TOKENS,
            },
            archscope::workload::llm::MAX_BATCH,
        )
        .unwrap_err();
    assert!(e.to_string().contains("2^64"), "{e}");
}

#[test]
fn new_models_are_listed_and_shown_with_active_parameters() {
    let l = archscope::workload::catalog::list();
    for name in [
        "qwen2.5-0.5b",
        "qwen3-8b",
        "qwen3-30b-a3b",
        "gemma-2-2b",
        "gemma-3-4b",
        "deepseek-v2-lite",
        "deepseek-v3",
        "llama-3.1-8b",
        "smollm2-1.7b",
        "phi-3.5-mini",
    ] {
        assert!(l.contains(name), "{name} missing from\n{l}");
    }
    assert!(!l.contains("(invalid"), "{l}");
    let d = archscope::workload::catalog::describe("deepseek-v3").unwrap();
    assert_eq!(d["params"], 671_026_419_200u64);
    assert_eq!(d["active_params_without_embedding"], 36_625_618_432u64);
    assert_eq!(d["mla"]["mode"], "absorbed");
    let d = archscope::workload::catalog::describe("deepseek-v3?mla=naive").unwrap();
    assert_eq!(d["mla"]["mode"], "naive");
    let d = archscope::workload::catalog::describe("qwen3-30b-a3b").unwrap();
    assert_eq!(d["active_params"], 3_353_032_704u64);
    let d = archscope::workload::catalog::describe("gemma-3-1b").unwrap();
    assert_eq!(d["local_layers"], 22);
}

#[test]
fn every_new_family_scores_in_both_phases_and_mla_modes_differ() {
    use archscope::cost::Mode;
    use archscope::hardware::Hardware;
    use archscope::score::{ScoreRequest, score_llm};
    let hw = Hardware::load("h100-sxm").unwrap();
    let req = ScoreRequest {
        batch: 2,
        prompt: 256,
        context: 2048,
        prefill: true,
        decode: true,
        unit: None,
        mode: Mode::Ideal,
        ..ScoreRequest::default()
    };
    for name in [
        "qwen2.5-0.5b",
        "qwen3-0.6b",
        "qwen3-30b-a3b",
        "gemma-2-2b",
        "gemma-3-1b",
        "gemma-3-4b",
        "deepseek-v2-lite",
        "deepseek-v2-lite?mla=naive",
        "deepseek-v3",
        "llama-3.1-8b",
        "smollm2-1.7b",
        "phi-3.5-mini",
    ] {
        let m = load_llm(name).unwrap();
        let s = score_llm(&hw, &m, &fp16(), &req).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(s.phases.len(), 2, "{name}");
        for p in &s.phases {
            assert!(
                p.tokens_per_s() > 0.0 && p.tokens_per_s().is_finite(),
                "{name}"
            );
        }
    }
    // Naive MLA decompresses every cached latent in each decode step: more FLOPs than absorbed.
    let absorbed = decode("deepseek-v2-lite", 2048, 1).flops();
    let naive = load_llm("deepseek-v2-lite?mla=naive")
        .unwrap()
        .build(&fp16(), Phase::Decode { context: 2048 }, 1)
        .flops();
    assert!(naive > absorbed, "{naive} vs {absorbed}");
}
