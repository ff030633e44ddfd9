//! The watch cache of one resource: every object under the resource's key prefix,
//! kept current by one etcd watch, plus a window of recent events so watchers can
//! start from a recent resourceVersion. A thousand watchers cost one etcd watch.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, OnceLock, RwLock};
use std::time::Duration;

use api_types::watch::EventType;
use api_types::DynamicObject;
use bytes::Bytes;
use etcd_client::{EventType as EtcdEventType, WatchOptions};
use tokio::sync::{broadcast, watch, Mutex};

use super::etcd::EtcdStore;
use super::{StorageError, Stored};

/// One object as served: decoded, with its resourceVersion set, and its JSON (encoded
/// at once for the watch cache, on first use for objects read from etcd, which writes
/// only look at decoded).
#[derive(Debug)]
pub struct CachedObject {
    pub key: String,
    pub revision: i64,
    pub object: DynamicObject,
    json: OnceLock<Bytes>,
    /// The length of the stored value, to size the encoding.
    stored_len: usize,
}

impl CachedObject {
    /// Decodes a stored value, setting `metadata.resourceVersion` to its revision.
    pub fn decode(stored: &Stored) -> Result<CachedObject, StorageError> {
        CachedObject::from_value(stored.key.clone(), &stored.value, stored.mod_revision)
    }

    /// As `decode`, from the parts of a stored value (an etcd event's, say).
    fn from_value(key: String, value: &[u8], revision: i64) -> Result<CachedObject, StorageError> {
        let mut object: DynamicObject = match serde_json::from_slice(value) {
            Ok(o) => o,
            Err(e) => return Err(StorageError::Corrupt(format!("{key}: {e}"))),
        };
        object.metadata.resource_version = Some(revision.to_string());
        Ok(CachedObject {
            key,
            revision,
            object,
            json: OnceLock::new(),
            stored_len: value.len(),
        })
    }

    /// As `from_value`, encoded at once (what the watch cache keeps and serves).
    fn encoded(key: String, value: &[u8], revision: i64) -> Result<CachedObject, StorageError> {
        let obj = CachedObject::from_value(key, value, revision)?;
        obj.json()?;
        Ok(obj)
    }

    /// The object's JSON, as served.
    pub fn json(&self) -> Result<Bytes, StorageError> {
        if let Some(json) = self.json.get() {
            return Ok(json.clone());
        }
        let json = encode(&self.object, self.stored_len)
            .map_err(|e| StorageError::Corrupt(e.to_string()))?;
        Ok(self.json.get_or_init(|| json).clone())
    }

    /// The same stored object in another form (another version of it, say), its
    /// JSON encoded on first use.
    pub fn with_object(&self, object: DynamicObject) -> CachedObject {
        CachedObject {
            key: self.key.clone(),
            revision: self.revision,
            object,
            json: OnceLock::new(),
            stored_len: self.stored_len,
        }
    }

    /// The same object as of a later revision (a deletion's tombstone carries the
    /// deletion revision as its resourceVersion, as upstream).
    fn at_revision(&self, revision: i64) -> CachedObject {
        let mut object = self.object.clone();
        object.metadata.resource_version = Some(revision.to_string());
        let json = match encode(&object, self.stored_len) {
            Ok(json) => OnceLock::from(json),
            Err(_) => self.json.clone(),
        };
        CachedObject {
            key: self.key.clone(),
            revision,
            object,
            json,
            stored_len: self.stored_len,
        }
    }
}

/// The served JSON of a cached object. It lives as long as the object stays in the
/// cache, so it is sized to fit: `like` is the length of a similar encoding (the
/// stored value), and a buffer that had to grow is trimmed.
fn encode(object: &DynamicObject, like: usize) -> Result<Bytes, serde_json::Error> {
    // The resourceVersion entry and its digits, with room to spare.
    let mut json = Vec::with_capacity(like + 48);
    serde_json::to_writer(&mut json, object)?;
    if json.capacity() - json.len() > 256 {
        json.shrink_to_fit();
    }
    Ok(json.into())
}

/// A change seen by the cache.
#[derive(Debug)]
pub struct CacheEvent {
    pub kind: EventType,
    pub revision: i64,
    pub object: Arc<CachedObject>,
    /// The object before the change (for MODIFIED and DELETED), to decide selector
    /// transitions.
    pub previous: Option<Arc<CachedObject>>,
}

