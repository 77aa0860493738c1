//! The OFA ResNet50 space (`ofa_resnet50`, OFA `OFAResNets`, ResNet50-D): its subnets
//! ([`ResNetArch`], OFA's `{d, e, w, image_size}` arch dict), the lowering of a subnet to a
//! [`Net`], and sampling, mutation and crossover.

use super::super::NasError;
use super::super::net::{
    Act, BottleneckSeg, CHANNEL_DIVISIBLE, ClassifierSeg, ConvSeg, IMAGENET_CLASSES, MaxPoolSeg,
    Net, Segment, make_divisible, py_round,
};
use super::{MutationRates, SearchRng, SearchSpace, cross, int_list, pick, pick2, resolution};
use rand::Rng;
use serde::Serialize;
use serde_json::{Value, json};

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
            d: cross(rng, &x.d, &y.d),
            e: cross(rng, &x.e, &y.e),
            w: cross(rng, &x.w, &y.w),
            r: pick2(rng, x.r, y.r),
        }
    }

    fn to_json(&self, a: &ResNetArch) -> Value {
        a.to_json(self)
    }
}
