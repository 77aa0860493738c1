//! How far a number can be trusted: the measurement set's strict reading, a calibration that
//! recovers known corrections from synthetic rows, overlays that refuse another device or
//! runtime, error bands in the JSON of `score`, the shipped bands file being current, and the
//! other files `calibrate --from` reads (llama-bench CSV, JSON and JSONL, AI Hub perf.yaml).

use archscope::hardware::Hardware;
use archscope::runtime::{Runtime, Scales};
use archscope::score::{ScoreRequest, score_llm};
use archscope::trust::dataset::{self, COLUMNS, Cache, prepare};
use archscope::trust::fit::{Fit, calibrate_pair, fit};
use archscope::trust::overlay::Overlay;
use archscope::trust::{TrustError, bands, formats, study};
use archscope::workload::{QuantScheme, load_llm};

use crate::common::{TempDir, archscope_paths, words};

const SET: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/data/measurements/measurements.csv"
);

/// One CSV line in the measurement set's columns, from `(column, value)` pairs (others empty,
/// `batch` 1, `include` yes, `split` train).
fn line(fields: &[(&str, &str)]) -> String {
    COLUMNS
        .iter()
        .map(|c| {
            fields
                .iter()
                .find(|(k, _)| k == c)
                .map(|(_, v)| v.to_string())
                .unwrap_or_else(|| match *c {
                    "batch" => "1".into(),
                    "include" => "yes".into(),
                    "split" => "train".into(),
                    _ => String::new(),
                })
        })
        .collect::<Vec<_>>()
        .join(",")
}

fn csv(lines: &[String]) -> String {
    format!("{}\n{}\n", COLUMNS.join(","), lines.join("\n"))
}

#[test]
fn bad_rows_name_the_line_and_the_column() {
    let good = line(&[("id", "a"), ("metric", "latency_ms"), ("value", "1.5")]);
    assert_eq!(
        dataset::parse(&csv(&[good.clone()]), "m.csv")
            .unwrap()
            .len(),
        1
    );
    let cases = [
        (
            line(&[("id", "b"), ("value", "fast")]),
            "m.csv:3: column `value`",
        ),
        (
            line(&[("id", "b"), ("value", "1e999")]),
            "column `value`: expected a finite positive",
        ),
        (
            line(&[("id", "b"), ("value", "2"), ("split", "dev")]),
            "column `split`",
        ),
        (
            line(&[("id", "b"), ("value", "2"), ("threads", "0")]),
            "column `threads`",
        ),
        (
            line(&[("id", "b"), ("value", "2"), ("include", "no")]),
            "column `note`: expected a reason",
        ),
        (line(&[("id", "a"), ("value", "2")]), "`a` repeats line 2"),
    ];
    for (bad, want) in cases {
        let e = dataset::parse(&csv(&[good.clone(), bad]), "m.csv").unwrap_err();
        assert!(e.to_string().contains(want), "{e} (wanted {want})");
    }
    let e = dataset::parse("id,value\na,1\n", "m.csv").unwrap_err();
    assert!(
        e.to_string().contains("m.csv:1: missing column `device`"),
        "{e}"
    );
}

/// Rows of one pair (galaxy-s24, executorch-xnnpack on the CPU): LLM prefill (compute-bound),
/// decode (bandwidth-bound) and small networks (dispatch-bound), each measured as archscope
/// predicts it under `truth`.
/// The calibration fit of `rows`, each prepared once (sharing one cache).
fn fit_rows(rows: &[dataset::Row]) -> Fit {
    let mut cache = Cache::default();
    let prepared: Vec<_> = rows
        .iter()
        .map(|r| prepare(r, &mut cache).unwrap())
        .collect();
    fit(&prepared).unwrap()
}

