//! The EndpointSlice reconciler as a pure function (upstream
//! pkg/controller/endpointslice reconciler.go): from a Service, the pods it selects, the
//! nodes' zones and the slices that exist, the slices to create, update and delete —
//! reusing existing slices so that an endpoint change touches as few slices as possible.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use k8s_openapi::api::core::v1::{Pod, Service};
use k8s_openapi::api::discovery::v1::{Endpoint, EndpointConditions, EndpointPort, EndpointSlice};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use k8s_openapi::jiff::Timestamp;

use super::pods;

/// Upstream's --max-endpoints-per-slice default.
pub const MAX_ENDPOINTS_PER_SLICE: usize = 100;
pub const LABEL_SERVICE_NAME: &str = "kubernetes.io/service-name";
pub const LABEL_MANAGED_BY: &str = "endpointslice.kubernetes.io/managed-by";
pub const CONTROLLER_NAME: &str = "endpointslice-controller.k8s.io";
pub const LABEL_HEADLESS: &str = "service.kubernetes.io/headless";
pub const ANNOTATION_TRIGGER_TIME: &str = "endpoints.kubernetes.io/last-change-trigger-time";
pub const LABEL_ZONE: &str = "topology.kubernetes.io/zone";

/// What to write so the slices match the desired endpoints.
#[derive(Debug, Default, PartialEq)]
pub struct Plan {
    pub create: Vec<EndpointSlice>,
    pub update: Vec<EndpointSlice>,
    pub delete: Vec<EndpointSlice>,
}

/// The inputs besides the Service.
pub struct Inputs<'a> {
    /// The pods the Service selects (same namespace, selector matched).
    pub pods: &'a [&'a Pod],
    /// Node name -> topology.kubernetes.io/zone.
    pub zones: &'a HashMap<String, String>,
    /// The slices this controller manages for the Service.
    pub existing: &'a [EndpointSlice],
    /// Trigger time for the annotation on written slices.
    pub trigger_time: Option<Timestamp>,
    pub max_per_slice: usize,
}

/// The address types the Service's slices carry: its ipFamilies (IPv4 when unset),
/// plus IPv6 when unset families meet pods with IPv6 addresses.
pub fn address_types(service: &Service, pods: &[&Pod]) -> Vec<String> {
    let families: Vec<String> = service
        .spec
        .as_ref()
        .and_then(|s| s.ip_families.clone())
        .unwrap_or_default();
    if !families.is_empty() {
        return families;
    }
    let mut types = vec!["IPv4".to_string()];
    if pods.iter().any(|p| pods::pod_ip_for(p, "IPv6").is_some()) {
        types.push("IPv6".to_string());
    }
    types
}

/// The desired endpoint for one pod and address type (upstream podToEndpoint).
pub fn pod_to_endpoint(
    service: &Service,
    pod: &Pod,
    ip: String,
    zones: &HashMap<String, String>,
) -> Endpoint {
    let publish_not_ready = service
        .spec
        .as_ref()
        .and_then(|s| s.publish_not_ready_addresses)
        .unwrap_or(false);
    let serving = publish_not_ready || pods::is_pod_ready(pod);
    let terminating = pods::is_terminating(pod);
    let ready = publish_not_ready || (serving && !terminating);
    let node_name = pod.spec.as_ref().and_then(|s| s.node_name.clone());
    Endpoint {
        addresses: vec![ip],
        conditions: Some(EndpointConditions {
            ready: Some(ready),
            serving: Some(serving),
            terminating: Some(terminating),
        }),
        hostname: pods::should_set_hostname(pod, service)
            .then(|| pod.spec.as_ref().and_then(|s| s.hostname.clone()))
            .flatten(),
        zone: node_name.as_ref().and_then(|n| zones.get(n).cloned()),
        node_name,
        target_ref: Some(pods::pod_reference(pod)),
        ..Default::default()
    }
}

/// The ports a pod serves for the Service; ports whose target cannot be resolved on
/// this pod are left out (upstream getEndpointPorts).
pub fn endpoint_ports(service: &Service, pod: &Pod) -> Vec<EndpointPort> {
    service
        .spec
        .as_ref()
        .and_then(|s| s.ports.as_ref())
        .into_iter()
        .flatten()
        .filter_map(|sp| {
            let port = pods::find_port(pod, sp)?;
            Some(EndpointPort {
                name: Some(sp.name.clone().unwrap_or_default()),
                port: Some(port),
                protocol: Some(sp.protocol.clone().unwrap_or_else(|| "TCP".to_string())),
                app_protocol: sp.app_protocol.clone(),
            })
        })
        .collect()
}

