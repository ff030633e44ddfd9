//! One pass of upstream's `SyncPod` over a started pod (`computePodActions`): observe
//! every container's task, then start the next init container once the previous one
//! succeeded, start app containers once all init containers did, and restart exited
//! containers per restartPolicy with CrashLoopBackOff back-off. Each container's state
//! lives in a [`ContainerRecord`]; the pod's status is computed from the records.
//!
//! Container failures are states, not errors: a missing configMap key leaves the
//! container waiting with CreateContainerConfigError, a runtime refusing to create it
//! CreateContainerError, a command not found is a terminated StartError (exit 128); the
//! pod and every other pod keep going.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{Container, ContainerStateTerminated, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use super::backoff::{crash_loop_message, Backoff};
use super::containers::{container_spec, ImageConfig};
use super::env::{container_env, PodRuntimeInfo};
use super::events::{reason, NORMAL, WARNING};
use super::probes::ProbeSet;
use super::status::{ContainerDetail, ObservedContainer, ObservedState};
use super::volumes::{self, VolumeMap};
use super::worker::{normalize_image, now, PodRunner, RunningPod};
use super::{container_id, container_log_path};
use crate::runtime::{TaskIo, TaskState};

pub const REASON_CRASH_LOOP: &str = "CrashLoopBackOff";
pub const REASON_CONFIG_ERROR: &str = "CreateContainerConfigError";
pub const REASON_CREATE_ERROR: &str = "CreateContainerError";
pub const REASON_START_ERROR: &str = "StartError";
pub const REASON_OOM: &str = "OOMKilled";
pub const REASON_IMAGE_NEVER_PULL: &str = "ErrImageNeverPull";

/// What the worker knows about one container of the pod across its restarts.
#[derive(Debug)]
pub struct ContainerRecord {
    pub name: String,
    pub init: bool,
    /// The containerd id, `<uid>-<name>` (the same across restarts).
    pub id: String,
    pub image: String,
    pub image_id: String,
    pub restart_count: i32,
    /// A containerd container exists for the current run.
    pub exists: bool,
    pub started_at: Option<Time>,
    pub log_path: PathBuf,
    /// Set once the current run's task stopped.
    pub terminated: Option<ContainerStateTerminated>,
    pub finished: Option<Instant>,
    /// The previous run's end (lastState.terminated).
    pub last_state: Option<ContainerStateTerminated>,
    /// Why the container is not running (reason, message).
    pub waiting: Option<(String, String)>,
    pub probes: Option<ProbeSet>,
}

impl ContainerRecord {
    fn new(running: &RunningPod, c: &Container, init: bool) -> Self {
        ContainerRecord {
            name: c.name.clone(),
            init,
            id: container_id(&running.uid, &c.name),
            image: c.image.clone().unwrap_or_default(),
            image_id: String::new(),
            restart_count: 0,
            exists: false,
            started_at: None,
            log_path: container_log_path(&running.log_dir, &c.name, 0),
            terminated: None,
            finished: None,
            last_state: None,
            waiting: None,
            probes: None,
        }
    }

    fn backoff_key(&self) -> String {
        if self.init {
            format!("init:{}", self.name)
        } else {
            self.name.clone()
        }
    }

    /// The status view of this record.
    pub fn observed(&self) -> (ObservedContainer, ContainerDetail) {
        let mut detail = ContainerDetail {
            last_state: self.last_state.clone(),
            ..Default::default()
        };
        let state = if let Some((reason, message)) = &self.waiting {
            detail.waiting_message = Some(message.clone());
            if self.terminated.is_some() {
                // Backing off: the run that just ended is the last state.
                detail.last_state = self.terminated.clone();
            }
            ObservedState::Waiting {
                reason: reason.clone(),
            }
        } else if let Some(t) = &self.terminated {
            detail.terminated_reason = t.reason.clone();
            detail.terminated_message = t.message.clone();
            ObservedState::Terminated {
                exit_code: t.exit_code,
                signal: t.signal,
                started_at: t.started_at.clone(),
                finished_at: t.finished_at.clone(),
            }
        } else if self.exists {
            if let Some(p) = &self.probes {
                let (ready, started) = p.status();
                detail.ready = Some(ready);
                detail.started = Some(started);
            }
            ObservedState::Running {
                started_at: self.started_at.clone(),
            }
        } else {
            ObservedState::Waiting {
                reason: "ContainerCreating".into(),
            }
        };
        let observed = ObservedContainer {
            name: self.name.clone(),
            image: self.image.clone(),
            image_id: self.image_id.clone(),
            container_id: self.exists.then(|| format!("containerd://{}", self.id)),
            state,
            restart_count: self.restart_count,
        };
        (observed, detail)
    }
}

