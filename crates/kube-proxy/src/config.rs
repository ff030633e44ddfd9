//! Flags and the KubeProxyConfiguration file (kubeproxy.config.k8s.io/v1alpha1), merged
//! into [`Settings`]: the file gives the base, flags given on the command line win.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::model::Cidr;

pub const API_VERSION: &str = "kubeproxy.config.k8s.io/v1alpha1";
pub const KIND: &str = "KubeProxyConfiguration";
pub const DEFAULT_HEALTHZ_PORT: u16 = 10256;
pub const DEFAULT_METRICS_PORT: u16 = 10249;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("reading {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("decoding {path}: {message}")]
    Decode { path: PathBuf, message: String },
    #[error("{0}")]
    Invalid(String),
}

/// Upstream's kube-proxy flags (the ones this implementation acts on).
#[derive(clap::Parser, Debug, Default, Clone)]
#[command(
    name = "kube-proxy",
    about = "The Kubernetes network proxy: Services -> nftables"
)]
pub struct Flags {
    /// The path to the configuration file (KubeProxyConfiguration).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Path to kubeconfig file with authorization information.
    #[arg(long)]
    pub kubeconfig: Option<PathBuf>,
    /// If non-empty, use this string as the node name instead of the hostname.
    #[arg(long)]
    pub hostname_override: Option<String>,
    /// The CIDR range of the pods in the cluster (comma-separated for dual-stack);
    /// traffic to ClusterIPs from outside it is masqueraded.
    #[arg(long)]
    pub cluster_cidr: Option<String>,
    /// Which proxy mode to use: only 'nftables' is implemented.
    #[arg(long)]
    pub proxy_mode: Option<String>,
    /// Addresses that accept NodePort traffic: CIDRs or "primary" (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub nodeport_addresses: Option<Vec<String>>,
    /// ip:port for the health check server (empty disables it).
    #[arg(long)]
    pub healthz_bind_address: Option<String>,
    /// ip:port for the metrics server (empty disables it).
    #[arg(long)]
    pub metrics_bind_address: Option<String>,
    /// How often rules are fully re-synchronized.
    #[arg(long, alias = "iptables-sync-period", alias = "nftables-sync-period",
          value_parser = component_base::duration::clap_parser)]
    pub sync_period: Option<Duration>,
    /// The minimum period between rule syncs.
    #[arg(long, alias = "iptables-min-sync-period", alias = "nftables-min-sync-period",
          value_parser = component_base::duration::clap_parser)]
    pub min_sync_period: Option<Duration>,
    /// SNAT all traffic sent via Service cluster IPs.
    #[arg(long)]
    pub masquerade_all: bool,
    /// The bit of the fwmark space to mark packets requiring SNAT with (0-31).
    #[arg(long, alias = "nftables-masquerade-bit")]
    pub iptables_masquerade_bit: Option<u8>,
    /// Delete kube-proxy's nftables tables and exit.
    #[arg(long)]
    pub cleanup: bool,
    /// Log verbosity.
    #[arg(short = 'v', long = "v", default_value_t = 0)]
    pub v: u8,
    /// Log format: text or json.
    #[arg(long, default_value = "text")]
    pub logging_format: String,
}

/// The subset of KubeProxyConfiguration v1alpha1 this proxier uses. Other fields are
/// accepted and ignored.
#[derive(Debug, Default, Deserialize, Clone)]
#[serde(rename_all = "camelCase")]
pub struct KubeProxyConfiguration {
    pub api_version: Option<String>,
    pub kind: Option<String>,
    pub mode: Option<String>,
    #[serde(rename = "clusterCIDR")]
    pub cluster_cidr: Option<String>,
    pub node_port_addresses: Option<Vec<String>>,
    pub sync_period: Option<String>,
    pub min_sync_period: Option<String>,
    pub healthz_bind_address: Option<String>,
    pub metrics_bind_address: Option<String>,
    pub hostname_override: Option<String>,
    pub client_connection: Option<ClientConnection>,
    pub nftables: Option<ModeConfiguration>,
}

