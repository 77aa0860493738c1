//! The CNN evaluator: prices a point (precision, unit, batch, hardware what-ifs) of a vision
//! network or encoder (built-in CNNs, ViT, BERT, ONNX imports: whatever `score` accepts) with one
//! forward phase, and reports latency per batch and per image, throughput, energy per image and
//! per batch, and the memory footprint (weights + peak activations of the batch).
//!
//! As in the LLM evaluator, work is shared: each distinct graph (precision × batch) is built
//! and profiled once per run, each (device variant, unit, graph) is priced once per batch of
//! points over op classes, and each ILP placement is solved once per (device variant, graph).
//! The numbers are `score`'s for the same unit, precision and batch.

use super::eval::{Evaluator, MetricDef, Outcome, PhaseDetail, price_distinct};
use super::llm::{GraphEntry, LlmSetupError, conventions, fit_levels, variant_hardware};
use super::runtimes::{RuntimeSpec, RuntimeTable, rate_band, time_band};
use super::units::{self, Placed, UnitChoice, Variant};
use crate::cost::{Evaluation, Mode};
use crate::hardware::Hardware;
use crate::mapping::{MappingRequest, UnitMapping, evaluate_mapped, scratchpad_of};
use crate::runtime::WorkloadKind;
use crate::score::bound_name;
use crate::search::{Direction, Point, Space, Values};
use crate::trust::bands::Band;
use crate::workload::{Graph, QuantScheme, Sample, VisionModel};
use rayon::prelude::*;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// Axis names of a CNN space, in order after the hardware axes.
pub const AXES: [&str; 4] = ["quant", "runtime", "unit", "batch"];

/// Precisions of the default CNN sweep: fp32, fp16 and int8 (weights and activations, the
/// NNAPI/TFLite/QNN integer path of phone NPUs and DSPs).
pub const DEFAULT_QUANTS: [&str; 3] = ["fp32", "fp16", "w8a8"];

/// Default batches: 1 (single-stream latency, as MLPerf Mobile's single-stream scenario) and
/// powers of two up to 32 (offline throughput).
pub const DEFAULT_BATCHES: [u64; 6] = [1, 2, 4, 8, 16, 32];

/// Metric indices, in [`IMAGE_METRICS`] order.
mod m {
    pub const LATENCY: usize = 0;
    pub const LATENCY_PER: usize = 1;
    pub const THROUGHPUT: usize = 2;
    pub const ENERGY_PER: usize = 3;
    pub const ENERGY: usize = 4;
    pub const MEMORY: usize = 5;
    pub const MEMORY_PER: usize = 6;
    pub const WEIGHTS: usize = 7;
    pub const ACTIVATIONS: usize = 8;
    pub const CAPACITY: usize = 9;
    pub const THREADS: usize = 10;
    pub const NONCOMPULSORY: usize = 11;
    pub const LATENCY_LOW: usize = 12;
    pub const LATENCY_HIGH: usize = 13;
    pub const LATENCY_PER_LOW: usize = 14;
    pub const LATENCY_PER_HIGH: usize = 15;
    pub const THROUGHPUT_LOW: usize = 16;
    pub const THROUGHPUT_HIGH: usize = 17;
    pub const N: usize = 18;
}

