//! Strategic merge patch scenarios, mostly what kubectl sends.

use serde_json::{json, Value};

use super::*;

fn deployment() -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "labels": {"app": "web", "tier": "front"}, "finalizers": ["a", "b"]},
        "spec": {
            "replicas": 2,
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "containers": [
                        {"name": "app", "image": "app:1", "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]},
                        {"name": "sidecar", "image": "proxy:1", "ports": [{"containerPort": 80}, {"containerPort": 443}]}
                    ],
                    "tolerations": [{"key": "k1", "operator": "Exists"}]
                }
            }
        }
    })
}

fn smp(doc: &Value, patch: Value, group: &str, kind: &str) -> Value {
    match apply_strategic_merge_patch(doc, &patch, &BuiltinPatchMeta::for_kind(group, kind)) {
        Ok(v) => v,
        Err(e) => panic!("patch {patch} failed: {e}"),
    }
}

fn smp_err(doc: &Value, patch: Value, group: &str, kind: &str) -> PatchError {
    match apply_strategic_merge_patch(doc, &patch, &BuiltinPatchMeta::for_kind(group, kind)) {
        Ok(v) => panic!("patch {patch} applied: {v}"),
        Err(e) => e,
    }
}

fn dep(patch: Value) -> Value {
    smp(&deployment(), patch, "apps", "Deployment")
}

fn containers(v: &Value) -> &Value {
    &v["spec"]["template"]["spec"]["containers"]
}

fn names(list: &Value) -> Vec<&str> {
    list.as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["name"].as_str())
        .collect()
}

#[test]
fn smp_changes_one_container_image() {
    let out = dep(
        json!({"spec": {"template": {"spec": {"containers": [{"name": "sidecar", "image": "proxy:2"}]}}}}),
    );
    let c = containers(&out);
    assert_eq!(names(c), ["app", "sidecar"]);
    assert_eq!(
        c[0],
        deployment()["spec"]["template"]["spec"]["containers"][0]
    );
    assert_eq!(c[1]["image"], "proxy:2");
    assert_eq!(
        c[1]["ports"],
        json!([{"containerPort": 80}, {"containerPort": 443}])
    );
    // Everything else untouched, key order kept.
    let mut expect = deployment();
    expect["spec"]["template"]["spec"]["containers"][1]["image"] = json!("proxy:2");
    assert_eq!(out, expect);
    let keys: Vec<_> = out.as_object().unwrap().keys().cloned().collect();
    assert_eq!(keys, ["apiVersion", "kind", "metadata", "spec"]);
}

#[test]
fn smp_adds_env_var_and_new_items_go_first() {
    let out = dep(json!({"spec": {"template": {"spec": {"containers": [
        {"name": "app", "env": [{"name": "C", "value": "3"}]}
    ]}}}}));
    // Upstream puts patch items not in the object before the object's own.
    assert_eq!(names(&containers(&out)[0]["env"]), ["C", "A", "B"]);
    let out = dep(
        json!({"spec": {"template": {"spec": {"containers": [{"name": "new", "image": "x"}]}}}}),
    );
    assert_eq!(names(containers(&out)), ["new", "app", "sidecar"]);
}

#[test]
fn smp_changes_env_value_in_place() {
    let out = dep(json!({"spec": {"template": {"spec": {"containers": [
        {"name": "app", "env": [{"name": "B", "value": "20"}]}
    ]}}}}));
    assert_eq!(
        containers(&out)[0]["env"],
        json!([{"name": "A", "value": "1"}, {"name": "B", "value": "20"}])
    );
}

#[test]
fn smp_deletes_env_var_with_patch_delete() {
    let out = dep(json!({"spec": {"template": {"spec": {"containers": [
        {"name": "app", "env": [{"name": "A", "$patch": "delete"}]}
    ]}}}}));
    assert_eq!(
        containers(&out)[0]["env"],
        json!([{"name": "B", "value": "2"}])
    );
    // Deleting a whole container, and one that does not exist (a no-op).
    let out = dep(json!({"spec": {"template": {"spec": {"containers": [
        {"name": "app", "$patch": "delete"}, {"name": "ghost", "$patch": "delete"}
    ]}}}}));
    assert_eq!(names(containers(&out)), ["sidecar"]);
}

