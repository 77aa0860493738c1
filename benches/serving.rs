//! Times the serving simulation: 10⁵ Poisson requests of llama-3-8b on an H100 SXM (prompt
//! 64..1024, output 16..256 uniform, 20 requests/s, max batch 64, 512-token steps), with the
//! step-cost cache warm. Target: under 10 s per run, i.e. above 10⁴ simulated requests/s.

use archscope::hardware::Hardware;
use archscope::runtime::Runtime;
use archscope::score::ScoreRequest;
use archscope::serving::{Lengths, ServeConfig, Server, poisson};
use archscope::workload::{QuantScheme, load_llm};
use criterion::{Criterion, criterion_group, criterion_main};

const REQUESTS: u64 = 100_000;

fn bench(c: &mut Criterion) {
    let hw = Hardware::load("h100-sxm").unwrap();
    let m = load_llm("llama-3-8b").unwrap();
    let q = QuantScheme::parse("fp16").unwrap();
    let req = ScoreRequest {
        runtime: Runtime::ideal(),
        ..ScoreRequest::default()
    };
    let config = ServeConfig {
        max_batch: 64,
        chunk: 512,
    };
    let mut server = Server::new(&hw, &m, &q, &req, config).unwrap();
    let reqs = poisson(
        20.0,
        REQUESTS,
        Lengths::Uniform(64, 1024),
        Lengths::Uniform(16, 256),
        0,
    )
    .unwrap();
    let mut g = c.benchmark_group("serving");
    g.sample_size(10);
    g.throughput(criterion::Throughput::Elements(REQUESTS));
    g.bench_function("llama-3-8b h100-sxm 1e5 Poisson requests", |b| {
        b.iter(|| server.run(&reqs).unwrap().0.requests)
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
