//! Solve-time survey of the scratchpad mapper on generated graph families:
//! runs the baselines, the ILP (with and without its valid inequalities) and
//! divide and conquer, verifies every plan and prints one line per run.
//!
//! Usage: `cargo run --release --example mapping_scaling -- [family] [ops] [seed] [budget] [limit_s] [all|whole|dc]`
//! with family `random|resnet|inception|unet`, budget `r|h|loose` (the
//! largest working set, halfway to the sum of all tensor sizes / 4, or that
//! sum / 4). Without arguments a default sweep runs.

use std::time::Instant;

use archscope::mapping::{
    DivideOptions, IlpOptions, MemProblem, OpSpec, Plan, Prepared, TensorKind, TensorSpec,
    plan_arena, plan_default, plan_divide_and_conquer, plan_ilp, verify,
};

/// Tiny deterministic generator (SplitMix64) so that runs are reproducible.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

struct G {
    tensors: Vec<TensorSpec>,
    ops: Vec<OpSpec>,
}
impl G {
    fn tensor(&mut self, name: String, bytes: u64, kind: TensorKind) -> usize {
        self.tensors.push(TensorSpec { name, bytes, kind });
        self.tensors.len() - 1
    }
    /// Adds an op reading `ins` (plus a fresh weight of `w` bytes if `w > 0`) producing `out` bytes.
    fn op(&mut self, ins: &[usize], w: u64, out: u64) -> usize {
        let k = self.ops.len();
        let mut inputs = ins.to_vec();
        if w > 0 {
            inputs.push(self.tensor(format!("w{k}"), w, TensorKind::Weight));
        }
        let o = self.tensor(format!("t{k}"), out, TensorKind::Activation);
        self.ops.push(OpSpec {
            name: format!("op{k}"),
            inputs,
            outputs: vec![o],
        });
        o
    }
    fn finish(mut self) -> Vec<(Vec<TensorSpec>, Vec<OpSpec>)> {
        let mut read = vec![false; self.tensors.len()];
        for op in &self.ops {
            for &a in &op.inputs {
                read[a] = true;
            }
        }
        for (a, t) in self.tensors.iter_mut().enumerate() {
            if t.kind == TensorKind::Activation && !read[a] {
                t.kind = TensorKind::Output;
            }
        }
        vec![(self.tensors, self.ops)]
    }
}

/// Sizes in KiB-ish units times 1024 bytes (int8 feature maps and weights of a small CNN).
const KIB: u64 = 1024;

fn family(name: &str, n: usize, rng: &mut Rng) -> (Vec<TensorSpec>, Vec<OpSpec>) {
    let mut g = G {
        tensors: Vec::new(),
        ops: Vec::new(),
    };
    let x = g.tensor("x".into(), 48 * KIB, TensorKind::Input);
    match name {
        "resnet" => {
            // Basic blocks: conv-conv-add with a skip; channel width steps up.
            let mut h = g.op(&[x], 4 * KIB, 64 * KIB);
            while g.ops.len() + 3 <= n {
                let s = 16 * KIB * (1 + rng.below(4));
                let a = g.op(&[h], 8 * KIB + rng.below(8) * KIB, s);
                let b = g.op(&[a], 8 * KIB + rng.below(8) * KIB, s);
                h = g.op(&[b, h], 0, s.max(32 * KIB));
            }
            while g.ops.len() < n {
                h = g.op(&[h], 2 * KIB, 16 * KIB);
            }
        }
        "inception" => {
            // Fork into 2-3 branches of 1-2 ops, concat.
            let mut h = g.op(&[x], 4 * KIB, 48 * KIB);
            while g.ops.len() + 6 <= n {
                let nb = 2 + rng.below(2) as usize;
                let mut outs = Vec::new();
                for _ in 0..nb {
                    let mut b = g.op(&[h], 4 * KIB, 8 * KIB * (1 + rng.below(4)));
                    if rng.below(2) == 0 {
                        b = g.op(&[b], 4 * KIB, 8 * KIB * (1 + rng.below(3)));
                    }
                    outs.push(b);
                }
                h = g.op(&outs, 0, 48 * KIB);
            }
            while g.ops.len() < n {
                h = g.op(&[h], 2 * KIB, 16 * KIB);
            }
        }
        "unet" => {
            // Encoder of n/2 ops, decoder reading the mirrored skip.
            let half = n / 2;
            let mut skips = Vec::new();
            let mut h = x;
            for i in 0..half {
                h = g.op(&[h], 4 * KIB, (64 >> (i.min(4))) * KIB + 4 * KIB);
                skips.push(h);
            }
            while g.ops.len() < n {
                let s = skips.pop().unwrap_or(x);
                h = g.op(&[h, s], 4 * KIB, 16 * KIB * (1 + rng.below(3)));
            }
        }
        _ => {
            // Random DAG: each op reads 1-2 earlier tensors.
            let mut pool = vec![x];
            for _ in 0..n {
                let k = 1 + rng.below(2) as usize;
                let mut ins: Vec<usize> = (0..k)
                    .map(|_| pool[rng.below(pool.len() as u64) as usize])
                    .collect();
                ins.sort_unstable();
                ins.dedup();
                let o = g.op(
                    &ins,
                    if rng.below(2) == 0 { 4 * KIB } else { 0 },
                    8 * KIB * (1 + rng.below(4)),
                );
                pool.push(o);
            }
        }
    }
    g.finish().pop().expect("one graph")
}

