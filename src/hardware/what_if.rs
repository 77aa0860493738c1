//! Hardware what-ifs: set one numeric field of a parsed hardware file, addressed with the same
//! paths the validator uses in its errors, then validate the edited device as a whole.
//!
//! Paths: `unit[NAME].FIELD`, `memory[NAME].FIELD`, `power.FIELD`, with dotted sub-keys for
//! tables (`unit[gpu].peak_ops_per_s.f16`, `unit[npu].params.rows`). A figure
//! (`{ value = .., source = .. }`) gets its `value` replaced and its provenance replaced by an
//! `estimate` that says it was set by a what-if; a plain number (in `params`) is replaced in place.
//! The edited table is written back to TOML and validated like any file, so a what-if can never
//! produce a device the validator would reject (e.g. `usable_bytes` above `capacity_bytes`).
//!
//! **Dependent figures.** A unit's peaks are `count × ops per cycle per core × clock_hz`, and the
//! CPU cycle model checks that identity. So a what-if on `unit[NAME].clock_hz` or
//! `unit[NAME].count` ([`SCALES_PEAKS`]) scales every `peak_ops_per_s`, `vector_ops_per_s` and
//! `special_ops_per_s` figure of that unit by the same ratio (ops per cycle per core held), and
//! their provenance says so. A peak set explicitly in the same what-if wins: edits of the clock
//! and core count are applied first, then the others. A core-count what-if on a unit priced by
//! the CPU cycle model also sets its `params.bandwidth_cores` to the file's count (unless the
//! file gives one): the memory figures describe that many cores, so one core's share of each
//! level is held as its ops per cycle are (see [`crate::cycle::cpu`]).

use super::{Hardware, HardwareError};
use toml::{Table, Value};

/// One segment of a field path: a bare key, or an array-of-tables entry selected by its name.
#[derive(Clone, Debug, PartialEq)]
enum Segment<'a> {
    Key(&'a str),
    Named(&'a str, &'a str),
}

fn no_such(file: &str, path: &str, message: String) -> HardwareError {
    HardwareError::NoSuchField {
        file: file.to_string(),
        field: path.to_string(),
        message,
    }
}

fn parse_path<'a>(file: &str, path: &'a str) -> Result<Vec<Segment<'a>>, HardwareError> {
    let bad = |why: &str| {
        no_such(
            file,
            path,
            format!(
                "{why}; expected a path such as `memory[dram].bytes_per_s`, `unit[gpu].peak_ops_per_s.f16` or `power.static_w`"
            ),
        )
    };
    let mut out = Vec::new();
    let mut rest = path.trim();
    if rest.is_empty() {
        return Err(bad("empty path"));
    }
    loop {
        let end = rest.find(['.', '[']).unwrap_or(rest.len());
        let key = &rest[..end];
        if key.is_empty() {
            return Err(bad("empty key"));
        }
        rest = &rest[end..];
        if let Some(r) = rest.strip_prefix('[') {
            let close = r.find(']').ok_or_else(|| bad("unclosed `[`"))?;
            let name = &r[..close];
            if name.is_empty() {
                return Err(bad("empty name in `[]`"));
            }
            out.push(Segment::Named(key, name));
            rest = &r[close + 1..];
        } else {
            out.push(Segment::Key(key));
        }
        if rest.is_empty() {
            return Ok(out);
        }
        rest = rest
            .strip_prefix('.')
            .ok_or_else(|| bad("expected `.` between keys"))?;
    }
}

fn keys_of(t: &Table) -> String {
    let mut k: Vec<&str> = t.keys().map(String::as_str).collect();
    k.sort_unstable();
    k.join(", ")
}

