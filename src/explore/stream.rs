//! Large sweeps in bounded memory: a run is priced chunk by chunk, and nothing holds every point.
//!
//! Pass one ([`Tally`]) sees each chunk once, in ascending point id: it judges every point
//! against the spec's limits ([`Judge`]), counts the feasible points and the reasons of the
//! others ([`Counts`]), keeps the Pareto front and the best point on each objective of every
//! scenario (only the non-dominated set: the front of the points so far and a new chunk is the
//! front of the old front and the chunk), and appends the chunk to a [`Spill`] file beside the
//! report. Pass two reads the spill back chunk by chunk and writes the tables (now that the
//! fronts are known, each row gets its `on_front`) and a bounded sample of points for the
//! charts. Memory is the fronts, one chunk and the writers' buffers, whatever the point count.

use super::analysis::{Analysis, Scenario, focus_of, rank_cmp, reason_kind};
use super::{Constraint, ExploreError, MetricDef, Outcome, Results, Session, fmt_num};
use crate::search::{Point, pareto_front};
use std::collections::BTreeMap;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

/// The verdict of the spec's limits on each point: why it is infeasible, or its objective
/// vector (minimised) when it is feasible.
pub struct Judge {
    metrics: Vec<MetricDef>,
    objectives: Vec<usize>,
    limits: Vec<(usize, Constraint)>,
}

impl Judge {
    /// The judge of a session's spec: its objectives and limits.
    pub fn new(session: &Session) -> Result<Judge, ExploreError> {
        let limits = session
            .spec
            .constraints
            .iter()
            .map(|c| Ok((session.metric_index(&c.metric)?, c.clone())))
            .collect::<Result<_, ExploreError>>()?;
        Ok(Judge {
            metrics: session.metrics().to_vec(),
            objectives: session.objective_indices()?,
            limits,
        })
    }

    /// The objective vector of a feasible outcome, or why it is infeasible: the evaluator's
    /// reason, then each limit it breaks, joined by `; `.
    pub fn judge(&self, o: &Outcome) -> Result<Vec<f64>, String> {
        let mut why: Vec<String> = o.infeasible.iter().cloned().collect();
        for (k, c) in &self.limits {
            match o.metrics[*k] {
                Some(v) if c.at_most && v > c.bound => why.push(format!(
                    "{} {} > {} {}",
                    c.metric,
                    fmt_num(v),
                    c.flag,
                    fmt_num(c.bound)
                )),
                Some(v) if !c.at_most && v < c.bound => why.push(format!(
                    "{} {} < {} {}",
                    c.metric,
                    fmt_num(v),
                    c.flag,
                    fmt_num(c.bound)
                )),
                _ => {}
            }
        }
        let vec = super::analysis::objective_vector(&self.metrics, &self.objectives, o);
        match vec {
            Some(v) if why.is_empty() => Ok(v),
            None if why.is_empty() => Err("an objective could not be computed".into()),
            _ => Err(why.join("; ")),
        }
    }
}

/// How many points a run evaluated, how many are feasible, and why the others are not.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Counts {
    /// Points evaluated.
    pub points: usize,
    /// Feasible points.
    pub feasible: usize,
    /// Per reason category: the points with a reason of that kind (a point with several
    /// reasons counts once in each), and the first such reason clause in point order.
    pub reasons: BTreeMap<&'static str, (usize, String)>,
}

