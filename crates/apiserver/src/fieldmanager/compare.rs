//! Which fields an object write added, modified and removed (structured-merge-diff's
//! `TypedValue.Compare`), along the schema: atomic lists and maps compare as one leaf,
//! keyed lists item by item.
//!
//! One deliberate difference: upstream compares Go objects, where a struct field that is
//! not a pointer always exists (`spec`, `status`, `template`, ...), so such fields are
//! never "added" themselves, only their contents. Our objects are JSON and omit empty
//! structs, so a struct field missing from an object that exists on both sides is
//! compared as `{}`, which gives the field sets kubectl shows upstream (`f:spec` without
//! a `.` entry). Pointer structs (`rollingUpdate`, `securityContext`) cannot be told
//! apart in the schema and are treated the same way.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::fieldset::{values_equal, PathElement, Set, MAX_DEPTH};
use super::schema::{ListType, Resolved, Scalar, Schema, TypeRef};
use super::typed::{child_type, deduce, form, is_declared, item_element, Form};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Comparison {
    pub(crate) added: Set,
    pub(crate) modified: Set,
    pub(crate) removed: Set,
}

impl Comparison {
    /// Drops `ignored` paths (and everything below them) from the three sets.
    pub(crate) fn without(mut self, ignored: &Set) -> Comparison {
        if !ignored.is_empty() {
            self.added = self.added.recursive_difference(ignored);
            self.modified = self.modified.recursive_difference(ignored);
            self.removed = self.removed.recursive_difference(ignored);
        }
        self
    }
}

/// Compares `lhs` (before) with `rhs` (after), both of type `tr`.
pub(crate) fn compare(schema: &Schema, tr: TypeRef, lhs: &Value, rhs: &Value) -> Comparison {
    let mut w = Walker {
        schema,
        path: Vec::new(),
        out: Comparison::default(),
    };
    w.compare(tr, Some(lhs), Some(rhs));
    w.out
}

struct Walker<'a> {
    schema: &'a Schema,
    path: Vec<PathElement>,
    out: Comparison,
}

fn scalar_ok(kind: Option<Scalar>, v: &Value) -> bool {
    match (kind, v) {
        (_, Value::Null) => true,
        (Some(Scalar::Numeric), v) => v.is_number(),
        (Some(Scalar::String), v) => v.is_string(),
        (Some(Scalar::Boolean), v) => v.is_boolean(),
        (_, v) => !v.is_object() && !v.is_array(),
    }
}

