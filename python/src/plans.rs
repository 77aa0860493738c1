//! `map_traffic`, `place` and `search_ofa`: the planning calls. Each builds the library request
//! that `archscope map --objective traffic`, `archscope map --objective placement` and
//! `archscope search ofa` build from the same flags, runs it with the GIL released, and returns
//! the command line's JSON or the summary it printed.

use crate::device::{Hardware, Model};
use crate::{Kind, raise};
use archscope::mapping::AdaptOptions;
use archscope::mapping::report::{Solver, parse_capacity};
use archscope::render::{Format, Render, render};
use archscope::workload::{Phase, QuantScheme};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

/// The phase of a single-phase plan: `prefill` (with its prompt) or `decode` (its context).
fn one_phase(phase: &str, prompt: u64, context: u64) -> Phase {
    match phase {
        "decode" => Phase::Decode { context },
        _ => Phase::Prefill { prompt },
    }
}

/// The JSON of a result, as `--format json` prints it.
fn json(r: &dyn Render) -> PyResult<String> {
    render(r, Format::Json).map_err(|e| raise(Kind::Mapping, e))
}

/// The scratchpad planner by its command-line name.
fn solver(name: &str) -> PyResult<Solver> {
    Ok(match name {
        "ilp" => Solver::Ilp,
        "heuristic" => Solver::Heuristic,
        "dc" => Solver::DivideAndConquer,
        "default" => Solver::Default,
        "arena" => Solver::Arena,
        _ => {
            return Err(PyValueError::new_err(format!(
                "solver `{name}`: expected ilp, heuristic, dc, default or arena"
            )));
        }
    })
}

/// `archscope map --objective traffic`: plans the scratchpad of `capacity` for `model`;
/// returns the JSON text.
#[pyfunction]
#[pyo3(signature = (model, scratchpad, phase, batch, prompt, context, quant, solver_name, time_limit_s, resolution, include_weights, granularity, fuse))]
#[allow(clippy::too_many_arguments)]
pub fn map_traffic(
    py: Python<'_>,
    model: &Bound<'_, Model>,
    scratchpad: &str,
    phase: &str,
    batch: u64,
    prompt: u64,
    context: u64,
    quant: Option<&str>,
    solver_name: &str,
    time_limit_s: f64,
    resolution: Option<u64>,
    include_weights: bool,
    granularity: Option<u64>,
    fuse: bool,
) -> PyResult<String> {
    use archscope::mapping::traffic::{TrafficSpec, map_model};
    // The command line's default: 8-bit data as in the COSMA evaluation, or a GGUF file's own.
    let own = match &model.get().model {
        archscope::Model::Llm(cfg) => archscope::workload::gguf::file_scheme(cfg),
        archscope::Model::Vision(_) => None,
    };
    let quant = quant.or(own).unwrap_or("w8a8");
    let spec = TrafficSpec {
        model: model.get().spec.clone(),
        resolution,
        phase: one_phase(phase, prompt, context),
        batch,
        quant: QuantScheme::parse(quant).map_err(|e| raise(Kind::Score, e))?,
        capacity: parse_capacity(scratchpad).map_err(|e| raise(Kind::Mapping, e))?,
        solver: solver(solver_name)?,
        time_limit_s,
        adapt: AdaptOptions {
            include_weights,
            granularity_bytes: granularity
                .unwrap_or(archscope::mapping::adapt::DEFAULT_GRANULARITY_BYTES),
            fuse_activations: fuse,
        },
    };
    let rep = py
        .detach(|| map_model(&spec))
        .map_err(|e| raise(Kind::Mapping, e))?;
    json(&rep)
}

/// `archscope map --objective placement`: places an LLM's phases on the device's units;
/// returns the JSON text.
#[pyfunction]
#[pyo3(signature = (hw, model, phases, batch, prompt, context, quant, minimize, j_per_s, latency_budget_ms, power_budget_w, time_limit_s, units, sub_batches, monolithic, ideal, runtime))]
#[allow(clippy::too_many_arguments)]
pub fn place(
    py: Python<'_>,
    hw: &Bound<'_, Hardware>,
    model: &Bound<'_, Model>,
    phases: Vec<String>,
    batch: u64,
    prompt: u64,
    context: u64,
    quant: Option<&str>,
    minimize: &str,
    j_per_s: f64,
    latency_budget_ms: Option<f64>,
    power_budget_w: Option<f64>,
    time_limit_s: f64,
    units: Option<Vec<String>>,
    sub_batches: Option<u64>,
    monolithic: bool,
    ideal: bool,
    runtime: Option<&str>,
) -> PyResult<String> {
    use archscope::placement::session::{PlacementRequest, place_phases};
    use archscope::placement::{Decompose, Limits, Objective, RuntimeChoice};
    let archscope::Model::Llm(cfg) = &model.get().model else {
        return Err(PyValueError::new_err(
            "place: model must be an LLM; networks are placed by explore(..., ilp=True)",
        ));
    };
    let scheme = quant
        .or(archscope::workload::gguf::file_scheme(cfg))
        .unwrap_or("fp16");
    let quant = QuantScheme::parse(scheme).map_err(|e| raise(Kind::Score, e))?;
    let (runtime, quant) = RuntimeChoice::from_flags(runtime, ideal, scheme, quant)
        .map_err(|e| raise(Kind::Mapping, e))?;
    let objective = match minimize {
        "makespan" | "latency" => Objective::Makespan,
        "energy" => Objective::Energy,
        "weighted" => Objective::Weighted { j_per_s },
        m => {
            return Err(PyValueError::new_err(format!(
                "minimize `{m}`: expected makespan, energy or weighted"
            )));
        }
    };
    let mut limits = Limits {
        time_limit_s,
        latency_budget_s: latency_budget_ms.map(|m| m * 1e-3),
        power_budget_w,
        decompose: if monolithic {
            Decompose::Monolithic
        } else {
            Decompose::Auto
        },
        ..Limits::default()
    };
    limits.build.mode = if ideal {
        archscope::cost::Mode::Ideal
    } else {
        archscope::cost::Mode::Calibrated
    };
    limits.build.units = units;
    limits.build.runtime = runtime;
    let req = PlacementRequest {
        quant,
        phases: phases
            .iter()
            .map(|p| one_phase(p, prompt, context))
            .collect(),
        batch,
        sub_batches,
        objective,
        limits,
        gantt: None,
        force: false,
    };
    let hw = &hw.get().hw;
    let runs = py
        .detach(|| place_phases(hw, cfg, &req))
        .map_err(|e| raise(Kind::Mapping, e))?;
    json(&runs)
}