impl Counts {
    /// Counts one point, infeasible for `reason` when it has one.
    pub fn add(&mut self, reason: Option<&str>) {
        self.points += 1;
        let Some(r) = reason else {
            self.feasible += 1;
            return;
        };
        let mut kinds: Vec<(&'static str, &str)> =
            r.split("; ").map(|c| (reason_kind(c), c)).collect();
        // The first clause of each kind is its example; a stable sort keeps clause order.
        kinds.sort_by_key(|k| k.0);
        kinds.dedup_by_key(|k| k.0);
        for (k, clause) in kinds {
            let e = self.reasons.entry(k).or_insert_with(|| (0, clause.into()));
            e.0 += 1;
        }
    }
}

/// A point kept by pass one: on a front, or best on an objective.
#[derive(Clone, Debug)]
struct Kept {
    point: Point,
    outcome: Outcome,
    vector: Vec<f64>,
}

/// The front and the best point on each objective of one scenario, so far.
#[derive(Default)]
struct ScenarioTally {
    front: Vec<Kept>,
    best: Vec<Option<Kept>>,
}

/// Pass one over a run's chunks: counts, and the fronts and best points of every scenario.
pub struct Tally<'s> {
    session: &'s Session,
    judge: Judge,
    group_axes: Vec<usize>,
    counts: Counts,
    scenarios: BTreeMap<Vec<u32>, ScenarioTally>,
    last_id: Option<u64>,
}

