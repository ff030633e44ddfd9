//! The kubelet's command line and its `KubeletConfiguration` file
//! (`kubelet.config.k8s.io/v1beta1`), with upstream names, defaults and precedence:
//! defaults < config file < command-line flags.
//!
//! Parsing is strict like upstream: an unknown field in the file is an error naming it,
//! so a typo never silently falls back to a default.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use serde::{Deserialize, Deserializer};

pub const API_VERSION: &str = "kubelet.config.k8s.io/v1beta1";
pub const KIND: &str = "KubeletConfiguration";
pub const DEFAULT_CONTAINER_RUNTIME_ENDPOINT: &str = "unix:///run/containerd/containerd.sock";

/// Upstream's flags (the subset ferrokube implements; names and defaults as upstream).
#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "kubelet",
    about = "The ferrokube node agent (upstream kubelet flags)."
)]
pub struct KubeletFlags {
    /// Path to a kubeconfig file with the API server and credentials.
    #[arg(long)]
    pub kubeconfig: Option<PathBuf>,
    /// Path to a KubeletConfiguration file; flags override its values.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// IP address of the node (its InternalIP); detected when unset.
    #[arg(long = "node-ip")]
    pub node_ip: Option<IpAddr>,
    /// Use this name instead of the hostname as the node's name.
    #[arg(long = "hostname-override")]
    pub hostname_override: Option<String>,
    /// The CRI endpoint; overrides containerRuntimeEndpoint from the config file.
    #[arg(long = "container-runtime-endpoint")]
    pub container_runtime_endpoint: Option<String>,
    /// Directory for the kubelet's files (volume mounts, plugins, pod data).
    #[arg(long = "root-dir", default_value = "/var/lib/kubelet")]
    pub root_dir: PathBuf,
    /// Labels to add when registering the node (`key=value,key2=value2`).
    #[arg(long = "node-labels", value_delimiter = ',')]
    pub node_labels: Vec<String>,
    /// Log verbosity (klog's --v).
    #[arg(long = "v", short = 'v', default_value_t = 0)]
    pub v: u8,
    // ---- kubelet-images: registry mirrors and credentials ----
    /// k3s-style registries.yaml (mirrors, per-registry auth and TLS) for image pulls;
    /// a missing file means no mirrors.
    #[arg(long = "registry-config", default_value = crate::registries::DEFAULT_REGISTRY_CONFIG)]
    pub registry_config: PathBuf,
    // ---- kubelet-streaming: the kubelet API's serving flags ----
    /// x509 certificate for HTTPS on --port (a self-signed one is generated when unset).
    #[arg(long = "tls-cert-file")]
    pub tls_cert_file: Option<PathBuf>,
    /// The private key matching --tls-cert-file.
    #[arg(long = "tls-private-key-file")]
    pub tls_private_key_file: Option<PathBuf>,
    /// Clients presenting a certificate signed by one of these CAs may use the API
    /// (authentication.x509.clientCAFile).
    #[arg(long = "client-ca-file")]
    pub client_ca_file: Option<PathBuf>,
    /// The port of the kubelet API (config: port).
    #[arg(long = "port")]
    pub port: Option<u16>,
    // ---- pod network: the CNI locations (upstream's dockershim-era flags, which the
    // kubelet dropped when containerd took over CNI; ferrokube runs CNI itself) ----
    /// Directories searched for CNI plugin binaries (comma-separated).
    #[arg(
        long = "cni-bin-dir",
        value_delimiter = ',',
        default_value = "/opt/cni/bin,/usr/lib/cni"
    )]
    pub cni_bin_dir: Vec<PathBuf>,
    /// Directory of the CNI network configuration (the first file by name is used).
    #[arg(long = "cni-conf-dir", default_value = "/etc/cni/net.d")]
    pub cni_conf_dir: PathBuf,
    /// Directory where CNI plugins' results are cached.
    #[arg(long = "cni-cache-dir", default_value = "/var/lib/cni")]
    pub cni_cache_dir: PathBuf,
}

/// A Go `metav1.Duration` as written in config files: "10s", "1m30s", "500ms", "1.5h".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct GoDuration(pub Duration);

impl<'de> Deserialize<'de> for GoDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        parse_duration(&s)
            .map(GoDuration)
            .map_err(serde::de::Error::custom)
    }
}

