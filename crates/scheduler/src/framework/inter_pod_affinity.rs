//! InterPodAffinity: required pod affinity and anti-affinity of the incoming pod, the
//! required anti-affinity of pods already running, and preferred terms of both for
//! scoring. Terms select pods by labels in namespaces, within a topology domain.

use std::collections::{BTreeMap, HashMap, HashSet};

use api_types::selectors::LabelSelector;
use k8s_openapi::api::core::v1::{PodAffinityTerm, WeightedPodAffinityTerm};

use super::{Code, Plugin, PodSelector, Rejection, MAX_NODE_SCORE};
use crate::cache::{Cache, NodeInfo, PodInfo};

pub const ERR_AFFINITY: &str = "node(s) didn't match pod affinity rules";
pub const ERR_ANTI_AFFINITY: &str = "node(s) didn't match pod anti-affinity rules";
pub const ERR_EXISTING_ANTI_AFFINITY: &str =
    "node(s) didn't satisfy existing pods anti-affinity rules";

/// A parsed PodAffinityTerm of some owner pod.
#[derive(Debug, Clone)]
pub struct Term {
    selector: PodSelector,
    namespaces: HashSet<String>,
    namespace_selector: Option<LabelSelector>,
    pub topology_key: String,
}

impl Term {
    pub fn new(t: &PodAffinityTerm, owner: &PodInfo) -> Term {
        let mut namespaces: HashSet<String> = t.namespaces.iter().flatten().cloned().collect();
        if namespaces.is_empty() && t.namespace_selector.is_none() {
            namespaces.insert(owner.namespace().to_string());
        }
        Term {
            selector: PodSelector::new(
                t.label_selector.as_ref(),
                t.match_label_keys.as_deref().unwrap_or_default(),
                owner.labels(),
            ),
            namespaces,
            namespace_selector: t
                .namespace_selector
                .as_ref()
                .map(|s| LabelSelector::from_meta(s).unwrap_or_else(|_| LabelSelector::nothing())),
            topology_key: t.topology_key.clone(),
        }
    }

    /// Whether `pod` is selected by this term.
    pub fn matches(&self, pod: &PodInfo, cache: &Cache) -> bool {
        let ns = pod.namespace();
        let ns_ok = self.namespaces.contains(ns)
            || self
                .namespace_selector
                .as_ref()
                .is_some_and(|s| s.matches(cache.namespace_labels(ns)));
        ns_ok && self.selector.matches(pod.labels())
    }
}

/// A pod's affinity terms, parsed once (kept in its PodInfo).
#[derive(Debug, Clone, Default)]
pub struct PodTerms {
    pub required_affinity: Vec<Term>,
    pub required_anti: Vec<Term>,
    pub preferred_affinity: Vec<(Term, i64)>,
    pub preferred_anti: Vec<(Term, i64)>,
}

/// The pod's parsed terms: from its PodInfo when already parsed.
fn terms_of(pod: &PodInfo) -> std::sync::Arc<PodTerms> {
    match &pod.terms {
        Some(t) => t.clone(),
        None => std::sync::Arc::new(parse_terms(pod)),
    }
}

/// Parses the pod's pod (anti-)affinity terms.
pub fn parse_terms(pod: &PodInfo) -> PodTerms {
    let affinity = pod.pod.spec.as_ref().and_then(|s| s.affinity.as_ref());
    let pa = affinity.and_then(|a| a.pod_affinity.as_ref());
    let paa = affinity.and_then(|a| a.pod_anti_affinity.as_ref());
    let req = |v: Option<&Vec<PodAffinityTerm>>| -> Vec<Term> {
        v.into_iter().flatten().map(|t| Term::new(t, pod)).collect()
    };
    let pref = |v: Option<&Vec<WeightedPodAffinityTerm>>| -> Vec<(Term, i64)> {
        v.into_iter()
            .flatten()
            .map(|w| (Term::new(&w.pod_affinity_term, pod), i64::from(w.weight)))
            .collect()
    };
    PodTerms {
        required_affinity: req(pa.and_then(|a| {
            a.required_during_scheduling_ignored_during_execution
                .as_ref()
        })),
        required_anti: req(paa.and_then(|a| {
            a.required_during_scheduling_ignored_during_execution
                .as_ref()
        })),
        preferred_affinity: pref(pa.and_then(|a| {
            a.preferred_during_scheduling_ignored_during_execution
                .as_ref()
        })),
        preferred_anti: pref(paa.and_then(|a| {
            a.preferred_during_scheduling_ignored_during_execution
                .as_ref()
        })),
    }
}

