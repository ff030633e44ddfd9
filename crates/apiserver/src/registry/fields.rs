//! The fields a field selector may name, per kind (upstream's field label
//! conversion functions), and their values on an object.

use api_types::resources::ResourceInfo;
use api_types::DynamicObject;
use serde_json::Value;

const META: &[&str] = &["metadata.name", "metadata.namespace"];

/// Field labels a kind supports beyond metadata.name and metadata.namespace.
fn kind_fields(r: &ResourceInfo) -> &'static [&'static str] {
    match (r.group, r.plural) {
        ("", "pods") => &[
            "spec.nodeName",
            "spec.restartPolicy",
            "spec.schedulerName",
            "spec.serviceAccountName",
            "spec.hostNetwork",
            "status.phase",
            "status.podIP",
            "status.nominatedNodeName",
        ],
        ("", "events") => &[
            "involvedObject.kind",
            "involvedObject.namespace",
            "involvedObject.name",
            "involvedObject.uid",
            "involvedObject.apiVersion",
            "involvedObject.resourceVersion",
            "involvedObject.fieldPath",
            "reason",
            "reportingComponent",
            "source",
            "type",
        ],
        ("events.k8s.io", "events") => &[
            "regarding.kind",
            "regarding.namespace",
            "regarding.name",
            "regarding.uid",
            "regarding.apiVersion",
            "regarding.resourceVersion",
            "regarding.fieldPath",
            "reason",
            "reportingController",
            "type",
        ],
        ("", "secrets") => &["type"],
        ("", "nodes") => &["spec.unschedulable"],
        ("", "namespaces") => &["status.phase"],
        ("", "services") => &["spec.clusterIP", "spec.type"],
        ("", "replicationcontrollers") | ("apps", "replicasets") => &["status.replicas"],
        ("batch", "jobs") => &["status.successful"],
        ("certificates.k8s.io", "certificatesigningrequests") => &["spec.signerName"],
        _ => &[],
    }
}

pub fn is_supported(r: &ResourceInfo, field: &str) -> bool {
    META.contains(&field) || kind_fields(r).contains(&field)
}

/// The value of a field on an object, as the field selector compares it.
pub fn value(obj: &DynamicObject, field: &str) -> Option<String> {
    match field {
        "metadata.name" => return obj.metadata.name.clone(),
        "metadata.namespace" => return obj.metadata.namespace.clone(),
        // Core events' `source` is source.component upstream.
        "source" => return obj.data["source"]["component"].as_str().map(str::to_string),
        _ => {}
    }
    let mut v = &obj.data;
    for part in field.split('.') {
        v = v.get(part)?;
    }
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        // Upstream reads absent booleans/ints as their zero values.
        Value::Null => None,
        _ => None,
    }
}

/// Upstream's zero value for a missing field (so `spec.unschedulable=false` matches
/// nodes without the field).
pub fn value_or_default(obj: &DynamicObject, field: &str) -> String {
    value(obj, field).unwrap_or_else(|| match field {
        "spec.hostNetwork" | "spec.unschedulable" => "false".into(),
        "status.replicas" | "status.successful" => "0".into(),
        _ => String::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pod_fields() {
        let obj: DynamicObject = serde_json::from_value(serde_json::json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "p", "namespace": "ns"},
            "spec": {"nodeName": "n1"},
            "status": {"phase": "Running"}
        }))
        .unwrap();
        assert_eq!(value(&obj, "spec.nodeName").as_deref(), Some("n1"));
        assert_eq!(value(&obj, "status.phase").as_deref(), Some("Running"));
        assert_eq!(value_or_default(&obj, "spec.hostNetwork"), "false");
        let pods = api_types::resources::find("", "v1", "pods").unwrap();
        assert!(is_supported(pods, "spec.nodeName"));
        assert!(!is_supported(pods, "spec.foo"));
    }
}