#[test]
fn smp_set_element_order() {
    // What `kubectl apply` sends when adding container "new" between the two.
    let out = dep(json!({"spec": {"template": {"spec": {
        "$setElementOrder/containers": [{"name": "app"}, {"name": "new"}, {"name": "sidecar"}],
        "containers": [{"name": "new", "image": "new:1"}]
    }}}}));
    assert_eq!(names(containers(&out)), ["app", "new", "sidecar"]);
    assert_eq!(
        containers(&out)[1],
        json!({"name": "new", "image": "new:1"})
    );
    // Pure reordering.
    let out = dep(json!({"spec": {"template": {"spec": {
        "$setElementOrder/containers": [{"name": "sidecar"}, {"name": "app"}]
    }}}}));
    assert_eq!(names(containers(&out)), ["sidecar", "app"]);
    assert!(out["spec"]["template"]["spec"]
        .get("$setElementOrder/containers")
        .is_none());
    // Nested, with an env var added at the end and one removed.
    let out = dep(json!({"spec": {"template": {"spec": {
        "$setElementOrder/containers": [{"name": "app"}, {"name": "sidecar"}],
        "containers": [{"name": "app",
            "$setElementOrder/env": [{"name": "B"}, {"name": "C"}],
            "env": [{"name": "C", "value": "3"}, {"name": "A", "$patch": "delete"}]}]
    }}}}));
    assert_eq!(
        containers(&out)[0]["env"],
        json!([{"name": "B", "value": "2"}, {"name": "C", "value": "3"}])
    );
    // Primitive list order.
    let out = dep(
        json!({"metadata": {"$setElementOrder/finalizers": ["c", "b", "a"], "finalizers": ["c"]}}),
    );
    assert_eq!(out["metadata"]["finalizers"], json!(["c", "b", "a"]));
}

#[test]
fn smp_retain_keys_on_strategy() {
    let out = dep(json!({"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}}));
    assert_eq!(out["spec"]["strategy"], json!({"type": "Recreate"}));
    let out = dep(
        json!({"spec": {"strategy": {"$retainKeys": ["type", "rollingUpdate"], "rollingUpdate": {"maxSurge": 2}}}}),
    );
    assert_eq!(
        out["spec"]["strategy"],
        json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 2, "maxUnavailable": 0}})
    );
    let e = smp_err(
        &deployment(),
        json!({"spec": {"strategy": {"$retainKeys": ["type"], "rollingUpdate": {}}}}),
        "apps",
        "Deployment",
    );
    assert_eq!(
        e,
        PatchError::BadRequest("invalid patch format of retainKeys".into())
    );
    let e = smp_err(
        &deployment(),
        json!({"spec": {"strategy": {"$retainKeys": "type"}}}),
        "apps",
        "Deployment",
    );
    assert_eq!(e.code(), 400);
}

#[test]
fn smp_null_deletes_a_label() {
    let out = dep(json!({"metadata": {"labels": {"tier": null, "new": "x", "absent": null}}}));
    assert_eq!(out["metadata"]["labels"], json!({"app": "web", "new": "x"}));
    let out = dep(json!({"spec": {"strategy": null}}));
    assert!(out["spec"].get("strategy").is_none());
}

