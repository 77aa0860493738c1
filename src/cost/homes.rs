//! Where tensors live: the default placement policy of every cost model (the roofline's, which
//! the cycle models share), and its hardware-independent half, [`PlacementProfile`], which places
//! a graph on any unit in time linear in its tensor count.

use super::TensorHomes;
use crate::hardware::{Hardware, MAX_LEVELS};
use crate::workload::{Graph, OpId, Role};

/// The default placement policy for unit `unit` (the roofline's, shared by the cycle models):
/// * weights and KV cache live together in the innermost level the unit reaches that can hold all
///   of them, else in its main memory (the outermost level it reaches that is not read-only);
///   where the unit reaches a read-only level (a microcontroller's flash, read in place), the
///   weights live there instead and only KV caches follow this rule;
/// * graph inputs and outputs live in main memory;
/// * an activation lives in the innermost level whose remaining capacity holds the largest
///   activation working set (inputs plus outputs) of any op that touches it, else in main memory
///   (never in a read-only level).
///   Small decode activations thus stay on chip, large prefill ones spill.
pub fn residency(hw: &Hardware, unit: usize, graph: &Graph) -> TensorHomes {
    PlacementProfile::of(graph).place(hw, unit)
}

/// The hardware-independent half of the default placement policy: the bytes of persistent
/// tensors and each tensor's largest activation working set. Computed once per graph, it places
/// the graph on any unit of any device in time linear in the tensor count, which is what makes
/// hardware what-if sweeps cheap.
#[derive(Clone, Debug)]
pub struct PlacementProfile {
    persistent: f64,
    weights: f64,
    working_set: Vec<f64>,
    roles: Vec<Role>,
}

impl PlacementProfile {
    /// Profiles `graph`.
    pub fn of(graph: &Graph) -> PlacementProfile {
        let persistent: f64 = graph
            .tensors
            .iter()
            .filter(|t| t.role.is_persistent())
            .map(|t| t.bytes())
            .sum();
        let weights: f64 = (graph.tensors.iter())
            .filter(|t| t.role == Role::Weight)
            .map(|t| t.bytes())
            .sum();
        let mut working_set = vec![0.0f64; graph.tensors.len()];
        for op in &graph.ops {
            let ws: f64 = op
                .inputs
                .iter()
                .chain(&op.outputs)
                .map(|&t| graph.tensor(t))
                .filter(|t| t.role == Role::Activation)
                .map(|t| t.bytes())
                .sum();
            for &t in op.inputs.iter().chain(&op.outputs) {
                let w = &mut working_set[t.0 as usize];
                *w = w.max(ws);
            }
        }
        PlacementProfile {
            persistent,
            weights,
            working_set,
            roles: graph.tensors.iter().map(|t| t.role).collect(),
        }
    }

    /// Groups ops whose ledgers are equal under this placement policy on every unit of every
    /// device: identical for costing (same kind, compute dtype, tensor shapes, storages and
    /// roles, as in [`Graph::op_classes`]) and touching tensors whose homes always agree (same
    /// role and working set, the only inputs of [`PlacementProfile::place`] besides the device).
    /// Returns one representative per group with its multiplicity, in order of first appearance;
    /// summing `cost(representative) × multiplicity` gives the graph total exactly (up to
    /// summation order), where [`Graph::op_classes`] alone can merge ops at layer boundaries
    /// whose activations land in different levels.
    pub fn classes(&self, graph: &Graph) -> Vec<(OpId, u32)> {
        self.classes_with(graph, |_| 0)
    }

    /// The tensors (ids, sorted, once each) that the representatives of `classes` read or
    /// write: the only ones [`PlacementProfile::place_only`] needs to place to price them.
    pub fn touched(graph: &Graph, classes: &[(OpId, u32)]) -> Vec<u32> {
        let mut touched: Vec<u32> = (classes.iter())
            .flat_map(|&(op, _)| {
                let o = graph.op(op);
                o.inputs
                    .iter()
                    .chain(&o.outputs)
                    .map(|t| t.0)
                    .collect::<Vec<_>>()
            })
            .collect();
        touched.sort_unstable();
        touched.dedup();
        touched
    }

    /// [`PlacementProfile::classes`] refined by `extra(op index)`: ops are grouped only when
    /// `extra` agrees too (e.g. the fusion state of each op and of its tensors under a
    /// runtime, which changes its dispatch and where its intermediates live).
    pub fn classes_with(&self, graph: &Graph, extra: impl Fn(usize) -> u64) -> Vec<(OpId, u32)> {
        graph.op_classes_with(|t| self.working_set[t.0 as usize].to_bits(), extra)
    }

    /// Where tensors live on unit `unit` of `hw` (see [`residency`] for the policy).
    pub fn place(&self, hw: &Hardware, unit: usize) -> TensorHomes {
        let (persist_home, outer, free) = self.levels(hw, unit);
        let reach = &hw.units[unit].reach;
        let home = self
            .roles
            .iter()
            .zip(&self.working_set)
            .map(|(&role, &ws)| home_of(role, ws, persist_home, outer, reach, &free))
            .collect();
        TensorHomes { home }
    }

    /// Like [`PlacementProfile::place`], but computes the homes of `tensors` only; every other
    /// tensor is left in the unit's main memory. Exact for pricing ops that touch only `tensors`
    /// (e.g. the representatives of [`PlacementProfile::classes`]), and much cheaper than placing
    /// every tensor of a deep model.
    pub fn place_only(&self, hw: &Hardware, unit: usize, tensors: &[u32]) -> TensorHomes {
        let (persist_home, outer, free) = self.levels(hw, unit);
        let reach = &hw.units[unit].reach;
        let mut home = vec![outer; self.roles.len()];
        for &t in tensors {
            let t = t as usize;
            home[t] = home_of(
                self.roles[t],
                self.working_set[t],
                persist_home,
                outer,
                reach,
                &free,
            );
        }
        TensorHomes { home }
    }

    /// ((home of weights, home of KV caches), main memory, capacity left per level). A
    /// read-only level (a microcontroller's flash) holds the weights in place and has no room
    /// for anything else; without one, weights and KV caches share a home.
    fn levels(&self, hw: &Hardware, unit: usize) -> (Persist, usize, [f64; MAX_LEVELS]) {
        let reach = &hw.units[unit].reach;
        let outer = hw.main_level(unit);
        let mut free = [0.0f64; MAX_LEVELS];
        for (f, m) in free.iter_mut().zip(&hw.memories) {
            *f = if m.read_only {
                f64::NEG_INFINITY
            } else {
                m.usable_bytes
            };
        }
        let (store, together) = match hw.weight_store(unit) {
            Some(store) => (Some(store), self.persistent - self.weights),
            None => (None, self.persistent),
        };
        let home = reach
            .iter()
            .copied()
            .find(|&l| free[l] >= together)
            .unwrap_or(outer);
        free[home] -= together;
        let persist = Persist {
            weights: store.unwrap_or(home),
            kv: home,
        };
        (persist, outer, free)
    }
}

/// Homes of the persistent tensors.
#[derive(Clone, Copy)]
struct Persist {
    weights: usize,
    kv: usize,
}

fn home_of(
    role: Role,
    ws: f64,
    persist_home: Persist,
    outer: usize,
    reach: &[usize],
    free: &[f64; MAX_LEVELS],
) -> usize {
    match role {
        Role::Weight => persist_home.weights,
        Role::KvCache => persist_home.kv,
        Role::Input | Role::Output => outer,
        Role::Activation => reach
            .iter()
            .copied()
            .find(|&l| free[l] >= ws)
            .unwrap_or(outer),
    }
}
