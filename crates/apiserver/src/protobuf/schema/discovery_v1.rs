//! Protobuf field table of `k8s.io.api.discovery.v1`.
//!
//! Derived from upstream Kubernetes' published `generated.proto` field numbers (the wire
//! protocol; release 1.33, tag v0.33.13) joined with the Go struct tags of the same types (JSON
//! names, `omitempty`, pointer-ness). Generated, not hand-edited: see `super` (schema/mod.rs)
//! for how it was derived and how to regenerate. One line per field:
//! `f(field number, JSON name ("" = inlined struct), type, flags)`.

#![allow(non_upper_case_globals)]

use super::Shape::{Plain};
use super::Ty::{Bool, I32, M, MapStr, Str};
use super::{f, msg, Msg, N, O, P, R};
use super::{core_v1, meta_v1};


pub static Endpoint: Msg = msg("Endpoint", Plain, &[
    f(1, "addresses", Str, R),
    f(2, "conditions", M(&EndpointConditions), O),
    f(3, "hostname", Str, O | P),
    f(4, "targetRef", M(&core_v1::ObjectReference), O | P),
    f(5, "deprecatedTopology", MapStr, O),
    f(6, "nodeName", Str, O | P),
    f(7, "zone", Str, O | P),
    f(8, "hints", M(&EndpointHints), O | P),
]);
pub static EndpointConditions: Msg = msg("EndpointConditions", Plain, &[
    f(1, "ready", Bool, O | P),
    f(2, "serving", Bool, O | P),
    f(3, "terminating", Bool, O | P),
]);
pub static EndpointHints: Msg = msg("EndpointHints", Plain, &[
    f(1, "forZones", M(&ForZone), R | O),
    f(2, "forNodes", M(&ForNode), R | O),
]);
pub static EndpointPort: Msg = msg("EndpointPort", Plain, &[
    f(1, "name", Str, O | P),
    f(2, "protocol", Str, O | P),
    f(3, "port", I32, O | P),
    f(4, "appProtocol", Str, O | P),
]);
pub static EndpointSlice: Msg = msg("EndpointSlice", Plain, &[
    f(1, "metadata", M(&meta_v1::ObjectMeta), O),
    f(4, "addressType", Str, N),
    f(2, "endpoints", M(&Endpoint), R),
    f(3, "ports", M(&EndpointPort), R),
]);
pub static EndpointSliceList: Msg = msg("EndpointSliceList", Plain, &[
    f(1, "metadata", M(&meta_v1::ListMeta), O),
    f(2, "items", M(&EndpointSlice), R),
]);
pub static ForNode: Msg = msg("ForNode", Plain, &[
    f(1, "name", Str, N),
]);
pub static ForZone: Msg = msg("ForZone", Plain, &[
    f(1, "name", Str, N),
]);

/// Every message of this module, sorted by name (binary-searched by kind).
pub static ALL: &[&Msg] = &[
    &Endpoint,
    &EndpointConditions,
    &EndpointHints,
    &EndpointPort,
    &EndpointSlice,
    &EndpointSliceList,
    &ForNode,
    &ForZone,
];
