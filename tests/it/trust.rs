//! How far a number can be trusted: the measurement set's strict reading, a calibration that
//! recovers known corrections from synthetic rows, overlays that refuse another device or
//! runtime, error bands in the JSON of `score`, and the shipped bands file being current.

use archscope::hardware::Hardware;
use archscope::runtime::{Runtime, Scales};
use archscope::score::{ScoreRequest, score_llm};
use archscope::trust::dataset::{self, COLUMNS, Cache, prepare};
use archscope::trust::fit::{calibrate_pair, fit};
use archscope::trust::overlay::Overlay;
use archscope::trust::{TrustError, bands, study};
use archscope::workload::{QuantScheme, load_llm};

const SET: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/data/measurements/measurements.csv"
);

/// One CSV line in the measurement set's columns, from `(column, value)` pairs (others empty,
/// `batch` 1, `include` yes, `split` train).
fn line(fields: &[(&str, &str)]) -> String {
    COLUMNS
        .iter()
        .map(|c| {
            fields
                .iter()
                .find(|(k, _)| k == c)
                .map(|(_, v)| v.to_string())
                .unwrap_or_else(|| match *c {
                    "batch" => "1".into(),
                    "include" => "yes".into(),
                    "split" => "train".into(),
                    _ => String::new(),
                })
        })
        .collect::<Vec<_>>()
        .join(",")
}

fn csv(lines: &[String]) -> String {
    format!("{}\n{}\n", COLUMNS.join(","), lines.join("\n"))
}

#[test]
fn bad_rows_name_the_line_and_the_column() {
    let good = line(&[("id", "a"), ("metric", "latency_ms"), ("value", "1.5")]);
    assert_eq!(
        dataset::parse(&csv(&[good.clone()]), "m.csv")
            .unwrap()
            .len(),
        1
    );
    let cases = [
        (
            line(&[("id", "b"), ("value", "fast")]),
            "m.csv:3: column `value`",
        ),
        (
            line(&[("id", "b"), ("value", "1e999")]),
            "column `value`: expected a finite positive",
        ),
        (
            line(&[("id", "b"), ("value", "2"), ("split", "dev")]),
            "column `split`",
        ),
        (
            line(&[("id", "b"), ("value", "2"), ("threads", "0")]),
            "column `threads`",
        ),
        (
            line(&[("id", "b"), ("value", "2"), ("include", "no")]),
            "column `note`: expected a reason",
        ),
        (line(&[("id", "a"), ("value", "2")]), "`a` repeats line 2"),
    ];
    for (bad, want) in cases {
        let e = dataset::parse(&csv(&[good.clone(), bad]), "m.csv").unwrap_err();
        assert!(e.to_string().contains(want), "{e} (wanted {want})");
    }
    let e = dataset::parse("id,value\na,1\n", "m.csv").unwrap_err();
    assert!(
        e.to_string().contains("m.csv:1: missing column `device`"),
        "{e}"
    );
}

