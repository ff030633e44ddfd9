//! Helpers shared by controllers, after upstream's pkg/controller/controller_utils.go
//! and pkg/api/v1/pod: expectations, pod readiness and availability, the ranking used
//! to choose which pods to delete, slow-start batches, owner references.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::future::Future;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{Pod, PodTemplateSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};

/// How long expectations wait for the watch before being ignored (upstream's
/// ExpectationsTimeout).
pub const EXPECTATIONS_TIMEOUT: Duration = Duration::from_secs(5 * 60);
/// The first batch of creations (SlowStartInitialBatchSize).
pub const SLOW_START_INITIAL_BATCH_SIZE: usize = 1;

#[derive(Debug)]
struct Expectation {
    add: i64,
    del: i64,
    /// Pod keys whose deletion is expected (UIDTrackingControllerExpectations).
    deleting: HashSet<String>,
    timestamp: Instant,
}

/// Upstream's (UID-tracking) ControllerExpectations: how many creations and which
/// deletions a controller is waiting to see in its watch before syncing again, so a
/// slow watch does not make it create or delete twice.
#[derive(Debug, Default)]
pub struct Expectations {
    inner: Mutex<HashMap<String, Expectation>>,
}

impl Expectations {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Expectation>> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// True when nothing is pending for `key`, or the expectations expired.
    pub fn satisfied(&self, key: &str) -> bool {
        match self.lock().get(key) {
            None => true,
            Some(e) => (e.add <= 0 && e.del <= 0) || e.timestamp.elapsed() > EXPECTATIONS_TIMEOUT,
        }
    }

    pub fn expect_creations(&self, key: &str, adds: usize) {
        self.lock().insert(
            key.to_string(),
            Expectation {
                add: adds as i64,
                del: 0,
                deleting: HashSet::new(),
                timestamp: Instant::now(),
            },
        );
    }

    pub fn expect_deletions(&self, key: &str, pod_keys: Vec<String>) {
        self.lock().insert(
            key.to_string(),
            Expectation {
                add: 0,
                del: pod_keys.len() as i64,
                deleting: pod_keys.into_iter().collect(),
                timestamp: Instant::now(),
            },
        );
    }

    pub fn creation_observed(&self, key: &str) {
        if let Some(e) = self.lock().get_mut(key) {
            e.add -= 1;
        }
    }

    /// A deletion was seen (or will never happen); counted once per pod key.
    pub fn deletion_observed(&self, key: &str, pod_key: &str) {
        if let Some(e) = self.lock().get_mut(key) {
            if e.deleting.remove(pod_key) {
                e.del -= 1;
            }
        }
    }

    pub fn delete(&self, key: &str) {
        self.lock().remove(key);
    }
}

/// `namespace/name`, the workqueue key of a namespaced object.
pub fn meta_key(meta: &ObjectMeta) -> String {
    format!(
        "{}/{}",
        meta.namespace.as_deref().unwrap_or_default(),
        meta.name.as_deref().unwrap_or_default()
    )
}

/// Splits a `namespace/name` key.
pub fn split_key(key: &str) -> (&str, &str) {
    key.split_once('/').unwrap_or(("", key))
}

/// The ownerReference with controller: true, if any.
pub fn controller_ref(meta: &ObjectMeta) -> Option<&OwnerReference> {
    meta.owner_references
        .as_deref()
        .unwrap_or_default()
        .iter()
        .find(|r| r.controller == Some(true))
}

