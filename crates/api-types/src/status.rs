//! Kubernetes `Status` errors, worded as upstream's apimachinery words them.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{
    ListMeta, Status, StatusCause, StatusDetails,
};

use crate::resources::ResourceInfo;
use crate::validation::FieldError;

/// An error answered to an API client as a `Status` object.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{reason} ({code}): {message}")]
pub struct ApiError {
    pub code: u16,
    /// Upstream's StatusReason: NotFound, AlreadyExists, Conflict, Invalid, ...
    pub reason: &'static str,
    pub message: String,
    /// Boxed: most errors carry none, and it keeps `Result<_, ApiError>` small.
    pub details: Option<Box<StatusDetails>>,
}

fn details(name: &str, r: &ResourceInfo) -> Option<Box<StatusDetails>> {
    Some(Box::new(StatusDetails {
        name: Some(name.to_string()),
        group: Some(r.group.to_string()),
        kind: Some(r.plural.to_string()),
        ..Default::default()
    }))
}

impl ApiError {
    pub fn new(code: u16, reason: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            code,
            reason,
            message: message.into(),
            details: None,
        }
    }

    pub fn not_found(r: &ResourceInfo, name: &str) -> Self {
        ApiError {
            details: details(name, r),
            ..Self::new(
                404,
                "NotFound",
                format!("{} \"{}\" not found", r.group_resource(), name),
            )
        }
    }

    pub fn not_found_message(message: impl Into<String>) -> Self {
        Self::new(404, "NotFound", message)
    }

    pub fn already_exists(r: &ResourceInfo, name: &str) -> Self {
        ApiError {
            details: details(name, r),
            ..Self::new(
                409,
                "AlreadyExists",
                format!("{} \"{}\" already exists", r.group_resource(), name),
            )
        }
    }

    /// A stale resourceVersion on update.
    pub fn conflict(r: &ResourceInfo, name: &str, why: &str) -> Self {
        ApiError {
            details: details(name, r),
            ..Self::new(
                409,
                "Conflict",
                format!(
                    "Operation cannot be fulfilled on {} \"{}\": {}",
                    r.group_resource(),
                    name,
                    why
                ),
            )
        }
    }

    pub fn conflict_modified(r: &ResourceInfo, name: &str) -> Self {
        Self::conflict(
            r,
            name,
            "the object has been modified; please apply your changes to the latest version and try again",
        )
    }

    /// 422 with every failing field, as `Kind.group "name" is invalid: [a: ..., b: ...]`.
    pub fn invalid(group: &str, kind: &str, name: &str, errors: &[FieldError]) -> Self {
        let qualified = if group.is_empty() {
            kind.to_string()
        } else {
            format!("{kind}.{group}")
        };
        let list = match errors {
            [one] => one.to_string(),
            many => format!(
                "[{}]",
                many.iter()
                    .map(|e| e.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        ApiError {
            code: 422,
            reason: "Invalid",
            message: format!("{qualified} \"{name}\" is invalid: {list}"),
            details: Some(Box::new(StatusDetails {
                name: Some(name.to_string()),
                group: Some(group.to_string()),
                kind: Some(kind.to_string()),
                causes: Some(errors.iter().map(FieldError::to_cause).collect()),
                ..Default::default()
            })),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "BadRequest", message)
    }

    /// 410 for a watch or list from a compacted revision.
    pub fn expired(message: impl Into<String>) -> Self {
        Self::new(410, "Expired", message)
    }

    pub fn gone(message: impl Into<String>) -> Self {
        Self::new(410, "Gone", message)
    }

    pub fn unauthorized() -> Self {
        Self::new(401, "Unauthorized", "Unauthorized")
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(403, "Forbidden", message)
    }

    pub fn method_not_allowed(message: impl Into<String>) -> Self {
        Self::new(405, "MethodNotAllowed", message)
    }

    pub fn not_acceptable(message: impl Into<String>) -> Self {
        Self::new(406, "NotAcceptable", message)
    }

    pub fn request_entity_too_large(message: impl Into<String>) -> Self {
        Self::new(413, "RequestEntityTooLarge", message)
    }

    pub fn unsupported_media_type(message: impl Into<String>) -> Self {
        Self::new(415, "UnsupportedMediaType", message)
    }

    pub fn internal(message: impl std::fmt::Display) -> Self {
        Self::new(
            500,
            "InternalError",
            format!("Internal error occurred: {message}"),
        )
    }

    pub fn service_unavailable(message: impl Into<String>) -> Self {
        Self::new(503, "ServiceUnavailable", message)
    }

    pub fn timeout(message: impl Into<String>) -> Self {
        Self::new(504, "Timeout", message)
    }

    /// The `Status` object sent to the client.
    pub fn to_status(&self) -> Status {
        Status {
            code: Some(i32::from(self.code)),
            details: self.details.as_deref().cloned(),
            message: Some(self.message.clone()),
            metadata: ListMeta::default(),
            reason: Some(self.reason.to_string()),
            status: Some("Failure".to_string()),
        }
    }

    /// The `Status` as JSON with its apiVersion and kind.
    pub fn to_json(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(self.to_status()).unwrap_or_default();
        if let Some(o) = v.as_object_mut() {
            o.insert("kind".into(), "Status".into());
            o.insert("apiVersion".into(), "v1".into());
            o.insert("metadata".into(), serde_json::json!({}));
        }
        v
    }
}

/// A success Status (answered for some deletes).
pub fn success_status(details: Option<StatusDetails>) -> serde_json::Value {
    let mut v = serde_json::to_value(Status {
        status: Some("Success".into()),
        details,
        ..Default::default()
    })
    .unwrap_or_default();
    if let Some(o) = v.as_object_mut() {
        o.insert("kind".into(), "Status".into());
        o.insert("apiVersion".into(), "v1".into());
        o.insert("metadata".into(), serde_json::json!({}));
    }
    v
}

/// `StatusCause` helper for causes that are not field errors.
pub fn cause(reason: &str, message: &str, field: &str) -> StatusCause {
    StatusCause {
        reason: Some(reason.to_string()),
        message: Some(message.to_string()),
        field: Some(field.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::find;

    #[test]
    fn not_found_names_group_resource() {
        let Some(deploy) = find("apps", "v1", "deployments") else {
            panic!("deployments missing")
        };
        assert_eq!(
            ApiError::not_found(deploy, "web").message,
            "deployments.apps \"web\" not found"
        );
        let Some(pods) = find("", "v1", "pods") else {
            panic!("pods missing")
        };
        assert_eq!(
            ApiError::not_found(pods, "p").message,
            "pods \"p\" not found"
        );
    }

    #[test]
    fn invalid_lists_every_field() {
        let errs = vec![
            FieldError::required("spec.containers[0].image", ""),
            FieldError::invalid(
                "metadata.name",
                serde_json::json!("A_b"),
                "must be lowercase",
            ),
        ];
        let e = ApiError::invalid("", "Pod", "p", &errs);
        assert_eq!(e.code, 422);
        assert_eq!(
            e.message,
            "Pod \"p\" is invalid: [spec.containers[0].image: Required value, metadata.name: Invalid value: \"A_b\": must be lowercase]"
        );
        let j = e.to_json();
        assert_eq!(j["details"]["causes"][0]["reason"], "FieldValueRequired");
        assert_eq!(j["details"]["causes"][1]["field"], "metadata.name");
        assert_eq!(j["kind"], "Status");
    }
}
