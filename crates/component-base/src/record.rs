//! A core/v1 Event recorder, like client-go's tools/record used by upstream's
//! kube-controller-manager (and, here, kube-proxy): events land where `kubectl describe` and `kubectl get
//! events` look, with `source.component` set, and a repeated event (same object,
//! reason and message) bumps `count` and `lastTimestamp` instead of adding an object.
//! Writes happen on a spawned task so a controller never waits for its events.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use k8s_openapi::api::core::v1::{Event, EventSource, ObjectReference};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::Resource;

pub const NORMAL: &str = "Normal";
pub const WARNING: &str = "Warning";

/// Cached events kept for aggregation before the cache is cleared.
const MAX_CACHED: usize = 4096;

type CacheKey = (String, String, String);

pub struct EventRecorder {
    client: kube::Client,
    component: String,
    host: String,
    /// (object uid, reason, message) -> (namespace, event name, count).
    cache: Mutex<HashMap<CacheKey, (String, String, i32)>>,
}

/// The Event for `reference`, named `<object>.<nanoseconds in hex>` as client-go does.
pub fn new_event(
    reference: &ObjectReference,
    type_: &str,
    reason: &str,
    message: &str,
    component: &str,
    host: &str,
    now: jiff::Timestamp,
) -> Event {
    let namespace = reference
        .namespace
        .clone()
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "default".to_string());
    Event {
        metadata: ObjectMeta {
            name: Some(format!(
                "{}.{:x}",
                reference.name.clone().unwrap_or_default(),
                now.as_nanosecond()
            )),
            namespace: Some(namespace),
            ..Default::default()
        },
        involved_object: reference.clone(),
        reason: Some(reason.to_string()),
        message: Some(message.to_string()),
        type_: Some(type_.to_string()),
        source: Some(EventSource {
            component: Some(component.to_string()),
            host: (!host.is_empty()).then(|| host.to_string()),
        }),
        first_timestamp: Some(Time(now)),
        last_timestamp: Some(Time(now)),
        count: Some(1),
        reporting_component: Some(component.to_string()),
        reporting_instance: Some(host.to_string()),
        ..Default::default()
    }
}

impl EventRecorder {
    pub fn new(client: kube::Client, component: &str) -> Arc<Self> {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_string())
            .unwrap_or_default();
        Arc::new(EventRecorder {
            client,
            component: component.to_string(),
            host,
            cache: Mutex::new(HashMap::new()),
        })
    }

    /// Records an event about `obj` in the background.
    pub fn event<K: Resource<DynamicType = ()>>(
        self: &Arc<Self>,
        obj: &K,
        type_: &str,
        reason: &str,
        message: String,
    ) {
        let reference = obj.object_ref(&());
        let this = self.clone();
        let (type_, reason) = (type_.to_string(), reason.to_string());
        tokio::spawn(async move {
            if let Err(e) = this.write(reference, &type_, &reason, &message).await {
                tracing::debug!(error = %e, reason, "recording event");
            }
        });
    }

    /// The kube-rs `Recorder::publish` shape, written as a core/v1 Event (so callers
    /// written against kube's recorder land where `kubectl describe` looks).
    pub async fn publish(
        &self,
        ev: &kube::runtime::events::Event,
        reference: &ObjectReference,
    ) -> Result<(), kube::Error> {
        let type_ = match ev.type_ {
            kube::runtime::events::EventType::Normal => NORMAL,
            kube::runtime::events::EventType::Warning => WARNING,
        };
        let message = ev.note.clone().unwrap_or_default();
        self.write(reference.clone(), type_, &ev.reason, &message)
            .await
    }

    async fn write(
        &self,
        reference: ObjectReference,
        type_: &str,
        reason: &str,
        message: &str,
    ) -> Result<(), kube::Error> {
        let now = jiff::Timestamp::now();
        let key = (
            reference.uid.clone().unwrap_or_default(),
            reason.to_string(),
            message.to_string(),
        );
        let cached = {
            let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
            match cache.get_mut(&key) {
                Some(entry) => {
                    entry.2 += 1;
                    Some(entry.clone())
                }
                None => None,
            }
        };
        if let Some((ns, name, count)) = cached {
            let api: Api<Event> = Api::namespaced(self.client.clone(), &ns);
            let patch = serde_json::json!({"count": count, "lastTimestamp": Time(now)});
            match api
                .patch(&name, &PatchParams::default(), &Patch::Merge(patch))
                .await
            {
                Ok(_) => return Ok(()),
                Err(kube::Error::Api(s)) if s.code == 404 => {}
                Err(e) => return Err(e),
            }
        }
        let ev = new_event(
            &reference,
            type_,
            reason,
            message,
            &self.component,
            &self.host,
            now,
        );
        let ns = ev.metadata.namespace.clone().unwrap_or_default();
        let api: Api<Event> = Api::namespaced(self.client.clone(), &ns);
        let created = api.create(&PostParams::default(), &ev).await?;
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        if cache.len() >= MAX_CACHED {
            cache.clear();
        }
        cache.insert(key, (ns, created.metadata.name.unwrap_or_default(), 1));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_names_the_object_and_component() {
        let r = ObjectReference {
            kind: Some("ReplicaSet".into()),
            name: Some("web-abc".into()),
            namespace: Some("prod".into()),
            uid: Some("u1".into()),
            api_version: Some("apps/v1".into()),
            ..Default::default()
        };
        let now = jiff::Timestamp::from_second(1_700_000_000).unwrap();
        let e = new_event(
            &r,
            NORMAL,
            "SuccessfulCreate",
            "Created pod: web-abc-x",
            "replicaset-controller",
            "h",
            now,
        );
        assert_eq!(e.metadata.namespace.as_deref(), Some("prod"));
        assert!(e
            .metadata
            .name
            .as_deref()
            .is_some_and(|n| n.starts_with("web-abc.")));
        assert_eq!(e.involved_object.uid.as_deref(), Some("u1"));
        assert_eq!(
            e.source.and_then(|s| s.component).as_deref(),
            Some("replicaset-controller")
        );
        assert_eq!(e.count, Some(1));
        // A cluster-scoped object's events go to "default", as upstream.
        let node = ObjectReference {
            kind: Some("Node".into()),
            name: Some("n1".into()),
            ..Default::default()
        };
        let e = new_event(&node, WARNING, "R", "m", "c", "", now);
        assert_eq!(e.metadata.namespace.as_deref(), Some("default"));
        assert!(e.source.and_then(|s| s.host).is_none());
    }
}
