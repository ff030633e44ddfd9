//! The pod worker's core: start a pod (volumes, sandbox, resolv.conf / hosts, init
//! containers in order, app containers), report its status (each call also runs one
//! [`sync`](super::sync) pass: restarts, probes' results, volume resync), stop it
//! (preStop, SIGTERM, grace period, SIGKILL, removal of containers, sandbox and volumes).

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{Container, Pod, PodStatus};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use super::dns::{self, ResolvConf};
use super::env::PodRuntimeInfo;
use super::events::{reason, NORMAL, WARNING};
use super::lifecycle::HandlerTarget;
use super::sandbox::PodSandbox;
use super::status::{compute_status_with, PodObservation};
use super::sync::{PodState, SyncOutcome};
use super::volumes::{self, VolumeKind};
use super::{container_id, pod_log_dir, PodError, PodSettings, Result};
use crate::network::Cni;
use crate::runtime::{Containerd, MountInput, RuntimeError, TaskState};

const SIGTERM: u32 = 15;
const SIGKILL: u32 = 9;

/// Runs pods on this node through containerd and CNI.
#[derive(Debug, Clone)]
pub struct PodRunner {
    pub runtime: Containerd,
    pub cni: Cni,
    /// podLogsDir: logs go to `<pod_logs_dir>/<ns>_<name>_<uid>/<container>/<n>.log`
    /// (`/var/log/pods` upstream).
    pub pod_logs_dir: PathBuf,
    /// How long `start` waits for one init container to finish.
    pub init_timeout: Duration,
    /// status.hostIP, when the caller knows the node's address.
    pub host_ip: Option<String>,
    /// API client, root dir, cluster DNS, events.
    pub settings: PodSettings,
}

/// One container of a started pod, as first started. The id is stable across restarts;
/// the current log file and restart count come from [`RunningPod::log_path`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartedContainer {
    pub name: String,
    /// The containerd id, `<uid>-<name>`.
    pub id: String,
    pub image: String,
    /// The first run's log file (`0.log`).
    pub log_path: PathBuf,
    pub started_at: Time,
}

/// A pod started by [`PodRunner::start`]; hand it back to `status` and `stop`.
#[derive(Debug)]
pub struct RunningPod {
    pub pod: Pod,
    pub uid: String,
    key: String,
    /// The pod's network namespace (for a hostNetwork pod a handle on the node's).
    pub sandbox: PodSandbox,
    pub start_time: Time,
    /// Every init container of the spec (ids, first log files).
    pub init: Vec<StartedContainer>,
    /// Every app container of the spec.
    pub app: Vec<StartedContainer>,
    pub log_dir: PathBuf,
    /// `<root-dir>/pods/<uid>`: volumes, etc-hosts, resolv.conf.
    pub pod_dir: PathBuf,
    pub(crate) state: tokio::sync::Mutex<PodState>,
    /// The last status computed, so condition transition times stay put.
    last_status: Mutex<Option<PodStatus>>,
}

impl RunningPod {
    /// A running pod from its parts (start and adoption).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn assemble(
        pod: Pod,
        uid: String,
        key: String,
        sandbox: PodSandbox,
        init: Vec<StartedContainer>,
        app: Vec<StartedContainer>,
        start_time: Time,
        log_dir: PathBuf,
        pod_dir: PathBuf,
        state: PodState,
    ) -> Self {
        RunningPod {
            pod,
            uid,
            key,
            sandbox,
            start_time,
            init,
            app,
            log_dir,
            pod_dir,
            state: tokio::sync::Mutex::new(state),
            last_status: Mutex::new(None),
        }
    }

    /// `<namespace>/<name>`.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The containerd ids of every container the pod has (`<uid>-<name>`, stable across
    /// restarts).
    pub fn container_ids(&self) -> Vec<String> {
        let spec = self.pod.spec.as_ref();
        spec.and_then(|s| s.init_containers.as_ref())
            .into_iter()
            .flatten()
            .chain(spec.map(|s| &s.containers).into_iter().flatten())
            .map(|c| container_id(&self.uid, &c.name))
            .collect()
    }

    /// The current log file of `container` and its restart count.
    pub async fn log_path(&self, container: &str) -> Option<(PathBuf, i32)> {
        let st = self.state.lock().await;
        st.containers
            .iter()
            .find(|r| r.name == container)
            .map(|r| (r.log_path.clone(), r.restart_count))
    }

    /// /etc/hosts and /etc/resolv.conf bind mounts for `c`, unless it mounts a volume
    /// there itself.
    pub fn etc_mounts(&self, c: &Container, readonly: bool) -> Vec<MountInput> {
        let taken = |path: &str| {
            c.volume_mounts
                .iter()
                .flatten()
                .any(|m| m.mount_path.trim_end_matches('/') == path)
        };
        [
            ("/etc/hosts", "etc-hosts"),
            ("/etc/resolv.conf", "resolv.conf"),
        ]
        .into_iter()
        .filter(|(dest, _)| !taken(dest))
        .map(|(dest, file)| MountInput {
            destination: dest.into(),
            source: self.pod_dir.join(file).display().to_string(),
            kind: String::new(),
            options: Vec::new(),
            readonly,
        })
        .collect()
    }
}