#[test]
fn smp_finalizers_merge_as_a_set() {
    let out = dep(json!({"metadata": {"finalizers": ["b", "c"]}}));
    assert_eq!(out["metadata"]["finalizers"], json!(["a", "b", "c"]));
    let out = dep(json!({"metadata": {"finalizers": ["c"]}}));
    assert_eq!(out["metadata"]["finalizers"], json!(["c", "a", "b"]));
    let out = dep(json!({"metadata": {"$deleteFromPrimitiveList/finalizers": ["a", "zz"]}}));
    assert_eq!(out["metadata"]["finalizers"], json!(["b"]));
    // Template metadata is an ObjectMeta too; unknown kinds still merge root finalizers.
    let out = dep(json!({"spec": {"template": {"metadata": {"finalizers": ["x"]}}}}));
    assert_eq!(
        out["spec"]["template"]["metadata"]["finalizers"],
        json!(["x"])
    );
    let cm = json!({"metadata": {"finalizers": ["a"]}, "data": {"k": "v"}});
    let out = smp(
        &cm,
        json!({"metadata": {"finalizers": ["b"]}}),
        "",
        "ConfigMap",
    );
    assert_eq!(out["metadata"]["finalizers"], json!(["b", "a"]));
    let e = smp_err(
        &cm,
        json!({"$deleteFromPrimitiveList/x/y": 1, "$deleteFromPrimitiveListX/y": []}),
        "",
        "ConfigMap",
    );
    assert_eq!(e.to_string(), "invalid patch format of primitive list");
}

#[test]
fn smp_replace_directives() {
    // A whole list replaced.
    let out = dep(
        json!({"spec": {"template": {"spec": {"containers": [{"$patch": "replace"}, {"name": "only", "image": "x"}]}}}}),
    );
    assert_eq!(containers(&out), &json!([{"name": "only", "image": "x"}]));
    // A map replaced, and a map deleted.
    let out = dep(json!({"metadata": {"labels": {"$patch": "replace", "fresh": "1"}}}));
    assert_eq!(out["metadata"]["labels"], json!({"fresh": "1"}));
    let out = dep(json!({"metadata": {"labels": {"$patch": "delete"}}}));
    assert_eq!(out["metadata"]["labels"], json!({}));
    // `$patch: merge` is the default.
    let out = dep(json!({"metadata": {"labels": {"$patch": "merge", "x": "1"}}}));
    assert_eq!(
        out["metadata"]["labels"],
        json!({"app": "web", "tier": "front", "x": "1"})
    );
    let e = smp_err(
        &deployment(),
        json!({"metadata": {"labels": {"$patch": "nope"}}}),
        "apps",
        "Deployment",
    );
    assert!(
        e.to_string()
            .starts_with("unknown patch type: nope in map:"),
        "{e}"
    );
}

#[test]
fn smp_lists_without_merge_strategy_are_replaced() {
    let out = dep(
        json!({"spec": {"template": {"spec": {"tolerations": [{"key": "k2", "operator": "Exists", "effect": null}]}}}}),
    );
    assert_eq!(
        out["spec"]["template"]["spec"]["tolerations"],
        json!([{"key": "k2", "operator": "Exists"}])
    );
    let ep = json!({"subsets": [{"addresses": [{"ip": "10.0.0.1"}]}]});
    let out = smp(
        &ep,
        json!({"subsets": [{"addresses": [{"ip": "10.0.0.2"}]}]}),
        "",
        "Endpoints",
    );
    assert_eq!(
        out,
        json!({"subsets": [{"addresses": [{"ip": "10.0.0.2"}]}]})
    );
}

