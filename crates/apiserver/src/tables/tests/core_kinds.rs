//! Services, nodes, events, endpoints and the smaller kinds.

use k8s_openapi::api::autoscaling::{v1 as hpav1, v2 as hpav2};
use k8s_openapi::api::core::v1::{
    EndpointAddress, EndpointPort, EndpointSubset, Endpoints, Event, EventSource,
    LoadBalancerIngress, LoadBalancerStatus, Node, NodeAddress, NodeCondition, NodeSpec,
    NodeStatus, NodeSystemInfo, ObjectReference, PersistentVolumeClaim, PersistentVolumeClaimSpec,
    PersistentVolumeClaimStatus, Service, ServicePort, ServiceSpec, ServiceStatus,
};
use k8s_openapi::api::discovery::v1::{Endpoint, EndpointSlice};
use k8s_openapi::api::rbac::v1::{RoleBinding, RoleRef, Subject};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use serde_json::{json, Value};

use super::{ago, cells_of, headers, info, meta, now, strs};

fn service(type_: &str, ports: Vec<ServicePort>) -> Service {
    Service {
        metadata: meta("web"),
        spec: Some(ServiceSpec {
            type_: Some(type_.into()),
            cluster_ip: Some("10.96.0.10".into()),
            cluster_ips: Some(vec!["10.96.0.10".into()]),
            ports: Some(ports),
            selector: Some([("app".into(), "web".into())].into()),
            ..Default::default()
        }),
        status: None,
    }
}

fn port(port: i32, node_port: Option<i32>, protocol: &str) -> ServicePort {
    ServicePort {
        port,
        node_port,
        protocol: Some(protocol.into()),
        ..Default::default()
    }
}

#[test]
fn services() {
    assert_eq!(
        headers(info("", "v1", "services")),
        strs(&[
            ("NAME", 0),
            ("TYPE", 0),
            ("CLUSTER-IP", 0),
            ("EXTERNAL-IP", 0),
            ("PORT(S)", 0),
            ("AGE", 0),
            ("SELECTOR", 1)
        ])
    );
    let svc = service(
        "ClusterIP",
        vec![port(80, None, "TCP"), port(53, None, "UDP")],
    );
    assert_eq!(
        cells_of("", "v1", "services", &svc),
        vec![
            json!("web"),
            json!("ClusterIP"),
            json!("10.96.0.10"),
            json!("<none>"),
            json!("80/TCP,53/UDP"),
            json!("5m"),
            json!("app=web")
        ]
    );
    let node_port = service("NodePort", vec![port(80, Some(30080), "TCP")]);
    assert_eq!(
        cells_of("", "v1", "services", &node_port)[3..5],
        [json!("<none>"), json!("80:30080/TCP")]
    );
    let mut external = service("ClusterIP", vec![]);
    if let Some(spec) = external.spec.as_mut() {
        spec.external_ips = Some(vec!["1.2.3.4".into(), "5.6.7.8".into()]);
    }
    assert_eq!(
        cells_of("", "v1", "services", &external)[3..5],
        [json!("1.2.3.4,5.6.7.8"), json!("<none>")]
    );
    let pending = service("LoadBalancer", vec![port(443, Some(31443), "TCP")]);
    assert_eq!(
        cells_of("", "v1", "services", &pending)[3],
        json!("<pending>")
    );
    let mut provisioned = service("LoadBalancer", vec![]);
    provisioned.status = Some(ServiceStatus {
        load_balancer: Some(LoadBalancerStatus {
            ingress: Some(vec![
                LoadBalancerIngress {
                    ip: Some("203.0.113.9".into()),
                    ..Default::default()
                },
                LoadBalancerIngress {
                    hostname: Some("a-very-long-load-balancer.example.com".into()),
                    ..Default::default()
                },
            ]),
        }),
        ..Default::default()
    });
    // The server prints wide, so nothing is cut to 16 characters.
    assert_eq!(
        cells_of("", "v1", "services", &provisioned)[3],
        json!("203.0.113.9,a-very-long-load-balancer.example.com")
    );
    let mut headless = service("ClusterIP", vec![]);
    if let Some(spec) = headless.spec.as_mut() {
        spec.cluster_ips = Some(vec!["None".into()]);
        spec.selector = None;
    }
    let c = cells_of("", "v1", "services", &headless);
    assert_eq!(
        (&c[2], &c[4], &c[6]),
        (&json!("None"), &json!("<none>"), &json!("<none>"))
    );
    let mut external_name = service("ExternalName", vec![]);
    if let Some(spec) = external_name.spec.as_mut() {
        spec.external_name = Some("db.example.com".into());
        spec.cluster_ips = None;
    }
    assert_eq!(
        cells_of("", "v1", "services", &external_name)[2..4],
        [json!("<none>"), json!("db.example.com")]
    );
}

