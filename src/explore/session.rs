//! Running a request: the [`Session`] builds the space and the evaluator of a spec and prices
//! its points (with a progress bar on long runs); [`explore`] and [`finish`] choose the output
//! directory and write a shard's part or the report.

use super::analysis::objective_vector;
use super::request::onnx_identity;
use super::stream::{Source, Spill, Tally};
use super::{
    CnnEvaluator, Evaluator, ExploreError, ExploreRequest, ExploreSpec, LlmEvaluator, MappingSpec,
    MetricDef, Outcome, ParallelEvaluator, WorkloadSpec, files, report, runtimes, table,
};
use crate::cost::Mode;
use crate::search::{
    Axis, AxisKind, Grid, Point, RandomSample, Shard, Sharded, Space, Strategy, Sweep, Values,
};
use crate::workload::{LlmConfig, Model, load_model};
use std::path::{Path, PathBuf};

/// The space of a spec: hardware sweeps first, then the workload's knobs.
pub fn build_space(spec: &ExploreSpec) -> Result<Space, ExploreError> {
    let mut axes: Vec<Axis> = spec.sweeps.iter().map(Sweep::axis).collect();
    let runtime_values = Values::Names(spec.runtime_specs().into_iter().map(|r| r.name).collect());
    let knob = |name: &str, values: Values| Axis {
        name: name.to_string(),
        kind: AxisKind::Knob,
        values,
        log: false,
    };
    match &spec.workload {
        WorkloadSpec::Llm {
            quants,
            batches,
            prompts,
            contexts,
            tps,
            pps,
            microbatches,
            ..
        } if spec.node.is_some() => {
            axes.push(knob("quant", Values::Names(quants.clone())));
            axes.push(knob(runtimes::AXIS, runtime_values.clone()));
            for (name, v) in [
                ("batch", batches),
                ("tp", tps),
                ("pp", pps),
                ("microbatches", microbatches),
            ] {
                axes.push(knob(name, Values::Ints(v.clone())));
            }
            let mut prompt = knob("prompt_tokens", Values::Ints(prompts.clone()));
            prompt.kind = AxisKind::Condition;
            axes.push(prompt);
            let mut ctx = knob("context_tokens", Values::Ints(contexts.clone()));
            ctx.kind = AxisKind::Condition;
            axes.push(ctx);
            Ok(Space::new(axes, &[("prompt_tokens", "context_tokens")])?)
        }
        WorkloadSpec::Llm {
            quants,
            prefill_units,
            decode_units,
            batches,
            prompts,
            contexts,
            ..
        } => {
            axes.push(knob("quant", Values::Names(quants.clone())));
            axes.push(knob(runtimes::AXIS, runtime_values.clone()));
            axes.push(knob("prefill_unit", Values::Names(prefill_units.clone())));
            axes.push(knob("decode_unit", Values::Names(decode_units.clone())));
            axes.push(knob("batch", Values::Ints(batches.clone())));
            let mut prompt = knob("prompt_tokens", Values::Ints(prompts.clone()));
            prompt.kind = AxisKind::Condition;
            axes.push(prompt);
            let mut ctx = knob("context_tokens", Values::Ints(contexts.clone()));
            ctx.kind = AxisKind::Condition;
            ctx.log = contexts.len() > 2;
            axes.push(ctx);
            Ok(Space::new(axes, &[("prompt_tokens", "context_tokens")])?)
        }
        WorkloadSpec::Cnn {
            quants,
            units,
            batches,
            ..
        } => {
            axes.push(knob("quant", Values::Names(quants.clone())));
            axes.push(knob(runtimes::AXIS, runtime_values.clone()));
            axes.push(knob("unit", Values::Names(units.clone())));
            let mut b = knob("batch", Values::Ints(batches.clone()));
            b.log = batches.len() > 2;
            axes.push(b);
            Ok(Space::new(axes, &[])?)
        }
    }
}

/// Points evaluated per ask/tell round: large enough to share hardware variants and phase
/// prices across points and keep both cores busy, small enough to show progress.
pub const CHUNK: usize = 16_384;

/// Runs with at least this many points show a progress bar (smaller ones finish in a blink).
pub const PROGRESS_MIN_POINTS: u64 = 50_000;

/// A space and an evaluator built from a spec.
pub struct Session {
    /// The spec.
    pub spec: ExploreSpec,
    /// Its space.
    pub space: Space,
    /// Its evaluator.
    pub evaluator: Box<dyn Evaluator>,
}

