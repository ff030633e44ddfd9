//! Shared test fixtures: a private containerd 1.6 and a private CNI bridge network,
//! each torn down by Drop even when an assertion fails.

// Each test binary uses part of the fixtures.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use kubelet::network::{
    BridgeNetwork, CapabilityArgs, Cni, NetNs, NetworkConfigList, PodArgs, Sandbox,
};
use kubelet::pod::PodSandbox;
use kubelet::runtime::Containerd;

pub const CONTAINERD: &str = "/usr/bin/containerd";
pub const SHIM: &str = "/usr/bin/containerd-shim-runc-v2";
pub const BUSYBOX: &str = "/bin/busybox";
pub const CNI_BIN_DIRS: &[&str] = &["/usr/lib/cni", "/opt/cni/bin"];

/// Err with an actionable message when this machine cannot run the test.
pub fn preflight() -> Result<(), String> {
    preflight_runtime()?;
    if Command::new("ip").arg("-V").output().is_err() {
        return Err("iproute2 is missing: apt-get install -y iproute2".into());
    }
    for plugin in ["bridge", "host-local", "portmap", "loopback"] {
        if !CNI_BIN_DIRS
            .iter()
            .any(|d| Path::new(d).join(plugin).is_file())
        {
            return Err(format!(
                "CNI plugin {plugin} not in {CNI_BIN_DIRS:?}: apt-get install -y containernetworking-plugins"
            ));
        }
    }
    Ok(())
}

/// Err when this machine cannot run a private containerd (root, containerd, runc,
/// busybox).
pub fn preflight_runtime() -> Result<(), String> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Err("must run as root (containerd, runc, netns, bridges need it)".into());
    }
    for bin in [CONTAINERD, SHIM, BUSYBOX] {
        if !Path::new(bin).exists() {
            return Err(format!(
                "{bin} is missing: apt-get install -y containerd runc busybox-static"
            ));
        }
    }
    if !["/usr/sbin/runc", "/usr/bin/runc"]
        .iter()
        .any(|p| Path::new(p).exists())
    {
        return Err("runc is missing: apt-get install -y runc".into());
    }
    Ok(())
}

/// A private containerd (root/state/socket in a temp dir); Drop tears everything down.
pub struct PrivateContainerd {
    child: Child,
    pub dir: tempfile::TempDir,
    namespace: String,
}

impl PrivateContainerd {
    pub fn socket(&self) -> PathBuf {
        self.dir.path().join("containerd.sock")
    }

    pub fn start(namespace: &str) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("ferrokube-ctrd-")
            .tempdir()
            .unwrap_or_else(|e| panic!("creating temp dir: {e}"));
        let d = dir.path().display();
        let config = format!(
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
        );
        std::fs::write(dir.path().join("config.toml"), config)
            .unwrap_or_else(|e| panic!("config: {e}"));
        let log = std::fs::File::create(dir.path().join("containerd.log"))
            .unwrap_or_else(|e| panic!("log: {e}"));
        let log2 = log.try_clone().unwrap_or_else(|e| panic!("log: {e}"));
        let child = Command::new(CONTAINERD)
            .arg("--config")
            .arg(dir.path().join("config.toml"))
            // The shim and runc are found on PATH; cargo's environment may lack sbin.
            .env(
                "PATH",
                "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            )
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log2)
            .spawn()
            .unwrap_or_else(|e| panic!("starting {CONTAINERD}: {e}"));
        PrivateContainerd {
            child,
            dir,
            namespace: namespace.to_string(),
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("containerd.log")).unwrap_or_default()
    }

    pub async fn connect(&mut self) -> Containerd {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("containerd exited early ({status}):\n{}", self.log());
            }
            if self.socket().exists() {
                if let Ok(c) = Containerd::connect(self.socket(), &self.namespace).await {
                    if c.version().await.is_ok() {
                        return c;
                    }
                }
            }
            if Instant::now() > deadline {
                panic!("containerd socket not ready after 30s:\n{}", self.log());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

fn kill_pid(pid: i32) {
    // SAFETY: kill(2) on a pid we started (containerd, its shims, our containers).
    unsafe {
        libc::kill(pid, libc::SIGKILL);
    }
}

/// Pids whose command line mentions `needle` (our temp dir: the shims we caused).
fn pids_mentioning(needle: &str) -> Vec<i32> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return out;
    };
    for e in entries.flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        if let Ok(cmd) = std::fs::read(e.path().join("cmdline")) {
            if String::from_utf8_lossy(&cmd).contains(needle) {
                out.push(pid);
            }
        }
    }
    out
}

