//! `cargo xtask bench proxy`: kube-proxy's nftables full sync (render + one netlink
//! transaction) at 1,000 / 5,000 / 10,000 Services x 10 endpoints, the ruleset's size,
//! and the time to apply a one-endpoint change at the largest size. Runs in a private
//! network namespace (root). Prints a Markdown table for docs/benchmarks.md.

use std::net::Ipv4Addr;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use k8s_openapi::api::core::v1::{Service, ServicePort, ServiceSpec};
use k8s_openapi::api::discovery::v1::{Endpoint, EndpointConditions, EndpointPort, EndpointSlice};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube_proxy::model::{self, Cidr, Family, NodeConfig};
use kube_proxy::netlink::Netlink;
use kube_proxy::nft::Nft;
use kube_proxy::proxier::Proxier;
use kube_proxy::render::render;

const SIZES: [usize; 3] = [1_000, 5_000, 10_000];
const ENDPOINTS: usize = 10;
const CHANGES: usize = 20;

fn service(i: usize) -> Service {
    let ip = Ipv4Addr::from(u32::from(Ipv4Addr::new(10, 96, 0, 0)) + 1 + i as u32);
    Service {
        metadata: ObjectMeta {
            namespace: Some("bench".into()),
            name: Some(format!("svc-{i}")),
            ..Default::default()
        },
        spec: Some(ServiceSpec {
            cluster_ip: Some(ip.to_string()),
            cluster_ips: Some(vec![ip.to_string()]),
            ports: Some(vec![ServicePort {
                name: Some("http".into()),
                port: 80,
                protocol: Some("TCP".into()),
                ..Default::default()
            }]),
            ..Default::default()
        }),
        status: None,
    }
}

fn slice(i: usize, generation: u32) -> EndpointSlice {
    let endpoints = (0..ENDPOINTS)
        .map(|e| {
            let n = u32::from(Ipv4Addr::new(10, 128, 0, 0))
                + (i * ENDPOINTS + e) as u32 * 2
                + generation;
            Endpoint {
                addresses: vec![Ipv4Addr::from(n).to_string()],
                conditions: Some(EndpointConditions {
                    ready: Some(true),
                    serving: Some(true),
                    terminating: Some(false),
                }),
                node_name: Some(format!("node-{}", e % 3)),
                ..Default::default()
            }
        })
        .collect();
    EndpointSlice {
        metadata: ObjectMeta {
            namespace: Some("bench".into()),
            name: Some(format!("svc-{i}-abcde")),
            labels: Some([("kubernetes.io/service-name".to_string(), format!("svc-{i}"))].into()),
            ..Default::default()
        },
        address_type: "IPv4".into(),
        endpoints,
        ports: Some(vec![EndpointPort {
            name: Some("http".into()),
            port: Some(8080),
            protocol: Some("TCP".into()),
            ..Default::default()
        }]),
    }
}

struct Netns(String);

impl Netns {
    fn new() -> Result<Netns> {
        let name = format!("fk-proxy-bench-{}", std::process::id());
        let ok = Command::new("ip")
            .args(["netns", "add", &name])
            .status()
            .context("running ip")?;
        if !ok.success() {
            bail!("ip netns add {name} failed (root needed)");
        }
        Ok(Netns(name))
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "delete", &self.0])
            .status();
    }
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<()> {
    let ns = Netns::new()?;
    let mut node = NodeConfig::new("node-0");
    node.cluster_cidrs = vec![Cidr::parse("10.128.0.0/9").context("cidr")?];

    println!("| Services x endpoints | ruleset lines (as nft text) | ruleset bytes (as nft text) | model + render + text | full sync (model + render + netlink batch) | of which kernel commit | netlink batch bytes |");
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    let mut last = None;
    for n in SIZES {
        let services: Vec<Service> = (0..n).map(service).collect();
        let slices: Vec<EndpointSlice> = (0..n).map(|i| slice(i, 0)).collect();
        let nft = Nft::in_netns(&ns.0);
        Netlink::open(Some(&ns.0))?.delete_table(Family::V4).await?;
        let start = Instant::now();
        let m = model::build(&services, &slices, &node);
        let text = render(&m, &node, Family::V4).full_text();
        let render_time = start.elapsed();
        let mut proxier = Proxier::new(nft, vec![Family::V4], None);
        let start = Instant::now();
        let report = proxier
            .sync(&model::build(&services, &slices, &node), &node, false)
            .await?;
        let full = start.elapsed();
        println!(
            "| {n} x {ENDPOINTS} | {} | {} | {} | {} | {} | {} |",
            text.lines().count(),
            text.len(),
            ms(render_time),
            ms(full),
            ms(report.kernel),
            report.bytes
        );
        last = Some((proxier, services, slices));
    }

    let Some((mut proxier, services, mut slices)) = last else {
        return Ok(());
    };
    let n = services.len();
    let mut change_times = Vec::new();
    let mut change_kernel = Vec::new();
    let mut diff_bytes = 0;
    for c in 0..CHANGES {
        // One endpoint of one Service replaced by another address.
        let i = (c * 7919) % n;
        let mut s = slices[i].clone();
        let generation = 1 + (c as u32 % 2);
        s.endpoints[0] = slice(i, generation).endpoints[0].clone();
        slices[i] = s;
        let start = Instant::now();
        let report = proxier
            .sync(&model::build(&services, &slices, &node), &node, false)
            .await?;
        change_times.push(start.elapsed());
        change_kernel.push(report.kernel);
        diff_bytes = report.bytes;
    }
    let mut unchanged = Vec::new();
    for _ in 0..5 {
        let start = Instant::now();
        proxier
            .sync(&model::build(&services, &slices, &node), &node, false)
            .await?;
        unchanged.push(start.elapsed());
    }
    let start = Instant::now();
    proxier
        .sync(&model::build(&services, &slices, &node), &node, true)
        .await?;
    let resync = start.elapsed();
    println!();
    println!("| at {n} Services x {ENDPOINTS} endpoints | time |");
    println!("| --- | --- |");
    println!(
        "| one-endpoint change (model + render + diff + netlink batch), median of {CHANGES} | {} ({diff_bytes} bytes of netlink batch) |",
        ms(median(change_times.clone()))
    );
    println!(
        "| one-endpoint change: of which kernel commit, median | {} |",
        ms(median(change_kernel))
    );
    println!(
        "| one-endpoint change, worst of {CHANGES} | {} |",
        ms(change_times.iter().max().copied().unwrap_or_default())
    );
    println!(
        "| no change (model + render + table check) | {} |",
        ms(median(unchanged))
    );
    println!(
        "| periodic resync (everything rewritten in place) | {} |",
        ms(resync)
    );
    Ok(())
}