/// The mutable part of a running pod.
#[derive(Debug)]
pub struct PodState {
    pub containers: Vec<ContainerRecord>,
    pub backoff: Backoff,
    pub volumes: VolumeMap,
    pub info: PodRuntimeInfo,
    pub last_resync: Instant,
    /// The pod is being stopped: no more starts or restarts.
    pub stopping: bool,
}

/// What one sync pass left the pod doing (so `start` knows whether to wait).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncOutcome {
    /// An init container is running: its containerd id.
    InitRunning(String),
    /// Nothing to wait for: app containers started, backing off, or blocked.
    Settled,
}

/// Upstream `ShouldContainerBeRestarted` for a container that exited with `exit_code`.
pub fn should_restart(policy: &str, exit_code: i32) -> bool {
    match policy {
        "Never" => false,
        "OnFailure" => exit_code != 0,
        _ => true,
    }
}

/// Init containers are re-run on failure unless the policy is Never; a successful one
/// is never re-run.
pub fn should_rerun_init(policy: &str, exit_code: i32) -> bool {
    exit_code != 0 && policy != "Never"
}

/// The `oom_kill` counter of a cgroup's `memory.events` (v2) or `memory.oom_control`
/// (v1, kernels >= 4.13).
pub fn parse_oom_kills(text: &str) -> u64 {
    text.lines()
        .filter_map(|l| l.strip_prefix("oom_kill "))
        .filter_map(|v| v.trim().parse::<u64>().ok())
        .sum()
}

/// Whether the kernel OOM-killed something in the container's cgroup (the path the spec
/// builder gives runc: `/<containerd namespace>/<id>`), on cgroup v1 or v2.
fn oom_killed(namespace: &str, id: &str) -> bool {
    let rel = format!("{namespace}/{id}");
    let candidates = [
        format!("/sys/fs/cgroup/memory/{rel}/memory.oom_control"),
        format!("/sys/fs/cgroup/{rel}/memory.events"),
        format!("/sys/fs/cgroup/unified/{rel}/memory.events"),
    ];
    candidates.iter().any(|p| {
        std::fs::read_to_string(p)
            .map(|t| parse_oom_kills(&t) > 0)
            .unwrap_or(false)
    })
}

fn restart_policy(pod: &Pod) -> String {
    pod.spec
        .as_ref()
        .and_then(|s| s.restart_policy.clone())
        .unwrap_or_else(|| "Always".into())
}

/// upstream `format.Pod`: `name_namespace(uid)`.
pub fn format_pod(pod: &Pod) -> String {
    format!(
        "{}_{}({})",
        pod.metadata.name.as_deref().unwrap_or(""),
        pod.metadata.namespace.as_deref().unwrap_or("default"),
        pod.metadata.uid.as_deref().unwrap_or("")
    )
}

fn record_index(st: &mut PodState, running: &RunningPod, c: &Container, init: bool) -> usize {
    match st
        .containers
        .iter()
        .position(|r| r.name == c.name && r.init == init)
    {
        Some(i) => i,
        None => {
            st.containers.push(ContainerRecord::new(running, c, init));
            st.containers.len() - 1
        }
    }
}

