//! `score` and `explore`: the two evaluation calls. Each builds the request the command line
//! builds from the same arguments, runs it with the GIL released, and returns the command line's
//! text (score: JSON, CSV and table) or the report directory it wrote (explore).

use crate::device::{Hardware, Model};
use crate::{Kind, raise, score_err};
use archscope::explore::{ExploreRequest, OutputOptions};
use archscope::render::{Format, render};
use archscope::{QuantScheme, ScoreRequest};
use pyo3::prelude::*;

/// `--quant` of `score` when none is given (for a model not read from a GGUF file).
const DEFAULT_QUANT: &str = "fp16";

/// The CLI's calibration pick-up: the pair's overlay in calibrations/ when there is one.
fn calibration(
    hw: &archscope::Hardware,
    runtime: &str,
) -> PyResult<Option<archscope::trust::overlay::Overlay>> {
    let found = archscope::trust::overlay::find_for(&hw.name, runtime)
        .map_err(|e| raise(Kind::Score, e))?;
    Ok(found.map(|(_, _, o)| o))
}

/// Scores `model` on `hw` as `archscope score --format json|csv|table` does; returns the three
/// texts (JSON, CSV, table). `phase` is `prefill`, `decode` or `both`.
#[pyfunction]
#[pyo3(signature = (hw, model, phase, quant, unit, batch, prompt, context, ideal, runtime, threads))]
#[allow(clippy::too_many_arguments)]
pub fn score(
    py: Python<'_>,
    hw: &Bound<'_, Hardware>,
    model: &Bound<'_, Model>,
    phase: &str,
    quant: Option<&str>,
    unit: Option<String>,
    batch: u64,
    prompt: u64,
    context: u64,
    ideal: bool,
    runtime: Option<&str>,
    threads: Option<u64>,
) -> PyResult<(String, String, String)> {
    let (hw, model) = (&hw.get().hw, &model.get().model);
    let quant = quant.unwrap_or(archscope::workload::default_quant(model, DEFAULT_QUANT));
    let quant = QuantScheme::parse(quant).map_err(|e| raise(Kind::Score, e))?;
    let kind = model.workload_kind();
    let u = hw
        .unit_index(unit.as_deref())
        .map_err(|e| raise(Kind::Hardware, e))?;
    let runtime = archscope::runtime::resolve_flag(runtime, ideal, hw, u, kind)
        .map_err(|e| raise(Kind::Score, e))?;
    let calibration = calibration(hw, &runtime.name)?;
    let req = ScoreRequest {
        batch,
        prompt,
        context,
        prefill: phase != "decode",
        decode: phase != "prefill",
        unit,
        mode: if ideal {
            archscope::cost::Mode::Ideal
        } else {
            archscope::cost::Mode::Calibrated
        },
        runtime,
        threads,
        calibration,
        ..ScoreRequest::default()
    };
    let report = py
        .detach(|| archscope::score(hw, model, &quant, &req))
        .map_err(score_err)?;
    let on = report.on(hw);
    let text = |f: Format| render(on.as_ref(), f).map_err(|e| raise(Kind::Score, e));
    Ok((
        text(Format::Json)?,
        text(Format::Csv)?,
        text(Format::Table)?,
    ))
}

/// Runs `archscope explore` with the request `axes` describe and writes its report to `out`;
/// returns (summary, report directory). The device's what-if edits become single-value sweeps.
#[pyfunction]
#[pyo3(signature = (hw, model, out, force, axes))]
pub fn explore(
    py: Python<'_>,
    hw: &Bound<'_, Hardware>,
    model: &Bound<'_, Model>,
    out: std::path::PathBuf,
    force: bool,
    axes: &Bound<'_, pyo3::types::PyDict>,
) -> PyResult<(String, String)> {
    let (hw, model) = (hw.get(), model.get());
    let mut req = ExploreRequest {
        hw: hw.given.clone(),
        model: model.spec.clone(),
        sweeps: hw.sweeps(),
        ..ExploreRequest::default()
    };
    set_axes(&mut req, axes)?;
    req.command = format!(
        "archscope.explore({:?}, {:?}, {})",
        hw.given,
        model.spec,
        axes.repr()?
    );
    let opts = OutputOptions {
        out: Some(out),
        force,
        progress: false,
        chunk: None,
    };
    let done = py.detach(|| archscope::explore(&req, &opts)).map_err(|e| {
        use archscope::explore::ExploreError as E;
        match e {
            E::Hardware(e) => raise(Kind::Hardware, e),
            E::Model(e) => raise(Kind::Model, e),
            e => raise(Kind::Explore, e),
        }
    })?;
    Ok((done.summary, done.path.display().to_string()))
}

/// Fills `req` from the keyword arguments of `explore`: each key is the long flag of
/// `archscope explore` with `_` for `-` (lists for the comma-separated flags).
fn set_axes(req: &mut ExploreRequest, axes: &Bound<'_, pyo3::types::PyDict>) -> PyResult<()> {
    use pyo3::exceptions::{PyTypeError, PyValueError};
    for (k, v) in axes.iter() {
        let key: String = k.extract()?;
        let bad = |e: PyErr| PyTypeError::new_err(format!("explore argument `{key}`: {e}"));
        match key.as_str() {
            "quant" => req.quants = v.extract().map_err(bad)?,
            "runtime" => req.runtimes = v.extract().map_err(bad)?,
            "units" => req.units = v.extract().map_err(bad)?,
            "prefill_units" => req.prefill_units = v.extract().map_err(bad)?,
            "decode_units" => req.decode_units = v.extract().map_err(bad)?,
            "batch" => req.batches = v.extract().map_err(bad)?,
            "prompt" => req.prompts = v.extract().map_err(bad)?,
            "context" => req.contexts = v.extract().map_err(bad)?,
            "sweep" => req.sweeps.extend(v.extract::<Vec<String>>().map_err(bad)?),
            "samples" => req.samples = v.extract().map_err(bad)?,
            "seed" => req.seed = v.extract().map_err(bad)?,
            "objectives" => req.objectives = v.extract().map_err(bad)?,
            "front_by" => req.front_by = v.extract().map_err(bad)?,
            "max_memory" => req.max_memory = v.extract().map_err(bad)?,
            "min_tokens_per_s" => req.min_tokens_per_s = v.extract().map_err(bad)?,
            "max_latency_s" => req.max_latency_s = v.extract().map_err(bad)?,
            "ideal" => req.ideal = v.extract().map_err(bad)?,
            "threads" => req.threads = v.extract().map_err(bad)?,
            "ilp" => req.ilp = v.extract().map_err(bad)?,
            "placement_time_s" => req.placement_time_s = v.extract().map_err(bad)?,
            "no_calibration" => req.no_calibration = v.extract().map_err(bad)?,
            "shard" => req.shard = v.extract().map_err(bad)?,
            _ => {
                return Err(PyValueError::new_err(format!(
                    "explore: unknown argument `{key}`"
                )));
            }
        }
    }
    Ok(())
}
