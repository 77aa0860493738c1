//! Helpers shared by every test module: the command-line runner, a per-test scratch directory,
//! the locations of the checked-in test data and of the optional reference data in `../shared`,
//! a builder for the small device files the tests write ([`device`]) and the runs of `explore`
//! ([`explore`]).

pub mod device;
pub mod explore;
pub mod gguf;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Once;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Runs the `archscope` binary built with these tests on `args`, without `RUST_BACKTRACE` so
/// that errors read as a user sees them; returns (success, stdout, stderr).
pub fn archscope(args: &[&str]) -> (bool, String, String) {
    archscope_in(Path::new("."), args)
}

/// The words of a command line written as one string, split on white space: for argument lists
/// of plain words (an argument holding a space, such as a path, goes in a list of its own).
pub fn words(line: &str) -> Vec<&str> {
    line.split_whitespace().collect()
}

/// [`archscope`] on the words of `line` followed by each `(option, path)` of `paths`, each path
/// one argument whatever it holds.
pub fn archscope_paths<P: AsRef<Path>>(line: &str, paths: &[(&str, P)]) -> (bool, String, String) {
    let mut args = words(line);
    for (option, path) in paths {
        args.push(option);
        args.push(path.as_ref().to_str().unwrap());
    }
    archscope(&args)
}

/// [`archscope`] run in directory `dir` (for what the binary reads or writes relative to the
/// working directory).
pub fn archscope_in(dir: &Path, args: &[&str]) -> (bool, String, String) {
    archscope_env(dir, args, &[], &[])
}

/// [`archscope_in`] with the environment variables `set` set and `unset` removed.
pub fn archscope_env(
    dir: &Path,
    args: &[&str],
    set: &[(&str, &Path)],
    unset: &[&str],
) -> (bool, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_archscope"));
    cmd.args(args).current_dir(dir).env_remove("RUST_BACKTRACE");
    for (k, v) in set {
        cmd.env(k, v);
    }
    for k in unset {
        cmd.env_remove(k);
    }
    let out = cmd.output().expect("run archscope");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs `calibrate --from` on the project's measurement set for (`hw`, `runtime`) in `dir`, so
/// that the overlay lands in `dir/calibrations/`; returns its stdout.
pub fn calibrate_in(dir: &Path, hw: &str, runtime: &str) -> String {
    let set = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/data/measurements/measurements.csv"
    );
    let (ok, out, err) = archscope_in(
        dir,
        &["calibrate", "--from", set, "--hw", hw, "--runtime", runtime],
    );
    assert!(ok, "{err}");
    out
}

/// A fresh, empty directory under the system temp directory, unique to one test of one run
/// (process id and a counter), removed when dropped. A test that panics keeps it and prints
/// where it is, to look at what the test wrote.
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    /// Creates the directory; `name` says which test it belongs to.
    pub fn new(name: &str) -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("archscope-it-{}-{n}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        TempDir { path }
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A path inside the directory (not created).
    pub fn join(&self, rel: impl AsRef<Path>) -> PathBuf {
        self.path.join(rel)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("test failed; its files are kept in {}", self.path.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

/// The repository root (the package directory).
pub fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A file or directory under the checked-in `tests/data/`.
pub fn data_path(rel: &str) -> PathBuf {
    repo_root().join("tests/data").join(rel)
}

/// The reference data directory `../shared` next to the repository (published artifacts,
/// measurements) when it is there. When it is absent, prints `skipping: ../shared not found`
/// once per run and returns `None`; the tests that need it then return early.
pub fn shared_dir() -> Option<PathBuf> {
    static NOTICE: Once = Once::new();
    let dir = repo_root().join("../shared");
    if dir.is_dir() {
        Some(dir)
    } else {
        NOTICE.call_once(|| eprintln!("skipping: ../shared not found"));
        None
    }
}

/// `rel` inside [`shared_dir`], when the directory and that entry both exist; a missing entry
/// in a present directory prints which one, so a test that skips says why.
pub fn shared_path(rel: &str) -> Option<PathBuf> {
    let p = shared_dir()?.join(rel);
    if p.exists() {
        Some(p)
    } else {
        eprintln!("skipping: {} not found", p.display());
        None
    }
}
