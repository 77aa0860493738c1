//! Accuracy predictors: OFA's published MLPs, predictors fitted to a user's (arch, accuracy) CSV
//! (ridge regression and a small MLP), and labelled proxies for when there is no predictor.
//!
//! OFA's predictors are MLPs `Linear(d, 400) → ReLU → Linear(400, 400) → ReLU → Linear(400, 400)
//! → ReLU → Linear(400, 1)` over a one-hot encoding of the arch; they predict the top-1 accuracy
//! (a fraction) of the subnet with inherited weights on a held-out split of ImageNet *train*,
//! which runs about 4–5 points above ImageNet-val. They are read from
//! safetensors files in either layout OFA uses:
//! * tutorial (`nn.Sequential`): `0.weight`, `0.bias`, `2.weight`, ... with the last layer's bias;
//! * library (`AccuracyPredictor`): `layers.{i}.0.weight/bias` for hidden layers, `layers.{n}.weight`
//!   for the last (no bias), and a `base_acc` added to the output.
//!
//! Encodings ([`Encoder`]):
//! * [`MbOneHot`], the tutorial's 128-D MBv3 encoding generalised to any MB space: per block slot
//!   a kernel one-hot (ascending), then per slot an expand one-hot, then a resolution one-hot at
//!   bin `(r − 112) / 16` (8 bins, 112–239); skipped slots are all zero;
//! * [`ResNetOneHot`], OFA's `ResNetArchEncoder` (82-D): resolution (8), stem skip flag (2),
//!   width indices (6 × 3), expand ratios (18 × 3), active blocks only.
//!
//! A proxy ([`MacsProxy`]) is labelled as such in every output and never called accuracy.

use super::NasError;
use super::space::{MbArch, MbSpace, ResNetArch, ResNetSpace, SearchRng};
use nalgebra::{DMatrix, DVector};
use rand::{Rng, SeedableRng};
use std::collections::HashMap;
use std::path::Path;

/// Turns a subnet into the predictor's input vector.
pub trait Encoder<A>: Sync {
    /// Input dimension.
    fn dim(&self) -> usize;
    /// Writes the features of `a` into `out` (length [`Encoder::dim`], zeroed by the caller).
    fn encode(&self, a: &A, out: &mut [f32]) -> Result<(), String>;
    /// A short name stored in fitted predictor files.
    fn name(&self) -> String;
}

/// Lowest resolution of the tutorial encoding's first bin.
pub const RES_BIN_START: u32 = 112;
/// Width of a resolution bin.
pub const RES_BIN_WIDTH: u32 = 16;
/// Resolution bins (112–239).
pub const RES_BINS: usize = 8;

/// The OFA tutorial's one-hot encoding for an MB space (128-D for MBv3).
#[derive(Clone, Debug)]
pub struct MbOneHot {
    ks: Vec<u8>,
    es: Vec<u8>,
    max_blocks: Vec<u8>,
    space: String,
}

impl MbOneHot {
    /// The encoding of `space`.
    pub fn new(space: &MbSpace) -> MbOneHot {
        MbOneHot {
            ks: space.ks_list.clone(),
            es: space.e_list.clone(),
            max_blocks: space.max_blocks.clone(),
            space: space.name.clone(),
        }
    }

    fn n_blocks(&self) -> usize {
        self.max_blocks.iter().map(|&b| b as usize).sum()
    }
}

impl Encoder<MbArch> for MbOneHot {
    fn dim(&self) -> usize {
        self.n_blocks() * (self.ks.len() + self.es.len()) + RES_BINS
    }

    fn encode(&self, a: &MbArch, out: &mut [f32]) -> Result<(), String> {
        let nb = self.n_blocks();
        let e_base = nb * self.ks.len();
        let mut slot = 0;
        for (s, &n) in self.max_blocks.iter().enumerate() {
            let depth = a.d[s].min(n) as usize;
            for j in 0..n as usize {
                if j < depth {
                    let k = self
                        .ks
                        .iter()
                        .position(|&k| k == a.ks[slot])
                        .ok_or("kernel not in the encoding")?;
                    let e = self
                        .es
                        .iter()
                        .position(|&e| e == a.e[slot])
                        .ok_or("expand ratio not in the encoding")?;
                    out[slot * self.ks.len() + k] = 1.0;
                    out[e_base + slot * self.es.len() + e] = 1.0;
                }
                slot += 1;
            }
        }
        if a.r < RES_BIN_START || a.r >= RES_BIN_START + RES_BIN_WIDTH * RES_BINS as u32 {
            return Err(format!(
                "resolution {} is outside the encoding's bins ({}–{})",
                a.r,
                RES_BIN_START,
                RES_BIN_START + RES_BIN_WIDTH * RES_BINS as u32 - 1
            ));
        }
        out[nb * (self.ks.len() + self.es.len())
            + ((a.r - RES_BIN_START) / RES_BIN_WIDTH) as usize] = 1.0;
        Ok(())
    }

