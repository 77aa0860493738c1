//! The placement instance: units, ops with their cost on every unit (or why they cannot run
//! there), data edges between ops, links between units through the memory level they share, and
//! the shared-bandwidth floors. Built from a hardware description and a workload graph with the
//! units' own cost models; every solver, heuristic and the verifier read only this.

use super::PlaceError;
use crate::cost::{CostModel, Infeasible};
use crate::cost::{Mode, TensorHomes, residency};
use crate::cost_models::model_for;
use crate::hardware::{Hardware, UnitKind};
use crate::runtime::{Dispatch, Runtime, RuntimeView, WorkloadKind};
use crate::workload::{Graph, OpId};
use std::collections::HashMap;

/// One placeable unit.
#[derive(Clone, Debug, PartialEq)]
pub struct PlaceUnit {
    /// Unit name in the hardware file.
    pub name: String,
    /// Its kind.
    pub kind: UnitKind,
    /// Index in [`Hardware::units`].
    pub hw_index: usize,
}

/// What one op costs on one unit.
#[derive(Clone, Debug, PartialEq)]
pub struct OpCost {
    /// Duration, seconds (the ledger's latency, kernel overhead included).
    pub time_s: f64,
    /// Dynamic energy, joules: compute plus memory access. Static energy is charged once for the
    /// whole schedule (static power × makespan), not per op, because units run concurrently.
    pub energy_j: f64,
    /// Bytes the op moves through each floor level (see [`Instance::floors`]), capped at its
    /// duration × the level's peak bandwidth.
    pub floor_bytes: Vec<f64>,
}

/// An op to place.
#[derive(Clone, Debug, PartialEq)]
pub struct PlaceOp {
    /// Op name.
    pub name: String,
    /// Short kind name (`matmul`, `attn_qk`, ...).
    pub kind: String,
    /// Compute dtype name.
    pub dtype: String,
    /// Cost on each unit, `None` where the unit cannot run it.
    pub costs: Vec<Option<OpCost>>,
    /// Why each unit cannot run it (empty where it can).
    pub why_not: Vec<String>,
    /// Segment (repeated block) it belongs to; segments run one after another in the
    /// decomposed solve (see the module docs).
    pub segment: usize,
    /// The only unit it may use, if pinned.
    pub pin: Option<usize>,
}

impl PlaceOp {
    /// Units that can run the op, pin respected.
    pub fn feasible(&self) -> Vec<usize> {
        (0..self.costs.len())
            .filter(|&u| self.costs[u].is_some() && self.pin.is_none_or(|p| p == u))
            .collect()
    }
}

/// A data dependency: `to` reads `bytes` that `from` produced.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Edge {
    /// Producer op index.
    pub from: usize,
    /// Consumer op index.
    pub to: usize,
    /// Bytes the producer wrote that the consumer reads.
    pub bytes: f64,
}

/// How data moves from one unit to another.
#[derive(Clone, Debug, PartialEq)]
pub struct Link {
    /// The memory level both units share (the innermost one).
    pub level: String,
    /// Seconds per byte: 1 / that level's peak bandwidth.
    pub s_per_byte: f64,
    /// Joules per byte: that level's access energy.
    pub j_per_byte: f64,
    /// Fixed handoff time per transfer (the consumer unit's switch overhead), seconds.
    pub fixed_s: f64,
}

/// A memory level several units share: all the bytes moved through it during a segment must fit
/// in the segment's duration at the level's peak bandwidth.
#[derive(Clone, Debug, PartialEq)]
pub struct Floor {
    /// Level name.
    pub level: String,
    /// Bandwidth the units sharing the level can draw together, bytes/s: the peak times the
    /// best bandwidth efficiency among them (the bare peak in ideal mode).
    pub bytes_per_s: f64,
}

