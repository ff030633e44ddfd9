//! PodStrategy: pod-only defaults, the Pending status with QoS, create validation and
//! the immutability of a pod's spec.

use super::*;
use serde_json::json;

fn obj(v: Value) -> DynamicObject {
    serde_json::from_value(v).unwrap()
}

fn pod(spec: Value) -> DynamicObject {
    obj(
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "default", "resourceVersion": "5"}, "spec": spec}),
    )
}

fn strings(errs: &[FieldError]) -> Vec<String> {
    errs.iter().map(|e| e.to_string()).collect()
}

/// Defaulting then PrepareForCreate, as the create path runs them.
fn created(spec: Value) -> DynamicObject {
    let mut o = pod(spec);
    PodStrategy.default(&mut o).unwrap();
    PodStrategy.prepare_for_create(&mut o).unwrap();
    o
}

fn typed(o: &DynamicObject) -> Pod {
    serde_json::from_value(serde_json::to_value(o).unwrap()).unwrap()
}

#[test]
fn defaults_and_status_on_a_minimal_pod() {
    let o = created(
        json!({"containers": [{"name": "c", "image": "busybox:1.36", "resources": {"limits": {"cpu": "1", "memory": "64Mi"}}}]}),
    );
    let p = typed(&o);
    let spec = p.spec.unwrap();
    assert_eq!(spec.enable_service_links, Some(true));
    assert_eq!(spec.priority, Some(0));
    assert_eq!(
        spec.preemption_policy.as_deref(),
        Some("PreemptLowerPriority")
    );
    assert_eq!(spec.restart_policy.as_deref(), Some("Always"));
    let c = &spec.containers[0];
    assert_eq!(c.image_pull_policy.as_deref(), Some("IfNotPresent"));
    // Requests default to limits, which makes the pod Guaranteed.
    assert_eq!(
        c.resources.as_ref().unwrap().requests,
        c.resources.as_ref().unwrap().limits
    );
    let status = p.status.unwrap();
    assert_eq!(status.phase.as_deref(), Some("Pending"));
    assert_eq!(status.qos_class.as_deref(), Some("Guaranteed"));
    assert!(status.conditions.is_none());
    assert!(
        PodStrategy.validate(&o).is_empty(),
        "{:?}",
        strings(&PodStrategy.validate(&o))
    );
    assert!(!PodStrategy.tracks_generation());
}

#[test]
fn host_network_ports_and_gates() {
    let o = created(
        json!({"hostNetwork": true, "schedulingGates": [{"name": "example.com/wait"}],
        "containers": [{"name": "c", "image": "x", "ports": [{"containerPort": 8080}]}]}),
    );
    let p = typed(&o);
    assert_eq!(
        p.spec.unwrap().containers[0].ports.as_ref().unwrap()[0].host_port,
        Some(8080)
    );
    let status = p.status.unwrap();
    assert_eq!(status.qos_class.as_deref(), Some("BestEffort"));
    let cond = &status.conditions.unwrap()[0];
    assert_eq!(
        (
            cond.type_.as_str(),
            cond.status.as_str(),
            cond.reason.as_deref()
        ),
        ("PodScheduled", "False", Some("SchedulingGated"))
    );
}

#[test]
fn create_errors() {
    let empty = created(json!({}));
    assert_eq!(
        strings(&PodStrategy.validate(&empty)),
        vec!["spec.containers: Required value"]
    );
    let mut o = pod(json!({"nodeName": "n1", "schedulingGates": [{"name": "g"}],
        "containers": [{"name": "c", "image": " busybox"}],
        "ephemeralContainers": [{"name": "e", "image": "x"}]}));
    o.metadata.annotations =
        Some([("kubernetes.io/config.mirror".to_string(), "x".to_string())].into());
    o.metadata.name = None;
    PodStrategy.default(&mut o).unwrap();
    let errs = strings(&PodStrategy.validate(&o));
    assert_eq!(
        errs,
        vec![
            "metadata.name: Required value: name or generateName is required",
            "spec.containers[0].image: Invalid value: \" busybox\": must not have leading or trailing whitespace",
            "spec.ephemeralContainers: Forbidden: cannot be set on create",
            "spec.nodeName: Forbidden: cannot be set until all schedulingGates have been cleared",
        ]
    );
    // A decode failure is reported, not a panic.
    let bad = obj(
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": 5}}),
    );
    assert_eq!(PodStrategy.validate(&bad).len(), 1);
    assert!(PodStrategy.default(&mut bad.clone()).is_err());
}

