//! PodTopologySpread: `DoNotSchedule` constraints filter nodes whose domain would
//! exceed maxSkew (honouring minDomains); `ScheduleAnyway` constraints score nodes in
//! less crowded domains higher.

use std::collections::{BTreeMap, HashMap};

use super::{node_affinity, node_basic, Code, Plugin, PodSelector, Rejection, MAX_NODE_SCORE};
use crate::cache::{Cache, NodeInfo, PodInfo};

pub const ERR_CONSTRAINTS: &str = "node(s) didn't match pod topology spread constraints";
pub const ERR_MISSING_LABEL: &str =
    "node(s) didn't match pod topology spread constraints (missing required label)";

#[derive(Debug)]
pub struct Constraint {
    pub key: String,
    pub max_skew: i64,
    pub min_domains: i64,
    pub hard: bool,
    pub selector: PodSelector,
    /// Whether the incoming pod itself matches the selector.
    pub self_match: i64,
    /// Domain value -> matching pods, for every eligible domain (zeros included).
    pub counts: HashMap<String, i64>,
}

impl Constraint {
    fn min_count(&self) -> i64 {
        if (self.counts.len() as i64) < self.min_domains {
            return 0;
        }
        self.counts.values().copied().min().unwrap_or(0)
    }
}

#[derive(Debug)]
pub struct SpreadState {
    pub constraints: Vec<Constraint>,
}

fn has_keys(node: &NodeInfo, constraints: &[&Constraint]) -> bool {
    constraints
        .iter()
        .all(|c| node.labels().contains_key(&c.key))
}

impl SpreadState {
    /// PreFilter / PreScore: counts matching pods per domain. None without constraints.
    pub fn compute(pod: &PodInfo, cache: &Cache) -> Option<SpreadState> {
        let specs = pod
            .pod
            .spec
            .as_ref()
            .and_then(|s| s.topology_spread_constraints.as_ref())
            .filter(|c| !c.is_empty())?;
        let pod_labels = pod.labels();
        let mut constraints = Vec::new();
        let mut policies = Vec::new();
        for c in specs {
            // matchLabelKeys: the pod's own values for those keys join the selector.
            let selector = PodSelector::new(
                c.label_selector.as_ref(),
                c.match_label_keys.as_deref().unwrap_or_default(),
                pod_labels,
            );
            let self_match = i64::from(selector.matches(pod_labels));
            constraints.push(Constraint {
                key: c.topology_key.clone(),
                max_skew: i64::from(c.max_skew.max(1)),
                min_domains: i64::from(c.min_domains.unwrap_or(1).max(1)),
                hard: c.when_unsatisfiable != "ScheduleAnyway",
                selector,
                self_match,
                counts: HashMap::new(),
            });
            policies.push((
                c.node_affinity_policy.as_deref() != Some("Ignore"),
                c.node_taints_policy.as_deref() == Some("Honor"),
            ));
        }
        let ns = pod.namespace().to_string();
        for node in cache.nodes() {
            for (c, (honor_affinity, honor_taints)) in constraints.iter_mut().zip(&policies) {
                if *honor_affinity && !node_affinity::matches_required(pod, node) {
                    continue;
                }
                if *honor_taints && node_basic::taint_toleration_filter(pod, node).is_err() {
                    continue;
                }
                let Some(value) = node.labels().get(&c.key) else {
                    continue;
                };
                let matching = node
                    .pods
                    .iter()
                    .filter(|p| {
                        p.namespace() == ns
                            && p.pod.metadata.deletion_timestamp.is_none()
                            && c.selector.matches(p.labels())
                    })
                    .count() as i64;
                *c.counts.entry(value.clone()).or_insert(0) += matching;
            }
        }
        Some(SpreadState { constraints })
    }

    pub fn filter(&self, _pod: &PodInfo, node: &NodeInfo) -> Result<(), Rejection> {
        for c in self.constraints.iter().filter(|c| c.hard) {
            let Some(value) = node.labels().get(&c.key) else {
                return Err(Rejection::new(
                    Plugin::PodTopologySpread,
                    Code::UnschedulableAndUnresolvable,
                    ERR_MISSING_LABEL,
                ));
            };
            let count = c.counts.get(value).copied().unwrap_or(0);
            if count + c.self_match - c.min_count() > c.max_skew {
                return Err(Rejection::new(
                    Plugin::PodTopologySpread,
                    Code::Unschedulable,
                    ERR_CONSTRAINTS,
                ));
            }
        }
        Ok(())
    }

