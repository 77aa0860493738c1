//! Decoder-only LLMs from a Hugging Face `config.json`: parsing, parameter counts, and graphs for
//! prefill and decode.
//!
//! Families: llama (and MobileLLM, which is llama-shaped), qwen2, mistral, mixtral, gemma, phi3.
//! The ledger avoids the bookkeeping errors common in LLM roofline tools:
//! * the LM head is a real matmul (2 FLOPs per MAC) and its weights are in the footprint (once,
//!   when tied to the embedding);
//! * prefill attention is causal (query i sees i+1 keys), so its FLOPs are about half of s²;
//! * decode reads the KV cache at the current length with the KV head count (GQA), not the query
//!   head count;
//! * the MLP activation runs over the intermediate size.
//!
//! Graph conventions:
//! * prefill of P prompt tokens at batch B processes B·P tokens; only the last token of each
//!   sequence goes through the final norm and LM head (as llama.cpp and vLLM do);
//! * decode of one token at context L appends its key and value, then attends over the L cached
//!   positions (the new one included), capped by the sliding window where the model has one;
//! * projections are modelled unfused (q, k, v separately; gate and up separately), which changes
//!   only how often the small input activation is re-read.

use super::dtype::{DType, Storage};
use super::ggml::{TensorCategory, TensorSite};
use super::graph::{AttnPart, AttnShape, EltOp, Graph, NormKind, OpKind, Role, TensorId};
use super::quant::QuantScheme;
use serde::{Deserialize, Serialize};
use std::path::Path;

pub use super::error::ModelError;

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
/// Most experts per MoE layer (`num_local_experts`, and so `num_experts_per_tok`): Switch-C has
/// 2,048, DeepSeek-V3 256; 4,096 is 2× the largest.
pub const MAX_EXPERTS: u64 = 1 << 12;
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
    /// `llama`, `mobilellm`, `qwen2`, `mistral`, `mixtral`, `gemma`, `phi3`.
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
    /// Sliding attention window (mistral); null means none.
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
    /// A GGUF file's type of each tensor (set by [`super::gguf`], not a Hugging Face field).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gguf: Option<super::gguf::GgufWeights>,
}