macro_rules! cnn_metrics {
    ($per_s:literal, $lat_per:literal, $e_per:literal, $mem_per:literal, $one:literal, $many:literal) => {
        [
            MetricDef {
                name: "batch_latency_s",
                direction: Direction::Minimize,
                label: "latency of one batch (s)",
            },
            MetricDef {
                name: $lat_per,
                direction: Direction::Minimize,
                label: concat!("latency per ", $one, ": batch latency / batch (s)"),
            },
            MetricDef {
                name: $per_s,
                direction: Direction::Maximize,
                label: concat!("throughput (", $many, "/s)"),
            },
            MetricDef {
                name: $e_per,
                direction: Direction::Minimize,
                label: concat!("energy per ", $one, " (J)"),
            },
            MetricDef {
                name: "batch_energy_j",
                direction: Direction::Minimize,
                label: "energy of one batch (J)",
            },
            MetricDef {
                name: "memory_bytes",
                direction: Direction::Minimize,
                label: "memory footprint of a batch: weights + peak activations (bytes)",
            },
            MetricDef {
                name: $mem_per,
                direction: Direction::Minimize,
                label: concat!("memory footprint per ", $one, " (bytes)"),
            },
            MetricDef {
                name: "weights_bytes",
                direction: Direction::Minimize,
                label: "weights (bytes)",
            },
            MetricDef {
                name: "activation_bytes",
                direction: Direction::Minimize,
                label: "peak activations of a batch (bytes)",
            },
            MetricDef {
                name: "memory_capacity_bytes",
                direction: Direction::Maximize,
                label: "usable main memory (bytes)",
            },
            MetricDef {
                name: "threads",
                direction: Direction::Minimize,
                label: "CPU threads (cores) running the network",
            },
            MetricDef {
                name: "noncompulsory_offchip_bytes",
                direction: Direction::Minimize,
                label: "off-chip bytes beyond the compulsory ones under the scratchpad plan (B)",
            },
            MetricDef {
                name: "batch_latency_s_low",
                direction: Direction::Minimize,
                label: "latency of one batch, low end of the error band (s)",
            },
            MetricDef {
                name: "batch_latency_s_high",
                direction: Direction::Minimize,
                label: "latency of one batch, high end of the error band (s)",
            },
            MetricDef {
                name: concat!($lat_per, "_low"),
                direction: Direction::Minimize,
                label: concat!("latency per ", $one, ", low end of the error band (s)"),
            },
            MetricDef {
                name: concat!($lat_per, "_high"),
                direction: Direction::Minimize,
                label: concat!("latency per ", $one, ", high end of the error band (s)"),
            },
            MetricDef {
                name: concat!($per_s, "_low"),
                direction: Direction::Maximize,
                label: concat!("throughput, low end of the error band (", $many, "/s)"),
            },
            MetricDef {
                name: concat!($per_s, "_high"),
                direction: Direction::Maximize,
                label: concat!("throughput, high end of the error band (", $many, "/s)"),
            },
        ]
    };
}

/// The metrics of a network whose samples are images.
pub const IMAGE_METRICS: [MetricDef; m::N] = cnn_metrics!(
    "images_per_s",
    "latency_per_image_s",
    "energy_per_image_j",
    "memory_per_image_bytes",
    "image",
    "images"
);

/// The metrics of an encoder whose samples are sequences.
pub const SEQUENCE_METRICS: [MetricDef; m::N] = cnn_metrics!(
    "sequences_per_s",
    "latency_per_sequence_s",
    "energy_per_sequence_j",
    "memory_per_sequence_bytes",
    "sequence",
    "sequences"
);

/// The metrics of a network by its sample kind.
pub fn metrics_for(sample: Sample) -> &'static [MetricDef] {
    match sample {
        Sample::Image => &IMAGE_METRICS,
        Sample::Sequence => &SEQUENCE_METRICS,
    }
}

/// Default objectives: latency of a batch, energy per sample, memory footprint.
pub fn default_objectives(sample: Sample) -> [&'static str; 3] {
    let ms = metrics_for(sample);
    [
        ms[m::LATENCY].name,
        ms[m::ENERGY_PER].name,
        ms[m::MEMORY].name,
    ]
}

/// Labels of a CNN point: bound, memory level, placement, mapping, the runtime it was priced
/// under and the label of its error band.
pub const CNN_LABELS: [&str; 6] = [
    "bound",
    "memory_level",
    "placement",
    "mapping",
    "unit_runtime",
    "band",
];

/// Key of one priced forward pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Key {
    hw: u64,
    unit: u32,
    graph: u32,
    /// Value index on the runtime axis.
    rv: u32,
    /// Precision index (what the runtime is asked to run).
    quant: u32,
}

