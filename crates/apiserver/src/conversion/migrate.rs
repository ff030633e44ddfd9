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
    /// Already moved by an interrupted earlier run (same uid): the old copy is dropped.
    pub superseded: usize,
    /// Not decodable, not convertible, or another object with the same name under the
    /// shared key: left where they are, logged.
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

/// Keys read per etcd request (a response is capped at 4 MiB by the client).
const PAGE: i64 = 500;

/// Moves every object under the old prefixes. Safe to run again: an object already
/// moved is gone from the old prefix.
pub async fn run(store: &EtcdStore) -> Result<Migrated, StorageError> {
    let mut total = Migrated::default();
    for c in CONVERSIONS {
        let old_prefix = store.resource_prefix(&old_resource(c.group, c.version, c.plural), None);
        let mut start: Option<String> = None;
        loop {
            let page = store.list(&old_prefix, start.as_deref(), 0, PAGE).await?;
            start = page.items.last().map(|s| format!("{}\0", s.key));
            for stored in &page.items {
                move_one(store, c, &old_prefix, stored, &mut total).await?;
            }
            if !page.more || start.is_none() {
                break;
            }
        }
    }
    Ok(total)
}

async fn move_one(
    store: &EtcdStore,
    c: &super::Conversion,
    old_prefix: &str,
    stored: &crate::storage::Stored,
    total: &mut Migrated,
) -> Result<(), StorageError> {
    let Some(key) = new_key(store, c.plural, old_prefix, &stored.key) else {
        return Ok(());
    };
    let old: Result<DynamicObject, String> =
        serde_json::from_slice(&stored.value).map_err(|e| e.to_string());
    let converted = old.clone().and_then(|obj| {
        (c.to_storage)(&obj)
            .map_err(|e| e.to_string())
            .and_then(|obj| serde_json::to_vec(&obj).map_err(|e| e.to_string()))
    });
    let (old, bytes) = match (old, converted) {
        (Ok(old), Ok(bytes)) => (old, bytes),
        (Err(e), _) | (_, Err(e)) => {
            tracing::warn!(key = %stored.key, error = %e, "not migrating a stored object that does not convert");
            total.skipped += 1;
            return Ok(());
        }
    };
    match store.create(&key, bytes).await {
        Ok(_) => total.moved += 1,
        Err(StorageError::AlreadyExists) => {
            // Moved by an interrupted earlier run (same uid): drop the old copy. A
            // different object written since under the shared key: keep both, say so.
            let current = store.get(&key).await?;
            let same = current
                .and_then(|c| serde_json::from_slice::<DynamicObject>(&c.value).ok())
                .is_some_and(|c| c.metadata.uid.is_some() && c.metadata.uid == old.metadata.uid);
            if !same {
                tracing::warn!(old = %stored.key, shared = %key,
                    "not migrating: another object has the same name under the shared key; the old one stays in etcd");
                total.skipped += 1;
                return Ok(());
            }
            total.superseded += 1;
        }
        Err(e) => return Err(e),
    }
    match store.delete(&stored.key, stored.mod_revision).await {
        Ok(_) | Err(StorageError::NotFound) | Err(StorageError::Conflict { .. }) => Ok(()),
        Err(e) => Err(e),
    }
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
