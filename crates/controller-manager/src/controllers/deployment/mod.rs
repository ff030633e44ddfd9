//! The Deployment controller (pkg/controller/deployment): owns ReplicaSets named
//! `<deployment>-<pod-template-hash>`, rolls between them (RollingUpdate or Recreate),
//! keeps revision history, and reports the Progressing / Available conditions.

mod progress;
mod rolling;
mod util;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::sync::Arc;

use anyhow::Context as _;
use api_types::selectors::LabelSelector;
use k8s_openapi::api::apps::v1::{Deployment, DeploymentStatus, ReplicaSet, ReplicaSetSpec};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{
    LabelSelector as MetaSelector, ObjectMeta, OwnerReference,
};
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};

use crate::context::ControllerContext;
use crate::controller_utils::{controller_ref, meta_key, new_controller_ref, split_key};
use crate::controllers::replicaset::{error_message, is_not_found};
use crate::informers::{Event, Informer};
use crate::record::{EventRecorder, NORMAL, WARNING};
use crate::workqueue::{run_workers, WorkQueue};

use util::*;
pub use util::{compute_hash, resolve_fenceposts, safe_encode_string};

struct Controller {
    client: kube::Client,
    deployments: Informer<Deployment>,
    replicasets: Informer<ReplicaSet>,
    pods: Informer<Pod>,
    queue: WorkQueue<String>,
    recorder: Arc<EventRecorder>,
}

pub async fn run(ctx: Arc<ControllerContext>) -> anyhow::Result<()> {
    let c = Arc::new(Controller {
        client: ctx.client.clone(),
        deployments: ctx.informers().get::<Deployment>(),
        replicasets: ctx.informers().get::<ReplicaSet>(),
        pods: ctx.informers().get::<Pod>(),
        queue: ctx.queue("deployment"),
        recorder: EventRecorder::new(ctx.client.clone(), "deployment-controller"),
    });
    {
        let c2 = c.clone();
        c.deployments.add_handler(move |ev| match ev {
            Event::Added(d) | Event::Updated { new: d, .. } | Event::Deleted(d) => {
                c2.queue.add(meta_key(&d.metadata))
            }
        });
        let c2 = c.clone();
        c.replicasets.add_handler(move |ev| c2.on_replica_set(ev));
        let c2 = c.clone();
        c.pods.add_handler(move |ev| {
            if let Event::Deleted(p) = ev {
                c2.on_pod_deleted(p)
            }
        });
    }
    c.deployments.wait_synced().await;
    c.replicasets.wait_synced().await;
    c.pods.wait_synced().await;
    let queue = c.queue.clone();
    let sync = {
        let c = c.clone();
        move |key: String| {
            let c = c.clone();
            async move { c.sync(&key).await }
        }
    };
    let workers = tokio::spawn(run_workers(
        queue.clone(),
        ctx.options.concurrent_deployment_syncs,
        sync,
    ));
    ctx.stopped().await;
    queue.shut_down();
    let _ = workers.await;
    Ok(())
}

fn selector_of(d: &Deployment) -> Option<LabelSelector> {
    LabelSelector::from_optional_meta(d.spec.as_ref().map(|s| &s.selector)).ok()
}

impl Controller {
    fn owner_of(&self, ns: &str, r: &OwnerReference) -> Option<Arc<Deployment>> {
        if r.kind != "Deployment" || !r.api_version.starts_with("apps/") {
            return None;
        }
        let d = self.deployments.get(ns, &r.name)?;
        (d.metadata.uid.as_deref() == Some(r.uid.as_str())).then_some(d)
    }

