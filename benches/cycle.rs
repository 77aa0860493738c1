//! Times the cycle models on one llama-1b phase, for sweeps that call them many times: decode
//! on the NeuPIMs-style device (PIM with an NPU host: both models price every op) and prefill on
//! its tiled NPU (the tile search dominates). Target: each under 1 ms over the op classes.

use archscope::cost::{Mode, evaluate_total, residency};
use archscope::cost_models::model_for;
use archscope::hardware::Hardware;
use archscope::workload::{Phase, QuantScheme, load_llm};
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

fn bench(c: &mut Criterion) {
    let hw = Hardware::load("neupims").unwrap();
    let m = load_llm("llama-1b").unwrap();
    let q = QuantScheme::parse("fp16").unwrap();
    for (unit, label, phase, batch) in [
        (
            "pim",
            "decode L1024 b64",
            Phase::Decode { context: 1024 },
            64,
        ),
        ("npu", "prefill P512", Phase::Prefill { prompt: 512 }, 1),
    ] {
        let u = hw.unit_index(Some(unit)).unwrap();
        let model = model_for(&hw, u, Mode::Calibrated).unwrap();
        let g = m.build(&q, phase, batch);
        let res = residency(&hw, u, &g);
        let classes = archscope::cost::PlacementProfile::of(&g).classes(&g);
        c.bench_function(
            &format!("neupims/{unit} llama-1b {label}: total over op classes"),
            |b| b.iter(|| evaluate_total(model.as_ref(), black_box(&g), &res, &classes).unwrap()),
        );
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
