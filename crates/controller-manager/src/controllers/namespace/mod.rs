//! The namespace controller (upstream pkg/controller/namespace): when a namespace is
//! deleted and still carries the `kubernetes` finalizer, it discovers every namespaced
//! resource, deletes everything inside the namespace, reports progress in the
//! NamespaceDeletion* / Namespace*Remaining conditions, and once the namespace is empty
//! removes the finalizer through the `finalize` subresource so the apiserver deletes it.

pub mod conditions;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::APIResource;
use kube::api::{Api, DeleteParams, DynamicObject, ListParams, PostParams};
use kube::core::{ApiResource, GroupVersionKind};
use kube::runtime::watcher;

use super::endpointslice::informer::{is_not_found, Change, Informer};
use crate::context::ControllerContext;
use crate::workqueue::{run_workers, WorkQueue};
use conditions::DeletionOutcome;

/// The spec finalizer this controller is responsible for.
pub const FINALIZER_KUBERNETES: &str = "kubernetes";

/// Default pod grace period when a remaining pod does not say.
const DEFAULT_GRACE_SECONDS: i64 = 30;

pub async fn run(ctx: Arc<ControllerContext>) -> anyhow::Result<()> {
    let client = ctx.client.clone();
    let queue: WorkQueue<String> = ctx.queue("namespace");
    let q = queue.clone();
    let namespaces = Informer::start(
        Api::<Namespace>::all(client.clone()),
        watcher::Config::default(),
        move |c| {
            if let Change::Applied(ns) = c {
                if ns.metadata.deletion_timestamp.is_some() {
                    if let Some(name) = &ns.metadata.name {
                        q.add(name.clone());
                    }
                }
            }
        },
    );
    namespaces.synced().await?;
    let workers = ctx.options.concurrent_namespace_syncs;
    let q = queue.clone();
    tokio::select! {
        _ = run_workers(queue.clone(), workers, move |name: String| {
            let client = client.clone();
            let q = q.clone();
            async move { sync(&client, &q, &name).await }
        }) => {}
        _ = ctx.stopped() => queue.shut_down(),
    }
    Ok(())
}

fn has_kubernetes_finalizer(ns: &Namespace) -> bool {
    ns.spec
        .as_ref()
        .and_then(|s| s.finalizers.as_ref())
        .is_some_and(|f| f.iter().any(|f| f == FINALIZER_KUBERNETES))
}

async fn sync(client: &kube::Client, queue: &WorkQueue<String>, name: &str) -> anyhow::Result<()> {
    let api: Api<Namespace> = Api::all(client.clone());
    let ns = match api.get(name).await {
        Ok(ns) => ns,
        Err(e) if is_not_found(&e) => return Ok(()),
        Err(e) => return Err(e).with_context(|| format!("getting namespace {name}")),
    };
    if ns.metadata.deletion_timestamp.is_none() || !has_kubernetes_finalizer(&ns) {
        return Ok(());
    }
    let outcome = delete_all_content(client, name).await;
    let mut updated = ns.clone();
    let status = updated.status.get_or_insert_with(Default::default);
    let conds = status.conditions.get_or_insert_with(Vec::new);
    if conditions::update_conditions(conds, &outcome, k8s_openapi::jiff::Timestamp::now()) {
        match api
            .replace_status(name, &PostParams::default(), &updated)
            .await
        {
            Ok(n) => updated = n,
            Err(e) if is_not_found(&e) => return Ok(()),
            Err(e) => {
                return Err(e).with_context(|| format!("updating the status of namespace {name}"))
            }
        }
    }
    if !outcome.content_errors.is_empty() || !outcome.discovery_failures.is_empty() {
        anyhow::bail!(
            "deleting the content of namespace {name}: {}",
            outcome
                .content_errors
                .iter()
                .chain(outcome.discovery_failures.values())
                .cloned()
                .collect::<Vec<_>>()
                .join("; ")
        );
    }
    if !outcome.is_complete() {
        // upstream: requeue after estimate/2 + 1 seconds.
        let secs = u64::try_from(outcome.estimate_seconds / 2 + 1).unwrap_or(1);
        tracing::debug!(
            namespace = name,
            after = secs,
            "content remaining, requeuing"
        );
        queue.add_after(name.to_string(), Duration::from_secs(secs));
        return Ok(());
    }
    finalize(&api, updated).await
}

/// Removes the `kubernetes` finalizer through namespaces/{name}/finalize.
async fn finalize(api: &Api<Namespace>, mut ns: Namespace) -> anyhow::Result<()> {
    let name = ns.metadata.name.clone().unwrap_or_default();
    if let Some(f) = ns.spec.as_mut().and_then(|s| s.finalizers.as_mut()) {
        f.retain(|f| f != FINALIZER_KUBERNETES);
    }
    match api
        .replace_subresource("finalize", &name, &PostParams::default(), &ns)
        .await
    {
        Ok(_) => {
            tracing::info!(namespace = %name, "namespace finalized");
            Ok(())
        }
        Err(e) if is_not_found(&e) => Ok(()),
        Err(e) => Err(e).with_context(|| format!("finalizing namespace {name}")),
    }
}

/// A namespaced resource that can be deleted.
struct Deletable {
    resource: ApiResource,
    deletecollection: bool,
    list: bool,
}

