//! Whole searches as the command line runs them: choose the space, the cost side (an archscope
//! device or an OFA look-up table) and the quality side (a predictor file or a labelled proxy),
//! run one search per budget, and write the report directory.
//!
//! Files written (see [`write_report`]): `summary.json` (settings, labels, best subnet per run,
//! counters, timings), `best.csv`, `front.csv` (each run's accuracy-vs-cost Pareto front),
//! `best_<run>.json` (the arch dict, loadable by OFA), `front.svg` (scatter of evaluated subnets,
//! fronts and budgets), and for LLM searches `best_<run>_config.json`.

use super::NasError;
use super::efficiency::{
    ArchscopeEfficiency, Efficiency, LutEfficiency, MacsEfficiency, Metric, NetSpace,
};
use super::evolution::{
    Constraint, Counts, Evaluated, Evolution, EvolutionParams, MNAS_HARD_W, MNAS_SOFT_W, Objective,
    SearchSpec, Searcher, drive, pareto_front,
};
use super::llm::{DEFAULT_TRAIN_TOKENS, LlmEfficiency, LlmFeatures, LlmSpace, ScalingLawProxy};
use super::lut::LatencyTable;
use super::net::Precision;
use super::predictor::{
    FitKind, MacsProxy, MbOneHot, MlpPredictor, OFA_MBV3_PREDICTOR, OFA_RESNET_PREDICTOR, Quality,
    ResNetOneHot, fit, read_samples,
};
use super::report::{OutDir, Series, evaluated_csv, scatter_png, scatter_svg};
use super::space::{MbArch, MbSpace, ResNetArch, ResNetSpace, SearchSpace};
use crate::cost::Mode;
use crate::hardware::Hardware;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Search algorithm.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Algorithm {
    /// OFA's evolution finder.
    Evolution,
    /// Random search with the same number of scored subnets.
    Random,
}

/// One finished search.
pub struct Run<A> {
    /// Label, e.g. `latency<=25ms`.
    pub label: String,
    /// What was searched for.
    pub spec: SearchSpec,
    /// Algorithm.
    pub algorithm: Algorithm,
    /// Everything scored, in order.
    pub history: Vec<Evaluated<A>>,
    /// Index of the best in `history`.
    pub best: Option<usize>,
    /// Best fitness per generation.
    pub trace: Vec<f64>,
    /// Counters.
    pub counts: Counts,
    /// Wall time, s.
    pub seconds: f64,
}

impl<A> Run<A> {
    /// The best subnet.
    pub fn best(&self) -> Option<&Evaluated<A>> {
        self.best.map(|b| &self.history[b])
    }
}

/// Runs one search to completion.
#[allow(clippy::too_many_arguments)]
pub fn run_one<S: SearchSpace>(
    space: &S,
    eff: &dyn Efficiency<S::Arch>,
    quality: &dyn Quality<S::Arch>,
    spec: SearchSpec,
    algorithm: Algorithm,
    params: EvolutionParams,
    seed: u64,
    label: String,
) -> Result<Run<S::Arch>, NasError> {
    spec.check_provided(&eff.provides(), &eff.label())?;
    let t0 = Instant::now();
    let mut s = match algorithm {
        Algorithm::Evolution => Evolution::new(space, params, spec.clone(), seed)?,
        Algorithm::Random => Evolution::random(space, params.evaluations(), spec.clone(), seed)?,
    };
    drive(&mut s, eff, quality)?;
    let best = s.best().map(|b| {
        s.history()
            .iter()
            .position(|h| std::ptr::eq(h, b))
            .expect("best is in history")
    });
    Ok(Run {
        label,
        spec,
        algorithm,
        best,
        trace: s.trace().to_vec(),
        counts: s.counts(),
        history: s.history().to_vec(),
        seconds: t0.elapsed().as_secs_f64(),
    })
}

/// How the report shows quality.
pub struct QualityView {
    /// Description (predictor file or proxy definition).
    pub label: String,
    /// CSV column.
    pub column: String,
    /// True for proxies.
    pub is_proxy: bool,
    /// Axis label.
    pub axis: String,
    /// Shown value from the search's score (e.g. loss = −score).
    pub display: fn(f64) -> f64,
}

fn refs<A>(v: &[(String, Evaluated<A>, bool)]) -> Vec<(String, &Evaluated<A>, bool)> {
    v.iter().map(|(l, e, f)| (l.clone(), e, *f)).collect()
}

fn identity(x: f64) -> f64 {
    x
}

fn negate(x: f64) -> f64 {
    -x
}

/// Metrics written per subnet in summaries.
fn cost_json(e_cost: &super::efficiency::Cost) -> Value {
    json!({
        "latency_ms": e_cost.latency_ms, "energy_mj": e_cost.energy_mj, "memory_mib": e_cost.memory_mib,
        "macs_m": e_cost.macs_m, "params_m": e_cost.params_m,
    })
}

