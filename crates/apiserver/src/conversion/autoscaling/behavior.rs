//! `spec.behavior` in the `autoscaling.alpha.kubernetes.io/behavior` annotation of an
//! autoscaling/v1 HPA. Upstream marshals its internal type there, which has no JSON
//! tags: Go's field names, and `null` for every absent pointer. Go reads JSON keys
//! case-insensitively, so camelCase keys are read too.

use k8s_openapi::api::autoscaling::v2;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(super) struct Behavior {
    #[serde(rename = "ScaleUp", alias = "scaleUp", default)]
    scale_up: Option<ScalingRules>,
    #[serde(rename = "ScaleDown", alias = "scaleDown", default)]
    scale_down: Option<ScalingRules>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct ScalingRules {
    #[serde(
        rename = "StabilizationWindowSeconds",
        alias = "stabilizationWindowSeconds",
        default
    )]
    stabilization_window_seconds: Option<i32>,
    #[serde(rename = "SelectPolicy", alias = "selectPolicy", default)]
    select_policy: Option<String>,
    #[serde(rename = "Policies", alias = "policies", default)]
    policies: Option<Vec<ScalingPolicy>>,
    #[serde(rename = "Tolerance", alias = "tolerance", default)]
    tolerance: Option<Quantity>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct ScalingPolicy {
    #[serde(rename = "Type", alias = "type", default)]
    type_: String,
    #[serde(rename = "Value", alias = "value", default)]
    value: i32,
    #[serde(rename = "PeriodSeconds", alias = "periodSeconds", default)]
    period_seconds: i32,
}

fn rules_to_annotation(r: v2::HPAScalingRules) -> ScalingRules {
    ScalingRules {
        stabilization_window_seconds: r.stabilization_window_seconds,
        select_policy: r.select_policy,
        policies: r.policies.map(|ps| {
            ps.into_iter()
                .map(|p| ScalingPolicy {
                    type_: p.type_,
                    value: p.value,
                    period_seconds: p.period_seconds,
                })
                .collect()
        }),
        tolerance: r.tolerance,
    }
}

fn rules_from_annotation(r: ScalingRules) -> v2::HPAScalingRules {
    v2::HPAScalingRules {
        stabilization_window_seconds: r.stabilization_window_seconds,
        select_policy: r.select_policy,
        policies: r.policies.map(|ps| {
            ps.into_iter()
                .map(|p| v2::HPAScalingPolicy {
                    type_: p.type_,
                    value: p.value,
                    period_seconds: p.period_seconds,
                })
                .collect()
        }),
        tolerance: r.tolerance,
    }
}

impl Behavior {
    pub(super) fn from_v2(b: v2::HorizontalPodAutoscalerBehavior) -> Behavior {
        Behavior {
            scale_up: b.scale_up.map(rules_to_annotation),
            scale_down: b.scale_down.map(rules_to_annotation),
        }
    }

    /// The behavior, unless it is empty (upstream then leaves `spec.behavior` unset).
    pub(super) fn into_v2(self) -> Option<v2::HorizontalPodAutoscalerBehavior> {
        if self.scale_up.is_none() && self.scale_down.is_none() {
            return None;
        }
        Some(v2::HorizontalPodAutoscalerBehavior {
            scale_up: self.scale_up.map(rules_from_annotation),
            scale_down: self.scale_down.map(rules_from_annotation),
        })
    }
}
