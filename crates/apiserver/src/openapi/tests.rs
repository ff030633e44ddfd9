use std::sync::OnceLock;

use api_types::resources::{find, BUILTIN};
use serde_json::{json, Value};

use super::*;

fn api() -> &'static OpenApi {
    static API: OnceLock<OpenApi> = OnceLock::new();
    API.get_or_init(|| {
        let start = std::time::Instant::now();
        let api = OpenApi::build(BUILTIN, "v1.33.0");
        // Printed for information only (`--nocapture`); never asserted.
        println!("OpenApi::build took {:?}", start.elapsed());
        api
    })
}

fn v3(path: &str) -> Value {
    let (doc, _) = api().v3_group_version(path).unwrap();
    serde_json::from_slice(&doc).unwrap()
}

fn deployments() -> &'static api_types::resources::ResourceInfo {
    find("apps", "v1", "deployments").unwrap()
}

#[test]
fn apps_v1_has_deployment_with_gvk_and_strategy() {
    let doc = v3("apis/apps/v1");
    assert_eq!(doc["openapi"], "3.0.0");
    let d = &doc["components"]["schemas"]["io.k8s.api.apps.v1.Deployment"];
    assert_eq!(
        d["x-kubernetes-group-version-kind"],
        json!([{"group": "apps", "kind": "Deployment", "version": "v1"}])
    );
    let spec = &doc["components"]["schemas"]["io.k8s.api.apps.v1.DeploymentSpec"];
    let strategy = &spec["properties"]["strategy"];
    assert_eq!(
        strategy["allOf"][0]["$ref"],
        "#/components/schemas/io.k8s.api.apps.v1.DeploymentStrategy"
    );
    assert_eq!(strategy["x-kubernetes-patch-strategy"], "retainKeys");
    assert!(strategy["description"]
        .as_str()
        .unwrap()
        .contains("deployment strategy"));
    // Upstream does not require metadata; k8s-openapi's Rust types do.
    assert!(d.get("required").is_none());
    let list = &doc["components"]["schemas"]["io.k8s.api.apps.v1.DeploymentList"];
    assert_eq!(
        list["x-kubernetes-group-version-kind"][0]["kind"],
        "DeploymentList"
    );
    // Only what apps/v1 reaches: no Service, but the pod template's types.
    assert!(doc["components"]["schemas"]
        .get("io.k8s.api.core.v1.Service")
        .is_none());
    assert!(doc["components"]["schemas"]
        .get("io.k8s.api.core.v1.PodSpec")
        .is_some());
}

#[test]
fn containers_carry_patch_metadata() {
    let doc = v3("api/v1");
    let pod_spec = &doc["components"]["schemas"]["io.k8s.api.core.v1.PodSpec"]["properties"];
    let containers = &pod_spec["containers"];
    assert_eq!(containers["x-kubernetes-patch-merge-key"], "name");
    assert_eq!(containers["x-kubernetes-patch-strategy"], "merge");
    assert_eq!(containers["x-kubernetes-list-type"], "map");
    assert_eq!(containers["x-kubernetes-list-map-keys"], json!(["name"]));
    assert_eq!(
        pod_spec["volumes"]["x-kubernetes-patch-strategy"],
        "merge,retainKeys"
    );
    assert_eq!(pod_spec["tolerations"]["x-kubernetes-list-type"], "atomic");
    assert!(pod_spec["tolerations"]
        .get("x-kubernetes-patch-strategy")
        .is_none());
    let container = &doc["components"]["schemas"]["io.k8s.api.core.v1.Container"]["properties"];
    assert_eq!(
        container["ports"]["x-kubernetes-patch-merge-key"],
        "containerPort"
    );
    assert_eq!(container["env"]["x-kubernetes-patch-merge-key"], "name");
    let meta = &doc["components"]["schemas"]["io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"]
        ["properties"];
    assert_eq!(
        meta["ownerReferences"]["x-kubernetes-patch-merge-key"],
        "uid"
    );
    assert_eq!(meta["finalizers"]["x-kubernetes-patch-strategy"], "merge");
    let service_spec =
        &doc["components"]["schemas"]["io.k8s.api.core.v1.ServiceSpec"]["properties"];
    assert_eq!(
        service_spec["ports"]["x-kubernetes-patch-merge-key"],
        "port"
    );
    // Upstream's v3 shapes of the special scalars.
    let ios = &doc["components"]["schemas"]["io.k8s.apimachinery.pkg.util.intstr.IntOrString"];
    assert_eq!(ios["format"], "int-or-string");
    assert_eq!(
        ios["oneOf"],
        json!([{"type": "integer"}, {"type": "string"}])
    );
}

