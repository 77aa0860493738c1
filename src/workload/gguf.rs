//! GGUF files in: reads the header of a llama.cpp / Ollama / LM Studio model file (the metadata
//! and the tensor infos, never the weights) and turns it into the Hugging Face `config.json`
//! archscope builds LLMs from, plus the ggml type of every tensor, so that each weight is priced
//! with the exact bytes the file stores.
//!
//! **Our own reader, not candle's.** candle-core has a GGUF reader, but it is an optional
//! dependency behind the `measure` feature, so the core library (which must build with no
//! features) cannot use it; it also reads the whole metadata into memory with lengths taken
//! from the file as given. This reader is small, has no dependency, and checks every length,
//! count and offset against the bytes that are there and against the named limits below
//! *before* it allocates anything, so a truncated or hostile file gives a [`GgufError`] that
//! names the byte offset and what was expected, never a panic or a huge allocation.
//! [`parse_header`] is a pure function of the bytes, for tests and fuzzing.
//!
//! The format, from ggml's `docs/gguf.md` (ggml-org/ggml), all little-endian:
//! * magic `GGUF`, `u32` version (2 or 3 are read; version 1 used 32-bit counts and is refused),
//!   `u64` tensor count, `u64` metadata key-value count;
//! * each key-value: a string key (`u64` length + UTF-8 bytes), a `u32` value type (0 `u8`,
//!   1 `i8`, 2 `u16`, 3 `i16`, 4 `u32`, 5 `i32`, 6 `f32`, 7 `bool`, 8 string, 9 array, 10 `u64`,
//!   11 `i64`, 12 `f64`) and the value; an array is a `u32` element type, a `u64` length and the
//!   elements (arrays of arrays are refused, as llama.cpp's `gguf.cpp` does);
//! * each tensor info: a string name, `u32` dimension count (at most 4, `GGML_MAX_DIMS`), the
//!   `u64` dimensions innermost first, the `u32` ggml type ([`GgmlType::from_id`]) and a `u64`
//!   offset into the data section;
//! * the data section starts at the end of the tensor infos, rounded up to `general.alignment`
//!   (default 32).
//!
//! **What is checked about the data section.** The data is never read, but the file must hold
//! it: every tensor's offset is a multiple of the alignment, its bytes (from its dimensions and
//! type) end within the file, and no two tensors overlap. So a file cut short in its weights is
//! refused too, as llama.cpp would refuse to load it. Test files therefore carry (zero) tensor
//! data; their shapes are tiny.
//!
//! **From metadata to a config.** `general.architecture` (`llama`, `qwen2`, `qwen3`,
//! `qwen3moe`, `gemma`, `gemma2`, `gemma3`, `phi3`, `deepseek2`, ...) gives the Hugging Face
//! `model_type` ([`ARCHITECTURES`]; `llama` with experts is `mixtral`), and the `<arch>.*` keys
//! give the config fields (see [`GgufHeader::hf_config`]); the object goes through
//! [`LlmConfig::from_hf`], so every family the config builder knows loads from GGUF too, and
//! one it does not know gives its unsupported-`model_type` error. A file without an
//! `output.weight` tensor has its LM head tied to the token embedding (llama.cpp then uses
//! `token_embd.weight` for the output).
//!
//! **Per-tensor types.** The config carries the file's type of every tensor ([`GgufWeights`],
//! the `gguf` field of [`HfConfig`]), under the name of the file's scheme: llama.cpp's file type
//! (`general.file_type`) where it is one of the k-quant mixes archscope names (`q4_k_m`, ...),
//! otherwise the type that holds the most weights (`q4_0`, `q8_0`, `fp16`, ...). The table lives
//! with the config rather than in the [`QuantScheme`](super::QuantScheme) so that it travels
//! wherever the config text goes (an `explore` spec re-reads the model from its text). The LLM
//! builder takes each weight's type from the table when the scheme is the file's own (its name
//! before any `+` modifier, e.g. `q4_k_m+kv8`), so activations, KV cache and compute follow that
//! named scheme's rules and only the weight formats come from the file. **`--quant` with a GGUF
//! model**: by default the commands price the file's own scheme; another `--quant` is an
//! override that prices the file's shapes under that scheme's rules, as for a `config.json`.

use super::error::ModelError;
use super::ggml::GgmlType;
use super::llm::{HfConfig, LlmConfig};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json, json};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

/// The four bytes a GGUF file starts with.
pub const MAGIC: [u8; 4] = *b"GGUF";
/// Oldest version read: version 2 moved counts and lengths to 64 bits (`docs/gguf.md`).
pub const MIN_VERSION: u32 = 2;
/// Newest version read (3, which added big-endian files, the current one).
pub const MAX_VERSION: u32 = 3;
/// Data-section alignment when `general.alignment` is absent (`GGUF_DEFAULT_ALIGNMENT`).
pub const DEFAULT_ALIGNMENT: u64 = 32;
/// Most tensors a file may declare: Llama 3.1 405B, the deepest published decoder (126 blocks
/// of 9 tensors, plus the embedding, final norm and output), has 1,137; 65,536 is over 50× that.
pub const MAX_TENSORS: u64 = 1 << 16;
/// Most metadata key-values: llama.cpp's converter writes a few dozen (the general, `<arch>.*`
/// and tokenizer keys); 65,536 is over 1,000× that.
pub const MAX_KVS: u64 = 1 << 16;
/// Longest key, in bytes (`docs/gguf.md`: keys are at most 65,535 bytes).
pub const MAX_KEY_BYTES: u64 = (1 << 16) - 1;
/// Longest string value or tensor name, in bytes: the longest values in real files are chat
/// templates of tens of kilobytes; 16 MiB is hundreds of times that.
pub const MAX_STRING_BYTES: u64 = 1 << 24;
/// Dimensions of a tensor at most (`GGML_MAX_DIMS`).
pub const MAX_DIMS: u32 = 4;
/// Arrays up to this length keep their values (per-layer head counts and the like); longer ones
/// (the tokenizer's 150,000 tokens and merges) are checked and skipped, their length kept.
pub const MAX_KEPT_ARRAY: u64 = 1 << 12;
/// How much of a file is read first; the header is read further, doubling, while it needs more.
pub const FIRST_READ_BYTES: u64 = 1 << 20;
/// Largest header read (metadata and tensor infos): real headers are 1 to 10 MiB, mostly the
/// tokenizer (Gemma 3's 262,144 tokens with scores and types); 256 MiB is 25× that.
pub const MAX_HEADER_BYTES: u64 = 1 << 28;