/// A complete placement instance.
#[derive(Clone, Debug, PartialEq)]
pub struct Instance {
    /// Workload name.
    pub name: String,
    /// Device name.
    pub device: String,
    /// Placeable units.
    pub units: Vec<PlaceUnit>,
    /// Ops in a topological order.
    pub ops: Vec<PlaceOp>,
    /// Data edges (producer index < consumer index).
    pub edges: Vec<Edge>,
    /// `links[u][v]`: how data moves from `u` to `v` (`None` on the diagonal and where the units
    /// share no memory level).
    pub links: Vec<Vec<Option<Link>>>,
    /// Shared-bandwidth floors (empty when disabled).
    pub floors: Vec<Floor>,
    /// Static power of the device, watts.
    pub static_w: f64,
    /// Number of segments.
    pub segments: usize,
}

/// How an instance is built from a device and a graph.
#[derive(Clone, Debug, PartialEq)]
pub struct BuildOptions {
    /// Calibrated or ideal cost models.
    pub mode: Mode,
    /// Units to place on (all of the device's when `None`).
    pub units: Option<Vec<String>>,
    /// Fixed handoff time per cross-unit transfer, by consumer unit name; `"*"` applies to every
    /// unit not named. Seconds.
    pub switch_s: HashMap<String, f64>,
    /// Add the shared-bandwidth floors.
    pub bandwidth_floor: bool,
    /// The software stack that runs each unit.
    pub runtime: RuntimeChoice,
}

/// Which runtime prices each unit of a placement ([`crate::runtime`]).
///
/// A unit under a runtime is priced with the runtime's kernel efficiencies, dispatch, fusion
/// and residency, as `score` prices it (fusion as if the fused ops share the unit). A compiled
/// graph cannot be launched once for a graph split across units: each time work passes to the
/// unit, a new partition starts, so the runtime's per-graph launch (`graph_s`) becomes the
/// unit's handoff time on every transfer into it (the larger of it and any `switch_s` given).
#[derive(Clone, Debug, Default, PartialEq)]
pub enum RuntimeChoice {
    /// No runtime: each unit's own figures (today's behaviour; the library default).
    #[default]
    Ideal,
    /// The runtime the device names for LLMs on each unit ([`crate::runtime::default_for`]).
    DeviceDefaults,
    /// One runtime for every unit; a unit it does not run takes no op (each op says why).
    Named(Runtime),
}

impl RuntimeChoice {
    /// The runtime of a placement from its `--runtime` name and `--ideal` flag, as the command
    /// line and the Python package take them: none (`ideal`, or `--ideal` without a name), the
    /// device's defaults (neither), or one runtime, which must run `scheme`. Returns the choice
    /// with `quant` as that runtime stores it.
    pub fn from_flags(
        name: Option<&str>,
        ideal: bool,
        scheme: &str,
        quant: crate::workload::QuantScheme,
    ) -> Result<(RuntimeChoice, crate::workload::QuantScheme), PlaceError> {
        Ok(match (name, ideal) {
            (None, true) | (Some(crate::runtime::IDEAL), _) => (RuntimeChoice::Ideal, quant),
            (None, false) => (RuntimeChoice::DeviceDefaults, quant),
            (Some(name), _) => {
                let rt = Runtime::load(name)?;
                rt.check_format(scheme).map_err(|e| PlaceError::Format {
                    runtime: name.to_string(),
                    scheme: scheme.to_string(),
                    reason: e.reason,
                })?;
                let quant = rt.scheme(&quant);
                (RuntimeChoice::Named(rt), quant)
            }
        })
    }
}

impl Default for BuildOptions {
    fn default() -> Self {
        BuildOptions {
            mode: Mode::Calibrated,
            units: None,
            switch_s: HashMap::new(),
            bandwidth_floor: true,
            runtime: RuntimeChoice::Ideal,
        }
    }
}

/// The innermost memory level units `u` and `v` both reach.
fn shared_level(hw: &Hardware, u: usize, v: usize) -> Option<usize> {
    hw.units[u]
        .reach
        .iter()
        .copied()
        .find(|l| hw.units[v].reach.contains(l))
}

/// Segments from the ops' `layer` tags: maximal runs of equal tags in graph order. Untagged ops
/// before the first layer form the first segment, those after the last layer the last.
pub fn segments_of(graph: &Graph) -> Vec<usize> {
    let mut seg = Vec::with_capacity(graph.ops.len());
    let mut cur = 0usize;
    for (i, op) in graph.ops.iter().enumerate() {
        if i > 0 && op.layer != graph.ops[i - 1].layer {
            cur += 1;
        }
        seg.push(cur);
    }
    seg
}

