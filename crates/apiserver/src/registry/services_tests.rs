//! ServiceStrategy: defaults per type, clusterIP sync, validation and the update rules
//! for allocated values.

use super::*;
use serde_json::{json, Value};

fn svc(name: &str, spec: Value) -> DynamicObject {
    serde_json::from_value(json!({"apiVersion": "v1", "kind": "Service",
        "metadata": {"name": name, "namespace": "default", "resourceVersion": "7"}, "spec": spec}))
    .unwrap()
}

fn strings(errs: &[FieldError]) -> Vec<String> {
    errs.iter().map(|e| e.to_string()).collect()
}

fn created(spec: Value) -> DynamicObject {
    let mut o = svc("web", spec);
    ServiceStrategy.default(&mut o).unwrap();
    ServiceStrategy.prepare_for_create(&mut o).unwrap();
    o
}

#[test]
fn defaults_for_cluster_ip_services() {
    let o = created(
        json!({"selector": {"app": "web"}, "ports": [{"port": 80}, {"name": "x", "port": 81, "targetPort": "http", "protocol": "UDP"}]}),
    );
    assert_eq!(o.data["spec"]["type"], "ClusterIP");
    assert_eq!(o.data["spec"]["sessionAffinity"], "None");
    assert_eq!(o.data["spec"]["internalTrafficPolicy"], "Cluster");
    assert_eq!(o.data["spec"]["ipFamilyPolicy"], "SingleStack");
    assert_eq!(o.data["spec"]["ipFamilies"], json!(["IPv4"]));
    assert!(o.data["spec"].get("externalTrafficPolicy").is_none());
    assert_eq!(
        o.data["spec"]["ports"][0],
        json!({"port": 80, "protocol": "TCP", "targetPort": 80})
    );
    assert_eq!(o.data["spec"]["ports"][1]["targetPort"], "http");
    assert_eq!(o.data["status"], json!({"loadBalancer": {}}));
    // Two ports need names.
    assert_eq!(
        strings(&ServiceStrategy.validate(&o)),
        vec!["spec.ports[0].name: Required value"]
    );
    assert!(!ServiceStrategy.tracks_generation());
}

#[test]
fn defaults_for_other_types() {
    let np = created(json!({"type": "NodePort", "ports": [{"port": 80, "nodePort": 30080}]}));
    assert_eq!(np.data["spec"]["externalTrafficPolicy"], "Cluster");
    assert!(
        ServiceStrategy.validate(&np).is_empty(),
        "{:?}",
        strings(&ServiceStrategy.validate(&np))
    );
    let lb = created(
        json!({"type": "LoadBalancer", "ports": [{"port": 443}], "sessionAffinity": "ClientIP"}),
    );
    assert_eq!(lb.data["spec"]["allocateLoadBalancerNodePorts"], true);
    assert_eq!(
        lb.data["spec"]["sessionAffinityConfig"],
        json!({"clientIP": {"timeoutSeconds": 10800}})
    );
    assert!(
        ServiceStrategy.validate(&lb).is_empty(),
        "{:?}",
        strings(&ServiceStrategy.validate(&lb))
    );
    let ext = created(json!({"type": "ExternalName", "externalName": "db.example.com."}));
    assert!(ext.data["spec"].get("ipFamilies").is_none());
    assert!(ext.data["spec"].get("internalTrafficPolicy").is_none());
    assert!(
        ServiceStrategy.validate(&ext).is_empty(),
        "{:?}",
        strings(&ServiceStrategy.validate(&ext))
    );
    let v6 = created(json!({"clusterIP": "fd00::10", "ports": [{"port": 80}]}));
    assert_eq!(v6.data["spec"]["ipFamilies"], json!(["IPv6"]));
    assert_eq!(v6.data["spec"]["clusterIPs"], json!(["fd00::10"]));
    assert!(
        ServiceStrategy.validate(&v6).is_empty(),
        "{:?}",
        strings(&ServiceStrategy.validate(&v6))
    );
    let headless = created(json!({"clusterIP": "None", "selector": {"app": "db"}}));
    assert!(
        ServiceStrategy.validate(&headless).is_empty(),
        "{:?}",
        strings(&ServiceStrategy.validate(&headless))
    );
}

