//! Design points per second of `explore` (target: at least 100k llama-1b decode evaluations per
//! second on 2 cores).
//!
//! * one decode evaluation on one thread: place the tensors the op classes touch on the unit,
//!   price each placement-aware op class once (what every distinct (device variant, unit, graph) costs);
//! * a what-if sweep whose every point needs its own decode evaluation: 64 DRAM bandwidths ×
//!   5 decode units × 32 contexts of llama-1b w4a16 on pixel8, evaluated in parallel with rayon
//!   (device variants rebuilt and validated each iteration; graphs built once and reused, as in
//!   a real run);
//! * the default `explore` space of llama-1b on pixel8 (875 points) without the report.

use archscope::cost::{CostModel, Mode, PlacementProfile, evaluate_total};
use archscope::explore::{ExploreRequest, Session};
use archscope::hardware::Hardware;
use archscope::roofline::Roofline;
use archscope::search::{Grid, Strategy};
use archscope::workload::{Phase, QuantScheme, load_llm};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;

fn bench(c: &mut Criterion) {
    let hw = Hardware::load("pixel8").unwrap();
    let m = load_llm("llama-1b").unwrap();
    let q = QuantScheme::parse("w4a16-g128").unwrap();
    let g = m.build(&q, Phase::Decode { context: 1024 }, 1);
    let prof = PlacementProfile::of(&g);
    let classes = prof.classes(&g);
    let touched = PlacementProfile::touched(&g, &classes);
    let gpu = hw.unit_index(Some("gpu")).unwrap();
    let mut group = c.benchmark_group("explore");
    group.throughput(Throughput::Elements(1));
    group.bench_function("llama-1b decode evaluation, 1 thread", |b| {
        b.iter(|| {
            let model = Roofline::new(black_box(&hw), gpu, Mode::Calibrated);
            let res = prof.place_only(&hw, gpu, &touched);
            evaluate_total(&model as &dyn CostModel, &g, &res, &classes).unwrap()
        })
    });

    let contexts: Vec<u64> = (1..=32).map(|i| i * 512).collect();
    let req = ExploreRequest {
        hw: "pixel8".into(),
        model: "llama-1b".into(),
        quants: vec!["w4a16-g128".into()],
        prefill_units: vec!["gpu".into()],
        decode_units: ["cpu-big", "cpu-mid", "cpu-little", "gpu", "tpu"]
            .map(String::from)
            .to_vec(),
        contexts,
        sweeps: vec!["memory[dram].bytes_per_s=20e9..200e9:64:log".into()],
        // The five units as they are (no `UNIT@T` thread variants), so the count is 64 x 5 x 32.
        threads: vec!["all".into()],
        // Without a runtime, as before runtimes were an axis (w4a16 is no llama.cpp format).
        runtimes: vec!["ideal".into()],
        ..Default::default()
    };
    let session = Session::new(req.resolve().unwrap()).unwrap();
    let points = Grid::new(&session.space).unwrap().ask(usize::MAX);
    assert_eq!(points.len(), 64 * 5 * 32);
    session.evaluator.evaluate(&points); // build the graphs once, as a run does
    group.throughput(Throughput::Elements(points.len() as u64));
    group.sample_size(20);
    group.bench_function("what-if sweep, 10240 llama-1b points (rayon)", |b| {
        b.iter(|| session.evaluator.evaluate(black_box(&points)))
    });

    // The same sweep of q4_0 on the three CPU clusters, without a runtime and under llama.cpp:
    // what pricing under a runtime costs per point.
    for rt in ["ideal", "llama.cpp-cpu"] {
        let req = ExploreRequest {
            quants: vec!["q4_0".into()],
            decode_units: ["cpu-big", "cpu-mid", "cpu-little"]
                .map(String::from)
                .to_vec(),
            prefill_units: vec!["cpu-big".into()],
            runtimes: vec![rt.into()],
            ..req.clone()
        };
        let session = Session::new(req.resolve().unwrap()).unwrap();
        let points = Grid::new(&session.space).unwrap().ask(usize::MAX);
        assert_eq!(points.len(), 64 * 3 * 32);
        let out = session.evaluator.evaluate(&points);
        assert!(out.iter().all(|o| o.infeasible.is_none()), "{rt}");
        group.throughput(Throughput::Elements(points.len() as u64));
        group.bench_function(
            format!("what-if sweep, 6144 llama-1b q4_0 CPU points, runtime {rt} (rayon)"),
            |b| b.iter(|| session.evaluator.evaluate(black_box(&points))),
        );
    }

    let default = ExploreRequest {
        hw: "pixel8".into(),
        model: "llama-1b".into(),
        ..Default::default()
    };
    let session = Session::new(default.resolve().unwrap()).unwrap();
    let n = session.planned().unwrap();
    session.run(false).unwrap();
    group.throughput(Throughput::Elements(n));
    group.bench_function("default explore space of llama-1b on pixel8 (rayon)", |b| {
        b.iter(|| session.run(false).unwrap())
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