#[test]
fn smp_other_builtin_merge_keys() {
    let svc =
        json!({"spec": {"ports": [{"port": 80, "name": "http"}, {"port": 443, "name": "https"}]}});
    let out = smp(
        &svc,
        json!({"spec": {"ports": [{"port": 443, "targetPort": 8443}]}}),
        "",
        "Service",
    );
    assert_eq!(
        out["spec"]["ports"][1],
        json!({"port": 443, "name": "https", "targetPort": 8443})
    );
    // Upstream compares numbers as float64.
    let out = smp(
        &svc,
        json!({"spec": {"ports": [{"port": 80.0, "name": "web"}]}}),
        "",
        "Service",
    );
    assert_eq!(out["spec"]["ports"][0]["name"], "web");

    let owned = json!({"metadata": {"ownerReferences": [{"uid": "u1", "name": "a"}]}});
    let out = smp(
        &owned,
        json!({"metadata": {"ownerReferences": [{"uid": "u1", "controller": true}]}}),
        "",
        "Pod",
    );
    assert_eq!(
        out["metadata"]["ownerReferences"],
        json!([{"uid": "u1", "name": "a", "controller": true}])
    );

    let cj = json!({"spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [
        {"name": "a", "image": "1"}, {"name": "b", "image": "1"}]}}}}}});
    let out = smp(
        &cj,
        json!({"spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [
        {"name": "b", "image": "2"}]}}}}}}),
        "batch",
        "CronJob",
    );
    assert_eq!(
        out["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][1],
        json!({"name": "b", "image": "2"})
    );

    let node = json!({"spec": {"podCIDRs": ["10.0.0.0/24"]}, "status": {"conditions": [{"type": "Ready", "status": "False"}, {"type": "DiskPressure", "status": "False"}]}});
    let out = smp(
        &node,
        json!({"spec": {"podCIDRs": ["fd00::/64"]}, "status": {"conditions": [{"type": "Ready", "status": "True"}]}}),
        "",
        "Node",
    );
    assert_eq!(out["spec"]["podCIDRs"], json!(["fd00::/64", "10.0.0.0/24"]));
    assert_eq!(
        out["status"]["conditions"],
        json!([{"type": "Ready", "status": "True"}, {"type": "DiskPressure", "status": "False"}])
    );

    let pdb = json!({"spec": {"selector": {"matchLabels": {"a": "1"}}}});
    let out = smp(
        &pdb,
        json!({"spec": {"selector": {"matchExpressions": []}}}),
        "policy",
        "PodDisruptionBudget",
    );
    assert_eq!(out["spec"]["selector"], json!({"matchExpressions": []}));
}

