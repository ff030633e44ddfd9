//! Pulling images from registries (oci-client) into containerd.
//!
//! The manifest (an index / manifest list resolves to its linux/<arch> entry), the config
//! and the layers are fetched from the first endpoint that has them (mirrors first, see
//! [`crate::registries`]), assembled into an OCI image layout and imported with
//! [`Containerd::import_image`]: the same content writes, GC labels, diff applies and
//! image record as for the air-gapped tarballs. Two image records are made: the tag
//! (`docker.io/library/busybox:latest`) and the repo digest
//! (`docker.io/library/busybox@sha256:...`), like containerd's CRI does, so a restarted
//! kubelet can still tell a container's imageID.
//!
//! Blobs are held in memory while pulling: fine for the small images these nodes run;
//! streaming into the content store is a later optimisation.

use std::io::Write;
use std::path::{Path, PathBuf};

use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference};
use serde_json::{json, Value};

use super::oci_layout::{
    self, sha256_digest, ANNOTATION_IMAGE_NAME, MEDIA_TYPE_DOCKER_LIST, MEDIA_TYPE_DOCKER_MANIFEST,
    MEDIA_TYPE_OCI_INDEX, MEDIA_TYPE_OCI_MANIFEST,
};
use super::{Containerd, RuntimeError};
use crate::images::reference::ImageName;
use crate::registries::{Credential, Endpoint, Keyring};

const ACCEPTED: &[&str] = &[
    MEDIA_TYPE_OCI_INDEX,
    MEDIA_TYPE_DOCKER_LIST,
    MEDIA_TYPE_OCI_MANIFEST,
    MEDIA_TYPE_DOCKER_MANIFEST,
];

/// A pulled image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PulledImage {
    /// The image record's name (`docker.io/library/busybox:latest`).
    pub name: String,
    /// `docker.io/library/busybox@sha256:...` (digest of what the tag points at).
    pub repo_digest: String,
    /// Config + compressed layers, in bytes.
    pub size: u64,
    /// `host[:port]` it came from.
    pub endpoint: String,
}

/// Why a pull failed; the Display text is what pods show as ErrImagePull's message.
#[derive(Debug, thiserror::Error)]
pub enum PullError {
    /// No endpoint knows the reference (containerd's wording).
    #[error("failed to pull and unpack image \"{image}\": failed to resolve reference \"{image}\": {image}: not found")]
    NotFound { image: String },
    #[error("failed to pull and unpack image \"{image}\": {msg}")]
    Registry { image: String, msg: String },
    #[error("failed to pull and unpack image \"{image}\": {source}")]
    Import {
        image: String,
        #[source]
        source: RuntimeError,
    },
}

/// What an endpoint attempt ended with.
enum Attempt {
    NotFound,
    Unauthorized(String),
    Failed(String),
}

/// Everything of one image, fetched.
struct Fetched {
    /// The tag's target: a manifest, or an index / manifest list.
    top: Blob,
    /// The platform manifest when `top` is an index.
    platform_manifest: Option<Blob>,
    config: Vec<u8>,
    config_digest: String,
    layers: Vec<(String, Vec<u8>)>,
}

struct Blob {
    digest: String,
    media_type: String,
    data: Vec<u8>,
}

