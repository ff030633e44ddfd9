//! Protobuf field table of `k8s.io.api.scheduling.v1`.
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


pub static PriorityClass: Msg = msg("PriorityClass", Plain, &[
    f(1, "metadata", M(&meta_v1::ObjectMeta), O),
    f(2, "value", I32, N),
    f(3, "globalDefault", Bool, O),
    f(4, "description", Str, O),
    f(5, "preemptionPolicy", Str, O | P),
]);
pub static PriorityClassList: Msg = msg("PriorityClassList", Plain, &[
    f(1, "metadata", M(&meta_v1::ListMeta), O),
    f(2, "items", M(&PriorityClass), R),
]);

/// Every message of this module, sorted by name (binary-searched by kind).
pub static ALL: &[&Msg] = &[
    &PriorityClass,
    &PriorityClassList,
];
