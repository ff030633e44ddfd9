//! NodeUnschedulable, NodeName, NodePorts and TaintToleration.

use k8s_openapi::api::core::v1::{Taint, Toleration};

use super::{Code, Plugin, Rejection};
use crate::cache::{NodeInfo, PodInfo};

pub const ERR_UNSCHEDULABLE: &str = "node(s) were unschedulable";
pub const ERR_NODE_NAME: &str = "node(s) didn't match the requested node name";
pub const ERR_NODE_PORTS: &str = "node(s) didn't have free ports for the requested pod ports";

/// The taint a cordoned node is treated as having.
pub const TAINT_UNSCHEDULABLE: &str = "node.kubernetes.io/unschedulable";

fn tolerations(pod: &PodInfo) -> &[Toleration] {
    pod.pod
        .spec
        .as_ref()
        .and_then(|s| s.tolerations.as_deref())
        .unwrap_or_default()
}

/// upstream `Toleration.ToleratesTaint`.
pub fn tolerates(t: &Toleration, taint: &Taint) -> bool {
    if let Some(effect) = t.effect.as_deref().filter(|e| !e.is_empty()) {
        if effect != taint.effect {
            return false;
        }
    }
    let key = t.key.as_deref().unwrap_or("");
    if !key.is_empty() && key != taint.key {
        return false;
    }
    match t.operator.as_deref().unwrap_or("Equal") {
        "Exists" => true,
        "" | "Equal" => t.value.as_deref().unwrap_or("") == taint.value.as_deref().unwrap_or(""),
        _ => false,
    }
}

pub fn tolerated_by(tolerations: &[Toleration], taint: &Taint) -> bool {
    tolerations.iter().any(|t| tolerates(t, taint))
}

pub fn node_unschedulable(pod: &PodInfo, node: &NodeInfo) -> Result<(), Rejection> {
    let cordoned = node
        .node
        .spec
        .as_ref()
        .and_then(|s| s.unschedulable)
        .unwrap_or(false);
    if !cordoned {
        return Ok(());
    }
    let taint = Taint {
        key: TAINT_UNSCHEDULABLE.to_string(),
        effect: "NoSchedule".to_string(),
        ..Default::default()
    };
    if tolerated_by(tolerations(pod), &taint) {
        return Ok(());
    }
    Err(Rejection::new(
        Plugin::NodeUnschedulable,
        Code::UnschedulableAndUnresolvable,
        ERR_UNSCHEDULABLE,
    ))
}

pub fn node_name(pod: &PodInfo, node: &NodeInfo) -> Result<(), Rejection> {
    match pod.node_name().filter(|n| !n.is_empty()) {
        Some(n) if n != node.name => Err(Rejection::new(
            Plugin::NodeName,
            Code::UnschedulableAndUnresolvable,
            ERR_NODE_NAME,
        )),
        _ => Ok(()),
    }
}

pub fn node_ports(pod: &PodInfo, node: &NodeInfo) -> Result<(), Rejection> {
    for (ip, proto, port) in pod.host_ports() {
        let conflict = node.used_ports.iter().any(|(uip, uproto, uport)| {
            *uport == port
                && *uproto == proto
                && (uip == &ip || uip == "0.0.0.0" || ip == "0.0.0.0")
        });
        if conflict {
            return Err(Rejection::new(
                Plugin::NodePorts,
                Code::Unschedulable,
                ERR_NODE_PORTS,
            ));
        }
    }
    Ok(())
}

fn taints(node: &NodeInfo) -> &[Taint] {
    node.node
        .spec
        .as_ref()
        .and_then(|s| s.taints.as_deref())
        .unwrap_or_default()
}

/// Rejects a node with a NoSchedule / NoExecute taint the pod does not tolerate.
pub fn taint_toleration_filter(pod: &PodInfo, node: &NodeInfo) -> Result<(), Rejection> {
    let tols = tolerations(pod);
    for taint in taints(node) {
        if taint.effect != "NoSchedule" && taint.effect != "NoExecute" {
            continue;
        }
        if !tolerated_by(tols, taint) {
            return Err(Rejection::new(
                Plugin::TaintToleration,
                Code::UnschedulableAndUnresolvable,
                format!(
                    "node(s) had untolerated taint {{{}: {}}}",
                    taint.key,
                    taint.value.as_deref().unwrap_or("")
                ),
            ));
        }
    }
    Ok(())
}

