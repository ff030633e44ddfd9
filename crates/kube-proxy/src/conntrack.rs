//! Stale UDP conntrack entries (upstream pkg/proxy/conntrack, `CleanStaleEntries` as it
//! was while kube-proxy drove the `conntrack` CLI, up to 1.28).
//!
//! UDP has no connection teardown: a conntrack entry DNATing a client's flow to an
//! endpoint lives on after the endpoint is gone, and every later datagram of that flow
//! (a resolver's queries to kube-dns, say) keeps going to the dead address until the
//! entry times out. So after each sync the proxier deletes:
//!
//! - for an endpoint that stopped serving a UDP service port: the entries whose original
//!   destination is one of the port's frontends (ClusterIP, externalIP, load-balancer IP,
//!   at the service port) and whose reply source is that endpoint, and the entries to
//!   the NodePort replied by it;
//! - for a UDP service port that went from no serving endpoint to some: every entry to
//!   its frontends and NodePort (created while it rejected traffic);
//! - for a UDP service port that went away: every entry to its ClusterIPs at that port.
//!
//! What to delete is the pure [`stale_filters`] of the previous and the new [`Model`];
//! [`Conntrack`] runs `conntrack -D` once per filter. A missing `conntrack` binary is
//! logged once and never fails a sync. SCTP is left alone, as upstream.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use tokio::process::Command;

use crate::metrics::Metrics;
use crate::model::{Endpoint, Family, Model, Protocol, ServicePort, ServicePortName};

/// One `conntrack -D` invocation: entries of `family`/`protocol` matching every field set.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Filter {
    pub family: Family,
    pub protocol: Protocol,
    /// Original-direction destination address (a Service frontend); None for NodePorts.
    pub orig_dst: Option<IpAddr>,
    /// Original-direction destination port (service port or NodePort).
    pub orig_port_dst: Option<u16>,
    /// Reply-direction source address: the endpoint the entry was DNATed to.
    pub reply_src: Option<IpAddr>,
}

impl Filter {
    /// The `conntrack` arguments deleting the matching entries.
    pub fn args(&self) -> Vec<String> {
        let mut a: Vec<String> = vec![
            "-D".into(),
            "-f".into(),
            match self.family {
                Family::V4 => "ipv4",
                Family::V6 => "ipv6",
            }
            .into(),
            "-p".into(),
            self.protocol.nft().into(),
        ];
        if let Some(ip) = self.orig_dst {
            a.extend(["--orig-dst".into(), ip.to_string()]);
        }
        if let Some(port) = self.orig_port_dst {
            a.extend(["--orig-port-dst".into(), port.to_string()]);
        }
        if let Some(ip) = self.reply_src {
            a.extend(["--reply-src".into(), ip.to_string()]);
        }
        a
    }
}

/// The part of a model conntrack cleanup looks at: UDP service ports only (kept between
/// syncs by [`ConntrackCleaner`]).
pub fn udp_ports(model: &Model) -> BTreeMap<(ServicePortName, Protocol), ServicePort> {
    model
        .ports
        .iter()
        .filter(|sp| sp.protocol == Protocol::Udp)
        .map(|sp| ((sp.name.clone(), sp.protocol), sp.clone()))
        .collect()
}

/// The frontends of a service port in `family`: ClusterIPs, externalIPs, load-balancer IPs.
fn frontends(sp: &ServicePort, family: Family) -> impl Iterator<Item = &IpAddr> {
    sp.cluster_ips
        .iter()
        .chain(&sp.external_ips)
        .chain(&sp.load_balancer_ips)
        .filter(move |ip| Family::of(ip) == family)
}

/// Families the service port has a ClusterIP in.
fn families(sp: &ServicePort) -> BTreeSet<Family> {
    sp.cluster_ips.iter().map(Family::of).collect()
}

fn serving(sp: &ServicePort) -> impl Iterator<Item = &Endpoint> {
    sp.endpoints.iter().filter(|e| e.serving)
}

