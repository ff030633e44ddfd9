//! Protobuf field table of `k8s.io.api.events.v1`.
//!
//! Derived from upstream Kubernetes' published `generated.proto` field numbers (the wire
//! protocol; release 1.33, tag v0.33.13) joined with the Go struct tags of the same types (JSON
//! names, `omitempty`, pointer-ness). Generated, not hand-edited: see `super` (schema/mod.rs)
//! for how it was derived and how to regenerate. One line per field:
//! `f(field number, JSON name ("" = inlined struct), type, flags)`.

#![allow(non_upper_case_globals)]

use super::Shape::{Plain};
use super::Ty::{I32, M, Str};
use super::{f, msg, Msg, N, O, P, R};
use super::{core_v1, meta_v1};


pub static Event: Msg = msg("Event", Plain, &[
    f(1, "metadata", M(&meta_v1::ObjectMeta), N),
    f(2, "eventTime", M(&meta_v1::MicroTime), N),
    f(3, "series", M(&EventSeries), O | P),
    f(4, "reportingController", Str, O),
    f(5, "reportingInstance", Str, O),
    f(6, "action", Str, O),
    f(7, "reason", Str, O),
    f(8, "regarding", M(&core_v1::ObjectReference), O),
    f(9, "related", M(&core_v1::ObjectReference), O | P),
    f(10, "note", Str, O),
    f(11, "type", Str, O),
    f(12, "deprecatedSource", M(&core_v1::EventSource), O),
    f(13, "deprecatedFirstTimestamp", M(&meta_v1::Time), O),
    f(14, "deprecatedLastTimestamp", M(&meta_v1::Time), O),
    f(15, "deprecatedCount", I32, O),
]);
pub static EventList: Msg = msg("EventList", Plain, &[
    f(1, "metadata", M(&meta_v1::ListMeta), O),
    f(2, "items", M(&Event), R),
]);
pub static EventSeries: Msg = msg("EventSeries", Plain, &[
    f(1, "count", I32, N),
    f(2, "lastObservedTime", M(&meta_v1::MicroTime), N),
]);

/// Every message of this module, sorted by name (binary-searched by kind).
pub static ALL: &[&Msg] = &[
    &Event,
    &EventList,
    &EventSeries,
];
