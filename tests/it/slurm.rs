//! The Slurm recipe on a real Slurm: `scripts/slurm/test-local.sh` starts a single-node Slurm
//! (munged, slurmctld and slurmd on localhost, no cgroups), submits
//! `scripts/slurm/explore-array.sbatch` as a 4-task job array and its `afterok` merge job, and
//! runs the same sweep in one process. The merged tables must equal the single process's byte
//! for byte, merge jobs over a missing, a duplicated and a foreign part must fail with a log
//! that names the file, and a failing shard must cancel its merge job. Skips with a notice where
//! Slurm or munge is not installed or the cluster cannot start, unless
//! `ARCHSCOPE_REQUIRE_SLURM=1` (CI sets it after installing them).

use crate::common::{TempDir, repo_root};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Longest the script may take: its own waits for jobs are limited to 600 s each.
const SCRIPT_LIMIT: Duration = Duration::from_secs(1500);

/// Exit status of the script when Slurm is missing or cannot start.
const SKIP: i32 = 77;

/// Runs `test-local.sh` into `work`, with its output in `work/test-local.log`; ends it (SIGTERM,
/// so that it stops its daemons; then SIGKILL) if it runs past [`SCRIPT_LIMIT`].
fn run_script(work: &Path) -> (Option<i32>, String) {
    let log_path = work.join("test-local.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let mut child = Command::new("bash")
        .arg(repo_root().join("scripts/slurm/test-local.sh"))
        .arg(env!("CARGO_BIN_EXE_archscope"))
        .arg(work.join("work"))
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("run bash");
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break Some(s);
        }
        if start.elapsed() > SCRIPT_LIMIT {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            let grace = Instant::now();
            while grace.elapsed() < Duration::from_secs(60) {
                if child.try_wait().unwrap().is_some() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(200));
            }
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let text = std::fs::read_to_string(&log_path).unwrap_or_default();
    (status.and_then(|s| s.code()), text)
}

#[test]
fn sharded_explore_on_a_local_slurm_equals_one_process() {
    let tmp = TempDir::new("slurm");
    let (code, log) = run_script(tmp.path());
    if code == Some(SKIP) {
        let required = std::env::var("ARCHSCOPE_REQUIRE_SLURM").is_ok_and(|v| v == "1");
        assert!(
            !required,
            "ARCHSCOPE_REQUIRE_SLURM=1 but the local Slurm could not start:\n{log}"
        );
        eprintln!(
            "NOTICE: skipping the Slurm test: {} (`bash scripts/bootstrap.sh --slurm` installs Slurm; the test runs as root)",
            log.lines().last().unwrap_or("Slurm unavailable")
        );
        return;
    }
    assert_eq!(code, Some(0), "test-local.sh failed or timed out:\n{log}");
    let work = tmp.join("work");
    let figures = std::fs::read_to_string(work.join("figures.txt")).unwrap();
    eprintln!("Slurm run figures:\n{figures}");
    // 4 array tasks and the merge job, each COMPLETED.
    let jobs: Vec<&str> = figures.lines().filter(|l| l.starts_with("job ")).collect();
    assert_eq!(jobs.len(), 5, "{figures}");
    assert!(jobs.iter().all(|j| j.ends_with(" COMPLETED")), "{figures}");
    let tasks: Vec<&str> = jobs.iter().filter_map(|j| j.split(' ').nth(2)).collect();
    for i in 0..4 {
        assert!(
            tasks.iter().any(|t| t.ends_with(&format!("_{i}"))),
            "array task {i} missing: {figures}"
        );
    }
    // The merged tables are the single process's, byte for byte (as the in-process shard tests
    // compare them; summary.txt too, which names no path or time).
    let (whole, merged) = (work.join("whole"), work.join("run/report"));
    for f in ["points.csv", "front.csv", "summary.txt"] {
        let a = std::fs::read(whole.join(f)).unwrap();
        let b = std::fs::read(merged.join(f)).unwrap();
        assert!(a == b, "{f} merged by Slurm differs from the single run");
    }
    // 32 bandwidths × 11 quantizations (the 7 generic schemes, q8_0, q4_0, q4_k_m, q4f16_1) ×
    // 9 prefill × 9 decode units (cpu-big, cpu-mid@1, @2, cpu-mid, cpu-little@1, @2,
    // cpu-little, gpu, tpu) × 5 contexts.
    let points = std::fs::read_to_string(whole.join("points.csv"))
        .unwrap()
        .lines()
        .count()
        - 1;
    assert_eq!(points, 32 * 11 * 9 * 9 * 5);
    assert!(figures.contains(&format!("points {points}\n")), "{figures}");
    bad_parts_fail_their_merge_job(&work);
    a_failing_shard_cancels_the_merge(&work);
}

/// The text of the Slurm logs in `dir/logs`.
fn logs(dir: &Path) -> String {
    std::fs::read_dir(dir.join("logs"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect()
}

/// Bad parts under Slurm: the merge job fails, writes no report, and its log names the file.
fn bad_parts_fail_their_merge_job(work: &Path) {
    let parts = |bad: &str| work.join(format!("bad-{bad}/parts"));
    for (bad, want) in [
        (
            "missing",
            format!(
                "{}: No such file",
                parts("missing").join("part-2-of-4.parquet").display()
            ),
        ),
        (
            "duplicate",
            format!(
                "shard 0/4 given twice: {} and {}",
                parts("duplicate").join("part-0-of-4.parquet").display(),
                parts("duplicate").join("part-1-of-4.parquet").display()
            ),
        ),
        (
            "foreign",
            format!(
                "{} comes from a different run than {}",
                parts("foreign").join("part-1-of-4.parquet").display(),
                parts("foreign").join("part-0-of-4.parquet").display()
            ),
        ),
    ] {
        let dir = work.join(format!("bad-{bad}"));
        let state = std::fs::read_to_string(dir.join("state")).unwrap();
        assert_eq!(state.trim(), "FAILED", "the merge over a {bad} part");
        let logs = logs(&dir);
        assert!(logs.contains(&want), "{bad}: want `{want}` in\n{logs}");
        assert!(!dir.join("report").exists(), "{bad}: no report is written");
    }
}

/// A run whose shards fail (a --sweep explore rejects): both array tasks FAILED, and the merge
/// job, whose afterok can never be met, CANCELLED instead of pending for ever.
fn a_failing_shard_cancels_the_merge(work: &Path) {
    let failing = std::fs::read_to_string(work.join("failing/states")).unwrap();
    let ends = |state: &str| failing.lines().filter(|l| l.ends_with(state)).count();
    assert_eq!(
        (ends(" FAILED"), ends(" CANCELLED"), failing.lines().count()),
        (2, 1, 3),
        "{failing}"
    );
    assert!(!work.join("failing/report").exists());
    let shard_log = logs(&work.join("failing"));
    assert!(shard_log.contains("bad --sweep `nonsense`"), "{shard_log}");
}
