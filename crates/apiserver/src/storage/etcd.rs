//! etcd access. Every write is one transaction whose compare guards against a
//! concurrent change (create: the key must not exist; update and delete: the key's
//! mod revision must be the one the caller read), so no read-modify-write races.

use std::time::{Duration, Instant};

use etcd_client::{
    Client, Compare, CompareOp, ConnectOptions, GetOptions, Txn, TxnOp, TxnOpResponse,
};

use super::{StorageError, Stored};
use crate::metrics::METRICS;

/// Connection settings for etcd (the --etcd-* flags).
#[derive(Debug, Clone, Default)]
pub struct EtcdConfig {
    pub endpoints: Vec<String>,
    pub ca_file: Option<std::path::PathBuf>,
    pub cert_file: Option<std::path::PathBuf>,
    pub key_file: Option<std::path::PathBuf>,
    pub prefix: String,
}

#[derive(Clone)]
pub struct EtcdStore {
    client: Client,
    prefix: String,
}

/// One page of a range read.
#[derive(Debug, Default)]
pub struct ListPage {
    pub items: Vec<Stored>,
    /// The revision the page was read at.
    pub revision: i64,
    /// Whether keys remain after the last item.
    pub more: bool,
}

fn observe(operation: &str, ty: &str, started: Instant) {
    METRICS
        .etcd_request_duration
        .with_label_values(&[operation, ty])
        .observe(started.elapsed().as_secs_f64());
}

/// The end of the key range that starts with `prefix` (etcd's "prefix" range end).
pub fn prefix_end(prefix: &str) -> Vec<u8> {
    let mut end = prefix.as_bytes().to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return end;
        }
    }
    vec![0]
}

impl EtcdStore {
    pub async fn connect(config: &EtcdConfig) -> anyhow::Result<EtcdStore> {
        let mut options = ConnectOptions::new()
            .with_connect_timeout(Duration::from_secs(5))
            .with_keep_alive(Duration::from_secs(10), Duration::from_secs(5))
            .with_keep_alive_while_idle(true);
        if let Some(ca) = &config.ca_file {
            let mut tls = etcd_client::TlsOptions::new()
                .ca_certificate(etcd_client::Certificate::from_pem(std::fs::read(ca)?));
            if let (Some(cert), Some(key)) = (&config.cert_file, &config.key_file) {
                tls = tls.identity(etcd_client::Identity::from_pem(
                    std::fs::read(cert)?,
                    std::fs::read(key)?,
                ));
            }
            options = options.with_tls(tls);
        }
        // connect() does not fail when etcd is down at start: the channel reconnects.
        let client = Client::connect(&config.endpoints, Some(options)).await?;
        let prefix = config.prefix.trim_end_matches('/').to_string();
        Ok(EtcdStore { client, prefix })
    }

    /// `/registry/<resource>/<namespace>/<name>` or `/registry/<resource>/<name>`.
    pub fn key(&self, resource: &str, namespace: Option<&str>, name: &str) -> String {
        match namespace {
            Some(ns) => format!("{}/{}/{}/{}", self.prefix, resource, ns, name),
            None => format!("{}/{}/{}", self.prefix, resource, name),
        }
    }

    /// The key prefix (with a trailing slash) of a resource, optionally one namespace.
    pub fn resource_prefix(&self, resource: &str, namespace: Option<&str>) -> String {
        match namespace {
            Some(ns) => format!("{}/{}/{}/", self.prefix, resource, ns),
            None => format!("{}/{}/", self.prefix, resource),
        }
    }

    pub fn client(&self) -> Client {
        self.client.clone()
    }

    pub async fn get(&self, key: &str) -> Result<Option<Stored>, StorageError> {
        let started = Instant::now();
        let mut kv = self.client.kv_client();
        let mut resp = kv.get(key, None).await?;
        observe("get", key_type(key), started);
        Ok(resp.take_kvs().into_iter().next().map(|kv| {
            let mod_revision = kv.mod_revision();
            Stored {
                key: key.to_string(),
                mod_revision,
                value: kv.into_key_value().1,
            }
        }))
    }

    /// Creates `key`; fails with AlreadyExists if it is there. Returns the new revision.
    pub async fn create(&self, key: &str, value: Vec<u8>) -> Result<i64, StorageError> {
        let started = Instant::now();
        let txn = Txn::new()
            .when([Compare::create_revision(key, CompareOp::Equal, 0)])
            .and_then([TxnOp::put(key, value, None)]);
        let resp = self.client.kv_client().txn(txn).await?;
        observe("create", key_type(key), started);
        if !resp.succeeded() {
            return Err(StorageError::AlreadyExists);
        }
        Ok(resp.header().map(|h| h.revision()).unwrap_or_default())
    }