/// GGUF value type ids (`enum gguf_type`).
const TYPE_U8: u32 = 0;
const TYPE_I8: u32 = 1;
const TYPE_U16: u32 = 2;
const TYPE_I16: u32 = 3;
const TYPE_U32: u32 = 4;
const TYPE_I32: u32 = 5;
const TYPE_F32: u32 = 6;
const TYPE_BOOL: u32 = 7;
const TYPE_STRING: u32 = 8;
const TYPE_ARRAY: u32 = 9;
const TYPE_U64: u32 = 10;
const TYPE_I64: u32 = 11;
const TYPE_F64: u32 = 12;

/// llama.cpp's file types (`enum llama_ftype`) that name a k-quant mix archscope has rules for.
const FILE_TYPE_MIXES: [(u64, &str); 4] = [
    (14, "q4_k_s"),
    (15, "q4_k_m"),
    (16, "q5_k_s"),
    (17, "q5_k_m"),
];

/// GGUF architectures and the Hugging Face `model_type` of each (the `LLM_ARCH_NAMES` of
/// llama.cpp's `llama-arch.cpp`, and the transformers model each is converted from).
pub const ARCHITECTURES: [(&str, &str); 10] = [
    ("llama", "llama"),
    ("qwen2", "qwen2"),
    ("qwen2moe", "qwen2_moe"),
    ("qwen3", "qwen3"),
    ("qwen3moe", "qwen3_moe"),
    ("gemma", "gemma"),
    ("gemma2", "gemma2"),
    ("gemma3", "gemma3_text"),
    ("phi3", "phi3"),
    ("deepseek2", "deepseek_v2"),
];

/// Gemma 3's local-to-global layer pattern: llama.cpp sets it in code, not in the file
/// (`hparams.set_swa_pattern(6)` for `LLM_ARCH_GEMMA3` in `llama-model.cpp`), and transformers'
/// `Gemma3TextConfig` defaults `sliding_window_pattern` to 6: five local layers, then a global one.
const GEMMA3_SLIDING_WINDOW_PATTERN: u64 = 6;
/// `<arch>.expert_gating_func` value of sigmoid gating (`LLAMA_EXPERT_GATING_FUNC_TYPE_SIGMOID`),
/// which DeepSeek-V3 uses and V2 does not.
const GATING_SIGMOID: u64 = 2;

/// A truncated, corrupted or unusable GGUF file.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GgufError {
    /// The file ends before something it declares.
    #[error("byte {offset}: expected {expected}, but the file ends at byte {end}")]
    Truncated {
        /// Where the missing item starts.
        offset: u64,
        /// What should be there.
        expected: String,
        /// The file's length.
        end: u64,
    },
    /// A value that breaks the format or archscope's limits.
    #[error("byte {offset}: expected {expected}, got {got}")]
    Invalid {
        /// Where the value starts.
        offset: u64,
        /// What the format allows.
        expected: String,
        /// What the file has.
        got: String,
    },
    /// Well-formed metadata that does not describe a model archscope can build.
    #[error("metadata `{key}`: {message}")]
    Metadata {
        /// The key (or tensor name).
        key: String,
        /// What is wrong.
        message: String,
    },
}

/// One metadata value.
#[derive(Clone, Debug, PartialEq)]
pub enum GgufValue {
    /// Any of the integer types, widened.
    Int(i128),
    /// `f32` or `f64`, widened.
    Float(f64),
    /// A boolean.
    Bool(bool),
    /// A string (invalid UTF-8 replaced).
    String(String),
    /// An array.
    Array(GgufArray),
}

/// An array value: its element type and length, and its elements when it has at most
/// [`MAX_KEPT_ARRAY`] of them.
#[derive(Clone, Debug, PartialEq)]
pub struct GgufArray {
    /// The elements' GGUF value type id.
    pub elem_type: u32,
    /// Number of elements.
    pub len: u64,
    /// The elements, when kept.
    pub values: Option<Vec<GgufValue>>,
}

/// One tensor info.
#[derive(Clone, Debug, PartialEq)]
pub struct TensorInfo {
    /// Name, e.g. `blk.0.attn_q.weight`.
    pub name: String,
    /// Dimensions, innermost (the row) first, as ggml's `ne`.
    pub dims: Vec<u64>,
    /// Its ggml type.
    pub ggml: GgmlType,
    /// Offset of its data from the start of the data section.
    pub offset: u64,
}

impl TensorInfo {
    /// Elements.
    pub fn elements(&self) -> u64 {
        self.dims.iter().product()
    }

    /// Bytes of its data: whole blocks of its type along the row, times the other dimensions
    /// (the header reader checked that this fits 64 bits).
    pub fn bytes(&self) -> u64 {
        tensor_bytes(&self.dims, self.ggml).unwrap_or(u64::MAX)
    }
}

/// A parsed header.
#[derive(Clone, Debug, PartialEq)]
pub struct GgufHeader {
    /// Format version (2 or 3).
    pub version: u32,
    /// Metadata, by key.
    pub metadata: BTreeMap<String, GgufValue>,
    /// Tensor infos, in file order.
    pub tensors: Vec<TensorInfo>,
    /// Data-section alignment.
    pub alignment: u64,
    /// Where the data section starts.
    pub data_offset: u64,
}

/// Bytes of a tensor of `dims` (innermost first) in `t`, `None` when they overflow 64 bits or
/// the row is not a whole number of blocks.
fn tensor_bytes(dims: &[u64], t: GgmlType) -> Option<u64> {
    let (&row, rest) = dims.split_first()?;
    let block = t.block() as u64;
    if row % block != 0 {
        return None;
    }
    let row_bytes = (row / block).checked_mul(t.block_bytes() as u64)?;
    rest.iter()
        .try_fold(row_bytes, |acc, &d| acc.checked_mul(d))
}

/// A read position over a prefix of a file of `end` bytes.
struct Cursor<'a> {
    b: &'a [u8],
    pos: usize,
    end: u64,
}

impl<'a> Cursor<'a> {
    fn offset(&self) -> u64 {
        self.pos as u64
    }

    /// Bytes of the file after the current position.
    fn remaining(&self) -> u64 {
        self.end.saturating_sub(self.offset())
    }

    fn truncated(&self, expected: String) -> GgufError {
        GgufError::Truncated {
            offset: self.offset(),
            expected,
            end: self.end,
        }
    }

