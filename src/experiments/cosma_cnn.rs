//! The CNN evaluation suite of the scratchpad mapper, in the style of COSMA's §V: real networks,
//! each at the budgets `M_R`, `M_H`, `M_P` (activation only, and with weights
//! as tensors), solved by the ILP (or divide and conquer for large graphs)
//! and by both baselines, every plan verified. Used by
//! `examples/cosma_table.rs` and the integration test `tests/it/mapping_cnn.rs`.

use std::path::Path;
use std::time::Instant;

use serde::Serialize;

use crate::mapping::{
    AdaptOptions, Adapted, DivideOptions, IlpOptions, MappingError, Plan, PlanStatus, budgets,
    plan_arena, plan_default, plan_divide_and_conquer, plan_ilp, problem_from_graph_unchecked,
    verify,
};
use crate::workload::{Graph, QuantScheme, VisionModel};

/// The built-in networks of the suite: table label and model spec. All at
/// their reference resolution (U-Net at a 252 tile instead of its 572 so that
/// its `M_R` stays on the order of accelerator scratchpads).
pub const BUILTIN_CNNS: &[(&str, &str)] = &[
    ("MobileNetV2", "mobilenetv2"),
    ("MobileNetV3-Large", "mobilenetv3-large"),
    ("ResNet-50", "resnet50"),
    ("Inception-v3", "inception-v3"),
    ("U-Net (252)", "unet?res=252"),
    ("SqueezeNet 1.1", "squeezenet1.1"),
    ("EfficientNet-B0", "efficientnet-b0"),
];

/// The released OFA specialized subnet used as the suite's NAS network
/// (MobileNetV3 space, Note10 64 ms, 80.2 % top-1; directory name in
/// `ofa/specialized` of the reference data).
pub const OFA_SUBNET: &str = "note10_lat-64ms_top1-80.2_finetune-75";

/// Graphs with more problem ops than this are planned by divide and
/// conquer instead of one ILP (a tuning choice: below it the whole ILP of
/// every suite network solved within seconds on a 2-core machine).
pub const DC_ABOVE_OPS: usize = 160;

/// Quantization of the suite: 8-bit weights and activations, as in the
/// COSMA evaluation ("all data 8-bit").
pub const SUITE_QUANT: &str = "w8a8";

/// Builds the suite network `spec` at batch 1 under [`SUITE_QUANT`].
pub fn build_builtin(spec: &str) -> Result<Graph, MappingError> {
    let q = QuantScheme::parse(SUITE_QUANT)
        .map_err(|e| MappingError::invalid("quant", e.to_string()))?;
    VisionModel::parse(spec)
        .and_then(|m| m.build(&q, 1))
        .map_err(|e| MappingError::invalid(format!("model {spec}"), e.to_string()))
}

/// Builds the OFA subnet [`OFA_SUBNET`] from `ofa_dir` (the reference
/// data's `ofa` directory) in int8.
pub fn build_ofa_subnet(ofa_dir: &Path) -> Result<Graph, MappingError> {
    let dir = ofa_dir.join("specialized").join(OFA_SUBNET);
    let net = crate::nas::netconfig::load_specialized(&dir).map_err(|e| {
        MappingError::invalid(format!("OFA subnet {}", dir.display()), e.to_string())
    })?;
    Ok(net.graph(crate::nas::net::Precision::I8))
}

/// Which budget a row is at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Budget {
    /// `M_R`.
    R,
    /// `M_H`.
    H,
    /// `M_P`.
    P,
}

/// One row of the table.
#[derive(Debug, Clone, Serialize)]
pub struct SuiteRow {
    /// Network label.
    pub graph: String,
    /// Weights in the scratchpad (`M_Rp` etc.) or streamed.
    pub include_weights: bool,
    /// The budget.
    pub budget: Budget,
    /// Scratchpad bytes.
    pub capacity_bytes: u64,
    /// Problem ops (after activation fusion).
    pub ops: usize,
    /// Compulsory bytes (equal for every plan).
    pub compulsory_bytes: u64,
    /// Default baseline's non-compulsory bytes (`None` if it failed).
    pub default_bytes: Option<u64>,
    /// Arena baseline's non-compulsory bytes (`None` if it failed).
    pub arena_bytes: Option<u64>,
    /// The planner used: `ilp` or `divide_and_conquer`.
    pub method: String,
    /// Its non-compulsory bytes.
    pub solver_bytes: u64,
    /// Its status.
    pub status: PlanStatus,
    /// Its lower bound, when it has one.
    pub bound_bytes: Option<f64>,
    /// Its wall-clock seconds.
    pub solve_s: f64,
}

