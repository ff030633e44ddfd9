use super::*;
use k8s_openapi::api::core::v1::{
    Container, ContainerPort, PodCondition, PodIP, PodSpec, PodStatus, ServicePort, ServiceSpec,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

fn service() -> Service {
    Service {
        metadata: ObjectMeta {
            name: Some("web".into()),
            namespace: Some("ns".into()),
            uid: Some("svc-uid".into()),
            labels: Some(BTreeMap::from([("team".into(), "a".into())])),
            ..Default::default()
        },
        spec: Some(ServiceSpec {
            selector: Some(BTreeMap::from([("app".into(), "web".into())])),
            ports: Some(vec![ServicePort {
                name: Some("http".into()),
                port: 80,
                target_port: Some(IntOrString::String("web".into())),
                protocol: Some("TCP".into()),
                ..Default::default()
            }]),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn pod(name: &str, ip: &str, ready: bool, port: i32) -> Pod {
    Pod {
        metadata: ObjectMeta {
            name: Some(name.into()),
            namespace: Some("ns".into()),
            uid: Some(format!("{name}-uid")),
            labels: Some(BTreeMap::from([("app".into(), "web".into())])),
            ..Default::default()
        },
        spec: Some(PodSpec {
            node_name: Some("node-a".into()),
            containers: vec![Container {
                name: "c".into(),
                ports: Some(vec![ContainerPort {
                    name: Some("web".into()),
                    container_port: port,
                    ..Default::default()
                }]),
                ..Default::default()
            }],
            ..Default::default()
        }),
        status: Some(PodStatus {
            phase: Some("Running".into()),
            pod_ip: Some(ip.into()),
            pod_ips: Some(vec![PodIP { ip: ip.into() }]),
            conditions: Some(vec![PodCondition {
                type_: "Ready".into(),
                status: if ready { "True" } else { "False" }.into(),
                ..Default::default()
            }]),
            ..Default::default()
        }),
    }
}

fn zones() -> HashMap<String, String> {
    HashMap::from([("node-a".to_string(), "zone-1".to_string())])
}

fn plan(svc: &Service, pods: &[Pod], existing: &[EndpointSlice], max: usize) -> Plan {
    let refs: Vec<&Pod> = pods.iter().collect();
    let z = zones();
    reconcile(
        svc,
        &Inputs {
            pods: &refs,
            zones: &z,
            existing,
            trigger_time: None,
            max_per_slice: max,
        },
    )
}

/// Gives created slices names, as the apiserver would.
fn created(plan: Plan) -> Vec<EndpointSlice> {
    plan.create
        .into_iter()
        .enumerate()
        .map(|(i, mut s)| {
            s.metadata.name = Some(format!("web-{i}"));
            s
        })
        .collect()
}

#[test]
fn one_slice_with_ready_and_not_ready_pods() {
    let svc = service();
    let p = plan(
        &svc,
        &[
            pod("a", "10.0.0.1", true, 8080),
            pod("b", "10.0.0.2", false, 8080),
        ],
        &[],
        100,
    );
    assert_eq!(p.create.len(), 1);
    let s = &p.create[0];
    assert_eq!(s.address_type, "IPv4");
    assert_eq!(s.metadata.generate_name.as_deref(), Some("web-"));
    let labels = s.metadata.labels.as_ref().unwrap();
    assert_eq!(labels[LABEL_SERVICE_NAME], "web");
    assert_eq!(labels[LABEL_MANAGED_BY], CONTROLLER_NAME);
    assert_eq!(labels["team"], "a");
    assert_eq!(
        s.metadata.owner_references.as_ref().unwrap()[0].uid,
        "svc-uid"
    );
    let ports = s.ports.as_ref().unwrap();
    assert_eq!(ports[0].port, Some(8080));
    assert_eq!(ports[0].name.as_deref(), Some("http"));
    let by_ip: HashMap<_, _> = s
        .endpoints
        .iter()
        .map(|e| (e.addresses[0].as_str(), e))
        .collect();
    let a = by_ip["10.0.0.1"];
    assert_eq!(a.conditions.as_ref().unwrap().ready, Some(true));
    assert_eq!(a.zone.as_deref(), Some("zone-1"));
    assert_eq!(a.node_name.as_deref(), Some("node-a"));
    assert_eq!(a.target_ref.as_ref().unwrap().name.as_deref(), Some("a"));
    let b = by_ip["10.0.0.2"].conditions.as_ref().unwrap();
    assert_eq!(
        (b.ready, b.serving, b.terminating),
        (Some(false), Some(false), Some(false))
    );
}

#[test]
fn terminating_ready_pod_is_serving_not_ready() {
    let svc = service();
    let mut p = pod("a", "10.0.0.1", true, 8080);
    p.metadata.deletion_timestamp = Some(Time(Timestamp::UNIX_EPOCH));
    let plan = plan(&svc, &[p], &[], 100);
    let c = plan.create[0].endpoints[0].conditions.clone().unwrap();
    assert_eq!(
        (c.ready, c.serving, c.terminating),
        (Some(false), Some(true), Some(true))
    );
}

#[test]
fn publish_not_ready_addresses_makes_every_endpoint_ready() {
    let mut svc = service();
    svc.spec.as_mut().unwrap().publish_not_ready_addresses = Some(true);
    let plan = plan(&svc, &[pod("a", "10.0.0.1", false, 8080)], &[], 100);
    let c = plan.create[0].endpoints[0].conditions.clone().unwrap();
    assert_eq!((c.ready, c.serving), (Some(true), Some(true)));
}

#[test]
fn pods_with_different_ports_get_different_slices_and_slices_are_capped() {
    let svc = service();
    let mut pods: Vec<Pod> = (0..5)
        .map(|i| pod(&format!("a{i}"), &format!("10.0.0.{i}"), true, 8080))
        .collect();
    pods.push(pod("b", "10.0.1.1", true, 9090));
    let p = plan(&svc, &pods, &[], 2);
    // 5 pods on 8080 -> 3 slices of at most 2; 1 pod on 9090 -> 1 slice.
    assert_eq!(p.create.len(), 4);
    assert!(p.create.iter().all(|s| s.endpoints.len() <= 2));
    let total: usize = p.create.iter().map(|s| s.endpoints.len()).sum();
    assert_eq!(total, 6);
}

#[test]
fn steady_state_writes_nothing() {
    let svc = service();
    let pods = [
        pod("a", "10.0.0.1", true, 8080),
        pod("b", "10.0.0.2", true, 8080),
    ];
    let existing = created(plan(&svc, &pods, &[], 100));
    let again = plan(&svc, &pods, &existing, 100);
    assert_eq!(again, Plan::default());
}

#[test]
fn a_readiness_change_updates_the_existing_slice_in_place() {
    let svc = service();
    let pods = [
        pod("a", "10.0.0.1", true, 8080),
        pod("b", "10.0.0.2", true, 8080),
    ];
    let existing = created(plan(&svc, &pods, &[], 100));
    let changed = [
        pod("a", "10.0.0.1", true, 8080),
        pod("b", "10.0.0.2", false, 8080),
    ];
    let p = plan(&svc, &changed, &existing, 100);
    assert!(p.create.is_empty() && p.delete.is_empty());
    assert_eq!(p.update.len(), 1);
    assert_eq!(p.update[0].metadata.name.as_deref(), Some("web-0"));
}

#[test]
fn a_new_pod_goes_into_an_existing_slice_with_room() {
    let svc = service();
    let existing = created(plan(&svc, &[pod("a", "10.0.0.1", true, 8080)], &[], 100));
    let p = plan(
        &svc,
        &[
            pod("a", "10.0.0.1", true, 8080),
            pod("b", "10.0.0.2", true, 8080),
        ],
        &existing,
        100,
    );
    assert!(p.create.is_empty());
    assert_eq!(p.update.len(), 1);
    assert_eq!(p.update[0].endpoints.len(), 2);
}

#[test]
fn no_pods_leave_one_placeholder_and_empty_slices_are_deleted() {
    let svc = service();
    let p = plan(&svc, &[], &[], 100);
    assert_eq!(p.create.len(), 1);
    assert!(p.create[0].endpoints.is_empty());
    let placeholder = created(p);
    assert_eq!(plan(&svc, &[], &placeholder, 100), Plan::default());

    let existing = created(plan(&svc, &[pod("a", "10.0.0.1", true, 8080)], &[], 100));
    let p = plan(&svc, &[], &existing, 100);
    assert_eq!(p.delete.len(), 1);
    assert_eq!(p.create.len(), 1, "a placeholder replaces it");
}

#[test]
fn pods_without_ip_or_terminal_are_left_out() {
    let svc = service();
    let mut no_ip = pod("a", "10.0.0.1", true, 8080);
    no_ip.status.as_mut().unwrap().pod_ip = None;
    no_ip.status.as_mut().unwrap().pod_ips = None;
    let mut done = pod("b", "10.0.0.2", true, 8080);
    done.status.as_mut().unwrap().phase = Some("Succeeded".into());
    let p = plan(
        &svc,
        &[no_ip, done, pod("c", "10.0.0.3", true, 8080)],
        &[],
        100,
    );
    assert_eq!(p.create.len(), 1);
    assert_eq!(p.create[0].endpoints.len(), 1);
    assert_eq!(
        p.create[0].endpoints[0].addresses,
        vec!["10.0.0.3".to_string()]
    );
}

#[test]
fn ipv6_pods_get_an_ipv6_slice_and_hostname_is_set_for_the_subdomain() {
    let mut svc = service();
    svc.spec.as_mut().unwrap().cluster_ip = Some("None".into());
    let mut p = pod("a", "10.0.0.1", true, 8080);
    p.status.as_mut().unwrap().pod_ips = Some(vec![
        PodIP {
            ip: "10.0.0.1".into(),
        },
        PodIP {
            ip: "fd00::1".into(),
        },
    ]);
    let spec = p.spec.as_mut().unwrap();
    spec.hostname = Some("a".into());
    spec.subdomain = Some("web".into());
    let plan = plan(&svc, &[p], &[], 100);
    let types: BTreeSet<_> = plan
        .create
        .iter()
        .map(|s| s.address_type.as_str())
        .collect();
    assert_eq!(types, BTreeSet::from(["IPv4", "IPv6"]));
    assert!(plan
        .create
        .iter()
        .all(|s| s.endpoints[0].hostname.as_deref() == Some("a")));
    assert!(plan.create[0]
        .metadata
        .labels
        .as_ref()
        .unwrap()
        .contains_key(LABEL_HEADLESS));
}

#[test]
fn trigger_time_annotation_is_set_on_written_slices() {
    let svc = service();
    let pods = [pod("a", "10.0.0.1", true, 8080)];
    let refs: Vec<&Pod> = pods.iter().collect();
    let z = zones();
    let t: Timestamp = "2026-01-02T03:04:05Z".parse().unwrap();
    let p = reconcile(
        &svc,
        &Inputs {
            pods: &refs,
            zones: &z,
            existing: &[],
            trigger_time: Some(t),
            max_per_slice: 100,
        },
    );
    assert_eq!(
        p.create[0].metadata.annotations.as_ref().unwrap()[ANNOTATION_TRIGGER_TIME],
        "2026-01-02T03:04:05Z"
    );
}
