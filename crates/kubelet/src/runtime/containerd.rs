//! The containerd client the kubelet runs containers with (containerd's native gRPC API,
//! restricted to what containerd 1.6 serves).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use containerd_client::services::v1 as api;
use containerd_client::services::v1::snapshots as snap;
use containerd_client::tonic::metadata::{AsciiMetadataValue, MetadataValue};
use containerd_client::tonic::transport::Channel;
use containerd_client::tonic::Request;
use serde_json::Value;

use super::container_io::{ContainerIos, StdioConfig};
use super::spec::{build_spec, OciSpecInput};
use super::{Result, RuntimeError};

mod images;

/// The snapshotter images are unpacked with and container rootfs are prepared from.
pub const SNAPSHOTTER: &str = "overlayfs";
/// The runc shim; containerd 1.6 resolves it to `containerd-shim-runc-v2` on PATH.
pub const RUNTIME: &str = "io.containerd.runc.v2";
/// The type URL containerd registers the OCI spec under; the value is the JSON spec.
pub const SPEC_TYPE_URL: &str = "types.containerd.io/opencontainers/runtime-spec/1/Spec";
/// Content chunk size for Write; well under containerd's 16 MiB message limit.
const CHUNK: usize = 1 << 20;

/// How a task's stdio is wired.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskIo {
    /// No stdio (the shim connects /dev/null).
    Null,
    /// Both streams appended to one file. The 1.6 runc shim's `file://` scheme only
    /// honours the stdout URI and writes stderr to the same file, so they cannot be split.
    LogFile(PathBuf),
    /// Paths of FIFOs the caller created and reads (the way to split the streams for
    /// CRI-format logs); passed to the shim verbatim.
    Fifos { stdout: PathBuf, stderr: PathBuf },
    /// A container with `stdin: true` or `tty: true`: FIFOs (stdin, stdout, stderr
    /// unless a terminal) the kubelet relays into the CRI log file and to attach sessions
    /// (see [`super::container_io`]); with a tty the task gets a terminal.
    Attachable(StdioConfig),
}

