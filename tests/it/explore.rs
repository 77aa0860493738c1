//! `archscope explore` end to end: metrics agree with `score`, what-ifs move what they should,
//! infeasible points are kept with their reasons, limits apply, output is deterministic, parts
//! merge, existing directories are protected, and chart text really renders in PNG.

use crate::common::explore::{explore_into, explore_parts, run};
use crate::common::{TempDir, data_path, words};
use archscope::cost::Mode;
use archscope::explore::plots::{self, Scatter, ScatterPoint};
use archscope::explore::table;
use archscope::explore::{
    self, ExploreError, ExploreRequest, OutputOptions, Results, Session, analyze,
};
use archscope::hardware::Hardware;
use archscope::score::{ScoreRequest, score_llm};
use archscope::search::{MAX_SHARDS, Shard};
use archscope::workload::{QuantScheme, load_llm};
use std::path::Path;

fn request() -> ExploreRequest {
    ExploreRequest {
        hw: "pixel8".into(),
        model: "llama-1b".into(),
        quants: vec!["fp16".into(), "w4a16-g128".into(), "fp32".into()],
        contexts: vec![1024, 16384],
        command: "archscope explore (test)".into(),
        ..Default::default()
    }
}

/// Row of the point with these knob values (by axis name).
fn row(s: &Session, r: &Results, want: &[(&str, &str)]) -> usize {
    r.points
        .iter()
        .position(|p| {
            want.iter()
                .all(|(axis, v)| s.space.text(p, s.space.axis(axis).unwrap()) == *v)
        })
        .unwrap_or_else(|| panic!("no point {want:?}"))
}

fn metric(s: &Session, r: &Results, row: usize, name: &str) -> Option<f64> {
    r.outcomes[row].metrics[s.metric_index(name).unwrap()]
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs())
}

#[test]
fn metrics_agree_with_score() {
    // Compared with `score` without a runtime: `--runtime ideal` (the device defaults price
    // under llama.cpp and MLC-LLM; see explore_prices_like_score_under_a_runtime).
    let (s, r) = run(&ExploreRequest {
        runtimes: vec!["ideal".into()],
        ..request()
    });
    let hw = Hardware::load("pixel8").unwrap();
    let model = load_llm("llama-1b").unwrap();
    for (quant, pu, du, ctx) in [
        ("w4a16-g128", "tpu", "gpu", 1024u64),
        ("fp16", "cpu-big", "cpu-mid", 16384),
    ] {
        let i = row(
            &s,
            &r,
            &[
                ("quant", quant),
                ("prefill_unit", pu),
                ("decode_unit", du),
                ("context_tokens", &ctx.to_string()),
            ],
        );
        let q = QuantScheme::parse(quant).unwrap();
        let req = |unit: &str, prefill: bool| ScoreRequest {
            batch: 1,
            prompt: 512,
            context: ctx,
            prefill,
            decode: !prefill,
            unit: Some(unit.into()),
            mode: Mode::Calibrated,
            ..ScoreRequest::default()
        };
        let pre = score_llm(&hw, &model, &q, &req(pu, true)).unwrap();
        let dec = score_llm(&hw, &model, &q, &req(du, false)).unwrap();
        let (p, d) = (&pre.phases[0], &dec.phases[0]);
        let t = metric(&s, &r, i, "ttft_s").unwrap();
        assert!(
            close(t, p.eval.total.latency_s),
            "{t} vs {}",
            p.eval.total.latency_s
        );
        assert!(close(
            metric(&s, &r, i, "prefill_energy_j").unwrap(),
            p.eval.total.energy_j()
        ));
        assert!(close(
            metric(&s, &r, i, "decode_latency_s").unwrap(),
            d.eval.total.latency_s
        ));
        assert!(close(
            metric(&s, &r, i, "energy_per_token_j").unwrap(),
            d.j_per_token()
        ));
        assert!(close(
            metric(&s, &r, i, "decode_tokens_per_s").unwrap(),
            d.tokens_per_s()
        ));
        // The footprint covers both phases: score's footprint of the two graphs.
        let fp = archscope::score::footprint(&hw, 0, &[&p.graph, &d.graph]);
        assert_eq!(metric(&s, &r, i, "memory_bytes").unwrap(), fp.total_bytes);
        assert_eq!(
            metric(&s, &r, i, "weights_bytes").unwrap(),
            fp.weights_bytes
        );
    }
}

#[test]
fn infeasible_points_are_kept_with_reasons() {
    let (s, r) = run(&request());
    let a = analyze(&s, &r).unwrap();
    // 3 quantizations × 9 prefill × 9 decode units (pixel8's 5 units plus cpu-mid@1, @2 and
    // cpu-little@1, @2: the 4-core clusters on 1 and 2 threads) × 2 contexts.
    assert_eq!(r.points.len(), 3 * 9 * 9 * 2);
    // fp32 has no f32-or-wider path on the TPU (it computes only i8 and f16).
    let i = row(
        &s,
        &r,
        &[
            ("quant", "fp32"),
            ("prefill_unit", "cpu-big"),
            ("decode_unit", "tpu"),
        ],
    );
    assert!(!a.feasible[i]);
    let why = a.reasons[i].as_deref().unwrap();
    assert!(
        why.contains("decode on tpu") && why.contains("no f32"),
        "{why}"
    );
    assert!(metric(&s, &r, i, "decode_latency_s").is_none());
    assert!(
        metric(&s, &r, i, "ttft_s").is_some(),
        "prefill on cpu-big still priced"
    );
    // fp32 llama-1b at 16 Ki context: 4.94 GB of weights + 0.54 GB of KV cache > 5 GiB usable.
    let i = row(
        &s,
        &r,
        &[
            ("quant", "fp32"),
            ("prefill_unit", "gpu"),
            ("decode_unit", "gpu"),
            ("context_tokens", "16384"),
        ],
    );
    let why = a.reasons[i].as_deref().unwrap();
    assert!(why.contains("in dram") && why.contains("usable"), "{why}");
    assert!(metric(&s, &r, i, "memory_bytes").unwrap() > 5.0 * (1u64 << 30) as f64);
    // Infeasible points are never on a front; every scenario has one.
    assert!((0..r.points.len()).all(|i| a.feasible[i] || !a.on_front[i]));
    assert_eq!(a.scenarios.len(), 2);
    assert!(a.scenarios.iter().all(|sc| !sc.front.is_empty()));
}

#[test]
fn limits_make_points_infeasible() {
    let mut req = request();
    req.max_memory = Some("1.3GB".into());
    req.min_tokens_per_s = Some(20.0);
    let (s, r) = run(&req);
    let a = analyze(&s, &r).unwrap();
    let mut broke_memory = 0;
    for i in 0..r.points.len() {
        if r.outcomes[i].infeasible.is_some() {
            continue;
        }
        let mem = metric(&s, &r, i, "memory_bytes").unwrap();
        let tps = metric(&s, &r, i, "decode_tokens_per_s").unwrap();
        assert_eq!(a.feasible[i], mem <= 1.3e9 && tps >= 20.0, "row {i}");
        if mem > 1.3e9 {
            broke_memory += 1;
            assert!(a.reasons[i].as_deref().unwrap().contains("--max-memory"));
        }
    }
    assert!(broke_memory > 0);
    for sc in &a.scenarios {
        for &f in &sc.front {
            assert!(metric(&s, &r, f, "memory_bytes").unwrap() <= 1.3e9);
        }
    }
}

