//! The DNS server in-process on loopback with a fixed index (no apiserver): wire-level
//! behaviour checked with hickory-proto messages over real UDP and TCP sockets.

use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use coredns_addon::forward::Forwarder;
use coredns_addon::metrics::Metrics;
use coredns_addon::records::{Config, Index};
use coredns_addon::server::{bind, serve, Handler, SharedIndex};
use hickory_proto::op::{Edns, Message, Query, ResponseCode};
use hickory_proto::rr::{Name, RecordType};
use k8s_openapi::api::core::v1::{Service, ServiceSpec};
use k8s_openapi::api::discovery::v1::{Endpoint, EndpointSlice};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};

fn objects() -> (Vec<Service>, Vec<EndpointSlice>) {
    let svc = |name: &str, ip: &str| Service {
        metadata: ObjectMeta {
            name: Some(name.into()),
            namespace: Some("default".into()),
            ..Default::default()
        },
        spec: Some(ServiceSpec {
            cluster_ip: Some(ip.into()),
            ..Default::default()
        }),
        status: None,
    };
    let slice = EndpointSlice {
        metadata: ObjectMeta {
            name: Some("big-1".into()),
            namespace: Some("default".into()),
            labels: Some([("kubernetes.io/service-name".to_string(), "big".to_string())].into()),
            ..Default::default()
        },
        address_type: "IPv4".into(),
        endpoints: (0..200)
            .map(|i| Endpoint {
                addresses: vec![format!("10.244.{}.{}", i / 100, i % 100 + 1)],
                ..Default::default()
            })
            .collect(),
        ports: None,
    };
    (
        vec![svc("web", "10.96.0.20"), svc("big", "None")],
        vec![slice],
    )
}

/// Starts the server; an upstream that refuses (nothing listens on port 9 of loopback).
async fn start() -> SocketAddr {
    start_with(None).await.0
}

/// Starts the server with `metrics`; also returns the index it serves, to swap.
async fn start_with(metrics: Option<Metrics>) -> (SocketAddr, SharedIndex) {
    let config = Config::new("cluster.local", 5).unwrap();
    let (services, slices) = objects();
    let index = Index::build(&services, &slices, &config, 1);
    let (udp, tcp) = bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let addr = udp.local_addr().unwrap();
    let shared: SharedIndex = Arc::new(RwLock::new(Arc::new(index)));
    let handler = Handler {
        index: shared.clone(),
        forwarder: Arc::new(Forwarder::new(
            vec!["127.0.0.1:9".parse().unwrap()],
            Duration::from_millis(500),
            100,
        )),
        metrics,
        server_label: "dns://:0".into(),
    };
    tokio::spawn(serve(udp, tcp, handler, std::future::pending()));
    (addr, shared)
}

fn query(name: &str, t: RecordType, edns: Option<u16>) -> Message {
    let mut m = Message::query();
    m.metadata.id = 4242;
    m.add_query(Query::query(Name::from_str(name).unwrap(), t));
    if let Some(size) = edns {
        let mut e = Edns::new();
        e.set_max_payload(size);
        m.set_edns(e);
    }
    m
}

async fn udp(addr: SocketAddr, bytes: &[u8]) -> Option<Vec<u8>> {
    let s = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    s.send_to(bytes, addr).await.unwrap();
    let mut buf = vec![0u8; 65535];
    match tokio::time::timeout(Duration::from_secs(2), s.recv(&mut buf)).await {
        Ok(Ok(n)) => Some(buf[..n].to_vec()),
        _ => None,
    }
}

async fn tcp(addr: SocketAddr, bytes: &[u8]) -> Message {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(&(bytes.len() as u16).to_be_bytes())
        .await
        .unwrap();
    s.write_all(bytes).await.unwrap();
    let mut len = [0u8; 2];
    s.read_exact(&mut len).await.unwrap();
    let mut buf = vec![0u8; u16::from_be_bytes(len) as usize];
    s.read_exact(&mut buf).await.unwrap();
    Message::from_vec(&buf).unwrap()
}

#[tokio::test]
async fn answers_with_opt_when_asked_with_edns() {
    let addr = start().await;
    let q = query("web.default.svc.cluster.local.", RecordType::A, Some(1232));
    let resp = Message::from_vec(&udp(addr, &q.to_vec().unwrap()).await.unwrap()).unwrap();
    assert_eq!(resp.metadata.id, 4242);
    assert_eq!(resp.metadata.response_code, ResponseCode::NoError);
    assert!(resp.metadata.authoritative);
    assert_eq!(resp.answers.len(), 1);
    let edns = resp.edns.expect("an OPT record in the answer");
    assert_eq!(edns.max_payload(), 1232);
    // Without EDNS in the question, none in the answer.
    let q = query("web.default.svc.cluster.local.", RecordType::A, None);
    let resp = Message::from_vec(&udp(addr, &q.to_vec().unwrap()).await.unwrap()).unwrap();
    assert!(resp.edns.is_none());
}

