//! The runtime axis of a design space: which software stack prices each point.
//!
//! A value of the `runtime` axis is a runtime name as `--runtime` takes it (`ideal`, a shipped
//! runtime, or a path to a runtime file, whose text the spec carries), or [`DEFAULT_RUNTIME`]:
//! on each unit, the runtime the device names for it and the workload kind
//! ([`crate::runtime::default_for`]; `ideal` where it names none). Without `--runtime` the axis
//! holds [`DEFAULT_RUNTIME`] alone, so a plain `explore` prices every unit with the stack its
//! device names; with `--ideal` or `--mapping` (which price without a runtime) it holds `ideal`.
//!
//! The runtime a point was priced under is recorded per phase in its labels (`prefill_runtime`
//! and `decode_runtime` of an LLM, `unit_runtime` of a network), with the error band of that
//! (unit, runtime, workload kind) ([`crate::trust::bands::band`], uncalibrated): every time and
//! rate metric `M` gets `M_low` and `M_high` (the band of the measured value, p10 to p90 of the
//! class's errors), and the band's label. Energy and memory get no band: the measurement set
//! behind the bands measures time only.
//!
//! A runtime that cannot run a point's unit, workload kind or precision
//! ([`Runtime::check_runs`]) makes the point infeasible with that reason.

use super::ExploreError;
use crate::hardware::Hardware;
use crate::runtime::{IDEAL, Runtime, RuntimeError, Scales, WorkloadKind, canonical_base};
use crate::trust::bands::{Band, band};
use crate::trust::overlay::Overlay;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The `runtime` axis value meaning "the device's default for the unit and the workload kind".
pub const DEFAULT_RUNTIME: &str = "default";

/// Name of the runtime axis (and of its table column).
pub const AXIS: &str = "runtime";

/// Formats the runtimes that restrict formats commonly ship: llama.cpp's `f16`, `q8_0`, `q4_0`
/// and `q4_k_m` files (the GGUF quantizations most downloaded) and MLC-LLM's `q4f16_1` (its
/// default 4-bit build). When the default `--quant` list is used, each is added if a runtime in
/// play restricts its formats and runs it, so a run priced under those stacks still has formats
/// they run (see [`default_quants`]).
pub const COMMON_RUNTIME_FORMATS: [&str; 5] = ["f16", "q8_0", "q4_0", "q4_k_m", "q4f16_1"];

/// One value of the runtime axis as the spec stores it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RuntimeSpec {
    /// As given to `--runtime` ([`DEFAULT_RUNTIME`], `ideal`, a shipped name or a path).
    pub name: String,
    /// Where the runtime file came from (a path), empty otherwise.
    #[serde(default)]
    pub file: String,
    /// The runtime file's text for a path, so a shard or `merge` prices exactly the same
    /// runtime; `None` for a shipped runtime, `ideal` and [`DEFAULT_RUNTIME`].
    #[serde(default)]
    pub text: Option<String>,
}

impl RuntimeSpec {
    /// The axis value of the device defaults.
    pub fn device_default() -> RuntimeSpec {
        RuntimeSpec {
            name: DEFAULT_RUNTIME.into(),
            file: String::new(),
            text: None,
        }
    }

    /// Reads `--runtime NAME`: [`DEFAULT_RUNTIME`], `ideal`, a shipped runtime or a path
    /// (whose text is read now and carried). An error names the flag and the known runtimes.
    pub fn from_name(name: &str) -> Result<RuntimeSpec, ExploreError> {
        let bad = |e: RuntimeError| ExploreError::Request(format!("--runtime {name}: {e}"));
        if name == DEFAULT_RUNTIME {
            return Ok(RuntimeSpec::device_default());
        }
        if Path::new(name).is_file() {
            let text = crate::util::text::read_utf8(Path::new(name)).map_err(|e| {
                ExploreError::Request(format!("--runtime {name}: cannot read: {e}"))
            })?;
            Runtime::from_toml_str(&text, name).map_err(bad)?;
            return Ok(RuntimeSpec {
                name: name.to_string(),
                file: name.to_string(),
                text: Some(text),
            });
        }
        match Runtime::load(name) {
            Ok(_) => Ok(RuntimeSpec {
                name: name.to_string(),
                file: String::new(),
                text: None,
            }),
            Err(RuntimeError::NotFound { name, known }) => Err(ExploreError::Request(format!(
                "--runtime `{name}` is not a runtime file nor a shipped runtime; known: {DEFAULT_RUNTIME} (each unit's device default), {known}"
            ))),
            Err(e) => Err(bad(e)),
        }
    }

