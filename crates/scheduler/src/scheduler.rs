//! The scheduling loop: pop a pod, run its profile over the cache, assume it on the
//! chosen node and bind it through pods/binding in the background; when nothing fits,
//! try preemption, set PodScheduled=False (Unschedulable) and emit FailedScheduling.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{Binding, ObjectReference, Pod, PodCondition, PodStatus};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};

use crate::cache::{Cache, PodInfo};
use crate::config::{Profile, SchedulerConfig};
use crate::events::Recorder;
use crate::framework::{fit_error_message, pre_filter, schedule_one, Outcome};
use crate::informers::{missing_priority_class, PriorityClasses};
use crate::metrics::Metrics;
use crate::preemption::{preempt, Candidate, Preemption};
use crate::queue::{QueuedPod, SharedQueue, MAX_IN_UNSCHEDULABLE};

pub struct Scheduler {
    pub client: kube::Client,
    pub config: SchedulerConfig,
    pub cache: Arc<Mutex<Cache>>,
    pub queue: Arc<SharedQueue>,
    pub classes: PriorityClasses,
    pub metrics: Metrics,
    pub recorder: Arc<Recorder>,
    profiles: HashMap<String, Profile>,
    next_start: AtomicUsize,
}

/// What a scheduling cycle decided (computed under the cache lock).
enum Decision {
    Bind(String),
    Fail {
        message: String,
        candidate: Option<Candidate>,
    },
}

/// Pure: the pod's conditions with PodScheduled replaced (transition time kept when
/// the status does not change).
pub fn unschedulable_conditions(pod: &Pod, message: &str) -> Vec<PodCondition> {
    let mut conditions: Vec<PodCondition> = pod
        .status
        .as_ref()
        .and_then(|s| s.conditions.clone())
        .unwrap_or_default();
    let previous = conditions
        .iter()
        .find(|c| c.type_ == "PodScheduled")
        .cloned();
    conditions.retain(|c| c.type_ != "PodScheduled");
    let transition = previous
        .filter(|c| c.status == "False")
        .and_then(|c| c.last_transition_time)
        .unwrap_or_else(|| Time(jiff::Timestamp::now()));
    conditions.push(PodCondition {
        type_: "PodScheduled".to_string(),
        status: "False".to_string(),
        reason: Some("Unschedulable".to_string()),
        message: Some(message.to_string()),
        last_transition_time: Some(transition),
        ..Default::default()
    });
    conditions
}

impl Scheduler {
    pub fn new(
        client: kube::Client,
        config: SchedulerConfig,
        cache: Arc<Mutex<Cache>>,
        queue: Arc<SharedQueue>,
        classes: PriorityClasses,
        metrics: Metrics,
        identity: &str,
    ) -> Scheduler {
        let profiles = config
            .profiles
            .iter()
            .map(|p| (p.scheduler_name.clone(), p.clone()))
            .collect();
        Scheduler {
            recorder: Arc::new(Recorder::new(client.clone(), identity)),
            client,
            config,
            cache,
            queue,
            classes,
            metrics,
            profiles,
            next_start: AtomicUsize::new(0),
        }
    }

    /// The loop: never returns (cancelled by dropping).
    pub async fn run(self: Arc<Self>) {
        let flusher = {
            let queue = self.queue.clone();
            let metrics = self.metrics.clone();
            async move {
                let mut tick = tokio::time::interval(Duration::from_secs(1));
                let mut n: u64 = 0;
                loop {
                    tick.tick().await;
                    n += 1;
                    let now = Instant::now();
                    queue.with(|q| {
                        q.flush_backoff_completed(now);
                        if n.is_multiple_of(30) {
                            q.flush_unschedulable_leftover(now, MAX_IN_UNSCHEDULABLE);
                        }
                        metrics.set_pending(q.lengths());
                    });
                }
            }
        };
        let scheduling = async {
            loop {
                let qp = self.queue.pop().await;
                self.schedule(qp).await;
            }
        };
        tokio::join!(flusher, scheduling);
    }

