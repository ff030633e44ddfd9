//! The ServiceAccount controller (upstream pkg/controller/serviceaccount): a `default`
//! ServiceAccount in every active namespace, created again when deleted.

use std::sync::Arc;

use anyhow::Context as _;
use k8s_openapi::api::core::v1::{Namespace, ServiceAccount};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, PostParams};
use kube::runtime::reflector::Store;
use kube::runtime::watcher;

use super::endpointslice::informer::{is_conflict, Change, Informer};
use crate::context::ControllerContext;
use crate::workqueue::{run_workers, WorkQueue};

/// The ServiceAccounts every namespace gets.
pub const DEFAULT_SERVICE_ACCOUNTS: &[&str] = &["default"];

/// Whether the namespace accepts new content: it exists, is not being deleted and
/// its phase is Active (or not yet set).
pub fn is_active(ns: &Namespace) -> bool {
    ns.metadata.deletion_timestamp.is_none()
        && ns
            .status
            .as_ref()
            .and_then(|s| s.phase.as_deref())
            .is_none_or(|p| p == "Active")
}

/// The ServiceAccounts missing from an active namespace.
pub fn missing_accounts(ns: &Namespace, existing: &[&str]) -> Vec<ServiceAccount> {
    if !is_active(ns) {
        return Vec::new();
    }
    DEFAULT_SERVICE_ACCOUNTS
        .iter()
        .filter(|n| !existing.contains(n))
        .map(|n| ServiceAccount {
            metadata: ObjectMeta {
                name: Some(n.to_string()),
                namespace: ns.metadata.name.clone(),
                ..Default::default()
            },
            ..Default::default()
        })
        .collect()
}

pub async fn run(ctx: Arc<ControllerContext>) -> anyhow::Result<()> {
    let client = ctx.client.clone();
    let queue: WorkQueue<String> = ctx.queue("serviceaccount");
    let q = queue.clone();
    let namespaces = Informer::start(
        Api::<Namespace>::all(client.clone()),
        watcher::Config::default(),
        move |c| {
            if let Change::Applied(ns) = c {
                if let Some(n) = &ns.metadata.name {
                    q.add(n.clone());
                }
            }
        },
    );
    let q = queue.clone();
    let ns_store = namespaces.store.clone();
    let accounts = Informer::start(
        Api::<ServiceAccount>::all(client.clone()),
        watcher::Config::default(),
        move |c| match c {
            Change::Deleted(sa) => {
                if let Some(ns) = &sa.metadata.namespace {
                    q.add(ns.clone());
                }
            }
            Change::Resynced => {
                for ns in ns_store.state() {
                    if let Some(n) = &ns.metadata.name {
                        q.add(n.clone());
                    }
                }
            }
            Change::Applied(_) => {}
        },
    );
    namespaces.synced().await?;
    accounts.synced().await?;
    let ns_store = namespaces.store.clone();
    let sa_store = accounts.store.clone();
    let workers = ctx.options.concurrent_serviceaccount_token_syncs;
    tokio::select! {
        _ = run_workers(queue.clone(), workers, move |ns: String| {
            let client = client.clone();
            let ns_store = ns_store.clone();
            let sa_store = sa_store.clone();
            async move { sync(&client, &ns_store, &sa_store, &ns).await }
        }) => {}
        _ = ctx.stopped() => queue.shut_down(),
    }
    Ok(())
}

async fn sync(
    client: &kube::Client,
    namespaces: &Store<Namespace>,
    accounts: &Store<ServiceAccount>,
    name: &str,
) -> anyhow::Result<()> {
    let Some(ns) = namespaces.find(|n| n.metadata.name.as_deref() == Some(name)) else {
        return Ok(());
    };
    let present = accounts.state_filter(|sa| sa.metadata.namespace.as_deref() == Some(name));
    let names: Vec<&str> = present
        .iter()
        .filter_map(|sa| sa.metadata.name.as_deref())
        .collect();
    let api: Api<ServiceAccount> = Api::namespaced(client.clone(), name);
    for sa in missing_accounts(&ns, &names) {
        match api.create(&PostParams::default(), &sa).await {
            Ok(_) => {}
            Err(e) if is_conflict(&e) => {}
            // The namespace started terminating meanwhile.
            Err(kube::Error::Api(s)) if s.code == 403 && s.message.contains("being terminated") => {
            }
            Err(e) => {
                return Err(e).with_context(|| {
                    format!(
                        "creating ServiceAccount {name}/{}",
                        sa.metadata.name.unwrap_or_default()
                    )
                })
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::NamespaceStatus;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

    fn ns(phase: Option<&str>) -> Namespace {
        Namespace {
            metadata: ObjectMeta {
                name: Some("team".into()),
                ..Default::default()
            },
            status: Some(NamespaceStatus {
                phase: phase.map(String::from),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn default_is_created_only_where_missing_and_active() {
        let want = missing_accounts(&ns(Some("Active")), &["other"]);
        assert_eq!(want.len(), 1);
        assert_eq!(want[0].metadata.name.as_deref(), Some("default"));
        assert_eq!(want[0].metadata.namespace.as_deref(), Some("team"));
        assert!(missing_accounts(&ns(Some("Active")), &["default"]).is_empty());
        assert!(missing_accounts(&ns(Some("Terminating")), &[]).is_empty());
        let mut deleting = ns(None);
        deleting.metadata.deletion_timestamp = Some(Time(k8s_openapi::jiff::Timestamp::UNIX_EPOCH));
        assert!(missing_accounts(&deleting, &[]).is_empty());
    }
}
