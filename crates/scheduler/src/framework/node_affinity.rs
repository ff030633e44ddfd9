//! NodeAffinity: spec.nodeSelector and required node affinity filter, preferred node
//! affinity scores.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{NodeSelectorRequirement, NodeSelectorTerm};

use super::{Code, Plugin, Rejection};
use crate::cache::{NodeInfo, PodInfo};

pub const ERR_REASON_POD: &str = "node(s) didn't match Pod's node affinity/selector";

/// One nodeSelectorRequirement against a node's labels (`matchExpressions`).
pub fn requirement_matches(r: &NodeSelectorRequirement, labels: &BTreeMap<String, String>) -> bool {
    let values = r.values.as_deref().unwrap_or_default();
    let value = labels.get(&r.key);
    match r.operator.as_str() {
        "In" => value.is_some_and(|v| values.contains(v)),
        "NotIn" => value.is_none_or(|v| !values.contains(v)),
        "Exists" => value.is_some(),
        "DoesNotExist" => value.is_none(),
        "Gt" | "Lt" => {
            let (Some(v), Some(bound)) = (
                value.and_then(|v| v.parse::<i64>().ok()),
                values.first().and_then(|b| b.parse::<i64>().ok()),
            ) else {
                return false;
            };
            if r.operator == "Gt" {
                v > bound
            } else {
                v < bound
            }
        }
        _ => false,
    }
}

/// A term matches when all its expressions and fields match; an empty term matches
/// nothing (upstream).
pub fn term_matches(term: &NodeSelectorTerm, node: &NodeInfo) -> bool {
    let exprs = term.match_expressions.as_deref().unwrap_or_default();
    let fields = term.match_fields.as_deref().unwrap_or_default();
    if exprs.is_empty() && fields.is_empty() {
        return false;
    }
    let labels = node.labels();
    let name_fields = BTreeMap::from([("metadata.name".to_string(), node.name.clone())]);
    exprs.iter().all(|r| requirement_matches(r, labels))
        && fields.iter().all(|r| requirement_matches(r, &name_fields))
}

/// upstream `GetRequiredNodeAffinity(pod).Match(node)`.
pub fn matches_required(pod: &PodInfo, node: &NodeInfo) -> bool {
    let Some(spec) = pod.pod.spec.as_ref() else {
        return true;
    };
    if let Some(sel) = spec.node_selector.as_ref() {
        let labels = node.labels();
        if !sel.iter().all(|(k, v)| labels.get(k) == Some(v)) {
            return false;
        }
    }
    let required = spec
        .affinity
        .as_ref()
        .and_then(|a| a.node_affinity.as_ref())
        .and_then(|na| {
            na.required_during_scheduling_ignored_during_execution
                .as_ref()
        });
    match required {
        None => true,
        Some(sel) => sel
            .node_selector_terms
            .iter()
            .any(|t| term_matches(t, node)),
    }
}

pub fn filter(pod: &PodInfo, node: &NodeInfo) -> Result<(), Rejection> {
    if matches_required(pod, node) {
        Ok(())
    } else {
        Err(Rejection::new(
            Plugin::NodeAffinity,
            Code::UnschedulableAndUnresolvable,
            ERR_REASON_POD,
        ))
    }
}

/// The sum of the weights of the preferred terms the node matches.
pub fn score(pod: &PodInfo, node: &NodeInfo) -> i64 {
    pod.pod
        .spec
        .as_ref()
        .and_then(|s| s.affinity.as_ref())
        .and_then(|a| a.node_affinity.as_ref())
        .and_then(|na| {
            na.preferred_during_scheduling_ignored_during_execution
                .as_ref()
        })
        .into_iter()
        .flatten()
        .filter(|t| t.weight != 0 && term_matches(&t.preference, node))
        .map(|t| i64::from(t.weight))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::tests::{node, pod};
    use k8s_openapi::api::core::v1::{
        Affinity, NodeAffinity, NodeSelector, PreferredSchedulingTerm,
    };
    use std::sync::Arc;

    fn labelled(name: &str, labels: &[(&str, &str)]) -> NodeInfo {
        let mut n = node(name, "4", "8Gi", "110");
        let l = n.metadata.labels.get_or_insert_default();
        for (k, v) in labels {
            l.insert(k.to_string(), v.to_string());
        }
        NodeInfo::new(Arc::new(n))
    }

    fn req(key: &str, op: &str, values: &[&str]) -> NodeSelectorRequirement {
        NodeSelectorRequirement {
            key: key.into(),
            operator: op.into(),
            values: Some(values.iter().map(|v| v.to_string()).collect()),
        }
    }

    fn term(reqs: Vec<NodeSelectorRequirement>) -> NodeSelectorTerm {
        NodeSelectorTerm {
            match_expressions: Some(reqs),
            match_fields: None,
        }
    }

    #[test]
    fn selector_and_required_terms() {
        let ssd = labelled("a", &[("disk", "ssd"), ("cores", "8")]);
        let hdd = labelled("b", &[("disk", "hdd")]);
        let mut p = pod("ns", "p", None, "100m");
        if let Some(s) = p.spec.as_mut() {
            s.node_selector = Some(BTreeMap::from([("disk".to_string(), "ssd".to_string())]));
        }
        let p = PodInfo::new(Arc::new(p));
        assert!(filter(&p, &ssd).is_ok());
        assert_eq!(
            filter(&p, &hdd).expect_err("no").reasons,
            vec![ERR_REASON_POD]
        );

        let mut p = pod("ns", "p", None, "100m");
        if let Some(s) = p.spec.as_mut() {
            s.affinity = Some(Affinity {
                node_affinity: Some(NodeAffinity {
                    required_during_scheduling_ignored_during_execution: Some(NodeSelector {
                        node_selector_terms: vec![
                            term(vec![req("cores", "Gt", &["4"])]),
                            term(vec![req("disk", "In", &["nvme"])]),
                        ],
                    }),
                    preferred_during_scheduling_ignored_during_execution: Some(vec![
                        PreferredSchedulingTerm {
                            weight: 10,
                            preference: term(vec![req("disk", "NotIn", &["ssd"])]),
                        },
                    ]),
                }),
                ..Default::default()
            });
        }
        let p = PodInfo::new(Arc::new(p));
        assert!(filter(&p, &ssd).is_ok());
        assert!(filter(&p, &hdd).is_err());
        assert_eq!(score(&p, &ssd), 0);
        assert_eq!(score(&p, &hdd), 10);
    }

    #[test]
    fn operators() {
        let l = BTreeMap::from([("a".to_string(), "1".to_string())]);
        assert!(requirement_matches(&req("a", "Exists", &[]), &l));
        assert!(requirement_matches(&req("b", "DoesNotExist", &[]), &l));
        assert!(requirement_matches(&req("b", "NotIn", &["x"]), &l));
        assert!(requirement_matches(&req("a", "Lt", &["2"]), &l));
        assert!(!requirement_matches(&req("a", "Gt", &["2"]), &l));
        assert!(!requirement_matches(&req("a", "Bogus", &["2"]), &l));
        let empty = NodeSelectorTerm::default();
        assert!(!term_matches(&empty, &labelled("x", &[])));
    }
}
