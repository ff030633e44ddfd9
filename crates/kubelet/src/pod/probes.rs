//! Liveness, readiness and startup probes (upstream `prober` / `worker.go`): one task per
//! probe of a running container, each waiting initialDelaySeconds, then probing every
//! periodSeconds with timeoutSeconds; successThreshold consecutive successes or
//! failureThreshold consecutive failures flip the result. Liveness and readiness wait
//! for the startup probe. Readiness sets the container's `ready`; a failed liveness or
//! startup probe kills the container (the pod sync restarts it per restartPolicy).
//! Unhealthy events use upstream's wording ("Liveness probe failed: ...").

use std::sync::{Arc, Mutex};
use std::time::Duration;

use k8s_openapi::api::core::v1::{Container, Pod, Probe};

use super::env::PodRuntimeInfo;
use super::events::{reason, EventRecorder, NORMAL, WARNING};
use super::lifecycle::{run_probe_action, HandlerTarget};
use super::worker::{PodRunner, RunningPod};

const SIGTERM: u32 = 15;
const SIGKILL: u32 = 9;

/// Probe kinds, named as upstream's event messages do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeKind {
    Liveness,
    Readiness,
    Startup,
}

impl ProbeKind {
    pub fn label(self) -> &'static str {
        match self {
            ProbeKind::Liveness => "Liveness",
            ProbeKind::Readiness => "Readiness",
            ProbeKind::Startup => "Startup",
        }
    }
}

/// The probe's timing with upstream's defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProbeTiming {
    pub initial_delay: Duration,
    pub period: Duration,
    pub timeout: Duration,
    pub success_threshold: u32,
    pub failure_threshold: u32,
}

fn secs(v: Option<i32>, default: u64) -> Duration {
    Duration::from_secs(v.and_then(|v| u64::try_from(v).ok()).unwrap_or(default))
}

impl ProbeTiming {
    pub fn of(p: &Probe) -> Self {
        let threshold = |v: Option<i32>, d: u32| {
            v.and_then(|v| u32::try_from(v).ok())
                .filter(|v| *v > 0)
                .unwrap_or(d)
        };
        ProbeTiming {
            initial_delay: secs(p.initial_delay_seconds, 0),
            period: secs(p.period_seconds, 10).max(Duration::from_secs(1)),
            timeout: secs(p.timeout_seconds, 1).max(Duration::from_secs(1)),
            success_threshold: threshold(p.success_threshold, 1),
            failure_threshold: threshold(p.failure_threshold, 3),
        }
    }
}

/// Consecutive-result counting: the result flips after enough results in a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeCounter {
    pub result: bool,
    successes: u32,
    failures: u32,
    success_threshold: u32,
    failure_threshold: u32,
}

impl ProbeCounter {
    /// `initial`: liveness starts healthy, readiness and startup do not.
    pub fn new(timing: &ProbeTiming, initial: bool) -> Self {
        ProbeCounter {
            result: initial,
            successes: 0,
            failures: 0,
            success_threshold: timing.success_threshold,
            failure_threshold: timing.failure_threshold,
        }
    }

    /// Records one attempt; returns the new result when it flipped.
    pub fn observe(&mut self, ok: bool) -> Option<bool> {
        if ok {
            self.failures = 0;
            self.successes = self.successes.saturating_add(1);
            if !self.result && self.successes >= self.success_threshold {
                self.result = true;
                return Some(true);
            }
        } else {
            self.successes = 0;
            self.failures = self.failures.saturating_add(1);
            if self.result && self.failures >= self.failure_threshold {
                self.result = false;
                self.failures = 0;
                return Some(false);
            }
        }
        None
    }

    /// failureThreshold failures in a row (what fails a startup probe, whose result
    /// starts out false and so never flips).
    pub fn failed_out(&self) -> bool {
        self.failures >= self.failure_threshold
    }
}

#[derive(Debug, Default)]
struct Shared {
    ready: bool,
    started: bool,
}

/// The probe tasks of one container run; dropping it stops them.
#[derive(Debug)]
pub struct ProbeSet {
    shared: Arc<Mutex<Shared>>,
    handles: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for ProbeSet {
    fn drop(&mut self) {
        for h in &self.handles {
            h.abort();
        }
    }
}

fn lock(m: &Mutex<Shared>) -> std::sync::MutexGuard<'_, Shared> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Everything a probe task needs, owned.
#[derive(Clone)]
struct ProbeContext {
    pod: Pod,
    container: String,
    target: HandlerTarget,
    events: EventRecorder,
    shared: Arc<Mutex<Shared>>,
    grace: Duration,
}

impl ProbeSet {
    /// (ready, started) for the container's status.
    pub fn status(&self) -> (bool, bool) {
        let s = lock(&self.shared);
        (s.ready, s.started)
    }

    /// Stops the probe tasks.
    pub fn stop(self) {
        drop(self);
    }

