//! ObjectMeta validation: names, generateName, labels, annotations, finalizers,
//! ownerReferences and the immutable fields of an update.

use super::*;
use api_types::names::is_dns1035_label;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelectorRequirement;
use serde_json::json;

fn meta(v: serde_json::Value) -> ObjectMeta {
    serde_json::from_value(v).unwrap()
}

fn strings(errs: &[FieldError]) -> Vec<String> {
    errs.iter().map(|e| e.to_string()).collect()
}

#[test]
fn valid_meta_passes() {
    let m = meta(json!({
        "name": "web-1.example", "namespace": "default",
        "labels": {"app.kubernetes.io/name": "web", "tier": ""},
        "annotations": {"Example.com/Note": "anything at all"},
        "finalizers": ["example.com/cleanup", "kubernetes"],
        "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs", "uid": "u", "controller": true}]
    }));
    assert!(validate_object_meta(&m, true, is_dns1123_subdomain, "metadata").is_empty());
}

#[test]
fn name_rules() {
    let m = meta(json!({"namespace": "default"}));
    assert_eq!(
        strings(&validate_object_meta(
            &m,
            true,
            is_dns1123_subdomain,
            "metadata"
        )),
        vec!["metadata.name: Required value: name or generateName is required"]
    );
    let m = meta(json!({"name": "Web", "namespace": "Bad_NS"}));
    let errs = strings(&validate_object_meta(
        &m,
        true,
        is_dns1123_subdomain,
        "metadata",
    ));
    assert_eq!(errs.len(), 2);
    assert!(errs[0]
        .starts_with("metadata.name: Invalid value: \"Web\": a lowercase RFC 1123 subdomain"));
    assert!(errs[1]
        .starts_with("metadata.namespace: Invalid value: \"Bad_NS\": a lowercase RFC 1123 label"));
    // Services: DNS-1035 labels (must start with a letter).
    let m = meta(json!({"name": "1svc", "namespace": "default"}));
    let errs = strings(&validate_object_meta(
        &m,
        true,
        is_dns1035_label,
        "metadata",
    ));
    assert!(errs[0].starts_with("metadata.name: Invalid value: \"1svc\": a DNS-1035 label"));
    // Cluster-scoped kinds may not carry a namespace.
    let m = meta(json!({"name": "n", "namespace": "x"}));
    assert_eq!(
        strings(&validate_object_meta(
            &m,
            false,
            is_dns1123_label,
            "metadata"
        )),
        vec!["metadata.namespace: Forbidden: not allowed on this type"]
    );
}

#[test]
fn generate_name_may_end_with_a_dash() {
    let m = meta(json!({"generateName": "web-", "name": "web-x7k2p", "namespace": "d"}));
    assert!(validate_object_meta(&m, true, is_dns1123_subdomain, "metadata").is_empty());
    let m = meta(json!({"generateName": "Web_", "name": "web-x7k2p", "namespace": "d"}));
    let errs = strings(&validate_object_meta(
        &m,
        true,
        is_dns1123_subdomain,
        "metadata",
    ));
    assert!(errs[0].starts_with(
        "metadata.generateName: Invalid value: \"Web_\": a lowercase RFC 1123 subdomain"
    ));
    assert_eq!(mask_trailing_dash("-"), "a");
    assert_eq!(mask_trailing_dash(""), "");
}

