//! The command line end to end: `score` in every format, `hw` and `models`, and clean errors.

use crate::common::{TempDir, archscope, words};

#[test]
fn score_json_has_the_documented_fields_and_adds_up() {
    let (ok, out, err) = archscope(&words(
        "score --hw a100-80gb.toml --model llama-1b --phase decode --context 1024 --ideal --format json",
    ));
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let p = &v["phases"][0];
    assert_eq!(p["phase"], "decode");
    let ops = p["ops"].as_array().unwrap();
    let sum: f64 = ops.iter().map(|o| o["latency_s"].as_f64().unwrap()).sum();
    let total = p["latency_s"].as_f64().unwrap();
    assert!((sum - total).abs() < 1e-9 * total);
    // 2,505,476,612 bytes of HBM traffic at 2,039 GB/s ≈ 1.229 ms (hand roofline).
    assert!((total * 1e3 - 1.2293).abs() < 5e-4, "{total}");
    assert_eq!(v["memory"]["fits"], true);
    assert_eq!(v["hardware"], "a100-80gb");
}

#[test]
fn score_table_and_csv() {
    let (ok, out, err) = archscope(&words(
        "score --hw pixel8 --model mobilellm-125m --prompt 64",
    ));
    assert!(ok, "{err}");
    assert!(
        out.contains("-- layer 29") && out.contains("TTFT") && out.contains("TPOT"),
        "{out}"
    );
    let (ok, out, _) = archscope(&words(
        "score --hw pixel8 --model mobilellm-125m --phase decode --format csv",
    ));
    assert!(ok);
    let mut rows = csv::Reader::from_reader(out.as_bytes());
    assert_eq!(rows.headers().unwrap().get(1), Some("op"));
    // embed + 30 layers x 17 ops (norm, q, k, v, rope, kv_append, qk, softmax, av, o, add,
    // norm, gate, up, act, down, add) + final norm + lm_head
    assert_eq!(rows.records().count(), 1 + 30 * 17 + 2);
}

#[test]
fn errors_are_one_clean_line() {
    let (ok, _, err) = archscope(&["score", "--hw", "no-such-device", "--model", "llama-1b"]);
    assert!(!ok);
    assert!(
        err.starts_with("error: unknown hardware `no-such-device`"),
        "{err}"
    );
    assert!(
        !err.contains("backtrace") && !err.contains("panicked"),
        "{err}"
    );
    let dir = TempDir::new("cli-errors");
    let bad = dir.join("bad.toml");
    std::fs::write(
        &bad,
        "[device]\nname = \"x\"\ndescription = \"y\"\nfoo = 1\n",
    )
    .unwrap();
    let (ok, _, err) = archscope(&["hw", "check", bad.to_str().unwrap()]);
    assert!(!ok);
    assert!(err.contains("bad.toml:4: unknown field `foo`"), "{err}");
    let (ok, _, err) = archscope(&[
        "score", "--hw", "pixel8", "--model", "llama-1b", "--unit", "tpu", "--quant", "fp32",
    ]);
    assert!(!ok);
    assert!(err.contains("infeasible: unit `tpu`"), "{err}");
}

#[test]
fn hw_check_builds_every_units_cost_model() {
    // pixel8's cpu-big is priced by the CPU cycle model, which needs whole 32-bit SIMD lanes: a
    // 100-bit datapath parses as a device but cannot build its model, so the check fails and
    // names the file, the unit and the parameter.
    let text = include_str!("../../hardware-db/pixel8.toml");
    let from = "simd_bits = 128\n# Cycle model: src/cycle/cpu.rs";
    assert!(text.contains(from));
    let dir = std::env::temp_dir().join(format!("archscope-hwcheck-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad-cycle.toml");
    std::fs::write(&bad, text.replacen(from, "simd_bits = 100\n#", 1)).unwrap();
    let (ok, out, err) = archscope(&["hw", "check", bad.to_str().unwrap()]);
    assert!(!ok, "{out}");
    assert!(
        err.contains(
            "bad-cycle.toml: unit `cpu-big`: params.simd_bits: expected a multiple of 32, found 100"
        ),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn hw_and_models_commands() {
    let (ok, out, _) = archscope(&["hw", "list"]);
    assert!(ok && out.contains("pixel8"));
    let (ok, out, _) = archscope(&["hw", "show", "pixel8"]);
    assert!(
        ok && out.contains("provenance") && out.contains("estimate:"),
        "{out}"
    );
    let (ok, out, _) = archscope(&["hw", "check", "hardware-db/a100-80gb.toml"]);
    assert!(ok && out.contains("ok"), "{out}");
    let (ok, out, _) = archscope(&["models", "show", "llama-1b"]);
    assert!(ok);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["params"], 1_235_814_400u64);
}

#[test]
fn score_with_a_scratchpad_mapping() {
    let args = |m: &'static str| {
        vec![
            "score",
            "--hw",
            "systolic-32x32",
            "--model",
            "mobilenetv2?res=64",
            "--quant",
            "int8",
            "--mapping",
            m,
            "--format",
            "json",
        ]
    };
    let (ok, out, err) = archscope(&args("ilp"));
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let m = &v["mapping"];
    assert_eq!(m["scratchpad"], "sram");
    assert_eq!(m["spill_level"], "dram");
    assert_eq!(m["method"], "ilp");
    // The 64x64x3 int8 image is loaded once and the 1000 int8 class scores stored once.
    assert!(m["compulsory_bytes"].as_u64().unwrap() >= 64 * 64 * 3 + 1000);
    // A cache-only device and an unknown planner are one-line errors.
    let (ok, _, err) = archscope(&words(
        "score --hw pixel8 --model mobilenetv2 --mapping ilp",
    ));
    assert!(
        !ok && err.contains("software-managed") && err.lines().count() == 1,
        "{err}"
    );
    let (ok, _, err) = archscope(&args("greedy"));
    assert!(
        !ok && err.contains("greedy") && err.contains("possible values: ilp"),
        "{err}"
    );
}

#[test]
fn a_closed_pipe_ends_quietly_with_status_0() {
    // More CSV than a pipe buffers (64 KiB on Linux), so the writer meets the closed pipe.
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_archscope"))
        .args([
            "score", "--hw", "pixel8", "--model", "llama-3b", "--format", "csv",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.starts_with("phase,op,"), "{first}");
    // The reader is dropped here: the pipe is closed while the CLI still writes.
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "status {:?}, stderr: {stderr}",
        out.status
    );
    assert!(stderr.is_empty(), "{stderr}");
}
