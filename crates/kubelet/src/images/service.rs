//! The kubelet's image manager: before a container starts, make sure its image is in
//! containerd according to its imagePullPolicy, pulling it (mirrors, pull secrets)
//! when needed, with upstream's per-pod-and-image backoff (10 s doubling to 300 s), the
//! waiting reasons (ErrImagePull, ImagePullBackOff, ErrImageNeverPull,
//! InvalidImageName) and the events (Pulling, Pulled, Failed, BackOff).
//!
//! Events are returned to the caller, which publishes them against the pod.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{Container, Pod, Secret};
use kube::{Api, Client};

use super::reference::{should_pull, ImageName, PullPolicy};
use crate::registries::{Keyring, Registries};
use crate::runtime::{pull, Containerd};

pub const BACKOFF_MIN: Duration = Duration::from_secs(10);
pub const BACKOFF_MAX: Duration = Duration::from_secs(300);

/// Upstream's waiting reasons for image trouble.
pub const ERR_IMAGE_PULL: &str = "ErrImagePull";
pub const IMAGE_PULL_BACKOFF: &str = "ImagePullBackOff";
pub const ERR_IMAGE_NEVER_PULL: &str = "ErrImageNeverPull";
pub const INVALID_IMAGE_NAME: &str = "InvalidImageName";
pub const ERR_IMAGE_INSPECT: &str = "ErrImageInspect";

/// An event about a container's image, for the caller to publish on the pod.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageEvent {
    pub warning: bool,
    pub reason: &'static str,
    pub message: String,
}

impl ImageEvent {
    fn normal(reason: &'static str, message: String) -> Self {
        ImageEvent {
            warning: false,
            reason,
            message,
        }
    }
    fn warning(reason: &'static str, message: String) -> Self {
        ImageEvent {
            warning: true,
            reason,
            message,
        }
    }
}

/// Why a container's image is not usable: its waiting reason and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageFailure {
    pub reason: &'static str,
    pub message: String,
}

/// The outcome of [`ImageService::ensure`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ensured {
    /// The normalized name the container is created from.
    pub name: String,
    /// The repo digest, when known.
    pub repo_digest: Option<String>,
}

#[derive(Debug, Clone)]
struct Backoff {
    /// No new pull before this.
    until: Instant,
    /// The next wait.
    next: Duration,
    last_error: String,
    /// The BackOff event of this window was published.
    announced: bool,
}

/// Pulls images and remembers their repo digests; cheap to clone.
#[derive(Clone)]
pub struct ImageService {
    runtime: Containerd,
    registries: Arc<Registries>,
    /// Temporary layout tarballs go here (`<root-dir>/pulls`).
    work_dir: PathBuf,
    /// normalized name -> repo digest.
    digests: Arc<Mutex<HashMap<String, String>>>,
    /// (pod uid, normalized image) -> backoff.
    backoff: Arc<Mutex<HashMap<(String, String), Backoff>>>,
    /// One pull per image at a time (30 pods of one image pull it once).
    inflight: Arc<tokio::sync::Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>>,
}

impl std::fmt::Debug for ImageService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImageService")
            .field("work_dir", &self.work_dir)
            .finish()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// `Back-off pulling image "x"`, upstream's message.
fn backoff_message(image: &str) -> String {
    format!("Back-off pulling image \"{image}\"")
}

impl ImageService {
    pub fn new(runtime: Containerd, registries: Registries, work_dir: PathBuf) -> Self {
        // oci-client is built without a rustls provider; the kubelet uses ring. Installing
        // twice is refused harmlessly.
        let _ = rustls::crypto::ring::default_provider().install_default();
        ImageService {
            runtime,
            registries: Arc::new(registries),
            work_dir,
            digests: Arc::default(),
            backoff: Arc::default(),
            inflight: Arc::default(),
        }
    }

    /// Records repo digests known from elsewhere (the air-gapped tarballs).
    pub fn remember_digests(&self, known: impl IntoIterator<Item = (String, String)>) {
        lock(&self.digests).extend(known);
    }

