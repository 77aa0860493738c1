//! ONNX import: reads a `.onnx` file (protobuf decoded with `prost` into the pre-generated ONNX
//! message types that `tract-onnx` maintains, so no `protoc` is needed) and turns its graph into
//! an archscope [`Graph`] at a given batch and quantization.
//!
//! * Initializers become weights; only their dimensions are needed, so float data is dropped
//!   after loading except for small tensors that may serve as constants (scales, bounds).
//! * Shapes come from the graph inputs and are inferred op by op (`value_info` is not needed;
//!   where it gives a fixed dimension it is checked against the inferred one). The first
//!   dimension of every graph input is the batch; other symbolic dimensions take values given
//!   with the model name, e.g. `bert.onnx?sequence=128`.
//! * Shape arithmetic (`Shape`, `Gather`, `Concat`, `Unsqueeze`, `Slice`, `Reshape` of shape
//!   tensors, …) is evaluated at import as constants and adds no op, as an inference runtime
//!   folds it.
//! * Views (`Reshape`, `Flatten`, `Squeeze`, `Unsqueeze`, `Identity`, `Dropout`, transposes that
//!   keep the element order) alias their input tensor and add no op.
//! * Scalar constants (e.g. the 1/√d of attention, the 0.5 of GELU) are folded into their op and
//!   add no tensor.
//! * Convolution and matmul weights use the scheme's weight storage, stored as `[out, in]`
//!   matrices so per-channel scales count per output channel; gathered tables use the embedding
//!   storage; other weights (biases, norms) use the float dtype. Integer inputs (token ids) are
//!   counted as int32.
//! * An operator outside the supported set is an error naming the op type and the node.

use super::Sample;
use crate::workload::dtype::{DType, Storage};
use crate::workload::graph::{
    Conv2d, EltOp, Graph, MoveKind, NormKind, OpKind, PoolKind, Role, TensorId,
};
use crate::workload::quant::QuantScheme;
use prost::Message;
use std::collections::HashMap;
use std::path::Path;
use tract_onnx::pb;

/// Initializers and constants with at most this many elements keep their values (they may be
/// shape tensors, resize scales or clip bounds); larger float tensors keep only their shape.
const KEEP_DATA_LIMIT: u64 = 4096;
/// Largest constant the import evaluates (shape arithmetic never comes close).
const MAX_CONST_ELEMS: u64 = 1 << 22;

/// The ONNX operators the importer understands.
pub const SUPPORTED_OPS: &[&str] = &[
    "Abs",
    "Add",
    "AveragePool",
    "BatchNormalization",
    "Cast",
    "Clip",
    "Concat",
    "Constant",
    "ConstantOfShape",
    "Conv",
    "ConvTranspose",
    "Div",
    "Dropout",
    "Equal",
    "Erf",
    "Exp",
    "Expand",
    "Flatten",
    "Gather",
    "Gelu",
    "Gemm",
    "GlobalAveragePool",
    "GlobalMaxPool",
    "Greater",
    "HardSigmoid",
    "HardSwish",
    "Identity",
    "LayerNormalization",
    "LeakyRelu",
    "Less",
    "Log",
    "LogSoftmax",
    "MatMul",
    "Max",
    "MaxPool",
    "Min",
    "Mul",
    "Neg",
    "Not",
    "Pad",
    "Pow",
    "Range",
    "Reciprocal",
    "ReduceMax",
    "ReduceMean",
    "ReduceSum",
    "Relu",
    "Reshape",
    "Resize",
    "Shape",
    "Sigmoid",
    "Size",
    "Slice",
    "Softmax",
    "Split",
    "Sqrt",
    "Squeeze",
    "Sub",
    "Tanh",
    "Tile",
    "Transpose",
    "Unsqueeze",
    "Upsample",
    "Where",
];

/// Errors importing an ONNX file.
#[derive(Debug, thiserror::Error)]
pub enum OnnxError {
    /// The file could not be read.
    #[error("{path}: cannot read: {source}")]
    Io {
        /// File path.
        path: String,
        /// Cause.
        source: std::io::Error,
    },
    /// The bytes are not an ONNX protobuf.
    #[error("{path}: not a valid ONNX model: {message}")]
    Decode {
        /// File path.
        path: String,
        /// What the decoder said.
        message: String,
    },
    /// Something about the model as a whole.
    #[error("{path}: {message}")]
    Model {
        /// File path.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// An operator archscope does not model.
    #[error(
        "{path}: node `{node}` has op type `{op_type}`{domain}, which archscope does not import; supported ops: {supported}"
    )]
    Unsupported {
        /// File path.
        path: String,
        /// Node name.
        node: String,
        /// Its op type.
        op_type: String,
        /// ` in domain D` when not the default domain.
        domain: String,
        /// The supported op types.
        supported: String,
    },
    /// A node whose inputs, attributes or shapes cannot be interpreted.
    #[error("{path}: node `{node}` ({op_type}): {message}")]
    Node {
        /// File path.
        path: String,
        /// Node name.
        node: String,
        /// Its op type.
        op_type: String,
        /// What is wrong.
        message: String,
    },
}

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
    graph: pb::GraphProto,
}

fn shape_of_dims(dims: &[i64]) -> Option<Vec<u64>> {
    dims.iter().map(|&d| u64::try_from(d).ok()).collect()
}

