//! Kernel fusion: which ops of a graph a runtime runs inside the kernel of an earlier op, and
//! which intermediate tensors therefore never leave the chip.
//!
//! A runtime names the patterns it fuses ([`Pattern`]). One pass over the graph in execution
//! order marks each op either a kernel of its own (it pays the runtime's dispatch) or a part of
//! the kernel before it. An op joins the previous kernel when:
//! * `conv_act`: it is an elementwise op or a BatchNorm whose first input is the output of the
//!   op just before it, a convolution (or an op already fused into one);
//! * `matmul_act`: the same after a matrix product;
//! * `qkv`: it is the key or value projection right after the query (or key) projection,
//!   reading the same input (one fused QKV product);
//! * `gate_up`: it is the up projection right after the gate projection, reading the same
//!   input;
//! * `flash_attention`: it is attention's softmax or value product right after its score
//!   product (the score matrix stays on chip);
//! * `norm_residual`: it is a normalisation right after the residual add whose output it reads;
//! * `elementwise_chain`: it is any elementwise op, normalisation, softmax, rope or pooling
//!   that reads the output of the op just before it (a compiled graph's fusion).
//!
//! A tensor written by one op and read only by the op fused right after it is a *fused
//! intermediate*: it lives in the unit's innermost memory level, so it moves no bytes through
//! the outer levels.

use crate::workload::{AttnPart, EltOp, Graph, NormKind, OpKind, Role, TensorId};

/// A fusion pattern a runtime can name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Pattern {
    /// Convolution + BatchNorm / bias / activation epilogue.
    ConvAct,
    /// Matrix product + bias / activation epilogue.
    MatmulAct,
    /// Q, K and V projections as one product.
    Qkv,
    /// Gate and up projections as one product.
    GateUp,
    /// Scores, softmax and values as one kernel.
    FlashAttention,
    /// Residual add + normalisation.
    NormResidual,
    /// Any chain of cheap ops reading the previous op's output.
    ElementwiseChain,
}

impl Pattern {
    /// Every pattern with its name in runtime files.
    pub const ALL: [(Pattern, &'static str); 7] = [
        (Pattern::ConvAct, "conv_act"),
        (Pattern::MatmulAct, "matmul_act"),
        (Pattern::Qkv, "qkv"),
        (Pattern::GateUp, "gate_up"),
        (Pattern::FlashAttention, "flash_attention"),
        (Pattern::NormResidual, "norm_residual"),
        (Pattern::ElementwiseChain, "elementwise_chain"),
    ];

    /// The pattern of a name.
    pub fn parse(s: &str) -> Option<Pattern> {
        Pattern::ALL.iter().find(|(_, n)| *n == s).map(|(p, _)| *p)
    }
}

/// The fusion of one graph under a set of patterns.
#[derive(Clone, Debug, PartialEq)]
pub struct FusionPlan {
    /// For each op, whether it starts a kernel (pays dispatch); `false` when it runs inside the
    /// kernel of the op before it.
    pub starts_kernel: Vec<bool>,
    /// Tensors that never leave the chip: written by one op, read only by the op fused after it.
    pub fused_intermediates: Vec<TensorId>,
}

impl FusionPlan {
    /// No fusion: every op is a kernel.
    pub fn none(graph: &Graph) -> FusionPlan {
        FusionPlan {
            starts_kernel: vec![true; graph.ops.len()],
            fused_intermediates: Vec::new(),
        }
    }

    /// Kernels launched.
    pub fn kernels(&self) -> usize {
        self.starts_kernel.iter().filter(|&&s| s).count()
    }

    /// Plans `graph` under `patterns`.
    pub fn of(graph: &Graph, patterns: &[Pattern]) -> FusionPlan {
        let mut plan = FusionPlan::none(graph);
        if patterns.is_empty() || graph.ops.is_empty() {
            return plan;
        }
        let has = |p: Pattern| patterns.contains(&p);
        let mut readers = vec![0u32; graph.tensors.len()];
        for op in &graph.ops {
            for t in &op.inputs {
                readers[t.0 as usize] += 1;
            }
        }
        // The kind of the op that opened the current kernel.
        let mut head: Option<&OpKind> = None;
        for j in 0..graph.ops.len() {
            let op = &graph.ops[j];
            let fused = j > 0 && {
                let prev = &graph.ops[j - 1];
                let reads_prev = op.inputs.first().is_some_and(|x| prev.outputs.contains(x));
                let same_input =
                    op.inputs.first().is_some() && op.inputs.first() == prev.inputs.first();
                let epilogue = matches!(
                    op.kind,
                    OpKind::Elementwise { .. }
                        | OpKind::Norm {
                            kind: NormKind::BatchNorm,
                            ..
                        }
                );
                let cheap = matches!(
                    op.kind,
                    OpKind::Elementwise { .. }
                        | OpKind::Norm { .. }
                        | OpKind::Softmax { .. }
                        | OpKind::Rope { .. }
                        | OpKind::Pool { .. }
                );
                let head_kind = head.copied();
                (has(Pattern::ConvAct)
                    && reads_prev
                    && epilogue
                    && matches!(head_kind, Some(OpKind::Conv2d(_))))
                    || (has(Pattern::MatmulAct)
                        && reads_prev
                        && epilogue
                        && matches!(head_kind, Some(OpKind::MatMul { .. })))
                    || (has(Pattern::Qkv)
                        && same_input
                        && is_proj(graph, j, &["k_proj", "v_proj"])
                        && is_proj(graph, j - 1, &["q_proj", "k_proj"]))
                    || (has(Pattern::GateUp)
                        && same_input
                        && is_proj(graph, j, &[".up"])
                        && is_proj(graph, j - 1, &["gate"]))
                    || (has(Pattern::FlashAttention)
                        && matches!(
                            op.kind,
                            OpKind::Attention {
                                part: AttnPart::Softmax | AttnPart::Values,
                                ..
                            }
                        )
                        && matches!(prev.kind, OpKind::Attention { .. })
                        && op.inputs.iter().any(|x| prev.outputs.contains(x)))
                    || (has(Pattern::NormResidual)
                        && reads_prev
                        && matches!(op.kind, OpKind::Norm { .. })
                        && matches!(prev.kind, OpKind::Elementwise { op: EltOp::Add, .. }))
                    || (has(Pattern::ElementwiseChain) && reads_prev && cheap)
            };
            if fused {
                plan.starts_kernel[j] = false;
                let prev = &graph.ops[j - 1];
                for &t in &prev.outputs {
                    let tensor = graph.tensor(t);
                    if tensor.role == Role::Activation
                        && readers[t.0 as usize] == 1
                        && op.inputs.contains(&t)
                    {
                        plan.fused_intermediates.push(t);
                    }
                }
            } else {
                head = Some(&op.kind);
            }
        }
        plan
    }
}

/// Whether op `i` is a linear projection whose weight name contains one of `names`.
fn is_proj(graph: &Graph, i: usize, names: &[&str]) -> bool {
    let op = &graph.ops[i];
    matches!(op.kind, OpKind::MatMul { .. })
        && op.inputs.get(1).is_some_and(|&w| {
            let t = graph.tensor(w);
            t.role == Role::Weight && names.iter().any(|n| t.name.contains(n))
        })
}
