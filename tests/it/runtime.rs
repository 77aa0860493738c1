//! Runtimes (`runtimes/*.toml`, `--runtime`): dispatch and fusion accounting checked by hand on a
//! two-op graph, efficiency overrides, quantization conventions, the exact GGUF file sizes of
//! llama.cpp's mixes against published figures, infeasible runtime/unit/format combinations,
//! and the errors of bad runtime files.

use crate::common::device::{DeviceToml, MemoryToml, UnitToml};
use archscope::cost::{Mode, evaluate};
use archscope::hardware::Hardware;
use archscope::runtime::{FusionPlan, Pattern, Runtime, RuntimeError, RuntimeView, known_runtimes};
use archscope::score::{ScoreError, ScoreRequest, score_graph, score_llm};
use archscope::workload::{DType, EltOp, Graph, OpKind, QuantScheme, Role, Storage, load_llm};

/// One f32 unit of 1e12 FLOP/s, efficiencies 1 and no overhead of its own, reaching `sram`
/// (1 MB at 1e12 B/s) and `dram` (1e12 B at 1e11 B/s).
fn device() -> Hardware {
    DeviceToml::new("t", "test device")
        .unit(
            UnitToml::new("u", "gpu")
                .memory(&["sram", "dram"])
                .peak("f32", "1e12")
                .pj_per_op("f32", "1"),
        )
        .memory(MemoryToml::new("sram", "1e6", "1e12", "1"))
        .memory(MemoryToml::new("dram", "1e12", "1e11", "1"))
        .hardware("t.toml")
}

/// x[1000,1000] (input) · w[1000,1000] (weight) → y (activation) → relu → z (output), all f32:
/// 4 MB each.
fn matmul_relu() -> Graph {
    let f32s = Storage::plain(DType::F32);
    let mut g = Graph::new("matmul-relu");
    let x = g.add_tensor("x", &[1000, 1000], f32s, Role::Input);
    let w = g.add_tensor("w.weight", &[1000, 1000], f32s, Role::Weight);
    let y = g.add_tensor("y", &[1000, 1000], f32s, Role::Activation);
    let z = g.add_tensor("z", &[1000, 1000], f32s, Role::Output);
    let mm = OpKind::MatMul {
        batch: 1,
        m: 1000,
        n: 1000,
        k: 1000,
    };
    g.add_op("mm", mm, &[x, w], &[y], DType::F32, None);
    let relu = OpKind::Elementwise {
        op: EltOp::Relu,
        elems: 1_000_000,
    };
    g.add_op("relu", relu, &[y], &[z], DType::F32, None);
    g
}

fn runtime(body: &str) -> Runtime {
    let text = format!(
        "[runtime]\nname = \"t\"\ndescription = \"test\"\nversion = \"1\"\nunits = [\"gpu\"]\n\
         workloads = [\"llm\", \"network\"]\nclass = \"gpu\"\n{body}"
    );
    Runtime::from_toml_str(&text, "t.toml").unwrap()
}

fn priced(rt: &Runtime, g: &Graph) -> f64 {
    let hw = device();
    let view = RuntimeView::new(&hw, 0, rt, None).unwrap();
    let model = view.model(Mode::Calibrated, g).unwrap();
    let homes = view.homes(g, &model.plan);
    evaluate(&model, g, &homes).unwrap().total.latency_s
}

fn assert_close(got: f64, want: f64) {
    assert!(
        (got - want).abs() <= 1e-9 * want,
        "got {got:e}, want {want:e}"
    );
}

#[test]
fn ideal_runtime_is_the_unit_alone() {
    // matmul: 2e9 FLOP at 1e12 = 2 ms (its 12 MB of DRAM traffic take 120 µs);
    // relu: y (4 MB, too big for the 1 MB SRAM) and z through DRAM at 1e11 = 80 µs.
    let g = matmul_relu();
    let hw = device();
    let base = score_graph(&hw, 0, Mode::Calibrated, &g)
        .unwrap()
        .total
        .latency_s;
    assert_close(base, 2e-3 + 80e-6);
    assert_close(priced(&Runtime::ideal(), &g), base);
}