/// An ownerReference making `owner` the controller (controller and
/// blockOwnerDeletion true, as upstream's NewControllerRef).
pub fn new_controller_ref(owner: &ObjectMeta, api_version: &str, kind: &str) -> OwnerReference {
    OwnerReference {
        api_version: api_version.to_string(),
        kind: kind.to_string(),
        name: owner.name.clone().unwrap_or_default(),
        uid: owner.uid.clone().unwrap_or_default(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    }
}

/// A pod from a template, owned by `owner_ref` (GetPodFromTemplate): generateName
/// `<prefix>-`, the template's labels, annotations, finalizers and spec.
pub fn pod_from_template(
    template: &PodTemplateSpec,
    namespace: &str,
    prefix: &str,
    owner_ref: OwnerReference,
) -> Pod {
    let tm = template.metadata.clone().unwrap_or_default();
    Pod {
        metadata: ObjectMeta {
            generate_name: Some(format!("{prefix}-")),
            namespace: Some(namespace.to_string()),
            labels: tm.labels,
            annotations: tm.annotations,
            finalizers: tm.finalizers,
            owner_references: Some(vec![owner_ref]),
            ..Default::default()
        },
        spec: template.spec.clone(),
        status: None,
    }
}

pub fn pod_phase(pod: &Pod) -> &str {
    pod.status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("")
}

/// Not terminated and not being deleted (FilterActivePods).
pub fn is_pod_active(pod: &Pod) -> bool {
    let phase = pod_phase(pod);
    phase != "Succeeded" && phase != "Failed" && pod.metadata.deletion_timestamp.is_none()
}

fn ready_condition(pod: &Pod) -> Option<&k8s_openapi::api::core::v1::PodCondition> {
    pod.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == "Ready")
}

pub fn is_pod_ready(pod: &Pod) -> bool {
    ready_condition(pod).is_some_and(|c| c.status == "True")
}

/// When the pod became Ready, if it is.
pub fn pod_ready_time(pod: &Pod) -> Option<jiff::Timestamp> {
    ready_condition(pod)
        .filter(|c| c.status == "True")
        .and_then(|c| c.last_transition_time.as_ref())
        .map(|t| t.0)
}

/// Ready for at least `min_ready_seconds` (IsPodAvailable).
pub fn is_pod_available(pod: &Pod, min_ready_seconds: i32, now: jiff::Timestamp) -> bool {
    if !is_pod_ready(pod) {
        return false;
    }
    if min_ready_seconds <= 0 {
        return true;
    }
    match pod_ready_time(pod) {
        Some(t) => t + jiff::SignedDuration::from_secs(i64::from(min_ready_seconds)) < now,
        None => false,
    }
}

fn phase_ordinal(pod: &Pod) -> u8 {
    match pod_phase(pod) {
        "Pending" => 0,
        "Unknown" => 1,
        "Running" => 2,
        _ => 0,
    }
}

fn deletion_cost(pod: &Pod) -> i32 {
    pod.metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get("controller.kubernetes.io/pod-deletion-cost"))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn max_restarts(pod: &Pod) -> i32 {
    pod.status
        .as_ref()
        .and_then(|s| s.container_statuses.as_ref())
        .map(|cs| cs.iter().map(|c| c.restart_count).max().unwrap_or(0))
        .unwrap_or(0)
}

/// floor(log2(now - t in ns)), or -1 for a time not in the past (LogarithmicScaleDown).
fn log_rank(t: jiff::Timestamp, now: jiff::Timestamp) -> i32 {
    let d = now.as_nanosecond() - t.as_nanosecond();
    if d > 0 {
        (d as f64).log2().floor() as i32
    } else {
        -1
    }
}

