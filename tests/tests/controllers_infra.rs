//! kube-controller-manager's infrastructure controllers end to end: a real etcd + our
//! apiserver, hollow nodes, and the real `kube-controller-manager` binary
//! (`cargo build -p controller-manager`): EndpointSlices and Endpoints for a Service,
//! `default` ServiceAccount and kube-root-ca.crt in every namespace, namespace
//! deletion, node IPAM, and node lifecycle with taint-based eviction.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, ensure, Context, Result};
use ferrokube_deploy::process::{Daemon, DaemonSpec};
use ferrokube_e2e::hollow::{HollowCapacity, HollowNodes, SchedulerProcess};
use ferrokube_e2e::TestCluster;
use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::core::v1::Event;
use k8s_openapi::api::core::v1::{
    ConfigMap, Endpoints, Namespace, Node, Pod, Service, ServiceAccount,
};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::api::{Api, DeleteParams, ListParams, ObjectMeta, Patch, PatchParams, PostParams};
use kube::Client;
use serde_json::json;

/// My controllers, by their --controllers names.
const INFRA_CONTROLLERS: &str = "namespace,endpointslice,endpoint,serviceaccount,root-ca-cert-publisher,nodeipam,nodelifecycle,taint-eviction-controller";

/// A `kube-controller-manager` process against a test cluster; stopped on drop.
struct ControllerManager {
    daemon: Daemon,
}

impl ControllerManager {
    fn start(c: &TestCluster, name: &str, extra: &[&str]) -> Result<Self> {
        let bin: PathBuf = ferrokube_e2e::bin_dir().join("kube-controller-manager");
        if !bin.is_file() {
            bail!(
                "{} not found: run `cargo build -p controller-manager` first (or set FERROKUBE_BIN_DIR)",
                bin.display()
            );
        }
        let spec = DaemonSpec::new(
            name,
            &bin,
            c.dir().join(format!("{name}.log")),
            c.dir().join(format!("{name}.pid")),
        )
        .arg("--kubeconfig")
        .arg(c.kubeconfig_path())
        .args(["--secure-port", "0", "--leader-elect=false"])
        .args(extra.iter().copied());
        let daemon = Daemon::spawn(&spec).with_context(|| format!("starting {}", bin.display()))?;
        Ok(ControllerManager { daemon })
    }

    fn log_tail(&self) -> String {
        self.daemon.log_tail(60)
    }
}

impl Drop for ControllerManager {
    fn drop(&mut self) {
        let _ = self.daemon.stop(Duration::from_secs(10));
    }
}

async fn create_namespace(client: &Client, name: &str) -> Result<()> {
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

fn pod(
    name: &str,
    node: &str,
    labels: serde_json::Value,
    extra_spec: serde_json::Value,
) -> Result<Pod> {
    let mut spec = json!({
        "nodeName": node,
        "containers": [{"name": "app", "image": "busybox", "ports": [{"name": "web", "containerPort": 8080}]}],
    });
    if let (Some(s), Some(extra)) = (spec.as_object_mut(), extra_spec.as_object()) {
        s.extend(extra.clone());
    }
    Ok(serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "labels": labels},
        "spec": spec,
    }))?)
}

