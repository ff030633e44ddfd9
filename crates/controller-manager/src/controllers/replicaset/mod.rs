//! The ReplicaSet controller (pkg/controller/replicaset), also run over
//! ReplicationControllers: keeps `spec.replicas` pods matching the selector, adopting
//! orphans and releasing pods that no longer match, with expectations so a slow watch
//! never causes double creates or deletes.

pub mod kind;
pub mod status;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use api_types::selectors::LabelSelector;
use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};

use crate::context::ControllerContext;
use crate::controller_utils::{
    self, controller_ref, is_pod_active, meta_key, new_controller_ref, pod_from_template,
    slow_start_batch, split_key, Expectations,
};
use crate::informers::{Event, Informer};
use crate::record::{EventRecorder, NORMAL, WARNING};
use crate::workqueue::{run_workers, WorkQueue};

pub use kind::ReplicaKind;
use status::{calculate_status, status_changed, ManageError};

/// The most pods created or deleted in one sync (upstream's BurstReplicas).
pub const BURST_REPLICAS: usize = 500;

pub async fn run(ctx: Arc<ControllerContext>) -> anyhow::Result<()> {
    let workers = ctx.options.concurrent_replicaset_syncs;
    run_kind::<ReplicaSet>(ctx, workers).await
}

struct Controller<K: ReplicaKind> {
    client: kube::Client,
    owners: Informer<K>,
    pods: Informer<Pod>,
    expectations: Expectations,
    queue: WorkQueue<String>,
    recorder: Arc<EventRecorder>,
}

fn is_ours<K: ReplicaKind>(r: &OwnerReference) -> bool {
    let group = |av: &str| {
        av.split_once('/')
            .map(|(g, _)| g.to_string())
            .unwrap_or_default()
    };
    r.kind == K::KIND && group(&r.api_version) == group(K::API_VERSION)
}

/// Runs the replica controller over kind `K` with `workers` workers until stopped.
pub async fn run_kind<K: ReplicaKind>(
    ctx: Arc<ControllerContext>,
    workers: usize,
) -> anyhow::Result<()> {
    let c = Arc::new(Controller::<K> {
        client: ctx.client.clone(),
        owners: ctx.informers().get::<K>(),
        pods: ctx.informers().get::<Pod>(),
        expectations: Expectations::default(),
        queue: ctx.queue(K::QUEUE),
        recorder: EventRecorder::new(ctx.client.clone(), K::COMPONENT),
    });
    {
        let c2 = c.clone();
        c.owners.add_handler(move |ev| c2.on_owner(ev));
        let c2 = c.clone();
        c.pods.add_handler(move |ev| c2.on_pod(ev));
    }
    c.owners.wait_synced().await;
    c.pods.wait_synced().await;
    tracing::info!(kind = K::KIND, "Caches are synced");
    let queue = c.queue.clone();
    let sync = {
        let c = c.clone();
        move |key: String| {
            let c = c.clone();
            async move { c.sync(&key).await }
        }
    };
    let workers_done = tokio::spawn(run_workers(queue.clone(), workers, sync));
    ctx.stopped().await;
    queue.shut_down();
    let _ = workers_done.await;
    Ok(())
}

impl<K: ReplicaKind> Controller<K> {
    fn on_owner(&self, ev: &Event<K>) {
        match ev {
            Event::Added(o) | Event::Updated { new: o, .. } => self.queue.add(meta_key(o.meta())),
            Event::Deleted(o) => {
                let key = meta_key(o.meta());
                self.expectations.delete(&key);
                self.queue.add(key);
            }
        }
    }

    /// The owner a controllerRef points to, if it is one of ours and still cached.
    fn resolve(&self, namespace: &str, r: &OwnerReference) -> Option<Arc<K>> {
        if !is_ours::<K>(r) {
            return None;
        }
        let o = self.owners.get(namespace, &r.name)?;
        (o.meta().uid.as_deref() == Some(r.uid.as_str())).then_some(o)
    }

    /// Every owner in the pod's namespace whose selector matches it (for adoption).
    fn enqueue_matching(&self, pod: &Pod) {
        let ns = pod.metadata.namespace.clone().unwrap_or_default();
        let labels = controller_utils::labels(&pod.metadata);
        for o in self.owners.list_namespace(&ns) {
            let rs = o.to_replica_set();
            let sel = rs.spec.as_ref().map(|s| &s.selector);
            if let Ok(sel) = LabelSelector::from_optional_meta(sel) {
                if sel.matches(&labels) {
                    self.queue.add(meta_key(o.meta()));
                }
            }
        }
    }