impl PodRunner {
    /// Notices containers whose task stopped since the last pass.
    async fn observe_exits(&self, st: &mut PodState) {
        for rec in st.containers.iter_mut() {
            if !rec.exists || rec.terminated.is_some() {
                continue;
            }
            let status = match self.runtime.task_status(&rec.id).await {
                Ok(s) => s,
                Err(e) if e.is_not_found() => {
                    // The task is gone (deleted behind our back): treat as an error exit.
                    rec.terminated = Some(ContainerStateTerminated {
                        exit_code: 128,
                        reason: Some("ContainerStatusUnknown".into()),
                        message: Some("The container could not be located".into()),
                        started_at: rec.started_at.clone(),
                        finished_at: Some(now()),
                        ..Default::default()
                    });
                    rec.finished = Some(Instant::now());
                    continue;
                }
                Err(e) => {
                    tracing::warn!(container = %rec.id, error = %e, "task status");
                    continue;
                }
            };
            if status.state != TaskState::Stopped {
                continue;
            }
            let finished_at = self
                .runtime
                .wait(&rec.id, Duration::from_secs(1))
                .await
                .ok()
                .and_then(|e| e.exited_at)
                .and_then(|t| k8s_openapi::jiff::Timestamp::new(t.seconds, t.nanos).ok())
                .map(Time)
                .or_else(|| Some(now()));
            let exit_code = i32::try_from(status.exit_code).unwrap_or(i32::MAX);
            let reason = if exit_code != 0 && oom_killed(self.runtime.namespace(), &rec.id) {
                REASON_OOM
            } else if exit_code == 0 {
                "Completed"
            } else {
                "Error"
            };
            rec.terminated = Some(ContainerStateTerminated {
                container_id: Some(format!("containerd://{}", rec.id)),
                exit_code,
                signal: None,
                reason: Some(reason.into()),
                message: None,
                started_at: rec.started_at.clone(),
                finished_at,
            });
            rec.finished = Some(Instant::now());
            if let Some(p) = rec.probes.take() {
                p.stop();
            }
        }
    }

    /// One sync pass; see the module docs.
    pub(crate) async fn sync_pod(&self, running: &RunningPod) -> SyncOutcome {
        let mut st = running.state.lock().await;
        self.observe_exits(&mut st).await;
        if st.stopping {
            return SyncOutcome::Settled;
        }
        let pod = &running.pod;
        let policy = restart_policy(pod);
        let spec = pod.spec.clone().unwrap_or_default();

        for c in spec.init_containers.iter().flatten() {
            let i = record_index(&mut st, running, c, true);
            let rec = &st.containers[i];
            if rec.exists && rec.terminated.is_none() {
                return SyncOutcome::InitRunning(rec.id.clone());
            }
            match rec.terminated.as_ref().map(|t| t.exit_code) {
                Some(0) => continue,
                Some(code) => {
                    if should_rerun_init(&policy, code) {
                        self.restart_or_back_off(running, &mut st, i, c).await;
                    }
                    return match &st.containers[i] {
                        r if r.exists && r.terminated.is_none() => {
                            SyncOutcome::InitRunning(r.id.clone())
                        }
                        _ => SyncOutcome::Settled,
                    };
                }
                None => {
                    self.start_container(running, &mut st, i, c).await;
                    let r = &st.containers[i];
                    return if r.exists && r.terminated.is_none() {
                        SyncOutcome::InitRunning(r.id.clone())
                    } else {
                        SyncOutcome::Settled
                    };
                }
            }
        }

        for c in &spec.containers {
            let i = record_index(&mut st, running, c, false);
            let rec = &st.containers[i];
            if rec.exists && rec.terminated.is_none() {
                continue;
            }
            match rec.terminated.as_ref().map(|t| t.exit_code) {
                Some(code) if should_restart(&policy, code) => {
                    self.restart_or_back_off(running, &mut st, i, c).await;
                }
                Some(_) => {}
                None => self.start_container(running, &mut st, i, c).await,
            }
        }
        SyncOutcome::Settled
    }