#[test]
fn bandwidth_what_if_moves_decode_not_memory() {
    let mut req = request();
    req.quants = vec!["w4a16-g128".into()];
    req.units = vec!["gpu".into()];
    req.sweeps = vec!["memory[dram].bytes_per_s=20e9..80e9:4".into()];
    req.ideal = true;
    let (s, r) = run(&req);
    assert_eq!(r.points.len(), 4 * 2);
    let bw = s.space.axis("memory[dram].bytes_per_s").unwrap();
    assert_eq!(bw, 0, "hardware axes come first");
    let ctx = s.space.axis("context_tokens").unwrap();
    for c in 0..2u32 {
        let rows: Vec<usize> = (0..r.points.len())
            .filter(|&i| r.points[i].digits[ctx] == c)
            .collect();
        let lat: Vec<f64> = rows
            .iter()
            .map(|&i| metric(&s, &r, i, "decode_latency_s").unwrap())
            .collect();
        let mem: Vec<f64> = rows
            .iter()
            .map(|&i| metric(&s, &r, i, "memory_bytes").unwrap())
            .collect();
        assert!(lat.windows(2).all(|w| w[1] < w[0]), "{lat:?}");
        assert!(mem.windows(2).all(|w| w[0] == w[1]));
        // Ideal roofline, decode DRAM-bound throughout: latency of the DRAM-bound part scales
        // as 1/bandwidth, so 4x the bandwidth gives less than half the latency here.
        assert!(lat[3] < lat[0] / 2.0, "{lat:?}");
    }
    // A what-if that names nothing is a clear error, before anything runs.
    let mut bad = request();
    bad.sweeps = vec!["memory[hbm].bytes_per_s=1e9..2e9:2".into()];
    let e = Session::new(bad.resolve().unwrap())
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("no `memory` named `hbm`"), "{e}");
    assert!(e.contains("l2-big, l2-mid, slc, dram"), "{e}");
}

#[test]
fn what_if_capacity_can_make_points_infeasible() {
    let mut req = request();
    req.quants = vec!["fp16".into()];
    req.units = vec!["gpu".into()];
    // fp16 llama-1b needs about 2.5 GB plus KV: infeasible with 2 GB usable, feasible with 4 GB.
    req.sweeps = vec!["memory[dram].usable_bytes=2e9,4e9".into()];
    let (s, r) = run(&req);
    let a = analyze(&s, &r).unwrap();
    for i in 0..r.points.len() {
        let small = r.points[i].digits[0] == 0;
        assert_eq!(a.feasible[i], !small, "row {i}: {:?}", a.reasons[i]);
    }
}

fn files_of(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn reports_are_deterministic_and_protected() {
    let mut req = request();
    req.sweeps = vec!["memory[dram].bytes_per_s=40e9,80e9".into()];
    req.samples = Some(60);
    req.seed = 7;
    let tmp = TempDir::new("deterministic");
    let (d1, d2) = (tmp.join("det1"), tmp.join("det2"));
    let opts = |d: &Path| OutputOptions {
        out: Some(d.to_path_buf()),
        force: false,
        progress: false,
        chunk: None,
    };
    explore::explore(&req, &opts(&d1)).unwrap();
    explore::explore(&req, &opts(&d2)).unwrap();
    let (f1, f2) = (files_of(&d1), files_of(&d2));
    let names: Vec<&str> = f1.iter().map(|f| f.0.as_str()).collect();
    for want in [
        "report.html",
        "points.parquet",
        "points.csv",
        "front.parquet",
        "front.csv",
        "spec.json",
        "summary.txt",
        "roofline-decode.svg",
        "roofline-decode.png",
        "layers-prefill.png",
        "sweep-memory-dram-bytes_per_s.svg",
    ] {
        assert!(names.contains(&want), "{want} missing from {names:?}");
    }
    for (a, b) in f1.iter().zip(&f2) {
        assert_eq!(a.0, b.0);
        assert!(a.1 == b.1, "{} differs between identical runs", a.0);
    }
    // 60 sampled points, sorted by id.
    let csv =
        String::from_utf8(f1.iter().find(|f| f.0 == "points.csv").unwrap().1.clone()).unwrap();
    assert_eq!(csv.lines().count(), 61);
    // The same directory again is refused without --force, accepted with it.
    match explore::explore(&req, &opts(&d1)) {
        Err(ExploreError::Exists(p)) => assert!(p.contains("det1")),
        Err(e) => panic!("unexpected error {e}"),
        Ok(_) => panic!("overwrote an existing report"),
    }
    let forced = OutputOptions {
        force: true,
        ..opts(&d1)
    };
    explore::explore(&req, &forced).unwrap();
    let html = std::fs::read_to_string(d1.join("report.html")).unwrap();
    assert!(
        html.contains("archscope explore (test)"),
        "the command is shown"
    );
    assert!(html.contains(env!("CARGO_PKG_VERSION")));
    let hw_sha =
        archscope::explore::files::sha256_hex(Hardware::find_text("pixel8").unwrap().1.as_bytes());
    assert!(html.contains(&hw_sha), "the device file hash is shown");
}

#[test]
fn shard_parts_merge_into_the_single_run() {
    let mut req = request();
    req.sweeps = vec!["unit[gpu].peak_ops_per_s.f16=1e12,4e12".into()];
    let tmp = TempDir::new("shards");
    let whole_dir = tmp.join("whole");
    explore_into(&req, &whole_dir, None);
    let parts = explore_parts(&req, &tmp.join("parts"), 3, None);
    // A missing part is an error that names it.
    let e = explore::merge_parts(&parts[..2]).err().unwrap().to_string();
    assert!(e.contains("missing shard(s) 2/3"), "{e}");
    let merged_dir = tmp.join("merged");
    explore::merge(&parts, &merged_dir, false).unwrap();
    for f in ["points.csv", "front.csv", "points.parquet", "front.parquet"] {
        let a = std::fs::read(whole_dir.join(f)).unwrap();
        let b = std::fs::read(merged_dir.join(f)).unwrap();
        if f.ends_with(".csv") {
            assert_eq!(a, b, "{f} of the merge differs from the single run");
        }
    }
}

#[test]
fn log_sweep_values_survive_the_parts_metadata_exactly() {
    // A part carries its run's spec as JSON and `merge` rebuilds the points from it. Swept
    // values of a log sweep are not short decimals: 25e9..200e9 in 32 log steps has
    // 95626598949.62553, which a parser that is not correctly rounded reads back one unit in
    // the last place off, so the merged table showed other values than the single run priced.
    let mut req = request();
    req.quants = vec!["fp16".into()];
    req.contexts = vec![1024];
    req.units = vec!["gpu".into()];
    req.sweeps = vec!["memory[dram].bytes_per_s=25e9..200e9:32:log".into()];
    let tmp = TempDir::new("log-sweep-shards");
    let whole = tmp.join("whole");
    explore_into(&req, &whole, None);
    let parts = explore_parts(&req, &tmp.join("parts"), 2, None);
    let resolved = req.resolve().unwrap();
    let (spec, _) = table::read_part(&parts[0]).unwrap();
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(
        bits(&spec.sweeps[0].values),
        bits(&resolved.sweeps[0].values),
        "the part's spec holds other swept values than the run"
    );
    let merged = tmp.join("merged");
    explore::merge(&parts, &merged, false).unwrap();
    for f in ["points.csv", "front.csv"] {
        let a = std::fs::read(whole.join(f)).unwrap();
        let b = std::fs::read(merged.join(f)).unwrap();
        assert!(a == b, "{f} of the merge differs from the single run");
    }
}

#[test]
fn bad_requests_get_clear_errors() {
    let mut r = request();
    r.objectives = vec!["speed".into()];
    let e = r.resolve().unwrap_err().to_string();
    assert!(
        e.contains("unknown objective `speed`") && e.contains("decode_latency_s"),
        "{e}"
    );
    let mut r = request();
    r.units = vec!["npu".into()];
    let e = r.resolve().unwrap_err().to_string();
    assert!(e.contains("no unit `npu`") && e.contains("tpu"), "{e}");
    let mut r = request();
    r.sweeps = vec!["memory[dram].bytes_per_s=1..2".into()];
    assert!(r.resolve().unwrap_err().to_string().contains("STEPS"));
    let mut r = request();
    r.max_memory = Some("lots".into());
    assert!(
        r.resolve()
            .unwrap_err()
            .to_string()
            .contains("bad byte count")
    );
    let mut r = request();
    r.shard = Some("3/3".into());
    assert!(r.resolve().unwrap_err().to_string().contains("bad shard"));
    let mut r = request();
    r.prompts = vec![4096];
    r.contexts = vec![1024];
    let e = Session::new(r.resolve().unwrap())
        .unwrap()
        .run(false)
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("prompt_tokens <= context_tokens"), "{e}");
    assert_eq!(explore::parse_bytes("3.5GiB").unwrap(), 3.5 * 1073741824.0);
    assert_eq!(explore::parse_bytes("4GB").unwrap(), 4e9);
}