/// Sets the numeric field at `path` of a parsed hardware file to `value`. `file` names the file
/// in errors. Errors name the part of the path that does not exist and list what does.
pub fn set_field(
    table: &mut Table,
    file: &str,
    path: &str,
    value: f64,
) -> Result<(), HardwareError> {
    if !value.is_finite() {
        return Err(HardwareError::Invalid {
            file: file.to_string(),
            line: 0,
            field: path.to_string(),
            message: format!("what-if value must be a finite number, found {value}"),
        });
    }
    let segs = parse_path(file, path)?;
    let mut cur: &mut Table = table;
    let mut walked = String::new();
    let last = segs.len() - 1;
    for (i, seg) in segs.iter().enumerate() {
        match *seg {
            Segment::Named(key, name) => {
                let here = if walked.is_empty() {
                    key.to_string()
                } else {
                    format!("{walked}.{key}")
                };
                let arr = match cur.get_mut(key) {
                    Some(Value::Array(a)) => a,
                    _ => {
                        return Err(no_such(
                            file,
                            path,
                            format!(
                                "`{here}` is not a list of named entries; named entries are `unit[NAME]` and `memory[NAME]`"
                            ),
                        ));
                    }
                };
                let names: Vec<String> = arr
                    .iter()
                    .filter_map(|v| v.get("name").and_then(Value::as_str).map(str::to_string))
                    .collect();
                let entry = arr
                    .iter_mut()
                    .find(|v| v.get("name").and_then(Value::as_str) == Some(name));
                match entry {
                    Some(Value::Table(t)) => cur = t,
                    _ => {
                        return Err(no_such(
                            file,
                            path,
                            format!(
                                "there is no `{key}` named `{name}`; the device has: {}",
                                names.join(", ")
                            ),
                        ));
                    }
                }
                walked = format!("{here}[{name}]");
                if i == last {
                    return Err(no_such(
                        file,
                        path,
                        format!(
                            "`{walked}` is a whole entry, not a number; its fields are: {}",
                            keys_of(cur)
                        ),
                    ));
                }
            }
            Segment::Key(key) => {
                let parent = if walked.is_empty() {
                    "the file".to_string()
                } else {
                    format!("`{walked}`")
                };
                let known = keys_of(cur);
                let here = if walked.is_empty() {
                    key.to_string()
                } else {
                    format!("{walked}.{key}")
                };
                let Some(v) = cur.get_mut(key) else {
                    return Err(no_such(
                        file,
                        path,
                        format!("{parent} has no field `{key}`; it has: {known}"),
                    ));
                };
                if i < last {
                    match v {
                        Value::Table(t) => cur = t,
                        _ => {
                            return Err(no_such(
                                file,
                                path,
                                format!("`{here}` is not a table, so it has no sub-fields"),
                            ));
                        }
                    }
                    walked = here;
                    continue;
                }
                return match v {
                    Value::Table(fig) if fig.contains_key("value") => {
                        fig.insert("value".into(), Value::Float(value));
                        fig.remove("source");
                        fig.insert(
                            "estimate".into(),
                            Value::String(format!("what-if: set to {value:e}")),
                        );
                        Ok(())
                    }
                    Value::Float(x) => {
                        *x = value;
                        Ok(())
                    }
                    Value::Integer(x) => {
                        if value.fract() != 0.0 || value.abs() > i64::MAX as f64 {
                            return Err(HardwareError::Invalid {
                                file: file.to_string(),
                                line: 0,
                                field: path.to_string(),
                                message: format!("expected an integer, found {value}"),
                            });
                        }
                        *x = value as i64;
                        Ok(())
                    }
                    Value::Table(t) => Err(no_such(
                        file,
                        path,
                        format!(
                            "`{here}` is a table of numbers, not a number; name one of: {}",
                            keys_of(t)
                        ),
                    )),
                    other => Err(no_such(
                        file,
                        path,
                        format!("`{here}` is a {}, not a number", other.type_str()),
                    )),
                };
            }
        }
    }
    unreachable!("the loop returns at the last segment")
}

/// Unit fields whose what-ifs scale the unit's peaks with them (see the module docs).
pub const SCALES_PEAKS: [&str; 2] = ["clock_hz", "count"];

/// Unit tables of peaks that scale with the clock and the core count.
const PEAK_TABLES: [&str; 3] = ["peak_ops_per_s", "vector_ops_per_s", "special_ops_per_s"];