#[derive(Debug, Default, Deserialize, Clone)]
#[serde(rename_all = "camelCase")]
pub struct ClientConnection {
    pub kubeconfig: Option<String>,
}

/// `nftables:` section.
#[derive(Debug, Default, Deserialize, Clone)]
#[serde(rename_all = "camelCase")]
pub struct ModeConfiguration {
    pub masquerade_all: Option<bool>,
    pub masquerade_bit: Option<i32>,
    pub sync_period: Option<String>,
    pub min_sync_period: Option<String>,
}

impl KubeProxyConfiguration {
    /// Reads a YAML or JSON file.
    pub fn load(path: &Path) -> Result<KubeProxyConfiguration, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text).map_err(|message| ConfigError::Decode {
            path: path.to_path_buf(),
            message,
        })
    }

    pub fn parse(text: &str) -> Result<KubeProxyConfiguration, String> {
        let cfg: KubeProxyConfiguration =
            serde_saphyr::from_str(text).map_err(|e| e.to_string())?;
        if cfg.kind.as_deref().is_some_and(|k| k != KIND) {
            return Err(format!(
                "kind {:?} is not {KIND}",
                cfg.kind.unwrap_or_default()
            ));
        }
        if cfg.api_version.as_deref().is_some_and(|v| v != API_VERSION) {
            return Err(format!(
                "no kind \"{KIND}\" is registered for version {:?}",
                cfg.api_version.unwrap_or_default()
            ));
        }
        Ok(cfg)
    }
}

/// Everything the daemon needs, resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub kubeconfig: Option<PathBuf>,
    pub hostname: String,
    pub cluster_cidrs: Vec<Cidr>,
    /// Raw --nodeport-addresses (CIDRs / "primary"); resolved against the node's
    /// addresses at start-up by [`resolve_nodeport_ips`].
    pub nodeport_addresses: Vec<String>,
    pub healthz_bind_address: Option<SocketAddr>,
    pub metrics_bind_address: Option<SocketAddr>,
    pub sync_period: Duration,
    pub min_sync_period: Duration,
    pub masquerade_all: bool,
    pub masquerade_bit: u8,
}

fn duration(field: &str, s: &str) -> Result<Duration, ConfigError> {
    component_base::duration::parse(s).map_err(|e| ConfigError::Invalid(format!("{field}: {e}")))
}

/// "ip:port", or a bare IP (the default port); "" disables the server.
pub fn bind_address(
    field: &str,
    s: &str,
    default_port: u16,
) -> Result<Option<SocketAddr>, ConfigError> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    if let Ok(addr) = s.parse::<SocketAddr>() {
        return Ok(Some(addr));
    }
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Ok(Some(SocketAddr::new(ip, default_port)));
    }
    Err(ConfigError::Invalid(format!(
        "{field}: invalid address {s:?}"
    )))
}

