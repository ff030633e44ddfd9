//! The Endpoints controller (upstream pkg/controller/endpoint): the core/v1 Endpoints
//! object named after every Service with a selector, listing ready pods under
//! `addresses` and the others under `notReadyAddresses`, truncated to 1000 addresses
//! with the `endpoints.kubernetes.io/over-capacity` annotation. Deleted with its
//! Service. [`desired_endpoints`] is the pure decision.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use anyhow::Context as _;
use k8s_openapi::api::core::v1::{
    EndpointAddress, EndpointPort, EndpointSubset, Endpoints, Pod, Service,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, DeleteParams, PostParams};
use kube::runtime::reflector::Store;
use kube::runtime::watcher;

use super::endpointslice::informer::{
    is_conflict, is_not_found, key_of, split_key, Change, Informer,
};
use super::endpointslice::pods;
use super::endpointslice::reconciler::{ANNOTATION_TRIGGER_TIME, LABEL_HEADLESS};
use crate::context::ControllerContext;
use crate::workqueue::{run_workers, WorkQueue};

/// Upstream's maxCapacity.
pub const MAX_CAPACITY: usize = 1000;
pub const ANNOTATION_OVER_CAPACITY: &str = "endpoints.kubernetes.io/over-capacity";

/// The Service's primary IP family ("IPv4" unless its ipFamilies say otherwise).
fn primary_family(service: &Service) -> String {
    service
        .spec
        .as_ref()
        .and_then(|s| s.ip_families.as_ref())
        .and_then(|f| f.first().cloned())
        .unwrap_or_else(|| "IPv4".to_string())
}

/// Pure: the subsets for a Service and the pods it selects, and whether they were
/// truncated to [`MAX_CAPACITY`].
pub fn desired_subsets(service: &Service, selected: &[&Pod]) -> (Vec<EndpointSubset>, bool) {
    let spec = service.spec.clone().unwrap_or_default();
    let tolerate_unready = spec.publish_not_ready_addresses.unwrap_or(false);
    let family = primary_family(service);
    // ports key -> (ports, ready, not ready)
    type Group = (
        Vec<EndpointPort>,
        Vec<EndpointAddress>,
        Vec<EndpointAddress>,
    );
    let mut groups: BTreeMap<String, Group> = BTreeMap::new();
    for pod in selected {
        if !pods::should_pod_be_in_endpoints(pod, tolerate_unready) {
            continue;
        }
        let Some(ip) = pods::pod_ip_for(pod, &family) else {
            continue;
        };
        let address = EndpointAddress {
            ip,
            hostname: pods::should_set_hostname(pod, service)
                .then(|| pod.spec.as_ref().and_then(|s| s.hostname.clone()))
                .flatten(),
            node_name: pod.spec.as_ref().and_then(|s| s.node_name.clone()),
            target_ref: Some(pods::pod_reference(pod)),
        };
        let mut ports: Vec<EndpointPort> = spec
            .ports
            .iter()
            .flatten()
            .filter_map(|sp| {
                Some(EndpointPort {
                    name: sp.name.clone(),
                    port: pods::find_port(pod, sp)?,
                    protocol: Some(sp.protocol.clone().unwrap_or_else(|| "TCP".to_string())),
                    app_protocol: sp.app_protocol.clone(),
                })
            })
            .collect();
        let headless_without_ports = spec.ports.as_ref().is_none_or(|p| p.is_empty())
            && spec.cluster_ip.as_deref() == Some("None");
        if ports.is_empty() && !headless_without_ports {
            continue;
        }
        ports.sort_by(|a, b| (&a.name, a.port).cmp(&(&b.name, b.port)));
        let key = format!("{ports:?}");
        let group = groups
            .entry(key)
            .or_insert_with(|| (ports, Vec::new(), Vec::new()));
        if tolerate_unready || pods::is_pod_ready(pod) {
            group.1.push(address);
        } else {
            group.2.push(address);
        }
    }
    let mut subsets: Vec<EndpointSubset> = groups
        .into_values()
        .map(|(ports, mut ready, mut not_ready)| {
            ready.sort_by(|a, b| a.ip.cmp(&b.ip));
            not_ready.sort_by(|a, b| a.ip.cmp(&b.ip));
            EndpointSubset {
                addresses: (!ready.is_empty()).then_some(ready),
                not_ready_addresses: (!not_ready.is_empty()).then_some(not_ready),
                ports: (!ports.is_empty()).then_some(ports),
            }
        })
        .collect();
    let truncated = truncate(&mut subsets, MAX_CAPACITY);
    (subsets, truncated)
}

