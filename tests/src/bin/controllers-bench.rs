//! `cargo xtask bench controllers`: kube-controller-manager's Deployment and ReplicaSet
//! controllers on hollow nodes through a real etcd + kube-apiserver, with the real
//! kube-scheduler binding the pods. Two phases:
//! 1. a Deployment scaled 0 -> N replicas: time until every pod is bound, Running and
//!    Ready (the Deployment reports N available);
//! 2. a rolling update of it (new image, maxSurge/maxUnavailable 25%): time until the
//!    rollout is complete (N updated, N available, old ReplicaSet at 0).
//!
//! Prints a Markdown table for docs/benchmarks.md.
//! Arguments: `--nodes N` (100), `--replicas N` (3000).

use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use ferrokube_deploy::process::{Daemon, DaemonSpec};
use ferrokube_e2e::hollow::{HollowCapacity, HollowNodes, SchedulerProcess};
use ferrokube_e2e::TestCluster;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Namespace, Pod};
use kube::api::{Api, ListParams, ObjectMeta, Patch, PatchParams, PostParams};
use kube::Client;
use serde_json::json;

struct Args {
    nodes: usize,
    replicas: usize,
}

fn parse_args() -> Result<Args> {
    let mut a = Args {
        nodes: 100,
        replicas: 3000,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().with_context(|| format!("{flag} needs a value"))?;
        let n: usize = value.parse().with_context(|| format!("{flag} {value}"))?;
        match flag.as_str() {
            "--nodes" => a.nodes = n.max(1),
            "--replicas" => a.replicas = n,
            other => bail!("unknown argument {other}; use --nodes N --replicas N"),
        }
    }
    Ok(a)
}

fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

async fn client(c: &TestCluster) -> Result<Client> {
    let kubeconfig = kube::config::Kubeconfig::read_from(c.kubeconfig_path())?;
    let mut config = kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default()).await?;
    config.read_timeout = Some(Duration::from_secs(120));
    Ok(Client::try_from(config)?)
}

fn start_controller_manager(c: &TestCluster) -> Result<Daemon> {
    let bin = ferrokube_e2e::bin_dir().join("kube-controller-manager");
    if !bin.is_file() {
        bail!(
            "kube-controller-manager not found at {}: run `cargo build -p controller-manager`",
            bin.display()
        );
    }
    let spec = DaemonSpec::new(
        "kube-controller-manager",
        &bin,
        c.dir().join("kube-controller-manager.log"),
        c.dir().join("kube-controller-manager.pid"),
    )
    .arg("--kubeconfig")
    .arg(c.kubeconfig_path())
    .args([
        "--secure-port",
        "0",
        "--leader-elect=false",
        "--controllers=deployment-controller,replicaset-controller,garbage-collector-controller",
    ]);
    Daemon::spawn(&spec)
}

