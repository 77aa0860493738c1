//! The price of one serving step, from archscope's cost models, cached so that a simulation of
//! 10⁵ requests prices only a few hundred graphs.
//!
//! A continuous-batching step runs `b` decode sequences (one new token each, at cache lengths
//! `c_1 … c_b`) and zero or more prefill chunks (`p_j` prompt tokens of a request whose cache
//! already holds `s_j` positions) through every layer at once, as vLLM and Sarathi-Serve fuse
//! them. Its latency (and energy) is the sum of three parts, each the sum of the matching ops of
//! a graph priced by the unit's cost model under the request's runtime:
//!
//! ```text
//! t_step = t_tokens(T) + t_head(n) + t_attn_decode(b, Σc / b) + Σ_j t_attn_chunk(p_j, s_j + p_j)
//! T = b + Σ p_j   (tokens through the layers)      n = b + chunks that end their prompt (logits)
//! ```
//!
//! * `t_tokens(T)`: every op but attention and the LM head of the decode graph at batch `T`
//!   (context 1): the projections, MLP, norms, KV appends. The weights are read once per step,
//!   whatever mix of prefill and decode tokens shares it: this is why chunked prefill
//!   piggy-backs on decode.
//! * `t_head(n)`: the final norm and LM head of the decode graph at batch `n`: only the
//!   last position of a prompt, and each decode token, get logits.
//! * `t_attn_decode(b, C)`: the attention ops (scores, softmax, values) of the decode graph at
//!   batch `b` and context `C = Σc / b`. Decode attention reads every cached key and value once,
//!   so its bytes and flops depend on the sum of the contexts: pricing `b` sequences at the mean
//!   context reads the same `Σc` positions.
//! * `t_attn_chunk(p, c)`: the attention ops of the verify graph
//!   ([`LlmConfig::build_verify`]) with `p` query tokens over a cache of `c` positions, batch 1:
//!   a prefill chunk attends causally to the cache and to itself.
//!
//! Buckets: every size (`T`, `n`, `C`, `p`, `c`) is priced on a grid, exact up to
//! [`EXACT_UP_TO`] and then [`PER_OCTAVE`] points per doubling (steps under 4.5 %), and
//! interpolated linearly between its two neighbouring grid points (bilinearly for a chunk's
//! `(p, c)`). A run therefore prices about `PER_OCTAVE · log2(max / EXACT_UP_TO)` graphs per
//! size; every price is cached for the run.
//!
//! Approximations: decode attention at the mean context spreads a long sequence's reads over
//! the batch, which matters only for sliding-window layers (their per-sequence read is capped at
//! the window); multi-head latent attention's per-position decompression is not an attention op
//! and is priced at context 1.

use crate::cost::Ledger;
use crate::hardware::Hardware;
use crate::score::{ScoreError, ScoreRequest, score_graph_under};
use crate::workload::{Graph, LlmConfig, ModelError, OpKind, Phase, QuantScheme};
use std::collections::HashMap;

/// Sizes up to this are priced exactly.
pub const EXACT_UP_TO: u64 = 32;
/// Grid points per doubling above [`EXACT_UP_TO`].
pub const PER_OCTAVE: f64 = 16.0;

/// Latency and energy of part of a step.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Cost {
    /// Seconds.
    pub latency_s: f64,
    /// Joules.
    pub energy_j: f64,
}

impl Cost {
    fn add(self, o: Cost) -> Cost {
        Cost {
            latency_s: self.latency_s + o.latency_s,
            energy_j: self.energy_j + o.energy_j,
        }
    }
    fn scale(self, f: f64) -> Cost {
        Cost {
            latency_s: self.latency_s * f,
            energy_j: self.energy_j * f,
        }
    }
    fn lerp(a: Cost, b: Cost, f: f64) -> Cost {
        a.scale(1.0 - f).add(b.scale(f))
    }
    fn of(l: &Ledger) -> Cost {
        Cost {
            latency_s: l.latency_s,
            energy_j: l.energy_j(),
        }
    }
}

