//! Static pods (root required): manifests in a staticPodPath run through the pod manager
//! on a private containerd and CNI network, with mirror pods in a real API server.
//! Edits re-create the pod, deleting the mirror re-creates the mirror (the pod keeps
//! running), removing the file stops the pod and deletes the mirror.
//! Set FERROKUBE_SKIP_CONTAINERD_TESTS=1 to skip on a dev box without root.

mod support;

use std::time::Duration;

use anyhow::{Context, Result};
use ferrokube_e2e::TestCluster;
use k8s_openapi::api::core::v1::Pod;
use kube::api::DeleteParams;
use kube::Api;
use kubelet::images;
use kubelet::network::NetNs;
use kubelet::pod::manager::PodManager;
use kubelet::pod::{PodRunner, PodSandbox};
use kubelet::runtime::TaskState;
use kubelet::static_pods::{ANNOTATION_HASH, ANNOTATION_MIRROR, ANNOTATION_SOURCE};
use support::{eventually, PrivateContainerd, PrivateNetwork};

const IMAGE: &str = "docker.io/library/busybox:latest";
const NODE: &str = "fk-static-node";
const MIRROR: &str = "web-fk-static-node";

struct World {
    network: PrivateNetwork,
    daemon: PrivateContainerd,
}

fn manifest(message: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  terminationGracePeriodSeconds: 1\n  containers:\n\
         \x20 - name: app\n    image: busybox\n    imagePullPolicy: IfNotPresent\n    command: [sh, -c, 'echo {message}; sleep 3600']\n"
    )
}

fn annotation(p: &Pod, key: &str) -> Option<String> {
    p.metadata.annotations.as_ref()?.get(key).cloned()
}

