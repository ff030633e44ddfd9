//! kube-proxy against a real etcd + kube-apiserver (ferrokube-e2e's TestCluster): a
//! Service and an EndpointSlice created with kubectl, the daemon programming nftables
//! in a private network namespace, and real TCP connections from that namespace through
//! the ClusterIP to a backend in a second namespace joined by a veth pair. Root only.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

use common::*;
use ferrokube_e2e::{wait_for, TestCluster};
use kube_proxy::config::Settings;
use kube_proxy::model::Cidr;

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn http_get(port: u16, path: &str) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.write_all(format!("GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").as_bytes())
        .ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    let status = out.split_whitespace().nth(1)?.parse().ok()?;
    let body = out.split_once("\r\n\r\n")?.1.to_string();
    Some((status, body))
}

#[test]
fn services_from_the_apiserver_are_reachable_through_nftables() {
    if !can_use_netns() {
        return;
    }
    let cluster = TestCluster::start().unwrap();

    // Two "hosts": the client namespace (where kube-proxy programs nftables) and a
    // backend namespace holding the endpoint's address.
    let (client, backend) = client_and_backend("e", "10.251.0", "10.96.0.0/12", &[2]);
    let listener = in_netns(&backend.name, || {
        TcpListener::bind("10.251.0.2:8080").unwrap()
    });
    std::thread::spawn(move || {
        for mut s in listener.incoming().flatten() {
            let _ = s.write_all(b"hello");
        }
    });

    cluster
        .kubectl_stdin(
            &["apply", "-f", "-"],
            r#"{"apiVersion": "v1", "kind": "Service",
                "metadata": {"name": "web", "namespace": "default"},
                "spec": {"ports": [{"name": "http", "port": 80, "targetPort": "http"}]}}"#,
        )
        .unwrap()
        .ok()
        .unwrap();
    let slice = r#"{"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
        "metadata": {"name": "web-1", "namespace": "default",
                     "labels": {"kubernetes.io/service-name": "web"}},
        "addressType": "IPv4",
        "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
        "endpoints": [{"addresses": ["10.251.0.2"], "conditions": {"ready": true}, "nodeName": "node-b"}]}"#;
    cluster
        .kubectl_stdin(&["apply", "-f", "-"], slice)
        .unwrap()
        .ok()
        .unwrap();
    let cluster_ip = cluster
        .kubectl(&["get", "service", "web", "-o", "jsonpath={.spec.clusterIP}"])
        .unwrap()
        .ok()
        .unwrap();
    let cluster_ip = cluster_ip.trim().to_string();
    assert!(
        cluster_ip.parse::<std::net::IpAddr>().is_ok(),
        "{cluster_ip}"
    );

    let (healthz_port, metrics_port) = (free_port(), free_port());
    let settings = Settings {
        kubeconfig: Some(cluster.kubeconfig_path().to_path_buf()),
        hostname: "node-a".into(),
        cluster_cidrs: vec![Cidr::parse("10.244.0.0/16").unwrap()],
        nodeport_addresses: Vec::new(),
        healthz_bind_address: Some(SocketAddr::from(([127, 0, 0, 1], healthz_port))),
        metrics_bind_address: Some(SocketAddr::from(([127, 0, 0, 1], metrics_port))),
        sync_period: Duration::from_secs(30),
        min_sync_period: Duration::from_millis(100),
        masquerade_all: false,
        masquerade_bit: 14,
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let nft = client.nft();
    let daemon = rt.spawn(async move {
        let kube = kube_proxy::daemon::client(settings.kubeconfig.as_deref()).await?;
        kube_proxy::daemon::run(settings, kube, nft, async {
            let _ = stop_rx.await;
        })
        .await
    });

    let connect = {
        let ns = client.name.clone();
        let addr: SocketAddr = format!("{cluster_ip}:80").parse().unwrap();
        move || {
            in_netns(&ns, move || {
                TcpStream::connect_timeout(&addr, Duration::from_secs(5)).map(|mut s| {
                    let mut buf = String::new();
                    let _ = s.read_to_string(&mut buf);
                    buf
                })
            })
        }
    };

    // The rules appear and the ClusterIP answers with the backend's greeting.
    wait_for("the Service in nftables", Duration::from_secs(60), || {
        let out = client.try_exec(&["nft", "list", "map", "ip", "kube-proxy", "service-ips"]);
        Ok(out.filter(|o| o.contains(&cluster_ip)).map(|_| ()))
    })
    .unwrap();
    let json = client.exec(&["nft", "-j", "list", "table", "ip", "kube-proxy"]);
    assert!(
        json.contains("default/web/tcp/http__10.251.0.2/8080"),
        "{json}"
    );
    assert_eq!(connect().unwrap(), "hello");

    // /healthz (upstream's JSON) and /metrics.
    let (status, body) = http_get(healthz_port, "/healthz").unwrap();
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["nodeEligible"], true, "{body}");
    assert!(
        v["lastUpdated"].is_string() && v["currentTime"].is_string(),
        "{body}"
    );
    let (status, metrics) = http_get(metrics_port, "/metrics").unwrap();
    assert_eq!(status, 200);
    assert!(
        metrics.contains("kubeproxy_sync_proxy_rules_duration_seconds_count"),
        "{metrics}"
    );
    assert!(
        metrics.contains("kubeproxy_sync_proxy_rules_last_timestamp_seconds"),
        "{metrics}"
    );

    // No endpoints left: connections are refused at once.
    cluster
        .kubectl(&["delete", "endpointslice", "web-1"])
        .unwrap()
        .ok()
        .unwrap();
    wait_for("a refused connection", Duration::from_secs(60), || {
        Ok(match connect() {
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => Some(()),
            _ => None,
        })
    })
    .unwrap();

    // Endpoints back, and the table deleted by hand comes back by itself.
    cluster
        .kubectl_stdin(&["apply", "-f", "-"], slice)
        .unwrap()
        .ok()
        .unwrap();
    wait_for("the endpoint again", Duration::from_secs(60), || {
        Ok(connect().ok().filter(|s| s == "hello"))
    })
    .unwrap();
    client.exec(&["nft", "delete", "table", "ip", "kube-proxy"]);
    wait_for("the table to be recreated", Duration::from_secs(60), || {
        Ok(connect().ok().filter(|s| s == "hello"))
    })
    .unwrap();

    let _ = stop_tx.send(());
    let result = rt.block_on(daemon).unwrap();
    assert!(result.is_ok(), "{result:?}");
}

