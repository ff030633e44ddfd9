//! kube-scheduler end to end: a real etcd + our apiserver, hollow nodes, and the real
//! `kube-scheduler` binary (`cargo build -p scheduler`).

use std::collections::BTreeSet;
use std::time::Duration;

use anyhow::{bail, ensure, Context, Result};
use ferrokube_e2e::hollow::{HollowCapacity, HollowNodes, SchedulerProcess};
use ferrokube_e2e::TestCluster;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{Event, Namespace, Node, Pod};
use k8s_openapi::api::scheduling::v1::PriorityClass;
use kube::api::{Api, ListParams, ObjectMeta, PostParams};
use kube::Client;
use serde_json::json;

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

/// Polls an async condition every 200 ms until it yields Some or `timeout` passes.
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
            anyhow::bail!("timed out after {timeout:?} waiting for {what} (last: {last})");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn names(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}-{i}")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hollow_nodes_are_ready_renew_leases_and_run_bound_pods() -> Result<()> {
    let c = TestCluster::shared()?;
    let client = c.client().await?;
    namespace(&client, "hollow").await?;
    let nodes = HollowNodes::start(
        client.clone(),
        &names("hollow", 3),
        HollowCapacity::default(),
    )
    .await?;
    let api: Api<Node> = Api::all(client.clone());
    let node = api.get("hollow-1").await?;
    let status = node.status.context("node status")?;
    let alloc = status.allocatable.context("allocatable")?;
    ensure!(
        alloc.get("cpu").map(|q| q.0.as_str()) == Some("4"),
        "{alloc:?}"
    );
    ensure!(
        alloc.get("pods").map(|q| q.0.as_str()) == Some("110"),
        "{alloc:?}"
    );
    ensure!(
        status
            .conditions
            .unwrap_or_default()
            .iter()
            .any(|c| c.type_ == "Ready" && c.status == "True"),
        "node must be Ready"
    );
    let labels = node.metadata.labels.unwrap_or_default();
    ensure!(labels.get("kubernetes.io/hostname").map(String::as_str) == Some("hollow-1"));
    let leases: Api<Lease> = Api::namespaced(client.clone(), "kube-node-lease");
    let lease = leases.get("hollow-1").await?;
    ensure!(lease.spec.and_then(|s| s.renew_time).is_some());

    // A pod bound directly to a hollow node turns Running with an IP.
    let pods: Api<Pod> = Api::namespaced(client.clone(), "hollow");
    let pod: Pod = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "direct"},
        "spec": {"nodeName": "hollow-2", "containers": [{"name": "c", "image": "busybox"}]}
    }))?;
    pods.create(&PostParams::default(), &pod).await?;
    let ip = eventually("pod Running", Duration::from_secs(60), || async {
        let p = pods.get("direct").await?;
        let s = p.status.unwrap_or_default();
        Ok((s.phase.as_deref() == Some("Running"))
            .then_some(s.pod_ip)
            .flatten())
    })
    .await?;
    ensure!(ip.starts_with("10."), "{ip}");

    // Graceful deletion is finished by the hollow kubelet.
    pods.delete("direct", &Default::default()).await?;
    eventually("pod gone", Duration::from_secs(60), || async {
        Ok(pods.get_opt("direct").await?.is_none().then_some(()))
    })
    .await?;

    // A stopped node stops renewing its lease.
    nodes.stop_node("hollow-0");
    let before = leases
        .get("hollow-0")
        .await?
        .spec
        .and_then(|s| s.renew_time);
    let other_before = leases
        .get("hollow-1")
        .await?
        .spec
        .and_then(|s| s.renew_time);
    tokio::time::sleep(Duration::from_secs(12)).await;
    let after = leases
        .get("hollow-0")
        .await?
        .spec
        .and_then(|s| s.renew_time);
    let other_after = leases
        .get("hollow-1")
        .await?
        .spec
        .and_then(|s| s.renew_time);
    ensure!(
        before == after,
        "a stopped node's lease must not be renewed"
    );
    ensure!(other_before != other_after, "live nodes renew their lease");
    nodes.resume_node("hollow-0");
    eventually(
        "lease renewed after resume",
        Duration::from_secs(30),
        || async {
            let now = leases
                .get("hollow-0")
                .await?
                .spec
                .and_then(|s| s.renew_time);
            Ok((now != after).then_some(()))
        },
    )
    .await?;
    nodes.shutdown().await;
    Ok(())
}

async fn create_pod(client: &Client, ns: &str, pod: serde_json::Value) -> Result<()> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), ns);
    let pod: Pod = serde_json::from_value(pod)?;
    pods.create(&PostParams::default(), &pod).await?;
    Ok(())
}

