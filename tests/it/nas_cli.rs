//! `archscope search` end to end: the report directory, its refusal to overwrite, labelled
//! proxies, LLM configs that load back, fitted predictors, and clean errors.

use crate::common::{TempDir, archscope, archscope_paths, shared_path, words};
use std::path::Path;

fn json(p: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

#[test]
fn ofa_search_on_pixel8_with_a_proxy_says_so_and_never_overwrites() {
    let out_dir = TempDir::new("ofa-proxy");
    let out = out_dir.join("out");
    let line =
        "search ofa --hw pixel8.toml --space mbv3-w1.2 --max-latency-ms 12,20 --generations 5";
    let (ok, stdout, err) = archscope_paths(line, &[("--out", &out)]);
    assert!(ok, "{err}");
    assert!(
        stdout.contains("PROXY") && stdout.contains("NOT an accuracy"),
        "{stdout}"
    );
    for f in [
        "summary.json",
        "best.csv",
        "front.csv",
        "front.svg",
        "best_0.json",
        "best_1.json",
    ] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    let s = json(&out.join("summary.json"));
    assert_eq!(s["quality"]["is_proxy"], true);
    assert_eq!(s["quality"]["column"], "proxy_log10_macs");
    let runs = s["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 2);
    for (r, budget) in runs.iter().zip([12.0, 20.0]) {
        let lat = r["best"]["cost"]["latency_ms"].as_f64().unwrap();
        assert!(lat <= budget, "{lat} > {budget}");
        assert_eq!(r["counts"]["quality_evaluations"], 100 + 5 * 100);
    }
    // the CSV header carries the proxy's name, never "accuracy"
    let csv = std::fs::read_to_string(out.join("best.csv")).unwrap();
    assert!(csv.starts_with("run,generation,proxy_log10_macs,latency_ms"));
    // the best arch is OFA's own arch dict
    let a = json(&out.join("best_0.json"));
    assert_eq!(a["ks"].as_array().unwrap().len(), 20);
    assert!(a["image_size"].is_u64());
    // a second run into the same directory is refused without --force
    let (ok, _, err) = archscope_paths(line, &[("--out", &out)]);
    assert!(!ok && err.contains("--force"), "{err}");
    let (ok, _, err) = archscope_paths(&format!("{line} --force"), &[("--out", &out)]);
    assert!(ok, "{err}");
}

#[test]
fn ofa_pareto_and_mnas_objectives_and_random_search() {
    let out_dir = TempDir::new("ofa-pareto");
    let out = out_dir.join("out");
    let (ok, _, err) = archscope_paths(
        "search ofa --hw pixel8 --objective pareto --generations 4",
        &[("--out", &out)],
    );
    assert!(ok, "{err}");
    let s = json(&out.join("summary.json"));
    assert_eq!(
        s["runs"][0]["objective"]["Pareto"]["metrics"],
        serde_json::json!(["latency", "energy", "memory"])
    );
    let front = std::fs::read_to_string(out.join("front.csv")).unwrap();
    assert!(front.lines().count() > 3);
    let out2_dir = TempDir::new("ofa-mnas");
    let out2 = out2_dir.join("out");
    let (ok, _, err) = archscope_paths(
        "search ofa --hw pixel8 --objective mnas-soft --max-latency-ms 15 --algorithm random \
         --generations 4",
        &[("--out", &out2)],
    );
    assert!(ok, "{err}");
    let s = json(&out2.join("summary.json"));
    assert_eq!(s["runs"][0]["algorithm"], "random");
    assert_eq!(s["runs"][0]["counts"]["quality_evaluations"], 500);
}

#[test]
fn llm_search_writes_a_loadable_config_under_the_memory_limit() {
    let out_dir = TempDir::new("llm");
    let out = out_dir.join("out");
    let (ok, stdout, err) = archscope_paths(
        "search llm --hw pixel8.toml --base llama-1b --max-memory 1GiB --generations 8",
        &[("--out", &out)],
    );
    assert!(ok, "{err}");
    assert!(stdout.contains("PROXY"), "{stdout}");
    let s = json(&out.join("summary.json"));
    let best = &s["runs"][0]["best"];
    assert!(best["cost"]["memory_mib"].as_f64().unwrap() <= 1024.0);
    let cfg = out.join("best_0_config.json");
    // the written config.json scores like any model config
    let (ok, sout, err) = archscope_paths("score --hw pixel8 --format json", &[("--model", &cfg)]);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&sout).unwrap();
    assert!(v["memory"]["weights_bytes"].as_f64().unwrap() > 0.0);
    let c = json(&cfg);
    assert_eq!(c["rope_theta"], 500000.0);
    assert_eq!(best["arch"]["num_hidden_layers"], c["num_hidden_layers"]);
}

#[test]
fn fit_prints_a_held_out_error_and_the_predictor_drives_a_search() {
    // a CSV whose accuracy depends on resolution and kernels, written by hand
    let dir = TempDir::new("fit");
    let csv = dir.join("data.csv");
    let mut text = String::from("arch,top1\n");
    let mut state = 7u64;
    for i in 0..120 {
        let mut ks = Vec::new();
        for _ in 0..20 {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ks.push([3, 5, 7][(state >> 33) as usize % 3]);
        }
        let r = [160, 176, 192, 208, 224][i % 5];
        let acc = 70.0 + (r - 160) as f64 * 0.05 + ks.iter().map(|&k| k as f64 * 0.1).sum::<f64>();
        let arch =
            serde_json::json!({"ks": ks, "e": vec![4; 20], "d": vec![4; 5], "image_size": r});
        text += &format!("\"{}\",{acc:.3}\n", arch.to_string().replace('"', "\"\""));
    }
    std::fs::write(&csv, text).unwrap();
    let pred = dir.join("pred.safetensors");
    let (ok, stdout, err) = archscope_paths(
        "search fit --space mbv3-w1.2",
        &[("--csv", &csv), ("--out", &pred)],
    );
    assert!(ok, "{err}");
    assert!(stdout.contains("held-out RMSE"), "{stdout}");
    let out = dir.join("search");
    let (ok, stdout, err) = archscope_paths(
        "search ofa --macs-only --max-macs-m 400 --generations 3",
        &[("--acc-predictor", &pred), ("--out", &out)],
    );
    assert!(ok, "{err}");
    assert!(
        !stdout.contains("PROXY") && stdout.contains("predicted_top1_pct"),
        "{stdout}"
    );
    // a bad CSV row names the file and line
    std::fs::write(&csv, "arch,top1\n\"{\"\"ks\"\": [3]}\",70\n").unwrap();
    let (ok, _, err) = archscope_paths("search fit --space mbv3-w1.2 --out x", &[("--csv", &csv)]);
    assert!(!ok && err.contains("data.csv:2"), "{err}");
}

#[test]
fn bad_requests_get_clear_errors() {
    let (ok, _, err) = archscope(&["search", "ofa", "--max-latency-ms", "20"]);
    assert!(!ok && err.contains("--hw"), "{err}");
    let (ok, _, err) = archscope(&words(
        "search ofa --hw pixel8 --space vgg --max-latency-ms 20",
    ));
    assert!(!ok && err.contains("mbv3-w1.2"), "{err}");
    let (ok, _, err) = archscope(&words("search ofa --hw pixel8 --out /nonexistent/x/y"));
    assert!(!ok && err.contains("constraint"), "{err}");
    let out_dir = TempDir::new("unreachable");
    let out = out_dir.join("out");
    let (ok, _, err) = archscope_paths(
        "search ofa --hw pixel8 --max-latency-ms 0.5",
        &[("--out", &out)],
    );
    assert!(!ok && err.contains("no subnet meeting"), "{err}");
    let (ok, _, err) = archscope(&words(
        "search llm --hw pixel8 --base llama-1b --max-memory lots",
    ));
    assert!(!ok && err.contains("2GiB"), "{err}");
    let (ok, _, err) = archscope(&words(
        "search llm --hw pixel8 --base llama-1b --max-memory 1GiB --quants w4a16-g64",
    ));
    assert!(!ok && err.contains("--quant-penalty"), "{err}");
    let (ok, _, err) = archscope(&words(
        "search ofa --hw pixel8 --max-latency-ms 20 --acc-predictor missing.safetensors",
    ));
    assert!(!ok && err.contains("missing.safetensors"), "{err}");
    // the OFA tutorial predictor's resolution bins end at 239: refused before searching
    let Some(pred) = shared_path("ofa/acc_predictor.safetensors") else {
        return;
    };
    let out_dir = TempDir::new("bins");
    let out = out_dir.join("out");
    let (ok, _, err) = archscope_paths(
        "search ofa --hw pixel8 --max-latency-ms 20 --resolutions 224,256",
        &[("--acc-predictor", &pred), ("--out", &out)],
    );
    assert!(
        !ok && err.contains("resolution 256") && !out.exists(),
        "{err}"
    );
}

#[test]
fn llm_search_under_a_runtime_searches_its_formats_and_says_so() {
    // pixel8's cpu-big names llama.cpp for LLMs: with no --quants, the schemes searched are
    // llama.cpp's GGUF types that have a published perplexity, and the cost label names the
    // runtime. --runtime ideal keeps the generic schemes.
    let dir = TempDir::new("llm-runtime");
    let run = |extra: &str, name: &str| {
        let out = dir.join(name);
        let (ok, _, err) = archscope_paths(
            &format!(
                "search llm --hw pixel8 --base llama-1b --generations 4 --max-memory 2GiB {extra}"
            ),
            &[("--out", &out)],
        );
        assert!(ok, "{err}");
        json(&out.join("summary.json"))
    };
    let s = run("--unit cpu-mid --threads 2", "default");
    assert!(
        s["cost_model"]
            .as_str()
            .unwrap()
            .contains("runtime llama.cpp-cpu"),
        "{}",
        s["cost_model"]
    );
    let q = s["runs"][0]["best"]["arch"]["quant"].as_str().unwrap();
    assert!(
        [
            "f16", "fp16", "bf16", "q8_0", "q6_k", "q5_k_m", "q5_k_s", "q5_1", "q5_0", "q4_k_m",
            "q4_k_s", "q4_1", "q4_0"
        ]
        .contains(&q),
        "{q}"
    );
    let s = run("--runtime ideal", "ideal");
    assert!(!s["cost_model"].as_str().unwrap().contains("runtime"));
    // A runtime that does not run the unit is refused with the reason.
    let out = dir.join("bad");
    let (ok, _, err) = archscope_paths(
        "search llm --hw pixel8 --base llama-1b --runtime mlc-llm",
        &[("--out", &out)],
    );
    assert!(!ok);
    assert!(err.contains("does not run on cpu units"), "{err}");
}

#[test]
fn ofa_search_under_a_runtime_says_so_and_refuses_one_that_cannot_run_the_unit() {
    // pixel8's cpu units name LiteRT with XNNPACK for networks: with no --runtime the subnets
    // are priced under it and the cost label says so; --runtime ideal prices the unit alone.
    let dir = TempDir::new("ofa-runtime");
    let search = |extra: &str, name: &str| {
        let out = dir.join(name);
        let line = format!("search ofa --hw pixel8 --max-latency-ms 30 --generations 2 {extra}");
        (archscope_paths(&line, &[("--out", &out)]), out)
    };
    let run = |extra: &str, name: &str| {
        let ((ok, _, err), out) = search(extra, name);
        assert!(ok, "{err}");
        json(&out.join("summary.json"))
    };
    let label = |s: &serde_json::Value| s["cost_model"].as_str().unwrap().to_string();
    let s = run("", "default");
    assert!(
        label(&s).contains("runtime litert-xnnpack"),
        "{}",
        label(&s)
    );
    let s = run("--unit cpu-mid --threads 2", "threads");
    assert!(
        label(&s).contains("runtime litert-xnnpack, 2 threads"),
        "{}",
        label(&s)
    );
    let s = run("--runtime ideal", "ideal");
    assert!(!label(&s).contains("runtime"), "{}", label(&s));
    let s = run("--ideal", "textbook");
    assert!(!label(&s).contains("runtime"), "{}", label(&s));
    // refused with the reason, before any output is written
    let ((ok, _, err), out) = search("--runtime qnn", "qnn");
    assert!(!ok);
    assert!(err.contains("does not run on cpu units"), "{err}");
    assert!(!out.exists());
    // a runtime needs a device
    let (ok, _, err) = archscope(&words(
        "search ofa --macs-only --max-macs-m 300 --runtime qnn",
    ));
    assert!(!ok && err.contains("--hw"), "{err}");
}
