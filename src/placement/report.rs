//! Text reports of placements: the summary, a comparison with the baselines, per-unit load, and
//! the op table with runs of identically placed windows (repeated layers) printed once.

use super::Baselines;
use super::schedule::{Placement, Status};
use std::fmt::Write as _;

fn status_name(s: Status) -> &'static str {
    match s {
        Status::Optimal => "optimal",
        Status::Feasible => "feasible (not proven optimal)",
        Status::TimedOut => "time limit reached",
        Status::Heuristic => "heuristic",
    }
}

/// One line: method, makespan, energy, objective.
pub fn summary_line(p: &Placement) -> String {
    format!(
        "{:<26} {:>12.4} {:>12.4} {:>14.6e}",
        p.method,
        p.totals.makespan_s * 1e3,
        p.totals.energy_j * 1e3,
        p.totals.objective
    )
}

fn line_within(p: &Placement, latency_s: Option<f64>) -> String {
    let mut s = summary_line(p);
    if latency_s.is_some_and(|l| p.totals.makespan_s > l * (1.0 + 1e-12)) {
        s.push_str("  over the latency budget");
    }
    s
}

/// Relative gain of `a` over `b` on the objective, percent (positive when `a` is better).
/// Differences below 0.005% (summation order) are reported as 0.
pub fn gain_pct(a: &Placement, b: &Placement) -> f64 {
    let g = if b.totals.objective > 0.0 {
        (b.totals.objective - a.totals.objective) / b.totals.objective * 100.0
    } else {
        0.0
    };
    if g.abs() < 0.005 { 0.0 } else { g }
}

/// The full text report of `p`, compared with `base` when given.
pub fn to_table(p: &Placement, base: Option<&Baselines>) -> String {
    let mut s = String::new();
    write_summary(&mut s, p);
    if let Some(b) = base {
        write_baselines(&mut s, p, b);
    }
    write_units(&mut s, p);
    write_ops(&mut s, p);
    s
}

/// The report's head: workload, method and status, bound and solve effort, totals, budgets
/// and notes.
fn write_summary(s: &mut String, p: &Placement) {
    let _ = writeln!(
        s,
        "placement of {} on {} — objective: {}",
        p.workload,
        p.device,
        p.objective.name()
    );
    let _ = writeln!(
        s,
        "method {}: {}; {}",
        p.method,
        status_name(p.status),
        p.stats.decomposition
    );
    let bound = match (p.bound, p.gap) {
        (Some(b), Some(g)) => format!(
            "bound {b:.6e} {}, gap {:.4}%",
            p.objective.unit(),
            g * 100.0
        ),
        _ => "no bound".into(),
    };
    let _ = writeln!(
        s,
        "{bound}; solve {:.2} s, {} models (max {} binaries, {} rows), {} timed out",
        p.solve_s, p.stats.models, p.stats.max_binaries, p.stats.max_rows, p.stats.timed_out_models
    );
    let t = &p.totals;
    let _ = writeln!(
        s,
        "makespan {:.4} ms; energy {:.4} mJ = dynamic {:.4} + transfer {:.4} + static {:.4}; {} cross-unit transfers, {:.3} MB",
        t.makespan_s * 1e3,
        t.energy_j * 1e3,
        t.dynamic_j * 1e3,
        t.transfer_j * 1e3,
        t.static_j * 1e3,
        t.transfers,
        t.transfer_bytes / 1e6
    );
    if p.budget.latency_s.is_some() || p.budget.power_w.is_some() {
        let _ = writeln!(
            s,
            "budgets: latency {}, power {}; held idle {:.4} ms to meet the power budget",
            p.budget
                .latency_s
                .map_or("none".into(), |l| format!("{:.4} ms", l * 1e3)),
            p.budget.power_w.map_or("none".into(), |w| format!("{w} W")),
            p.hold_s * 1e3
        );
    }
    for n in &p.notes {
        let _ = writeln!(s, "note: {n}");
    }
}

