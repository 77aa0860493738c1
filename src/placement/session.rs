//! One placement run over the phases of an LLM: for each phase, build the graph (optionally
//! split into pipelined sub-batches), the instance, the baselines within the budget and the
//! placement, and draw its Gantt chart; then print them all through [`Render`].

use super::{Baselines, Budget, Instance, Limits, Objective, PlaceError, Placement};
use super::{baselines_within, gantt, patterns, place_instance, report};
use crate::hardware::Hardware;
use crate::render::Render;
use crate::workload::{LlmConfig, Phase, QuantScheme};
use std::path::{Path, PathBuf};

/// What to place.
#[derive(Clone, Debug)]
pub struct PlacementRequest {
    /// Quantization scheme.
    pub quant: QuantScheme,
    /// The phases, each placed on its own.
    pub phases: Vec<Phase>,
    /// Sequences per step.
    pub batch: u64,
    /// Split the batch into this many sub-batches pipelined across units.
    pub sub_batches: Option<u64>,
    /// What the placement minimises.
    pub objective: Objective,
    /// Solver limits, budgets and how the instance is built.
    pub limits: Limits,
    /// Where to draw the Gantt chart of the first phase (`.svg` or `.png`); the others get
    /// the phase name added to the stem (see [`gantt_path`]).
    pub gantt: Option<PathBuf>,
    /// Write over existing Gantt chart files.
    pub force: bool,
}

/// One placed phase.
#[derive(Clone, Debug)]
pub struct PhaseRun {
    /// The phase.
    pub phase: Phase,
    /// The placement.
    pub placement: Placement,
    /// HEFT and the single-unit schedules within the budget, for comparison.
    pub baselines: Baselines,
    /// The Gantt chart written, if one was asked for.
    pub gantt: Option<PathBuf>,
}

/// Every placed phase, in order.
#[derive(Clone, Debug)]
pub struct PlacementRuns(pub Vec<PhaseRun>);

/// The chart path of phase `k`: `base` itself for the first, `STEM-PHASE.EXT` beside it for the
/// others (`gantt.svg` → `gantt-decode.svg`).
pub fn gantt_path(base: &Path, k: usize, phase: &Phase) -> PathBuf {
    if k == 0 {
        return base.to_path_buf();
    }
    let stem = base.file_stem().and_then(|s| s.to_str()).unwrap_or("gantt");
    let ext = base.extension().and_then(|s| s.to_str()).unwrap_or("svg");
    base.with_file_name(format!("{stem}-{}.{ext}", phase.name()))
}

/// Places every phase of `req` for the LLM `cfg` on `hw`.
pub fn place_phases(
    hw: &Hardware,
    cfg: &LlmConfig,
    req: &PlacementRequest,
) -> Result<PlacementRuns, PlaceError> {
    for &phase in &req.phases {
        cfg.check_phase(phase, req.batch)?;
    }
    let mut runs = Vec::with_capacity(req.phases.len());
    for (k, &phase) in req.phases.iter().enumerate() {
        let graph = match req.sub_batches {
            Some(n) => patterns::sub_batches(cfg, &req.quant, phase, req.batch, n)?,
            None => cfg.build(&req.quant, phase, req.batch),
        };
        let inst = Instance::from_graph(hw, &graph, &req.limits.build)?;
        let budget = Budget {
            latency_s: req.limits.latency_budget_s,
            power_w: req.limits.power_budget_w,
        };
        let baselines = baselines_within(&inst, &req.objective, budget)?;
        let placement = place_instance(&inst, req.objective, &req.limits)?;
        let chart = match &req.gantt {
            Some(base) => {
                let path = gantt_path(base, k, &phase);
                gantt::write(&placement, &path, req.force)?;
                Some(path)
            }
            None => None,
        };
        runs.push(PhaseRun {
            phase,
            placement,
            baselines,
            gantt: chart,
        });
    }
    Ok(PlacementRuns(runs))
}

impl Render for PlacementRuns {
    fn what(&self) -> &'static str {
        "map"
    }
    fn table(&self) -> String {
        let tables: Vec<String> = self
            .0
            .iter()
            .map(|r| report::to_table(&r.placement, Some(&r.baselines)))
            .collect();
        tables.join("\n")
    }
    fn json(&self) -> serde_json::Value {
        serde_json::Value::Array(
            self.0
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "phase": r.phase.name(),
                        "placement": r.placement,
                        "baselines": {
                            "heft": r.baselines.heft.totals,
                            "single": r.baselines.single.iter()
                                .map(|s| serde_json::json!({"method": s.method, "totals": s.totals}))
                                .collect::<Vec<_>>(),
                        },
                    })
                })
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn later_phases_get_their_name_in_the_chart_path() {
        let base = Path::new("out/g.png");
        assert_eq!(gantt_path(base, 0, &Phase::Prefill { prompt: 8 }), base);
        assert_eq!(
            gantt_path(base, 1, &Phase::Decode { context: 8 }),
            Path::new("out/g-decode.png")
        );
    }
}
