//! The abstract scratchpad-mapping problem: tensors, operators, capacity and
//! allocation granularity, plus validation and the derived facts (producers,
//! consumers, sizes in allocation units) that every planner and the verifier use.

use serde::{Deserialize, Serialize};

use super::MappingError;

/// What a tensor is, which decides where its bytes come from and whether
/// its off-chip traffic is compulsory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TensorKind {
    /// Read-only parameter that lives off-chip; its first load is compulsory.
    Weight,
    /// Graph input that lives off-chip; its first load is compulsory.
    Input,
    /// Intermediate result produced on-chip; all of its off-chip traffic
    /// (spill store and reloads) is non-compulsory.
    Activation,
    /// Graph output produced on-chip; one store is compulsory, any reload is not.
    Output,
}

impl TensorKind {
    /// True for tensors that some operator produces (activations and outputs).
    pub fn is_produced(self) -> bool {
        matches!(self, TensorKind::Activation | TensorKind::Output)
    }
}

/// One tensor of the problem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TensorSpec {
    /// Human-readable name, used in error messages and reports.
    pub name: String,
    /// Size in bytes; must be positive.
    pub bytes: u64,
    /// Role of the tensor.
    pub kind: TensorKind,
}

impl TensorSpec {
    /// A tensor named `name` of `bytes` bytes and role `kind`.
    pub fn new(name: &str, bytes: u64, kind: TensorKind) -> TensorSpec {
        TensorSpec {
            name: name.into(),
            bytes,
            kind,
        }
    }
}

/// One operator: it reads `inputs` and writes `outputs` (indices into
/// [`MemProblem::tensors`]); all of them must be in the scratchpad while it runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpSpec {
    /// Human-readable name.
    pub name: String,
    /// Tensors read by the operator.
    pub inputs: Vec<usize>,
    /// Tensors written by the operator.
    pub outputs: Vec<usize>,
}

impl OpSpec {
    /// An operator named `name` that reads `inputs` and writes `outputs`.
    pub fn new(name: &str, inputs: Vec<usize>, outputs: Vec<usize>) -> OpSpec {
        OpSpec {
            name: name.into(),
            inputs,
            outputs,
        }
    }
}

/// A scratchpad-mapping problem: a DAG of operators over tensors, a scratchpad
/// of `capacity_bytes`, and an allocation granularity (every tensor occupies a
/// whole number of `granularity_bytes` blocks, and every offset is a multiple of it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemProblem {
    /// All tensors.
    pub tensors: Vec<TensorSpec>,
    /// All operators, listed in the framework's default order (the order the
    /// baselines execute them in when it is topological).
    pub ops: Vec<OpSpec>,
    /// Scratchpad size in bytes.
    pub capacity_bytes: u64,
    /// Allocation granularity in bytes (alignment and size rounding); must be positive.
    pub granularity_bytes: u64,
}

/// A validated problem with derived facts. Built once by [`Prepared::new`];
/// all planners and the verifier work on it.
#[derive(Debug, Clone)]
pub struct Prepared<'a> {
    /// The problem as given.
    pub problem: &'a MemProblem,
    /// Size of each tensor in allocation units (bytes rounded up to the granularity).
    pub units: Vec<u64>,
    /// Capacity in allocation units (rounded down).
    pub capacity_units: u64,
    /// Producer of each tensor (`None` for weights and inputs).
    pub producer: Vec<Option<usize>>,
    /// Consumers of each tensor, deduplicated, in increasing operator index.
    pub consumers: Vec<Vec<usize>>,
    /// Each operator's deduplicated inputs.
    pub op_inputs: Vec<Vec<usize>>,
    /// Each operator's deduplicated outputs.
    pub op_outputs: Vec<Vec<usize>>,
    /// Predecessor operators of each operator (producers of its inputs), deduplicated.
    pub preds: Vec<Vec<usize>>,
    /// Successor operators of each operator, deduplicated.
    pub succs: Vec<Vec<usize>>,
}

