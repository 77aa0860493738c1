//! Workload layers (convolutions and GEMMs), their lowering to the GEMM that a systolic array
//! executes, and readers for SCALE-Sim's two topology CSV formats.
//!
//! **Conv format** (SCALE-Sim's default input), one header line then one layer per line:
//! `Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter,
//! Strides,` with an optional ninth `N:M` sparsity field (only `1:1`, i.e. dense, is accepted).
//!
//! **GEMM format** (SCALE-Sim's `-i gemm`): `Layer, M, N, K,` with the same optional field.
//! SCALE-Sim lowers GEMM row `(M, N, K)` to the conv layer `ifmap M × K, filter 1 × K,
//! 1 channel, N filters, stride 1`; [`Layer::gemm_dims`] gives the same lowering.
//!
//! Conventions copied from SCALE-Sim's reader (`topology_utils.py`, v3.0.0) so that the same
//! file yields the same layer list:
//! - the first line is a header and is skipped whatever it contains; blank lines are skipped;
//! - every row ends with a comma: the text after the last comma is ignored (SCALE-Sim drops
//!   it; some of its files put a comment there, e.g. `...,1,#dw`); a row that lacks the
//!   final comma therefore loses its last field and is reported as too short, with a hint;
//! - a conv layer whose name contains `DP` is a depthwise layer: it is expanded into one layer
//!   per channel, named `<name>Channel_<i>`, each with 1 channel and the row's filter count
//!   (at most [`MAX_DP_CHANNELS`] channels per row and [`MAX_TOPOLOGY_LAYERS`] layers in all);
//! - the ofmap size is `ceil((H - Fh + S) / S)` (no padding): give pre-padded input sizes.
//!   Note that this ceiling convention counts a last, partially out-of-range window when
//!   `(H - Fh)` is not a multiple of `S`.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::error::SystolicError;

/// Largest accepted MAC count of one layer (2^56). A guard so that every derived count of
/// the model (each at most a few times the MAC count, e.g. DRAM words ≤ 6·MACs) times the word
/// size ([`super::MAX_WORD_BYTES`]) fits in `u64`. Far beyond real layers: a 12288 × 49152
/// GPT-3 projection over 2048 tokens is about 2^40 MACs.
pub const MAX_LAYER_MACS: u64 = 1 << 56;

/// Most channels of one depthwise (`DP`) row, which SCALE-Sim's convention expands into one layer
/// per channel: the widest depthwise layers of published CNNs have a few thousand channels
/// (EfficientNet-B7 3,840, ConvNeXt-XL 2,048); 65,536 is 17× the widest, and its 65,536 layers
/// price in well under a second.
pub const MAX_DP_CHANNELS: u64 = 1 << 16;

/// Most layers a topology file may yield once depthwise rows are expanded: a whole expanded
/// EfficientNet-B7 has fewer than 10^5; 262,144 layers keep the layer list and the per-layer
/// report to a few hundred MB.
pub const MAX_TOPOLOGY_LAYERS: usize = 1 << 18;

/// A convolution layer as SCALE-Sim describes it (no padding, no batch, no groups).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConvShape {
    /// Input feature map height (already padded).
    pub ifmap_h: u64,
    /// Input feature map width (already padded).
    pub ifmap_w: u64,
    /// Filter height.
    pub filter_h: u64,
    /// Filter width.
    pub filter_w: u64,
    /// Input channels.
    pub channels: u64,
    /// Number of filters (output channels).
    pub num_filters: u64,
    /// Vertical stride.
    pub stride_h: u64,
    /// Horizontal stride.
    pub stride_w: u64,
}

/// A matrix multiplication `(M × K) · (K × N)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct GemmShape {
    /// Rows of the input / output (ofmap pixels in conv terms).
    pub m: u64,
    /// Columns of the output (filters).
    pub n: u64,
    /// Reduction dimension (convolution window size).
    pub k: u64,
}

