//! The EndpointSlice controller (upstream pkg/controller/endpointslice): for every
//! Service with a selector, EndpointSlices listing the selected pods' addresses with
//! ready / serving / terminating conditions, kept in step with pod, Service and node
//! changes. The decision is [`reconciler::reconcile`], a pure function; this module
//! feeds it from watches and writes its plan.

pub mod informer;
pub mod pods;
pub mod reconciler;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use k8s_openapi::api::core::v1::{Node, Pod, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::api::{Api, DeleteParams, PostParams};
use kube::runtime::events::{Event, EventType};
use kube::runtime::reflector::Store;
use kube::runtime::watcher;
use kube::Resource;

use crate::context::ControllerContext;
use crate::workqueue::{run_workers, WorkQueue};
use informer::{key_of, split_key, Change, Informer};
use reconciler::{Inputs, Plan, CONTROLLER_NAME, LABEL_MANAGED_BY, LABEL_SERVICE_NAME};

/// How long a write we made may take to show up in the watch before we stop waiting.
const STALE_LIMIT: Duration = Duration::from_secs(10);

/// What a slice written by us must look like in the cache before the Service's
/// slices can be trusted again (upstream's EndpointSliceTracker).
#[derive(Clone, Copy, Debug, PartialEq)]
enum Expect {
    AtLeast(u64),
    Gone,
}

#[derive(Default)]
struct Tracker {
    by_service: HashMap<String, (Instant, HashMap<String, Expect>)>,
}

fn resource_version(slice: &EndpointSlice) -> u64 {
    slice
        .metadata
        .resource_version
        .as_deref()
        .and_then(|rv| rv.parse().ok())
        .unwrap_or(0)
}

impl Tracker {
    /// Whether the cached slices of `service` still miss some of our writes.
    fn is_stale(&mut self, service: &str, cached: &[EndpointSlice]) -> bool {
        let Some((at, expected)) = self.by_service.get(service) else {
            return false;
        };
        if at.elapsed() > STALE_LIMIT {
            self.by_service.remove(service);
            return false;
        }
        let stale = expected.iter().any(|(name, want)| {
            let found = cached
                .iter()
                .find(|s| s.metadata.name.as_deref() == Some(name.as_str()));
            match (want, found) {
                (Expect::AtLeast(rv), Some(s)) => resource_version(s) < *rv,
                (Expect::AtLeast(_), None) => true,
                (Expect::Gone, found) => found.is_some(),
            }
        });
        if !stale {
            self.by_service.remove(service);
        }
        stale
    }

