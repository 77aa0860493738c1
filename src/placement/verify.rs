//! The independent checker. Every placement (ILP or heuristic) is checked against the instance
//! alone, without trusting any solver: allowed units and pins, durations, dependencies with
//! their transfer times, one op at a time per unit, windows back to back and their bandwidth
//! floors, the hold a power budget needs, the budgets, and the totals recomputed from scratch
//! equal to the reported ones and the objective.

use super::problem::Instance;
use super::schedule::{Placement, Totals};

/// Relative tolerance of time and energy comparisons (floating-point summation order).
pub const REL_TOL: f64 = 1e-9;

/// A placement that breaks a rule.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum PlacementVerifyError {
    /// Wrong number of ops, bad unit index.
    #[error("shape: {0}")]
    Shape(String),
    /// An op on a unit that cannot run it or against its pin.
    #[error("op `{op}` is on `{unit}`, which is not allowed: {why}")]
    Unit {
        /// Op.
        op: String,
        /// Unit.
        unit: String,
        /// Why not.
        why: String,
    },
    /// A reported duration differs from the instance's.
    #[error("op `{op}` lasts {got} s but costs {want} s on `{unit}`")]
    Duration {
        /// Op.
        op: String,
        /// Unit.
        unit: String,
        /// Reported.
        got: f64,
        /// From the instance.
        want: f64,
    },
    /// A consumer starts before its data can be there.
    #[error("`{to}` starts at {start} s but its input from `{from}` arrives at {ready} s")]
    Dependency {
        /// Producer.
        from: String,
        /// Consumer.
        to: String,
        /// Consumer start.
        start: f64,
        /// Producer finish + transfer.
        ready: f64,
    },
    /// Two ops overlap on one unit.
    #[error("`{a}` and `{b}` overlap on `{unit}`")]
    Overlap {
        /// First op.
        a: String,
        /// Second op.
        b: String,
        /// Unit.
        unit: String,
    },
    /// Window rules broken.
    #[error("window: {0}")]
    Window(String),
    /// A budget is not met.
    #[error("budget: {0}")]
    Budget(String),
    /// Reported totals differ from the recomputed ones.
    #[error("{what}: reported {reported}, recomputed {recomputed}")]
    Totals {
        /// Which total.
        what: &'static str,
        /// Reported.
        reported: f64,
        /// Recomputed.
        recomputed: f64,
    },
}

fn close(a: f64, b: f64, scale: f64) -> bool {
    (a - b).abs() <= REL_TOL * scale.abs().max(a.abs()).max(b.abs()) + 1e-18
}

/// Checks `p` against `inst` and returns the recomputed totals.
pub fn verify(inst: &Instance, p: &Placement) -> Result<Totals, PlacementVerifyError> {
    let n = inst.ops.len();
    let nu = inst.units.len();
    if p.ops.len() != n {
        return Err(PlacementVerifyError::Shape(format!(
            "{} ops placed, instance has {n}",
            p.ops.len()
        )));
    }
    if p.units.len() != nu {
        return Err(PlacementVerifyError::Shape(format!(
            "{} units, instance has {nu}",
            p.units.len()
        )));
    }
    let makespan_scale = p.windows.last().map_or(0.0, |w| w.end_s);
    let tol = REL_TOL * makespan_scale + 1e-18;
    let dur = op_durations(inst, p, makespan_scale, tol)?;
    check_dependencies(inst, p, &dur, tol)?;
    check_unit_overlap(inst, p, &dur, tol)?;
    let prev_end = check_windows(inst, p, &dur, makespan_scale, tol)?;
    check_totals(inst, p, prev_end)
}

/// Checks each op's unit, pin, start and duration; returns the durations.
fn op_durations(
    inst: &Instance,
    p: &Placement,
    makespan_scale: f64,
    tol: f64,
) -> Result<Vec<f64>, PlacementVerifyError> {
    let n = inst.ops.len();
    let nu = inst.units.len();
    let mut dur = vec![0.0; n];
    for (i, (o, po)) in inst.ops.iter().zip(&p.ops).enumerate() {
        if po.unit >= nu {
            return Err(PlacementVerifyError::Shape(format!(
                "op #{i} on unit #{}",
                po.unit
            )));
        }
        let uname = inst.units[po.unit].name.clone();
        let cost = match &o.costs[po.unit] {
            Some(c) => c,
            None => {
                return Err(PlacementVerifyError::Unit {
                    op: o.name.clone(),
                    unit: uname,
                    why: o.why_not[po.unit].clone(),
                });
            }
        };
        if let Some(pin) = o.pin {
            if pin != po.unit {
                return Err(PlacementVerifyError::Unit {
                    op: o.name.clone(),
                    unit: uname,
                    why: format!("pinned to `{}`", inst.units[pin].name),
                });
            }
        }
        if !(po.start_s >= -tol) {
            return Err(PlacementVerifyError::Window(format!(
                "`{}` starts at {}",
                o.name, po.start_s
            )));
        }
        if !close(po.finish_s - po.start_s, cost.time_s, makespan_scale) {
            return Err(PlacementVerifyError::Duration {
                op: o.name.clone(),
                unit: uname,
                got: po.finish_s - po.start_s,
                want: cost.time_s,
            });
        }
        dur[i] = cost.time_s;
    }
    Ok(dur)
}