/// Upstream's ActivePodsWithRanks order: the pods to delete first sort first.
/// `rank` is the number of related pods on the same node (doubled-up pods go first).
pub fn compare_pods_for_deletion(
    a: (&Pod, usize),
    b: (&Pod, usize),
    now: jiff::Timestamp,
) -> Ordering {
    let (pa, ra) = a;
    let (pb, rb) = b;
    let na = pa
        .spec
        .as_ref()
        .and_then(|s| s.node_name.as_deref())
        .unwrap_or("");
    let nb = pb
        .spec
        .as_ref()
        .and_then(|s| s.node_name.as_deref())
        .unwrap_or("");
    // 1. Unassigned < assigned.
    if na != nb && (na.is_empty() || nb.is_empty()) {
        return if na.is_empty() {
            Ordering::Less
        } else {
            Ordering::Greater
        };
    }
    // 2. Pending < Unknown < Running.
    let c = phase_ordinal(pa).cmp(&phase_ordinal(pb));
    if c != Ordering::Equal {
        return c;
    }
    // 3. Not ready < ready.
    let (ready_a, ready_b) = (is_pod_ready(pa), is_pod_ready(pb));
    if ready_a != ready_b {
        return if ready_a {
            Ordering::Greater
        } else {
            Ordering::Less
        };
    }
    // 4. Lower pod-deletion-cost first.
    let c = deletion_cost(pa).cmp(&deletion_cost(pb));
    if c != Ordering::Equal {
        return c;
    }
    // 5. Doubled up < not doubled up.
    if ra != rb {
        return rb.cmp(&ra);
    }
    // 6. Ready for a shorter time first (logarithmic buckets).
    if ready_a && ready_b {
        if let (Some(ta), Some(tb)) = (pod_ready_time(pa), pod_ready_time(pb)) {
            if ta != tb {
                let c = log_rank(ta, now).cmp(&log_rank(tb, now));
                if c != Ordering::Equal {
                    return c;
                }
            }
        }
    }
    // 7. More restarts first.
    let c = max_restarts(pb).cmp(&max_restarts(pa));
    if c != Ordering::Equal {
        return c;
    }
    // 8. Newer first (empty creation time first).
    let ca = pa.metadata.creation_timestamp.as_ref().map(|t| t.0);
    let cb = pb.metadata.creation_timestamp.as_ref().map(|t| t.0);
    match (ca, cb) {
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (Some(ta), Some(tb)) if ta != tb => log_rank(ta, now).cmp(&log_rank(tb, now)),
        _ => Ordering::Equal,
    }
}

/// The `count` pods to delete, ranked as upstream's getPodsToDelete: `related` are the
/// active pods of every ReplicaSet of the same owner (for the doubled-up rank).
pub fn pods_to_delete<'a>(
    pods: &[&'a Pod],
    related: &[&Pod],
    count: usize,
    now: jiff::Timestamp,
) -> Vec<&'a Pod> {
    let mut per_node: HashMap<&str, usize> = HashMap::new();
    for p in related {
        if let Some(n) = p.spec.as_ref().and_then(|s| s.node_name.as_deref()) {
            if !n.is_empty() && is_pod_active(p) {
                *per_node.entry(n).or_default() += 1;
            }
        }
    }
    let mut ranked: Vec<(&'a Pod, usize)> = pods
        .iter()
        .map(|p| {
            let node = p
                .spec
                .as_ref()
                .and_then(|s| s.node_name.as_deref())
                .unwrap_or("");
            let rank = if node.is_empty() {
                0
            } else {
                per_node.get(node).copied().unwrap_or(0)
            };
            (*p, rank)
        })
        .collect();
    if count < ranked.len() {
        ranked.sort_by(|a, b| compare_pods_for_deletion(*a, *b, now));
    }
    ranked.into_iter().take(count).map(|(p, _)| p).collect()
}

/// Batch sizes of upstream's slowStartBatch: 1, 2, 4, ... until `count` is reached.
pub fn slow_start_batches(count: usize, initial: usize) -> Vec<usize> {
    let mut out = Vec::new();
    let mut remaining = count;
    let mut size = initial.max(1).min(remaining);
    while size > 0 {
        out.push(size);
        remaining -= size;
        size = (size * 2).min(remaining);
    }
    out
}

/// Runs `f` `count` times in doubling batches, stopping after a batch with an error.
/// Returns how many succeeded and the first error.
pub async fn slow_start_batch<F, Fut, E>(count: usize, f: F) -> (usize, Option<E>)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<(), E>>,
{
    let mut successes = 0;
    for size in slow_start_batches(count, SLOW_START_INITIAL_BATCH_SIZE) {
        let results = futures::future::join_all((0..size).map(|_| f())).await;
        let mut first_err = None;
        for r in results {
            match r {
                Ok(()) => successes += 1,
                Err(e) => {
                    if first_err.is_none() {
                        first_err = Some(e);
                    }
                }
            }
        }
        if first_err.is_some() {
            return (successes, first_err);
        }
    }
    (successes, None)
}

/// The labels of a pod (empty if none).
pub fn labels(meta: &ObjectMeta) -> BTreeMap<String, String> {
    meta.labels.clone().unwrap_or_default()
}

#[cfg(test)]
mod tests;
