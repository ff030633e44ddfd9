use super::*;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use serde_json::json;

fn v2_hpa(value: serde_json::Value) -> v2::HorizontalPodAutoscaler {
    serde_json::from_value(value).unwrap()
}

fn v1_hpa(value: serde_json::Value) -> v1::HorizontalPodAutoscaler {
    serde_json::from_value(value).unwrap()
}

fn full_v2() -> v2::HorizontalPodAutoscaler {
    v2_hpa(json!({
        "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "web", "namespace": "ns", "annotations": {"team": "a"}},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
            "minReplicas": 2, "maxReplicas": 10,
            "metrics": [
                {"type": "Resource", "resource": {"name": "cpu",
                    "target": {"type": "Utilization", "averageUtilization": 60}}},
                {"type": "Resource", "resource": {"name": "memory",
                    "target": {"type": "AverageValue", "averageValue": "1Gi"}}},
                {"type": "Pods", "pods": {"metric": {"name": "qps"},
                    "target": {"type": "AverageValue", "averageValue": "100"}}},
                {"type": "Object", "object": {
                    "describedObject": {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "name": "main"},
                    "metric": {"name": "hits", "selector": {"matchLabels": {"a": "b"}}},
                    "target": {"type": "Value", "value": "2k"}}},
                {"type": "External", "external": {"metric": {"name": "queue"},
                    "target": {"type": "AverageValue", "averageValue": "30"}}},
                {"type": "ContainerResource", "containerResource": {"name": "cpu",
                    "container": "app", "target": {"type": "Utilization", "averageUtilization": 70}}}
            ]
        },
        "status": {
            "observedGeneration": 3, "currentReplicas": 4, "desiredReplicas": 5,
            "lastScaleTime": "2026-01-01T00:00:00Z",
            "currentMetrics": [
                {"type": "Resource", "resource": {"name": "cpu",
                    "current": {"averageUtilization": 55, "averageValue": "250m"}}},
                {"type": "Pods", "pods": {"metric": {"name": "qps"},
                    "current": {"averageValue": "90"}}},
                {"type": "External", "external": {"metric": {"name": "queue"},
                    "current": {"value": "300", "averageValue": "25"}}}
            ],
            "conditions": [
                {"type": "AbleToScale", "status": "True", "reason": "ReadyForNewScale",
                    "message": "recommended size matches current size",
                    "lastTransitionTime": "2026-01-01T00:00:00Z"}
            ]
        }
    }))
}

#[test]
fn v2_to_v1_keeps_the_cpu_target_and_annotates_the_rest() {
    let v1 = serde_json::to_value(v2_to_v1(full_v2()).unwrap()).unwrap();
    assert_eq!(v1["apiVersion"], "autoscaling/v1");
    assert_eq!(
        v1["spec"],
        json!({
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
            "minReplicas": 2, "maxReplicas": 10, "targetCPUUtilizationPercentage": 60
        })
    );
    assert_eq!(v1["status"]["currentCPUUtilizationPercentage"], 55);
    assert_eq!(v1["status"]["currentReplicas"], 4);
    assert_eq!(v1["status"]["desiredReplicas"], 5);
    assert_eq!(v1["status"]["observedGeneration"], 3);
    let annotations = &v1["metadata"]["annotations"];
    assert_eq!(annotations["team"], "a");
    // The exact JSON upstream writes: v1 metric types, fields in Go's order.
    assert_eq!(
        annotations[METRIC_SPECS_ANNOTATION],
        concat!(
            r#"[{"type":"Resource","resource":{"name":"memory","targetAverageValue":"1Gi"}},"#,
            r#"{"type":"Pods","pods":{"metricName":"qps","targetAverageValue":"100"}},"#,
            r#"{"type":"Object","object":{"target":{"kind":"Ingress","name":"main","apiVersion":"networking.k8s.io/v1"},"metricName":"hits","targetValue":"2k","selector":{"matchLabels":{"a":"b"}}}},"#,
            r#"{"type":"External","external":{"metricName":"queue","targetAverageValue":"30"}},"#,
            r#"{"type":"ContainerResource","containerResource":{"name":"cpu","targetAverageUtilization":70,"container":"app"}}]"#
        )
    );
    assert_eq!(
        annotations[METRIC_STATUSES_ANNOTATION],
        concat!(
            r#"[{"type":"Resource","resource":{"name":"cpu","currentAverageUtilization":55,"currentAverageValue":"250m"}},"#,
            r#"{"type":"Pods","pods":{"metricName":"qps","currentAverageValue":"90"}},"#,
            r#"{"type":"External","external":{"metricName":"queue","currentValue":"300","currentAverageValue":"25"}}]"#
        )
    );
    assert_eq!(
        annotations[CONDITIONS_ANNOTATION],
        r#"[{"type":"AbleToScale","status":"True","lastTransitionTime":"2026-01-01T00:00:00Z","reason":"ReadyForNewScale","message":"recommended size matches current size"}]"#
    );
}

