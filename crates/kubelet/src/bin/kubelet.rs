//! kubelet: parse upstream flags, load the KubeletConfiguration, then run the node loops
//! (registration, status, Lease) and the pod manager until SIGTERM. Image tarballs in
//! `<root-dir>/images` are imported into containerd at start.

use std::time::Duration;

use anyhow::{Context, Result};
use clap::Parser;
use kubelet::config::{self, KubeletFlags};
use kubelet::images;
use kubelet::network::Cni;
use kubelet::node::{self, MachineInfo, NodeOptions};
use kubelet::pod::manager::PodManager;
use kubelet::pod::PodRunner;
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

    // Air-gapped images: every *.tar in <root-dir>/images goes into containerd before
    // any pod starts (no registry pulls yet), like k3s's agent/images directory.
    let images_dir = images::default_images_dir(&flags.root_dir);
    let report = images::import_dir(&runtime, &images_dir)
        .await
        .with_context(|| format!("importing images from {}", images_dir.display()))?;
    for (file, error) in &report.failed {
        tracing::warn!(file = %file.display(), %error, "image tarball not imported");
    }

    // The pod network: upstream's default CNI locations (Debian's plugins live in
    // /usr/lib/cni).
    let cni = Cni {
        bin_dirs: vec!["/opt/cni/bin".into(), "/usr/lib/cni".into()],
        conf_dir: "/etc/cni/net.d".into(),
        cache_dir: "/var/lib/cni".into(),
    };
    let runner = PodRunner {
        runtime,
        cni,
        log_root: "/var/log".into(),
        init_timeout: Duration::from_secs(600),
        host_ip: Some(opts.node_ip.to_string()),
    };
    let manager = PodManager::new(runner, client.clone(), opts.node_name.clone());

    // One shutdown signal stops both the node loops and the pod manager (which leaves
    // the pods running, as upstream does on a kubelet restart).
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };
    let pods = tokio::spawn(manager.run(stopped(stop_rx.clone())));
    let nodes = node::run(client, opts, machine, stopped(stop_rx));
    let signal = async {
        component_base::shutdown::signal().await;
        let _ = stop_tx.send(true);
    };
    let (node_result, ()) = tokio::join!(nodes, signal);
    match pods.await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::warn!(error = %format!("{e:#}"), "pod manager"),
        Err(e) => tracing::warn!(error = %e, "pod manager task"),
    }
    node_result
}