#[test]
fn write_operations_advertise_field_validation() {
    let index: Value = serde_json::from_slice(&api().v3_index()).unwrap();
    let mut patches = 0;
    for (key, entry) in index["paths"].as_object().unwrap() {
        let url = entry["serverRelativeURL"].as_str().unwrap();
        let (doc, hash) = api().v3_group_version(url).unwrap();
        assert_eq!(url, format!("/openapi/v3/{key}?hash={hash}"));
        assert_eq!(hash.len(), 128);
        let doc: Value = serde_json::from_slice(&doc).unwrap();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                if method == "parameters" || op["x-kubernetes-action"] == "connect" {
                    continue;
                }
                assert!(
                    op["x-kubernetes-group-version-kind"].is_object() || path.ends_with('/'),
                    "{path} {method}"
                );
                if matches!(method.as_str(), "post" | "put" | "patch") {
                    let names: Vec<&str> = op["parameters"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|p| p["name"].as_str().unwrap())
                        .collect();
                    for wanted in ["fieldValidation", "dryRun", "fieldManager"] {
                        assert!(names.contains(&wanted), "{path} {method} lacks {wanted}");
                    }
                }
                if method == "patch" {
                    patches += 1;
                    assert!(op["requestBody"]["content"]
                        .get("application/strategic-merge-patch+json")
                        .is_some());
                }
            }
        }
    }
    assert!(patches > 50);
    let deploy = v3("apis/apps/v1");
    let op = &deploy["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"];
    assert_eq!(op["operationId"], "patchAppsV1NamespacedDeployment");
    assert_eq!(
        op["x-kubernetes-group-version-kind"],
        json!({"group": "apps", "kind": "Deployment", "version": "v1"})
    );
    let scale =
        &deploy["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale"]["put"];
    assert_eq!(scale["x-kubernetes-group-version-kind"]["kind"], "Scale");
}

/// Every `$ref` resolves inside its own document, and every kind an operation names has a
/// schema carrying that group-version-kind (what `kubectl explain` looks for).
#[test]
fn documents_are_self_contained() {
    fn refs(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(r)) = m.get("$ref") {
                    out.push(r.clone());
                }
                m.values().for_each(|v| refs(v, out));
            }
            Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    for key in [
        "api/v1",
        "apis/apps/v1",
        "apis/batch/v1",
        "apis/apiextensions.k8s.io/v1",
        "apis/autoscaling/v1",
    ] {
        let doc = v3(key);
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        let mut all = Vec::new();
        refs(&doc, &mut all);
        for r in all {
            let name = r
                .strip_prefix("#/components/schemas/")
                .unwrap_or_else(|| panic!("{key}: {r}"));
            assert!(schemas.contains_key(name), "{key}: dangling {r}");
        }
        for item in doc["paths"].as_object().unwrap().values() {
            for op in item.as_object().unwrap().values() {
                let gvk = &op["x-kubernetes-group-version-kind"];
                if !gvk.is_object() || op["x-kubernetes-action"] == "connect" {
                    continue;
                }
                let found = schemas.values().any(|s| {
                    s["x-kubernetes-group-version-kind"]
                        .as_array()
                        .is_some_and(|l| l.contains(gvk))
                });
                assert!(found, "{key}: no schema for {gvk}");
            }
        }
    }
    let v2: Value = serde_json::from_slice(&api().v2_json()).unwrap();
    assert_eq!(v2["swagger"], "2.0");
    let defs = v2["definitions"].as_object().unwrap();
    let mut all = Vec::new();
    refs(&v2, &mut all);
    for r in all {
        assert!(
            defs.contains_key(r.strip_prefix("#/definitions/").unwrap()),
            "v2: dangling {r}"
        );
    }
    let ios = &defs["io.k8s.apimachinery.pkg.util.intstr.IntOrString"];
    assert_eq!(
        (ios["type"].as_str(), ios["format"].as_str()),
        (Some("string"), Some("int-or-string"))
    );
}

