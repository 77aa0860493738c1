//! The measured backend: executes an archscope [`Graph`] op by op with candle's CPU kernels, on
//! random tensors, so the graph that the roofline prices is the graph that runs.
//!
//! How each op runs (the candle kernels named are those of candle-core/candle-nn 0.11):
//!
//! | archscope op | candle execution |
//! |---|---|
//! | `MatMul`, weight `[n, k]` | `x.matmul(w.t())` (the `gemm` crate: packed AVX2/FMA or NEON micro-kernels, rayon threads) + `broadcast_add` bias |
//! | `MatMul`, q8_0/q4_0 weight | `QMatMul::forward` (k-quants: activations quantized to q8_0, integer dot products) |
//! | `Conv2d` | lowered to candle GEMMs ([`ConvImpl::Lowered`]: 1×1 is one matmul, k×k an im2col of shifted windows and one matmul, depthwise a sum of per-tap products), or `Tensor::conv2d` ([`ConvImpl::Native`]) |
//! | `Pool` | `max_pool2d`/`avg_pool2d` (after `pad_with_zeros` when padded); global pools `mean_keepdim` |
//! | `Norm` RMS/Layer | candle-nn fused `rms_norm` / `layer_norm`; BatchNorm `broadcast_mul` + `broadcast_add` |
//! | `Softmax` | candle-nn fused `softmax_last_dim` |
//! | `Elementwise` | the unary/binary kernel (`relu`, `silu`, `gelu`, `add`, ...); gated ones as two kernels; the vision ops (`Sub`, `Div`, `LeakyRelu`, `Clip`, `Unary`, `Compare`) as in [`super::compose`] |
//! | `Pool` `Sum`, `DataMove` (concat, slice, pad, transpose, resize, broadcast) | see [`super::compose`] |
//! | `ConvTranspose2d` | `Tensor::conv_transpose2d` (one group), weights viewed `[c_in, c_out, kh, kw]` |
//! | `Rope` | candle-nn fused `rope_thd` on Q and on K |
//! | `KvAppend` | `slice_set` of the new rows into a preallocated cache (no copy of the old rows) |
//! | `Attention` | Q·Kᵀ as one batched `matmul` per KV head group (GQA without repeating K/V); mask `broadcast_add` + `softmax_last_dim`; P·V `matmul` |
//! | `Embedding` | `Tensor::embedding` (an `index_select`) |
//! | `SelectRows` | `narrow` + `contiguous` |
//!
//! Data layouts follow the builders: linear weights are `[out, in]`, activations `[tokens,
//! features]`, convolutions NCHW, KV caches `[batch, kv_heads, positions, head_dim]`. Where
//! candle computes more than the op counts, the measurement keeps it, because that is what the
//! backend does: causal prefill attention computes the full square of scores and masks it.
//!
//! Storage: `f32` and `f16` tensors run as such; `i32`/`i16` inputs other than token ids are
//! zeros (a valid index and an all-visible mask); weights stored `i8` or `i4` in symmetric groups
//! of 32 with a 16-bit scale (see [`ggml_type`]) run as candle's `q8_0` and `q4_0` blocks. Other
//! storages (per-channel int8, zero-pointed int4, quantized KV caches) and MoE ops are refused
//! with a [`MeasureError::Unsupported`].

use super::MeasureError;
use super::compose;
use super::stats::Summary;
use super::timing::{Clock, MeasurePlan, bench};
use crate::workload::{
    AttnPart, AttnShape, Conv2d, DType, Graph, NormKind, Op, OpId, OpKind, PoolKind, Role, Storage,
    TensorId,
};
use candle_core::quantized::{GgmlDType, QMatMul, QTensor};
use candle_core::{Device, Module, Tensor};
use std::collections::HashMap;
use std::sync::Arc;

/// Epsilon of RMSNorm and LayerNorm (the Llama default; it does not change the timing).
const NORM_EPS: f32 = 1e-5;
/// RoPE base frequency of Llama 2 (the values do not change the timing).
const ROPE_THETA: f64 = 10_000.0;
/// Elements per block of ggml's q8_0 and q4_0 formats (one f16 scale per block).
pub const GGML_BLOCK: u32 = 32;

/// The ggml block format of a quantized storage, if candle can run it: symmetric groups of 32
/// along the input dimension with a 16-bit scale and no zero point, as `i8` (q8_0: 8.5 bits per
/// weight) or `i4` (q4_0: 4.5 bits per weight).
pub fn ggml_type(s: &Storage) -> Option<GgmlDType> {
    let g = s.group?;
    if g.size != GGML_BLOCK || g.scale_bits != 16 || g.zero_bits != 0 {
        return None;
    }
    match s.dtype {
        DType::I8 => Some(GgmlDType::Q8_0),
        DType::I4 => Some(GgmlDType::Q4_0),
        _ => None,
    }
}

/// A value held for a tensor during execution.
#[derive(Clone, Debug)]
pub enum Value {
    /// A dense candle tensor.
    Dense(Tensor),
    /// A quantized weight matrix.
    Quant(QMatMul),
}

/// Tensors alive during the execution of one graph, plus precomputed constants (RoPE tables,
/// attention masks) that are not part of any op's cost.
#[derive(Default)]
pub struct Env {
    values: Vec<Option<Value>>,
    rope: HashMap<(usize, usize, usize), (Tensor, Tensor)>,
    masks: HashMap<(usize, usize, Option<u64>), Tensor>,
    /// Index of the last op that reads each tensor (produced activations are dropped after it).
    last_use: Vec<Option<usize>>,
    /// Whether some op of the graph writes the tensor.
    produced: Vec<bool>,
    /// Convolution weights in the tap-major layout the lowered convolution multiplies by,
    /// made once per weight (a load-time layout choice, as runtimes pre-pack weights), keyed by
    /// the candle id of the weight tensor they were made from.
    conv_weights: std::sync::Mutex<HashMap<candle_core::TensorId, Tensor>>,
}

