//! ConfigMaps: ValidateConfigMap / ValidateConfigMapUpdate (keys, the 1 MiB total,
//! and `immutable: true`).

use std::collections::BTreeMap;

use api_types::names::is_dns1123_subdomain;
use api_types::validation::{key, FieldError};
use api_types::DynamicObject;
use k8s_openapi::api::core::v1::ConfigMap;

use super::decode::{validate_decoded, validate_decoded_update};
use super::metadata::{
    invalid_each, is_config_map_key, validate_object_meta, validate_object_meta_update,
};
use super::Strategy;

/// Upstream's `MaxSecretSize`, also the ConfigMap limit.
pub const MAX_DATA_SIZE: usize = 1024 * 1024;
pub const IMMUTABLE_SET: &str = "field is immutable when `immutable` is set";

pub struct ConfigMapStrategy;

/// An absent map and an empty one are the same (Go's semantic equality).
pub fn same_map<V: PartialEq>(
    a: &Option<BTreeMap<String, V>>,
    b: &Option<BTreeMap<String, V>>,
) -> bool {
    let empty = BTreeMap::new();
    a.as_ref().unwrap_or(&empty) == b.as_ref().unwrap_or(&empty)
}

pub fn validate_config_map(cm: &ConfigMap) -> Vec<FieldError> {
    let mut errs = validate_object_meta(&cm.metadata, true, is_dns1123_subdomain, "metadata");
    let mut total = 0usize;
    let no_binary = BTreeMap::new();
    let binary = cm.binary_data.as_ref().unwrap_or(&no_binary);
    for (k, v) in cm.data.iter().flatten() {
        let msgs = is_config_map_key(k);
        if !msgs.is_empty() {
            errs.extend(invalid_each(&key("data", k), k, msgs));
        }
        if binary.contains_key(k) {
            errs.push(FieldError::invalid(
                key("data", k),
                k.as_str(),
                "duplicate of key present in binaryData",
            ));
        }
        total = total.saturating_add(v.len());
    }
    for (k, v) in binary {
        let msgs = is_config_map_key(k);
        if !msgs.is_empty() {
            errs.extend(invalid_each(&key("binaryData", k), k, msgs));
        }
        total = total.saturating_add(v.0.len());
    }
    if total > MAX_DATA_SIZE {
        // Upstream reports the whole object, printed as "[]".
        errs.push(FieldError::too_long("[]", MAX_DATA_SIZE));
    }
    errs
}

pub fn validate_config_map_update(new: &ConfigMap, old: &ConfigMap) -> Vec<FieldError> {
    let mut errs = validate_object_meta_update(&new.metadata, &old.metadata, "metadata");
    if old.immutable == Some(true) {
        if new.immutable != Some(true) {
            errs.push(FieldError::forbidden("immutable", IMMUTABLE_SET));
        }
        if !same_map(&new.data, &old.data) {
            errs.push(FieldError::forbidden("data", IMMUTABLE_SET));
        }
        if !same_map(&new.binary_data, &old.binary_data) {
            errs.push(FieldError::forbidden("binaryData", IMMUTABLE_SET));
        }
    }
    errs.extend(validate_config_map(new));
    errs
}

impl Strategy for ConfigMapStrategy {
    fn validate(&self, obj: &DynamicObject) -> Vec<FieldError> {
        validate_decoded(obj, validate_config_map)
    }

    fn validate_update(&self, new: &DynamicObject, old: &DynamicObject) -> Vec<FieldError> {
        validate_decoded_update(new, old, validate_config_map_update)
    }

    fn tracks_generation(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: serde_json::Value) -> DynamicObject {
        serde_json::from_value(v).unwrap()
    }

    fn cm(data: serde_json::Value) -> DynamicObject {
        obj(
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "default", "resourceVersion": "1"}, "data": data}),
        )
    }

    fn strings(errs: &[FieldError]) -> Vec<String> {
        errs.iter().map(|e| e.to_string()).collect()
    }

    #[test]
    fn valid_config_map_passes() {
        assert!(ConfigMapStrategy
            .validate(&cm(json!({"a.conf": "x", "KEY_2": "y", "k-3": ""})))
            .is_empty());
    }

    #[test]
    fn bad_keys_duplicates_and_size() {
        let mut o = cm(json!({"bad key": "x", "..x": "y", "dup": "z"}));
        o.data["binaryData"] = json!({"dup": "eg=="});
        let errs = strings(&ConfigMapStrategy.validate(&o));
        assert_eq!(
            errs,
            vec![
                "data[..x]: Invalid value: \"..x\": must not start with '..'".to_string(),
                "data[bad key]: Invalid value: \"bad key\": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')".to_string(),
                "data[dup]: Invalid value: \"dup\": duplicate of key present in binaryData".to_string(),
            ]
        );
        let big = cm(json!({"a": "x".repeat(MAX_DATA_SIZE), "b": "y"}));
        assert_eq!(
            strings(&ConfigMapStrategy.validate(&big)),
            vec!["[]: Too long: may not be more than 1048576 bytes"]
        );
        let no_meta =
            obj(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "Bad_Name"}}));
        let errs = strings(&ConfigMapStrategy.validate(&no_meta));
        assert!(errs[0].starts_with(
            "metadata.name: Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain"
        ));
        assert_eq!(errs[1], "metadata.namespace: Required value");
    }

    #[test]
    fn immutable_config_maps_keep_their_data() {
        let mut old = cm(json!({"a": "1"}));
        old.data["immutable"] = json!(true);
        let mut new = cm(json!({"a": "2"}));
        new.data["immutable"] = json!(false);
        assert_eq!(
            strings(&ConfigMapStrategy.validate_update(&new, &old)),
            vec![
                "immutable: Forbidden: field is immutable when `immutable` is set",
                "data: Forbidden: field is immutable when `immutable` is set",
            ]
        );
        // Labels may still change; a mutable map may become immutable.
        let mut relabeled = old.clone();
        relabeled.metadata.labels = Some([("x".to_string(), "y".to_string())].into());
        assert!(ConfigMapStrategy
            .validate_update(&relabeled, &old)
            .is_empty());
        let mut frozen = cm(json!({"a": "1"}));
        frozen.data["immutable"] = json!(true);
        assert!(ConfigMapStrategy
            .validate_update(&frozen, &cm(json!({"a": "1"})))
            .is_empty());
    }
}
