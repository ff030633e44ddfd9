//! Protobuf field table of `k8s.io.api.apps.v1`.
//!
//! Derived from upstream Kubernetes' published `generated.proto` field numbers (the wire
//! protocol; release 1.33, tag v0.33.13) joined with the Go struct tags of the same types (JSON
//! names, `omitempty`, pointer-ness). Generated, not hand-edited: see `super` (schema/mod.rs)
//! for how it was derived and how to regenerate. One line per field:
//! `f(field number, JSON name ("" = inlined struct), type, flags)`.

#![allow(non_upper_case_globals)]

use super::Shape::{Plain};
use super::Ty::{Bool, I32, I64, M, Str};
use super::{f, msg, Msg, N, O, P, R};
use super::{core_v1, machinery, meta_v1};


pub static ControllerRevision: Msg = msg("ControllerRevision", Plain, &[
    f(1, "metadata", M(&meta_v1::ObjectMeta), O),
    f(2, "data", M(&machinery::RawExtension), O),
    f(3, "revision", I64, N),
]);
pub static ControllerRevisionList: Msg = msg("ControllerRevisionList", Plain, &[
    f(1, "metadata", M(&meta_v1::ListMeta), O),
    f(2, "items", M(&ControllerRevision), R),
]);
pub static DaemonSet: Msg = msg("DaemonSet", Plain, &[
    f(1, "metadata", M(&meta_v1::ObjectMeta), O),
    f(2, "spec", M(&DaemonSetSpec), O),
    f(3, "status", M(&DaemonSetStatus), O),
]);
pub static DaemonSetCondition: Msg = msg("DaemonSetCondition", Plain, &[
    f(1, "type", Str, N),
    f(2, "status", Str, N),
    f(3, "lastTransitionTime", M(&meta_v1::Time), O),
    f(4, "reason", Str, O),
    f(5, "message", Str, O),
]);
pub static DaemonSetList: Msg = msg("DaemonSetList", Plain, &[
    f(1, "metadata", M(&meta_v1::ListMeta), O),
    f(2, "items", M(&DaemonSet), R),
]);
pub static DaemonSetSpec: Msg = msg("DaemonSetSpec", Plain, &[
    f(1, "selector", M(&meta_v1::LabelSelector), P),
    f(2, "template", M(&core_v1::PodTemplateSpec), N),
    f(3, "updateStrategy", M(&DaemonSetUpdateStrategy), O),
    f(4, "minReadySeconds", I32, O),
    f(6, "revisionHistoryLimit", I32, O | P),
]);
pub static DaemonSetStatus: Msg = msg("DaemonSetStatus", Plain, &[
    f(1, "currentNumberScheduled", I32, N),
    f(2, "numberMisscheduled", I32, N),
    f(3, "desiredNumberScheduled", I32, N),
    f(4, "numberReady", I32, N),
    f(5, "observedGeneration", I64, O),
    f(6, "updatedNumberScheduled", I32, O),
    f(7, "numberAvailable", I32, O),
    f(8, "numberUnavailable", I32, O),
    f(9, "collisionCount", I32, O | P),
    f(10, "conditions", M(&DaemonSetCondition), R | O),
]);
pub static DaemonSetUpdateStrategy: Msg = msg("DaemonSetUpdateStrategy", Plain, &[
    f(1, "type", Str, O),
    f(2, "rollingUpdate", M(&RollingUpdateDaemonSet), O | P),
]);
pub static Deployment: Msg = msg("Deployment", Plain, &[
    f(1, "metadata", M(&meta_v1::ObjectMeta), O),
    f(2, "spec", M(&DeploymentSpec), O),
    f(3, "status", M(&DeploymentStatus), O),
]);
pub static DeploymentCondition: Msg = msg("DeploymentCondition", Plain, &[
    f(1, "type", Str, N),
    f(2, "status", Str, N),
    f(6, "lastUpdateTime", M(&meta_v1::Time), O),
    f(7, "lastTransitionTime", M(&meta_v1::Time), O),
    f(4, "reason", Str, O),
    f(5, "message", Str, O),
]);
pub static DeploymentList: Msg = msg("DeploymentList", Plain, &[
    f(1, "metadata", M(&meta_v1::ListMeta), O),
    f(2, "items", M(&Deployment), R),
]);
pub static DeploymentSpec: Msg = msg("DeploymentSpec", Plain, &[
    f(1, "replicas", I32, O | P),
    f(2, "selector", M(&meta_v1::LabelSelector), P),
    f(3, "template", M(&core_v1::PodTemplateSpec), N),
    f(4, "strategy", M(&DeploymentStrategy), O),
    f(5, "minReadySeconds", I32, O),
    f(6, "revisionHistoryLimit", I32, O | P),
    f(7, "paused", Bool, O),
    f(9, "progressDeadlineSeconds", I32, O | P),
]);
pub static DeploymentStatus: Msg = msg("DeploymentStatus", Plain, &[
    f(1, "observedGeneration", I64, O),
    f(2, "replicas", I32, O),
    f(3, "updatedReplicas", I32, O),
    f(7, "readyReplicas", I32, O),
    f(4, "availableReplicas", I32, O),
    f(5, "unavailableReplicas", I32, O),
    f(9, "terminatingReplicas", I32, O | P),
    f(6, "conditions", M(&DeploymentCondition), R | O),
    f(8, "collisionCount", I32, O | P),
]);
pub static DeploymentStrategy: Msg = msg("DeploymentStrategy", Plain, &[
    f(1, "type", Str, O),
    f(2, "rollingUpdate", M(&RollingUpdateDeployment), O | P),
]);
pub static ReplicaSet: Msg = msg("ReplicaSet", Plain, &[
    f(1, "metadata", M(&meta_v1::ObjectMeta), O),
    f(2, "spec", M(&ReplicaSetSpec), O),
    f(3, "status", M(&ReplicaSetStatus), O),
]);
pub static ReplicaSetCondition: Msg = msg("ReplicaSetCondition", Plain, &[
    f(1, "type", Str, N),
    f(2, "status", Str, N),
    f(3, "lastTransitionTime", M(&meta_v1::Time), O),
    f(4, "reason", Str, O),
    f(5, "message", Str, O),
]);
pub static ReplicaSetList: Msg = msg("ReplicaSetList", Plain, &[
    f(1, "metadata", M(&meta_v1::ListMeta), O),
    f(2, "items", M(&ReplicaSet), R),
]);
pub static ReplicaSetSpec: Msg = msg("ReplicaSetSpec", Plain, &[
    f(1, "replicas", I32, O | P),
    f(4, "minReadySeconds", I32, O),
    f(2, "selector", M(&meta_v1::LabelSelector), P),
    f(3, "template", M(&core_v1::PodTemplateSpec), O),
]);
pub static ReplicaSetStatus: Msg = msg("ReplicaSetStatus", Plain, &[
    f(1, "replicas", I32, N),
    f(2, "fullyLabeledReplicas", I32, O),
    f(4, "readyReplicas", I32, O),
    f(5, "availableReplicas", I32, O),
    f(7, "terminatingReplicas", I32, O | P),
    f(3, "observedGeneration", I64, O),
    f(6, "conditions", M(&ReplicaSetCondition), R | O),
]);
pub static RollingUpdateDaemonSet: Msg = msg("RollingUpdateDaemonSet", Plain, &[
    f(1, "maxUnavailable", M(&machinery::IntOrString), O | P),
    f(2, "maxSurge", M(&machinery::IntOrString), O | P),
]);
pub static RollingUpdateDeployment: Msg = msg("RollingUpdateDeployment", Plain, &[
    f(1, "maxUnavailable", M(&machinery::IntOrString), O | P),
    f(2, "maxSurge", M(&machinery::IntOrString), O | P),
]);
pub static RollingUpdateStatefulSetStrategy: Msg = msg("RollingUpdateStatefulSetStrategy", Plain, &[
    f(1, "partition", I32, O | P),
    f(2, "maxUnavailable", M(&machinery::IntOrString), O | P),
]);
pub static StatefulSet: Msg = msg("StatefulSet", Plain, &[
    f(1, "metadata", M(&meta_v1::ObjectMeta), O),
    f(2, "spec", M(&StatefulSetSpec), O),
    f(3, "status", M(&StatefulSetStatus), O),
]);
pub static StatefulSetCondition: Msg = msg("StatefulSetCondition", Plain, &[
    f(1, "type", Str, N),
    f(2, "status", Str, N),
    f(3, "lastTransitionTime", M(&meta_v1::Time), O),
    f(4, "reason", Str, O),
    f(5, "message", Str, O),
]);
pub static StatefulSetList: Msg = msg("StatefulSetList", Plain, &[
    f(1, "metadata", M(&meta_v1::ListMeta), O),
    f(2, "items", M(&StatefulSet), R),
]);
pub static StatefulSetOrdinals: Msg = msg("StatefulSetOrdinals", Plain, &[
    f(1, "start", I32, N),
]);
pub static StatefulSetPersistentVolumeClaimRetentionPolicy: Msg = msg("StatefulSetPersistentVolumeClaimRetentionPolicy", Plain, &[
    f(1, "whenDeleted", Str, O),
    f(2, "whenScaled", Str, O),
]);
pub static StatefulSetSpec: Msg = msg("StatefulSetSpec", Plain, &[
    f(1, "replicas", I32, O | P),
    f(2, "selector", M(&meta_v1::LabelSelector), P),
    f(3, "template", M(&core_v1::PodTemplateSpec), N),
    f(4, "volumeClaimTemplates", M(&core_v1::PersistentVolumeClaim), R | O),
    f(5, "serviceName", Str, N),
    f(6, "podManagementPolicy", Str, O),
    f(7, "updateStrategy", M(&StatefulSetUpdateStrategy), O),
    f(8, "revisionHistoryLimit", I32, O | P),
    f(9, "minReadySeconds", I32, O),
    f(10, "persistentVolumeClaimRetentionPolicy", M(&StatefulSetPersistentVolumeClaimRetentionPolicy), O | P),
    f(11, "ordinals", M(&StatefulSetOrdinals), O | P),
]);
pub static StatefulSetStatus: Msg = msg("StatefulSetStatus", Plain, &[
    f(1, "observedGeneration", I64, O),
    f(2, "replicas", I32, N),
    f(3, "readyReplicas", I32, O),
    f(4, "currentReplicas", I32, O),
    f(5, "updatedReplicas", I32, O),
    f(6, "currentRevision", Str, O),
    f(7, "updateRevision", Str, O),
    f(9, "collisionCount", I32, O | P),
    f(10, "conditions", M(&StatefulSetCondition), R | O),
    f(11, "availableReplicas", I32, N),
]);
pub static StatefulSetUpdateStrategy: Msg = msg("StatefulSetUpdateStrategy", Plain, &[
    f(1, "type", Str, O),
    f(2, "rollingUpdate", M(&RollingUpdateStatefulSetStrategy), O | P),
]);

/// Every message of this module, sorted by name (binary-searched by kind).
pub static ALL: &[&Msg] = &[
    &ControllerRevision,
    &ControllerRevisionList,
    &DaemonSet,
    &DaemonSetCondition,
    &DaemonSetList,
    &DaemonSetSpec,
    &DaemonSetStatus,
    &DaemonSetUpdateStrategy,
    &Deployment,
    &DeploymentCondition,
    &DeploymentList,
    &DeploymentSpec,
    &DeploymentStatus,
    &DeploymentStrategy,
    &ReplicaSet,
    &ReplicaSetCondition,
    &ReplicaSetList,
    &ReplicaSetSpec,
    &ReplicaSetStatus,
    &RollingUpdateDaemonSet,
    &RollingUpdateDeployment,
    &RollingUpdateStatefulSetStrategy,
    &StatefulSet,
    &StatefulSetCondition,
    &StatefulSetList,
    &StatefulSetOrdinals,
    &StatefulSetPersistentVolumeClaimRetentionPolicy,
    &StatefulSetSpec,
    &StatefulSetStatus,
    &StatefulSetUpdateStrategy,
];
