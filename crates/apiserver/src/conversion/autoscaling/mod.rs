//! autoscaling/v1 HorizontalPodAutoscaler <-> autoscaling/v2 (the stored version,
//! which holds what upstream's internal type holds), as upstream's
//! pkg/apis/autoscaling/v1/conversion.go: v1's single CPU target is the first CPU
//! utilization metric; every other metric, the behavior, the current metrics and the
//! conditions travel in the `autoscaling.alpha.kubernetes.io/*` annotations.

mod behavior;
mod metrics;

use std::collections::BTreeMap;

use k8s_openapi::api::autoscaling::{v1, v2};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use behavior::Behavior;
use metrics::{MetricSpec, MetricStatus};

/// `autoscaling.MetricSpecsAnnotation`.
pub const METRIC_SPECS_ANNOTATION: &str = "autoscaling.alpha.kubernetes.io/metrics";
/// `autoscaling.MetricStatusesAnnotation`.
pub const METRIC_STATUSES_ANNOTATION: &str = "autoscaling.alpha.kubernetes.io/current-metrics";
/// `autoscaling.HorizontalPodAutoscalerConditionsAnnotation`.
pub const CONDITIONS_ANNOTATION: &str = "autoscaling.alpha.kubernetes.io/conditions";
/// `autoscaling.BehaviorSpecsAnnotation`.
pub const BEHAVIOR_ANNOTATION: &str = "autoscaling.alpha.kubernetes.io/behavior";

/// The annotations that carry what autoscaling/v1 has no fields for
/// (`DropRoundTripHorizontalPodAutoscalerAnnotations`).
const ROUND_TRIP_ANNOTATIONS: [&str; 4] = [
    METRIC_SPECS_ANNOTATION,
    BEHAVIOR_ANNOTATION,
    METRIC_STATUSES_ANNOTATION,
    CONDITIONS_ANNOTATION,
];
/// `autoscaling.DefaultCPUUtilization`.
const DEFAULT_CPU_UTILIZATION: i32 = 80;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Condition {
    #[serde(rename = "type")]
    type_: String,
    status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last_transition_time: Option<Time>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    message: Option<String>,
}

/// A CPU Resource metric's utilization target or current value.
fn cpu_spec_utilization(m: &v2::MetricSpec) -> Option<i32> {
    match (&m.type_[..], &m.resource) {
        ("Resource", Some(r)) if r.name == "cpu" => r.target.average_utilization,
        _ => None,
    }
}

fn cpu_status_utilization(m: &v2::MetricStatus) -> Option<i32> {
    match (&m.type_[..], &m.resource) {
        ("Resource", Some(r)) if r.name == "cpu" => r.current.average_utilization,
        _ => None,
    }
}

fn cpu_utilization_metric(pct: i32) -> v2::MetricSpec {
    v2::MetricSpec {
        type_: "Resource".into(),
        resource: Some(v2::ResourceMetricSource {
            name: "cpu".into(),
            target: v2::MetricTarget {
                type_: "Utilization".into(),
                average_utilization: Some(pct),
                ..Default::default()
            },
        }),
        ..Default::default()
    }
}

/// A stored (autoscaling/v2) HPA as autoscaling/v1.
pub fn v2_to_v1(
    hpa: v2::HorizontalPodAutoscaler,
) -> Result<v1::HorizontalPodAutoscaler, serde_json::Error> {
    let mut metadata = hpa.metadata;
    let spec = hpa.spec.unwrap_or_default();
    let status = hpa.status;
    let metrics = spec.metrics.unwrap_or_default();
    let other_metrics: Vec<MetricSpec> = metrics
        .iter()
        .filter(|m| cpu_spec_utilization(m).is_none())
        .map(metrics::metric_spec_to_v1)
        .collect();
    let current_metrics = status
        .as_ref()
        .and_then(|s| s.current_metrics.clone())
        .unwrap_or_default();
    let conditions = status
        .as_ref()
        .and_then(|s| s.conditions.clone())
        .unwrap_or_default();

    // Only the annotations this conversion writes (none a client stored).
    let mut annotations = metadata.annotations.take().unwrap_or_default();
    for a in ROUND_TRIP_ANNOTATIONS {
        annotations.remove(a);
    }
    if !other_metrics.is_empty() {
        annotations.insert(
            METRIC_SPECS_ANNOTATION.into(),
            serde_json::to_string(&other_metrics)?,
        );
    }
    if !current_metrics.is_empty() {
        let v1: Vec<MetricStatus> = current_metrics
            .iter()
            .map(metrics::metric_status_to_v1)
            .collect();
        annotations.insert(
            METRIC_STATUSES_ANNOTATION.into(),
            serde_json::to_string(&v1)?,
        );
    }
    if let Some(b) = spec.behavior {
        annotations.insert(
            BEHAVIOR_ANNOTATION.into(),
            serde_json::to_string(&Behavior::from_v2(b))?,
        );
    }
    if !conditions.is_empty() {
        let v1: Vec<Condition> = conditions
            .into_iter()
            .map(|c| Condition {
                type_: c.type_,
                status: c.status,
                last_transition_time: c.last_transition_time,
                reason: c.reason,
                message: c.message,
            })
            .collect();
        annotations.insert(CONDITIONS_ANNOTATION.into(), serde_json::to_string(&v1)?);
    }
    metadata.annotations = (!annotations.is_empty()).then_some(annotations);

    Ok(v1::HorizontalPodAutoscaler {
        metadata,
        spec: Some(v1::HorizontalPodAutoscalerSpec {
            max_replicas: spec.max_replicas,
            min_replicas: spec.min_replicas,
            scale_target_ref: v1::CrossVersionObjectReference {
                api_version: spec.scale_target_ref.api_version,
                kind: spec.scale_target_ref.kind,
                name: spec.scale_target_ref.name,
            },
            // The first CPU utilization target.
            target_cpu_utilization_percentage: metrics.iter().find_map(cpu_spec_utilization),
        }),
        status: status.map(|s| v1::HorizontalPodAutoscalerStatus {
            // The last CPU utilization wins, as upstream's loop has it.
            current_cpu_utilization_percentage: current_metrics
                .iter()
                .rev()
                .find_map(cpu_status_utilization),
            current_replicas: s.current_replicas.unwrap_or(0),
            desired_replicas: s.desired_replicas,
            last_scale_time: s.last_scale_time,
            observed_generation: s.observed_generation,
        }),
    })
}

