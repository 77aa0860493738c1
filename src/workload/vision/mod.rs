//! Vision networks and transformer encoders: builders for real networks (one file per family),
//! addressed by a model name with optional parameters, e.g. `mobilenetv2?width=0.75&res=160`,
//! and networks imported from ONNX files ([`crate::workload::onnx`]).
//!
//! Every builder produces a [`Graph`] of one forward pass at a given batch under a
//! [`QuantScheme`]: each activation is produced by exactly one op and read by the ops that use
//! it, in a valid execution order, with branches, residual adds, skip connections,
//! squeeze-excitation and classifier heads as in the reference implementation named in each
//! module. See [`net`] for the conventions on batch norm (folded by default, `bn=separate` keeps
//! it), weight layout and dtypes.
//!
//! Parameters (only those a family defines are accepted):
//! * `width`: width multiplier (MobileNets, MnasNet);
//! * `res`: input resolution (image side; U-Net tile side);
//! * `classes`: classifier outputs (detection classes for YOLO, segmentation maps for U-Net);
//! * `bn`: `folded` (default) or `separate`, for networks with batch norm;
//! * `channels`: input channels (U-Net);
//! * `seq`: tokens per sequence (BERT).

pub mod efficientnet;
pub mod inception;
pub mod mobilenet;
pub mod net;
pub mod resnet;
pub mod squeezenet;
pub mod tiny;
pub mod transformer;
pub mod unet;
pub mod yolo;

pub use super::error::OnnxError;
/// The ONNX importer, which now lives in [`crate::workload::onnx`]; re-exported here so that
/// `workload::vision::onnx` paths keep working.
#[cfg(feature = "onnx")]
pub use super::onnx;
#[cfg(feature = "onnx")]
pub use super::onnx::OnnxModel;
pub use super::sample::Sample;
pub use net::{BnMode, ShapeError};

use super::error::ModelError;
use super::graph::Graph;
use super::quant::QuantScheme;
use net::Net;
use serde::Serialize;
#[cfg(feature = "onnx")]
use std::sync::Arc;
use transformer::EncoderShape;

/// The built-in architectures.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Arch {
    /// MobileNetV1.
    MobileNetV1,
    /// MobileNetV2.
    MobileNetV2,
    /// MobileNetV3-Large.
    MobileNetV3Large,
    /// MobileNetV3-Small.
    MobileNetV3Small,
    /// MnasNet-A1.
    MnasNetA1,
    /// EfficientNet-B0 … B7 (the index).
    EfficientNet(u8),
    /// ResNet of this depth.
    ResNet(u32),
    /// SqueezeNet 1.1.
    SqueezeNet11,
    /// Inception-v3.
    InceptionV3,
    /// The original U-Net.
    UNet,
    /// YOLOv3-tiny.
    YoloV3Tiny,
    /// The EEMBC ResNet-8 of MLPerf Tiny image classification.
    ResNet8,
    /// DS-CNN of MLPerf Tiny keyword spotting (49×10 MFCC input).
    DsCnn,
    /// The dense autoencoder of MLPerf Tiny anomaly detection (640 inputs).
    FcAutoencoder,
    /// A Vision Transformer (ViT or DeiT) with this patch size.
    Vit {
        /// Encoder shape.
        #[serde(skip)]
        shape: EncoderShape,
        /// Patch side.
        patch: u64,
    },
    /// BERT.
    Bert {
        /// Encoder shape.
        #[serde(skip)]
        shape: EncoderShape,
    },
}

/// A built-in family: its canonical name, architecture, accepted parameters, defaults and source.
#[derive(Clone, Copy, Debug)]
pub struct FamilyInfo {
    /// Canonical name, e.g. `mobilenetv3-large`.
    pub name: &'static str,
    /// Architecture.
    pub arch: Arch,
    /// Accepted parameter keys.
    pub keys: &'static [&'static str],
    /// Default input resolution (0 for BERT).
    pub res: u64,
    /// Paper and reference implementation the builder follows.
    pub source: &'static str,
}