#[test]
fn static_pods_run_and_are_mirrored() -> Result<()> {
    if std::env::var_os("FERROKUBE_SKIP_CONTAINERD_TESTS").is_some() {
        eprintln!("static pods test SKIPPED: FERROKUBE_SKIP_CONTAINERD_TESTS is set");
        return Ok(());
    }
    if let Err(why) = support::preflight() {
        panic!(
            "static pods test cannot run: {why} (set FERROKUBE_SKIP_CONTAINERD_TESTS=1 to skip)"
        );
    }
    let cluster = TestCluster::start()
        .context("starting etcd + kube-apiserver (run `cargo build -p apiserver` first)")?;
    let namespace = format!("ferrokube-static-{}", uuid::Uuid::new_v4().simple());
    let mut world = World {
        network: PrivateNetwork::new(),
        daemon: PrivateContainerd::start(&namespace),
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(scenario(&cluster, &mut world))
}

async fn scenario(cluster: &TestCluster, world: &mut World) -> Result<()> {
    let ctr = world.daemon.connect().await;
    let images_dir = world.daemon.dir.path().join("images");
    std::fs::create_dir_all(&images_dir)?;
    ferrokube_deploy::images::build_busybox_image(&images_dir.join("busybox.tar"), IMAGE)?;
    images::import_dir(&ctr, &images_dir).await?;
    // The Node the mirror pods belong to.
    let out = tokio::task::block_in_place(|| {
        cluster.kubectl_stdin(
            &["create", "-f", "-"],
            &format!("apiVersion: v1\nkind: Node\nmetadata:\n  name: {NODE}\n"),
        )
    })?
    .ok()?;
    assert!(out.contains("created"), "{out}");

    let kc = kube::config::Kubeconfig::read_from(cluster.kubeconfig_path())?;
    let client = kube::Client::try_from(
        kube::Config::from_custom_kubeconfig(kc, &Default::default()).await?,
    )?;
    let manifests = world.daemon.dir.path().join("manifests");
    std::fs::create_dir_all(&manifests)?;
    let file = manifests.join("web.yaml");
    std::fs::write(&file, manifest("one"))?;
    let runner = PodRunner {
        runtime: ctr.clone(),
        cni: world.network.cni.clone(),
        pod_logs_dir: world.daemon.dir.path().join("log/pods"),
        init_timeout: Duration::from_secs(30),
        host_ip: Some("127.0.0.1".into()),
        settings: kubelet::pod::PodSettings::new(
            Some(client.clone()),
            NODE,
            world.daemon.dir.path().join("root"),
        ),
    };
    let manager = PodManager::new(runner, client.clone(), NODE)
        .with_status_interval(Duration::from_millis(500))
        .with_static_pods(&manifests, Duration::from_millis(500));
    let (stop, mut stop_rx) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(manager.run(async move {
        let _ = stop_rx.wait_for(|s| *s).await;
    }));
    let result = checks(&client, &ctr, &file).await;
    let _ = stop.send(true);
    task.await??;
    result
}

async fn checks(
    client: &kube::Client,
    ctr: &kubelet::runtime::Containerd,
    file: &std::path::Path,
) -> Result<()> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    let running_mirror = |not_hash: Option<String>| {
        let pods = pods.clone();
        async move {
            let Some(m) = pods.get_opt(MIRROR).await? else {
                return Ok(None);
            };
            let phase = m.status.as_ref().and_then(|s| s.phase.clone());
            let hash = annotation(&m, ANNOTATION_MIRROR);
            Ok((phase.as_deref() == Some("Running")
                && m.metadata.deletion_timestamp.is_none()
                && hash.is_some()
                && hash != not_hash)
                .then_some(m))
        }
    };
    // --- the mirror appears, Running, annotated, owned by the Node -------------------
    let m1 = eventually(Duration::from_secs(60), "mirror Running", || {
        running_mirror(None)
    })
    .await?;
    assert_eq!(annotation(&m1, ANNOTATION_SOURCE).as_deref(), Some("file"));
    let hash1 = annotation(&m1, ANNOTATION_HASH).context("hash")?;
    assert_eq!(annotation(&m1, ANNOTATION_MIRROR), Some(hash1.clone()));
    let owner = &m1.metadata.owner_references.clone().unwrap_or_default()[0];
    assert_eq!((owner.kind.as_str(), owner.name.as_str()), ("Node", NODE));
    let uid1 = format!(
        "{}-{}-{}-{}-{}",
        &hash1[..8],
        &hash1[8..12],
        &hash1[12..16],
        &hash1[16..20],
        &hash1[20..32]
    );
    let app1 = format!("{uid1}-app");
    assert_eq!(ctr.task_status(&app1).await?.state, TaskState::Running);

    // --- deleting the mirror re-creates it; the pod keeps running ---------------------
    let mirror_uid = m1.metadata.uid.clone().context("mirror uid")?;
    pods.delete(MIRROR, &DeleteParams::default()).await?;
    let m2 = eventually(Duration::from_secs(30), "mirror re-created", || {
        let pods = pods.clone();
        let old = mirror_uid.clone();
        async move {
            Ok(pods.get_opt(MIRROR).await?.filter(|m| {
                m.metadata.uid.as_deref() != Some(old.as_str())
                    && m.metadata.deletion_timestamp.is_none()
            }))
        }
    })
    .await?;
    assert_eq!(annotation(&m2, ANNOTATION_MIRROR), Some(hash1.clone()));
    assert_eq!(
        ctr.task_status(&app1).await?.state,
        TaskState::Running,
        "the static pod restarted"
    );

    // --- editing the file re-creates the pod ------------------------------------------
    std::fs::write(file, manifest("two"))?;
    let m3 = eventually(Duration::from_secs(60), "mirror of the edited pod", || {
        running_mirror(Some(hash1.clone()))
    })
    .await?;
    let hash2 = annotation(&m3, ANNOTATION_MIRROR).context("hash")?;
    assert_ne!(hash2, hash1);
    eventually(Duration::from_secs(30), "old pod gone", || async {
        Ok((ctr.task_status(&app1).await.is_err()
            && !NetNs::named(&PodSandbox::netns_name(&uid1))?.exists())
        .then_some(()))
    })
    .await?;

    // --- removing the file stops the pod and deletes the mirror ------------------------
    std::fs::remove_file(file)?;
    eventually(Duration::from_secs(30), "mirror deleted", || async {
        Ok(pods.get_opt(MIRROR).await?.is_none().then_some(()))
    })
    .await?;
    eventually(Duration::from_secs(30), "static pod stopped", || async {
        let left: Vec<String> = ctr.list().await?.into_iter().map(|c| c.id).collect();
        Ok(left.is_empty().then_some(()))
    })
    .await?;
    Ok(())
}
