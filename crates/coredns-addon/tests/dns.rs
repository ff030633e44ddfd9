//! coredns-addon against a real etcd + kube-apiserver (ferrokube-e2e's TestCluster), its
//! answers checked with the real `dig` (Debian dnsutils); names outside the cluster are
//! forwarded to a real NSD (Debian nsd) on loopback.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::Path;
use std::process::Command;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use ferrokube_e2e::ferrokube_deploy::process::{Daemon, DaemonSpec};
use ferrokube_e2e::TestCluster;
use serde_json::json;

const DIG: &str = "/usr/bin/dig";
const NSD: &str = "/usr/sbin/nsd";

struct Fixture {
    ns: String,
    dns: SocketAddr,
    health: SocketAddr,
    ready: SocketAddr,
    metrics: SocketAddr,
    addon: Mutex<Daemon>,
    _nsd: Mutex<Daemon>,
}

fn free_port() -> u16 {
    // A port free for both UDP and TCP.
    loop {
        let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = udp.local_addr().unwrap().port();
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

fn http_get(addr: SocketAddr, path: &str) -> Option<(u16, String)> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: x\r\n\r\n").ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    let status = out.split_whitespace().nth(1)?.parse().ok()?;
    let body = out.split_once("\r\n\r\n").map(|(_, b)| b.to_string())?;
    Some((status, body))
}

const UPSTREAM_ZONE: &str = "$ORIGIN upstream.test.
$TTL 300
@ IN SOA ns.upstream.test. hostmaster.upstream.test. 1 3600 600 86400 60
@ IN NS ns.upstream.test.
ns IN A 127.0.0.1
www IN A 192.0.2.10
";

/// NSD serving `upstream.test` on 127.0.0.1:`port`.
fn start_nsd(dir: &Path, port: u16) -> Daemon {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("upstream.test.zone"), UPSTREAM_ZONE).unwrap();
    let d = dir.display();
    let conf = format!(
        "server:\n  ip-address: 127.0.0.1\n  port: {port}\n  username: \"\"\n  chroot: \"\"\n  zonesdir: \"{d}\"\n  database: \"\"\n  zonelistfile: \"{d}/zone.list\"\n  xfrdfile: \"{d}/xfrd.state\"\n  xfrdir: \"{d}\"\n  pidfile: \"{d}/nsd.pid\"\n  server-count: 1\n  verbosity: 1\nremote-control:\n  control-enable: no\nzone:\n  name: upstream.test\n  zonefile: upstream.test.zone\n"
    );
    std::fs::write(dir.join("nsd.conf"), conf).unwrap();
    let spec = DaemonSpec::new("nsd", NSD, dir.join("nsd.log"), dir.join("nsd.spawn.pid"))
        .args(["-d", "-c"])
        .arg(dir.join("nsd.conf"));
    Daemon::spawn(&spec).unwrap()
}

fn objects(ns: &str) -> serde_json::Value {
    let big_endpoints: Vec<serde_json::Value> = (1..=150)
        .map(|i| json!({"addresses": [format!("10.245.{}.{}", i / 200, i % 200 + 1)], "conditions": {"ready": true}}))
        .collect();
    json!({
        "apiVersion": "v1",
        "kind": "List",
        "items": [
            {"apiVersion": "v1", "kind": "Service",
             "metadata": {"name": "web", "namespace": ns},
             "spec": {"clusterIP": "10.96.100.20", "ports": [{"name": "http", "port": 80, "protocol": "TCP"}]}},
            {"apiVersion": "v1", "kind": "Service",
             "metadata": {"name": "db", "namespace": ns},
             "spec": {"clusterIP": "None", "ports": [{"name": "pg", "port": 5432, "protocol": "TCP"}]}},
            {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
             "metadata": {"name": "db-1", "namespace": ns, "labels": {"kubernetes.io/service-name": "db"}},
             "addressType": "IPv4",
             "ports": [{"name": "pg", "port": 5432, "protocol": "TCP"}],
             "endpoints": [
                 {"addresses": ["10.244.0.5"], "hostname": "db-0", "conditions": {"ready": true}},
                 {"addresses": ["10.244.0.6"], "conditions": {"ready": true}},
                 {"addresses": ["10.244.0.7"], "hostname": "db-2", "conditions": {"ready": false}}
             ]},
            {"apiVersion": "v1", "kind": "Service",
             "metadata": {"name": "ext", "namespace": ns},
             "spec": {"type": "ExternalName", "externalName": "www.upstream.test"}},
            {"apiVersion": "v1", "kind": "Service",
             "metadata": {"name": "big", "namespace": ns},
             "spec": {"clusterIP": "None"}},
            {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
             "metadata": {"name": "big-1", "namespace": ns, "labels": {"kubernetes.io/service-name": "big"}},
             "addressType": "IPv4",
             "endpoints": big_endpoints}
        ]
    })
}

