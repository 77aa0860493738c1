//! Running `explore` from the tests: a request's session and results in memory, a report
//! directory written with given output options, and the parts of a sharded run.

use archscope::explore::{self, ExploreRequest, OutputOptions, Results, Session};
use std::path::{Path, PathBuf};

/// Resolves and runs `req` in memory: its session and results.
pub fn run(req: &ExploreRequest) -> (Session, Results) {
    let s = Session::new(req.resolve().unwrap()).unwrap();
    let r = s.run(false).unwrap();
    (s, r)
}

/// Writes the report of `req` to `dir` (`chunk` points at a time when given); returns the path
/// written.
pub fn explore_into(req: &ExploreRequest, dir: &Path, chunk: Option<usize>) -> PathBuf {
    explore::explore(
        req,
        &OutputOptions {
            out: Some(dir.to_path_buf()),
            chunk,
            ..Default::default()
        },
    )
    .unwrap()
    .path
}

/// Writes shards `0/n` to `n-1/n` of `req` under `dir` (`chunk` points at a time when given);
/// returns the part paths, in shard order.
pub fn explore_parts(
    req: &ExploreRequest,
    dir: &Path,
    n: usize,
    chunk: Option<usize>,
) -> Vec<PathBuf> {
    (0..n)
        .map(|i| {
            let mut r = req.clone();
            r.shard = Some(format!("{i}/{n}"));
            explore_into(&r, dir, chunk)
        })
        .collect()
}
