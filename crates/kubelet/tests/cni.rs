//! Pod networking against the real CNI plugins (Debian's containernetworking-plugins) in
//! real network namespaces. Needs root, iproute2 and the plugins; CI has all three.
//!
//! Every test builds its own netns, bridge, subnet, host-local data dir and result cache,
//! and a Drop guard tears all of it down (CNI DEL, netns, bridge link, temp dirs) even
//! when an assertion fails halfway.

use std::net::{IpAddr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use kubelet::network::{
    BridgeNetwork, CapabilityArgs, Cni, CniResult, NetNs, NetworkConfigList, PodArgs, PortMapping,
    Sandbox,
};
use serde_json::Value;

const BIN_DIRS: &[&str] = &["/usr/lib/cni", "/opt/cni/bin"];
static COUNTER: AtomicU32 = AtomicU32::new(0);

/// Fails (not skips) with an actionable message when the environment cannot run these.
fn preflight() -> Vec<PathBuf> {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let euid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .unwrap_or("?");
    assert_eq!(
        euid, "0",
        "tests/cni.rs needs root (creates network namespaces, bridges, iptables rules)"
    );
    assert!(
        Command::new("ip").arg("-V").output().is_ok(),
        "tests/cni.rs needs iproute2: apt-get install -y iproute2"
    );
    let dirs: Vec<PathBuf> = BIN_DIRS.iter().map(PathBuf::from).collect();
    for plugin in ["bridge", "host-local", "portmap", "loopback"] {
        assert!(
            dirs.iter().any(|d| d.join(plugin).is_file()),
            "CNI plugin {plugin} not found in {BIN_DIRS:?}: \
             apt-get install -y containernetworking-plugins"
        );
    }
    dirs
}

fn run(cmd: &str, args: &[&str]) -> (bool, String) {
    match Command::new(cmd).args(args).output() {
        Ok(o) => (
            o.status.success(),
            String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr),
        ),
        Err(e) => (false, e.to_string()),
    }
}

