//! The pod's status from what the runtime reports, as a pure function with upstream's
//! semantics (kubelet `getPhase`, `status.Generate*Condition`).

use std::collections::BTreeMap;
use std::net::IpAddr;

use k8s_openapi::api::core::v1::{
    ContainerState, ContainerStateRunning, ContainerStateTerminated, ContainerStateWaiting,
    ContainerStatus, Pod, PodCondition, PodIP, PodStatus,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

/// One container's state as observed in the runtime.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ObservedState {
    /// Not started (yet), e.g. an app container while init containers run.
    Waiting {
        reason: String,
    },
    Running {
        started_at: Option<Time>,
    },
    Terminated {
        exit_code: i32,
        /// Set when the process died of a signal (the shim reports 128+N).
        signal: Option<i32>,
        started_at: Option<Time>,
        finished_at: Option<Time>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObservedContainer {
    pub name: String,
    pub image: String,
    pub image_id: String,
    /// `containerd://<id>` once created.
    pub container_id: Option<String>,
    pub state: ObservedState,
    pub restart_count: i32,
}

/// What the worker knows about a container beyond its runtime state: probe results,
/// restarts, messages. Absent fields keep [`compute_status`]'s defaults.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ContainerDetail {
    /// containerStatuses[].ready (readiness probe); default: running.
    pub ready: Option<bool>,
    /// containerStatuses[].started (startup probe); default: running.
    pub started: Option<bool>,
    /// The waiting state's message (CrashLoopBackOff, CreateContainerConfigError, ...).
    pub waiting_message: Option<String>,
    /// Overrides the terminated reason (OOMKilled, StartError) and adds a message.
    pub terminated_reason: Option<String>,
    pub terminated_message: Option<String>,
    /// lastState.terminated: the previous run's end.
    pub last_state: Option<ContainerStateTerminated>,
}

/// Everything [`compute_status`] needs besides the pod itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodObservation {
    /// Init containers in spec order; those not reached yet may be missing.
    pub init: Vec<ObservedContainer>,
    /// App containers; missing ones count as waiting.
    pub app: Vec<ObservedContainer>,
    /// From the CNI result; the first is status.podIP.
    pub pod_ips: Vec<IpAddr>,
    pub host_ip: Option<String>,
    pub start_time: Option<Time>,
    /// Whether the sandbox (netns + CNI) is up: the PodReadyToStartContainers condition.
    pub sandbox_ready: bool,
    pub now: Time,
}

/// The waiting reason of a container backing off between restarts.
pub const CRASH_LOOP_BACK_OFF: &str = "CrashLoopBackOff";

pub const PHASE_PENDING: &str = "Pending";
pub const PHASE_RUNNING: &str = "Running";
pub const PHASE_SUCCEEDED: &str = "Succeeded";
pub const PHASE_FAILED: &str = "Failed";

fn restart_policy(pod: &Pod) -> &str {
    pod.spec
        .as_ref()
        .and_then(|s| s.restart_policy.as_deref())
        .unwrap_or("Always")
}

fn find<'a>(list: &'a [ObservedContainer], name: &str) -> Option<&'a ObservedContainer> {
    list.iter().find(|c| c.name == name)
}

fn init_names(pod: &Pod) -> Vec<String> {
    pod.spec
        .as_ref()
        .and_then(|s| s.init_containers.as_ref())
        .into_iter()
        .flatten()
        .map(|c| c.name.clone())
        .collect()
}

fn app_names(pod: &Pod) -> Vec<String> {
    pod.spec
        .as_ref()
        .map(|s| s.containers.iter().map(|c| c.name.clone()).collect())
        .unwrap_or_default()
}

fn succeeded(c: Option<&ObservedContainer>) -> bool {
    matches!(
        c.map(|c| &c.state),
        Some(ObservedState::Terminated { exit_code: 0, .. })
    )
}

