//! The cost of a subnet: latency, energy and memory from any archscope device and unit (through
//! the unit's cost model, as `score_graph` prices a graph), or latency from an OFA look-up table.
//!
//! A search prices tens of thousands of subnets, so [`ArchscopeEfficiency`] never builds or
//! prices a whole graph per subnet. A [`Net`] is a chain of segments joined by single tensors,
//! and an op's ledger depends only on the op and on where its tensors live. So each distinct
//! segment is lowered once to a small graph and its per-tensor working sets are kept; for a
//! subnet, the roofline's placement policy ([`crate::cost::residency`]) is replayed from
//! those working sets and the subnet's total weight bytes, and each segment's ledger is looked up
//! by (segment, placement of its tensors), priced on first use. The result equals
//! `score_graph` on the full graph (checked in the tests), at a few microseconds per subnet.
//! Peak activation memory is the largest per-segment peak, exact because only the boundary
//! tensor is alive across segments.
//!
//! Under a runtime ([`ArchscopeEfficiency::with_runtime`]) the same holds against
//! `score_graph_under`: the unit is seen through one [`RuntimeView`] (dispatch, threads,
//! efficiency entries), each segment graph takes the runtime's fusion plan and efficiency picks
//! ([`GraphPlan`]) and its placement ([`RuntimeView::homes_from`]'s rules). Fusion can join the
//! first op of a segment to the kernel of the segment before it (a compiled graph fuses the
//! classifier's pooling into the last convolution); each distinct pair of adjacent segments is
//! planned once to find out, and a joined segment pays no dispatch for its first op and keeps the
//! tensor between them on chip. A compiled graph's per-run launch is charged once per subnet,
//! not once per segment.

use super::NasError;
use super::lut::LatencyTable;
use super::net::{Net, Precision, Segment};
use super::space::{MbArch, MbSpace, ResNetArch, ResNetSpace, SearchSpace};
use crate::cost::{CostModel, Ledger, Mode, TensorHomes};
use crate::cost_models::model_for;
use crate::hardware::Hardware;
use crate::runtime::{FusionPlan, GraphPlan, Runtime, RuntimeView, WorkloadKind};
use crate::score::ScoreError;
use crate::workload::{Graph, OpId, Role, Storage};
use serde::Serialize;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Arc, PoisonError, RwLock};

/// An efficiency metric.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Latency of one inference, ms.
    Latency,
    /// Energy of one inference, mJ.
    Energy,
    /// Weights plus peak live activations, MiB.
    Memory,
    /// Conv + FC MACs, millions.
    Macs,
}

impl Metric {
    /// Column name with unit.
    pub fn column(self) -> &'static str {
        match self {
            Metric::Latency => "latency_ms",
            Metric::Energy => "energy_mj",
            Metric::Memory => "memory_mib",
            Metric::Macs => "macs_m",
        }
    }

    /// Axis label.
    pub fn label(self) -> &'static str {
        match self {
            Metric::Latency => "latency (ms)",
            Metric::Energy => "energy (mJ)",
            Metric::Memory => "memory (MiB)",
            Metric::Macs => "MACs (M)",
        }
    }
}

/// The cost of one subnet. Metrics an evaluator does not provide are `None`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Cost {
    /// ms.
    pub latency_ms: Option<f64>,
    /// mJ.
    pub energy_mj: Option<f64>,
    /// MiB.
    pub memory_mib: Option<f64>,
    /// Conv + FC MACs, millions.
    pub macs_m: f64,
    /// Conv + FC parameters, millions.
    pub params_m: f64,
}

impl Cost {
    /// The value of a metric.
    pub fn get(&self, m: Metric) -> Option<f64> {
        match m {
            Metric::Latency => self.latency_ms,
            Metric::Energy => self.energy_mj,
            Metric::Memory => self.memory_mib,
            Metric::Macs => Some(self.macs_m),
        }
    }
}

/// Prices subnets of a space. Pure: the same arch always costs the same.
pub trait Efficiency<A>: Sync {
    /// The metrics this evaluator fills in.
    fn provides(&self) -> Vec<Metric>;
    /// The cost of one subnet.
    fn cost(&self, arch: &A) -> Result<Cost, NasError>;
    /// A description for reports, e.g. `pixel8/cpu-big (calibrated roofline, f32)`.
    fn label(&self) -> String;
}