fn synthetic_rows(truth: Scales) -> Vec<dataset::Row> {
    let mut lines = Vec::new();
    let models = ["llama-1b", "llama-3b", "tinyllama-1.1b", "qwen1.5-1.8b"];
    for (i, m) in models.iter().enumerate() {
        for (metric, extra) in [
            ("prefill_tokens_per_s", ("prompt", "128")),
            ("decode_tokens_per_s", ("generated", "64")),
        ] {
            lines.push(line(&[
                ("id", &format!("{m}-{metric}-{i}")),
                ("hw", "galaxy-s24"),
                ("model_ref", m),
                ("kind", "llm"),
                ("quant", "w4a8"),
                ("runtime", "executorch-xnnpack"),
                ("unit_kind", "cpu"),
                ("threads", "4"),
                extra,
                ("metric", metric),
                ("value", "1"),
            ]));
        }
    }
    for m in [
        "mobilenetv3-small",
        "mobilenetv3-small?res=128",
        "mobilenetv3-small?res=96",
        "squeezenet1.1",
        "squeezenet1.1?res=128",
        "mobilenetv2?res=96",
        "mobilenetv2?res=64",
        "mnasnet-a1?res=96",
        "efficientnet-b0?res=96",
        "mobilenetv3-large?res=96",
    ] {
        lines.push(line(&[
            ("id", m),
            ("hw", "galaxy-s24"),
            ("model_ref", m),
            ("kind", "network"),
            ("quant", "int8"),
            ("runtime", "executorch-xnnpack"),
            ("unit_kind", "cpu"),
            ("threads", "4"),
            ("metric", "latency_ms"),
            ("value", "1"),
        ]));
    }
    let mut rows = dataset::parse(&csv(&lines), "synthetic.csv").unwrap();
    let mut cache = Cache::default();
    for r in &mut rows {
        let p = prepare(r, &mut cache).unwrap();
        let t = p.price(truth).unwrap().predicted_s;
        // The measured value that gives exactly that time.
        r.value = match r.metric.as_str() {
            "latency_ms" => t * 1e3,
            "prefill_tokens_per_s" => 128.0 / t,
            _ => 1.0 / t,
        };
    }
    rows
}

#[test]
fn calibration_recovers_known_corrections() {
    let truth = Scales {
        compute: 0.7,
        bandwidth: 0.8,
        dispatch: 1.5,
    };
    let rows = synthetic_rows(truth);
    let f = fit_rows(&rows);
    assert_eq!(f.constrained, [true, true, true], "{f:?}");
    // The prior (log-normal around the shipped figures) pulls towards 1: with eighteen exact
    // rows, ten of them small networks whose time is partly dispatch, the fit (the maximum a
    // posteriori, whose cost is below the truth's) lands within 4 % of the truth.
    for (got, want) in [
        (f.scales.compute, truth.compute),
        (f.scales.bandwidth, truth.bandwidth),
        (f.scales.dispatch, truth.dispatch),
    ] {
        assert!((got / want - 1.0).abs() < 0.04, "{f:?}");
    }
    for (id, r) in &f.residuals {
        assert!(r.abs() < 0.03, "{id}: {r}");
    }
    // The overlay: the rows, no constraint missing, a small cross-validated error.
    let o = calibrate_pair(&rows, "galaxy-s24", "executorch-xnnpack", "synthetic.csv").unwrap();
    assert_eq!(o.calibration.rows.len(), rows.len());
    assert!(o.scales.unconstrained.is_empty());
    let cv = o.cv.as_ref().unwrap();
    assert!(cv.median_abs < 0.05, "{cv:?}");
    // It round-trips through its TOML.
    assert_eq!(Overlay::parse(&o.to_toml(), "o.toml").unwrap(), o);
}

#[test]
fn a_parameter_no_row_constrains_keeps_its_prior() {
    // Decode rows only: nothing is compute-bound, so compute stays at 1.
    let truth = Scales {
        compute: 0.5,
        bandwidth: 0.8,
        dispatch: 1.0,
    };
    let rows: Vec<_> = synthetic_rows(truth)
        .into_iter()
        .filter(|r| r.metric == "decode_tokens_per_s")
        .collect();
    let f = fit_rows(&rows);
    assert!(!f.constrained[0], "{f:?}");
    assert_eq!(f.scales.compute, 1.0);
    assert!((f.scales.bandwidth / 0.8 - 1.0).abs() < 0.03, "{f:?}");
}