fn dedup(v: &[usize]) -> Vec<usize> {
    let mut out = v.to_vec();
    out.sort_unstable();
    out.dedup();
    out
}

impl<'a> Prepared<'a> {
    /// Validates `problem` and derives producers, consumers and unit sizes.
    ///
    /// Errors name the offending tensor or operator: zero sizes, out-of-range
    /// indices, weights/inputs that an operator writes, activations/outputs with
    /// no or several producers, an operator reading its own output, cycles, and
    /// an operator whose working set exceeds the capacity (the problem is then
    /// infeasible for every planner).
    pub fn new(problem: &'a MemProblem) -> Result<Self, MappingError> {
        if problem.granularity_bytes == 0 {
            return Err(MappingError::invalid(
                "granularity_bytes",
                "must be at least 1 byte",
            ));
        }
        let g = problem.granularity_bytes;
        let nt = problem.tensors.len();
        let mut units = Vec::with_capacity(nt);
        for (i, t) in problem.tensors.iter().enumerate() {
            if t.bytes == 0 {
                return Err(MappingError::invalid(
                    format!("tensors[{i}] ({}).bytes", t.name),
                    "must be positive",
                ));
            }
            units.push(t.bytes.div_ceil(g));
        }
        let mut producer = vec![None; nt];
        let mut consumers: Vec<Vec<usize>> = vec![Vec::new(); nt];
        let mut op_inputs = Vec::with_capacity(problem.ops.len());
        let mut op_outputs = Vec::with_capacity(problem.ops.len());
        for (o, op) in problem.ops.iter().enumerate() {
            for (field, list) in [("inputs", &op.inputs), ("outputs", &op.outputs)] {
                for &a in list.iter() {
                    if a >= nt {
                        return Err(MappingError::invalid(
                            format!("ops[{o}] ({}).{field}", op.name),
                            format!("tensor index {a} is out of range (there are {nt} tensors)"),
                        ));
                    }
                }
            }
            let ins = dedup(&op.inputs);
            let outs = dedup(&op.outputs);
            if outs.len() != op.outputs.len() {
                return Err(MappingError::invalid(
                    format!("ops[{o}] ({}).outputs", op.name),
                    "lists a tensor twice",
                ));
            }
            for &a in &outs {
                if ins.contains(&a) {
                    return Err(MappingError::invalid(
                        format!("ops[{o}] ({}).outputs", op.name),
                        format!(
                            "tensor {a} ({}) is both read and written; in-place operators are not modelled",
                            problem.tensors[a].name
                        ),
                    ));
                }
                if !problem.tensors[a].kind.is_produced() {
                    return Err(MappingError::invalid(
                        format!("ops[{o}] ({}).outputs", op.name),
                        format!(
                            "tensor {a} ({}) is a {:?}; only activations and outputs can be produced",
                            problem.tensors[a].name, problem.tensors[a].kind
                        ),
                    ));
                }
                if let Some(prev) = producer[a] {
                    return Err(MappingError::invalid(
                        format!("ops[{o}] ({}).outputs", op.name),
                        format!(
                            "tensor {a} ({}) is already produced by ops[{prev}]",
                            problem.tensors[a].name
                        ),
                    ));
                }
                producer[a] = Some(o);
            }
            for &a in &ins {
                consumers[a].push(o);
            }
            op_inputs.push(ins);
            op_outputs.push(outs);
        }
        for (a, t) in problem.tensors.iter().enumerate() {
            if t.kind.is_produced() && producer[a].is_none() {
                return Err(MappingError::invalid(
                    format!("tensors[{a}] ({}).kind", t.name),
                    format!(
                        "is a {:?} but no operator produces it (use weight or input for off-chip tensors)",
                        t.kind
                    ),
                ));
            }
        }
        let mut preds = Vec::with_capacity(problem.ops.len());
        let mut succs: Vec<Vec<usize>> = vec![Vec::new(); problem.ops.len()];
        for (o, ins) in op_inputs.iter().enumerate() {
            let mut p: Vec<usize> = ins.iter().filter_map(|&a| producer[a]).collect();
            p.sort_unstable();
            p.dedup();
            for &q in &p {
                succs[q].push(o);
            }
            preds.push(p);
        }
        let capacity_units = problem.capacity_bytes / g;
        let prep = Prepared {
            problem,
            units,
            capacity_units,
            producer,
            consumers,
            op_inputs,
            op_outputs,
            preds,
            succs,
        };
        if prep.topological_order().is_none() {
            return Err(MappingError::invalid(
                "ops",
                "the operator graph has a cycle",
            ));
        }
        for o in 0..prep.num_ops() {
            let need = prep.working_set_units(o);
            if need > prep.capacity_units {
                return Err(MappingError::Infeasible {
                    op: problem.ops[o].name.clone(),
                    needed_bytes: need * g,
                    capacity_bytes: prep.capacity_units * g,
                });
            }
        }
        Ok(prep)
    }

