//! Protobuf field table of `k8s.io.api.certificates.v1`.
//!
//! Derived from upstream Kubernetes' published `generated.proto` field numbers (the wire
//! protocol; release 1.33, tag v0.33.13) joined with the Go struct tags of the same types (JSON
//! names, `omitempty`, pointer-ness). Generated, not hand-edited: see `super` (schema/mod.rs)
//! for how it was derived and how to regenerate. One line per field:
//! `f(field number, JSON name ("" = inlined struct), type, flags)`.

#![allow(non_upper_case_globals)]

use super::Shape::{AsItems, Plain};
use super::Ty::{Bytes, I32, M, MapM, Str};
use super::{f, msg, Msg, N, O, P, R};
use super::meta_v1;


pub static CertificateSigningRequest: Msg = msg("CertificateSigningRequest", Plain, &[
    f(1, "metadata", M(&meta_v1::ObjectMeta), O),
    f(2, "spec", M(&CertificateSigningRequestSpec), N),
    f(3, "status", M(&CertificateSigningRequestStatus), O),
]);
pub static CertificateSigningRequestCondition: Msg = msg("CertificateSigningRequestCondition", Plain, &[
    f(1, "type", Str, N),
    f(6, "status", Str, N),
    f(2, "reason", Str, O),
    f(3, "message", Str, O),
    f(4, "lastUpdateTime", M(&meta_v1::Time), O),
    f(5, "lastTransitionTime", M(&meta_v1::Time), O),
]);
pub static CertificateSigningRequestList: Msg = msg("CertificateSigningRequestList", Plain, &[
    f(1, "metadata", M(&meta_v1::ListMeta), O),
    f(2, "items", M(&CertificateSigningRequest), R),
]);
pub static CertificateSigningRequestSpec: Msg = msg("CertificateSigningRequestSpec", Plain, &[
    f(1, "request", Bytes, N),
    f(7, "signerName", Str, N),
    f(8, "expirationSeconds", I32, O | P),
    f(5, "usages", Str, R | O),
    f(2, "username", Str, O),
    f(3, "uid", Str, O),
    f(4, "groups", Str, R | O),
    f(6, "extra", MapM(&ExtraValue), O),
]);
pub static CertificateSigningRequestStatus: Msg = msg("CertificateSigningRequestStatus", Plain, &[
    f(1, "conditions", M(&CertificateSigningRequestCondition), R | O),
    f(2, "certificate", Bytes, O),
]);
pub static ExtraValue: Msg = msg("ExtraValue", AsItems, &[
    f(1, "items", Str, R),
]);

/// Every message of this module, sorted by name (binary-searched by kind).
pub static ALL: &[&Msg] = &[
    &CertificateSigningRequest,
    &CertificateSigningRequestCondition,
    &CertificateSigningRequestList,
    &CertificateSigningRequestSpec,
    &CertificateSigningRequestStatus,
    &ExtraValue,
];
