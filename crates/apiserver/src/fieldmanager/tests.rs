//! kubectl-like server-side apply scenarios against the real built-in schemas.

use std::sync::OnceLock;

use api_types::resources::{find, ResourceInfo, BUILTIN};
use api_types::ApiError;
use jiff::Timestamp;
use serde_json::{json, Value};

use super::*;
use crate::openapi::OpenApi;

pub(super) fn fm() -> &'static FieldManager {
    static FM: OnceLock<FieldManager> = OnceLock::new();
    FM.get_or_init(|| FieldManager::new(OpenApi::build(BUILTIN, "v1.33.0")))
}

pub(super) fn resource(group: &str, plural: &str) -> &'static ResourceInfo {
    let version = "v1";
    find(group, version, plural).unwrap()
}

pub(super) fn deployments() -> &'static ResourceInfo {
    resource("apps", "deployments")
}

/// A second-precision instant, `secs` after a fixed origin.
pub(super) fn at(secs: i64) -> Timestamp {
    Timestamp::from_second(1_700_000_000 + secs).unwrap()
}

pub(super) fn time_text(secs: i64) -> String {
    at(secs).to_string()
}

/// What storage adds to a created object.
pub(super) fn stored(mut obj: Value) -> Value {
    let meta = obj["metadata"].as_object_mut().unwrap();
    meta.insert("uid".into(), json!("0b5e-uid"));
    meta.insert("resourceVersion".into(), json!("42"));
    meta.insert("creationTimestamp".into(), json!("2023-11-14T22:13:20Z"));
    obj
}

pub(super) fn deployment(replicas: i64, image: &str) -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [
                    {"name": "nginx", "image": image, "ports": [{"containerPort": 80}]}
                ]}
            }
        }
    })
}

pub(super) fn entries(obj: &Value) -> &Vec<Value> {
    obj["metadata"]["managedFields"].as_array().unwrap()
}

pub(super) fn entry<'a>(obj: &'a Value, manager: &str, operation: &str) -> Option<&'a Value> {
    entries(obj)
        .iter()
        .find(|e| e["manager"] == manager && e["operation"] == operation)
}

pub(super) fn owns(obj: &Value, manager: &str, operation: &str, path: &[&str]) -> bool {
    let Some(e) = entry(obj, manager, operation) else {
        return false;
    };
    let set = Set::from_fields_v1(&e["fieldsV1"]).unwrap();
    let path: Vec<PathElement> = path
        .iter()
        .map(|p| PathElement::deserialize(p).unwrap().unwrap())
        .collect();
    set.has(&path)
}

pub(super) fn apply(
    live: Option<&Value>,
    config: &Value,
    manager: &str,
    force: bool,
    secs: i64,
) -> Result<Value, ApplyError> {
    fm().apply(deployments(), live, config, manager, force, at(secs))
}

fn ok(r: Result<Value, ApplyError>) -> Value {
    match r {
        Ok(v) => v,
        Err(e) => panic!("apply failed: {e}"),
    }
}

fn conflict_error(r: Result<Value, ApplyError>) -> ApiError {
    match r {
        Err(e @ ApplyError::Conflicts(_)) => e.into(),
        other => panic!("expected a conflict, got {other:?}"),
    }
}

const CONTAINER: &str = r#"k:{"name":"nginx"}"#;