    fn on_replica_set(&self, ev: &Event<ReplicaSet>) {
        let (old, rs) = match ev {
            Event::Added(rs) | Event::Deleted(rs) => (None, rs),
            Event::Updated { old, new } => (Some(old), new),
        };
        let ns = rs.metadata.namespace.clone().unwrap_or_default();
        if let Some(old_ref) = old.and_then(|o| controller_ref(&o.metadata)) {
            if let Some(d) = self.owner_of(&ns, old_ref) {
                self.queue.add(meta_key(&d.metadata));
            }
        }
        match controller_ref(&rs.metadata) {
            Some(r) => {
                if let Some(d) = self.owner_of(&ns, r) {
                    self.queue.add(meta_key(&d.metadata));
                }
            }
            None if !matches!(ev, Event::Deleted(_)) => {
                let labels = rs.metadata.labels.clone().unwrap_or_default();
                for d in self.deployments.list_namespace(&ns) {
                    if selector_of(&d).is_some_and(|s| s.matches(&labels)) {
                        self.queue.add(meta_key(&d.metadata));
                    }
                }
            }
            None => {}
        }
    }

    /// Recreate waits for old pods to go; a deleted pod may unblock it.
    fn on_pod_deleted(&self, pod: &Pod) {
        let ns = pod.metadata.namespace.clone().unwrap_or_default();
        let Some(r) = controller_ref(&pod.metadata) else {
            return;
        };
        if r.kind != "ReplicaSet" {
            return;
        }
        let Some(rs) = self.replicasets.get(&ns, &r.name) else {
            return;
        };
        if let Some(d) = controller_ref(&rs.metadata).and_then(|r| self.owner_of(&ns, r)) {
            if strategy_type(&d) == "Recreate" {
                self.queue.add(meta_key(&d.metadata));
            }
        }
    }

    fn event(&self, d: &Deployment, type_: &str, reason: &str, note: String) {
        self.recorder.event(d, type_, reason, note);
    }

    async fn sync(&self, key: &str) -> anyhow::Result<()> {
        let (ns, name) = split_key(key);
        let Some(d) = self.deployments.get(ns, name) else {
            return Ok(());
        };
        let mut d = (*d).clone();
        let now = jiff::Timestamp::now();
        let selector_is_empty = d
            .spec
            .as_ref()
            .is_some_and(|s| s.selector == MetaSelector::default());
        if selector_is_empty {
            self.event(
                &d,
                WARNING,
                "SelectingAll",
                "This deployment is selecting all pods. A non-empty selector is required.".into(),
            );
            let mut st = d.status.clone().unwrap_or_default();
            if st.observed_generation < d.metadata.generation {
                st.observed_generation = d.metadata.generation;
                self.update_status(&d, &st).await?;
            }
            return Ok(());
        }
        let Some(selector) = selector_of(&d) else {
            return Ok(());
        };
        let rs_list = self.claim_replica_sets(&d, &selector).await?;
        if d.metadata.deletion_timestamp.is_some() {
            return self.sync_status_only(&mut d, rs_list, now).await;
        }
        if let Some(st) = progress::paused_condition(&d, now) {
            d.status = Some(self.update_status(&d, &st).await?);
        }
        if d.spec.as_ref().and_then(|s| s.paused).unwrap_or(false) {
            return self.sync_scale(&mut d, rs_list, true, now).await;
        }
        if self.is_scaling_event(&d, &rs_list) {
            return self.sync_scale(&mut d, rs_list, false, now).await;
        }
        if strategy_type(&d) == "Recreate" {
            self.rollout_recreate(&mut d, rs_list, now).await
        } else {
            self.rollout_rolling(&mut d, rs_list, now).await
        }
    }