/// The fraction of level `level`'s peak bandwidth that units sharing it can draw together: the
/// best `bandwidth_efficiency` of the placeable units that reach it (1 in ideal mode). Each
/// unit's own model streams at its own efficiency; several units at once do not make the memory
/// controller deliver more than the best of them achieves alone, so the floor must not credit
/// concurrency with the gap between a unit's efficiency and the peak.
fn shared_efficiency(hw: &Hardware, units: &[usize], level: usize, mode: Mode) -> f64 {
    if mode == Mode::Ideal {
        return 1.0;
    }
    units
        .iter()
        .filter(|&&u| hw.units[u].reach.contains(&level))
        .map(|&u| hw.units[u].bandwidth_efficiency)
        .fold(0.0, f64::max)
}

/// The units ops may be placed on: the listed ones (each once, in order), or every unit.
fn placeable_units(hw: &Hardware, opts: &BuildOptions) -> Result<Vec<usize>, PlaceError> {
    Ok(match &opts.units {
        None => (0..hw.units.len()).collect(),
        Some(names) => {
            let mut v = Vec::new();
            for n in names {
                let i = hw.unit_index(Some(n))?;
                if !v.contains(&i) {
                    v.push(i);
                }
            }
            if v.is_empty() {
                return Err(PlaceError::Options("the unit list is empty".into()));
            }
            v
        }
    })
}

/// Each switch time names a unit (or `*`) and is a finite time of 0 or more.
fn check_switch_times(hw: &Hardware, opts: &BuildOptions) -> Result<(), PlaceError> {
    for (k, &s) in &opts.switch_s {
        if k != "*" && !hw.units.iter().any(|u| &u.name == k) {
            hw.unit_index(Some(k))?;
        }
        if !(s.is_finite() && s >= 0.0) {
            return Err(PlaceError::Options(format!(
                "switch time for `{k}` is {s} s; expected a finite time of 0 or more"
            )));
        }
    }
    Ok(())
}

/// The runtime of each unit: `Err` when the chosen runtime does not run it.
fn unit_runtimes(
    hw: &Hardware,
    unit_ids: &[usize],
    opts: &BuildOptions,
) -> Result<Vec<Result<Runtime, Infeasible>>, PlaceError> {
    unit_ids
        .iter()
        .map(|&u| match &opts.runtime {
            RuntimeChoice::Ideal => Ok(Ok(Runtime::ideal())),
            RuntimeChoice::DeviceDefaults => crate::runtime::default_for(hw, u, WorkloadKind::Llm)
                .map(Ok)
                .map_err(|e| PlaceError::Options(e.to_string())),
            RuntimeChoice::Named(rt) => {
                // The unit kind only: the caller checks the scheme against the runtime's
                // formats, since it builds the graph.
                let unit = &hw.units[u];
                Ok(rt
                    .check_unit(unit.kind, &unit.name, WorkloadKind::Llm)
                    .map(|()| rt.clone()))
            }
        })
        .collect::<Result<_, PlaceError>>()
}

/// The view of each unit's runtime, where it runs the unit and is not the ideal one.
fn runtime_views<'r>(
    hw: &Hardware,
    unit_ids: &[usize],
    runtimes: &'r [Result<Runtime, Infeasible>],
) -> Result<Vec<Option<RuntimeView<'r>>>, PlaceError> {
    unit_ids
        .iter()
        .zip(runtimes)
        .map(|(&u, rt)| match rt {
            Ok(rt) if !rt.is_ideal() => RuntimeView::new(hw, u, rt, None)
                .map(Some)
                .map_err(|e| PlaceError::Options(e.to_string())),
            _ => Ok(None),
        })
        .collect::<Result<Vec<_>, PlaceError>>()
}