#[test]
fn per_op_dispatch_without_fusion() {
    // Each of the two kernels pays 10 µs: 2000 + 10 + 80 + 10 µs.
    let rt =
        runtime("[dispatch]\nmode = \"per_op\"\nkernel_s = { value = 1e-5, source = \"t\" }\n");
    assert_close(priced(&rt, &matmul_relu()), 2100e-6);
}

#[test]
fn fused_epilogue_pays_no_dispatch_and_keeps_its_input_on_chip() {
    // matmul_act: relu runs in the matmul's kernel (no 10 µs), and y never leaves the SRAM:
    // relu moves y (4 MB) through SRAM only and z (4 MB) through DRAM: max(8 µs, 40 µs) = 40 µs.
    // The matmul's DRAM traffic drops to x and w (80 µs), still under its 2 ms of compute.
    let rt = runtime(
        "[dispatch]\nmode = \"per_op\"\nkernel_s = { value = 1e-5, source = \"t\" }\n\
         [fusion]\npatterns = [\"matmul_act\"]\n",
    );
    let g = matmul_relu();
    let plan = FusionPlan::of(&g, &[Pattern::MatmulAct]);
    assert_eq!(plan.starts_kernel, vec![true, false]);
    assert_eq!(plan.kernels(), 1);
    assert_eq!(plan.fused_intermediates.len(), 1);
    assert_close(priced(&rt, &g), 2000e-6 + 10e-6 + 40e-6);
    // conv_act does not fuse a matmul's epilogue.
    assert_eq!(FusionPlan::of(&g, &[Pattern::ConvAct]).kernels(), 2);
}

#[test]
fn compiled_graph_pays_once_per_run() {
    // graph dispatch: 100 µs per run + 1 µs per kernel; one kernel after fusion.
    let rt = runtime(concat!(
        "[dispatch]\nmode = \"graph\"\n",
        "kernel_s = { value = 1e-6, source = \"t\" }\n",
        "graph_s = { value = 1e-4, source = \"t\" }\n",
        "[fusion]\npatterns = [\"matmul_act\"]\n",
    ));
    assert_close(priced(&rt, &matmul_relu()), 2000e-6 + 1e-6 + 40e-6 + 100e-6);
}

#[test]
fn efficiency_entry_overrides_the_unit_for_its_class_only() {
    // gemm at half the compute peak: the matmul takes 4 ms; relu (elementwise) is unchanged.
    let rt = runtime(
        "[dispatch]\nmode = \"per_op\"\nkernel_s = { value = 0, source = \"t\" }\n\
         [[efficiency]]\nop = \"gemm\"\ncompute = { value = 0.5, source = \"t\" }\n\
         [[efficiency]]\nop = \"gemv\"\ncompute = { value = 0.1, source = \"t\" }\n",
    );
    assert_close(priced(&rt, &matmul_relu()), 4e-3 + 80e-6);
}

/// x[1,1000] (input) · w[1000,1000] (weight, 4 MB in DRAM) → y (output), f32: one GEMV.
fn gemv() -> Graph {
    let f32s = Storage::plain(DType::F32);
    let mut g = Graph::new("gemv");
    let x = g.add_tensor("x", &[1, 1000], f32s, Role::Input);
    let w = g.add_tensor("w.weight", &[1000, 1000], f32s, Role::Weight);
    let y = g.add_tensor("y", &[1, 1000], f32s, Role::Output);
    let mv = OpKind::MatMul {
        batch: 1,
        m: 1,
        n: 1000,
        k: 1000,
    };
    g.add_op("mv", mv, &[x, w], &[y], DType::F32, None);
    g
}

