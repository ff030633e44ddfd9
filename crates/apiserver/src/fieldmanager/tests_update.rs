//! Non-apply writes, client-side to server-side apply migration, malformed input.

use api_types::ApiError;
use serde_json::{json, Value};

use super::tests::{
    apply, at, deployment, deployments, entries, entry, fm, owns, resource, stored, time_text,
};
use super::*;

fn created_by_update(manager: &str) -> Value {
    stored(fm().update(
        deployments(),
        None,
        &deployment(2, "nginx:1.25"),
        manager,
        None,
        at(0),
    ))
}

#[test]
fn create_records_an_update_entry_without_struct_markers() {
    let obj = created_by_update("kubectl-create");
    let e = entry(&obj, "kubectl-create", "Update").unwrap();
    assert_eq!(e["apiVersion"], "apps/v1");
    assert_eq!(e["time"], time_text(0));
    assert_eq!(e["fieldsType"], "FieldsV1");
    let f = &e["fieldsV1"];
    // Maps and list items are new (`.`); structs Go always has are not.
    assert_eq!(f["f:metadata"]["f:labels"], json!({".": {}, "f:app": {}}));
    assert!(f["f:spec"].get(".").is_none());
    assert!(f["f:spec"]["f:template"].get(".").is_none());
    assert_eq!(f["f:spec"]["f:selector"], json!({}));
    let c = &f["f:spec"]["f:template"]["f:spec"]["f:containers"];
    assert_eq!(c["."], json!({}));
    assert_eq!(c[r#"k:{"name":"nginx"}"#]["."], json!({}));
    assert!(f["f:metadata"].get("f:name").is_none());
}

#[test]
fn updates_take_changed_fields_from_other_managers() {
    let live = stored(
        super::tests::apply(None, &deployment(2, "nginx:1.25"), "kubectl", false, 0).unwrap(),
    );
    let mut scaled = live.clone();
    scaled["spec"]["replicas"] = json!(4);
    let after = fm().update(
        deployments(),
        Some(&live),
        &scaled,
        "kubectl-scale",
        None,
        at(30),
    );
    assert!(owns(
        &after,
        "kubectl-scale",
        "Update",
        &["f:spec", "f:replicas"]
    ));
    assert!(!owns(&after, "kubectl", "Apply", &["f:spec", "f:replicas"]));
    assert_eq!(
        entry(&after, "kubectl-scale", "Update").unwrap()["time"],
        time_text(30)
    );
    // The applier's entry keeps its time.
    assert_eq!(
        entry(&after, "kubectl", "Apply").unwrap()["time"],
        time_text(0)
    );

    // An update that changes nothing it could own leaves the entries alone.
    let again = fm().update(
        deployments(),
        Some(&after),
        &after,
        "kubectl-scale",
        None,
        at(90),
    );
    assert_eq!(again, after);
}

#[test]
fn status_subresource_update_records_status_fields() {
    let live = stored(apply(None, &deployment(2, "nginx:1.25"), "kubectl", false, 0).unwrap());
    let mut new = live.clone();
    new["status"] = json!({
        "replicas": 2,
        "conditions": [{"type": "Available", "status": "True"}]
    });
    // A status write that also tried to change spec: the strategy resets it, not ours.
    new["spec"]["replicas"] = json!(9);
    let after = fm().update(
        deployments(),
        Some(&live),
        &new,
        "kube-controller-manager",
        Some("status"),
        at(5),
    );
    let e = entry(&after, "kube-controller-manager", "Update").unwrap();
    assert_eq!(e["subresource"], "status");
    assert_eq!(e["apiVersion"], "apps/v1");
    assert_eq!(
        e["fieldsV1"],
        json!({"f:status": {
            "f:conditions": {".": {}, r#"k:{"type":"Available"}"#: {
                ".": {}, "f:status": {}, "f:type": {}
            }},
            "f:replicas": {}
        }})
    );
    assert!(owns(&after, "kubectl", "Apply", &["f:spec", "f:replicas"]));
    let keys: Vec<&str> = e.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        vec![
            "manager",
            "operation",
            "apiVersion",
            "time",
            "fieldsType",
            "fieldsV1",
            "subresource"
        ]
    );

    // Status changes through the main resource are not recorded.
    let mut main = after.clone();
    main["status"]["replicas"] = json!(3);
    let same = fm().update(deployments(), Some(&after), &main, "someone", None, at(6));
    assert!(entry(&same, "someone", "Update").is_none());
}

