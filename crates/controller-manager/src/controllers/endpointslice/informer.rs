//! A shared-informer-like watch: a kube-rs reflector store kept current by a background
//! task that also tells the controller what changed, so it can queue keys. Used by the
//! infrastructure controllers (namespace, endpointslice, endpoints, serviceaccount,
//! root CA publisher, node IPAM, node lifecycle).

use std::fmt::Debug;
use std::hash::Hash;

use futures::StreamExt;
use kube::api::Api;
use kube::runtime::reflector::{self, Store};
use kube::runtime::watcher;
use kube::runtime::WatchStreamExt;
use kube::Resource;
use serde::de::DeserializeOwned;
use tokio::task::JoinHandle;

/// What the informer saw.
pub enum Change<'a, K> {
    /// An object was added or modified (or listed during a relist).
    Applied(&'a K),
    /// An object was deleted.
    Deleted(&'a K),
    /// A (re)list finished: deletions during a watch gap may have been missed, so the
    /// controller should resync everything it manages.
    Resynced,
}

/// A store plus the task feeding it; the task stops when this is dropped.
pub struct Informer<K: Resource + 'static>
where
    K::DynamicType: Eq + Hash + Clone,
{
    pub store: Store<K>,
    task: JoinHandle<()>,
}

impl<K> Informer<K>
where
    K: Resource + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
    K::DynamicType: Default + Eq + Hash + Clone + Send + Sync,
{
    /// Starts watching `api` and calls `on_change` for every event (after the store is
    /// updated).
    pub fn start<F>(api: Api<K>, config: watcher::Config, on_change: F) -> Self
    where
        F: Fn(Change<'_, K>) + Send + 'static,
    {
        let (store, writer) = reflector::store();
        let stream = reflector::reflector(writer, watcher(api, config).default_backoff());
        let task = tokio::spawn(async move {
            futures::pin_mut!(stream);
            while let Some(event) = stream.next().await {
                match event {
                    Ok(watcher::Event::Apply(o)) | Ok(watcher::Event::InitApply(o)) => {
                        on_change(Change::Applied(&o))
                    }
                    Ok(watcher::Event::Delete(o)) => on_change(Change::Deleted(&o)),
                    Ok(watcher::Event::InitDone) => on_change(Change::Resynced),
                    Ok(watcher::Event::Init) => {}
                    Err(e) => tracing::warn!(
                        kind = %K::kind(&Default::default()),
                        error = %e,
                        "watch failed, retrying"
                    ),
                }
            }
        });
        Informer { store, task }
    }

    /// Waits until the first list has been applied to the store.
    pub async fn synced(&self) -> anyhow::Result<()> {
        self.store
            .wait_until_ready()
            .await
            .map_err(|_| anyhow::anyhow!("the {} watch ended", K::kind(&Default::default())))
    }
}

impl<K: Resource + 'static> Drop for Informer<K>
where
    K::DynamicType: Eq + Hash + Clone,
{
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// `namespace/name` (or `name` for cluster-scoped objects), client-go's cache key.
pub fn key_of<K: Resource>(obj: &K) -> String {
    let name = obj.meta().name.clone().unwrap_or_default();
    match &obj.meta().namespace {
        Some(ns) if !ns.is_empty() => format!("{ns}/{name}"),
        _ => name,
    }
}

/// Splits a `namespace/name` key.
pub fn split_key(key: &str) -> (Option<&str>, &str) {
    match key.split_once('/') {
        Some((ns, name)) => (Some(ns), name),
        None => (None, key),
    }
}

/// Whether `e` is the apiserver's 404.
pub fn is_not_found(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 404)
}

/// Whether `e` is the apiserver's 409.
pub fn is_conflict(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 409)
}
