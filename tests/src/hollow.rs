//! Hollow nodes, like kwok: Node objects with capacity and a Ready condition, kept alive
//! by renewing their Leases in `kube-node-lease`, and a single pod watch that plays the
//! kubelet for every hollow node: pods bound to them turn Running and Ready with a fake
//! pod IP, pods marked for deletion are deleted with `gracePeriodSeconds=0`.
//!
//! ```no_run
//! # async fn f(client: kube::Client) -> anyhow::Result<()> {
//! use ferrokube_e2e::hollow::{HollowCapacity, HollowNodes};
//! let names: Vec<String> = (0..3).map(|i| format!("hollow-{i}")).collect();
//! let nodes = HollowNodes::start(client, &names, HollowCapacity::default()).await?;
//! nodes.stop_node("hollow-1"); // its lease and status go stale, like a dead kubelet
//! nodes.resume_node("hollow-1");
//! nodes.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! Built for 1,000 nodes: one pod watch for all of them, leases renewed in batches with
//! bounded concurrency.
//!
//! Also here: [`SchedulerProcess`], the real `kube-scheduler` binary started against a
//! test cluster (for the scheduler e2e tests and benchmark).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::api::core::v1::{
    ContainerState, ContainerStateRunning, ContainerStatus, Node, NodeAddress, NodeCondition,
    NodeStatus, NodeSystemInfo, Pod, PodCondition, PodIP, PodStatus,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta, Time};
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::runtime::watcher;
use tokio::sync::{mpsc, watch, Semaphore};
use tokio::task::JoinHandle;

/// How often a live hollow node renews its Lease (the kubelet's default).
pub const LEASE_RENEW_INTERVAL: Duration = Duration::from_secs(10);
/// How often a live hollow node re-posts its Ready condition (the kubelet's
/// nodeStatusReportFrequency when leases are used is 5 min; shorter here).
pub const STATUS_INTERVAL: Duration = Duration::from_secs(60);
/// Requests in flight at once for lease, status and pod updates.
const CONCURRENCY: usize = 32;

/// What every hollow node reports as capacity and allocatable.
#[derive(Clone, Debug)]
pub struct HollowCapacity {
    pub cpu: String,
    pub memory: String,
    pub pods: u32,
}

impl Default for HollowCapacity {
    fn default() -> Self {
        HollowCapacity {
            cpu: "4".to_string(),
            memory: "16Gi".to_string(),
            pods: 110,
        }
    }
}

struct Shared {
    client: kube::Client,
    capacity: HollowCapacity,
    /// Node name -> index (gives each node its fake host IP and pod range).
    index: HashMap<String, usize>,
    stopped: Mutex<HashSet<String>>,
    /// Next pod IP host part per node.
    next_ip: Mutex<HashMap<String, u32>>,
    limit: Semaphore,
    /// Set by shutdown: in-flight pod work stops quietly.
    closed: std::sync::atomic::AtomicBool,
}

impl Shared {
    fn is_live(&self, node: &str) -> bool {
        !self.closed.load(std::sync::atomic::Ordering::SeqCst)
            && self.index.contains_key(node)
            && !self
                .stopped
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .contains(node)
    }

    fn live_nodes(&self) -> Vec<String> {
        let stopped = self.stopped.lock().unwrap_or_else(|p| p.into_inner());
        let mut names: Vec<String> = self
            .index
            .keys()
            .filter(|n| !stopped.contains(*n))
            .cloned()
            .collect();
        names.sort();
        names
    }

    fn host_ip(&self, node: &str) -> String {
        let i = self.index.get(node).copied().unwrap_or(0);
        format!("172.31.{}.{}", (i / 250) % 256, i % 250 + 2)
    }

    /// A pod IP from the node's fake /24: 10.(200 + i/256).(i%256).x, x in 2..=254.
    fn next_pod_ip(&self, node: &str) -> String {
        let i = self.index.get(node).copied().unwrap_or(0);
        let mut next = self.next_ip.lock().unwrap_or_else(|p| p.into_inner());
        let n = next.entry(node.to_string()).or_insert(0);
        let host = *n % 253 + 2;
        *n += 1;
        format!("10.{}.{}.{}", 200 + (i / 256) % 56, i % 256, host)
    }
}