/// Keeps at most `max` addresses, ready ones first; returns whether any were dropped.
fn truncate(subsets: &mut [EndpointSubset], max: usize) -> bool {
    let count = |v: &Option<Vec<EndpointAddress>>| v.as_ref().map_or(0, Vec::len);
    let total: usize = subsets
        .iter()
        .map(|s| count(&s.addresses) + count(&s.not_ready_addresses))
        .sum();
    if total <= max {
        return false;
    }
    let mut budget = max;
    for s in subsets.iter_mut() {
        if let Some(a) = s.addresses.as_mut() {
            a.truncate(budget);
            budget -= a.len();
        }
    }
    for s in subsets.iter_mut() {
        if let Some(a) = s.not_ready_addresses.as_mut() {
            a.truncate(budget);
            budget -= a.len();
        }
    }
    for s in subsets.iter_mut() {
        if s.addresses.as_ref().is_some_and(Vec::is_empty) {
            s.addresses = None;
        }
        if s.not_ready_addresses.as_ref().is_some_and(Vec::is_empty) {
            s.not_ready_addresses = None;
        }
    }
    true
}

/// Pure: the Endpoints object to write for the Service, or None when `existing`
/// already matches.
pub fn desired_endpoints(
    service: &Service,
    selected: &[&Pod],
    existing: Option<&Endpoints>,
) -> Option<Endpoints> {
    let (subsets, truncated) = desired_subsets(service, selected);
    let mut labels = service.metadata.labels.clone().unwrap_or_default();
    labels.remove(LABEL_HEADLESS);
    if pods::is_headless(service) {
        labels.insert(LABEL_HEADLESS.to_string(), String::new());
    }
    let subsets = (!subsets.is_empty()).then_some(subsets);
    if let Some(e) = existing {
        let over = e
            .metadata
            .annotations
            .as_ref()
            .is_some_and(|a| a.contains_key(ANNOTATION_OVER_CAPACITY));
        let same_labels = e.metadata.labels.clone().unwrap_or_default() == labels;
        if e.subsets.clone().filter(|s| !s.is_empty()) == subsets
            && same_labels
            && over == truncated
        {
            return None;
        }
    }
    let mut out = existing.cloned().unwrap_or_else(|| Endpoints {
        metadata: ObjectMeta {
            name: service.metadata.name.clone(),
            namespace: service.metadata.namespace.clone(),
            ..Default::default()
        },
        ..Default::default()
    });
    out.subsets = subsets;
    out.metadata.labels = Some(labels);
    let annotations = out
        .metadata
        .annotations
        .get_or_insert_with(Default::default);
    if truncated {
        annotations.insert(
            ANNOTATION_OVER_CAPACITY.to_string(),
            "truncated".to_string(),
        );
    } else {
        annotations.remove(ANNOTATION_OVER_CAPACITY);
    }
    match pods::last_change_trigger_time(service, selected) {
        Some(t) => {
            annotations.insert(ANNOTATION_TRIGGER_TIME.to_string(), pods::rfc3339(t));
        }
        None => {
            annotations.remove(ANNOTATION_TRIGGER_TIME);
        }
    }
    Some(out)
}

struct Controller {
    client: kube::Client,
    services: Store<Service>,
    pods: Store<Pod>,
    endpoints: Store<Endpoints>,
}

