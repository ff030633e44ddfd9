//! The kube-proxy daemon: watches Services and EndpointSlices (kube-runtime reflectors),
//! and after any change, at most once per minSyncPeriod, renders and applies what
//! changed; a sync at least every syncPeriod, a full rewrite every hour (upstream's
//! FullSyncPeriod); a check every few seconds that the table is still there. Serves the JSON /healthz on healthzBindAddress and /metrics on
//! metricsBindAddress. After each sync, stale UDP conntrack entries are deleted and the
//! healthCheckNodePort servers follow the Services (retried every few seconds when a
//! port cannot be bound).

use std::collections::BTreeMap;
use std::future::Future;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use anyhow::Context;
use futures::StreamExt;
use k8s_openapi::api::core::v1::{Node, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::runtime::reflector::{self, Store};
use kube::runtime::{watcher, WatchStreamExt};
use kube::{Api, Client};
use serde::Deserialize;
use tokio::sync::{watch, Notify};

use crate::config::{resolve_nodeport_ips, Settings};
use crate::conntrack::{Conntrack, ConntrackCleaner};
use crate::health::ProxyHealth;
use crate::metrics::{unix_now, Metrics};
use crate::model::{self, Family, NodeConfig};
use crate::nft::Nft;
use crate::proxier::Proxier;
use crate::service_health::{self, ServiceHealthServer};

/// EndpointSlice annotation with the time of the change that triggered it.
const LAST_CHANGE_TRIGGER_TIME: &str = "endpoints.kubernetes.io/last-change-trigger-time";
/// How often the table's presence is checked between syncs.
const TABLE_CHECK_INTERVAL: Duration = Duration::from_secs(5);

/// Runs until `shutdown` resolves. Rules stay in place on exit (as upstream).
pub async fn run(
    settings: Settings,
    client: Client,
    nft: Nft,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let (stop_tx, stop_rx) = watch::channel(false);
    tokio::spawn(async move {
        shutdown.await;
        let _ = stop_tx.send(true);
    });
    let stopped = |mut rx: watch::Receiver<bool>| async move { until_stopped(&mut rx).await };

    let registry = prometheus::Registry::new();
    let metrics = Metrics::new(&registry).context("registering metrics")?;
    let health = ProxyHealth::new(settings.sync_period * 2);

    if let Some(addr) = settings.healthz_bind_address {
        let (h1, h2) = (health.clone(), health.clone());
        let serving = component_base::serving::Serving::new(prometheus::Registry::new())
            .route("/healthz", move |_| h1.respond(false, SystemTime::now()))
            .route("/livez", move |_| h2.respond(true, SystemTime::now()));
        let stop = stopped(stop_rx.clone());
        tokio::spawn(async move {
            if let Err(e) = component_base::serving::serve(addr, None, serving, stop).await {
                tracing::error!(error = %e, "healthz server failed");
            }
        });
    }
    if let Some(addr) = settings.metrics_bind_address {
        let serving = component_base::serving::Serving::new(registry.clone());
        let stop = stopped(stop_rx.clone());
        tokio::spawn(async move {
            if let Err(e) = component_base::serving::serve(addr, None, serving, stop).await {
                tracing::error!(error = %e, "metrics server failed");
            }
        });
    }

    let node = node_config(&settings, &client).await;
    let families = families(&node);
    tracing::info!(node = %node.node_name, node_ips = ?node.node_ips, nodeport_ips = ?node.nodeport_ips,
        families = ?families.iter().map(|f| f.nft()).collect::<Vec<_>>(), "starting kube-proxy (nftables)");

    let changed = Arc::new(Notify::new());
    let triggers: Arc<Mutex<Vec<SystemTime>>> = Arc::default();
    let services = spawn_reflector::<Service>(
        Api::all(client.clone()),
        changed.clone(),
        health.clone(),
        metrics.clone(),
        None,
        stop_rx.clone(),
    );
    let slices = spawn_reflector::<EndpointSlice>(
        Api::all(client.clone()),
        changed.clone(),
        health.clone(),
        metrics.clone(),
        Some(triggers.clone()),
        stop_rx.clone(),
    );
    spawn_node_watch(
        client.clone(),
        node.node_name.clone(),
        health.clone(),
        stop_rx.clone(),
    );

    let mut stop = stop_rx.clone();
    tokio::select! {
        r = async { tokio::try_join!(services.wait_until_ready(), slices.wait_until_ready()) } => {
            r.context("waiting for the Service and EndpointSlice caches")?;
        }
        _ = until_stopped(&mut stop) => return Ok(()),
    }
    health.updated(SystemTime::now());

    let conntrack = Conntrack::with_prefix(nft.prefix());
    let mut cleaner = ConntrackCleaner::new(conntrack, families.clone(), Some(metrics.clone()));
    let mut health_checks =
        ServiceHealthServer::new(&node.node_name, node.nodeport_ips.clone(), health.clone())
            .with_recorder(component_base::record::EventRecorder::new(
                client.clone(),
                "kube-proxy",
            ));
    let mut proxier = Proxier::new(nft, families, Some(metrics.clone()));
    let mut last_sync: Option<Instant> = None;
    let mut next_periodic = tokio::time::Instant::now() + settings.sync_period;
    let mut next_resync = tokio::time::Instant::now() + FULL_SYNC_PERIOD;
    let mut check = tokio::time::interval(TABLE_CHECK_INTERVAL);
    let mut pending = true;
    let mut resync = false;
    loop {
        if !pending {
            tokio::select! {
                _ = changed.notified() => pending = true,
                _ = tokio::time::sleep_until(next_periodic) => pending = true,
                _ = tokio::time::sleep_until(next_resync) => { pending = true; resync = true; }
                _ = check.tick() => {
                    health_checks.retry();
                    match proxier.check_tables().await {
                        Ok(true) => {}
                        Ok(false) => pending = true,
                        Err(e) => tracing::warn!(error = %e, "checking the kube-proxy table"),
                    }
                }
                _ = until_stopped(&mut stop) => break,
            }
            if !pending {
                continue;
            }
        }
        // Bound the sync frequency: changes arriving meanwhile are coalesced.
        if let Some(last) = last_sync {
            let wait = settings.min_sync_period.saturating_sub(last.elapsed());
            if !wait.is_zero() {
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = until_stopped(&mut stop) => break,
                }
            }
        }
        pending = false;
        let (svcs, eps) = (services.state(), slices.state());
        let model = model::build(
            svcs.iter().map(|s| s.as_ref()),
            eps.iter().map(|s| s.as_ref()),
            &node,
        );
        let taken: Vec<SystemTime> = triggers
            .lock()
            .map(|mut t| std::mem::take(&mut *t))
            .unwrap_or_default();
        last_sync = Some(Instant::now());
        match proxier.sync(&model, &node, resync).await {
            Ok(report) => {
                let now = SystemTime::now();
                health.updated(now);
                // As upstream, once the rules are in: health checks, then conntrack.
                health_checks.sync_services(service_health::health_check_node_ports(&model));
                health_checks.sync_endpoints(&service_health::local_ready_endpoints(&model));
                cleaner.synced(&model).await;
                for t in taken {
                    if let Ok(d) = now.duration_since(t) {
                        metrics
                            .network_programming_duration
                            .observe(d.as_secs_f64());
                    }
                }
                tracing::debug!(kinds = ?report.kinds, bytes = report.bytes, elapsed = ?report.elapsed,
                    services = model.ports.len(), "synced nftables rules");
                next_periodic = tokio::time::Instant::now() + settings.sync_period;
                if resync {
                    next_resync = tokio::time::Instant::now() + FULL_SYNC_PERIOD;
                    resync = false;
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "nftables sync failed; retrying");
                proxier.invalidate();
                pending = true;
                tokio::select! {
                    _ = tokio::time::sleep(settings.min_sync_period.max(Duration::from_secs(1))) => {}
                    _ = until_stopped(&mut stop) => break,
                }
            }
        }
    }
    Ok(())
}

