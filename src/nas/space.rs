//! The OFA search spaces and their arch dicts.
//!
//! * `ofa_mbv3_d234_e346_k357_w1.0` / `_w1.2` (OFA `OFAMobileNetV3`) and
//!   `ofa_proxyless_d234_e346_k357_w1.3` (OFA `OFAProxylessNASNets`): an [`MbSpace`], whose
//!   subnets are [`MbArch`] = `{ks, e, d, image_size}` per OFA's `ofa.nas` arch dict (the tutorial
//!   form `{wid: null, ks, e, d, r: [res]}` is read too);
//! * `ofa_resnet50` (OFA `OFAResNets`, ResNet50-D): a [`ResNetSpace`], whose subnets are
//!   [`ResNetArch`] = `{d, e, w, image_size}`.
//!
//! A subnet lowers to a [`Net`] with OFA's channel rounding ([`make_divisible`]), SE widths,
//! identity skips and head. Sampling, mutation and crossover follow OFA's arch managers
//! (`ofa/nas/accuracy_predictor/arch_encoder.py`, `ofa/tutorial/evolution_finder.py`) and are what
//! [`SearchSpace`] exposes to the evolution finder.

use super::NasError;
use super::net::{
    Act, BottleneckSeg, CHANNEL_DIVISIBLE, ClassifierSeg, ConvSeg, IMAGENET_CLASSES, MaxPoolSeg,
    MbConvSeg, Net, Segment, make_divisible, py_round,
};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

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

use serde::Serialize;

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

/// The MobileNet-like families.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MbFamily {
    /// OFA MobileNetV3 (SE, h-swish, final expand + feature mix head).
    MobileNetV3,
    /// OFA ProxylessNAS (ReLU6, no SE, feature mix before the pool).
    Proxyless,
}

/// An OFA MobileNet-like space: a stem conv, a fixed first MBConv, elastic stages, a head.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MbSpace {
    /// OFA's name, e.g. `ofa_mbv3_d234_e346_k357_w1.2`.
    pub name: String,
    /// Family.
    pub family: MbFamily,
    /// Width multiplier.
    pub width_mult: f64,
    /// Stem output channels.
    pub stem: u32,
    /// First MBConv output channels.
    pub first_block: u32,
    /// Output channels of each elastic stage.
    pub widths: Vec<u32>,
    /// Stride of each stage's first block.
    pub strides: Vec<u8>,
    /// Most blocks of each stage.
    pub max_blocks: Vec<u8>,
    /// Activation of each stage.
    pub acts: Vec<Act>,
    /// SE in each stage.
    pub se: Vec<bool>,
    /// MBv3 final expand width (none for Proxyless).
    pub final_expand: Option<u32>,
    /// Feature-mix width.
    pub last_channel: u32,
    /// Stem and head activation.
    pub head_act: Act,
    /// First MBConv activation.
    pub first_block_act: Act,
    /// Kernel choices.
    pub ks_list: Vec<u8>,
    /// Expand-ratio choices.
    pub e_list: Vec<u8>,
    /// Depth choices.
    pub depth_list: Vec<u8>,
    /// Resolutions searched.
    pub resolutions: Vec<u32>,
}

/// OFA MBv3 `base_stage_width`: stem, first block, five stages, final expand, feature mix.
pub const MBV3_BASE_WIDTHS: [u32; 9] = [16, 16, 24, 40, 80, 112, 160, 960, 1280];
/// OFA ProxylessNAS `base_stage_width`: stem, first block, six stages, feature mix.
pub const PROXYLESS_BASE_WIDTHS: [u32; 9] = [32, 16, 24, 40, 80, 96, 192, 320, 1280];
/// The resolutions of the OFA tutorial's accuracy predictor and Note10 LUTs.
pub const TUTORIAL_RESOLUTIONS: [u32; 5] = [160, 176, 192, 208, 224];

/// 128 to 224 in steps of 4: the OFA paper's elastic resolution.
pub fn paper_resolutions() -> Vec<u32> {
    (128..=224).step_by(4).collect()
}

impl MbSpace {
    /// `ofa_mbv3_d234_e346_k357_w{width_mult}` (OFA `OFAMobileNetV3`).
    pub fn mbv3(width_mult: f64) -> MbSpace {
        let w = |b: u32| make_divisible(b as f64 * width_mult, CHANNEL_DIVISIBLE);
        MbSpace {
            name: format!("ofa_mbv3_d234_e346_k357_w{width_mult:.1}"),
            family: MbFamily::MobileNetV3,
            width_mult,
            stem: w(MBV3_BASE_WIDTHS[0]),
            first_block: w(MBV3_BASE_WIDTHS[1]),
            widths: MBV3_BASE_WIDTHS[2..7].iter().map(|&b| w(b)).collect(),
            strides: vec![2, 2, 2, 1, 2],
            max_blocks: vec![4; 5],
            acts: vec![Act::Relu, Act::Relu, Act::HSwish, Act::HSwish, Act::HSwish],
            se: vec![false, true, false, true, true],
            final_expand: Some(w(MBV3_BASE_WIDTHS[7])),
            last_channel: w(MBV3_BASE_WIDTHS[8]),
            head_act: Act::HSwish,
            first_block_act: Act::Relu,
            ks_list: vec![3, 5, 7],
            e_list: vec![3, 4, 6],
            depth_list: vec![2, 3, 4],
            resolutions: if width_mult > 1.0 {
                TUTORIAL_RESOLUTIONS.to_vec()
            } else {
                paper_resolutions()
            },
        }
    }

