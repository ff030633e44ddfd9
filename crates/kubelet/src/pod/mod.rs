//! Running one Pod on this node: the core of the kubelet's pod worker, without the
//! API-server wiring (that feeds pods in and writes status back).
//!
//! * [`sandbox`]: the pod's network namespace, CNI ADD/DEL, its IPs.
//! * [`containers`]: a PodSpec container + image config -> [`OciSpecInput`] (pure).
//! * [`status`]: observed container states -> `PodStatus` (pure, upstream semantics).
//! * [`worker`]: [`PodRunner`]: start (volumes, sandbox or hostNetwork, resolv.conf and
//!   hosts, init containers in order, then app containers), status, stop (preStop,
//!   SIGTERM, grace period, SIGKILL, delete, CNI DEL, netns delete, volumes unmounted).
//! * [`sync`]: one SyncPod pass: next init container, app containers, restarts per
//!   restartPolicy with CrashLoopBackOff ([`backoff`]), exit reasons (OOMKilled, ...).
//! * [`env`]: env / envFrom / valueFrom and `$(VAR)` expansion (pure), objects from
//!   [`sources`]; [`volumes`]: emptyDir, hostPath, configMap, secret, downwardAPI,
//!   projected; [`dns`]: resolv.conf and /etc/hosts (pure).
//! * [`probes`] and [`lifecycle`]: liveness / readiness / startup probes, postStart and
//!   preStop hooks (exec, httpGet, tcpSocket); [`events`]: core/v1 Events.
//!
//! Naming: the sandbox id is the pod uid, container ids are `<uid>-<container name>`,
//! logs go to `<log root>/pods/<namespace>_<name>_<uid>/<container>/<restartCount>.log`
//! and volumes under `<root-dir>/pods/<uid>/volumes/kubernetes.io~<plugin>/<name>`.
//!
//! [`OciSpecInput`]: crate::runtime::OciSpecInput

pub mod adopt;
pub mod backoff;
pub mod containers;
pub mod dns;
pub mod downward;
pub mod env;
pub mod events;
pub mod lifecycle;
pub mod manager;
pub mod probes;
pub mod sandbox;
pub mod sources;
pub mod status;
pub mod sync;
pub mod volumes;
pub mod worker;

use std::path::{Path, PathBuf};
use std::time::Duration;

pub use containers::{container_spec, ImageConfig};
pub use sandbox::PodSandbox;
pub use status::{compute_status, ObservedContainer, ObservedState, PodObservation};
pub use worker::{PodRunner, RunningPod, StartedContainer};

use crate::network::CniError;
use crate::runtime::RuntimeError;

pub type Result<T, E = PodError> = std::result::Result<T, E>;

/// What can go wrong running a pod; each variant says what was being done. Sources are
/// boxed to keep `Result`s small (CniError is large).
#[derive(Debug, thiserror::Error)]
pub enum PodError {
    #[error("invalid pod {pod}: {msg}")]
    Invalid { pod: String, msg: String },
    #[error("pod {pod}: {context}: {source}")]
    Runtime {
        pod: String,
        context: String,
        #[source]
        source: Box<RuntimeError>,
    },
    #[error("pod {pod}: {context}: {source}")]
    Network {
        pod: String,
        context: String,
        #[source]
        source: Box<CniError>,
    },
    #[error("pod {pod}: {context}: {source}")]
    Io {
        pod: String,
        context: String,
        #[source]
        source: std::io::Error,
    },
    /// Teardown kept going after failures; these are all of them.
    #[error("pod {pod}: stopping failed: {}", errors.join("; "))]
    Stop { pod: String, errors: Vec<String> },
}

/// The containerd id of a pod's container: stable across kubelet restarts, so a restarted
/// kubelet finds what it started.
pub fn container_id(pod_uid: &str, container: &str) -> String {
    format!("{pod_uid}-{container}")
}

