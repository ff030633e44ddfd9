//! Writes through a version stored as another: what the write may not change comes from
//! the stored form, and an object the other version cannot read is refused.

use api_types::resources::find;
use api_types::DynamicObject;
use serde_json::json;

use super::{check_shared_storage, for_resource, stored_write};

fn object(v: serde_json::Value) -> DynamicObject {
    serde_json::from_value(v).unwrap()
}

/// An autoscaling/v2 HPA as stored: two metrics, behavior, and status conditions.
fn stored_v2() -> DynamicObject {
    object(json!({
        "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "web", "namespace": "ns", "generation": 3},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
            "minReplicas": 1, "maxReplicas": 5,
            "metrics": [
                {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}},
                {"type": "Resource", "resource": {"name": "memory", "target": {"type": "AverageValue", "averageValue": "100Mi"}}}
            ]
        },
        "status": {
            "currentReplicas": 2, "desiredReplicas": 2,
            "conditions": [{"type": "AbleToScale", "status": "True", "lastTransitionTime": "2026-01-01T00:00:00Z", "reason": "ReadyForNewScale"}]
        }
    }))
}

fn v1_view(stored: &DynamicObject) -> DynamicObject {
    let r = find("autoscaling", "v1", "horizontalpodautoscalers").unwrap();
    (for_resource(r).unwrap().from_storage)(stored).unwrap()
}

#[test]
fn a_v1_replace_without_annotations_keeps_the_stored_status() {
    let r = find("autoscaling", "v1", "horizontalpodautoscalers").unwrap();
    let old = v1_view(&stored_v2());
    let mut new = old.clone();
    new.metadata.annotations = None; // kubectl replace of a plain v1 manifest
    let (stored, _) = stored_write(r, Some("status"), Some(&stored_v2()), &new)
        .unwrap()
        .unwrap();
    assert_eq!(stored.data["status"], stored_v2().data["status"]);
    // The memory metric lived only in the annotation: it is gone, as upstream, and
    // generation says the spec changed.
    assert_eq!(stored.data["spec"]["metrics"].as_array().unwrap().len(), 1);
    assert_eq!(stored.metadata.generation, Some(4));
}

#[test]
fn a_v1_status_write_cannot_change_the_spec() {
    let r = find("autoscaling", "v1", "horizontalpodautoscalers").unwrap();
    let old = v1_view(&stored_v2());
    let mut new = old.clone();
    new.metadata.annotations = None;
    new.data["status"]["currentReplicas"] = json!(3);
    let (stored, view) = stored_write(r, Some("spec"), Some(&stored_v2()), &new)
        .unwrap()
        .unwrap();
    assert_eq!(stored.data["spec"], stored_v2().data["spec"]);
    assert_eq!(stored.data["status"]["currentReplicas"], 3);
    assert_eq!(stored.metadata.generation, Some(3));
    // The answer is the stored object read back as v1: metrics still annotated.
    let annotations = view.metadata.annotations.unwrap_or_default();
    assert!(
        annotations
            .keys()
            .any(|k| k.starts_with("autoscaling.alpha.kubernetes.io/")),
        "{annotations:?}"
    );
}

#[test]
fn status_in_annotations_is_dropped_on_create() {
    let r = find("autoscaling", "v1", "horizontalpodautoscalers").unwrap();
    let mut new = v1_view(&stored_v2());
    new.data.as_object_mut().unwrap().remove("status");
    let (stored, _) = stored_write(r, Some("status"), None, &new)
        .unwrap()
        .unwrap();
    assert!(stored.data.get("status").is_none(), "{:?}", stored.data);
}

#[test]
fn a_core_event_events_k8s_io_cannot_read_is_refused() {
    let core = find("", "v1", "events").unwrap();
    let bad = object(json!({
        "apiVersion": "v1", "kind": "Event",
        "metadata": {"name": "e", "namespace": "ns"},
        "involvedObject": {"kind": "Pod", "name": "p"}, "count": "x"
    }));
    assert!(check_shared_storage(core, &bad).is_err());
    let good = object(json!({
        "apiVersion": "v1", "kind": "Event",
        "metadata": {"name": "e", "namespace": "ns"},
        "involvedObject": {"kind": "Pod", "name": "p"}, "count": 2
    }));
    assert!(check_shared_storage(core, &good).is_ok());
    let pods = find("", "v1", "pods").unwrap();
    assert!(check_shared_storage(pods, &bad).is_ok());
}
