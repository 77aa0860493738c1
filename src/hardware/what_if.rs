//! Hardware what-ifs: set one numeric field of a parsed hardware file, addressed with the same
//! paths the validator uses in its errors, then validate the edited device as a whole.
//!
//! Paths: `unit[NAME].FIELD`, `memory[NAME].FIELD`, `power.FIELD`, with dotted sub-keys for
//! tables (`unit[gpu].peak_ops_per_s.f16`, `unit[npu].params.rows`). A figure
//! (`{ value = .., source = .. }`) gets its `value` replaced and its provenance replaced by an
//! `estimate` that says it was set by a what-if; a plain number (in `params`) is replaced in place.
//! The edited table is written back to TOML and validated like any file, so a what-if can never
//! produce a device the validator would reject (e.g. `usable_bytes` above `capacity_bytes`).

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
            .map_err(|e: toml::de::Error| HardwareError::Parse {
                file: file.to_string(),
                line: e.span().map_or(0, |s| {
                    text[..s.start.min(text.len())].matches('\n').count() + 1
                }),
                message: e.message().to_string(),
            })?;
        Self::from_table_with_fields(&mut table, file, fields)
    }

    /// Like [`Hardware::with_fields`], on an already parsed table (edited in place).
    pub fn from_table_with_fields(
        table: &mut Table,
        file: &str,
        fields: &[(&str, f64)],
    ) -> Result<Hardware, HardwareError> {
        for &(path, value) in fields {
            set_field(table, file, path, value)?;
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