/// A port of the default NodePort range free on 127.0.0.1.
fn free_node_port() -> u16 {
    let start = 30000 + (std::process::id() % 2000) as u16;
    (start..32767)
        .find(|p| TcpListener::bind(("127.0.0.1", *p)).is_ok())
        .unwrap()
}

/// Through the daemon: a UDP flow's conntrack entry is deleted once its endpoint is
/// replaced, and a LoadBalancer Service's healthCheckNodePort (on the loopback
/// --nodeport-addresses) answers 200 with a local endpoint, 503 without.
#[test]
fn udp_conntrack_cleanup_and_health_check_node_port() {
    if !can_use_netns() {
        return;
    }
    if !have("conntrack") {
        eprintln!("skipping: needs the conntrack binary");
        return;
    }
    let cluster = TestCluster::start().unwrap();
    let (client, backend) = client_and_backend("u", "10.253.0", "10.96.0.0/12", &[2, 3]);
    udp_echo(&backend.name, "10.253.0.2:5353");
    udp_echo(&backend.name, "10.253.0.3:5353");

    let apply = |doc: &str| {
        cluster
            .kubectl_stdin(&["apply", "-f", "-"], doc)
            .unwrap()
            .ok()
            .unwrap();
    };
    apply(
        r#"{"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "dns", "namespace": "default"},
            "spec": {"ports": [{"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 5353}]}}"#,
    );
    let dns_slice = |ip: &str| {
        format!(
            r#"{{"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {{"name": "dns-1", "namespace": "default",
                         "labels": {{"kubernetes.io/service-name": "dns"}}}},
            "addressType": "IPv4",
            "ports": [{{"name": "dns", "port": 5353, "protocol": "UDP"}}],
            "endpoints": [{{"addresses": ["{ip}"], "conditions": {{"ready": true}}, "nodeName": "node-b"}}]}}"#
        )
    };
    apply(&dns_slice("10.253.0.2"));
    let hc_port = free_node_port();
    apply(&format!(
        r#"{{"apiVersion": "v1", "kind": "Service",
            "metadata": {{"name": "lb", "namespace": "default"}},
            "spec": {{"type": "LoadBalancer", "externalTrafficPolicy": "Local",
                     "healthCheckNodePort": {hc_port},
                     "ports": [{{"port": 80, "targetPort": 8080}}]}}}}"#
    ));
    let lb_slice = |node: &str| {
        format!(
            r#"{{"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {{"name": "lb-1", "namespace": "default",
                         "labels": {{"kubernetes.io/service-name": "lb"}}}},
            "addressType": "IPv4",
            "ports": [{{"port": 8080, "protocol": "TCP"}}],
            "endpoints": [{{"addresses": ["10.253.0.2"], "conditions": {{"ready": true}}, "nodeName": "{node}"}}]}}"#
        )
    };
    apply(&lb_slice("node-a"));
    let cluster_ip = cluster
        .kubectl(&["get", "service", "dns", "-o", "jsonpath={.spec.clusterIP}"])
        .unwrap()
        .ok()
        .unwrap()
        .trim()
        .to_string();

    let settings = Settings {
        kubeconfig: Some(cluster.kubeconfig_path().to_path_buf()),
        hostname: "node-a".into(),
        cluster_cidrs: vec![Cidr::parse("10.244.0.0/16").unwrap()],
        // Health check servers on loopback only.
        nodeport_addresses: vec!["127.0.0.0/8".into()],
        healthz_bind_address: None,
        metrics_bind_address: None,
        sync_period: Duration::from_secs(30),
        min_sync_period: Duration::from_millis(100),
        masquerade_all: false,
        masquerade_bit: 14,
    };
    // The health check port is taken at first: reported as an Event, then retried.
    let squatter = TcpListener::bind(("127.0.0.1", hc_port)).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let nft = client.nft();
    let daemon = rt.spawn(async move {
        let kube = kube_proxy::daemon::client(settings.kubeconfig.as_deref()).await?;
        kube_proxy::daemon::run(settings, kube, nft, async {
            let _ = stop_rx.await;
        })
        .await
    });

    // A UDP flow from one client socket through the ClusterIP.
    let sock = {
        let ns = client.name.clone();
        in_netns(&ns, || {
            let s = std::net::UdpSocket::bind("0.0.0.0:0").unwrap();
            s.set_read_timeout(Some(Duration::from_millis(500)))
                .unwrap();
            s
        })
    };
    let sock = std::sync::Arc::new(sock);
    let query = |msg: &'static str| {
        let (ns, sock, ip) = (client.name.clone(), sock.clone(), cluster_ip.clone());
        in_netns(&ns, move || {
            let dst: SocketAddr = format!("{ip}:53").parse().unwrap();
            sock.send_to(msg.as_bytes(), dst).ok()?;
            let mut buf = [0u8; 1500];
            let (n, _) = sock.recv_from(&mut buf).ok()?;
            Some(String::from_utf8_lossy(&buf[..n]).into_owned())
        })
    };
    wait_for("an answer from endpoint A", Duration::from_secs(60), || {
        Ok(query("q").filter(|r| r == "10.253.0.2:5353 q"))
    })
    .unwrap();
    let entry_to = |ep: &str| {
        client
            .try_exec(&["conntrack", "-L", "-p", "udp"])
            .unwrap_or_default()
            .lines()
            .any(|l| l.contains(&format!("dst={cluster_ip} ")) && l.contains(&format!("src={ep} ")))
    };
    assert!(entry_to("10.253.0.2"));

    wait_for(
        "the FailedToStartServiceHealthcheck event",
        Duration::from_secs(60),
        || {
            let out = cluster
                .kubectl(&["get", "events", "-n", "default", "-o", "json"])?
                .ok()?;
            Ok(out
                .contains("FailedToStartServiceHealthcheck")
                .then_some(()))
        },
    )
    .unwrap();
    drop(squatter);

    // The health check port, once free: a local ready endpoint, 200.
    let hc = wait_for("the health check port", Duration::from_secs(60), || {
        Ok(http_get(hc_port, "/").filter(|(s, _)| *s == 200))
    })
    .unwrap();
    let v: serde_json::Value = serde_json::from_str(&hc.1).unwrap();
    assert_eq!(v["service"]["name"], "lb", "{}", hc.1);
    assert_eq!(v["localEndpoints"], 1, "{}", hc.1);

    // Endpoint A replaced by B: the entry pinned to A is deleted, the socket reaches B.
    apply(&dns_slice("10.253.0.3"));
    wait_for("the stale entry to go", Duration::from_secs(60), || {
        Ok((!entry_to("10.253.0.2")).then_some(()))
    })
    .unwrap();
    wait_for("an answer from endpoint B", Duration::from_secs(60), || {
        Ok(query("q").filter(|r| r == "10.253.0.3:5353 q"))
    })
    .unwrap();

    // The LB endpoint moves to another node: 503.
    apply(&lb_slice("node-b"));
    let hc = wait_for("a 503 health check", Duration::from_secs(60), || {
        Ok(http_get(hc_port, "/").filter(|(s, _)| *s == 503))
    })
    .unwrap();
    let v: serde_json::Value = serde_json::from_str(&hc.1).unwrap();
    assert_eq!(v["localEndpoints"], 0, "{}", hc.1);

    let _ = stop_tx.send(());
    let result = rt.block_on(daemon).unwrap();
    assert!(result.is_ok(), "{result:?}");
}
