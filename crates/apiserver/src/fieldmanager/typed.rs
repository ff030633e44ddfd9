//! Walks over a JSON value along its schema type (structured-merge-diff's `typed`
//! package): naming list items, validating an applied configuration, and listing the
//! fields a value sets. Comparing and merging live in `compare.rs` and `merge.rs`.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::fieldset::{path_string, PathElement, Set, MAX_DEPTH};
use super::schema::{ListType, Resolved, Scalar, Schema, TypeRef, UNTYPED};

/// The type of `key` inside a map. Keys the schema does not declare (live objects may
/// carry fields this server's schema lacks) are kept whole, as upstream's field set
/// records them: one leaf.
pub(crate) fn child_type(r: &Resolved<'_>, key: &str) -> TypeRef {
    r.map
        .and_then(|(m, _)| m.field_type(key))
        .unwrap_or(TypeRef::of(UNTYPED))
}

pub(crate) const F_SCALAR: u8 = 1;
pub(crate) const F_LIST: u8 = 2;
pub(crate) const F_MAP: u8 = 4;

/// The forms of `r` that `v` may take (upstream's `deduceAtom`): the value's own form
/// when the type allows it, else every form of the type.
pub(crate) fn deduce(r: &Resolved<'_>, v: Option<&Value>) -> u8 {
    let all = u8::from(r.scalar.is_some())
        | u8::from(r.list.is_some()) << 1
        | u8::from(r.map.is_some()) << 2;
    let own = match v {
        Some(Value::Bool(_) | Value::Number(_) | Value::String(_)) => F_SCALAR,
        Some(Value::Array(_)) => F_LIST,
        Some(Value::Object(_)) => F_MAP,
        _ => 0,
    };
    if all & own != 0 {
        own
    } else {
        all
    }
}

/// Which form handles a value of the deduced `forms` (upstream's `handleAtom` order).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Form {
    Map,
    Scalar,
    List,
    Invalid,
}

pub(crate) fn form(forms: u8) -> Form {
    if forms & F_MAP != 0 {
        Form::Map
    } else if forms & F_SCALAR != 0 {
        Form::Scalar
    } else if forms & F_LIST != 0 {
        Form::List
    } else {
        Form::Invalid
    }
}

/// Whether `key` is a declared field of the struct `r`.
pub(crate) fn is_declared(r: &Resolved<'_>, key: &str) -> bool {
    r.map.is_some_and(|(m, _)| m.fields.contains_key(key))
}

/// Names a list item: by its key fields (`map` lists) or its value (`set` lists).
pub(crate) fn item_element(
    schema: &Schema,
    list: &ListType,
    item: &Value,
) -> Result<PathElement, String> {
    if list.keys.is_empty() {
        return match item {
            Value::Object(_) => {
                Err("associative list without keys has an element that's a map type".into())
            }
            Value::Array(_) => Err("not supported: associative list with lists as elements".into()),
            Value::Null => {
                Err("associative list without keys has an element that's an explicit null".into())
            }
            v => Ok(PathElement::Value(v.clone())),
        };
    }
    let obj = match item {
        Value::Object(o) => o,
        Value::Null => return Err("associative list with keys may not have a null element".into()),
        _ => return Err("associative list with keys may not have non-map elements".into()),
    };
    let element = schema.resolve(list.element);
    let mut key = Vec::with_capacity(list.keys.len());
    for name in &list.keys {
        if let Some(v) = obj.get(name) {
            key.push((name.clone(), v.clone()));
        } else if let Some(d) = element
            .map
            .and_then(|(m, _)| m.fields.get(name))
            .and_then(|f| f.default.clone())
        {
            key.push((name.clone(), d));
        }
        // Otherwise the key simply lacks that field: a different item than one setting it.
    }
    if key.is_empty() {
        let names: Vec<String> = list
            .keys
            .iter()
            .map(|k| crate::openapi::go_quote(k))
            .collect();
        return Err(format!(
            "associative list with keys has an element that omits all key fields [{}] (and doesn't have default values for any key fields)",
            names.join(" ")
        ));
    }
    key.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(PathElement::Key(key))
}

/// Go's `%v` of an unexpected value in validation messages (JSON is close enough).
fn shown(v: &Value) -> String {
    v.to_string()
}

fn go_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "<nil>",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float64",
        Value::Number(_) => "int64",
        Value::String(_) => "string",
        Value::Array(_) => "[]interface {}",
        Value::Object(_) => "map[string]interface {}",
    }
}

/// Validates an applied configuration against its type, strictly (unknown fields, wrong
/// types, duplicate or key-less list items). Errors are `(path, message)`.
pub(crate) fn validate(schema: &Schema, tr: TypeRef, v: &Value) -> Vec<(String, String)> {
    let mut errs = Vec::new();
    validate_at(schema, tr, v, &mut Vec::new(), &mut errs);
    errs
}

