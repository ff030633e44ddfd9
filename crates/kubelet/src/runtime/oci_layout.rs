//! OCI image layout tarballs (`oci-layout`, `index.json`, `blobs/sha256/...`) and the
//! digest arithmetic containerd uses to name unpacked snapshots (chain IDs).

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

use serde_json::Value;

use super::{Result, RuntimeError};

pub const MEDIA_TYPE_OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const MEDIA_TYPE_OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const MEDIA_TYPE_DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const MEDIA_TYPE_DOCKER_LIST: &str =
    "application/vnd.docker.distribution.manifest.list.v2+json";
/// The annotation `ctr images export` and our image builder put the full reference in.
pub const ANNOTATION_IMAGE_NAME: &str = "io.containerd.image.name";
pub const ANNOTATION_REF_NAME: &str = "org.opencontainers.image.ref.name";

/// A descriptor as found in index.json / manifests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Descriptor {
    pub media_type: String,
    pub digest: String,
    pub size: i64,
    pub annotations: HashMap<String, String>,
}

impl Descriptor {
    pub fn from_json(v: &Value) -> Result<Self> {
        let media_type = v["mediaType"].as_str().unwrap_or_default().to_string();
        let digest = v["digest"]
            .as_str()
            .ok_or_else(|| RuntimeError::image("descriptor", format!("no digest in {v}")))?
            .to_string();
        let size = v["size"]
            .as_i64()
            .ok_or_else(|| RuntimeError::image("descriptor", format!("no size in {v}")))?;
        let annotations = v["annotations"]
            .as_object()
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
                    .collect()
            })
            .unwrap_or_default();
        Ok(Descriptor {
            media_type,
            digest,
            size,
            annotations,
        })
    }

    pub fn to_proto(&self) -> containerd_client::types::Descriptor {
        containerd_client::types::Descriptor {
            media_type: self.media_type.clone(),
            digest: self.digest.clone(),
            size: self.size,
            annotations: self.annotations.clone(),
        }
    }

    pub fn is_index(&self) -> bool {
        self.media_type == MEDIA_TYPE_OCI_INDEX || self.media_type == MEDIA_TYPE_DOCKER_LIST
    }
}

/// An OCI layout tarball read fully into memory (fine for the small images the kubelet
/// imports from disk; pulling large images goes through a registry client later).
#[derive(Debug, Default)]
pub struct OciLayout {
    pub index: Value,
    /// digest ("sha256:...") -> blob bytes.
    pub blobs: HashMap<String, Vec<u8>>,
}

impl OciLayout {
    pub fn read_tar(path: &Path) -> Result<Self> {
        let file = std::fs::File::open(path)
            .map_err(|e| RuntimeError::io(format!("opening {}", path.display()), e))?;
        let ctx = |e| RuntimeError::io(format!("reading tar {}", path.display()), e);
        let mut archive = tar::Archive::new(file);
        let mut layout = OciLayout::default();
        let mut index = None;
        for entry in archive.entries().map_err(ctx)? {
            let mut entry = entry.map_err(ctx)?;
            if !entry.header().entry_type().is_file() {
                continue;
            }
            let name = entry.path().map_err(ctx)?.to_string_lossy().into_owned();
            let name = name.trim_start_matches("./").to_string();
            let mut data = Vec::new();
            entry.read_to_end(&mut data).map_err(ctx)?;
            if name == "index.json" {
                index = Some(data);
            } else if let Some(rest) = name.strip_prefix("blobs/") {
                // blobs/<algorithm>/<hex> -> <algorithm>:<hex>
                if let Some((alg, hex)) = rest.split_once('/') {
                    layout.blobs.insert(format!("{alg}:{hex}"), data);
                }
            }
        }
        let index = index.ok_or_else(|| {
            RuntimeError::image(path.display().to_string(), "no index.json in the tarball")
        })?;
        layout.index = serde_json::from_slice(&index)
            .map_err(|e| RuntimeError::image("index.json", e.to_string()))?;
        Ok(layout)
    }

    pub fn blob(&self, digest: &str) -> Result<&[u8]> {
        self.blobs
            .get(digest)
            .map(Vec::as_slice)
            .ok_or_else(|| RuntimeError::image(digest, "blob missing from the layout"))
    }

    pub fn blob_json(&self, digest: &str) -> Result<Value> {
        serde_json::from_slice(self.blob(digest)?)
            .map_err(|e| RuntimeError::image(digest, format!("not JSON: {e}")))
    }

