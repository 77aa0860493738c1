//! The fuzz targets' bodies (the `archscope-fuzz` crate's library, included here as a module)
//! run inside the test suite, so CI needs no second, instrumented build:
//! * the regression corpus: every input a fuzzer ever found a failure with, and the hostile
//!   inputs of the hardening issue, in `fuzz/regressions/TARGET/`;
//! * a smoke run of about 10k inputs per target: deterministic mutants of the shipped inputs
//!   (byte flips, deletions, duplications, and numbers replaced by edge values).
//!
//! The coverage-guided campaigns (a million executions per target) run outside CI with
//! `scripts/fuzz.sh`; README gives their counts.

#[path = "../../fuzz/src/lib.rs"]
#[allow(dead_code)] // the libFuzzer-only set-up is not used here
mod bodies;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

/// Inputs per target in the smoke run.
const SMOKE_INPUTS: usize = 10_000;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The files of `dir` (relative to the repository) whose names end with `ext`, sorted.
fn files(dir: &str, ext: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(repo().join(dir))
        .map(|d| {
            d.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file() && p.to_string_lossy().ends_with(ext))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn read(p: &Path) -> Vec<u8> {
    std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// `prefix` then the bytes of each file.
fn with_prefix(prefix: &[u8], paths: &[PathBuf]) -> Vec<Vec<u8>> {
    paths.iter().map(|p| [prefix, &read(p)].concat()).collect()
}

/// The seeds of a target: the shipped inputs of its format, and `fuzz/seeds/TARGET/`.
/// `scripts/fuzz.sh` starts the fuzzer's corpus from the same files.
fn seeds(target: &str) -> Vec<Vec<u8>> {
    let mut v: Vec<Vec<u8>> = match target {
        "hardware_toml" => with_prefix(b"", &files("hardware-db", ".toml")),
        "runtime_toml" => with_prefix(b"", &files("runtimes", ".toml")),
        "hf_config" => with_prefix(b"", &files("workloads", ".json")),
        "onnx_bytes" => with_prefix(b"", &files("tests/data", ".onnx")),
        "scalesim" => {
            let cfgs = files("tests/data/scalesim/configs", ".cfg");
            let topos = files("tests/data/scalesim/topologies", ".csv");
            let mut v = with_prefix(b"", &topos);
            for (c, t) in cfgs.iter().zip(topos.iter().cycle()) {
                v.push([read(c), vec![0], read(t)].concat());
            }
            v
        }
        "measurements" => with_prefix(&[0], &files("data/measurements", "measurements.csv")),
        _ => Vec::new(),
    };
    v.extend(
        files(&format!("fuzz/seeds/{target}"), "")
            .iter()
            .map(|p| read(p)),
    );
    v
}

/// The search's seeded generator, with the `0..n` draw the mutator wants.
struct Rng(archscope::search::SplitMix64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(archscope::search::SplitMix64::new(seed))
    }
    fn next(&mut self) -> u64 {
        self.0.next_u64()
    }
    /// Uniform in `0..n` (0 when `n` is 0).
    fn below(&mut self, n: usize) -> usize {
        self.0.below_or_eq(n.max(1) as u64 - 1) as usize
    }
}

/// Values that sit on the edges of what readers accept.
const EDGES: [&str; 16] = [
    "0",
    "-1",
    "1e19",
    "1e308",
    "1e999",
    "5e-324",
    "nan",
    "inf",
    "4294967295",
    "4294967296",
    "18446744073709551616",
    "9223372036854775807",
    "10000000",
    "0.0",
    "\"\"",
    "[]",
];

/// One mutant of `seed`: one to four edits.
fn mutate(seed: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut v = seed.to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(v.len() + 1);
        match rng.below(5) {
            0 if !v.is_empty() => {
                let i = at.min(v.len() - 1);
                v[i] ^= 1 << rng.below(8);
            }
            1 if !v.is_empty() => {
                let end = (at + 1 + rng.below(16)).min(v.len());
                v.drain(at.min(end)..end);
            }
            2 if !v.is_empty() => {
                let start = at.min(v.len() - 1);
                let end = (start + 1 + rng.below(64)).min(v.len());
                let chunk = v[start..end].to_vec();
                v.splice(start..start, chunk);
            }
            _ => {
                // Replace the number at or after `at` (or insert) with an edge value.
                let edge = EDGES[rng.below(EDGES.len())].as_bytes();
                let start = (at..v.len())
                    .find(|&i| v[i].is_ascii_digit())
                    .unwrap_or(at.min(v.len()));
                let end = (start..v.len())
                    .find(|&i| !(v[i].is_ascii_alphanumeric() || v[i] == b'.'))
                    .unwrap_or(v.len());
                v.splice(start..end, edge.iter().copied());
            }
        }
    }
    v
}

/// Runs `body` on one input; a panic fails the test with the input saved for `cargo fuzz run`.
fn run_one(target: &str, body: fn(&[u8]), input: &[u8], what: &str) {
    if catch_unwind(AssertUnwindSafe(|| body(input))).is_err() {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("fuzz-smoke");
        std::fs::create_dir_all(&dir).expect("scratch dir");
        let path = dir.join(format!("{target}-{what}"));
        std::fs::write(&path, input).expect("write the failing input");
        panic!(
            "fuzz target {target} failed on {what}; the input is {} (reproduce with \
             `cargo fuzz run -s none {target} {}`)",
            path.display(),
            path.display()
        );
    }
}

/// Every regression input of `target`, then the smoke run.
fn check_target(target: &str, body: fn(&[u8]), salt: u64) {
    for p in files(&format!("fuzz/regressions/{target}"), "") {
        let name = p
            .file_name()
            .expect("a file")
            .to_string_lossy()
            .into_owned();
        run_one(target, body, &read(&p), &format!("regression-{name}"));
    }
    let seeds = seeds(target);
    let mut rng = Rng::new(salt);
    for i in 0..SMOKE_INPUTS {
        let input = if seeds.is_empty() || i % 8 == 0 {
            // Unstructured bytes: what structure-aware targets build their input from.
            (0..rng.below(256)).map(|_| rng.next() as u8).collect()
        } else {
            let seed = &seeds[i % seeds.len()];
            if i < seeds.len() {
                seed.clone()
            } else {
                mutate(seed, &mut rng)
            }
        };
        run_one(target, body, &input, &format!("smoke-{i}"));
    }
}

#[test]
fn fuzz_hardware_toml() {
    check_target("hardware_toml", bodies::hardware_toml, 1);
}

#[test]
fn fuzz_runtime_toml() {
    check_target("runtime_toml", bodies::runtime_toml, 2);
}

#[test]
fn fuzz_hf_config() {
    check_target("hf_config", bodies::hf_config, 3);
}

#[test]
fn fuzz_gguf_header() {
    check_target("gguf_header", bodies::gguf_header, 12);
}

#[test]
fn fuzz_model_name() {
    check_target("model_name", bodies::model_name, 4);
}

#[test]
fn fuzz_onnx_bytes() {
    check_target("onnx_bytes", bodies::onnx_bytes, 5);
}

#[test]
fn fuzz_onnx_structured() {
    check_target("onnx_structured", bodies::onnx_structured, 6);
}

#[test]
fn fuzz_scalesim() {
    check_target("scalesim", bodies::scalesim, 7);
}

#[test]
fn fuzz_ofa() {
    check_target("ofa", bodies::ofa, 8);
}

#[test]
fn fuzz_sweep_size() {
    check_target("sweep_size", bodies::sweep_size, 9);
}

#[test]
fn fuzz_measurements() {
    check_target("measurements", bodies::measurements, 10);
}

#[test]
fn fuzz_merge_parquet() {
    check_target("merge_parquet", bodies::merge_parquet, 11);
}

/// Every target has a seed or a regression input, so the smoke run starts from real inputs.
#[test]
fn every_text_target_has_seeds() {
    for t in [
        "hardware_toml",
        "runtime_toml",
        "hf_config",
        "gguf_header",
        "onnx_bytes",
        "scalesim",
        "ofa",
        "sweep_size",
        "measurements",
        "merge_parquet",
    ] {
        assert!(!seeds(t).is_empty(), "{t} has no seeds");
    }
}