#[test]
fn v2_round_trips_through_v1() {
    let original = full_v2();
    let back = v1_to_v2(v2_to_v1(original.clone()).unwrap());
    let mut expected = original;
    // Upstream moves the CPU utilization target after the annotated metrics.
    let metrics = expected.spec.as_mut().unwrap().metrics.as_mut().unwrap();
    let cpu = metrics.remove(0);
    metrics.push(cpu);
    assert_eq!(back, expected);
}

#[test]
fn v1_to_v2_as_upstream() {
    let v1 = v1_hpa(json!({
        "metadata": {"name": "web", "namespace": "ns"},
        "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"},
            "maxReplicas": 3, "targetCPUUtilizationPercentage": 50},
        "status": {"currentReplicas": 1, "desiredReplicas": 2,
            "currentCPUUtilizationPercentage": 20}
    }));
    let v2 = serde_json::to_value(v1_to_v2(v1)).unwrap();
    assert_eq!(v2["apiVersion"], "autoscaling/v2");
    assert_eq!(
        v2["spec"]["metrics"],
        json!([{"type": "Resource", "resource": {"name": "cpu",
            "target": {"type": "Utilization", "averageUtilization": 50}}}])
    );
    assert_eq!(
        v2["status"]["currentMetrics"],
        json!([{"type": "Resource", "resource": {"name": "cpu",
            "current": {"averageUtilization": 20}}}])
    );
    assert_eq!(v2["status"]["currentReplicas"], 1);
    assert!(v2["metadata"].get("annotations").is_none(), "{v2}");
}

#[test]
fn v1_without_a_target_gets_the_default_cpu_metric() {
    let v1 = v1_hpa(json!({
        "metadata": {"name": "web"},
        "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"}, "maxReplicas": 3}
    }));
    let v2 = v1_to_v2(v1);
    let metrics = v2.spec.unwrap().metrics.unwrap();
    assert_eq!(metrics.len(), 1);
    let resource = metrics[0].resource.as_ref().unwrap();
    assert_eq!(resource.name, "cpu");
    assert_eq!(resource.target.type_, "Utilization");
    assert_eq!(resource.target.average_utilization, Some(80));
    assert!(v2.status.is_none());
}

#[test]
fn v1_metric_types_convert_with_upstreams_target_types() {
    let v1 = v1_hpa(json!({
        "metadata": {"name": "web", "annotations": {
            METRIC_SPECS_ANNOTATION: r#"[
                {"type":"Object","object":{"target":{"kind":"Service","name":"s"},"metricName":"m","targetValue":"5","averageValue":"1"}},
                {"type":"External","external":{"metricName":"e","targetValue":"7"}},
                {"type":"Resource","resource":{"name":"memory","targetAverageUtilization":40}}
            ]"#,
            "keep": "me"
        }},
        "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"}, "maxReplicas": 3}
    }));
    let v2 = v1_to_v2(v1);
    assert_eq!(
        v2.metadata.annotations,
        Some(BTreeMap::from([("keep".to_string(), "me".to_string())]))
    );
    let metrics = v2.spec.unwrap().metrics.unwrap();
    assert_eq!(metrics.len(), 3, "no default CPU metric next to others");
    let object = metrics[0].object.as_ref().unwrap();
    assert_eq!(object.target.type_, "AverageValue");
    assert_eq!(object.target.value, Some(Quantity("5".into())));
    assert_eq!(object.described_object.kind, "Service");
    let external = metrics[1].external.as_ref().unwrap();
    assert_eq!(external.target.type_, "Value");
    assert_eq!(external.target.value, Some(Quantity("7".into())));
    let resource = metrics[2].resource.as_ref().unwrap();
    assert_eq!(resource.target.type_, "Utilization");
}

