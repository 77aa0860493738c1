//! Multi-GPU tensor and pipeline parallelism (issue 19, part 5): the ring and GPipe formulas by
//! hand, TP = PP = 1 equal to the single-device score, TP = 2 halving the split weights and the
//! KV cache, a TP decode step assembled by hand, pipeline stages and bubbles, the bad inputs,
//! and the comparison with GenZ.

use crate::common::{TempDir, archscope};
use archscope::cost::Mode;
use archscope::parallel::{
    Node, ParallelError, ParallelRequest, ParallelScore, all_gather_s, all_reduce_s,
    decode_round_s, gpipe_s, score_parallel, send_s, shard, stage_layers,
};
use archscope::runtime::Runtime;
use archscope::score::{ScoreRequest, score_graph, score_llm};
use archscope::workload::{LlmConfig, Phase, QuantScheme, load_llm};

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * b.abs()
}

fn split(tp: u64, pp: u64, microbatches: u64) -> ParallelRequest {
    ParallelRequest {
        tp,
        pp,
        microbatches,
    }
}

fn req(batch: u64, mode: Mode) -> ScoreRequest {
    ScoreRequest {
        batch,
        mode,
        runtime: Runtime::ideal(),
        ..ScoreRequest::default()
    }
}

fn run(node: &str, model: &str, r: &ScoreRequest, p: ParallelRequest) -> ParallelScore {
    let node = Node::load(node).unwrap();
    let model = load_llm(model).unwrap();
    let q = QuantScheme::parse("fp16").unwrap();
    score_parallel(&node, &model, &q, r, &p).unwrap()
}

#[test]
fn ring_and_pipeline_formulas_by_hand() {
    let mut link = Node::load("dgx-a100").unwrap().link;
    link.bytes_per_s = 1e9;
    link.latency_s = 1e-6;
    // 4 GPUs, 1 MB: 2·3/4·1e6/1e9 = 1.5 ms, plus 2·3 steps of 1 us.
    assert!(close(all_reduce_s(1e6, 4, &link), 1.5e-3 + 6e-6, 1e-12));
    // All-gather: 3/4·1e6/1e9 = 0.75 ms, plus 3 steps.
    assert!(close(all_gather_s(1e6, 4, &link), 0.75e-3 + 3e-6, 1e-12));
    assert!(close(send_s(1e6, &link), 1e-3 + 1e-6, 1e-12));
    assert_eq!(all_reduce_s(1e6, 1, &link), 0.0);
    assert_eq!(all_gather_s(1e6, 1, &link), 0.0);
    // GPipe: 4 micro-batches through 3 stages take (4 + 3 - 1) = 6 stage slots.
    assert_eq!(gpipe_s(4, 3, 0.5), 3.0);
    // Decode: one micro-batch crosses 3 stages alone; 5 keep all 3 busy.
    assert_eq!(decode_round_s(1, 3, 0.5), 1.5);
    assert_eq!(decode_round_s(5, 3, 0.5), 2.5);
    // 10 layers over 4 stages: 3, 3, 2, 2.
    assert_eq!(stage_layers(10, 4), vec![0..3, 3..6, 6..8, 8..10]);
}

#[test]
fn one_gpu_equals_the_single_device_score_exactly() {
    for mode in [Mode::Ideal, Mode::Calibrated] {
        let r = req(4, mode);
        let par = run("dgx-a100", "llama-3-8b", &r, split(1, 1, 1));
        let hw = archscope::hardware::Hardware::load("a100-80gb").unwrap();
        let q = QuantScheme::parse("fp16").unwrap();
        let one = score_llm(&hw, &load_llm("llama-3-8b").unwrap(), &q, &r).unwrap();
        for (p, s) in par.phases.iter().zip(&one.phases) {
            assert_eq!(p.phase, s.phase);
            assert_eq!(p.latency_s, s.eval.total.latency_s, "{mode:?}");
            assert_eq!(p.energy_j, s.eval.total.energy_j(), "{mode:?}");
            assert_eq!(p.tokens_per_s(), s.tokens_per_s());
            assert_eq!((p.link_j, p.bubble), (0.0, 0.0));
        }
        let m = &par.memory[0];
        assert_eq!(m.weights_bytes, one.memory.weights_bytes);
        assert_eq!(m.kv_cache_bytes, one.memory.kv_cache_bytes);
        assert_eq!(m.activation_peak_bytes, one.memory.activation_peak_bytes);
        assert_eq!(m.total_bytes, one.memory.total_bytes);
    }
}