impl<'s> Tally<'s> {
    /// An empty tally of `session`'s run.
    pub fn new(session: &'s Session) -> Result<Tally<'s>, ExploreError> {
        Ok(Tally {
            session,
            judge: Judge::new(session)?,
            group_axes: super::analysis::group_axes(session)?,
            counts: Counts::default(),
            scenarios: BTreeMap::new(),
            last_id: None,
        })
    }

    /// Adds a chunk; its points must come after every point added before, in ascending id.
    pub fn add(&mut self, chunk: &Results) -> Result<(), ExploreError> {
        let metrics = self.session.metrics();
        let m = self.judge.objectives.len();
        let mut fresh: BTreeMap<Vec<u32>, Vec<(usize, Vec<f64>)>> = BTreeMap::new();
        for (i, (p, o)) in chunk.points.iter().zip(&chunk.outcomes).enumerate() {
            if self.last_id.is_some_and(|l| p.id <= l) {
                return Err(ExploreError::Table(format!(
                    "point {} arrived after point {}: a run's points must come in ascending id, each once",
                    p.id,
                    self.last_id.unwrap_or(0)
                )));
            }
            self.last_id = Some(p.id);
            let verdict = self.judge.judge(o);
            self.counts.add(verdict.as_ref().err().map(String::as_str));
            let key: Vec<u32> = self.group_axes.iter().map(|&a| p.digits[a]).collect();
            let sc = self.scenarios.entry(key.clone()).or_default();
            if let Ok(v) = verdict {
                if sc.best.is_empty() {
                    sc.best = vec![None; m];
                }
                fresh.entry(key).or_default().push((i, v));
            }
        }
        for (key, rows) in fresh {
            let sc = self.scenarios.get_mut(&key).expect("entered above");
            // The front of (old front ∪ new rows) is the front of every point so far.
            let old = sc.front.len();
            let table: Vec<f64> = sc
                .front
                .iter()
                .map(|k| k.vector.as_slice())
                .chain(rows.iter().map(|r| r.1.as_slice()))
                .flatten()
                .copied()
                .collect();
            let on = pareto_front(&table, m);
            let mut front: Vec<Kept> = std::mem::take(&mut sc.front)
                .into_iter()
                .zip(&on)
                .filter(|(_, on)| **on)
                .map(|(k, _)| k)
                .collect();
            for (j, (i, v)) in rows.iter().enumerate() {
                if on[old + j] {
                    front.push(Kept {
                        point: chunk.points[*i].clone(),
                        outcome: chunk.outcomes[*i].clone(),
                        vector: v.clone(),
                    });
                }
            }
            sc.front = front;
            for (j, &k) in self.judge.objectives.iter().enumerate() {
                let first = [k];
                for (i, v) in &rows {
                    let (p, o) = (&chunk.points[*i], &chunk.outcomes[*i]);
                    let better = sc.best[j].as_ref().is_none_or(|b| {
                        rank_cmp(metrics, &first, (o, p.id), (&b.outcome, b.point.id)).is_lt()
                    });
                    if better {
                        sc.best[j] = Some(Kept {
                            point: p.clone(),
                            outcome: o.clone(),
                            vector: v.clone(),
                        });
                    }
                }
            }
        }
        Ok(())
    }

    /// The kept points (every front point and every best point, ascending id) and the analysis
    /// over them: its row indices are rows of the kept points, its counts those of the run.
    pub fn finish(self) -> (Results, Analysis) {
        let metrics = self.session.metrics();
        let mut kept: BTreeMap<u64, (Point, Outcome)> = BTreeMap::new();
        for sc in self.scenarios.values() {
            for k in sc.front.iter().chain(sc.best.iter().flatten()) {
                kept.entry(k.point.id)
                    .or_insert_with(|| (k.point.clone(), k.outcome.clone()));
            }
        }
        let row: BTreeMap<u64, usize> = kept.keys().enumerate().map(|(i, &id)| (id, i)).collect();
        let (points, outcomes): (Vec<Point>, Vec<Outcome>) = kept.into_values().unzip();
        let results = Results { points, outcomes };
        let n = results.points.len();
        let mut on_front = vec![false; n];
        let mut scenarios = Vec::with_capacity(self.scenarios.len());
        for (key, sc) in self.scenarios {
            let mut front: Vec<usize> = sc.front.iter().map(|k| row[&k.point.id]).collect();
            for &r in &front {
                on_front[r] = true;
            }
            front.sort_by(|&a, &b| {
                rank_cmp(
                    metrics,
                    &self.judge.objectives,
                    (&results.outcomes[a], results.points[a].id),
                    (&results.outcomes[b], results.points[b].id),
                )
            });
            let best: Vec<Option<usize>> = if sc.best.is_empty() {
                vec![None; self.judge.objectives.len()]
            } else {
                sc.best
                    .iter()
                    .map(|b| b.as_ref().map(|k| row[&k.point.id]))
                    .collect()
            };
            let mut rows: Vec<usize> = front.iter().chain(best.iter().flatten()).copied().collect();
            rows.sort_unstable();
            rows.dedup();
            scenarios.push(Scenario {
                key,
                rows,
                front,
                best,
            });
        }
        let focus = focus_of(self.session, &self.group_axes, &scenarios);
        let analysis = Analysis {
            chosen: focus.map(|s| scenarios[s].front[0]),
            front: scenarios.iter().flat_map(|s| s.front.clone()).collect(),
            objectives: self.judge.objectives,
            group_axes: self.group_axes,
            feasible: vec![true; n],
            reasons: vec![None; n],
            on_front,
            scenarios,
            focus,
            counts: self.counts,
        };
        (results, analysis)
    }
}

/// The points and outcomes of a run on disk, in the order written: pass two reads them back
/// chunk by chunk. Each record is the point id, each metric (a presence byte and the value's
/// bits), each label and the evaluator's reason (length-prefixed UTF-8; `u32::MAX` for none).
pub struct Spill {
    path: PathBuf,
    out: BufWriter<std::fs::File>,
}

/// The length written for an absent reason.
const NONE_LEN: u32 = u32::MAX;

fn spill_io(path: &Path, e: std::io::Error) -> ExploreError {
    ExploreError::Io {
        path: path.display().to_string(),
        source: e,
    }
}

impl Spill {
    /// Creates (or truncates) the spill file `path`.
    pub fn create(path: &Path) -> Result<Spill, ExploreError> {
        let f = std::fs::File::create(path).map_err(|e| spill_io(path, e))?;
        Ok(Spill {
            path: path.to_path_buf(),
            out: BufWriter::new(f),
        })
    }

    /// Appends a chunk.
    pub fn add(&mut self, chunk: &Results) -> Result<(), ExploreError> {
        let mut rec = Vec::new();
        for (p, o) in chunk.points.iter().zip(&chunk.outcomes) {
            rec.clear();
            rec.extend_from_slice(&p.id.to_le_bytes());
            for m in &o.metrics {
                match m {
                    Some(v) => {
                        rec.push(1);
                        rec.extend_from_slice(&v.to_bits().to_le_bytes());
                    }
                    None => rec.push(0),
                }
            }
            let text = |rec: &mut Vec<u8>, s: &str| {
                rec.extend_from_slice(&(s.len() as u32).to_le_bytes());
                rec.extend_from_slice(s.as_bytes());
            };
            for l in &o.labels {
                text(&mut rec, l);
            }
            match &o.infeasible {
                Some(r) => text(&mut rec, r),
                None => rec.extend_from_slice(&NONE_LEN.to_le_bytes()),
            }
            self.out
                .write_all(&rec)
                .map_err(|e| spill_io(&self.path, e))?;
        }
        Ok(())
    }

