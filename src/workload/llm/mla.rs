//! Multi-head latent attention (DeepSeek-V2 and V3, `DeepseekV2Attention`): its shape as a
//! config gives it, its parameters, its KV cache, and the ops of one layer, priced one of two
//! ways ([`MlaMode`]).
//!
//! Per token, the hidden state `x` (width H) goes through:
//! * the query: `q_a_proj` (H → q_lora_rank), an RMSNorm, `q_b_proj` (→ heads·(nope + rope));
//!   or, where `q_lora_rank` is null (DeepSeek-V2-Lite), one `q_proj` (H → heads·(nope + rope));
//! * the compressed key-value: `kv_a_proj_with_mqa` (H → kv_lora_rank + rope), an RMSNorm over
//!   the latent part; the rope part is one key shared by every head;
//! * `kv_b_proj` (kv_lora_rank → heads·(nope + v)) up-projects the latent to per-head keys (the
//!   nope part) and values; `o_proj` (heads·v → H).
//!
//! The KV cache holds, per token and layer, the normalised latent (kv_lora_rank) and the roped
//! key part (qk_rope_head_dim): 576 values on DeepSeek-V3 against 2·128·128 = 32,768 for the
//! same heads under plain multi-head attention. Both modes keep that cache.

use super::{Builder, HfConfig, add, mul};
use crate::workload::dtype::Storage;
use crate::workload::graph::{AttnShape, OpKind, Role, TensorId};
use serde::Serialize;

/// How multi-head latent attention is priced. Chosen with the model-name parameter `mla`:
/// `deepseek-v2-lite?mla=naive` or `?mla=absorbed` (the default). The mode applies to prefill
/// and decode alike, as in DeepSeek's reference code (`attn_impl`); engines that decompress in
/// prefill and absorb in decode are priced by scoring each phase in its mode.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MlaMode {
    /// K and V decompressed: `kv_b_proj` up-projects the latent of every attended position
    /// (the whole cache in decode, the new tokens in prefill) to per-head keys and values, then
    /// attention runs per head with the query-key dimension nope + rope and the value dimension
    /// v. The paper's formulation and the prefill path of vLLM's MLA backend.
    Naive,
    /// The up-projections absorbed (DeepSeek's reference inference code, `attn_impl =
    /// "absorb"`; vLLM, SGLang and FlashMLA in decode): each query head's nope part is
    /// multiplied by its slice of `kv_b_proj`'s key half, giving a query in latent space;
    /// attention runs against the cache as it lies, one shared key head of dimension
    /// kv_lora_rank + rope and values of dimension kv_lora_rank; each head's output is then
    /// multiplied by its slice of the value half before `o_proj`. No per-position
    /// decompression, at the price of wider attention heads. The default, since it is how
    /// inference engines run DeepSeek models in decode.
    #[default]
    Absorbed,
}

impl MlaMode {
    /// Every mode's name, as the `mla` parameter takes it.
    pub const NAMES: [&'static str; 2] = ["naive", "absorbed"];

    /// The mode named `s` (`naive` or `absorbed`).
    pub fn parse(s: &str) -> Option<MlaMode> {
        match s {
            "naive" => Some(MlaMode::Naive),
            "absorbed" => Some(MlaMode::Absorbed),
            _ => None,
        }
    }
}

/// The shape of multi-head latent attention.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Mla {
    /// Rank of the query's compression (`q_lora_rank`); `None` for a plain q projection.
    pub q_lora_rank: Option<u64>,
    /// Rank of the key-value latent (`kv_lora_rank`).
    pub kv_lora_rank: u64,
    /// Per-head query/key dimension with RoPE (`qk_rope_head_dim`).
    pub rope_dim: u64,
    /// Per-head query/key dimension without RoPE (`qk_nope_head_dim`).
    pub nope_dim: u64,
    /// Per-head value dimension (`v_head_dim`).
    pub v_dim: u64,
    /// How it is priced.
    pub mode: MlaMode,
}