#[test]
fn bytes_per_core_cycle_caps_the_bandwidth() {
    // The test unit has 1 core at 1 GHz. 10 B per core cycle is 1e10 B/s: a tenth of the DRAM's
    // 1e11 B/s, so a DRAM-bound GEMV takes ten times as long. 1000 B per cycle (1e12 B/s) is
    // above the DRAM's peak and changes nothing.
    let plain = runtime(
        "[dispatch]\nmode = \"per_op\"\nkernel_s = { value = 0, source = \"t\" }\n\
         [[efficiency]]\nop = \"gemv\"\nbandwidth = { value = 1, source = \"t\" }\n",
    );
    let capped = |c: &str| {
        runtime(&format!(
            "[dispatch]\nmode = \"per_op\"\nkernel_s = {{ value = 0, source = \"t\" }}\n\
             [[efficiency]]\nop = \"gemv\"\nbytes_per_core_cycle = {{ value = {c}, source = \"t\" }}\n"
        ))
    };
    let g = gemv();
    let t0 = priced(&plain, &g);
    // 4 MB of weights at 1e11 B/s (the 2e6 FLOPs take 2 microseconds at 1e12).
    assert!(t0 >= 4e6 / 1e11, "DRAM-bound: {t0:e}");
    assert_close(priced(&capped("10"), &g), 10.0 * t0);
    assert_close(priced(&capped("1000"), &g), t0);
    // The matrix product of matmul_relu is a GEMM: a GEMV entry leaves it alone.
    assert_close(
        priced(&capped("10"), &matmul_relu()),
        priced(&plain, &matmul_relu()),
    );
}

#[test]
fn on_chip_activations_follow_the_runtime() {
    // A 1x100 activation fits the SRAM: the default residency keeps it there; a runtime that
    // writes every kernel's output to main memory sends it through DRAM.
    let f32s = Storage::plain(DType::F32);
    let mut g = Graph::new("small");
    let x = g.add_tensor("x", &[1, 100], f32s, Role::Input);
    let y = g.add_tensor("y", &[1, 100], f32s, Role::Activation);
    let z = g.add_tensor("z", &[1, 100], f32s, Role::Output);
    let relu = OpKind::Elementwise {
        op: EltOp::Relu,
        elems: 100,
    };
    g.add_op("a", relu, &[x], &[y], DType::F32, None);
    g.add_op("b", relu, &[y], &[z], DType::F32, None);
    let hw = device();
    let dram = hw.memories.iter().position(|m| m.name == "dram").unwrap();
    let sram = hw.memories.iter().position(|m| m.name == "sram").unwrap();
    let off = runtime("[dispatch]\nmode = \"per_op\"\nkernel_s = { value = 0, source = \"t\" }\n");
    let on = runtime(
        "[dispatch]\nmode = \"per_op\"\nkernel_s = { value = 0, source = \"t\" }\n\
         [fusion]\non_chip_activations = true\n",
    );
    let homes = |rt: &Runtime| {
        let view = RuntimeView::new(&hw, 0, rt, None).unwrap();
        view.homes(&g, &FusionPlan::none(&g)).home[y.0 as usize]
    };
    assert_eq!(homes(&off), dram);
    assert_eq!(homes(&on), sram);
}

#[test]
fn quantization_conventions() {
    let w4 = QuantScheme::parse("w4a16-g32").unwrap();
    let mlc = Runtime::load("mlc-llm").unwrap().scheme(&w4);
    assert_eq!(mlc.head, w4.weights, "MLC quantizes the LM head");
    assert_eq!(mlc.embed, w4.weights, "and the embedding");
    assert_eq!(mlc.linear_compute, DType::F16);
    let cpu = Runtime::load("llama.cpp-cpu").unwrap();
    let q4 = cpu.scheme(&QuantScheme::parse("q4_0").unwrap());
    assert_eq!(q4.linear_compute, DType::I8, "ggml's q8 dot products");
    // A llama.cpp file type keeps its own head (q6_k), whatever the runtime says.
    assert_eq!(q4.head, QuantScheme::parse("q4_0").unwrap().head);
    // Float weights are left alone.
    let f16 = cpu.scheme(&QuantScheme::parse("fp16").unwrap());
    assert_eq!(f16, QuantScheme::parse("fp16").unwrap());
}