/// Splits a protobuf message into (field number, wire type, payload) triples.
fn fields(mut b: &[u8]) -> Vec<(u64, u8, &[u8])> {
    fn varint(b: &mut &[u8]) -> u64 {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = b[0];
            *b = &b[1..];
            v |= u64::from(byte & 0x7f) << shift;
            if byte < 0x80 {
                break;
            }
        }
        v
    }
    let mut out = Vec::new();
    while !b.is_empty() {
        let key = varint(&mut b);
        let (field, wire) = (key >> 3, (key & 7) as u8);
        let payload: &[u8] = match wire {
            0 => {
                let start = b;
                varint(&mut b);
                &start[..start.len() - b.len()]
            }
            1 => {
                let (p, rest) = b.split_at(8);
                b = rest;
                p
            }
            2 => {
                let len = varint(&mut b) as usize;
                let (p, rest) = b.split_at(len);
                b = rest;
                p
            }
            other => panic!("unexpected wire type {other}"),
        };
        out.push((field, wire, payload));
    }
    out
}

#[test]
fn v2_protobuf_is_a_gnostic_document() {
    let pb = api().v2_protobuf().unwrap();
    let json: Value = serde_json::from_slice(&api().v2_json()).unwrap();
    let top = fields(&pb);
    assert_eq!(top[0], (1, 2, &b"2.0"[..]));
    // Document.paths (8) -> Paths.path (2) per path; Document.definitions (9) ->
    // Definitions.additional_properties (1) per definition.
    let paths = top.iter().find(|f| f.0 == 8).unwrap().2;
    let path_count = fields(paths).iter().filter(|f| f.0 == 2).count();
    assert_eq!(path_count, json["paths"].as_object().unwrap().len());
    let defs = top.iter().find(|f| f.0 == 9).unwrap().2;
    let named: Vec<_> = fields(defs);
    assert_eq!(named.len(), json["definitions"].as_object().unwrap().len());
    // NamedSchema { name = 1, value = 2 }; the Deployment schema carries its GVK as a
    // vendor extension (Schema field 31: NamedAny { name, Any { yaml = 2 } }).
    let deployment = named
        .iter()
        .map(|f| fields(f.2))
        .find(|n| n[0].2 == b"io.k8s.api.apps.v1.Deployment")
        .unwrap();
    let schema = fields(deployment[1].2);
    let ext = schema
        .iter()
        .find(|f| f.0 == 31)
        .map(|f| fields(f.2))
        .unwrap();
    assert_eq!(ext[0].2, b"x-kubernetes-group-version-kind");
    let yaml = fields(ext[1].2);
    assert_eq!(
        yaml[0].2,
        br#"[{"group":"apps","kind":"Deployment","version":"v1"}]"#
    );
}

#[test]
fn finds_unknown_fields_in_a_deployment() {
    let obj = json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "labelz": {"a": "b"}},
        "spec": {
            "foo": 1,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [
                    {"name": "c", "image": "busybox"},
                    {"name": "d", "image": "busybox", "imagePullPolice": "Always", "ports": [{"containerPort": 80, "hostPorts": 1}]}
                ]}
            },
            "strategy": {"rollingUpdate": {"maxSurge": "25%", "maxUnavailablee": 1}},
            "bar": {"nested": {"ignored": true}}
        }
    });
    let found = api().unknown_fields(deployments(), &obj);
    assert_eq!(
        found,
        vec![
            "metadata.labelz",
            "spec.foo",
            "spec.template.spec.containers[1].imagePullPolice",
            "spec.template.spec.containers[1].ports[0].hostPorts",
            "spec.strategy.rollingUpdate.maxUnavailablee",
            "spec.bar",
        ]
    );
    assert_eq!(
        strict_decoding_message(&found[1..3]),
        r#"strict decoding error: unknown field "spec.foo", unknown field "spec.template.spec.containers[1].imagePullPolice""#
    );
}

