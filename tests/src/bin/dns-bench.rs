//! `cargo xtask bench dns [--services N] [--seconds S] [--clients C]`: queries per second
//! of coredns-addon (fed by a real etcd + kube-apiserver) measured with dnsperf (Debian),
//! and in the same run of NSD (Debian's authoritative server) serving the same names from
//! a zone file on another loopback port. Prints both and the ratio, for docs/benchmarks.md.
//!
//! The query mix: A queries for every ClusterIP Service name (all answered), plus one
//! NXDOMAIN query in ten. Both servers get the same query file, clients and duration.

use std::fmt::Write as _;
use std::net::{TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use ferrokube_e2e::ferrokube_deploy::process::{Daemon, DaemonSpec};
use ferrokube_e2e::TestCluster;
use serde_json::json;

struct Args {
    services: usize,
    seconds: u32,
    clients: u32,
}

fn parse_args() -> Result<Args> {
    let mut a = Args {
        services: 1000,
        seconds: 10,
        clients: 20,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--services" => a.services = value()?.parse().context("--services")?,
            "--seconds" => a.seconds = value()?.parse().context("--seconds")?,
            "--clients" => a.clients = value()?.parse().context("--clients")?,
            other => bail!("unknown argument {other:?} (--services N, --seconds S, --clients C)"),
        }
    }
    if a.services == 0 || a.services > 60_000 {
        bail!("--services must be between 1 and 60000");
    }
    Ok(a)
}

fn free_port() -> Result<u16> {
    for _ in 0..100 {
        let udp = UdpSocket::bind("127.0.0.1:0")?;
        let port = udp.local_addr()?.port();
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return Ok(port);
        }
    }
    bail!("no free port")
}

/// The i-th Service's ClusterIP: 10.97.0.0/16 upwards (inside 10.96.0.0/12).
fn cluster_ip(i: usize) -> String {
    format!("10.97.{}.{}", i / 250, i % 250 + 1)
}

fn svc_name(i: usize) -> String {
    format!("svc-{i}.bench.svc.cluster.local.")
}

fn create_services(cluster: &TestCluster, n: usize) -> Result<()> {
    cluster.kubectl(&["create", "namespace", "bench"])?.ok()?;
    for chunk in (0..n).collect::<Vec<_>>().chunks(500) {
        let items: Vec<serde_json::Value> = chunk
            .iter()
            .map(|&i| {
                json!({"apiVersion": "v1", "kind": "Service",
                   "metadata": {"name": format!("svc-{i}"), "namespace": "bench"},
                   "spec": {"clusterIP": cluster_ip(i), "ports": [{"name": "http", "port": 80}]}})
            })
            .collect();
        let list = json!({"apiVersion": "v1", "kind": "List", "items": items});
        cluster
            .kubectl_stdin(&["create", "-f", "-"], &list.to_string())?
            .ok()
            .context("creating the Services")?;
    }
    Ok(())
}

fn write_zone(dir: &Path, n: usize) -> Result<()> {
    let mut zone = String::from(
        "$ORIGIN cluster.local.\n$TTL 5\n@ IN SOA ns.dns.cluster.local. hostmaster.cluster.local. 1 7200 1800 86400 5\n@ IN NS ns.dns.cluster.local.\nns.dns IN A 10.96.0.10\n",
    );
    for i in 0..n {
        writeln!(zone, "{} IN A {}", svc_name(i), cluster_ip(i))?;
    }
    std::fs::write(dir.join("cluster.local.zone"), zone)?;
    Ok(())
}

/// NSD on loopback; response rate limiting (on by default, 200 q/s per client) is off, as a
/// load test from one address needs.
fn start_nsd(dir: &Path, port: u16, workers: usize) -> Result<Daemon> {
    let d = dir.display();
    let conf = format!(
        "server:\n  ip-address: 127.0.0.1\n  port: {port}\n  username: \"\"\n  chroot: \"\"\n  zonesdir: \"{d}\"\n  database: \"\"\n  zonelistfile: \"{d}/zone.list\"\n  xfrdfile: \"{d}/xfrd.state\"\n  xfrdir: \"{d}\"\n  pidfile: \"{d}/nsd.pid\"\n  server-count: {workers}\n  verbosity: 0\n  rrl-ratelimit: 0\n  rrl-whitelist-ratelimit: 0\nremote-control:\n  control-enable: no\nzone:\n  name: cluster.local\n  zonefile: cluster.local.zone\n"
    );
    std::fs::write(dir.join("nsd.conf"), conf)?;
    let spec = DaemonSpec::new(
        "nsd",
        "/usr/sbin/nsd",
        dir.join("nsd.log"),
        dir.join("nsd.spawn.pid"),
    )
    .args(["-d", "-c"])
    .arg(dir.join("nsd.conf"));
    Daemon::spawn(&spec)
}

fn dig_a(port: u16, name: &str) -> Option<String> {
    let out = Command::new("dig")
        .args([
            "@127.0.0.1",
            "-p",
            &port.to_string(),
            "+short",
            "+time=1",
            "+tries=1",
            name,
            "A",
        ])
        .output()
        .ok()?;
    let s = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (!s.is_empty()).then_some(s)
}

