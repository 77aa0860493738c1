//! Edge offload: split a network between a device and an edge server over a network link, at the
//! layer boundary that minimises end-to-end latency or the device's energy.
//!
//! # The split
//!
//! The graph's ops run in their (topological) order `0..n`. A **cut** `k` (`0 ≤ k ≤ n`) runs ops
//! `0..k` on the device's unit and ops `k..n` on the server's; `k = n` is "all on the device" and
//! `k = 0` "all on the server". The data that crosses cut `k` is every tensor that is not a
//! weight or KV cache (both sides hold the model) whose producer is before the cut (or that has
//! no producer: the graph input, e.g. the camera image, which lives on the device) and that some
//! op at or after the cut reads: `up(k) = Σ bytes`, in the device graph's storage. The server
//! sends back the graph's outputs (tensors of role `Output`, e.g. the logits) that it produced:
//! `down(k) = Σ bytes`, in the server graph's storage (zero at `k = n`).
//!
//! **Candidate cuts are the layer boundaries of the chain**: `k = 0`, `k = n`, and every `k`
//! where exactly one tensor crosses. For a plain chain (VGG, AlexNet) that is every layer; for a
//! residual network it is between blocks, because inside a block the skip branch and the main
//! branch both cross, so a cut there ships two activations for no gain in a real split
//! deployment (the server must hold one self-contained suffix). This is what "per layer
//! boundary" means here; `op.layer` tags are reported with each cut.
//!
//! # Latency and device energy of a cut (no fixed factors)
//!
//! Each op is priced by each side's own cost model (the score machinery: [`score_vision`], the
//! unit's default runtime unless told otherwise), giving per-op ledgers `dev[i]`, `srv[i]`. With
//! link throughputs `B_up`, `B_down` (bytes/s), round trip `RTT`, radio energy per byte `e_up`,
//! `e_down`, radio base power `P_radio`, tail energy `E_tail` and the device's static power
//! `P_static`:
//!
//! ```text
//! T_dev(k)   = Σ_{i<k} dev[i].latency_s            (device compute of the prefix)
//! T_srv(k)   = Σ_{i≥k} srv[i].latency_s            (server compute of the suffix)
//! T_wait(k)  = up(k)/B_up + RTT + T_srv(k) + down(k)/B_down      (k < n; 0 at k = n)
//! latency(k) = T_dev(k) + T_wait(k)
//!
//! E_dev(k)   = Σ_{i<k} dev[i].energy_j()           (dynamic + static over T_dev)
//! E_radio(k) = up(k)·e_up + down(k)·e_down + P_radio·T_wait(k)
//! E_idle(k)  = P_static · T_wait(k)                 (the device stays on while it waits)
//! energy(k)  = E_dev(k) + E_radio(k) + E_idle(k) + E_tail        (E_tail only when k < n)
//! ```
//!
//! One full `RTT` is charged per offloaded inference: the request's propagation out and the
//! response's back (half each); the serialisation of the bytes is the `bytes / B` terms. The
//! radio model is the linear one of Huang et al. (MobiSys 2012): power grows with throughput
//! (a slope per byte) on top of a base power while connected; after the last packet the radio
//! stays in its high-power state for a tail (LTE's RRC inactivity timer) whose energy `E_tail`
//! is charged once per inference (an isolated request; [`OffloadOptions::charge_tail`] off models
//! back-to-back requests that keep the radio connected and pay the tail once per burst). The
//! per-op ledgers already carry static energy over their own latency ([`Ledger::close_static`]),
//! so `E_dev` counts the device's static power while it computes and `E_idle` while it waits.
//! The server's energy is reported, not minimised. The device does not overlap its compute with
//! the transfer (one inference, sequential stages).
//!
//! # Why a scan rather than the placement ILP
//!
//! With two sites and one link the decision is a single cut of a chain of candidate
//! boundaries, and every cut's cost is a sum of prefix and suffix sums plus the transfer at the
//! cut: evaluating all `O(n)` candidates from prefix sums is exact and takes microseconds,
//! while [`crate::placement`]'s MIP would add binaries for every op and still have to forbid
//! ping-pong placements (device → server → device) that a one-way offload does not have. The
//! scan also gives, for free, the whole curve over link bandwidth that the report charts.
//!
//! [`Ledger::close_static`]: crate::cost::Ledger::close_static