fn is_float_type(t: i32) -> bool {
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
fn tensor_values(t: &pb::TensorProto) -> Option<Vec<f64>> {
    use pb::tensor_proto::DataType as D;
    let n = t.dims.iter().product::<i64>().max(0) as usize;
    let raw = &t.raw_data;
    let from_raw = |width: usize, f: &dyn Fn(&[u8]) -> f64| -> Option<Vec<f64>> {
        (raw.len() == n * width).then(|| raw.chunks_exact(width).map(f).collect())
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
            let n: i64 = t.dims.iter().product();
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

    /// The batch the graph inputs fix, when their first dimension is a number rather than a
    /// symbol (the model can then only be built at that batch).
    pub fn fixed_batch(&self) -> Option<u64> {
        use pb::tensor_shape_proto::dimension::Value as DV;
        let inits: std::collections::HashSet<&str> = self
            .graph
            .initializer
            .iter()
            .map(|t| t.name.as_str())
            .collect();
        self.graph
            .input
            .iter()
            .filter(|i| !inits.contains(i.name.as_str()))
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
        let inits: std::collections::HashSet<&str> = self
            .graph
            .initializer
            .iter()
            .map(|t| t.name.as_str())
            .collect();
        let integer_input = self
            .graph
            .input
            .iter()
            .filter(|i| !inits.contains(i.name.as_str()))
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

/// A weight (initializer or large constant), materialized as a graph tensor on first use.
#[derive(Clone, Debug)]
struct Init {
    name: String,
    shape: Vec<u64>,
    data: Option<Vec<f64>>,
    id: Option<TensorId>,
}

/// What an ONNX value name stands for during import.
#[derive(Clone, Debug)]
enum Val {
    /// A runtime tensor in the graph (possibly a view: `shape` may differ from the tensor's).
    Act { id: TensorId, shape: Vec<u64> },
    /// A weight, index into the importer's weights, seen with `shape`.
    Weight { w: usize, shape: Vec<u64> },
    /// A known constant; `int` for integer element types.
    Const {
        shape: Vec<u64>,
        data: Vec<f64>,
        int: bool,
    },
}

impl Val {
    fn shape(&self) -> &[u64] {
        match self {
            Val::Act { shape, .. } | Val::Weight { shape, .. } | Val::Const { shape, .. } => shape,
        }
    }
    fn is_act(&self) -> bool {
        matches!(self, Val::Act { .. })
    }
}

fn numel(s: &[u64]) -> u64 {
    s.iter().product()
}

/// How a weight is used, which decides its storage and layout.
#[derive(Clone, Copy, PartialEq)]
enum Use {
    /// Conv/matmul weight: scheme weight storage as an `[out, in]` matrix.
    Linear { out: u64 },
    /// Gathered table: embedding storage.
    Table,
    /// Anything else: float dtype.
    Plain,
}

struct Attrs<'a>(&'a [pb::AttributeProto]);

impl Attrs<'_> {
    fn get(&self, name: &str) -> Option<&pb::AttributeProto> {
        self.0.iter().find(|a| a.name == name)
    }
    fn int(&self, name: &str) -> Option<i64> {
        self.get(name).map(|a| a.i)
    }
    fn ints(&self, name: &str) -> Option<Vec<i64>> {
        self.get(name).map(|a| a.ints.clone())
    }
    fn float(&self, name: &str) -> Option<f32> {
        self.get(name).map(|a| a.f)
    }
    fn string(&self, name: &str) -> Option<String> {
        self.get(name)
            .map(|a| String::from_utf8_lossy(&a.s).into_owned())
    }
}

struct Importer<'a> {
    m: &'a OnnxModel,
    q: &'a QuantScheme,
    batch: u64,
    g: Graph,
    vals: HashMap<String, Val>,
    weights: Vec<Init>,
    /// `value_info` by value name.
    info: HashMap<&'a str, &'a pb::ValueInfoProto>,
    node: String,
    op_type: String,
}

type R<T> = Result<T, OnnxError>;

fn broadcast(a: &[u64], b: &[u64]) -> Option<Vec<u64>> {
    let n = a.len().max(b.len());
    let mut out = vec![0; n];
    for i in 0..n {
        let x = if i + a.len() >= n {
            a[i + a.len() - n]
        } else {
            1
        };
        let y = if i + b.len() >= n {
            b[i + b.len() - n]
        } else {
            1
        };
        out[i] = match (x, y) {
            (x, y) if x == y => x,
            (1, y) => y,
            (x, 1) => x,
            _ => return None,
        };
    }
    Some(out)
}

/// Row-major strides.
fn strides(s: &[u64]) -> Vec<u64> {
    let mut st = vec![1; s.len()];
    for i in (0..s.len().saturating_sub(1)).rev() {
        st[i] = st[i + 1] * s[i + 1];
    }
    st
}

/// Reads element `idx` (multi-index in the output's broadcast shape) of a tensor of shape `s`.
fn bcast_get(data: &[f64], s: &[u64], out_idx: &[u64]) -> f64 {
    let st = strides(s);
    let off = out_idx.len() - s.len();
    let mut flat = 0;
    for (i, &d) in s.iter().enumerate() {
        let x = if d == 1 { 0 } else { out_idx[off + i] };
        flat += x * st[i];
    }
    data[flat as usize]
}

fn unravel(mut flat: u64, s: &[u64]) -> Vec<u64> {
    let mut idx = vec![0; s.len()];
    for i in (0..s.len()).rev() {
        idx[i] = flat % s[i].max(1);
        flat /= s[i].max(1);
    }
    idx
}

fn axis(a: i64, rank: usize) -> Option<usize> {
    let r = rank as i64;
    let x = if a < 0 { a + r } else { a };
    (0..r.max(1)).contains(&x).then_some(x as usize)
}

impl<'a> Importer<'a> {
    fn new(m: &'a OnnxModel, q: &'a QuantScheme, batch: u64) -> Self {
        Importer {
            m,
            q,
            batch,
            g: Graph::new(format!("{} b{} {}", m.name, batch, q.name)),
            vals: HashMap::new(),
            weights: Vec::new(),
            info: m
                .graph
                .value_info
                .iter()
                .map(|v| (v.name.as_str(), v))
                .collect(),
            node: String::new(),
            op_type: String::new(),
        }
    }

    fn err<T>(&self, message: impl Into<String>) -> R<T> {
        Err(OnnxError::Node {
            path: self.m.path.clone(),
            node: self.node.clone(),
            op_type: self.op_type.clone(),
            message: message.into(),
        })
    }

    fn model_err<T>(&self, message: impl Into<String>) -> R<T> {
        Err(OnnxError::Model {
            path: self.m.path.clone(),
            message: message.into(),
        })
    }

    fn run(mut self) -> R<Graph> {
        let graph = &self.m.graph;
        for t in &graph.initializer {
            let Some(shape) = shape_of_dims(&t.dims) else {
                return self
                    .model_err(format!("initializer `{}` has a negative dimension", t.name));
            };
            let float = is_float_type(t.data_type);
            if !float || numel(&shape) <= 1 {
                let Some(data) = tensor_values(t) else {
                    return self.model_err(format!(
                        "initializer `{}` is an integer or scalar tensor whose values are not stored inline (external data or an unsupported type)",
                        t.name
                    ));
                };
                self.vals.insert(
                    t.name.clone(),
                    Val::Const {
                        shape,
                        data,
                        int: !float,
                    },
                );
            } else {
                let data = (numel(&shape) <= KEEP_DATA_LIMIT)
                    .then(|| tensor_values(t))
                    .flatten();
                self.weights.push(Init {
                    name: t.name.clone(),
                    shape: shape.clone(),
                    data,
                    id: None,
                });
                self.vals.insert(
                    t.name.clone(),
                    Val::Weight {
                        w: self.weights.len() - 1,
                        shape,
                    },
                );
            }
        }
        for input in &graph.input {
            if self.vals.contains_key(&input.name) {
                continue; // an initializer listed as an input (IR < 4)
            }
            let shape = self.input_shape(input)?;
            let int = match input.r#type.as_ref().and_then(|t| t.value.as_ref()) {
                Some(pb::type_proto::Value::TensorType(t)) => !is_float_type(t.elem_type),
                None => false,
            };
            let storage = Storage::plain(if int { DType::I32 } else { self.q.acts });
            let id = self
                .g
                .add_tensor(input.name.clone(), &shape, storage, Role::Input);
            self.vals.insert(input.name.clone(), Val::Act { id, shape });
        }
        let order = self.topo_order()?;
        for i in order {
            let node = &self.m.graph.node[i];
            self.node = if node.name.is_empty() {
                format!("{}_{i}", node.op_type)
            } else {
                node.name.clone()
            };
            self.op_type = node.op_type.clone();
            if !(node.domain.is_empty() || node.domain == "ai.onnx") {
                return Err(self.unsupported(node));
            }
            self.import_node(node)?;
            self.check_value_info(node)?;
        }
        for out in &self.m.graph.output {
            match self.vals.get(&out.name) {
                Some(Val::Act { id, .. }) => {
                    let t = &mut self.g.tensors[id.0 as usize];
                    if t.role == Role::Activation {
                        t.role = Role::Output;
                    }
                }
                Some(_) => {}
                None => {
                    return self.model_err(format!(
                        "graph output `{}` is not produced by any node",
                        out.name
                    ));
                }
            }
        }
        if let Err(e) = self.g.validate() {
            return self.model_err(format!("imported graph is inconsistent: {e}"));
        }
        Ok(self.g)
    }

    fn unsupported(&self, node: &pb::NodeProto) -> OnnxError {
        OnnxError::Unsupported {
            path: self.m.path.clone(),
            node: self.node.clone(),
            op_type: node.op_type.clone(),
            domain: if node.domain.is_empty() {
                String::new()
            } else {
                format!(" in domain `{}`", node.domain)
            },
            supported: SUPPORTED_OPS.join(", "),
        }
    }

    fn input_shape(&self, input: &pb::ValueInfoProto) -> R<Vec<u64>> {
        use pb::tensor_shape_proto::dimension::Value as DV;
        let Some(pb::type_proto::Value::TensorType(t)) =
            input.r#type.as_ref().and_then(|t| t.value.as_ref())
        else {
            return self.model_err(format!("graph input `{}` is not a tensor", input.name));
        };
        let Some(shape) = &t.shape else {
            return self.model_err(format!("graph input `{}` has no shape", input.name));
        };
        let mut out = Vec::with_capacity(shape.dim.len());
        for (i, d) in shape.dim.iter().enumerate() {
            let v = match &d.value {
                Some(DV::DimValue(v)) if *v > 0 => {
                    if i == 0 && *v as u64 != self.batch {
                        return self.model_err(format!(
                            "graph input `{}` has a fixed batch of {v}, but batch {} was asked; export the model with a symbolic batch dimension to score other batches",
                            input.name, self.batch
                        ));
                    }
                    *v as u64
                }
                Some(DV::DimParam(p)) if i > 0 => match self.m.dims.iter().find(|(k, _)| k == p) {
                    Some(&(_, v)) => v,
                    None => {
                        return self.model_err(format!(
                                "graph input `{}` has symbolic dimension `{p}` (axis {i}); give its value with the model name, e.g. `{}?{p}=128`",
                                input.name, self.m.path
                            ));
                    }
                },
                _ if i == 0 => self.batch,
                _ => {
                    return self.model_err(format!(
                        "graph input `{}` has an unknown dimension at axis {i}",
                        input.name
                    ));
                }
            };
            out.push(v);
        }
        Ok(out)
    }

    /// Node indices in an order where every input is produced first (the file's order when it
    /// is already valid, as the ONNX spec requires).
    fn topo_order(&self) -> R<Vec<usize>> {
        let nodes = &self.m.graph.node;
        let mut producer: HashMap<&str, usize> = HashMap::new();
        for (i, n) in nodes.iter().enumerate() {
            for o in n.output.iter().filter(|o| !o.is_empty()) {
                if let Some(&j) = producer.get(o.as_str()) {
                    return self.model_err(format!(
                        "value `{o}` is produced by two nodes (#{j} and #{i})"
                    ));
                }
                producer.insert(o, i);
            }
        }
        let mut state = vec![0u8; nodes.len()]; // 0 new, 1 visiting, 2 done
        let mut order = Vec::with_capacity(nodes.len());
        for start in 0..nodes.len() {
            if state[start] != 0 {
                continue;
            }
            let mut stack = vec![(start, 0usize)];
            state[start] = 1;
            while let Some(top) = stack.last_mut() {
                let n = top.0;
                let ins = &nodes[n].input;
                if top.1 < ins.len() {
                    let name = ins[top.1].as_str();
                    top.1 += 1;
                    if let Some(&p) = producer.get(name) {
                        match state[p] {
                            0 => {
                                state[p] = 1;
                                stack.push((p, 0));
                            }
                            1 => {
                                return self.model_err(format!(
                                    "the graph has a cycle through value `{name}`"
                                ));
                            }
                            _ => {}
                        }
                    } else if !name.is_empty() && !self.vals.contains_key(name) {
                        return self.model_err(format!(
                            "node #{n} (`{}`) reads `{name}`, which is neither a graph input, an initializer nor a node output",
                            nodes[n].name
                        ));
                    }
                } else {
                    state[n] = 2;
                    order.push(n);
                    stack.pop();
                }
            }
        }
        Ok(order)
    }

    fn check_value_info(&self, node: &pb::NodeProto) -> R<()> {
        use pb::tensor_shape_proto::dimension::Value as DV;
        for o in &node.output {
            let Some(vi) = self.info.get(o.as_str()) else {
                continue;
            };
            let Some(pb::type_proto::Value::TensorType(t)) =
                vi.r#type.as_ref().and_then(|t| t.value.as_ref())
            else {
                continue;
            };
            let (Some(s), Some(v)) = (&t.shape, self.vals.get(o)) else {
                continue;
            };
            let ours = v.shape();
            let dims: Vec<Option<u64>> = s
                .dim
                .iter()
                .map(|d| match d.value {
                    Some(DV::DimValue(x)) if x > 0 => Some(x as u64),
                    _ => None,
                })
                .collect();
            let agree = dims.len() == ours.len()
                && dims.iter().zip(ours).enumerate().all(|(i, (d, &o))| {
                    // the batch axis may be fixed to the export batch in value_info
                    d.is_none_or(|d| d == o || (i == 0 && o == self.batch))
                });
            if !agree {
                return self.err(format!(
                    "inferred shape {ours:?} of `{o}` disagrees with its value_info {dims:?}"
                ));
            }
        }
        Ok(())
    }

    // ---- value access -------------------------------------------------------------------

    fn val(&self, node: &pb::NodeProto, i: usize) -> R<Val> {
        match node.input.get(i).filter(|s| !s.is_empty()) {
            Some(name) => match self.vals.get(name) {
                Some(v) => Ok(v.clone()),
                None => self.err(format!("input `{name}` is not known")),
            },
            None => self.err(format!("missing input #{i}")),
        }
    }

    fn opt_val(&self, node: &pb::NodeProto, i: usize) -> R<Option<Val>> {
        match node.input.get(i).filter(|s| !s.is_empty()) {
            Some(_) => self.val(node, i).map(Some),
            None => Ok(None),
        }
    }

    /// Values of a constant input (shape tensors, scales, pads).
    fn const_of(&self, v: &Val) -> Option<Vec<f64>> {
        match v {
            Val::Const { data, .. } => Some(data.clone()),
            Val::Weight { w, .. } => self.weights[*w].data.clone(),
            Val::Act { .. } => None,
        }
    }

    fn const_input(&self, node: &pb::NodeProto, i: usize, what: &str) -> R<Vec<f64>> {
        let v = self.val(node, i)?;
        match self.const_of(&v) {
            Some(d) => Ok(d),
            None => self.err(format!(
                "input #{i} ({what}) must be a constant known at import; it is computed at run time"
            )),
        }
    }

    fn const_ints(&self, node: &pb::NodeProto, i: usize, what: &str) -> R<Vec<i64>> {
        Ok(self
            .const_input(node, i, what)?
            .into_iter()
            .map(|x| x as i64)
            .collect())
    }

    /// The graph tensor of a value used as an op input; `None` for folded scalar constants.
    /// Like [`Self::tensor_for`], for inputs that must be a tensor: a scalar constant there is
    /// an error naming the node, not a panic.
    fn required(&mut self, v: &Val, usage: Use) -> R<TensorId> {
        match self.tensor_for(v, usage) {
            Some(id) => Ok(id),
            None => self.err("an input that must be a tensor is a scalar constant"),
        }
    }

    fn tensor_for(&mut self, v: &Val, usage: Use) -> Option<TensorId> {
        match v {
            Val::Act { id, .. } => Some(*id),
            Val::Weight { w, .. } => {
                let init = &self.weights[*w];
                if let Some(id) = init.id {
                    return Some(id);
                }
                let (shape, storage) = match usage {
                    Use::Linear { out } => {
                        let n = numel(&init.shape);
                        (vec![out, n / out.max(1)], self.q.weights)
                    }
                    Use::Table => (init.shape.clone(), self.q.embed),
                    Use::Plain => (init.shape.clone(), Storage::plain(self.q.float)),
                };
                let id = self
                    .g
                    .add_tensor(init.name.clone(), &shape, storage, Role::Weight);
                self.weights[*w].id = Some(id);
                Some(id)
            }
            Val::Const { shape, int, .. } => {
                if numel(shape) <= 1 {
                    return None;
                }
                let storage = Storage::plain(if *int { DType::I32 } else { self.q.float });
                let name = format!("{}.const{}", self.node, self.g.tensors.len());
                Some(self.g.add_tensor(name, shape, storage, Role::Weight))
            }
        }
    }

    fn set(&mut self, name: &str, v: Val) {
        if !name.is_empty() {
            self.vals.insert(name.to_string(), v);
        }
    }

    fn out_name<'n>(&self, node: &'n pb::NodeProto, i: usize) -> R<&'n str> {
        match node.output.get(i) {
            Some(s) => Ok(s.as_str()),
            None => self.err(format!("missing output #{i}")),
        }
    }

    /// Emits a zero-FLOP data-movement op (concat, transpose, pad, broadcast, ...) whose output
    /// has shape `out`.
    fn data_move(
        &mut self,
        node: &pb::NodeProto,
        kind: MoveKind,
        ins: Vec<TensorId>,
        out: Vec<u64>,
    ) -> R<()> {
        let elems = numel(&out);
        self.op(node, OpKind::DataMove { kind, elems }, ins, out, false)
    }

    /// Adds an op producing one activation of `shape` from `ins`.
    fn op(
        &mut self,
        node: &pb::NodeProto,
        kind: OpKind,
        ins: Vec<TensorId>,
        shape: Vec<u64>,
        linear: bool,
    ) -> R<()> {
        let name = self.out_name(node, 0)?.to_string();
        let id = self.g.add_tensor(
            name.clone(),
            &shape,
            Storage::plain(self.q.acts),
            Role::Activation,
        );
        let compute = if linear {
            self.q.linear_compute
        } else {
            self.q.float
        };
        self.g
            .add_op(self.node.clone(), kind, &ins, &[id], compute, None);
        self.set(&name, Val::Act { id, shape });
        Ok(())
    }

    fn alias(&mut self, node: &pb::NodeProto, v: &Val, shape: Vec<u64>) -> R<()> {
        let out = self.out_name(node, 0)?.to_string();
        let nv = match v {
            Val::Act { id, .. } => Val::Act { id: *id, shape },
            Val::Weight { w, .. } => Val::Weight { w: *w, shape },
            Val::Const { data, int, .. } => Val::Const {
                shape,
                data: data.clone(),
                int: *int,
            },
        };
        self.set(&out, nv);
        Ok(())
    }

    fn set_const(
        &mut self,
        node: &pb::NodeProto,
        shape: Vec<u64>,
        data: Vec<f64>,
        int: bool,
    ) -> R<()> {
        if numel(&shape) > MAX_CONST_ELEMS || data.len() as u64 != numel(&shape) {
            return self.err("constant too large or inconsistent to evaluate at import");
        }
        let out = self.out_name(node, 0)?.to_string();
        self.set(&out, Val::Const { shape, data, int });
        Ok(())
    }

    // ---- nodes --------------------------------------------------------------------------

    fn import_node(&mut self, node: &pb::NodeProto) -> R<()> {
        let a = Attrs(&node.attribute);
        match node.op_type.as_str() {
            "Constant" => self.constant(node, &a),
            "Identity" | "Dropout" => {
                if node.op_type == "Dropout" && node.output.get(1).is_some_and(|s| !s.is_empty()) {
                    return self.err("the dropout mask output is a training feature");
                }
                let v = self.val(node, 0)?;
                let s = v.shape().to_vec();
                self.alias(node, &v, s)
            }
            "Conv" => self.conv(node, &a),
            "ConvTranspose" => self.conv_transpose(node, &a),
            "Gemm" => self.gemm(node, &a),
            "MatMul" => self.matmul(node),
            "MaxPool" | "AveragePool" => self.pool(node, &a),
            "GlobalAveragePool" | "GlobalMaxPool" => {
                let x = self.act_input(node, 0)?;
                let s = x.shape().to_vec();
                if s.len() < 3 {
                    return self.err("expects [N, C, spatial...]");
                }
                let window = numel(&s[2..]);
                let mut out = s[..2].to_vec();
                out.extend(std::iter::repeat_n(1, s.len() - 2));
                let kind = if node.op_type == "GlobalMaxPool" {
                    PoolKind::Max
                } else {
                    PoolKind::Avg
                };
                let ins = vec![self.required(&x, Use::Plain)?];
                self.op(
                    node,
                    OpKind::Pool {
                        kind,
                        out_elems: numel(&out),
                        window,
                    },
                    ins,
                    out,
                    false,
                )
            }
            "BatchNormalization" => {
                if node.output.iter().skip(1).any(|s| !s.is_empty()) {
                    return self.err("running-statistics outputs are a training feature");
                }
                let x = self.act_input(node, 0)?;
                let s = x.shape().to_vec();
                if s.len() < 2 {
                    return self.err("expects [N, C, ...]");
                }
                let mut ins = vec![self.required(&x, Use::Plain)?];
                for i in 1..5 {
                    let v = self.val(node, i)?;
                    ins.extend(self.tensor_for(&v, Use::Plain));
                }
                self.op(
                    node,
                    OpKind::Norm {
                        kind: NormKind::BatchNorm,
                        rows: s[0] * s[1],
                        cols: numel(&s[2..]),
                    },
                    ins,
                    s,
                    false,
                )
            }
            "LayerNormalization" => {
                if node.output.iter().skip(1).any(|s| !s.is_empty()) {
                    return self.err("mean and inverse-std outputs are a training feature");
                }
                let x = self.act_input(node, 0)?;
                let s = x.shape().to_vec();
                let Some(ax) = axis(a.int("axis").unwrap_or(-1), s.len()) else {
                    return self.err("axis out of range");
                };
                let cols = numel(&s[ax..]);
                let mut ins = vec![self.required(&x, Use::Plain)?];
                for i in 1..3 {
                    if let Some(v) = self.opt_val(node, i)? {
                        ins.extend(self.tensor_for(&v, Use::Plain));
                    }
                }
                self.op(
                    node,
                    OpKind::Norm {
                        kind: NormKind::LayerNorm,
                        rows: numel(&s) / cols.max(1),
                        cols,
                    },
                    ins,
                    s,
                    false,
                )
            }
            "Softmax" | "LogSoftmax" => {
                let x = self.act_input(node, 0)?;
                let s = x.shape().to_vec();
                let default = if self.m.opset >= 13 { -1 } else { 1 };
                let Some(ax) = axis(a.int("axis").unwrap_or(default), s.len()) else {
                    return self.err("axis out of range");
                };
                // Opset < 13 coerces to 2-D at the axis; 13+ normalises along the axis only.
                let cols = if self.m.opset >= 13 {
                    s[ax]
                } else {
                    numel(&s[ax..])
                };
                let ins = vec![self.required(&x, Use::Plain)?];
                self.op(
                    node,
                    OpKind::Softmax {
                        rows: numel(&s) / cols.max(1),
                        cols,
                    },
                    ins,
                    s,
                    false,
                )
            }
            "Relu" | "Sigmoid" | "Tanh" | "Erf" | "Exp" | "Log" | "Sqrt" | "Reciprocal" | "Neg"
            | "Abs" | "HardSigmoid" | "HardSwish" | "LeakyRelu" | "Gelu" | "Not" | "Cast" => {
                self.unary(node, &a)
            }
            "Clip" => self.clip(node, &a),
            "Add" | "Sub" | "Mul" | "Div" | "Pow" | "Max" | "Min" | "Equal" | "Less"
            | "Greater" | "Where" => self.binary(node),
            "Shape" => {
                let v = self.val(node, 0)?;
                let s = v.shape();
                let r = s.len() as i64;
                let clampi = |x: i64| (if x < 0 { x + r } else { x }).clamp(0, r) as usize;
                let start = clampi(a.int("start").unwrap_or(0));
                let end = clampi(a.int("end").unwrap_or(r));
                let data: Vec<f64> = s[start..end.max(start)].iter().map(|&d| d as f64).collect();
                self.set_const(node, vec![data.len() as u64], data, true)
            }
            "Size" => {
                let v = self.val(node, 0)?;
                let n = numel(v.shape()) as f64;
                self.set_const(node, vec![], vec![n], true)
            }
            "Reshape" => {
                let v = self.val(node, 0)?;
                let target = self.const_ints(node, 1, "shape")?;
                let allowzero = a.int("allowzero").unwrap_or(0) == 1;
                let s = self.reshape_target(v.shape(), &target, allowzero)?;
                self.alias(node, &v, s)
            }
            "Flatten" => {
                let v = self.val(node, 0)?;
                let s = v.shape().to_vec();
                let Some(ax) = axis(a.int("axis").unwrap_or(1), s.len() + 1) else {
                    return self.err("axis out of range");
                };
                let out = vec![numel(&s[..ax]), numel(&s[ax..])];
                self.alias(node, &v, out)
            }
            "Squeeze" | "Unsqueeze" => self.squeeze(node, &a),
            "Concat" => self.concat(node, &a),
            "Transpose" => self.transpose(node, &a),
            "Slice" => self.slice(node, &a),
            "Split" => self.split(node, &a),
            "Gather" => self.gather(node, &a),
            "Resize" | "Upsample" => self.resize(node, &a),
            "Pad" => self.pad(node, &a),
            "ReduceMean" | "ReduceSum" | "ReduceMax" => self.reduce(node, &a),
            "ConstantOfShape" => {
                let s = self.const_ints(node, 0, "shape")?;
                let shape: Vec<u64> = s.iter().map(|&d| d.max(0) as u64).collect();
                let (value, int) = match a.get("value").and_then(|at| at.t.as_ref()) {
                    Some(t) => (
                        tensor_values(t)
                            .and_then(|v| v.first().copied())
                            .unwrap_or(0.0),
                        !is_float_type(t.data_type),
                    ),
                    None => (0.0, false),
                };
                let n = numel(&shape);
                if n > MAX_CONST_ELEMS {
                    return self.err("constant too large to evaluate at import");
                }
                self.set_const(node, shape, vec![value; n as usize], int)
            }
            "Range" => {
                let s = self.const_input(node, 0, "start")?;
                let l = self.const_input(node, 1, "limit")?;
                let d = self.const_input(node, 2, "delta")?;
                let int = matches!(self.val(node, 0)?, Val::Const { int: true, .. });
                let (s, l, d) = (s[0], l[0], d[0]);
                if d == 0.0 {
                    return self.err("delta is zero");
                }
                let n = ((l - s) / d).ceil().max(0.0) as u64;
                if n > MAX_CONST_ELEMS {
                    return self.err("range too long");
                }
                let data = (0..n).map(|i| s + i as f64 * d).collect();
                self.set_const(node, vec![n], data, int)
            }
            "Expand" | "Tile" => self.expand(node),
            _ => Err(self.unsupported(node)),
        }
    }

    fn act_input(&self, node: &pb::NodeProto, i: usize) -> R<Val> {
        let v = self.val(node, i)?;
        if matches!(v, Val::Const { .. }) && numel(v.shape()) <= 1 {
            return self.err(format!(
                "input #{i} is a scalar constant; expected a tensor"
            ));
        }
        Ok(v)
    }

    fn constant(&mut self, node: &pb::NodeProto, a: &Attrs) -> R<()> {
        let out = self.out_name(node, 0)?.to_string();
        if let Some(t) = a.get("value").and_then(|at| at.t.as_ref()) {
            let Some(shape) = shape_of_dims(&t.dims) else {
                return self.err("negative dimension");
            };
            let float = is_float_type(t.data_type);
            let data = tensor_values(t);
            if float && numel(&shape) > 1 {
                self.weights.push(Init {
                    name: out.clone(),
                    shape: shape.clone(),
                    data: data.filter(|_| numel(&shape) <= KEEP_DATA_LIMIT),
                    id: None,
                });
                let w = self.weights.len() - 1;
                self.set(&out, Val::Weight { w, shape });
                return Ok(());
            }
            let Some(data) = data else {
                return self.err("constant of an unsupported element type");
            };
            return self.set_const(node, shape, data, !float);
        }
        if let Some(f) = a.float("value_float") {
            return self.set_const(node, vec![], vec![f as f64], false);
        }
        if let Some(i) = a.int("value_int") {
            return self.set_const(node, vec![], vec![i as f64], true);
        }
        if let Some(v) = a.get("value_ints") {
            let d: Vec<f64> = v.ints.iter().map(|&x| x as f64).collect();
            return self.set_const(node, vec![d.len() as u64], d, true);
        }
        if let Some(v) = a.get("value_floats") {
            let d: Vec<f64> = v.floats.iter().map(|&x| x as f64).collect();
            return self.set_const(node, vec![d.len() as u64], d, false);
        }
        self.err("constant without a supported value attribute")
    }

    /// Pads (begin…, end…) from attributes, resolving `auto_pad` for windows `k` with strides
    /// `s` and dilations `d` over `spatial` sizes.
    fn window_pads(
        &self,
        a: &Attrs,
        spatial: &[u64],
        k: &[u64],
        s: &[u64],
        d: &[u64],
    ) -> R<Vec<u64>> {
        let n = spatial.len();
        let auto = a.string("auto_pad").unwrap_or_else(|| "NOTSET".into());
        match auto.as_str() {
            "NOTSET" | "" => {
                let p = a.ints("pads").unwrap_or_else(|| vec![0; 2 * n]);
                if p.len() != 2 * n || p.iter().any(|&x| x < 0) {
                    return self.err(format!("pads {p:?} do not fit {n} spatial axes"));
                }
                Ok(p.iter().map(|&x| x as u64).collect())
            }
            "VALID" => Ok(vec![0; 2 * n]),
            "SAME_UPPER" | "SAME_LOWER" => {
                let mut p = vec![0; 2 * n];
                for i in 0..n {
                    let out = spatial[i].div_ceil(s[i]);
                    let span = d[i] * (k[i] - 1) + 1;
                    let total = ((out - 1) * s[i] + span).saturating_sub(spatial[i]);
                    let small = total / 2;
                    let (b, e) = if auto == "SAME_UPPER" {
                        (small, total - small)
                    } else {
                        (total - small, small)
                    };
                    p[i] = b;
                    p[i + n] = e;
                }
                Ok(p)
            }
            other => self.err(format!("unknown auto_pad `{other}`")),
        }
    }

    fn spatial_attr(&self, a: &Attrs, name: &str, n: usize, default: u64) -> R<Vec<u64>> {
        match a.ints(name) {
            None => Ok(vec![default; n]),
            Some(v) if v.len() == n && v.iter().all(|&x| x > 0) => {
                Ok(v.iter().map(|&x| x as u64).collect())
            }
            Some(v) => self.err(format!("`{name}` {v:?} does not fit {n} spatial axes")),
        }
    }

    fn conv(&mut self, node: &pb::NodeProto, a: &Attrs) -> R<()> {
        let x = self.act_input(node, 0)?;
        let w = self.val(node, 1)?;
        let (xs, ws) = (x.shape().to_vec(), w.shape().to_vec());
        if xs.len() != 4 || ws.len() != 4 {
            return self.err(format!(
                "only 2-D convolutions are modelled (input {xs:?}, weight {ws:?})"
            ));
        }
        let group = a.int("group").unwrap_or(1).max(1) as u64;
        let k = match a.ints("kernel_shape") {
            Some(k) => k.iter().map(|&v| v.max(1) as u64).collect(),
            None => ws[2..].to_vec(),
        };
        let s = self.spatial_attr(a, "strides", 2, 1)?;
        let d = self.spatial_attr(a, "dilations", 2, 1)?;
        let p = self.window_pads(a, &xs[2..], &k, &s, &d)?;
        if xs[1] != ws[1] * group || ws[0] % group != 0 {
            return self.err(format!(
                "input has {} channels but the weight {ws:?} with {group} groups expects {}",
                xs[1],
                ws[1] * group
            ));
        }
        let mut out = vec![xs[0], ws[0]];
        for i in 0..2 {
            let span = d[i] * (k[i] - 1) + 1;
            let padded = xs[2 + i] + p[i] + p[i + 2];
            if padded < span {
                return self.err("the window is larger than the padded input");
            }
            out.push((padded - span) / s[i] + 1);
        }
        // Symmetric padding is kept as such; asymmetric padding (TF "SAME") is folded into the
        // input size so that the MAC formula sees the right output size.
        let sym = p[0] == p[2] && p[1] == p[3];
        let c = Conv2d {
            n: xs[0],
            c_in: xs[1],
            h: if sym { xs[2] } else { xs[2] + p[0] + p[2] },
            w: if sym { xs[3] } else { xs[3] + p[1] + p[3] },
            c_out: ws[0],
            kh: k[0],
            kw: k[1],
            stride: (s[0], s[1]),
            pad: if sym { (p[0], p[1]) } else { (0, 0) },
            dilation: (d[0], d[1]),
            groups: group,
        };
        debug_assert_eq!((c.out_h(), c.out_w()), (out[2], out[3]));
        let mut ins = vec![self.required(&x, Use::Plain)?];
        ins.extend(self.tensor_for(&w, Use::Linear { out: ws[0] }));
        if let Some(b) = self.opt_val(node, 2)? {
            ins.extend(self.tensor_for(&b, Use::Plain));
        }
        self.op(node, OpKind::Conv2d(c), ins, out, true)
    }

    fn conv_transpose(&mut self, node: &pb::NodeProto, a: &Attrs) -> R<()> {
        let x = self.act_input(node, 0)?;
        let w = self.val(node, 1)?;
        let (xs, ws) = (x.shape().to_vec(), w.shape().to_vec());
        if xs.len() != 4 || ws.len() != 4 {
            return self.err("only 2-D transposed convolutions are modelled");
        }
        if a.get("output_shape").is_some()
            || a.ints("output_padding")
                .is_some_and(|v| v.iter().any(|&x| x != 0))
            || a.string("auto_pad").is_some_and(|s| s != "NOTSET")
        {
            return self.err("output_shape, output_padding and auto_pad are not supported");
        }
        let group = a.int("group").unwrap_or(1).max(1) as u64;
        if xs[1] != ws[0] {
            return self.err(format!(
                "input has {} channels, weight {ws:?} expects {}",
                xs[1], ws[0]
            ));
        }
        let s = self.spatial_attr(a, "strides", 2, 1)?;
        let d = self.spatial_attr(a, "dilations", 2, 1)?;
        let p = a.ints("pads").unwrap_or_else(|| vec![0; 4]);
        if p.len() != 4 || p[0] != p[2] || p[1] != p[3] || p.iter().any(|&v| v < 0) {
            return self.err(format!("pads {p:?}: only symmetric padding is supported"));
        }
        let c = Conv2d {
            n: xs[0],
            c_in: xs[1],
            h: xs[2],
            w: xs[3],
            c_out: ws[1] * group,
            kh: ws[2],
            kw: ws[3],
            stride: (s[0], s[1]),
            pad: (p[0] as u64, p[1] as u64),
            dilation: (d[0], d[1]),
            groups: group,
        };
        let (Some(ho), Some(wo)) = (c.transposed_out_h(), c.transposed_out_w()) else {
            return self.err("empty output");
        };
        let mut ins = vec![self.required(&x, Use::Plain)?];
        ins.extend(self.tensor_for(&w, Use::Linear { out: c.c_out }));
        if let Some(b) = self.opt_val(node, 2)? {
            ins.extend(self.tensor_for(&b, Use::Plain));
        }
        self.op(
            node,
            OpKind::ConvTranspose2d(c),
            ins,
            vec![xs[0], c.c_out, ho, wo],
            true,
        )
    }

    fn gemm(&mut self, node: &pb::NodeProto, a: &Attrs) -> R<()> {
        let x = self.act_input(node, 0)?;
        let w = self.val(node, 1)?;
        let (xs, ws) = (x.shape().to_vec(), w.shape().to_vec());
        if xs.len() != 2 || ws.len() != 2 {
            return self.err(format!("expects 2-D operands, got {xs:?} and {ws:?}"));
        }
        let (m, k) = if a.int("transA").unwrap_or(0) == 1 {
            (xs[1], xs[0])
        } else {
            (xs[0], xs[1])
        };
        let (kb, n) = if a.int("transB").unwrap_or(0) == 1 {
            (ws[1], ws[0])
        } else {
            (ws[0], ws[1])
        };
        if k != kb {
            return self.err(format!("inner dimensions differ: {xs:?} × {ws:?}"));
        }
        let mut ins = vec![self.required(&x, Use::Plain)?];
        ins.extend(self.tensor_for(&w, Use::Linear { out: n }));
        if let Some(c) = self.opt_val(node, 2)? {
            ins.extend(self.tensor_for(&c, Use::Plain));
        }
        self.op(
            node,
            OpKind::MatMul { batch: 1, m, n, k },
            ins,
            vec![m, n],
            true,
        )
    }

    fn matmul(&mut self, node: &pb::NodeProto) -> R<()> {
        let x = self.val(node, 0)?;
        let w = self.val(node, 1)?;
        let (mut xs, mut ws) = (x.shape().to_vec(), w.shape().to_vec());
        let (x1, w1) = (xs.len() == 1, ws.len() == 1);
        if xs.is_empty() || ws.is_empty() {
            return self.err("scalar operands");
        }
        if x1 {
            xs.insert(0, 1);
        }
        if w1 {
            ws.push(1);
        }
        let (m, k) = (xs[xs.len() - 2], xs[xs.len() - 1]);
        let (kb, n) = (ws[ws.len() - 2], ws[ws.len() - 1]);
        if k != kb {
            return self.err(format!("inner dimensions differ: {xs:?} × {ws:?}"));
        }
        let Some(batch) = broadcast(&xs[..xs.len() - 2], &ws[..ws.len() - 2]) else {
            return self.err(format!(
                "batch dimensions of {xs:?} and {ws:?} do not broadcast"
            ));
        };
        let mut out = batch.clone();
        if !x1 {
            out.push(m);
        }
        if !w1 {
            out.push(n);
        }
        let weight_rhs = matches!(w, Val::Weight { .. }) && ws.len() == 2;
        let (kind, ins) = if weight_rhs && x.is_act() {
            // A linear layer: fold the batch dimensions of x into the rows.
            let rows = numel(&xs[..xs.len() - 1]);
            let xi = self.required(&x, Use::Plain)?;
            let wi = self.required(&w, Use::Linear { out: n })?;
            (
                OpKind::MatMul {
                    batch: 1,
                    m: rows,
                    n,
                    k,
                },
                vec![xi, wi],
            )
        } else {
            let mut ins = Vec::new();
            ins.extend(self.tensor_for(&x, Use::Plain));
            ins.extend(self.tensor_for(&w, Use::Plain));
            (
                OpKind::MatMul {
                    batch: numel(&batch),
                    m,
                    n,
                    k,
                },
                ins,
            )
        };
        self.op(node, kind, ins, out, true)
    }

    fn pool(&mut self, node: &pb::NodeProto, a: &Attrs) -> R<()> {
        if node.output.get(1).is_some_and(|s| !s.is_empty()) {
            return self.err("the max-pool indices output is not supported");
        }
        let x = self.act_input(node, 0)?;
        let xs = x.shape().to_vec();
        if xs.len() < 3 {
            return self.err("expects [N, C, spatial...]");
        }
        let n = xs.len() - 2;
        let Some(k) = a.ints("kernel_shape") else {
            return self.err("missing kernel_shape");
        };
        if k.len() != n || k.iter().any(|&v| v <= 0) {
            return self.err(format!("kernel_shape {k:?} does not fit {n} spatial axes"));
        }
        let k: Vec<u64> = k.iter().map(|&v| v as u64).collect();
        let s = self.spatial_attr(a, "strides", n, 1)?;
        let d = self.spatial_attr(a, "dilations", n, 1)?;
        let p = self.window_pads(a, &xs[2..], &k, &s, &d)?;
        let ceil = a.int("ceil_mode").unwrap_or(0) == 1;
        let mut out = xs[..2].to_vec();
        for i in 0..n {
            let span = d[i] * (k[i] - 1) + 1;
            let padded = xs[2 + i] + p[i] + p[i + n];
            if padded < span {
                return self.err("the window is larger than the padded input");
            }
            let q = padded - span;
            let mut o = if ceil { q.div_ceil(s[i]) } else { q / s[i] } + 1;
            if ceil && (o - 1) * s[i] >= xs[2 + i] + p[i] {
                o -= 1;
            }
            out.push(o);
        }
        let kind = if node.op_type == "MaxPool" {
            PoolKind::Max
        } else {
            PoolKind::Avg
        };
        let ins = vec![self.required(&x, Use::Plain)?];
        self.op(
            node,
            OpKind::Pool {
                kind,
                out_elems: numel(&out),
                window: numel(&k),
            },
            ins,
            out,
            false,
        )
    }

    fn unary(&mut self, node: &pb::NodeProto, a: &Attrs) -> R<()> {
        let x = self.val(node, 0)?;
        let op = node.op_type.as_str();
        if let Val::Const { shape, data, int } = &x {
            let to_int = op == "Cast" && !is_float_type(a.int("to").unwrap_or(1) as i32);
            let f = |v: f64| -> Option<f64> {
                Some(match op {
                    "Cast" if to_int => v.trunc(),
                    "Cast" | "Identity" => v,
                    "Neg" => -v,
                    "Abs" => v.abs(),
                    "Sqrt" => v.sqrt(),
                    "Reciprocal" => 1.0 / v,
                    "Exp" => v.exp(),
                    "Log" => v.ln(),
                    "Relu" => v.max(0.0),
                    "Not" => (v == 0.0) as u8 as f64,
                    _ => return None,
                })
            };
            let vals: Option<Vec<f64>> = data.iter().map(|&v| f(v)).collect();
            if let Some(vals) = vals {
                let int = if op == "Cast" { to_int } else { *int };
                return self.set_const(node, shape.clone(), vals, int);
            }
        }
        let s = x.shape().to_vec();
        if op == "Cast" && !x.is_act() {
            return self.alias(node, &x, s);
        }
        let elt = match op {
            "Relu" => EltOp::Relu,
            "Sigmoid" => EltOp::Sigmoid,
            "HardSigmoid" => EltOp::HardSigmoid,
            "HardSwish" => EltOp::HardSwish,
            "LeakyRelu" => EltOp::LeakyRelu,
            "Gelu" => EltOp::Gelu,
            "Not" => EltOp::Compare,
            _ => EltOp::Unary,
        };
        let ins: Vec<TensorId> = self.tensor_for(&x, Use::Plain).into_iter().collect();
        self.op(
            node,
            OpKind::Elementwise {
                op: elt,
                elems: numel(&s),
            },
            ins,
            s,
            false,
        )
    }

    fn clip(&mut self, node: &pb::NodeProto, a: &Attrs) -> R<()> {
        let x = self.act_input(node, 0)?;
        let (lo, hi) = if self.m.opset < 11 {
            (
                a.float("min").map(|v| v as f64),
                a.float("max").map(|v| v as f64),
            )
        } else {
            let lo = match self.opt_val(node, 1)? {
                Some(v) => Some(self.const_of(&v).and_then(|d| d.first().copied()).ok_or(())),
                None => None,
            };
            let hi = match self.opt_val(node, 2)? {
                Some(v) => Some(self.const_of(&v).and_then(|d| d.first().copied()).ok_or(())),
                None => None,
            };
            match (lo.transpose(), hi.transpose()) {
                (Ok(l), Ok(h)) => (l, h),
                _ => return self.err("clip bounds must be constants"),
            }
        };
        let op = match (lo, hi) {
            (Some(l), Some(h)) if l == 0.0 && h == 6.0 => EltOp::Relu6,
            (Some(l), None) if l == 0.0 => EltOp::Relu,
            _ => EltOp::Clip,
        };
        let s = x.shape().to_vec();
        let ins = vec![self.required(&x, Use::Plain)?];
        self.op(
            node,
            OpKind::Elementwise {
                op,
                elems: numel(&s),
            },
            ins,
            s,
            false,
        )
    }

    fn binary(&mut self, node: &pb::NodeProto) -> R<()> {
        let n_in = if node.op_type == "Where" { 3 } else { 2 };
        let mut vals = Vec::with_capacity(n_in);
        for i in 0..n_in {
            vals.push(self.val(node, i)?);
        }
        let mut shape = vals[0].shape().to_vec();
        for v in &vals[1..] {
            shape = match broadcast(&shape, v.shape()) {
                Some(s) => s,
                None => {
                    return self.err(format!(
                        "shapes {:?} do not broadcast",
                        vals.iter().map(|v| v.shape().to_vec()).collect::<Vec<_>>()
                    ));
                }
            };
        }
        let op = node.op_type.as_str();
        // All inputs known: evaluate.
        let consts: Option<Vec<Vec<f64>>> = vals.iter().map(|v| self.const_of(v)).collect();
        if let Some(cs) = consts
            && numel(&shape) <= MAX_CONST_ELEMS
        {
            let int = vals
                .iter()
                .skip(if op == "Where" { 1 } else { 0 })
                .all(|v| matches!(v, Val::Const { int: true, .. }));
            let compare = matches!(op, "Equal" | "Less" | "Greater");
            let mut out = Vec::with_capacity(numel(&shape) as usize);
            for flat in 0..numel(&shape) {
                let idx = unravel(flat, &shape);
                let x: Vec<f64> = cs
                    .iter()
                    .zip(&vals)
                    .map(|(d, v)| bcast_get(d, v.shape(), &idx))
                    .collect();
                out.push(match op {
                    "Add" => x[0] + x[1],
                    "Sub" => x[0] - x[1],
                    "Mul" => x[0] * x[1],
                    "Div" if int => (x[0] / x[1]).trunc(),
                    "Div" => x[0] / x[1],
                    "Pow" => x[0].powf(x[1]),
                    "Max" => x[0].max(x[1]),
                    "Min" => x[0].min(x[1]),
                    "Equal" => (x[0] == x[1]) as u8 as f64,
                    "Less" => (x[0] < x[1]) as u8 as f64,
                    "Greater" => (x[0] > x[1]) as u8 as f64,
                    _ => {
                        if x[0] != 0.0 {
                            x[1]
                        } else {
                            x[2]
                        }
                    }
                });
            }
            return self.set_const(node, shape, out, int || compare);
        }
        let elt = match op {
            "Add" => EltOp::Add,
            "Sub" => EltOp::Sub,
            "Mul" => EltOp::Mul,
            "Div" => EltOp::Div,
            "Pow" => EltOp::Unary,
            "Max" | "Min" => EltOp::Clip,
            _ => EltOp::Compare,
        };
        let mut ins = Vec::new();
        for v in &vals {
            ins.extend(self.tensor_for(v, Use::Plain));
        }
        self.op(
            node,
            OpKind::Elementwise {
                op: elt,
                elems: numel(&shape),
            },
            ins,
            shape,
            false,
        )
    }

    fn reshape_target(&self, input: &[u64], target: &[i64], allowzero: bool) -> R<Vec<u64>> {
        let mut out = Vec::with_capacity(target.len());
        let mut infer = None;
        for (i, &t) in target.iter().enumerate() {
            match t {
                -1 if infer.is_none() => {
                    infer = Some(i);
                    out.push(1);
                }
                0 if !allowzero => match input.get(i) {
                    Some(&d) => out.push(d),
                    None => return self.err(format!("shape {target:?} copies a missing axis {i}")),
                },
                t if t >= 0 => out.push(t as u64),
                _ => return self.err(format!("bad target shape {target:?}")),
            }
        }
        let total = numel(input);
        if let Some(i) = infer {
            let rest = numel(&out);
            if rest == 0 || total % rest != 0 {
                return self.err(format!("cannot reshape {input:?} to {target:?}"));
            }
            out[i] = total / rest;
        }
        if numel(&out) != total {
            return self.err(format!(
                "cannot reshape {input:?} ({total} elements) to {target:?}"
            ));
        }
        Ok(out)
    }

    fn axes_arg(&self, node: &pb::NodeProto, a: &Attrs, input: usize) -> R<Option<Vec<i64>>> {
        if let Some(ax) = a.ints("axes") {
            return Ok(Some(ax));
        }
        match self.opt_val(node, input)? {
            Some(v) => match self.const_of(&v) {
                Some(d) => Ok(Some(d.iter().map(|&x| x as i64).collect())),
                None => self.err("axes must be a constant"),
            },
            None => Ok(None),
        }
    }

    fn squeeze(&mut self, node: &pb::NodeProto, a: &Attrs) -> R<()> {
        let v = self.val(node, 0)?;
        let s = v.shape().to_vec();
        let axes = self.axes_arg(node, a, 1)?;
        let out = if node.op_type == "Squeeze" {
            match axes {
                None => s.iter().copied().filter(|&d| d != 1).collect(),
                Some(ax) => {
                    let mut drop = Vec::new();
                    for x in ax {
                        match axis(x, s.len()) {
                            Some(i) if s[i] == 1 => drop.push(i),
                            _ => return self.err(format!("cannot squeeze axis {x} of {s:?}")),
                        }
                    }
                    s.iter()
                        .enumerate()
                        .filter(|(i, _)| !drop.contains(i))
                        .map(|(_, &d)| d)
                        .collect()
                }
            }
        } else {
            let Some(ax) = axes else {
                return self.err("missing axes");
            };
            let r = s.len() + ax.len();
            let mut ins: Vec<usize> = Vec::new();
            for x in &ax {
                match axis(*x, r) {
                    Some(i) => ins.push(i),
                    None => return self.err(format!("axis {x} out of range")),
                }
            }
            let mut out = Vec::with_capacity(r);
            let mut it = s.iter();
            for i in 0..r {
                if ins.contains(&i) {
                    out.push(1);
                } else {
                    out.push(*it.next().unwrap_or(&1));
                }
            }
            out
        };
        self.alias(node, &v, out)
    }

    fn concat(&mut self, node: &pb::NodeProto, a: &Attrs) -> R<()> {
        let mut vals = Vec::new();
        for i in 0..node.input.len() {
            if let Some(v) = self.opt_val(node, i)? {
                vals.push(v);
            }
        }
        if vals.is_empty() {
            return self.err("no inputs");
        }
        let rank = vals[0].shape().len();
        let Some(ax) = axis(a.int("axis").unwrap_or(0), rank) else {
            return self.err("axis out of range");
        };
        let mut out = vals[0].shape().to_vec();
        out[ax] = 0;
        for v in &vals {
            let s = v.shape();
            if s.len() != rank
                || s.iter()
                    .zip(&vals[0].shape().to_vec())
                    .enumerate()
                    .any(|(i, (x, y))| i != ax && x != y)
            {
                return self.err(format!(
                    "cannot concatenate {:?} with {s:?}",
                    vals[0].shape()
                ));
            }
            out[ax] += s[ax];
        }
        let consts: Option<Vec<Vec<f64>>> = vals.iter().map(|v| self.const_of(v)).collect();
        if let Some(cs) = consts.filter(|_| vals.iter().all(|v| matches!(v, Val::Const { .. }))) {
            let outer = numel(&out[..ax]);
            let mut data = Vec::with_capacity(numel(&out) as usize);
            for o in 0..outer {
                for (d, v) in cs.iter().zip(&vals) {
                    let chunk = numel(&v.shape()[ax..]) as usize;
                    data.extend_from_slice(&d[o as usize * chunk..(o as usize + 1) * chunk]);
                }
            }
            let int = vals
                .iter()
                .all(|v| matches!(v, Val::Const { int: true, .. }));
            return self.set_const(node, out, data, int);
        }
        let mut ins = Vec::new();
        for v in &vals {
            ins.extend(self.tensor_for(v, Use::Plain));
        }
        self.data_move(node, MoveKind::Concat, ins, out)
    }

    fn transpose(&mut self, node: &pb::NodeProto, a: &Attrs) -> R<()> {
        let v = self.val(node, 0)?;
        let s = v.shape().to_vec();
        let perm: Vec<usize> = match a.ints("perm") {
            Some(p) => p.iter().map(|&x| x as usize).collect(),
            None => (0..s.len()).rev().collect(),
        };
        let mut seen = vec![false; s.len()];
        if perm.len() != s.len()
            || perm
                .iter()
                .any(|&p| p >= s.len() || std::mem::replace(&mut seen[p], true))
        {
            return self.err(format!(
                "perm {perm:?} is not a permutation of {} axes",
                s.len()
            ));
        }
        let out: Vec<u64> = perm.iter().map(|&p| s[p]).collect();
        if let Val::Const { data, int, .. } = &v {
            let st = strides(&s);
            let mut d = Vec::with_capacity(data.len());
            for flat in 0..numel(&out) {
                let idx = unravel(flat, &out);
                let src: u64 = idx.iter().zip(&perm).map(|(&i, &p)| i * st[p]).sum();
                d.push(data[src as usize]);
            }
            let int = *int;
            return self.set_const(node, out, d, int);
        }
        // Weights are re-laid out once, offline; a permutation that keeps the order of the
        // non-unit axes is a view.
        let moved: Vec<usize> = perm.iter().copied().filter(|&p| s[p] != 1).collect();
        if !v.is_act() || moved.windows(2).all(|w| w[0] < w[1]) {
            return self.alias(node, &v, out);
        }
        let ins = vec![self.required(&v, Use::Plain)?];
        self.data_move(node, MoveKind::Transpose, ins, out)
    }

    /// Output shape and per-axis (start, step) of a slice.
    fn slice(&mut self, node: &pb::NodeProto, a: &Attrs) -> R<()> {
        let v = self.val(node, 0)?;
        let s = v.shape().to_vec();
        let (starts, ends, axes, steps) = if self.m.opset < 10 {
            (
                a.ints("starts").unwrap_or_default(),
                a.ints("ends").unwrap_or_default(),
                a.ints("axes"),
                None,
            )
        } else {
            let st = self.const_ints(node, 1, "starts")?;
            let en = self.const_ints(node, 2, "ends")?;
            let ax = match self.opt_val(node, 3)? {
                Some(_) => Some(self.const_ints(node, 3, "axes")?),
                None => None,
            };
            let sp = match self.opt_val(node, 4)? {
                Some(_) => Some(self.const_ints(node, 4, "steps")?),
                None => None,
            };
            (st, en, ax, sp)
        };
        let axes: Vec<i64> = axes.unwrap_or_else(|| (0..starts.len() as i64).collect());
        let steps = steps.unwrap_or_else(|| vec![1; starts.len()]);
        if ends.len() != starts.len() || axes.len() != starts.len() || steps.len() != starts.len() {
            return self.err("starts, ends, axes and steps differ in length");
        }
        let mut out = s.clone();
        let mut first = vec![0i64; s.len()];
        let mut step = vec![1i64; s.len()];
        for i in 0..starts.len() {
            let Some(ax) = axis(axes[i], s.len()) else {
                return self.err(format!("axis {} out of range", axes[i]));
            };
            let dim = s[ax] as i64;
            let st = steps[i];
            if st == 0 {
                return self.err("step 0");
            }
            let norm = |x: i64| if x < 0 { x + dim } else { x };
            let (b, n) = if st > 0 {
                let b = norm(starts[i]).clamp(0, dim);
                let e = norm(ends[i]).clamp(0, dim);
                (b, if e > b { (e - b + st - 1) / st } else { 0 })
            } else {
                let b = norm(starts[i]).clamp(-1, dim - 1);
                let e = norm(ends[i]).clamp(-1, dim - 1);
                (b, if b > e { (b - e - st - 1) / -st } else { 0 })
            };
            out[ax] = n as u64;
            first[ax] = b;
            step[ax] = st;
        }
        if let Val::Const { data, int, .. } = &v {
            let st = strides(&s);
            let mut d = Vec::with_capacity(numel(&out) as usize);
            for flat in 0..numel(&out) {
                let idx = unravel(flat, &out);
                let src: i64 = idx
                    .iter()
                    .enumerate()
                    .map(|(k, &i)| (first[k] + i as i64 * step[k]) * st[k] as i64)
                    .sum();
                d.push(data[src as usize]);
            }
            let int = *int;
            return self.set_const(node, out, d, int);
        }
        self.copy_window(node, &v, out, 0)
    }

    /// A slice of a runtime tensor (a copy of the window, or a view when it is the whole input).
    fn copy_window(
        &mut self,
        node: &pb::NodeProto,
        v: &Val,
        out: Vec<u64>,
        out_index: usize,
    ) -> R<()> {
        let name = self.out_name(node, out_index)?.to_string();
        if out == v.shape() {
            let nv = match v {
                Val::Act { id, .. } => Val::Act {
                    id: *id,
                    shape: out,
                },
                other => other.clone(),
            };
            self.set(&name, nv);
            return Ok(());
        }
        // A window of a weight (e.g. position embeddings for a shorter sequence) is read at run
        // time like an activation window.
        let ins = vec![self.required(v, Use::Plain)?];
        let id = self.g.add_tensor(
            name.clone(),
            &out,
            Storage::plain(self.q.acts),
            Role::Activation,
        );
        let op_name = if out_index == 0 {
            self.node.clone()
        } else {
            format!("{}.{out_index}", self.node)
        };
        self.g.add_op(
            op_name,
            OpKind::DataMove {
                kind: MoveKind::Slice,
                elems: numel(&out),
            },
            &ins,
            &[id],
            self.q.float,
            None,
        );
        self.set(&name, Val::Act { id, shape: out });
        Ok(())
    }

    fn split(&mut self, node: &pb::NodeProto, a: &Attrs) -> R<()> {
        let v = self.val(node, 0)?;
        let s = v.shape().to_vec();
        let Some(ax) = axis(a.int("axis").unwrap_or(0), s.len()) else {
            return self.err("axis out of range");
        };
        let outs = node.output.len() as u64;
        let sizes: Vec<u64> = if let Some(sp) = a.ints("split") {
            sp.iter().map(|&x| x.max(0) as u64).collect()
        } else if self.opt_val(node, 1)?.is_some() {
            self.const_ints(node, 1, "split")?
                .iter()
                .map(|&x| x.max(0) as u64)
                .collect()
        } else {
            let k = a
                .int("num_outputs")
                .map(|x| x as u64)
                .unwrap_or(outs)
                .max(1);
            let chunk = s[ax].div_ceil(k);
            (0..k)
                .map(|i| chunk.min(s[ax].saturating_sub(i * chunk)))
                .collect()
        };
        if sizes.len() as u64 != outs || sizes.iter().sum::<u64>() != s[ax] {
            return self.err(format!(
                "split sizes {sizes:?} do not cover axis {ax} of {s:?}"
            ));
        }
        if matches!(v, Val::Const { .. }) {
            return self.err("splitting constants is not supported");
        }
        for (i, &sz) in sizes.iter().enumerate() {
            let mut o = s.clone();
            o[ax] = sz;
            self.copy_window(node, &v, o, i)?;
        }
        Ok(())
    }

    fn gather(&mut self, node: &pb::NodeProto, a: &Attrs) -> R<()> {
        let data = self.val(node, 0)?;
        let idx = self.val(node, 1)?;
        let ds = data.shape().to_vec();
        let is = idx.shape().to_vec();
        let Some(ax) = axis(a.int("axis").unwrap_or(0), ds.len()) else {
            return self.err("axis out of range");
        };
        let mut out = ds[..ax].to_vec();
        out.extend_from_slice(&is);
        out.extend_from_slice(&ds[ax + 1..]);
        let idx_const = self.const_of(&idx);
        if let (Val::Const { data: d, int, .. }, Some(ix)) = (&data, &idx_const) {
            let st = strides(&ds);
            let dim = ds[ax] as i64;
            let mut v = Vec::with_capacity(numel(&out) as usize);
            let ist = strides(&is);
            for flat in 0..numel(&out) {
                let o = unravel(flat, &out);
                let iflat: u64 = o[ax..ax + is.len()]
                    .iter()
                    .zip(&ist)
                    .map(|(&x, &s)| x * s)
                    .sum();
                let mut j = ix[iflat as usize] as i64;
                if j < 0 {
                    j += dim;
                }
                if !(0..dim).contains(&j) {
                    return self.err(format!("index {j} out of range"));
                }
                let mut src = 0u64;
                for (k, &stk) in st.iter().enumerate() {
                    let x = if k < ax {
                        o[k]
                    } else if k == ax {
                        j as u64
                    } else {
                        o[k - 1 + is.len()]
                    };
                    src += x * stk;
                }
                v.push(d[src as usize]);
            }
            let int = *int;
            return self.set_const(node, out, v, int);
        }
        if idx_const.is_some() {
            // Fixed indices: a window copy (e.g. the class token `x[:, 0]`, position embeddings
            // for a fixed length).
            return self.copy_window(node, &data, out, 0);
        }
        if let Val::Weight { .. } = data {
            if ax != 0 || ds.len() != 2 {
                return self.err("only row gathers from 2-D tables are supported");
            }
            let ii = self.required(&idx, Use::Plain)?;
            let table = self.required(&data, Use::Table)?;
            return self.op(
                node,
                OpKind::Embedding {
                    tokens: numel(&is),
                    dim: ds[1],
                },
                vec![ii, table],
                out,
                false,
            );
        }
        self.err("gathering from a run-time tensor with run-time indices is not supported")
    }

    fn resize(&mut self, node: &pb::NodeProto, a: &Attrs) -> R<()> {
        let x = self.act_input(node, 0)?;
        let s = x.shape().to_vec();
        let mode = a.string("mode").unwrap_or_else(|| "nearest".into());
        let kind = match mode.as_str() {
            "nearest" => MoveKind::UpsampleNearest,
            "linear" | "bilinear" => MoveKind::ResizeLinear,
            other => return self.err(format!("resize mode `{other}` is not supported")),
        };
        // Upsample and Resize-10: (X, scales); Resize-11+: (X, roi, scales, sizes).
        let (scales_i, sizes_i) = if node.op_type == "Upsample" || self.m.opset < 11 {
            (1, None)
        } else {
            (2, Some(3))
        };
        let mut out = None;
        if let Some(si) = sizes_i
            && let Some(v) = self.opt_val(node, si)?
        {
            let sz = self.const_of(&v);
            match sz {
                Some(sz) if sz.len() == s.len() => {
                    out = Some(sz.iter().map(|&d| d as u64).collect::<Vec<u64>>())
                }
                Some(sz) if !sz.is_empty() => {
                    return self.err(format!("sizes {sz:?} do not fit {s:?}"));
                }
                Some(_) => {}
                None => return self.err("sizes must be a constant"),
            }
        }
        if out.is_none() {
            let sc: Vec<f64> = match a.get("scales") {
                Some(at) if node.op_type == "Upsample" && self.m.opset < 9 => {
                    at.floats.iter().map(|&f| f as f64).collect()
                }
                _ => self.const_input(node, scales_i, "scales")?,
            };
            if sc.len() != s.len() {
                return self.err(format!("scales {sc:?} do not fit {s:?}"));
            }
            out = Some(
                s.iter()
                    .zip(&sc)
                    .map(|(&d, &f)| (d as f64 * f).floor() as u64)
                    .collect(),
            );
        }
        let out = out.unwrap_or_default();
        let ins = vec![self.required(&x, Use::Plain)?];
        self.data_move(node, kind, ins, out)
    }

    fn pad(&mut self, node: &pb::NodeProto, a: &Attrs) -> R<()> {
        let x = self.act_input(node, 0)?;
        let s = x.shape().to_vec();
        let pads: Vec<i64> = if self.m.opset < 11 {
            a.ints("pads").unwrap_or_default()
        } else {
            self.const_ints(node, 1, "pads")?
        };
        let axes: Vec<usize> = match self.opt_val(node, 3)? {
            Some(_) => {
                let ax = self.const_ints(node, 3, "axes")?;
                let mut out = Vec::new();
                for x in ax {
                    match axis(x, s.len()) {
                        Some(i) => out.push(i),
                        None => return self.err(format!("axis {x} out of range")),
                    }
                }
                out
            }
            None => (0..s.len()).collect(),
        };
        if pads.len() != 2 * axes.len() {
            return self.err(format!("pads {pads:?} do not fit {} axes", axes.len()));
        }
        let mut out = s.clone();
        for (i, &ax) in axes.iter().enumerate() {
            let d = s[ax] as i64 + pads[i] + pads[i + axes.len()];
            if d <= 0 {
                return self.err("padding removes the whole axis");
            }
            out[ax] = d as u64;
        }
        let ins = vec![self.required(&x, Use::Plain)?];
        self.data_move(node, MoveKind::Pad, ins, out)
    }

    fn reduce(&mut self, node: &pb::NodeProto, a: &Attrs) -> R<()> {
        let x = self.act_input(node, 0)?;
        let s = x.shape().to_vec();
        let axes = self.axes_arg(node, a, 1)?;
        let keep = a.int("keepdims").unwrap_or(1) == 1;
        let red: Vec<usize> = match axes {
            Some(ax) if !ax.is_empty() => {
                let mut r = Vec::new();
                for v in ax {
                    match axis(v, s.len()) {
                        Some(i) => r.push(i),
                        None => return self.err(format!("axis {v} out of range")),
                    }
                }
                r
            }
            _ if a.int("noop_with_empty_axes").unwrap_or(0) == 1 => {
                return self.alias(node, &x, s);
            }
            _ => (0..s.len()).collect(),
        };
        let window: u64 = red.iter().map(|&i| s[i]).product();
        let out: Vec<u64> = s
            .iter()
            .enumerate()
            .filter_map(|(i, &d)| {
                if red.contains(&i) {
                    keep.then_some(1)
                } else {
                    Some(d)
                }
            })
            .collect();
        let kind = match node.op_type.as_str() {
            "ReduceMean" => PoolKind::Avg,
            "ReduceSum" => PoolKind::Sum,
            _ => PoolKind::Max,
        };
        let ins = vec![self.required(&x, Use::Plain)?];
        self.op(
            node,
            OpKind::Pool {
                kind,
                out_elems: numel(&out),
                window,
            },
            ins,
            out,
            false,
        )
    }

    fn expand(&mut self, node: &pb::NodeProto) -> R<()> {
        let v = self.val(node, 0)?;
        let s = v.shape().to_vec();
        let arg = self.const_ints(
            node,
            1,
            if node.op_type == "Tile" {
                "repeats"
            } else {
                "shape"
            },
        )?;
        let out = if node.op_type == "Tile" {
            if arg.len() != s.len() {
                return self.err("repeats do not fit the rank");
            }
            s.iter()
                .zip(&arg)
                .map(|(&d, &r)| d * r.max(0) as u64)
                .collect()
        } else {
            let target: Vec<u64> = arg.iter().map(|&d| d.max(0) as u64).collect();
            match broadcast(&s, &target) {
                Some(o) => o,
                None => return self.err(format!("cannot expand {s:?} to {arg:?}")),
            }
        };
        if let Val::Const { data, int, .. } = &v {
            if node.op_type == "Tile" {
                return self.err("tiling constants is not supported");
            }
            if numel(&out) > MAX_CONST_ELEMS {
                return self.err("constant too large to evaluate at import");
            }
            let d: Vec<f64> = (0..numel(&out))
                .map(|f| bcast_get(data, &s, &unravel(f, &out)))
                .collect();
            let int = *int;
            return self.set_const(node, out, d, int);
        }
        if out == s {
            return self.alias(node, &v, out);
        }
        let ins = vec![self.required(&v, Use::Plain)?];
        self.data_move(node, MoveKind::Broadcast, ins, out)
    }
}
