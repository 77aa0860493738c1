//! Microbenchmark kernels for `calibrate`: peak multiply-accumulate throughput per ISA and dtype,
//! STREAM-style bandwidth loops, and a dependent-add chain that reads the core clock.
//!
//! Peak kernels keep enough independent accumulators in registers to cover the latency of the
//! FMA (or dot-product) unit on every pipe: 12 accumulators cover a 4-cycle latency on 2 pipes
//! with room to spare (Zen 4, Golden Cove and Neoverse V1 all have 4-cycle FMAs, 2 pipes).
//! Selection is at run time (`is_x86_feature_detected!`); on other architectures a portable
//! scalar loop with the same structure gives a lower bound.

use crate::workload::DType;

/// Independent accumulators in each peak kernel (see the module docs).
pub const ACCUMULATORS: usize = 12;

/// A peak-throughput kernel: `run(iters)` executes `iters` loop iterations of `ops_per_iter`
/// arithmetic operations (a multiply-accumulate counts 2) and returns a value to keep alive.
#[derive(Clone, Copy, Debug)]
pub struct PeakKernel {
    /// The dtype whose peak it measures.
    pub dtype: DType,
    /// Instruction set and instruction, for the provenance note.
    pub isa: &'static str,
    /// Operations per loop iteration.
    pub ops_per_iter: f64,
    /// The kernel.
    pub run: fn(u64) -> f64,
}

impl PeakKernel {
    /// A kernel whose loop iteration issues one multiply-accumulate (2 operations) per lane in
    /// each of the [`ACCUMULATORS`] registers, `lanes` lanes wide.
    fn mac(dtype: DType, isa: &'static str, lanes: usize, run: fn(u64) -> f64) -> Self {
        PeakKernel {
            dtype,
            isa,
            ops_per_iter: (ACCUMULATORS * lanes * 2) as f64,
            run,
        }
    }
}