pub(crate) fn now() -> Time {
    // k8s-openapi's jiff is built without `std`, so no Timestamp::now().
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = i64::try_from(d.as_secs()).unwrap_or(0);
    let nanos = i32::try_from(d.subsec_nanos()).unwrap_or(0);
    Time(
        k8s_openapi::jiff::Timestamp::new(secs, nanos)
            .unwrap_or(k8s_openapi::jiff::Timestamp::UNIX_EPOCH),
    )
}

/// Expands a short image name like the container runtimes do:
/// `busybox` -> `docker.io/library/busybox:latest`.
pub fn normalize_image(image: &str) -> String {
    let (first, _) = image.split_once('/').unwrap_or(("", image));
    let has_domain =
        !first.is_empty() && (first.contains('.') || first.contains(':') || first == "localhost");
    let mut full = if has_domain {
        image.to_string()
    } else if image.contains('/') {
        format!("docker.io/{image}")
    } else {
        format!("docker.io/library/{image}")
    };
    let last = full.rsplit('/').next().unwrap_or("");
    if !last.contains(':') && !full.contains('@') {
        full.push_str(":latest");
    }
    full
}

fn io_err(pod: &str, context: impl Into<String>, e: impl std::fmt::Display) -> PodError {
    PodError::Io {
        pod: pod.to_string(),
        context: context.into(),
        source: std::io::Error::other(e.to_string()),
    }
}

/// Writes `<pod dir>/etc-hosts` and `<pod dir>/resolv.conf`.
fn write_etc_files(
    pod: &Pod,
    pod_dir: &Path,
    settings: &PodSettings,
    pod_ips: &[String],
) -> std::io::Result<()> {
    std::fs::create_dir_all(pod_dir)?;
    let host_network = pod
        .spec
        .as_ref()
        .and_then(|s| s.host_network)
        .unwrap_or(false);
    let hosts = if host_network {
        let node_hosts = std::fs::read_to_string(&settings.host_hosts_file).unwrap_or_default();
        dns::host_network_hosts_file(pod, &node_hosts)
    } else {
        dns::pod_hosts_file(pod, pod_ips, &settings.cluster_dns.domain)
    };
    std::fs::write(pod_dir.join("etc-hosts"), hosts)?;
    let host_resolv = std::fs::read_to_string(&settings.host_resolv_conf)
        .map(|t| ResolvConf::parse(&t))
        .unwrap_or_default();
    let resolv = dns::pod_resolv_conf(pod, &settings.cluster_dns, &host_resolv);
    std::fs::write(pod_dir.join("resolv.conf"), resolv.render())
}

impl PodRunner {
    /// A handler target (probes, hooks) for container `container_id` of `running`.
    pub(crate) fn hook_target(
        &self,
        running: &RunningPod,
        info: &PodRuntimeInfo,
        container_id_: &str,
    ) -> HandlerTarget {
        let spec = running.pod.spec.as_ref();
        let container = spec
            .and_then(|s| s.init_containers.as_ref())
            .into_iter()
            .flatten()
            .chain(spec.map(|s| &s.containers).into_iter().flatten())
            .find(|c| container_id(&running.uid, &c.name) == container_id_);
        HandlerTarget {
            runtime: Some(self.runtime.clone()),
            container_id: container_id_.to_string(),
            container_name: container.map(|c| c.name.clone()).unwrap_or_default(),
            pod_ip: info.pod_ips.first().cloned(),
            ports: container.and_then(|c| c.ports.clone()).unwrap_or_default(),
            fifo_root: running.pod_dir.join("exec"),
        }
    }

