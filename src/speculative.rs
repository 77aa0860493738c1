//! Speculative decoding (Leviathan et al. 2023, "Fast Inference from Transformers via
//! Speculative Decoding"; Chen et al. 2023): a small draft model D proposes `k` tokens one at a
//! time, then the target model T checks all of them in one pass and keeps the longest prefix it
//! agrees with, plus one token of its own.
//!
//! One speculative step at context `c` (cache positions after the step's tokens are appended),
//! per sequence of the batch:
//!
//! ```text
//! t_step = k · t_D(c) + t_V(c, k+1)          e_step = k · e_D(c) + e_V(c, k+1)
//! E[tokens] = (1 - a^(k+1)) / (1 - a)        (a = 1: k + 1; or a mean accepted length L)
//! tokens/s  = batch · E[tokens] / t_step      J/token = e_step / (batch · E[tokens])
//! speed-up  = (tokens/s) / (plain decode tokens/s) = E[tokens] · t_T(c) / t_step
//! ```
//!
//! * `t_D(c)` is one decode step of the draft, priced at context `c` for all `k` drafts (an
//!   approximation: the drafts sit at `c - k .. c - 1`, at most [`MAX_DRAFT_TOKENS`] positions
//!   off, which changes the KV read of one step by less than `k / c`).
//! * `t_V(c, k+1)` is the target's verify pass: the decode graph with `k + 1` query tokens per
//!   sequence (the last accepted token and the `k` drafts), which append their keys and values
//!   and attend causally over the `c` cached positions, with logits at every one of the `k + 1`
//!   positions ([`LlmConfig::build_verify`]). Prefill cannot price it: a prefill graph has no
//!   cache to attend to and gives logits at the last position only.
//! * `E[tokens]` assumes each draft token is accepted independently with probability `a` (the
//!   paper's α), so a step yields `1 + a + … + a^k` tokens; a measured mean accepted length `L`
//!   (tokens per step, the target's own token included) may be given instead.
//! * Both models run on the same device; the draft runs on the target's unit unless another is
//!   named. Memory holds both models' weights and both KV caches at context `c`, with the larger
//!   activation peak, against the target unit's main memory.
//! * The models must share a vocabulary: the target checks the draft's tokens by their ids. As
//!   in llama.cpp (`SPEC_VOCAB_MAX_SIZE_DIFFERENCE = 128` in `common/speculative.cpp`), sizes
//!   (`vocab_size`) up to [`MAX_VOCAB_DIFFERENCE`] apart pass: one family pads its embedding
//!   differently per size (Qwen2.5-7B has 152,064 rows, Qwen2.5-0.5B 151,936, one tokenizer);
//!   further apart, the vocabularies differ and the pair is an error.

use crate::cost::Ledger;
use crate::hardware::Hardware;
use crate::runtime::WorkloadKind;
use crate::score::{
    Footprint, PhaseScore, Score, ScoreError, ScoreRequest, bound_name, score_graph_under,
    score_llm,
};
use crate::workload::{Graph, LlmConfig, ModelError, Phase, QuantScheme};
use std::fmt::Write as _;

/// Largest `--draft-tokens`: 16, llama.cpp's default `--draft-max` (`common/common.h`,
/// `n_max = 16`); at an acceptance rate of 0.9 a 17th draft would add 0.9^17 ≈ 0.17 expected
/// tokens per step while costing a full draft step.
pub const MAX_DRAFT_TOKENS: u64 = 16;

/// Largest difference of `vocab_size` between draft and target read as padding of one
/// vocabulary: 128, llama.cpp's `SPEC_VOCAB_MAX_SIZE_DIFFERENCE` (`common/speculative.cpp`).
pub const MAX_VOCAB_DIFFERENCE: u64 = 128;

/// How often the target accepts the draft's tokens.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Acceptance {
    /// Per-token acceptance probability `a` in [0, 1] (`--accept-rate`).
    Rate(f64),
    /// Mean tokens per step `L` in [1, k + 1], the target's own token included
    /// (`--accepted-length`).
    MeanLength(f64),
}

