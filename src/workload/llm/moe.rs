//! Mixture-of-experts layers: how a config lays them out (routed experts and their width,
//! shared experts, leading dense layers, the router's bias), their parameters, and the ops of
//! one MoE MLP in a graph.
//!
//! Which experts a step reads. Each of T tokens picks k of the E routed experts. Under uniform
//! routing an expert is missed by one token with probability 1 − k/E, so by all T with
//! probability (1 − k/E)^T, and the expected number of distinct experts touched is
//! `E·(1 − (1 − k/E)^T)` ([`OpKind::experts_touched`]); only their weights are read. In decode
//! T is the batch B: k experts at B = 1, growing towards E as B grows (Mixtral, E = 8, k = 2:
//! 2 at B = 1, 8·(1 − 0.75⁴) = 5.47 at B = 4). In prefill T = B·P is the whole prompt, and the
//! same formula gives all E to within rounding for any real prompt (Mixtral at P = 64:
//! 8·(1 − 0.75⁶⁴) = 8 − 8.1·10⁻⁸; DeepSeek-V3, E = 256, k = 8, at P = 512: 256 − 6·10⁻⁵), so
//! prefill reads every expert. Shared experts are read at every step, as a dense MLP.

use super::{Builder, Family, HfConfig, add, mul};
use crate::workload::graph::{EltOp, OpKind, TensorId};

/// The MoE layout of a model beyond (experts, experts per token), which
/// [`super::LlmConfig::moe`] holds. All zero / `None` / `false` for a dense model.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct MoeLayout {
    /// MLP width of one routed expert (`moe_intermediate_size`); `None` means
    /// `intermediate_size` (Mixtral).
    pub expert_ffn: Option<u64>,
    /// MLP width of the shared experts together (`n_shared_experts · moe_intermediate_size`,
    /// DeepSeek's `DeepseekV2MLP` of that width); 0 for none.
    pub shared_ffn: u64,
    /// Leading layers with a dense MLP of `intermediate_size` (`first_k_dense_replace`).
    pub first_dense: u64,
    /// The router has a per-expert score-correction bias (DeepSeek-V3's `noaux_tc` routing,
    /// `e_score_correction_bias`).
    pub router_bias: bool,
}

/// The MoE settings read from a config: (experts, experts per token), if any, and the layout.
type MoeSettings = (Option<(u64, u64)>, MoeLayout);

/// DeepSeek-V3's routing method whose router carries `e_score_correction_bias`.
const NOAUX_TC: &str = "noaux_tc";

