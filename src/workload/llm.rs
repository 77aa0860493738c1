//! Decoder-only LLMs from a Hugging Face `config.json`: parsing, parameter counts, and graphs for
//! prefill and decode.
//!
//! Families (by `model_type`): llama (Llama 2/3/3.1, SmolLM2, TinyLlama, and MobileLLM, which is
//! llama-shaped), qwen2, qwen3, qwen3_moe, mistral, mixtral, gemma, gemma2, gemma3 and
//! gemma3_text, phi3, deepseek_v2 and deepseek_v3. Multi-head latent attention is in [`mla`],
//! the mixture-of-experts layout in [`moe`], and the per-family reading of a config in
//! [`families`].
//! The ledger avoids the bookkeeping errors common in LLM roofline tools:
//! * the LM head is a real matmul (2 FLOPs per MAC) and its weights are in the footprint (once,
//!   when tied to the embedding);
//! * prefill attention is causal (query i sees i+1 keys), so its FLOPs are about half of s²;
//! * decode reads the KV cache at the current length with the KV head count (GQA), not the query
//!   head count;
//! * the MLP activation runs over the intermediate size;
//! * a sliding-window layer attends over at most `window` keys and caches at most `window`
//!   positions, in prefill and in decode; a global layer of the same model (Gemma 2 and 3
//!   alternate them) attends over and caches the whole context;
//! * a MoE layer reads only the experts its tokens are routed to ([`moe`]).
//!
//! Graph conventions:
//! * prefill of P prompt tokens at batch B processes B·P tokens; only the last token of each
//!   sequence goes through the final norm and LM head (as llama.cpp and vLLM do);
//! * decode of one token at context L appends its key and value, then attends over the L cached
//!   positions (the new one included), capped by the sliding window where the layer has one;
//! * projections are modelled unfused (q, k, v separately; gate and up separately), which changes
//!   only how often the small input activation is re-read.
//! * RoPE variants and their scaling (Llama 3.1's `llama3` frequencies, Phi-3's `longrope`,
//!   DeepSeek's `yarn`, Gemma 3's two bases) change the rotation angles only, never the count
//!   of multiplies or the bytes moved, so `rope_scaling` is not read.

use super::dtype::{DType, Storage};
use super::ggml::{TensorCategory, TensorSite};
use super::graph::{AttnPart, AttnShape, EltOp, Graph, NormKind, OpKind, Role, TensorId};
use super::quant::QuantScheme;
use serde::{Deserialize, Serialize};
use std::path::Path;

pub use super::error::ModelError;
pub use families::SUPPORTED_MODEL_TYPES;
pub use mla::{Mla, MlaMode};
pub use moe::MoeLayout;

pub mod families;
pub mod mla;
pub mod moe;

// Limits on the sizes a config may give. Each sits well above the largest published decoder
// LLM, so every real config loads, while a hostile one (10^7 layers, a 2^62-wide MLP) is refused
// before anything is allocated or multiplied. With all of them at their limits, the parameter
// count and every tensor of a graph at [`MAX_BATCH`] × [`MAX_TOKENS`] stay far below 2^64
// except for a few products the graph checks anyway ([`LlmConfig::check_phase`]).

/// Most transformer blocks (`num_hidden_layers`): the deepest published decoders have 118 (PaLM
/// 540B) and 126 (Llama 3.1 405B); 1,024 leaves 8× headroom.
pub const MAX_LAYERS: u64 = 1 << 10;
/// Widest model (`hidden_size`): PaLM 540B has 18,432 and MT-NLG 530B 20,480; 65,536 is 3× that.
pub const MAX_HIDDEN: u64 = 1 << 16;
/// Widest MLP (`intermediate_size`): PaLM 540B has 73,728 and Llama 3.1 405B 53,248; 262,144
/// is 3.5× that.
pub const MAX_INTERMEDIATE: u64 = 1 << 18;
/// Largest vocabulary (`vocab_size`): Gemma has 256,000 (Gemma 3: 262,144); 2,097,152 is 8× that.
pub const MAX_VOCAB: u64 = 1 << 21;
/// Most query heads (`num_attention_heads`, and so `num_key_value_heads`, which divides it):
/// Llama 3.1 405B and MT-NLG have 128; 1,024 is 8× that.
pub const MAX_HEADS: u64 = 1 << 10;
/// Largest head dimension (`head_dim`): Gemma and PaLM use 256; 1,024 is 4× that.
pub const MAX_HEAD_DIM: u64 = 1 << 10;
/// Most experts per MoE layer (`num_local_experts`, `num_experts`, `n_routed_experts`, and so
/// `num_experts_per_tok`; also `n_shared_experts`): Switch-C has 2,048, DeepSeek-V3 256; 4,096
/// is 2× the largest.
pub const MAX_EXPERTS: u64 = 1 << 12;
/// Widest low-rank latent of multi-head latent attention (`q_lora_rank`, `kv_lora_rank`):
/// DeepSeek-V3 has 1,536 and 512; 65,536 is 40× that.
pub const MAX_LORA_RANK: u64 = 1 << 16;
/// Longest context (`max_position_embeddings`, `sliding_window`, and the prompt and context
/// lengths scored): Llama 4 Scout was trained for 10,485,760 tokens; 2^27 (134 M) is 12× that.
pub const MAX_TOKENS: u64 = 1 << 27;
/// Largest batch scored: serving engines run at most a few thousand sequences per step (vLLM's
/// default cap is 256); 65,536 is far above any of them.
pub const MAX_BATCH: u64 = 1 << 16;

