//! The requests a serving simulation replays: Poisson arrivals at a rate with prompt and output
//! lengths drawn from fixed or uniform distributions (seeded, so a run repeats exactly), or the
//! rows of a trace CSV file (`arrival_s,prompt_tokens,output_tokens`).

use crate::search::SplitMix64;
use std::path::Path;

/// One request.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Request {
    /// Arrival time, seconds from the start.
    pub arrival_s: f64,
    /// Prompt tokens (at least 1).
    pub prompt: u64,
    /// Output tokens to generate (at least 1; the first comes from the prefill).
    pub output: u64,
}

/// A length distribution.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Lengths {
    /// Always this many tokens.
    Fixed(u64),
    /// Uniform over `lo..=hi` tokens.
    Uniform(u64, u64),
}

impl Lengths {
    /// Parses `N` or `LO..HI` (inclusive); `flag` names the option in errors.
    pub fn parse(text: &str, flag: &str) -> Result<Lengths, WorkloadError> {
        let bad = || WorkloadError::Lengths {
            flag: flag.to_string(),
            text: text.to_string(),
        };
        let num = |s: &str| s.trim().parse::<u64>().ok().filter(|&n| n >= 1);
        let l = match text.split_once("..") {
            Some((a, b)) => {
                let (a, b) = (num(a).ok_or_else(bad)?, num(b).ok_or_else(bad)?);
                if a > b {
                    return Err(bad());
                }
                Lengths::Uniform(a, b)
            }
            None => Lengths::Fixed(num(text).ok_or_else(bad)?),
        };
        Ok(l)
    }
    fn draw(&self, rng: &mut SplitMix64) -> u64 {
        match *self {
            Lengths::Fixed(n) => n,
            Lengths::Uniform(lo, hi) => lo + rng.below_or_eq(hi - lo),
        }
    }
    /// The mean length.
    pub fn mean(&self) -> f64 {
        match *self {
            Lengths::Fixed(n) => n as f64,
            Lengths::Uniform(lo, hi) => (lo + hi) as f64 / 2.0,
        }
    }
}

/// Why a workload cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum WorkloadError {
    /// A length option that is not `N` or `LO..HI`.
    #[error(
        "{flag} {text}: expected a token count N ≥ 1 or a uniform range LO..HI with 1 ≤ LO ≤ HI"
    )]
    Lengths {
        /// The option.
        flag: String,
        /// What was given.
        text: String,
    },
    /// A rate that is not a positive number.
    #[error("--rate {0}: expected a positive arrival rate in requests per second")]
    Rate(f64),
    /// The trace cannot be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// A bad row or header in the trace.
    #[error("{path}:{line}: column {column} ({name}): {what}")]
    Trace {
        /// The file.
        path: String,
        /// 1-based line.
        line: u64,
        /// 1-based column.
        column: usize,
        /// The column's name.
        name: &'static str,
        /// What was wrong and what was expected.
        what: String,
    },
    /// A trace with no requests.
    #[error(
        "{0}: the trace has no requests (expected a header arrival_s,prompt_tokens,output_tokens and one row per request)"
    )]
    Empty(String),
}

/// `count` Poisson arrivals at `rate` per second (exponential gaps), lengths drawn from
/// `prompt` and `output`, all from one SplitMix64 stream seeded with `seed`. For one seed the
/// gaps are the same unit-rate draws divided by the rate, so runs at two rates see the same
/// requests, only spaced differently.
pub fn poisson(
    rate: f64,
    count: u64,
    prompt: Lengths,
    output: Lengths,
    seed: u64,
) -> Result<Vec<Request>, WorkloadError> {
    if !(rate.is_finite() && rate > 0.0) {
        return Err(WorkloadError::Rate(rate));
    }
    let mut rng = SplitMix64::new(seed);
    let mut t = 0.0;
    let mut out = Vec::with_capacity(count.min(1 << 24) as usize);
    for _ in 0..count {
        // Uniform in (0, 1]: 53 random bits, never 0, so the logarithm is finite.
        let u = ((rng.next_u64() >> 11) + 1) as f64 / (1u64 << 53) as f64;
        t += -u.ln() / rate;
        let p = prompt.draw(&mut rng);
        let o = output.draw(&mut rng);
        out.push(Request {
            arrival_s: t,
            prompt: p,
            output: o,
        });
    }
    Ok(out)
}