#[test]
fn tp2_halves_the_split_weights_and_the_kv_cache() {
    let r = req(1, Mode::Ideal);
    let one = run("dgx-h100", "llama-3-8b", &r, split(1, 1, 1));
    let two = run("dgx-h100", "llama-3-8b", &r, split(2, 1, 1));
    let c = load_llm("llama-3-8b").unwrap();
    // Llama 3 8B in fp16: every matrix (q/k/v/o, gate/up/down, embedding and head, with even
    // widths) splits in two; the 2 norms per layer and the final norm (H fp16 values each) stay
    // whole on each GPU.
    let norms = ((2 * c.layers + 1) * c.hidden * 2) as f64;
    let (w1, w2) = (one.memory[0].weights_bytes, two.memory[0].weights_bytes);
    assert_eq!(w2, (w1 - norms) / 2.0 + norms);
    assert_eq!(
        two.memory[0].kv_cache_bytes * 2.0,
        one.memory[0].kv_cache_bytes
    );
}

/// Sums a phase's op latencies of one GPU's graph priced alone.
fn gpu_step(node: &Node, shard_cfg: &LlmConfig, phase: Phase, batch: u64) -> f64 {
    let q = QuantScheme::parse("fp16").unwrap();
    let g = shard_cfg.build(&q, phase, batch);
    score_graph(&node.hw, 0, Mode::Ideal, &g)
        .unwrap()
        .total
        .latency_s
}

#[test]
fn a_tp_decode_step_assembled_by_hand() {
    let node = Node::load("dgx-h100").unwrap();
    let c = load_llm("llama-3-8b").unwrap();
    let (b, ctx) = (4, 1024);
    let r = ScoreRequest {
        context: ctx,
        prefill: false,
        ..req(b, Mode::Ideal)
    };
    let s = run("dgx-h100", "llama-3-8b", &r, split(4, 1, 1));
    let sh = shard(&c, 4).unwrap();
    assert_eq!((sh.heads, sh.kv_heads, sh.ffn), (8, 2, 3584));
    let compute = gpu_step(&node, &sh, Phase::Decode { context: ctx }, b);
    // Two all-reduces per layer and one after the embedding, of b·H fp16 values, then the
    // all-gather of b·V fp16 logits.
    let act = (b * c.hidden * 2) as f64;
    let ars = (2 * c.layers + 1) as f64 * all_reduce_s(act, 4, &node.link);
    let ag = all_gather_s((b * 4 * sh.vocab * 2) as f64, 4, &node.link);
    let d = s.phase(true).unwrap();
    assert!(
        close(d.latency_s, compute + ars + ag, 1e-12),
        "{} vs {}",
        d.latency_s,
        compute + ars + ag
    );
    // TP 4 runs each GPU's share faster than one GPU runs the whole model.
    let whole = gpu_step(&node, &c, Phase::Decode { context: ctx }, b);
    assert!(compute < whole / 2.0, "{compute} vs {whole}");
}

#[test]
fn pipeline_stages_and_bubbles() {
    let r = req(8, Mode::Ideal);
    let one = run("dgx-a100", "llama-3-8b", &r, split(1, 1, 1));
    for (pp, m) in [(2, 1), (4, 2), (4, 8)] {
        let s = run("dgx-a100", "llama-3-8b", &r, split(1, pp, m));
        assert_eq!(s.memory.len() as u64, pp);
        // Stage weights add up to the model's (no tied table), each stage's below it.
        let w: f64 = s.memory.iter().map(|x| x.weights_bytes).sum();
        assert!(close(w, one.memory[0].weights_bytes, 1e-12));
        let kv: f64 = s.memory.iter().map(|x| x.kv_cache_bytes).sum();
        assert!(close(kv, one.memory[0].kv_cache_bytes, 1e-12));
        let pre = s.phase(false).unwrap();
        assert!(close(
            pre.latency_s,
            (m + pp - 1) as f64 * pre.stage_max_s(),
            1e-12
        ));
        assert!(close(
            pre.bubble,
            (pp - 1) as f64 / (m + pp - 1) as f64,
            1e-12
        ));
        let dec = s.phase(true).unwrap();
        assert!(close(
            dec.latency_s,
            m.max(pp) as f64 * dec.stage_max_s(),
            1e-12
        ));
        if m == 1 {
            // One micro-batch: stage compute adds up to the whole model's.
            let c: f64 = pre.stages.iter().map(|x| x.compute_s).sum();
            assert!(close(c, one.phases[0].latency_s, 1e-9));
            // Each stage sends its activation to the next: 8 · 512 tokens of 4096 fp16.
            assert_eq!(pre.stages[0].send_bytes, (8 * 512 * 4096 * 2) as f64);
            assert_eq!(pre.stages[pp as usize - 1].send_bytes, 0.0);
        }
    }
}