/// A set of hollow nodes and the tasks keeping them alive.
pub struct HollowNodes {
    shared: Arc<Shared>,
    resumed: mpsc::UnboundedSender<String>,
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl HollowNodes {
    /// Creates (or takes over) the Node objects and their Leases, then starts the lease,
    /// status and pod loops.
    pub async fn start(
        client: kube::Client,
        names: &[String],
        capacity: HollowCapacity,
    ) -> Result<HollowNodes> {
        let index = names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.clone(), i))
            .collect();
        let shared = Arc::new(Shared {
            client,
            capacity,
            index,
            stopped: Mutex::new(HashSet::new()),
            next_ip: Mutex::new(HashMap::new()),
            limit: Semaphore::new(CONCURRENCY),
            closed: std::sync::atomic::AtomicBool::new(false),
        });
        ensure_lease_namespace(&shared.client).await?;
        let results: Vec<Result<()>> = futures::stream::iter(names.iter().cloned())
            .map(|name| {
                let shared = shared.clone();
                async move { register_node(&shared, &name).await }
            })
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
        for r in results {
            r?;
        }

        let (shutdown, shutdown_rx) = watch::channel(false);
        let (resumed, resumed_rx) = mpsc::unbounded_channel();
        let tasks = vec![
            tokio::spawn(heartbeat_loop(
                shared.clone(),
                resumed_rx,
                shutdown_rx.clone(),
            )),
            tokio::spawn(pod_loop(shared.clone(), shutdown_rx)),
        ];
        Ok(HollowNodes {
            shared,
            resumed,
            shutdown,
            tasks,
        })
    }

    /// The node names, in the order given to [`HollowNodes::start`].
    pub fn names(&self) -> Vec<String> {
        let mut v: Vec<(usize, String)> = self
            .shared
            .index
            .iter()
            .map(|(n, i)| (*i, n.clone()))
            .collect();
        v.sort();
        v.into_iter().map(|(_, n)| n).collect()
    }

    /// Stops renewing `name`'s Lease and status and stops acting on its pods, as if its
    /// kubelet died.
    pub fn stop_node(&self, name: &str) {
        self.shared
            .stopped
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(name.to_string());
    }

    /// Brings a stopped node back: its Lease and Ready status are renewed at once and its
    /// pending pods are processed.
    pub fn resume_node(&self, name: &str) {
        let was_stopped = self
            .shared
            .stopped
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(name);
        if was_stopped {
            let _ = self.resumed.send(name.to_string());
        }
    }

    /// Stops every loop (the Node objects stay).
    pub async fn shutdown(self) {
        self.shared
            .closed
            .store(true, std::sync::atomic::Ordering::SeqCst);
        let _ = self.shutdown.send(true);
        for t in self.tasks {
            let _ = t.await;
        }
    }
}

/// The apiserver creates kube-node-lease at start-up, possibly just after a test
/// begins: create it if it is not there yet.
async fn ensure_lease_namespace(client: &kube::Client) -> Result<()> {
    let api: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(client.clone());
    if api.get_opt("kube-node-lease").await?.is_some() {
        return Ok(());
    }
    let ns = k8s_openapi::api::core::v1::Namespace {
        metadata: ObjectMeta {
            name: Some("kube-node-lease".to_string()),
            ..Default::default()
        },
        ..Default::default()
    };
    match api.create(&PostParams::default(), &ns).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(s)) if s.code == 409 => Ok(()),
        Err(e) => Err(e).context("creating namespace kube-node-lease"),
    }
}

fn node_object(name: &str) -> Node {
    let labels = BTreeMap::from([
        ("kubernetes.io/hostname".to_string(), name.to_string()),
        ("kubernetes.io/os".to_string(), "linux".to_string()),
        ("kubernetes.io/arch".to_string(), "amd64".to_string()),
        ("type".to_string(), "hollow".to_string()),
    ]);
    Node {
        metadata: ObjectMeta {
            name: Some(name.to_string()),
            labels: Some(labels),
            annotations: Some(BTreeMap::from([(
                "node.alpha.kubernetes.io/ttl".to_string(),
                "0".to_string(),
            )])),
            ..Default::default()
        },
        ..Default::default()
    }
}

