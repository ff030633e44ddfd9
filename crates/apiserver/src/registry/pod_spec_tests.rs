//! PodSpec defaulting, validation and QoS, as shared by pods and pod templates.

use super::*;
use serde_json::json;

fn spec(v: serde_json::Value) -> PodSpec {
    serde_json::from_value(v).unwrap()
}

fn defaulted(v: serde_json::Value) -> PodSpec {
    let mut s = spec(v);
    default_pod_spec(&mut s);
    s
}

fn strings(errs: &[FieldError]) -> Vec<String> {
    errs.iter().map(|e| e.to_string()).collect()
}

#[test]
fn pull_policy_defaults() {
    for (image, want) in [
        ("nginx", "Always"),
        ("nginx:latest", "Always"),
        ("nginx:1.25", "IfNotPresent"),
        ("localhost:5000/nginx", "Always"),
        ("localhost:5000/nginx:v1", "IfNotPresent"),
        ("nginx@sha256:abcd", "IfNotPresent"),
        ("nginx:latest@sha256:abcd", "Always"),
        ("Registry.Example.com/team/app", "Always"),
        ("team/App", "IfNotPresent"),
        ("", "IfNotPresent"),
    ] {
        assert_eq!(default_pull_policy(image), want, "{image}");
    }
}

#[test]
fn defaults_on_a_minimal_spec() {
    let s = defaulted(json!({
        "containers": [{
            "name": "c", "image": "busybox",
            "ports": [{"containerPort": 80}],
            "livenessProbe": {"httpGet": {"port": 80}},
            "readinessProbe": {"grpc": {"port": 9000}, "periodSeconds": 5},
            "env": [{"name": "N", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}]
        }],
        "volumes": [{"name": "a"}, {"name": "b", "configMap": {"name": "cm"}}, {"name": "c", "secret": {"secretName": "s"}},
                    {"name": "d", "hostPath": {"path": "/x"}},
                    {"name": "e", "projected": {"sources": [{"serviceAccountToken": {"path": "token"}}]}}],
        "serviceAccount": "legacy"
    }));
    assert_eq!(opt(&s.restart_policy), "Always");
    assert_eq!(opt(&s.dns_policy), "ClusterFirst");
    assert_eq!(opt(&s.scheduler_name), "default-scheduler");
    assert_eq!(s.termination_grace_period_seconds, Some(30));
    assert_eq!(s.security_context, Some(PodSecurityContext::default()));
    assert_eq!(opt(&s.service_account_name), "legacy");
    assert_eq!(opt(&s.service_account), "legacy");
    // enableServiceLinks and priority are pod-only defaults.
    assert_eq!(s.enable_service_links, None);
    let c = &s.containers[0];
    assert_eq!(opt(&c.image_pull_policy), "Always");
    assert_eq!(opt(&c.termination_message_path), "/dev/termination-log");
    assert_eq!(opt(&c.termination_message_policy), "File");
    assert_eq!(c.resources, Some(ResourceRequirements::default()));
    assert_eq!(opt(&c.ports.as_ref().unwrap()[0].protocol), "TCP");
    let live = c.liveness_probe.as_ref().unwrap();
    assert_eq!(
        (
            live.timeout_seconds,
            live.period_seconds,
            live.success_threshold,
            live.failure_threshold
        ),
        (Some(1), Some(10), Some(1), Some(3))
    );
    let get = live.http_get.as_ref().unwrap();
    assert_eq!((opt(&get.path), opt(&get.scheme)), ("/", "HTTP"));
    let ready = c.readiness_probe.as_ref().unwrap();
    assert_eq!(ready.period_seconds, Some(5));
    assert_eq!(ready.grpc.as_ref().unwrap().service.as_deref(), Some(""));
    let field_ref = c.env.as_ref().unwrap()[0]
        .value_from
        .as_ref()
        .unwrap()
        .field_ref
        .as_ref()
        .unwrap();
    assert_eq!(opt(&field_ref.api_version), "v1");
    let vols = s.volumes.as_ref().unwrap();
    assert!(vols[0].empty_dir.is_some());
    assert_eq!(vols[1].config_map.as_ref().unwrap().default_mode, Some(420));
    assert_eq!(vols[2].secret.as_ref().unwrap().default_mode, Some(420));
    assert_eq!(
        vols[3].host_path.as_ref().unwrap().type_.as_deref(),
        Some("")
    );
    let proj = vols[4].projected.as_ref().unwrap();
    assert_eq!(proj.default_mode, Some(420));
    assert_eq!(
        proj.sources.as_ref().unwrap()[0]
            .service_account_token
            .as_ref()
            .unwrap()
            .expiration_seconds,
        Some(3600)
    );
    assert!(
        validate_pod_spec(&s, "spec").is_empty(),
        "{:?}",
        strings(&validate_pod_spec(&s, "spec"))
    );
}

