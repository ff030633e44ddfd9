//! kube-proxy's Prometheus metrics, upstream names (pkg/proxy/metrics).

use prometheus::{
    Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, Opts, Registry,
};

#[derive(Clone)]
pub struct Metrics {
    pub sync_proxy_rules_duration: Histogram,
    pub sync_full_proxy_rules_duration: Histogram,
    pub sync_partial_proxy_rules_duration: Histogram,
    pub sync_proxy_rules_last_timestamp: prometheus::Gauge,
    pub sync_proxy_rules_last_queued_timestamp: prometheus::Gauge,
    pub network_programming_duration: Histogram,
    pub sync_failures: IntCounter,
    /// Time spent deleting stale UDP conntrack entries after a sync, per ip_family.
    pub conntrack_reconciler_sync_duration: HistogramVec,
    /// Stale conntrack entries deleted, per ip_family.
    pub conntrack_reconciler_deleted_entries: IntCounterVec,
}

fn histogram(name: &str, help: &str, buckets: Vec<f64>) -> Result<Histogram, prometheus::Error> {
    Histogram::with_opts(HistogramOpts::new(name, help).buckets(buckets))
}

impl Metrics {
    /// Creates the metrics and registers them in `registry`.
    pub fn new(registry: &Registry) -> Result<Metrics, prometheus::Error> {
        let sync_buckets = prometheus::exponential_buckets(0.001, 2.0, 15)?;
        let m = Metrics {
            sync_proxy_rules_duration: histogram(
                "kubeproxy_sync_proxy_rules_duration_seconds",
                "SyncProxyRules latency in seconds",
                sync_buckets.clone(),
            )?,
            sync_full_proxy_rules_duration: histogram(
                "kubeproxy_sync_full_proxy_rules_duration_seconds",
                "SyncProxyRules latency in seconds for full resyncs",
                sync_buckets.clone(),
            )?,
            sync_partial_proxy_rules_duration: histogram(
                "kubeproxy_sync_partial_proxy_rules_duration_seconds",
                "SyncProxyRules latency in seconds for partial resyncs",
                sync_buckets.clone(),
            )?,
            sync_proxy_rules_last_timestamp: prometheus::Gauge::with_opts(Opts::new(
                "kubeproxy_sync_proxy_rules_last_timestamp_seconds",
                "The last time proxy rules were successfully synced",
            ))?,
            sync_proxy_rules_last_queued_timestamp: prometheus::Gauge::with_opts(Opts::new(
                "kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds",
                "The last time a sync of proxy rules was queued",
            ))?,
            network_programming_duration: histogram(
                "kubeproxy_network_programming_duration_seconds",
                "In Cluster Network Programming Latency in seconds",
                network_programming_buckets(),
            )?,
            sync_failures: IntCounter::with_opts(Opts::new(
                "kubeproxy_sync_proxy_rules_nftables_sync_failures_total",
                "Cumulative proxy nftables sync failures",
            ))?,
            conntrack_reconciler_sync_duration: HistogramVec::new(
                HistogramOpts::new(
                    "kubeproxy_conntrack_reconciler_sync_duration_seconds",
                    "ReconcileConntrackFlowsLatency latency in seconds",
                )
                .buckets(sync_buckets),
                &["ip_family"],
            )?,
            conntrack_reconciler_deleted_entries: IntCounterVec::new(
                Opts::new(
                    "kubeproxy_conntrack_reconciler_deleted_entries_total",
                    "Cumulative conntrack flows deleted by conntrack reconciler",
                ),
                &["ip_family"],
            )?,
        };
        registry.register(Box::new(m.sync_proxy_rules_duration.clone()))?;
        registry.register(Box::new(m.sync_full_proxy_rules_duration.clone()))?;
        registry.register(Box::new(m.sync_partial_proxy_rules_duration.clone()))?;
        registry.register(Box::new(m.sync_proxy_rules_last_timestamp.clone()))?;
        registry.register(Box::new(m.sync_proxy_rules_last_queued_timestamp.clone()))?;
        registry.register(Box::new(m.network_programming_duration.clone()))?;
        registry.register(Box::new(m.sync_failures.clone()))?;
        registry.register(Box::new(m.conntrack_reconciler_sync_duration.clone()))?;
        registry.register(Box::new(m.conntrack_reconciler_deleted_entries.clone()))?;
        Ok(m)
    }
}

/// Upstream's buckets: 0.25s steps to 1s, 1s steps to 30s, 5s steps to 60s, 30s steps
/// to 5m.
fn network_programming_buckets() -> Vec<f64> {
    let mut b = vec![0.25, 0.5, 0.75];
    b.extend((1..=30).map(f64::from));
    b.extend((7..=12).map(|i| f64::from(i) * 5.0));
    b.extend((3..=10).map(|i| f64::from(i) * 30.0));
    b
}

/// Seconds since the Unix epoch, for the timestamp gauges.
pub fn unix_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}