/// containerd's task states.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskState {
    Unknown,
    Created,
    Running,
    Stopped,
    Paused,
    Pausing,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskStatus {
    pub pid: u32,
    pub state: TaskState,
    /// Meaningful once `state == Stopped`; 128+N when killed by signal N.
    pub exit_code: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExitStatus {
    /// 128+N when the process was killed by signal N (what the shim reports).
    pub code: u32,
    pub exited_at: Option<prost_types::Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedImage {
    pub name: String,
    /// The image record's target (manifest or index) digest.
    pub target_digest: String,
    /// The chain ID of the top layer: the committed snapshot a rootfs is prepared from.
    pub chain_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerSummary {
    pub id: String,
    pub image: String,
    pub labels: HashMap<String, String>,
}

/// A containerd client bound to one containerd namespace.
#[derive(Clone)]
pub struct Containerd {
    channel: Channel,
    namespace: String,
    namespace_md: AsciiMetadataValue,
    // kubelet-streaming: the binary log driver `TaskIo::LogFile` hands the shim.
    log_driver: Option<PathBuf>,
    // kubelet-attach: the stdio of stdin/tty containers, shared by every clone.
    pub(crate) ios: ContainerIos,
}

impl std::fmt::Debug for Containerd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Containerd")
            .field("namespace", &self.namespace)
            .finish()
    }
}

fn rpc(op: impl Into<String>) -> impl FnOnce(containerd_client::tonic::Status) -> RuntimeError {
    let op = op.into();
    move |s| RuntimeError::rpc(op, s)
}

/// Treats NotFound as success (for idempotent deletes).
fn ignore_not_found(r: Result<()>) -> Result<()> {
    match r {
        Err(e) if e.is_not_found() => Ok(()),
        other => other,
    }
}

impl Containerd {
    /// Connects to containerd's gRPC socket (e.g. `/run/containerd/containerd.sock`);
    /// every call is scoped to `namespace` (the kubelet uses `k8s.io`).
    pub async fn connect(socket: impl AsRef<Path>, namespace: &str) -> Result<Self> {
        let path = socket.as_ref().to_path_buf();
        let namespace_md: AsciiMetadataValue =
            MetadataValue::try_from(namespace).map_err(|e| RuntimeError::Invalid {
                what: "namespace".into(),
                msg: e.to_string(),
            })?;
        let channel = containerd_client::connect(&path)
            .await
            .map_err(|source| RuntimeError::Connect { path, source })?;
        Ok(Containerd {
            channel,
            namespace: namespace.to_string(),
            namespace_md,
            log_driver: None,
            ios: ContainerIos::default(),
        })
    }

    // ---- kubelet-streaming: begin ----
    /// With a log driver (`ferrokube-log-driver`), `TaskIo::LogFile` becomes containerd's
    /// `binary://` logging URI: the shim runs the driver, which writes CRI-format records
    /// (stdout and stderr apart, timestamped) to the file.
    pub fn with_log_driver(mut self, driver: impl Into<PathBuf>) -> Self {
        self.log_driver = Some(driver.into());
        self
    }

    pub fn log_driver(&self) -> Option<&Path> {
        self.log_driver.as_deref()
    }
    // ---- kubelet-streaming: end ----

    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// A request scoped to our namespace, and to a lease when given (resources created
    /// under a lease are safe from containerd's GC until the lease is deleted).
    pub(crate) fn req<T>(&self, msg: T, lease: Option<&str>) -> Result<Request<T>> {
        let mut req = Request::new(msg);
        req.metadata_mut()
            .insert("containerd-namespace", self.namespace_md.clone());
        if let Some(lease) = lease {
            let v = MetadataValue::try_from(lease).map_err(|e| RuntimeError::Invalid {
                what: "lease id".into(),
                msg: e.to_string(),
            })?;
            req.metadata_mut().insert("containerd-lease", v);
        }
        Ok(req)
    }

    fn images(&self) -> api::images_client::ImagesClient<Channel> {
        api::images_client::ImagesClient::new(self.channel.clone())
    }
    fn content(&self) -> api::content_client::ContentClient<Channel> {
        api::content_client::ContentClient::new(self.channel.clone())
            .max_decoding_message_size(64 << 20)
    }
    fn snapshots(&self) -> snap::snapshots_client::SnapshotsClient<Channel> {
        snap::snapshots_client::SnapshotsClient::new(self.channel.clone())
    }
    pub(crate) fn containers(&self) -> api::containers_client::ContainersClient<Channel> {
        api::containers_client::ContainersClient::new(self.channel.clone())
    }
    pub(crate) fn tasks(&self) -> api::tasks_client::TasksClient<Channel> {
        api::tasks_client::TasksClient::new(self.channel.clone())
    }

    /// `containerd://<version>`, the form nodeInfo.containerRuntimeVersion uses.
    pub async fn version(&self) -> Result<String> {
        let v = api::version_client::VersionClient::new(self.channel.clone())
            .version(Request::new(()))
            .await
            .map_err(rpc("version"))?
            .into_inner();
        Ok(format!("containerd://{}", v.version))
    }

    // ---- containers ------------------------------------------------------------

    /// Creates container `id` from an imported image: the rootfs is a new active overlayfs
    /// snapshot (key = id) on the image's chain ID, the spec comes from [`build_spec`].
    /// Returns the spec that was stored.
    pub async fn create_container(
        &self,
        id: &str,
        image_ref: &str,
        input: &OciSpecInput,
    ) -> Result<Value> {
        let (_, chain_id) = self.image_config(image_ref).await?;
        let spec = build_spec(input, id, &self.namespace);
        let spec_bytes = serde_json::to_vec(&spec).map_err(|e| RuntimeError::Invalid {
            what: "spec".into(),
            msg: e.to_string(),
        })?;

        // The lease protects the fresh snapshot until the container record references it.
        let lease = self.create_lease().await?;
        let result = async {
            let prepare = snap::PrepareSnapshotRequest {
                snapshotter: SNAPSHOTTER.into(),
                key: id.to_string(),
                parent: chain_id.clone(),
                labels: HashMap::new(),
            };
            self.snapshots()
                .prepare(self.req(prepare, Some(&lease))?)
                .await
                .map_err(rpc(format!("snapshots prepare {id}")))?;
            let container = api::Container {
                id: id.to_string(),
                image: image_ref.to_string(),
                runtime: Some(api::container::Runtime {
                    name: RUNTIME.into(),
                    options: None,
                }),
                spec: Some(prost_types::Any {
                    type_url: SPEC_TYPE_URL.into(),
                    value: spec_bytes,
                }),
                snapshotter: SNAPSHOTTER.into(),
                snapshot_key: id.to_string(),
                ..Default::default()
            };
            let created = self
                .containers()
                .create(self.req(
                    api::CreateContainerRequest {
                        container: Some(container),
                    },
                    Some(&lease),
                )?)
                .await
                .map_err(rpc(format!("containers create {id}")));
            if created.is_err() {
                let _ = self.remove_snapshot(id).await;
            }
            created.map(|_| ())
        }
        .await;
        let released = self.delete_lease(&lease).await;
        result?;
        released?;
        Ok(spec)
    }

    /// All containers in the namespace.
    pub async fn list(&self) -> Result<Vec<ContainerSummary>> {
        let resp = self
            .containers()
            .list(self.req(api::ListContainersRequest { filters: vec![] }, None)?)
            .await
            .map_err(rpc("containers list"))?
            .into_inner();
        let mut out: Vec<ContainerSummary> = resp
            .containers
            .into_iter()
            .map(|c| ContainerSummary {
                id: c.id,
                image: c.image,
                labels: c.labels,
            })
            .collect();
        out.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(out)
    }

    // ---- tasks -----------------------------------------------------------------

    /// Creates and starts the container's task (its process) on the snapshot's mounts;
    /// returns the pid.
    pub async fn start_task(&self, id: &str, io: &TaskIo) -> Result<u32> {
        let mounts = self
            .snapshots()
            .mounts(self.req(
                snap::MountsRequest {
                    snapshotter: SNAPSHOTTER.into(),
                    key: id.to_string(),
                },
                None,
            )?)
            .await
            .map_err(rpc(format!("snapshots mounts {id}")))?
            .into_inner()
            .mounts;
        let (stdout, stderr) = match io {
            TaskIo::Null => (String::new(), String::new()),
            TaskIo::LogFile(path) => {
                if !path.is_absolute() {
                    return Err(RuntimeError::Invalid {
                        what: "log path".into(),
                        msg: format!("{} is not absolute", path.display()),
                    });
                }
                // kubelet-streaming: CRI-format logs through the binary log driver.
                let uri = match &self.log_driver {
                    Some(driver) => crate::logs::driver::binary_log_uri(driver, path),
                    None => format!("file://{}", path.display()),
                };
                (uri.clone(), uri)
            }
            TaskIo::Fifos { stdout, stderr } => {
                (stdout.display().to_string(), stderr.display().to_string())
            }
            TaskIo::Attachable(cfg) => return self.start_attachable_task(id, mounts, cfg).await,
        };
        let create = api::CreateTaskRequest {
            container_id: id.to_string(),
            rootfs: mounts,
            stdout,
            stderr,
            ..Default::default()
        };
        self.tasks()
            .create(self.req(create, None)?)
            .await
            .map_err(rpc(format!("tasks create {id}")))?;
        self.start_created_task(id).await
    }

    /// Starts a created task; a task that fails to start is deleted (a created but
    /// unstarted task would block container deletion).
    pub(crate) async fn start_created_task(&self, id: &str) -> Result<u32> {
        let started = self
            .tasks()
            .start(self.req(
                api::StartRequest {
                    container_id: id.to_string(),
                    exec_id: String::new(),
                },
                None,
            )?)
            .await;
        match started {
            Ok(r) => Ok(r.into_inner().pid),
            Err(s) => {
                self.delete_created_task(id).await;
                Err(RuntimeError::rpc(format!("tasks start {id}"), s))
            }
        }
    }

    pub(crate) async fn delete_created_task(&self, id: &str) {
        if let Ok(req) = self.req(
            api::DeleteTaskRequest {
                container_id: id.to_string(),
            },
            None,
        ) {
            let _ = self.tasks().delete(req).await;
        }
    }

    /// The task's pid, state and (once stopped) exit code.
    pub async fn task_status(&self, id: &str) -> Result<TaskStatus> {
        let process = self
            .tasks()
            .get(self.req(
                api::GetRequest {
                    container_id: id.to_string(),
                    exec_id: String::new(),
                },
                None,
            )?)
            .await
            .map_err(rpc(format!("tasks get {id}")))?
            .into_inner()
            .process
            .ok_or_else(|| RuntimeError::Invalid {
                what: "tasks get".into(),
                msg: format!("no process for {id}"),
            })?;
        use containerd_client::types::v1::Status;
        let state = match Status::try_from(process.status).unwrap_or(Status::Unknown) {
            Status::Unknown => TaskState::Unknown,
            Status::Created => TaskState::Created,
            Status::Running => TaskState::Running,
            Status::Stopped => TaskState::Stopped,
            Status::Paused => TaskState::Paused,
            Status::Pausing => TaskState::Pausing,
        };
        Ok(TaskStatus {
            pid: process.pid,
            state,
            exit_code: process.exit_status,
        })
    }

    /// Sends `signal` to the task's init process.
    pub async fn kill(&self, id: &str, signal: u32) -> Result<()> {
        let req = api::KillRequest {
            container_id: id.to_string(),
            exec_id: String::new(),
            signal,
            all: false,
        };
        self.tasks()
            .kill(self.req(req, None)?)
            .await
            .map_err(rpc(format!("tasks kill {id}")))?;
        Ok(())
    }

    /// Waits for the task to exit, at most `timeout`.
    pub async fn wait(&self, id: &str, timeout: Duration) -> Result<ExitStatus> {
        let req = self.req(
            api::WaitRequest {
                container_id: id.to_string(),
                exec_id: String::new(),
            },
            None,
        )?;
        let mut tasks = self.tasks();
        let waited = tokio::time::timeout(timeout, tasks.wait(req))
            .await
            .map_err(|_| RuntimeError::Timeout {
                id: id.to_string(),
                timeout,
            })?
            .map_err(rpc(format!("tasks wait {id}")))?
            .into_inner();
        Ok(ExitStatus {
            code: waited.exit_status,
            exited_at: waited.exited_at,
        })
    }

    /// Removes everything of container `id`: the task (SIGKILLed first if still running),
    /// the container record and its rootfs snapshot. Missing pieces are fine, so a
    /// half-created container can always be cleaned up.
    pub async fn delete(&self, id: &str) -> Result<()> {
        match self.task_status(id).await {
            Ok(st) => {
                if matches!(
                    st.state,
                    TaskState::Running | TaskState::Paused | TaskState::Pausing
                ) {
                    ignore_not_found(self.kill(id, 9).await)?;
                    match self.wait(id, Duration::from_secs(10)).await {
                        Ok(_) => {}
                        Err(e) if e.is_not_found() => {}
                        Err(e) => return Err(e),
                    }
                }
                let del = self
                    .tasks()
                    .delete(self.req(
                        api::DeleteTaskRequest {
                            container_id: id.to_string(),
                        },
                        None,
                    )?)
                    .await
                    .map(|_| ())
                    .map_err(rpc(format!("tasks delete {id}")));
                ignore_not_found(del)?;
            }
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(e),
        }
        let del = self
            .containers()
            .delete(self.req(api::DeleteContainerRequest { id: id.to_string() }, None)?)
            .await
            .map(|_| ())
            .map_err(rpc(format!("containers delete {id}")));
        ignore_not_found(del)?;
        // kubelet-attach: the relay and FIFOs of a stdin/tty container.
        self.ios.remove(id);
        ignore_not_found(self.remove_snapshot(id).await)
    }
}

/// RFC 3339 UTC timestamp `secs` from now, for the lease expiry label.
fn expire_in(secs: u64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    rfc3339(now + secs)
}

/// Formats Unix seconds as `YYYY-MM-DDTHH:MM:SSZ` (civil-from-days, Howard Hinnant).
fn rfc3339(unix: u64) -> String {
    let days = (unix / 86_400) as i64;
    let rem = unix % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_formatting() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
    }

    #[test]
    fn not_found_is_recognised() {
        let e = RuntimeError::rpc("x", containerd_client::tonic::Status::not_found("gone"));
        assert!(e.is_not_found());
        assert!(ignore_not_found(Err(e)).is_ok());
        let e = RuntimeError::rpc("x", containerd_client::tonic::Status::internal("boom"));
        assert!(!e.is_not_found());
    }
}