    /// Starts the container's probers; None when it has no probes (ready once running).
    pub fn spawn(
        runner: &PodRunner,
        running: &RunningPod,
        info: &PodRuntimeInfo,
        c: &Container,
        container_id: &str,
    ) -> Option<ProbeSet> {
        if c.liveness_probe.is_none() && c.readiness_probe.is_none() && c.startup_probe.is_none() {
            return None;
        }
        let shared = Arc::new(Mutex::new(Shared {
            ready: false,
            started: c.startup_probe.is_none(),
        }));
        let grace = running
            .pod
            .spec
            .as_ref()
            .and_then(|s| s.termination_grace_period_seconds)
            .and_then(|g| u64::try_from(g).ok())
            .unwrap_or(30);
        let ctx = ProbeContext {
            pod: running.pod.clone(),
            container: c.name.clone(),
            target: runner.hook_target(running, info, container_id),
            events: runner.settings.events.clone(),
            shared: shared.clone(),
            grace: Duration::from_secs(grace),
        };
        if c.readiness_probe.is_none() {
            // Ready as soon as started.
            let mut s = lock(&shared);
            s.ready = s.started;
        }
        let mut handles = Vec::new();
        for (kind, probe) in [
            (ProbeKind::Startup, &c.startup_probe),
            (ProbeKind::Liveness, &c.liveness_probe),
            (ProbeKind::Readiness, &c.readiness_probe),
        ] {
            if let Some(p) = probe.clone() {
                let ctx = ctx.clone();
                handles.push(tokio::spawn(run(kind, p, ctx, c.readiness_probe.is_none())));
            }
        }
        Some(ProbeSet { shared, handles })
    }
}

async fn run(kind: ProbeKind, probe: Probe, ctx: ProbeContext, no_readiness: bool) {
    let timing = ProbeTiming::of(&probe);
    let mut counter = ProbeCounter::new(&timing, kind == ProbeKind::Liveness);
    tokio::time::sleep(timing.initial_delay).await;
    loop {
        let started = lock(&ctx.shared).started;
        if kind == ProbeKind::Startup || started {
            let result = run_probe_action(
                &ctx.target,
                probe.exec.as_ref(),
                probe.http_get.as_ref(),
                probe.tcp_socket.as_ref(),
                timing.timeout,
            )
            .await;
            if let Err(msg) = &result {
                ctx.events.record(
                    &ctx.pod,
                    Some(&ctx.container),
                    WARNING,
                    reason::UNHEALTHY,
                    &format!("{} probe failed: {msg}", kind.label()),
                );
            }
            let flipped = counter.observe(result.is_ok());
            if kind == ProbeKind::Startup && counter.failed_out() {
                kill(&ctx, kind, &probe).await;
                return;
            }
            match (kind, flipped) {
                (ProbeKind::Readiness, Some(ready)) => lock(&ctx.shared).ready = ready,
                (ProbeKind::Startup, Some(true)) => {
                    let mut s = lock(&ctx.shared);
                    s.started = true;
                    if no_readiness {
                        s.ready = true;
                    }
                    return;
                }
                (ProbeKind::Liveness | ProbeKind::Startup, Some(false)) => {
                    kill(&ctx, kind, &probe).await;
                    return;
                }
                _ => {}
            }
        }
        tokio::time::sleep(timing.period).await;
    }
}

/// Upstream: "Container x failed liveness probe, will be restarted", then a kill with
/// the probe's (or pod's) grace period.
async fn kill(ctx: &ProbeContext, kind: ProbeKind, probe: &Probe) {
    {
        let mut s = lock(&ctx.shared);
        s.ready = false;
    }
    let Some(runtime) = ctx.target.runtime.as_ref() else {
        return;
    };
    ctx.events.record(
        &ctx.pod,
        Some(&ctx.container),
        NORMAL,
        reason::KILLING,
        &format!(
            "Container {} failed {} probe, will be restarted",
            ctx.container,
            kind.label().to_lowercase()
        ),
    );
    let grace = probe
        .termination_grace_period_seconds
        .and_then(|g| u64::try_from(g).ok())
        .map(Duration::from_secs)
        .unwrap_or(ctx.grace);
    let id = &ctx.target.container_id;
    if runtime.kill(id, SIGTERM).await.is_ok()
        && runtime
            .wait(id, grace.max(Duration::from_millis(1)))
            .await
            .is_err()
    {
        let _ = runtime.kill(id, SIGKILL).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timing_defaults() {
        let t = ProbeTiming::of(&Probe::default());
        assert_eq!(
            t,
            ProbeTiming {
                initial_delay: Duration::ZERO,
                period: Duration::from_secs(10),
                timeout: Duration::from_secs(1),
                success_threshold: 1,
                failure_threshold: 3,
            }
        );
        let t = ProbeTiming::of(&Probe {
            initial_delay_seconds: Some(5),
            period_seconds: Some(2),
            timeout_seconds: Some(3),
            success_threshold: Some(2),
            failure_threshold: Some(1),
            ..Default::default()
        });
        assert_eq!(t.period, Duration::from_secs(2));
        assert_eq!((t.success_threshold, t.failure_threshold), (2, 1));
    }

    #[test]
    fn thresholds_flip_the_result() {
        let timing = ProbeTiming {
            initial_delay: Duration::ZERO,
            period: Duration::from_secs(1),
            timeout: Duration::from_secs(1),
            success_threshold: 2,
            failure_threshold: 3,
        };
        // Readiness: starts unready, needs two successes in a row.
        let mut r = ProbeCounter::new(&timing, false);
        assert_eq!(r.observe(true), None);
        assert_eq!(r.observe(false), None);
        assert_eq!(r.observe(true), None);
        assert_eq!(r.observe(true), Some(true));
        assert_eq!(r.observe(false), None);
        assert_eq!(r.observe(false), None);
        assert_eq!(r.observe(false), Some(false));
        assert!(!r.result);
        // Liveness: starts healthy; three failures in a row kill.
        let mut l = ProbeCounter::new(&timing, true);
        assert_eq!(l.observe(false), None);
        assert_eq!(l.observe(true), None);
        assert_eq!(l.observe(false), None);
        assert_eq!(l.observe(false), None);
        assert_eq!(l.observe(false), Some(false));
        // Startup: starts false, fails out after the threshold.
        let mut st = ProbeCounter::new(&timing, false);
        st.observe(false);
        st.observe(false);
        assert!(!st.failed_out());
        st.observe(false);
        assert!(st.failed_out());
    }
}