#[test]
fn bad_splits_are_infeasible_with_the_reason() {
    let node = Node::load("dgx-h100").unwrap();
    let c = load_llm("llama-3-8b").unwrap();
    let q = QuantScheme::parse("fp16").unwrap();
    let r = req(4, Mode::Ideal);
    let err = |p: ParallelRequest| match score_parallel(&node, &c, &q, &r, &p) {
        Err(e @ ParallelError::Split { .. }) => e.to_string(),
        other => panic!(
            "expected an infeasible split, got {:?}",
            other.map(|s| s.gpus())
        ),
    };
    // 32 query heads and 8 KV heads: 3 divides neither.
    let e = err(split(3, 1, 1));
    assert!(
        e.contains("32 query heads") && e.contains("8 KV heads") && e.contains("divide"),
        "{e}"
    );
    let e = err(split(8, 2, 1));
    assert!(e.contains("16 GPUs") && e.contains("8"), "{e}");
    let e = err(split(1, 8, 3));
    assert!(
        e.contains("--microbatches 3") && e.contains("batch of 4"),
        "{e}"
    );
    // Eight stages need eight layers.
    let mut short = c.clone();
    short.layers = 4;
    let e = score_parallel(&node, &short, &q, &r, &split(1, 8, 1))
        .unwrap_err()
        .to_string();
    assert!(e.contains("8 stages") && e.contains("4 layers"), "{e}");
}

#[test]
fn cli_prints_per_gpu_and_node_figures_and_names_a_missing_link() {
    let (ok, out, err) = archscope(&[
        "score",
        "--node",
        "dgx-h100",
        "--model",
        "llama-2-70b",
        "--tp",
        "8",
        "--batch",
        "8",
    ]);
    assert!(ok, "{err}");
    assert!(out.contains("TP 8 × PP 1 = 8 GPUs"), "{out}");
    assert!(
        out.contains("memory per GPU") && out.contains("TPOT"),
        "{out}"
    );
    let (ok, _, err) = archscope(&[
        "score",
        "--node",
        "dgx-h100",
        "--model",
        "llama-2-70b",
        "--tp",
        "3",
    ]);
    assert!(!ok && err.contains("divide"), "{err}");
    let dir = TempDir::new("node-no-link");
    let file = dir.join("solo.toml");
    std::fs::write(
        &file,
        "[node]\nname = \"solo\"\ndescription = \"d\"\ndevice = \"a100-80gb\"\n\
         gpus = { value = 2, source = \"t\" }\n",
    )
    .unwrap();
    let (ok, _, err) = archscope(&[
        "score",
        "--node",
        file.to_str().unwrap(),
        "--model",
        "llama-3-8b",
        "--tp",
        "2",
    ]);
    assert!(
        !ok && err.contains("[[link]]") && err.contains("bytes_per_s"),
        "{err}"
    );
}

/// GenZ (`pip install genz-llm`, version 0.0.16; Bambhaniya et al., "Demystifying Platform
/// Requirements for Diverse LLM Inference Use Cases", 2024): `decode_moddeling` and
/// `prefill_moddeling` for `llama2_70b`, bf16, `pipeline_parallel=1`, system efficiency 1,
/// `input_tokens` 1024 (decode) and 512 (prefill), on `H100_GPU` (989 TFLOPS, 3400 GB/s,
/// 450 GB/s link, 1 us link latency) and on the A100 80GB with the node's 300 GB/s link
/// (`{'Flops': 312, 'Memory_size': 80, 'Memory_BW': 2039, 'ICN': 300, 'real_values': True}`;
/// GenZ's own `A100_80GB_GPU` entry has a 150 GB/s link). Latencies in ms:
/// (node, TP, batch, decode, prefill).
const GENZ: [(&str, u64, u64, f64, f64); 8] = [
    ("dgx-h100", 8, 1, 7.779, 17.036),
    ("dgx-h100", 8, 8, 7.931, 114.789),
    ("dgx-h100", 4, 8, 11.435, 179.950),
    ("dgx-h100", 2, 8, 20.370, 312.210),
    ("dgx-a100", 8, 1, 10.932, 39.070),
    ("dgx-a100", 8, 8, 11.171, 291.064),
    ("dgx-a100", 4, 8, 17.872, 509.868),
    ("dgx-a100", 2, 8, 33.201, 949.414),
];

