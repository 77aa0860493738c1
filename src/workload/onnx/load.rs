//! Loading: reads an `.onnx` file, decodes its protobuf into the ONNX message types `tract-onnx`
//! maintains, drops the data of large float initializers (only their shapes matter), and checks
//! the model by importing it once. Also the proto helpers (dimensions, element types, inline
//! tensor values) the rest of the importer shares.

use super::importer::Importer;
use super::{KEEP_DATA_LIMIT, OnnxError};
use crate::workload::dtype::DType;
use crate::workload::graph::Graph;
use crate::workload::quant::QuantScheme;
use crate::workload::sample::Sample;
use prost::Message;
use std::path::Path;
use tract_onnx::pb;

/// An ONNX model ready to be built at any batch.
#[derive(Clone, Debug)]
pub struct OnnxModel {
    /// Name shown in reports: the file stem, plus given dimensions.
    pub name: String,
    /// File path (for errors).
    pub path: String,
    /// Values of symbolic dimensions other than the batch.
    pub dims: Vec<(String, u64)>,
    /// Default-domain opset.
    pub opset: i64,
    /// The decoded graph (large float initializers keep only their shape).
    pub(super) graph: pb::GraphProto,
}

/// Dimensions of a tensor proto, or `None` when one is negative.
pub(super) fn shape_of_dims(dims: &[i64]) -> Option<Vec<u64>> {
    dims.iter().map(|&d| u64::try_from(d).ok()).collect()
}

/// True for the floating-point ONNX element types.
pub(super) fn is_float_type(t: i32) -> bool {
    use pb::tensor_proto::DataType as D;
    [
        D::Float,
        D::Float16,
        D::Double,
        D::Bfloat16,
        D::Float8e4m3fn,
        D::Float8e4m3fnuz,
        D::Float8e5m2,
        D::Float8e5m2fnuz,
    ]
    .iter()
    .any(|&d| d as i32 == t)
}

/// Values of a tensor proto as f64, when stored inline.
pub(super) fn tensor_values(t: &pb::TensorProto) -> Option<Vec<f64>> {
    use pb::tensor_proto::DataType as D;
    let n = usize::try_from(
        t.dims
            .iter()
            .try_fold(1i64, |a, &d| a.checked_mul(d))?
            .max(0),
    )
    .ok()?;
    let raw = &t.raw_data;
    let from_raw = |width: usize, f: &dyn Fn(&[u8]) -> f64| -> Option<Vec<f64>> {
        (n.checked_mul(width) == Some(raw.len())).then(|| raw.chunks_exact(width).map(f).collect())
    };
    let dt = D::try_from(t.data_type).ok()?;
    let v: Vec<f64> = if !raw.is_empty() {
        match dt {
            D::Float => from_raw(4, &|b| f32::from_le_bytes(b.try_into().unwrap()) as f64)?,
            D::Double => from_raw(8, &|b| f64::from_le_bytes(b.try_into().unwrap()))?,
            D::Int64 => from_raw(8, &|b| i64::from_le_bytes(b.try_into().unwrap()) as f64)?,
            D::Int32 => from_raw(4, &|b| i32::from_le_bytes(b.try_into().unwrap()) as f64)?,
            D::Int8 => from_raw(1, &|b| b[0] as i8 as f64)?,
            D::Uint8 | D::Bool => from_raw(1, &|b| b[0] as f64)?,
            _ => return None,
        }
    } else {
        match dt {
            D::Float => t.float_data.iter().map(|&x| x as f64).collect(),
            D::Double => t.double_data.clone(),
            D::Int64 => t.int64_data.iter().map(|&x| x as f64).collect(),
            D::Int32 | D::Int8 | D::Uint8 | D::Bool | D::Int16 | D::Uint16 => {
                t.int32_data.iter().map(|&x| x as f64).collect()
            }
            _ => return None,
        }
    };
    (v.len() == n).then_some(v)
}

