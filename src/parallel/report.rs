//! Printing a [`ParallelScore`]: the table (per stage and per GPU, then the node's totals), the
//! JSON and the CSV (one row per stage of each phase) behind [`crate::render::Render`].

use super::{ParallelPhase, ParallelScore, StageMemory};
use crate::render::Render;
use crate::workload::Phase;
use std::fmt::Write as _;

/// `A-B` for the layers of a stage (inclusive).
fn layers(r: &std::ops::Range<u64>) -> String {
    format!("{}-{}", r.start, r.end.saturating_sub(1))
}

impl ParallelScore {
    /// The table: the split, per-stage times of each phase, the node's metrics and the memory of
    /// each stage's GPUs.
    pub fn to_table(&self) -> String {
        let mut s = String::new();
        let p = &self.split;
        let _ = writeln!(
            s,
            "{} on {} ({} × {} / {}, link {}), quant {}, runtime {}, batch {}",
            self.model,
            self.node,
            self.gpus(),
            self.hardware,
            self.unit,
            self.link,
            self.quant,
            self.runtime,
            self.batch
        );
        let _ = writeln!(
            s,
            "split: TP {} × PP {} = {} GPUs, {} micro-batch(es) of {} sequence(s)",
            p.tp,
            p.pp,
            self.gpus(),
            p.microbatches,
            self.batch / p.microbatches
        );
        for ph in &self.phases {
            phase_table(&mut s, ph, p.microbatches, p.pp);
        }
        let _ = writeln!(s, "\nmemory per GPU:");
        for m in &self.memory {
            let _ = writeln!(
                s,
                "stage layers {:<7} {}",
                layers(&m.layers),
                self.memory_line(m)
            );
        }
        s
    }

    fn memory_line(&self, m: &StageMemory) -> String {
        format!(
            "weights {:.1} MB + KV cache {:.1} MB + activations {:.1} MB = {:.1} MB of {:.1} MB usable {} → {}",
            m.weights_bytes / 1e6,
            m.kv_cache_bytes / 1e6,
            m.activation_peak_bytes / 1e6,
            m.total_bytes / 1e6,
            self.capacity_bytes / 1e6,
            self.level,
            if m.fits { "fits" } else { "DOES NOT FIT" }
        )
    }

    /// The score as JSON: the split, each phase with its stages and metrics, each stage's
    /// per-GPU memory, and `metrics` (`ttft_s`, `tpot_s`, `prefill_tokens_per_s`,
    /// `decode_tokens_per_s`, `decode_j_per_token`, `gpus`, `memory_per_gpu_bytes`).
    pub fn to_json(&self) -> serde_json::Value {
        let phases: Vec<serde_json::Value> = (self.phases.iter())
            .map(|p| {
                serde_json::json!({
                    "phase": p.phase.name(),
                    "graph": p.graph.name,
                    "latency_s": p.latency_s,
                    "tokens": p.tokens,
                    "tokens_per_s": p.tokens_per_s(),
                    "energy_j": p.energy_j,
                    "j_per_token": p.j_per_token(),
                    "link_j": p.link_j,
                    "bubble": p.bubble,
                    "stage_max_s": p.stage_max_s(),
                    "stages": p.stages,
                })
            })
            .collect();
        let mut metrics = serde_json::Map::new();
        for p in &self.phases {
            let (time, rate) = p.phase.metric_names();
            metrics.insert(time.into(), p.latency_s.into());
            metrics.insert(rate.into(), p.tokens_per_s().into());
            if let Phase::Decode { .. } = p.phase {
                metrics.insert("decode_j_per_token".into(), p.j_per_token().into());
            }
        }
        metrics.insert("gpus".into(), self.gpus().into());
        metrics.insert(
            "memory_per_gpu_bytes".into(),
            self.max_memory().total_bytes.into(),
        );
        serde_json::json!({
            "node": self.node,
            "link": self.link,
            "hardware": self.hardware,
            "unit": self.unit,
            "model": self.model,
            "quant": self.quant,
            "runtime": self.runtime,
            "batch": self.batch,
            "tp": self.split.tp,
            "pp": self.split.pp,
            "microbatches": self.split.microbatches,
            "phases": phases,
            "memory": self.memory,
            "capacity_bytes": self.capacity_bytes,
            "level": self.level,
            "fits": self.fits(),
            "metrics": metrics,
        })
    }