impl Settings {
    /// Merges the file (if any) and the flags; `hostname` is the machine's hostname.
    pub fn resolve(
        flags: &Flags,
        file: Option<&KubeProxyConfiguration>,
        hostname: &str,
    ) -> Result<Settings, ConfigError> {
        let empty = KubeProxyConfiguration::default();
        let file = file.unwrap_or(&empty);
        let nft = file.nftables.clone().unwrap_or_default();

        let mode = flags
            .proxy_mode
            .clone()
            .or(file.mode.clone())
            .unwrap_or_default();
        if !(mode.is_empty() || mode == "nftables") {
            return Err(ConfigError::Invalid(format!(
                "unsupported proxy mode {mode:?}: this kube-proxy implements only \"nftables\""
            )));
        }
        let hostname = flags
            .hostname_override
            .clone()
            .or(file.hostname_override.clone())
            .filter(|h| !h.trim().is_empty())
            .unwrap_or_else(|| hostname.to_string())
            .trim()
            .to_lowercase();
        let mut cluster_cidrs = Vec::new();
        if let Some(raw) = flags.cluster_cidr.clone().or(file.cluster_cidr.clone()) {
            for part in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                let cidr = Cidr::parse(part).ok_or_else(|| {
                    ConfigError::Invalid(format!("clusterCIDR: invalid CIDR address: {part}"))
                })?;
                cluster_cidrs.push(cidr);
            }
        }
        let nodeport_addresses = flags
            .nodeport_addresses
            .clone()
            .or(file.node_port_addresses.clone())
            .unwrap_or_default()
            .into_iter()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>();
        for a in &nodeport_addresses {
            if a != "primary" && Cidr::parse(a).is_none_or(|_| !a.contains('/')) {
                return Err(ConfigError::Invalid(format!(
                    "nodePortAddresses: invalid value {a:?}: must be a CIDR or \"primary\""
                )));
            }
        }
        let healthz = match flags
            .healthz_bind_address
            .clone()
            .or(file.healthz_bind_address.clone())
        {
            Some(s) => bind_address("healthzBindAddress", &s, DEFAULT_HEALTHZ_PORT)?,
            None => Some(SocketAddr::from(([0, 0, 0, 0], DEFAULT_HEALTHZ_PORT))),
        };
        let metrics = match flags
            .metrics_bind_address
            .clone()
            .or(file.metrics_bind_address.clone())
        {
            Some(s) => bind_address("metricsBindAddress", &s, DEFAULT_METRICS_PORT)?,
            None => Some(SocketAddr::from(([127, 0, 0, 1], DEFAULT_METRICS_PORT))),
        };
        let sync_period = match (
            flags.sync_period,
            file.sync_period.as_deref().or(nft.sync_period.as_deref()),
        ) {
            (Some(d), _) => d,
            (None, Some(s)) => duration("syncPeriod", s)?,
            (None, None) => Duration::from_secs(30),
        };
        let min_sync_period = match (
            flags.min_sync_period,
            file.min_sync_period
                .as_deref()
                .or(nft.min_sync_period.as_deref()),
        ) {
            (Some(d), _) => d,
            (None, Some(s)) => duration("minSyncPeriod", s)?,
            (None, None) => Duration::from_secs(1),
        };
        if sync_period.is_zero() {
            return Err(ConfigError::Invalid(
                "syncPeriod: must be greater than 0".into(),
            ));
        }
        let masquerade_bit = match flags.iptables_masquerade_bit {
            Some(b) => i32::from(b),
            None => nft.masquerade_bit.unwrap_or(14),
        };
        if !(0..=31).contains(&masquerade_bit) {
            return Err(ConfigError::Invalid(format!(
                "masqueradeBit: {masquerade_bit}: must be within the range [0, 31]"
            )));
        }
        let kubeconfig = flags.kubeconfig.clone().or_else(|| {
            file.client_connection
                .as_ref()
                .and_then(|c| c.kubeconfig.clone())
                .filter(|k| !k.is_empty())
                .map(PathBuf::from)
        });
        Ok(Settings {
            kubeconfig,
            hostname,
            cluster_cidrs,
            nodeport_addresses,
            healthz_bind_address: healthz,
            metrics_bind_address: metrics,
            sync_period,
            min_sync_period,
            masquerade_all: flags.masquerade_all || nft.masquerade_all.unwrap_or(false),
            masquerade_bit: masquerade_bit as u8,
        })
    }
}