fn node_status(shared: &Shared, name: &str) -> NodeStatus {
    let c = &shared.capacity;
    let resources = BTreeMap::from([
        ("cpu".to_string(), Quantity(c.cpu.clone())),
        ("memory".to_string(), Quantity(c.memory.clone())),
        ("pods".to_string(), Quantity(c.pods.to_string())),
        (
            "ephemeral-storage".to_string(),
            Quantity("100Gi".to_string()),
        ),
    ]);
    let now = Time(jiff::Timestamp::now());
    let cond = |type_: &str, status: &str, reason: &str, message: &str| NodeCondition {
        type_: type_.to_string(),
        status: status.to_string(),
        reason: Some(reason.to_string()),
        message: Some(message.to_string()),
        last_heartbeat_time: Some(now.clone()),
        last_transition_time: Some(now.clone()),
    };
    NodeStatus {
        capacity: Some(resources.clone()),
        allocatable: Some(resources),
        conditions: Some(vec![
            cond(
                "MemoryPressure",
                "False",
                "KubeletHasSufficientMemory",
                "kubelet has sufficient memory available",
            ),
            cond(
                "DiskPressure",
                "False",
                "KubeletHasNoDiskPressure",
                "kubelet has no disk pressure",
            ),
            cond(
                "PIDPressure",
                "False",
                "KubeletHasSufficientPID",
                "kubelet has sufficient PID available",
            ),
            cond(
                "Ready",
                "True",
                "KubeletReady",
                "kubelet is posting ready status",
            ),
        ]),
        addresses: Some(vec![
            NodeAddress {
                type_: "InternalIP".to_string(),
                address: shared.host_ip(name),
            },
            NodeAddress {
                type_: "Hostname".to_string(),
                address: name.to_string(),
            },
        ]),
        node_info: Some(NodeSystemInfo {
            architecture: "amd64".to_string(),
            operating_system: "linux".to_string(),
            kubelet_version: "v1.33.0-hollow".to_string(),
            kube_proxy_version: "v1.33.0-hollow".to_string(),
            container_runtime_version: "hollow://1.0".to_string(),
            os_image: "Hollow Node".to_string(),
            kernel_version: "6.18.0".to_string(),
            boot_id: name.to_string(),
            machine_id: name.to_string(),
            system_uuid: name.to_string(),
            ..Default::default()
        }),
        ..Default::default()
    }
}

async fn register_node(shared: &Shared, name: &str) -> Result<()> {
    let nodes: Api<Node> = Api::all(shared.client.clone());
    match nodes
        .create(&PostParams::default(), &node_object(name))
        .await
    {
        Ok(_) => {}
        Err(kube::Error::Api(s)) if s.code == 409 => {}
        Err(e) => return Err(e).with_context(|| format!("creating hollow node {name}")),
    }
    post_status(shared, name)
        .await
        .with_context(|| format!("posting the status of hollow node {name}"))?;
    renew_lease(shared, name)
        .await
        .with_context(|| format!("creating the lease of hollow node {name}"))
}

async fn post_status(shared: &Shared, name: &str) -> Result<()> {
    let nodes: Api<Node> = Api::all(shared.client.clone());
    let patch = Node {
        status: Some(node_status(shared, name)),
        ..Default::default()
    };
    nodes
        .patch_status(name, &PatchParams::default(), &Patch::Merge(&patch))
        .await?;
    Ok(())
}

async fn renew_lease(shared: &Shared, name: &str) -> Result<()> {
    let leases: Api<Lease> = Api::namespaced(shared.client.clone(), "kube-node-lease");
    let now = MicroTime(jiff::Timestamp::now());
    let patch = Lease {
        metadata: ObjectMeta::default(),
        spec: Some(LeaseSpec {
            holder_identity: Some(name.to_string()),
            lease_duration_seconds: Some(40),
            renew_time: Some(now.clone()),
            ..Default::default()
        }),
    };
    match leases
        .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
    {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(s)) if s.code == 404 => {
            let mut lease = patch;
            lease.metadata = ObjectMeta {
                name: Some(name.to_string()),
                namespace: Some("kube-node-lease".to_string()),
                ..Default::default()
            };
            match leases.create(&PostParams::default(), &lease).await {
                Ok(_) => Ok(()),
                Err(kube::Error::Api(s)) if s.code == 409 => Ok(()),
                Err(e) => Err(e.into()),
            }
        }
        Err(e) => Err(e.into()),
    }
}

