//! The kubelet's node side: registering the Node, posting its status every
//! nodeStatusUpdateFrequency and renewing its Lease in `kube-node-lease`.
//!
//! * [`machine`]: reads the machine's facts (the only I/O for the status).
//! * [`status`]: the Node status as a pure function of those facts and the config.
//! * [`register`]: creating the Node and patching nodes/status.
//! * [`lease`]: the node Lease heartbeat.
//!
//! [`run`] drives all of it until shutdown; the binary and the tests call it the same way.

pub mod lease;
pub mod machine;
pub mod register;
pub mod status;

use std::future::Future;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{Node, NodeStatus};
use k8s_openapi::jiff::Timestamp;
use kube::{Api, Client};

pub use machine::MachineInfo;
pub use status::{build_node_status, StatusInput, KUBELET_VERSION};

use crate::config::{KubeletConfiguration, KubeletFlags};

/// What the node loops need, resolved from flags, config and the machine.
#[derive(Debug, Clone)]
pub struct NodeOptions {
    pub node_name: String,
    /// The Hostname address and the kubernetes.io/hostname label.
    pub hostname: String,
    pub node_ip: IpAddr,
    /// Reported as nodeInfo.containerRuntimeVersion, e.g. "containerd://1.6.20".
    pub runtime_version: String,
    pub config: KubeletConfiguration,
}

impl NodeOptions {
    /// Upstream: the node name is --hostname-override, else the hostname, lower-cased;
    /// the node IP is --node-ip, else detected.
    pub fn resolve(
        flags: &KubeletFlags,
        config: KubeletConfiguration,
        machine: &MachineInfo,
        runtime_version: String,
    ) -> Result<NodeOptions> {
        let hostname = match &flags.hostname_override {
            Some(h) => h.trim().to_lowercase(),
            None => machine.hostname.trim().to_lowercase(),
        };
        if hostname.is_empty() {
            bail!("the node name is empty: set --hostname-override");
        }
        let node_ip = match flags.node_ip {
            Some(ip) => ip,
            None => machine::detect_node_ip()?,
        };
        Ok(NodeOptions {
            node_name: hostname.clone(),
            hostname,
            node_ip,
            runtime_version,
            config,
        })
    }
}

/// Registers the Node (retrying until it succeeds), then posts its status and renews its
/// Lease until `shutdown` resolves. Errors after registration are logged and retried:
/// a kubelet must outlive API server restarts.
pub async fn run(
    client: Client,
    opts: NodeOptions,
    machine: MachineInfo,
    shutdown: impl Future<Output = ()>,
) -> Result<()> {
    let nodes: Api<Node> = Api::all(client.clone());
    let leases: Api<Lease> = Api::namespaced(client, lease::LEASE_NAMESPACE);
    let work = async {
        let node = register_with_retry(&nodes, &opts, &machine).await;
        let uid = node.metadata.uid.clone();
        tokio::join!(
            status_loop(&nodes, &opts, &machine, node.status.clone()),
            lease_loop(&leases, &opts, uid.as_deref()),
        );
    };
    tokio::select! {
        _ = shutdown => {
            tracing::info!(node = %opts.node_name, "node loops stopping");
        }
        _ = work => {}
    }
    Ok(())
}

/// Upstream backs off 100ms .. 7s between registration attempts and never gives up.
async fn register_with_retry(api: &Api<Node>, opts: &NodeOptions, m: &MachineInfo) -> Node {
    let mut backoff = Duration::from_millis(100);
    loop {
        match register::register_node(api, opts, &m.architecture).await {
            Ok(node) => return node,
            Err(e) => {
                tracing::warn!(error = %format!("{e:#}"), "registering node; retrying");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(7));
            }
        }
    }
}

/// Every nodeStatusUpdateFrequency builds the status and posts it if it changed, or if
/// nodeStatusReportFrequency passed since the last post (upstream's lease-era behaviour:
/// the Lease is the heartbeat, the status is posted on change).
async fn status_loop(
    api: &Api<Node>,
    opts: &NodeOptions,
    machine: &MachineInfo,
    mut last: Option<NodeStatus>,
) {
    let cfg = &opts.config;
    let mut last_post: Option<Instant> = None;
    let mut tick = tokio::time::interval(cfg.node_status_update_frequency.0);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let input = StatusInput {
            machine,
            config: cfg,
            node_ip: opts.node_ip,
            hostname: &opts.hostname,
            runtime_version: &opts.runtime_version,
            now: Timestamp::now(),
        };
        let status = build_node_status(&input, last.as_ref());
        let due = match (last_post, &last) {
            (Some(at), Some(prev)) => {
                status::status_changed(prev, &status)
                    || at.elapsed() >= cfg.node_status_report_frequency.0
            }
            _ => true,
        };
        if !due {
            continue;
        }
        match register::patch_node_status(api, &opts.node_name, &status).await {
            Ok(node) => {
                tracing::debug!(node = %opts.node_name, "posted node status");
                last = node.status;
                last_post = Some(Instant::now());
            }
            Err(e) => tracing::warn!(error = %format!("{e:#}"), "updating node status"),
        }
    }
}

/// Renews the Lease every leaseDuration/4; on failure retries sooner, 200ms doubling up
/// to the renew interval (upstream's lease controller backoff).
async fn lease_loop(api: &Api<Lease>, opts: &NodeOptions, node_uid: Option<&str>) {
    let duration = opts.config.node_lease_duration_seconds;
    let interval = lease::renew_interval(duration);
    let mut backoff = Duration::from_millis(200);
    loop {
        match lease::renew_once(api, &opts.node_name, node_uid, duration).await {
            Ok(_) => {
                backoff = Duration::from_millis(200);
                tokio::time::sleep(interval).await;
            }
            Err(e) => {
                tracing::warn!(error = %format!("{e:#}"), "renewing node lease");
                tokio::time::sleep(backoff.min(interval)).await;
                backoff = (backoff * 2).min(Duration::from_secs(7));
            }
        }
    }
}