/// The peak kernels this CPU can run, widest first for each dtype.
pub fn peak_kernels() -> Vec<PeakKernel> {
    // (supported here, dtype, instruction, lanes per register, kernel)
    type Entry = (bool, DType, &'static str, usize, fn(u64) -> f64);
    #[cfg(target_arch = "x86_64")]
    let table: Vec<Entry> = {
        let has = |f: &str| match f {
            "avx512f" => is_x86_feature_detected!("avx512f"),
            "avx2+fma" => is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma"),
            "avx512vnni" => is_x86_feature_detected!("avx512vnni"),
            "avxvnni" => is_x86_feature_detected!("avxvnni"),
            "avx2" => is_x86_feature_detected!("avx2"),
            _ => false,
        };
        vec![
            (
                has("avx512f"),
                DType::F32,
                "AVX-512F vfmadd231ps zmm",
                16,
                x86::fma_f32_avx512,
            ),
            (
                has("avx2+fma"),
                DType::F32,
                "AVX2+FMA vfmadd231ps ymm",
                8,
                x86::fma_f32_avx2,
            ),
            (
                has("avx512vnni"),
                DType::I8,
                "AVX-512 VNNI vpdpbusd zmm (u8 x s8 -> s32)",
                64,
                x86::dot_i8_vnni512,
            ),
            (
                has("avxvnni"),
                DType::I8,
                "AVX-VNNI vpdpbusd ymm (u8 x s8 -> s32)",
                32,
                x86::dot_i8_avxvnni,
            ),
            (
                has("avx2"),
                DType::I8,
                "AVX2 vpmaddubsw + vpmaddwd + vpaddd ymm (u8 x s8 -> s32)",
                32,
                x86::dot_i8_avx2,
            ),
        ]
    };
    #[cfg(target_arch = "aarch64")]
    let table: Vec<Entry> = vec![(true, DType::F32, "NEON fmla v.4s", 4, arm::fma_f32_neon)];
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    let table: Vec<Entry> = Vec::new();
    let mut v: Vec<PeakKernel> = table
        .into_iter()
        .filter(|e| e.0)
        .map(|(_, dtype, isa, lanes, run)| PeakKernel::mac(dtype, isa, lanes, run))
        .collect();
    if v.is_empty() {
        v.push(PeakKernel::mac(
            DType::F32,
            "portable scalar mul-add (no SIMD kernel for this CPU)",
            1,
            fma_f32_scalar,
        ));
    }
    v
}

fn fma_f32_scalar(iters: u64) -> f64 {
    let mut a = [0.0f32; ACCUMULATORS];
    let m = std::hint::black_box(0.999_999f32);
    let c = std::hint::black_box(1e-7f32);
    for _ in 0..iters {
        for x in a.iter_mut() {
            *x = x.mul_add(m, c);
        }
    }
    a.iter().map(|&x| x as f64).sum()
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::ACCUMULATORS;
    use std::arch::x86_64::*;

    macro_rules! twelve {
        ($acc:ident, $body:expr) => {
            for $acc in 0..ACCUMULATORS {
                $body;
            }
        };
    }

    #[target_feature(enable = "avx2,fma")]
    unsafe fn fma_avx2(iters: u64) -> f64 {
        let mut a = [_mm256_setzero_ps(); ACCUMULATORS];
        let m = _mm256_set1_ps(std::hint::black_box(0.999_999));
        let c = _mm256_set1_ps(std::hint::black_box(1e-7));
        for _ in 0..iters {
            twelve!(i, a[i] = _mm256_fmadd_ps(a[i], m, c));
        }
        let mut s = _mm256_setzero_ps();
        twelve!(i, s = _mm256_add_ps(s, a[i]));
        let mut out = [0f32; 8];
        unsafe { _mm256_storeu_ps(out.as_mut_ptr(), s) };
        out.iter().map(|&x| x as f64).sum()
    }

    pub fn fma_f32_avx2(iters: u64) -> f64 {
        // SAFETY: selected only when avx2 and fma are detected.
        unsafe { fma_avx2(iters) }
    }

    #[target_feature(enable = "avx512f")]
    unsafe fn fma_avx512(iters: u64) -> f64 {
        let mut a = [_mm512_setzero_ps(); ACCUMULATORS];
        let m = _mm512_set1_ps(std::hint::black_box(0.999_999));
        let c = _mm512_set1_ps(std::hint::black_box(1e-7));
        for _ in 0..iters {
            twelve!(i, a[i] = _mm512_fmadd_ps(a[i], m, c));
        }
        let mut s = _mm512_setzero_ps();
        twelve!(i, s = _mm512_add_ps(s, a[i]));
        _mm512_reduce_add_ps(s) as f64
    }

    pub fn fma_f32_avx512(iters: u64) -> f64 {
        // SAFETY: selected only when avx512f is detected.
        unsafe { fma_avx512(iters) }
    }

    #[target_feature(enable = "avx512f,avx512vnni")]
    unsafe fn vnni512(iters: u64) -> f64 {
        let mut a = [_mm512_setzero_si512(); ACCUMULATORS];
        let x = _mm512_set1_epi8(std::hint::black_box(3));
        let y = _mm512_set1_epi8(std::hint::black_box(-2));
        for _ in 0..iters {
            twelve!(i, a[i] = _mm512_dpbusd_epi32(a[i], x, y));
        }
        let mut s = _mm512_setzero_si512();
        twelve!(i, s = _mm512_add_epi32(s, a[i]));
        _mm512_reduce_add_epi32(s) as f64
    }

    pub fn dot_i8_vnni512(iters: u64) -> f64 {
        // SAFETY: selected only when avx512vnni (which implies avx512f) is detected.
        unsafe { vnni512(iters) }
    }

    #[target_feature(enable = "avx2,avxvnni")]
    unsafe fn vnni256(iters: u64) -> f64 {
        let mut a = [_mm256_setzero_si256(); ACCUMULATORS];
        let x = _mm256_set1_epi8(std::hint::black_box(3));
        let y = _mm256_set1_epi8(std::hint::black_box(-2));
        for _ in 0..iters {
            twelve!(i, a[i] = _mm256_dpbusd_avx_epi32(a[i], x, y));
        }
        unsafe { reduce_epi32(&a) }
    }

    pub fn dot_i8_avxvnni(iters: u64) -> f64 {
        // SAFETY: selected only when avxvnni is detected.
        unsafe { vnni256(iters) }
    }

    #[target_feature(enable = "avx2")]
    unsafe fn madd256(iters: u64) -> f64 {
        let mut a = [_mm256_setzero_si256(); ACCUMULATORS];
        let y = _mm256_set1_epi8(std::hint::black_box(-2));
        let ones = _mm256_set1_epi16(1);
        for _ in 0..iters {
            // The u8 operand is the accumulator itself, so nothing is loop-invariant.
            twelve!(
                i,
                a[i] =
                    _mm256_add_epi32(a[i], _mm256_madd_epi16(_mm256_maddubs_epi16(a[i], y), ones))
            );
        }
        unsafe { reduce_epi32(&a) }
    }

    pub fn dot_i8_avx2(iters: u64) -> f64 {
        // SAFETY: selected only when avx2 is detected.
        unsafe { madd256(iters) }
    }

    #[target_feature(enable = "avx2")]
    unsafe fn reduce_epi32(a: &[__m256i; ACCUMULATORS]) -> f64 {
        let mut s = _mm256_setzero_si256();
        twelve!(i, s = _mm256_add_epi32(s, a[i]));
        let mut out = [0i32; 8];
        unsafe { _mm256_storeu_si256(out.as_mut_ptr() as *mut __m256i, s) };
        out.iter().map(|&x| x as f64).sum()
    }

    /// `n` blocks of 8 dependent 64-bit adds: 8 cycles per block at one add per cycle latency.
    pub fn add_chain(n: u64) -> u64 {
        let mut x: u64 = 0;
        for _ in 0..n {
            // SAFETY: register-only arithmetic.
            unsafe {
                std::arch::asm!(
                    "add {x}, 1", "add {x}, 1", "add {x}, 1", "add {x}, 1",
                    "add {x}, 1", "add {x}, 1", "add {x}, 1", "add {x}, 1",
                    x = inout(reg) x,
                    options(nomem, nostack)
                );
            }
        }
        x
    }
}

#[cfg(target_arch = "aarch64")]
mod arm {
    use super::ACCUMULATORS;
    use std::arch::aarch64::*;

    pub fn fma_f32_neon(iters: u64) -> f64 {
        // SAFETY: NEON is part of the aarch64 baseline.
        unsafe {
            let mut a = [vdupq_n_f32(0.0); ACCUMULATORS];
            let m = vdupq_n_f32(std::hint::black_box(0.999_999));
            let c = vdupq_n_f32(std::hint::black_box(1e-7));
            for _ in 0..iters {
                for i in 0..ACCUMULATORS {
                    a[i] = vfmaq_f32(c, a[i], m);
                }
            }
            let mut s = 0.0f64;
            for v in a {
                s += vaddvq_f32(v) as f64;
            }
            s
        }
    }

    /// `n` blocks of 8 dependent 64-bit adds: 8 cycles per block at one add per cycle latency.
    pub fn add_chain(n: u64) -> u64 {
        let mut x: u64 = 0;
        for _ in 0..n {
            // SAFETY: register-only arithmetic.
            unsafe {
                std::arch::asm!(
                    "add {x}, {x}, 1", "add {x}, {x}, 1", "add {x}, {x}, 1", "add {x}, {x}, 1",
                    "add {x}, {x}, 1", "add {x}, {x}, 1", "add {x}, {x}, 1", "add {x}, {x}, 1",
                    x = inout(reg) x,
                    options(nomem, nostack)
                );
            }
        }
        x
    }
}

/// Dependent adds per block of [`add_chain`].
pub const ADDS_PER_BLOCK: u64 = 8;

/// Runs `n` blocks of [`ADDS_PER_BLOCK`] dependent integer adds (one cycle each), or `None` on
/// an architecture without the inline-assembly chain.
pub fn add_chain(n: u64) -> Option<u64> {
    #[cfg(target_arch = "x86_64")]
    return Some(x86::add_chain(n));
    #[cfg(target_arch = "aarch64")]
    return Some(arm::add_chain(n));
    #[allow(unreachable_code)]
    {
        let _ = n;
        None
    }
}

/// STREAM-style kernel kinds. Bytes counted per element as STREAM counts them (no
/// write-allocate traffic): read 4, copy 8, triad 12.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    /// s += a[i] over four concurrent streams (a pure read, as weights and KV caches are read).
    Read,
    /// b[i] = a[i].
    Copy,
    /// a[i] = b[i] + s·c[i].
    Triad,
}