const ILP_KEY: u32 = u32::MAX;

/// One priced forward pass.
#[derive(Clone, Debug)]
struct Priced {
    latency_s: f64,
    energy_j: f64,
    bound: String,
    levels: Vec<usize>,
    threads: Option<f64>,
    placement: String,
    /// Non-compulsory bytes of the scratchpad plan, with `--mapping` on a unit with a scratchpad.
    noncompulsory: Option<f64>,
    /// How the scratchpad traffic was decided (empty without `--mapping`).
    mapping: String,
    /// The runtime it was priced under.
    runtime: String,
    /// Its error band (none for the ILP).
    band: Option<Band>,
}

/// Prices CNN design points on a device (with what-if variants).
pub struct CnnEvaluator {
    model: VisionModel,
    sample: Sample,
    quants: Vec<QuantScheme>,
    /// The runtimes of the runtime axis.
    rts: RuntimeTable,
    /// Distinct graph conventions (see the LLM evaluator).
    convs: Vec<(QuantScheme, u32)>,
    /// Convention of each (runtime, precision).
    conv_of: Vec<Vec<u32>>,
    /// Units of the device before the thread variants were appended.
    n_base_units: usize,
    ax_runtime: usize,
    batches: Vec<u64>,
    hw_file: String,
    base: toml::Table,
    base_hw: Arc<Hardware>,
    space: Space,
    n_hw: usize,
    ax_quant: usize,
    ax_unit: usize,
    ax_batch: usize,
    units: Vec<UnitChoice>,
    variants: Vec<Variant>,
    ilp_units: Vec<String>,
    placement_time_s: f64,
    placed: Mutex<HashMap<(u64, u32), Arc<Result<Placed, String>>>>,
    mode: Mode,
    graphs: Vec<OnceLock<Result<GraphEntry, String>>>,
    knob_total: u64,
    mapping: Option<MappingRequest>,
    mapped: Mutex<HashMap<Key, Arc<MappedOut>>>,
}

/// A graph priced under a scratchpad plan, or why it could not be.
type MappedOut = Result<(Evaluation, UnitMapping), String>;

