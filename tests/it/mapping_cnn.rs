//! The traffic mapper on real CNNs and through the CLI: every plan passes the
//! verifier, the ILP is never worse than either baseline and proves
//! optimality on these graphs, divide and conquer is never better than the
//! proven optimum, the memory chart has a rectangle per residency and a
//! marker per spill/reload, and `archscope map --scratchpad` reports an
//! infeasible scratchpad with the numbers and what would fit.
//!
//! Time limits keep the whole file within about a minute on 2 cores (the
//! full table is `examples/cosma_table.rs`).

use crate::common::{TempDir, archscope, archscope_paths, shared_path, words};
use archscope::experiments::cosma_cnn::{
    Budget, SuiteRow, build_builtin, build_ofa_subnet, evaluate,
};
use archscope::mapping::{
    AdaptOptions, MemProblem, OpSpec, PlanStatus, TensorKind, TensorSpec, chart, min_working_set,
    plan_default, problem_from_graph, problem_from_graph_unchecked, report, verify,
};

const LIMIT_S: f64 = 30.0;

fn check_rows(rows: &[SuiteRow]) {
    for r in rows {
        let tag = format!("{} weights={} {:?}", r.graph, r.include_weights, r.budget);
        for base in [r.default_bytes, r.arena_bytes].into_iter().flatten() {
            assert!(
                r.solver_bytes <= base,
                "{tag}: solver {} worse than a baseline {base}",
                r.solver_bytes
            );
        }
        assert_eq!(r.status, PlanStatus::Optimal, "{tag}: not proven optimal");
        if r.budget == Budget::P {
            // COSMA §V-B2: at M_P a free schedule needs no spill at all.
            assert_eq!(r.solver_bytes, 0, "{tag}: spills at M_P");
        }
    }
}

#[test]
fn ilp_beats_or_ties_baselines_on_real_cnns_and_proves_optimality() {
    let act = [Budget::R, Budget::P];
    for (label, spec) in [
        ("MobileNetV2", "mobilenetv2"),
        ("MobileNetV3-Large", "mobilenetv3-large"),
        ("SqueezeNet 1.1", "squeezenet1.1"),
        ("EfficientNet-B0", "efficientnet-b0"),
        ("Inception-v3", "inception-v3"),
    ] {
        let g = build_builtin(spec).unwrap();
        check_rows(&evaluate(label, &g, false, &act, LIMIT_S, false).unwrap());
    }
    // With weights in the scratchpad ResNet-50 needs spills at M_Rp and M_Hp:
    // the ILP removes part of them and all of them at M_Pp.
    let g = build_builtin("resnet50").unwrap();
    let rows = evaluate(
        "ResNet-50",
        &g,
        true,
        &[Budget::R, Budget::H, Budget::P],
        LIMIT_S,
        false,
    )
    .unwrap();
    check_rows(&rows);
    assert!(
        rows[0].solver_bytes > 0,
        "M_Rp of ResNet-50 should force spills"
    );
    assert!(rows[0].default_bytes.unwrap() > rows[0].solver_bytes);
    // Divide and conquer at the same budget: verified (inside evaluate) and
    // never below the proven optimum.
    let dc = evaluate("ResNet-50", &g, true, &[Budget::R], LIMIT_S, true).unwrap();
    assert_eq!(dc[0].method, "divide_and_conquer");
    assert!(dc[0].solver_bytes >= rows[0].solver_bytes);
}

#[test]
fn unet_with_weights_and_ofa_subnet() {
    let g = build_builtin("unet?res=252").unwrap();
    let rows = evaluate("U-Net", &g, true, &[Budget::H], LIMIT_S, false).unwrap();
    check_rows(&rows);
    assert!(rows[0].solver_bytes > 0);
    let Some(ofa) = shared_path("ofa") else {
        return;
    };
    let g = build_ofa_subnet(&ofa).unwrap();
    let rows = evaluate("OFA", &g, false, &[Budget::R, Budget::P], LIMIT_S, false).unwrap();
    check_rows(&rows);
}

#[test]
fn mobilenetv2_m_r_matches_hand_count() {
    // Block 2's depthwise 3×3/2 with fused ReLU6 at 224×224, int8: reads
    // 112·112·96 = 1,204,224 B and writes 56·56·96 = 301,056 B, both
    // multiples of 64, so M_R = 1,505,280 B.
    let g = build_builtin("mobilenetv2").unwrap();
    let a = problem_from_graph_unchecked(&g, &AdaptOptions::default()).unwrap();
    let ws = min_working_set(&a.problem).unwrap();
    assert_eq!(ws.bytes, 1_505_280);
    assert_eq!(ws.op_name, "features.2.conv.1+act");
    let e = problem_from_graph(&g, 512 * 1024, &AdaptOptions::default()).unwrap_err();
    assert!(e.to_string().contains("1505280"), "{e}");
}

/// A chain whose middle tensor must be spilled at the given capacity:
/// x → A → a; a → B → b; (a, b) → C → y, with `a` 4 units, `b` 6, capacity 10.
fn spilling_problem() -> MemProblem {
    let t = TensorSpec::new;
    MemProblem {
        tensors: vec![
            t("x", 2, TensorKind::Input),
            t("a", 4, TensorKind::Activation),
            t("c", 6, TensorKind::Activation),
            t("d", 6, TensorKind::Activation),
            t("y", 2, TensorKind::Output),
        ],
        ops: vec![
            OpSpec::new("A", vec![0], vec![1]),
            OpSpec::new("B", vec![1], vec![2]),
            OpSpec::new("C", vec![2], vec![3]),
            OpSpec::new("D", vec![1, 3], vec![4]),
        ],
        capacity_bytes: 12,
        granularity_bytes: 1,
    }
}