/// The points of a run and what the evaluator said about each, sorted by point id.
pub struct Results {
    /// Evaluated points, ascending id.
    pub points: Vec<Point>,
    /// One outcome per point.
    pub outcomes: Vec<Outcome>,
}

impl Session {
    /// Builds the space and evaluator of `spec`.
    pub fn new(spec: ExploreSpec) -> Result<Session, ExploreError> {
        let space = build_space(&spec)?;
        let mode = if spec.ideal {
            Mode::Ideal
        } else {
            Mode::Calibrated
        };
        let calibrations = spec
            .calibrations
            .iter()
            .map(super::runtimes::CalibrationSpec::load)
            .collect::<Result<Vec<_>, _>>()?;
        let evaluator: Box<dyn Evaluator> = match &spec.workload {
            WorkloadSpec::Llm {
                model,
                model_file,
                model_text,
                ..
            } if spec.node.is_some() => {
                let cfg = LlmConfig::from_json(model_text, model_file, model)?;
                let node = spec.node.as_ref().expect("guarded").load()?;
                Box::new(ParallelEvaluator::new(
                    cfg,
                    node,
                    &space,
                    mode,
                    &spec.runtime_specs(),
                    &calibrations,
                )?)
            }
            WorkloadSpec::Llm {
                model,
                model_file,
                model_text,
                ..
            } => {
                let cfg = LlmConfig::from_json(model_text, model_file, model)?;
                Box::new(LlmEvaluator::new(
                    cfg,
                    &spec.hw_text,
                    &spec.hw_file,
                    &space,
                    mode,
                    spec.placement_time_s,
                    &spec.runtime_specs(),
                    &calibrations,
                )?)
            }
            WorkloadSpec::Cnn {
                model_file,
                model_text,
                ..
            } => {
                let Model::Vision(v) = load_model(model_file)? else {
                    return Err(ExploreError::Request(format!(
                        "`{model_file}` is no longer a vision network or encoder"
                    )));
                };
                if model_text.starts_with("onnx ") {
                    let (base, _) = model_file.split_once('?').unwrap_or((model_file, ""));
                    if onnx_identity(base)? != *model_text {
                        return Err(ExploreError::Request(format!(
                            "{base} changed since the run was specified ({model_text})"
                        )));
                    }
                }
                Box::new(CnnEvaluator::new(
                    v,
                    &spec.hw_text,
                    &spec.hw_file,
                    &space,
                    mode,
                    spec.placement_time_s,
                    spec.mapping.as_ref().map(MappingSpec::request),
                    &spec.runtime_specs(),
                    &calibrations,
                )?)
            }
        };
        Ok(Session {
            spec,
            space,
            evaluator,
        })
    }

    /// The points this run (or shard) will evaluate.
    pub fn planned(&self) -> Result<u64, ExploreError> {
        Ok(self.strategy()?.planned().unwrap_or(0))
    }

    fn strategy(&self) -> Result<Sharded<Box<dyn Strategy>>, ExploreError> {
        let inner: Box<dyn Strategy> = match self.spec.samples {
            Some(n) => Box::new(RandomSample::new(&self.space, n, self.spec.seed)?),
            None => Box::new(Grid::new(&self.space)?),
        };
        Ok(Sharded::new(inner, self.spec.shard))
    }

    /// Runs the ask/tell loop over this run's slice, in parallel, with a progress bar on large
    /// runs when `progress`, and returns every point (in memory: [`Session::run_chunks`] streams).
    pub fn run(&self, progress: bool) -> Result<Results, ExploreError> {
        let mut points = Vec::new();
        let mut outcomes = Vec::new();
        self.run_chunks(progress, CHUNK, &mut |chunk| {
            points.extend(chunk.points);
            outcomes.extend(chunk.outcomes);
            Ok(())
        })?;
        Ok(sorted(points, outcomes))
    }