    fn record(&mut self, service: &str, writes: HashMap<String, Expect>) {
        if !writes.is_empty() {
            self.by_service
                .insert(service.to_string(), (Instant::now(), writes));
        }
    }
}

struct Controller {
    client: kube::Client,
    services: Store<Service>,
    pods: Store<Pod>,
    nodes: Store<Node>,
    slices: Store<EndpointSlice>,
    tracker: Mutex<Tracker>,
    recorder: std::sync::Arc<crate::record::EventRecorder>,
}

pub async fn run(ctx: Arc<ControllerContext>) -> anyhow::Result<()> {
    let client = ctx.client.clone();
    let queue: WorkQueue<String> = ctx.queue("endpoint_slice");

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
    let slices = Informer::start(
        Api::<EndpointSlice>::all(client.clone()),
        watcher::Config::default().labels(&format!("{LABEL_MANAGED_BY}={CONTROLLER_NAME}")),
        move |c| match c {
            Change::Applied(s) | Change::Deleted(s) => {
                if let (Some(ns), Some(svc)) = (
                    s.metadata.namespace.as_deref(),
                    s.metadata
                        .labels
                        .as_ref()
                        .and_then(|l| l.get(LABEL_SERVICE_NAME)),
                ) {
                    q.add(format!("{ns}/{svc}"));
                }
            }
            Change::Resynced => enqueue_all(&q, &svc_store),
        },
    );
    let q = queue.clone();
    let svc_store = services.store.clone();
    let slice_store = slices.store.clone();
    let pods = Informer::start(
        Api::<Pod>::all(client.clone()),
        watcher::Config::default(),
        move |c| match c {
            Change::Applied(p) | Change::Deleted(p) => {
                enqueue_for_pod(&q, &svc_store, &slice_store, p)
            }
            Change::Resynced => enqueue_all(&q, &svc_store),
        },
    );
    let q = queue.clone();
    let svc_store = services.store.clone();
    let zones: Mutex<HashMap<String, Option<String>>> = Mutex::new(HashMap::new());
    let nodes = Informer::start(
        Api::<Node>::all(client.clone()),
        watcher::Config::default(),
        move |c| {
            let (name, zone) = match c {
                Change::Applied(n) => (key_of(n), node_zone(n)),
                Change::Deleted(n) => (key_of(n), None),
                Change::Resynced => return,
            };
            let mut seen = zones.lock().unwrap_or_else(|p| p.into_inner());
            if seen.get(&name) != Some(&zone) {
                let known = seen.contains_key(&name);
                seen.insert(name, zone);
                if known {
                    enqueue_all(&q, &svc_store);
                }
            }
        },
    );
    for r in [
        services.synced().await,
        slices.synced().await,
        pods.synced().await,
        nodes.synced().await,
    ] {
        r?;
    }
    enqueue_all(&queue, &services.store);

    let controller = Arc::new(Controller {
        client,
        services: services.store.clone(),
        pods: pods.store.clone(),
        nodes: nodes.store.clone(),
        slices: slices.store.clone(),
        tracker: Mutex::new(Tracker::default()),
        recorder: ctx.recorder("endpoint-slice-controller"),
    });
    let workers = ctx.options.concurrent_service_endpoint_syncs;
    let q = queue.clone();
    tokio::select! {
        _ = run_workers(queue.clone(), workers, move |key: String| {
            let c = controller.clone();
            let q = q.clone();
            async move { c.sync(&q, &key).await }
        }) => {}
        _ = ctx.stopped() => queue.shut_down(),
    }
    Ok(())
}

fn node_zone(node: &Node) -> Option<String> {
    node.metadata
        .labels
        .as_ref()
        .and_then(|l| l.get(reconciler::LABEL_ZONE).cloned())
}

fn enqueue_all(queue: &WorkQueue<String>, services: &Store<Service>) {
    for s in services.state() {
        if pods::service_selector(&s).is_some() {
            queue.add(key_of(s.as_ref()));
        }
    }
}

/// Queues the Services that select the pod now, and those whose slices point at it.
fn enqueue_for_pod(
    queue: &WorkQueue<String>,
    services: &Store<Service>,
    slices: &Store<EndpointSlice>,
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
    let pod_key = key_of(pod);
    for slice in slices.state() {
        if slice.metadata.namespace.as_deref() == Some(ns)
            && reconciler::target_pods(&slice).contains(&pod_key)
        {
            if let Some(svc) = slice
                .metadata
                .labels
                .as_ref()
                .and_then(|l| l.get(LABEL_SERVICE_NAME))
            {
                queue.add(format!("{ns}/{svc}"));
            }
        }
    }
}

impl Controller {
    async fn sync(&self, queue: &WorkQueue<String>, key: &str) -> anyhow::Result<()> {
        let (Some(ns), name) = split_key(key) else {
            return Ok(());
        };
        let Some(service) = self.services.find(|s| {
            s.metadata.namespace.as_deref() == Some(ns) && s.metadata.name.as_deref() == Some(name)
        }) else {
            // Deleted: the garbage collector removes the owned slices.
            return Ok(());
        };
        let is_external_name =
            service.spec.as_ref().and_then(|s| s.type_.as_deref()) == Some("ExternalName");
        if pods::service_selector(&service).is_none() || is_external_name {
            return Ok(());
        }
        let existing: Vec<EndpointSlice> = self
            .slices
            .state()
            .iter()
            .filter(|s| {
                s.metadata.namespace.as_deref() == Some(ns)
                    && s.metadata
                        .labels
                        .as_ref()
                        .and_then(|l| l.get(LABEL_SERVICE_NAME))
                        == Some(&name.to_string())
            })
            .map(|s| s.as_ref().clone())
            .collect();
        let stale = self
            .tracker
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_stale(key, &existing);
        if stale {
            // Our last writes are not in the cache yet; look again shortly.
            queue.add_after(key.to_string(), Duration::from_millis(100));
            return Ok(());
        }
        let all_pods = self.pods.state();
        let selected = pods::selected_pods(&service, &all_pods);
        let zones: HashMap<String, String> = self
            .nodes
            .state()
            .iter()
            .filter_map(|n| Some((n.metadata.name.clone()?, node_zone(n)?)))
            .collect();
        let plan = reconciler::reconcile(
            &service,
            &Inputs {
                pods: &selected,
                zones: &zones,
                existing: &existing,
                trigger_time: pods::last_change_trigger_time(&service, &selected),
                max_per_slice: reconciler::MAX_ENDPOINTS_PER_SLICE,
            },
        );
        let result = self.apply(ns, plan).await;
        let (writes, err) = match result {
            Ok(w) => (w, None),
            Err((w, e)) => (w, Some(e)),
        };
        self.tracker
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .record(key, writes);
        if let Some(e) = err {
            let note = format!("Error updating Endpoint Slices for Service {key}: {e:#}");
            let _ = self
                .recorder
                .publish(
                    &Event {
                        type_: EventType::Warning,
                        reason: "FailedToUpdateEndpointSlices".to_string(),
                        note: Some(note.chars().take(1000).collect()),
                        action: "UpdateEndpointSlices".to_string(),
                        secondary: None,
                    },
                    &service.object_ref(&()),
                )
                .await;
            return Err(e);
        }
        Ok(())
    }