const MOBILE_KEYS: &[&str] = &["width", "res", "classes", "bn"];
const BN_KEYS: &[&str] = &["res", "classes", "bn"];
const PLAIN_KEYS: &[&str] = &["res", "classes"];

macro_rules! fam {
    ($name:expr, $arch:expr, $keys:expr, $res:expr, $src:expr) => {
        FamilyInfo {
            name: $name,
            arch: $arch,
            keys: $keys,
            res: $res,
            source: $src,
        }
    };
}

/// Every built-in family.
pub const FAMILIES: &[FamilyInfo] = &[
    fam!(
        "mobilenetv1",
        Arch::MobileNetV1,
        MOBILE_KEYS,
        224,
        "Howard et al. 2017; TF-slim mobilenet_v1"
    ),
    fam!(
        "mobilenetv2",
        Arch::MobileNetV2,
        MOBILE_KEYS,
        224,
        "Sandler et al. 2018; torchvision mobilenet_v2"
    ),
    fam!(
        "mobilenetv3-large",
        Arch::MobileNetV3Large,
        MOBILE_KEYS,
        224,
        "Howard et al. 2019; torchvision mobilenet_v3_large"
    ),
    fam!(
        "mobilenetv3-small",
        Arch::MobileNetV3Small,
        MOBILE_KEYS,
        224,
        "Howard et al. 2019; torchvision mobilenet_v3_small"
    ),
    fam!(
        "mnasnet-a1",
        Arch::MnasNetA1,
        MOBILE_KEYS,
        224,
        "Tan et al. 2019; TF tpu mnasnet_models.mnasnet_a1"
    ),
    fam!(
        "efficientnet-b0",
        Arch::EfficientNet(0),
        BN_KEYS,
        224,
        "Tan & Le 2019; torchvision efficientnet_b0"
    ),
    fam!(
        "efficientnet-b1",
        Arch::EfficientNet(1),
        BN_KEYS,
        240,
        "Tan & Le 2019; torchvision efficientnet_b1"
    ),
    fam!(
        "efficientnet-b2",
        Arch::EfficientNet(2),
        BN_KEYS,
        260,
        "Tan & Le 2019; torchvision efficientnet_b2"
    ),
    fam!(
        "efficientnet-b3",
        Arch::EfficientNet(3),
        BN_KEYS,
        300,
        "Tan & Le 2019; torchvision efficientnet_b3"
    ),
    fam!(
        "efficientnet-b4",
        Arch::EfficientNet(4),
        BN_KEYS,
        380,
        "Tan & Le 2019; torchvision efficientnet_b4"
    ),
    fam!(
        "efficientnet-b5",
        Arch::EfficientNet(5),
        BN_KEYS,
        456,
        "Tan & Le 2019; torchvision efficientnet_b5"
    ),
    fam!(
        "efficientnet-b6",
        Arch::EfficientNet(6),
        BN_KEYS,
        528,
        "Tan & Le 2019; torchvision efficientnet_b6"
    ),
    fam!(
        "efficientnet-b7",
        Arch::EfficientNet(7),
        BN_KEYS,
        600,
        "Tan & Le 2019; torchvision efficientnet_b7"
    ),
    fam!(
        "resnet18",
        Arch::ResNet(18),
        BN_KEYS,
        224,
        "He et al. 2016; torchvision resnet18"
    ),
    fam!(
        "resnet34",
        Arch::ResNet(34),
        BN_KEYS,
        224,
        "He et al. 2016; torchvision resnet34"
    ),
    fam!(
        "resnet50",
        Arch::ResNet(50),
        BN_KEYS,
        224,
        "He et al. 2016; torchvision resnet50 (v1.5)"
    ),
    fam!(
        "resnet101",
        Arch::ResNet(101),
        BN_KEYS,
        224,
        "He et al. 2016; torchvision resnet101 (v1.5)"
    ),
    fam!(
        "resnet152",
        Arch::ResNet(152),
        BN_KEYS,
        224,
        "He et al. 2016; torchvision resnet152 (v1.5)"
    ),
    fam!(
        "squeezenet1.1",
        Arch::SqueezeNet11,
        PLAIN_KEYS,
        224,
        "Iandola et al. 2016, v1.1; torchvision squeezenet1_1"
    ),
    fam!(
        "resnet8",
        Arch::ResNet8,
        BN_KEYS,
        32,
        "MLPerf Tiny image classification (Banbury et al. 2021); mlcommons/tiny keras_model.py resnet_v1_eembc"
    ),
    fam!(
        "ds-cnn",
        Arch::DsCnn,
        &["classes", "bn"],
        49,
        "MLPerf Tiny keyword spotting; DS-CNN small of Zhang et al. 2017 (Hello Edge), 49x10 MFCC input"
    ),
    fam!(
        "fc-autoencoder",
        Arch::FcAutoencoder,
        &[],
        1,
        "MLPerf Tiny anomaly detection; the DCASE 2020 task 2 baseline dense autoencoder (640 inputs)"
    ),
    fam!(
        "inception-v3",
        Arch::InceptionV3,
        BN_KEYS,
        299,
        "Szegedy et al. 2016; torchvision inception_v3 without the auxiliary head"
    ),
    fam!(
        "unet",
        Arch::UNet,
        &["res", "classes", "channels"],
        572,
        "Ronneberger et al. 2015, Figure 1 (unpadded, up-convolutions)"
    ),
    fam!(
        "yolov3-tiny",
        Arch::YoloV3Tiny,
        BN_KEYS,
        416,
        "Redmon & Farhadi 2018; darknet cfg/yolov3-tiny.cfg"
    ),
    fam!(
        "vit-b16",
        Arch::Vit {
            shape: transformer::VIT_B,
            patch: 16
        },
        PLAIN_KEYS,
        224,
        "Dosovitskiy et al. 2021; torchvision vit_b_16"
    ),
    fam!(
        "vit-b32",
        Arch::Vit {
            shape: transformer::VIT_B,
            patch: 32
        },
        PLAIN_KEYS,
        224,
        "Dosovitskiy et al. 2021; torchvision vit_b_32"
    ),
    fam!(
        "vit-l16",
        Arch::Vit {
            shape: transformer::VIT_L,
            patch: 16
        },
        PLAIN_KEYS,
        224,
        "Dosovitskiy et al. 2021; torchvision vit_l_16"
    ),
    fam!(
        "deit-tiny",
        Arch::Vit {
            shape: transformer::DEIT_TINY,
            patch: 16
        },
        PLAIN_KEYS,
        224,
        "Touvron et al. 2021; timm deit_tiny_patch16_224"
    ),
    fam!(
        "deit-small",
        Arch::Vit {
            shape: transformer::DEIT_SMALL,
            patch: 16
        },
        PLAIN_KEYS,
        224,
        "Touvron et al. 2021; timm deit_small_patch16_224"
    ),
    fam!(
        "bert-base",
        Arch::Bert {
            shape: transformer::BERT_BASE
        },
        &["seq"],
        0,
        "Devlin et al. 2019; Hugging Face bert-base-uncased BertModel"
    ),
    fam!(
        "bert-large",
        Arch::Bert {
            shape: transformer::BERT_LARGE
        },
        &["seq"],
        0,
        "Devlin et al. 2019; Hugging Face bert-large-uncased BertModel"
    ),
];

