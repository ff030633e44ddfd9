//! The pod manager end to end (root required): a private containerd, a private CNI
//! bridge network, etcd + kube-apiserver (`ferrokube_e2e::TestCluster`; `cargo build -p
//! apiserver` first, `cargo xtask test` does), the busybox image imported from an images
//! directory, and the manager + node loops running in-process. Pods are created and
//! deleted with the real kubectl.
//!
//! Everything (containers, netns, CNI leases, bridge, nat rules, containerd, etcd, the
//! apiserver, temp dirs) is torn down by Drop guards even when an assertion fails. Set
//! FERROKUBE_SKIP_CONTAINERD_TESTS=1 to skip explicitly on a dev box without root.

mod support;

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use ferrokube_e2e::TestCluster;
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kubelet::config::KubeletConfiguration;
use kubelet::images;
use kubelet::network::NetNs;
use kubelet::node::{self, MachineInfo, NodeOptions};
use kubelet::pod::manager::PodManager;
use kubelet::pod::{PodRunner, PodSandbox};
use support::{eventually, PrivateContainerd, PrivateNetwork, World};

const IMAGE: &str = "docker.io/library/busybox:latest";
const NODE: &str = "fk-pm-node";

/// The image is imported, not in a registry: `web` says IfNotPresent (busybox:latest
/// would default to Always), `noimage` says Never so it waits with ErrImageNeverPull.
fn pod_yaml(name: &str, image: &str) -> String {
    let policy = if name == "noimage" {
        "Never"
    } else {
        "IfNotPresent"
    };
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  namespace: default\n\
         spec:\n  nodeName: {NODE}\n  terminationGracePeriodSeconds: 2\n  containers:\n\
         \x20 - name: app\n    image: {image}\n    imagePullPolicy: {policy}\n    \
         command: [sh, -c, 'echo hello; sleep 3600']\n"
    )
}

/// kubectl (blocking, at most 60 s) from inside the runtime.
fn kubectl(cluster: &TestCluster, args: &[&str]) -> Result<String> {
    tokio::task::block_in_place(|| cluster.kubectl(args))?.ok()
}

/// `kubectl get pod <name> -o wide` columns: NAME READY STATUS RESTARTS AGE IP NODE ...
fn pod_columns(cluster: &TestCluster, name: &str) -> Result<Vec<String>> {
    let out = kubectl(cluster, &["get", "pod", name, "-o", "wide"])?;
    let line = out
        .lines()
        .find(|l| l.starts_with(name))
        .with_context(|| format!("{name} missing from kubectl get:\n{out}"))?;
    Ok(line.split_whitespace().map(str::to_string).collect())
}