/// Largest number of history points per run drawn in the scatter.
const PLOT_POINTS_PER_RUN: usize = 1500;

/// Writes the report of `runs` into `out`; `extra` may add files per run's best subnet.
#[allow(clippy::too_many_arguments)]
pub fn write_report<S: SearchSpace>(
    out: OutDir,
    space: &S,
    runs: &[Run<S::Arch>],
    title: &str,
    cost_label: &str,
    q: &QualityView,
    x: Metric,
    settings: Value,
    mut extra: impl FnMut(
        &OutDir,
        usize,
        &Evaluated<S::Arch>,
    ) -> Result<(Value, Vec<PathBuf>), NasError>,
) -> Result<Vec<PathBuf>, NasError> {
    let mut files = Vec::new();
    let mut run_json = Vec::new();
    let mut best_rows = Vec::new();
    let mut front_rows = Vec::new();
    let mut series = Vec::new();
    let mut budgets = Vec::new();
    for (i, r) in runs.iter().enumerate() {
        let front = pareto_front(&r.history, &[x]);
        for &f in &front {
            front_rows.push((r.label.clone(), &r.history[f], true));
        }
        let mut best_json = Value::Null;
        if let Some(b) = r.best() {
            best_rows.push((
                r.label.clone(),
                b,
                front.iter().any(|&f| std::ptr::eq(&r.history[f], b)),
            ));
            let arch = space.to_json(&b.arch);
            let name = format!("best_{i}.json");
            files.push(out.write(&name, serde_json::to_string_pretty(&arch).expect("json"))?);
            let (more, written) = extra(&out, i, b)?;
            files.extend(written);
            best_json = json!({
                "arch": arch, "file": name, q.column.clone(): (q.display)(b.quality), "fitness": b.fitness,
                "cost": cost_json(&b.cost), "generation": b.generation, "extra": more,
            });
        }
        for c in &r.spec.constraints {
            if c.metric == x {
                budgets.push(c.max);
            }
        }
        run_series(r, i, &front, x, q, &mut series);
        let trace_step = (r.trace.len() / 50).max(1);
        run_json.push(json!({
            "label": r.label,
            "algorithm": format!("{:?}", r.algorithm).to_lowercase(),
            "objective": r.spec.objective,
            "constraints": r.spec.constraints,
            "best": best_json,
            "counts": r.counts,
            "seconds": r.seconds,
            "best_fitness_trace": r.trace.iter().step_by(trace_step).collect::<Vec<_>>(),
        }));
    }
    let arch_json = |a: &S::Arch| space.to_json(a);
    let to_rows = |rows: Vec<(String, &Evaluated<S::Arch>, bool)>| -> Vec<(String, Evaluated<S::Arch>, bool)> {
        rows.into_iter()
            .map(|(l, e, f)| {
                let mut e = e.clone();
                e.quality = (q.display)(e.quality);
                (l, e, f)
            })
            .collect()
    };
    let best_rows = to_rows(best_rows);
    let front_rows = to_rows(front_rows);
    files.push(out.write(
        "best.csv",
        evaluated_csv(&refs(&best_rows), &q.column, arch_json)?,
    )?);
    files.push(out.write(
        "front.csv",
        evaluated_csv(&refs(&front_rows), &q.column, arch_json)?,
    )?);
    let png_note = write_front_plot(
        &out,
        (title, cost_label),
        q,
        x,
        (&series, &budgets),
        &mut files,
    )?;
    let summary = json!({
        "title": title,
        "space": space.name(),
        "cost_model": cost_label,
        "quality": {"label": q.label, "column": q.column, "is_proxy": q.is_proxy,
                    "note": if q.is_proxy { "a PROXY score, not an accuracy" } else { "predicted accuracy" }},
        "settings": settings,
        "runs": run_json,
        "plot": {"files": ["front.svg", "front.png"], "png_error": png_note},
    });
    files.push(out.write(
        "summary.json",
        serde_json::to_string_pretty(&summary).expect("json"),
    )?);
    out.finish()?;
    Ok(files)
}