/// What to delete after going from `old` to `new` (both as returned by [`udp_ports`]).
/// Sorted and without duplicates.
pub fn stale_filters(
    old: &BTreeMap<(ServicePortName, Protocol), ServicePort>,
    new: &BTreeMap<(ServicePortName, Protocol), ServicePort>,
) -> Vec<Filter> {
    let mut out: BTreeSet<Filter> = BTreeSet::new();
    let filter = |family, orig_dst, orig_port_dst, reply_src| Filter {
        family,
        protocol: Protocol::Udp,
        orig_dst,
        orig_port_dst,
        reply_src,
    };

    for (key, old_sp) in old {
        let Some(new_sp) = new.get(key) else {
            // Service port deleted: its ClusterIP entries at that port.
            for ip in &old_sp.cluster_ips {
                out.insert(filter(Family::of(ip), Some(*ip), Some(old_sp.port), None));
            }
            continue;
        };
        // Endpoints that were serving and no longer are (gone, or not serving now):
        // the entries DNATed to them through the port's frontends and NodePort.
        for ep in serving(old_sp) {
            let still = serving(new_sp).any(|n| n.ip == ep.ip && n.port == ep.port);
            if still {
                continue;
            }
            let family = Family::of(&ep.ip);
            for ip in frontends(old_sp, family) {
                out.insert(filter(family, Some(*ip), Some(old_sp.port), Some(ep.ip)));
            }
            if let Some(np) = old_sp.node_port {
                out.insert(filter(family, None, Some(np), Some(ep.ip)));
            }
        }
    }

    // Newly active: no serving endpoint before (or no such port), some now.
    for (key, new_sp) in new {
        let was_active = old.get(key).is_some_and(|o| serving(o).next().is_some());
        if was_active || serving(new_sp).next().is_none() {
            continue;
        }
        for family in families(new_sp) {
            for ip in frontends(new_sp, family) {
                out.insert(filter(family, Some(*ip), Some(new_sp.port), None));
            }
            if let Some(np) = new_sp.node_port {
                out.insert(filter(family, None, Some(np), None));
            }
        }
    }
    out.into_iter().collect()
}

#[derive(Debug, thiserror::Error)]
pub enum ConntrackError {
    #[error("error looking for path of conntrack: not found in $PATH")]
    NotFound,
    #[error("running {program:?}: {source}")]
    Spawn {
        program: String,
        source: std::io::Error,
    },
    #[error("conntrack command returned: {output:?}, error message: {status}")]
    Failed { output: String, status: String },
}

/// How to run `conntrack` (optionally prefixed, e.g. `ip netns exec <ns>`).
#[derive(Debug)]
pub struct Conntrack {
    prefix: Vec<OsString>,
    missing_logged: AtomicBool,
}

impl Default for Conntrack {
    fn default() -> Self {
        Conntrack::new()
    }
}

impl Conntrack {
    /// The `conntrack` on the PATH, in our own network namespace.
    pub fn new() -> Conntrack {
        Conntrack::with_prefix(Vec::new())
    }

    /// `<prefix...> conntrack ...` (the prefix of [`crate::nft::Nft::prefix`]).
    pub fn with_prefix(prefix: Vec<OsString>) -> Conntrack {
        Conntrack {
            prefix,
            missing_logged: AtomicBool::new(false),
        }
    }

    /// `ip netns exec <name> conntrack`.
    pub fn in_netns(name: &str) -> Conntrack {
        Conntrack::with_prefix(
            ["ip", "netns", "exec", name]
                .iter()
                .map(OsString::from)
                .collect(),
        )
    }

    /// Runs one deletion; the number of entries deleted ("0 flow entries" is no error).
    pub async fn delete(&self, filter: &Filter) -> Result<u64, ConntrackError> {
        let Some(binary) = look_path("conntrack") else {
            return Err(ConntrackError::NotFound);
        };
        let mut argv: Vec<OsString> = self.prefix.clone();
        argv.push(binary.into_os_string());
        argv.extend(filter.args().into_iter().map(OsString::from));
        let program = argv
            .iter()
            .map(|a| a.to_string_lossy())
            .collect::<Vec<_>>()
            .join(" ");
        tracing::debug!(parameters = ?filter.args(), "Clearing conntrack entries");
        let out = Command::new(&argv[0])
            .args(&argv[1..])
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .output()
            .await
            .map_err(|source| ConntrackError::Spawn { program, source })?;
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        match deleted_count(&text) {
            Some(n) => Ok(n),
            None => Err(ConntrackError::Failed {
                output: text.trim().to_string(),
                status: out.status.to_string(),
            }),
        }
    }

    /// Runs every filter; returns the entries deleted per family. Failures are logged,
    /// a missing binary once per [`Conntrack`].
    pub async fn clean(&self, filters: &[Filter]) -> BTreeMap<Family, u64> {
        let mut deleted: BTreeMap<Family, u64> = BTreeMap::new();
        for f in filters {
            match self.delete(f).await {
                Ok(n) => *deleted.entry(f.family).or_default() += n,
                Err(ConntrackError::NotFound) => {
                    if !self.missing_logged.swap(true, Ordering::Relaxed) {
                        tracing::warn!("conntrack binary not found in $PATH: stale UDP conntrack entries will not be cleaned up (install the conntrack package)");
                    }
                    return deleted;
                }
                Err(e) => {
                    tracing::error!(error = %e, filter = ?f.args(), "Failed to delete stale conntrack entries")
                }
            }
        }
        deleted
    }
}

