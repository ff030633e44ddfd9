//! RFC 7386 JSON merge patch, as upstream applies it (evanphx/json-patch v4
//! `MergePatch`): `null` deletes, objects merge recursively, anything else replaces.
//! Like upstream, `null` members are also pruned from objects the patch adds.

use serde_json::{Map, Value};

use super::{check_depth, PatchError};

pub fn apply_merge_patch(doc: &Value, patch: &Value) -> Result<Value, PatchError> {
    check_depth(doc, "the object")?;
    check_depth(patch, "the patch")?;
    match (doc, patch) {
        (Value::Null, _) => Err(PatchError::BadRequest("Invalid JSON Document".into())),
        (_, Value::Null | Value::Bool(_) | Value::Number(_) | Value::String(_)) => {
            Err(PatchError::BadRequest("Invalid JSON Patch".into()))
        }
        (Value::Object(d), Value::Object(p)) => {
            let mut out = d.clone();
            merge_into(&mut out, p);
            Ok(Value::Object(out))
        }
        // A non-object target becomes the patch itself (RFC 7386: `Target = {}` first).
        (_, p) => Ok(pruned(p)),
    }
}

fn merge_into(target: &mut Map<String, Value>, patch: &Map<String, Value>) {
    for (k, v) in patch {
        if v.is_null() {
            // shift_remove keeps the remaining members in order.
            target.shift_remove(k);
            continue;
        }
        match target.get_mut(k) {
            Some(Value::Object(cur)) if v.is_object() => {
                if let Value::Object(p) = v {
                    merge_into(cur, p);
                }
            }
            // Upstream returns a non-object patch value over an object as is.
            Some(cur @ Value::Object(_)) => *cur = v.clone(),
            Some(cur) if !cur.is_null() => *cur = pruned(v),
            _ => {
                target.insert(k.clone(), pruned(v));
            }
        }
    }
}

/// A copy of `v` without `null` object members, at any depth.
fn pruned(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), pruned(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(pruned).collect()),
        other => other.clone(),
    }
}