fn node(ready: Option<&str>, unschedulable: bool, labels: &[(&str, &str)]) -> Node {
    Node {
        metadata: ObjectMeta {
            namespace: None,
            labels: Some(
                labels
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            ),
            ..meta("node-1")
        },
        spec: Some(NodeSpec {
            unschedulable: Some(unschedulable),
            ..Default::default()
        }),
        status: Some(NodeStatus {
            conditions: ready.map(|status| {
                vec![
                    NodeCondition {
                        type_: "MemoryPressure".into(),
                        status: "False".into(),
                        ..Default::default()
                    },
                    NodeCondition {
                        type_: "Ready".into(),
                        status: status.into(),
                        ..Default::default()
                    },
                ]
            }),
            addresses: Some(vec![NodeAddress {
                type_: "InternalIP".into(),
                address: "192.168.1.10".into(),
            }]),
            node_info: Some(NodeSystemInfo {
                kubelet_version: "v1.33.0".into(),
                os_image: "Debian GNU/Linux 12 (bookworm)".into(),
                kernel_version: "6.1.0".into(),
                container_runtime_version: "containerd://1.6.20".into(),
                ..Default::default()
            }),
            ..Default::default()
        }),
    }
}

#[test]
fn nodes() {
    assert_eq!(
        headers(info("", "v1", "nodes")),
        strs(&[
            ("NAME", 0),
            ("STATUS", 0),
            ("ROLES", 0),
            ("AGE", 0),
            ("VERSION", 0),
            ("INTERNAL-IP", 1),
            ("EXTERNAL-IP", 1),
            ("OS-IMAGE", 1),
            ("KERNEL-VERSION", 1),
            ("CONTAINER-RUNTIME", 1),
        ])
    );
    let ready = node(
        Some("True"),
        false,
        &[
            ("node-role.kubernetes.io/control-plane", ""),
            ("kubernetes.io/role", "master"),
        ],
    );
    assert_eq!(
        cells_of("", "v1", "nodes", &ready),
        vec![
            json!("node-1"),
            json!("Ready"),
            json!("control-plane,master"),
            json!("5m"),
            json!("v1.33.0"),
            json!("192.168.1.10"),
            json!("<none>"),
            json!("Debian GNU/Linux 12 (bookworm)"),
            json!("6.1.0"),
            json!("containerd://1.6.20"),
        ]
    );
    let cordoned = node(Some("False"), true, &[]);
    assert_eq!(
        cells_of("", "v1", "nodes", &cordoned)[1..3],
        [json!("NotReady,SchedulingDisabled"), json!("<none>")]
    );
    let unknown = node(None, false, &[("node-role.kubernetes.io/", "")]);
    assert_eq!(
        cells_of("", "v1", "nodes", &unknown)[1..3],
        [json!("Unknown"), json!("<none>")]
    );
    let bare = Node {
        metadata: meta("bare"),
        ..Default::default()
    };
    assert_eq!(
        cells_of("", "v1", "nodes", &bare)[7..],
        [json!("<unknown>"), json!("<unknown>"), json!("<unknown>")]
    );
}