    /// getReplicaSetsForDeployment: ours that match, adopting matching orphans and
    /// releasing ours that stopped matching.
    async fn claim_replica_sets(
        &self,
        d: &Deployment,
        selector: &LabelSelector,
    ) -> anyhow::Result<Vec<ReplicaSet>> {
        let ns = d.metadata.namespace.clone().unwrap_or_default();
        let uid = d.metadata.uid.clone().unwrap_or_default();
        let api: Api<ReplicaSet> = Api::namespaced(self.client.clone(), &ns);
        let mut out = Vec::new();
        for rs in self.replicasets.list_namespace(&ns) {
            let labels = rs.metadata.labels.clone().unwrap_or_default();
            let matches = selector.matches(&labels);
            let name = rs.metadata.name.clone().unwrap_or_default();
            match controller_ref(&rs.metadata) {
                Some(r) if r.uid == uid => {
                    if matches {
                        out.push((*rs).clone());
                    } else if d.metadata.deletion_timestamp.is_none() {
                        let refs: Vec<OwnerReference> = rs
                            .metadata
                            .owner_references
                            .clone()
                            .unwrap_or_default()
                            .into_iter()
                            .filter(|r| r.uid != uid)
                            .collect();
                        let patch = serde_json::json!({"metadata": {"ownerReferences": refs, "uid": rs.metadata.uid}});
                        if let Err(e) = api
                            .patch(&name, &PatchParams::default(), &Patch::Merge(patch))
                            .await
                        {
                            if !is_not_found(&e) {
                                return Err(e).context(format!("releasing ReplicaSet {ns}/{name}"));
                            }
                        }
                    }
                }
                Some(_) => {}
                None if matches && d.metadata.deletion_timestamp.is_none() => {
                    let mut refs = rs.metadata.owner_references.clone().unwrap_or_default();
                    refs.push(new_controller_ref(&d.metadata, "apps/v1", "Deployment"));
                    let patch = serde_json::json!({"metadata": {"ownerReferences": refs, "uid": rs.metadata.uid}});
                    match api
                        .patch(&name, &PatchParams::default(), &Patch::Merge(patch))
                        .await
                    {
                        Ok(adopted) => out.push(adopted),
                        Err(e) if is_not_found(&e) => {}
                        Err(e) => {
                            return Err(e).context(format!("adopting ReplicaSet {ns}/{name}"))
                        }
                    }
                }
                None => {}
            }
        }
        Ok(out)
    }

    async fn update_status(
        &self,
        d: &Deployment,
        status: &DeploymentStatus,
    ) -> anyhow::Result<DeploymentStatus> {
        let ns = d.metadata.namespace.clone().unwrap_or_default();
        let name = d.metadata.name.clone().unwrap_or_default();
        let api: Api<Deployment> = Api::namespaced(self.client.clone(), &ns);
        let mut body = serde_json::to_value(status).context("encoding status")?;
        if let Some(o) = body.as_object_mut() {
            o.entry("conditions").or_insert(serde_json::Value::Null);
        }
        api.patch_status(
            &name,
            &PatchParams::default(),
            &Patch::Merge(serde_json::json!({ "status": body })),
        )
        .await
        .with_context(|| format!("updating status of Deployment {ns}/{name}"))?;
        Ok(status.clone())
    }

    /// Old ReplicaSets and the new one (FindNewReplicaSet), oldest first.
    fn split(
        &self,
        d: &Deployment,
        mut rs_list: Vec<ReplicaSet>,
    ) -> (Vec<ReplicaSet>, Option<ReplicaSet>) {
        rolling::sort_by_creation(&mut rs_list);
        let template = d
            .spec
            .as_ref()
            .map(|s| s.template.clone())
            .unwrap_or_default();
        let new_idx = rs_list.iter().position(|rs| {
            rs.spec
                .as_ref()
                .and_then(|s| s.template.as_ref())
                .is_some_and(|t| equal_ignore_hash(t, &template))
        });
        let new = new_idx.map(|i| rs_list.remove(i));
        (rs_list, new)
    }

    fn is_scaling_event(&self, d: &Deployment, rs_list: &[ReplicaSet]) -> bool {
        rs_list.iter().filter(|rs| rs_replicas(rs) > 0).any(|rs| {
            annotation_i32(rs, DESIRED_REPLICAS_ANNOTATION).is_some_and(|v| v != replicas(d))
        })
    }