/// A stable key for a set of ports (their order does not matter).
fn ports_key(ports: &[EndpointPort]) -> String {
    let mut parts: Vec<String> = ports
        .iter()
        .map(|p| {
            format!(
                "{}/{}/{}/{}",
                p.name.as_deref().unwrap_or(""),
                p.port.unwrap_or(0),
                p.protocol.as_deref().unwrap_or("TCP"),
                p.app_protocol.as_deref().unwrap_or("")
            )
        })
        .collect();
    parts.sort();
    parts.join(",")
}

/// An endpoint's identity within a slice: its first address.
fn endpoint_key(e: &Endpoint) -> String {
    e.addresses.first().cloned().unwrap_or_default()
}

/// Labels every managed slice of the Service carries (the Service's own labels, then
/// the controller's).
pub fn slice_labels(service: &Service) -> BTreeMap<String, String> {
    let mut labels = service.metadata.labels.clone().unwrap_or_default();
    labels.remove(LABEL_HEADLESS);
    if pods::is_headless(service) {
        labels.insert(LABEL_HEADLESS.to_string(), String::new());
    }
    labels.insert(
        LABEL_SERVICE_NAME.to_string(),
        service.metadata.name.clone().unwrap_or_default(),
    );
    labels.insert(LABEL_MANAGED_BY.to_string(), CONTROLLER_NAME.to_string());
    labels
}