/// The scatter's series of run `r` (the `i`th): a sample of its evaluated subnets, its front
/// (indices `front` into its history) and its best, on metric `x` against quality.
fn run_series<A>(
    r: &Run<A>,
    i: usize,
    front: &[usize],
    x: Metric,
    q: &QualityView,
    series: &mut Vec<Series>,
) {
    let step = r.history.len().div_ceil(PLOT_POINTS_PER_RUN).max(1);
    let cloud: Vec<(f64, f64)> = r
        .history
        .iter()
        .step_by(step)
        .filter_map(|e| Some((e.cost.get(x)?, (q.display)(e.quality))))
        .collect();
    series.push(Series {
        label: format!("{}: evaluated (every {step})", r.label),
        points: cloud,
        color: 2 * i + 1,
        size: 1,
        line: false,
    });
    series.push(Series {
        label: format!("{}: front (large dot: best)", r.label),
        points: front
            .iter()
            .filter_map(|&f| Some((r.history[f].cost.get(x)?, (q.display)(r.history[f].quality))))
            .collect(),
        color: 2 * i,
        size: 3,
        line: true,
    });
    if let Some(b) = r.best()
        && let Some(v) = b.cost.get(x)
    {
        series.push(Series {
            label: String::new(),
            points: vec![(v, (q.display)(b.quality))],
            color: 2 * i,
            size: 7,
            line: false,
        });
    }
}

/// Writes the front's scatter as `front.svg` and, where a system font allows, `front.png`,
/// adding them to `files`; returns why the PNG was not written (null when it was).
fn write_front_plot(
    out: &OutDir,
    (title, cost_label): (&str, &str),
    q: &QualityView,
    x: Metric,
    (series, budgets): (&[Series], &[f64]),
    files: &mut Vec<PathBuf>,
) -> Result<Value, NasError> {
    let note = if q.is_proxy {
        format!("y = {} | cost: {cost_label}", q.label)
    } else {
        format!("y: {} | cost: {cost_label}", q.label)
    };
    let plot_title = if q.is_proxy {
        format!("{title} (PROXY, not accuracy)")
    } else {
        title.to_string()
    };
    let mut short_note = note.clone();
    if short_note.chars().count() > 160 {
        short_note = short_note.chars().take(157).collect::<String>() + "...";
    }
    files.push(out.write(
        "front.svg",
        scatter_svg(&plot_title, x, &q.axis, series, budgets, &short_note)?,
    )?);
    let png = out.staging_file("front.png");
    // the PNG needs a system font; without one the SVG alone is the plot
    let png_note = match scatter_png(&png, &plot_title, x, &q.axis, series, budgets, &short_note) {
        Ok(()) => {
            files.push(out.shown("front.png"));
            Value::Null
        }
        Err(e) => json!(format!("front.png not written: {e}")),
    };
    Ok(png_note)
}

/// Where subnet costs come from.
#[derive(Clone, Debug)]
pub enum CostSource {
    /// An archscope device.
    Archscope {
        /// Device name or path.
        hw: String,
        /// Unit (default unit when `None`).
        unit: Option<String>,
        /// Roofline mode.
        mode: Mode,
        /// Numeric precision of the CNN.
        precision: Precision,
        /// Runtime name or file (`None`: the device's default for networks on the unit;
        /// `ideal` in the ideal mode).
        runtime: Option<String>,
        /// CPU threads (`None`: all the unit's cores).
        threads: Option<u64>,
    },
    /// OFA latency look-up tables (files or directories).
    Lut(Vec<PathBuf>),
    /// MACs only.
    Macs,
}

/// The objective family chosen on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ObjectiveKind {
    /// Maximise accuracy under the constraints.
    Constrained,
    /// MnasNet soft reward (α = β = −0.07) around the latency target.
    MnasSoft,
    /// MnasNet hard reward (α = 0, β = −1) around the latency target.
    MnasHard,
    /// Pareto front of accuracy vs latency (and energy and memory when available).
    Pareto,
}

/// A `search ofa` request.
#[derive(Clone, Debug)]
pub struct OfaRequest {
    /// `mbv3-w1.0`, `mbv3-w1.2`, `proxyless`, `resnet50`.
    pub space: String,
    /// Override of the space's resolutions.
    pub resolutions: Option<Vec<u32>>,
    /// Cost side.
    pub cost: CostSource,
    /// Accuracy predictor file; a labelled proxy when `None`.
    pub acc_predictor: Option<PathBuf>,
    /// Latency budgets (ms): one run each (or the MnasNet targets).
    pub latency_budgets: Vec<f64>,
    /// Other hard limits.
    pub max_energy_mj: Option<f64>,
    /// Memory limit, MiB.
    pub max_memory_mib: Option<f64>,
    /// MAC limit, millions.
    pub max_macs_m: Option<f64>,
    /// Objective.
    pub objective: ObjectiveKind,
    /// Algorithm.
    pub algorithm: Algorithm,
    /// Hyperparameters.
    pub params: EvolutionParams,
    /// Seed.
    pub seed: u64,
    /// Output directory.
    pub out: PathBuf,
    /// Overwrite a non-empty output directory.
    pub force: bool,
}