    fn take(&mut self, n: u64, what: &dyn Fn() -> String) -> Result<&'a [u8], GgufError> {
        let avail = (self.b.len() - self.pos) as u64;
        if n > avail {
            return Err(self.truncated(format!("{} ({n} bytes)", what())));
        }
        let s = &self.b[self.pos..self.pos + n as usize];
        self.pos += n as usize;
        Ok(s)
    }

    fn array<const N: usize>(&mut self, what: &dyn Fn() -> String) -> Result<[u8; N], GgufError> {
        let s = self.take(N as u64, what)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    fn u32(&mut self, what: &dyn Fn() -> String) -> Result<u32, GgufError> {
        self.array::<4>(what).map(u32::from_le_bytes)
    }

    fn u64(&mut self, what: &dyn Fn() -> String) -> Result<u64, GgufError> {
        self.array::<8>(what).map(u64::from_le_bytes)
    }

    /// A string of at most `max` bytes.
    fn string(&mut self, what: &dyn Fn() -> String, max: u64) -> Result<String, GgufError> {
        let at = self.offset();
        let len = self.u64(&|| format!("the length of {}", what()))?;
        if len > max {
            return Err(GgufError::Invalid {
                offset: at,
                expected: format!("the length of {} (at most {max} bytes)", what()),
                got: len.to_string(),
            });
        }
        let s = self.take(len, what)?;
        Ok(String::from_utf8_lossy(s).into_owned())
    }

    /// Checks that `count` items of at least `min_bytes` each can fit in the rest of the file.
    fn check_count(
        &self,
        at: u64,
        count: u64,
        min_bytes: u64,
        what: &str,
    ) -> Result<(), GgufError> {
        if count.saturating_mul(min_bytes) > self.remaining() {
            return Err(GgufError::Invalid {
                offset: at,
                expected: format!(
                    "a {what} that fits in the {} bytes left in the file (at least {min_bytes} bytes each)",
                    self.remaining()
                ),
                got: count.to_string(),
            });
        }
        Ok(())
    }

    /// One value of type `ty`; arrays keep their elements up to [`MAX_KEPT_ARRAY`].
    fn value(&mut self, ty: u32, key: &str, in_array: bool) -> Result<GgufValue, GgufError> {
        let what = || format!("the value of `{key}`");
        let at = self.offset();
        Ok(match ty {
            TYPE_U8 => GgufValue::Int(self.array::<1>(&what)?[0] as i128),
            TYPE_I8 => GgufValue::Int(self.array::<1>(&what)?[0] as i8 as i128),
            TYPE_U16 => GgufValue::Int(u16::from_le_bytes(self.array(&what)?) as i128),
            TYPE_I16 => GgufValue::Int(i16::from_le_bytes(self.array(&what)?) as i128),
            TYPE_U32 => GgufValue::Int(u32::from_le_bytes(self.array(&what)?) as i128),
            TYPE_I32 => GgufValue::Int(i32::from_le_bytes(self.array(&what)?) as i128),
            TYPE_U64 => GgufValue::Int(u64::from_le_bytes(self.array(&what)?) as i128),
            TYPE_I64 => GgufValue::Int(i64::from_le_bytes(self.array(&what)?) as i128),
            TYPE_F32 => GgufValue::Float(f32::from_le_bytes(self.array(&what)?) as f64),
            TYPE_F64 => GgufValue::Float(f64::from_le_bytes(self.array(&what)?)),
            TYPE_BOOL => GgufValue::Bool(self.array::<1>(&what)?[0] != 0),
            TYPE_STRING => GgufValue::String(self.string(&what, MAX_STRING_BYTES)?),
            TYPE_ARRAY if in_array => {
                return Err(GgufError::Invalid {
                    offset: at,
                    expected: format!(
                        "an element type of `{key}` other than array (nested arrays are not read)"
                    ),
                    got: TYPE_ARRAY.to_string(),
                });
            }
            TYPE_ARRAY => {
                let elem_type = self.u32(&|| format!("the element type of `{key}`"))?;
                let min = min_value_bytes(elem_type).ok_or_else(|| GgufError::Invalid {
                    offset: at,
                    expected: format!("the element type of `{key}` (a value type 0 to 12)"),
                    got: elem_type.to_string(),
                })?;
                if elem_type == TYPE_ARRAY {
                    return Err(GgufError::Invalid {
                        offset: at,
                        expected: format!(
                            "an element type of `{key}` other than array (nested arrays are not read)"
                        ),
                        got: elem_type.to_string(),
                    });
                }
                let len_at = self.offset();
                let len = self.u64(&|| format!("the length of `{key}`"))?;
                self.check_count(len_at, len, min, &format!("length of `{key}`"))?;
                let keep = len <= MAX_KEPT_ARRAY;
                let mut values = Vec::new();
                for _ in 0..len {
                    let v = self.value(elem_type, key, true)?;
                    if keep {
                        values.push(v);
                    }
                }
                GgufValue::Array(GgufArray {
                    elem_type,
                    len,
                    values: keep.then_some(values),
                })
            }
            other => {
                return Err(GgufError::Invalid {
                    offset: at.saturating_sub(4),
                    expected: format!("the value type of `{key}` (0 to 12)"),
                    got: other.to_string(),
                });
            }
        })
    }
}

/// Fewest bytes a value of type `ty` takes (a string: its length; an array: type and length).
fn min_value_bytes(ty: u32) -> Option<u64> {
    Some(match ty {
        TYPE_U8 | TYPE_I8 | TYPE_BOOL => 1,
        TYPE_U16 | TYPE_I16 => 2,
        TYPE_U32 | TYPE_I32 | TYPE_F32 => 4,
        TYPE_U64 | TYPE_I64 | TYPE_F64 | TYPE_STRING => 8,
        TYPE_ARRAY => 12,
        _ => return None,
    })
}

/// Fewest bytes of one key-value: an empty key's length, the type and a one-byte value.
const MIN_KV_BYTES: u64 = 8 + 4 + 1;
/// Fewest bytes of one tensor info: name length, dimension count, type and offset.
const MIN_TENSOR_INFO_BYTES: u64 = 8 + 4 + 4 + 8;

/// Parses the header of a whole GGUF file held in `bytes` (the data section is checked against
/// `bytes.len()`). Pure: for tests and fuzzing.
pub fn parse_header(bytes: &[u8]) -> Result<GgufHeader, GgufError> {
    parse_prefix(bytes, bytes.len() as u64)
}