#[test]
fn accepts_a_valid_deployment() {
    let obj = json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "web", "namespace": "default",
            "labels": {"app": "web", "tier": "front"},
            "annotations": {"a/b": "{\"json\": true}"},
            "ownerReferences": [{"apiVersion": "v1", "kind": "X", "name": "x", "uid": "1"}],
            "managedFields": [{"manager": "kubectl", "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {"f:replicas": {}}}}],
            "finalizers": ["a/b"],
            "creationTimestamp": null
        },
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": "web"}, "matchExpressions": [{"key": "k", "operator": "In", "values": ["v"]}]},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": "25%"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "containers": [{
                        "name": "c", "image": "busybox",
                        "ports": [{"containerPort": 80, "protocol": "TCP"}],
                        "env": [{"name": "A", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}],
                        "resources": {"limits": {"cpu": "500m", "memory": 134217728}, "requests": {"cpu": 0.25}},
                        "livenessProbe": {"httpGet": {"port": "http", "path": "/"}, "tcpSocket": {"port": 8080}},
                        "volumeMounts": [{"name": "v", "mountPath": "/data"}]
                    }],
                    "volumes": [{"name": "v", "emptyDir": {"sizeLimit": "1Gi"}}],
                    "nodeSelector": {"disk": "ssd"},
                    "tolerations": [{"key": "k", "operator": "Exists", "effect": "NoSchedule"}],
                    "overhead": {"cpu": "1"}
                }
            }
        },
        "status": {"replicas": 1, "conditions": [{"type": "Available", "status": "True"}]}
    });
    assert_eq!(
        api().unknown_fields(deployments(), &obj),
        Vec::<String>::new()
    );
    // Subresource bodies have their own definition.
    let scale = json!({"apiVersion": "autoscaling/v1", "kind": "Scale", "spec": {"replicas": 2, "replicaz": 1}});
    assert_eq!(
        api().unknown_fields_of("io.k8s.api.autoscaling.v1.Scale", &scale),
        vec!["spec.replicaz"]
    );
}

#[test]
fn unknown_fields_in_maps_of_objects_and_custom_resources_definitions() {
    let crd = find("apiextensions.k8s.io", "v1", "customresourcedefinitions").unwrap();
    let obj = json!({
        "spec": {
            "group": "x.io",
            "names": {"plural": "foos", "kind": "Foo"},
            "scope": "Namespaced",
            "versions": [{
                "name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {
                    "type": "object",
                    "x-kubernetes-preserve-unknown-fields": true,
                    "properties": {"spec": {"type": "object", "typo": 1, "default": {"anything": [1]}, "items": {"whatever": 1}}}
                }}
            }]
        }
    });
    assert_eq!(
        api().unknown_fields(crd, &obj),
        vec!["spec.versions[0].schema.openAPIV3Schema.properties.spec.typo"]
    );
}

#[test]
fn never_panics_on_odd_input() {
    let d = deployments();
    let mut deep = json!({"x": 1});
    for i in 0..300 {
        deep = if i % 2 == 0 {
            json!({"spec": deep})
        } else {
            json!([deep])
        };
    }
    for v in [
        json!(null),
        json!(1),
        json!("s"),
        json!([1, {"a": 2}]),
        json!({"spec": [1, 2]}),
        json!({"spec": {"template": "x"}}),
        deep,
    ] {
        let _ = api().unknown_fields(d, &v);
    }
    assert!(api()
        .unknown_fields_of("no.such.Definition", &json!({"a": 1}))
        .is_empty());
    let many: serde_json::Map<String, Value> =
        (0..500).map(|i| (format!("f{i}"), json!(i))).collect();
    assert_eq!(api().unknown_fields(d, &json!({"spec": many})).len(), 100);
}