impl CnnEvaluator {
    /// An evaluator for `model` on the device in `hw_text` (named `hw_file` in errors), over
    /// `space` (hardware axes named by field path, then the [`AXES`]).
    pub fn new(
        model: VisionModel,
        hw_text: &str,
        hw_file: &str,
        space: &Space,
        mode: Mode,
        placement_time_s: f64,
        mapping: Option<MappingRequest>,
        runtimes: &[RuntimeSpec],
        calibrations: &[crate::trust::overlay::Overlay],
    ) -> Result<CnnEvaluator, LlmSetupError> {
        let find = |n: &'static str| space.axis(n).ok_or(LlmSetupError::Axis(n, "values"));
        let (ax_quant, ax_unit, ax_batch) = (find("quant")?, find("unit")?, find("batch")?);
        let quants = match &space.axes[ax_quant].values {
            Values::Names(v) => v
                .iter()
                .map(|q| QuantScheme::parse(q))
                .collect::<Result<Vec<_>, _>>()?,
            _ => return Err(LlmSetupError::Axis("quant", "names")),
        };
        let unit_names = match &space.axes[ax_unit].values {
            Values::Names(v) => v.clone(),
            _ => return Err(LlmSetupError::Axis("unit", "names")),
        };
        let batches = match &space.axes[ax_batch].values {
            Values::Ints(v) if v.iter().all(|&x| x > 0) => v.clone(),
            _ => return Err(LlmSetupError::Axis("batch", "whole numbers of at least 1")),
        };
        let base: toml::Table = hw_text
            .parse()
            .map_err(|e| crate::hardware::HardwareError::parse(hw_file, hw_text, &e))?;
        let plain = Hardware::from_toml_str(hw_text, hw_file)?;
        let (units, variants) = units::resolve(&plain, &unit_names)?;
        let ilp_units = units::ilp_units(&plain, &unit_names);
        let n_hw = space.hardware_axes();
        for h in 0..n_hw {
            if let Values::Reals(v) = &space.axes[h].values {
                for x in [v[0], v[v.len() - 1]] {
                    let mut t = base.clone();
                    crate::hardware::set_field(&mut t, hw_file, &space.axes[h].name, x)?;
                }
            } else {
                return Err(LlmSetupError::Axis("hardware", "real numbers"));
            }
        }
        let knob_total = space.axes[n_hw..]
            .iter()
            .map(|a| a.values.len() as u64)
            .product();
        let ax_runtime = find(super::runtimes::AXIS)?;
        if space.axes[ax_runtime].values.len() != runtimes.len() {
            return Err(LlmSetupError::Axis("runtime", "the runtimes of the spec"));
        }
        let base_hw = Arc::new(units::augment(&plain, &variants));
        let rts = RuntimeTable::new(runtimes, &base_hw, WorkloadKind::Network, calibrations)?;
        let (convs, conv_of) = conventions(&rts, &quants);
        let n_graphs = convs.len() * batches.len();
        Ok(CnnEvaluator {
            sample: model.sample(),
            model,
            quants,
            rts,
            convs,
            conv_of,
            n_base_units: plain.units.len(),
            ax_runtime,
            batches,
            hw_file: hw_file.to_string(),
            base,
            base_hw,
            space: space.clone(),
            n_hw,
            ax_quant,
            ax_unit,
            ax_batch,
            units,
            variants,
            ilp_units,
            placement_time_s,
            placed: Mutex::new(HashMap::new()),
            mode,
            graphs: (0..n_graphs).map(|_| OnceLock::new()).collect(),
            knob_total,
            mapping,
            mapped: Mutex::new(HashMap::new()),
        })
    }

    fn graph(&self, idx: u32) -> &Result<GraphEntry, String> {
        self.graphs[idx as usize].get_or_init(|| {
            let i = idx as usize;
            let (c, b) = (i / self.batches.len(), i % self.batches.len());
            let (scheme, rt) = &self.convs[c];
            let rt = self.rts.get(*rt);
            self.model
                .build(scheme, self.batches[b])
                .map(|g| match rt.prepare(&g) {
                    std::borrow::Cow::Borrowed(_) => g,
                    std::borrow::Cow::Owned(p) => p,
                })
                .map(|g| GraphEntry::new(g, self.rts.len()))
                .map_err(|e| e.to_string())
        })
    }

    fn hardware(&self, combo: u64) -> Result<Arc<Hardware>, String> {
        if self.n_hw == 0 {
            return Ok(self.base_hw.clone());
        }
        variant_hardware(
            &self.space,
            self.n_hw,
            self.knob_total,
            &self.base,
            &self.hw_file,
            &self.variants,
            combo,
        )
    }

    fn key(&self, p: &Point) -> Key {
        let d = &p.digits;
        let (rv, q) = (d[self.ax_runtime], d[self.ax_quant]);
        let (unit, rt) = match self.units[d[self.ax_unit] as usize] {
            UnitChoice::Unit(u) => (u as u32, self.rts.pick(rv as usize, u)),
            UnitChoice::Ilp => (ILP_KEY, self.rts.pick_ilp(rv as usize)),
        };
        let conv = rt.map_or(0, |r| self.conv_of[r as usize][q as usize]);
        Key {
            hw: p.id / self.knob_total,
            unit,
            graph: (conv as usize * self.batches.len() + d[self.ax_batch] as usize) as u32,
            rv,
            quant: q,
        }
    }

    /// Threads of unit `u` of the augmented device when it is a thread variant (`UNIT@T`).
    fn variant_threads(&self, u: usize) -> Option<u64> {
        u.checked_sub(self.n_base_units)
            .map(|i| self.variants[i].threads)
    }