/// Upstream's proxyutil.FullSyncPeriod: how often everything is rewritten. The
/// syncPeriod ticks in between apply only differences, as upstream's nftables proxier
/// does (a rewrite costs seconds at 10,000 Services).
const FULL_SYNC_PERIOD: Duration = Duration::from_secs(3600);

/// Starts a reflector; every event queues a sync.
fn spawn_reflector<K>(
    api: Api<K>,
    changed: Arc<Notify>,
    health: ProxyHealth,
    metrics: Metrics,
    triggers: Option<Arc<Mutex<Vec<SystemTime>>>>,
    mut stop: watch::Receiver<bool>,
) -> Store<K>
where
    K: kube::Resource<DynamicType = ()>
        + Clone
        + std::fmt::Debug
        + serde::de::DeserializeOwned
        + Send
        + Sync
        + 'static,
{
    let (reader, writer) = reflector::store::<K>();
    let stream = watcher(api, watcher::Config::default())
        .default_backoff()
        .reflect(writer);
    tokio::spawn(async move {
        let mut stream = std::pin::pin!(stream);
        loop {
            let event = tokio::select! {
                e = stream.next() => e,
                _ = until_stopped(&mut stop) => return,
            };
            let Some(event) = event else { return };
            match event {
                Ok(ev) => {
                    if let (
                        Some(triggers),
                        watcher::Event::Apply(obj) | watcher::Event::Delete(obj),
                    ) = (&triggers, &ev)
                    {
                        if let Some(t) = trigger_time(obj.meta().annotations.as_ref()) {
                            if let Ok(mut v) = triggers.lock() {
                                v.push(t);
                            }
                        }
                    }
                    if matches!(
                        ev,
                        watcher::Event::Apply(_)
                            | watcher::Event::Delete(_)
                            | watcher::Event::InitDone
                    ) {
                        health.queued_update(SystemTime::now());
                        metrics
                            .sync_proxy_rules_last_queued_timestamp
                            .set(unix_now());
                        changed.notify_one();
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, kind = %K::kind(&()), "watch failed; retrying")
                }
            }
        }
    });
    reader
}