fn small_pod(name: &str, cpu: &str) -> serde_json::Value {
    json!({
        "metadata": {"name": name, "labels": {"app": "e2e"}},
        "spec": {"containers": [{"name": "c", "image": "busybox",
            "resources": {"requests": {"cpu": cpu, "memory": "64Mi"}}}]}
    })
}

/// Waits until the pod is bound and Running; returns its node.
async fn wait_running(client: &Client, ns: &str, name: &str) -> Result<String> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), ns);
    eventually(
        &format!("pod {ns}/{name} Running"),
        Duration::from_secs(90),
        || async {
            let p = pods.get(name).await?;
            let node = p.spec.and_then(|s| s.node_name);
            let phase = p.status.and_then(|s| s.phase);
            Ok(node.filter(|_| phase.as_deref() == Some("Running")))
        },
    )
    .await
}

/// Waits for a FailedScheduling event on the pod whose message satisfies `want`.
async fn wait_failed_scheduling(
    client: &Client,
    ns: &str,
    pod: &str,
    want: impl Fn(&str) -> bool,
) -> Result<String> {
    let events: Api<Event> = Api::namespaced(client.clone(), ns);
    eventually(
        &format!("FailedScheduling for {pod}"),
        Duration::from_secs(60),
        || {
            let events = events.clone();
            let want = &want;
            async move {
                let list = events.list(&ListParams::default()).await?;
                let mut last = None;
                for e in list.items.into_iter().rev() {
                    if e.involved_object.name.as_deref() == Some(pod)
                        && e.reason.as_deref() == Some("FailedScheduling")
                    {
                        let msg = e.message.unwrap_or_default();
                        if want(&msg) {
                            return Ok(Some(msg));
                        }
                        last = Some(msg);
                    }
                }
                match last {
                    Some(m) => bail!("last FailedScheduling message: {m:?}"),
                    None => Ok(None),
                }
            }
        },
    )
    .await
}

fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// A plain HTTP/1.0 GET on loopback; returns the whole response.
fn http_get(port: u16, path: &str) -> Result<String> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")?;
    let mut out = String::new();
    s.read_to_string(&mut out)?;
    Ok(out)
}

