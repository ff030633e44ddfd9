//! The scheduling framework: filter and score plugins as pure functions of the pod,
//! a per-cycle state computed once (PreFilter / PreScore) and a node or the cluster
//! cache. `schedule_one` runs a profile's plugins over the cache and picks a node, or
//! explains, in upstream's words, why no node fits.

pub mod image_locality;
pub mod inter_pod_affinity;
pub mod node_affinity;
pub mod node_basic;
pub mod resources_fit;
pub mod topology_spread;

use std::collections::BTreeMap;

use api_types::selectors::LabelSelector;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector as MetaLabelSelector;

use crate::cache::{Cache, NodeInfo, PodInfo};
use crate::config::Profile;

/// Highest score a plugin gives a node (upstream MaxNodeScore).
pub const MAX_NODE_SCORE: i64 = 100;

/// The plugins this scheduler implements, by upstream name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Plugin {
    NodeUnschedulable,
    NodeName,
    TaintToleration,
    NodeAffinity,
    NodePorts,
    NodeResourcesFit,
    PodTopologySpread,
    InterPodAffinity,
    NodeResourcesBalancedAllocation,
    ImageLocality,
}

impl Plugin {
    pub const ALL: [Plugin; 10] = [
        Plugin::NodeUnschedulable,
        Plugin::NodeName,
        Plugin::TaintToleration,
        Plugin::NodeAffinity,
        Plugin::NodePorts,
        Plugin::NodeResourcesFit,
        Plugin::PodTopologySpread,
        Plugin::InterPodAffinity,
        Plugin::NodeResourcesBalancedAllocation,
        Plugin::ImageLocality,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Plugin::NodeUnschedulable => "NodeUnschedulable",
            Plugin::NodeName => "NodeName",
            Plugin::TaintToleration => "TaintToleration",
            Plugin::NodeAffinity => "NodeAffinity",
            Plugin::NodePorts => "NodePorts",
            Plugin::NodeResourcesFit => "NodeResourcesFit",
            Plugin::PodTopologySpread => "PodTopologySpread",
            Plugin::InterPodAffinity => "InterPodAffinity",
            Plugin::NodeResourcesBalancedAllocation => "NodeResourcesBalancedAllocation",
            Plugin::ImageLocality => "ImageLocality",
        }
    }

    pub fn from_name(name: &str) -> Option<Plugin> {
        Plugin::ALL.into_iter().find(|p| p.name() == name)
    }

    pub fn is_filter(self) -> bool {
        !matches!(
            self,
            Plugin::NodeResourcesBalancedAllocation | Plugin::ImageLocality
        )
    }

    pub fn is_score(self) -> bool {
        !matches!(
            self,
            Plugin::NodeUnschedulable | Plugin::NodeName | Plugin::NodePorts
        )
    }
}

/// Upstream's status codes for a rejection: `Unschedulable` may be fixed by
/// preemption, `UnschedulableAndUnresolvable` cannot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Code {
    Unschedulable,
    UnschedulableAndUnresolvable,
}

/// A pod label selector plus the `matchLabelKeys` requirements taken from the
/// incoming pod's own labels.
#[derive(Clone, Debug)]
pub struct PodSelector {
    base: LabelSelector,
    extra: Vec<(String, String)>,
}

impl PodSelector {
    /// A nil selector matches nothing, as upstream; so does an invalid one.
    pub fn new(
        selector: Option<&MetaLabelSelector>,
        match_label_keys: &[String],
        pod_labels: &BTreeMap<String, String>,
    ) -> PodSelector {
        let base = LabelSelector::from_optional_meta(selector)
            .unwrap_or_else(|_| LabelSelector::nothing());
        let extra = match_label_keys
            .iter()
            .filter_map(|k| pod_labels.get(k).map(|v| (k.clone(), v.clone())))
            .collect();
        PodSelector { base, extra }
    }

    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.base.matches(labels)
            && self
                .extra
                .iter()
                .all(|(k, v)| labels.get(k).is_some_and(|l| l == v))
    }
}

