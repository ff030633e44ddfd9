//! Nodes in network namespaces, for end-to-end tests that need real pods on several
//! nodes: a "LAN" namespace holding a bridge, joined by veth pairs to the root namespace
//! (where the test's kube-apiserver listens, at [`Lan::gateway`]) and to one namespace
//! per node. Each node runs its own containerd, kubelet and kube-proxy (the real
//! binaries), entered into the node's namespace with setns only: the mount namespace
//! stays shared, so the pod namespaces the kubelet mounts under /run/netns are seen by
//! runc. Pod CIDRs are routed between nodes by static routes, as a cloud route table
//! would ([`route_pod_cidrs`]).
//!
//! Everything is removed on drop, also after a failed assertion: the node's daemons and
//! pods (`ferrokube_deploy::node::stop_node`), the pods' network namespaces, the node
//! and LAN namespaces (and with them every veth, bridge and firewall rule inside), and
//! the root end of the LAN's veth pair. Names carry the test's PID and a nonce, so two
//! runs never collide.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use ferrokube_deploy::node::{containerd_config_toml, socket_answers, stop_node, NodePaths};
use ferrokube_deploy::process::{Daemon, DaemonSpec};

use crate::{bin_dir, TestCluster};

/// The pod network of the whole cluster (kube-proxy's --cluster-cidr); node N gets
/// 10.244.N.0/24.
pub const CLUSTER_CIDR: &str = "10.244.0.0/16";
/// The apiserver's --service-cluster-ip-range (the test cluster's).
pub const SERVICE_CIDR: &str = ferrokube_deploy::local_cluster::SERVICE_CLUSTER_IP_RANGE;
/// The kubelets' clusterDNS (kube-dns' ClusterIP).
pub const CLUSTER_DNS: &str = "10.96.0.10";
/// PATH for the daemons (containerd finds runc, the kubelet iptables, kube-proxy nft).
const DAEMON_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const STOP_GRACE: Duration = Duration::from_secs(10);

/// Err naming what is missing when this machine cannot run nodes in namespaces.
pub fn preflight() -> Result<()> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        bail!("needs root (network namespaces, containerd, nftables)");
    }
    for tool in ["ip", "nft", "iptables"] {
        if !has_command(tool) {
            bail!("{tool} is missing: apt-get install -y iproute2 nftables iptables");
        }
    }
    for path in [
        "/usr/bin/containerd",
        "/usr/bin/containerd-shim-runc-v2",
        "/usr/bin/ctr",
    ] {
        if !Path::new(path).exists() {
            bail!("{path} is missing: apt-get install -y containerd runc");
        }
    }
    if !["/usr/lib/cni/bridge", "/opt/cni/bin/bridge"]
        .iter()
        .any(|p| Path::new(p).exists())
    {
        bail!("the CNI plugins are missing: apt-get install -y containernetworking-plugins");
    }
    for bin in [
        "kubelet",
        "ferrokube-log-driver",
        "kube-proxy",
        "coredns-addon",
        "kube-scheduler",
        "kube-controller-manager",
    ] {
        let path = bin_dir().join(bin);
        if !path.is_file() {
            bail!(
                "{} is missing: build the daemons first (cargo xtask test does)",
                path.display()
            );
        }
    }
    Ok(())
}

