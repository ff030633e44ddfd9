//! `cargo xtask bench apiserver`: throughput, latency and memory of kube-apiserver on
//! a real etcd, next to raw etcd through etcd-client at the same concurrency and
//! value size. Prints a Markdown table for docs/benchmarks.md.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use ferrokube_e2e::TestCluster;
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{Api, ListParams, ObjectMeta, PostParams, WatchEvent, WatchParams};
use kube::Client;
use tokio::sync::Mutex;

const CREATES: usize = 10_000;
const CLIENTS: usize = 32;
const WATCHERS: usize = 100;
const UPDATES: usize = 1_000;
const VALUE_BYTES: usize = 128;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn cm(name: &str) -> ConfigMap {
    ConfigMap {
        metadata: ObjectMeta {
            name: Some(name.to_string()),
            ..Default::default()
        },
        data: Some(BTreeMap::from([("v".to_string(), "x".repeat(VALUE_BYTES))])),
        ..Default::default()
    }
}

/// CPU time (user + system) a process has used so far, from /proc/<pid>/stat.
fn cpu_time(pid: Option<u32>) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{}/stat", pid?)).ok()?;
    // Fields after the command name (which may contain spaces) start at ") ".
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    let hz = if hz > 0 { hz as u64 } else { 100 };
    Some(Duration::from_micros(ticks * 1_000_000 / hz))
}

/// CPU a process used between two readings, per operation, in microseconds.
fn cpu_per_op(before: Option<Duration>, after: Option<Duration>, ops: usize) -> String {
    match (before, after) {
        (Some(b), Some(a)) => format!(
            "{:.0} us",
            a.saturating_sub(b).as_secs_f64() * 1e6 / ops as f64
        ),
        _ => "n/a".to_string(),
    }
}

fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

async fn client(c: &TestCluster) -> Result<Client> {
    let kubeconfig = kube::config::Kubeconfig::read_from(c.kubeconfig_path())?;
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default()).await?;
    Ok(Client::try_from(config)?)
}

async fn creates(api: &Api<ConfigMap>) -> Result<(Duration, Vec<Duration>)> {
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..CLIENTS {
        let api = api.clone();
        let next = next.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= CREATES {
                    break;
                }
                let t = Instant::now();
                api.create(&PostParams::default(), &cm(&format!("cm-{i:05}")))
                    .await?;
                lat.push(t.elapsed());
            }
            Ok::<_, anyhow::Error>(lat)
        }));
    }
    let mut all = Vec::with_capacity(CREATES);
    for t in tasks {
        all.extend(t.await??);
    }
    let elapsed = started.elapsed();
    all.sort();
    Ok((elapsed, all))
}