/// Rows of one pair (galaxy-s24, executorch-xnnpack on the CPU): LLM prefill (compute-bound),
/// decode (bandwidth-bound) and small networks (dispatch-bound), each measured as archscope
/// predicts it under `truth`.
fn synthetic_rows(truth: Scales) -> Vec<dataset::Row> {
    let mut lines = Vec::new();
    let models = ["llama-1b", "llama-3b", "tinyllama-1.1b", "qwen1.5-1.8b"];
    for (i, m) in models.iter().enumerate() {
        for (metric, extra) in [
            ("prefill_tokens_per_s", ("prompt", "128")),
            ("decode_tokens_per_s", ("generated", "64")),
        ] {
            lines.push(line(&[
                ("id", &format!("{m}-{metric}-{i}")),
                ("hw", "galaxy-s24"),
                ("model_ref", m),
                ("kind", "llm"),
                ("quant", "w4a8"),
                ("runtime", "executorch-xnnpack"),
                ("unit_kind", "cpu"),
                ("threads", "4"),
                extra,
                ("metric", metric),
                ("value", "1"),
            ]));
        }
    }
    for m in [
        "mobilenetv3-small",
        "mobilenetv3-small?res=128",
        "mobilenetv3-small?res=96",
        "squeezenet1.1",
        "squeezenet1.1?res=128",
        "mobilenetv2?res=96",
        "mobilenetv2?res=64",
        "mnasnet-a1?res=96",
        "efficientnet-b0?res=96",
        "mobilenetv3-large?res=96",
    ] {
        lines.push(line(&[
            ("id", m),
            ("hw", "galaxy-s24"),
            ("model_ref", m),
            ("kind", "network"),
            ("quant", "int8"),
            ("runtime", "executorch-xnnpack"),
            ("unit_kind", "cpu"),
            ("threads", "4"),
            ("metric", "latency_ms"),
            ("value", "1"),
        ]));
    }
    let mut rows = dataset::parse(&csv(&lines), "synthetic.csv").unwrap();
    let mut cache = Cache::default();
    for r in &mut rows {
        let p = prepare(r, &mut cache).unwrap();
        let t = p.price(truth).unwrap().predicted_s;
        // The measured value that gives exactly that time.
        r.value = match r.metric.as_str() {
            "latency_ms" => t * 1e3,
            "prefill_tokens_per_s" => 128.0 / t,
            _ => 1.0 / t,
        };
    }
    rows
}

#[test]
fn calibration_recovers_known_corrections() {
    let truth = Scales {
        compute: 0.7,
        bandwidth: 0.8,
        dispatch: 1.5,
    };
    let rows = synthetic_rows(truth);
    let mut cache = Cache::default();
    let prepared: Vec<_> = rows
        .iter()
        .map(|r| prepare(r, &mut cache).unwrap())
        .collect();
    let f = fit(&prepared).unwrap();
    assert_eq!(f.constrained, [true, true, true], "{f:?}");
    // The prior (log-normal around the shipped figures) pulls towards 1: with eighteen exact
    // rows, ten of them small networks whose time is partly dispatch, the fit (the maximum a
    // posteriori, whose cost is below the truth's) lands within 4 % of the truth.
    for (got, want) in [
        (f.scales.compute, truth.compute),
        (f.scales.bandwidth, truth.bandwidth),
        (f.scales.dispatch, truth.dispatch),
    ] {
        assert!((got / want - 1.0).abs() < 0.04, "{f:?}");
    }
    for (id, r) in &f.residuals {
        assert!(r.abs() < 0.03, "{id}: {r}");
    }
    // The overlay: the rows, no constraint missing, a small cross-validated error.
    let o = calibrate_pair(&rows, "galaxy-s24", "executorch-xnnpack", "synthetic.csv").unwrap();
    assert_eq!(o.calibration.rows.len(), rows.len());
    assert!(o.scales.unconstrained.is_empty());
    let cv = o.cv.as_ref().unwrap();
    assert!(cv.median_abs < 0.05, "{cv:?}");
    // It round-trips through its TOML.
    assert_eq!(Overlay::parse(&o.to_toml(), "o.toml").unwrap(), o);
}

#[test]
fn a_parameter_no_row_constrains_keeps_its_prior() {
    // Decode rows only: nothing is compute-bound, so compute stays at 1.
    let truth = Scales {
        compute: 0.5,
        bandwidth: 0.8,
        dispatch: 1.0,
    };
    let rows: Vec<_> = synthetic_rows(truth)
        .into_iter()
        .filter(|r| r.metric == "decode_tokens_per_s")
        .collect();
    let mut cache = Cache::default();
    let prepared: Vec<_> = rows
        .iter()
        .map(|r| prepare(r, &mut cache).unwrap())
        .collect();
    let f = fit(&prepared).unwrap();
    assert!(!f.constrained[0], "{f:?}");
    assert_eq!(f.scales.compute, 1.0);
    assert!((f.scales.bandwidth / 0.8 - 1.0).abs() < 0.03, "{f:?}");
}