/// Pulls `image` trying `endpoints` in order; credentials come from each endpoint's
/// registry config, then from `keyring` (pull secrets) for that endpoint's host.
/// `work_dir` holds the temporary layout tarball.
pub async fn pull(
    runtime: &Containerd,
    image: &ImageName,
    endpoints: &[Endpoint],
    keyring: &Keyring,
    work_dir: &Path,
) -> Result<PulledImage, PullError> {
    let full = image.full_name();
    let mut errors: Vec<String> = Vec::new();
    let mut all_not_found = true;
    for ep in endpoints {
        let mut creds: Vec<Credential> = ep.auth.iter().cloned().collect();
        for c in keyring.lookup(&ep.host, &image.repository) {
            if !creds.contains(&c) {
                creds.push(c);
            }
        }
        let auths: Vec<RegistryAuth> = if creds.is_empty() {
            vec![RegistryAuth::Anonymous]
        } else {
            creds.iter().map(to_auth).collect()
        };
        let mut outcome = Attempt::Failed("no attempt".into());
        for auth in &auths {
            match fetch(ep, image, auth).await {
                Ok(fetched) => {
                    let size = (fetched.config.len()
                        + fetched.layers.iter().map(|(_, d)| d.len()).sum::<usize>())
                        as u64;
                    let repo_digest = image.repo_digest(&fetched.top.digest);
                    import(runtime, image, &fetched, work_dir)
                        .await
                        .map_err(|source| PullError::Import {
                            image: full.clone(),
                            source,
                        })?;
                    return Ok(PulledImage {
                        name: full,
                        repo_digest,
                        size,
                        endpoint: ep.host.clone(),
                    });
                }
                Err(a @ Attempt::Unauthorized(_)) => outcome = a, // try the next credential
                Err(a) => {
                    outcome = a;
                    break;
                }
            }
        }
        match outcome {
            Attempt::NotFound => {
                tracing::debug!(image = %full, endpoint = %ep.host, "not found at endpoint");
                errors.push(format!("{}: not found", ep.host));
            }
            Attempt::Unauthorized(m) | Attempt::Failed(m) => {
                all_not_found = false;
                tracing::debug!(image = %full, endpoint = %ep.host, error = %m, "pull attempt failed");
                errors.push(format!("{}: {m}", ep.host));
            }
        }
    }
    if all_not_found {
        return Err(PullError::NotFound { image: full });
    }
    Err(PullError::Registry {
        image: full,
        msg: errors.join("; "),
    })
}

fn to_auth(c: &Credential) -> RegistryAuth {
    match c {
        Credential::Basic { username, password } => {
            RegistryAuth::Basic(username.clone(), password.clone())
        }
        Credential::Bearer(t) => RegistryAuth::Bearer(t.clone()),
    }
}

fn client_for(ep: &Endpoint) -> Client {
    let protocol = if ep.plain_http {
        ClientProtocol::HttpsExcept(vec![ep.host.clone()])
    } else {
        ClientProtocol::Https
    };
    Client::new(ClientConfig {
        protocol,
        accept_invalid_certificates: ep.insecure_skip_verify,
        // Indexes are resolved here (select_platform), not by the client.
        platform_resolver: None,
        connect_timeout: Some(std::time::Duration::from_secs(10)),
        read_timeout: Some(std::time::Duration::from_secs(60)),
        ..Default::default()
    })
}

fn classify(e: oci_client::errors::OciDistributionError) -> Attempt {
    use oci_client::errors::{OciDistributionError as E, OciErrorCode};
    match &e {
        E::ImageManifestNotFoundError(_) => Attempt::NotFound,
        E::RegistryError { envelope, .. }
            if !envelope.errors.is_empty()
                && envelope.errors.iter().all(|x| {
                    matches!(
                        x.code,
                        OciErrorCode::ManifestUnknown
                            | OciErrorCode::NameUnknown
                            | OciErrorCode::NotFound
                    )
                }) =>
        {
            Attempt::NotFound
        }
        E::ServerError { code: 404, .. } => Attempt::NotFound,
        E::UnauthorizedError { .. } | E::AuthenticationFailure(_) => {
            Attempt::Unauthorized(e.to_string())
        }
        E::RegistryError { envelope, .. }
            if envelope
                .errors
                .iter()
                .any(|x| matches!(x.code, OciErrorCode::Unauthorized | OciErrorCode::Denied)) =>
        {
            Attempt::Unauthorized(e.to_string())
        }
        E::ServerError {
            code: 401 | 403, ..
        } => Attempt::Unauthorized(e.to_string()),
        _ => Attempt::Failed(e.to_string()),
    }
}

/// The media type a manifest declares, or what its shape says (OCI lets it be absent).
fn media_type_of(doc: &Value) -> Result<String, String> {
    if let Some(m) = doc["mediaType"].as_str() {
        return Ok(m.to_string());
    }
    match doc["schemaVersion"].as_i64() {
        Some(2) if doc.get("manifests").is_some() => Ok(MEDIA_TYPE_OCI_INDEX.into()),
        Some(2) => Ok(MEDIA_TYPE_OCI_MANIFEST.into()),
        Some(v) => Err(format!("unsupported manifest schema version {v}")),
        None => Err("manifest has no schemaVersion".into()),
    }
}