    /// Writes the plan; returns what the cache must show afterwards (also on failure,
    /// for the writes that went through).
    async fn apply(
        &self,
        ns: &str,
        plan: Plan,
    ) -> Result<HashMap<String, Expect>, (HashMap<String, Expect>, anyhow::Error)> {
        let api: Api<EndpointSlice> = Api::namespaced(self.client.clone(), ns);
        let mut writes = HashMap::new();
        macro_rules! attempt {
            ($e:expr) => {
                match $e {
                    Ok(v) => v,
                    Err(e) => return Err((writes, e)),
                }
            };
        }
        for s in plan.create {
            let created = attempt!(api
                .create(&PostParams::default(), &s)
                .await
                .context("creating an EndpointSlice"));
            if let Some(n) = created.metadata.name.clone() {
                writes.insert(n, Expect::AtLeast(resource_version(&created)));
            }
        }
        for s in plan.update {
            let name = s.metadata.name.clone().unwrap_or_default();
            let updated = attempt!(api
                .replace(&name, &PostParams::default(), &s)
                .await
                .with_context(|| format!("updating EndpointSlice {ns}/{name}")));
            writes.insert(name, Expect::AtLeast(resource_version(&updated)));
        }
        for s in plan.delete {
            let name = s.metadata.name.clone().unwrap_or_default();
            match api.delete(&name, &DeleteParams::default()).await {
                Ok(_) => {}
                Err(e) if informer::is_not_found(&e) => {}
                Err(e) => {
                    return Err((
                        writes,
                        anyhow::Error::new(e)
                            .context(format!("deleting EndpointSlice {ns}/{name}")),
                    ))
                }
            }
            writes.insert(name, Expect::Gone);
        }
        Ok(writes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    fn slice(name: &str, rv: &str) -> EndpointSlice {
        EndpointSlice {
            metadata: ObjectMeta {
                name: Some(name.into()),
                resource_version: Some(rv.into()),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    #[test]
    fn tracker_waits_for_our_writes_to_reach_the_cache() {
        let mut t = Tracker::default();
        t.record(
            "ns/web",
            HashMap::from([
                ("a".to_string(), Expect::AtLeast(10)),
                ("b".to_string(), Expect::Gone),
            ]),
        );
        assert!(t.is_stale("ns/web", &[slice("a", "9")]));
        assert!(t.is_stale("ns/web", &[slice("a", "10"), slice("b", "3")]));
        assert!(!t.is_stale("ns/web", &[slice("a", "11")]));
        // Once satisfied, the expectation is dropped.
        assert!(!t.is_stale("ns/web", &[]));
        assert!(!t.is_stale("other/svc", &[]));
    }
}
