//! Protobuf field table of `k8s.io.api.authentication.v1`.
//!
//! Derived from upstream Kubernetes' published `generated.proto` field numbers (the wire
//! protocol; release 1.33, tag v0.33.13) joined with the Go struct tags of the same types (JSON
//! names, `omitempty`, pointer-ness). Generated, not hand-edited: see `super` (schema/mod.rs)
//! for how it was derived and how to regenerate. One line per field:
//! `f(field number, JSON name ("" = inlined struct), type, flags)`.

#![allow(non_upper_case_globals)]

use super::Shape::{AsItems, Plain};
use super::Ty::{Bool, I64, M, MapM, Str};
use super::{f, msg, Msg, N, O, P, R};
use super::meta_v1;


pub static BoundObjectReference: Msg = msg("BoundObjectReference", Plain, &[
    f(1, "kind", Str, O),
    f(2, "apiVersion", Str, O),
    f(3, "name", Str, O),
    f(4, "uid", Str, O),
]);
pub static ExtraValue: Msg = msg("ExtraValue", AsItems, &[
    f(1, "items", Str, R),
]);
pub static SelfSubjectReview: Msg = msg("SelfSubjectReview", Plain, &[
    f(1, "metadata", M(&meta_v1::ObjectMeta), O),
    f(2, "status", M(&SelfSubjectReviewStatus), O),
]);
pub static SelfSubjectReviewStatus: Msg = msg("SelfSubjectReviewStatus", Plain, &[
    f(1, "userInfo", M(&UserInfo), O),
]);
pub static TokenRequest: Msg = msg("TokenRequest", Plain, &[
    f(1, "metadata", M(&meta_v1::ObjectMeta), O),
    f(2, "spec", M(&TokenRequestSpec), N),
    f(3, "status", M(&TokenRequestStatus), O),
]);
pub static TokenRequestSpec: Msg = msg("TokenRequestSpec", Plain, &[
    f(1, "audiences", Str, R),
    f(4, "expirationSeconds", I64, P),
    f(3, "boundObjectRef", M(&BoundObjectReference), P),
]);
pub static TokenRequestStatus: Msg = msg("TokenRequestStatus", Plain, &[
    f(1, "token", Str, N),
    f(2, "expirationTimestamp", M(&meta_v1::Time), N),
]);
pub static TokenReview: Msg = msg("TokenReview", Plain, &[
    f(1, "metadata", M(&meta_v1::ObjectMeta), O),
    f(2, "spec", M(&TokenReviewSpec), N),
    f(3, "status", M(&TokenReviewStatus), O),
]);
pub static TokenReviewSpec: Msg = msg("TokenReviewSpec", Plain, &[
    f(1, "token", Str, O),
    f(2, "audiences", Str, R | O),
]);
pub static TokenReviewStatus: Msg = msg("TokenReviewStatus", Plain, &[
    f(1, "authenticated", Bool, O),
    f(2, "user", M(&UserInfo), O),
    f(4, "audiences", Str, R | O),
    f(3, "error", Str, O),
]);
pub static UserInfo: Msg = msg("UserInfo", Plain, &[
    f(1, "username", Str, O),
    f(2, "uid", Str, O),
    f(3, "groups", Str, R | O),
    f(4, "extra", MapM(&ExtraValue), O),
]);

/// Every message of this module, sorted by name (binary-searched by kind).
pub static ALL: &[&Msg] = &[
    &BoundObjectReference,
    &ExtraValue,
    &SelfSubjectReview,
    &SelfSubjectReviewStatus,
    &TokenRequest,
    &TokenRequestSpec,
    &TokenRequestStatus,
    &TokenReview,
    &TokenReviewSpec,
    &TokenReviewStatus,
    &UserInfo,
];