/// Renews live nodes' leases every 10 s and their status every minute, in batches of
/// bounded concurrency; a resumed node is renewed at once.
async fn heartbeat_loop(
    shared: Arc<Shared>,
    mut resumed: mpsc::UnboundedReceiver<String>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut lease_tick = tokio::time::interval(LEASE_RENEW_INTERVAL);
    let mut status_tick = tokio::time::interval(STATUS_INTERVAL);
    lease_tick.tick().await;
    status_tick.tick().await;
    loop {
        tokio::select! {
            _ = shutdown.changed() => return,
            _ = lease_tick.tick() => {
                let names = shared.live_nodes();
                for_each_node(&shared, names, |s, n| async move {
                    if let Err(e) = renew_lease(&s, &n).await {
                        eprintln!("hollow node {n}: renewing lease: {e:#}");
                    }
                })
                .await;
            }
            _ = status_tick.tick() => {
                let names = shared.live_nodes();
                for_each_node(&shared, names, |s, n| async move {
                    if let Err(e) = post_status(&s, &n).await {
                        eprintln!("hollow node {n}: posting status: {e:#}");
                    }
                })
                .await;
            }
            Some(name) = resumed.recv() => {
                if let Err(e) = renew_lease(&shared, &name).await {
                    eprintln!("hollow node {name}: renewing lease: {e:#}");
                }
                if let Err(e) = post_status(&shared, &name).await {
                    eprintln!("hollow node {name}: posting status: {e:#}");
                }
                if let Err(e) = resync_node_pods(&shared, &name).await {
                    eprintln!("hollow node {name}: resyncing pods: {e:#}");
                }
            }
        }
    }
}

async fn for_each_node<F, Fut>(shared: &Arc<Shared>, names: Vec<String>, f: F)
where
    F: Fn(Arc<Shared>, String) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    futures::stream::iter(names)
        .map(|n| f(shared.clone(), n))
        .buffer_unordered(CONCURRENCY)
        .collect::<Vec<()>>()
        .await;
}

async fn resync_node_pods(shared: &Arc<Shared>, node: &str) -> Result<()> {
    let pods: Api<Pod> = Api::all(shared.client.clone());
    let list = pods.list(&ListParams::default()).await?;
    for pod in list.items {
        if pod.spec.as_ref().and_then(|s| s.node_name.as_deref()) == Some(node) {
            handle_pod(shared, pod).await;
        }
    }
    Ok(())
}

/// One watch on every pod; pods on live hollow nodes are acted on concurrently.
async fn pod_loop(shared: Arc<Shared>, mut shutdown: watch::Receiver<bool>) {
    let pods: Api<Pod> = Api::all(shared.client.clone());
    let stream = watcher(pods, watcher::Config::default());
    futures::pin_mut!(stream);
    loop {
        let event = tokio::select! {
            _ = shutdown.changed() => return,
            e = stream.try_next() => e,
        };
        let pod = match event {
            Ok(Some(watcher::Event::Apply(p))) | Ok(Some(watcher::Event::InitApply(p))) => p,
            Ok(Some(_)) => continue,
            Ok(None) => return,
            Err(e) => {
                eprintln!("hollow nodes: pod watch: {e}");
                continue;
            }
        };
        let Some(node) = pod.spec.as_ref().and_then(|s| s.node_name.clone()) else {
            continue;
        };
        if !shared.is_live(&node) || !needs_action(&pod) {
            continue;
        }
        let shared = shared.clone();
        tokio::spawn(async move {
            handle_pod(&shared, pod).await;
        });
    }
}

/// Pure: whether a kubelet would still do something for this pod.
pub fn needs_action(pod: &Pod) -> bool {
    if pod.metadata.deletion_timestamp.is_some() {
        return true;
    }
    let status = pod.status.as_ref();
    let phase = status.and_then(|s| s.phase.as_deref());
    if matches!(phase, Some("Succeeded") | Some("Failed")) {
        return false;
    }
    let ready = status
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"));
    phase != Some("Running") || !ready || status.and_then(|s| s.pod_ip.as_ref()).is_none()
}