/// Process CPU seconds (user + system) from /proc/self/stat, NaN if
/// unreadable. On a shared machine CPU time is a steadier measure than wall
/// time for the single-threaded HiGHS runs.
fn cpu_s() -> f64 {
    /// Linux reports utime/stime in clock ticks of USER_HZ, which is 100 on
    /// mainstream Linux configurations (`getconf CLK_TCK`).
    const TICKS_PER_S: f64 = 100.0;
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|st| {
            let rest = st.rsplit(')').next()?.to_string();
            let f: Vec<&str> = rest.split_whitespace().collect();
            // After the command name: state is field 0, utime 11, stime 12.
            let u: f64 = f.get(11)?.parse().ok()?;
            let s: f64 = f.get(12)?.parse().ok()?;
            Some((u + s) / TICKS_PER_S)
        })
        .unwrap_or(f64::NAN)
}

fn line(
    tag: &str,
    p: &MemProblem,
    plan: &Result<Plan, archscope::mapping::MappingError>,
    wall: f64,
    cpu: f64,
) {
    match plan {
        Ok(plan) => {
            let ok = verify(p, plan).is_ok();
            println!(
                "  {tag:<22} status={:<10} noncomp={:>9} B  bound={:>11}  t={:>7.3}s cpu={cpu:>7.2}s  verified={ok}  model={}",
                format!("{:?}", plan.status),
                plan.non_compulsory_bytes,
                plan.bound_bytes
                    .map(|b| format!("{b:.0}"))
                    .unwrap_or("-".into()),
                wall,
                plan.model
                    .map(|m| format!("{}b/{}c/{}r {:?}", m.binaries, m.continuous, m.rows, m.path))
                    .unwrap_or_else(|| if plan.parts.is_empty() {
                        "-".into()
                    } else {
                        format!("{} windows", plan.parts.len())
                    }),
            );
        }
        Err(e) => println!("  {tag:<22} error: {e}  t={wall:.3}s cpu={cpu:.2}s"),
    }
}