pub async fn run(ctx: Arc<ControllerContext>) -> anyhow::Result<()> {
    let client = ctx.client.clone();
    let queue: WorkQueue<String> = ctx.queue("endpoint");
    let q = queue.clone();
    let services = Informer::start(
        Api::<Service>::all(client.clone()),
        watcher::Config::default(),
        move |c| match c {
            Change::Applied(s) | Change::Deleted(s) => q.add(key_of(s)),
            Change::Resynced => {}
        },
    );
    let q = queue.clone();
    let svc_store = services.store.clone();
    let endpoints = Informer::start(
        Api::<Endpoints>::all(client.clone()),
        watcher::Config::default(),
        move |c| match c {
            Change::Applied(e) | Change::Deleted(e) => {
                // Only ours matter: those named after a selector Service.
                let key = key_of(e);
                if svc_store.state().iter().any(|s| key_of(s.as_ref()) == key) {
                    q.add(key);
                }
            }
            Change::Resynced => {}
        },
    );
    let q = queue.clone();
    let svc_store = services.store.clone();
    let ep_store = endpoints.store.clone();
    let pods_informer = Informer::start(
        Api::<Pod>::all(client.clone()),
        watcher::Config::default(),
        move |c| match c {
            Change::Applied(p) | Change::Deleted(p) => {
                enqueue_for_pod(&q, &svc_store, &ep_store, p)
            }
            Change::Resynced => {
                for s in svc_store.state() {
                    q.add(key_of(s.as_ref()));
                }
            }
        },
    );
    services.synced().await?;
    endpoints.synced().await?;
    pods_informer.synced().await?;
    for s in services.store.state() {
        queue.add(key_of(s.as_ref()));
    }
    let controller = Arc::new(Controller {
        client,
        services: services.store.clone(),
        pods: pods_informer.store.clone(),
        endpoints: endpoints.store.clone(),
    });
    let workers = ctx.options.concurrent_endpoint_syncs;
    tokio::select! {
        _ = run_workers(queue.clone(), workers, move |key: String| {
            let c = controller.clone();
            async move { c.sync(&key).await }
        }) => {}
        _ = ctx.stopped() => queue.shut_down(),
    }
    Ok(())
}

fn enqueue_for_pod(
    queue: &WorkQueue<String>,
    services: &Store<Service>,
    endpoints: &Store<Endpoints>,
    pod: &Pod,
) {
    let ns = pod.metadata.namespace.as_deref().unwrap_or("");
    for s in services.state() {
        if s.metadata.namespace.as_deref() != Some(ns) {
            continue;
        }
        if let Some(sel) = pods::service_selector(&s) {
            if pods::selector_matches(sel, pod.metadata.labels.as_ref()) {
                queue.add(key_of(s.as_ref()));
            }
        }
    }
    let name = pod.metadata.name.as_deref();
    for e in endpoints.state() {
        if e.metadata.namespace.as_deref() != Some(ns) {
            continue;
        }
        let targets: BTreeSet<Option<&str>> = e
            .subsets
            .iter()
            .flatten()
            .flat_map(|s| {
                s.addresses
                    .iter()
                    .flatten()
                    .chain(s.not_ready_addresses.iter().flatten())
            })
            .filter_map(|a| a.target_ref.as_ref())
            .map(|r| r.name.as_deref())
            .collect();
        if targets.contains(&name) {
            queue.add(key_of(e.as_ref()));
        }
    }
}

