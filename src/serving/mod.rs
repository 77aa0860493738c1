//! Serving an LLM: requests arrive, a continuous-batching scheduler runs them in steps, and the
//! simulation reports time to first token (TTFT), time per output token (TPOT), throughput and
//! KV-cache memory over time.
//!
//! The scheduler is iteration-level (Orca, OSDI 2022) with chunked prefill (Sarathi-Serve,
//! OSDI 2024), as vLLM runs it. Each step, first come first served:
//!
//! 1. arrivals up to the step's start join the waiting queue;
//! 2. the head of the queue is admitted while fewer than `max_batch` requests run and its KV
//!    cache fits: admission reserves the KV of its whole final context (prompt + output), so an
//!    admitted request never runs out of memory and nothing is preempted. The KV budget is the
//!    unit's memory less the weights and the activation peak of the largest step;
//! 3. every running request past its prompt decodes one token; the step's token budget
//!    (`chunk`) less those decodes goes to prompt chunks, in admission order;
//! 4. the step is priced by [`cost::StepCosts`] and time advances by its latency.
//!
//! A request's first token comes out of the step that ends its prompt (TTFT = that step's end −
//! arrival); each later token takes one step, so TPOT = (finish − first token) / (output − 1).
//! Throughput counts completed requests and tokens over the time from 0 to the last finish.
//! When nothing runs, time jumps to the next arrival.

pub mod cost;
pub mod report;
mod sim;
pub mod workload;

pub use cost::{Cost, StepCosts, StepError};
pub use workload::{Lengths, Request, WorkloadError, poisson, read_trace};

use crate::hardware::Hardware;
use crate::score::{ScoreError, ScoreRequest, footprint};
use crate::workload::{LlmConfig, Phase, QuantScheme};
use sim::Sim;

/// Points of the KV series before it is thinned (halved) to stay near [`SERIES_POINTS`].
pub const SERIES_POINTS: usize = 200;

/// The scheduler's limits.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ServeConfig {
    /// Most requests running at once (vLLM's `max_num_seqs`).
    pub max_batch: u64,
    /// Tokens per step, decodes and prompt chunks together (vLLM's
    /// `max_num_batched_tokens` with chunked prefill).
    pub chunk: u64,
}

/// Why a serving run cannot be simulated.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// Limits out of range.
    #[error("{0}")]
    Config(String),
    /// The weights leave no room for a KV cache.
    #[error(
        "no room for a KV cache: the weights ({weights:.2} GB) and the activation peak ({act:.2} GB) fill the {capacity:.2} GB of {level}; expected a smaller model, a lower-precision --quant or a device with more memory"
    )]
    NoKvRoom {
        /// Weight bytes / 1e9.
        weights: f64,
        /// Activation bytes / 1e9.
        act: f64,
        /// Capacity / 1e9.
        capacity: f64,
        /// The memory level.
        level: String,
    },
    /// One request alone cannot fit.
    #[error(
        "request {index} (prompt {prompt} + output {output} tokens) needs {need:.3} GB of KV cache but only {budget:.3} GB are free after the weights; expected shorter requests or a device with more memory"
    )]
    RequestTooLarge {
        /// 0-based request index (in arrival order).
        index: usize,
        /// Prompt tokens.
        prompt: u64,
        /// Output tokens.
        output: u64,
        /// Its KV bytes / 1e9.
        need: f64,
        /// The KV budget / 1e9.
        budget: f64,
    },
    /// No rate meets the targets.
    #[error(
        "no arrival rate meets the targets: even at {rate:.4} requests/s, TTFT p99 is {ttft:.4} s and TPOT p99 {tpot:.5} s"
    )]
    Unreachable {
        /// The lowest rate tried.
        rate: f64,
        /// Its TTFT p99.
        ttft: f64,
        /// Its TPOT p99.
        tpot: f64,
    },
    /// No targets were given.
    #[error("--find-max-rate needs a target: --ttft-p99 and/or --tpot-p99 (seconds)")]
    NoTargets,
    /// A step could not be priced.
    #[error(transparent)]
    Step(#[from] StepError),
    /// The unit or runtime is invalid.
    #[error(transparent)]
    Score(#[from] ScoreError),
    /// The workload is invalid.
    #[error(transparent)]
    Workload(#[from] WorkloadError),
}

/// The unit's memory as the simulation divides it.
#[derive(Clone, Debug, serde::Serialize)]
pub struct MemoryPlan {
    /// The level that holds weights and KV.
    pub level: String,
    /// Its usable capacity.
    pub capacity_bytes: f64,
    /// The weights.
    pub weights_bytes: f64,
    /// Activation peak of the largest step (batch `max_batch + chunk` tokens).
    pub activation_bytes: f64,
    /// What is left for KV caches.
    pub kv_budget_bytes: f64,
}

/// One point of the memory series.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct KvSample {
    /// Time, seconds.
    pub t_s: f64,
    /// KV bytes written so far by the running requests.
    pub kv_used_bytes: f64,
    /// KV bytes reserved by admission.
    pub kv_reserved_bytes: f64,
    /// Requests running.
    pub running: u64,
    /// Requests waiting.
    pub waiting: u64,
}

/// What a run measured.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Metrics {
    /// Requests completed.
    pub requests: u64,
    /// From 0 to the last finish, seconds.
    pub duration_s: f64,
    /// Median TTFT, seconds.
    pub ttft_p50_s: f64,
    /// 99th percentile TTFT, seconds.
    pub ttft_p99_s: f64,
    /// Mean TTFT, seconds.
    pub ttft_mean_s: f64,
    /// Median TPOT over requests with more than one output token, seconds.
    pub tpot_p50_s: f64,
    /// 99th percentile TPOT, seconds.
    pub tpot_p99_s: f64,
    /// Mean end-to-end latency (arrival to last token), seconds.
    pub e2e_mean_s: f64,
    /// 99th percentile end-to-end latency, seconds.
    pub e2e_p99_s: f64,
    /// Completed requests per second.
    pub requests_per_s: f64,
    /// Output tokens per second.
    pub output_tokens_per_s: f64,
    /// Prompt and output tokens per second.
    pub tokens_per_s: f64,
    /// Steps run.
    pub steps: u64,
    /// Mean tokens per step.
    pub mean_step_tokens: f64,
    /// Time-averaged requests in the system (running and waiting, counted at step starts).
    pub mean_in_system: f64,
    /// Peak KV bytes reserved.
    pub kv_peak_bytes: f64,
    /// Energy of the steps per output token, joules (idle time not counted).
    pub j_per_output_token: f64,
}