/// Parses Go's `time.ParseDuration` syntax (without a sign: durations here are never
/// negative). "0" alone is allowed, as in Go.
pub fn parse_duration(s: &str) -> Result<Duration> {
    let orig = s;
    let s = s.trim();
    if s == "0" {
        return Ok(Duration::ZERO);
    }
    if s.is_empty() {
        bail!("invalid duration {orig:?}: empty");
    }
    let mut rest = s;
    let mut total_nanos: f64 = 0.0;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(|| anyhow!("invalid duration {orig:?}: missing unit"))?;
        if num_len == 0 {
            bail!("invalid duration {orig:?}: expected a number at {rest:?}");
        }
        let number: f64 = rest[..num_len].parse().map_err(|_| {
            anyhow!(
                "invalid duration {orig:?}: bad number {:?}",
                &rest[..num_len]
            )
        })?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let nanos_per_unit: f64 = match &rest[..unit_len] {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            other => bail!("invalid duration {orig:?}: unknown unit {other:?}"),
        };
        total_nanos += number * nanos_per_unit;
        rest = &rest[unit_len..];
    }
    Ok(Duration::from_nanos(total_nanos.round() as u64))
}

/// `kubelet.config.k8s.io/v1beta1` `KubeletConfiguration`. Fields ferrokube acts on are
/// typed; fields it accepts but does not use yet (so kubeadm-written files load) are kept
/// as raw values. Defaults are upstream's (pkg/kubelet/apis/config/v1beta1/defaults.go).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct KubeletConfiguration {
    pub api_version: Option<String>,
    pub kind: Option<String>,

    #[serde(rename = "clusterDNS")]
    pub cluster_dns: Vec<String>,
    pub cluster_domain: String,
    #[serde(rename = "podCIDR")]
    pub pod_cidr: Option<String>,
    pub max_pods: u32,
    pub pods_per_core: u32,
    pub eviction_hard: BTreeMap<String, String>,
    pub eviction_soft: BTreeMap<String, String>,
    pub eviction_soft_grace_period: BTreeMap<String, String>,
    pub eviction_pressure_transition_period: Option<GoDuration>,
    pub kube_reserved: BTreeMap<String, String>,
    pub system_reserved: BTreeMap<String, String>,
    pub static_pod_path: Option<String>,
    #[serde(rename = "staticPodURL")]
    pub static_pod_url: Option<String>,
    pub node_status_update_frequency: GoDuration,
    pub node_status_report_frequency: GoDuration,
    pub node_lease_duration_seconds: u32,
    pub sync_frequency: GoDuration,
    pub file_check_frequency: GoDuration,
    pub http_check_frequency: GoDuration,
    pub runtime_request_timeout: GoDuration,
    pub streaming_connection_idle_timeout: GoDuration,
    pub volume_stats_agg_period: GoDuration,
    pub cpu_manager_reconcile_period: GoDuration,
    #[serde(rename = "imageMinimumGCAge")]
    pub image_minimum_gc_age: Option<GoDuration>,
    #[serde(rename = "imageMaximumGCAge")]
    pub image_maximum_gc_age: Option<GoDuration>,
    #[serde(rename = "imageGCHighThresholdPercent")]
    pub image_gc_high_threshold_percent: Option<u32>,
    #[serde(rename = "imageGCLowThresholdPercent")]
    pub image_gc_low_threshold_percent: Option<u32>,
    pub shutdown_grace_period: Option<GoDuration>,
    pub shutdown_grace_period_critical_pods: Option<GoDuration>,
    pub port: u16,
    pub read_only_port: u16,
    pub address: String,
    pub healthz_port: u16,
    pub healthz_bind_address: String,
    pub tls_cert_file: Option<String>,
    pub tls_private_key_file: Option<String>,
    pub tls_cipher_suites: Vec<String>,
    pub tls_min_version: Option<String>,
    pub rotate_certificates: bool,
    #[serde(rename = "serverTLSBootstrap")]
    pub server_tls_bootstrap: bool,
    /// Kept raw until the kubelet's HTTPS API implements webhook authn/authz.
    pub authentication: Option<serde_json::Value>,
    pub authorization: Option<serde_json::Value>,
    pub cgroup_driver: String,
    pub cgroup_root: Option<String>,
    #[serde(rename = "cgroupsPerQOS")]
    pub cgroups_per_qos: bool,
    pub container_runtime_endpoint: String,
    pub image_service_endpoint: Option<String>,
    pub resolv_conf: String,
    pub hairpin_mode: String,
    pub fail_swap_on: bool,
    pub register_node: bool,
    pub register_with_taints: Vec<serde_json::Value>,
    pub node_labels: BTreeMap<String, String>,
    #[serde(rename = "providerID")]
    pub provider_id: Option<String>,
    pub serialize_image_pulls: bool,
    pub max_parallel_image_pulls: Option<u32>,
    pub feature_gates: BTreeMap<String, bool>,
    pub logging: Option<serde_json::Value>,
    pub memory_swap: Option<serde_json::Value>,
    pub enable_server: bool,
    pub enable_debugging_handlers: bool,
    pub enable_controller_attach_detach: bool,
    pub protect_kernel_defaults: bool,
    #[serde(rename = "makeIPTablesUtilChains")]
    pub make_iptables_util_chains: bool,
    pub oom_score_adj: i32,
    pub pod_pids_limit: i64,
    pub container_log_max_size: String,
    pub container_log_max_files: u32,
    /// Where container logs are written (`<podLogsDir>/<ns>_<pod>_<uid>/<container>/N.log`).
    pub pod_logs_dir: String,
}

