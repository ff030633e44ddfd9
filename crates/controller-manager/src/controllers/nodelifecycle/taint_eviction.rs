//! The taint eviction controller (upstream pkg/controller/tainteviction, run as
//! "taint-eviction-controller"): pods on a node with NoExecute taints they do not
//! tolerate are deleted at once; pods tolerating them for tolerationSeconds are
//! deleted when that time has passed since the taint was first seen, unless the taint
//! goes away first. Each deletion is announced with a TaintManagerEviction event
//! ("Marking for deletion Pod ns/name") and a DisruptionTarget pod condition.
//!
//! Upstream relies on the apiserver's DefaultTolerationSeconds admission plugin to give
//! every pod 300 s not-ready / unreachable tolerations. Pods created before our
//! apiserver had that plugin (or by an apiserver without it) lack them, so a pod
//! without a toleration for the node.kubernetes.io/not-ready or /unreachable NoExecute
//! taint is treated as tolerating it for 300 s ([`effective_tolerations`]); pods that
//! carry the admission-added tolerations are unaffected.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::record::EventRecorder;
use anyhow::Context as _;
use k8s_openapi::api::core::v1::{Node, Pod, PodCondition, Taint, Toleration};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, DeleteParams, PostParams};
use kube::runtime::events::{Event, EventType};
use kube::runtime::reflector::Store;
use kube::runtime::watcher;
use kube::Resource;

use super::health::{TAINT_NOT_READY, TAINT_UNREACHABLE};
use crate::context::ControllerContext;
use crate::controllers::endpointslice::informer::{
    is_not_found, key_of, split_key, Change, Informer,
};
use crate::workqueue::{run_workers, WorkQueue};

/// What the DefaultTolerationSeconds admission plugin adds (its flag defaults).
pub const DEFAULT_TOLERATION_SECONDS: i64 = 300;

/// v1 ToleratesTaint.
pub fn tolerates(t: &Toleration, taint: &Taint) -> bool {
    if let Some(effect) = t.effect.as_deref().filter(|e| !e.is_empty()) {
        if effect != taint.effect {
            return false;
        }
    }
    let key = t.key.as_deref().unwrap_or("");
    if !key.is_empty() && key != taint.key {
        return false;
    }
    match t.operator.as_deref().unwrap_or("Equal") {
        "Exists" => true,
        "Equal" => {
            !key.is_empty()
                && t.value.as_deref().unwrap_or("") == taint.value.as_deref().unwrap_or("")
        }
        _ => false,
    }
}

/// The pod's tolerations plus the 300 s not-ready / unreachable ones
/// DefaultTolerationSeconds would have added.
pub fn effective_tolerations(pod: &Pod) -> Vec<Toleration> {
    let mut out: Vec<Toleration> = pod
        .spec
        .as_ref()
        .and_then(|s| s.tolerations.clone())
        .unwrap_or_default();
    for key in [TAINT_NOT_READY, TAINT_UNREACHABLE] {
        let probe = Taint {
            key: key.to_string(),
            effect: "NoExecute".to_string(),
            ..Default::default()
        };
        if !out.iter().any(|t| tolerates(t, &probe)) {
            out.push(Toleration {
                key: Some(key.to_string()),
                operator: Some("Exists".to_string()),
                effect: Some("NoExecute".to_string()),
                toleration_seconds: Some(DEFAULT_TOLERATION_SECONDS),
                ..Default::default()
            });
        }
    }
    out
}

#[derive(Debug, PartialEq)]
pub enum Decision {
    /// No NoExecute taint: nothing to do (cancel a pending eviction).
    NoTaints,
    /// Every taint tolerated forever.
    Tolerated,
    /// Some taint is not tolerated.
    EvictNow,
    /// Evict after this long (the smallest tolerationSeconds among those used).
    EvictAfter(Duration),
}

/// Pure: what the node's taints mean for the pod (upstream processPodOnNode).
pub fn decide(pod: &Pod, node_taints: &[Taint]) -> Decision {
    let taints: Vec<&Taint> = node_taints
        .iter()
        .filter(|t| t.effect == "NoExecute")
        .collect();
    if taints.is_empty() {
        return Decision::NoTaints;
    }
    let tolerations = effective_tolerations(pod);
    let mut min: Option<i64> = None;
    for taint in taints {
        let used: Vec<&Toleration> = tolerations.iter().filter(|t| tolerates(t, taint)).collect();
        if used.is_empty() {
            return Decision::EvictNow;
        }
        // A toleration without seconds tolerates forever; the taint's bound is the
        // largest among the matching ones, the pod's the smallest over all taints.
        let bound = if used.iter().any(|t| t.toleration_seconds.is_none()) {
            None
        } else {
            used.iter().filter_map(|t| t.toleration_seconds).max()
        };
        if let Some(b) = bound {
            min = Some(min.map_or(b, |m| m.min(b)));
        }
    }
    match min {
        None => Decision::Tolerated,
        Some(s) if s <= 0 => Decision::EvictNow,
        Some(s) => Decision::EvictAfter(Duration::from_secs(u64::try_from(s).unwrap_or(0))),
    }
}