    /// Runs the ask/tell loop, `chunk` points per round evaluated in parallel, handing each
    /// round's points (sorted by id) to `sink` as they are priced.
    pub fn run_chunks(
        &self,
        progress: bool,
        chunk: usize,
        sink: &mut dyn FnMut(Results) -> Result<(), ExploreError>,
    ) -> Result<(), ExploreError> {
        let mut strategy = self.strategy()?;
        let planned = strategy.planned().unwrap_or(0);
        let bar = (progress && planned >= PROGRESS_MIN_POINTS).then(|| {
            let b = indicatif::ProgressBar::new(planned);
            b.set_style(
                indicatif::ProgressStyle::with_template(
                    "{spinner} evaluating {pos}/{len} points [{bar:40}] {per_sec} eta {eta}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            b
        });
        let objectives = self.objective_indices()?;
        loop {
            let asked = strategy.ask(chunk.max(1));
            if asked.is_empty() {
                break;
            }
            let got = self.evaluator.evaluate(&asked);
            let told: Vec<(Point, Option<Vec<f64>>)> = asked
                .iter()
                .zip(&got)
                .map(|(p, o)| (p.clone(), objective_vector(self.metrics(), &objectives, o)))
                .collect();
            strategy.tell(&told);
            if let Some(b) = &bar {
                b.inc(asked.len() as u64);
            }
            sink(sorted(asked, got))?;
        }
        if let Some(b) = bar {
            b.finish_and_clear();
        }
        Ok(())
    }

    /// The evaluator's metrics.
    pub fn metrics(&self) -> &[MetricDef] {
        self.evaluator.metrics()
    }

    /// Metric indices of the spec's objectives.
    pub fn objective_indices(&self) -> Result<Vec<usize>, ExploreError> {
        self.spec
            .objectives
            .iter()
            .map(|o| self.metric_index(o))
            .collect()
    }

    /// Index of the metric named `name`.
    pub fn metric_index(&self, name: &str) -> Result<usize, ExploreError> {
        self.metrics()
            .iter()
            .position(|m| m.name == name)
            .ok_or_else(|| {
                ExploreError::Request(format!(
                    "unknown metric `{name}`; this workload reports: {}",
                    self.metrics()
                        .iter()
                        .map(|m| m.name)
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })
    }
}

pub(super) fn sorted(points: Vec<Point>, outcomes: Vec<Outcome>) -> Results {
    let mut rows: Vec<(Point, Outcome)> = points.into_iter().zip(outcomes).collect();
    rows.sort_by_key(|r| r.0.id);
    let (points, outcomes) = rows.into_iter().unzip();
    Results { points, outcomes }
}

/// Options of `explore` and `merge` that only affect output.
#[derive(Clone, Debug, Default)]
pub struct OutputOptions {
    /// Output directory; `reports/<model>-<hw>-<UTC time>/` when `None`.
    pub out: Option<PathBuf>,
    /// Write over an existing directory or part.
    pub force: bool,
    /// Show a progress bar on long runs.
    pub progress: bool,
    /// Points per chunk ([`CHUNK`] when `None`): what is evaluated at once and what the
    /// writers get at once. It changes no output, only memory and speed.
    pub chunk: Option<usize>,
}

/// What a finished command produced, for the terminal.
pub struct Finished {
    /// The terminal summary.
    pub summary: String,
    /// The report directory, or the part file of a shard.
    pub path: PathBuf,
}

fn default_dir(spec: &ExploreSpec) -> PathBuf {
    let hw = Path::new(&spec.hw_file)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| spec.hw_name.clone());
    PathBuf::from("reports").join(format!(
        "{}-{}-{}",
        files::slug(spec.model_name()),
        files::slug(&hw),
        files::now_stamp()
    ))
}

/// `archscope explore`: resolve, run, then write either this shard's part or the full report.
/// Points are priced and written chunk by chunk: nothing holds every point.
pub fn explore(req: &ExploreRequest, opts: &OutputOptions) -> Result<Finished, ExploreError> {
    let spec = req.resolve()?;
    let session = Session::new(spec)?;
    let chunk = opts.chunk.unwrap_or(CHUNK);
    let start = std::time::Instant::now();
    if session.spec.shard != Shard::ALL {
        let dir = opts
            .out
            .clone()
            .unwrap_or_else(|| default_dir(&session.spec).with_extension("parts"));
        std::fs::create_dir_all(&dir).map_err(|e| ExploreError::Io {
            path: dir.display().to_string(),
            source: e,
        })?;
        let s = session.spec.shard;
        let path = dir.join(table::part_name(s.index, s.count));
        if path.exists() && !opts.force {
            return Err(ExploreError::Exists(path.display().to_string()));
        }
        let mut part = table::ParquetStream::create(&path, Some(&session.spec))?;
        let mut n = 0usize;
        let frame = |r: &Results| {
            table::frame_of(
                &session,
                r.points.len(),
                |i| &r.points[i],
                |i| &r.outcomes[i],
                None,
            )
        };
        session.run_chunks(opts.progress, chunk, &mut |r| {
            n += r.points.len();
            part.add(frame(&r)?)
        })?;
        part.finish(frame(&Results {
            points: vec![],
            outcomes: vec![],
        })?)?;
        let eval_s = start.elapsed().as_secs_f64();
        return Ok(Finished {
            summary: format!(
                "shard {}/{}: {} points evaluated in {:.2} s → {}\nmerge all {} parts with: archscope merge {}/part-*-of-{}.parquet --out DIR\n",
                s.index,
                s.count,
                n,
                eval_s,
                path.display(),
                s.count,
                dir.display(),
                s.count
            ),
            path,
        });
    }
    let dir = opts
        .out
        .clone()
        .unwrap_or_else(|| default_dir(&session.spec));
    finish_stream(&session, &dir, opts.force, chunk, true, &mut |sink| {
        session.run_chunks(opts.progress, chunk, sink)
    })
}

/// Name of the spill file of pass one in a report's staging directory (removed before the
/// report is moved into place).
const SPILL: &str = ".points.spill";

/// A producer of a run's points: it calls the sink with each chunk, in ascending id.
pub type Feed<'a> =
    dyn FnMut(&mut dyn FnMut(Results) -> Result<(), ExploreError>) -> Result<(), ExploreError> + 'a;

/// Writes the report of the points `feed` produces into `dir` (staged, renamed into place when
/// complete; with `force`, replacing an existing report whole): pass one tallies the fronts and
/// counts and spills the points beside the report, pass two writes the tables and charts from
/// the spill. `timed` adds the evaluation time to the summary.
pub fn finish_stream(
    session: &Session,
    dir: &Path,
    force: bool,
    chunk: usize,
    timed: bool,
    feed: &mut Feed<'_>,
) -> Result<Finished, ExploreError> {
    let staged = crate::util::output::StagedDir::begin(dir, force)?;
    let start = std::time::Instant::now();
    let mut tally = Tally::new(session)?;
    let mut spill = Spill::create(&staged.path().join(SPILL))?;
    feed(&mut |r| {
        tally.add(&r)?;
        spill.add(&r)
    })?;
    let eval_s = start.elapsed().as_secs_f64();
    let spilled = spill.finish()?;
    let (kept, analysis) = tally.finish();
    let summary = report::write(
        session,
        &kept,
        &analysis,
        &Source::Spill(&spilled),
        chunk,
        staged.path(),
    )?;
    std::fs::remove_file(&spilled).map_err(|e| ExploreError::Io {
        path: spilled.display().to_string(),
        source: e,
    })?;
    staged.commit()?;
    let mut text = summary;
    let n = analysis.counts.points;
    if timed {
        text.push_str(&format!(
            "evaluated {} points in {:.3} s ({:.0} points/s)\n",
            n,
            eval_s,
            n as f64 / eval_s.max(1e-9)
        ));
    }
    text.push_str(&format!("report: {}\n", dir.join("report.html").display()));
    Ok(Finished {
        summary: text,
        path: dir.to_path_buf(),
    })
}

/// Analyses results held in memory and writes the report to `dir` (see [`finish_stream`]).
pub fn finish(
    session: &Session,
    results: &Results,
    dir: &Path,
    force: bool,
    eval_s: Option<f64>,
) -> Result<Finished, ExploreError> {
    let mut out = finish_stream(session, dir, force, CHUNK, false, &mut |sink| {
        for start in (0..results.points.len()).step_by(CHUNK) {
            let end = (start + CHUNK).min(results.points.len());
            sink(Results {
                points: results.points[start..end].to_vec(),
                outcomes: results.outcomes[start..end].to_vec(),
            })?;
        }
        Ok(())
    })?;
    if let Some(t) = eval_s {
        let n = results.points.len();
        let line = format!(
            "evaluated {} points in {:.3} s ({:.0} points/s)\n",
            n,
            t,
            n as f64 / t.max(1e-9)
        );
        if let Some(i) = out.summary.rfind("report: ") {
            out.summary.insert_str(i, &line);
        }
    }
    Ok(out)
}
