//! Nothing leaks (root required): pods that run, pods whose image cannot be pulled,
//! pods whose command does not exist and pods that exit are created and deleted through
//! the real API with the pod manager running in-process on a private containerd and CNI
//! network; afterwards no netns, mount under the pod directories, cgroup, containerd
//! container, task, snapshot or lease and no CNI IP lease is left for any of them.
//!
//! Then a kubelet restart: the manager is stopped with two pods running; one is
//! force-deleted from the API while no kubelet runs. The new manager's start-up
//! housekeeping removes that one's containers, IP lease and netns, and adopts the other
//! without restarting its container (same task pid, still Running).
//!
//! Set FERROKUBE_SKIP_CONTAINERD_TESTS=1 to skip on a dev box without root.

mod support;

use std::collections::HashSet;
use std::path::Path;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use ferrokube_e2e::TestCluster;
use k8s_openapi::api::core::v1::Pod;
use kube::api::DeleteParams;
use kube::Api;
use kubelet::images;
use kubelet::network::NetNs;
use kubelet::pod::manager::PodManager;
use kubelet::pod::{PodRunner, PodSandbox};
use support::{eventually, PrivateContainerd, PrivateNetwork};

const IMAGE: &str = "docker.io/library/busybox:latest";
const NODE: &str = "fk-leak-node";

/// Field order is drop order.
struct World {
    network: PrivateNetwork,
    daemon: PrivateContainerd,
}

fn pod_yaml(name: &str, image: &str, command: &str, restart: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  namespace: default\n\
         spec:\n  nodeName: {NODE}\n  terminationGracePeriodSeconds: 1\n  restartPolicy: {restart}\n  containers:\n\
         \x20 - name: app\n    image: {image}\n    imagePullPolicy: IfNotPresent\n    command: {command}\n"
    )
}

/// Directories under `root` (depth <= 5) whose name contains `needle`.
fn dirs_named(root: &Path, needle: &str, depth: u32) -> Vec<String> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(root) else {
        return out;
    };
    for e in rd.flatten() {
        let Ok(ft) = e.file_type() else { continue };
        if !ft.is_dir() {
            continue;
        }
        let p = e.path();
        if e.file_name().to_string_lossy().contains(needle) {
            out.push(p.display().to_string());
        } else if depth > 0 {
            out.extend(dirs_named(&p, needle, depth - 1));
        }
    }
    out
}

/// Everything left on the node for pod `uid`; empty when clean.
async fn leftovers_of(
    world: &World,
    ctr: &kubelet::runtime::Containerd,
    uid: &str,
    kubelet_root: &Path,
) -> Result<Vec<String>> {
    let mut left = Vec::new();
    if NetNs::named(&PodSandbox::netns_name(uid))?.exists() {
        left.push(format!("netns {}", PodSandbox::netns_name(uid)));
    }
    for m in support::mounts_under(kubelet_root) {
        if m.contains(uid) {
            left.push(format!("mount {m}"));
        }
    }
    for m in support::mounts_under(world.daemon.dir.path()) {
        if m.contains(uid) {
            left.push(format!("mount {m}"));
        }
    }
    left.extend(
        dirs_named(Path::new("/sys/fs/cgroup"), uid, 5)
            .into_iter()
            .map(|d| format!("cgroup {d}")),
    );
    for c in ctr.list().await? {
        if c.id.starts_with(uid) {
            left.push(format!("container {}", c.id));
            if ctr.task_status(&c.id).await.is_ok() {
                left.push(format!("task {}", c.id));
            }
        }
    }
    for s in ctr.list_snapshots().await? {
        if s.contains(uid) {
            left.push(format!("snapshot {s}"));
        }
    }
    Ok(left)
}

/// containerd leases (`ctr leases ls`), besides the header.
fn containerd_leases(world: &World, namespace: &str) -> Vec<String> {
    let socket = world.daemon.socket();
    let (_, out) = support::run(
        "ctr",
        &[
            "-a",
            &socket.display().to_string(),
            "-n",
            namespace,
            "leases",
            "ls",
        ],
    );
    out.lines()
        .skip(1)
        .map(str::to_string)
        .filter(|l| !l.trim().is_empty())
        .collect()
}