/// Why a node was rejected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    pub plugin: Plugin,
    pub code: Code,
    pub reasons: Vec<String>,
}

impl Rejection {
    pub fn new(plugin: Plugin, code: Code, reason: impl Into<String>) -> Rejection {
        Rejection {
            plugin,
            code,
            reasons: vec![reason.into()],
        }
    }
}

/// What PreFilter / PreScore computed for one pod in one cycle.
#[derive(Debug, Default)]
pub struct CycleState {
    pub spread: Option<topology_spread::SpreadState>,
    pub inter_pod: Option<inter_pod_affinity::InterPodState>,
}

/// Computes the per-cycle state the enabled plugins need.
pub fn pre_filter(profile: &Profile, pod: &PodInfo, cache: &Cache) -> CycleState {
    let mut state = CycleState::default();
    let uses =
        |p: Plugin| profile.filters.contains(&p) || profile.scores.iter().any(|(q, _)| *q == p);
    if uses(Plugin::PodTopologySpread) {
        state.spread = topology_spread::SpreadState::compute(pod, cache);
    }
    if uses(Plugin::InterPodAffinity) {
        state.inter_pod = inter_pod_affinity::InterPodState::compute(
            pod,
            cache,
            profile.hard_pod_affinity_weight,
        );
    }
    state
}

/// Runs the filters in order; the first rejection wins, as upstream.
pub fn run_filters(
    profile: &Profile,
    state: &CycleState,
    pod: &PodInfo,
    node: &NodeInfo,
) -> Result<(), Rejection> {
    for plugin in &profile.filters {
        filter(*plugin, state, pod, node)?;
    }
    Ok(())
}

/// One filter plugin on one node.
pub fn filter(
    plugin: Plugin,
    state: &CycleState,
    pod: &PodInfo,
    node: &NodeInfo,
) -> Result<(), Rejection> {
    match plugin {
        Plugin::NodeUnschedulable => node_basic::node_unschedulable(pod, node),
        Plugin::NodeName => node_basic::node_name(pod, node),
        Plugin::TaintToleration => node_basic::taint_toleration_filter(pod, node),
        Plugin::NodeAffinity => node_affinity::filter(pod, node),
        Plugin::NodePorts => node_basic::node_ports(pod, node),
        Plugin::NodeResourcesFit => resources_fit::filter(pod, node),
        Plugin::PodTopologySpread => match &state.spread {
            Some(s) => s.filter(pod, node),
            None => Ok(()),
        },
        Plugin::InterPodAffinity => match &state.inter_pod {
            Some(s) => s.filter(node),
            None => Ok(()),
        },
        Plugin::NodeResourcesBalancedAllocation | Plugin::ImageLocality => Ok(()),
    }
}

/// Upstream DefaultNormalizeScore: scales to 0..100 by the highest score; `reverse`
/// makes fewer better.
pub fn default_normalize(scores: &mut [i64], reverse: bool) {
    let max = scores.iter().copied().max().unwrap_or(0);
    if max == 0 {
        if reverse {
            scores.iter_mut().for_each(|s| *s = MAX_NODE_SCORE);
        }
        return;
    }
    for s in scores.iter_mut() {
        *s = MAX_NODE_SCORE * *s / max;
        if reverse {
            *s = MAX_NODE_SCORE - *s;
        }
    }
}

