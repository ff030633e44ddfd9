use std::collections::BTreeMap;
use std::str::FromStr;

use k8s_openapi::api::core::v1::{ServicePort, ServiceSpec};
use k8s_openapi::api::discovery::v1::{Endpoint, EndpointConditions, EndpointPort};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::*;

fn cfg() -> Config {
    Config::new("cluster.local", 5).unwrap()
}

fn port(name: &str, proto: &str, p: i32) -> ServicePort {
    ServicePort {
        name: Some(name.into()),
        protocol: Some(proto.into()),
        port: p,
        ..Default::default()
    }
}

fn service(ns: &str, name: &str, cluster_ip: &str, ports: Vec<ServicePort>) -> Service {
    Service {
        metadata: ObjectMeta {
            name: Some(name.into()),
            namespace: Some(ns.into()),
            ..Default::default()
        },
        spec: Some(ServiceSpec {
            cluster_ip: Some(cluster_ip.into()),
            cluster_ips: Some(vec![cluster_ip.into()]),
            ports: Some(ports),
            ..Default::default()
        }),
        status: None,
    }
}

fn external(ns: &str, name: &str, target: &str) -> Service {
    Service {
        metadata: ObjectMeta {
            name: Some(name.into()),
            namespace: Some(ns.into()),
            ..Default::default()
        },
        spec: Some(ServiceSpec {
            type_: Some("ExternalName".into()),
            external_name: Some(target.into()),
            ..Default::default()
        }),
        status: None,
    }
}

