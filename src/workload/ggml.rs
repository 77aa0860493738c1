//! ggml's weight formats and llama.cpp's quantization mixes: the types a GGUF file stores, with
//! their exact block layouts, and the rule that picks a type per tensor for a file type such as
//! `Q4_K_M`. Shared by the quantization schemes (`--quant q4_k_m`), the runtimes (which say
//! which of these types they can run) and the GGUF reader.
//!
//! Block layouts, from ggml's `ggml-common.h` (`block_q4_0` etc.), as bytes per block of
//! `block` weights:
//!
//! | type | block | bytes | bits/weight | layout |
//! |---|---|---|---|---|
//! | q4_0 | 32 | 18 | 4.5 | f16 scale + 16 bytes of 4-bit values |
//! | q4_1 | 32 | 20 | 5.0 | f16 scale + f16 min + 16 bytes |
//! | q5_0 | 32 | 22 | 5.5 | f16 scale + 4 bytes of 5th bits + 16 bytes |
//! | q5_1 | 32 | 24 | 6.0 | f16 scale + f16 min + 4 bytes of 5th bits + 16 bytes |
//! | q8_0 | 32 | 34 | 8.5 | f16 scale + 32 int8 |
//! | iq4_nl | 32 | 18 | 4.5 | f16 scale + 16 bytes of 4-bit indices into a non-linear table |
//! | q2_k | 256 | 84 | 2.625 | 16 bytes of 4-bit scales/mins + 64 bytes of 2-bit values + f16 d + f16 dmin |
//! | q3_k | 256 | 110 | 3.4375 | 32 bytes high-bit mask + 64 bytes low 2 bits + 12 bytes of 6-bit scales + f16 d |
//! | q4_k | 256 | 144 | 4.5 | f16 d + f16 dmin + 12 bytes of 6-bit scales/mins + 128 bytes |
//! | q5_k | 256 | 176 | 5.5 | as q4_k + 32 bytes of 5th bits |
//! | q6_k | 256 | 210 | 6.5625 | 128 bytes low 4 bits + 64 bytes high 2 bits + 16 int8 scales + f16 d |
//!
//! The float types are f32 (4 bytes), f16 and bf16 (2 bytes) per weight. A type's id in a GGUF
//! file is ggml's `enum ggml_type` (`ggml.h`): f32 0, f16 1, q4_0 2, q4_1 3, q5_0 6, q5_1 7,
//! q8_0 8, q2_k 10, q3_k 11, q4_k 12, q5_k 13, q6_k 14, iq4_nl 20, bf16 30 ([`GgmlType::from_id`]).
//!
//! As a [`Storage`], a type is its integer payload dtype (2 bits for q2_k/q3_k, 4 for
//! q4/q5/q6/iq4_nl, 8 for q8) plus
//! a [`QuantGroup`] of `block` weights whose metadata bits are the rest of the block (scales,
//! mins and any extra value bits), so that `Storage::bytes` gives the file's exact bytes.
//!
//! Mixes (`Q4_K_M` and friends) follow llama.cpp's `llama_tensor_get_type_impl`
//! (`src/llama-quant.cpp`, ggml-org/llama.cpp at commit 007dbbf3); for the non-Falcon models
//! archscope builds:
//! * the output projection, and a tied token embedding, are `q6_k` for every quantized file
//!   type except `q8_0` (which keeps `q8_0`); `q8_0` when its row length is not a multiple of
//!   the type's block;
//! * an untied token embedding keeps the file's base type;
//! * `attn_v`: `q6_k` in the "more bits" layers of `Q4_K_M` and `Q5_K_M`, `q5_k` in the first 4
//!   layers of `Q4_K_S`; `q8_0` in a model with 8 experts;
//! * `attn_k`: `q8_0` in a model with 8 experts;
//! * `ffn_down`: `q6_k` in the "more bits" layers of `Q4_K_M` and `Q5_K_M`, `q5_k` in the first
//!   eighth of the layers of `Q4_K_S`;
//! * `attn_output`: `q5_k` in a model with 8 experts for `Q4_K_S` and `Q4_K_M`;
//! * every other weight keeps the base type (`q4_k` for `Q4_K_*`, `q5_k` for `Q5_K_*`);
//! * a tensor whose row length is not a multiple of 256 falls back: `q4_k` → `q5_0`,
//!   `q5_k` → `q5_1`, `q6_k` → `q8_0`.
//!
//! The "more bits" layers of `n` are `i < n/8`, `i ≥ 7n/8` and every third layer in between
//! (`(i - n/8) % 3 == 2`), integer division as in C.