/// The unit name and field of a `unit[NAME].FIELD` path whose field scales the peaks.
fn peak_scaling_field(path: &str) -> Option<(&str, &str)> {
    let rest = path.trim().strip_prefix("unit[")?;
    let (name, field) = rest.split_once("].")?;
    SCALES_PEAKS
        .iter()
        .find(|f| **f == field)
        .map(|f| (name, *f))
}

/// The number at a figure or plain value.
fn number_of(v: &Value) -> Option<f64> {
    match v {
        Value::Table(t) => t.get("value").and_then(number_of),
        Value::Float(x) => Some(*x),
        Value::Integer(x) => Some(*x as f64),
        _ => None,
    }
}

/// The `[[unit]]` entry named `name`.
fn unit_entry<'a>(table: &'a mut Table, name: &str) -> Option<&'a mut Table> {
    match table.get_mut("unit") {
        Some(Value::Array(a)) => a.iter_mut().find_map(|v| match v {
            Value::Table(t) if t.get("name").and_then(Value::as_str) == Some(name) => Some(t),
            _ => None,
        }),
        _ => None,
    }
}

/// Sets `unit[name].field` (a field of [`SCALES_PEAKS`]) to `value` and scales the unit's peak
/// figures by the same ratio, recording it in their provenance.
fn set_scaling_field(
    table: &mut Table,
    file: &str,
    path: &str,
    name: &str,
    field: &str,
    value: f64,
) -> Result<(), HardwareError> {
    let old = unit_entry(table, name)
        .and_then(|u| u.get(field))
        .and_then(number_of);
    set_field(table, file, path, value)?;
    let Some(old) = old.filter(|o| *o > 0.0) else {
        // The validator reports a missing or non-positive clock or count.
        return Ok(());
    };
    let ratio = value / old;
    let unit = unit_entry(table, name).expect("set_field found the unit");
    if field == "count" {
        if let Some(Value::Table(params)) = unit.get_mut("params") {
            let cpu = params.get("model").and_then(Value::as_str) == Some(crate::cycle::cpu::NAME);
            if cpu && !params.contains_key("bandwidth_cores") {
                params.insert("bandwidth_cores".into(), Value::Float(old));
            }
        }
    }
    for t in PEAK_TABLES {
        if let Some(Value::Table(peaks)) = unit.get_mut(t) {
            for (_, fig) in peaks.iter_mut() {
                let scaled = number_of(fig).map(|x| x * ratio);
                match (fig, scaled) {
                    (Value::Table(f), Some(x)) => {
                        f.insert("value".into(), Value::Float(x));
                        f.remove("source");
                        f.insert(
                            "estimate".into(),
                            Value::String(format!(
                                "what-if: scaled ×{ratio:.6} with {field} set to {value:e} (ops per cycle per core held)"
                            )),
                        );
                    }
                    (v @ Value::Float(_), Some(x)) | (v @ Value::Integer(_), Some(x)) => {
                        *v = Value::Float(x)
                    }
                    _ => {}
                }
            }
        }
    }
    Ok(())
}

impl Hardware {
    /// Parses hardware text, applies what-if `(path, value)` edits with [`set_field`], and
    /// validates the result. Errors of the edited device name `file` with the edits appended.
    pub fn with_fields(
        text: &str,
        file: &str,
        fields: &[(&str, f64)],
    ) -> Result<Hardware, HardwareError> {
        let mut table: Table = text
            .parse()
            .map_err(|e| HardwareError::parse(file, text, &e))?;
        Self::from_table_with_fields(&mut table, file, fields)
    }