/// Upstream `getPhase` (without sidecar init containers or the Unknown state).
pub fn phase(pod: &Pod, obs: &PodObservation) -> &'static str {
    let policy = restart_policy(pod);
    let mut pending_init = 0;
    let mut failed_init = 0;
    for name in init_names(pod) {
        match find(&obs.init, &name).map(|c| &c.state) {
            Some(ObservedState::Terminated { exit_code: 0, .. }) => {}
            Some(ObservedState::Terminated { .. }) => failed_init += 1,
            _ => pending_init += 1,
        }
    }
    if failed_init > 0 && policy == "Never" {
        return PHASE_FAILED;
    }
    if pending_init > 0 || failed_init > 0 {
        return PHASE_PENDING;
    }
    let (mut running, mut waiting, mut stopped, mut ok) = (0, 0, 0, 0);
    for name in app_names(pod) {
        match find(&obs.app, &name).map(|c| &c.state) {
            Some(ObservedState::Running { .. }) => running += 1,
            Some(ObservedState::Terminated { exit_code, .. }) => {
                stopped += 1;
                if *exit_code == 0 {
                    ok += 1;
                }
            }
            // Upstream counts a waiting container that ran before (lastState set, i.e.
            // backing off) as stopped: a crash-looping pod stays Running.
            Some(ObservedState::Waiting { reason }) if reason == CRASH_LOOP_BACK_OFF => {
                stopped += 1;
            }
            Some(ObservedState::Waiting { .. }) | None => waiting += 1,
        }
    }
    if waiting > 0 {
        PHASE_PENDING
    } else if running > 0 {
        PHASE_RUNNING
    } else if stopped > 0 {
        // All stopped: Always restarts them (still Running); otherwise the outcome decides,
        // and OnFailure keeps restarting failed ones.
        if policy == "Always" {
            PHASE_RUNNING
        } else if stopped == ok {
            PHASE_SUCCEEDED
        } else if policy == "Never" {
            PHASE_FAILED
        } else {
            PHASE_RUNNING
        }
    } else {
        PHASE_PENDING
    }
}

fn condition(
    type_: &str,
    ok: bool,
    reason: Option<&str>,
    message: Option<String>,
    now: &Time,
    previous: Option<&PodStatus>,
) -> PodCondition {
    let status = if ok { "True" } else { "False" };
    // Keep the transition time while the status does not change.
    let last_transition_time = previous
        .and_then(|p| p.conditions.as_ref())
        .and_then(|cs| cs.iter().find(|c| c.type_ == type_))
        .filter(|c| c.status == status)
        .and_then(|c| c.last_transition_time.clone())
        .or_else(|| Some(now.clone()));
    PodCondition {
        type_: type_.into(),
        status: status.into(),
        reason: if ok { None } else { reason.map(str::to_string) },
        message: if ok { None } else { message },
        last_transition_time,
        ..Default::default()
    }
}

/// Whether the container counts as ready (readiness probe result when known).
fn is_ready(c: &ObservedContainer, detail: Option<&ContainerDetail>) -> bool {
    let running = matches!(c.state, ObservedState::Running { .. });
    running && detail.and_then(|d| d.ready).unwrap_or(true)
}

fn container_status(c: &ObservedContainer, detail: Option<&ContainerDetail>) -> ContainerStatus {
    let state = match &c.state {
        ObservedState::Waiting { reason } => ContainerState {
            waiting: Some(ContainerStateWaiting {
                reason: Some(reason.clone()),
                message: detail.and_then(|d| d.waiting_message.clone()),
            }),
            ..Default::default()
        },
        ObservedState::Running { started_at } => ContainerState {
            running: Some(ContainerStateRunning {
                started_at: started_at.clone(),
            }),
            ..Default::default()
        },
        ObservedState::Terminated {
            exit_code,
            signal,
            started_at,
            finished_at,
        } => ContainerState {
            terminated: Some(ContainerStateTerminated {
                container_id: c.container_id.clone(),
                exit_code: *exit_code,
                signal: *signal,
                reason: Some(
                    detail
                        .and_then(|d| d.terminated_reason.clone())
                        .unwrap_or_else(|| {
                            if *exit_code == 0 {
                                "Completed"
                            } else {
                                "Error"
                            }
                            .into()
                        }),
                ),
                started_at: started_at.clone(),
                finished_at: finished_at.clone(),
                message: detail.and_then(|d| d.terminated_message.clone()),
            }),
            ..Default::default()
        },
    };
    // Without probes a running container is ready and started.
    let running = matches!(c.state, ObservedState::Running { .. });
    let started = running && detail.and_then(|d| d.started).unwrap_or(true);
    ContainerStatus {
        name: c.name.clone(),
        image: c.image.clone(),
        image_id: c.image_id.clone(),
        container_id: c.container_id.clone(),
        ready: is_ready(c, detail),
        started: Some(started),
        restart_count: c.restart_count,
        state: Some(state),
        last_state: detail
            .and_then(|d| d.last_state.clone())
            .map(|t| ContainerState {
                terminated: Some(t),
                ..Default::default()
            }),
        ..Default::default()
    }
}