    /// `ofa_proxyless_d234_e346_k357_w{width_mult}` (OFA `OFAProxylessNASNets`).
    pub fn proxyless(width_mult: f64) -> MbSpace {
        let w = |b: u32| make_divisible(b as f64 * width_mult, CHANNEL_DIVISIBLE);
        MbSpace {
            name: format!("ofa_proxyless_d234_e346_k357_w{width_mult:.1}"),
            family: MbFamily::Proxyless,
            width_mult,
            stem: w(PROXYLESS_BASE_WIDTHS[0]),
            first_block: w(PROXYLESS_BASE_WIDTHS[1]),
            widths: PROXYLESS_BASE_WIDTHS[2..8].iter().map(|&b| w(b)).collect(),
            strides: vec![2, 2, 2, 1, 2, 1],
            max_blocks: vec![4, 4, 4, 4, 4, 1],
            acts: vec![Act::Relu6; 6],
            se: vec![false; 6],
            final_expand: None,
            last_channel: w(PROXYLESS_BASE_WIDTHS[8]),
            head_act: Act::Relu6,
            first_block_act: Act::Relu6,
            ks_list: vec![3, 5, 7],
            e_list: vec![3, 4, 6],
            depth_list: vec![2, 3, 4],
            resolutions: paper_resolutions(),
        }
    }

    /// Stages.
    pub fn n_stages(&self) -> usize {
        self.widths.len()
    }

    /// Block slots (20 for MBv3, 21 for Proxyless).
    pub fn n_blocks(&self) -> usize {
        self.max_blocks.iter().map(|&b| b as usize).sum()
    }

    /// `(stage, index in stage)` of each block slot.
    pub fn slots(&self) -> Vec<(usize, usize)> {
        let mut v = Vec::new();
        for (s, &n) in self.max_blocks.iter().enumerate() {
            for j in 0..n as usize {
                v.push((s, j));
            }
        }
        v
    }

    /// Active blocks of stage `s` under depth `d` (the last Proxyless stage holds one).
    pub fn active(&self, s: usize, d: u8) -> usize {
        d.min(self.max_blocks[s]) as usize
    }

    /// MBConv mid width: `make_divisible(round(c_in · e), 8)`.
    pub fn mid(c_in: u32, e: u8) -> u32 {
        make_divisible(py_round(c_in as f64 * e as f64) as f64, CHANNEL_DIVISIBLE)
    }

    /// Checks an arch against this space (list lengths and choices); the resolution is free.
    pub fn validate(&self, a: &MbArch, path: &str) -> Result<(), NasError> {
        let n = self.n_blocks();
        let bad = |field: &str, msg: String| Err(NasError::invalid(path, field, msg));
        if a.ks.len() != n {
            return bad(
                "ks",
                format!(
                    "expected {n} entries for {}, found {}",
                    self.name,
                    a.ks.len()
                ),
            );
        }
        if a.e.len() != n {
            return bad(
                "e",
                format!(
                    "expected {n} entries for {}, found {}",
                    self.name,
                    a.e.len()
                ),
            );
        }
        if a.d.len() != self.n_stages() {
            return bad(
                "d",
                format!(
                    "expected {} entries for {}, found {}",
                    self.n_stages(),
                    self.name,
                    a.d.len()
                ),
            );
        }
        for (i, k) in a.ks.iter().enumerate() {
            if !self.ks_list.contains(k) {
                return bad(
                    &format!("ks[{i}]"),
                    format!("{k} is not one of {:?}", self.ks_list),
                );
            }
        }
        for (i, e) in a.e.iter().enumerate() {
            if !self.e_list.contains(e) {
                return bad(
                    &format!("e[{i}]"),
                    format!("{e} is not one of {:?}", self.e_list),
                );
            }
        }
        for (i, d) in a.d.iter().enumerate() {
            if !self.depth_list.contains(d) {
                return bad(
                    &format!("d[{i}]"),
                    format!("{d} is not one of {:?}", self.depth_list),
                );
            }
        }
        if a.r < 32 || a.r > 1024 {
            return bad("image_size", format!("{} is outside 32..=1024", a.r));
        }
        Ok(())
    }