/// A space whose subnets are concrete CNNs.
pub trait NetSpace: SearchSpace {
    /// The network of a subnet.
    fn net(&self, arch: &Self::Arch) -> Net;
    /// Subnets that together contain every segment the space can produce (used to check that a
    /// look-up table covers the space before searching).
    fn covering_archs(&self) -> Vec<Self::Arch>;
}

impl NetSpace for MbSpace {
    fn net(&self, a: &MbArch) -> Net {
        MbSpace::net(self, a)
    }

    fn covering_archs(&self) -> Vec<MbArch> {
        let mut v = Vec::new();
        let depth = *self.depth_list.iter().max().unwrap_or(&1);
        for &r in &self.resolutions {
            for &k in &self.ks_list {
                for &e in &self.e_list {
                    v.push(MbArch {
                        ks: vec![k; self.n_blocks()],
                        e: vec![e; self.n_blocks()],
                        d: vec![depth; self.n_stages()],
                        r,
                    });
                }
            }
        }
        v
    }
}

impl NetSpace for ResNetSpace {
    fn net(&self, a: &ResNetArch) -> Net {
        ResNetSpace::net(self, a)
    }

    fn covering_archs(&self) -> Vec<ResNetArch> {
        let mut v = Vec::new();
        for &r in &self.resolutions {
            for w in 0..self.width_list.len() as u8 {
                for e in 0..self.expand_list.len() as u8 {
                    for stem in [0, 2] {
                        v.push(ResNetArch {
                            d: vec![stem, 2, 2, 2, 2],
                            e: vec![e; self.n_blocks()],
                            w: vec![w; 6],
                            r,
                        });
                    }
                }
            }
        }
        v
    }
}

/// FxHash (the multiply-rotate hash of rustc and Firefox): fast for small integer keys.
#[derive(Default, Clone, Copy)]
pub struct FxHasher(u64);

/// The FxHash multiplier.
const FX_SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut b = [0u8; 8];
            b[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(b));
        }
    }
    fn write_u64(&mut self, x: u64) {
        self.0 = (self.0.rotate_left(5) ^ x).wrapping_mul(FX_SEED);
    }
    fn write_u32(&mut self, x: u32) {
        self.write_u64(x as u64)
    }
    fn write_u8(&mut self, x: u8) {
        self.write_u64(x as u64)
    }
    fn write_usize(&mut self, x: usize) {
        self.write_u64(x as u64)
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

/// A HashMap with [`FxHasher`].
pub type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// Latency from an OFA look-up table (plus MACs and parameters).
pub struct LutEfficiency<'s, S: NetSpace> {
    space: &'s S,
    table: LatencyTable,
    cache: RwLock<FxMap<(u32, Segment), f64>>,
}

impl<'s, S: NetSpace> LutEfficiency<'s, S> {
    /// Wraps a table, checking that it covers every segment of every resolution of `space`.
    pub fn new(space: &'s S, table: LatencyTable) -> Result<Self, NasError> {
        let me = LutEfficiency {
            space,
            table,
            cache: RwLock::new(FxMap::default()),
        };
        for a in space.covering_archs() {
            me.net_ms(&space.net(&a))?;
        }
        Ok(me)
    }

    /// The table.
    pub fn table(&self) -> &LatencyTable {
        &self.table
    }

    fn net_ms(&self, net: &Net) -> Result<f64, NasError> {
        let mut ms = 0.0;
        for (s, n) in net.segments.iter().zip(&net.names) {
            let key = (net.resolution, *s);
            let hit = self
                .cache
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .get(&key)
                .copied();
            ms += match hit {
                Some(v) => v,
                None => {
                    let v = self.table.segment_ms(net.resolution, s, n)?;
                    self.cache
                        .write()
                        .unwrap_or_else(PoisonError::into_inner)
                        .insert(key, v);
                    v
                }
            };
        }
        Ok(ms)
    }
}