/// Placeholder status for a spec container the runtime has not seen.
fn unseen(pod: &Pod, name: &str, init: bool, reason: &str) -> ObservedContainer {
    let spec = pod.spec.as_ref();
    let list = if init {
        spec.and_then(|s| s.init_containers.as_ref())
    } else {
        spec.map(|s| &s.containers)
    };
    let image = list
        .into_iter()
        .flatten()
        .find(|c| c.name == name)
        .and_then(|c| c.image.clone())
        .unwrap_or_default();
    ObservedContainer {
        name: name.into(),
        image,
        image_id: String::new(),
        container_id: None,
        state: ObservedState::Waiting {
            reason: reason.into(),
        },
        restart_count: 0,
    }
}

/// The pod's status: phase, conditions, IPs and container statuses. `previous` keeps
/// condition transition times stable across calls.
pub fn compute_status(pod: &Pod, obs: &PodObservation, previous: Option<&PodStatus>) -> PodStatus {
    compute_status_with(pod, obs, &BTreeMap::new(), previous)
}

/// [`compute_status`] with per-container details (by name): readiness from probes,
/// messages, lastState.
pub fn compute_status_with(
    pod: &Pod,
    obs: &PodObservation,
    details: &BTreeMap<String, ContainerDetail>,
    previous: Option<&PodStatus>,
) -> PodStatus {
    let phase = phase(pod, obs);
    let now = &obs.now;

    let init: Vec<ObservedContainer> = init_names(pod)
        .iter()
        .map(|n| {
            find(&obs.init, n)
                .cloned()
                .unwrap_or_else(|| unseen(pod, n, true, "PodInitializing"))
        })
        .collect();
    let app: Vec<ObservedContainer> = app_names(pod)
        .iter()
        .map(|n| {
            find(&obs.app, n)
                .cloned()
                .unwrap_or_else(|| unseen(pod, n, false, "PodInitializing"))
        })
        .collect();

    // Initialized: every init container exited 0 (or the pod is past them).
    let incomplete: Vec<&str> = init
        .iter()
        .filter(|c| !succeeded(Some(c)))
        .map(|c| c.name.as_str())
        .collect();
    let initialized = incomplete.is_empty();
    let init_cond = condition(
        "Initialized",
        initialized,
        Some("ContainersNotInitialized"),
        Some(format!(
            "containers with incomplete status: [{}]",
            incomplete.join(" ")
        )),
        now,
        previous,
    );

    // ContainersReady / Ready: every app container ready; a finished pod is PodCompleted.
    let unready: Vec<&str> = app
        .iter()
        .filter(|c| !is_ready(c, details.get(&c.name)))
        .map(|c| c.name.as_str())
        .collect();
    let ready = unready.is_empty() && !app.is_empty();
    let (reason, message) = if phase == PHASE_SUCCEEDED || phase == PHASE_FAILED {
        ("PodCompleted", None)
    } else if !initialized {
        (
            "ContainersNotInitialized",
            Some(format!(
                "containers with incomplete status: [{}]",
                incomplete.join(" ")
            )),
        )
    } else {
        (
            "ContainersNotReady",
            Some(format!(
                "containers with unready status: [{}]",
                unready.join(" ")
            )),
        )
    };
    let conditions = vec![
        condition(
            "PodReadyToStartContainers",
            obs.sandbox_ready,
            None,
            None,
            now,
            previous,
        ),
        init_cond,
        condition("Ready", ready, Some(reason), message.clone(), now, previous),
        condition(
            "ContainersReady",
            ready,
            Some(reason),
            message,
            now,
            previous,
        ),
        condition("PodScheduled", true, None, None, now, previous),
    ];

    let pod_ips: Vec<PodIP> = obs
        .pod_ips
        .iter()
        .map(|ip| PodIP { ip: ip.to_string() })
        .collect();
    PodStatus {
        phase: Some(phase.into()),
        conditions: Some(conditions),
        pod_ip: obs.pod_ips.first().map(|ip| ip.to_string()),
        pod_ips: (!pod_ips.is_empty()).then_some(pod_ips),
        host_ip: obs.host_ip.clone(),
        start_time: obs.start_time.clone(),
        init_container_statuses: (!init.is_empty()).then(|| {
            init.iter()
                .map(|c| container_status(c, details.get(&format!("init:{}", c.name))))
                .collect()
        }),
        container_statuses: Some(
            app.iter()
                .map(|c| container_status(c, details.get(&c.name)))
                .collect(),
        ),
        qos_class: None,
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{Container, PodSpec};

    fn pod(init: &[&str], app: &[&str], policy: &str) -> Pod {
        let c = |n: &&str| Container {
            name: n.to_string(),
            image: Some("img".into()),
            ..Default::default()
        };
        let mut p = Pod::default();
        p.metadata.name = Some("p".into());
        p.spec = Some(PodSpec {
            init_containers: (!init.is_empty()).then(|| init.iter().map(c).collect()),
            containers: app.iter().map(c).collect(),
            restart_policy: Some(policy.into()),
            ..Default::default()
        });
        p
    }

    fn obs_c(name: &str, state: ObservedState) -> ObservedContainer {
        ObservedContainer {
            name: name.into(),
            image: "img".into(),
            image_id: String::new(),
            container_id: Some(format!("containerd://{name}")),
            state,
            restart_count: 0,
        }
    }

    fn running() -> ObservedState {
        ObservedState::Running { started_at: None }
    }

    fn exited(code: i32) -> ObservedState {
        ObservedState::Terminated {
            exit_code: code,
            signal: None,
            started_at: None,
            finished_at: None,
        }
    }

    fn observe(init: Vec<ObservedContainer>, app: Vec<ObservedContainer>) -> PodObservation {
        PodObservation {
            init,
            app,
            pod_ips: vec!["10.244.1.5".parse().unwrap()],
            host_ip: None,
            start_time: None,
            sandbox_ready: true,
            now: Time(k8s_openapi::jiff::Timestamp::UNIX_EPOCH),
        }
    }

    fn cond<'a>(s: &'a PodStatus, t: &str) -> &'a PodCondition {
        s.conditions
            .as_ref()
            .unwrap()
            .iter()
            .find(|c| c.type_ == t)
            .unwrap()
    }

    #[test]
    fn running_pod() {
        let p = pod(&["init"], &["app"], "Always");
        let o = observe(
            vec![obs_c("init", exited(0))],
            vec![obs_c("app", running())],
        );
        let s = compute_status(&p, &o, None);
        assert_eq!(s.phase.as_deref(), Some("Running"));
        for t in ["PodScheduled", "Initialized", "ContainersReady", "Ready"] {
            assert_eq!(cond(&s, t).status, "True", "{t}");
        }
        assert_eq!(s.pod_ip.as_deref(), Some("10.244.1.5"));
        assert_eq!(s.pod_ips.as_ref().unwrap()[0].ip, "10.244.1.5");
        let init = &s.init_container_statuses.as_ref().unwrap()[0];
        let t = init.state.as_ref().unwrap().terminated.as_ref().unwrap();
        assert_eq!((t.exit_code, t.reason.as_deref()), (0, Some("Completed")));
        let app = &s.container_statuses.as_ref().unwrap()[0];
        assert!(app.ready && app.state.as_ref().unwrap().running.is_some());
    }

    #[test]
    fn initializing_pod_is_pending() {
        let p = pod(&["a", "b"], &["app"], "Always");
        let o = observe(vec![obs_c("a", exited(0)), obs_c("b", running())], vec![]);
        let s = compute_status(&p, &o, None);
        assert_eq!(s.phase.as_deref(), Some("Pending"));
        let c = cond(&s, "Initialized");
        assert_eq!(c.status, "False");
        assert_eq!(c.reason.as_deref(), Some("ContainersNotInitialized"));
        assert_eq!(
            c.message.as_deref(),
            Some("containers with incomplete status: [b]")
        );
        assert_eq!(cond(&s, "Ready").status, "False");
        let app = &s.container_statuses.as_ref().unwrap()[0];
        assert_eq!(
            app.state
                .as_ref()
                .unwrap()
                .waiting
                .as_ref()
                .unwrap()
                .reason
                .as_deref(),
            Some("PodInitializing")
        );
    }

    #[test]
    fn failed_init_with_never_fails_the_pod() {
        let p = pod(&["a"], &["app"], "Never");
        let o = observe(vec![obs_c("a", exited(2))], vec![]);
        assert_eq!(phase(&p, &o), "Failed");
        let p = pod(&["a"], &["app"], "Always");
        assert_eq!(phase(&p, &o), "Pending");
    }

    #[test]
    fn terminal_phases() {
        let o = observe(vec![], vec![obs_c("app", exited(1))]);
        let s = compute_status(&pod(&[], &["app"], "Never"), &o, None);
        assert_eq!(s.phase.as_deref(), Some("Failed"));
        assert_eq!(cond(&s, "Ready").reason.as_deref(), Some("PodCompleted"));
        let t = s.container_statuses.as_ref().unwrap()[0]
            .state
            .clone()
            .unwrap()
            .terminated
            .unwrap();
        assert_eq!((t.exit_code, t.reason.as_deref()), (1, Some("Error")));
        assert_eq!(phase(&pod(&[], &["app"], "OnFailure"), &o), "Running");
        assert_eq!(phase(&pod(&[], &["app"], "Always"), &o), "Running");
        let o = observe(vec![], vec![obs_c("app", exited(0))]);
        assert_eq!(phase(&pod(&[], &["app"], "OnFailure"), &o), "Succeeded");
        // One still running keeps the pod Running; one not started keeps it Pending.
        let o = observe(vec![], vec![obs_c("a", exited(1)), obs_c("b", running())]);
        assert_eq!(phase(&pod(&[], &["a", "b"], "Never"), &o), "Running");
        let o = observe(vec![], vec![obs_c("a", running())]);
        assert_eq!(phase(&pod(&[], &["a", "b"], "Never"), &o), "Pending");
        // A crash-looping container keeps the pod Running.
        let o = observe(
            vec![],
            vec![obs_c(
                "a",
                ObservedState::Waiting {
                    reason: CRASH_LOOP_BACK_OFF.into(),
                },
            )],
        );
        assert_eq!(phase(&pod(&[], &["a"], "Always"), &o), "Running");
    }

    #[test]
    fn details_drive_readiness_and_messages() {
        let p = pod(&["i"], &["app"], "Always");
        let o = observe(vec![obs_c("i", exited(0))], vec![obs_c("app", running())]);
        let last = ContainerStateTerminated {
            exit_code: 137,
            reason: Some("OOMKilled".into()),
            ..Default::default()
        };
        let details = BTreeMap::from([(
            "app".to_string(),
            ContainerDetail {
                ready: Some(false),
                started: Some(true),
                last_state: Some(last.clone()),
                ..Default::default()
            },
        )]);
        let s = compute_status_with(&p, &o, &details, None);
        assert_eq!(s.phase.as_deref(), Some("Running"));
        assert_eq!(cond(&s, "Ready").status, "False");
        assert_eq!(
            cond(&s, "ContainersReady").message.as_deref(),
            Some("containers with unready status: [app]")
        );
        let app = &s.container_statuses.as_ref().unwrap()[0];
        assert!(!app.ready);
        assert_eq!(app.started, Some(true));
        assert_eq!(app.last_state.as_ref().unwrap().terminated, Some(last));

        let o = observe(
            vec![obs_c("i", exited(0))],
            vec![obs_c(
                "app",
                ObservedState::Waiting {
                    reason: "CrashLoopBackOff".into(),
                },
            )],
        );
        let details = BTreeMap::from([
            (
                "app".to_string(),
                ContainerDetail {
                    waiting_message: Some("back-off 10s".into()),
                    ..Default::default()
                },
            ),
            (
                "init:i".to_string(),
                ContainerDetail {
                    terminated_reason: Some("Completed".into()),
                    terminated_message: Some("done".into()),
                    ..Default::default()
                },
            ),
        ]);
        let s = compute_status_with(&p, &o, &details, None);
        let w = s.container_statuses.as_ref().unwrap()[0]
            .state
            .clone()
            .unwrap()
            .waiting
            .unwrap();
        assert_eq!(w.message.as_deref(), Some("back-off 10s"));
        let t = s.init_container_statuses.as_ref().unwrap()[0]
            .state
            .clone()
            .unwrap()
            .terminated
            .unwrap();
        assert_eq!(t.message.as_deref(), Some("done"));
    }

    #[test]
    fn transition_times_are_kept() {
        let p = pod(&[], &["app"], "Always");
        let mut o = observe(vec![], vec![obs_c("app", running())]);
        let first = compute_status(&p, &o, None);
        o.now = Time(k8s_openapi::jiff::Timestamp::from_second(100).unwrap());
        let second = compute_status(&p, &o, Some(&first));
        assert_eq!(
            cond(&second, "Ready").last_transition_time,
            cond(&first, "Ready").last_transition_time
        );
        o.app = vec![obs_c("app", exited(1))];
        let third = compute_status(&p, &o, Some(&second));
        assert_eq!(cond(&third, "Ready").status, "False");
        assert_eq!(
            cond(&third, "Ready").last_transition_time,
            Some(o.now.clone())
        );
    }
}