#[test]
fn status_can_be_applied_through_its_subresource() {
    let live = stored(apply(None, &deployment(2, "nginx:1.25"), "kubectl", false, 0).unwrap());
    let config = json!({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
        "spec": {"replicas": 9},
        "status": {"observedGeneration": 1, "conditions": [{"type": "Progressing", "status": "True"}]}
    });
    let after = fm()
        .apply_subresource(
            deployments(),
            "status",
            Some(&live),
            &config,
            "ctrl",
            false,
            at(4),
        )
        .unwrap();
    assert_eq!(
        after["spec"]["replicas"], 2,
        "spec is not written through /status"
    );
    assert_eq!(after["status"]["observedGeneration"], 1);
    let e = entry(&after, "ctrl", "Apply").unwrap();
    assert_eq!(e["subresource"], "status");
    assert!(e["fieldsV1"].get("f:spec").is_none());
    assert!(owns(
        &after,
        "ctrl",
        "Apply",
        &["f:status", "f:observedGeneration"]
    ));
}

#[test]
fn new_list_items_own_their_structs() {
    let live = created_by_update("kubectl-create");
    let mut edited = live.clone();
    edited["spec"]["template"]["spec"]["containers"][0]["securityContext"] =
        json!({"runAsUser": 1});
    let containers = edited["spec"]["template"]["spec"]["containers"]
        .as_array_mut()
        .unwrap();
    containers.push(json!({"name": "side", "image": "s", "resources": {"limits": {"cpu": "1"}}}));
    let after = fm().update(
        deployments(),
        Some(&live),
        &edited,
        "kubectl-edit",
        None,
        at(1),
    );
    let f = &entry(&after, "kubectl-edit", "Update").unwrap()["fieldsV1"];
    let c = &f["f:spec"]["f:template"]["f:spec"]["f:containers"];
    // A struct added inside an existing item: no marker (Go cannot tell it appeared).
    assert_eq!(
        c[r#"k:{"name":"nginx"}"#]["f:securityContext"],
        json!({"f:runAsUser": {}})
    );
    // Inside a new item everything is new, structs included.
    assert_eq!(
        c[r#"k:{"name":"side"}"#],
        json!({".": {}, "f:image": {}, "f:name": {},
            "f:resources": {".": {}, "f:limits": {".": {}, "f:cpu": {}}}})
    );
}

#[test]
fn managed_fields_reset_and_untracked_objects() {
    let live = created_by_update("kubectl-create");
    let mut reset = live.clone();
    reset["metadata"]["managedFields"] = json!([]);
    reset["metadata"]["labels"]["x"] = json!("y");
    let after = fm().update(
        deployments(),
        Some(&live),
        &reset,
        "kubectl-edit",
        None,
        at(1),
    );
    assert!(after["metadata"].get("managedFields").is_none());
    // Objects without managed fields stay untracked until applied.
    let mut more = after.clone();
    more["spec"]["replicas"] = json!(3);
    let untracked = fm().update(
        deployments(),
        Some(&after),
        &more,
        "kubectl-edit",
        None,
        at(2),
    );
    assert!(untracked["metadata"].get("managedFields").is_none());
    // The first apply credits existing fields to before-first-apply.
    let applied = apply(
        Some(&untracked),
        &deployment(5, "nginx:1.25"),
        "kubectl",
        true,
        3,
    )
    .unwrap();
    assert!(owns(
        &applied,
        "before-first-apply",
        "Update",
        &["f:metadata", "f:labels", "f:x"]
    ));
    assert!(owns(
        &applied,
        "kubectl",
        "Apply",
        &["f:spec", "f:replicas"]
    ));
    assert!(!owns(
        &applied,
        "before-first-apply",
        "Update",
        &["f:spec", "f:replicas"]
    ));
}

#[test]
fn update_entries_are_capped_at_ten() {
    let mut live = created_by_update("m0");
    for i in 1..=11 {
        let mut next = live.clone();
        next["metadata"]["labels"][format!("l{i}")] = json!("v");
        live = fm().update(
            deployments(),
            Some(&live),
            &next,
            &format!("m{i}"),
            None,
            at(i),
        );
    }
    let updates: Vec<&Value> = entries(&live)
        .iter()
        .filter(|e| e["operation"] == "Update")
        .collect();
    assert_eq!(updates.len(), 10);
    let ancient = entry(&live, "ancient-changes", "Update").unwrap();
    // m0 and m1 merged when there were eleven, m2 joined them at twelve.
    assert_eq!(ancient["time"], time_text(2));
    assert!(owns(
        &live,
        "ancient-changes",
        "Update",
        &["f:metadata", "f:labels", "f:l1"]
    ));
    assert!(owns(
        &live,
        "ancient-changes",
        "Update",
        &["f:metadata", "f:labels", "f:l2"]
    ));
    assert!(entry(&live, "m2", "Update").is_none() && entry(&live, "m3", "Update").is_some());
    assert!(owns(
        &live,
        "ancient-changes",
        "Update",
        &["f:spec", "f:replicas"]
    ));
}

#[test]
fn kubectl_takes_over_client_side_applied_fields() {
    // `kubectl apply` (client-side) creates with the annotation.
    let mut csa = deployment(2, "nginx:1.25");
    let annotation = super::lastapplied::build(&csa);
    csa["metadata"]["annotations"] =
        json!({"kubectl.kubernetes.io/last-applied-configuration": annotation});
    let live = stored(fm().update(
        deployments(),
        None,
        &csa,
        "kubectl-client-side-apply",
        None,
        at(0),
    ));

    // Another manager conflicts with the client-side applier.
    let err: ApiError = match apply(Some(&live), &deployment(3, "nginx:1.25"), "other", false, 1) {
        Err(e) => e.into(),
        Ok(_) => panic!("expected a conflict"),
    };
    assert_eq!(
        err.message,
        r#"Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas"#
    );

    // `kubectl apply --server-side` takes over what the annotation says it applied.
    let after = apply(
        Some(&live),
        &deployment(3, "nginx:1.25"),
        "kubectl",
        false,
        1,
    )
    .unwrap();
    assert_eq!(after["spec"]["replicas"], 3);
    assert!(owns(&after, "kubectl", "Apply", &["f:spec", "f:replicas"]));
    assert!(!owns(
        &after,
        "kubectl-client-side-apply",
        "Update",
        &["f:spec", "f:replicas"]
    ));
    let last: Value = serde_json::from_str(
        after["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        last,
        deployment(3, "nginx:1.25"),
        "the annotation follows the apply"
    );

    // A field changed since the last client-side apply is a real conflict.
    let mut edited = live.clone();
    edited["spec"]["replicas"] = json!(7);
    let edited = fm().update(
        deployments(),
        Some(&live),
        &edited,
        "kubectl-edit",
        None,
        at(2),
    );
    let err: ApiError = match apply(
        Some(&edited),
        &deployment(3, "nginx:1.25"),
        "kubectl",
        false,
        3,
    ) {
        Err(e) => e.into(),
        Ok(_) => panic!("expected a conflict"),
    };
    assert_eq!(
        err.message,
        r#"Apply failed with 1 conflict: conflict with "kubectl-edit" using apps/v1: .spec.replicas"#
    );
}

fn bad_request(config: &Value) -> String {
    match apply(None, config, "kubectl", false, 0) {
        Err(e @ ApplyError::BadRequest(_)) => {
            let api: ApiError = e.into();
            assert_eq!((api.code, api.reason), (400, "BadRequest"));
            api.message
        }
        other => panic!("expected a bad request for {config}, got {other:?}"),
    }
}

#[test]
fn malformed_configs_are_bad_requests() {
    assert_eq!(
        bad_request(&json!(["a"])),
        "error decoding YAML: error unmarshaling JSON: while decoding JSON: json: cannot unmarshal array into Go value of type map[string]interface {}"
    );
    let mut wrong = deployment(1, "x");
    wrong["apiVersion"] = json!("apps/v1beta1");
    assert_eq!(
        bad_request(&wrong),
        "invalid object type: apps/v1beta1, Kind=Deployment"
    );
    assert_eq!(
        bad_request(&json!({"kind": "Deployment"})),
        "invalid object type: /, Kind=Deployment"
    );
    let mut with_managed = deployment(1, "x");
    with_managed["metadata"]["managedFields"] = json!([]);
    assert_eq!(
        bad_request(&with_managed),
        "metadata.managedFields must be nil"
    );

    let prefix = "failed to create typed patch object (default/web; apps/v1, Kind=Deployment): ";
    let mut unknown = deployment(1, "x");
    unknown["spec"]["replicaz"] = json!(1);
    assert_eq!(
        bad_request(&unknown),
        format!("{prefix}.spec.replicaz: field not declared in schema")
    );
    let mut typed = deployment(1, "x");
    typed["spec"]["replicas"] = json!("two");
    assert_eq!(
        bad_request(&typed),
        format!("{prefix}.spec.replicas: expected numeric (int or float), got string")
    );
    let mut dup = deployment(1, "x");
    let c = dup["spec"]["template"]["spec"]["containers"][0].clone();
    dup["spec"]["template"]["spec"]["containers"] = json!([c, c]);
    assert_eq!(
        bad_request(&dup),
        format!(
            "{prefix}.spec.template.spec.containers: duplicate entries for key [name=\"nginx\"]"
        )
    );
    let mut keyless = deployment(1, "x");
    keyless["spec"]["template"]["spec"]["containers"] = json!([{"image": "x"}]);
    assert_eq!(
        bad_request(&keyless),
        format!("{prefix}.spec.template.spec.containers: element 0: associative list with keys has an element that omits all key fields [\"name\"] (and doesn't have default values for any key fields)")
    );
    let mut two = deployment(1, "x");
    two["spec"]["paused"] = json!("yes");
    two["metadata"]["labels"] = json!(["a"]);
    assert_eq!(
        bad_request(&two),
        format!("{prefix}errors:\n  .metadata.labels: expected map, got [\"a\"]\n  .spec.paused: expected boolean, got \"yes\"")
    );
}

#[test]
fn manager_names_from_user_agents() {
    for (ua, want) in [
        (
            "kubectl-edit/v1.33.0 (linux/amd64) kubernetes/abcdef",
            "kubectl-edit",
        ),
        ("kubectl/v1.33.0 (linux/amd64) kubernetes/abcdef", "kubectl"),
        (
            "kube-controller-manager/v1.33.0 (linux/amd64) kubernetes/x/leader-election",
            "kube-controller-manager",
        ),
        ("curl", "curl"),
        ("", ""),
        ("a\tb\u{7}c/1", "abc"),
    ] {
        assert_eq!(manager_from_user_agent(ua), want, "{ua:?}");
    }
    assert_eq!(manager_from_user_agent(&"x".repeat(300)).len(), 128);
}

#[test]
fn other_kinds_use_their_own_schema() {
    let cm = resource("", "configmaps");
    let config = json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "c"}, "data": {"a": "1"}});
    let obj = fm()
        .apply(cm, None, &config, "kubectl", false, at(0))
        .unwrap();
    assert_eq!(entries(&obj)[0]["fieldsV1"], json!({"f:data": {"f:a": {}}}));
    let svc = resource("", "services");
    let config = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
        "spec": {"ports": [{"port": 80}], "selector": {"app": "a"}}});
    let obj = fm()
        .apply(svc, None, &config, "kubectl", false, at(0))
        .unwrap();
    assert_eq!(
        entries(&obj)[0]["fieldsV1"]["f:spec"],
        json!({"f:ports": {r#"k:{"port":80,"protocol":"TCP"}"#: {".": {}, "f:port": {}}},
            "f:selector": {}})
    );
}

