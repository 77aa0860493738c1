//! Times the COSMA-style ILP mapper on MobileNetV2 (224×224, w8a8, batch 1):
//! activation only at `M_R` (the paper's main setting and tightest budget),
//! weights in the scratchpad at `M_Rp`, and the full address model without
//! the size-only first pass at `M_R`. Each solve is also verified, as the
//! CLI does.

use archscope::experiments::cosma_cnn::build_builtin;
use archscope::mapping::{
    AdaptOptions, IlpOptions, MemProblem, min_working_set, plan_ilp, problem_from_graph_unchecked,
    verify,
};
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

fn at_m_r(include_weights: bool) -> MemProblem {
    let g = build_builtin("mobilenetv2").unwrap();
    let opts = AdaptOptions {
        include_weights,
        ..AdaptOptions::default()
    };
    let mut p = problem_from_graph_unchecked(&g, &opts).unwrap().problem;
    p.capacity_bytes = min_working_set(&p).unwrap().bytes;
    p
}

fn bench(c: &mut Criterion) {
    let act = at_m_r(false);
    let weights = at_m_r(true);
    let opts = IlpOptions::default();
    let full = IlpOptions {
        size_first: false,
        ..IlpOptions::default()
    };
    let mut grp = c.benchmark_group("mapping mobilenetv2 224 w8a8");
    grp.sample_size(10);
    grp.bench_function("ilp at M_R, activation only", |b| {
        b.iter(|| {
            let plan = plan_ilp(black_box(&act), &opts).unwrap();
            verify(&act, &plan).unwrap();
        })
    });
    grp.bench_function("ilp at M_Rp, weights included", |b| {
        b.iter(|| {
            let plan = plan_ilp(black_box(&weights), &opts).unwrap();
            verify(&weights, &plan).unwrap();
        })
    });
    grp.bench_function("ilp at M_R, full address model", |b| {
        b.iter(|| {
            let plan = plan_ilp(black_box(&act), &full).unwrap();
            verify(&act, &plan).unwrap();
        })
    });
    grp.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