#[test]
fn svg_chart_has_a_rectangle_per_residency_and_spill_markers() {
    let p = spilling_problem();
    let plan = plan_default(&p).unwrap();
    verify(&p, &plan).unwrap();
    // `a` (4) is live across C, whose working set is c + d = 12 = capacity,
    // so it must be spilled once and reloaded once.
    let events = report::spills_and_reloads(&p, &plan);
    assert_eq!(
        events
            .iter()
            .map(|&(_, a, st)| (p.tensors[a].name.as_str(), st))
            .collect::<Vec<_>>(),
        [("a", true), ("a", false)]
    );
    let svg = chart::to_svg(&p, &plan, "test").unwrap();
    let hex = |c: plotters::style::RGBColor| format!("#{:02X}{:02X}{:02X}", c.0, c.1, c.2);
    let count = |needle: &str| svg.matches(needle).count();
    // Rectangles filled with a kind colour: one per residency plus one per
    // legend entry (input, activation, output = 3 kinds present).
    let rects: usize = [
        chart::ACTIVATION_FILL,
        chart::INPUT_FILL,
        chart::OUTPUT_FILL,
    ]
    .iter()
    .map(|&c| {
        svg.split("<rect")
            .skip(1)
            .filter(|r| r.contains(&format!("fill=\"{}\"", hex(c))))
            .count()
    })
    .sum();
    assert_eq!(rects, plan.residencies.len() + 3, "{svg}");
    // One spill cross (two lines) and one reload triangle, plus one of each in the legend.
    let spill_lines = svg
        .split("<line")
        .skip(1)
        .filter(|l| l.contains(&format!("stroke=\"{}\"", hex(chart::SPILL_COLOR))))
        .count();
    assert_eq!(spill_lines, 2 * (1 + 1), "{svg}");
    let reload_marks = svg
        .split("<polygon")
        .skip(1)
        .filter(|l| l.contains(&format!("fill=\"{}\"", hex(chart::RELOAD_COLOR))))
        .count();
    assert_eq!(reload_marks, 1 + 1);
    assert!(count("scratchpad address (B)") == 1);
    assert!(count("step (operator in execution order)") == 1);
}

#[test]
fn cli_literal_example_explains_infeasibility_with_numbers() {
    let (ok, _, err) = archscope(&["map", "--model", "mobilenetv2", "--scratchpad", "512KiB"]);
    assert!(!ok);
    for needle in [
        "features.2.conv.1+act",
        "1,505,280 B",
        "224x224",
        "--scratchpad 1505280",
        "--resolution 128",
        "M_R",
    ] {
        assert!(err.contains(needle), "missing `{needle}` in: {err}");
    }
    let (ok, _, err) = archscope(&["map", "--model", "mobilenetv2", "--scratchpad", "12XB"]);
    assert!(!ok);
    assert!(err.contains("unknown unit"), "{err}");
}

#[test]
fn cli_traffic_json_and_table_and_chart() {
    let dir = TempDir::new("map-traffic");
    let svg = dir.join("mem.svg");
    let (ok, out, err) = archscope_paths(
        "map --model mobilenetv2 --scratchpad 512KiB --resolution 128 --solver ilp --time-limit 60 --format json",
        &[("--chart", &svg)],
    );
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    for key in [
        "status",
        "compulsory_bytes",
        "non_compulsory_bytes",
        "solve_s",
        "order",
        "baselines",
    ] {
        assert!(v.get(key).is_some(), "missing {key}");
    }
    assert_eq!(v["status"], "optimal");
    assert_eq!(v["capacity_bytes"], 524_288);
    // MobileNetV2 at 128: M_R is the same depthwise op, 64·64·96 + 32·32·96.
    assert_eq!(v["budgets"]["m_r_bytes"], 64 * 64 * 96 + 32 * 32 * 96);
    assert_eq!(v["order"].as_array().unwrap().len(), 64);
    // Compulsory: the 128×128×3 image and the 1000 logits, int8.
    assert_eq!(v["compulsory_bytes"], 128 * 128 * 3 + 1000);
    let ilp = v["non_compulsory_bytes"].as_u64().unwrap();
    for b in v["baselines"].as_array().unwrap() {
        if let Some(x) = b["non_compulsory_bytes"].as_u64() {
            assert!(ilp <= x);
        }
    }
    assert!(std::fs::read_to_string(&svg).unwrap().contains("<svg"));
    let (ok, out, err) = archscope(&words(
        "map --model resnet50 --scratchpad mr --include-weights",
    ));
    assert!(ok, "{err}");
    let first: Vec<&str> = out.lines().take(8).collect();
    assert!(first[0].starts_with("map traffic: resnet50"), "{out}");
    assert!(out.contains("status optimal"));
    assert!(out.contains("baseline default"));
    assert!(out.contains("verifier: pass"));
    assert!(out.contains("spills and reloads:\n"), "{out}");
}
