//! Scoring a model on a device: build the graphs, price every op with a cost model, and derive
//! the metrics and the memory footprint. LLMs get prefill and decode phases (TTFT, TPOT,
//! tokens/s, J/token); vision networks and encoders get one forward phase (images or sequences
//! per second, J per image or sequence). Also renders results as a table, JSON or CSV for
//! `archscope score`.

use crate::cost::{Bound, Evaluation, Infeasible, Ledger, Mode, SelectError, evaluate, residency};
use crate::cost_models::model_for;
use crate::hardware::Hardware;
#[cfg(feature = "solver")]
use crate::mapping::{MappedError, MappingError, MappingRequest, UnitMapping, evaluate_mapped};
use crate::runtime::apply::ApplyError;
use crate::runtime::{Runtime, RuntimeView, Scales, WorkloadKind};
use crate::trust::bands::{Band, band};
use crate::trust::overlay::Overlay;
use crate::workload::{Graph, LlmConfig, ModelError, Phase, QuantScheme, Sample, VisionModel};
use serde::Serialize;
use std::fmt::Write as _;

/// What to score.
#[derive(Clone, Debug)]
pub struct ScoreRequest {
    /// Sequences per step.
    pub batch: u64,
    /// Prompt tokens of the prefill phase.
    pub prompt: u64,
    /// KV-cache length of the decode phase.
    pub context: u64,
    /// Score prefill.
    pub prefill: bool,
    /// Score decode.
    pub decode: bool,
    /// Unit name; the device's default when `None`.
    pub unit: Option<String>,
    /// Ideal or calibrated roofline.
    pub mode: Mode,
    /// The software stack that runs the model ([`Runtime::ideal`]: none).
    pub runtime: Runtime,
    /// CPU threads (the CPU model's thread count); the unit's default when `None`.
    pub threads: Option<u64>,
    /// A calibration's corrections to the (device, runtime) pair (identity: none).
    pub scales: Scales,
    /// A calibration overlay for the device and runtime: its corrections replace `scales`, and
    /// its cross-validated errors give the error band.
    pub calibration: Option<Overlay>,
}

/// One priced phase.
#[derive(Clone, Debug)]
pub struct PhaseScore {
    /// Which phase.
    pub phase: Phase,
    /// Its graph.
    pub graph: Graph,
    /// Per-op ledgers and total.
    pub eval: Evaluation,
    /// Tokens processed (prompt tokens for prefill, generated tokens for decode).
    pub tokens: f64,
}

impl PhaseScore {
    /// Tokens per second.
    pub fn tokens_per_s(&self) -> f64 {
        self.tokens / self.eval.total.latency_s
    }
    /// Joules per token.
    pub fn j_per_token(&self) -> f64 {
        self.eval.total.energy_j() / self.tokens
    }
}

/// Memory footprint and whether it fits the unit's main memory.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Footprint {
    /// Weights, scales included; a tied embedding counts once.
    pub weights_bytes: f64,
    /// KV cache at the largest length scored.
    pub kv_cache_bytes: f64,
    /// Peak live activations.
    pub activation_peak_bytes: f64,
    /// Sum of the three.
    pub total_bytes: f64,
    /// Usable bytes of the unit's main memory.
    pub capacity_bytes: f64,
    /// Name of that memory level.
    pub level: String,
    /// Total ≤ capacity (and, with a weight store, the weights fit it).
    pub fits: bool,
    /// Where the unit reads the weights in place from read-only storage (a microcontroller's
    /// flash): that level, its capacity and whether the weights fit. The weights then do not
    /// count against main memory, and `activation_peak_bytes` is the smallest peak of live
    /// activations over all schedules (the scratchpad mapper's `M_P`, with activations fused
    /// into their producers), which is what must fit the SRAM.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weight_store: Option<WeightStore>,
}

/// The read-only level that holds a model's weights in place (see [`Footprint::weight_store`]).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct WeightStore {
    /// Name of the level (e.g. `flash`).
    pub level: String,
    /// Its usable bytes.
    pub capacity_bytes: f64,
    /// Weights ≤ capacity.
    pub fits: bool,
}

