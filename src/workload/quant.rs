//! Quantization schemes: separate weight, activation and KV-cache formats, group sizes with their
//! scale and zero-point bytes, and separate embedding and LM-head precision.
//!
//! A scheme is named `BASE[+MOD...]`:
//! * bases: `fp32`, `fp16`, `bf16`, `w8a8`, `w8a16`, `w4a16-gN` (e.g. `w4a16-g128`), `w4a8`
//!   (int4 weights in groups of 128, int8 activations), `int8` (full-integer: every op computes
//!   in int8, as TensorFlow Lite's full-integer post-training quantization does for int8-only
//!   accelerators such as the Edge TPU and systolic arrays), `kv8`/`kv4` alone (fp16 plus
//!   that KV), and llama.cpp's file types (`q4_0`, `q8_0`, `q4_k_m`, ...: each weight in the
//!   ggml type the mix gives it, see [`super::ggml`]);
//! * modifiers: `kv16`, `kv8`, `kv4`, `embed-F` and `head-F` where `F` is `fp32`, `fp16`, `bf16`,
//!   `w8` or `w4-gN`.
//!
//! Conventions, each a common published practice:
//! * int8 weights (`w8`) are symmetric per output channel with an fp16 scale (SmoothQuant, LLM.int8());
//! * int4 weights (`w4-gN`) are asymmetric per group of N along the input dimension, fp16 scale
//!   and 4-bit zero point (GPTQ/AWQ packing);
//! * `kv8` is symmetric int8 per token and head with an fp16 scale; `kv4` is asymmetric int4 per
//!   token and head with fp16 scale and fp16 zero point (KIVI-style);
//! * embeddings and the LM head stay in the float dtype unless a modifier says otherwise
//!   (GPTQ/AWQ/SmoothQuant leave them unquantized);
//! * linear layers compute in int8 when activations are int8, otherwise in the float dtype after
//!   dequantizing weights; attention, norms and activations compute in the float dtype.

use super::dtype::{DType, QuantGroup, Storage};
use super::ggml::GgufMix;
use serde::Serialize;

/// A complete quantization scheme for a model.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct QuantScheme {
    /// Canonical name, e.g. `w4a16-g128+kv8`.
    pub name: String,
    /// Storage of linear-layer weights.
    pub weights: Storage,
    /// Storage of activations between ops.
    pub acts: DType,
    /// Storage of the KV cache.
    pub kv: Storage,
    /// Storage of the token embedding table.
    pub embed: Storage,
    /// Storage of the LM head (output projection).
    pub head: Storage,
    /// Compute dtype of linear layers.
    pub linear_compute: DType,
    /// Compute dtype of everything else (attention, norms, activations).
    pub float: DType,
    /// A llama.cpp file type (`q4_k_m`, `q4_0`): when set, each weight of an LLM takes the type
    /// the mix gives it ([`GgufMix::type_for`]) instead of `weights`, `embed` and `head`.
    pub ggml: Option<GgufMix>,
}

/// A scheme name that could not be parsed.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error(
    "unknown quantization `{scheme}`: {why}. Expected BASE[+MOD...] with BASE one of fp32, fp16, bf16, w8a8, w8a16, w4a16-gN, w4a8, int8, kv8, kv4, q4f16_1 (MLC-LLM), a llama.cpp file type (q4_0, q4_1, q5_0, q5_1, q8_0, iq4_nl, q2_k, q3_k, q4_k, q5_k, q6_k, q4_k_s, q4_k_m, q5_k_s, q5_k_m) and MOD one of kv16, kv8, kv4, embed-F, head-F (F = fp32, fp16, bf16, w8, w4-gN)"
)]
pub struct QuantError {
    /// The text given.
    pub scheme: String,
    /// What was wrong.
    pub why: String,
}

/// fp16 scale bits used by every integer format here.
const SCALE_BITS: u32 = 16;
/// Packed 4-bit zero point of asymmetric int4 weight groups.
const INT4_ZERO_BITS: u32 = 4;
/// Group size of MLC-LLM's `q4f16_*` weights (its `GroupQuantize` default).
const MLC_GROUP: u32 = 32;
/// Group size of `w4a8` weights (QServe W4A8KV4 uses 128).
const W4A8_GROUP: u32 = 128;

fn int8_per_channel() -> Storage {
    Storage {
        dtype: DType::I8,
        group: Some(QuantGroup {
            size: 0,
            scale_bits: SCALE_BITS,
            zero_bits: 0,
        }),
    }
}

fn int4_group(size: u32) -> Storage {
    Storage {
        dtype: DType::I4,
        group: Some(QuantGroup {
            size,
            scale_bits: SCALE_BITS,
            zero_bits: INT4_ZERO_BITS,
        }),
    }
}