    /// Number of operators (= number of time steps of a plan).
    pub fn num_ops(&self) -> usize {
        self.problem.ops.len()
    }

    /// Number of tensors.
    pub fn num_tensors(&self) -> usize {
        self.problem.tensors.len()
    }

    /// Kind of tensor `a`.
    pub fn kind(&self, a: usize) -> TensorKind {
        self.problem.tensors[a].kind
    }

    /// Size of tensor `a` in bytes.
    pub fn bytes(&self, a: usize) -> u64 {
        self.problem.tensors[a].bytes
    }

    /// Inputs and outputs of operator `o` (its working set), deduplicated.
    pub fn touched(&self, o: usize) -> impl Iterator<Item = usize> + '_ {
        self.op_inputs[o]
            .iter()
            .chain(self.op_outputs[o].iter())
            .copied()
    }

    /// Allocation units operator `o` needs resident while it runs.
    pub fn working_set_units(&self, o: usize) -> u64 {
        self.touched(o).map(|a| self.units[a]).sum()
    }

    /// `M_R` of the COSMA paper in bytes: the largest single-operator working
    /// set (rounded to the granularity), the smallest capacity any plan can use.
    pub fn min_capacity_bytes(&self) -> u64 {
        (0..self.num_ops())
            .map(|o| self.working_set_units(o))
            .max()
            .unwrap_or(0)
            * self.problem.granularity_bytes
    }

    /// Compulsory off-chip bytes: the first load of every weight and input that
    /// some operator reads, plus one store of every output.
    pub fn compulsory_bytes(&self) -> u64 {
        (0..self.num_tensors())
            .filter(|&a| match self.kind(a) {
                TensorKind::Weight | TensorKind::Input => !self.consumers[a].is_empty(),
                TensorKind::Output => true,
                TensorKind::Activation => false,
            })
            .map(|a| self.bytes(a))
            .sum()
    }

    /// The listed operator order if it is topological, otherwise Kahn's
    /// algorithm that always picks the ready operator listed first. `None` if
    /// the graph has a cycle.
    pub fn topological_order(&self) -> Option<Vec<usize>> {
        let n = self.num_ops();
        let mut indeg: Vec<usize> = self.preds.iter().map(Vec::len).collect();
        let mut ready: std::collections::BTreeSet<usize> =
            (0..n).filter(|&o| indeg[o] == 0).collect();
        let mut order = Vec::with_capacity(n);
        while let Some(o) = ready.pop_first() {
            order.push(o);
            for &s in &self.succs[o] {
                indeg[s] -= 1;
                if indeg[s] == 0 {
                    ready.insert(s);
                }
            }
        }
        (order.len() == n).then_some(order)
    }

    /// The greatest common divisor of all tensor sizes in bytes (used to scale
    /// the ILP objective to small integers).
    pub fn bytes_gcd(&self) -> u64 {
        fn gcd(a: u64, b: u64) -> u64 {
            if b == 0 { a } else { gcd(b, a % b) }
        }
        self.problem
            .tensors
            .iter()
            .fold(0, |g, t| gcd(g, t.bytes))
            .max(1)
    }
}
