//! Node attributes: typed access to a node's `AttributeProto`s by name.

use tract_onnx::pb;

/// The attributes of one node.
pub(super) struct Attrs<'a>(pub(super) &'a [pb::AttributeProto]);

impl Attrs<'_> {
    /// The attribute called `name`, if present.
    pub(super) fn get(&self, name: &str) -> Option<&pb::AttributeProto> {
        self.0.iter().find(|a| a.name == name)
    }
    /// An integer attribute.
    pub(super) fn int(&self, name: &str) -> Option<i64> {
        self.get(name).map(|a| a.i)
    }
    /// A list-of-integers attribute.
    pub(super) fn ints(&self, name: &str) -> Option<Vec<i64>> {
        self.get(name).map(|a| a.ints.clone())
    }
    /// A float attribute.
    pub(super) fn float(&self, name: &str) -> Option<f32> {
        self.get(name).map(|a| a.f)
    }
    /// A string attribute (lossy UTF-8).
    pub(super) fn string(&self, name: &str) -> Option<String> {
        self.get(name)
            .map(|a| String::from_utf8_lossy(&a.s).into_owned())
    }
}