/// `a × b`, or an error naming `field` when the product does not fit 64 bits.
fn mul(a: u64, b: u64, field: &'static str) -> Result<u64, &'static str> {
    a.checked_mul(b).ok_or(field)
}

/// `a + b`, or an error naming `field` when the sum does not fit 64 bits.
fn add(a: u64, b: u64, field: &'static str) -> Result<u64, &'static str> {
    a.checked_add(b).ok_or(field)
}

/// The subset of a Hugging Face `config.json` archscope reads. Unknown fields are ignored, since
/// real configs carry many (tokenizer ids, dtype, training settings).
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
pub struct HfConfig {
    /// One of [`SUPPORTED_MODEL_TYPES`] (`gemma3` is read through its `text_config`).
    pub model_type: String,
    /// Model width.
    pub hidden_size: u64,
    /// MLP inner width.
    pub intermediate_size: u64,
    /// Transformer blocks.
    pub num_hidden_layers: u64,
    /// Query heads.
    pub num_attention_heads: u64,
    /// KV heads (GQA); defaults to the query heads.
    #[serde(default)]
    pub num_key_value_heads: Option<u64>,
    /// Per-head dimension; defaults to hidden / heads.
    #[serde(default)]
    pub head_dim: Option<u64>,
    /// Vocabulary.
    pub vocab_size: u64,
    /// LM head shares the embedding table; the family decides the default.
    #[serde(default)]
    pub tie_word_embeddings: Option<bool>,
    /// MobileLLM's name for a tied embedding.
    #[serde(default)]
    pub share_embedding: Option<bool>,
    /// MobileLLM-LS: adjacent blocks share weights (not modelled; rejected).
    #[serde(default)]
    pub layer_sharing: Option<bool>,
    /// MLP activation (`silu`, `gelu`, `gelu_pytorch_tanh`).
    #[serde(default)]
    pub hidden_act: Option<String>,
    /// Newer Gemma configs name the activation here.
    #[serde(default)]
    pub hidden_activation: Option<String>,
    /// Bias on q/k/v/o (llama-family flag).
    #[serde(default)]
    pub attention_bias: Option<bool>,
    /// Bias on MLP projections.
    #[serde(default)]
    pub mlp_bias: Option<bool>,
    /// Sliding attention window; null means none. Which layers use it depends on the family
    /// ([`families::sliding_window`]).
    #[serde(default)]
    pub sliding_window: Option<u64>,
    /// Experts per MoE layer (mixtral).
    #[serde(default)]
    pub num_local_experts: Option<u64>,
    /// Experts chosen per token.
    #[serde(default)]
    pub num_experts_per_tok: Option<u64>,
    /// Context length the model was trained for.
    #[serde(default)]
    pub max_position_embeddings: Option<u64>,
    /// Training dtype, informational.
    #[serde(default)]
    pub torch_dtype: Option<String>,
    /// Qwen2/Qwen3: whether `sliding_window` is used at all (it is set but unused on the
    /// published checkpoints).
    #[serde(default)]
    pub use_sliding_window: Option<bool>,
    /// Qwen2/Qwen3 with `use_sliding_window`: layers from this index on use the window.
    #[serde(default)]
    pub max_window_layers: Option<u64>,
    /// Gemma 3: every this many layers one is global, the others local.
    #[serde(default)]
    pub sliding_window_pattern: Option<u64>,
    /// Gemma 2: soft-cap of the attention scores.
    #[serde(default)]
    pub attn_logit_softcapping: Option<f64>,
    /// Gemma 2: soft-cap of the final logits.
    #[serde(default)]
    pub final_logit_softcapping: Option<f64>,
    /// qwen3_moe: experts per MoE layer.
    #[serde(default)]
    pub num_experts: Option<u64>,
    /// DeepSeek: routed experts per MoE layer.
    #[serde(default)]
    pub n_routed_experts: Option<u64>,
    /// DeepSeek: shared experts (always active) per MoE layer.
    #[serde(default)]
    pub n_shared_experts: Option<u64>,
    /// qwen3_moe and DeepSeek: MLP width of one expert.
    #[serde(default)]
    pub moe_intermediate_size: Option<u64>,
    /// DeepSeek: the first this many layers have a dense MLP of `intermediate_size`.
    #[serde(default)]
    pub first_k_dense_replace: Option<u64>,
    /// DeepSeek: a MoE layer every this many (only 1, every layer, is modelled).
    #[serde(default)]
    pub moe_layer_freq: Option<u64>,
    /// qwen3_moe: a MoE layer every this many (only 1 is modelled).
    #[serde(default)]
    pub decoder_sparse_step: Option<u64>,
    /// qwen3_moe: layers with a dense MLP instead (only none is modelled).
    #[serde(default)]
    pub mlp_only_layers: Option<Vec<u64>>,
    /// DeepSeek routing; `noaux_tc` (V3) adds a per-expert score-correction bias.
    #[serde(default)]
    pub topk_method: Option<String>,
    /// MLA: rank of the query's low-rank compression; null means a plain q projection.
    #[serde(default)]
    pub q_lora_rank: Option<u64>,
    /// MLA: rank of the compressed key-value latent (what the cache holds).
    #[serde(default)]
    pub kv_lora_rank: Option<u64>,
    /// MLA: per-head query/key dimension that carries RoPE (one shared key part per token).
    #[serde(default)]
    pub qk_rope_head_dim: Option<u64>,
    /// MLA: per-head query/key dimension without RoPE.
    #[serde(default)]
    pub qk_nope_head_dim: Option<u64>,
    /// MLA: per-head value dimension.
    #[serde(default)]
    pub v_head_dim: Option<u64>,
    /// A GGUF file's type of each tensor (set by [`super::gguf`], not a Hugging Face field).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gguf: Option<super::gguf::GgufWeights>,
}

/// Supported architecture families.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    /// Llama 2/3/3.1, SmolLM2, TinyLlama, MobileLLM.
    Llama,
    /// Qwen1.5 / Qwen2 / Qwen2.5 (q/k/v biases).
    Qwen2,
    /// Qwen3 (per-head q/k RMSNorm).
    Qwen3,
    /// Qwen3-MoE (per-head q/k RMSNorm, routed experts, no shared expert).
    #[serde(rename = "qwen3_moe")]
    Qwen3Moe,
    /// Mistral (sliding window).
    Mistral,
    /// Mixtral (MoE).
    Mixtral,
    /// Gemma (GeGLU, scaled embedding, tied head).
    Gemma,
    /// Gemma 2 (local and global layers alternating, pre- and post-norms, soft-capping).
    Gemma2,
    /// Gemma 3 (five local layers to one global, q/k norms, pre- and post-norms).
    Gemma3,
    /// Phi-3 (fused projections, modelled unfused; sliding window where set).
    Phi3,
    /// DeepSeek-V2 and V3 (multi-head latent attention, shared and routed experts).
    DeepSeek,
}

impl Family {
    /// The family's name as `models list` prints it.
    pub fn name(self) -> &'static str {
        match self {
            Family::Llama => "llama",
            Family::Qwen2 => "qwen2",
            Family::Qwen3 => "qwen3",
            Family::Qwen3Moe => "qwen3_moe",
            Family::Mistral => "mistral",
            Family::Mixtral => "mixtral",
            Family::Gemma => "gemma",
            Family::Gemma2 => "gemma2",
            Family::Gemma3 => "gemma3",
            Family::Phi3 => "phi3",
            Family::DeepSeek => "deepseek",
        }
    }
}

/// Which layers of a model with a `sliding_window` use it; the others attend globally.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LocalLayers {
    /// Every layer (Mistral, Phi-3).
    All,
    /// Layer `l` is global when `(l + 1)` is a multiple of the period, local otherwise: Gemma 2
    /// alternates (period 2: layer 0 local, layer 1 global), Gemma 3 has period
    /// `sliding_window_pattern` (6: five local, then one global).
    GlobalEvery(u64),
    /// Layers from this index on are local (Qwen2's `max_window_layers` with
    /// `use_sliding_window`).
    From(u64),
}

