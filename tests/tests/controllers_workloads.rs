//! kube-controller-manager's workload controllers end to end: a real etcd + our
//! apiserver, hollow nodes, the real `kube-scheduler` and `kube-controller-manager`
//! binaries (`cargo build -p scheduler -p controller-manager`), and the real kubectl.

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{bail, ensure, Context, Result};
use ferrokube_deploy::process::{Daemon, DaemonSpec};
use ferrokube_e2e::hollow::{HollowCapacity, HollowNodes, SchedulerProcess};
use ferrokube_e2e::TestCluster;
use futures::StreamExt;
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::{Namespace, Pod, ReplicationController};
use kube::api::{Api, ListParams, ObjectMeta, PostParams};
use kube::runtime::watcher;
use kube::Client;

/// The workload controllers only, so the test does not depend on the others.
const CONTROLLERS: &str = "deployment-controller,replicaset-controller,\
replicationcontroller-controller,garbage-collector-controller,pod-garbage-collector-controller";

fn controller_manager_binary() -> Result<PathBuf> {
    let path = ferrokube_e2e::bin_dir().join("kube-controller-manager");
    ensure!(
        path.is_file(),
        "kube-controller-manager not found at {}: run `cargo build -p controller-manager` first",
        path.display()
    );
    Ok(path)
}

/// `kube-controller-manager` against the test cluster; stopped on drop.
struct ControllerManager(Daemon);

impl ControllerManager {
    fn start(c: &TestCluster) -> Result<Self> {
        let bin = controller_manager_binary()?;
        let spec = DaemonSpec::new(
            "kube-controller-manager",
            &bin,
            c.dir().join("kube-controller-manager.log"),
            c.dir().join("kube-controller-manager.pid"),
        )
        .arg("--kubeconfig")
        .arg(c.kubeconfig_path())
        .args(["--secure-port", "0", "--leader-elect=false", "--v", "1"])
        .arg(format!("--controllers={CONTROLLERS}"));
        Ok(ControllerManager(Daemon::spawn(&spec)?))
    }
}

impl Drop for ControllerManager {
    fn drop(&mut self) {
        let _ = self.0.stop(Duration::from_secs(10));
    }
}

async fn namespace(client: &Client, name: &str) -> Result<()> {
    let api: Api<Namespace> = Api::all(client.clone());
    let ns = Namespace {
        metadata: ObjectMeta {
            name: Some(name.into()),
            ..Default::default()
        },
        ..Default::default()
    };
    api.create(&PostParams::default(), &ns).await?;
    Ok(())
}

/// kubectl off the async workers.
async fn kubectl(c: &'static TestCluster, args: &[&str]) -> Result<String> {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        c.kubectl(&refs)?.ok()
    })
    .await?
}

async fn kubectl_stdin(
    c: &'static TestCluster,
    args: &[&str],
    input: &str,
) -> Result<ferrokube_e2e::Output> {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let input = input.to_string();
    tokio::task::spawn_blocking(move || {
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        c.kubectl_stdin(&refs, &input)
    })
    .await?
}