/// Default tokens per BERT sequence (the GLUE fine-tuning length of the BERT paper's
/// experiments; SQuAD used 384).
pub const DEFAULT_SEQ: u64 = 128;
/// Default classes of the image classifiers (ImageNet-1k).
pub const IMAGENET_CLASSES: u64 = 1000;
/// Default classes of ResNet-8 (CIFAR-10).
pub const CIFAR_CLASSES: u64 = 10;
/// Default classes of DS-CNN (Speech Commands: 10 words, silence and unknown).
pub const KWS_CLASSES: u64 = 12;
/// Default detection classes of YOLOv3-tiny (COCO).
pub const COCO_CLASSES: u64 = 80;
/// Default U-Net output maps and input channels (the paper's cell segmentation: 2 classes, grey).
pub const UNET_CLASSES: u64 = 2;
/// Default U-Net input channels.
pub const UNET_CHANNELS: u64 = 1;
/// Largest accepted resolution, to keep element counts far from overflow.
const MAX_RES: u64 = 8192;

/// Parameters of a built-in network.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct VisionParams {
    /// Width (or depth) multiplier.
    pub width: f64,
    /// Input resolution.
    pub res: u64,
    /// Output classes.
    pub classes: u64,
    /// Batch-norm handling.
    pub bn: BnMode,
    /// Input channels (U-Net).
    pub channels: u64,
    /// Tokens per sequence (BERT).
    pub seq: u64,
}

