//! The systolic fold model behind the cost-model interface, and `archscope systolic`.

use crate::common::{archscope_paths, data_path};
use archscope::cost::{Bound, Mode, evaluate, residency};
use archscope::cost_models::model_for;
use archscope::hardware::Hardware;
use archscope::workload::{DType, Graph, OpKind, Role, Storage};

fn one_gemm(m: u64, n: u64, k: u64) -> Graph {
    let mut g = Graph::new("gemm");
    let s = Storage::plain(DType::I8);
    let a = g.add_tensor("a", &[m, k], s, Role::Input);
    let w = g.add_tensor("w", &[n, k], s, Role::Weight);
    let c = g.add_tensor("c", &[m, n], s, Role::Output);
    g.add_op(
        "gemm",
        OpKind::MatMul { batch: 1, m, n, k },
        &[a, w],
        &[c],
        DType::I8,
        None,
    );
    g
}

#[test]
fn systolic_unit_is_priced_in_cycles() {
    // systolic-32x32: OS, SCALE-Sim timing, 1 GHz. GEMM 512x512x512: Sr = M = 512,
    // Sc = N = 512, T = K = 512 → F = 16 x 16 = 256 folds of (512 + 32 + 32 - 2) = 574 cycles;
    // SCALE-Sim reports 256 x 574 - 1 = 146,943. At 1 GHz: 146.943 µs, plus the unit's 1 µs
    // per-kernel overhead. DRAM: 3 x 256 KiB at 0.8 x 25.6 GB/s = 38.4 µs, so compute-bound.
    let hw = Hardware::load("systolic-32x32").unwrap();
    let g = one_gemm(512, 512, 512);
    let model = model_for(&hw, 0, Mode::Calibrated).unwrap();
    let res = residency(&hw, 0, &g);
    let e = evaluate(model.as_ref(), &g, &res).unwrap();
    let l = e.per_op[0];
    assert_eq!(l.bound(), Bound::Compute);
    assert!(
        (l.latency_s - (146_943e-9 + 1e-6)).abs() < 1e-12,
        "{}",
        l.latency_s
    );
    // The ideal roofline prices the same GEMM at bare peak: 2 x 512^3 / 2.048e12 = 131.072 µs.
    let ideal = model_for(&hw, 0, Mode::Ideal).unwrap();
    let e = evaluate(ideal.as_ref(), &g, &res).unwrap();
    assert!((e.total.latency_s - 131.072e-6).abs() < 1e-12);
}

#[test]
fn small_gemms_are_memory_bound_on_systolic_units() {
    // A GEMV (M = 1, N = K = 1024) on the same array: Fr = 1, Fc = 32 folds of
    // (1024 + 32 + 32 - 2) cycles = 34,751 cycles (34.8 µs), but its 1 MiB of int8 weights over
    // 0.8 x 25.6 GB/s of DRAM takes 51.2 µs: memory-bound.
    let hw = Hardware::load("systolic-32x32").unwrap();
    let g = one_gemm(1, 1024, 1024);
    let model = model_for(&hw, 0, Mode::Calibrated).unwrap();
    let res = residency(&hw, 0, &g);
    let e = evaluate(model.as_ref(), &g, &res).unwrap();
    let dram = hw.memories.iter().position(|m| m.name == "dram").unwrap();
    assert_eq!(e.per_op[0].bound(), Bound::Memory(dram));
}

#[test]
fn tpu_v4_and_eyeriss_use_the_cycle_model() {
    for d in ["tpu-v4", "eyeriss", "coral-edgetpu", "systolic-32x32"] {
        let hw = Hardware::load(d).unwrap();
        let u = hw.unit_index(None).unwrap();
        assert_eq!(
            hw.units[u].params.get("model").and_then(|v| v.as_str()),
            Some("systolic"),
            "{d}"
        );
        assert!(model_for(&hw, u, Mode::Calibrated).is_ok(), "{d}");
    }
}

#[test]
fn systolic_command_emits_scalesim_json() {
    let config = data_path("scalesim/configs/a32x32_os.cfg");
    let topology = data_path("scalesim/topologies/resnet18.csv");
    let (ok, out, err) = archscope_paths(
        "systolic --format json",
        &[("--config", &config), ("--topology", &topology)],
    );
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let layers = v["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 21);
    // SCALE-Sim v3.0.0 on its a32x32 OS config: conv1 takes 163,855 cycles at 70.335% util
    // (tests/data/scalesim/resnet18_expected.csv).
    assert_eq!(layers[0]["name"], "conv1");
    assert_eq!(layers[0]["compute_cycles"], 163_855);
    for k in ["total_cycles", "utilization_pct", "mapping_efficiency_pct"] {
        assert!(layers[0].get(k).is_some(), "{k}");
    }
    assert!((layers[0]["utilization_pct"].as_f64().unwrap() - 70.3353574806994).abs() < 1e-9);
}