    fn pod_deleted(&self, pod: &Pod) {
        let ns = pod.metadata.namespace.clone().unwrap_or_default();
        if let Some(owner) = controller_ref(&pod.metadata).and_then(|r| self.resolve(&ns, r)) {
            let key = meta_key(owner.meta());
            self.expectations
                .deletion_observed(&key, &meta_key(&pod.metadata));
            self.queue.add(key);
        }
    }

    fn on_pod(&self, ev: &Event<Pod>) {
        match ev {
            Event::Added(pod) => {
                if pod.metadata.deletion_timestamp.is_some() {
                    self.pod_deleted(pod);
                    return;
                }
                let ns = pod.metadata.namespace.clone().unwrap_or_default();
                match controller_ref(&pod.metadata) {
                    Some(r) => {
                        if let Some(owner) = self.resolve(&ns, r) {
                            let key = meta_key(owner.meta());
                            self.expectations.creation_observed(&key);
                            self.queue.add(key);
                        }
                    }
                    None => self.enqueue_matching(pod),
                }
            }
            Event::Updated { old, new } => {
                if old.metadata.resource_version == new.metadata.resource_version {
                    return;
                }
                if new.metadata.deletion_timestamp.is_some() {
                    // Upstream treats a graceful deletion as the deletion itself.
                    self.pod_deleted(new);
                    return;
                }
                let ns = new.metadata.namespace.clone().unwrap_or_default();
                let old_ref = controller_ref(&old.metadata);
                let new_ref = controller_ref(&new.metadata);
                if old_ref.map(|r| &r.uid) != new_ref.map(|r| &r.uid) {
                    if let Some(o) = old_ref.and_then(|r| self.resolve(&ns, r)) {
                        self.queue.add(meta_key(o.meta()));
                    }
                }
                match new_ref {
                    Some(r) => {
                        if let Some(owner) = self.resolve(&ns, r) {
                            let key = meta_key(owner.meta());
                            let min_ready = owner
                                .to_replica_set()
                                .spec
                                .and_then(|s| s.min_ready_seconds)
                                .unwrap_or(0);
                            if min_ready > 0
                                && !controller_utils::is_pod_ready(old)
                                && controller_utils::is_pod_ready(new)
                            {
                                // Check again once the pod may have become available.
                                self.queue.add_after(
                                    key.clone(),
                                    Duration::from_secs(min_ready as u64 + 1),
                                );
                            }
                            self.queue.add(key);
                        }
                    }
                    None => {
                        if old.metadata.labels != new.metadata.labels || old_ref.is_some() {
                            self.enqueue_matching(new);
                        }
                    }
                }
            }
            Event::Deleted(pod) => self.pod_deleted(pod),
        }
    }

    fn event(&self, obj: &K, type_: &str, reason: &str, note: String) {
        self.recorder.event(obj, type_, reason, note);
    }

    async fn sync(&self, key: &str) -> anyhow::Result<()> {
        let (ns, name) = split_key(key);
        let Some(obj) = self.owners.get(ns, name) else {
            self.expectations.delete(key);
            return Ok(());
        };
        let rs = obj.to_replica_set();
        let needs_sync = self.expectations.satisfied(key);
        let selector =
            match LabelSelector::from_optional_meta(rs.spec.as_ref().map(|s| &s.selector)) {
                Ok(s) => s,
                Err(e) => {
                    tracing::error!(key, error = %e.message(), "invalid selector");
                    return Ok(());
                }
            };
        let all: Vec<Arc<Pod>> = self
            .pods
            .list_namespace(ns)
            .into_iter()
            .filter(|p| is_pod_active(p))
            .collect();
        let owned = self.claim_pods(&obj, &rs, &selector, all).await?;
        let owned_refs: Vec<&Pod> = owned.iter().map(|p| p.as_ref()).collect();

        let mut manage_err = None;
        if needs_sync && rs.metadata.deletion_timestamp.is_none() {
            manage_err = self.manage_replicas(&obj, &rs, &owned_refs, key).await;
        }
        let now = jiff::Timestamp::now();
        let new_status = calculate_status(&rs, &owned_refs, manage_err.as_ref(), now);
        if status_changed(rs.status.as_ref(), &new_status) {
            let api: Api<K> = Api::namespaced(self.client.clone(), ns);
            api.patch_status(
                name,
                &PatchParams::default(),
                &Patch::Merge(K::status_body(&new_status)),
            )
            .await
            .with_context(|| format!("updating status of {} {key}", K::KIND))?;
        }
        if let Some(e) = manage_err {
            anyhow::bail!("{}: {}", e.reason, e.message);
        }
        let spec = rs.spec.clone().unwrap_or_default();
        let min_ready = spec.min_ready_seconds.unwrap_or(0);
        if min_ready > 0
            && new_status.ready_replicas == spec.replicas
            && new_status.available_replicas != spec.replicas
        {
            self.queue
                .add_after(key.to_string(), Duration::from_secs(min_ready as u64));
        }
        Ok(())
    }