    fn name(&self) -> String {
        format!("mb-onehot:{}", self.space)
    }
}

/// OFA's `ResNetArchEncoder` (82-D).
#[derive(Clone, Debug)]
pub struct ResNetOneHot {
    space: ResNetSpace,
}

impl ResNetOneHot {
    /// The encoding of `space`.
    pub fn new(space: &ResNetSpace) -> ResNetOneHot {
        ResNetOneHot {
            space: space.clone(),
        }
    }
}

impl Encoder<ResNetArch> for ResNetOneHot {
    fn dim(&self) -> usize {
        let s = &self.space;
        s.resolutions.len()
            + 2
            + (s.base_depth.len() + 2) * s.width_list.len()
            + s.n_blocks() * s.expand_list.len()
    }

    fn encode(&self, a: &ResNetArch, out: &mut [f32]) -> Result<(), String> {
        let s = &self.space;
        let r = s
            .resolutions
            .iter()
            .position(|&r| r == a.r)
            .ok_or_else(|| format!("resolution {} is not one of {:?}", a.r, s.resolutions))?;
        out[r] = 1.0;
        let mut at = s.resolutions.len();
        // OFA's flag is 1 when the stem's residual conv is kept (d[0] > 0)
        out[at + (a.d[0] > 0) as usize] = 1.0;
        at += 2;
        let nw = s.width_list.len();
        for (i, &w) in a.w.iter().enumerate() {
            out[at + i * nw + w as usize] = 1.0;
        }
        at += a.w.len() * nw;
        let ne = s.expand_list.len();
        let max_d = *s.depth_list.iter().max().unwrap_or(&0) as usize;
        let mut start = 0;
        for (st, &base) in s.base_depth.iter().enumerate() {
            let depth = base as usize + a.d[st + 1] as usize;
            for j in start..start + depth {
                out[at + j * ne + a.e[j] as usize] = 1.0;
            }
            start += base as usize + max_d;
        }
        Ok(())
    }

    fn name(&self) -> String {
        format!("resnet-onehot:{}", self.space.name)
    }
}

/// Scores subnets: an accuracy predictor, or a proxy that says it is one.
pub trait Quality<A>: Sync {
    /// Scores, higher is better. Accuracy predictors return top-1 in percent.
    fn predict(&self, archs: &[A]) -> Result<Vec<f64>, NasError>;
    /// What the score is, for every output (e.g. `OFA accuracy predictor (...)`, or
    /// `PROXY: log10 of conv+FC MACs — not an accuracy`).
    fn label(&self) -> String;
    /// Column name in tables: `predicted_top1_pct` for predictors, `proxy_...` for proxies.
    fn column(&self) -> String;
    /// True for proxies.
    fn is_proxy(&self) -> bool;
}

/// A dense MLP with ReLU between layers (any depth, including a single linear layer).
#[derive(Clone, Debug)]
pub struct Mlp {
    /// Weights (out × in, as PyTorch's `Linear`) and biases per layer.
    pub layers: Vec<(DMatrix<f32>, DVector<f32>)>,
    /// Constant added to the output (OFA's `base_acc`).
    pub base: f32,
}

impl Mlp {
    /// Input dimension.
    pub fn input_dim(&self) -> usize {
        self.layers[0].0.ncols()
    }

    /// Forward pass of a batch (rows of `x` are samples); returns one output per sample.
    ///
    /// Activations are kept as columns (features × samples) so that every layer after the first
    /// is one GEMM `W · H`; the first layer gathers only the columns of `W` where the input is
    /// non-zero, which for one-hot encodings skips most of its work.
    pub fn forward(&self, x: &DMatrix<f32>) -> Vec<f32> {
        let n = x.nrows();
        let (w0, b0) = &self.layers[0];
        let mut h = DMatrix::<f32>::zeros(w0.nrows(), n);
        for r in 0..n {
            let mut col = h.column_mut(r);
            col.copy_from(b0);
            for j in 0..x.ncols() {
                let v = x[(r, j)];
                if v != 0.0 {
                    col.axpy(v, &w0.column(j), 1.0);
                }
            }
        }
        let last = self.layers.len() - 1;
        if last > 0 {
            h.apply(|v| *v = v.max(0.0));
        }
        for (i, (w, b)) in self.layers.iter().enumerate().skip(1) {
            let mut y = w * &h;
            for mut c in y.column_iter_mut() {
                c += b;
            }
            if i < last {
                y.apply(|v| *v = v.max(0.0));
            }
            h = y;
        }
        h.row(0).iter().map(|v| v + self.base).collect()
    }

