//! Running one Pod on this node: the core of the kubelet's pod worker, without the
//! API-server wiring (that feeds pods in and writes status back).
//!
//! * [`sandbox`]: the pod's network namespace, CNI ADD/DEL, its IPs.
//! * [`containers`]: a PodSpec container + image config -> [`OciSpecInput`] (pure).
//! * [`status`]: observed container states -> `PodStatus` (pure, upstream semantics).
//! * [`worker`]: [`PodRunner`]: start (init containers in order, then app containers),
//!   status, stop (SIGTERM, grace period, SIGKILL, delete, CNI DEL, netns delete).
//!
//! Naming: the sandbox id is the pod uid, container ids are `<uid>-<container name>`, and
//! logs go to `<root>/pods/<namespace>_<name>_<uid>/<container>/0.log`.
//!
//! [`OciSpecInput`]: crate::runtime::OciSpecInput

pub mod containers;
pub mod manager;
pub mod sandbox;
pub mod status;
pub mod worker;

use std::path::{Path, PathBuf};

pub use containers::{container_spec, ImageConfig};
pub use sandbox::PodSandbox;
pub use status::{compute_status, ObservedContainer, ObservedState, PodObservation};
pub use worker::{PodRunner, RunningPod};

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

/// `<root>/pods/<namespace>_<name>_<uid>`: the pod's log directory (upstream's layout
/// under /var/log/pods, so log collectors find the files).
pub fn pod_log_dir(root: &Path, namespace: &str, name: &str, uid: &str) -> PathBuf {
    root.join("pods").join(format!("{namespace}_{name}_{uid}"))
}

/// A container's first log file. The runtime's `LogFile` mode writes raw stdout+stderr;
/// the CRI log format (`<time> <stream> <P|F> <line>`) needs the FIFO mode: a later step.
pub fn container_log_path(pod_dir: &Path, container: &str) -> PathBuf {
    pod_dir.join(container).join("0.log")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_paths() {
        assert_eq!(container_id("u-1", "app"), "u-1-app");
        let dir = pod_log_dir(Path::new("/var/log"), "default", "web", "u-1");
        assert_eq!(dir, Path::new("/var/log/pods/default_web_u-1"));
        assert_eq!(
            container_log_path(&dir, "app"),
            Path::new("/var/log/pods/default_web_u-1/app/0.log")
        );
    }
}
