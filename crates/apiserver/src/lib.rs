//! kube-apiserver: the Kubernetes REST API on etcd.

pub mod admission;
pub mod authn;
pub mod authz;
pub mod bootstrap;
pub mod conversion;
pub mod fieldmanager;
pub mod handlers;
pub mod metrics;
pub mod negotiate;
pub mod openapi;
pub mod options;
pub mod protobuf;
pub mod registry;
pub mod request;
pub mod server;
pub mod storage;
pub mod tables;

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;

use crate::authn::{Authenticator, TokenFile};
use crate::authz::Authorizer;
use crate::options::Options;
use crate::registry::ipallocator::ServiceAllocator;
use crate::server::ApiServer;
use crate::storage::etcd::EtcdConfig;
use crate::storage::{EtcdStore, WatchCache};

/// Builds the server state: etcd client, watch caches (started), authenticators.
pub async fn build(options: Options) -> anyhow::Result<Arc<ApiServer>> {
    let store = EtcdStore::connect(&EtcdConfig {
        endpoints: options.etcd_servers.clone(),
        ca_file: options.etcd_cafile.clone(),
        cert_file: options.etcd_certfile.clone(),
        key_file: options.etcd_keyfile.clone(),
        prefix: options.etcd_prefix.clone(),
    })
    .await
    .context("connecting to etcd")?;
    let tokens = match &options.token_auth_file {
        Some(path) => TokenFile::load(path)?,
        None => TokenFile::default(),
    };
    let authz = Authorizer::from_modes(&options.authorization_mode)?;
    let services = ServiceAllocator::new(
        &options.service_cluster_ip_range,
        &options.service_node_port_range,
    )
    .map_err(|e| anyhow::anyhow!("--service-cluster-ip-range / --service-node-port-range: {e}"))?;
    let mut caches = HashMap::new();
    for r in api_types::resources::BUILTIN
        .iter()
        .filter(|r| r.is_stored())
    {
        let storage = r.storage_resource();
        caches.entry(storage).or_insert_with(|| {
            WatchCache::new(
                storage,
                store.resource_prefix(storage, None),
                options.watch_cache_history,
            )
        });
    }
    for cache in caches.values() {
        tokio::spawn(cache.clone().run(store.clone()));
    }
    let openapi = openapi::OpenApi::build(
        api_types::resources::BUILTIN,
        api_types::KUBERNETES_GIT_VERSION,
    );
    let server = Arc::new(ApiServer {
        store: store.clone(),
        caches,
        authn: Authenticator {
            tokens,
            anonymous: options.anonymous_auth,
        },
        authz,
        field_manager: fieldmanager::FieldManager::new(openapi.clone()),
        openapi,
        services,
        etcd_healthy: AtomicBool::new(false),
        bookmark_interval: Duration::from_secs(60),
        options,
    });
    let service_ip = server.services.first().map(|ip| ip.to_string());
    // The address in the `kubernetes` Endpoints: --advertise-address, else a specific
    // --bind-address (upstream would pick the host's default-route address).
    let advertise = server
        .options
        .advertise_address
        .or(Some(server.options.bind_address).filter(|a| !a.is_unspecified()));
    tokio::spawn(bootstrap::run(
        store.clone(),
        service_ip,
        advertise,
        server.options.secure_port,
    ));
    let health = server.clone();
    tokio::spawn(async move {
        let mut tick: u64 = 0;
        loop {
            let ok = health.store.healthy().await;
            health.etcd_healthy.store(ok, Ordering::Relaxed);
            tick += 1;
            // apiserver_storage_objects is refreshed every ten seconds.
            if tick.is_multiple_of(10) {
                for c in health.caches.values() {
                    metrics::METRICS
                        .storage_objects
                        .with_label_values(&[c.resource])
                        .set(c.len() as i64);
                }
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    });
    Ok(server)
}

/// Runs kube-apiserver until `shutdown` resolves.
pub async fn run(options: Options, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
    let tls = component_base::tls::server_config(
        &options.tls_cert_file,
        &options.tls_private_key_file,
        options.client_ca_file.as_deref(),
        true,
    )
    .context("loading serving certificates")?;
    let addr = SocketAddr::new(options.bind_address, options.secure_port);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("listening on {addr}"))?;
    let server = build(options).await?;
    tracing::info!(%addr, "serving securely");
    server::serve(server, listener, tls, shutdown).await
}