/// Mount points at or under `root`, deepest first.
pub fn mounts_under(root: &Path) -> Vec<String> {
    let root = root.display().to_string();
    let info = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let mut out: Vec<String> = info
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .filter(|m| m.starts_with(&root))
        .map(str::to_string)
        .collect();
    out.sort_by_key(|m| std::cmp::Reverse(m.len()));
    out
}

/// `/sys/fs/cgroup/<controller>/<namespace>` (v1) or `/sys/fs/cgroup/<namespace>` (v2).
fn cgroup_dirs(namespace: &str) -> Vec<PathBuf> {
    let mut out = vec![PathBuf::from("/sys/fs/cgroup").join(namespace)];
    for e in std::fs::read_dir("/sys/fs/cgroup")
        .into_iter()
        .flatten()
        .flatten()
    {
        out.push(e.path().join(namespace));
    }
    out.into_iter().filter(|p| p.is_dir()).collect()
}

impl Drop for PrivateContainerd {
    fn drop(&mut self) {
        // Container processes first, then shims and containerd, then mounts, cgroup dirs
        // and runc state; the temp dir (with every snapshot) goes last.
        for cg in cgroup_dirs(&self.namespace) {
            for sub in std::fs::read_dir(&cg).into_iter().flatten().flatten() {
                let procs =
                    std::fs::read_to_string(sub.path().join("cgroup.procs")).unwrap_or_default();
                procs
                    .lines()
                    .filter_map(|p| p.parse().ok())
                    .for_each(kill_pid);
            }
        }
        let needle = self.dir.path().display().to_string();
        for pid in pids_mentioning(&needle) {
            if pid != self.child.id() as i32 {
                kill_pid(pid);
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        for m in mounts_under(self.dir.path()) {
            if let Ok(c) = std::ffi::CString::new(m) {
                // SAFETY: plain umount2 with a valid C string; lazy so busy mounts go too.
                unsafe {
                    libc::umount2(c.as_ptr(), libc::MNT_DETACH);
                }
            }
        }
        std::thread::sleep(Duration::from_millis(100));
        for cg in cgroup_dirs(&self.namespace) {
            for sub in std::fs::read_dir(&cg).into_iter().flatten().flatten() {
                let _ = std::fs::remove_dir(sub.path());
            }
            let _ = std::fs::remove_dir(&cg);
        }
        let _ = std::fs::remove_dir_all(format!("/run/containerd/runc/{}", self.namespace));
    }
}

pub fn run(cmd: &str, args: &[&str]) -> (bool, String) {
    match Command::new(cmd).args(args).output() {
        Ok(o) => (
            o.status.success(),
            String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr),
        ),
        Err(e) => (false, e.to_string()),
    }
}

/// A /24 in 10.244.0.0/16 that no local address or route already touches.
fn free_subnet() -> String {
    let (_, routes) = run("ip", &["-4", "route", "show", "table", "all"]);
    let (_, addrs) = run("ip", &["-4", "-o", "addr"]);
    let seed = std::process::id()
        ^ std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
    for i in 0..200 {
        let octet = 20 + (seed.wrapping_add(i * 7)) % 230;
        let prefix = format!("10.244.{octet}.");
        if !routes.contains(&prefix) && !addrs.contains(&prefix) {
            return format!("10.244.{octet}.0/24");
        }
    }
    panic!("no free 10.244.x.0/24 subnet on this host");
}

/// A private bridge network: conf dir, IPAM dir and result cache in a temp dir, a unique
/// bridge and network name. Drop removes nat rules tagged with the network and the bridge
/// (sandboxes are the caller's to DEL first).
pub struct PrivateNetwork {
    pub cni: Cni,
    pub net: NetworkConfigList,
    pub subnet: String,
    pub bridge: String,
    pub ipam_dir: PathBuf,
    _tmp: tempfile::TempDir,
}

impl PrivateNetwork {
    pub fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
        let conf_dir = tmp.path().join("net.d");
        let ipam_dir = tmp.path().join("ipam");
        let tag = format!("{}", std::process::id() % 100_000);
        let bridge = format!("fkpod{tag}");
        let subnet = free_subnet();
        let mut network = BridgeNetwork::new(vec![subnet.clone()]);
        network.name = format!("fk-pod-test-{tag}");
        network.bridge = bridge.clone();
        network.ipam_data_dir = Some(ipam_dir.clone());
        network
            .write_to(&conf_dir)
            .unwrap_or_else(|e| panic!("writing conflist: {e}"));
        let cni = Cni {
            bin_dirs: CNI_BIN_DIRS.iter().map(PathBuf::from).collect(),
            conf_dir,
            cache_dir: tmp.path().join("cache"),
        };
        let net = cni
            .load_network()
            .unwrap_or_else(|e| panic!("loading network: {e}"));
        PrivateNetwork {
            cni,
            net,
            subnet,
            bridge,
            ipam_dir,
            _tmp: tmp,
        }
    }