#[test]
fn invalid_services() {
    let mut o = svc(
        "1web",
        json!({"type": "ClusterIP", "selector": {"app": "-x"}, "ports": [
            {"name": "http", "port": 0, "nodePort": 30001},
            {"name": "http", "port": 80, "protocol": "ICMP", "targetPort": 70000},
            {"name": "b", "port": 80, "protocol": "ICMP"}
        ]}),
    );
    ServiceStrategy.default(&mut o).unwrap();
    let errs = strings(&ServiceStrategy.validate(&o));
    assert!(errs[0]
        .starts_with("metadata.name: Invalid value: \"1web\": a DNS-1035 label must consist of"));
    let want = [
        "spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive",
        "spec.ports[0].targetPort: Invalid value: 0: must be between 1 and 65535, inclusive",
        "spec.ports[1].name: Duplicate value: \"http\"",
        "spec.ports[1].protocol: Unsupported value: \"ICMP\": supported values: \"SCTP\", \"TCP\", \"UDP\"",
        "spec.ports[1].targetPort: Invalid value: 70000: must be between 1 and 65535, inclusive",
        "spec.ports[2].protocol: Unsupported value: \"ICMP\": supported values: \"SCTP\", \"TCP\", \"UDP\"",
    ];
    assert_eq!(&errs[1..7], want);
    assert!(errs[7].starts_with("spec.selector: Invalid value: \"-x\""));
    assert_eq!(
        errs[8],
        "spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"
    );
    assert_eq!(
        errs[9],
        "spec.ports[2]: Duplicate value: core.ServicePort{Name:\"\", Protocol:\"ICMP\", AppProtocol:(*string)(nil), Port:80, TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:\"\"}, NodePort:0}"
    );
    assert_eq!(errs.len(), 10);

    let none = created(json!({"type": "Balancer"}));
    assert_eq!(
        strings(&ServiceStrategy.validate(&none)),
        vec![
            "spec.ports: Required value",
            "spec.type: Unsupported value: \"Balancer\": supported values: \"ClusterIP\", \"ExternalName\", \"LoadBalancer\", \"NodePort\"",
        ]
    );
    let np = created(
        json!({"type": "NodePort", "ports": [{"port": 80, "nodePort": 80}, {"name": "b", "port": 81, "nodePort": 80}],
        "externalIPs": ["127.0.0.1", "nope"], "clusterIP": "10.0.0.1", "clusterIPs": ["10.0.0.2"]}),
    );
    let errs = strings(&ServiceStrategy.validate(&np));
    assert_eq!(
        errs,
        vec![
            "spec.ports[0].name: Required value",
            "spec.clusterIPs: Invalid value: []string{\"10.0.0.2\"}: first value must match `clusterIP`",
            "spec.externalIPs[0]: Invalid value: \"127.0.0.1\": may not be in the loopback range (127.0.0.0/8, ::1/128)",
            "spec.externalIPs[1]: Invalid value: \"nope\": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)",
            "spec.ports[0].nodePort: Invalid value: 80: provided port is not in the valid range. The range of valid ports is 30000-32767",
            "spec.ports[1].nodePort: Invalid value: 80: provided port is not in the valid range. The range of valid ports is 30000-32767",
            "spec.ports[1].nodePort: Duplicate value: 80",
        ]
    );
}