    /// The runtime, `None` for [`DEFAULT_RUNTIME`] (resolved per unit).
    pub fn load(&self) -> Result<Option<Runtime>, RuntimeError> {
        if self.name == DEFAULT_RUNTIME {
            return Ok(None);
        }
        match &self.text {
            Some(t) => Runtime::from_toml_str(t, &self.file).map(Some),
            None => Runtime::load(&self.name).map(Some),
        }
    }
}

/// A calibration overlay a run prices with (picked up from `calibrations/` when the spec is
/// resolved), carried as text so that shards and `merge` repeat the run exactly.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CalibrationSpec {
    /// Where it was read.
    pub file: String,
    /// Its text.
    pub text: String,
}

impl CalibrationSpec {
    /// The overlay.
    pub fn load(&self) -> Result<Overlay, ExploreError> {
        Overlay::parse(&self.text, &self.file)
            .map_err(|e| ExploreError::Request(format!("calibration {}: {e}", self.file)))
    }
}

/// The overlays in `calibrations/` of the (device, runtime) pairs the axis values `specs` can
/// price with on `hw` (named runtimes, and every unit's default for both workload kinds).
pub fn find_calibrations(
    specs: &[RuntimeSpec],
    hw: &Hardware,
) -> Result<Vec<CalibrationSpec>, ExploreError> {
    let mut names: Vec<String> = Vec::new();
    for s in specs {
        if let Ok(Some(rt)) = s.load() {
            names.push(rt.name);
        } else if s.name == DEFAULT_RUNTIME {
            for u in &hw.units {
                names.extend(u.runtimes.llm.iter().cloned());
                names.extend(u.runtimes.network.iter().cloned());
            }
        }
    }
    names.sort();
    names.dedup();
    let mut out = Vec::new();
    for n in names.iter().filter(|n| n.as_str() != IDEAL) {
        let found = crate::trust::overlay::find_for(&hw.name, n)
            .map_err(|e| ExploreError::Request(e.to_string()))?;
        if let Some((path, text, _)) = found {
            out.push(CalibrationSpec {
                file: path.display().to_string(),
                text,
            });
        }
    }
    Ok(out)
}

/// The runtimes in play: those named, or, for [`DEFAULT_RUNTIME`], the defaults of the given
/// units of `hw` for `kind` (unknown unit names are skipped; the unit list reports them).
pub fn in_play(
    specs: &[RuntimeSpec],
    hw: &Hardware,
    units: &[String],
    kind: WorkloadKind,
) -> Result<Vec<Runtime>, ExploreError> {
    let mut out: Vec<Runtime> = Vec::new();
    let mut push = |rt: Runtime| {
        if !out.contains(&rt) {
            out.push(rt);
        }
    };
    for s in specs {
        match s
            .load()
            .map_err(|e| ExploreError::Request(format!("--runtime {}: {e}", s.name)))?
        {
            Some(rt) => push(rt),
            None => {
                for u in units {
                    let base = u.split(super::units::THREAD_SEP).next().unwrap_or(u);
                    if base == super::units::ILP_UNIT {
                        push(Runtime::ideal());
                    } else if let Ok(i) = hw.unit_index(Some(base)) {
                        push(
                            crate::runtime::default_for(hw, i, kind)
                                .map_err(|e| ExploreError::Request(e.to_string()))?,
                        );
                    }
                }
            }
        }
    }
    Ok(out)
}

