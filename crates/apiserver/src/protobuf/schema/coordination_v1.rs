//! Protobuf field table of `k8s.io.api.coordination.v1`.
//!
//! Derived from upstream Kubernetes' published `generated.proto` field numbers (the wire
//! protocol; release 1.33, tag v0.33.13) joined with the Go struct tags of the same types (JSON
//! names, `omitempty`, pointer-ness). Generated, not hand-edited: see `super` (schema/mod.rs)
//! for how it was derived and how to regenerate. One line per field:
//! `f(field number, JSON name ("" = inlined struct), type, flags)`.

#![allow(non_upper_case_globals)]

use super::Shape::{Plain};
use super::Ty::{I32, M, Str};
use super::{f, msg, Msg, O, P, R};
use super::meta_v1;


pub static Lease: Msg = msg("Lease", Plain, &[
    f(1, "metadata", M(&meta_v1::ObjectMeta), O),
    f(2, "spec", M(&LeaseSpec), O),
]);
pub static LeaseList: Msg = msg("LeaseList", Plain, &[
    f(1, "metadata", M(&meta_v1::ListMeta), O),
    f(2, "items", M(&Lease), R),
]);
pub static LeaseSpec: Msg = msg("LeaseSpec", Plain, &[
    f(1, "holderIdentity", Str, O | P),
    f(2, "leaseDurationSeconds", I32, O | P),
    f(3, "acquireTime", M(&meta_v1::MicroTime), O | P),
    f(4, "renewTime", M(&meta_v1::MicroTime), O | P),
    f(5, "leaseTransitions", I32, O | P),
    f(6, "strategy", Str, O | P),
    f(7, "preferredHolder", Str, O | P),
]);

/// Every message of this module, sorted by name (binary-searched by kind).
pub static ALL: &[&Msg] = &[
    &Lease,
    &LeaseList,
    &LeaseSpec,
];