fn kv_storage(bits: u32, float: DType) -> Option<Storage> {
    Some(match bits {
        16 => Storage::plain(float),
        8 => Storage {
            dtype: DType::I8,
            group: Some(QuantGroup {
                size: 0,
                scale_bits: SCALE_BITS,
                zero_bits: 0,
            }),
        },
        4 => Storage {
            dtype: DType::I4,
            group: Some(QuantGroup {
                size: 0,
                scale_bits: SCALE_BITS,
                zero_bits: SCALE_BITS,
            }),
        },
        _ => return None,
    })
}

fn parse_group(s: &str) -> Option<u32> {
    s.strip_prefix('g')?.parse().ok().filter(|&g: &u32| g > 0)
}

impl QuantScheme {
    /// Whether the scheme's name fixes its activations' width (`wXaY` bases: `w8a8`, `w8a16`,
    /// `w4a8`, `w4a16-gN`): a runtime that quantizes activations for integer products (ggml's q8
    /// dot products) leaves such activations as the scheme says.
    pub fn names_activation_width(&self) -> bool {
        let base = self.name.split('+').next().unwrap_or("");
        let Some(rest) = base.strip_prefix('w') else {
            return false;
        };
        let rest = rest.trim_start_matches(|c: char| c.is_ascii_digit());
        rest.len() < base.len() - 1
            && rest
                .strip_prefix('a')
                .is_some_and(|r| r.starts_with(|c: char| c.is_ascii_digit()))
    }

    /// Parses a scheme name (see the module docs for the grammar).
    pub fn parse(text: &str) -> Result<QuantScheme, QuantError> {
        let err = |why: String| QuantError {
            scheme: text.to_string(),
            why,
        };
        let mut parts = text.trim().split('+');
        let base = parts.next().unwrap_or("").to_ascii_lowercase();
        let mut s = match base.as_str() {
            "fp32" | "f32" => Self::float(DType::F32),
            "fp16" | "f16" => Self::float(DType::F16),
            "bf16" => Self::float(DType::Bf16),
            "kv8" | "kv4" => {
                let mut s = Self::float(DType::F16);
                s.kv = kv_storage(if base == "kv8" { 8 } else { 4 }, DType::F16).unwrap();
                s
            }
            "w8a8" => QuantScheme {
                weights: int8_per_channel(),
                acts: DType::I8,
                linear_compute: DType::I8,
                ..Self::float(DType::F16)
            },
            "int8" => QuantScheme {
                weights: int8_per_channel(),
                acts: DType::I8,
                kv: kv_storage(8, DType::F16).expect("8-bit KV exists"),
                embed: int8_per_channel(),
                head: int8_per_channel(),
                linear_compute: DType::I8,
                float: DType::I8,
                name: String::new(),
                ggml: None,
            },
            "w8a16" => QuantScheme {
                weights: int8_per_channel(),
                ..Self::float(DType::F16)
            },
            "w4a8" => QuantScheme {
                weights: int4_group(W4A8_GROUP),
                acts: DType::I8,
                linear_compute: DType::I8,
                ..Self::float(DType::F16)
            },
            b if b.starts_with("w4a16-") => {
                let g = parse_group(&b["w4a16-".len()..])
                    .ok_or_else(|| err(format!("bad group size in `{b}`")))?;
                QuantScheme {
                    weights: int4_group(g),
                    ..Self::float(DType::F16)
                }
            }
            "w4a16" => return Err(err("w4a16 needs a group size, e.g. w4a16-g128".into())),
            // MLC-LLM's group quantization: int4 in groups of 32 with an fp16 scale, symmetric.
            "q4f16_1" | "q4f16_0" => QuantScheme {
                weights: Storage {
                    dtype: DType::I4,
                    group: Some(QuantGroup {
                        size: MLC_GROUP,
                        scale_bits: SCALE_BITS,
                        zero_bits: 0,
                    }),
                },
                ..Self::float(DType::F16)
            },
            b if GgufMix::parse(b).is_some() => Self::gguf(GgufMix::parse(b).expect("checked")),
            other => return Err(err(format!("unknown base `{other}`"))),
        };
        for m in parts {
            let m = m.to_ascii_lowercase();
            if let Some(bits) = m.strip_prefix("kv") {
                let bits: u32 = bits
                    .parse()
                    .map_err(|_| err(format!("bad KV modifier `{m}`")))?;
                s.kv = kv_storage(bits, s.float)
                    .ok_or_else(|| err(format!("KV bits must be 16, 8 or 4, not {bits}")))?;
            } else if let Some(f) = m.strip_prefix("embed-") {
                s.embed = Self::parse_format(f, s.float)
                    .ok_or_else(|| err(format!("bad embedding format `{f}`")))?;
            } else if let Some(f) = m.strip_prefix("head-") {
                s.head = Self::parse_format(f, s.float)
                    .ok_or_else(|| err(format!("bad LM-head format `{f}`")))?;
            } else {
                return Err(err(format!("unknown modifier `{m}`")));
            }
        }
        s.name = text.trim().to_ascii_lowercase();
        Ok(s)
    }