#[test]
fn strict_message_quotes_like_go() {
    assert_eq!(strict_decoding_message(&[]), "strict decoding error: ");
    assert_eq!(go_quote("a\"b\\c\nd\u{1}é"), r#""a\"b\\c\nd\x01é""#);
}

#[test]
fn v3_lookup_accepts_route_forms() {
    assert!(api()
        .v3_group_version("/openapi/v3/apis/apps/v1?hash=x")
        .is_some());
    assert!(api().v3_group_version("api/v1").is_some());
    assert!(api().v3_group_version("apis/nope/v1").is_none());
}

#[test]
fn operation_ids_follow_upstream() {
    assert_eq!(
        paths::gv_camel("rbac.authorization.k8s.io", "v1"),
        "RbacAuthorizationV1"
    );
    assert_eq!(paths::gv_camel("", "v1"), "CoreV1");
    assert_eq!(
        paths::gv_tag("rbac.authorization.k8s.io", "v1"),
        "rbacAuthorization_v1"
    );
    let core = v3("api/v1");
    let p = &core["paths"];
    assert_eq!(
        p["/api/v1/namespaces/{namespace}/pods"]["get"]["operationId"],
        "listCoreV1NamespacedPod"
    );
    assert_eq!(
        p["/api/v1/pods"]["get"]["operationId"],
        "listCoreV1PodForAllNamespaces"
    );
    assert_eq!(
        p["/api/v1/namespaces/{namespace}/pods/{name}/log"]["get"]["operationId"],
        "readCoreV1NamespacedPodLog"
    );
    assert_eq!(
        p["/api/v1/namespaces/{namespace}/pods/{name}/eviction"]["post"]
            ["x-kubernetes-group-version-kind"]["kind"],
        "Eviction"
    );
    assert_eq!(
        p["/api/v1/nodes/{name}"]["get"]["operationId"],
        "readCoreV1Node"
    );
}

#[test]
fn v2_negotiation_follows_upstream() {
    let client_go = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf";
    assert_eq!(negotiate_v2(Some(client_go)), Some(V2Format::Protobuf));
    assert_eq!(
        negotiate_v2(Some(V2_PROTOBUF_CONTENT_TYPE)),
        Some(V2Format::Protobuf)
    );
    assert_eq!(negotiate_v2(None), Some(V2Format::Json));
    assert_eq!(
        negotiate_v2(Some("application/json, */*")),
        Some(V2Format::Json)
    );
    assert_eq!(
        negotiate_v2(Some(
            "application/json;q=0.5, application/com.github.proto-openapi.spec.v2.v1.0+protobuf"
        )),
        Some(V2Format::Protobuf)
    );
    assert_eq!(negotiate_v2(Some("text/html")), None);
    assert_eq!(negotiate_v2(Some("application/json;q=0")), None);
    assert_eq!(api().v2_etag().len(), 128);
    assert!(v3_accepts_json(Some("application/json")));
    assert!(v3_accepts_json(None));
    assert!(!v3_accepts_json(Some(
        "application/com.github.proto-openapi.spec.v3.v1.0+protobuf"
    )));
}

#[test]
fn accepts_valid_objects_of_other_kinds() {
    let cases = [
        (
            "",
            "v1",
            "Service",
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
            "spec": {"selector": {"app": "web"}, "type": "LoadBalancer",
                "ports": [{"port": 80, "targetPort": "http"}, {"port": 81, "targetPort": 8081, "protocol": "UDP", "name": "u"}]}}),
        ),
        (
            "",
            "v1",
            "Secret",
            json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
            "data": {"a": "YWJj"}, "stringData": {"b": "c"}, "type": "Opaque"}),
        ),
        (
            "",
            "v1",
            "Pod",
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {
            "containers": [{"name": "c", "image": "i", "securityContext": {"capabilities": {"add": ["NET_ADMIN"]}}}],
            "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{"matchExpressions": [{"key": "a", "operator": "In", "values": ["b"]}]}]}}},
            "volumes": [{"name": "v", "configMap": {"name": "cm", "items": [{"key": "a", "path": "b"}]}},
                {"name": "w", "projected": {"sources": [{"serviceAccountToken": {"path": "t", "expirationSeconds": 3600}}]}}]}}),
        ),
        (
            "networking.k8s.io",
            "v1",
            "NetworkPolicy",
            json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": "n"}, "spec": {"podSelector": {}, "ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.0/8"}}], "ports": [{"port": 80}, {"port": "http"}]}]}}),
        ),
        (
            "autoscaling",
            "v2",
            "HorizontalPodAutoscaler",
            json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "h"}, "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}, "maxReplicas": 5,
                "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 50}}}]}}),
        ),
        (
            "apiextensions.k8s.io",
            "v1",
            "CustomResourceDefinition",
            json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": "foos.x.io"}, "spec": {"group": "x.io", "names": {"plural": "foos", "kind": "Foo"}, "scope": "Namespaced",
                "versions": [{"name": "v1", "served": true, "storage": true,
                    "subresources": {"status": {}, "scale": {"specReplicasPath": ".spec.replicas", "statusReplicasPath": ".status.replicas"}},
                    "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true, "properties": {"spec": {
                        "type": "object", "x-kubernetes-validations": [{"rule": "self.port != 0"}], "required": ["port"],
                        "properties": {"port": {"x-kubernetes-int-or-string": true, "anyOf": [{"type": "integer"}, {"type": "string"}]},
                            "more": {"type": "object", "additionalProperties": {"type": "string"}}, "flag": {"additionalProperties": true}}}}}}}]}}),
        ),
    ];
    for (group, version, kind, obj) in cases {
        let r = api_types::resources::find_kind(group, version, kind).unwrap();
        assert_eq!(
            api().unknown_fields(r, &obj),
            Vec::<String>::new(),
            "{kind}"
        );
    }
}
