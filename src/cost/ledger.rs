//! The ledger: what one op (or a sum of ops) costs. Latency, energy by component, work, bytes
//! moved at each memory level, and the time attributed to each limiting resource, so the bound of
//! a sum is meaningful. Ledgers add up (`+`, `Sum`) and scale (`* n`).

use crate::hardware::{Hardware, MAX_LEVELS};
use serde::Serialize;
use std::ops::{Add, Mul};

/// What limits an op: compute, the bandwidth of one memory level, or fixed overhead.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "level")]
pub enum Bound {
    /// Arithmetic throughput.
    Compute,
    /// Bandwidth of the memory level with this index in `Hardware::memories`.
    Memory(usize),
    /// Fixed per-kernel overhead dominates.
    Overhead,
}

/// Cost of an op or a sum of ops. All quantities are additive.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Ledger {
    /// Wall time, seconds.
    pub latency_s: f64,
    /// Dynamic compute energy, joules.
    pub compute_j: f64,
    /// Memory access energy, joules.
    pub memory_j: f64,
    /// Static energy over the latency, joules.
    pub static_j: f64,
    /// Arithmetic operations (a MAC is 2).
    pub flops: f64,
    /// Bytes moved at each memory level (index as in `Hardware::memories`).
    pub bytes: [f64; MAX_LEVELS],
    /// Latency attributed to compute.
    pub compute_bound_s: f64,
    /// Latency attributed to each memory level's bandwidth.
    pub memory_bound_s: [f64; MAX_LEVELS],
    /// Latency of fixed overheads.
    pub overhead_s: f64,
}

impl Ledger {
    /// The empty ledger.
    pub const fn zero() -> Ledger {
        Ledger {
            latency_s: 0.0,
            compute_j: 0.0,
            memory_j: 0.0,
            static_j: 0.0,
            flops: 0.0,
            bytes: [0.0; MAX_LEVELS],
            compute_bound_s: 0.0,
            memory_bound_s: [0.0; MAX_LEVELS],
            overhead_s: 0.0,
        }
    }

    /// Closes the ledger once its latency is final: static energy is the device's static power
    /// over the latency. Every cost model ends its pricing with it.
    pub fn close_static(&mut self, hw: &Hardware) {
        self.static_j = hw.static_w * self.latency_s;
    }

    /// Total energy, joules.
    pub fn energy_j(&self) -> f64 {
        self.compute_j + self.memory_j + self.static_j
    }

    /// The resource that accounts for the most latency.
    pub fn bound(&self) -> Bound {
        let mut best = (Bound::Compute, self.compute_bound_s);
        for (i, &t) in self.memory_bound_s.iter().enumerate() {
            if t > best.1 {
                best = (Bound::Memory(i), t);
            }
        }
        if self.overhead_s > best.1 {
            best = (Bound::Overhead, self.overhead_s);
        }
        best.0
    }

    /// Sum of bytes over all levels.
    pub fn total_bytes(&self) -> f64 {
        self.bytes.iter().sum()
    }
}

impl Default for Ledger {
    fn default() -> Self {
        Ledger::zero()
    }
}

fn add_arr(a: [f64; MAX_LEVELS], b: [f64; MAX_LEVELS]) -> [f64; MAX_LEVELS] {
    std::array::from_fn(|i| a[i] + b[i])
}

impl Add for Ledger {
    type Output = Ledger;
    fn add(self, o: Ledger) -> Ledger {
        Ledger {
            latency_s: self.latency_s + o.latency_s,
            compute_j: self.compute_j + o.compute_j,
            memory_j: self.memory_j + o.memory_j,
            static_j: self.static_j + o.static_j,
            flops: self.flops + o.flops,
            bytes: add_arr(self.bytes, o.bytes),
            compute_bound_s: self.compute_bound_s + o.compute_bound_s,
            memory_bound_s: add_arr(self.memory_bound_s, o.memory_bound_s),
            overhead_s: self.overhead_s + o.overhead_s,
        }
    }
}

impl Mul<f64> for Ledger {
    type Output = Ledger;
    fn mul(self, k: f64) -> Ledger {
        Ledger {
            latency_s: self.latency_s * k,
            compute_j: self.compute_j * k,
            memory_j: self.memory_j * k,
            static_j: self.static_j * k,
            flops: self.flops * k,
            bytes: self.bytes.map(|b| b * k),
            compute_bound_s: self.compute_bound_s * k,
            memory_bound_s: self.memory_bound_s.map(|b| b * k),
            overhead_s: self.overhead_s * k,
        }
    }
}

impl std::iter::Sum for Ledger {
    fn sum<I: Iterator<Item = Ledger>>(iter: I) -> Ledger {
        iter.fold(Ledger::zero(), Add::add)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bound_of_a_sum_follows_the_larger_share() {
        let mut a = Ledger::zero();
        a.latency_s = 3.0;
        a.compute_bound_s = 3.0;
        let mut b = Ledger::zero();
        b.latency_s = 1.0;
        b.memory_bound_s[1] = 1.0;
        assert_eq!((a + b).bound(), Bound::Compute);
        assert_eq!((a + b * 4.0).bound(), Bound::Memory(1));
        assert_eq!((a + b * 4.0).latency_s, 7.0);
        let s: Ledger = [a, b, b].into_iter().sum();
        assert_eq!(s.latency_s, 5.0);
    }
}