/// Parses the header from `bytes`, the first bytes of a file of `file_len` bytes. A header that
/// runs past `bytes` gives [`GgufError::Truncated`] (with `end` the file's length).
pub fn parse_prefix(bytes: &[u8], file_len: u64) -> Result<GgufHeader, GgufError> {
    let mut c = Cursor {
        b: bytes,
        pos: 0,
        end: file_len,
    };
    let (version, n_tensors, n_kv) = read_preamble(&mut c)?;
    let metadata = read_metadata(&mut c, n_kv)?;
    c.check_count(c.offset(), n_tensors, MIN_TENSOR_INFO_BYTES, "tensor count")?;
    let mut tensors: Vec<TensorInfo> = Vec::new();
    let mut names = std::collections::BTreeSet::new();
    for i in 0..n_tensors {
        let at = c.offset();
        let (name, dims, ggml) = read_tensor_shape(&mut c, i)?;
        let offset = c.u64(&|| format!("the data offset of tensor `{name}`"))?;
        if !names.insert(name.clone()) {
            return Err(GgufError::Invalid {
                offset: at,
                expected: "a tensor name not given before".into(),
                got: format!("`{name}` again"),
            });
        }
        tensors.push(TensorInfo {
            name,
            dims,
            ggml,
            offset,
        });
    }
    let alignment = alignment_of(&metadata)?;
    let header_end = c.offset();
    let data_offset = header_end.div_ceil(alignment) * alignment;
    check_data_layout(&tensors, data_offset, alignment, file_len)?;
    Ok(GgufHeader {
        version,
        metadata,
        tensors,
        alignment,
        data_offset,
    })
}

/// The magic, the version and the tensor and key-value counts, each within its limit.
fn read_preamble(c: &mut Cursor) -> Result<(u32, u64, u64), GgufError> {
    let magic = c.array::<4>(&|| "the magic `GGUF`".into())?;
    if magic != MAGIC {
        return Err(GgufError::Invalid {
            offset: 0,
            expected: "the magic `GGUF` (a GGUF file)".into(),
            got: format!("{magic:02x?}"),
        });
    }
    let version = c.u32(&|| "the version".into())?;
    if !(MIN_VERSION..=MAX_VERSION).contains(&version) {
        let hint = if version.swap_bytes() <= MAX_VERSION {
            " (a big-endian file; archscope reads little-endian GGUF)"
        } else if version == 1 {
            " (version 1, with 32-bit counts, predates llama.cpp's current format)"
        } else {
            ""
        };
        return Err(GgufError::Invalid {
            offset: 4,
            expected: format!("version {MIN_VERSION} or {MAX_VERSION}"),
            got: format!("{version}{hint}"),
        });
    }
    let n_tensors = c.u64(&|| "the tensor count".into())?;
    let n_kv = c.u64(&|| "the metadata key-value count".into())?;
    for (at, n, max, what) in [
        (8, n_tensors, MAX_TENSORS, "tensor count"),
        (16, n_kv, MAX_KVS, "metadata key-value count"),
    ] {
        if n > max {
            return Err(GgufError::Invalid {
                offset: at,
                expected: format!("a {what} of at most {max}"),
                got: n.to_string(),
            });
        }
    }
    Ok((version, n_tensors, n_kv))
}

/// The `n_kv` metadata key-values, each key once.
fn read_metadata(c: &mut Cursor, n_kv: u64) -> Result<BTreeMap<String, GgufValue>, GgufError> {
    c.check_count(16, n_kv, MIN_KV_BYTES, "metadata key-value count")?;
    let mut metadata = BTreeMap::new();
    for i in 0..n_kv {
        let at = c.offset();
        let key = c.string(&|| format!("key #{i}"), MAX_KEY_BYTES)?;
        let ty = c.u32(&|| format!("the value type of `{key}`"))?;
        let v = c.value(ty, &key, false)?;
        if metadata.insert(key.clone(), v).is_some() {
            return Err(GgufError::Invalid {
                offset: at,
                expected: "a key not given before".into(),
                got: format!("`{key}` again"),
            });
        }
    }
    Ok(metadata)
}

/// Tensor info `i` up to its data offset: its name, dimensions (1 to [`MAX_DIMS`] of them,
/// each positive) and ggml type, whose blocks must tile its rows.
fn read_tensor_shape(c: &mut Cursor, i: u64) -> Result<(String, Vec<u64>, GgmlType), GgufError> {
    let name = c.string(&|| format!("the name of tensor #{i}"), MAX_STRING_BYTES)?;
    let what = |s: &str| format!("{s} of tensor `{name}`");
    let nd_at = c.offset();
    let n_dims = c.u32(&|| what("the dimension count"))?;
    if n_dims == 0 || n_dims > MAX_DIMS {
        return Err(GgufError::Invalid {
            offset: nd_at,
            expected: what(&format!("the dimension count (1 to {MAX_DIMS})")),
            got: n_dims.to_string(),
        });
    }
    let mut dims = Vec::new();
    for d in 0..n_dims {
        let d_at = c.offset();
        let v = c.u64(&|| what(&format!("dimension {d}")))?;
        if v == 0 || v > i64::MAX as u64 {
            return Err(GgufError::Invalid {
                offset: d_at,
                expected: what(&format!("dimension {d} (1 to 2^63 - 1)")),
                got: v.to_string(),
            });
        }
        dims.push(v);
    }
    let t_at = c.offset();
    let id = c.u32(&|| what("the ggml type"))?;
    let ggml = GgmlType::from_id(id).ok_or_else(|| GgufError::Invalid {
        offset: t_at,
        expected: what(&format!(
            "the ggml type (one archscope prices: {})",
            GgmlType::ALL
                .iter()
                .map(|t| format!("{} = {}", t.name(), t.id()))
                .collect::<Vec<_>>()
                .join(", ")
        )),
        got: id.to_string(),
    })?;
    let Some(_) = tensor_bytes(&dims, ggml) else {
        return Err(GgufError::Invalid {
            offset: nd_at,
            expected: what(&format!(
                "dimensions with a row that is a multiple of {}'s block of {} and a size within 2^64 bytes",
                ggml.name(),
                ggml.block()
            )),
            got: format!("{dims:?}"),
        });
    };
    Ok((name, dims, ggml))
}