#[test]
fn apply_creates_and_records_the_applier() {
    let obj = ok(apply(
        None,
        &deployment(2, "nginx:1.25"),
        "kubectl",
        false,
        0,
    ));
    assert_eq!(obj["spec"]["replicas"], 2);
    assert_eq!(obj["metadata"]["name"], "web");
    let managed = entries(&obj);
    assert_eq!(managed.len(), 1);
    assert_eq!(
        managed[0],
        json!({
            "manager": "kubectl",
            "operation": "Apply",
            "apiVersion": "apps/v1",
            "time": time_text(0),
            "fieldsType": "FieldsV1",
            "fieldsV1": {
                "f:metadata": {"f:labels": {"f:app": {}}},
                "f:spec": {
                    "f:replicas": {},
                    "f:selector": {},
                    "f:template": {
                        "f:metadata": {"f:labels": {"f:app": {}}},
                        "f:spec": {"f:containers": {CONTAINER: {
                            ".": {},
                            "f:image": {},
                            "f:name": {},
                            "f:ports": {r#"k:{"containerPort":80,"protocol":"TCP"}"#: {
                                ".": {},
                                "f:containerPort": {}
                            }}
                        }}}
                    }
                }
            }
        })
    );
    // managedFields comes last in metadata, as Go writes ObjectMeta.
    let keys: Vec<&String> = obj["metadata"].as_object().unwrap().keys().collect();
    assert_eq!(keys.last().unwrap().as_str(), "managedFields");
}

#[test]
fn identical_apply_changes_nothing() {
    let first = stored(ok(apply(
        None,
        &deployment(2, "nginx:1.25"),
        "kubectl",
        false,
        0,
    )));
    let second = ok(apply(
        Some(&first),
        &deployment(2, "nginx:1.25"),
        "kubectl",
        false,
        60,
    ));
    assert_eq!(
        second, first,
        "no-op apply keeps the object and the entry's time"
    );
}

#[test]
fn another_applier_conflicts_and_force_takes_over() {
    let live = stored(ok(apply(
        None,
        &deployment(2, "nginx:1.25"),
        "kubectl",
        false,
        0,
    )));
    let mine = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"replicas": 5}
    });
    let err = conflict_error(apply(Some(&live), &mine, "hpa-tool", false, 10));
    assert_eq!((err.code, err.reason), (409, "Conflict"));
    assert_eq!(
        err.message,
        r#"Apply failed with 1 conflict: conflict with "kubectl": .spec.replicas"#
    );
    let status = err.to_json();
    assert_eq!(
        status["details"]["causes"],
        json!([{
            "reason": "FieldManagerConflict",
            "message": "conflict with \"kubectl\"",
            "field": ".spec.replicas"
        }])
    );

    // The same value is no conflict: both own it.
    let same = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web"}, "spec": {"replicas": 2}
    });
    let shared = ok(apply(Some(&live), &same, "hpa-tool", false, 10));
    assert!(owns(&shared, "kubectl", "Apply", &["f:spec", "f:replicas"]));
    assert!(owns(
        &shared,
        "hpa-tool",
        "Apply",
        &["f:spec", "f:replicas"]
    ));

    let forced = ok(apply(Some(&live), &mine, "hpa-tool", true, 10));
    assert_eq!(forced["spec"]["replicas"], 5);
    assert!(owns(
        &forced,
        "hpa-tool",
        "Apply",
        &["f:spec", "f:replicas"]
    ));
    assert!(!owns(
        &forced,
        "kubectl",
        "Apply",
        &["f:spec", "f:replicas"]
    ));
    assert!(owns(&forced, "kubectl", "Apply", &["f:spec", "f:selector"]));
    // Entries sort by operation, then time.
    let managers: Vec<&Value> = entries(&forced).iter().map(|e| &e["manager"]).collect();
    assert_eq!(managers, vec!["kubectl", "hpa-tool"]);
}

#[test]
fn conflicts_with_an_updater_name_its_version_and_list_every_field() {
    // Created by a client-side `kubectl apply` (an update), no annotation.
    let created = fm().update(
        deployments(),
        None,
        &deployment(2, "nginx:1.25"),
        "kubectl-client-side-apply",
        None,
        at(0),
    );
    let live = stored(created);
    let err = conflict_error(apply(
        Some(&live),
        &deployment(3, "nginx:1.25"),
        "mgr",
        false,
        5,
    ));
    assert_eq!(
        err.message,
        r#"Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas"#
    );
    let err = conflict_error(apply(
        Some(&live),
        &deployment(3, "nginx:1.26"),
        "mgr",
        false,
        5,
    ));
    assert_eq!(
        err.message,
        "Apply failed with 2 conflicts: conflicts with \"kubectl-client-side-apply\" using apps/v1:\n\
         - .spec.replicas\n\
         - .spec.template.spec.containers[name=\"nginx\"].image"
    );
    let causes = &err.to_json()["details"]["causes"];
    assert_eq!(causes.as_array().unwrap().len(), 2);
    assert_eq!(
        causes[1]["message"],
        "conflict with \"kubectl-client-side-apply\" using apps/v1"
    );
    assert_eq!(
        causes[1]["field"],
        ".spec.template.spec.containers[name=\"nginx\"].image"
    );
}

