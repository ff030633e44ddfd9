//! Moving from client-side to server-side apply, as upstream does for the field manager
//! `kubectl` only (`kubectl apply --server-side` after plain `kubectl apply`):
//!
//! - conflicts on fields that the `kubectl.kubernetes.io/last-applied-configuration`
//!   annotation lists with the live value are not conflicts: the client-side applier set
//!   them, so the server-side applier takes them over;
//! - after a successful apply the annotation, when present, is rewritten to the applied
//!   configuration, so a later client-side apply computes its diff from it.

use serde_json::Value;

use super::compare::compare;
use super::fieldset::Set;
use super::gojson;
use super::schema::{Schema, TypeRef};
use super::typed::{field_set, validate};

pub(crate) const ANNOTATION: &str = "kubectl.kubernetes.io/last-applied-configuration";
/// Upstream's limit on the total size of an object's annotations.
const TOTAL_ANNOTATION_SIZE_LIMIT: usize = 256 * 1024;
/// The only manager whose conflicts the annotation can excuse.
pub(crate) const KUBECTL: &str = "kubectl";

fn annotation(obj: &Value) -> Option<&str> {
    obj.pointer("/metadata/annotations")?
        .get(ANNOTATION)?
        .as_str()
        .filter(|s| !s.is_empty())
}

/// The fields the last client-side apply set that still hold the value it set: an apply
/// by `kubectl` may take them without a conflict. `None` when there is no usable
/// annotation.
pub(crate) fn allowed_conflicts(
    schema: &Schema,
    root: TypeRef,
    api_version: &str,
    live: &Value,
) -> Option<Set> {
    let last: Value = serde_json::from_str(annotation(live)?).ok()?;
    if !last.is_object() || last.get("apiVersion").and_then(Value::as_str) != Some(api_version) {
        return None;
    }
    if !validate(schema, root, &last).is_empty() {
        return None;
    }
    let cmp = compare(schema, root, &last, live);
    Some(
        field_set(schema, root, &last)
            .difference(&cmp.modified)
            .difference(&cmp.added)
            .difference(&cmp.removed),
    )
}

/// Whether `obj` carries a non-empty last-applied annotation.
pub(crate) fn has_annotation(obj: &Value) -> bool {
    annotation(obj).is_some()
}

/// The annotation's value for an applied configuration: the configuration without the
/// annotation itself, as Go's encoding/json writes it (sorted keys, trailing newline).
pub(crate) fn build(config: &Value) -> String {
    let mut config = config.clone();
    if let Some(Value::Object(annotations)) = config.pointer_mut("/metadata/annotations") {
        annotations.shift_remove(ANNOTATION);
    }
    let mut out = gojson::encode(&config);
    out.push('\n');
    out
}

/// Sets the annotation on `obj`, unless that would make its annotations too large (then
/// the annotation is dropped, as upstream).
pub(crate) fn set(obj: &mut Value, value: String) {
    let Some(Value::Object(meta)) = obj.get_mut("metadata") else {
        return;
    };
    let annotations = meta
        .entry("annotations")
        .or_insert_with(|| Value::Object(Default::default()));
    if !annotations.is_object() {
        *annotations = Value::Object(Default::default());
    }
    let Value::Object(annotations) = annotations else {
        return;
    };
    annotations.insert(ANNOTATION.into(), Value::String(value));
    let size: usize = annotations
        .iter()
        .map(|(k, v)| k.len() + v.as_str().map_or(0, str::len))
        .sum();
    if size > TOTAL_ANNOTATION_SIZE_LIMIT {
        annotations.shift_remove(ANNOTATION);
    }
}
