//! The pod sandbox: a network namespace every container of the pod joins, attached to the
//! node's pod network with CNI. A hostNetwork pod's sandbox is a named handle on the
//! kubelet's own network namespace (`ip netns attach`), so tools that enter "the pod's
//! netns" (port-forward) work the same; no CNI runs for it. Blocking (it execs `ip` and
//! the plugins); async callers use `spawn_blocking`.

use std::net::IpAddr;

use crate::network::{CapabilityArgs, Cni, CniResult, NetNs, NetworkConfigList, PodArgs, Sandbox};

use super::{PodError, Result};

/// The interface name the pod sees (what every Kubernetes runtime uses).
pub const POD_IFNAME: &str = "eth0";

/// A pod's live sandbox.
#[derive(Debug, Clone)]
pub struct PodSandbox {
    /// The sandbox id: the pod uid (also the CNI container id).
    pub id: String,
    /// `<namespace>/<name>`, for messages.
    pub pod: String,
    pub netns: NetNs,
    /// The CNI network, attachment and result; None for a hostNetwork pod.
    pub network: Option<NetworkConfigList>,
    pub cni_sandbox: Option<Sandbox>,
    pub result: Option<CniResult>,
    /// The pod uses the node's network namespace.
    pub host_network: bool,
}

impl PodSandbox {
    /// The netns name for a pod: stable (from the uid) so a restarted kubelet finds it.
    pub fn netns_name(uid: &str) -> String {
        format!("fk-{uid}")
    }

    /// Creates the netns and runs CNI ADD. On failure whatever was made is undone, so a
    /// failed create leaves nothing behind.
    pub fn create(cni: &Cni, namespace: &str, name: &str, uid: &str) -> Result<PodSandbox> {
        let pod = format!("{namespace}/{name}");
        let net_err = |context: &str| {
            let pod = pod.clone();
            let context = context.to_string();
            move |source| PodError::Network {
                pod,
                context,
                source: Box::new(source),
            }
        };
        let network = cni
            .load_network()
            .map_err(net_err("loading the CNI network"))?;
        let netns = NetNs::create(&Self::netns_name(uid))
            .map_err(net_err("creating the network namespace"))?;
        let cni_sandbox = Sandbox {
            container_id: uid.to_string(),
            netns: netns.path().to_path_buf(),
            ifname: POD_IFNAME.into(),
            pod: Some(PodArgs {
                namespace: namespace.into(),
                name: name.into(),
                uid: uid.into(),
            }),
            capabilities: CapabilityArgs::default(),
        };
        match cni.add(&network, &cni_sandbox) {
            Ok(result) => Ok(PodSandbox {
                id: uid.to_string(),
                pod,
                netns,
                network: Some(network),
                cni_sandbox: Some(cni_sandbox),
                result: Some(result),
                host_network: false,
            }),
            Err(e) => {
                // DEL is idempotent and releases a lease a half-done ADD may hold.
                if let Err(del) = cni.del(&network, &cni_sandbox) {
                    tracing::warn!(pod = %pod, error = %del, "CNI DEL after failed ADD");
                }
                if let Err(rm) = netns.delete() {
                    tracing::warn!(pod = %pod, error = %rm, "deleting netns after failed ADD");
                }
                Err(net_err("CNI ADD")(e))
            }
        }
    }

    /// The handle name of a hostNetwork pod's (the node's) netns: a different prefix, so
    /// nothing that cleans up `fk-*` pod namespaces with CNI DEL ever touches it.
    pub fn host_netns_name(uid: &str) -> String {
        format!("fkh-{uid}")
    }

    /// A hostNetwork pod's sandbox: `fkh-<uid>` names the kubelet's own network namespace
    /// (a bind mount of /proc/<pid>/ns/net that `teardown` removes; the namespace stays).
    pub fn host(namespace: &str, name: &str, uid: &str) -> Result<PodSandbox> {
        let pod = format!("{namespace}/{name}");
        let net_err = |source| PodError::Network {
            pod: pod.clone(),
            context: "naming the host network namespace".into(),
            source: Box::new(source),
        };
        let netns = NetNs::named(&Self::host_netns_name(uid)).map_err(net_err)?;
        if !netns.exists() {
            let pid = std::process::id().to_string();
            let out = std::process::Command::new("ip")
                .args(["netns", "attach", netns.name(), &pid])
                .output()
                .map_err(|e| PodError::Io {
                    pod: pod.clone(),
                    context: "running `ip netns attach` (is iproute2 installed?)".into(),
                    source: e,
                })?;
            if !out.status.success() {
                return Err(PodError::Io {
                    pod: pod.clone(),
                    context: format!("`ip netns attach {} {pid}` failed", netns.name()),
                    source: std::io::Error::other(
                        String::from_utf8_lossy(&out.stderr).trim().to_string(),
                    ),
                });
            }
        }
        Ok(PodSandbox {
            id: uid.to_string(),
            pod,
            netns,
            network: None,
            cni_sandbox: None,
            result: None,
            host_network: true,
        })
    }

    /// status.podIPs: the addresses on the pod's interface (none for hostNetwork: the
    /// caller uses the node's).
    pub fn pod_ips(&self) -> Vec<IpAddr> {
        self.result
            .as_ref()
            .map(|r| r.pod_ips(POD_IFNAME))
            .unwrap_or_default()
    }

    /// CNI DEL (releases the IP lease, removes the veth) then deletes the netns. Both
    /// steps are attempted; either can be retried.
    pub fn teardown(&self, cni: &Cni) -> Result<()> {
        let del = match (&self.network, &self.cni_sandbox) {
            (Some(network), Some(sandbox)) => {
                cni.del(network, sandbox)
                    .map_err(|source| PodError::Network {
                        pod: self.pod.clone(),
                        context: "CNI DEL".into(),
                        source: Box::new(source),
                    })
            }
            _ => Ok(()),
        };
        let rm = self.netns.delete().map_err(|source| PodError::Network {
            pod: self.pod.clone(),
            context: "deleting the network namespace".into(),
            source: Box::new(source),
        });
        del.and(rm)
    }
}