impl Mla {
    /// Reads the MLA fields of a DeepSeek config, or the field at fault and why.
    pub(super) fn from_hf(raw: &HfConfig) -> Result<Mla, (&'static str, String)> {
        let need = |field: &'static str, v: Option<u64>| match v {
            Some(v) if v > 0 => Ok(v),
            Some(_) => Err((field, "must be positive".to_string())),
            None => Err((
                field,
                "multi-head latent attention (deepseek_v2/v3) needs it".to_string(),
            )),
        };
        if raw.q_lora_rank == Some(0) {
            return Err((
                "q_lora_rank",
                "must be positive, or null for a plain q projection".into(),
            ));
        }
        Ok(Mla {
            q_lora_rank: raw.q_lora_rank,
            kv_lora_rank: need("kv_lora_rank", raw.kv_lora_rank)?,
            rope_dim: need("qk_rope_head_dim", raw.qk_rope_head_dim)?,
            nope_dim: need("qk_nope_head_dim", raw.qk_nope_head_dim)?,
            v_dim: need("v_head_dim", raw.v_head_dim)?,
            mode: MlaMode::default(),
        })
    }

    /// Query-key dimension per head: nope + rope.
    pub fn qk_head_dim(&self) -> u64 {
        self.nope_dim + self.rope_dim
    }

    /// Values cached per token and layer: the latent and the rope key part.
    pub fn cache_width(&self) -> u64 {
        self.kv_lora_rank + self.rope_dim
    }

    /// Parameters of one layer's attention with `heads` heads on width `hidden`: the query
    /// path (with its norm when compressed), `kv_a_proj_with_mqa` and its norm, `kv_b_proj`
    /// and `o_proj`. No biases (DeepSeek's `attention_bias` is false).
    pub fn try_params(&self, hidden: u64, heads: u64) -> Result<u64, &'static str> {
        let qk = mul(heads, self.qk_head_dim(), "qk_nope_head_dim")?;
        let q = match self.q_lora_rank {
            Some(r) => add(
                add(mul(hidden, r, "q_lora_rank")?, r, "q_lora_rank")?,
                mul(r, qk, "q_lora_rank")?,
                "q_lora_rank",
            )?,
            None => mul(hidden, qk, "num_attention_heads")?,
        };
        let f = "kv_lora_rank";
        let kv_a = add(mul(hidden, self.cache_width(), f)?, self.kv_lora_rank, f)?;
        let per_head = add(self.nope_dim, self.v_dim, "v_head_dim")?;
        let kv_b = mul(mul(self.kv_lora_rank, heads, f)?, per_head, f)?;
        let o = mul(mul(heads, self.v_dim, "v_head_dim")?, hidden, "v_head_dim")?;
        add(add(add(q, kv_a, f)?, kv_b, f)?, o, "v_head_dim")
    }
}

/// Where one layer's MLA sits in the step: the layer's name prefix and index, the batch, the
/// query heads, this step's tokens per sequence (`new_tokens`; `t` over the batch) and the
/// positions visible (`kv_len`).
struct MlaAt<'a> {
    p: &'a str,
    li: Option<u32>,
    b: u64,
    nh: u64,
    new_tokens: u64,
    t: u64,
    kv_len: u64,
}

impl MlaAt<'_> {
    /// The attention shape of this step with `kv_heads` key heads `head_dim` wide.
    fn shape(&self, kv_heads: u64, head_dim: u64) -> AttnShape {
        AttnShape {
            batch: self.b,
            q_heads: self.nh,
            kv_heads,
            q_len: self.new_tokens,
            kv_len: self.kv_len,
            head_dim,
            causal: true,
            window: None,
        }
    }
}