impl Default for KubeletConfiguration {
    fn default() -> Self {
        let s = |d| GoDuration(Duration::from_secs(d));
        KubeletConfiguration {
            api_version: None,
            kind: None,
            cluster_dns: Vec::new(),
            cluster_domain: "cluster.local".into(),
            pod_cidr: None,
            max_pods: 110,
            pods_per_core: 0,
            eviction_hard: default_eviction_hard(),
            eviction_soft: BTreeMap::new(),
            eviction_soft_grace_period: BTreeMap::new(),
            eviction_pressure_transition_period: None,
            kube_reserved: BTreeMap::new(),
            system_reserved: BTreeMap::new(),
            static_pod_path: None,
            static_pod_url: None,
            node_status_update_frequency: s(10),
            node_status_report_frequency: s(5 * 60),
            node_lease_duration_seconds: 40,
            sync_frequency: s(60),
            file_check_frequency: s(20),
            http_check_frequency: s(20),
            runtime_request_timeout: s(2 * 60),
            streaming_connection_idle_timeout: s(4 * 3600),
            volume_stats_agg_period: s(60),
            cpu_manager_reconcile_period: s(10),
            image_minimum_gc_age: None,
            image_maximum_gc_age: None,
            image_gc_high_threshold_percent: None,
            image_gc_low_threshold_percent: None,
            shutdown_grace_period: None,
            shutdown_grace_period_critical_pods: None,
            port: 10250,
            read_only_port: 0,
            address: "0.0.0.0".into(),
            healthz_port: 10248,
            healthz_bind_address: "127.0.0.1".into(),
            tls_cert_file: None,
            tls_private_key_file: None,
            tls_cipher_suites: Vec::new(),
            tls_min_version: None,
            rotate_certificates: false,
            server_tls_bootstrap: false,
            authentication: None,
            authorization: None,
            cgroup_driver: "cgroupfs".into(),
            cgroup_root: None,
            cgroups_per_qos: true,
            container_runtime_endpoint: DEFAULT_CONTAINER_RUNTIME_ENDPOINT.into(),
            image_service_endpoint: None,
            resolv_conf: "/etc/resolv.conf".into(),
            hairpin_mode: "promiscuous-bridge".into(),
            fail_swap_on: true,
            register_node: true,
            register_with_taints: Vec::new(),
            node_labels: BTreeMap::new(),
            provider_id: None,
            serialize_image_pulls: true,
            max_parallel_image_pulls: None,
            feature_gates: BTreeMap::new(),
            logging: None,
            memory_swap: None,
            enable_server: true,
            enable_debugging_handlers: true,
            enable_controller_attach_detach: true,
            protect_kernel_defaults: false,
            make_iptables_util_chains: true,
            oom_score_adj: -999,
            pod_pids_limit: -1,
            container_log_max_size: "10Mi".into(),
            container_log_max_files: 5,
            pod_logs_dir: "/var/log/pods".into(),
        }
    }
}