/// Resolves --nodeport-addresses: empty or "primary" means the node's primary IPs
/// (upstream's nftables default), a /0 CIDR means every local address (None), other
/// CIDRs select the interface addresses inside them.
pub fn resolve_nodeport_ips(
    specs: &[String],
    node_ips: &[IpAddr],
    interface_ips: &[IpAddr],
) -> Option<Vec<IpAddr>> {
    if specs.is_empty() {
        return Some(node_ips.to_vec());
    }
    let mut out = Vec::new();
    for spec in specs {
        if spec == "primary" {
            out.extend_from_slice(node_ips);
            continue;
        }
        let Some(cidr) = Cidr::parse(spec) else {
            continue;
        };
        if cidr.prefix == 0 {
            return None;
        }
        out.extend(interface_ips.iter().filter(|ip| cidr.contains(ip)));
    }
    out.sort();
    out.dedup();
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[test]
    fn file_then_flags() {
        let file = KubeProxyConfiguration::parse(
            "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: nftables\n\
             clusterCIDR: 10.244.0.0/16\nnodePortAddresses: [\"192.168.0.0/16\"]\nsyncPeriod: 1m\n\
             healthzBindAddress: 0.0.0.0:10256\nmetricsBindAddress: 127.0.0.1:10249\n\
             hostnameOverride: Node-A\nclientConnection:\n  kubeconfig: /etc/kp.kubeconfig\n\
             nftables:\n  masqueradeAll: true\n  minSyncPeriod: 2s\n",
        )
        .unwrap();
        let flags = Flags::parse_from(["kube-proxy", "--min-sync-period", "3s", "--v", "2"]);
        let s = Settings::resolve(&flags, Some(&file), "host").unwrap();
        assert_eq!(s.hostname, "node-a");
        assert_eq!(s.cluster_cidrs, vec![Cidr::parse("10.244.0.0/16").unwrap()]);
        assert_eq!(s.sync_period, Duration::from_secs(60));
        assert_eq!(s.min_sync_period, Duration::from_secs(3));
        assert!(s.masquerade_all);
        assert_eq!(s.kubeconfig, Some(PathBuf::from("/etc/kp.kubeconfig")));
        assert_eq!(s.nodeport_addresses, vec!["192.168.0.0/16".to_string()]);
    }

    #[test]
    fn defaults_are_upstreams() {
        let s = Settings::resolve(&Flags::parse_from(["kube-proxy"]), None, "h").unwrap();
        assert_eq!(
            s.healthz_bind_address,
            Some("0.0.0.0:10256".parse().unwrap())
        );
        assert_eq!(
            s.metrics_bind_address,
            Some("127.0.0.1:10249".parse().unwrap())
        );
        assert_eq!(s.sync_period, Duration::from_secs(30));
        assert_eq!(s.min_sync_period, Duration::from_secs(1));
        assert_eq!(s.masquerade_bit, 14);
    }

    #[test]
    fn bad_input_is_refused_with_the_field_named() {
        let err = |args: &[&str]| {
            Settings::resolve(&Flags::parse_from(args), None, "h")
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default()
        };
        assert!(err(&["kp", "--proxy-mode", "ipvs"]).contains("unsupported proxy mode"));
        assert!(err(&["kp", "--cluster-cidr", "10.0.0.0/40"]).contains("clusterCIDR"));
        assert!(err(&["kp", "--nodeport-addresses", "10.0.0.1"]).contains("nodePortAddresses"));
        assert!(err(&["kp", "--healthz-bind-address", "nope"]).contains("healthzBindAddress"));
        assert!(KubeProxyConfiguration::parse("kind: KubeletConfiguration\n").is_err());
    }

    #[test]
    fn nodeport_addresses_resolve() {
        let node: Vec<IpAddr> = vec!["192.168.1.10".parse().unwrap()];
        let ifaces: Vec<IpAddr> =
            vec!["192.168.1.10".parse().unwrap(), "10.0.0.5".parse().unwrap()];
        assert_eq!(
            resolve_nodeport_ips(&[], &node, &ifaces),
            Some(node.clone())
        );
        assert_eq!(
            resolve_nodeport_ips(&["0.0.0.0/0".into()], &node, &ifaces),
            None
        );
        assert_eq!(
            resolve_nodeport_ips(&["10.0.0.0/8".into()], &node, &ifaces),
            Some(vec!["10.0.0.5".parse().unwrap()])
        );
    }
}
