//! kube-scheduler's command line, with upstream's flag names and defaults.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;

fn duration(s: &str) -> Result<Duration, String> {
    component_base::duration::clap_parser(s)
}

#[derive(Parser, Debug, Clone)]
#[command(
    name = "kube-scheduler",
    about = "The Kubernetes scheduler: assigns pending pods to nodes.",
    version
)]
pub struct Options {
    /// The path to the configuration file (KubeSchedulerConfiguration).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Path to kubeconfig file with authorization and master location information.
    #[arg(long)]
    pub kubeconfig: Option<PathBuf>,
    /// The address of the Kubernetes API server (overrides any value in kubeconfig).
    #[arg(long)]
    pub master: Option<String>,

    /// Start a leader election client and gain leadership before executing the main loop.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub leader_elect: bool,
    #[arg(long, default_value = "15s", value_parser = duration)]
    pub leader_elect_lease_duration: Duration,
    #[arg(long, default_value = "10s", value_parser = duration)]
    pub leader_elect_renew_deadline: Duration,
    #[arg(long, default_value = "2s", value_parser = duration)]
    pub leader_elect_retry_period: Duration,
    /// Only "leases" is supported.
    #[arg(long, default_value = "leases")]
    pub leader_elect_resource_lock: String,
    #[arg(long, default_value = "kube-scheduler")]
    pub leader_elect_resource_name: String,
    #[arg(long, default_value = "kube-system")]
    pub leader_elect_resource_namespace: String,

    /// The IP address on which to listen for the --secure-port port.
    #[arg(long, default_value = "0.0.0.0")]
    pub bind_address: IpAddr,
    /// The port on which to serve /healthz, /readyz and /metrics. 0 disables.
    #[arg(long, default_value_t = 10259)]
    pub secure_port: u16,
    /// Certificate for HTTPS; without it and --tls-private-key-file, plain HTTP is
    /// served (upstream generates a self-signed certificate instead).
    #[arg(long)]
    pub tls_cert_file: Option<PathBuf>,
    #[arg(long)]
    pub tls_private_key_file: Option<PathBuf>,

    /// Number for the log level verbosity.
    #[arg(short = 'v', long = "v", default_value_t = 0)]
    pub v: u8,
    /// Log format: text or json.
    #[arg(long, default_value = "text")]
    pub logging_format: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstream_flags_parse() {
        let o = Options::try_parse_from([
            "kube-scheduler",
            "--kubeconfig=/etc/kubernetes/scheduler.conf",
            "--leader-elect=false",
            "--bind-address=127.0.0.1",
            "--secure-port",
            "0",
            "--leader-elect-lease-duration=30s",
            "--v=2",
        ])
        .expect("parses");
        assert!(!o.leader_elect);
        assert_eq!(o.secure_port, 0);
        assert_eq!(o.leader_elect_lease_duration, Duration::from_secs(30));
        assert_eq!(o.v, 2);
        let d = Options::try_parse_from(["kube-scheduler"]).expect("defaults");
        assert!(d.leader_elect);
        assert_eq!(d.secure_port, 10259);
        assert_eq!(d.leader_elect_resource_name, "kube-scheduler");
        assert!(Options::try_parse_from(["kube-scheduler", "--no-such-flag"]).is_err());
    }
}