/// Checks every dependency waits for its producer and transfer, in no earlier window.
fn check_dependencies(
    inst: &Instance,
    p: &Placement,
    dur: &[f64],
    tol: f64,
) -> Result<(), PlacementVerifyError> {
    // Dependencies with transfers.
    for e in &inst.edges {
        let (a, b) = (&p.ops[e.from], &p.ops[e.to]);
        let t = inst
            .transfer(e, a.unit, b.unit)
            .ok_or_else(|| PlacementVerifyError::Unit {
                op: inst.ops[e.to].name.clone(),
                unit: inst.units[b.unit].name.clone(),
                why: format!(
                    "it shares no memory level with `{}`, where its producer `{}` ran",
                    inst.units[a.unit].name, inst.ops[e.from].name
                ),
            })?;
        let ready = a.start_s + dur[e.from] + t.0;
        if b.start_s < ready - tol {
            return Err(PlacementVerifyError::Dependency {
                from: inst.ops[e.from].name.clone(),
                to: inst.ops[e.to].name.clone(),
                start: b.start_s,
                ready,
            });
        }
        if b.window < a.window {
            return Err(PlacementVerifyError::Window(format!(
                "`{}` (window {}) reads from `{}` (window {})",
                inst.ops[e.to].name, b.window, inst.ops[e.from].name, a.window
            )));
        }
    }
    Ok(())
}

/// Checks each unit runs one op at a time.
fn check_unit_overlap(
    inst: &Instance,
    p: &Placement,
    dur: &[f64],
    tol: f64,
) -> Result<(), PlacementVerifyError> {
    let n = inst.ops.len();
    let nu = inst.units.len();
    // One op at a time per unit (zero-length ops never conflict).
    for u in 0..nu {
        let mut iv: Vec<(f64, f64, usize)> = (0..n)
            .filter(|&i| p.ops[i].unit == u && dur[i] > 0.0)
            .map(|i| (p.ops[i].start_s, p.ops[i].start_s + dur[i], i))
            .collect();
        iv.sort_by(|a, b| a.0.total_cmp(&b.0));
        for w in iv.windows(2) {
            if w[1].0 < w[0].1 - tol {
                return Err(PlacementVerifyError::Overlap {
                    a: inst.ops[w[0].2].name.clone(),
                    b: inst.ops[w[1].2].name.clone(),
                    unit: inst.units[u].name.clone(),
                });
            }
        }
    }
    Ok(())
}

/// Checks the windows; returns the end of the last one.
fn check_windows(
    inst: &Instance,
    p: &Placement,
    dur: &[f64],
    makespan_scale: f64,
    tol: f64,
) -> Result<f64, PlacementVerifyError> {
    let n = inst.ops.len();
    // Windows: back to back from 0, ops inside, each as short as its ops and floor allow.
    let nw = p.windows.len();
    if n > 0 && nw == 0 {
        return Err(PlacementVerifyError::Window("no windows".into()));
    }
    let mut prev_end = 0.0;
    let mut last_finish = vec![f64::NEG_INFINITY; nw];
    let mut bytes = vec![vec![0.0; inst.floors.len()]; nw];
    for (i, po) in p.ops.iter().enumerate() {
        if po.window >= nw {
            return Err(PlacementVerifyError::Window(format!(
                "`{}` in window {}",
                inst.ops[i].name, po.window
            )));
        }
        let w = p.windows[po.window];
        if po.start_s < w.start_s - tol || po.start_s + dur[i] > w.end_s + tol {
            return Err(PlacementVerifyError::Window(format!(
                "`{}` runs {}..{} s outside its window {}..{} s",
                inst.ops[i].name,
                po.start_s,
                po.start_s + dur[i],
                w.start_s,
                w.end_s
            )));
        }
        last_finish[po.window] = last_finish[po.window].max(po.start_s + dur[i]);
        let c = inst.ops[i].costs[po.unit].as_ref().unwrap();
        for (acc, b) in bytes[po.window].iter_mut().zip(&c.floor_bytes) {
            *acc += b;
        }
    }
    for (k, w) in p.windows.iter().enumerate() {
        if !close(w.start_s, prev_end, makespan_scale) {
            return Err(PlacementVerifyError::Window(format!(
                "window {k} starts at {} s, the previous one ends at {prev_end} s",
                w.start_s
            )));
        }
        let floor: f64 = inst
            .floors
            .iter()
            .zip(&bytes[k])
            .map(|(f, b)| b / f.bytes_per_s)
            .fold(0.0, f64::max);
        let tight = last_finish[k].max(w.start_s).max(w.start_s + floor);
        if !close(w.end_s, tight, makespan_scale) {
            return Err(PlacementVerifyError::Window(format!(
                "window {k} ends at {} s; its ops and bandwidth floor ({floor} s) end it at {tight} s",
                w.end_s
            )));
        }
        prev_end = w.end_s;
    }
    Ok(prev_end)
}

