//! Serving simulation (issue 19, part 6): a lone request's TTFT and TPOT against the priced
//! prefill and decode graphs, low-load latency equal to the unloaded one, throughput bounded by
//! the arrival rate, Little's law, determinism under a seed, KV admission, the max-rate search,
//! and the CLI's bad inputs (a trace's bad row with its file, line and column).

use crate::common::{archscope, words};
use archscope::hardware::Hardware;
use archscope::runtime::Runtime;
use archscope::score::{ScoreRequest, score_llm};
use archscope::serving::{
    Lengths, Request, ServeConfig, ServeError, Server, Targets, max_rate, poisson,
};
use archscope::workload::{LlmConfig, QuantScheme, load_llm};

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * b.abs()
}

struct Setup {
    hw: Hardware,
    model: LlmConfig,
    quant: QuantScheme,
    req: ScoreRequest,
}

fn setup() -> Setup {
    Setup {
        hw: Hardware::load("h100-sxm").unwrap(),
        model: load_llm("llama-3-8b").unwrap(),
        quant: QuantScheme::parse("fp16").unwrap(),
        req: ScoreRequest {
            runtime: Runtime::ideal(),
            ..ScoreRequest::default()
        },
    }
}

const CONFIG: ServeConfig = ServeConfig {
    max_batch: 64,
    chunk: 512,
};

/// The priced prefill of `prompt` tokens and decode at `context`, batch 1, seconds.
fn unloaded(s: &Setup, prompt: u64, context: u64) -> (f64, f64) {
    let req = ScoreRequest {
        prompt,
        context,
        ..s.req.clone()
    };
    let score = score_llm(&s.hw, &s.model, &s.quant, &req).unwrap();
    (
        score.phases[0].eval.total.latency_s,
        score.phases[1].eval.total.latency_s,
    )
}

#[test]
fn a_lone_request_takes_the_prefill_then_one_decode_step_per_token() {
    let s = setup();
    let mut server = Server::new(&s.hw, &s.model, &s.quant, &s.req, CONFIG).unwrap();
    let one = [Request {
        arrival_s: 0.0,
        prompt: 512,
        output: 65,
    }];
    let (m, _) = server.run(&one).unwrap();
    // One chunk holds the prompt: the TTFT is the prefill graph's latency (the step's parts are
    // the same ops: tokens, head for the last position, causal attention over the prompt).
    let (prefill, decode_mid) = unloaded(&s, 512, 512 + 32);
    assert!(
        close(m.ttft_p50_s, prefill, 0.02),
        "{} vs {prefill}",
        m.ttft_p50_s
    );
    // 64 decode steps at contexts 513..576: their mean is the decode at the middle context
    // (attention is linear in the context).
    assert!(
        close(m.tpot_p50_s, decode_mid, 0.02),
        "{} vs {decode_mid}",
        m.tpot_p50_s
    );
    assert_eq!(m.steps, 65);
    // A prompt three chunks long takes three steps before its first token.
    let long = [Request {
        arrival_s: 0.0,
        prompt: 1536,
        output: 2,
    }];
    let (m, _) = server.run(&long).unwrap();
    assert_eq!(m.steps, 4);
    assert!(m.ttft_p50_s > prefill * 3.0 * 0.95);
}

#[test]
fn at_a_low_rate_latency_is_the_unloaded_one_and_throughput_follows_arrivals() {
    let s = setup();
    let mut server = Server::new(&s.hw, &s.model, &s.quant, &s.req, CONFIG).unwrap();
    let (prefill, decode) = unloaded(&s, 256, 256 + 16);
    // 0.05 requests/s against a request that takes well under a second: they almost never meet.
    let reqs = poisson(0.05, 300, Lengths::Fixed(256), Lengths::Fixed(33), 3).unwrap();
    let (m, _) = server.run(&reqs).unwrap();
    assert!(
        close(m.ttft_p50_s, prefill, 0.02),
        "{} vs {prefill}",
        m.ttft_p50_s
    );
    assert!(
        close(m.tpot_p50_s, decode, 0.02),
        "{} vs {decode}",
        m.tpot_p50_s
    );
    let last = reqs.last().unwrap().arrival_s;
    assert!(m.requests_per_s <= 300.0 / last);
}

#[test]
fn throughput_never_exceeds_arrivals_and_littles_law_holds() {
    let s = setup();
    let mut server = Server::new(&s.hw, &s.model, &s.quant, &s.req, CONFIG).unwrap();
    for rate in [2.0, 10.0, 40.0] {
        let reqs = poisson(
            rate,
            3000,
            Lengths::Uniform(64, 1024),
            Lengths::Uniform(16, 256),
            1,
        )
        .unwrap();
        let (m, series) = server.run(&reqs).unwrap();
        let last = reqs.last().unwrap().arrival_s;
        // Completed over the whole run cannot beat the arrivals over theirs.
        assert!(
            m.requests_per_s <= 3000.0 / last,
            "{rate}: {}",
            m.requests_per_s
        );
        // Little's law, L = λ W, with L counted at step starts and λ the observed arrival rate:
        // the two sides are measured independently (a time average of the queue, a mean over
        // requests), so they agree only if the simulation's clock and bookkeeping do.
        let lambda = 3000.0 / m.duration_s;
        assert!(
            close(m.mean_in_system, lambda * m.e2e_mean_s, 0.05),
            "{rate}: L {} vs λW {}",
            m.mean_in_system,
            lambda * m.e2e_mean_s
        );
        // Reserved KV never exceeds the budget, and used never exceeds reserved.
        assert!(m.kv_peak_bytes <= server.memory.kv_budget_bytes);
        assert!(
            series
                .iter()
                .all(|k| k.kv_used_bytes <= k.kv_reserved_bytes + 1.0 && k.running <= 64)
        );
    }
}