#[test]
fn overlays_apply_only_to_their_pair() {
    let rows = synthetic_rows(Scales::default());
    let o = calibrate_pair(&rows, "galaxy-s24", "executorch-xnnpack", "s.csv").unwrap();
    let hw = Hardware::load("galaxy-s24").unwrap();
    let m = load_llm("llama-1b").unwrap();
    let q = QuantScheme::parse("w4a8").unwrap();
    let req = |rt: &str| ScoreRequest {
        unit: Some("cpu-mid".into()),
        runtime: Runtime::load(rt).unwrap(),
        calibration: Some(o.clone()),
        ..ScoreRequest::default()
    };
    let s = score_llm(&hw, &m, &q, &req("executorch-xnnpack")).unwrap();
    assert!(
        s.band.as_ref().unwrap().label.starts_with("calibrated"),
        "{:?}",
        s.band
    );
    let e = score_llm(&hw, &m, &q, &req("litert-xnnpack")).unwrap_err();
    assert!(
        e.to_string().contains(
            "this calibration is for device `galaxy-s24` with runtime `executorch-xnnpack`"
        ),
        "{e}"
    );
    let other = Hardware::load("pixel8").unwrap();
    let e = score_llm(&other, &m, &q, &req("executorch-xnnpack")).unwrap_err();
    assert!(e.to_string().contains("not `pixel8`"), "{e}");
    // No pair rows at all: a clear error.
    match calibrate_pair(&rows, "pixel8", "executorch-xnnpack", "s.csv") {
        Err(e @ TrustError::Empty(_)) => assert!(e.to_string().contains("no train row"), "{e}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn score_json_carries_error_bands() {
    let hw = Hardware::load("m2-ultra").unwrap();
    let m = load_llm("llama-2-7b").unwrap();
    let q = QuantScheme::parse("q4_0").unwrap();
    let req = ScoreRequest {
        runtime: Runtime::load("llama.cpp-metal").unwrap(),
        ..ScoreRequest::default()
    };
    let s = score_llm(&hw, &m, &q, &req).unwrap();
    let j = s.to_json(&hw);
    let b = &j["band"];
    assert!(
        b["label"]
            .as_str()
            .unwrap()
            .starts_with("uncalibrated: typical ±"),
        "{b}"
    );
    let mm = &j["metrics"];
    for k in ["ttft_s", "tpot_s", "decode_tokens_per_s"] {
        let (lo, v, hi) = (
            mm[format!("{k}_low")].as_f64().unwrap(),
            mm[k].as_f64().unwrap(),
            mm[format!("{k}_high")].as_f64().unwrap(),
        );
        assert!(lo <= v && v <= hi, "{k}: {lo} {v} {hi}");
    }
    // The band is the Apple class's, from the shipped bands file.
    let shipped = bands::shipped();
    let apple = shipped
        .iter()
        .find(|c| c.pricing == "runtime" && c.class == "Apple")
        .unwrap();
    assert_eq!(b["p10"].as_f64().unwrap(), apple.p10);
    let tpot = mm["tpot_s"].as_f64().unwrap();
    assert!((mm["tpot_s_high"].as_f64().unwrap() - tpot / (1.0 + apple.p10)).abs() < 1e-12);
}

#[test]
fn shipped_bands_are_computed_from_the_measurement_set() {
    // The bands every prediction carries come from data: recomputing them from the measurement
    // set gives the shipped file (regenerate it with `archscope validate --published
    // data/measurements/measurements.csv --write-bands data/measurements/bands.csv --force`).
    let rows = dataset::read(std::path::Path::new(SET)).unwrap();
    let st = study::study(&rows, SET);
    assert_eq!(st.bands(), bands::SHIPPED);
    // Every class of the issue has rows.
    for class in ["phone-accelerator CNNs", "CPU LLMs", "GPU LLMs", "Apple"] {
        assert!(st.runtime.iter().any(|p| p.class == class), "{class}");
    }
}

// ---------------------------------------------------------------------------------------------
// calibrate --from: llama-bench output and AI Hub perf.yaml (trust::formats)

/// `llama-bench -m models/tinyllama-1.1b-chat-v1.0.Q4_0.gguf -t 8 -p 512 -n 128 -d 0,512 -o csv`
/// as llama-bench prints it (the field list of tools/llama-bench/llama-bench.cpp, every value
/// quoted): TinyLlama 1.1B Q4_0 (1 100 048 384 parameters, 635 990 016 bytes) on the CPU of an
/// i9-13900K. The rates are illustrative, each `avg_ts` the mean of five samples' rates.
/// Lines 2 and 3: pp512 and tg128 from an empty context; line 4: tg128 after 512 tokens; line
/// 5: pp512 after 512 tokens (not a test archscope prices).
const BENCH_CSV: &str = include_str!("../data/formats/llama-bench.csv");

/// The first two tests of [`BENCH_CSV`] as `-o json` prints them (booleans as true/false,
/// numbers bare, the samples appended); the objects open on lines 2 and 46.
const BENCH_JSON: &str = include_str!("../data/formats/llama-bench.json");

/// The same two tests as `-o jsonl` prints them, one object a line.
const BENCH_JSONL: &str = include_str!("../data/formats/llama-bench.jsonl");

/// An excerpt of quic/ai-hub-models `qai_hub_models/models/mobilenet_v2/perf.yaml` (v0.45, the
/// layout from v0.28), the figures as published: float on the Galaxy S24 (tflite line 19,
/// qnn_dlc line 33, onnx line 46) and the S25 (line 61); w8a8 on the S24 (tflite line 79,
/// qnn_dlc line 93).
const PERF_YAML: &str = include_str!("../data/formats/aihub-perf.yaml");

/// An excerpt of the same file at v0.20 (the layout before v0.28: `inference_time` in
/// microseconds), as published: the runs on the Galaxy S23 (line 14) and the S24 (tflite line
/// 67, qnn line 82, onnx line 97: 585, 725 and 647 µs).
const PERF_YAML_V0_20: &str = include_str!("../data/formats/aihub-perf-v0.20.yaml");

fn ctx<'a>(hw: &'a str, runtime: &'a str, model: Option<&'a str>) -> formats::Context<'a> {
    formats::Context { hw, runtime, model }
}

