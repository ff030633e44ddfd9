//! kube-scheduler's metrics, under upstream's names.

use prometheus::{
    exponential_buckets, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGaugeVec, Opts,
    Registry,
};

#[derive(Clone)]
pub struct Metrics {
    /// result: scheduled | unschedulable | error.
    pub schedule_attempts: IntCounterVec,
    pub attempt_duration: HistogramVec,
    /// queue: active | backoff | unschedulable | gated.
    pub pending_pods: IntGaugeVec,
    pub preemption_attempts: IntCounter,
    pub preemption_victims: prometheus::Histogram,
    /// Creation of the queue entry to binding, per attempt count.
    pub pod_scheduling_sli_duration: HistogramVec,
}

impl Metrics {
    pub fn new(registry: &Registry) -> Result<Metrics, prometheus::Error> {
        let schedule_attempts = IntCounterVec::new(
            Opts::new(
                "scheduler_schedule_attempts_total",
                "Number of attempts to schedule pods, by the result. 'unschedulable' means a pod could not be scheduled, while 'error' means an internal scheduler problem.",
            ),
            &["result", "profile"],
        )?;
        let attempt_duration = HistogramVec::new(
            HistogramOpts::new(
                "scheduler_scheduling_attempt_duration_seconds",
                "Scheduling attempt latency in seconds (scheduling algorithm + binding)",
            )
            .buckets(exponential_buckets(0.001, 2.0, 15)?),
            &["result", "profile"],
        )?;
        let pending_pods = IntGaugeVec::new(
            Opts::new(
                "scheduler_pending_pods",
                "Number of pending pods, by the queue type. 'active' means number of pods in activeQ; 'backoff' means number of pods in backoffQ; 'unschedulable' means number of pods in unschedulablePods that the scheduler attempted to schedule and failed; 'gated' is the number of unschedulable pods that the scheduler never attempted to schedule because they are gated.",
            ),
            &["queue"],
        )?;
        let preemption_attempts = IntCounter::new(
            "scheduler_preemption_attempts_total",
            "Total preemption attempts in the cluster till now",
        )?;
        let preemption_victims = prometheus::Histogram::with_opts(
            HistogramOpts::new(
                "scheduler_preemption_victims",
                "Number of selected preemption victims",
            )
            .buckets(exponential_buckets(1.0, 2.0, 7)?),
        )?;
        let pod_scheduling_sli_duration = HistogramVec::new(
            HistogramOpts::new(
                "scheduler_pod_scheduling_sli_duration_seconds",
                "E2e latency for a pod being scheduled, from the time the pod enters the scheduling queue and might involve multiple scheduling attempts.",
            )
            .buckets(exponential_buckets(0.01, 2.0, 20)?),
            &["attempts"],
        )?;
        registry.register(Box::new(schedule_attempts.clone()))?;
        registry.register(Box::new(attempt_duration.clone()))?;
        registry.register(Box::new(pending_pods.clone()))?;
        registry.register(Box::new(preemption_attempts.clone()))?;
        registry.register(Box::new(preemption_victims.clone()))?;
        registry.register(Box::new(pod_scheduling_sli_duration.clone()))?;
        for q in ["active", "backoff", "unschedulable", "gated"] {
            pending_pods.with_label_values(&[q]).set(0);
        }
        Ok(Metrics {
            schedule_attempts,
            attempt_duration,
            pending_pods,
            preemption_attempts,
            preemption_victims,
            pod_scheduling_sli_duration,
        })
    }

    pub fn set_pending(&self, (active, backoff, unschedulable): (usize, usize, usize)) {
        let set = |q: &str, n: usize| {
            self.pending_pods
                .with_label_values(&[q])
                .set(i64::try_from(n).unwrap_or(i64::MAX))
        };
        set("active", active);
        set("backoff", backoff);
        set("unschedulable", unschedulable);
    }
}