    fn placed(&self, hw: &Hardware, k: Key) -> Arc<Result<Placed, String>> {
        if let Some(p) = self
            .placed
            .lock()
            .expect("not poisoned")
            .get(&(k.hw, k.graph))
        {
            return p.clone();
        }
        let p = Arc::new(match self.graph(k.graph) {
            Ok(g) => units::place_graph(
                hw,
                &g.graph,
                &self.ilp_units,
                self.mode,
                self.placement_time_s,
            ),
            Err(e) => Err(e.clone()),
        });
        self.placed
            .lock()
            .expect("not poisoned")
            .entry((k.hw, k.graph))
            .or_insert(p)
            .clone()
    }

    fn price(&self, hw: &Hardware, k: Key) -> Result<Priced, String> {
        if k.unit == ILP_KEY {
            let rt = self.rts.pick_ilp(k.rv as usize)?;
            let p = self.placed(hw, k);
            let p = p
                .as_ref()
                .as_ref()
                .map_err(|e| format!("ILP placement: {e}"))?;
            let levels = p.levels(hw);
            return Ok(Priced {
                latency_s: p.ledger.latency_s,
                energy_j: p.ledger.energy_j(),
                bound: "placement".into(),
                levels,
                threads: None,
                placement: p.status.clone(),
                noncompulsory: None,
                mapping: String::new(),
                runtime: self.rts.get(rt).name.clone(),
                band: None,
            });
        }
        let g = self.graph(k.graph).as_ref().map_err(|e| e.clone())?;
        let u = k.unit as usize;
        let rt = self.rts.pick(k.rv as usize, u)?;
        let runtime = self.rts.get(rt);
        if !runtime.is_ideal() {
            let unit = &hw.units[u];
            runtime
                .check_runs(
                    unit.kind,
                    &unit.name,
                    WorkloadKind::Network,
                    &self.quants[k.quant as usize].name,
                )
                .map_err(|e| e.to_string())?;
            if self.mapping.is_some() && scratchpad_of(hw, u).is_ok() {
                return Err(format!(
                    "--mapping prices the scratchpad without a runtime; runtime `{}` cannot price it (use --runtime ideal)",
                    runtime.name
                ));
            }
        }
        let (l, threads, noncompulsory, mapping) = match self.mapped(hw, k, &g.graph) {
            Some(r) => {
                let (e, m) = r.as_ref().as_ref().map_err(Clone::clone)?;
                let label = format!("{} ({:?})", m.plan.method, m.plan.status).to_lowercase();
                let nc = Some(m.plan.non_compulsory_bytes as f64);
                (e.total, units::threads_of(hw, u), nc, label)
            }
            None => {
                let (l, threads) = if runtime.is_ideal() {
                    g.price(hw, u, self.mode)
                } else {
                    g.price_under(
                        hw,
                        u,
                        rt,
                        runtime,
                        self.variant_threads(u),
                        self.rts.scales(rt),
                        self.mode,
                    )
                }
                .map_err(|e| e.to_string())?;
                let label = if self.mapping.is_some() {
                    "no scratchpad".to_string()
                } else {
                    String::new()
                };
                (l, threads, None, label)
            }
        };
        Ok(Priced {
            latency_s: l.latency_s,
            energy_j: l.energy_j(),
            bound: bound_name(hw, l.bound()),
            levels: vec![hw.main_level(u)],
            threads,
            placement: String::new(),
            noncompulsory,
            mapping,
            runtime: runtime.name.clone(),
            band: self.rts.band(rt, u).cloned(),
        })
    }

