//! The node lifecycle decisions as pure functions (upstream
//! pkg/controller/nodelifecycle node_lifecycle_controller.go): when a node's Lease and
//! Ready heartbeat stop for the grace period its conditions turn Unknown, and which
//! NoExecute / NoSchedule taints its conditions call for.

use k8s_openapi::api::core::v1::{Node, NodeCondition, Taint};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::{SignedDuration, Timestamp};

pub const TAINT_NOT_READY: &str = "node.kubernetes.io/not-ready";
pub const TAINT_UNREACHABLE: &str = "node.kubernetes.io/unreachable";
pub const TAINT_UNSCHEDULABLE: &str = "node.kubernetes.io/unschedulable";
pub const TAINT_MEMORY_PRESSURE: &str = "node.kubernetes.io/memory-pressure";
pub const TAINT_DISK_PRESSURE: &str = "node.kubernetes.io/disk-pressure";
pub const TAINT_PID_PRESSURE: &str = "node.kubernetes.io/pid-pressure";
pub const TAINT_NETWORK_UNAVAILABLE: &str = "node.kubernetes.io/network-unavailable";

/// The conditions the controller turns Unknown when the kubelet goes silent.
pub const MONITORED_CONDITIONS: [&str; 4] =
    ["Ready", "MemoryPressure", "DiskPressure", "PIDPressure"];

/// What the controller remembers per node (upstream nodeHealthData).
#[derive(Debug, Clone, PartialEq)]
pub struct NodeHealth {
    /// The last time the kubelet was seen alive (Lease renewal or Ready heartbeat).
    pub probe: Timestamp,
    pub ready_heartbeat: Option<Timestamp>,
    pub lease_renew: Option<Timestamp>,
}

/// The result of one health check.
#[derive(Debug, Clone, PartialEq)]
pub struct HealthCheck {
    pub health: NodeHealth,
    /// New status.conditions to write when the node timed out and some monitored
    /// condition is not Unknown yet.
    pub conditions: Option<Vec<NodeCondition>>,
}

pub fn condition<'a>(node: &'a Node, type_: &str) -> Option<&'a NodeCondition> {
    node.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .and_then(|cs| cs.iter().find(|c| c.type_ == type_))
}

/// The Ready condition's status ("True", "False", "Unknown"; "Unknown" when absent).
pub fn ready_status(conditions: Option<&[NodeCondition]>) -> &str {
    conditions
        .and_then(|cs| cs.iter().find(|c| c.type_ == "Ready"))
        .map_or("Unknown", |c| c.status.as_str())
}

/// upstream tryUpdateNodeHealth: refresh the probe time from the Ready heartbeat and
/// the Lease, then mark the monitored conditions Unknown once the probe is older than
/// `grace`.
pub fn check_node_health(
    saved: Option<&NodeHealth>,
    node: &Node,
    lease_renew: Option<Timestamp>,
    now: Timestamp,
    grace: SignedDuration,
) -> HealthCheck {
    let heartbeat = condition(node, "Ready")
        .and_then(|c| c.last_heartbeat_time.as_ref())
        .map(|t| t.0);
    let health = match saved {
        // First sight (or a controller restart): a fresh grace period, as upstream.
        None => NodeHealth {
            probe: now,
            ready_heartbeat: heartbeat,
            lease_renew,
        },
        Some(s) => {
            let mut h = s.clone();
            if heartbeat.is_some() && heartbeat != s.ready_heartbeat {
                h.probe = now;
                h.ready_heartbeat = heartbeat;
            }
            if lease_renew.is_some() && lease_renew > s.lease_renew {
                h.probe = now;
                h.lease_renew = lease_renew;
            }
            h
        }
    };
    let timed_out = now > health.probe + grace;
    if !timed_out {
        return HealthCheck {
            health,
            conditions: None,
        };
    }
    let mut conditions = node
        .status
        .as_ref()
        .and_then(|s| s.conditions.clone())
        .unwrap_or_default();
    let mut changed = false;
    for type_ in MONITORED_CONDITIONS {
        match conditions.iter_mut().find(|c| c.type_ == type_) {
            Some(c) if c.status != "Unknown" => {
                c.status = "Unknown".to_string();
                c.reason = Some("NodeStatusUnknown".to_string());
                c.message = Some("Kubelet stopped posting node status.".to_string());
                c.last_transition_time = Some(Time(now));
                changed = true;
            }
            Some(_) => {}
            None => {
                conditions.push(NodeCondition {
                    type_: type_.to_string(),
                    status: "Unknown".to_string(),
                    reason: Some("NodeStatusNeverUpdated".to_string()),
                    message: Some("Kubelet never posted node status.".to_string()),
                    last_heartbeat_time: node.metadata.creation_timestamp.clone(),
                    last_transition_time: Some(Time(now)),
                });
                changed = true;
            }
        }
    }
    HealthCheck {
        health,
        conditions: changed.then_some(conditions),
    }
}

