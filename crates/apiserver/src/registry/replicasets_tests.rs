//! ReplicaSetStrategy and ReplicationControllerStrategy.

use super::*;
use serde_json::{json, Value};

fn object(kind: &str, api_version: &str, spec: Value) -> DynamicObject {
    serde_json::from_value(json!({"apiVersion": api_version, "kind": kind,
        "metadata": {"name": "rs", "namespace": "default", "resourceVersion": "2"}, "spec": spec}))
    .unwrap()
}

fn strings(errs: &[FieldError]) -> Vec<String> {
    errs.iter().map(|e| e.to_string()).collect()
}

fn template(labels: Value) -> Value {
    json!({"metadata": {"labels": labels}, "spec": {"containers": [{"name": "c", "image": "nginx:1"}]}})
}

#[test]
fn replica_set_defaults_and_validation() {
    let mut o = object(
        "ReplicaSet",
        "apps/v1",
        json!({"selector": {"matchLabels": {"app": "x"}}, "template": template(json!({"app": "x"}))}),
    );
    ReplicaSetStrategy.default(&mut o).unwrap();
    ReplicaSetStrategy.prepare_for_create(&mut o).unwrap();
    assert_eq!(o.data["spec"]["replicas"], 1);
    assert_eq!(
        o.data["spec"]["template"]["spec"]["dnsPolicy"],
        "ClusterFirst"
    );
    assert_eq!(o.data["status"], json!({"replicas": 0}));
    assert!(
        ReplicaSetStrategy.validate(&o).is_empty(),
        "{:?}",
        strings(&ReplicaSetStrategy.validate(&o))
    );

    let mut bad = object(
        "ReplicaSet",
        "apps/v1",
        json!({"replicas": -3, "template": template(json!({"app": "x"}))}),
    );
    ReplicaSetStrategy.default(&mut bad).unwrap();
    assert_eq!(
        strings(&ReplicaSetStrategy.validate(&bad)),
        vec![
            "spec.replicas: Invalid value: -3: must be greater than or equal to 0",
            "spec.selector: Required value",
            "spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"x\"}: `selector` does not match template `labels`",
        ]
    );
}

#[test]
fn replica_set_selector_is_immutable() {
    let mut old = object(
        "ReplicaSet",
        "apps/v1",
        json!({"selector": {"matchLabels": {"app": "x"}}, "template": template(json!({"app": "x"}))}),
    );
    ReplicaSetStrategy.default(&mut old).unwrap();
    let mut new = object(
        "ReplicaSet",
        "apps/v1",
        json!({"selector": {"matchLabels": {"app": "x"}, "matchExpressions": []}, "template": template(json!({"app": "x"}))}),
    );
    ReplicaSetStrategy.default(&mut new).unwrap();
    assert!(ReplicaSetStrategy.validate_update(&new, &old).is_empty());
    let mut changed = object(
        "ReplicaSet",
        "apps/v1",
        json!({"selector": {"matchExpressions": [{"key": "app", "operator": "In", "values": ["x"]}]},
        "template": template(json!({"app": "x"}))}),
    );
    ReplicaSetStrategy.default(&mut changed).unwrap();
    assert_eq!(
        strings(&ReplicaSetStrategy.validate_update(&changed, &old)),
        vec!["spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement{v1.LabelSelectorRequirement{Key:\"app\", Operator:\"In\", Values:[]string{\"x\"}}}}: field is immutable"]
    );
}

#[test]
fn replication_controllers() {
    let mut o = object(
        "ReplicationController",
        "v1",
        json!({"template": template(json!({"app": "x"}))}),
    );
    ReplicationControllerStrategy.default(&mut o).unwrap();
    ReplicationControllerStrategy
        .prepare_for_create(&mut o)
        .unwrap();
    assert_eq!(o.data["spec"]["selector"], json!({"app": "x"}));
    assert_eq!(o.data["spec"]["replicas"], 1);
    assert_eq!(
        o.metadata.labels,
        Some([("app".to_string(), "x".to_string())].into())
    );
    assert!(
        ReplicationControllerStrategy.validate(&o).is_empty(),
        "{:?}",
        strings(&ReplicationControllerStrategy.validate(&o))
    );

    let mut bad = object(
        "ReplicationController",
        "v1",
        json!({"selector": {"app": "y"}, "template": template(json!({"app": "x"}))}),
    );
    bad.data["spec"]["template"]["spec"]["activeDeadlineSeconds"] = json!(3);
    ReplicationControllerStrategy.default(&mut bad).unwrap();
    assert_eq!(
        strings(&ReplicationControllerStrategy.validate(&bad)),
        vec![
            "spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"x\"}: `selector` does not match template `labels`",
            "spec.template.spec.activeDeadlineSeconds: Forbidden: activeDeadlineSeconds in ReplicationController is not Supported",
        ]
    );
    let mut empty = object("ReplicationController", "v1", json!({}));
    ReplicationControllerStrategy.default(&mut empty).unwrap();
    assert_eq!(
        strings(&ReplicationControllerStrategy.validate(&empty)),
        vec![
            "spec.selector: Required value",
            "spec.template: Required value"
        ]
    );
}