#[test]
fn builtin_meta_paths() {
    use ListStrategy::*;
    let pod = BuiltinPatchMeta::for_kind("", "Pod");
    assert_eq!(
        pod.list_strategy(&["spec", "containers"]),
        MergeByKey("name")
    );
    assert_eq!(
        pod.list_strategy(&["spec", "initContainers", "volumeMounts"]),
        MergeByKey("mountPath")
    );
    assert_eq!(
        pod.list_strategy(&["spec", "ephemeralContainers", "env"]),
        MergeByKey("name")
    );
    assert_eq!(
        pod.list_strategy(&["spec", "containers", "ports"]),
        MergeByKey("containerPort")
    );
    assert_eq!(
        pod.list_strategy(&["spec", "containers", "volumeDevices"]),
        MergeByKey("devicePath")
    );
    assert_eq!(pod.list_strategy(&["spec", "containers", "args"]), Replace);
    assert_eq!(pod.list_strategy(&["spec", "volumes"]), MergeByKey("name"));
    assert_eq!(
        pod.list_strategy(&["spec", "imagePullSecrets"]),
        MergeByKey("name")
    );
    assert_eq!(
        pod.list_strategy(&["spec", "hostAliases"]),
        MergeByKey("ip")
    );
    assert_eq!(
        pod.list_strategy(&["spec", "topologySpreadConstraints"]),
        MergeByKey("topologyKey")
    );
    assert_eq!(pod.list_strategy(&["spec", "tolerations"]), Replace);
    assert_eq!(
        pod.list_strategy(&["status", "conditions"]),
        MergeByKey("type")
    );
    assert_eq!(pod.list_strategy(&["status", "podIPs"]), MergeByKey("ip"));
    assert_eq!(
        pod.list_strategy(&["status", "containerStatuses", "volumeMounts"]),
        MergeByKey("mountPath")
    );
    assert_eq!(
        pod.list_strategy(&["metadata", "finalizers"]),
        MergePrimitives
    );
    assert_eq!(
        pod.list_strategy(&["metadata", "ownerReferences"]),
        MergeByKey("uid")
    );
    assert_eq!(pod.list_strategy(&["metadata", "managedFields"]), Replace);
    for (g, k) in [
        ("apps", "Deployment"),
        ("apps", "ReplicaSet"),
        ("apps", "StatefulSet"),
        ("apps", "DaemonSet"),
        ("batch", "Job"),
        ("", "ReplicationController"),
    ] {
        let m = BuiltinPatchMeta::for_kind(g, k);
        assert_eq!(
            m.list_strategy(&["spec", "template", "spec", "containers"]),
            MergeByKey("name"),
            "{k}"
        );
        assert_eq!(
            m.list_strategy(&["spec", "template", "spec", "containers", "env"]),
            MergeByKey("name"),
            "{k}"
        );
        assert_eq!(
            m.list_strategy(&["status", "conditions"]),
            MergeByKey("type"),
            "{k}"
        );
        assert_eq!(m.list_strategy(&["spec", "containers"]), Replace, "{k}");
    }
    let pt = BuiltinPatchMeta::for_kind("", "PodTemplate");
    assert_eq!(
        pt.list_strategy(&["template", "spec", "containers"]),
        MergeByKey("name")
    );
    let cj = BuiltinPatchMeta::for_kind("batch", "CronJob");
    assert_eq!(
        cj.list_strategy(&["spec", "jobTemplate", "spec", "template", "spec", "volumes"]),
        MergeByKey("name")
    );
    let node = BuiltinPatchMeta::for_kind("", "Node");
    assert_eq!(node.list_strategy(&["spec", "podCIDRs"]), MergePrimitives);
    assert_eq!(
        node.list_strategy(&["status", "addresses"]),
        MergeByKey("type")
    );
    assert_eq!(node.list_strategy(&["spec", "taints"]), Replace);
    assert_eq!(
        BuiltinPatchMeta::for_kind("", "Service").list_strategy(&["spec", "ports"]),
        MergeByKey("port")
    );
    assert_eq!(
        BuiltinPatchMeta::for_kind("", "ServiceAccount").list_strategy(&["secrets"]),
        MergeByKey("name")
    );
    assert_eq!(
        BuiltinPatchMeta::for_kind("", "Endpoints").list_strategy(&["subsets"]),
        Replace
    );
    assert!(!BuiltinPatchMeta::for_kind("example.com", "Widget").has_kind_table());
    assert!(BuiltinPatchMeta::for_kind("policy", "PodDisruptionBudget")
        .replaces_map(&["spec", "selector"]));
}

#[test]
fn smp_errors() {
    let d = deployment();
    let e = smp_err(
        &d,
        json!({"spec": {"template": {"spec": {"containers": [{"image": "x"}]}}}}),
        "apps",
        "Deployment",
    );
    assert!(
        e.to_string()
            .contains("does not contain declared merge key: name"),
        "{e}"
    );
    assert_eq!(e.code(), 422);
    let e = smp_err(
        &d,
        json!({"spec": {"template": {"spec": {"containers": [{"$patch": "delete"}]}}}}),
        "apps",
        "Deployment",
    );
    assert!(
        e.to_string()
            .contains("does not contain declared merge key: name"),
        "{e}"
    );
    let e = smp_err(
        &d,
        json!({"spec": {"template": {"spec": {
        "$setElementOrder/containers": [{"name": "app"}],
        "containers": [{"name": "sidecar", "image": "y"}]}}}}),
        "apps",
        "Deployment",
    );
    assert!(
        e.to_string()
            .contains("doesn't match $setElementOrder list"),
        "{e}"
    );
    let e = smp_err(
        &d,
        json!({"spec": {"template": {"spec": {"$setElementOrder/containers": "x"}}}}),
        "apps",
        "Deployment",
    );
    assert_eq!(
        e.to_string(),
        "invalid patch format of setElementOrder list"
    );
    let e = smp_err(
        &d,
        json!({"metadata": {"finalizers": [["x"]]}}),
        "apps",
        "Deployment",
    );
    assert_eq!(e.to_string(), "lists of lists are not supported");
    let e = smp_err(
        &d,
        json!({"metadata": {"finalizers": [1]}}),
        "apps",
        "Deployment",
    );
    assert!(
        e.to_string()
            .starts_with("list element types are not identical"),
        "{e}"
    );
    let e = smp_err(
        &d,
        json!({"metadata": {"finalizers": [{"a": 1}]}}),
        "apps",
        "Deployment",
    );
    assert!(
        e.to_string()
            .starts_with("list element types are not identical"),
        "{e}"
    );
    let e = smp_err(
        &json!({"metadata": {"finalizers": []}}),
        json!({"metadata": {"finalizers": [{"a": 1}]}}),
        "",
        "Pod",
    );
    assert_eq!(
        e.to_string(),
        "cannot merge lists without merge key for metadata.finalizers"
    );
    let e = smp_err(&d, json!([1]), "apps", "Deployment");
    assert_eq!(
        e.to_string(),
        "json: cannot unmarshal array into Go value of type map[string]interface {}"
    );
    let e = smp_err(&json!([]), json!({}), "apps", "Deployment");
    assert_eq!(e.code(), 400);
    assert_eq!(smp(&d, Value::Null, "apps", "Deployment"), d);
}

