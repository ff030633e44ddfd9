//! core/v1 Event <-> events.k8s.io/v1 Event, field for field as upstream's
//! `Convert_core_Event_To_v1_Event` / `Convert_v1_Event_To_core_Event`
//! (pkg/apis/events/v1/conversion.go). Both versions are stored as core/v1.

use k8s_openapi::api::core::v1 as core;
use k8s_openapi::api::events::v1 as events;

/// An events.k8s.io/v1 Event as core/v1 (what is stored, and what the table printer
/// reads).
pub fn v1_to_core(e: events::Event) -> core::Event {
    core::Event {
        metadata: e.metadata,
        action: e.action,
        count: e.deprecated_count,
        event_time: e.event_time,
        first_timestamp: e.deprecated_first_timestamp,
        last_timestamp: e.deprecated_last_timestamp,
        involved_object: e.regarding.unwrap_or_default(),
        message: e.note,
        reason: e.reason,
        related: e.related,
        reporting_component: e.reporting_controller,
        reporting_instance: e.reporting_instance,
        series: e.series.map(|s| core::EventSeries {
            count: Some(s.count),
            last_observed_time: Some(s.last_observed_time),
        }),
        source: e.deprecated_source,
        type_: e.type_,
    }
}

/// A stored (core/v1) Event as events.k8s.io/v1.
pub fn core_to_v1(e: core::Event) -> events::Event {
    events::Event {
        metadata: e.metadata,
        action: e.action,
        deprecated_count: e.count,
        event_time: e.event_time,
        deprecated_first_timestamp: e.first_timestamp,
        deprecated_last_timestamp: e.last_timestamp,
        // Upstream's Regarding is a struct, never absent.
        regarding: Some(e.involved_object),
        note: e.message,
        reason: e.reason,
        related: e.related,
        reporting_controller: e.reporting_component,
        reporting_instance: e.reporting_instance,
        // Upstream's series fields are values: absent ones convert as zero.
        series: e.series.map(|s| events::EventSeries {
            count: s.count.unwrap_or(0),
            last_observed_time: s.last_observed_time.unwrap_or_else(zero_micro_time),
        }),
        deprecated_source: e.source,
        type_: e.type_,
    }
}

