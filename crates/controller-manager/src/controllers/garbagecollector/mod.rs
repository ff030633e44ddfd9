//! The garbage collector (pkg/controller/garbagecollector): watches every resource that
//! can be listed, watched and deleted (found through discovery, re-checked every 30 s
//! so CRDs are picked up), builds the owner -> dependents graph from ownerReferences,
//! and
//! - deletes dependents whose owners are all gone (background propagation),
//! - for an owner with the `foregroundDeletion` finalizer deletes its dependents first
//!   and removes the finalizer once no dependent with blockOwnerDeletion is left,
//! - for an owner with the `orphan` finalizer strips the references to it from its
//!   dependents, then removes the finalizer.

pub mod graph;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use anyhow::Context as _;
use futures::StreamExt;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::api::{
    Api, DeleteParams, DynamicObject, Patch, PatchParams, Preconditions, PropagationPolicy,
};
use kube::discovery::{verbs, ApiResource, Discovery, Scope};
use kube::runtime::watcher::{self, watcher, Event as WatchEvent};
use kube::runtime::WatchStreamExt;
use tokio::sync::mpsc;

use crate::context::ControllerContext;
use crate::workqueue::{run_workers, WorkQueue};
use graph::{
    classify, decide, Action, Decision, Graph, ObjectId, Observed, OwnerState,
    FOREGROUND_FINALIZER, ORPHAN_FINALIZER,
};

/// How often discovery is re-read for new resources.
const DISCOVERY_PERIOD: Duration = Duration::from_secs(30);

/// Resources upstream's GC never watches.
fn ignored(ar: &ApiResource) -> bool {
    ar.plural == "events" && (ar.group.is_empty() || ar.group == "events.k8s.io")
}

enum GraphEvent {
    Observed(Observed),
    Deleted(String),
}

struct GarbageCollector {
    client: kube::Client,
    graph: Mutex<Graph>,
    /// (apiVersion, kind) -> resource and whether it is namespaced.
    mapper: RwLock<HashMap<(String, String), (ApiResource, bool)>>,
    attempt_to_delete: WorkQueue<String>,
    attempt_to_orphan: WorkQueue<String>,
    events: mpsc::UnboundedSender<GraphEvent>,
}

pub async fn run(ctx: Arc<ControllerContext>) -> anyhow::Result<()> {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let gc = Arc::new(GarbageCollector {
        client: ctx.client.clone(),
        graph: Mutex::new(Graph::default()),
        mapper: RwLock::new(HashMap::new()),
        attempt_to_delete: ctx.queue("garbage_collector_attempt_to_delete"),
        attempt_to_orphan: ctx.queue("garbage_collector_attempt_to_orphan"),
        events: tx,
    });
    // The graph builder: one task applies every change in order.
    let builder = {
        let gc = gc.clone();
        tokio::spawn(async move {
            while let Some(ev) = rx.recv().await {
                let actions = {
                    let mut g = gc.graph.lock().unwrap_or_else(|p| p.into_inner());
                    match ev {
                        GraphEvent::Observed(o) => g.observe(o),
                        GraphEvent::Deleted(uid) => g.remove(&uid),
                    }
                };
                for a in actions {
                    match a {
                        Action::AttemptToDelete(uid) => gc.attempt_to_delete.add(uid),
                        Action::AttemptToOrphan(uid) => gc.attempt_to_orphan.add(uid),
                    }
                }
            }
        })
    };
    let discovery = {
        let gc = gc.clone();
        let ctx = ctx.clone();
        tokio::spawn(async move { gc.discovery_loop(ctx).await })
    };
    let workers = ctx.options.concurrent_gc_syncs;
    let delete_workers = {
        let gc = gc.clone();
        tokio::spawn(run_workers(
            gc.attempt_to_delete.clone(),
            workers,
            move |uid: String| {
                let gc = gc.clone();
                async move { gc.attempt_to_delete_item(&uid).await }
            },
        ))
    };
    let orphan_workers = {
        let gc = gc.clone();
        tokio::spawn(run_workers(
            gc.attempt_to_orphan.clone(),
            workers,
            move |uid: String| {
                let gc = gc.clone();
                async move { gc.orphan_dependents(&uid).await }
            },
        ))
    };
    ctx.stopped().await;
    gc.attempt_to_delete.shut_down();
    gc.attempt_to_orphan.shut_down();
    discovery.abort();
    builder.abort();
    let _ = delete_workers.await;
    let _ = orphan_workers.await;
    Ok(())
}

fn has_finalizer(obj: &DynamicObject, f: &str) -> bool {
    obj.metadata.finalizers.iter().flatten().any(|x| x == f)
}