#[test]
fn core_events() {
    assert_eq!(
        headers(info("", "v1", "events")),
        strs(&[
            ("LAST SEEN", 0),
            ("TYPE", 0),
            ("REASON", 0),
            ("OBJECT", 0),
            ("SUBOBJECT", 1),
            ("SOURCE", 1),
            ("MESSAGE", 0),
            ("FIRST SEEN", 1),
            ("COUNT", 1),
            ("NAME", 1),
        ])
    );
    let event = Event {
        metadata: meta("web.17a"),
        involved_object: ObjectReference {
            kind: Some("Pod".into()),
            name: Some("web".into()),
            field_path: Some("spec.containers{nginx}".into()),
            ..Default::default()
        },
        reason: Some("Pulled".into()),
        message: Some("  Successfully pulled image \"nginx\"\n".into()),
        type_: Some("Normal".into()),
        source: Some(EventSource {
            component: Some("kubelet".into()),
            host: Some("node-1".into()),
        }),
        first_timestamp: Some(ago(600)),
        last_timestamp: Some(ago(60)),
        count: Some(4),
        ..Default::default()
    };
    assert_eq!(
        cells_of("", "v1", "events", &event),
        vec![
            json!("60s"),
            json!("Normal"),
            json!("Pulled"),
            json!("pod/web"),
            json!("spec.containers{nginx}"),
            json!("kubelet, node-1"),
            json!("Successfully pulled image \"nginx\""),
            json!("10m"),
            json!(4),
            json!("web.17a"),
        ]
    );
    // A new-style event: eventTime only, reporting controller, no count.
    let new_style = Event {
        metadata: meta("e2"),
        involved_object: ObjectReference {
            kind: Some("Node".into()),
            ..Default::default()
        },
        event_time: Some(MicroTime(now() - jiff::SignedDuration::from_secs(30))),
        reporting_component: Some("scheduler".into()),
        ..Default::default()
    };
    let c = cells_of("", "v1", "events", &new_style);
    assert_eq!(
        (&c[0], &c[3], &c[5], &c[7], &c[8]),
        (
            &json!("30s"),
            &json!("node"),
            &json!("scheduler"),
            &json!("30s"),
            &json!(1)
        )
    );
}

#[test]
fn events_k8s_io_events_print_like_core_ones() {
    let event = k8s_openapi::api::events::v1::Event {
        metadata: meta("e3"),
        event_time: Some(MicroTime(now() - jiff::SignedDuration::from_secs(400))),
        regarding: Some(ObjectReference {
            kind: Some("Deployment".into()),
            name: Some("web".into()),
            ..Default::default()
        }),
        note: Some("Scaled up".into()),
        reason: Some("ScalingReplicaSet".into()),
        reporting_controller: Some("deployment-controller".into()),
        type_: Some("Normal".into()),
        series: Some(k8s_openapi::api::events::v1::EventSeries {
            count: 7,
            last_observed_time: MicroTime(now() - jiff::SignedDuration::from_secs(20)),
        }),
        ..Default::default()
    };
    assert_eq!(
        cells_of("events.k8s.io", "v1", "events", &event),
        vec![
            json!("20s"),
            json!("Normal"),
            json!("ScalingReplicaSet"),
            json!("deployment/web"),
            json!(""),
            json!("deployment-controller"),
            json!("Scaled up"),
            json!("6m40s"),
            json!(7),
            json!("e3"),
        ]
    );
}

#[test]
fn endpoints_and_slices() {
    let ep = Endpoints {
        metadata: meta("web"),
        subsets: Some(vec![EndpointSubset {
            addresses: Some(
                ["10.0.0.1", "10.0.0.2", "fd00::3"]
                    .iter()
                    .map(|ip| EndpointAddress {
                        ip: ip.to_string(),
                        ..Default::default()
                    })
                    .collect(),
            ),
            ports: Some(vec![
                EndpointPort {
                    port: 80,
                    ..Default::default()
                },
                EndpointPort {
                    port: 443,
                    ..Default::default()
                },
            ]),
            ..Default::default()
        }]),
    };
    assert_eq!(
        cells_of("", "v1", "endpoints", &ep)[1],
        json!("10.0.0.1:80,10.0.0.2:80,[fd00::3]:80 + 3 more...")
    );
    assert_eq!(
        cells_of(
            "",
            "v1",
            "endpoints",
            &Endpoints {
                metadata: meta("none"),
                subsets: None
            }
        )[1],
        json!("<none>")
    );
    let slice = EndpointSlice {
        metadata: meta("web-abc"),
        address_type: "IPv4".into(),
        endpoints: vec![Endpoint {
            addresses: vec!["10.0.0.1".into()],
            ..Default::default()
        }],
        ports: Some(vec![k8s_openapi::api::discovery::v1::EndpointPort {
            port: Some(80),
            ..Default::default()
        }]),
    };
    assert_eq!(
        cells_of("discovery.k8s.io", "v1", "endpointslices", &slice),
        vec![
            json!("web-abc"),
            json!("IPv4"),
            json!("80"),
            json!("10.0.0.1"),
            json!("5m")
        ]
    );
    let empty = EndpointSlice {
        metadata: meta("e"),
        address_type: "IPv4".into(),
        ..Default::default()
    };
    assert_eq!(
        cells_of("discovery.k8s.io", "v1", "endpointslices", &empty)[2..4],
        [json!("<unset>"), json!("<unset>")]
    );
}