#[test]
fn several_managers_are_grouped_in_identifier_order() {
    let live = stored(ok(apply(
        None,
        &deployment(2, "nginx:1.25"),
        "b-applier",
        false,
        0,
    )));
    let image = json!({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
        "spec": {"template": {"spec": {"containers": [{"name": "nginx", "image": "nginx:1.25"}]}}}
    });
    let live = stored(ok(apply(Some(&live), &image, "a-applier", false, 1)));
    let err = conflict_error(apply(Some(&live), &deployment(4, "nginx:2"), "c", false, 2));
    assert_eq!(
        err.message,
        "Apply failed with 3 conflicts: conflicts with \"a-applier\":\n\
         - .spec.template.spec.containers[name=\"nginx\"].image\n\
         conflicts with \"b-applier\":\n\
         - .spec.replicas\n\
         - .spec.template.spec.containers[name=\"nginx\"].image"
    );
}

#[test]
fn removing_a_field_from_the_config_deletes_it_unless_owned() {
    let mut config = deployment(2, "nginx:1.25");
    config["metadata"]["labels"]["tier"] = json!("front");
    config["spec"]["minReadySeconds"] = json!(5);
    let live = stored(ok(apply(None, &config, "kubectl", false, 0)));

    // Another applier also sets the label.
    let labels = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "labels": {"tier": "front"}}
    });
    let live = stored(ok(apply(Some(&live), &labels, "labeler", false, 1)));

    let smaller = deployment(2, "nginx:1.25");
    let after = ok(apply(Some(&live), &smaller, "kubectl", false, 2));
    assert!(
        after["spec"].get("minReadySeconds").is_none(),
        "no one else owns it"
    );
    assert_eq!(
        after["metadata"]["labels"]["tier"], "front",
        "labeler owns it"
    );
    assert!(!owns(
        &after,
        "kubectl",
        "Apply",
        &["f:metadata", "f:labels", "f:tier"]
    ));
    assert!(owns(
        &after,
        "labeler",
        "Apply",
        &["f:metadata", "f:labels", "f:tier"]
    ));
    assert!(!owns(
        &after,
        "kubectl",
        "Apply",
        &["f:spec", "f:minReadySeconds"]
    ));
    assert_eq!(after["spec"]["replicas"], 2);
}

#[test]
fn fields_set_by_updaters_survive_an_appliers_removal() {
    let live = stored(ok(apply(
        None,
        &deployment(2, "nginx:1.25"),
        "kubectl",
        false,
        0,
    )));
    // kubectl-edit adds an annotation and bumps the image.
    let mut edited = live.clone();
    edited["metadata"]["annotations"] = json!({"note": "x"});
    let live = stored(fm().update(
        deployments(),
        Some(&live),
        &edited,
        "kubectl-edit",
        None,
        at(1),
    ));
    assert!(owns(
        &live,
        "kubectl-edit",
        "Update",
        &["f:metadata", "f:annotations", "f:note"]
    ));
    // The applier drops its labels: they go, the annotation stays.
    let mut config = deployment(2, "nginx:1.25");
    config["metadata"].as_object_mut().unwrap().remove("labels");
    let after = ok(apply(Some(&live), &config, "kubectl", false, 2));
    assert!(after["metadata"].get("labels").is_none());
    assert_eq!(after["metadata"]["annotations"]["note"], "x");
}

