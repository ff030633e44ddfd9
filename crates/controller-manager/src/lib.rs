//! kube-controller-manager: the control loops that turn desired state (Deployments,
//! Services, Namespaces ...) into owned, rolled-out objects. Each controller lives in
//! `controllers/<name>.rs`, talks only to the apiserver through kube-rs, and is
//! started by [`run`] once this process holds the leader Lease.

pub mod context;
pub mod controller_utils;
pub mod controllers;
pub mod informers;
pub mod options;
pub use component_base::record;
pub mod workqueue;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use component_base::leader_election::{self, LeaderElectionConfig, LeaderState};
use component_base::serving::Serving;

pub use context::ControllerContext;
pub use options::ControllerManagerOptions;

/// A client from --kubeconfig (and --master), else the default/in-cluster config.
pub async fn client(options: &ControllerManagerOptions) -> anyhow::Result<kube::Client> {
    component_base::client::build(options.kubeconfig.as_deref(), options.master.as_deref()).await
}

/// Runs the controller manager until `shutdown` resolves: serves /healthz /readyz
/// /metrics, wins the leader Lease (unless --leader-elect=false), then runs every
/// enabled controller. A controller that fails is logged and restarted after a pause;
/// losing the lease is an error the binary exits on, as upstream.
pub async fn run(
    options: ControllerManagerOptions,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let selected = controllers::enabled(&options.controllers).context("--controllers")?;
    let options = Arc::new(options);
    let client = client(&options).await?;
    let registry = prometheus::Registry::new();
    let workqueue_metrics =
        workqueue::WorkqueueMetrics::register(&registry).context("registering metrics")?;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let ctx = Arc::new(ControllerContext::new(
        client.clone(),
        options.clone(),
        registry.clone(),
        workqueue_metrics,
        stop_rx,
    ));

    let leader = LeaderState::default();
    let serving = Serving::new(registry);
    if options.leader_elect {
        let l = leader.clone();
        serving.health.add_readiness("leaderElection", move || {
            if l.is_leader() {
                Ok(())
            } else {
                Err("not the leader".to_string())
            }
        });
    }
    let server = if options.secure_port != 0 {
        let tls = match (&options.tls_cert_file, &options.tls_private_key_file) {
            (Some(cert), Some(key)) => Some(Arc::new(
                component_base::tls::server_config(cert, key, None, false)
                    .context("--tls-cert-file / --tls-private-key-file")?,
            )),
            _ => None,
        };
        let addr = SocketAddr::new(options.bind_address, options.secure_port);
        let mut stop = ctx_stop(&stop_tx);
        Some(tokio::spawn(component_base::serving::serve(
            addr,
            tls,
            serving,
            async move {
                let _ = stop.wait_for(|s| *s).await;
            },
        )))
    } else {
        None
    };

    let lead = {
        let ctx = ctx.clone();
        move || run_controllers(ctx, selected)
    };
    tokio::pin!(shutdown);
    let result = if options.leader_elect {
        let mut config = LeaderElectionConfig::new(&options.leader_elect_resource_name);
        config.namespace = options.leader_elect_resource_namespace.clone();
        config.lease_duration = options.leader_elect_lease_duration;
        config.renew_deadline = options.leader_elect_renew_deadline;
        config.retry_period = options.leader_elect_retry_period;
        leader_election::run(client, config, leader, lead, &mut shutdown).await
    } else {
        tokio::select! {
            r = lead() => r,
            _ = &mut shutdown => Ok(()),
        }
    };
    let _ = stop_tx.send(true);
    if let Some(server) = server {
        match server.await {
            Ok(Err(e)) => {
                tracing::warn!(error = %format!("{e:#}"), "serving /healthz and /metrics")
            }
            Err(e) => tracing::warn!(error = %e, "serving task"),
            Ok(Ok(())) => {}
        }
    }
    result
}

fn ctx_stop(tx: &tokio::sync::watch::Sender<bool>) -> tokio::sync::watch::Receiver<bool> {
    tx.subscribe()
}

/// Starts every selected controller and keeps it running: one that returns an error
/// is restarted after 5 s (upstream would crash the process; restarting one loop keeps
/// the others working). Returns when the context stops.
async fn run_controllers(
    ctx: Arc<ControllerContext>,
    selected: Vec<&'static controllers::ControllerDescriptor>,
) -> anyhow::Result<()> {
    let mut tasks = Vec::new();
    for c in selected {
        let ctx = ctx.clone();
        tracing::info!(controller = c.name, "Starting controller");
        tasks.push(tokio::spawn(async move {
            loop {
                let result = tokio::select! {
                    r = (c.start)(ctx.clone()) => r,
                    _ = ctx.stopped() => return,
                };
                if ctx.is_stopped() {
                    return;
                }
                match result {
                    Ok(()) => tracing::info!(controller = c.name, "controller returned; restarting"),
                    Err(e) => tracing::error!(controller = c.name, error = %format!("{e:#}"), "controller failed; restarting in 5s"),
                }
                tokio::select! {
                    _ = tokio::time::sleep(std::time::Duration::from_secs(5)) => {}
                    _ = ctx.stopped() => return,
                }
            }
        }));
    }
    ctx.stopped().await;
    for t in tasks {
        let _ = t.await;
    }
    Ok(())
}