impl Footprint {
    /// The footprint in one line: each part in MB, the total against the usable capacity of its
    /// level, and whether it fits.
    pub fn line(&self) -> String {
        if let Some(w) = &self.weight_store {
            return format!(
                "weights {:.3} MB of {:.3} MB {} → {}; KV cache {:.3} MB + activations {:.3} MB (peak under the scheduled order) = {:.3} MB of {:.3} MB usable {} → {}",
                self.weights_bytes / 1e6,
                w.capacity_bytes / 1e6,
                w.level,
                if w.fits { "fits" } else { "DOES NOT FIT" },
                self.kv_cache_bytes / 1e6,
                self.activation_peak_bytes / 1e6,
                self.total_bytes / 1e6,
                self.capacity_bytes / 1e6,
                self.level,
                if self.total_bytes <= self.capacity_bytes {
                    "fits"
                } else {
                    "DOES NOT FIT"
                }
            );
        }
        format!(
            "weights {:.1} MB + KV cache {:.1} MB + activations {:.1} MB = {:.1} MB of {:.1} MB usable {} → {}",
            self.weights_bytes / 1e6,
            self.kv_cache_bytes / 1e6,
            self.activation_peak_bytes / 1e6,
            self.total_bytes / 1e6,
            self.capacity_bytes / 1e6,
            self.level,
            if self.fits { "fits" } else { "DOES NOT FIT" }
        )
    }
}

/// A complete score of one model on one unit of one device.
#[derive(Clone, Debug)]
pub struct Score {
    /// Device name.
    pub hardware: String,
    /// Unit name.
    pub unit: String,
    /// Model name.
    pub model: String,
    /// Quantization scheme.
    pub quant: String,
    /// Roofline mode.
    pub mode: Mode,
    /// Runtime name.
    pub runtime: String,
    /// Batch.
    pub batch: u64,
    /// Priced phases.
    pub phases: Vec<PhaseScore>,
    /// Footprint.
    pub memory: Footprint,
    /// How far the times can be trusted (`None`: no measurements of this kind of unit).
    pub band: Option<Band>,
}