#[tokio::test]
async fn truncates_over_udp_to_the_offered_size_and_not_over_tcp() {
    let addr = start().await;
    for (edns, limit) in [(None, 512), (Some(1232), 1232)] {
        let q = query("big.default.svc.cluster.local.", RecordType::A, edns);
        let bytes = udp(addr, &q.to_vec().unwrap()).await.unwrap();
        assert!(bytes.len() <= limit, "{} > {limit}", bytes.len());
        let resp = Message::from_vec(&bytes).unwrap();
        assert!(resp.metadata.truncation, "{edns:?}");
        assert!(resp.answers.len() < 200);
    }
    let q = query("big.default.svc.cluster.local.", RecordType::A, Some(1232));
    let resp = tcp(addr, &q.to_vec().unwrap()).await;
    assert!(!resp.metadata.truncation);
    assert_eq!(resp.answers.len(), 200);
}

#[tokio::test]
async fn garbage_gets_formerr_or_nothing_and_the_server_keeps_answering() {
    let addr = start().await;
    // Shorter than a header: dropped.
    assert!(udp(addr, &[1, 2, 3]).await.is_none());
    // A header announcing a question that is not there: FORMERR.
    let mut p = vec![0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0xc0];
    let r = udp(addr, &p).await.unwrap();
    assert_eq!(&r[..2], &[0x12, 0x34]);
    assert_eq!(r[3] & 0x0f, 1, "FORMERR");
    // A name of 255 labels (over 255 bytes): FORMERR.
    p.truncate(12);
    for _ in 0..255 {
        p.extend_from_slice(&[1, b'a']);
    }
    p.extend_from_slice(&[0, 0, 1, 0, 1]);
    let r = udp(addr, &p).await.unwrap();
    assert_eq!(r[3] & 0x0f, 1, "FORMERR");
    // Two questions: FORMERR.
    let mut two = query("web.default.svc.cluster.local.", RecordType::A, None);
    two.add_query(Query::query(
        Name::from_str("big.default.svc.cluster.local.").unwrap(),
        RecordType::A,
    ));
    let r = Message::from_vec(&udp(addr, &two.to_vec().unwrap()).await.unwrap()).unwrap();
    assert_eq!(r.metadata.response_code, ResponseCode::FormErr);
    // Still answering.
    let q = query("web.default.svc.cluster.local.", RecordType::A, None);
    let resp = Message::from_vec(&udp(addr, &q.to_vec().unwrap()).await.unwrap()).unwrap();
    assert_eq!(resp.answers.len(), 1);
}

#[tokio::test]
async fn an_unreachable_upstream_is_servfail() {
    let addr = start().await;
    let q = query("example.org.", RecordType::A, None);
    let resp = Message::from_vec(&udp(addr, &q.to_vec().unwrap()).await.unwrap()).unwrap();
    assert_eq!(resp.metadata.response_code, ResponseCode::ServFail);
    assert!(resp.metadata.recursion_available);
    assert!(!resp.metadata.authoritative);
}

#[tokio::test]
async fn an_unknown_edns_version_is_badvers() {
    let addr = start().await;
    let mut q = query("web.default.svc.cluster.local.", RecordType::A, Some(1232));
    if let Some(e) = q.edns.as_mut() {
        e.set_version(1);
    }
    let resp = Message::from_vec(&udp(addr, &q.to_vec().unwrap()).await.unwrap()).unwrap();
    // 16 on the wire (BADVERS; the same number as BADSIG, which the decoder names).
    assert_eq!(
        u16::from(resp.metadata.response_code),
        u16::from(ResponseCode::BADVERS)
    );
    assert!(resp.edns.is_some());
    assert!(resp.answers.is_empty());
}

fn a_records(resp: &Message) -> Vec<String> {
    resp.answers.iter().map(|r| r.data.to_string()).collect()
}