    fn parse_format(f: &str, float: DType) -> Option<Storage> {
        match f {
            "w8" => Some(int8_per_channel()),
            _ if f.starts_with("w4-") => parse_group(&f[3..]).map(int4_group),
            _ => DType::parse(f)
                .filter(|d| d.is_float())
                .map(Storage::plain)
                .or_else(|| (f == "float").then_some(Storage::plain(float))),
        }
    }

    /// A plain floating-point scheme where everything is `d`.
    pub fn float(d: DType) -> QuantScheme {
        QuantScheme {
            name: d.name().replace('f', "fp").replace("bfp", "bf"),
            weights: Storage::plain(d),
            acts: d,
            kv: Storage::plain(d),
            embed: Storage::plain(d),
            head: Storage::plain(d),
            linear_compute: d,
            float: d,
            ggml: None,
        }
    }

    /// The scheme of a llama.cpp file type: weights in the mix's types (the base type stands
    /// for them in `weights`, `embed` and `head`), f16 activations, KV cache and compute. A
    /// runtime whose quantized products take int8 activations (ggml's CPU and CUDA dot
    /// products) sets `linear_compute` to int8 when it applies.
    pub fn gguf(mix: GgufMix) -> QuantScheme {
        let base = mix.base().storage();
        QuantScheme {
            name: mix.name(),
            weights: base,
            embed: base,
            head: base,
            ggml: Some(mix),
            ..Self::float(DType::F16)
        }
    }

    /// The schemes archscope names in its documentation and default sweeps.
    pub const PRESETS: [&'static str; 10] = [
        "fp32",
        "fp16",
        "bf16",
        "w8a8",
        "w8a16",
        "w4a16-g128",
        "w4a8",
        "kv8",
        "kv4",
        "w4a16-g128+kv8",
    ];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_parse() {
        for p in QuantScheme::PRESETS {
            QuantScheme::parse(p).unwrap();
        }
    }

    #[test]
    fn activation_width_is_named_by_wxay_bases() {
        for (name, named) in [
            ("w8a16", true),
            ("w8a8", true),
            ("w4a16-g128+kv8", true),
            ("w4a8", true),
            ("fp16", false),
            ("int8", false),
            ("q4_0", false),
            ("q4f16_1", false),
        ] {
            let s = QuantScheme::parse(name).unwrap();
            assert_eq!(s.names_activation_width(), named, "{name}");
        }
    }

    #[test]
    fn w4a16_g128_effective_bits() {
        let s = QuantScheme::parse("w4a16-g128").unwrap();
        // 4 + (16 + 4)/128 bits per weight
        assert!((s.weights.bits_per_elem(2048) - (4.0 + 20.0 / 128.0)).abs() < 1e-12);
        assert_eq!(s.linear_compute, DType::F16);
        assert_eq!(s.embed, Storage::plain(DType::F16));
    }

    #[test]
    fn modifiers_apply() {
        let s = QuantScheme::parse("w4a8+kv4+head-w8").unwrap();
        assert_eq!(s.kv.dtype, DType::I4);
        assert_eq!(s.head.dtype, DType::I8);
        assert_eq!(s.linear_compute, DType::I8);
        assert_eq!(QuantScheme::parse("fp32").unwrap().name, "fp32");
    }

    #[test]
    fn int8_is_full_integer() {
        let s = QuantScheme::parse("int8").unwrap();
        assert_eq!(s.name, "int8");
        assert_eq!(
            (s.acts, s.linear_compute, s.float),
            (DType::I8, DType::I8, DType::I8)
        );
        // int8 per output channel with an fp16 scale: 8 bits + 16 bits per 4096-element row.
        assert!((s.weights.bits_per_elem(4096) - (8.0 + 16.0 / 4096.0)).abs() < 1e-12);
        assert_eq!(s.kv.dtype, DType::I8);
    }

    #[test]
    fn bad_names_are_errors() {
        assert!(QuantScheme::parse("w3a16").is_err());
        assert!(QuantScheme::parse("w4a16").is_err());
        assert!(QuantScheme::parse("fp16+kv5").is_err());
        assert!(QuantScheme::parse("fp16+head-i8").is_err());
    }
}
