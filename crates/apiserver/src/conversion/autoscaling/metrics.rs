//! The autoscaling/v1 metric types (k8s.io/api/autoscaling/v1, shaped as v2beta1)
//! that travel in the `autoscaling.alpha.kubernetes.io/metrics` and `current-metrics`
//! annotations, and their conversions to and from autoscaling/v2 as upstream's
//! `Convert_*_MetricSource` / `Convert_*_MetricStatus` functions do them.

use k8s_openapi::api::autoscaling::v2;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use serde::{Deserialize, Serialize};

/// Go's zero `resource.Quantity`, as it marshals.
fn zero() -> Quantity {
    Quantity("0".into())
}

// Fields in Go's declaration order, so the JSON matches upstream's.

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CrossVersionObjectReference {
    kind: String,
    name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    api_version: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct MetricSpec {
    #[serde(rename = "type")]
    type_: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    object: Option<ObjectMetricSource>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pods: Option<PodsMetricSource>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    resource: Option<ResourceMetricSource>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    container_resource: Option<ContainerResourceMetricSource>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    external: Option<ExternalMetricSource>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ObjectMetricSource {
    target: CrossVersionObjectReference,
    metric_name: String,
    target_value: Quantity,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    selector: Option<LabelSelector>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    average_value: Option<Quantity>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PodsMetricSource {
    metric_name: String,
    target_average_value: Quantity,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    selector: Option<LabelSelector>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ResourceMetricSource {
    name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    target_average_utilization: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    target_average_value: Option<Quantity>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ContainerResourceMetricSource {
    name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    target_average_utilization: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    target_average_value: Option<Quantity>,
    container: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExternalMetricSource {
    metric_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    metric_selector: Option<LabelSelector>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    target_value: Option<Quantity>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    target_average_value: Option<Quantity>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct MetricStatus {
    #[serde(rename = "type")]
    type_: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    object: Option<ObjectMetricStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pods: Option<PodsMetricStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    resource: Option<ResourceMetricStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    container_resource: Option<ContainerResourceMetricStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    external: Option<ExternalMetricStatus>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ObjectMetricStatus {
    target: CrossVersionObjectReference,
    metric_name: String,
    current_value: Quantity,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    selector: Option<LabelSelector>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    average_value: Option<Quantity>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PodsMetricStatus {
    metric_name: String,
    current_average_value: Quantity,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    selector: Option<LabelSelector>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ResourceMetricStatus {
    name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    current_average_utilization: Option<i32>,
    current_average_value: Quantity,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ContainerResourceMetricStatus {
    name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    current_average_utilization: Option<i32>,
    current_average_value: Quantity,
    container: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExternalMetricStatus {
    metric_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    metric_selector: Option<LabelSelector>,
    current_value: Quantity,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    current_average_value: Option<Quantity>,
}

fn ref_to_v1(r: &v2::CrossVersionObjectReference) -> CrossVersionObjectReference {
    CrossVersionObjectReference {
        kind: r.kind.clone(),
        name: r.name.clone(),
        api_version: r.api_version.clone(),
    }
}

fn ref_to_v2(r: CrossVersionObjectReference) -> v2::CrossVersionObjectReference {
    v2::CrossVersionObjectReference {
        api_version: r.api_version,
        kind: r.kind,
        name: r.name,
    }
}

fn target(type_: &str) -> v2::MetricTarget {
    v2::MetricTarget {
        type_: type_.to_string(),
        ..Default::default()
    }
}

pub(super) fn metric_spec_to_v1(m: &v2::MetricSpec) -> MetricSpec {
    MetricSpec {
        type_: m.type_.clone(),
        object: m.object.as_ref().map(|o| ObjectMetricSource {
            target: ref_to_v1(&o.described_object),
            metric_name: o.metric.name.clone(),
            target_value: o.target.value.clone().unwrap_or_else(zero),
            selector: o.metric.selector.clone(),
            average_value: o.target.average_value.clone(),
        }),
        pods: m.pods.as_ref().map(|p| PodsMetricSource {
            metric_name: p.metric.name.clone(),
            target_average_value: p.target.average_value.clone().unwrap_or_else(zero),
            selector: p.metric.selector.clone(),
        }),
        resource: m.resource.as_ref().map(|r| ResourceMetricSource {
            name: r.name.clone(),
            target_average_utilization: r.target.average_utilization,
            target_average_value: r.target.average_value.clone(),
        }),
        container_resource: m
            .container_resource
            .as_ref()
            .map(|r| ContainerResourceMetricSource {
                name: r.name.clone(),
                target_average_utilization: r.target.average_utilization,
                target_average_value: r.target.average_value.clone(),
                container: r.container.clone(),
            }),
        external: m.external.as_ref().map(|e| ExternalMetricSource {
            metric_name: e.metric.name.clone(),
            metric_selector: e.metric.selector.clone(),
            target_value: e.target.value.clone(),
            target_average_value: e.target.average_value.clone(),
        }),
    }
}

pub(super) fn metric_spec_to_v2(m: MetricSpec) -> v2::MetricSpec {
    v2::MetricSpec {
        type_: m.type_,
        object: m.object.map(|o| v2::ObjectMetricSource {
            target: v2::MetricTarget {
                value: Some(o.target_value),
                average_value: o.average_value.clone(),
                ..target(if o.average_value.is_none() {
                    "Value"
                } else {
                    "AverageValue"
                })
            },
            described_object: ref_to_v2(o.target),
            metric: v2::MetricIdentifier {
                name: o.metric_name,
                selector: o.selector,
            },
        }),
        pods: m.pods.map(|p| v2::PodsMetricSource {
            target: v2::MetricTarget {
                average_value: Some(p.target_average_value),
                ..target("AverageValue")
            },
            metric: v2::MetricIdentifier {
                name: p.metric_name,
                selector: p.selector,
            },
        }),
        resource: m.resource.map(|r| v2::ResourceMetricSource {
            name: r.name,
            target: resource_target(r.target_average_utilization, r.target_average_value),
        }),
        container_resource: m
            .container_resource
            .map(|r| v2::ContainerResourceMetricSource {
                container: r.container,
                name: r.name,
                target: resource_target(r.target_average_utilization, r.target_average_value),
            }),
        external: m.external.map(|e| v2::ExternalMetricSource {
            target: v2::MetricTarget {
                value: e.target_value.clone(),
                average_value: e.target_average_value,
                ..target(if e.target_value.is_none() {
                    "AverageValue"
                } else {
                    "Value"
                })
            },
            metric: v2::MetricIdentifier {
                name: e.metric_name,
                selector: e.metric_selector,
            },
        }),
    }
}

/// `Convert_v1_ResourceMetricSource_To_autoscaling_ResourceMetricSource`'s target.
fn resource_target(utilization: Option<i32>, average: Option<Quantity>) -> v2::MetricTarget {
    v2::MetricTarget {
        average_utilization: utilization,
        average_value: average,
        ..target(if utilization.is_none() {
            "AverageValue"
        } else {
            "Utilization"
        })
    }
}

pub(super) fn metric_status_to_v1(m: &v2::MetricStatus) -> MetricStatus {
    MetricStatus {
        type_: m.type_.clone(),
        object: m.object.as_ref().map(|o| ObjectMetricStatus {
            target: ref_to_v1(&o.described_object),
            metric_name: o.metric.name.clone(),
            current_value: o.current.value.clone().unwrap_or_else(zero),
            selector: o.metric.selector.clone(),
            average_value: o.current.average_value.clone(),
        }),
        pods: m.pods.as_ref().map(|p| PodsMetricStatus {
            metric_name: p.metric.name.clone(),
            current_average_value: p.current.average_value.clone().unwrap_or_else(zero),
            selector: p.metric.selector.clone(),
        }),
        resource: m.resource.as_ref().map(|r| ResourceMetricStatus {
            name: r.name.clone(),
            current_average_utilization: r.current.average_utilization,
            current_average_value: r.current.average_value.clone().unwrap_or_else(zero),
        }),
        container_resource: m
            .container_resource
            .as_ref()
            .map(|r| ContainerResourceMetricStatus {
                name: r.name.clone(),
                current_average_utilization: r.current.average_utilization,
                current_average_value: r.current.average_value.clone().unwrap_or_else(zero),
                container: r.container.clone(),
            }),
        external: m.external.as_ref().map(|e| ExternalMetricStatus {
            metric_name: e.metric.name.clone(),
            metric_selector: e.metric.selector.clone(),
            current_value: e.current.value.clone().unwrap_or_else(zero),
            current_average_value: e.current.average_value.clone(),
        }),
    }
}

pub(super) fn metric_status_to_v2(m: MetricStatus) -> v2::MetricStatus {
    v2::MetricStatus {
        type_: m.type_,
        object: m.object.map(|o| v2::ObjectMetricStatus {
            current: v2::MetricValueStatus {
                value: Some(o.current_value),
                average_value: o.average_value,
                average_utilization: None,
            },
            described_object: ref_to_v2(o.target),
            metric: v2::MetricIdentifier {
                name: o.metric_name,
                selector: o.selector,
            },
        }),
        pods: m.pods.map(|p| v2::PodsMetricStatus {
            current: v2::MetricValueStatus {
                average_value: Some(p.current_average_value),
                ..Default::default()
            },
            metric: v2::MetricIdentifier {
                name: p.metric_name,
                selector: p.selector,
            },
        }),
        resource: m.resource.map(|r| v2::ResourceMetricStatus {
            current: v2::MetricValueStatus {
                average_value: Some(r.current_average_value),
                average_utilization: r.current_average_utilization,
                value: None,
            },
            name: r.name,
        }),
        container_resource: m
            .container_resource
            .map(|r| v2::ContainerResourceMetricStatus {
                container: r.container,
                current: v2::MetricValueStatus {
                    average_value: Some(r.current_average_value),
                    average_utilization: r.current_average_utilization,
                    value: None,
                },
                name: r.name,
            }),
        external: m.external.map(|e| v2::ExternalMetricStatus {
            current: v2::MetricValueStatus {
                value: Some(e.current_value),
                average_value: e.current_average_value,
                average_utilization: None,
            },
            metric: v2::MetricIdentifier {
                name: e.metric_name,
                selector: e.metric_selector,
            },
        }),
    }
}