impl<S: NetSpace> Efficiency<S::Arch> for LutEfficiency<'_, S> {
    fn provides(&self) -> Vec<Metric> {
        vec![Metric::Latency, Metric::Macs]
    }

    fn cost(&self, arch: &S::Arch) -> Result<Cost, NasError> {
        let net = self.space.net(arch);
        Ok(Cost {
            latency_ms: Some(self.net_ms(&net)?),
            energy_mj: None,
            memory_mib: None,
            macs_m: net.ofa_macs() as f64 / 1e6,
            params_m: net.params() as f64 / 1e6,
        })
    }

    fn label(&self) -> String {
        format!(
            "OFA latency look-up table ({})",
            self.table
                .files
                .values()
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        )
    }
}

/// Only MACs and parameters (for searches constrained by MACs alone).
pub struct MacsEfficiency<'s, S: NetSpace>(pub &'s S);

impl<S: NetSpace> Efficiency<S::Arch> for MacsEfficiency<'_, S> {
    fn provides(&self) -> Vec<Metric> {
        vec![Metric::Macs]
    }
    fn cost(&self, arch: &S::Arch) -> Result<Cost, NasError> {
        let net = self.0.net(arch);
        Ok(Cost {
            macs_m: net.ofa_macs() as f64 / 1e6,
            params_m: net.params() as f64 / 1e6,
            ..Cost::default()
        })
    }
    fn label(&self) -> String {
        "conv + FC MACs".into()
    }
}

/// Bits per tensor home in a packed placement key.
const HOME_BITS: u32 = 3;
/// Tensors of one segment that fit a packed placement key.
const MAX_PACKED: usize = (128 / HOME_BITS) as usize;

/// What is kept about one distinct segment.
struct SegInfo {
    /// The segment's graph (as the runtime computes it, under one).
    graph: Graph,
    /// Under a runtime, its plan of the graph: as planned alone, and with the first op joined to
    /// the kernel of the segment before it.
    plans: Option<[GraphPlan; 2]>,
    weight_bytes: f64,
    /// Largest activation working set of any op touching each tensor (0 for non-activations).
    ws: Vec<f64>,
    input: usize,
    output: usize,
    peak_act: f64,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct SegKey {
    seg: Segment,
    first: bool,
    last: bool,
}

#[derive(Default)]
struct Interned {
    index: FxMap<SegKey, u32>,
    infos: Vec<Arc<SegInfo>>,
}

/// How the fusion of the full graph meets the boundary between two adjacent segments.
#[derive(Clone, Copy)]
struct Junction {
    /// The first op of the second segment runs in the kernel of the last op of the first.
    joined: bool,
    /// The tensor between them is a fused intermediate (it stays in the innermost level).
    fused: bool,
}

/// What pricing under a runtime keeps.
struct Under<'h> {
    view: RuntimeView<'h>,
    threads: Option<u64>,
    /// A compiled graph's per-run launch, as a ledger (zero under per-op dispatch): charged
    /// once per subnet.
    launch: Ledger,
    /// Junctions by (first segment, second segment).
    junctions: RwLock<FxMap<(u32, u32), Junction>>,
}

/// Latency, energy and memory of subnets on one unit of an archscope device.
pub struct ArchscopeEfficiency<'h, S: NetSpace> {
    space: &'h S,
    hw: &'h Hardware,
    unit: usize,
    mode: Mode,
    prec: Precision,
    model: Box<dyn CostModel + 'h>,
    /// The runtime subnets are priced under (`None`: the unit alone).
    under: Option<Under<'h>>,
    interned: RwLock<Interned>,
    /// Ledgers by (segment, first op joined to the segment before, packed placement).
    ledgers: RwLock<FxMap<(u32, bool, u128), Ledger>>,
}

fn segment_graph(seg: &Segment, prec: Precision, first: bool, last: bool) -> SegInfo {
    let mut g = Graph::new("segment");
    let (c, h) = seg.input();
    let x = g.add_tensor(
        "x",
        &[1, c as u64, h as u64, h as u64],
        Storage::plain(prec.dtype()),
        if first { Role::Input } else { Role::Activation },
    );
    let y = seg.emit(&mut g, "s", x, prec, None);
    if last {
        g.tensors[y.0 as usize].role = Role::Output;
    }
    // the roofline's working set: activation bytes an op touches, maximised per tensor
    let mut ws = vec![0.0f64; g.tensors.len()];
    for op in &g.ops {
        let set: f64 = op
            .inputs
            .iter()
            .chain(&op.outputs)
            .map(|&t| g.tensor(t))
            .filter(|t| t.role == Role::Activation)
            .map(|t| t.bytes())
            .sum();
        for &t in op.inputs.iter().chain(&op.outputs) {
            let w = &mut ws[t.0 as usize];
            *w = w.max(set);
        }
    }
    SegInfo {
        plans: None,
        weight_bytes: g.weight_bytes(),
        peak_act: g.peak_activation_bytes(),
        input: x.0 as usize,
        output: y.0 as usize,
        ws,
        graph: g,
    }
}

