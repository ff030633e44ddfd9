//! The pod worker's core: start a pod (sandbox, init containers in order, app
//! containers), report its status, stop it. Restarts (restartPolicy), probes, volumes and
//! the API-server loop that drives this come later.

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{Container, Pod, PodStatus};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use super::containers::{container_spec, ImageConfig};
use super::sandbox::PodSandbox;
use super::status::{compute_status, ObservedContainer, ObservedState, PodObservation};
use super::{container_id, container_log_path, pod_log_dir, PodError, Result};
use crate::network::Cni;
use crate::runtime::{Containerd, RuntimeError, TaskIo, TaskState};

const SIGTERM: u32 = 15;
const SIGKILL: u32 = 9;

/// Runs pods on this node through containerd and CNI.
#[derive(Debug, Clone)]
pub struct PodRunner {
    pub runtime: Containerd,
    pub cni: Cni,
    /// Logs go to `<log_root>/pods/<ns>_<name>_<uid>/<container>/0.log` (/var/log upstream).
    pub log_root: PathBuf,
    /// How long `start` waits for one init container to finish.
    pub init_timeout: Duration,
    /// status.hostIP, when the caller knows the node's address.
    pub host_ip: Option<String>,
}

/// A container this worker created and started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartedContainer {
    pub name: String,
    /// The containerd id, `<uid>-<name>`.
    pub id: String,
    pub image: String,
    pub log_path: PathBuf,
    pub started_at: Time,
}

/// A pod started by [`PodRunner::start`]; hand it back to `status` and `stop`.
#[derive(Debug)]
pub struct RunningPod {
    pub pod: Pod,
    pub sandbox: PodSandbox,
    pub start_time: Time,
    /// Init containers that ran (all of them unless one failed).
    pub init: Vec<StartedContainer>,
    /// App containers started (none when an init container failed).
    pub app: Vec<StartedContainer>,
    pub log_dir: PathBuf,
    /// The last status computed, so condition transition times stay put.
    last_status: Mutex<Option<PodStatus>>,
}

impl RunningPod {
    /// `<namespace>/<name>`.
    pub fn key(&self) -> &str {
        &self.sandbox.pod
    }

    /// The containerd ids of every container this pod has.
    pub fn container_ids(&self) -> Vec<String> {
        self.init
            .iter()
            .chain(&self.app)
            .map(|c| c.id.clone())
            .collect()
    }
}

fn now() -> Time {
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

fn rt_err(pod: &str, context: String) -> impl FnOnce(RuntimeError) -> PodError + '_ {
    move |source| PodError::Runtime {
        pod: pod.to_string(),
        context,
        source: Box::new(source),
    }
}

impl PodRunner {
    /// Starts `pod`: sandbox, then each init container run to completion in order (a
    /// failing one stops the sequence; its status says so), then every app container.
    /// Any runtime or network error undoes what was started and is returned.
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
        if spec.host_network == Some(true) {
            return Err(invalid("hostNetwork pods are not supported yet"));
        }

        let log_dir = pod_log_dir(&self.log_root, &namespace, &name, &uid);
        let start_time = now();
        let cni = self.cni.clone();
        let (ns2, name2, uid2) = (namespace.clone(), name.clone(), uid.clone());
        let sandbox =
            tokio::task::spawn_blocking(move || PodSandbox::create(&cni, &ns2, &name2, &uid2))
                .await
                .map_err(|e| PodError::Io {
                    pod: key.clone(),
                    context: "sandbox creation task".into(),
                    source: std::io::Error::other(e.to_string()),
                })??;

