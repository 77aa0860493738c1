//! The OFA MobileNet-like spaces: `ofa_mbv3_d234_e346_k357_w1.0` / `_w1.2` (OFA
//! `OFAMobileNetV3`) and `ofa_proxyless_d234_e346_k357_w1.3` (OFA `OFAProxylessNASNets`), their
//! subnets ([`MbArch`], OFA's `{ks, e, d, image_size}` arch dict, also read in the tutorial form
//! `{wid: null, ks, e, d, r: [res]}`), the lowering of a subnet to a [`Net`] and back, and
//! sampling, mutation and crossover.

use super::super::NasError;
use super::super::net::{
    Act, CHANNEL_DIVISIBLE, ClassifierSeg, ConvSeg, IMAGENET_CLASSES, MbConvSeg, Net, Segment,
    make_divisible, py_round,
};
use super::{
    MutationRates, SearchRng, SearchSpace, TUTORIAL_RESOLUTIONS, cross, int_list,
    paper_resolutions, pick, pick2, resolution,
};
use rand::Rng;
use serde::Serialize;
use serde_json::{Value, json};

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
            ks: cross(rng, &x.ks, &y.ks),
            e: cross(rng, &x.e, &y.e),
            d: cross(rng, &x.d, &y.d),
            r: pick2(rng, x.r, y.r),
        }
    }

    fn to_json(&self, a: &MbArch) -> Value {
        a.to_json()
    }
}