pub mod link;

pub use link::{Link, LinkError, known_links};

use crate::cost::Evaluation;
use crate::hardware::Hardware;
use crate::render::Render;
use crate::score::{ScoreError, ScoreRequest, score_vision};
use crate::workload::{Graph, QuantScheme, Role, VisionModel};
use serde::Serialize;
use std::fmt::Write as _;
use thiserror::Error;

/// What the cut minimises.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OffloadObjective {
    /// End-to-end latency of one inference.
    Latency,
    /// The device's energy for one inference (compute, radio, idle wait, tail).
    Energy,
}

/// Bits per byte, to state link rates in the b/s of network specifications.
pub const BITS_PER_BYTE: f64 = 8.0;

/// Options of an offload study.
#[derive(Clone, Debug)]
pub struct OffloadOptions {
    /// What the cut minimises.
    pub objective: OffloadObjective,
    /// Charge the radio's tail energy to every offloaded inference.
    pub charge_tail: bool,
    /// Lowest uplink rate of the bandwidth sweep, bits per second.
    pub sweep_lo_bits_per_s: f64,
    /// Highest uplink rate of the bandwidth sweep, bits per second.
    pub sweep_hi_bits_per_s: f64,
    /// Points of the sweep (log-spaced, both ends included).
    pub sweep_points: usize,
}

impl Default for OffloadOptions {
    /// Latency, tail charged, a sweep of 1 Mb/s to 1 Gb/s uplink at four points per decade.
    fn default() -> Self {
        OffloadOptions {
            objective: OffloadObjective::Latency,
            charge_tail: true,
            sweep_lo_bits_per_s: 1e6,
            sweep_hi_bits_per_s: 1e9,
            sweep_points: 13,
        }
    }
}

/// Why an offload study could not be made.
#[derive(Debug, Error)]
pub enum OffloadError {
    /// One side could not price the network.
    #[error("{side} ({hw}): {source}")]
    Score {
        /// `device` or `server`.
        side: &'static str,
        /// Its hardware name.
        hw: String,
        /// Why.
        source: Box<ScoreError>,
    },
    /// The two sides' graphs or evaluations do not line up op for op.
    #[error("the device and server graphs differ: {0}")]
    Mismatch(String),
    /// An option out of range.
    #[error("{0}")]
    Options(String),
}

/// One side of the split, priced.
#[derive(Clone, Copy, Debug)]
pub struct Side<'a> {
    /// The graph as this side computes it.
    pub graph: &'a Graph,
    /// Its per-op ledgers.
    pub eval: &'a Evaluation,
    /// The side's static power (watts), charged to the device while it waits.
    pub static_w: f64,
}

/// Who and what ran on one side.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SideInfo {
    /// Hardware name.
    pub hardware: String,
    /// Unit name.
    pub unit: String,
    /// Runtime name.
    pub runtime: String,
}

/// One candidate cut, priced.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Cut {
    /// Ops `0..index` run on the device.
    pub index: usize,
    /// `all on device`, `all on server`, or `after OPNAME`.
    pub label: String,
    /// The layer tag of the last device op, if any.
    pub layer: Option<u32>,
    /// Bytes sent up.
    pub up_bytes: f64,
    /// Bytes sent back.
    pub down_bytes: f64,
    /// Device compute, seconds.
    pub device_s: f64,
    /// Upload serialisation, seconds.
    pub upload_s: f64,
    /// Round trip, seconds (0 when nothing is offloaded).
    pub rtt_s: f64,
    /// Server compute, seconds.
    pub server_s: f64,
    /// Download serialisation, seconds.
    pub download_s: f64,
    /// End-to-end latency, seconds.
    pub latency_s: f64,
    /// Device compute energy (dynamic and static), joules.
    pub device_compute_j: f64,
    /// Radio energy (per byte and base power while in flight), joules.
    pub radio_j: f64,
    /// Device static energy while waiting, joules.
    pub idle_j: f64,
    /// Radio tail energy, joules.
    pub tail_j: f64,
    /// The device's total energy, joules.
    pub device_energy_j: f64,
    /// Server compute energy, joules (reported, not minimised).
    pub server_energy_j: f64,
}

