//! What the endpoint controllers need to know about a pod (upstream
//! pkg/controller/util/endpoint and podutil): readiness, IPs, ports, hostname.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{ObjectReference, Pod, Service, ServicePort};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use k8s_openapi::jiff::Timestamp;

/// podutil.IsPodReady: the Ready condition is True.
pub fn is_pod_ready(pod: &Pod) -> bool {
    pod.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

pub fn is_terminating(pod: &Pod) -> bool {
    pod.metadata.deletion_timestamp.is_some()
}

fn phase(pod: &Pod) -> &str {
    pod.status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("")
}

/// endpointutil.ShouldPodBeInEndpoints: a pod with an IP that is not terminal; a
/// terminating pod only when `include_terminating`.
pub fn should_pod_be_in_endpoints(pod: &Pod, include_terminating: bool) -> bool {
    if matches!(phase(pod), "Failed" | "Succeeded") {
        return false;
    }
    if pod_ips(pod).is_empty() {
        return false;
    }
    include_terminating || !is_terminating(pod)
}

/// status.podIPs, or status.podIP when podIPs is empty.
pub fn pod_ips(pod: &Pod) -> Vec<String> {
    let Some(status) = &pod.status else {
        return Vec::new();
    };
    let mut ips: Vec<String> = status
        .pod_ips
        .iter()
        .flatten()
        .map(|p| p.ip.clone())
        .filter(|ip| !ip.is_empty())
        .collect();
    if ips.is_empty() {
        if let Some(ip) = status.pod_ip.as_ref().filter(|ip| !ip.is_empty()) {
            ips.push(ip.clone());
        }
    }
    ips
}

/// The pod's IP of the given address type ("IPv4" / "IPv6").
pub fn pod_ip_for(pod: &Pod, address_type: &str) -> Option<String> {
    pod_ips(pod)
        .into_iter()
        .find(|ip| address_type_of(ip) == Some(address_type))
}

/// "IPv4" or "IPv6" for a textual IP, None when it is not an IP.
pub fn address_type_of(ip: &str) -> Option<&'static str> {
    match ip.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(_)) => Some("IPv4"),
        Ok(std::net::IpAddr::V6(_)) => Some("IPv6"),
        Err(_) => None,
    }
}

/// podutil.FindPort: the container port a Service port's targetPort names (or the
/// number itself; an unset targetPort means the Service port).
pub fn find_port(pod: &Pod, port: &ServicePort) -> Option<i32> {
    let protocol = port.protocol.as_deref().unwrap_or("TCP");
    match &port.target_port {
        None => Some(port.port),
        Some(IntOrString::Int(n)) => Some(*n),
        Some(IntOrString::String(name)) => {
            if let Ok(n) = name.parse::<i32>() {
                return Some(n);
            }
            pod.spec.as_ref()?.containers.iter().find_map(|c| {
                c.ports.iter().flatten().find_map(|p| {
                    let p_proto = p.protocol.as_deref().unwrap_or("TCP");
                    (p.name.as_deref() == Some(name.as_str()) && p_proto == protocol)
                        .then_some(p.container_port)
                })
            })
        }
    }
}

/// endpointutil.ShouldSetHostname: the pod names a hostname and the Service as its
/// subdomain.
pub fn should_set_hostname(pod: &Pod, service: &Service) -> bool {
    let Some(spec) = &pod.spec else {
        return false;
    };
    spec.hostname.as_deref().is_some_and(|h| !h.is_empty())
        && spec.subdomain.as_deref() == service.metadata.name.as_deref()
        && pod.metadata.namespace == service.metadata.namespace
}

pub fn pod_reference(pod: &Pod) -> ObjectReference {
    ObjectReference {
        kind: Some("Pod".to_string()),
        namespace: pod.metadata.namespace.clone(),
        name: pod.metadata.name.clone(),
        uid: pod.metadata.uid.clone(),
        ..Default::default()
    }
}