/// A small deterministic generator of hostile JSON built from real field names.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() as usize) % items.len()]
    }

    fn value(&mut self, depth: u32) -> Value {
        const KEYS: &[&str] = &[
            "spec",
            "metadata",
            "status",
            "template",
            "containers",
            "name",
            "image",
            "ports",
            "containerPort",
            "protocol",
            "replicas",
            "labels",
            "annotations",
            "finalizers",
            "selector",
            "matchLabels",
            "ownerReferences",
            "uid",
            "managedFields",
            "fieldsV1",
            "f:spec",
            "k:{\"name\":1}",
            "v:1",
            "i:0",
            ".",
            "apiVersion",
            "kind",
            "args",
            "strategy",
            "rollingUpdate",
            "conditions",
            "type",
            "x",
        ];
        let choice = if depth == 0 {
            self.next() % 5
        } else {
            self.next() % 8
        };
        match choice {
            0 => Value::Null,
            1 => json!(self.next().is_multiple_of(3)),
            2 => json!(self.next() % 100),
            3 => json!(self.pick(KEYS)),
            4 => json!(-1.5),
            5 | 6 => {
                let mut m = serde_json::Map::new();
                for _ in 0..self.next() % 4 {
                    let k = self.pick(KEYS).to_string();
                    m.insert(k, self.value(depth - 1));
                }
                Value::Object(m)
            }
            _ => Value::Array(
                (0..self.next() % 3)
                    .map(|_| self.value(depth - 1))
                    .collect(),
            ),
        }
    }
}

#[test]
fn random_input_never_panics() {
    let mut g = Gen(7);
    let base = deployment(1, "x");
    for i in 0..400 {
        let mut config = g.value(6);
        if i % 2 == 0 {
            if let Value::Object(m) = &mut config {
                m.insert("apiVersion".into(), json!("apps/v1"));
                m.insert("kind".into(), json!("Deployment"));
            }
        }
        let mut live = base.clone();
        live["spec"] = g.value(5);
        live["metadata"]["managedFields"] = g.value(4);
        if i % 3 == 0 {
            live["metadata"]["managedFields"] = json!([{"manager": "m", "operation": "Update",
                "apiVersion": "apps/v1", "fieldsType": "FieldsV1", "fieldsV1": g.value(4)}]);
        }
        let _ = apply(Some(&live), &config, "kubectl", i % 4 == 0, i);
        let _ = apply(None, &config, "m", false, i);
        let new = g.value(5);
        let _ = fm().update(deployments(), Some(&live), &new, "u", None, at(i));
        let _ = fm().update(deployments(), Some(&new), &live, "u", Some("status"), at(i));
        let _ = fm().update(deployments(), None, &live, "", None, at(i));
    }
}