/// A validated model description.
#[derive(Clone, Debug, Serialize)]
pub struct LlmConfig {
    /// Name shown in reports.
    pub name: String,
    /// Family.
    pub family: Family,
    /// Width.
    pub hidden: u64,
    /// MLP width (per expert for MoE).
    pub ffn: u64,
    /// Blocks.
    pub layers: u64,
    /// Query heads.
    pub heads: u64,
    /// KV heads.
    pub kv_heads: u64,
    /// Per-head dimension.
    pub head_dim: u64,
    /// Vocabulary.
    pub vocab: u64,
    /// Tied embedding and LM head.
    pub tied: bool,
    /// Gated MLP activation (SwiGLU or GeGLU).
    pub act: EltOp,
    /// Biases on q, k, v.
    pub qkv_bias: bool,
    /// Bias on the output projection.
    pub o_bias: bool,
    /// Biases on MLP projections.
    pub mlp_bias: bool,
    /// Sliding window.
    pub window: Option<u64>,
    /// MoE: (routed experts, experts per token).
    pub moe: Option<(u64, u64)>,
    /// Which layers use `window` (when it is set).
    pub local_layers: LocalLayers,
    /// Per-head RMSNorm of the queries and keys before RoPE (Qwen3, Gemma 3).
    pub qk_norm: bool,
    /// Norms after attention and after the MLP as well as before them (Gemma 2 and 3): four
    /// per layer instead of two.
    pub sandwich_norm: bool,
    /// Embedding scaled by √hidden (the Gemma families).
    pub embed_scale: bool,
    /// Soft-cap of the attention scores (Gemma 2).
    pub attn_softcap: Option<f64>,
    /// Soft-cap of the final logits (Gemma 2).
    pub final_softcap: Option<f64>,
    /// Multi-head latent attention (DeepSeek), in place of the q/k/v projections.
    pub mla: Option<Mla>,
    /// The MoE layout beyond (experts, top-k): expert width, shared experts, dense layers.
    pub moe_layout: MoeLayout,
    /// The raw config.
    pub raw: HfConfig,
}

/// Which phase of generation to build.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase", tag = "phase")]
pub enum Phase {
    /// Process a prompt of `prompt` tokens.
    Prefill {
        /// Prompt tokens.
        prompt: u64,
    },
    /// Generate one token with `context` positions in the cache after appending it.
    Decode {
        /// KV-cache length read.
        context: u64,
    },
}

impl Phase {
    /// `prefill` or `decode`.
    pub fn name(&self) -> &'static str {
        match self {
            Phase::Prefill { .. } => "prefill",
            Phase::Decode { .. } => "decode",
        }
    }

    /// The names of the phase's time and rate metrics in reports: `ttft_s` and
    /// `prefill_tokens_per_s`, or `tpot_s` and `decode_tokens_per_s`.
    pub fn metric_names(&self) -> (&'static str, &'static str) {
        match self {
            Phase::Prefill { .. } => ("ttft_s", "prefill_tokens_per_s"),
            Phase::Decode { .. } => ("tpot_s", "decode_tokens_per_s"),
        }
    }
}

fn json_err(path: &str, e: serde_json::Error) -> ModelError {
    ModelError::Json {
        path: path.to_string(),
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    }
}

impl LlmConfig {
    /// Reads and validates a `config.json` file.
    pub fn from_file(path: &Path) -> Result<LlmConfig, ModelError> {
        let p = path.display().to_string();
        if path.is_dir() {
            return Err(ModelError::Directory { path: p });
        }
        let text = crate::util::text::read_utf8(path).map_err(|cause| ModelError::Io {
            path: p.clone(),
            cause,
        })?;
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        Self::from_json(&text, &p, &name)
    }

    /// Parses and validates config text; `path` is used in errors, `name` in reports. A
    /// `gemma3` (multimodal) config is read through its `text_config`
    /// ([`families::gemma3_text_config`]); the vision tower is not modelled.
    pub fn from_json(text: &str, path: &str, name: &str) -> Result<LlmConfig, ModelError> {
        if families::is_gemma3_wrapper(text) {
            let v: serde_json::Value = serde_json::from_str(text).map_err(|e| json_err(path, e))?;
            let raw = families::gemma3_text_config(&v).map_err(|message| ModelError::Invalid {
                path: path.to_string(),
                field: "text_config",
                message,
            })?;
            return Self::from_hf(raw, path, name);
        }
        let raw: HfConfig = serde_json::from_str(text).map_err(|e| json_err(path, e))?;
        Self::from_hf(raw, path, name)
    }

