//! Timing loops: warm-up runs, then repeated samples, each sample long enough for the clock to
//! resolve it (short calls are looped and averaged inside a sample), summarised by the median.
//!
//! Three clocks ([`Clock`]): wall time, and the CPU time of the process or of the calling
//! thread. On a machine shared with other busy processes, wall time counts the time the
//! scheduler gives to others; CPU time does not. Single-threaded measurements therefore use CPU
//! time, and multi-threaded ones wall time (CPU time would add up every thread, spinning
//! included).

use super::stats::Summary;
use std::time::Instant;

/// Which clock a measurement reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Clock {
    /// Monotonic wall time.
    Wall,
    /// CPU time of all threads of this process (`CLOCK_PROCESS_CPUTIME_ID`).
    ProcessCpu,
    /// CPU time of the calling thread (`CLOCK_THREAD_CPUTIME_ID`).
    ThreadCpu,
}

impl Clock {
    /// Seconds since an arbitrary origin fixed per clock (and per thread for `ThreadCpu`).
    /// Falls back to wall time where the CPU-time clocks are unavailable.
    pub fn now(self) -> f64 {
        #[cfg(unix)]
        {
            let id = match self {
                Clock::Wall => None,
                Clock::ProcessCpu => Some(libc::CLOCK_PROCESS_CPUTIME_ID),
                Clock::ThreadCpu => Some(libc::CLOCK_THREAD_CPUTIME_ID),
            };
            if let Some(id) = id {
                let mut ts = libc::timespec {
                    tv_sec: 0,
                    tv_nsec: 0,
                };
                // SAFETY: `ts` is a valid, writable timespec.
                if unsafe { libc::clock_gettime(id, &mut ts) } == 0 {
                    return ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9;
                }
            }
        }
        wall_origin().elapsed().as_secs_f64()
    }

    /// Name for reports.
    pub fn name(self) -> &'static str {
        match self {
            Clock::Wall => "wall time",
            Clock::ProcessCpu => "process CPU time",
            Clock::ThreadCpu => "thread CPU time",
        }
    }
}

fn wall_origin() -> &'static Instant {
    static ORIGIN: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    ORIGIN.get_or_init(Instant::now)
}

/// How to time something.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MeasurePlan {
    /// Untimed runs first (page faults, cache and allocator warm-up, thread-pool start).
    pub warmup: usize,
    /// Timed samples; the reported figure is their median.
    pub repeats: usize,
    /// Shortest duration of one sample, seconds: a call shorter than this is repeated inside
    /// the sample and the sample is the mean per call.
    pub min_sample_s: f64,
    /// The clock read.
    pub clock: Clock,
}

impl MeasurePlan {
    /// For `--quick` runs: 1 warm-up, 3 samples of at least 2 ms.
    pub const QUICK: MeasurePlan = MeasurePlan {
        warmup: 1,
        repeats: 3,
        min_sample_s: 2e-3,
        clock: Clock::Wall,
    };
    /// The default: 2 warm-ups, 7 samples of at least 10 ms.
    pub const STANDARD: MeasurePlan = MeasurePlan {
        warmup: 2,
        repeats: 7,
        min_sample_s: 10e-3,
        clock: Clock::Wall,
    };

    /// The same plan reading another clock.
    pub fn with_clock(self, clock: Clock) -> MeasurePlan {
        MeasurePlan { clock, ..self }
    }
}

/// Times `f`, returning the summary of seconds per call over `plan.repeats` samples.
///
/// The number of calls per sample is chosen from the last warm-up run (at least one warm-up is
/// always done) so that a sample lasts at least `plan.min_sample_s`.
pub fn bench<E>(plan: MeasurePlan, mut f: impl FnMut() -> Result<(), E>) -> Result<Summary, E> {
    let clock = plan.clock;
    let mut last = f64::INFINITY;
    for _ in 0..plan.warmup.max(1) {
        let t = clock.now();
        f()?;
        last = clock.now() - t;
    }
    let inner = if last > 0.0 {
        ((plan.min_sample_s / last).ceil() as usize).clamp(1, 1_000_000)
    } else {
        1_000
    };
    let mut samples = Vec::with_capacity(plan.repeats.max(1));
    for _ in 0..plan.repeats.max(1) {
        let t = clock.now();
        for _ in 0..inner {
            f()?;
        }
        samples.push((clock.now() - t) / inner as f64);
    }
    Ok(Summary::of(&samples).expect("samples are finite and non-empty"))
}

/// The 1-, 5- and 15-minute load averages of the host (`/proc/loadavg`), where available.
/// Printed next to every measurement: on a shared machine they say how much to trust it.
pub fn load_average() -> Option<[f64; 3]> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    let mut it = text.split_whitespace().map(|s| s.parse::<f64>().ok());
    Some([it.next()??, it.next()??, it.next()??])
}

/// `load 1.23 0.98 0.50` or `load n/a`.
pub fn load_average_text() -> String {
    match load_average() {
        Some([a, b, c]) => format!("load {a:.2} {b:.2} {c:.2}"),
        None => "load n/a".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bench_calls_warmup_then_samples() {
        let mut calls = 0usize;
        let plan = MeasurePlan {
            warmup: 2,
            repeats: 3,
            min_sample_s: 0.0,
            clock: Clock::Wall,
        };
        let s = bench::<()>(plan, || {
            calls += 1;
            std::thread::sleep(std::time::Duration::from_millis(1));
            Ok(())
        })
        .unwrap();
        // min_sample_s = 0 → one call per sample: 2 warm-ups + 3 samples
        assert_eq!(calls, 5);
        assert_eq!(s.n, 3);
        assert!(s.min >= 1e-3 && s.min <= s.median && s.median <= s.max);
    }

    #[test]
    fn cpu_clocks_advance_with_work_not_with_sleep() {
        for c in [Clock::ProcessCpu, Clock::ThreadCpu] {
            let t0 = c.now();
            std::thread::sleep(std::time::Duration::from_millis(30));
            let slept = c.now() - t0;
            let t1 = c.now();
            let mut x = 0u64;
            while c.now() - t1 < 0.01 {
                x = std::hint::black_box(x.wrapping_add(1));
            }
            assert!(c.now() - t1 >= 0.01);
            // Sleeping 30 ms costs far less than 30 ms of this thread's CPU time. The process
            // clock also counts the other test threads the harness runs in parallel, so the
            // property is only checked on the thread clock.
            if c == Clock::ThreadCpu {
                assert!(slept < 0.02, "{c:?}: {slept}");
            }
        }
    }

    #[test]
    fn bench_propagates_errors() {
        let r = bench(MeasurePlan::QUICK, || Err::<(), _>("boom"));
        assert_eq!(r, Err("boom"));
    }
}