/// The trace's columns, in order.
pub const TRACE_COLUMNS: [&str; 3] = ["arrival_s", "prompt_tokens", "output_tokens"];

/// Reads a trace CSV: a header `arrival_s,prompt_tokens,output_tokens`, then one row per
/// request with a finite arrival time ≥ 0 and whole token counts ≥ 1. Rows may come in any
/// order; they are sorted by arrival. A bad row is an error with its file, line and column.
pub fn read_trace(path: &Path) -> Result<Vec<Request>, WorkloadError> {
    let name = path.display().to_string();
    let text = std::fs::read(path).map_err(|source| WorkloadError::Io {
        path: name.clone(),
        source,
    })?;
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_slice());
    let err = |line: u64, column: usize, what: String| WorkloadError::Trace {
        path: name.clone(),
        line,
        column: column + 1,
        name: TRACE_COLUMNS.get(column).copied().unwrap_or("extra field"),
        what,
    };
    let mut out = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let rec = rec.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line());
            err(line, 0, format!("not readable as CSV: {e}"))
        })?;
        let line = rec.position().map_or(i as u64 + 1, |p| p.line());
        if i == 0 {
            for (c, want) in TRACE_COLUMNS.iter().enumerate() {
                if rec.get(c) != Some(*want) {
                    let found = rec.get(c).unwrap_or("nothing");
                    return Err(err(
                        line,
                        c,
                        format!("header has `{found}`, expected `{want}`"),
                    ));
                }
            }
            continue;
        }
        if rec.len() != 3 {
            return Err(err(
                line,
                rec.len().min(3),
                format!(
                    "{} fields, expected 3 (arrival_s,prompt_tokens,output_tokens)",
                    rec.len()
                ),
            ));
        }
        let arrival: f64 = rec[0]
            .parse()
            .ok()
            .filter(|a: &f64| a.is_finite() && *a >= 0.0)
            .ok_or_else(|| err(line, 0, format!("`{}`: expected seconds ≥ 0", &rec[0])))?;
        let count = |c: usize| {
            rec[c]
                .parse::<u64>()
                .ok()
                .filter(|&n| n >= 1)
                .ok_or_else(|| {
                    err(
                        line,
                        c,
                        format!("`{}`: expected a whole number of tokens ≥ 1", &rec[c]),
                    )
                })
        };
        out.push(Request {
            arrival_s: arrival,
            prompt: count(1)?,
            output: count(2)?,
        });
    }
    if out.is_empty() {
        return Err(WorkloadError::Empty(name));
    }
    out.sort_by(|a, b| a.arrival_s.total_cmp(&b.arrival_s));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poisson_mean_gap_is_the_inverse_rate() {
        let r = poisson(4.0, 20_000, Lengths::Fixed(8), Lengths::Uniform(1, 3), 7).unwrap();
        let mean_gap = r.last().unwrap().arrival_s / r.len() as f64;
        // Standard error of the mean of 20,000 exponential gaps: 0.25 / sqrt(20000) ≈ 0.0018.
        assert!((mean_gap - 0.25).abs() < 0.01, "{mean_gap}");
        assert!(
            r.iter()
                .all(|q| (1..=3).contains(&q.output) && q.prompt == 8)
        );
    }

    #[test]
    fn lengths_parse() {
        assert_eq!(
            Lengths::parse("512", "--prompt").unwrap(),
            Lengths::Fixed(512)
        );
        assert_eq!(
            Lengths::parse("10..20", "--prompt").unwrap(),
            Lengths::Uniform(10, 20)
        );
        for bad in ["0", "20..10", "x", "5..", ""] {
            assert!(Lengths::parse(bad, "--prompt").is_err(), "{bad}");
        }
    }
}