fn dark_pixels(rgb: &[u8], width: u32, rows: std::ops::Range<u32>) -> usize {
    rows.flat_map(|y| (0..width).map(move |x| ((y * width + x) * 3) as usize))
        .filter(|&i| rgb[i] < 100 && rgb[i + 1] < 100 && rgb[i + 2] < 100)
        .count()
}

#[test]
fn chart_text_renders_in_png() {
    // The title band of a chart holds only the title text: with a title it has dark pixels,
    // without one it is blank. This fails if fontconfig finds no font for the PNG backend.
    let fig = |title: &str| Scatter {
        title: title.into(),
        subtitle: String::new(),
        x_label: "x (s)".into(),
        y_label: "y (J)".into(),
        groups: vec!["a".into()],
        points: vec![ScatterPoint {
            x: 1.0,
            y: 2.0,
            group: 0,
            front: true,
            feasible: true,
        }],
    };
    let with = plots::to_rgb(&fig("Pareto front of a test")).unwrap();
    let without = plots::to_rgb(&fig("")).unwrap();
    let (w, _) = archscope::explore::plots::Chart::size(&fig(""));
    assert!(
        dark_pixels(&with, w, 6..30) > 100,
        "title text did not render"
    );
    assert_eq!(dark_pixels(&without, w, 6..30), 0);
    // SVG carries the text as text.
    let svg = plots::to_svg(&fig("Pareto front of a test")).unwrap();
    assert!(svg.contains("Pareto front of a test") && svg.contains("<text"));
}

#[test]
fn placement_aware_classes_price_graphs_exactly() {
    // Prefill activations of llama-1b (P = 512) spill differently at layer boundaries, so op
    // classes must also agree on where their tensors live. Summing representatives × counts
    // must reproduce the per-op total on every unit.
    use archscope::cost::PlacementProfile;
    use archscope::cost::{CostModel, evaluate, evaluate_total};
    use archscope::roofline::Roofline;
    use archscope::workload::Phase;
    let hw = Hardware::load("pixel8").unwrap();
    let m = load_llm("llama-1b").unwrap();
    let q = QuantScheme::parse("fp16").unwrap();
    for phase in [
        Phase::Prefill { prompt: 512 },
        Phase::Decode { context: 4096 },
    ] {
        let g = m.build(&q, phase, 1);
        let prof = PlacementProfile::of(&g);
        let classes = prof.classes(&g);
        assert!(classes.len() < g.ops.len() / 4, "layers collapse");
        assert_eq!(
            classes.iter().map(|c| c.1 as usize).sum::<usize>(),
            g.ops.len()
        );
        for unit in 0..hw.units.len() {
            let model = Roofline::new(&hw, unit, Mode::Calibrated);
            let res = prof.place(&hw, unit);
            assert_eq!(res, model.residency(&g));
            let all = evaluate(&model as &dyn CostModel, &g, &res).unwrap().total;
            let fast = evaluate_total(&model as &dyn CostModel, &g, &res, &classes).unwrap();
            assert!(
                close(all.latency_s, fast.latency_s),
                "{unit}: {} vs {}",
                all.latency_s,
                fast.latency_s
            );
            assert!(close(all.energy_j(), fast.energy_j()));
            // Placing only the tensors the representatives touch prices the same.
            let touched = PlacementProfile::touched(&g, &classes);
            let part = prof.place_only(&hw, unit, &touched);
            let quick = evaluate_total(&model as &dyn CostModel, &g, &part, &classes).unwrap();
            assert_eq!(quick, fast);
        }
    }
}

fn cnn_request() -> ExploreRequest {
    ExploreRequest {
        hw: "pixel8".into(),
        model: "mobilenetv2".into(),
        batches: vec![1, 8],
        command: "archscope explore (cnn test)".into(),
        ..Default::default()
    }
}

#[test]
fn cnn_metrics_agree_with_score() {
    use archscope::score::score_vision;
    use archscope::workload::VisionModel;
    // Compared with `score` without a runtime: `--runtime ideal`.
    let (s, r) = run(&ExploreRequest {
        runtimes: vec!["ideal".into()],
        ..cnn_request()
    });
    // Default sweep: fp32, fp16, w8a8 × 9 units (5 + cpu-mid@1,@2 + cpu-little@1,@2) × 2 batches.
    assert_eq!(r.points.len(), 3 * 9 * 2);
    let (hw_file, hw_text) = Hardware::find_text("pixel8").unwrap();
    let model = VisionModel::parse("mobilenetv2").unwrap();
    for (quant, unit, batch) in [
        ("fp16", "gpu", 8u64),
        ("w8a8", "tpu", 1),
        ("fp32", "cpu-big", 1),
        ("fp32", "cpu-mid@2", 8),
    ] {
        let i = row(
            &s,
            &r,
            &[
                ("quant", quant),
                ("unit", unit),
                ("batch", &batch.to_string()),
            ],
        );
        assert!(r.outcomes[i].infeasible.is_none(), "{:?}", r.outcomes[i]);
        // `score` on the same unit; a thread variant is the unit with params.threads set.
        let (base, threads) = match unit.split_once('@') {
            Some((b, t)) => (b, Some(t.parse::<i64>().unwrap())),
            None => (unit, None),
        };
        let mut hw = Hardware::from_toml_str(&hw_text, &hw_file).unwrap();
        if let Some(t) = threads {
            let u = hw.unit_index(Some(base)).unwrap();
            hw.units[u]
                .params
                .insert("threads".into(), toml::Value::Integer(t));
        }
        let sc = score_vision(
            &hw,
            &model,
            &QuantScheme::parse(quant).unwrap(),
            &ScoreRequest {
                batch,
                prompt: 1,
                context: 1,
                prefill: true,
                decode: true,
                unit: Some(base.into()),
                mode: Mode::Calibrated,
                ..ScoreRequest::default()
            },
        )
        .unwrap();
        let m = |n: &str| metric(&s, &r, i, n).unwrap();
        assert!(close(m("batch_latency_s"), sc.latency_s()), "{unit}");
        assert!(close(m("images_per_s"), sc.samples_per_s()), "{unit}");
        assert!(close(m("energy_per_image_j"), sc.j_per_sample()), "{unit}");
        assert!(
            close(m("batch_energy_j"), sc.eval.total.energy_j()),
            "{unit}"
        );
        assert!(close(m("memory_bytes"), sc.memory.total_bytes), "{unit}");
        assert!(close(
            m("memory_per_image_bytes"),
            sc.memory.total_bytes / batch as f64
        ));
        assert!(close(
            m("latency_per_image_s"),
            sc.latency_s() / batch as f64
        ));
        // The threads column: the cores a CPU-model unit runs on, empty for the others.
        let t = metric(&s, &r, i, "threads");
        match unit {
            "cpu-big" => assert_eq!(t, Some(1.0)),
            "cpu-mid@2" => assert_eq!(t, Some(2.0)),
            _ => assert_eq!(t, None),
        }
    }
}