use super::dtype::{DType, QuantGroup, Storage};
use serde::{Deserialize, Serialize};

/// A ggml weight type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GgmlType {
    /// 32-bit float.
    F32,
    /// 16-bit float.
    F16,
    /// bfloat16.
    Bf16,
    /// 4-bit, blocks of 32, f16 scale.
    Q4_0,
    /// 4-bit, blocks of 32, f16 scale and min.
    Q4_1,
    /// 5-bit, blocks of 32, f16 scale.
    Q5_0,
    /// 5-bit, blocks of 32, f16 scale and min.
    Q5_1,
    /// 8-bit, blocks of 32, f16 scale.
    Q8_0,
    /// 4-bit k-quant, super-blocks of 256.
    Q4K,
    /// 5-bit k-quant, super-blocks of 256.
    Q5K,
    /// 6-bit k-quant, super-blocks of 256.
    Q6K,
    /// 2-bit k-quant, super-blocks of 256 with 4-bit scales and mins.
    Q2K,
    /// 3-bit k-quant, super-blocks of 256 with 6-bit scales.
    Q3K,
    /// 4-bit non-linear, blocks of 32, f16 scale.
    Iq4Nl,
}

impl GgmlType {
    /// Every type, in the order of the table above.
    pub const ALL: [GgmlType; 14] = [
        GgmlType::F32,
        GgmlType::F16,
        GgmlType::Bf16,
        GgmlType::Q4_0,
        GgmlType::Q4_1,
        GgmlType::Q5_0,
        GgmlType::Q5_1,
        GgmlType::Q8_0,
        GgmlType::Q4K,
        GgmlType::Q5K,
        GgmlType::Q6K,
        GgmlType::Q2K,
        GgmlType::Q3K,
        GgmlType::Iq4Nl,
    ];

