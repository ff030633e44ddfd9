//! calculateStatus: the ReplicaSet status from its pods (pure).

use k8s_openapi::api::apps::v1::{ReplicaSet, ReplicaSetCondition, ReplicaSetStatus};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use api_types::selectors::LabelSelector;

use crate::controller_utils::{is_pod_available, is_pod_ready};

pub const REPLICA_FAILURE: &str = "ReplicaFailure";

/// A failed create or delete during manageReplicas.
#[derive(Debug, Clone)]
pub struct ManageError {
    /// "FailedCreate" or "FailedDelete".
    pub reason: &'static str,
    pub message: String,
}

pub fn calculate_status(
    rs: &ReplicaSet,
    pods: &[&Pod],
    manage_err: Option<&ManageError>,
    now: jiff::Timestamp,
) -> ReplicaSetStatus {
    let spec = rs.spec.clone().unwrap_or_default();
    let min_ready = spec.min_ready_seconds.unwrap_or(0);
    let template_labels = spec
        .template
        .as_ref()
        .and_then(|t| t.metadata.as_ref())
        .and_then(|m| m.labels.clone())
        .unwrap_or_default();
    let template_selector = LabelSelector::from_set(&template_labels);
    let mut fully_labeled = 0;
    let mut ready = 0;
    let mut available = 0;
    for p in pods {
        let labels = p.metadata.labels.clone().unwrap_or_default();
        if template_labels.is_empty() || template_selector.matches(&labels) {
            fully_labeled += 1;
        }
        if is_pod_ready(p) {
            ready += 1;
            if is_pod_available(p, min_ready, now) {
                available += 1;
            }
        }
    }
    let old = rs.status.clone().unwrap_or_default();
    let mut conditions = old.conditions.clone().unwrap_or_default();
    let has_failure = conditions.iter().any(|c| c.type_ == REPLICA_FAILURE);
    match manage_err {
        Some(e) if !has_failure => conditions.push(ReplicaSetCondition {
            type_: REPLICA_FAILURE.to_string(),
            status: "True".to_string(),
            reason: Some(e.reason.to_string()),
            message: Some(e.message.clone()),
            last_transition_time: Some(Time(now)),
        }),
        None if has_failure => conditions.retain(|c| c.type_ != REPLICA_FAILURE),
        _ => {}
    }
    ReplicaSetStatus {
        replicas: pods.len() as i32,
        fully_labeled_replicas: Some(fully_labeled),
        ready_replicas: Some(ready),
        available_replicas: Some(available),
        observed_generation: rs.metadata.generation.or(old.observed_generation),
        conditions: (!conditions.is_empty()).then_some(conditions),
        terminating_replicas: old.terminating_replicas,
    }
}

/// Whether two statuses differ in anything the controller writes.
pub fn status_changed(old: Option<&ReplicaSetStatus>, new: &ReplicaSetStatus) -> bool {
    let Some(old) = old else { return true };
    old.replicas != new.replicas
        || old.fully_labeled_replicas.unwrap_or(0) != new.fully_labeled_replicas.unwrap_or(0)
        || old.ready_replicas.unwrap_or(0) != new.ready_replicas.unwrap_or(0)
        || old.available_replicas.unwrap_or(0) != new.available_replicas.unwrap_or(0)
        || old.observed_generation != new.observed_generation
        || old.conditions.as_ref().map(|c| c.len()) != new.conditions.as_ref().map(|c| c.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::apps::v1::ReplicaSetSpec;
    use k8s_openapi::api::core::v1::{PodCondition, PodStatus, PodTemplateSpec};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    fn rs() -> ReplicaSet {
        ReplicaSet {
            metadata: ObjectMeta {
                generation: Some(3),
                ..Default::default()
            },
            spec: Some(ReplicaSetSpec {
                replicas: Some(3),
                min_ready_seconds: Some(10),
                template: Some(PodTemplateSpec {
                    metadata: Some(ObjectMeta {
                        labels: Some(
                            [("app".into(), "x".into()), ("tier".into(), "t".into())].into(),
                        ),
                        ..Default::default()
                    }),
                    spec: None,
                }),
                ..Default::default()
            }),
            status: None,
        }
    }

    fn pod(labels: &[(&str, &str)], ready_at: Option<i64>) -> Pod {
        Pod {
            metadata: ObjectMeta {
                labels: Some(
                    labels
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect(),
                ),
                ..Default::default()
            },
            spec: None,
            status: Some(PodStatus {
                conditions: Some(vec![PodCondition {
                    type_: "Ready".into(),
                    status: if ready_at.is_some() { "True" } else { "False" }.into(),
                    last_transition_time: ready_at
                        .map(|s| Time(jiff::Timestamp::from_second(s).unwrap())),
                    ..Default::default()
                }]),
                ..Default::default()
            }),
        }
    }

    #[test]
    fn counts_labels_ready_and_available() {
        let a = pod(&[("app", "x"), ("tier", "t")], Some(0));
        let b = pod(&[("app", "x")], Some(95));
        let c = pod(&[("app", "x"), ("tier", "t")], None);
        let now = jiff::Timestamp::from_second(100).unwrap();
        let s = calculate_status(&rs(), &[&a, &b, &c], None, now);
        assert_eq!(s.replicas, 3);
        assert_eq!(s.fully_labeled_replicas, Some(2));
        assert_eq!(s.ready_replicas, Some(2));
        assert_eq!(s.available_replicas, Some(1));
        assert_eq!(s.observed_generation, Some(3));
        assert!(s.conditions.is_none());
    }

    #[test]
    fn replica_failure_is_set_then_cleared() {
        let now = jiff::Timestamp::from_second(100).unwrap();
        let err = ManageError {
            reason: "FailedCreate",
            message: "pods \"x\" is forbidden: exceeded quota".into(),
        };
        let mut r = rs();
        let s = calculate_status(&r, &[], Some(&err), now);
        let conds = s.conditions.clone().unwrap();
        assert_eq!(conds[0].type_, REPLICA_FAILURE);
        assert_eq!(conds[0].reason.as_deref(), Some("FailedCreate"));
        r.status = Some(s);
        let s2 = calculate_status(&r, &[], None, now);
        assert!(s2.conditions.is_none());
        assert!(status_changed(r.status.as_ref(), &s2));
    }
}
