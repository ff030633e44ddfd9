//! kubelet: parse upstream flags, load the KubeletConfiguration, then run the node loops
//! (registration, status, Lease) until SIGTERM.

use anyhow::{Context, Result};
use clap::Parser;
use kubelet::config::{self, KubeletFlags};
use kubelet::node::{self, MachineInfo, NodeOptions};
use kubelet::runtime::Containerd;

#[tokio::main]
async fn main() -> Result<()> {
    let flags = KubeletFlags::parse();
    component_base::logs::init(flags.v, "text");
    let cfg = config::load(&flags)?;

    std::fs::create_dir_all(&flags.root_dir)
        .with_context(|| format!("creating --root-dir {}", flags.root_dir.display()))?;
    let machine = MachineInfo::read(&flags.root_dir).context("reading machine info")?;

    let socket = cfg.runtime_socket()?;
    let runtime = Containerd::connect(&socket, "k8s.io")
        .await
        .with_context(|| {
            format!(
                "connecting to the container runtime at {}",
                socket.display()
            )
        })?;
    let runtime_version = runtime
        .version()
        .await
        .context("asking the container runtime for its version")?;

    let client = match &flags.kubeconfig {
        Some(path) => {
            let kc = kube::config::Kubeconfig::read_from(path)
                .with_context(|| format!("reading --kubeconfig {}", path.display()))?;
            let c = kube::Config::from_custom_kubeconfig(kc, &Default::default())
                .await
                .with_context(|| format!("loading --kubeconfig {}", path.display()))?;
            kube::Client::try_from(c).context("building the API client")?
        }
        None => kube::Client::try_default()
            .await
            .context("no --kubeconfig given and no in-cluster or default config found")?,
    };

    let opts = NodeOptions::resolve(&flags, cfg, &machine, runtime_version)?;
    tracing::info!(node = %opts.node_name, ip = %opts.node_ip, version = node::KUBELET_VERSION, "kubelet starting");

    // The pod manager (another module: watch pods bound to this node, run them through
    // `runtime`/`network`) plugs in here, next to the node loops, sharing `client`,
    // `runtime` and the shutdown signal.
    let _runtime = runtime;

    node::run(client, opts, machine, component_base::shutdown::signal()).await
}
