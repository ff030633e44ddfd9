//! One local node beside a [`crate::local_cluster`] control plane, as `cargo xtask up` runs
//! it: a containerd (the system one if it answers, else a private one under the cluster
//! directory), the default CNI conflist, the kubelet's client certificate, kubeconfig and
//! `KubeletConfiguration`, the busybox image for its image directory, and the kubelet.
//!
//! Everything runs detached with pid files, like etcd and kube-apiserver; [`stop_node`]
//! stops it again by PID (never by process name).

use std::collections::HashMap;
use std::fs;
use std::io;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::fsutil::write_public;
use crate::kubeconfig::Kubeconfig;
use crate::pki::Pki;
use crate::process::{pid_alive, stop_pid_file, tail_file, Daemon, DaemonSpec};

/// The node's pod network.
pub const POD_CIDR: &str = "10.244.0.0/24";
/// `clusterDNS` of the KubeletConfiguration (the 10th service IP, as kubeadm picks).
pub const CLUSTER_DNS: &str = "10.96.0.10";
pub const CLUSTER_DOMAIN: &str = "cluster.local";
/// Where the kubelet reads its CNI configuration (hard-coded in the kubelet, as upstream).
pub const CNI_CONF_DIR: &str = "/etc/cni/net.d";
/// The conflist `up` writes when [`CNI_CONF_DIR`] has none.
pub const CONFLIST_NAME: &str = "10-ferrokube.conflist";
/// The CNI network name in that conflist (also host-local's lease subdirectory).
pub const CNI_NETWORK_NAME: &str = "ferrokube";
/// host-local's default lease directory.
pub const CNI_IPAM_DIR: &str = "/var/lib/cni/networks";
/// A containerd that already runs on the machine.
pub const SYSTEM_CONTAINERD_SOCKET: &str = "/run/containerd/containerd.sock";
pub const CONTAINERD_BIN: &str = "/usr/bin/containerd";
pub const CTR_BIN: &str = "/usr/bin/ctr";
/// The containerd namespace of the kubelet's containers.
pub const CONTAINERD_NAMESPACE: &str = "k8s.io";
/// Prefix of the network namespaces the kubelet creates (`ip netns list`).
pub const NETNS_PREFIX: &str = "fk-";
/// The image reference `image: busybox` resolves to.
pub const BUSYBOX_REFERENCE: &str = "docker.io/library/busybox:latest";

/// PATH for containerd (it finds the shim and runc there) and the kubelet (CNI plugins
/// call iptables); cargo's environment may lack the sbin directories.
const DAEMON_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const STOP_GRACE: Duration = Duration::from_secs(15);

/// Where the node's files live in a cluster directory.
#[derive(Debug, Clone)]
pub struct NodePaths {
    pub dir: PathBuf,
    pub containerd_dir: PathBuf,
    pub containerd_config: PathBuf,
    pub containerd_socket: PathBuf,
    pub containerd_pid: PathBuf,
    pub containerd_log: PathBuf,
    /// The kubelet's `--root-dir`.
    pub kubelet_root: PathBuf,
    pub kubelet_config: PathBuf,
    pub kubelet_kubeconfig: PathBuf,
    pub kubelet_pid: PathBuf,
    pub kubelet_log: PathBuf,
    /// `<root-dir>/images`: tarballs the kubelet imports at start.
    pub images_dir: PathBuf,
    pub busybox_tar: PathBuf,
    /// The kubelet's `--registry-config` (k3s-style registries.yaml: docker.io mirrored by
    /// the local docker-registry).
    pub registries_config: PathBuf,
    /// Names the conflist `up` wrote (so `down --purge` removes that file and no other).
    pub cni_record: PathBuf,
}

impl NodePaths {
    pub fn new(dir: impl Into<PathBuf>) -> NodePaths {
        let dir = dir.into();
        let containerd_dir = dir.join("containerd");
        let kubelet_root = dir.join("kubelet");
        let images_dir = kubelet_root.join("images");
        NodePaths {
            containerd_config: containerd_dir.join("config.toml"),
            containerd_socket: containerd_dir.join("containerd.sock"),
            containerd_pid: dir.join("run/containerd.pid"),
            containerd_log: dir.join("logs/containerd.log"),
            kubelet_config: kubelet_root.join("config.yaml"),
            kubelet_kubeconfig: dir.join("kubelet.kubeconfig"),
            kubelet_pid: dir.join("run/kubelet.pid"),
            kubelet_log: dir.join("logs/kubelet.log"),
            busybox_tar: images_dir.join("busybox.tar"),
            registries_config: kubelet_root.join("registries.yaml"),
            cni_record: dir.join("run/cni-conflist-written"),
            images_dir,
            kubelet_root,
            containerd_dir,
            dir,
        }
    }
}

