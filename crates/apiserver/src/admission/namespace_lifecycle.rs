//! NamespaceLifecycle: no new objects in a namespace that does not exist or is being
//! terminated, and the system namespaces cannot be deleted.

use api_types::ApiError;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::StatusDetails;

use crate::server::ApiServer;
use crate::storage::CachedObject;

/// Namespaces that may never be deleted.
pub const IMMORTAL: &[&str] = &["default", "kube-system", "kube-public"];

pub async fn admit_create(server: &ApiServer, namespace: &str) -> Result<(), ApiError> {
    let key = server.store.key("namespaces", None, namespace);
    // The cache can trail a namespace created a moment ago: fall back to etcd.
    let ns = match server.cache("namespaces").and_then(|c| c.get(&key)) {
        Some(ns) => Some(ns.object.clone()),
        None => match server.store.get(&key).await {
            Ok(Some(stored)) => CachedObject::decode(&stored).ok().map(|c| c.object),
            Ok(None) => None,
            Err(e) => {
                return Err(ApiError::service_unavailable(format!(
                    "etcd is unavailable: {e}"
                )))
            }
        },
    };
    let Some(ns) = ns else {
        let mut e = ApiError::not_found_message(format!("namespaces \"{namespace}\" not found"));
        e.details = Some(Box::new(StatusDetails {
            name: Some(namespace.to_string()),
            kind: Some("namespaces".into()),
            ..Default::default()
        }));
        return Err(e);
    };
    let terminating = ns.metadata.deletion_timestamp.is_some()
        || ns.data["status"]["phase"].as_str() == Some("Terminating");
    if terminating {
        let mut e = ApiError::forbidden(format!(
            "unable to create new content in namespace {namespace} because it is being terminated"
        ));
        e.details = Some(Box::new(StatusDetails {
            name: Some(namespace.to_string()),
            kind: Some("namespaces".into()),
            causes: Some(vec![api_types::status::cause(
                "NamespaceTerminating",
                &format!("namespace {namespace} is being terminated"),
                "metadata.namespace",
            )]),
            ..Default::default()
        }));
        return Err(e);
    }
    Ok(())
}

pub fn admit_delete(name: &str) -> Result<(), ApiError> {
    if IMMORTAL.contains(&name) {
        return Err(ApiError::forbidden(format!(
            "namespaces \"{name}\" is forbidden: this namespace may not be deleted"
        )));
    }
    Ok(())
}