async fn fetch_manifest(
    client: &Client,
    reference: &Reference,
    auth: &RegistryAuth,
) -> Result<(Blob, Value), Attempt> {
    let (bytes, digest) = client
        .pull_manifest_raw(reference, auth, ACCEPTED)
        .await
        .map_err(classify)?;
    let doc: Value = serde_json::from_slice(&bytes)
        .map_err(|e| Attempt::Failed(format!("manifest is not JSON: {e}")))?;
    let media_type = media_type_of(&doc).map_err(Attempt::Failed)?;
    if !ACCEPTED.contains(&media_type.as_str()) {
        return Err(Attempt::Failed(format!(
            "unsupported manifest media type {media_type}"
        )));
    }
    Ok((
        Blob {
            digest,
            media_type,
            data: bytes.to_vec(),
        },
        doc,
    ))
}

async fn fetch_blob(
    client: &Client,
    reference: &Reference,
    digest: &str,
) -> Result<Vec<u8>, Attempt> {
    let mut out = Vec::new();
    client
        .pull_blob(reference, digest, &mut out)
        .await
        .map_err(|e| Attempt::Failed(format!("fetching blob {digest}: {e}")))?;
    Ok(out)
}

async fn fetch(ep: &Endpoint, image: &ImageName, auth: &RegistryAuth) -> Result<Fetched, Attempt> {
    let client = client_for(ep);
    let by = |r: &str| {
        if r.contains(':') && r.starts_with("sha256:") {
            Reference::with_digest(ep.host.clone(), image.repository.clone(), r.to_string())
        } else {
            Reference::with_tag(ep.host.clone(), image.repository.clone(), r.to_string())
        }
    };
    let reference = by(image.reference());
    let (top, top_doc) = fetch_manifest(&client, &reference, auth).await?;
    let (platform_manifest, manifest_doc) =
        if top.media_type == MEDIA_TYPE_OCI_INDEX || top.media_type == MEDIA_TYPE_DOCKER_LIST {
            let desc = oci_layout::select_platform(&top_doc)
                .map_err(|e| Attempt::Failed(e.to_string()))?;
            let (m, doc) = fetch_manifest(&client, &by(&desc.digest), auth).await?;
            (Some(m), doc)
        } else {
            (None, top_doc)
        };
    let config_digest = manifest_doc["config"]["digest"]
        .as_str()
        .ok_or_else(|| Attempt::Failed("manifest has no config".into()))?
        .to_string();
    let config = fetch_blob(&client, &reference, &config_digest).await?;
    let mut layers = Vec::new();
    for layer in manifest_doc["layers"].as_array().into_iter().flatten() {
        let digest = layer["digest"]
            .as_str()
            .ok_or_else(|| Attempt::Failed("layer without digest".into()))?;
        let data = fetch_blob(&client, &reference, digest).await?;
        layers.push((digest.to_string(), data));
    }
    Ok(Fetched {
        top,
        platform_manifest,
        config,
        config_digest,
        layers,
    })
}

/// The OCI layout `index.json` naming `top` twice: by tag name and by repo digest.
fn layout_index(image: &ImageName, top: &Blob) -> Value {
    let mut names = vec![image.full_name()];
    let by_digest = image.repo_digest(&top.digest);
    if !names.contains(&by_digest) {
        names.push(by_digest);
    }
    let manifests: Vec<Value> = names
        .into_iter()
        .map(|n| {
            json!({
                "mediaType": top.media_type,
                "digest": top.digest,
                "size": top.data.len(),
                "annotations": { ANNOTATION_IMAGE_NAME: n },
            })
        })
        .collect();
    json!({ "schemaVersion": 2, "manifests": manifests })
}