impl Walker<'_> {
    fn compare(&mut self, tr: TypeRef, lhs: Option<&Value>, rhs: Option<&Value>) {
        if (lhs.is_none() && rhs.is_none()) || self.path.len() > MAX_DEPTH {
            return;
        }
        let r = self.schema.resolve(tr);
        let (al, ar) = (deduce(&r, lhs), deduce(&r, rhs));
        let in_leaf = if rhs.is_none() {
            self.handle(form(al), &r, lhs, rhs)
        } else if lhs.is_none() || al == ar {
            self.handle(form(ar), &r, lhs, rhs)
        } else {
            // The value changed form: compare it as both (upstream does the same).
            self.handle(form(al), &r, lhs, rhs);
            self.handle(form(ar), &r, lhs, rhs)
        };
        if !in_leaf {
            if lhs.is_none() {
                self.out.added.insert(&self.path);
            } else if rhs.is_none() {
                self.out.removed.insert(&self.path);
            }
        }
    }

    /// Returns whether the value was compared as a leaf.
    fn handle(
        &mut self,
        f: Form,
        r: &Resolved<'_>,
        lhs: Option<&Value>,
        rhs: Option<&Value>,
    ) -> bool {
        match f {
            Form::Scalar => {
                let bad = |v: Option<&Value>| v.is_some_and(|v| !scalar_ok(r.scalar, v));
                if bad(lhs) && bad(rhs) {
                    return false;
                }
                self.leaf(lhs, rhs);
                true
            }
            Form::List => {
                let Some(list) = r.list else { return false };
                let (l, rr) = (as_list(lhs), as_list(rhs));
                let empty = |x: Option<&Vec<Value>>| x.is_none_or(|x| x.is_empty());
                if list.atomic || (empty(l) && empty(rr)) {
                    self.leaf(lhs, rhs);
                    return true;
                }
                if l.is_some() || rr.is_some() {
                    self.list_items(list, l, rr);
                }
                false
            }
            Form::Map => {
                let (l, rr) = (as_map(lhs), as_map(rhs));
                let empty = |x: Option<&Map<String, Value>>| x.is_none_or(|x| x.is_empty());
                if r.map_atomic() || (empty(l) && empty(rr)) {
                    self.leaf(lhs, rhs);
                    return true;
                }
                if l.is_some() || rr.is_some() {
                    self.map_items(r, l, rr);
                }
                false
            }
            Form::Invalid => false,
        }
    }

    fn leaf(&mut self, lhs: Option<&Value>, rhs: Option<&Value>) {
        match (lhs, rhs) {
            (None, _) => self.out.added.insert(&self.path),
            (_, None) => self.out.removed.insert(&self.path),
            (Some(a), Some(b)) if !values_equal(a, b) => self.out.modified.insert(&self.path),
            _ => {}
        }
    }

    fn map_items(
        &mut self,
        r: &Resolved<'_>,
        lhs: Option<&Map<String, Value>>,
        rhs: Option<&Map<String, Value>>,
    ) {
        let empty_object = Value::Object(Map::new());
        let mut keys: Vec<&String> = lhs.map(|m| m.keys().collect()).unwrap_or_default();
        if let Some(rhs) = rhs {
            keys.extend(
                rhs.keys()
                    .filter(|k| !lhs.is_some_and(|l| l.contains_key(*k))),
            );
        }
        for key in keys {
            let tr = child_type(r, key);
            let mut l = lhs.and_then(|m| m.get(key));
            let mut rv = rhs.and_then(|m| m.get(key));
            // A missing (non-pointer) struct field of an existing struct is an empty
            // struct in Go; inside a new list item or map value it is new like the rest.
            if is_declared(r, key) && self.schema.resolve(tr).is_struct() {
                if lhs.is_some() && l.is_none() && rv.is_some_and(Value::is_object) {
                    l = Some(&empty_object);
                } else if rhs.is_some() && rv.is_none() && l.is_some_and(Value::is_object) {
                    rv = Some(&empty_object);
                }
            }
            self.path.push(PathElement::Field(key.clone()));
            self.compare(tr, l, rv);
            self.path.pop();
        }
    }

    fn list_items(&mut self, list: &ListType, lhs: Option<&Vec<Value>>, rhs: Option<&Vec<Value>>) {
        // Every distinct item key in first-seen order, with the items carrying it.
        let mut order: Vec<PathElement> = Vec::new();
        let mut items: BTreeMap<PathElement, (Vec<&Value>, Vec<&Value>)> = BTreeMap::new();
        for (side, values) in [(0, lhs), (1, rhs)] {
            for v in values.into_iter().flatten() {
                let Ok(pe) = item_element(self.schema, list, v) else {
                    continue;
                };
                let entry = items.entry(pe.clone()).or_insert_with(|| {
                    order.push(pe);
                    (Vec::new(), Vec::new())
                });
                if side == 0 {
                    entry.0.push(v);
                } else {
                    entry.1.push(v);
                }
            }
        }
        for pe in order {
            let Some((l, r)) = items.get(&pe) else {
                continue;
            };
            match (l.len(), r.len()) {
                (0..=1, 0..=1) => self.item(list, pe, l.first().copied(), r.first().copied()),
                (2.., 2..) => {
                    let same =
                        l.len() == r.len() && l.iter().zip(r).all(|(a, b)| values_equal(a, b));
                    if !same {
                        self.path.push(pe);
                        self.out.modified.insert(&self.path);
                        self.path.pop();
                    }
                }
                // Duplicates resolved: the surviving item is new, the duplicate marker goes.
                (2.., _) => {
                    if let Some(v) = r.first() {
                        self.item(list, pe.clone(), None, Some(v));
                    }
                    self.path.push(pe);
                    self.out.removed.insert(&self.path);
                    self.path.pop();
                }
                (_, _) => {
                    if let Some(v) = l.first() {
                        self.item(list, pe.clone(), Some(v), None);
                    }
                    self.path.push(pe);
                    self.out.added.insert(&self.path);
                    self.path.pop();
                }
            }
        }
    }

    fn item(&mut self, list: &ListType, pe: PathElement, l: Option<&Value>, r: Option<&Value>) {
        self.path.push(pe);
        self.compare(list.element, l, r);
        self.path.pop();
    }
}

pub(crate) fn as_list(v: Option<&Value>) -> Option<&Vec<Value>> {
    match v {
        Some(Value::Array(a)) => Some(a),
        _ => None,
    }
}

pub(crate) fn as_map(v: Option<&Value>) -> Option<&Map<String, Value>> {
    match v {
        Some(Value::Object(m)) => Some(m),
        _ => None,
    }
}