/// The searches a request asks for: one per latency budget (or one Pareto search).
fn build_specs(
    req: &OfaRequest,
    provided: &[Metric],
) -> Result<Vec<(String, SearchSpec)>, NasError> {
    let mut extra: Vec<Constraint> = Vec::new();
    if let Some(m) = req.max_energy_mj {
        extra.push(Constraint {
            metric: Metric::Energy,
            max: m,
        });
    }
    if let Some(m) = req.max_memory_mib {
        extra.push(Constraint {
            metric: Metric::Memory,
            max: m,
        });
    }
    if let Some(m) = req.max_macs_m {
        extra.push(Constraint {
            metric: Metric::Macs,
            max: m,
        });
    }
    let mut specs: Vec<(String, SearchSpec)> = Vec::new();
    let lat_label = |b: f64| format!("latency<={b}ms");
    match req.objective {
        ObjectiveKind::Constrained => {
            if req.latency_budgets.is_empty() {
                if extra.is_empty() {
                    return Err(NasError::invalid(
                        "search",
                        "constraints",
                        "no constraint: give --max-latency-ms (or energy, memory, MACs limits), or --objective pareto",
                    ));
                }
                specs.push((
                    "constrained".into(),
                    SearchSpec {
                        objective: Objective::Constrained,
                        constraints: extra.clone(),
                    },
                ));
            }
            for &b in &req.latency_budgets {
                let mut c = extra.clone();
                c.push(Constraint {
                    metric: Metric::Latency,
                    max: b,
                });
                specs.push((
                    lat_label(b),
                    SearchSpec {
                        objective: Objective::Constrained,
                        constraints: c,
                    },
                ));
            }
        }
        ObjectiveKind::MnasSoft | ObjectiveKind::MnasHard => {
            if req.latency_budgets.is_empty() {
                return Err(NasError::invalid(
                    "search",
                    "--max-latency-ms",
                    "the MnasNet reward needs a latency target",
                ));
            }
            let (alpha, beta) = if req.objective == ObjectiveKind::MnasSoft {
                (MNAS_SOFT_W, MNAS_SOFT_W)
            } else {
                MNAS_HARD_W
            };
            for &b in &req.latency_budgets {
                specs.push((
                    format!("mnas(T={b}ms)"),
                    SearchSpec {
                        objective: Objective::Mnas {
                            metric: Metric::Latency,
                            target: b,
                            alpha,
                            beta,
                        },
                        constraints: extra.clone(),
                    },
                ));
            }
        }
        ObjectiveKind::Pareto => {
            let metrics: Vec<Metric> = [Metric::Latency, Metric::Energy, Metric::Memory]
                .into_iter()
                .filter(|m| provided.contains(m))
                .collect();
            let mut c = extra.clone();
            if let Some(&b) = req.latency_budgets.iter().max_by(|a, b| a.total_cmp(b)) {
                c.push(Constraint {
                    metric: Metric::Latency,
                    max: b,
                });
            }
            specs.push((
                "pareto".into(),
                SearchSpec {
                    objective: Objective::Pareto { metrics },
                    constraints: c,
                },
            ));
        }
    }
    for (_, spec) in &specs {
        spec.check_provided(provided, "the cost side")?;
    }
    Ok(specs)
}

/// Runs the request's searches on one space, creating the output directory once they are known
/// to be valid.
/// The output directory and the finished runs.
type Runs<A> = (OutDir, Vec<Run<A>>);

fn ofa_runs<S: NetSpace>(
    req: &OfaRequest,
    space: &S,
    eff: &dyn Efficiency<S::Arch>,
    quality: &dyn Quality<S::Arch>,
) -> Result<Runs<S::Arch>, NasError> {
    let specs = build_specs(req, &eff.provides())?;
    // a predictor that cannot encode some resolution or choice of the space fails here, before
    // any search (and before the output directory exists)
    quality.predict(&space.covering_archs())?;
    let out = OutDir::create(&req.out, req.force)?;
    let runs = specs
        .into_iter()
        .map(|(label, spec)| {
            run_one(
                space,
                eff,
                quality,
                spec,
                req.algorithm,
                req.params,
                req.seed,
                label,
            )
        })
        .collect::<Result<_, _>>()?;
    Ok((out, runs))
}

fn settings_json(req: &OfaRequest) -> Value {
    json!({
        "space": req.space, "resolutions": req.resolutions, "latency_budgets_ms": req.latency_budgets,
        "max_energy_mj": req.max_energy_mj, "max_memory_mib": req.max_memory_mib, "max_macs_m": req.max_macs_m,
        "objective": format!("{:?}", req.objective), "algorithm": format!("{:?}", req.algorithm),
        "evolution": req.params, "seed": req.seed,
        "acc_predictor": req.acc_predictor.as_ref().map(|p| p.display().to_string()),
    })
}

