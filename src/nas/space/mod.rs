//! The OFA search spaces and their arch dicts, one file per space:
//!
//! * `mobilenet`: `ofa_mbv3_d234_e346_k357_w1.0` / `_w1.2` (OFA `OFAMobileNetV3`) and
//!   `ofa_proxyless_d234_e346_k357_w1.3` (OFA `OFAProxylessNASNets`): an [`MbSpace`], whose
//!   subnets are [`MbArch`] = `{ks, e, d, image_size}` per OFA's `ofa.nas` arch dict (the tutorial
//!   form `{wid: null, ks, e, d, r: [res]}` is read too);
//! * `resnet`: `ofa_resnet50` (OFA `OFAResNets`, ResNet50-D): a [`ResNetSpace`], whose subnets
//!   are [`ResNetArch`] = `{d, e, w, image_size}`.
//!
//! A subnet lowers to a [`Net`](super::net::Net) with OFA's channel rounding
//! ([`make_divisible`](super::net::make_divisible)), SE widths, identity skips and head.
//! Sampling, mutation and crossover follow OFA's arch managers
//! (`ofa/nas/accuracy_predictor/arch_encoder.py`, `ofa/tutorial/evolution_finder.py`) and are what
//! [`SearchSpace`] exposes to the evolution finder. This file holds what the spaces share: that
//! trait, the random generator, the mutation rates, the resolution lists and the arch-dict field
//! readers.

use super::NasError;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use serde_json::Value;

mod mobilenet;
mod resnet;
#[cfg(test)]
mod tests;

pub use mobilenet::{MBV3_BASE_WIDTHS, MbArch, MbFamily, MbSpace, PROXYLESS_BASE_WIDTHS};
pub use resnet::{RESNET_STEM_BASE, ResNetArch, ResNetSpace};

/// The random generator every search uses (seeded, portable, fast).
pub type SearchRng = ChaCha8Rng;

/// Mutation probabilities of the evolution finder.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct MutationRates {
    /// Probability of resampling each architecture gene (a block's (k, e) pair, a depth, a width).
    pub arch: f64,
    /// Probability of resampling the resolution.
    pub resolution: f64,
}

/// What the evolution finder needs from a space: random subnets, mutation, crossover, and a
/// JSON form of a subnet. Implemented by the CNN spaces here and the LLM space in
/// [`super::llm`].
pub trait SearchSpace: Sync {
    /// A subnet.
    type Arch: Clone + Send + Sync + std::fmt::Debug + PartialEq;
    /// Short name of the space.
    fn name(&self) -> &str;
    /// A uniformly random subnet.
    fn sample(&self, rng: &mut SearchRng) -> Self::Arch;
    /// A copy of `parent` with genes resampled with the given probabilities.
    fn mutate(&self, parent: &Self::Arch, rates: MutationRates, rng: &mut SearchRng) -> Self::Arch;
    /// Each gene taken from `a` or `b` with probability ½.
    fn crossover(&self, a: &Self::Arch, b: &Self::Arch, rng: &mut SearchRng) -> Self::Arch;
    /// The subnet as JSON (OFA's arch dict for CNN spaces, a config summary for LLMs).
    fn to_json(&self, arch: &Self::Arch) -> Value;
}

fn pick<T: Copy>(rng: &mut SearchRng, xs: &[T]) -> T {
    xs[rng.random_range(0..xs.len())]
}

fn pick2<T: Copy>(rng: &mut SearchRng, a: T, b: T) -> T {
    if rng.random_bool(0.5) { a } else { b }
}

/// Uniform crossover of two gene lists: each position from `x` or `y` with equal odds, drawn in
/// order.
fn cross<T: Copy>(rng: &mut SearchRng, x: &[T], y: &[T]) -> Vec<T> {
    x.iter().zip(y).map(|(&a, &b)| pick2(rng, a, b)).collect()
}

/// The resolutions of the OFA tutorial's accuracy predictor and Note10 LUTs.
pub const TUTORIAL_RESOLUTIONS: [u32; 5] = [160, 176, 192, 208, 224];

/// 128 to 224 in steps of 4: the OFA paper's elastic resolution.
pub fn paper_resolutions() -> Vec<u32> {
    (128..=224).step_by(4).collect()
}

/// Reads a list of small integers from an arch-dict field; floats must be whole.
fn int_list(v: &Value, field: &str, path: &str) -> Result<Vec<u8>, NasError> {
    let arr = v
        .get(field)
        .and_then(Value::as_array)
        .ok_or_else(|| NasError::invalid(path, field, "missing, expected a list of integers"))?;
    arr.iter()
        .enumerate()
        .map(|(i, x)| {
            x.as_f64()
                .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f <= 255.0)
                .map(|f| f as u8)
                .ok_or_else(|| {
                    NasError::invalid(
                        path,
                        format!("{field}[{i}]"),
                        format!("expected a small whole number, found {x}"),
                    )
                })
        })
        .collect()
}

/// The resolution of an arch dict: `image_size` (library) or `r: [res]` (tutorial).
fn resolution(v: &Value, path: &str) -> Result<u32, NasError> {
    let r = match (v.get("image_size"), v.get("r")) {
        (Some(x), _) => x.as_u64(),
        (None, Some(Value::Array(a))) if a.len() == 1 => a[0].as_u64(),
        (None, Some(x)) => x.as_u64(),
        (None, None) => {
            return Err(NasError::invalid(
                path,
                "image_size",
                "missing: expected `image_size` (OFA library) or `r: [res]` (OFA tutorial)",
            ));
        }
    };
    r.filter(|&r| r > 0 && r <= u32::MAX as u64)
        .map(|r| r as u32)
        .ok_or_else(|| {
            NasError::invalid(path, "image_size", "expected a positive integer resolution")
        })
}