impl Builder<'_> {
    /// One layer's multi-head latent attention on the normalised input `xn` of this step's
    /// tokens, up to and including `o_proj`; `kv_len` positions are visible (cached and new).
    pub(super) fn mla_attention(
        &mut self,
        m: Mla,
        p: &str,
        li: Option<u32>,
        xn: TensorId,
        new_tokens: u64,
        kv_len: u64,
    ) -> TensorId {
        let c = self.c;
        let q = self.q;
        let b = self.b;
        let (h, nh) = (c.hidden, c.heads);
        let t = b * new_tokens;
        let (w, lc) = (q.weights, q.linear_compute);
        let qk = m.qk_head_dim();
        let kvr = m.kv_lora_rank;
        let prefill = matches!(self.phase, super::Phase::Prefill { .. });
        let at = MlaAt {
            p,
            li,
            b,
            nh,
            new_tokens,
            t,
            kv_len,
        };
        let qv = self.mla_query(&m, &at, xn);
        let kva = self.linear(
            &format!("{p}.attn.kv_a_proj"),
            li,
            xn,
            t,
            h,
            m.cache_width(),
            w,
            false,
            lc,
        );
        let lat = self.norm_w(&format!("{p}.attn.kv_a_norm"), li, kva, t, kvr);
        // RoPE rotates the rope part of every query head and the one shared key part.
        let qr = self.act(format!("{p}.attn.rope.q"), &[t, nh * qk]);
        let kr = self.act(format!("{p}.attn.rope.k"), &[t, m.rope_dim]);
        self.g.add_op(
            format!("{p}.attn.rope"),
            OpKind::Rope {
                elems: t * (nh * m.rope_dim + m.rope_dim),
            },
            &[qv, kva],
            &[qr, kr],
            q.float,
            li,
        );
        let (lat_cache, pe_cache) = self.mla_cache(&m, &at, lat, kr);
        // Prefill attends to the fresh latents; decode reads the cache.
        let (keys_lat, keys_pe, rows) = if prefill {
            (lat, kr, t)
        } else {
            (lat_cache, pe_cache, b * kv_len)
        };
        let ctx = match m.mode {
            MlaMode::Naive => self.mla_naive(&m, &at, qr, (keys_lat, keys_pe), rows),
            MlaMode::Absorbed => self.mla_absorbed(&m, &at, qr, (keys_lat, keys_pe)),
        };
        self.linear(
            &format!("{p}.attn.o_proj"),
            li,
            ctx,
            t,
            nh * m.v_dim,
            h,
            w,
            false,
            lc,
        )
    }

    /// The queries of all heads: one projection, or a compressed one (`q_lora_rank`) through
    /// its norm.
    fn mla_query(&mut self, m: &Mla, at: &MlaAt, xn: TensorId) -> TensorId {
        let (p, li, t) = (at.p, at.li, at.t);
        let q = self.q;
        let (h, nh) = (self.c.hidden, at.nh);
        let (w, lc) = (q.weights, q.linear_compute);
        let qk = m.qk_head_dim();
        match m.q_lora_rank {
            Some(r) => {
                let qa = self.linear(&format!("{p}.attn.q_a_proj"), li, xn, t, h, r, w, false, lc);
                let qn = self.norm_w(&format!("{p}.attn.q_a_norm"), li, qa, t, r);
                self.linear(
                    &format!("{p}.attn.q_b_proj"),
                    li,
                    qn,
                    t,
                    r,
                    nh * qk,
                    w,
                    false,
                    lc,
                )
            }
            None => self.linear(
                &format!("{p}.attn.q_proj"),
                li,
                xn,
                t,
                h,
                nh * qk,
                w,
                false,
                lc,
            ),
        }
    }

    /// The latent and rope-key caches of `kv_len` positions, with this step's appends of the
    /// latent `lat` and the rotated key part `kr`.
    fn mla_cache(
        &mut self,
        m: &Mla,
        at: &MlaAt,
        lat: TensorId,
        kr: TensorId,
    ) -> (TensorId, TensorId) {
        let (p, li, t, b, kv_len) = (at.p, at.li, at.t, at.b, at.kv_len);
        let q = self.q;
        let kvr = m.kv_lora_rank;
        let lat_cache = self.g.add_tensor(
            format!("{p}.kv_cache"),
            &[b, kv_len, kvr],
            q.kv,
            Role::KvCache,
        );
        let pe_cache = self.g.add_tensor(
            format!("{p}.pe_cache"),
            &[b, kv_len, m.rope_dim],
            q.kv,
            Role::KvCache,
        );
        for (name, x, cache, width) in [
            ("kv_append", lat, lat_cache, kvr),
            ("pe_append", kr, pe_cache, m.rope_dim),
        ] {
            self.g.add_op(
                format!("{p}.attn.{name}"),
                OpKind::KvAppend {
                    tokens: t,
                    kv_heads: 1,
                    head_dim: width,
                },
                &[x],
                &[cache],
                q.float,
                li,
            );
        }
        (lat_cache, pe_cache)
    }

    /// Naive MLA: the keys' nope part and the values are expanded from the latent keys of
    /// `rows` positions, then attended to per head.
    fn mla_naive(
        &mut self,
        m: &Mla,
        at: &MlaAt,
        qr: TensorId,
        (keys_lat, keys_pe): (TensorId, TensorId),
        rows: u64,
    ) -> TensorId {
        let (p, li) = (at.p, at.li);
        let q = self.q;
        let (w, lc) = (q.weights, q.linear_compute);
        let (nh, kvr, qk) = (at.nh, m.kv_lora_rank, m.qk_head_dim());
        let kn = self.linear(
            &format!("{p}.attn.k_b_proj"),
            li,
            keys_lat,
            rows,
            kvr,
            nh * m.nope_dim,
            w,
            false,
            lc,
        );
        let vv = self.linear(
            &format!("{p}.attn.v_b_proj"),
            li,
            keys_lat,
            rows,
            kvr,
            nh * m.v_dim,
            w,
            false,
            lc,
        );
        self.attention_core(
            p,
            li,
            &[qr, kn, keys_pe],
            &[vv],
            (at.shape(nh, qk), at.shape(nh, m.v_dim)),
            nh * m.v_dim,
        )
    }

    /// Absorbed MLA: `k_b_proj` is absorbed into the queries and `v_b_proj` applied after
    /// attention, which attends to the latents directly as one shared head.
    fn mla_absorbed(
        &mut self,
        m: &Mla,
        at: &MlaAt,
        qr: TensorId,
        (keys_lat, keys_pe): (TensorId, TensorId),
    ) -> TensorId {
        let (p, li) = (at.p, at.li);
        let q = self.q;
        let (w, lc) = (q.weights, q.linear_compute);
        let (t, nh, kvr) = (at.t, at.nh, m.kv_lora_rank);
        let wk = self.weight(
            format!("{p}.attn.k_b_proj.weight"),
            &[nh * m.nope_dim, kvr],
            w,
        );
        let ql = self.act(format!("{p}.attn.q_absorb.out"), &[t, nh * kvr]);
        self.g.add_op(
            format!("{p}.attn.q_absorb"),
            OpKind::MatMul {
                batch: nh,
                m: t,
                n: kvr,
                k: m.nope_dim,
            },
            &[qr, wk],
            &[ql],
            lc,
            li,
        );
        let cl = self.attention_core(
            p,
            li,
            &[ql, qr, keys_lat, keys_pe],
            &[keys_lat],
            (at.shape(1, m.cache_width()), at.shape(1, kvr)),
            nh * kvr,
        );
        let wv = self.weight(format!("{p}.attn.v_b_proj.weight"), &[nh * m.v_dim, kvr], w);
        let cv = self.act(format!("{p}.attn.v_absorb.out"), &[t, nh * m.v_dim]);
        self.g.add_op(
            format!("{p}.attn.v_absorb"),
            OpKind::MatMul {
                batch: nh,
                m: t,
                n: m.v_dim,
                k: kvr,
            },
            &[cl, wv],
            &[cv],
            lc,
            li,
        );
        cv
    }
}

/// The storage of MLA's cache: the latent and rope rows of `rows` positions under `kv`.
pub(super) fn cache_bytes(m: &Mla, kv: Storage, rows: u64) -> f64 {
    kv.bytes_rows(rows, m.kv_lora_rank) + kv.bytes_rows(rows, m.rope_dim)
}