#[test]
fn containers_are_required() {
    let s = defaulted(json!({}));
    assert_eq!(
        strings(&validate_pod_spec(&s, "spec")),
        vec!["spec.containers: Required value"]
    );
}

#[test]
fn container_errors() {
    let s = defaulted(json!({
        "containers": [
            {"name": "Bad_Name", "image": "x", "ports": [
                {"containerPort": 0}, {"containerPort": 70000, "protocol": "ICMP", "name": "http"},
                {"containerPort": 80, "name": "http"}, {"containerPort": 81, "name": "NOPE"},
                {"containerPort": 82, "hostPort": 8080}, {"containerPort": 83, "hostPort": 8080}
            ]},
            {"name": "Bad_Name", "imagePullPolicy": "Sometimes", "terminationMessagePolicy": "Maybe",
             "env": [{"name": ""}, {"name": "A=B"}, {"name": "ok", "value": "x", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}},
                     {"name": "F", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels"}}}],
             "envFrom": [{}]}
        ],
        "restartPolicy": "Sometimes",
        "dnsPolicy": "Weird"
    }));
    let errs = strings(&validate_pod_spec(&s, "spec"));
    let want = [
        "spec.containers[0].name: Invalid value: \"Bad_Name\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
        "spec.containers[0].ports[0].containerPort: Required value",
        "spec.containers[0].ports[1].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive",
        "spec.containers[0].ports[1].protocol: Unsupported value: \"ICMP\": supported values: \"SCTP\", \"TCP\", \"UDP\"",
        "spec.containers[0].ports[2].name: Duplicate value: \"http\"",
        "spec.containers[0].ports[3].name: Invalid value: \"NOPE\": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)",
        "spec.containers[0].ports[3].name: Invalid value: \"NOPE\": must contain at least one letter (a-z)",
        "spec.containers[1].name: Invalid value: \"Bad_Name\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
        "spec.containers[1].image: Required value",
        "spec.containers[1].terminationMessagePolicy: Unsupported value: \"Maybe\": supported values: \"File\", \"FallbackToLogsOnError\"",
        "spec.containers[1].env[0].name: Required value",
        "spec.containers[1].env[1].name: Invalid value: \"A=B\": a valid environment variable name must consist only of printable ASCII characters other than '='",
        "spec.containers[1].env[2].valueFrom: Invalid value: \"\": may not be specified when `value` is not empty",
        "spec.containers[1].env[3].valueFrom.fieldRef.fieldPath: Unsupported value: \"metadata.labels\": supported values: \"metadata.name\", \"metadata.namespace\", \"metadata.uid\", \"spec.nodeName\", \"spec.serviceAccountName\", \"status.hostIP\", \"status.hostIPs\", \"status.podIP\", \"status.podIPs\"",
        "spec.containers[1].envFrom: Invalid value: \"\": must specify one of: `configMapRef` or `secretRef`",
        "spec.containers[1].imagePullPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", \"IfNotPresent\", \"Never\"",
        "spec.containers[1].name: Duplicate value: \"Bad_Name\"",
        "spec.containers[0].ports[5].hostPort: Duplicate value: \"TCP//8080\"",
        "spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", \"OnFailure\", \"Never\"",
        "spec.dnsPolicy: Unsupported value: \"Weird\": supported values: \"ClusterFirstWithHostNet\", \"ClusterFirst\", \"Default\", \"None\"",
    ];
    assert_eq!(errs, want);
    // The strict (pre-1.32) env var rule is still available.
    assert_eq!(super::super::containers::is_env_var_name("1ABC").len(), 1);
    assert!(super::super::containers::is_env_var_name("MY_ENV.NAME").is_empty());
}

#[test]
fn volume_and_mount_errors() {
    let s = defaulted(json!({
        "containers": [{"name": "c", "image": "x", "volumeMounts": [
            {"name": "data", "mountPath": "/d"}, {"name": "missing", "mountPath": "/d"},
            {"name": "cfg", "mountPath": "/c", "subPath": "../up"}
        ]}],
        "volumes": [
            {"name": "data", "emptyDir": {}},
            {"name": "data", "emptyDir": {}},
            {"name": "Bad", "emptyDir": {}},
            {"name": "two", "emptyDir": {}, "hostPath": {"path": "/x"}},
            {"name": "cfg", "configMap": {"name": "", "defaultMode": 1000, "items": [{"key": "", "path": "/abs"}]}},
            {"name": "sec", "secret": {}},
            {"name": "pvc", "persistentVolumeClaim": {"claimName": ""}}
        ]
    }));
    let errs = strings(&validate_pod_spec(&s, "spec"));
    let want = [
        "spec.volumes[1].name: Duplicate value: \"data\"",
        "spec.volumes[2].name: Invalid value: \"Bad\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
        "spec.volumes[3].hostPath: Forbidden: may not specify more than 1 volume type",
        "spec.volumes[4].configMap.name: Required value",
        "spec.volumes[4].configMap.defaultMode: Invalid value: 1000: must be a number between 0 and 0777 (octal), both inclusive",
        "spec.volumes[4].configMap.items[0].key: Required value",
        "spec.volumes[4].configMap.items[0].path: Invalid value: \"/abs\": must be a relative path",
        "spec.volumes[5].secret.secretName: Required value",
        "spec.volumes[6].persistentVolumeClaim.claimName: Required value",
        "spec.containers[0].volumeMounts[1].name: Not found: \"missing\"",
        "spec.containers[0].volumeMounts[1].mountPath: Invalid value: \"/d\": must be unique",
        "spec.containers[0].volumeMounts[2].name: Not found: \"cfg\"",
        "spec.containers[0].volumeMounts.subPath: Invalid value: \"../up\": must not contain '..'",
    ];
    assert_eq!(errs, want);
}

#[test]
fn resources_probes_and_spec_fields() {
    let s = defaulted(json!({
        "containers": [{"name": "c", "image": "x",
            "resources": {"requests": {"cpu": "2", "memory": "1Gi", "example.com/gpu": "500m", "pods": "1"},
                          "limits": {"cpu": "1", "memory": "nope", "hugepages-2Mi": "-2Mi"}},
            "livenessProbe": {"exec": {}, "tcpSocket": {"port": "http"}, "successThreshold": 2},
            "lifecycle": {"preStop": {"sleep": {"seconds": 60}}}}],
        "initContainers": [{"name": "c", "image": "x", "readinessProbe": {"exec": {"command": ["true"]}}}],
        "activeDeadlineSeconds": 0,
        "hostname": "Host",
        "tolerations": [{"operator": "Equal", "value": "v"}, {"key": "k", "operator": "Exists", "value": "v", "tolerationSeconds": 5}],
        "nodeSelector": {"disk": "-ssd"},
        "dnsPolicy": "None"
    }));
    let errs = strings(&validate_pod_spec(&s, "spec"));
    let want = [
        "spec.containers[0].resources.limits[hugepages-2Mi]: Invalid value: \"-2Mi\": must be greater than or equal to 0",
        "spec.containers[0].resources.limits[memory]: Invalid value: \"nope\": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
        "spec.containers[0].resources.requests: Invalid value: \"2\": must be less than or equal to cpu limit of 1",
        "spec.containers[0].resources.requests[example.com/gpu]: Invalid value: \"500m\": must be an integer",
        "spec.containers[0].resources.limits: Required value: Limit must be set for non overcommitable resources",
        "spec.containers[0].resources.requests[pods]: Invalid value: \"pods\": must be a standard resource for containers",
        "spec.containers[0].lifecycle.preStop.sleep: Invalid value: 60: must be non-negative and less than terminationGracePeriodSeconds (30)",
        "spec.containers[0].livenessProbe.exec.command: Required value",
        "spec.containers[0].livenessProbe.tcpSocket: Forbidden: may not specify more than 1 handler type",
        "spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1",
        "spec.initContainers[0].name: Duplicate value: \"c\"",
        "spec.initContainers[0].readinessProbe: Forbidden: may not be set for init containers",
        "spec.dnsConfig: Required value: must provide `dnsConfig` when `dnsPolicy` is None",
        "spec.activeDeadlineSeconds: Invalid value: 0: must be between 1 and 2147483647, inclusive",
        "spec.hostname: Invalid value: \"Host\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
        "spec.tolerations[0].operator: Invalid value: \"Equal\": operator must be Exists when `key` is empty, which means \"match all values and all keys\"",
        "spec.tolerations[1].effect: Invalid value: \"\": effect must be 'NoExecute' when `tolerationSeconds` is set",
        "spec.tolerations[1].operator: Invalid value: \"v\": value must be empty when `operator` is 'Exists'",
    ];
    let node_selector_err = errs
        .iter()
        .position(|e| e.starts_with("spec.nodeSelector: Invalid value: \"-ssd\""))
        .unwrap();
    let mut rest = errs.clone();
    rest.remove(node_selector_err);
    assert_eq!(rest, want);
}

#[test]
fn template_checks() {
    let mut t: PodTemplateSpec = serde_json::from_value(json!({
        "metadata": {"labels": {"app": "-x"}},
        "spec": {"containers": [{"name": "c", "image": "x"}], "ephemeralContainers": [{"name": "e", "image": "x"}]}
    }))
    .unwrap();
    default_pod_template(&mut t);
    let errs = strings(&validate_pod_template_spec(&t, "spec.template"));
    assert!(errs[0].starts_with("spec.template.labels: Invalid value: \"-x\""));
    assert_eq!(errs[1], "spec.template.spec.ephemeralContainers: Forbidden: ephemeral containers not allowed in pod template");
    assert_eq!(errs.len(), 2);
}

#[test]
fn qos_classes() {
    let qos = |c: serde_json::Value| compute_qos(&spec(json!({"containers": c})));
    assert_eq!(qos(json!([{"name": "a"}])), "BestEffort");
    assert_eq!(
        qos(json!([{"name": "a", "resources": {"requests": {"cpu": "0"}}}])),
        "BestEffort"
    );
    assert_eq!(
        qos(json!([{"name": "a", "resources": {"requests": {"cpu": "100m"}}}])),
        "Burstable"
    );
    let both = json!({"cpu": "1", "memory": "1Gi"});
    assert_eq!(
        qos(
            json!([{"name": "a", "resources": {"requests": both, "limits": {"cpu": "1000m", "memory": "1024Mi"}}}])
        ),
        "Guaranteed"
    );
    assert_eq!(
        qos(
            json!([{"name": "a", "resources": {"requests": both, "limits": both}}, {"name": "b", "resources": {"limits": {"cpu": "1"}}}])
        ),
        "Burstable"
    );
    // Only cpu and memory count.
    assert_eq!(
        qos(json!([{"name": "a", "resources": {"requests": {"example.com/gpu": "1"}}}])),
        "BestEffort"
    );
}
