//! The importer core: walks the graph in dependency order, keeps the table of what each ONNX
//! value name stands for (a run-time tensor, a weight or a folded constant), hands each node to
//! its op handler from the registry, and materializes weights as graph tensors on first use.

use super::attrs::Attrs;
use super::fold::{checked_numel, numel};
use super::load::{OnnxModel, is_float_type, shape_of_dims, tensor_values};
use super::{KEEP_DATA_LIMIT, MAX_ELEMS, OnnxError, R, ops};
use crate::workload::dtype::{DType, Storage};
use crate::workload::graph::{Graph, MoveKind, OpKind, Role, TensorId};
use crate::workload::quant::QuantScheme;
use std::collections::HashMap;
use tract_onnx::pb;

/// A weight (initializer or large constant), materialized as a graph tensor on first use.
#[derive(Clone, Debug)]
pub(super) struct Init {
    /// Value name.
    pub(super) name: String,
    /// Its shape as stored.
    pub(super) shape: Vec<u64>,
    /// Its values, for small tensors that may serve as constants.
    pub(super) data: Option<Vec<f64>>,
    /// The graph tensor, once used.
    pub(super) id: Option<TensorId>,
}

/// What an ONNX value name stands for during import.
#[derive(Clone, Debug)]
pub(super) enum Val {
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
    /// The shape the value is seen with.
    pub(super) fn shape(&self) -> &[u64] {
        match self {
            Val::Act { shape, .. } | Val::Weight { shape, .. } | Val::Const { shape, .. } => shape,
        }
    }
    /// True for a run-time tensor.
    pub(super) fn is_act(&self) -> bool {
        matches!(self, Val::Act { .. })
    }
}

/// How a weight is used, which decides its storage and layout.
#[derive(Clone, Copy, PartialEq)]
pub(super) enum Use {
    /// Conv/matmul weight: scheme weight storage as an `[out, in]` matrix.
    Linear { out: u64 },
    /// Gathered table: embedding storage.
    Table,
    /// Anything else: float dtype.
    Plain,
}

/// The state of one import: the graph being built and what each value name stands for.
pub(super) struct Importer<'a> {
    /// The model.
    pub(super) m: &'a OnnxModel,
    /// The quantization scheme the graph is built under.
    pub(super) q: &'a QuantScheme,
    /// The batch.
    pub(super) batch: u64,
    /// The graph being built.
    pub(super) g: Graph,
    /// What each value name stands for.
    pub(super) vals: HashMap<String, Val>,
    /// Initializers and large constants.
    pub(super) weights: Vec<Init>,
    /// `value_info` by value name.
    info: HashMap<&'a str, &'a pb::ValueInfoProto>,
    /// Name of the node being imported (for errors and op names).
    pub(super) node: String,
    /// Its op type.
    op_type: String,
}

