//! Protobuf field table of `k8s.io.api.authorization.v1`.
//!
//! Derived from upstream Kubernetes' published `generated.proto` field numbers (the wire
//! protocol; release 1.33, tag v0.33.13) joined with the Go struct tags of the same types (JSON
//! names, `omitempty`, pointer-ness). Generated, not hand-edited: see `super` (schema/mod.rs)
//! for how it was derived and how to regenerate. One line per field:
//! `f(field number, JSON name ("" = inlined struct), type, flags)`.

#![allow(non_upper_case_globals)]

use super::Shape::{AsItems, Plain};
use super::Ty::{Bool, M, MapM, Str};
use super::{f, msg, Msg, N, O, P, R};
use super::meta_v1;


pub static ExtraValue: Msg = msg("ExtraValue", AsItems, &[
    f(1, "items", Str, R),
]);
pub static FieldSelectorAttributes: Msg = msg("FieldSelectorAttributes", Plain, &[
    f(1, "rawSelector", Str, O),
    f(2, "requirements", M(&meta_v1::FieldSelectorRequirement), R | O),
]);
pub static LabelSelectorAttributes: Msg = msg("LabelSelectorAttributes", Plain, &[
    f(1, "rawSelector", Str, O),
    f(2, "requirements", M(&meta_v1::LabelSelectorRequirement), R | O),
]);
pub static LocalSubjectAccessReview: Msg = msg("LocalSubjectAccessReview", Plain, &[
    f(1, "metadata", M(&meta_v1::ObjectMeta), O),
    f(2, "spec", M(&SubjectAccessReviewSpec), N),
    f(3, "status", M(&SubjectAccessReviewStatus), O),
]);
pub static NonResourceAttributes: Msg = msg("NonResourceAttributes", Plain, &[
    f(1, "path", Str, O),
    f(2, "verb", Str, O),
]);
pub static NonResourceRule: Msg = msg("NonResourceRule", Plain, &[
    f(1, "verbs", Str, R),
    f(2, "nonResourceURLs", Str, R | O),
]);
pub static ResourceAttributes: Msg = msg("ResourceAttributes", Plain, &[
    f(1, "namespace", Str, O),
    f(2, "verb", Str, O),
    f(3, "group", Str, O),
    f(4, "version", Str, O),
    f(5, "resource", Str, O),
    f(6, "subresource", Str, O),
    f(7, "name", Str, O),
    f(8, "fieldSelector", M(&FieldSelectorAttributes), O | P),
    f(9, "labelSelector", M(&LabelSelectorAttributes), O | P),
]);
pub static ResourceRule: Msg = msg("ResourceRule", Plain, &[
    f(1, "verbs", Str, R),
    f(2, "apiGroups", Str, R | O),
    f(3, "resources", Str, R | O),
    f(4, "resourceNames", Str, R | O),
]);
pub static SelfSubjectAccessReview: Msg = msg("SelfSubjectAccessReview", Plain, &[
    f(1, "metadata", M(&meta_v1::ObjectMeta), O),
    f(2, "spec", M(&SelfSubjectAccessReviewSpec), N),
    f(3, "status", M(&SubjectAccessReviewStatus), O),
]);
pub static SelfSubjectAccessReviewSpec: Msg = msg("SelfSubjectAccessReviewSpec", Plain, &[
    f(1, "resourceAttributes", M(&ResourceAttributes), O | P),
    f(2, "nonResourceAttributes", M(&NonResourceAttributes), O | P),
]);
pub static SelfSubjectRulesReview: Msg = msg("SelfSubjectRulesReview", Plain, &[
    f(1, "metadata", M(&meta_v1::ObjectMeta), O),
    f(2, "spec", M(&SelfSubjectRulesReviewSpec), N),
    f(3, "status", M(&SubjectRulesReviewStatus), O),
]);
pub static SelfSubjectRulesReviewSpec: Msg = msg("SelfSubjectRulesReviewSpec", Plain, &[
    f(1, "namespace", Str, O),
]);
pub static SubjectAccessReview: Msg = msg("SubjectAccessReview", Plain, &[
    f(1, "metadata", M(&meta_v1::ObjectMeta), O),
    f(2, "spec", M(&SubjectAccessReviewSpec), N),
    f(3, "status", M(&SubjectAccessReviewStatus), O),
]);
pub static SubjectAccessReviewSpec: Msg = msg("SubjectAccessReviewSpec", Plain, &[
    f(1, "resourceAttributes", M(&ResourceAttributes), O | P),
    f(2, "nonResourceAttributes", M(&NonResourceAttributes), O | P),
    f(3, "user", Str, O),
    f(4, "groups", Str, R | O),
    f(5, "extra", MapM(&ExtraValue), O),
    f(6, "uid", Str, O),
]);
pub static SubjectAccessReviewStatus: Msg = msg("SubjectAccessReviewStatus", Plain, &[
    f(1, "allowed", Bool, N),
    f(4, "denied", Bool, O),
    f(2, "reason", Str, O),
    f(3, "evaluationError", Str, O),
]);
pub static SubjectRulesReviewStatus: Msg = msg("SubjectRulesReviewStatus", Plain, &[
    f(1, "resourceRules", M(&ResourceRule), R),
    f(2, "nonResourceRules", M(&NonResourceRule), R),
    f(3, "incomplete", Bool, N),
    f(4, "evaluationError", Str, O),
]);

/// Every message of this module, sorted by name (binary-searched by kind).
pub static ALL: &[&Msg] = &[
    &ExtraValue,
    &FieldSelectorAttributes,
    &LabelSelectorAttributes,
    &LocalSubjectAccessReview,
    &NonResourceAttributes,
    &NonResourceRule,
    &ResourceAttributes,
    &ResourceRule,
    &SelfSubjectAccessReview,
    &SelfSubjectAccessReviewSpec,
    &SelfSubjectRulesReview,
    &SelfSubjectRulesReviewSpec,
    &SubjectAccessReview,
    &SubjectAccessReviewSpec,
    &SubjectAccessReviewStatus,
    &SubjectRulesReviewStatus,
];