async fn pod_ip(pods: &Api<Pod>, name: &str) -> Result<Option<String>> {
    let p = pods.get(name).await?;
    Ok(p.status.and_then(|s| s.pod_ip).filter(|ip| !ip.is_empty()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn services_get_endpoints_namespaces_get_defaults_and_deleted_namespaces_empty() -> Result<()>
{
    let c = TestCluster::start()?;
    let client = c.client().await?;
    let kcm = ControllerManager::start(&c, "kcm-infra", &["--controllers", INFRA_CONTROLLERS])?;
    let nodes = HollowNodes::start(
        client.clone(),
        &["ep-0".to_string(), "ep-1".to_string()],
        HollowCapacity::default(),
    )
    .await?;
    let result = services_namespaces_scenario(&c, &client).await;
    nodes.shutdown().await;
    result.with_context(|| format!("kube-controller-manager log:\n{}", kcm.log_tail()))
}

async fn services_namespaces_scenario(c: &TestCluster, client: &Client) -> Result<()> {
    // --- default ServiceAccount and kube-root-ca.crt, restored when removed.
    create_namespace(client, "infra-a").await?;
    let ca = std::fs::read_to_string(c.ca_cert_path())?;
    let sas: Api<ServiceAccount> = Api::namespaced(client.clone(), "infra-a");
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "infra-a");
    let wait_defaults = |what: &'static str| {
        let sas = sas.clone();
        let cms = cms.clone();
        let ca = ca.clone();
        async move {
            eventually(what, Duration::from_secs(60), || async {
                let sa = sas.get_opt("default").await?;
                let cm = cms.get_opt("kube-root-ca.crt").await?;
                Ok(match (sa, cm) {
                    (Some(_), Some(cm)) => {
                        let data = cm.data.unwrap_or_default();
                        let described = cm
                            .metadata
                            .annotations
                            .unwrap_or_default()
                            .get("kubernetes.io/description")
                            .is_some_and(|d| d.starts_with("Contains a CA bundle"));
                        (data.get("ca.crt").map(|s| s.trim()) == Some(ca.trim()) && described)
                            .then_some(())
                    }
                    _ => None,
                })
            })
            .await
        }
    };
    wait_defaults("default SA and kube-root-ca.crt in infra-a").await?;
    // Every namespace, including the built-in ones.
    for ns in ["default", "kube-system"] {
        let sa: Api<ServiceAccount> = Api::namespaced(client.clone(), ns);
        let cm: Api<ConfigMap> = Api::namespaced(client.clone(), ns);
        eventually(
            &format!("defaults in {ns}"),
            Duration::from_secs(30),
            || async {
                Ok((sa.get_opt("default").await?.is_some()
                    && cm.get_opt("kube-root-ca.crt").await?.is_some())
                .then_some(()))
            },
        )
        .await?;
    }
    sas.delete("default", &DeleteParams::default()).await?;
    let mut edited = cms.get("kube-root-ca.crt").await?;
    edited.data = Some([("ca.crt".to_string(), "tampered".to_string())].into());
    cms.replace("kube-root-ca.crt", &PostParams::default(), &edited)
        .await?;
    wait_defaults("the SA recreated and the ConfigMap restored").await?;

    // --- a Service with a named targetPort gets an EndpointSlice and Endpoints.
    create_namespace(client, "infra-svc").await?;
    let pods: Api<Pod> = Api::namespaced(client.clone(), "infra-svc");
    let labels = json!({"app": "web"});
    for (name, node) in [("web-0", "ep-0"), ("web-1", "ep-1")] {
        pods.create(
            &PostParams::default(),
            &pod(name, node, labels.clone(), json!({}))?,
        )
        .await?;
    }
    // Bound to a node nobody runs: never gets an IP, so never listed.
    pods.create(
        &PostParams::default(),
        &pod("web-pending", "nowhere", labels.clone(), json!({}))?,
    )
    .await?;
    let svcs: Api<Service> = Api::namespaced(client.clone(), "infra-svc");
    let svc: Service = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "web"},
        "spec": {"selector": {"app": "web"}, "ports": [{"name": "http", "port": 80, "targetPort": "web"}]},
    }))?;
    let svc = svcs.create(&PostParams::default(), &svc).await?;
    let mut ips = BTreeSet::new();
    for name in ["web-0", "web-1"] {
        let ip = eventually(&format!("{name} running"), Duration::from_secs(60), || {
            pod_ip(&pods, name)
        })
        .await?;
        ips.insert(ip);
    }
    let slices: Api<EndpointSlice> = Api::namespaced(client.clone(), "infra-svc");
    let slice = eventually(
        "an EndpointSlice listing both ready pods",
        Duration::from_secs(60),
        || async {
            let list = slices
                .list(&ListParams::default().labels("kubernetes.io/service-name=web"))
                .await?;
            Ok(list.items.into_iter().find(|s| {
                let ready: BTreeSet<String> = s
                    .endpoints
                    .iter()
                    .filter(|e| e.conditions.as_ref().and_then(|c| c.ready) == Some(true))
                    .flat_map(|e| e.addresses.clone())
                    .collect();
                ready == ips
            }))
        },
    )
    .await?;
    ensure!(slice.address_type == "IPv4", "{slice:?}");
    ensure!(
        slice.endpoints.len() == 2,
        "only the pods with IPs: {:?}",
        slice.endpoints
    );
    let labels = slice.metadata.labels.clone().unwrap_or_default();
    ensure!(
        labels
            .get("endpointslice.kubernetes.io/managed-by")
            .map(String::as_str)
            == Some("endpointslice-controller.k8s.io"),
        "{labels:?}"
    );
    ensure!(
        slice
            .metadata
            .name
            .as_deref()
            .is_some_and(|n| n.starts_with("web-")),
        "{:?}",
        slice.metadata.name
    );
    let owner = &slice.metadata.owner_references.clone().unwrap_or_default()[0];
    ensure!(
        owner.kind == "Service" && Some(&owner.uid) == svc.metadata.uid.as_ref(),
        "{owner:?}"
    );
    let ports = slice.ports.clone().unwrap_or_default();
    ensure!(
        ports.len() == 1 && ports[0].port == Some(8080) && ports[0].name.as_deref() == Some("http"),
        "{ports:?}"
    );
    for e in &slice.endpoints {
        let target = e.target_ref.as_ref().context("targetRef")?;
        ensure!(target.kind.as_deref() == Some("Pod"), "{target:?}");
        ensure!(
            e.node_name.as_deref().is_some_and(|n| n.starts_with("ep-")),
            "{e:?}"
        );
    }
    ensure!(
        slice
            .metadata
            .annotations
            .unwrap_or_default()
            .contains_key("endpoints.kubernetes.io/last-change-trigger-time"),
        "trigger-time annotation"
    );
    let endpoints: Api<Endpoints> = Api::namespaced(client.clone(), "infra-svc");
    eventually("the Endpoints object", Duration::from_secs(60), || async {
        let Some(e) = endpoints.get_opt("web").await? else {
            return Ok(None);
        };
        let subsets = e.subsets.unwrap_or_default();
        let addrs: BTreeSet<String> = subsets
            .iter()
            .flat_map(|s| s.addresses.iter().flatten().map(|a| a.ip.clone()))
            .collect();
        let port_ok = subsets
            .first()
            .and_then(|s| s.ports.as_ref())
            .is_some_and(|p| p[0].port == 8080);
        Ok((addrs == ips && port_ok).then_some(()))
    })
    .await?;

    // A pod going away leaves the slice (the same slice, updated in place).
    pods.delete("web-1", &DeleteParams::default()).await?;
    let slice_name = slice.metadata.name.clone();
    eventually(
        "the slice updated to one endpoint",
        Duration::from_secs(60),
        || async {
            let list = slices
                .list(&ListParams::default().labels("kubernetes.io/service-name=web"))
                .await?;
            Ok(list
                .items
                .iter()
                .any(|s| s.metadata.name == slice_name && s.endpoints.len() == 1)
                .then_some(()))
        },
    )
    .await?;

    // --- deleting a namespace deletes its content, then the namespace.
    let cm: ConfigMap =
        serde_json::from_value(json!({"metadata": {"name": "settings"}, "data": {"a": "b"}}))?;
    Api::<ConfigMap>::namespaced(client.clone(), "infra-svc")
        .create(&PostParams::default(), &cm)
        .await?;
    // The pod bound to a node that does not exist would wait for PodGC (another
    // controller) once deleted; remove it outright.
    pods.delete(
        "web-pending",
        &DeleteParams {
            grace_period_seconds: Some(0),
            ..Default::default()
        },
    )
    .await?;
    let namespaces: Api<Namespace> = Api::all(client.clone());
    namespaces
        .delete("infra-svc", &DeleteParams::default())
        .await?;
    // While it terminates, the controller reports its progress in the conditions.
    let conditions = eventually(
        "namespace deletion conditions",
        Duration::from_secs(60),
        || async {
            let Some(ns) = namespaces.get_opt("infra-svc").await? else {
                return Ok(Some(Vec::new()));
            };
            let types: Vec<String> = ns
                .status
                .and_then(|s| s.conditions)
                .unwrap_or_default()
                .into_iter()
                .map(|c| c.type_)
                .collect();
            Ok((!types.is_empty()).then_some(types))
        },
    )
    .await?;
    ensure!(
        conditions.is_empty() || conditions.iter().any(|t| t == "NamespaceContentRemaining"),
        "{conditions:?}"
    );
    eventually(
        "namespace infra-svc gone",
        Duration::from_secs(120),
        || async {
            Ok(namespaces
                .get_opt("infra-svc")
                .await?
                .is_none()
                .then_some(()))
        },
    )
    .await?;
    let left = Api::<Pod>::all(client.clone())
        .list(&ListParams::default())
        .await?;
    ensure!(
        left.items
            .iter()
            .all(|p| p.metadata.namespace.as_deref() != Some("infra-svc")),
        "pods left behind"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_ipam_assigns_cidrs_and_a_silent_node_is_tainted_evicted_and_recovers() -> Result<()> {
    let c = TestCluster::start()?;
    let client = c.client().await?;
    let names: Vec<String> = (0..3).map(|i| format!("life-{i}")).collect();
    let nodes = HollowNodes::start(client.clone(), &names, HollowCapacity::default()).await?;
    // Grace 20 s: hollow nodes renew their Lease every 10 s.
    let kcm = ControllerManager::start(
        &c,
        "kcm-lifecycle",
        &[
            "--controllers",
            &format!("{INFRA_CONTROLLERS},replicaset"),
            "--allocate-node-cidrs=true",
            "--cluster-cidr",
            "10.244.0.0/16",
            "--node-cidr-mask-size",
            "24",
            "--node-monitor-grace-period",
            "20s",
            "--node-monitor-period",
            "1s",
        ],
    )?;
    let scheduler = SchedulerProcess::start("scheduler", c.dir(), c.kubeconfig_path(), &[])?;
    let result = lifecycle_scenario(&client, &nodes).await;
    drop(scheduler);
    nodes.shutdown().await;
    result.with_context(|| format!("kube-controller-manager log:\n{}", kcm.log_tail()))
}

fn has_taint(node: &Node, key: &str, effect: &str) -> bool {
    node.spec
        .as_ref()
        .and_then(|s| s.taints.as_ref())
        .is_some_and(|ts| ts.iter().any(|t| t.key == key && t.effect == effect))
}

fn ready(node: &Node) -> Option<(String, Option<String>)> {
    node.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == "Ready")
        .map(|c| (c.status.clone(), c.reason.clone()))
}