#[test]
fn labels_annotations_finalizers() {
    let m = meta(json!({
        "name": "n", "namespace": "d",
        "labels": {"-bad": "ok", "good": "-bad-value"},
        "annotations": {"a/b/c": "x", "big": "x".repeat(TOTAL_ANNOTATION_SIZE_LIMIT)},
        "finalizers": ["orphan", "foregroundDeletion", "plain", "a/b/c"],
        "generation": -1
    }));
    let errs = strings(&validate_object_meta(
        &m,
        true,
        is_dns1123_subdomain,
        "metadata",
    ));
    assert_eq!(
        errs[0],
        "metadata.generation: Invalid value: -1: must be greater than or equal to 0"
    );
    assert!(errs[1].starts_with("metadata.labels: Invalid value: \"-bad\": name part must consist of alphanumeric characters"));
    assert!(errs[2].starts_with(
        "metadata.labels: Invalid value: \"-bad-value\": a valid label must be an empty string"
    ));
    assert!(errs[3].starts_with(
        "metadata.annotations: Invalid value: \"a/b/c\": a qualified name must consist of"
    ));
    assert_eq!(
        errs[4],
        "metadata.annotations: Too long: may not be more than 262144 bytes"
    );
    assert!(errs[5].starts_with("metadata.finalizers: Invalid value: \"a/b/c\": a qualified name"));
    assert_eq!(
        errs[6],
        "metadata.finalizers: Invalid value: []string{\"orphan\", \"foregroundDeletion\", \"plain\", \"a/b/c\"}: finalizer orphan and foregroundDeletion cannot be both set"
    );
    assert_eq!(errs[7], "metadata.finalizers: Invalid value: \"plain\": name is neither a standard finalizer name nor is it fully qualified");
    assert_eq!(errs.len(), 8);
    // Custom resources use the apimachinery rules: no standard-finalizer check.
    let m = meta(json!({"name": "n", "finalizers": ["plain"]}));
    assert!(validate_object_meta_generic(&m, false, is_dns1123_subdomain, "metadata").is_empty());
}

#[test]
fn owner_references() {
    let m = meta(json!({"name": "n", "namespace": "d", "ownerReferences": [
        {"apiVersion": "", "kind": "", "name": "", "uid": ""},
        {"apiVersion": "v1", "kind": "Event", "name": "e", "uid": "1"},
        {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "a", "uid": "2", "controller": true},
        {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "b", "uid": "3", "controller": true}
    ]}));
    let errs = strings(&validate_object_meta(
        &m,
        true,
        is_dns1123_subdomain,
        "metadata",
    ));
    assert_eq!(
        errs[0],
        "metadata.ownerReferences.apiVersion: Invalid value: \"\": version must not be empty"
    );
    assert_eq!(
        errs[1],
        "metadata.ownerReferences.kind: Invalid value: \"\": must not be empty"
    );
    assert_eq!(
        errs[2],
        "metadata.ownerReferences.name: Invalid value: \"\": must not be empty"
    );
    assert_eq!(
        errs[3],
        "metadata.ownerReferences.uid: Invalid value: \"\": must not be empty"
    );
    assert!(errs[4].ends_with("/v1, Kind=Event is disallowed from being an owner"));
    assert!(errs[5].ends_with(
        "Only one reference can have Controller set to true. Found \"true\" in references for ReplicaSet/a and ReplicaSet/b"
    ));
    assert_eq!(errs.len(), 6);
}

#[test]
fn update_keeps_identity() {
    let old = meta(
        json!({"name": "n", "namespace": "d", "uid": "u1", "generation": 3, "creationTimestamp": "2024-01-02T03:04:05Z", "resourceVersion": "9"}),
    );
    let new = meta(
        json!({"name": "m", "namespace": "e", "uid": "u2", "generation": 2, "creationTimestamp": "2025-01-02T03:04:05Z", "resourceVersion": "9"}),
    );
    assert_eq!(
        strings(&validate_object_meta_update(&new, &old, "metadata")),
        vec![
            "metadata.generation: Invalid value: 2: must not be decremented",
            "metadata.name: Invalid value: \"m\": field is immutable",
            "metadata.namespace: Invalid value: \"e\": field is immutable",
            "metadata.uid: Invalid value: \"u2\": field is immutable",
            "metadata.creationTimestamp: Invalid value: 2025-01-02 03:04:05 +0000 UTC: field is immutable",
        ]
    );
    // Omitted uid / creationTimestamp mean "unchanged".
    let same =
        meta(json!({"name": "n", "namespace": "d", "generation": 3, "resourceVersion": "9"}));
    assert!(validate_object_meta_update(&same, &old, "metadata").is_empty());
    // No new finalizers once deletion started.
    let deleting = meta(
        json!({"name": "n", "deletionTimestamp": "2024-01-02T03:04:05Z", "finalizers": ["a.io/x"]}),
    );
    let more = meta(
        json!({"name": "n", "deletionTimestamp": "2024-01-02T03:04:05Z", "finalizers": ["a.io/x", "b.io/y"]}),
    );
    assert_eq!(
        strings(&validate_object_meta_update(&more, &deleting, "metadata")),
        vec!["metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{\"b.io/y\"}"]
    );
}

