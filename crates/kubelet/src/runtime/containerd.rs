//! The containerd client the kubelet runs containers with (containerd's native gRPC API,
//! restricted to what containerd 1.6 serves).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use containerd_client::services::v1 as api;
use containerd_client::services::v1::snapshots as snap;
use containerd_client::tonic::metadata::{AsciiMetadataValue, MetadataValue};
use containerd_client::tonic::transport::Channel;
use containerd_client::tonic::{Code, Request};
use containerd_client::types::Mount;
use serde_json::Value;

use super::container_io::{ContainerIos, StdioConfig};
use super::oci_layout::{self, Descriptor, OciLayout};
use super::spec::{build_spec, OciSpecInput};
use super::{Result, RuntimeError};

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

    // ---- leases ----------------------------------------------------------------

    /// A short-lived lease that also expires on its own, so a crash mid-import does not
    /// pin content forever.
    async fn create_lease(&self) -> Result<String> {
        let id = format!("ferrokube-{}", uuid::Uuid::new_v4());
        let labels = HashMap::from([("containerd.io/gc.expire".to_string(), expire_in(3600))]);
        let req = self.req(
            api::CreateRequest {
                id: id.clone(),
                labels,
            },
            None,
        )?;
        api::leases_client::LeasesClient::new(self.channel.clone())
            .create(req)
            .await
            .map_err(rpc(format!("leases create {id}")))?;
        Ok(id)
    }

    async fn delete_lease(&self, id: &str) -> Result<()> {
        let req = self.req(
            api::DeleteRequest {
                id: id.to_string(),
                sync: false,
            },
            None,
        )?;
        api::leases_client::LeasesClient::new(self.channel.clone())
            .delete(req)
            .await
            .map_err(rpc(format!("leases delete {id}")))?;
        Ok(())
    }

    // ---- content ---------------------------------------------------------------

    /// Writes one blob (verified by containerd against `digest`), or just sets its labels
    /// when it is already in the store.
    async fn write_blob(
        &self,
        digest: &str,
        data: &[u8],
        labels: HashMap<String, String>,
        lease: &str,
    ) -> Result<()> {
        let info = self
            .content()
            .info(self.req(
                api::InfoRequest {
                    digest: digest.to_string(),
                },
                Some(lease),
            )?)
            .await;
        match info {
            Ok(_) => {
                if labels.is_empty() {
                    return Ok(());
                }
                let paths = labels.keys().map(|k| format!("labels.{k}")).collect();
                let update = api::UpdateRequest {
                    info: Some(api::Info {
                        digest: digest.to_string(),
                        labels,
                        ..Default::default()
                    }),
                    update_mask: Some(prost_types::FieldMask { paths }),
                };
                self.content()
                    .update(self.req(update, Some(lease))?)
                    .await
                    .map_err(rpc(format!("content update {digest}")))?;
                return Ok(());
            }
            Err(s) if s.code() == Code::NotFound => {}
            Err(s) => return Err(RuntimeError::rpc(format!("content info {digest}"), s)),
        }

        let total = data.len() as i64;
        let base = api::WriteContentRequest {
            // A fresh ref per attempt so a stale half-written ingest is never resumed.
            r#ref: format!("ferrokube-import-{digest}-{}", uuid::Uuid::new_v4()),
            total,
            expected: digest.to_string(),
            ..Default::default()
        };
        let mut msgs = Vec::new();
        let mut chunks = data.chunks(CHUNK).peekable();
        let mut offset = 0i64;
        if chunks.peek().is_none() {
            msgs.push(api::WriteContentRequest {
                action: api::WriteAction::Commit as i32,
                labels: labels.clone(),
                ..base.clone()
            });
        }
        while let Some(chunk) = chunks.next() {
            let last = chunks.peek().is_none();
            msgs.push(api::WriteContentRequest {
                action: if last {
                    api::WriteAction::Commit
                } else {
                    api::WriteAction::Write
                } as i32,
                offset,
                data: chunk.to_vec(),
                labels: if last { labels.clone() } else { HashMap::new() },
                ..base.clone()
            });
            offset += chunk.len() as i64;
        }
        let req = self.req(tokio_stream::iter(msgs), Some(lease))?;
        let op = format!("content write {digest}");
        let mut responses = self
            .content()
            .write(req)
            .await
            .map_err(rpc(op.clone()))?
            .into_inner();
        while responses
            .message()
            .await
            .map_err(rpc(op.clone()))?
            .is_some()
        {}
        Ok(())
    }

    /// Reads a whole blob from the content store.
    async fn read_blob(&self, digest: &str) -> Result<Vec<u8>> {
        let op = format!("content read {digest}");
        let req = self.req(
            api::ReadContentRequest {
                digest: digest.to_string(),
                offset: 0,
                size: 0,
            },
            None,
        )?;
        let mut stream = self
            .content()
            .read(req)
            .await
            .map_err(rpc(op.clone()))?
            .into_inner();
        let mut out = Vec::new();
        while let Some(msg) = stream.message().await.map_err(rpc(op.clone()))? {
            out.extend_from_slice(&msg.data);
        }
        Ok(out)
    }

    async fn read_json(&self, digest: &str) -> Result<Value> {
        let data = self.read_blob(digest).await?;
        serde_json::from_slice(&data)
            .map_err(|e| RuntimeError::image(digest, format!("not JSON: {e}")))
    }

    // ---- images ----------------------------------------------------------------

    /// Imports an OCI image-layout tarball: blobs into the content store (with the GC
    /// labels that keep config, layers and the unpacked snapshots alive), an image record
    /// per `io.containerd.image.name` annotation, and the layers unpacked into overlayfs
    /// snapshots named by chain ID.
    pub async fn import_image(&self, oci_tar_path: impl AsRef<Path>) -> Result<Vec<ImportedImage>> {
        let path = oci_tar_path.as_ref().to_path_buf();
        let layout = tokio::task::spawn_blocking(move || OciLayout::read_tar(&path))
            .await
            .map_err(|e| RuntimeError::io("reading image tarball", std::io::Error::other(e)))??;
        let lease = self.create_lease().await?;
        let result = self.import_layout(&layout, &lease).await;
        // The image records (and the labels on their content) now hold everything.
        let released = self.delete_lease(&lease).await;
        let imported = result?;
        released?;
        Ok(imported)
    }

    async fn import_layout(&self, layout: &OciLayout, lease: &str) -> Result<Vec<ImportedImage>> {
        let mut imported = Vec::new();
        for (name, target) in layout.named_images()? {
            let mut manifests = Vec::new();
            if target.is_index() {
                let index = layout.blob_json(&target.digest)?;
                let mut children = HashMap::new();
                for (i, m) in index["manifests"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .enumerate()
                {
                    let d = Descriptor::from_json(m)?;
                    if layout.blobs.contains_key(&d.digest) {
                        children.insert(format!("containerd.io/gc.ref.content.m.{i}"), d.digest);
                    }
                }
                self.write_blob(
                    &target.digest,
                    layout.blob(&target.digest)?,
                    children,
                    lease,
                )
                .await?;
                manifests.push(oci_layout::select_platform(&index)?);
            } else {
                manifests.push(target.clone());
            }
            let mut chain_id = String::new();
            for manifest_desc in manifests {
                chain_id = self.import_manifest(layout, &manifest_desc, lease).await?;
            }
            self.create_image(&name, &target, lease).await?;
            imported.push(ImportedImage {
                name,
                target_digest: target.digest,
                chain_id,
            });
        }
        Ok(imported)
    }

    /// Writes one manifest with its config and layers and unpacks it; returns the chain ID.
    async fn import_manifest(
        &self,
        layout: &OciLayout,
        desc: &Descriptor,
        lease: &str,
    ) -> Result<String> {
        let manifest = layout.blob_json(&desc.digest)?;
        let config_desc = Descriptor::from_json(&manifest["config"])?;
        let config = layout.blob_json(&config_desc.digest)?;
        let (layers, diff_ids) = oci_layout::layers_and_diff_ids(&manifest, &config)?;
        let chain_ids = oci_layout::chain_ids(&diff_ids);

        for (layer, diff_id) in layers.iter().zip(&diff_ids) {
            let labels =
                HashMap::from([("containerd.io/uncompressed".to_string(), diff_id.clone())]);
            self.write_blob(&layer.digest, layout.blob(&layer.digest)?, labels, lease)
                .await?;
        }
        // The config references the unpacked snapshot so image GC keeps it (and its parents).
        let mut config_labels = HashMap::new();
        if let Some(top) = chain_ids.last() {
            config_labels.insert(
                format!("containerd.io/gc.ref.snapshot.{SNAPSHOTTER}"),
                top.clone(),
            );
        }
        self.write_blob(
            &config_desc.digest,
            layout.blob(&config_desc.digest)?,
            config_labels,
            lease,
        )
        .await?;
        // The manifest references config and layers so they live as long as the image.
        let mut manifest_labels = HashMap::from([(
            "containerd.io/gc.ref.content.config".to_string(),
            config_desc.digest.clone(),
        )]);
        for (i, layer) in layers.iter().enumerate() {
            manifest_labels.insert(
                format!("containerd.io/gc.ref.content.l.{i}"),
                layer.digest.clone(),
            );
        }
        self.write_blob(
            &desc.digest,
            layout.blob(&desc.digest)?,
            manifest_labels,
            lease,
        )
        .await?;

        self.unpack(&layers, &diff_ids, &chain_ids, lease).await?;
        Ok(chain_ids.last().cloned().unwrap_or_default())
    }

    /// Creates the image record, replacing the target if the name already exists.
    async fn create_image(&self, name: &str, target: &Descriptor, lease: &str) -> Result<()> {
        let image = api::Image {
            name: name.to_string(),
            target: Some(target.to_proto()),
            ..Default::default()
        };
        let created = self
            .images()
            .create(self.req(
                api::CreateImageRequest {
                    image: Some(image.clone()),
                    source_date_epoch: None,
                },
                Some(lease),
            )?)
            .await;
        match created {
            Ok(_) => Ok(()),
            Err(s) if s.code() == Code::AlreadyExists => {
                let update = api::UpdateImageRequest {
                    image: Some(image),
                    update_mask: Some(prost_types::FieldMask {
                        paths: vec!["target".into()],
                    }),
                    source_date_epoch: None,
                };
                self.images()
                    .update(self.req(update, Some(lease))?)
                    .await
                    .map_err(rpc(format!("images update {name}")))?;
                Ok(())
            }
            Err(s) => Err(RuntimeError::rpc(format!("images create {name}"), s)),
        }
    }

    /// Applies each layer onto a snapshot prepared from the previous chain ID (with the
    /// diff service, which mounts and untars server-side) and commits it as its chain ID.
    async fn unpack(
        &self,
        layers: &[Descriptor],
        diff_ids: &[String],
        chain_ids: &[String],
        lease: &str,
    ) -> Result<()> {
        let mut parent = String::new();
        for ((layer, diff_id), chain_id) in layers.iter().zip(diff_ids).zip(chain_ids) {
            if self.snapshot_exists(chain_id).await? {
                parent = chain_id.clone();
                continue;
            }
            let key = format!("extract-{}-{chain_id}", uuid::Uuid::new_v4());
            let prepare = snap::PrepareSnapshotRequest {
                snapshotter: SNAPSHOTTER.into(),
                key: key.clone(),
                parent: parent.clone(),
                labels: HashMap::new(),
            };
            let mounts = self
                .snapshots()
                .prepare(self.req(prepare, Some(lease))?)
                .await
                .map_err(rpc(format!("snapshots prepare {key}")))?
                .into_inner()
                .mounts;
            let applied = self
                .apply_and_commit(layer, diff_id, chain_id, &key, mounts, lease)
                .await;
            if applied.is_err() {
                // Best effort: do not leave the half-extracted active snapshot behind.
                let _ = self.remove_snapshot(&key).await;
            }
            applied?;
            parent = chain_id.clone();
        }
        Ok(())
    }

    async fn apply_and_commit(
        &self,
        layer: &Descriptor,
        diff_id: &str,
        chain_id: &str,
        key: &str,
        mounts: Vec<Mount>,
        lease: &str,
    ) -> Result<()> {
        let apply = api::ApplyRequest {
            diff: Some(layer.to_proto()),
            mounts,
            payloads: HashMap::new(),
            sync_fs: false,
        };
        let applied = api::diff_client::DiffClient::new(self.channel.clone())
            .apply(self.req(apply, Some(lease))?)
            .await
            .map_err(rpc(format!("diff apply {}", layer.digest)))?
            .into_inner()
            .applied;
        let got = applied.map(|d| d.digest).unwrap_or_default();
        if got != diff_id {
            return Err(RuntimeError::image(
                layer.digest.clone(),
                format!("uncompressed digest {got} does not match diff_id {diff_id}"),
            ));
        }
        let commit = snap::CommitSnapshotRequest {
            snapshotter: SNAPSHOTTER.into(),
            name: chain_id.to_string(),
            key: key.to_string(),
            labels: HashMap::new(),
        };
        self.snapshots()
            .commit(self.req(commit, Some(lease))?)
            .await
            .map_err(rpc(format!("snapshots commit {chain_id}")))?;
        Ok(())
    }

    async fn snapshot_exists(&self, key: &str) -> Result<bool> {
        let stat = snap::StatSnapshotRequest {
            snapshotter: SNAPSHOTTER.into(),
            key: key.to_string(),
        };
        match self.snapshots().stat(self.req(stat, None)?).await {
            Ok(_) => Ok(true),
            Err(s) if s.code() == Code::NotFound => Ok(false),
            Err(s) => Err(RuntimeError::rpc(format!("snapshots stat {key}"), s)),
        }
    }

    async fn remove_snapshot(&self, key: &str) -> Result<()> {
        let req = snap::RemoveSnapshotRequest {
            snapshotter: SNAPSHOTTER.into(),
            key: key.to_string(),
        };
        self.snapshots()
            .remove(self.req(req, None)?)
            .await
            .map_err(rpc(format!("snapshots remove {key}")))?;
        Ok(())
    }

    /// Names of all snapshots (committed and active) in the namespace.
    pub async fn list_snapshots(&self) -> Result<Vec<String>> {
        let req = snap::ListSnapshotsRequest {
            snapshotter: SNAPSHOTTER.into(),
            filters: vec![],
        };
        let mut stream = self
            .snapshots()
            .list(self.req(req, None)?)
            .await
            .map_err(rpc("snapshots list"))?
            .into_inner();
        let mut out = Vec::new();
        while let Some(msg) = stream.message().await.map_err(rpc("snapshots list"))? {
            out.extend(msg.info.into_iter().map(|i| i.name));
        }
        out.sort();
        Ok(out)
    }

    /// Names of the images in the namespace.
    pub async fn list_images(&self) -> Result<Vec<String>> {
        let resp = self
            .images()
            .list(self.req(api::ListImagesRequest { filters: vec![] }, None)?)
            .await
            .map_err(rpc("images list"))?
            .into_inner();
        let mut names: Vec<String> = resp.images.into_iter().map(|i| i.name).collect();
        names.sort();
        Ok(names)
    }

    /// Deletes an image record; with containerd's synchronous GC its content and
    /// unpacked snapshots go too once no container uses them.
    pub async fn remove_image(&self, name: &str) -> Result<()> {
        let req = api::DeleteImageRequest {
            name: name.to_string(),
            sync: true,
            target: None,
        };
        self.images()
            .delete(self.req(req, None)?)
            .await
            .map_err(rpc(format!("images delete {name}")))?;
        Ok(())
    }

    /// The image's config JSON and top chain ID (the snapshot a rootfs is prepared from).
    pub async fn image_config(&self, image_ref: &str) -> Result<(Value, String)> {
        let image = self
            .images()
            .get(self.req(
                api::GetImageRequest {
                    name: image_ref.to_string(),
                },
                None,
            )?)
            .await
            .map_err(rpc(format!("images get {image_ref}")))?
            .into_inner()
            .image
            .and_then(|i| i.target)
            .ok_or_else(|| RuntimeError::image(image_ref, "image record has no target"))?;
        let mut manifest_digest = image.digest.clone();
        let mut manifest = self.read_json(&manifest_digest).await?;
        if image.media_type == oci_layout::MEDIA_TYPE_OCI_INDEX
            || image.media_type == oci_layout::MEDIA_TYPE_DOCKER_LIST
        {
            manifest_digest = oci_layout::select_platform(&manifest)?.digest;
            manifest = self.read_json(&manifest_digest).await?;
        }
        let config_digest = manifest["config"]["digest"]
            .as_str()
            .ok_or_else(|| RuntimeError::image(manifest_digest.clone(), "manifest has no config"))?
            .to_string();
        let config = self.read_json(&config_digest).await?;
        let (_, diff_ids) = oci_layout::layers_and_diff_ids(&manifest, &config)?;
        let chain_id = oci_layout::chain_ids(&diff_ids)
            .pop()
            .ok_or_else(|| RuntimeError::image(image_ref, "image has no layers"))?;
        Ok((config, chain_id))
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