/// Supported architecture families.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    /// Llama 2/3, TinyLlama, MobileLLM.
    Llama,
    /// Qwen1.5 / Qwen2 (q/k/v biases).
    Qwen2,
    /// Mistral (sliding window).
    Mistral,
    /// Mixtral (MoE).
    Mixtral,
    /// Gemma (GeGLU, scaled embedding, tied head).
    Gemma,
    /// Phi-3 (fused projections, modelled unfused).
    Phi3,
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
    /// MoE: (experts, experts per token).
    pub moe: Option<(u64, u64)>,
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

    /// Parses and validates config text; `path` is used in errors, `name` in reports.
    pub fn from_json(text: &str, path: &str, name: &str) -> Result<LlmConfig, ModelError> {
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
        let family = match raw.model_type.as_str() {
            "llama" | "mobilellm" => Family::Llama,
            "qwen2" => Family::Qwen2,
            "mistral" => Family::Mistral,
            "mixtral" => Family::Mixtral,
            "gemma" => Family::Gemma,
            "phi3" => Family::Phi3,
            other => {
                return Err(invalid(
                    "model_type",
                    format!(
                        "`{other}` is not supported; expected llama, mobilellm, qwen2, mistral, mixtral, gemma or phi3"
                    ),
                ));
            }
        };
        for (field, v) in [
            ("hidden_size", raw.hidden_size),
            ("intermediate_size", raw.intermediate_size),
            ("num_hidden_layers", raw.num_hidden_layers),
            ("num_attention_heads", raw.num_attention_heads),
            ("vocab_size", raw.vocab_size),
        ] {
            if v == 0 {
                return Err(invalid(field, "must be positive".into()));
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
            ("num_experts_per_tok", raw.num_experts_per_tok, MAX_EXPERTS),
            (
                "max_position_embeddings",
                raw.max_position_embeddings,
                MAX_TOKENS,
            ),
            ("sliding_window", raw.sliding_window, MAX_TOKENS),
        ];
        for (field, v, limit) in limits {
            if let Some(v) = v.filter(|&v| v > limit) {
                return Err(invalid(
                    field,
                    format!(
                        "{v} is above archscope's limit of {limit}, far above any published model"
                    ),
                ));
            }
        }
        let heads = raw.num_attention_heads;
        let kv_heads = raw.num_key_value_heads.unwrap_or(heads);
        if kv_heads == 0 || heads % kv_heads != 0 {
            return Err(invalid(
                "num_key_value_heads",
                format!("{kv_heads} must be positive and divide num_attention_heads ({heads})"),
            ));
        }
        let head_dim = match raw.head_dim {
            Some(0) => return Err(invalid("head_dim", "must be positive".into())),
            Some(d) => d,
            None if raw.hidden_size % heads == 0 => raw.hidden_size / heads,
            None => {
                return Err(invalid(
                    "num_attention_heads",
                    format!(
                        "{heads} does not divide hidden_size ({}) and no head_dim is given",
                        raw.hidden_size
                    ),
                ));
            }
        };
        // Transformers' per-family defaults when the flag is absent.
        let tied = raw.share_embedding == Some(true)
            || raw
                .tie_word_embeddings
                .unwrap_or(matches!(family, Family::Gemma));
        if raw.layer_sharing == Some(true) {
            return Err(invalid(
                "layer_sharing",
                "block-wise weight sharing (MobileLLM-LS) is not modelled; use a config with layer_sharing false".into(),
            ));
        }
        let act_name = raw
            .hidden_activation
            .clone()
            .or_else(|| raw.hidden_act.clone())
            .unwrap_or_else(|| "silu".into());
        let act = match act_name.as_str() {
            "silu" | "swish" => EltOp::SwiGlu,
            "gelu" | "gelu_pytorch_tanh" | "gelu_new" | "gelu_fast" => EltOp::GeGlu,
            other => {
                return Err(invalid(
                    "hidden_act",
                    format!("`{other}` is not supported; expected silu or gelu"),
                ));
            }
        };
        let moe = match (family, raw.num_local_experts, raw.num_experts_per_tok) {
            (Family::Mixtral, Some(e), Some(k)) if e > 0 && k > 0 && k <= e => Some((e, k)),
            (Family::Mixtral, _, _) => {
                return Err(invalid(
                    "num_local_experts",
                    "mixtral needs num_local_experts and num_experts_per_tok with 0 < k ≤ experts"
                        .into(),
                ));
            }
            _ => None,
        };
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
            window: match family {
                Family::Mistral | Family::Mixtral => raw.sliding_window,
                _ => None,
            },
            moe,
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

    /// Query projection width.
    pub fn q_dim(&self) -> u64 {
        self.heads * self.head_dim
    }

    /// Key (or value) projection width.
    pub fn kv_dim(&self) -> u64 {
        self.kv_heads * self.head_dim
    }

    /// Parameters, counted from the config: embeddings, per-layer attention (with biases where
    /// the family has them), MLP or experts and router, two norms per layer, the final norm, and
    /// the LM head unless tied. A config from [`LlmConfig::from_hf`] always has a count that fits
    /// 64 bits; for one whose fields were changed past that, this saturates at `u64::MAX` (see
    /// [`LlmConfig::try_param_count`]).
    pub fn param_count(&self) -> u64 {
        self.try_param_count().unwrap_or(u64::MAX)
    }

    /// [`LlmConfig::param_count`] in checked arithmetic: the config field whose product
    /// overflows 64 bits is the error.
    pub fn try_param_count(&self) -> Result<u64, &'static str> {
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
        let mats = if matches!(self.act, EltOp::SwiGlu | EltOp::GeGlu) {
            3
        } else {
            2
        };
        let f = "intermediate_size";
        let mlp_bias = if self.mlp_bias {
            add(mul(mats - 1, self.ffn, f)?, h, f)?
        } else {
            0
        };
        let one_mlp = add(mul(mul(mats, h, "hidden_size")?, self.ffn, f)?, mlp_bias, f)?;
        let mlp = match self.moe {
            Some((e, _)) => {
                let f = "num_local_experts";
                add(mul(e, one_mlp, f)?, mul(h, e, f)?, f)?
            }
            None => one_mlp,
        };
        let per_layer = add(add(add(attn, attn_bias, "head_dim")?, mlp, f)?, two_h, f)?;
        let embed = mul(self.vocab, h, "vocab_size")?;
        let head = if self.tied { 0 } else { embed };
        let layers = mul(self.layers, per_layer, "num_hidden_layers")?;
        add(
            add(add(embed, layers, "num_hidden_layers")?, h, "hidden_size")?,
            head,
            "vocab_size",
        )
    }

    /// KV-cache bytes for `batch` sequences of `context` positions under `quant`.
    pub fn kv_cache_bytes(&self, quant: &QuantScheme, batch: u64, context: u64) -> f64 {
        let len = self.window.map_or(context, |w| w.min(context));
        2.0 * self.layers as f64
            * quant
                .kv
                .bytes_rows(batch * self.kv_heads * len, self.head_dim)
    }

    /// Checks that the graph of `phase` at `batch` can be built: batch within 1 to
    /// [`MAX_BATCH`], prompt or context within 1 to [`MAX_TOKENS`], and every tensor and op
    /// size of the graph (tokens × width, the KV cache, the attention scores, the experts)
    /// within 64 bits.
    pub fn check_phase(&self, phase: Phase, batch: u64) -> Result<(), ModelError> {
        let (what, len, new_tokens) = match phase {
            Phase::Prefill { prompt } => ("prompt", prompt, prompt),
            Phase::Decode { context } => ("context", context, 1),
        };
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
        let cache_len = self.window.map_or(len, |w| w.min(len));
        let (experts, top_k) = self.moe.unwrap_or((1, 1));
        let shape = AttnShape {
            batch,
            q_heads: self.heads,
            kv_heads: self.kv_heads,
            q_len: new_tokens,
            kv_len: len,
            head_dim: self.head_dim,
            causal: true,
            window: self.window,
        };
        let fits = || -> Option<()> {
            let t = batch.checked_mul(new_tokens)?;
            let q_dim = self.heads.checked_mul(self.head_dim)?;
            let kv_dim = self.kv_heads.checked_mul(self.head_dim)?;
            for width in [self.hidden, self.ffn, q_dim.checked_add(kv_dim)?, experts] {
                t.checked_mul(width)?;
            }
            t.checked_mul(top_k)?.checked_mul(self.ffn)?;
            batch.checked_mul(self.vocab)?;
            self.vocab.checked_mul(self.hidden)?;
            experts.checked_mul(self.ffn)?.checked_mul(self.hidden)?;
            batch
                .checked_mul(self.kv_heads)?
                .checked_mul(cache_len)?
                .checked_mul(self.head_dim)?;
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
}

struct Builder<'a> {
    c: &'a LlmConfig,
    q: &'a QuantScheme,
    phase: Phase,
    b: u64,
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
        let h = self.c.hidden;
        let gamma = self.weight(format!("{name}.weight"), &[h], Storage::plain(self.q.float));
        let y = self.act(format!("{name}.out"), &[rows, h]);
        self.g.add_op(
            name,
            OpKind::Norm {
                kind: NormKind::RmsNorm,
                rows,
                cols: h,
            },
            &[x, gamma],
            &[y],
            self.q.float,
            layer,
        );
        y
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
            Phase::Decode { context } => (1, context),
        };
        let t = b * new_tokens;
        let h = c.hidden;
        let prefill = matches!(self.phase, Phase::Prefill { .. });

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
        if c.family == Family::Gemma {
            x = self.eltwise("embed_scale", None, EltOp::Scale, &[x], &[t, h]);
        }

        let cache_len = c.window.map_or(kv_len, |w| w.min(kv_len));
        for l in 0..c.layers {
            let li = Some(l as u32);
            let p = format!("layers.{l}");
            let xn = self.norm(&format!("{p}.input_norm"), li, x, t);
            let qp = self.linear(
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
            let kp = self.linear(
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
            self.g.add_op(
                format!("{p}.attn.kv_append"),
                OpKind::KvAppend {
                    tokens: t,
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
                window: c.window,
            };
            let score_elems = (shape.pairs() as u64) * b * c.heads;
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
            let ctx = self.act(format!("{p}.attn.context"), &[t, c.q_dim()]);
            for (part, ins, out, nm) in [
                (AttnPart::Scores, vec![qr, keys], scores, "qk"),
                (AttnPart::Softmax, vec![scores], probs, "softmax"),
                (AttnPart::Values, vec![probs, values], ctx, "av"),
            ] {
                self.g.add_op(
                    format!("{p}.attn.{nm}"),
                    OpKind::Attention { part, shape },
                    &ins,
                    &[out],
                    q.float,
                    li,
                );
            }
            let o = self.linear(
                &format!("{p}.attn.o_proj"),
                li,
                ctx,
                t,
                c.q_dim(),
                h,
                q.weights,
                c.o_bias,
                q.linear_compute,
            );
            let x2 = self.eltwise(
                &format!("{p}.attn.residual"),
                li,
                EltOp::Add,
                &[x, o],
                &[t, h],
            );
            let xn2 = self.norm(&format!("{p}.post_attn_norm"), li, x2, t);
            let mlp_out = match c.moe {
                None => {
                    let gt = self.linear(
                        &format!("{p}.mlp.gate_proj"),
                        li,
                        xn2,
                        t,
                        h,
                        c.ffn,
                        q.weights,
                        c.mlp_bias,
                        q.linear_compute,
                    );
                    let up = self.linear(
                        &format!("{p}.mlp.up_proj"),
                        li,
                        xn2,
                        t,
                        h,
                        c.ffn,
                        q.weights,
                        c.mlp_bias,
                        q.linear_compute,
                    );
                    let a =
                        self.eltwise(&format!("{p}.mlp.act"), li, c.act, &[gt, up], &[t, c.ffn]);
                    self.linear(
                        &format!("{p}.mlp.down_proj"),
                        li,
                        a,
                        t,
                        c.ffn,
                        h,
                        q.weights,
                        c.mlp_bias,
                        q.linear_compute,
                    )
                }
                Some((e, k)) => {
                    let wr = self.weight(format!("{p}.moe.router.weight"), &[e, h], q.weights);
                    let route = self.act(format!("{p}.moe.routing"), &[t, e]);
                    self.g.add_op(
                        format!("{p}.moe.router"),
                        OpKind::MoeRouter {
                            tokens: t,
                            dim: h,
                            experts: e,
                            top_k: k,
                        },
                        &[xn2, wr],
                        &[route],
                        q.linear_compute,
                        li,
                    );
                    let wg = self.weight(
                        format!("{p}.moe.experts.gate.weight"),
                        &[e, c.ffn, h],
                        q.weights,
                    );
                    let wu = self.weight(
                        format!("{p}.moe.experts.up.weight"),
                        &[e, c.ffn, h],
                        q.weights,
                    );
                    let wd = self.weight(
                        format!("{p}.moe.experts.down.weight"),
                        &[e, h, c.ffn],
                        q.weights,
                    );
                    let y = self.act(format!("{p}.moe.out"), &[t, h]);
                    self.g.add_op(
                        format!("{p}.moe.experts"),
                        OpKind::MoeExperts {
                            tokens: t,
                            dim: h,
                            ffn: c.ffn,
                            experts: e,
                            top_k: k,
                            gated: true,
                        },
                        &[xn2, wg, wu, wd, route],
                        &[y],
                        q.linear_compute,
                        li,
                    );
                    y
                }
            };
            x = self.eltwise(
                &format!("{p}.mlp.residual"),
                li,
                EltOp::Add,
                &[x2, mlp_out],
                &[t, h],
            );
        }

        // Only the last position of each sequence produces logits.
        if t != b {
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
        let xf = self.norm("final_norm", None, x, b);
        let head_w = if c.tied && q.head == q.embed {
            embed_w
        } else {
            self.weight("lm_head.weight".into(), &[c.vocab, h], q.head)
        };
        let logits = self.g.add_tensor(
            "logits",
            &[b, c.vocab],
            Storage::plain(q.float),
            Role::Output,
        );
        let head_compute = if q.head.dtype.is_float() {
            q.float
        } else {
            q.linear_compute
        };
        self.g.add_op(
            "lm_head",
            OpKind::MatMul {
                batch: 1,
                m: b,
                n: c.vocab,
                k: h,
            },
            &[xf, head_w],
            &[logits],
            head_compute,
            None,
        );
        debug_assert_eq!(self.g.validate(), Ok(()));
        self.g
    }
}
