//! Times a full default OFA evolution run (population 100, 500 generations: 50,100 scored
//! subnets plus the rejected draws) on the MBv3-w1.2 space with archscope's analytical latency
//! (pixel8, cpu-big, calibrated roofline) under a 20 ms budget, scored by OFA's accuracy
//! predictor. Target: under 2 s on 2 cores.
//!
//! The predictor is read from `../shared/ofa/acc_predictor.safetensors`; where that file is absent
//! an MLP of the same shape (128-400-400-400-1) with seeded random weights stands in, which costs
//! the same to evaluate. Each iteration starts with cold cost caches, as a fresh search does.

use archscope::hardware::Hardware;
use archscope::nas::efficiency::{ArchscopeEfficiency, Metric};
use archscope::nas::evolution::{
    Constraint, Evolution, EvolutionParams, Objective, SearchSpec, Searcher, drive,
};
use archscope::nas::predictor::{MbOneHot, Mlp, MlpPredictor, OFA_MBV3_PREDICTOR};
use archscope::nas::space::MbSpace;
use criterion::{Criterion, criterion_group, criterion_main};
use nalgebra::{DMatrix, DVector};
use std::path::Path;

fn predictor(space: &MbSpace) -> MlpPredictor<MbOneHot> {
    let f = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/ofa/acc_predictor.safetensors"
    ));
    if f.is_file() {
        return MlpPredictor::load(f, MbOneHot::new(space), OFA_MBV3_PREDICTOR).unwrap();
    }
    eprintln!(
        "notice: {} absent; timing a random MLP of the same shape",
        f.display()
    );
    let mut state = 1u64;
    let mut rnd = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 0.1
    };
    let dims = [128, 400, 400, 400, 1];
    let layers = dims
        .windows(2)
        .map(|w| {
            (
                DMatrix::from_fn(w[1], w[0], |_, _| rnd()),
                DVector::from_fn(w[1], |_, _| rnd()),
            )
        })
        .collect();
    MlpPredictor {
        mlp: Mlp { layers, base: 0.8 },
        encoder: MbOneHot::new(space),
        description: "random MLP".into(),
    }
}

fn bench(c: &mut Criterion) {
    let hw = Hardware::load("pixel8").unwrap();
    let space = MbSpace::mbv3(1.2);
    let p = predictor(&space);
    let mut g = c.benchmark_group("nas");
    g.sample_size(10);
    g.bench_function(
        "ofa evolution, default params (50,100 scored), pixel8 analytical latency <= 20 ms",
        |b| {
            b.iter(|| {
                let eff = ArchscopeEfficiency::on_default_unit(&space, &hw).unwrap();
                let spec = SearchSpec {
                    objective: Objective::Constrained,
                    constraints: vec![Constraint {
                        metric: Metric::Latency,
                        max: 20.0,
                    }],
                };
                let mut e = Evolution::new(&space, EvolutionParams::ofa(), spec, 0).unwrap();
                drive(&mut e, &eff, &p).unwrap();
                e.counts()
            })
        },
    );
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