async fn handle_pod(shared: &Arc<Shared>, pod: Pod) {
    let Ok(_permit) = shared.limit.acquire().await else {
        return;
    };
    let (Some(name), Some(ns)) = (pod.metadata.name.clone(), pod.metadata.namespace.clone()) else {
        return;
    };
    let Some(node) = pod.spec.as_ref().and_then(|s| s.node_name.clone()) else {
        return;
    };
    if !shared.is_live(&node) || !needs_action(&pod) {
        return;
    }
    let api: Api<Pod> = Api::namespaced(shared.client.clone(), &ns);
    if pod.metadata.deletion_timestamp.is_some() {
        let mut dp = DeleteParams {
            grace_period_seconds: Some(0),
            ..Default::default()
        };
        if let Some(uid) = pod.metadata.uid.clone() {
            dp.preconditions = Some(kube::api::Preconditions {
                uid: Some(uid),
                resource_version: None,
            });
        }
        match api.delete(&name, &dp).await {
            Ok(_) => {}
            Err(kube::Error::Api(s)) if s.code == 404 || s.code == 409 => {}
            Err(e) => eprintln!("hollow node {node}: deleting pod {ns}/{name}: {e}"),
        }
        return;
    }
    let pod_ip = pod
        .status
        .as_ref()
        .and_then(|s| s.pod_ip.clone())
        .unwrap_or_else(|| shared.next_pod_ip(&node));
    let status = running_status(&pod, &pod_ip, &shared.host_ip(&node));
    let patch = Pod {
        status: Some(status),
        ..Default::default()
    };
    match api
        .patch_status(&name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
    {
        Ok(_) => {}
        Err(kube::Error::Api(s)) if s.code == 404 => {}
        Err(e) if !shared.closed.load(std::sync::atomic::Ordering::SeqCst) => {
            eprintln!("hollow node {node}: updating pod {ns}/{name}: {e}")
        }
        Err(_) => {}
    }
}

/// Pure: the status a kubelet reports for a started pod.
pub fn running_status(pod: &Pod, pod_ip: &str, host_ip: &str) -> PodStatus {
    let now = Time(jiff::Timestamp::now());
    let cond = |t: &str| PodCondition {
        type_: t.to_string(),
        status: "True".to_string(),
        last_transition_time: Some(now.clone()),
        ..Default::default()
    };
    let containers = pod
        .spec
        .as_ref()
        .map(|s| s.containers.as_slice())
        .unwrap_or_default();
    let container_statuses = containers
        .iter()
        .map(|c| ContainerStatus {
            name: c.name.clone(),
            image: c.image.clone().unwrap_or_default(),
            image_id: format!("hollow://{}", c.image.clone().unwrap_or_default()),
            container_id: Some(format!("hollow://{}", c.name)),
            ready: true,
            started: Some(true),
            restart_count: 0,
            state: Some(ContainerState {
                running: Some(ContainerStateRunning {
                    started_at: Some(now.clone()),
                }),
                ..Default::default()
            }),
            ..Default::default()
        })
        .collect();
    PodStatus {
        phase: Some("Running".to_string()),
        conditions: Some(vec![
            cond("PodReadyToStartContainers"),
            cond("Initialized"),
            cond("Ready"),
            cond("ContainersReady"),
            cond("PodScheduled"),
        ]),
        host_ip: Some(host_ip.to_string()),
        host_ips: Some(vec![k8s_openapi::api::core::v1::HostIP {
            ip: host_ip.to_string(),
        }]),
        pod_ip: Some(pod_ip.to_string()),
        pod_ips: Some(vec![PodIP {
            ip: pod_ip.to_string(),
        }]),
        start_time: pod
            .status
            .as_ref()
            .and_then(|s| s.start_time.clone())
            .or(Some(now.clone())),
        container_statuses: Some(container_statuses),
        qos_class: Some("BestEffort".to_string()),
        ..Default::default()
    }
}

/// `<bin_dir>/kube-scheduler`, or an error saying how to build it.
pub fn scheduler_binary() -> Result<PathBuf> {
    let path = crate::bin_dir().join("kube-scheduler");
    if !path.is_file() {
        bail!(
            "kube-scheduler binary not found at {}: run `cargo build -p scheduler` first \
             (or set FERROKUBE_BIN_DIR)",
            path.display()
        );
    }
    Ok(path)
}

/// A `kube-scheduler` process started against a test cluster; stopped on drop.
pub struct SchedulerProcess {
    daemon: ferrokube_deploy::process::Daemon,
}

impl SchedulerProcess {
    /// Starts `kube-scheduler --kubeconfig <kubeconfig> --bind-address 127.0.0.1
    /// <extra>` logging to `<dir>/<name>.log`; `--secure-port 0` (no health/metrics
    /// endpoint) unless `extra` names a `--secure-port`.
    pub fn start(name: &str, dir: &Path, kubeconfig: &Path, extra: &[&str]) -> Result<Self> {
        let bin = scheduler_binary()?;
        let mut spec = ferrokube_deploy::process::DaemonSpec::new(
            name,
            &bin,
            dir.join(format!("{name}.log")),
            dir.join(format!("{name}.pid")),
        )
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(["--bind-address", "127.0.0.1"]);
        if !extra.iter().any(|a| a.starts_with("--secure-port")) {
            spec = spec.args(["--secure-port", "0"]);
        }
        let spec = spec.args(extra.iter().copied());
        let daemon = ferrokube_deploy::process::Daemon::spawn(&spec)
            .with_context(|| format!("starting {}", bin.display()))?;
        Ok(SchedulerProcess { daemon })
    }

    pub fn pid(&self) -> u32 {
        self.daemon.pid()
    }

    pub fn is_alive(&mut self) -> bool {
        self.daemon.is_alive()
    }

    pub fn exit_status(&self) -> Option<std::process::ExitStatus> {
        self.daemon.exit_status()
    }

    /// The last `lines` lines of its log.
    pub fn log_tail(&self, lines: usize) -> String {
        self.daemon.log_tail(lines)
    }

    /// SIGTERM, then SIGKILL after 10 s.
    pub fn stop(&mut self) -> Result<()> {
        self.daemon.stop(Duration::from_secs(10))
    }
}

impl Drop for SchedulerProcess {
    fn drop(&mut self) {
        let _ = self.daemon.stop(Duration::from_secs(10));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{Container, PodSpec};

    fn pod(phase: Option<&str>, ready: bool, ip: Option<&str>) -> Pod {
        Pod {
            spec: Some(PodSpec {
                node_name: Some("n".into()),
                containers: vec![Container {
                    name: "c".into(),
                    image: Some("busybox".into()),
                    ..Default::default()
                }],
                ..Default::default()
            }),
            status: Some(PodStatus {
                phase: phase.map(str::to_string),
                pod_ip: ip.map(str::to_string),
                conditions: Some(vec![PodCondition {
                    type_: "Ready".into(),
                    status: if ready { "True" } else { "False" }.into(),
                    ..Default::default()
                }]),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn only_unstarted_or_deleted_pods_need_action() {
        assert!(needs_action(&pod(Some("Pending"), false, None)));
        assert!(!needs_action(&pod(Some("Running"), true, Some("10.0.0.2"))));
        assert!(!needs_action(&pod(Some("Succeeded"), false, None)));
        let mut deleted = pod(Some("Running"), true, Some("10.0.0.2"));
        deleted.metadata.deletion_timestamp = Some(Time(jiff::Timestamp::now()));
        assert!(needs_action(&deleted));
    }

    #[test]
    fn running_status_is_ready_with_ips() {
        let s = running_status(&pod(Some("Pending"), false, None), "10.1.2.3", "172.31.0.2");
        assert_eq!(s.phase.as_deref(), Some("Running"));
        assert_eq!(s.pod_ip.as_deref(), Some("10.1.2.3"));
        assert_eq!(s.host_ip.as_deref(), Some("172.31.0.2"));
        let conds = s.conditions.unwrap_or_default();
        assert!(conds
            .iter()
            .any(|c| c.type_ == "Ready" && c.status == "True"));
        let cs = s.container_statuses.unwrap_or_default();
        assert_eq!(cs.len(), 1);
        assert!(cs[0].ready);
    }
}
