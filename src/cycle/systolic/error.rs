//! Error type of the systolic-array model: parse errors that name the file, line and field,
//! and validation errors for configurations and layers built in code.

use std::path::PathBuf;

/// Everything that can go wrong while reading SCALE-Sim inputs or evaluating the model.
#[derive(Debug, thiserror::Error)]
pub enum SystolicError {
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file that was being read.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },

    /// A line of a `.cfg` or topology file does not have the expected form.
    #[error("{file}:{line}: {message}")]
    Parse {
        /// File name (or a caller-chosen label for in-memory text).
        file: String,
        /// 1-based line number.
        line: u64,
        /// What was found and what was expected, naming the field.
        message: String,
    },

    /// A required key is absent from a `.cfg` file.
    #[error("{file}: missing key `{key}` in section [{section}]")]
    MissingKey {
        /// File name (or label).
        file: String,
        /// Section that should contain the key.
        section: String,
        /// The missing key, spelled as SCALE-Sim spells it.
        key: String,
    },

    /// A configuration value is out of range (e.g. a zero-sized array).
    #[error("invalid systolic configuration: {field}: {message}")]
    InvalidConfig {
        /// The offending field.
        field: &'static str,
        /// What was expected.
        message: String,
    },

    /// A layer shape is invalid (zero dimension, filter larger than the input, ...).
    #[error("invalid layer `{layer}`: {message}")]
    InvalidLayer {
        /// Layer name.
        layer: String,
        /// What was expected.
        message: String,
    },
}