impl<'a> Importer<'a> {
    /// An importer of `m` at `batch` under `q`.
    pub(super) fn new(m: &'a OnnxModel, q: &'a QuantScheme, batch: u64) -> Self {
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

    /// An error about the node being imported.
    pub(super) fn err<T>(&self, message: impl Into<String>) -> R<T> {
        Err(OnnxError::Node {
            path: self.m.path.clone(),
            node: self.node.clone(),
            op_type: self.op_type.clone(),
            message: message.into(),
        })
    }

    /// An error about field `field` (an attribute, input or output) of the node being imported.
    pub(super) fn field_err<T>(
        &self,
        field: impl Into<String>,
        expected: impl Into<String>,
        got: impl Into<String>,
    ) -> R<T> {
        Attrs::new(&[], &self.m.path, &self.node, &self.op_type).field_err(field, expected, got)
    }

    /// Checks that output `name` of the node, of shape `shape`, is within [`MAX_ELEMS`]
    /// elements (its element count computed without overflow).
    pub(super) fn check_shape(&self, name: &str, shape: &[u64]) -> R<()> {
        match checked_numel(shape) {
            Some(n) if n <= MAX_ELEMS => Ok(()),
            n => self.field_err(
                format!("output `{name}`"),
                "a tensor of at most 2^48 elements (the importer's limit)",
                match n {
                    Some(n) => format!("shape {shape:?} ({n} elements)"),
                    None => format!("shape {shape:?} (more than 2^64 elements)"),
                },
            ),
        }
    }

    /// An error about the model as a whole.
    pub(super) fn model_err<T>(&self, message: impl Into<String>) -> R<T> {
        Err(OnnxError::Model {
            path: self.m.path.clone(),
            message: message.into(),
        })
    }

    /// Imports the whole graph.
    pub(super) fn run(mut self) -> R<Graph> {
        self.add_initializers()?;
        self.add_inputs()?;
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
            match ops::handler(&node.op_type) {
                Some(h) => {
                    let a = Attrs::new(&node.attribute, &self.m.path, &self.node, &node.op_type);
                    h(&mut self, node, &a)?
                }
                None => return Err(self.unsupported(node)),
            }
            self.check_value_info(node)?;
        }
        if self.g.ops.is_empty() {
            let n = self.m.graph.node.len();
            return Err(OnnxError::Empty {
                path: self.m.path.clone(),
                detail: match n {
                    0 => "it has no nodes".into(),
                    1 => "its one node folds into a constant or a view".into(),
                    n => format!("its {n} nodes all fold into constants or views"),
                },
            });
        }
        self.mark_outputs()?;
        if let Err(e) = self.g.validate() {
            return self.model_err(format!("imported graph is inconsistent: {e}"));
        }
        Ok(self.g)
    }

