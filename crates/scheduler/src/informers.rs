//! The watches feeding the cache and the queue: nodes, pods, namespaces and
//! PriorityClasses (kube-runtime watchers, one per kind).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use futures::TryStreamExt;
use k8s_openapi::api::core::v1::{Namespace, Node, Pod};
use k8s_openapi::api::scheduling::v1::PriorityClass;
use kube::api::Api;
use kube::runtime::watcher;

use crate::cache::{is_terminal, pod_key, Cache, PodInfo};
use crate::queue::SharedQueue;

/// A PriorityClass as the scheduler needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PriorityClassInfo {
    pub value: i32,
    pub global_default: bool,
    pub preemption_policy: Option<String>,
}

pub type PriorityClasses = Arc<Mutex<HashMap<String, PriorityClassInfo>>>;

/// Why a pod's priority cannot be resolved (its PriorityClass does not exist).
pub fn missing_priority_class(
    pod: &Pod,
    classes: &HashMap<String, PriorityClassInfo>,
) -> Option<String> {
    let spec = pod.spec.as_ref()?;
    if spec.priority.is_some() {
        return None;
    }
    let name = spec
        .priority_class_name
        .as_deref()
        .filter(|n| !n.is_empty())?;
    if classes.contains_key(name)
        || name == "system-cluster-critical"
        || name == "system-node-critical"
    {
        return None;
    }
    Some(format!("no PriorityClass with name {name} was found"))
}

/// Fills spec.priority (and preemptionPolicy) from the pod's PriorityClass, or the
/// global default, when the apiserver's Priority admission has not (ours does not).
pub fn resolve_priority(pod: &mut Pod, classes: &HashMap<String, PriorityClassInfo>) {
    let Some(spec) = pod.spec.as_mut() else {
        return;
    };
    if spec.priority.is_some() {
        return;
    }
    let class = match spec
        .priority_class_name
        .as_deref()
        .filter(|n| !n.is_empty())
    {
        Some("system-node-critical") => Some(PriorityClassInfo {
            value: 2_000_001_000,
            global_default: false,
            preemption_policy: None,
        }),
        Some("system-cluster-critical") => Some(PriorityClassInfo {
            value: 2_000_000_000,
            global_default: false,
            preemption_policy: None,
        }),
        Some(name) => classes.get(name).cloned(),
        None => classes.values().find(|c| c.global_default).cloned(),
    };
    if let Some(c) = class {
        spec.priority = Some(c.value);
        if spec.preemption_policy.is_none() {
            spec.preemption_policy = c.preemption_policy;
        }
    }
}

/// Shared state the watch handlers write into.
#[derive(Clone)]
pub struct Informers {
    pub cache: Arc<Mutex<Cache>>,
    pub queue: Arc<SharedQueue>,
    pub classes: PriorityClasses,
    pub scheduler_names: Arc<HashSet<String>>,
    /// Kinds whose initial list has completed (4 when all are synced).
    pub synced: Arc<AtomicUsize>,
}

pub const WATCHED_KINDS: usize = 4;

impl Informers {
    fn lock_cache(&self) -> std::sync::MutexGuard<'_, Cache> {
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn responsible_for(&self, pod: &Pod) -> bool {
        let name = pod
            .spec
            .as_ref()
            .and_then(|s| s.scheduler_name.as_deref())
            .unwrap_or(crate::config::DEFAULT_SCHEDULER_NAME);
        self.scheduler_names.contains(name)
    }