/// The cost model of each placeable unit (under its runtime's view where it has one), the
/// homes of the graph's tensors on it, and the graph launch each graph-dispatch runtime pays.
struct UnitModels<'a> {
    models: Vec<Box<dyn CostModel + 'a>>,
    residencies: Vec<TensorHomes>,
    launch_s: HashMap<usize, f64>,
}

impl<'a> UnitModels<'a> {
    /// The models of `unit_ids` for `graph`, in order.
    fn new(
        hw: &'a Hardware,
        graph: &Graph,
        opts: &BuildOptions,
        unit_ids: &[usize],
        views: &'a [Option<RuntimeView<'a>>],
    ) -> Result<Self, PlaceError> {
        let mut models: Vec<Box<dyn CostModel + '_>> = Vec::new();
        let mut residencies: Vec<TensorHomes> = Vec::new();
        let mut launch_s: HashMap<usize, f64> = HashMap::new();
        for (&u, view) in unit_ids.iter().zip(views) {
            match view {
                Some(view) => {
                    let mut m = view.model(opts.mode, graph)?;
                    if let (Some(Dispatch::Graph { .. }), Mode::Calibrated) =
                        (view.runtime().dispatch, opts.mode)
                    {
                        launch_s.insert(u, m.take_graph_launch());
                    }
                    residencies.push(view.homes(graph, &m.plan));
                    models.push(Box::new(m));
                }
                None => {
                    models.push(model_for(hw, u, opts.mode)?);
                    residencies.push(residency(hw, u, graph));
                }
            }
        }
        Ok(UnitModels {
            models,
            residencies,
            launch_s,
        })
    }

    /// Every op of `graph` priced on every unit (`None` with the reason where a unit cannot
    /// run it), with its bytes at each shared level in `floors` (levels, floors); an error
    /// for an op no unit runs.
    fn place_ops(
        &self,
        hw: &Hardware,
        graph: &Graph,
        unit_ids: &[usize],
        runtimes: &[Result<Runtime, Infeasible>],
        (floor_levels, floors): (&[usize], &[Floor]),
        segment: &[usize],
    ) -> Result<Vec<PlaceOp>, PlaceError> {
        let (models, residencies) = (&self.models, &self.residencies);
        let mut ops = Vec::with_capacity(graph.ops.len());
        for (i, op) in graph.ops.iter().enumerate() {
            let mut costs = Vec::with_capacity(unit_ids.len());
            let mut why = Vec::with_capacity(unit_ids.len());
            for (k, m) in models.iter().enumerate() {
                if let Err(e) = &runtimes[k] {
                    costs.push(None);
                    why.push(e.reason.clone());
                    continue;
                }
                match m.own_cost(graph, &residencies[k], OpId(i as u32)) {
                    Ok(l) => {
                        costs.push(Some(OpCost {
                            time_s: l.latency_s,
                            energy_j: l.compute_j + l.memory_j,
                            // Capped at what the op's own duration moves at peak bandwidth, so
                            // that the floor limits only concurrency and never contradicts the
                            // unit's model about its own op (a DMA model may overlap reads and
                            // writes beyond the bus's peak; that is its call).
                            floor_bytes: floor_levels
                                .iter()
                                .zip(floors)
                                .map(|(&lv, f)| l.bytes[lv].min(l.latency_s * f.bytes_per_s))
                                .collect(),
                        }));
                        why.push(String::new());
                    }
                    Err(e) => {
                        costs.push(None);
                        why.push(e.reason);
                    }
                }
            }
            if costs.iter().all(Option::is_none) {
                return Err(PlaceError::NoUnit {
                    op: op.name.clone(),
                    reasons: unit_ids
                        .iter()
                        .zip(&why)
                        .map(|(&u, w)| format!("{}: {w}", hw.units[u].name))
                        .collect::<Vec<_>>()
                        .join("; "),
                });
            }
            ops.push(PlaceOp {
                name: op.name.clone(),
                kind: op.kind.name().to_string(),
                dtype: op.compute.name().to_string(),
                costs,
                why_not: why,
                segment: segment[i],
                pin: None,
            });
        }
        Ok(ops)
    }
}