fn ip_json(args: &[&str]) -> Value {
    let out = Command::new("ip").arg("-j").args(args).output().unwrap();
    assert!(
        out.status.success(),
        "ip -j {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or(Value::Array(vec![]))
}

/// A /24 in 10.244.0.0/16 that no local address or route already touches.
fn free_subnet(seed: u32) -> String {
    let (_, routes) = run("ip", &["-4", "route", "show", "table", "all"]);
    let (_, addrs) = run("ip", &["-4", "-o", "addr"]);
    for i in 0..200 {
        let octet = 20 + (seed + i * 7) % 230;
        let prefix = format!("10.244.{octet}.");
        if !routes.contains(&prefix) && !addrs.contains(&prefix) {
            return format!("10.244.{octet}.0/24");
        }
    }
    panic!("no free 10.244.x.0/24 subnet on this host");
}

/// One test's world: netns + network + the sandboxes attached so far.
struct Env {
    cni: Cni,
    net: NetworkConfigList,
    bridge: String,
    ns: NetNs,
    ipam_dir: PathBuf,
    attached: Vec<Sandbox>,
    id: String,
    // Last field: removed after Drop::drop has run DEL (which needs the cache).
    _tmp: tempfile::TempDir,
}

impl Env {
    fn new() -> Env {
        let bin_dirs = preflight();
        let pid = std::process::id();
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let id = format!("{pid}-{n}");
        let tmp = tempfile::tempdir().unwrap();
        let conf_dir = tmp.path().join("net.d");
        std::fs::create_dir_all(&conf_dir).unwrap();
        let ipam_dir = tmp.path().join("ipam");
        let bridge = format!("fkbr{}x{n}", pid % 10000);
        let seed = pid.wrapping_mul(31).wrapping_add(n * 101)
            ^ std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.subsec_nanos())
                .unwrap_or(0);
        // Create the netns first so the guard exists before anything else is made.
        let ns = NetNs::create(&format!("fk-cni-{id}")).unwrap();
        let mut network = BridgeNetwork::new(vec![free_subnet(seed)]);
        network.name = format!("fk-test-{id}");
        network.bridge = bridge.clone();
        network.ipam_data_dir = Some(ipam_dir.clone());
        // Exactly what the install writes, modulo the names above.
        network.write_to(&conf_dir).unwrap();
        let cni = Cni {
            bin_dirs,
            conf_dir,
            cache_dir: tmp.path().join("cache"),
        };
        let net = cni.load_network().unwrap();
        Env {
            cni,
            net,
            bridge,
            ns,
            ipam_dir,
            attached: Vec::new(),
            id,
            _tmp: tmp,
        }
    }

    fn sandbox(&self, suffix: &str, caps: CapabilityArgs) -> Sandbox {
        Sandbox {
            container_id: format!("fkcni{}{suffix}", self.id.replace('-', "x")),
            netns: self.ns.path().to_path_buf(),
            ifname: "eth0".into(),
            pod: Some(PodArgs {
                namespace: "default".into(),
                name: format!("pod-{suffix}"),
                uid: format!("uid-{}-{suffix}", self.id),
            }),
            capabilities: caps,
        }
    }

    /// ADD, registering the sandbox for cleanup first so a half-done ADD is undone too.
    fn add(&mut self, sb: &Sandbox) -> CniResult {
        self.attached.push(sb.clone());
        self.cni.add(&self.net, sb).unwrap()
    }

    fn del(&mut self, sb: &Sandbox) {
        self.cni.del(&self.net, sb).unwrap();
        self.attached.retain(|s| s.container_id != sb.container_id);
    }

    fn lease_files(&self) -> Vec<String> {
        let dir = self.ipam_dir.join(&self.net.name);
        std::fs::read_dir(dir)
            .map(|rd| {
                rd.filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| n.parse::<IpAddr>().is_ok())
                    .collect()
            })
            .unwrap_or_default()
    }

    fn ns_has_link(&self, name: &str) -> bool {
        ip_json(&["-n", self.ns.name(), "link"])
            .as_array()
            .is_some_and(|l| l.iter().any(|x| x["ifname"] == name))
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        for sb in std::mem::take(&mut self.attached) {
            if let Err(e) = self.cni.del(&self.net, &sb) {
                eprintln!("cleanup: CNI DEL {}: {e}", sb.container_id);
            }
        }
        if let Err(e) = self.ns.delete() {
            eprintln!("cleanup: {e}");
        }
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

fn nat_rules_mentioning(needle: &str) -> Vec<String> {
    let (_, out) = run("iptables-save", &["-t", "nat"]);
    out.lines()
        .filter(|l| l.contains(needle))
        .map(String::from)
        .collect()
}

/// The host reaches the pod: a TCP SYN to a closed port comes back as RST (refused) only if
/// the packet got into the pod's netns; ping too when the binary is installed.
fn assert_reachable(ip: IpAddr) {
    match TcpStream::connect_timeout(&SocketAddr::new(ip, 9), Duration::from_secs(2)) {
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {}
        other => panic!("pod {ip} not reachable from the host: {other:?}"),
    }
    if Command::new("ping").arg("-V").output().is_ok() {
        let (ok, out) = run("ping", &["-c1", "-W1", &ip.to_string()]);
        assert!(ok, "ping {ip}: {out}");
    }
}

#[test]
fn add_gives_pod_an_address_and_route_then_del_releases_it() {
    let mut env = Env::new();
    let sb = env.sandbox("a", CapabilityArgs::default());
    let result = env.add(&sb);

    // The result: one IPv4 on eth0 in our subnet, gateway on the bridge.
    let ips = result.pod_ips("eth0");
    assert_eq!(ips.len(), 1, "{result:?}");
    let pod_ip = ips[0];
    let cfg = &result.ips[0];
    let gw = cfg.gateway_ip().unwrap();
    let subnet = env.net.plugins[0]["ipam"]["ranges"][0][0]["subnet"]
        .as_str()
        .unwrap()
        .to_string();
    let net_prefix = subnet.trim_end_matches("0/24");
    assert!(
        pod_ip.to_string().starts_with(net_prefix),
        "{pod_ip} not in {subnet}"
    );
    assert_eq!(cfg.prefix_len(), Some(24));
    assert!(result
        .interfaces
        .iter()
        .any(|i| i.name == "eth0" && i.sandbox.as_deref() == Some(sb.netns.to_str().unwrap())));

    // The kernel agrees: eth0 carries the address, the default route goes via the gateway.
    let addrs = ip_json(&["-n", env.ns.name(), "addr", "show", "dev", "eth0"]);
    let local: Vec<&str> = addrs[0]["addr_info"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["family"] == "inet")
        .filter_map(|a| a["local"].as_str())
        .collect();
    assert_eq!(local, [pod_ip.to_string()]);
    let routes = ip_json(&["-n", env.ns.name(), "route", "show", "default"]);
    assert_eq!(routes[0]["gateway"], gw.to_string(), "{routes}");
    assert_eq!(routes[0]["dev"], "eth0");
    let bridge_addrs = ip_json(&["addr", "show", "dev", &env.bridge]);
    assert!(
        bridge_addrs.to_string().contains(&format!("\"{gw}\"")),
        "gateway {gw} not on {}: {bridge_addrs}",
        env.bridge
    );
    // loopback ran too.
    let lo = ip_json(&["-n", env.ns.name(), "link", "show", "lo"]);
    assert!(lo[0]["flags"].to_string().contains("\"UP\""), "{lo}");

    assert_reachable(pod_ip);
    assert_eq!(env.lease_files(), [pod_ip.to_string()]);
    assert!(
        env.cni
            .cached_result(&env.net.name, &sb.container_id, "eth0")
            .unwrap()
            .is_some(),
        "ADD result not cached"
    );
    env.cni.check(&env.net, &sb).unwrap();

    env.del(&sb);
    assert!(
        !env.ns_has_link("eth0"),
        "eth0 still in the netns after DEL"
    );
    assert!(env.lease_files().is_empty(), "IP lease not released");
    assert!(nat_rules_mentioning(&sb.container_id).is_empty());
    assert!(env
        .cni
        .cached_result(&env.net.name, &sb.container_id, "eth0")
        .unwrap()
        .is_none());
    // DEL is idempotent.
    env.cni.del(&env.net, &sb).unwrap();
}

#[test]
fn portmap_capability_installs_and_removes_dnat_rules() {
    let mut env = Env::new();
    let host_port = u16::try_from(20000 + std::process::id() % 20000).unwrap();
    let caps = CapabilityArgs {
        port_mappings: vec![PortMapping {
            host_port,
            container_port: 80,
            protocol: "tcp".into(),
            host_ip: None,
        }],
        ..Default::default()
    };
    let sb = env.sandbox("p", caps);
    let result = env.add(&sb);
    let pod_ip = result.pod_ips("eth0")[0];
    assert_reachable(pod_ip);

    // portmap tags its rules with the container id and DNATs hostPort to pod:80.
    let rules = nat_rules_mentioning(&sb.container_id).join("\n");
    assert!(rules.contains(&format!("--dports {host_port}")), "{rules}");
    assert!(
        nat_rules_mentioning(&format!("--to-destination {pod_ip}:80")).len() == 1,
        "{rules}"
    );

    // DEL without the caps (as after a kubelet restart): the cached ones are used.
    let mut bare = sb.clone();
    bare.capabilities = CapabilityArgs::default();
    env.del(&bare);
    assert!(
        nat_rules_mentioning(&sb.container_id).is_empty(),
        "portmap rules left: {:?}",
        nat_rules_mentioning(&sb.container_id)
    );
    assert!(nat_rules_mentioning(&format!("{pod_ip}:80")).is_empty());
    assert!(env.lease_files().is_empty());
    assert!(!env.ns_has_link("eth0"));
}

#[test]
fn del_tolerates_a_netns_that_is_already_gone() {
    let mut env = Env::new();
    let sb = env.sandbox("g", CapabilityArgs::default());
    env.add(&sb);
    assert_eq!(env.lease_files().len(), 1);
    env.ns.delete().unwrap();
    assert!(!Path::new(&sb.netns).exists());
    env.del(&sb);
    assert!(env.lease_files().is_empty(), "IP lease not released");
}
