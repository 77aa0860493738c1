//! Times one phase evaluation of `score` for llama-1b (target: under 50 µs), the class-
//! collapsed total that sweeps use, and a phase priced through `score_graph_under` with no
//! runtime and under llama.cpp (the runtime's view, fusion plan and residency: the target is
//! within 1.5× of the same call with no runtime).

use archscope::cost::{CostModel, Mode, evaluate, evaluate_total};
use archscope::hardware::Hardware;
use archscope::roofline::Roofline;
use archscope::runtime::Runtime;
use archscope::score::{ScoreRequest, score_graph_under};
use archscope::workload::{Phase, QuantScheme, load_llm};
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

fn bench(c: &mut Criterion) {
    let hw = Hardware::load("pixel8").unwrap();
    let m = load_llm("llama-1b").unwrap();
    let q = QuantScheme::parse("fp16").unwrap();
    let unit = hw.unit_index(None).unwrap();
    for (label, phase) in [
        ("decode L1024", Phase::Decode { context: 1024 }),
        ("prefill P512", Phase::Prefill { prompt: 512 }),
    ] {
        let g = m.build(&q, phase, 1);
        let model = Roofline::new(&hw, unit, Mode::Calibrated);
        c.bench_function(
            &format!("score llama-1b {label}: residency + every op"),
            |b| {
                b.iter(|| {
                    let res = model.residency(black_box(&g));
                    evaluate(&model as &dyn CostModel, &g, &res).unwrap().total
                })
            },
        );
        let res = model.residency(&g);
        let classes = archscope::cost::PlacementProfile::of(&g).classes(&g);
        c.bench_function(
            &format!("score llama-1b {label}: total over op classes"),
            |b| {
                b.iter(|| {
                    evaluate_total(&model as &dyn CostModel, black_box(&g), &res, &classes).unwrap()
                })
            },
        );
    }
    for (label, phase) in [
        ("decode L1024", Phase::Decode { context: 1024 }),
        ("prefill P512", Phase::Prefill { prompt: 512 }),
    ] {
        let g = m.build(&q, phase, 1);
        for rt in ["ideal", "llama.cpp-cpu"] {
            let req = ScoreRequest {
                runtime: Runtime::load(rt).unwrap(),
                ..ScoreRequest::default()
            };
            c.bench_function(
                &format!("score_graph_under llama-1b {label} on cpu-big: runtime {rt}"),
                |b| b.iter(|| score_graph_under(&hw, unit, &req, black_box(g.clone())).unwrap()),
            );
        }
    }
    c.bench_function("build llama-1b decode graph", |b| {
        b.iter(|| {
            m.build(
                &q,
                Phase::Decode {
                    context: black_box(1024),
                },
                1,
            )
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