#[test]
fn deleted_pods_leave_nothing_and_restarts_clean_up() -> Result<()> {
    if std::env::var_os("FERROKUBE_SKIP_CONTAINERD_TESTS").is_some() {
        eprintln!("leaks test SKIPPED: FERROKUBE_SKIP_CONTAINERD_TESTS is set");
        return Ok(());
    }
    if let Err(why) = support::preflight() {
        panic!("leaks test cannot run: {why} (set FERROKUBE_SKIP_CONTAINERD_TESTS=1 to skip)");
    }
    let cluster = TestCluster::start()
        .context("starting etcd + kube-apiserver (run `cargo build -p apiserver` first)")?;
    let namespace = format!("ferrokube-leak-{}", uuid::Uuid::new_v4().simple());
    let mut world = World {
        network: PrivateNetwork::new(),
        daemon: PrivateContainerd::start(&namespace),
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(scenario(&cluster, &mut world, &namespace))
}

async fn scenario(cluster: &TestCluster, world: &mut World, namespace: &str) -> Result<()> {
    let ctr = world.daemon.connect().await;
    let images_dir = world.daemon.dir.path().join("images");
    std::fs::create_dir_all(&images_dir)?;
    ferrokube_deploy::images::build_busybox_image(&images_dir.join("busybox.tar"), IMAGE)?;
    images::import_dir(&ctr, &images_dir).await?;

    let kc = kube::config::Kubeconfig::read_from(cluster.kubeconfig_path())?;
    let client = kube::Client::try_from(
        kube::Config::from_custom_kubeconfig(kc, &Default::default()).await?,
    )?;
    let kubelet_root = world.daemon.dir.path().join("root");
    let new_manager = || {
        let runner = PodRunner {
            runtime: ctr.clone(),
            cni: world.network.cni.clone(),
            pod_logs_dir: world.daemon.dir.path().join("log/pods"),
            init_timeout: Duration::from_secs(30),
            host_ip: Some("127.0.0.1".into()),
            settings: kubelet::pod::PodSettings::new(
                Some(client.clone()),
                NODE,
                kubelet_root.clone(),
            ),
        };
        PodManager::new(runner, client.clone(), NODE)
            .with_status_interval(Duration::from_millis(500))
    };
    let start = |m: PodManager| {
        let (tx, mut rx) = tokio::sync::watch::channel(false);
        let task = tokio::spawn(m.run(async move {
            let _ = rx.wait_for(|s| *s).await;
        }));
        (tx, task)
    };
    let (stop, task) = start(new_manager());

    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    let specs = [
        ("runs", "busybox", "[sh, -c, 'sleep 3600']", "Always"),
        ("badimage", "ferrokube.invalid/absent:1.0", "[sh]", "Always"),
        ("nocmd", "busybox", "[/no/such/command]", "Always"),
        ("exits", "busybox", "[sh, -c, 'exit 3']", "Never"),
    ];
    let mut uids = Vec::new();
    for (name, image, cmd, restart) in specs {
        let out = tokio::task::block_in_place(|| {
            cluster.kubectl_stdin(&["create", "-f", "-"], &pod_yaml(name, image, cmd, restart))
        })?
        .ok()?;
        assert!(out.contains("created"), "{out}");
        uids.push(pods.get(name).await?.metadata.uid.context("uid")?);
    }
    // Each reaches the state upstream shows for it.
    let state = |name: &'static str| {
        let pods = pods.clone();
        async move {
            let p = pods.get(name).await?;
            let s = p.status.unwrap_or_default();
            let c = s.container_statuses.unwrap_or_default().into_iter().next();
            let st = c.and_then(|c| c.state).unwrap_or_default();
            let reason = st
                .waiting
                .and_then(|w| w.reason)
                .or(st.running.map(|_| "Running".to_string()))
                .or(st.terminated.and_then(|t| t.reason));
            anyhow::Ok((s.phase.unwrap_or_default(), reason.unwrap_or_default()))
        }
    };
    eventually(Duration::from_secs(60), "runs Running", || async {
        Ok((state("runs").await?.1 == "Running").then_some(()))
    })
    .await?;
    let pull = eventually(Duration::from_secs(60), "badimage ErrImagePull", || async {
        let (_, r) = state("badimage").await?;
        Ok((r == "ErrImagePull" || r == "ImagePullBackOff").then_some(r))
    })
    .await?;
    assert!(!pull.is_empty());
    eventually(Duration::from_secs(60), "nocmd failing", || async {
        let (_, r) = state("nocmd").await?;
        Ok((!r.is_empty() && r != "ContainerCreating" && r != "Running").then_some(r))
    })
    .await?;
    eventually(Duration::from_secs(60), "exits Failed", || async {
        Ok((state("exits").await?.0 == "Failed").then_some(()))
    })
    .await?;

    for (name, ..) in specs {
        tokio::task::block_in_place(|| {
            cluster.kubectl(&["delete", "pod", name, "--wait", "--timeout=60s"])
        })?
        .ok()?;
    }
    for uid in &uids {
        let left = eventually(Duration::from_secs(30), "cleanup", || async {
            let left = leftovers_of(world, &ctr, uid, &kubelet_root).await?;
            Ok(left.is_empty().then_some(()))
        })
        .await;
        if left.is_err() {
            let l = leftovers_of(world, &ctr, uid, &kubelet_root).await?;
            bail!("pod {uid} left {l:?}");
        }
    }
    assert!(
        world.network.leases().is_empty(),
        "IP leases left: {:?}",
        world.network.leases()
    );
    let leases = containerd_leases(world, namespace);
    assert!(leases.is_empty(), "containerd leases left: {leases:?}");

    // --- restart: a pod deleted while no kubelet runs is cleaned up at start ---------
    let out = tokio::task::block_in_place(|| {
        cluster.kubectl_stdin(
            &["create", "-f", "-"],
            &pod_yaml("orphan", "busybox", "[sh, -c, 'sleep 3600']", "Always"),
        )
    })?
    .ok()?;
    assert!(out.contains("created"), "{out}");
    let orphan_uid = pods.get("orphan").await?.metadata.uid.context("uid")?;
    let out = tokio::task::block_in_place(|| {
        cluster.kubectl_stdin(
            &["create", "-f", "-"],
            &pod_yaml("survivor", "busybox", "[sh, -c, 'sleep 3600']", "Always"),
        )
    })?
    .ok()?;
    assert!(out.contains("created"), "{out}");
    let survivor_uid = pods.get("survivor").await?.metadata.uid.context("uid")?;
    for name in ["orphan", "survivor"] {
        eventually(Duration::from_secs(60), "Running", || async {
            Ok((state(name).await?.1 == "Running").then_some(()))
        })
        .await?;
    }
    let survivor_app = format!("{survivor_uid}-app");
    let pid_before = ctr.task_status(&survivor_app).await?.pid;
    let _ = stop.send(true);
    task.await??;
    // The kubelet is down: the pod goes from the API, its containers keep running.
    pods.delete(
        "orphan",
        &DeleteParams {
            grace_period_seconds: Some(0),
            ..Default::default()
        },
    )
    .await?;
    eventually(
        Duration::from_secs(20),
        "orphan gone from the API",
        || async { Ok(pods.get_opt("orphan").await?.is_none().then_some(())) },
    )
    .await?;
    let before = leftovers_of(world, &ctr, &orphan_uid, &kubelet_root).await?;
    assert!(before.iter().any(|l| l.starts_with("netns")), "{before:?}");
    let (stop, task) = start(new_manager());
    eventually(
        Duration::from_secs(30),
        "orphan cleaned up at start",
        || async {
            Ok(leftovers_of(world, &ctr, &orphan_uid, &kubelet_root)
                .await?
                .is_empty()
                .then_some(()))
        },
    )
    .await?;
    // The survivor was adopted: same process, still Running, and deletable.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let st = ctr.task_status(&survivor_app).await?;
    assert_eq!(st.pid, pid_before, "the survivor's container was restarted");
    assert_eq!(state("survivor").await?.1, "Running");
    tokio::task::block_in_place(|| {
        cluster.kubectl(&["delete", "pod", "survivor", "--wait", "--timeout=60s"])
    })?
    .ok()?;
    eventually(Duration::from_secs(30), "survivor cleaned up", || async {
        Ok(leftovers_of(world, &ctr, &survivor_uid, &kubelet_root)
            .await?
            .is_empty()
            .then_some(()))
    })
    .await?;
    assert!(
        world.network.leases().is_empty(),
        "IP leases left: {:?}",
        world.network.leases()
    );
    let _ = stop.send(true);
    task.await??;
    let known: HashSet<String> = uids.into_iter().collect();
    assert!(!known.contains(&orphan_uid));
    Ok(())
}
