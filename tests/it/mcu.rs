//! Microcontrollers: weights read in place from a read-only flash level while activations live
//! in SRAM (checked by hand on a one-op graph), the peak-SRAM check from the scratchpad mapper's
//! best schedule (a two-branch graph whose listed order is worse), the issue width that scales a
//! runtime's compute fractions, a unit that reaches only read-only storage, and the MLPerf Tiny
//! v1.0 latencies of ST's X-CUBE-AI submissions on the two shipped STM32 boards.

use crate::common::archscope;
use crate::common::device::{DeviceToml, MemoryToml, UnitToml};
use archscope::cost::{Mode, evaluate, residency};
use archscope::hardware::Hardware;
use archscope::runtime::{Runtime, RuntimeView};
use archscope::score::{footprint, score_graph};
use archscope::workload::{DType, EltOp, Graph, OpKind, Role, Storage};

/// One int8 unit of 1e9 ops/s (efficiencies 1, no overhead) reaching a 200 kB SRAM at 1e9 B/s
/// and a 1 MB flash at 1e8 B/s; `read_only` marks the flash read-only.
fn mcu(read_only: bool) -> DeviceToml {
    let flash = MemoryToml::new("flash", "1e6", "1e8", "10");
    DeviceToml::new("m", "test microcontroller")
        .unit(
            UnitToml::new("u", "cpu")
                .memory(&["sram", "flash"])
                .peak("i8", "1e9")
                .pj_per_op("i8", "1"),
        )
        .memory(MemoryToml::new("sram", "2e5", "1e9", "1"))
        .memory(if read_only {
            flash.line("read_only = true")
        } else {
            flash
        })
}

/// `y[1, 100] = x[1, 1000] · W[100, 1000]ᵀ` in int8: 100 kB of weights, 1.1 kB of activations.
fn dense() -> Graph {
    let i8s = Storage::plain(DType::I8);
    let mut g = Graph::new("dense");
    let x = g.add_tensor("x", &[1, 1000], i8s, Role::Input);
    let w = g.add_tensor("w", &[100, 1000], i8s, Role::Weight);
    let y = g.add_tensor("y", &[1, 100], i8s, Role::Output);
    let mm = OpKind::MatMul {
        batch: 1,
        m: 1,
        n: 100,
        k: 1000,
    };
    g.add_op("fc", mm, &[x, w], &[y], DType::I8, None);
    g
}

fn level(hw: &Hardware, name: &str) -> usize {
    hw.memories.iter().position(|m| m.name == name).unwrap()
}

#[test]
fn read_only_flash_holds_the_weights_and_sram_the_rest() {
    let g = dense();
    let hw = mcu(true).hardware("m.toml");
    let homes = residency(&hw, 0, &g);
    let (sram, flash) = (level(&hw, "sram"), level(&hw, "flash"));
    assert_eq!(homes.home, vec![sram, flash, sram], "x, w, y");
    assert_eq!(hw.main_memory(0).name, "sram");
    // 1e5 weight bytes at 1e8 B/s take 1 ms; the 2e5 ops take 0.2 ms at 1e9 ops/s.
    let eval = score_graph(&hw, 0, Mode::Calibrated, &g).unwrap();
    assert!((eval.total.latency_s - 1e-3).abs() < 1e-12, "{:e}", eval.total.latency_s);
    let fp = footprint(&hw, 0, &[&g]);
    let store = fp.weight_store.as_ref().expect("weights are read in place");
    assert_eq!((store.level.as_str(), store.fits), ("flash", true));
    assert_eq!(fp.weights_bytes, 1e5);
    // In SRAM: x (1000 B) and y (100 B), each rounded up to the mapper's 64-byte granularity.
    assert_eq!(fp.activation_peak_bytes, 1024.0 + 128.0);
    assert_eq!(fp.total_bytes, fp.activation_peak_bytes);
    assert!(fp.fits);
    // Without `read_only` the 100 kB of weights fit the 200 kB SRAM, so they live there, and
    // the footprint counts them against it.
    let plain = mcu(false).hardware("m.toml");
    assert_eq!(residency(&plain, 0, &g).home[1], level(&plain, "sram"));
    let fp = footprint(&plain, 0, &[&g]);
    assert!(fp.weight_store.is_none());
    assert_eq!(fp.total_bytes, 1e5 + 1100.0);
    assert_eq!(plain.main_memory(0).name, "flash");
}

