//! OFA's `net.config` files (the released specialized nets and the ProxylessNAS configs):
//! `MobileNetV3` and `ProxylessNASNets` networks of `MobileInvertedResidualBlock`s, read into a
//! [`Net`]. The resolution comes from the sibling `run.config` (`image_size`) or the caller.
//!
//! Rules taken from OFA's layer classes: an MBConv's mid width is `mid_channels` when given,
//! else `round(in_channels · expand_ratio)`; an expand ratio of 1 means no expand conv; a block
//! whose conv is a `ZeroLayer` is skipped (its output is its input); `act_func` defaults to
//! `relu6` and `use_se` to false; a net with a `final_expand_layer` has the MBv3 head (pool, then
//! feature mix), otherwise the Proxyless head (feature mix, then pool).

use super::NasError;
use super::net::{Act, ClassifierSeg, ConvSeg, MbConvSeg, Net, Segment, py_round};
use serde::Deserialize;
use std::path::Path;

#[derive(Deserialize)]
struct ConvLayer {
    name: String,
    kernel_size: u8,
    stride: u8,
    #[serde(default = "one")]
    groups: u32,
    #[serde(default = "one")]
    dilation: u32,
    in_channels: u32,
    out_channels: u32,
    #[serde(default)]
    bias: bool,
    #[serde(default)]
    act_func: Option<String>,
}

fn one() -> u32 {
    1
}

#[derive(Deserialize)]
struct LinearLayer {
    in_features: u32,
    out_features: u32,
}