/// One point of the bandwidth sweep.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SweepPoint {
    /// Uplink rate, bits per second.
    pub uplink_bits_per_s: f64,
    /// Downlink rate, bits per second (the preset's ratio to the uplink kept).
    pub downlink_bits_per_s: f64,
    /// The best cut's index.
    pub best_index: usize,
    /// Its label.
    pub best_label: String,
    /// Its latency, seconds.
    pub best_latency_s: f64,
    /// Its device energy, joules.
    pub best_energy_j: f64,
    /// All on the device: latency, seconds.
    pub device_latency_s: f64,
    /// All on the device: energy, joules.
    pub device_energy_j: f64,
    /// All on the server: latency, seconds.
    pub server_latency_s: f64,
    /// All on the server: device energy, joules.
    pub server_energy_j: f64,
}

/// The result of an offload study.
#[derive(Clone, Debug, Serialize)]
pub struct Offload {
    /// Model name.
    pub model: String,
    /// The device side.
    pub device: SideInfo,
    /// The server side.
    pub server: SideInfo,
    /// The link.
    pub link: Link,
    /// What was minimised.
    pub objective: OffloadObjective,
    /// Whether the radio tail was charged.
    pub charge_tail: bool,
    /// Ops in the graph.
    pub ops: usize,
    /// Every candidate cut, by index (first: all on server; last: all on device).
    pub cuts: Vec<Cut>,
    /// Position in `cuts` of the best cut.
    pub best: usize,
    /// The bandwidth sweep.
    pub sweep: Vec<SweepPoint>,
}

impl Offload {
    /// The best cut.
    pub fn best_cut(&self) -> &Cut {
        &self.cuts[self.best]
    }
    /// Everything on the device.
    pub fn all_on_device(&self) -> &Cut {
        self.cuts.last().expect("a cut at n is always a candidate")
    }
    /// Everything on the server.
    pub fn all_on_server(&self) -> &Cut {
        &self.cuts[0]
    }
}

/// The candidate cuts of `graph` and the bytes that cross each: `(k, up bytes)`, `k` ascending,
/// always with `0` and `n` (see the module docs).
pub fn candidate_cuts(graph: &Graph) -> Vec<(usize, f64)> {
    let n = graph.ops.len();
    // Producer (op index + 1, 0 for none) and last consumer of every tensor.
    let mut producer = vec![0usize; graph.tensors.len()];
    let mut last_use: Vec<Option<usize>> = vec![None; graph.tensors.len()];
    for (i, op) in graph.ops.iter().enumerate() {
        for t in &op.outputs {
            producer[t.0 as usize] = i + 1;
        }
        for t in &op.inputs {
            last_use[t.0 as usize] = Some(i);
        }
    }
    let crossing = |k: usize| -> (usize, f64) {
        let mut count = 0;
        let mut bytes = 0.0;
        for (t, tensor) in graph.tensors.iter().enumerate() {
            if tensor.role.is_persistent() {
                continue;
            }
            // Produced before the cut (ops 0..k, i.e. producer+1 ≤ k) and read at or after it.
            if let Some(c) = last_use[t]
                && producer[t] <= k
                && c >= k
            {
                count += 1;
                bytes += tensor.bytes();
            }
        }
        (count, bytes)
    };
    let mut out = Vec::new();
    for k in 0..=n {
        let (count, bytes) = crossing(k);
        if k == 0 || k == n || count == 1 {
            out.push((k, bytes));
        }
    }
    out
}

