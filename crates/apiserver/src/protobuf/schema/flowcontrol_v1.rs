//! Protobuf field table of `k8s.io.api.flowcontrol.v1`.
//!
//! Derived from upstream Kubernetes' published `generated.proto` field numbers (the wire
//! protocol; release 1.33, tag v0.33.13) joined with the Go struct tags of the same types (JSON
//! names, `omitempty`, pointer-ness). Generated, not hand-edited: see `super` (schema/mod.rs)
//! for how it was derived and how to regenerate. One line per field:
//! `f(field number, JSON name ("" = inlined struct), type, flags)`.

#![allow(non_upper_case_globals)]

use super::Shape::{Plain};
use super::Ty::{Bool, I32, M, Str};
use super::{f, msg, Msg, N, O, P, R};
use super::meta_v1;


pub static ExemptPriorityLevelConfiguration: Msg = msg("ExemptPriorityLevelConfiguration", Plain, &[
    f(1, "nominalConcurrencyShares", I32, O | P),
    f(2, "lendablePercent", I32, O | P),
]);
pub static FlowDistinguisherMethod: Msg = msg("FlowDistinguisherMethod", Plain, &[
    f(1, "type", Str, N),
]);
pub static FlowSchema: Msg = msg("FlowSchema", Plain, &[
    f(1, "metadata", M(&meta_v1::ObjectMeta), O),
    f(2, "spec", M(&FlowSchemaSpec), O),
    f(3, "status", M(&FlowSchemaStatus), O),
]);
pub static FlowSchemaCondition: Msg = msg("FlowSchemaCondition", Plain, &[
    f(1, "type", Str, O),
    f(2, "status", Str, O),
    f(3, "lastTransitionTime", M(&meta_v1::Time), O),
    f(4, "reason", Str, O),
    f(5, "message", Str, O),
]);
pub static FlowSchemaList: Msg = msg("FlowSchemaList", Plain, &[
    f(1, "metadata", M(&meta_v1::ListMeta), O),
    f(2, "items", M(&FlowSchema), R),
]);
pub static FlowSchemaSpec: Msg = msg("FlowSchemaSpec", Plain, &[
    f(1, "priorityLevelConfiguration", M(&PriorityLevelConfigurationReference), N),
    f(2, "matchingPrecedence", I32, N),
    f(3, "distinguisherMethod", M(&FlowDistinguisherMethod), O | P),
    f(4, "rules", M(&PolicyRulesWithSubjects), R | O),
]);
pub static FlowSchemaStatus: Msg = msg("FlowSchemaStatus", Plain, &[
    f(1, "conditions", M(&FlowSchemaCondition), R | O),
]);
pub static GroupSubject: Msg = msg("GroupSubject", Plain, &[
    f(1, "name", Str, N),
]);
pub static LimitResponse: Msg = msg("LimitResponse", Plain, &[
    f(1, "type", Str, N),
    f(2, "queuing", M(&QueuingConfiguration), O | P),
]);
pub static LimitedPriorityLevelConfiguration: Msg = msg("LimitedPriorityLevelConfiguration", Plain, &[
    f(1, "nominalConcurrencyShares", I32, P),
    f(2, "limitResponse", M(&LimitResponse), O),
    f(3, "lendablePercent", I32, O | P),
    f(4, "borrowingLimitPercent", I32, O | P),
]);
pub static NonResourcePolicyRule: Msg = msg("NonResourcePolicyRule", Plain, &[
    f(1, "verbs", Str, R),
    f(6, "nonResourceURLs", Str, R),
]);
pub static PolicyRulesWithSubjects: Msg = msg("PolicyRulesWithSubjects", Plain, &[
    f(1, "subjects", M(&Subject), R),
    f(2, "resourceRules", M(&ResourcePolicyRule), R | O),
    f(3, "nonResourceRules", M(&NonResourcePolicyRule), R | O),
]);
pub static PriorityLevelConfiguration: Msg = msg("PriorityLevelConfiguration", Plain, &[
    f(1, "metadata", M(&meta_v1::ObjectMeta), O),
    f(2, "spec", M(&PriorityLevelConfigurationSpec), O),
    f(3, "status", M(&PriorityLevelConfigurationStatus), O),
]);
pub static PriorityLevelConfigurationCondition: Msg = msg("PriorityLevelConfigurationCondition", Plain, &[
    f(1, "type", Str, O),
    f(2, "status", Str, O),
    f(3, "lastTransitionTime", M(&meta_v1::Time), O),
    f(4, "reason", Str, O),
    f(5, "message", Str, O),
]);
pub static PriorityLevelConfigurationList: Msg = msg("PriorityLevelConfigurationList", Plain, &[
    f(1, "metadata", M(&meta_v1::ListMeta), O),
    f(2, "items", M(&PriorityLevelConfiguration), R),
]);
pub static PriorityLevelConfigurationReference: Msg = msg("PriorityLevelConfigurationReference", Plain, &[
    f(1, "name", Str, N),
]);
pub static PriorityLevelConfigurationSpec: Msg = msg("PriorityLevelConfigurationSpec", Plain, &[
    f(1, "type", Str, N),
    f(2, "limited", M(&LimitedPriorityLevelConfiguration), O | P),
    f(3, "exempt", M(&ExemptPriorityLevelConfiguration), O | P),
]);
pub static PriorityLevelConfigurationStatus: Msg = msg("PriorityLevelConfigurationStatus", Plain, &[
    f(1, "conditions", M(&PriorityLevelConfigurationCondition), R | O),
]);
pub static QueuingConfiguration: Msg = msg("QueuingConfiguration", Plain, &[
    f(1, "queues", I32, N),
    f(2, "handSize", I32, N),
    f(3, "queueLengthLimit", I32, N),
]);
pub static ResourcePolicyRule: Msg = msg("ResourcePolicyRule", Plain, &[
    f(1, "verbs", Str, R),
    f(2, "apiGroups", Str, R),
    f(3, "resources", Str, R),
    f(4, "clusterScope", Bool, O),
    f(5, "namespaces", Str, R),
]);
pub static ServiceAccountSubject: Msg = msg("ServiceAccountSubject", Plain, &[
    f(1, "namespace", Str, N),
    f(2, "name", Str, N),
]);
pub static Subject: Msg = msg("Subject", Plain, &[
    f(1, "kind", Str, N),
    f(2, "user", M(&UserSubject), O | P),
    f(3, "group", M(&GroupSubject), O | P),
    f(4, "serviceAccount", M(&ServiceAccountSubject), O | P),
]);
pub static UserSubject: Msg = msg("UserSubject", Plain, &[
    f(1, "name", Str, N),
]);

/// Every message of this module, sorted by name (binary-searched by kind).
pub static ALL: &[&Msg] = &[
    &ExemptPriorityLevelConfiguration,
    &FlowDistinguisherMethod,
    &FlowSchema,
    &FlowSchemaCondition,
    &FlowSchemaList,
    &FlowSchemaSpec,
    &FlowSchemaStatus,
    &GroupSubject,
    &LimitResponse,
    &LimitedPriorityLevelConfiguration,
    &NonResourcePolicyRule,
    &PolicyRulesWithSubjects,
    &PriorityLevelConfiguration,
    &PriorityLevelConfigurationCondition,
    &PriorityLevelConfigurationList,
    &PriorityLevelConfigurationReference,
    &PriorityLevelConfigurationSpec,
    &PriorityLevelConfigurationStatus,
    &QueuingConfiguration,
    &ResourcePolicyRule,
    &ServiceAccountSubject,
    &Subject,
    &UserSubject,
];
