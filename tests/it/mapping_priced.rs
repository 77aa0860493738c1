//! The scratchpad mapper feeding the cost model: a plan's transfers are charged to the ops at
//! whose steps they happen, tensors the plan manages are priced in the scratchpad, and the
//! totals add up to the plan's own figures. Checked on MobileNetV2 (int8, 80x80, so its largest
//! working set fits the 192 KiB SRAM of the SCALE-Sim reference array).

use archscope::cost::{Mode, evaluate, residency};
use archscope::cost_models::model_for;
use archscope::hardware::Hardware;
use archscope::mapping::{
    AdaptOptions, Mapped, MappingError, MappingRequest, evaluate_mapped, map_unit,
    mapped_residency, planned_tensors, report::Solver,
};
use archscope::score::{ScoreError, ScoreRequest, score_vision_mapped};
use archscope::workload::{Graph, QuantScheme, VisionModel};

/// The reference systolic array with its cycle model swapped for the plain roofline, so every
/// byte and second below can be recomputed from the file's figures.
fn roofline_array(sram_bytes: u64) -> Hardware {
    let text = include_str!("../../hardware-db/systolic-32x32.toml");
    let start = text.find("[unit.params]").unwrap();
    let end = text.find("[[memory]]").unwrap();
    let text = format!("{}{}", &text[..start], &text[end..]).replace(
        "capacity_bytes = { value = 196608,",
        &format!("capacity_bytes = {{ value = {sram_bytes},"),
    );
    Hardware::from_toml_str(&text, "systolic-roofline.toml").unwrap()
}

fn mobilenet(res: u32) -> (VisionModel, QuantScheme, Graph) {
    let model = VisionModel::parse(&format!("mobilenetv2?res={res}")).unwrap();
    let quant = QuantScheme::parse("int8").unwrap();
    let graph = model.build(&quant, 1).unwrap();
    (model, quant, graph)
}

fn req(solver: Solver) -> MappingRequest {
    MappingRequest {
        solver,
        time_limit_s: 20.0,
        adapt: AdaptOptions::default(),
    }
}

#[test]
fn transfers_add_up_to_the_plan_and_the_ledger() {
    let (_, _, graph) = mobilenet(80);
    let unit = 0;
    let (sram, dram) = (0, 1);
    for (solver, include_weights, capacity) in [
        (Solver::Heuristic, false, 196_608),
        (Solver::DivideAndConquer, false, 196_608),
        // With the weights in the problem the scratchpad must also hold the classifier's
        // 1280 x 1000 int8 matrix (1.28 MB) next to its input and output.
        (Solver::Heuristic, true, 2_000_000),
    ] {
        let hw = roofline_array(capacity);
        let mut r = req(solver);
        r.adapt.include_weights = include_weights;
        let (eval, m) = evaluate_mapped(&hw, unit, Mode::Calibrated, &graph, &r)
            .unwrap_or_else(|e| panic!("{solver:?}: {e}"));
        assert_eq!((m.scratch, m.spill), (sram, dram));
        // Every byte the plan moves is charged to exactly one op.
        let moved: f64 = m.transfer_bytes.iter().sum();
        assert_eq!(
            moved,
            (m.plan.compulsory_bytes + m.plan.non_compulsory_bytes) as f64
        );
        // The same graph priced without the transfers, under the mapped residency.
        let inner = model_for(&hw, unit, Mode::Calibrated).unwrap();
        let res = mapped_residency(
            &residency(&hw, unit, &graph),
            &planned_tensors(&graph, &m),
            sram,
            dram,
        );
        let bare = evaluate(inner.as_ref(), &graph, &res).unwrap();
        // DRAM traffic = what the ops stream themselves (weights) + the plan's transfers, and the
        // SRAM sees the transfers too (they are written into or read out of it).
        let t = &eval.total;
        assert!((t.bytes[dram] - (bare.total.bytes[dram] + moved)).abs() < 1e-6);
        assert!((t.bytes[sram] - (bare.total.bytes[sram] + moved)).abs() < 1e-6);
        // Time: each transfer at the DRAM's achievable bandwidth, serialised with the op.
        let bw = hw.memories[dram].bytes_per_s * hw.units[unit].bandwidth_efficiency;
        let want = bare.total.latency_s + moved / bw;
        assert!(
            (t.latency_s - want).abs() <= 1e-12 * want,
            "{} vs {want}",
            t.latency_s
        );
        // Energy: both levels' per-byte energy plus static power over the added time.
        let e = moved * (hw.memories[dram].j_per_byte + hw.memories[sram].j_per_byte)
            + hw.static_w * moved / bw;
        assert!((t.energy_j() - bare.total.energy_j() - e).abs() <= 1e-9 * t.energy_j());
        // No activation is priced off-chip: the only DRAM bytes an op moves itself are the
        // weights it streams (none when they are in the problem), up to the adapter's rounding
        // of each tensor to whole bytes.
        let streamed = m.adapted.total_streamed_bytes() as f64;
        assert!(
            (bare.total.bytes[dram] - streamed).abs() <= graph.tensors.len() as f64,
            "ops stream {} B from DRAM, the adapter counts {streamed} B",
            bare.total.bytes[dram]
        );
        if include_weights {
            assert_eq!(streamed, 0.0);
            // Every weight is loaded once, compulsorily.
            let weights: f64 = graph
                .tensors
                .iter()
                .filter(|x| x.role == archscope::workload::Role::Weight)
                .map(|x| x.bytes().ceil())
                .sum();
            assert!(m.plan.compulsory_bytes as f64 >= weights);
        }
    }
}

