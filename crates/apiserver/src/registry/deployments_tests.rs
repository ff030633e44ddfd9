//! DeploymentStrategy: apps/v1 defaults, selector / template rules, strategy checks and
//! the immutable selector.

use super::*;
use serde_json::{json, Value};

fn deploy(spec: Value) -> DynamicObject {
    serde_json::from_value(json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default", "resourceVersion": "3"}, "spec": spec}))
    .unwrap()
}

fn defaulted(spec: Value) -> DynamicObject {
    let mut o = deploy(spec);
    DeploymentStrategy.default(&mut o).unwrap();
    o
}

fn strings(errs: &[FieldError]) -> Vec<String> {
    errs.iter().map(|e| e.to_string()).collect()
}

fn template(labels: Value) -> Value {
    json!({"metadata": {"labels": labels}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}})
}

#[test]
fn defaults_on_a_minimal_deployment() {
    let mut o = defaulted(
        json!({"selector": {"matchLabels": {"app": "x"}}, "template": template(json!({"app": "x"}))}),
    );
    DeploymentStrategy.prepare_for_create(&mut o).unwrap();
    let d: Deployment = serde_json::from_value(serde_json::to_value(&o).unwrap()).unwrap();
    let spec = d.spec.unwrap();
    assert_eq!(spec.replicas, Some(1));
    assert_eq!(spec.revision_history_limit, Some(10));
    assert_eq!(spec.progress_deadline_seconds, Some(600));
    let strategy = spec.strategy.unwrap();
    assert_eq!(strategy.type_.as_deref(), Some("RollingUpdate"));
    let ru = strategy.rolling_update.unwrap();
    assert_eq!(ru.max_unavailable, Some(IntOrString::String("25%".into())));
    assert_eq!(ru.max_surge, Some(IntOrString::String("25%".into())));
    let pod = spec.template.spec.unwrap();
    assert_eq!(pod.restart_policy.as_deref(), Some("Always"));
    assert_eq!(
        pod.containers[0].image_pull_policy.as_deref(),
        Some("Always")
    );
    assert_eq!(pod.enable_service_links, None);
    assert_eq!(o.data["status"], json!({}));
    assert!(
        DeploymentStrategy.validate(&o).is_empty(),
        "{:?}",
        strings(&DeploymentStrategy.validate(&o))
    );
    assert!(DeploymentStrategy.tracks_generation());
}

#[test]
fn selector_must_exist_and_match() {
    let o = defaulted(json!({"template": template(json!({"app": "x"}))}));
    assert!(o.data["spec"].get("selector").is_none());
    assert_eq!(
        strings(&DeploymentStrategy.validate(&o)),
        vec![
            "spec.selector: Required value",
            "spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"x\"}: `selector` does not match template `labels`",
        ]
    );
    let o = defaulted(
        json!({"selector": {"matchLabels": {"app": "y"}}, "template": template(json!({"app": "x"}))}),
    );
    assert_eq!(
        strings(&DeploymentStrategy.validate(&o)),
        vec!["spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"x\"}: `selector` does not match template `labels`"]
    );
    let o = defaulted(json!({"selector": {}, "template": template(json!({"app": "x"}))}));
    assert_eq!(
        strings(&DeploymentStrategy.validate(&o)),
        vec!["spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for deployment"]
    );
    let o = defaulted(
        json!({"selector": {"matchExpressions": [{"key": "app", "operator": "Near"}]}, "template": template(json!({"app": "x"}))}),
    );
    let errs = strings(&DeploymentStrategy.validate(&o));
    assert_eq!(errs[0], "spec.selector.matchExpressions[0].operator: Invalid value: \"Near\": not a valid selector operator");
    assert!(errs[1].ends_with(": invalid label selector"));
    assert_eq!(errs.len(), 2);
}

#[test]
fn spec_field_errors() {
    let o = defaulted(
        json!({"replicas": -1, "minReadySeconds": 700, "revisionHistoryLimit": -2,
        "selector": {"matchLabels": {"app": "x"}},
        "strategy": {"rollingUpdate": {"maxUnavailable": "150%", "maxSurge": "abc"}},
        "template": {"metadata": {"labels": {"app": "x"}}, "spec": {"restartPolicy": "Never", "activeDeadlineSeconds": 5, "containers": [{"name": "c"}]}}}),
    );
    assert_eq!(
        strings(&DeploymentStrategy.validate(&o)),
        vec![
            "spec.replicas: Invalid value: -1: must be greater than or equal to 0",
            "spec.template.spec.containers[0].image: Required value",
            "spec.template.spec.restartPolicy: Unsupported value: \"Never\": supported values: \"Always\"",
            "spec.template.spec.activeDeadlineSeconds: Forbidden: activeDeadlineSeconds in ReplicaSet is not Supported",
            "spec.strategy.rollingUpdate.maxSurge: Invalid value: intstr.IntOrString{Type:1, IntVal:0, StrVal:\"abc\"}: a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')",
            "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: intstr.IntOrString{Type:1, IntVal:0, StrVal:\"150%\"}: must not be greater than 100%",
            "spec.revisionHistoryLimit: Invalid value: -2: must be greater than or equal to 0",
            "spec.progressDeadlineSeconds: Invalid value: 600: must be greater than minReadySeconds",
        ]
    );
    let zero = defaulted(
        json!({"selector": {"matchLabels": {"app": "x"}}, "template": template(json!({"app": "x"})),
        "strategy": {"rollingUpdate": {"maxUnavailable": 0, "maxSurge": "0%"}}}),
    );
    assert_eq!(
        strings(&DeploymentStrategy.validate(&zero)),
        vec!["spec.strategy.rollingUpdate.maxUnavailable: Invalid value: intstr.IntOrString{Type:0, IntVal:0, StrVal:\"\"}: may not be 0 when `maxSurge` is 0"]
    );
    let recreate = defaulted(
        json!({"selector": {"matchLabels": {"app": "x"}}, "template": template(json!({"app": "x"})),
        "strategy": {"type": "Recreate", "rollingUpdate": {}}}),
    );
    assert_eq!(
        strings(&DeploymentStrategy.validate(&recreate)),
        vec!["spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is 'Recreate'"]
    );
    let other = defaulted(
        json!({"selector": {"matchLabels": {"app": "x"}}, "template": template(json!({"app": "x"})), "strategy": {"type": "BlueGreen"}}),
    );
    assert_eq!(
        strings(&DeploymentStrategy.validate(&other)),
        vec!["spec.strategy: Unsupported value: apps.DeploymentStrategy{Type:\"BlueGreen\", RollingUpdate:(*apps.RollingUpdateDeployment)(nil)}: supported values: \"Recreate\", \"RollingUpdate\""]
    );
}

#[test]
fn selector_is_immutable() {
    let old = defaulted(
        json!({"selector": {"matchLabels": {"app": "x"}}, "template": template(json!({"app": "x", "v": "1"}))}),
    );
    let scaled = defaulted(
        json!({"replicas": 5, "selector": {"matchLabels": {"app": "x"}}, "template": template(json!({"app": "x", "v": "2"}))}),
    );
    assert!(DeploymentStrategy.validate_update(&scaled, &old).is_empty());
    let moved = defaulted(
        json!({"selector": {"matchLabels": {"app": "y"}}, "template": template(json!({"app": "y"}))}),
    );
    assert_eq!(
        strings(&DeploymentStrategy.validate_update(&moved, &old)),
        vec!["spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{\"app\":\"y\"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable"]
    );
}