/// The default `--quant` list under the runtimes in play: each of `defaults` that some runtime
/// runs (a runtime without a format list runs every scheme), then each of
/// [`COMMON_RUNTIME_FORMATS`] that a runtime restricting its formats runs and whose base is not
/// in the list yet, then the formats of any runtime that still runs none of the list. With only
/// runtimes that run everything (`ideal`), `defaults` unchanged.
pub fn default_quants(defaults: &[&str], runtimes: &[Runtime]) -> Vec<String> {
    let runs = |rt: &Runtime, q: &str| {
        rt.formats.as_ref().is_none_or(|f| {
            let b = canonical_base(q);
            f.iter().any(|x| canonical_base(x) == b)
        })
    };
    let mut out: Vec<String> = defaults
        .iter()
        .filter(|q| runtimes.is_empty() || runtimes.iter().any(|rt| runs(rt, q)))
        .map(|q| q.to_string())
        .collect();
    for c in COMMON_RUNTIME_FORMATS {
        let restricting = runtimes
            .iter()
            .any(|rt| rt.formats.is_some() && runs(rt, c));
        let base = canonical_base(c);
        if restricting && !out.iter().any(|q| canonical_base(q) == base) {
            out.push(c.to_string());
        }
    }
    // A runtime none of whose formats is in the list yet (an int8-only stack: the Edge TPU
    // compiler, X-CUBE-AI) brings its own, so that it has something to price.
    for rt in runtimes {
        if let Some(formats) = &rt.formats
            && !out.iter().any(|q| runs(rt, q))
        {
            out.extend(formats.iter().cloned());
        }
    }
    out
}

/// The runtimes of an evaluator: each distinct runtime once, which one each (axis value, unit)
/// prices with, and the band of each (runtime, unit).
#[derive(Debug)]
pub(super) struct RuntimeTable {
    /// Distinct runtimes.
    pub list: Vec<Runtime>,
    /// Per axis value, per unit of the augmented device: the index in `list`, or why that unit
    /// has no runtime (a bad device default).
    pick: Vec<Vec<Result<u32, String>>>,
    /// Per runtime, per unit: the band of a prediction.
    bands: Vec<Vec<Option<Band>>>,
    /// Per runtime: the corrections of its calibration overlay (identity without one).
    scales: Vec<Scales>,
    /// The index of `ideal` in `list`, if there.
    ideal: Option<u32>,
}

impl RuntimeTable {
    /// Resolves `specs` (the axis values) on every unit of `hw` (augmented with its thread
    /// variants) for `kind` workloads.
    /// A runtime with an overlay in `calibrations` (for this device) is priced with its
    /// corrections and takes its band from the overlay's cross-validated errors.
    pub fn new(
        specs: &[RuntimeSpec],
        hw: &Hardware,
        kind: WorkloadKind,
        calibrations: &[Overlay],
    ) -> Result<RuntimeTable, RuntimeError> {
        let mut list: Vec<Runtime> = Vec::new();
        let mut index = |rt: Runtime| -> u32 {
            match list.iter().position(|x| *x == rt) {
                Some(i) => i as u32,
                None => {
                    list.push(rt);
                    (list.len() - 1) as u32
                }
            }
        };
        let mut pick = Vec::with_capacity(specs.len());
        for s in specs {
            let row = match s.load()? {
                Some(rt) => {
                    let i = index(rt);
                    vec![Ok(i); hw.units.len()]
                }
                None => (0..hw.units.len())
                    .map(|u| {
                        crate::runtime::default_for(hw, u, kind)
                            .map(&mut index)
                            .map_err(|e| e.to_string())
                    })
                    .collect(),
            };
            pick.push(row);
        }
        if list.is_empty() {
            // Every default failed to load: keep one runtime so graphs can be indexed; the
            // points report why their units have none.
            list.push(Runtime::ideal());
        }
        let overlay = |rt: &Runtime| {
            calibrations
                .iter()
                .find(|o| o.calibration.runtime == rt.name && o.calibration.device == hw.name)
        };
        let bands = list
            .iter()
            .map(|rt| {
                (0..hw.units.len())
                    .map(|u| band(hw, u, rt, kind, overlay(rt)))
                    .collect()
            })
            .collect();
        let scales = list
            .iter()
            .map(|rt| overlay(rt).map_or_else(Scales::default, Overlay::scales))
            .collect();
        let ideal = list.iter().position(Runtime::is_ideal).map(|i| i as u32);
        Ok(RuntimeTable {
            list,
            pick,
            bands,
            scales,
            ideal,
        })
    }

