//! Protobuf field table of `k8s.io.apimachinery.pkg.api.resource`, `k8s.io.apimachinery.pkg.runtime`
//! and `k8s.io.apimachinery.pkg.util.intstr`.
//!
//! Derived from upstream Kubernetes' published `generated.proto` field numbers (the wire
//! protocol; release 1.33, tag v0.33.13) joined with the Go struct tags of the same types (JSON
//! names, `omitempty`, pointer-ness). Generated, not hand-edited: see `super` (schema/mod.rs)
//! for how it was derived and how to regenerate. One line per field:
//! `f(field number, JSON name ("" = inlined struct), type, flags)`.

#![allow(non_upper_case_globals)]

use super::Shape::{AsIntOrString, AsQuantity, AsRawJson, Plain};
use super::Ty::{Bytes, I32, I64, M, Str};
use super::{f, msg, Msg, N, O};


pub static Quantity: Msg = msg("Quantity", AsQuantity, &[
    f(1, "string", Str, N),
]);
pub static QuantityValue: Msg = msg("QuantityValue", Plain, &[
    f(1, "string", Str, N),
]);
pub static IntOrString: Msg = msg("IntOrString", AsIntOrString, &[
    f(1, "type", I64, N),
    f(2, "intVal", I32, N),
    f(3, "strVal", Str, N),
]);
pub static RawExtension: Msg = msg("RawExtension", AsRawJson, &[
    f(1, "raw", Bytes, N),
]);
pub static TypeMeta: Msg = msg("TypeMeta", Plain, &[
    f(1, "apiVersion", Str, O),
    f(2, "kind", Str, O),
]);
pub static Unknown: Msg = msg("Unknown", Plain, &[
    f(1, "", M(&TypeMeta), N),
    f(2, "-", Bytes, N),
    f(3, "ContentEncoding", Str, N),
    f(4, "ContentType", Str, N),
]);

/// Every message of this module, sorted by name (binary-searched by kind).
pub static ALL: &[&Msg] = &[
    &IntOrString,
    &Quantity,
    &QuantityValue,
    &RawExtension,
    &TypeMeta,
    &Unknown,
];
