//! Criterion benchmark: the systolic-array model over every layer of ResNet-18
//! (tests/data/scalesim/topologies/resnet18.csv) on the 32×32 array of
//! tests/data/scalesim/configs/a32x32_*.cfg, for each dataflow and timing mode.
//! For scale: SCALE-Sim v3.0.0 needs minutes for the same network (see tests/data/scalesim).

use std::hint::black_box;
use std::path::Path;

use archscope::cycle::systolic::{SystolicConfig, Timing, read_conv_topology, simulate_network};
use criterion::{Criterion, criterion_group, criterion_main};

fn bench_resnet18(c: &mut Criterion) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/scalesim");
    let layers =
        read_conv_topology(dir.join("topologies/resnet18.csv")).expect("resnet18 topology parses");
    let mut group = c.benchmark_group("systolic_resnet18");
    for df in ["os", "ws", "is"] {
        let cfg = SystolicConfig::from_cfg_file(dir.join(format!("configs/a32x32_{df}.cfg")))
            .expect("config parses");
        for mode in [Timing::ScaleSim, Timing::Pipelined] {
            group.bench_function(format!("{df}_{mode}"), |b| {
                b.iter(|| simulate_network(black_box(&cfg), black_box(&layers), mode).unwrap())
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench_resnet18);
criterion_main!(benches);
