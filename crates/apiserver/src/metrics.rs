//! Prometheus metrics under upstream's names, so existing dashboards keep working.

use std::sync::LazyLock;

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry, TextEncoder,
};

pub struct Metrics {
    pub registry: Registry,
    pub request_total: IntCounterVec,
    pub request_duration: HistogramVec,
    pub storage_objects: IntGaugeVec,
    pub etcd_request_duration: HistogramVec,
    pub registered_watchers: IntGaugeVec,
}

fn build() -> Result<Metrics, prometheus::Error> {
    let registry = Registry::new();
    let request_total = IntCounterVec::new(
        Opts::new(
            "apiserver_request_total",
            "Counter of apiserver requests broken out for each verb, dry run value, group, version, resource, scope, component, and HTTP response code.",
        ),
        &["verb", "dry_run", "group", "version", "resource", "subresource", "scope", "component", "code"],
    )?;
    let request_duration = HistogramVec::new(
        HistogramOpts::new(
            "apiserver_request_duration_seconds",
            "Response latency distribution in seconds for each verb, dry run value, group, version, resource, subresource, scope and component.",
        )
        .buckets(vec![
            0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0, 15.0,
            20.0, 30.0, 45.0, 60.0,
        ]),
        &["verb", "dry_run", "group", "version", "resource", "subresource", "scope", "component"],
    )?;
    let storage_objects = IntGaugeVec::new(
        Opts::new(
            "apiserver_storage_objects",
            "Number of stored objects at the time of last check split by kind.",
        ),
        &["resource"],
    )?;
    let etcd_request_duration = HistogramVec::new(
        HistogramOpts::new(
            "etcd_request_duration_seconds",
            "Etcd request latency in seconds for each operation and object type.",
        )
        .buckets(vec![
            0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2.0, 3.0, 4.0, 5.0, 6.0,
            8.0, 10.0, 15.0, 20.0, 30.0, 45.0, 60.0,
        ]),
        &["operation", "type"],
    )?;
    let registered_watchers = IntGaugeVec::new(
        Opts::new(
            "apiserver_registered_watchers",
            "Number of currently registered watchers for a given resources",
        ),
        &["group", "version", "kind"],
    )?;
    registry.register(Box::new(request_total.clone()))?;
    registry.register(Box::new(request_duration.clone()))?;
    registry.register(Box::new(storage_objects.clone()))?;
    registry.register(Box::new(etcd_request_duration.clone()))?;
    registry.register(Box::new(registered_watchers.clone()))?;
    Ok(Metrics {
        registry,
        request_total,
        request_duration,
        storage_objects,
        etcd_request_duration,
        registered_watchers,
    })
}

/// The process-wide metrics; names and labels are fixed, so building them cannot
/// fail at run time (a failure is a programming error caught by the unit test).
pub static METRICS: LazyLock<Metrics> = LazyLock::new(|| match build() {
    Ok(m) => m,
    Err(e) => panic!("metric definitions are invalid: {e}"),
});

/// The text exposition of every metric.
pub fn render() -> Vec<u8> {
    let mut buf = Vec::new();
    let families = METRICS.registry.gather();
    if TextEncoder::new().encode(&families, &mut buf).is_err() {
        buf.clear();
    }
    buf
}

#[cfg(test)]
mod tests {
    #[test]
    fn metrics_build_and_render() {
        let m = super::build();
        assert!(m.is_ok());
        super::METRICS
            .request_total
            .with_label_values(&[
                "GET",
                "",
                "",
                "v1",
                "pods",
                "",
                "resource",
                "apiserver",
                "200",
            ])
            .inc();
        let text = String::from_utf8(super::render()).unwrap_or_default();
        assert!(text.contains("apiserver_request_total{"));
    }
}