#[test]
fn weights_beyond_the_flash_do_not_fit() {
    // 1.2 MB of int8 weights against the 1 MB flash.
    let i8s = Storage::plain(DType::I8);
    let mut g = Graph::new("big");
    let x = g.add_tensor("x", &[1, 1000], i8s, Role::Input);
    let w = g.add_tensor("w", &[1200, 1000], i8s, Role::Weight);
    let y = g.add_tensor("y", &[1, 1200], i8s, Role::Output);
    let mm = OpKind::MatMul {
        batch: 1,
        m: 1,
        n: 1200,
        k: 1000,
    };
    g.add_op("fc", mm, &[x, w], &[y], DType::I8, None);
    let fp = footprint(&mcu(true).hardware("m.toml"), 0, &[&g]);
    assert!(!fp.weight_store.as_ref().unwrap().fits);
    assert!(!fp.fits);
    assert!(fp.line().contains("DOES NOT FIT"), "{}", fp.line());
}

#[test]
fn the_sram_peak_is_the_best_schedule_not_the_listed_order() {
    // p1 and p2 each turn x (64 B) into a 4096-byte map; c1 and c2 reduce each map to 64 B; j
    // adds the two. In the listed order p1, p2, c1, c2, j both maps are live at once:
    // x + T1 + T2 = 8256 B. Running c1 before p2 keeps one map live at a time: at c1 and p2,
    // x + (T1 or T2) + S1 = 4224 B, the minimum.
    let f32s = Storage::plain(DType::F32);
    let mut g = Graph::new("branches");
    let x = g.add_tensor("x", &[1, 16], f32s, Role::Input);
    let mm = |g: &mut Graph, name: &str, a, k: u64, n: u64, role| {
        let w = g.add_tensor(&format!("{name}.w"), &[n, k], f32s, Role::Weight);
        let y = g.add_tensor(&format!("{name}.y"), &[1, n], f32s, role);
        let kind = OpKind::MatMul {
            batch: 1,
            m: 1,
            n,
            k,
        };
        g.add_op(name, kind, &[a, w], &[y], DType::F32, None);
        y
    };
    let t1 = mm(&mut g, "p1", x, 16, 1024, Role::Activation);
    let t2 = mm(&mut g, "p2", x, 16, 1024, Role::Activation);
    let s1 = mm(&mut g, "c1", t1, 1024, 16, Role::Activation);
    let s2 = mm(&mut g, "c2", t2, 1024, 16, Role::Activation);
    let y = g.add_tensor("y", &[1, 16], f32s, Role::Output);
    let add = OpKind::Elementwise {
        op: EltOp::Add,
        elems: 16,
    };
    g.add_op("j", add, &[s1, s2], &[y], DType::F32, None);
    assert_eq!(g.peak_activation_bytes(), 8256.0);
    let fp = footprint(&mcu(true).hardware("m.toml"), 0, &[&g]);
    assert_eq!(fp.activation_peak_bytes, 4224.0);
}

/// A runtime for unit kind `cpu` whose GEMV runs at compute fraction `c`, with no dispatch.
fn runtime(c: f64) -> Runtime {
    let text = format!(
        "[runtime]\nname = \"t\"\ndescription = \"test\"\nversion = \"1\"\nunits = [\"cpu\"]\n\
         workloads = [\"network\"]\nclass = \"cpu\"\n\
         [dispatch]\nmode = \"per_op\"\nkernel_s = {{ value = 0, source = \"t\" }}\n\
         [[efficiency]]\nop = \"gemv\"\ncompute = {{ value = {c}, source = \"t\" }}\n"
    );
    Runtime::from_toml_str(&text, "t.toml").unwrap()
}

/// The dense graph's latency under `runtime(c)` on a 1-core 1 GHz cpu-model unit issuing
/// `issue` instructions a cycle: SMLAD gives 4 int8 ops per cycle, 4e9 ops/s; the weights sit
/// in a flash fast enough (1e12 B/s) that the product is compute-bound.
fn priced(issue: u32, c: f64) -> f64 {
    let hw = DeviceToml::new("m", "test microcontroller")
        .unit(
            UnitToml::new("u", "cpu")
                .count("1")
                .clock_hz("1e9")
                .memory(&["sram", "flash"])
                .peak("i8", "4e9")
                .pj_per_op("i8", "1")
                .params(&format!(
                    "model = \"cpu\"\nsimd_bits = 32\nfma_pipes = 1\ndot_factor = 2\nissue_width = {issue}"
                )),
        )
        .memory(MemoryToml::new("sram", "2e5", "1e12", "1"))
        .memory(MemoryToml::new("flash", "1e6", "1e12", "1").line("read_only = true"))
        .hardware("m.toml");
    let g = dense();
    let rt = runtime(c);
    let view = RuntimeView::new(&hw, 0, &rt, None).unwrap();
    let model = view.model(Mode::Calibrated, &g).unwrap();
    let homes = view.homes(&g, &model.plan);
    evaluate(&model, &g, &homes).unwrap().total.latency_s
}