fn updated(old: &DynamicObject, f: impl FnOnce(&mut Value)) -> DynamicObject {
    let mut v = serde_json::to_value(old).unwrap();
    f(&mut v);
    let mut o = obj(v);
    PodStrategy.default(&mut o).unwrap();
    o
}

#[test]
fn updates_may_change_only_images_deadline_tolerations_and_labels() {
    let old = created(json!({"containers": [{"name": "c", "image": "busybox:1"}],
        "tolerations": [{"key": "k", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 10}]}));
    let ok = updated(&old, |v| {
        v["spec"]["containers"][0]["image"] = json!("busybox:2");
        v["spec"]["activeDeadlineSeconds"] = json!(100);
        v["spec"]["tolerations"] = json!([{"key": "k", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 20},
                                          {"key": "new", "operator": "Exists"}]);
        v["metadata"]["labels"] = json!({"a": "b"});
    });
    assert!(
        PodStrategy.validate_update(&ok, &old).is_empty(),
        "{:?}",
        strings(&PodStrategy.validate_update(&ok, &old))
    );

    let bad = updated(&old, |v| {
        v["spec"]["nodeName"] = json!("n2");
        v["spec"]["tolerations"] = json!([]);
    });
    let errs = strings(&PodStrategy.validate_update(&bad, &old));
    assert_eq!(errs[0], "spec.tolerations: Forbidden: existing toleration can not be modified except its tolerationSeconds");
    assert!(errs[1].starts_with(&format!(
        "spec: Forbidden: pod updates may not change fields other than {UPDATABLE_POD_FIELDS}\n"
    )));
    assert!(errs[1].contains("+ spec.nodeName: \"n2\""));
    assert_eq!(errs.len(), 2);

    let more =
        updated(
            &old,
            |v| {
                v["spec"]["containers"] =
                    json!([{"name": "c", "image": "x"}, {"name": "d", "image": "y"}])
            },
        );
    assert_eq!(
        strings(&PodStrategy.validate_update(&more, &old)),
        vec!["spec.containers: Forbidden: pod updates may not add or remove containers"]
    );
}

#[test]
fn active_deadline_only_goes_down() {
    let old =
        created(json!({"activeDeadlineSeconds": 50, "containers": [{"name": "c", "image": "x"}]}));
    let up = updated(&old, |v| v["spec"]["activeDeadlineSeconds"] = json!(60));
    assert_eq!(
        strings(&PodStrategy.validate_update(&up, &old)),
        vec!["spec.activeDeadlineSeconds: Invalid value: 60: must be less than or equal to previous value"]
    );
    let unset = updated(&old, |v| {
        v["spec"]
            .as_object_mut()
            .unwrap()
            .remove("activeDeadlineSeconds");
    });
    assert_eq!(
        strings(&PodStrategy.validate_update(&unset, &old)),
        vec!["spec.activeDeadlineSeconds: Invalid value: null: must not update from a positive integer to nil value"]
    );
    let renamed = updated(&old, |v| v["metadata"]["name"] = json!("q"));
    assert_eq!(
        strings(&PodStrategy.validate_update(&renamed, &old)),
        vec!["metadata.name: Invalid value: \"q\": field is immutable"]
    );
}

#[test]
fn semantic_equality_ignores_quantity_spelling() {
    let old = created(
        json!({"containers": [{"name": "c", "image": "x", "resources": {"requests": {"cpu": "1"}}}]}),
    );
    let same = updated(&old, |v| {
        v["spec"]["containers"][0]["resources"]["requests"]["cpu"] = json!("1000m")
    });
    assert!(PodStrategy.validate_update(&same, &old).is_empty());
    let more = updated(&old, |v| {
        v["spec"]["containers"][0]["resources"]["requests"]["cpu"] = json!("2")
    });
    let errs = strings(&PodStrategy.validate_update(&more, &old));
    assert!(errs
        .iter()
        .any(|e| e.starts_with("spec: Forbidden: pod updates may not change fields other than")));
}