/// The shared levels (reached by at least two of the placeable units) and their bandwidth
/// floors, where the options ask for floors.
fn shared_floors(
    hw: &Hardware,
    unit_ids: &[usize],
    opts: &BuildOptions,
) -> (Vec<usize>, Vec<Floor>) {
    let mut floors = Vec::new();
    let mut floor_levels = Vec::new();
    if opts.bandwidth_floor && unit_ids.len() > 1 {
        for (l, m) in hw.memories.iter().enumerate() {
            let n = unit_ids
                .iter()
                .filter(|&&u| hw.units[u].reach.contains(&l))
                .count();
            if n >= 2 {
                floor_levels.push(l);
                floors.push(Floor {
                    level: m.name.clone(),
                    bytes_per_s: m.bytes_per_s * shared_efficiency(hw, unit_ids, l, opts.mode),
                });
            }
        }
    }
    (floor_levels, floors)
}

/// Edges: the bytes each producer writes of a tensor that a later op reads.
fn edges_of(graph: &Graph) -> Vec<Edge> {
    let mut producer: Vec<Option<usize>> = vec![None; graph.tensors.len()];
    let mut written: Vec<f64> = vec![0.0; graph.tensors.len()];
    let mut acc: HashMap<(usize, usize), f64> = HashMap::new();
    for (i, op) in graph.ops.iter().enumerate() {
        for &t in &op.inputs {
            if let Some(p) = producer[t.0 as usize] {
                if p != i {
                    *acc.entry((p, i)).or_insert(0.0) += written[t.0 as usize];
                }
            }
        }
        op.for_each_access(graph, |a| {
            if a.write {
                producer[a.tensor.0 as usize] = Some(i);
                written[a.tensor.0 as usize] = a.bytes;
            }
        });
    }
    let mut edges: Vec<Edge> = acc
        .into_iter()
        .map(|((from, to), bytes)| Edge { from, to, bytes })
        .collect();
    edges.sort_by_key(|e| (e.to, e.from));
    edges
}

/// The link between each ordered pair of placeable units: their innermost shared level, with
/// the switch time of the unit switched to (the larger of the option's and its runtime's graph
/// launch).
fn links_of(
    hw: &Hardware,
    unit_ids: &[usize],
    opts: &BuildOptions,
    launch_s: &HashMap<usize, f64>,
) -> Vec<Vec<Option<Link>>> {
    let switch = |v: usize| -> f64 {
        let name = &hw.units[v].name;
        let given = opts
            .switch_s
            .get(name)
            .or_else(|| opts.switch_s.get("*"))
            .copied()
            .unwrap_or(0.0);
        given.max(launch_s.get(&v).copied().unwrap_or(0.0))
    };
    unit_ids
        .iter()
        .map(|&u| {
            unit_ids
                .iter()
                .map(|&v| {
                    if u == v {
                        return None;
                    }
                    shared_level(hw, u, v).map(|l| Link {
                        level: hw.memories[l].name.clone(),
                        s_per_byte: 1.0 / hw.memories[l].bytes_per_s,
                        j_per_byte: hw.memories[l].j_per_byte,
                        fixed_s: switch(v),
                    })
                })
                .collect()
        })
        .collect()
}

impl Instance {
    /// Prices every op of `graph` on every unit of `hw` and collects edges, links and floors.
    pub fn from_graph(
        hw: &Hardware,
        graph: &Graph,
        opts: &BuildOptions,
    ) -> Result<Instance, PlaceError> {
        let unit_ids = placeable_units(hw, opts)?;
        check_switch_times(hw, opts)?;
        // Each unit is priced for what it runs itself ([`CostModel::own_cost`]): a PIM unit's
        // `host` is a placeable unit of its own, so the host's share of the work is a placement
        // decision rather than part of the PIM unit's model.
        let runtimes = unit_runtimes(hw, &unit_ids, opts)?;
        let views = runtime_views(hw, &unit_ids, &runtimes)?;
        let priced = UnitModels::new(hw, graph, opts, &unit_ids, &views)?;
        let (floor_levels, floors) = shared_floors(hw, &unit_ids, opts);
        let segment = segments_of(graph);
        let ops = priced.place_ops(
            hw,
            graph,
            &unit_ids,
            &runtimes,
            (&floor_levels, &floors),
            &segment,
        )?;
        let edges = edges_of(graph);
        let links = links_of(hw, &unit_ids, opts, &priced.launch_s);
        let segments = segment.last().map_or(0, |s| s + 1);
        let inst = Instance {
            name: graph.name.clone(),
            device: hw.name.clone(),
            units: unit_ids
                .iter()
                .map(|&u| PlaceUnit {
                    name: hw.units[u].name.clone(),
                    kind: hw.units[u].kind,
                    hw_index: u,
                })
                .collect(),
            ops,
            edges,
            links,
            floors,
            static_w: hw.static_w,
            segments,
        };
        inst.check()?;
        Ok(inst)
    }