#[test]
fn one_seed_one_result_and_kv_admission_holds_requests_back() {
    let s = setup();
    let mut server = Server::new(&s.hw, &s.model, &s.quant, &s.req, CONFIG).unwrap();
    let reqs = poisson(
        20.0,
        500,
        Lengths::Uniform(100, 900),
        Lengths::Fixed(100),
        9,
    )
    .unwrap();
    let a = server.run(&reqs).unwrap();
    let b = server.run(&reqs).unwrap();
    assert_eq!(a.0.ttft_p99_s, b.0.ttft_p99_s);
    assert_eq!(a.1, b.1);
    let other = poisson(
        20.0,
        500,
        Lengths::Uniform(100, 900),
        Lengths::Fixed(100),
        10,
    )
    .unwrap();
    assert_ne!(reqs, other);
    // Long requests at once: the KV of each is prompt + output positions; the budget admits
    // floor(budget / need) of them, so the running count never passes it.
    let need = server.kv_bytes(8192 + 8192);
    let fit = (server.memory.kv_budget_bytes / need).floor() as u64;
    assert!(fit >= 1 && fit < 64, "{fit}");
    let burst: Vec<Request> = (0..2 * fit)
        .map(|_| Request {
            arrival_s: 0.0,
            prompt: 8192,
            output: 8192,
        })
        .collect();
    let (_, series) = server.run(&burst).unwrap();
    assert!(series.iter().all(|k| k.running <= fit));
    assert!(series.iter().any(|k| k.running == fit && k.waiting > 0));
}

#[test]
fn a_request_larger_than_memory_is_an_error_naming_it() {
    let s = setup();
    let mut server = Server::new(&s.hw, &s.model, &s.quant, &s.req, CONFIG).unwrap();
    let huge = [Request {
        arrival_s: 0.0,
        prompt: 1 << 20,
        output: 1,
    }];
    let e = server.run(&huge).unwrap_err();
    assert!(
        matches!(e, ServeError::RequestTooLarge { index: 0, .. }),
        "{e}"
    );
}

#[test]
fn the_max_rate_meets_the_targets_and_a_bit_more_does_not() {
    let s = setup();
    let mut server = Server::new(&s.hw, &s.model, &s.quant, &s.req, CONFIG).unwrap();
    let targets = Targets {
        ttft_p99_s: Some(0.2),
        tpot_p99_s: Some(0.02),
    };
    let (rate, m, _, tried) = max_rate(
        |r| {
            server.run(&poisson(
                r,
                400,
                Lengths::Fixed(512),
                Lengths::Fixed(64),
                0,
            )?)
        },
        targets,
        1.0,
    )
    .unwrap();
    assert!(targets.met(&m));
    assert!(m.ttft_p99_s <= 0.2 && m.tpot_p99_s <= 0.02);
    // The bisection ends with a failing rate within 1 % above the answer.
    let above = tried
        .iter()
        .filter(|t| !t.met && t.rate > rate)
        .map(|t| t.rate)
        .fold(f64::INFINITY, f64::min);
    assert!(above <= rate * 1.011, "{rate} {above}");
    // An unreachable target is an error, not a rate.
    let impossible = Targets {
        ttft_p99_s: Some(1e-6),
        tpot_p99_s: None,
    };
    let e = max_rate(
        |r| server.run(&poisson(r, 50, Lengths::Fixed(512), Lengths::Fixed(8), 0)?),
        impossible,
        1.0,
    )
    .unwrap_err();
    assert!(matches!(e, ServeError::Unreachable { .. }), "{e}");
}

#[test]
fn cli_prints_the_metrics_and_json() {
    let (ok, out, err) = archscope(&words(
        "serve --hw h100-sxm --model llama-3-8b --quant fp16 --rate 4 --requests 200 --prompt 512 --output 64 --format json",
    ));
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["metrics"]["requests"], 200);
    assert!(v["metrics"]["ttft_p99_s"].as_f64().unwrap() > 0.0);
    assert!(!v["kv_series"].as_array().unwrap().is_empty());
}

#[test]
fn a_bad_trace_row_names_file_line_and_column() {
    let dir = std::env::temp_dir().join(format!("archscope-serve-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("trace.csv");
    std::fs::write(
        &path,
        "arrival_s,prompt_tokens,output_tokens\n0.0,128,16\n0.5,abc,16\n",
    )
    .unwrap();
    let p = path.to_str().unwrap();
    let (ok, _, err) = archscope(&[
        "serve",
        "--hw",
        "h100-sxm",
        "--model",
        "llama-3-8b",
        "--trace",
        p,
    ]);
    assert!(!ok);
    assert!(
        err.contains(&format!("{p}:3: column 2 (prompt_tokens)")),
        "{err}"
    );
    std::fs::write(
        &path,
        "arrival_s,prompt_tokens,output_tokens\n0.0,128,16\n1.0,64,8\n",
    )
    .unwrap();
    let (ok, out, err) = archscope(&[
        "serve",
        "--hw",
        "h100-sxm",
        "--model",
        "llama-3-8b",
        "--trace",
        p,
    ]);
    assert!(ok, "{err}");
    assert!(out.contains("(2 requests)"), "{out}");
    std::fs::write(&path, "time,prompt_tokens,output_tokens\n").unwrap();
    let (ok, _, err) = archscope(&[
        "serve",
        "--hw",
        "h100-sxm",
        "--model",
        "llama-3-8b",
        "--trace",
        p,
    ]);
    assert!(!ok && err.contains(":1: column 1 (arrival_s)"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}
