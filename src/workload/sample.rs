//! What one forward pass of a non-LLM model processes ([`Sample`]): images or token sequences.
//! Shared by the built-in vision networks and ONNX imports, so neither depends on the other for
//! it.

use serde::Serialize;

/// What one forward pass processes: images or token sequences.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Sample {
    /// One image per batch element.
    Image,
    /// One token sequence per batch element.
    Sequence,
}

impl Sample {
    /// Plural noun for reports: `images` or `sequences`.
    pub fn plural(self) -> &'static str {
        match self {
            Sample::Image => "images",
            Sample::Sequence => "sequences",
        }
    }
    /// Singular noun for reports: `image` or `sequence`.
    pub fn singular(self) -> &'static str {
        match self {
            Sample::Image => "image",
            Sample::Sequence => "sequence",
        }
    }
}