#[test]
fn llama_bench_csv_gives_prefill_and_decode_rows() {
    let c = ctx("desktop-x86", "llama.cpp-cpu", Some("tinyllama-1.1b"));
    let read = formats::parse_rows(BENCH_CSV, "runs/bench.csv", &c).unwrap();
    assert_eq!(read.format, formats::Format::LlamaBenchCsv);
    let r = &read.rows;
    assert_eq!(r.len(), 3, "{r:?}");
    // Line 2: pp512, the prompt rate; the time archscope compares is 512 tokens over it.
    assert_eq!(r[0].line, 2);
    assert_eq!(r[0].id, "bench.csv:2");
    assert_eq!(r[0].source, "runs/bench.csv:2");
    assert_eq!(r[0].metric, "prefill_tokens_per_s");
    assert_eq!(r[0].value, 318.417761);
    assert_eq!(
        (r[0].prompt, r[0].generated, r[0].context),
        (Some(512), None, None)
    );
    // Lines 3 and 4: tg128 from an empty context and after 512 tokens.
    assert_eq!(r[1].metric, "decode_tokens_per_s");
    assert_eq!(r[1].value, 74.871374);
    assert_eq!(
        (r[1].prompt, r[1].generated, r[1].context),
        (None, Some(128), Some(0))
    );
    assert_eq!(r[2].line, 4);
    assert_eq!(r[2].value, 66.302165);
    assert_eq!(r[2].context, Some(512));
    for row in r {
        assert_eq!(
            (
                row.hw.as_str(),
                row.runtime.as_str(),
                row.model_ref.as_str()
            ),
            ("desktop-x86", "llama.cpp-cpu", "tinyllama-1.1b")
        );
        assert_eq!(
            (row.quant.as_str(), row.unit_kind.as_str()),
            ("q4_0", "cpu")
        );
        assert_eq!(
            (row.kind.as_str(), row.threads, row.batch),
            ("llm", Some(8), 1)
        );
        assert_eq!(row.device, "13th Gen Intel(R) Core(TM) i9-13900K");
        assert_eq!((row.split, row.include), (dataset::Split::Train, true));
    }
    // Line 5 (pp512 after 512 tokens) is skipped and counted.
    assert_eq!(read.skipped.len(), 1);
    assert_eq!(read.skipped[0].line, 5);
    assert!(
        read.skipped[0].reason.contains("n_depth"),
        "{:?}",
        read.skipped
    );
    // The rows price: prefill is 512 tokens at 318.417761 tokens/s, decode one token at
    // 74.871374 tokens/s.
    let mut cache = Cache::default();
    let p = prepare(&r[0], &mut cache).unwrap();
    assert!((p.measured_s() - 512.0 / 318.417761).abs() < 1e-12);
    let d = prepare(&r[1], &mut cache).unwrap();
    assert!((d.measured_s() - 1.0 / 74.871374).abs() < 1e-12);
}

