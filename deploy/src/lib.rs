//! Cluster PKI, kubeconfigs, token files and local processes: what it takes to stand up
//! ferrokube on one machine, used by `cargo xtask up`, the end-to-end test harness and
//! (later) the install tooling.
//!
//! - [`pki`]: a cluster CA, the kube-apiserver serving certificate, client certificates.
//! - [`kubeconfig`]: kubeconfig files with embedded credentials.
//! - [`token_file`]: the CSV of `--token-auth-file`.
//! - [`process`]: background daemons with log and pid files, stopped by PID.
//! - [`http`]: a tiny blocking HTTP(S) client for health checks.
//! - [`images`]: test images (static busybox) as OCI layout tarballs, a local registry, push.
//! - [`local_cluster`]: etcd + kube-apiserver on loopback in one directory.
//! - [`components`]: kube-scheduler, kube-controller-manager, kube-proxy, coredns-addon.
//! - [`node`]: containerd, CNI conflist, kubelet credentials/config and the kubelet beside it.

pub mod components;
mod fsutil;
pub mod http;
pub mod images;
pub mod kubeconfig;
pub mod local_cluster;
pub mod node;
pub mod pki;
pub mod process;
pub mod token_file;

pub use fsutil::{write_private, write_public};
pub use kubeconfig::{Credentials, Kubeconfig};
pub use local_cluster::{ClusterPaths, Component, LocalCluster, LocalClusterConfig};
pub use pki::{ensure_pki, ensure_pki_with, CertPair, Pki, PkiOptions};
pub use process::{Daemon, DaemonSpec};
pub use token_file::{generate_token, write_token_file, TokenEntry};