/// The node name: `/proc/sys/kernel/hostname`, lower-cased (as the kubelet does).
pub fn hostname() -> Result<String> {
    let raw = fs::read_to_string("/proc/sys/kernel/hostname").context("reading the hostname")?;
    let name = raw.trim().to_ascii_lowercase();
    if name.is_empty() {
        bail!("the hostname is empty");
    }
    Ok(name)
}

/// Whether this process runs as root (the kubelet and containerd need it).
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// Whether something accepts connections on a unix socket.
pub fn socket_answers(path: &Path) -> bool {
    UnixStream::connect(path).is_ok()
}

/// Which containerd the node uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContainerdKind {
    /// The machine's own, at [`SYSTEM_CONTAINERD_SOCKET`]; `down` leaves it alone.
    System,
    /// Ours (pid), started now or earlier.
    Private { pid: u32, started: bool },
}

/// The containerd the node runs on: its socket and whose it is.
#[derive(Debug, Clone)]
pub struct ContainerdInfo {
    pub socket: PathBuf,
    pub kind: ContainerdKind,
}

/// The private containerd's config: root and state under `dir`, CRI off (the kubelet
/// drives containerd's own API).
pub fn containerd_config_toml(dir: &Path) -> String {
    let d = dir.display();
    format!(
        r#"version = 2
root = "{d}/root"
state = "{d}/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]

[grpc]
  address = "{d}/containerd.sock"

[ttrpc]
  address = "{d}/containerd.sock.ttrpc"

[debug]
  address = "{d}/debug.sock"
  level = "info"

[plugins."io.containerd.internal.v1.opt"]
  path = "{d}/opt"
"#
    )
}

/// Uses the system containerd if it answers, else adopts or starts the private one.
pub fn ensure_containerd(paths: &NodePaths) -> Result<ContainerdInfo> {
    let private_running = Daemon::adopt(
        "containerd",
        Path::new(CONTAINERD_BIN),
        &paths.containerd_pid,
        &paths.containerd_log,
    )?;
    if let Some(d) = private_running {
        wait_socket(&paths.containerd_socket, Duration::from_secs(30), &d)?;
        return Ok(ContainerdInfo {
            socket: paths.containerd_socket.clone(),
            kind: ContainerdKind::Private {
                pid: d.pid(),
                started: false,
            },
        });
    }
    let system = Path::new(SYSTEM_CONTAINERD_SOCKET);
    if socket_answers(system) {
        return Ok(ContainerdInfo {
            socket: system.to_path_buf(),
            kind: ContainerdKind::System,
        });
    }
    if !Path::new(CONTAINERD_BIN).exists() {
        bail!("{CONTAINERD_BIN} is missing (apt-get install -y containerd runc)");
    }
    fs::create_dir_all(&paths.containerd_dir)
        .with_context(|| format!("creating {}", paths.containerd_dir.display()))?;
    write_public(
        &paths.containerd_config,
        containerd_config_toml(&paths.containerd_dir).as_bytes(),
    )?;
    // A socket file left by a containerd that died would make the wait below pass early.
    match fs::remove_file(&paths.containerd_socket) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => {
            return Err(e)
                .with_context(|| format!("removing {}", paths.containerd_socket.display()))
        }
    }
    let spec = DaemonSpec::new(
        "containerd",
        CONTAINERD_BIN,
        &paths.containerd_log,
        &paths.containerd_pid,
    )
    .detach(true)
    .arg("--config")
    .arg(&paths.containerd_config)
    .env("PATH", DAEMON_PATH);
    let mut daemon = Daemon::spawn(&spec)?;
    if let Err(e) = wait_socket(&paths.containerd_socket, Duration::from_secs(30), &daemon) {
        let tail = daemon.log_tail(30);
        let _ = daemon.stop(STOP_GRACE);
        return Err(e.context(format!(
            "containerd did not come up; last lines of {}:\n{tail}",
            paths.containerd_log.display()
        )));
    }
    Ok(ContainerdInfo {
        socket: paths.containerd_socket.clone(),
        kind: ContainerdKind::Private {
            pid: daemon.pid(),
            started: true,
        },
    })
}