/// `archscope search ofa`: searches once-for-all subnets priced on `hw` (or by MACs alone when
/// `hw` is `None`), writes the run's files to `out`, and returns the printed summary.
#[pyfunction]
#[pyo3(signature = (hw, unit, ideal, precision, runtime, space, resolutions, max_latency_ms, max_energy_mj, max_memory, max_macs_m, objective, acc_predictor, out, preset, population, generations, random, seed, force))]
#[allow(clippy::too_many_arguments)]
pub fn search_ofa(
    py: Python<'_>,
    hw: Option<&Bound<'_, Hardware>>,
    unit: Option<String>,
    ideal: bool,
    precision: &str,
    runtime: Option<String>,
    space: String,
    resolutions: Option<Vec<u32>>,
    max_latency_ms: Vec<f64>,
    max_energy_mj: Option<f64>,
    max_memory: Option<&str>,
    max_macs_m: Option<f64>,
    objective: &str,
    acc_predictor: Option<std::path::PathBuf>,
    out: std::path::PathBuf,
    preset: &str,
    population: Option<usize>,
    generations: Option<usize>,
    random: bool,
    seed: u64,
    force: bool,
) -> PyResult<String> {
    use archscope::nas::study::{Algorithm, CostSource, ObjectiveKind, OfaRequest};
    let cost = match hw {
        None => CostSource::Macs,
        Some(h) => {
            let h = h.get();
            if !h.edits.is_empty() {
                return Err(PyValueError::new_err(
                    "search_ofa: hw must be a device as loaded (the search loads it by name); what-if edits are not applied here",
                ));
            }
            CostSource::Archscope {
                hw: h.given.clone(),
                unit,
                mode: if ideal {
                    archscope::cost::Mode::Ideal
                } else {
                    archscope::cost::Mode::Calibrated
                },
                precision: archscope::nas::net::Precision::parse(precision).ok_or_else(|| {
                    PyValueError::new_err(format!(
                        "precision `{precision}`: expected f32, f16 or i8"
                    ))
                })?,
                runtime,
                threads: None,
            }
        }
    };
    let mut params = archscope::nas::study::preset(preset).ok_or_else(|| {
        PyValueError::new_err(format!("preset `{preset}`: expected ofa, tutorial or hat"))
    })?;
    params.population = population.unwrap_or(params.population);
    params.generations = generations.unwrap_or(params.generations);
    let max_memory_mib = max_memory
        .map(|s| {
            archscope::nas::llm::parse_bytes(s).ok_or_else(|| {
                PyValueError::new_err(format!(
                    "max_memory `{s}`: expected a size such as 2GiB, 512MiB or 1.5GB"
                ))
            })
        })
        .transpose()?
        .map(|b| b / (1u64 << 20) as f64);
    let req = OfaRequest {
        space,
        resolutions,
        cost,
        acc_predictor,
        latency_budgets: max_latency_ms,
        max_energy_mj,
        max_memory_mib,
        max_macs_m,
        objective: match objective {
            "constrained" => ObjectiveKind::Constrained,
            "mnas-soft" => ObjectiveKind::MnasSoft,
            "mnas-hard" => ObjectiveKind::MnasHard,
            "pareto" => ObjectiveKind::Pareto,
            o => {
                return Err(PyValueError::new_err(format!(
                    "objective `{o}`: expected constrained, mnas-soft, mnas-hard or pareto"
                )));
            }
        },
        algorithm: if random {
            Algorithm::Random
        } else {
            Algorithm::Evolution
        },
        params,
        seed,
        out,
        force,
    };
    py.detach(|| archscope::nas::study::search_ofa(&req))
        .map_err(|e| raise(Kind::Search, e))
}