/// Bytes the server returns when it runs ops `k..n`: the graph outputs it produces (tensors of
/// role `Output`; where the graph marks none, the tensors no op reads).
pub fn result_bytes(graph: &Graph, k: usize) -> f64 {
    let read: std::collections::HashSet<u32> = graph
        .ops
        .iter()
        .flat_map(|o| o.inputs.iter().map(|t| t.0))
        .collect();
    let marked = graph.tensors.iter().any(|t| t.role == Role::Output);
    graph.ops[k.min(graph.ops.len())..]
        .iter()
        .flat_map(|o| o.outputs.iter())
        .filter(|t| {
            let tensor = graph.tensor(**t);
            if marked {
                tensor.role == Role::Output
            } else {
                !read.contains(&t.0) && !tensor.role.is_persistent()
            }
        })
        .map(|t| graph.tensor(*t).bytes())
        .sum()
}

/// Prices every candidate cut over `link` (see the module docs for the formulas).
fn price_cuts(
    device: &Side,
    server: &Side,
    link: &Link,
    charge_tail: bool,
    candidates: &[(usize, f64)],
    down: &[f64],
) -> Vec<Cut> {
    let n = device.graph.ops.len();
    let prefix = |eval: &Evaluation, f: &dyn Fn(&crate::cost::Ledger) -> f64| {
        let mut acc = vec![0.0; n + 1];
        for i in 0..n {
            acc[i + 1] = acc[i] + f(&eval.per_op[i]);
        }
        acc
    };
    let dev_s = prefix(device.eval, &|l| l.latency_s);
    let dev_j = prefix(device.eval, &|l| l.energy_j());
    let srv_s = prefix(server.eval, &|l| l.latency_s);
    let srv_j = prefix(server.eval, &|l| l.energy_j());
    candidates
        .iter()
        .zip(down)
        .map(|(&(k, up), &down)| {
            let offloaded = k < n;
            let (up, down) = if offloaded { (up, down) } else { (0.0, 0.0) };
            let upload_s = up / link.uplink_bytes_per_s;
            let download_s = down / link.downlink_bytes_per_s;
            let rtt_s = if offloaded { link.rtt_s } else { 0.0 };
            let server_s = srv_s[n] - srv_s[k];
            let wait_s = if offloaded {
                upload_s + rtt_s + server_s + download_s
            } else {
                0.0
            };
            let device_s = dev_s[k];
            let device_compute_j = dev_j[k];
            let radio_j = if offloaded {
                up * link.uplink_j_per_byte
                    + down * link.downlink_j_per_byte
                    + link.active_w * wait_s
            } else {
                0.0
            };
            let idle_j = device.static_w * wait_s;
            let tail_j = if offloaded && charge_tail {
                link.tail_j
            } else {
                0.0
            };
            let label = match k {
                _ if k == n => "all on device".to_string(),
                0 => "all on server".to_string(),
                _ => format!("after {}", device.graph.ops[k - 1].name),
            };
            Cut {
                index: k,
                label,
                layer: k.checked_sub(1).and_then(|i| device.graph.ops[i].layer),
                up_bytes: up,
                down_bytes: down,
                device_s,
                upload_s,
                rtt_s,
                server_s,
                download_s,
                latency_s: device_s + wait_s,
                device_compute_j,
                radio_j,
                idle_j,
                tail_j,
                device_energy_j: device_compute_j + radio_j + idle_j + tail_j,
                server_energy_j: srv_j[n] - srv_j[k],
            }
        })
        .collect()
}

/// The position of the best cut: the least latency (ties: least energy) or the least energy
/// (ties: least latency).
pub fn best_of(cuts: &[Cut], objective: OffloadObjective) -> usize {
    let key = |c: &Cut| match objective {
        OffloadObjective::Latency => (c.latency_s, c.device_energy_j),
        OffloadObjective::Energy => (c.device_energy_j, c.latency_s),
    };
    (0..cuts.len())
        .min_by(|&a, &b| {
            let (ka, kb) = (key(&cuts[a]), key(&cuts[b]));
            ka.0.total_cmp(&kb.0).then(ka.1.total_cmp(&kb.1))
        })
        .expect("there are always the two baselines")
}

