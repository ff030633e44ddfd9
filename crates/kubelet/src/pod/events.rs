//! core/v1 Events about pods, as the kubelet records them (source component `kubelet`,
//! host = the node name; upstream reasons and messages). Events are queued on a channel
//! and written by a background task, so a pod worker never waits on the API server; if
//! the queue is long (the API is down), further events are dropped with a log line.

use k8s_openapi::api::core::v1::{Event, EventSource, ObjectReference, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use kube::api::PostParams;
use kube::{Api, Client};
use tokio::sync::mpsc;

/// Upstream event reasons (pkg/kubelet/events).
pub mod reason {
    pub const PULLED: &str = "Pulled";
    pub const CREATED: &str = "Created";
    pub const STARTED: &str = "Started";
    pub const FAILED: &str = "Failed";
    pub const KILLING: &str = "Killing";
    pub const BACK_OFF: &str = "BackOff";
    pub const UNHEALTHY: &str = "Unhealthy";
    pub const FAILED_MOUNT: &str = "FailedMount";
    pub const FAILED_POST_START_HOOK: &str = "FailedPostStartHook";
    pub const FAILED_PRE_STOP_HOOK: &str = "FailedPreStopHook";
    pub const INVALID_ENV: &str = "InvalidEnvironmentVariableNames";
}

pub const NORMAL: &str = "Normal";
pub const WARNING: &str = "Warning";

/// Events waiting beyond this are dropped (the API server is unreachable).
const QUEUE_LIMIT: usize = 1000;

/// Where pod events go. Cloning shares the queue. Without a client events are only logged.
#[derive(Debug, Clone, Default)]
pub struct EventRecorder {
    tx: Option<mpsc::Sender<Event>>,
    host: String,
}

/// `spec.containers{name}` / `spec.initContainers{name}`: the involvedObject fieldPath.
pub fn container_field_path(pod: &Pod, container: &str) -> String {
    let init = pod
        .spec
        .as_ref()
        .and_then(|s| s.init_containers.as_ref())
        .is_some_and(|ics| ics.iter().any(|c| c.name == container));
    if init {
        format!("spec.initContainers{{{container}}}")
    } else {
        format!("spec.containers{{{container}}}")
    }
}

fn now() -> Time {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = i64::try_from(d.as_secs()).unwrap_or(0);
    Time(
        k8s_openapi::jiff::Timestamp::new(secs, 0)
            .unwrap_or(k8s_openapi::jiff::Timestamp::UNIX_EPOCH),
    )
}

/// The Event object (pure apart from the clock and a unique name suffix).
pub fn build_event(
    pod: &Pod,
    field_path: Option<String>,
    type_: &str,
    reason: &str,
    message: &str,
    host: &str,
) -> Event {
    let ns = pod
        .metadata
        .namespace
        .clone()
        .unwrap_or_else(|| "default".into());
    let name = pod.metadata.name.clone().unwrap_or_default();
    let t = now();
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    Event {
        metadata: ObjectMeta {
            name: Some(format!("{name}.{}", &suffix[..16])),
            namespace: Some(ns.clone()),
            ..Default::default()
        },
        involved_object: ObjectReference {
            api_version: Some("v1".into()),
            kind: Some("Pod".into()),
            name: Some(name),
            namespace: Some(ns),
            uid: pod.metadata.uid.clone(),
            resource_version: pod.metadata.resource_version.clone(),
            field_path,
        },
        reason: Some(reason.into()),
        message: Some(message.into()),
        type_: Some(type_.into()),
        source: Some(EventSource {
            component: Some("kubelet".into()),
            host: Some(host.into()),
        }),
        first_timestamp: Some(t.clone()),
        last_timestamp: Some(t),
        count: Some(1),
        reporting_component: Some("kubelet".into()),
        reporting_instance: Some(host.into()),
        ..Default::default()
    }
}

impl EventRecorder {
    /// Starts the writer task (needs a tokio runtime; without one, events are logged).
    pub fn new(client: Option<Client>, host: impl Into<String>) -> Self {
        let host = host.into();
        let (Some(client), Ok(handle)) = (client, tokio::runtime::Handle::try_current()) else {
            return EventRecorder { tx: None, host };
        };
        let (tx, mut rx) = mpsc::channel::<Event>(QUEUE_LIMIT);
        handle.spawn(async move {
            while let Some(ev) = rx.recv().await {
                let ns = ev.metadata.namespace.clone().unwrap_or_default();
                let api: Api<Event> = Api::namespaced(client.clone(), &ns);
                if let Err(e) = api.create(&PostParams::default(), &ev).await {
                    tracing::warn!(reason = ?ev.reason, error = %e, "writing event");
                }
            }
        });
        EventRecorder { tx: Some(tx), host }
    }

    /// Records an event about `pod` (optionally one of its containers). Never blocks.
    pub fn record(
        &self,
        pod: &Pod,
        container: Option<&str>,
        type_: &str,
        reason: &str,
        message: &str,
    ) {
        tracing::info!(
            pod = ?pod.metadata.name,
            container,
            reason,
            message,
            "event"
        );
        let Some(tx) = &self.tx else { return };
        let fp = container.map(|c| container_field_path(pod, c));
        let ev = build_event(pod, fp, type_, reason, message, &self.host);
        if tx.try_send(ev).is_err() {
            tracing::warn!(reason, "event queue full or closed; event dropped");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{Container, PodSpec};

    #[test]
    fn event_shape() {
        let mut pod = Pod::default();
        pod.metadata.name = Some("web".into());
        pod.metadata.namespace = Some("shop".into());
        pod.metadata.uid = Some("u1".into());
        pod.spec = Some(PodSpec {
            init_containers: Some(vec![Container {
                name: "init".into(),
                ..Default::default()
            }]),
            containers: vec![Container {
                name: "app".into(),
                ..Default::default()
            }],
            ..Default::default()
        });
        assert_eq!(container_field_path(&pod, "app"), "spec.containers{app}");
        assert_eq!(
            container_field_path(&pod, "init"),
            "spec.initContainers{init}"
        );
        let ev = build_event(
            &pod,
            Some(container_field_path(&pod, "app")),
            NORMAL,
            reason::STARTED,
            "Started container app",
            "node-1",
        );
        assert!(ev.metadata.name.as_deref().unwrap().starts_with("web."));
        assert_eq!(ev.metadata.namespace.as_deref(), Some("shop"));
        assert_eq!(ev.involved_object.kind.as_deref(), Some("Pod"));
        assert_eq!(ev.involved_object.uid.as_deref(), Some("u1"));
        assert_eq!(ev.reason.as_deref(), Some("Started"));
        assert_eq!(ev.type_.as_deref(), Some("Normal"));
        let src = ev.source.unwrap();
        assert_eq!(
            (src.component.as_deref(), src.host.as_deref()),
            (Some("kubelet"), Some("node-1"))
        );
        assert_eq!(ev.count, Some(1));
        // Without a client (or runtime) recording only logs.
        EventRecorder::default().record(&pod, None, WARNING, reason::FAILED, "x");
    }
}