/// The shape of a layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LayerShape {
    /// A convolution.
    Conv(ConvShape),
    /// A GEMM.
    Gemm(GemmShape),
}

/// A named layer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Layer {
    /// Layer name.
    pub name: String,
    /// Layer shape.
    pub shape: LayerShape,
}

/// The GEMM a layer lowers to (im2col), plus its unique operand footprints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoweredGemm {
    /// Output pixels per filter (`Eh · Ew`, or `M`).
    pub m: u64,
    /// Filters (`N`).
    pub n: u64,
    /// Window size (`Fh · Fw · C`, or `K`).
    pub k: u64,
    /// Distinct ifmap words the layer touches (the ifmap data that must come from DRAM at
    /// least once). For a conv this counts only input rows/columns covered by some window.
    pub ifmap_words: u64,
}

impl LoweredGemm {
    /// Multiply-accumulate operations: `M · N · K`.
    pub fn macs(&self) -> u64 {
        self.m * self.n * self.k
    }
    /// Distinct filter words: `K · N`.
    pub fn filter_words(&self) -> u64 {
        self.k * self.n
    }
    /// Distinct ofmap words: `M · N`.
    pub fn ofmap_words(&self) -> u64 {
        self.m * self.n
    }
}

/// Input extent covered by `e` windows of size `f` at stride `s`, capped at the input size.
fn touched(input: u64, e: u64, f: u64, s: u64) -> u64 {
    let span = if s >= f { e * f } else { (e - 1) * s + f };
    span.min(input)
}

impl Layer {
    /// A convolution with the same stride in both directions (SCALE-Sim's single `Strides`).
    #[allow(clippy::too_many_arguments)]
    pub fn conv(
        name: impl Into<String>,
        ifmap_h: u64,
        ifmap_w: u64,
        filter_h: u64,
        filter_w: u64,
        channels: u64,
        num_filters: u64,
        stride: u64,
    ) -> Result<Self, SystolicError> {
        let l = Layer {
            name: name.into(),
            shape: LayerShape::Conv(ConvShape {
                ifmap_h,
                ifmap_w,
                filter_h,
                filter_w,
                channels,
                num_filters,
                stride_h: stride,
                stride_w: stride,
            }),
        };
        l.validate()?;
        Ok(l)
    }

    /// A GEMM `(M × K) · (K × N)`.
    pub fn gemm(name: impl Into<String>, m: u64, n: u64, k: u64) -> Result<Self, SystolicError> {
        let l = Layer {
            name: name.into(),
            shape: LayerShape::Gemm(GemmShape { m, n, k }),
        };
        l.validate()?;
        Ok(l)
    }

    fn invalid(&self, message: String) -> SystolicError {
        SystolicError::InvalidLayer {
            layer: self.name.clone(),
            message,
        }
    }

    /// Checks dimensions: all positive, filter no larger than the ifmap, and the MAC count at
    /// most [`MAX_LAYER_MACS`].
    pub fn validate(&self) -> Result<(), SystolicError> {
        let dims: Vec<(&str, u64)> = match &self.shape {
            LayerShape::Conv(c) => vec![
                ("ifmap height", c.ifmap_h),
                ("ifmap width", c.ifmap_w),
                ("filter height", c.filter_h),
                ("filter width", c.filter_w),
                ("channels", c.channels),
                ("num filters", c.num_filters),
                ("stride height", c.stride_h),
                ("stride width", c.stride_w),
            ],
            LayerShape::Gemm(g) => vec![("M", g.m), ("N", g.n), ("K", g.k)],
        };
        for (what, v) in dims {
            if v == 0 {
                return Err(self.invalid(format!("{what} must be at least 1, found 0")));
            }
        }
        if let LayerShape::Conv(c) = &self.shape {
            if c.filter_h > c.ifmap_h {
                return Err(self.invalid(format!(
                    "filter height {} exceeds ifmap height {}",
                    c.filter_h, c.ifmap_h
                )));
            }
            if c.filter_w > c.ifmap_w {
                return Err(self.invalid(format!(
                    "filter width {} exceeds ifmap width {}",
                    c.filter_w, c.ifmap_w
                )));
            }
        }
        let too_big = || {
            self.invalid(format!(
                "more than {MAX_LAYER_MACS} multiply-accumulates; not supported"
            ))
        };
        let (m, n, k) = self.raw_mnk();
        let macs = m
            .checked_mul(n)
            .and_then(|x| x.checked_mul(k))
            .ok_or_else(too_big)?;
        if macs > MAX_LAYER_MACS {
            return Err(too_big());
        }
        Ok(())
    }