/// A model served on one unit.
pub struct Server<'a> {
    costs: StepCosts<'a>,
    model: &'a LlmConfig,
    /// The scheduler's limits.
    pub config: ServeConfig,
    /// The memory plan.
    pub memory: MemoryPlan,
}

/// One running request.
pub(crate) struct Running {
    index: usize,
    prefilled: u64,
    generated: u64,
    reserved: f64,
}

impl<'a> Server<'a> {
    /// Checks the limits and the runtime, and plans the unit's memory.
    pub fn new(
        hw: &'a Hardware,
        model: &'a LlmConfig,
        quant: &QuantScheme,
        req: &'a ScoreRequest,
        config: ServeConfig,
    ) -> Result<Self, ServeError> {
        if config.max_batch == 0 || config.chunk == 0 {
            return Err(ServeError::Config(format!(
                "--max-batch {} and --chunk {}: expected at least 1 request and 1 token per step",
                config.max_batch, config.chunk
            )));
        }
        let unit = crate::score::llm_unit(hw, quant, req)?;
        let costs = StepCosts::new(hw, unit, req, model, quant);
        let g = model
            .try_build(
                costs.quant(),
                Phase::Decode { context: 1 },
                config.max_batch + config.chunk,
            )
            .map_err(StepError::from)?;
        let f = footprint(hw, unit, &[&g]);
        let kv_budget = f.capacity_bytes - f.weights_bytes - f.activation_peak_bytes;
        if kv_budget <= 0.0 {
            return Err(ServeError::NoKvRoom {
                weights: f.weights_bytes / 1e9,
                act: f.activation_peak_bytes / 1e9,
                capacity: f.capacity_bytes / 1e9,
                level: f.level,
            });
        }
        Ok(Server {
            costs,
            model,
            config,
            memory: MemoryPlan {
                level: f.level,
                capacity_bytes: f.capacity_bytes,
                weights_bytes: f.weights_bytes,
                activation_bytes: f.activation_peak_bytes,
                kv_budget_bytes: kv_budget,
            },
        })
    }

    /// Graphs priced so far (the cache's size).
    pub fn graphs_priced(&self) -> usize {
        self.costs.priced
    }

    /// KV bytes of one sequence of `len` positions.
    pub fn kv_bytes(&self, len: u64) -> f64 {
        self.model.kv_cache_bytes(self.costs.quant(), 1, len)
    }

