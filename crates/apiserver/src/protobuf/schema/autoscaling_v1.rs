//! Protobuf field table of `k8s.io.api.autoscaling.v1`.
//!
//! Derived from upstream Kubernetes' published `generated.proto` field numbers (the wire
//! protocol; release 1.33, tag v0.33.13) joined with the Go struct tags of the same types (JSON
//! names, `omitempty`, pointer-ness). Generated, not hand-edited: see `super` (schema/mod.rs)
//! for how it was derived and how to regenerate. One line per field:
//! `f(field number, JSON name ("" = inlined struct), type, flags)`.

#![allow(non_upper_case_globals)]

use super::Shape::{Plain};
use super::Ty::{I32, I64, M, Str};
use super::{f, msg, Msg, N, O, P, R};
use super::{machinery, meta_v1};


pub static ContainerResourceMetricSource: Msg = msg("ContainerResourceMetricSource", Plain, &[
    f(1, "name", Str, N),
    f(2, "targetAverageUtilization", I32, O | P),
    f(3, "targetAverageValue", M(&machinery::Quantity), O | P),
    f(5, "container", Str, N),
]);
pub static ContainerResourceMetricStatus: Msg = msg("ContainerResourceMetricStatus", Plain, &[
    f(1, "name", Str, N),
    f(2, "currentAverageUtilization", I32, O | P),
    f(3, "currentAverageValue", M(&machinery::Quantity), N),
    f(4, "container", Str, N),
]);
pub static CrossVersionObjectReference: Msg = msg("CrossVersionObjectReference", Plain, &[
    f(1, "kind", Str, N),
    f(2, "name", Str, N),
    f(3, "apiVersion", Str, O),
]);
pub static ExternalMetricSource: Msg = msg("ExternalMetricSource", Plain, &[
    f(1, "metricName", Str, N),
    f(2, "metricSelector", M(&meta_v1::LabelSelector), O | P),
    f(3, "targetValue", M(&machinery::Quantity), O | P),
    f(4, "targetAverageValue", M(&machinery::Quantity), O | P),
]);
pub static ExternalMetricStatus: Msg = msg("ExternalMetricStatus", Plain, &[
    f(1, "metricName", Str, N),
    f(2, "metricSelector", M(&meta_v1::LabelSelector), O | P),
    f(3, "currentValue", M(&machinery::Quantity), N),
    f(4, "currentAverageValue", M(&machinery::Quantity), O | P),
]);
pub static HorizontalPodAutoscaler: Msg = msg("HorizontalPodAutoscaler", Plain, &[
    f(1, "metadata", M(&meta_v1::ObjectMeta), O),
    f(2, "spec", M(&HorizontalPodAutoscalerSpec), O),
    f(3, "status", M(&HorizontalPodAutoscalerStatus), O),
]);
pub static HorizontalPodAutoscalerCondition: Msg = msg("HorizontalPodAutoscalerCondition", Plain, &[
    f(1, "type", Str, N),
    f(2, "status", Str, N),
    f(3, "lastTransitionTime", M(&meta_v1::Time), O),
    f(4, "reason", Str, O),
    f(5, "message", Str, O),
]);
pub static HorizontalPodAutoscalerList: Msg = msg("HorizontalPodAutoscalerList", Plain, &[
    f(1, "metadata", M(&meta_v1::ListMeta), O),
    f(2, "items", M(&HorizontalPodAutoscaler), R),
]);
pub static HorizontalPodAutoscalerSpec: Msg = msg("HorizontalPodAutoscalerSpec", Plain, &[
    f(1, "scaleTargetRef", M(&CrossVersionObjectReference), N),
    f(2, "minReplicas", I32, O | P),
    f(3, "maxReplicas", I32, N),
    f(4, "targetCPUUtilizationPercentage", I32, O | P),
]);
pub static HorizontalPodAutoscalerStatus: Msg = msg("HorizontalPodAutoscalerStatus", Plain, &[
    f(1, "observedGeneration", I64, O | P),
    f(2, "lastScaleTime", M(&meta_v1::Time), O | P),
    f(3, "currentReplicas", I32, N),
    f(4, "desiredReplicas", I32, N),
    f(5, "currentCPUUtilizationPercentage", I32, O | P),
]);
pub static MetricSpec: Msg = msg("MetricSpec", Plain, &[
    f(1, "type", Str, N),
    f(2, "object", M(&ObjectMetricSource), O | P),
    f(3, "pods", M(&PodsMetricSource), O | P),
    f(4, "resource", M(&ResourceMetricSource), O | P),
    f(7, "containerResource", M(&ContainerResourceMetricSource), O | P),
    f(5, "external", M(&ExternalMetricSource), O | P),
]);
pub static MetricStatus: Msg = msg("MetricStatus", Plain, &[
    f(1, "type", Str, N),
    f(2, "object", M(&ObjectMetricStatus), O | P),
    f(3, "pods", M(&PodsMetricStatus), O | P),
    f(4, "resource", M(&ResourceMetricStatus), O | P),
    f(7, "containerResource", M(&ContainerResourceMetricStatus), O | P),
    f(5, "external", M(&ExternalMetricStatus), O | P),
]);
pub static ObjectMetricSource: Msg = msg("ObjectMetricSource", Plain, &[
    f(1, "target", M(&CrossVersionObjectReference), N),
    f(2, "metricName", Str, N),
    f(3, "targetValue", M(&machinery::Quantity), N),
    f(4, "selector", M(&meta_v1::LabelSelector), O | P),
    f(5, "averageValue", M(&machinery::Quantity), O | P),
]);
pub static ObjectMetricStatus: Msg = msg("ObjectMetricStatus", Plain, &[
    f(1, "target", M(&CrossVersionObjectReference), N),
    f(2, "metricName", Str, N),
    f(3, "currentValue", M(&machinery::Quantity), N),
    f(4, "selector", M(&meta_v1::LabelSelector), O | P),
    f(5, "averageValue", M(&machinery::Quantity), O | P),
]);
pub static PodsMetricSource: Msg = msg("PodsMetricSource", Plain, &[
    f(1, "metricName", Str, N),
    f(2, "targetAverageValue", M(&machinery::Quantity), N),
    f(3, "selector", M(&meta_v1::LabelSelector), O | P),
]);
pub static PodsMetricStatus: Msg = msg("PodsMetricStatus", Plain, &[
    f(1, "metricName", Str, N),
    f(2, "currentAverageValue", M(&machinery::Quantity), N),
    f(3, "selector", M(&meta_v1::LabelSelector), O | P),
]);
pub static ResourceMetricSource: Msg = msg("ResourceMetricSource", Plain, &[
    f(1, "name", Str, N),
    f(2, "targetAverageUtilization", I32, O | P),
    f(3, "targetAverageValue", M(&machinery::Quantity), O | P),
]);
pub static ResourceMetricStatus: Msg = msg("ResourceMetricStatus", Plain, &[
    f(1, "name", Str, N),
    f(2, "currentAverageUtilization", I32, O | P),
    f(3, "currentAverageValue", M(&machinery::Quantity), N),
]);
pub static Scale: Msg = msg("Scale", Plain, &[
    f(1, "metadata", M(&meta_v1::ObjectMeta), O),
    f(2, "spec", M(&ScaleSpec), O),
    f(3, "status", M(&ScaleStatus), O),
]);
pub static ScaleSpec: Msg = msg("ScaleSpec", Plain, &[
    f(1, "replicas", I32, O),
]);
pub static ScaleStatus: Msg = msg("ScaleStatus", Plain, &[
    f(1, "replicas", I32, N),
    f(2, "selector", Str, O),
]);

/// Every message of this module, sorted by name (binary-searched by kind).
pub static ALL: &[&Msg] = &[
    &ContainerResourceMetricSource,
    &ContainerResourceMetricStatus,
    &CrossVersionObjectReference,
    &ExternalMetricSource,
    &ExternalMetricStatus,
    &HorizontalPodAutoscaler,
    &HorizontalPodAutoscalerCondition,
    &HorizontalPodAutoscalerList,
    &HorizontalPodAutoscalerSpec,
    &HorizontalPodAutoscalerStatus,
    &MetricSpec,
    &MetricStatus,
    &ObjectMetricSource,
    &ObjectMetricStatus,
    &PodsMetricSource,
    &PodsMetricStatus,
    &ResourceMetricSource,
    &ResourceMetricStatus,
    &Scale,
    &ScaleSpec,
    &ScaleStatus,
];