    /// (M, N, K) without validation (dimensions assumed positive, products may not overflow
    /// only after `validate`).
    fn raw_mnk(&self) -> (u64, u64, u64) {
        match &self.shape {
            LayerShape::Conv(c) => {
                let eh = (c.ifmap_h - c.filter_h).div_ceil(c.stride_h) + 1;
                let ew = (c.ifmap_w - c.filter_w).div_ceil(c.stride_w) + 1;
                (
                    eh.saturating_mul(ew),
                    c.num_filters,
                    c.filter_h
                        .saturating_mul(c.filter_w)
                        .saturating_mul(c.channels),
                )
            }
            LayerShape::Gemm(g) => (g.m, g.n, g.k),
        }
    }

    /// Ofmap height and width (`ceil((H - F + S) / S)`, SCALE-Sim's convention); `(M, 1)` for
    /// a GEMM, as in SCALE-Sim's lowering.
    pub fn ofmap_dims(&self) -> (u64, u64) {
        match &self.shape {
            LayerShape::Conv(c) => (
                (c.ifmap_h - c.filter_h).div_ceil(c.stride_h) + 1,
                (c.ifmap_w - c.filter_w).div_ceil(c.stride_w) + 1,
            ),
            LayerShape::Gemm(g) => (g.m, 1),
        }
    }

    /// The GEMM this layer lowers to. Call [`Layer::validate`] first: on an invalid layer the
    /// values are meaningless (but this never panics on a validated layer).
    pub fn gemm_dims(&self) -> LoweredGemm {
        let (m, n, k) = self.raw_mnk();
        let ifmap_words = match &self.shape {
            LayerShape::Conv(c) => {
                let (eh, ew) = self.ofmap_dims();
                touched(c.ifmap_h, eh, c.filter_h, c.stride_h)
                    * touched(c.ifmap_w, ew, c.filter_w, c.stride_w)
                    * c.channels
            }
            LayerShape::Gemm(g) => g.m * g.k,
        };
        LoweredGemm {
            m,
            n,
            k,
            ifmap_words,
        }
    }
}

/// Which of SCALE-Sim's two topology formats a file uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TopologyFormat {
    /// Conv rows: name, ifmap h, ifmap w, filter h, filter w, channels, filters, stride.
    Conv,
    /// GEMM rows (`-i gemm`): name, M, N, K.
    Gemm,
}

/// Reads a conv-format topology CSV file.
pub fn read_conv_topology(path: impl AsRef<Path>) -> Result<Vec<Layer>, SystolicError> {
    read_topology(path, TopologyFormat::Conv)
}

/// Reads a GEMM-format (`-i gemm`) topology CSV file.
pub fn read_gemm_topology(path: impl AsRef<Path>) -> Result<Vec<Layer>, SystolicError> {
    read_topology(path, TopologyFormat::Gemm)
}

