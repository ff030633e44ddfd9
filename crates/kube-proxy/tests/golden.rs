//! Golden tests: Services + EndpointSlices + node config -> the exact nftables text,
//! compared with tests/golden/*.nft (regenerate with UPDATE_GOLDEN=1). When root and
//! nft are available, every golden ruleset is also loaded into a private network
//! namespace with `nft -f`, and into another one over our netlink encoding: `nft list`
//! must print the two tables identically.

mod common;

use common::*;
use kube_proxy::model::{self, Cidr, Family, NodeConfig};
use kube_proxy::netlink::Netlink;
use kube_proxy::render::render;
use kube_proxy::ruleset::Ruleset;
use serde_json::json;

fn node() -> NodeConfig {
    let mut n = NodeConfig::new("node-a");
    n.node_ips = vec!["192.168.0.10".parse().unwrap()];
    n.cluster_cidrs = vec![Cidr::parse("10.244.0.0/16").unwrap()];
    n
}

fn check(name: &str, ruleset: &Ruleset) {
    let text = ruleset.body_text(None);
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &text).unwrap();
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    if expected != text {
        let diff: Vec<String> = text
            .lines()
            .zip(expected.lines().chain(std::iter::repeat("<missing>")))
            .filter(|(a, b)| a != b)
            .take(5)
            .map(|(a, b)| format!("got:      {a}\nexpected: {b}"))
            .collect();
        panic!(
            "{name} differs from the golden file (UPDATE_GOLDEN=1 to regenerate):\n{}",
            diff.join("\n")
        );
    }
    if can_use_netns() {
        let family = ruleset.family.nft();
        let rt = tokio::runtime::Runtime::new().unwrap();
        let by_nft = Netns::new("golden");
        rt.block_on(by_nft.nft().apply(&text))
            .unwrap_or_else(|e| panic!("{name}: nft refused it: {e}"));
        let by_netlink = Netns::new("golden-nl");
        let netlink = Netlink::open(Some(&by_netlink.name)).unwrap();
        rt.block_on(netlink.apply(ruleset.family, &ruleset.full_ops()))
            .unwrap_or_else(|e| panic!("{name}: the kernel refused our netlink batch: {e}"));
        let listed = |ns: &Netns| ns.exec(&["nft", "list", "table", family, "kube-proxy"]);
        let (a, b) = (listed(&by_nft), listed(&by_netlink));
        let diff: Vec<String> = a
            .lines()
            .zip(b.lines().chain(std::iter::repeat("<missing>")))
            .filter(|(x, y)| x != y)
            .take(5)
            .map(|(x, y)| format!("nft -f:  {x}\nnetlink: {y}"))
            .collect();
        assert!(
            diff.is_empty() && a.lines().count() == b.lines().count(),
            "{name}: the table loaded over netlink lists differently:\n{}",
            diff.join("\n")
        );
    }
}