#[tokio::test]
async fn a_repeated_query_gets_the_same_answer_with_its_own_id_and_case() {
    let addr = start().await;
    let mut q = query("web.default.svc.cluster.local.", RecordType::A, Some(1232));
    let first = udp(addr, &q.to_vec().unwrap()).await.unwrap();
    q.metadata.id = 777;
    let second = udp(addr, &q.to_vec().unwrap()).await.unwrap();
    assert_eq!(&second[..2], &777u16.to_be_bytes());
    assert_eq!(first[2..], second[2..], "the same answer but for the ID");
    let resp = Message::from_vec(&second).unwrap();
    assert_eq!(a_records(&resp), ["10.96.0.20"]);
    // Another case is another query: its answer echoes that case (hickory's encoder
    // writes names in lower case, so the case is set in the bytes).
    let mut mixed = query("web.default.svc.cluster.local.", RecordType::A, None)
        .to_vec()
        .unwrap();
    mixed[13..16].copy_from_slice(b"WeB");
    for _ in 0..2 {
        let raw = udp(addr, &mixed).await.unwrap();
        let resp = Message::from_vec(&raw).unwrap();
        assert_eq!(
            resp.queries[0].name().to_string(),
            "WeB.default.svc.cluster.local."
        );
        assert_eq!(
            resp.answers[0].name.to_string(),
            "WeB.default.svc.cluster.local."
        );
        assert_eq!(a_records(&resp), ["10.96.0.20"]);
        assert!(resp.edns.is_none());
    }
    // NXDOMAIN answers are kept too, and stay NXDOMAIN.
    for _ in 0..2 {
        let q = query("nope.default.svc.cluster.local.", RecordType::A, None);
        let resp = Message::from_vec(&udp(addr, &q.to_vec().unwrap()).await.unwrap()).unwrap();
        assert_eq!(resp.metadata.response_code, ResponseCode::NXDomain);
        assert_eq!(resp.authorities.len(), 1, "the SOA");
    }
}

#[tokio::test]
async fn a_new_zone_is_answered_at_once() {
    let (addr, shared) = start_with(None).await;
    let q = query("web.default.svc.cluster.local.", RecordType::A, None)
        .to_vec()
        .unwrap();
    for _ in 0..3 {
        let resp = Message::from_vec(&udp(addr, &q).await.unwrap()).unwrap();
        assert_eq!(a_records(&resp), ["10.96.0.20"]);
    }
    let (mut services, slices) = objects();
    services[0].spec.as_mut().unwrap().cluster_ip = Some("10.96.0.21".into());
    let config = Config::new("cluster.local", 5).unwrap();
    *shared.write().unwrap() = Arc::new(Index::build(&services, &slices, &config, 2));
    for _ in 0..3 {
        let resp = Message::from_vec(&udp(addr, &q).await.unwrap()).unwrap();
        assert_eq!(a_records(&resp), ["10.96.0.21"]);
    }
}

#[tokio::test]
async fn every_query_of_a_burst_is_answered_and_counted() {
    let registry = prometheus::Registry::new();
    let metrics = Metrics::new(&registry).unwrap();
    let (addr, _) = start_with(Some(metrics)).await;
    let s = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    // More than one batch of datagrams, sent before reading any answer.
    let n: u16 = 150;
    for id in 0..n {
        let name = if id.is_multiple_of(3) {
            "nope.default.svc.cluster.local."
        } else {
            "web.default.svc.cluster.local."
        };
        let mut q = query(name, RecordType::A, None);
        q.metadata.id = id;
        s.send_to(&q.to_vec().unwrap(), addr).await.unwrap();
    }
    let mut seen = std::collections::BTreeSet::new();
    let mut buf = vec![0u8; 4096];
    while seen.len() < usize::from(n) {
        let got = tokio::time::timeout(Duration::from_secs(5), s.recv(&mut buf)).await;
        let Ok(Ok(len)) = got else {
            panic!("{} answers of {n}", seen.len());
        };
        let resp = Message::from_vec(&buf[..len]).unwrap();
        let id = resp.metadata.id;
        let want = if id.is_multiple_of(3) {
            ResponseCode::NXDomain
        } else {
            ResponseCode::NoError
        };
        assert_eq!(resp.metadata.response_code, want, "id {id}");
        assert!(seen.insert(id), "id {id} answered twice");
    }
    // The counters are added after each batch is sent: wait for the last one.
    let total = |registry: &prometheus::Registry| -> u64 {
        registry
            .gather()
            .iter()
            .filter(|f| f.name() == "coredns_dns_requests_total")
            .flat_map(|f| {
                f.get_metric()
                    .iter()
                    .map(|m| m.get_counter().get_value() as u64)
            })
            .sum()
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while total(&registry) < u64::from(n) && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(total(&registry), u64::from(n));
    let text = component_base::serving::render_metrics(&registry).unwrap();
    assert!(text.contains(
        r#"coredns_dns_responses_total{rcode="NXDOMAIN",server="dns://:0",zone="cluster.local."} 50"#
    ), "{text}");
    assert!(text.contains(
        r#"coredns_dns_requests_total{family="1",proto="udp",server="dns://:0",type="A",zone="cluster.local."} 150"#
    ), "{text}");
}