/// Segments `a` then `b` as one graph: the graph, the index of `b`'s first op and the tensor
/// between them.
fn pair_graph(
    a: &SegKey,
    b: &SegKey,
    prec: Precision,
) -> (Graph, usize, crate::workload::TensorId) {
    let mut g = Graph::new("segment pair");
    let (c, h) = a.seg.input();
    let x = g.add_tensor(
        "x",
        &[1, c as u64, h as u64, h as u64],
        Storage::plain(prec.dtype()),
        if a.first {
            Role::Input
        } else {
            Role::Activation
        },
    );
    let y = a.seg.emit(&mut g, "a", x, prec, None);
    let first_of_b = g.ops.len();
    let z = b.seg.emit(&mut g, "b", y, prec, None);
    if b.last {
        g.tensors[z.0 as usize].role = Role::Output;
    }
    (g, first_of_b, y)
}

impl<'h, S: NetSpace> ArchscopeEfficiency<'h, S> {
    /// [`Self::new`] on the device's default unit, calibrated, with f32 weights and
    /// activations.
    pub fn on_default_unit(space: &'h S, hw: &'h Hardware) -> Result<Self, NasError> {
        Self::new(space, hw, hw.default_unit, Mode::Calibrated, Precision::F32)
    }

    /// Prices subnets of `space` on unit `unit` of `hw` with the unit's cost model.
    pub fn new(
        space: &'h S,
        hw: &'h Hardware,
        unit: usize,
        mode: Mode,
        prec: Precision,
    ) -> Result<Self, NasError> {
        let model = model_for(hw, unit, mode).map_err(ScoreError::from)?;
        Ok(ArchscopeEfficiency {
            space,
            hw,
            unit,
            mode,
            prec,
            model,
            under: None,
            interned: RwLock::new(Interned::default()),
            ledgers: RwLock::new(FxMap::default()),
        })
    }

    /// Prices under `runtime` at `threads` CPU threads (all the unit's cores when `None`), as
    /// `score --runtime --threads` prices the full graph (`score_graph_under`); the ideal runtime
    /// with no thread count changes nothing. The network's precision is taken as a scheme
    /// ([`Precision::scheme`]) under the runtime's conventions ([`Runtime::scheme`]).
    ///
    /// An error (infeasible, with the reason) when the runtime does not run networks on the
    /// unit or weights in the precision: every subnet shares both, so none could be priced.
    /// An error too when the thread count does not fit the unit.
    pub fn with_runtime(
        mut self,
        runtime: &'h Runtime,
        threads: Option<u64>,
    ) -> Result<Self, NasError> {
        if runtime.is_ideal() && threads.is_none() {
            return Ok(self);
        }
        let u = &self.hw.units[self.unit];
        runtime
            .check_unit(u.kind, &u.name, WorkloadKind::Network)
            .map_err(ScoreError::from)?;
        let scheme = runtime.scheme(&self.prec.scheme());
        runtime
            .check_format(&scheme.name)
            .map_err(ScoreError::from)?;
        self.prec = Precision::of_scheme(&scheme).unwrap_or(self.prec);
        let view = RuntimeView::new(self.hw, self.unit, runtime, threads)
            .map_err(|e| NasError::Score(e.into()))?;
        let graph_s = view
            .model(self.mode, &Graph::new("launch"))
            .map_err(ScoreError::from)?
            .take_graph_launch();
        let mut launch = Ledger::zero();
        launch.latency_s = graph_s;
        launch.overhead_s = graph_s;
        launch.close_static(view.hardware());
        self.under = Some(Under {
            view,
            threads,
            launch,
            junctions: RwLock::new(FxMap::default()),
        });
        // segments interned so far were planned without the runtime
        self.interned = RwLock::new(Interned::default());
        self.ledgers = RwLock::new(FxMap::default());
        Ok(self)
    }