        let mut running = RunningPod {
            pod: pod.clone(),
            sandbox,
            start_time,
            init: Vec::new(),
            app: Vec::new(),
            log_dir,
            last_status: Mutex::new(None),
        };
        match self.start_containers(&mut running).await {
            Ok(()) => Ok(running),
            Err(e) => {
                // Leave nothing behind: the caller has no handle to clean up with.
                if let Err(cleanup) = self.stop(&running, Duration::ZERO).await {
                    tracing::warn!(pod = %key, error = %cleanup, "cleanup after failed start");
                }
                Err(e)
            }
        }
    }

    async fn start_containers(&self, running: &mut RunningPod) -> Result<()> {
        let key = running.key().to_string();
        let spec = running.pod.spec.clone().unwrap_or_default();
        for c in spec.init_containers.iter().flatten() {
            let started = self.start_container(running, c).await?;
            let id = started.id.clone();
            running.init.push(started);
            let exit = self
                .runtime
                .wait(&id, self.init_timeout)
                .await
                .map_err(rt_err(
                    &key,
                    format!("waiting for init container {}", c.name),
                ))?;
            if exit.code != 0 {
                // Upstream retries unless restartPolicy is Never; retries come with the
                // restart logic. The pod's status reports the failure.
                tracing::info!(pod = %key, container = %c.name, code = exit.code, "init container failed");
                return Ok(());
            }
        }
        for c in &spec.containers {
            let started = self.start_container(running, c).await?;
            running.app.push(started);
        }
        Ok(())
    }

    async fn start_container(
        &self,
        running: &RunningPod,
        c: &Container,
    ) -> Result<StartedContainer> {
        let key = running.key();
        let uid = &running.sandbox.id;
        let image = c
            .image
            .as_deref()
            .filter(|i| !i.is_empty())
            .ok_or_else(|| PodError::Invalid {
                pod: key.to_string(),
                msg: format!("container {}: image is required", c.name),
            })?;
        let image = normalize_image(image);
        let (config, _) = self
            .runtime
            .image_config(&image)
            .await
            .map_err(rt_err(key, format!("container {}: image {image}", c.name)))?;
        let netns = running.sandbox.netns.path().display().to_string();
        let input = container_spec(&running.pod, c, &ImageConfig::from_json(&config), &netns)?;
        let id = container_id(uid, &c.name);
        let log_path = container_log_path(&running.log_dir, &c.name);
        if let Some(dir) = log_path.parent() {
            std::fs::create_dir_all(dir).map_err(|source| PodError::Io {
                pod: key.to_string(),
                context: format!("creating log dir {}", dir.display()),
                source,
            })?;
        }
        self.runtime
            .create_container(&id, &image, &input)
            .await
            .map_err(rt_err(key, format!("creating container {}", c.name)))?;
        let started_at = now();
        if let Err(e) = self
            .runtime
            .start_task(&id, &TaskIo::LogFile(log_path.clone()))
            .await
        {
            // Not yet recorded in the RunningPod, so delete it here.
            let _ = self.runtime.delete(&id).await;
            return Err(rt_err(key, format!("starting container {}", c.name))(e));
        }
        Ok(StartedContainer {
            name: c.name.clone(),
            id,
            image,
            log_path,
            started_at,
        })
    }

    async fn observe(&self, c: &StartedContainer) -> ObservedContainer {
        let state = match self.runtime.task_status(&c.id).await {
            Ok(st) => match st.state {
                TaskState::Running | TaskState::Paused | TaskState::Pausing => {
                    ObservedState::Running {
                        started_at: Some(c.started_at.clone()),
                    }
                }
                TaskState::Stopped => {
                    // Wait on a stopped task answers at once, with the exit time.
                    let finished_at = self
                        .runtime
                        .wait(&c.id, Duration::from_secs(1))
                        .await
                        .ok()
                        .and_then(|e| e.exited_at)
                        .and_then(|t| k8s_openapi::jiff::Timestamp::new(t.seconds, t.nanos).ok())
                        .map(Time);
                    ObservedState::Terminated {
                        exit_code: i32::try_from(st.exit_code).unwrap_or(i32::MAX),
                        signal: None,
                        started_at: Some(c.started_at.clone()),
                        finished_at,
                    }
                }
                TaskState::Created | TaskState::Unknown => ObservedState::Waiting {
                    reason: "ContainerCreating".into(),
                },
            },
            Err(e) => {
                tracing::warn!(container = %c.id, error = %e, "task status");
                ObservedState::Waiting {
                    reason: "ContainerStatusUnknown".into(),
                }
            }
        };
        ObservedContainer {
            name: c.name.clone(),
            image: c.image.clone(),
            // The image digest is not tracked yet; the reference stands in.
            image_id: c.image.clone(),
            container_id: Some(format!("containerd://{}", c.id)),
            state,
            restart_count: 0,
        }
    }

    /// The pod's current status from the runtime's view of its containers.
    pub async fn status(&self, running: &RunningPod) -> PodStatus {
        let mut init = Vec::new();
        for c in &running.init {
            init.push(self.observe(c).await);
        }
        let mut app = Vec::new();
        for c in &running.app {
            app.push(self.observe(c).await);
        }
        let obs = PodObservation {
            init,
            app,
            pod_ips: running.sandbox.pod_ips(),
            host_ip: self.host_ip.clone(),
            start_time: Some(running.start_time.clone()),
            sandbox_ready: running.sandbox.netns.exists(),
            now: now(),
        };
        let mut last = running
            .last_status
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let status = compute_status(&running.pod, &obs, last.as_ref());
        *last = Some(status.clone());
        status
    }

    /// Stops the pod: SIGTERM to every running container, up to `grace` for them to exit,
    /// SIGKILL for the rest, then deletes the containers, runs CNI DEL and deletes the
    /// netns. Every step is attempted even when one fails; safe to call again.
    pub async fn stop(&self, running: &RunningPod, grace: Duration) -> Result<()> {
        let key = running.key().to_string();
        let mut errors = Vec::new();
        let ids = running.container_ids();

        let mut signalled = Vec::new();
        for id in &ids {
            if let Ok(st) = self.runtime.task_status(id).await {
                if st.state == TaskState::Running {
                    match self.runtime.kill(id, SIGTERM).await {
                        Ok(()) => signalled.push(id.clone()),
                        Err(e) if e.is_not_found() => {}
                        Err(e) => errors.push(format!("SIGTERM {id}: {e}")),
                    }
                }
            }
        }
        let deadline = Instant::now() + grace;
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
        // delete() SIGKILLs and waits for anything still running.
        for id in &ids {
            if let Err(e) = self.runtime.delete(id).await {
                errors.push(format!("deleting container {id}: {e}"));
            }
        }
        let cni = self.cni.clone();
        let sandbox = running.sandbox.clone();
        match tokio::task::spawn_blocking(move || sandbox.teardown(&cni)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => errors.push(e.to_string()),
            Err(e) => errors.push(format!("sandbox teardown task: {e}")),
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