    /// Validates a parsed config.
    pub fn from_hf(raw: HfConfig, path: &str, name: &str) -> Result<LlmConfig, ModelError> {
        let invalid = |field: &'static str, message: String| ModelError::Invalid {
            path: path.to_string(),
            field,
            message,
        };
        let family = families::family_of(&raw.model_type).ok_or_else(|| {
            invalid(
                "model_type",
                format!(
                    "`{}` is not supported; expected one of {}",
                    raw.model_type,
                    SUPPORTED_MODEL_TYPES.join(", ")
                ),
            )
        })?;
        check_config_sizes(&raw).map_err(|(f, m)| invalid(f, m))?;
        let (heads, kv_heads, mla, head_dim) =
            attention_dims(family, &raw).map_err(|(f, m)| invalid(f, m))?;
        let gemma_like = matches!(family, Family::Gemma | Family::Gemma2 | Family::Gemma3);
        // Transformers' per-family defaults when the flag is absent.
        let tied =
            raw.share_embedding == Some(true) || raw.tie_word_embeddings.unwrap_or(gemma_like);
        if raw.layer_sharing == Some(true) {
            return Err(invalid(
                "layer_sharing",
                "block-wise weight sharing (MobileLLM-LS) is not modelled; use a config with layer_sharing false".into(),
            ));
        }
        let act = activation(&raw).map_err(|(f, m)| invalid(f, m))?;
        let (moe, moe_layout) = moe::read_moe(family, &raw).map_err(|(f, m)| invalid(f, m))?;
        let (window, local_layers) =
            families::sliding_window(family, &raw).map_err(|(f, m)| invalid(f, m))?;
        let (attn_softcap, final_softcap) =
            softcaps(family, &raw).map_err(|(f, m)| invalid(f, m))?;
        let attention_bias = raw.attention_bias.unwrap_or(false);
        let cfg = LlmConfig {
            name: name.to_string(),
            family,
            hidden: raw.hidden_size,
            ffn: raw.intermediate_size,
            layers: raw.num_hidden_layers,
            heads,
            kv_heads,
            head_dim,
            vocab: raw.vocab_size,
            tied,
            act,
            qkv_bias: attention_bias || family == Family::Qwen2,
            o_bias: attention_bias,
            mlp_bias: raw.mlp_bias.unwrap_or(false),
            window,
            moe,
            local_layers,
            qk_norm: matches!(family, Family::Qwen3 | Family::Qwen3Moe | Family::Gemma3),
            sandwich_norm: matches!(family, Family::Gemma2 | Family::Gemma3),
            embed_scale: gemma_like,
            attn_softcap,
            final_softcap,
            mla,
            moe_layout,
            raw,
        };
        cfg.try_param_count().map_err(|field| {
            invalid(
                field,
                "the parameter count overflows 64 bits; expected a size archscope can count".into(),
            )
        })?;
        Ok(cfg)
    }

    /// The same model with multi-head latent attention priced in `mode` (no change for a model
    /// without MLA).
    pub fn with_mla_mode(mut self, mode: MlaMode) -> LlmConfig {
        if let Some(m) = self.mla.as_mut() {
            m.mode = mode;
        }
        self
    }

    /// The sliding window of layer `layer`, or `None` where it attends globally.
    pub fn layer_window(&self, layer: u64) -> Option<u64> {
        let w = self.window?;
        let local = match self.local_layers {
            LocalLayers::All => true,
            LocalLayers::GlobalEvery(p) => !(layer + 1).is_multiple_of(p),
            LocalLayers::From(first) => layer >= first,
        };
        local.then_some(w)
    }

    /// How many layers use the sliding window (0 without one).
    pub fn local_layer_count(&self) -> u64 {
        match (self.window, self.local_layers) {
            (None, _) => 0,
            (Some(_), LocalLayers::All) => self.layers,
            (Some(_), LocalLayers::GlobalEvery(p)) => self.layers - self.layers / p,
            (Some(_), LocalLayers::From(first)) => self.layers.saturating_sub(first),
        }
    }

    /// Query projection width.
    pub fn q_dim(&self) -> u64 {
        self.heads * self.head_dim
    }

    /// Key (or value) projection width.
    pub fn kv_dim(&self) -> u64 {
        self.kv_heads * self.head_dim
    }

    /// Parameters, counted from the config: embeddings, per-layer attention (with biases where
    /// the family has them, per-head q/k norms, or MLA's projections and norms), the MLP, or in
    /// MoE layers the experts, router and shared experts, two norms per layer (four with
    /// Gemma's post-norms), the final norm, and the LM head unless tied. A config from
    /// [`LlmConfig::from_hf`] always has a count that fits 64 bits; for one whose fields were
    /// changed past that, this saturates at `u64::MAX` (see [`LlmConfig::try_param_count`]).
    pub fn param_count(&self) -> u64 {
        self.try_param_count().unwrap_or(u64::MAX)
    }

    /// Parameters of one layer's attention (without its norms).
    fn try_attn_params(&self) -> Result<u64, &'static str> {
        if let Some(m) = &self.mla {
            return m.try_params(self.hidden, self.heads);
        }
        let h = self.hidden;
        let q_dim = mul(self.heads, self.head_dim, "head_dim")?;
        let kv_dim = mul(self.kv_heads, self.head_dim, "head_dim")?;
        let hq = mul(h, q_dim, "num_attention_heads")?;
        let two_h = mul(2, h, "hidden_size")?;
        let hkv = mul(two_h, kv_dim, "num_key_value_heads")?;
        let attn = add(
            add(hq, hkv, "num_key_value_heads")?,
            hq,
            "num_attention_heads",
        )?;
        let qkv_bias = if self.qkv_bias {
            add(q_dim, mul(2, kv_dim, "head_dim")?, "head_dim")?
        } else {
            0
        };
        let attn_bias = add(qkv_bias, if self.o_bias { h } else { 0 }, "hidden_size")?;
        let qk_norm = if self.qk_norm {
            mul(2, self.head_dim, "head_dim")?
        } else {
            0
        };
        add(add(attn, attn_bias, "head_dim")?, qk_norm, "head_dim")
    }

    /// [`LlmConfig::param_count`] in checked arithmetic: the config field whose product
    /// overflows 64 bits is the error.
    pub fn try_param_count(&self) -> Result<u64, &'static str> {
        let h = self.hidden;
        let f = "intermediate_size";
        let attn = self.try_attn_params()?;
        let norms = mul(if self.sandwich_norm { 4 } else { 2 }, h, "hidden_size")?;
        let attn_norms = add(attn, norms, "hidden_size")?;
        let dense = add(attn_norms, self.try_mlp_params(self.ffn)?, f)?;
        let n_moe = self.moe_layer_count();
        let moe = match self.moe {
            Some((e, _)) => add(attn_norms, self.try_moe_params(e)?, "num_local_experts")?,
            None => 0,
        };
        let l = "num_hidden_layers";
        let layers = add(mul(self.layers - n_moe, dense, l)?, mul(n_moe, moe, l)?, l)?;
        let embed = mul(self.vocab, h, "vocab_size")?;
        let head = if self.tied { 0 } else { embed };
        add(
            add(add(embed, layers, l)?, h, "hidden_size")?,
            head,
            "vocab_size",
        )
    }

    /// KV-cache bytes for `batch` sequences of `context` positions under `quant`: K and V of
    /// the KV heads per layer, each local layer holding at most its window; with multi-head
    /// latent attention, the latent and rope key per position and layer.
    pub fn kv_cache_bytes(&self, quant: &QuantScheme, batch: u64, context: u64) -> f64 {
        if let Some(m) = &self.mla {
            return self.layers as f64 * mla::cache_bytes(m, quant.kv, batch * context);
        }
        let per_layer = |len: u64| {
            2.0 * quant
                .kv
                .bytes_rows(batch * self.kv_heads * len, self.head_dim)
        };
        let local = self.local_layer_count();
        let window_len = self.window.map_or(context, |w| w.min(context));
        local as f64 * per_layer(window_len) + (self.layers - local) as f64 * per_layer(context)
    }

    /// Checks that the graph of `phase` at `batch` can be built: batch within 1 to
    /// [`MAX_BATCH`], prompt or context within 1 to [`MAX_TOKENS`], and every tensor and op
    /// size of the graph (tokens × width, the KV cache, the attention scores, the experts)
    /// within 64 bits.
    pub fn check_phase(&self, phase: Phase, batch: u64) -> Result<(), ModelError> {
        match phase {
            Phase::Prefill { prompt } => self.check_sizes(phase, "prompt", prompt, prompt, batch),
            Phase::Decode { context } => self.check_sizes(phase, "context", context, 1, batch),
        }
    }

    /// Checks that the verify pass of [`LlmConfig::try_build_verify`] can be built: `tokens`
    /// from 1 to `context`, and the sizes of [`LlmConfig::check_phase`] with `tokens` queries
    /// per sequence and logits at every one of them.
    pub fn check_verify(&self, context: u64, tokens: u64, batch: u64) -> Result<(), ModelError> {
        if tokens == 0 || tokens > context {
            return Err(ModelError::Spec {
                name: self.name.clone(),
                message: format!(
                    "verify pass of {tokens} tokens at context {context}: expected 1 to \
                     {context} tokens (the cache holds the tokens it verifies)"
                ),
            });
        }
        let phase = Phase::Decode { context };
        self.check_sizes(phase, "context", context, tokens, batch)?;
        // Every verified position gets logits.
        batch
            .checked_mul(tokens)
            .and_then(|t| t.checked_mul(self.vocab))
            .map(|_| ())
            .ok_or_else(|| ModelError::Spec {
                name: self.name.clone(),
                message: format!(
                    "verify pass of {tokens} tokens at batch {batch}: the logits would have \
                     more than 2^64 elements; expected a smaller batch"
                ),
            })
    }

    /// The size checks of one step: `len` (the prompt or the context) of 1 to [`MAX_TOKENS`],
    /// `new_tokens` per sequence, and every tensor within 64 bits.
    fn check_sizes(
        &self,
        phase: Phase,
        what: &str,
        len: u64,
        new_tokens: u64,
        batch: u64,
    ) -> Result<(), ModelError> {
        let spec = |message: String| ModelError::Spec {
            name: self.name.clone(),
            message,
        };
        if batch == 0 || batch > MAX_BATCH {
            return Err(spec(format!(
                "batch {batch}: expected 1 to {MAX_BATCH} sequences"
            )));
        }
        if len == 0 || len > MAX_TOKENS {
            return Err(spec(format!(
                "{what} {len}: expected 1 to {MAX_TOKENS} tokens"
            )));
        }
        // The widest layer: a global one, unless every layer is local.
        let window = self
            .window
            .filter(|_| self.local_layer_count() == self.layers);
        let cache_len = window.map_or(len, |w| w.min(len));
        let (experts, top_k) = self.moe.unwrap_or((1, 1));
        let shape = AttnShape {
            batch,
            q_heads: self.heads,
            kv_heads: self.kv_heads,
            q_len: new_tokens,
            kv_len: len,
            head_dim: self.head_dim,
            causal: true,
            window,
        };
        let fits = || -> Option<()> {
            let t = batch.checked_mul(new_tokens)?;
            let q_dim = self.heads.checked_mul(self.head_dim)?;
            let kv_dim = self.kv_heads.checked_mul(self.head_dim)?;
            let ffn = self
                .ffn
                .max(self.expert_ffn())
                .max(self.moe_layout.shared_ffn);
            for width in [self.hidden, ffn, q_dim.checked_add(kv_dim)?, experts] {
                t.checked_mul(width)?;
            }
            t.checked_mul(top_k)?.checked_mul(ffn)?;
            batch.checked_mul(self.vocab)?;
            self.vocab.checked_mul(self.hidden)?;
            experts.checked_mul(ffn)?.checked_mul(self.hidden)?;
            batch
                .checked_mul(self.kv_heads)?
                .checked_mul(cache_len)?
                .checked_mul(self.head_dim)?;
            if let Some(m) = &self.mla {
                // Absorbed queries and contexts are per head in latent width; naive decode
                // decompresses every cached position to per-head keys and values.
                let latent = self.heads.checked_mul(m.cache_width())?;
                let per_head = self.heads.checked_mul(m.nope_dim.checked_add(m.v_dim)?)?;
                t.checked_mul(latent)?;
                batch
                    .checked_mul(len)?
                    .checked_mul(per_head.max(m.cache_width()))?;
            }
            // The scores tensor holds one element per (query, key) pair, head and sequence.
            let scores = shape.pairs() * batch as f64 * self.heads as f64;
            (scores < u64::MAX as f64).then_some(())
        };
        fits().ok_or_else(|| {
            spec(format!(
                "{} of {what} {len} at batch {batch}: a tensor of the graph would have more than \
                 2^64 elements; expected a smaller batch or {what}",
                phase.name()
            ))
        })
    }

    /// [`LlmConfig::build`] after [`LlmConfig::check_phase`]: the graph, or why it cannot be
    /// built at this size.
    pub fn try_build(
        &self,
        quant: &QuantScheme,
        phase: Phase,
        batch: u64,
    ) -> Result<Graph, ModelError> {
        self.check_phase(phase, batch)?;
        Ok(self.build(quant, phase, batch))
    }

    /// Builds the graph of one phase at batch `batch` under `quant`. The sizes are not checked:
    /// use [`LlmConfig::try_build`] for a batch, prompt or context that comes from a user.
    pub fn build(&self, quant: &QuantScheme, phase: Phase, batch: u64) -> Graph {
        Builder::new(self, quant, phase, batch).build()
    }

    /// [`LlmConfig::build_verify`] after [`LlmConfig::check_verify`].
    pub fn try_build_verify(
        &self,
        quant: &QuantScheme,
        context: u64,
        tokens: u64,
        batch: u64,
    ) -> Result<Graph, ModelError> {
        self.check_verify(context, tokens, batch)?;
        Ok(self.build_verify(quant, context, tokens, batch))
    }

    /// The verify pass of speculative decoding: `tokens` new tokens per sequence (the last
    /// accepted token and the drafts) go through every layer at once, append their keys and
    /// values and attend causally over the cache, which holds `context` positions after the
    /// append (so the first new token sees `context - tokens + 1` of them); unlike prefill,
    /// every new position gets logits, since each one is checked. It is the decode graph with
    /// `tokens` query rows per sequence (a decode step is `tokens = 1`). Sizes are not checked:
    /// use [`LlmConfig::try_build_verify`] for sizes that come from a user.
    pub fn build_verify(
        &self,
        quant: &QuantScheme,
        context: u64,
        tokens: u64,
        batch: u64,
    ) -> Graph {
        let mut b = Builder::new(self, quant, Phase::Decode { context }, batch);
        b.queries = tokens;
        b.g = Graph::new(format!(
            "{} verify b{batch} L{context} T{tokens} {}",
            self.name, quant.name
        ));
        b.build()
    }
}

