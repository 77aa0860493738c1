//! The scheduler's state and its step loop (see the module docs of [`crate::serving`]).

use super::{Cost, KvSample, Metrics, Request, Running, SERIES_POINTS, ServeConfig};
use crate::trust::bands::quantile;
use std::collections::VecDeque;

/// The scheduler's state.
pub(super) struct Sim {
    config: ServeConfig,
    arrivals: Vec<f64>,
    need: Vec<f64>,
    kv_budget: f64,
    takes: Vec<u64>,
    t: f64,
    next: usize,
    waiting: VecDeque<usize>,
    pub(super) running: Vec<Running>,
    reserved: f64,
    first: Vec<f64>,
    finish: Vec<f64>,
    steps: u64,
    step_tokens: u64,
    energy: f64,
    in_system_integral: f64,
    kv_peak: f64,
    pub(super) series: Vec<KvSample>,
    interval: f64,
    next_sample: f64,
}

impl Sim {
    pub(super) fn new(
        requests: &[Request],
        need: Vec<f64>,
        kv_budget: f64,
        config: ServeConfig,
    ) -> Sim {
        let last = requests.last().map_or(0.0, |r| r.arrival_s);
        Sim {
            config,
            arrivals: requests.iter().map(|r| r.arrival_s).collect(),
            need,
            kv_budget,
            takes: Vec::new(),
            t: 0.0,
            next: 0,
            waiting: VecDeque::new(),
            running: Vec::new(),
            reserved: 0.0,
            first: vec![f64::NAN; requests.len()],
            finish: vec![f64::NAN; requests.len()],
            steps: 0,
            step_tokens: 0,
            energy: 0.0,
            in_system_integral: 0.0,
            kv_peak: 0.0,
            series: Vec::new(),
            interval: (last / SERIES_POINTS as f64).max(1e-9),
            next_sample: 0.0,
        }
    }

    /// Takes in arrivals, admits, and jumps over idle time; false when every request is done.
    pub(super) fn advance(&mut self) -> bool {
        loop {
            while self.next < self.arrivals.len() && self.arrivals[self.next] <= self.t {
                self.waiting.push_back(self.next);
                self.next += 1;
            }
            while let Some(&i) = self.waiting.front() {
                if self.running.len() as u64 >= self.config.max_batch
                    || self.reserved + self.need[i] > self.kv_budget
                {
                    break;
                }
                self.reserved += self.need[i];
                self.kv_peak = self.kv_peak.max(self.reserved);
                self.running.push(Running {
                    index: i,
                    prefilled: 0,
                    generated: 0,
                    reserved: self.need[i],
                });
                self.waiting.pop_front();
            }
            if !self.running.is_empty() {
                return true;
            }
            if self.next >= self.arrivals.len() {
                return false;
            }
            // Idle: nothing runs, and (every request fitting alone) nothing waits.
            self.t = self.t.max(self.arrivals[self.next]);
        }
    }

    /// The step's work: decodes, the sum of their contexts after this step, prompt chunks as
    /// `(tokens, cache after the chunk)`, and how many chunks end their prompt. Decodes go
    /// first; the rest of the token budget goes to prompts in admission order.
    pub(super) fn compose(&mut self, requests: &[Request]) -> (u64, u64, Vec<(u64, u64)>, u64) {
        let (mut decodes, mut context_sum) = (0u64, 0u64);
        for r in &self.running {
            let q = &requests[r.index];
            if r.prefilled == q.prompt {
                decodes += 1;
                context_sum += q.prompt + r.generated;
            }
        }
        let mut budget = self.config.chunk.saturating_sub(decodes);
        let (mut chunks, mut finishing) = (Vec::new(), 0);
        self.takes.clear();
        for r in &self.running {
            let q = &requests[r.index];
            let take = (q.prompt - r.prefilled).min(budget);
            self.takes.push(take);
            if take > 0 {
                budget -= take;
                chunks.push((take, r.prefilled + take));
                if r.prefilled + take == q.prompt {
                    finishing += 1;
                }
            }
        }
        (decodes, context_sum, chunks, finishing)
    }