/// Where a vision model comes from.
#[derive(Clone, Debug)]
pub enum Source {
    /// A built-in family with parameters.
    Builtin {
        /// The family.
        family: FamilyInfo,
        /// Its parameters.
        params: VisionParams,
    },
    /// An imported ONNX graph.
    #[cfg(feature = "onnx")]
    Onnx(Arc<OnnxModel>),
}

/// A vision or encoder model that can be built at any batch and quantization.
#[derive(Clone, Debug)]
pub struct VisionModel {
    /// Canonical name, e.g. `mobilenetv2?width=0.75&res=160`.
    pub name: String,
    /// Where it comes from.
    pub source: Source,
}

fn squash(s: &str) -> String {
    s.chars()
        .filter(|c| !matches!(c, '-' | '_' | '.' | ' '))
        .flat_map(char::to_lowercase)
        .collect()
}

/// The family a model name (without parameters) refers to, ignoring case, `-`, `_` and `.`
/// (`MobileNet_V2`, `mobilenet-v2` and `mobilenetv2` are the same).
pub fn family(base: &str) -> Option<FamilyInfo> {
    let b = squash(base);
    FAMILIES.iter().copied().find(|f| squash(f.name) == b)
}

/// Canonical names of the built-in families.
pub fn known() -> Vec<&'static str> {
    FAMILIES.iter().map(|f| f.name).collect()
}

/// True when `name` (possibly with `?params`) names a built-in family.
pub fn is_builtin(name: &str) -> bool {
    family(name.split('?').next().unwrap_or("")).is_some()
}