/// Every size is positive and within archscope's limits (the failing field and why).
fn check_config_sizes(raw: &HfConfig) -> Result<(), (&'static str, String)> {
    for (field, v) in [
        ("hidden_size", raw.hidden_size),
        ("intermediate_size", raw.intermediate_size),
        ("num_hidden_layers", raw.num_hidden_layers),
        ("num_attention_heads", raw.num_attention_heads),
        ("vocab_size", raw.vocab_size),
    ] {
        if v == 0 {
            return Err((field, "must be positive".into()));
        }
    }
    let limits = [
        ("num_hidden_layers", Some(raw.num_hidden_layers), MAX_LAYERS),
        ("hidden_size", Some(raw.hidden_size), MAX_HIDDEN),
        (
            "intermediate_size",
            Some(raw.intermediate_size),
            MAX_INTERMEDIATE,
        ),
        ("vocab_size", Some(raw.vocab_size), MAX_VOCAB),
        (
            "num_attention_heads",
            Some(raw.num_attention_heads),
            MAX_HEADS,
        ),
        ("num_key_value_heads", raw.num_key_value_heads, MAX_HEADS),
        ("head_dim", raw.head_dim, MAX_HEAD_DIM),
        ("num_local_experts", raw.num_local_experts, MAX_EXPERTS),
        ("num_experts", raw.num_experts, MAX_EXPERTS),
        ("n_routed_experts", raw.n_routed_experts, MAX_EXPERTS),
        ("n_shared_experts", raw.n_shared_experts, MAX_EXPERTS),
        ("num_experts_per_tok", raw.num_experts_per_tok, MAX_EXPERTS),
        (
            "moe_intermediate_size",
            raw.moe_intermediate_size,
            MAX_INTERMEDIATE,
        ),
        (
            "first_k_dense_replace",
            raw.first_k_dense_replace,
            MAX_LAYERS,
        ),
        ("q_lora_rank", raw.q_lora_rank, MAX_LORA_RANK),
        ("kv_lora_rank", raw.kv_lora_rank, MAX_LORA_RANK),
        ("qk_rope_head_dim", raw.qk_rope_head_dim, MAX_HEAD_DIM),
        ("qk_nope_head_dim", raw.qk_nope_head_dim, MAX_HEAD_DIM),
        ("v_head_dim", raw.v_head_dim, MAX_HEAD_DIM),
        (
            "max_position_embeddings",
            raw.max_position_embeddings,
            MAX_TOKENS,
        ),
        ("sliding_window", raw.sliding_window, MAX_TOKENS),
        (
            "sliding_window_pattern",
            raw.sliding_window_pattern,
            MAX_LAYERS,
        ),
        ("max_window_layers", raw.max_window_layers, MAX_LAYERS),
    ];
    for (field, v, limit) in limits {
        if let Some(v) = v.filter(|&v| v > limit) {
            return Err((
                field,
                format!("{v} is above archscope's limit of {limit}, far above any published model"),
            ));
        }
    }
    Ok(())
}