fn is_ours(t: &Taint) -> bool {
    matches!(
        (t.key.as_str(), t.effect.as_str()),
        (
            TAINT_NOT_READY | TAINT_UNREACHABLE,
            "NoExecute" | "NoSchedule"
        ) | (
            TAINT_UNSCHEDULABLE
                | TAINT_MEMORY_PRESSURE
                | TAINT_DISK_PRESSURE
                | TAINT_PID_PRESSURE
                | TAINT_NETWORK_UNAVAILABLE,
            "NoSchedule"
        )
    )
}

/// The taints the node should carry given its (possibly just updated) conditions:
/// its other taints untouched; ours (not-ready / unreachable NoExecute and the
/// condition NoSchedule taints) added or removed. Returns None when nothing changes.
/// A taint already present keeps its timeAdded.
pub fn desired_taints(
    node: &Node,
    conditions: &[NodeCondition],
    now: Timestamp,
) -> Option<Vec<Taint>> {
    let status = |t: &str| {
        conditions
            .iter()
            .find(|c| c.type_ == t)
            .map(|c| c.status.as_str())
    };
    let mut wanted: Vec<(&str, &str)> = Vec::new();
    match status("Ready") {
        Some("False") => wanted.extend([
            (TAINT_NOT_READY, "NoExecute"),
            (TAINT_NOT_READY, "NoSchedule"),
        ]),
        Some("Unknown") => wanted.extend([
            (TAINT_UNREACHABLE, "NoExecute"),
            (TAINT_UNREACHABLE, "NoSchedule"),
        ]),
        _ => {}
    }
    for (cond, key) in [
        ("MemoryPressure", TAINT_MEMORY_PRESSURE),
        ("DiskPressure", TAINT_DISK_PRESSURE),
        ("PIDPressure", TAINT_PID_PRESSURE),
        ("NetworkUnavailable", TAINT_NETWORK_UNAVAILABLE),
    ] {
        if status(cond) == Some("True") {
            wanted.push((key, "NoSchedule"));
        }
    }
    if node.spec.as_ref().and_then(|s| s.unschedulable) == Some(true) {
        wanted.push((TAINT_UNSCHEDULABLE, "NoSchedule"));
    }
    let current: Vec<Taint> = node
        .spec
        .as_ref()
        .and_then(|s| s.taints.clone())
        .unwrap_or_default();
    let mut out: Vec<Taint> = current.iter().filter(|t| !is_ours(t)).cloned().collect();
    for (key, effect) in wanted {
        let kept = current
            .iter()
            .find(|t| t.key == key && t.effect == effect)
            .cloned();
        out.push(kept.unwrap_or_else(|| Taint {
            key: key.to_string(),
            effect: effect.to_string(),
            value: None,
            time_added: (effect == "NoExecute").then_some(Time(now)),
        }));
    }
    let same = out.len() == current.len() && out.iter().all(|t| current.contains(t));
    (!same).then_some(out)
}

#[cfg(test)]
#[path = "health_tests.rs"]
mod tests;