    pub(crate) fn runtime_info(&self) -> PodRuntimeInfo {
        PodRuntimeInfo {
            pod_ips: Vec::new(),
            host_ips: self.host_ip.clone().into_iter().collect(),
            node_allocatable_milli_cpu: self.settings.node_allocatable_milli_cpu,
            node_allocatable_memory: self.settings.node_allocatable_memory,
        }
    }

    /// Starts `pod`: volumes, sandbox (none for hostNetwork), resolv.conf and hosts, then
    /// init containers run to completion in order and app containers started. Container
    /// failures become container states (see [`super::sync`]); errors before any
    /// container (volumes, sandbox) undo what was made and are returned.
    pub async fn start(&self, pod: &Pod) -> Result<RunningPod> {
        let meta = &pod.metadata;
        let namespace = meta.namespace.clone().unwrap_or_else(|| "default".into());
        let name = meta.name.clone().unwrap_or_default();
        let uid = meta.uid.clone().unwrap_or_default();
        let key = format!("{namespace}/{name}");
        let invalid = |msg: &str| PodError::Invalid {
            pod: key.clone(),
            msg: msg.into(),
        };
        if name.is_empty() || uid.is_empty() {
            return Err(invalid("metadata.name and metadata.uid are required"));
        }
        let spec = pod
            .spec
            .as_ref()
            .ok_or_else(|| invalid("spec is missing"))?;
        if spec.containers.is_empty() {
            return Err(invalid("spec.containers is empty"));
        }
        let host_network = spec.host_network == Some(true);
        let log_dir = pod_log_dir(&self.pod_logs_dir, &namespace, &name, &uid);
        let pod_dir = volumes::pod_dir(&self.settings.root_dir, &uid);
        let start_time = now();
        let mut info = self.runtime_info();

        // Volumes first (upstream waits for them before creating the sandbox).
        let objs = super::sources::fetch(self.settings.client.as_ref(), pod)
            .await
            .map_err(|e| io_err(&key, "fetching configMaps and secrets", format!("{e:#}")))?;
        let vols = {
            let (pod2, dir2, info2) = (pod.clone(), pod_dir.clone(), info.clone());
            tokio::task::spawn_blocking(move || volumes::setup(&pod2, &dir2, &objs, &info2))
                .await
                .map_err(|e| io_err(&key, "volume setup task", e))?
        };
        let vols = match vols {
            Ok(v) => v,
            Err(e) => {
                self.settings.events.record(
                    pod,
                    None,
                    WARNING,
                    reason::FAILED_MOUNT,
                    &e.to_string(),
                );
                self.remove_pod_dir(&key, &pod_dir).await;
                return Err(io_err(&key, "setting up volumes", e));
            }
        };

        let sandbox = {
            let cni = self.cni.clone();
            let (ns2, name2, uid2) = (namespace.clone(), name.clone(), uid.clone());
            let created = tokio::task::spawn_blocking(move || {
                if host_network {
                    PodSandbox::host(&ns2, &name2, &uid2)
                } else {
                    PodSandbox::create(&cni, &ns2, &name2, &uid2)
                }
            })
            .await
            .map_err(|e| io_err(&key, "sandbox creation task", e))
            .and_then(|r| r);
            match created {
                Ok(s) => s,
                Err(e) => {
                    self.remove_pod_dir(&key, &pod_dir).await;
                    return Err(e);
                }
            }
        };
        info.pod_ips = if host_network {
            info.host_ips.clone()
        } else {
            sandbox.pod_ips().iter().map(IpAddr::to_string).collect()
        };

        let started = |c: &Container| StartedContainer {
            name: c.name.clone(),
            id: container_id(&uid, &c.name),
            image: normalize_image(c.image.as_deref().unwrap_or("")),
            log_path: super::container_log_path(&log_dir, &c.name, 0),
            started_at: start_time.clone(),
        };
        let running = RunningPod {
            pod: pod.clone(),
            uid: uid.clone(),
            key: key.clone(),
            sandbox,
            init: spec.init_containers.iter().flatten().map(started).collect(),
            app: spec.containers.iter().map(started).collect(),
            start_time: start_time.clone(),
            log_dir: log_dir.clone(),
            pod_dir: pod_dir.clone(),
            state: tokio::sync::Mutex::new(PodState {
                containers: Vec::new(),
                backoff: Default::default(),
                volumes: vols,
                info: info.clone(),
                last_resync: Instant::now(),
                stopping: false,
            }),
            last_status: Mutex::new(None),
        };
        if let Err(e) = write_etc_files(pod, &pod_dir, &self.settings, &info.pod_ips) {
            let err = PodError::Io {
                pod: key.clone(),
                context: "writing resolv.conf and hosts".into(),
                source: e,
            };
            if let Err(cleanup) = self.stop(&running, Duration::ZERO).await {
                tracing::warn!(pod = %key, error = %cleanup, "cleanup after failed start");
            }
            return Err(err);
        }

        // Init containers run to completion here, one after the other.
        let init_count = spec.init_containers.as_ref().map_or(0, Vec::len);
        for _ in 0..=init_count.saturating_mul(2) {
            match self.sync_pod(&running).await {
                SyncOutcome::InitRunning(id) => {
                    if let Err(e) = self.runtime.wait(&id, self.init_timeout).await {
                        tracing::info!(pod = %key, container = %id, error = %e, "init container still running");
                        break;
                    }
                }
                SyncOutcome::Settled => break,
            }
        }
        Ok(running)
    }

