//! Events, core/v1 and events.k8s.io/v1 alike: upstream prints both from the internal
//! Event, so an events.k8s.io object is first turned into its core/v1 form.

use api_types::DynamicObject;
use jiff::Timestamp;
use k8s_openapi::api::core::v1::{Event, ObjectReference};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use serde_json::Value;

use super::{col, field, int, name, s, since, typed, wide, Col, Printer, NAME};

static COLUMNS: &[Col] = &[
    col("Last Seen", "string", field::<Event>("lastTimestamp")),
    col("Type", "string", field::<Event>("type")),
    col("Reason", "string", field::<Event>("reason")),
    col("Object", "string", field::<Event>("involvedObject")),
    wide("Subobject", "string", field::<ObjectReference>("fieldPath")),
    wide("Source", "string", field::<Event>("source")),
    col("Message", "string", field::<Event>("message")),
    wide("First Seen", "string", field::<Event>("firstTimestamp")),
    wide("Count", "string", field::<Event>("count")),
    Col {
        priority: 1,
        ..NAME
    },
];

static CORE_EVENT: Printer = Printer {
    columns: COLUMNS,
    cells: core_event,
};
static EVENTS_EVENT: Printer = Printer {
    columns: COLUMNS,
    cells: events_event,
};

pub(super) fn printer(group: &str, kind: &str) -> Option<&'static Printer> {
    match (group, kind) {
        ("", "Event") => Some(&CORE_EVENT),
        ("events.k8s.io", "Event") => Some(&EVENTS_EVENT),
        _ => None,
    }
}

fn core_event(obj: &DynamicObject, now: Timestamp) -> Option<Vec<Value>> {
    let event: Event = typed(obj)?;
    Some(cells(&event, now))
}

fn events_event(obj: &DynamicObject, now: Timestamp) -> Option<Vec<Value>> {
    let e: k8s_openapi::api::events::v1::Event = typed(obj)?;
    let event = crate::conversion::events::v1_to_core(e);
    Some(cells(&event, now))
}

/// `translateMicroTimestampSince`.
fn micro_since(t: Option<&MicroTime>, now: Timestamp) -> String {
    match t {
        Some(t) => api_types::table::timestamp_since(t.0, now),
        None => "<unknown>".to_string(),
    }
}

fn non_empty(v: Option<&str>) -> Option<&str> {
    v.filter(|s| !s.is_empty())
}

/// `formatEventSource`: component (or reporting controller), then ", host" (or the
/// reporting instance) when there is one.
fn event_source(event: &Event) -> String {
    let source = event.source.as_ref();
    let component = non_empty(source.and_then(|s| s.component.as_deref()))
        .or(non_empty(event.reporting_component.as_deref()))
        .unwrap_or("");
    let instance = non_empty(source.and_then(|s| s.host.as_deref()))
        .or(non_empty(event.reporting_instance.as_deref()))
        .unwrap_or("");
    if instance.is_empty() {
        component.to_string()
    } else {
        format!("{component}, {instance}")
    }
}

pub(super) fn cells(event: &Event, now: Timestamp) -> Vec<Value> {
    let first_seen = match &event.first_timestamp {
        Some(t) => since(Some(t), now),
        None => micro_since(event.event_time.as_ref(), now),
    };
    let mut last_seen = match &event.last_timestamp {
        Some(t) => since(Some(t), now),
        None => first_seen.clone(),
    };
    let mut count = event.count.unwrap_or(0);
    if let Some(series) = &event.series {
        last_seen = micro_since(series.last_observed_time.as_ref(), now);
        count = series.count.unwrap_or(0);
    } else if count == 0 {
        // Singleton events of the new API carry no count.
        count = 1;
    }
    let involved = &event.involved_object;
    let kind = involved.kind.as_deref().unwrap_or("").to_lowercase();
    let target = match non_empty(involved.name.as_deref()) {
        Some(n) => format!("{kind}/{n}"),
        None => kind,
    };
    vec![
        s(last_seen),
        s(event.type_.clone().unwrap_or_default()),
        s(event.reason.clone().unwrap_or_default()),
        s(target),
        s(involved.field_path.clone().unwrap_or_default()),
        s(event_source(event)),
        s(event.message.as_deref().unwrap_or("").trim()),
        s(first_seen),
        int(count),
        name(&event.metadata),
    ]
}