#[test]
fn annotations_that_do_not_parse_are_ignored_and_dropped() {
    let v1 = v1_hpa(json!({
        "metadata": {"name": "web", "annotations": {
            METRIC_SPECS_ANNOTATION: "not json",
            CONDITIONS_ANNOTATION: "[1]",
            BEHAVIOR_ANNOTATION: "{}"
        }},
        "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"}, "maxReplicas": 3,
            "targetCPUUtilizationPercentage": 70}
    }));
    let v2 = v1_to_v2(v1);
    assert_eq!(v2.metadata.annotations, None);
    let spec = v2.spec.unwrap();
    assert_eq!(spec.behavior, None, "an empty behavior stays unset");
    let metrics = spec.metrics.unwrap();
    assert_eq!(metrics.len(), 1);
    assert_eq!(cpu_spec_utilization(&metrics[0]), Some(70));
    assert!(v2.status.is_none());
}

#[test]
fn behavior_travels_in_go_field_names() {
    let mut hpa = full_v2();
    let behavior: v2::HorizontalPodAutoscalerBehavior = serde_json::from_value(json!({
        "scaleDown": {"stabilizationWindowSeconds": 300,
            "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15}]},
        "scaleUp": {"selectPolicy": "Max",
            "policies": [{"type": "Pods", "value": 4, "periodSeconds": 15}]}
    }))
    .unwrap();
    hpa.spec.as_mut().unwrap().behavior = Some(behavior.clone());
    let v1 = v2_to_v1(hpa).unwrap();
    let annotations = v1.metadata.annotations.clone().unwrap();
    assert_eq!(
        annotations[BEHAVIOR_ANNOTATION],
        concat!(
            r#"{"ScaleUp":{"StabilizationWindowSeconds":null,"SelectPolicy":"Max","Policies":[{"Type":"Pods","Value":4,"PeriodSeconds":15}],"Tolerance":null},"#,
            r#""ScaleDown":{"StabilizationWindowSeconds":300,"SelectPolicy":null,"Policies":[{"Type":"Percent","Value":100,"PeriodSeconds":15}],"Tolerance":null}}"#
        )
    );
    let back = v1_to_v2(v1);
    assert_eq!(back.spec.unwrap().behavior, Some(behavior));
}

#[test]
fn stale_round_trip_annotations_in_storage_are_not_served() {
    let mut hpa = full_v2();
    hpa.metadata
        .annotations
        .get_or_insert_default()
        .insert(BEHAVIOR_ANNOTATION.into(), "{\"ScaleUp\":{}}".into());
    let v1 = v2_to_v1(hpa).unwrap();
    let annotations = v1.metadata.annotations.unwrap();
    assert!(
        !annotations.contains_key(BEHAVIOR_ANNOTATION),
        "{annotations:?}"
    );
    assert_eq!(annotations["team"], "a");
}

#[test]
fn the_cpu_target_is_the_first_cpu_utilization_metric() {
    let hpa = v2_hpa(json!({
        "metadata": {"name": "web"},
        "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"}, "maxReplicas": 3,
            "metrics": [
                {"type": "Resource", "resource": {"name": "cpu",
                    "target": {"type": "AverageValue", "averageValue": "500m"}}},
                {"type": "Resource", "resource": {"name": "cpu",
                    "target": {"type": "Utilization", "averageUtilization": 65}}}
            ]},
        "status": {"desiredReplicas": 1, "currentMetrics": [
            {"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 10}}},
            {"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 20}}}
        ]}
    }));
    let v1 = v2_to_v1(hpa).unwrap();
    assert_eq!(v1.spec.unwrap().target_cpu_utilization_percentage, Some(65));
    assert_eq!(
        v1.status.unwrap().current_cpu_utilization_percentage,
        Some(20)
    );
    let annotations = v1.metadata.annotations.unwrap();
    assert!(
        annotations[METRIC_SPECS_ANNOTATION].contains("500m"),
        "{annotations:?}"
    );
}