fn wait_socket(socket: &Path, timeout: Duration, daemon: &Daemon) -> Result<()> {
    let deadline = Instant::now() + timeout;
    loop {
        if socket_answers(socket) {
            return Ok(());
        }
        if !pid_alive(daemon.pid()) {
            bail!("{} (pid {}) exited", daemon.name(), daemon.pid());
        }
        if Instant::now() >= deadline {
            bail!("{} does not answer after {timeout:?}", socket.display());
        }
        thread::sleep(Duration::from_millis(100));
    }
}

/// The default bridge conflist for `pod_cidr` (the kubelet's `BridgeNetwork` shape:
/// bridge `cni0` with host-local IPAM, portmap, loopback; cniVersion 1.0.0).
pub fn bridge_conflist(pod_cidr: &str) -> String {
    let doc = serde_json::json!({
        "cniVersion": "1.0.0",
        "name": CNI_NETWORK_NAME,
        "plugins": [
            {
                "type": "bridge",
                "bridge": "cni0",
                "isGateway": true,
                "ipMasq": true,
                "hairpinMode": true,
                "ipam": {
                    "type": "host-local",
                    "ranges": [[{ "subnet": pod_cidr }]],
                    "routes": [{ "dst": "0.0.0.0/0" }]
                }
            },
            { "type": "portmap", "capabilities": { "portMappings": true }, "snat": true },
            { "type": "loopback" }
        ]
    });
    serde_json::to_string_pretty(&doc).unwrap_or_else(|_| doc.to_string()) + "\n"
}

/// What [`ensure_cni_conflist`] found or did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CniSetup {
    /// Wrote this file.
    Written(PathBuf),
    /// Another configuration was there already (the first one, which the kubelet uses).
    Existing(PathBuf),
}

/// Writes [`CONFLIST_NAME`] into `conf_dir` unless a `.conf`/`.conflist`/`.json` is there
/// already; records a written file in `record` (for `down --purge`).
pub fn ensure_cni_conflist(conf_dir: &Path, pod_cidr: &str, record: &Path) -> Result<CniSetup> {
    let mut existing: Vec<PathBuf> = match fs::read_dir(conf_dir) {
        Ok(entries) => entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                matches!(
                    p.extension().and_then(|e| e.to_str()),
                    Some("conf" | "conflist" | "json")
                )
            })
            .collect(),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(e).with_context(|| format!("reading {}", conf_dir.display())),
    };
    existing.sort();
    if let Some(first) = existing.into_iter().next() {
        return Ok(CniSetup::Existing(first));
    }
    fs::create_dir_all(conf_dir).with_context(|| format!("creating {}", conf_dir.display()))?;
    let path = conf_dir.join(CONFLIST_NAME);
    let tmp = conf_dir.join(format!(".{CONFLIST_NAME}.tmp"));
    fs::write(&tmp, bridge_conflist(pod_cidr))
        .with_context(|| format!("writing {}", tmp.display()))?;
    fs::rename(&tmp, &path).with_context(|| format!("renaming to {}", path.display()))?;
    write_public(record, format!("{}\n", path.display()).as_bytes())?;
    Ok(CniSetup::Written(path))
}

/// The KubeletConfiguration `up` writes.
pub fn kubelet_config_yaml(runtime_socket: &Path) -> String {
    format!(
        "apiVersion: kubelet.config.k8s.io/v1beta1\n\
         kind: KubeletConfiguration\n\
         podCIDR: {POD_CIDR}\n\
         clusterDomain: {CLUSTER_DOMAIN}\n\
         clusterDNS:\n\
         - {CLUSTER_DNS}\n\
         containerRuntimeEndpoint: unix://{}\n",
        runtime_socket.display()
    )
}

/// The registries.yaml `up` writes: docker.io (and so `image: busybox`) pulled from the
/// plain-HTTP registry at `mirror_addr` (e.g. `127.0.0.1:5000`), the registry itself
/// only as a fallback.
pub fn registries_yaml(mirror_addr: &str) -> String {
    format!("mirrors:\n  docker.io:\n    endpoint:\n      - \"http://{mirror_addr}\"\n")
}