async fn lifecycle_scenario(client: &Client, hollow: &HollowNodes) -> Result<()> {
    let node_api: Api<Node> = Api::all(client.clone());
    // --- node IPAM: distinct /24s from the cluster CIDR.
    let cidrs = eventually(
        "every node has a podCIDR",
        Duration::from_secs(60),
        || async {
            let mut got = BTreeSet::new();
            for n in hollow.names() {
                let node = node_api.get(&n).await?;
                match node.spec.and_then(|s| s.pod_cidr) {
                    Some(c) => got.insert(c),
                    None => return Ok(None),
                };
            }
            Ok(Some(got))
        },
    )
    .await?;
    ensure!(cidrs.len() == 3, "distinct podCIDRs: {cidrs:?}");
    ensure!(
        cidrs
            .iter()
            .all(|c| c.starts_with("10.244.") && c.ends_with("/24")),
        "{cidrs:?}"
    );

    // --- pods on the node that will go silent.
    create_namespace(client, "life").await?;
    let pods: Api<Pod> = Api::namespaced(client.clone(), "life");
    let quick = json!({"tolerations": [
        {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 5},
        {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 5},
    ]});
    let forever = json!({"tolerations": [
        {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute"},
    ]});
    pods.create(
        &PostParams::default(),
        &pod("quick", "life-1", json!({"app": "q"}), quick)?,
    )
    .await?;
    pods.create(
        &PostParams::default(),
        &pod("stays", "life-1", json!({"app": "s"}), forever)?,
    )
    .await?;
    for name in ["quick", "stays"] {
        eventually(&format!("{name} running"), Duration::from_secs(60), || {
            pod_ip(&pods, name)
        })
        .await?;
    }

    // A ReplicaSet whose pods all land on life-1 (the others cordoned meanwhile; the
    // lifecycle controller turns that into the unschedulable taint).
    let cordon = |unschedulable: bool| {
        let node_api = node_api.clone();
        async move {
            for n in ["life-0", "life-2"] {
                node_api
                    .patch(
                        n,
                        &PatchParams::default(),
                        &Patch::Merge(json!({"spec": {"unschedulable": unschedulable}})),
                    )
                    .await?;
            }
            anyhow::Ok(())
        }
    };
    cordon(true).await?;
    let rs: ReplicaSet = serde_json::from_value(json!({
        "apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {"name": "rs"},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "rs"}},
            "template": {
                "metadata": {"labels": {"app": "rs"}},
                "spec": {
                    "containers": [{"name": "app", "image": "busybox"}],
                    "tolerations": [{"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 5}],
                },
            },
        },
    }))?;
    Api::<ReplicaSet>::namespaced(client.clone(), "life")
        .create(&PostParams::default(), &rs)
        .await?;
    let running_rs_pods = |pods: Api<Pod>| async move {
        let list = pods.list(&ListParams::default().labels("app=rs")).await?;
        anyhow::Ok(
            list.items
                .into_iter()
                .filter(|p| p.metadata.deletion_timestamp.is_none())
                .filter(|p| p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running"))
                .filter_map(|p| p.spec.and_then(|s| s.node_name))
                .collect::<Vec<String>>(),
        )
    };
    eventually(
        "2 ReplicaSet pods running on life-1",
        Duration::from_secs(90),
        || async {
            let on = running_rs_pods(pods.clone()).await?;
            Ok((on.len() == 2 && on.iter().all(|n| n == "life-1")).then_some(()))
        },
    )
    .await?;
    cordon(false).await?;

    hollow.stop_node("life-1");
    let node = eventually(
        "life-1 Ready=Unknown and tainted unreachable",
        Duration::from_secs(120),
        || async {
            let n = node_api.get("life-1").await?;
            let r = ready(&n);
            Ok(
                (r == Some(("Unknown".to_string(), Some("NodeStatusUnknown".to_string())))
                    && has_taint(&n, "node.kubernetes.io/unreachable", "NoExecute")
                    && has_taint(&n, "node.kubernetes.io/unreachable", "NoSchedule"))
                .then_some(n),
            )
        },
    )
    .await?;
    let msg = node
        .status
        .and_then(|s| s.conditions)
        .unwrap_or_default()
        .into_iter()
        .find(|c| c.type_ == "Ready")
        .and_then(|c| c.message);
    ensure!(
        msg.as_deref() == Some("Kubelet stopped posting node status."),
        "{msg:?}"
    );
    // The live nodes stay untouched.
    for n in ["life-0", "life-2"] {
        let live = node_api.get(n).await?;
        ensure!(
            !has_taint(&live, "node.kubernetes.io/unreachable", "NoExecute"),
            "{n} tainted"
        );
    }

    // Pods on it turn not ready; the 5 s one is evicted, the forever one stays.
    eventually(
        "quick marked for deletion",
        Duration::from_secs(60),
        || async {
            Ok(match pods.get_opt("quick").await? {
                None => Some(()),
                Some(p) => p.metadata.deletion_timestamp.map(|_| ()),
            })
        },
    )
    .await?;
    eventually(
        "stays marked not ready",
        Duration::from_secs(30),
        || async {
            let p = pods.get("stays").await?;
            let ready = p
                .status
                .and_then(|s| s.conditions)
                .unwrap_or_default()
                .into_iter()
                .find(|c| c.type_ == "Ready")
                .map(|c| c.status);
            Ok((ready.as_deref() == Some("False")).then_some(()))
        },
    )
    .await?;
    // The ReplicaSet's pods are evicted too and replaced on the live nodes.
    let moved = eventually(
        "ReplicaSet pods rescheduled off life-1",
        Duration::from_secs(90),
        || async {
            let on = running_rs_pods(pods.clone()).await?;
            Ok((on.len() == 2 && on.iter().all(|n| n != "life-1")).then_some(on))
        },
    )
    .await?;
    ensure!(
        moved.iter().all(|n| n == "life-0" || n == "life-2"),
        "{moved:?}"
    );
    let stays = pods.get("stays").await?;
    ensure!(
        stays.metadata.deletion_timestamp.is_none(),
        "a pod tolerating forever must stay"
    );
    let events: Api<Event> = Api::namespaced(client.clone(), "life");
    eventually(
        "a TaintManagerEviction event",
        Duration::from_secs(30),
        || async {
            let list = events.list(&ListParams::default()).await?;
            Ok(list
                .items
                .iter()
                .any(|e| {
                    e.reason.as_deref() == Some("TaintManagerEviction")
                        && e.message.as_deref() == Some("Marking for deletion Pod life/quick")
                })
                .then_some(()))
        },
    )
    .await?;

    // --- the kubelet comes back: taints go, Ready follows the kubelet.
    hollow.resume_node("life-1");
    eventually(
        "life-1 Ready and untainted",
        Duration::from_secs(60),
        || async {
            let n = node_api.get("life-1").await?;
            let untainted = !has_taint(&n, "node.kubernetes.io/unreachable", "NoExecute")
                && !has_taint(&n, "node.kubernetes.io/unreachable", "NoSchedule");
            Ok((ready(&n).map(|r| r.0).as_deref() == Some("True") && untainted).then_some(()))
        },
    )
    .await?;
    Ok(())
}