/// Reads the MoE settings of a config: (experts, experts per token) and the layout, or the
/// field at fault and what is wrong with it. Mixtral names its experts `num_local_experts`,
/// qwen3_moe `num_experts`, DeepSeek `n_routed_experts` (a DeepSeek config without it is dense).
pub(super) fn read_moe(
    family: Family,
    raw: &HfConfig,
) -> Result<MoeSettings, (&'static str, String)> {
    let (field, experts) = match family {
        Family::Mixtral => ("num_local_experts", raw.num_local_experts),
        Family::Qwen3Moe => ("num_experts", raw.num_experts),
        Family::DeepSeek => match raw.n_routed_experts {
            None => return Ok((None, MoeLayout::default())),
            e => ("n_routed_experts", e),
        },
        _ => return Ok((None, MoeLayout::default())),
    };
    let e = match experts {
        Some(e) if e > 0 => e,
        _ => {
            return Err((
                field,
                format!(
                    "{} needs {field} and num_experts_per_tok with 0 < k ≤ experts",
                    family.name()
                ),
            ));
        }
    };
    let k = match raw.num_experts_per_tok {
        Some(k) if k > 0 && k <= e => k,
        Some(k) if k > e => {
            return Err((
                "num_experts_per_tok",
                format!("{k} is more than the {e} experts ({field}); expected 1 to {e}"),
            ));
        }
        _ => {
            return Err((
                "num_experts_per_tok",
                format!("must be positive (1 to the {e} experts of {field})"),
            ));
        }
    };
    let mut layout = MoeLayout::default();
    if family == Family::Mixtral {
        return Ok((Some((e, k)), layout));
    }
    let ffn = match raw.moe_intermediate_size {
        Some(f) if f > 0 => f,
        _ => {
            return Err((
                "moe_intermediate_size",
                format!("{} needs a positive moe_intermediate_size", family.name()),
            ));
        }
    };
    layout.expert_ffn = Some(ffn);
    if family == Family::Qwen3Moe {
        if raw.decoder_sparse_step.is_some_and(|s| s != 1) {
            return Err((
                "decoder_sparse_step",
                "only 1 (a MoE MLP in every layer) is modelled".into(),
            ));
        }
        if raw.mlp_only_layers.as_ref().is_some_and(|l| !l.is_empty()) {
            return Err((
                "mlp_only_layers",
                "only an empty list (no dense layers) is modelled".into(),
            ));
        }
        return Ok((Some((e, k)), layout));
    }
    // DeepSeek.
    if raw.moe_layer_freq.is_some_and(|f| f != 1) {
        return Err((
            "moe_layer_freq",
            "only 1 (a MoE MLP in every layer after the dense ones) is modelled".into(),
        ));
    }
    let first = raw.first_k_dense_replace.unwrap_or(0);
    if first > raw.num_hidden_layers {
        return Err((
            "first_k_dense_replace",
            format!(
                "{first} is more than the {} layers (num_hidden_layers)",
                raw.num_hidden_layers
            ),
        ));
    }
    layout.first_dense = first;
    layout.shared_ffn = mul(raw.n_shared_experts.unwrap_or(0), ffn, "n_shared_experts")
        .map_err(|f| (f, "overflows 64 bits".to_string()))?;
    layout.router_bias = raw.topk_method.as_deref() == Some(NOAUX_TC);
    Ok((Some((e, k)), layout))
}

impl super::LlmConfig {
    /// MLP width of one routed expert.
    pub fn expert_ffn(&self) -> u64 {
        self.moe_layout.expert_ffn.unwrap_or(self.ffn)
    }

    /// Whether layer `layer` has a MoE MLP (the others are dense).
    pub fn is_moe_layer(&self, layer: u64) -> bool {
        self.moe.is_some() && layer >= self.moe_layout.first_dense
    }

    /// Layers with a MoE MLP.
    pub fn moe_layer_count(&self) -> u64 {
        if self.moe.is_some() {
            self.layers.saturating_sub(self.moe_layout.first_dense)
        } else {
            0
        }
    }

