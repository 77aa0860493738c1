//! `calibrate` and `validate` end to end through the command line: the calibrated file passes
//! `hw check` and is never overwritten without `--force`; `validate --quick` produces its table,
//! CSV and plot on a couple of tiny shapes; `--published` compares a table and skips, with a
//! notice, what archscope does not ship. No accuracy or timing is asserted.

use crate::common::{TempDir, archscope};
use std::path::Path;

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn calibrate_then_validate_quick() {
    let dir = TempDir::new("calibrate");
    let host = dir.join("host.toml");
    let (ok, out, err) = archscope(&["calibrate", "--quick", "--out", s(&host)]);
    assert!(ok, "{err}");
    assert!(out.contains("wrote"), "{out}");
    let text = std::fs::read_to_string(&host).unwrap();
    // both units, every memory level, provenance with the method and the date
    for needle in [
        "name = \"cpu\"",
        "name = \"core\"",
        "name = \"dram\"",
        "name = \"l1d\"",
        "measured by `archscope calibrate --quick` on 20",
        "median of 3 samples",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
    let (ok, out, err) = archscope(&["hw", "check", s(&host)]);
    assert!(ok && out.contains(": ok ("), "{out}{err}");

    // never overwrite without --force
    let (ok, _, err) = archscope(&["calibrate", "--quick", "--out", s(&host)]);
    assert!(!ok);
    assert!(
        err.contains("already exists") && err.contains("--force"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&host).unwrap(), text);

    // validate the pipeline on two tiny shapes
    let report = dir.join("report");
    let (ok, out, err) = archscope(&[
        "validate",
        "--hw",
        s(&host),
        "--quick",
        "--filter",
        "1x256x256",
        "--out",
        s(&report),
    ]);
    assert!(ok, "{err}");
    assert!(
        out.contains("per kind") && out.contains("gemv 1x256x256 f32"),
        "{out}"
    );
    let csv = std::fs::read_to_string(report.join("validate.csv")).unwrap();
    let mut rows = csv::Reader::from_reader(csv.as_bytes());
    assert_eq!(rows.headers().unwrap().get(2), Some("predicted_s"));
    let rows: Vec<_> = rows.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 1, "{csv}");
    assert_eq!(&rows[0][1], "gemv 1x256x256 f32");
    let predicted: f64 = rows[0][2].parse().unwrap();
    let measured: f64 = rows[0][3].parse().unwrap();
    assert!(predicted > 0.0 && measured > 0.0);
    // The second round measured the case again: its time is in the CSV and the noise floor
    // in the table.
    let repeat: f64 = rows[0][13].parse().unwrap();
    assert!(repeat > 0.0, "{csv}");
    assert!(
        out.contains("noise") && out.contains("second round"),
        "{out}"
    );
    let svg = std::fs::read_to_string(report.join("validate.svg")).unwrap();
    assert!(
        svg.starts_with("<svg") || svg.contains("<svg"),
        "not an SVG"
    );
}

#[test]
fn validate_without_a_host_file_says_how_to_make_one() {
    let (ok, _, err) = archscope(&["validate", "--hw", "/nonexistent/host.toml", "--quick"]);
    assert!(!ok);
    assert!(err.contains("archscope calibrate"), "{err}");
}

#[test]
fn published_table_is_compared_and_unknown_rows_skipped() {
    let dir = TempDir::new("published");
    let table = dir.join("published.csv");
    std::fs::write(
        &table,
        "id,device,model,quant,framework,config,metric,value,unit,source\n\
         A1,\"Apple M2 Ultra, 76-core GPU (800 GB/s)\",LLaMA-2 7B,F16,llama.cpp (Metal),pp512,prefill_tokens_per_s,1401.85,tokens/s,x\n\
         A1,\"Apple M2 Ultra, 76-core GPU (800 GB/s)\",LLaMA-2 7B,F16,llama.cpp (Metal),tg128,decode_tokens_per_s,41.02,tokens/s,x\n\
         A2,\"Apple M1 Ultra, 64-core GPU\",LLaMA-2 7B,F16,llama.cpp (Metal),tg128,decode_tokens_per_s,12.75,tokens/s,x\n\
         A3,\"Apple M2 Ultra, 76-core GPU (800 GB/s)\",LLaMA-2 7B,Q4_K_M,llama.cpp (Metal),tg128,decode_tokens_per_s,90,tokens/s,x\n\
         A4,Apple iPhone 13 (A15),MobileLLM-125M,not stated,ExecuTorch,,load_ms,39.2,ms,x\n",
    )
    .unwrap();
    let out_dir = dir.join("report");
    let (ok, out, err) = archscope(&["validate", "--published", s(&table), "--out", s(&out_dir)]);
    assert!(ok, "{err}");
    assert!(out.contains("2 rows compared, 3 skipped"), "{out}");
    assert!(
        err.contains("device `Apple M1 Ultra, 64-core GPU` is not in hardware-db"),
        "{err}"
    );
    assert!(
        err.contains("quantization `Q4_K_M` is not modelled"),
        "{err}"
    );
    assert!(err.contains("metric `load_ms`"), "{err}");
    let csv = std::fs::read_to_string(out_dir.join("published.csv")).unwrap();
    assert_eq!(csv.lines().count(), 3, "{csv}");
    assert!(csv.contains("m2-ultra/gpu llama-2-7b fp16"), "{csv}");

    // a table without the needed columns is a clear error
    std::fs::write(&table, "device,model\nx,y\n").unwrap();
    let (ok, _, err) = archscope(&["validate", "--published", s(&table)]);
    assert!(!ok);
    assert!(err.contains(":1: missing column `quant`"), "{err}");
}