fn human_summary<A>(runs: &[Run<A>], q: &QualityView, files: &[PathBuf]) -> String {
    let mut s = String::new();
    if q.is_proxy {
        s += &format!("NOTE: {}\n", q.label);
    }
    for r in runs {
        match r.best() {
            Some(b) => {
                s += &format!(
                    "{:<22} best {} = {:.3}, latency {} ms, energy {} mJ, memory {} MiB, {:.1} M MACs ({} scored, {} rejected, {:.2} s)\n",
                    r.label,
                    q.column,
                    (q.display)(b.quality),
                    b.cost.latency_ms.map_or("-".into(), |v| format!("{v:.2}")),
                    b.cost.energy_mj.map_or("-".into(), |v| format!("{v:.2}")),
                    b.cost.memory_mib.map_or("-".into(), |v| format!("{v:.1}")),
                    b.cost.macs_m,
                    r.counts.quality_evaluations,
                    r.counts.rejected,
                    r.seconds
                )
            }
            None => s += &format!("{:<22} no subnet found\n", r.label),
        }
    }
    s += "wrote:\n";
    for f in files {
        s += &format!("  {}\n", f.display());
    }
    s
}

fn load_lut(paths: &[PathBuf]) -> Result<LatencyTable, NasError> {
    let refs: Vec<&Path> = paths.iter().map(PathBuf::as_path).collect();
    LatencyTable::load(&refs)
}

fn quality_view<A>(q: &dyn Quality<A>) -> QualityView {
    QualityView {
        label: q.label(),
        column: q.column(),
        is_proxy: q.is_proxy(),
        axis: if q.is_proxy() {
            format!("{} (PROXY, not accuracy)", q.column())
        } else {
            "predicted top-1 (%)".into()
        },
        display: identity,
    }
}

/// The runtime networks are priced under on unit `unit` of `hw`: the one named, else the
/// device's default for networks on the unit, or the ideal runtime in the ideal mode (as
/// `score` resolves it).
pub fn network_runtime(
    name: Option<&str>,
    mode: Mode,
    hw: &Hardware,
    unit: usize,
) -> Result<crate::runtime::Runtime, NasError> {
    crate::runtime::resolve_flag(
        name,
        mode == Mode::Ideal,
        hw,
        unit,
        crate::runtime::WorkloadKind::Network,
    )
    .map_err(|e| NasError::Search(e.to_string()))
}

fn mb_or_resnet<S: NetSpace>(
    req: &OfaRequest,
    space: &S,
    quality: &dyn Quality<S::Arch>,
    hw: Option<&Hardware>,
) -> Result<String, NasError> {
    let ((out, runs), cost_label) = match &req.cost {
        CostSource::Archscope {
            unit,
            mode,
            precision,
            runtime,
            threads,
            ..
        } => {
            let hw = hw.expect("loaded above");
            let u = hw
                .unit_index(unit.as_deref())
                .map_err(crate::score::ScoreError::from)?;
            let runtime = network_runtime(runtime.as_deref(), *mode, hw, u)?;
            let eff = ArchscopeEfficiency::new(space, hw, u, *mode, *precision)?
                .with_runtime(&runtime, *threads)?;
            (ofa_runs(req, space, &eff, quality)?, eff.label())
        }
        CostSource::Lut(paths) => {
            let eff = LutEfficiency::new(space, load_lut(paths)?)?;
            (ofa_runs(req, space, &eff, quality)?, eff.label())
        }
        CostSource::Macs => {
            let eff = MacsEfficiency(space);
            (ofa_runs(req, space, &eff, quality)?, eff.label())
        }
    };
    let x = if matches!(req.cost, CostSource::Macs) {
        Metric::Macs
    } else {
        Metric::Latency
    };
    let qv = quality_view(quality);
    let files = write_report(
        out,
        space,
        &runs,
        &format!("OFA subnet search: {}", space.name()),
        &cost_label,
        &qv,
        x,
        settings_json(req),
        |_, _, _| Ok((Value::Null, Vec::new())),
    )?;
    Ok(human_summary(&runs, &qv, &files))
}

