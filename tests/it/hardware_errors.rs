//! Bad hardware and model files get clear errors naming file, line and field; every shipped file
//! is valid.

use crate::common::device::{DeviceToml, MemoryToml, UnitToml};
use archscope::hardware::{Hardware, HardwareError, known_devices};
use archscope::workload::{LlmConfig, ModelError, known_models, load_llm};

/// A valid toy device: one int8 NPU reaching an 8 MB SRAM and 8 GB of DRAM.
fn good() -> String {
    DeviceToml::new("toy", "a toy device")
        .unit(
            UnitToml::new("npu", "npu")
                .memory(&["sram", "dram"])
                .compute_efficiency("0.5")
                .bandwidth_efficiency("0.5")
                .peak("i8", "4e12")
                .pj_per_op("i8", "0.5"),
        )
        .memory(MemoryToml::new("sram", "8e6", "1e12", "1"))
        .memory(MemoryToml::new("dram", "8e9", "50e9", "40"))
        .static_w("0.5")
        .text()
}

fn err(text: &str) -> HardwareError {
    Hardware::from_toml_str(text, "bad.toml").expect_err("should be rejected")
}

fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .expect("needle")
        + 1
}

#[test]
fn the_good_file_is_good() {
    let h = Hardware::from_toml_str(&good(), "good.toml").unwrap();
    assert_eq!(h.units[0].reach, vec![0, 1]);
    assert_eq!(h.memories[1].j_per_byte, 40e-12);
}

#[test]
fn unknown_field_names_line() {
    let text = good().replace("kind = \"npu\"", "kind = \"npu\"\nbandwith_bytes_per_s = 3");
    let e = err(&text);
    let s = e.to_string();
    assert!(
        s.starts_with(&format!("bad.toml:{}:", line_of(&text, "bandwith"))),
        "{s}"
    );
    assert!(s.contains("bandwith_bytes_per_s"), "{s}");
}

#[test]
fn missing_field_is_named() {
    let text = good().replace("clock_hz = { value = 1e9, source = \"test\" }\n", "");
    let s = err(&text).to_string();
    assert!(s.contains("clock_hz"), "{s}");
}

#[test]
fn zero_negative_and_nan_are_rejected_with_line_and_field() {
    for (bad, why) in [
        ("bytes_per_s = { value = 0, source = \"test\" }", "positive"),
        (
            "bytes_per_s = { value = -5e10, source = \"test\" }",
            "positive",
        ),
        ("bytes_per_s = { value = nan, source = \"test\" }", "finite"),
    ] {
        let text = good().replacen("bytes_per_s = { value = 50e9, source = \"test\" }", bad, 1);
        match err(&text) {
            HardwareError::Invalid {
                file,
                line,
                field,
                message,
            } => {
                assert_eq!(file, "bad.toml");
                assert_eq!(line, line_of(&text, bad));
                assert_eq!(field, "memory[dram].bytes_per_s");
                assert!(message.contains(why), "{message}");
            }
            other => panic!("wrong error {other}"),
        }
    }
}

#[test]
fn efficiency_above_one_is_rejected() {
    let text = good().replace(
        "compute_efficiency = { value = 0.5",
        "compute_efficiency = { value = 1.5",
    );
    let s = err(&text).to_string();
    assert!(
        s.contains("unit[npu].compute_efficiency") && s.contains("at most 1"),
        "{s}"
    );
}

#[test]
fn figures_need_provenance() {
    let text = good().replace(
        "static_w = { value = 0.5, source = \"test\" }",
        "static_w = { value = 0.5 }",
    );
    let s = err(&text).to_string();
    assert!(s.contains("power.static_w") && s.contains("source"), "{s}");
    let both = good().replace(
        "static_w = { value = 0.5, source = \"test\" }",
        "static_w = { value = 0.5, source = \"a\", estimate = \"b\" }",
    );
    assert!(err(&both).to_string().contains("not both"));
}

#[test]
fn duplicate_names_are_rejected() {
    let text = good().replace("name = \"sram\"", "name = \"dram\"");
    let s = err(&text).to_string();
    assert!(s.contains("duplicate memory level `dram`"), "{s}");
    // reported at the second occurrence
    let second = text
        .lines()
        .enumerate()
        .filter(|(_, l)| l.contains("name = \"dram\""))
        .last()
        .unwrap()
        .0
        + 1;
    assert!(s.starts_with(&format!("bad.toml:{second}:")), "{s}");
}

#[test]
fn unit_reaching_missing_level_is_rejected() {
    let text = good().replace(
        "memory = [\"sram\", \"dram\"]",
        "memory = [\"sram\", \"hbm\"]",
    );
    let s = err(&text).to_string();
    assert!(
        s.contains("`hbm` does not exist") && s.contains("unit[npu].memory"),
        "{s}"
    );
    assert!(
        s.starts_with(&format!("bad.toml:{}:", line_of(&text, "\"hbm\""))),
        "{s}"
    );
}

#[test]
fn unknown_dtype_and_missing_energy_are_rejected() {
    let text = good().replace("i8 = { value = 4e12", "int7 = { value = 4e12");
    assert!(err(&text).to_string().contains("unknown dtype `int7`"));
    let text = good().replace("i8 = { value = 0.5, source = \"test\" }", "");
    assert!(err(&text).to_string().contains("pj_per_op"));
}

