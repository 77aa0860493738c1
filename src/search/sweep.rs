//! `--sweep FIELD=START..END:STEPS[:log|:lin]` (or `FIELD=V1,V2,...`): the values a hardware
//! what-if field takes. The field is only a name here; the hardware side checks that it exists.

use super::{Axis, AxisKind, Values};
use serde::{Deserialize, Serialize};

/// How sweep values are spaced.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SweepScale {
    /// Evenly spaced.
    Lin,
    /// Evenly spaced in log10 (a geometric series).
    Log,
}

/// One swept hardware field.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Sweep {
    /// Validator path of the field, e.g. `memory[dram].bytes_per_s`.
    pub field: String,
    /// The values, in sweep order.
    pub values: Vec<f64>,
    /// The spacing used (`Lin` for explicit lists).
    pub scale: SweepScale,
}

/// A malformed `--sweep`.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error(
    "bad --sweep `{text}`: {why}. Expected FIELD=START..END:STEPS[:log|:lin] (e.g. memory[dram].bytes_per_s=25e9..200e9:8:log) or FIELD=V1,V2,..."
)]
pub struct SweepError {
    /// The argument given.
    pub text: String,
    /// What was wrong.
    pub why: String,
}

/// Most values one sweep may have; more would only slow the run without showing more.
pub const MAX_STEPS: usize = 10_000;

fn number(s: &str) -> Option<f64> {
    s.trim().parse::<f64>().ok().filter(|v| v.is_finite())
}

impl Sweep {
    /// Parses one `--sweep` argument.
    pub fn parse(text: &str) -> Result<Sweep, SweepError> {
        let err = |why: String| SweepError {
            text: text.to_string(),
            why,
        };
        let (field, spec) = text.split_once('=').ok_or_else(|| err("no `=`".into()))?;
        let field = field.trim();
        if field.is_empty() {
            return Err(err("empty field".into()));
        }
        let spec = spec.trim();
        let (values, scale) = if let Some((start, rest)) = spec.split_once("..") {
            let mut parts = rest.split(':');
            let end = parts.next().unwrap_or("");
            let steps = parts.next().ok_or_else(|| err("missing `:STEPS`".into()))?;
            let scale = match parts.next().map(str::trim) {
                None | Some("lin") => SweepScale::Lin,
                Some("log") => SweepScale::Log,
                Some(o) => return Err(err(format!("unknown spacing `{o}` (use log or lin)"))),
            };
            if let Some(extra) = parts.next() {
                return Err(err(format!("unexpected `:{extra}`")));
            }
            let a = number(start).ok_or_else(|| err(format!("START `{start}` is not a number")))?;
            let b = number(end).ok_or_else(|| err(format!("END `{end}` is not a number")))?;
            let n: usize = steps
                .trim()
                .parse()
                .ok()
                .filter(|&n| (1..=MAX_STEPS).contains(&n))
                .ok_or_else(|| {
                    err(format!(
                        "STEPS `{steps}` must be a whole number from 1 to {MAX_STEPS}"
                    ))
                })?;
            if scale == SweepScale::Log && (a <= 0.0 || b <= 0.0) {
                return Err(err("a log sweep needs START and END above zero".into()));
            }
            if n == 1 && a != b {
                return Err(err("one step cannot span START..END; use 2 or more".into()));
            }
            (spaced(a, b, n, scale), scale)
        } else {
            let vals: Option<Vec<f64>> = spec.split(',').map(number).collect();
            let vals = vals.ok_or_else(|| err("values must be numbers".into()))?;
            if vals.is_empty() || vals.len() > MAX_STEPS {
                return Err(err(format!("give 1 to {MAX_STEPS} values")));
            }
            (vals, SweepScale::Lin)
        };
        let mut seen = values.clone();
        seen.sort_by(f64::total_cmp);
        if seen.windows(2).any(|w| w[0] == w[1]) {
            return Err(err("values repeat".into()));
        }
        Ok(Sweep {
            field: field.to_string(),
            values,
            scale,
        })
    }

    /// The sweep as a hardware axis of a [`super::Space`].
    pub fn axis(&self) -> Axis {
        Axis {
            name: self.field.clone(),
            kind: AxisKind::Hardware,
            values: Values::Reals(self.values.clone()),
            log: self.scale == SweepScale::Log,
        }
    }
}

/// `n` values from `a` to `b` inclusive; endpoints exact.
fn spaced(a: f64, b: f64, n: usize, scale: SweepScale) -> Vec<f64> {
    if n == 1 {
        return vec![a];
    }
    (0..n)
        .map(|i| {
            if i == 0 {
                return a;
            }
            if i == n - 1 {
                return b;
            }
            let t = i as f64 / (n - 1) as f64;
            match scale {
                SweepScale::Lin => a + (b - a) * t,
                SweepScale::Log => (a.ln() + (b.ln() - a.ln()) * t).exp(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_and_log_ranges() {
        let s = Sweep::parse("memory[dram].bytes_per_s=25e9..100e9:4").unwrap();
        assert_eq!(s.field, "memory[dram].bytes_per_s");
        assert_eq!(s.values, vec![25e9, 50e9, 75e9, 100e9]);
        let s = Sweep::parse("unit[gpu].clock_hz=1e8..1e11:4:log").unwrap();
        assert_eq!(s.scale, SweepScale::Log);
        for (v, want) in s.values.iter().zip([1e8, 1e9, 1e10, 1e11]) {
            assert!((v / want - 1.0).abs() < 1e-12, "{v} vs {want}");
        }
        assert_eq!(s.values[0], 1e8);
        assert_eq!(s.values[3], 1e11);
        let s = Sweep::parse("power.static_w=0.5,1,2").unwrap();
        assert_eq!(s.values, vec![0.5, 1.0, 2.0]);
        assert_eq!(Sweep::parse("x=3..3:1").unwrap().values, vec![3.0]);
    }

    #[test]
    fn malformed_sweeps_say_why() {
        for (arg, why) in [
            ("memory[dram].bytes_per_s", "no `=`"),
            ("x=1..2", "missing `:STEPS`"),
            ("x=1..2:0", "STEPS"),
            ("x=a..2:3", "START"),
            ("x=0..2:3:log", "above zero"),
            ("x=1..2:3:cubic", "unknown spacing"),
            ("x=1..2:1", "one step"),
            ("x=1,1", "repeat"),
            ("=1..2:3", "empty field"),
        ] {
            let e = Sweep::parse(arg).unwrap_err();
            assert!(e.to_string().contains(why), "{arg}: {e}");
        }
    }
}