    /// ScheduleAnyway constraints: fewer matching pods in the node's domains scores
    /// higher; nodes missing a topology key score 0.
    pub fn scores(&self, nodes: &[&NodeInfo]) -> Vec<i64> {
        let soft: Vec<&Constraint> = self.constraints.iter().filter(|c| !c.hard).collect();
        if soft.is_empty() {
            return vec![0; nodes.len()];
        }
        let raw: Vec<Option<i64>> = nodes
            .iter()
            .map(|n| {
                if !has_keys(n, &soft) {
                    return None;
                }
                let mut s = 0f64;
                for c in &soft {
                    let count = n
                        .labels()
                        .get(&c.key)
                        .and_then(|v| c.counts.get(v))
                        .copied()
                        .unwrap_or(0);
                    let weight = ((c.counts.len() + 2) as f64).ln();
                    s += (count + c.max_skew - 1) as f64 * weight;
                }
                Some(s.round() as i64)
            })
            .collect();
        let present: Vec<i64> = raw.iter().flatten().copied().collect();
        let (Some(min), Some(max)) = (present.iter().min(), present.iter().max()) else {
            return vec![0; nodes.len()];
        };
        raw.iter()
            .map(|s| match s {
                None => 0,
                Some(_) if *max == 0 => MAX_NODE_SCORE,
                Some(s) => MAX_NODE_SCORE * (max + min - s) / max,
            })
            .collect()
    }
}

/// Domain value -> count, for tests and debugging.
pub fn counts_of(state: &SpreadState, i: usize) -> BTreeMap<String, i64> {
    state
        .constraints
        .get(i)
        .map(|c| c.counts.iter().map(|(k, v)| (k.clone(), *v)).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::tests::{node, pod};
    use k8s_openapi::api::core::v1::{Pod, TopologySpreadConstraint};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector as MetaSelector;
    use std::sync::Arc;

    fn zoned(name: &str, zone: &str) -> k8s_openapi::api::core::v1::Node {
        let mut n = node(name, "4", "8Gi", "110");
        n.metadata
            .labels
            .get_or_insert_default()
            .insert("zone".into(), zone.into());
        n
    }

    fn app_pod(name: &str, node: Option<&str>, constraint: Option<(&str, i32)>) -> Pod {
        let mut p = pod("ns", name, node, "100m");
        p.metadata.labels = Some(BTreeMap::from([("app".to_string(), "web".to_string())]));
        if let (Some((when, skew)), Some(s)) = (constraint, p.spec.as_mut()) {
            s.topology_spread_constraints = Some(vec![TopologySpreadConstraint {
                max_skew: skew,
                topology_key: "zone".into(),
                when_unsatisfiable: when.into(),
                label_selector: Some(MetaSelector {
                    match_labels: Some(BTreeMap::from([("app".to_string(), "web".to_string())])),
                    ..Default::default()
                }),
                ..Default::default()
            }]);
        }
        p
    }

    #[test]
    fn max_skew_filters_crowded_domains() {
        let mut c = Cache::new();
        c.upsert_node(zoned("a1", "a"));
        c.upsert_node(zoned("a2", "a"));
        c.upsert_node(zoned("b1", "b"));
        c.upsert_node(node("nolabel", "4", "8Gi", "110"));
        c.upsert_pod(app_pod("x", Some("a1"), None));
        c.upsert_pod(app_pod("y", Some("a2"), None));
        c.upsert_pod(app_pod("z", Some("b1"), None));
        // a: 2, b: 1
        let pod = PodInfo::new(Arc::new(app_pod("new", None, Some(("DoNotSchedule", 1)))));
        let s = SpreadState::compute(&pod, &c).expect("constraints");
        assert_eq!(
            counts_of(&s, 0),
            BTreeMap::from([("a".into(), 2), ("b".into(), 1)])
        );
        let get = |n: &str| c.node(n).expect("node");
        assert_eq!(
            s.filter(&pod, get("a1")).expect_err("skew").reasons,
            vec![ERR_CONSTRAINTS]
        );
        assert!(s.filter(&pod, get("b1")).is_ok());
        assert_eq!(
            s.filter(&pod, get("nolabel")).expect_err("label").code,
            Code::UnschedulableAndUnresolvable
        );
        // Soft: the emptier domain scores higher.
        let soft = PodInfo::new(Arc::new(app_pod("new", None, Some(("ScheduleAnyway", 1)))));
        let s = SpreadState::compute(&soft, &c).expect("constraints");
        let scores = s.scores(&[get("a1"), get("b1"), get("nolabel")]);
        assert!(scores[1] > scores[0], "{scores:?}");
        assert_eq!(scores[2], 0);
    }

    #[test]
    fn min_domains_counts_missing_domains_as_zero() {
        let mut c = Cache::new();
        c.upsert_node(zoned("a1", "a"));
        c.upsert_pod(app_pod("x", Some("a1"), None));
        let mut p = app_pod("new", None, Some(("DoNotSchedule", 1)));
        if let Some(tsc) = p
            .spec
            .as_mut()
            .and_then(|s| s.topology_spread_constraints.as_mut())
        {
            tsc[0].min_domains = Some(2);
        }
        let pod = PodInfo::new(Arc::new(p));
        let s = SpreadState::compute(&pod, &c).expect("constraints");
        // One domain with 1 pod; minDomains 2 -> global min 0 -> skew 2 > 1.
        assert!(s.filter(&pod, c.node("a1").expect("a1")).is_err());
    }
}
