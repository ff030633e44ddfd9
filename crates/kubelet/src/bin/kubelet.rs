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
    // kubelet-streaming: CRI-format container logs through the binary log driver.
    let runtime = match kubelet::logs::driver::find_driver() {
        Some(driver) => runtime.with_log_driver(driver),
        None => {
            tracing::warn!("ferrokube-log-driver not found beside the kubelet: container logs are written without the CRI format");
            runtime
        }
    };
    let runtime_version = runtime
        .version()
        .await
        .context("asking the container runtime for its version")?;

    let client = component_base::client::build(flags.kubeconfig.as_deref(), None).await?;

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
        bin_dirs: flags.cni_bin_dir.clone(),
        conf_dir: flags.cni_conf_dir.clone(),
        cache_dir: flags.cni_cache_dir.clone(),
    };
    let pod_logs_dir = std::path::PathBuf::from(&opts.config.pod_logs_dir);
    let runner = PodRunner {
        runtime,
        cni,
        pod_logs_dir: pod_logs_dir.clone(),
        init_timeout: Duration::from_secs(600),
        host_ip: Some(opts.node_ip.to_string()),
        // kubelet-pod: API client (configMaps, secrets, events), volumes under
        // --root-dir, cluster DNS, the node's allocatable for the downward API.
        settings: kubelet::pod::PodSettings {
            cluster_dns: kubelet::pod::dns::ClusterDns {
                servers: opts.config.cluster_dns.clone(),
                domain: opts.config.cluster_domain.clone(),
            },
            host_resolv_conf: opts.config.resolv_conf.clone().into(),
            node_allocatable_milli_cpu: i64::from(machine.num_cpus) * 1000,
            node_allocatable_memory: i64::try_from(machine.memory_bytes).unwrap_or(i64::MAX),
            ..kubelet::pod::PodSettings::new(
                Some(client.clone()),
                opts.node_name.clone(),
                flags.root_dir.clone(),
            )
        },
    };
    // kubelet-images: registry pulls (mirrors from --registry-config), the repo digests
    // of the imported tarballs for imageID.
    let registries = kubelet::registries::Registries::load(&flags.registry_config)
        .context("loading --registry-config")?;
    let image_service = kubelet::images::service::ImageService::new(
        runner.runtime.clone(),
        registries,
        flags.root_dir.join("pulls"),
    );
    image_service.remember_digests(report.digests.clone());
    let manager_runtime = runner.runtime.clone(); // kubelet-streaming
    let manager = PodManager::new(runner, client.clone(), opts.node_name.clone())
        .with_image_service(image_service);
    // kubelet-images: static pods (staticPodPath, read every fileCheckFrequency).
    let manager = match opts
        .config
        .static_pod_path
        .as_deref()
        .filter(|p| !p.is_empty())
    {
        Some(dir) => manager.with_static_pods(dir, opts.config.file_check_frequency.0),
        None => manager,
    };

    // One shutdown signal stops both the node loops and the pod manager (which leaves
    // the pods running, as upstream does on a kubelet restart).
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };
    // ---- kubelet-streaming: the kubelet API on :10250 ----
    let api_state = kubelet::server::ServerState {
        node_name: opts.node_name.clone(),
        running: manager.running(),
        runtime: manager_runtime,
        metrics: kubelet::metrics::Metrics::new(&opts.node_name)
            .context("registering the kubelet metrics")?,
        pod_logs_dir,
        exec_dir: "/run/ferrokube/kubelet/exec".into(),
    };
    let api_tls = kubelet::server::tls::server_config(
        &kubelet::server::tls_files(&opts.config),
        &flags.root_dir.join("pki"),
        &opts.hostname,
        opts.node_ip,
    )?;
    let api_addr = std::net::SocketAddr::new(
        opts.config
            .address
            .parse()
            .with_context(|| format!("invalid address {:?}", opts.config.address))?,
        opts.config.port,
    );
    let api_stop = stopped(stop_rx.clone());
    let api = tokio::spawn(async move {
        let served = kubelet::server::serve(api_addr, api_tls, api_state, api_stop).await;
        if let Err(e) = &served {
            tracing::error!(error = %format!("{e:#}"), "the kubelet API is not served");
        }
        served
    });
    // ---- kubelet-streaming: end ----
    let pods = tokio::spawn(manager.run(stopped(stop_rx.clone())));
    let nodes = node::run(client, opts, machine, stopped(stop_rx));
    let signal = async {
        component_base::shutdown::signal().await;
        let _ = stop_tx.send(true);
    };
    let (node_result, ()) = tokio::join!(nodes, signal);
    // kubelet-streaming (a serving error was logged when it happened)
    if let Err(e) = api.await {
        tracing::warn!(error = %e, "kubelet API task");
    }
    match pods.await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::warn!(error = %format!("{e:#}"), "pod manager"),
        Err(e) => tracing::warn!(error = %e, "pod manager task"),
    }
    node_result
}
