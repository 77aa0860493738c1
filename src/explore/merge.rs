//! Merging shards: [`merge_parts`] reads the parts of a sharded run, checks that they come from
//! one run and cover every shard once, and rebuilds its results; [`merge`] writes the report,
//! streaming the points of the parts in id order (the parts' tables stay in memory, columnar,
//! but their points are converted a chunk at a time).

use super::session::{CHUNK, finish_stream, sorted};
use super::{ExploreError, Finished, Outcome, Results, Session, table};
use crate::search::Point;
use polars::prelude::DataFrame;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::path::{Path, PathBuf};

/// Reads parts into one session and result set: every part must come from the same run (same
/// spec apart from the shard and command line) and every shard of it must be present once.
pub fn merge_parts(parts: &[PathBuf]) -> Result<(Session, Results), ExploreError> {
    let (session, frames) = load_parts(parts)?;
    let mut points = Vec::new();
    let mut outcomes = Vec::new();
    for frame in &frames {
        let (p, o) = table::outcomes_from_part(&session, frame)?;
        points.extend(p);
        outcomes.extend(o);
    }
    let results = sorted(points, outcomes);
    if results.points.windows(2).any(|w| w[0].id == w[1].id) {
        return Err(ExploreError::Merge("a point appears in two parts".into()));
    }
    Ok((session, results))
}

/// Reads and checks parts: the session of their run and each part's table.
fn load_parts(parts: &[PathBuf]) -> Result<(Session, Vec<DataFrame>), ExploreError> {
    if parts.is_empty() {
        return Err(ExploreError::Merge("no parts given".into()));
    }
    let mut loaded = Vec::new();
    for p in parts {
        loaded.push(table::read_part(p)?);
    }
    let first = loaded[0].0.clone();
    let count = first.shard.count;
    let mut seen = vec![None::<&Path>; count as usize];
    for ((spec, _), path) in loaded.iter().zip(parts) {
        if spec.run_identity() != first.run_identity() {
            return Err(ExploreError::Merge(format!(
                "{} comes from a different run than {} (device, model, space, search, objectives or limits differ)",
                path.display(),
                parts[0].display()
            )));
        }
        if spec.shard.count != count {
            return Err(ExploreError::Merge(format!(
                "{} is shard {}/{}, but {} is one of {count}",
                path.display(),
                spec.shard.index,
                spec.shard.count,
                parts[0].display()
            )));
        }
        if let Some(other) = seen[spec.shard.index as usize] {
            return Err(ExploreError::Merge(format!(
                "shard {}/{count} given twice: {} and {}",
                spec.shard.index,
                other.display(),
                path.display()
            )));
        }
        seen[spec.shard.index as usize] = Some(path);
    }
    let missing: Vec<String> = seen
        .iter()
        .enumerate()
        .filter(|(_, s)| s.is_none())
        .map(|(i, _)| format!("{i}/{count}"))
        .collect();
    if !missing.is_empty() {
        return Err(ExploreError::Merge(format!(
            "missing shard(s) {}",
            missing.join(", ")
        )));
    }
    let mut spec = first.run_identity();
    spec.command = first.command.clone();
    let session = Session::new(spec)?;
    Ok((session, loaded.into_iter().map(|(_, df)| df).collect()))
}

/// One part's rows not yet merged: the table and a converted window of it.
struct Cursor {
    df: DataFrame,
    next_row: usize,
    ready: VecDeque<(Point, Outcome)>,
}

impl Cursor {
    /// The next point id, converting the next window of rows when the last is used up.
    fn peek(&mut self, session: &Session) -> Result<Option<u64>, ExploreError> {
        if self.ready.is_empty() && self.next_row < self.df.height() {
            let rows = self.df.slice(self.next_row as i64, CHUNK);
            self.next_row += rows.height();
            let (p, o) = table::outcomes_from_part(session, &rows)?;
            self.ready.extend(p.into_iter().zip(o));
        }
        Ok(self.ready.front().map(|(p, _)| p.id))
    }
}

/// Hands the points of the parts to `sink` in ascending id, `CHUNK` at a time (a part holds its
/// points in ascending id; shards interleave, so the parts are merged by id).
fn feed_parts(
    session: &Session,
    frames: Vec<DataFrame>,
    sink: &mut dyn FnMut(Results) -> Result<(), ExploreError>,
) -> Result<(), ExploreError> {
    let mut cursors: Vec<Cursor> = frames
        .into_iter()
        .map(|df| Cursor {
            df,
            next_row: 0,
            ready: VecDeque::new(),
        })
        .collect();
    let mut heap = BinaryHeap::new();
    for (i, c) in cursors.iter_mut().enumerate() {
        if let Some(id) = c.peek(session)? {
            heap.push(Reverse((id, i)));
        }
    }
    let mut out = Results {
        points: Vec::with_capacity(CHUNK),
        outcomes: Vec::with_capacity(CHUNK),
    };
    let mut last: Option<u64> = None;
    while let Some(Reverse((id, i))) = heap.pop() {
        let (p, o) = cursors[i].ready.pop_front().expect("peeked");
        if last.is_some_and(|l| id <= l) {
            return Err(ExploreError::Merge(if last == Some(id) {
                "a point appears in two parts".into()
            } else {
                format!("part rows are not in ascending point id (point {id})")
            }));
        }
        last = Some(id);
        out.points.push(p);
        out.outcomes.push(o);
        if let Some(next) = cursors[i].peek(session)? {
            heap.push(Reverse((next, i)));
        }
        if out.points.len() == CHUNK {
            sink(std::mem::replace(
                &mut out,
                Results {
                    points: Vec::with_capacity(CHUNK),
                    outcomes: Vec::with_capacity(CHUNK),
                },
            ))?;
        }
    }
    if !out.points.is_empty() {
        sink(out)?;
    }
    Ok(())
}

/// `archscope merge`: builds the front and the report from shard parts.
pub fn merge(parts: &[PathBuf], out: &Path, force: bool) -> Result<Finished, ExploreError> {
    let (session, frames) = load_parts(parts)?;
    let mut frames = Some(frames);
    finish_stream(&session, out, force, CHUNK, false, &mut |sink| {
        feed_parts(&session, frames.take().unwrap_or_default(), sink)
    })
}
