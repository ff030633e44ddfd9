//! The daemons that run beside etcd + kube-apiserver in a local cluster: the control
//! plane's kube-scheduler and kube-controller-manager (each with its own client
//! certificate, user `system:kube-scheduler` / `system:kube-controller-manager` as
//! upstream's kubeadm issues them) and the node add-ons kube-proxy and coredns-addon.
//! Each is adopted when it already runs from this directory, so `up` is safe to repeat.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};

use crate::local_cluster::{ClusterPaths, CLUSTER_NAME};
use crate::pki::Pki;
use crate::process::{stop_pid_file, Daemon, DaemonSpec};
use crate::Kubeconfig;

const STOP_GRACE: Duration = Duration::from_secs(15);

/// The pod network of the whole cluster (node IPAM hands out /24s of it).
pub const CLUSTER_CIDR: &str = "10.244.0.0/16";
/// The Service range kube-apiserver allocates ClusterIPs from (its default).
pub const SERVICE_CIDR: &str = "10.96.0.0/12";

/// deploy/manifests/kube-dns.yaml: the `kube-dns` Service at 10.96.0.10, its
/// EndpointSlice and the addon's RBAC.
const KUBE_DNS_MANIFEST: &str = include_str!("../manifests/kube-dns.yaml");

/// The kube-dns manifest with `node_ip` (where coredns-addon listens) as its endpoint.
pub fn kube_dns_manifest(node_ip: &str) -> String {
    KUBE_DNS_MANIFEST.replace("${NODE_IP}", node_ip)
}

/// A daemon of the local cluster: its binary name, the user its client certificate
/// names, and where its files go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Addon {
    Scheduler,
    ControllerManager,
    KubeProxy,
    CoreDns,
}

impl Addon {
    pub const ALL: [Addon; 4] = [
        Addon::Scheduler,
        Addon::ControllerManager,
        Addon::KubeProxy,
        Addon::CoreDns,
    ];

    pub fn binary(self) -> &'static str {
        match self {
            Addon::Scheduler => "kube-scheduler",
            Addon::ControllerManager => "kube-controller-manager",
            Addon::KubeProxy => "kube-proxy",
            Addon::CoreDns => "coredns-addon",
        }
    }

    /// The identity in its client certificate (user, groups), as kubeadm issues them.
    fn identity(self) -> (&'static str, &'static [&'static str]) {
        match self {
            Addon::Scheduler => ("system:kube-scheduler", &[]),
            Addon::ControllerManager => ("system:kube-controller-manager", &[]),
            Addon::KubeProxy => ("system:kube-proxy", &["system:node-proxier"]),
            Addon::CoreDns => (
                "system:serviceaccount:kube-system:coredns",
                &["system:serviceaccounts"],
            ),
        }
    }

    /// Node add-ons program the host (nftables, port 53): they need root.
    pub fn needs_root(self) -> bool {
        matches!(self, Addon::KubeProxy | Addon::CoreDns)
    }
}

/// Where an add-on's kubeconfig, pid and log go in the cluster directory.
pub struct AddonPaths {
    pub kubeconfig: PathBuf,
    pub pid: PathBuf,
    pub log: PathBuf,
}

impl AddonPaths {
    pub fn new(cluster: &ClusterPaths, addon: Addon) -> Self {
        let name = addon.binary();
        AddonPaths {
            kubeconfig: cluster.dir.join(format!("{name}.kubeconfig")),
            pid: cluster.run_dir.join(format!("{name}.pid")),
            log: cluster.logs_dir.join(format!("{name}.log")),
        }
    }
}

/// Writes the add-on's kubeconfig (a client certificate from the cluster CA).
pub fn write_kubeconfig(pki: &Pki, server: &str, addon: Addon, path: &Path) -> Result<()> {
    let (user, groups) = addon.identity();
    let pair = pki
        .ensure_client_cert(addon.binary(), user, groups)
        .with_context(|| format!("issuing the {} client certificate", addon.binary()))?;
    Kubeconfig::with_client_cert(CLUSTER_NAME, server, &pki.ca_pem()?, user, &pair)?.write(path)
}

