//! A pod's images, as its worker needs them before starting it: every container's image
//! ensured (init containers first) with the pod's imagePullSecrets, the image events
//! published on the pod (with the container's fieldPath, as upstream), and the repo
//! digests collected for the containers' imageID.

use std::collections::HashMap;

use k8s_openapi::api::core::v1::{Pod, PodStatus};
use kube::Client;

use crate::pod::events::{EventRecorder, NORMAL, WARNING};

use super::service::{pull_secrets_keyring, ImageService};

/// Ensures the images of `pod`. Returns (containers whose image is not usable: name ->
/// (reason, message), containers' repo digests: name -> digest).
pub async fn ensure(
    images: &ImageService,
    client: &Client,
    recorder: &EventRecorder,
    pod: &Pod,
) -> (HashMap<String, (String, String)>, HashMap<String, String>) {
    let mut failures = HashMap::new();
    let mut digests = HashMap::new();
    let Some(spec) = pod.spec.as_ref() else {
        return (failures, digests);
    };
    let uid = pod.metadata.uid.clone().unwrap_or_default();
    let (keyring, problems) = pull_secrets_keyring(client, pod).await;
    if !problems.is_empty() {
        // Upstream's warning; the pull is still attempted.
        let note = format!(
            "Unable to retrieve some image pull secrets ({}); attempting to pull the image may not succeed.",
            problems.join(", ")
        );
        publish(
            recorder,
            pod,
            None,
            true,
            "FailedToRetrieveImagePullSecret",
            note,
        );
    }
    // Init containers first; the recorder finds each one's fieldPath.
    let containers = spec
        .init_containers
        .iter()
        .flatten()
        .chain(spec.containers.iter());
    for c in containers {
        if c.image.as_deref().is_none_or(str::is_empty) {
            continue; // the worker reports the missing image field as invalid.
        }
        let (result, events) = images.ensure(&uid, c, &keyring).await;
        for ev in events {
            publish(
                recorder,
                pod,
                Some(&c.name),
                ev.warning,
                ev.reason,
                ev.message,
            );
        }
        match result {
            Ok(ensured) => {
                if let Some(d) = ensured.repo_digest {
                    digests.insert(c.name.clone(), d);
                }
            }
            Err(f) => {
                failures.insert(c.name.clone(), (f.reason.to_string(), f.message));
            }
        }
    }
    (failures, digests)
}

/// Publishes a core/v1 event about `pod` (and one of its containers); queued, so events
/// never block a pod.
pub fn publish(
    recorder: &EventRecorder,
    pod: &Pod,
    container: Option<&str>,
    warning: bool,
    reason: &str,
    note: String,
) {
    let type_ = if warning { WARNING } else { NORMAL };
    recorder.record(pod, container, type_, reason, &note);
}

/// Sets each container status's imageID to its image's repo digest, when known.
pub fn fill_image_ids(status: &mut PodStatus, ids: &HashMap<String, String>) {
    for cs in status
        .init_container_statuses
        .iter_mut()
        .flatten()
        .chain(status.container_statuses.iter_mut().flatten())
    {
        if let Some(d) = ids.get(&cs.name) {
            cs.image_id.clone_from(d);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::ContainerStatus;

    #[test]
    fn image_ids_are_the_repo_digests() {
        let cs = |n: &str| ContainerStatus {
            name: n.into(),
            image_id: "docker.io/library/busybox:latest".into(),
            ..Default::default()
        };
        let mut status = PodStatus {
            init_container_statuses: Some(vec![cs("init")]),
            container_statuses: Some(vec![cs("app"), cs("side")]),
            ..Default::default()
        };
        let ids = HashMap::from([
            (
                "init".to_string(),
                "docker.io/library/busybox@sha256:1".to_string(),
            ),
            (
                "app".to_string(),
                "docker.io/library/busybox@sha256:2".to_string(),
            ),
        ]);
        fill_image_ids(&mut status, &ids);
        let got: Vec<String> = status
            .init_container_statuses
            .iter()
            .flatten()
            .chain(status.container_statuses.iter().flatten())
            .map(|c| c.image_id.clone())
            .collect();
        assert_eq!(
            got,
            [
                "docker.io/library/busybox@sha256:1",
                "docker.io/library/busybox@sha256:2",
                "docker.io/library/busybox:latest"
            ]
        );
    }
}