    /// One CSV row per stage of each phase: its layers, times, bytes sent and per-GPU memory.
    pub fn to_csv(&self) -> Result<String, csv::Error> {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record([
            "phase",
            "first_layer",
            "last_layer",
            "compute_s",
            "collective_s",
            "send_s",
            "stage_s",
            "collective_bytes",
            "send_bytes",
            "weights_bytes",
            "kv_cache_bytes",
            "activation_bytes",
            "memory_bytes",
        ])?;
        for p in &self.phases {
            for (st, m) in p.stages.iter().zip(&self.memory) {
                w.write_record([
                    p.phase.name().to_string(),
                    st.layers.start.to_string(),
                    st.layers.end.saturating_sub(1).to_string(),
                    format!("{:e}", st.compute_s),
                    format!("{:e}", st.collective_s),
                    format!("{:e}", st.send_s),
                    format!("{:e}", st.time_s),
                    format!("{}", st.collective_bytes),
                    format!("{}", st.send_bytes),
                    format!("{}", m.weights_bytes),
                    format!("{}", m.kv_cache_bytes),
                    format!("{}", m.activation_peak_bytes),
                    format!("{}", m.total_bytes),
                ])?;
            }
        }
        let bytes = w.into_inner().map_err(|e| e.into_error())?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }
}

/// One phase's section: a row per stage, then the node's time, throughput and energy.
fn phase_table(s: &mut String, ph: &ParallelPhase, m: u64, stages: u64) {
    let (what, label, formula) = match ph.phase {
        Phase::Prefill { prompt } => (
            format!("prefill, {prompt} prompt tokens per sequence"),
            "TTFT",
            format!("(m + M - 1) = {}", m + stages - 1),
        ),
        Phase::Decode { context } => (
            format!("decode, context {context}"),
            "TPOT",
            format!("max(m, M) = {}", m.max(stages)),
        ),
    };
    let _ = writeln!(s, "\n== {what} (per GPU, per micro-batch) ==");
    let _ = writeln!(
        s,
        "{:<8} {:>12} {:>14} {:>10} {:>11}",
        "layers", "compute ms", "all-reduce ms", "send ms", "stage ms"
    );
    for st in &ph.stages {
        let _ = writeln!(
            s,
            "{:<8} {:>12.3} {:>14.3} {:>10.3} {:>11.3}",
            layers(&st.layers),
            st.compute_s * 1e3,
            st.collective_s * 1e3,
            st.send_s * 1e3,
            st.time_s * 1e3
        );
    }
    let _ = writeln!(
        s,
        "{label} {:.3} ms = {formula} × slowest stage {:.3} ms (bubble {:.1}%)",
        ph.latency_s * 1e3,
        ph.stage_max_s() * 1e3,
        ph.bubble * 100.0
    );
    let _ = writeln!(
        s,
        "node: {:.1} tokens/s, {:.4} J/token (link {:.4} J of {:.4} J)",
        ph.tokens_per_s(),
        ph.j_per_token(),
        ph.link_j,
        ph.energy_j
    );
}

impl Render for ParallelScore {
    fn what(&self) -> &'static str {
        "score"
    }
    fn table(&self) -> String {
        self.to_table()
    }
    fn json(&self) -> serde_json::Value {
        self.to_json()
    }
    fn csv(&self) -> Option<Result<String, String>> {
        Some(self.to_csv().map_err(|e| e.to_string()))
    }
}