    fn info(&self, key: SegKey) -> (u32, Arc<SegInfo>) {
        {
            let r = self.interned.read().unwrap_or_else(PoisonError::into_inner);
            if let Some(&i) = r.index.get(&key) {
                return (i, r.infos[i as usize].clone());
            }
        }
        let mut info = segment_graph(&key.seg, self.prec, key.first, key.last);
        if let Some(under) = &self.under {
            let rt = under.view.runtime();
            if let std::borrow::Cow::Owned(g) = rt.prepare(&info.graph) {
                info.graph = g;
            }
            let alone = GraphPlan::of(rt, &info.graph);
            let mut joined = alone.clone();
            if let Some(s) = joined.plan.starts_kernel.first_mut() {
                *s = false;
            }
            info.plans = Some([alone, joined]);
        }
        let info = Arc::new(info);
        let mut w = self
            .interned
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(&i) = w.index.get(&key) {
            return (i, w.infos[i as usize].clone());
        }
        let i = w.infos.len() as u32;
        w.infos.push(info.clone());
        w.index.insert(key, i);
        (i, info)
    }

    /// How the full graph's fusion meets the boundary between segments `a` and `b` (planned
    /// once per pair, on a graph of the two).
    fn junction(&self, under: &Under<'_>, a: (u32, SegKey), b: (u32, SegKey)) -> Junction {
        let hit = under
            .junctions
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&(a.0, b.0))
            .copied();
        if let Some(j) = hit {
            return j;
        }
        let (g, first_of_b, boundary) = pair_graph(&a.1, &b.1, self.prec);
        let rt = under.view.runtime();
        let plan = FusionPlan::of(&rt.prepare(&g), &rt.patterns);
        let j = Junction {
            joined: !plan.starts_kernel[first_of_b],
            fused: plan.fused_intermediates.contains(&boundary),
        };
        under
            .junctions
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert((a.0, b.0), j);
        j
    }

    fn price(&self, info: &SegInfo, joined: bool, homes: Vec<usize>) -> Result<Ledger, NasError> {
        let res = TensorHomes { home: homes };
        let runtime_model;
        let model: &dyn CostModel = match (&self.under, &info.plans) {
            (Some(under), Some(plans)) => {
                let mut m = under
                    .view
                    .model_planned(self.mode, &plans[joined as usize])
                    .map_err(ScoreError::from)?;
                // charged once per subnet by the caller
                m.take_graph_launch();
                runtime_model = m;
                &runtime_model
            }
            _ => self.model.as_ref(),
        };
        let mut total = Ledger::zero();
        for i in 0..info.graph.ops.len() {
            total = total
                + model
                    .cost(&info.graph, &res, OpId(i as u32))
                    .map_err(ScoreError::from)?;
        }
        Ok(total)
    }

    /// Total ledger and peak activation bytes of a net, and its weight bytes. Under a runtime
    /// the total includes its per-run launch, once.
    pub fn net_ledger(&self, net: &Net) -> Result<(Ledger, f64, f64), NasError> {
        let n = net.segments.len();
        let keys: Vec<SegKey> = net
            .segments
            .iter()
            .enumerate()
            .map(|(i, s)| SegKey {
                seg: *s,
                first: i == 0,
                last: i + 1 == n,
            })
            .collect();
        let segs: Vec<(u32, Arc<SegInfo>)> = keys.iter().map(|&k| self.info(k)).collect();
        // under a runtime: how each boundary fuses
        let junctions: Vec<Junction> = match &self.under {
            Some(under) => (1..n)
                .map(|i| self.junction(under, (segs[i - 1].0, keys[i - 1]), (segs[i].0, keys[i])))
                .collect(),
            None => Vec::new(),
        };
        let no_junction = Junction {
            joined: false,
            fused: false,
        };
        let u = &self.hw.units[self.unit];
        let reach = &u.reach;
        let outer = self.hw.main_level(self.unit);
        let inner = reach[0];
        let on_chip = self
            .under
            .as_ref()
            .is_none_or(|x| x.view.runtime().on_chip_activations);
        let persistent: f64 = segs.iter().map(|(_, s)| s.weight_bytes).sum();
        let mut free: Vec<f64> = self.hw.memories.iter().map(|m| m.usable_bytes).collect();
        let persist_home = reach
            .iter()
            .copied()
            .find(|&l| free[l] >= persistent)
            .unwrap_or(outer);
        free[persist_home] -= persistent;
        let place = |ws: f64| {
            reach
                .iter()
                .copied()
                .find(|&l| free[l] >= ws)
                .unwrap_or(outer)
        };
        let mut total = Ledger::zero();
        let mut peak: f64 = 0.0;
        for (i, (id, info)) in segs.iter().enumerate() {
            let ws_in = match i {
                0 => info.ws[info.input],
                _ => info.ws[info.input].max(segs[i - 1].1.ws[segs[i - 1].1.output]),
            };
            let ws_out = match segs.get(i + 1) {
                Some((_, next)) => info.ws[info.output].max(next.ws[next.input]),
                None => info.ws[info.output],
            };
            let mut homes: Vec<usize> = info
                .graph
                .tensors
                .iter()
                .enumerate()
                .map(|(t, x)| match x.role {
                    Role::Weight | Role::KvCache => persist_home,
                    Role::Input | Role::Output => outer,
                    Role::Activation if !on_chip => outer,
                    Role::Activation if t == info.input => place(ws_in),
                    Role::Activation if t == info.output => place(ws_out),
                    Role::Activation => place(info.ws[t]),
                })
                .collect();
            // the runtime's fusion: fused intermediates stay in the innermost level
            let before = match i {
                0 => no_junction,
                _ => junctions.get(i - 1).copied().unwrap_or(no_junction),
            };
            let after = junctions.get(i).copied().unwrap_or(no_junction);
            if let Some(plans) = &info.plans {
                for t in &plans[0].plan.fused_intermediates {
                    homes[t.0 as usize] = inner;
                }
            }
            if before.fused {
                homes[info.input] = inner;
            }
            if after.fused {
                homes[info.output] = inner;
            }
            let joined = before.joined;
            let ledger = if homes.len() <= MAX_PACKED && homes.iter().all(|&h| h < 1 << HOME_BITS) {
                let packed = homes
                    .iter()
                    .fold(0u128, |acc, &h| (acc << HOME_BITS) | h as u128);
                let hit = self
                    .ledgers
                    .read()
                    .unwrap_or_else(PoisonError::into_inner)
                    .get(&(*id, joined, packed))
                    .copied();
                match hit {
                    Some(l) => l,
                    None => {
                        let l = self.price(info, joined, homes)?;
                        self.ledgers
                            .write()
                            .unwrap_or_else(PoisonError::into_inner)
                            .insert((*id, joined, packed), l);
                        l
                    }
                }
            } else {
                self.price(info, joined, homes)?
            };
            total = total + ledger;
            peak = peak.max(info.peak_act);
        }
        if let Some(under) = &self.under {
            total = total + under.launch;
        }
        Ok((total, peak, persistent))
    }

    /// Distinct segments and priced (segment, placement) pairs so far.
    pub fn cache_sizes(&self) -> (usize, usize) {
        (
            self.interned
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .infos
                .len(),
            self.ledgers
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .len(),
        )
    }
}