    /// ggml's lower-case name (`q4_k`).
    pub fn name(self) -> &'static str {
        match self {
            GgmlType::F32 => "f32",
            GgmlType::F16 => "f16",
            GgmlType::Bf16 => "bf16",
            GgmlType::Q4_0 => "q4_0",
            GgmlType::Q4_1 => "q4_1",
            GgmlType::Q5_0 => "q5_0",
            GgmlType::Q5_1 => "q5_1",
            GgmlType::Q8_0 => "q8_0",
            GgmlType::Q4K => "q4_k",
            GgmlType::Q5K => "q5_k",
            GgmlType::Q6K => "q6_k",
            GgmlType::Q2K => "q2_k",
            GgmlType::Q3K => "q3_k",
            GgmlType::Iq4Nl => "iq4_nl",
        }
    }

    /// ggml's id of this type (`enum ggml_type` in `ggml.h`), as a GGUF tensor info stores it.
    pub fn id(self) -> u32 {
        match self {
            GgmlType::F32 => 0,
            GgmlType::F16 => 1,
            GgmlType::Q4_0 => 2,
            GgmlType::Q4_1 => 3,
            GgmlType::Q5_0 => 6,
            GgmlType::Q5_1 => 7,
            GgmlType::Q8_0 => 8,
            GgmlType::Q2K => 10,
            GgmlType::Q3K => 11,
            GgmlType::Q4K => 12,
            GgmlType::Q5K => 13,
            GgmlType::Q6K => 14,
            GgmlType::Iq4Nl => 20,
            GgmlType::Bf16 => 30,
        }
    }

    /// The type of a ggml id; `None` for an id archscope does not price.
    pub fn from_id(id: u32) -> Option<GgmlType> {
        GgmlType::ALL.into_iter().find(|t| t.id() == id)
    }

    /// The type of a name, case-insensitive (`Q4_K`, `q4_k`).
    pub fn parse(s: &str) -> Option<GgmlType> {
        let s = s.to_ascii_lowercase();
        GgmlType::ALL.into_iter().find(|t| t.name() == s)
    }

    /// Weights per block (1 for the float types).
    pub fn block(self) -> u32 {
        match self {
            GgmlType::F32 | GgmlType::F16 | GgmlType::Bf16 => 1,
            GgmlType::Q4_0
            | GgmlType::Q4_1
            | GgmlType::Q5_0
            | GgmlType::Q5_1
            | GgmlType::Q8_0
            | GgmlType::Iq4Nl => 32,
            GgmlType::Q4K | GgmlType::Q5K | GgmlType::Q6K | GgmlType::Q2K | GgmlType::Q3K => 256,
        }
    }

    /// Bytes per block.
    pub fn block_bytes(self) -> u32 {
        match self {
            GgmlType::F32 => 4,
            GgmlType::F16 | GgmlType::Bf16 => 2,
            GgmlType::Q4_0 => 18,
            GgmlType::Q4_1 => 20,
            GgmlType::Q5_0 => 22,
            GgmlType::Q5_1 => 24,
            GgmlType::Q8_0 => 34,
            GgmlType::Q4K => 144,
            GgmlType::Q5K => 176,
            GgmlType::Q6K => 210,
            GgmlType::Q2K => 84,
            GgmlType::Q3K => 110,
            GgmlType::Iq4Nl => 18,
        }
    }

    /// Bits per weight, metadata included.
    pub fn bits_per_weight(self) -> f64 {
        self.block_bytes() as f64 * 8.0 / self.block() as f64
    }

    /// The storage of this type: its payload dtype and, for a block type, a group of `block`
    /// weights carrying the rest of the block's bits as metadata.
    pub fn storage(self) -> Storage {
        let payload = match self {
            GgmlType::F32 => return Storage::plain(DType::F32),
            GgmlType::F16 => return Storage::plain(DType::F16),
            GgmlType::Bf16 => return Storage::plain(DType::Bf16),
            GgmlType::Q8_0 => DType::I8,
            GgmlType::Q2K | GgmlType::Q3K => DType::I2,
            _ => DType::I4,
        };
        let block_bits = self.block_bytes() * 8;
        let payload_bits = self.block() * payload.bits();
        // A f16 scale per block; everything else (mins, sub-block scales, high value bits)
        // counts as the group's other metadata.
        Storage {
            dtype: payload,
            group: Some(QuantGroup {
                size: self.block(),
                scale_bits: 16,
                zero_bits: block_bits - payload_bits - 16,
            }),
        }
    }

    /// The type llama.cpp falls back to when a tensor's row length is not a multiple of this
    /// type's block (`tensor_type_fallback`).
    pub fn fallback(self) -> GgmlType {
        match self {
            GgmlType::Q2K | GgmlType::Q3K => GgmlType::Iq4Nl,
            GgmlType::Q4K => GgmlType::Q5_0,
            GgmlType::Q5K => GgmlType::Q5_1,
            GgmlType::Q6K => GgmlType::Q8_0,
            t => t,
        }
    }
}

/// A llama.cpp file type: a base type, and for the k-quant mixes the per-tensor rule of the
/// module docs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GgufMix {
    /// Every quantized weight in one type (`Q4_0`, `Q8_0`, ...), with the output rule.
    Pure(GgmlType),
    /// `Q4_K_S`.
    Q4KS,
    /// `Q4_K_M`.
    Q4KM,
    /// `Q5_K_S`.
    Q5KS,
    /// `Q5_K_M`.
    Q5KM,
}

/// What a weight tensor is, for the mix rule (llama.cpp's `tensor_category`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TensorCategory {
    /// The token embedding table.
    TokenEmbd,
    /// The output projection (LM head).
    Output,
    /// Attention query projection.
    AttnQ,
    /// Attention key projection.
    AttnK,
    /// Attention value projection.
    AttnV,
    /// Attention output projection.
    AttnOutput,
    /// FFN gate projection.
    FfnGate,
    /// FFN up projection.
    FfnUp,
    /// FFN down projection.
    FfnDown,
    /// Anything else (routers, biases are never quantized).
    Other,
}