fn setup() -> Result<Fixture, String> {
    if !Path::new(DIG).exists() || !Path::new(NSD).exists() {
        return Err("dig (dnsutils) and nsd are needed: apt-get install dnsutils nsd".into());
    }
    let cluster = TestCluster::shared().map_err(|e| format!("{e:#}"))?;
    let ns = format!("dns-{}", std::process::id());
    cluster
        .kubectl(&["create", "namespace", &ns])
        .and_then(|o| o.ok())
        .map_err(|e| format!("{e:#}"))?;
    cluster
        .kubectl_stdin(&["apply", "-f", "-"], &objects(&ns).to_string())
        .and_then(|o| o.ok())
        .map_err(|e| format!("creating the test objects: {e:#}"))?;
    let dir = cluster
        .dir()
        .join(format!("coredns-addon-{}", std::process::id()));
    let nsd_port = free_port();
    let nsd = start_nsd(&dir.join("nsd"), nsd_port);
    let dns: SocketAddr = ([127, 0, 0, 1], free_port()).into();
    let health: SocketAddr = ([127, 0, 0, 1], free_port()).into();
    let ready: SocketAddr = ([127, 0, 0, 1], free_port()).into();
    let metrics: SocketAddr = ([127, 0, 0, 1], free_port()).into();
    let spec = DaemonSpec::new(
        "coredns-addon",
        env!("CARGO_BIN_EXE_coredns-addon"),
        dir.join("coredns-addon.log"),
        dir.join("coredns-addon.pid"),
    )
    .arg("--kubeconfig")
    .arg(cluster.kubeconfig_path())
    .args([
        format!("--dns-bind-address={dns}"),
        format!("--upstream=127.0.0.1:{nsd_port}"),
        "--health-bind-address=127.0.0.1".to_string(),
        format!("--health-port={}", health.port()),
        format!("--ready-port={}", ready.port()),
        format!("--metrics-bind-address={metrics}"),
        "--v=2".to_string(),
    ]);
    let addon = Daemon::spawn(&spec).map_err(|e| format!("{e:#}"))?;
    let f = Fixture {
        ns,
        dns,
        health,
        ready,
        metrics,
        addon: Mutex::new(addon),
        _nsd: Mutex::new(nsd),
    };
    let deadline = Instant::now() + Duration::from_secs(90);
    while http_get(f.ready, "/ready").map(|(s, _)| s) != Some(200) {
        if Instant::now() > deadline {
            return Err(format!("coredns-addon never got ready:\n{}", f.log()));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    Ok(f)
}

impl Fixture {
    fn log(&self) -> String {
        self.addon
            .lock()
            .map(|d| d.log_tail(50))
            .unwrap_or_default()
    }

    fn svc(&self, name: &str) -> String {
        format!("{name}.{}.svc.cluster.local.", self.ns)
    }
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Result<Fixture, String>> = OnceLock::new();
    match F.get_or_init(setup) {
        Ok(f) => f,
        Err(e) => panic!("{e}"),
    }
}

/// One `dig` run, parsed.
#[derive(Debug)]
struct Dig {
    status: String,
    flags: Vec<String>,
    /// "TYPE rdata" per answer record.
    answers: Vec<String>,
    authority: Vec<String>,
    raw: String,
}

fn section(raw: &str, title: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut inside = false;
    for line in raw.lines() {
        if line.starts_with(&format!(";; {title} SECTION:")) {
            inside = true;
            continue;
        }
        if inside {
            if line.trim().is_empty() {
                break;
            }
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.len() >= 4 {
                out.push(format!("{} {}", fields[3], fields[4..].join(" ")));
            }
        }
    }
    out
}

fn dig(f: &Fixture, args: &[&str]) -> Dig {
    let out = Command::new(DIG)
        .arg("@127.0.0.1")
        .args(["-p", &f.dns.port().to_string(), "+time=3", "+tries=1"])
        .args(args)
        .output()
        .unwrap();
    let raw = String::from_utf8_lossy(&out.stdout).into_owned();
    let status = raw
        .split("status: ")
        .nth(1)
        .and_then(|s| s.split(',').next())
        .unwrap_or("")
        .to_string();
    let flags = raw
        .lines()
        .find(|l| l.starts_with(";; flags:"))
        .and_then(|l| l.trim_start_matches(";; flags:").split(';').next())
        .map(|s| s.split_whitespace().map(String::from).collect())
        .unwrap_or_default();
    let mut answers = section(&raw, "ANSWER");
    answers.sort();
    Dig {
        status,
        flags,
        answers,
        authority: section(&raw, "AUTHORITY"),
        raw,
    }
}

#[test]
fn cluster_ip_service_a_record() {
    let f = fixture();
    let d = dig(f, &[&f.svc("web"), "A"]);
    assert_eq!(d.status, "NOERROR", "{}", d.raw);
    assert_eq!(d.answers, ["A 10.96.100.20"], "{}", d.raw);
    assert!(d.flags.contains(&"aa".to_string()), "{}", d.raw);
    // EDNS0: dig sends an OPT record, the answer carries one back.
    assert!(d.raw.contains("OPT PSEUDOSECTION"), "{}", d.raw);
}

#[test]
fn headless_service_a_set_and_endpoint_names() {
    let f = fixture();
    let d = dig(f, &[&f.svc("db"), "A"]);
    assert_eq!(d.answers, ["A 10.244.0.5", "A 10.244.0.6"], "{}", d.raw);
    let d = dig(f, &[&format!("db-0.{}", f.svc("db")), "A"]);
    assert_eq!(d.answers, ["A 10.244.0.5"], "{}", d.raw);
    let d = dig(f, &[&format!("10-244-0-6.{}", f.svc("db")), "A"]);
    assert_eq!(d.answers, ["A 10.244.0.6"], "{}", d.raw);
    // Not ready: no record.
    let d = dig(f, &[&format!("db-2.{}", f.svc("db")), "A"]);
    assert_eq!(d.status, "NXDOMAIN", "{}", d.raw);
}

#[test]
fn srv_records() {
    let f = fixture();
    let d = dig(f, &[&format!("_http._tcp.{}", f.svc("web")), "SRV"]);
    assert_eq!(
        d.answers,
        [format!("SRV 0 100 80 {}", f.svc("web"))],
        "{}",
        d.raw
    );
    assert!(d.raw.contains("ADDITIONAL SECTION"), "{}", d.raw);
    let d = dig(f, &[&format!("_pg._tcp.{}", f.svc("db")), "SRV"]);
    assert_eq!(
        d.answers,
        [
            format!("SRV 0 50 5432 10-244-0-6.{}", f.svc("db")),
            format!("SRV 0 50 5432 db-0.{}", f.svc("db")),
        ],
        "{}",
        d.raw
    );
}

#[test]
fn external_name_is_a_cname_chased_upstream() {
    let f = fixture();
    let d = dig(f, &[&f.svc("ext"), "A"]);
    assert_eq!(d.status, "NOERROR", "{}", d.raw);
    assert_eq!(
        d.answers,
        ["A 192.0.2.10", "CNAME www.upstream.test."],
        "{}",
        d.raw
    );
    let d = dig(f, &[&f.svc("ext"), "CNAME"]);
    assert_eq!(d.answers, ["CNAME www.upstream.test."], "{}", d.raw);
}

#[test]
fn ptr_records() {
    let f = fixture();
    let d = dig(f, &["-x", "10.96.100.20"]);
    assert_eq!(d.answers, [format!("PTR {}", f.svc("web"))], "{}", d.raw);
    let d = dig(f, &["-x", "10.244.0.5"]);
    assert_eq!(
        d.answers,
        [format!("PTR db-0.{}", f.svc("db"))],
        "{}",
        d.raw
    );
}

#[test]
fn nxdomain_versus_nodata() {
    let f = fixture();
    let d = dig(f, &[&f.svc("nope"), "A"]);
    assert_eq!(d.status, "NXDOMAIN", "{}", d.raw);
    assert!(
        d.authority.iter().any(|r| r.starts_with("SOA ")),
        "{}",
        d.raw
    );
    // The name exists, the type does not: NODATA with the SOA.
    let d = dig(f, &[&f.svc("web"), "AAAA"]);
    assert_eq!(d.status, "NOERROR", "{}", d.raw);
    assert!(d.answers.is_empty(), "{}", d.raw);
    assert!(
        d.authority.iter().any(|r| r.starts_with("SOA ")),
        "{}",
        d.raw
    );
    // The namespace is an empty non-terminal.
    let d = dig(f, &[&format!("{}.svc.cluster.local.", f.ns), "A"]);
    assert_eq!(d.status, "NOERROR", "{}", d.raw);
    assert!(d.answers.is_empty(), "{}", d.raw);
    let d = dig(f, &["no-such-namespace-here.svc.cluster.local.", "A"]);
    assert_eq!(d.status, "NXDOMAIN", "{}", d.raw);
    // Pod records (insecure mode).
    let d = dig(f, &[&format!("10-1-2-3.{}.pod.cluster.local.", f.ns), "A"]);
    assert_eq!(d.answers, ["A 10.1.2.3"], "{}", d.raw);
}

#[test]
fn tcp_query() {
    let f = fixture();
    let d = dig(f, &["+tcp", &f.svc("web"), "A"]);
    assert_eq!(d.answers, ["A 10.96.100.20"], "{}", d.raw);
}

#[test]
fn truncation_over_udp_and_the_full_answer_over_tcp() {
    let f = fixture();
    let d = dig(f, &["+ignore", "+bufsize=512", &f.svc("big"), "A"]);
    assert!(d.flags.contains(&"tc".to_string()), "{}", d.raw);
    assert!(d.answers.len() < 150, "{}", d.raw);
    // Without EDNS the limit is 512 bytes.
    let d = dig(f, &["+ignore", "+noedns", &f.svc("big"), "A"]);
    assert!(d.flags.contains(&"tc".to_string()), "{}", d.raw);
    let d = dig(f, &["+tcp", &f.svc("big"), "A"]);
    assert!(!d.flags.contains(&"tc".to_string()), "{}", d.raw);
    assert_eq!(d.answers.len(), 150, "{}", d.raw);
    // dig's default (UDP, then TCP on TC) ends with all of them.
    let d = dig(f, &[&f.svc("big"), "A"]);
    assert_eq!(d.answers.len(), 150, "{}", d.raw);
}

/// A query whose name has 255 one-byte labels (longer than a name may be).
fn long_name_query() -> Vec<u8> {
    let mut p = vec![0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0];
    for _ in 0..255 {
        p.extend_from_slice(&[1, b'a']);
    }
    p.push(0);
    p.extend_from_slice(&[0, 1, 0, 1]);
    p
}

#[test]
fn garbage_then_a_normal_query_is_still_answered() {
    let f = fixture();
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    for packet in [
        vec![0xff; 3],
        (0..200u8).map(|i| i.wrapping_mul(37)).collect::<Vec<u8>>(),
        long_name_query(),
    ] {
        sock.send_to(&packet, f.dns).unwrap();
    }
    // Whatever came back is FORMERR (or nothing for what is not even a header).
    let mut buf = [0u8; 4096];
    while let Ok((n, _)) = sock.recv_from(&mut buf) {
        assert!(n >= 12, "short answer {:?}", &buf[..n]);
        assert_eq!(
            buf[3] & 0x0f,
            1,
            "rcode of an answer to garbage: {:?}",
            &buf[..n]
        );
    }
    // Garbage over TCP too.
    if let Ok(mut s) = TcpStream::connect(f.dns) {
        let q = long_name_query();
        let _ = s.write_all(&(q.len() as u16).to_be_bytes());
        let _ = s.write_all(&q);
        let _ = s.write_all(&[0x00, 0x05, 1, 2, 3, 4, 5]);
    }
    let d = dig(f, &[&f.svc("web"), "A"]);
    assert_eq!(d.answers, ["A 10.96.100.20"], "{}\n{}", d.raw, f.log());
    assert!(f.addon.lock().unwrap().is_alive(), "{}", f.log());
}

#[test]
fn forwarding_to_a_loopback_upstream_with_a_cache() {
    let f = fixture();
    let d = dig(f, &["www.upstream.test.", "A"]);
    assert_eq!(d.status, "NOERROR", "{}", d.raw);
    assert_eq!(d.answers, ["A 192.0.2.10"], "{}", d.raw);
    assert!(!d.flags.contains(&"aa".to_string()), "{}", d.raw);
    assert!(d.flags.contains(&"ra".to_string()), "{}", d.raw);
    let d = dig(f, &["nope.upstream.test.", "A"]);
    assert_eq!(d.status, "NXDOMAIN", "{}", d.raw);
    // The second time comes from the cache.
    let d = dig(f, &["www.upstream.test.", "A"]);
    assert_eq!(d.answers, ["A 192.0.2.10"], "{}", d.raw);
    let (_, metrics) = http_get(f.metrics, "/metrics").unwrap();
    assert!(metrics.contains("coredns_cache_hits_total{"), "{metrics}");
    assert!(metrics.contains("coredns_cache_misses_total{"), "{metrics}");
}

#[test]
fn health_ready_and_metrics() {
    let f = fixture();
    assert_eq!(http_get(f.health, "/health"), Some((200, "OK".to_string())));
    assert_eq!(http_get(f.ready, "/ready"), Some((200, "OK".to_string())));
    dig(f, &[&f.svc("web"), "A"]);
    let (status, metrics) = http_get(f.metrics, "/metrics").unwrap();
    assert_eq!(status, 200);
    for needle in [
        "coredns_dns_requests_total{family=\"1\",proto=\"udp\"",
        "coredns_dns_request_duration_seconds_bucket",
        "coredns_dns_responses_total{rcode=\"NOERROR\"",
    ] {
        assert!(metrics.contains(needle), "{needle} missing:\n{metrics}");
    }
}

#[test]
fn changes_through_the_api_show_up() {
    let f = fixture();
    let cluster = TestCluster::shared().unwrap();
    let svc = json!({"apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "late", "namespace": f.ns},
        "spec": {"clusterIP": "10.96.100.21", "ports": [{"port": 80}]}});
    cluster
        .kubectl_stdin(&["apply", "-f", "-"], &svc.to_string())
        .and_then(|o| o.ok())
        .unwrap();
    let wait = |want: &str| {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let d = dig(f, &[&f.svc("late"), "A"]);
            if d.status == want {
                return d;
            }
            assert!(
                Instant::now() < deadline,
                "never {want}: {}\n{}",
                d.raw,
                f.log()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    };
    let d = wait("NOERROR");
    assert_eq!(d.answers, ["A 10.96.100.21"], "{}", d.raw);
    cluster
        .kubectl(&["delete", "service", "late", "-n", &f.ns])
        .and_then(|o| o.ok())
        .unwrap();
    wait("NXDOMAIN");
}

#[test]
fn the_kube_dns_manifest_publishes_the_service_at_10_96_0_10() {
    let f = fixture();
    let cluster = TestCluster::shared().unwrap();
    let manifest = ferrokube_e2e::ferrokube_deploy::components::kube_dns_manifest("127.0.0.1");
    cluster
        .kubectl_stdin(&["apply", "-f", "-"], &manifest)
        .and_then(|o| o.ok())
        .unwrap();
    let svc = cluster
        .kubectl(&[
            "get",
            "service",
            "kube-dns",
            "-n",
            "kube-system",
            "-o",
            "json",
        ])
        .and_then(|o| o.json())
        .unwrap();
    assert_eq!(svc["spec"]["clusterIP"], "10.96.0.10", "{svc}");
    assert!(svc["spec"].get("selector").is_none(), "{svc}");
    // The addon answers for it, and names it as the zone's name server.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let d = dig(f, &["ns.dns.cluster.local.", "A"]);
        if d.answers == ["A 10.96.0.10"] {
            break;
        }
        assert!(Instant::now() < deadline, "{}\n{}", d.raw, f.log());
        std::thread::sleep(Duration::from_millis(200));
    }
    let d = dig(f, &["kube-dns.kube-system.svc.cluster.local.", "A"]);
    assert_eq!(d.answers, ["A 10.96.0.10"], "{}", d.raw);
    let d = dig(
        f,
        &["_dns._udp.kube-dns.kube-system.svc.cluster.local.", "SRV"],
    );
    assert_eq!(
        d.answers,
        ["SRV 0 100 53 kube-dns.kube-system.svc.cluster.local."],
        "{}",
        d.raw
    );
}