/// Writes [`registries_yaml`] to `paths.registries_config`.
pub fn write_registries_config(paths: &NodePaths, mirror_addr: &str) -> Result<()> {
    if let Some(dir) = paths.registries_config.parent() {
        fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    write_public(
        &paths.registries_config,
        registries_yaml(mirror_addr).as_bytes(),
    )
}

/// The node's client certificate (CN=system:node:<name>, O=system:nodes) and a kubeconfig
/// with it at `paths.kubelet_kubeconfig`.
pub fn write_kubelet_kubeconfig(
    pki: &Pki,
    cluster_name: &str,
    server: &str,
    node_name: &str,
    paths: &NodePaths,
) -> Result<()> {
    let user = format!("system:node:{node_name}");
    let pair = pki.ensure_client_cert("kubelet", &user, &["system:nodes"])?;
    Kubeconfig::with_client_cert(cluster_name, server, &pki.ca_pem()?, &user, &pair)?
        .write(&paths.kubelet_kubeconfig)?;
    // kubelet-streaming: the kubelet API's serving certificate and the CA its clients
    // (the apiserver) must present certificates from, copied beside the kubeconfig.
    let serving = pki.ensure_kubelet_serving_cert(
        node_name,
        &["localhost".to_string(), "127.0.0.1".to_string()],
    )?;
    let dir = kubelet_pki_dir(paths);
    fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    write_public(&dir.join("kubelet.crt"), serving.cert_pem()?.as_bytes())?;
    crate::fsutil::write_private(&dir.join("kubelet.key"), serving.key_pem()?.as_bytes())?;
    write_public(&dir.join("ca.crt"), pki.ca_pem()?.as_bytes())
}

/// kubelet-streaming: `<node dir>/kubelet-pki` (kubelet.crt, kubelet.key, ca.crt).
pub fn kubelet_pki_dir(paths: &NodePaths) -> PathBuf {
    paths.dir.join("kubelet-pki")
}

/// Writes the KubeletConfiguration and, if missing, the busybox image tarball.
pub fn write_kubelet_files(paths: &NodePaths, runtime_socket: &Path) -> Result<()> {
    fs::create_dir_all(&paths.images_dir)
        .with_context(|| format!("creating {}", paths.images_dir.display()))?;
    write_public(
        &paths.kubelet_config,
        kubelet_config_yaml(runtime_socket).as_bytes(),
    )?;
    if !paths.busybox_tar.exists() {
        crate::images::build_busybox_image(&paths.busybox_tar, BUSYBOX_REFERENCE)
            .context("building the busybox image")?;
    }
    Ok(())
}

/// The kubelet: adopted if it runs from this directory, else started. Returns it and
/// whether it was started now.
pub fn ensure_kubelet(
    paths: &NodePaths,
    kubelet_bin: &Path,
    node_name: &str,
    runtime_socket: &Path,
) -> Result<(Daemon, bool)> {
    if let Some(d) = Daemon::adopt(
        "kubelet",
        kubelet_bin,
        &paths.kubelet_pid,
        &paths.kubelet_log,
    )? {
        return Ok((d, false));
    }
    if !kubelet_bin.exists() {
        bail!("{} is missing", kubelet_bin.display());
    }
    let spec = DaemonSpec::new(
        "kubelet",
        kubelet_bin,
        &paths.kubelet_log,
        &paths.kubelet_pid,
    )
    .detach(true)
    .arg("--kubeconfig")
    .arg(&paths.kubelet_kubeconfig)
    .arg("--config")
    .arg(&paths.kubelet_config)
    .arg("--root-dir")
    .arg(&paths.kubelet_root)
    .arg("--container-runtime-endpoint")
    .arg(format!("unix://{}", runtime_socket.display()))
    .arg("--hostname-override")
    .arg(node_name)
    .arg("--registry-config")
    .arg(&paths.registries_config)
    .env("PATH", DAEMON_PATH);
    // kubelet-streaming: HTTPS on :10250 with the cluster CA for client certificates.
    let kpki = kubelet_pki_dir(paths);
    let spec = if kpki.join("ca.crt").exists() {
        spec.arg("--tls-cert-file")
            .arg(kpki.join("kubelet.crt"))
            .arg("--tls-private-key-file")
            .arg(kpki.join("kubelet.key"))
            .arg("--client-ca-file")
            .arg(kpki.join("ca.crt"))
    } else {
        spec
    };
    Ok((Daemon::spawn(&spec)?, true))
}

/// Whether a Node object (JSON) has condition Ready=True.
pub fn node_is_ready(node_json: &str) -> bool {
    let Ok(v) = serde_json::from_str::<serde_json::Value>(node_json) else {
        return false;
    };
    v["status"]["conditions"]
        .as_array()
        .map(|conds| {
            conds
                .iter()
                .any(|c| c["type"] == "Ready" && c["status"] == "True")
        })
        .unwrap_or(false)
}

/// Polls `get("/api/v1/nodes/<name>")` until the Node is Ready; fails with the kubelet's
/// log tail if `kubelet_pid` exits or `timeout` passes.
pub fn wait_node_ready(
    get: impl Fn(&str) -> Result<crate::http::Response>,
    node_name: &str,
    kubelet_pid: u32,
    kubelet_log: &Path,
    timeout: Duration,
) -> Result<()> {
    let path = format!("/api/v1/nodes/{node_name}");
    let deadline = Instant::now() + timeout;
    loop {
        let last = match get(&path) {
            Ok(r) if r.status == 200 && node_is_ready(&r.body) => return Ok(()),
            Ok(r) if r.status == 200 => "the Node exists but is not Ready".to_string(),
            Ok(r) => format!("HTTP {}", r.status),
            Err(e) => format!("{e:#}"),
        };
        if !pid_alive(kubelet_pid) {
            bail!(
                "the kubelet (pid {kubelet_pid}) exited; last lines of {}:\n{}",
                kubelet_log.display(),
                tail_file(kubelet_log, 40)
            );
        }
        if Instant::now() >= deadline {
            bail!(
                "Node {node_name} not Ready after {timeout:?} ({last}); last lines of {}:\n{}",
                kubelet_log.display(),
                tail_file(kubelet_log, 40)
            );
        }
        thread::sleep(Duration::from_millis(500));
    }
}

/// What [`stop_node`] did, for the `down` output.
#[derive(Debug, Clone, Default)]
pub struct NodeStopReport {
    pub kubelet_pid: Option<u32>,
    /// Containers removed from the private containerd.
    pub containers_removed: usize,
    /// Leftover shims (and their children) killed by PID.
    pub shims_killed: Vec<u32>,
    pub containerd_pid: Option<u32>,
    pub mounts_detached: usize,
    /// Network namespaces removed: those of the pods whose containers went, and with
    /// `--purge` every `fk-*`.
    pub netns_removed: Vec<String>,
    /// System files removed: host-local leases of the removed pods; with `--purge` the
    /// conflist `up` wrote and its lease directory.
    pub files_removed: Vec<PathBuf>,
    /// iptables nat rules the bridge plugin's ipMasq added for the removed pods (a CNI
    /// DEL removes them; nobody ran one for pods whose kubelet was stopped).
    pub nat_rules_removed: usize,
    /// Things left alone, worth a line in the output.
    pub notes: Vec<String>,
}

/// Stops the node of a cluster directory: the kubelet (SIGTERM), the pods' containers
/// (through the private containerd's API, then leftover shims by PID), the private
/// containerd, and unmounts what is left under `dir`; the removed pods' network namespaces
/// and host-local leases go too (the kubelet could not start those pods again over them).
/// With `purge`, also every `fk-*` network namespace and the conflist `up` wrote.
pub fn stop_node(dir: &Path, purge: bool) -> Result<NodeStopReport> {
    let paths = NodePaths::new(dir);
    let mut report = NodeStopReport {
        kubelet_pid: stop_pid_file(&paths.kubelet_pid, Path::new("kubelet"), STOP_GRACE)?,
        ..Default::default()
    };
    let private = Daemon::adopt(
        "containerd",
        Path::new(CONTAINERD_BIN),
        &paths.containerd_pid,
        &paths.containerd_log,
    )?;
    let task_ids = task_ids(&paths);
    let mut pod_uids = Vec::new();
    if private.is_some() {
        let removed = remove_containers(&paths.containerd_socket);
        report.containers_removed = removed.len();
        pod_uids = removed.iter().filter_map(|id| pod_uid(id)).collect();
        pod_uids.sort();
        pod_uids.dedup();
    } else if paths.kubelet_kubeconfig.exists()
        && socket_answers(Path::new(SYSTEM_CONTAINERD_SOCKET))
    {
        report.notes.push(format!(
            "the pods' containers stay in the system containerd (namespace {CONTAINERD_NAMESPACE})"
        ));
    }
    // Shims of the private containerd name its socket on their command line.
    let needle = paths.containerd_dir.display().to_string();
    let containerd_pid = private.as_ref().map(Daemon::pid);
    for shim in pids_mentioning(&needle) {
        if Some(shim) == containerd_pid || shim == std::process::id() {
            continue;
        }
        let mut victims = descendants(shim);
        victims.push(shim);
        for pid in victims {
            if kill(pid, libc::SIGKILL) {
                report.shims_killed.push(pid);
            }
        }
    }
    if let Some(mut d) = private {
        d.stop(STOP_GRACE)?;
        report.containerd_pid = Some(d.pid());
    } else {
        let _ = stop_pid_file(&paths.containerd_pid, Path::new(CONTAINERD_BIN), STOP_GRACE)?;
    }
    // runc keeps its state in /run/containerd/runc/<namespace>/<id> whichever containerd
    // ran the task: drop the entries of our tasks if a killed shim left them.
    for id in task_ids {
        let state = Path::new("/run/containerd/runc")
            .join(CONTAINERD_NAMESPACE)
            .join(&id);
        if state.is_dir() {
            let _ = fs::remove_dir_all(&state);
        }
    }
    report.mounts_detached = detach_mounts_under(dir);
    // The network namespaces (and host-local leases) of the pods whose containers went
    // above: the kubelet cannot reuse them, and would fail to create them again.
    let ours_wrote_conflist = paths.cni_record.exists();
    for uid in &pod_uids {
        let ns = format!("{NETNS_PREFIX}{uid}");
        if Path::new("/run/netns").join(&ns).exists() && delete_netns(&ns) {
            report.netns_removed.push(ns);
        }
        if ours_wrote_conflist {
            report.files_removed.extend(remove_leases(
                &Path::new(CNI_IPAM_DIR).join(CNI_NETWORK_NAME),
                uid,
            ));
        }
    }
    if ours_wrote_conflist {
        let owners = (!purge).then_some(pod_uids.as_slice());
        report.nat_rules_removed = remove_cni_nat_rules(CNI_NETWORK_NAME, owners);
    }
    if purge {
        for ns in netns_list() {
            if ns.starts_with(NETNS_PREFIX) && delete_netns(&ns) {
                report.netns_removed.push(ns);
            }
        }
        if let Ok(text) = fs::read_to_string(&paths.cni_record) {
            let written = PathBuf::from(text.trim());
            if written.file_name().and_then(|n| n.to_str()) == Some(CONFLIST_NAME) {
                match fs::remove_file(&written) {
                    Ok(()) => report.files_removed.push(written),
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                    Err(e) => {
                        return Err(e).with_context(|| format!("removing {}", written.display()))
                    }
                }
                let leases = Path::new(CNI_IPAM_DIR).join(CNI_NETWORK_NAME);
                if leases.is_dir() && fs::remove_dir_all(&leases).is_ok() {
                    report.files_removed.push(leases);
                }
            }
        }
    }
    Ok(report)
}

/// The chains iptables and CNI plugins share in the nat table: rules are deleted from
/// them one by one; any other chain a rule of ours is in is the plugin's own.
const SHARED_NAT_CHAINS: &[&str] = &[
    "PREROUTING",
    "INPUT",
    "OUTPUT",
    "POSTROUTING",
    "CNI-HOSTPORT-DNAT",
    "CNI-HOSTPORT-SETMARK",
    "CNI-HOSTPORT-MASQ",
];

/// What to delete from `iptables-save -t nat` output: (rules of shared chains, as
/// `-A ...` specs; the plugin's own chains). A rule is ours when its comment names
/// CNI network `network` and, with `owners`, one of those container IDs (the bridge
/// plugin writes `name: "<network>" id: "<container id>"`).
pub fn cni_nat_rules(
    saved: &str,
    network: &str,
    owners: Option<&[String]>,
) -> (Vec<String>, Vec<String>) {
    let tag = format!("name: \\\"{network}\\\" id: \\\"");
    let mut rules = Vec::new();
    let mut chains: Vec<String> = Vec::new();
    for line in saved.lines() {
        let Some(rest) = line.strip_prefix("-A ") else {
            continue;
        };
        let Some(at) = rest.find(&tag) else {
            continue;
        };
        let id = rest[at + tag.len()..].split('\\').next().unwrap_or("");
        if owners.is_some_and(|o| !o.iter().any(|x| x == id)) {
            continue;
        }
        let chain = rest.split_whitespace().next().unwrap_or("");
        if SHARED_NAT_CHAINS.contains(&chain) {
            rules.push(rest.to_string());
        } else if !chains.iter().any(|c| c == chain) {
            chains.push(chain.to_string());
        }
    }
    (rules, chains)
}

/// Deletes the bridge plugin's ipMasq nat rules for `network` (of `owners` only, when
/// given); returns how many rules and chains went. iptables missing: nothing to do.
pub fn remove_cni_nat_rules(network: &str, owners: Option<&[String]>) -> usize {
    let Ok(out) = Command::new("iptables-save")
        .args(["-t", "nat"])
        .env("PATH", DAEMON_PATH)
        .output()
    else {
        return 0;
    };
    let (rules, chains) = cni_nat_rules(&String::from_utf8_lossy(&out.stdout), network, owners);
    let mut removed = 0;
    for rule in rules {
        // iptables-save quotes like a shell, so sh parses the spec back exactly.
        let ok = Command::new("sh")
            .args(["-c", &format!("iptables -w -t nat -D {rule}")])
            .env("PATH", DAEMON_PATH)
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        removed += usize::from(ok);
    }
    for chain in chains {
        let iptables = |op: &str| {
            Command::new("iptables")
                .args(["-w", "-t", "nat", op, &chain])
                .env("PATH", DAEMON_PATH)
                .status()
                .map(|s| s.success())
                .unwrap_or(false)
        };
        if iptables("-F") && iptables("-X") {
            removed += 1;
        }
    }
    removed
}

/// Task IDs of the private containerd's state directory.
fn task_ids(paths: &NodePaths) -> Vec<String> {
    let dir = paths
        .containerd_dir
        .join("state/io.containerd.runtime.v2.task")
        .join(CONTAINERD_NAMESPACE);
    fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect()
}

/// `ip netns delete name`; whether it worked.
fn delete_netns(name: &str) -> bool {
    Command::new("ip")
        .args(["netns", "delete", name])
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// The pod UID a kubelet container ID starts with (`<pod uid>-<container name>`).
fn pod_uid(container_id: &str) -> Option<String> {
    let uid = container_id.get(..36)?;
    let shape_ok = uid.char_indices().all(|(i, c)| match i {
        8 | 13 | 18 | 23 => c == '-',
        _ => c.is_ascii_hexdigit(),
    });
    shape_ok.then(|| uid.to_string())
}

/// Removes host-local lease files in `dir` held by container ID `owner` (first line).
fn remove_leases(dir: &Path, owner: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = e.path();
        let held = fs::read_to_string(&path)
            .map(|t| t.lines().next().map(str::trim) == Some(owner))
            .unwrap_or(false);
        if held && fs::remove_file(&path).is_ok() {
            out.push(path);
        }
    }
    out
}

/// Kills and deletes every task and container in the kubelet's namespace of the containerd
/// at `socket` (with `ctr`); returns the IDs of the containers that went.
fn remove_containers(socket: &Path) -> Vec<String> {
    if !Path::new(CTR_BIN).exists() {
        return Vec::new();
    }
    let ctr = |args: &[&str]| -> Option<String> {
        let out = Command::new(CTR_BIN)
            .arg("--address")
            .arg(socket)
            .args(["--namespace", CONTAINERD_NAMESPACE])
            .args(args)
            .env("PATH", DAEMON_PATH)
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let ids = |args: &[&str]| -> Vec<String> {
        ctr(args)
            .unwrap_or_default()
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect()
    };
    for task in ids(&["tasks", "ls", "-q"]) {
        let _ = ctr(&["tasks", "rm", "-f", &task]);
    }
    let mut removed = Vec::new();
    for container in ids(&["containers", "ls", "-q"]) {
        if ctr(&["containers", "rm", &container]).is_some() {
            removed.push(container);
        }
    }
    removed
}

/// PIDs whose command line contains `needle`.
fn pids_mentioning(needle: &str) -> Vec<u32> {
    let mut out = Vec::new();
    for e in fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        if let Ok(cmd) = fs::read(e.path().join("cmdline")) {
            if String::from_utf8_lossy(&cmd).contains(needle) {
                out.push(pid);
            }
        }
    }
    out
}

/// All descendants of `root` (children before their parents' siblings; deepest last).
fn descendants(root: u32) -> Vec<u32> {
    let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
    for e in fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = fs::read_to_string(e.path().join("stat")) else {
            continue;
        };
        // "pid (comm) state ppid ...": comm may hold spaces and parentheses.
        let ppid = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|p| p.parse::<u32>().ok());
        if let Some(ppid) = ppid {
            children.entry(ppid).or_default().push(pid);
        }
    }
    let mut out = Vec::new();
    let mut stack = vec![root];
    while let Some(p) = stack.pop() {
        for &c in children.get(&p).map(Vec::as_slice).unwrap_or_default() {
            out.push(c);
            stack.push(c);
        }
    }
    out
}

