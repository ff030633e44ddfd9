//! The pod manager: watches the pods bound to this node (field selector
//! `spec.nodeName=<node>`), runs each through [`PodRunner`], writes their status through
//! the `pods/status` subresource, and stops and finally deletes them when they are
//! deleted, like upstream's pod workers.
//!
//! * One worker task per pod uid, fed by a channel: operations on one pod are serialised
//!   while pods never wait on each other (a slow init container blocks only its pod).
//! * Images first: every container's image goes through the image manager
//!   ([`ImageService`]: imagePullPolicy, registry pulls with mirrors and the pod's
//!   imagePullSecrets, events Pulling / Pulled / Failed / BackOff). A container whose
//!   image cannot be had waits with ErrImagePull, then ImagePullBackOff while the pull
//!   backs off (10 s doubling to 300 s), or ErrImageNeverPull / InvalidImageName.
//!   Status reports the repo digest as imageID.
//! * A failed start never crashes anything: the pod's containers show a waiting reason
//!   (`CreateContainerConfigError` for an invalid spec, ...) and the start is retried
//!   with backoff.
//! * Deletion: a pod with deletionTimestamp is stopped with its grace period, then
//!   deleted with gracePeriodSeconds=0 and a UID precondition (upstream's final delete).
//!   A pod that vanishes from the API (force delete) is stopped with grace 0.
//! * Succeeded / Failed pods: their final status is posted, then the containers and
//!   sandbox are removed once (the status stays, as upstream).
//! * Shutdown leaves running pods alone (a kubelet restart must not kill workloads);
//!   adopting them after a restart is a later step.
//!
//! Not yet: restarts per restartPolicy, probes, volumes.

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
use super::worker::{PodRunner, RunningPod};
use super::PodError;
use crate::images::service::{ImageService, ERR_IMAGE_PULL, IMAGE_PULL_BACKOFF};
use crate::registries::Registries;

/// Upstream's default terminationGracePeriodSeconds.
const DEFAULT_GRACE_SECONDS: i64 = 30;
/// First and longest wait between start attempts (upstream's image backoff is 10s..5m).
const START_BACKOFF_MIN: Duration = Duration::from_secs(10);
const START_BACKOFF_MAX: Duration = Duration::from_secs(300);