    /// IP lease files host-local holds for this network.
    pub fn leases(&self) -> Vec<String> {
        std::fs::read_dir(self.ipam_dir.join(&self.net.name))
            .map(|rd| {
                rd.filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| n.parse::<std::net::IpAddr>().is_ok())
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl Drop for PrivateNetwork {
    fn drop(&mut self) {
        // Safety net: DEL normally leaves no nat rule, but when the netns is already gone
        // the bridge plugin (1.1.x) cannot find the pod IPs and leaves its ipMasq rules.
        ferrokube_deploy::node::remove_cni_nat_rules(&self.net.name, None);
        // The bridge plugin never deletes its bridge; it is ours, so remove it.
        let (ok, out) = run("ip", &["link", "del", &self.bridge]);
        if !ok && !out.contains("Cannot find device") {
            eprintln!("cleanup: ip link del {}: {out}", self.bridge);
        }
    }
}

/// Polls `f` until it returns Some, or fails after `timeout` with `what`.
pub async fn eventually<T, F, Fut>(timeout: Duration, what: &str, mut f: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<Option<T>>>,
{
    let start = Instant::now();
    let mut last_err = None;
    while start.elapsed() < timeout {
        match f().await {
            Ok(Some(v)) => return Ok(v),
            Ok(None) => {}
            Err(e) => last_err = Some(format!("{e:#}")),
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    anyhow::bail!("timed out waiting for {what} (last error: {last_err:?})")
}

/// A pod manager test's world: the pods it created (CNI DEL + netns delete on drop, in
/// case the manager did not get to them), the network, containerd.
/// Field order is drop order: pods' sandboxes, then the network, then containerd.
pub struct World {
    /// (namespace, name, uid) of every pod created: CNI DEL + netns delete on drop, in
    /// case the manager did not get to it.
    pub pods: Vec<(String, String, String)>,
    pub network: PrivateNetwork,
    pub daemon: PrivateContainerd,
}

impl Drop for World {
    fn drop(&mut self) {
        for (ns, name, uid) in std::mem::take(&mut self.pods) {
            let Ok(netns) = NetNs::named(&PodSandbox::netns_name(&uid)) else {
                continue;
            };
            if !netns.exists() {
                continue;
            }
            let sb = Sandbox {
                container_id: uid.clone(),
                netns: netns.path().to_path_buf(),
                ifname: "eth0".into(),
                pod: Some(PodArgs {
                    namespace: ns,
                    name,
                    uid,
                }),
                capabilities: CapabilityArgs::default(),
            };
            if let Err(e) = self.network.cni.del(&self.network.net, &sb) {
                eprintln!("cleanup: CNI DEL {}: {e}", sb.container_id);
            }
            if let Err(e) = netns.delete() {
                eprintln!("cleanup: {e}");
            }
        }
    }
}