fn scheduler(c: &TestCluster, name: &str, extra: &[&str]) -> Result<SchedulerProcess> {
    SchedulerProcess::start(name, c.dir(), c.kubeconfig_path(), extra)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schedules_spreads_explains_taints_affinity_and_preempts() -> Result<()> {
    let c = TestCluster::start()?;
    let client = c.client().await?;
    let ns = "sched";
    namespace(&client, ns).await?;
    let nodes =
        HollowNodes::start(client.clone(), &names("node", 3), HollowCapacity::default()).await?;
    let mut sched = scheduler(&c, "kube-scheduler", &["--leader-elect=false", "--v=2"])?;
    let result = async {
        // Plain pods spread over the three nodes (LeastAllocated).
        for i in 0..6 {
            create_pod(&client, ns, small_pod(&format!("spread-{i}"), "100m")).await?;
        }
        let mut used = BTreeSet::new();
        for i in 0..6 {
            used.insert(wait_running(&client, ns, &format!("spread-{i}")).await?);
        }
        ensure!(used.len() == 3, "pods must spread over all 3 nodes, used {used:?}");

        // Too big for any node: the upstream message and PodScheduled=False.
        create_pod(&client, ns, small_pod("huge", "100")).await?;
        let msg = wait_failed_scheduling(&client, ns, "huge", |m| m.contains("Insufficient cpu")).await?;
        ensure!(
            msg == "0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.",
            "{msg}"
        );
        let pods: Api<Pod> = Api::namespaced(client.clone(), ns);
        let cond = eventually("PodScheduled=False", Duration::from_secs(30), || async {
            let p = pods.get("huge").await?;
            Ok(p.status
                .and_then(|s| s.conditions)
                .unwrap_or_default()
                .into_iter()
                .find(|c| c.type_ == "PodScheduled" && c.status == "False"))
        })
        .await?;
        ensure!(cond.reason.as_deref() == Some("Unschedulable"), "{cond:?}");

        // Taint two nodes: the next attempt names the taint.
        for n in ["node-1", "node-2"] {
            c.kubectl(&["taint", "nodes", n, "dedicated=gpu:NoSchedule"])?.ok()?;
        }
        let msg = wait_failed_scheduling(&client, ns, "huge", |m| m.contains("2 node(s) had untolerated taint")).await?;
        ensure!(
            msg == "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had untolerated taint {dedicated: gpu}. preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling.",
            "{msg}"
        );
        // Untolerating pods land on the untainted node; tolerating ones may go anywhere.
        for i in 0..3 {
            create_pod(&client, ns, small_pod(&format!("plain-{i}"), "10m")).await?;
        }
        for i in 0..3 {
            let node = wait_running(&client, ns, &format!("plain-{i}")).await?;
            ensure!(node == "node-0", "plain-{i} went to tainted {node}");
        }
        create_pod(&client, ns, json!({
            "metadata": {"name": "tolerating"},
            "spec": {
                "nodeSelector": {"kubernetes.io/hostname": "node-2"},
                "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"}],
                "containers": [{"name": "c", "image": "busybox"}]}
        })).await?;
        ensure!(wait_running(&client, ns, "tolerating").await? == "node-2");

        // Node affinity: required hostname In [node-1] (with toleration); and an
        // affinity no node satisfies.
        create_pod(&client, ns, json!({
            "metadata": {"name": "affine"},
            "spec": {
                "tolerations": [{"key": "dedicated", "operator": "Exists"}],
                "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [{"matchExpressions": [
                        {"key": "kubernetes.io/hostname", "operator": "In", "values": ["node-1"]}]}]}}},
                "containers": [{"name": "c", "image": "busybox"}]}
        })).await?;
        ensure!(wait_running(&client, ns, "affine").await? == "node-1");
        create_pod(&client, ns, json!({
            "metadata": {"name": "nowhere"},
            "spec": {
                "nodeSelector": {"disk": "nvme"},
                "containers": [{"name": "c", "image": "busybox"}]}
        })).await?;
        wait_failed_scheduling(&client, ns, "nowhere", |m| {
            m.starts_with("0/3 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 2 node(s) had untolerated taint {dedicated: gpu}.")
        })
        .await?;

        // A PriorityClass that does not exist: refused with upstream's message (the
        // apiserver's Priority admission), other pods keep flowing.
        let refused = create_pod(&client, ns, json!({
            "metadata": {"name": "classless"},
            "spec": {"priorityClassName": "no-such-class",
                "containers": [{"name": "c", "image": "busybox"}]}
        }))
        .await
        .err()
        .context("a pod with an unknown PriorityClass must be refused")?;
        ensure!(
            format!("{refused:#}").contains("no PriorityClass with name no-such-class was found"),
            "{refused:#}"
        );

        // Preemption: a high-priority pod evicts a low-priority one on node-0.
        let classes: Api<PriorityClass> = Api::all(client.clone());
        for (name, value) in [("e2e-low", 10), ("e2e-high", 1000)] {
            let pc: PriorityClass = serde_json::from_value(json!({
                "metadata": {"name": name}, "value": value}))?;
            classes.create(&PostParams::default(), &pc).await?;
        }
        let pinned = |name: &str, class: &str| json!({
            "metadata": {"name": name},
            "spec": {"priorityClassName": class,
                "nodeSelector": {"kubernetes.io/hostname": "node-0"},
                "containers": [{"name": "c", "image": "busybox",
                    "resources": {"requests": {"cpu": "3"}}}]}
        });
        create_pod(&client, ns, pinned("victim", "e2e-low")).await?;
        ensure!(wait_running(&client, ns, "victim").await? == "node-0");
        create_pod(&client, ns, pinned("preemptor", "e2e-high")).await?;
        eventually("victim deleted", Duration::from_secs(60), || async {
            Ok(pods.get_opt("victim").await?.is_none().then_some(()))
        })
        .await?;
        ensure!(wait_running(&client, ns, "preemptor").await? == "node-0");
        let p = pods.get("preemptor").await?;
        ensure!(
            p.status.and_then(|s| s.nominated_node_name).as_deref() == Some("node-0"),
            "nominatedNodeName must be set"
        );

        // Metrics under upstream names.
        ensure!(sched.is_alive(), "the scheduler must still run");
        Ok::<(), anyhow::Error>(())
    }
    .await;
    if result.is_err() {
        eprintln!("kube-scheduler log:\n{}", sched.log_tail(80));
    }
    nodes.shutdown().await;
    result
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_schedulers_only_the_leader_binds() -> Result<()> {
    let c = TestCluster::start()?;
    let client = c.client().await?;
    let ns = "ha";
    namespace(&client, ns).await?;
    let nodes =
        HollowNodes::start(client.clone(), &names("ha", 2), HollowCapacity::default()).await?;
    let le = [
        "--leader-elect=true",
        "--leader-elect-lease-duration=4s",
        "--leader-elect-renew-deadline=3s",
        "--leader-elect-retry-period=1s",
    ];
    let port = free_port()?;
    let port_flag = format!("--secure-port={port}");
    let mut a_flags = le.to_vec();
    a_flags.push(&port_flag);
    let mut a = scheduler(&c, "sched-a", &a_flags)?;
    // Its own port too, so a cluster of `cargo xtask up` (10259) does not collide.
    let port_b = format!("--secure-port={}", free_port()?);
    let mut b_flags = le.to_vec();
    b_flags.push(&port_b);
    let mut b = scheduler(&c, "sched-b", &b_flags)?;
    let result = async {
        for i in 0..4 {
            create_pod(&client, ns, small_pod(&format!("p-{i}"), "100m")).await?;
        }
        for i in 0..4 {
            wait_running(&client, ns, &format!("p-{i}")).await?;
        }
        // Both copies answer /healthz; /metrics carries the scheduler_* families.
        let health = tokio::task::block_in_place(|| http_get(port, "/healthz"))?;
        ensure!(
            health.starts_with("HTTP/1.0 200") || health.starts_with("HTTP/1.1 200"),
            "{health}"
        );
        ensure!(health.ends_with("ok"), "{health}");
        let metrics = tokio::task::block_in_place(|| http_get(port, "/metrics"))?;
        ensure!(metrics.contains("scheduler_pending_pods"), "{metrics}");
        let leases: Api<Lease> = Api::namespaced(client.clone(), "kube-system");
        let holder = leases
            .get("kube-scheduler")
            .await?
            .spec
            .and_then(|s| s.holder_identity)
            .context("lease holder")?;
        // Every Scheduled event comes from the one leader.
        let events: Api<Event> = Api::namespaced(client.clone(), ns);
        let reporters: BTreeSet<String> = events
            .list(&ListParams::default())
            .await?
            .items
            .into_iter()
            .filter(|e| e.reason.as_deref() == Some("Scheduled"))
            .filter_map(|e| e.reporting_instance)
            .collect();
        ensure!(
            reporters.len() == 1,
            "one binder expected, saw {reporters:?}"
        );
        ensure!(
            reporters.contains(&holder),
            "{reporters:?} vs holder {holder}"
        );
        let leader_log =
            |p: &SchedulerProcess| p.log_tail(400).contains("caches synced; scheduling");
        let a_leads = leader_log(&a);
        let b_leads = leader_log(&b);
        ensure!(
            a_leads != b_leads,
            "exactly one copy must be scheduling (a: {a_leads}, b: {b_leads})"
        );

        // Stop the leader: the other takes over and binds new pods.
        if a_leads {
            a.stop()?
        } else {
            b.stop()?
        }
        create_pod(&client, ns, small_pod("after-failover", "100m")).await?;
        wait_running(&client, ns, "after-failover").await?;
        let new_holder = leases
            .get("kube-scheduler")
            .await?
            .spec
            .and_then(|s| s.holder_identity)
            .context("lease holder")?;
        ensure!(new_holder != holder, "the standby must hold the lease now");
        Ok::<(), anyhow::Error>(())
    }
    .await;
    if result.is_err() {
        eprintln!("sched-a:\n{}\nsched-b:\n{}", a.log_tail(60), b.log_tail(60));
    }
    nodes.shutdown().await;
    result
}