/// The ownerReference to the Service (controller, blockOwnerDeletion).
pub fn owner_reference(service: &Service) -> OwnerReference {
    OwnerReference {
        api_version: "v1".to_string(),
        kind: "Service".to_string(),
        name: service.metadata.name.clone().unwrap_or_default(),
        uid: service.metadata.uid.clone().unwrap_or_default(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    }
}

/// generateName for new slices: the Service name plus "-", trimmed so the generated
/// name fits in 63 characters.
pub fn generate_name(service: &Service) -> String {
    let name = service.metadata.name.as_deref().unwrap_or("");
    let prefix: String = name.chars().take(57).collect();
    format!("{prefix}-")
}

struct Group {
    ports: Vec<EndpointPort>,
    endpoints: BTreeMap<String, Endpoint>,
}

/// Computes the plan for one Service.
pub fn reconcile(service: &Service, input: &Inputs<'_>) -> Plan {
    let max = input.max_per_slice.max(1);
    let types = address_types(service, input.pods);
    let labels = slice_labels(service);
    let trigger = input.trigger_time.map(pods::rfc3339);

    // Desired: (address type, ports key) -> endpoints by key.
    let mut desired: BTreeMap<(String, String), Group> = BTreeMap::new();
    for pod in input.pods {
        if !pods::should_pod_be_in_endpoints(pod, true) {
            continue;
        }
        let ports = endpoint_ports(service, pod);
        let pkey = ports_key(&ports);
        for t in &types {
            let Some(ip) = pods::pod_ip_for(pod, t) else {
                continue;
            };
            let ep = pod_to_endpoint(service, pod, ip, input.zones);
            desired
                .entry((t.clone(), pkey.clone()))
                .or_insert_with(|| Group {
                    ports: ports.clone(),
                    endpoints: BTreeMap::new(),
                })
                .endpoints
                .insert(endpoint_key(&ep), ep);
        }
    }

    let mut plan = Plan::default();
    // Slices kept as they are (by index into existing) and slices being rewritten.
    let mut unchanged: Vec<EndpointSlice> = Vec::new();
    let mut to_update: Vec<EndpointSlice> = Vec::new();
    for slice in input.existing {
        let pkey = ports_key(slice.ports.as_deref().unwrap_or(&[]));
        let key = (slice.address_type.clone(), pkey);
        let Some(group) = desired.get_mut(&key) else {
            plan.delete.push(slice.clone());
            continue;
        };
        let mut changed = false;
        let mut kept = Vec::with_capacity(slice.endpoints.len());
        for ep in &slice.endpoints {
            match group.endpoints.remove(&endpoint_key(ep)) {
                Some(want) => {
                    changed |= want != *ep;
                    kept.push(want);
                }
                None => changed = true,
            }
        }
        let mut s = slice.clone();
        s.endpoints = kept;
        let labels_differ = s.metadata.labels.as_ref() != Some(&labels);
        if s.endpoints.is_empty() {
            plan.delete.push(s);
        } else if changed || labels_differ {
            to_update.push(s);
        } else {
            unchanged.push(s);
        }
    }

    // Place the endpoints not yet in a slice: first into slices already being updated,
    // then (only if they all fit) into one unchanged slice, then into new slices.
    for ((address_type, _), group) in desired.iter_mut() {
        let mut remaining: Vec<Endpoint> =
            std::mem::take(&mut group.endpoints).into_values().collect();
        if remaining.is_empty() {
            continue;
        }
        let same_group = |s: &EndpointSlice| {
            s.address_type == *address_type
                && ports_key(s.ports.as_deref().unwrap_or(&[])) == ports_key(&group.ports)
        };
        for s in to_update.iter_mut().filter(|s| same_group(s)) {
            while s.endpoints.len() < max {
                match remaining.pop() {
                    Some(e) => s.endpoints.push(e),
                    None => break,
                }
            }
        }
        if !remaining.is_empty() {
            if let Some(i) = unchanged
                .iter()
                .position(|s| same_group(s) && s.endpoints.len() + remaining.len() <= max)
            {
                let mut s = unchanged.remove(i);
                s.endpoints.append(&mut remaining);
                to_update.push(s);
            }
        }
        remaining.reverse();
        for chunk in remaining.chunks(max) {
            plan.create.push(new_slice(
                service,
                address_type,
                group.ports.clone(),
                chunk.to_vec(),
                &labels,
            ));
        }
    }

    // A Service with no endpoints keeps one empty placeholder slice (upstream).
    if plan.create.is_empty() && to_update.is_empty() && unchanged.is_empty() {
        let primary = types.first().cloned().unwrap_or_else(|| "IPv4".to_string());
        let placeholder = plan.delete.iter().position(|s| {
            s.endpoints.is_empty()
                && s.ports.as_deref().unwrap_or(&[]).is_empty()
                && s.address_type == primary
        });
        match placeholder {
            Some(i) => {
                let s = plan.delete.remove(i);
                if s.metadata.labels.as_ref() != Some(&labels) {
                    to_update.push(s);
                }
            }
            None => plan.create.push(new_slice(
                service,
                &primary,
                Vec::new(),
                Vec::new(),
                &labels,
            )),
        }
    }

    for mut s in to_update {
        s.metadata.labels = Some(labels.clone());
        set_trigger(&mut s, trigger.as_deref());
        plan.update.push(s);
    }
    for s in &mut plan.create {
        set_trigger(s, trigger.as_deref());
    }
    plan
}

fn set_trigger(slice: &mut EndpointSlice, trigger: Option<&str>) {
    if let Some(t) = trigger {
        slice
            .metadata
            .annotations
            .get_or_insert_with(Default::default)
            .insert(ANNOTATION_TRIGGER_TIME.to_string(), t.to_string());
    }
}

fn new_slice(
    service: &Service,
    address_type: &str,
    ports: Vec<EndpointPort>,
    endpoints: Vec<Endpoint>,
    labels: &BTreeMap<String, String>,
) -> EndpointSlice {
    EndpointSlice {
        metadata: ObjectMeta {
            generate_name: Some(generate_name(service)),
            namespace: service.metadata.namespace.clone(),
            labels: Some(labels.clone()),
            owner_references: Some(vec![owner_reference(service)]),
            ..Default::default()
        },
        address_type: address_type.to_string(),
        endpoints,
        ports: Some(ports),
    }
}

/// The set of pod keys (namespace/name) a slice's endpoints point at.
pub fn target_pods(slice: &EndpointSlice) -> BTreeSet<String> {
    slice
        .endpoints
        .iter()
        .filter_map(|e| e.target_ref.as_ref())
        .filter_map(|r| {
            Some(format!(
                "{}/{}",
                r.namespace.as_deref()?,
                r.name.as_deref()?
            ))
        })
        .collect()
}

#[cfg(test)]
#[path = "reconciler_tests.rs"]
mod tests;
