//! Typed reading of a unit's free-form `params` table for the cost models, with clear errors
//! naming the file, the unit and the parameter.
//!
//! A number may be written plainly (`t_rcd_ns = 14`) or, like every other figure of a hardware
//! file, with its provenance (`t_rcd_ns = { value = 14, source = "..." }` or
//! `{ value = 14, estimate = "..." }`). Each model lists the keys it accepts, so a misspelt
//! parameter is an error rather than a silently ignored line.

use crate::hardware::Unit;
use crate::workload::{DType, DTypeTable};
use toml::Value;

/// A parameter of a cycle model that is missing, mistyped or out of range.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{file}: unit `{unit}`: params.{field}: {message}")]
pub struct ParamError {
    /// Hardware file.
    pub file: String,
    /// Unit name.
    pub unit: String,
    /// Parameter name.
    pub field: String,
    /// What was expected.
    pub message: String,
}

/// Read access to one unit's `params` table.
#[derive(Clone, Copy, Debug)]
pub struct Params<'a> {
    table: &'a toml::Table,
    file: &'a str,
    unit: &'a str,
}

impl<'a> Params<'a> {
    /// The parameters of `unit`, from hardware file `file`.
    pub fn of(unit: &'a Unit, file: &'a str) -> Params<'a> {
        Params {
            table: &unit.params,
            file,
            unit: &unit.name,
        }
    }

    /// An error about parameter `field`.
    pub fn error(&self, field: &str, message: impl Into<String>) -> ParamError {
        ParamError {
            file: self.file.to_string(),
            unit: self.unit.to_string(),
            field: field.to_string(),
            message: message.into(),
        }
    }

    /// Rejects keys that the model does not know (`model` is always allowed).
    pub fn check_known(&self, model: &str, known: &[&str]) -> Result<(), ParamError> {
        for k in self.table.keys() {
            if k != "model" && !known.contains(&k.as_str()) {
                return Err(self.error(
                    k,
                    format!(
                        "not a parameter of cost model `{model}`; it takes: {}",
                        known.join(", ")
                    ),
                ));
            }
        }
        Ok(())
    }

    fn number(&self, field: &str, v: &Value) -> Result<f64, ParamError> {
        let x = match v {
            Value::Integer(i) => *i as f64,
            Value::Float(f) => *f,
            Value::Table(t) => {
                let value = t.get("value").ok_or_else(|| {
                    self.error(
                        field,
                        "a table figure needs `value` and `source` or `estimate`",
                    )
                })?;
                let has = |k: &str| {
                    t.get(k)
                        .and_then(Value::as_str)
                        .is_some_and(|s| !s.trim().is_empty())
                };
                if has("source") == has("estimate") {
                    return Err(self.error(
                        field,
                        "a table figure needs exactly one non-empty `source` or `estimate`",
                    ));
                }
                if let Some(k) = t
                    .keys()
                    .find(|k| !matches!(k.as_str(), "value" | "source" | "estimate"))
                {
                    return Err(self.error(
                        field,
                        format!(
                            "unknown key `{k}` in a figure; expected value, source or estimate"
                        ),
                    ));
                }
                return self.number(field, value);
            }
            other => {
                return Err(self.error(
                    field,
                    format!("expected a number, found {}", other.type_str()),
                ));
            }
        };
        if !x.is_finite() {
            return Err(self.error(field, format!("expected a finite number, found {x}")));
        }
        Ok(x)
    }

    /// An optional number that must be positive.
    pub fn opt_pos(&self, field: &str) -> Result<Option<f64>, ParamError> {
        match self.table.get(field) {
            None => Ok(None),
            Some(v) => {
                let x = self.number(field, v)?;
                if x <= 0.0 {
                    return Err(self.error(field, format!("expected a positive number, found {x}")));
                }
                Ok(Some(x))
            }
        }
    }

    /// A required positive number.
    pub fn pos(&self, field: &str) -> Result<f64, ParamError> {
        self.opt_pos(field)?
            .ok_or_else(|| self.error(field, "missing; this cost model needs it"))
    }

    /// A positive number, `default` when absent.
    pub fn pos_or(&self, field: &str, default: f64) -> Result<f64, ParamError> {
        Ok(self.opt_pos(field)?.unwrap_or(default))
    }

    /// A number that may be zero, `default` when absent.
    pub fn nonneg_or(&self, field: &str, default: f64) -> Result<f64, ParamError> {
        match self.table.get(field) {
            None => Ok(default),
            Some(v) => {
                let x = self.number(field, v)?;
                if x < 0.0 {
                    return Err(self.error(field, format!("expected zero or more, found {x}")));
                }
                Ok(x)
            }
        }
    }

    /// A whole number of at least 1, `default` when absent (`None` default: required).
    pub fn count(&self, field: &str, default: Option<u64>) -> Result<u64, ParamError> {
        match self.opt_pos(field)? {
            None => default.ok_or_else(|| self.error(field, "missing; this cost model needs it")),
            Some(x) if x.fract() == 0.0 && x >= 1.0 => Ok(x as u64),
            Some(x) => Err(self.error(field, format!("expected a whole number ≥ 1, found {x}"))),
        }
    }

    /// A boolean, `default` when absent.
    pub fn flag(&self, field: &str, default: bool) -> Result<bool, ParamError> {
        match self.table.get(field) {
            None => Ok(default),
            Some(Value::Boolean(b)) => Ok(*b),
            Some(other) => Err(self.error(
                field,
                format!("expected true or false, found {}", other.type_str()),
            )),
        }
    }

    /// An optional string.
    pub fn opt_str(&self, field: &str) -> Result<Option<&'a str>, ParamError> {
        match self.table.get(field) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.as_str())),
            Some(other) => Err(self.error(
                field,
                format!("expected a string, found {}", other.type_str()),
            )),
        }
    }

    /// A string from a closed set, `default` when absent.
    pub fn choice(
        &self,
        field: &str,
        allowed: &[&'a str],
        default: &'a str,
    ) -> Result<&'a str, ParamError> {
        match self.opt_str(field)? {
            None => Ok(default),
            Some(s) => allowed.iter().copied().find(|a| *a == s).ok_or_else(|| {
                self.error(
                    field,
                    format!("`{s}` is not one of: {}", allowed.join(", ")),
                )
            }),
        }
    }

    /// A table of positive numbers by dtype name (`{ f16 = 16, i8 = 32 }`), empty when absent.
    pub fn dtype_table(&self, field: &str) -> Result<DTypeTable<f64>, ParamError> {
        let mut out = DTypeTable::empty();
        let Some(v) = self.table.get(field) else {
            return Ok(out);
        };
        let Value::Table(t) = v else {
            return Err(self.error(
                field,
                format!("expected a table by dtype, found {}", v.type_str()),
            ));
        };
        for (k, v) in t {
            let name = format!("{field}.{k}");
            let d = DType::parse(k).ok_or_else(|| {
                self.error(
                    &name,
                    format!(
                        "unknown dtype `{k}`; expected one of {}",
                        DType::ALL.map(DType::name).join(", ")
                    ),
                )
            })?;
            let x = self.number(&name, v)?;
            if x <= 0.0 {
                return Err(self.error(&name, format!("expected a positive number, found {x}")));
            }
            out.set(d, x);
        }
        Ok(out)
    }

    /// A table of positive numbers by free-form name (e.g. memory level names), empty when absent.
    pub fn named_table(&self, field: &str) -> Result<Vec<(String, f64)>, ParamError> {
        let Some(v) = self.table.get(field) else {
            return Ok(Vec::new());
        };
        let Value::Table(t) = v else {
            return Err(self.error(field, format!("expected a table, found {}", v.type_str())));
        };
        let mut out = Vec::new();
        for (k, v) in t {
            let name = format!("{field}.{k}");
            let x = self.number(&name, v)?;
            if x <= 0.0 {
                return Err(self.error(&name, format!("expected a positive number, found {x}")));
            }
            out.push((k.clone(), x));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit_with(params: &str) -> Unit {
        let table: toml::Table = toml::from_str(params).unwrap();
        Unit {
            name: "u".into(),
            kind: crate::hardware::UnitKind::Pim,
            count: 1.0,
            clock_hz: 1e9,
            peak: DTypeTable::empty(),
            vector_peak: DTypeTable::empty(),
            special: DTypeTable::empty(),
            j_per_op: DTypeTable::empty(),
            reach: vec![0],
            compute_efficiency: 1.0,
            bandwidth_efficiency: 1.0,
            kernel_overhead_s: 0.0,
            level_bandwidth_efficiency: [None; crate::hardware::MAX_LEVELS],
            kernel: Default::default(),
            params: table,
            runtimes: Default::default(),
        }
    }

    #[test]
    fn plain_and_figure_numbers_read_alike() {
        let u = unit_with(
            "a = 14\nb = 2.5\nc = { value = 7, source = \"datasheet\" }\nd = { f16 = 16, i8 = { value = 32, estimate = \"2x f16\" } }",
        );
        let p = Params::of(&u, "x.toml");
        assert_eq!(p.pos("a").unwrap(), 14.0);
        assert_eq!(p.pos("b").unwrap(), 2.5);
        assert_eq!(p.pos("c").unwrap(), 7.0);
        let t = p.dtype_table("d").unwrap();
        assert_eq!(t.get(DType::F16), Some(16.0));
        assert_eq!(t.get(DType::I8), Some(32.0));
        assert_eq!(p.count("a", None).unwrap(), 14);
    }

    #[test]
    fn errors_name_file_unit_and_field() {
        let u = unit_with(
            "neg = -1\nfrac = 2.5\nbad = { value = 1 }\nword = \"x\"\nboth = { value = 1, source = \"s\", estimate = \"e\" }",
        );
        let p = Params::of(&u, "x.toml");
        let e = p.pos("neg").unwrap_err().to_string();
        assert!(e.starts_with("x.toml: unit `u`: params.neg:"), "{e}");
        assert!(
            p.count("frac", None)
                .unwrap_err()
                .to_string()
                .contains("whole")
        );
        assert!(p.pos("bad").unwrap_err().to_string().contains("source"));
        assert!(
            p.pos("both")
                .unwrap_err()
                .to_string()
                .contains("exactly one")
        );
        assert!(
            p.pos("word")
                .unwrap_err()
                .to_string()
                .contains("expected a number")
        );
        assert!(
            p.pos("missing")
                .unwrap_err()
                .to_string()
                .contains("missing")
        );
        let e = p.check_known("pim", &["neg"]).unwrap_err().to_string();
        assert!(e.contains("not a parameter of cost model `pim`"), "{e}");
    }
}