    /// Reads an MLP from safetensors bytes in the tutorial or library layout.
    pub fn from_safetensors(
        bytes: &[u8],
        path: &str,
    ) -> Result<(Mlp, HashMap<String, String>), NasError> {
        let bad = |field: &str, m: String| NasError::invalid(path, field, m);
        let st = safetensors::SafeTensors::deserialize(bytes)
            .map_err(|e| bad("safetensors", format!("not a safetensors file: {e}")))?;
        let (_, meta) = safetensors::SafeTensors::read_metadata(bytes)
            .map_err(|e| bad("safetensors", e.to_string()))?;
        let metadata = meta.metadata().clone().unwrap_or_default();
        let read = |name: &str| -> Result<(Vec<usize>, Vec<f32>), NasError> {
            let t = st.tensor(name).map_err(|e| bad(name, e.to_string()))?;
            let v: Vec<f32> = match t.dtype() {
                safetensors::Dtype::F32 => t
                    .data()
                    .chunks_exact(4)
                    .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                    .collect(),
                safetensors::Dtype::F64 => t
                    .data()
                    .chunks_exact(8)
                    .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")) as f32)
                    .collect(),
                other => return Err(bad(name, format!("dtype {other:?}, expected F32 or F64"))),
            };
            Ok((t.shape().to_vec(), v))
        };
        let names: Vec<String> = st.names().into_iter().map(String::from).collect();
        // (order key, weight name, bias name)
        let mut layers: Vec<(usize, String, Option<String>)> = Vec::new();
        for n in &names {
            let Some(stem) = n.strip_suffix(".weight") else {
                continue;
            };
            let order = if let Ok(i) = stem.parse::<usize>() {
                i
            } else if let Some(rest) = stem.strip_prefix("layers.") {
                let i = rest.split('.').next().and_then(|s| s.parse::<usize>().ok());
                match i {
                    Some(i) => i,
                    None => return Err(bad(n, "unrecognised tensor name".into())),
                }
            } else {
                return Err(bad(
                    n,
                    "expected `{i}.weight` (tutorial) or `layers.{i}[.0].weight` (library)".into(),
                ));
            };
            let b = format!("{stem}.bias");
            layers.push((order, n.clone(), names.contains(&b).then_some(b)));
        }
        if layers.is_empty() {
            return Err(bad(
                "tensors",
                "no `*.weight` tensors: not an MLP predictor".into(),
            ));
        }
        layers.sort();
        let mut out = Vec::new();
        let mut prev: Option<usize> = None;
        for (_, w, b) in &layers {
            let (shape, data) = read(w)?;
            if shape.len() != 2 {
                return Err(bad(w, format!("shape {shape:?}, expected [out, in]")));
            }
            let (o, i) = (shape[0], shape[1]);
            if let Some(p) = prev
                && p != i
            {
                return Err(bad(
                    w,
                    format!("takes {i} inputs but the previous layer gives {p}"),
                ));
            }
            let wt = DMatrix::from_row_slice(o, i, &data);
            let bias = match b {
                Some(b) => {
                    let (bs, bd) = read(b)?;
                    if bs != [o] {
                        return Err(bad(b, format!("shape {bs:?}, expected [{o}]")));
                    }
                    DVector::from_vec(bd)
                }
                None => DVector::zeros(o),
            };
            out.push((wt, bias));
            prev = Some(o);
        }
        if prev != Some(1) {
            return Err(bad(
                "output",
                format!("the last layer gives {prev:?} outputs, expected 1"),
            ));
        }
        let base = if names.iter().any(|n| n == "base_acc") {
            let (_, v) = read("base_acc")?;
            *v.first().ok_or_else(|| bad("base_acc", "empty".into()))?
        } else {
            0.0
        };
        Ok((Mlp { layers: out, base }, metadata))
    }

