//! Protobuf field table of `k8s.io.api.node.v1`.
//!
//! Derived from upstream Kubernetes' published `generated.proto` field numbers (the wire
//! protocol; release 1.33, tag v0.33.13) joined with the Go struct tags of the same types (JSON
//! names, `omitempty`, pointer-ness). Generated, not hand-edited: see `super` (schema/mod.rs)
//! for how it was derived and how to regenerate. One line per field:
//! `f(field number, JSON name ("" = inlined struct), type, flags)`.

#![allow(non_upper_case_globals)]

use super::Shape::{Plain};
use super::Ty::{M, MapM, MapStr, Str};
use super::{f, msg, Msg, N, O, P, R};
use super::{core_v1, machinery, meta_v1};


pub static Overhead: Msg = msg("Overhead", Plain, &[
    f(1, "podFixed", MapM(&machinery::Quantity), O),
]);
pub static RuntimeClass: Msg = msg("RuntimeClass", Plain, &[
    f(1, "metadata", M(&meta_v1::ObjectMeta), O),
    f(2, "handler", Str, N),
    f(3, "overhead", M(&Overhead), O | P),
    f(4, "scheduling", M(&Scheduling), O | P),
]);
pub static RuntimeClassList: Msg = msg("RuntimeClassList", Plain, &[
    f(1, "metadata", M(&meta_v1::ListMeta), O),
    f(2, "items", M(&RuntimeClass), R),
]);
pub static Scheduling: Msg = msg("Scheduling", Plain, &[
    f(1, "nodeSelector", MapStr, O),
    f(2, "tolerations", M(&core_v1::Toleration), R | O),
]);

/// Every message of this module, sorted by name (binary-searched by kind).
pub static ALL: &[&Msg] = &[
    &Overhead,
    &RuntimeClass,
    &RuntimeClassList,
    &Scheduling,
];