/// Opens every client connection before timing starts (TLS handshakes are not what the
/// create figures measure): one cheap GET per client, all at once.
async fn warm_up(api: &Api<ConfigMap>) -> Result<()> {
    let mut tasks = Vec::new();
    for _ in 0..CLIENTS {
        let api = api.clone();
        tasks.push(tokio::spawn(async move {
            api.list(&ListParams::default().limit(1)).await?;
            Ok::<_, anyhow::Error>(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    Ok(())
}

/// Raw etcd writes at the same concurrency: plain puts, or (`txn`) the guarded create
/// an apiserver must do (put only if the key does not exist yet).
async fn etcd_puts(endpoint: &str, value_len: usize, txn: bool) -> Result<Duration> {
    use etcd_client::{Compare, CompareOp, Txn, TxnOp};
    let client = etcd_client::Client::connect([endpoint], None).await?;
    let prefix = if txn { "/bench-raw-txn" } else { "/bench-raw" };
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let value = vec![b'x'; value_len];
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..CLIENTS {
        let mut kv = client.kv_client();
        let next = next.clone();
        let value = value.clone();
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= CREATES {
                    break;
                }
                let key = format!("{prefix}/{i:05}");
                if txn {
                    let create = Txn::new()
                        .when([Compare::create_revision(key.clone(), CompareOp::Equal, 0)])
                        .and_then([TxnOp::put(key, value.clone(), None)]);
                    kv.txn(create).await?;
                } else {
                    kv.put(key, value.clone(), None).await?;
                }
            }
            Ok::<_, anyhow::Error>(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    Ok(started.elapsed())
}

async fn watch_latency(api: &Api<ConfigMap>) -> Result<Vec<Duration>> {
    let target = api.create(&PostParams::default(), &cm("watched")).await?;
    let rv = target
        .metadata
        .resource_version
        .clone()
        .context("no resourceVersion")?;
    let sent: Arc<Mutex<Vec<Option<Instant>>>> = Arc::new(Mutex::new(vec![None; UPDATES]));
    let mut watchers = Vec::new();
    for _ in 0..WATCHERS {
        let api = api.clone();
        let rv = rv.clone();
        let sent = sent.clone();
        watchers.push(tokio::spawn(async move {
            let wp = WatchParams::default()
                .fields("metadata.name=watched")
                .timeout(300);
            let mut stream = api.watch(&wp, &rv).await?.boxed();
            let mut lat = Vec::with_capacity(UPDATES);
            while lat.len() < UPDATES {
                match stream.try_next().await? {
                    Some(WatchEvent::Modified(o)) => {
                        let now = Instant::now();
                        let i: usize = o
                            .data
                            .as_ref()
                            .and_then(|d| d.get("i"))
                            .and_then(|v| v.parse().ok())
                            .unwrap_or(0);
                        if let Some(Some(t)) = sent.lock().await.get(i) {
                            lat.push(now.duration_since(*t));
                        }
                    }
                    Some(_) => {}
                    None => break,
                }
            }
            Ok::<_, anyhow::Error>(lat)
        }));
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    for i in 0..UPDATES {
        let patch = serde_json::json!({ "data": { "i": i.to_string() } });
        sent.lock().await[i] = Some(Instant::now());
        api.patch(
            "watched",
            &kube::api::PatchParams::default(),
            &kube::api::Patch::Merge(&patch),
        )
        .await?;
    }
    let mut all = Vec::new();
    for w in watchers {
        all.extend(w.await??);
    }
    all.sort();
    Ok(all)
}

#[tokio::main]
async fn main() -> Result<()> {
    let cluster = TestCluster::start().context(
        "starting etcd + kube-apiserver (set FERROKUBE_BIN_DIR to the release binaries)",
    )?;
    let client = client(&cluster).await?;
    let ns_api: Api<Namespace> = Api::all(client.clone());
    ns_api
        .create(
            &PostParams::default(),
            &Namespace {
                metadata: ObjectMeta {
                    name: Some("bench".into()),
                    ..Default::default()
                },
                ..Default::default()
            },
        )
        .await?;
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), "bench");

    warm_up(&api).await?;
    let (etcd_pid, apiserver_pid) = cluster.pids();
    let cpu_before = (
        cpu_time(apiserver_pid),
        cpu_time(etcd_pid),
        cpu_time(Some(std::process::id())),
    );
    let (elapsed, lat) = creates(&api).await?;
    let cpu_after = (
        cpu_time(apiserver_pid),
        cpu_time(etcd_pid),
        cpu_time(Some(std::process::id())),
    );
    let create_rate = CREATES as f64 / elapsed.as_secs_f64();

    let mut list_cache = Vec::new();
    let mut list_consistent = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let l = api.list(&ListParams::default().match_any()).await?;
        list_cache.push(t.elapsed());
        anyhow::ensure!(l.items.len() >= CREATES, "LIST returned {}", l.items.len());
        let t = Instant::now();
        api.list(&ListParams::default()).await?;
        list_consistent.push(t.elapsed());
    }
    list_cache.sort();
    list_consistent.sort();

    let watch = watch_latency(&api).await?;
    let rss = apiserver_pid.and_then(rss_kib).unwrap_or(0);

    let value_len = serde_json::to_vec(&cm("cm-00000"))?.len() + 200;
    let etcd_before = (cpu_time(etcd_pid), cpu_time(Some(std::process::id())));
    let etcd_elapsed = etcd_puts(cluster.etcd_endpoint(), value_len, false).await?;
    let etcd_after = (cpu_time(etcd_pid), cpu_time(Some(std::process::id())));
    let etcd_rate = CREATES as f64 / etcd_elapsed.as_secs_f64();
    let txn_before = (cpu_time(etcd_pid), cpu_time(Some(std::process::id())));
    let txn_elapsed = etcd_puts(cluster.etcd_endpoint(), value_len, true).await?;
    let txn_after = (cpu_time(etcd_pid), cpu_time(Some(std::process::id())));
    let txn_rate = CREATES as f64 / txn_elapsed.as_secs_f64();

    println!("| measure | value |");
    println!("| --- | --- |");
    println!("| ConfigMap creates ({CREATES}, {CLIENTS} clients) | {create_rate:.0} /s |");
    println!("| create latency p50 | {} |", ms(percentile(&lat, 0.5)));
    println!("| create latency p99 | {} |", ms(percentile(&lat, 0.99)));
    println!(
        "| raw etcd puts (same count, concurrency, ~{value_len} B values) | {etcd_rate:.0} /s |"
    );
    println!(
        "| ratio apiserver / etcd | {:.2} |",
        create_rate / etcd_rate
    );
    println!(
        "| raw etcd create txns (put if absent; same count, concurrency, values) | {txn_rate:.0} /s |"
    );
    println!(
        "| ratio apiserver / etcd create txns | {:.2} |",
        create_rate / txn_rate
    );
    println!(
        "| CPU per create: kube-apiserver / etcd / bench client | {} / {} / {} |",
        cpu_per_op(cpu_before.0, cpu_after.0, CREATES),
        cpu_per_op(cpu_before.1, cpu_after.1, CREATES),
        cpu_per_op(cpu_before.2, cpu_after.2, CREATES),
    );
    println!(
        "| CPU per raw put: etcd / bench client | {} / {} |",
        cpu_per_op(etcd_before.0, etcd_after.0, CREATES),
        cpu_per_op(etcd_before.1, etcd_after.1, CREATES),
    );
    println!(
        "| CPU per raw create txn: etcd / bench client | {} / {} |",
        cpu_per_op(txn_before.0, txn_after.0, CREATES),
        cpu_per_op(txn_before.1, txn_after.1, CREATES),
    );
    println!(
        "| LIST {CREATES} (resourceVersion=0, from cache), median | {} |",
        ms(percentile(&list_cache, 0.5))
    );
    println!(
        "| LIST {CREATES} (consistent read, from cache), median | {} |",
        ms(percentile(&list_consistent, 0.5))
    );
    println!(
        "| watch delivery p50 ({WATCHERS} watchers x {UPDATES} updates) | {} |",
        ms(percentile(&watch, 0.5))
    );
    println!("| watch delivery p99 | {} |", ms(percentile(&watch, 0.99)));
    println!(
        "| events delivered | {} of {} |",
        watch.len(),
        WATCHERS * UPDATES
    );
    println!(
        "| kube-apiserver RSS at the end | {:.1} MiB |",
        rss as f64 / 1024.0
    );
    cluster.stop()?;
    Ok(())
}