/// Plans the split of one network priced on both sides; `device_info` and `server_info` name
/// them in the report.
pub fn plan(
    model: &str,
    device: (&Side, SideInfo),
    server: (&Side, SideInfo),
    link: &Link,
    opts: &OffloadOptions,
) -> Result<Offload, OffloadError> {
    let (dev, srv) = (device.0, server.0);
    let n = dev.graph.ops.len();
    if n == 0 {
        return Err(OffloadError::Mismatch("the graph has no ops".into()));
    }
    if srv.graph.ops.len() != n || dev.eval.per_op.len() != n || srv.eval.per_op.len() != n {
        return Err(OffloadError::Mismatch(format!(
            "{n} ops on the device, {} on the server",
            srv.graph.ops.len()
        )));
    }
    if let Some((a, b)) = (dev.graph.ops.iter().zip(&srv.graph.ops)).find(|(a, b)| a.name != b.name)
    {
        return Err(OffloadError::Mismatch(format!(
            "op `{}` on the device faces `{}` on the server",
            a.name, b.name
        )));
    }
    let (lo, hi) = (opts.sweep_lo_bits_per_s, opts.sweep_hi_bits_per_s);
    if !(lo.is_finite() && hi.is_finite() && lo > 0.0 && hi >= lo) || opts.sweep_points < 2 {
        return Err(OffloadError::Options(format!(
            "bandwidth sweep {lo}..{hi} b/s with {} points: expected 0 < low ≤ high and at least 2 points",
            opts.sweep_points
        )));
    }
    let candidates = candidate_cuts(dev.graph);
    let down: Vec<f64> = candidates
        .iter()
        .map(|&(k, _)| {
            if k < n {
                result_bytes(srv.graph, k)
            } else {
                0.0
            }
        })
        .collect();
    let cuts = price_cuts(dev, srv, link, opts.charge_tail, &candidates, &down);
    let best = best_of(&cuts, opts.objective);
    let steps = (opts.sweep_points - 1) as f64;
    let sweep = (0..opts.sweep_points)
        .map(|i| {
            let bits = lo * (hi / lo).powf(i as f64 / steps);
            let l = link.at_uplink(bits / BITS_PER_BYTE);
            let cs = price_cuts(dev, srv, &l, opts.charge_tail, &candidates, &down);
            let b = &cs[best_of(&cs, opts.objective)];
            let (d, s) = (cs.last().expect("k = n"), &cs[0]);
            SweepPoint {
                uplink_bits_per_s: bits,
                downlink_bits_per_s: l.downlink_bytes_per_s * BITS_PER_BYTE,
                best_index: b.index,
                best_label: b.label.clone(),
                best_latency_s: b.latency_s,
                best_energy_j: b.device_energy_j,
                device_latency_s: d.latency_s,
                device_energy_j: d.device_energy_j,
                server_latency_s: s.latency_s,
                server_energy_j: s.device_energy_j,
            }
        })
        .collect();
    Ok(Offload {
        model: model.to_string(),
        device: device.1,
        server: server.1,
        link: link.clone(),
        objective: opts.objective,
        charge_tail: opts.charge_tail,
        ops: n,
        cuts,
        best,
        sweep,
    })
}

/// Prices `model` on the device's and the server's units (each [`ScoreRequest`] names the unit,
/// mode and runtime) and plans the split over `link`.
pub fn offload_vision(
    model: &VisionModel,
    quant: &QuantScheme,
    device: (&Hardware, &ScoreRequest),
    server: (&Hardware, &ScoreRequest),
    link: &Link,
    opts: &OffloadOptions,
) -> Result<Offload, OffloadError> {
    let price = |side: &'static str, hw: &Hardware, req: &ScoreRequest| {
        score_vision(hw, model, quant, req).map_err(|source| OffloadError::Score {
            side,
            hw: hw.name.clone(),
            source: Box::new(source),
        })
    };
    let d = price("device", device.0, device.1)?;
    let s = price("server", server.0, server.1)?;
    let info = |v: &crate::score::VisionScore| SideInfo {
        hardware: v.hardware.clone(),
        unit: v.unit.clone(),
        runtime: v.runtime.clone(),
    };
    plan(
        &model.name,
        (
            &Side {
                graph: &d.graph,
                eval: &d.eval,
                static_w: device.0.static_w,
            },
            info(&d),
        ),
        (
            &Side {
                graph: &s.graph,
                eval: &s.eval,
                static_w: server.0.static_w,
            },
            info(&s),
        ),
        link,
        opts,
    )
}