/// Discovers the preferred version of every group and the namespaced, deletable
/// resources in it; failures are reported per group version.
async fn discover(client: &kube::Client, outcome: &mut DeletionOutcome) -> Vec<Deletable> {
    let mut group_versions: Vec<(String, String)> = Vec::new();
    match client.list_core_api_versions().await {
        Ok(v) => group_versions.extend(v.versions.into_iter().map(|v| (String::new(), v))),
        Err(e) => {
            outcome
                .discovery_failures
                .insert("v1".to_string(), e.to_string());
        }
    }
    match client.list_api_groups().await {
        Ok(groups) => {
            for g in groups.groups {
                let version = g
                    .preferred_version
                    .map(|v| v.version)
                    .or_else(|| g.versions.first().map(|v| v.version.clone()));
                match version {
                    Some(v) => group_versions.push((g.name, v)),
                    None => outcome
                        .gv_parsing_failures
                        .push(format!("group {} lists no versions", g.name)),
                }
            }
        }
        Err(e) => {
            outcome
                .discovery_failures
                .insert("apis".to_string(), e.to_string());
        }
    }
    let mut out = Vec::new();
    for (group, version) in group_versions {
        let gv = if group.is_empty() {
            version.clone()
        } else {
            format!("{group}/{version}")
        };
        let list = if group.is_empty() {
            client.list_core_api_resources(&version).await
        } else {
            client.list_api_group_resources(&gv).await
        };
        let resources = match list {
            Ok(l) => l.resources,
            Err(e) => {
                outcome.discovery_failures.insert(gv, e.to_string());
                continue;
            }
        };
        out.extend(
            resources
                .iter()
                .filter_map(|r| deletable(&group, &version, r)),
        );
    }
    out
}

/// A discovered resource worth deleting: namespaced, not a subresource, with delete.
fn deletable(group: &str, version: &str, r: &APIResource) -> Option<Deletable> {
    let has = |verb: &str| r.verbs.iter().any(|v| v == verb);
    if !r.namespaced || r.name.contains('/') || !(has("delete") || has("deletecollection")) {
        return None;
    }
    let gvk = GroupVersionKind::gvk(group, version, &r.kind);
    Some(Deletable {
        resource: ApiResource::from_gvk_with_plural(&gvk, &r.name),
        deletecollection: has("deletecollection"),
        list: has("list"),
    })
}

/// One pass over every resource in the namespace: delete, then count what is left.
async fn delete_all_content(client: &kube::Client, namespace: &str) -> DeletionOutcome {
    let mut outcome = DeletionOutcome::default();
    let resources = discover(client, &mut outcome).await;
    for d in resources {
        let label = format!("{}.{}", d.resource.plural, d.resource.group);
        let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), namespace, &d.resource);
        if d.deletecollection {
            if let Err(e) = api
                .delete_collection(&DeleteParams::background(), &ListParams::default())
                .await
            {
                if !is_not_found(&e) {
                    outcome.content_errors.push(format!("{label}: {e}"));
                    continue;
                }
            }
        }
        if !d.list {
            continue;
        }
        let items = match api.list(&ListParams::default()).await {
            Ok(l) => l.items,
            Err(e) if is_not_found(&e) => Vec::new(),
            Err(e) => {
                outcome.content_errors.push(format!("{label}: {e}"));
                continue;
            }
        };
        if !d.deletecollection {
            for item in items
                .iter()
                .filter(|i| i.metadata.deletion_timestamp.is_none())
            {
                let name = item.metadata.name.clone().unwrap_or_default();
                match api.delete(&name, &DeleteParams::background()).await {
                    Ok(_) => {}
                    Err(e) if is_not_found(&e) => {}
                    Err(e) => outcome.content_errors.push(format!("{label}: {e}")),
                }
            }
        }
        if items.is_empty() {
            continue;
        }
        outcome.remaining.insert(label, items.len());
        for item in &items {
            for f in item.metadata.finalizers.iter().flatten() {
                *outcome.finalizers.entry(f.clone()).or_default() += 1;
            }
            if d.resource.plural == "pods" && d.resource.group.is_empty() {
                outcome.estimate_seconds = outcome.estimate_seconds.max(pod_grace_seconds(item));
            }
        }
    }
    outcome
}

/// A remaining pod's grace period (metadata.deletionGracePeriodSeconds, else
/// spec.terminationGracePeriodSeconds, else 30).
fn pod_grace_seconds(pod: &DynamicObject) -> i64 {
    pod.metadata
        .deletion_grace_period_seconds
        .or_else(|| {
            pod.data
                .get("spec")
                .and_then(|s| s.get("terminationGracePeriodSeconds"))
                .and_then(|v| v.as_i64())
        })
        .unwrap_or(DEFAULT_GRACE_SECONDS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res(name: &str, namespaced: bool, verbs: &[&str]) -> APIResource {
        APIResource {
            name: name.into(),
            kind: "Thing".into(),
            namespaced,
            verbs: verbs.iter().map(|v| v.to_string()).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn only_namespaced_deletable_top_level_resources_are_deleted() {
        assert!(deletable(
            "",
            "v1",
            &res("pods", true, &["list", "delete", "deletecollection"])
        )
        .is_some());
        assert!(deletable("", "v1", &res("pods/status", true, &["update"])).is_none());
        assert!(deletable("", "v1", &res("nodes", false, &["delete"])).is_none());
        assert!(deletable("", "v1", &res("bindings", true, &["create"])).is_none());
        let d = deletable("apps", "v1", &res("deployments", true, &["list", "delete"])).unwrap();
        assert!(!d.deletecollection && d.list);
        assert_eq!(d.resource.api_version, "apps/v1");
    }

    #[test]
    fn pod_grace_prefers_the_deletion_grace_period() {
        let mut pod: DynamicObject = serde_json::from_value(serde_json::json!({
            "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
            "spec": {"terminationGracePeriodSeconds": 10}
        }))
        .unwrap();
        assert_eq!(pod_grace_seconds(&pod), 10);
        pod.metadata.deletion_grace_period_seconds = Some(4);
        assert_eq!(pod_grace_seconds(&pod), 4);
    }
}