    /// The concrete network of a subnet.
    pub fn net(&self, a: &MbArch) -> Net {
        let mut net = Net::new(self.name.clone(), a.r);
        net.push(
            "first_conv",
            Segment::Conv(ConvSeg {
                h: a.r,
                c_in: 3,
                c_out: self.stem,
                k: 3,
                stride: 2,
                act: self.head_act,
                residual: false,
            }),
        );
        let mut h = net.segments[0].output().1;
        net.push(
            "blocks.0",
            Segment::MbConv(MbConvSeg {
                h,
                c_in: self.stem,
                c_out: self.first_block,
                mid: self.stem,
                expand: false,
                k: 3,
                stride: 1,
                se: false,
                act: self.first_block_act,
                skip: self.stem == self.first_block,
            }),
        );
        let mut c = self.first_block;
        let mut slot = 0;
        let mut idx = 1;
        for s in 0..self.n_stages() {
            let active = self.active(s, a.d[s]);
            for j in 0..self.max_blocks[s] as usize {
                if j < active {
                    let stride = if j == 0 { self.strides[s] } else { 1 };
                    let out = self.widths[s];
                    let b = MbConvSeg {
                        h,
                        c_in: c,
                        c_out: out,
                        mid: Self::mid(c, a.e[slot]),
                        expand: true,
                        k: a.ks[slot],
                        stride,
                        se: self.se[s],
                        act: self.acts[s],
                        skip: stride == 1 && c == out,
                    };
                    net.push(format!("blocks.{idx}"), Segment::MbConv(b));
                    idx += 1;
                    h = net.segments.last().unwrap().output().1;
                    c = out;
                }
                slot += 1;
            }
        }
        let c_feat = match self.final_expand {
            Some(fe) => {
                net.push(
                    "final_expand_layer",
                    Segment::Conv(ConvSeg {
                        h,
                        c_in: c,
                        c_out: fe,
                        k: 1,
                        stride: 1,
                        act: self.head_act,
                        residual: false,
                    }),
                );
                fe
            }
            None => {
                net.push(
                    "feature_mix_layer",
                    Segment::Conv(ConvSeg {
                        h,
                        c_in: c,
                        c_out: self.last_channel,
                        k: 1,
                        stride: 1,
                        act: self.head_act,
                        residual: false,
                    }),
                );
                self.last_channel
            }
        };
        let mix = self
            .final_expand
            .map(|_| (self.last_channel, self.head_act));
        net.push(
            "classifier",
            Segment::Classifier(ClassifierSeg {
                h,
                c_in: c_feat,
                mix,
                mix_bias: false,
                classes: IMAGENET_CLASSES,
            }),
        );
        net
    }

    /// Recovers the arch dict of a concrete net of this space (e.g. a released `net.config`).
    /// Skipped block slots get the smallest kernel and expand ratio.
    pub fn arch_from_net(&self, net: &Net) -> Result<MbArch, String> {
        let blocks: Vec<&MbConvSeg> = net
            .segments
            .iter()
            .filter_map(|s| match s {
                Segment::MbConv(b) => Some(b),
                _ => None,
            })
            .collect();
        let first = blocks.first().ok_or("no MBConv blocks")?;
        if first.c_in != self.stem || first.c_out != self.first_block {
            return Err(format!(
                "first block is {}→{}, but {} has {}→{}",
                first.c_in, first.c_out, self.name, self.stem, self.first_block
            ));
        }
        let mut a = MbArch {
            ks: vec![self.ks_list[0]; self.n_blocks()],
            e: vec![self.e_list[0]; self.n_blocks()],
            d: vec![0; self.n_stages()],
            r: net.resolution,
        };
        let mut it = blocks[1..].iter().peekable();
        let mut slot = 0;
        let mut c = self.first_block;
        for s in 0..self.n_stages() {
            let mut n = 0;
            while let Some(b) = it.peek() {
                if b.c_out != self.widths[s] || n == self.max_blocks[s] as usize {
                    break;
                }
                let e = self
                    .e_list
                    .iter()
                    .copied()
                    .find(|&e| Self::mid(c, e) == b.mid)
                    .ok_or_else(|| {
                        format!(
                            "stage {s} block {n}: mid {} is no expand ratio of {:?} for {c} inputs",
                            b.mid, self.e_list
                        )
                    })?;
                if !self.ks_list.contains(&b.k) {
                    return Err(format!(
                        "stage {s} block {n}: kernel {} not in {:?}",
                        b.k, self.ks_list
                    ));
                }
                a.ks[slot + n] = b.k;
                a.e[slot + n] = e;
                c = b.c_out;
                n += 1;
                it.next();
            }
            let d = if s == self.n_stages() - 1 && self.max_blocks[s] == 1 {
                // the last Proxyless stage always holds one block; OFA writes its depth as the
                // smallest choice
                if n != 1 {
                    return Err(format!("last stage has {n} blocks, expected 1"));
                }
                self.depth_list[0]
            } else {
                n as u8
            };
            if !self.depth_list.contains(&d) {
                return Err(format!(
                    "stage {s} has {n} blocks, not one of {:?}",
                    self.depth_list
                ));
            }
            a.d[s] = d;
            slot += self.max_blocks[s] as usize;
        }
        if it.next().is_some() {
            return Err("blocks left over after the last stage".into());
        }
        Ok(a)
    }