/// Writes the fetched blobs as an OCI layout tarball at `path`.
fn write_layout(path: &Path, image: &ImageName, f: &Fetched) -> std::io::Result<()> {
    let file = std::fs::File::create(path)?;
    let mut tar = tar::Builder::new(std::io::BufWriter::new(file));
    let mut add = |name: &str, data: &[u8]| -> std::io::Result<()> {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        tar.append_data(&mut header, name, data)
    };
    add("oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#)?;
    let index = serde_json::to_vec(&layout_index(image, &f.top)).map_err(std::io::Error::other)?;
    add("index.json", &index)?;
    let mut blobs: Vec<(&str, &[u8])> =
        vec![(&f.top.digest, &f.top.data), (&f.config_digest, &f.config)];
    if let Some(m) = &f.platform_manifest {
        blobs.push((&m.digest, &m.data));
    }
    for (d, data) in &f.layers {
        blobs.push((d, data));
    }
    let mut seen = std::collections::HashSet::new();
    for (digest, data) in blobs {
        if !seen.insert(digest) {
            continue;
        }
        // oci-client verified the layers; check what it does not (manifests by tag).
        if digest.starts_with("sha256:") && sha256_digest(data) != digest {
            return Err(std::io::Error::other(format!(
                "content of {digest} does not match its digest"
            )));
        }
        let path = digest.replacen(':', "/", 1);
        add(&format!("blobs/{path}"), data)?;
    }
    let mut w = tar.into_inner()?;
    w.flush()
}

/// Removes the temporary tarball however the import ends.
struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

async fn import(
    runtime: &Containerd,
    image: &ImageName,
    fetched: &Fetched,
    work_dir: &Path,
) -> Result<(), RuntimeError> {
    std::fs::create_dir_all(work_dir)
        .map_err(|e| RuntimeError::io(format!("creating {}", work_dir.display()), e))?;
    let tmp = TempFile(work_dir.join(format!("pull-{}.tar", uuid::Uuid::new_v4())));
    write_layout(&tmp.0, image, fetched)
        .map_err(|e| RuntimeError::io(format!("writing {}", tmp.0.display()), e))?;
    runtime.import_image(&tmp.0).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_names_tag_and_digest() {
        let image = ImageName::parse("busybox").unwrap();
        let top = Blob {
            digest: "sha256:aa".into(),
            media_type: MEDIA_TYPE_OCI_MANIFEST.into(),
            data: b"{}".to_vec(),
        };
        let idx = layout_index(&image, &top);
        let names: Vec<&str> = idx["manifests"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["annotations"][ANNOTATION_IMAGE_NAME].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            vec![
                "docker.io/library/busybox:latest",
                "docker.io/library/busybox@sha256:aa"
            ]
        );
        assert_eq!(idx["manifests"][0]["size"], 2);
        // Pinned by digest: one name.
        let pinned = ImageName::parse("busybox@sha256:aa").unwrap();
        assert_eq!(
            layout_index(&pinned, &top)["manifests"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
    }

    #[test]
    fn media_types_from_shape() {
        assert_eq!(
            media_type_of(&json!({"schemaVersion": 2, "manifests": []})).unwrap(),
            MEDIA_TYPE_OCI_INDEX
        );
        assert_eq!(
            media_type_of(&json!({"schemaVersion": 2, "layers": []})).unwrap(),
            MEDIA_TYPE_OCI_MANIFEST
        );
        assert_eq!(
            media_type_of(&json!({"mediaType": MEDIA_TYPE_DOCKER_LIST})).unwrap(),
            MEDIA_TYPE_DOCKER_LIST
        );
        assert!(media_type_of(&json!({"schemaVersion": 1})).is_err());
    }

    #[test]
    fn layout_rejects_wrong_content() {
        let dir = tempfile::tempdir().unwrap();
        let image = ImageName::parse("busybox").unwrap();
        let f = Fetched {
            top: Blob {
                digest: sha256_digest(b"m"),
                media_type: MEDIA_TYPE_OCI_MANIFEST.into(),
                data: b"m".to_vec(),
            },
            platform_manifest: None,
            config: b"c".to_vec(),
            config_digest: sha256_digest(b"not c"),
            layers: vec![],
        };
        let err = write_layout(&dir.path().join("x.tar"), &image, &f).unwrap_err();
        assert!(err.to_string().contains("does not match"), "{err}");
    }
}