type Topology = (String, String);

#[derive(Debug, Default)]
pub struct InterPodState {
    required_affinity: Vec<Term>,
    required_anti: Vec<Term>,
    /// Domains holding a pod whose required anti-affinity selects the incoming pod.
    existing_anti: HashMap<Topology, i64>,
    /// Domains holding pods matching all the incoming pod's affinity terms.
    affinity_counts: HashMap<Topology, i64>,
    /// Domains holding pods matching one of its anti-affinity terms.
    anti_counts: HashMap<Topology, i64>,
    /// Whether the pod matches its own affinity terms (the first pod of a group).
    matches_own_affinity: bool,
    /// Preferred terms, both ways, summed per domain.
    topology_score: HashMap<Topology, i64>,
}

fn domain(node: &NodeInfo, key: &str) -> Option<Topology> {
    node.labels().get(key).map(|v| (key.to_string(), v.clone()))
}

impl InterPodState {
    /// None when neither the pod nor any running pod has pod (anti-)affinity.
    pub fn compute(pod: &PodInfo, cache: &Cache, hard_weight: i64) -> Option<InterPodState> {
        let pod_has_terms = pod.has_affinity();
        if !pod_has_terms && cache.nodes().all(|n| n.affinity_pods == 0) {
            return None;
        }
        let own = terms_of(pod);
        let mut state = InterPodState {
            matches_own_affinity: own.required_affinity.iter().all(|t| t.matches(pod, cache)),
            ..Default::default()
        };
        let mut any_existing = false;
        let relevant = cache
            .nodes()
            .filter(|n| pod_has_terms || n.affinity_pods > 0)
            .flat_map(|n| n.pods.iter().map(move |p| (n, p)));
        for (node, existing) in relevant {
            if existing.key == pod.key {
                continue;
            }
            if pod_has_terms {
                if !own.required_affinity.is_empty()
                    && own
                        .required_affinity
                        .iter()
                        .all(|t| t.matches(existing, cache))
                {
                    for t in &own.required_affinity {
                        if let Some(d) = domain(node, &t.topology_key) {
                            *state.affinity_counts.entry(d).or_insert(0) += 1;
                        }
                    }
                }
                for t in &own.required_anti {
                    if t.matches(existing, cache) {
                        if let Some(d) = domain(node, &t.topology_key) {
                            *state.anti_counts.entry(d).or_insert(0) += 1;
                        }
                    }
                }
                for (t, w) in &own.preferred_affinity {
                    if t.matches(existing, cache) {
                        if let Some(d) = domain(node, &t.topology_key) {
                            *state.topology_score.entry(d).or_insert(0) += w;
                        }
                    }
                }
                for (t, w) in &own.preferred_anti {
                    if t.matches(existing, cache) {
                        if let Some(d) = domain(node, &t.topology_key) {
                            *state.topology_score.entry(d).or_insert(0) -= w;
                        }
                    }
                }
            }
            if !existing.has_affinity() {
                continue;
            }
            any_existing = true;
            let theirs = terms_of(existing);
            for t in &theirs.required_anti {
                if t.matches(pod, cache) {
                    if let Some(d) = domain(node, &t.topology_key) {
                        *state.existing_anti.entry(d).or_insert(0) += 1;
                    }
                }
            }
            if hard_weight > 0 {
                for t in &theirs.required_affinity {
                    if t.matches(pod, cache) {
                        if let Some(d) = domain(node, &t.topology_key) {
                            *state.topology_score.entry(d).or_insert(0) += hard_weight;
                        }
                    }
                }
            }
            for (t, w) in &theirs.preferred_affinity {
                if t.matches(pod, cache) {
                    if let Some(d) = domain(node, &t.topology_key) {
                        *state.topology_score.entry(d).or_insert(0) += w;
                    }
                }
            }
            for (t, w) in &theirs.preferred_anti {
                if t.matches(pod, cache) {
                    if let Some(d) = domain(node, &t.topology_key) {
                        *state.topology_score.entry(d).or_insert(0) -= w;
                    }
                }
            }
        }
        if !pod_has_terms && !any_existing {
            return None;
        }
        state.required_affinity = own.required_affinity.clone();
        state.required_anti = own.required_anti.clone();
        Some(state)
    }