#[test]
fn cpu_threads_are_a_knob() {
    // Without a runtime (`--runtime ideal`): the thread variants of the CPU model as such.
    let mut req = cnn_request();
    req.runtimes = vec!["ideal".into()];
    req.units = vec!["cpu-mid".into(), "cpu-little".into()];
    req.quants = vec!["fp32".into()];
    req.batches = vec![1];
    let (s, r) = run(&req);
    let units: Vec<String> = (0..r.points.len())
        .map(|i| s.space.text(&r.points[i], s.space.axis("unit").unwrap()))
        .collect();
    assert_eq!(
        units,
        [
            "cpu-mid@1",
            "cpu-mid@2",
            "cpu-mid",
            "cpu-little@1",
            "cpu-little@2",
            "cpu-little"
        ]
    );
    // More cores, less latency, on both clusters; the threads column says how many.
    for (k, cluster) in [(0usize, "cpu-mid"), (3, "cpu-little")] {
        let lat: Vec<f64> = (k..k + 3)
            .map(|i| metric(&s, &r, i, "batch_latency_s").unwrap())
            .collect();
        assert!(lat[0] > lat[1] && lat[1] > lat[2], "{cluster}: {lat:?}");
        let th: Vec<f64> = (k..k + 3)
            .map(|i| metric(&s, &r, i, "threads").unwrap())
            .collect();
        assert_eq!(th, [1.0, 2.0, 4.0]);
    }
    // --threads picks the counts; `all` is the plain unit name.
    req.threads = vec!["1".into(), "all".into()];
    let (s, r) = run(&req);
    assert_eq!(r.points.len(), 4);
    assert_eq!(
        s.space.text(&r.points[0], s.space.axis("unit").unwrap()),
        "cpu-mid@1"
    );
    // A thread count on a unit without the CPU model is an error.
    req.units = vec!["gpu@2".into()];
    let e = req.resolve().unwrap_err().to_string();
    assert!(e.contains("gpu@2") && e.contains("thread"), "{e}");
    // LLM decode on cpu-mid with 1, 2 and 4 threads: thread columns for both phases.
    let mut llm = request();
    llm.runtimes = vec!["ideal".into()];
    llm.quants = vec!["w4a16-g128".into()];
    llm.contexts = vec![1024];
    llm.prefill_units = vec!["cpu-mid".into()];
    llm.decode_units = vec!["cpu-mid".into()];
    let (s, r) = run(&llm);
    assert_eq!(r.points.len(), 9);
    let i = row(
        &s,
        &r,
        &[("prefill_unit", "cpu-mid@2"), ("decode_unit", "cpu-mid@1")],
    );
    assert_eq!(metric(&s, &r, i, "prefill_threads"), Some(2.0));
    assert_eq!(metric(&s, &r, i, "decode_threads"), Some(1.0));
}

#[test]
fn cpu_clock_what_if_keeps_cpu_units_feasible() {
    // The CPU cycle model checks the file's peak against clock × cores × lanes; a clock
    // what-if scales the peaks with it, so every point stays priced.
    let mut req = cnn_request();
    req.units = vec!["cpu-big".into()];
    req.quants = vec!["fp32".into()];
    req.batches = vec![1];
    req.sweeps = vec!["unit[cpu-big].clock_hz=1.455e9,2.91e9".into()];
    let (s, r) = run(&req);
    assert_eq!(r.points.len(), 2);
    for o in &r.outcomes {
        assert!(o.infeasible.is_none(), "{:?}", o.infeasible);
    }
    let slow = metric(&s, &r, 0, "batch_latency_s").unwrap();
    let fast = metric(&s, &r, 1, "batch_latency_s").unwrap();
    // Half the clock: slower, by at most 2× (memory-bound ops do not slow down).
    assert!(
        slow > fast && slow <= 2.0 * fast * (1.0 + 1e-9),
        "{slow} {fast}"
    );
    // The same for an LLM on cpu-big.
    let mut llm = request();
    llm.quants = vec!["fp16".into()];
    llm.contexts = vec![1024];
    llm.units = vec!["cpu-big".into()];
    llm.sweeps = vec!["unit[cpu-big].clock_hz=2e9..3e9:3".into()];
    let (s, r) = run(&llm);
    assert_eq!(r.points.len(), 3);
    assert!(r.outcomes.iter().all(|o| o.infeasible.is_none()));
    let ttft: Vec<f64> = (0..3)
        .map(|i| metric(&s, &r, i, "ttft_s").unwrap())
        .collect();
    assert!(ttft[0] > ttft[1] && ttft[1] > ttft[2], "{ttft:?}");
}

#[test]
fn ilp_placement_is_never_slower_than_the_best_single_unit() {
    for (model, quant) in [("mobilenetv2", "fp16"), ("mobilellm-125m", "fp16")] {
        let mut req = if model == "mobilenetv2" {
            cnn_request()
        } else {
            let mut r = request();
            r.model = model.into();
            r.contexts = vec![1024];
            r.prompts = vec![128];
            r
        };
        // The ILP prices each unit without a runtime: compare with single units priced so.
        req.runtimes = vec!["ideal".into()];
        req.quants = vec![quant.into()];
        req.batches = vec![1];
        req.threads = vec!["all".into()];
        req.ilp = true;
        req.placement_time_s = Some(5.0);
        let (s, r) = run(&req);
        let metrics: &[(&str, &str)] = if model == "mobilenetv2" {
            &[("unit", "batch_latency_s")]
        } else {
            &[
                ("prefill_unit", "ttft_s"),
                ("decode_unit", "decode_latency_s"),
            ]
        };
        for &(axis, m) in metrics {
            let a = s.space.axis(axis).unwrap();
            let mut best_single = f64::INFINITY;
            let mut ilp = None;
            for i in 0..r.points.len() {
                let Some(v) = metric(&s, &r, i, m) else {
                    continue;
                };
                if s.space.text(&r.points[i], a) == "ilp" {
                    ilp = Some(v);
                } else {
                    best_single = best_single.min(v);
                }
            }
            let ilp = ilp.unwrap_or_else(|| panic!("{model}: no ILP point priced"));
            eprintln!("{model} {m}: ILP {ilp:.6e} s, best single unit {best_single:.6e} s");
            assert!(
                ilp <= best_single * (1.0 + 1e-6),
                "{model} {m}: ILP {ilp} s slower than the best single unit {best_single} s"
            );
        }
        // The placement status is in the tables.
        let label = s
            .evaluator
            .labels()
            .iter()
            .position(|l| l.ends_with("placement"))
            .unwrap();
        let ilp_row = (0..r.points.len())
            .find(|&i| !r.outcomes[i].labels[label].is_empty())
            .unwrap();
        let st = &r.outcomes[ilp_row].labels[label];
        assert!(
            st.starts_with("optimal")
                || st.starts_with("timed out")
                || st.starts_with("feasible")
                || st.contains("fallback"),
            "{st}"
        );
    }
}