#[derive(Deserialize)]
struct Block {
    name: String,
    mobile_inverted_conv: serde_json::Value,
    #[serde(default)]
    shortcut: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct MbConvLayer {
    in_channels: u32,
    out_channels: u32,
    kernel_size: u8,
    stride: u8,
    expand_ratio: f64,
    #[serde(default)]
    mid_channels: Option<u32>,
    #[serde(default)]
    act_func: Option<String>,
    #[serde(default)]
    use_se: Option<bool>,
}

#[derive(Deserialize)]
struct NetConfig {
    name: String,
    first_conv: ConvLayer,
    blocks: Vec<Block>,
    #[serde(default)]
    final_expand_layer: Option<ConvLayer>,
    feature_mix_layer: ConvLayer,
    classifier: LinearLayer,
}

fn act(path: &str, field: &str, s: &Option<String>, default: Act) -> Result<Act, NasError> {
    match s {
        None => Ok(default),
        Some(n) => Act::parse(Some(n)).ok_or_else(|| {
            NasError::invalid(
                path,
                field,
                format!("activation `{n}` is not relu, relu6, h_swish or null"),
            )
        }),
    }
}

fn conv_seg(
    path: &str,
    field: &str,
    c: &ConvLayer,
    h: u32,
    default: Act,
) -> Result<ConvSeg, NasError> {
    if c.name != "ConvLayer" {
        return Err(NasError::invalid(
            path,
            field,
            format!("expected a ConvLayer, found `{}`", c.name),
        ));
    }
    if c.groups != 1 || c.dilation != 1 || c.kernel_size.is_multiple_of(2) || c.stride == 0 {
        return Err(NasError::invalid(
            path,
            field,
            "only odd kernels, groups 1, dilation 1 and stride ≥ 1 are supported",
        ));
    }
    Ok(ConvSeg {
        h,
        c_in: c.in_channels,
        c_out: c.out_channels,
        k: c.kernel_size,
        stride: c.stride,
        act: act(path, &format!("{field}.act_func"), &c.act_func, default)?,
        residual: false,
    })
}

/// One `MobileInvertedResidualBlock` (`blocks[i]`) on an input of `c` channels at `h`×`h`:
/// its MBConv segment, or `None` for a `ZeroLayer` block with an identity shortcut.
fn block_seg(
    path: &str,
    i: usize,
    b: &Block,
    c: u32,
    h: u32,
) -> Result<Option<MbConvSeg>, NasError> {
    let field = format!("blocks[{i}]");
    if b.name != "MobileInvertedResidualBlock" {
        return Err(NasError::invalid(
            path,
            &field,
            format!("`{}` is not a MobileInvertedResidualBlock", b.name),
        ));
    }
    let kind = b
        .mobile_inverted_conv
        .get("name")
        .and_then(|v| v.as_str())
        .unwrap_or("");
    let skip = match &b.shortcut {
        None | Some(serde_json::Value::Null) => false,
        Some(s) => match s.get("name").and_then(|v| v.as_str()) {
            Some("IdentityLayer") => true,
            other => {
                return Err(NasError::invalid(
                    path,
                    format!("{field}.shortcut"),
                    format!("expected IdentityLayer or null, found {other:?}"),
                ));
            }
        },
    };
    match kind {
        "ZeroLayer" => {
            if !skip {
                return Err(NasError::invalid(
                    path,
                    &field,
                    "a ZeroLayer block without shortcut zeroes the network",
                ));
            }
            return Ok(None);
        }
        "MBInvertedConvLayer" | "MBConvLayer" => {}
        other => {
            return Err(NasError::invalid(
                path,
                format!("{field}.mobile_inverted_conv.name"),
                format!("`{other}` is not MBInvertedConvLayer or ZeroLayer"),
            ));
        }
    }
    let m: MbConvLayer = serde_json::from_value(b.mobile_inverted_conv.clone()).map_err(|e| {
        NasError::invalid(path, format!("{field}.mobile_inverted_conv"), e.to_string())
    })?;
    if m.in_channels != c {
        return Err(NasError::invalid(
            path,
            format!("{field}.mobile_inverted_conv.in_channels"),
            format!(
                "{} but the previous layer gives {c} channels",
                m.in_channels
            ),
        ));
    }
    if m.kernel_size.is_multiple_of(2)
        || m.stride == 0
        || m.expand_ratio.is_nan()
        || m.expand_ratio < 1.0
    {
        return Err(NasError::invalid(
            path,
            &field,
            "expected an odd kernel, stride ≥ 1 and expand_ratio ≥ 1",
        ));
    }
    let expand = m.expand_ratio != 1.0;
    let mid = match m.mid_channels {
        Some(x) if expand => x,
        _ if expand => py_round(m.in_channels as f64 * m.expand_ratio) as u32,
        _ => m.in_channels,
    };
    let seg = MbConvSeg {
        h,
        c_in: m.in_channels,
        c_out: m.out_channels,
        mid,
        expand,
        k: m.kernel_size,
        stride: m.stride,
        se: m.use_se.unwrap_or(false),
        act: act(
            path,
            &format!("{field}.mobile_inverted_conv.act_func"),
            &m.act_func,
            Act::Relu6,
        )?,
        skip,
    };
    if skip && (seg.stride != 1 || seg.c_in != seg.c_out) {
        return Err(NasError::invalid(
            path,
            &field,
            "an identity shortcut needs stride 1 and in = out channels",
        ));
    }
    Ok(Some(seg))
}

/// Parses `net.config` text for input resolution `resolution`; `path` is used in errors.
pub fn parse_net_config(text: &str, resolution: u32, path: &str) -> Result<Net, NasError> {
    let cfg: NetConfig = serde_json::from_str(text).map_err(|e| NasError::json(path, &e))?;
    let default_act = match cfg.name.as_str() {
        "MobileNetV3" | "ProxylessNASNets" => Act::Relu6,
        other => {
            return Err(NasError::invalid(
                path,
                "name",
                format!("`{other}` is not supported; expected MobileNetV3 or ProxylessNASNets"),
            ));
        }
    };
    let mut net = Net::new(
        Path::new(path)
            .parent()
            .and_then(|p| p.file_name())
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| cfg.name.clone()),
        resolution,
    );
    let first = conv_seg(path, "first_conv", &cfg.first_conv, resolution, default_act)?;
    net.push("first_conv", Segment::Conv(first));
    let (mut c, mut h) = net.segments[0].output();
    for (i, b) in cfg.blocks.iter().enumerate() {
        let Some(seg) = block_seg(path, i, b, c, h)? else {
            continue;
        };
        net.push(format!("blocks.{i}"), Segment::MbConv(seg));
        (c, h) = net.segments.last().unwrap().output();
    }
    let mix_field;
    let classifier_in = match &cfg.final_expand_layer {
        Some(fe) => {
            let s = conv_seg(path, "final_expand_layer", fe, h, default_act)?;
            net.push("final_expand_layer", Segment::Conv(s));
            let fm = &cfg.feature_mix_layer;
            mix_field = Some((
                fm.out_channels,
                act(
                    path,
                    "feature_mix_layer.act_func",
                    &fm.act_func,
                    default_act,
                )?,
            ));
            if fm.in_channels != s.c_out || fm.kernel_size != 1 {
                return Err(NasError::invalid(
                    path,
                    "feature_mix_layer",
                    "expected a 1×1 conv on the final expand output",
                ));
            }
            s.c_out
        }
        None => {
            let s = conv_seg(
                path,
                "feature_mix_layer",
                &cfg.feature_mix_layer,
                h,
                default_act,
            )?;
            net.push("feature_mix_layer", Segment::Conv(s));
            mix_field = None;
            s.c_out
        }
    };
    let feat = mix_field.map_or(classifier_in, |(m, _)| m);
    if cfg.classifier.in_features != feat {
        return Err(NasError::invalid(
            path,
            "classifier.in_features",
            format!("{} but the head gives {feat}", cfg.classifier.in_features),
        ));
    }
    let h = net.segments.last().unwrap().output().1;
    net.push(
        "classifier",
        Segment::Classifier(ClassifierSeg {
            h,
            c_in: classifier_in,
            mix: mix_field,
            mix_bias: cfg.feature_mix_layer.bias,
            classes: cfg.classifier.out_features,
        }),
    );
    net.check()
        .map_err(|m| NasError::invalid(path, "blocks", m))?;
    Ok(net)
}