/// Resolves once shutdown was requested (a helper so no lock guard lives in a future).
async fn until_stopped(rx: &mut watch::Receiver<bool>) {
    let _ = rx.wait_for(|s| *s).await;
}

fn trigger_time(annotations: Option<&BTreeMap<String, String>>) -> Option<SystemTime> {
    let raw = annotations?.get(LAST_CHANGE_TRIGGER_TIME)?;
    let ts: jiff::Timestamp = raw.parse().ok()?;
    Some(SystemTime::from(ts))
}

/// Follows our Node: being deleted or tainted ToBeDeletedByClusterAutoscaler makes
/// /healthz answer 503 (nodeEligible false), as upstream.
fn spawn_node_watch(
    client: Client,
    name: String,
    health: ProxyHealth,
    mut stop: watch::Receiver<bool>,
) {
    let api: Api<Node> = Api::all(client);
    let cfg = watcher::Config::default().fields(&format!("metadata.name={name}"));
    tokio::spawn(async move {
        let stream = watcher(api, cfg).default_backoff().applied_objects();
        let mut stream = std::pin::pin!(stream);
        loop {
            let item = tokio::select! {
                i = stream.next() => i,
                _ = until_stopped(&mut stop) => return,
            };
            match item {
                Some(Ok(node)) => {
                    let tainted = node
                        .spec
                        .as_ref()
                        .and_then(|s| s.taints.as_ref())
                        .is_some_and(|t| {
                            t.iter().any(|t| t.key == "ToBeDeletedByClusterAutoscaler")
                        });
                    health
                        .set_node_eligible(node.metadata.deletion_timestamp.is_none() && !tainted);
                }
                Some(Err(e)) => tracing::debug!(error = %e, "node watch"),
                None => return,
            }
        }
    });
}

