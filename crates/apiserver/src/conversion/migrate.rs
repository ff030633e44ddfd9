//! Objects an earlier ferrokube stored under a version's own prefix
//! (`/registry/events.k8s.io/events/`, `/registry/autoscaling/v1/horizontalpodautoscalers/`)
//! move, converted, to the prefix both versions now share, once at start-up. Without
//! this, an upgrade would hide every HPA created through autoscaling/v1 and every Event
//! written through events.k8s.io/v1 (they would stay in etcd, unreachable).

use api_types::DynamicObject;

use super::CONVERSIONS;
use crate::storage::etcd::EtcdStore;
use crate::storage::StorageError;

/// What one migration did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Migrated {
    pub moved: usize,
    /// Already present at the shared key (written since): the old copy is dropped.
    pub superseded: usize,
    /// Not decodable or not convertible: left where they are, logged.
    pub skipped: usize,
}

/// The prefix each served-as-another version used before it shared storage.
fn old_resource(group: &str, version: &str, plural: &str) -> String {
    match group {
        "autoscaling" => format!("{group}/{version}/{plural}"),
        _ => format!("{group}/{plural}"),
    }
}

/// The shared key for an old key: the part after the old prefix (namespace/name) is kept.
fn new_key(store: &EtcdStore, plural: &str, old_prefix: &str, old_key: &str) -> Option<String> {
    let rest = old_key.strip_prefix(old_prefix)?;
    Some(format!("{}{rest}", store.resource_prefix(plural, None)))
}

/// Moves every object under the old prefixes. Safe to run again: an object already
/// moved is gone from the old prefix.
pub async fn run(store: &EtcdStore) -> Result<Migrated, StorageError> {
    let mut total = Migrated::default();
    for c in CONVERSIONS {
        let old_prefix = store.resource_prefix(&old_resource(c.group, c.version, c.plural), None);
        let page = store.list(&old_prefix, None, 0, 0).await?;
        for stored in page.items {
            let Some(key) = new_key(store, c.plural, &old_prefix, &stored.key) else {
                continue;
            };
            let converted = serde_json::from_slice::<DynamicObject>(&stored.value)
                .map_err(|e| e.to_string())
                .and_then(|obj| (c.to_storage)(&obj).map_err(|e| e.to_string()))
                .and_then(|obj| serde_json::to_vec(&obj).map_err(|e| e.to_string()));
            let bytes = match converted {
                Ok(b) => b,
                Err(e) => {
                    tracing::warn!(key = %stored.key, error = %e, "not migrating a stored object that does not convert");
                    total.skipped += 1;
                    continue;
                }
            };
            match store.create(&key, bytes).await {
                Ok(_) => total.moved += 1,
                Err(StorageError::AlreadyExists) => total.superseded += 1,
                Err(e) => return Err(e),
            }
            match store.delete(&stored.key, stored.mod_revision).await {
                Ok(_) | Err(StorageError::NotFound) | Err(StorageError::Conflict { .. }) => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_prefixes_are_the_ones_earlier_versions_wrote() {
        assert_eq!(
            old_resource("events.k8s.io", "v1", "events"),
            "events.k8s.io/events"
        );
        assert_eq!(
            old_resource("autoscaling", "v1", "horizontalpodautoscalers"),
            "autoscaling/v1/horizontalpodautoscalers"
        );
    }
}