    pub fn filter(&self, node: &NodeInfo) -> Result<(), Rejection> {
        let labels = node.labels();
        let in_domain = |(k, v): &Topology| labels.get(k) == Some(v);
        if self
            .existing_anti
            .iter()
            .any(|(d, c)| *c > 0 && in_domain(d))
        {
            return Err(Rejection::new(
                Plugin::InterPodAffinity,
                Code::Unschedulable,
                ERR_EXISTING_ANTI_AFFINITY,
            ));
        }
        if !self.required_affinity.is_empty() {
            let satisfied = self.required_affinity.iter().all(|t| {
                domain(node, &t.topology_key)
                    .is_some_and(|d| self.affinity_counts.get(&d).copied().unwrap_or(0) > 0)
            });
            // The first pod of a group that selects itself may go anywhere the keys exist.
            let first_of_group = self.affinity_counts.is_empty()
                && self.matches_own_affinity
                && self
                    .required_affinity
                    .iter()
                    .all(|t| labels.contains_key(&t.topology_key));
            if !satisfied && !first_of_group {
                return Err(Rejection::new(
                    Plugin::InterPodAffinity,
                    Code::UnschedulableAndUnresolvable,
                    ERR_AFFINITY,
                ));
            }
        }
        for t in &self.required_anti {
            if domain(node, &t.topology_key)
                .is_some_and(|d| self.anti_counts.get(&d).copied().unwrap_or(0) > 0)
            {
                return Err(Rejection::new(
                    Plugin::InterPodAffinity,
                    Code::Unschedulable,
                    ERR_ANTI_AFFINITY,
                ));
            }
        }
        Ok(())
    }