/// Weight bytes of a shipped LLM under a llama.cpp file type, in GiB.
fn gguf_gib(model: &str, quant: &str) -> f64 {
    let hw = Hardware::load("m2-ultra").unwrap();
    let m = load_llm(model).unwrap();
    let req = ScoreRequest {
        prefill: false,
        context: 1,
        ..ScoreRequest::default()
    };
    let s = score_llm(&hw, &m, &QuantScheme::parse(quant).unwrap(), &req).unwrap();
    s.memory.weights_bytes / (1u64 << 30) as f64
}

#[test]
fn gguf_sizes_match_llama_bench() {
    // llama-bench prints the model size to 0.01 GiB (ggml-org/llama.cpp discussion #4167:
    // LLaMA-2 7B F16 12.55 GiB, Q4_0 3.56 GiB; llama-bench tables of llama 7B Q8_0 6.67 GiB and
    // Q4_K_M 3.80 GiB), and to 1 MiB for TinyLlama-1.1B Q4_K_M (636 MiB).
    // Our f16 norms stand for GGUF's f32 ones: 0.5 MB on a 7B, below the rounding.
    let within = |got: f64, want: f64, step: f64| {
        assert!((got - want).abs() <= step / 2.0, "got {got}, want {want}");
    };
    within(gguf_gib("llama-2-7b", "fp16"), 12.55, 0.01);
    within(gguf_gib("llama-2-7b", "q4_0"), 3.56, 0.01);
    within(gguf_gib("llama-2-7b", "q8_0"), 6.67, 0.01);
    within(gguf_gib("llama-2-7b", "q4_k_m"), 3.80, 0.01);
    within(gguf_gib("tinyllama-1.1b", "q4_k_m") * 1024.0, 636.0, 1.0);
    within(gguf_gib("llama-3b", "q4_k_m"), 1.87, 0.01);
}

#[test]
fn infeasible_combinations_are_values_with_reasons() {
    let hw = Hardware::load("galaxy-s24").unwrap();
    let m = load_llm("llama-1b").unwrap();
    let req = |rt: &str, unit: &str| ScoreRequest {
        runtime: Runtime::load(rt).unwrap(),
        unit: Some(unit.into()),
        ..ScoreRequest::default()
    };
    let fp16 = QuantScheme::parse("fp16").unwrap();
    match score_llm(&hw, &m, &fp16, &req("llama.cpp-cpu", "npu")) {
        Err(ScoreError::Infeasible(e)) => {
            assert!(e.reason.contains("does not run on npu units"), "{e}")
        }
        other => panic!("expected infeasible, got {other:?}"),
    }
    match score_llm(&hw, &m, &fp16, &req("edgetpu", "npu")) {
        Err(ScoreError::Infeasible(e)) => {
            assert!(e.reason.contains("llm"), "{e}")
        }
        other => panic!("expected infeasible, got {other:?}"),
    }
    let w4 = QuantScheme::parse("w4a16-g128").unwrap();
    match score_llm(&hw, &m, &w4, &req("llama.cpp-cpu", "cpu-big")) {
        Err(ScoreError::Infeasible(e)) => {
            assert!(e.reason.contains("w4a16-g128"), "{e}")
        }
        other => panic!("expected infeasible, got {other:?}"),
    }
}

#[test]
fn threads_scale_a_cpu_unit_and_are_checked() {
    let hw = Hardware::load("pixel8").unwrap();
    let m = load_llm("llama-1b").unwrap();
    let fp16 = QuantScheme::parse("fp16").unwrap();
    let req = |threads| ScoreRequest {
        unit: Some("cpu-mid".into()),
        prefill: true,
        decode: false,
        threads,
        ..ScoreRequest::default()
    };
    let all = score_llm(&hw, &m, &fp16, &req(None)).unwrap();
    let four = score_llm(&hw, &m, &fp16, &req(Some(4))).unwrap();
    let one = score_llm(&hw, &m, &fp16, &req(Some(1))).unwrap();
    // cpu-mid has 4 cores: 4 threads is the default; one thread is slower.
    assert_eq!(
        all.phases[0].eval.total.latency_s,
        four.phases[0].eval.total.latency_s
    );
    assert!(one.phases[0].eval.total.latency_s > 2.0 * all.phases[0].eval.total.latency_s);
    let err = score_llm(&hw, &m, &fp16, &req(Some(5))).unwrap_err();
    assert!(err.to_string().contains("has 4 cores"), "{err}");
    let gpu = ScoreRequest {
        unit: Some("gpu".into()),
        threads: Some(2),
        ..ScoreRequest::default()
    };
    let err = score_llm(&hw, &m, &fp16, &gpu).unwrap_err();
    assert!(err.to_string().contains("is not a CPU"), "{err}");
}