/// The two grid points around `x` (at least 1) and the weight of the upper one.
pub fn bracket(x: f64) -> (u64, u64, f64) {
    let x = x.max(1.0);
    let (lo, hi) = if x <= EXACT_UP_TO as f64 {
        (x.floor() as u64, x.ceil() as u64)
    } else {
        let j = PER_OCTAVE * (x / EXACT_UP_TO as f64).log2();
        let at = |j: f64| EXACT_UP_TO as f64 * (j / PER_OCTAVE).exp2();
        let lo = (at(j.floor()).floor() as u64).min(x.floor() as u64);
        let hi = (at(j.ceil()).ceil() as u64).max(x.ceil() as u64);
        (lo, hi)
    };
    let f = if hi == lo {
        0.0
    } else {
        (x - lo as f64) / (hi - lo) as f64
    };
    (lo, hi, f)
}

/// Which part of a step an op belongs to.
#[derive(Clone, Copy, PartialEq)]
enum Part {
    Attention,
    Head,
    Tokens,
}

fn part(op: &crate::workload::Op) -> Part {
    match op.kind {
        OpKind::Attention { .. } => Part::Attention,
        _ if op.layer.is_none() && op.name != "embed_tokens" => Part::Head,
        _ => Part::Tokens,
    }
}

/// Cached step prices of one model on one unit under one request (runtime, mode).
pub struct StepCosts<'a> {
    hw: &'a Hardware,
    unit: usize,
    req: &'a ScoreRequest,
    model: &'a LlmConfig,
    quant: QuantScheme,
    tokens: HashMap<u64, (Cost, Cost)>,
    decode_attn: HashMap<(u64, u64), Cost>,
    chunk_attn: HashMap<(u64, u64), Cost>,
    /// Graphs priced so far.
    pub priced: usize,
}

