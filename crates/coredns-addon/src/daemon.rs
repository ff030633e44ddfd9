//! The daemon: watchers (kube-runtime reflectors) for Services and EndpointSlices feed the
//! [`Index`], rebuilt whole and swapped atomically after each burst of changes; the DNS
//! server answers from whatever index is current. Also /health (:8080), /ready (:8181)
//! and /metrics (:9153), as CoreDNS's health, ready and prometheus plugins.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use component_base::serving::{self, Serving};
use futures::StreamExt;
use http::StatusCode;
use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::runtime::reflector::{self, Store};
use kube::runtime::{watcher, WatchStreamExt};
use kube::Api;
use tokio::sync::{watch, Notify};

use crate::forward::{resolv_conf_upstreams, without_self, Forwarder};
use crate::metrics::Metrics;
use crate::options::Options;
use crate::records::{Config, Index};
use crate::server::{self as dns, Handler, SharedIndex};

/// Changes arriving within this window are folded into one rebuild.
const REBUILD_DELAY: Duration = Duration::from_millis(50);

/// A client from --kubeconfig, else the default / in-cluster configuration.
pub async fn client(options: &Options) -> anyhow::Result<kube::Client> {
    component_base::client::build(options.kubeconfig.as_deref(), None).await
}

/// Logging as `component_base::logs`, but hickory-server's one-line-per-query logs are
/// kept at debug verbosity (CoreDNS logs queries only with its `log` plugin).
pub fn init_logs(v: u8, format: &str) {
    use tracing_subscriber::EnvFilter;
    let level = match v {
        0 | 1 => "info,hickory_server=warn",
        2..=4 => "debug",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if format == "json" {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

fn spawn_reflector<K>(
    api: Api<K>,
    changed: Arc<Notify>,
    mut stop: watch::Receiver<bool>,
) -> Store<K>
where
    K: kube::Resource<DynamicType = ()>
        + Clone
        + std::fmt::Debug
        + serde::de::DeserializeOwned
        + Send
        + Sync
        + 'static,
{
    let (reader, writer) = reflector::store::<K>();
    let stream = watcher(api, watcher::Config::default())
        .default_backoff()
        .reflect(writer);
    tokio::spawn(async move {
        let mut stream = std::pin::pin!(stream);
        loop {
            let event = tokio::select! {
                e = stream.next() => e,
                _ = stop.wait_for(|s| *s) => return,
            };
            match event {
                None => return,
                Some(Ok(
                    watcher::Event::Apply(_) | watcher::Event::Delete(_) | watcher::Event::InitDone,
                )) => changed.notify_one(),
                Some(Ok(_)) => {}
                Some(Err(e)) => tracing::warn!(error = %e, "watch failed; retrying"),
            }
        }
    });
    reader
}

fn serial_now() -> u32 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u32::try_from(d.as_secs()).unwrap_or(u32::MAX))
        .unwrap_or(0)
}

fn swap(index: &SharedIndex, new: Index) {
    let new = Arc::new(new);
    match index.write() {
        Ok(mut guard) => *guard = new,
        Err(poisoned) => *poisoned.into_inner() = new,
    }
}

/// Runs until `shutdown` resolves.
pub async fn run(
    options: Options,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let config = Config::new(&options.cluster_domain, options.ttl).context("--cluster-domain")?;
    let upstreams = if options.upstream.is_empty() {
        resolv_conf_upstreams(&options.resolv_conf).unwrap_or_else(|e| {
            tracing::warn!(error = %e, "reading --resolv-conf");
            Vec::new()
        })
    } else {
        options.upstream.clone()
    };
    let (upstreams, dropped) = without_self(&upstreams, options.dns_bind_address);
    if !dropped.is_empty() {
        tracing::warn!(
            ?dropped,
            "upstreams that are this server itself (a forwarding loop) are skipped"
        );
    }
    if upstreams.is_empty() {
        tracing::warn!("no upstream resolvers: names outside the cluster get SERVFAIL");
    }
    let client = client(&options).await?;
    let registry = prometheus::Registry::new();
    let metrics = Metrics::new(&registry).context("registering metrics")?;
    let index: SharedIndex = Arc::new(RwLock::new(Arc::new(Index::empty(&config))));
    let forwarder = Arc::new(Forwarder::new(
        upstreams.clone(),
        Duration::from_secs(options.upstream_timeout.max(1)),
        options.cache_size,
    ));
    let (udp, tcp) = dns::bind(options.dns_bind_address).await.with_context(|| {
        format!(
            "listening on --dns-bind-address {}",
            options.dns_bind_address
        )
    })?;
    tracing::info!(
        address = %options.dns_bind_address,
        domain = %config.domain,
        upstreams = ?upstreams,
        "serving DNS"
    );
    let handler = Handler {
        index: index.clone(),
        forwarder,
        metrics: Some(metrics),
        server_label: format!("dns://:{}", options.dns_bind_address.port()),
    };

    let (stop_tx, stop_rx) = watch::channel(false);
    let ready = Arc::new(AtomicBool::new(false));

    // /health, /ready, /metrics.
    let health = Serving::new(prometheus::Registry::new()).route("/health", |_| {
        serving::text(StatusCode::OK, "OK".to_string())
    });
    let ready_flag = ready.clone();
    let readiness = Serving::new(prometheus::Registry::new()).route("/ready", move |_| {
        if ready_flag.load(Ordering::Relaxed) {
            serving::text(StatusCode::OK, "OK".to_string())
        } else {
            serving::text(StatusCode::SERVICE_UNAVAILABLE, "kubernetes\n".to_string())
        }
    });
    let metrics_serving = Serving::new(registry);
    let stopped = |rx: &watch::Receiver<bool>| {
        let mut rx = rx.clone();
        async move {
            let _ = rx.wait_for(|s| *s).await;
        }
    };
    let mut tasks = tokio::task::JoinSet::new();
    for (addr, serving, what) in [
        (
            SocketAddr::new(options.health_bind_address, options.health_port),
            health,
            "--health-port",
        ),
        (
            SocketAddr::new(options.health_bind_address, options.ready_port),
            readiness,
            "--ready-port",
        ),
        (
            options.metrics_bind_address,
            metrics_serving,
            "--metrics-bind-address",
        ),
    ] {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("listening on {what} ({addr})"))?;
        let stop = stopped(&stop_rx);
        tasks.spawn(async move { serving::serve_listener(listener, None, serving, stop).await });
    }
    let stop = stopped(&stop_rx);
    tasks.spawn(async move { dns::serve(udp, tcp, handler, stop).await });

    // Watchers and the rebuild loop.
    let changed = Arc::new(Notify::new());
    let services =
        spawn_reflector::<Service>(Api::all(client.clone()), changed.clone(), stop_rx.clone());
    let slices = spawn_reflector::<EndpointSlice>(
        Api::all(client.clone()),
        changed.clone(),
        stop_rx.clone(),
    );
    let rebuild_index = index.clone();
    let mut stop = stop_rx.clone();
    tasks.spawn(async move {
        tokio::select! {
            r = async { tokio::try_join!(services.wait_until_ready(), slices.wait_until_ready()) } => {
                r.context("waiting for the Service and EndpointSlice caches")?;
            }
            _ = stop.wait_for(|s| *s) => return Ok(()),
        }
        loop {
            tokio::time::sleep(REBUILD_DELAY).await;
            let built = Index::build(&services.state(), &slices.state(), &config, serial_now());
            tracing::debug!(names = built.len(), "cluster zone rebuilt");
            swap(&rebuild_index, built);
            if !ready.swap(true, Ordering::Relaxed) {
                tracing::info!("Services and EndpointSlices synced; ready");
            }
            tokio::select! {
                _ = changed.notified() => {}
                _ = stop.wait_for(|s| *s) => return Ok(()),
            }
        }
    });

    let mut shutdown = std::pin::pin!(shutdown);
    let result = tokio::select! {
        _ = &mut shutdown => Ok(()),
        Some(r) = tasks.join_next() => match r {
            Ok(Ok(())) => Err(anyhow::anyhow!("a server stopped unexpectedly")),
            Ok(Err(e)) => Err(e),
            Err(e) => Err(anyhow::anyhow!("a task panicked: {e}")),
        },
    };
    let _ = stop_tx.send(true);
    while tasks.join_next().await.is_some() {}
    result
}