#[test]
fn cluster_ip_is_kept_and_immutable() {
    let mut old = created(json!({"ports": [{"port": 80}], "type": "NodePort"}));
    // What the allocator does after PrepareForCreate.
    old.data["spec"]["clusterIP"] = json!("10.0.0.5");
    old.data["spec"]["clusterIPs"] = json!(["10.0.0.5"]);
    old.data["spec"]["ports"][0]["nodePort"] = json!(30100);
    assert!(
        ServiceStrategy.validate(&old).is_empty(),
        "{:?}",
        strings(&ServiceStrategy.validate(&old))
    );

    // An apply that leaves out allocated values keeps them.
    let mut same = svc("web", json!({"ports": [{"port": 80}], "type": "NodePort"}));
    ServiceStrategy.default(&mut same).unwrap();
    ServiceStrategy.prepare_for_update(&mut same, &old).unwrap();
    assert_eq!(same.data["spec"]["clusterIP"], "10.0.0.5");
    assert_eq!(same.data["spec"]["clusterIPs"], json!(["10.0.0.5"]));
    assert_eq!(same.data["spec"]["ports"][0]["nodePort"], 30100);
    assert!(
        ServiceStrategy.validate_update(&same, &old).is_empty(),
        "{:?}",
        strings(&ServiceStrategy.validate_update(&same, &old))
    );

    // Changing the singular field alone rewrites the plural one, then fails.
    let mut moved = svc(
        "web",
        json!({"ports": [{"port": 80}], "type": "NodePort", "clusterIP": "10.0.0.6", "clusterIPs": ["10.0.0.5"]}),
    );
    ServiceStrategy.default(&mut moved).unwrap();
    ServiceStrategy
        .prepare_for_update(&mut moved, &old)
        .unwrap();
    assert_eq!(moved.data["spec"]["clusterIPs"], json!(["10.0.0.6"]));
    assert_eq!(
        strings(&ServiceStrategy.validate_update(&moved, &old)),
        vec!["spec.clusterIPs[0]: Invalid value: []string{\"10.0.0.6\"}: may not change once set"]
    );
}

#[test]
fn type_change_drops_fields_of_the_old_type() {
    let mut old = created(json!({"ports": [{"port": 80}], "type": "NodePort"}));
    old.data["spec"]["clusterIP"] = json!("10.0.0.5");
    old.data["spec"]["clusterIPs"] = json!(["10.0.0.5"]);
    old.data["spec"]["ports"][0]["nodePort"] = json!(30100);
    // An apply that switches to ClusterIP keeps the merged-in nodePort and policy.
    let mut v = serde_json::to_value(&old).unwrap();
    v["spec"]["type"] = json!("ClusterIP");
    let mut new: DynamicObject = serde_json::from_value(v).unwrap();
    ServiceStrategy.default(&mut new).unwrap();
    ServiceStrategy.prepare_for_update(&mut new, &old).unwrap();
    assert!(new.data["spec"]["ports"][0].get("nodePort").is_none());
    assert!(new.data["spec"].get("externalTrafficPolicy").is_none());
    assert_eq!(new.data["spec"]["clusterIP"], "10.0.0.5");
    assert!(
        ServiceStrategy.validate_update(&new, &old).is_empty(),
        "{:?}",
        strings(&ServiceStrategy.validate_update(&new, &old))
    );
    // To ExternalName: the cluster IP and families go too.
    let mut v = serde_json::to_value(&old).unwrap();
    v["spec"]["type"] = json!("ExternalName");
    v["spec"]["externalName"] = json!("db.example.com");
    let mut ext: DynamicObject = serde_json::from_value(v).unwrap();
    ServiceStrategy.default(&mut ext).unwrap();
    ServiceStrategy.prepare_for_update(&mut ext, &old).unwrap();
    for gone in ["clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy"] {
        assert!(ext.data["spec"].get(gone).is_none(), "{gone}");
    }
    assert!(
        ServiceStrategy.validate_update(&ext, &old).is_empty(),
        "{:?}",
        strings(&ServiceStrategy.validate_update(&ext, &old))
    );
}