#[test]
fn issue_width_scales_the_runtime_compute_fraction() {
    // 2e5 ops at 4e9 ops/s x 0.25 = 0.2 ms on a single-issue core; a dual-issue core runs the
    // same kernel at 0.5 of the peak: 0.1 ms. At a fraction of 0.75 the dual-issue core is
    // capped at the peak: 2e5 / 4e9 = 50 us.
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * b;
    assert!(close(priced(1, 0.25), 2e-4), "{:e}", priced(1, 0.25));
    assert!(close(priced(2, 0.25), 1e-4), "{:e}", priced(2, 0.25));
    assert!(close(priced(2, 0.75), 5e-5), "{:e}", priced(2, 0.75));
}

#[test]
fn a_unit_that_reaches_only_read_only_storage_is_an_error() {
    let text = mcu(true)
        .text()
        .replace("memory = [\"sram\", \"flash\"]", "memory = [\"flash\"]");
    let e = Hardware::from_toml_str(&text, "m.toml").unwrap_err().to_string();
    assert!(e.contains("m.toml") && e.contains("read_only"), "{e}");
    assert!(e.contains("add a writable level"), "{e}");
}

/// MLPerf Tiny v1.0, closed division, STMicroelectronics with X-CUBE-AI 7.3.0: median
/// throughput of each performance run (`tiny_results_v1.0`,
/// `closed/STMicroelectronics/results/<board>/<task>/performance/results.txt`), as latency.
const MLPERF_TINY_V1_0: [(&str, &str, f64); 8] = [
    ("stm32h7a3", "mobilenetv1?width=0.25&res=96&classes=2", 1000.0 / 19.722),
    ("stm32h7a3", "resnet8", 1000.0 / 18.401),
    ("stm32h7a3", "ds-cnn", 1000.0 / 59.667),
    ("stm32h7a3", "fc-autoencoder", 1000.0 / 547.705),
    ("stm32l4r5", "mobilenetv1?width=0.25&res=96&classes=2", 1000.0 / 4.339),
    ("stm32l4r5", "resnet8", 1000.0 / 4.407),
    ("stm32l4r5", "ds-cnn", 1000.0 / 13.323),
    ("stm32l4r5", "fc-autoencoder", 1000.0 / 131.950),
];

#[test]
fn mlperf_tiny_latencies_within_30_percent() {
    for (hw, model, ms) in MLPERF_TINY_V1_0 {
        let (ok, out, err) = archscope(&[
            "score", "--hw", hw, "--model", model, "--quant", "int8", "--format", "json",
        ]);
        assert!(ok, "{hw} {model}: {err}");
        let j: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(j["runtime"], "x-cube-ai", "{hw} {model}");
        let got = j["phases"][0]["latency_s"].as_f64().unwrap() * 1e3;
        let e = got / ms - 1.0;
        assert!(
            e.abs() <= 0.30,
            "{hw} {model}: {got:.2} ms against {ms:.2} ms measured ({:+.0} %)",
            e * 100.0
        );
        // Every network fits: weights in the 2 MB flash, activations in the SRAM.
        assert_eq!(j["memory"]["fits"], true, "{hw} {model}");
        assert_eq!(j["memory"]["weight_store"]["level"], "flash", "{hw} {model}");
    }
}

#[test]
fn tiny_networks_have_their_published_sizes() {
    // ResNet-8: 78k parameters and 12.5 M MACs (MLPerf Tiny, Banbury et al. 2021, Table 2).
    let (ok, out, err) = archscope(&["models", "show", "resnet8"]);
    assert!(ok, "{err}");
    let j: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(j["params"], 77706);
    assert_eq!(j["macs_per_sample"], 12501632.0);
    // DS-CNN by hand: 10x4 conv to 64 channels over 25x5 outputs (320,000 MACs), four blocks
    // of a 3x3 depthwise (72,000) and a 1x1 64->64 (512,000) over 25x5, a 64->12 dense (768):
    // 2,656,768 MACs.
    let (ok, out, err) = archscope(&["models", "show", "ds-cnn"]);
    assert!(ok, "{err}");
    let j: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(j["macs_per_sample"], 2656768.0);
    // The autoencoder: 640x128 + 3 x 128x128 + 128x8 + 8x128 + 3 x 128x128 + 128x640 MACs.
    let (ok, out, err) = archscope(&["models", "show", "fc-autoencoder"]);
    assert!(ok, "{err}");
    let j: serde_json::Value = serde_json::from_str(&out).unwrap();
    let macs = 640 * 128 + 3 * 128 * 128 + 128 * 8 + 8 * 128 + 3 * 128 * 128 + 128 * 640;
    assert_eq!(j["macs_per_sample"], macs as f64);
}