    /// Restarts record `i` unless it is in back-off (then it waits in CrashLoopBackOff).
    async fn restart_or_back_off(
        &self,
        running: &RunningPod,
        st: &mut PodState,
        i: usize,
        c: &Container,
    ) {
        let now_i = Instant::now();
        let key = st.containers[i].backoff_key();
        let finished = st.containers[i].finished.unwrap_or(now_i);
        if st.backoff.in_backoff_since(&key, finished, now_i) {
            let delay = st.backoff.get(&key);
            let pod = &running.pod;
            let msg = crash_loop_message(
                delay,
                &c.name,
                pod.metadata.name.as_deref().unwrap_or(""),
                pod.metadata.namespace.as_deref().unwrap_or("default"),
                &running.uid,
            );
            let rec = &mut st.containers[i];
            if rec.waiting.is_none() {
                self.settings.events.record(
                    pod,
                    Some(&c.name),
                    WARNING,
                    reason::BACK_OFF,
                    &format!(
                        "Back-off restarting failed container {} in pod {}",
                        c.name,
                        format_pod(pod)
                    ),
                );
            }
            rec.waiting = Some((REASON_CRASH_LOOP.into(), msg));
            return;
        }
        st.backoff.next(&key, now_i);
        let rec = &mut st.containers[i];
        if rec.exists {
            if let Err(e) = self.runtime.delete(&rec.id).await {
                tracing::warn!(container = %rec.id, error = %e, "removing exited container");
                return;
            }
            rec.exists = false;
        }
        if let Some(t) = rec.terminated.take() {
            rec.last_state = Some(t);
        }
        rec.restart_count += 1;
        rec.finished = None;
        rec.waiting = None;
        rec.log_path = container_log_path(&running.log_dir, &rec.name, rec.restart_count);
        self.start_container(running, st, i, c).await;
    }