/// An annotation's JSON, when it parses (upstream ignores ones that do not).
fn annotated<T: DeserializeOwned>(annotations: &BTreeMap<String, String>, key: &str) -> Option<T> {
    serde_json::from_str(annotations.get(key)?).ok()
}

/// An autoscaling/v1 HPA as stored (autoscaling/v2).
pub fn v1_to_v2(hpa: v1::HorizontalPodAutoscaler) -> v2::HorizontalPodAutoscaler {
    let mut metadata = hpa.metadata;
    let spec = hpa.spec.unwrap_or_default();
    let mut annotations = metadata.annotations.take().unwrap_or_default();

    let mut metrics: Vec<v2::MetricSpec> = Vec::new();
    if let Some(other) = annotated::<Vec<MetricSpec>>(&annotations, METRIC_SPECS_ANNOTATION) {
        metrics.extend(other.into_iter().map(metrics::metric_spec_to_v2));
    }
    metrics.extend(
        spec.target_cpu_utilization_percentage
            .map(cpu_utilization_metric),
    );
    if metrics.is_empty() {
        // autoscaling/v1's implicit default, made explicit.
        metrics.push(cpu_utilization_metric(DEFAULT_CPU_UTILIZATION));
    }
    let behavior =
        annotated::<Behavior>(&annotations, BEHAVIOR_ANNOTATION).and_then(Behavior::into_v2);

    let mut status = hpa.status.map(|s| v2::HorizontalPodAutoscalerStatus {
        current_metrics: s.current_cpu_utilization_percentage.map(|pct| {
            vec![v2::MetricStatus {
                type_: "Resource".into(),
                resource: Some(v2::ResourceMetricStatus {
                    name: "cpu".into(),
                    current: v2::MetricValueStatus {
                        average_utilization: Some(pct),
                        ..Default::default()
                    },
                }),
                ..Default::default()
            }]
        }),
        current_replicas: Some(s.current_replicas),
        desired_replicas: s.desired_replicas,
        last_scale_time: s.last_scale_time,
        observed_generation: s.observed_generation,
        conditions: None,
    });
    if let Some(current) = annotated::<Vec<MetricStatus>>(&annotations, METRIC_STATUSES_ANNOTATION)
    {
        // These carry more than currentCPUUtilizationPercentage: they win.
        status.get_or_insert_with(Default::default).current_metrics = Some(
            current
                .into_iter()
                .map(metrics::metric_status_to_v2)
                .collect(),
        );
    }
    if let Some(conditions) = annotated::<Vec<Condition>>(&annotations, CONDITIONS_ANNOTATION) {
        status.get_or_insert_with(Default::default).conditions = Some(
            conditions
                .into_iter()
                .map(|c| v2::HorizontalPodAutoscalerCondition {
                    last_transition_time: c.last_transition_time,
                    message: c.message,
                    reason: c.reason,
                    status: c.status,
                    type_: c.type_,
                })
                .collect(),
        );
    }
    for a in ROUND_TRIP_ANNOTATIONS {
        annotations.remove(a);
    }
    metadata.annotations = (!annotations.is_empty()).then_some(annotations);

    v2::HorizontalPodAutoscaler {
        metadata,
        spec: Some(v2::HorizontalPodAutoscalerSpec {
            behavior,
            max_replicas: spec.max_replicas,
            min_replicas: spec.min_replicas,
            scale_target_ref: v2::CrossVersionObjectReference {
                api_version: spec.scale_target_ref.api_version,
                kind: spec.scale_target_ref.kind,
                name: spec.scale_target_ref.name,
            },
            metrics: Some(metrics),
        }),
        status,
    }
}

#[cfg(test)]
mod tests;