    /// Flushes the file and returns its path.
    pub fn finish(mut self) -> Result<PathBuf, ExploreError> {
        self.out.flush().map_err(|e| spill_io(&self.path, e))?;
        Ok(self.path)
    }
}

/// Where pass two reads a run's points from: memory, or a [`Spill`] file.
pub enum Source<'a> {
    /// Results held in memory (ascending id).
    Memory(&'a Results),
    /// A spill file written by pass one.
    Spill(&'a Path),
}

impl Source<'_> {
    /// Calls `f` on each chunk of at most `chunk` points, in order.
    pub fn for_each(
        &self,
        session: &Session,
        chunk: usize,
        f: &mut dyn FnMut(&Results) -> Result<(), ExploreError>,
    ) -> Result<(), ExploreError> {
        let chunk = chunk.max(1);
        match self {
            Source::Memory(r) => {
                for start in (0..r.points.len()).step_by(chunk) {
                    let end = (start + chunk).min(r.points.len());
                    f(&Results {
                        points: r.points[start..end].to_vec(),
                        outcomes: r.outcomes[start..end].to_vec(),
                    })?;
                }
                Ok(())
            }
            Source::Spill(path) => read_spill(session, path, chunk, f),
        }
    }
}

fn read_spill(
    session: &Session,
    path: &Path,
    chunk: usize,
    f: &mut dyn FnMut(&Results) -> Result<(), ExploreError>,
) -> Result<(), ExploreError> {
    let file = std::fs::File::open(path).map_err(|e| spill_io(path, e))?;
    let mut r = BufReader::new(file);
    let (nm, nl) = (session.metrics().len(), session.evaluator.labels().len());
    let bad = |e: std::io::Error| spill_io(path, e);
    let mut buf = Results {
        points: Vec::with_capacity(chunk),
        outcomes: Vec::with_capacity(chunk),
    };
    let mut word = [0u8; 8];
    loop {
        // End of file between records is the end of the run.
        match r.read(&mut word[..1]).map_err(bad)? {
            0 => break,
            _ => r.read_exact(&mut word[1..]).map_err(bad)?,
        }
        let id = u64::from_le_bytes(word);
        let mut metrics = Vec::with_capacity(nm);
        for _ in 0..nm {
            let mut tag = [0u8; 1];
            r.read_exact(&mut tag).map_err(bad)?;
            metrics.push(if tag[0] == 1 {
                r.read_exact(&mut word).map_err(bad)?;
                Some(f64::from_bits(u64::from_le_bytes(word)))
            } else {
                None
            });
        }
        let text = |r: &mut BufReader<std::fs::File>| -> Result<Option<String>, ExploreError> {
            let mut len = [0u8; 4];
            r.read_exact(&mut len).map_err(bad)?;
            let len = u32::from_le_bytes(len);
            if len == NONE_LEN {
                return Ok(None);
            }
            let mut s = vec![0u8; len as usize];
            r.read_exact(&mut s).map_err(bad)?;
            String::from_utf8(s)
                .map(Some)
                .map_err(|e| ExploreError::Table(format!("{}: {e}", path.display())))
        };
        let mut labels = Vec::with_capacity(nl);
        for _ in 0..nl {
            labels.push(text(&mut r)?.unwrap_or_default());
        }
        let infeasible = text(&mut r)?;
        buf.points.push(session.space.point(id));
        buf.outcomes.push(Outcome {
            metrics,
            labels,
            infeasible,
        });
        if buf.points.len() == chunk {
            f(&buf)?;
            buf.points.clear();
            buf.outcomes.clear();
        }
    }
    if !buf.points.is_empty() {
        f(&buf)?;
    }
    Ok(())
}
