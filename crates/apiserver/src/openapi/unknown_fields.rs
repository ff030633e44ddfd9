//! Unknown-field detection (`fieldValidation=Strict` / `Warn`) from the same definitions
//! the documents publish, precompiled into a tree of nodes indexed by number so a request
//! costs one hash lookup per object key and no schema interpretation.
//!
//! Paths are reported the way upstream's strict decoder (sigs.k8s.io/json) writes them:
//! object keys and map keys joined with `.`, list indexes as `[i]`, e.g.
//! `spec.template.spec.containers[0].imagePullPolice`; at most 100 per object; nothing
//! below an unknown field. Values that decode through custom unmarshallers upstream
//! (int-or-string, quantities, times, RawExtension, FieldsV1, apiextensions JSON) accept
//! anything, as do maps declared without a value schema and schemas with
//! `x-kubernetes-preserve-unknown-fields`.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::defs::{INT_OR_STRING, QUANTITY, UNTYPED, V2_PREFIX};

/// Upstream stops collecting strict errors after 100.
const MAX_ERRORS: usize = 100;
/// Deeper than any real object; protects the stack from hostile input.
const MAX_DEPTH: usize = 200;
/// Index of the node that accepts any value.
const ANY: usize = 0;

enum Node {
    Any,
    /// A struct: its known properties, and the value schema of extra keys if it has one.
    Object {
        fields: HashMap<Box<str>, usize>,
        additional: Option<usize>,
    },
    Array(usize),
    Map(usize),
    /// Another node (a definition that is only a ref).
    Alias(usize),
}

pub(crate) struct Validator {
    nodes: Vec<Node>,
    by_name: HashMap<String, usize>,
}

impl Validator {
    /// Compiles v2-form definitions (refs `#/definitions/<name>`).
    pub(crate) fn compile(defs: &Map<String, Value>) -> Validator {
        let mut v = Validator {
            nodes: vec![Node::Any],
            by_name: HashMap::with_capacity(defs.len()),
        };
        // Reserve one slot per definition first, so refs (and cycles, e.g. JSONSchemaProps)
        // resolve to a fixed index.
        for name in defs.keys() {
            let slot = v.nodes.len();
            v.nodes.push(Node::Any);
            v.by_name.insert(name.clone(), slot);
        }
        for (name, schema) in defs {
            let opaque =
                name == INT_OR_STRING || name == QUANTITY || UNTYPED.contains(&name.as_str());
            let node = if opaque { Node::Any } else { v.node(schema) };
            if let Some(&slot) = v.by_name.get(name) {
                v.nodes[slot] = node;
            }
        }
        v
    }

    /// The node index of a schema position (a ref resolves to its definition's slot).
    fn index(&mut self, schema: &Value) -> usize {
        if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
            return r
                .strip_prefix(V2_PREFIX)
                .and_then(|n| self.by_name.get(n))
                .copied()
                .unwrap_or(ANY);
        }
        match self.node(schema) {
            Node::Any => ANY,
            node => {
                self.nodes.push(node);
                self.nodes.len() - 1
            }
        }
    }

    fn node(&mut self, schema: &Value) -> Node {
        let Value::Object(s) = schema else {
            return Node::Any;
        };
        if s.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(true)) {
            return Node::Any;
        }
        if s.contains_key("$ref") {
            // Only a definition that is itself a bare ref gets here (positions resolve refs
            // in `index`); its target may not be compiled yet, so point at it.
            return match self.index(schema) {
                ANY => Node::Any,
                i => Node::Alias(i),
            };
        }
        let additional = match s.get("additionalProperties") {
            Some(a @ Value::Object(_)) => Some(self.index(a)),
            _ => None,
        };
        if let Some(Value::Object(props)) = s.get("properties") {
            let fields = props
                .iter()
                .map(|(k, p)| (k.as_str().into(), self.index(p)))
                .collect();
            return Node::Object { fields, additional };
        }
        if let Some(items @ Value::Object(_)) = s.get("items") {
            return Node::Array(self.index(items));
        }
        match additional {
            Some(a) if a != ANY => Node::Map(a),
            _ => Node::Any,
        }
    }

    /// The definition's node, for the kinds and bodies the server decodes.
    pub(crate) fn definition(&self, name: &str) -> Option<usize> {
        self.by_name.get(name).copied()
    }

    /// Every unknown field of `value` decoded as the node `root`.
    pub(crate) fn unknown_fields(&self, root: usize, value: &Value) -> Vec<String> {
        let mut out = Vec::new();
        let mut path = String::new();
        self.walk(root, value, &mut path, &mut out, 0);
        out
    }

    fn walk(
        &self,
        node: usize,
        value: &Value,
        path: &mut String,
        out: &mut Vec<String>,
        depth: usize,
    ) {
        if depth > MAX_DEPTH || out.len() >= MAX_ERRORS {
            return;
        }
        match (self.nodes.get(node), value) {
            (Some(Node::Alias(target)), _) => self.walk(*target, value, path, out, depth + 1),
            (Some(Node::Object { fields, additional }), Value::Object(obj)) => {
                for (key, v) in obj {
                    let target = match fields.get(key.as_str()) {
                        Some(&i) => i,
                        None => match additional {
                            Some(a) => *a,
                            None => {
                                if out.len() < MAX_ERRORS {
                                    out.push(join(path, key));
                                }
                                continue;
                            }
                        },
                    };
                    self.descend(target, v, path, key, out, depth);
                }
            }
            (Some(Node::Map(item)), Value::Object(obj)) => {
                for (key, v) in obj {
                    self.descend(*item, v, path, key, out, depth);
                }
            }
            (Some(Node::Array(item)), Value::Array(list)) => {
                for (i, v) in list.iter().enumerate() {
                    if matches!(v, Value::Object(_) | Value::Array(_)) {
                        let len = path.len();
                        path.push('[');
                        path.push_str(&i.to_string());
                        path.push(']');
                        self.walk(*item, v, path, out, depth + 1);
                        path.truncate(len);
                    }
                }
            }
            _ => {}
        }
    }

    fn descend(
        &self,
        node: usize,
        value: &Value,
        path: &mut String,
        key: &str,
        out: &mut Vec<String>,
        depth: usize,
    ) {
        // Scalars have no fields: skip the path bookkeeping.
        if node == ANY || !matches!(value, Value::Object(_) | Value::Array(_)) {
            return;
        }
        let len = path.len();
        if !path.is_empty() {
            path.push('.');
        }
        path.push_str(key);
        self.walk(node, value, path, out, depth + 1);
        path.truncate(len);
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}
