//! Shared informers, like client-go's SharedInformerFactory: one watch per kind for the
//! whole controller manager, a local cache indexed by namespace, and event handlers that
//! get Added / Updated(old, new) / Deleted, including after a re-list (objects that
//! vanished while the watch was down are reported Deleted).
//!
//! Handlers run on the informer's task and must be quick (enqueue keys, record
//! expectations); they may read any informer's cache.

use std::any::{Any, TypeId};
use std::collections::{BTreeMap, HashMap};
use std::fmt::Debug;
use std::sync::{Arc, Mutex, RwLock};

use futures::StreamExt;
use kube::api::Api;
use kube::runtime::watcher::{self, watcher, Event as WatchEvent};
use kube::runtime::WatchStreamExt;
use kube::Resource;
use serde::de::DeserializeOwned;
use tokio::sync::watch;

/// What a handler is told.
#[derive(Debug)]
pub enum Event<K> {
    Added(Arc<K>),
    Updated { old: Arc<K>, new: Arc<K> },
    Deleted(Arc<K>),
}

/// `(namespace, name)`; the namespace is empty for cluster-scoped objects.
pub type Key = (String, String);

pub fn key_of<K: Resource>(obj: &K) -> Key {
    (
        obj.meta().namespace.clone().unwrap_or_default(),
        obj.meta().name.clone().unwrap_or_default(),
    )
}

type Handler<K> = Arc<dyn Fn(&Event<K>) + Send + Sync>;

struct Shared<K> {
    items: RwLock<BTreeMap<Key, Arc<K>>>,
    handlers: Mutex<Vec<Handler<K>>>,
    synced: watch::Sender<bool>,
}

/// A cache of one kind plus its handlers; cheap to clone.
pub struct Informer<K> {
    shared: Arc<Shared<K>>,
}

impl<K> Clone for Informer<K> {
    fn clone(&self) -> Self {
        Informer {
            shared: self.shared.clone(),
        }
    }
}

pub trait Watchable:
    Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug + Send + Sync + 'static
{
}
impl<K> Watchable for K where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug + Send + Sync + 'static
{
}