/// `general.alignment` (a power of two within 32 bits), or the default.
fn alignment_of(metadata: &BTreeMap<String, GgufValue>) -> Result<u64, GgufError> {
    Ok(match metadata.get("general.alignment") {
        None => DEFAULT_ALIGNMENT,
        Some(GgufValue::Int(a))
            if *a > 0 && (*a as u64).is_power_of_two() && *a <= u32::MAX as i128 =>
        {
            *a as u64
        }
        Some(other) => {
            return Err(GgufError::Metadata {
                key: "general.alignment".into(),
                message: format!("expected a power of two, got {other:?}"),
            });
        }
    })
}

/// Every tensor's data must lie in the file (of `file_len` bytes), aligned, without
/// overlapping another's.
fn check_data_layout(
    tensors: &[TensorInfo],
    data_offset: u64,
    alignment: u64,
    file_len: u64,
) -> Result<(), GgufError> {
    let mut spans: Vec<(u64, u64, &str)> = Vec::new();
    for t in tensors {
        let bytes = t.bytes();
        let start = data_offset.checked_add(t.offset);
        let stop = start.and_then(|s| s.checked_add(bytes));
        if t.offset % alignment != 0 {
            return Err(GgufError::Invalid {
                offset: data_offset,
                expected: format!(
                    "the data offset of tensor `{}` to be a multiple of the alignment {alignment}",
                    t.name
                ),
                got: t.offset.to_string(),
            });
        }
        match (start, stop) {
            (Some(s), Some(e)) if e <= file_len => spans.push((s, e, &t.name)),
            _ => {
                return Err(GgufError::Truncated {
                    offset: start.unwrap_or(u64::MAX),
                    expected: format!(
                        "the data of tensor `{}` ({bytes} bytes of {} {:?} at data offset {})",
                        t.name,
                        t.ggml.name(),
                        t.dims,
                        t.offset
                    ),
                    end: file_len,
                });
            }
        }
    }
    spans.sort_unstable();
    for w in spans.windows(2) {
        if w[1].0 < w[0].1 {
            return Err(GgufError::Invalid {
                offset: w[1].0,
                expected: format!(
                    "the data of tensor `{}` to start after that of `{}` (byte {})",
                    w[1].2, w[0].2, w[0].1
                ),
                got: format!("an overlap at byte {}", w[1].0),
            });
        }
    }
    Ok(())
}