/// The number of PreferNoSchedule taints not tolerated (fewer is better; normalized
/// in reverse).
pub fn taint_toleration_score(pod: &PodInfo, node: &NodeInfo) -> i64 {
    let tols: Vec<&Toleration> = tolerations(pod)
        .iter()
        .filter(|t| {
            t.effect
                .as_deref()
                .is_none_or(|e| e.is_empty() || e == "PreferNoSchedule")
        })
        .collect();
    taints(node)
        .iter()
        .filter(|t| t.effect == "PreferNoSchedule")
        .filter(|taint| !tols.iter().any(|t| tolerates(t, taint)))
        .count() as i64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::tests::{node, pod};
    use k8s_openapi::api::core::v1::{ContainerPort, NodeSpec};
    use std::sync::Arc;

    fn taint(key: &str, value: &str, effect: &str) -> Taint {
        Taint {
            key: key.into(),
            value: Some(value.into()),
            effect: effect.into(),
            ..Default::default()
        }
    }

    fn tainted(ts: Vec<Taint>, cordoned: bool) -> NodeInfo {
        let mut n = node("n", "4", "8Gi", "110");
        n.spec = Some(NodeSpec {
            taints: Some(ts),
            unschedulable: Some(cordoned),
            ..Default::default()
        });
        NodeInfo::new(Arc::new(n))
    }

    fn with_tolerations(ts: Vec<Toleration>) -> PodInfo {
        let mut p = pod("ns", "p", None, "100m");
        if let Some(s) = p.spec.as_mut() {
            s.tolerations = Some(ts);
        }
        PodInfo::new(Arc::new(p))
    }

    #[test]
    fn taints_and_tolerations() {
        let n = tainted(vec![taint("dedicated", "gpu", "NoSchedule")], false);
        let plain = with_tolerations(vec![]);
        let err = taint_toleration_filter(&plain, &n).expect_err("untolerated");
        assert_eq!(
            err.reasons,
            vec!["node(s) had untolerated taint {dedicated: gpu}"]
        );
        assert_eq!(err.code, Code::UnschedulableAndUnresolvable);
        let tol = with_tolerations(vec![Toleration {
            key: Some("dedicated".into()),
            operator: Some("Equal".into()),
            value: Some("gpu".into()),
            effect: Some("NoSchedule".into()),
            ..Default::default()
        }]);
        assert!(taint_toleration_filter(&tol, &n).is_ok());
        let exists_all = with_tolerations(vec![Toleration {
            operator: Some("Exists".into()),
            ..Default::default()
        }]);
        assert!(taint_toleration_filter(&exists_all, &n).is_ok());
        let wrong_value = with_tolerations(vec![Toleration {
            key: Some("dedicated".into()),
            value: Some("cpu".into()),
            ..Default::default()
        }]);
        assert!(taint_toleration_filter(&wrong_value, &n).is_err());
        // PreferNoSchedule only scores.
        let soft = tainted(vec![taint("a", "b", "PreferNoSchedule")], false);
        assert!(taint_toleration_filter(&plain, &soft).is_ok());
        assert_eq!(taint_toleration_score(&plain, &soft), 1);
        assert_eq!(taint_toleration_score(&exists_all, &soft), 0);
    }

    #[test]
    fn cordoned_nodes_and_node_name() {
        let n = tainted(vec![], true);
        let p = with_tolerations(vec![]);
        assert_eq!(
            node_unschedulable(&p, &n).expect_err("cordoned").reasons,
            vec![ERR_UNSCHEDULABLE]
        );
        let tol = with_tolerations(vec![Toleration {
            key: Some(TAINT_UNSCHEDULABLE.into()),
            operator: Some("Exists".into()),
            effect: Some("NoSchedule".into()),
            ..Default::default()
        }]);
        assert!(node_unschedulable(&tol, &n).is_ok());
        let named = PodInfo::new(Arc::new(pod("ns", "p", Some("other"), "1")));
        assert!(node_name(&named, &n).is_err());
        let named = PodInfo::new(Arc::new(pod("ns", "p", Some("n"), "1")));
        assert!(node_name(&named, &n).is_ok());
    }

    #[test]
    fn host_ports_conflict() {
        let with_port = |name: &str, ip: Option<&str>| {
            let mut p = pod("ns", name, None, "100m");
            if let Some(s) = p.spec.as_mut() {
                s.containers[0].ports = Some(vec![ContainerPort {
                    container_port: 80,
                    host_port: Some(8080),
                    host_ip: ip.map(str::to_string),
                    ..Default::default()
                }]);
            }
            PodInfo::new(Arc::new(p))
        };
        let mut n = NodeInfo::new(Arc::new(node("n", "4", "8Gi", "110")));
        assert!(node_ports(&with_port("a", None), &n).is_ok());
        n.add_pod(with_port("a", Some("10.0.0.1")));
        assert_eq!(
            node_ports(&with_port("b", None), &n)
                .expect_err("conflict")
                .reasons,
            vec![ERR_NODE_PORTS]
        );
        assert!(node_ports(&with_port("c", Some("10.0.0.2")), &n).is_ok());
        n.remove_pod("ns/a");
        assert!(node_ports(&with_port("b", None), &n).is_ok());
    }
}