/// The attention's query heads, key-value heads (dividing them), multi-head latent attention
/// (DeepSeek) and query-key head dimension.
fn attention_dims(
    family: Family,
    raw: &HfConfig,
) -> Result<(u64, u64, Option<mla::Mla>, u64), (&'static str, String)> {
    let heads = raw.num_attention_heads;
    let kv_heads = raw.num_key_value_heads.unwrap_or(heads);
    if kv_heads == 0 || heads % kv_heads != 0 {
        return Err((
            "num_key_value_heads",
            format!("{kv_heads} must be positive and divide num_attention_heads ({heads})"),
        ));
    }
    let mla = match family {
        Family::DeepSeek => Some(mla::Mla::from_hf(raw)?),
        _ => None,
    };
    let head_dim = match (mla, raw.head_dim) {
        // The query-key head dimension; values have their own (`v_head_dim`).
        (Some(m), _) => m.qk_head_dim(),
        (None, Some(0)) => return Err(("head_dim", "must be positive".into())),
        (None, Some(d)) => d,
        (None, None) if raw.hidden_size % heads == 0 => raw.hidden_size / heads,
        (None, None) => {
            return Err((
                "num_attention_heads",
                format!(
                    "{heads} does not divide hidden_size ({}) and no head_dim is given",
                    raw.hidden_size
                ),
            ));
        }
    };
    Ok((heads, kv_heads, mla, head_dim))
}

/// The gated MLP's activation (`hidden_activation`, else `hidden_act`; SiLU when neither).
fn activation(raw: &HfConfig) -> Result<EltOp, (&'static str, String)> {
    let act_name = raw
        .hidden_activation
        .clone()
        .or_else(|| raw.hidden_act.clone())
        .unwrap_or_else(|| "silu".into());
    Ok(match act_name.as_str() {
        "silu" | "swish" => EltOp::SwiGlu,
        "gelu" | "gelu_pytorch_tanh" | "gelu_new" | "gelu_fast" => EltOp::GeGlu,
        other => {
            return Err((
                "hidden_act",
                format!("`{other}` is not supported; expected silu or gelu"),
            ));
        }
    })
}

/// The attention and final logit soft-caps (Gemma 2 and 3; positive and finite).
fn softcaps(
    family: Family,
    raw: &HfConfig,
) -> Result<(Option<f64>, Option<f64>), (&'static str, String)> {
    let softcap = |field: &'static str, v: Option<f64>| match v {
        Some(c) if !(c.is_finite() && c > 0.0) => {
            Err((field, format!("{c} must be a positive finite number")))
        }
        _ => Ok(v),
    };
    Ok(match family {
        Family::Gemma2 | Family::Gemma3 => (
            softcap("attn_logit_softcapping", raw.attn_logit_softcapping)?,
            softcap("final_logit_softcapping", raw.final_logit_softcapping)?,
        ),
        _ => (None, None),
    })
}

struct Builder<'a> {
    c: &'a LlmConfig,
    q: &'a QuantScheme,
    phase: Phase,
    b: u64,
    /// New tokens per sequence in a decode-phase graph: 1 for a decode step, more for a
    /// speculative verify pass, which also gives every one of them logits.
    queries: u64,
    g: Graph,
}

impl<'a> Builder<'a> {
    fn new(c: &'a LlmConfig, q: &'a QuantScheme, phase: Phase, b: u64) -> Self {
        let (what, n) = match phase {
            Phase::Prefill { prompt } => ("prefill", format!("P{prompt}")),
            Phase::Decode { context } => ("decode", format!("L{context}")),
        };
        let name = format!("{} {} b{} {} {}", c.name, what, b, n, q.name);
        Builder {
            c,
            q,
            phase,
            b,
            queries: 1,
            g: Graph::new(name),
        }
    }

    fn act(&mut self, name: String, shape: &[u64]) -> TensorId {
        self.g
            .add_tensor(name, shape, Storage::plain(self.q.acts), Role::Activation)
    }

    /// A weight tensor in storage `s`, or, under a llama.cpp file type, in the type its mix
    /// gives a tensor of that name, layer and row length (biases and norms stay as given); for
    /// a model read from a GGUF file under the file's own scheme, in the file's type.
    fn weight(&mut self, name: String, shape: &[u64], s: Storage) -> TensorId {
        let file = (self.c.raw.gguf.as_ref()).and_then(|f| f.type_of(&self.q.name, &name));
        let s = match self.q.ggml {
            _ if file.is_some() => file.map_or(s, |t| t.storage()),
            Some(mix)
                if shape.len() >= 2 && name.ends_with(".weight") && !name.contains("norm") =>
            {
                let layer = name
                    .strip_prefix("layers.")
                    .and_then(|r| r.split('.').next())
                    .and_then(|l| l.parse().ok())
                    .unwrap_or(0);
                mix.type_for(TensorSite {
                    category: TensorCategory::of_name(&name),
                    layer,
                    layers: self.c.layers,
                    experts: self.c.moe.map_or(1, |m| m.0),
                    row: shape.last().copied().unwrap_or(0),
                    tied: self.c.tied,
                })
                .storage()
            }
            _ => s,
        };
        self.g.add_tensor(name, shape, s, Role::Weight)
    }