    /// Like [`Hardware::with_fields`], on an already parsed table (edited in place).
    pub fn from_table_with_fields(
        table: &mut Table,
        file: &str,
        fields: &[(&str, f64)],
    ) -> Result<Hardware, HardwareError> {
        // Clock and core-count edits first (they scale the unit's peaks), then the others, so
        // a peak set explicitly wins over the scaled one.
        for &(path, value) in fields {
            if let Some((name, field)) = peak_scaling_field(path) {
                set_scaling_field(table, file, path, name, field, value)?;
            }
        }
        for &(path, value) in fields {
            if peak_scaling_field(path).is_none() {
                set_field(table, file, path, value)?;
            }
        }
        let edited = toml::to_string(&*table).map_err(|e| HardwareError::Parse {
            file: file.to_string(),
            line: 0,
            message: format!("cannot write the edited device back to TOML: {e}"),
        })?;
        let label = if fields.is_empty() {
            file.to_string()
        } else {
            let edits: Vec<String> = fields.iter().map(|(p, v)| format!("{p}={v:e}")).collect();
            format!("{file} (what-if {})", edits.join(", "))
        };
        Hardware::from_toml_str(&edited, &label)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pixel8() -> (Table, String) {
        let (file, text) = Hardware::find_text("pixel8").unwrap();
        (text.parse().unwrap(), file)
    }

    #[test]
    fn figure_value_and_provenance_are_replaced() {
        let (text_file, text) = Hardware::find_text("pixel8").unwrap();
        let hw = Hardware::with_fields(
            &text,
            &text_file,
            &[
                ("memory[dram].bytes_per_s", 34.13e9),
                ("unit[gpu].peak_ops_per_s.f16", 6.4e12),
                ("unit[cpu-big].clock_hz", 3.0e9),
                ("power.static_w", 1.0),
            ],
        )
        .unwrap();
        let dram = hw.memories.iter().find(|m| m.name == "dram").unwrap();
        assert_eq!(dram.bytes_per_s, 34.13e9);
        let gpu = &hw.units[hw.unit_index(Some("gpu")).unwrap()];
        assert_eq!(gpu.peak.get(crate::workload::DType::F16), Some(6.4e12));
        assert_eq!(hw.units[0].clock_hz, 3.0e9);
        assert_eq!(hw.static_w, 1.0);
        let p = hw
            .provenance
            .iter()
            .find(|p| p.field == "memory[dram].bytes_per_s")
            .unwrap();
        assert!(p.note.starts_with("estimate: what-if"), "{}", p.note);
        // Untouched figures keep their values.
        assert_eq!(gpu.clock_hz, 0.89e9);
    }

    #[test]
    fn missing_paths_get_clear_errors() {
        let (mut t, file) = pixel8();
        let msg = |r: Result<(), HardwareError>| r.unwrap_err().to_string();
        let e = msg(set_field(&mut t, &file, "memory[hbm].bytes_per_s", 1.0));
        assert!(e.contains("no `memory` named `hbm`"), "{e}");
        assert!(e.contains("l2-big, l2-mid, slc, dram"), "{e}");
        let e = msg(set_field(&mut t, &file, "memory[dram].bandwidth", 1.0));
        assert!(e.contains("`memory[dram]` has no field `bandwidth`"), "{e}");
        assert!(e.contains("bytes_per_s"), "{e}");
        let e = msg(set_field(
            &mut t,
            &file,
            "unit[tpu].peak_ops_per_s.f32",
            1.0,
        ));
        assert!(
            e.contains("`unit[tpu].peak_ops_per_s` has no field `f32`; it has: f16, i8"),
            "{e}"
        );
        let e = msg(set_field(&mut t, &file, "unit[gpu].peak_ops_per_s", 1.0));
        assert!(e.contains("table of numbers"), "{e}");
        let e = msg(set_field(&mut t, &file, "unit[gpu]", 1.0));
        assert!(e.contains("whole entry"), "{e}");
        let e = msg(set_field(&mut t, &file, "unit[gpu].kind", 1.0));
        assert!(e.contains("is a string, not a number"), "{e}");
        let e = msg(set_field(&mut t, &file, "memory[dram.bytes_per_s", 1.0));
        assert!(e.contains("unclosed"), "{e}");
        let e = msg(set_field(&mut t, &file, "power.static_w", f64::NAN));
        assert!(e.contains("finite"), "{e}");
        // The error names the file and the path.
        assert!(e.contains("power.static_w"), "{e}");
    }

    #[test]
    fn edited_devices_are_validated() {
        let (text_file, text) = Hardware::find_text("pixel8").unwrap();
        // usable_bytes (5 GiB) above a 4 GiB capacity is rejected by the validator.
        let e = Hardware::with_fields(&text, &text_file, &[("memory[dram].capacity_bytes", 4e9)])
            .unwrap_err()
            .to_string();
        assert!(e.contains("memory[dram].usable_bytes"), "{e}");
        assert!(e.contains("what-if"), "{e}");
        let e = Hardware::with_fields(&text, &text_file, &[("unit[gpu].compute_efficiency", 2.0)])
            .unwrap_err()
            .to_string();
        assert!(e.contains("at most 1"), "{e}");
    }

    #[test]
    fn clock_and_count_what_ifs_scale_the_peaks() {
        let (text_file, text) = Hardware::find_text("pixel8").unwrap();
        let base = Hardware::from_toml_str(&text, &text_file).unwrap();
        let big = base.unit_index(Some("cpu-big")).unwrap();
        let mid = base.unit_index(Some("cpu-mid")).unwrap();
        // 2.91 GHz -> 2.0 GHz on the X3: 93.1 GFLOPS f32 (file) × 2.0/2.91.
        let hw = Hardware::with_fields(
            &text,
            &text_file,
            &[
                ("unit[cpu-big].clock_hz", 2.0e9),
                ("unit[cpu-mid].count", 2.0),
            ],
        )
        .unwrap();
        use crate::workload::DType;
        let f32_big = hw.units[big].peak.get(DType::F32).unwrap();
        assert!((f32_big - 93.1e9 * 2.0 / 2.91).abs() < 1.0, "{f32_big}");
        for d in [DType::F16, DType::I8] {
            let r = hw.units[big].peak.get(d).unwrap() / base.units[big].peak.get(d).unwrap();
            assert!((r - 2.0 / 2.91).abs() < 1e-12, "{d}: {r}");
        }
        // Half the A715 cores: half the peak.
        let r = hw.units[mid].peak.get(DType::F32).unwrap()
            / base.units[mid].peak.get(DType::F32).unwrap();
        assert!((r - 0.5).abs() < 1e-12, "{r}");
        let p = hw
            .provenance
            .iter()
            .find(|p| p.field == "unit[cpu-big].peak_ops_per_s.f32")
            .unwrap();
        assert!(p.note.contains("scaled"), "{}", p.note);
        // The CPU cycle model accepts the edited units (derived peak = file peak).
        for u in [big, mid] {
            crate::cost_models::model_for(&hw, u, crate::cost::Mode::Calibrated).unwrap();
        }
        // An explicit peak in the same what-if wins, whatever the order given.
        let hw = Hardware::with_fields(
            &text,
            &text_file,
            &[
                ("unit[gpu].peak_ops_per_s.f16", 1.0e12),
                ("unit[gpu].clock_hz", 0.445e9),
            ],
        )
        .unwrap();
        let gpu = hw.unit_index(Some("gpu")).unwrap();
        assert_eq!(hw.units[gpu].peak.get(DType::F16), Some(1.0e12));
        let r = hw.units[gpu].peak.get(DType::F32).unwrap()
            / base.units[gpu].peak.get(DType::F32).unwrap();
        assert!((r - 0.5).abs() < 1e-12, "{r}");
    }

    #[test]
    fn plain_numbers_in_params_are_set() {
        let mut t: Table = "[unit.params]\nrows = 32\nratio = 0.5\n".parse().unwrap();
        set_field(&mut t, "x.toml", "unit.params.rows", 64.0).unwrap();
        set_field(&mut t, "x.toml", "unit.params.ratio", 0.25).unwrap();
        assert_eq!(t["unit"]["params"]["rows"].as_integer(), Some(64));
        assert_eq!(t["unit"]["params"]["ratio"].as_float(), Some(0.25));
        let e = set_field(&mut t, "x.toml", "unit.params.rows", 1.5).unwrap_err();
        assert!(e.to_string().contains("integer"), "{e}");
    }
}