#[test]
fn threads_on_a_roofline_cpu_take_their_share() {
    // A 4-core CPU priced by the roofline, one thread: a quarter of the 1e12 FLOP/s peak and a
    // quarter of the 1e11 B/s DRAM bandwidth. matmul: 2e9 / 2.5e11 = 8 ms; relu: 8 MB through
    // DRAM at 2.5e10 B/s = 320 µs.
    let hw = DeviceToml::new("t", "test device")
        .unit(
            UnitToml::new("u", "cpu")
                .count("4")
                .memory(&["sram", "dram"])
                .peak("f32", "1e12")
                .pj_per_op("f32", "1"),
        )
        .memory(MemoryToml::new("sram", "1e6", "1e12", "1"))
        .memory(MemoryToml::new("dram", "1e12", "1e11", "1"))
        .hardware("t.toml");
    let g = matmul_relu();
    let ideal = Runtime::ideal();
    let price = |threads| {
        let view = RuntimeView::new(&hw, 0, &ideal, threads).unwrap();
        let model = view.model(Mode::Calibrated, &g).unwrap();
        let homes = view.homes(&g, &model.plan);
        evaluate(&model, &g, &homes).unwrap().total.latency_s
    };
    assert_close(price(Some(1)), 8e-3 + 320e-6);
    assert_close(price(Some(4)), 2e-3 + 80e-6);
    assert_close(price(None), 2e-3 + 80e-6);
}

#[test]
fn every_shipped_runtime_loads() {
    let names = known_runtimes();
    assert!(names.len() >= 15, "{names:?}");
    for n in names {
        let rt = Runtime::load(&n).unwrap_or_else(|e| panic!("{n}: {e}"));
        assert_eq!(rt.name, n, "file name and [runtime].name agree");
    }
}