impl Stream {
    /// All kinds.
    pub const ALL: [Stream; 3] = [Stream::Read, Stream::Copy, Stream::Triad];

    /// Name for notes.
    pub fn name(self) -> &'static str {
        match self {
            Stream::Read => "read (4 streams)",
            Stream::Copy => "copy",
            Stream::Triad => "triad",
        }
    }

    /// Arrays of f32 the kernel touches.
    pub fn arrays(self) -> usize {
        match self {
            Stream::Read => 1,
            Stream::Copy => 2,
            Stream::Triad => 3,
        }
    }

    /// Bytes counted per element index.
    pub fn bytes_per_elem(self) -> f64 {
        4.0 * self.arrays() as f64
    }
}

/// Buffers of one thread of a stream benchmark.
pub struct StreamBufs {
    a: Vec<f32>,
    b: Vec<f32>,
    c: Vec<f32>,
}

impl StreamBufs {
    /// `n` elements per array, touched once so pages are mapped.
    pub fn new(n: usize) -> Self {
        StreamBufs {
            a: vec![1.0; n],
            b: vec![2.0; n],
            c: vec![0.5; n],
        }
    }

    /// Elements per array.
    pub fn len(&self) -> usize {
        self.a.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.a.is_empty()
    }

    /// One pass of the kernel over the arrays; returns a value to keep alive.
    pub fn pass(&mut self, k: Stream) -> f32 {
        #[cfg(target_arch = "x86_64")]
        if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
            // SAFETY: features checked just above.
            return unsafe { self.pass_avx2(k) };
        }
        self.pass_portable(k)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn pass_avx2(&mut self, k: Stream) -> f32 {
        self.pass_portable(k)
    }