/// Runs `search ofa`: returns a human summary; writes the report directory.
pub fn search_ofa(req: &OfaRequest) -> Result<String, NasError> {
    req.params.validate()?;
    let hw = match &req.cost {
        CostSource::Archscope { hw, .. } => {
            Some(Hardware::load(hw).map_err(crate::score::ScoreError::from)?)
        }
        _ => None,
    };
    if req.space == "resnet50" || req.space == "ofa_resnet50" {
        let mut space = ResNetSpace::default();
        if let Some(r) = &req.resolutions {
            space.resolutions = r.clone();
        }
        if matches!(req.cost, CostSource::Lut(_)) {
            return Err(NasError::invalid(
                "--lut",
                "space",
                "OFA latency tables exist for the MobileNet spaces only",
            ));
        }
        return match &req.acc_predictor {
            Some(p) => {
                let q = MlpPredictor::load(p, ResNetOneHot::new(&space), OFA_RESNET_PREDICTOR)?;
                mb_or_resnet::<ResNetSpace>(req, &space, &q, hw.as_ref())
            }
            None => mb_or_resnet(req, &space, &MacsProxy(&space), hw.as_ref()),
        };
    }
    let mut space = MbSpace::by_name(&req.space).ok_or_else(|| {
        NasError::invalid(
            "--space",
            &req.space,
            "expected mbv3-w1.0, mbv3-w1.2, proxyless or resnet50",
        )
    })?;
    if let Some(r) = &req.resolutions {
        space.resolutions = r.clone();
    }
    if let CostSource::Lut(paths) = &req.cost {
        // search only the resolutions the tables cover, unless the user chose them
        if req.resolutions.is_none() {
            let t = load_lut(paths)?;
            space.resolutions.retain(|r| t.tables.contains_key(r));
            if space.resolutions.is_empty() {
                space.resolutions = t.resolutions();
            }
        }
    }
    match &req.acc_predictor {
        Some(p) => {
            // the tutorial predictor was trained on the w1.2 space; say so when used elsewhere
            let desc = if space.name == MbSpace::mbv3(1.2).name {
                OFA_MBV3_PREDICTOR.to_string()
            } else {
                format!(
                    "{OFA_MBV3_PREDICTOR}; NOTE: applied to {}, a space it was not trained on",
                    space.name
                )
            };
            let q: MlpPredictor<MbOneHot> = MlpPredictor::load(p, MbOneHot::new(&space), &desc)?;
            mb_or_resnet::<MbSpace>(req, &space, &q, hw.as_ref())
        }
        None => mb_or_resnet(req, &space, &MacsProxy(&space), hw.as_ref()),
    }
}

/// A `search llm` request.
#[derive(Clone, Debug)]
pub struct LlmRequest {
    /// Base model: a shipped short name or a path to a config.json.
    pub base: String,
    /// Device.
    pub hw: String,
    /// Unit.
    pub unit: Option<String>,
    /// Roofline mode.
    pub mode: Mode,
    /// Runtime name or file (`None`: the device's default for LLMs on the unit; `ideal` in
    /// the ideal mode).
    pub runtime: Option<String>,
    /// CPU threads (`None`: all the unit's cores).
    pub threads: Option<u64>,
    /// Memory limit, bytes.
    pub max_memory_bytes: Option<f64>,
    /// Decode latency per token limit, ms.
    pub max_tpot_ms: Option<f64>,
    /// Decode energy per token limit, mJ.
    pub max_energy_mj: Option<f64>,
    /// Decode context length.
    pub context: u64,
    /// Quantization schemes searched (empty: [`crate::nas::llm::default_quants_for`] the
    /// runtime).
    pub quants: Vec<String>,
    /// Extra or overriding loss penalties per scheme.
    pub penalties: Vec<(String, f64)>,
    /// Training tokens for the scaling law.
    pub train_tokens: f64,
    /// A fitted predictor file (from `search fit --space llm`), else the proxy.
    pub predictor: Option<PathBuf>,
    /// Pareto (loss vs TPOT vs memory) instead of a constrained optimum.
    pub pareto: bool,
    /// Algorithm.
    pub algorithm: Algorithm,
    /// Hyperparameters.
    pub params: EvolutionParams,
    /// Seed.
    pub seed: u64,
    /// Output directory.
    pub out: PathBuf,
    /// Overwrite.
    pub force: bool,
}

/// Reads a base model: its parsed config and its raw JSON.
pub fn load_base(name: &str) -> Result<(Value, crate::workload::LlmConfig), NasError> {
    let cfg = crate::workload::load_llm(name)
        .map_err(|e| NasError::invalid(name, "model", e.to_string()))?;
    let path = Path::new(name);
    let source = crate::workload::llm_source(name)
        .map_err(|e| NasError::invalid(name, "model", e.to_string()))?;
    let text = if let Some((_, _, text)) = source {
        text
    } else if path.is_file() {
        NasError::read(path)?
    } else {
        let file = format!("{}.json", name.trim_end_matches(".json"));
        crate::embedded::WORKLOADS
            .iter()
            .find(|(f, _)| *f == file)
            .map(|(_, t)| t.to_string())
            .ok_or_else(|| NasError::invalid(name, "model", "not found"))?
    };
    let mut v: Value = serde_json::from_str(&text).map_err(|e| NasError::json(name, &e))?;
    let Some(fields) = v.as_object_mut() else {
        return Err(NasError::invalid(name, "config", "expected a JSON object"));
    };
    // A GGUF file's tensor types belong to its shapes, not to the shapes the search tries.
    fields.remove("gguf");
    let mut cfg = cfg;
    cfg.raw.gguf = None;
    Ok((v, cfg))
}