#[test]
fn cnn_shards_merge_and_cnn_flags_are_checked() {
    let mut req = cnn_request();
    req.quants = vec!["fp16".into(), "w8a8".into()];
    req.sweeps = vec!["memory[dram].bytes_per_s=34e9,68e9".into()];
    req.max_latency_s = Some(0.05);
    let tmp = TempDir::new("cnn-shards");
    let whole_dir = tmp.join("cnn-whole");
    explore_into(&req, &whole_dir, None);
    let parts = explore_parts(&req, &tmp.join("cnn-parts"), 2, None);
    let merged_dir = tmp.join("cnn-merged");
    explore::merge(&parts, &merged_dir, false).unwrap();
    for f in ["points.csv", "front.csv"] {
        let a = std::fs::read(whole_dir.join(f)).unwrap();
        let b = std::fs::read(merged_dir.join(f)).unwrap();
        assert_eq!(a, b, "{f} of the merge differs from the single run");
    }
    let csv = std::fs::read_to_string(whole_dir.join("points.csv")).unwrap();
    let head = csv.lines().next().unwrap();
    for col in [
        "memory[dram].bytes_per_s",
        "quant",
        "unit",
        "batch",
        "batch_latency_s",
        "latency_per_image_s",
        "images_per_s",
        "energy_per_image_j",
        "batch_energy_j",
        "memory_bytes",
        "memory_per_image_bytes",
        "threads",
        "placement",
    ] {
        assert!(head.split(',').any(|c| c == col), "no column {col}: {head}");
    }
    // --max-latency limits the batch latency of a network.
    assert!(csv.contains("batch_latency_s"));
    assert!(
        csv.contains("--max-latency"),
        "no point broke the 50 ms limit"
    );
    // LLM-only flags are refused on a network, with the reason.
    let mut bad = cnn_request();
    bad.contexts = vec![1024];
    let e = bad.resolve().unwrap_err().to_string();
    assert!(e.contains("--context applies to LLMs"), "{e}");
    let mut bad = cnn_request();
    bad.objectives = vec!["decode_latency_s".into()];
    let e = bad.resolve().unwrap_err().to_string();
    assert!(e.contains("batch_latency_s"), "{e}");
}

#[test]
fn onnx_encoders_explore_like_score() {
    use archscope::score::score_vision;
    use archscope::workload::{Model, load_model};
    let name = format!("{}?sequence=64", data_path("encoder_block.onnx").display());
    let mut req = cnn_request();
    req.model = name.clone();
    // Compared with `score` without a runtime.
    req.runtimes = vec!["ideal".into()];
    req.quants = vec!["fp16".into()];
    req.units = vec!["gpu".into(), "cpu-big".into()];
    req.batches = vec![2];
    let (s, r) = run(&req);
    assert_eq!(r.points.len(), 2);
    // An encoder's samples are sequences: the per-sample columns say so.
    assert!(s.metric_index("sequences_per_s").is_ok());
    assert!(s.metric_index("energy_per_sequence_j").is_ok());
    assert_eq!(
        s.spec.objectives,
        ["batch_latency_s", "energy_per_sequence_j", "memory_bytes"]
    );
    // The spec names the file by its hash, so a merge can check it did not change.
    assert!(s.spec.model_text().starts_with("onnx ") && s.spec.model_text().contains("sha256"));
    let Model::Vision(model) = load_model(&name).unwrap() else {
        panic!("not a network")
    };
    let hw = Hardware::load("pixel8").unwrap();
    for unit in ["gpu", "cpu-big"] {
        let i = row(&s, &r, &[("unit", unit)]);
        let sc = score_vision(
            &hw,
            &model,
            &QuantScheme::parse("fp16").unwrap(),
            &ScoreRequest {
                batch: 2,
                prompt: 1,
                context: 1,
                prefill: true,
                decode: true,
                unit: Some(unit.into()),
                mode: Mode::Calibrated,
                ..ScoreRequest::default()
            },
        )
        .unwrap();
        assert!(close(
            metric(&s, &r, i, "batch_latency_s").unwrap(),
            sc.latency_s()
        ));
        assert!(close(
            metric(&s, &r, i, "energy_per_sequence_j").unwrap(),
            sc.j_per_sample()
        ));
    }
}

#[test]
fn scratchpad_mapping_prices_like_score_and_sweeps_capacity() {
    use archscope::mapping::{AdaptOptions, MappingRequest, report::Solver};
    use archscope::score::score_vision_mapped;
    use archscope::workload::VisionModel;
    let req = ExploreRequest {
        hw: "systolic-32x32".into(),
        model: "mobilenetv2?res=80".into(),
        quants: vec!["int8".into()],
        batches: vec![1],
        sweeps: vec!["memory[sram].capacity_bytes=150000..350000:3".into()],
        mapping: Some(Solver::Ilp),
        command: "archscope explore (mapping test)".into(),
        ..Default::default()
    };
    let (s, r) = run(&req);
    assert_eq!(r.points.len(), 3);
    let (hw_file, hw_text) = Hardware::find_text("systolic-32x32").unwrap();
    let model = VisionModel::parse("mobilenetv2?res=80").unwrap();
    let quant = QuantScheme::parse("int8").unwrap();
    let sreq = ScoreRequest {
        batch: 1,
        prompt: 1,
        context: 1,
        prefill: true,
        decode: true,
        unit: None,
        mode: Mode::Calibrated,
        ..ScoreRequest::default()
    };
    let mreq = MappingRequest {
        solver: Solver::Ilp,
        time_limit_s: explore::DEFAULT_MAPPING_TIME_S,
        adapt: AdaptOptions::default(),
    };
    for (i, cap) in [(0usize, 150000u64), (1, 250000), (2, 350000)] {
        let text = hw_text.replace(
            "capacity_bytes = { value = 196608,",
            &format!("capacity_bytes = {{ value = {cap},"),
        );
        let hw = Hardware::from_toml_str(&text, &hw_file).unwrap();
        let o = &r.outcomes[i];
        match score_vision_mapped(&hw, &model, &quant, &sreq, Some(&mreq)) {
            // 150 kB is below the largest working set (an 40x40x96 + 40x40x24 int8 pair):
            // infeasible in both, with the same reason.
            Err(e) => {
                let why = o.infeasible.as_deref().unwrap_or_default();
                assert!(why.contains("no plan exists"), "{cap}: {why} / {e}");
            }
            Ok(sc) => {
                assert!(o.infeasible.is_none(), "{cap}: {o:?}");
                let m = |n: &str| metric(&s, &r, i, n).unwrap();
                assert!(close(m("batch_latency_s"), sc.latency_s()), "{cap}");
                assert!(
                    close(m("batch_energy_j"), sc.eval.total.energy_j()),
                    "{cap}"
                );
                let plan = &sc.mapping.as_ref().unwrap().plan;
                assert_eq!(
                    m("noncompulsory_offchip_bytes"),
                    plan.non_compulsory_bytes as f64
                );
                assert!(o.labels.iter().any(|l| l == "ilp (optimal)"), "{o:?}");
            }
        }
    }
    assert!(r.outcomes[0].infeasible.is_some() && r.outcomes[2].infeasible.is_none());
    // An LLM has no mapping, and the mapping flags need --mapping.
    let e = ExploreRequest {
        model: "llama-1b".into(),
        ..req.clone()
    }
    .resolve()
    .unwrap_err();
    assert!(
        e.to_string().contains("--mapping applies to networks"),
        "{e}"
    );
    let e = ExploreRequest {
        mapping: None,
        mapping_weights: true,
        ..req.clone()
    }
    .resolve()
    .unwrap_err();
    assert!(e.to_string().contains("need --mapping"), "{e}");
}