    /// Looks a space up by name: `mbv3-w1.0`, `mbv3-w1.2`, `proxyless` (= `proxyless-w1.3`), or
    /// OFA's full names.
    pub fn by_name(name: &str) -> Option<MbSpace> {
        match name {
            "mbv3-w1.0" | "ofa_mbv3_d234_e346_k357_w1.0" => Some(MbSpace::mbv3(1.0)),
            "mbv3-w1.2" | "ofa_mbv3_d234_e346_k357_w1.2" => Some(MbSpace::mbv3(1.2)),
            "proxyless" | "proxyless-w1.3" | "ofa_proxyless_d234_e346_k357_w1.3" => {
                Some(MbSpace::proxyless(1.3))
            }
            _ => None,
        }
    }
}

/// A subnet of an [`MbSpace`]: kernel and expand ratio per block slot, depth per stage,
/// resolution. Entries of skipped slots are kept but ignored, as in OFA.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MbArch {
    /// Kernel per block slot.
    pub ks: Vec<u8>,
    /// Expand ratio per block slot.
    pub e: Vec<u8>,
    /// Depth per stage.
    pub d: Vec<u8>,
    /// Input resolution.
    pub r: u32,
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

impl MbArch {
    /// Parses an arch dict (library or tutorial form) and validates it against `space`.
    pub fn from_json(v: &Value, space: &MbSpace, path: &str) -> Result<MbArch, NasError> {
        let mut d = int_list(v, "d", path)?;
        // a five-entry `d` for Proxyless leaves out the one-block last stage
        if space.family == MbFamily::Proxyless && d.len() + 1 == space.n_stages() {
            d.push(space.depth_list[0]);
        }
        let a = MbArch {
            ks: int_list(v, "ks", path)?,
            e: int_list(v, "e", path)?,
            d,
            r: resolution(v, path)?,
        };
        space.validate(&a, path)?;
        Ok(a)
    }

    /// Parses arch-dict text.
    pub fn from_str(text: &str, space: &MbSpace, path: &str) -> Result<MbArch, NasError> {
        let v: Value = serde_json::from_str(text).map_err(|e| NasError::json(path, &e))?;
        Self::from_json(&v, space, path)
    }

    /// OFA `ofa.nas` form: `{"ks": [...], "e": [...], "d": [...], "image_size": r}`.
    pub fn to_json(&self) -> Value {
        json!({"ks": self.ks, "e": self.e, "d": self.d, "image_size": self.r})
    }

    /// OFA tutorial form: `{"wid": null, "ks": [...], "e": [...], "d": [...], "r": [r]}`.
    pub fn to_tutorial_json(&self) -> Value {
        json!({"wid": null, "ks": self.ks, "e": self.e, "d": self.d, "r": [self.r]})
    }
}

impl SearchSpace for MbSpace {
    type Arch = MbArch;

    fn name(&self) -> &str {
        &self.name
    }

    fn sample(&self, rng: &mut SearchRng) -> MbArch {
        let d = (0..self.n_stages())
            .map(|_| pick(rng, &self.depth_list))
            .collect();
        let mut ks = Vec::with_capacity(self.n_blocks());
        let mut e = Vec::with_capacity(self.n_blocks());
        for _ in 0..self.n_blocks() {
            e.push(pick(rng, &self.e_list));
            ks.push(pick(rng, &self.ks_list));
        }
        MbArch {
            ks,
            e,
            d,
            r: pick(rng, &self.resolutions),
        }
    }

    fn mutate(&self, p: &MbArch, rates: MutationRates, rng: &mut SearchRng) -> MbArch {
        let mut a = p.clone();
        if rng.random::<f64>() < rates.resolution {
            a.r = pick(rng, &self.resolutions);
        }
        for i in 0..self.n_blocks() {
            if rng.random::<f64>() < rates.arch {
                a.ks[i] = pick(rng, &self.ks_list);
                a.e[i] = pick(rng, &self.e_list);
            }
        }
        for s in 0..self.n_stages() {
            if rng.random::<f64>() < rates.arch {
                a.d[s] = pick(rng, &self.depth_list);
            }
        }
        a
    }

    fn crossover(&self, x: &MbArch, y: &MbArch, rng: &mut SearchRng) -> MbArch {
        MbArch {
            ks: x
                .ks
                .iter()
                .zip(&y.ks)
                .map(|(&a, &b)| pick2(rng, a, b))
                .collect(),
            e: x.e
                .iter()
                .zip(&y.e)
                .map(|(&a, &b)| pick2(rng, a, b))
                .collect(),
            d: x.d
                .iter()
                .zip(&y.d)
                .map(|(&a, &b)| pick2(rng, a, b))
                .collect(),
            r: pick2(rng, x.r, y.r),
        }
    }

    fn to_json(&self, a: &MbArch) -> Value {
        a.to_json()
    }
}

/// The OFA ResNet50 (ResNet50-D) space.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ResNetSpace {
    /// OFA's name.
    pub name: String,
    /// Extra blocks per stage, on top of the base depth.
    pub depth_list: Vec<u8>,
    /// Bottleneck expand ratios (relative to the output width).
    pub expand_list: Vec<f64>,
    /// Width multipliers.
    pub width_list: Vec<f64>,
    /// Base blocks per stage.
    pub base_depth: Vec<u8>,
    /// Output width of each stage at width 1.0.
    pub stage_base: Vec<u32>,
    /// Stride of each stage.
    pub strides: Vec<u8>,
    /// Resolutions searched.
    pub resolutions: Vec<u32>,
}