#[test]
fn cluster_ip_services() {
    let services = vec![
        // Two ports; the named targetPort resolves to different numbers per slice.
        service(
            "default",
            "web",
            json!({
                "clusterIP": "10.96.0.20", "clusterIPs": ["10.96.0.20"],
                "ports": [
                    {"name": "http", "port": 80, "targetPort": "http"},
                    {"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 5353}
                ]
            }),
        ),
        // ClientIP affinity, 60s.
        service(
            "default",
            "sticky",
            json!({
                "clusterIP": "10.96.0.30", "ports": [{"port": 8080}],
                "sessionAffinity": "ClientIP",
                "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 60}}
            }),
        ),
        // No endpoints: reject.
        service(
            "default",
            "empty",
            json!({"clusterIP": "10.96.0.40", "ports": [{"port": 80}]}),
        ),
        // internalTrafficPolicy Local, endpoint only on another node: drop.
        service(
            "kube-system",
            "local-only",
            json!({
                "clusterIP": "10.96.0.50", "ports": [{"port": 9000}],
                "internalTrafficPolicy": "Local"
            }),
        ),
        // Only terminating endpoints: the serving+terminating one is used.
        service(
            "default",
            "draining",
            json!({"clusterIP": "10.96.0.60", "ports": [{"port": 80}]}),
        ),
        // Headless and ExternalName: nothing.
        service(
            "default",
            "headless",
            json!({"clusterIP": "None", "ports": [{"port": 80}]}),
        ),
        service(
            "default",
            "ext",
            json!({"type": "ExternalName", "externalName": "example.com"}),
        ),
    ];
    let slices = vec![
        slice(
            "default",
            "web-a",
            "web",
            json!([{"name": "http", "port": 8080, "protocol": "TCP"}, {"name": "dns", "port": 5353, "protocol": "UDP"}]),
            &[
                ("10.244.1.5", true, true, false, "node-a"),
                ("10.244.2.7", true, true, false, "node-b"),
            ],
        ),
        // Second slice: same address again (deduplicated) and a pod using port 9090.
        slice(
            "default",
            "web-b",
            "web",
            json!([{"name": "http", "port": 9090, "protocol": "TCP"}]),
            &[("10.244.3.9", true, true, false, "node-c")],
        ),
        slice(
            "default",
            "web-c",
            "web",
            json!([{"name": "http", "port": 8080, "protocol": "TCP"}]),
            &[("10.244.1.5", false, false, false, "node-a")],
        ),
        slice(
            "default",
            "sticky-a",
            "sticky",
            json!([{"port": 8080, "protocol": "TCP"}]),
            &[
                ("10.244.1.6", true, true, false, "node-a"),
                ("10.244.2.6", true, true, false, "node-b"),
            ],
        ),
        slice(
            "kube-system",
            "local-only-a",
            "local-only",
            json!([{"port": 9000, "protocol": "TCP"}]),
            &[("10.244.2.8", true, true, false, "node-b")],
        ),
        slice(
            "default",
            "draining-a",
            "draining",
            json!([{"port": 80, "protocol": "TCP"}]),
            &[
                ("10.244.1.9", false, true, true, "node-a"),
                ("10.244.2.9", false, false, true, "node-b"),
            ],
        ),
    ];
    let model = model::build(&services, &slices, &node());
    check("cluster-ip.nft", &render(&model, &node(), Family::V4));
}

#[test]
fn external_traffic() {
    let services = vec![
        // NodePort, externalTrafficPolicy Local with a local endpoint.
        service(
            "default",
            "np-local",
            json!({
                "type": "NodePort", "clusterIP": "10.96.1.10",
                "ports": [{"port": 80, "nodePort": 30080}],
                "externalTrafficPolicy": "Local"
            }),
        ),
        // NodePort Cluster policy + externalIPs.
        service(
            "default",
            "np-cluster",
            json!({
                "type": "NodePort", "clusterIP": "10.96.1.20",
                "externalIPs": ["203.0.113.5"],
                "ports": [{"port": 443, "nodePort": 30443}]
            }),
        ),
        // LoadBalancer with ingress IP and source ranges; ETP Local, no local endpoint.
        service_with_status(
            "default",
            "lb",
            json!({
                "type": "LoadBalancer", "clusterIP": "10.96.1.30",
                "ports": [{"port": 80, "nodePort": 31080}],
                "externalTrafficPolicy": "Local",
                "loadBalancerSourceRanges": ["198.51.100.0/24", "192.168.0.0/24"]
            }),
            json!({"loadBalancer": {"ingress": [{"ip": "198.51.100.200"}]}}),
        ),
    ];
    let slices = vec![
        slice(
            "default",
            "np-local-a",
            "np-local",
            json!([{"port": 8080, "protocol": "TCP"}]),
            &[
                ("10.244.1.20", true, true, false, "node-a"),
                ("10.244.2.20", true, true, false, "node-b"),
            ],
        ),
        slice(
            "default",
            "np-cluster-a",
            "np-cluster",
            json!([{"port": 8443, "protocol": "TCP"}]),
            &[("10.244.2.21", true, true, false, "node-b")],
        ),
        slice(
            "default",
            "lb-a",
            "lb",
            json!([{"port": 8080, "protocol": "TCP"}]),
            &[("10.244.2.22", true, true, false, "node-b")],
        ),
    ];
    let mut n = node();
    n.nodeport_ips = Some(vec!["192.168.0.10".parse().unwrap()]);
    let model = model::build(&services, &slices, &n);
    check("external.nft", &render(&model, &n, Family::V4));
}

#[test]
fn bad_input_is_skipped_without_affecting_others() {
    let services = vec![
        service(
            "a",
            "first",
            json!({"clusterIP": "10.96.2.10", "type": "NodePort", "ports": [{"port": 80, "nodePort": 30000}]}),
        ),
        // Same ClusterIP:port as a/first: skipped.
        service(
            "b",
            "clash",
            json!({"clusterIP": "10.96.2.10", "ports": [{"port": 80}]}),
        ),
        // Same nodePort as a/first: skipped.
        service(
            "b",
            "np-clash",
            json!({"clusterIP": "10.96.2.11", "type": "NodePort", "ports": [{"port": 81, "nodePort": 30000}]}),
        ),
        // Duplicate port inside one service: the second is skipped.
        service(
            "c",
            "dup",
            json!({"clusterIP": "10.96.2.12", "ports": [{"name": "a", "port": 80}, {"name": "b", "port": 80}]}),
        ),
        // Invalid clusterIP: skipped.
        service(
            "c",
            "bad-ip",
            json!({"clusterIP": "10.96.2.300", "ports": [{"port": 80}]}),
        ),
        // Invalid externalIP: ignored, the service still works.
        service(
            "c",
            "bad-ext",
            json!({"clusterIP": "10.96.2.13", "externalIPs": ["nope"], "ports": [{"port": 80}]}),
        ),
    ];
    let slices = vec![
        slice(
            "a",
            "first-a",
            "first",
            json!([{"port": 8080, "protocol": "TCP"}]),
            &[
                ("10.244.1.1", true, true, false, "node-a"),
                ("10.244.1.300", true, true, false, "node-a"),
                ("fd00::1", true, true, false, "node-a"),
            ],
        ),
        slice(
            "c",
            "dup-a",
            "dup",
            json!([{"name": "a", "port": 8080, "protocol": "TCP"}, {"name": "b", "port": 0, "protocol": "TCP"}]),
            &[("10.244.1.2", true, true, false, "node-a")],
        ),
        slice(
            "c",
            "bad-ext-a",
            "bad-ext",
            json!([{"port": 80, "protocol": "TCP"}]),
            &[("10.244.1.3", true, true, false, "node-b")],
        ),
    ];
    let model = model::build(&services, &slices, &node());
    let names: Vec<String> = model.ports.iter().map(|p| p.name.to_string()).collect();
    assert_eq!(names, vec!["a/first", "c/bad-ext", "c/dup:a"]);
    check("bad-input.nft", &render(&model, &node(), Family::V4));
}

#[test]
fn dual_stack_renders_one_table_per_family() {
    let services = vec![service(
        "default",
        "ds",
        json!({
            "clusterIP": "10.96.3.10", "clusterIPs": ["10.96.3.10", "fd00:96::10"],
            "ipFamilies": ["IPv4", "IPv6"], "ports": [{"port": 80}]
        }),
    )];
    let slices = vec![
        slice(
            "default",
            "ds-v4",
            "ds",
            json!([{"port": 8080, "protocol": "TCP"}]),
            &[("10.244.1.30", true, true, false, "node-a")],
        ),
        slice(
            "default",
            "ds-v6",
            "ds",
            json!([{"port": 8080, "protocol": "TCP"}]),
            &[("fd00:244::30", true, true, false, "node-a")],
        ),
    ];
    let mut n = node();
    n.cluster_cidrs.push(Cidr::parse("fd00:244::/64").unwrap());
    let model = model::build(&services, &slices, &n);
    check("dual-stack-ip6.nft", &render(&model, &n, Family::V6));
    let v4 = render(&model, &n, Family::V4).body_text(None);
    assert!(v4.contains("10.96.3.10 . tcp . 80 : goto service-"), "{v4}");
    assert!(!v4.contains("fd00"), "{v4}");
}