#[test]
fn the_summary_says_how_many_points_were_skipped_and_that_reasons_overlap() {
    // fp16 × q4_0 (both run by pixel8's default runtimes on some units) × 9 prefill units ×
    // 9 decode units × prompts {512, 2048} × contexts {1024, 4096} = 648 points; the prompt of
    // 2048 above the context of 1024 is skipped: 648 / 4 = 162 skipped, 486 evaluated.
    let tmp = TempDir::new("skipped");
    let req = ExploreRequest {
        quants: vec!["fp16".into(), "q4_0".into()],
        prompts: vec![512, 2048],
        contexts: vec![1024, 4096],
        max_memory: Some("1GB".into()),
        ..request()
    };
    let f = explore::explore(
        &req,
        &OutputOptions {
            out: Some(tmp.join("r")),
            ..Default::default()
        },
    )
    .unwrap();
    assert!(
        f.summary.contains(
            "evaluated 486 of 648 points (162 skipped: prompt_tokens above context_tokens)"
        ),
        "{}",
        f.summary
    );
    // Points both over the memory limit and not run by their unit's runtime count once under
    // each reason; the line says so rather than showing counts that seem not to add up.
    assert!(
        f.summary.contains("; a point can have several reasons)"),
        "{}",
        f.summary
    );
}

/// Shard `shard` (`I/N`) of a small fp16 run at context 1024, written under `tmp/parts`.
fn small_part(tmp: &TempDir, shard: &str) -> std::path::PathBuf {
    let mut r = request();
    r.quants = vec!["fp16".into()];
    r.contexts = vec![1024];
    r.shard = Some(shard.into());
    explore_into(&r, &tmp.join("parts"), None)
}

#[test]
fn a_part_whose_metadata_has_an_impossible_shard_is_refused_before_merging() {
    // Hostile parts (a probe edited a real part's key-value metadata): shard 7 of 3 indexed
    // past the end, a count of 0 panicked, a count of 4294967295 allocated 64 GiB.
    let tmp = TempDir::new("bad-shards");
    let part = small_part(&tmp, "0/3");
    let (spec, mut df) = table::read_part(&part).unwrap();
    assert_eq!(spec.shard, Shard { index: 0, count: 3 });
    for (index, count, want) in [
        (
            7,
            3,
            "shard index 7 of 3: expected an index from 0 to 2".to_string(),
        ),
        (
            0,
            0,
            format!("shard count 0: expected 1 to {MAX_SHARDS} shards"),
        ),
        (
            0,
            u32::MAX,
            format!("shard count 4294967295: expected 1 to {MAX_SHARDS} shards"),
        ),
    ] {
        let bad = tmp.join(format!("part-{index}-of-{count}.parquet"));
        let mut s = spec.clone();
        s.shard = Shard { index, count };
        table::write_parquet(&bad, &mut df, Some(&s)).unwrap();
        let e = explore::merge_parts(&[bad.clone()])
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains(&bad.display().to_string()), "{e}");
        assert!(e.contains(&want), "{e}");
        // The command line says the same, with no panic.
        let (ok, _, err) = crate::common::archscope(&[
            "merge",
            bad.to_str().unwrap(),
            "--out",
            tmp.join("merged").to_str().unwrap(),
        ]);
        assert!(
            !ok && err.contains(&want) && !err.contains("panicked"),
            "{err}"
        );
    }
    // The `--shard` flag is held to the same limit.
    assert!(Shard::parse(&format!("0/{MAX_SHARDS}")).is_ok());
    assert!(Shard::parse(&format!("0/{}", MAX_SHARDS + 1)).is_err());
}

#[test]
fn a_part_changed_after_it_was_written_fails_its_checksum() {
    // A part carries the SHA-256 of its data (every byte before the Parquet footer) in its
    // metadata; merge recomputes it before decoding any page. A value edited in place, a part
    // without the checksum, a flipped byte in the data and a truncated file are all refused with
    // the file's name, and never panic.
    use polars::prelude::*;
    let tmp = TempDir::new("checksum");
    let part = small_part(&tmp, "0/2");
    let (spec, mut df) = table::read_part(&part).unwrap();
    let sum = table::file_checksum(&part).unwrap();
    assert_eq!(sum.len(), 64, "a hex SHA-256");
    // The same table written back with its spec reads back, with the same checksum.
    let same = tmp.join("same.parquet");
    table::write_parquet(&same, &mut df, Some(&spec)).unwrap();
    assert!(table::read_part(&same).is_ok());
    assert_eq!(table::file_checksum(&same).unwrap(), sum);
    // Writes a table with the given metadata, as a tool that edits a part in place would.
    let write = |path: &Path, df: &mut DataFrame, kv: Vec<(String, String)>| {
        let f = std::fs::File::create(path).unwrap();
        ParquetWriter::new(f)
            .with_key_value_metadata(Some(KeyValueMetadata::from_static(kv)))
            .finish(df)
            .unwrap();
    };
    let spec_kv = (
        table::SPEC_KEY.to_string(),
        serde_json::to_string(&spec).unwrap(),
    );
    let sum_kv = (table::CHECKSUM_KEY.to_string(), sum.clone());
    // One latency doubled: the checksum of the original no longer matches.
    let col = df.column("decode_latency_s").unwrap().f64().unwrap() * 2.0;
    let mut edited = df.clone();
    edited
        .replace("decode_latency_s", col.into_series().into())
        .unwrap();
    let bad = tmp.join("edited.parquet");
    write(&bad, &mut edited, vec![spec_kv.clone(), sum_kv.clone()]);
    let e = explore::merge_parts(&[bad.clone()])
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains(&bad.display().to_string()), "{e}");
    assert!(
        e.contains("does not match the checksum in its metadata") && e.contains(&sum),
        "{e}"
    );
    // No checksum at all.
    let none = tmp.join("no-sum.parquet");
    write(&none, &mut df, vec![spec_kv]);
    let e = explore::merge_parts(&[none]).err().unwrap().to_string();
    assert!(e.contains("no `archscope.explore.sha256` checksum"), "{e}");
    // One byte of the data flipped (just after the leading magic).
    let mut bytes = std::fs::read(&part).unwrap();
    bytes[4] ^= 0xff;
    let flipped = tmp.join("flipped.parquet");
    std::fs::write(&flipped, &bytes).unwrap();
    let e = explore::merge_parts(&[flipped]).err().unwrap().to_string();
    assert!(e.contains("does not match the checksum"), "{e}");
    // Truncated at several places: an error naming the file, no panic.
    let bytes = std::fs::read(&part).unwrap();
    for cut in [8, bytes.len() / 2, bytes.len() - 9, bytes.len() - 1] {
        let t = tmp.join(format!("cut-{cut}.parquet"));
        std::fs::write(&t, &bytes[..cut]).unwrap();
        let e = explore::merge_parts(&[t.clone()])
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains(&t.display().to_string()), "cut at {cut}: {e}");
    }
}

/// A text label of a row by name.
fn label<'a>(s: &Session, r: &'a Results, row: usize, name: &str) -> &'a str {
    let k = s
        .evaluator
        .labels()
        .iter()
        .position(|l| *l == name)
        .unwrap_or_else(|| panic!("no label {name}"));
    &r.outcomes[row].labels[k]
}

/// llama-1b decode and prefill on the CPU clusters of pixel8 under two runtimes.
fn runtime_request(runtimes: &[&str]) -> ExploreRequest {
    ExploreRequest {
        runtimes: runtimes.iter().map(|s| s.to_string()).collect(),
        quants: vec!["q4_0".into()],
        units: vec!["cpu-big".into(), "cpu-mid".into()],
        threads: vec!["2".into(), "all".into()],
        contexts: vec![1024],
        ..request()
    }
}