fn verified(
    p: &crate::mapping::MemProblem,
    plan: Result<Plan, MappingError>,
) -> Result<Option<Plan>, MappingError> {
    match plan {
        Ok(pl) => {
            verify(p, &pl)?;
            Ok(Some(pl))
        }
        Err(MappingError::HeuristicFailed(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Runs both baselines and the solver (ILP, or divide and conquer above
/// [`DC_ABOVE_OPS`] ops or when `force_dc`) on `graph` at each budget in
/// `which`, verifying every plan. `time_limit_s` is the ILP limit (per
/// window for divide and conquer).
pub fn evaluate(
    label: &str,
    graph: &Graph,
    include_weights: bool,
    which: &[Budget],
    time_limit_s: f64,
    force_dc: bool,
) -> Result<Vec<SuiteRow>, MappingError> {
    let opts = AdaptOptions {
        include_weights,
        ..AdaptOptions::default()
    };
    let adapted: Adapted = problem_from_graph_unchecked(graph, &opts)?;
    let b = budgets(&adapted.problem, time_limit_s)?;
    let mut rows = Vec::new();
    for &w in which {
        let cap = match w {
            Budget::R => b.m_r.bytes,
            Budget::H => b.m_h_bytes,
            Budget::P => b.m_p.bytes,
        };
        let mut p = adapted.problem.clone();
        p.capacity_bytes = cap;
        let d = verified(&p, plan_default(&p))?;
        let a = verified(&p, plan_arena(&p))?;
        let start = Instant::now();
        let plan = if force_dc || p.ops.len() > DC_ABOVE_OPS {
            let mut o = DivideOptions::default();
            o.ilp.time_limit_s = o.ilp.time_limit_s.min(time_limit_s);
            plan_divide_and_conquer(&p, &o)?
        } else {
            plan_ilp(
                &p,
                &IlpOptions {
                    time_limit_s,
                    ..IlpOptions::default()
                },
            )?
        };
        let solve_s = start.elapsed().as_secs_f64();
        verify(&p, &plan)?;
        rows.push(SuiteRow {
            graph: label.to_string(),
            include_weights,
            budget: w,
            capacity_bytes: cap,
            ops: p.ops.len(),
            compulsory_bytes: plan.compulsory_bytes,
            default_bytes: d.map(|x| x.non_compulsory_bytes),
            arena_bytes: a.map(|x| x.non_compulsory_bytes),
            method: plan.method.clone(),
            solver_bytes: plan.non_compulsory_bytes,
            status: plan.status,
            bound_bytes: plan.bound_bytes,
            solve_s,
        });
    }
    Ok(rows)
}

/// The rows as a Markdown table, followed by the average reduction of
/// non-compulsory bytes against the default baseline (over the rows where
/// the default has any).
pub fn to_markdown(rows: &[SuiteRow]) -> String {
    use crate::mapping::report::grouped;
    let opt = |v: Option<u64>| v.map_or("failed".to_string(), grouped);
    let mut s = String::from(
        "| graph | weights | budget | scratchpad B | ops | compulsory B | default B | arena B | solver | solver B | status | time s |\n|---|---|---|---:|---:|---:|---:|---:|---|---:|---|---:|\n",
    );
    for r in rows {
        s += &format!(
            "| {} | {} | M_{}{} | {} | {} | {} | {} | {} | {} | {} | {:?} | {:.2} |\n",
            r.graph,
            if r.include_weights { "in" } else { "streamed" },
            match r.budget {
                Budget::R => "R",
                Budget::H => "H",
                Budget::P => "P",
            },
            if r.include_weights { "p" } else { "" },
            grouped(r.capacity_bytes),
            r.ops,
            grouped(r.compulsory_bytes),
            opt(r.default_bytes),
            opt(r.arena_bytes),
            if r.method == "divide_and_conquer" {
                "D&C"
            } else {
                r.method.as_str()
            },
            grouped(r.solver_bytes),
            r.status,
            r.solve_s
        );
    }
    for method in ["ilp", "divide_and_conquer"] {
        for (base, pick) in [
            (
                "default",
                (|r: &SuiteRow| r.default_bytes) as fn(&SuiteRow) -> Option<u64>,
            ),
            ("arena", |r: &SuiteRow| r.arena_bytes),
        ] {
            let sel: Vec<SuiteRow> = rows
                .iter()
                .filter(|r| r.method == method)
                .cloned()
                .collect();
            if sel.is_empty() {
                continue;
            }
            let (avg, n) = average_reduction_vs(&sel, pick);
            s += &format!(
                "\n{method}: average reduction of non-compulsory bytes vs the {base} baseline: {} over {n} rows where it has any (and succeeded)",
                avg.map_or("n/a".to_string(), |a| format!("{a:.1} %"))
            );
        }
    }
    s.push('\n');
    s
}

/// Mean over rows with a positive default of `1 - solver / default`, in
/// percent, and the number of such rows.
pub fn average_reduction(rows: &[SuiteRow]) -> (Option<f64>, usize) {
    average_reduction_vs(rows, |r| r.default_bytes)
}

/// Like [`average_reduction`] against the baseline bytes `pick` returns.
pub fn average_reduction_vs(
    rows: &[SuiteRow],
    pick: impl Fn(&SuiteRow) -> Option<u64>,
) -> (Option<f64>, usize) {
    let v: Vec<f64> = rows
        .iter()
        .filter_map(|r| {
            pick(r).and_then(|d| crate::mapping::report::reduction_pct(d, r.solver_bytes))
        })
        .collect();
    let n = v.len();
    ((n > 0).then(|| v.iter().sum::<f64>() / n as f64), n)
}