/// Recomputes the totals from scratch and checks them and the budgets against `p`.
fn check_totals(
    inst: &Instance,
    p: &Placement,
    prev_end: f64,
) -> Result<Totals, PlacementVerifyError> {
    let n = inst.ops.len();
    // Totals from scratch.
    let dynamic: f64 = (0..n)
        .map(|i| inst.ops[i].costs[p.ops[i].unit].as_ref().unwrap().energy_j)
        .sum();
    let mut transfer_j = 0.0;
    let mut transfer_bytes = 0.0;
    let mut transfers = 0;
    for e in &inst.edges {
        let (u, v) = (p.ops[e.from].unit, p.ops[e.to].unit);
        if u != v {
            let l = inst.links[u][v].as_ref().expect("checked above");
            transfer_j += e.bytes * l.j_per_byte;
            transfer_bytes += e.bytes;
            transfers += 1;
        }
    }
    // The hold after the last window: exactly what the power budget needs, else none.
    let hold = match p.budget.power_w {
        None => 0.0,
        Some(w) if w <= inst.static_w => {
            return Err(PlacementVerifyError::Budget(format!(
                "the power budget {w} W does not exceed the static power {} W",
                inst.static_w
            )));
        }
        Some(w) => ((dynamic + transfer_j) / (w - inst.static_w) - prev_end).max(0.0),
    };
    if !close(p.hold_s, hold, prev_end + hold) {
        return Err(PlacementVerifyError::Totals {
            what: "hold for the power budget",
            reported: p.hold_s,
            recomputed: hold,
        });
    }
    let makespan = prev_end + hold;
    let static_j = inst.static_w * makespan;
    let energy = dynamic + transfer_j + static_j;
    if let Some(l) = p.budget.latency_s {
        if makespan > l * (1.0 + REL_TOL) {
            return Err(PlacementVerifyError::Budget(format!(
                "makespan {makespan} s exceeds the latency budget {l} s"
            )));
        }
    }
    if let Some(w) = p.budget.power_w {
        if energy > w * makespan * (1.0 + 1e-6) {
            return Err(PlacementVerifyError::Budget(format!(
                "average power {} W exceeds the power budget {w} W",
                energy / makespan
            )));
        }
    }
    let objective = p.objective.value(makespan, energy);
    let t = Totals {
        makespan_s: makespan,
        energy_j: energy,
        dynamic_j: dynamic,
        transfer_j,
        static_j,
        transfer_bytes,
        transfers,
        objective,
    };
    let r = &p.totals;
    for (what, rep, rec) in [
        ("makespan", r.makespan_s, t.makespan_s),
        ("energy", r.energy_j, t.energy_j),
        ("dynamic energy", r.dynamic_j, t.dynamic_j),
        ("transfer energy", r.transfer_j, t.transfer_j),
        ("static energy", r.static_j, t.static_j),
        ("transfer bytes", r.transfer_bytes, t.transfer_bytes),
        ("objective", r.objective, t.objective),
    ] {
        if !close(rep, rec, rec) {
            return Err(PlacementVerifyError::Totals {
                what,
                reported: rep,
                recomputed: rec,
            });
        }
    }
    if r.transfers != t.transfers {
        return Err(PlacementVerifyError::Totals {
            what: "transfers",
            reported: r.transfers as f64,
            recomputed: t.transfers as f64,
        });
    }
    if let Some(b) = p.bound {
        if b > t.objective * (1.0 + 1e-6) + 1e-15 {
            return Err(PlacementVerifyError::Totals {
                what: "bound above the objective",
                reported: b,
                recomputed: t.objective,
            });
        }
    }
    Ok(t)
}