    /// The images named in index.json: (reference, top-level descriptor).
    pub fn named_images(&self) -> Result<Vec<(String, Descriptor)>> {
        let manifests = self.index["manifests"]
            .as_array()
            .ok_or_else(|| RuntimeError::image("index.json", "no manifests array"))?;
        let mut out = Vec::new();
        for m in manifests {
            let desc = Descriptor::from_json(m)?;
            let name = desc
                .annotations
                .get(ANNOTATION_IMAGE_NAME)
                .or_else(|| {
                    // A bare tag ("latest") is not a usable reference; a full one is.
                    desc.annotations
                        .get(ANNOTATION_REF_NAME)
                        .filter(|r| r.contains('/') || r.contains(':'))
                })
                .cloned();
            if let Some(name) = name {
                out.push((name, desc));
            }
        }
        if out.is_empty() {
            return Err(RuntimeError::image(
                "index.json",
                format!("no manifest carries a {ANNOTATION_IMAGE_NAME} annotation"),
            ));
        }
        Ok(out)
    }
}

/// Docker/OCI arch name of this host.
pub fn host_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    }
}

/// From an image index, the manifest for linux/<host arch> (or the only one).
pub fn select_platform(index: &Value) -> Result<Descriptor> {
    let manifests = index["manifests"]
        .as_array()
        .ok_or_else(|| RuntimeError::image("index", "no manifests array"))?;
    let pick = manifests
        .iter()
        .find(|m| m["platform"]["os"] == "linux" && m["platform"]["architecture"] == host_arch())
        .or_else(|| {
            if manifests.len() == 1 {
                manifests.first()
            } else {
                None
            }
        })
        .ok_or_else(|| {
            RuntimeError::image("index", format!("no manifest for linux/{}", host_arch()))
        })?;
    Descriptor::from_json(pick)
}

/// Layers of a manifest and the `rootfs.diff_ids` of its config, checked to match.
pub fn layers_and_diff_ids(
    manifest: &Value,
    config: &Value,
) -> Result<(Vec<Descriptor>, Vec<String>)> {
    let layers = manifest["layers"]
        .as_array()
        .ok_or_else(|| RuntimeError::image("manifest", "no layers array"))?
        .iter()
        .map(Descriptor::from_json)
        .collect::<Result<Vec<_>>>()?;
    let diff_ids: Vec<String> = config["rootfs"]["diff_ids"]
        .as_array()
        .ok_or_else(|| RuntimeError::image("config", "no rootfs.diff_ids"))?
        .iter()
        .filter_map(|d| d.as_str().map(str::to_string))
        .collect();
    if diff_ids.len() != layers.len() {
        return Err(RuntimeError::image(
            "config",
            format!("{} diff_ids for {} layers", diff_ids.len(), layers.len()),
        ));
    }
    Ok((layers, diff_ids))
}

pub fn sha256_digest(data: &[u8]) -> String {
    let d = ring::digest::digest(&ring::digest::SHA256, data);
    let hex: String = d.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

/// Chain IDs per the OCI image spec: ChainID(L0) = DiffID(L0),
/// ChainID(Ln) = sha256(ChainID(Ln-1) + " " + DiffID(Ln)). containerd names committed
/// layer snapshots by these, so an unpacked image is found by its last chain ID.
pub fn chain_ids(diff_ids: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(diff_ids.len());
    for diff_id in diff_ids {
        let next = match out.last() {
            None => diff_id.clone(),
            Some(prev) => sha256_digest(format!("{prev} {diff_id}").as_bytes()),
        };
        out.push(next);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_id_arithmetic() {
        let a = "sha256:aaaa".to_string();
        let b = "sha256:bbbb".to_string();
        let ids = chain_ids(&[a.clone(), b.clone()]);
        assert_eq!(ids[0], a);
        assert_eq!(ids[1], sha256_digest(b"sha256:aaaa sha256:bbbb"));
        assert!(chain_ids(&[]).is_empty());
    }

    #[test]
    fn sha256_of_empty() {
        assert_eq!(
            sha256_digest(b""),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn names_and_platforms() {
        let layout = OciLayout {
            index: serde_json::json!({"manifests": [
                {"mediaType": MEDIA_TYPE_OCI_MANIFEST, "digest": "sha256:1", "size": 3,
                 "annotations": {ANNOTATION_IMAGE_NAME: "docker.io/library/busybox:1"}},
                {"mediaType": MEDIA_TYPE_OCI_MANIFEST, "digest": "sha256:2", "size": 3,
                 "annotations": {ANNOTATION_REF_NAME: "latest"}},
            ]}),
            blobs: HashMap::new(),
        };
        let named = layout.named_images().unwrap();
        assert_eq!(named.len(), 1);
        assert_eq!(named[0].0, "docker.io/library/busybox:1");
        assert_eq!(named[0].1.digest, "sha256:1");

        let index = serde_json::json!({"manifests": [
            {"digest": "sha256:arm", "size": 1, "platform": {"os": "linux", "architecture": "riscv"}},
            {"digest": "sha256:me", "size": 1, "platform": {"os": "linux", "architecture": host_arch()}},
        ]});
        assert_eq!(select_platform(&index).unwrap().digest, "sha256:me");
    }
}