/// Errors of `score` that are not infeasibility.
#[derive(Debug, thiserror::Error)]
pub enum ScoreError {
    /// Bad hardware reference.
    #[error(transparent)]
    Hardware(#[from] crate::hardware::HardwareError),
    /// A phase cannot run on the unit.
    #[error(transparent)]
    Infeasible(#[from] Infeasible),
    /// The unit's cost model cannot be set up (unknown model or bad params).
    #[error(transparent)]
    CostModel(#[from] SelectError),
    /// A request that makes no sense.
    #[error("{0}")]
    Request(String),
    /// The model cannot be built as asked.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// The runtime cannot be applied to the unit as asked (threads).
    #[error(transparent)]
    Runtime(#[from] ApplyError),
    /// A priced phase whose latency or energy is not a finite positive number (a figure of the
    /// device so extreme that the arithmetic leaves the floating-point range), which no metric
    /// may print as a number.
    #[error(
        "{phase}: the {metric} is {value:e}; expected a finite positive number (check the device's figures: a bandwidth or peak this extreme leaves the floating-point range)"
    )]
    NotFinite {
        /// The phase priced (`prefill`, `decode`, `forward`).
        phase: String,
        /// `latency` or `energy`.
        metric: &'static str,
        /// The value computed.
        value: f64,
    },
    /// The scratchpad mapping asked for cannot be made.
    #[cfg(feature = "solver")]
    #[error(transparent)]
    Mapping(#[from] MappingError),
}

#[cfg(feature = "solver")]
impl From<MappedError> for ScoreError {
    fn from(e: MappedError) -> Self {
        match e {
            MappedError::Mapping(e) => ScoreError::Mapping(e),
            MappedError::Model(e) => ScoreError::CostModel(e),
            MappedError::Infeasible(e) => ScoreError::Infeasible(e),
        }
    }
}

/// Memory footprint of a set of graphs of the same model on `unit`.
pub fn footprint(hw: &Hardware, unit: usize, graphs: &[&Graph]) -> Footprint {
    let weights = graphs.iter().map(|g| g.weight_bytes()).fold(0.0, f64::max);
    let kv = graphs
        .iter()
        .map(|g| g.kv_cache_bytes())
        .fold(0.0, f64::max);
    let main = hw.main_memory(unit);
    let store = hw.weight_store(unit).map(|l| WeightStore {
        level: hw.memories[l].name.clone(),
        capacity_bytes: hw.memories[l].usable_bytes,
        fits: weights <= hw.memories[l].usable_bytes,
    });
    // Weights read in place from flash count against the flash, not main memory, and the
    // activations that must fit the SRAM are those of the best schedule.
    let (peak, in_main): (fn(&Graph) -> f64, f64) = match store {
        Some(_) => (scheduled_activation_peak, 0.0),
        None => (Graph::peak_activation_bytes, weights),
    };
    let act = graphs.iter().map(|g| peak(g)).fold(0.0, f64::max);
    let total = in_main + kv + act;
    Footprint {
        weights_bytes: weights,
        kv_cache_bytes: kv,
        activation_peak_bytes: act,
        total_bytes: total,
        capacity_bytes: main.usable_bytes,
        level: main.name.clone(),
        fits: total <= main.usable_bytes && store.as_ref().is_none_or(|s| s.fits),
        weight_store: store,
    }
}

/// Seconds the scratchpad mapper may spend proving a schedule's peak minimal; past it the best
/// order found (never worse than the graph's own order) is used. Microcontroller networks of a
/// few dozen layers solve in well under a second.
pub const PEAK_SCHEDULE_TIME_LIMIT_S: f64 = 2.0;

/// Largest number of mapper steps (ops after fusion) for which the best schedule is searched;
/// beyond it (an LLM's graph: hundreds of ops, which no microcontroller runs) the graph's own
/// order gives the peak, so that pricing stays fast.
pub const PEAK_SCHEDULE_MAX_OPS: usize = 256;

/// The smallest peak of live activation bytes of `graph` over all execution orders, with
/// weights streamed from where they live and activation functions fused into their producers:
/// the scratchpad mapper's `M_P` ([`crate::mapping::min_peak_footprint`]). Without the `solver`
/// feature, for a graph of more than [`PEAK_SCHEDULE_MAX_OPS`] steps, or if the mapper cannot
/// take the graph, the peak of the graph's own order ([`Graph::peak_activation_bytes`]), an
/// upper bound.
pub fn scheduled_activation_peak(graph: &Graph) -> f64 {
    #[cfg(feature = "solver")]
    {
        let opts = crate::mapping::AdaptOptions::default();
        if let Ok(a) = crate::mapping::problem_from_graph_unchecked(graph, &opts)
            && a.problem.ops.len() <= PEAK_SCHEDULE_MAX_OPS
            && let Ok(p) =
                crate::mapping::min_peak_footprint(&a.problem, PEAK_SCHEDULE_TIME_LIMIT_S)
        {
            return p.bytes as f64;
        }
    }
    graph.peak_activation_bytes()
}

/// Prices one graph on `unit` with the unit's cost model (see [`model_for`]) and the roofline's
/// placement policy.
pub fn score_graph(
    hw: &Hardware,
    unit: usize,
    mode: Mode,
    graph: &Graph,
) -> Result<Evaluation, ScoreError> {
    let model = model_for(hw, unit, mode)?;
    let res = residency(hw, unit, graph);
    Ok(evaluate(model.as_ref(), graph, &res)?)
}

/// Prices `graph` on `unit` under the request's runtime and thread count (see
/// [`crate::runtime`]), returning the graph as the runtime computes it and its evaluation. The
/// ideal runtime with the unit's own threads is [`score_graph`].
pub fn score_graph_under(
    hw: &Hardware,
    unit: usize,
    req: &ScoreRequest,
    graph: Graph,
) -> Result<(Graph, Evaluation), ScoreError> {
    let scales = req.calibration.as_ref().map_or(req.scales, Overlay::scales);
    if req.runtime.is_ideal() && req.threads.is_none() && scales.is_identity() {
        let eval = score_graph(hw, unit, req.mode, &graph)?;
        return Ok((graph, eval));
    }
    let view = RuntimeView::scaled(hw, unit, &req.runtime, req.threads, scales)?;
    let graph = match req.runtime.prepare(&graph) {
        std::borrow::Cow::Borrowed(_) => graph,
        std::borrow::Cow::Owned(g) => g,
    };
    let model = view.model(req.mode, &graph)?;
    let homes = view.homes(&graph, &model.plan);
    let eval = evaluate(&model, &graph, &homes)?;
    Ok((graph, eval))
}

/// An error unless the request's calibration overlay is for this device and runtime.
fn check_calibration(hw: &Hardware, req: &ScoreRequest) -> Result<(), ScoreError> {
    if let Some(o) = &req.calibration {
        o.check_for(&hw.name, &req.runtime.name, "--calibration")
            .map_err(|e| ScoreError::Request(e.to_string()))?;
    }
    Ok(())
}

/// Checks that a priced phase has a finite, positive latency and a finite energy, so that every
/// rate and per-token figure derived from them is a number.
pub(crate) fn check_finite(phase: &str, eval: &Evaluation) -> Result<(), ScoreError> {
    let t = &eval.total;
    let bad = |metric, value| ScoreError::NotFinite {
        phase: phase.to_string(),
        metric,
        value,
    };
    if !(t.latency_s.is_finite() && t.latency_s > 0.0) {
        return Err(bad("latency", t.latency_s));
    }
    if !t.energy_j().is_finite() {
        return Err(bad("energy", t.energy_j()));
    }
    Ok(())
}

/// Checks an LLM request (sizes at least 1, a phase asked for, the runtime able to run the
/// unit and scheme, a calibration for this device) and returns the unit's index.
pub(crate) fn llm_unit(
    hw: &Hardware,
    quant: &QuantScheme,
    req: &ScoreRequest,
) -> Result<usize, ScoreError> {
    if req.batch == 0 || req.prompt == 0 || req.context == 0 {
        return Err(ScoreError::Request(
            "batch, prompt and context must be at least 1".into(),
        ));
    }
    if !req.prefill && !req.decode {
        return Err(ScoreError::Request(
            "nothing to score: choose prefill, decode or both".into(),
        ));
    }
    let unit = hw.unit_index(req.unit.as_deref())?;
    req.runtime.check_runs(
        hw.units[unit].kind,
        &hw.units[unit].name,
        WorkloadKind::Llm,
        &quant.name,
    )?;
    check_calibration(hw, req)?;
    Ok(unit)
}

/// Scores an LLM.
pub fn score_llm(
    hw: &Hardware,
    model: &LlmConfig,
    quant: &QuantScheme,
    req: &ScoreRequest,
) -> Result<Score, ScoreError> {
    let unit = llm_unit(hw, quant, req)?;
    let quant = &req.runtime.scheme(quant);
    let mut phases = Vec::new();
    let mut wanted = Vec::new();
    if req.prefill {
        wanted.push((
            Phase::Prefill { prompt: req.prompt },
            req.batch as f64 * req.prompt as f64,
        ));
    }
    if req.decode {
        wanted.push((
            Phase::Decode {
                context: req.context,
            },
            req.batch as f64,
        ));
    }
    for (phase, tokens) in wanted {
        let (graph, eval) =
            score_graph_under(hw, unit, req, model.try_build(quant, phase, req.batch)?)?;
        check_finite(phase.name(), &eval)?;
        phases.push(PhaseScore {
            phase,
            graph,
            eval,
            tokens,
        });
    }
    let graphs: Vec<&Graph> = phases.iter().map(|p| &p.graph).collect();
    let memory = footprint(hw, unit, &graphs);
    Ok(Score {
        hardware: hw.name.clone(),
        unit: hw.units[unit].name.clone(),
        model: model.name.clone(),
        quant: quant.name.clone(),
        mode: req.mode,
        runtime: req.runtime.name.clone(),
        batch: req.batch,
        phases,
        memory,
        band: band(
            hw,
            unit,
            &req.runtime,
            WorkloadKind::Llm,
            req.calibration.as_ref(),
        ),
    })
}

/// Adds `NAME_low` and `NAME_high` to a metrics map.
fn insert_band(
    m: &mut serde_json::Map<String, serde_json::Value>,
    name: &str,
    (lo, hi): (f64, f64),
) {
    m.insert(format!("{name}_low"), lo.into());
    m.insert(format!("{name}_high"), hi.into());
}

/// The table line of a band around a time: `  band p10-p90: LOW-HIGH ms (LABEL)`.
fn band_line(s: &mut String, band: &Option<Band>, t: f64) {
    if let Some(b) = band {
        let (lo, hi) = b.time(t);
        let _ = writeln!(
            s,
            "  band p10-p90: {:.3}-{:.3} ms ({})",
            lo * 1e3,
            hi * 1e3,
            b.label
        );
    }
}

/// `, runtime NAME` for a table header, empty for the ideal runtime.
fn runtime_label(name: &str) -> String {
    if name == crate::runtime::IDEAL {
        String::new()
    } else {
        format!(", runtime {name}")
    }
}

/// A readable name for a bound on this device.
pub fn bound_name(hw: &Hardware, b: Bound) -> String {
    match b {
        Bound::Compute => "compute".into(),
        Bound::Overhead => "overhead".into(),
        Bound::Memory(l) => format!("memory:{}", hw.memories[l].name),
    }
}

#[derive(Serialize)]
struct JsonOp<'a> {
    name: &'a str,
    kind: &'static str,
    layer: Option<u32>,
    dtype: String,
    flops: f64,
    bytes: f64,
    bytes_by_level: serde_json::Map<String, serde_json::Value>,
    latency_s: f64,
    energy_j: f64,
    bound: String,
    unit: &'a str,
}

fn by_level(hw: &Hardware, l: &Ledger) -> serde_json::Map<String, serde_json::Value> {
    hw.memories
        .iter()
        .enumerate()
        .map(|(i, m)| (m.name.clone(), serde_json::json!(l.bytes[i])))
        .collect()
}

/// Per-op JSON rows of one priced graph.
fn json_ops<'a>(
    hw: &Hardware,
    unit: &'a str,
    graph: &'a Graph,
    eval: &Evaluation,
) -> Vec<JsonOp<'a>> {
    graph
        .ops
        .iter()
        .zip(&eval.per_op)
        .map(|(op, l)| {
            let (r, w) = op.bytes(graph);
            JsonOp {
                name: &op.name,
                kind: op.kind.name(),
                layer: op.layer,
                dtype: op.compute.to_string(),
                flops: l.flops,
                bytes: r + w,
                bytes_by_level: by_level(hw, l),
                latency_s: l.latency_s,
                energy_j: l.energy_j(),
                bound: bound_name(hw, l.bound()),
                unit,
            }
        })
        .collect()
}