    /// Replaces `key` if its mod revision is still `expected`. On a mismatch returns
    /// Conflict with the current value (or NotFound if it is gone).
    pub async fn update(
        &self,
        key: &str,
        value: Vec<u8>,
        expected: i64,
    ) -> Result<i64, StorageError> {
        let started = Instant::now();
        let txn = Txn::new()
            .when([Compare::mod_revision(key, CompareOp::Equal, expected)])
            .and_then([TxnOp::put(key, value, None)])
            .or_else([TxnOp::get(key, None)]);
        let resp = self.client.kv_client().txn(txn).await?;
        observe("update", key_type(key), started);
        if resp.succeeded() {
            return Ok(resp.header().map(|h| h.revision()).unwrap_or_default());
        }
        Err(conflict_from(key, resp.op_responses()))
    }

    /// Deletes `key` if its mod revision is still `expected`; returns the revision of
    /// the delete.
    pub async fn delete(&self, key: &str, expected: i64) -> Result<i64, StorageError> {
        let started = Instant::now();
        let txn = Txn::new()
            .when([Compare::mod_revision(key, CompareOp::Equal, expected)])
            .and_then([TxnOp::delete(key, None)])
            .or_else([TxnOp::get(key, None)]);
        let resp = self.client.kv_client().txn(txn).await?;
        observe("delete", key_type(key), started);
        if resp.succeeded() {
            return Ok(resp.header().map(|h| h.revision()).unwrap_or_default());
        }
        Err(conflict_from(key, resp.op_responses()))
    }

    /// Reads up to `limit` keys (0 = all) under `prefix`, starting at `start` (inclusive)
    /// when given, at `revision` (0 = newest).
    pub async fn list(
        &self,
        prefix: &str,
        start: Option<&str>,
        revision: i64,
        limit: i64,
    ) -> Result<ListPage, StorageError> {
        let started = Instant::now();
        let from = start.unwrap_or(prefix);
        let mut options = GetOptions::new()
            .with_range(prefix_end(prefix))
            .with_revision(revision);
        if limit > 0 {
            options = options.with_limit(limit);
        }
        let mut resp = self
            .client
            .kv_client()
            .get(from, Some(options))
            .await
            .map_err(|e| match StorageError::from(e) {
                StorageError::Compacted { .. } => StorageError::Compacted {
                    requested: revision,
                    compacted: 0,
                },
                other => other,
            })?;
        observe("list", key_type(prefix), started);
        let header_rev = resp.header().map(|h| h.revision()).unwrap_or_default();
        let more = resp.more();
        let items = resp
            .take_kvs()
            .into_iter()
            .map(|kv| {
                let mod_revision = kv.mod_revision();
                let (key, value) = kv.into_key_value();
                Stored {
                    key: String::from_utf8(key)
                        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
                    mod_revision,
                    value,
                }
            })
            .collect();
        Ok(ListPage {
            items,
            revision: if revision > 0 { revision } else { header_rev },
            more,
        })
    }

    /// The newest revision of the store (one cheap range read).
    pub async fn current_revision(&self) -> Result<i64, StorageError> {
        let options = GetOptions::new().with_count_only();
        let resp = self
            .client
            .kv_client()
            .get(format!("{}/", self.prefix), Some(options))
            .await?;
        Ok(resp.header().map(|h| h.revision()).unwrap_or_default())
    }

    /// Whether etcd answers (for /readyz).
    pub async fn healthy(&self) -> bool {
        matches!(
            tokio::time::timeout(Duration::from_secs(2), self.current_revision()).await,
            Ok(Ok(_))
        )
    }
}

fn conflict_from(key: &str, responses: Vec<TxnOpResponse>) -> StorageError {
    for r in responses {
        if let TxnOpResponse::Get(mut get) = r {
            return match get.take_kvs().into_iter().next() {
                Some(kv) => StorageError::Conflict {
                    current: Some(Box::new(Stored {
                        key: key.to_string(),
                        mod_revision: kv.mod_revision(),
                        value: kv.into_key_value().1,
                    })),
                },
                None => StorageError::NotFound,
            };
        }
    }
    StorageError::Conflict { current: None }
}

/// The resource segment of a key, for metric labels.
fn key_type(key: &str) -> &str {
    key.trim_start_matches('/').split('/').nth(1).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_end_increments_last_byte() {
        assert_eq!(prefix_end("/registry/pods/"), b"/registry/pods0".to_vec());
    }

    #[test]
    fn key_type_is_the_resource() {
        assert_eq!(key_type("/registry/pods/default/x"), "pods");
    }
}