fn has_command(name: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {name}")])
        .env("PATH", DAEMON_PATH)
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// Runs a command; its stdout, or an error with its stderr.
fn run(program: &str, args: &[&str]) -> Result<String> {
    let out = Command::new(program)
        .args(args)
        .env("PATH", DAEMON_PATH)
        .output()
        .with_context(|| format!("running {program}"))?;
    if !out.status.success() {
        bail!(
            "{program} {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Runs a command inside a network namespace (short-lived configuration commands only).
fn run_in(netns: &str, args: &[&str]) -> Result<String> {
    let mut full = vec!["netns", "exec", netns];
    full.extend_from_slice(args);
    run("ip", &full)
}

fn delete_netns(name: &str) {
    if Path::new("/run/netns").join(name).exists() {
        if let Err(e) = run("ip", &["netns", "delete", name]) {
            eprintln!("cleanup: {e:#}");
        }
    }
}

/// A short tag unique to this process and moment (interface names allow 15 bytes).
fn unique_tag() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{:x}", (std::process::id() ^ nanos) % 0xfffff)
}

/// A `10.X.0` prefix whose /24 no address or route of the root namespace touches.
fn free_prefix() -> Result<String> {
    let used =
        run("ip", &["-4", "route", "show", "table", "all"])? + &run("ip", &["-4", "-o", "addr"])?;
    let seed = std::process::id() as usize;
    for i in 0..50 {
        let x = 200 + (seed + i * 7) % 50;
        let prefix = format!("10.{x}.0");
        if !used.contains(&format!("{prefix}.")) && !used.contains(&format!("10.{x}.0.0/")) {
            return Ok(prefix);
        }
    }
    bail!("no free 10.x.0.0/24 between 10.200 and 10.249 in the root namespace")
}

/// The LAN the nodes share, with the root namespace on it at `<prefix>.1`.
pub struct Lan {
    netns: String,
    root_link: String,
    prefix: String,
    tag: String,
}

impl Lan {
    pub fn create() -> Result<Lan> {
        let tag = unique_tag();
        let prefix = free_prefix()?;
        let netns = format!("fk-lan-{tag}");
        run("ip", &["netns", "add", &netns])?;
        // From here on, Drop removes what exists.
        let lan = Lan {
            root_link: format!("fkl{tag}"),
            netns,
            prefix,
            tag,
        };
        run_in(&lan.netns, &["ip", "link", "set", "lo", "up"])?;
        run_in(&lan.netns, &["ip", "link", "add", "br0", "type", "bridge"])?;
        run_in(&lan.netns, &["ip", "link", "set", "br0", "up"])?;
        run(
            "ip",
            &[
                "link",
                "add",
                &lan.root_link,
                "type",
                "veth",
                "peer",
                "name",
                "root",
                "netns",
                &lan.netns,
            ],
        )?;
        run(
            "ip",
            &[
                "addr",
                "add",
                &format!("{}/24", lan.gateway()),
                "dev",
                &lan.root_link,
            ],
        )?;
        run("ip", &["link", "set", &lan.root_link, "up"])?;
        run_in(
            &lan.netns,
            &["ip", "link", "set", "root", "master", "br0", "up"],
        )?;
        Ok(lan)
    }

    /// The root namespace's address on the LAN (where the apiserver is reached).
    pub fn gateway(&self) -> String {
        format!("{}.1", self.prefix)
    }

    /// Node `index`'s address on the LAN.
    pub fn node_ip(&self, index: u8) -> String {
        format!("{}.{}", self.prefix, 10 + u16::from(index))
    }

    /// Plugs a new namespace into the bridge as `eth0` with `ip`/24.
    fn plug(&self, netns: &str, index: u8, ip: &str) -> Result<()> {
        let lan_end = format!("n{index}");
        run_in(
            &self.netns,
            &[
                "ip", "link", "add", &lan_end, "type", "veth", "peer", "name", "eth0", "netns",
                netns,
            ],
        )?;
        run_in(
            &self.netns,
            &["ip", "link", "set", &lan_end, "master", "br0", "up"],
        )?;
        run_in(
            netns,
            &["ip", "addr", "add", &format!("{ip}/24"), "dev", "eth0"],
        )?;
        run_in(netns, &["ip", "link", "set", "eth0", "up"])?;
        Ok(())
    }
}

impl Drop for Lan {
    fn drop(&mut self) {
        // Deleting one end of a veth pair deletes both.
        if run("ip", &["link", "show", &self.root_link]).is_ok() {
            if let Err(e) = run("ip", &["link", "del", &self.root_link]) {
                eprintln!("cleanup: {e:#}");
            }
        }
        delete_netns(&self.netns);
    }
}

/// One node: its namespace and its containerd, kubelet and kube-proxy (plus
/// coredns-addon after [`Node::start_dns`]).
pub struct Node {
    pub name: String,
    pub ip: String,
    pub pod_cidr: String,
    pub netns: String,
    dir: PathBuf,
    /// The apiserver as this node reaches it.
    server: String,
    admin_kubeconfig: PathBuf,
    /// kube-proxy and coredns-addon; the kubelet and containerd are stopped through
    /// their pid files by `stop_node`.
    addons: Vec<Daemon>,
    kubelet: Option<Daemon>,
    containerd: Option<Daemon>,
}

impl Node {
    /// Starts node `index` (1..) on `lan` against `cluster`, whose apiserver must listen
    /// on the LAN gateway with a certificate naming it. `busybox_tar` goes into the
    /// kubelet's image directory.
    pub fn start(lan: &Lan, cluster: &TestCluster, index: u8, busybox_tar: &Path) -> Result<Node> {
        let name = format!("node-{index}");
        let netns = format!("fk-{name}-{}", lan.tag);
        run("ip", &["netns", "add", &netns])?;
        let dir = cluster.dir().join("nodes").join(&name);
        let mut node = Node {
            ip: lan.node_ip(index),
            pod_cidr: format!("10.244.{index}.0/24"),
            name,
            netns,
            dir,
            server: node_server_url(cluster, lan)?,
            admin_kubeconfig: cluster.kubeconfig_path().to_path_buf(),
            addons: Vec::new(),
            kubelet: None,
            containerd: None,
        };
        run_in(&node.netns, &["ip", "link", "set", "lo", "up"])?;
        lan.plug(&node.netns, index, &node.ip)?;
        run_in(&node.netns, &["sysctl", "-qw", "net.ipv4.ip_forward=1"])?;
        // A real node routes everything somewhere (its default route), so packets to a
        // ClusterIP without endpoints reach kube-proxy's filter chains and get its
        // reject. The nodes have no default route (nothing may leave the machine): the
        // Service range goes to the LAN instead.
        run_in(
            &node.netns,
            &["ip", "route", "add", SERVICE_CIDR, "dev", "eth0"],
        )?;
        let server = node.server.clone();
        node.start_containerd()?;
        node.start_kubelet(cluster, &server, busybox_tar)?;
        node.start_kube_proxy(cluster, &server)?;
        Ok(node)
    }

    fn netns_path(&self) -> PathBuf {
        Path::new("/run/netns").join(&self.netns)
    }

    fn paths(&self) -> NodePaths {
        NodePaths::new(&self.dir)
    }

    fn spec(&self, name: &str, program: PathBuf) -> DaemonSpec {
        DaemonSpec::new(
            name,
            program,
            self.dir.join(format!("logs/{name}.log")),
            self.dir.join(format!("run/{name}.pid")),
        )
        .network_namespace(self.netns_path())
        .env("PATH", DAEMON_PATH)
    }

    fn start_containerd(&mut self) -> Result<()> {
        let paths = self.paths();
        std::fs::create_dir_all(&paths.containerd_dir)?;
        std::fs::write(
            &paths.containerd_config,
            containerd_config_toml(&paths.containerd_dir),
        )?;
        let spec = DaemonSpec::new(
            "containerd",
            "/usr/bin/containerd",
            &paths.containerd_log,
            &paths.containerd_pid,
        )
        .network_namespace(self.netns_path())
        .env("PATH", DAEMON_PATH)
        .arg("--config")
        .arg(&paths.containerd_config);
        let mut daemon = Daemon::spawn(&spec)?;
        let deadline = Instant::now() + Duration::from_secs(30);
        while !socket_answers(&paths.containerd_socket) {
            if !daemon.is_alive() || Instant::now() > deadline {
                let log = daemon.log_tail(20);
                self.containerd = Some(daemon);
                bail!("containerd of {} did not come up:\n{log}", self.name);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        self.containerd = Some(daemon);
        Ok(())
    }

    fn start_kubelet(
        &mut self,
        cluster: &TestCluster,
        server: &str,
        busybox_tar: &Path,
    ) -> Result<()> {
        let paths = self.paths();
        let cni_conf_dir = self.dir.join("cni/net.d");
        std::fs::create_dir_all(&cni_conf_dir)?;
        std::fs::write(
            cni_conf_dir.join("10-nodes.conflist"),
            bridge_conflist(&self.pod_cidr, &self.dir.join("cni/ipam")),
        )?;
        std::fs::create_dir_all(&paths.images_dir)?;
        if std::fs::hard_link(busybox_tar, &paths.busybox_tar).is_err() {
            std::fs::copy(busybox_tar, &paths.busybox_tar)
                .with_context(|| format!("copying {}", busybox_tar.display()))?;
        }
        let config = format!(
            "apiVersion: kubelet.config.k8s.io/v1beta1\n\
             kind: KubeletConfiguration\n\
             podCIDR: {}\n\
             clusterDomain: cluster.local\n\
             clusterDNS:\n- {CLUSTER_DNS}\n\
             podLogsDir: {}\n",
            self.pod_cidr,
            self.dir.join("log/pods").display()
        );
        std::fs::write(&paths.kubelet_config, config)?;
        let kubeconfig = cluster.user_kubeconfig_at(
            &format!("system:node:{}", self.name),
            &["system:nodes"],
            server,
        )?;
        let spec = self
            .spec("kubelet", bin_dir().join("kubelet"))
            .arg("--kubeconfig")
            .arg(kubeconfig)
            .arg("--config")
            .arg(&paths.kubelet_config)
            .arg("--root-dir")
            .arg(&paths.kubelet_root)
            .arg("--container-runtime-endpoint")
            .arg(format!("unix://{}", paths.containerd_socket.display()))
            .args(["--hostname-override", &self.name, "--node-ip", &self.ip])
            .arg("--cni-conf-dir")
            .arg(&cni_conf_dir)
            .arg("--cni-cache-dir")
            .arg(self.dir.join("cni/cache"))
            .arg("--registry-config")
            .arg(self.dir.join("registries.yaml"))
            .arg("--client-ca-file")
            .arg(cluster.ca_cert_path())
            .args(["--v", "1"]);
        // stop_node finds it through its pid file (NodePaths' kubelet_pid).
        debug_assert_eq!(spec.pid_file, paths.kubelet_pid);
        self.kubelet = Some(Daemon::spawn(&spec)?);
        Ok(())
    }

    fn start_kube_proxy(&mut self, cluster: &TestCluster, server: &str) -> Result<()> {
        let kubeconfig =
            cluster.user_kubeconfig_at("system:kube-proxy", &["system:node-proxier"], server)?;
        let spec = self
            .spec("kube-proxy", bin_dir().join("kube-proxy"))
            .arg("--kubeconfig")
            .arg(kubeconfig)
            .args([
                "--hostname-override",
                &self.name,
                "--cluster-cidr",
                CLUSTER_CIDR,
                "--healthz-bind-address",
                "127.0.0.1:10256",
                "--metrics-bind-address",
                "127.0.0.1:10249",
                "--v",
                "1",
            ]);
        self.addons.push(Daemon::spawn(&spec)?);
        Ok(())
    }

    /// Runs coredns-addon on this node's address, port 53, as user
    /// `system:coredns-addon` (publish it, and that user's RBAC, with
    /// `ferrokube_deploy::components::kube_dns_manifest(&node.ip)`). Names outside the
    /// cluster domain go to a closed port inside the node's namespace: no traffic leaves
    /// the machine.
    pub fn start_dns(&mut self, cluster: &TestCluster) -> Result<()> {
        let kubeconfig = cluster.user_kubeconfig_at("system:coredns-addon", &[], &self.server)?;
        let spec = self
            .spec("coredns-addon", bin_dir().join("coredns-addon"))
            .arg("--kubeconfig")
            .arg(kubeconfig)
            .args([
                "--dns-bind-address",
                &format!("{}:53", self.ip),
                "--upstream",
                "127.0.0.1:53",
                "--health-bind-address",
                "127.0.0.1",
                "--metrics-bind-address",
                "127.0.0.1:9153",
            ]);
        self.addons.push(Daemon::spawn(&spec)?);
        Ok(())
    }

    /// The last lines of each daemon's log, for failure messages.
    pub fn logs(&self, lines: usize) -> String {
        let mut out = String::new();
        for d in self
            .containerd
            .iter()
            .chain(self.kubelet.iter())
            .chain(self.addons.iter())
        {
            out.push_str(&format!(
                "--- {} on {} ---\n{}\n",
                d.name(),
                self.name,
                d.log_tail(lines)
            ));
        }
        out
    }

    /// kube-proxy's table on this node (`nft list table ip kube-proxy`), for failure
    /// messages.
    pub fn proxy_rules(&self) -> String {
        run_in(&self.netns, &["nft", "list", "table", "ip", "kube-proxy"])
            .unwrap_or_else(|e| format!("{e:#}"))
    }

    /// Runs `f` on a thread that entered this node's network namespace.
    pub fn in_netns<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> Result<T> {
        in_netns(&self.netns_path(), f)
    }

    /// `GET /` over plain HTTP/1.0 from this node's namespace (the node itself, not a
    /// pod): the body, or the connection error.
    pub fn http_get(&self, addr: SocketAddr) -> Result<std::io::Result<String>> {
        self.in_netns(move || {
            let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
            s.set_read_timeout(Some(Duration::from_secs(10)))?;
            s.write_all(b"GET / HTTP/1.0\r\nHost: test\r\n\r\n")?;
            let mut out = String::new();
            s.read_to_string(&mut out)?;
            Ok(out
                .split_once("\r\n\r\n")
                .map(|(_, body)| body.to_string())
                .unwrap_or(out))
        })
    }

    /// UIDs of the pods the API server binds to this node (for cleanup).
    fn pod_uids(&self) -> Vec<String> {
        let out = Command::new(crate::kubectl_binary())
            .arg("--kubeconfig")
            .arg(&self.admin_kubeconfig)
            .args([
                "get",
                "pods",
                "-A",
                "--field-selector",
                &format!("spec.nodeName={}", self.name),
                "-o",
                "jsonpath={.items[*].metadata.uid}",
            ])
            .output();
        out.map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .split_whitespace()
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let uids = self.pod_uids();
        for mut d in self.addons.drain(..) {
            if let Err(e) = d.stop(STOP_GRACE) {
                eprintln!("cleanup: {e:#}");
            }
        }
        // The kubelet, every container, containerd, the mounts under the node's dir, and
        // the netns of the pods whose containers went.
        match stop_node(&self.dir, false) {
            Ok(report) => {
                for note in report.notes {
                    eprintln!("cleanup of {}: {note}", self.name);
                }
            }
            Err(e) => eprintln!("cleanup of {}: {e:#}", self.name),
        }
        for mut d in self
            .kubelet
            .take()
            .into_iter()
            .chain(self.containerd.take())
        {
            let _ = d.stop(STOP_GRACE);
        }
        // Pods whose sandbox existed without a container (the kubelet stopped midway).
        for uid in uids {
            delete_netns(&format!("fk-{uid}"));
        }
        delete_netns(&self.netns);
    }
}

/// Moves the calling thread into the network namespace at `path` (`/run/netns/<name>`).
pub fn enter_netns(path: &Path) -> Result<()> {
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    // SAFETY: setns on a valid namespace fd changes only this thread.
    if unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
        bail!(
            "setns {}: {}",
            path.display(),
            std::io::Error::last_os_error()
        );
    }
    Ok(())
}

/// Runs `f` on a new thread that entered the network namespace at `path`.
pub fn in_netns<T: Send + 'static>(
    path: &Path,
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T> {
    let path = path.to_path_buf();
    std::thread::spawn(move || {
        enter_netns(&path)?;
        Ok(f())
    })
    .join()
    .map_err(|_| anyhow::anyhow!("the thread in the network namespace panicked"))?
}

/// `https://<LAN gateway>:<apiserver port>`: the test cluster's apiserver as the nodes
/// reach it.
fn node_server_url(cluster: &TestCluster, lan: &Lan) -> Result<String> {
    let port = cluster
        .server_url()
        .rsplit_once(':')
        .map(|(_, p)| p.trim_end_matches('/'))
        .context("the apiserver URL has no port")?;
    Ok(format!("https://{}:{port}", lan.gateway()))
}

/// The node's CNI network: upstream's bridge + host-local shape (as `cargo xtask up`
/// writes), with the IP leases under the node's directory and no masquerading (pod
/// CIDRs are routed between nodes).
fn bridge_conflist(pod_cidr: &str, ipam_dir: &Path) -> String {
    serde_json::json!({
        "cniVersion": "1.0.0",
        "name": "nodes",
        "plugins": [
            {
                "type": "bridge",
                "bridge": "cni0",
                "isGateway": true,
                "ipMasq": false,
                "hairpinMode": true,
                "ipam": {
                    "type": "host-local",
                    "ranges": [[{ "subnet": pod_cidr }]],
                    "routes": [{ "dst": "0.0.0.0/0" }],
                    "dataDir": ipam_dir.display().to_string(),
                }
            },
            { "type": "portmap", "capabilities": { "portMappings": true }, "snat": true },
            { "type": "loopback" }
        ]
    })
    .to_string()
}

/// Routes every node's pod CIDR through that node's LAN address on every other node.
pub fn route_pod_cidrs(nodes: &[&Node]) -> Result<()> {
    for from in nodes {
        for to in nodes.iter().filter(|n| n.name != from.name) {
            run_in(
                &from.netns,
                &["ip", "route", "replace", &to.pod_cidr, "via", &to.ip],
            )?;
        }
    }
    Ok(())
}