impl VisionModel {
    /// Parses `family[?key=value&...]`.
    pub fn parse(text: &str) -> Result<VisionModel, ModelError> {
        let spec = |message: String| ModelError::Spec {
            name: text.to_string(),
            message,
        };
        let (base, query) = match text.split_once('?') {
            Some((b, q)) => (b, Some(q)),
            None => (text, None),
        };
        let fam = family(base).ok_or_else(|| {
            spec(format!(
                "unknown network `{base}`; built-in networks: {}",
                known().join(", ")
            ))
        })?;
        let (default_classes, default_channels) = match fam.arch {
            Arch::YoloV3Tiny => (COCO_CLASSES, 3),
            Arch::UNet => (UNET_CLASSES, UNET_CHANNELS),
            Arch::ResNet8 => (CIFAR_CLASSES, 3),
            Arch::DsCnn => (KWS_CLASSES, 1),
            _ => (IMAGENET_CLASSES, 3),
        };
        let mut p = VisionParams {
            width: 1.0,
            res: fam.res,
            classes: default_classes,
            bn: BnMode::Folded,
            channels: default_channels,
            seq: DEFAULT_SEQ,
        };
        let mut given = Vec::new();
        for kv in query.unwrap_or("").split('&').filter(|s| !s.is_empty()) {
            let (k, v) = kv
                .split_once('=')
                .ok_or_else(|| spec(format!("parameter `{kv}` is not key=value")))?;
            let k = k.trim().to_ascii_lowercase();
            let v = v.trim();
            if !fam.keys.contains(&k.as_str()) {
                return Err(spec(format!(
                    "`{}` has no parameter `{k}`; it accepts {}",
                    fam.name,
                    fam.keys.join(", ")
                )));
            }
            let int = |lo: u64, hi: u64| -> Result<u64, ModelError> {
                v.parse::<u64>()
                    .ok()
                    .filter(|x| (lo..=hi).contains(x))
                    .ok_or_else(|| {
                        spec(format!("`{k}={v}`: expected an integer from {lo} to {hi}"))
                    })
            };
            match k.as_str() {
                "width" => {
                    p.width = v
                        .parse::<f64>()
                        .ok()
                        .filter(|w| w.is_finite() && *w > 0.0 && *w <= 4.0)
                        .ok_or_else(|| spec(format!("`width={v}`: expected a number in (0, 4]")))?;
                    given.push(format!("width={}", p.width));
                }
                "res" => {
                    p.res = int(1, MAX_RES)?;
                    given.push(format!("res={}", p.res));
                }
                "classes" => {
                    p.classes = int(1, 1_000_000)?;
                    given.push(format!("classes={}", p.classes));
                }
                "channels" => {
                    p.channels = int(1, 1024)?;
                    given.push(format!("channels={}", p.channels));
                }
                "seq" => {
                    p.seq = int(1, transformer::BERT_MAX_POSITIONS)?;
                    given.push(format!("seq={}", p.seq));
                }
                "bn" => {
                    p.bn = match v.to_ascii_lowercase().as_str() {
                        "folded" | "fold" => BnMode::Folded,
                        "separate" | "sep" => BnMode::Separate,
                        _ => return Err(spec(format!("`bn={v}`: expected folded or separate"))),
                    };
                    given.push(format!(
                        "bn={}",
                        if p.bn == BnMode::Folded {
                            "folded"
                        } else {
                            "separate"
                        }
                    ));
                }
                _ => unreachable!("keys are checked against the family's list"),
            }
        }
        if let Arch::Vit { patch, .. } = fam.arch
            && p.res % patch != 0
        {
            return Err(spec(format!(
                "resolution {} is not a multiple of the {patch}-pixel patch",
                p.res
            )));
        }
        let name = if given.is_empty() {
            fam.name.to_string()
        } else {
            format!("{}?{}", fam.name, given.join("&"))
        };
        let m = VisionModel {
            name,
            source: Source::Builtin {
                family: fam,
                params: p,
            },
        };
        // Reject sizes the network cannot be built at now rather than when scoring.
        m.build(&QuantScheme::float(super::DType::F32), 1)?;
        Ok(m)
    }

    /// Imports an ONNX file; `dims` gives values to symbolic dimensions other than the batch.
    pub fn from_onnx_file(
        path: &std::path::Path,
        dims: &[(String, u64)],
    ) -> Result<VisionModel, ModelError> {
        #[cfg(feature = "onnx")]
        {
            let m = OnnxModel::from_file(path, dims)?;
            Ok(VisionModel {
                name: m.name.clone(),
                source: Source::Onnx(Arc::new(m)),
            })
        }
        #[cfg(not(feature = "onnx"))]
        {
            let _ = dims;
            Err(OnnxError::Model {
                path: path.display().to_string(),
                message: "this build of archscope has no ONNX import (enable the `onnx` feature)"
                    .into(),
            }
            .into())
        }
    }

    /// Images or sequences.
    pub fn sample(&self) -> Sample {
        match &self.source {
            Source::Builtin { family, .. } if matches!(family.arch, Arch::Bert { .. }) => {
                Sample::Sequence
            }
            Source::Builtin { .. } => Sample::Image,
            #[cfg(feature = "onnx")]
            Source::Onnx(m) => m.sample(),
        }
    }

    /// Family name (`onnx` for imports).
    pub fn family_name(&self) -> &str {
        match &self.source {
            Source::Builtin { family, .. } => family.name,
            #[cfg(feature = "onnx")]
            Source::Onnx(_) => "onnx",
        }
    }