/// "conntrack v1.4.7 (conntrack-tools): 3 flow entries have been deleted." -> 3.
fn deleted_count(output: &str) -> Option<u64> {
    output.lines().find_map(|l| {
        let head = l.trim().strip_suffix("flow entries have been deleted.")?;
        head.split_whitespace().last()?.parse().ok()
    })
}

/// The first executable `name` on $PATH (Go's exec.LookPath).
fn look_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| is_executable(p))
        .or_else(|| {
            // Debian's conntrack lives in /usr/sbin, not always on a user's PATH.
            let p = Path::new("/usr/sbin").join(name);
            is_executable(&p).then_some(p)
        })
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// Keeps the UDP part of the last synced model and cleans up after each sync.
pub struct ConntrackCleaner {
    conntrack: Conntrack,
    families: Vec<Family>,
    last: BTreeMap<(ServicePortName, Protocol), ServicePort>,
    metrics: Option<Metrics>,
}

impl ConntrackCleaner {
    pub fn new(conntrack: Conntrack, families: Vec<Family>, metrics: Option<Metrics>) -> Self {
        ConntrackCleaner {
            conntrack,
            families,
            last: BTreeMap::new(),
            metrics,
        }
    }

    /// Call after `model` was applied: deletes what became stale since the previous call
    /// and returns the number of entries deleted.
    pub async fn synced(&mut self, model: &Model) -> u64 {
        let new = udp_ports(model);
        let filters = stale_filters(&self.last, &new);
        self.last = new;
        let mut total = 0;
        for family in self.families.clone() {
            let start = Instant::now();
            let mine: Vec<Filter> = filters
                .iter()
                .filter(|f| f.family == family)
                .cloned()
                .collect();
            let deleted = if mine.is_empty() {
                0
            } else {
                self.conntrack
                    .clean(&mine)
                    .await
                    .get(&family)
                    .copied()
                    .unwrap_or(0)
            };
            total += deleted;
            tracing::debug!(ip_family = family.api(), filters = mine.len(), entries_deleted = deleted,
                took = ?start.elapsed(), "Finished reconciling conntrack entries");
            if let Some(m) = &self.metrics {
                m.conntrack_reconciler_sync_duration
                    .with_label_values(&[family.api()])
                    .observe(start.elapsed().as_secs_f64());
                m.conntrack_reconciler_deleted_entries
                    .with_label_values(&[family.api()])
                    .inc_by(deleted);
            }
        }
        total
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ServicePortName;

    fn ep(ip: &str, serving: bool) -> Endpoint {
        Endpoint {
            ip: ip.parse().unwrap(),
            port: 53,
            ready: serving,
            serving,
            terminating: false,
            local: false,
        }
    }

    fn dns(eps: Vec<Endpoint>) -> ServicePort {
        ServicePort {
            name: ServicePortName {
                namespace: "kube-system".into(),
                name: "kube-dns".into(),
                port: "dns".into(),
            },
            protocol: Protocol::Udp,
            port: 53,
            cluster_ips: vec!["10.96.0.10".parse().unwrap()],
            node_port: None,
            external_ips: Vec::new(),
            load_balancer_ips: Vec::new(),
            load_balancer_source_ranges: Vec::new(),
            affinity_timeout: None,
            internal_local: false,
            external_local: false,
            health_check_node_port: None,
            endpoints: eps,
        }
    }

    fn map(ports: Vec<ServicePort>) -> BTreeMap<(ServicePortName, Protocol), ServicePort> {
        udp_ports(&Model { ports })
    }

    fn f(orig_dst: Option<&str>, port: u16, reply_src: Option<&str>) -> Filter {
        let family = orig_dst
            .or(reply_src)
            .map(|s| Family::of(&s.parse().unwrap()))
            .unwrap_or(Family::V4);
        Filter {
            family,
            protocol: Protocol::Udp,
            orig_dst: orig_dst.map(|s| s.parse().unwrap()),
            orig_port_dst: Some(port),
            reply_src: reply_src.map(|s| s.parse().unwrap()),
        }
    }

    #[test]
    fn removed_endpoint_is_cleaned_at_every_frontend() {
        let mut old = dns(vec![ep("10.244.1.5", true), ep("10.244.2.6", true)]);
        old.external_ips = vec!["192.0.2.1".parse().unwrap()];
        old.load_balancer_ips = vec!["198.51.100.7".parse().unwrap()];
        old.node_port = Some(30053);
        let mut new = old.clone();
        new.endpoints = vec![ep("10.244.2.6", true)];
        let got = stale_filters(&map(vec![old]), &map(vec![new]));
        let mut want = vec![
            f(Some("10.96.0.10"), 53, Some("10.244.1.5")),
            f(Some("192.0.2.1"), 53, Some("10.244.1.5")),
            f(Some("198.51.100.7"), 53, Some("10.244.1.5")),
            f(None, 30053, Some("10.244.1.5")),
        ];
        want.sort();
        assert_eq!(got, want);
        assert_eq!(
            f(Some("10.96.0.10"), 53, Some("10.244.1.5")).args(),
            [
                "-D",
                "-f",
                "ipv4",
                "-p",
                "udp",
                "--orig-dst",
                "10.96.0.10",
                "--orig-port-dst",
                "53",
                "--reply-src",
                "10.244.1.5"
            ]
        );
        assert_eq!(
            f(None, 30053, Some("10.244.1.5")).args(),
            [
                "-D",
                "-f",
                "ipv4",
                "-p",
                "udp",
                "--orig-port-dst",
                "30053",
                "--reply-src",
                "10.244.1.5"
            ]
        );
    }

    #[test]
    fn endpoint_that_stopped_serving_is_stale_but_one_never_serving_is_not() {
        let old = dns(vec![ep("10.244.1.5", true), ep("10.244.1.9", false)]);
        let new = dns(vec![ep("10.244.1.5", false), ep("10.244.1.7", true)]);
        let got = stale_filters(&map(vec![old]), &map(vec![new]));
        assert_eq!(got, vec![f(Some("10.96.0.10"), 53, Some("10.244.1.5"))]);
    }

    #[test]
    fn unchanged_endpoints_and_tcp_ports_clean_nothing() {
        let sp = dns(vec![ep("10.244.1.5", true)]);
        assert!(stale_filters(&map(vec![sp.clone()]), &map(vec![sp.clone()])).is_empty());
        let mut tcp = sp.clone();
        tcp.protocol = Protocol::Tcp;
        let mut tcp_new = tcp.clone();
        tcp_new.endpoints.clear();
        assert!(stale_filters(&map(vec![tcp]), &map(vec![tcp_new])).is_empty());
    }

    #[test]
    fn newly_active_port_clears_its_frontends_and_node_port() {
        let mut old = dns(Vec::new());
        old.cluster_ips.push("fd00::10".parse().unwrap());
        old.node_port = Some(30053);
        let mut new = old.clone();
        new.endpoints = vec![ep("10.244.1.5", true)];
        let got = stale_filters(&map(vec![old.clone()]), &map(vec![new.clone()]));
        let mut want = vec![
            f(Some("10.96.0.10"), 53, None),
            f(None, 30053, None),
            f(Some("fd00::10"), 53, None),
            Filter {
                family: Family::V6,
                ..f(None, 30053, None)
            },
        ];
        want.sort();
        assert_eq!(got, want);
        assert_eq!(
            Filter {
                family: Family::V6,
                ..f(None, 30053, None)
            }
            .args(),
            ["-D", "-f", "ipv6", "-p", "udp", "--orig-port-dst", "30053"]
        );
        // A port appearing with endpoints is newly active too; one with only a
        // non-serving endpoint is not.
        let got = stale_filters(&BTreeMap::new(), &map(vec![new]));
        assert_eq!(got, want);
        let mut idle = old;
        idle.endpoints = vec![ep("10.244.1.5", false)];
        assert!(stale_filters(&BTreeMap::new(), &map(vec![idle])).is_empty());
    }

    #[test]
    fn deleted_port_clears_its_cluster_ips() {
        let old = dns(vec![ep("10.244.1.5", true)]);
        let got = stale_filters(&map(vec![old]), &BTreeMap::new());
        assert_eq!(got, vec![f(Some("10.96.0.10"), 53, None)]);
    }

    #[test]
    fn parses_the_deleted_count() {
        assert_eq!(
            deleted_count(
                "conntrack v1.4.7 (conntrack-tools): 3 flow entries have been deleted.\n"
            ),
            Some(3)
        );
        assert_eq!(
            deleted_count("conntrack v1.4.7 (conntrack-tools): 0 flow entries have been deleted."),
            Some(0)
        );
        assert_eq!(
            deleted_count("conntrack v1.4.7 (conntrack-tools): Operation not permitted"),
            None
        );
    }
}