/// The CSV header of per-op rows.
const CSV_HEADER: [&str; 11] = [
    "phase",
    "op",
    "kind",
    "layer",
    "dtype",
    "flops",
    "bytes",
    "latency_s",
    "energy_j",
    "bound",
    "unit",
];

/// Per-op CSV rows of one priced graph.
pub(crate) fn csv_ops(
    w: &mut csv::Writer<Vec<u8>>,
    hw: &Hardware,
    phase: &str,
    unit: &str,
    graph: &Graph,
    eval: &Evaluation,
) -> Result<(), csv::Error> {
    for (op, l) in graph.ops.iter().zip(&eval.per_op) {
        let (r, wr) = op.bytes(graph);
        w.write_record([
            phase.to_string(),
            op.name.clone(),
            op.kind.name().to_string(),
            op.layer.map(|x| x.to_string()).unwrap_or_default(),
            op.compute.to_string(),
            format!("{}", l.flops),
            format!("{}", r + wr),
            format!("{:e}", l.latency_s),
            format!("{:e}", l.energy_j()),
            bound_name(hw, l.bound()),
            unit.to_string(),
        ])?;
    }
    Ok(())
}

/// One priced graph of a CSV: its phase name, the unit that ran it, the graph and its prices.
pub(crate) type CsvSection<'a> = (&'a str, &'a str, &'a Graph, &'a Evaluation);