    /// Preferred terms: sum per node, scaled to 0..100 between the lowest and highest.
    pub fn scores(&self, nodes: &[&NodeInfo]) -> Vec<i64> {
        if self.topology_score.is_empty() {
            return vec![0; nodes.len()];
        }
        // Look up each topology key of the node instead of scanning every domain.
        let mut keys: Vec<&str> = self
            .topology_score
            .keys()
            .map(|(k, _)| k.as_str())
            .collect();
        keys.sort_unstable();
        keys.dedup();
        let raw: Vec<i64> = nodes
            .iter()
            .map(|n| {
                let labels: &BTreeMap<String, String> = n.labels();
                keys.iter()
                    .filter_map(|k| {
                        let v = labels.get(*k)?;
                        self.topology_score.get(&(k.to_string(), v.clone()))
                    })
                    .sum()
            })
            .collect();
        let min = raw.iter().copied().min().unwrap_or(0);
        let max = raw.iter().copied().max().unwrap_or(0);
        let diff = max - min;
        raw.iter()
            .map(|s| {
                if diff > 0 {
                    MAX_NODE_SCORE * (s - min) / diff
                } else {
                    0
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::tests::{node, pod};
    use k8s_openapi::api::core::v1::{Affinity, Pod, PodAffinity, PodAntiAffinity};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector as MetaSelector;
    use std::sync::Arc;

    fn term(app: &str) -> PodAffinityTerm {
        PodAffinityTerm {
            label_selector: Some(MetaSelector {
                match_labels: Some(BTreeMap::from([("app".to_string(), app.to_string())])),
                ..Default::default()
            }),
            topology_key: "kubernetes.io/hostname".into(),
            ..Default::default()
        }
    }

    fn labelled(name: &str, app: &str, node: Option<&str>, affinity: Option<Affinity>) -> Pod {
        let mut p = pod("ns", name, node, "100m");
        p.metadata.labels = Some(BTreeMap::from([("app".to_string(), app.to_string())]));
        if let Some(s) = p.spec.as_mut() {
            s.affinity = affinity;
        }
        p
    }

    fn anti(app: &str) -> Affinity {
        Affinity {
            pod_anti_affinity: Some(PodAntiAffinity {
                required_during_scheduling_ignored_during_execution: Some(vec![term(app)]),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn affinity(app: &str) -> Affinity {
        Affinity {
            pod_affinity: Some(PodAffinity {
                required_during_scheduling_ignored_during_execution: Some(vec![term(app)]),
                preferred_during_scheduling_ignored_during_execution: Some(vec![
                    WeightedPodAffinityTerm {
                        weight: 50,
                        pod_affinity_term: term(app),
                    },
                ]),
            }),
            ..Default::default()
        }
    }

    fn cluster() -> Cache {
        let mut c = Cache::new();
        c.upsert_node(node("n1", "4", "8Gi", "110"));
        c.upsert_node(node("n2", "4", "8Gi", "110"));
        c
    }

    #[test]
    fn required_affinity_and_anti_affinity() {
        let mut c = cluster();
        c.upsert_pod(labelled("db", "db", Some("n1"), None));
        let web = PodInfo::new(Arc::new(labelled("web", "web", None, Some(affinity("db")))));
        let s = InterPodState::compute(&web, &c, 1).expect("state");
        assert!(s.filter(c.node("n1").expect("n1")).is_ok());
        assert_eq!(
            s.filter(c.node("n2").expect("n2"))
                .expect_err("no db")
                .reasons,
            vec![ERR_AFFINITY]
        );
        let scores = s.scores(&[c.node("n1").expect("n1"), c.node("n2").expect("n2")]);
        assert_eq!(scores, vec![100, 0]);

        let lonely = PodInfo::new(Arc::new(labelled("web2", "web", None, Some(anti("db")))));
        let s = InterPodState::compute(&lonely, &c, 1).expect("state");
        assert_eq!(
            s.filter(c.node("n1").expect("n1"))
                .expect_err("db there")
                .reasons,
            vec![ERR_ANTI_AFFINITY]
        );
        assert!(s.filter(c.node("n2").expect("n2")).is_ok());
    }

    #[test]
    fn existing_pods_anti_affinity_and_first_of_group() {
        let mut c = cluster();
        c.upsert_pod(labelled("guard", "guard", Some("n1"), Some(anti("web"))));
        let web = PodInfo::new(Arc::new(labelled("web", "web", None, None)));
        let s = InterPodState::compute(&web, &c, 1).expect("state");
        assert_eq!(
            s.filter(c.node("n1").expect("n1"))
                .expect_err("guarded")
                .reasons,
            vec![ERR_EXISTING_ANTI_AFFINITY]
        );
        assert!(s.filter(c.node("n2").expect("n2")).is_ok());
        // A pod whose affinity selects itself may start the group anywhere.
        let first = PodInfo::new(Arc::new(labelled(
            "c1",
            "cache",
            None,
            Some(affinity("cache")),
        )));
        let s = InterPodState::compute(&first, &c, 1).expect("state");
        assert!(s.filter(c.node("n2").expect("n2")).is_ok());
        // No affinity anywhere: nothing to compute.
        let mut plain = Cache::new();
        plain.upsert_node(node("n1", "4", "8Gi", "110"));
        assert!(InterPodState::compute(&web, &plain, 1).is_none());
    }
}