    /// Serialises to safetensors in the tutorial layout (`0.weight`, `0.bias`, `2.weight`, ...)
    /// plus `base_acc`, with `metadata`.
    pub fn to_safetensors(&self, metadata: HashMap<String, String>) -> Result<Vec<u8>, String> {
        let mut bufs: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
        for (i, (w, b)) in self.layers.iter().enumerate() {
            // row-major [out, in], as PyTorch stores a Linear weight
            let bytes: Vec<u8> = w
                .transpose()
                .as_slice()
                .iter()
                .flat_map(|v| v.to_le_bytes())
                .collect();
            bufs.push((
                format!("{}.weight", 2 * i),
                vec![w.nrows(), w.ncols()],
                bytes,
            ));
            let bb: Vec<u8> = b.iter().flat_map(|v| v.to_le_bytes()).collect();
            bufs.push((format!("{}.bias", 2 * i), vec![b.len()], bb));
        }
        bufs.push(("base_acc".into(), vec![1], self.base.to_le_bytes().to_vec()));
        let views = bufs
            .iter()
            .map(|(n, s, d)| {
                safetensors::tensor::TensorView::new(safetensors::Dtype::F32, s.clone(), d)
                    .map(|v| (n.clone(), v))
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| e.to_string())?;
        safetensors::serialize(views, Some(metadata)).map_err(|e| e.to_string())
    }
}

/// An MLP over an encoding, predicting top-1 as a fraction (reported in percent).
pub struct MlpPredictor<E> {
    /// The network.
    pub mlp: Mlp,
    /// The encoding.
    pub encoder: E,
    /// Description for reports.
    pub description: String,
}

impl<E> MlpPredictor<E> {
    /// Loads a predictor file; its input size must match the encoder.
    pub fn load<A>(path: &Path, encoder: E, description: &str) -> Result<Self, NasError>
    where
        E: Encoder<A>,
    {
        let p = path.display().to_string();
        if path.extension().is_some_and(|e| e == "pth" || e == "pt") {
            return Err(NasError::invalid(
                &p,
                "format",
                "torch pickles are not read; use the .safetensors file (or convert with safetensors.torch.save_file)",
            ));
        }
        let bytes = std::fs::read(path).map_err(|source| NasError::Io {
            path: p.clone(),
            action: "cannot read",
            source,
        })?;
        let (mlp, meta) = Mlp::from_safetensors(&bytes, &p)?;
        if mlp.input_dim() != encoder.dim() {
            return Err(NasError::invalid(
                &p,
                "input",
                format!(
                    "the predictor takes {} inputs but the `{}` encoding has {}",
                    mlp.input_dim(),
                    encoder.name(),
                    encoder.dim()
                ),
            ));
        }
        if let Some(enc) = meta.get("archscope_encoding")
            && *enc != encoder.name()
        {
            return Err(NasError::invalid(
                &p,
                "archscope_encoding",
                format!(
                    "fitted for `{enc}`, but this search encodes with `{}`",
                    encoder.name()
                ),
            ));
        }
        let description = match meta.get("archscope_fit") {
            Some(f) => format!("{description}: {f} ({p})"),
            None => format!("{description} ({p})"),
        };
        Ok(MlpPredictor {
            mlp,
            encoder,
            description,
        })
    }
}

fn encode_batch<A, E: Encoder<A>>(enc: &E, archs: &[A]) -> Result<DMatrix<f32>, NasError> {
    let d = enc.dim();
    let mut x = DMatrix::<f32>::zeros(archs.len(), d);
    let mut row = vec![0f32; d];
    for (i, a) in archs.iter().enumerate() {
        row.iter_mut().for_each(|v| *v = 0.0);
        enc.encode(a, &mut row)
            .map_err(|m| NasError::invalid("accuracy predictor", enc.name(), m))?;
        for (j, &v) in row.iter().enumerate() {
            if v != 0.0 {
                x[(i, j)] = v;
            }
        }
    }
    Ok(x)
}

/// Rows per forward pass when a batch is split across threads.
const CHUNK_ROWS: usize = 64;

impl<A: Sync, E: Encoder<A>> Quality<A> for MlpPredictor<E> {
    fn predict(&self, archs: &[A]) -> Result<Vec<f64>, NasError> {
        use rayon::prelude::*;
        let parts: Vec<Vec<f64>> = archs
            .par_chunks(CHUNK_ROWS)
            .map(|c| {
                let x = encode_batch(&self.encoder, c)?;
                Ok(self
                    .mlp
                    .forward(&x)
                    .into_iter()
                    .map(|v| v as f64 * 100.0)
                    .collect())
            })
            .collect::<Result<_, NasError>>()?;
        Ok(parts.concat())
    }
    fn label(&self) -> String {
        self.description.clone()
    }
    fn column(&self) -> String {
        "predicted_top1_pct".into()
    }
    fn is_proxy(&self) -> bool {
        false
    }
}

/// Proxy: log10 of conv + FC MACs (bigger subnets usually score higher). Not an accuracy.
pub struct MacsProxy<'s, S>(pub &'s S);