    /// Initializers: small or integer ones become constants, the others weights.
    fn add_initializers(&mut self) -> R<()> {
        let graph = &self.m.graph;
        for t in &graph.initializer {
            let Some(shape) = shape_of_dims(&t.dims) else {
                return self
                    .model_err(format!("initializer `{}` has a negative dimension", t.name));
            };
            if checked_numel(&shape).is_none_or(|n| n > MAX_ELEMS) {
                return self.model_err(format!(
                    "initializer `{}` has shape {shape:?}: expected at most 2^48 elements (the importer's limit on any tensor)",
                    t.name
                ));
            }
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
        Ok(())
    }

    /// Graph inputs that are not initializers become input tensors.
    fn add_inputs(&mut self) -> R<()> {
        let graph = &self.m.graph;
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
        Ok(())
    }

    /// Marks the activations named as graph outputs as outputs.
    fn mark_outputs(&mut self) -> R<()> {
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
        Ok(())
    }

    /// The error for an op type (or domain) the importer does not know.
    pub(super) fn unsupported(&self, node: &pb::NodeProto) -> OnnxError {
        OnnxError::Unsupported {
            path: self.m.path.clone(),
            node: self.node.clone(),
            op_type: node.op_type.clone(),
            domain: if node.domain.is_empty() {
                String::new()
            } else {
                format!(" in domain `{}`", node.domain)
            },
            supported: ops::SUPPORTED_OPS.join(", "),
        }
    }

    /// The shape of a graph input at this batch and these symbolic dimensions.
    pub(super) fn input_shape(&self, input: &pb::ValueInfoProto) -> R<Vec<u64>> {
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
        if checked_numel(&out).is_none_or(|n| n > MAX_ELEMS) {
            return self.model_err(format!(
                "graph input `{}` has shape {out:?}: expected at most 2^48 elements (the importer's limit on any tensor)",
                input.name
            ));
        }
        Ok(out)
    }

    /// Node indices in an order where every input is produced first (the file's order when it
    /// is already valid, as the ONNX spec requires).
    pub(super) fn topo_order(&self) -> R<Vec<usize>> {
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

    /// Checks the inferred output shapes against the `value_info` fixed dimensions.
    pub(super) fn check_value_info(&self, node: &pb::NodeProto) -> R<()> {
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

    /// What input `i` of the node stands for.
    pub(super) fn val(&self, node: &pb::NodeProto, i: usize) -> R<Val> {
        match node.input.get(i).filter(|s| !s.is_empty()) {
            Some(name) => match self.vals.get(name) {
                Some(v) => Ok(v.clone()),
                None => self.err(format!("input `{name}` is not known")),
            },
            None => self.err(format!("missing input #{i}")),
        }
    }

    /// Like [`Self::val`], for an optional input (`None` when absent or empty).
    pub(super) fn opt_val(&self, node: &pb::NodeProto, i: usize) -> R<Option<Val>> {
        match node.input.get(i).filter(|s| !s.is_empty()) {
            Some(_) => self.val(node, i).map(Some),
            None => Ok(None),
        }
    }

    /// Input `i`, which must be a tensor rather than a folded scalar.
    pub(super) fn act_input(&self, node: &pb::NodeProto, i: usize) -> R<Val> {
        let v = self.val(node, i)?;
        if matches!(v, Val::Const { .. }) && numel(v.shape()) <= 1 {
            return self.err(format!(
                "input #{i} is a scalar constant; expected a tensor"
            ));
        }
        Ok(v)
    }

    /// Like [`Self::tensor_for`], for inputs that must be a tensor: a scalar constant there is
    /// an error naming the node, not a panic.
    pub(super) fn required(&mut self, v: &Val, usage: Use) -> R<TensorId> {
        match self.tensor_for(v, usage) {
            Some(id) => Ok(id),
            None => self.err("an input that must be a tensor is a scalar constant"),
        }
    }

    /// The graph tensor of a value used as an op input (a weight is added on first use); `None`
    /// for folded scalar constants.
    pub(super) fn tensor_for(&mut self, v: &Val, usage: Use) -> Option<TensorId> {
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

    /// Binds a value name (empty names, unused optional outputs, are skipped).
    pub(super) fn set(&mut self, name: &str, v: Val) {
        if !name.is_empty() {
            self.vals.insert(name.to_string(), v);
        }
    }

    /// The name of output `i` of the node.
    pub(super) fn out_name<'n>(&self, node: &'n pb::NodeProto, i: usize) -> R<&'n str> {
        match node.output.get(i) {
            Some(s) => Ok(s.as_str()),
            None => self.err(format!("missing output #{i}")),
        }
    }

    /// Emits a zero-FLOP data-movement op (concat, transpose, pad, broadcast, ...) whose output
    /// has shape `out`.
    pub(super) fn data_move(
        &mut self,
        node: &pb::NodeProto,
        kind: MoveKind,
        ins: Vec<TensorId>,
        out: Vec<u64>,
    ) -> R<()> {
        let elems = numel(&out);
        self.op(node, OpKind::DataMove { kind, elems }, ins, out, false)
    }

    /// [`Self::op`] for an op whose one input is the activation `x` and that is not a linear
    /// layer (pools, reductions, norms, elementwise maps).
    pub(super) fn unary_op(
        &mut self,
        node: &pb::NodeProto,
        x: &Val,
        kind: OpKind,
        shape: Vec<u64>,
    ) -> R<()> {
        let ins = vec![self.required(x, Use::Plain)?];
        self.op(node, kind, ins, shape, false)
    }

    /// Adds an op producing one activation of `shape` from `ins`.
    pub(super) fn op(
        &mut self,
        node: &pb::NodeProto,
        kind: OpKind,
        ins: Vec<TensorId>,
        shape: Vec<u64>,
        linear: bool,
    ) -> R<()> {
        let name = self.out_name(node, 0)?.to_string();
        self.check_shape(&name, &shape)?;
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

    /// Binds the node's first output to a view of `v` with `shape` (no op).
    pub(super) fn alias(&mut self, node: &pb::NodeProto, v: &Val, shape: Vec<u64>) -> R<()> {
        let out = self.out_name(node, 0)?.to_string();
        self.check_shape(&out, &shape)?;
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

    /// A slice of a runtime tensor (a copy of the window, or a view when it is the whole input).
    pub(super) fn copy_window(
        &mut self,
        node: &pb::NodeProto,
        v: &Val,
        out: Vec<u64>,
        out_index: usize,
    ) -> R<()> {
        let name = self.out_name(node, out_index)?.to_string();
        self.check_shape(&name, &out)?;
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

    /// The `axes` of a node: the attribute (older opsets) or constant input `input`.
    pub(super) fn axes_arg(
        &self,
        node: &pb::NodeProto,
        a: &Attrs,
        input: usize,
    ) -> R<Option<Vec<i64>>> {
        if let Some(ax) = a.ints("axes")? {
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
}
