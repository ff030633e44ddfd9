//! Secrets: SetDefaults_Secret (type Opaque), the v1 conversion that folds `stringData`
//! into `data`, and ValidateSecret / ValidateSecretUpdate (keys, 1 MiB, the keys each
//! type requires, immutable type and `immutable: true`).

use api_types::names::is_dns1123_subdomain;
use api_types::validation::{key, FieldError};
use api_types::{ApiError, DynamicObject};
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::ByteString;
use serde_json::Value;

use super::configmaps::{same_map, IMMUTABLE_SET, MAX_DATA_SIZE};
use super::decode::{validate_decoded, validate_decoded_update, with_decoded};
use super::metadata::{
    invalid_each, is_config_map_key, validate_object_meta, validate_object_meta_update,
    FIELD_IMMUTABLE,
};
use super::pod_spec::{default_str, opt};
use super::Strategy;

const SERVICE_ACCOUNT_NAME_KEY: &str = "kubernetes.io/service-account.name";
const REDACTED: &str = "<secret contents redacted>";

pub struct SecretStrategy;

/// SetDefaults_Secret plus the conversion: `stringData` entries overwrite `data` and
/// are not stored.
pub fn default_secret(secret: &mut Secret) {
    default_str(&mut secret.type_, "Opaque");
    if let Some(strings) = secret.string_data.take() {
        let data = secret.data.get_or_insert_with(Default::default);
        for (k, v) in strings {
            data.insert(k, ByteString(v.into_bytes()));
        }
    }
}

/// The error Go's `json.Unmarshal` into a `map[string]interface{}` would give, if any.
fn json_object_error(bytes: &[u8]) -> Option<String> {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(_)) | Ok(Value::Null) => None,
        Ok(other) => {
            let kind = match other {
                Value::Array(_) => "array",
                Value::String(_) => "string",
                Value::Number(_) => "number",
                _ => "bool",
            };
            Some(format!(
                "json: cannot unmarshal {kind} into Go value of type map[string]interface {{}}"
            ))
        }
        Err(e) if e.is_eof() => Some("unexpected end of JSON input".to_string()),
        Err(e) => Some(e.to_string()),
    }
}

pub fn validate_secret(secret: &Secret) -> Vec<FieldError> {
    let mut errs = validate_object_meta(&secret.metadata, true, is_dns1123_subdomain, "metadata");
    let data = secret.data.clone().unwrap_or_default();
    let mut total = 0usize;
    for (k, v) in &data {
        errs.extend(invalid_each(&key("data", k), k, is_config_map_key(k)));
        total = total.saturating_add(v.0.len());
    }
    if total > MAX_DATA_SIZE {
        errs.push(FieldError::too_long("data", MAX_DATA_SIZE));
    }
    let required = |errs: &mut Vec<FieldError>, k: &str| {
        if !data.contains_key(k) {
            errs.push(FieldError::required(key("data", k), ""));
        }
    };
    match opt(&secret.type_) {
        "kubernetes.io/service-account-token" => {
            let name = secret
                .metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get(SERVICE_ACCOUNT_NAME_KEY));
            if name.is_none_or(|n| n.is_empty()) {
                errs.push(FieldError::required(
                    key("metadata.annotations", SERVICE_ACCOUNT_NAME_KEY),
                    "",
                ));
            }
        }
        t @ ("kubernetes.io/dockercfg" | "kubernetes.io/dockerconfigjson") => {
            let k = if t == "kubernetes.io/dockercfg" {
                ".dockercfg"
            } else {
                ".dockerconfigjson"
            };
            match data.get(k) {
                None => required(&mut errs, k),
                Some(bytes) => {
                    if let Some(msg) = json_object_error(&bytes.0) {
                        errs.push(FieldError::invalid(key("data", k), REDACTED, msg));
                    }
                }
            }
        }
        // Upstream builds these two paths from a literal "data[%s]".
        "kubernetes.io/basic-auth"
            if !data.contains_key("username") && !data.contains_key("password") =>
        {
            errs.push(FieldError::required("data[%s][username]", ""));
            errs.push(FieldError::required("data[%s][password]", ""));
        }
        "kubernetes.io/ssh-auth" if data.get("ssh-privatekey").is_none_or(|v| v.0.is_empty()) => {
            errs.push(FieldError::required("data[%s][ssh-privatekey]", ""));
        }
        "kubernetes.io/tls" => {
            required(&mut errs, "tls.crt");
            required(&mut errs, "tls.key");
        }
        _ => {}
    }
    errs
}