    /// Creates and starts record `i`'s container; failures become its state.
    async fn start_container(
        &self,
        running: &RunningPod,
        st: &mut PodState,
        i: usize,
        c: &Container,
    ) {
        let pod = &running.pod;
        let events = &self.settings.events;
        let fail = |st: &mut PodState, reason: &str, message: String| {
            let rec = &mut st.containers[i];
            rec.waiting = Some((reason.to_string(), message));
        };
        let Some(image_name) = c.image.as_deref().filter(|s| !s.is_empty()) else {
            fail(st, REASON_CONFIG_ERROR, "image is required".into());
            return;
        };
        let image = normalize_image(image_name);
        let config = match self.runtime.image_config(&image).await {
            Ok((config, _)) => config,
            Err(e) if e.is_not_found() => {
                let msg = format!(
                    "Container image \"{image_name}\" is not present with pull policy of Never"
                );
                events.record(pod, Some(&c.name), WARNING, REASON_IMAGE_NEVER_PULL, &msg);
                fail(st, REASON_IMAGE_NEVER_PULL, msg);
                return;
            }
            Err(e) => {
                fail(st, "ErrImageInspect", format!("image {image_name}: {e}"));
                return;
            }
        };
        // The first start's Pulled event comes from the image manager; restarts say
        // the image is present, as upstream does.
        if st.containers[i].restart_count > 0 {
            events.record(
                pod,
                Some(&c.name),
                NORMAL,
                reason::PULLED,
                &format!("Container image \"{image_name}\" already present on machine"),
            );
        }
        st.containers[i].image_id = image.clone();

        // Environment (configMaps / secrets fetched fresh) and mounts.
        let objs = match super::sources::fetch(self.settings.client.as_ref(), pod).await {
            Ok(o) => o,
            Err(e) => {
                fail(st, REASON_CONFIG_ERROR, format!("{e:#}"));
                return;
            }
        };
        let (env, invalid) = match container_env(pod, c, &objs, &st.info) {
            Ok(v) => v,
            Err(e) => {
                events.record(
                    pod,
                    Some(&c.name),
                    WARNING,
                    reason::FAILED,
                    &format!("Error: {e}"),
                );
                fail(st, REASON_CONFIG_ERROR, e.0);
                return;
            }
        };
        if !invalid.is_empty() {
            events.record(
                pod,
                Some(&c.name),
                WARNING,
                reason::INVALID_ENV,
                &format!(
                    "Keys [{}] from the EnvFrom were skipped since they are considered invalid environment variable names.",
                    invalid.join(", ")
                ),
            );
        }
        let netns = Some(running.sandbox.netns.path().display().to_string());
        let mut input = match container_spec(
            pod,
            c,
            &ImageConfig::from_json(&config),
            &env,
            netns.as_deref(),
        ) {
            Ok(i) => i,
            Err(e) => {
                fail(st, REASON_CONFIG_ERROR, e.to_string());
                return;
            }
        };
        match volumes::container_mounts(c, &st.volumes, &env) {
            Ok(m) => input.mounts = m,
            Err(e) => {
                fail(st, REASON_CONFIG_ERROR, e);
                return;
            }
        }
        input
            .mounts
            .extend(running.etc_mounts(c, input.readonly_rootfs));

        let rec = &mut st.containers[i];
        if let Some(dir) = rec.log_path.parent() {
            if let Err(e) = std::fs::create_dir_all(dir) {
                rec.waiting = Some((
                    REASON_CREATE_ERROR.into(),
                    format!("creating log dir {}: {e}", dir.display()),
                ));
                return;
            }
        }
        if let Err(e) = self.runtime.create_container(&rec.id, &image, &input).await {
            // A leftover container of the same id (e.g. a failed earlier attempt).
            let _ = self.runtime.delete(&rec.id).await;
            let msg = e.to_string();
            events.record(
                pod,
                Some(&c.name),
                WARNING,
                reason::FAILED,
                &format!("Error: {msg}"),
            );
            rec.waiting = Some((REASON_CREATE_ERROR.into(), msg));
            return;
        }
        rec.exists = true;
        rec.waiting = None;
        events.record(
            pod,
            Some(&c.name),
            NORMAL,
            reason::CREATED,
            &format!("Created container {}", c.name),
        );
        let started_at = now();
        // kubelet-attach: stdin/tty containers get FIFO stdio the kubelet relays.
        let io: TaskIo = super::containers::task_io(c, &rec.log_path, &running.pod_dir);
        if let Err(e) = self.runtime.start_task(&rec.id, &io).await {
            // Upstream: the container is terminated with StartError and the runtime's
            // message, then restarted per restartPolicy.
            let msg = e.to_string();
            events.record(
                pod,
                Some(&c.name),
                WARNING,
                reason::FAILED,
                &format!("Error: {msg}"),
            );
            rec.terminated = Some(ContainerStateTerminated {
                container_id: Some(format!("containerd://{}", rec.id)),
                exit_code: 128,
                reason: Some(REASON_START_ERROR.into()),
                message: Some(msg),
                started_at: Some(started_at.clone()),
                finished_at: Some(started_at),
                signal: None,
            });
            rec.finished = Some(Instant::now());
            return;
        }
        rec.started_at = Some(started_at);
        rec.terminated = None;
        events.record(
            pod,
            Some(&c.name),
            NORMAL,
            reason::STARTED,
            &format!("Started container {}", c.name),
        );
        // postStart runs right after the start; a failure kills the container.
        if let Some(hook) = c.lifecycle.as_ref().and_then(|l| l.post_start.as_ref()) {
            let target = self.hook_target(running, &st.info, &rec.id);
            if let Err(msg) = super::lifecycle::run_handler(&target, hook).await {
                events.record(
                    pod,
                    Some(&c.name),
                    WARNING,
                    reason::FAILED_POST_START_HOOK,
                    &msg,
                );
                let _ = self.runtime.kill(&rec.id, 9).await;
                return;
            }
        }
        if !rec.init {
            rec.probes = ProbeSet::spawn(self, running, &st.info, c, &rec.id);
        }
    }