    /// Builds one forward pass over `batch` samples under `quant`.
    pub fn build(&self, quant: &QuantScheme, batch: u64) -> Result<Graph, ModelError> {
        let (family, p) = match &self.source {
            Source::Builtin { family, params } => (family, params),
            #[cfg(feature = "onnx")]
            Source::Onnx(m) => return Ok(m.build(quant, batch)?),
        };
        let mut net = Net::new(
            format!("{} b{} {}", self.name, batch, quant.name),
            quant,
            batch,
            p.bn,
        );
        let outputs = match family.arch {
            Arch::MobileNetV1 => mobilenet::v1(&mut net, p.res, p.width, p.classes),
            Arch::MobileNetV2 => mobilenet::v2(&mut net, p.res, p.width, p.classes),
            Arch::MobileNetV3Large => mobilenet::v3(&mut net, true, p.res, p.width, p.classes),
            Arch::MobileNetV3Small => mobilenet::v3(&mut net, false, p.res, p.width, p.classes),
            Arch::MnasNetA1 => efficientnet::mnasnet_a1(&mut net, p.res, p.width, p.classes),
            Arch::EfficientNet(b) => {
                let (w, d, _) = efficientnet::EFFICIENTNET_COEFFS[b as usize];
                efficientnet::efficientnet(&mut net, p.res, w, d, p.classes)
            }
            Arch::ResNet(depth) => resnet::resnet(&mut net, depth, p.res, p.classes),
            Arch::SqueezeNet11 => squeezenet::squeezenet11(&mut net, p.res, p.classes),
            Arch::InceptionV3 => inception::inception_v3(&mut net, p.res, p.classes),
            Arch::UNet => unet::unet(&mut net, p.res, p.channels, p.classes),
            Arch::YoloV3Tiny => yolo::yolov3_tiny(&mut net, p.res, p.classes),
            Arch::ResNet8 => tiny::resnet8(&mut net, p.res, p.classes),
            Arch::DsCnn => tiny::ds_cnn(&mut net, p.classes),
            Arch::FcAutoencoder => tiny::fc_autoencoder(&mut net),
            Arch::Vit { shape, patch } => {
                transformer::vit(&mut net, shape, patch, p.res, p.classes)
            }
            Arch::Bert { shape } => transformer::bert(&mut net, shape, p.seq),
        }
        .map_err(|e| ModelError::Spec {
            name: self.name.clone(),
            message: e.to_string(),
        })?;
        Ok(net.finish(&outputs))
    }

    /// A JSON description for `models show`: family, source, parameters, input, and the
    /// parameter, MAC and FLOP counts of one sample at fp32 (built at batch 1, or at the batch an
    /// ONNX file fixes, then divided by it).
    pub fn describe(&self) -> Result<serde_json::Value, ModelError> {
        let batch = match &self.source {
            #[cfg(feature = "onnx")]
            Source::Onnx(m) => m.fixed_batch().unwrap_or(1),
            Source::Builtin { .. } => 1,
        };
        let g = self.build(&QuantScheme::float(super::DType::F32), batch)?;
        let inputs: Vec<serde_json::Value> = g
            .tensors
            .iter()
            .filter(|t| t.role == super::Role::Input)
            .map(
                |t| serde_json::json!({"name": t.name, "shape": t.shape, "dtype": t.storage.dtype}),
            )
            .collect();
        let outputs: Vec<serde_json::Value> = g
            .tensors
            .iter()
            .filter(|t| t.role == super::Role::Output)
            .map(|t| serde_json::json!({"name": t.name, "shape": t.shape}))
            .collect();
        let mut v = serde_json::json!({
            "name": self.name,
            "family": self.family_name(),
            "sample": self.sample(),
            "params": g.param_count(),
            "macs_per_sample": g.macs() / batch as f64,
            "flops_per_sample": g.flops() / batch as f64,
            "ops": g.ops.len(),
            "inputs": inputs,
            "outputs": outputs,
        });
        match &self.source {
            Source::Builtin { family, params } => {
                v["source"] = family.source.into();
                v["config"] = serde_json::to_value(params).unwrap_or_default();
            }
            #[cfg(feature = "onnx")]
            Source::Onnx(m) => {
                v["source"] = m.path.clone().into();
            }
        }
        Ok(v)
    }
}