    /// getNewReplicaSet: updates the existing new ReplicaSet's annotations or creates it.
    async fn new_replica_set(
        &self,
        d: &mut Deployment,
        old: &[ReplicaSet],
        existing: Option<ReplicaSet>,
        create: bool,
        now: jiff::Timestamp,
    ) -> anyhow::Result<Option<ReplicaSet>> {
        let ns = d.metadata.namespace.clone().unwrap_or_default();
        let api: Api<ReplicaSet> = Api::namespaced(self.client.clone(), &ns);
        let old_refs: Vec<&ReplicaSet> = old.iter().collect();
        let new_revision = max_revision(&old_refs) + 1;
        let min_ready = d.spec.as_ref().and_then(|s| s.min_ready_seconds);
        if let Some(mut rs) = existing {
            let annotations_changed =
                set_new_replica_set_annotations(d, &mut rs, new_revision, true);
            let min_ready_changed = rs.spec.as_ref().and_then(|s| s.min_ready_seconds) != min_ready;
            if annotations_changed || min_ready_changed {
                let name = rs.metadata.name.clone().unwrap_or_default();
                let patch = serde_json::json!({
                    "metadata": {"annotations": rs.metadata.annotations},
                    "spec": {"minReadySeconds": min_ready},
                });
                rs = api
                    .patch(&name, &PatchParams::default(), &Patch::Merge(patch))
                    .await
                    .with_context(|| format!("updating ReplicaSet {ns}/{name}"))?;
            }
            let rev = rs
                .metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get(REVISION_ANNOTATION))
                .cloned()
                .unwrap_or_default();
            self.set_deployment_revision(d, &rev).await?;
            let mut st = d.status.clone().unwrap_or_default();
            if progress_deadline(d).is_some() && get_condition(&st, PROGRESSING).is_none() {
                let msg = format!(
                    "Found new replica set {:?}",
                    rs.metadata.name.clone().unwrap_or_default()
                );
                set_condition(
                    &mut st,
                    new_condition(PROGRESSING, "True", FOUND_NEW_RS_REASON, msg, now),
                );
                d.status = Some(self.update_status(d, &st).await?);
            }
            return Ok(Some(rs));
        }
        if !create {
            return Ok(None);
        }
        let spec = d.spec.clone().unwrap_or_default();
        let collision = d.status.as_ref().and_then(|s| s.collision_count);
        let hash = compute_hash(&spec.template, collision);
        let mut template = spec.template.clone();
        let tm = template.metadata.get_or_insert_with(Default::default);
        tm.labels
            .get_or_insert_with(BTreeMap::new)
            .insert(DEFAULT_DEPLOYMENT_UNIQUE_LABEL_KEY.into(), hash.clone());
        let mut selector = spec.selector.clone();
        selector
            .match_labels
            .get_or_insert_with(BTreeMap::new)
            .insert(DEFAULT_DEPLOYMENT_UNIQUE_LABEL_KEY.into(), hash.clone());
        let dname = d.metadata.name.clone().unwrap_or_default();
        let mut rs = ReplicaSet {
            metadata: ObjectMeta {
                name: Some(format!("{dname}-{hash}")),
                namespace: Some(ns.clone()),
                owner_references: Some(vec![new_controller_ref(
                    &d.metadata,
                    "apps/v1",
                    "Deployment",
                )]),
                labels: tm.labels.clone(),
                ..Default::default()
            },
            spec: Some(ReplicaSetSpec {
                replicas: Some(0),
                min_ready_seconds: min_ready,
                selector,
                template: Some(template),
            }),
            status: None,
        };
        let mut all: Vec<&ReplicaSet> = old.iter().collect();
        all.push(&rs);
        let n = new_rs_new_replicas(d, &all, &rs);
        if let Some(s) = rs.spec.as_mut() {
            s.replicas = Some(n);
        }
        set_new_replica_set_annotations(d, &mut rs, new_revision, false);
        let (created, already) = match api.create(&PostParams::default(), &rs).await {
            Ok(c) => (c, false),
            Err(kube::Error::Api(s)) if s.code == 409 => {
                let name = rs.metadata.name.clone().unwrap_or_default();
                let existing = api
                    .get(&name)
                    .await
                    .context("reading the existing ReplicaSet")?;
                let ours = controller_ref(&existing.metadata)
                    .is_some_and(|r| Some(&r.uid) == d.metadata.uid.as_ref());
                let same = existing
                    .spec
                    .as_ref()
                    .and_then(|s| s.template.as_ref())
                    .is_some_and(|t| equal_ignore_hash(t, &spec.template));
                if ours && same {
                    (existing, true)
                } else {
                    // A hash collision: bump collisionCount so the next hash differs.
                    let mut st = d.status.clone().unwrap_or_default();
                    st.collision_count = Some(st.collision_count.unwrap_or(0) + 1);
                    self.update_status(d, &st).await?;
                    anyhow::bail!(
                        "hash collision for ReplicaSet {ns}/{name}; collisionCount bumped"
                    );
                }
            }
            Err(e) => {
                let msg = format!(
                    "Failed to create new replica set {:?}: {}",
                    rs.metadata.name.clone().unwrap_or_default(),
                    error_message(&e)
                );
                if progress_deadline(d).is_some() {
                    let mut st = d.status.clone().unwrap_or_default();
                    set_condition(
                        &mut st,
                        new_condition(
                            PROGRESSING,
                            "False",
                            FAILED_RS_CREATE_REASON,
                            msg.clone(),
                            now,
                        ),
                    );
                    self.update_status(d, &st).await?;
                }
                self.event(d, WARNING, FAILED_RS_CREATE_REASON, msg.clone());
                anyhow::bail!(msg);
            }
        };
        let cname = created.metadata.name.clone().unwrap_or_default();
        if !already && n > 0 {
            self.event(
                d,
                NORMAL,
                "ScalingReplicaSet",
                format!("Scaled up replica set {cname} from 0 to {n}"),
            );
        }
        self.set_deployment_revision(d, &new_revision.to_string())
            .await?;
        if !already && progress_deadline(d).is_some() {
            let mut st = d.status.clone().unwrap_or_default();
            set_condition(
                &mut st,
                new_condition(
                    PROGRESSING,
                    "True",
                    NEW_RS_REASON,
                    format!("Created new replica set {cname:?}"),
                    now,
                ),
            );
            d.status = Some(self.update_status(d, &st).await?);
        }
        Ok(Some(created))
    }

    /// SetDeploymentRevision, written as a metadata patch.
    async fn set_deployment_revision(&self, d: &mut Deployment, rev: &str) -> anyhow::Result<()> {
        let cur = d
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(REVISION_ANNOTATION));
        if rev.is_empty() || cur.map(String::as_str) == Some(rev) {
            return Ok(());
        }
        let ns = d.metadata.namespace.clone().unwrap_or_default();
        let name = d.metadata.name.clone().unwrap_or_default();
        let api: Api<Deployment> = Api::namespaced(self.client.clone(), &ns);
        let patch = serde_json::json!({"metadata": {"annotations": {REVISION_ANNOTATION: rev}}});
        api.patch(&name, &PatchParams::default(), &Patch::Merge(patch))
            .await
            .with_context(|| format!("setting the revision of Deployment {ns}/{name}"))?;
        d.metadata
            .annotations
            .get_or_insert_with(BTreeMap::new)
            .insert(REVISION_ANNOTATION.into(), rev.to_string());
        Ok(())
    }

    /// scaleReplicaSetAndRecordEvent (also refreshing desired/max annotations).
    async fn scale_rs(&self, d: &Deployment, rs: &mut ReplicaSet, to: i32) -> anyhow::Result<bool> {
        let from = rs_replicas(rs);
        let size_changed = from != to;
        let annotations_changed =
            set_replicas_annotations(rs, replicas(d), replicas(d) + max_surge(d));
        if !size_changed && !annotations_changed {
            return Ok(false);
        }
        let ns = rs.metadata.namespace.clone().unwrap_or_default();
        let name = rs.metadata.name.clone().unwrap_or_default();
        let api: Api<ReplicaSet> = Api::namespaced(self.client.clone(), &ns);
        let patch = serde_json::json!({
            "metadata": {"annotations": {
                DESIRED_REPLICAS_ANNOTATION: replicas(d).to_string(),
                MAX_REPLICAS_ANNOTATION: (replicas(d) + max_surge(d)).to_string(),
            }},
            "spec": {"replicas": to},
        });
        *rs = api
            .patch(&name, &PatchParams::default(), &Patch::Merge(patch))
            .await
            .with_context(|| format!("scaling ReplicaSet {ns}/{name} to {to}"))?;
        if size_changed {
            let op = if from < to { "up" } else { "down" };
            self.event(
                d,
                NORMAL,
                "ScalingReplicaSet",
                format!("Scaled {op} replica set {name} from {from} to {to}"),
            );
        }
        Ok(size_changed)
    }

    async fn sync_status_only(
        &self,
        d: &mut Deployment,
        rs_list: Vec<ReplicaSet>,
        now: jiff::Timestamp,
    ) -> anyhow::Result<()> {
        let (old, new) = self.split(d, rs_list);
        let mut all: Vec<&ReplicaSet> = old.iter().collect();
        all.extend(new.as_ref());
        let st = calculate_status(d, &all, new.as_ref(), now);
        if d.status.as_ref() != Some(&st) {
            self.update_status(d, &st).await?;
        }
        Ok(())
    }

    /// sync(): scaling events and paused Deployments.
    async fn sync_scale(
        &self,
        d: &mut Deployment,
        rs_list: Vec<ReplicaSet>,
        paused: bool,
        now: jiff::Timestamp,
    ) -> anyhow::Result<()> {
        let (old, new) = self.split(d, rs_list);
        let new = self.new_replica_set(d, &old, new, false, now).await?;
        let mut all: Vec<ReplicaSet> = old;
        let new_idx = new.map(|n| {
            all.push(n);
            all.len() - 1
        });
        let sizes = rolling::scale(d, &all, new_idx);
        for (rs, size) in all.iter_mut().zip(sizes) {
            if size != rs_replicas(rs) {
                self.scale_rs(d, rs, size).await?;
            }
        }
        if paused {
            self.cleanup(d, &all, new_idx).await?;
        }
        let refs: Vec<&ReplicaSet> = all.iter().collect();
        let st = calculate_status(d, &refs, new_idx.map(|i| &all[i]), now);
        if d.status.as_ref() != Some(&st) {
            self.update_status(d, &st).await?;
        }
        Ok(())
    }

    async fn cleanup(
        &self,
        d: &Deployment,
        all: &[ReplicaSet],
        new_idx: Option<usize>,
    ) -> anyhow::Result<()> {
        let old: Vec<&ReplicaSet> = all
            .iter()
            .enumerate()
            .filter(|(i, _)| Some(*i) != new_idx)
            .map(|(_, rs)| rs)
            .collect();
        for rs in rolling::history_to_delete(d, &old) {
            let ns = rs.metadata.namespace.clone().unwrap_or_default();
            let name = rs.metadata.name.clone().unwrap_or_default();
            let api: Api<ReplicaSet> = Api::namespaced(self.client.clone(), &ns);
            if let Err(e) = api.delete(&name, &DeleteParams::default()).await {
                if !is_not_found(&e) {
                    return Err(e).with_context(|| format!("deleting old ReplicaSet {ns}/{name}"));
                }
            }
        }
        Ok(())
    }

    async fn sync_rollout_status(
        &self,
        d: &Deployment,
        all: &[ReplicaSet],
        new_idx: Option<usize>,
        now: jiff::Timestamp,
    ) -> anyhow::Result<()> {
        let refs: Vec<&ReplicaSet> = all.iter().collect();
        let (st, requeue) = progress::rollout_status(d, &refs, new_idx.map(|i| &all[i]), now);
        if d.status.as_ref() != Some(&st) {
            self.update_status(d, &st).await?;
        } else if let Some(after) = requeue {
            self.queue.add_after(meta_key(&d.metadata), after);
        }
        Ok(())
    }

    async fn rollout_rolling(
        &self,
        d: &mut Deployment,
        rs_list: Vec<ReplicaSet>,
        now: jiff::Timestamp,
    ) -> anyhow::Result<()> {
        let (old, new) = self.split(d, rs_list);
        let Some(mut new_rs) = self.new_replica_set(d, &old, new, true, now).await? else {
            return Ok(());
        };
        let mut old = old;
        let mut all_refs: Vec<&ReplicaSet> = old.iter().collect();
        all_refs.push(&new_rs);
        if let Some(to) = rolling::reconcile_new(d, &all_refs, &new_rs) {
            self.scale_rs(d, &mut new_rs, to).await?;
            let all = join(old, new_rs);
            return self.sync_rollout_status(d, &all.0, Some(all.1), now).await;
        }
        let before: Vec<i32> = old.iter().map(rs_replicas).collect();
        let mut planned = old.clone();
        if rolling::reconcile_old(d, &mut planned, Some(&new_rs)) {
            for rs in old.iter_mut() {
                let want = planned
                    .iter()
                    .find(|p| p.metadata.uid == rs.metadata.uid)
                    .map(rs_replicas)
                    .unwrap_or_else(|| rs_replicas(rs));
                if want != rs_replicas(rs) {
                    self.scale_rs(d, rs, want).await?;
                }
            }
            if before != old.iter().map(rs_replicas).collect::<Vec<_>>() {
                let all = join(old, new_rs);
                return self.sync_rollout_status(d, &all.0, Some(all.1), now).await;
            }
        }
        let (all, idx) = join(old, new_rs);
        let refs: Vec<&ReplicaSet> = all.iter().collect();
        let st = calculate_status(d, &refs, Some(&all[idx]), now);
        if deployment_complete(d, &st) {
            self.cleanup(d, &all, Some(idx)).await?;
        }
        self.sync_rollout_status(d, &all, Some(idx), now).await
    }

    async fn rollout_recreate(
        &self,
        d: &mut Deployment,
        rs_list: Vec<ReplicaSet>,
        now: jiff::Timestamp,
    ) -> anyhow::Result<()> {
        let (mut old, new) = self.split(d, rs_list);
        let new = self.new_replica_set(d, &old, new, false, now).await?;
        let mut scaled_down = false;
        for rs in old.iter_mut().filter(|rs| rs_replicas(rs) > 0) {
            scaled_down |= self.scale_rs(d, rs, 0).await?;
        }
        if scaled_down {
            let (all, idx) = join_opt(old, new);
            return self.sync_rollout_status(d, &all, idx, now).await;
        }
        // oldPodsRunning: wait until the old ReplicaSets' pods are gone.
        let ns = d.metadata.namespace.clone().unwrap_or_default();
        let old_uids: Vec<String> = old
            .iter()
            .filter_map(|rs| rs.metadata.uid.clone())
            .collect();
        let old_status: i32 = old
            .iter()
            .map(|rs| rs.status.as_ref().map(|s| s.replicas).unwrap_or(0))
            .sum();
        let running = old_status > 0
            || self.pods.list_namespace(&ns).iter().any(|p| {
                controller_ref(&p.metadata).is_some_and(|r| old_uids.contains(&r.uid))
                    && !matches!(
                        crate::controller_utils::pod_phase(p),
                        "Succeeded" | "Failed"
                    )
            });
        if running {
            let (all, idx) = join_opt(old, new);
            return self.sync_rollout_status(d, &all, idx, now).await;
        }
        let new = match new {
            Some(n) => n,
            None => match self.new_replica_set(d, &old, None, true, now).await? {
                Some(n) => n,
                None => return Ok(()),
            },
        };
        let mut new = new;
        self.scale_rs(d, &mut new, replicas(d)).await?;
        let (all, idx) = join(old, new);
        let refs: Vec<&ReplicaSet> = all.iter().collect();
        let st = calculate_status(d, &refs, Some(&all[idx]), now);
        if deployment_complete(d, &st) {
            self.cleanup(d, &all, Some(idx)).await?;
        }
        self.sync_rollout_status(d, &all, Some(idx), now).await
    }
}

fn join(mut old: Vec<ReplicaSet>, new: ReplicaSet) -> (Vec<ReplicaSet>, usize) {
    old.push(new);
    let idx = old.len() - 1;
    (old, idx)
}

fn join_opt(old: Vec<ReplicaSet>, new: Option<ReplicaSet>) -> (Vec<ReplicaSet>, Option<usize>) {
    match new {
        Some(n) => {
            let (all, i) = join(old, n);
            (all, Some(i))
        }
        None => (old, None),
    }
}