#[test]
fn llama_bench_without_backends_takes_the_runtimes_unit() {
    // Older llama-bench wrote no `backends` and defaulted n_gpu_layers to 99 in CPU builds too:
    // the runtime decides (fields trimmed to those read).
    let old = "model_type,n_threads,n_gpu_layers,n_prompt,n_gen,avg_ts\n\
               \"llama 7B Q4_0\",\"8\",\"99\",\"512\",\"0\",\"61.5\"\n";
    for (runtime, unit) in [("llama.cpp-cpu", "cpu"), ("llama.cpp-metal", "gpu")] {
        let c = ctx("m2-ultra", runtime, Some("llama-2-7b"));
        let rows = formats::parse_rows(old, "old.csv", &c).unwrap().rows;
        assert_eq!(rows.len(), 1);
        assert_eq!((rows[0].unit_kind.as_str(), rows[0].value), (unit, 61.5));
    }
}

#[test]
fn llama_bench_json_and_jsonl_give_the_same_rows() {
    let c = ctx("desktop-x86", "llama.cpp-cpu", Some("tinyllama-1.1b"));
    let csv = formats::parse_rows(BENCH_CSV, "b.csv", &c).unwrap().rows;
    let json = formats::parse_rows(BENCH_JSON, "b.json", &c).unwrap();
    let jsonl = formats::parse_rows(BENCH_JSONL, "b.jsonl", &c).unwrap();
    assert_eq!(json.format, formats::Format::LlamaBenchJson);
    assert_eq!(jsonl.format, formats::Format::LlamaBenchJsonl);
    // JSON rows are at the lines their objects open on; JSONL rows at their lines.
    let lines = |rows: &[dataset::Row]| rows.iter().map(|r| r.line).collect::<Vec<_>>();
    assert_eq!(lines(&json.rows), [2, 46]);
    assert_eq!(lines(&jsonl.rows), [1, 2]);
    for rows in [&json.rows, &jsonl.rows] {
        assert_eq!(rows.len(), 2);
        for (a, b) in rows.iter().zip(&csv) {
            assert_eq!(
                (&a.metric, a.value, a.prompt, a.generated, a.context),
                (&b.metric, b.value, b.prompt, b.generated, b.context)
            );
            assert_eq!(
                (&a.quant, a.threads, &a.unit_kind),
                (&b.quant, b.threads, &b.unit_kind)
            );
        }
    }
}

#[test]
fn calibrate_from_llama_bench_writes_an_overlay() {
    let dir = TempDir::new("calibrate-llama-bench");
    for (name, text) in [("bench.csv", BENCH_CSV), ("bench.json", BENCH_JSON)] {
        let from = dir.join(name);
        std::fs::write(&from, text).unwrap();
        let out = dir.join(format!("{name}.toml"));
        let (ok, stdout, stderr) = archscope_paths(
            "calibrate --hw desktop-x86 --runtime llama.cpp-cpu --model tinyllama-1.1b",
            &[("--from", &from), ("--out", &out)],
        );
        assert!(ok, "{stdout}{stderr}");
        let n = if name == "bench.csv" { 3 } else { 2 };
        assert!(stdout.contains(&format!("read {n} rows")), "{stdout}");
        let o = Overlay::parse(&std::fs::read_to_string(&out).unwrap(), "o.toml").unwrap();
        assert_eq!(o.calibration.rows.len(), n);
    }
    // Without --model: a clear error, nothing written.
    let from = dir.join("bench.csv");
    let out = dir.join("none.toml");
    let (ok, _, stderr) = archscope_paths(
        "calibrate --hw desktop-x86 --runtime llama.cpp-cpu",
        &[("--from", &from), ("--out", &out)],
    );
    assert!(!ok);
    assert!(
        stderr.contains("bench.csv: a llama-bench CSV file names no model archscope ships")
            && stderr.contains("--model"),
        "{stderr}"
    );
    assert!(!out.exists());
}