#[test]
fn runtime_axis_prices_each_point_under_its_runtime() {
    use archscope::runtime::Runtime;
    let (s, r) = run(&runtime_request(&["llama.cpp-cpu", "ideal"]));
    // 2 runtimes × (cpu-big, cpu-mid@2, cpu-mid)² units (cpu-big is one core): two rows per
    // point.
    assert_eq!(r.points.len(), 2 * 3 * 3);
    let hw = Hardware::load("pixel8").unwrap();
    let model = load_llm("llama-1b").unwrap();
    let q = QuantScheme::parse("q4_0").unwrap();
    for rt in ["llama.cpp-cpu", "ideal"] {
        for (pu, du, threads) in [
            ("cpu-big", "cpu-mid", None),
            ("cpu-mid@2", "cpu-mid@2", Some(2)),
        ] {
            let i = row(
                &s,
                &r,
                &[("runtime", rt), ("prefill_unit", pu), ("decode_unit", du)],
            );
            assert_eq!(
                s.space.text(&r.points[i], s.space.axis("runtime").unwrap()),
                rt
            );
            assert_eq!(label(&s, &r, i, "prefill_runtime"), rt);
            assert_eq!(label(&s, &r, i, "decode_runtime"), rt);
            // `score --runtime RT --unit U --threads T` on each phase gives the same figures.
            let req = |unit: &str, prefill: bool| ScoreRequest {
                batch: 1,
                prompt: 512,
                context: 1024,
                prefill,
                decode: !prefill,
                unit: Some(unit.split('@').next().unwrap().into()),
                mode: Mode::Calibrated,
                runtime: Runtime::load(rt).unwrap(),
                threads,
                ..ScoreRequest::default()
            };
            let pre = score_llm(&hw, &model, &q, &req(pu, true)).unwrap();
            let dec = score_llm(&hw, &model, &q, &req(du, false)).unwrap();
            let (p, d) = (&pre.phases[0], &dec.phases[0]);
            let m = |n: &str| metric(&s, &r, i, n).unwrap();
            assert!(close(m("ttft_s"), p.eval.total.latency_s), "{rt} {pu}");
            assert!(
                close(m("prefill_energy_j"), p.eval.total.energy_j()),
                "{rt} {pu}"
            );
            assert!(
                close(m("decode_latency_s"), d.eval.total.latency_s),
                "{rt} {du}"
            );
            assert!(close(m("energy_per_token_j"), d.j_per_token()), "{rt} {du}");
            // The band is score's: the same interval around the same time.
            let (lo, hi) = dec.band.as_ref().unwrap().time(d.eval.total.latency_s);
            assert!(close(m("decode_latency_s_low"), lo) && close(m("decode_latency_s_high"), hi));
            let (lo, hi) = dec.band.as_ref().unwrap().rate(d.tokens_per_s());
            assert!(close(m("decode_tokens_per_s_low"), lo));
            assert!(close(m("decode_tokens_per_s_high"), hi));
            assert_eq!(
                label(&s, &r, i, "decode_band"),
                dec.band.as_ref().unwrap().label
            );
            if let Some(t) = threads {
                assert_eq!(m("decode_threads"), t as f64);
            }
        }
    }
    // The runtime changes the price: llama.cpp's dispatch makes decode slower than ideal.
    let at = |rt: &str| {
        metric(
            &s,
            &r,
            row(
                &s,
                &r,
                &[
                    ("runtime", rt),
                    ("prefill_unit", "cpu-big"),
                    ("decode_unit", "cpu-big"),
                ],
            ),
            "decode_latency_s",
        )
        .unwrap()
    };
    assert!(at("llama.cpp-cpu") > at("ideal"));

    // A network under LiteRT/XNNPACK on a CPU thread variant: score's figures too.
    use archscope::score::score_vision;
    use archscope::workload::VisionModel;
    let (s, r) = run(&ExploreRequest {
        runtimes: vec!["litert-xnnpack".into()],
        quants: vec!["fp32".into()],
        units: vec!["cpu-mid".into()],
        threads: vec!["2".into()],
        batches: vec![4],
        ..cnn_request()
    });
    assert_eq!(r.points.len(), 1);
    let sc = score_vision(
        &hw,
        &VisionModel::parse("mobilenetv2").unwrap(),
        &QuantScheme::parse("fp32").unwrap(),
        &ScoreRequest {
            batch: 4,
            prompt: 1,
            context: 1,
            prefill: true,
            decode: true,
            unit: Some("cpu-mid".into()),
            mode: Mode::Calibrated,
            runtime: Runtime::load("litert-xnnpack").unwrap(),
            threads: Some(2),
            ..ScoreRequest::default()
        },
    )
    .unwrap();
    assert!(close(
        metric(&s, &r, 0, "batch_latency_s").unwrap(),
        sc.latency_s()
    ));
    assert_eq!(label(&s, &r, 0, "unit_runtime"), "litert-xnnpack");
    // Score's band, whatever it is (no measured class of CPU networks: none, and no columns).
    let want = sc.band.as_ref().map_or("", |b| b.label.as_str());
    assert_eq!(label(&s, &r, 0, "band"), want);
    assert_eq!(
        metric(&s, &r, 0, "batch_latency_s_low").is_some(),
        sc.band.is_some()
    );
}

#[test]
fn device_defaults_price_each_unit_with_its_runtime() {
    let (s, r) = run(&ExploreRequest {
        quants: vec!["fp16".into()],
        contexts: vec![1024],
        threads: vec!["all".into()],
        ..request()
    });
    // One runtime value, `default`; each unit's runtime is the one pixel8 names for LLMs.
    assert_eq!(
        s.space.axes[s.space.axis("runtime").unwrap()].values.len(),
        1
    );
    for (unit, rt) in [
        ("cpu-big", "llama.cpp-cpu"),
        ("gpu", "mlc-llm"),
        ("tpu", "ideal"),
    ] {
        let i = row(&s, &r, &[("prefill_unit", unit), ("decode_unit", unit)]);
        assert_eq!(
            s.space.text(&r.points[i], s.space.axis("runtime").unwrap()),
            "default"
        );
        assert_eq!(label(&s, &r, i, "decode_runtime"), rt, "{unit}");
        assert!(
            r.outcomes[i].infeasible.is_none(),
            "{unit}: {:?}",
            r.outcomes[i].infeasible
        );
    }
    // The default quant list follows the runtimes in play: the runtimes' common formats join
    // the defaults (the TPU runs everything without a runtime, so those all stay).
    let spec = request_without_quants().resolve().unwrap();
    let quants = match &spec.workload {
        archscope::explore::WorkloadSpec::Llm { quants, .. } => quants.clone(),
        _ => unreachable!(),
    };
    for q in ["fp16", "w4a16-g128", "q8_0", "q4_0", "q4_k_m", "q4f16_1"] {
        assert!(quants.iter().any(|x| x == q), "{q} not in {quants:?}");
    }
    // Only the CPU clusters: llama.cpp's formats; schemes it does not run are left out.
    let spec = ExploreRequest {
        units: vec!["cpu-big".into()],
        ..request_without_quants()
    }
    .resolve()
    .unwrap();
    let quants = match &spec.workload {
        archscope::explore::WorkloadSpec::Llm { quants, .. } => quants.clone(),
        _ => unreachable!(),
    };
    assert_eq!(quants, ["fp32", "fp16", "q8_0", "q4_0", "q4_k_m"]);
}

fn request_without_quants() -> ExploreRequest {
    ExploreRequest {
        quants: Vec::new(),
        ..request()
    }
}