#[test]
fn malformed_config_exits_with_the_error() -> Result<()> {
    let bin = ferrokube_e2e::hollow::scheduler_binary()?;
    let dir = tempfile::tempdir()?;
    let cases = [
        (
            "profiles:\n- schedulerName: x\n  plugins:\n    score:\n      enabled:\n      - name: NodeResourcesFitt\n",
            "profiles[0].plugins.score.enabled[0].name: Invalid value: \"NodeResourcesFitt\"",
        ),
        ("apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\nprofilez: []\n", "profilez"),
        ("profiles: [unclosed\n", "decoding scheduler config file"),
    ];
    for (i, (text, want)) in cases.iter().enumerate() {
        let path = dir.path().join(format!("bad-{i}.yaml"));
        std::fs::write(&path, text)?;
        let mut cmd = std::process::Command::new(&bin);
        cmd.arg("--config").arg(&path).arg("--secure-port=0");
        let out = ferrokube_e2e::run_with_timeout(cmd, None, Duration::from_secs(30))?;
        if out.status.success() {
            bail!("kube-scheduler accepted {text:?}");
        }
        ensure!(
            out.status.code() == Some(2),
            "exit code {:?}",
            out.status.code()
        );
        ensure!(
            out.stderr.contains(want),
            "stderr for {text:?} lacks {want:?}: {}",
            out.stderr
        );
    }
    Ok(())
}
