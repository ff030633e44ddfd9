//! NodeResourcesFit (filter and LeastAllocated / MostAllocated score) and
//! NodeResourcesBalancedAllocation.

use super::{Code, Plugin, Rejection, MAX_NODE_SCORE};
use crate::cache::{NodeInfo, PodInfo};
use crate::config::{ScoringStrategy, ScoringStrategyType};

/// Rejects a node without room for the pod: one reason per short resource, as
/// upstream ("Too many pods", "Insufficient cpu", ...).
pub fn filter(pod: &PodInfo, node: &NodeInfo) -> Result<(), Rejection> {
    let mut reasons = Vec::new();
    let alloc = &node.allocatable;
    let used = &node.requested;
    if alloc.allowed_pod_number < used.allowed_pod_number + 1 {
        reasons.push("Too many pods".to_string());
    }
    let req = &pod.requests;
    let mut check = |name: &str, want: i64, have: i64, in_use: i64| {
        if want > 0 && want > have - in_use {
            reasons.push(format!("Insufficient {name}"));
        }
    };
    check("cpu", req.milli_cpu, alloc.milli_cpu, used.milli_cpu);
    check("memory", req.memory, alloc.memory, used.memory);
    check(
        "ephemeral-storage",
        req.ephemeral_storage,
        alloc.ephemeral_storage,
        used.ephemeral_storage,
    );
    for (name, want) in &req.scalar {
        check(
            name,
            *want,
            alloc.scalar.get(name).copied().unwrap_or(0),
            used.scalar.get(name).copied().unwrap_or(0),
        );
    }
    if reasons.is_empty() {
        Ok(())
    } else {
        Err(Rejection {
            plugin: Plugin::NodeResourcesFit,
            code: Code::Unschedulable,
            reasons,
        })
    }
}

/// Requested (with the pod) and allocatable of one resource, as scoring counts them:
/// CPU and memory with the non-zero defaults.
fn requested_and_allocatable(
    pod: &PodInfo,
    node: &NodeInfo,
    name: &str,
    non_zero: bool,
) -> (i64, i64) {
    let (node_req, pod_req) = if non_zero && (name == "cpu" || name == "memory") {
        (&node.non_zero_requested, &pod.non_zero_requests)
    } else {
        (&node.requested, &pod.requests)
    };
    (
        node_req.get(name) + pod_req.get(name),
        node.allocatable.get(name),
    )
}

/// LeastAllocated: (allocatable - requested) / allocatable; MostAllocated: requested /
/// allocatable; both 0..100, weighted over the strategy's resources.
pub fn score(pod: &PodInfo, node: &NodeInfo, strategy: &ScoringStrategy) -> i64 {
    let mut total = 0i64;
    let mut weights = 0i64;
    for (name, weight) in &strategy.resources {
        let (requested, allocatable) = requested_and_allocatable(pod, node, name, true);
        if allocatable == 0 {
            continue;
        }
        let s = match strategy.type_ {
            ScoringStrategyType::LeastAllocated => {
                if requested > allocatable {
                    0
                } else {
                    (allocatable - requested) * MAX_NODE_SCORE / allocatable
                }
            }
            ScoringStrategyType::MostAllocated => {
                requested.min(allocatable) * MAX_NODE_SCORE / allocatable
            }
        };
        total += s * weight;
        weights += weight;
    }
    if weights == 0 {
        0
    } else {
        total / weights
    }
}

/// Favors nodes whose CPU and memory would be used in equal shares: 100 * (1 - the
/// standard deviation of the requested fractions).
pub fn balanced_allocation_score(pod: &PodInfo, node: &NodeInfo) -> i64 {
    let mut fractions = Vec::new();
    for name in ["cpu", "memory"] {
        let (requested, allocatable) = requested_and_allocatable(pod, node, name, false);
        if allocatable == 0 {
            continue;
        }
        fractions.push((requested as f64 / allocatable as f64).min(1.0));
    }
    if fractions.is_empty() {
        return 0;
    }
    let mean = fractions.iter().sum::<f64>() / fractions.len() as f64;
    let var = fractions
        .iter()
        .map(|f| (f - mean) * (f - mean))
        .sum::<f64>()
        / fractions.len() as f64;
    ((1.0 - var.sqrt()) * MAX_NODE_SCORE as f64) as i64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::tests::{node, pod};
    use std::sync::Arc;

    fn p(name: &str, cpu: &str) -> PodInfo {
        PodInfo::new(Arc::new(pod("ns", name, None, cpu)))
    }

    #[test]
    fn insufficient_resources_and_pod_count() {
        let mut n = NodeInfo::new(Arc::new(node("n", "2", "4Gi", "2")));
        n.add_pod(p("a", "1500m"));
        let err = filter(&p("b", "1"), &n).expect_err("no cpu");
        assert_eq!(err.reasons, vec!["Insufficient cpu"]);
        assert_eq!(err.code, Code::Unschedulable);
        assert!(filter(&p("b", "500m"), &n).is_ok());
        n.add_pod(p("c", "100m"));
        let err = filter(&p("d", "100m"), &n).expect_err("full");
        assert_eq!(err.reasons, vec!["Too many pods"]);
    }

    #[test]
    fn least_and_most_allocated() {
        let mut empty = NodeInfo::new(Arc::new(node("e", "4", "8Gi", "110")));
        let mut busy = NodeInfo::new(Arc::new(node("b", "4", "8Gi", "110")));
        busy.add_pod(p("x", "3"));
        let least = ScoringStrategy::default();
        let most = ScoringStrategy {
            type_: ScoringStrategyType::MostAllocated,
            ..Default::default()
        };
        let pod = p("new", "1");
        assert!(score(&pod, &empty, &least) > score(&pod, &busy, &least));
        assert!(score(&pod, &empty, &most) < score(&pod, &busy, &most));
        // cpu: (4000-1000)/4000 = 75; memory: (8Gi - 200Mi default) ~ 97 -> 86.
        assert_eq!(score(&pod, &empty, &least), 86);
        empty.add_pod(p("y", "0"));
        assert!(balanced_allocation_score(&pod, &empty) > 0);
        busy.remove_pod("ns/x");
        assert_eq!(busy.requested.milli_cpu, 0);
    }

    #[test]
    fn balanced_prefers_equal_shares() {
        let n = NodeInfo::new(Arc::new(node("n", "4", "4Gi", "110")));
        let mut balanced = pod("ns", "b", None, "2");
        if let Some(s) = balanced.spec.as_mut() {
            s.containers[0] = crate::resources::tests::container("c", "2", "2Gi");
        }
        let lopsided = pod("ns", "l", None, "4");
        let b = balanced_allocation_score(&PodInfo::new(Arc::new(balanced)), &n);
        let l = balanced_allocation_score(&PodInfo::new(Arc::new(lopsided)), &n);
        assert_eq!(b, 100);
        assert_eq!(l, 50);
    }
}