/// The weighted, normalized total score of each feasible node.
pub fn run_scores(
    profile: &Profile,
    state: &CycleState,
    pod: &PodInfo,
    nodes: &[&NodeInfo],
    cache: &Cache,
) -> Vec<i64> {
    let mut total = vec![0i64; nodes.len()];
    for (plugin, weight) in &profile.scores {
        let mut scores: Vec<i64> = match plugin {
            Plugin::TaintToleration => {
                let mut s: Vec<i64> = nodes
                    .iter()
                    .map(|n| node_basic::taint_toleration_score(pod, n))
                    .collect();
                default_normalize(&mut s, true);
                s
            }
            Plugin::NodeAffinity => {
                let mut s: Vec<i64> = nodes.iter().map(|n| node_affinity::score(pod, n)).collect();
                default_normalize(&mut s, false);
                s
            }
            Plugin::NodeResourcesFit => nodes
                .iter()
                .map(|n| resources_fit::score(pod, n, &profile.fit_strategy))
                .collect(),
            Plugin::NodeResourcesBalancedAllocation => nodes
                .iter()
                .map(|n| resources_fit::balanced_allocation_score(pod, n))
                .collect(),
            Plugin::ImageLocality => {
                let counts = image_locality::ImageCounts::compute(pod, cache);
                nodes
                    .iter()
                    .map(|n| counts.score(pod, n, cache.node_count()))
                    .collect()
            }
            Plugin::PodTopologySpread => match &state.spread {
                Some(s) => s.scores(nodes),
                None => vec![0; nodes.len()],
            },
            Plugin::InterPodAffinity => match &state.inter_pod {
                Some(s) => s.scores(nodes),
                None => vec![0; nodes.len()],
            },
            Plugin::NodeUnschedulable | Plugin::NodeName | Plugin::NodePorts => {
                vec![0; nodes.len()]
            }
        };
        for (t, s) in total.iter_mut().zip(scores.iter_mut()) {
            *t += (*s).clamp(0, MAX_NODE_SCORE) * weight;
        }
    }
    total
}

/// Why no node fit: per node, the rejection.
#[derive(Clone, Debug, Default)]
pub struct Diagnosis {
    pub node_rejections: BTreeMap<String, Rejection>,
    /// A problem with the pod itself (shown before the per-node reasons).
    pub pre_filter_msg: Option<String>,
}

/// Upstream FitError.Error(): "0/3 nodes are available: 1 Insufficient cpu, 2 node(s)
/// had untolerated taint {key: value}. <post filter message>."
pub fn fit_error_message(
    num_nodes: usize,
    diagnosis: &Diagnosis,
    post_filter: Option<&str>,
) -> String {
    let mut msg = format!("0/{num_nodes} nodes are available:");
    if let Some(pre) = &diagnosis.pre_filter_msg {
        msg.push_str(&format!(" {pre}."));
    } else {
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for r in diagnosis.node_rejections.values() {
            for reason in &r.reasons {
                *counts.entry(reason.as_str()).or_insert(0) += 1;
            }
        }
        let mut parts: Vec<String> = counts.iter().map(|(r, n)| format!("{n} {r}")).collect();
        parts.sort();
        if !parts.is_empty() {
            msg.push_str(&format!(" {}.", parts.join(", ")));
        }
    }
    if let Some(post) = post_filter {
        msg.push_str(&format!(" {post}."));
    }
    msg
}

/// Upstream numFeasibleNodesToFind: all nodes below 100; otherwise an adaptive share
/// (50% minus 1% per 125 nodes, at least 5%) and never fewer than 100.
pub fn num_feasible_nodes_to_find(num_nodes: usize, percentage: Option<i32>) -> usize {
    const MIN_FEASIBLE: usize = 100;
    let pct = percentage.unwrap_or(0);
    if num_nodes < MIN_FEASIBLE || pct >= 100 {
        return num_nodes;
    }
    let pct = if pct <= 0 {
        let adaptive = 50 - (num_nodes / 125) as i64;
        adaptive.max(5)
    } else {
        i64::from(pct)
    };
    let n = (num_nodes as i64 * pct / 100) as usize;
    n.max(MIN_FEASIBLE)
}

/// The result of one scheduling attempt.
#[derive(Debug)]
pub enum Outcome {
    Scheduled { node: String, feasible: usize },
    Unschedulable(Diagnosis),
}

