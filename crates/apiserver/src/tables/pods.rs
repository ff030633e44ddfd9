//! Pods: READY, STATUS and RESTARTS as upstream's `printPod` works them out.

use api_types::table::{TableRowCondition, ROW_COMPLETED};
use api_types::DynamicObject;
use jiff::Timestamp;
use k8s_openapi::api::core::v1::{ContainerState, Pod, PodCondition, PodSpec, PodStatus};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use serde_json::Value;

use super::{age, col, field, name, s, typed, wide, Col, Desc, Printer, AGE, NAME};

static COLUMNS: &[Col] = &[
    NAME,
    col("Ready", "string", Desc::Text("The aggregate readiness state of this pod for accepting traffic.")),
    col("Status", "string", Desc::Text("The aggregate status of the containers in this pod.")),
    col(
        "Restarts",
        "string",
        Desc::Text(
            "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.",
        ),
    ),
    AGE,
    wide("IP", "string", field::<PodStatus>("podIP")),
    wide("Node", "string", field::<PodSpec>("nodeName")),
    wide("Nominated Node", "string", field::<PodStatus>("nominatedNodeName")),
    wide("Readiness Gates", "string", field::<PodSpec>("readinessGates")),
];

static POD: Printer = Printer {
    columns: COLUMNS,
    cells: pod_cells,
};

pub(super) fn printer(group: &str, kind: &str) -> Option<&'static Printer> {
    match (group, kind) {
        ("", "Pod") => Some(&POD),
        _ => None,
    }
}

/// `node.NodeUnreachablePodReason`: the node controller's reason for pods on a lost node.
const NODE_UNREACHABLE_POD_REASON: &str = "NodeLost";

fn pod_cells(obj: &DynamicObject, now: Timestamp) -> Option<Vec<Value>> {
    let pod: Pod = typed(obj)?;
    Some(cells(&pod, now))
}

/// Keeps the later of two termination times (`lastRestartDate.Before(&terminatedDate)`).
fn bump(latest: &mut Option<Timestamp>, finished: Option<&Time>) {
    if let Some(t) = finished {
        if latest.is_none_or(|l| l < t.0) {
            *latest = Some(t.0);
        }
    }
}

fn last_finished(state: Option<&ContainerState>) -> Option<Option<&Time>> {
    state
        .and_then(|s| s.terminated.as_ref())
        .map(|t| t.finished_at.as_ref())
}

fn condition_true(conditions: &[PodCondition], type_: &str) -> bool {
    conditions
        .iter()
        .any(|c| c.type_ == type_ && c.status == "True")
}

/// `isPodInitializedConditionTrue`: the first Initialized condition decides.
fn initialized(conditions: &[PodCondition]) -> bool {
    conditions
        .iter()
        .find(|c| c.type_ == "Initialized")
        .is_some_and(|c| c.status == "True")
}