fn validate_at(
    schema: &Schema,
    tr: TypeRef,
    v: &Value,
    path: &mut Vec<PathElement>,
    errs: &mut Vec<(String, String)>,
) {
    if path.len() > MAX_DEPTH {
        errs.push((path_string(path), "nested too deeply".into()));
        return;
    }
    let r = schema.resolve(tr);
    let msg = match (form(deduce(&r, Some(v))), v) {
        (_, Value::Null) | (Form::Invalid, _) => return,
        (Form::Map, Value::Object(obj)) => {
            let Some((m, _)) = r.map else { return };
            for (key, child) in obj {
                path.push(PathElement::Field(key.clone()));
                let Some(ct) = m.field_type(key) else {
                    errs.push((path_string(path), "field not declared in schema".into()));
                    path.pop();
                    // Upstream stops at the first undeclared field of a map.
                    return;
                };
                validate_at(schema, ct, child, path, errs);
                path.pop();
            }
            return;
        }
        (Form::List, Value::Array(items)) => {
            let Some(list) = r.list else { return };
            let mut seen: BTreeSet<PathElement> = BTreeSet::new();
            for (i, item) in items.iter().enumerate() {
                let pe = if list.atomic {
                    PathElement::Index(i)
                } else {
                    let pe = match item_element(schema, list, item) {
                        Ok(pe) => pe,
                        Err(e) => {
                            errs.push((path_string(path), format!("element {i}: {e}")));
                            return;
                        }
                    };
                    if !seen.insert(pe.clone()) {
                        errs.push((path_string(path), format!("duplicate entries for key {pe}")));
                    }
                    pe
                };
                path.push(pe);
                validate_at(schema, list.element, item, path, errs);
                path.pop();
            }
            return;
        }
        (Form::Map, _) => format!("expected map, got {}", shown(v)),
        (Form::List, _) => format!("expected list, got {}", shown(v)),
        (Form::Scalar, _) => match r.scalar {
            Some(Scalar::Numeric) if !v.is_number() => {
                format!("expected numeric (int or float), got {}", go_type(v))
            }
            Some(Scalar::String) if !v.is_string() => {
                format!("expected string, got {}", shown(v))
            }
            Some(Scalar::Boolean) if !v.is_boolean() => {
                format!("expected boolean, got {}", shown(v))
            }
            Some(Scalar::Untyped) if v.is_object() || v.is_array() => {
                format!("expected any scalar, got {}", shown(v))
            }
            _ => return,
        },
    };
    errs.push((path_string(path), msg));
}

/// The fields `v` sets (upstream's `ToFieldSet`): every scalar, every list or map item,
/// atomic lists and maps as a whole, and struct fields only when null or empty.
pub(crate) fn field_set(schema: &Schema, tr: TypeRef, v: &Value) -> Set {
    let mut set = Set::new();
    collect(schema, tr, v, &mut Vec::new(), &mut set);
    set
}

fn collect(schema: &Schema, tr: TypeRef, v: &Value, path: &mut Vec<PathElement>, set: &mut Set) {
    if path.len() > MAX_DEPTH {
        return;
    }
    let r = schema.resolve(tr);
    match form(deduce(&r, Some(v))) {
        Form::Scalar => set.insert(path),
        Form::List => {
            let Some(list) = r.list else { return };
            if list.atomic {
                set.insert(path);
                return;
            }
            let Value::Array(items) = v else { return };
            let elements: Vec<Option<PathElement>> = items
                .iter()
                .map(|item| item_element(schema, list, item).ok())
                .collect();
            // Items sharing a key are owned as one opaque item.
            let mut counts: BTreeMap<&PathElement, usize> = BTreeMap::new();
            for pe in elements.iter().flatten() {
                *counts.entry(pe).or_default() += 1;
            }
            for (pe, n) in &counts {
                if *n > 1 {
                    path.push((*pe).clone());
                    set.insert(path);
                    path.pop();
                }
            }
            for (item, pe) in items.iter().zip(&elements) {
                let Some(pe) = pe else { continue };
                if counts.get(pe).is_some_and(|n| *n > 1) {
                    continue;
                }
                path.push(pe.clone());
                collect(schema, list.element, item, path, set);
                set.insert(path);
                path.pop();
            }
        }
        Form::Map => {
            if r.map_atomic() {
                set.insert(path);
                return;
            }
            let Value::Object(obj) = v else { return };
            for (key, child) in obj {
                path.push(PathElement::Field(key.clone()));
                collect(schema, child_type(&r, key), child, path, set);
                let empty = match child {
                    Value::Null => true,
                    Value::Object(o) => o.is_empty(),
                    _ => false,
                };
                if empty || !is_declared(&r, key) {
                    set.insert(path);
                }
                path.pop();
            }
        }
        Form::Invalid => {}
    }
}

/// `set` plus, as members, every named struct field it has paths below (upstream's
/// `EnsureNamedFieldsAreMembers`), so pruning can tell a field that still has content.
pub(crate) fn with_named_fields(schema: &Schema, tr: Option<TypeRef>, set: &Set) -> Set {
    let r = tr.map(|t| schema.resolve(t));
    let mut out = Set {
        members: set.members.clone(),
        children: Default::default(),
    };
    for (pe, child) in &set.children {
        let child_tr = match (pe, &r) {
            (PathElement::Field(name), Some(r)) => {
                if is_declared(r, name) {
                    out.members.insert(pe.clone());
                }
                r.map.and_then(|(m, _)| m.field_type(name))
            }
            (PathElement::Key(_), Some(r)) => r.list.map(|l| l.element),
            _ => None,
        };
        out.children
            .insert(pe.clone(), with_named_fields(schema, child_tr, child));
    }
    out
}