    /// A pod added or updated.
    pub fn on_pod(&self, mut pod: Pod) {
        // As upstream's informer transform: managedFields are never needed here.
        pod.metadata.managed_fields = None;
        {
            let classes = self.classes.lock().unwrap_or_else(|p| p.into_inner());
            resolve_priority(&mut pod, &classes);
        }
        let key = pod_key(&pod);
        let bound = pod
            .spec
            .as_ref()
            .and_then(|s| s.node_name.as_deref())
            .is_some_and(|n| !n.is_empty());
        let now = Instant::now();
        if bound || is_terminal(&pod) {
            self.queue.with(|q| q.delete(&key));
            let newly_assigned = {
                let mut cache = self.lock_cache();
                let was = cache.is_assumed(&key) || cache_has(&cache, &key);
                cache.upsert_pod(pod);
                !was
            };
            if newly_assigned {
                // An assigned pod may satisfy pending pods' pod affinity.
                self.queue.with(|q| {
                    if q.lengths().2 > 0 {
                        q.move_all_to_active_or_backoff(now);
                    }
                });
            }
            return;
        }
        // Pods with schedulingGates wait until every gate is removed (upstream's
        // SchedulingGates PreEnqueue plugin).
        let gated = pod
            .spec
            .as_ref()
            .and_then(|s| s.scheduling_gates.as_ref())
            .is_some_and(|g| !g.is_empty());
        if gated || pod.metadata.deletion_timestamp.is_some() || !self.responsible_for(&pod) {
            self.queue.with(|q| q.delete(&key));
            return;
        }
        if self.lock_cache().is_assumed(&key) {
            return;
        }
        let info = PodInfo::new(Arc::new(pod));
        self.queue.with(|q| q.add(info, now));
    }

    pub fn on_pod_deleted(&self, key: &str) {
        let was_bound = {
            let mut cache = self.lock_cache();
            let was = cache_has(&cache, key);
            cache.remove_pod(key);
            was
        };
        let now = Instant::now();
        self.queue.with(|q| {
            q.delete(key);
            if was_bound {
                q.move_all_to_active_or_backoff(now);
            }
        });
    }

    pub fn on_node(&self, mut node: Node) {
        node.metadata.managed_fields = None;
        let changed = {
            let mut cache = self.lock_cache();
            let name = node.metadata.name.clone().unwrap_or_default();
            let before = cache.node(&name).map(|n| scheduling_view(&n.node));
            let after = scheduling_view(&node);
            cache.upsert_node(node);
            before.as_ref() != Some(&after)
        };
        if changed {
            let now = Instant::now();
            self.queue.with(|q| q.move_all_to_active_or_backoff(now));
        }
    }

    pub fn on_node_deleted(&self, name: &str) {
        self.lock_cache().remove_node(name);
    }
}

fn cache_has(cache: &Cache, key: &str) -> bool {
    cache.has_pod(key)
}

/// What of a node matters for scheduling (heartbeats do not).
fn scheduling_view(node: &Node) -> String {
    let spec = node.spec.as_ref();
    let status = node.status.as_ref();
    format!(
        "{:?}|{:?}|{:?}|{:?}|{:?}",
        node.metadata.labels,
        spec.and_then(|s| s.taints.as_ref()),
        spec.and_then(|s| s.unschedulable),
        status.and_then(|s| s.allocatable.as_ref()),
        status.and_then(|s| s.images.as_ref()).map(|i| i.len()),
    )
}

fn name_of<K: kube::Resource>(o: &K) -> String {
    o.meta().name.clone().unwrap_or_default()
}