impl Env {
    /// Sets the value of a tensor (tests use it to run hand-made inputs).
    pub fn set(&mut self, id: TensorId, t: Tensor) {
        self.values[id.0 as usize] = Some(Value::Dense(t));
    }

    /// Sets a quantized weight (tests use it to run known weights).
    pub fn set_quantized(&mut self, id: TensorId, q: QMatMul) {
        self.values[id.0 as usize] = Some(Value::Quant(q));
    }

    /// The dense value of a tensor, if computed.
    pub fn get(&self, id: TensorId) -> Option<&Tensor> {
        match self.values.get(id.0 as usize)? {
            Some(Value::Dense(t)) => Some(t),
            _ => None,
        }
    }
}

/// Timing of a whole graph: the median run and, on request, each op.
#[derive(Clone, Debug)]
pub struct GraphTiming {
    /// Seconds per run of the whole graph.
    pub total: Summary,
    /// Seconds per op, in graph order (empty unless asked for).
    pub per_op: Vec<Summary>,
}

/// Sets the thread count candle's matmul passes to the `gemm` crate: candle reads
/// `RAYON_NUM_THREADS` at every call. When it disagrees with the pool a backend runs in (e.g.
/// unset, so candle assumes every core, inside a one-thread pool), each matmul pays about 30 µs
/// of scheduling for nothing (measured on the development host). `validate` and `calibrate`
/// call this before measuring.
///
/// # Safety
///
/// Changes the process environment: no other thread may read or write the environment
/// concurrently (call it before spawning threads, or while they are idle).
pub unsafe fn set_candle_threads(threads: usize) {
    // SAFETY: forwarded to the caller.
    unsafe { std::env::set_var("RAYON_NUM_THREADS", threads.max(1).to_string()) };
}

/// The thread count candle will use for its matmuls (`RAYON_NUM_THREADS`, else the physical
/// cores).
pub fn candle_threads() -> usize {
    candle_core::utils::get_num_threads()
}

/// Runs graphs on candle's CPU device, inside a rayon pool of a fixed number of threads.
///
/// Candle's CPU kernels (and the `gemm` crate under them) split work over the current rayon
/// pool, so running inside a pool of `threads` threads fixes the parallelism. On one thread the
/// backend times with process CPU time (other processes on a shared machine do not count); on
/// several, with wall time.
#[derive(Clone, Debug)]
pub struct CandleBackend {
    device: Device,
    pool: Arc<rayon::ThreadPool>,
    threads: usize,
    conv: ConvImpl,
}

/// How convolutions run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ConvImpl {
    /// Lowered to candle's GEMM with candle tensor ops: a 1×1 convolution is one matmul over
    /// the NCHW tensor (no copy); a k×k one takes its kh·kw shifted windows (`narrow`; a strided
    /// one takes them from the s×s stride phases of the input, reshaped views),
    /// stacks them into an im2col matrix and runs one (grouped: batched) matmul; a depthwise one accumulates window × per-channel tap over the kh·kw
    /// taps. This is how GEMM-based CPU runtimes run convolutions.
    #[default]
    Lowered,
    /// candle's own `Tensor::conv2d`. It converts the input to NHWC, repacks the weights and
    /// builds im2col tiles with scalar loops at every call, and runs groups one at a time, so
    /// it is dominated by copies (measured: a 1×1 144→24 convolution at 56×56 takes 6× its
    /// GEMM time on one core) and depthwise layers by per-group dispatch.
    Native,
}

fn candle_dtype(op: &str, d: DType) -> Result<candle_core::DType, MeasureError> {
    match d {
        DType::F32 => Ok(candle_core::DType::F32),
        DType::F16 => Ok(candle_core::DType::F16),
        DType::Bf16 => Ok(candle_core::DType::BF16),
        other => Err(MeasureError::Unsupported {
            op: op.to_string(),
            why: format!("dense {other} tensors have no candle CPU kernels here"),
        }),
    }
}

fn unsupported(op: &Op, why: impl Into<String>) -> MeasureError {
    MeasureError::Unsupported {
        op: op.name.clone(),
        why: why.into(),
    }
}

fn usize_dims(shape: &[u64]) -> Vec<usize> {
    shape.iter().map(|&d| d as usize).collect()
}

/// The attention shape of the first attention op that reads `t`, if any.
fn attention_reading(g: &Graph, t: TensorId) -> Option<AttnShape> {
    g.ops.iter().find_map(|o| match o.kind {
        OpKind::Attention { shape, .. } if o.inputs.contains(&t) => Some(shape),
        _ => None,
    })
}