struct State {
    objects: BTreeMap<String, Arc<CachedObject>>,
    revision: i64,
    history: VecDeque<Arc<CacheEvent>>,
    /// Watches may start from any revision >= this one.
    oldest: i64,
    initialized: bool,
}

/// The objects whose key starts with `prefix`, in key order.
fn objects_under(state: &State, prefix: &str) -> Vec<Arc<CachedObject>> {
    state
        .objects
        .range(prefix.to_string()..)
        .take_while(|(k, _)| k.starts_with(prefix))
        .map(|(_, v)| v.clone())
        .collect()
}

pub struct WatchCache {
    pub resource: &'static str,
    prefix: String,
    capacity: usize,
    state: RwLock<State>,
    events: broadcast::Sender<Arc<CacheEvent>>,
    revision_tx: watch::Sender<i64>,
    progress: Mutex<Option<etcd_client::WatchRequestSender>>,
}

/// What a new watcher starts with: the buffered events after its revision, and the
/// live feed (subscribed under the same lock, so nothing falls between the two).
pub struct WatchStart {
    pub backlog: Vec<Arc<CacheEvent>>,
    pub live: broadcast::Receiver<Arc<CacheEvent>>,
    pub revision: i64,
}

impl WatchCache {
    pub fn new(resource: &'static str, prefix: String, capacity: usize) -> Arc<WatchCache> {
        let (events, _) = broadcast::channel(capacity.max(1024));
        let (revision_tx, _) = watch::channel(0);
        Arc::new(WatchCache {
            resource,
            prefix,
            capacity,
            state: RwLock::new(State {
                objects: BTreeMap::new(),
                revision: 0,
                history: VecDeque::new(),
                oldest: 0,
                initialized: false,
            }),
            events,
            revision_tx,
            progress: Mutex::new(None),
        })
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(|p| p.into_inner())
    }

    pub fn is_ready(&self) -> bool {
        self.read().initialized
    }

    pub fn revision(&self) -> i64 {
        self.read().revision
    }