/// Go's zero `metav1.MicroTime`.
fn zero_micro_time() -> k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime {
    k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime(
        jiff::Timestamp::from_second(-62135596800).unwrap_or(jiff::Timestamp::UNIX_EPOCH),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn core_event() -> core::Event {
        serde_json::from_value(json!({
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"name": "web.1", "namespace": "ns", "uid": "u-1",
                "labels": {"a": "b"}, "creationTimestamp": "2026-01-01T00:00:00Z"},
            "involvedObject": {"kind": "Pod", "namespace": "ns", "name": "web",
                "uid": "p-1", "apiVersion": "v1", "resourceVersion": "7",
                "fieldPath": "spec.containers{app}"},
            "related": {"kind": "Node", "name": "n1"},
            "reason": "Pulled", "message": "pulled the image", "type": "Normal",
            "action": "Pulling",
            "source": {"component": "kubelet", "host": "n1"},
            "firstTimestamp": "2026-01-01T00:00:01Z",
            "lastTimestamp": "2026-01-01T00:00:05Z",
            "count": 3,
            "eventTime": "2026-01-01T00:00:01.123456Z",
            "series": {"count": 2, "lastObservedTime": "2026-01-01T00:00:05.000001Z"},
            "reportingComponent": "kubelet", "reportingInstance": "n1"
        }))
        .unwrap()
    }

    #[test]
    fn core_to_v1_maps_every_field_as_upstream() {
        let v1 = serde_json::to_value(core_to_v1(core_event())).unwrap();
        assert_eq!(v1["apiVersion"], "events.k8s.io/v1");
        assert_eq!(v1["kind"], "Event");
        assert_eq!(v1["metadata"]["name"], "web.1");
        assert_eq!(v1["metadata"]["uid"], "u-1");
        assert_eq!(v1["metadata"]["labels"]["a"], "b");
        assert_eq!(v1["note"], "pulled the image");
        assert_eq!(v1["regarding"]["name"], "web");
        assert_eq!(v1["regarding"]["fieldPath"], "spec.containers{app}");
        assert_eq!(v1["related"]["kind"], "Node");
        assert_eq!(v1["reportingController"], "kubelet");
        assert_eq!(v1["reportingInstance"], "n1");
        assert_eq!(
            v1["deprecatedSource"],
            json!({"component": "kubelet", "host": "n1"})
        );
        assert_eq!(v1["deprecatedFirstTimestamp"], "2026-01-01T00:00:01Z");
        assert_eq!(v1["deprecatedLastTimestamp"], "2026-01-01T00:00:05Z");
        assert_eq!(v1["deprecatedCount"], 3);
        assert_eq!(v1["series"]["count"], 2);
        assert_eq!(
            v1["series"]["lastObservedTime"],
            "2026-01-01T00:00:05.000001Z"
        );
        assert_eq!(v1["eventTime"], "2026-01-01T00:00:01.123456Z");
        assert_eq!(
            (&v1["action"], &v1["reason"], &v1["type"]),
            (&json!("Pulling"), &json!("Pulled"), &json!("Normal"))
        );
        for core_only in [
            "message",
            "involvedObject",
            "source",
            "count",
            "reportingComponent",
        ] {
            assert!(v1.get(core_only).is_none(), "{core_only} leaked into {v1}");
        }
    }

    #[test]
    fn v1_to_core_maps_every_field_as_upstream() {
        let v1: events::Event = serde_json::from_value(json!({
            "apiVersion": "events.k8s.io/v1", "kind": "Event",
            "metadata": {"name": "sched.1", "namespace": "ns"},
            "eventTime": "2026-01-01T00:00:01.000002Z",
            "reportingController": "default-scheduler",
            "reportingInstance": "default-scheduler-host",
            "action": "Binding", "reason": "Scheduled", "type": "Normal",
            "note": "Successfully assigned ns/web to n1",
            "regarding": {"kind": "Pod", "namespace": "ns", "name": "web"},
            "series": {"count": 4, "lastObservedTime": "2026-01-01T00:00:09.000003Z"},
            "deprecatedCount": 1
        }))
        .unwrap();
        let core = serde_json::to_value(v1_to_core(v1)).unwrap();
        assert_eq!(core["apiVersion"], "v1");
        assert_eq!(core["message"], "Successfully assigned ns/web to n1");
        assert_eq!(core["involvedObject"]["name"], "web");
        assert_eq!(core["reportingComponent"], "default-scheduler");
        assert_eq!(core["reportingInstance"], "default-scheduler-host");
        assert_eq!(core["count"], 1);
        assert_eq!(core["series"]["count"], 4);
        assert_eq!(
            core["series"]["lastObservedTime"],
            "2026-01-01T00:00:09.000003Z"
        );
        assert_eq!(core["eventTime"], "2026-01-01T00:00:01.000002Z");
        assert!(core.get("source").is_none());
        assert!(core.get("note").is_none() && core.get("regarding").is_none());
    }

    #[test]
    fn core_round_trip_keeps_everything() {
        let original = core_event();
        assert_eq!(v1_to_core(core_to_v1(original.clone())), original);
        // A minimal core event (what older clients write) survives too.
        let minimal: core::Event = serde_json::from_value(json!({
            "metadata": {"name": "m", "namespace": "ns"},
            "involvedObject": {"kind": "Node", "name": "n1"},
            "message": "hello"
        }))
        .unwrap();
        assert_eq!(v1_to_core(core_to_v1(minimal.clone())), minimal);
    }

    #[test]
    fn missing_regarding_becomes_an_empty_involved_object() {
        let v1 = events::Event {
            note: Some("n".into()),
            ..Default::default()
        };
        let core = v1_to_core(v1);
        assert_eq!(core.involved_object, core::ObjectReference::default());
        assert_eq!(core.message.as_deref(), Some("n"));
    }
}