/// The per-op CSV of `sections`, one after the other, under the header row when `header` is set.
pub(crate) fn ops_csv(
    hw: &Hardware,
    header: bool,
    sections: &[CsvSection<'_>],
) -> Result<String, csv::Error> {
    let mut w = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(Vec::new());
    if header {
        w.write_record(CSV_HEADER)?;
    }
    for (phase, unit, graph, eval) in sections {
        csv_ops(&mut w, hw, phase, unit, graph, eval)?;
    }
    let bytes = w.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8(bytes).expect("csv writes UTF-8"))
}

/// One phase's section of a score table: its heading, the per-op rows, the total line (with
/// the graph's MACs where `macs` is set) and the traffic to each memory level.
fn phase_section(
    s: &mut String,
    hw: &Hardware,
    phase: &str,
    graph: &Graph,
    eval: &Evaluation,
    macs: bool,
) {
    let _ = writeln!(s, "\n== {} ({}) ==", phase, graph.name);
    let _ = writeln!(
        s,
        "{:<34} {:<12} {:>11} {:>11} {:>11} {:>10}  {}",
        "op", "kind", "GFLOP", "MB", "µs", "mJ", "bound"
    );
    table_ops(s, hw, graph, eval);
    let t = &eval.total;
    let macs = if macs {
        format!(" ({:.3} GMAC)", graph.macs() / 1e9)
    } else {
        String::new()
    };
    let _ = writeln!(
        s,
        "total: {:.3} ms, {:.4} J, {:.2} GFLOP{macs}, bound {}",
        t.latency_s * 1e3,
        t.energy_j(),
        t.flops / 1e9,
        bound_name(hw, t.bound())
    );
    for (i, m) in hw.memories.iter().enumerate() {
        if t.bytes[i] > 0.0 {
            let _ = writeln!(s, "  traffic {:<10} {:>12.3} MB", m.name, t.bytes[i] / 1e6);
        }
    }
}

/// Per-op table rows of one priced graph, grouped by layer with layer subtotals.
fn table_ops(s: &mut String, hw: &Hardware, graph: &Graph, eval: &Evaluation) {
    let mut current: Option<Option<u32>> = None;
    let mut sub = Ledger::zero();
    let flush = |s: &mut String, layer: Option<Option<u32>>, sub: &Ledger| {
        if let Some(Some(l)) = layer {
            let _ = writeln!(
                s,
                "{:<34} {:<12} {:>11.4} {:>11.3} {:>11.2} {:>10.4}  {}",
                format!("  layer {l} subtotal"),
                "",
                sub.flops / 1e9,
                sub.total_bytes() / 1e6,
                sub.latency_s * 1e6,
                sub.energy_j() * 1e3,
                bound_name(hw, sub.bound())
            );
        }
    };
    for (op, l) in graph.ops.iter().zip(&eval.per_op) {
        if current != Some(op.layer) {
            flush(s, current, &sub);
            sub = Ledger::zero();
            current = Some(op.layer);
            if let Some(layer) = op.layer {
                let _ = writeln!(s, "-- layer {layer}");
            }
        }
        sub = sub + *l;
        let (r, w) = op.bytes(graph);
        let _ = writeln!(
            s,
            "{:<34} {:<12} {:>11.4} {:>11.3} {:>11.2} {:>10.4}  {}",
            op.name,
            op.kind.name(),
            l.flops / 1e9,
            (r + w) / 1e6,
            l.latency_s * 1e6,
            l.energy_j() * 1e3,
            bound_name(hw, l.bound())
        );
    }
    flush(s, current, &sub);
}