/// Runs the four watches until the returned futures are dropped.
pub async fn run(client: kube::Client, inf: Informers) {
    let pods = {
        let inf = inf.clone();
        let api: Api<Pod> = Api::all(client.clone());
        async move {
            let mut seen: HashSet<String> = HashSet::new();
            let mut known: HashSet<String> = HashSet::new();
            let mut first = true;
            let stream = watcher(api, watcher::Config::default());
            futures::pin_mut!(stream);
            loop {
                match stream.try_next().await {
                    Ok(Some(watcher::Event::Init)) => seen.clear(),
                    Ok(Some(watcher::Event::InitApply(p))) => {
                        seen.insert(pod_key(&p));
                        inf.on_pod(p);
                    }
                    Ok(Some(watcher::Event::InitDone)) => {
                        for gone in known.difference(&seen) {
                            inf.on_pod_deleted(gone);
                        }
                        known = std::mem::take(&mut seen);
                        if first {
                            first = false;
                            inf.synced.fetch_add(1, Ordering::SeqCst);
                        }
                    }
                    Ok(Some(watcher::Event::Apply(p))) => {
                        known.insert(pod_key(&p));
                        inf.on_pod(p);
                    }
                    Ok(Some(watcher::Event::Delete(p))) => {
                        let key = pod_key(&p);
                        known.remove(&key);
                        inf.on_pod_deleted(&key);
                    }
                    Ok(None) => return,
                    Err(e) => tracing::warn!(error = %e, "pod watch"),
                }
            }
        }
    };
    let nodes = {
        let inf = inf.clone();
        let api: Api<Node> = Api::all(client.clone());
        async move {
            let mut seen: HashSet<String> = HashSet::new();
            let mut first = true;
            let stream = watcher(api, watcher::Config::default());
            futures::pin_mut!(stream);
            loop {
                match stream.try_next().await {
                    Ok(Some(watcher::Event::Init)) => seen.clear(),
                    Ok(Some(watcher::Event::InitApply(n))) => {
                        seen.insert(name_of(&n));
                        inf.on_node(n);
                    }
                    Ok(Some(watcher::Event::InitDone)) => {
                        let stale: Vec<String> = inf
                            .lock_cache()
                            .node_names()
                            .iter()
                            .filter(|n| !seen.contains(*n))
                            .cloned()
                            .collect();
                        for n in stale {
                            inf.on_node_deleted(&n);
                        }
                        if first {
                            first = false;
                            inf.synced.fetch_add(1, Ordering::SeqCst);
                        }
                    }
                    Ok(Some(watcher::Event::Apply(n))) => inf.on_node(n),
                    Ok(Some(watcher::Event::Delete(n))) => inf.on_node_deleted(&name_of(&n)),
                    Ok(None) => return,
                    Err(e) => tracing::warn!(error = %e, "node watch"),
                }
            }
        }
    };
    let namespaces = {
        let inf = inf.clone();
        let api: Api<Namespace> = Api::all(client.clone());
        async move {
            let mut first = true;
            let stream = watcher(api, watcher::Config::default());
            futures::pin_mut!(stream);
            loop {
                match stream.try_next().await {
                    Ok(Some(watcher::Event::InitApply(n))) | Ok(Some(watcher::Event::Apply(n))) => {
                        let labels: BTreeMap<String, String> =
                            n.metadata.labels.clone().unwrap_or_default();
                        inf.lock_cache().set_namespace(&name_of(&n), labels);
                    }
                    Ok(Some(watcher::Event::Delete(n))) => {
                        inf.lock_cache().remove_namespace(&name_of(&n))
                    }
                    Ok(Some(watcher::Event::InitDone)) if first => {
                        first = false;
                        inf.synced.fetch_add(1, Ordering::SeqCst);
                    }
                    Ok(Some(_)) => {}
                    Ok(None) => return,
                    Err(e) => tracing::warn!(error = %e, "namespace watch"),
                }
            }
        }
    };
    let classes = {
        let inf = inf.clone();
        let api: Api<PriorityClass> = Api::all(client.clone());
        async move {
            let mut first = true;
            let stream = watcher(api, watcher::Config::default());
            futures::pin_mut!(stream);
            loop {
                match stream.try_next().await {
                    Ok(Some(watcher::Event::InitApply(c))) | Ok(Some(watcher::Event::Apply(c))) => {
                        let info = PriorityClassInfo {
                            value: c.value,
                            global_default: c.global_default.unwrap_or(false),
                            preemption_policy: c.preemption_policy.clone(),
                        };
                        inf.classes
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .insert(name_of(&c), info);
                        // Pods waiting for this class may now be scheduled.
                        let now = Instant::now();
                        inf.queue.with(|q| q.move_all_to_active_or_backoff(now));
                    }
                    Ok(Some(watcher::Event::Delete(c))) => {
                        inf.classes
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .remove(&name_of(&c));
                    }
                    Ok(Some(watcher::Event::InitDone)) if first => {
                        first = false;
                        inf.synced.fetch_add(1, Ordering::SeqCst);
                    }
                    Ok(Some(_)) => {}
                    Ok(None) => return,
                    Err(e) => tracing::warn!(error = %e, "priorityclass watch"),
                }
            }
        }
    };
    tokio::join!(pods, nodes, namespaces, classes);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::tests::pod;

    fn informers() -> Informers {
        Informers {
            cache: Arc::new(Mutex::new(Cache::new())),
            queue: Arc::new(SharedQueue::default()),
            classes: Arc::new(Mutex::new(HashMap::new())),
            scheduler_names: Arc::new(HashSet::from(["default-scheduler".to_string()])),
            synced: Arc::new(AtomicUsize::new(0)),
        }
    }

    #[test]
    fn pods_go_to_the_queue_or_the_cache() {
        let inf = informers();
        inf.on_node(crate::cache::tests::node("n1", "4", "8Gi", "110"));
        inf.on_pod(pod("ns", "pending", None, "1"));
        let mut gated = pod("ns", "gated", None, "1");
        if let Some(s) = gated.spec.as_mut() {
            s.scheduling_gates = Some(vec![k8s_openapi::api::core::v1::PodSchedulingGate {
                name: "example.com/wait".into(),
            }]);
        }
        inf.on_pod(gated);
        let mut other = pod("ns", "other", None, "1");
        if let Some(s) = other.spec.as_mut() {
            s.scheduler_name = Some("someone-else".into());
        }
        inf.on_pod(other);
        inf.on_pod(pod("ns", "bound", Some("n1"), "1"));
        assert_eq!(inf.queue.with(|q| q.lengths()), (1, 0, 0));
        assert!(inf.queue.with(|q| q.contains("ns/pending")));
        assert!(inf.cache.lock().expect("cache").has_pod("ns/bound"));
        inf.on_pod_deleted("ns/pending");
        inf.on_pod_deleted("ns/bound");
        assert_eq!(inf.queue.with(|q| q.lengths()), (0, 0, 0));
        assert!(!inf.cache.lock().expect("cache").has_pod("ns/bound"));
    }

    #[test]
    fn priority_class_resolution() {
        let classes = HashMap::from([
            (
                "high".to_string(),
                PriorityClassInfo {
                    value: 1000,
                    global_default: false,
                    preemption_policy: Some("Never".into()),
                },
            ),
            (
                "default".to_string(),
                PriorityClassInfo {
                    value: 5,
                    global_default: true,
                    preemption_policy: None,
                },
            ),
        ]);
        let mut p = pod("ns", "p", None, "1");
        if let Some(s) = p.spec.as_mut() {
            s.priority_class_name = Some("high".into());
        }
        assert_eq!(missing_priority_class(&p, &classes), None);
        resolve_priority(&mut p, &classes);
        let s = p.spec.as_ref().expect("spec");
        assert_eq!(s.priority, Some(1000));
        assert_eq!(s.preemption_policy.as_deref(), Some("Never"));

        let mut plain = pod("ns", "q", None, "1");
        resolve_priority(&mut plain, &classes);
        assert_eq!(plain.spec.as_ref().and_then(|s| s.priority), Some(5));

        let mut missing = pod("ns", "r", None, "1");
        if let Some(s) = missing.spec.as_mut() {
            s.priority_class_name = Some("nope".into());
        }
        assert_eq!(
            missing_priority_class(&missing, &classes).as_deref(),
            Some("no PriorityClass with name nope was found")
        );
    }
}