/// Reads a topology CSV file in the given format.
pub fn read_topology(
    path: impl AsRef<Path>,
    format: TopologyFormat,
) -> Result<Vec<Layer>, SystolicError> {
    let path = path.as_ref();
    let text = std::fs::read_to_string(path).map_err(|source| SystolicError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    parse_topology(&text, &path.display().to_string(), format)
}

/// Parses conv-format topology text; `file` names it in errors.
pub fn parse_conv_topology(text: &str, file: &str) -> Result<Vec<Layer>, SystolicError> {
    parse_topology(text, file, TopologyFormat::Conv)
}

/// Parses GEMM-format topology text; `file` names it in errors.
pub fn parse_gemm_topology(text: &str, file: &str) -> Result<Vec<Layer>, SystolicError> {
    parse_topology(text, file, TopologyFormat::Gemm)
}

const CONV_FIELDS: [&str; 7] = [
    "IFMAP Height",
    "IFMAP Width",
    "Filter Height",
    "Filter Width",
    "Channels",
    "Num Filter",
    "Strides",
];
const GEMM_FIELDS: [&str; 3] = ["M", "N", "K"];

/// Parses topology text in the given format; `file` names it in errors.
pub fn parse_topology(
    text: &str,
    file: &str,
    format: TopologyFormat,
) -> Result<Vec<Layer>, SystolicError> {
    let names: &[&str] = match format {
        TopologyFormat::Conv => &CONV_FIELDS,
        TopologyFormat::Gemm => &GEMM_FIELDS,
    };
    let expected_cols = format!("`name, {}` (optionally `, N:M`)", names.join(", "));
    let mut layers = Vec::new();
    let mut lines = text.lines().enumerate();
    // SCALE-Sim skips the first line unconditionally (header).
    if lines.next().is_none() {
        return Err(SystolicError::Parse {
            file: file.to_string(),
            line: 1,
            message: "expected a header line, found an empty file".into(),
        });
    }
    // SCALE-Sim splits rows on commas without quoting rules; so does this reader.
    for (idx, text_line) in lines {
        let line = idx as u64 + 1;
        let perr = |message: String| SystolicError::Parse {
            file: file.to_string(),
            line,
            message,
        };
        if text_line.trim().is_empty() {
            continue;
        }
        let mut fields: Vec<&str> = text_line.split(',').map(str::trim).collect();
        // SCALE-Sim ignores the text after the last comma (`row.split(',')[:-1]`): rows end
        // with a comma, and some of its files put a comment there (`...,1,#dw`).
        let after_last_comma = fields.pop().unwrap_or("");
        while fields.last().is_some_and(|f| f.is_empty()) {
            fields.pop();
        }
        if fields.is_empty() && after_last_comma.is_empty() {
            continue; // a row of bare commas
        }
        if fields.len() != names.len() + 1 && fields.len() != names.len() + 2 {
            let hint = if after_last_comma.is_empty() {
                String::new()
            } else {
                format!(
                    "; the text after the last comma (`{after_last_comma}`) is ignored, as \
                     SCALE-Sim does: end every row with a comma"
                )
            };
            return Err(perr(format!(
                "expected {} fields {expected_cols} before the last comma, found {}{hint}",
                names.len() + 1,
                fields.len()
            )));
        }
        let name = fields[0];
        if name.is_empty() {
            return Err(perr(
                "field `Layer name`: expected a name, found nothing".into(),
            ));
        }
        let mut vals = Vec::with_capacity(names.len());
        for (field, what) in fields[1..=names.len()].iter().zip(names) {
            let v: u64 = field.parse().map_err(|_| {
                perr(format!(
                    "field `{what}`: expected a positive integer, found `{field}`"
                ))
            })?;
            if v == 0 {
                return Err(perr(format!(
                    "field `{what}`: expected a positive integer, found `0`"
                )));
            }
            vals.push(v);
        }
        if let Some(ratio) = fields.get(names.len() + 1) {
            check_dense_ratio(ratio).map_err(perr)?;
        }
        let to_err = |e: SystolicError| perr(e.to_string());
        let dp = format == TopologyFormat::Conv && name.contains("DP");
        if dp && vals[4] > MAX_DP_CHANNELS {
            return Err(perr(format!(
                "field `Channels`: a depthwise (`DP`) layer is expanded into one layer per \
                 channel; expected at most {MAX_DP_CHANNELS} channels, found {}",
                vals[4]
            )));
        }
        let adds = if dp { vals[4] as usize } else { 1 };
        if layers.len() + adds > MAX_TOPOLOGY_LAYERS {
            return Err(perr(format!(
                "the file yields more than {MAX_TOPOLOGY_LAYERS} layers (depthwise rows count \
                 one layer per channel); split it into smaller files"
            )));
        }
        match format {
            TopologyFormat::Gemm => {
                layers.push(Layer::gemm(name, vals[0], vals[1], vals[2]).map_err(to_err)?);
            }
            TopologyFormat::Conv => {
                let [h, w, fh, fw, c, n, s] = vals[..] else {
                    unreachable!("seven conv fields checked above")
                };
                if dp {
                    for ch in 0..c {
                        let l = Layer::conv(format!("{name}Channel_{ch}"), h, w, fh, fw, 1, n, s)
                            .map_err(to_err)?;
                        layers.push(l);
                    }
                } else {
                    layers.push(Layer::conv(name, h, w, fh, fw, c, n, s).map_err(to_err)?);
                }
            }
        }
    }
    Ok(layers)
}

/// Accepts only the dense sparsity ratio `1:1` (N:M structured sparsity is not modelled).
fn check_dense_ratio(ratio: &str) -> Result<(), String> {
    let parsed = ratio
        .split_once(':')
        .and_then(|(a, b)| Some((a.trim().parse::<u64>().ok()?, b.trim().parse::<u64>().ok()?)));
    match parsed {
        Some((a, b)) if a == b && a > 0 => Ok(()),
        Some(_) => Err(format!(
            "field `sparsity`: only dense layers (`1:1`) are modelled, found `{ratio}`"
        )),
        None => Err(format!(
            "field `sparsity`: expected an `N:M` ratio, found `{ratio}`"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ofmap_uses_scalesim_ceiling_convention() {
        // H=16, F=2, S=4: ceil((16-2+4)/4) = ceil(4.5) = 5 (the usual floor formula gives 4).
        let l = Layer::conv("x", 16, 16, 2, 2, 3, 5, 4).unwrap();
        assert_eq!(l.ofmap_dims(), (5, 5));
        // H=11, W=13, F=3, S=2: ceil(10/2)=5, ceil(12/2)=6.
        let l = Layer::conv("x", 11, 13, 3, 3, 5, 7, 2).unwrap();
        assert_eq!(l.ofmap_dims(), (5, 6));
        let g = l.gemm_dims();
        assert_eq!((g.m, g.n, g.k), (30, 7, 45));
        // Rows touched (5-1)*2+3 = 11, cols (6-1)*2+3 = 13 -> 11*13*5 words.
        assert_eq!(g.ifmap_words, 11 * 13 * 5);
    }

    #[test]
    fn touched_ifmap_skips_gaps_and_caps_at_input() {
        // stride 4 > filter 2: 5 windows of 2 rows = 10 rows per direction (the 5th window
        // overhangs H=16, as SCALE-Sim's ceiling convention counts it; 10 < 16, no cap).
        let l = Layer::conv("x", 16, 16, 2, 2, 3, 5, 4).unwrap();
        assert_eq!(l.gemm_dims().ifmap_words, 10 * 10 * 3);
        // H=17, F=5, S=3: 5 windows span (5-1)*3+5 = 17 rows.
        let l = Layer::conv("x", 17, 15, 5, 5, 3, 10, 3).unwrap();
        // W=15: ceil(10/3)+1 = 5 windows span 17 > 15 -> capped at 15.
        assert_eq!(l.gemm_dims().ifmap_words, 17 * 15 * 3);
    }

    #[test]
    fn gemm_lowering_matches_scalesim() {
        let l = Layer::gemm("g", 64, 256, 128).unwrap();
        let g = l.gemm_dims();
        assert_eq!((g.m, g.n, g.k, g.ifmap_words), (64, 256, 128, 64 * 128));
        assert_eq!(g.macs(), 2_097_152);
    }

    #[test]
    fn parses_conv_with_dp_expansion_and_text_after_last_comma() {
        let text = "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\n\
                    a, 10, 10, 3, 3, 8, 16, 1,\n\
                    \n\
                    DP_b, 12, 12, 3, 3, 3, 1, 1,\n\
                    c, 5, 5, 1, 1, 3, 70, 1, 1:1,\n\
                    d, 5, 5, 1, 1, 3, 70, 2,#comment after the last comma\n";
        let ls = parse_conv_topology(text, "t.csv").unwrap();
        let names: Vec<&str> = ls.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "a",
                "DP_bChannel_0",
                "DP_bChannel_1",
                "DP_bChannel_2",
                "c",
                "d"
            ]
        );
        let LayerShape::Conv(c) = ls[2].shape else {
            panic!()
        };
        assert_eq!((c.channels, c.num_filters), (1, 1));
        let LayerShape::Conv(d) = ls[5].shape else {
            panic!()
        };
        assert_eq!((d.stride_h, d.stride_w), (2, 2));
    }

    #[test]
    fn parses_gemm() {
        let ls = parse_gemm_topology("Layer, M, N, K,\nx, 3, 5, 7,\n", "g.csv").unwrap();
        assert_eq!(
            ls[0].shape,
            LayerShape::Gemm(GemmShape { m: 3, n: 5, k: 7 })
        );
    }

    #[test]
    fn topology_errors_name_file_line_and_field() {
        let e = parse_gemm_topology("Layer, M, N, K,\nx, 3, five, 7,\n", "g.csv").unwrap_err();
        assert_eq!(
            e.to_string(),
            "g.csv:2: field `N`: expected a positive integer, found `five`"
        );
        let e = parse_gemm_topology("h\n\nx, 3, 5,\n", "g.csv").unwrap_err();
        assert_eq!(
            e.to_string(),
            "g.csv:3: expected 4 fields `name, M, N, K` (optionally `, N:M`) before the last \
             comma, found 3"
        );
        // Without the final comma the last field is dropped, as SCALE-Sim does.
        let e = parse_gemm_topology("h\nx, 3, 5, 7\n", "g.csv").unwrap_err();
        assert_eq!(
            e.to_string(),
            "g.csv:2: expected 4 fields `name, M, N, K` (optionally `, N:M`) before the last \
             comma, found 3; the text after the last comma (`7`) is ignored, as SCALE-Sim \
             does: end every row with a comma"
        );
        let e = parse_conv_topology("h\nx, 2, 2, 3, 3, 1, 1, 1,\n", "c.csv").unwrap_err();
        assert_eq!(
            e.to_string(),
            "c.csv:2: invalid layer `x`: filter height 3 exceeds ifmap height 2"
        );
        let e = parse_conv_topology("h\nx, 4, 4, 3, 3, 1, 1, 0,\n", "c.csv").unwrap_err();
        assert_eq!(
            e.to_string(),
            "c.csv:2: field `Strides`: expected a positive integer, found `0`"
        );
        let e = parse_gemm_topology("h\nx, 3, 5, 7, 2:4,\n", "g.csv").unwrap_err();
        assert!(
            e.to_string().starts_with("g.csv:2: field `sparsity`"),
            "{e}"
        );
        let e = parse_gemm_topology("", "g.csv").unwrap_err();
        assert!(e.to_string().contains("empty file"), "{e}");
    }

    #[test]
    fn huge_layers_are_rejected_not_overflowed() {
        let e = Layer::gemm("big", u64::MAX, 2, 2).unwrap_err();
        assert!(e.to_string().contains("multiply-accumulates"), "{e}");
    }
}