#[test]
fn smp_directives_never_leak_into_new_values() {
    let d = json!({"spec": {}});
    let out = smp(
        &d,
        json!({"spec": {"template": {"spec": {
            "$setElementOrder/containers": [{"name": "a"}],
            "containers": [{"name": "a", "image": "x", "env": [{"name": "E", "$patch": "delete"}], "gone": null}],
            "$retainKeys": ["containers"],
            "labels": {"$patch": "delete"}
        }}}}),
        "apps",
        "Deployment",
    );
    assert_eq!(
        out,
        json!({"spec": {"template": {"spec": {"containers": [{"name": "a", "image": "x", "env": []}]}}}})
    );
}

#[test]
fn smp_order_with_server_only_items() {
    let meta = |p: &[&str]| {
        if p == ["items"] {
            ListStrategy::MergeByKey("name")
        } else {
            ListStrategy::Replace
        }
    };
    let doc = json!({"items": [{"name": "a"}, {"name": "b", "x": 1}, {"name": "srv"}]});
    // kubectl apply deleting "a" and adding "c" after "b"; "srv" was added by someone else.
    let patch = json!({"$setElementOrder/items": [{"name": "b"}, {"name": "c"}],
        "items": [{"name": "c"}, {"name": "a", "$patch": "delete"}]});
    let out = apply_strategic_merge_patch(&doc, &patch, &meta).unwrap();
    // Upstream keeps the server-only item ahead of the new one here.
    assert_eq!(
        out,
        json!({"items": [{"name": "b", "x": 1}, {"name": "srv"}, {"name": "c"}]})
    );
    // Reordering with a server-only item in the middle.
    let doc = json!({"items": [{"name": "1"}, {"name": "2"}, {"name": "srv"}, {"name": "3"}]});
    let patch = json!({"$setElementOrder/items": [{"name": "3"}, {"name": "2"}, {"name": "1"}]});
    let out = apply_strategic_merge_patch(&doc, &patch, &meta).unwrap();
    // Upstream's interleaving: "srv" sat before "3" in the object, so it stays ahead of it.
    assert_eq!(
        out,
        json!({"items": [{"name": "srv"}, {"name": "3"}, {"name": "2"}, {"name": "1"}]})
    );
    // Duplicates in the object are kept, grouped where the order first names them.
    let doc = json!({"items": [{"name": "1"}, {"name": "2", "v": 1}, {"name": "3"}, {"name": "2", "v": 2}]});
    let patch = json!({"$setElementOrder/items": [{"name": "2"}, {"name": "1"}, {"name": "3"}]});
    let out = apply_strategic_merge_patch(&doc, &patch, &meta).unwrap();
    assert_eq!(
        out,
        json!({"items": [{"name": "2", "v": 1}, {"name": "2", "v": 2}, {"name": "1"}, {"name": "3"}]})
    );
}
