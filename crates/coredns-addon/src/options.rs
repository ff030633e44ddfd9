//! Command-line flags. CoreDNS is configured by a Corefile; this addon takes the handful of
//! settings a Kubernetes cluster's Corefile carries as flags, named after the kube-* ones
//! (`--kubeconfig`, `--cluster-domain`, `--v`) and CoreDNS's defaults (ports 53, 8080,
//! 8181, 9153; TTL 5; forward to /etc/resolv.conf).

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use clap::Parser;

use crate::cache::DEFAULT_CAPACITY;
use crate::records::DEFAULT_TTL;

#[derive(Debug, Clone, Parser)]
#[command(
    name = "coredns-addon",
    about = "Cluster DNS: answers <svc>.<ns>.svc.<domain> from Services and EndpointSlices, forwards the rest."
)]
pub struct Options {
    /// Path to a kubeconfig; in-cluster or $KUBECONFIG configuration when empty.
    #[arg(long)]
    pub kubeconfig: Option<PathBuf>,

    /// The cluster domain served authoritatively.
    #[arg(long, default_value = "cluster.local")]
    pub cluster_domain: String,

    /// Address and port for DNS over UDP and TCP.
    #[arg(long, default_value = "0.0.0.0:53")]
    pub dns_bind_address: SocketAddr,

    /// Upstream resolvers (IP or IP:port, repeatable or comma-separated); the
    /// nameservers of --resolv-conf when not given.
    #[arg(long, value_delimiter = ',', value_parser = crate::forward::parse_upstream)]
    pub upstream: Vec<SocketAddr>,

    /// The resolv.conf whose nameservers are the upstreams when --upstream is not given.
    #[arg(long, default_value = "/etc/resolv.conf")]
    pub resolv_conf: String,

    /// TTL in seconds of the cluster zone's records.
    #[arg(long, default_value_t = DEFAULT_TTL)]
    pub ttl: u32,

    /// Entries of the forwarding cache (0 disables it).
    #[arg(long, default_value_t = DEFAULT_CAPACITY)]
    pub cache_size: usize,

    /// Address the health (/health) and readiness (/ready) endpoints listen on.
    #[arg(long, default_value = "0.0.0.0")]
    pub health_bind_address: IpAddr,

    /// Port of /health (answers "OK" while the process runs, as CoreDNS's health plugin).
    #[arg(long, default_value_t = 8080)]
    pub health_port: u16,

    /// Port of /ready ("OK" once the Services and EndpointSlices are synced, as CoreDNS's
    /// ready plugin).
    #[arg(long, default_value_t = 8181)]
    pub ready_port: u16,

    /// Address and port of /metrics.
    #[arg(long, default_value = "0.0.0.0:9153")]
    pub metrics_bind_address: SocketAddr,

    /// Upstream query timeout in seconds.
    #[arg(long, default_value_t = 2)]
    pub upstream_timeout: u64,

    /// Log verbosity (klog levels).
    #[arg(long, short = 'v', default_value_t = 0)]
    pub v: u8,

    /// Log format: text or json.
    #[arg(long, default_value = "text")]
    pub logging_format: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_coredns_ones() {
        let o = Options::parse_from(["coredns-addon"]);
        assert_eq!(o.cluster_domain, "cluster.local");
        assert_eq!(o.dns_bind_address, "0.0.0.0:53".parse().unwrap());
        assert_eq!(o.ttl, 5);
        assert_eq!(o.health_port, 8080);
        assert_eq!(o.ready_port, 8181);
        assert_eq!(o.metrics_bind_address.port(), 9153);
        assert!(o.upstream.is_empty());
    }

    #[test]
    fn upstreams_are_a_list() {
        let o = Options::parse_from([
            "coredns-addon",
            "--upstream",
            "127.0.0.1:5300,127.0.0.2",
            "--upstream=[::1]:53",
        ]);
        assert_eq!(o.upstream.len(), 3);
        assert_eq!(o.upstream[1], "127.0.0.2:53".parse().unwrap());
        assert!(Options::try_parse_from(["coredns-addon", "--upstream", "nope"]).is_err());
    }
}