impl<S> Quality<S::Arch> for MacsProxy<'_, S>
where
    S: super::efficiency::NetSpace,
{
    fn predict(&self, archs: &[S::Arch]) -> Result<Vec<f64>, NasError> {
        Ok(archs
            .iter()
            .map(|a| (self.0.net(a).ofa_macs() as f64).log10())
            .collect())
    }
    fn label(&self) -> String {
        "PROXY: log10 of conv+FC MACs, NOT an accuracy (no accuracy predictor given; pass --acc-predictor)".into()
    }
    fn column(&self) -> String {
        "proxy_log10_macs".into()
    }
    fn is_proxy(&self) -> bool {
        true
    }
}

/// One labelled sample of a user's CSV.
#[derive(Clone, Debug)]
pub struct Sample<A> {
    /// The subnet.
    pub arch: A,
    /// Its accuracy, as a fraction.
    pub acc: f64,
}

/// Reads `(arch, accuracy)` rows: a column `arch` holding the arch-dict JSON, and either `top1`
/// (percent, 0–100) or `accuracy` (fraction, 0–1).
pub fn read_samples<A>(
    path: &Path,
    parse: impl Fn(&str, &str) -> Result<A, NasError>,
) -> Result<Vec<Sample<A>>, NasError> {
    let p = path.display().to_string();
    let mut rdr =
        csv::Reader::from_path(path).map_err(|e| NasError::invalid(&p, "csv", e.to_string()))?;
    let headers = rdr
        .headers()
        .map_err(|e| NasError::invalid(&p, "header", e.to_string()))?
        .clone();
    let col = |n: &str| headers.iter().position(|h| h.trim() == n);
    let arch_col = col("arch").ok_or_else(|| {
        NasError::invalid(&p, "header", "no `arch` column (the arch dict as JSON)")
    })?;
    let (acc_col, scale) = match (col("top1"), col("accuracy")) {
        (Some(c), None) => (c, 0.01),
        (None, Some(c)) => (c, 1.0),
        _ => {
            return Err(NasError::invalid(
                &p,
                "header",
                "expected exactly one of `top1` (percent) or `accuracy` (fraction)",
            ));
        }
    };
    let mut out = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let line = i + 2;
        let rec = rec.map_err(|e| NasError::invalid(&p, format!("line {line}"), e.to_string()))?;
        let where_ = format!("{p}:{line}");
        let arch = parse(rec.get(arch_col).unwrap_or(""), &where_)?;
        let raw = rec.get(acc_col).unwrap_or("").trim();
        let v: f64 = raw.parse().map_err(|_| {
            NasError::invalid(
                &where_,
                headers[acc_col].to_string(),
                format!("`{raw}` is not a number"),
            )
        })?;
        let acc = v * scale;
        if !(0.0..=1.0).contains(&acc) {
            return Err(NasError::invalid(
                &where_,
                headers[acc_col].to_string(),
                format!(
                    "{v} is outside {}",
                    if scale == 1.0 { "0–1" } else { "0–100" }
                ),
            ));
        }
        out.push(Sample { arch, acc });
    }
    if out.len() < 10 {
        return Err(NasError::invalid(
            &p,
            "rows",
            format!(
                "{} samples; at least 10 are needed to fit and hold out",
                out.len()
            ),
        ));
    }
    Ok(out)
}

/// Which model to fit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FitKind {
    /// Ridge regression on the one-hot encoding, λ by 5-fold cross-validation.
    Ridge,
    /// A one-hidden-layer ReLU MLP trained with Adam on squared error.
    Mlp,
}

/// Held-out fraction of the samples (OFA's accuracy dataset uses an 80/20 split).
pub const HOLDOUT_FRACTION: f64 = 0.2;
/// Ridge penalties tried by cross-validation.
pub const RIDGE_LAMBDAS: [f64; 7] = [1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0, 100.0];
/// Folds of the ridge cross-validation.
pub const RIDGE_FOLDS: usize = 5;
/// Hidden width of the fitted MLP (small: user datasets have hundreds to thousands of rows).
pub const FIT_MLP_HIDDEN: usize = 64;
/// Adam epochs (full batch).
pub const FIT_MLP_EPOCHS: usize = 2000;
/// Adam learning rate, β1, β2, ε (Kingma & Ba 2015 defaults except the rate).
pub const ADAM: (f64, f64, f64, f64) = (1e-3, 0.9, 0.999, 1e-8);
/// L2 weight decay of the fitted MLP (on standardised targets).
pub const FIT_MLP_DECAY: f64 = 1e-3;

/// A fitted predictor with its held-out error.
pub struct Fitted {
    /// The model, as an MLP (ridge is a single linear layer).
    pub mlp: Mlp,
    /// Held-out root mean squared error, accuracy points.
    pub holdout_rmse_pct: f64,
    /// Held-out mean absolute error, accuracy points.
    pub holdout_mae_pct: f64,
    /// Held-out RMSE of predicting the training mean, for scale.
    pub baseline_rmse_pct: f64,
    /// Training and held-out sample counts.
    pub n_train: usize,
    /// Held-out samples.
    pub n_test: usize,
    /// What was fitted (kind, λ or architecture).
    pub description: String,
}