    /// Advances time by the step and applies its tokens; finished requests free their KV.
    pub(super) fn finish_step(&mut self, requests: &[Request], cost: Cost, decodes: u64) {
        let dt = cost.latency_s;
        self.in_system_integral += (self.running.len() + self.waiting.len()) as f64 * dt;
        self.t += dt;
        self.energy += cost.energy_j;
        self.steps += 1;
        self.step_tokens += decodes + self.takes.iter().sum::<u64>();
        let t = self.t;
        for (r, &take) in self.running.iter_mut().zip(&self.takes) {
            let q = &requests[r.index];
            if take > 0 {
                r.prefilled += take;
                if r.prefilled == q.prompt {
                    self.first[r.index] = t;
                    r.generated = 1;
                }
            } else if r.prefilled == q.prompt {
                r.generated += 1;
            }
        }
        let (finish, reserved) = (&mut self.finish, &mut self.reserved);
        self.running.retain(|r| {
            let done = r.generated >= requests[r.index].output;
            if done {
                finish[r.index] = t;
                *reserved -= r.reserved;
            }
            !done
        });
    }

    /// Whether the series wants a point now.
    pub(super) fn sample_due(&self) -> bool {
        self.t >= self.next_sample
    }

    /// Records a point of the series with `used` KV bytes; halves the series when it grows
    /// past twice [`SERIES_POINTS`].
    pub(super) fn sample(&mut self, used: f64) {
        self.series.push(KvSample {
            t_s: self.t,
            kv_used_bytes: used,
            kv_reserved_bytes: self.reserved.max(0.0),
            running: self.running.len() as u64,
            waiting: self.waiting.len() as u64,
        });
        if self.series.len() > 2 * SERIES_POINTS {
            let kept: Vec<KvSample> = self.series.iter().step_by(2).copied().collect();
            self.series = kept;
            self.interval *= 2.0;
        }
        self.next_sample = ((self.t / self.interval).floor() + 1.0) * self.interval;
    }

    /// The metrics of the finished run.
    pub(super) fn metrics(&self, requests: &[Request]) -> Metrics {
        let n = requests.len();
        let mut ttft: Vec<f64> = (0..n)
            .map(|i| self.first[i] - requests[i].arrival_s)
            .collect();
        let mut e2e: Vec<f64> = (0..n)
            .map(|i| self.finish[i] - requests[i].arrival_s)
            .collect();
        let mut tpot: Vec<f64> = (0..n)
            .filter(|&i| requests[i].output > 1)
            .map(|i| (self.finish[i] - self.first[i]) / (requests[i].output - 1) as f64)
            .collect();
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
        let duration = self.finish.iter().copied().fold(0.0, f64::max);
        let out_tokens: u64 = requests.iter().map(|r| r.output).sum();
        let all_tokens: u64 = out_tokens + requests.iter().map(|r| r.prompt).sum::<u64>();
        let (ttft_mean, e2e_mean) = (mean(&ttft), mean(&e2e));
        Metrics {
            requests: n as u64,
            duration_s: duration,
            ttft_p50_s: quantile(&mut ttft, 0.5),
            ttft_p99_s: quantile(&mut ttft, 0.99),
            ttft_mean_s: ttft_mean,
            tpot_p50_s: quantile(&mut tpot, 0.5),
            tpot_p99_s: quantile(&mut tpot, 0.99),
            e2e_mean_s: e2e_mean,
            e2e_p99_s: quantile(&mut e2e, 0.99),
            requests_per_s: n as f64 / duration,
            output_tokens_per_s: out_tokens as f64 / duration,
            tokens_per_s: all_tokens as f64 / duration,
            steps: self.steps,
            mean_step_tokens: self.step_tokens as f64 / self.steps.max(1) as f64,
            mean_in_system: self.in_system_integral / duration,
            kv_peak_bytes: self.kv_peak,
            j_per_output_token: self.energy / out_tokens as f64,
        }
    }
}
