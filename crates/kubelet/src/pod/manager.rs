//! The pod manager: watches the pods bound to this node (field selector
//! `spec.nodeName=<node>`), runs each through [`PodRunner`], writes their status through
//! the `pods/status` subresource, and stops and finally deletes them when they are
//! deleted, like upstream's pod workers.
//!
//! * One worker task per pod uid, fed by a channel: operations on one pod are serialised
//!   while pods never wait on each other (a slow init container blocks only its pod).
//! * A failed start never crashes anything: the pod's containers show a waiting reason
//!   (`ErrImageNeverPull` when the image is not in containerd; images only come from the
//!   images directory for now, see [`crate::images`], `CreateContainerConfigError` for an
//!   invalid spec) and the start is retried with backoff.
//! * Deletion: a pod with deletionTimestamp is stopped with its grace period, then
//!   deleted with gracePeriodSeconds=0 and a UID precondition (upstream's final delete).
//!   A pod that vanishes from the API (force delete) is stopped with grace 0.
//! * Succeeded / Failed pods: their final status is posted, then the containers and
//!   sandbox are removed once (the status stays, as upstream).
//! * Shutdown leaves running pods alone (a kubelet restart must not kill workloads);
//!   adopting them after a restart is a later step.
//!
//! Not yet: restarts per restartPolicy, probes, volumes, image pulls.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::pin::pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use k8s_openapi::api::core::v1::{Pod, PodStatus};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::api::{DeleteParams, Patch, PatchParams, Preconditions};
use kube::runtime::watcher::{self, Event};
use kube::runtime::WatchStreamExt;
use kube::{Api, Client};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_stream::StreamExt;

use super::status::{compute_status, ObservedContainer, ObservedState, PodObservation};
use super::worker::{normalize_image, PodRunner, RunningPod};
use super::PodError;

/// Upstream's default terminationGracePeriodSeconds.
const DEFAULT_GRACE_SECONDS: i64 = 30;
/// First and longest wait between start attempts (upstream's image backoff is 10s..5m).
const START_BACKOFF_MIN: Duration = Duration::from_secs(10);
const START_BACKOFF_MAX: Duration = Duration::from_secs(300);

const PHASE_SUCCEEDED: &str = "Succeeded";
const PHASE_FAILED: &str = "Failed";

/// uid -> the pod as started; shared so callers (and later the kubelet API) can look.
pub type RunningPods = Arc<Mutex<HashMap<String, Arc<RunningPod>>>>;

/// Runs the pods the API server binds to this node.
#[derive(Clone)]
pub struct PodManager {
    runner: PodRunner,
    client: Client,
    node_name: String,
    /// How often a pod's status is recomputed (and posted when it changed).
    status_interval: Duration,
    running: RunningPods,
}

/// What the dispatcher tells a pod's worker.
#[derive(Debug)]
enum Update {
    /// The pod was added or changed in the API.
    Changed(Box<Pod>),
    /// The pod is gone from the API (deleted without waiting for us, e.g. grace 0).
    Gone,
}

impl PodManager {
    pub fn new(runner: PodRunner, client: Client, node_name: impl Into<String>) -> Self {
        PodManager {
            runner,
            client,
            node_name: node_name.into(),
            status_interval: Duration::from_secs(2),
            running: Arc::default(),
        }
    }

    /// Overrides the status sync period (2s by default).
    pub fn with_status_interval(mut self, interval: Duration) -> Self {
        self.status_interval = interval;
        self
    }

    /// The pods currently running on this node, by uid.
    pub fn running(&self) -> RunningPods {
        self.running.clone()
    }

    /// Uids of the pods this manager has running.
    pub fn running_uids(&self) -> Vec<String> {
        let mut uids: Vec<String> = lock(&self.running).keys().cloned().collect();
        uids.sort();
        uids
    }