impl CandleBackend {
    /// A backend on the CPU device running ops on `threads` threads (at least one).
    pub fn new(threads: usize) -> Result<Self, MeasureError> {
        let threads = threads.max(1);
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("archscope-measure-{i}"))
            .build()
            .map_err(|e| {
                MeasureError::Calibration(format!("cannot start {threads} threads: {e}"))
            })?;
        Ok(CandleBackend {
            device: Device::Cpu,
            pool: Arc::new(pool),
            threads,
            conv: ConvImpl::default(),
        })
    }

    /// The same backend running convolutions with `conv`.
    pub fn with_conv(self, conv: ConvImpl) -> Self {
        CandleBackend { conv, ..self }
    }

    /// Stride phase (`p`, `q`) of `x` ([n, c, h, w]): the view x[.., p::s.0, q::s.1], made by
    /// reshaping (no copy) after padding the spatial sides up to multiples of the stride.
    fn phase(
        &self,
        x: &Tensor,
        (p, q): (usize, usize),
        s: (usize, usize),
    ) -> Result<Tensor, MeasureError> {
        let (n, c, h, w) = x.dims4()?;
        let (h2, w2) = (h.div_ceil(s.0) * s.0, w.div_ceil(s.1) * s.1);
        let x = if (h2, w2) != (h, w) {
            x.pad_with_zeros(2, 0, h2 - h)?
                .pad_with_zeros(3, 0, w2 - w)?
        } else {
            x.clone()
        };
        Ok(x.reshape((n, c, h2 / s.0, s.0, w2 / s.1, s.1))?
            .narrow(3, p, 1)?
            .narrow(5, q, 1)?
            .squeeze(5)?
            .squeeze(3)?)
    }

    /// A convolution as candle GEMMs (see [`ConvImpl::Lowered`]).
    fn conv_lowered(
        &self,
        env: &Env,
        x: &Tensor,
        w: &Tensor,
        w_key: candle_core::TensorId,
        c: &Conv2d,
    ) -> Result<Tensor, MeasureError> {
        let (n, cin, g) = (c.n as usize, c.c_in as usize, c.groups as usize);
        let (cout, kh, kw) = (c.c_out as usize, c.kh as usize, c.kw as usize);
        let (ho, wo) = (c.out_h() as usize, c.out_w() as usize);
        let s = (c.stride.0 as usize, c.stride.1 as usize);
        let (cin_g, cout_g) = (cin / g, cout / g);
        if kh == 1 && kw == 1 && c.pad == (0, 0) && g == 1 {
            let xs = if s == (1, 1) {
                x.clone()
            } else {
                self.phase(x, (0, 0), s)?
                    .narrow(2, 0, ho)?
                    .narrow(3, 0, wo)?
            };
            let xs = xs.reshape((n, cin, ho * wo))?;
            let y = w.reshape((cout, cin))?.broadcast_left(n)?.matmul(&xs)?;
            return Ok(y.reshape((n, cout, ho, wo))?);
        }
        let xp = if c.pad == (0, 0) {
            x.clone()
        } else {
            x.pad_with_zeros(2, c.pad.0 as usize, c.pad.0 as usize)?
                .pad_with_zeros(3, c.pad.1 as usize, c.pad.1 as usize)?
        };
        // Strided convolutions view the padded input as its s×s stride phases (x[p::s, q::s]);
        // every tap is then a plain window of one phase.
        let mut phases: HashMap<(usize, usize), Tensor> = HashMap::new();
        let mut taps = Vec::with_capacity(kh * kw);
        for i in 0..kh {
            for j in 0..kw {
                let (r, q) = (i * c.dilation.0 as usize, j * c.dilation.1 as usize);
                if s == (1, 1) {
                    taps.push(xp.narrow(2, r, ho)?.narrow(3, q, wo)?);
                    continue;
                }
                let key = (r % s.0, q % s.1);
                if !phases.contains_key(&key) {
                    let ph = self.phase(&xp, key, s)?;
                    phases.insert(key, ph);
                }
                let ph = &phases[&key];
                taps.push(ph.narrow(2, r / s.0, ho)?.narrow(3, q / s.1, wo)?);
            }
        }
        if g == 1 && n == 1 && !c.is_depthwise() {
            // im2col with the taps outermost: [kh·kw·cin, ho·wo] by concatenating the windows
            // (row-by-row block copies), times the weights laid out [cout, kh·kw·cin] once per
            // weight tensor.
            let cols = Tensor::cat(&taps, 1)?.reshape((kh * kw * cin, ho * wo))?;
            let wt = {
                let mut cache = env.conv_weights.lock().expect("conv weight cache");
                match cache.get(&w_key) {
                    Some(t) => t.clone(),
                    None => {
                        let t = w
                            .permute((0, 2, 3, 1))?
                            .contiguous()?
                            .reshape((cout, kh * kw * cin))?;
                        cache.insert(w_key, t.clone());
                        t
                    }
                }
            };
            return Ok(wt.matmul(&cols)?.reshape((n, cout, ho, wo))?);
        }
        if c.is_depthwise() && cout == cin {
            // Σ_taps window · w[:, tap]: one multiply and one add pass per tap (candle's
            // reductions over an inner dimension are scalar and far slower).
            let wt = w.reshape((1, cin, kh * kw))?;
            let mut acc: Option<Tensor> = None;
            for (t, win) in taps.iter().enumerate() {
                let term = win.broadcast_mul(&wt.narrow(2, t, 1)?.unsqueeze(3)?)?;
                acc = Some(match acc {
                    None => term,
                    Some(a) => (a + term)?,
                });
            }
            let y = acc.ok_or_else(|| MeasureError::Calibration("empty kernel".into()))?;
            return Ok(y);
        }
        // [n, c, kh·kw, ho, wo]
        let cols = Tensor::stack(&taps, 2)?;
        let k = cin_g * kh * kw;
        let cols = cols.reshape((n, g, k, ho * wo))?;
        let wt = w.reshape((g, cout_g, k))?.broadcast_left(n)?;
        let y = wt.matmul(&cols)?;
        Ok(y.reshape((n, cout, ho, wo))?)
    }

    /// Threads ops run on.
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// The clock measurements read: process CPU time on one thread, wall time on several.
    pub fn clock(&self) -> Clock {
        if self.threads == 1 {
            Clock::ProcessCpu
        } else {
            Clock::Wall
        }
    }

    /// Runs `f` inside the backend's thread pool (where candle's kernels pick up the thread
    /// count). [`Self::run`] and [`Self::measure`] do this themselves.
    pub fn install<R: Send>(&self, f: impl FnOnce() -> R + Send) -> R {
        self.pool.install(f)
    }

    /// Allocates random values for every tensor of `g` that no op produces (weights, inputs,
    /// KV caches, and activations fed from outside, as in single-op graphs), and precomputes
    /// RoPE tables and attention masks.
    pub fn prepare(&self, g: &Graph) -> Result<Env, MeasureError> {
        let mut env = Env {
            values: vec![None; g.tensors.len()],
            last_use: vec![None; g.tensors.len()],
            produced: vec![false; g.tensors.len()],
            ..Default::default()
        };
        for (i, op) in g.ops.iter().enumerate() {
            for &t in &op.inputs {
                env.last_use[t.0 as usize] = Some(i);
            }
            for &t in &op.outputs {
                if g.tensor(t).role != Role::KvCache {
                    env.produced[t.0 as usize] = true;
                }
            }
        }
        // Where a tensor is read decides how it must be made (ids, quantized blocks).
        let mut embedding_ids = vec![None; g.tensors.len()];
        for op in &g.ops {
            if let OpKind::Embedding { .. } = op.kind {
                let rows = g.tensor(op.inputs[1]).shape[0];
                embedding_ids[op.inputs[0].0 as usize] = Some(rows);
            }
        }
        for (i, t) in g.tensors.iter().enumerate() {
            if env.produced[i] {
                continue;
            }
            let dims = usize_dims(&t.shape);
            let v = if let Some(vocab) = embedding_ids[i] {
                let n: usize = dims.iter().product();
                let ids: Vec<u32> = (0..n)
                    .map(|j| ((j as u64 * 2_654_435_761) % vocab.max(1)) as u32)
                    .collect();
                Value::Dense(Tensor::from_vec(ids, dims, &self.device)?)
            } else if let Some(q) = ggml_type(&t.storage) {
                let k = *dims.last().unwrap_or(&1);
                if dims.len() != 2 || k % GGML_BLOCK as usize != 0 {
                    return Err(MeasureError::Unsupported {
                        op: t.name.clone(),
                        why: format!(
                            "{q:?} weights must be 2-D with rows a multiple of {GGML_BLOCK}, not {:?}",
                            t.shape
                        ),
                    });
                }
                let dense =
                    Tensor::randn(0f32, (1.0 / k as f64).sqrt() as f32, dims, &self.device)?;
                Value::Quant(QMatMul::from_qtensor(QTensor::quantize(&dense, q)?)?)
            } else if t.storage.group.is_some() {
                return Err(MeasureError::Unsupported {
                    op: t.name.clone(),
                    why: format!(
                        "storage {} has no candle kernel; candle runs i8/i4 weights in symmetric groups of {GGML_BLOCK} with a 16-bit scale (q8_0, q4_0)",
                        t.storage
                    ),
                });
            } else if matches!(t.storage.dtype, DType::I32 | DType::I16) {
                // Integer inputs other than token ids (BERT's attention mask, type ids): zeros
                // (valid indices and an all-visible mask).
                let dt = match t.storage.dtype {
                    DType::I16 => candle_core::DType::I16,
                    _ => candle_core::DType::I32,
                };
                Value::Dense(Tensor::zeros(dims, dt, &self.device)?)
            } else {
                let dt = candle_dtype(&t.name, t.storage.dtype)?;
                let fan_in = if t.role == Role::Weight && dims.len() >= 2 {
                    dims[1..].iter().product::<usize>()
                } else {
                    1
                };
                let std = (1.0 / fan_in as f64).sqrt() as f32;
                Value::Dense(Tensor::randn(0f32, std, dims, &self.device)?.to_dtype(dt)?)
            };
            env.values[i] = Some(v);
        }
        for op in &g.ops {
            match op.kind {
                OpKind::Rope { .. } => {
                    let shape = attention_reading(g, op.outputs[0]).ok_or_else(|| {
                        unsupported(
                            op,
                            "RoPE output is read by no attention op, so the head size is unknown",
                        )
                    })?;
                    let past = (shape.kv_len - shape.q_len) as usize;
                    let key = (shape.q_len as usize, shape.head_dim as usize, past);
                    if let std::collections::hash_map::Entry::Vacant(e) = env.rope.entry(key) {
                        e.insert(self.rope_tables(key.0, key.1, key.2)?);
                    }
                }
                OpKind::Attention {
                    part: AttnPart::Softmax,
                    shape,
                } => {
                    if let Some(m) = self.mask(&shape)? {
                        env.masks.insert(
                            (shape.q_len as usize, shape.kv_len as usize, shape.window),
                            m,
                        );
                    }
                }
                _ => {}
            }
        }
        Ok(env)
    }

    fn rope_tables(
        &self,
        len: usize,
        hd: usize,
        past: usize,
    ) -> Result<(Tensor, Tensor), MeasureError> {
        let half = hd / 2;
        let mut cos = Vec::with_capacity(len * half);
        let mut sin = Vec::with_capacity(len * half);
        for p in past..past + len {
            for i in 0..half {
                let a = p as f64 * ROPE_THETA.powf(-2.0 * i as f64 / hd as f64);
                cos.push(a.cos() as f32);
                sin.push(a.sin() as f32);
            }
        }
        Ok((
            Tensor::from_vec(cos, (len, half), &self.device)?,
            Tensor::from_vec(sin, (len, half), &self.device)?,
        ))
    }

    /// The additive mask of a causal or windowed attention, `None` when every key is visible.
    fn mask(&self, s: &AttnShape) -> Result<Option<Tensor>, MeasureError> {
        let (q, l) = (s.q_len as usize, s.kv_len as usize);
        let past = l - q;
        let w = s.window.map(|w| w as usize);
        let mut any = false;
        let mut m = vec![0f32; q * l];
        for i in 0..q {
            let pos = past + i;
            for j in 0..l {
                let hidden = (s.causal && j > pos) || w.is_some_and(|w| pos >= j + w);
                if hidden {
                    m[i * l + j] = f32::NEG_INFINITY;
                    any = true;
                }
            }
        }
        if !any {
            return Ok(None);
        }
        Ok(Some(Tensor::from_vec(m, (q, l), &self.device)?))
    }

    fn dense<'e>(&self, env: &'e Env, op: &Op, t: TensorId) -> Result<&'e Tensor, MeasureError> {
        match env.values.get(t.0 as usize) {
            Some(Some(Value::Dense(x))) => Ok(x),
            Some(Some(Value::Quant(_))) => Err(unsupported(
                op,
                "a quantized tensor where a dense one is needed",
            )),
            _ => Err(unsupported(
                op,
                format!("input #{} has no value (not produced yet)", t.0),
            )),
        }
    }

    /// Executes op `id` of `g`, storing its outputs in `env`.
    pub fn run_op(&self, g: &Graph, env: &mut Env, id: OpId) -> Result<(), MeasureError> {
        let op = g.op(id);
        let outs = self.exec(g, env, op)?;
        // Attention scores and probabilities keep the backend's [b, kv_heads, group·q, keys]
        // layout (the graph only counts their elements); everything else takes the graph shape.
        let internal = matches!(
            op.kind,
            OpKind::Attention {
                part: AttnPart::Scores | AttnPart::Softmax,
                ..
            }
        );
        for (&o, v) in op.outputs.iter().zip(outs) {
            let want = &g.tensor(o).shape;
            let numel: u64 = want.iter().product();
            let v = if !internal && v.elem_count() as u64 == numel && v.is_contiguous() {
                v.reshape(usize_dims(want))?
            } else {
                v
            };
            env.values[o.0 as usize] = Some(Value::Dense(v));
        }
        // Drop activations no later op reads (keeps prefill of large models within memory).
        let i = id.0 as usize;
        for &t in &op.inputs {
            let ti = t.0 as usize;
            if env.last_use[ti] == Some(i)
                && env.produced[ti]
                && g.tensor(t).role == Role::Activation
            {
                env.values[ti] = None;
            }
        }
        Ok(())
    }

    fn run_all(&self, g: &Graph, env: &mut Env) -> Result<(), MeasureError> {
        for i in 0..g.ops.len() {
            self.run_op(g, env, OpId(i as u32))?;
        }
        Ok(())
    }

    /// Executes every op of `g` in order, in the backend's thread pool.
    pub fn run(&self, g: &Graph, env: &mut Env) -> Result<(), MeasureError> {
        self.install(|| self.run_all(g, env))
    }

    /// Times whole runs of `g` (and each op when `per_op`) with the backend's clock, after
    /// `plan.warmup` untimed runs. The plan's clock is replaced by [`Self::clock`].
    pub fn measure(
        &self,
        g: &Graph,
        plan: MeasurePlan,
        per_op: bool,
    ) -> Result<GraphTiming, MeasureError> {
        let plan = plan.with_clock(self.clock());
        let mut env = self.prepare(g)?;
        self.install(|| {
            let total = bench(plan, || self.run_all(g, &mut env))?;
            let mut per = Vec::new();
            if per_op {
                let clock = plan.clock;
                let mut samples = vec![Vec::with_capacity(plan.repeats); g.ops.len()];
                for _ in 0..plan.repeats.max(1) {
                    for (i, s) in samples.iter_mut().enumerate() {
                        let t = clock.now();
                        self.run_op(g, &mut env, OpId(i as u32))?;
                        s.push(clock.now() - t);
                    }
                }
                per = samples
                    .iter()
                    .map(|s| Summary::of(s).expect("finite samples"))
                    .collect();
            }
            Ok(GraphTiming { total, per_op: per })
        })
    }

    fn exec(&self, g: &Graph, env: &Env, op: &Op) -> Result<Vec<Tensor>, MeasureError> {
        let input = |k: usize| self.input(env, op, k);
        Ok(match op.kind {
            OpKind::MatMul { batch, m, n, k } => self.exec_matmul(g, env, op, (batch, m, n, k))?,
            OpKind::Conv2d(c) => self.exec_conv2d(env, op, c)?,
            OpKind::Pool {
                kind: PoolKind::Sum,
                window,
                ..
            } => {
                let out = usize_dims(&g.tensor(op.outputs[0]).shape);
                vec![compose::sum_pool(
                    &op.name,
                    input(0)?,
                    window as usize,
                    &out,
                )?]
            }
            OpKind::Pool { kind, window, .. } => self.exec_pool(g, env, op, kind, window)?,
            OpKind::Elementwise { op: e, .. } => {
                let ins = (0..op.inputs.len())
                    .map(input)
                    .collect::<Result<Vec<_>, _>>()?;
                let out = usize_dims(&g.tensor(op.outputs[0]).shape);
                vec![compose::elementwise(&op.name, e, &ins, &out)?]
            }
            OpKind::DataMove { kind, .. } => {
                let ins = (0..op.inputs.len())
                    .map(input)
                    .collect::<Result<Vec<_>, _>>()?;
                let out = usize_dims(&g.tensor(op.outputs[0]).shape);
                vec![compose::data_move(&op.name, kind, &ins, &out)?]
            }
            OpKind::ConvTranspose2d(c) => self.exec_conv_transpose2d(env, op, c)?,
            OpKind::Norm { kind, rows, cols } => self.exec_norm(env, op, kind, rows, cols)?,
            OpKind::Softmax { rows, cols } => {
                let x = input(0)?.reshape((rows as usize, cols as usize))?;
                vec![candle_nn::ops::softmax_last_dim(&x)?]
            }
            OpKind::Rope { .. } => self.exec_rope(g, env, op)?,
            OpKind::KvAppend {
                tokens,
                kv_heads,
                head_dim,
            } => self.exec_kv_append(env, op, tokens, kv_heads, head_dim)?,
            OpKind::Attention { part, shape } => {
                let second = match op.inputs.len() {
                    1 => None,
                    _ => Some(input(1)?),
                };
                vec![self.attention(env, op, part, &shape, input(0)?, second)?]
            }
            OpKind::Embedding { tokens, dim } => {
                let ids = input(0)?.flatten_all()?;
                let table = input(1)?;
                vec![
                    table
                        .embedding(&ids)?
                        .reshape((tokens as usize, dim as usize))?,
                ]
            }
            OpKind::SelectRows { rows, cols } => {
                let x = input(0)?;
                let t = x.elem_count() / cols as usize;
                let per = t / rows as usize;
                let y = x
                    .reshape((rows as usize, per, cols as usize))?
                    .narrow(1, per - 1, 1)?
                    .contiguous()?;
                vec![y]
            }
            OpKind::MoeRouter { .. } | OpKind::MoeExperts { .. } => {
                return Err(unsupported(
                    op,
                    "mixture-of-experts ops are not run by the candle backend",
                ));
            }
            #[allow(unreachable_patterns)]
            other => {
                return Err(unsupported(
                    op,
                    format!("`{}` ops are not run by the candle backend", other.name()),
                ));
            }
        })
    }

    /// Input `k` of `op` as a dense tensor.
    fn input<'e>(&self, env: &'e Env, op: &Op, k: usize) -> Result<&'e Tensor, MeasureError> {
        let t = *op
            .inputs
            .get(k)
            .ok_or_else(|| unsupported(op, format!("expected at least {} inputs", k + 1)))?;
        self.dense(env, op, t)
    }

    /// Runs a `MatMul`: dense or quantized weights, optional bias.
    fn exec_matmul(
        &self,
        g: &Graph,
        env: &Env,
        op: &Op,
        (batch, m, n, k): (u64, u64, u64, u64),
    ) -> Result<Vec<Tensor>, MeasureError> {
        let input = |k: usize| self.input(env, op, k);
        let (batch, m, n, k) = (batch as usize, m as usize, n as usize, k as usize);
        let x = input(0)?;
        let x = if batch == 1 {
            x.reshape((m, k))?
        } else {
            x.reshape((batch, m, k))?
        };
        let wid = op.inputs[1];
        let wt = g.tensor(wid);
        let y = match &env.values[wid.0 as usize] {
            Some(Value::Quant(q)) => q.forward(&x)?,
            Some(Value::Dense(w)) if wt.role == Role::Weight => {
                // Linear weights are stored [out, in] = [n, k]: y = x·Wᵀ.
                let w = w.reshape((n, k))?;
                if batch == 1 {
                    x.matmul(&w.t()?)?
                } else {
                    x.matmul(&w.t()?.broadcast_left(batch)?)?
                }
            }
            Some(Value::Dense(w)) => {
                let w = if batch == 1 {
                    w.reshape((k, n))?
                } else {
                    w.reshape((batch, k, n))?
                };
                x.matmul(&w)?
            }
            None => return Err(unsupported(op, "second operand has no value")),
        };
        let y = match op.inputs.get(2) {
            Some(&b) => y.broadcast_add(self.dense(env, op, b)?)?,
            None => y,
        };
        Ok(vec![y])
    }

    /// Runs a `Conv2d`, lowered to GEMMs or native, optional bias.
    fn exec_conv2d(&self, env: &Env, op: &Op, c: Conv2d) -> Result<Vec<Tensor>, MeasureError> {
        let input = |k: usize| self.input(env, op, k);
        let x = input(0)?.reshape((c.n as usize, c.c_in as usize, c.h as usize, c.w as usize))?;
        let w_key = input(1)?.id();
        let w = input(1)?.reshape((
            c.c_out as usize,
            (c.c_in / c.groups) as usize,
            c.kh as usize,
            c.kw as usize,
        ))?;
        let y = match self.conv {
            ConvImpl::Lowered => self.conv_lowered(env, &x, &w, w_key, &c)?,
            ConvImpl::Native => {
                if c.stride.0 != c.stride.1 || c.pad.0 != c.pad.1 || c.dilation.0 != c.dilation.1 {
                    return Err(unsupported(
                        op,
                        "candle's conv2d takes one stride, padding and dilation for both axes",
                    ));
                }
                x.conv2d(
                    &w,
                    c.pad.0 as usize,
                    c.stride.0 as usize,
                    c.dilation.0 as usize,
                    c.groups as usize,
                )?
            }
        };
        Ok(vec![self.channel_bias(env, op, y, c.c_out)?])
    }

    /// `y` plus the op's per-channel bias (its third input, when it has one), broadcast over
    /// `[N, C, H, W]`.
    fn channel_bias(
        &self,
        env: &Env,
        op: &Op,
        y: Tensor,
        c_out: u64,
    ) -> Result<Tensor, MeasureError> {
        Ok(match op.inputs.get(2) {
            Some(&b) => {
                y.broadcast_add(&self.dense(env, op, b)?.reshape((1, c_out as usize, 1, 1))?)?
            }
            None => y,
        })
    }

    /// Runs an average or max `Pool` (global, or windowed with stride and padding found from the output size).
    fn exec_pool(
        &self,
        g: &Graph,
        env: &Env,
        op: &Op,
        kind: PoolKind,
        window: u64,
    ) -> Result<Vec<Tensor>, MeasureError> {
        let input = |k: usize| self.input(env, op, k);
        let x = input(0)?;
        let (n, ch, h, w) = x
            .dims4()
            .map_err(|_| unsupported(op, "pooling needs an NCHW input"))?;
        let out = &g.tensor(op.outputs[0]).shape;
        let (ho, wo) = match out.len() {
            4 => (out[2] as usize, out[3] as usize),
            2 => (1, 1),
            _ => return Err(unsupported(op, "pooling output must be NCHW or [N, C]")),
        };
        Ok(if ho == 1 && wo == 1 && window as usize == h * w {
            #[allow(unreachable_patterns)]
            let y = match kind {
                PoolKind::Avg => x.mean_keepdim((2, 3))?,
                PoolKind::Max => x.max_keepdim(3)?.max_keepdim(2)?,
                other => {
                    return Err(unsupported(op, format!("{other:?} pooling is not run")));
                }
            };
            vec![y.reshape((n, ch, 1, 1))?]
        } else {
            let k = (window as f64).sqrt().round() as usize;
            if k * k != window as usize {
                return Err(unsupported(
                    op,
                    format!("pooling window {window} is not square"),
                ));
            }
            // Find stride and padding that give the output size.
            let geom = (1..=k)
                .flat_map(|s| (0..k).map(move |p| (s, p)))
                .find(|&(s, p)| {
                    let out = |d: usize| (d + 2 * p).checked_sub(k).map(|v| v / s + 1);
                    out(h) == Some(ho) && out(w) == Some(wo)
                })
                .ok_or_else(|| {
                    unsupported(
                        op,
                        format!(
                            "no stride/padding maps {h}x{w} to {ho}x{wo} with a {k}x{k} window"
                        ),
                    )
                })?;
            let (s, p) = geom;
            let xp = if p > 0 {
                x.pad_with_zeros(2, p, p)?.pad_with_zeros(3, p, p)?
            } else {
                x.clone()
            };
            #[allow(unreachable_patterns)]
            let y = match kind {
                PoolKind::Max => xp.max_pool2d_with_stride(k, s)?,
                PoolKind::Avg => xp.avg_pool2d_with_stride(k, s)?,
                other => {
                    return Err(unsupported(op, format!("{other:?} pooling is not run")));
                }
            };
            vec![y]
        })
    }

    /// Runs a `ConvTranspose2d`, optional bias.
    fn exec_conv_transpose2d(
        &self,
        env: &Env,
        op: &Op,
        c: Conv2d,
    ) -> Result<Vec<Tensor>, MeasureError> {
        let input = |k: usize| self.input(env, op, k);
        if c.groups != 1
            || c.stride.0 != c.stride.1
            || c.pad.0 != c.pad.1
            || c.dilation.0 != c.dilation.1
        {
            return Err(unsupported(
                op,
                "candle's conv_transpose2d takes one group and one stride, padding and dilation for both axes",
            ));
        }
        let x = input(0)?.reshape((c.n as usize, c.c_in as usize, c.h as usize, c.w as usize))?;
        // candle (as PyTorch) lays transposed weights out [c_in, c_out, kh, kw].
        let w = input(1)?.reshape((
            c.c_in as usize,
            c.c_out as usize,
            c.kh as usize,
            c.kw as usize,
        ))?;
        let y = x.conv_transpose2d(
            &w,
            c.pad.0 as usize,
            0,
            c.stride.0 as usize,
            c.dilation.0 as usize,
        )?;
        Ok(vec![self.channel_bias(env, op, y, c.c_out)?])
    }

    /// Runs a `Norm`: RMSNorm, LayerNorm or folded inference BatchNorm.
    fn exec_norm(
        &self,
        env: &Env,
        op: &Op,
        kind: NormKind,
        rows: u64,
        cols: u64,
    ) -> Result<Vec<Tensor>, MeasureError> {
        let input = |k: usize| self.input(env, op, k);
        let x = input(0)?;
        Ok(match kind {
            NormKind::RmsNorm => {
                let x = x.reshape((rows as usize, cols as usize))?;
                vec![candle_nn::ops::rms_norm(&x, input(1)?, NORM_EPS)?]
            }
            NormKind::LayerNorm => {
                let x = x.reshape((rows as usize, cols as usize))?;
                let p = input(1)?;
                // γ and β stacked as one [2, cols] parameter (the vision builders).
                let (gamma, beta) = if p.elem_count() == 2 * cols as usize {
                    let p = p.reshape((2, cols as usize))?;
                    (p.get(0)?, p.get(1)?)
                } else {
                    let beta = match op.inputs.get(2) {
                        Some(&b) => self.dense(env, op, b)?.clone(),
                        None => p.zeros_like()?,
                    };
                    (p.clone(), beta)
                };
                vec![candle_nn::ops::layer_norm(&x, &gamma, &beta, NORM_EPS)?]
            }
            NormKind::BatchNorm => {
                // Inference BatchNorm folded to a per-channel scale and shift (dim 1).
                let p = input(1)?;
                let c = x.dims().get(1).copied().unwrap_or(0);
                if x.rank() < 2 || (p.elem_count() != c && p.elem_count() != 2 * c) {
                    return Err(unsupported(op, "BatchNorm needs channels in dimension 1"));
                }
                let mut pshape = vec![1usize; x.rank()];
                pshape[1] = c;
                // Scale and shift stacked as one [2, C] parameter (the vision
                // builders), or the scale alone with the shift as input 2.
                let (scale, shift) = if p.elem_count() == 2 * c {
                    let p = p.reshape((2, c))?;
                    (p.get(0)?, Some(p.get(1)?))
                } else {
                    let shift = match op.inputs.get(2) {
                        Some(&b) => Some(self.dense(env, op, b)?.clone()),
                        None => None,
                    };
                    (p.clone(), shift)
                };
                let y = x.broadcast_mul(&scale.reshape(pshape.clone())?)?;
                let y = match shift {
                    Some(b) => y.broadcast_add(&b.reshape(pshape)?)?,
                    None => y,
                };
                vec![y]
            }
            #[allow(unreachable_patterns)]
            other => return Err(unsupported(op, format!("{other:?} is not run"))),
        })
    }

    /// Runs a `Rope` on the query and key inputs with the prepared tables.
    fn exec_rope(&self, g: &Graph, env: &Env, op: &Op) -> Result<Vec<Tensor>, MeasureError> {
        let input = |k: usize| self.input(env, op, k);
        let shape = attention_reading(g, op.outputs[0])
            .ok_or_else(|| unsupported(op, "RoPE output is read by no attention op"))?;
        let (b, ql, hd) = (
            shape.batch as usize,
            shape.q_len as usize,
            shape.head_dim as usize,
        );
        let past = (shape.kv_len - shape.q_len) as usize;
        let (cos, sin) = env
            .rope
            .get(&(ql, hd, past))
            .ok_or_else(|| unsupported(op, "RoPE tables were not prepared"))?;
        let mut outs = Vec::new();
        for (k, heads) in [(0, shape.q_heads), (1, shape.kv_heads)] {
            let x = input(k)?.reshape((b, ql, heads as usize, hd))?;
            let y = candle_nn::rotary_emb::rope_thd(&x, cos, sin)?;
            outs.push(y);
        }
        Ok(outs)
    }

    /// Runs a `KvAppend`: writes the new keys and values into the caches.
    fn exec_kv_append(
        &self,
        env: &Env,
        op: &Op,
        tokens: u64,
        kv_heads: u64,
        head_dim: u64,
    ) -> Result<Vec<Tensor>, MeasureError> {
        let input = |k: usize| self.input(env, op, k);
        let mut outs = Vec::new();
        for (k, &cache_id) in op.outputs.iter().enumerate().take(2) {
            let cache = self.dense(env, op, cache_id)?;
            let (b, _, len, _) = cache.dims4().map_err(|_| {
                unsupported(
                    op,
                    "KV cache must be [batch, kv_heads, positions, head_dim]",
                )
            })?;
            let new = tokens as usize / b;
            let x = input(k)?.reshape((b, new, kv_heads as usize, head_dim as usize))?;
            // A sliding-window cache keeps only the last `len` positions.
            let x = if new > len {
                x.narrow(1, new - len, len)?
            } else {
                x
            };
            let rows = new.min(len);
            let src = x.transpose(1, 2)?.contiguous()?;
            cache.slice_set(&src, 2, len - rows)?;
            outs.push(cache.clone());
        }
        Ok(outs)
    }

    fn attention(
        &self,
        env: &Env,
        op: &Op,
        part: AttnPart,
        s: &AttnShape,
        first: &Tensor,
        second: Option<&Tensor>,
    ) -> Result<Tensor, MeasureError> {
        let second = || second.ok_or_else(|| unsupported(op, "attention needs two inputs"));
        let b = s.batch as usize;
        let (h, kvh, ql, l, hd) = (
            s.q_heads as usize,
            s.kv_heads as usize,
            s.q_len as usize,
            s.kv_len as usize,
            s.head_dim as usize,
        );
        let groups = h / kvh;
        // K or V as [b, kvh, L, hd]: a cache already is; fresh prefill rows are [b·L, kvh·hd].
        let kv = |t: &Tensor| -> Result<Tensor, MeasureError> {
            Ok(if t.rank() == 4 {
                t.clone()
            } else {
                t.reshape((b, l, kvh, hd))?.transpose(1, 2)?.contiguous()?
            })
        };
        let y = match part {
            AttnPart::Scores => {
                // Q [b·q, h·hd] → [b, kvh, groups·q, hd] so that each KV head serves its group.
                let q = first
                    .reshape((b, ql, h, hd))?
                    .transpose(1, 2)?
                    .contiguous()?
                    .reshape((b, kvh, groups * ql, hd))?;
                let q = q.affine(1.0 / (hd as f64).sqrt(), 0.0)?;
                let k = kv(second()?)?;
                let k = if k.dims()[2] > l {
                    k.narrow(2, k.dims()[2] - l, l)?
                } else {
                    k
                };
                q.matmul(&k.t()?)?
            }
            AttnPart::Softmax => {
                let x = first;
                let lk = *x.dims().last().unwrap_or(&l);
                let x = match env.masks.get(&(ql, l, s.window)) {
                    Some(m) if lk == l => x.reshape((b * kvh * groups, ql, l))?.broadcast_add(m)?,
                    _ => x.clone(),
                };
                candle_nn::ops::softmax_last_dim(&x)?.reshape((b, kvh, groups * ql, lk))?
            }
            AttnPart::Values => {
                let p = first;
                let v = kv(second()?)?;
                let lk = *p.dims().last().unwrap_or(&l);
                let v = if v.dims()[2] > lk {
                    v.narrow(2, v.dims()[2] - lk, lk)?
                } else {
                    v
                };
                p.matmul(&v)?
                    .reshape((b, h, ql, hd))?
                    .transpose(1, 2)?
                    .contiguous()?
                    .reshape((b * ql, h * hd))?
            }
        };
        Ok(y)
    }
}
