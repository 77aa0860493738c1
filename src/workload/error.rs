//! The workload's error types: [`ModelError`], for anything that goes wrong reading, naming or
//! building a model (LLM configs, GGUF files, the Hugging Face cache, built-in network names,
//! ONNX files), and [`OnnxError`], its ONNX-import part. They live apart from the model builders
//! so that the LLM, vision and ONNX modules can all return them without importing each other.

/// Errors reading or interpreting a model config.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// The file could not be read, or is not UTF-8 (the error gives the byte offset).
    #[error("{path}: cannot read: {cause}")]
    Io {
        /// File path.
        path: String,
        /// Cause (in the message, not a separate source, so that it is printed once).
        cause: crate::util::text::TextError,
    },
    /// A directory where a model file was expected.
    #[error(
        "{path}: is a directory; expected a config.json or .onnx file, or a model's short name"
    )]
    Directory {
        /// The path given.
        path: String,
    },
    /// The JSON is malformed or a field has the wrong type or is missing.
    #[error("{path}:{line}:{column}: {message}")]
    Json {
        /// File path.
        path: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What serde said.
        message: String,
    },
    /// A field has a value archscope cannot model.
    #[error("{path}: field `{field}`: {message}")]
    Invalid {
        /// File path.
        path: String,
        /// Field name.
        field: &'static str,
        /// What was expected.
        message: String,
    },
    /// Neither a known short name nor an existing file.
    #[error("unknown model `{name}`: not a short name ({known}) and no such file")]
    NotFound {
        /// What was asked for.
        name: String,
        /// Known short names.
        known: String,
    },
    /// A built-in network name with parameters that do not parse, or a size it cannot be built
    /// at.
    #[error("model `{name}`: {message}")]
    Spec {
        /// The name as given.
        name: String,
        /// What is wrong.
        message: String,
    },
    /// An ONNX file that cannot be imported.
    #[error(transparent)]
    Onnx(#[from] OnnxError),
    /// A GGUF file that is truncated, corrupted, or describes no model archscope can build.
    #[error("{path}: not a usable GGUF file: {cause}")]
    Gguf {
        /// File path.
        path: String,
        /// What is wrong, with the byte offset where it is in the file.
        cause: super::gguf::GgufError,
    },
    /// A Hugging Face model id (`org/name`) whose `config.json` is not in the local cache.
    #[error(
        "model `{id}` is not in the local Hugging Face cache (looked for {looked}); archscope does not download. Fetch its config with `huggingface-cli download {id} config.json` (or `hf download {id} config.json`), or give a path to a config.json or .gguf file"
    )]
    NotCached {
        /// The model id as given.
        id: String,
        /// Where the config was looked for.
        looked: String,
    },
}

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
    /// A node attribute or input of the wrong type, or with a value the op does not accept
    /// (zero groups, a non-positive scale, a negative repeat, a size past the importer's limits).
    #[error("{path}: node `{node}` ({op_type}): {field}: expected {expected}, got {got}")]
    Field {
        /// File path.
        path: String,
        /// Node name.
        node: String,
        /// Its op type.
        op_type: String,
        /// The attribute, input or output, e.g. ``attribute `kernel_shape` ``,
        /// `input #2 (scales)` or ``output `y` ``.
        field: String,
        /// What the op accepts.
        expected: String,
        /// What the file has.
        got: String,
    },
    /// A graph that computes nothing: no nodes, or only constants and views.
    #[error(
        "{path}: the graph has no operators to cost ({detail}); expected at least one node that computes"
    )]
    Empty {
        /// File path.
        path: String,
        /// `it has no nodes`, or how many nodes folded away.
        detail: String,
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