fn endpoint(ip: &str, hostname: Option<&str>, ready: Option<bool>) -> Endpoint {
    Endpoint {
        addresses: vec![ip.into()],
        hostname: hostname.map(Into::into),
        conditions: Some(EndpointConditions {
            ready,
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn slice(
    ns: &str,
    svc: &str,
    name: &str,
    family: &str,
    endpoints: Vec<Endpoint>,
    ports: Vec<(&str, &str, i32)>,
) -> EndpointSlice {
    EndpointSlice {
        metadata: ObjectMeta {
            name: Some(name.into()),
            namespace: Some(ns.into()),
            labels: Some(BTreeMap::from([(
                SERVICE_NAME_LABEL.to_string(),
                svc.to_string(),
            )])),
            ..Default::default()
        },
        address_type: family.into(),
        endpoints,
        ports: Some(
            ports
                .into_iter()
                .map(|(n, proto, p)| EndpointPort {
                    name: Some(n.into()),
                    protocol: Some(proto.into()),
                    port: Some(p),
                    ..Default::default()
                })
                .collect(),
        ),
    }
}

fn n(s: &str) -> Name {
    Name::from_str(s).unwrap()
}

fn answer(index: &Index, name: &str, t: RecordType) -> Answer {
    match index.lookup(&n(name), t) {
        Lookup::Answer(a) => a,
        Lookup::Forward => panic!("{name} {t} was forwarded"),
    }
}

fn rdatas(a: &Answer) -> Vec<String> {
    a.answers.iter().map(|r| r.data.to_string()).collect()
}

fn fixture() -> Index {
    let services = vec![
        service(
            "default",
            "web",
            "10.96.0.20",
            vec![port("http", "TCP", 80), port("", "TCP", 8080)],
        ),
        service("default", "db", "None", vec![port("pg", "TCP", 5432)]),
        service("default", "empty", "None", vec![]),
        external("default", "ext", "www.example.com"),
        service(
            "kube-system",
            "kube-dns",
            "10.96.0.10",
            vec![port("dns", "UDP", 53)],
        ),
        service("v6", "web6", "fd00::20", vec![]),
    ];
    let slices = vec![
        slice(
            "default",
            "db",
            "db-abc",
            "IPv4",
            vec![
                endpoint("10.244.0.5", Some("db-0"), Some(true)),
                endpoint("10.244.0.6", None, None),
                endpoint("10.244.0.7", Some("db-2"), Some(false)),
                endpoint("not-an-ip", Some("bad"), Some(true)),
            ],
            vec![("pg", "TCP", 5433)],
        ),
        slice(
            "default",
            "empty",
            "empty-x",
            "IPv4",
            vec![endpoint("10.244.0.9", None, Some(false))],
            vec![],
        ),
    ];
    Index::build(&services, &slices, &cfg(), 42)
}

#[test]
fn cluster_ip_service_has_an_a_record() {
    let i = fixture();
    let a = answer(&i, "web.default.svc.cluster.local.", RecordType::A);
    assert_eq!(a.rcode, ResponseCode::NoError);
    assert_eq!(rdatas(&a), ["10.96.0.20"]);
    assert_eq!(a.answers[0].ttl, 5);
}

#[test]
fn lookups_are_case_insensitive_and_echo_the_asked_name() {
    let i = fixture();
    let a = answer(&i, "WEB.Default.SVC.cluster.LOCAL.", RecordType::A);
    assert_eq!(rdatas(&a), ["10.96.0.20"]);
    assert!(a.answers[0]
        .name
        .eq_case(&n("WEB.Default.SVC.cluster.LOCAL.")));
}

#[test]
fn ipv6_cluster_ip_is_aaaa_and_a_is_nodata() {
    let i = fixture();
    let a = answer(&i, "web6.v6.svc.cluster.local.", RecordType::AAAA);
    assert_eq!(rdatas(&a), ["fd00::20"]);
    let a = answer(&i, "web6.v6.svc.cluster.local.", RecordType::A);
    assert_eq!(a.rcode, ResponseCode::NoError);
    assert!(a.answers.is_empty());
    assert_eq!(a.authorities[0].record_type(), RecordType::SOA);
}

#[test]
fn headless_service_answers_its_ready_endpoints() {
    let i = fixture();
    let a = answer(&i, "db.default.svc.cluster.local.", RecordType::A);
    // Ready (true) and unset conditions count; not-ready and invalid addresses do not.
    assert_eq!(rdatas(&a), ["10.244.0.5", "10.244.0.6"]);
}

#[test]
fn headless_endpoint_hostnames_and_dashed_ips() {
    let i = fixture();
    let a = answer(&i, "db-0.db.default.svc.cluster.local.", RecordType::A);
    assert_eq!(rdatas(&a), ["10.244.0.5"]);
    let a = answer(
        &i,
        "10-244-0-6.db.default.svc.cluster.local.",
        RecordType::A,
    );
    assert_eq!(rdatas(&a), ["10.244.0.6"]);
    let a = answer(&i, "db-2.db.default.svc.cluster.local.", RecordType::A);
    assert_eq!(
        a.rcode,
        ResponseCode::NXDomain,
        "not ready endpoints have no record"
    );
}

#[test]
fn headless_without_ready_endpoints_is_nxdomain() {
    let i = fixture();
    let a = answer(&i, "empty.default.svc.cluster.local.", RecordType::A);
    assert_eq!(a.rcode, ResponseCode::NXDomain);
    assert_eq!(a.authorities[0].record_type(), RecordType::SOA);
}

#[test]
fn publish_not_ready_addresses_counts_every_endpoint() {
    let mut svc = service("default", "empty", "None", vec![]);
    if let Some(spec) = svc.spec.as_mut() {
        spec.publish_not_ready_addresses = Some(true);
    }
    let slices = vec![slice(
        "default",
        "empty",
        "e",
        "IPv4",
        vec![endpoint("10.244.0.9", None, Some(false))],
        vec![],
    )];
    let i = Index::build(&[svc], &slices, &cfg(), 1);
    let a = answer(&i, "empty.default.svc.cluster.local.", RecordType::A);
    assert_eq!(rdatas(&a), ["10.244.0.9"]);
}

#[test]
fn srv_for_named_ports_of_a_cluster_ip_service() {
    let i = fixture();
    let a = answer(
        &i,
        "_http._tcp.web.default.svc.cluster.local.",
        RecordType::SRV,
    );
    assert_eq!(rdatas(&a), ["0 100 80 web.default.svc.cluster.local."]);
    // The target's address in the additional section.
    assert_eq!(a.additionals.len(), 1);
    assert_eq!(a.additionals[0].data.to_string(), "10.96.0.20");
    // `_tcp.web...` exists as an empty non-terminal.
    let a = answer(&i, "_tcp.web.default.svc.cluster.local.", RecordType::SRV);
    assert_eq!(a.rcode, ResponseCode::NoError);
    assert!(a.answers.is_empty());
    // A wrong protocol does not exist.
    let a = answer(
        &i,
        "_http._udp.web.default.svc.cluster.local.",
        RecordType::SRV,
    );
    assert_eq!(a.rcode, ResponseCode::NXDomain);
}

#[test]
fn srv_for_a_headless_service_names_each_endpoint_with_the_endpoint_port() {
    let i = fixture();
    let a = answer(
        &i,
        "_pg._tcp.db.default.svc.cluster.local.",
        RecordType::SRV,
    );
    let mut got = rdatas(&a);
    got.sort();
    assert_eq!(
        got,
        [
            "0 50 5433 10-244-0-6.db.default.svc.cluster.local.",
            "0 50 5433 db-0.db.default.svc.cluster.local."
        ]
    );
    assert_eq!(a.additionals.len(), 2);
}

#[test]
fn external_name_is_a_cname_for_every_type() {
    let i = fixture();
    for t in [RecordType::A, RecordType::AAAA, RecordType::CNAME] {
        let a = answer(&i, "ext.default.svc.cluster.local.", t);
        assert_eq!(rdatas(&a), ["www.example.com."], "{t}");
        assert_eq!(a.answers[0].record_type(), RecordType::CNAME);
    }
}

#[test]
fn pod_records_in_insecure_mode() {
    let i = fixture();
    let a = answer(&i, "10-244-1-7.anyns.pod.cluster.local.", RecordType::A);
    assert_eq!(rdatas(&a), ["10.244.1.7"]);
    let a = answer(&i, "fd00--7.anyns.pod.cluster.local.", RecordType::AAAA);
    assert_eq!(rdatas(&a), ["fd00::7"]);
    let a = answer(&i, "10-244-1-7.anyns.pod.cluster.local.", RecordType::AAAA);
    assert_eq!(a.rcode, ResponseCode::NoError);
    assert!(a.answers.is_empty());
    let a = answer(&i, "not-an-ip.anyns.pod.cluster.local.", RecordType::A);
    assert_eq!(a.rcode, ResponseCode::NXDomain);
}

#[test]
fn ptr_for_cluster_ips_and_headless_endpoints() {
    let i = fixture();
    let a = answer(&i, "20.0.96.10.in-addr.arpa.", RecordType::PTR);
    assert_eq!(rdatas(&a), ["web.default.svc.cluster.local."]);
    let a = answer(&i, "5.0.244.10.in-addr.arpa.", RecordType::PTR);
    assert_eq!(rdatas(&a), ["db-0.db.default.svc.cluster.local."]);
    let a = answer(&i, "6.0.244.10.in-addr.arpa.", RecordType::PTR);
    assert_eq!(rdatas(&a), ["10-244-0-6.db.default.svc.cluster.local."]);
    let v6 = "0.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa.";
    let a = answer(&i, v6, RecordType::PTR);
    assert_eq!(rdatas(&a), ["web6.v6.svc.cluster.local."]);
}

#[test]
fn unknown_reverse_names_and_other_zones_are_forwarded() {
    let i = fixture();
    assert_eq!(
        i.lookup(&n("1.1.168.192.in-addr.arpa."), RecordType::PTR),
        Lookup::Forward
    );
    assert_eq!(
        i.lookup(&n("10.in-addr.arpa."), RecordType::PTR),
        Lookup::Forward
    );
    assert_eq!(i.lookup(&n("example.com."), RecordType::A), Lookup::Forward);
    // A name that merely ends like the zone is not in it.
    assert_eq!(
        i.lookup(&n("xcluster.local."), RecordType::A),
        Lookup::Forward
    );
}

#[test]
fn nxdomain_versus_nodata() {
    let i = fixture();
    // Unknown service in a namespace that has services.
    let a = answer(&i, "nope.default.svc.cluster.local.", RecordType::A);
    assert_eq!(a.rcode, ResponseCode::NXDomain);
    assert_eq!(a.authorities[0].record_type(), RecordType::SOA);
    // The namespace is an empty non-terminal: NODATA.
    for name in [
        "default.svc.cluster.local.",
        "svc.cluster.local.",
        "pod.cluster.local.",
        "cluster.local.",
    ] {
        let a = answer(&i, name, RecordType::A);
        assert_eq!(a.rcode, ResponseCode::NoError, "{name}");
        assert!(a.answers.is_empty(), "{name}");
        assert_eq!(a.authorities[0].record_type(), RecordType::SOA, "{name}");
    }
    // A namespace without services does not exist.
    let a = answer(&i, "other.svc.cluster.local.", RecordType::A);
    assert_eq!(a.rcode, ResponseCode::NXDomain);
    // The name exists but has no such type: NODATA with SOA.
    let a = answer(&i, "web.default.svc.cluster.local.", RecordType::MX);
    assert_eq!(a.rcode, ResponseCode::NoError);
    assert!(a.answers.is_empty());
    assert_eq!(a.authorities[0].record_type(), RecordType::SOA);
    let a = answer(&i, "web.default.svc.cluster.local.", RecordType::AAAA);
    assert_eq!(a.rcode, ResponseCode::NoError);
    assert!(a.answers.is_empty());
    // Below a service name, nothing.
    let a = answer(&i, "x.web.default.svc.cluster.local.", RecordType::A);
    assert_eq!(a.rcode, ResponseCode::NXDomain);
}

#[test]
fn zone_apex_has_soa_and_ns() {
    let i = fixture();
    let a = answer(&i, "cluster.local.", RecordType::SOA);
    assert_eq!(a.answers.len(), 1);
    assert_eq!(
        a.answers[0].data.to_string(),
        "ns.dns.cluster.local. hostmaster.cluster.local. 42 7200 1800 86400 5"
    );
    let a = answer(&i, "cluster.local.", RecordType::NS);
    assert_eq!(rdatas(&a), ["ns.dns.cluster.local."]);
    // The name server's address is the kube-dns Service.
    let a = answer(&i, "ns.dns.cluster.local.", RecordType::A);
    assert_eq!(rdatas(&a), ["10.96.0.10"]);
}

#[test]
fn schema_version_txt() {
    let i = fixture();
    let a = answer(&i, "dns-version.cluster.local.", RecordType::TXT);
    assert_eq!(a.answers.len(), 1);
    assert!(rdatas(&a)[0].contains(SCHEMA_VERSION), "{:?}", rdatas(&a));
}

#[test]
fn ttl_is_configurable() {
    let config = Config::new("example.internal.", 30).unwrap();
    let i = Index::build(
        &[service("a", "b", "10.0.0.1", vec![])],
        &[] as &[EndpointSlice],
        &config,
        1,
    );
    let a = answer(&i, "b.a.svc.example.internal.", RecordType::A);
    assert_eq!(a.answers[0].ttl, 30);
    assert_eq!(
        i.lookup(&n("b.a.svc.cluster.local."), RecordType::A),
        Lookup::Forward
    );
}

#[test]
fn bad_input_is_skipped_without_affecting_the_rest() {
    let services = vec![
        service("default", "bad-ip", "999.1.1.1", vec![]),
        external("default", "bad-ext", "a..b"),
        service("default", "ok", "10.96.0.30", vec![port("x", "TCP", 70000)]),
    ];
    let i = Index::build(&services, &[] as &[EndpointSlice], &cfg(), 1);
    assert_eq!(
        answer(&i, "bad-ip.default.svc.cluster.local.", RecordType::A).rcode,
        ResponseCode::NXDomain
    );
    assert_eq!(
        answer(&i, "bad-ext.default.svc.cluster.local.", RecordType::A).rcode,
        ResponseCode::NXDomain
    );
    assert_eq!(
        rdatas(&answer(&i, "ok.default.svc.cluster.local.", RecordType::A)),
        ["10.96.0.30"]
    );
}

#[test]
fn dashed_ip_round_trips() {
    for ip in ["10.244.0.5", "fd00::5", "::1", "fe80::"] {
        let ip: IpAddr = ip.parse().unwrap();
        assert_eq!(parse_dashed_ip(&dashed_ip(ip)), Some(ip), "{ip}");
    }
    assert_eq!(dashed_ip("::1".parse().unwrap()), "0--1");
    assert_eq!(parse_dashed_ip("10-1-2"), None);
}

#[test]
fn invalid_cluster_domain_is_an_error() {
    assert!(Config::new(".", 5).is_err());
    assert!(Config::new("a..b", 5).is_err());
}