    /// The status view of every record (init containers keyed `init:<name>` in details).
    pub(crate) fn observe_records(
        st: &PodState,
    ) -> (
        Vec<ObservedContainer>,
        Vec<ObservedContainer>,
        BTreeMap<String, ContainerDetail>,
    ) {
        let mut init = Vec::new();
        let mut app = Vec::new();
        let mut details = BTreeMap::new();
        for rec in &st.containers {
            let (o, d) = rec.observed();
            if rec.init {
                details.insert(format!("init:{}", rec.name), d);
                init.push(o);
            } else {
                details.insert(rec.name.clone(), d);
                app.push(o);
            }
        }
        (init, app, details)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restart_policies() {
        assert!(should_restart("Always", 0));
        assert!(should_restart("Always", 1));
        assert!(!should_restart("OnFailure", 0));
        assert!(should_restart("OnFailure", 2));
        assert!(!should_restart("Never", 1));
        assert!(should_rerun_init("Always", 1));
        assert!(should_rerun_init("OnFailure", 1));
        assert!(!should_rerun_init("Never", 1));
        assert!(!should_rerun_init("Always", 0));
    }

    #[test]
    fn oom_counter() {
        assert_eq!(
            parse_oom_kills("low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n"),
            1
        );
        assert_eq!(
            parse_oom_kills("oom_kill_disable 0\nunder_oom 0\noom_kill 0\n"),
            0
        );
        assert_eq!(parse_oom_kills(""), 0);
    }

    fn record() -> ContainerRecord {
        ContainerRecord {
            name: "app".into(),
            init: false,
            id: "u-app".into(),
            image: "busybox".into(),
            image_id: String::new(),
            restart_count: 0,
            exists: false,
            started_at: None,
            log_path: PathBuf::from("/l/app/0.log"),
            terminated: None,
            finished: None,
            last_state: None,
            waiting: None,
            probes: None,
        }
    }

    fn exited(code: i32, reason: &str) -> ContainerStateTerminated {
        ContainerStateTerminated {
            exit_code: code,
            reason: Some(reason.into()),
            ..Default::default()
        }
    }

    #[test]
    fn records_become_container_states() {
        let mut r = record();
        let (o, _) = r.observed();
        assert_eq!(
            o.state,
            ObservedState::Waiting {
                reason: "ContainerCreating".into()
            }
        );
        assert_eq!(o.container_id, None);

        r.exists = true;
        r.restart_count = 2;
        r.last_state = Some(exited(1, "Error"));
        let (o, d) = r.observed();
        assert!(matches!(o.state, ObservedState::Running { .. }));
        assert_eq!(o.container_id.as_deref(), Some("containerd://u-app"));
        assert_eq!(o.restart_count, 2);
        assert_eq!(d.last_state, Some(exited(1, "Error")));
        assert_eq!(d.ready, None, "no probes: ready once running");

        // Exited with OOMKilled: terminated with that reason.
        r.terminated = Some(exited(137, REASON_OOM));
        let (o, d) = r.observed();
        assert!(matches!(
            o.state,
            ObservedState::Terminated { exit_code: 137, .. }
        ));
        assert_eq!(d.terminated_reason.as_deref(), Some("OOMKilled"));

        // Backing off: waiting CrashLoopBackOff, the run that just ended is lastState.
        r.waiting = Some((REASON_CRASH_LOOP.into(), "back-off 10s ...".into()));
        let (o, d) = r.observed();
        assert_eq!(
            o.state,
            ObservedState::Waiting {
                reason: "CrashLoopBackOff".into()
            }
        );
        assert_eq!(d.waiting_message.as_deref(), Some("back-off 10s ..."));
        assert_eq!(d.last_state, Some(exited(137, REASON_OOM)));
    }

    #[test]
    fn pod_format() {
        let mut p = Pod::default();
        p.metadata.name = Some("web".into());
        p.metadata.namespace = Some("ns".into());
        p.metadata.uid = Some("u1".into());
        assert_eq!(format_pod(&p), "web_ns(u1)");
    }
}
