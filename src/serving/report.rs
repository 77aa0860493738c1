//! Printing a serving run ([`ServeReport`]): the table and the JSON behind
//! [`crate::render::Render`].

use super::{KvSample, MemoryPlan, Metrics, RateTry, ServeConfig, Targets};
use crate::render::Render;
use std::fmt::Write as _;

/// Points of the KV series the table shows.
pub const TABLE_POINTS: usize = 8;

/// A serving run with what it ran on.
#[derive(Clone, Debug)]
pub struct ServeReport {
    /// Device.
    pub hardware: String,
    /// Unit.
    pub unit: String,
    /// Model.
    pub model: String,
    /// Quantization.
    pub quant: String,
    /// Runtime.
    pub runtime: String,
    /// The scheduler's limits.
    pub config: ServeConfig,
    /// The workload in words (`Poisson 5 req/s, 2000 requests, prompt 512, output 128, seed 0`).
    pub workload: String,
    /// The Poisson rate, when the workload has one.
    pub rate: Option<f64>,
    /// The memory plan.
    pub memory: MemoryPlan,
    /// The metrics.
    pub metrics: Metrics,
    /// KV memory over time.
    pub series: Vec<KvSample>,
    /// Graphs priced for the run (the step-cost cache).
    pub graphs_priced: usize,
    /// With `--find-max-rate`: the targets and every rate tried.
    pub search: Option<(Targets, Vec<RateTry>)>,
}

impl Render for ServeReport {
    fn what(&self) -> &'static str {
        "serve"
    }

    fn table(&self) -> String {
        let mut s = String::new();
        let m = &self.metrics;
        let _ = writeln!(
            s,
            "{} on {} / {}, quant {}, runtime {}",
            self.model, self.hardware, self.unit, self.quant, self.runtime
        );
        let _ = writeln!(
            s,
            "continuous batching: max batch {}, {} tokens per step (chunked prefill); {}",
            self.config.max_batch, self.config.chunk, self.workload
        );
        if let Some((t, tried)) = &self.search {
            let fmt = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v} s"));
            let _ = writeln!(
                s,
                "max rate meeting TTFT p99 ≤ {} and TPOT p99 ≤ {}: {:.3} requests/s ({} rates tried)",
                fmt(t.ttft_p99_s),
                fmt(t.tpot_p99_s),
                self.rate.unwrap_or(f64::NAN),
                tried.len()
            );
        }
        let ms = |x: f64| x * 1e3;
        let _ = writeln!(
            s,
            "TTFT   p50 {:>10.2} ms   p99 {:>10.2} ms   mean {:>10.2} ms",
            ms(m.ttft_p50_s),
            ms(m.ttft_p99_s),
            ms(m.ttft_mean_s)
        );
        let _ = writeln!(
            s,
            "TPOT   p50 {:>10.2} ms   p99 {:>10.2} ms",
            ms(m.tpot_p50_s),
            ms(m.tpot_p99_s)
        );
        let _ = writeln!(
            s,
            "E2E   mean {:>10.2} ms   p99 {:>10.2} ms",
            ms(m.e2e_mean_s),
            ms(m.e2e_p99_s)
        );
        let _ = writeln!(
            s,
            "throughput: {:.3} requests/s, {:.1} output tokens/s, {:.1} tokens/s over {:.2} s",
            m.requests_per_s, m.output_tokens_per_s, m.tokens_per_s, m.duration_s
        );
        let _ = writeln!(
            s,
            "{} steps, {:.1} tokens per step, {:.2} requests in the system on average, {:.4} J per output token",
            m.steps, m.mean_step_tokens, m.mean_in_system, m.j_per_output_token
        );
        let p = &self.memory;
        let _ = writeln!(
            s,
            "memory ({}): {:.2} GB = weights {:.2} GB + activations {:.2} GB + KV budget {:.2} GB; KV peak {:.2} GB reserved",
            p.level,
            p.capacity_bytes / 1e9,
            p.weights_bytes / 1e9,
            p.activation_bytes / 1e9,
            p.kv_budget_bytes / 1e9,
            m.kv_peak_bytes / 1e9
        );
        let _ = writeln!(s, "KV over time (json has {} points):", self.series.len());
        let stride = self.series.len().div_ceil(TABLE_POINTS).max(1);
        for k in self.series.iter().step_by(stride) {
            let _ = writeln!(
                s,
                "  t {:>9.2} s  used {:>7.2} GB  reserved {:>7.2} GB  running {:>4}  waiting {:>5}",
                k.t_s,
                k.kv_used_bytes / 1e9,
                k.kv_reserved_bytes / 1e9,
                k.running,
                k.waiting
            );
        }
        s
    }

    fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "hardware": self.hardware,
            "unit": self.unit,
            "model": self.model,
            "quant": self.quant,
            "runtime": self.runtime,
            "max_batch": self.config.max_batch,
            "chunk_tokens": self.config.chunk,
            "workload": self.workload,
            "rate": self.rate,
            "metrics": self.metrics,
            "memory": self.memory,
            "kv_series": self.series,
            "graphs_priced": self.graphs_priced,
            "search": self.search.as_ref().map(|(t, tried)| serde_json::json!({
                "targets": t,
                "tried": tried,
            })),
        })
    }
}