#[test]
fn pod_manager_runs_reports_and_removes_pods() -> Result<()> {
    if std::env::var_os("FERROKUBE_SKIP_CONTAINERD_TESTS").is_some() {
        eprintln!("pod_manager test SKIPPED: FERROKUBE_SKIP_CONTAINERD_TESTS is set");
        return Ok(());
    }
    if let Err(why) = support::preflight() {
        panic!(
            "pod manager test cannot run: {why} (set FERROKUBE_SKIP_CONTAINERD_TESTS=1 to skip)"
        );
    }
    // Declaration order = reverse drop order: the runtime (manager, node loops) goes
    // first, then pods' sandboxes / network / containerd, then the cluster.
    let cluster = TestCluster::start()
        .context("starting etcd + kube-apiserver (run `cargo build -p apiserver` first)")?;
    let namespace = format!("ferrokube-pm-{}", uuid::Uuid::new_v4().simple());
    let mut world = World {
        pods: Vec::new(),
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

    // --- images: every *.tar in the images dir is imported, once ---------------------
    let images_dir = world.daemon.dir.path().join("images");
    std::fs::create_dir_all(&images_dir)?;
    ferrokube_deploy::images::build_busybox_image(&images_dir.join("busybox.tar"), IMAGE)
        .context("building the busybox image")?;
    std::fs::write(images_dir.join("junk.tar"), b"not a tarball")?;
    let report = images::import_dir(&ctr, &images_dir).await?;
    assert_eq!(report.imported.len(), 1, "{report:?}");
    assert_eq!(report.imported[0].1, [IMAGE.to_string()], "{report:?}");
    assert_eq!(
        report.failed.len(),
        1,
        "junk.tar must fail alone: {report:?}"
    );
    let again = images::import_dir(&ctr, &images_dir).await?;
    assert_eq!(again.skipped, [images_dir.join("busybox.tar")], "{again:?}");
    assert!(again.imported.is_empty(), "{again:?}");

    // --- the node loops and the pod manager, in-process ------------------------------
    let kc = kube::config::Kubeconfig::read_from(cluster.kubeconfig_path())?;
    let client = kube::Client::try_from(
        kube::Config::from_custom_kubeconfig(kc, &Default::default()).await?,
    )?;
    let config = KubeletConfiguration::from_yaml(
        "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n",
    )?;
    let machine = MachineInfo::read(world.daemon.dir.path())?;
    let opts = NodeOptions {
        node_name: NODE.into(),
        hostname: NODE.into(),
        node_ip: "127.0.0.1".parse()?,
        runtime_version: format!("containerd://{}", ctr.version().await?),
        config,
    };
    let runner = PodRunner {
        runtime: ctr.clone(),
        cni: world.network.cni.clone(),
        pod_logs_dir: world.daemon.dir.path().join("log/pods"),
        init_timeout: Duration::from_secs(60),
        host_ip: Some("127.0.0.1".into()),
        // kubelet-pod: pod directories (volumes, resolv.conf, hosts) in the test's dir.
        settings: kubelet::pod::PodSettings::new(
            Some(client.clone()),
            NODE,
            world.daemon.dir.path().join("root"),
        ),
    };
    let manager = PodManager::new(runner, client.clone(), NODE)
        .with_status_interval(Duration::from_millis(500));
    let handle = manager.clone();
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };
    let node_loops = tokio::spawn(node::run(
        client.clone(),
        opts,
        machine,
        stopped(stop_rx.clone()),
    ));
    let pods_task = tokio::spawn(manager.run(stopped(stop_rx)));

    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    let create = |name: &str, image: &str| -> Result<()> {
        let out = tokio::task::block_in_place(|| {
            cluster.kubectl_stdin(&["create", "-f", "-"], &pod_yaml(name, image))
        })?
        .ok()?;
        assert!(out.contains(&format!("pod/{name} created")), "{out}");
        Ok(())
    };
    create("web", "busybox")?;
    create("noimage", "ferrokube.test/absent:1.0")?;
    let mut uids = std::collections::HashMap::new();
    for name in ["web", "noimage"] {
        let uid = pods
            .get(name)
            .await?
            .metadata
            .uid
            .context("pod has no uid")?;
        world
            .pods
            .push(("default".into(), name.into(), uid.clone()));
        uids.insert(name, uid);
    }
    let web_uid = uids["web"].clone();

    // --- web runs: kubectl shows Running, 1/1, an IP from our subnet ------------------
    let cols = eventually(Duration::from_secs(60), "web Running 1/1", || async {
        let cols = pod_columns(cluster, "web")?;
        Ok((cols.get(1).map(String::as_str) == Some("1/1")
            && cols.get(2).map(String::as_str) == Some("Running")
            && cols.get(5).is_some_and(|ip| ip != "<none>"))
        .then_some(cols))
    })
    .await
    .with_context(|| format!("containerd log:\n{}", world.daemon.log()))?;
    let prefix = world.network.subnet.trim_end_matches("0/24").to_string();
    assert!(
        cols[5].starts_with(&prefix),
        "{cols:?} not in {}",
        world.network.subnet
    );
    assert_eq!(cols.get(6).map(String::as_str), Some(NODE), "{cols:?}");
    assert_eq!(handle.running_uids(), std::slice::from_ref(&web_uid));
    let log = world
        .daemon
        .dir
        .path()
        .join(format!("log/pods/default_web_{web_uid}/app/0.log"));
    eventually(Duration::from_secs(10), "hello in the log", || async {
        Ok(std::fs::read_to_string(&log)
            .unwrap_or_default()
            .contains("hello")
            .then_some(()))
    })
    .await?;

    // --- noimage: waits with ErrImageNeverPull and a message naming the image ----------
    let waiting = eventually(
        Duration::from_secs(30),
        "noimage waiting reason",
        || async {
            let p = pods.get("noimage").await?;
            Ok(p.status
                .and_then(|s| s.container_statuses)
                .and_then(|cs| cs.into_iter().next())
                .and_then(|c| c.state)
                .and_then(|s| s.waiting)
                .filter(|w| w.reason.as_deref() == Some("ErrImageNeverPull")))
        },
    )
    .await?;
    let message = waiting.message.unwrap_or_default();
    assert!(message.contains("ferrokube.test/absent:1.0"), "{message}");
    let cols = pod_columns(cluster, "noimage")?;
    assert_eq!(cols.get(1).map(String::as_str), Some("0/1"), "{cols:?}");
    assert_eq!(
        cols.get(2).map(String::as_str),
        Some("ErrImageNeverPull"),
        "{cols:?}"
    );
    let phase = pods.get("noimage").await?.status.and_then(|s| s.phase);
    assert_eq!(phase.as_deref(), Some("Pending"));

    // --- graceful delete: kubectl --wait returns once the kubelet stopped it ----------
    // sh as PID 1 ignores SIGTERM, so the 2 s grace period runs out, then SIGKILL.
    let began = Instant::now();
    let out = kubectl(
        cluster,
        &["delete", "pod", "web", "--wait", "--timeout=50s"],
    )?;
    assert!(out.contains("pod \"web\" deleted"), "{out}");
    let took = began.elapsed();
    assert!(
        took >= Duration::from_millis(1500),
        "grace period skipped: {took:?}"
    );
    let left: Vec<String> = ctr.list().await?.into_iter().map(|c| c.id).collect();
    assert!(
        !left.iter().any(|id| id.starts_with(&web_uid)),
        "web containers left: {left:?}"
    );
    assert!(
        !NetNs::named(&PodSandbox::netns_name(&web_uid))?.exists(),
        "web netns left"
    );
    assert!(
        handle.running_uids().is_empty(),
        "{:?}",
        handle.running_uids()
    );
    assert!(pods.get_opt("web").await?.is_none());

    // A pod that never started is deleted promptly too.
    let out = kubectl(
        cluster,
        &["delete", "pod", "noimage", "--wait", "--timeout=50s"],
    )?;
    assert!(out.contains("deleted"), "{out}");

    // --- force delete (grace 0): the pod vanishes from the API; the kubelet stops it ---
    create("forced", "busybox")?;
    let forced_uid = pods.get("forced").await?.metadata.uid.context("no uid")?;
    world
        .pods
        .push(("default".into(), "forced".into(), forced_uid.clone()));
    eventually(Duration::from_secs(60), "forced Running", || async {
        let cols = pod_columns(cluster, "forced")?;
        Ok((cols.get(2).map(String::as_str) == Some("Running")).then_some(()))
    })
    .await?;
    kubectl(
        cluster,
        &["delete", "pod", "forced", "--grace-period=0", "--force"],
    )?;
    eventually(Duration::from_secs(30), "forced pod stopped", || async {
        let left = ctr.list().await?;
        let netns_gone = !NetNs::named(&PodSandbox::netns_name(&forced_uid))?.exists();
        Ok((left.is_empty() && netns_gone && handle.running_uids().is_empty()).then_some(()))
    })
    .await?;
    assert!(world.network.leases().is_empty(), "IP leases left");

    let _ = stop_tx.send(true);
    tokio::time::timeout(Duration::from_secs(10), pods_task)
        .await
        .context("pod manager did not stop")???;
    tokio::time::timeout(Duration::from_secs(10), node_loops)
        .await
        .context("node loops did not stop")???;
    Ok(())
}