/// Reads the header of the GGUF file at `path`: the first [`FIRST_READ_BYTES`], and more,
/// doubling, while the header runs on, up to [`MAX_HEADER_BYTES`]. The weights are not read.
pub fn read_header(path: &Path) -> Result<GgufHeader, ModelError> {
    let p = path.display().to_string();
    let io = |e: std::io::Error| ModelError::Io {
        path: p.clone(),
        cause: crate::util::text::TextError::Io(e),
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let len = file.metadata().map_err(io)?.len();
    let mut buf = Vec::new();
    let mut want = FIRST_READ_BYTES.min(len);
    loop {
        let have = buf.len() as u64;
        (&file)
            .take(want - have)
            .read_to_end(&mut buf)
            .map_err(io)?;
        match parse_prefix(&buf, len) {
            Err(GgufError::Truncated { .. }) if want < len && want < MAX_HEADER_BYTES => {
                want = want.saturating_mul(2).min(len).min(MAX_HEADER_BYTES);
            }
            Err(GgufError::Truncated { offset, .. }) if want < len => {
                return Err(ModelError::Gguf {
                    path: p,
                    cause: GgufError::Invalid {
                        offset,
                        expected: format!(
                            "a header (metadata and tensor infos) of at most {MAX_HEADER_BYTES} bytes"
                        ),
                        got: "a longer one".into(),
                    },
                });
            }
            r => return r.map_err(|cause| ModelError::Gguf { path: p, cause }),
        }
    }
}

impl GgufHeader {
    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&GgufValue> {
        self.metadata.get(key)
    }

    /// The tensor named `name`.
    pub fn tensor(&self, name: &str) -> Option<&TensorInfo> {
        self.tensors.iter().find(|t| t.name == name)
    }

    /// `general.architecture`.
    pub fn architecture(&self) -> Result<&str, GgufError> {
        match self.get("general.architecture") {
            Some(GgufValue::String(s)) => Ok(s),
            Some(v) => Err(GgufError::Metadata {
                key: "general.architecture".into(),
                message: format!("expected a string, got {v:?}"),
            }),
            None => Err(GgufError::Metadata {
                key: "general.architecture".into(),
                message: "missing; expected the model's architecture (llama, qwen2, ...)".into(),
            }),
        }
    }

    /// A non-negative integer at `key`; an array of equal values (a per-layer key whose layers
    /// agree) counts as that value.
    pub fn uint(&self, key: &str) -> Result<Option<u64>, GgufError> {
        let bad = |what: String| GgufError::Metadata {
            key: key.into(),
            message: what,
        };
        let one = |v: &GgufValue| match v {
            GgufValue::Int(i) if (0..=u64::MAX as i128).contains(i) => Ok(*i as u64),
            other => Err(bad(format!(
                "expected a non-negative integer, got {other:?}"
            ))),
        };
        match self.get(key) {
            None => Ok(None),
            Some(GgufValue::Array(a)) => {
                let vals = a.values.as_deref().unwrap_or_default();
                let first = vals.first().map(one).transpose()?;
                for v in vals {
                    if Some(one(v)?) != first {
                        return Err(bad(
                            "per-layer values that differ are not modelled; expected one value for all layers".into(),
                        ));
                    }
                }
                Ok(first)
            }
            Some(v) => one(v).map(Some),
        }
    }

    /// A float at `key`.
    fn float(&self, key: &str) -> Option<f64> {
        match self.get(key)? {
            GgufValue::Float(f) => Some(*f),
            GgufValue::Int(i) => Some(*i as f64),
            _ => None,
        }
    }

    /// The Hugging Face `config.json` object of this file, from `general.architecture` and the
    /// `<arch>.*` keys:
    ///
    /// | config field | GGUF source |
    /// |---|---|
    /// | `model_type` | `general.architecture` ([`ARCHITECTURES`]; `llama` with `expert_count` > 0 is `mixtral`, `deepseek2` with sigmoid gating is `deepseek_v3`) |
    /// | `hidden_size` | `embedding_length` |
    /// | `intermediate_size` | `feed_forward_length` (else `expert_feed_forward_length`) |
    /// | `moe_intermediate_size` | `expert_feed_forward_length` |
    /// | `num_hidden_layers` | `block_count` |
    /// | `num_attention_heads`, `num_key_value_heads` | `attention.head_count`, `attention.head_count_kv` |
    /// | `head_dim` | `attention.key_length` (not for `deepseek2`) |
    /// | `vocab_size` | `token_embd.weight`'s outer dimension, else `tokenizer.ggml.tokens`' length, else `vocab_size` |
    /// | `max_position_embeddings` | `context_length` |
    /// | `sliding_window` | `attention.sliding_window` |
    /// | `num_local_experts`, `num_experts`, `n_routed_experts` | `expert_count` (when > 0) |
    /// | `num_experts_per_tok` | `expert_used_count` |
    /// | `n_shared_experts`, `first_k_dense_replace` | `expert_shared_count`, `leading_dense_block_count` |
    /// | `q_lora_rank`, `kv_lora_rank` | `attention.q_lora_rank`, `attention.kv_lora_rank` |
    /// | `qk_rope_head_dim`, `qk_nope_head_dim`, `v_head_dim` | `rope.dimension_count`, `attention.key_length(_mla)` − rope, `attention.value_length(_mla)` |
    /// | `attn_logit_softcapping`, `final_logit_softcapping` | the same keys (Gemma 2) |
    /// | `tie_word_embeddings` | no `output.weight` tensor |
    /// | `attention_bias`, `mlp_bias` | `blk.0.attn_output.bias`, `blk.0.ffn_down.bias` present |
    /// | `hidden_activation` | `gelu_pytorch_tanh` for the Gemma architectures |
    pub fn hf_config(&self) -> Result<Json, GgufError> {
        let arch = self.architecture()?.to_string();
        let k = |s: &str| format!("{arch}.{s}");
        let need = |s: &str| -> Result<u64, GgufError> {
            self.uint(&k(s))?.ok_or_else(|| GgufError::Metadata {
                key: k(s),
                message: "missing; every GGUF LLM of this architecture has it".into(),
            })
        };
        let experts = self.uint(&k("expert_count"))?.unwrap_or(0);
        let model_type = match ARCHITECTURES.iter().find(|(a, _)| *a == arch) {
            Some(("llama", _)) if experts > 0 => "mixtral".to_string(),
            Some(("deepseek2", _))
                if self.uint(&k("expert_gating_func"))? == Some(GATING_SIGMOID) =>
            {
                "deepseek_v3".to_string()
            }
            Some((_, t)) => t.to_string(),
            None => arch.clone(),
        };
        let mut m = Map::new();
        m.insert("model_type".into(), json!(model_type));
        m.insert("hidden_size".into(), json!(need("embedding_length")?));
        m.insert("num_hidden_layers".into(), json!(need("block_count")?));
        let heads = need("attention.head_count")?;
        m.insert("num_attention_heads".into(), json!(heads));
        let kv = self.uint(&k("attention.head_count_kv"))?.unwrap_or(heads);
        m.insert("num_key_value_heads".into(), json!(kv));
        let expert_ffn = self.uint(&k("expert_feed_forward_length"))?;
        let ffn = match (self.uint(&k("feed_forward_length"))?, expert_ffn) {
            (Some(f), _) | (None, Some(f)) => f,
            (None, None) => need("feed_forward_length")?,
        };
        m.insert("intermediate_size".into(), json!(ffn));
        if let Some(f) = expert_ffn {
            m.insert("moe_intermediate_size".into(), json!(f));
        }
        let key_len = self.uint(&k("attention.key_length"))?;
        if arch == "deepseek2" {
            let rope = self.uint(&k("rope.dimension_count"))?;
            let qk = self.uint(&k("attention.key_length_mla"))?.or(key_len);
            let v = self
                .uint(&k("attention.value_length_mla"))?
                .or(self.uint(&k("attention.value_length"))?);
            for (field, key) in [
                ("q_lora_rank", "attention.q_lora_rank"),
                ("kv_lora_rank", "attention.kv_lora_rank"),
            ] {
                if let Some(x) = self.uint(&k(key))? {
                    m.insert(field.into(), json!(x));
                }
            }
            if let Some(r) = rope {
                m.insert("qk_rope_head_dim".into(), json!(r));
                if let Some(nope) = qk.and_then(|q| q.checked_sub(r)) {
                    m.insert("qk_nope_head_dim".into(), json!(nope));
                }
            }
            if let Some(v) = v {
                m.insert("v_head_dim".into(), json!(v));
            }
            for (field, key) in [
                ("n_shared_experts", "expert_shared_count"),
                ("first_k_dense_replace", "leading_dense_block_count"),
            ] {
                if let Some(x) = self.uint(&k(key))? {
                    m.insert(field.into(), json!(x));
                }
            }
        } else if let Some(d) = key_len {
            m.insert("head_dim".into(), json!(d));
        }
        let vocab = match self.tensor("token_embd.weight") {
            Some(t) if t.dims.len() == 2 => Some(t.dims[1]),
            _ => match self.get("tokenizer.ggml.tokens") {
                Some(GgufValue::Array(a)) => Some(a.len),
                _ => self.uint(&k("vocab_size"))?,
            },
        };
        let vocab = vocab.ok_or_else(|| GgufError::Metadata {
            key: "tokenizer.ggml.tokens".into(),
            message:
                "missing, and no token_embd.weight tensor or vocab_size key gives the vocabulary"
                    .into(),
        })?;
        m.insert("vocab_size".into(), json!(vocab));
        if let Some(c) = self.uint(&k("context_length"))? {
            m.insert("max_position_embeddings".into(), json!(c));
        }
        if let Some(w) = self.uint(&k("attention.sliding_window"))? {
            m.insert("sliding_window".into(), json!(w));
        }
        if arch == "gemma3" {
            m.insert(
                "sliding_window_pattern".into(),
                json!(GEMMA3_SLIDING_WINDOW_PATTERN),
            );
        }
        if experts > 0 {
            for f in ["num_local_experts", "num_experts", "n_routed_experts"] {
                m.insert(f.into(), json!(experts));
            }
        }
        if let Some(used) = self.uint(&k("expert_used_count"))?.filter(|_| experts > 0) {
            m.insert("num_experts_per_tok".into(), json!(used));
        }
        for f in ["attn_logit_softcapping", "final_logit_softcapping"] {
            if let Some(x) = self.float(&k(f)) {
                m.insert(f.into(), json!(x));
            }
        }
        m.insert(
            "tie_word_embeddings".into(),
            json!(self.tensor("output.weight").is_none()),
        );
        if self.tensor("blk.0.attn_output.bias").is_some() {
            m.insert("attention_bias".into(), json!(true));
        }
        if self.tensor("blk.0.ffn_down.bias").is_some() {
            m.insert("mlp_bias".into(), json!(true));
        }
        if arch.starts_with("gemma") {
            m.insert("hidden_activation".into(), json!("gelu_pytorch_tanh"));
        }
        m.insert(
            "gguf".into(),
            serde_json::to_value(self.weights()).unwrap_or(Json::Null),
        );
        Ok(Json::Object(m))
    }

    /// The file's scheme name (see the module docs) and the type of every tensor.
    pub fn weights(&self) -> GgufWeights {
        let by_file_type = self
            .uint("general.file_type")
            .ok()
            .flatten()
            .and_then(|ft| FILE_TYPE_MIXES.iter().find(|(id, _)| *id == ft))
            .map(|(_, n)| n.to_string());
        let scheme = by_file_type.unwrap_or_else(|| {
            let mut count: BTreeMap<&str, u64> = BTreeMap::new();
            for t in self.tensors.iter().filter(|t| t.dims.len() >= 2) {
                *count.entry(t.ggml.name()).or_default() += t.elements();
            }
            let top = count
                .iter()
                .max_by_key(|(_, n)| **n)
                .map(|(t, _)| *t)
                .unwrap_or("f32");
            match top {
                "f32" => "fp32".into(),
                "f16" => "fp16".into(),
                other => other.into(),
            }
        });
        GgufWeights {
            scheme,
            tensors: self
                .tensors
                .iter()
                .map(|t| (t.name.clone(), t.ggml))
                .collect(),
        }
    }
}

/// The ggml type of every tensor of a GGUF file, and the name of the file's scheme: the
/// [`HfConfig`] of a GGUF model carries it (field `gguf`), so that the LLM builder prices each
/// weight in the file's type.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GgufWeights {
    /// The scheme the types belong to (`q4_k_m`, `q8_0`, `fp16`, ...).
    pub scheme: String,
    /// Type by GGUF tensor name (`blk.0.attn_q.weight`).
    pub tensors: BTreeMap<String, GgmlType>,
}