    /// With `--mapping`, the graph priced under a scratchpad plan on unit `u` (`None` without
    /// `--mapping` or when the unit reaches no software-managed level: then it is priced by the
    /// roofline's residency, and labelled so).
    /// Planned once per key and kept: the report's detail of a point reuses the plan its
    /// metrics came from instead of solving the ILP again.
    fn mapped(&self, hw: &Hardware, k: Key, graph: &Graph) -> Option<Arc<MappedOut>> {
        let req = self.mapping.as_ref()?;
        let u = k.unit as usize;
        scratchpad_of(hw, u).ok()?;
        if let Some(m) = self.mapped.lock().expect("not poisoned").get(&k) {
            return Some(m.clone());
        }
        let m = Arc::new(
            evaluate_mapped(hw, u, self.mode, graph, req)
                .map_err(|e| format!("scratchpad mapping: {e}")),
        );
        Some(
            self.mapped
                .lock()
                .expect("not poisoned")
                .entry(k)
                .or_insert(m)
                .clone(),
        )
    }

    fn combine(
        &self,
        p: &Point,
        k: Key,
        hw: &Result<Arc<Hardware>, String>,
        priced: Option<&Result<Priced, String>>,
    ) -> Outcome {
        let batch = self.batches[p.digits[self.ax_batch] as usize] as f64;
        let mut metrics = vec![None; m::N];
        let mut labels = vec![String::new(); CNN_LABELS.len()];
        let mut why: Vec<String> = Vec::new();
        let unit_name = self.space.axes[self.ax_unit]
            .values
            .text(p.digits[self.ax_unit] as usize);
        match self.graph(k.graph) {
            Err(e) => why.push(format!("the network cannot be built: {e}")),
            Ok(g) => {
                // A unit that reads its weights in place from flash: the weights are checked
                // against the flash, the rest (peak over the best schedule) against the SRAM.
                let store = match hw {
                    Ok(hw) if k.unit != ILP_KEY => hw.weight_store(k.unit as usize),
                    _ => None,
                };
                let act = if store.is_some() { g.scheduled_act() } else { g.act };
                let total = g.weights + g.kv + act;
                metrics[m::WEIGHTS] = Some(g.weights);
                metrics[m::ACTIVATIONS] = Some(act + g.kv);
                metrics[m::MEMORY] = Some(total);
                metrics[m::MEMORY_PER] = Some(total / batch);
                match hw {
                    Err(e) => why.push(e.clone()),
                    Ok(hw) => {
                        let levels: Vec<usize> = match (k.unit, priced) {
                            (ILP_KEY, Some(Ok(pr))) => pr.levels.clone(),
                            (ILP_KEY, _) => Vec::new(),
                            (u, _) => vec![hw.main_level(u as usize)],
                        };
                        if !levels.is_empty() {
                            metrics[m::MEMORY] = Some(total * levels.len() as f64);
                            metrics[m::MEMORY_PER] = Some(total * levels.len() as f64 / batch);
                            let in_main = match store {
                                Some(l) => {
                                    fit_levels(hw, &[l], g.weights, &mut why);
                                    total - g.weights
                                }
                                None => total,
                            };
                            let (cap, names) = fit_levels(hw, &levels, in_main, &mut why);
                            metrics[m::CAPACITY] = Some(cap);
                            labels[1] = names;
                        }
                        match priced {
                            Some(Ok(pr)) => {
                                metrics[m::LATENCY] = Some(pr.latency_s);
                                metrics[m::LATENCY_PER] = Some(pr.latency_s / batch);
                                metrics[m::THROUGHPUT] = Some(batch / pr.latency_s);
                                metrics[m::ENERGY] = Some(pr.energy_j);
                                metrics[m::ENERGY_PER] = Some(pr.energy_j / batch);
                                metrics[m::THREADS] = pr.threads;
                                metrics[m::NONCOMPULSORY] = pr.noncompulsory;
                                let band = pr.band.as_ref();
                                (metrics[m::LATENCY_LOW], metrics[m::LATENCY_HIGH]) =
                                    time_band(band, metrics[m::LATENCY]);
                                (metrics[m::LATENCY_PER_LOW], metrics[m::LATENCY_PER_HIGH]) =
                                    time_band(band, metrics[m::LATENCY_PER]);
                                (metrics[m::THROUGHPUT_LOW], metrics[m::THROUGHPUT_HIGH]) =
                                    rate_band(band, metrics[m::THROUGHPUT]);
                                labels[0] = pr.bound.clone();
                                labels[2] = pr.placement.clone();
                                labels[3] = pr.mapping.clone();
                                labels[4] = pr.runtime.clone();
                                labels[5] = band.map(|b| b.label.clone()).unwrap_or_default();
                            }
                            Some(Err(e)) => why.push(format!("on {unit_name}: {e}")),
                            None => {}
                        }
                    }
                }
            }
        }
        Outcome::new(metrics, labels, why)
    }
}