fn to_f64(x: &DMatrix<f32>) -> DMatrix<f64> {
    x.map(|v| v as f64)
}

fn ridge(x: &DMatrix<f64>, y: &DVector<f64>, lambda: f64) -> Option<(DVector<f64>, f64)> {
    let n = x.nrows() as f64;
    let mean_x = DVector::from_iterator(x.ncols(), x.column_iter().map(|c| c.sum() / n));
    let mean_y = y.sum() / n;
    let mut xc = x.clone();
    for (j, mut c) in xc.column_iter_mut().enumerate() {
        c.add_scalar_mut(-mean_x[j]);
    }
    let yc = y.add_scalar(-mean_y);
    let mut a = xc.transpose() * &xc;
    for i in 0..a.nrows() {
        a[(i, i)] += lambda;
    }
    let w = a.cholesky()?.solve(&(xc.transpose() * yc));
    let b = mean_y - mean_x.dot(&w);
    Some((w, b))
}

fn rmse(pred: &[f64], y: &[f64]) -> f64 {
    (pred
        .iter()
        .zip(y)
        .map(|(p, t)| (p - t).powi(2))
        .sum::<f64>()
        / y.len() as f64)
        .sqrt()
}

fn fit_ridge(x: &DMatrix<f64>, y: &DVector<f64>) -> Result<(DVector<f64>, f64, f64), String> {
    let n = x.nrows();
    let mut best = (f64::INFINITY, RIDGE_LAMBDAS[0]);
    for &lambda in &RIDGE_LAMBDAS {
        let mut err = 0.0;
        for f in 0..RIDGE_FOLDS {
            let test: Vec<usize> = (0..n).filter(|i| i % RIDGE_FOLDS == f).collect();
            let train: Vec<usize> = (0..n).filter(|i| i % RIDGE_FOLDS != f).collect();
            let (w, b) = ridge(&x.select_rows(&train), &y.select_rows(&train), lambda)
                .ok_or("singular system")?;
            let p = x.select_rows(&test) * &w;
            let pv: Vec<f64> = p.iter().map(|v| v + b).collect();
            let tv: Vec<f64> = test.iter().map(|&i| y[i]).collect();
            err += rmse(&pv, &tv).powi(2);
        }
        if err < best.0 {
            best = (err, lambda);
        }
    }
    let (w, b) = ridge(x, y, best.1).ok_or("singular system")?;
    Ok((w, b, best.1))
}

