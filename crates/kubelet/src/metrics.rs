//! The kubelet's Prometheus metrics (upstream names, pkg/kubelet/metrics), served on
//! /metrics of the kubelet API. One registry the pod manager, workers and server share:
//! clone [`Metrics`] (it is a handle) and record into its fields.

use prometheus::{Gauge, GaugeVec, Histogram, HistogramOpts, Opts, Registry};

#[derive(Clone)]
pub struct Metrics {
    pub registry: Registry,
    /// kubelet_node_name{node}: always 1.
    pub node_name: GaugeVec,
    /// kubelet_running_pods: pods with a running sandbox.
    pub running_pods: Gauge,
    /// kubelet_running_containers{container_state}: containers by state.
    pub running_containers: GaugeVec,
    /// kubelet_pod_start_duration_seconds: from the kubelet first seeing the pod to its
    /// containers running (record with `observe`).
    pub pod_start_duration: Histogram,
    /// kubelet_pod_worker_duration_seconds{operation}: one sync of a pod worker.
    pub pod_worker_duration: prometheus::HistogramVec,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Metrics {
    /// A fresh registry with every kubelet metric registered, for node `node`.
    pub fn new(node: &str) -> Result<Metrics, prometheus::Error> {
        let registry = Registry::new();
        let node_name = GaugeVec::new(
            Opts::new(
                "kubelet_node_name",
                "The node's name. The count is always 1.",
            ),
            &["node"],
        )?;
        let running_pods = Gauge::with_opts(Opts::new(
            "kubelet_running_pods",
            "Number of pods that have a running pod sandbox",
        ))?;
        let running_containers = GaugeVec::new(
            Opts::new(
                "kubelet_running_containers",
                "Number of containers currently running",
            ),
            &["container_state"],
        )?;
        // Upstream's buckets for pod start: 0.5s .. 1h.
        let pod_start_duration = Histogram::with_opts(
            HistogramOpts::new(
                "kubelet_pod_start_duration_seconds",
                "Duration in seconds from kubelet seeing a pod for the first time to the pod starting to run",
            )
            .buckets(vec![
                0.5, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0, 20.0, 30.0, 45.0, 60.0, 120.0,
                180.0, 240.0, 300.0, 360.0, 480.0, 600.0, 900.0, 1200.0, 1800.0, 2700.0, 3600.0,
            ]),
        )?;
        let pod_worker_duration = prometheus::HistogramVec::new(
            HistogramOpts::new(
                "kubelet_pod_worker_duration_seconds",
                "Duration in seconds to sync a single pod. Broken down by operation type: create, update, or sync",
            )
            .buckets(prometheus::exponential_buckets(0.005, 2.5, 10)?),
            &["operation"],
        )?;
        registry.register(Box::new(node_name.clone()))?;
        registry.register(Box::new(running_pods.clone()))?;
        registry.register(Box::new(running_containers.clone()))?;
        registry.register(Box::new(pod_start_duration.clone()))?;
        registry.register(Box::new(pod_worker_duration.clone()))?;
        node_name.with_label_values(&[node]).set(1.0);
        Ok(Metrics {
            registry,
            node_name,
            running_pods,
            running_containers,
            pod_start_duration,
            pod_worker_duration,
        })
    }

    /// The text exposition format of every metric.
    pub fn render(&self) -> Result<String, prometheus::Error> {
        component_base::serving::render_metrics(&self.registry)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_upstream_names() {
        let m = Metrics::new("n1").unwrap();
        m.running_pods.set(3.0);
        m.running_containers
            .with_label_values(&["running"])
            .set(4.0);
        m.pod_start_duration.observe(1.5);
        let text = m.render().unwrap();
        assert!(text.contains("kubelet_node_name{node=\"n1\"} 1"), "{text}");
        assert!(text.contains("kubelet_running_pods 3"), "{text}");
        assert!(
            text.contains("kubelet_running_containers{container_state=\"running\"} 4"),
            "{text}"
        );
        assert!(
            text.contains("kubelet_pod_start_duration_seconds_count 1"),
            "{text}"
        );
    }
}