fn is_status(e: &kube::Error, code: u16) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == code)
}

impl GarbageCollector {
    async fn discovery_loop(self: Arc<Self>, ctx: Arc<ControllerContext>) {
        let mut monitored: HashSet<(String, String)> = HashSet::new();
        loop {
            match Discovery::new(self.client.clone()).run().await {
                Ok(d) => {
                    let mut mapper = HashMap::new();
                    let mut watchable = Vec::new();
                    for group in d.groups() {
                        for ver in group.versions() {
                            for (ar, caps) in group.versioned_resources(ver) {
                                let namespaced = caps.scope == Scope::Namespaced;
                                mapper.insert(
                                    (ar.api_version.clone(), ar.kind.clone()),
                                    (ar, namespaced),
                                );
                            }
                        }
                        for (ar, caps) in group.recommended_resources() {
                            if [verbs::LIST, verbs::WATCH, verbs::DELETE]
                                .iter()
                                .all(|v| caps.supports_operation(v))
                                && !ignored(&ar)
                            {
                                watchable.push(ar);
                            }
                        }
                    }
                    *self.mapper.write().unwrap_or_else(|p| p.into_inner()) = mapper;
                    for ar in watchable {
                        if monitored.insert((ar.group.clone(), ar.plural.clone())) {
                            tracing::debug!(resource = %ar.plural, group = %ar.group, "GC monitoring");
                            let gc = self.clone();
                            let ctx = ctx.clone();
                            tokio::spawn(async move {
                                tokio::select! {
                                    _ = gc.monitor(ar) => {}
                                    _ = ctx.stopped() => {}
                                }
                            });
                        }
                    }
                }
                Err(e) => tracing::warn!(error = %e, "garbage collector: discovery failed"),
            }
            tokio::time::sleep(DISCOVERY_PERIOD).await;
        }
    }

    fn send(&self, ev: GraphEvent) {
        let _ = self.events.send(ev);
    }

    /// One watch feeding the graph; a re-list reports the objects that vanished.
    async fn monitor(&self, ar: ApiResource) {
        let api: Api<DynamicObject> = Api::all_with(self.client.clone(), &ar);
        let mut stream = watcher(api, watcher::Config::default())
            .default_backoff()
            .boxed();
        let mut known: HashSet<String> = HashSet::new();
        let mut listing: Option<HashSet<String>> = None;
        let observed = |o: &DynamicObject| -> Option<Observed> {
            let uid = o.metadata.uid.clone()?;
            Some(Observed {
                id: ObjectId {
                    api_version: ar.api_version.clone(),
                    kind: ar.kind.clone(),
                    namespace: o.metadata.namespace.clone(),
                    name: o.metadata.name.clone().unwrap_or_default(),
                    uid,
                },
                owners: o.metadata.owner_references.clone().unwrap_or_default(),
                being_deleted: o.metadata.deletion_timestamp.is_some(),
                finalizers: o.metadata.finalizers.clone().unwrap_or_default(),
            })
        };
        while let Some(ev) = stream.next().await {
            match ev {
                Ok(WatchEvent::Apply(o)) => {
                    if let Some(obs) = observed(&o) {
                        known.insert(obs.id.uid.clone());
                        self.send(GraphEvent::Observed(obs));
                    }
                }
                Ok(WatchEvent::InitApply(o)) => {
                    if let Some(obs) = observed(&o) {
                        listing
                            .get_or_insert_with(HashSet::new)
                            .insert(obs.id.uid.clone());
                        self.send(GraphEvent::Observed(obs));
                    }
                }
                Ok(WatchEvent::Delete(o)) => {
                    if let Some(uid) = o.metadata.uid {
                        known.remove(&uid);
                        self.send(GraphEvent::Deleted(uid));
                    }
                }
                Ok(WatchEvent::Init) => listing = Some(HashSet::new()),
                Ok(WatchEvent::InitDone) => {
                    let listed = listing.take().unwrap_or_default();
                    for gone in known.difference(&listed) {
                        self.send(GraphEvent::Deleted(gone.clone()));
                    }
                    known = listed;
                }
                Err(e) => {
                    tracing::debug!(resource = %ar.plural, error = %e, "GC watch failed; retrying")
                }
            }
        }
    }