    /// Simulates `requests` (sorted by arrival) and returns the metrics and the KV series.
    pub fn run(&mut self, requests: &[Request]) -> Result<(Metrics, Vec<KvSample>), ServeError> {
        let need: Vec<f64> = requests
            .iter()
            .map(|r| self.kv_bytes(r.prompt + r.output))
            .collect();
        if let Some((index, r)) = requests
            .iter()
            .enumerate()
            .find(|(i, _)| need[*i] > self.memory.kv_budget_bytes)
        {
            return Err(ServeError::RequestTooLarge {
                index,
                prompt: r.prompt,
                output: r.output,
                need: need[index] / 1e9,
                budget: self.memory.kv_budget_bytes / 1e9,
            });
        }
        let mut sim = Sim::new(requests, need, self.memory.kv_budget_bytes, self.config);
        while sim.advance() {
            let (decodes, context_sum, chunks, finishing) = sim.compose(requests);
            let cost = self.costs.step(decodes, context_sum, &chunks, finishing)?;
            sim.finish_step(requests, cost, decodes);
            if sim.sample_due() {
                let used = sim
                    .running
                    .iter()
                    .map(|r| {
                        let q = &requests[r.index];
                        self.kv_bytes(r.prefilled + r.generated.saturating_sub(1).min(q.output))
                    })
                    .sum();
                sim.sample(used);
            }
        }
        Ok((sim.metrics(requests), sim.series))
    }
}

/// Latency targets for [`max_rate`].
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize)]
pub struct Targets {
    /// Most TTFT p99, seconds.
    pub ttft_p99_s: Option<f64>,
    /// Most TPOT p99, seconds.
    pub tpot_p99_s: Option<f64>,
}

impl Targets {
    /// Whether `m` meets every target given.
    pub fn met(&self, m: &Metrics) -> bool {
        self.ttft_p99_s.is_none_or(|t| m.ttft_p99_s <= t)
            && self
                .tpot_p99_s
                .is_none_or(|t| m.tpot_p99_s.is_nan() || m.tpot_p99_s <= t)
    }
}

/// One rate tried by [`max_rate`].
#[derive(Clone, Debug, serde::Serialize)]
pub struct RateTry {
    /// Requests per second.
    pub rate: f64,
    /// TTFT p99 at it.
    pub ttft_p99_s: f64,
    /// TPOT p99 at it.
    pub tpot_p99_s: f64,
    /// Whether it met the targets.
    pub met: bool,
}

/// Relative width at which the bisection of [`max_rate`] stops: 1 %.
pub const RATE_TOLERANCE: f64 = 0.01;
/// Most doublings or halvings [`max_rate`] takes to bracket the answer (a factor 2^40).
pub const MAX_BRACKET_STEPS: u32 = 40;

/// The highest arrival rate whose run meets `targets`: from `start` requests/s, doubles (or
/// halves) until the targets flip, then bisects to [`RATE_TOLERANCE`]. `run` simulates one rate
/// (same seed and requests, so the search sees one workload spaced differently). Latency grows
/// with the rate in expectation but a finite run is noisy, so the answer is a rate that met
/// the targets next to one that did not. Returns the rate, its run and every rate tried.
pub fn max_rate(
    mut run: impl FnMut(f64) -> Result<(Metrics, Vec<KvSample>), ServeError>,
    targets: Targets,
    start: f64,
) -> Result<(f64, Metrics, Vec<KvSample>, Vec<RateTry>), ServeError> {
    if targets.ttft_p99_s.is_none() && targets.tpot_p99_s.is_none() {
        return Err(ServeError::NoTargets);
    }
    let mut tried = Vec::new();
    let mut go = |rate: f64, tried: &mut Vec<RateTry>| -> Result<_, ServeError> {
        let (m, s) = run(rate)?;
        let met = targets.met(&m);
        tried.push(RateTry {
            rate,
            ttft_p99_s: m.ttft_p99_s,
            tpot_p99_s: m.tpot_p99_s,
            met,
        });
        Ok((met, m, s))
    };
    let mut rate = start;
    let (met, m, s) = go(rate, &mut tried)?;
    let (mut good, mut bad) = (None, None);
    if met {
        good = Some((rate, m, s));
    } else {
        bad = Some(rate);
    }
    for _ in 0..MAX_BRACKET_STEPS {
        if good.is_some() && bad.is_some() {
            break;
        }
        rate = if good.is_some() {
            rate * 2.0
        } else {
            rate / 2.0
        };
        let (met, m, s) = go(rate, &mut tried)?;
        if met {
            good = Some((rate, m, s));
        } else {
            bad = Some(rate);
        }
    }
    let Some((mut lo, mut lo_m, mut lo_s)) = good else {
        let last = tried.last().expect("tried at least once");
        return Err(ServeError::Unreachable {
            rate: last.rate,
            ttft: last.ttft_p99_s,
            tpot: last.tpot_p99_s,
        });
    };
    let Some(mut hi) = bad else {
        return Ok((lo, lo_m, lo_s, tried));
    };
    while (hi - lo) / lo > RATE_TOLERANCE {
        let mid = (lo + hi) / 2.0;
        let (met, m, s) = go(mid, &mut tried)?;
        if met {
            (lo, lo_m, lo_s) = (mid, m, s);
        } else {
            hi = mid;
        }
    }
    Ok((lo, lo_m, lo_s, tried))
}