    /// Linear layer y[t, out] = x[t, in] · Wᵀ (+ bias); W is stored [out, in].
    #[allow(clippy::too_many_arguments)]
    fn linear(
        &mut self,
        name: &str,
        layer: Option<u32>,
        x: TensorId,
        tokens: u64,
        inp: u64,
        out: u64,
        w: Storage,
        bias: bool,
        compute: DType,
    ) -> TensorId {
        let wt = self.weight(format!("{name}.weight"), &[out, inp], w);
        let mut ins = vec![x, wt];
        if bias {
            let bt = self.weight(format!("{name}.bias"), &[out], Storage::plain(self.q.float));
            ins.push(bt);
        }
        let y = self.act(format!("{name}.out"), &[tokens, out]);
        self.g.add_op(
            name,
            OpKind::MatMul {
                batch: 1,
                m: tokens,
                n: out,
                k: inp,
            },
            &ins,
            &[y],
            compute,
            layer,
        );
        y
    }

    fn norm(&mut self, name: &str, layer: Option<u32>, x: TensorId, rows: u64) -> TensorId {
        self.norm_w(name, layer, x, rows, self.c.hidden)
    }

    /// RMSNorm of `rows` rows of width `cols` (the model width, a head, or a latent).
    fn norm_w(
        &mut self,
        name: &str,
        layer: Option<u32>,
        x: TensorId,
        rows: u64,
        cols: u64,
    ) -> TensorId {
        let gamma = self.weight(
            format!("{name}.weight"),
            &[cols],
            Storage::plain(self.q.float),
        );
        let y = self.act(format!("{name}.out"), &[rows, cols]);
        self.g.add_op(
            name,
            OpKind::Norm {
                kind: NormKind::RmsNorm,
                rows,
                cols,
            },
            &[x, gamma],
            &[y],
            self.q.float,
            layer,
        );
        y
    }

    /// A gated MLP of width `ffn` on `x` of `t` tokens: gate, up, activation, down.
    fn dense_mlp(
        &mut self,
        prefix: &str,
        li: Option<u32>,
        x: TensorId,
        t: u64,
        ffn: u64,
    ) -> TensorId {
        let c = self.c;
        let q = self.q;
        let h = c.hidden;
        let gt = self.linear(
            &format!("{prefix}.gate_proj"),
            li,
            x,
            t,
            h,
            ffn,
            q.weights,
            c.mlp_bias,
            q.linear_compute,
        );
        let up = self.linear(
            &format!("{prefix}.up_proj"),
            li,
            x,
            t,
            h,
            ffn,
            q.weights,
            c.mlp_bias,
            q.linear_compute,
        );
        let a = self.eltwise(&format!("{prefix}.act"), li, c.act, &[gt, up], &[t, ffn]);
        self.linear(
            &format!("{prefix}.down_proj"),
            li,
            a,
            t,
            ffn,
            h,
            q.weights,
            c.mlp_bias,
            q.linear_compute,
        )
    }

    /// Scores, (soft-capping,) softmax and values of one layer's attention: QKᵀ reads
    /// `score_ins` (queries first), P·V reads the probabilities and `value_ins`; the context
    /// written has `ctx_width` values per token. The two shapes differ only in head dimension
    /// (and in MLA's KV heads).
    fn attention_core(
        &mut self,
        p: &str,
        li: Option<u32>,
        score_ins: &[TensorId],
        value_ins: &[TensorId],
        (score_shape, value_shape): (AttnShape, AttnShape),
        ctx_width: u64,
    ) -> TensorId {
        let q = self.q;
        let b = score_shape.batch;
        let t = b * score_shape.q_len;
        let score_elems = (score_shape.pairs() as u64) * b * score_shape.q_heads;
        let scores = self.g.add_tensor(
            format!("{p}.attn.scores"),
            &[score_elems],
            Storage::plain(q.float),
            Role::Activation,
        );
        let probs = self.g.add_tensor(
            format!("{p}.attn.probs"),
            &[score_elems],
            Storage::plain(q.float),
            Role::Activation,
        );
        let ctx = self.act(format!("{p}.attn.context"), &[t, ctx_width]);
        self.g.add_op(
            format!("{p}.attn.qk"),
            OpKind::Attention {
                part: AttnPart::Scores,
                shape: score_shape,
            },
            score_ins,
            &[scores],
            q.float,
            li,
        );
        let capped = match self.c.attn_softcap {
            // Gemma 2: scores ← cap·tanh(scores/cap) before the mask and softmax.
            Some(_) => self.eltwise(
                &format!("{p}.attn.softcap"),
                li,
                EltOp::SoftCap,
                &[scores],
                &[score_elems],
            ),
            None => scores,
        };
        self.g.add_op(
            format!("{p}.attn.softmax"),
            OpKind::Attention {
                part: AttnPart::Softmax,
                shape: score_shape,
            },
            &[capped],
            &[probs],
            q.float,
            li,
        );
        let mut ins = Vec::with_capacity(1 + value_ins.len());
        ins.push(probs);
        ins.extend_from_slice(value_ins);
        self.g.add_op(
            format!("{p}.attn.av"),
            OpKind::Attention {
                part: AttnPart::Values,
                shape: value_shape,
            },
            &ins,
            &[ctx],
            q.float,
            li,
        );
        ctx
    }

    fn eltwise(
        &mut self,
        name: &str,
        layer: Option<u32>,
        op: EltOp,
        ins: &[TensorId],
        shape: &[u64],
    ) -> TensorId {
        let y = self.act(format!("{name}.out"), shape);
        let elems = shape.iter().product();
        self.g.add_op(
            name,
            OpKind::Elementwise { op, elems },
            ins,
            &[y],
            self.q.float,
            layer,
        );
        y
    }

