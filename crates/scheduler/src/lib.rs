//! kube-scheduler: binds pending pods to nodes through filter and score plugins.
//!
//! - [`options`]: upstream's flags; [`config`]: KubeSchedulerConfiguration.
//! - [`cache`], [`queue`], [`framework`] (plugins), [`preemption`]: pure logic.
//! - [`informers`] (watches), [`scheduler`] (the loop, binding, events): I/O.

pub mod cache;
pub mod config;
pub mod events;
pub mod framework;
pub mod informers;
pub mod metrics;
pub mod options;
pub mod preemption;
pub mod queue;
pub mod resources;
pub mod scheduler;

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use anyhow::Context;
use component_base::leader_election::{self, LeaderElectionConfig, LeaderState};
use component_base::serving::Serving;

use crate::cache::Cache;
use crate::config::SchedulerConfig;
use crate::informers::Informers;
use crate::metrics::Metrics;
use crate::options::Options;
use crate::queue::SharedQueue;

/// Builds the API client from --kubeconfig (or the config file's
/// clientConnection.kubeconfig, or in-cluster / default discovery), with --master
/// overriding the server.
pub async fn client(
    kubeconfig: Option<&std::path::Path>,
    master: Option<&str>,
) -> anyhow::Result<kube::Client> {
    component_base::client::build(kubeconfig, master).await
}

/// Everything `kube-scheduler` does after parsing flags: load the configuration
/// (failing with a message naming the bad field), serve health and metrics, and
/// schedule while leading (or always, without leader election) until `shutdown`.
pub async fn run(opts: Options, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
    let config = match &opts.config {
        Some(path) => config::load_file(path)?,
        None => SchedulerConfig::default(),
    };
    if opts.leader_elect_resource_lock != "leases" {
        anyhow::bail!(
            "--leader-elect-resource-lock: unsupported value {:?}: only \"leases\" is supported",
            opts.leader_elect_resource_lock
        );
    }
    let kubeconfig = opts
        .kubeconfig
        .clone()
        .or_else(|| config.kubeconfig.clone().map(Into::into));
    let client = client(kubeconfig.as_deref(), opts.master.as_deref()).await?;

    let registry = prometheus::Registry::new();
    let metrics = Metrics::new(&registry).context("registering metrics")?;
    let serving = Serving::new(registry);
    let leader = LeaderState::default();
    let synced = Arc::new(AtomicUsize::new(0));
    {
        let synced = synced.clone();
        serving.health.add_readiness("sched-handler-sync", move || {
            if synced.load(Ordering::SeqCst) >= informers::WATCHED_KINDS {
                Ok(())
            } else {
                Err("informers not synced".to_string())
            }
        });
    }
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let server = if opts.secure_port != 0 {
        let addr = SocketAddr::new(opts.bind_address, opts.secure_port);
        let tls = match (&opts.tls_cert_file, &opts.tls_private_key_file) {
            (Some(c), Some(k)) => Some(
                component_base::tls::server_config(c, k, None, false)
                    .map(Arc::new)
                    .context("loading --tls-cert-file / --tls-private-key-file")?,
            ),
            _ => None,
        };
        let mut rx = stop_rx.clone();
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("listening on {addr}"))?;
        tracing::info!(%addr, https = tls.is_some(), "serving /healthz /readyz /metrics");
        Some(tokio::spawn(async move {
            let stop = async move {
                let _ = rx.wait_for(|s| *s).await;
            };
            component_base::serving::serve_listener(listener, tls, serving, stop).await
        }))
    } else {
        None
    };

    let names: HashSet<String> = config
        .profiles
        .iter()
        .map(|p| p.scheduler_name.clone())
        .collect();
    let identity = leader_election::default_identity();
    let lead = {
        let client = client.clone();
        let config = config.clone();
        let identity = identity.clone();
        move || async move {
            schedule(client, config, metrics, synced, names, &identity).await;
            Ok(())
        }
    };
    let leader_elect = config.leader_elect.unwrap_or(opts.leader_elect);
    let result = if leader_elect {
        let mut le = LeaderElectionConfig::new(
            config
                .resource_name
                .as_deref()
                .unwrap_or(&opts.leader_elect_resource_name),
        );
        le.namespace = config
            .resource_namespace
            .clone()
            .unwrap_or_else(|| opts.leader_elect_resource_namespace.clone());
        le.identity = identity.clone();
        le.lease_duration = config
            .lease_duration
            .unwrap_or(opts.leader_elect_lease_duration);
        le.renew_deadline = config
            .renew_deadline
            .unwrap_or(opts.leader_elect_renew_deadline);
        le.retry_period = config
            .retry_period
            .unwrap_or(opts.leader_elect_retry_period);
        leader_election::run(client, le, leader, lead, shutdown).await
    } else {
        tokio::select! {
            r = lead() => r,
            _ = shutdown => Ok(()),
        }
    };
    let _ = stop_tx.send(true);
    if let Some(s) = server {
        let _ = s.await;
    }
    result
}

/// Watches and schedules until dropped.
async fn schedule(
    client: kube::Client,
    config: SchedulerConfig,
    metrics: Metrics,
    synced: Arc<AtomicUsize>,
    names: HashSet<String>,
    identity: &str,
) {
    let cache = Arc::new(Mutex::new(Cache::new()));
    let mut q = queue::SchedulingQueue::new();
    q.initial_backoff = config.pod_initial_backoff;
    q.max_backoff = config.pod_max_backoff;
    let queue = Arc::new(SharedQueue::new(q));
    let classes = Arc::new(Mutex::new(HashMap::new()));
    let inf = Informers {
        cache: cache.clone(),
        queue: queue.clone(),
        classes: classes.clone(),
        scheduler_names: Arc::new(names),
        synced: synced.clone(),
    };
    let sched = Arc::new(scheduler::Scheduler::new(
        client.clone(),
        config,
        cache,
        queue,
        classes,
        metrics,
        identity,
    ));
    let watches = informers::run(client, inf);
    // Schedule only once the initial lists are in: the cache must know every node
    // and bound pod first.
    let scheduling = async {
        while synced.load(Ordering::SeqCst) < informers::WATCHED_KINDS {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        tracing::info!("caches synced; scheduling");
        sched.run().await;
    };
    tokio::join!(watches, scheduling);
}
