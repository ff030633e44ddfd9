//! HorizontalPodAutoscalers, autoscaling/v2 and v1 (v1 is read as the v2 form
//! upstream's internal type would hold).

use api_types::DynamicObject;
use jiff::Timestamp;
use k8s_openapi::api::autoscaling::{v1, v2};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use serde_json::Value;

use super::{age, col, field, int, name, s, typed, Col, Printer, AGE, NAME};

static COLUMNS: &[Col] = &[
    NAME,
    col(
        "Reference",
        "string",
        field::<v2::HorizontalPodAutoscalerSpec>("scaleTargetRef"),
    ),
    col(
        "Targets",
        "string",
        field::<v2::HorizontalPodAutoscalerSpec>("metrics"),
    ),
    col(
        "MinPods",
        "string",
        field::<v2::HorizontalPodAutoscalerSpec>("minReplicas"),
    ),
    col(
        "MaxPods",
        "string",
        field::<v2::HorizontalPodAutoscalerSpec>("maxReplicas"),
    ),
    col(
        "Replicas",
        "string",
        field::<v2::HorizontalPodAutoscalerStatus>("currentReplicas"),
    ),
    AGE,
];

static HPA_V2: Printer = Printer {
    columns: COLUMNS,
    cells: hpa_v2,
};
static HPA_V1: Printer = Printer {
    columns: COLUMNS,
    cells: hpa_v1,
};

pub(super) fn printer(group: &str, version: &str, kind: &str) -> Option<&'static Printer> {
    match (group, version, kind) {
        ("autoscaling", "v1", "HorizontalPodAutoscaler") => Some(&HPA_V1),
        ("autoscaling", _, "HorizontalPodAutoscaler") => Some(&HPA_V2),
        _ => None,
    }
}

/// Go's `(*resource.Quantity).String()`, which says `<nil>` for a nil quantity.
fn q(quantity: Option<&Quantity>) -> String {
    quantity.map_or_else(|| "<nil>".to_string(), |q| q.0.clone())
}

fn percent(v: Option<i32>, missing: &str) -> String {
    v.map_or_else(|| missing.to_string(), |p| format!("{p}%"))
}

/// One metric as `formatHPAMetrics` writes it; `None` when the spec lacks the source its
/// type names (upstream would dereference nil there).
fn format_metric(spec: &v2::MetricSpec, status: Option<&v2::MetricStatus>) -> Option<String> {
    const UNKNOWN: &str = "<unknown>";
    Some(match spec.type_.as_str() {
        "External" => {
            let target = &spec.external.as_ref()?.target;
            let current = status
                .and_then(|st| st.external.as_ref())
                .map(|e| &e.current);
            value_target(target, current)
        }
        "Object" => {
            let target = &spec.object.as_ref()?.target;
            let current = status.and_then(|st| st.object.as_ref()).map(|o| &o.current);
            value_target(target, current)
        }
        "Pods" => {
            let target = &spec.pods.as_ref()?.target;
            let current = status.and_then(|st| st.pods.as_ref()).map_or_else(
                || UNKNOWN.to_string(),
                |p| q(p.current.average_value.as_ref()),
            );
            format!("{current}/{}", q(target.average_value.as_ref()))
        }
        "Resource" => {
            let source = spec.resource.as_ref()?;
            let current = status
                .and_then(|st| st.resource.as_ref())
                .map(|r| &r.current);
            resource_target(&source.name, &source.target, current)
        }
        "ContainerResource" => {
            let source = spec.container_resource.as_ref()?;
            let current = status
                .and_then(|st| st.container_resource.as_ref())
                .map(|r| &r.current);
            resource_target(&source.name, &source.target, current)
        }
        _ => "<unknown type>".to_string(),
    })
}

/// External and Object metrics: an average value target gets "(avg)".
fn value_target(target: &v2::MetricTarget, current: Option<&v2::MetricValueStatus>) -> String {
    if let Some(avg) = &target.average_value {
        let current = current
            .and_then(|c| c.average_value.as_ref())
            .map_or_else(|| "<unknown>".to_string(), |v| v.0.clone());
        format!("{current}/{} (avg)", avg.0)
    } else {
        let current = current.map_or_else(|| "<unknown>".to_string(), |c| q(c.value.as_ref()));
        format!("{current}/{}", q(target.value.as_ref()))
    }
}

/// Resource and ContainerResource metrics: `cpu: 40%/80%` or `memory: 1Gi/2Gi`.
fn resource_target(
    resource: &str,
    target: &v2::MetricTarget,
    current: Option<&v2::MetricValueStatus>,
) -> String {
    if let Some(avg) = &target.average_value {
        let current =
            current.map_or_else(|| "<unknown>".to_string(), |c| q(c.average_value.as_ref()));
        format!("{resource}: {current}/{}", avg.0)
    } else {
        let current = percent(current.and_then(|c| c.average_utilization), "<unknown>");
        format!(
            "{resource}: {current}/{}",
            percent(target.average_utilization, "<auto>")
        )
    }
}

/// `formatHPAMetrics`: the first two metrics, then "+ N more...".
fn format_metrics(specs: &[v2::MetricSpec], statuses: &[v2::MetricStatus]) -> String {
    const MAX: usize = 2;
    if specs.is_empty() {
        return "<none>".to_string();
    }
    let list: Vec<String> = specs
        .iter()
        .enumerate()
        .map(|(i, spec)| {
            format_metric(spec, statuses.get(i)).unwrap_or_else(|| "<unknown type>".to_string())
        })
        .collect();
    if list.len() > MAX {
        format!("{} + {} more...", list[..MAX].join(", "), list.len() - MAX)
    } else {
        list.join(", ")
    }
}

fn cells(hpa: &v2::HorizontalPodAutoscaler, now: Timestamp) -> Vec<Value> {
    let spec = hpa.spec.clone().unwrap_or_default();
    let status = hpa.status.clone().unwrap_or_default();
    let reference = format!(
        "{}/{}",
        spec.scale_target_ref.kind, spec.scale_target_ref.name
    );
    let metrics = format_metrics(
        spec.metrics.as_deref().unwrap_or(&[]),
        status.current_metrics.as_deref().unwrap_or(&[]),
    );
    let min_pods = spec
        .min_replicas
        .map_or_else(|| "<unset>".to_string(), |m| m.to_string());
    vec![
        name(&hpa.metadata),
        s(reference),
        s(metrics),
        s(min_pods),
        int(spec.max_replicas),
        int(status.current_replicas.unwrap_or(0)),
        age(&hpa.metadata, now),
    ]
}

fn hpa_v2(obj: &DynamicObject, now: Timestamp) -> Option<Vec<Value>> {
    let hpa: v2::HorizontalPodAutoscaler = typed(obj)?;
    Some(cells(&hpa, now))
}

/// autoscaling/v1, printed (as upstream) from its stored autoscaling/v2 form: the CPU
/// target, the annotated metrics and conditions, or the default CPU target.
fn hpa_v1(obj: &DynamicObject, now: Timestamp) -> Option<Vec<Value>> {
    let old: v1::HorizontalPodAutoscaler = typed(obj)?;
    let hpa = crate::conversion::autoscaling::v1_to_v2(old);
    Some(cells(&hpa, now))
}