#[test]
fn containers_merge_by_name_across_appliers() {
    let live = stored(ok(apply(
        None,
        &deployment(2, "nginx:1.25"),
        "kubectl",
        false,
        0,
    )));
    let sidecar = json!({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
        "spec": {"template": {"spec": {"containers": [
            {"name": "proxy", "image": "envoy:1", "args": ["--v=2"]}
        ]}}}
    });
    let live = stored(ok(apply(Some(&live), &sidecar, "mesh", false, 1)));
    let containers = live["spec"]["template"]["spec"]["containers"]
        .as_array()
        .unwrap();
    let names: Vec<&Value> = containers.iter().map(|c| &c["name"]).collect();
    assert_eq!(names, vec!["nginx", "proxy"]);
    assert_eq!(containers[0]["image"], "nginx:1.25");
    assert_eq!(containers[1]["args"], json!(["--v=2"]));
    let proxy = r#"k:{"name":"proxy"}"#;
    let c = ["f:spec", "f:template", "f:spec", "f:containers"];
    assert!(owns(
        &live,
        "mesh",
        "Apply",
        &[&c[..], &[proxy, "f:args"]].concat()
    ));
    assert!(!owns(
        &live,
        "kubectl",
        "Apply",
        &[&c[..], &[proxy]].concat()
    ));

    // kubectl re-applies (new image): the sidecar stays where it is.
    let live = stored(ok(apply(
        Some(&live),
        &deployment(2, "nginx:1.26"),
        "kubectl",
        false,
        2,
    )));
    let containers = live["spec"]["template"]["spec"]["containers"]
        .as_array()
        .unwrap();
    assert_eq!(containers.len(), 2);
    assert_eq!(containers[0]["image"], "nginx:1.26");
    // mesh stops applying its container: it is removed, nginx stays.
    let nothing = json!({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}
    });
    let after = ok(apply(Some(&live), &nothing, "mesh", false, 3));
    let containers = after["spec"]["template"]["spec"]["containers"]
        .as_array()
        .unwrap();
    assert_eq!(containers.len(), 1);
    assert_eq!(containers[0]["name"], "nginx");
    assert!(
        entry(&after, "mesh", "Apply").is_none(),
        "empty entries are dropped"
    );
}