#[test]
fn tensor_parallel_llama2_70b_within_20_percent_of_genz() {
    for (node, tp, b, decode_ms, prefill_ms) in GENZ {
        let r = ScoreRequest {
            prompt: 512,
            context: 1024,
            ..req(b, Mode::Ideal)
        };
        let node_s = Node::load(node).unwrap();
        let model = load_llm("llama-2-70b").unwrap();
        let q = QuantScheme::parse("bf16").unwrap();
        let s = score_parallel(&node_s, &model, &q, &r, &split(tp, 1, 1)).unwrap();
        let ours_d = s.phase(true).unwrap().latency_s * 1e3;
        let ours_p = s.phase(false).unwrap().latency_s * 1e3;
        for (what, ours, genz) in [
            ("decode", ours_d, decode_ms),
            ("prefill", ours_p, prefill_ms),
        ] {
            let err = ours / genz - 1.0;
            println!(
                "{node} TP {tp} batch {b} {what}: ours {ours:.3} ms, GenZ {genz:.3} ms, {:+.1}%",
                err * 100.0
            );
            assert!(
                err.abs() <= 0.20,
                "{node} TP {tp} b{b} {what}: {ours} vs GenZ {genz}"
            );
        }
    }
}

#[test]
fn explore_sweeps_tp_pp_and_batch_like_score() {
    use archscope::explore::{ExploreRequest, Session};
    let req = ExploreRequest {
        node: Some("dgx-a100".into()),
        model: "llama-3-8b".into(),
        runtimes: vec!["ideal".into()],
        tps: vec![1, 2, 3, 8],
        pps: vec![1, 2],
        microbatches: vec![1, 2],
        batches: vec![1, 4],
        contexts: vec![2048],
        command: "archscope explore (test)".into(),
        ..Default::default()
    };
    let s = Session::new(req.resolve().unwrap()).unwrap();
    let r = s.run(false).unwrap();
    // 1 quant × 1 runtime × 2 batches × 4 TP × 2 PP × 2 micro-batch counts × 1 × 1.
    assert_eq!(r.points.len(), 32);
    let at = |want: &[(&str, &str)]| {
        r.points
            .iter()
            .position(|p| {
                want.iter()
                    .all(|(a, v)| s.space.text(p, s.space.axis(a).unwrap()) == *v)
            })
            .unwrap()
    };
    let m = |row: usize, name: &str| r.outcomes[row].metrics[s.metric_index(name).unwrap()];
    // A point equals `score --node` at the same split.
    let i = at(&[
        ("batch", "4"),
        ("tp", "2"),
        ("pp", "2"),
        ("microbatches", "2"),
    ]);
    let want = run(
        "dgx-a100",
        "llama-3-8b",
        &ScoreRequest {
            context: 2048,
            ..calibrated_req(4)
        },
        split(2, 2, 2),
    );
    assert_eq!(
        m(i, "decode_latency_s"),
        Some(want.phase(true).unwrap().latency_s)
    );
    assert_eq!(m(i, "ttft_s"), Some(want.phase(false).unwrap().latency_s));
    assert_eq!(m(i, "gpus"), Some(4.0));
    // TP 3 does not divide 32 heads: infeasible, with the reason.
    let bad = at(&[
        ("batch", "4"),
        ("tp", "3"),
        ("pp", "1"),
        ("microbatches", "1"),
    ]);
    let why = r.outcomes[bad].infeasible.as_deref().unwrap();
    assert!(why.contains("divide"), "{why}");
    // 8 × 2 = 16 GPUs on an 8-GPU node: infeasible.
    let big = at(&[
        ("batch", "1"),
        ("tp", "8"),
        ("pp", "2"),
        ("microbatches", "1"),
    ]);
    assert!(
        r.outcomes[big]
            .infeasible
            .as_deref()
            .unwrap()
            .contains("16 GPUs")
    );
}

/// The request the explore test compares with: the calibrated roofline (explore's mode unless
/// --ideal) without a runtime (`--runtime ideal`).
fn calibrated_req(batch: u64) -> ScoreRequest {
    req(batch, Mode::Calibrated)
}
