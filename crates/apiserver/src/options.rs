//! kube-apiserver flags, with upstream's names.

use std::net::IpAddr;
use std::path::PathBuf;

use clap::Parser;

#[derive(Debug, Clone, Parser)]
#[command(
    name = "kube-apiserver",
    about = "The Kubernetes API server (ferrokube)",
    version,
    // pflag semantics: a flag given twice takes the last value.
    args_override_self = true
)]
pub struct Options {
    /// The port on which to serve HTTPS with authentication and authorization.
    #[arg(long = "secure-port", default_value_t = 6443)]
    pub secure_port: u16,

    /// The IP address on which to listen for the --secure-port port.
    #[arg(long = "bind-address", default_value = "0.0.0.0")]
    pub bind_address: IpAddr,

    /// The address published to members of the cluster (the kubernetes Service endpoint).
    #[arg(long = "advertise-address")]
    pub advertise_address: Option<IpAddr>,

    /// File containing the default x509 certificate for HTTPS (CA cert, if any, after it).
    #[arg(long = "tls-cert-file")]
    pub tls_cert_file: PathBuf,

    /// File containing the default x509 private key matching --tls-cert-file.
    #[arg(long = "tls-private-key-file")]
    pub tls_private_key_file: PathBuf,

    /// Any request presenting a client certificate signed by one of the authorities in
    /// this file is authenticated with an identity from the certificate's CommonName
    /// (user) and Organization (groups).
    #[arg(long = "client-ca-file")]
    pub client_ca_file: Option<PathBuf>,

    /// A CSV file of bearer tokens: token,user,uid,"group1,group2".
    #[arg(long = "token-auth-file")]
    pub token_auth_file: Option<PathBuf>,

    /// List of etcd servers to connect with (scheme://ip:port), comma separated.
    #[arg(long = "etcd-servers", value_delimiter = ',', required = true)]
    pub etcd_servers: Vec<String>,

    /// SSL Certificate Authority file used to secure etcd communication.
    #[arg(long = "etcd-cafile")]
    pub etcd_cafile: Option<PathBuf>,

    /// SSL certification file used to secure etcd communication.
    #[arg(long = "etcd-certfile")]
    pub etcd_certfile: Option<PathBuf>,

    /// SSL key file used to secure etcd communication.
    #[arg(long = "etcd-keyfile")]
    pub etcd_keyfile: Option<PathBuf>,

    /// The prefix to prepend to all resource paths in etcd.
    #[arg(long = "etcd-prefix", default_value = "/registry")]
    pub etcd_prefix: String,

    /// A CIDR notation IP range from which to assign service cluster IPs.
    #[arg(long = "service-cluster-ip-range", default_value = "10.96.0.0/12")]
    pub service_cluster_ip_range: String,

    /// A port range to reserve for services with NodePort visibility.
    #[arg(long = "service-node-port-range", default_value = "30000-32767")]
    pub service_node_port_range: String,

    /// Ordered list of plug-ins to do authorization on secure port (AlwaysAllow for now).
    #[arg(
        long = "authorization-mode",
        value_delimiter = ',',
        default_value = "AlwaysAllow"
    )]
    pub authorization_mode: Vec<String>,

    /// Enables anonymous requests to the secure port (user system:anonymous). Upstream's
    /// default is true with RBAC; here anonymous requests get 401 unless enabled.
    #[arg(long = "anonymous-auth", default_value_t = false, action = clap::ArgAction::Set)]
    pub anonymous_auth: bool,

    /// Maximum size of a request body, in bytes (upstream's limit is 3 MiB).
    #[arg(long = "max-request-body-bytes", default_value_t = 3 * 1024 * 1024)]
    pub max_request_body_bytes: usize,

    /// Events each resource's watch cache keeps, so watchers can resume from a recent resourceVersion.
    #[arg(long = "watch-cache-history", default_value_t = 10_000)]
    pub watch_cache_history: usize,

    /// Log verbosity (klog levels: 0-1 info, 2-4 debug, 5+ trace).
    #[arg(short = 'v', long = "v", default_value_t = 1)]
    pub verbosity: u8,

    /// Log format: text or json.
    #[arg(long = "logging-format", default_value = "text")]
    pub logging_format: String,

    // ---- kubelet-streaming: talking to kubelets (logs, exec, attach, port-forward, node proxy) ----
    /// Path to a client cert file for TLS to kubelets.
    #[arg(long = "kubelet-client-certificate")]
    pub kubelet_client_certificate: Option<PathBuf>,

    /// Path to a client key file for TLS to kubelets.
    #[arg(long = "kubelet-client-key")]
    pub kubelet_client_key: Option<PathBuf>,

    /// Path to a cert file for the certificate authority of kubelet serving certificates
    /// (unset: kubelet certificates are not verified).
    #[arg(long = "kubelet-certificate-authority")]
    pub kubelet_certificate_authority: Option<PathBuf>,

    /// List of the preferred NodeAddressTypes to use for kubelet connections.
    #[arg(long = "kubelet-preferred-address-types", value_delimiter = ',')]
    pub kubelet_preferred_address_types: Vec<String>,
}