/// Filters nodes (from `start`, round-robin, stopping after enough feasible ones), scores
/// them and picks the best; ties broken by `tie` (a random number).
pub fn schedule_one(
    profile: &Profile,
    pod: &PodInfo,
    cache: &Cache,
    start: usize,
    percentage: Option<i32>,
    tie: u64,
) -> (Outcome, usize) {
    let names = cache.node_names();
    let n = names.len();
    if n == 0 {
        return (
            Outcome::Unschedulable(Diagnosis {
                node_rejections: BTreeMap::new(),
                pre_filter_msg: None,
            }),
            0,
        );
    }
    let state = pre_filter(profile, pod, cache);
    let want = num_feasible_nodes_to_find(n, profile.percentage_of_nodes_to_score.or(percentage));
    let mut feasible: Vec<&NodeInfo> = Vec::new();
    let mut diagnosis = Diagnosis::default();
    let mut processed = 0;
    for i in 0..n {
        if feasible.len() >= want {
            break;
        }
        processed += 1;
        let Some(node) = cache.node(&names[(start + i) % n]) else {
            continue;
        };
        match run_filters(profile, &state, pod, node) {
            Ok(()) => feasible.push(node),
            Err(r) => {
                diagnosis.node_rejections.insert(node.name.clone(), r);
            }
        }
    }
    if feasible.is_empty() {
        return (Outcome::Unschedulable(diagnosis), processed);
    }
    if feasible.len() == 1 {
        return (
            Outcome::Scheduled {
                node: feasible[0].name.clone(),
                feasible: 1,
            },
            processed,
        );
    }
    let scores = run_scores(profile, &state, pod, &feasible, cache);
    let best = select_host(&scores, tie);
    (
        Outcome::Scheduled {
            node: feasible[best].name.clone(),
            feasible: feasible.len(),
        },
        processed,
    )
}

/// The index of the highest score; among equal scores the `tie`-th one (modulo).
pub fn select_host(scores: &[i64], tie: u64) -> usize {
    let max = scores.iter().copied().max().unwrap_or(0);
    let best: Vec<usize> = scores
        .iter()
        .enumerate()
        .filter(|(_, s)| **s == max)
        .map(|(i, _)| i)
        .collect();
    best.get((tie % best.len().max(1) as u64) as usize)
        .copied()
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_has_upstream_shape() {
        let mut d = Diagnosis::default();
        d.node_rejections.insert(
            "a".into(),
            Rejection::new(
                Plugin::NodeResourcesFit,
                Code::Unschedulable,
                "Insufficient cpu",
            ),
        );
        for n in ["b", "c"] {
            d.node_rejections.insert(
                n.into(),
                Rejection::new(
                    Plugin::TaintToleration,
                    Code::UnschedulableAndUnresolvable,
                    "node(s) had untolerated taint {key: value}",
                ),
            );
        }
        assert_eq!(
            fit_error_message(
                3,
                &d,
                Some("preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling")
            ),
            "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had untolerated taint {key: value}. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling."
        );
        assert_eq!(
            fit_error_message(0, &Diagnosis::default(), None),
            "0/0 nodes are available:"
        );
    }

    #[test]
    fn normalize_and_select() {
        let mut s = vec![0, 5, 10];
        default_normalize(&mut s, false);
        assert_eq!(s, vec![0, 50, 100]);
        let mut s = vec![0, 5, 10];
        default_normalize(&mut s, true);
        assert_eq!(s, vec![100, 50, 0]);
        let mut s = vec![0, 0];
        default_normalize(&mut s, true);
        assert_eq!(s, vec![100, 100]);
        assert_eq!(select_host(&[1, 7, 7, 3], 0), 1);
        assert_eq!(select_host(&[1, 7, 7, 3], 1), 2);
    }

    #[test]
    fn feasible_nodes_to_find() {
        assert_eq!(num_feasible_nodes_to_find(50, None), 50);
        assert_eq!(num_feasible_nodes_to_find(1000, None), 420);
        assert_eq!(num_feasible_nodes_to_find(5000, None), 500);
        assert_eq!(num_feasible_nodes_to_find(1000, Some(100)), 1000);
        assert_eq!(num_feasible_nodes_to_find(150, Some(10)), 100);
    }

    #[test]
    fn plugin_names_round_trip() {
        for p in Plugin::ALL {
            assert_eq!(Plugin::from_name(p.name()), Some(p));
        }
    }
}