/// kill(2) on one PID > 1; whether the signal was sent.
fn kill(pid: u32, sig: libc::c_int) -> bool {
    let Ok(raw) = i32::try_from(pid) else {
        return false;
    };
    if raw <= 1 {
        return false;
    }
    // SAFETY: plain kill(2) on one positive PID found under our cluster directory.
    unsafe { libc::kill(raw, sig) == 0 }
}

/// Lazily unmounts every mount point at or under `dir` (deepest first); returns how many.
fn detach_mounts_under(dir: &Path) -> usize {
    let root = dir.display().to_string();
    let info = fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let mut mounts: Vec<String> = info
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .filter(|m| *m == root || m.starts_with(&format!("{root}/")))
        .map(str::to_string)
        .collect();
    mounts.sort_by_key(|m| std::cmp::Reverse(m.len()));
    mounts.dedup();
    let mut n = 0;
    for m in mounts {
        if let Ok(c) = std::ffi::CString::new(m) {
            // SAFETY: umount2 with a valid C string; MNT_DETACH so busy mounts go too.
            if unsafe { libc::umount2(c.as_ptr(), libc::MNT_DETACH) } == 0 {
                n += 1;
            }
        }
    }
    n
}

/// Names from `ip netns list` ("name (id: 3)" -> "name").
fn netns_list() -> Vec<String> {
    let Ok(out) = Command::new("ip").args(["netns", "list"]).output() else {
        return Vec::new();
    };
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

/// The node's network namespaces now (for `status`).
pub fn node_netns() -> Vec<String> {
    netns_list()
        .into_iter()
        .filter(|n| n.starts_with(NETNS_PREFIX))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bridge_plugin_nat_rules_are_found_by_network_and_owner() {
        let saved = r#"*nat
:POSTROUTING ACCEPT [0:0]
:CNI-aa - [0:0]
:CNI-bb - [0:0]
-A POSTROUTING -s 10.244.0.5/32 -m comment --comment "name: \"ferrokube\" id: \"u1\"" -j CNI-aa
-A POSTROUTING -s 10.244.0.6/32 -m comment --comment "name: \"ferrokube\" id: \"u2\"" -j CNI-bb
-A POSTROUTING -s 10.9.0.6/32 -m comment --comment "name: \"other\" id: \"u1\"" -j CNI-cc
-A CNI-aa -d 10.244.0.0/24 -m comment --comment "name: \"ferrokube\" id: \"u1\"" -j ACCEPT
-A CNI-aa ! -d 224.0.0.0/4 -m comment --comment "name: \"ferrokube\" id: \"u1\"" -j MASQUERADE
-A CNI-bb ! -d 224.0.0.0/4 -m comment --comment "name: \"ferrokube\" id: \"u2\"" -j MASQUERADE
COMMIT
"#;
        let (rules, chains) = cni_nat_rules(saved, "ferrokube", Some(&["u1".to_string()]));
        assert_eq!(
            rules,
            [
                r#"POSTROUTING -s 10.244.0.5/32 -m comment --comment "name: \"ferrokube\" id: \"u1\"" -j CNI-aa"#
            ]
        );
        assert_eq!(chains, ["CNI-aa"]);
        let (rules, chains) = cni_nat_rules(saved, "ferrokube", None);
        assert_eq!(rules.len(), 2);
        assert_eq!(chains, ["CNI-aa", "CNI-bb"]);
    }

    #[test]
    fn conflist_has_the_pod_cidr() -> Result<()> {
        let v: serde_json::Value = serde_json::from_str(&bridge_conflist(POD_CIDR))?;
        assert_eq!(v["plugins"][0]["bridge"], "cni0");
        assert_eq!(v["plugins"][0]["ipam"]["ranges"][0][0]["subnet"], POD_CIDR);
        Ok(())
    }

    #[test]
    fn conflist_only_when_none_exists() -> Result<()> {
        let tmp = tempfile::tempdir()?;
        let conf = tmp.path().join("net.d");
        let record = tmp.path().join("record");
        let first = ensure_cni_conflist(&conf, POD_CIDR, &record)?;
        assert_eq!(first, CniSetup::Written(conf.join(CONFLIST_NAME)));
        assert!(record.exists());
        let second = ensure_cni_conflist(&conf, POD_CIDR, &record)?;
        assert_eq!(second, CniSetup::Existing(conf.join(CONFLIST_NAME)));
        Ok(())
    }

    #[test]
    fn pod_uid_of_container_id() {
        assert_eq!(
            pod_uid("0868ff2d-e384-4145-aba5-fa5e21e4ed6d-w").as_deref(),
            Some("0868ff2d-e384-4145-aba5-fa5e21e4ed6d")
        );
        assert_eq!(pod_uid("short"), None);
        assert_eq!(pod_uid("0868ff2dxe384-4145-aba5-fa5e21e4ed6d-w"), None);
    }

    #[test]
    fn ready_condition() {
        assert!(node_is_ready(
            r#"{"status":{"conditions":[{"type":"Ready","status":"True"}]}}"#
        ));
        assert!(!node_is_ready(
            r#"{"status":{"conditions":[{"type":"Ready","status":"False"}]}}"#
        ));
        assert!(!node_is_ready("not json"));
    }
}
