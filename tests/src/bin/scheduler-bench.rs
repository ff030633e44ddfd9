//! `cargo xtask bench scheduler`: kube-scheduler throughput and per-pod latency
//! (creation -> bound) on hollow nodes, through a real etcd + kube-apiserver. Two
//! rounds: plain pods, then pods with PodTopologySpread + InterPodAffinity. Prints a
//! Markdown table for docs/benchmarks.md.
//!
//! Arguments: `--nodes N` (1000), `--pods N` (10000 per round), `--clients N` (32).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use ferrokube_e2e::hollow::{HollowCapacity, HollowNodes, SchedulerProcess};
use ferrokube_e2e::TestCluster;
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::{Namespace, Pod};
use kube::api::{Api, ObjectMeta, PostParams};
use kube::runtime::watcher;
use kube::Client;
use serde_json::json;
use tokio::sync::Mutex;

struct Args {
    nodes: usize,
    pods: usize,
    clients: usize,
}

fn parse_args() -> Result<Args> {
    let mut a = Args {
        nodes: 1000,
        pods: 10_000,
        clients: 32,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().with_context(|| format!("{flag} needs a value"))?;
        let n: usize = value.parse().with_context(|| format!("{flag} {value}"))?;
        match flag.as_str() {
            "--nodes" => a.nodes = n,
            "--pods" => a.pods = n,
            "--clients" => a.clients = n.max(1),
            other => bail!("unknown argument {other}; use --nodes N --pods N --clients N"),
        }
    }
    Ok(a)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
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

fn pod(name: &str, spread: bool) -> Result<Pod> {
    let mut v = json!({
        "metadata": {"name": name, "labels": {"app": if spread { "spread" } else { "plain" }}},
        "spec": {"containers": [{"name": "c", "image": "busybox",
            "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}}}]}
    });
    if spread {
        v["spec"]["topologySpreadConstraints"] = json!([{
            "maxSkew": 1, "topologyKey": "kubernetes.io/hostname",
            "whenUnsatisfiable": "DoNotSchedule",
            "labelSelector": {"matchLabels": {"app": "spread"}}}]);
        v["spec"]["affinity"] = json!({"podAntiAffinity": {
            "preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 100,
                "podAffinityTerm": {"topologyKey": "kubernetes.io/hostname",
                    "labelSelector": {"matchLabels": {"app": "spread"}}}}]}});
    }
    Ok(serde_json::from_value(v)?)
}

struct Round {
    name: &'static str,
    pods: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
}

/// Creates `n` pods in `ns` with `clients` concurrent creators and waits until every
/// one is bound; latency per pod is from just before its create request to the watch
/// event showing spec.nodeName.
async fn round(
    client: &Client,
    ns: &str,
    n: usize,
    clients: usize,
    spread: bool,
    name: &'static str,
) -> Result<Round> {
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let nsobj = Namespace {
        metadata: ObjectMeta {
            name: Some(ns.to_string()),
            ..Default::default()
        },
        ..Default::default()
    };
    namespaces.create(&PostParams::default(), &nsobj).await?;
    let created: Arc<Mutex<HashMap<String, Instant>>> = Arc::new(Mutex::new(HashMap::new()));
    let pods: Api<Pod> = Api::namespaced(client.clone(), ns);

    // Watch for bindings first.
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(String, Instant)>();
    let watch = {
        let pods = pods.clone();
        tokio::spawn(async move {
            let stream = watcher(pods, watcher::Config::default());
            futures::pin_mut!(stream);
            while let Ok(Some(ev)) = stream.try_next().await {
                if let watcher::Event::Apply(p) | watcher::Event::InitApply(p) = ev {
                    if p.spec.as_ref().and_then(|s| s.node_name.as_ref()).is_some() {
                        let _ = tx.send((p.metadata.name.unwrap_or_default(), Instant::now()));
                    }
                }
            }
        })
    };
    tokio::time::sleep(Duration::from_millis(500)).await;

    let start = Instant::now();
    let names: Vec<String> = (0..n).map(|i| format!("{name}-{i}")).collect();
    let errors: Vec<anyhow::Error> = futures::stream::iter(names.clone())
        .map(|pname| {
            let pods = pods.clone();
            let created = created.clone();
            async move {
                let p = pod(&pname, spread)?;
                created.lock().await.insert(pname.clone(), Instant::now());
                pods.create(&PostParams::default(), &p)
                    .await
                    .with_context(|| format!("creating {pname}"))?;
                Ok::<(), anyhow::Error>(())
            }
        })
        .buffer_unordered(clients)
        .filter_map(|r| async move { r.err() })
        .collect()
        .await;
    if let Some(e) = errors.into_iter().next() {
        return Err(e);
    }
    eprintln!(
        "{name}: {n} pods created in {:.1} s",
        start.elapsed().as_secs_f64()
    );

    let mut bound: HashMap<String, Instant> = HashMap::new();
    let deadline = Instant::now() + Duration::from_secs(1800);
    while bound.len() < n {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left.min(Duration::from_secs(60)), rx.recv()).await {
            Ok(Some((pname, at))) => {
                bound.entry(pname).or_insert(at);
            }
            Ok(None) => bail!("the pod watch ended"),
            Err(_) => {
                if Instant::now() >= deadline {
                    bail!(
                        "{name}: only {}/{n} pods bound after 30 minutes",
                        bound.len()
                    );
                }
                eprintln!("{name}: {}/{n} bound so far", bound.len());
            }
        }
    }
    let elapsed = bound
        .values()
        .max()
        .map(|t| t.duration_since(start))
        .unwrap_or_default();
    watch.abort();
    let created = created.lock().await;
    let mut latencies: Vec<Duration> = bound
        .iter()
        .filter_map(|(p, at)| created.get(p).map(|c| at.saturating_duration_since(*c)))
        .collect();
    latencies.sort();
    Ok(Round {
        name,
        pods: n,
        elapsed,
        latencies,
    })
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    let args = parse_args()?;
    let cluster = TestCluster::start().context("starting etcd + kube-apiserver")?;
    let client = client(&cluster).await?;
    let node_names: Vec<String> = (0..args.nodes).map(|i| format!("hollow-{i:04}")).collect();
    let t = Instant::now();
    let capacity = HollowCapacity {
        pods: 110,
        ..HollowCapacity::default()
    };
    let nodes = HollowNodes::start(client.clone(), &node_names, capacity).await?;
    eprintln!(
        "{} hollow nodes up in {:.1} s",
        args.nodes,
        t.elapsed().as_secs_f64()
    );
    let mut sched = SchedulerProcess::start(
        "kube-scheduler",
        cluster.dir(),
        cluster.kubeconfig_path(),
        &["--leader-elect=false"],
    )?;
    let result = async {
        let plain = round(
            &client,
            "bench-plain",
            args.pods,
            args.clients,
            false,
            "plain",
        )
        .await?;
        let spread = round(
            &client,
            "bench-spread",
            args.pods,
            args.clients,
            true,
            "spread",
        )
        .await?;
        Ok::<_, anyhow::Error>(vec![plain, spread])
    }
    .await;
    let rss = rss_kib(sched.pid()).unwrap_or(0);
    let alive = sched.is_alive();
    let log = sched.log_tail(30);
    drop(sched);
    nodes.shutdown().await;
    let rounds = match result {
        Ok(r) => r,
        Err(e) => {
            eprintln!("kube-scheduler log:\n{log}");
            return Err(e);
        }
    };
    if !alive {
        eprintln!("kube-scheduler exited during the run:\n{log}");
    }
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    println!(
        "### kube-scheduler: {} hollow nodes, {} pods per round ({} cores, everything on one machine)\n",
        args.nodes, args.pods, cores
    );
    println!(
        "Command: `cargo xtask bench scheduler -- --nodes {} --pods {}`\n",
        args.nodes, args.pods
    );
    println!("| round | pods/s | p50 creation -> bound | p99 creation -> bound |");
    println!("| --- | --- | --- | --- |");
    for r in &rounds {
        println!(
            "| {} | {:.0} | {:.0} ms | {:.0} ms |",
            r.name,
            r.pods as f64 / r.elapsed.as_secs_f64().max(1e-9),
            percentile(&r.latencies, 0.5).as_secs_f64() * 1000.0,
            percentile(&r.latencies, 0.99).as_secs_f64() * 1000.0,
        );
    }
    println!(
        "\nkube-scheduler RSS at the end: {:.1} MiB",
        rss as f64 / 1024.0
    );
    println!("\n(spread: PodTopologySpread maxSkew 1 on kubernetes.io/hostname, DoNotSchedule, plus preferred pod anti-affinity on the same label.)");
    Ok(())
}