/// Reads a released specialized net: `dir/net.config` and `dir/run.config` (`image_size`).
pub fn load_specialized(dir: &Path) -> Result<Net, NasError> {
    let run_path = dir.join("run.config");
    let run: serde_json::Value = serde_json::from_str(&NasError::read(&run_path)?)
        .map_err(|e| NasError::json(run_path.display().to_string(), &e))?;
    let r = run
        .get("image_size")
        .and_then(|v| v.as_u64())
        .filter(|&r| r > 0 && r < 4096)
        .ok_or_else(|| {
            NasError::invalid(
                run_path.display().to_string(),
                "image_size",
                "expected a positive integer",
            )
        })?;
    load_net_config(&dir.join("net.config"), r as u32)
}

/// Reads a `net.config` file for input resolution `resolution`.
pub fn load_net_config(path: &Path, resolution: u32) -> Result<Net, NasError> {
    parse_net_config(
        &NasError::read(path)?,
        resolution,
        &path.display().to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_configs_get_clear_errors() {
        let e = parse_net_config("{\"name\": \"ResNets\"}", 224, "n.config")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("n.config:"), "{e}");
        let text = r#"{"name":"ResNet","first_conv":{"name":"ConvLayer","kernel_size":3,"stride":2,"in_channels":3,"out_channels":8},
            "blocks":[],"feature_mix_layer":{"name":"ConvLayer","kernel_size":1,"stride":1,"in_channels":8,"out_channels":16},
            "classifier":{"in_features":16,"out_features":10}}"#;
        let e = parse_net_config(text, 64, "n.config")
            .unwrap_err()
            .to_string();
        assert!(e.contains("`ResNet` is not supported"), "{e}");
        let ok = text.replace("\"ResNet\"", "\"ProxylessNASNets\"");
        let net = parse_net_config(&ok, 64, "n.config").unwrap();
        assert_eq!(
            net.ofa_macs(),
            32 * 32 * 3 * 8 * 9 + 32 * 32 * 8 * 16 + 16 * 10
        );
    }
}
