//! Merging shards: [`merge_parts`] reads the parts of a sharded run, checks that they come from
//! one run and cover every shard once, and rebuilds its results; [`merge`] writes the report.

use super::session::{finish, sorted};
use super::{ExploreError, Finished, Results, Session, table};
use std::path::{Path, PathBuf};

/// Reads parts into one session and result set: every part must come from the same run (same
/// spec apart from the shard and command line) and every shard of it must be present once.
pub fn merge_parts(parts: &[PathBuf]) -> Result<(Session, Results), ExploreError> {
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
    let mut points = Vec::new();
    let mut outcomes = Vec::new();
    for (_, frame) in &loaded {
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

/// `archscope merge`: builds the front and the report from shard parts.
pub fn merge(parts: &[PathBuf], out: &Path, force: bool) -> Result<Finished, ExploreError> {
    let (session, results) = merge_parts(parts)?;
    finish(&session, &results, out, force, None)
}