/// Stem output channels at width 1.0 (ResNet's 64).
pub const RESNET_STEM_BASE: u32 = 64;

impl Default for ResNetSpace {
    fn default() -> Self {
        ResNetSpace {
            name: "ofa_resnet50".into(),
            depth_list: vec![0, 1, 2],
            expand_list: vec![0.2, 0.25, 0.35],
            width_list: vec![0.65, 0.8, 1.0],
            base_depth: vec![2, 2, 4, 2],
            stage_base: vec![256, 512, 1024, 2048],
            strides: vec![1, 2, 2, 2],
            // the image sizes of OFA's ResNet50 accuracy-predictor notebook
            resolutions: vec![128, 144, 160, 176, 192, 224, 240, 256],
        }
    }
}

/// A subnet of the [`ResNetSpace`]: `d = [stem (0 or 2), 4 stage depths]`, expand ratio index
/// per block slot, width index for stem mid, stem out and the 4 stages, resolution.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ResNetArch {
    /// Stem skip flag (0: skip the stem's residual conv, 2: keep it) and stage depths.
    pub d: Vec<u8>,
    /// Index into `expand_list` per block slot (18).
    pub e: Vec<u8>,
    /// Index into `width_list`: stem mid, stem out, stages 1–4.
    pub w: Vec<u8>,
    /// Input resolution.
    pub r: u32,
}

impl ResNetSpace {
    /// Block slots (base + 2 per stage = 18).
    pub fn n_blocks(&self) -> usize {
        self.base_depth
            .iter()
            .map(|&b| (b + self.max_depth()) as usize)
            .sum()
    }

    fn max_depth(&self) -> u8 {
        *self.depth_list.iter().max().unwrap_or(&0)
    }

    /// Stem output channels per width choice (`make_divisible(64·w, 8)`).
    pub fn stem_out(&self, w: u8) -> u32 {
        make_divisible(
            RESNET_STEM_BASE as f64 * self.width_list[w as usize],
            CHANNEL_DIVISIBLE,
        )
    }

    /// Stem mid channels per width choice (`make_divisible(stem_out // 2, 8)`).
    pub fn stem_mid(&self, w: u8) -> u32 {
        make_divisible((self.stem_out(w) / 2) as f64, CHANNEL_DIVISIBLE)
    }

    /// Stage output width per width choice.
    pub fn stage_width(&self, stage: usize, w: u8) -> u32 {
        make_divisible(
            self.stage_base[stage] as f64 * self.width_list[w as usize],
            CHANNEL_DIVISIBLE,
        )
    }

    /// Checks an arch against the space.
    pub fn validate(&self, a: &ResNetArch, path: &str) -> Result<(), NasError> {
        let bad = |f: String, m: String| Err(NasError::invalid(path, f, m));
        if a.d.len() != self.base_depth.len() + 1 {
            return bad(
                "d".into(),
                format!(
                    "expected {} entries, found {}",
                    self.base_depth.len() + 1,
                    a.d.len()
                ),
            );
        }
        if a.d[0] != 0 && a.d[0] != self.max_depth() {
            return bad(
                "d[0]".into(),
                format!("stem flag {} is not 0 or {}", a.d[0], self.max_depth()),
            );
        }
        for (i, &d) in a.d.iter().enumerate().skip(1) {
            if !self.depth_list.contains(&d) {
                return bad(
                    format!("d[{i}]"),
                    format!("{d} is not one of {:?}", self.depth_list),
                );
            }
        }
        if a.e.len() != self.n_blocks() {
            return bad(
                "e".into(),
                format!("expected {} entries, found {}", self.n_blocks(), a.e.len()),
            );
        }
        if a.w.len() != self.base_depth.len() + 2 {
            return bad(
                "w".into(),
                format!(
                    "expected {} entries, found {}",
                    self.base_depth.len() + 2,
                    a.w.len()
                ),
            );
        }
        for (i, &w) in a.w.iter().enumerate() {
            if w as usize >= self.width_list.len() {
                return bad(
                    format!("w[{i}]"),
                    format!("{w} is not an index into {:?}", self.width_list),
                );
            }
        }
        for (i, &e) in a.e.iter().enumerate() {
            if e as usize >= self.expand_list.len() {
                return bad(format!("e[{i}]"), format!("index {e} out of range"));
            }
        }
        if a.r < 32 || a.r > 1024 {
            return bad("image_size".into(), format!("{} is outside 32..=1024", a.r));
        }
        Ok(())
    }

