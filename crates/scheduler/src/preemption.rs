//! PostFilter DefaultPreemption: when no node fits, find a node where evicting pods of
//! lower priority makes room, keeping as many of them as possible (reprieve), and pick
//! the node whose victims matter least. Pure; the scheduler deletes the victims and
//! sets status.nominatedNodeName. PodDisruptionBudgets are not consulted.

use std::collections::BTreeMap;

use crate::cache::{Cache, NodeInfo, PodInfo};
use crate::config::Profile;
use crate::framework::{run_filters, Code, CycleState, Diagnosis};

pub const NO_VICTIMS: &str = "No preemption victims found for incoming pod";
pub const NOT_HELPFUL: &str = "Preemption is not helpful for scheduling";

/// A node and the pods to evict from it.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub node: String,
    pub victims: Vec<PodInfo>,
}

#[derive(Debug)]
pub enum Preemption {
    /// Evict these pods and nominate the node.
    Candidate(Candidate),
    /// No preemption; the message goes after the filter reasons.
    Failed(String),
}

/// upstream PodEligibleToPreemptOthers.
pub fn eligibility(pod: &PodInfo, cache: &Cache) -> Result<(), String> {
    let spec = pod.pod.spec.as_ref();
    if spec.and_then(|s| s.preemption_policy.as_deref()) == Some("Never") {
        return Err("preemption: not eligible due to preemptionPolicy=Never.".to_string());
    }
    let nominated = pod
        .pod
        .status
        .as_ref()
        .and_then(|s| s.nominated_node_name.as_deref())
        .filter(|n| !n.is_empty());
    if let Some(node) = nominated.and_then(|n| cache.node(n)) {
        let terminating = node
            .pods
            .iter()
            .any(|p| p.pod.metadata.deletion_timestamp.is_some() && p.priority < pod.priority);
        if terminating {
            return Err(
                "preemption: not eligible due to a terminating pod on the nominated node."
                    .to_string(),
            );
        }
    }
    Ok(())
}

/// The victims needed on one node, or why there are none.
fn select_victims(
    profile: &Profile,
    state: &CycleState,
    pod: &PodInfo,
    node: &NodeInfo,
) -> Option<Vec<PodInfo>> {
    let mut lower: Vec<PodInfo> = node
        .pods
        .iter()
        .filter(|p| p.priority < pod.priority && p.pod.metadata.deletion_timestamp.is_none())
        .cloned()
        .collect();
    if lower.is_empty() {
        return None;
    }
    let mut trial = node.clone();
    for p in &lower {
        trial.remove_pod(&p.key);
    }
    if run_filters(profile, state, pod, &trial).is_err() {
        return None;
    }
    // Reprieve the most important pods first.
    lower.sort_by(|a, b| b.priority.cmp(&a.priority).then_with(|| a.key.cmp(&b.key)));
    let mut victims = Vec::new();
    for p in lower {
        trial.add_pod(p.clone());
        if run_filters(profile, state, pod, &trial).is_err() {
            trial.remove_pod(&p.key);
            victims.push(p);
        }
    }
    Some(victims)
}

/// Tries every node rejected for a reason preemption can fix.
pub fn preempt(
    profile: &Profile,
    state: &CycleState,
    pod: &PodInfo,
    cache: &Cache,
    diagnosis: &Diagnosis,
) -> Preemption {
    if let Err(msg) = eligibility(pod, cache) {
        return Preemption::Failed(msg.trim_end_matches('.').to_string());
    }
    let mut reasons: BTreeMap<&str, usize> = BTreeMap::new();
    let mut candidates = Vec::new();
    for node in cache.nodes() {
        let resolvable = diagnosis
            .node_rejections
            .get(&node.name)
            .is_some_and(|r| r.code == Code::Unschedulable);
        if !resolvable {
            *reasons.entry(NOT_HELPFUL).or_insert(0) += 1;
            continue;
        }
        match select_victims(profile, state, pod, node) {
            Some(victims) if !victims.is_empty() => candidates.push(Candidate {
                node: node.name.clone(),
                victims,
            }),
            _ => *reasons.entry(NO_VICTIMS).or_insert(0) += 1,
        }
    }
    match pick(candidates) {
        Some(c) => Preemption::Candidate(c),
        None => {
            let mut parts: Vec<String> = reasons.iter().map(|(r, n)| format!("{n} {r}")).collect();
            parts.sort();
            Preemption::Failed(format!(
                "preemption: 0/{} nodes are available: {}",
                cache.node_count(),
                parts.join(", ")
            ))
        }
    }
}