    /// ClaimPods: keeps pods we control that still match, adopts matching orphans,
    /// releases ours that stopped matching.
    async fn claim_pods(
        &self,
        obj: &K,
        rs: &ReplicaSet,
        selector: &LabelSelector,
        pods: Vec<Arc<Pod>>,
    ) -> anyhow::Result<Vec<Arc<Pod>>> {
        let uid = rs.metadata.uid.clone().unwrap_or_default();
        let ns = rs.metadata.namespace.clone().unwrap_or_default();
        let api: Api<Pod> = Api::namespaced(self.client.clone(), &ns);
        let mut owned = Vec::new();
        let mut can_adopt: Option<bool> = None;
        for pod in pods {
            let labels = controller_utils::labels(&pod.metadata);
            let matches = selector.matches(&labels);
            let pod_name = pod.metadata.name.clone().unwrap_or_default();
            match controller_ref(&pod.metadata) {
                Some(r) if r.uid == uid => {
                    if matches {
                        owned.push(pod);
                    } else if rs.metadata.deletion_timestamp.is_none() {
                        let refs: Vec<OwnerReference> = pod
                            .metadata
                            .owner_references
                            .clone()
                            .unwrap_or_default()
                            .into_iter()
                            .filter(|r| r.uid != uid)
                            .collect();
                        let patch = serde_json::json!({"metadata": {
                            "ownerReferences": refs, "uid": pod.metadata.uid }});
                        if let Err(e) = api
                            .patch(&pod_name, &PatchParams::default(), &Patch::Merge(patch))
                            .await
                        {
                            if !is_not_found(&e) {
                                return Err(e).context(format!("releasing pod {ns}/{pod_name}"));
                            }
                        }
                    }
                }
                Some(_) => {}
                None => {
                    if !matches || rs.metadata.deletion_timestamp.is_some() {
                        continue;
                    }
                    if can_adopt.is_none() {
                        can_adopt = Some(self.recheck_owner(rs).await?);
                    }
                    if can_adopt != Some(true) {
                        continue;
                    }
                    let mut refs = pod.metadata.owner_references.clone().unwrap_or_default();
                    refs.push(new_controller_ref(obj.meta(), K::API_VERSION, K::KIND));
                    let patch = serde_json::json!({"metadata": {
                        "ownerReferences": refs, "uid": pod.metadata.uid }});
                    match api
                        .patch(&pod_name, &PatchParams::default(), &Patch::Merge(patch))
                        .await
                    {
                        Ok(p) => owned.push(Arc::new(p)),
                        Err(e) if is_not_found(&e) => {}
                        Err(e) => return Err(e).context(format!("adopting pod {ns}/{pod_name}")),
                    }
                }
            }
        }
        Ok(owned)
    }

    /// RecheckDeletionTimestamp: adopt only if the live owner is the same and not
    /// being deleted.
    async fn recheck_owner(&self, rs: &ReplicaSet) -> anyhow::Result<bool> {
        let ns = rs.metadata.namespace.clone().unwrap_or_default();
        let name = rs.metadata.name.clone().unwrap_or_default();
        let api: Api<K> = Api::namespaced(self.client.clone(), &ns);
        let fresh = api.get_opt(&name).await.context("rechecking owner")?;
        Ok(fresh.is_some_and(|f| {
            f.meta().uid == rs.metadata.uid && f.meta().deletion_timestamp.is_none()
        }))
    }