    /// The concrete network of a subnet.
    pub fn net(&self, a: &ResNetArch) -> Net {
        let mut net = Net::new(self.name.clone(), a.r);
        let mid = self.stem_mid(a.w[0]);
        let out = self.stem_out(a.w[1]);
        let conv = |h, c_in, c_out, residual| {
            Segment::Conv(ConvSeg {
                h,
                c_in,
                c_out,
                k: 3,
                stride: if c_in == 3 { 2 } else { 1 },
                act: Act::Relu,
                residual,
            })
        };
        net.push("input_stem.0", conv(a.r, 3, mid, false));
        let h = net.segments[0].output().1;
        if a.d[0] == self.max_depth() {
            net.push("input_stem.1", conv(h, mid, mid, true));
        }
        net.push("input_stem.2", conv(h, mid, out, false));
        net.push(
            "max_pooling",
            Segment::MaxPool(MaxPoolSeg {
                h,
                c: out,
                k: 3,
                stride: 2,
                pad: 1,
            }),
        );
        let mut h = net.segments.last().unwrap().output().1;
        let mut c = out;
        let mut slot = 0;
        let mut idx = 0;
        for s in 0..self.base_depth.len() {
            let n_max = (self.base_depth[s] + self.max_depth()) as usize;
            let active = (self.base_depth[s] + a.d[s + 1]) as usize;
            let width = self.stage_width(s, a.w[s + 2]);
            for j in 0..n_max {
                if j < active {
                    let e = self.expand_list[a.e[slot] as usize];
                    let b = BottleneckSeg {
                        h,
                        c_in: c,
                        c_out: width,
                        mid: make_divisible(py_round(width as f64 * e) as f64, CHANNEL_DIVISIBLE),
                        stride: if j == 0 { self.strides[s] } else { 1 },
                        downsample: j == 0,
                    };
                    net.push(format!("blocks.{idx}"), Segment::Bottleneck(b));
                    idx += 1;
                    h = net.segments.last().unwrap().output().1;
                    c = width;
                }
                slot += 1;
            }
        }
        net.push(
            "classifier",
            Segment::Classifier(ClassifierSeg {
                h,
                c_in: c,
                mix: None,
                mix_bias: false,
                classes: IMAGENET_CLASSES,
            }),
        );
        net
    }
}

impl ResNetArch {
    /// Parses an OFA ResNet arch dict `{"d", "e" (ratios), "w" (indices), "image_size"}`.
    pub fn from_json(v: &Value, space: &ResNetSpace, path: &str) -> Result<ResNetArch, NasError> {
        let e = v
            .get("e")
            .and_then(Value::as_array)
            .ok_or_else(|| {
                NasError::invalid(path, "e", "missing, expected a list of expand ratios")
            })?
            .iter()
            .enumerate()
            .map(|(i, x)| {
                let f = x.as_f64().unwrap_or(f64::NAN);
                space
                    .expand_list
                    .iter()
                    .position(|&c| (c - f).abs() < 1e-6)
                    .map(|p| p as u8)
                    .ok_or_else(|| {
                        NasError::invalid(
                            path,
                            format!("e[{i}]"),
                            format!("{x} is not one of {:?}", space.expand_list),
                        )
                    })
            })
            .collect::<Result<Vec<u8>, _>>()?;
        let a = ResNetArch {
            d: int_list(v, "d", path)?,
            e,
            w: int_list(v, "w", path)?,
            r: resolution(v, path)?,
        };
        space.validate(&a, path)?;
        Ok(a)
    }

    /// OFA form: `{"d": [...], "e": [ratios], "w": [indices], "image_size": r}`.
    pub fn to_json(&self, space: &ResNetSpace) -> Value {
        let e: Vec<f64> = self
            .e
            .iter()
            .map(|&i| space.expand_list[i as usize])
            .collect();
        json!({"d": self.d, "e": e, "w": self.w, "image_size": self.r})
    }
}

impl SearchSpace for ResNetSpace {
    type Arch = ResNetArch;

    fn name(&self) -> &str {
        &self.name
    }

    fn sample(&self, rng: &mut SearchRng) -> ResNetArch {
        let stem = pick(rng, &[0, self.max_depth()]);
        let mut d = vec![stem];
        for _ in 0..self.base_depth.len() {
            d.push(pick(rng, &self.depth_list));
        }
        let ne = self.expand_list.len() as u8;
        let nw = self.width_list.len() as u8;
        let e = (0..self.n_blocks())
            .map(|_| rng.random_range(0..ne))
            .collect();
        let w = (0..self.base_depth.len() + 2)
            .map(|_| rng.random_range(0..nw))
            .collect();
        ResNetArch {
            d,
            e,
            w,
            r: pick(rng, &self.resolutions),
        }
    }

    fn mutate(&self, p: &ResNetArch, rates: MutationRates, rng: &mut SearchRng) -> ResNetArch {
        let mut a = p.clone();
        if rng.random::<f64>() < rates.resolution {
            a.r = pick(rng, &self.resolutions);
        }
        if rng.random::<f64>() < rates.arch {
            a.d[0] = pick(rng, &[0, self.max_depth()]);
        }
        for i in 1..a.d.len() {
            if rng.random::<f64>() < rates.arch {
                a.d[i] = pick(rng, &self.depth_list);
            }
        }
        let nw = self.width_list.len() as u8;
        for i in 0..a.w.len() {
            if rng.random::<f64>() < rates.arch {
                a.w[i] = rng.random_range(0..nw);
            }
        }
        let ne = self.expand_list.len() as u8;
        for i in 0..a.e.len() {
            if rng.random::<f64>() < rates.arch {
                a.e[i] = rng.random_range(0..ne);
            }
        }
        a
    }