#[test]
fn atomic_lists_and_structs_are_replaced_whole() {
    let mut config = deployment(2, "nginx:1.25");
    config["spec"]["template"]["spec"]["containers"][0]["args"] = json!(["a", "b"]);
    config["spec"]["selector"]["matchLabels"]["tier"] = json!("x");
    let live = stored(ok(apply(None, &config, "kubectl", false, 0)));
    let mut next = deployment(2, "nginx:1.25");
    next["spec"]["template"]["spec"]["containers"][0]["args"] = json!(["c"]);
    let after = ok(apply(Some(&live), &next, "kubectl", false, 1));
    let c = &after["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(c["args"], json!(["c"]));
    // The selector is an atomic struct: the new one replaces the old, tier goes.
    assert_eq!(
        after["spec"]["selector"],
        json!({"matchLabels": {"app": "web"}})
    );
    assert!(owns(&after, "kubectl", "Apply", &["f:spec", "f:selector"]));
}

#[test]
fn metadata_maps_sets_and_owner_references_are_granular() {
    let mut a = deployment(1, "x");
    a["metadata"]["finalizers"] = json!(["a.example/one"]);
    a["metadata"]["ownerReferences"] = json!([{
        "apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": "u-1"
    }]);
    let live = stored(ok(apply(None, &a, "one", false, 0)));
    let b = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "finalizers": ["b.example/two"],
            "annotations": {"b": "2"}}
    });
    let after = ok(apply(Some(&live), &b, "two", false, 1));
    assert_eq!(
        after["metadata"]["finalizers"],
        json!(["a.example/one", "b.example/two"])
    );
    assert_eq!(after["metadata"]["ownerReferences"][0]["uid"], "u-1");
    assert!(owns(
        &after,
        "two",
        "Apply",
        &["f:metadata", "f:finalizers", r#"v:"b.example/two""#]
    ));
    assert!(owns(
        &after,
        "one",
        "Apply",
        &["f:metadata", "f:ownerReferences", r#"k:{"uid":"u-1"}"#]
    ));
    // uid, resourceVersion, creationTimestamp, name are nobody's.
    for e in entries(&after) {
        let meta = &e["fieldsV1"]["f:metadata"];
        for never in [
            "f:name",
            "f:uid",
            "f:resourceVersion",
            "f:creationTimestamp",
            "f:namespace",
        ] {
            assert!(meta.get(never).is_none(), "{never} in {e}");
        }
    }
}

#[test]
fn status_is_not_applied_through_the_main_resource() {
    let mut config = deployment(2, "nginx:1.25");
    config["status"] = json!({"replicas": 7});
    let created = ok(apply(None, &config, "kubectl", false, 0));
    assert!(created.get("status").is_none());
    assert!(entries(&created)[0]["fieldsV1"].get("f:status").is_none());
}

#[test]
fn nulls_clear_fields_but_not_system_metadata() {
    let mut config = deployment(2, "nginx:1.25");
    config["spec"]["minReadySeconds"] = json!(5);
    let live = stored(ok(apply(None, &config, "kubectl", false, 0)));
    let mut next = deployment(2, "nginx:1.25");
    next["metadata"]["creationTimestamp"] = Value::Null;
    next["spec"]["minReadySeconds"] = Value::Null;
    let after = ok(apply(Some(&live), &next, "kubectl", false, 1));
    assert_eq!(
        after["metadata"]["creationTimestamp"],
        live["metadata"]["creationTimestamp"]
    );
    assert_eq!(after["metadata"]["uid"], live["metadata"]["uid"]);
    assert!(after["spec"].get("minReadySeconds").is_none());
    // Owned, though absent: another applier setting it conflicts.
    assert!(owns(
        &after,
        "kubectl",
        "Apply",
        &["f:spec", "f:minReadySeconds"]
    ));
}

#[test]
fn hostile_nesting_is_rejected_without_overflowing() {
    let crds = resource("apiextensions.k8s.io", "customresourcedefinitions");
    let mut schema = json!({"type": "object"});
    for _ in 0..400 {
        schema = json!({"type": "object", "properties": {"x": schema}});
    }
    let config = json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "things.example.com"},
        "spec": {"group": "example.com", "names": {"plural": "things", "kind": "Thing"},
            "scope": "Namespaced",
            "versions": [{"name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": schema}}]}
    });
    let err = fm().apply(crds, None, &config, "kubectl", false, at(0));
    assert!(
        matches!(&err, Err(ApplyError::BadRequest(m)) if m.contains("nested too deeply")),
        "{err:?}"
    );
    // A live object as deep is handled (kept whole below the limit) by updates.
    let mut live = config.clone();
    live["metadata"]["uid"] = json!("u");
    let updated = fm().update(crds, None, &live, "kubectl-create", None, at(0));
    assert!(updated["metadata"]["managedFields"].is_array());
}

#[test]
fn a_config_without_metadata_keeps_the_live_identity() {
    let live = stored(ok(apply(
        None,
        &deployment(2, "nginx:1.25"),
        "kubectl",
        false,
        0,
    )));
    let bare = json!({"apiVersion": "apps/v1", "kind": "Deployment", "spec": {"replicas": 2}});
    let after = ok(apply(Some(&live), &bare, "kubectl", false, 1));
    assert_eq!(after["metadata"]["name"], "web");
    assert_eq!(after["metadata"]["uid"], live["metadata"]["uid"]);
    assert!(
        after["metadata"].get("labels").is_none(),
        "labels were pruned"
    );
    assert_eq!(after["spec"]["replicas"], 2);
    assert!(
        after["spec"].get("template").is_none(),
        "template was pruned"
    );
}