#[test]
fn overlays_apply_only_to_their_pair() {
    let rows = synthetic_rows(Scales::default());
    let o = calibrate_pair(&rows, "galaxy-s24", "executorch-xnnpack", "s.csv").unwrap();
    let hw = Hardware::load("galaxy-s24").unwrap();
    let m = load_llm("llama-1b").unwrap();
    let q = QuantScheme::parse("w4a8").unwrap();
    let req = |rt: &str| ScoreRequest {
        unit: Some("cpu-mid".into()),
        runtime: Runtime::load(rt).unwrap(),
        calibration: Some(o.clone()),
        ..ScoreRequest::default()
    };
    let s = score_llm(&hw, &m, &q, &req("executorch-xnnpack")).unwrap();
    assert!(
        s.band.as_ref().unwrap().label.starts_with("calibrated"),
        "{:?}",
        s.band
    );
    let e = score_llm(&hw, &m, &q, &req("litert-xnnpack")).unwrap_err();
    assert!(
        e.to_string().contains(
            "this calibration is for device `galaxy-s24` with runtime `executorch-xnnpack`"
        ),
        "{e}"
    );
    let other = Hardware::load("pixel8").unwrap();
    let e = score_llm(&other, &m, &q, &req("executorch-xnnpack")).unwrap_err();
    assert!(e.to_string().contains("not `pixel8`"), "{e}");
    // No pair rows at all: a clear error.
    match calibrate_pair(&rows, "pixel8", "executorch-xnnpack", "s.csv") {
        Err(e @ TrustError::Empty(_)) => assert!(e.to_string().contains("no train row"), "{e}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn score_json_carries_error_bands() {
    let hw = Hardware::load("m2-ultra").unwrap();
    let m = load_llm("llama-2-7b").unwrap();
    let q = QuantScheme::parse("q4_0").unwrap();
    let req = ScoreRequest {
        runtime: Runtime::load("llama.cpp-metal").unwrap(),
        ..ScoreRequest::default()
    };
    let s = score_llm(&hw, &m, &q, &req).unwrap();
    let j = s.to_json(&hw);
    let b = &j["band"];
    assert!(
        b["label"]
            .as_str()
            .unwrap()
            .starts_with("uncalibrated: typical ±"),
        "{b}"
    );
    let mm = &j["metrics"];
    for k in ["ttft_s", "tpot_s", "decode_tokens_per_s"] {
        let (lo, v, hi) = (
            mm[format!("{k}_low")].as_f64().unwrap(),
            mm[k].as_f64().unwrap(),
            mm[format!("{k}_high")].as_f64().unwrap(),
        );
        assert!(lo <= v && v <= hi, "{k}: {lo} {v} {hi}");
    }
    // The band is the Apple class's, from the shipped bands file.
    let shipped = bands::shipped();
    let apple = shipped
        .iter()
        .find(|c| c.pricing == "runtime" && c.class == "Apple")
        .unwrap();
    assert_eq!(b["p10"].as_f64().unwrap(), apple.p10);
    let tpot = mm["tpot_s"].as_f64().unwrap();
    assert!((mm["tpot_s_high"].as_f64().unwrap() - tpot / (1.0 + apple.p10)).abs() < 1e-12);
}

#[test]
fn shipped_bands_are_computed_from_the_measurement_set() {
    // The bands every prediction carries come from data: recomputing them from the measurement
    // set gives the shipped file (regenerate it with `archscope validate --published
    // data/measurements/measurements.csv --write-bands data/measurements/bands.csv --force`).
    let rows = dataset::read(std::path::Path::new(SET)).unwrap();
    let st = study::study(&rows, SET);
    assert_eq!(st.bands(), bands::SHIPPED);
    // Every class of the issue has rows.
    for class in ["phone-accelerator CNNs", "CPU LLMs", "GPU LLMs", "Apple"] {
        assert!(st.runtime.iter().any(|p| p.class == class), "{class}");
    }
}