/// Waits until `done` holds for the Deployment, printing progress every 5 s.
async fn wait_deployment(
    api: &Api<Deployment>,
    name: &str,
    timeout: Duration,
    done: impl Fn(&Deployment) -> bool,
) -> Result<()> {
    let start = Instant::now();
    let mut last_print = Instant::now();
    loop {
        let d = api.get(name).await?;
        if done(&d) {
            return Ok(());
        }
        if last_print.elapsed() > Duration::from_secs(5) {
            let s = d.status.clone().unwrap_or_default();
            eprintln!(
                "  {:>5.1} s: replicas {} updated {} available {}",
                start.elapsed().as_secs_f64(),
                s.replicas.unwrap_or(0),
                s.updated_replicas.unwrap_or(0),
                s.available_replicas.unwrap_or(0)
            );
            last_print = Instant::now();
        }
        if start.elapsed() > timeout {
            bail!("timed out after {timeout:?} waiting for deployment {name}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn complete(d: &Deployment, n: i32) -> bool {
    let s = d.status.clone().unwrap_or_default();
    s.observed_generation >= d.metadata.generation
        && s.replicas == Some(n)
        && s.updated_replicas == Some(n)
        && s.available_replicas == Some(n)
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = parse_args()?;
    let cluster = TestCluster::start().context("starting etcd + kube-apiserver")?;
    let client = client(&cluster).await?;
    let node_names: Vec<String> = (0..args.nodes).map(|i| format!("hollow-{i:04}")).collect();
    let capacity = HollowCapacity {
        pods: 110,
        ..HollowCapacity::default()
    };
    if args.replicas > args.nodes * 110 {
        bail!(
            "{} replicas do not fit on {} nodes of 110 pods",
            args.replicas,
            args.nodes
        );
    }
    let nodes = HollowNodes::start(client.clone(), &node_names, capacity).await?;
    let _sched = SchedulerProcess::start(
        "kube-scheduler",
        cluster.dir(),
        cluster.kubeconfig_path(),
        &["--leader-elect=false"],
    )?;
    let mut cm = start_controller_manager(&cluster)?;
    let result = async {
        let ns = "bench-controllers";
        let namespaces: Api<Namespace> = Api::all(client.clone());
        namespaces
            .create(
                &PostParams::default(),
                &Namespace {
                    metadata: ObjectMeta {
                        name: Some(ns.into()),
                        ..Default::default()
                    },
                    ..Default::default()
                },
            )
            .await?;
        let deployments: Api<Deployment> = Api::namespaced(client.clone(), ns);
        let d: Deployment = serde_json::from_value(json!({
            "metadata": {"name": "bench"},
            "spec": {
                "replicas": 0,
                "selector": {"matchLabels": {"app": "bench"}},
                "template": {
                    "metadata": {"labels": {"app": "bench"}},
                    "spec": {"containers": [{"name": "c", "image": "busybox:1",
                        "resources": {"requests": {"cpu": "1m", "memory": "1Mi"}}}]}
                }
            }
        }))?;
        deployments.create(&PostParams::default(), &d).await?;
        wait_deployment(&deployments, "bench", Duration::from_secs(60), |d| complete(d, 0)).await?;
        let n = i32::try_from(args.replicas).context("--replicas")?;
        let timeout = Duration::from_secs(600);

        eprintln!("scaling 0 -> {n}");
        let t = Instant::now();
        deployments
            .patch("bench", &PatchParams::default(), &Patch::Merge(json!({"spec": {"replicas": n}})))
            .await?;
        wait_deployment(&deployments, "bench", timeout, |d| complete(d, n)).await?;
        let scale_up = t.elapsed();
        let pods: Api<Pod> = Api::namespaced(client.clone(), ns);
        let running = pods
            .list(&ListParams::default().labels("app=bench"))
            .await?
            .items
            .iter()
            .filter(|p| {
                p.spec.as_ref().and_then(|s| s.node_name.as_ref()).is_some()
                    && p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running")
            })
            .count();
        if running < args.replicas {
            bail!("only {running} of {n} pods bound and Running");
        }
        let rss_after_scale = rss_kib(cm.pid());

        eprintln!("rolling update of {n} pods");
        let t = Instant::now();
        deployments
            .patch(
                "bench",
                &PatchParams::default(),
                &Patch::Merge(json!({"spec": {"template": {"spec": {"containers": [
                    {"name": "c", "image": "busybox:2"}]}}}})),
            )
            .await?;
        wait_deployment(&deployments, "bench", timeout, |d| complete(d, n)).await?;
        let rollout = t.elapsed();
        let rss = rss_kib(cm.pid());

        println!("| phase | replicas | time (s) | pods/s |");
        println!("| --- | --- | --- | --- |");
        println!(
            "| scale 0 -> {n}, all bound + Running | {n} | {:.1} | {:.0} |",
            scale_up.as_secs_f64(),
            f64::from(n) / scale_up.as_secs_f64()
        );
        println!(
            "| rolling update (25% surge / unavailable) | {n} | {:.1} | {:.0} |",
            rollout.as_secs_f64(),
            f64::from(n) / rollout.as_secs_f64()
        );
        println!(
            "\nkube-controller-manager RSS: {} MiB after the scale-up, {} MiB after the rollout; {} hollow nodes.",
            rss_after_scale.map(|k| k / 1024).unwrap_or(0),
            rss.map(|k| k / 1024).unwrap_or(0),
            args.nodes
        );
        Ok::<_, anyhow::Error>(())
    }
    .await;
    if result.is_err() {
        eprintln!("--- kube-controller-manager log ---\n{}", cm.log_tail(40));
    }
    let _ = cm.stop(Duration::from_secs(10));
    nodes.shutdown().await;
    result
}