    fn build(mut self) -> Graph {
        let c = self.c;
        let q = self.q;
        let b = self.b;
        let (new_tokens, kv_len) = match self.phase {
            Phase::Prefill { prompt } => (prompt, prompt),
            Phase::Decode { context } => (self.queries, context),
        };
        let t = b * new_tokens;
        let h = c.hidden;
        // Rows that get logits: the last position of each sequence, or every position of a
        // verify pass.
        let rows = if self.queries > 1 { t } else { b };

        // Embedding table and (possibly shared) LM head.
        let embed_w = self.weight("embed_tokens.weight".into(), &[c.vocab, h], q.embed);
        let ids = self.g.add_tensor(
            "input_ids",
            &[b, new_tokens],
            Storage::plain(DType::I32),
            Role::Input,
        );
        let mut x = self.act("embed.out".into(), &[t, h]);
        self.g.add_op(
            "embed_tokens",
            OpKind::Embedding { tokens: t, dim: h },
            &[ids, embed_w],
            &[x],
            q.float,
            None,
        );
        if c.embed_scale {
            x = self.eltwise("embed_scale", None, EltOp::Scale, &[x], &[t, h]);
        }

        for l in 0..c.layers {
            let li = Some(l as u32);
            let p = format!("layers.{l}");
            let xn = self.norm(&format!("{p}.input_norm"), li, x, t);
            let mut o = match c.mla {
                Some(m) => self.mla_attention(m, &p, li, xn, new_tokens, kv_len),
                None => self.attention(&p, l, xn, new_tokens, kv_len),
            };
            if c.sandwich_norm {
                o = self.norm(&format!("{p}.attn.post_norm"), li, o, t);
            }
            let x2 = self.eltwise(
                &format!("{p}.attn.residual"),
                li,
                EltOp::Add,
                &[x, o],
                &[t, h],
            );
            // The pre-MLP norm (Gemma's pre_feedforward_layernorm).
            let xn2 = self.norm(&format!("{p}.post_attn_norm"), li, x2, t);
            let mut mlp_out = match c.moe {
                Some(moe) if c.is_moe_layer(l) => self.moe_mlp(&p, li, xn2, t, moe),
                _ => self.dense_mlp(&format!("{p}.mlp"), li, xn2, t, c.ffn),
            };
            if c.sandwich_norm {
                mlp_out = self.norm(&format!("{p}.mlp.post_norm"), li, mlp_out, t);
            }
            x = self.eltwise(
                &format!("{p}.mlp.residual"),
                li,
                EltOp::Add,
                &[x2, mlp_out],
                &[t, h],
            );
        }

        // Only the last position of each sequence produces logits.
        if t != rows {
            let last = self.act("last_tokens".into(), &[b, h]);
            self.g.add_op(
                "select_last",
                OpKind::SelectRows { rows: b, cols: h },
                &[x],
                &[last],
                q.float,
                None,
            );
            x = last;
        }
        let xf = self.norm("final_norm", None, x, rows);
        let head_w = if c.tied && q.head == q.embed {
            embed_w
        } else {
            self.weight("lm_head.weight".into(), &[c.vocab, h], q.head)
        };
        let logits = self.g.add_tensor(
            "logits",
            &[rows, c.vocab],
            Storage::plain(q.float),
            Role::Output,
        );
        let head_compute = if q.head.dtype.is_float() {
            q.float
        } else {
            q.linear_compute
        };
        // Gemma 2 soft-caps the logits: the head writes raw logits, the cap the output.
        let head_out = match c.final_softcap {
            Some(_) => self.act("lm_head.out".into(), &[rows, c.vocab]),
            None => logits,
        };
        self.g.add_op(
            "lm_head",
            OpKind::MatMul {
                batch: 1,
                m: rows,
                n: c.vocab,
                k: h,
            },
            &[xf, head_w],
            &[head_out],
            head_compute,
            None,
        );
        if c.final_softcap.is_some() {
            self.g.add_op(
                "final_softcap",
                OpKind::Elementwise {
                    op: EltOp::SoftCap,
                    elems: rows * c.vocab,
                },
                &[head_out],
                &[logits],
                q.float,
                None,
            );
        }
        debug_assert_eq!(self.g.validate(), Ok(()));
        self.g
    }

    /// One layer's grouped-query attention on the normalised input `xn`, up to and including
    /// `o_proj`: q/k/v projections (with biases where the family has them), per-head q/k norms
    /// (Qwen3, Gemma 3), RoPE, the KV-cache append, attention over the layer's visible keys
    /// (capped by its sliding window, if any) and the output projection.
    fn attention(
        &mut self,
        p: &str,
        l: u64,
        xn: TensorId,
        new_tokens: u64,
        kv_len: u64,
    ) -> TensorId {
        let c = self.c;
        let q = self.q;
        let b = self.b;
        let t = b * new_tokens;
        let h = c.hidden;
        let li = Some(l as u32);
        let prefill = matches!(self.phase, Phase::Prefill { .. });
        let window = c.layer_window(l);
        // A local layer keeps at most `window` positions per sequence.
        let cache_len = window.map_or(kv_len, |w| w.min(kv_len));
        let mut qp = self.linear(
            &format!("{p}.attn.q_proj"),
            li,
            xn,
            t,
            h,
            c.q_dim(),
            q.weights,
            c.qkv_bias,
            q.linear_compute,
        );
        let mut kp = self.linear(
            &format!("{p}.attn.k_proj"),
            li,
            xn,
            t,
            h,
            c.kv_dim(),
            q.weights,
            c.qkv_bias,
            q.linear_compute,
        );
        let vp = self.linear(
            &format!("{p}.attn.v_proj"),
            li,
            xn,
            t,
            h,
            c.kv_dim(),
            q.weights,
            c.qkv_bias,
            q.linear_compute,
        );
        if c.qk_norm {
            // RMSNorm over each head's vector, one weight of head_dim shared by the heads.
            qp = self.norm_w(&format!("{p}.attn.q_norm"), li, qp, t * c.heads, c.head_dim);
            kp = self.norm_w(
                &format!("{p}.attn.k_norm"),
                li,
                kp,
                t * c.kv_heads,
                c.head_dim,
            );
        }
        let qr = self.act(format!("{p}.attn.rope.q"), &[t, c.q_dim()]);
        let kr = self.act(format!("{p}.attn.rope.k"), &[t, c.kv_dim()]);
        self.g.add_op(
            format!("{p}.attn.rope"),
            OpKind::Rope {
                elems: t * (c.q_dim() + c.kv_dim()),
            },
            &[qp, kp],
            &[qr, kr],
            q.float,
            li,
        );
        let cache_shape = [b, c.kv_heads, cache_len, c.head_dim];
        let kc = self
            .g
            .add_tensor(format!("{p}.k_cache"), &cache_shape, q.kv, Role::KvCache);
        let vc = self
            .g
            .add_tensor(format!("{p}.v_cache"), &cache_shape, q.kv, Role::KvCache);
        // A prompt longer than the window stores only its last `window` positions.
        self.g.add_op(
            format!("{p}.attn.kv_append"),
            OpKind::KvAppend {
                tokens: b * new_tokens.min(cache_len),
                kv_heads: c.kv_heads,
                head_dim: c.head_dim,
            },
            &[kr, vp],
            &[kc, vc],
            q.float,
            li,
        );
        // Prefill attends to the fresh K/V activations; decode reads the cache.
        let (keys, values) = if prefill { (kr, vp) } else { (kc, vc) };
        let shape = AttnShape {
            batch: b,
            q_heads: c.heads,
            kv_heads: c.kv_heads,
            q_len: new_tokens,
            kv_len,
            head_dim: c.head_dim,
            causal: true,
            window,
        };
        let ctx = self.attention_core(p, li, &[qr, keys], &[values], (shape, shape), c.q_dim());
        self.linear(
            &format!("{p}.attn.o_proj"),
            li,
            ctx,
            t,
            c.q_dim(),
            h,
            q.weights,
            c.o_bias,
            q.linear_compute,
        )
    }
}