#[test]
fn bad_runtime_files_get_clear_errors() {
    let base = "[runtime]\nname = \"t\"\ndescription = \"d\"\nversion = \"1\"\nunits = [\"gpu\"]\n\
                workloads = [\"llm\"]\nclass = \"gpu\"\n\
                [dispatch]\nmode = \"per_op\"\nkernel_s = { value = 1e-6, source = \"s\" }\n";
    let err = |extra: &str| {
        Runtime::from_toml_str(&format!("{base}{extra}"), "bad.toml")
            .unwrap_err()
            .to_string()
    };
    // A field the schema does not know: the file, the line and the field.
    let e = err("[fusion]\npaterns = [\"qkv\"]\n");
    assert!(
        e.starts_with("bad.toml:12:") && e.contains("paterns"),
        "{e}"
    );
    let e = err("[fusion]\npatterns = [\"qkvz\"]\n");
    assert!(e.contains("fusion.patterns") && e.contains("qkvz"), "{e}");
    let e = err("[[efficiency]]\nop = \"gemv\"\nbandwidth = { value = 1.5, source = \"s\" }\n");
    assert!(
        e.contains("efficiency[0].bandwidth") && e.contains("1.5"),
        "{e}"
    );
    let e = err("[[efficiency]]\nop = \"gemv\"\nbandwidth = { value = 0.5 }\n");
    assert!(e.contains("`source` or `estimate`"), "{e}");
    // An unknown runtime lists the known ones.
    match Runtime::load("llama.cpp-vulkan-nope") {
        Err(e @ RuntimeError::NotFound { .. }) => {
            assert!(e.to_string().contains("llama.cpp-cuda"), "{e}")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn every_shipped_device_default_runtime_runs_its_unit() {
    use archscope::hardware::known_devices;
    use archscope::runtime::{WorkloadKind, default_for};
    let mut named = 0;
    for d in known_devices() {
        let hw = Hardware::load(d).unwrap();
        for (i, u) in hw.units.iter().enumerate() {
            for kind in [WorkloadKind::Llm, WorkloadKind::Network] {
                let rt = default_for(&hw, i, kind)
                    .unwrap_or_else(|e| panic!("{d} {} {}: {e}", u.name, kind.name()));
                let want = match kind {
                    WorkloadKind::Llm => &u.runtimes.llm,
                    WorkloadKind::Network => &u.runtimes.network,
                };
                match want {
                    Some(n) => {
                        assert_eq!(&rt.name, n);
                        named += 1;
                    }
                    None => assert!(rt.is_ideal(), "{d} {}", u.name),
                }
            }
        }
    }
    // The phones, Apple devices, Jetsons, boards, Coral and the datacenter GPUs name theirs.
    assert!(named >= 50, "{named}");
}

#[test]
fn bad_default_runtimes_get_clear_errors() {
    use archscope::runtime::{WorkloadKind, default_for};
    let dev = |line: &str| {
        DeviceToml::new("t", "test device")
            .unit(
                UnitToml::new("u", "gpu")
                    .memory(&["dram"])
                    .peak("f32", "1e12")
                    .pj_per_op("f32", "1")
                    .lines(line),
            )
            .memory(MemoryToml::new("dram", "1e12", "1e11", "1"))
            .text()
    };
    // No provenance for the choice: the file, the line and the field.
    let e = Hardware::from_toml_str(&dev("runtimes = { llm = \"mlc-llm\" }"), "t.toml")
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("t.toml:") && e.contains("unit[u].runtimes"),
        "{e}"
    );
    assert!(e.contains("`source`"), "{e}");
    // A runtime that does not exist, or runs on CPUs only: an error when it is used, naming
    // the device file, the unit and why.
    let hw = Hardware::from_toml_str(
        &dev("runtimes = { llm = \"nope\", network = \"litert-xnnpack\", estimate = \"e\" }"),
        "t.toml",
    )
    .unwrap();
    let e = default_for(&hw, 0, WorkloadKind::Llm)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("t.toml") && e.contains("`u`") && e.contains("unknown runtime `nope`"),
        "{e}"
    );
    let e = default_for(&hw, 0, WorkloadKind::Network)
        .unwrap_err()
        .to_string();
    assert!(e.contains("does not run on gpu units"), "{e}");
}

#[test]
fn a_runtime_without_dispatch_keeps_the_units_own_overhead() {
    // The unit of `device()` with a measured 7 µs per kernel (as calibrate writes for the
    // host): a runtime with no [dispatch] (candle-cpu's case) keeps it, 2000 + 7 + 80 + 7 µs;
    // one with a 10 µs per-op dispatch replaces it.
    let hw = DeviceToml::new("t", "test device")
        .unit(
            UnitToml::new("u", "gpu")
                .memory(&["sram", "dram"])
                .peak("f32", "1e12")
                .pj_per_op("f32", "1")
                .kernel_overhead_s("7e-6"),
        )
        .memory(MemoryToml::new("sram", "1e6", "1e12", "1"))
        .memory(MemoryToml::new("dram", "1e12", "1e11", "1"))
        .hardware("t.toml");
    let g = matmul_relu();
    let price = |rt: &Runtime| {
        let view = RuntimeView::new(&hw, 0, rt, None).unwrap();
        let model = view.model(Mode::Calibrated, &g).unwrap();
        let homes = view.homes(&g, &model.plan);
        evaluate(&model, &g, &homes).unwrap().total.latency_s
    };
    let none = runtime("[attention]\nfull_scores = true\nsource = \"t\"\n");
    assert!(none.dispatch.is_none());
    assert_close(price(&none), 2094e-6);
    let per_op =
        runtime("[dispatch]\nmode = \"per_op\"\nkernel_s = { value = 1e-5, source = \"t\" }\n");
    assert_close(price(&per_op), 2100e-6);
    // candle-cpu, the measured backend's runtime, has no dispatch of its own.
    assert!(Runtime::load("candle-cpu").unwrap().dispatch.is_none());
}
