//! The op registry: one table mapping each ONNX op type to its handler, as tract does, over one
//! file per op family. Adding an op is one handler and one row here.

mod constant;
mod conv;
mod elementwise;
mod gather;
mod matmul;
mod movement;
mod norm;
mod pool;
mod resize;
mod shape;

use super::R;
use super::attrs::Attrs;
use super::importer::Importer;
use tract_onnx::pb;

/// An op handler: imports one node of the op types it is registered for.
pub(super) type Handler = fn(&mut Importer<'_>, &pb::NodeProto, &Attrs<'_>) -> R<()>;

/// Every supported op type with its handler, sorted by op type.
const REGISTRY: &[(&str, Handler)] = &[
    ("Abs", elementwise::unary),
    ("Add", elementwise::binary),
    ("AveragePool", pool::pool),
    ("BatchNormalization", norm::batch_norm),
    ("Cast", elementwise::unary),
    ("Clip", elementwise::clip),
    ("Concat", movement::concat),
    ("Constant", constant::constant),
    ("ConstantOfShape", constant::constant_of_shape),
    ("Conv", conv::conv),
    ("ConvTranspose", conv::conv_transpose),
    ("Div", elementwise::binary),
    ("Dropout", shape::identity),
    ("Equal", elementwise::binary),
    ("Erf", elementwise::unary),
    ("Exp", elementwise::unary),
    ("Expand", movement::expand),
    ("Flatten", shape::flatten),
    ("Gather", gather::gather),
    ("Gelu", elementwise::unary),
    ("Gemm", matmul::gemm),
    ("GlobalAveragePool", pool::global_pool),
    ("GlobalMaxPool", pool::global_pool),
    ("Greater", elementwise::binary),
    ("HardSigmoid", elementwise::unary),
    ("HardSwish", elementwise::unary),
    ("Identity", shape::identity),
    ("LayerNormalization", norm::layer_norm),
    ("LeakyRelu", elementwise::unary),
    ("Less", elementwise::binary),
    ("Log", elementwise::unary),
    ("LogSoftmax", norm::softmax),
    ("MatMul", matmul::matmul),
    ("Max", elementwise::binary),
    ("MaxPool", pool::pool),
    ("Min", elementwise::binary),
    ("Mul", elementwise::binary),
    ("Neg", elementwise::unary),
    ("Not", elementwise::unary),
    ("Pad", movement::pad),
    ("Pow", elementwise::binary),
    ("Range", constant::range),
    ("Reciprocal", elementwise::unary),
    ("ReduceMax", pool::reduce),
    ("ReduceMean", pool::reduce),
    ("ReduceSum", pool::reduce),
    ("Relu", elementwise::unary),
    ("Reshape", shape::reshape),
    ("Resize", resize::resize),
    ("Shape", shape::shape),
    ("Sigmoid", elementwise::unary),
    ("Size", shape::size),
    ("Slice", movement::slice),
    ("Softmax", norm::softmax),
    ("Split", movement::split),
    ("Sqrt", elementwise::unary),
    ("Squeeze", shape::squeeze),
    ("Sub", elementwise::binary),
    ("Tanh", elementwise::unary),
    ("Tile", movement::expand),
    ("Transpose", movement::transpose),
    ("Unsqueeze", shape::squeeze),
    ("Upsample", resize::resize),
    ("Where", elementwise::binary),
];

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

/// The handler of an op type of the default domain, if it is supported.
pub(super) fn handler(op_type: &str) -> Option<Handler> {
    REGISTRY
        .binary_search_by(|(name, _)| (*name).cmp(op_type))
        .ok()
        .map(|i| REGISTRY[i].1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_is_sorted_and_matches_the_supported_list() {
        let names: Vec<&str> = REGISTRY.iter().map(|(n, _)| *n).collect();
        assert!(names.windows(2).all(|w| w[0] < w[1]), "{names:?}");
        assert_eq!(names, SUPPORTED_OPS);
        assert!(handler("Conv").is_some() && handler("conv").is_none());
    }
}
