//! Storage: etcd as the source of truth, and one watch cache per resource fed by a
//! single etcd watch, from which LIST and WATCH are served.

pub mod cache;
pub mod etcd;

pub use cache::{CacheEvent, CachedObject, WatchCache};
pub use etcd::EtcdStore;

/// A raw stored value and the etcd revision that last modified it.
#[derive(Debug, Clone)]
pub struct Stored {
    pub key: String,
    pub value: Vec<u8>,
    pub mod_revision: i64,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum StorageError {
    #[error("not found")]
    NotFound,
    #[error("already exists")]
    AlreadyExists,
    /// The compare of a transaction failed: the object changed since it was read.
    #[error("conflict")]
    Conflict { current: Option<Box<Stored>> },
    #[error("too old resource version: {requested} ({compacted})")]
    Compacted { requested: i64, compacted: i64 },
    #[error("etcd unavailable: {0}")]
    Unavailable(String),
    #[error("corrupt object in storage: {0}")]
    Corrupt(String),
}

impl From<etcd_client::Error> for StorageError {
    fn from(e: etcd_client::Error) -> Self {
        let text = e.to_string();
        if text.contains("required revision has been compacted") {
            return StorageError::Compacted {
                requested: 0,
                compacted: 0,
            };
        }
        StorageError::Unavailable(text)
    }
}
