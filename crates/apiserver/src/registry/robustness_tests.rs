//! Every strategy on randomly damaged objects: field errors or 400s, never panics.

use super::super::Strategy;
use super::super::{
    configmaps, deployments, metadata, namespaces, pods, replicasets, secrets, services,
};
use api_types::DynamicObject;
use serde_json::{json, Value};

struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

fn weird(r: &mut Lcg) -> Value {
    match r.next() % 14 {
        0 => Value::Null,
        1 => json!(-1),
        2 => json!(0),
        3 => json!(""),
        4 => json!("None"),
        5 => json!(i64::MAX),
        6 => json!([]),
        7 => json!({}),
        8 => json!("-1e999999999Ki"),
        9 => json!("10.0.0.1"),
        10 => json!("ü/..//"),
        11 => json!(true),
        12 => json!("99999999999999999999999999999999999999999999999999E"),
        _ => json!(65536),
    }
}

fn mutate(v: &mut Value, r: &mut Lcg, depth: usize) {
    match v {
        Value::Object(m) => {
            let keys: Vec<String> = m.keys().cloned().collect();
            for k in keys {
                if k == "apiVersion" || k == "kind" {
                    continue;
                }
                if r.next().is_multiple_of(6) {
                    m.insert(k.clone(), weird(r));
                } else if let Some(x) = m.get_mut(&k) {
                    if depth < 12 {
                        mutate(x, r, depth + 1)
                    }
                }
            }
        }
        Value::Array(a) => {
            for x in a.iter_mut() {
                mutate(x, r, depth + 1)
            }
            if r.next().is_multiple_of(5) {
                a.push(weird(r))
            }
        }
        _ => {
            if r.next().is_multiple_of(4) {
                *v = weird(r)
            }
        }
    }
}

/// Mutated copies of realistic objects through every hook, both update directions.
#[test]
fn strategies_never_panic() {
    let samples: Vec<(Box<dyn Strategy>, Value)> = vec![
        (
            Box::new(pods::PodStrategy),
            json!({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","namespace":"d","labels":{"a":"b"},"ownerReferences":[{"apiVersion":"v1","kind":"X","name":"n","uid":"u"}]},
          "spec":{"hostNetwork":true,"containers":[{"name":"c","image":"x","ports":[{"containerPort":80,"hostPort":1}],"env":[{"name":"a","valueFrom":{"fieldRef":{"fieldPath":"metadata.name"},"resourceFieldRef":{"resource":"limits.cpu"}}}],
          "resources":{"limits":{"cpu":"1","memory":"1Gi"},"requests":{"cpu":"1"}},"livenessProbe":{"httpGet":{"port":80},"grpc":{"port":1}},"lifecycle":{"preStop":{"sleep":{"seconds":1}}},"volumeMounts":[{"name":"v","mountPath":"/x","subPath":"a"}],"volumeDevices":[{"name":"v","devicePath":"/d"}]}],
          "initContainers":[{"name":"i","image":"x","restartPolicy":"Always"}],
          "volumes":[{"name":"v","projected":{"sources":[{"serviceAccountToken":{"path":"t"},"downwardAPI":{"items":[{"path":"p","fieldRef":{"fieldPath":"metadata.labels"}}]}}]}},{"name":"w","downwardAPI":{"items":[{"path":"q"}]}}],
          "tolerations":[{"key":"k","operator":"Exists"}],"dnsConfig":{"nameservers":["x"]},"hostAliases":[{"ip":"1.2.3.4","hostnames":["a"]}],"schedulingGates":[{"name":"g"}]}}),
        ),
        (
            Box::new(services::ServiceStrategy),
            json!({"apiVersion":"v1","kind":"Service","metadata":{"name":"s","namespace":"d"},"spec":{"type":"LoadBalancer","clusterIP":"10.0.0.1","clusterIPs":["10.0.0.1","fd00::1"],"ipFamilies":["IPv4","IPv6"],"ports":[{"port":80,"nodePort":30000,"targetPort":"http"}],"externalTrafficPolicy":"Local","healthCheckNodePort":30001,"sessionAffinity":"ClientIP","sessionAffinityConfig":{"clientIP":{"timeoutSeconds":5}},"externalIPs":["1.1.1.1"]}}),
        ),
        (
            Box::new(deployments::DeploymentStrategy),
            json!({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d","namespace":"d"},"spec":{"selector":{"matchLabels":{"a":"b"},"matchExpressions":[{"key":"k","operator":"In","values":["v"]}]},"strategy":{"rollingUpdate":{"maxSurge":1,"maxUnavailable":"10%"}},"template":{"metadata":{"labels":{"a":"b","k":"v"}},"spec":{"containers":[{"name":"c","image":"x"}]}}}}),
        ),
        (
            Box::new(replicasets::ReplicaSetStrategy),
            json!({"apiVersion":"apps/v1","kind":"ReplicaSet","metadata":{"name":"d","namespace":"d"},"spec":{"selector":{"matchLabels":{"a":"b"}},"template":{"metadata":{"labels":{"a":"b"}},"spec":{"containers":[{"name":"c","image":"x"}]}}}}),
        ),
        (
            Box::new(replicasets::ReplicationControllerStrategy),
            json!({"apiVersion":"v1","kind":"ReplicationController","metadata":{"name":"d","namespace":"d"},"spec":{"selector":{"a":"b"},"template":{"metadata":{"labels":{"a":"b"}},"spec":{"containers":[{"name":"c","image":"x"}]}}}}),
        ),
        (
            Box::new(configmaps::ConfigMapStrategy),
            json!({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c","namespace":"d"},"data":{"a":"b"},"binaryData":{"c":"eA=="},"immutable":true}),
        ),
        (
            Box::new(secrets::SecretStrategy),
            json!({"apiVersion":"v1","kind":"Secret","metadata":{"name":"c","namespace":"d"},"type":"kubernetes.io/dockercfg","data":{".dockercfg":"eA=="},"stringData":{"x":"y"}}),
        ),
        (
            Box::new(namespaces::NamespaceStrategy),
            json!({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"n"},"spec":{"finalizers":["kubernetes"]}}),
        ),
        (
            Box::new(metadata::MetadataOnlyStrategy::new(true)),
            json!({"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"n","namespace":"d","finalizers":["orphan"]}}),
        ),
    ];
    let mut r = Lcg(42);
    let mut ok = 0;
    for _ in 0..150 {
        for (s, base) in &samples {
            let mut v = base.clone();
            mutate(&mut v, &mut r, 0);
            let Ok(mut o) = serde_json::from_value::<DynamicObject>(v) else {
                continue;
            };
            let old: DynamicObject = serde_json::from_value(base.clone()).unwrap();
            let mut old_d = old.clone();
            let _ = s.default(&mut old_d);
            let _ = s.validate(&o);
            if s.default(&mut o).is_ok() {
                ok += 1;
            }
            let _ = s.prepare_for_create(&mut o.clone());
            let _ = s.validate(&o);
            let _ = s.prepare_for_update(&mut o, &old_d);
            let _ = s.validate_update(&o, &old_d);
            let _ = s.validate_update(&old_d, &o);
            for e in s.validate(&o) {
                let _ = e.to_string();
            }
        }
    }
    assert!(ok > 50, "{ok}");
}
