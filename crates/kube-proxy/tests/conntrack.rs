//! Stale UDP conntrack cleanup and the healthCheckNodePort servers, for real, in private
//! network namespaces (root, `ip`, `nft` and `conntrack` needed; skipped otherwise).

mod common;

use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::Ordering;
use std::time::Duration;

use common::*;
use kube_proxy::conntrack::{Conntrack, ConntrackCleaner};
use kube_proxy::health::ProxyHealth;
use kube_proxy::model::{self, Cidr, Family, NodeConfig};
use kube_proxy::proxier::Proxier;
use kube_proxy::service_health::{self, ServiceHealthServer};
use serde_json::json;

fn node() -> NodeConfig {
    let mut n = NodeConfig::new("node-a");
    n.cluster_cidrs = vec![Cidr::parse("10.244.0.0/16").unwrap()];
    n
}

fn udp_flows(ns: &Netns) -> Vec<String> {
    ns.try_exec(&["conntrack", "-L", "-p", "udp"])
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn stale_udp_conntrack_entry_is_removed_when_its_endpoint_goes() {
    if !can_use_netns() {
        return;
    }
    if !have("conntrack") {
        eprintln!("skipping: needs the conntrack binary");
        return;
    }
    let (client, backend) = client_and_backend("c", "10.252.0", "10.96.0.0/12", &[2, 3]);
    let stop_a = udp_echo(&backend.name, "10.252.0.2:5353");
    let stop_b = udp_echo(&backend.name, "10.252.0.3:5353");

    let svc = service(
        "kube-system",
        "kube-dns",
        json!({"clusterIP": "10.96.0.53",
               "ports": [{"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 5353}]}),
    );
    let slice_with = |ip: &str| {
        slice(
            "kube-system",
            "kube-dns-1",
            "kube-dns",
            json!([{"name": "dns", "port": 5353, "protocol": "UDP"}]),
            &[(ip, true, true, false, "node-b")],
        )
    };
    let n = node();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut proxier = Proxier::new(client.nft(), vec![Family::V4], None);
    let mut cleaner =
        ConntrackCleaner::new(Conntrack::in_netns(&client.name), vec![Family::V4], None);

    let model_a = model::build([&svc], [&slice_with("10.252.0.2")], &n);
    rt.block_on(proxier.sync(&model_a, &n, false)).unwrap();
    rt.block_on(cleaner.synced(&model_a));

    // One UDP flow from a fixed client socket, answered by endpoint A.
    let ns = client.name.clone();
    let (sock, reply) = in_netns(&ns, || {
        let sock = UdpSocket::bind("0.0.0.0:0").unwrap();
        sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let dst: SocketAddr = "10.96.0.53:53".parse().unwrap();
        sock.send_to(b"query-1", dst).unwrap();
        let mut buf = [0u8; 1500];
        let (n, _) = sock.recv_from(&mut buf).unwrap();
        (sock, String::from_utf8_lossy(&buf[..n]).into_owned())
    });
    assert_eq!(reply, "10.252.0.2:5353 query-1");
    let stale = |flows: &[String]| {
        flows
            .iter()
            .any(|l| l.contains("dst=10.96.0.53") && l.contains("src=10.252.0.2"))
    };
    let flows = udp_flows(&client);
    assert!(stale(&flows), "no conntrack entry for the flow: {flows:?}");

    // Endpoint A replaced by B: the new rules alone leave the flow pinned to A...
    let model_b = model::build([&svc], [&slice_with("10.252.0.3")], &n);
    rt.block_on(proxier.sync(&model_b, &n, false)).unwrap();
    let flows = udp_flows(&client);
    assert!(stale(&flows), "entry gone before the cleanup: {flows:?}");

    // ...until the cleanup deletes the entry; the same socket then reaches B.
    let deleted = rt.block_on(cleaner.synced(&model_b));
    assert!(deleted >= 1, "deleted {deleted}");
    let flows = udp_flows(&client);
    assert!(!stale(&flows), "stale entry still listed: {flows:?}");
    let reply = in_netns(&ns, move || {
        let dst: SocketAddr = "10.96.0.53:53".parse().unwrap();
        sock.send_to(b"query-2", dst).unwrap();
        let mut buf = [0u8; 1500];
        let (n, _) = sock.recv_from(&mut buf).unwrap();
        String::from_utf8_lossy(&buf[..n]).into_owned()
    });
    assert_eq!(reply, "10.252.0.3:5353 query-2");

    // Nothing changed: nothing to delete, the live flow to B is kept.
    assert_eq!(rt.block_on(cleaner.synced(&model_b)), 0);
    let flows = udp_flows(&client);
    assert!(
        flows
            .iter()
            .any(|l| l.contains("dst=10.96.0.53") && l.contains("src=10.252.0.3")),
        "{flows:?}"
    );

    stop_a.store(true, Ordering::Relaxed);
    stop_b.store(true, Ordering::Relaxed);
}

/// `GET /` on 127.0.0.1:port from inside the current thread's namespace:
/// Some((status, body)), None when the connection is refused.
async fn get(port: u16) -> Option<(u16, String)> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .ok()?;
    s.write_all(b"GET / HTTP/1.0\r\nHost: node\r\n\r\n")
        .await
        .ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).await.ok()?;
    let status = out.split_whitespace().nth(1)?.parse().ok()?;
    let body = out.split_once("\r\n\r\n")?.1.to_string();
    Some((status, body))
}

#[test]
fn health_check_node_port_follows_local_endpoints() {
    if !can_use_netns() {
        return;
    }
    let ns = Netns::new("hc");
    let name = ns.name.clone();
    std::thread::spawn(move || {
        enter(&name);
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(health_checks());
    })
    .join()
    .unwrap();
}

async fn health_checks() {
    const PORT: u16 = 31555;
    let svc = service(
        "default",
        "lb",
        json!({"type": "LoadBalancer", "clusterIP": "10.96.0.20",
               "externalTrafficPolicy": "Local", "healthCheckNodePort": PORT,
               "ports": [{"port": 80, "nodePort": 30080, "targetPort": 8080}]}),
    );
    let slice_on = |node_name: &str| {
        slice(
            "default",
            "lb-1",
            "lb",
            json!([{"port": 8080, "protocol": "TCP"}]),
            &[("10.244.0.5", true, true, false, node_name)],
        )
    };
    let n = node();
    let mut server =
        ServiceHealthServer::new("node-a", None, ProxyHealth::new(Duration::from_secs(60)));
    let sync = |server: &mut ServiceHealthServer, m: &model::Model| {
        server.sync_services(service_health::health_check_node_ports(m));
        server.sync_endpoints(&service_health::local_ready_endpoints(m));
    };

    // The port is taken: not served, and retried once it is free.
    let squatter = std::net::TcpListener::bind(("0.0.0.0", PORT)).unwrap();
    let local = model::build([&svc], [&slice_on("node-a")], &n);
    sync(&mut server, &local);
    assert!(server.serving().is_empty());
    drop(squatter);
    server.retry();
    assert_eq!(
        server.serving().values().copied().collect::<Vec<_>>(),
        vec![PORT]
    );

    // A local ready endpoint: 200 and upstream's JSON.
    let (status, body) = get(PORT).await.expect("health check answers");
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["service"]["namespace"], "default");
    assert_eq!(v["service"]["name"], "lb");
    assert_eq!(v["localEndpoints"], 1);
    assert_eq!(v["serviceProxyHealthy"], true);

    // The endpoint moves to another node: 503.
    let remote = model::build([&svc], [&slice_on("node-b")], &n);
    sync(&mut server, &remote);
    let (status, body) = get(PORT).await.expect("health check answers");
    assert_eq!(status, 503, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["localEndpoints"], 0);

    // Back on this node: 200 again.
    sync(&mut server, &local);
    assert_eq!(get(PORT).await.map(|r| r.0), Some(200));

    // The Service goes: the port is closed.
    sync(&mut server, &model::build([], [&slice_on("node-a")], &n));
    assert!(server.serving().is_empty());
    let mut closed = false;
    for _ in 0..50 {
        if get(PORT).await.is_none() {
            closed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(closed, "port {PORT} still answers after the Service went");
}