    /// Watches this node's pods until `shutdown` resolves. Watch errors are retried with
    /// backoff (the API server may restart); workers are dropped at shutdown, leaving
    /// their containers running.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
        let api: Api<Pod> = Api::all(self.client.clone());
        let config =
            watcher::Config::default().fields(&format!("spec.nodeName={}", self.node_name));
        let mut stream = pin!(watcher::watcher(api, config).default_backoff());
        let mut shutdown = pin!(shutdown);
        let mut workers: HashMap<String, Worker> = HashMap::new();
        // Uids seen during a (re)list; the ones missing at InitDone were deleted while
        // the watch was down.
        let mut relisted: Option<HashSet<String>> = None;
        tracing::info!(node = %self.node_name, "pod manager watching pods");
        loop {
            let event = tokio::select! {
                _ = &mut shutdown => break,
                ev = stream.next() => ev,
            };
            match event {
                None => break,
                Some(Err(e)) => {
                    tracing::warn!(error = %e, "pod watch failed; retrying");
                }
                Some(Ok(Event::Init)) => relisted = Some(HashSet::new()),
                Some(Ok(Event::InitApply(pod))) => {
                    if let (Some(seen), Some(uid)) = (relisted.as_mut(), pod.metadata.uid.clone()) {
                        seen.insert(uid);
                    }
                    self.apply(&mut workers, pod);
                }
                Some(Ok(Event::InitDone)) => {
                    if let Some(seen) = relisted.take() {
                        let gone: Vec<String> = workers
                            .keys()
                            .filter(|uid| !seen.contains(*uid))
                            .cloned()
                            .collect();
                        for uid in gone {
                            forget_worker(&mut workers, &uid);
                        }
                    }
                }
                Some(Ok(Event::Apply(pod))) => self.apply(&mut workers, pod),
                Some(Ok(Event::Delete(pod))) => {
                    if let Some(uid) = pod.metadata.uid.as_deref() {
                        forget_worker(&mut workers, uid);
                    }
                }
            }
        }
        tracing::info!(node = %self.node_name, "pod manager stopping");
        for (_, w) in workers.drain() {
            w.handle.abort();
        }
        Ok(())
    }

    /// Hands an added/changed pod to its worker, starting one for a new uid.
    fn apply(&self, workers: &mut HashMap<String, Worker>, pod: Pod) {
        let Some(uid) = pod.metadata.uid.clone() else {
            tracing::warn!(pod = ?pod.metadata.name, "pod without uid ignored");
            return;
        };
        if let Some(w) = workers.get(&uid) {
            // A closed channel means the worker finished (final delete done): the pod
            // must not be started again, so the update is dropped.
            let _ = w.tx.send(Update::Changed(Box::new(pod)));
            return;
        }
        let (tx, rx) = mpsc::unbounded_channel();
        let this = self.clone();
        let handle = tokio::spawn(async move { this.pod_worker(pod, rx).await });
        workers.insert(uid, Worker { tx, handle });
    }

    /// The life of one pod on this node; returns once the pod is stopped and forgotten.
    async fn pod_worker(self, mut pod: Pod, mut rx: mpsc::UnboundedReceiver<Update>) {
        let mut st = PodState::default();
        let mut tick = tokio::time::interval(self.status_interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            if pod.metadata.deletion_timestamp.is_some() {
                self.terminate(&pod, &mut st).await;
                return;
            }
            self.sync(&pod, &mut st).await;
            tokio::select! {
                update = rx.recv() => match update {
                    Some(Update::Changed(p)) => pod = *p,
                    Some(Update::Gone) => {
                        self.stop_and_forget(&pod, &mut st, Duration::ZERO).await;
                        return;
                    }
                    // The manager shut down: leave the pod running.
                    None => return,
                },
                _ = tick.tick() => {}
            }
        }
    }

    /// One pass: start the pod if due, then post its status if it changed.
    async fn sync(&self, pod: &Pod, st: &mut PodState) {
        let api_phase = pod.status.as_ref().and_then(|s| s.phase.as_deref());
        let finished_in_api = matches!(api_phase, Some(PHASE_SUCCEEDED | PHASE_FAILED));
        if st.running.is_none()
            && !st.cleaned
            && !finished_in_api
            && Instant::now() >= st.next_start
        {
            self.try_start(pod, st).await;
        }
        let status = match (&st.running, &st.failure) {
            (Some(r), _) if !st.cleaned => Some(self.runner.status(r).await),
            (None, Some(f)) => Some(f.clone()),
            _ => None,
        };
        let Some(status) = status else { return };
        if st.last_posted.as_ref() != Some(&status) {
            match self.post_status(pod, &status).await {
                Ok(()) => st.last_posted = Some(status),
                Err(e) => tracing::warn!(pod = %key(pod), error = %e, "posting pod status"),
            }
        }
        // Finished and reported: remove what is left of it once; the status stays.
        let posted_phase = st.last_posted.as_ref().and_then(|s| s.phase.as_deref());
        if !st.cleaned && matches!(posted_phase, Some(PHASE_SUCCEEDED | PHASE_FAILED)) {
            if let Some(r) = &st.running {
                if let Err(e) = self.runner.stop(r, Duration::ZERO).await {
                    tracing::warn!(pod = %key(pod), error = %e, "cleaning up a finished pod");
                }
            }
            st.cleaned = true;
        }
    }

    async fn try_start(&self, pod: &Pod, st: &mut PodState) {
        let k = key(pod);
        let first_attempt = st.first_attempt.get_or_insert_with(now).clone();
        // Images come only from the images directory (no pulls yet): check them first so
        // each container with an absent image says so.
        let missing = self.missing_images(pod).await;
        let result = if missing.is_empty() {
            self.runner.start(pod).await.map_err(|e| {
                let (reason, message) = classify(&e);
                tracing::warn!(pod = %k, error = %e, reason, "starting pod failed");
                HashMap::from([(String::new(), (reason.to_string(), message))])
            })
        } else {
            tracing::warn!(pod = %k, missing = ?missing.keys(), "image not present");
            Err(missing)
        };
        match result {
            Ok(running) => {
                tracing::info!(pod = %k, "pod started");
                let running = Arc::new(running);
                if let Some(uid) = pod.metadata.uid.clone() {
                    lock(&self.running).insert(uid, running.clone());
                }
                st.running = Some(running);
                st.failure = None;
                st.backoff = START_BACKOFF_MIN;
            }
            Err(reasons) => {
                let status = failure_status(
                    pod,
                    &reasons,
                    self.runner.host_ip.clone(),
                    first_attempt,
                    st.last_posted.as_ref(),
                );
                st.failure = Some(status);
                st.next_start = Instant::now() + st.backoff;
                st.backoff = (st.backoff * 2).min(START_BACKOFF_MAX);
            }
        }
    }

    /// Containers whose image is not in containerd: name -> (reason, message).
    async fn missing_images(&self, pod: &Pod) -> HashMap<String, (String, String)> {
        let mut out = HashMap::new();
        let Some(spec) = pod.spec.as_ref() else {
            return out;
        };
        for c in spec
            .init_containers
            .iter()
            .flatten()
            .chain(&spec.containers)
        {
            let Some(image) = c.image.as_deref().filter(|i| !i.is_empty()) else {
                continue; // start() reports the missing image field as invalid.
            };
            match self
                .runner
                .runtime
                .image_config(&normalize_image(image))
                .await
            {
                Ok(_) => {}
                Err(e) if e.is_not_found() => {
                    // Upstream's wording for an absent image under pull policy Never.
                    let msg = format!(
                        "Container image \"{image}\" is not present with pull policy of Never"
                    );
                    out.insert(c.name.clone(), ("ErrImageNeverPull".to_string(), msg));
                }
                Err(e) => {
                    out.insert(
                        c.name.clone(),
                        ("ErrImageInspect".to_string(), format!("image {image}: {e}")),
                    );
                }
            }
        }
        out
    }

    async fn post_status(&self, pod: &Pod, status: &PodStatus) -> anyhow::Result<()> {
        let (ns, name) = ns_name(pod);
        let api: Api<Pod> = Api::namespaced(self.client.clone(), &ns);
        let patch = serde_json::json!({ "status": status });
        api.patch_status(&name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .map_err(|e| anyhow::anyhow!("patching status of {ns}/{name}: {e}"))?;
        Ok(())
    }

    /// Stops the pod's containers and sandbox (retrying a failed teardown a few times:
    /// what is left would leak) and drops it from the running map.
    async fn stop_and_forget(&self, pod: &Pod, st: &mut PodState, grace: Duration) {
        if let Some(r) = st.running.take() {
            tracing::info!(pod = %key(pod), ?grace, "stopping pod");
            for attempt in 1..=3 {
                match self.runner.stop(&r, grace).await {
                    Ok(()) => break,
                    Err(e) => {
                        tracing::warn!(pod = %key(pod), attempt, error = %e, "stopping pod");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                }
            }
        }
        if let Some(uid) = pod.metadata.uid.as_deref() {
            lock(&self.running).remove(uid);
        }
    }

    /// Graceful deletion: stop with the pod's grace period, then the final delete.
    async fn terminate(&self, pod: &Pod, st: &mut PodState) {
        let grace = pod
            .metadata
            .deletion_grace_period_seconds
            .or_else(|| {
                pod.spec
                    .as_ref()
                    .and_then(|s| s.termination_grace_period_seconds)
            })
            .unwrap_or(DEFAULT_GRACE_SECONDS)
            .max(0);
        let grace = Duration::from_secs(u64::try_from(grace).unwrap_or(0));
        self.stop_and_forget(pod, st, grace).await;
        let (ns, name) = ns_name(pod);
        let api: Api<Pod> = Api::namespaced(self.client.clone(), &ns);
        let dp = DeleteParams {
            grace_period_seconds: Some(0),
            preconditions: Some(Preconditions {
                uid: pod.metadata.uid.clone(),
                resource_version: None,
            }),
            ..Default::default()
        };
        let mut backoff = Duration::from_millis(200);
        for _ in 0..10 {
            match api.delete(&name, &dp).await {
                Ok(_) => {
                    tracing::info!(pod = %key(pod), "pod deleted");
                    return;
                }
                // Already gone, or a new pod took the name: nothing of ours to delete.
                Err(kube::Error::Api(s)) if s.code == 404 || s.code == 409 => return,
                Err(e) => {
                    tracing::warn!(pod = %key(pod), error = %e, "final pod delete; retrying");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                }
            }
        }
        tracing::error!(pod = %key(pod), "giving up on the final delete");
    }
}

struct Worker {
    tx: mpsc::UnboundedSender<Update>,
    handle: tokio::task::JoinHandle<()>,
}

/// Tells a pod's worker its pod is gone (it stops it) and drops the worker's entry.
fn forget_worker(workers: &mut HashMap<String, Worker>, uid: &str) {
    if let Some(w) = workers.remove(uid) {
        let _ = w.tx.send(Update::Gone);
    }
}

/// A worker's view of its pod.
struct PodState {
    running: Option<Arc<RunningPod>>,
    /// The status to report while the pod cannot start.
    failure: Option<PodStatus>,
    last_posted: Option<PodStatus>,
    first_attempt: Option<Time>,
    next_start: Instant,
    backoff: Duration,
    /// The finished pod's containers were removed; its status is final.
    cleaned: bool,
}

impl Default for PodState {
    fn default() -> Self {
        PodState {
            running: None,
            failure: None,
            last_posted: None,
            first_attempt: None,
            next_start: Instant::now(),
            backoff: START_BACKOFF_MIN,
            cleaned: false,
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic elsewhere must not wedge the manager; the map stays consistent per op.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn ns_name(pod: &Pod) -> (String, String) {
    (
        pod.metadata
            .namespace
            .clone()
            .unwrap_or_else(|| "default".into()),
        pod.metadata.name.clone().unwrap_or_default(),
    )
}

fn key(pod: &Pod) -> String {
    let (ns, name) = ns_name(pod);
    format!("{ns}/{name}")
}

fn now() -> Time {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = i64::try_from(d.as_secs()).unwrap_or(0);
    Time(
        k8s_openapi::jiff::Timestamp::new(secs, 0)
            .unwrap_or(k8s_openapi::jiff::Timestamp::UNIX_EPOCH),
    )
}

/// A start error as upstream's container waiting reason + message.
pub fn classify(e: &PodError) -> (&'static str, String) {
    match e {
        PodError::Invalid { msg, .. } => ("CreateContainerConfigError", msg.clone()),
        PodError::Runtime {
            context, source, ..
        } if source.is_not_found() && context.contains("image") => {
            ("ErrImageNeverPull", e.to_string())
        }
        PodError::Runtime { .. } => ("CreateContainerError", e.to_string()),
        // Sandbox trouble: upstream keeps containers in ContainerCreating and reports
        // FailedCreatePodSandBox; the message carries the cause here.
        PodError::Network { .. } | PodError::Io { .. } | PodError::Stop { .. } => (
            "ContainerCreating",
            format!("failed to create pod sandbox: {e}"),
        ),
    }
}

/// The status of a pod that could not start. `reasons` maps container name to
/// (reason, message); the "" entry applies to every container not named.
pub fn failure_status(
    pod: &Pod,
    reasons: &HashMap<String, (String, String)>,
    host_ip: Option<String>,
    start_time: Time,
    previous: Option<&PodStatus>,
) -> PodStatus {
    let spec = pod.spec.clone().unwrap_or_default();
    let reason_of = |name: &str| reasons.get(name).or_else(|| reasons.get(""));
    let init_blocked = spec
        .init_containers
        .iter()
        .flatten()
        .any(|c| reason_of(&c.name).is_some());
    let observed = |c: &k8s_openapi::api::core::v1::Container, is_app: bool| {
        let reason = match reason_of(&c.name) {
            Some((r, _)) => r.clone(),
            // App containers wait behind a blocked init container, as upstream shows.
            None if is_app && init_blocked => "PodInitializing".into(),
            None => "ContainerCreating".into(),
        };
        ObservedContainer {
            name: c.name.clone(),
            image: c.image.clone().unwrap_or_default(),
            image_id: String::new(),
            container_id: None,
            state: ObservedState::Waiting { reason },
            restart_count: 0,
        }
    };
    let obs = PodObservation {
        init: spec
            .init_containers
            .iter()
            .flatten()
            .map(|c| observed(c, false))
            .collect(),
        app: spec.containers.iter().map(|c| observed(c, true)).collect(),
        pod_ips: Vec::new(),
        host_ip,
        start_time: Some(start_time),
        sandbox_ready: false,
        now: now(),
    };
    let mut status = compute_status(pod, &obs, previous);
    // compute_status has no messages for waiting states; add the cause.
    for cs in status
        .init_container_statuses
        .iter_mut()
        .flatten()
        .chain(status.container_statuses.iter_mut().flatten())
    {
        let Some((_, message)) = reason_of(&cs.name) else {
            continue;
        };
        if let Some(w) = cs.state.as_mut().and_then(|s| s.waiting.as_mut()) {
            w.message = Some(message.clone());
        }
    }
    status
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{Container, PodSpec};

    fn pod(init: bool) -> Pod {
        let c = |n: &str| Container {
            name: n.into(),
            image: Some("busybox".into()),
            ..Default::default()
        };
        let mut p = Pod::default();
        p.metadata.name = Some("p".into());
        p.metadata.uid = Some("u".into());
        p.spec = Some(PodSpec {
            init_containers: init.then(|| vec![c("init")]),
            containers: vec![c("app")],
            ..Default::default()
        });
        p
    }

    fn waiting(s: &PodStatus, init: bool) -> (String, Option<String>) {
        let list = if init {
            &s.init_container_statuses
        } else {
            &s.container_statuses
        };
        let w = list
            .as_ref()
            .and_then(|l| l[0].state.clone())
            .and_then(|s| s.waiting);
        let w = w.unwrap_or_else(|| panic!("not waiting: {s:?}"));
        (w.reason.unwrap_or_default(), w.message)
    }

    #[test]
    fn absent_image_is_a_waiting_reason_with_message() {
        let reasons = HashMap::from([(
            "app".to_string(),
            ("ErrImageNeverPull".to_string(), "not present".to_string()),
        )]);
        let s = failure_status(&pod(false), &reasons, None, now(), None);
        assert_eq!(s.phase.as_deref(), Some("Pending"));
        assert_eq!(
            waiting(&s, false),
            ("ErrImageNeverPull".into(), Some("not present".into()))
        );
        assert!(s.pod_ip.is_none());
    }

    #[test]
    fn blocked_init_container_leaves_apps_initializing() {
        let reasons = HashMap::from([(
            "init".to_string(),
            ("ErrImageNeverPull".to_string(), "m".to_string()),
        )]);
        let s = failure_status(&pod(true), &reasons, None, now(), None);
        assert_eq!(waiting(&s, true).0, "ErrImageNeverPull");
        assert_eq!(waiting(&s, false), ("PodInitializing".into(), None));
    }

    #[test]
    fn default_reason_applies_to_all_and_errors_classify() {
        let e = PodError::Invalid {
            pod: "default/p".into(),
            msg: "env FOO: bad".into(),
        };
        let (reason, msg) = classify(&e);
        assert_eq!(reason, "CreateContainerConfigError");
        let reasons = HashMap::from([(String::new(), (reason.to_string(), msg))]);
        let s = failure_status(&pod(true), &reasons, None, now(), None);
        assert_eq!(
            waiting(&s, false),
            (
                "CreateContainerConfigError".into(),
                Some("env FOO: bad".into())
            )
        );
        assert_eq!(waiting(&s, true).0, "CreateContainerConfigError");
    }
}