    /// Checks the structural invariants every solver relies on.
    pub fn check(&self) -> Result<(), PlaceError> {
        let bad = |m: String| Err(PlaceError::Options(m));
        let nu = self.units.len();
        if nu == 0 {
            return bad("no units".into());
        }
        if self.links.len() != nu || self.links.iter().any(|r| r.len() != nu) {
            return bad("links must be a units × units table".into());
        }
        for (i, op) in self.ops.iter().enumerate() {
            if op.costs.len() != nu {
                return bad(format!(
                    "op `{}` has {} costs for {nu} units",
                    op.name,
                    op.costs.len()
                ));
            }
            for c in op.costs.iter().flatten() {
                if !(c.time_s.is_finite() && c.time_s >= 0.0)
                    || !(c.energy_j.is_finite() && c.energy_j >= 0.0)
                    || c.floor_bytes.len() != self.floors.len()
                {
                    return bad(format!("op `{}` has an invalid cost {c:?}", op.name));
                }
            }
            if op.feasible().is_empty() {
                return bad(format!("op `{}` (#{i}) has no allowed unit", op.name));
            }
            if op.segment >= self.segments.max(1) {
                return bad(format!(
                    "op `{}` is in segment {} of {}",
                    op.name, op.segment, self.segments
                ));
            }
            if i > 0 && op.segment < self.ops[i - 1].segment {
                return bad(format!(
                    "op `{}`: segments must not decrease along the op order",
                    op.name
                ));
            }
        }
        for e in &self.edges {
            if e.from >= e.to || e.to >= self.ops.len() || !(e.bytes >= 0.0) {
                return bad(format!("edge {e:?} is not a forward edge between ops"));
            }
        }
        Ok(())
    }

    /// Time and energy of moving edge `e`'s bytes from unit `u` to unit `v`: zero on the same
    /// unit, `None` when the units share no memory level.
    pub fn transfer(&self, e: &Edge, u: usize, v: usize) -> Option<(f64, f64)> {
        if u == v {
            return Some((0.0, 0.0));
        }
        self.links[u][v]
            .as_ref()
            .map(|l| (e.bytes * l.s_per_byte + l.fixed_s, e.bytes * l.j_per_byte))
    }

    /// Incoming edges of every op.
    pub fn preds(&self) -> Vec<Vec<usize>> {
        let mut p = vec![Vec::new(); self.ops.len()];
        for (k, e) in self.edges.iter().enumerate() {
            p[e.to].push(k);
        }
        p
    }

    /// Outgoing edges of every op.
    pub fn succs(&self) -> Vec<Vec<usize>> {
        let mut s = vec![Vec::new(); self.ops.len()];
        for (k, e) in self.edges.iter().enumerate() {
            s[e.from].push(k);
        }
        s
    }

    /// Index of the unit named `name`.
    pub fn unit_named(&self, name: &str) -> Option<usize> {
        self.units.iter().position(|u| u.name == name)
    }

    /// Total floor time of `bytes` moved per floor level: the largest bytes/bandwidth.
    pub fn floor_time(&self, bytes: &[f64]) -> f64 {
        self.floors
            .iter()
            .zip(bytes)
            .map(|(f, b)| b / f.bytes_per_s)
            .fold(0.0, f64::max)
    }
}