impl OnnxModel {
    /// Reads an ONNX file; `dims` gives values to symbolic dimensions other than the batch.
    pub fn from_file(path: &Path, dims: &[(String, u64)]) -> Result<OnnxModel, OnnxError> {
        let p = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|source| OnnxError::Io {
            path: p.clone(),
            source,
        })?;
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "onnx".into());
        Self::from_bytes(&bytes, &p, &stem, dims)
    }

    /// Decodes ONNX bytes; `path` is used in errors and `name` in reports.
    pub fn from_bytes(
        bytes: &[u8],
        path: &str,
        name: &str,
        dims: &[(String, u64)],
    ) -> Result<OnnxModel, OnnxError> {
        let model = pb::ModelProto::decode(bytes).map_err(|e| OnnxError::Decode {
            path: path.to_string(),
            message: e.to_string(),
        })?;
        Self::from_proto(model, path, name, dims)
    }

    /// Takes a decoded model; checks it by building it once at batch 1.
    pub fn from_proto(
        model: pb::ModelProto,
        path: &str,
        name: &str,
        dims: &[(String, u64)],
    ) -> Result<OnnxModel, OnnxError> {
        let mut graph = model.graph.ok_or_else(|| OnnxError::Model {
            path: path.to_string(),
            message: "the model has no graph".into(),
        })?;
        let opset = model
            .opset_import
            .iter()
            .filter(|o| o.domain.is_empty() || o.domain == "ai.onnx")
            .map(|o| o.version)
            .max()
            .unwrap_or(1);
        // Keep shapes only for large initializers: the importer never needs their values.
        for t in &mut graph.initializer {
            let n = t.dims.iter().fold(1i64, |a, &d| a.saturating_mul(d));
            if n as u64 > KEEP_DATA_LIMIT && is_float_type(t.data_type) {
                t.raw_data = Vec::new();
                t.float_data = Vec::new();
                t.double_data = Vec::new();
                t.int32_data = Vec::new();
            }
        }
        let display = if dims.is_empty() {
            name.to_string()
        } else {
            let q: Vec<String> = dims.iter().map(|(k, v)| format!("{k}={v}")).collect();
            format!("{name}?{}", q.join("&"))
        };
        let m = OnnxModel {
            name: display,
            path: path.to_string(),
            dims: dims.to_vec(),
            opset,
            graph,
        };
        m.build(
            &QuantScheme::float(DType::F32),
            m.fixed_batch().unwrap_or(1),
        )?;
        Ok(m)
    }

    /// The graph inputs that are data, not initializers listed as inputs too.
    fn data_inputs(&self) -> impl Iterator<Item = &pb::ValueInfoProto> {
        let inits: std::collections::HashSet<&str> = self
            .graph
            .initializer
            .iter()
            .map(|t| t.name.as_str())
            .collect();
        self.graph
            .input
            .iter()
            .filter(move |i| !inits.contains(i.name.as_str()))
    }

    /// The batch the graph inputs fix, when their first dimension is a number rather than a
    /// symbol (the model can then only be built at that batch).
    pub fn fixed_batch(&self) -> Option<u64> {
        use pb::tensor_shape_proto::dimension::Value as DV;
        self.data_inputs()
            .find_map(|i| match i.r#type.as_ref().and_then(|t| t.value.as_ref()) {
                Some(pb::type_proto::Value::TensorType(t)) => {
                    match t.shape.as_ref()?.dim.first()?.value {
                        Some(DV::DimValue(v)) if v > 0 => Some(v as u64),
                        _ => None,
                    }
                }
                None => None,
            })
    }

    /// Images when every graph input is floating point, sequences when one is integer (token
    /// ids).
    pub fn sample(&self) -> Sample {
        let integer_input =
            self.data_inputs()
                .any(|i| match i.r#type.as_ref().and_then(|t| t.value.as_ref()) {
                    Some(pb::type_proto::Value::TensorType(t)) => !is_float_type(t.elem_type),
                    None => false,
                });
        if integer_input {
            Sample::Sequence
        } else {
            Sample::Image
        }
    }

    /// Builds the graph at `batch` under `quant`.
    pub fn build(&self, quant: &QuantScheme, batch: u64) -> Result<Graph, OnnxError> {
        Importer::new(self, quant, batch).run()
    }
}