/// The JSON fields every priced phase has: `phase`, `batch`, `latency_s`, `energy_j`,
/// `energy_breakdown_j`, `flops`, `bytes_by_level`, `bound` and its `ops` on `unit`.
fn phase_json(
    hw: &Hardware,
    unit: &str,
    (phase, batch): (&str, u64),
    graph: &Graph,
    eval: &Evaluation,
) -> serde_json::Value {
    let t = &eval.total;
    serde_json::json!({
        "phase": phase,
        "batch": batch,
        "latency_s": t.latency_s,
        "energy_j": t.energy_j(),
        "energy_breakdown_j": {"compute": t.compute_j, "memory": t.memory_j, "static": t.static_j},
        "flops": t.flops,
        "bytes_by_level": by_level(hw, t),
        "bound": bound_name(hw, t.bound()),
        "ops": json_ops(hw, unit, graph, eval),
    })
}

impl Score {
    /// The score as JSON: `hardware`, `unit`, `model`, `quant`, `mode`, `phases` (each with
    /// `phase`, `latency_s`, `energy_j`, `tokens_per_s`, `ops`), `memory` and `metrics`.
    pub fn to_json(&self, hw: &Hardware) -> serde_json::Value {
        let phases: Vec<serde_json::Value> = self
            .phases
            .iter()
            .map(|p| {
                let t = &p.eval.total;
                let name = p.phase.name();
                let mut v = phase_json(hw, &self.unit, (name, self.batch), &p.graph, &p.eval);
                v["tokens"] = p.tokens.into();
                v["tokens_per_s"] = p.tokens_per_s().into();
                v["j_per_token"] = p.j_per_token().into();
                match p.phase {
                    Phase::Prefill { prompt } => v["prompt"] = prompt.into(),
                    Phase::Decode { context } => v["context"] = context.into(),
                }
                if let Some(b) = &self.band {
                    let (lo, hi) = b.time(t.latency_s);
                    v["latency_s_low"] = lo.into();
                    v["latency_s_high"] = hi.into();
                    let (lo, hi) = b.rate(p.tokens_per_s());
                    v["tokens_per_s_low"] = lo.into();
                    v["tokens_per_s_high"] = hi.into();
                }
                v
            })
            .collect();
        let mut metrics = serde_json::Map::new();
        for p in &self.phases {
            let (time, rate) = p.phase.metric_names();
            metrics.insert(time.into(), p.eval.total.latency_s.into());
            metrics.insert(rate.into(), p.tokens_per_s().into());
            if let Phase::Decode { .. } = p.phase {
                metrics.insert("decode_j_per_token".into(), p.j_per_token().into());
            }
            if let Some(b) = &self.band {
                insert_band(&mut metrics, time, b.time(p.eval.total.latency_s));
                insert_band(&mut metrics, rate, b.rate(p.tokens_per_s()));
            }
        }
        serde_json::json!({
            "hardware": self.hardware,
            "unit": self.unit,
            "model": self.model,
            "quant": self.quant,
            "mode": self.mode,
            "runtime": self.runtime,
            "batch": self.batch,
            "phases": phases,
            "memory": self.memory,
            "metrics": metrics,
            "band": self.band,
        })
    }

    /// One CSV row per op of every phase.
    pub fn to_csv(&self, hw: &Hardware) -> Result<String, csv::Error> {
        let sections: Vec<CsvSection> = (self.phases.iter())
            .map(|p| (p.phase.name(), self.unit.as_str(), &p.graph, &p.eval))
            .collect();
        ops_csv(hw, true, &sections)
    }

    /// A table for people: per-op rows grouped by layer with layer subtotals, then phase totals,
    /// LLM metrics and the footprint.
    pub fn to_table(&self, hw: &Hardware) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{} on {} / {} ({:?}, cost model {}{}), quant {}, batch {}",
            self.model,
            self.hardware,
            self.unit,
            self.mode,
            hw.unit_index(Some(&self.unit))
                .ok()
                .and_then(|u| model_for(hw, u, self.mode).ok())
                .map_or(crate::cost_models::DEFAULT_MODEL, |m| m.name()),
            runtime_label(&self.runtime),
            self.quant,
            self.batch
        );
        for p in &self.phases {
            phase_section(&mut s, hw, p.phase.name(), &p.graph, &p.eval, false);
            let t = &p.eval.total;
            let (label, _) = match p.phase {
                Phase::Prefill { .. } => ("TTFT", 0),
                Phase::Decode { .. } => ("TPOT", 0),
            };
            let _ = writeln!(
                s,
                "{label} {:.3} ms, {:.1} tokens/s, {:.4} J/token",
                t.latency_s * 1e3,
                p.tokens_per_s(),
                p.j_per_token()
            );
            band_line(&mut s, &self.band, t.latency_s);
        }
        let _ = writeln!(s, "\nmemory: {}", self.memory.line());
        s
    }
}

