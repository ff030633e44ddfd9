//! `cargo xtask bench kubelet`: 30 pods (image present) created at once on one node —
//! a real etcd + kube-apiserver (`TestCluster`), containerd (the system one if it
//! answers, else a private one) and the `kubelet` binary with the CNI bridge network
//! `cargo xtask up` uses. Measures create -> Running (p50, p99, as seen by a client
//! polling every 50 ms), the time to delete them all (until gone from the API), and the
//! kubelet's RSS with the 30 pods running. Root required. Prints a Markdown table for
//! docs/benchmarks.md.
//!
//! Args: `[--pods N]` (default 30).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use ferrokube_deploy::node::{self, NodePaths, CNI_CONF_DIR, POD_CIDR};
use ferrokube_e2e::TestCluster;
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{DeleteParams, ListParams, PostParams};
use kube::Api;

const NODE: &str = "fk-bench-node";
const NAMESPACE: &str = "default";

/// Stops the kubelet and the private containerd of `dir` even on failure.
struct NodeGuard<'a>(&'a Path);

impl Drop for NodeGuard<'_> {
    fn drop(&mut self) {
        if let Err(e) = node::stop_node(self.0, false) {
            eprintln!("stopping the bench node: {e:#}");
        }
        // The conflist this run wrote (none if the host had one), as `down --purge` does.
        let record = NodePaths::new(self.0).cni_record;
        if let Ok(written) = std::fs::read_to_string(&record) {
            let _ = std::fs::remove_file(written.trim());
        }
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let idx = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[idx]
}

fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let pods = match args.iter().position(|a| a == "--pods") {
        Some(i) => args
            .get(i + 1)
            .context("--pods needs a number")?
            .parse::<usize>()
            .context("--pods")?,
        None => 30,
    };
    if !node::is_root() {
        bail!("the kubelet bench needs root (containerd, netns, CNI)");
    }
    let cluster = TestCluster::start().context("starting etcd + kube-apiserver")?;
    let dir = tempfile::Builder::new()
        .prefix("fk-kubelet-bench-")
        .tempdir()?;
    // FERROKUBE_KEEP_TEST_DIRS=1 keeps the node's files (the kubelet's log) to read.
    let dir: PathBuf = if std::env::var_os("FERROKUBE_KEEP_TEST_DIRS").is_some() {
        let kept = dir.keep();
        eprintln!("node files kept in {}", kept.display());
        kept
    } else {
        dir.path().to_path_buf()
    };
    let paths = NodePaths::new(&dir);
    let _guard = NodeGuard(&dir);
    let containerd = node::ensure_containerd(&paths).context("containerd")?;
    node::ensure_cni_conflist(Path::new(CNI_CONF_DIR), POD_CIDR, &paths.cni_record)
        .context("the CNI configuration")?;
    node::write_kubelet_files(&paths, &containerd.socket).context("the kubelet's files")?;
    std::fs::copy(cluster.kubeconfig_path(), &paths.kubelet_kubeconfig)
        .context("the kubelet's kubeconfig")?;
    node::write_registries_config(&paths, "127.0.0.1:5000")?;
    let kubelet_bin = ferrokube_e2e::bin_dir().join("kubelet");
    let (kubelet, _) = node::ensure_kubelet(&paths, &kubelet_bin, NODE, &containerd.socket)
        .context("starting the kubelet")?;
    let pid = kubelet.pid();

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async {
        let kc = kube::config::Kubeconfig::read_from(cluster.kubeconfig_path())?;
        let client = kube::Client::try_from(
            kube::Config::from_custom_kubeconfig(kc, &Default::default()).await?,
        )?;
        let nodes: Api<Node> = Api::all(client.clone());
        let ready_by = Instant::now() + Duration::from_secs(60);
        loop {
            let ready = nodes
                .get_opt(NODE)
                .await?
                .and_then(|n| n.status)
                .and_then(|s| s.conditions)
                .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"));
            if ready {
                break;
            }
            if Instant::now() > ready_by {
                bail!(
                    "node {NODE} not Ready after 60 s (log {})",
                    paths.kubelet_log.display()
                );
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let api: Api<Pod> = Api::namespaced(client.clone(), NAMESPACE);
        let lp = ListParams::default().labels("app=kubelet-bench");

        // --- create all at once ---------------------------------------------------
        let began = Instant::now();
        let creates = (0..pods).map(|i| {
            let api = api.clone();
            async move {
                let p = bench_pod(i)?;
                api.create(&PostParams::default(), &p).await?;
                anyhow::Ok(Instant::now())
            }
        });
        let created: Vec<Instant> = futures::future::try_join_all(creates).await?;
        let mut running: Vec<Option<Duration>> = vec![None; pods];
        let deadline = Instant::now() + Duration::from_secs(300);
        while running.iter().any(Option::is_none) {
            if Instant::now() > deadline {
                bail!(
                    "only {} of {pods} pods Running after 300 s (log {})",
                    running.iter().filter(|r| r.is_some()).count(),
                    paths.kubelet_log.display()
                );
            }
            for p in api.list(&lp).await?.items {
                let Some(i) = p
                    .metadata
                    .name
                    .as_deref()
                    .and_then(|n| n.strip_prefix("bench-"))
                    .and_then(|n| n.parse::<usize>().ok())
                else {
                    continue;
                };
                let phase = p.status.and_then(|s| s.phase);
                if i < pods && running[i].is_none() && phase.as_deref() == Some("Running") {
                    running[i] = Some(created[i].elapsed());
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let all_running = began.elapsed();
        let mut lat: Vec<Duration> = running.into_iter().flatten().collect();
        lat.sort();
        let rss = rss_kib(pid).unwrap_or(0);

        // --- delete all ------------------------------------------------------------
        let del = Instant::now();
        api.delete_collection(&DeleteParams::default(), &lp).await?;
        loop {
            if api.list(&lp).await?.items.is_empty() {
                break;
            }
            if del.elapsed() > Duration::from_secs(300) {
                bail!("pods still there 300 s after the delete");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let deleted = del.elapsed();

        println!("| figure | value |");
        println!("| --- | --- |");
        println!("| pods | {pods} |");
        println!(
            "| create -> Running p50 | {:.3} s |",
            percentile(&lat, 0.50).as_secs_f64()
        );
        println!(
            "| create -> Running p99 | {:.3} s |",
            percentile(&lat, 0.99).as_secs_f64()
        );
        println!(
            "| all {pods} Running after | {:.3} s |",
            all_running.as_secs_f64()
        );
        println!(
            "| delete all -> gone from the API | {:.3} s |",
            deleted.as_secs_f64()
        );
        println!(
            "| kubelet RSS with {pods} pods running | {:.1} MiB |",
            rss as f64 / 1024.0
        );
        anyhow::Ok(())
    })
}

/// The bench pod: busybox `sleep` (which exits on SIGTERM), preloaded image.
fn bench_pod(i: usize) -> Result<Pod> {
    let v = serde_json::json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": format!("bench-{i}"), "labels": {"app": "kubelet-bench"}},
        "spec": {
            "nodeName": NODE,
            "terminationGracePeriodSeconds": 2,
            "containers": [{
                "name": "app",
                "image": "busybox",
                "imagePullPolicy": "IfNotPresent",
                "command": ["sleep", "3600"],
            }],
        },
    });
    Ok(serde_json::from_value(v)?)
}