    fn crossover(&self, x: &ResNetArch, y: &ResNetArch, rng: &mut SearchRng) -> ResNetArch {
        ResNetArch {
            d: x.d
                .iter()
                .zip(&y.d)
                .map(|(&a, &b)| pick2(rng, a, b))
                .collect(),
            e: x.e
                .iter()
                .zip(&y.e)
                .map(|(&a, &b)| pick2(rng, a, b))
                .collect(),
            w: x.w
                .iter()
                .zip(&y.w)
                .map(|(&a, &b)| pick2(rng, a, b))
                .collect(),
            r: pick2(rng, x.r, y.r),
        }
    }

    fn to_json(&self, a: &ResNetArch) -> Value {
        a.to_json(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    /// The arch found by the OFA tutorial notebook (nas-ofa.md §1.10).
    pub(crate) fn tutorial_arch() -> MbArch {
        MbArch {
            ks: vec![5, 3, 3, 3, 5, 3, 3, 3, 7, 7, 3, 3, 5, 5, 7, 3, 3, 3, 5, 3],
            e: vec![3, 3, 3, 3, 4, 4, 3, 3, 6, 3, 4, 3, 4, 4, 4, 3, 6, 6, 6, 3],
            d: vec![2, 2, 3, 4, 3],
            r: 192,
        }
    }

    #[test]
    fn stage_widths_after_rounding() {
        let w12 = MbSpace::mbv3(1.2);
        assert_eq!((w12.stem, w12.first_block), (24, 24));
        assert_eq!(w12.widths, vec![32, 48, 96, 136, 192]);
        assert_eq!((w12.final_expand, w12.last_channel), (Some(1152), 1536));
        let w10 = MbSpace::mbv3(1.0);
        assert_eq!(w10.widths, vec![24, 40, 80, 112, 160]);
        let p = MbSpace::proxyless(1.3);
        assert_eq!((p.stem, p.first_block), (40, 24));
        assert_eq!(p.widths, vec![32, 56, 104, 128, 248, 416]);
        assert_eq!(p.last_channel, 1664);
        let r = ResNetSpace::default();
        let widths: Vec<Vec<u32>> = (0..4)
            .map(|s| (0..3).map(|w| r.stage_width(s, w)).collect())
            .collect();
        assert_eq!(
            widths,
            vec![
                vec![168, 208, 256],
                vec![336, 408, 512],
                vec![664, 816, 1024],
                vec![1328, 1640, 2048]
            ]
        );
        assert_eq!(
            (0..3).map(|w| r.stem_out(w)).collect::<Vec<_>>(),
            vec![40, 48, 64]
        );
        assert_eq!(
            (0..3).map(|w| r.stem_mid(w)).collect::<Vec<_>>(),
            vec![24, 24, 32]
        );
    }

    #[test]
    fn tutorial_subnet_macs() {
        // nas-ofa.md §1.10: 264.0M conv+FC MACs
        let space = MbSpace::mbv3(1.2);
        let net = space.net(&tutorial_arch());
        net.check().unwrap();
        assert_eq!((net.ofa_macs() as f64 / 1e6 * 10.0).round() / 10.0, 264.0);
        let g = net.graph(crate::nas::net::Precision::F32);
        g.validate().unwrap();
        assert_eq!(g.macs(), net.ofa_macs() as f64);
        assert_eq!(g.param_count(), net.params());
    }

    #[test]
    fn extreme_subnets_macs_and_params() {
        // nas-ofa.md §1.2 table (conv + FC): max and min subnets of each space
        let cases = [
            (MbSpace::mbv3(1.0), 128, 188.2, 41.5),
            (MbSpace::mbv3(1.0), 160, 291.3, 63.2),
            (MbSpace::mbv3(1.0), 224, 566.2, 121.3),
            (MbSpace::mbv3(1.2), 128, 280.0, 65.5),
            (MbSpace::mbv3(1.2), 160, 433.6, 100.3),
            (MbSpace::mbv3(1.2), 224, 843.1, 193.1),
            (MbSpace::proxyless(1.3), 128, 329.3, 87.8),
            (MbSpace::proxyless(1.3), 224, 1004.9, 265.5),
        ];
        for (space, r, max_m, min_m) in cases {
            let n = space.n_blocks();
            let max = MbArch {
                ks: vec![7; n],
                e: vec![6; n],
                d: vec![4; space.n_stages()],
                r,
            };
            let min = MbArch {
                ks: vec![3; n],
                e: vec![3; n],
                d: vec![2; space.n_stages()],
                r,
            };
            let m = |a: &MbArch| (space.net(a).ofa_macs() as f64 / 1e5).round() / 10.0;
            assert_eq!(m(&max), max_m, "{} max @{r}", space.name);
            assert_eq!(m(&min), min_m, "{} min @{r}", space.name);
        }
        let p = |s: &MbSpace, k, e, d| {
            let n = s.n_blocks();
            let a = MbArch {
                ks: vec![k; n],
                e: vec![e; n],
                d: vec![d; s.n_stages()],
                r: 224,
            };
            (s.net(&a).params() as f64 / 1e4).round() / 100.0
        };
        assert_eq!(p(&MbSpace::mbv3(1.0), 7, 6, 4), 7.62);
        assert_eq!(p(&MbSpace::mbv3(1.0), 3, 3, 2), 3.40);
        assert_eq!(p(&MbSpace::mbv3(1.2), 7, 6, 4), 10.65);
        assert_eq!(p(&MbSpace::mbv3(1.2), 3, 3, 2), 4.59);
        assert_eq!(p(&MbSpace::proxyless(1.3), 7, 6, 4), 7.88);
        assert_eq!(p(&MbSpace::proxyless(1.3), 3, 3, 2), 3.70);
    }

    #[test]
    fn resnet50d_from_the_space() {
        // nas-ofa.md §1.4: d=[2,1,2,2,1], e=0.25, w=1.0 → 4328.8M MACs, 25.52M params at 224
        let s = ResNetSpace::default();
        let a = ResNetArch {
            d: vec![2, 1, 2, 2, 1],
            e: vec![1; 18],
            w: vec![2; 6],
            r: 224,
        };
        let net = s.net(&a);
        net.check().unwrap();
        assert_eq!((net.ofa_macs() as f64 / 1e5).round() / 10.0, 4328.8);
        assert_eq!((net.params() as f64 / 1e4).round() / 100.0, 25.52);
        net.graph(crate::nas::net::Precision::F32)
            .validate()
            .unwrap();
        let max = ResNetArch {
            d: vec![2, 2, 2, 2, 2],
            e: vec![2; 18],
            w: vec![2; 6],
            r: 224,
        };
        let min = ResNetArch {
            d: vec![0, 0, 0, 0, 0],
            e: vec![0; 18],
            w: vec![0; 6],
            r: 224,
        };
        assert_eq!((s.net(&max).ofa_macs() as f64 / 1e5).round() / 10.0, 7491.6);
        assert_eq!((s.net(&max).params() as f64 / 1e5).round() / 10.0, 48.0);
        assert_eq!((s.net(&min).ofa_macs() as f64 / 1e5).round() / 10.0, 962.2);
        assert_eq!((s.net(&min).params() as f64 / 1e4).round() / 100.0, 6.52);
    }

    #[test]
    fn arch_dict_round_trips_in_both_forms() {
        let space = MbSpace::mbv3(1.2);
        let a = tutorial_arch();
        let lib = MbArch::from_json(&a.to_json(), &space, "t").unwrap();
        let tut = MbArch::from_json(&a.to_tutorial_json(), &space, "t").unwrap();
        assert_eq!(lib, a);
        assert_eq!(tut, a);
        // recovering the arch from its own net gives the same active genes
        let back = space.arch_from_net(&space.net(&a)).unwrap();
        assert_eq!(space.net(&back), space.net(&a));
        let rs = ResNetSpace::default();
        let mut rng = SearchRng::seed_from_u64(3);
        let r = rs.sample(&mut rng);
        assert_eq!(ResNetArch::from_json(&r.to_json(&rs), &rs, "t").unwrap(), r);
    }

    #[test]
    fn bad_arch_dicts_name_the_field() {
        let space = MbSpace::mbv3(1.2);
        let mut v = tutorial_arch().to_json();
        v["ks"][4] = json!(4);
        let e = MbArch::from_json(&v, &space, "arch.json")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("arch.json") && e.contains("ks[4]") && e.contains("[3, 5, 7]"),
            "{e}"
        );
        let e = MbArch::from_str("{\"ks\": [3]", &space, "a.json")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("a.json:1:"), "{e}");
        let mut v = tutorial_arch().to_json();
        v.as_object_mut().unwrap().remove("image_size");
        let e = MbArch::from_json(&v, &space, "x").unwrap_err().to_string();
        assert!(e.contains("image_size"), "{e}");
    }

    #[test]
    fn mutation_and_crossover_stay_in_the_space() {
        let space = MbSpace::mbv3(1.2);
        let mut rng = SearchRng::seed_from_u64(7);
        let rates = MutationRates {
            arch: 0.1,
            resolution: 0.5,
        };
        for _ in 0..200 {
            let a = space.sample(&mut rng);
            let b = space.sample(&mut rng);
            space
                .validate(&space.mutate(&a, rates, &mut rng), "m")
                .unwrap();
            let c = space.crossover(&a, &b, &mut rng);
            space.validate(&c, "c").unwrap();
            for i in 0..space.n_blocks() {
                assert!(c.ks[i] == a.ks[i] || c.ks[i] == b.ks[i]);
            }
            assert!(space.resolutions.contains(&c.r));
        }
    }
}
