//! kube-proxy against a real etcd + kube-apiserver (ferrokube-e2e's TestCluster): a
//! Service and an EndpointSlice created with kubectl, the daemon programming nftables
//! in a private network namespace, and real TCP connections from that namespace through
//! the ClusterIP to a backend in a second namespace joined by a veth pair. Root only.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::time::Duration;

use common::*;
use ferrokube_e2e::{wait_for, TestCluster};
use kube_proxy::config::Settings;
use kube_proxy::model::Cidr;

fn in_netns<T: Send + 'static>(ns: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let path = format!("/var/run/netns/{ns}");
    std::thread::spawn(move || {
        let file = std::fs::File::open(&path).unwrap();
        // SAFETY: setns on a valid namespace fd affects only this thread.
        let rc = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
        assert_eq!(rc, 0, "setns {path}");
        f()
    })
    .join()
    .unwrap()
}

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
    let client = Netns::new("e2e-cli");
    let backend = Netns::new("e2e-be");
    let veth = format!("fke{}", std::process::id() % 100000);
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
    client.exec(&["ip", "addr", "add", "10.251.0.1/24", "dev", &veth]);
    client.exec(&["ip", "link", "set", &veth, "up"]);
    client.exec(&["ip", "route", "add", "10.96.0.0/12", "dev", &veth]);
    backend.exec(&["ip", "addr", "add", "10.251.0.2/24", "dev", "eth0"]);
    backend.exec(&["ip", "link", "set", "eth0", "up"]);
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