fn wait_answer(
    port: u16,
    name: &str,
    want: &str,
    what: &str,
    log: impl Fn() -> String,
) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(120);
    while dig_a(port, name).as_deref() != Some(want) {
        if Instant::now() > deadline {
            bail!("{what} never answered {name} with {want}:\n{}", log());
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    Ok(())
}

struct Perf {
    qps: f64,
    avg_latency_ms: f64,
    completed: String,
}

fn dnsperf(port: u16, queries: &Path, args: &Args) -> Result<Perf> {
    let out = Command::new("dnsperf")
        .args(["-s", "127.0.0.1", "-p", &port.to_string()])
        .arg("-d")
        .arg(queries)
        .args([
            "-l",
            &args.seconds.to_string(),
            "-c",
            &args.clients.to_string(),
            "-q",
            "200",
        ])
        .output()
        .context("running dnsperf (Debian package dnsperf)")?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        bail!(
            "dnsperf failed: {text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let field = |label: &str| -> Option<String> {
        text.lines()
            .find(|l| l.trim_start().starts_with(label))
            .and_then(|l| l.split_once(':'))
            .map(|(_, v)| v.trim().to_string())
    };
    let qps = field("Queries per second")
        .and_then(|v| v.parse().ok())
        .with_context(|| format!("no qps in dnsperf output:\n{text}"))?;
    let avg_latency_ms = field("Average Latency (s)")
        .and_then(|v| {
            v.split_whitespace()
                .next()
                .and_then(|x| x.parse::<f64>().ok())
        })
        .map(|s| s * 1000.0)
        .unwrap_or(f64::NAN);
    let completed = field("Queries completed").unwrap_or_default();
    Ok(Perf {
        qps,
        avg_latency_ms,
        completed,
    })
}

fn machine() -> String {
    let cpus = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let kernel = Command::new("uname")
        .arg("-r")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    format!("{cpus} CPUs, Linux {kernel}")
}

fn main() -> Result<()> {
    let args = parse_args()?;
    let bin_dir: PathBuf = ferrokube_e2e::bin_dir();
    let addon_bin = bin_dir.join("coredns-addon");
    if !addon_bin.is_file() {
        bail!("{} not found: build it (cargo build --release -p coredns-addon) and set FERROKUBE_BIN_DIR", addon_bin.display());
    }
    let cluster = TestCluster::start().context(
        "starting etcd + kube-apiserver (set FERROKUBE_BIN_DIR to the release binaries)",
    )?;
    let dir = cluster.dir().join("dns-bench");
    std::fs::create_dir_all(&dir)?;
    eprintln!("dns-bench: creating {} Services", args.services);
    create_services(&cluster, args.services)?;

    let addon_port = free_port()?;
    let spec = DaemonSpec::new(
        "coredns-addon",
        &addon_bin,
        dir.join("coredns-addon.log"),
        dir.join("coredns-addon.pid"),
    )
    .arg("--kubeconfig")
    .arg(cluster.kubeconfig_path())
    .args([
        format!("--dns-bind-address=127.0.0.1:{addon_port}"),
        // Every bench name is in the cluster zone; nothing is forwarded.
        "--upstream=127.0.0.1:9".to_string(),
        "--health-bind-address=127.0.0.1".to_string(),
        format!("--health-port={}", free_port()?),
        format!("--ready-port={}", free_port()?),
        format!("--metrics-bind-address=127.0.0.1:{}", free_port()?),
    ]);
    let addon = Daemon::spawn(&spec)?;
    let last = args.services - 1;
    wait_answer(
        addon_port,
        &svc_name(last),
        &cluster_ip(last),
        "coredns-addon",
        || addon.log_tail(30),
    )?;

    write_zone(&dir, args.services)?;
    let nsd_port = free_port()?;
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let nsd = start_nsd(&dir, nsd_port, workers)?;
    wait_answer(nsd_port, &svc_name(last), &cluster_ip(last), "nsd", || {
        nsd.log_tail(30)
    })?;

    // The query file: every name once (shuffled by a fixed stride), one NXDOMAIN in ten.
    let mut queries = String::new();
    let stride = 7919 % args.services.max(1);
    for k in 0..args.services {
        let i = (k * stride.max(1)) % args.services;
        writeln!(queries, "{} A", svc_name(i))?;
        if k % 10 == 9 {
            writeln!(queries, "missing-{k}.bench.svc.cluster.local. A")?;
        }
    }
    let qfile = dir.join("queries.txt");
    std::fs::write(&qfile, queries)?;

    eprintln!("dns-bench: dnsperf against coredns-addon (127.0.0.1:{addon_port})");
    let ours = dnsperf(addon_port, &qfile, &args)?;
    eprintln!("dns-bench: dnsperf against nsd (127.0.0.1:{nsd_port})");
    let theirs = dnsperf(nsd_port, &qfile, &args)?;

    println!("## cargo xtask bench dns\n");
    println!(
        "Machine: {}. {} ClusterIP Services; dnsperf -c {} -q 200 -l {} over UDP on loopback, A queries (10% NXDOMAIN). NSD with server-count {workers}.\n",
        machine(),
        args.services,
        args.clients,
        args.seconds
    );
    println!("| server | queries/s | avg latency | completed |");
    println!("| --- | ---: | ---: | --- |");
    for (name, p) in [
        ("coredns-addon (release)", &ours),
        ("nsd 4 (Debian)", &theirs),
    ] {
        println!(
            "| {name} | {:.0} | {:.3} ms | {} |",
            p.qps, p.avg_latency_ms, p.completed
        );
    }
    println!(
        "\nratio coredns-addon / nsd: {:.2}",
        if theirs.qps > 0.0 {
            ours.qps / theirs.qps
        } else {
            f64::NAN
        }
    );
    let mut nsd = nsd;
    let mut addon = addon;
    let _ = nsd.stop(Duration::from_secs(5));
    let _ = addon.stop(Duration::from_secs(5));
    Ok(())
}