#[test]
fn every_shipped_device_is_valid_and_sourced() {
    let devices = known_devices();
    assert!(devices.contains(&"pixel8") && devices.contains(&"a100-80gb"));
    for d in devices {
        let h = Hardware::load(d).unwrap_or_else(|e| panic!("{d}: {e}"));
        assert_eq!(h.name, d, "device.name must equal the file's short name");
        for p in &h.provenance {
            assert!(
                p.note.len() > 12,
                "{d}: {} has a thin note: {}",
                p.field,
                p.note
            );
        }
    }
}

#[test]
fn hw_resolves_path_file_name_and_short_name() {
    let a = Hardware::load("pixel8").unwrap();
    let b = Hardware::load("pixel8.toml").unwrap();
    let c = Hardware::load(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/hardware-db/pixel8.toml"
    ))
    .unwrap();
    assert_eq!(
        (a.name.as_str(), b.name.as_str(), c.name.as_str()),
        ("pixel8", "pixel8", "pixel8")
    );
    assert!(matches!(
        Hardware::load("no-such-device"),
        Err(HardwareError::NotFound { .. })
    ));
}

#[test]
fn bad_model_configs_get_clear_errors() {
    let e = LlmConfig::from_json(
        "{\"model_type\": \"llama\", \"hidden_size\": 64}",
        "m.json",
        "m",
    )
    .unwrap_err();
    assert!(matches!(e, ModelError::Json { .. }));
    assert!(e.to_string().starts_with("m.json:1:"), "{e}");
    assert!(e.to_string().contains("intermediate_size"), "{e}");
    let base = r#"{"model_type":"llama","hidden_size":64,"intermediate_size":128,
        "num_hidden_layers":2,"num_attention_heads":4,"num_key_value_heads":3,"vocab_size":100}"#;
    let e = LlmConfig::from_json(base, "m.json", "m").unwrap_err();
    assert!(e.to_string().contains("field `num_key_value_heads`"), "{e}");
    let e =
        LlmConfig::from_json(&base.replace("\"llama\"", "\"gpt2\""), "m.json", "m").unwrap_err();
    assert!(e.to_string().contains("`gpt2` is not supported"), "{e}");
    let e = LlmConfig::from_json(
        &base.replace("\"hidden_size\":64", "\"hidden_size\":0"),
        "m.json",
        "m",
    )
    .unwrap_err();
    assert!(e.to_string().contains("hidden_size"), "{e}");
    assert!(matches!(
        load_llm("no-such-model"),
        Err(ModelError::NotFound { .. })
    ));
    let e = LlmConfig::from_json("{\"model_type\": ", "m.json", "m").unwrap_err();
    assert!(e.to_string().starts_with("m.json:1:"), "{e}");
}

#[test]
fn every_shipped_model_loads() {
    let models = known_models();
    assert!(models.len() >= 11);
    for m in models {
        let c = load_llm(m).unwrap_or_else(|e| panic!("{m}: {e}"));
        assert!(c.param_count() > 100_000_000, "{m}");
    }
}

#[test]
fn unknown_cost_model_is_a_clear_error() {
    use archscope::cost::Mode;
    use archscope::cost_models::model_for;
    let text = good().replace(
        "[unit.peak_ops_per_s]",
        "[unit.params]\nmodel = \"warp-drive\"\n[unit.peak_ops_per_s]",
    );
    let h = Hardware::from_toml_str(&text, "toy.toml").unwrap();
    let e = model_for(&h, 0, Mode::Calibrated)
        .err()
        .expect("unknown model must be rejected");
    let s = e.to_string();
    assert!(
        s.contains("toy.toml") && s.contains("`npu`") && s.contains("warp-drive"),
        "{s}"
    );
    let good = Hardware::from_toml_str(&good(), "good.toml").unwrap();
    assert!(model_for(&good, 0, Mode::Calibrated).is_ok());
}

#[test]
fn every_shipped_unit_has_a_usable_cost_model() {
    use archscope::cost::Mode;
    use archscope::cost_models::model_for;
    for d in known_devices() {
        let h = Hardware::load(d).unwrap();
        for (i, u) in h.units.iter().enumerate() {
            if let Err(e) = model_for(&h, i, Mode::Calibrated) {
                panic!("{d} unit {}: {e}", u.name);
            }
        }
    }
}

#[test]
fn managed_says_scratchpad_or_cache() {
    let h = Hardware::from_toml_str(&good(), "good.toml").unwrap();
    assert!(!h.memories[0].software_managed, "caches by default");
    let text = good().replacen(
        "pj_per_byte = { value = 1, source = \"test\" }",
        "pj_per_byte = { value = 1, source = \"test\" }\nmanaged = \"software\"",
        1,
    );
    let h = Hardware::from_toml_str(&text, "good.toml").unwrap();
    assert!(h.memories[0].software_managed && !h.memories[1].software_managed);
    let bad = text.replace("managed = \"software\"", "managed = \"compiler\"");
    let s = err(&bad).to_string();
    assert!(
        s.starts_with(&format!("bad.toml:{}:", line_of(&bad, "managed"))),
        "{s}"
    );
    assert!(s.contains("software") && s.contains("hardware"), "{s}");
}