/// The node's IPs (Node status InternalIP/ExternalIP, else its interfaces) and the
/// resolved NodePort addresses.
pub async fn node_config(settings: &Settings, client: &Client) -> NodeConfig {
    let interfaces = interface_ips().await;
    let mut node_ips: Vec<IpAddr> = Vec::new();
    match Api::<Node>::all(client.clone())
        .get_opt(&settings.hostname)
        .await
    {
        Ok(Some(node)) => {
            let addrs = node.status.and_then(|s| s.addresses).unwrap_or_default();
            for kind in ["InternalIP", "ExternalIP"] {
                node_ips.extend(
                    addrs
                        .iter()
                        .filter(|a| a.type_ == kind)
                        .filter_map(|a| a.address.parse::<IpAddr>().ok()),
                );
                if !node_ips.is_empty() {
                    break;
                }
            }
        }
        Ok(None) => {
            tracing::warn!(node = %settings.hostname, "Node not found; using the interface addresses")
        }
        Err(e) => {
            tracing::warn!(node = %settings.hostname, error = %e, "reading the Node; using the interface addresses")
        }
    }
    if node_ips.is_empty() {
        node_ips = interfaces
            .iter()
            .copied()
            .filter(|ip| !ip.is_loopback() && !is_link_local(ip))
            .collect();
    }
    NodeConfig {
        node_name: settings.hostname.clone(),
        nodeport_ips: resolve_nodeport_ips(&settings.nodeport_addresses, &node_ips, &interfaces),
        node_ips,
        cluster_cidrs: settings.cluster_cidrs.clone(),
        masquerade_all: settings.masquerade_all,
        masquerade_bit: settings.masquerade_bit,
    }
}

/// IPv4 always; IPv6 too when the node has an IPv6 address or cluster CIDR.
pub fn families(node: &NodeConfig) -> Vec<Family> {
    let v6 = node.node_ips.iter().any(|ip| ip.is_ipv6())
        || node.cluster_cidrs.iter().any(|c| c.family() == Family::V6);
    if v6 {
        vec![Family::V4, Family::V6]
    } else {
        vec![Family::V4]
    }
}

fn is_link_local(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_link_local(),
        IpAddr::V6(v6) => (v6.segments()[0] & 0xffc0) == 0xfe80,
    }
}

#[derive(Deserialize)]
struct IpLink {
    #[serde(default)]
    addr_info: Vec<IpAddrInfo>,
}

#[derive(Deserialize)]
struct IpAddrInfo {
    local: Option<String>,
}

/// Addresses on this host's interfaces (`ip -j addr show`).
pub async fn interface_ips() -> Vec<IpAddr> {
    let out = match tokio::process::Command::new("ip")
        .args(["-j", "addr", "show"])
        .output()
        .await
    {
        Ok(o) if o.status.success() => o.stdout,
        Ok(o) => {
            tracing::warn!(stderr = %String::from_utf8_lossy(&o.stderr), "ip -j addr show failed");
            return Vec::new();
        }
        Err(e) => {
            tracing::warn!(error = %e, "running ip -j addr show");
            return Vec::new();
        }
    };
    parse_ip_addr_json(&out)
}

fn parse_ip_addr_json(json: &[u8]) -> Vec<IpAddr> {
    let links: Vec<IpLink> = match serde_json::from_slice(json) {
        Ok(l) => l,
        Err(e) => {
            tracing::warn!(error = %e, "parsing ip -j addr show");
            return Vec::new();
        }
    };
    links
        .iter()
        .flat_map(|l| &l.addr_info)
        .filter_map(|a| a.local.as_deref()?.parse().ok())
        .collect()
}

/// A client from --kubeconfig, else the in-cluster / default configuration.
pub async fn client(kubeconfig: Option<&std::path::Path>) -> anyhow::Result<Client> {
    component_base::client::build(kubeconfig, None).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ip_json() {
        let json = br#"[{"ifname":"lo","addr_info":[{"family":"inet","local":"127.0.0.1","prefixlen":8}]},
            {"ifname":"eth0","addr_info":[{"family":"inet","local":"10.0.0.5","prefixlen":24},{"family":"inet6","local":"fe80::1","prefixlen":64}]},
            {"ifname":"dummy"}]"#;
        let ips = parse_ip_addr_json(json);
        assert_eq!(ips.len(), 3);
        assert!(ips.contains(&"10.0.0.5".parse().unwrap()));
        assert!(is_link_local(&"fe80::1".parse().unwrap()));
    }

    #[test]
    fn trigger_time_annotation() {
        let mut a = BTreeMap::new();
        a.insert(
            LAST_CHANGE_TRIGGER_TIME.to_string(),
            "2024-01-02T03:04:05Z".to_string(),
        );
        assert!(trigger_time(Some(&a)).is_some());
        a.insert(LAST_CHANGE_TRIGGER_TIME.to_string(), "garbage".to_string());
        assert!(trigger_time(Some(&a)).is_none());
    }
}
