//! Decoding stored objects into k8s-openapi types the way Go decodes them.
//!
//! Go's JSON decoding leaves a missing field at its zero value and validation then
//! reports it ("spec.containers: Required value"); k8s-openapi instead refuses to
//! decode an object that lacks a field its schema marks required. [`decode`] first
//! fills every missing or null required field with its zero value (walking the type's
//! OpenAPI schema), so validation sees what upstream sees.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use api_types::validation::{FieldError, FieldErrorType};
use api_types::{ApiError, DynamicObject};
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};

use super::from_typed;

/// Bounds the schema walk (some schemas are recursive).
const MAX_DEPTH: usize = 64;

fn schema_of<T: JsonSchema>() -> Arc<Value> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<Value>>>> = OnceLock::new();
    let name = T::schema_name().into_owned();
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    if let Ok(map) = cache.lock() {
        if let Some(s) = map.get(&name) {
            return s.clone();
        }
    }
    let schema = Arc::new(
        schemars::SchemaGenerator::default()
            .into_root_schema_for::<T>()
            .to_value(),
    );
    if let Ok(mut map) = cache.lock() {
        map.insert(name, schema.clone());
    }
    schema
}

fn resolve<'a>(schema: &'a Value, root: &'a Value) -> &'a Value {
    let mut s = schema;
    // A few hops at most: definitions refer to definitions.
    for _ in 0..8 {
        match s.get("$ref").and_then(Value::as_str) {
            Some(r) if r.starts_with('#') => match root.pointer(&r[1..]) {
                Some(target) => s = target,
                None => return s,
            },
            _ => return s,
        }
    }
    s
}

fn zero_value(schema: &Value, root: &Value) -> Value {
    let s = resolve(schema, root);
    if s.get("x-kubernetes-int-or-string").and_then(Value::as_bool) == Some(true) {
        return Value::from(0);
    }
    match s.get("type").and_then(Value::as_str) {
        Some("string") => Value::from(""),
        Some("integer") | Some("number") => Value::from(0),
        Some("boolean") => Value::from(false),
        Some("array") => Value::Array(Vec::new()),
        _ => Value::Object(Map::new()),
    }
}

fn fill(value: &mut Value, schema: &Value, root: &Value, depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    let s = resolve(schema, root);
    match value {
        Value::Object(map) => {
            if let Some(props) = s.get("properties").and_then(Value::as_object) {
                for name in s
                    .get("required")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    let Some(name) = name.as_str() else { continue };
                    if map.get(name).is_none_or(Value::is_null) {
                        let zero = props.get(name).map_or(Value::Null, |p| zero_value(p, root));
                        if !zero.is_null() {
                            map.insert(name.to_string(), zero);
                        }
                    }
                }
                for (k, v) in map.iter_mut() {
                    if let Some(p) = props.get(k) {
                        fill(v, p, root, depth + 1);
                    }
                }
            } else if let Some(ap) = s.get("additionalProperties").filter(|v| v.is_object()) {
                for v in map.values_mut() {
                    fill(v, ap, root, depth + 1);
                }
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = s.get("items") {
                for v in items {
                    fill(v, item_schema, root, depth + 1);
                }
            }
        }
        _ => {}
    }
}

/// Decodes `obj` as `T`, treating missing required fields as Go's zero values.
pub fn decode<T: DeserializeOwned + JsonSchema>(obj: &DynamicObject) -> Result<T, ApiError> {
    let mut value = serde_json::to_value(obj).map_err(ApiError::internal)?;
    let schema = schema_of::<T>();
    fill(&mut value, &schema, &schema, 0);
    serde_json::from_value(value).map_err(|e| ApiError::bad_request(e.to_string()))
}

/// A decode failure met during validation (defaulting normally reports it first).
pub fn decode_failure(e: &ApiError) -> FieldError {
    FieldError {
        kind: FieldErrorType::Internal,
        field: String::new(),
        value: None,
        detail: e.message.clone(),
    }
}

/// Runs `f` on the decoded form of `obj` and stores the result back (defaulting, prepare).
pub fn with_decoded<T, F>(obj: &mut DynamicObject, f: F) -> Result<(), ApiError>
where
    T: DeserializeOwned + Serialize + JsonSchema,
    F: FnOnce(&mut T),
{
    let mut typed: T = decode(obj)?;
    f(&mut typed);
    *obj = from_typed(&typed, obj)?;
    Ok(())
}

/// Runs a validation on the decoded form of `obj`.
pub fn validate_decoded<T, F>(obj: &DynamicObject, f: F) -> Vec<FieldError>
where
    T: DeserializeOwned + JsonSchema,
    F: FnOnce(&T) -> Vec<FieldError>,
{
    match decode::<T>(obj) {
        Ok(t) => f(&t),
        Err(e) => vec![decode_failure(&e)],
    }
}

/// Runs an update validation on the decoded forms of the new and old objects.
pub fn validate_decoded_update<T, F>(
    new: &DynamicObject,
    old: &DynamicObject,
    f: F,
) -> Vec<FieldError>
where
    T: DeserializeOwned + JsonSchema,
    F: FnOnce(&T, &T) -> Vec<FieldError>,
{
    match (decode::<T>(new), decode::<T>(old)) {
        (Ok(n), Ok(o)) => super::metadata::dedup(f(&n, &o)),
        (Err(e), _) | (_, Err(e)) => vec![decode_failure(&e)],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::apps::v1::Deployment;
    use k8s_openapi::api::core::v1::Pod;
    use serde_json::json;

    fn dynobj(v: Value) -> DynamicObject {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn missing_required_fields_become_zero_values() {
        let obj = dynobj(json!({
            "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
            "spec": {"volumes": [{"configMap": {"items": [{}]}}], "initContainers": [{"ports": [{}]}]}
        }));
        let pod: Pod = decode(&obj).unwrap();
        let spec = pod.spec.unwrap();
        assert!(spec.containers.is_empty());
        let vols = spec.volumes.unwrap();
        assert_eq!(vols[0].name, "");
        assert_eq!(
            vols[0].config_map.as_ref().unwrap().items.as_ref().unwrap()[0].key,
            ""
        );
        let init = spec.init_containers.unwrap();
        assert_eq!(init[0].name, "");
        assert_eq!(init[0].ports.as_ref().unwrap()[0].container_port, 0);

        let d: Deployment = decode(&dynobj(
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {}, "spec": {}}),
        ))
        .unwrap();
        assert!(d.spec.unwrap().template.spec.is_none());
    }

    #[test]
    fn wrong_types_are_still_bad_requests() {
        let obj = dynobj(
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": {}, "spec": {"containers": "x"}}),
        );
        assert_eq!(decode::<Pod>(&obj).unwrap_err().code, 400);
    }
}

#[cfg(test)]
#[path = "robustness_tests.rs"]
mod robustness_tests;