    pub fn len(&self) -> usize {
        self.read().objects.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn get(&self, key: &str) -> Option<Arc<CachedObject>> {
        self.read().objects.get(key).cloned()
    }

    /// All objects whose key starts with `prefix`, in key order, and the revision.
    pub fn snapshot(&self, prefix: &str) -> (Vec<Arc<CachedObject>>, i64) {
        let state = self.read();
        let items = objects_under(&state, prefix);
        (items, state.revision)
    }

    /// Starts a watch after `revision`; 410 if that revision left the window.
    pub fn watch_from(&self, revision: i64) -> Result<WatchStart, StorageError> {
        let state = self.read();
        if revision < state.oldest {
            return Err(StorageError::Compacted {
                requested: revision,
                compacted: state.oldest,
            });
        }
        let backlog = state
            .history
            .iter()
            .filter(|e| e.revision > revision)
            .cloned()
            .collect();
        let live = self.events.subscribe();
        Ok(WatchStart {
            backlog,
            live,
            revision: state.revision,
        })
    }

    /// The current objects under `prefix` and a live feed of what follows them.
    pub fn snapshot_and_watch(&self, prefix: &str) -> (Vec<Arc<CachedObject>>, WatchStart) {
        let state = self.read();
        let items = objects_under(&state, prefix);
        let live = self.events.subscribe();
        (
            items,
            WatchStart {
                backlog: Vec::new(),
                live,
                revision: state.revision,
            },
        )
    }

    /// Waits until the cache has seen `revision` (asking etcd for a progress
    /// notification so a quiet resource catches up). False on timeout.
    pub async fn wait_for_revision(&self, revision: i64, timeout: Duration) -> bool {
        let mut rx = self.revision_tx.subscribe();
        if *rx.borrow() >= revision && self.is_ready() {
            return true;
        }
        if let Some(sender) = self.progress.lock().await.as_mut() {
            let _ = sender.request_progress().await;
        }
        let wait = async {
            loop {
                if *rx.borrow_and_update() >= revision {
                    return true;
                }
                if rx.changed().await.is_err() {
                    return false;
                }
            }
        };
        tokio::time::timeout(timeout, wait).await.unwrap_or(false) && self.is_ready()
    }

    fn set_revision(&self, state: &mut State, revision: i64) {
        if revision > state.revision {
            state.revision = revision;
            self.revision_tx.send_replace(revision);
        }
    }

    fn push(&self, state: &mut State, event: CacheEvent) {
        let event = Arc::new(event);
        self.set_revision(state, event.revision);
        state.history.push_back(event.clone());
        while state.history.len() > self.capacity {
            if let Some(old) = state.history.pop_front() {
                state.oldest = old.revision;
            }
        }
        // No receivers is fine; a lagging receiver sees Lagged and ends its watch.
        let _ = self.events.send(event);
    }

    /// Replaces the contents with a fresh list, emitting the differences as events so
    /// open watchers stay consistent after a relist.
    fn replace(&self, items: Vec<Stored>, revision: i64) {
        let mut fresh = BTreeMap::new();
        for stored in &items {
            match CachedObject::encoded(stored.key.clone(), &stored.value, stored.mod_revision) {
                Ok(obj) => {
                    fresh.insert(stored.key.clone(), Arc::new(obj));
                }
                Err(e) => {
                    tracing::error!(key = %stored.key, error = %e, "skipping undecodable object")
                }
            }
        }
        let mut state = self.write();
        if state.initialized {
            let old = std::mem::take(&mut state.objects);
            for (key, obj) in &fresh {
                match old.get(key) {
                    None => self.push(
                        &mut state,
                        CacheEvent {
                            kind: EventType::Added,
                            revision,
                            object: obj.clone(),
                            previous: None,
                        },
                    ),
                    Some(prev) if prev.revision != obj.revision => self.push(
                        &mut state,
                        CacheEvent {
                            kind: EventType::Modified,
                            revision,
                            object: obj.clone(),
                            previous: Some(prev.clone()),
                        },
                    ),
                    Some(_) => {}
                }
            }
            for (key, prev) in &old {
                if !fresh.contains_key(key) {
                    let tomb = Arc::new(prev.at_revision(revision));
                    self.push(
                        &mut state,
                        CacheEvent {
                            kind: EventType::Deleted,
                            revision,
                            object: tomb,
                            previous: Some(prev.clone()),
                        },
                    );
                }
            }
        } else {
            state.oldest = revision;
        }
        state.objects = fresh;
        state.initialized = true;
        self.set_revision(&mut state, revision);
    }

    fn apply(&self, event: &etcd_client::Event, revision_hint: i64) {
        let Some(kv) = event.kv() else { return };
        let key = String::from_utf8_lossy(kv.key()).into_owned();
        match event.event_type() {
            EtcdEventType::Put => {
                // Decoded before taking the lock: readers wait only for the insert.
                let obj = match CachedObject::encoded(key.clone(), kv.value(), kv.mod_revision()) {
                    Ok(o) => Arc::new(o),
                    Err(e) => {
                        tracing::error!(%key, error = %e, "skipping undecodable object");
                        return;
                    }
                };
                let mut state = self.write();
                let previous = state.objects.insert(key, obj.clone());
                let kind = if previous.is_some() {
                    EventType::Modified
                } else {
                    EventType::Added
                };
                self.push(
                    &mut state,
                    CacheEvent {
                        kind,
                        revision: kv.mod_revision(),
                        object: obj,
                        previous,
                    },
                );
            }
            EtcdEventType::Delete => {
                let revision = if kv.mod_revision() > 0 {
                    kv.mod_revision()
                } else {
                    revision_hint
                };
                let mut state = self.write();
                if let Some(prev) = state.objects.remove(&key) {
                    let tomb = Arc::new(prev.at_revision(revision));
                    self.push(
                        &mut state,
                        CacheEvent {
                            kind: EventType::Deleted,
                            revision,
                            object: tomb,
                            previous: Some(prev),
                        },
                    );
                } else {
                    self.set_revision(&mut state, revision);
                }
            }
        }
    }

    /// Keeps the cache current for as long as the process runs: list, then watch from
    /// the list's revision; on any error re-watch from the last seen revision, and
    /// relist only when etcd compacted past it.
    pub async fn run(self: Arc<Self>, store: EtcdStore) {
        let mut backoff = Duration::from_millis(100);
        let mut need_list = true;
        loop {
            if need_list {
                match self.list_all(&store).await {
                    Ok((items, revision)) => {
                        self.replace(items, revision);
                        need_list = false;
                    }
                    Err(e) => {
                        tracing::warn!(resource = self.resource, error = %e, "watch cache list failed; retrying");
                        tokio::time::sleep(backoff).await;
                        backoff = (backoff * 2).min(Duration::from_secs(5));
                        continue;
                    }
                }
            }
            let from = self.revision() + 1;
            match self.watch_once(&store, from).await {
                WatchEnd::Compacted => need_list = true,
                WatchEnd::Broken(e) => {
                    tracing::warn!(resource = self.resource, error = %e, "etcd watch broke; resuming");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                    continue;
                }
            }
            backoff = Duration::from_millis(100);
        }
    }

    async fn list_all(&self, store: &EtcdStore) -> Result<(Vec<Stored>, i64), StorageError> {
        let first = store.list(&self.prefix, None, 0, 1000).await?;
        let revision = first.revision;
        let mut items = first.items;
        let mut more = first.more;
        while more {
            let Some(last) = items.last() else { break };
            let start = format!("{}\0", last.key);
            let page = store
                .list(&self.prefix, Some(&start), revision, 1000)
                .await?;
            more = page.more;
            items.extend(page.items);
        }
        Ok((items, revision))
    }

    async fn watch_once(&self, store: &EtcdStore, from: i64) -> WatchEnd {
        let options = WatchOptions::new()
            .with_prefix()
            .with_start_revision(from)
            .with_progress_notify();
        let stream = match store
            .client()
            .watch_client()
            .watch(self.prefix.clone(), Some(options))
            .await
        {
            Ok(s) => s,
            Err(e) => return WatchEnd::Broken(e.to_string()),
        };
        let (sender, mut responses) = stream.split();
        *self.progress.lock().await = Some(sender);
        let end = loop {
            match responses.message().await {
                Ok(Some(resp)) => {
                    if resp.compact_revision() > 0 {
                        break WatchEnd::Compacted;
                    }
                    if resp.canceled() {
                        break WatchEnd::Broken(format!(
                            "watch canceled: {}",
                            resp.cancel_reason()
                        ));
                    }
                    let header_rev = resp.header().map(|h| h.revision()).unwrap_or_default();
                    for ev in resp.events() {
                        self.apply(ev, header_rev);
                    }
                    if resp.events().is_empty() && header_rev > 0 {
                        // A progress notification: everything up to header_rev was sent.
                        let mut state = self.write();
                        self.set_revision(&mut state, header_rev);
                    }
                }
                Ok(None) => break WatchEnd::Broken("stream ended".into()),
                Err(e) => break WatchEnd::Broken(e.to_string()),
            }
        };
        *self.progress.lock().await = None;
        end
    }
}

enum WatchEnd {
    Compacted,
    Broken(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(value: &str, revision: i64) -> Stored {
        Stored {
            key: "/registry/configmaps/d/c".into(),
            value: value.as_bytes().to_vec(),
            mod_revision: revision,
        }
    }

    /// What the cache served before the JSON was sized and made lazy.
    fn expected_json(value: &str, revision: i64) -> Vec<u8> {
        let mut o: DynamicObject = serde_json::from_str(value).unwrap();
        o.metadata.resource_version = Some(revision.to_string());
        serde_json::to_vec(&o).unwrap()
    }

    #[test]
    fn served_json_is_the_object_with_its_revision() {
        let values = [
            r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c","namespace":"d","uid":"u","creationTimestamp":"2024-01-01T00:00:00Z"},"data":{"k":"v"}}"#,
            // Not in the canonical form: whitespace, key order, an unknown metadata field.
            r#" { "data" : {"k":"v"}, "metadata": {"uid":"u","name":"c","bogus":1}, "kind":"ConfigMap", "apiVersion":"v1" } "#,
            r#"{"metadata":{"name":"x"},"spec":{"a":[1,2.5,"\u00e9"]}}"#,
        ];
        for value in values {
            let s = stored(value, 42);
            let lazy = CachedObject::decode(&s).unwrap();
            assert_eq!(lazy.json().unwrap().as_ref(), expected_json(value, 42));
            // Asking twice gives the same bytes.
            assert_eq!(lazy.json().unwrap(), lazy.json().unwrap());
            let eager = CachedObject::encoded(s.key.clone(), &s.value, 42).unwrap();
            assert_eq!(eager.json().unwrap().as_ref(), expected_json(value, 42));
            let tomb = eager.at_revision(50);
            assert_eq!(tomb.revision, 50);
            assert_eq!(tomb.json().unwrap().as_ref(), expected_json(value, 50));
        }
        assert!(matches!(
            CachedObject::decode(&stored("{not json", 1)),
            Err(StorageError::Corrupt(_))
        ));
    }
}
