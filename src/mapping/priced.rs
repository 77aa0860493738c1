//! Back into the cost model: a unit with a software-managed scratchpad takes its off-chip traffic
//! from a mapper's plan instead of the roofline's residency policy.
//!
//! Under a plan, every tensor the plan manages (activations, graph inputs and outputs, and the
//! weights too when they are part of the problem) is in the scratchpad while an op touches it
//! (that is what the verifier proves), so the op's own accesses to them are priced at the
//! scratchpad level; tensors outside the problem (weights streamed past the scratchpad, the KV
//! cache) keep the homes the roofline's policy gives them. The plan's own traffic, compulsory
//! (first loads, output stores) and non-compulsory (spill stores and reloads), moves tensors
//! between the scratchpad and the next level out on the unit's reach list. [`Mapped`] charges
//! each transfer to the op at whose step it happens:
//!
//! * bytes: the transfer counts at the level it goes to or comes from and at every level inside
//!   it (the scratchpad), as the roofline attributes any access;
//! * time: `bytes / (bandwidth × bandwidth efficiency)` of that level, added to the op's latency.
//!   Spills and reloads are serialised with the op (no overlap with compute), an upper bound;
//!   a double-buffered DMA engine would hide part of it;
//! * energy: the bytes times each crossed level's energy per byte, plus static power over the
//!   added time.

use crate::cost::{CostModel, Infeasible, Ledger, Residency};
use crate::hardware::{Hardware, MAX_LEVELS};
use crate::roofline::{Mode, attribute, reach_positions};
use crate::workload::{Graph, OpId};

use super::MappingError;

/// The scratchpad a unit can map onto: the innermost software-managed level on its reach list,
/// and the level just outside it where spills go. Errors name the levels the unit reaches when
/// none is software-managed (caches cannot take a plan).
pub fn scratchpad_of(hw: &Hardware, unit: usize) -> Result<(usize, usize), MappingError> {
    let reach = &hw.units[unit].reach;
    match reach.iter().position(|&l| hw.memories[l].software_managed) {
        Some(p) if p + 1 < reach.len() => Ok((reach[p], reach[p + 1])),
        Some(p) => Err(MappingError::NoScratchpad(format!(
            "unit `{}` of `{}`: its software-managed level `{}` is its outermost memory, so \
                 there is nowhere to spill to",
            hw.units[unit].name, hw.name, hw.memories[reach[p]].name
        ))),
        None => Err(MappingError::NoScratchpad(format!(
            "unit `{}` of `{}` reaches no software-managed memory level (it reaches {}, all \
                 caches); mark a scratchpad with `managed = \"software\"` in the hardware file",
            hw.units[unit].name,
            hw.name,
            reach
                .iter()
                .map(|&l| format!("`{}`", hw.memories[l].name))
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// Where tensors live under a mapper's plan: every tensor the plan manages (`in_plan`, by graph
/// tensor index) in the scratchpad `scratch`; every other tensor (weights streamed past the
/// scratchpad, KV cache) where `base` puts it, moved out to `spill` if `base` put it in the
/// scratchpad, since the plan did not budget room for it.
pub fn mapped_residency(
    base: &Residency,
    in_plan: &[bool],
    scratch: usize,
    spill: usize,
) -> Residency {
    let home = base
        .home
        .iter()
        .zip(in_plan)
        .map(|(&h, &planned)| match (planned, h == scratch) {
            (true, _) => scratch,
            (false, true) => spill,
            (false, false) => h,
        })
        .collect();
    Residency { home }
}

/// A cost model wrapped to add a plan's spill and reload traffic to the ops at whose steps it
/// happens (see the module docs for how it is priced).
pub struct Mapped<'a> {
    inner: &'a dyn CostModel,
    mode: Mode,
    spill: usize,
    pos: [Option<u8>; MAX_LEVELS],
    extra_bytes: Vec<f64>,
}

impl<'a> Mapped<'a> {
    /// Wraps `inner`; `extra_bytes[op]` is the non-compulsory traffic charged to graph op `op`
    /// (one entry per graph op), moved between the scratchpad and level `spill`.
    pub fn new(inner: &'a dyn CostModel, mode: Mode, spill: usize, extra_bytes: Vec<f64>) -> Self {
        let pos = reach_positions(inner.hardware(), inner.unit());
        Mapped {
            inner,
            mode,
            spill,
            pos,
            extra_bytes,
        }
    }

    /// The ledger of moving `bytes` between the scratchpad and the spill level.
    pub fn transfer(&self, bytes: f64) -> Ledger {
        let hw = self.inner.hardware();
        let unit = self.inner.unit();
        let mut l = Ledger::zero();
        if bytes <= 0.0 {
            return l;
        }
        attribute(hw, unit, &self.pos, self.spill, bytes, &mut l.bytes)
            .expect("the spill level is on the unit's reach list by construction");
        let e_b = match self.mode {
            Mode::Ideal => 1.0,
            Mode::Calibrated => hw.units[unit].bandwidth_efficiency,
        };
        let t = bytes / (hw.memories[self.spill].bytes_per_s * e_b);
        l.latency_s = t;
        l.memory_bound_s[self.spill] = t;
        l.memory_j = (0..hw.memories.len())
            .map(|i| l.bytes[i] * hw.memories[i].j_per_byte)
            .sum();
        l.static_j = hw.static_w * t;
        l
    }
}

impl CostModel for Mapped<'_> {
    fn cost(&self, graph: &Graph, residency: &Residency, op: OpId) -> Result<Ledger, Infeasible> {
        let base = self.inner.cost(graph, residency, op)?;
        let extra = self.extra_bytes.get(op.0 as usize).copied().unwrap_or(0.0);
        Ok(base + self.transfer(extra))
    }

    fn hardware(&self) -> &Hardware {
        self.inner.hardware()
    }

    fn unit(&self) -> usize {
        self.inner.unit()
    }
}