/// Why a step cannot be priced.
#[derive(Debug, thiserror::Error)]
pub enum StepError {
    /// The cost model failed.
    #[error(transparent)]
    Score(#[from] ScoreError),
    /// A graph cannot be built at this size.
    #[error(transparent)]
    Model(#[from] ModelError),
}

impl<'a> StepCosts<'a> {
    /// Prices `model` on `unit` of `hw` under `req`'s runtime and mode, with `quant` as given
    /// by the user (the runtime's scheme is applied here).
    pub fn new(
        hw: &'a Hardware,
        unit: usize,
        req: &'a ScoreRequest,
        model: &'a LlmConfig,
        quant: &QuantScheme,
    ) -> Self {
        StepCosts {
            hw,
            unit,
            req,
            model,
            quant: req.runtime.scheme(quant),
            tokens: HashMap::new(),
            decode_attn: HashMap::new(),
            chunk_attn: HashMap::new(),
            priced: 0,
        }
    }

    /// The quantization the graphs are built with.
    pub fn quant(&self) -> &QuantScheme {
        &self.quant
    }

    fn split(&mut self, graph: Graph) -> Result<[Cost; 3], StepError> {
        let (graph, eval) = score_graph_under(self.hw, self.unit, self.req, graph)?;
        crate::score::check_finite("serving step", &eval)?;
        self.priced += 1;
        let mut parts = [Cost::default(); 3];
        for (op, l) in graph.ops.iter().zip(&eval.per_op) {
            let i = match part(op) {
                Part::Attention => 0,
                Part::Head => 1,
                Part::Tokens => 2,
            };
            parts[i] = parts[i].add(Cost::of(l));
        }
        Ok(parts)
    }

    /// `(t_tokens, t_head)` at batch `t` (exact, cached).
    fn tokens_at(&mut self, t: u64) -> Result<(Cost, Cost), StepError> {
        if let Some(c) = self.tokens.get(&t) {
            return Ok(*c);
        }
        let g = self
            .model
            .try_build(&self.quant, Phase::Decode { context: 1 }, t)?;
        let [_, head, tokens] = self.split(g)?;
        self.tokens.insert(t, (tokens, head));
        Ok((tokens, head))
    }

    fn decode_attn_at(&mut self, b: u64, c: u64) -> Result<Cost, StepError> {
        if let Some(c) = self.decode_attn.get(&(b, c)) {
            return Ok(*c);
        }
        let g = self
            .model
            .try_build(&self.quant, Phase::Decode { context: c }, b)?;
        let [attn, _, _] = self.split(g)?;
        self.decode_attn.insert((b, c), attn);
        Ok(attn)
    }

    fn chunk_attn_at(&mut self, p: u64, c: u64) -> Result<Cost, StepError> {
        let c = c.max(p);
        if let Some(x) = self.chunk_attn.get(&(p, c)) {
            return Ok(*x);
        }
        let g = self.model.try_build_verify(&self.quant, c, p, 1)?;
        let [attn, _, _] = self.split(g)?;
        self.chunk_attn.insert((p, c), attn);
        Ok(attn)
    }

    /// `t_tokens(T)`, interpolated.
    pub fn tokens(&mut self, t: u64) -> Result<Cost, StepError> {
        let (lo, hi, f) = bracket(t as f64);
        Ok(Cost::lerp(self.tokens_at(lo)?.0, self.tokens_at(hi)?.0, f))
    }

    /// `t_head(n)`, interpolated; zero for `n = 0`.
    pub fn head(&mut self, n: u64) -> Result<Cost, StepError> {
        if n == 0 {
            return Ok(Cost::default());
        }
        let (lo, hi, f) = bracket(n as f64);
        Ok(Cost::lerp(self.tokens_at(lo)?.1, self.tokens_at(hi)?.1, f))
    }

    /// `t_attn_decode(b, Σc / b)`: `b` exact, the mean context interpolated; zero for `b = 0`.
    pub fn decode_attention(&mut self, b: u64, context_sum: u64) -> Result<Cost, StepError> {
        if b == 0 {
            return Ok(Cost::default());
        }
        let (lo, hi, f) = bracket(context_sum as f64 / b as f64);
        Ok(Cost::lerp(
            self.decode_attn_at(b, lo)?,
            self.decode_attn_at(b, hi)?,
            f,
        ))
    }

    /// `t_attn_chunk(p, c)`: bilinear in the chunk `p` and the cache `c` after it.
    pub fn chunk_attention(&mut self, p: u64, c: u64) -> Result<Cost, StepError> {
        let (p0, p1, fp) = bracket(p as f64);
        let (c0, c1, fc) = bracket(c as f64);
        let lo = Cost::lerp(self.chunk_attn_at(p0, c0)?, self.chunk_attn_at(p0, c1)?, fc);
        let hi = Cost::lerp(self.chunk_attn_at(p1, c0)?, self.chunk_attn_at(p1, c1)?, fc);
        Ok(Cost::lerp(lo, hi, fp))
    }

    /// One step: `decodes` sequences whose caches sum to `context_sum` positions (after this
    /// step's token), and prefill `chunks` of `(tokens, cache after the chunk)`, of which
    /// `finishing` end their prompt.
    pub fn step(
        &mut self,
        decodes: u64,
        context_sum: u64,
        chunks: &[(u64, u64)],
        finishing: u64,
    ) -> Result<Cost, StepError> {
        let t = decodes + chunks.iter().map(|c| c.0).sum::<u64>();
        let mut cost = self
            .tokens(t)?
            .add(self.head(decodes + finishing)?)
            .add(self.decode_attention(decodes, context_sum)?);
        for &(p, c) in chunks {
            cost = cost.add(self.chunk_attention(p, c)?);
        }
        Ok(cost)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brackets_hold_their_point() {
        for x in [1.0, 7.0, 32.0, 33.0, 100.5, 511.0, 4096.0, 70000.0] {
            let (lo, hi, f) = bracket(x);
            assert!(lo as f64 <= x && x <= hi as f64, "{x}: {lo}..{hi}");
            assert!((0.0..=1.0).contains(&f));
            assert!((lo as f64 + f * (hi - lo) as f64 - x).abs() < 1e-9);
            // At most one grid step apart: under 2^(1/16) ≈ 4.4 % plus rounding.
            assert!(
                hi as f64 <= (lo as f64 * 1.045).ceil() + 1.0,
                "{x}: {lo}..{hi}"
            );
        }
        assert_eq!(bracket(20.0), (20, 20, 0.0));
    }
}
