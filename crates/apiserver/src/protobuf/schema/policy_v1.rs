//! Protobuf field table of `k8s.io.api.policy.v1`.
//!
//! Derived from upstream Kubernetes' published `generated.proto` field numbers (the wire
//! protocol; release 1.33, tag v0.33.13) joined with the Go struct tags of the same types (JSON
//! names, `omitempty`, pointer-ness). Generated, not hand-edited: see `super` (schema/mod.rs)
//! for how it was derived and how to regenerate. One line per field:
//! `f(field number, JSON name ("" = inlined struct), type, flags)`.

#![allow(non_upper_case_globals)]

use super::Shape::{Plain};
use super::Ty::{I32, I64, M, MapM, Str};
use super::{f, msg, Msg, N, O, P, R};
use super::{machinery, meta_v1};


pub static Eviction: Msg = msg("Eviction", Plain, &[
    f(1, "metadata", M(&meta_v1::ObjectMeta), O),
    f(2, "deleteOptions", M(&meta_v1::DeleteOptions), O | P),
]);
pub static PodDisruptionBudget: Msg = msg("PodDisruptionBudget", Plain, &[
    f(1, "metadata", M(&meta_v1::ObjectMeta), O),
    f(2, "spec", M(&PodDisruptionBudgetSpec), O),
    f(3, "status", M(&PodDisruptionBudgetStatus), O),
]);
pub static PodDisruptionBudgetList: Msg = msg("PodDisruptionBudgetList", Plain, &[
    f(1, "metadata", M(&meta_v1::ListMeta), O),
    f(2, "items", M(&PodDisruptionBudget), R),
]);
pub static PodDisruptionBudgetSpec: Msg = msg("PodDisruptionBudgetSpec", Plain, &[
    f(1, "minAvailable", M(&machinery::IntOrString), O | P),
    f(2, "selector", M(&meta_v1::LabelSelector), O | P),
    f(3, "maxUnavailable", M(&machinery::IntOrString), O | P),
    f(4, "unhealthyPodEvictionPolicy", Str, O | P),
]);
pub static PodDisruptionBudgetStatus: Msg = msg("PodDisruptionBudgetStatus", Plain, &[
    f(1, "observedGeneration", I64, O),
    f(2, "disruptedPods", MapM(&meta_v1::Time), O),
    f(3, "disruptionsAllowed", I32, N),
    f(4, "currentHealthy", I32, N),
    f(5, "desiredHealthy", I32, N),
    f(6, "expectedPods", I32, N),
    f(7, "conditions", M(&meta_v1::Condition), R | O),
]);

/// Every message of this module, sorted by name (binary-searched by kind).
pub static ALL: &[&Msg] = &[
    &Eviction,
    &PodDisruptionBudget,
    &PodDisruptionBudgetList,
    &PodDisruptionBudgetSpec,
    &PodDisruptionBudgetStatus,
];