/// A score of one forward pass of a vision network or encoder on one unit of one device.
#[derive(Clone, Debug)]
pub struct VisionScore {
    /// Device name.
    pub hardware: String,
    /// Unit name.
    pub unit: String,
    /// Model name.
    pub model: String,
    /// Quantization scheme.
    pub quant: String,
    /// Roofline mode.
    pub mode: Mode,
    /// Runtime name.
    pub runtime: String,
    /// Images or sequences per forward pass.
    pub batch: u64,
    /// Whether a batch element is an image or a sequence.
    pub sample: Sample,
    /// The forward graph.
    pub graph: Graph,
    /// Per-op ledgers and total.
    pub eval: Evaluation,
    /// Footprint.
    pub memory: Footprint,
    /// How far the latency can be trusted (`None`: no measurements of this kind of unit).
    pub band: Option<Band>,
    /// The scratchpad plan the traffic came from, when scored with a mapping.
    #[cfg(feature = "solver")]
    pub mapping: Option<UnitMapping>,
}

impl VisionScore {
    /// The scratchpad plan's summary, or null when the traffic did not come from a plan.
    fn mapping_json(&self, hw: &Hardware) -> serde_json::Value {
        #[cfg(feature = "solver")]
        if let Some(m) = &self.mapping {
            return m.summary_json(hw);
        }
        let _ = hw;
        serde_json::Value::Null
    }

    /// Latency of one forward pass over the batch.
    pub fn latency_s(&self) -> f64 {
        self.eval.total.latency_s
    }
    /// Images (or sequences) per second.
    pub fn samples_per_s(&self) -> f64 {
        self.batch as f64 / self.eval.total.latency_s
    }
    /// Joules per image (or sequence).
    pub fn j_per_sample(&self) -> f64 {
        self.eval.total.energy_j() / self.batch as f64
    }

    /// The score as JSON, in the shape of [`Score::to_json`] with one phase, `forward`, whose
    /// throughput is `images_per_s` (or `sequences_per_s`) and energy `j_per_image` (or
    /// `j_per_sequence`); `metrics` repeats latency, throughput and energy per sample.
    pub fn to_json(&self, hw: &Hardware) -> serde_json::Value {
        let t = &self.eval.total;
        let (plural, one) = (self.sample.plural(), self.sample.singular());
        let mut phase = phase_json(
            hw,
            &self.unit,
            ("forward", self.batch),
            &self.graph,
            &self.eval,
        );
        phase["macs"] = self.graph.macs().into();
        phase[plural] = self.batch.into();
        phase[format!("{plural}_per_s")] = self.samples_per_s().into();
        phase[format!("j_per_{one}")] = self.j_per_sample().into();
        let mut metrics = serde_json::Map::new();
        metrics.insert("latency_s".into(), t.latency_s.into());
        metrics.insert(format!("{plural}_per_s"), self.samples_per_s().into());
        metrics.insert(format!("j_per_{one}"), self.j_per_sample().into());
        if let Some(b) = &self.band {
            let (lo, hi) = b.time(t.latency_s);
            phase["latency_s_low"] = lo.into();
            phase["latency_s_high"] = hi.into();
            insert_band(&mut metrics, "latency_s", (lo, hi));
            insert_band(
                &mut metrics,
                &format!("{plural}_per_s"),
                b.rate(self.samples_per_s()),
            );
        }
        serde_json::json!({
            "hardware": self.hardware,
            "unit": self.unit,
            "model": self.model,
            "quant": self.quant,
            "mode": self.mode,
            "runtime": self.runtime,
            "batch": self.batch,
            "sample": self.sample,
            "phases": [phase],
            "memory": self.memory,
            "metrics": metrics,
            "band": self.band,
            "mapping": self.mapping_json(hw),
        })
    }

    /// One CSV row per op, phase `forward`.
    pub fn to_csv(&self, hw: &Hardware) -> Result<String, csv::Error> {
        ops_csv(
            hw,
            true,
            &[("forward", &self.unit, &self.graph, &self.eval)],
        )
    }