/// Runs `search llm`.
pub fn search_llm(req: &LlmRequest) -> Result<String, NasError> {
    req.params.validate()?;
    let hw = Hardware::load(&req.hw).map_err(crate::score::ScoreError::from)?;
    let unit = hw
        .unit_index(req.unit.as_deref())
        .map_err(crate::score::ScoreError::from)?;
    let runtime = crate::runtime::resolve_flag(
        req.runtime.as_deref(),
        req.mode == Mode::Ideal,
        &hw,
        unit,
        crate::runtime::WorkloadKind::Llm,
    )
    .map_err(|e| NasError::Search(e.to_string()))?;
    let quants = if req.quants.is_empty() {
        crate::nas::llm::default_quants_for(&runtime)
    } else {
        req.quants.clone()
    };
    let (json, cfg) = load_base(&req.base)?;
    let space = LlmSpace::new(&req.base, json, cfg, &quants, &req.penalties)?;
    let eff = LlmEfficiency::new(&space, &hw, unit, req.mode, req.context)?
        .with_runtime(&runtime, req.threads)?;
    let mut constraints = Vec::new();
    if let Some(b) = req.max_memory_bytes {
        constraints.push(Constraint {
            metric: Metric::Memory,
            max: b / (1u64 << 20) as f64,
        });
    }
    if let Some(t) = req.max_tpot_ms {
        constraints.push(Constraint {
            metric: Metric::Latency,
            max: t,
        });
    }
    if let Some(e) = req.max_energy_mj {
        constraints.push(Constraint {
            metric: Metric::Energy,
            max: e,
        });
    }
    if constraints.is_empty() && !req.pareto {
        return Err(NasError::invalid(
            "search llm",
            "constraints",
            "give --max-memory, --max-tpot-ms or --max-energy-mj, or --pareto",
        ));
    }
    let spec = SearchSpec {
        objective: if req.pareto {
            Objective::Pareto {
                metrics: vec![Metric::Latency, Metric::Memory],
            }
        } else {
            Objective::Constrained
        },
        constraints,
    };
    let proxy = ScalingLawProxy {
        space: &space,
        tokens: req.train_tokens,
    };
    let fitted;
    let (quality, qv): (&dyn Quality<_>, QualityView) = match &req.predictor {
        Some(p) => {
            fitted = MlpPredictor::load(p, LlmFeatures(&space), "fitted LLM accuracy predictor")?;
            let qv = quality_view(&fitted);
            (&fitted, qv)
        }
        None => (
            &proxy,
            QualityView {
                label: proxy.label(),
                column: "proxy_loss_nats".into(),
                is_proxy: true,
                axis: "proxy LM loss, nats/token (lower is better; NOT accuracy)".into(),
                display: negate,
            },
        ),
    };
    let label = if req.pareto {
        "pareto".to_string()
    } else {
        "constrained".to_string()
    };
    let out = OutDir::create(&req.out, req.force)?;
    let run = run_one(
        &space,
        &eff,
        quality,
        spec,
        req.algorithm,
        req.params,
        req.seed,
        label,
    )?;
    let runs = vec![run];
    let settings = json!({
        "base": req.base, "context": req.context, "quants": req.quants, "penalties": space.quants.iter().map(|(q, p)| json!({"scheme": q.name, "loss_penalty_nats": p})).collect::<Vec<_>>(),
        "train_tokens": req.train_tokens, "max_memory_bytes": req.max_memory_bytes, "max_tpot_ms": req.max_tpot_ms,
        "max_energy_mj": req.max_energy_mj, "evolution": req.params, "seed": req.seed, "space_size": space.size(),
        "choices": {"layers": space.layers, "hidden": space.hidden, "heads": space.heads, "kv_heads": space.kv_heads, "ffn": space.ffn, "tied": space.tied},
    });
    let proxy_terms = |a: &super::llm::LlmArch| proxy.terms(a);
    let files = write_report(
        out,
        &space,
        &runs,
        &format!("LLM shape + quantization search around {}", req.base),
        &eff.label(),
        &qv,
        Metric::Latency,
        settings,
        |out, i, b| {
            let cfg = space.config_json(&b.arch);
            let name = format!("best_{i}_config.json");
            let f = out.write(&name, serde_json::to_string_pretty(&cfg).expect("json"))?;
            let t = proxy_terms(&b.arch)?;
            Ok((
                json!({
                    "config_json": name, "quant": space.quants[b.arch.quant as usize].0.name,
                    "proxy_loss_terms": {"params": t.params, "chinchilla": t.chinchilla, "depth_correction": t.depth, "quant_penalty": t.quant, "total": t.total()},
                }),
                vec![f],
            ))
        },
    )?;
    Ok(human_summary(&runs, &qv, &files))
}