    /// Distinct runtimes.
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// The runtime of axis value `value` on unit `unit`.
    pub fn pick(&self, value: usize, unit: usize) -> Result<u32, String> {
        self.pick[value][unit].clone()
    }

    /// The runtime of axis value `value` for an ILP placement: `ideal` (the placement prices
    /// each unit without a runtime), or why a named runtime cannot price it.
    pub fn pick_ilp(&self, value: usize) -> Result<u32, String> {
        let named = self.pick[value].first().and_then(|r| r.as_ref().ok());
        let all_same = self.pick[value].iter().all(|r| r.as_ref().ok() == named);
        match (self.ideal, named) {
            // A named runtime (the same on every unit) that is not ideal.
            (_, Some(&i)) if all_same && !self.list[i as usize].is_ideal() => Err(format!(
                "the ILP placement prices each unit without a runtime; runtime `{}` cannot price it (use --runtime {IDEAL} or {DEFAULT_RUNTIME})",
                self.list[i as usize].name
            )),
            (Some(i), _) => Ok(i),
            (None, _) => Err(format!(
                "the ILP placement prices each unit without a runtime (use --runtime {IDEAL} or {DEFAULT_RUNTIME})"
            )),
        }
    }

    /// Runtime `i`.
    pub fn get(&self, i: u32) -> &Runtime {
        &self.list[i as usize]
    }

    /// The calibration corrections of runtime `i` (identity without an overlay).
    pub fn scales(&self, i: u32) -> Scales {
        self.scales[i as usize]
    }

    /// The band of runtime `i` on unit `unit`.
    pub fn band(&self, i: u32, unit: usize) -> Option<&Band> {
        self.bands[i as usize].get(unit).and_then(Option::as_ref)
    }
}

/// `(low, high)` of a time under `band`, `None` without a band or a time.
pub fn time_band(band: Option<&Band>, t: Option<f64>) -> (Option<f64>, Option<f64>) {
    match (band, t) {
        (Some(b), Some(t)) => {
            let (lo, hi) = b.time(t);
            (Some(lo), Some(hi))
        }
        _ => (None, None),
    }
}

/// `(low, high)` of a rate under `band`, `None` without a band or a rate.
pub fn rate_band(band: Option<&Band>, r: Option<f64>) -> (Option<f64>, Option<f64>) {
    match (band, r) {
        (Some(b), Some(r)) => {
            let (lo, hi) = b.rate(r);
            (Some(lo), Some(hi))
        }
        _ => (None, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_quants_follow_the_runtimes() {
        let d = ["fp32", "fp16", "w8a16", "w4a16-g128"];
        assert_eq!(default_quants(&d, &[Runtime::ideal()]), d.to_vec());
        let llama = Runtime::load("llama.cpp-cpu").unwrap();
        assert_eq!(
            default_quants(&d, std::slice::from_ref(&llama)),
            ["fp32", "fp16", "q8_0", "q4_0", "q4_k_m"]
        );
        let mlc = Runtime::load("mlc-llm").unwrap();
        assert_eq!(
            default_quants(&d, &[llama, mlc, Runtime::ideal()]),
            [
                "fp32",
                "fp16",
                "w8a16",
                "w4a16-g128",
                "q8_0",
                "q4_0",
                "q4_k_m",
                "q4f16_1"
            ]
        );
    }
}