    #[inline(always)]
    fn pass_portable(&mut self, k: Stream) -> f32 {
        match k {
            Stream::Read => {
                // Four concurrent streams (the four quarters of the array), as a GEMV reads
                // several weight rows at once: one sequential stream leaves DRAM bandwidth
                // unused on one core. Two 8-lane accumulators per stream hide the add latency.
                let q = self.a.len() / 4;
                let (s0, rest) = self.a.split_at(q);
                let (s1, rest) = rest.split_at(q);
                let (s2, rest) = rest.split_at(q);
                let (s3, tail) = rest.split_at(q);
                let (mut a0, mut a1, mut a2, mut a3) =
                    ([0f32; 16], [0f32; 16], [0f32; 16], [0f32; 16]);
                let blocks = q / 16;
                for i in 0..blocks {
                    let r = i * 16..i * 16 + 16;
                    let c0: &[f32; 16] = s0[r.clone()].try_into().expect("16 elements");
                    let c1: &[f32; 16] = s1[r.clone()].try_into().expect("16 elements");
                    let c2: &[f32; 16] = s2[r.clone()].try_into().expect("16 elements");
                    let c3: &[f32; 16] = s3[r].try_into().expect("16 elements");
                    for j in 0..16 {
                        a0[j] += c0[j];
                        a1[j] += c1[j];
                        a2[j] += c2[j];
                        a3[j] += c3[j];
                    }
                }
                let acc = [a0, a1, a2, a3];
                let done = blocks * 16;
                let rem: f32 = [s0, s1, s2, s3]
                    .iter()
                    .map(|s| s[done..].iter().sum::<f32>())
                    .sum::<f32>()
                    + tail.iter().sum::<f32>();
                acc.iter().flatten().sum::<f32>() + rem
            }
            Stream::Copy => {
                self.b.copy_from_slice(&self.a);
                self.b[self.b.len() / 2]
            }
            Stream::Triad => {
                let s = std::hint::black_box(0.5f32);
                for ((a, b), c) in self.a.iter_mut().zip(&self.b).zip(&self.c) {
                    *a = b + s * c;
                }
                self.a[self.a.len() / 2]
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peak_kernels_compute_what_they_claim() {
        // a ← a·m + c from 0 for n steps stays finite and positive; VNNI sums are exact.
        for k in peak_kernels() {
            let v = (k.run)(1000);
            assert!(v.is_finite(), "{}", k.isa);
            if k.isa.starts_with("AVX-512 VNNI") || k.isa.starts_with("AVX-VNNI") {
                // each lane accumulates 4 products 3·(−2) per step and instruction:
                // lanes·steps·4·(−6) summed over 12 accumulators
                let lanes = k.ops_per_iter / (ACCUMULATORS as f64 * 2.0) / 4.0;
                assert_eq!(
                    v,
                    -(lanes * 1000.0 * 4.0 * 6.0 * ACCUMULATORS as f64),
                    "{}",
                    k.isa
                );
            } else if k.dtype == DType::F32 {
                assert!(v > 0.0, "{}", k.isa);
            }
        }
    }

    #[test]
    fn add_chain_counts() {
        if let Some(x) = add_chain(10) {
            assert_eq!(x, 10 * ADDS_PER_BLOCK);
        }
    }

    #[test]
    fn stream_kernels_by_hand() {
        let mut b = StreamBufs::new(103); // quarters of 25 and a tail of 3
        assert_eq!(b.pass(Stream::Read), 103.0);
        let mut b = StreamBufs::new(100);
        // a = 1.0 × 100
        assert_eq!(b.pass(Stream::Read), 100.0);
        // b ← a = 1.0
        assert_eq!(b.pass(Stream::Copy), 1.0);
        // a = b + 0.5·c = 1 + 0.5·0.5
        assert_eq!(b.pass(Stream::Triad), 1.25);
        assert_eq!(b.pass(Stream::Read), 125.0);
    }
}

/// Sum of squares of `row` with one accumulator: each add depends on the previous one (Rust
/// does not reassociate float sums), so the loop runs at the floating-point add latency, as the
/// row reductions of candle-nn's RMSNorm do.
pub fn serial_sum_of_squares(row: &[f32]) -> f32 {
    row.iter().map(|&v| v * v).sum()
}