fn fit_mlp(x: &DMatrix<f64>, y_raw: &DVector<f64>, seed: u64) -> Mlp {
    let (n, d) = (x.nrows(), x.ncols());
    let h = FIT_MLP_HIDDEN;
    // train on standardised targets, fold the scale back into the output layer at the end
    let mu = y_raw.mean();
    let sigma = (y_raw.map(|v| (v - mu).powi(2)).sum() / n as f64)
        .sqrt()
        .max(1e-9);
    let y = y_raw.map(|v| (v - mu) / sigma);
    let mut rng = SearchRng::seed_from_u64(seed);
    // He initialisation for the ReLU layer; the output layer starts at zero
    let mut normal = |std: f64| {
        let u1: f64 = rng.random::<f64>().max(1e-12);
        let u2: f64 = rng.random();
        std * (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    };
    let mut w1 = DMatrix::from_fn(d, h, |_, _| normal((2.0 / d as f64).sqrt()));
    let mut b1 = DVector::zeros(h);
    let mut w2 = DVector::<f64>::zeros(h);
    let mut b2 = 0.0;
    let (lr, beta1, beta2, eps) = ADAM;
    let mut m = (
        DMatrix::zeros(d, h),
        DVector::zeros(h),
        DVector::zeros(h),
        0.0,
    );
    let mut v = (
        DMatrix::zeros(d, h),
        DVector::zeros(h),
        DVector::zeros(h),
        0.0,
    );
    for t in 1..=FIT_MLP_EPOCHS {
        let mut z = x * &w1;
        for (j, mut c) in z.column_iter_mut().enumerate() {
            c.add_scalar_mut(b1[j]);
        }
        let a = z.map(|v| v.max(0.0));
        let pred = &a * &w2;
        let err = pred.add_scalar(b2) - &y;
        let g_out = err * (2.0 / n as f64);
        let gw2 = a.transpose() * &g_out + &w2 * FIT_MLP_DECAY;
        let gb2 = g_out.sum();
        let mut ga = &g_out * w2.transpose();
        ga.zip_apply(&z, |g, zz| {
            if zz <= 0.0 {
                *g = 0.0
            }
        });
        let gw1 = x.transpose() * &ga + &w1 * FIT_MLP_DECAY;
        let gb1 = DVector::from_iterator(h, ga.column_iter().map(|c| c.sum()));
        let c1 = 1.0 - beta1.powi(t as i32);
        let c2 = 1.0 - beta2.powi(t as i32);
        macro_rules! adam {
            ($p:expr, $g:expr, $m:expr, $v:expr) => {
                $m = &$m * beta1 + &$g * (1.0 - beta1);
                $v = &$v * beta2 + $g.map(|x| x * x) * (1.0 - beta2);
                $p -= $m.zip_map(&$v, |mm, vv| lr * (mm / c1) / ((vv / c2).sqrt() + eps));
            };
        }
        adam!(w1, gw1, m.0, v.0);
        adam!(b1, gb1, m.1, v.1);
        adam!(w2, gw2, m.2, v.2);
        m.3 = m.3 * beta1 + gb2 * (1.0 - beta1);
        v.3 = v.3 * beta2 + gb2 * gb2 * (1.0 - beta2);
        b2 -= lr * (m.3 / c1) / ((v.3 / c2).sqrt() + eps);
    }
    let w2s: Vec<f32> = w2.iter().map(|v| (v * sigma) as f32).collect();
    Mlp {
        layers: vec![
            (w1.transpose().map(|v| v as f32), b1.map(|v| v as f32)),
            (
                DMatrix::from_row_slice(1, h, &w2s),
                DVector::from_element(1, (b2 * sigma + mu) as f32),
            ),
        ],
        base: 0.0,
    }
}

/// Fits a predictor on `samples` (seeded 80/20 split), returning it with its held-out error.
pub fn fit<A, E: Encoder<A>>(
    samples: &[Sample<A>],
    encoder: &E,
    kind: FitKind,
    seed: u64,
) -> Result<Fitted, NasError> {
    let n = samples.len();
    let mut order: Vec<usize> = (0..n).collect();
    let mut rng = SearchRng::seed_from_u64(seed);
    for i in (1..n).rev() {
        order.swap(i, rng.random_range(0..=i));
    }
    let n_test = ((n as f64 * HOLDOUT_FRACTION).round() as usize).clamp(1, n - 1);
    let (test, train) = order.split_at(n_test);
    let archs: Vec<&A> = samples.iter().map(|s| &s.arch).collect();
    let mut xf = DMatrix::<f32>::zeros(n, encoder.dim());
    let mut row = vec![0f32; encoder.dim()];
    for (i, a) in archs.iter().enumerate() {
        row.iter_mut().for_each(|v| *v = 0.0);
        encoder
            .encode(a, &mut row)
            .map_err(|m| NasError::invalid("samples", format!("row {}", i + 1), m))?;
        for (j, &v) in row.iter().enumerate() {
            xf[(i, j)] = v;
        }
    }
    let x = to_f64(&xf);
    let y = DVector::from_iterator(n, samples.iter().map(|s| s.acc));
    let xtr = x.select_rows(train);
    let ytr = y.select_rows(train);
    let (mlp, description) = match kind {
        FitKind::Ridge => {
            let (w, b, lambda) =
                fit_ridge(&xtr, &ytr).map_err(|m| NasError::invalid("samples", "ridge", m))?;
            (
                Mlp {
                    layers: vec![(
                        DMatrix::from_row_slice(1, w.len(), w.map(|v| v as f32).as_slice()),
                        DVector::from_element(1, b as f32),
                    )],
                    base: 0.0,
                },
                format!("ridge regression, lambda {lambda} by {RIDGE_FOLDS}-fold CV"),
            )
        }
        FitKind::Mlp => (
            fit_mlp(&xtr, &ytr, seed),
            format!(
                "MLP {}-{FIT_MLP_HIDDEN}-1 (ReLU), Adam {FIT_MLP_EPOCHS} epochs",
                encoder.dim()
            ),
        ),
    };
    let xte = xf.select_rows(test);
    let pred: Vec<f64> = mlp.forward(&xte).into_iter().map(|v| v as f64).collect();
    let truth: Vec<f64> = test.iter().map(|&i| y[i]).collect();
    let mean_train = ytr.mean();
    let base: Vec<f64> = vec![mean_train; truth.len()];
    let mae = pred
        .iter()
        .zip(&truth)
        .map(|(p, t)| (p - t).abs())
        .sum::<f64>()
        / truth.len() as f64;
    Ok(Fitted {
        holdout_rmse_pct: rmse(&pred, &truth) * 100.0,
        holdout_mae_pct: mae * 100.0,
        baseline_rmse_pct: rmse(&base, &truth) * 100.0,
        n_train: train.len(),
        n_test: test.len(),
        mlp,
        description,
    })
}

/// The OFA tutorial's MBv3-w1.2 predictor description.
pub const OFA_MBV3_PREDICTOR: &str = "OFA accuracy predictor (MBv3-w1.2 tutorial MLP; predicts hold-out top-1 on ImageNet-train, about 4-5 points above ImageNet-val)";
/// The OFA ResNet50 predictor description.
pub const OFA_RESNET_PREDICTOR: &str =
    "OFA ResNet50 accuracy predictor (MLP; predicts hold-out top-1 on ImageNet-train)";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nas::space::SearchSpace;

    #[test]
    fn tutorial_encoding_is_128_dims_with_the_right_ones() {
        let space = MbSpace::mbv3(1.2);
        let enc = MbOneHot::new(&space);
        assert_eq!(enc.dim(), 128);
        let a = MbArch {
            ks: vec![7; 20],
            e: vec![4; 20],
            d: vec![2, 2, 2, 2, 4],
            r: 224,
        };
        let mut f = vec![0f32; 128];
        enc.encode(&a, &mut f).unwrap();
        // block 0: k7 → index 2, e4 → 60 + 1; block 2 skipped; r224 → 120 + 7
        assert_eq!(f[2], 1.0);
        assert_eq!(f[61], 1.0);
        assert!(f[6..9].iter().all(|&v| v == 0.0));
        assert_eq!(f[127], 1.0);
        assert_eq!(f.iter().sum::<f32>(), (2 * 12 + 1) as f32);
        let r = ResNetOneHot::new(&ResNetSpace::default());
        assert_eq!(r.dim(), 82);
    }

    #[test]
    fn mlp_safetensors_round_trip() {
        let mlp = Mlp {
            layers: vec![
                (
                    DMatrix::from_row_slice(3, 2, &[1., 4., 2., 5., 3., 6.]),
                    DVector::from_vec(vec![0.5, -1., 0.]),
                ),
                (
                    DMatrix::from_row_slice(1, 3, &[1., -1., 2.]),
                    DVector::from_vec(vec![0.25]),
                ),
            ],
            base: 0.5,
        };
        let x = DMatrix::from_row_slice(1, 2, &[1.0, 1.0]);
        // h = relu([1+4+.5, 2+5-1, 3+6]) = [5.5, 6, 9]; out = 5.5 - 6 + 18 + .25 + .5
        assert_eq!(mlp.forward(&x), vec![18.25]);
        let bytes = mlp.to_safetensors(HashMap::new()).unwrap();
        let (back, _) = Mlp::from_safetensors(&bytes, "t").unwrap();
        assert_eq!(back.forward(&x), vec![18.25]);
        let e = Mlp::from_safetensors(b"garbage", "p.safetensors")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("p.safetensors: safetensors:"), "{e}");
    }

    #[test]
    fn ridge_recovers_a_linear_truth_and_mlp_beats_the_mean() {
        // accuracy that is exactly linear in the one-hot features: ridge must recover it almost
        // exactly; the MLP must at least beat predicting the training mean.
        let space = MbSpace::mbv3(1.2);
        let enc = MbOneHot::new(&space);
        let mut rng = SearchRng::seed_from_u64(1);
        let weights: Vec<f64> = (0..enc.dim())
            .map(|_| rng.random::<f64>() * 0.002)
            .collect();
        let samples: Vec<Sample<MbArch>> = (0..400)
            .map(|_| {
                let a = space.sample(&mut rng);
                let mut f = vec![0f32; enc.dim()];
                enc.encode(&a, &mut f).unwrap();
                let acc = 0.7
                    + f.iter()
                        .zip(&weights)
                        .map(|(x, w)| *x as f64 * w)
                        .sum::<f64>();
                Sample { arch: a, acc }
            })
            .collect();
        let r = fit(&samples, &enc, FitKind::Ridge, 0).unwrap();
        assert_eq!((r.n_train, r.n_test), (320, 80));
        assert!(
            r.holdout_rmse_pct < 0.02,
            "ridge rmse {}",
            r.holdout_rmse_pct
        );
        assert!(
            r.baseline_rmse_pct > 0.3,
            "baseline {}",
            r.baseline_rmse_pct
        );
        let m = fit(&samples, &enc, FitKind::Mlp, 0).unwrap();
        assert!(
            m.holdout_rmse_pct < 0.5 * m.baseline_rmse_pct,
            "mlp {} vs {}",
            m.holdout_rmse_pct,
            m.baseline_rmse_pct
        );
    }
}
