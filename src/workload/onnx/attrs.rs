//! Node attributes: typed access to a node's `AttributeProto`s by name. An attribute whose
//! declared type is not the one the op reads (a `kernel_shape` given as a string) is an error
//! naming the node and the attribute, not a silently empty value.

use super::{OnnxError, R};
use tract_onnx::pb;
use tract_onnx::pb::attribute_proto::AttributeType;

/// The attributes of one node, with what errors need to name it.
pub(super) struct Attrs<'a> {
    list: &'a [pb::AttributeProto],
    path: &'a str,
    node: String,
    op_type: String,
}

/// How an attribute type reads in an error.
fn type_name(t: i32) -> String {
    match AttributeType::try_from(t) {
        Ok(AttributeType::Float) => "a float (FLOAT)".into(),
        Ok(AttributeType::Int) => "an integer (INT)".into(),
        Ok(AttributeType::String) => "a string (STRING)".into(),
        Ok(AttributeType::Tensor) => "a tensor (TENSOR)".into(),
        Ok(AttributeType::Floats) => "a list of floats (FLOATS)".into(),
        Ok(AttributeType::Ints) => "a list of integers (INTS)".into(),
        Ok(other) => format!("a {} attribute", other.as_str_name()),
        Err(_) => format!("an attribute of unknown type {t}"),
    }
}

impl<'a> Attrs<'a> {
    /// The attributes `list` of node `node` (of type `op_type`) in the file at `path`.
    pub(super) fn new(
        list: &'a [pb::AttributeProto],
        path: &'a str,
        node: &str,
        op_type: &str,
    ) -> Self {
        Attrs {
            list,
            path,
            node: node.to_string(),
            op_type: op_type.to_string(),
        }
    }

    /// An error about `field` of this node: an input (`input #2 (scales)`) or an output.
    pub(super) fn field_err<T>(
        &self,
        field: impl Into<String>,
        expected: impl Into<String>,
        got: impl Into<String>,
    ) -> R<T> {
        Err(OnnxError::Field {
            path: self.path.to_string(),
            node: self.node.clone(),
            op_type: self.op_type.clone(),
            field: field.into(),
            expected: expected.into(),
            got: got.into(),
        })
    }

    /// An error about attribute `name` of this node.
    pub(super) fn attr_err<T>(
        &self,
        name: &str,
        expected: impl Into<String>,
        got: impl Into<String>,
    ) -> R<T> {
        self.field_err(format!("attribute `{name}`"), expected, got)
    }

    /// True when the node has an attribute called `name`.
    pub(super) fn has(&self, name: &str) -> bool {
        self.list.iter().any(|a| a.name == name)
    }

    /// The attribute called `name`, when present, after checking that it is declared as `ty`
    /// (an undeclared type, as some old exporters write, is taken on trust).
    fn typed(&self, name: &str, ty: AttributeType) -> R<Option<&'a pb::AttributeProto>> {
        let Some(a) = self.list.iter().find(|a| a.name == name) else {
            return Ok(None);
        };
        if a.r#type != AttributeType::Undefined as i32 && a.r#type != ty as i32 {
            return self.attr_err(name, type_name(ty as i32), type_name(a.r#type));
        }
        Ok(Some(a))
    }

    /// An integer attribute.
    pub(super) fn int(&self, name: &str) -> R<Option<i64>> {
        Ok(self.typed(name, AttributeType::Int)?.map(|a| a.i))
    }
    /// A list-of-integers attribute.
    pub(super) fn ints(&self, name: &str) -> R<Option<Vec<i64>>> {
        Ok(self
            .typed(name, AttributeType::Ints)?
            .map(|a| a.ints.clone()))
    }
    /// A float attribute.
    pub(super) fn float(&self, name: &str) -> R<Option<f32>> {
        Ok(self.typed(name, AttributeType::Float)?.map(|a| a.f))
    }
    /// A list-of-floats attribute.
    pub(super) fn floats(&self, name: &str) -> R<Option<Vec<f32>>> {
        Ok(self
            .typed(name, AttributeType::Floats)?
            .map(|a| a.floats.clone()))
    }
    /// A string attribute (lossy UTF-8).
    pub(super) fn string(&self, name: &str) -> R<Option<String>> {
        Ok(self
            .typed(name, AttributeType::String)?
            .map(|a| String::from_utf8_lossy(&a.s).into_owned()))
    }
    /// A tensor attribute.
    pub(super) fn tensor(&self, name: &str) -> R<Option<&'a pb::TensorProto>> {
        Ok(self
            .typed(name, AttributeType::Tensor)?
            .and_then(|a| a.t.as_ref()))
    }
}