/// The baselines (each single unit, min-energy, HEFT) against the placement, and its gain.
fn write_baselines(s: &mut String, p: &Placement, b: &Baselines) {
    let _ = writeln!(
        s,
        "\n{:<26} {:>12} {:>12} {:>14}",
        "placement", "makespan ms", "energy mJ", "objective"
    );
    let l = p.budget.latency_s;
    for x in &b.single {
        let _ = writeln!(s, "{}", line_within(x, l));
    }
    if let Some(m) = &b.min_energy {
        let _ = writeln!(s, "{}", line_within(m, l));
    }
    let _ = writeln!(s, "{}", line_within(&b.heft, l));
    let _ = writeln!(s, "{}", summary_line(p));
    let _ = write!(
        s,
        "ILP gain on the objective: {:+.2}% vs HEFT",
        gain_pct(p, &b.heft)
    );
    if let Some(bs) = b.best_single() {
        let _ = write!(
            s,
            ", {:+.2}% vs the best single unit ({})",
            gain_pct(p, bs),
            bs.method
        );
    }
    let _ = writeln!(s);
}

/// Each unit's busy time, utilisation and op count.
fn write_units(s: &mut String, p: &Placement) {
    let t = &p.totals;
    let busy = p.busy_s();
    let _ = writeln!(
        s,
        "\n{:<14} {:>10} {:>8} {:>6}",
        "unit", "busy ms", "util %", "ops"
    );
    for (u, name) in p.units.iter().enumerate() {
        let n = p.ops.iter().filter(|o| o.unit == u).count();
        let util = if t.makespan_s > 0.0 {
            busy[u] / t.makespan_s * 100.0
        } else {
            0.0
        };
        let _ = writeln!(
            s,
            "{:<14} {:>10.4} {:>8.1} {:>6}",
            name,
            busy[u] * 1e3,
            util,
            n
        );
    }
}

/// The op table, windows with the same placement pattern collapsed.
fn write_ops(s: &mut String, p: &Placement) {
    let nw = p.windows.len().max(1);
    let mut by_window: Vec<Vec<usize>> = vec![Vec::new(); nw];
    for (i, o) in p.ops.iter().enumerate() {
        by_window[o.window.min(nw - 1)].push(i);
    }
    let pattern = |w: usize| -> Vec<(String, usize)> {
        by_window[w]
            .iter()
            .map(|&i| (p.ops[i].kind.clone(), p.ops[i].unit))
            .collect()
    };
    let _ = writeln!(
        s,
        "\n{:<40} {:<12} {:<5} {:<12} {:>11} {:>10} {:>10}",
        "op", "kind", "dtype", "unit", "start ms", "dur µs", "energy µJ"
    );
    let mut w = 0;
    while w < nw {
        let pat = pattern(w);
        let mut end = w + 1;
        while end < nw && pattern(end) == pat && !pat.is_empty() {
            end += 1;
        }
        if nw > 1 {
            let span = if end - w > 1 {
                format!(
                    "windows {}–{} ({}×, same placement; first shown)",
                    w,
                    end - 1,
                    end - w
                )
            } else {
                format!("window {w}")
            };
            let win = p.windows[w];
            let _ = writeln!(
                s,
                "-- {span}: {:.4}–{:.4} ms",
                win.start_s * 1e3,
                win.end_s * 1e3
            );
        }
        for &i in &by_window[w] {
            let o = &p.ops[i];
            let _ = writeln!(
                s,
                "{:<40} {:<12} {:<5} {:<12} {:>11.4} {:>10.2} {:>10.3}",
                o.name,
                o.kind,
                o.dtype,
                p.units[o.unit],
                o.start_s * 1e3,
                (o.finish_s - o.start_s) * 1e6,
                o.energy_j * 1e6
            );
        }
        w = end;
    }
}