impl Evaluator for CnnEvaluator {
    fn metrics(&self) -> &[MetricDef] {
        metrics_for(self.sample)
    }

    fn labels(&self) -> &[&'static str] {
        &CNN_LABELS
    }

    fn curve_metrics(&self) -> &[&'static str] {
        match (self.sample, self.mapping.is_some()) {
            (Sample::Image, true) => &[
                "images_per_s",
                "energy_per_image_j",
                "noncompulsory_offchip_bytes",
            ],
            (Sample::Sequence, true) => &[
                "sequences_per_s",
                "energy_per_sequence_j",
                "noncompulsory_offchip_bytes",
            ],
            _ => match self.sample {
                Sample::Image => &["images_per_s", "energy_per_image_j", "batch_latency_s"],
                Sample::Sequence => &[
                    "sequences_per_s",
                    "energy_per_sequence_j",
                    "batch_latency_s",
                ],
            },
        }
    }

    fn table_metrics(&self) -> &[&'static str] {
        match self.sample {
            Sample::Image => &[
                "images_per_s",
                "batch_latency_s",
                "energy_per_image_j",
                "memory_bytes",
            ],
            Sample::Sequence => &[
                "sequences_per_s",
                "batch_latency_s",
                "energy_per_sequence_j",
                "memory_bytes",
            ],
        }
    }

    fn layer_label(&self) -> &'static str {
        "block, as the network builder numbers them (in/out: ops before the first and after the last)"
    }

    fn evaluate(&self, points: &[Point]) -> Vec<Outcome> {
        let keys: Vec<Key> = points.iter().map(|p| self.key(p)).collect();
        let (hws, priced) = price_distinct(
            keys.clone(),
            |k| k.hw,
            |c| self.hardware(c),
            |hw, k| self.price(hw, k),
        );
        points
            .par_iter()
            .zip(&keys)
            .map(|(p, &k)| self.combine(p, k, &hws[&k.hw], priced.get(&k)))
            .collect()
    }

    fn detail(&self, p: &Point) -> Vec<PhaseDetail> {
        let k = self.key(p);
        let (Ok(hw), Ok(g)) = (self.hardware(k.hw), self.graph(k.graph)) else {
            return Vec::new();
        };
        if k.unit == ILP_KEY {
            let placed = self.placed(&hw, k);
            return match placed.as_ref() {
                Ok(pl) => super::eval::placed_detail("inference", &hw, &g.graph, pl, self.mode)
                    .into_iter()
                    .collect(),
                Err(_) => Vec::new(),
            };
        }
        let u = k.unit as usize;
        if let Some(Ok((e, m))) = self.mapped(&hw, k, &g.graph).as_deref() {
            return vec![PhaseDetail {
                phase: "inference".into(),
                hw: hw.clone(),
                unit: u,
                graph: g.graph.clone(),
                per_op: e.per_op.clone(),
                calibrated: self.mode == Mode::Calibrated,
                note: format!(
                    "scratchpad `{}` mapped by {} ({:?}): {} B non-compulsory off-chip",
                    hw.memories[m.scratch].name,
                    m.plan.method,
                    m.plan.status,
                    m.plan.non_compulsory_bytes
                ),
            }];
        }
        let threads = self.variant_threads(u);
        g.detail_picked(
            "inference",
            &hw,
            u,
            (&self.rts, k.rv as usize),
            threads,
            self.mode,
        )
        .into_iter()
        .collect()
    }
}