#[test]
fn claims_bindings_and_autoscalers() {
    let pvc = PersistentVolumeClaim {
        metadata: meta("data"),
        spec: Some(PersistentVolumeClaimSpec {
            volume_name: Some("pv-1".into()),
            storage_class_name: Some("standard".into()),
            ..Default::default()
        }),
        status: Some(PersistentVolumeClaimStatus {
            phase: Some("Bound".into()),
            capacity: Some([("storage".into(), Quantity("1Gi".into()))].into()),
            access_modes: Some(vec!["ReadWriteOnce".into()]),
            ..Default::default()
        }),
    };
    assert_eq!(
        cells_of("", "v1", "persistentvolumeclaims", &pvc),
        vec![
            json!("data"),
            json!("Bound"),
            json!("pv-1"),
            json!("1Gi"),
            json!("RWO"),
            json!("standard"),
            json!("<unset>"),
            json!("5m"),
            json!("<unset>")
        ]
    );
    let rb = RoleBinding {
        metadata: meta("read"),
        role_ref: RoleRef {
            api_group: "rbac.authorization.k8s.io".into(),
            kind: "Role".into(),
            name: "reader".into(),
        },
        subjects: Some(vec![
            Subject {
                kind: "User".into(),
                name: "alice".into(),
                ..Default::default()
            },
            Subject {
                kind: "Group".into(),
                name: "devs".into(),
                ..Default::default()
            },
            Subject {
                kind: "ServiceAccount".into(),
                name: "bot".into(),
                namespace: Some("ci".into()),
                ..Default::default()
            },
            Subject {
                kind: "User".into(),
                name: "bob".into(),
                ..Default::default()
            },
        ]),
    };
    assert_eq!(
        cells_of("rbac.authorization.k8s.io", "v1", "rolebindings", &rb),
        vec![
            json!("read"),
            json!("Role/reader"),
            json!("5m"),
            json!("alice, bob"),
            json!("devs"),
            json!("ci/bot")
        ]
    );
    let hpa = hpav1::HorizontalPodAutoscaler {
        metadata: meta("web"),
        spec: Some(hpav1::HorizontalPodAutoscalerSpec {
            max_replicas: 5,
            min_replicas: Some(1),
            scale_target_ref: hpav1::CrossVersionObjectReference {
                kind: "Deployment".into(),
                name: "web".into(),
                api_version: None,
            },
            target_cpu_utilization_percentage: Some(80),
        }),
        status: Some(hpav1::HorizontalPodAutoscalerStatus {
            current_replicas: 2,
            current_cpu_utilization_percentage: Some(40),
            ..Default::default()
        }),
    };
    let expected: Vec<Value> = vec![
        json!("web"),
        json!("Deployment/web"),
        json!("cpu: 40%/80%"),
        json!("1"),
        json!(5),
        json!(2),
        json!("5m"),
    ];
    assert_eq!(
        cells_of("autoscaling", "v1", "horizontalpodautoscalers", &hpa),
        expected
    );
    let v2 = hpav2::HorizontalPodAutoscaler {
        metadata: meta("web"),
        spec: Some(hpav2::HorizontalPodAutoscalerSpec {
            max_replicas: 5,
            scale_target_ref: hpav2::CrossVersionObjectReference {
                kind: "Deployment".into(),
                name: "web".into(),
                api_version: None,
            },
            metrics: Some(vec![hpav2::MetricSpec {
                type_: "Resource".into(),
                resource: Some(hpav2::ResourceMetricSource {
                    name: "memory".into(),
                    target: hpav2::MetricTarget {
                        type_: "AverageValue".into(),
                        average_value: Some(Quantity("1Gi".into())),
                        ..Default::default()
                    },
                }),
                ..Default::default()
            }]),
            ..Default::default()
        }),
        status: None,
    };
    assert_eq!(
        cells_of("autoscaling", "v2", "horizontalpodautoscalers", &v2)[2..4],
        [json!("memory: <unknown>/1Gi"), json!("<unset>")]
    );
}