/// archscope's LLM weight names (after `layers.N.`) and the GGUF names of the same weight, in
/// order of preference (after `blk.N.`): fused q/k/v (`attn_qkv`) and gate/up (`ffn_up`, as
/// Phi-3 stores them) price each part in the fused tensor's type.
///
/// The GGUF names are llama.cpp's (`LLM_TENSOR_NAMES` in `src/llama-arch.cpp`, the same strings
/// as `TENSOR_NAMES` in `gguf-py/gguf/constants.py`):
/// * Qwen3 / Qwen3-MoE / Gemma 3 per-head q/k norms: `attn_q_norm`, `attn_k_norm`;
/// * Gemma 2 / 3 sandwich norms: transformers' `post_attention_layernorm` (archscope's
///   `attn.post_norm`) is `post_attention_norm`, `pre_feedforward_layernorm` (archscope's
///   `post_attn_norm`, the pre-MLP norm) is `ffn_norm`, `post_feedforward_layernorm`
///   (`mlp.post_norm`) is `post_ffw_norm`;
/// * routed experts and router: `ffn_{gate,up,down}_exps`, `ffn_gate_inp`; DeepSeek-V3's
///   router bias (`e_score_correction_bias`, archscope's `moe.router.bias`) is
///   `exp_probs_b.bias`, tried after an `ffn_gate_inp.bias`;
/// * shared experts (DeepSeek): `ffn_{gate,up,down}_shexp`;
/// * DeepSeek MLA: `attn_q_a`, `attn_q_a_norm`, `attn_q_b` (or `attn_q` without a q LoRA),
///   `attn_kv_a_mqa`, `attn_kv_a_norm`; the up-projection of the latent is split into
///   `attn_k_b` and `attn_v_b` in files converted since llama.cpp's MLA support, and is one
///   fused `attn_kv_b` in older files, which then prices both halves (its elements are the two
///   halves' together).
const LAYER_NAMES: [(&str, &[&str]); 27] = [
    ("input_norm", &["attn_norm"]),
    ("post_attn_norm", &["ffn_norm"]),
    ("attn.q_proj", &["attn_q", "attn_qkv"]),
    ("attn.k_proj", &["attn_k", "attn_qkv"]),
    ("attn.v_proj", &["attn_v", "attn_qkv"]),
    ("attn.o_proj", &["attn_output"]),
    ("attn.q_norm", &["attn_q_norm"]),
    ("attn.k_norm", &["attn_k_norm"]),
    ("attn.post_norm", &["post_attention_norm"]),
    ("attn.q_a_proj", &["attn_q_a"]),
    ("attn.q_a_norm", &["attn_q_a_norm"]),
    ("attn.q_b_proj", &["attn_q_b"]),
    ("attn.kv_a_proj", &["attn_kv_a_mqa"]),
    ("attn.kv_a_norm", &["attn_kv_a_norm"]),
    ("attn.k_b_proj", &["attn_k_b", "attn_kv_b"]),
    ("attn.v_b_proj", &["attn_v_b", "attn_kv_b"]),
    ("mlp.gate_proj", &["ffn_gate", "ffn_up"]),
    ("mlp.up_proj", &["ffn_up"]),
    ("mlp.down_proj", &["ffn_down"]),
    ("mlp.post_norm", &["post_ffw_norm"]),
    ("mlp.shared.gate_proj", &["ffn_gate_shexp"]),
    ("mlp.shared.up_proj", &["ffn_up_shexp"]),
    ("mlp.shared.down_proj", &["ffn_down_shexp"]),
    ("moe.router", &["ffn_gate_inp", "exp_probs_b"]),
    ("moe.experts.gate", &["ffn_gate_exps"]),
    ("moe.experts.up", &["ffn_up_exps"]),
    ("moe.experts.down", &["ffn_down_exps"]),
];

/// archscope's names outside the layers and their GGUF names.
const GLOBAL_NAMES: [(&str, &str); 3] = [
    ("embed_tokens", "token_embd"),
    ("lm_head", "output"),
    ("final_norm", "output_norm"),
];

