//! The node part of `cargo xtask up` / `down` / `status`: containerd, CNI, kubelet (see
//! `ferrokube_deploy::node`).

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result};
use ferrokube_deploy::images::{
    push_to_registry, start_registry, RegistryPaths, DEFAULT_REGISTRY_BIN,
};
use ferrokube_deploy::local_cluster::{running_pid, LocalCluster, CLUSTER_NAME};
use ferrokube_deploy::node::{self, CniSetup, ContainerdKind, NodePaths, CNI_CONF_DIR, POD_CIDR};

use crate::images::REGISTRY_ADDR;

const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// Brings up (or keeps) the node beside a running control plane. `kubelet_bin` is `Err`
/// when building it failed.
pub fn up(cluster: &LocalCluster, kubelet_bin: Result<&Path>) -> Result<()> {
    let paths = NodePaths::new(cluster.dir());
    if !node::is_root() {
        println!(
            "node            skipped: the kubelet and containerd need root (run `sudo -E cargo xtask up`); \
             the control plane runs without a node"
        );
        return Ok(());
    }
    let kubelet_bin = kubelet_bin.context("no kubelet binary, so no node")?;
    let node_name = node::hostname()?;

    let containerd = node::ensure_containerd(&paths).context("containerd for the node")?;
    match &containerd.kind {
        ContainerdKind::System => println!(
            "containerd      system           {}",
            containerd.socket.display()
        ),
        ContainerdKind::Private { pid, started } => println!(
            "containerd      pid {pid:<8} {}{}",
            containerd.socket.display(),
            if *started { "" } else { "   (already running)" }
        ),
    }

    let conf_dir = Path::new(CNI_CONF_DIR);
    match node::ensure_cni_conflist(conf_dir, POD_CIDR, &paths.cni_record)
        .context("the CNI configuration")?
    {
        CniSetup::Written(path) => println!(
            "cni             wrote {} (bridge cni0, {POD_CIDR}; `down --purge` removes it)",
            path.display()
        ),
        CniSetup::Existing(path) => println!("cni             using {}", path.display()),
    }

    node::write_kubelet_kubeconfig(
        cluster.pki(),
        CLUSTER_NAME,
        &cluster.server_url(),
        &node_name,
        &paths,
    )
    .context("the kubelet's kubeconfig")?;
    node::write_kubelet_files(&paths, &containerd.socket).context("the kubelet's files")?;
    serve_busybox(cluster.dir(), &paths)?;

    if let (Some(pid), Ok(built)) = (
        running_pid(&paths.kubelet_pid),
        std::fs::metadata(kubelet_bin).and_then(|m| m.modified()),
    ) {
        let started = std::fs::metadata(&paths.kubelet_pid).and_then(|m| m.modified());
        if started.map(|s| built > s).unwrap_or(false) {
            eprintln!(
                "xtask: note: the kubelet (pid {pid}) runs an older build; \
                 `cargo xtask down && cargo xtask up` runs the new one"
            );
        }
    }
    let (kubelet, started) =
        node::ensure_kubelet(&paths, kubelet_bin, &node_name, &containerd.socket)
            .context("starting the kubelet")?;
    println!(
        "kubelet         pid {:<8} node {node_name}{}   log {}",
        kubelet.pid(),
        if started { "" } else { " (already running)" },
        paths.kubelet_log.display()
    );
    node::wait_node_ready(
        |path| cluster.apiserver_get(path, Duration::from_secs(5)),
        &node_name,
        kubelet.pid(),
        &paths.kubelet_log,
        READY_TIMEOUT,
    )?;
    println!(
        "node            {node_name} Ready (podCIDR {POD_CIDR}, docker.io mirrored by http://{REGISTRY_ADDR})"
    );
    Ok(())
}

/// The local docker-registry (started or adopted) with the busybox image pushed as
/// `library/busybox:latest`, and the kubelet's registries.yaml pointing docker.io at it:
/// `image: busybox` (pull policy Always) pulls offline.
fn serve_busybox(dir: &Path, paths: &NodePaths) -> Result<()> {
    let registry = start_registry(Path::new(DEFAULT_REGISTRY_BIN), dir, REGISTRY_ADDR, true)
        .with_context(|| {
            format!(
                "starting docker-registry, the node's docker.io mirror (log {})",
                RegistryPaths::new(dir).log_file.display()
            )
        })?;
    let digest = push_to_registry(
        &paths.busybox_tar,
        REGISTRY_ADDR,
        "library/busybox",
        "latest",
    )
    .context("pushing busybox to the local registry")?;
    println!(
        "docker-registry pid {:<8} http://{REGISTRY_ADDR}  library/busybox:latest {digest}",
        registry.pid()
    );
    node::write_registries_config(paths, REGISTRY_ADDR).context("the kubelet's registries.yaml")?;
    println!(
        "registries      {} (docker.io -> http://{REGISTRY_ADDR})",
        paths.registries_config.display()
    );
    Ok(())
}

/// Stops the node (before the control plane) and prints what it did.
pub fn down(dir: &Path, purge: bool) -> Result<()> {
    let r = node::stop_node(dir, purge)?;
    match r.kubelet_pid {
        Some(pid) => println!("stopped kubelet (pid {pid})"),
        None => println!("kubelet was not running"),
    }
    if r.containers_removed > 0 {
        println!("removed {} pod containers", r.containers_removed);
    }
    if !r.shims_killed.is_empty() {
        println!("killed leftover shim processes {:?}", r.shims_killed);
    }
    if let Some(pid) = r.containerd_pid {
        println!("stopped containerd (pid {pid})");
    }
    if r.mounts_detached > 0 {
        println!("unmounted {} leftover mounts", r.mounts_detached);
    }
    for ns in &r.netns_removed {
        println!("removed network namespace {ns}");
    }
    for f in &r.files_removed {
        println!("removed {}", f.display());
    }
    if r.nat_rules_removed > 0 {
        println!(
            "removed {} iptables nat rules and chains of the CNI bridge plugin (ipMasq)",
            r.nat_rules_removed
        );
    }
    for note in &r.notes {
        println!("note: {note}");
    }
    if !purge {
        let left = node::node_netns();
        if !left.is_empty() {
            println!(
                "kept {} pod network namespaces ({}); `--purge` removes them",
                left.len(),
                left.join(" ")
            );
        }
        let paths = NodePaths::new(dir);
        if let Ok(written) = std::fs::read_to_string(&paths.cni_record) {
            println!(
                "kept {} (written by `up`); `--purge` removes it",
                written.trim()
            );
        }
    }
    Ok(())
}

/// `status` lines for the node.
pub fn status(dir: &Path) {
    let paths = NodePaths::new(dir);
    let show = |name: &str, pid_file: &Path, what: String| match running_pid(pid_file) {
        Some(pid) => println!("{name:<15} running (pid {pid})  {what}"),
        None => println!("{name:<15} stopped           {what}"),
    };
    if paths.containerd_pid.exists()
        || !node::socket_answers(Path::new(node::SYSTEM_CONTAINERD_SOCKET))
    {
        show(
            "containerd",
            &paths.containerd_pid,
            paths.containerd_socket.display().to_string(),
        );
    } else {
        println!(
            "containerd      system            {}",
            node::SYSTEM_CONTAINERD_SOCKET
        );
    }
    show(
        "kubelet",
        &paths.kubelet_pid,
        format!("log {}", paths.kubelet_log.display()),
    );
    let netns = node::node_netns();
    if !netns.is_empty() {
        println!("pod netns       {}", netns.join(" "));
    }
}
