//! Pod STATUS / READY / RESTARTS edge cases, mirroring upstream's printPod tests.

use k8s_openapi::api::core::v1::{
    Container, ContainerState, ContainerStateRunning, ContainerStateTerminated,
    ContainerStateWaiting, ContainerStatus, Pod, PodCondition, PodIP, PodReadinessGate, PodSpec,
    PodStatus,
};
use serde_json::{json, Value};

use super::{ago, cells_of, dynamic, headers, info, meta, now, strs};
use crate::tables::{row_cells, to_table};
use api_types::table::IncludeObject;

fn container(name: &str) -> Container {
    Container {
        name: name.into(),
        image: Some("busybox".into()),
        ..Default::default()
    }
}

fn sidecar(name: &str) -> Container {
    Container {
        restart_policy: Some("Always".into()),
        ..container(name)
    }
}

fn running(name: &str, ready: bool, restarts: i32) -> ContainerStatus {
    ContainerStatus {
        name: name.into(),
        ready,
        restart_count: restarts,
        state: Some(ContainerState {
            running: Some(ContainerStateRunning::default()),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn waiting(name: &str, reason: &str) -> ContainerStatus {
    ContainerStatus {
        name: name.into(),
        state: Some(ContainerState {
            waiting: Some(ContainerStateWaiting {
                reason: Some(reason.into()),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn terminated(
    name: &str,
    reason: Option<&str>,
    exit_code: i32,
    signal: Option<i32>,
) -> ContainerStatus {
    ContainerStatus {
        name: name.into(),
        state: Some(ContainerState {
            terminated: Some(ContainerStateTerminated {
                reason: reason.map(str::to_string),
                exit_code,
                signal,
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn condition(type_: &str, status: &str) -> PodCondition {
    PodCondition {
        type_: type_.into(),
        status: status.into(),
        ..Default::default()
    }
}

fn pod(containers: &[&str], init: Vec<Container>, status: PodStatus) -> Pod {
    Pod {
        metadata: meta("web"),
        spec: Some(PodSpec {
            containers: containers.iter().map(|c| container(c)).collect(),
            init_containers: if init.is_empty() { None } else { Some(init) },
            ..Default::default()
        }),
        status: Some(status),
    }
}

fn cells(p: &Pod) -> Vec<Value> {
    cells_of("", "v1", "pods", p)
}

/// READY, STATUS and RESTARTS.
fn summary(p: &Pod) -> (String, String, String) {
    let c = cells(p);
    let text = |v: &Value| v.as_str().unwrap().to_string();
    (text(&c[1]), text(&c[2]), text(&c[3]))
}

fn tuple(ready: &str, status: &str, restarts: &str) -> (String, String, String) {
    (ready.into(), status.into(), restarts.into())
}

#[test]
fn pod_columns_match_upstream() {
    assert_eq!(
        headers(info("", "v1", "pods")),
        strs(&[
            ("NAME", 0),
            ("READY", 0),
            ("STATUS", 0),
            ("RESTARTS", 0),
            ("AGE", 0),
            ("IP", 1),
            ("NODE", 1),
            ("NOMINATED NODE", 1),
            ("READINESS GATES", 1),
        ])
    );
}

#[test]
fn running_pod_prints_every_cell() {
    let mut p = pod(
        &["app"],
        vec![],
        PodStatus {
            phase: Some("Running".into()),
            pod_ips: Some(vec![PodIP {
                ip: "10.244.0.5".into(),
            }]),
            container_statuses: Some(vec![running("app", true, 0)]),
            ..Default::default()
        },
    );
    if let Some(spec) = p.spec.as_mut() {
        spec.node_name = Some("node-1".into());
    }
    assert_eq!(
        cells(&p),
        vec![
            json!("web"),
            json!("1/1"),
            json!("Running"),
            json!("0"),
            json!("5m"),
            json!("10.244.0.5"),
            json!("node-1"),
            json!("<none>"),
            json!("<none>"),
        ]
    );
}

#[test]
fn pending_pod_without_status_prints_none() {
    let p = Pod {
        metadata: meta("new"),
        spec: Some(PodSpec {
            containers: vec![container("a")],
            ..Default::default()
        }),
        status: None,
    };
    let c = cells(&p);
    assert_eq!(c[1..4], [json!("0/1"), json!(""), json!("0")]);
    assert_eq!(
        c[5..],
        [
            json!("<none>"),
            json!("<none>"),
            json!("<none>"),
            json!("<none>")
        ]
    );
    let pending = pod(
        &["a"],
        vec![],
        PodStatus {
            phase: Some("Pending".into()),
            ..Default::default()
        },
    );
    assert_eq!(summary(&pending), tuple("0/1", "Pending", "0"));
}

#[test]
fn waiting_reasons_win_over_phase() {
    let creating = pod(
        &["a", "b"],
        vec![],
        PodStatus {
            phase: Some("Pending".into()),
            container_statuses: Some(vec![
                waiting("a", "ContainerCreating"),
                waiting("b", "ErrImagePull"),
            ]),
            ..Default::default()
        },
    );
    // The first container's reason is the one printed.
    assert_eq!(summary(&creating), tuple("0/2", "ContainerCreating", "0"));
}

#[test]
fn crash_loop_back_off_shows_restarts_with_last_termination() {
    let mut status = waiting("app", "CrashLoopBackOff");
    status.restart_count = 5;
    status.last_state = Some(ContainerState {
        terminated: Some(ContainerStateTerminated {
            exit_code: 1,
            reason: Some("Error".into()),
            finished_at: Some(ago(180)),
            ..Default::default()
        }),
        ..Default::default()
    });
    let p = pod(
        &["app"],
        vec![],
        PodStatus {
            phase: Some("Running".into()),
            container_statuses: Some(vec![status]),
            ..Default::default()
        },
    );
    assert_eq!(summary(&p), tuple("0/1", "CrashLoopBackOff", "5 (3m ago)"));
}

#[test]
fn restarts_without_termination_time_are_bare() {
    let p = pod(
        &["app"],
        vec![],
        PodStatus {
            phase: Some("Running".into()),
            container_statuses: Some(vec![running("app", true, 2)]),
            ..Default::default()
        },
    );
    assert_eq!(summary(&p), tuple("1/1", "Running", "2"));
}

#[test]
fn terminated_containers_print_reason_exit_code_or_signal() {
    let status = |c: ContainerStatus, phase: &str| PodStatus {
        phase: Some(phase.into()),
        container_statuses: Some(vec![c]),
        ..Default::default()
    };
    let done = pod(
        &["a"],
        vec![],
        status(terminated("a", Some("Completed"), 0, None), "Succeeded"),
    );
    assert_eq!(summary(&done), tuple("0/1", "Completed", "0"));
    let oom = pod(
        &["a"],
        vec![],
        status(terminated("a", Some("OOMKilled"), 137, None), "Failed"),
    );
    assert_eq!(summary(&oom), tuple("0/1", "OOMKilled", "0"));
    let code = pod(
        &["a"],
        vec![],
        status(terminated("a", None, 3, None), "Failed"),
    );
    assert_eq!(summary(&code).1, "ExitCode:3");
    let signal = pod(
        &["a"],
        vec![],
        status(terminated("a", None, 137, Some(9)), "Failed"),
    );
    assert_eq!(summary(&signal).1, "Signal:9");
}

#[test]
fn init_containers_report_progress_and_failures() {
    let init = || vec![container("init-a"), container("init-b")];
    let with = |statuses: Vec<ContainerStatus>| {
        pod(
            &["app"],
            init(),
            PodStatus {
                phase: Some("Pending".into()),
                init_container_statuses: Some(statuses),
                container_statuses: Some(vec![waiting("app", "PodInitializing")]),
                ..Default::default()
            },
        )
    };
    // Still running the first one (PodInitializing does not count as a reason).
    assert_eq!(
        summary(&with(vec![
            running("init-a", false, 0),
            waiting("init-b", "PodInitializing")
        ]))
        .1,
        "Init:0/2"
    );
    assert_eq!(
        summary(&with(vec![waiting("init-a", "PodInitializing")])).1,
        "Init:0/2"
    );
    // The first finished, the second is running.
    let first_done = vec![
        terminated("init-a", Some("Completed"), 0, None),
        running("init-b", false, 0),
    ];
    assert_eq!(summary(&with(first_done)), tuple("0/1", "Init:1/2", "0"));
    // Failures.
    let mut crashing = waiting("init-a", "CrashLoopBackOff");
    crashing.restart_count = 3;
    assert_eq!(
        summary(&with(vec![crashing])),
        tuple("0/1", "Init:CrashLoopBackOff", "3")
    );
    assert_eq!(
        summary(&with(vec![terminated("init-a", Some("Error"), 1, None)])).1,
        "Init:Error"
    );
    assert_eq!(
        summary(&with(vec![terminated("init-a", None, 2, None)])).1,
        "Init:ExitCode:2"
    );
    assert_eq!(
        summary(&with(vec![terminated("init-a", None, 137, Some(9))])).1,
        "Init:Signal:9"
    );
    // All done: the app container's own state shows.
    let all_done = vec![
        terminated("init-a", Some("Completed"), 0, None),
        terminated("init-b", Some("Completed"), 0, None),
    ];
    assert_eq!(summary(&with(all_done)).1, "PodInitializing");
}

#[test]
fn sidecars_count_as_containers() {
    let mut sidecar_status = running("proxy", true, 1);
    sidecar_status.started = Some(true);
    sidecar_status.last_state = Some(ContainerState {
        terminated: Some(ContainerStateTerminated {
            finished_at: Some(ago(600)),
            ..Default::default()
        }),
        ..Default::default()
    });
    let p = pod(
        &["app"],
        vec![container("setup"), sidecar("proxy")],
        PodStatus {
            phase: Some("Running".into()),
            conditions: Some(vec![
                condition("Initialized", "True"),
                condition("Ready", "True"),
            ]),
            init_container_statuses: Some(vec![
                terminated("setup", Some("Completed"), 0, None),
                sidecar_status,
            ]),
            container_statuses: Some(vec![running("app", true, 0)]),
            ..Default::default()
        },
    );
    assert_eq!(summary(&p), tuple("2/2", "Running", "1 (10m ago)"));
}

#[test]
fn completed_pod_with_a_running_container_is_running_or_not_ready() {
    let status = |ready: &str| PodStatus {
        phase: Some("Running".into()),
        conditions: Some(vec![condition("Ready", ready)]),
        container_statuses: Some(vec![
            terminated("a", Some("Completed"), 0, None),
            running("b", true, 0),
        ]),
        ..Default::default()
    };
    assert_eq!(
        summary(&pod(&["a", "b"], vec![], status("True"))),
        tuple("1/2", "Running", "0")
    );
    assert_eq!(
        summary(&pod(&["a", "b"], vec![], status("False"))),
        tuple("1/2", "NotReady", "0")
    );
}

#[test]
fn deletion_makes_pods_terminating_unless_finished_or_lost() {
    let running_status = PodStatus {
        phase: Some("Running".into()),
        container_statuses: Some(vec![running("a", true, 0)]),
        ..Default::default()
    };
    let mut p = pod(&["a"], vec![], running_status.clone());
    p.metadata.deletion_timestamp = Some(ago(5));
    assert_eq!(summary(&p), tuple("1/1", "Terminating", "0"));

    let mut lost = pod(
        &["a"],
        vec![],
        PodStatus {
            reason: Some("NodeLost".into()),
            ..running_status
        },
    );
    lost.metadata.deletion_timestamp = Some(ago(5));
    assert_eq!(summary(&lost).1, "Unknown");

    let mut done = pod(
        &["a"],
        vec![],
        PodStatus {
            phase: Some("Succeeded".into()),
            container_statuses: Some(vec![terminated("a", Some("Completed"), 0, None)]),
            ..Default::default()
        },
    );
    done.metadata.deletion_timestamp = Some(ago(5));
    assert_eq!(summary(&done).1, "Completed");
}

#[test]
fn status_reason_scheduling_gates_and_evictions() {
    let gated = pod(
        &["a"],
        vec![],
        PodStatus {
            phase: Some("Pending".into()),
            conditions: Some(vec![PodCondition {
                reason: Some("SchedulingGated".into()),
                ..condition("PodScheduled", "False")
            }]),
            ..Default::default()
        },
    );
    assert_eq!(summary(&gated).1, "SchedulingGated");
    let evicted = pod(
        &["a"],
        vec![],
        PodStatus {
            phase: Some("Failed".into()),
            reason: Some("Evicted".into()),
            ..Default::default()
        },
    );
    assert_eq!(summary(&evicted).1, "Evicted");
}

#[test]
fn readiness_gates_count_true_conditions() {
    let mut p = pod(
        &["a"],
        vec![],
        PodStatus {
            phase: Some("Running".into()),
            nominated_node_name: Some("node-2".into()),
            conditions: Some(vec![
                condition("example.com/lb", "True"),
                condition("example.com/dns", "False"),
            ]),
            ..Default::default()
        },
    );
    if let Some(spec) = p.spec.as_mut() {
        spec.readiness_gates = Some(vec![
            PodReadinessGate {
                condition_type: "example.com/lb".into(),
            },
            PodReadinessGate {
                condition_type: "example.com/dns".into(),
            },
        ]);
    }
    let c = cells(&p);
    assert_eq!(c[7], json!("node-2"));
    assert_eq!(c[8], json!("1/2"));
}

#[test]
fn finished_pods_carry_a_completed_row_condition() {
    let r = info("", "v1", "pods");
    let succeeded = pod(
        &["a"],
        vec![],
        PodStatus {
            phase: Some("Succeeded".into()),
            ..Default::default()
        },
    );
    let failed = pod(
        &["a"],
        vec![],
        PodStatus {
            phase: Some("Failed".into()),
            ..Default::default()
        },
    );
    let running = pod(
        &["a"],
        vec![],
        PodStatus {
            phase: Some("Running".into()),
            ..Default::default()
        },
    );
    let objs = [dynamic(&succeeded), dynamic(&failed), dynamic(&running)];
    let table = to_table(r, &objs, IncludeObject::None, Default::default(), now());
    let v = serde_json::to_value(&table).unwrap();
    assert_eq!(
        v["rows"][0]["conditions"],
        json!([{"type": "Completed", "status": "True", "reason": "Succeeded", "message": "The pod has completed successfully."}])
    );
    assert_eq!(
        v["rows"][1]["conditions"],
        json!([{"type": "Completed", "status": "True", "reason": "Failed", "message": "The pod failed."}])
    );
    assert!(v["rows"][2].get("conditions").is_none());
    assert_eq!(row_cells(r, &objs[0], now())[2], json!("Succeeded"));
}