pub(super) fn cells(pod: &Pod, now: Timestamp) -> Vec<Value> {
    let spec = pod.spec.as_ref();
    let status = pod.status.as_ref();
    let containers = spec.map(|s| s.containers.as_slice()).unwrap_or(&[]);
    let init_containers = spec
        .and_then(|s| s.init_containers.as_deref())
        .unwrap_or(&[]);
    let conditions = status.and_then(|s| s.conditions.as_deref()).unwrap_or(&[]);
    let init_statuses = status
        .and_then(|s| s.init_container_statuses.as_deref())
        .unwrap_or(&[]);
    let statuses = status
        .and_then(|s| s.container_statuses.as_deref())
        .unwrap_or(&[]);
    let phase = status.and_then(|s| s.phase.as_deref()).unwrap_or("");
    let status_reason = status.and_then(|s| s.reason.as_deref()).unwrap_or("");

    let mut restarts: i64 = 0;
    let mut restartable_restarts: i64 = 0;
    let mut ready_containers = 0usize;
    let mut last_restart: Option<Timestamp> = None;
    let mut last_restartable_restart: Option<Timestamp> = None;

    let mut reason = if status_reason.is_empty() {
        phase.to_string()
    } else {
        status_reason.to_string()
    };
    if conditions
        .iter()
        .any(|c| c.type_ == "PodScheduled" && c.reason.as_deref() == Some("SchedulingGated"))
    {
        reason = "SchedulingGated".to_string();
    }

    // Sidecars (init containers with restartPolicy Always) count as containers.
    let restartable = |container_name: &str| {
        init_containers
            .iter()
            .rev()
            .find(|c| c.name == container_name)
            .is_some_and(|c| c.restart_policy.as_deref() == Some("Always"))
    };
    let total_containers = containers.len()
        + init_containers
            .iter()
            .filter(|c| c.restart_policy.as_deref() == Some("Always"))
            .count();

    let mut initializing = false;
    for (i, container) in init_statuses.iter().enumerate() {
        restarts += i64::from(container.restart_count);
        if let Some(finished) = last_finished(container.last_state.as_ref()) {
            bump(&mut last_restart, finished);
        }
        let is_restartable = restartable(&container.name);
        if is_restartable {
            restartable_restarts += i64::from(container.restart_count);
            if let Some(finished) = last_finished(container.last_state.as_ref()) {
                bump(&mut last_restartable_restart, finished);
            }
        }
        let state = container.state.as_ref();
        let terminated = state.and_then(|s| s.terminated.as_ref());
        let waiting_reason = state
            .and_then(|s| s.waiting.as_ref())
            .and_then(|w| w.reason.as_deref())
            .filter(|r| !r.is_empty() && *r != "PodInitializing");
        if terminated.is_some_and(|t| t.exit_code == 0) {
            continue;
        }
        if is_restartable && container.started == Some(true) {
            if container.ready {
                ready_containers += 1;
            }
            continue;
        }
        reason = if let Some(t) = terminated {
            // Initialization failed.
            match t.reason.as_deref().filter(|r| !r.is_empty()) {
                Some(r) => format!("Init:{r}"),
                None => match t.signal.unwrap_or(0) {
                    0 => format!("Init:ExitCode:{}", t.exit_code),
                    signal => format!("Init:Signal:{signal}"),
                },
            }
        } else if let Some(r) = waiting_reason {
            format!("Init:{r}")
        } else {
            format!("Init:{}/{}", i, init_containers.len())
        };
        initializing = true;
        break;
    }

    if !initializing || initialized(conditions) {
        restarts = restartable_restarts;
        last_restart = last_restartable_restart;
        let mut has_running = false;
        // Backwards, so the first container's reason is the one left standing.
        for container in statuses.iter().rev() {
            restarts += i64::from(container.restart_count);
            if let Some(finished) = last_finished(container.last_state.as_ref()) {
                bump(&mut last_restart, finished);
            }
            let state = container.state.as_ref();
            let waiting_reason = state
                .and_then(|s| s.waiting.as_ref())
                .and_then(|w| w.reason.as_deref())
                .filter(|r| !r.is_empty());
            let terminated = state.and_then(|s| s.terminated.as_ref());
            if let Some(r) = waiting_reason {
                reason = r.to_string();
            } else if let Some(t) = terminated {
                reason = match t.reason.as_deref().filter(|r| !r.is_empty()) {
                    Some(r) => r.to_string(),
                    None => match t.signal.unwrap_or(0) {
                        0 => format!("ExitCode:{}", t.exit_code),
                        signal => format!("Signal:{signal}"),
                    },
                };
            } else if container.ready && state.is_some_and(|s| s.running.is_some()) {
                has_running = true;
                ready_containers += 1;
            }
        }
        // A container still running means the pod is not done yet.
        if reason == "Completed" && has_running {
            reason = if condition_true(conditions, "Ready") {
                "Running"
            } else {
                "NotReady"
            }
            .to_string();
        }
    }

    let deleting = pod.metadata.deletion_timestamp.is_some();
    if deleting && status_reason == NODE_UNREACHABLE_POD_REASON {
        reason = "Unknown".to_string();
    } else if deleting && phase != "Failed" && phase != "Succeeded" {
        reason = "Terminating".to_string();
    }

    let restarts_text = match last_restart {
        Some(last) if restarts != 0 => {
            format!(
                "{restarts} ({} ago)",
                api_types::table::timestamp_since(last, now)
            )
        }
        _ => restarts.to_string(),
    };

    let pod_ip = status
        .and_then(|s| s.pod_ips.as_ref())
        .and_then(|ips| ips.first())
        .map(|ip| ip.ip.as_str())
        .filter(|ip| !ip.is_empty())
        .unwrap_or("<none>");
    let node_name = spec
        .and_then(|s| s.node_name.as_deref())
        .filter(|n| !n.is_empty())
        .unwrap_or("<none>");
    let nominated = status
        .and_then(|s| s.nominated_node_name.as_deref())
        .filter(|n| !n.is_empty())
        .unwrap_or("<none>");
    let gates = spec
        .and_then(|s| s.readiness_gates.as_deref())
        .unwrap_or(&[]);
    let readiness_gates = if gates.is_empty() {
        "<none>".to_string()
    } else {
        // Only the first condition of each gate's type counts.
        let ready = gates
            .iter()
            .filter(|g| {
                conditions
                    .iter()
                    .find(|c| c.type_ == g.condition_type)
                    .is_some_and(|c| c.status == "True")
            })
            .count();
        format!("{ready}/{}", gates.len())
    };

    vec![
        name(&pod.metadata),
        s(format!("{ready_containers}/{total_containers}")),
        s(reason),
        s(restarts_text),
        age(&pod.metadata, now),
        s(pod_ip),
        s(node_name),
        s(nominated),
        s(readiness_gates),
    ]
}

/// The `Completed` row condition upstream puts on succeeded and failed pods.
pub(super) fn row_conditions(obj: &DynamicObject) -> Option<Vec<TableRowCondition>> {
    let phase = obj.data.get("status")?.get("phase")?.as_str()?;
    let message = match phase {
        "Succeeded" => "The pod has completed successfully.",
        "Failed" => "The pod failed.",
        _ => return None,
    };
    Some(vec![TableRowCondition {
        type_: ROW_COMPLETED.to_string(),
        status: "True".to_string(),
        reason: Some(phase.to_string()),
        message: Some(message.to_string()),
    }])
}