#[test]
fn ai_hub_perf_yaml_gives_the_devices_rows() {
    let c = ctx("galaxy-s24", "qnn", Some("mobilenetv2"));
    let read = formats::parse_rows(PERF_YAML, "perf.yaml", &c).unwrap();
    assert_eq!(read.format, formats::Format::AiHubPerfYaml);
    let got: Vec<_> = read
        .rows
        .iter()
        .map(|r| (r.line, r.value, r.quant.as_str(), r.unit_kind.as_str()))
        .collect();
    // qnn_dlc on the S24: float (run at FP16) and w8a8, in milliseconds as published.
    assert_eq!(got, [(33, 0.565, "f16", "npu"), (93, 0.316, "w8a8", "npu")]);
    for r in &read.rows {
        assert_eq!(
            (r.metric.as_str(), r.kind.as_str()),
            ("latency_ms", "network")
        );
        assert_eq!((r.hw.as_str(), r.runtime.as_str()), ("galaxy-s24", "qnn"));
        assert_eq!(r.model_ref, "mobilenetv2");
        assert_eq!(r.device, "Samsung Galaxy S24");
    }
    // Skipped: the S24's tflite (twice) and onnx, other runtimes; the S25's qnn_dlc.
    let mut skipped: Vec<usize> = read.skipped.iter().map(|s| s.line).collect();
    skipped.sort();
    assert_eq!(skipped, [19, 46, 61, 79]);
    // The tflite paths are LiteRT on the NPU.
    let lite = formats::parse_rows(
        PERF_YAML,
        "perf.yaml",
        &ctx("galaxy-s24", "litert-npu", Some("mobilenetv2")),
    )
    .unwrap();
    let got: Vec<_> = lite.rows.iter().map(|r| (r.line, r.value)).collect();
    assert_eq!(got, [(19, 0.556), (79, 0.3)]);
    // Before v0.28: microseconds, the precision per run, the device in reference_device_info.
    let old = formats::parse_rows(
        PERF_YAML_V0_20,
        "perf.yaml",
        &ctx("galaxy-s24", "onnxruntime-qnn", Some("mobilenetv2")),
    )
    .unwrap();
    let got: Vec<_> = old
        .rows
        .iter()
        .map(|r| (r.line, r.value, r.quant.as_str()))
        .collect();
    assert_eq!(got, [(97, 647.0 / 1000.0, "f16")]);
    // The S23's three runtime paths and the S24's tflite and qnn are skipped.
    assert_eq!(old.skipped.len(), 5);
    // And through the command line, an overlay.
    let dir = TempDir::new("calibrate-ai-hub");
    let from = dir.join("perf.yaml");
    std::fs::write(&from, PERF_YAML).unwrap();
    let out = dir.join("o.toml");
    let (ok, stdout, stderr) = archscope_paths(
        "calibrate --hw galaxy-s24 --runtime qnn --model mobilenetv2",
        &[("--from", &from), ("--out", &out)],
    );
    assert!(ok, "{stdout}{stderr}");
    assert!(
        stdout.contains("read 2 rows") && stdout.contains("skipped"),
        "{stdout}"
    );
    let o = Overlay::parse(&std::fs::read_to_string(&out).unwrap(), "o.toml").unwrap();
    assert_eq!(o.calibration.rows.len(), 2);
}