/// upstream pickOneNodeForPreemption, shortened: the lowest highest-victim priority,
/// then the lowest sum of priorities, then the fewest victims.
pub fn pick(candidates: Vec<Candidate>) -> Option<Candidate> {
    candidates.into_iter().min_by_key(|c| {
        let max = c
            .victims
            .iter()
            .map(|v| v.priority)
            .max()
            .unwrap_or(i32::MIN);
        let sum: i64 = c
            .victims
            .iter()
            .map(|v| i64::from(v.priority) + i64::from(i32::MAX) + 1)
            .sum();
        (max, sum, c.victims.len(), c.node.clone())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::tests::{node, pod};
    use crate::config::SchedulerConfig;
    use crate::framework::{pre_filter, schedule_one, Outcome};
    use std::sync::Arc;

    fn prio(name: &str, node: Option<&str>, cpu: &str, p: i32) -> PodInfo {
        let mut pd = pod("ns", name, node, cpu);
        if let Some(s) = pd.spec.as_mut() {
            s.priority = Some(p);
        }
        PodInfo::new(Arc::new(pd))
    }

    fn add(c: &mut Cache, p: &PodInfo) {
        c.upsert_pod((*p.pod).clone());
    }

    #[test]
    fn evicts_the_fewest_lowest_priority_pods() {
        let profile = SchedulerConfig::default().profiles.remove(0);
        let mut c = Cache::new();
        c.upsert_node(node("n1", "2", "8Gi", "110"));
        c.upsert_node(node("n2", "2", "8Gi", "110"));
        add(&mut c, &prio("low-a", Some("n1"), "1", 0));
        add(&mut c, &prio("low-b", Some("n1"), "1", 0));
        add(&mut c, &prio("mid", Some("n2"), "2", 50));
        let high = prio("high", None, "1", 100);
        let (outcome, _) = schedule_one(&profile, &high, &c, 0, None, 0);
        let Outcome::Unschedulable(d) = outcome else {
            panic!("must not fit");
        };
        let state = pre_filter(&profile, &high, &c);
        match preempt(&profile, &state, &high, &c, &d) {
            Preemption::Candidate(cand) => {
                assert_eq!(cand.node, "n1");
                assert_eq!(cand.victims.len(), 1, "one 1-cpu victim is enough");
            }
            Preemption::Failed(m) => panic!("{m}"),
        }
        // Equal priority: nothing to preempt.
        let peer = prio("peer", None, "1", 0);
        let state = pre_filter(&profile, &peer, &c);
        match preempt(&profile, &state, &peer, &c, &d) {
            Preemption::Failed(m) => assert_eq!(
                m,
                "preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod"
            ),
            Preemption::Candidate(c) => panic!("{c:?}"),
        }
        // preemptionPolicy Never.
        let mut never = (*high.pod).clone();
        if let Some(s) = never.spec.as_mut() {
            s.preemption_policy = Some("Never".into());
        }
        let never = PodInfo::new(Arc::new(never));
        match preempt(&profile, &state, &never, &c, &d) {
            Preemption::Failed(m) => {
                assert_eq!(m, "preemption: not eligible due to preemptionPolicy=Never")
            }
            Preemption::Candidate(c) => panic!("{c:?}"),
        }
    }
}
