//! The proxier against the real kernel over netlink, in private network namespaces
//! (root only), checked with the real `nft`: full sync, incremental changes, periodic
//! resync keeping affinity state, recreation of a deleted table, a refused transaction,
//! and real connections through a ClusterIP to a backend in a second namespace (and a
//! fast refusal with no endpoints).

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

use common::*;
use kube_proxy::model::{self, Cidr, Family, NodeConfig};
use kube_proxy::netlink::Netlink;
use kube_proxy::nft::object_names;
use kube_proxy::proxier::{Proxier, SyncKind};
use kube_proxy::ruleset::rule::{Expr, Rule};
use kube_proxy::ruleset::Ruleset;
use serde_json::json;

fn node() -> NodeConfig {
    let mut n = NodeConfig::new("node-a");
    n.cluster_cidrs = vec![Cidr::parse("10.244.0.0/16").unwrap()];
    n
}

fn web(
    endpoints: &[&str],
) -> (
    Vec<k8s_openapi::api::core::v1::Service>,
    Vec<k8s_openapi::api::discovery::v1::EndpointSlice>,
) {
    let svc = service(
        "default",
        "web",
        json!({
            "clusterIP": "10.96.0.10", "ports": [{"port": 80, "targetPort": 8080}],
            "sessionAffinity": "ClientIP"
        }),
    );
    let eps: Vec<(&str, bool, bool, bool, &str)> = endpoints
        .iter()
        .map(|e| (*e, true, true, false, "node-b"))
        .collect();
    let slice = slice(
        "default",
        "web-1",
        "web",
        json!([{"port": 8080, "protocol": "TCP"}]),
        &eps,
    );
    (vec![svc], vec![slice])
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn full_then_partial_then_resync_then_recreate() {
    if !can_use_netns() {
        return;
    }
    let ns = Netns::new("apply");
    let rt = rt();
    let mut proxier = Proxier::new(ns.nft(), vec![Family::V4], None);
    let n = node();

    let (s, e) = web(&["10.244.1.1"]);
    let report = rt
        .block_on(proxier.sync(&model::build(&s, &e, &n), &n, false))
        .unwrap();
    assert_eq!(report.kinds, vec![(Family::V4, SyncKind::Full)]);

    // Nothing changed: nothing applied.
    let report = rt
        .block_on(proxier.sync(&model::build(&s, &e, &n), &n, false))
        .unwrap();
    assert_eq!(report.kinds, vec![(Family::V4, SyncKind::Unchanged)]);

    // One more endpoint: a partial sync adds its chain and rewrites the service chain.
    let (s, e) = web(&["10.244.1.1", "10.244.1.2"]);
    let report = rt
        .block_on(proxier.sync(&model::build(&s, &e, &n), &n, false))
        .unwrap();
    assert_eq!(report.kinds, vec![(Family::V4, SyncKind::Partial)]);
    let listed = ns.exec(&["nft", "list", "table", "ip", "kube-proxy"]);
    assert!(listed.contains("dnat to 10.244.1.2:8080"), "{listed}");
    assert!(listed.contains("numgen random mod 2"), "{listed}");

    // The kernel's affinity state survives a periodic resync.
    let set = proxier
        .applied(Family::V4)
        .unwrap()
        .sets
        .keys()
        .find(|k| k.starts_with("affinity-") && k.ends_with("10.244.1.1/8080"))
        .cloned()
        .unwrap();
    ns.exec(&[
        "nft",
        "add",
        "element",
        "ip",
        "kube-proxy",
        &set,
        "{ 192.0.2.7 }",
    ]);
    let report = rt
        .block_on(proxier.sync(&model::build(&s, &e, &n), &n, true))
        .unwrap();
    assert_eq!(report.kinds, vec![(Family::V4, SyncKind::Resync)]);
    let listed = ns.exec(&["nft", "list", "set", "ip", "kube-proxy", &set]);
    assert!(listed.contains("192.0.2.7"), "{listed}");

    // Endpoint gone: its chain and affinity set are deleted.
    let (s, e) = web(&["10.244.1.2"]);
    let report = rt
        .block_on(proxier.sync(&model::build(&s, &e, &n), &n, false))
        .unwrap();
    assert_eq!(report.kinds, vec![(Family::V4, SyncKind::Partial)]);
    let tables = rt.block_on(ns.nft().list_table(Family::V4)).unwrap();
    let (chains, sets) = object_names(&tables);
    assert!(
        !chains.iter().any(|c| c.contains("10.244.1.1")),
        "{chains:?}"
    );
    assert!(!sets.iter().any(|c| c.contains("10.244.1.1")), "{sets:?}");
    assert!(
        chains.iter().any(|c| c.contains("10.244.1.2")),
        "{chains:?}"
    );
    assert!(sets.contains(&"cluster-ips".to_string()), "{sets:?}");

    // Someone deletes the table: noticed, and the next sync recreates it.
    ns.exec(&["nft", "delete", "table", "ip", "kube-proxy"]);
    assert!(!rt.block_on(proxier.check_tables()).unwrap());
    let report = rt
        .block_on(proxier.sync(&model::build(&s, &e, &n), &n, false))
        .unwrap();
    assert_eq!(report.kinds, vec![(Family::V4, SyncKind::Full)]);
    let listed = ns.exec(&["nft", "list", "table", "ip", "kube-proxy"]);
    assert!(listed.contains("dnat to 10.244.1.2:8080"), "{listed}");

    // A chain deleted by hand makes the partial sync fail; the table is replaced.
    let svc_chain = proxier
        .applied(Family::V4)
        .unwrap()
        .chains
        .keys()
        .find(|k| k.starts_with("endpoint-"))
        .cloned()
        .unwrap();
    ns.exec(&["nft", "flush", "chain", "ip", "kube-proxy", &svc_chain]);
    let (s, e) = web(&["10.244.1.3"]);
    let report = rt
        .block_on(proxier.sync(&model::build(&s, &e, &n), &n, false))
        .unwrap();
    assert!(matches!(
        report.kinds[0].1,
        SyncKind::Partial | SyncKind::Full
    ));
    let listed = ns.exec(&["nft", "list", "table", "ip", "kube-proxy"]);
    assert!(listed.contains("dnat to 10.244.1.3:8080"), "{listed}");
    assert!(!listed.contains("10.244.1.2"), "{listed}");
}

#[test]
fn cluster_ip_reaches_a_backend_in_another_namespace() {
    if !can_use_netns() {
        return;
    }
    let (client, backend) = client_and_backend("v", "10.250.0", "10.96.0.0/16", &[2]);

    // Backend: answers "hello" on 10.250.0.2:8080 in its namespace.
    let listener = in_netns(&backend.name, || {
        TcpListener::bind("10.250.0.2:8080").unwrap()
    });
    let server = std::thread::spawn(move || {
        for mut s in listener.incoming().take(2).flatten() {
            let _ = s.write_all(b"hello");
        }
    });

    let rt = rt();
    let mut proxier = Proxier::new(client.nft(), vec![Family::V4], None);
    let n = node();
    let (s, e) = web(&["10.250.0.2"]);
    rt.block_on(proxier.sync(&model::build(&s, &e, &n), &n, false))
        .unwrap();

    let connect = || {
        in_netns(&client.name, || {
            let addr: SocketAddr = "10.96.0.10:80".parse().unwrap();
            TcpStream::connect_timeout(&addr, Duration::from_secs(10)).map(|mut s| {
                let mut buf = String::new();
                let _ = s.read_to_string(&mut buf);
                buf
            })
        })
    };
    assert_eq!(connect().unwrap(), "hello");

    // Scale to zero: rejected right away.
    let (s, e) = web(&[]);
    rt.block_on(proxier.sync(&model::build(&s, &e, &n), &n, false))
        .unwrap();
    let started = std::time::Instant::now();
    let err = connect().unwrap_err();
    assert_eq!(
        err.kind(),
        std::io::ErrorKind::ConnectionRefused,
        "{err} after {:?}",
        started.elapsed()
    );

    // And back.
    let (s, e) = web(&["10.250.0.2"]);
    rt.block_on(proxier.sync(&model::build(&s, &e, &n), &n, false))
        .unwrap();
    assert_eq!(connect().unwrap(), "hello");
    server.join().unwrap();
}

#[test]
fn a_refused_transaction_names_the_command_and_changes_nothing() {
    if !can_use_netns() {
        return;
    }
    let ns = Netns::new("refused");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let netlink = Netlink::open(Some(&ns.name)).unwrap();
    let mut r = Ruleset::new(Family::V4);
    r.rule("a", Rule::new(vec![Expr::jump("missing")]));
    let err = rt
        .block_on(netlink.apply(Family::V4, &r.full_ops()))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("`add rule ip kube-proxy a jump missing`"),
        "{err}"
    );
    // All or nothing: not even the table was created.
    assert!(!rt.block_on(netlink.table_present(Family::V4)).unwrap());
}