fn ms(s: f64) -> String {
    format!("{:.2}", s * 1e3)
}

fn kb(b: f64) -> String {
    format!("{:.1}", b / 1e3)
}

fn mbps(bytes_per_s: f64) -> String {
    format!("{:.3}", bytes_per_s * BITS_PER_BYTE / 1e6)
}

fn cut_row(s: &mut String, name: &str, c: &Cut) {
    let _ = writeln!(
        s,
        "{name:<14} {:>5} {:>10} {:>9} {:>9} {:>9} {:>8} {:>9} {:>10} {:>10} {:>10}  {}",
        c.index,
        kb(c.up_bytes),
        ms(c.device_s),
        ms(c.upload_s + c.download_s),
        ms(c.rtt_s),
        ms(c.server_s),
        ms(c.latency_s),
        format!("{:.4}", c.device_compute_j),
        format!("{:.4}", c.radio_j + c.idle_j + c.tail_j),
        format!("{:.4}", c.device_energy_j),
        c.label
    );
}

fn header(s: &mut String, first: &str) {
    let _ = writeln!(
        s,
        "{first:<14} {:>5} {:>10} {:>9} {:>9} {:>9} {:>8} {:>9} {:>10} {:>10} {:>10}  cut",
        "k",
        "up KB",
        "dev ms",
        "xfer ms",
        "rtt ms",
        "srv ms",
        "total ms",
        "compute J",
        "radio J",
        "device J"
    );
}

impl Render for Offload {
    fn what(&self) -> &'static str {
        "map --objective offload"
    }

    fn table(&self) -> String {
        let mut s = String::new();
        let l = &self.link;
        let _ = writeln!(
            s,
            "offload {}: {} ({}, {}) -> {} ({}, {}) over {}; minimise {}",
            self.model,
            self.device.hardware,
            self.device.unit,
            self.device.runtime,
            self.server.hardware,
            self.server.unit,
            self.server.runtime,
            l.name,
            match self.objective {
                OffloadObjective::Latency => "latency",
                OffloadObjective::Energy => "device energy",
            }
        );
        let _ = writeln!(
            s,
            "link {}: up {} Mb/s, down {} Mb/s, RTT {} ms, {:.3e} J/B up, {:.3e} J/B down, radio {} W, tail {} J{}",
            l.name,
            mbps(l.uplink_bytes_per_s),
            mbps(l.downlink_bytes_per_s),
            ms(l.rtt_s),
            l.uplink_j_per_byte,
            l.downlink_j_per_byte,
            l.active_w,
            l.tail_j,
            if self.charge_tail {
                ""
            } else {
                " (not charged)"
            }
        );
        let _ = writeln!(
            s,
            "{} ops, {} candidate cuts (layer boundaries where one tensor crosses)\n",
            self.ops,
            self.cuts.len()
        );
        header(&mut s, "");
        cut_row(&mut s, "best", self.best_cut());
        cut_row(&mut s, "all on device", self.all_on_device());
        cut_row(&mut s, "all on server", self.all_on_server());
        let b = self.best_cut();
        let (d, v) = (self.all_on_device(), self.all_on_server());
        let _ = writeln!(
            s,
            "\nbest cut: {} (k = {}): {} ms, {:.4} J on the device; {:.2}x the latency of all on device, {:.2}x all on server",
            b.label,
            b.index,
            ms(b.latency_s),
            b.device_energy_j,
            b.latency_s / d.latency_s,
            b.latency_s / v.latency_s
        );
        let _ = writeln!(s, "\ncandidate cuts:");
        header(&mut s, "");
        for c in &self.cuts {
            cut_row(&mut s, "", c);
        }
        let _ = writeln!(
            s,
            "\nbandwidth sweep (uplink; downlink scaled with it):\n{:>10} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10}  best cut",
            "up Mb/s", "best ms", "best J", "device ms", "device J", "server ms", "server J"
        );
        for p in &self.sweep {
            let _ = writeln!(
                s,
                "{:>10} {:>10} {:>10.4} {:>10} {:>10.4} {:>10} {:>10.4}  {}",
                format!("{:.3}", p.uplink_bits_per_s / 1e6),
                ms(p.best_latency_s),
                p.best_energy_j,
                ms(p.device_latency_s),
                p.device_energy_j,
                ms(p.server_latency_s),
                p.server_energy_j,
                p.best_label
            );
        }
        s
    }

    fn json(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(self).unwrap_or(serde_json::Value::Null);
        if let Some(o) = v.as_object_mut() {
            o.insert(
                "best_cut".into(),
                serde_json::to_value(self.best_cut()).unwrap_or_default(),
            );
            o.insert(
                "all_on_device".into(),
                serde_json::to_value(self.all_on_device()).unwrap_or_default(),
            );
            o.insert(
                "all_on_server".into(),
                serde_json::to_value(self.all_on_server()).unwrap_or_default(),
            );
        }
        v
    }

    fn csv(&self) -> Option<Result<String, String>> {
        let mut out = csv::Writer::from_writer(Vec::new());
        for c in &self.cuts {
            if let Err(e) = out.serialize(c) {
                return Some(Err(e.to_string()));
            }
        }
        Some(
            out.into_inner()
                .map_err(|e| e.to_string())
                .and_then(|b| String::from_utf8(b).map_err(|e| e.to_string())),
        )
    }
}