/// Default training tokens, re-exported for the CLI default.
pub const LLM_DEFAULT_TRAIN_TOKENS: f64 = DEFAULT_TRAIN_TOKENS;

/// Fits a predictor from a CSV and writes it as safetensors; returns a summary with the
/// held-out error.
pub fn fit_predictor(
    space: &str,
    csv: &Path,
    kind: FitKind,
    seed: u64,
    out: &Path,
    force: bool,
) -> Result<String, NasError> {
    refuse_existing(out, force)?;
    let (fitted, enc_name, n) = if space == "resnet50" || space == "ofa_resnet50" {
        let s = ResNetSpace::default();
        let samples = read_samples(csv, |t, p| {
            let v: Value = serde_json::from_str(t).map_err(|e| NasError::json(p, &e))?;
            ResNetArch::from_json(&v, &s, p)
        })?;
        let enc = ResNetOneHot::new(&s);
        (
            fit(&samples, &enc, kind, seed)?,
            super::predictor::Encoder::<ResNetArch>::name(&enc),
            samples.len(),
        )
    } else {
        let s = MbSpace::by_name(space)
            .ok_or_else(|| NasError::invalid("--space", space, "unknown space"))?;
        let samples = read_samples(csv, |t, p| MbArch::from_str(t, &s, p))?;
        let enc = MbOneHot::new(&s);
        (
            fit(&samples, &enc, kind, seed)?,
            super::predictor::Encoder::<MbArch>::name(&enc),
            samples.len(),
        )
    };
    let fit_desc = format!(
        "{} on {} samples of {}; held-out RMSE {:.3} pts (MAE {:.3}) on {} samples vs {:.3} pts predicting the mean",
        fitted.description,
        n,
        csv.display(),
        fitted.holdout_rmse_pct,
        fitted.holdout_mae_pct,
        fitted.n_test,
        fitted.baseline_rmse_pct
    );
    save_predictor(&fitted, enc_name, fit_desc, out, force)
}

/// Refuses to overwrite an existing output file `out` unless `force` is given.
fn refuse_existing(out: &Path, force: bool) -> Result<(), NasError> {
    if out.exists() && !force {
        return Err(NasError::invalid(
            out.display().to_string(),
            "output",
            "exists; pass --force to overwrite",
        ));
    }
    Ok(())
}

/// Writes a fitted predictor to `out` as safetensors, its metadata naming the feature encoding
/// `enc_name` and the fit `desc`; returns the description and the path written.
fn save_predictor(
    fitted: &super::predictor::Fitted,
    enc_name: String,
    desc: String,
    out: &Path,
    force: bool,
) -> Result<String, NasError> {
    let meta = [
        ("archscope_encoding".to_string(), enc_name),
        ("archscope_fit".to_string(), desc.clone()),
    ]
    .into_iter()
    .collect();
    let bytes = fitted
        .mlp
        .to_safetensors(meta)
        .map_err(|m| NasError::invalid(out.display().to_string(), "safetensors", m))?;
    crate::util::output::write_new(out, &bytes, force).map_err(|e| NasError::Io {
        path: out.display().to_string(),
        action: "cannot write",
        source: std::io::Error::other(e.to_string()),
    })?;
    Ok(format!("{desc}\nwrote {}\n", out.display()))
}

/// Default preset name → hyperparameters.
pub fn preset(name: &str) -> Option<EvolutionParams> {
    match name {
        "ofa" => Some(EvolutionParams::ofa()),
        "tutorial" => Some(EvolutionParams::ofa_tutorial()),
        "hat" => Some(EvolutionParams::hat()),
        _ => None,
    }
}

/// Fits with `kind` from a CSV of LLM subnets (`arch` JSON with `quant`, and `top1`/`accuracy`).
pub fn fit_llm_predictor(
    base: &str,
    quants: &[String],
    csv: &Path,
    kind: FitKind,
    seed: u64,
    out: &Path,
    force: bool,
) -> Result<String, NasError> {
    refuse_existing(out, force)?;
    let (json, cfg) = load_base(base)?;
    let space = LlmSpace::new(base, json, cfg, quants, &[])?;
    let samples = read_samples(csv, |t, p| space.arch_from_json(t, p))?;
    let enc = LlmFeatures(&space);
    let fitted = fit(&samples, &enc, kind, seed)?;
    let desc = format!(
        "{} on {} samples; held-out RMSE {:.3} pts vs {:.3} predicting the mean",
        fitted.description,
        samples.len(),
        fitted.holdout_rmse_pct,
        fitted.baseline_rmse_pct
    );
    let enc_name = super::predictor::Encoder::<super::llm::LlmArch>::name(&enc);
    save_predictor(&fitted, enc_name, desc, out, force)
}