/// Upstream's `DefaultEvictionHard` (used when the file sets no evictionHard at all).
pub fn default_eviction_hard() -> BTreeMap<String, String> {
    [
        ("memory.available", "100Mi"),
        ("nodefs.available", "10%"),
        ("imagefs.available", "15%"),
        ("nodefs.inodesFree", "5%"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

impl KubeletConfiguration {
    /// Parses a config file's text: strict fields, checked apiVersion/kind, defaults for
    /// everything unset.
    pub fn from_yaml(text: &str) -> Result<Self> {
        let cfg: KubeletConfiguration = serde_saphyr::from_str(text).map_err(|e| anyhow!("{e}"))?;
        match cfg.kind.as_deref() {
            Some(KIND) => {}
            Some(other) => bail!("kind is {other:?}, expected {KIND:?}"),
            None => bail!("kind is missing, expected {KIND:?}"),
        }
        match cfg.api_version.as_deref() {
            Some(API_VERSION) => {}
            Some(other) => bail!("apiVersion is {other:?}, expected {API_VERSION:?}"),
            None => bail!("apiVersion is missing, expected {API_VERSION:?}"),
        }
        let mut cfg = cfg;
        cfg.default_zero_values();
        cfg.validate()?;
        Ok(cfg)
    }

    /// Upstream's defaulting treats a zero duration or count as "unset" (kubeadm writes
    /// `0s` for most durations), so zero values take the defaults.
    fn default_zero_values(&mut self) {
        let d = KubeletConfiguration::default();
        for (field, default) in [
            (
                &mut self.node_status_update_frequency,
                d.node_status_update_frequency,
            ),
            (
                &mut self.node_status_report_frequency,
                d.node_status_report_frequency,
            ),
            (&mut self.sync_frequency, d.sync_frequency),
            (&mut self.file_check_frequency, d.file_check_frequency),
            (&mut self.http_check_frequency, d.http_check_frequency),
            (&mut self.runtime_request_timeout, d.runtime_request_timeout),
            (
                &mut self.streaming_connection_idle_timeout,
                d.streaming_connection_idle_timeout,
            ),
            (&mut self.volume_stats_agg_period, d.volume_stats_agg_period),
            (
                &mut self.cpu_manager_reconcile_period,
                d.cpu_manager_reconcile_period,
            ),
        ] {
            if field.0.is_zero() {
                *field = default;
            }
        }
        if self.node_lease_duration_seconds == 0 {
            self.node_lease_duration_seconds = d.node_lease_duration_seconds;
        }
        if self.max_pods == 0 {
            self.max_pods = d.max_pods;
        }
        if self.port == 0 {
            self.port = d.port;
        }
    }

    /// Reads and parses a config file.
    pub fn from_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading kubelet config file {}", path.display()))?;
        Self::from_yaml(&text)
            .with_context(|| format!("loading kubelet config file {}", path.display()))
    }

    /// Checks the values ferrokube acts on (upstream's ValidateKubeletConfiguration subset).
    pub fn validate(&self) -> Result<()> {
        if self.node_lease_duration_seconds == 0 {
            bail!("nodeLeaseDurationSeconds must be greater than 0");
        }
        if self.node_status_update_frequency.0.is_zero() {
            bail!("nodeStatusUpdateFrequency must be greater than 0");
        }
        for (key, value) in &self.eviction_hard {
            Threshold::parse(value).with_context(|| format!("evictionHard[{key:?}]"))?;
        }
        for (name, map) in [
            ("kubeReserved", &self.kube_reserved),
            ("systemReserved", &self.system_reserved),
        ] {
            for (key, value) in map {
                parse_quantity_milli(value).with_context(|| format!("{name}[{key:?}]"))?;
            }
        }
        if !Path::new(&self.pod_logs_dir).is_absolute() {
            bail!(
                "podLogsDir {:?} must be an absolute path",
                self.pod_logs_dir
            );
        }
        if let Some(cidr) = &self.pod_cidr {
            let (ip, prefix) = cidr
                .split_once('/')
                .ok_or_else(|| anyhow!("podCIDR {cidr:?} is not a CIDR"))?;
            ip.parse::<IpAddr>()
                .map_err(|_| anyhow!("podCIDR {cidr:?} is not a CIDR"))?;
            prefix
                .parse::<u8>()
                .map_err(|_| anyhow!("podCIDR {cidr:?} is not a CIDR"))?;
        }
        Ok(())
    }

    /// Applies the flags that override file fields (upstream: flags win over the file).
    pub fn apply_flags(&mut self, flags: &KubeletFlags) {
        // kubelet-streaming: serving flags.
        if let Some(p) = &flags.tls_cert_file {
            self.tls_cert_file = Some(p.display().to_string());
        }
        if let Some(p) = &flags.tls_private_key_file {
            self.tls_private_key_file = Some(p.display().to_string());
        }
        if let Some(p) = &flags.client_ca_file {
            let authn = self
                .authentication
                .get_or_insert_with(|| serde_json::json!({}));
            if let Some(obj) = authn.as_object_mut() {
                obj.insert(
                    "x509".into(),
                    serde_json::json!({"clientCAFile": p.display().to_string()}),
                );
            }
        }
        if let Some(port) = flags.port {
            self.port = port;
        }
        if let Some(endpoint) = &flags.container_runtime_endpoint {
            self.container_runtime_endpoint = endpoint.clone();
        }
        for label in &flags.node_labels {
            if let Some((k, v)) = label.split_once('=') {
                self.node_labels.insert(k.to_string(), v.to_string());
            }
        }
    }

    /// kubelet-streaming: authentication.x509.clientCAFile, the CA client certificates of
    /// the kubelet API are verified against.
    pub fn client_ca_file(&self) -> Option<PathBuf> {
        self.authentication
            .as_ref()?
            .get("x509")?
            .get("clientCAFile")?
            .as_str()
            .filter(|s| !s.is_empty())
            .map(PathBuf::from)
    }

    /// Memory, in bytes, held back from allocatable by the hard eviction threshold.
    pub fn memory_eviction_bytes(&self, capacity: u64) -> u64 {
        self.eviction_reservation("memory.available", capacity)
    }

    /// Root filesystem bytes held back from allocatable ephemeral-storage.
    pub fn nodefs_eviction_bytes(&self, capacity: u64) -> u64 {
        self.eviction_reservation("nodefs.available", capacity)
    }

    fn eviction_reservation(&self, signal: &str, capacity: u64) -> u64 {
        match self.eviction_hard.get(signal).map(|v| Threshold::parse(v)) {
            Some(Ok(t)) => t.bytes_of(capacity),
            // validate() rejected unparsable values; absent means no reservation.
            _ => 0,
        }
    }

    /// kubeReserved + systemReserved of one resource, in milli-units (cpu: millicores,
    /// memory / ephemeral-storage: thousandths of a byte).
    pub fn reserved_milli(&self, resource: &str) -> i128 {
        [&self.kube_reserved, &self.system_reserved]
            .iter()
            .filter_map(|m| m.get(resource))
            .filter_map(|v| parse_quantity_milli(v).ok())
            .sum()
    }

    /// The Unix socket path of the container runtime endpoint (`unix://` stripped).
    pub fn runtime_socket(&self) -> Result<PathBuf> {
        let ep = &self.container_runtime_endpoint;
        match ep.strip_prefix("unix://") {
            Some(path) => Ok(PathBuf::from(path)),
            None if ep.starts_with('/') => Ok(PathBuf::from(ep)),
            None => bail!("containerRuntimeEndpoint {ep:?}: only unix:// endpoints are supported"),
        }
    }
}

/// Loads the effective configuration: defaults, then the `--config` file, then flags.
pub fn load(flags: &KubeletFlags) -> Result<KubeletConfiguration> {
    let mut cfg = match &flags.config {
        Some(path) => KubeletConfiguration::from_file(path)?,
        None => KubeletConfiguration::default(),
    };
    cfg.apply_flags(flags);
    Ok(cfg)
}

/// An eviction threshold: an absolute quantity or a percentage of capacity.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Threshold {
    Bytes(u64),
    Percent(f64),
}

impl Threshold {
    pub fn parse(s: &str) -> Result<Threshold> {
        if let Some(p) = s.strip_suffix('%') {
            let pct: f64 = p
                .trim()
                .parse()
                .map_err(|_| anyhow!("invalid percentage {s:?}"))?;
            if !(0.0..=100.0).contains(&pct) {
                bail!("percentage {s:?} must be between 0% and 100%");
            }
            return Ok(Threshold::Percent(pct / 100.0));
        }
        let milli = parse_quantity_milli(s)?;
        if milli < 0 {
            bail!("threshold {s:?} must not be negative");
        }
        Ok(Threshold::Bytes(
            u64::try_from((milli + 999) / 1000).unwrap_or(u64::MAX),
        ))
    }

    /// Upstream computes a percentage as `int64(float64(capacity) * float64(pct))`.
    pub fn bytes_of(&self, capacity: u64) -> u64 {
        match *self {
            Threshold::Bytes(b) => b,
            Threshold::Percent(p) => (capacity as f64 * p) as u64,
        }
    }
}

/// Parses a Kubernetes quantity ("100Mi", "1.5Gi", "500m", "2", "1e3") into milli-units.
pub fn parse_quantity_milli(s: &str) -> Result<i128> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '+' || c == '-'))
        .unwrap_or(t.len());
    let (num, suffix) = t.split_at(split);
    if num.is_empty() {
        bail!("invalid quantity {s:?}");
    }
    let (neg, digits) = match num.as_bytes()[0] {
        b'-' => (true, &num[1..]),
        b'+' => (false, &num[1..]),
        _ => (false, num),
    };
    let (int_part, frac_part) = digits.split_once('.').unwrap_or((digits, ""));
    if (int_part.is_empty() && frac_part.is_empty())
        || !int_part.bytes().all(|b| b.is_ascii_digit())
        || !frac_part.bytes().all(|b| b.is_ascii_digit())
        || frac_part.len() > 18
    {
        bail!("invalid quantity {s:?}");
    }
    let mantissa: i128 = format!("{int_part}{frac_part}")
        .parse()
        .map_err(|_| anyhow!("invalid quantity {s:?}"))?;
    let scale = 10i128.pow(frac_part.len() as u32);
    // Multiplier in milli-units.
    let mult: i128 = match suffix {
        "" => 1000,
        "m" => 1,
        "k" => 1000 * 1000,
        "M" => 1000 * 1000_i128.pow(2),
        "G" => 1000 * 1000_i128.pow(3),
        "T" => 1000 * 1000_i128.pow(4),
        "P" => 1000 * 1000_i128.pow(5),
        "E" => 1000 * 1000_i128.pow(6),
        "Ki" => 1000 * 1024,
        "Mi" => 1000 * 1024_i128.pow(2),
        "Gi" => 1000 * 1024_i128.pow(3),
        "Ti" => 1000 * 1024_i128.pow(4),
        "Pi" => 1000 * 1024_i128.pow(5),
        "Ei" => 1000 * 1024_i128.pow(6),
        e if e.starts_with(['e', 'E']) => {
            let exp: u32 = e[1..]
                .parse()
                .map_err(|_| anyhow!("invalid quantity {s:?}"))?;
            if exp > 18 {
                bail!("quantity {s:?} is too large");
            }
            1000 * 10i128.pow(exp)
        }
        _ => bail!("invalid quantity {s:?}: unknown suffix {suffix:?}"),
    };
    let v = mantissa
        .checked_mul(mult)
        .ok_or_else(|| anyhow!("quantity {s:?} is too large"))?
        / scale;
    Ok(if neg { -v } else { v })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    const HEADER: &str = "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n";

    #[test]
    fn pod_logs_dir_and_cni_flags() {
        let cfg = KubeletConfiguration::default();
        assert_eq!(cfg.pod_logs_dir, "/var/log/pods");
        let cfg =
            KubeletConfiguration::from_yaml(&format!("{HEADER}podLogsDir: /data/logs\n")).unwrap();
        assert_eq!(cfg.pod_logs_dir, "/data/logs");
        let err = KubeletConfiguration::from_yaml(&format!("{HEADER}podLogsDir: logs/pods\n"))
            .unwrap_err();
        assert!(format!("{err:#}").contains("absolute"), "{err:#}");

        let flags = KubeletFlags::parse_from(["kubelet"]);
        assert_eq!(flags.cni_conf_dir, Path::new("/etc/cni/net.d"));
        assert_eq!(flags.cni_bin_dir.len(), 2);
        let flags =
            KubeletFlags::parse_from(["kubelet", "--cni-bin-dir=/a,/b", "--cni-cache-dir=/c"]);
        assert_eq!(
            flags.cni_bin_dir,
            vec![PathBuf::from("/a"), PathBuf::from("/b")]
        );
        assert_eq!(flags.cni_cache_dir, Path::new("/c"));
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("10s").unwrap(), Duration::from_secs(10));
        assert_eq!(parse_duration("1m30s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("1h").unwrap(), Duration::from_secs(3600));
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("1.5s").unwrap(), Duration::from_millis(1500));
        assert_eq!(
            parse_duration("2h45m0.5s").unwrap(),
            Duration::from_millis(9_900_500)
        );
        assert_eq!(parse_duration("0").unwrap(), Duration::ZERO);
        assert_eq!(parse_duration("0s").unwrap(), Duration::ZERO);
        for bad in ["", "10", "s", "10x", "1m30", "-1s", "1..2s"] {
            assert!(parse_duration(bad).is_err(), "{bad:?} should fail");
        }
    }

    #[test]
    fn defaults_without_file() {
        let flags = KubeletFlags::parse_from(["kubelet"]);
        let cfg = load(&flags).unwrap();
        assert_eq!(cfg.cluster_domain, "cluster.local");
        assert_eq!(cfg.max_pods, 110);
        assert_eq!(cfg.port, 10250);
        assert_eq!(cfg.node_lease_duration_seconds, 40);
        assert_eq!(cfg.node_status_update_frequency.0, Duration::from_secs(10));
        assert_eq!(cfg.cgroup_driver, "cgroupfs");
        assert_eq!(
            cfg.container_runtime_endpoint,
            DEFAULT_CONTAINER_RUNTIME_ENDPOINT
        );
        assert_eq!(cfg.eviction_hard["memory.available"], "100Mi");
        assert_eq!(cfg.eviction_hard["nodefs.available"], "10%");
        assert_eq!(cfg.eviction_hard["imagefs.available"], "15%");
        assert_eq!(cfg.eviction_hard["nodefs.inodesFree"], "5%");
        assert_eq!(flags.root_dir, PathBuf::from("/var/lib/kubelet"));
        assert_eq!(
            cfg.runtime_socket().unwrap(),
            PathBuf::from("/run/containerd/containerd.sock")
        );
    }

    #[test]
    fn parses_file_fields() {
        let yaml = format!(
            "{HEADER}clusterDNS: [10.96.0.10]\nclusterDomain: example.local\npodCIDR: 10.244.1.0/24\n\
             maxPods: 50\nevictionHard:\n  memory.available: 200Mi\nstaticPodPath: /etc/kubernetes/manifests\n\
             nodeStatusUpdateFrequency: 1m30s\nnodeLeaseDurationSeconds: 20\nport: 10260\n\
             address: 127.0.0.1\ntlsCertFile: /a.crt\ntlsPrivateKeyFile: /a.key\n\
             authentication:\n  anonymous:\n    enabled: false\n  webhook:\n    enabled: true\n\
             authorization:\n  mode: Webhook\ncgroupDriver: systemd\n\
             containerRuntimeEndpoint: unix:///tmp/c.sock\n"
        );
        let cfg = KubeletConfiguration::from_yaml(&yaml).unwrap();
        assert_eq!(cfg.cluster_dns, vec!["10.96.0.10".to_string()]);
        assert_eq!(cfg.cluster_domain, "example.local");
        assert_eq!(cfg.pod_cidr.as_deref(), Some("10.244.1.0/24"));
        assert_eq!(cfg.max_pods, 50);
        // A file's evictionHard replaces the default map (upstream v1beta1 defaulting).
        assert_eq!(cfg.eviction_hard.len(), 1);
        assert_eq!(cfg.memory_eviction_bytes(0), 200 * 1024 * 1024);
        assert_eq!(
            cfg.static_pod_path.as_deref(),
            Some("/etc/kubernetes/manifests")
        );
        assert_eq!(cfg.node_status_update_frequency.0, Duration::from_secs(90));
        assert_eq!(cfg.node_lease_duration_seconds, 20);
        assert_eq!(cfg.port, 10260);
        assert_eq!(cfg.address, "127.0.0.1");
        assert_eq!(cfg.tls_cert_file.as_deref(), Some("/a.crt"));
        assert_eq!(cfg.tls_private_key_file.as_deref(), Some("/a.key"));
        let authn = cfg.authentication.as_ref().unwrap();
        assert_eq!(authn["webhook"]["enabled"], serde_json::json!(true));
        assert_eq!(cfg.authorization.as_ref().unwrap()["mode"], "Webhook");
        assert_eq!(cfg.cgroup_driver, "systemd");
        assert_eq!(cfg.runtime_socket().unwrap(), PathBuf::from("/tmp/c.sock"));
    }

    #[test]
    fn kubeadm_style_file_loads() {
        // Fields kubeadm writes into /var/lib/kubelet/config.yaml.
        let yaml = format!(
            "{HEADER}authentication:\n  x509:\n    clientCAFile: /etc/kubernetes/pki/ca.crt\n\
             cgroupDriver: systemd\ncpuManagerReconcilePeriod: 0s\nevictionPressureTransitionPeriod: 0s\n\
             fileCheckFrequency: 0s\nhealthzBindAddress: 127.0.0.1\nhealthzPort: 10248\n\
             httpCheckFrequency: 0s\nimageMaximumGCAge: 0s\nimageMinimumGCAge: 0s\n\
             logging:\n  flushFrequency: 0\n  options:\n    json:\n      infoBufferSize: \"0\"\n  verbosity: 0\n\
             memorySwap: {{}}\nnodeStatusReportFrequency: 0s\nnodeStatusUpdateFrequency: 0s\n\
             rotateCertificates: true\nruntimeRequestTimeout: 0s\nshutdownGracePeriod: 0s\n\
             shutdownGracePeriodCriticalPods: 0s\nstreamingConnectionIdleTimeout: 0s\n\
             syncFrequency: 0s\nvolumeStatsAggPeriod: 0s\n"
        );
        // kubeadm leaves 0s for "use the default", as upstream's defaulting reads it.
        let cfg = KubeletConfiguration::from_yaml(&yaml).unwrap();
        assert!(cfg.rotate_certificates);
        assert_eq!(cfg.node_status_update_frequency.0, Duration::from_secs(10));
        assert_eq!(cfg.sync_frequency.0, Duration::from_secs(60));
    }

    #[test]
    fn unknown_field_is_named() {
        let err = KubeletConfiguration::from_yaml(&format!("{HEADER}maxPod: 10\n")).unwrap_err();
        let msg = format!("{err:#}");
        assert!(msg.contains("maxPod"), "{msg}");
        assert!(msg.contains("unknown field"), "{msg}");
    }

    #[test]
    fn bad_values_are_errors() {
        let cases = [
            (
                "kind: KubeProxyConfiguration\napiVersion: kubelet.config.k8s.io/v1beta1\n",
                "kind",
            ),
            ("kind: KubeletConfiguration\n", "apiVersion"),
            (
                &format!("{HEADER}nodeStatusUpdateFrequency: ten\n")[..],
                "ten",
            ),
            (
                &format!("{HEADER}evictionHard:\n  memory.available: lots\n")[..],
                "memory.available",
            ),
            (&format!("{HEADER}podCIDR: 10.0.0.0\n")[..], "podCIDR"),
            (&format!("{HEADER}maxPods: -3\n")[..], "maxPods"),
        ];
        for (yaml, needle) in cases {
            let err = KubeletConfiguration::from_yaml(yaml).unwrap_err();
            let msg = format!("{err:#}");
            assert!(msg.contains(needle), "{yaml:?}: {msg}");
        }
    }

    #[test]
    fn flags_override_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.yaml");
        std::fs::write(
            &path,
            format!("{HEADER}containerRuntimeEndpoint: unix:///file.sock\nmaxPods: 7\n"),
        )
        .unwrap();
        let flags = KubeletFlags::parse_from([
            "kubelet",
            "--config",
            path.to_str().unwrap(),
            "--container-runtime-endpoint",
            "unix:///flag.sock",
            "--node-ip=10.0.0.5",
            "--hostname-override",
            "node-a",
            "--kubeconfig",
            "/etc/kubernetes/kubelet.conf",
            "--root-dir",
            "/tmp/kubelet",
            "--node-labels=a=b,c=d",
            "--v=4",
        ]);
        let cfg = load(&flags).unwrap();
        assert_eq!(cfg.container_runtime_endpoint, "unix:///flag.sock");
        assert_eq!(cfg.max_pods, 7);
        assert_eq!(cfg.node_labels["a"], "b");
        assert_eq!(cfg.node_labels["c"], "d");
        assert_eq!(flags.node_ip, Some("10.0.0.5".parse().unwrap()));
        assert_eq!(flags.hostname_override.as_deref(), Some("node-a"));
        assert_eq!(flags.root_dir, PathBuf::from("/tmp/kubelet"));
        assert_eq!(flags.v, 4);

        let missing = KubeletFlags::parse_from(["kubelet", "--config", "/nonexistent/k.yaml"]);
        let msg = format!("{:#}", load(&missing).unwrap_err());
        assert!(msg.contains("/nonexistent/k.yaml"), "{msg}");
    }

    #[test]
    fn quantities_and_thresholds() {
        assert_eq!(
            parse_quantity_milli("100Mi").unwrap(),
            100 * 1024 * 1024 * 1000
        );
        assert_eq!(parse_quantity_milli("500m").unwrap(), 500);
        assert_eq!(parse_quantity_milli("2").unwrap(), 2000);
        assert_eq!(
            parse_quantity_milli("1.5Gi").unwrap(),
            1536 * 1024 * 1024 * 1000
        );
        assert_eq!(parse_quantity_milli("1k").unwrap(), 1_000_000);
        assert_eq!(parse_quantity_milli("1e3").unwrap(), 1_000_000);
        assert!(parse_quantity_milli("1Qi").is_err());
        assert!(parse_quantity_milli("Mi").is_err());
        assert_eq!(Threshold::parse("10%").unwrap().bytes_of(1000), 100);
        assert_eq!(Threshold::parse("100Mi").unwrap().bytes_of(1), 104_857_600);
        assert!(Threshold::parse("120%").is_err());
    }
}