/// Whether a Service's selector (a plain equality map) selects `labels`. A missing or
/// empty selector selects nothing here: such Services are not managed by the endpoint
/// controllers.
pub fn selector_matches(
    selector: &BTreeMap<String, String>,
    labels: Option<&BTreeMap<String, String>>,
) -> bool {
    !selector.is_empty()
        && selector
            .iter()
            .all(|(k, v)| labels.and_then(|l| l.get(k)) == Some(v))
}

/// The Service's selector when it has one.
pub fn service_selector(service: &Service) -> Option<&BTreeMap<String, String>> {
    service
        .spec
        .as_ref()
        .and_then(|s| s.selector.as_ref())
        .filter(|s| !s.is_empty())
}

/// The pods a Service selects, from a list of pods in any namespace.
pub fn selected_pods<'a>(service: &Service, pods: &'a [std::sync::Arc<Pod>]) -> Vec<&'a Pod> {
    let Some(selector) = service_selector(service) else {
        return Vec::new();
    };
    pods.iter()
        .map(|p| p.as_ref())
        .filter(|p| p.metadata.namespace == service.metadata.namespace)
        .filter(|p| selector_matches(selector, p.metadata.labels.as_ref()))
        .collect()
}

/// The endpoints.kubernetes.io/last-change-trigger-time value: the newest change among
/// the Service and its pods (creation, deletion, Ready transition), as upstream's
/// TriggerTimeTracker approximates it.
pub fn last_change_trigger_time(service: &Service, pods: &[&Pod]) -> Option<Timestamp> {
    let svc = service.metadata.creation_timestamp.as_ref().map(|t| t.0);
    pods.iter()
        .flat_map(|p| {
            let ready = p
                .status
                .as_ref()
                .and_then(|s| s.conditions.as_ref())
                .and_then(|cs| cs.iter().find(|c| c.type_ == "Ready"))
                .and_then(|c| c.last_transition_time.as_ref())
                .map(|t| t.0);
            [
                p.metadata.creation_timestamp.as_ref().map(|t| t.0),
                p.metadata.deletion_timestamp.as_ref().map(|t| t.0),
                ready,
            ]
        })
        .chain([svc])
        .flatten()
        .max()
}

/// Go's time.RFC3339Nano rendering of a timestamp (what upstream writes into the
/// trigger-time annotation).
pub fn rfc3339(t: Timestamp) -> String {
    t.to_string()
}

/// Whether the Service is headless (clusterIP None).
pub fn is_headless(service: &Service) -> bool {
    service.spec.as_ref().and_then(|s| s.cluster_ip.as_deref()) == Some("None")
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{Container, ContainerPort, PodSpec};

    fn pod_with_port(name: &str, port: i32, proto: &str) -> Pod {
        Pod {
            spec: Some(PodSpec {
                containers: vec![Container {
                    name: "c".into(),
                    ports: Some(vec![ContainerPort {
                        name: Some(name.into()),
                        container_port: port,
                        protocol: Some(proto.into()),
                        ..Default::default()
                    }]),
                    ..Default::default()
                }],
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn named_target_port_is_looked_up_per_protocol() {
        let pod = pod_with_port("http", 8080, "TCP");
        let mut sp = ServicePort {
            port: 80,
            target_port: Some(IntOrString::String("http".into())),
            ..Default::default()
        };
        assert_eq!(find_port(&pod, &sp), Some(8080));
        sp.protocol = Some("UDP".into());
        assert_eq!(find_port(&pod, &sp), None);
        sp.target_port = None;
        assert_eq!(find_port(&pod, &sp), Some(80));
    }

    #[test]
    fn address_types() {
        assert_eq!(address_type_of("10.0.0.1"), Some("IPv4"));
        assert_eq!(address_type_of("fd00::1"), Some("IPv6"));
        assert_eq!(address_type_of("nope"), None);
    }
}