impl<K: Watchable> Informer<K> {
    fn new() -> Self {
        Informer {
            shared: Arc::new(Shared {
                items: RwLock::new(BTreeMap::new()),
                handlers: Mutex::new(Vec::new()),
                synced: watch::channel(false).0,
            }),
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<Key, Arc<K>>> {
        self.shared.items.read().unwrap_or_else(|p| p.into_inner())
    }

    pub fn get(&self, namespace: &str, name: &str) -> Option<Arc<K>> {
        self.read()
            .get(&(namespace.to_string(), name.to_string()))
            .cloned()
    }

    /// Every cached object in `namespace`.
    pub fn list_namespace(&self, namespace: &str) -> Vec<Arc<K>> {
        let start = (namespace.to_string(), String::new());
        self.read()
            .range(start..)
            .take_while(|((ns, _), _)| ns == namespace)
            .map(|(_, v)| v.clone())
            .collect()
    }

    pub fn list(&self) -> Vec<Arc<K>> {
        self.read().values().cloned().collect()
    }

    pub fn len(&self) -> usize {
        self.read().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Registers a handler; it is first told about every cached object as Added.
    pub fn add_handler(&self, handler: impl Fn(&Event<K>) + Send + Sync + 'static) {
        let mut handlers = self
            .shared
            .handlers
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        for obj in self.list() {
            handler(&Event::Added(obj));
        }
        handlers.push(Arc::new(handler));
    }

    /// Waits until the first list has been loaded.
    pub async fn wait_synced(&self) {
        let mut rx = self.shared.synced.subscribe();
        let _ = rx.wait_for(|s| *s).await;
    }

    pub fn has_synced(&self) -> bool {
        *self.shared.synced.borrow()
    }

    fn dispatch(&self, events: Vec<Event<K>>) {
        let handlers = self
            .shared
            .handlers
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        for ev in &events {
            for h in handlers.iter() {
                h(ev);
            }
        }
    }

    /// Applies one watch event to the cache; returns what handlers should hear.
    fn apply(&self, obj: K) -> Vec<Event<K>> {
        let key = key_of(&obj);
        let new = Arc::new(obj);
        let mut items = self.shared.items.write().unwrap_or_else(|p| p.into_inner());
        match items.insert(key, new.clone()) {
            Some(old) => vec![Event::Updated { old, new }],
            None => vec![Event::Added(new)],
        }
    }

    fn delete(&self, obj: K) -> Vec<Event<K>> {
        let key = key_of(&obj);
        let mut items = self.shared.items.write().unwrap_or_else(|p| p.into_inner());
        let removed = items.remove(&key);
        vec![Event::Deleted(removed.unwrap_or_else(|| Arc::new(obj)))]
    }

    /// Replaces the cache with a fresh list, reporting the differences.
    fn replace(&self, listed: BTreeMap<Key, Arc<K>>) -> Vec<Event<K>> {
        let mut items = self.shared.items.write().unwrap_or_else(|p| p.into_inner());
        let mut events = Vec::new();
        for (key, old) in items.iter() {
            if !listed.contains_key(key) {
                events.push(Event::Deleted(old.clone()));
            }
        }
        for (key, new) in &listed {
            match items.get(key) {
                Some(old) => {
                    if old.meta().resource_version != new.meta().resource_version {
                        events.push(Event::Updated {
                            old: old.clone(),
                            new: new.clone(),
                        })
                    }
                }
                None => events.push(Event::Added(new.clone())),
            }
        }
        *items = listed;
        events
    }

    async fn run(self, api: Api<K>) {
        let mut stream = watcher(api, watcher::Config::default())
            .default_backoff()
            .boxed();
        let mut buffer: Option<BTreeMap<Key, Arc<K>>> = None;
        while let Some(ev) = stream.next().await {
            let events = match ev {
                Ok(WatchEvent::Apply(obj)) => self.apply(obj),
                Ok(WatchEvent::Delete(obj)) => self.delete(obj),
                Ok(WatchEvent::Init) => {
                    buffer = Some(BTreeMap::new());
                    Vec::new()
                }
                Ok(WatchEvent::InitApply(obj)) => {
                    buffer
                        .get_or_insert_with(BTreeMap::new)
                        .insert(key_of(&obj), Arc::new(obj));
                    Vec::new()
                }
                Ok(WatchEvent::InitDone) => {
                    let events = self.replace(buffer.take().unwrap_or_default());
                    self.shared.synced.send_replace(true);
                    events
                }
                Err(e) => {
                    tracing::warn!(kind = %K::kind(&()), error = %e, "watch failed; retrying");
                    Vec::new()
                }
            };
            if !events.is_empty() {
                self.dispatch(events);
            }
        }
    }
}

/// One informer per kind, started on first use, stopped with the controller manager.
pub struct InformerFactory {
    client: kube::Client,
    stop: watch::Receiver<bool>,
    informers: Mutex<HashMap<TypeId, Box<dyn Any + Send + Sync>>>,
}

impl InformerFactory {
    pub fn new(client: kube::Client, stop: watch::Receiver<bool>) -> Self {
        InformerFactory {
            client,
            stop,
            informers: Mutex::new(HashMap::new()),
        }
    }

    /// The shared informer for `K` (all namespaces), starting its watch if needed.
    pub fn get<K: Watchable>(&self) -> Informer<K> {
        let mut map = self.informers.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(existing) = map
            .get(&TypeId::of::<K>())
            .and_then(|b| b.downcast_ref::<Informer<K>>())
        {
            return existing.clone();
        }
        let informer = Informer::<K>::new();
        map.insert(TypeId::of::<K>(), Box::new(informer.clone()));
        let api: Api<K> = Api::all(self.client.clone());
        let runner = informer.clone();
        let mut stop = self.stop.clone();
        tokio::spawn(async move {
            tokio::select! {
                _ = runner.run(api) => {}
                _ = stop.wait_for(|s| *s) => {}
            }
        });
        informer
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::Pod;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    fn pod(ns: &str, name: &str, rv: &str) -> Pod {
        Pod {
            metadata: ObjectMeta {
                namespace: Some(ns.into()),
                name: Some(name.into()),
                resource_version: Some(rv.into()),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    #[test]
    fn relist_reports_adds_updates_and_deletes() {
        let inf = Informer::<Pod>::new();
        inf.apply(pod("a", "p1", "1"));
        inf.apply(pod("a", "p2", "1"));
        let mut listed = BTreeMap::new();
        for p in [pod("a", "p2", "2"), pod("b", "p3", "1")] {
            listed.insert(key_of(&p), Arc::new(p));
        }
        let events = inf.replace(listed);
        let kinds: Vec<&str> = events
            .iter()
            .map(|e| match e {
                Event::Added(_) => "added",
                Event::Updated { .. } => "updated",
                Event::Deleted(_) => "deleted",
            })
            .collect();
        assert_eq!(kinds, vec!["deleted", "updated", "added"]);
        assert_eq!(inf.list_namespace("a").len(), 1);
        assert_eq!(inf.list_namespace("b").len(), 1);
        assert!(inf.get("a", "p1").is_none());
    }

    #[test]
    fn apply_tells_old_and_new() {
        let inf = Informer::<Pod>::new();
        assert!(matches!(inf.apply(pod("a", "p", "1"))[0], Event::Added(_)));
        match &inf.apply(pod("a", "p", "2"))[0] {
            Event::Updated { old, new } => {
                assert_eq!(old.metadata.resource_version.as_deref(), Some("1"));
                assert_eq!(new.metadata.resource_version.as_deref(), Some("2"));
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(matches!(
            inf.delete(pod("a", "p", "3"))[0],
            Event::Deleted(_)
        ));
        assert!(inf.is_empty());
    }
}
