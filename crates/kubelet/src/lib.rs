//! kubelet: the node agent. Built piece by piece: the container runtime (containerd's
//! native API) and pod networking (CNI) come first, each tested against the real
//! daemon and plugins; the pod workers, node status and the HTTPS API follow.

pub mod config;
// kubelet-images: start-up cleanup of what a previous kubelet left.
pub mod housekeeping;
pub mod images;
// kubelet-streaming: CRI logs, metrics, the :10250 API and its streams.
pub mod logs;
pub mod metrics;
pub mod network;
pub mod node;
pub mod pod;
pub mod server;
pub mod streams;
// Registry mirrors (registries.yaml) and pull-secret credentials (image pulls).
pub mod registries;
pub mod runtime;
// kubelet-images: static pods from staticPodPath and their mirror pods.
pub mod static_pods;