#[test]
fn ports_of_one_service_share_its_cluster_ip_until_the_last_goes() {
    if !can_use_netns() {
        return;
    }
    let ns = Netns::new("ports");
    let rt = rt();
    let mut proxier = Proxier::new(ns.nft(), vec![Family::V4], None);
    let n = node();
    let with_ports = |ports: serde_json::Value| {
        let svc = service(
            "default",
            "multi",
            json!({"clusterIP": "10.96.0.20", "ports": ports}),
        );
        let slice = slice(
            "default",
            "multi-1",
            "multi",
            json!([{"name": "a", "port": 8080, "protocol": "TCP"},
                   {"name": "b", "port": 8443, "protocol": "TCP"}]),
            &[("10.244.1.1", true, true, false, "node-b")],
        );
        model::build(&[svc], &[slice], &n)
    };
    let a = json!({"name": "a", "port": 80, "targetPort": 8080});
    let b = json!({"name": "b", "port": 443, "targetPort": 8443});
    let cluster_ips =
        |ns: &Netns| ns.exec(&["nft", "list", "set", "ip", "kube-proxy", "cluster-ips"]);

    rt.block_on(proxier.sync(&with_ports(json!([a, b])), &n, false))
        .unwrap();
    // Port b goes: a still holds the ClusterIP, so invalid ports are still rejected.
    let report = rt
        .block_on(proxier.sync(&with_ports(json!([a])), &n, false))
        .unwrap();
    assert_eq!(report.kinds, vec![(Family::V4, SyncKind::Partial)]);
    assert!(
        cluster_ips(&ns).contains("10.96.0.20"),
        "{}",
        cluster_ips(&ns)
    );
    // The last port goes: the element goes with it, still as a partial sync.
    let report = rt
        .block_on(proxier.sync(&with_ports(json!([])), &n, false))
        .unwrap();
    assert_eq!(report.kinds, vec![(Family::V4, SyncKind::Partial)]);
    assert!(
        !cluster_ips(&ns).contains("10.96.0.20"),
        "{}",
        cluster_ips(&ns)
    );
}