pub fn validate_secret_update(new: &Secret, old: &Secret) -> Vec<FieldError> {
    let mut errs = validate_object_meta_update(&new.metadata, &old.metadata, "metadata");
    let new_type = if opt(&new.type_).is_empty() {
        opt(&old.type_)
    } else {
        opt(&new.type_)
    };
    if new_type != opt(&old.type_) {
        errs.push(FieldError::invalid("type", new_type, FIELD_IMMUTABLE));
    }
    if old.immutable == Some(true) {
        if new.immutable != Some(true) {
            errs.push(FieldError::forbidden("immutable", IMMUTABLE_SET));
        }
        if !same_map(&new.data, &old.data) {
            errs.push(FieldError::forbidden("data", IMMUTABLE_SET));
        }
    }
    errs.extend(validate_secret(new));
    errs
}

impl Strategy for SecretStrategy {
    fn default(&self, obj: &mut DynamicObject) -> Result<(), ApiError> {
        with_decoded(obj, default_secret)
    }

    fn validate(&self, obj: &DynamicObject) -> Vec<FieldError> {
        validate_decoded(obj, validate_secret)
    }

    fn validate_update(&self, new: &DynamicObject, old: &DynamicObject) -> Vec<FieldError> {
        validate_decoded_update(new, old, validate_secret_update)
    }

    fn tracks_generation(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn secret(extra: Value) -> DynamicObject {
        let mut v = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "default", "resourceVersion": "1"}});
        if let (Some(m), Value::Object(e)) = (v.as_object_mut(), extra) {
            m.extend(e);
        }
        serde_json::from_value(v).unwrap()
    }

    fn strings(errs: &[FieldError]) -> Vec<String> {
        errs.iter().map(|e| e.to_string()).collect()
    }

    fn defaulted(extra: Value) -> DynamicObject {
        let mut o = secret(extra);
        SecretStrategy.default(&mut o).unwrap();
        o
    }

    #[test]
    fn defaults_type_and_folds_string_data() {
        let o = defaulted(json!({"data": {"a": "eA=="}, "stringData": {"b": "hi", "a": "over"}}));
        assert_eq!(o.data["type"], "Opaque");
        assert_eq!(o.data["data"], json!({"a": "b3Zlcg==", "b": "aGk="}));
        assert!(o.data.get("stringData").is_none());
        assert!(SecretStrategy.validate(&o).is_empty());
    }

    #[test]
    fn type_specific_keys() {
        let tls = defaulted(json!({"type": "kubernetes.io/tls", "data": {"tls.crt": ""}}));
        assert_eq!(
            strings(&SecretStrategy.validate(&tls)),
            vec!["data[tls.key]: Required value"]
        );
        let sa = defaulted(json!({"type": "kubernetes.io/service-account-token"}));
        assert_eq!(
            strings(&SecretStrategy.validate(&sa)),
            vec!["metadata.annotations[kubernetes.io/service-account.name]: Required value"]
        );
        let dcj = defaulted(
            json!({"type": "kubernetes.io/dockerconfigjson", "stringData": {".dockerconfigjson": "[1]"}}),
        );
        assert_eq!(
            strings(&SecretStrategy.validate(&dcj)),
            vec!["data[.dockerconfigjson]: Invalid value: \"<secret contents redacted>\": json: cannot unmarshal array into Go value of type map[string]interface {}"]
        );
        let ok = defaulted(
            json!({"type": "kubernetes.io/dockerconfigjson", "stringData": {".dockerconfigjson": "{\"auths\":{}}"}}),
        );
        assert!(SecretStrategy.validate(&ok).is_empty());
        let basic = defaulted(json!({"type": "kubernetes.io/basic-auth", "data": {"bad/key": ""}}));
        let errs = strings(&SecretStrategy.validate(&basic));
        assert!(
            errs[0].starts_with("data[bad/key]: Invalid value: \"bad/key\": a valid config key")
        );
        assert_eq!(
            &errs[1..],
            [
                "data[%s][username]: Required value",
                "data[%s][password]: Required value"
            ]
        );
        let big = defaulted(json!({"stringData": {"a": "x".repeat(MAX_DATA_SIZE + 1)}}));
        assert_eq!(
            strings(&SecretStrategy.validate(&big)),
            vec!["data: Too long: may not be more than 1048576 bytes"]
        );
    }

    #[test]
    fn type_and_immutable_data_cannot_change() {
        let old = defaulted(
            json!({"type": "kubernetes.io/tls", "immutable": true, "data": {"tls.crt": "", "tls.key": ""}}),
        );
        let new = defaulted(json!({"immutable": true, "data": {"tls.crt": "eA==", "tls.key": ""}}));
        assert_eq!(
            strings(&SecretStrategy.validate_update(&new, &old)),
            vec![
                "type: Invalid value: \"Opaque\": field is immutable",
                "data: Forbidden: field is immutable when `immutable` is set",
            ]
        );
        assert!(SecretStrategy.validate_update(&old, &old).is_empty());
    }
}