/// Polls an async condition every 250 ms until it yields Some or `timeout` passes.
async fn eventually<T, F, Fut>(what: &str, timeout: Duration, mut f: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Option<T>>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let last = match f().await {
            Ok(Some(v)) => return Ok(v),
            Ok(None) => "not yet".to_string(),
            Err(e) => format!("{e:#}"),
        };
        if tokio::time::Instant::now() >= deadline {
            bail!("timed out after {timeout:?} waiting for {what} (last: {last})");
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// The tests each run a controller manager without leader election: one at a time.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const WAIT: Duration = Duration::from_secs(120);

fn deployment_yaml(name: &str, replicas: i32, image: &str, strategy: &str) -> String {
    format!(
        r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
spec:
  replicas: {replicas}
  revisionHistoryLimit: 5
  selector:
    matchLabels: {{app: {name}}}
  strategy: {strategy}
  template:
    metadata:
      labels: {{app: {name}}}
    spec:
      containers:
      - name: c
        image: {image}
"#
    )
}

const ROLLING: &str = "{type: RollingUpdate, rollingUpdate: {maxSurge: 1, maxUnavailable: 1}}";

fn is_available(p: &Pod) -> bool {
    p.metadata.deletion_timestamp.is_none()
        && p.status.as_ref().is_some_and(|s| {
            s.conditions
                .iter()
                .flatten()
                .any(|c| c.type_ == "Ready" && c.status == "True")
        })
}

/// Live pods (not being deleted) matching `selector`.
async fn live_pods(pods: &Api<Pod>, selector: &str) -> Result<Vec<Pod>> {
    Ok(pods
        .list(&ListParams::default().labels(selector))
        .await?
        .items
        .into_iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .collect())
}

fn image(p: &Pod) -> String {
    p.spec
        .as_ref()
        .and_then(|s| s.containers.first())
        .and_then(|c| c.image.clone())
        .unwrap_or_default()
}

/// Watches pods with `selector` and records the lowest available count seen after it
/// first reached `full`.
fn track_min_available(
    pods: Api<Pod>,
    selector: &str,
    full: usize,
) -> (Arc<Mutex<Option<usize>>>, tokio::task::JoinHandle<()>) {
    let min = Arc::new(Mutex::new(None));
    let m = min.clone();
    let cfg = watcher::Config::default().labels(selector);
    let task = tokio::spawn(async move {
        let mut state: BTreeMap<String, bool> = BTreeMap::new();
        let mut reached = false;
        let mut stream = watcher(pods, cfg).boxed();
        while let Some(ev) = stream.next().await {
            match ev {
                Ok(watcher::Event::Apply(p)) | Ok(watcher::Event::InitApply(p)) => {
                    state.insert(
                        p.metadata.name.clone().unwrap_or_default(),
                        is_available(&p),
                    );
                }
                Ok(watcher::Event::Delete(p)) => {
                    state.remove(&p.metadata.name.clone().unwrap_or_default());
                }
                _ => continue,
            }
            let avail = state.values().filter(|v| **v).count();
            if avail >= full {
                reached = true;
            }
            if reached {
                let mut g = m.lock().unwrap();
                *g = Some(g.map_or(avail, |x: usize| x.min(avail)));
            }
        }
    });
    (min, task)
}

async fn replica_sets(rs: &Api<ReplicaSet>, app: &str) -> Result<Vec<ReplicaSet>> {
    Ok(rs
        .list(&ListParams::default().labels(&format!("app={app}")))
        .await?
        .items)
}

fn annotation(meta: &ObjectMeta, key: &str) -> Option<String> {
    meta.annotations.as_ref().and_then(|a| a.get(key).cloned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn deployments_roll_out_undo_scale_and_cascade() -> Result<()> {
    let _serial = SERIAL.lock().await;
    let c = TestCluster::shared()?;
    let client = c.client().await?;
    let ns = "workloads";
    namespace(&client, ns).await?;
    let node_names: Vec<String> = (0..3).map(|i| format!("wl-node-{i}")).collect();
    let nodes = HollowNodes::start(client.clone(), &node_names, HollowCapacity::default()).await?;
    let _scheduler = SchedulerProcess::start(
        "kube-scheduler",
        c.dir(),
        c.kubeconfig_path(),
        &["--leader-elect=false"],
    )?;
    let cm = ControllerManager::start(c)?;
    let result = scenario(c, &client, ns, &node_names).await;
    if result.is_err() {
        eprintln!("--- kube-controller-manager log ---\n{}", cm.0.log_tail(80));
    }
    drop(cm);
    nodes.shutdown().await;
    result
}

async fn scenario(
    c: &'static TestCluster,
    client: &Client,
    ns: &str,
    node_names: &[String],
) -> Result<()> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), ns);
    let rs_api: Api<ReplicaSet> = Api::namespaced(client.clone(), ns);
    let deps: Api<Deployment> = Api::namespaced(client.clone(), ns);

    // 1. Five replicas become five Running pods on hollow nodes.
    kubectl_stdin(
        c,
        &["apply", "-n", ns, "-f", "-"],
        &deployment_yaml("web", 5, "busybox:1", ROLLING),
    )
    .await?
    .ok()?;
    let running = eventually("5 running pods", WAIT, || async {
        let ps = live_pods(&pods, "app=web").await?;
        let ok = ps.len() == 5 && ps.iter().all(is_available);
        Ok(ok.then_some(ps))
    })
    .await?;
    for p in &running {
        let node = p
            .spec
            .as_ref()
            .and_then(|s| s.node_name.clone())
            .unwrap_or_default();
        ensure!(
            node_names.contains(&node),
            "pod on unexpected node {node:?}"
        );
        let owner = p.metadata.owner_references.clone().unwrap_or_default();
        ensure!(
            owner.len() == 1
                && owner[0].kind == "ReplicaSet"
                && owner[0].controller == Some(true)
                && owner[0].block_owner_deletion == Some(true),
            "{owner:?}"
        );
        ensure!(p
            .metadata
            .generate_name
            .as_deref()
            .is_some_and(|g| g.starts_with("web-")));
    }
    kubectl(
        c,
        &[
            "rollout",
            "status",
            "-n",
            ns,
            "deployment/web",
            "--timeout=120s",
        ],
    )
    .await?;
    let rss = replica_sets(&rs_api, "web").await?;
    ensure!(rss.len() == 1, "one ReplicaSet: {}", rss.len());
    let first = &rss[0];
    let hash = first
        .metadata
        .labels
        .clone()
        .unwrap_or_default()
        .get("pod-template-hash")
        .cloned()
        .context("pod-template-hash label")?;
    ensure!(first.metadata.name.as_deref() == Some(format!("web-{hash}").as_str()));
    ensure!(
        annotation(&first.metadata, "deployment.kubernetes.io/revision").as_deref() == Some("1")
    );
    ensure!(
        annotation(&first.metadata, "deployment.kubernetes.io/desired-replicas").as_deref()
            == Some("5")
    );
    ensure!(
        annotation(&first.metadata, "deployment.kubernetes.io/max-replicas").as_deref()
            == Some("6")
    );
    let d = deps.get("web").await?;
    let conds = d
        .status
        .clone()
        .unwrap_or_default()
        .conditions
        .unwrap_or_default();
    ensure!(
        conds.iter().any(|c| c.type_ == "Available"
            && c.status == "True"
            && c.reason.as_deref() == Some("MinimumReplicasAvailable")),
        "{conds:?}"
    );
    ensure!(
        conds
            .iter()
            .any(|c| c.type_ == "Progressing"
                && c.reason.as_deref() == Some("NewReplicaSetAvailable")),
        "{conds:?}"
    );
    let events = kubectl(c, &["get", "events", "-n", ns, "-o", "json"]).await?;
    ensure!(
        events.contains(&format!("Scaled up replica set web-{hash} from 0 to 5")),
        "ScalingReplicaSet event missing"
    );
    ensure!(
        events.contains("Created pod: web-"),
        "SuccessfulCreate event missing"
    );
    let describe = kubectl(c, &["describe", "-n", ns, "deployment/web"]).await?;
    ensure!(
        describe.contains("ScalingReplicaSet") && describe.contains("deployment-controller"),
        "kubectl describe shows the events: {describe}"
    );

    // 2. A rolling update never drops below replicas - maxUnavailable available pods.
    let (min_available, tracker) = track_min_available(pods.clone(), "app=web", 5);
    tokio::time::sleep(Duration::from_secs(1)).await;
    kubectl(
        c,
        &["set", "image", "-n", ns, "deployment/web", "c=busybox:2"],
    )
    .await?;
    kubectl(
        c,
        &[
            "rollout",
            "status",
            "-n",
            ns,
            "deployment/web",
            "--timeout=120s",
        ],
    )
    .await?;
    eventually("5 pods on busybox:2", WAIT, || async {
        let ps = live_pods(&pods, "app=web").await?;
        Ok((ps.len() == 5
            && ps
                .iter()
                .all(|p| image(p) == "busybox:2" && is_available(p)))
        .then_some(()))
    })
    .await?;
    tracker.abort();
    let min = min_available
        .lock()
        .unwrap()
        .context("availability was tracked")?;
    ensure!(
        min >= 4,
        "available pods dropped to {min} (< replicas - maxUnavailable = 4)"
    );
    let rss = replica_sets(&rs_api, "web").await?;
    ensure!(rss.len() == 2, "two ReplicaSets after the update");
    let d = deps.get("web").await?;
    ensure!(annotation(&d.metadata, "deployment.kubernetes.io/revision").as_deref() == Some("2"));

    // 3. History and undo (kubectl's client-side rollback).
    let history = kubectl(c, &["rollout", "history", "-n", ns, "deployment/web"]).await?;
    ensure!(
        history.contains('1') && history.contains('2'),
        "history: {history}"
    );
    kubectl(c, &["rollout", "undo", "-n", ns, "deployment/web"]).await?;
    kubectl(
        c,
        &[
            "rollout",
            "status",
            "-n",
            ns,
            "deployment/web",
            "--timeout=120s",
        ],
    )
    .await?;
    eventually("5 pods back on busybox:1", WAIT, || async {
        let ps = live_pods(&pods, "app=web").await?;
        Ok((ps.len() == 5
            && ps
                .iter()
                .all(|p| image(p) == "busybox:1" && is_available(p)))
        .then_some(()))
    })
    .await?;
    let back = rs_api
        .get(first.metadata.name.as_deref().unwrap_or_default())
        .await?;
    ensure!(
        annotation(&back.metadata, "deployment.kubernetes.io/revision").as_deref() == Some("3")
    );
    ensure!(
        annotation(&back.metadata, "deployment.kubernetes.io/revision-history").as_deref()
            == Some("1")
    );

    // 4. Scale 5 -> 2 deletes 3.
    kubectl(c, &["scale", "-n", ns, "deployment/web", "--replicas=2"]).await?;
    eventually("2 pods", WAIT, || async {
        Ok((live_pods(&pods, "app=web").await?.len() == 2).then_some(()))
    })
    .await?;
    let events = kubectl(c, &["get", "events", "-n", ns, "-o", "json"]).await?;
    ensure!(
        events.contains("Deleted pod: web-"),
        "SuccessfulDelete event missing"
    );

    // 5. Pause, resume, restart.
    kubectl(c, &["rollout", "pause", "-n", ns, "deployment/web"]).await?;
    eventually("DeploymentPaused", WAIT, || async {
        let d = deps.get("web").await?;
        let conds = d.status.unwrap_or_default().conditions.unwrap_or_default();
        Ok(conds
            .iter()
            .any(|c| c.reason.as_deref() == Some("DeploymentPaused"))
            .then_some(()))
    })
    .await?;
    kubectl(c, &["rollout", "resume", "-n", ns, "deployment/web"]).await?;
    kubectl(c, &["rollout", "restart", "-n", ns, "deployment/web"]).await?;
    kubectl(
        c,
        &[
            "rollout",
            "status",
            "-n",
            ns,
            "deployment/web",
            "--timeout=120s",
        ],
    )
    .await?;
    let restarted = eventually("restarted pods", WAIT, || async {
        let ps = live_pods(&pods, "app=web").await?;
        let ok = ps.len() == 2
            && ps.iter().all(|p| {
                annotation(&p.metadata, "kubectl.kubernetes.io/restartedAt").is_some()
                    && is_available(p)
            });
        Ok(ok.then_some(()))
    })
    .await;
    restarted?;

    // 6. Delete with --cascade=orphan leaves the ReplicaSets and pods, unowned.
    kubectl_stdin(
        c,
        &["apply", "-n", ns, "-f", "-"],
        &deployment_yaml("keep", 2, "busybox:1", ROLLING),
    )
    .await?
    .ok()?;
    kubectl(
        c,
        &[
            "rollout",
            "status",
            "-n",
            ns,
            "deployment/keep",
            "--timeout=120s",
        ],
    )
    .await?;
    kubectl(
        c,
        &["delete", "-n", ns, "deployment/keep", "--cascade=orphan"],
    )
    .await?;
    eventually("orphaned ReplicaSet", WAIT, || async {
        let rss = replica_sets(&rs_api, "keep").await?;
        let gone = deps.get_opt("keep").await?.is_none();
        Ok((gone
            && rss.len() == 1
            && rss[0]
                .metadata
                .owner_references
                .as_ref()
                .is_none_or(|r| r.is_empty()))
        .then_some(()))
    })
    .await?;
    tokio::time::sleep(Duration::from_secs(3)).await;
    ensure!(
        live_pods(&pods, "app=keep").await?.len() == 2,
        "orphaned pods must stay"
    );

    // 7. A plain delete removes the ReplicaSets and pods (background propagation).
    kubectl(c, &["delete", "-n", ns, "deployment/web"]).await?;
    eventually("web's ReplicaSets and pods gone", WAIT, || async {
        let rss = replica_sets(&rs_api, "web").await?;
        let ps = pods
            .list(&ListParams::default().labels("app=web"))
            .await?
            .items;
        Ok((rss.is_empty() && ps.is_empty()).then_some(()))
    })
    .await?;

    // 8. Foreground: the Deployment waits for its dependents, then goes.
    kubectl_stdin(
        c,
        &["apply", "-n", ns, "-f", "-"],
        &deployment_yaml("fg", 2, "busybox:1", "{type: Recreate}"),
    )
    .await?
    .ok()?;
    kubectl(
        c,
        &[
            "rollout",
            "status",
            "-n",
            ns,
            "deployment/fg",
            "--timeout=120s",
        ],
    )
    .await?;
    kubectl(
        c,
        &[
            "delete",
            "-n",
            ns,
            "deployment/fg",
            "--cascade=foreground",
            "--wait=false",
        ],
    )
    .await?;
    eventually("fg and its dependents gone", WAIT, || async {
        let rss = replica_sets(&rs_api, "fg").await?;
        let ps = pods
            .list(&ListParams::default().labels("app=fg"))
            .await?
            .items;
        let d = deps.get_opt("fg").await?;
        Ok((d.is_none() && rss.is_empty() && ps.is_empty()).then_some(()))
    })
    .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replication_controller_adoption_generic_gc_and_podgc() -> Result<()> {
    let _serial = SERIAL.lock().await;
    let c = TestCluster::shared()?;
    let client = c.client().await?;
    let ns = "rc-adopt";
    namespace(&client, ns).await?;
    let node_names = vec!["rc-node-0".to_string()];
    let nodes = HollowNodes::start(client.clone(), &node_names, HollowCapacity::default()).await?;
    let result = rc_scenario(c, &client, ns).await;
    nodes.shutdown().await;
    result
}

async fn rc_scenario(c: &'static TestCluster, client: &Client, ns: &str) -> Result<()> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), ns);
    let rcs: Api<ReplicationController> = Api::namespaced(client.clone(), ns);
    // An orphan that matches the selector, bound to the hollow node.
    let orphan: Pod = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "orphan", "labels": {"app": "rc"}},
        "spec": {"nodeName": "rc-node-0", "containers": [{"name": "c", "image": "busybox"}]}
    }))?;
    pods.create(&PostParams::default(), &orphan).await?;
    // No scheduler here: the test binds nothing, so the RC's template names the node.
    let rc: ReplicationController = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "rc"},
        "spec": {"replicas": 3, "selector": {"app": "rc"}, "template": {
            "metadata": {"labels": {"app": "rc"}},
            "spec": {"nodeName": "rc-node-0", "containers": [{"name": "c", "image": "busybox"}]}}}
    }))?;
    // The controller manager only starts now, so the orphan exists first.
    let _cm = ControllerManager::start(c)?;
    rcs.create(&PostParams::default(), &rc).await?;
    let owned = eventually("3 pods owned by the RC", WAIT, || async {
        let ps = live_pods(&pods, "app=rc").await?;
        let owned = ps
            .iter()
            .filter(|p| {
                p.metadata
                    .owner_references
                    .iter()
                    .flatten()
                    .any(|r| r.kind == "ReplicationController" && r.name == "rc")
            })
            .count();
        Ok((ps.len() == 3 && owned == 3).then_some(ps))
    })
    .await?;
    ensure!(
        owned
            .iter()
            .any(|p| p.metadata.name.as_deref() == Some("orphan")),
        "the orphan was adopted"
    );
    let rc_now = rcs.get("rc").await?;
    let status = rc_now.status.context("rc status")?;
    ensure!(status.replicas == 3);

    // Relabel the adopted pod: it is released and replaced.
    kubectl(
        c,
        &["label", "-n", ns, "pod/orphan", "app=other", "--overwrite"],
    )
    .await?;
    eventually("orphan released and replaced", WAIT, || async {
        let o = pods.get("orphan").await?;
        let released = o
            .metadata
            .owner_references
            .as_ref()
            .is_none_or(|r| r.is_empty());
        let ps = live_pods(&pods, "app=rc").await?;
        Ok((released && ps.len() == 3).then_some(()))
    })
    .await?;
    let names: HashSet<String> = live_pods(&pods, "app=rc")
        .await?
        .into_iter()
        .filter_map(|p| p.metadata.name)
        .collect();
    ensure!(!names.contains("orphan"));
    // The garbage collector works on any kind: a Secret owned by a ConfigMap goes with it.
    let owner = kubectl(
        c,
        &[
            "create",
            "configmap",
            "-n",
            ns,
            "owner",
            "--from-literal=a=b",
            "-o",
            "json",
        ],
    )
    .await?;
    let owner: serde_json::Value = serde_json::from_str(&owner)?;
    let uid = owner["metadata"]["uid"]
        .as_str()
        .context("configmap uid")?
        .to_string();
    let secret = serde_json::json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "dependent", "namespace": ns, "ownerReferences": [
            {"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": uid}]},
        "stringData": {"k": "v"}
    });
    kubectl_stdin(c, &["create", "-f", "-"], &secret.to_string())
        .await?
        .ok()?;
    kubectl(c, &["delete", "-n", ns, "configmap/owner"]).await?;
    eventually("the dependent Secret deleted", WAIT, || async {
        let out = kubectl_stdin(c, &["get", "-n", ns, "secret/dependent"], "").await?;
        Ok((!out.success() && out.stderr.contains("NotFound")).then_some(()))
    })
    .await?;

    // PodGC: a pod bound to a node that does not exist is deleted after the quarantine.
    let ghost: Pod = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "ghost"},
        "spec": {"nodeName": "no-such-node", "containers": [{"name": "c", "image": "busybox"}]}
    }))?;
    pods.create(&PostParams::default(), &ghost).await?;
    eventually(
        "the pod on a missing node garbage collected",
        Duration::from_secs(180),
        || async { Ok(pods.get_opt("ghost").await?.is_none().then_some(())) },
    )
    .await?;

    kubectl(c, &["delete", "-n", ns, "rc/rc"]).await?;
    eventually("rc pods gone", WAIT, || async {
        Ok(live_pods(&pods, "app=rc").await?.is_empty().then_some(()))
    })
    .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deployment_selector_must_match_template() -> Result<()> {
    let c = TestCluster::shared()?;
    let bad = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: bad
  namespace: default
spec:
  replicas: 1
  selector:
    matchLabels: {app: mismatch-a}
  template:
    metadata:
      labels: {app: mismatch-b}
    spec:
      containers:
      - name: c
        image: busybox
"#;
    let err = kubectl_stdin(c, &["create", "-f", "-"], bad).await?.err()?;
    ensure!(
        err.contains("`selector` does not match template `labels`"),
        "{err}"
    );
    ensure!(err.contains("Invalid"), "{err}");
    Ok(())
}
