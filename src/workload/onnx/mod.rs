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
//! * Bad input is an error naming the file, the node and the attribute or input, and what was
//!   expected: attributes of the wrong type, zero or negative groups, non-positive or NaN
//!   resize scales, negative repeats. Sizes are bounded: every tensor has at most
//!   [`MAX_ELEMS`] elements, with element counts computed in checked arithmetic, and kernel
//!   sizes, strides, dilations and window pads are at most [`MAX_WINDOW`]. A graph with no
//!   operator to cost (no nodes, or only constants and views) is an error too.
//!
//! Layout, after tract's: [`load`] reads and decodes the file into an [`OnnxModel`];
//! `importer` walks the graph in dependency order and keeps the value table; `fold` evaluates
//! constant subgraphs (shape arithmetic) at import; `ops` holds one file per op family and the
//! registry that maps each op type to its handler.

mod attrs;
mod fold;
mod importer;
pub mod load;
mod ops;

pub use crate::workload::error::OnnxError;
pub use load::OnnxModel;
pub use ops::SUPPORTED_OPS;

/// Initializers and constants with at most this many elements keep their values (they may be
/// shape tensors, resize scales or clip bounds); larger float tensors keep only their shape.
const KEEP_DATA_LIMIT: u64 = 4096;
/// Largest element count of any tensor the importer accepts (2^48, about 2.8·10^14): far above
/// any real model, and low enough that the op costs computed from these counts stay exact.
pub const MAX_ELEMS: u64 = 1 << 48;
/// Largest kernel size, stride, dilation and convolution or pooling pad (2^24).
pub const MAX_WINDOW: u64 = 1 << 24;
/// Largest constant the import evaluates (shape arithmetic never comes close).
const MAX_CONST_ELEMS: u64 = 1 << 22;

/// Result of an import step.
type R<T> = Result<T, OnnxError>;
