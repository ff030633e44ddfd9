//! The two kinds the replica controller drives: apps/v1 ReplicaSet and v1
//! ReplicationController (upstream runs the same code over both by converting RCs).

use k8s_openapi::api::apps::v1::{
    ReplicaSet, ReplicaSetCondition, ReplicaSetSpec, ReplicaSetStatus,
};
use k8s_openapi::api::core::v1::{
    ReplicationController, ReplicationControllerCondition, ReplicationControllerStatus,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

use crate::informers::Watchable;

pub trait ReplicaKind:
    Watchable + kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>
{
    const KIND: &'static str;
    const API_VERSION: &'static str;
    /// Workqueue name and event source, as upstream names them.
    const QUEUE: &'static str;
    const COMPONENT: &'static str;
    /// The object as a ReplicaSet (the RC's map selector becomes matchLabels).
    fn to_replica_set(&self) -> ReplicaSet;
    /// The status subresource body for `status`.
    fn status_body(status: &ReplicaSetStatus) -> serde_json::Value;
}

impl ReplicaKind for ReplicaSet {
    const KIND: &'static str = "ReplicaSet";
    const API_VERSION: &'static str = "apps/v1";
    const QUEUE: &'static str = "replicaset";
    const COMPONENT: &'static str = "replicaset-controller";

    fn to_replica_set(&self) -> ReplicaSet {
        self.clone()
    }

    fn status_body(status: &ReplicaSetStatus) -> serde_json::Value {
        status_json(status)
    }
}

impl ReplicaKind for ReplicationController {
    const KIND: &'static str = "ReplicationController";
    const API_VERSION: &'static str = "v1";
    const QUEUE: &'static str = "replicationmanager";
    const COMPONENT: &'static str = "replication-controller";

    fn to_replica_set(&self) -> ReplicaSet {
        let spec = self.spec.clone().unwrap_or_default();
        let status = self.status.clone().map(|s| ReplicaSetStatus {
            available_replicas: s.available_replicas,
            fully_labeled_replicas: s.fully_labeled_replicas,
            observed_generation: s.observed_generation,
            ready_replicas: s.ready_replicas,
            replicas: s.replicas,
            conditions: s.conditions.map(|cs| {
                cs.into_iter()
                    .map(|c| ReplicaSetCondition {
                        last_transition_time: c.last_transition_time,
                        message: c.message,
                        reason: c.reason,
                        status: c.status,
                        type_: c.type_,
                    })
                    .collect()
            }),
            ..Default::default()
        });
        ReplicaSet {
            metadata: self.metadata.clone(),
            spec: Some(ReplicaSetSpec {
                min_ready_seconds: spec.min_ready_seconds,
                // An RC defaults its selector to the template's labels.
                replicas: spec.replicas,
                selector: LabelSelector {
                    match_labels: spec.selector.clone().or_else(|| {
                        spec.template
                            .as_ref()
                            .and_then(|t| t.metadata.as_ref())
                            .and_then(|m| m.labels.clone())
                    }),
                    match_expressions: None,
                },
                template: spec.template,
            }),
            status,
        }
    }

    fn status_body(status: &ReplicaSetStatus) -> serde_json::Value {
        let rc = ReplicationControllerStatus {
            available_replicas: status.available_replicas,
            fully_labeled_replicas: status.fully_labeled_replicas,
            observed_generation: status.observed_generation,
            ready_replicas: status.ready_replicas,
            replicas: status.replicas,
            conditions: status.conditions.as_ref().map(|cs| {
                cs.iter()
                    .map(|c| ReplicationControllerCondition {
                        last_transition_time: c.last_transition_time.clone(),
                        message: c.message.clone(),
                        reason: c.reason.clone(),
                        status: c.status.clone(),
                        type_: c.type_.clone(),
                    })
                    .collect()
            }),
        };
        let mut v = serde_json::to_value(&rc).unwrap_or(serde_json::Value::Null);
        if let Some(o) = v.as_object_mut() {
            o.entry("conditions").or_insert(serde_json::Value::Null);
        }
        serde_json::json!({ "status": v })
    }
}

fn status_json(status: &ReplicaSetStatus) -> serde_json::Value {
    let mut v = serde_json::to_value(status).unwrap_or(serde_json::Value::Null);
    if let Some(o) = v.as_object_mut() {
        // A merge patch must say null to drop a condition list.
        o.entry("conditions").or_insert(serde_json::Value::Null);
    }
    serde_json::json!({ "status": v })
}
