//! Registry pulls against a real Debian `docker-registry` on loopback and a private
//! containerd (root required): docker.io mirrored to the registry through a
//! registries.yaml (the one `cargo xtask up` writes), manifest lists resolved to this
//! platform, content unpacked into overlayfs, repo digests, pull policies, backoff and
//! events. Set FERROKUBE_SKIP_CONTAINERD_TESTS=1 to skip on a dev box without root.

mod support;

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result};
use ferrokube_deploy::images::{
    build_busybox_image, push_to_registry, start_registry, DEFAULT_REGISTRY_BIN,
};
use ferrokube_deploy::process::Daemon;
use k8s_openapi::api::core::v1::Container;
use kubelet::images::service::{
    ImageService, ERR_IMAGE_NEVER_PULL, ERR_IMAGE_PULL, IMAGE_PULL_BACKOFF,
};
use kubelet::registries::{Keyring, Registries};
use kubelet::runtime::oci_layout::MEDIA_TYPE_OCI_INDEX;
use support::PrivateContainerd;

/// Stops the registry even when an assertion fails.
struct Registry(Daemon);

impl Drop for Registry {
    fn drop(&mut self) {
        if let Err(e) = self.0.stop(Duration::from_secs(5)) {
            eprintln!("stopping docker-registry: {e}");
        }
    }
}

fn container(image: &str, policy: Option<&str>) -> Container {
    Container {
        name: "app".into(),
        image: Some(image.into()),
        image_pull_policy: policy.map(str::to_string),
        ..Default::default()
    }
}

fn skip_or_preflight(test: &str) -> bool {
    if std::env::var_os("FERROKUBE_SKIP_CONTAINERD_TESTS").is_some() {
        eprintln!("{test} SKIPPED: FERROKUBE_SKIP_CONTAINERD_TESTS is set");
        return true;
    }
    if let Err(why) = support::preflight_runtime() {
        panic!("{test} cannot run: {why} (set FERROKUBE_SKIP_CONTAINERD_TESTS=1 to skip)");
    }
    if !Path::new(DEFAULT_REGISTRY_BIN).exists() {
        panic!("{test}: {DEFAULT_REGISTRY_BIN} is missing: apt-get install -y docker-registry");
    }
    false
}

/// Pushes, as `repository:tag`, an OCI index whose first entry is a foreign platform's
/// manifest (the same layers with a config whose Cmd is `["false"]`) and whose second is
/// this platform's `manifest` (digest, bytes). Returns the index digest.
async fn push_index(
    addr: &str,
    repository: &str,
    tag: &str,
    manifest: &(String, Vec<u8>),
) -> Result<String> {
    use oci_client::client::{ClientConfig, ClientProtocol};
    use oci_client::secrets::RegistryAuth;
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = oci_client::Client::new(ClientConfig {
        protocol: ClientProtocol::Http,
        ..Default::default()
    });
    let at = |r: &str| oci_client::Reference::with_tag(addr.into(), repository.into(), r.into());
    let oci_manifest = "application/vnd.oci.image.manifest.v1+json";
    // The foreign variant: another config, same layers.
    let mut doc: serde_json::Value = serde_json::from_slice(&manifest.1)?;
    let config_digest = doc["config"]["digest"]
        .as_str()
        .context("config digest")?
        .to_string();
    let mut config = Vec::new();
    client
        .store_auth_if_needed(addr, &RegistryAuth::Anonymous)
        .await;
    client
        .pull_blob(&at(tag), config_digest.as_str(), &mut config)
        .await
        .map_err(|e| anyhow::anyhow!("pulling the config: {e:?}"))?;
    let mut config: serde_json::Value = serde_json::from_slice(&config)?;
    config["config"]["Cmd"] = serde_json::json!(["false"]);
    let config = serde_json::to_vec(&config)?;
    let foreign_config = kubelet::runtime::oci_layout::sha256_digest(&config);
    client
        .push_blob(&at(tag), config.clone(), &foreign_config)
        .await
        .map_err(|e| anyhow::anyhow!("pushing the foreign config: {e:?}"))?;
    doc["config"]["digest"] = foreign_config.into();
    doc["config"]["size"] = config.len().into();
    let foreign = serde_json::to_vec(&doc)?;
    let foreign_digest = kubelet::runtime::oci_layout::sha256_digest(&foreign);
    client
        .push_manifest_raw(
            &at("foreign"),
            foreign.clone(),
            http::HeaderValue::from_static(oci_manifest),
        )
        .await
        .map_err(|e| anyhow::anyhow!("pushing the foreign manifest: {e:?}"))?;

    let host = kubelet::runtime::oci_layout::host_arch();
    let other = if host == "amd64" { "s390x" } else { "amd64" };
    let entry = |arch: &str, digest: &str, size: usize| {
        serde_json::json!({
            "mediaType": oci_manifest,
            "digest": digest,
            "size": size,
            "platform": {"architecture": arch, "os": "linux"},
        })
    };
    let index = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": MEDIA_TYPE_OCI_INDEX,
        "manifests": [
            entry(other, &foreign_digest, foreign.len()),
            entry(host, &manifest.0, manifest.1.len()),
        ],
    });
    let body = serde_json::to_vec(&index)?;
    client
        .push_manifest_raw(
            &at(tag),
            body.clone(),
            http::HeaderValue::from_static(MEDIA_TYPE_OCI_INDEX),
        )
        .await
        .map_err(|e| anyhow::anyhow!("pushing the index: {e:?}"))?;
    Ok(kubelet::runtime::oci_layout::sha256_digest(&body))
}