/// `knobs`: also run the ILP variants; `whole`: run the whole-graph ILP
/// (default variant) even when `knobs` is off.
fn run(fam: &str, n: usize, seed: u64, budget: &str, limit: f64, knobs: bool, whole: bool) {
    let mut rng = Rng(seed);
    let (tensors, ops) = family(fam, n, &mut rng);
    let mut p = MemProblem {
        tensors,
        ops,
        capacity_bytes: u64::MAX / 4,
        granularity_bytes: 1024,
    };
    let (mr, total) = {
        let prep = Prepared::new(&p).expect("generated graphs are valid");
        let total: u64 = prep.units.iter().sum::<u64>() * 1024;
        (prep.min_capacity_bytes(), total)
    };
    p.capacity_bytes = match budget {
        "r" => mr,
        "h" => (mr + (total / 4).max(mr)) / 2,
        _ => (total / 4).max(mr),
    };
    println!(
        "{fam} ops={n} seed={seed} budget={budget} capacity={} B (M_R={mr})",
        p.capacity_bytes
    );
    let (t, c) = (Instant::now(), cpu_s());
    let d = plan_default(&p);
    line("default", &p, &d, t.elapsed().as_secs_f64(), cpu_s() - c);
    let (t, c) = (Instant::now(), cpu_s());
    let a = plan_arena(&p);
    line("arena", &p, &a, t.elapsed().as_secs_f64(), cpu_s() - c);
    if knobs || whole {
        let base = IlpOptions {
            time_limit_s: limit,
            ..IlpOptions::default()
        };
        let (t, c) = (Instant::now(), cpu_s());
        line(
            "ilp",
            &p,
            &plan_ilp(&p, &base),
            t.elapsed().as_secs_f64(),
            cpu_s() - c,
        );
        if knobs {
            for (tag, o) in [
                (
                    "ilp full-model-only",
                    IlpOptions {
                        size_first: false,
                        ..base.clone()
                    },
                ),
                (
                    "ilp no-cut",
                    IlpOptions {
                        capacity_cut: false,
                        size_first: false,
                        ..base.clone()
                    },
                ),
                (
                    "ilp full +pair-rows",
                    IlpOptions {
                        pair_residency_rows: true,
                        size_first: false,
                        ..base.clone()
                    },
                ),
                (
                    "ilp full +mirror",
                    IlpOptions {
                        mirror_symmetry: true,
                        size_first: false,
                        ..base.clone()
                    },
                ),
                (
                    "ilp no-warm-start",
                    IlpOptions {
                        warm_start: false,
                        ..base.clone()
                    },
                ),
            ] {
                let (t, c) = (Instant::now(), cpu_s());
                line(
                    tag,
                    &p,
                    &plan_ilp(&p, &o),
                    t.elapsed().as_secs_f64(),
                    cpu_s() - c,
                );
            }
        }
    }
    let (t, c) = (Instant::now(), cpu_s());
    let dc = plan_divide_and_conquer(
        &p,
        &DivideOptions {
            ilp: IlpOptions {
                time_limit_s: limit.min(10.0),
                ..IlpOptions::default()
            },
            ..DivideOptions::default()
        },
    );
    line(
        "divide_and_conquer",
        &p,
        &dc,
        t.elapsed().as_secs_f64(),
        cpu_s() - c,
    );
    let (t, c) = (Instant::now(), cpu_s());
    let dc0 = plan_divide_and_conquer(
        &p,
        &DivideOptions {
            ilp: IlpOptions {
                time_limit_s: limit.min(10.0),
                ..IlpOptions::default()
            },
            overlap_ops: 0,
            ..DivideOptions::default()
        },
    );
    line(
        "d&c no overlap",
        &p,
        &dc0,
        t.elapsed().as_secs_f64(),
        cpu_s() - c,
    );
    if let Ok(dc) = &dc {
        for w in &dc.parts {
            println!(
                "    window @{:>4} ops={:>3} status={:<10} noncomp={:>9} B t={:>6.3}s model={}b/{}c/{}r {:?}",
                w.first_step,
                w.ops,
                format!("{:?}", w.status),
                w.non_compulsory_bytes,
                w.solve_s,
                w.model.binaries,
                w.model.continuous,
                w.model.rows,
                w.model.path
            );
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.is_empty() {
        for (fam, n) in [
            ("resnet", 16),
            ("inception", 20),
            ("unet", 16),
            ("random", 12),
        ] {
            for b in ["r", "h"] {
                run(fam, n, 1, b, 60.0, true, false);
            }
        }
        return;
    }
    let fam = args[0].as_str();
    let n: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(16);
    let seed: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(1);
    let budget = args.get(3).map(String::as_str).unwrap_or("h");
    let limit: f64 = args.get(4).and_then(|s| s.parse().ok()).unwrap_or(60.0);
    // Sixth argument: `all` (default) runs the ILP variants, `whole` only the
    // default whole-graph ILP, `dc` neither.
    let mode = args.get(5).map(String::as_str).unwrap_or("all");
    run(fam, n, seed, budget, limit, mode == "all", mode == "whole");
}