impl TensorCategory {
    /// The category of one of archscope's LLM weight names (`layers.3.attn.v_proj.weight`,
    /// `layers.3.mlp.down.weight`, `embed_tokens.weight`, `lm_head.weight`).
    pub fn of_name(name: &str) -> TensorCategory {
        let has = |s: &str| name.contains(s);
        if name.starts_with("embed_tokens") {
            TensorCategory::TokenEmbd
        } else if name.starts_with("lm_head") {
            TensorCategory::Output
        } else if has("q_proj") {
            TensorCategory::AttnQ
        } else if has("k_proj") {
            TensorCategory::AttnK
        } else if has("v_proj") {
            TensorCategory::AttnV
        } else if has("o_proj") {
            TensorCategory::AttnOutput
        } else if has("router") {
            TensorCategory::Other
        } else if has("gate") {
            TensorCategory::FfnGate
        } else if has(".up") {
            TensorCategory::FfnUp
        } else if has("down") {
            TensorCategory::FfnDown
        } else {
            TensorCategory::Other
        }
    }
}

/// llama.cpp's `use_more_bits`: the first and last eighth of the layers and every third layer
/// between them.
pub fn use_more_bits(i: u64, n: u64) -> bool {
    let (i, n) = (i as i64, n as i64);
    i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2
}

/// Where a tensor sits in its model, for the mix rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TensorSite {
    /// Its category.
    pub category: TensorCategory,
    /// Its layer (0 outside the layers).
    pub layer: u64,
    /// Layers of the model.
    pub layers: u64,
    /// Experts of the model (1 for a dense model).
    pub experts: u64,
    /// Row length (the input dimension of a `[out, in]` weight).
    pub row: u64,
    /// Whether the token embedding is tied to the output projection.
    pub tied: bool,
}

impl GgufMix {
    /// The file type of a name (`q4_k_m`, `Q4_0`, `q8_0`), case-insensitive; `None` for other
    /// names.
    pub fn parse(s: &str) -> Option<GgufMix> {
        match s.to_ascii_lowercase().as_str() {
            "q4_k_s" => Some(GgufMix::Q4KS),
            "q4_k_m" => Some(GgufMix::Q4KM),
            "q5_k_s" => Some(GgufMix::Q5KS),
            "q5_k_m" => Some(GgufMix::Q5KM),
            other => GgmlType::parse(other)
                .filter(|t| t.block() > 1)
                .map(GgufMix::Pure),
        }
    }

    /// The name, as llama.cpp writes the file type in lower case.
    pub fn name(self) -> String {
        match self {
            GgufMix::Pure(t) => t.name().to_string(),
            GgufMix::Q4KS => "q4_k_s".into(),
            GgufMix::Q4KM => "q4_k_m".into(),
            GgufMix::Q5KS => "q5_k_s".into(),
            GgufMix::Q5KM => "q5_k_m".into(),
        }
    }

    /// The base type most tensors get.
    pub fn base(self) -> GgmlType {
        match self {
            GgufMix::Pure(t) => t,
            GgufMix::Q4KS | GgufMix::Q4KM => GgmlType::Q4K,
            GgufMix::Q5KS | GgufMix::Q5KM => GgmlType::Q5K,
        }
    }

    /// The type llama.cpp gives the weight at `site` (see the module docs).
    pub fn type_for(self, site: TensorSite) -> GgmlType {
        use TensorCategory as C;
        let base = self.base();
        let eight_experts = site.experts == 8;
        let (i, n) = (site.layer, site.layers);
        let chosen = match site.category {
            C::Output => Self::output_type(base, site.row),
            C::TokenEmbd if site.tied => Self::output_type(base, site.row),
            C::TokenEmbd => base,
            C::AttnV if eight_experts => GgmlType::Q8_0,
            C::AttnV => match self {
                GgufMix::Q4KM | GgufMix::Q5KM if use_more_bits(i, n) => GgmlType::Q6K,
                GgufMix::Q4KS if i < 4 => GgmlType::Q5K,
                _ => base,
            },
            C::AttnK if eight_experts => GgmlType::Q8_0,
            C::FfnDown => match self {
                GgufMix::Q4KM | GgufMix::Q5KM if use_more_bits(i, n) => GgmlType::Q6K,
                GgufMix::Q4KS if i < n / 8 => GgmlType::Q5K,
                _ => base,
            },
            C::AttnOutput if eight_experts && matches!(self, GgufMix::Q4KS | GgufMix::Q4KM) => {
                GgmlType::Q5K
            }
            _ => base,
        };
        if site.row % chosen.block() as u64 != 0 {
            chosen.fallback()
        } else {
            chosen
        }
    }