#[test]
fn the_transfer_ledger_is_priced_from_the_file() {
    let hw = roofline_array(196_608);
    let inner = model_for(&hw, 0, Mode::Calibrated).unwrap();
    let m = Mapped::new(inner.as_ref(), Mode::Calibrated, 1, vec![]);
    let l = m.transfer(1.0e6);
    // 1 MB at 25.6 GB/s x 0.8 = 48.828125 µs; 40 + 0.6 pJ/B; 0.1 W static over that time.
    assert!((l.latency_s - 1.0e6 / 20.48e9).abs() < 1e-15);
    assert_eq!(l.bytes[0], 1.0e6);
    assert_eq!(l.bytes[1], 1.0e6);
    assert!((l.memory_j - 1.0e6 * 40.6e-12).abs() < 1e-15);
    assert!((l.static_j - 0.1 * 1.0e6 / 20.48e9).abs() < 1e-18);
    let ideal = Mapped::new(inner.as_ref(), Mode::Ideal, 1, vec![]).transfer(1.0e6);
    assert!((ideal.latency_s - 1.0e6 / 25.6e9).abs() < 1e-15);
    assert_eq!(m.transfer(0.0).latency_s, 0.0);
}

#[test]
fn units_without_a_scratchpad_and_tiny_scratchpads_are_clear_errors() {
    let (model, quant, graph) = mobilenet(96);
    let pixel = Hardware::load("pixel8").unwrap();
    let e = map_unit(&pixel, 0, &graph, &req(Solver::Heuristic)).unwrap_err();
    assert!(matches!(e, MappingError::NoScratchpad(_)), "{e}");
    let s = e.to_string();
    assert!(
        s.contains("managed = \"software\"") && s.contains("`dram`"),
        "{s}"
    );

    let hw = roofline_array(64 * 1024);
    let r = ScoreRequest {
        batch: 1,
        prompt: 0,
        context: 0,
        prefill: false,
        decode: false,
        unit: None,
        mode: Mode::Calibrated,
        ..ScoreRequest::default()
    };
    let e = score_vision_mapped(&hw, &model, &quant, &r, Some(&req(Solver::Ilp))).unwrap_err();
    assert!(
        matches!(e, ScoreError::Mapping(MappingError::Infeasible { .. })),
        "{e}"
    );
    // Without a mapping the same request scores.
    score_vision_mapped(&hw, &model, &quant, &r, None).unwrap();
}

#[test]
fn divide_and_conquer_never_returns_worse_than_a_baseline() {
    use archscope::mapping::{
        budgets, plan_arena, plan_default, plan_with, problem_from_graph_unchecked, verify,
    };
    // Inception-v3 with its weights in the problem, at M_Rp: the windows of divide and conquer
    // leave 262,144 B of spills where the arena planner finds a plan with none (measured with
    // the default DivideOptions), so the planner must hand back the arena's plan, labelled.
    let g = archscope::experiments::cosma_cnn::build_builtin("inception-v3").unwrap();
    let opts = AdaptOptions {
        include_weights: true,
        ..AdaptOptions::default()
    };
    let mut a = problem_from_graph_unchecked(&g, &opts).unwrap();
    a.problem.capacity_bytes = budgets(&a.problem, 20.0).unwrap().m_r.bytes;
    let p = &a.problem;
    let plan = plan_with(p, Solver::DivideAndConquer, 10.0).unwrap();
    verify(p, &plan).unwrap();
    let best = [plan_default(p), plan_arena(p)]
        .into_iter()
        .flatten()
        .map(|b| b.non_compulsory_bytes)
        .min()
        .unwrap();
    assert!(
        plan.non_compulsory_bytes <= best,
        "{} > {best}",
        plan.non_compulsory_bytes
    );
    if plan.method != "divide_and_conquer" {
        assert!(
            plan.method.contains("better than divide and conquer"),
            "{}",
            plan.method
        );
    }
}
