//! Numeric data types and tensor storage formats (plain and group-quantized).
//!
//! A [`DType`] is what a value is computed in; a [`Storage`] is how a tensor is laid out in memory,
//! including the scale and zero-point bytes that group quantization adds.

use serde::{Deserialize, Serialize};
use std::fmt;

/// How many [`DType`]s there are (the length of [`DType::ALL`] and of a [`DTypeTable`]).
pub const DTYPES: usize = 9;

/// A numeric data type, for storage or for compute.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DType {
    /// IEEE 754 binary32.
    F32,
    /// IEEE 754 binary16.
    F16,
    /// bfloat16 (8-bit exponent, 7-bit mantissa).
    Bf16,
    /// 8-bit float (E4M3 or E5M2; the same width for cost purposes).
    Fp8,
    /// 8-bit integer.
    I8,
    /// 4-bit integer (two per byte).
    I4,
    /// 32-bit integer (token ids, indices).
    I32,
    /// 16-bit integer / fixed point (e.g. Eyeriss PEs).
    I16,
    /// 2-bit integer (four per byte): the payload of ggml's 2- and 3-bit k-quants (`q2_k`,
    /// `q3_k`), whose other bits are block metadata (see [`super::ggml`]). A storage type only.
    I2,
}

impl DType {
    /// Every dtype, in the order used to index [`DTypeTable`].
    pub const ALL: [DType; DTYPES] = [
        DType::F32,
        DType::F16,
        DType::Bf16,
        DType::Fp8,
        DType::I8,
        DType::I4,
        DType::I32,
        DType::I16,
        DType::I2,
    ];

    /// Width of one element in bits.
    pub fn bits(self) -> u32 {
        match self {
            DType::F32 | DType::I32 => 32,
            DType::F16 | DType::Bf16 | DType::I16 => 16,
            DType::Fp8 | DType::I8 => 8,
            DType::I4 => 4,
            DType::I2 => 2,
        }
    }

    /// The lower-case name used in files and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            DType::F32 => "f32",
            DType::F16 => "f16",
            DType::Bf16 => "bf16",
            DType::Fp8 => "fp8",
            DType::I8 => "i8",
            DType::I4 => "i4",
            DType::I2 => "i2",
            DType::I32 => "i32",
            DType::I16 => "i16",
        }
    }

    /// Parses a dtype name (`f32`, `fp32`, `f16`, `fp16`, `bf16`, `fp8`, `i8`, `int8`, `i4`, `int4`).
    pub fn parse(s: &str) -> Option<DType> {
        Some(match s.to_ascii_lowercase().as_str() {
            "f32" | "fp32" | "float32" => DType::F32,
            "f16" | "fp16" | "float16" | "half" => DType::F16,
            "bf16" | "bfloat16" => DType::Bf16,
            "fp8" | "f8" => DType::Fp8,
            "i8" | "int8" => DType::I8,
            "i4" | "int4" => DType::I4,
            "i2" | "int2" => DType::I2,
            "i32" | "int32" => DType::I32,
            "i16" | "int16" => DType::I16,
            _ => return None,
        })
    }

    /// True for floating-point types.
    pub fn is_float(self) -> bool {
        matches!(self, DType::F32 | DType::F16 | DType::Bf16 | DType::Fp8)
    }

    /// Index of this dtype in [`DType::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// The next wider dtype a unit may run this one on when it has no native support,
    /// e.g. int4 weights unpacked to int8, int8 on 16-bit integer or half-precision lanes, fp16
    /// run in fp32. `None` for f32.
    pub fn widen(self) -> Option<DType> {
        match self {
            DType::I2 => Some(DType::I4),
            DType::I4 => Some(DType::I8),
            DType::I8 => Some(DType::I16),
            DType::I16 => Some(DType::F16),
            DType::Fp8 => Some(DType::F16),
            DType::F16 | DType::Bf16 => Some(DType::F32),
            DType::F32 | DType::I32 => None,
        }
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A small fixed map from [`DType`] to a value, without allocation.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct DTypeTable<T: Copy>(pub [Option<T>; DTYPES]);

impl<T: Copy> DTypeTable<T> {
    /// An empty table.
    pub fn empty() -> Self {
        DTypeTable([None; DTYPES])
    }
    /// The value for `d`, if any.
    pub fn get(&self, d: DType) -> Option<T> {
        self.0[d.index()]
    }
    /// Sets the value for `d`.
    pub fn set(&mut self, d: DType, v: T) {
        self.0[d.index()] = Some(v);
    }
    /// The (dtype, value) pairs present.
    pub fn iter(&self) -> impl Iterator<Item = (DType, T)> + '_ {
        DType::ALL
            .iter()
            .filter_map(move |&d| self.get(d).map(|v| (d, v)))
    }
}