    fn lock_cache(&self) -> std::sync::MutexGuard<'_, Cache> {
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }

    async fn schedule(self: &Arc<Self>, qp: QueuedPod) {
        let start = Instant::now();
        let pod = qp.info.pod.clone();
        let scheduler_name = pod
            .spec
            .as_ref()
            .and_then(|s| s.scheduler_name.clone())
            .unwrap_or_else(|| crate::config::DEFAULT_SCHEDULER_NAME.to_string());
        let Some(profile) = self.profiles.get(&scheduler_name) else {
            self.queue.with(|q| q.done(&qp.info.key));
            return;
        };
        let missing = {
            let classes = self.classes.lock().unwrap_or_else(|p| p.into_inner());
            missing_priority_class(&pod, &classes)
        };
        if let Some(message) = missing {
            self.record_failure(&qp, profile, &message, start, "error")
                .await;
            self.queue.with(|q| q.requeue(qp, false, Instant::now()));
            return;
        }
        let decision = {
            let mut cache = self.lock_cache();
            let n = cache.node_count().max(1);
            let begin = self.next_start.load(Ordering::Relaxed) % n;
            let tie = rand::random::<u64>();
            let (outcome, processed) = schedule_one(
                profile,
                &qp.info,
                &cache,
                begin,
                self.config.percentage_of_nodes_to_score,
                tie,
            );
            self.next_start
                .store((begin + processed) % n, Ordering::Relaxed);
            match outcome {
                Outcome::Scheduled { node, .. } => {
                    cache.assume(&qp.info, &node);
                    Decision::Bind(node)
                }
                Outcome::Unschedulable(diagnosis) => {
                    let mut post = None;
                    let mut candidate = None;
                    if profile.preemption && cache.node_count() > 0 {
                        self.metrics.preemption_attempts.inc();
                        let state = pre_filter(profile, &qp.info, &cache);
                        match preempt(profile, &state, &qp.info, &cache, &diagnosis) {
                            Preemption::Candidate(c) => candidate = Some(c),
                            Preemption::Failed(msg) => post = Some(msg),
                        }
                    }
                    let message = if cache.node_count() == 0 {
                        // upstream ErrNoNodesAvailable.
                        "no nodes available to schedule pods".to_string()
                    } else {
                        fit_error_message(cache.node_count(), &diagnosis, post.as_deref())
                    };
                    Decision::Fail { message, candidate }
                }
            }
        };
        match decision {
            Decision::Bind(node) => {
                self.queue.with(|q| q.done(&qp.info.key));
                let this = self.clone();
                let profile_name = profile.scheduler_name.clone();
                tokio::spawn(async move { this.bind(qp, node, profile_name, start).await });
            }
            Decision::Fail { message, candidate } => {
                if let Some(c) = candidate {
                    self.metrics
                        .preemption_victims
                        .observe(c.victims.len() as f64);
                    let this = self.clone();
                    let preemptor = qp.info.clone();
                    tokio::spawn(async move { this.carry_out_preemption(preemptor, c).await });
                }
                self.record_failure(&qp, profile, &message, start, "unschedulable")
                    .await;
                self.queue.with(|q| q.requeue(qp, true, Instant::now()));
            }
        }
    }

    async fn record_failure(
        &self,
        qp: &QueuedPod,
        profile: &Profile,
        message: &str,
        start: Instant,
        result: &str,
    ) {
        let pod = &qp.info.pod;
        tracing::info!(pod = %qp.info.key, %message, "unable to schedule pod; waiting");
        self.metrics
            .schedule_attempts
            .with_label_values(&[result, &profile.scheduler_name])
            .inc();
        self.metrics
            .attempt_duration
            .with_label_values(&[result, &profile.scheduler_name])
            .observe(start.elapsed().as_secs_f64());
        self.recorder
            .emit(pod, "Warning", "FailedScheduling", "Scheduling", message)
            .await;
        let unchanged = pod
            .status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|cs| {
                cs.iter().any(|c| {
                    c.type_ == "PodScheduled"
                        && c.status == "False"
                        && c.message.as_deref() == Some(message)
                })
            });
        if unchanged {
            return;
        }
        let patch = Pod {
            status: Some(PodStatus {
                conditions: Some(unschedulable_conditions(pod, message)),
                ..Default::default()
            }),
            ..Default::default()
        };
        let api: Api<Pod> = Api::namespaced(self.client.clone(), qp.info.namespace());
        let name = pod.metadata.name.clone().unwrap_or_default();
        if let Err(e) = api
            .patch_status(&name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
        {
            tracing::warn!(error = %e, pod = %qp.info.key, "updating PodScheduled condition");
        }
    }

    async fn bind(self: Arc<Self>, qp: QueuedPod, node: String, profile: String, start: Instant) {
        let pod = &qp.info.pod;
        let name = pod.metadata.name.clone().unwrap_or_default();
        let api: Api<Pod> = Api::namespaced(self.client.clone(), qp.info.namespace());
        let binding = Binding {
            metadata: ObjectMeta {
                name: Some(name.clone()),
                namespace: pod.metadata.namespace.clone(),
                uid: pod.metadata.uid.clone(),
                ..Default::default()
            },
            target: ObjectReference {
                api_version: Some("v1".to_string()),
                kind: Some("Node".to_string()),
                name: Some(node.clone()),
                ..Default::default()
            },
        };
        let result: Result<kube::core::Status, kube::Error> = api
            .create_subresource("binding", &name, &PostParams::default(), &binding)
            .await;
        match result {
            Ok(_) => {
                self.metrics
                    .schedule_attempts
                    .with_label_values(&["scheduled", &profile])
                    .inc();
                self.metrics
                    .attempt_duration
                    .with_label_values(&["scheduled", &profile])
                    .observe(start.elapsed().as_secs_f64());
                self.metrics
                    .pod_scheduling_sli_duration
                    .with_label_values(&[&qp.attempts.to_string()])
                    .observe(qp.initial.elapsed().as_secs_f64());
                self.recorder.forget(&qp.info.key);
                let msg = format!(
                    "Successfully assigned {}/{} to {}",
                    qp.info.namespace(),
                    name,
                    node
                );
                tracing::debug!(pod = %qp.info.key, %node, "bound");
                self.recorder
                    .emit(pod, "Normal", "Scheduled", "Binding", &msg)
                    .await;
            }
            Err(e) => {
                tracing::warn!(error = %e, pod = %qp.info.key, %node, "binding failed");
                self.lock_cache().forget(&qp.info.key);
                self.metrics
                    .schedule_attempts
                    .with_label_values(&["error", &profile])
                    .inc();
                let gone = matches!(&e, kube::Error::Api(s) if s.code == 404);
                let already = matches!(&e, kube::Error::Api(s) if s.code == 409);
                if !gone && !already {
                    self.recorder
                        .emit(
                            pod,
                            "Warning",
                            "FailedScheduling",
                            "Binding",
                            &format!("Binding rejected: {e}"),
                        )
                        .await;
                    self.queue.with(|q| q.requeue(qp, false, Instant::now()));
                }
            }
        }
    }

    /// Deletes the victims and nominates the node for the preemptor.
    async fn carry_out_preemption(self: Arc<Self>, preemptor: PodInfo, c: Candidate) {
        let uid = preemptor.pod.metadata.uid.clone().unwrap_or_default();
        for v in &c.victims {
            let api: Api<Pod> = Api::namespaced(self.client.clone(), v.namespace());
            let name = v.pod.metadata.name.clone().unwrap_or_default();
            tracing::info!(victim = %v.key, preemptor = %preemptor.key, node = %c.node, "preempting");
            match api.delete(&name, &DeleteParams::default()).await {
                Ok(_) => {
                    self.recorder
                        .emit(
                            &v.pod,
                            "Normal",
                            "Preempted",
                            "Preempting",
                            &format!("Preempted by pod {uid} on node {}", c.node),
                        )
                        .await
                }
                Err(kube::Error::Api(s)) if s.code == 404 => {}
                Err(e) => tracing::warn!(error = %e, victim = %v.key, "deleting preemption victim"),
            }
        }
        let api: Api<Pod> = Api::namespaced(self.client.clone(), preemptor.namespace());
        let name = preemptor.pod.metadata.name.clone().unwrap_or_default();
        let patch = Pod {
            status: Some(PodStatus {
                nominated_node_name: Some(c.node.clone()),
                ..Default::default()
            }),
            ..Default::default()
        };
        if let Err(e) = api
            .patch_status(&name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
        {
            tracing::warn!(error = %e, pod = %preemptor.key, "setting nominatedNodeName");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pod_scheduled_condition_is_replaced() {
        let mut pod = crate::cache::tests::pod("ns", "p", None, "1");
        pod.status = Some(PodStatus {
            conditions: Some(vec![PodCondition {
                type_: "PodScheduled".into(),
                status: "False".into(),
                message: Some("old".into()),
                last_transition_time: Some(Time(jiff::Timestamp::UNIX_EPOCH)),
                ..Default::default()
            }]),
            ..Default::default()
        });
        let cs = unschedulable_conditions(&pod, "0/1 nodes are available: 1 Insufficient cpu.");
        assert_eq!(cs.len(), 1);
        assert_eq!(cs[0].reason.as_deref(), Some("Unschedulable"));
        assert_eq!(
            cs[0].message.as_deref(),
            Some("0/1 nodes are available: 1 Insufficient cpu.")
        );
        assert_eq!(
            cs[0].last_transition_time,
            Some(Time(jiff::Timestamp::UNIX_EPOCH))
        );
    }
}