    fn resolve(&self, api_version: &str, kind: &str) -> anyhow::Result<(ApiResource, bool)> {
        self.mapper
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&(api_version.to_string(), kind.to_string()))
            .cloned()
            .with_context(|| format!("unable to map {api_version}, Kind={kind} to a resource"))
    }

    fn api_for(
        &self,
        api_version: &str,
        kind: &str,
        namespace: Option<&str>,
    ) -> anyhow::Result<Api<DynamicObject>> {
        let (ar, namespaced) = self.resolve(api_version, kind)?;
        Ok(match (namespaced, namespace) {
            (true, Some(ns)) => Api::namespaced_with(self.client.clone(), ns, &ar),
            _ => Api::all_with(self.client.clone(), &ar),
        })
    }

    fn node(&self, uid: &str) -> Option<graph::Node> {
        self.graph
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(uid)
            .cloned()
    }

    /// The live object, or None when it is gone (or replaced by one with another uid).
    async fn get_live(&self, id: &ObjectId) -> anyhow::Result<Option<DynamicObject>> {
        let api = self.api_for(&id.api_version, &id.kind, id.namespace.as_deref())?;
        match api.get_opt(&id.name).await {
            Ok(Some(o)) if o.metadata.uid.as_deref() == Some(id.uid.as_str()) => Ok(Some(o)),
            Ok(_) => Ok(None),
            Err(e) => Err(e).with_context(|| format!("getting {} {}", id.kind, id.name)),
        }
    }

    async fn owner_state(
        &self,
        r: &OwnerReference,
        namespace: Option<&str>,
    ) -> anyhow::Result<OwnerState> {
        let id = ObjectId {
            api_version: r.api_version.clone(),
            kind: r.kind.clone(),
            namespace: namespace.map(str::to_string),
            name: r.name.clone(),
            uid: r.uid.clone(),
        };
        Ok(match self.get_live(&id).await? {
            None => OwnerState::Absent,
            Some(o)
                if o.metadata.deletion_timestamp.is_some()
                    && has_finalizer(&o, FOREGROUND_FINALIZER) =>
            {
                OwnerState::WaitingForDependents
            }
            Some(_) => OwnerState::Present,
        })
    }

    /// attemptToDeleteItem.
    async fn attempt_to_delete_item(&self, uid: &str) -> anyhow::Result<()> {
        let Some(node) = self.node(uid) else {
            return Ok(());
        };
        let Some(latest) = self.get_live(&node.id).await? else {
            // Gone (or a virtual owner that never existed): a virtual delete event.
            self.send(GraphEvent::Deleted(uid.to_string()));
            return Ok(());
        };
        if node.virtual_ {
            // It exists but the watch has not shown it yet: look again later.
            self.attempt_to_delete
                .add_after(uid.to_string(), Duration::from_secs(5));
            return Ok(());
        }
        let foreground = has_finalizer(&latest, FOREGROUND_FINALIZER);
        if latest.metadata.deletion_timestamp.is_some() && !foreground {
            return Ok(());
        }
        if latest.metadata.deletion_timestamp.is_some() && foreground {
            return self.process_deleting_dependents(&node, &latest).await;
        }
        let refs = latest.metadata.owner_references.clone().unwrap_or_default();
        if refs.is_empty() {
            return Ok(());
        }
        let mut states = HashMap::new();
        for r in &refs {
            states.insert(
                r.uid.clone(),
                self.owner_state(r, node.id.namespace.as_deref()).await?,
            );
        }
        let c = classify(&refs, |r| {
            states.get(&r.uid).copied().unwrap_or(OwnerState::Present)
        });
        let dependent_deleting = {
            let g = self.graph.lock().unwrap_or_else(|p| p.into_inner());
            node.dependents
                .iter()
                .any(|d| g.get(d).is_some_and(|n| n.deleting_dependents))
        };
        let finalizers = latest.metadata.finalizers.clone().unwrap_or_default();
        match decide(
            &c,
            &finalizers,
            !node.dependents.is_empty(),
            dependent_deleting,
        ) {
            Decision::Nothing => Ok(()),
            Decision::RemoveReferences(uids) => {
                self.patch_owner_refs(&node.id, |refs| refs.retain(|r| !uids.contains(&r.uid)))
                    .await
            }
            Decision::UnblockThenDeleteForeground(uids) => {
                self.patch_owner_refs(&node.id, |refs| {
                    for r in refs.iter_mut().filter(|r| uids.contains(&r.uid)) {
                        r.block_owner_deletion = Some(false);
                    }
                })
                .await?;
                self.delete(&node.id, PropagationPolicy::Foreground).await
            }
            Decision::DeleteForeground => {
                self.delete(&node.id, PropagationPolicy::Foreground).await
            }
            Decision::Delete(policy) => {
                let p = match policy {
                    "Orphan" => PropagationPolicy::Orphan,
                    "Foreground" => PropagationPolicy::Foreground,
                    _ => PropagationPolicy::Background,
                };
                self.delete(&node.id, p).await
            }
        }
    }

    /// processDeletingDependentsItem: wait for blocking dependents, then drop the
    /// foregroundDeletion finalizer.
    async fn process_deleting_dependents(
        &self,
        node: &graph::Node,
        latest: &DynamicObject,
    ) -> anyhow::Result<()> {
        let blocking: Vec<(String, bool)> = {
            let g = self.graph.lock().unwrap_or_else(|p| p.into_inner());
            g.blocking_dependents(&node.id.uid)
                .into_iter()
                .map(|d| (d.id.uid.clone(), d.deleting_dependents))
                .collect()
        };
        if blocking.is_empty() {
            return self
                .remove_finalizer(&node.id, latest, FOREGROUND_FINALIZER)
                .await;
        }
        for (uid, deleting) in blocking {
            if !deleting {
                self.attempt_to_delete.add(uid);
            }
        }
        Ok(())
    }

    async fn delete(&self, id: &ObjectId, policy: PropagationPolicy) -> anyhow::Result<()> {
        let api = self.api_for(&id.api_version, &id.kind, id.namespace.as_deref())?;
        let dp = DeleteParams {
            propagation_policy: Some(policy),
            preconditions: Some(Preconditions {
                uid: Some(id.uid.clone()),
                resource_version: None,
            }),
            ..Default::default()
        };
        tracing::debug!(kind = %id.kind, name = %id.name, "GC deleting object");
        match api.delete(&id.name, &dp).await {
            Ok(_) => Ok(()),
            Err(e) if is_status(&e, 404) || is_status(&e, 409) => Ok(()),
            Err(e) => Err(e).with_context(|| format!("deleting {} {}", id.kind, id.name)),
        }
    }

    async fn patch_owner_refs(
        &self,
        id: &ObjectId,
        f: impl Fn(&mut Vec<OwnerReference>),
    ) -> anyhow::Result<()> {
        let Some(latest) = self.get_live(id).await? else {
            return Ok(());
        };
        let old = latest.metadata.owner_references.clone().unwrap_or_default();
        let mut refs = old.clone();
        f(&mut refs);
        if refs == old {
            return Ok(());
        }
        let api = self.api_for(&id.api_version, &id.kind, id.namespace.as_deref())?;
        let patch = serde_json::json!({"metadata": {"ownerReferences": refs, "uid": id.uid}});
        match api
            .patch(&id.name, &PatchParams::default(), &Patch::Merge(patch))
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if is_status(&e, 404) => Ok(()),
            Err(e) => Err(e)
                .with_context(|| format!("patching ownerReferences of {} {}", id.kind, id.name)),
        }
    }

    async fn remove_finalizer(
        &self,
        id: &ObjectId,
        latest: &DynamicObject,
        finalizer: &str,
    ) -> anyhow::Result<()> {
        let finalizers: Vec<String> = latest
            .metadata
            .finalizers
            .iter()
            .flatten()
            .filter(|f| *f != finalizer)
            .cloned()
            .collect();
        let api = self.api_for(&id.api_version, &id.kind, id.namespace.as_deref())?;
        let patch = serde_json::json!({"metadata": {
            "finalizers": if finalizers.is_empty() { serde_json::Value::Null } else { serde_json::json!(finalizers) },
            "resourceVersion": latest.metadata.resource_version,
        }});
        match api
            .patch(&id.name, &PatchParams::default(), &Patch::Merge(patch))
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if is_status(&e, 404) => Ok(()),
            Err(e) => Err(e).with_context(|| {
                format!(
                    "removing the {finalizer} finalizer of {} {}",
                    id.kind, id.name
                )
            }),
        }
    }

    /// attemptToOrphan: strip references to the owner from its dependents, then drop
    /// the orphan finalizer.
    async fn orphan_dependents(&self, uid: &str) -> anyhow::Result<()> {
        let Some(node) = self.node(uid) else {
            return Ok(());
        };
        let dependents: Vec<ObjectId> = {
            let g = self.graph.lock().unwrap_or_else(|p| p.into_inner());
            node.dependents
                .iter()
                .filter_map(|d| g.get(d))
                .map(|n| n.id.clone())
                .collect()
        };
        let results = futures::future::join_all(
            dependents
                .iter()
                .map(|dep| self.patch_owner_refs(dep, |refs| refs.retain(|r| r.uid != uid))),
        )
        .await;
        for r in results {
            r.context("orphaning dependents")?;
        }
        let Some(latest) = self.get_live(&node.id).await? else {
            return Ok(());
        };
        if has_finalizer(&latest, ORPHAN_FINALIZER) {
            self.remove_finalizer(&node.id, &latest, ORPHAN_FINALIZER)
                .await?;
        }
        Ok(())
    }
}