fn no_execute_taints(node: &Node) -> Vec<Taint> {
    node.spec
        .as_ref()
        .and_then(|s| s.taints.clone())
        .unwrap_or_default()
        .into_iter()
        .filter(|t| t.effect == "NoExecute")
        .collect()
}

struct Controller {
    client: kube::Client,
    pods: Store<Pod>,
    nodes: Store<Node>,
    recorder: std::sync::Arc<EventRecorder>,
    /// Pod key -> when its eviction countdown started.
    scheduled: Mutex<HashMap<String, Timestamp>>,
}

pub async fn run(ctx: Arc<ControllerContext>) -> anyhow::Result<()> {
    let client = ctx.client.clone();
    let queue: WorkQueue<String> = ctx.queue("noexec_taint_pod");
    let q = queue.clone();
    let pods = Informer::start(
        Api::<Pod>::all(client.clone()),
        watcher::Config::default(),
        move |c| {
            if let Change::Applied(p) | Change::Deleted(p) = c {
                if p.spec.as_ref().and_then(|s| s.node_name.as_ref()).is_some() {
                    q.add(key_of(p));
                }
            }
        },
    );
    let q = queue.clone();
    let pod_store = pods.store.clone();
    let seen: Mutex<HashMap<String, Vec<Taint>>> = Mutex::new(HashMap::new());
    let nodes = Informer::start(
        Api::<Node>::all(client.clone()),
        watcher::Config::default(),
        move |c| {
            let (name, taints) = match c {
                Change::Applied(n) => (key_of(n), no_execute_taints(n)),
                Change::Deleted(n) => (key_of(n), Vec::new()),
                Change::Resynced => return,
            };
            let mut seen = seen.lock().unwrap_or_else(|p| p.into_inner());
            if seen
                .get(&name)
                .map_or(taints.is_empty(), |old| *old == taints)
            {
                seen.insert(name, taints);
                return;
            }
            seen.insert(name.clone(), taints);
            for p in pod_store.state() {
                if p.spec.as_ref().and_then(|s| s.node_name.as_deref()) == Some(name.as_str()) {
                    q.add(key_of(p.as_ref()));
                }
            }
        },
    );
    pods.synced().await?;
    nodes.synced().await?;
    for p in pods.store.state() {
        if p.spec.as_ref().and_then(|s| s.node_name.as_ref()).is_some() {
            queue.add(key_of(p.as_ref()));
        }
    }
    let controller = Arc::new(Controller {
        client,
        pods: pods.store.clone(),
        nodes: nodes.store.clone(),
        recorder: ctx.recorder("taint-eviction-controller"),
        scheduled: Mutex::new(HashMap::new()),
    });
    let q = queue.clone();
    tokio::select! {
        _ = run_workers(queue.clone(), 8, move |key: String| {
            let c = controller.clone();
            let q = q.clone();
            async move { c.sync(&q, &key).await }
        }) => {}
        _ = ctx.stopped() => queue.shut_down(),
    }
    Ok(())
}