#[test]
fn runtimes_that_cannot_run_a_point_make_it_infeasible_with_the_reason() {
    let (s, r) = run(&ExploreRequest {
        runtimes: vec!["mlc-llm".into(), "llama.cpp-cpu".into()],
        quants: vec!["q4f16_1".into(), "w8a16".into()],
        units: vec!["gpu".into(), "cpu-big".into()],
        threads: vec!["all".into()],
        contexts: vec![1024],
        ..request()
    });
    // Every point is kept: 2 runtimes × 2 quants × 2 × 2 units.
    assert_eq!(r.points.len(), 16);
    let why = |rt: &str, q: &str, u: &str| {
        let i = row(
            &s,
            &r,
            &[
                ("runtime", rt),
                ("quant", q),
                ("prefill_unit", u),
                ("decode_unit", u),
            ],
        );
        r.outcomes[i].infeasible.clone()
    };
    assert_eq!(why("mlc-llm", "q4f16_1", "gpu"), None);
    let e = why("mlc-llm", "q4f16_1", "cpu-big").unwrap();
    assert!(
        e.contains("mlc-llm") && e.contains("does not run on cpu units"),
        "{e}"
    );
    let e = why("llama.cpp-cpu", "w8a16", "cpu-big").unwrap();
    assert!(e.contains("llama.cpp-cpu") && e.contains("w8a16"), "{e}");
    // The tables say so too.
    let a = analyze(&s, &r).unwrap();
    assert!(
        a.reasons
            .iter()
            .flatten()
            .any(|w| w.contains("does not run on cpu units"))
    );
    // A runtime that does not exist is a request error naming the flag and the known ones.
    let e = ExploreRequest {
        runtimes: vec!["llama.cpp-tpu".into()],
        ..request()
    }
    .resolve()
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("--runtime") && e.contains("llama.cpp-tpu") && e.contains("llama.cpp-cpu"),
        "{e}"
    );
}

#[test]
fn band_columns_bracket_the_measured_range() {
    let tmp = TempDir::new("bands");
    let dir = tmp.join("out");
    let req = ExploreRequest {
        runtimes: vec!["default".into(), "ideal".into()],
        quants: vec!["fp16".into(), "q4_0".into()],
        threads: vec!["all".into()],
        contexts: vec![1024],
        ..request()
    };
    explore_into(&req, &dir, None);
    let mut rd = csv::Reader::from_path(dir.join("points.csv")).unwrap();
    let header: Vec<String> = rd.headers().unwrap().iter().map(String::from).collect();
    let col = |n: &str| {
        header
            .iter()
            .position(|h| *h == n)
            .unwrap_or_else(|| panic!("{n}"))
    };
    let mut checked = 0;
    for rec in rd.records() {
        let f = rec.unwrap();
        for m in [
            "decode_latency_s",
            "decode_tokens_per_s",
            "ttft_s",
            "prefill_tokens_per_s",
        ] {
            let num = |c: usize| f[c].parse::<f64>().ok();
            let (v, lo, hi) = (
                num(col(m)),
                num(col(&format!("{m}_low"))),
                num(col(&format!("{m}_high"))),
            );
            let Some(v) = v else { continue };
            // Each phase's band: decode metrics by decode's, TTFT and prefill by prefill's.
            let phase = if m.starts_with("decode") {
                "decode"
            } else {
                "prefill"
            };
            let band = &f[col(&format!("{phase}_band"))];
            if band.is_empty() {
                assert!(lo.is_none() && hi.is_none(), "{m}: a band without a label");
                continue;
            }
            let (lo, hi) = (lo.unwrap(), hi.unwrap());
            assert!(lo <= hi, "{m}: {lo} > {hi}");
            // The CPU LLM class's errors straddle zero (p10 < 0 < p90): the band holds the
            // prediction. (Other classes may be biased: the band then lies to one side.)
            if band.contains("CPU LLMs") {
                assert!(lo <= v && v <= hi, "{m}: {v} outside [{lo}, {hi}]");
                checked += 1;
            }
        }
    }
    assert!(checked > 0);
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(
        html.contains("uncalibrated: typical"),
        "report does not say what the bars are"
    );
}

#[test]
fn fronts_can_be_split_by_runtime_and_parts_carry_runtime_files() {
    let mut req = runtime_request(&["llama.cpp-cpu", "ideal"]);
    req.front_by = vec!["runtime".into()];
    let (s, r) = run(&req);
    let a = analyze(&s, &r).unwrap();
    assert_eq!(a.scenarios.len(), 2);
    let ax = s.space.axis("runtime").unwrap();
    for sc in &a.scenarios {
        assert!(!sc.front.is_empty());
        let first = r.points[sc.front[0]].digits[ax];
        assert!(sc.front.iter().all(|&i| r.points[i].digits[ax] == first));
    }
    // A runtime given as a file: the spec carries its text, so parts merge after it is gone.
    let tmp = TempDir::new("rtfile");
    let file = tmp.join("my-llama.toml");
    std::fs::copy(
        crate::common::repo_root().join("runtimes/llama.cpp-cpu.toml"),
        &file,
    )
    .unwrap();
    let req = runtime_request(&[file.to_str().unwrap()]);
    let spec = req.resolve().unwrap();
    assert!(spec.runtimes[0].text.as_deref().unwrap().contains("llama"));
    let parts = explore_parts(&req, &tmp.join("parts"), 2, None);
    std::fs::remove_file(&file).unwrap();
    let merged = tmp.join("merged");
    explore::merge(&parts, &merged, false).unwrap();
    let text = std::fs::read_to_string(merged.join("points.csv")).unwrap();
    assert!(text.contains("llama.cpp-cpu"));
}

#[test]
fn explore_prices_with_the_pairs_calibration_and_its_band() {
    // With calibrations/galaxy-s24.qnn.toml in the working directory, explore prices the NPU
    // under qnn with the overlay's corrections, as score does there, and labels the band as
    // calibrated; the spec carries the overlay; --no-calibration prices as before.
    use crate::common::archscope_in;
    let dir = TempDir::new("explore-calibrated");
    crate::common::calibrate_in(dir.path(), "galaxy-s24", "qnn");
    let run = |out: &str, extra: &str| {
        let line = format!(
            "explore --hw galaxy-s24 --model mobilenetv2 --units npu --quant w8a8 --batch 1 \
             --runtime qnn --out {out} {extra}"
        );
        let (ok, _, err) = archscope_in(dir.path(), &words(&line));
        assert!(ok, "{err}");
        let text = std::fs::read_to_string(dir.join(out).join("points.csv")).unwrap();
        let mut rows = csv::Reader::from_reader(text.as_bytes());
        let header = rows.headers().unwrap().clone();
        let row = rows.records().next().unwrap().unwrap();
        let get = |k: &str| row[header.iter().position(|h| h == k).unwrap()].to_string();
        (get("batch_latency_s").parse::<f64>().unwrap(), get("band"))
    };
    let score = |extra: &str| {
        let line = format!(
            "score --hw galaxy-s24 --model mobilenetv2 --unit npu --quant w8a8 --runtime qnn \
             --format json {extra}"
        );
        let (ok, out, err) = archscope_in(dir.path(), &words(&line));
        assert!(ok, "{err}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        v["metrics"]["latency_s"].as_f64().unwrap()
    };
    let (t, band) = run("cal", "");
    assert!(band.starts_with("calibrated"), "{band}");
    let s = score("");
    assert!((t / s - 1.0).abs() < 1e-9, "explore {t} vs score {s}");
    let spec = std::fs::read_to_string(dir.join("cal").join("spec.json")).unwrap();
    assert!(
        spec.contains("galaxy-s24.qnn.toml"),
        "the spec carries the overlay"
    );
    let (t0, band0) = run("plain", "--no-calibration");
    assert!(band0.starts_with("uncalibrated"), "{band0}");
    let s0 = score("--no-calibration");
    assert!((t0 / s0 - 1.0).abs() < 1e-9, "explore {t0} vs score {s0}");
    assert!(t0 != t, "the overlay changes the prediction");
}
