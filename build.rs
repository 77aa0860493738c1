//! Embeds the shipped device files (`hardware-db/*.toml`), runtimes (`runtimes/*.toml`), model
//! configs (`workloads/*.json`), network links (`links/*.toml`) and multi-GPU nodes (`nodes/*.toml`)
//! into the library, so `--hw pixel8.toml` and `--model llama-1b` work from any directory.

use std::fmt::Write as _;
use std::path::Path;

/// The file `archscope calibrate` writes by default (see `src/measure/calibrate.rs`).
const GENERATED_HOST_FILE: &str = "host.toml";

fn embed(dir: &str, ext: &str, const_name: &str, out: &mut String) {
    println!("cargo:rerun-if-changed={dir}");
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(ext))
                // `archscope calibrate` writes the machine-specific hardware-db/host.toml; it is
                // generated, git-ignored and found on disk, not shipped.
                .filter(|n| n != GENERATED_HOST_FILE)
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    writeln!(
        out,
        "/// Files embedded from `{dir}/` at build time: (file name, contents)."
    )
    .unwrap();
    writeln!(out, "pub const {const_name}: &[(&str, &str)] = &[").unwrap();
    for f in files {
        writeln!(
            out,
            "    ({f:?}, include_str!(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/{dir}/{f}\"))),"
        )
        .unwrap();
    }
    writeln!(out, "];").unwrap();
}

fn main() {
    let mut out = String::new();
    embed("hardware-db", ".toml", "HARDWARE_DB", &mut out);
    embed("runtimes", ".toml", "RUNTIMES", &mut out);
    embed("workloads", ".json", "WORKLOADS", &mut out);
    embed("links", ".toml", "LINKS", &mut out);
    embed("nodes", ".toml", "NODES", &mut out);
    let dest = Path::new(&std::env::var("OUT_DIR").unwrap()).join("embedded.rs");
    std::fs::write(dest, out).unwrap();
}