    /// A table for people: per-op rows grouped by block with subtotals, totals, throughput and
    /// the footprint.
    pub fn to_table(&self, hw: &Hardware) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{} on {} / {} ({:?} roofline{}), quant {}, batch {}",
            self.model,
            self.hardware,
            self.unit,
            self.mode,
            runtime_label(&self.runtime),
            self.quant,
            self.batch
        );
        phase_section(&mut s, hw, "forward", &self.graph, &self.eval, true);
        let t = &self.eval.total;
        let _ = writeln!(
            s,
            "{:.1} {}/s, {:.4} mJ/{}",
            self.samples_per_s(),
            self.sample.plural(),
            self.j_per_sample() * 1e3,
            self.sample.singular()
        );
        band_line(&mut s, &self.band, t.latency_s);
        let m = &self.memory;
        if m.weight_store.is_some() {
            let _ = writeln!(s, "\nmemory: {}", m.line());
        } else {
            let _ = writeln!(
                s,
                "\nmemory: weights {:.1} MB + activations {:.1} MB = {:.1} MB of {:.1} MB usable {} → {}",
                m.weights_bytes / 1e6,
                m.activation_peak_bytes / 1e6,
                m.total_bytes / 1e6,
                m.capacity_bytes / 1e6,
                m.level,
                if m.fits { "fits" } else { "DOES NOT FIT" }
            );
        }
        #[cfg(feature = "solver")]
        if let Some(map) = &self.mapping {
            let p = &map.plan;
            let _ = writeln!(
                s,
                "scratchpad `{}` ({} B) mapped by {} ({:?}): {} B compulsory + {} B \
                 non-compulsory transfers to `{}`, {} B of weights streamed, solved in {:.2} s",
                hw.memories[map.scratch].name,
                map.adapted.problem.capacity_bytes,
                p.method,
                p.status,
                p.compulsory_bytes,
                p.non_compulsory_bytes,
                hw.memories[map.spill].name,
                map.adapted.total_streamed_bytes(),
                p.solve_s
            );
        }
        s
    }
}

/// Scores one forward pass of a vision network or encoder at `req.batch` (the LLM fields of the
/// request, prompt, context and phases, do not apply and are ignored).
pub fn score_vision(
    hw: &Hardware,
    model: &VisionModel,
    quant: &QuantScheme,
    req: &ScoreRequest,
) -> Result<VisionScore, ScoreError> {
    let quant = &req.runtime.scheme(quant);
    let (unit, graph) = vision_graph(hw, model, quant, req)?;
    let (graph, eval) = score_graph_under(hw, unit, req, graph)?;
    check_finite("forward", &eval)?;
    Ok(vision_score(hw, model, quant, req, unit, graph, eval))
}

/// [`score_vision`], with the unit's scratchpad traffic taken from a mapper's plan when
/// `mapping` is given (see [`crate::mapping::evaluate_mapped`]).
#[cfg(feature = "solver")]
pub fn score_vision_mapped(
    hw: &Hardware,
    model: &VisionModel,
    quant: &QuantScheme,
    req: &ScoreRequest,
    mapping: Option<&MappingRequest>,
) -> Result<VisionScore, ScoreError> {
    let Some(m) = mapping else {
        return score_vision(hw, model, quant, req);
    };
    let (unit, graph) = vision_graph(hw, model, quant, req)?;
    let (eval, plan) = evaluate_mapped(hw, unit, req.mode, &graph, m)?;
    check_finite("forward", &eval)?;
    let mut score = vision_score(hw, model, quant, req, unit, graph, eval);
    score.mapping = Some(plan);
    Ok(score)
}

/// The unit and the forward graph of a vision request.
fn vision_graph(
    hw: &Hardware,
    model: &VisionModel,
    quant: &QuantScheme,
    req: &ScoreRequest,
) -> Result<(usize, Graph), ScoreError> {
    if req.batch == 0 {
        return Err(ScoreError::Request("batch must be at least 1".into()));
    }
    let unit = hw.unit_index(req.unit.as_deref())?;
    req.runtime.check_runs(
        hw.units[unit].kind,
        &hw.units[unit].name,
        WorkloadKind::Network,
        &quant.name,
    )?;
    check_calibration(hw, req)?;
    Ok((unit, model.build(quant, req.batch)?))
}

/// The score of a priced forward graph (no mapping).
fn vision_score(
    hw: &Hardware,
    model: &VisionModel,
    quant: &QuantScheme,
    req: &ScoreRequest,
    unit: usize,
    graph: Graph,
    eval: Evaluation,
) -> VisionScore {
    let memory = footprint(hw, unit, &[&graph]);
    let band = band(
        hw,
        unit,
        &req.runtime,
        WorkloadKind::Network,
        req.calibration.as_ref(),
    );
    VisionScore {
        hardware: hw.name.clone(),
        unit: hw.units[unit].name.clone(),
        model: model.name.clone(),
        quant: quant.name.clone(),
        mode: req.mode,
        runtime: req.runtime.name.clone(),
        batch: req.batch,
        sample: model.sample(),
        graph,
        eval,
        memory,
        band,
        #[cfg(feature = "solver")]
        mapping: None,
    }
}
