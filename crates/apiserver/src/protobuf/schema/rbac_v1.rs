//! Protobuf field table of `k8s.io.api.rbac.v1`.
//!
//! Derived from upstream Kubernetes' published `generated.proto` field numbers (the wire
//! protocol; release 1.33, tag v0.33.13) joined with the Go struct tags of the same types (JSON
//! names, `omitempty`, pointer-ness). Generated, not hand-edited: see `super` (schema/mod.rs)
//! for how it was derived and how to regenerate. One line per field:
//! `f(field number, JSON name ("" = inlined struct), type, flags)`.

#![allow(non_upper_case_globals)]

use super::Shape::{Plain};
use super::Ty::{M, Str};
use super::{f, msg, Msg, N, O, P, R};
use super::meta_v1;


pub static AggregationRule: Msg = msg("AggregationRule", Plain, &[
    f(1, "clusterRoleSelectors", M(&meta_v1::LabelSelector), R | O),
]);
pub static ClusterRole: Msg = msg("ClusterRole", Plain, &[
    f(1, "metadata", M(&meta_v1::ObjectMeta), O),
    f(2, "rules", M(&PolicyRule), R),
    f(3, "aggregationRule", M(&AggregationRule), O | P),
]);
pub static ClusterRoleBinding: Msg = msg("ClusterRoleBinding", Plain, &[
    f(1, "metadata", M(&meta_v1::ObjectMeta), O),
    f(2, "subjects", M(&Subject), R | O),
    f(3, "roleRef", M(&RoleRef), N),
]);
pub static ClusterRoleBindingList: Msg = msg("ClusterRoleBindingList", Plain, &[
    f(1, "metadata", M(&meta_v1::ListMeta), O),
    f(2, "items", M(&ClusterRoleBinding), R),
]);
pub static ClusterRoleList: Msg = msg("ClusterRoleList", Plain, &[
    f(1, "metadata", M(&meta_v1::ListMeta), O),
    f(2, "items", M(&ClusterRole), R),
]);
pub static PolicyRule: Msg = msg("PolicyRule", Plain, &[
    f(1, "verbs", Str, R),
    f(2, "apiGroups", Str, R | O),
    f(3, "resources", Str, R | O),
    f(4, "resourceNames", Str, R | O),
    f(5, "nonResourceURLs", Str, R | O),
]);
pub static Role: Msg = msg("Role", Plain, &[
    f(1, "metadata", M(&meta_v1::ObjectMeta), O),
    f(2, "rules", M(&PolicyRule), R),
]);
pub static RoleBinding: Msg = msg("RoleBinding", Plain, &[
    f(1, "metadata", M(&meta_v1::ObjectMeta), O),
    f(2, "subjects", M(&Subject), R | O),
    f(3, "roleRef", M(&RoleRef), N),
]);
pub static RoleBindingList: Msg = msg("RoleBindingList", Plain, &[
    f(1, "metadata", M(&meta_v1::ListMeta), O),
    f(2, "items", M(&RoleBinding), R),
]);
pub static RoleList: Msg = msg("RoleList", Plain, &[
    f(1, "metadata", M(&meta_v1::ListMeta), O),
    f(2, "items", M(&Role), R),
]);
pub static RoleRef: Msg = msg("RoleRef", Plain, &[
    f(1, "apiGroup", Str, N),
    f(2, "kind", Str, N),
    f(3, "name", Str, N),
]);
pub static Subject: Msg = msg("Subject", Plain, &[
    f(1, "kind", Str, N),
    f(2, "apiGroup", Str, O),
    f(3, "name", Str, N),
    f(4, "namespace", Str, O),
]);

/// Every message of this module, sorted by name (binary-searched by kind).
pub static ALL: &[&Msg] = &[
    &AggregationRule,
    &ClusterRole,
    &ClusterRoleBinding,
    &ClusterRoleBindingList,
    &ClusterRoleList,
    &PolicyRule,
    &Role,
    &RoleBinding,
    &RoleBindingList,
    &RoleList,
    &RoleRef,
    &Subject,
];