#[test]
fn label_selectors() {
    let sel = LabelSelector {
        match_labels: Some([("a".to_string(), "-x".to_string())].into()),
        match_expressions: Some(vec![
            LabelSelectorRequirement {
                key: "k".into(),
                operator: "In".into(),
                values: None,
            },
            LabelSelectorRequirement {
                key: "k".into(),
                operator: "Exists".into(),
                values: Some(vec!["v".into()]),
            },
            LabelSelectorRequirement {
                key: "-k".into(),
                operator: "Near".into(),
                values: None,
            },
        ]),
    };
    let errs = strings(&validate_label_selector(&sel, "spec.selector"));
    assert!(errs[0].starts_with("spec.selector.matchLabels: Invalid value: \"-x\""));
    assert_eq!(errs[1], "spec.selector.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'");
    assert_eq!(
        errs[2],
        "spec.selector.matchExpressions[1].values: Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'"
    );
    assert_eq!(errs[3], "spec.selector.matchExpressions[2].operator: Invalid value: \"Near\": not a valid selector operator");
    assert!(errs[4].starts_with("spec.selector.matchExpressions[2].key: Invalid value: \"-k\""));
    assert_eq!(
        go_label_selector(Some(&LabelSelector { match_labels: Some([("app".into(), "y".into())].into()), match_expressions: None })),
        "v1.LabelSelector{MatchLabels:map[string]string{\"app\":\"y\"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}"
    );
}

#[test]
fn go_rendering() {
    assert_eq!(go_quote("a\"b\\c\n\u{1}é"), "\"a\\\"b\\\\c\\n\\x01é\"");
    assert_eq!(go_string_map(None), "map[string]string(nil)");
    assert_eq!(
        go_string_map(Some(
            &[
                ("b".to_string(), "2".to_string()),
                ("a".to_string(), "1".to_string())
            ]
            .into()
        )),
        "map[string]string{\"a\":\"1\", \"b\":\"2\"}"
    );
    assert_eq!(
        invalid_go("spec.x", "map[string]string{}", "bad").to_string(),
        "spec.x: Invalid value: map[string]string{}: bad"
    );
}

#[test]
fn metadata_only_strategy() {
    let obj: DynamicObject =
        serde_json::from_value(json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "Bad", "namespace": "d"}})).unwrap();
    let s = MetadataOnlyStrategy::new(true);
    assert_eq!(s.validate(&obj).len(), 1);
    let mut renamed = obj.clone();
    renamed.metadata.name = Some("other".into());
    let errs = strings(&s.validate_update(&renamed, &obj));
    assert_eq!(
        errs,
        vec!["metadata.name: Invalid value: \"other\": field is immutable"]
    );
    assert!(MetadataOnlyStrategy::new(false)
        .validate(&obj)
        .iter()
        .any(|e| e.field == "metadata.namespace"));
}

#[test]
fn rbac_names_are_path_segments() {
    use super::is_path_segment_name;
    assert!(is_path_segment_name("system:coredns").is_empty());
    assert_eq!(
        is_path_segment_name(".."),
        vec!["may not be '..'".to_string()]
    );
    assert_eq!(
        is_path_segment_name("a/b"),
        vec!["may not contain '/'".to_string()]
    );
    let r = api_types::resources::find("rbac.authorization.k8s.io", "v1", "clusterroles");
    assert!(r.is_some());
    if let Some(r) = r {
        let obj: api_types::DynamicObject = serde_json::from_value(serde_json::json!({
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": {"name": "system:coredns"}
        }))
        .unwrap();
        assert!(crate::registry::strategy_for(r).validate(&obj).is_empty());
    }
}
