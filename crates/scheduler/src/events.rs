//! core/v1 Events about pods (FailedScheduling, Scheduled, Preempted), reported as
//! `default-scheduler`; a repeat of the same reason and message bumps the count of the
//! existing Event instead of writing a new one.

use std::collections::HashMap;
use std::sync::Mutex;

use k8s_openapi::api::core::v1::{Event, EventSource, ObjectReference, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta, Time};
use kube::api::{Api, Patch, PatchParams, PostParams};

pub const REPORTING_CONTROLLER: &str = "default-scheduler";

/// (reason, message) -> (event name, count), for one pod.
type PodEvents = HashMap<(String, String), (String, i32)>;

pub struct Recorder {
    client: kube::Client,
    instance: String,
    seen: Mutex<HashMap<String, PodEvents>>,
}

/// Pure: the Event for a first occurrence.
pub fn new_event(
    pod: &Pod,
    type_: &str,
    reason: &str,
    action: &str,
    message: &str,
    instance: &str,
) -> Event {
    let now = jiff::Timestamp::now();
    let name = pod.metadata.name.clone().unwrap_or_default();
    Event {
        metadata: ObjectMeta {
            name: Some(format!("{name}.{:x}", now.as_nanosecond())),
            namespace: pod.metadata.namespace.clone(),
            ..Default::default()
        },
        involved_object: ObjectReference {
            api_version: Some("v1".to_string()),
            kind: Some("Pod".to_string()),
            name: Some(name),
            namespace: pod.metadata.namespace.clone(),
            uid: pod.metadata.uid.clone(),
            resource_version: pod.metadata.resource_version.clone(),
            ..Default::default()
        },
        type_: Some(type_.to_string()),
        reason: Some(reason.to_string()),
        action: Some(action.to_string()),
        message: Some(message.to_string()),
        count: Some(1),
        first_timestamp: Some(Time(now)),
        last_timestamp: Some(Time(now)),
        event_time: Some(MicroTime(now)),
        source: Some(EventSource {
            component: Some(REPORTING_CONTROLLER.to_string()),
            host: None,
        }),
        reporting_component: Some(REPORTING_CONTROLLER.to_string()),
        reporting_instance: Some(instance.to_string()),
        ..Default::default()
    }
}

impl Recorder {
    pub fn new(client: kube::Client, instance: &str) -> Recorder {
        Recorder {
            client,
            instance: instance.to_string(),
            seen: Mutex::new(HashMap::new()),
        }
    }

    /// Writes (or bumps) an Event; failures are logged, never fatal.
    pub async fn emit(&self, pod: &Pod, type_: &str, reason: &str, action: &str, message: &str) {
        let ns = pod.metadata.namespace.clone().unwrap_or_default();
        let pod_key = crate::cache::pod_key(pod);
        let key = (reason.to_string(), message.to_string());
        let api: Api<Event> = Api::namespaced(self.client.clone(), &ns);
        let previous = self
            .seen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&pod_key)
            .and_then(|m| m.get(&key))
            .cloned();
        if let Some((name, count)) = previous {
            let patch = Event {
                count: Some(count + 1),
                last_timestamp: Some(Time(jiff::Timestamp::now())),
                ..Default::default()
            };
            if api
                .patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
                .await
                .is_ok()
            {
                self.seen
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .entry(pod_key)
                    .or_default()
                    .insert(key, (name, count + 1));
                return;
            }
        }
        let event = new_event(pod, type_, reason, action, message, &self.instance);
        let name = event.metadata.name.clone().unwrap_or_default();
        match api.create(&PostParams::default(), &event).await {
            Ok(_) => {
                let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
                if seen.len() > 50_000 {
                    seen.clear();
                }
                seen.entry(pod_key).or_default().insert(key, (name, 1));
            }
            Err(e) => {
                tracing::warn!(error = %e, pod = %crate::cache::pod_key(pod), reason, "writing event")
            }
        }
    }

    /// Forgets a pod's events (it was scheduled or deleted).
    pub fn forget(&self, pod_key: &str) {
        self.seen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(pod_key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_shape() {
        let pod = Pod {
            metadata: ObjectMeta {
                name: Some("web".into()),
                namespace: Some("default".into()),
                uid: Some("u1".into()),
                ..Default::default()
            },
            ..Default::default()
        };
        let e = new_event(
            &pod,
            "Warning",
            "FailedScheduling",
            "Scheduling",
            "0/1 nodes are available: 1 Insufficient cpu.",
            "me",
        );
        assert_eq!(e.involved_object.kind.as_deref(), Some("Pod"));
        assert_eq!(e.involved_object.uid.as_deref(), Some("u1"));
        assert_eq!(e.reporting_component.as_deref(), Some("default-scheduler"));
        assert_eq!(
            e.source.and_then(|s| s.component).as_deref(),
            Some("default-scheduler")
        );
        assert!(e.metadata.name.is_some_and(|n| n.starts_with("web.")));
    }
}