impl Controller {
    fn scheduled(&self) -> std::sync::MutexGuard<'_, HashMap<String, Timestamp>> {
        self.scheduled.lock().unwrap_or_else(|p| p.into_inner())
    }

    async fn sync(&self, queue: &WorkQueue<String>, key: &str) -> anyhow::Result<()> {
        let (Some(ns), name) = split_key(key) else {
            return Ok(());
        };
        let pod = self.pods.find(|p| {
            p.metadata.namespace.as_deref() == Some(ns) && p.metadata.name.as_deref() == Some(name)
        });
        let Some(pod) = pod.filter(|p| p.metadata.deletion_timestamp.is_none()) else {
            self.scheduled().remove(key);
            return Ok(());
        };
        let Some(node_name) = pod.spec.as_ref().and_then(|s| s.node_name.clone()) else {
            return Ok(());
        };
        let taints = self
            .nodes
            .find(|n| n.metadata.name.as_deref() == Some(node_name.as_str()))
            .map(|n| no_execute_taints(&n))
            .unwrap_or_default();
        match decide(&pod, &taints) {
            Decision::NoTaints | Decision::Tolerated => {
                if self.scheduled().remove(key).is_some() {
                    self.event(&pod, format!("Cancelling deletion of Pod {key}"))
                        .await;
                }
                Ok(())
            }
            Decision::EvictNow => self.evict(&pod, key).await,
            Decision::EvictAfter(d) => {
                let now = Timestamp::now();
                let start = *self.scheduled().entry(key.to_string()).or_insert(now);
                let fire = start + d;
                if now >= fire {
                    self.evict(&pod, key).await
                } else {
                    let wait = now.duration_until(fire).unsigned_abs();
                    queue.add_after(key.to_string(), wait);
                    Ok(())
                }
            }
        }
    }

    async fn event(&self, pod: &Pod, note: String) {
        let ev = Event {
            type_: EventType::Normal,
            reason: "TaintManagerEviction".to_string(),
            note: Some(note),
            action: "Evict".to_string(),
            secondary: None,
        };
        if let Err(e) = self.recorder.publish(&ev, &pod.object_ref(&())).await {
            tracing::debug!(error = %e, "recording event");
        }
    }

    async fn evict(&self, pod: &Pod, key: &str) -> anyhow::Result<()> {
        let ns = pod.metadata.namespace.clone().unwrap_or_default();
        let name = pod.metadata.name.clone().unwrap_or_default();
        self.event(pod, format!("Marking for deletion Pod {key}"))
            .await;
        let api: Api<Pod> = Api::namespaced(self.client.clone(), &ns);
        let mut with_condition = pod.clone();
        let conds = with_condition
            .status
            .get_or_insert_with(Default::default)
            .conditions
            .get_or_insert_with(Vec::new);
        conds.retain(|c| c.type_ != "DisruptionTarget");
        conds.push(PodCondition {
            type_: "DisruptionTarget".to_string(),
            status: "True".to_string(),
            reason: Some("DeletionByTaintManager".to_string()),
            message: Some("Taint manager: deleting due to NoExecute taint".to_string()),
            last_transition_time: Some(Time(Timestamp::now())),
            ..Default::default()
        });
        if let Err(e) = api
            .replace_status(&name, &PostParams::default(), &with_condition)
            .await
        {
            tracing::debug!(pod = key, error = %e, "adding the DisruptionTarget condition");
        }
        match api.delete(&name, &DeleteParams::default()).await {
            Ok(_) => {
                tracing::info!(pod = key, "evicted pod from a NoExecute-tainted node");
                self.scheduled().remove(key);
                Ok(())
            }
            Err(e) if is_not_found(&e) => Ok(()),
            Err(e) => Err(e).with_context(|| format!("deleting pod {key}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::PodSpec;

    fn pod(tolerations: Vec<Toleration>) -> Pod {
        Pod {
            spec: Some(PodSpec {
                tolerations: Some(tolerations),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn taint(key: &str) -> Taint {
        Taint {
            key: key.into(),
            effect: "NoExecute".into(),
            ..Default::default()
        }
    }

    fn tol(key: &str, secs: Option<i64>) -> Toleration {
        Toleration {
            key: Some(key.into()),
            operator: Some("Exists".into()),
            effect: Some("NoExecute".into()),
            toleration_seconds: secs,
            ..Default::default()
        }
    }

    #[test]
    fn unreachable_without_toleration_gets_the_default_300s() {
        assert_eq!(
            decide(&pod(vec![]), &[taint(TAINT_UNREACHABLE)]),
            Decision::EvictAfter(Duration::from_secs(300))
        );
        assert_eq!(decide(&pod(vec![]), &[]), Decision::NoTaints);
    }

    #[test]
    fn toleration_seconds_set_the_deadline() {
        let p = pod(vec![tol(TAINT_UNREACHABLE, Some(5))]);
        assert_eq!(
            decide(&p, &[taint(TAINT_UNREACHABLE)]),
            Decision::EvictAfter(Duration::from_secs(5))
        );
        let forever = pod(vec![tol(TAINT_UNREACHABLE, None)]);
        assert_eq!(
            decide(&forever, &[taint(TAINT_UNREACHABLE)]),
            Decision::Tolerated
        );
        let zero = pod(vec![tol(TAINT_UNREACHABLE, Some(0))]);
        assert_eq!(
            decide(&zero, &[taint(TAINT_UNREACHABLE)]),
            Decision::EvictNow
        );
    }

    #[test]
    fn an_untolerated_custom_taint_evicts_at_once_and_no_schedule_is_ignored() {
        assert_eq!(
            decide(&pod(vec![]), &[taint("example.com/drain")]),
            Decision::EvictNow
        );
        let ns = Taint {
            key: "x".into(),
            effect: "NoSchedule".into(),
            ..Default::default()
        };
        assert_eq!(decide(&pod(vec![]), &[ns]), Decision::NoTaints);
        // The smallest bound over several taints wins.
        let p = pod(vec![
            tol("example.com/drain", Some(60)),
            tol(TAINT_UNREACHABLE, Some(10)),
        ]);
        assert_eq!(
            decide(&p, &[taint("example.com/drain"), taint(TAINT_UNREACHABLE)]),
            Decision::EvictAfter(Duration::from_secs(10))
        );
    }

    #[test]
    fn toleration_matching() {
        let t = Taint {
            key: "k".into(),
            value: Some("v".into()),
            effect: "NoExecute".into(),
            ..Default::default()
        };
        let eq = |v: &str| Toleration {
            key: Some("k".into()),
            value: Some(v.into()),
            ..Default::default()
        };
        assert!(tolerates(&eq("v"), &t));
        assert!(!tolerates(&eq("w"), &t));
        let all = Toleration {
            operator: Some("Exists".into()),
            ..Default::default()
        };
        assert!(tolerates(&all, &t));
        let wrong_effect = Toleration {
            operator: Some("Exists".into()),
            effect: Some("NoSchedule".into()),
            ..Default::default()
        };
        assert!(!tolerates(&wrong_effect, &t));
    }
}
