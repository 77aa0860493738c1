//! Times placement on the Galaxy S24's five units: building the instance (every op priced on
//! every unit), HEFT, and the full ILP solve by segments (target: a decode graph of a 1B model
//! in under 2 s, i.e. well inside the default 60 s limit).

use archscope::hardware::Hardware;
use archscope::placement::{Instance, Limits, Objective, heft, place_instance};
use archscope::workload::{Phase, QuantScheme, load_llm};
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

fn bench(c: &mut Criterion) {
    let hw = Hardware::load("galaxy-s24").unwrap();
    let m = load_llm("llama-1b").unwrap();
    let q = QuantScheme::parse("fp16").unwrap();
    let g = m.build(&q, Phase::Decode { context: 1024 }, 1);
    let limits = Limits::default();
    let mut grp = c.benchmark_group("placement llama-1b decode on galaxy-s24");
    grp.sample_size(10);
    grp.bench_function("instance: price every op on every unit", |b| {
        b.iter(|| Instance::from_graph(&hw, black_box(&g), &limits.build).unwrap())
    });
    let inst = Instance::from_graph(&hw, &g, &limits.build).unwrap();
    grp.bench_function("heft", |b| b.iter(|| heft(black_box(&inst)).unwrap()));
    grp.bench_function("ilp by segments, makespan", |b| {
        b.iter(|| place_instance(black_box(&inst), Objective::Makespan, &limits).unwrap())
    });
    grp.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