#[test]
fn bad_calibration_inputs_name_the_file_line_and_field() {
    let llm = ctx("desktop-x86", "llama.cpp-cpu", Some("tinyllama-1.1b"));
    let err = |text: &str, file: &str, c: &formats::Context| {
        formats::parse_rows(text, file, c).unwrap_err().to_string()
    };
    // A CSV without avg_ts.
    let no_avg = BENCH_CSV.replacen(",avg_ts,", ",avg_tps,", 1);
    let e = err(&no_avg, "b.csv", &llm);
    assert!(e.contains("b.csv:1: missing column `avg_ts`"), "{e}");
    // A rate that is not a number, on line 3.
    let fast = BENCH_CSV.replacen("\"74.871374\"", "\"fast\"", 1);
    let e = err(&fast, "b.csv", &llm);
    assert!(
        e.contains("b.csv:3: column `avg_ts`: expected a finite positive number")
            && e.contains("found `fast`"),
        "{e}"
    );
    // The same in JSON: a string where llama-bench writes a number, at the object's line.
    let quoted = BENCH_JSON.replacen("\"avg_ts\": 74.871374", "\"avg_ts\": \"74.871374\"", 1);
    let e = err(&quoted, "b.json", &llm);
    assert!(e.contains("b.json:46: key `avg_ts`: expected"), "{e}");
    // A broken JSON array: its line and column.
    let e = err(&BENCH_JSON[..BENCH_JSON.len() - 10], "b.json", &llm);
    assert!(e.contains("b.json:") && e.contains("column"), "{e}");
    // Two models in one file.
    let two = BENCH_CSV.replacen("\"1100048384\"", "\"6738415616\"", 1);
    let e = err(&two, "b.csv", &llm);
    assert!(e.contains("b.csv:3: column `model_n_params`"), "{e}");
    // A file that is none of the formats.
    match formats::parse_rows("name,latency\nx,1\n", "x.csv", &llm) {
        Err(e @ TrustError::Unrecognized { .. }) => {
            let e = e.to_string();
            assert!(
                e.starts_with("x.csv: not a format") && e.contains("llama-bench"),
                "{e}"
            );
        }
        other => panic!("{other:?}"),
    }
    // No --model.
    match formats::parse_rows(
        BENCH_CSV,
        "b.csv",
        &ctx("desktop-x86", "llama.cpp-cpu", None),
    ) {
        Err(TrustError::NeedsModel { .. }) => {}
        other => panic!("{other:?}"),
    }
    // A network for llama-bench, an LLM for AI Hub.
    let e = err(
        BENCH_CSV,
        "b.csv",
        &ctx("desktop-x86", "llama.cpp-cpu", Some("mobilenetv2")),
    );
    assert!(e.contains("llama-bench measures LLMs"), "{e}");
    // A GPU runtime for tests that ran on the CPU.
    let e = err(
        BENCH_CSV,
        "b.csv",
        &ctx("desktop-x86", "llama.cpp-cuda", Some("tinyllama-1.1b")),
    );
    assert!(e.contains("b.csv:2: column `n_gpu_layers`"), "{e}");
    // YAML the reader does not take, and a bad latency, with their lines.
    let net = ctx("galaxy-s24", "qnn", Some("mobilenetv2"));
    let anchor = PERF_YAML.replacen("job_id: jgo3qqx1g", "job_id: &id jgo3qqx1g", 1);
    let e = err(&anchor, "perf.yaml", &net);
    assert!(e.contains("perf.yaml:34: YAML: an anchor"), "{e}");
    let slow = PERF_YAML.replacen(
        "inference_time_milliseconds: 0.565",
        "inference_time_milliseconds: slow",
        1,
    );
    let e = err(&slow, "perf.yaml", &net);
    assert!(
        e.contains("perf.yaml:36: `qnn_dlc.inference_time_milliseconds`: expected a finite positive number, found `slow`"),
        "{e}"
    );
}

#[test]
fn score_picks_up_the_pairs_overlay_from_calibrations() {
    // calibrate --from writes calibrations/DEVICE.RUNTIME.toml in the working directory; score
    // in that directory applies it without --calibration, says so, and takes its band from it;
    // --no-calibration ignores it.
    use crate::common::archscope_in;
    let dir = TempDir::new("pickup");
    let out = crate::common::calibrate_in(dir.path(), "galaxy-s24", "qnn");
    assert!(out.contains("calibrations/galaxy-s24.qnn.toml"), "{out}");
    assert!(dir.join("calibrations/galaxy-s24.qnn.toml").is_file());
    let score = |extra: &str| {
        let line = format!(
            "score --hw galaxy-s24 --model mobilenetv2 --unit npu --quant w8a8 --format json {extra}"
        );
        let (ok, out, err) = archscope_in(dir.path(), &words(&line));
        assert!(ok, "{err}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        (v, err)
    };
    let (v, err) = score("");
    assert!(err.contains("picked up"), "{err}");
    let label = v["band"]["label"].as_str().unwrap_or_default().to_string();
    assert!(label.starts_with("calibrated"), "{v}");
    let (v, err) = score("--no-calibration");
    assert!(!err.contains("picked up"), "{err}");
    let label = v["band"]["label"].as_str().unwrap_or_default().to_string();
    assert!(label.starts_with("uncalibrated"), "{v}");
}