/// Group quantization metadata: one scale (and optionally one zero point) per `size` consecutive
/// elements of the innermost dimension.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct QuantGroup {
    /// Elements per group along the innermost dimension; 0 means one group per row (per channel).
    pub size: u32,
    /// Bits of each scale.
    pub scale_bits: u32,
    /// Bits of each zero point (0 for symmetric quantization).
    pub zero_bits: u32,
}

/// How a tensor is stored: element type plus optional group-quantization metadata.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Storage {
    /// Element type.
    pub dtype: DType,
    /// Scales and zero points, for quantized storage.
    pub group: Option<QuantGroup>,
}

impl Storage {
    /// Plain storage with no quantization metadata.
    pub const fn plain(dtype: DType) -> Self {
        Storage { dtype, group: None }
    }

    /// Bytes taken by `rows × row_len` elements in this storage, metadata included.
    pub fn bytes_rows(&self, rows: u64, row_len: u64) -> f64 {
        let elems = (rows * row_len) as f64;
        let data = elems * self.dtype.bits() as f64 / 8.0;
        match self.group {
            None => data,
            Some(g) => {
                let per_row = if g.size == 0 || g.size as u64 >= row_len {
                    1
                } else {
                    row_len.div_ceil(g.size as u64)
                };
                let groups = (rows * per_row) as f64;
                data + groups * (g.scale_bits + g.zero_bits) as f64 / 8.0
            }
        }
    }

    /// Bytes of a tensor of this shape; groups run along the innermost dimension.
    pub fn bytes(&self, shape: &[u64]) -> f64 {
        match shape.split_last() {
            None => self.bytes_rows(1, 1),
            Some((&last, rest)) => self.bytes_rows(rest.iter().product(), last),
        }
    }

    /// Effective bits per element, metadata included, for a row of `row_len` elements.
    pub fn bits_per_elem(&self, row_len: u64) -> f64 {
        self.bytes_rows(1, row_len) * 8.0 / row_len as f64
    }
}

impl fmt::Display for Storage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.group {
            None => write!(f, "{}", self.dtype),
            Some(g) if g.size == 0 => write!(f, "{}-per-channel", self.dtype),
            Some(g) => write!(f, "{}-g{}", self.dtype, g.size),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_quant_bytes_count_scales_and_zeros() {
        // 4096 x 4096 int4, group 128, fp16 scale + 4-bit zero:
        // data 4096*4096/2 = 8 MiB; groups 4096*32 = 131072, each 20 bits = 2.5 B → 327680 B.
        let s = Storage {
            dtype: DType::I4,
            group: Some(QuantGroup {
                size: 128,
                scale_bits: 16,
                zero_bits: 4,
            }),
        };
        assert_eq!(s.bytes(&[4096, 4096]), 8_388_608.0 + 327_680.0);
        // 4 bits + 20/128 bits = 4.15625 bits per element.
        assert!((s.bits_per_elem(4096) - 4.15625).abs() < 1e-12);
    }

    #[test]
    fn per_channel_has_one_group_per_row() {
        let s = Storage {
            dtype: DType::I8,
            group: Some(QuantGroup {
                size: 0,
                scale_bits: 16,
                zero_bits: 0,
            }),
        };
        assert_eq!(s.bytes(&[10, 100]), 1000.0 + 20.0);
    }

    #[test]
    fn ragged_groups_round_up() {
        let s = Storage {
            dtype: DType::I4,
            group: Some(QuantGroup {
                size: 64,
                scale_bits: 16,
                zero_bits: 0,
            }),
        };
        // row of 100 → 2 groups
        assert_eq!(s.bytes(&[1, 100]), 50.0 + 4.0);
    }
}