/// What to speculate with.
#[derive(Clone, Debug)]
pub struct SpeculativeRequest {
    /// Draft tokens per step, `k` (1 to [`MAX_DRAFT_TOKENS`]).
    pub draft_tokens: u64,
    /// The acceptance.
    pub acceptance: Acceptance,
    /// Unit that runs the draft (`None`: the target's unit).
    pub draft_unit: Option<String>,
    /// The draft's quantization (`None`: the target's).
    pub draft_quant: Option<QuantScheme>,
}

/// Why a speculative score cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum SpeculativeError {
    /// The two models tokenize differently.
    #[error(
        "--draft {draft}: its vocabulary has {draft_vocab} tokens but the target {target}'s has {target_vocab}; speculative decoding needs a draft with the target's vocabulary (the target checks the draft's token ids; sizes up to {MAX_VOCAB_DIFFERENCE} apart pass as padding)"
    )]
    Vocabulary {
        /// Target model.
        target: String,
        /// Target `vocab_size`.
        target_vocab: u64,
        /// Draft model.
        draft: String,
        /// Draft `vocab_size`.
        draft_vocab: u64,
    },
    /// `k` out of range.
    #[error("--draft-tokens {0}: expected 1 to {MAX_DRAFT_TOKENS} draft tokens per step")]
    DraftTokens(u64),
    /// `a` out of range.
    #[error("--accept-rate {0}: expected an acceptance probability from 0 to 1")]
    AcceptRate(f64),
    /// `L` out of range.
    #[error(
        "--accepted-length {length}: expected a mean of 1 to {max} tokens per step (k + 1 with --draft-tokens {k})"
    )]
    AcceptedLength {
        /// The length given.
        length: f64,
        /// `k`.
        k: u64,
        /// `k + 1`.
        max: u64,
    },
    /// The context cannot hold the verified tokens.
    #[error(
        "--context {context}: a verify pass of {tokens} tokens (--draft-tokens {k} + 1) needs a context of at least {tokens}"
    )]
    Context {
        /// The context.
        context: u64,
        /// `k`.
        k: u64,
        /// `k + 1`.
        tokens: u64,
    },
    /// The request does not ask for decode.
    #[error(
        "speculative decoding speeds up decode; score the decode phase too (--phase both or decode)"
    )]
    NoDecode,
    /// Scoring either model failed.
    #[error(transparent)]
    Score(#[from] ScoreError),
    /// A graph cannot be built at this size.
    #[error(transparent)]
    Model(#[from] ModelError),
}

/// Expected tokens per speculative step with `k` drafts each accepted with probability `a`:
/// `(1 - a^(k+1)) / (1 - a)`, and `k + 1` at `a = 1`.
pub fn expected_tokens(a: f64, k: u64) -> f64 {
    if a >= 1.0 {
        (k + 1) as f64
    } else {
        (1.0 - a.powi(k as i32 + 1)) / (1.0 - a)
    }
}

impl SpeculativeRequest {
    /// Checks `k` and the acceptance (see [`SpeculativeError`]) and returns the expected tokens
    /// per step.
    pub fn expected_tokens(&self) -> Result<f64, SpeculativeError> {
        let k = self.draft_tokens;
        if k == 0 || k > MAX_DRAFT_TOKENS {
            return Err(SpeculativeError::DraftTokens(k));
        }
        match self.acceptance {
            Acceptance::Rate(a) if (0.0..=1.0).contains(&a) => Ok(expected_tokens(a, k)),
            Acceptance::Rate(a) => Err(SpeculativeError::AcceptRate(a)),
            Acceptance::MeanLength(l) if (1.0..=(k + 1) as f64).contains(&l) => Ok(l),
            Acceptance::MeanLength(l) => Err(SpeculativeError::AcceptedLength {
                length: l,
                k,
                max: k + 1,
            }),
        }
    }
}

/// A target model scored with and without a draft.
#[derive(Clone, Debug)]
pub struct SpeculativeScore {
    /// The target alone: its prefill (when asked) and plain decode.
    pub target: Score,
    /// Draft model name.
    pub draft_model: String,
    /// Draft quantization.
    pub draft_quant: String,
    /// Unit that runs the draft.
    pub draft_unit: String,
    /// Draft tokens per step, `k`.
    pub draft_tokens: u64,
    /// The acceptance given.
    pub acceptance: Acceptance,
    /// Expected tokens per step and sequence.
    pub expected_tokens: f64,
    /// One decode step of the draft at the context (`tokens`: the batch).
    pub draft_step: PhaseScore,
    /// The target's verify pass over `k + 1` tokens (`tokens`: batch × (k + 1)).
    pub verify: PhaseScore,
    /// Both models' weights and KV caches.
    pub memory: Footprint,
}

impl SpeculativeScore {
    /// The target's plain decode step.
    pub fn plain_decode(&self) -> &PhaseScore {
        self.target
            .phases
            .iter()
            .find(|p| matches!(p.phase, Phase::Decode { .. }))
            .expect("built with the decode phase")
    }
    /// Latency of one speculative step: `k · t_D + t_V`.
    pub fn step_latency_s(&self) -> f64 {
        self.draft_tokens as f64 * self.draft_step.eval.total.latency_s
            + self.verify.eval.total.latency_s
    }
    /// Energy of one speculative step: `k · e_D + e_V`.
    pub fn step_energy_j(&self) -> f64 {
        self.draft_tokens as f64 * self.draft_step.eval.total.energy_j()
            + self.verify.eval.total.energy_j()
    }
    /// Tokens per step over the batch: batch · E[tokens].
    fn step_tokens(&self) -> f64 {
        self.target.batch as f64 * self.expected_tokens
    }
    /// Speculative decode throughput, tokens per second over the batch.
    pub fn tokens_per_s(&self) -> f64 {
        self.step_tokens() / self.step_latency_s()
    }
    /// Speculative decode energy per token.
    pub fn j_per_token(&self) -> f64 {
        self.step_energy_j() / self.step_tokens()
    }
    /// Time per output token (the step latency over the expected tokens per sequence).
    pub fn tpot_s(&self) -> f64 {
        self.step_latency_s() / self.expected_tokens
    }
    /// Speculative over plain decode throughput.
    pub fn speedup(&self) -> f64 {
        self.tokens_per_s() / self.plain_decode().tokens_per_s()
    }
    /// Speculative over plain decode energy per token.
    pub fn energy_ratio(&self) -> f64 {
        self.j_per_token() / self.plain_decode().j_per_token()
    }

    fn acceptance_words(&self) -> String {
        match self.acceptance {
            Acceptance::Rate(a) => format!("acceptance rate {a}"),
            Acceptance::MeanLength(l) => format!("mean accepted length {l}"),
        }
    }

    /// The target's JSON ([`Score::to_json`]) with a `speculative` object (the draft, `k`,
    /// the acceptance, the step and the two priced passes) and the speculative metrics added
    /// to `metrics`: `speculative_tokens_per_s`, `speculative_tpot_s`,
    /// `speculative_j_per_token`, `speculative_speedup`.
    pub fn to_json(&self, hw: &Hardware) -> serde_json::Value {
        let mut v = self.target.to_json(hw);
        let pass = |p: &PhaseScore| {
            let t = &p.eval.total;
            serde_json::json!({
                "graph": p.graph.name,
                "latency_s": t.latency_s,
                "energy_j": t.energy_j(),
                "flops": t.flops,
                "bound": bound_name(hw, t.bound()),
            })
        };
        let (rate, length) = match self.acceptance {
            Acceptance::Rate(a) => (Some(a), None),
            Acceptance::MeanLength(l) => (None, Some(l)),
        };
        v["speculative"] = serde_json::json!({
            "draft_model": self.draft_model,
            "draft_quant": self.draft_quant,
            "draft_unit": self.draft_unit,
            "draft_tokens": self.draft_tokens,
            "accept_rate": rate,
            "accepted_length": length,
            "expected_tokens_per_step": self.expected_tokens,
            "draft_step": pass(&self.draft_step),
            "verify": pass(&self.verify),
            "step_latency_s": self.step_latency_s(),
            "step_energy_j": self.step_energy_j(),
            "tokens_per_s": self.tokens_per_s(),
            "tpot_s": self.tpot_s(),
            "j_per_token": self.j_per_token(),
            "plain_tokens_per_s": self.plain_decode().tokens_per_s(),
            "plain_j_per_token": self.plain_decode().j_per_token(),
            "speedup": self.speedup(),
            "energy_ratio": self.energy_ratio(),
            "memory": self.memory,
        });
        let m = &mut v["metrics"];
        m["speculative_tokens_per_s"] = self.tokens_per_s().into();
        m["speculative_tpot_s"] = self.tpot_s().into();
        m["speculative_j_per_token"] = self.j_per_token().into();
        m["speculative_speedup"] = self.speedup().into();
        v
    }

    /// The target's per-op CSV ([`Score::to_csv`]) followed by the ops of the draft step
    /// (phase `draft`) and of the verify pass (phase `verify`).
    pub fn to_csv(&self, hw: &Hardware) -> Result<String, csv::Error> {
        let (draft, verify) = (&self.draft_step, &self.verify);
        let mut text = self.target.to_csv(hw)?;
        text.push_str(&crate::score::ops_csv(
            hw,
            false,
            &[
                ("draft", &self.draft_unit, &draft.graph, &draft.eval),
                ("verify", &self.target.unit, &verify.graph, &verify.eval),
            ],
        )?);
        Ok(text)
    }

    /// The target's table ([`Score::to_table`]) and a speculative section: the draft step, the
    /// verify pass, the step, the speculative metrics next to plain decode, and the memory of
    /// both models.
    pub fn to_table(&self, hw: &Hardware) -> String {
        let mut s = self.target.to_table(hw);
        let line = |s: &mut String, what: &str, p: &PhaseScore, times: &str| {
            let t: &Ledger = &p.eval.total;
            let _ = writeln!(
                s,
                "{what:<7} {:<44} {:>9.3} ms {:>9.4} J  bound {}{times}",
                p.graph.name,
                t.latency_s * 1e3,
                t.energy_j(),
                bound_name(hw, t.bound())
            );
        };
        let _ = writeln!(
            s,
            "\n== speculative decode (draft {} on {}, k = {} draft tokens, {}) ==",
            self.draft_model,
            self.draft_unit,
            self.draft_tokens,
            self.acceptance_words()
        );
        line(
            &mut s,
            "draft",
            &self.draft_step,
            &format!("  × {}", self.draft_tokens),
        );
        line(&mut s, "verify", &self.verify, "");
        let _ = writeln!(
            s,
            "step: {:.3} ms, {:.4} J, {:.4} expected tokens per sequence",
            self.step_latency_s() * 1e3,
            self.step_energy_j(),
            self.expected_tokens
        );
        let plain = self.plain_decode();
        let _ = writeln!(
            s,
            "speculative: TPOT {:.3} ms, {:.1} tokens/s, {:.4} J/token",
            self.tpot_s() * 1e3,
            self.tokens_per_s(),
            self.j_per_token()
        );
        let _ = writeln!(
            s,
            "plain:       TPOT {:.3} ms, {:.1} tokens/s, {:.4} J/token",
            plain.eval.total.latency_s * 1e3,
            plain.tokens_per_s(),
            plain.j_per_token()
        );
        let _ = writeln!(
            s,
            "speed-up {:.2}×, energy per token ×{:.2}",
            self.speedup(),
            self.energy_ratio()
        );
        let _ = writeln!(s, "memory (both models): {}", self.memory.line());
        s
    }
}

/// The graphs of one speculative step at a context: the draft's decode step and the target's
/// verify pass ([`score_speculative`] prices each under the request's runtime).
pub struct StepGraphs {
    /// One draft decode step at the context.
    pub draft_step: Graph,
    /// The target's verify pass over `k + 1` tokens at the context.
    pub verify: Graph,
}

/// Builds the two graphs of a speculative step, checking sizes.
pub fn step_graphs(
    target: &LlmConfig,
    draft: &LlmConfig,
    target_quant: &QuantScheme,
    draft_quant: &QuantScheme,
    context: u64,
    k: u64,
    batch: u64,
) -> Result<StepGraphs, SpeculativeError> {
    check_pair(target, draft)?;
    if context < k + 1 {
        return Err(SpeculativeError::Context {
            context,
            k,
            tokens: k + 1,
        });
    }
    Ok(StepGraphs {
        draft_step: draft.try_build(draft_quant, Phase::Decode { context }, batch)?,
        verify: target.try_build_verify(target_quant, context, k + 1, batch)?,
    })
}

/// An error unless the draft has the target's vocabulary (sizes at most
/// [`MAX_VOCAB_DIFFERENCE`] apart).
pub fn check_pair(target: &LlmConfig, draft: &LlmConfig) -> Result<(), SpeculativeError> {
    if target.vocab.abs_diff(draft.vocab) > MAX_VOCAB_DIFFERENCE {
        return Err(SpeculativeError::Vocabulary {
            target: target.name.clone(),
            target_vocab: target.vocab,
            draft: draft.name.clone(),
            draft_vocab: draft.vocab,
        });
    }
    Ok(())
}

/// Scores `target` under `req` (its prefill and plain decode, as [`score_llm`]) and the
/// speculative decode of it with `draft` at `req.context` (see the module docs).
pub fn score_speculative(
    hw: &Hardware,
    target: &LlmConfig,
    draft: &LlmConfig,
    quant: &QuantScheme,
    req: &ScoreRequest,
    spec: &SpeculativeRequest,
) -> Result<SpeculativeScore, SpeculativeError> {
    let expected = spec.expected_tokens()?;
    check_pair(target, draft)?;
    if !req.decode {
        return Err(SpeculativeError::NoDecode);
    }
    let k = spec.draft_tokens;
    if req.context < k + 1 {
        return Err(SpeculativeError::Context {
            context: req.context,
            k,
            tokens: k + 1,
        });
    }
    let target_score = score_llm(hw, target, quant, req)?;
    let unit = hw
        .unit_index(Some(&target_score.unit))
        .map_err(ScoreError::from)?;
    let draft_unit = match &spec.draft_unit {
        Some(u) => hw.unit_index(Some(u)).map_err(ScoreError::from)?,
        None => unit,
    };
    let draft_quant = spec.draft_quant.as_ref().unwrap_or(quant);
    req.runtime
        .check_runs(
            hw.units[draft_unit].kind,
            &hw.units[draft_unit].name,
            WorkloadKind::Llm,
            &draft_quant.name,
        )
        .map_err(ScoreError::from)?;
    let tq = req.runtime.scheme(quant);
    let dq = req.runtime.scheme(draft_quant);
    let graphs = step_graphs(target, draft, &tq, &dq, req.context, k, req.batch)?;
    let (dg, de) = score_graph_under(hw, draft_unit, req, graphs.draft_step)?;
    let (vg, ve) = score_graph_under(hw, unit, req, graphs.verify)?;
    let draft_step = PhaseScore {
        phase: Phase::Decode {
            context: req.context,
        },
        graph: dg,
        eval: de,
        tokens: req.batch as f64,
    };
    let verify = PhaseScore {
        phase: Phase::Decode {
            context: req.context,
        },
        graph: vg,
        eval: ve,
        tokens: (req.batch * (k + 1)) as f64,
    };
    for (name, p) in [("draft", &draft_step), ("verify", &verify)] {
        let t = &p.eval.total;
        let bad = |metric, value| ScoreError::NotFinite {
            phase: name.to_string(),
            metric,
            value,
        };
        if !(t.latency_s.is_finite() && t.latency_s > 0.0) {
            return Err(bad("latency", t.latency_s).into());
        }
        if !t.energy_j().is_finite() {
            return Err(bad("energy", t.energy_j()).into());
        }
    }
    let tm = &target_score.memory;
    let weights = tm.weights_bytes + draft_step.graph.weight_bytes();
    let kv = tm.kv_cache_bytes + draft_step.graph.kv_cache_bytes();
    let act = [
        tm.activation_peak_bytes,
        verify.graph.peak_activation_bytes(),
        draft_step.graph.peak_activation_bytes(),
    ]
    .into_iter()
    .fold(0.0, f64::max);
    let total = weights + kv + act;
    let memory = Footprint {
        weights_bytes: weights,
        kv_cache_bytes: kv,
        activation_peak_bytes: act,
        total_bytes: total,
        capacity_bytes: tm.capacity_bytes,
        level: tm.level.clone(),
        fits: total <= tm.capacity_bytes,
        weight_store: None,
    };
    Ok(SpeculativeScore {
        target: target_score,
        draft_model: draft.name.clone(),
        draft_quant: dq.name.clone(),
        draft_unit: hw.units[draft_unit].name.clone(),
        draft_tokens: k,
        acceptance: spec.acceptance,
        expected_tokens: expected,
        draft_step,
        verify,
        memory,
    })
}