    /// The repo digest of a normalized image name, if known.
    pub async fn repo_digest(&self, name: &str) -> Option<String> {
        if let Some(d) = lock(&self.digests).get(name) {
            return Some(d.clone());
        }
        let parsed = ImageName::parse(name).ok()?;
        if let Some(d) = &parsed.digest {
            return Some(parsed.repo_digest(d));
        }
        // A digest record of the same repository whose config is the tag's.
        let prefix = format!("{}@", parsed.repo());
        let names = self.runtime.list_images().await.ok()?;
        let (config, _) = self.runtime.image_config(name).await.ok()?;
        for candidate in names.iter().filter(|n| n.starts_with(&prefix)) {
            if let Ok((c, _)) = self.runtime.image_config(candidate).await {
                if c == config {
                    lock(&self.digests).insert(name.to_string(), candidate.clone());
                    return Some(candidate.clone());
                }
            }
        }
        None
    }

    async fn present(&self, name: &str) -> Result<bool, ImageFailure> {
        match self.runtime.image_config(name).await {
            Ok(_) => Ok(true),
            Err(e) if e.is_not_found() => Ok(false),
            Err(e) => Err(ImageFailure {
                reason: ERR_IMAGE_INSPECT,
                message: format!("Failed to inspect image \"{name}\": {e}"),
            }),
        }
    }

    /// Makes sure `container`'s image is present, pulling per its policy. Returns the
    /// events to publish either way.
    pub async fn ensure(
        &self,
        pod_uid: &str,
        container: &Container,
        keyring: &Keyring,
    ) -> (Result<Ensured, ImageFailure>, Vec<ImageEvent>) {
        let mut events = Vec::new();
        let result = self
            .ensure_inner(pod_uid, container, keyring, &mut events)
            .await;
        (result, events)
    }

    async fn ensure_inner(
        &self,
        pod_uid: &str,
        container: &Container,
        keyring: &Keyring,
        events: &mut Vec<ImageEvent>,
    ) -> Result<Ensured, ImageFailure> {
        let spec_image = container.image.clone().unwrap_or_default();
        let invalid = |message: String| ImageFailure {
            reason: INVALID_IMAGE_NAME,
            message,
        };
        let name = ImageName::parse(&spec_image).map_err(|m| {
            events.push(ImageEvent::warning(
                INVALID_IMAGE_NAME,
                format!("Failed to apply default image tag \"{spec_image}\": {m}"),
            ));
            invalid(m)
        })?;
        let policy = PullPolicy::of(container).map_err(invalid)?;
        let full = name.full_name();
        let present = self.present(&full).await?;
        if !should_pull(policy, present) {
            if present {
                events.push(ImageEvent::normal(
                    "Pulled",
                    format!("Container image \"{spec_image}\" already present on machine"),
                ));
                let repo_digest = self.repo_digest(&full).await;
                return Ok(Ensured {
                    name: full,
                    repo_digest,
                });
            }
            let message = format!(
                "Container image \"{spec_image}\" is not present with pull policy of Never"
            );
            events.push(ImageEvent::warning(ERR_IMAGE_NEVER_PULL, message.clone()));
            return Err(ImageFailure {
                reason: ERR_IMAGE_NEVER_PULL,
                message,
            });
        }

        let key = (pod_uid.to_string(), full.clone());
        if let Some(b) = lock(&self.backoff).get_mut(&key) {
            if Instant::now() < b.until {
                if !b.announced {
                    b.announced = true;
                    events.push(ImageEvent::normal("BackOff", backoff_message(&spec_image)));
                }
                return Err(ImageFailure {
                    reason: IMAGE_PULL_BACKOFF,
                    message: format!(
                        "{}: {ERR_IMAGE_PULL}: {}",
                        backoff_message(&spec_image),
                        b.last_error
                    ),
                });
            }
        }

        events.push(ImageEvent::normal(
            "Pulling",
            format!("Pulling image \"{spec_image}\""),
        ));
        let waited_from = Instant::now();
        // Serialise pulls of one image: the second waiter finds it present.
        let gate = {
            let mut map = self.inflight.lock().await;
            map.entry(full.clone()).or_default().clone()
        };
        let _guard = gate.lock().await;
        let started = Instant::now();
        let endpoints = self.registries.endpoints(&name.registry);
        let pulled = pull::pull(&self.runtime, &name, &endpoints, keyring, &self.work_dir).await;
        match pulled {
            Ok(p) => {
                lock(&self.backoff).remove(&key);
                lock(&self.digests).insert(full.clone(), p.repo_digest.clone());
                events.push(ImageEvent::normal(
                    "Pulled",
                    format!(
                        "Successfully pulled image \"{spec_image}\" in {:.3}s ({:.3}s including waiting). Image size: {} bytes.",
                        started.elapsed().as_secs_f64(),
                        waited_from.elapsed().as_secs_f64(),
                        p.size
                    ),
                ));
                tracing::info!(image = %full, endpoint = %p.endpoint, digest = %p.repo_digest, "pulled image");
                Ok(Ensured {
                    name: full,
                    repo_digest: Some(p.repo_digest),
                })
            }
            Err(e) => {
                let msg = e.to_string();
                tracing::warn!(image = %full, error = %msg, "image pull failed");
                {
                    let mut map = lock(&self.backoff);
                    let entry = map.entry(key).or_insert(Backoff {
                        until: Instant::now(),
                        next: BACKOFF_MIN,
                        last_error: String::new(),
                        announced: false,
                    });
                    entry.until = Instant::now() + entry.next;
                    entry.next = (entry.next * 2).min(BACKOFF_MAX);
                    entry.last_error = msg.clone();
                    entry.announced = false;
                }
                events.push(ImageEvent::warning(
                    "Failed",
                    format!("Failed to pull image \"{spec_image}\": {msg}"),
                ));
                events.push(ImageEvent::warning(
                    "Failed",
                    format!("Error: {ERR_IMAGE_PULL}"),
                ));
                Err(ImageFailure {
                    reason: ERR_IMAGE_PULL,
                    message: format!("Failed to pull image \"{spec_image}\": {msg}"),
                })
            }
        }
    }