impl<S: NetSpace> Efficiency<S::Arch> for ArchscopeEfficiency<'_, S> {
    fn provides(&self) -> Vec<Metric> {
        vec![
            Metric::Latency,
            Metric::Energy,
            Metric::Memory,
            Metric::Macs,
        ]
    }

    fn cost(&self, arch: &S::Arch) -> Result<Cost, NasError> {
        let net = self.space.net(arch);
        let (l, peak, weights) = self.net_ledger(&net)?;
        Ok(Cost {
            latency_ms: Some(l.latency_s * 1e3),
            energy_mj: Some(l.energy_j() * 1e3),
            memory_mib: Some((weights + peak) / (1u64 << 20) as f64),
            macs_m: net.ofa_macs() as f64 / 1e6,
            params_m: net.params() as f64 / 1e6,
        })
    }

    fn label(&self) -> String {
        let runtime = self.under.as_ref().map_or(String::new(), |u| {
            let threads = u
                .threads
                .map_or(String::new(), |t| format!(", {t} threads"));
            format!(", runtime {}{threads}", u.view.runtime().name)
        });
        let base = format!(
            "archscope {} / {} ({} {}, {:?}",
            self.hw.name,
            self.hw.units[self.unit].name,
            match self.mode {
                Mode::Calibrated => "calibrated",
                Mode::Ideal => "ideal",
            },
            self.model.name(),
            self.prec
        )
        .to_lowercase();
        format!("{base}{runtime})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::score::{ScoreRequest, score_graph, score_graph_under};
    use rand::SeedableRng;

    fn check_against_score_graph(hw_name: &str, unit: Option<&str>, prec: Precision) {
        let hw = Hardware::load(hw_name).unwrap();
        let unit = hw.unit_index(unit).unwrap();
        let space = MbSpace::mbv3(1.2);
        let eff = ArchscopeEfficiency::new(&space, &hw, unit, Mode::Calibrated, prec).unwrap();
        let mut rng = crate::nas::space::SearchRng::seed_from_u64(11);
        for _ in 0..12 {
            let a = space.sample(&mut rng);
            let net = space.net(&a);
            let g = net.graph(prec);
            let full = score_graph(&hw, unit, Mode::Calibrated, &g).unwrap().total;
            // twice: the second time from the cache
            for _ in 0..2 {
                let c = eff.cost(&a).unwrap();
                let rel = |x: f64, y: f64| ((x - y) / y).abs();
                assert!(
                    rel(c.latency_ms.unwrap(), full.latency_s * 1e3) < 1e-9,
                    "{hw_name}"
                );
                assert!(
                    rel(c.energy_mj.unwrap(), full.energy_j() * 1e3) < 1e-9,
                    "{hw_name}"
                );
                let mem = (g.weight_bytes() + g.peak_activation_bytes()) / (1u64 << 20) as f64;
                assert!(rel(c.memory_mib.unwrap(), mem) < 1e-12);
                assert_eq!(c.macs_m, g.macs() / 1e6);
            }
        }
    }

    #[test]
    fn cached_cost_equals_score_graph_on_the_full_graph() {
        check_against_score_graph("pixel8", None, Precision::F32);
        check_against_score_graph("pixel8", Some("gpu"), Precision::F16);
        check_against_score_graph("jetson-orin-nano", None, Precision::I8);
        // a cycle model behind the same interface
        check_against_score_graph("systolic-32x32", None, Precision::I8);
    }

    /// The cached cost of subnets under `runtime` (threads `threads`) against
    /// `score_graph_under` on each subnet's full graph; returns the largest relative change
    /// from the cost with no runtime.
    fn check_under_runtime<S: NetSpace>(
        space: &S,
        hw_name: &str,
        unit: &str,
        runtime: &str,
        threads: Option<u64>,
        prec: Precision,
    ) -> f64 {
        let hw = Hardware::load(hw_name).unwrap();
        let unit = hw.unit_index(Some(unit)).unwrap();
        let rt = Runtime::load(runtime).unwrap();
        let bare = ArchscopeEfficiency::new(space, &hw, unit, Mode::Calibrated, prec).unwrap();
        let eff = ArchscopeEfficiency::new(space, &hw, unit, Mode::Calibrated, prec)
            .unwrap()
            .with_runtime(&rt, threads)
            .unwrap();
        let label = Efficiency::<S::Arch>::label(&eff);
        assert!(label.contains(&format!("runtime {runtime}")), "{label}");
        if let Some(t) = threads {
            assert!(label.contains(&format!("{t} threads")), "{label}");
        }
        // score_graph_under reads the mode, the runtime, the threads and the calibration
        let req = ScoreRequest {
            batch: 1,
            prompt: 1,
            context: 1,
            prefill: false,
            decode: false,
            unit: None,
            mode: Mode::Calibrated,
            runtime: rt.clone(),
            threads,
            scales: crate::runtime::Scales::default(),
            calibration: None,
        };
        let rel = |x: f64, y: f64| ((x - y) / y).abs();
        let mut change: f64 = 0.0;
        let mut rng = crate::nas::space::SearchRng::seed_from_u64(3);
        for _ in 0..8 {
            let a = space.sample(&mut rng);
            let g = space.net(&a).graph(prec);
            let (_, eval) = score_graph_under(&hw, unit, &req, g).unwrap();
            let full = eval.total;
            // twice: the second time from the cache
            for _ in 0..2 {
                let c = eff.cost(&a).unwrap();
                let what = format!("{hw_name}/{runtime}");
                assert!(
                    rel(c.latency_ms.unwrap(), full.latency_s * 1e3) < 1e-9,
                    "{what}: {} vs {}",
                    c.latency_ms.unwrap(),
                    full.latency_s * 1e3
                );
                assert!(
                    rel(c.energy_mj.unwrap(), full.energy_j() * 1e3) < 1e-9,
                    "{what}"
                );
            }
            let b = bare.cost(&a).unwrap().latency_ms.unwrap();
            change = change.max(rel(eff.cost(&a).unwrap().latency_ms.unwrap(), b));
        }
        change
    }

    #[test]
    fn cached_cost_under_a_runtime_equals_score_graph_under() {
        let mb = MbSpace::mbv3(1.2);
        // per-op dispatch, conv + activation fusion, on 2 of the mid cores and on all of them
        let c = check_under_runtime(
            &mb,
            "pixel8",
            "cpu-mid",
            "litert-xnnpack",
            Some(2),
            Precision::F32,
        );
        assert!(c > 0.0);
        check_under_runtime(
            &mb,
            "pixel8",
            "cpu-big",
            "litert-xnnpack",
            None,
            Precision::F32,
        );
        // a compiled graph (its launch once per subnet) fusing elementwise chains across
        // segment boundaries (the classifier's pooling into the last convolution)
        let c = check_under_runtime(&mb, "galaxy-s24", "npu", "qnn", None, Precision::I8);
        assert!(c > 0.0);
        // ResNet's stem max pool joins the stem's kernel
        let rn = ResNetSpace::default();
        check_under_runtime(&rn, "galaxy-s24", "npu", "qnn", None, Precision::I8);
        // the ideal runtime with a thread count
        check_under_runtime(&mb, "pixel8", "cpu-big", "ideal", Some(1), Precision::F32);
    }

    #[test]
    fn a_runtime_that_cannot_run_the_subnets_is_refused_with_the_reason() {
        let space = MbSpace::mbv3(1.0);
        let new = |hw: &'static Hardware, prec| {
            ArchscopeEfficiency::new(&space, hw, hw.default_unit, Mode::Calibrated, prec).unwrap()
        };
        let pixel8: &'static Hardware = Box::leak(Box::new(Hardware::load("pixel8").unwrap()));
        let qnn = Runtime::load("qnn").unwrap();
        let e = new(pixel8, Precision::F32)
            .with_runtime(&qnn, None)
            .err()
            .unwrap();
        assert!(e.to_string().contains("does not run on cpu units"), "{e}");
        let llama = Runtime::load("llama.cpp-cpu").unwrap();
        let e = new(pixel8, Precision::F32)
            .with_runtime(&llama, None)
            .err()
            .unwrap();
        assert!(
            e.to_string().contains("does not run network workloads"),
            "{e}"
        );
        // the Edge TPU runs full-integer models only
        let coral: &'static Hardware =
            Box::leak(Box::new(Hardware::load("coral-edgetpu").unwrap()));
        let edgetpu = Runtime::load("edgetpu").unwrap();
        let e = new(coral, Precision::F32)
            .with_runtime(&edgetpu, None)
            .err()
            .unwrap();
        assert!(
            e.to_string().contains("does not run weights in `fp32`"),
            "{e}"
        );
        assert!(
            new(coral, Precision::I8)
                .with_runtime(&edgetpu, None)
                .is_ok()
        );
        // more threads than cores
        let xnn = Runtime::load("litert-xnnpack").unwrap();
        assert!(
            new(pixel8, Precision::F32)
                .with_runtime(&xnn, Some(64))
                .is_err()
        );
    }

    #[test]
    fn resnet_cost_equals_score_graph() {
        let hw = Hardware::load("pixel8").unwrap();
        let space = ResNetSpace::default();
        let eff = ArchscopeEfficiency::on_default_unit(&space, &hw).unwrap();
        let mut rng = crate::nas::space::SearchRng::seed_from_u64(5);
        for _ in 0..4 {
            let a = space.sample(&mut rng);
            let g = space.net(&a).graph(Precision::F32);
            let full = score_graph(&hw, hw.default_unit, Mode::Calibrated, &g)
                .unwrap()
                .total;
            let c = eff.cost(&a).unwrap();
            assert!((c.latency_ms.unwrap() / (full.latency_s * 1e3) - 1.0).abs() < 1e-9);
        }
    }
}
