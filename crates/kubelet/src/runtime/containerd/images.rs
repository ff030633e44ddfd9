//! The image half of the containerd client: leases, content blobs, OCI layout import,
//! unpacking layers into snapshots, and the image queries the kubelet makes.

use std::collections::HashMap;
use std::path::Path;

use containerd_client::services::v1 as api;
use containerd_client::services::v1::snapshots as snap;
use containerd_client::tonic::Code;
use containerd_client::types::Mount;
use serde_json::Value;

use super::{expire_in, rpc, Containerd, ImportedImage, CHUNK, SNAPSHOTTER};
use crate::runtime::oci_layout::{self, Descriptor, OciLayout};
use crate::runtime::{Result, RuntimeError};

impl Containerd {
    // ---- leases ----------------------------------------------------------------

    /// A short-lived lease that also expires on its own, so a crash mid-import does not
    /// pin content forever.
    pub(super) async fn create_lease(&self) -> Result<String> {
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

    pub(super) async fn delete_lease(&self, id: &str) -> Result<()> {
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

    pub(super) async fn remove_snapshot(&self, key: &str) -> Result<()> {
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
}