impl Controller {
    async fn sync(&self, key: &str) -> anyhow::Result<()> {
        let (Some(ns), name) = split_key(key) else {
            return Ok(());
        };
        let api: Api<Endpoints> = Api::namespaced(self.client.clone(), ns);
        let service = self.services.find(|s| {
            s.metadata.namespace.as_deref() == Some(ns) && s.metadata.name.as_deref() == Some(name)
        });
        let Some(service) = service else {
            // The Service is gone: so is its Endpoints object (upstream deletes it).
            return match api.delete(name, &DeleteParams::default()).await {
                Ok(_) => Ok(()),
                Err(e) if is_not_found(&e) => Ok(()),
                Err(e) => Err(e).with_context(|| format!("deleting Endpoints {key}")),
            };
        };
        if pods::service_selector(&service).is_none() {
            return Ok(());
        }
        let all = self.pods.state();
        let selected = pods::selected_pods(&service, &all);
        let existing = self.endpoints.find(|e| {
            e.metadata.namespace.as_deref() == Some(ns) && e.metadata.name.as_deref() == Some(name)
        });
        let Some(want) = desired_endpoints(&service, &selected, existing.as_deref()) else {
            return Ok(());
        };
        let result = if existing.is_some() {
            api.replace(name, &PostParams::default(), &want).await
        } else {
            api.create(&PostParams::default(), &want).await
        };
        match result {
            Ok(_) => Ok(()),
            // A stale cache: retry with the fresh object once the watch catches up.
            Err(e) if is_conflict(&e) => {
                Err(anyhow::Error::new(e).context(format!("writing Endpoints {key}")))
            }
            Err(kube::Error::Api(s)) if s.code == 403 && s.message.contains("being terminated") => {
                Ok(())
            }
            Err(e) => Err(e).with_context(|| format!("writing Endpoints {key}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{
        PodCondition, PodIP, PodSpec, PodStatus, ServicePort, ServiceSpec,
    };

    fn service() -> Service {
        Service {
            metadata: ObjectMeta {
                name: Some("web".into()),
                namespace: Some("ns".into()),
                ..Default::default()
            },
            spec: Some(ServiceSpec {
                selector: Some(BTreeMap::from([("app".into(), "web".into())])),
                ports: Some(vec![ServicePort {
                    name: Some("http".into()),
                    port: 80,
                    ..Default::default()
                }]),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn pod(name: &str, ip: &str, ready: bool) -> Pod {
        Pod {
            metadata: ObjectMeta {
                name: Some(name.into()),
                namespace: Some("ns".into()),
                ..Default::default()
            },
            spec: Some(PodSpec {
                node_name: Some("n1".into()),
                ..Default::default()
            }),
            status: Some(PodStatus {
                phase: Some("Running".into()),
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

    #[test]
    fn ready_and_not_ready_addresses() {
        let pods = [pod("b", "10.0.0.2", false), pod("a", "10.0.0.1", true)];
        let refs: Vec<&Pod> = pods.iter().collect();
        let e = desired_endpoints(&service(), &refs, None).unwrap();
        assert_eq!(e.metadata.name.as_deref(), Some("web"));
        let s = &e.subsets.as_ref().unwrap()[0];
        let ready = s.addresses.as_ref().unwrap();
        assert_eq!(ready[0].ip, "10.0.0.1");
        assert_eq!(ready[0].node_name.as_deref(), Some("n1"));
        assert_eq!(
            ready[0].target_ref.as_ref().unwrap().name.as_deref(),
            Some("a")
        );
        assert_eq!(s.not_ready_addresses.as_ref().unwrap()[0].ip, "10.0.0.2");
        assert_eq!(s.ports.as_ref().unwrap()[0].port, 80);
        assert!(!e
            .metadata
            .labels
            .as_ref()
            .unwrap()
            .contains_key("endpointslice.kubernetes.io/skip-mirror"));
        // Written once, then steady.
        assert!(desired_endpoints(&service(), &refs, Some(&e)).is_none());
    }

    #[test]
    fn terminating_pods_are_left_out() {
        let mut p = pod("a", "10.0.0.1", true);
        p.metadata.deletion_timestamp = Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
            k8s_openapi::jiff::Timestamp::UNIX_EPOCH,
        ));
        let (subsets, _) = desired_subsets(&service(), &[&p]);
        assert!(subsets.is_empty());
    }

    #[test]
    fn more_than_1000_addresses_are_truncated_and_annotated() {
        let pods: Vec<Pod> = (0..1100)
            .map(|i| {
                pod(
                    &format!("p{i}"),
                    &format!("10.1.{}.{}", i / 250, i % 250 + 1),
                    i % 2 == 0,
                )
            })
            .collect();
        let refs: Vec<&Pod> = pods.iter().collect();
        let e = desired_endpoints(&service(), &refs, None).unwrap();
        let s = &e.subsets.as_ref().unwrap()[0];
        assert_eq!(
            s.addresses.as_ref().unwrap().len(),
            550,
            "every ready one kept"
        );
        assert_eq!(s.not_ready_addresses.as_ref().unwrap().len(), 450);
        assert_eq!(
            e.metadata.annotations.as_ref().unwrap()[ANNOTATION_OVER_CAPACITY],
            "truncated"
        );
    }
}