    /// Pods of every ReplicaSet sharing this one's controller (for ranking).
    fn related_pods(&self, rs: &ReplicaSet, own: &[&Pod]) -> Vec<Arc<Pod>> {
        let ns = rs.metadata.namespace.clone().unwrap_or_default();
        let Some(owner) = controller_ref(&rs.metadata) else {
            return own.iter().map(|p| Arc::new((*p).clone())).collect();
        };
        let siblings: std::collections::HashSet<String> = self
            .owners
            .list_namespace(&ns)
            .iter()
            .filter(|o| controller_ref(o.meta()).is_some_and(|r| r.uid == owner.uid))
            .filter_map(|o| o.meta().uid.clone())
            .collect();
        self.pods
            .list_namespace(&ns)
            .into_iter()
            .filter(|p| {
                is_pod_active(p)
                    && controller_ref(&p.metadata).is_some_and(|r| siblings.contains(&r.uid))
            })
            .collect()
    }

    async fn manage_replicas(
        &self,
        obj: &K,
        rs: &ReplicaSet,
        pods: &[&Pod],
        key: &str,
    ) -> Option<ManageError> {
        let spec = rs.spec.clone().unwrap_or_default();
        let want = spec.replicas.unwrap_or(1).max(0) as usize;
        let ns = rs.metadata.namespace.clone().unwrap_or_default();
        let name = rs.metadata.name.clone().unwrap_or_default();
        let api: Api<Pod> = Api::namespaced(self.client.clone(), &ns);
        if pods.len() < want {
            let diff = (want - pods.len()).min(BURST_REPLICAS);
            let template = spec.template.as_ref()?;
            self.expectations.expect_creations(key, diff);
            let owner_ref = new_controller_ref(obj.meta(), K::API_VERSION, K::KIND);
            let pod = pod_from_template(template, &ns, &name, owner_ref);
            let (ok, err) = slow_start_batch(diff, || {
                let api = api.clone();
                let pod = pod.clone();
                async move {
                    match api.create(&PostParams::default(), &pod).await {
                        Ok(created) => {
                            self.event(
                                obj,
                                NORMAL,
                                "SuccessfulCreate",
                                format!(
                                    "Created pod: {}",
                                    created.metadata.name.unwrap_or_default()
                                ),
                            );
                            Ok(())
                        }
                        Err(e) => {
                            self.event(
                                obj,
                                WARNING,
                                "FailedCreate",
                                format!("Error creating: {}", error_message(&e)),
                            );
                            Err(e)
                        }
                    }
                }
            })
            .await;
            for _ in ok..diff {
                self.expectations.creation_observed(key);
            }
            return err.map(|e| ManageError {
                reason: "FailedCreate",
                message: error_message(&e),
            });
        }
        if pods.len() > want {
            let diff = (pods.len() - want).min(BURST_REPLICAS);
            let related = self.related_pods(rs, pods);
            let related_refs: Vec<&Pod> = related.iter().map(|p| p.as_ref()).collect();
            let victims =
                controller_utils::pods_to_delete(pods, &related_refs, diff, jiff::Timestamp::now());
            let keys: Vec<String> = victims.iter().map(|p| meta_key(&p.metadata)).collect();
            self.expectations.expect_deletions(key, keys);
            let results = futures::future::join_all(victims.iter().map(|p| {
                let api = api.clone();
                async move {
                    let pod_name = p.metadata.name.clone().unwrap_or_default();
                    match api.delete(&pod_name, &DeleteParams::default()).await {
                        Ok(_) => {
                            self.event(
                                obj,
                                NORMAL,
                                "SuccessfulDelete",
                                format!("Deleted pod: {pod_name}"),
                            );
                            Ok(())
                        }
                        Err(e) => {
                            // It will never be observed as deleted by us.
                            self.expectations
                                .deletion_observed(key, &meta_key(&p.metadata));
                            if is_not_found(&e) {
                                return Ok(());
                            }
                            self.event(
                                obj,
                                WARNING,
                                "FailedDelete",
                                format!("Error deleting: {}", error_message(&e)),
                            );
                            Err(e)
                        }
                    }
                }
            }))
            .await;
            if let Some(Err(e)) = results.into_iter().find(|r| r.is_err()) {
                return Some(ManageError {
                    reason: "FailedDelete",
                    message: error_message(&e),
                });
            }
        }
        None
    }
}

pub(crate) fn is_not_found(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 404)
}

/// The apiserver's Status message, as upstream puts err.Error() in conditions.
pub(crate) fn error_message(e: &kube::Error) -> String {
    match e {
        kube::Error::Api(s) => s.message.clone(),
        other => other.to_string(),
    }
}