#[test]
fn pulls_through_a_mirror_with_policies_backoff_and_events() -> Result<()> {
    if skip_or_preflight("images test") {
        return Ok(());
    }
    let namespace = format!("ferrokube-img-{}", uuid::Uuid::new_v4().simple());
    let mut daemon = PrivateContainerd::start(&namespace);
    let dir = tempfile::tempdir()?;
    let port = ferrokube_deploy::local_cluster::free_port()?;
    let addr = format!("127.0.0.1:{port}");
    let _registry = Registry(
        start_registry(Path::new(DEFAULT_REGISTRY_BIN), dir.path(), &addr, false)
            .context("starting docker-registry")?,
    );
    let tar = dir.path().join("busybox.tar");
    let info = build_busybox_image(&tar, "docker.io/library/busybox:latest")?;
    let manifest_digest = push_to_registry(&tar, &addr, "library/busybox", "latest")?;
    // The same image in library/multi, where an index will point at it.
    push_to_registry(&tar, &addr, "library/multi", "single")?;

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async {
        let ctr = daemon.connect().await;
        // The registries.yaml `cargo xtask up` writes, pointing at this registry.
        let yaml = ferrokube_deploy::node::registries_yaml(&addr);
        let registries = Registries::parse(&yaml, "up's registries.yaml")?;
        let images = ImageService::new(ctr.clone(), registries, dir.path().join("pulls"));
        let keyring = Keyring::default();

        // --- busybox (:latest, policy Always by default) comes from the mirror ----------
        let (got, events) = images.ensure("pod-1", &container("busybox", None), &keyring).await;
        let got = got.map_err(|f| anyhow::anyhow!("{}: {}", f.reason, f.message))?;
        assert_eq!(got.name, "docker.io/library/busybox:latest");
        let want_digest = format!("docker.io/library/busybox@{manifest_digest}");
        assert_eq!(got.repo_digest.as_deref(), Some(want_digest.as_str()));
        let reasons: Vec<&str> = events.iter().map(|e| e.reason).collect();
        assert_eq!(reasons, ["Pulling", "Pulled"], "{events:?}");
        assert!(
            events[1].message.starts_with("Successfully pulled image \"busybox\" in "),
            "{events:?}"
        );
        assert!(events[1].message.contains(" bytes."), "{events:?}");
        assert!(info.size > 0);
        let names = ctr.list_images().await?;
        assert!(names.contains(&"docker.io/library/busybox:latest".to_string()), "{names:?}");
        assert!(names.contains(&want_digest), "{names:?}");
        // Unpacked: the config resolves and its top layer is a committed snapshot.
        let (config, chain_id) = ctr.image_config("docker.io/library/busybox:latest").await?;
        assert_eq!(config["config"]["Cmd"], serde_json::json!(["sh"]), "{config}");
        assert!(ctr.list_snapshots().await?.contains(&chain_id));
        // Nothing left in the work dir.
        let left: Vec<_> = std::fs::read_dir(dir.path().join("pulls"))?.collect();
        assert!(left.is_empty(), "temporary tarballs left: {left:?}");

        // --- IfNotPresent with the image present: no pull ---------------------------
        let (got, events) = images
            .ensure("pod-1", &container("busybox:latest", Some("IfNotPresent")), &keyring)
            .await;
        assert!(got.is_ok(), "{got:?}");
        assert_eq!(events.len(), 1, "{events:?}");
        assert_eq!(
            events[0].message,
            "Container image \"busybox:latest\" already present on machine"
        );
        // A fresh service (a restarted kubelet) still finds the repo digest.
        let fresh = ImageService::new(ctr.clone(), Registries::default(), dir.path().join("pulls"));
        assert_eq!(
            fresh.repo_digest("docker.io/library/busybox:latest").await.as_deref(),
            Some(want_digest.as_str())
        );

        // --- a manifest list: this platform's entry is picked -------------------------
        let manifest_bytes =
            ferrokube_deploy::images::get_manifest(&addr, "library/multi", "single")?.1;
        let index_digest = push_index(
            &addr,
            "library/multi",
            "v1",
            &(manifest_digest.clone(), manifest_bytes),
        )
        .await?;
        let (got, _) = images
            .ensure("pod-1", &container("multi:v1", None), &keyring)
            .await;
        let got = got.map_err(|f| anyhow::anyhow!("{}: {}", f.reason, f.message))?;
        assert_eq!(
            got.repo_digest.as_deref(),
            Some(format!("docker.io/library/multi@{index_digest}").as_str())
        );
        // This platform's entry was unpacked, not the foreign one (Cmd ["false"]).
        let (config, _) = ctr.image_config("docker.io/library/multi:v1").await?;
        assert_eq!(config["config"]["Cmd"], serde_json::json!(["sh"]), "{config}");

        // --- a missing image: ErrImagePull with the registry's answer, then backoff ----
        let (got, events) = images
            .ensure("pod-2", &container("nope:1.0", None), &keyring)
            .await;
        let failure = got.expect_err("nope must not pull");
        assert_eq!(failure.reason, ERR_IMAGE_PULL);
        assert!(
            failure.message.starts_with("Failed to pull image \"nope:1.0\": failed to pull and unpack image \"docker.io/library/nope:1.0\""),
            "{}",
            failure.message
        );
        assert!(failure.message.contains("not found"), "{}", failure.message);
        let reasons: Vec<&str> = events.iter().map(|e| e.reason).collect();
        assert_eq!(reasons, ["Pulling", "Failed", "Failed"], "{events:?}");
        assert_eq!(events[2].message, "Error: ErrImagePull");
        let (got, events) = images
            .ensure("pod-2", &container("nope:1.0", None), &keyring)
            .await;
        let failure = got.expect_err("still backing off");
        assert_eq!(failure.reason, IMAGE_PULL_BACKOFF);
        assert!(
            failure.message.starts_with("Back-off pulling image \"nope:1.0\""),
            "{}",
            failure.message
        );
        assert_eq!(events.len(), 1, "{events:?}");
        assert_eq!(events[0].reason, "BackOff");
        // The BackOff event is published once per backoff window.
        let (_, events) = images
            .ensure("pod-2", &container("nope:1.0", None), &keyring)
            .await;
        assert!(events.is_empty(), "{events:?}");
        // Another pod is not held back by pod-2's backoff.
        let (got, _) = images
            .ensure("pod-3", &container("nope:1.0", None), &keyring)
            .await;
        assert_eq!(got.expect_err("absent").reason, ERR_IMAGE_PULL);

        // --- Never: absent image is ErrImageNeverPull, no pull ------------------------
        let (got, events) = images
            .ensure("pod-4", &container("other:2", Some("Never")), &keyring)
            .await;
        let failure = got.expect_err("never pulls");
        assert_eq!(failure.reason, ERR_IMAGE_NEVER_PULL);
        assert_eq!(
            failure.message,
            "Container image \"other:2\" is not present with pull policy of Never"
        );
        assert_eq!(events.len(), 1);

        // --- a registry without the mirror: the real docker.io is unreachable -------
        let offline = ImageService::new(ctr.clone(), Registries::default(), dir.path().join("pulls"));
        let (got, _) = offline
            .ensure("pod-5", &container("busybox:9.9", None), &keyring)
            .await;
        let failure = got.expect_err("no network");
        assert_eq!(failure.reason, ERR_IMAGE_PULL);
        assert!(failure.message.contains("registry-1.docker.io"), "{}", failure.message);

        for name in ctr.list_images().await? {
            ctr.remove_image(&name).await?;
        }
        anyhow::Ok(())
    })
}