    /// Forgets a pod's backoff entries (the pod is gone).
    pub fn forget_pod(&self, pod_uid: &str) {
        lock(&self.backoff).retain(|(uid, _), _| uid != pod_uid);
    }
}

/// The credentials of a pod's imagePullSecrets, read from the API. Secrets that are
/// missing or malformed are named in the error list (upstream warns and pulls anyway).
pub async fn pull_secrets_keyring(client: &Client, pod: &Pod) -> (Keyring, Vec<String>) {
    let mut keyring = Keyring::default();
    let mut problems = Vec::new();
    let ns = pod.metadata.namespace.as_deref().unwrap_or("default");
    let refs = pod
        .spec
        .as_ref()
        .and_then(|s| s.image_pull_secrets.clone())
        .unwrap_or_default();
    if refs.is_empty() {
        return (keyring, problems);
    }
    let api: Api<Secret> = Api::namespaced(client.clone(), ns);
    for r in refs {
        let name = r.name;
        match api.get_opt(&name).await {
            Ok(Some(secret)) => {
                if let Err(e) = add_secret(&mut keyring, &secret) {
                    problems.push(format!("{name}: {e}"));
                }
            }
            Ok(None) => problems.push(format!("{name}: not found")),
            Err(e) => problems.push(format!("{name}: {e}")),
        }
    }
    (keyring, problems)
}

/// Adds a `kubernetes.io/dockerconfigjson` or `kubernetes.io/dockercfg` secret.
pub fn add_secret(keyring: &mut Keyring, secret: &Secret) -> Result<(), String> {
    let data = secret.data.clone().unwrap_or_default();
    let key = match secret.type_.as_deref() {
        Some("kubernetes.io/dockerconfigjson") => ".dockerconfigjson",
        Some("kubernetes.io/dockercfg") => ".dockercfg",
        other => return Err(format!("type {other:?} is not a docker config secret")),
    };
    let bytes = data.get(key).ok_or_else(|| format!("no {key} key"))?;
    keyring.add_docker_config(&bytes.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::ByteString;
    use std::collections::BTreeMap;

    #[test]
    fn docker_config_secrets_feed_the_keyring() {
        let mut k = Keyring::default();
        let mut s = Secret {
            type_: Some("kubernetes.io/dockerconfigjson".into()),
            data: Some(BTreeMap::from([(
                ".dockerconfigjson".to_string(),
                ByteString(
                    br#"{"auths":{"r.example:5000":{"username":"u","password":"p"}}}"#.to_vec(),
                ),
            )])),
            ..Default::default()
        };
        add_secret(&mut k, &s).unwrap();
        assert_eq!(k.lookup("r.example:5000", "a").len(), 1);
        s.type_ = Some("Opaque".into());
        assert!(add_secret(&mut k, &s).unwrap_err().contains("Opaque"));
        s.type_ = Some("kubernetes.io/dockercfg".into());
        assert!(add_secret(&mut k, &s).unwrap_err().contains(".dockercfg"));
    }

    #[test]
    fn backoff_message_is_upstreams() {
        assert_eq!(backoff_message("nope"), "Back-off pulling image \"nope\"");
    }
}