/// How soon a just-started pod's status is looked at again.
const FOLLOW_UP_AFTER_START: Duration = Duration::from_millis(200);

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
    images: ImageService,
    /// The pod workers' core/v1 event queue (image events go there too).
    recorder: crate::pod::events::EventRecorder,
    /// staticPodPath and how often it is read (fileCheckFrequency).
    static_pods: Option<(std::path::PathBuf, Duration)>,
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
    /// A manager with an image service that has no registry mirrors (see
    /// [`PodManager::with_image_service`]).
    pub fn new(runner: PodRunner, client: Client, node_name: impl Into<String>) -> Self {
        let node_name = node_name.into();
        let images = ImageService::new(
            runner.runtime.clone(),
            Registries::default(),
            std::env::temp_dir().join("kubelet-pulls"),
        );
        let recorder = runner.settings.events.clone();
        PodManager {
            runner,
            client,
            node_name,
            status_interval: Duration::from_secs(2),
            running: Arc::default(),
            images,
            recorder,
            static_pods: None,
        }
    }

    /// Runs the static pods of `dir` (see [`crate::static_pods`]), reading it every
    /// `interval`.
    pub fn with_static_pods(
        mut self,
        dir: impl Into<std::path::PathBuf>,
        interval: Duration,
    ) -> Self {
        self.static_pods = Some((dir.into(), interval));
        self
    }

    /// Uses `images` (registry mirrors, work dir, known digests) for image pulls.
    pub fn with_image_service(mut self, images: ImageService) -> Self {
        self.images = images;
        self
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
        self.clean_up_at_start(&api).await;
        let mut stream = pin!(watcher::watcher(api, config).default_backoff());
        let mut shutdown = pin!(shutdown);
        let mut workers: HashMap<String, Worker> = HashMap::new();
        // Uids seen during a (re)list; the ones missing at InitDone were deleted while
        // the watch was down.
        let mut relisted: Option<HashSet<String>> = None;
        // Static pods come from files, not the API: a relist must not stop them.
        let mut static_uids: HashSet<String> = HashSet::new();
        let (static_tx, mut static_rx) = mpsc::unbounded_channel();
        let static_task = self.static_pods.clone().map(|(dir, interval)| {
            tokio::spawn(crate::static_pods::run(
                dir,
                self.node_name.clone(),
                self.client.clone(),
                interval,
                static_tx,
            ))
        });
        tracing::info!(node = %self.node_name, "pod manager watching pods");
        loop {
            let event = tokio::select! {
                _ = &mut shutdown => break,
                ev = stream.next() => ev,
                Some(update) = static_rx.recv() => {
                    match update {
                        crate::static_pods::StaticPodUpdate::Set(pod) => {
                            if let Some(uid) = pod.metadata.uid.clone() {
                                static_uids.insert(uid);
                            }
                            self.apply(&mut workers, *pod);
                        }
                        crate::static_pods::StaticPodUpdate::Removed(uid) => {
                            static_uids.remove(&uid);
                            forget_worker(&mut workers, &uid);
                        }
                    }
                    continue;
                }
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
                            .filter(|uid| !seen.contains(*uid) && !static_uids.contains(*uid))
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
        if let Some(t) = static_task {
            t.abort();
        }
        for (_, w) in workers.drain() {
            w.handle.abort();
        }
        Ok(())
    }

    /// Removes what a previous kubelet left (see [`crate::housekeeping`]) before any
    /// worker starts. Without the API (after a few tries) nothing is removed.
    async fn clean_up_at_start(&self, api: &Api<Pod>) {
        let lp =
            kube::api::ListParams::default().fields(&format!("spec.nodeName={}", self.node_name));
        let mut wait = Duration::from_millis(500);
        for attempt in 1..=6 {
            match api.list(&lp).await {
                Ok(list) => {
                    let mut uids: HashSet<String> = list
                        .items
                        .into_iter()
                        .filter_map(|p| p.metadata.uid)
                        .collect();
                    // Static pods are not in the API; their manifests say what to keep.
                    if let Some((dir, _)) = &self.static_pods {
                        uids.extend(
                            crate::static_pods::read_dir(dir, &self.node_name, &HashMap::new())
                                .into_keys(),
                        );
                    }
                    match crate::housekeeping::clean_up_at_start(
                        &self.runner.runtime,
                        &self.runner.cni,
                        &uids,
                    )
                    .await
                    {
                        Ok(r) => {
                            if !r.orphans.is_empty() || !r.kept.is_empty() {
                                tracing::info!(orphans = ?r.orphans, to_adopt = ?r.kept, errors = ?r.errors, "cleaned up after the previous kubelet");
                            }
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "start-up cleanup: listing containers")
                        }
                    }
                    return;
                }
                Err(e) => {
                    tracing::warn!(attempt, error = %e, "start-up cleanup: listing this node's pods");
                    tokio::time::sleep(wait).await;
                    wait *= 2;
                }
            }
        }
    }

    /// Hands an added/changed pod to its worker, starting one for a new uid.
    fn apply(&self, workers: &mut HashMap<String, Worker>, pod: Pod) {
        if crate::static_pods::is_mirror(&pod) {
            return; // the static pod behind it runs from its file
        }
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
            let was_running = st.running.is_some();
            self.sync(&pod, &mut st).await;
            // Right after a start the containers are only just up: look again soon, so
            // Running is reported without waiting a whole status interval.
            let just_started = !was_running && st.running.is_some();
            let follow_up = tokio::time::sleep(if just_started {
                FOLLOW_UP_AFTER_START.min(self.status_interval)
            } else {
                self.status_interval
            });
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
                _ = tick.tick(), if !just_started => {}
                _ = follow_up, if just_started => {}
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
            (Some(r), _) if !st.cleaned => {
                let mut status = self.runner.status(r).await;
                crate::images::pod_images::fill_image_ids(&mut status, &st.image_ids);
                Some(status)
            }
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
        // A pod a previous kubelet started is adopted as it runs (once, before anything
        // is pulled or started); see [`crate::housekeeping`] for the rest.
        if !st.adoption_tried {
            st.adoption_tried = true;
            match self.runner.adopt(pod).await {
                Ok(Some(running)) => {
                    tracing::info!(pod = %k, "adopted pod left running by a previous kubelet");
                    let running = Arc::new(running);
                    if let Some(uid) = pod.metadata.uid.clone() {
                        lock(&self.running).insert(uid, running.clone());
                    }
                    st.running = Some(running);
                    self.adopted_image_ids(pod, st).await;
                    return;
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(pod = %k, error = %e, "adopting pod; starting it afresh"),
            }
        }
        let first_attempt = st.first_attempt.get_or_insert_with(now).clone();
        // Every image first, so each container whose image cannot be had says why.
        let missing = self.ensure_images(pod, st).await;
        let image_trouble_only = !missing.is_empty()
            && missing
                .values()
                .all(|(r, _)| r == ERR_IMAGE_PULL || r == IMAGE_PULL_BACKOFF);
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
                if image_trouble_only {
                    // The image service keeps the pull backoff; come back at the next
                    // sync so ImagePullBackOff shows while it lasts.
                    st.next_start = Instant::now();
                } else {
                    st.next_start = Instant::now() + st.backoff;
                    st.backoff = (st.backoff * 2).min(START_BACKOFF_MAX);
                }
            }
        }
    }

    /// imageID for an adopted pod's containers: the repo digests of their images.
    async fn adopted_image_ids(&self, pod: &Pod, st: &mut PodState) {
        let Some(spec) = pod.spec.as_ref() else {
            return;
        };
        for c in spec
            .init_containers
            .iter()
            .flatten()
            .chain(&spec.containers)
        {
            let Some(name) = c
                .image
                .as_deref()
                .and_then(|i| crate::images::reference::ImageName::parse(i).ok())
            else {
                continue;
            };
            if let Some(d) = self.images.repo_digest(&name.full_name()).await {
                st.image_ids.insert(c.name.clone(), d);
            }
        }
    }

    /// Ensures every container's image (see [`crate::images::pod_images`]); returns the
    /// containers whose image is not usable: name -> (reason, message).
    async fn ensure_images(
        &self,
        pod: &Pod,
        st: &mut PodState,
    ) -> HashMap<String, (String, String)> {
        let (failures, digests) =
            crate::images::pod_images::ensure(&self.images, &self.client, &self.recorder, pod)
                .await;
        st.image_ids.extend(digests);
        failures
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
            self.images.forget_pod(uid);
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
    /// Container name -> repo digest of its image (status imageID).
    image_ids: HashMap<String, String>,
    /// Adoption of a running pod was attempted (first sync only).
    adoption_tried: bool,
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
            image_ids: HashMap::new(),
            adoption_tried: false,
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