    /// Parameters of one gated (or plain) MLP of width `ffn`, biases included.
    pub(super) fn try_mlp_params(&self, ffn: u64) -> Result<u64, &'static str> {
        let h = self.hidden;
        let mats = if matches!(self.act, EltOp::SwiGlu | EltOp::GeGlu) {
            3
        } else {
            2
        };
        let f = "intermediate_size";
        let bias = if self.mlp_bias {
            add(mul(mats - 1, ffn, f)?, h, f)?
        } else {
            0
        };
        add(mul(mul(mats, h, "hidden_size")?, ffn, f)?, bias, f)
    }

    /// Parameters of one MoE MLP with `experts` routed experts: the experts, the router (and
    /// its bias), and the shared experts.
    pub(super) fn try_moe_params(&self, experts: u64) -> Result<u64, &'static str> {
        let f = "num_local_experts";
        let routed = mul(experts, self.try_mlp_params(self.expert_ffn())?, f)?;
        let router = add(
            mul(self.hidden, experts, f)?,
            if self.moe_layout.router_bias {
                experts
            } else {
                0
            },
            f,
        )?;
        let shared = if self.moe_layout.shared_ffn > 0 {
            self.try_mlp_params(self.moe_layout.shared_ffn)?
        } else {
            0
        };
        add(add(routed, router, f)?, shared, "n_shared_experts")
    }

    /// Parameters one token uses: all but the routed experts it is not sent to (E − k of them
    /// in every MoE layer). Equal to [`super::LlmConfig::param_count`] for a dense model. The
    /// embedding table is counted in full, as Mistral and Qwen count active parameters
    /// (Mixtral 8x7B: 12.9 B; Qwen3-30B-A3B: 3.3 B); DeepSeek leaves it out (DeepSeek-V3:
    /// 37 B), see [`super::LlmConfig::active_params_without_embedding`].
    pub fn active_param_count(&self) -> u64 {
        let Some((e, k)) = self.moe else {
            return self.param_count();
        };
        let idle = self
            .try_mlp_params(self.expert_ffn())
            .unwrap_or(u64::MAX)
            .saturating_mul(e - k)
            .saturating_mul(self.moe_layer_count());
        self.param_count().saturating_sub(idle)
    }

    /// [`super::LlmConfig::active_param_count`] without the input embedding table (a token
    /// reads one row of it), as DeepSeek counts activated parameters. A tied table is also the
    /// LM head and stays.
    pub fn active_params_without_embedding(&self) -> u64 {
        let table = if self.tied {
            0
        } else {
            self.vocab.saturating_mul(self.hidden)
        };
        self.active_param_count().saturating_sub(table)
    }
}

impl Builder<'_> {
    /// The MoE MLP of layer `p` on the normalised input `x` of `t` tokens: router (with its
    /// bias where the model has one), the routed experts, and the shared experts added to
    /// their output.
    pub(super) fn moe_mlp(
        &mut self,
        p: &str,
        li: Option<u32>,
        x: TensorId,
        t: u64,
        (e, k): (u64, u64),
    ) -> TensorId {
        let c = self.c;
        let q = self.q;
        let h = c.hidden;
        let ffn = c.expert_ffn();
        let wr = self.weight(format!("{p}.moe.router.weight"), &[e, h], q.weights);
        let mut ins = vec![x, wr];
        if c.moe_layout.router_bias {
            let bias = crate::workload::dtype::Storage::plain(q.float);
            ins.push(self.weight(format!("{p}.moe.router.bias"), &[e], bias));
        }
        let route = self.act(format!("{p}.moe.routing"), &[t, e]);
        self.g.add_op(
            format!("{p}.moe.router"),
            OpKind::MoeRouter {
                tokens: t,
                dim: h,
                experts: e,
                top_k: k,
            },
            &ins,
            &[route],
            q.linear_compute,
            li,
        );
        let wg = self.weight(
            format!("{p}.moe.experts.gate.weight"),
            &[e, ffn, h],
            q.weights,
        );
        let wu = self.weight(
            format!("{p}.moe.experts.up.weight"),
            &[e, ffn, h],
            q.weights,
        );
        let wd = self.weight(
            format!("{p}.moe.experts.down.weight"),
            &[e, h, ffn],
            q.weights,
        );
        let y = self.act(format!("{p}.moe.out"), &[t, h]);
        self.g.add_op(
            format!("{p}.moe.experts"),
            OpKind::MoeExperts {
                tokens: t,
                dim: h,
                ffn,
                experts: e,
                top_k: k,
                gated: true,
            },
            &[x, wg, wu, wd, route],
            &[y],
            q.linear_compute,
            li,
        );
        if c.moe_layout.shared_ffn == 0 {
            return y;
        }
        let s = self.dense_mlp(
            &format!("{p}.mlp.shared"),
            li,
            x,
            t,
            c.moe_layout.shared_ffn,
        );
        self.eltwise(
            &format!("{p}.moe.shared_add"),
            li,
            EltOp::Add,
            &[y, s],
            &[t, h],
        )
    }
}
