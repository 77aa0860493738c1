//! One way to print any result: a [`Render`] gives its table, its JSON and, where it has rows,
//! its CSV, and [`render`] picks one by [`Format`]. Scores, placements, scratchpad plans and
//! systolic reports all print through it, so the CLI and the Python package print the same bytes.

use crate::hardware::Hardware;
use crate::score::{Score, VisionScore};
use thiserror::Error;

/// An output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum Format {
    /// A table for the terminal.
    Table,
    /// Pretty-printed JSON.
    Json,
    /// CSV, one row per op or layer.
    Csv,
}

/// Why a result could not be printed.
#[derive(Debug, Error)]
pub enum RenderError {
    /// The result has no form in this format.
    #[error("--format {format} is not available for {what}; use {instead}")]
    Unavailable {
        /// The format asked for.
        format: &'static str,
        /// What was printed.
        what: &'static str,
        /// The formats it has.
        instead: &'static str,
    },
    /// Writing CSV failed.
    #[error("writing CSV: {0}")]
    Csv(String),
    /// Writing JSON failed.
    #[error("writing JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// A result that can be printed as a table, JSON and (optionally) CSV.
pub trait Render {
    /// What it is, for messages (`score`, `map`).
    fn what(&self) -> &'static str;
    /// The terminal table, ending in a newline.
    fn table(&self) -> String;
    /// The JSON value.
    fn json(&self) -> serde_json::Value;
    /// The CSV text; `None` when the result has no rows to give.
    fn csv(&self) -> Option<Result<String, String>> {
        None
    }
}

/// The text of `r` in `format`: the table as is, JSON pretty-printed with a final newline, CSV as
/// is.
pub fn render(r: &dyn Render, format: Format) -> Result<String, RenderError> {
    match format {
        Format::Table => Ok(r.table()),
        Format::Json => Ok(format!("{}\n", serde_json::to_string_pretty(&r.json())?)),
        Format::Csv => match r.csv() {
            Some(text) => text.map_err(RenderError::Csv),
            None => Err(RenderError::Unavailable {
                format: "csv",
                what: r.what(),
                instead: "table or json",
            }),
        },
    }
}

/// A score with the device it was priced on (units and levels are named from it).
pub struct OnDevice<'a, S> {
    /// The score.
    pub score: &'a S,
    /// The device.
    pub hw: &'a Hardware,
}

/// `Render` for a score type with `to_table`, `to_json` and `to_csv` taking the device.
macro_rules! render_on_device {
    ($($score:ty),*) => {$(
        impl Render for OnDevice<'_, $score> {
            fn what(&self) -> &'static str {
                "score"
            }
            fn table(&self) -> String {
                self.score.to_table(self.hw)
            }
            fn json(&self) -> serde_json::Value {
                self.score.to_json(self.hw)
            }
            fn csv(&self) -> Option<Result<String, String>> {
                Some(self.score.to_csv(self.hw).map_err(|e| e.to_string()))
            }
        }
    )*};
}

render_on_device!(Score, VisionScore, crate::speculative::SpeculativeScore);

/// A systolic-array run: its configuration and one report per layer.
pub struct SystolicRun<'a> {
    /// The array.
    pub config: &'a crate::cycle::systolic::SystolicConfig,
    /// One report per layer.
    pub layers: &'a [crate::cycle::systolic::LayerReport],
}

impl Render for SystolicRun<'_> {
    fn what(&self) -> &'static str {
        "systolic"
    }
    fn table(&self) -> String {
        crate::cycle::systolic::output::to_table(self.config, self.layers)
    }
    fn json(&self) -> serde_json::Value {
        crate::cycle::systolic::output::to_json(self.config, self.layers)
    }
    fn csv(&self) -> Option<Result<String, String>> {
        Some(crate::cycle::systolic::output::to_csv(self.layers).map_err(|e| e.to_string()))
    }
}

#[cfg(feature = "solver")]
impl Render for crate::mapping::report::TrafficReport {
    fn what(&self) -> &'static str {
        "map"
    }
    fn table(&self) -> String {
        self.to_table()
    }
    fn json(&self) -> serde_json::Value {
        self.to_json()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Two;
    impl Render for Two {
        fn what(&self) -> &'static str {
            "two"
        }
        fn table(&self) -> String {
            "a 2\n".into()
        }
        fn json(&self) -> serde_json::Value {
            serde_json::json!({"a": 2})
        }
    }

    #[test]
    fn formats_and_missing_csv() {
        assert_eq!(render(&Two, Format::Table).unwrap(), "a 2\n");
        assert_eq!(render(&Two, Format::Json).unwrap(), "{\n  \"a\": 2\n}\n");
        let e = render(&Two, Format::Csv).unwrap_err().to_string();
        assert_eq!(
            e,
            "--format csv is not available for two; use table or json"
        );
    }
}
