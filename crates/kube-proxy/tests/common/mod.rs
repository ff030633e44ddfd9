//! Shared test helpers: typed Services / EndpointSlices from JSON, and a private
//! network namespace removed on drop.
#![allow(dead_code)]

use std::net::UdpSocket;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::discovery::v1::EndpointSlice;
use serde_json::json;

pub fn service(ns: &str, name: &str, spec: serde_json::Value) -> Service {
    serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"namespace": ns, "name": name},
        "spec": spec,
    }))
    .unwrap()
}

pub fn service_with_status(
    ns: &str,
    name: &str,
    spec: serde_json::Value,
    status: serde_json::Value,
) -> Service {
    let mut s = service(ns, name, spec);
    s.status = Some(serde_json::from_value(status).unwrap());
    s
}

/// endpoints: (address, ready, serving, terminating, nodeName)
pub fn slice(
    ns: &str,
    name: &str,
    svc: &str,
    ports: serde_json::Value,
    endpoints: &[(&str, bool, bool, bool, &str)],
) -> EndpointSlice {
    let eps: Vec<serde_json::Value> = endpoints
        .iter()
        .map(|(a, r, s, t, n)| {
            json!({"addresses": [a], "nodeName": n,
                   "conditions": {"ready": r, "serving": s, "terminating": t}})
        })
        .collect();
    let family = if endpoints.iter().any(|e| e.0.contains(':')) {
        "IPv6"
    } else {
        "IPv4"
    };
    serde_json::from_value(json!({
        "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
        "metadata": {"namespace": ns, "name": name, "labels": {"kubernetes.io/service-name": svc}},
        "addressType": family,
        "ports": ports,
        "endpoints": eps,
    }))
    .unwrap()
}

pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

pub fn have(cmd: &str) -> bool {
    std::process::Command::new("sh")
        .args(["-c", &format!("command -v {cmd}")])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// Tests needing root, `ip` and `nft` are skipped (with a message) otherwise.
pub fn can_use_netns() -> bool {
    if !is_root() || !have("nft") || !have("ip") {
        eprintln!("skipping: needs root, ip and nft");
        return false;
    }
    true
}

/// `ip netns add <unique>`; deleted on drop.
pub struct Netns {
    pub name: String,
}

impl Netns {
    pub fn new(prefix: &str) -> Netns {
        let name = format!(
            "fk-{prefix}-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.subsec_nanos())
                .unwrap_or(0)
        );
        let ok = std::process::Command::new("ip")
            .args(["netns", "add", &name])
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        assert!(ok, "ip netns add {name}");
        let ns = Netns { name };
        ns.exec(&["ip", "link", "set", "lo", "up"]);
        ns
    }

    /// Runs a command inside; panics when it fails.
    pub fn exec(&self, args: &[&str]) -> String {
        let out = std::process::Command::new("ip")
            .args(["netns", "exec", &self.name])
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?} in {}: {}",
            self.name,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Runs a command inside; None when it fails.
    pub fn try_exec(&self, args: &[&str]) -> Option<String> {
        let out = std::process::Command::new("ip")
            .args(["netns", "exec", &self.name])
            .args(args)
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }

    pub fn nft(&self) -> kube_proxy::nft::Nft {
        kube_proxy::nft::Nft::in_netns(&self.name)
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = std::process::Command::new("ip")
            .args(["netns", "delete", &self.name])
            .status();
    }
}

/// Moves the calling thread into network namespace `ns` (by name).
pub fn enter(ns: &str) {
    let path = std::path::Path::new("/var/run/netns").join(ns);
    ferrokube_e2e::netns_nodes::enter_netns(&path).unwrap();
}

/// Runs `f` on a thread that joined network namespace `ns`.
pub fn in_netns<T: Send + 'static>(ns: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let path = std::path::Path::new("/var/run/netns").join(ns);
    ferrokube_e2e::netns_nodes::in_netns(&path, f).unwrap()
}

/// A UDP echo server on `addr` inside `ns` (replies `<addr> <data>`), until the
/// returned flag is set.
pub fn udp_echo(ns: &str, addr: &'static str) -> Arc<AtomicBool> {
    let stop = Arc::new(AtomicBool::new(false));
    let ns = ns.to_string();
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let flag = stop.clone();
    std::thread::spawn(move || {
        enter(&ns);
        let sock = UdpSocket::bind(addr).unwrap();
        sock.set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        ready_tx.send(()).unwrap();
        let mut buf = [0u8; 1500];
        while !flag.load(Ordering::Relaxed) {
            if let Ok((n, peer)) = sock.recv_from(&mut buf) {
                let mut reply = addr.as_bytes().to_vec();
                reply.push(b' ');
                reply.extend_from_slice(&buf[..n]);
                let _ = sock.send_to(&reply, peer);
            }
        }
    });
    ready_rx.recv().unwrap();
    stop
}

/// A client and a backend namespace joined by a veth pair: the client's end,
/// `fk<tag><pid>`, has `<prefix>.1/24` and routes `service_range` to the backend,
/// whose `eth0` has `<prefix>.<h>/24` for every `h` in `backend_hosts`.
pub fn client_and_backend(
    tag: &str,
    prefix: &str,
    service_range: &str,
    backend_hosts: &[u8],
) -> (Netns, Netns) {
    let client = Netns::new(&format!("{tag}-cli"));
    let backend = Netns::new(&format!("{tag}-be"));
    let veth = format!("fk{tag}{}", std::process::id() % 100000);
    client.exec(&[
        "ip",
        "link",
        "add",
        &veth,
        "type",
        "veth",
        "peer",
        "name",
        "eth0",
        "netns",
        &backend.name,
    ]);
    client.exec(&["ip", "addr", "add", &format!("{prefix}.1/24"), "dev", &veth]);
    client.exec(&["ip", "link", "set", &veth, "up"]);
    client.exec(&["ip", "route", "add", service_range, "dev", &veth]);
    for h in backend_hosts {
        backend.exec(&[
            "ip",
            "addr",
            "add",
            &format!("{prefix}.{h}/24"),
            "dev",
            "eth0",
        ]);
    }
    backend.exec(&["ip", "link", "set", "eth0", "up"]);
    (client, backend)
}