/// `<podLogsDir>/<namespace>_<name>_<uid>`: the pod's log directory (upstream's layout
/// under /var/log/pods, so log collectors find the files).
pub fn pod_log_dir(pod_logs_dir: &Path, namespace: &str, name: &str, uid: &str) -> PathBuf {
    pod_logs_dir.join(format!("{namespace}_{name}_{uid}"))
}

/// A container's log file for its `restart_count`-th restart (`0.log`, `1.log`, ...),
/// upstream's layout under /var/log/pods.
pub fn container_log_path(pod_dir: &Path, container: &str, restart_count: i32) -> PathBuf {
    pod_dir
        .join(container)
        .join(format!("{}.log", restart_count.max(0)))
}

/// What running pods needs from the node besides containerd and CNI: the API client
/// (configMaps, secrets, events), where pod directories live, cluster DNS and the
/// node's allocatable resources (downward API defaults).
#[derive(Clone)]
pub struct PodSettings {
    /// For configMaps / secrets (env, volumes) and events; None: pods referencing
    /// objects fail with CreateContainerConfigError, events are only logged.
    pub client: Option<kube::Client>,
    /// The event source host.
    pub node_name: String,
    /// --root-dir: volumes under `<root>/pods/<uid>/volumes`.
    pub root_dir: PathBuf,
    /// KubeletConfiguration clusterDNS / clusterDomain.
    pub cluster_dns: dns::ClusterDns,
    /// The node's resolv.conf (KubeletConfiguration resolvConf), for dnsPolicy Default.
    pub host_resolv_conf: PathBuf,
    /// The node's hosts file, for hostNetwork pods.
    pub host_hosts_file: PathBuf,
    pub node_allocatable_milli_cpu: i64,
    pub node_allocatable_memory: i64,
    /// How often configMap / secret / downwardAPI volumes are rewritten from the API.
    pub volume_resync: Duration,
    pub events: events::EventRecorder,
}

impl std::fmt::Debug for PodSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PodSettings")
            .field("client", &self.client.is_some())
            .field("node_name", &self.node_name)
            .field("root_dir", &self.root_dir)
            .field("cluster_dns", &self.cluster_dns)
            .field("volume_resync", &self.volume_resync)
            .finish_non_exhaustive()
    }
}

impl Default for PodSettings {
    fn default() -> Self {
        PodSettings::new(None, "", "/var/lib/kubelet")
    }
}

impl PodSettings {
    /// Settings with upstream's defaults (cluster.local, /etc/resolv.conf, a 60 s volume
    /// resync); the event writer starts here when a client is given (inside a runtime).
    pub fn new(
        client: Option<kube::Client>,
        node_name: impl Into<String>,
        root_dir: impl Into<PathBuf>,
    ) -> Self {
        let node_name = node_name.into();
        let cpus = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1);
        PodSettings {
            events: events::EventRecorder::new(client.clone(), node_name.clone()),
            client,
            node_name,
            root_dir: root_dir.into(),
            cluster_dns: dns::ClusterDns {
                servers: Vec::new(),
                domain: "cluster.local".into(),
            },
            host_resolv_conf: "/etc/resolv.conf".into(),
            host_hosts_file: "/etc/hosts".into(),
            node_allocatable_milli_cpu: i64::try_from(cpus).unwrap_or(1).saturating_mul(1000),
            node_allocatable_memory: 0,
            volume_resync: Duration::from_secs(60),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_paths() {
        assert_eq!(container_id("u-1", "app"), "u-1-app");
        let dir = pod_log_dir(Path::new("/var/log/pods"), "default", "web", "u-1");
        assert_eq!(dir, Path::new("/var/log/pods/default_web_u-1"));
        assert_eq!(
            container_log_path(&dir, "app", 0),
            Path::new("/var/log/pods/default_web_u-1/app/0.log")
        );
        assert_eq!(
            container_log_path(&dir, "app", 3),
            Path::new("/var/log/pods/default_web_u-1/app/3.log")
        );
    }
}
