//! A small GGUF writer for the tests: metadata of every value type, tensor infos, and zero
//! tensor data laid out as the format asks (`docs/gguf.md` of ggml-org/ggml: little-endian,
//! data section aligned to `general.alignment`, default 32). Sizes of the ggml types are
//! llama.cpp's, written out here by hand (`ggml-common.h`), not taken from archscope.

/// (ggml type id, weights per block, bytes per block), from `ggml.h` and `ggml-common.h`:
/// f32, f16, q4_0 (2 + 16), q4_1 (2 + 2 + 16), q5_0 (2 + 4 + 16), q5_1 (2 + 2 + 4 + 16),
/// q8_0 (2 + 32), q2_k (16 + 64 + 2 + 2), q3_k (32 + 64 + 12 + 2), q4_k (2 + 2 + 12 + 128),
/// q5_k (2 + 2 + 12 + 32 + 128), q6_k (128 + 64 + 16 + 2), iq4_nl (2 + 16), bf16.
pub const TYPE_SIZES: [(u32, u64, u64); 14] = [
    (0, 1, 4),
    (1, 1, 2),
    (2, 32, 18),
    (3, 32, 20),
    (6, 32, 22),
    (7, 32, 24),
    (8, 32, 34),
    (10, 256, 84),
    (11, 256, 110),
    (12, 256, 144),
    (13, 256, 176),
    (14, 256, 210),
    (20, 32, 18),
    (30, 1, 2),
];

/// ggml type ids used by the tests.
pub const F32: u32 = 0;
/// f16.
pub const F16: u32 = 1;
/// q8_0.
pub const Q8_0: u32 = 8;
/// q4_k.
pub const Q4_K: u32 = 12;
/// q6_k.
pub const Q6_K: u32 = 14;

/// Bytes of a tensor of `dims` (innermost first) in type `ty`.
pub fn tensor_bytes(dims: &[u64], ty: u32) -> u64 {
    let (_, block, bytes) = TYPE_SIZES
        .iter()
        .find(|(id, _, _)| *id == ty)
        .expect("a type of the table");
    dims[0] / block * bytes * dims[1..].iter().product::<u64>()
}

/// A metadata value.
#[derive(Clone)]
pub enum Kv {
    U8(u8),
    I8(i8),
    U16(u16),
    I16(i16),
    U32(u32),
    I32(i32),
    U64(u64),
    I64(i64),
    F32(f32),
    F64(f64),
    Bool(bool),
    Str(String),
    /// Array of strings.
    Strs(Vec<String>),
    /// Array of i32.
    I32s(Vec<i32>),
}

impl Kv {
    fn type_id(&self) -> u32 {
        match self {
            Kv::U8(_) => 0,
            Kv::I8(_) => 1,
            Kv::U16(_) => 2,
            Kv::I16(_) => 3,
            Kv::U32(_) => 4,
            Kv::I32(_) => 5,
            Kv::F32(_) => 6,
            Kv::Bool(_) => 7,
            Kv::Str(_) => 8,
            Kv::Strs(_) | Kv::I32s(_) => 9,
            Kv::U64(_) => 10,
            Kv::I64(_) => 11,
            Kv::F64(_) => 12,
        }
    }

    fn write(&self, out: &mut Vec<u8>) {
        match self {
            Kv::U8(v) => out.push(*v),
            Kv::I8(v) => out.extend(v.to_le_bytes()),
            Kv::U16(v) => out.extend(v.to_le_bytes()),
            Kv::I16(v) => out.extend(v.to_le_bytes()),
            Kv::U32(v) => out.extend(v.to_le_bytes()),
            Kv::I32(v) => out.extend(v.to_le_bytes()),
            Kv::U64(v) => out.extend(v.to_le_bytes()),
            Kv::I64(v) => out.extend(v.to_le_bytes()),
            Kv::F32(v) => out.extend(v.to_le_bytes()),
            Kv::F64(v) => out.extend(v.to_le_bytes()),
            Kv::Bool(v) => out.push(*v as u8),
            Kv::Str(s) => string(out, s),
            Kv::Strs(v) => {
                out.extend(8u32.to_le_bytes());
                out.extend((v.len() as u64).to_le_bytes());
                for s in v {
                    string(out, s);
                }
            }
            Kv::I32s(v) => {
                out.extend(5u32.to_le_bytes());
                out.extend((v.len() as u64).to_le_bytes());
                for x in v {
                    out.extend(x.to_le_bytes());
                }
            }
        }
    }
}

fn string(out: &mut Vec<u8>, s: &str) {
    out.extend((s.len() as u64).to_le_bytes());
    out.extend(s.as_bytes());
}

/// A GGUF file under construction.
pub struct Gguf {
    /// Format version written.
    pub version: u32,
    /// Metadata in file order.
    pub kvs: Vec<(String, Kv)>,
    /// Tensors: name, dims (innermost first), ggml type id.
    pub tensors: Vec<(String, Vec<u64>, u32)>,
}

/// Where the parts of a written file start.
pub struct Layout {
    /// The file.
    pub bytes: Vec<u8>,
    /// Offset of the first key-value.
    pub kvs_at: usize,
    /// Offset of the first tensor info.
    pub infos_at: usize,
    /// Offset of the data section.
    pub data_at: usize,
}

impl Gguf {
    /// An empty version-3 file.
    pub fn new() -> Self {
        Gguf {
            version: 3,
            kvs: Vec::new(),
            tensors: Vec::new(),
        }
    }

    /// Adds a key-value.
    pub fn kv(mut self, key: &str, v: Kv) -> Self {
        self.kvs.push((key.to_string(), v));
        self
    }

    /// Adds a tensor.
    pub fn tensor(mut self, name: &str, dims: &[u64], ty: u32) -> Self {
        self.tensors.push((name.to_string(), dims.to_vec(), ty));
        self
    }

    /// The file's bytes, with where its parts start.
    pub fn layout(&self) -> Layout {
        let align = 32u64;
        let mut out = b"GGUF".to_vec();
        out.extend(self.version.to_le_bytes());
        out.extend((self.tensors.len() as u64).to_le_bytes());
        out.extend((self.kvs.len() as u64).to_le_bytes());
        let kvs_at = out.len();
        for (k, v) in &self.kvs {
            string(&mut out, k);
            out.extend(v.type_id().to_le_bytes());
            v.write(&mut out);
        }
        let infos_at = out.len();
        let mut offset = 0u64;
        for (name, dims, ty) in &self.tensors {
            string(&mut out, name);
            out.extend((dims.len() as u32).to_le_bytes());
            for d in dims {
                out.extend(d.to_le_bytes());
            }
            out.extend(ty.to_le_bytes());
            out.extend(offset.to_le_bytes());
            offset = (offset + tensor_bytes(dims, *ty)).div_ceil(align) * align;
        }
        let data_at = (out.len() as u64).div_ceil(align) * align;
        out.resize((data_at + offset) as usize, 0);
        Layout {
            bytes: out,
            kvs_at,
            infos_at,
            data_at: data_at as usize,
        }
    }

    /// The file's bytes.
    pub fn bytes(&self) -> Vec<u8> {
        self.layout().bytes
    }
}
