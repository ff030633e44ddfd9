//! The node Lease `kube-node-lease/<node>`: the cheap heartbeat the node lifecycle
//! controller watches (upstream: pkg/kubelet/nodelease, component-helpers lease controller).

use std::time::Duration;

use anyhow::{Context, Result};
use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta, OwnerReference};
use k8s_openapi::jiff::Timestamp;
use kube::api::PostParams;
use kube::Api;

pub const LEASE_NAMESPACE: &str = "kube-node-lease";

/// Upstream renews at a quarter of the lease duration (nodeLeaseRenewIntervalFraction).
pub fn renew_interval(lease_duration_seconds: u32) -> Duration {
    Duration::from_millis(u64::from(lease_duration_seconds) * 1000 / 4)
}

/// The Lease as the kubelet wants it: holder = node, owned by the Node (so deleting the
/// Node garbage-collects its Lease).
pub fn desired_lease(
    node_name: &str,
    node_uid: Option<&str>,
    lease_duration_seconds: u32,
    now: Timestamp,
    existing: Option<Lease>,
) -> Lease {
    let mut lease = existing.unwrap_or_else(|| Lease {
        metadata: ObjectMeta {
            name: Some(node_name.to_string()),
            namespace: Some(LEASE_NAMESPACE.to_string()),
            ..ObjectMeta::default()
        },
        spec: None,
    });
    let spec = lease.spec.get_or_insert_with(LeaseSpec::default);
    spec.holder_identity = Some(node_name.to_string());
    spec.lease_duration_seconds = Some(lease_duration_seconds as i32);
    spec.renew_time = Some(MicroTime(now));
    if let Some(uid) = node_uid {
        let has_owner = lease
            .metadata
            .owner_references
            .as_ref()
            .is_some_and(|o| o.iter().any(|r| r.uid == uid));
        if !has_owner {
            lease.metadata.owner_references = Some(vec![OwnerReference {
                api_version: "v1".into(),
                kind: "Node".into(),
                name: node_name.to_string(),
                uid: uid.to_string(),
                ..OwnerReference::default()
            }]);
        }
    }
    lease
}

/// Creates or renews the node's Lease once. A conflict (someone else wrote it) is an
/// error; the caller retries with a fresh read.
pub async fn renew_once(
    api: &Api<Lease>,
    node_name: &str,
    node_uid: Option<&str>,
    lease_duration_seconds: u32,
) -> Result<Lease> {
    let existing = api
        .get_opt(node_name)
        .await
        .with_context(|| format!("getting lease {LEASE_NAMESPACE}/{node_name}"))?;
    let create = existing.is_none();
    let lease = desired_lease(
        node_name,
        node_uid,
        lease_duration_seconds,
        Timestamp::now(),
        existing,
    );
    if create {
        api.create(&PostParams::default(), &lease)
            .await
            .with_context(|| format!("creating lease {LEASE_NAMESPACE}/{node_name}"))
    } else {
        api.replace(node_name, &PostParams::default(), &lease)
            .await
            .with_context(|| format!("renewing lease {LEASE_NAMESPACE}/{node_name}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lease_shape_and_interval() {
        assert_eq!(renew_interval(40), Duration::from_secs(10));
        assert_eq!(renew_interval(1), Duration::from_millis(250));
        let now: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let l = desired_lease("n1", Some("uid-1"), 40, now, None);
        assert_eq!(l.metadata.name.as_deref(), Some("n1"));
        assert_eq!(l.metadata.namespace.as_deref(), Some(LEASE_NAMESPACE));
        let spec = l.spec.clone().unwrap();
        assert_eq!(spec.holder_identity.as_deref(), Some("n1"));
        assert_eq!(spec.lease_duration_seconds, Some(40));
        assert_eq!(spec.renew_time, Some(MicroTime(now)));
        let owners = l.metadata.owner_references.clone().unwrap();
        assert_eq!(owners.len(), 1);
        assert_eq!(
            (
                owners[0].api_version.as_str(),
                owners[0].kind.as_str(),
                owners[0].uid.as_str()
            ),
            ("v1", "Node", "uid-1")
        );
        // Renewing keeps metadata (resourceVersion) and only moves renewTime.
        let later: Timestamp = "2026-01-01T00:00:10Z".parse().unwrap();
        let mut existing = l.clone();
        existing.metadata.resource_version = Some("7".into());
        let r = desired_lease("n1", Some("uid-1"), 40, later, Some(existing));
        assert_eq!(r.metadata.resource_version.as_deref(), Some("7"));
        assert_eq!(r.spec.unwrap().renew_time, Some(MicroTime(later)));
        assert_eq!(r.metadata.owner_references, l.metadata.owner_references);
    }
}