/// Upstream flags for each add-on in a one-machine cluster.
pub fn args(
    addon: Addon,
    paths: &AddonPaths,
    cluster: &ClusterPaths,
    node_name: &str,
) -> Vec<String> {
    let kubeconfig = paths.kubeconfig.display().to_string();
    let mut a = vec!["--kubeconfig".to_string(), kubeconfig];
    match addon {
        Addon::Scheduler => a.extend([
            "--bind-address=127.0.0.1".into(),
            "--secure-port=10259".into(),
        ]),
        Addon::ControllerManager => a.extend([
            "--bind-address=127.0.0.1".into(),
            "--secure-port=10257".into(),
            format!("--cluster-cidr={CLUSTER_CIDR}"),
            format!("--service-cluster-ip-range={SERVICE_CIDR}"),
            format!(
                "--root-ca-file={}",
                cluster.pki_dir.join("ca.crt").display()
            ),
        ]),
        Addon::KubeProxy => a.extend([
            format!("--hostname-override={node_name}"),
            format!("--cluster-cidr={CLUSTER_CIDR}"),
            "--healthz-bind-address=127.0.0.1:10256".into(),
            "--metrics-bind-address=127.0.0.1:10249".into(),
        ]),
        Addon::CoreDns => a.extend(["--cluster-domain=cluster.local".into()]),
    }
    a
}

/// Starts `addon` from `bin_dir` (or adopts the running one). Returns it and whether it
/// was started now.
pub fn ensure(
    addon: Addon,
    bin_dir: &Path,
    cluster: &ClusterPaths,
    pki: &Pki,
    server: &str,
    node_name: &str,
) -> Result<(Daemon, bool)> {
    let paths = AddonPaths::new(cluster, addon);
    let bin = bin_dir.join(addon.binary());
    if let Some(d) = Daemon::adopt(addon.binary(), &bin, &paths.pid, &paths.log)? {
        return Ok((d, false));
    }
    if !bin.is_file() {
        anyhow::bail!(
            "{} is missing (build it with `cargo build --bins`)",
            bin.display()
        );
    }
    write_kubeconfig(pki, server, addon, &paths.kubeconfig)?;
    let spec = DaemonSpec::new(addon.binary(), &bin, &paths.log, &paths.pid)
        .detach(true)
        .args(args(addon, &paths, cluster, node_name));
    Ok((Daemon::spawn(&spec)?, true))
}

/// Stops every add-on of the cluster directory (by pid file); returns (name, pid) of
/// those that ran.
pub fn stop_all(dir: &Path) -> Result<Vec<(&'static str, u32)>> {
    let cluster = ClusterPaths::new(dir);
    let mut stopped = Vec::new();
    for addon in Addon::ALL {
        let paths = AddonPaths::new(&cluster, addon);
        if let Some(pid) = stop_pid_file(&paths.pid, Path::new(addon.binary()), STOP_GRACE)? {
            stopped.push((addon.binary(), pid));
        }
    }
    Ok(stopped)
}

/// Removes the nftables tables kube-proxy programs (as `kube-proxy --cleanup` does), so
/// Service rules do not outlive the cluster. Returns the tables removed.
pub fn remove_kube_proxy_rules() -> Vec<&'static str> {
    let mut removed = Vec::new();
    for (family, shown) in [("ip", "ip kube-proxy"), ("ip6", "ip6 kube-proxy")] {
        let listed = std::process::Command::new("nft")
            .args(["list", "table", family, "kube-proxy"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !listed {
            continue;
        }
        let deleted = std::process::Command::new("nft")
            .args(["delete", "table", family, "kube-proxy"])
            .status()
            .is_ok_and(|s| s.success());
        if deleted {
            removed.push(shown);
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controller_manager_gets_the_cluster_cidr_and_ca() {
        let cluster = ClusterPaths::new("/x");
        let paths = AddonPaths::new(&cluster, Addon::ControllerManager);
        let a = args(Addon::ControllerManager, &paths, &cluster, "n1");
        assert!(a.contains(&format!("--cluster-cidr={CLUSTER_CIDR}")));
        assert!(a.contains(&"--root-ca-file=/x/pki/ca.crt".to_string()));
        assert_eq!(
            paths.pid,
            PathBuf::from("/x/run/kube-controller-manager.pid")
        );
    }

    #[test]
    fn node_addons_need_root() {
        assert!(Addon::KubeProxy.needs_root());
        assert!(!Addon::Scheduler.needs_root());
    }
}
