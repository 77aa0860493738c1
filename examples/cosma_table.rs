//! The mapper's CNN table: eight real networks (seven built-in plus the OFA
//! subnet of [`archscope::experiments::cosma_cnn::OFA_SUBNET`]) at `M_R`, `M_H`,
//! `M_P`, activation only and with weights, solved by the ILP (divide and
//! conquer for large graphs) against both baselines; every plan verified.
//!
//! Usage: `cargo run --release --example cosma_table -- [--time-limit S] [--ofa DIR] [--json] [--dc]`
//! (`--ofa` defaults to `../shared/ofa` next to the repository; where that
//! directory is absent the OFA row is skipped with a notice and the rest of the
//! table is still printed; `--dc` also plans every graph by divide and conquer).

use std::path::{Path, PathBuf};

use archscope::experiments::cosma_cnn::{
    BUILTIN_CNNS, Budget, OFA_SUBNET, build_builtin, build_ofa_subnet, evaluate, to_markdown,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut time_limit = 60.0;
    let mut ofa = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/ofa");
    let mut json = false;
    let mut dc = false;
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "--time-limit" => {
                i += 1;
                time_limit = args.get(i).ok_or("--time-limit needs a value")?.parse()?;
            }
            "--ofa" => {
                i += 1;
                ofa = PathBuf::from(args.get(i).ok_or("--ofa needs a directory")?);
            }
            "--json" => json = true,
            "--dc" => dc = true,
            other => return Err(format!("unknown argument {other}").into()),
        }
        i += 1;
    }
    let mut graphs = Vec::new();
    for (label, spec) in BUILTIN_CNNS {
        graphs.push((label.to_string(), build_builtin(spec)?));
    }
    if !ofa.is_dir() {
        eprintln!(
            "notice: {} not found; skipping the OFA subnet row",
            ofa.display()
        );
    } else {
        match build_ofa_subnet(&ofa) {
            Ok(g) => graphs.push((format!("OFA {OFA_SUBNET}"), g)),
            Err(e) => eprintln!("notice: OFA subnet skipped: {e}"),
        }
    }
    let all = [Budget::R, Budget::H, Budget::P];
    let mut rows = Vec::new();
    for (label, g) in &graphs {
        for weights in [false, true] {
            let r = evaluate(label, g, weights, &all, time_limit, false)?;
            for x in &r {
                eprintln!(
                    "{label} w={weights} {:?}: default {:?} arena {:?} {} {} ({:?}, {:.2} s)",
                    x.budget,
                    x.default_bytes,
                    x.arena_bytes,
                    x.method,
                    x.solver_bytes,
                    x.status,
                    x.solve_s
                );
            }
            rows.extend(r);
            if dc {
                let r = evaluate(label, g, weights, &all, time_limit, true)?;
                rows.extend(r);
            }
        }
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else {
        print!("{}", to_markdown(&rows));
    }
    Ok(())
}