/// The chart of the bandwidth sweep: latency and device energy of the best cut and of the two
/// baselines against the uplink rate (log scale).
#[cfg(all(feature = "tables", feature = "plots", feature = "solver"))]
pub fn chart(o: &Offload) -> crate::explore::plots::Curves {
    use crate::explore::plots::{CurvePanel, Curves};
    let series = |f: &dyn Fn(&SweepPoint) -> f64| -> Vec<(f64, f64)> {
        o.sweep
            .iter()
            .map(|p| (p.uplink_bits_per_s / 1e6, f(p)))
            .collect()
    };
    Curves {
        title: format!(
            "{}: {} -> {} over {} (bandwidth scaled)",
            o.model, o.device.hardware, o.server.hardware, o.link.name
        ),
        subtitle: format!(
            "RTT {} ms; downlink/uplink ratio kept; best cut minimises {}",
            ms(o.link.rtt_s),
            match o.objective {
                OffloadObjective::Latency => "latency",
                OffloadObjective::Energy => "device energy",
            }
        ),
        x_label: "uplink (Mb/s)".into(),
        x_log: true,
        panels: vec![
            CurvePanel {
                y_label: "latency (ms)".into(),
                series: vec![
                    ("best cut".into(), series(&|p| p.best_latency_s * 1e3)),
                    (
                        "all on device".into(),
                        series(&|p| p.device_latency_s * 1e3),
                    ),
                    (
                        "all on server".into(),
                        series(&|p| p.server_latency_s * 1e3),
                    ),
                ],
            },
            CurvePanel {
                y_label: "device energy (J)".into(),
                series: vec![
                    ("best cut".into(), series(&|p| p.best_energy_j)),
                    ("all on device".into(), series(&|p| p.device_energy_j)),
                    ("all on server".into(), series(&|p| p.server_energy_j)),
                ],
            },
        ],
    }
}

/// Writes [`chart`] to `path` (`.svg` or `.png`; an existing file only with `force`).
#[cfg(all(feature = "tables", feature = "plots", feature = "solver"))]
pub fn write_chart(o: &Offload, path: &std::path::Path, force: bool) -> Result<(), String> {
    crate::util::figure::write(&chart(o), path, force)
}

#[cfg(test)]
mod tests;