    async fn remove_pod_dir(&self, key: &str, pod_dir: &Path) {
        let dir = pod_dir.to_path_buf();
        match tokio::task::spawn_blocking(move || volumes::teardown(&dir)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(pod = %key, error = %e, "removing the pod directory"),
            Err(e) => tracing::warn!(pod = %key, error = %e, "pod directory teardown task"),
        }
    }

    /// Rewrites configMap / secret / downwardAPI / projected volumes when due.
    async fn resync_volumes(&self, running: &RunningPod) {
        let (vols, info) = {
            let mut st = running.state.lock().await;
            let has_files = st
                .volumes
                .values()
                .any(|v| matches!(v.kind, VolumeKind::Files { .. }));
            if !has_files || st.last_resync.elapsed() < self.settings.volume_resync {
                return;
            }
            st.last_resync = Instant::now();
            (st.volumes.clone(), st.info.clone())
        };
        let objs = match super::sources::fetch(self.settings.client.as_ref(), &running.pod).await {
            Ok(o) => o,
            Err(e) => {
                tracing::warn!(pod = %running.key(), error = %format!("{e:#}"), "volume resync");
                return;
            }
        };
        let pod = running.pod.clone();
        match tokio::task::spawn_blocking(move || volumes::resync(&pod, &vols, &objs, &info)).await
        {
            Ok(changed) if !changed.is_empty() => {
                tracing::info!(pod = %running.key(), volumes = ?changed, "volumes updated");
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(pod = %running.key(), error = %e, "volume resync task"),
        }
    }

    /// The pod's current status; also runs one sync pass (starts, restarts) and the
    /// volume resync when due.
    pub async fn status(&self, running: &RunningPod) -> PodStatus {
        self.sync_pod(running).await;
        self.resync_volumes(running).await;
        let (init, app, details, pod_ips) = {
            let st = running.state.lock().await;
            let (init, app, details) = Self::observe_records(&st);
            let ips: Vec<IpAddr> = st
                .info
                .pod_ips
                .iter()
                .filter_map(|s| s.parse().ok())
                .collect();
            (init, app, details, ips)
        };
        let obs = PodObservation {
            init,
            app,
            pod_ips,
            host_ip: self.host_ip.clone(),
            start_time: Some(running.start_time.clone()),
            sandbox_ready: running.sandbox.netns.exists(),
            now: now(),
        };
        let mut last = running
            .last_status
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let status = compute_status_with(&running.pod, &obs, &details, last.as_ref());
        *last = Some(status.clone());
        status
    }

    /// Stops the pod: preStop hooks, SIGTERM to every running container, up to `grace`
    /// for them to exit (hooks included), SIGKILL for the rest, then deletes the
    /// containers, runs CNI DEL, deletes the netns and unmounts and removes the volumes.
    /// Every step is attempted even when one fails; safe to call again.
    pub async fn stop(&self, running: &RunningPod, grace: Duration) -> Result<()> {
        let key = running.key().to_string();
        let mut errors = Vec::new();
        let deadline = Instant::now() + grace;
        let mut st = running.state.lock().await;
        st.stopping = true;
        for rec in st.containers.iter_mut() {
            if let Some(p) = rec.probes.take() {
                p.stop();
            }
        }
        let info = st.info.clone();
        let live: Vec<(String, String)> = st
            .containers
            .iter()
            .filter(|r| r.exists && r.terminated.is_none())
            .map(|r| (r.name.clone(), r.id.clone()))
            .collect();

        // preStop hooks, within the grace period.
        let spec = running.pod.spec.clone().unwrap_or_default();
        for (name, id) in &live {
            let hook = spec
                .containers
                .iter()
                .find(|c| &c.name == name)
                .and_then(|c| c.lifecycle.as_ref())
                .and_then(|l| l.pre_stop.clone());
            let Some(hook) = hook else { continue };
            let left = deadline.saturating_duration_since(Instant::now());
            let target = self.hook_target(running, &info, id);
            match tokio::time::timeout(left, super::lifecycle::run_handler(&target, &hook)).await {
                Ok(Ok(())) => {}
                Ok(Err(msg)) => self.settings.events.record(
                    &running.pod,
                    Some(name),
                    WARNING,
                    reason::FAILED_PRE_STOP_HOOK,
                    &msg,
                ),
                Err(_) => {
                    tracing::info!(pod = %key, container = %name, "preStop hook cut short by the grace period")
                }
            }
        }

        let mut signalled = Vec::new();
        for (name, id) in &live {
            if let Ok(status) = self.runtime.task_status(id).await {
                if status.state == TaskState::Running {
                    self.settings.events.record(
                        &running.pod,
                        Some(name),
                        NORMAL,
                        reason::KILLING,
                        &format!("Stopping container {name}"),
                    );
                    match self.runtime.kill(id, SIGTERM).await {
                        Ok(()) => signalled.push(id.clone()),
                        Err(e) if e.is_not_found() => {}
                        Err(e) => errors.push(format!("SIGTERM {id}: {e}")),
                    }
                }
            }
        }
        for id in &signalled {
            let left = deadline.saturating_duration_since(Instant::now());
            match self
                .runtime
                .wait(id, left.max(Duration::from_millis(1)))
                .await
            {
                Ok(_) => {}
                Err(RuntimeError::Timeout { .. }) => {
                    tracing::info!(pod = %key, container = %id, "grace period over, SIGKILL");
                    match self.runtime.kill(id, SIGKILL).await {
                        Ok(()) => {}
                        Err(e) if e.is_not_found() => {}
                        Err(e) => errors.push(format!("SIGKILL {id}: {e}")),
                    }
                }
                Err(e) if e.is_not_found() => {}
                Err(e) => errors.push(format!("waiting for {id}: {e}")),
            }
        }
        // delete() SIGKILLs and waits for anything still running; every id the pod can
        // have is tried, so a container created by an interrupted pass goes too.
        for id in running.container_ids() {
            if let Err(e) = self.runtime.delete(&id).await {
                errors.push(format!("deleting container {id}: {e}"));
            }
        }
        for rec in st.containers.iter_mut() {
            rec.exists = false;
        }
        drop(st);
        let sandbox = running.sandbox.clone();
        let cni = self.cni.clone();
        match tokio::task::spawn_blocking(move || sandbox.teardown(&cni)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => errors.push(e.to_string()),
            Err(e) => errors.push(format!("sandbox teardown task: {e}")),
        }
        let dir = running.pod_dir.clone();
        match tokio::task::spawn_blocking(move || volumes::teardown(&dir)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => errors.push(format!("removing volumes: {e}")),
            Err(e) => errors.push(format!("volume teardown task: {e}")),
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(PodError::Stop { pod: key, errors })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_names_are_normalized() {
        assert_eq!(
            normalize_image("busybox"),
            "docker.io/library/busybox:latest"
        );
        assert_eq!(
            normalize_image("busybox:1.36"),
            "docker.io/library/busybox:1.36"
        );
        assert_eq!(normalize_image("me/app"), "docker.io/me/app:latest");
        assert_eq!(
            normalize_image("localhost:5000/app"),
            "localhost:5000/app:latest"
        );
        assert_eq!(
            normalize_image("registry.k8s.io/pause:3.9"),
            "registry.k8s.io/pause:3.9"
        );
        assert_eq!(
            normalize_image("busybox@sha256:abc"),
            "docker.io/library/busybox@sha256:abc"
        );
    }
}
