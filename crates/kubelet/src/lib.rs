//! kubelet: the node agent. Built piece by piece: the container runtime (containerd's
//! native API) and pod networking (CNI) come first, each tested against the real
//! daemon and plugins; the pod workers, node status and the HTTPS API follow.

pub mod config;
pub mod images;
pub mod network;
pub mod node;
pub mod pod;
pub mod runtime;