impl GgufWeights {
    /// The file's type of archscope's weight `name` (`layers.3.attn.v_proj.weight`) when
    /// `scheme` is the file's own (its base before any `+`), `None` otherwise or when the file
    /// has no such tensor.
    pub fn type_of(&self, scheme: &str, name: &str) -> Option<GgmlType> {
        if scheme.split('+').next() != Some(self.scheme.as_str()) {
            return None;
        }
        let (stem, suffix) = name.rsplit_once('.')?;
        if let Some(rest) = stem.strip_prefix("layers.") {
            let (layer, part) = rest.split_once('.')?;
            let (_, gguf) = LAYER_NAMES.iter().find(|(a, _)| *a == part)?;
            return gguf.iter().find_map(|g| {
                self.tensors
                    .get(&format!("blk.{layer}.{g}.{suffix}"))
                    .copied()
            });
        }
        let (_, g) = GLOBAL_NAMES.iter().find(|(a, _)| *a == stem)?;
        self.tensors.get(&format!("{g}.{suffix}")).copied()
    }
}

/// The config JSON text of the GGUF file at `path` (what `--model file.gguf` builds from, and
/// what an `explore` spec records).
pub fn config_text(path: &Path) -> Result<String, ModelError> {
    let p = path.display().to_string();
    let header = read_header(path)?;
    let cfg = header
        .hf_config()
        .map_err(|cause| ModelError::Gguf { path: p, cause })?;
    Ok(serde_json::to_string_pretty(&cfg).unwrap_or_default())
}

/// Loads the LLM of the GGUF file at `path`, named after its file stem.
pub fn load(path: &Path) -> Result<LlmConfig, ModelError> {
    let p = path.display().to_string();
    if path.is_dir() {
        return Err(ModelError::Directory { path: p });
    }
    let header = read_header(path)?;
    let arch = header
        .architecture()
        .map_err(|cause| ModelError::Gguf {
            path: p.clone(),
            cause: cause.clone(),
        })?
        .to_string();
    let cfg = header.hf_config().map_err(|cause| ModelError::Gguf {
        path: p.clone(),
        cause,
    })?;
    let raw: HfConfig = serde_json::from_value(cfg).map_err(|e| ModelError::Gguf {
        path: p.clone(),
        cause: GgufError::Metadata {
            key: format!("{arch}.*"),
            message: e.to_string(),
        },
    })?;
    let name = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    LlmConfig::from_hf(raw, &format!("{p} (general.architecture `{arch}`)"), &name)
}

/// Whether `name` (a `--model` value) is a GGUF path by its extension.
pub fn is_gguf(name: &str) -> bool {
    name.to_ascii_lowercase().ends_with(".gguf")
}

/// The scheme a model's weights are stored in when it comes from a GGUF file (`q4_k_m`), for
/// the commands' default `--quant`.
pub fn file_scheme(cfg: &LlmConfig) -> Option<&str> {
    cfg.raw.gguf.as_ref().map(|g| g.scheme.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layer_names_map_to_gguf_names() {
        let mut tensors = BTreeMap::new();
        tensors.insert("blk.3.attn_v.weight".to_string(), GgmlType::Q6K);
        tensors.insert("blk.3.attn_qkv.weight".to_string(), GgmlType::Q8_0);
        tensors.insert("output.weight".to_string(), GgmlType::Q6K);
        let w = GgufWeights {
            scheme: "q4_k_m".into(),
            tensors,
        };
        assert_eq!(
            w.type_of("q4_k_m", "layers.3.attn.v_proj.weight"),
            Some(GgmlType::Q6K)
        );
        assert_eq!(
            w.type_of("q4_k_m+kv8", "layers.3.attn.k_proj.weight"),
            Some(GgmlType::Q8_0)
        );
        assert_eq!(w.type_of("q4_k_m", "lm_head.weight"), Some(GgmlType::Q6K));
        assert_eq!(w.type_of("q8_0", "lm_head.weight"), None);
        assert_eq!(w.type_of("q4_k_m", "layers.4.attn.v_proj.weight"), None);
    }

    #[test]
    fn family_weight_names_map_to_llama_cpp_names() {
        let mut tensors = BTreeMap::new();
        for (name, t) in [
            ("blk.0.attn_q_norm.weight", GgmlType::F32),
            ("blk.0.post_attention_norm.weight", GgmlType::F32),
            ("blk.0.post_ffw_norm.weight", GgmlType::F32),
            ("blk.0.attn_q_a.weight", GgmlType::Q8_0),
            ("blk.0.attn_kv_a_mqa.weight", GgmlType::Q6K),
            ("blk.0.attn_kv_b.weight", GgmlType::Q4K),
            ("blk.1.attn_k_b.weight", GgmlType::Q8_0),
            ("blk.1.attn_v_b.weight", GgmlType::Q6K),
            ("blk.1.attn_kv_b.weight", GgmlType::Q4K),
            ("blk.1.ffn_gate_shexp.weight", GgmlType::Q6K),
            ("blk.1.ffn_gate_inp.weight", GgmlType::F16),
            ("blk.1.exp_probs_b.bias", GgmlType::F32),
        ] {
            tensors.insert(name.to_string(), t);
        }
        let w = GgufWeights {
            scheme: "q4_k_m".into(),
            tensors,
        };
        let t = |n: &str| w.type_of("q4_k_m", n);
        assert_eq!(t("layers.0.attn.q_norm.weight"), Some(GgmlType::F32));
        assert_eq!(t("layers.0.attn.k_norm.weight"), None);
        assert_eq!(t("layers.0.attn.post_norm.weight"), Some(GgmlType::F32));
        assert_eq!(t("layers.0.mlp.post_norm.weight"), Some(GgmlType::F32));
        assert_eq!(t("layers.0.attn.q_a_proj.weight"), Some(GgmlType::Q8_0));
        assert_eq!(t("layers.0.attn.kv_a_proj.weight"), Some(GgmlType::Q6K));
        // An older file's fused kv_b prices both halves; a newer file's split halves win.
        assert_eq!(t("layers.0.attn.k_b_proj.weight"), Some(GgmlType::Q4K));
        assert_eq!(t("layers.0.attn.v_b_proj.weight"), Some(GgmlType::Q4K));
        assert_eq!(t("layers.1.attn.k_b_proj.weight"), Some(GgmlType::Q8_0));
        assert_eq!(t("layers.1.attn.v_b_proj.weight"), Some(GgmlType::Q6K));
        assert_eq!(
            t("layers.1.mlp.shared.gate_proj.weight"),
            Some(GgmlType::Q6K)
        );
        assert_eq!(t("layers.1.mlp.gate_proj.weight"), None);
        assert_eq!(t("layers.1.moe.router.weight"), Some(GgmlType::F16));
        assert_eq!(t("layers.1.moe.router.bias"), Some(GgmlType::F32));
    }
}