    fn output_type(base: GgmlType, row: u64) -> GgmlType {
        if row % base.block() as u64 != 0 {
            GgmlType::Q8_0
        } else if base == GgmlType::Q8_0 {
            GgmlType::Q8_0
        } else {
            GgmlType::Q6K
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_per_weight_match_the_block_layouts() {
        // ggml-common.h: sizeof(block_q4_0) = 2 + 16 for 32 weights, etc.
        let expect = [
            (GgmlType::Q4_0, 4.5),
            (GgmlType::Q4_1, 5.0),
            (GgmlType::Q5_0, 5.5),
            (GgmlType::Q5_1, 6.0),
            (GgmlType::Q8_0, 8.5),
            (GgmlType::Q4K, 4.5),
            (GgmlType::Q5K, 5.5),
            (GgmlType::Q6K, 6.5625),
            (GgmlType::F16, 16.0),
            // block_q2_K: 16 + 64 + 2 + 2 bytes; block_q3_K: 32 + 64 + 12 + 2; block_iq4_nl: 2 + 16.
            (GgmlType::Q2K, 84.0 * 8.0 / 256.0),
            (GgmlType::Q3K, 110.0 * 8.0 / 256.0),
            (GgmlType::Iq4Nl, 4.5),
            (GgmlType::Bf16, 16.0),
            (GgmlType::F32, 32.0),
        ];
        for (t, bpw) in expect {
            assert_eq!(t.bits_per_weight(), bpw, "{}", t.name());
            // The storage gives the same bytes for a whole number of blocks.
            let row = 4096;
            assert_eq!(t.storage().bytes(&[2, row]), 2.0 * row as f64 * bpw / 8.0);
        }
    }

    #[test]
    fn more_bits_layers_of_a_32_layer_model() {
        // n/8 = 4: layers 0-3, 28-31 and (i - 4) % 3 == 2 → 6, 9, ..., 27.
        let picked: Vec<u64> = (0..32).filter(|&i| use_more_bits(i, 32)).collect();
        assert_eq!(
            picked,
            vec![0, 1, 2, 3, 6, 9, 12, 15, 18, 21, 24, 27, 28, 29, 30, 31]
        );
    }

    #[test]
    fn q4_k_m_rules() {
        let site = |category, layer| TensorSite {
            category,
            layer,
            layers: 32,
            experts: 1,
            row: 4096,
            tied: false,
        };
        let m = GgufMix::Q4KM;
        assert_eq!(m.type_for(site(TensorCategory::AttnV, 0)), GgmlType::Q6K);
        assert_eq!(m.type_for(site(TensorCategory::AttnV, 4)), GgmlType::Q4K);
        assert_eq!(m.type_for(site(TensorCategory::FfnDown, 6)), GgmlType::Q6K);
        assert_eq!(m.type_for(site(TensorCategory::FfnUp, 0)), GgmlType::Q4K);
        assert_eq!(m.type_for(site(TensorCategory::Output, 0)), GgmlType::Q6K);
        assert_eq!(
            m.type_for(site(TensorCategory::TokenEmbd, 0)),
            GgmlType::Q4K
        );
        // Q4_0 files also get a q6_k output; Q8_0 files keep q8_0.
        let pure = |t| GgufMix::Pure(t).type_for(site(TensorCategory::Output, 0));
        assert_eq!(pure(GgmlType::Q4_0), GgmlType::Q6K);
        assert_eq!(pure(GgmlType::Q8_0), GgmlType::Q8_0);
        // A row of 5440 (a multiple of 32, not of 256) falls back to q5_0.
        let odd = TensorSite {
            row: 5440,
            ..site(TensorCategory::FfnDown, 4)
        };
        assert_eq!(m.type_for(odd), GgmlType::Q5_0);
    }
}
